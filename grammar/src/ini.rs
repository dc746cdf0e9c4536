//! Alignak 2's environment files (`alignak.ini` and the `alignak.d/*.ini` beside it), read as
//! Python's `configparser` reads them: `[section]` headers, `key = value` or `key: value`
//! options (keys lower-cased), `#` and `;` comment lines, indented continuation lines, and
//! `%(name)s` interpolation from the section, then `[DEFAULT]`. Every option keeps the spans
//! of its key and value so that what is built from it (daemons, object files, macros) is
//! reported at the line that wrote it.

use crate::diag::{codes, Diagnostic};
use crate::source::{FileId, Span};

/// One `key = value` line (with its continuation lines).
#[derive(Clone, Debug)]
pub struct IniOption {
    /// Lower-cased, as configparser stores it.
    pub key: String,
    /// The value as written (continuation lines joined with `\n`), not interpolated.
    pub raw: String,
    pub key_span: Span,
    pub value_span: Span,
}

/// One `[name]` section of one file.
#[derive(Clone, Debug)]
pub struct IniSection {
    pub name: String,
    pub header: Span,
    pub options: Vec<IniOption>,
}

/// Parses one file; a line that is neither a section, an option, a comment nor a
/// continuation is reported (configparser refuses the file).
pub fn parse(file: FileId, text: &str) -> (Vec<IniSection>, Vec<Diagnostic>) {
    let mut sections: Vec<IniSection> = Vec::new();
    let mut diags = Vec::new();
    let mut offset = 0usize;
    // The indentation of the last option line, for continuations.
    let mut last_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let indent = body.len() - trimmed.len();
        let span = |a: usize, b: usize| Span::new(file, start + a, start + b);
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            if trimmed.is_empty() {
                last_indent = None;
            }
            continue;
        }
        // A continuation: indented deeper than the option it continues.
        if let (Some(li), Some(opt)) = (
            last_indent,
            sections.last_mut().and_then(|s| s.options.last_mut()),
        ) {
            if indent > li {
                opt.raw.push('\n');
                opt.raw.push_str(trimmed.trim_end());
                opt.value_span.end = (start + body.trim_end().len()) as u32;
                continue;
            }
        }
        if trimmed.starts_with('[') && trimmed.trim_end().ends_with(']') {
            let t = trimmed.trim_end();
            let name = t[1..t.len() - 1].to_string();
            let header = span(indent, indent + t.len());
            if let Some(prev) = sections.iter().find(|s| s.name == name) {
                diags.push(
                    Diagnostic::new(
                        codes::INVALID_ALIGNAK_ENV,
                        format!("section `[{name}]` is written twice in this file"),
                    )
                    .at(header)
                    .label("Alignak refuses the file: DuplicateSectionError")
                    .secondary(prev.header, "first written here")
                    .help("merge the two sections into one"),
                );
            }
            sections.push(IniSection {
                name,
                header,
                options: Vec::new(),
            });
            last_indent = None;
            continue;
        }
        let Some(d) = trimmed.find(['=', ':']) else {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_ALIGNAK_ENV,
                    format!(
                        "`{}` is neither a `[section]` nor a `key = value` line",
                        trimmed.trim_end()
                    ),
                )
                .at(span(indent, body.len()))
                .label("Alignak refuses the file: ParsingError")
                .help("write `key = value`, or start the line with `#` to make it a comment"),
            );
            continue;
        };
        let key_text = trimmed[..d].trim_end();
        let value = trimmed[d + 1..].trim();
        let value_at =
            indent + d + 1 + (trimmed[d + 1..].len() - trimmed[d + 1..].trim_start().len());
        let key_span = span(indent, indent + key_text.len());
        let Some(section) = sections.last_mut() else {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_ALIGNAK_ENV,
                    format!("option `{key_text}` before any `[section]`"),
                )
                .at(key_span)
                .label("Alignak refuses the file: MissingSectionHeaderError")
                .help("put it in `[DEFAULT]` or in the section it belongs to"),
            );
            continue;
        };
        let key = key_text.to_lowercase();
        if let Some(prev) = section.options.iter().find(|o| o.key == key) {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_ALIGNAK_ENV,
                    format!(
                        "option `{key}` is set twice in section `[{}]`",
                        section.name
                    ),
                )
                .at(key_span)
                .label("Alignak refuses the file: DuplicateOptionError")
                .secondary(prev.key_span, "first set here")
                .help("keep one of the two lines"),
            );
            continue;
        }
        section.options.push(IniOption {
            key,
            raw: value.to_string(),
            key_span,
            value_span: span(value_at, value_at + value.len()),
        });
        last_indent = Some(indent);
    }
    (sections, diags)
}

/// The value of `key` in `section` (then `[DEFAULT]`) across every section list, later
/// files overriding earlier ones, as configparser merges the files it reads.
fn lookup<'a>(all: &'a [IniSection], section: &str, key: &str) -> Option<&'a IniOption> {
    let find = |name: &str| {
        all.iter()
            .rev()
            .filter(|s| s.name == name)
            .find_map(|s| s.options.iter().find(|o| o.key == key))
    };
    find(section).or_else(|| find("DEFAULT"))
}

/// `%(name)s` interpolation of `raw` in `section` (configparser's BasicInterpolation, at most
/// ten levels deep); `%%` is a `%`. `Err` says which name is missing or what is malformed.
pub fn interpolate(all: &[IniSection], section: &str, raw: &str) -> Result<String, String> {
    fn go(all: &[IniSection], section: &str, raw: &str, depth: usize) -> Result<String, String> {
        if depth > 10 {
            return Err("interpolation deeper than 10 levels (a loop?)".into());
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            if let Some(r) = rest.strip_prefix("%%") {
                out.push('%');
                rest = r;
            } else if let Some(r) = rest.strip_prefix("%(") {
                let Some(end) = r.find(")s") else {
                    return Err(format!("`{rest}` is not `%(name)s`"));
                };
                let name = r[..end].to_lowercase();
                let Some(o) = lookup(all, section, &name) else {
                    return Err(format!(
                        "`%({name})s` names no option of `[{section}]` or `[DEFAULT]`"
                    ));
                };
                out.push_str(&go(all, section, &o.raw, depth + 1)?);
                rest = &r[end + 2..];
            } else {
                return Err("a `%` must be written `%%` or start `%(name)s`".into());
            }
        }
        out.push_str(rest);
        Ok(out)
    }
    go(all, section, raw, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_options_continuations_and_interpolation() {
        let text = "[DEFAULT]\n_dist=/tmp\netcdir=%(_dist)s/etc\n# comment\n[daemon.s1]\ntype = scheduler\nName: s1\nnotes=a\n  b\n";
        let (s, d) = parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].options[1].key, "name");
        assert_eq!(s[1].options[2].raw, "a\nb");
        assert_eq!(
            interpolate(&s, "daemon.s1", "%(etcdir)s/x 100%%").unwrap(),
            "/tmp/etc/x 100%"
        );
        assert!(interpolate(&s, "daemon.s1", "%(nope)s").is_err());
        assert!(interpolate(&s, "daemon.s1", "50%").is_err());
    }

    #[test]
    fn malformed_lines_are_located() {
        let (_, d) = parse(FileId(0), "orphan=1\n[a]\nx=1\nx=2\njunk\n[a]\n");
        let codes: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(d.len(), 4, "{codes:?}");
    }
}
