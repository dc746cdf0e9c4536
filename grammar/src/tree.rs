//! The syntax tree of one file and its construction from the pest parse.
//!
//! The tree keeps spans, not copies: a consumer slices the file text, except for values whose
//! text differs from the source (continuation lines, `\;` escapes), which carry their cooked
//! form. No semantics here: attribute names and object types are not checked.

use pest::iterators::Pair;
use pest::Parser;

use crate::diag::{codes, Diagnostic};
use crate::source::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "config.pest"]
struct ConfigParser;

/// One `define TYPE { ... }` block.
#[derive(Clone, Debug)]
pub struct Block {
    /// The object type as written after `define` (absent when the line names none).
    pub kind: Option<Span>,
    /// The `define` keyword up to the end of the type: where block-level errors point.
    pub header: Span,
    /// From `define` to the closing `}` (or the last attribute of an unclosed block).
    pub span: Span,
    pub attrs: Vec<Attribute>,
    /// Where the `{` is. The engines disagree on what they accept, so the tree builder reports
    /// nothing about it: the compiler does, once the engine is known.
    pub open: Open,
    /// Whether a `}` line closes the block (Nagios 4 refuses a block that is not closed;
    /// Shinken and Alignak end it at the next `define` or at the end of the file).
    pub closed: bool,
}

/// Where a block's `{` is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// `define host {` (or `define host{`).
    SameLine,
    /// `define host` with `{` alone on a later line: Shinken and Alignak accept it; Nagios 4
    /// reads the `{` as an attribute and refuses the object.
    NextLine,
    /// No `{` at all: Nagios 4 accepts it; Shinken and Alignak read the attribute lines as
    /// malformed `key=value` parameters.
    Missing,
}

/// One `key value` line of a block.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub key: Span,
    /// The value as written, trailing blanks excluded; empty (at the end of the key) when the
    /// line has no value.
    pub value: Span,
    /// The value with continuations joined and `\;` unescaped, when that differs from the
    /// source text.
    pub cooked: Option<Box<str>>,
}

/// One `key=value` line outside blocks (main config, resource file).
#[derive(Clone, Debug)]
pub struct Param {
    pub key: Span,
    pub value: Span,
    pub cooked: Option<Box<str>>,
    /// The whole line, for diagnostics about the directive.
    pub span: Span,
}

/// Everything one file holds, in source order per kind.
#[derive(Clone, Debug, Default)]
pub struct SyntaxTree {
    pub blocks: Vec<Block>,
    pub params: Vec<Param>,
}

impl Attribute {
    /// The value's text: cooked if needed, else a slice of `text` (the file's text).
    pub fn value<'a>(&'a self, text: &'a str) -> &'a str {
        match &self.cooked {
            Some(c) => c,
            None => &text[self.value.range()],
        }
    }
}

impl Param {
    pub fn value<'a>(&'a self, text: &'a str) -> &'a str {
        match &self.cooked {
            Some(c) => c,
            None => &text[self.value.range()],
        }
    }
}

/// Parses one file. Never fails: whatever is not understood becomes a diagnostic.
pub fn parse(file: FileId, text: &str) -> (SyntaxTree, Vec<Diagnostic>) {
    let mut tree = SyntaxTree::default();
    let mut diags = Vec::new();
    let pairs = match ConfigParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => {
            // The grammar accepts every input by construction; keep a diagnostic rather than
            // a panic should that ever be wrong.
            let pos = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            diags.push(
                Diagnostic::new(codes::UNEXPECTED_TEXT, "this file could not be parsed")
                    .at(Span::new(file, pos, pos))
                    .help("please report this file: the grammar should accept any text"),
            );
            return (tree, diags);
        }
    };
    let sp = |p: &Pair<Rule>| {
        let s = p.as_span();
        Span::new(file, s.start(), s.end())
    };
    for pair in pairs.flatten().filter(|p| {
        matches!(
            p.as_rule(),
            Rule::block | Rule::param | Rule::garbage | Rule::stray_close
        )
    }) {
        match pair.as_rule() {
            Rule::block => {
                let block = build_block(file, text, pair, &mut diags);
                tree.blocks.push(block);
            }
            Rule::param => {
                let span = trim_line(file, text, sp(&pair));
                let mut inner = pair.into_inner();
                let key = inner.next().expect("param has a key");
                let (value, cooked) = match inner.find(|p| p.as_rule() == Rule::value) {
                    Some(v) => cook(file, text, sp(&v)),
                    None => (
                        Span::new(file, key.as_span().end(), key.as_span().end()),
                        None,
                    ),
                };
                tree.params.push(Param {
                    key: sp(&key),
                    value,
                    cooked,
                    span,
                });
            }
            Rule::garbage => {
                let span = trim_line(file, text, sp(&pair));
                let lines = text[span.range()].lines().count();
                let first = text[span.range()].lines().next().unwrap_or("").trim();
                let mut d = Diagnostic::new(
                    codes::UNEXPECTED_TEXT,
                    if lines > 1 {
                        format!("{lines} lines of unexpected text outside any definition")
                    } else {
                        "unexpected text outside any definition".to_string()
                    },
                )
                .at(first_line(file, text, span))
                .label("not a definition, a comment or a `key=value` parameter");
                d = if first.starts_with('{') {
                    d.help("a `{` must follow a `define TYPE` line")
                } else if first.contains('=') || !first.contains(char::is_whitespace) {
                    d.help("main-config parameters are written `key=value`; comment the line out with `#` if it is not needed")
                } else {
                    d.help("attributes belong inside `define TYPE { ... }`; is a `define` line missing above, or a `}` closing the block too early?")
                };
                diags.push(d);
            }
            Rule::stray_close => {
                diags.push(
                    Diagnostic::new(codes::STRAY_CLOSE_BRACE, "`}` closes no definition")
                        .at(trim_line(file, text, sp(&pair)))
                        .label("no `define` block is open here")
                        .help("remove this line, or check the block above for a `}` written twice"),
                );
            }
            _ => unreachable!("filtered above"),
        }
    }
    (tree, diags)
}

fn build_block(file: FileId, text: &str, pair: Pair<Rule>, diags: &mut Vec<Diagnostic>) -> Block {
    let whole = pair.as_span();
    let define_start =
        whole.start() + (text[whole.start()..].len() - text[whole.start()..].trim_start().len());
    let mut kind = None;
    let mut open = false;
    let mut open_line = false;
    let mut closed = false;
    let mut attrs = Vec::new();
    let mut end = define_start + "define".len();
    let mut header_end = end;
    for p in pair.into_inner() {
        let s = p.as_span();
        match p.as_rule() {
            Rule::block_type => {
                kind = Some(Span::new(file, s.start(), s.end()));
                header_end = s.end();
                end = s.end();
            }
            Rule::open_brace => {
                open = true;
                // The header ends at the type; a `{` past the header's line is on a later line.
                open_line = text[header_end..s.start()].contains('\n');
                end = s.end();
            }
            Rule::header_junk => {
                let mut junk = s.as_str();
                // `define host extra {`: the block is open, the extra word is the problem.
                if !open {
                    if let Some(before) = junk.trim_end().strip_suffix('{') {
                        open = true;
                        junk = before;
                    }
                }
                let trimmed = junk.trim();
                if !trimmed.is_empty() {
                    let lead = junk.len() - junk.trim_start().len();
                    let start = s.start() + lead;
                    diags.push(
                        Diagnostic::new(
                            codes::HEADER_JUNK,
                            format!("unexpected `{trimmed}` on a `define` line"),
                        )
                        .at(Span::new(file, start, start + trimmed.len()))
                        .label("expected `{` or the end of the line here")
                        .help("write `define TYPE {` and put each attribute on a line of its own"),
                    );
                }
            }
            Rule::attr => {
                let line = p.into_inner().next().expect("attr has its text");
                let (start, end_of_text) = (line.as_span().start(), line.as_span().end());
                let run = &text[start..end_of_text];
                let (key, value) = match run.find([' ', '\t']) {
                    Some(i) => {
                        let blanks =
                            run[i..].len() - run[i..].trim_start_matches([' ', '\t']).len();
                        let from = start + i + blanks;
                        (start + i, Some(Span::new(file, from, end_of_text)))
                    }
                    // `key\r\n`: the `\r` ends the line, not the key.
                    None if text[end_of_text..].starts_with('\n') && run.ends_with('\r') => {
                        (end_of_text - 1, None)
                    }
                    None => (end_of_text, None),
                };
                let (value, cooked) = match value {
                    Some(v) => cook(file, text, v),
                    None => (Span::new(file, key, key), None),
                };
                end = end.max(value.end as usize).max(key);
                attrs.push(Attribute {
                    key: Span::new(file, start, key),
                    value,
                    cooked,
                });
            }
            Rule::close_brace => {
                closed = true;
                end = s.end();
            }
            _ => {}
        }
    }
    let header = Span::new(file, define_start, header_end);
    if kind.is_none() {
        diags.push(
            Diagnostic::new(
                codes::MISSING_OBJECT_TYPE,
                "`define` without an object type",
            )
            .at(header)
            .label("expected `define TYPE {`")
            .help("name the object type, e.g. `define host {` or `define service {`"),
        );
    }
    Block {
        kind,
        header,
        span: Span::new(file, define_start, end),
        attrs,
        open: match (open, open_line) {
            (false, _) => Open::Missing,
            (true, true) => Open::NextLine,
            (true, false) => Open::SameLine,
        },
        closed,
    }
}

/// Trims trailing blanks from a raw value span and joins continuation lines / unescapes `\;`.
fn cook(file: FileId, text: &str, raw: Span) -> (Span, Option<Box<str>>) {
    let s = &text[raw.range()];
    let trimmed = s.trim_end_matches([' ', '\t', '\r']);
    let span = Span::new(file, raw.start as usize, raw.start as usize + trimmed.len());
    if !trimmed.contains('\\') {
        return (span, None);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut rest = trimmed;
    let mut changed = false;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix(';') {
            out.push(';');
            rest = a;
            changed = true;
            continue;
        }
        let blanks = after.len() - after.trim_start_matches([' ', '\t']).len();
        let tail = &after[blanks..];
        let nl = if tail.starts_with("\r\n") {
            2
        } else if tail.starts_with('\n') || tail.starts_with('\r') {
            1
        } else {
            0
        };
        if nl > 0 {
            // A continuation: the next line's leading blanks collapse into one space.
            let next = tail[nl..].trim_start_matches([' ', '\t']);
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
            rest = next;
            changed = true;
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    let out = out.trim_end().to_string();
    (span, changed.then(|| out.into_boxed_str()))
}

fn trim_line(file: FileId, text: &str, span: Span) -> Span {
    let s = &text[span.range()];
    let lead = s.len() - s.trim_start().len();
    let trimmed = s.trim();
    Span::new(
        file,
        span.start as usize + lead,
        span.start as usize + lead + trimmed.len(),
    )
}

fn first_line(file: FileId, text: &str, span: Span) -> Span {
    let s = &text[span.range()];
    let len = s.find(['\n', '\r']).unwrap_or(s.len());
    Span::new(
        file,
        span.start as usize,
        span.start as usize + s[..len].trim_end().len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: FileId = FileId(0);

    fn attrs(text: &str, tree: &SyntaxTree, block: usize) -> Vec<(String, String)> {
        tree.blocks[block]
            .attrs
            .iter()
            .map(|a| (text[a.key.range()].to_string(), a.value(text).to_string()))
            .collect()
    }

    #[test]
    fn every_header_form_opens_a_block() {
        let text = "define host {\nhost_name a\n}\ndefine host{\nhost_name b\n}\ndefine host\n\n{\nhost_name c\n}\n";
        let (tree, diags) = parse(F, text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(tree.blocks.len(), 3);
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            assert_eq!(
                attrs(text, &tree, i),
                vec![("host_name".into(), name.to_string())]
            );
            assert!(tree.blocks[i].closed);
        }
    }

    #[test]
    fn comments_continuations_escapes_crlf_and_tabs() {
        let text = "# comment\r\n; also\r\ndefine service {\t; trailing\r\n\thost_name\t\tweb01 ; cut here\r\n  check_command check_x!a\\;b  \r\n  notes first \\\r\n      second\r\n  empty\r\n  # a comment inside\r\n  _VAR value # not a comment\r\n}\r\n";
        let (tree, diags) = parse(F, text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            attrs(text, &tree, 0),
            vec![
                ("host_name".into(), "web01".into()),
                ("check_command".into(), "check_x!a;b".into()),
                ("notes".into(), "first second".into()),
                ("empty".into(), "".into()),
                ("_VAR".into(), "value # not a comment".into()),
            ]
        );
    }

    #[test]
    fn crlf_empty_values_and_comments_after_keys() {
        let text =
            "define host {\r\n  notes   \r\n  alias;comment\r\n  address 10.0.0.1;x\r\n}\r\n";
        let (tree, diags) = parse(F, text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            attrs(text, &tree, 0),
            vec![
                ("notes".into(), "".into()),
                ("alias".into(), "".into()),
                ("address".into(), "10.0.0.1".into()),
            ]
        );
    }

    #[test]
    fn params_and_resource_macros() {
        let text = "log_file=/var/log/x.log\ncfg_dir = objects ; comment\n$USER1$=/usr/lib/nagios/plugins\n";
        let (tree, diags) = parse(F, text);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<_> = tree
            .params
            .iter()
            .map(|p| (&text[p.key.range()], p.value(text)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("log_file", "/var/log/x.log"),
                ("cfg_dir", "objects"),
                ("$USER1$", "/usr/lib/nagios/plugins")
            ]
        );
    }

    #[test]
    fn recovery_reports_every_error_at_its_line() {
        // Unclosed blocks and missing braces are recorded in the tree (`closed`, `open`) and
        // reported by the compiler, which knows the engine.
        let text = "define host {\n  host_name a\n\ndefine host {\n  host_name b\n}\nstray words here\n}\ndefine {\n  x y\n}\ndefine host { junk\n}\n";
        let (tree, diags) = parse(F, text);
        let got: Vec<_> = diags
            .iter()
            .map(|d| {
                (
                    d.code.code,
                    crate::source::SourceFile::new("x".into(), text.into())
                        .location(d.primary.unwrap().start as usize)
                        .line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![("E0013", 7), ("E0014", 8), ("E0011", 9), ("E0015", 12)]
        );
        // Recovery keeps the attributes of the unclosed block and every later block.
        assert_eq!(tree.blocks.len(), 4);
        assert_eq!(
            attrs(text, &tree, 0),
            vec![("host_name".into(), "a".into())]
        );
        assert_eq!(
            attrs(text, &tree, 1),
            vec![("host_name".into(), "b".into())]
        );
    }

    #[test]
    fn never_fails_on_odd_input() {
        for text in [
            "",
            "\n",
            "define",
            "define host",
            "define host {",
            "}}}}",
            "{\n",
            "\\",
            "a\\\n",
            "define host {\n key \\",
            "\u{0}\u{1}\u{7f}",
            "=",
            "define host {\n\u{c}key\u{1}value\n}",
        ] {
            let _ = parse(F, text);
        }
    }
}
