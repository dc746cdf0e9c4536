//! The report formats CI systems read: SARIF 2.1.0 (GitHub code scanning and most others),
//! GitLab's code-quality JSON, and JUnit XML. All three come from the same diagnostics as the
//! human output, in the same order.

use std::fmt::Write as _;

use monitorc_compiler::grammar::{Diagnostic, Severity, REGISTRY};
use monitorc_compiler::Checked;
use serde_json::{json, Value};

use crate::render::{place, Place};

/// A path as a SARIF/GitLab location: relative paths as given (with `/`), absolute ones as
/// `file://` URIs.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    match p.strip_prefix('/') {
        Some(rest) => format!("file:///{}", percent(rest)),
        None => percent(p.strip_prefix("./").unwrap_or(&p)),
    }
}

/// Percent-encodes what a URI reference cannot hold as is.
fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => write!(out, "%{b:02X}").unwrap(),
        }
    }
    out
}

/// The message with its help line, as the text formats carry it.
fn full_message(d: &Diagnostic) -> String {
    let mut msg = monitorc_runtime::text::display(&d.message).into_owned();
    if let Some(h) = &d.help {
        msg.push_str("\nhelp: ");
        msg.push_str(h);
    }
    for n in &d.notes {
        msg.push_str("\nnote: ");
        msg.push_str(n);
    }
    msg
}

fn sarif_region(p: &Place) -> Value {
    json!({
        "startLine": p.line,
        "startColumn": p.column,
        "endLine": p.end_line.max(p.line),
        "endColumn": if p.end_line > p.line { p.end_column } else { p.end_column.max(p.column) },
    })
}

fn sarif_location(p: &Place, message: Option<&str>) -> Option<Value> {
    let file = p.file.as_ref()?;
    let mut physical = json!({ "artifactLocation": { "uri": uri(file) } });
    if p.line > 0 {
        physical["region"] = sarif_region(p);
    }
    let mut loc = json!({ "physicalLocation": physical });
    if let Some(m) = message {
        loc["message"] = json!({ "text": m });
    }
    Some(loc)
}

/// SARIF 2.1.0: one run, one rule per registered code (its name, what it means, its default
/// level), one result per diagnostic with its primary place and its other labels as related
/// locations.
pub fn sarif(checked: &Checked) -> String {
    let sources = &checked.loaded.sources;
    let rules: Vec<Value> = REGISTRY
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "name": c.name,
                "shortDescription": { "text": c.summary },
                "fullDescription": { "text": c.summary },
                "help": { "text": format!("{} ({}): {}. `monitorc check` reports it with a help line saying how to fix each case.", c.code, c.name, c.summary) },
                "defaultConfiguration": { "level": level(c.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = checked
        .diagnostics
        .iter()
        .map(|d| {
            let index = REGISTRY
                .iter()
                .position(|c| c.code == d.code.code)
                .expect("every code is registered");
            let p = place(sources, d);
            let mut r = json!({
                "ruleId": d.code.code,
                "ruleIndex": index,
                "level": level(d.severity()),
                "message": { "text": full_message(d) },
            });
            if let Some(loc) = sarif_location(&p, d.label.as_deref()) {
                r["locations"] = json!([loc]);
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let p = place(sources, &Diagnostic::new(d.code, "").at(l.span));
                    let mut loc = sarif_location(&p, Some(&l.message))?;
                    loc["id"] = json!(i);
                    Some(loc)
                })
                .collect();
            if !related.is_empty() {
                r["relatedLocations"] = json!(related);
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "monitorc",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("serializable") + "\n"
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// GitLab code quality: a JSON array of issues, each with a fingerprint that stays the same
/// while the finding does (code, file, line, message), so merge requests show what changed.
pub fn gitlab(checked: &Checked) -> String {
    let sources = &checked.loaded.sources;
    let issues: Vec<Value> = checked
        .diagnostics
        .iter()
        .map(|d| {
            let p = place(sources, d);
            let path = p.file.as_deref().map(uri).unwrap_or_default();
            let fingerprint = monitorc_runtime::shard::digest(
                format!("{}\0{path}\0{}\0{}", d.code.code, p.line, d.message).as_bytes(),
            );
            json!({
                "description": format!("{} {}: {}", d.code.code, d.code.name, full_message(d)),
                "check_name": d.code.code,
                "fingerprint": fingerprint,
                "severity": match d.severity() {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                "location": { "path": path, "lines": { "begin": p.line.max(1) } },
            })
        })
        .collect();
    serde_json::to_string_pretty(&issues).expect("serializable") + "\n"
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no place for other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {
                write!(out, "\\u{{{:x}}}", c as u32).unwrap()
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test case per file read, failed by its errors (each a `<failure>`); its
/// warnings are its `<system-out>`. Diagnostics without a file form one more case.
pub fn junit(checked: &Checked) -> String {
    let sources = &checked.loaded.sources;
    let mut files: Vec<(String, Vec<&Diagnostic>)> = sources
        .iter()
        .map(|(_, f)| (f.path.display().to_string(), Vec::new()))
        .collect();
    let mut elsewhere: Vec<&Diagnostic> = Vec::new();
    for d in &checked.diagnostics {
        match d.primary {
            Some(span) => files[span.file.0 as usize].1.push(d),
            None => elsewhere.push(d),
        }
    }
    if !elsewhere.is_empty() {
        files.push(("(configuration)".into(), elsewhere));
    }
    let failed = files
        .iter()
        .filter(|(_, ds)| ds.iter().any(|d| d.severity() == Severity::Error))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    writeln!(
        out,
        "<testsuites name=\"monitorc check\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">",
        files.len()
    )
    .unwrap();
    writeln!(
        out,
        "  <testsuite name=\"monitorc check\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">",
        files.len()
    )
    .unwrap();
    for (file, ds) in &files {
        let name = xml(file);
        let errors: Vec<&&Diagnostic> = ds
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .collect();
        let warnings: Vec<&&Diagnostic> = ds
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
            .collect();
        if errors.is_empty() && warnings.is_empty() {
            writeln!(
                out,
                "    <testcase classname=\"monitorc\" name=\"{name}\" file=\"{name}\"/>"
            )
            .unwrap();
            continue;
        }
        writeln!(
            out,
            "    <testcase classname=\"monitorc\" name=\"{name}\" file=\"{name}\">"
        )
        .unwrap();
        let line_of = |d: &Diagnostic| {
            let p = place(sources, d);
            if p.line > 0 {
                format!("{file}:{}:{}: ", p.line, p.column)
            } else {
                format!("{file}: ")
            }
        };
        for d in &errors {
            writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}{}</failure>",
                d.code.code,
                xml(&format!("{} {}", d.code.code, d.message)),
                xml(&line_of(d)),
                xml(&full_message(d))
            )
            .unwrap();
        }
        if !warnings.is_empty() {
            let text: Vec<String> = warnings
                .iter()
                .map(|d| {
                    format!(
                        "{}warning[{}]: {}",
                        line_of(d),
                        d.code.code,
                        full_message(d)
                    )
                })
                .collect();
            writeln!(
                out,
                "      <system-out>{}</system-out>",
                xml(&text.join("\n"))
            )
            .unwrap();
        }
        writeln!(out, "    </testcase>").unwrap();
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
