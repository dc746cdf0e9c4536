//! Rendering diagnostics and summaries: one function per output format.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use monitorc_compiler::explain::{Explained, Explanation, Origin};
use monitorc_compiler::grammar::{Diagnostic, FileId, Severity, SourceMap, Span};
use monitorc_compiler::Checked;
use serde_json::{json, Value};

/// Where a diagnostic points, as text.
struct Place {
    file: Option<String>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn place(sources: &SourceMap, d: &Diagnostic) -> Place {
    match d.primary {
        Some(span) => {
            let f = sources.get(span.file);
            let a = f.location(span.start as usize);
            let b = f.location(span.end as usize);
            Place {
                file: Some(f.path.display().to_string()),
                line: a.line,
                column: a.column,
                end_line: b.line,
                end_column: b.column,
            }
        }
        None => Place {
            file: d.path.as_ref().map(|p| p.display().to_string()),
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
        },
    }
}

/// `file:line:col: severity[code]: message`, one line each, then the totals.
pub fn short(checked: &Checked) -> String {
    let mut out = String::new();
    for d in &checked.diagnostics {
        let p = place(&checked.loaded.sources, d);
        match p.file {
            Some(f) if p.line > 0 => write!(out, "{f}:{}:{}: ", p.line, p.column).unwrap(),
            Some(f) => write!(out, "{f}: ").unwrap(),
            None => {}
        }
        writeln!(
            out,
            "{}[{}]: {}",
            d.severity().as_str(),
            d.code.code,
            d.message
        )
        .unwrap();
    }
    writeln!(out, "{}", totals_line(checked)).unwrap();
    out
}

fn totals_line(checked: &Checked) -> String {
    let e = checked.count(Severity::Error);
    let w = checked.count(Severity::Warning);
    format!(
        "{e} error{}, {w} warning{}",
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" }
    )
}

/// GitHub workflow commands (`::error file=…::message`), then the totals as a notice.
pub fn github(checked: &Checked) -> String {
    fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    let mut out = String::new();
    for d in &checked.diagnostics {
        let p = place(&checked.loaded.sources, d);
        let kind = match d.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(f) = &p.file {
            props.push(format!("file={}", prop(f)));
            if p.line > 0 {
                props.push(format!("line={}", p.line));
                props.push(format!("col={}", p.column));
                props.push(format!("endLine={}", p.end_line));
                props.push(format!("endColumn={}", p.end_column));
            }
        }
        props.push(format!(
            "title={}",
            prop(&format!("{} {}", d.code.code, d.code.name))
        ));
        let mut msg = d.message.clone();
        if let Some(h) = &d.help {
            msg.push_str("\nhelp: ");
            msg.push_str(h);
        }
        writeln!(out, "::{kind} {}::{}", props.join(","), data(&msg)).unwrap();
    }
    writeln!(
        out,
        "::notice title=monitorc check::{}",
        totals_line(checked)
    )
    .unwrap();
    out
}

/// The JSON document of the CLI contract: `diagnostics` and `summary`.
pub fn json(checked: &Checked) -> Value {
    let sources = &checked.loaded.sources;
    let diagnostics: Vec<Value> = checked
        .diagnostics
        .iter()
        .map(|d| {
            let p = place(sources, d);
            let labels: Vec<Value> = d
                .secondary
                .iter()
                .map(|l| {
                    let f = sources.get(l.span.file);
                    let loc = f.location(l.span.start as usize);
                    json!({
                        "file": f.path.display().to_string(),
                        "line": loc.line,
                        "column": loc.column,
                        "message": l.message,
                    })
                })
                .collect();
            let line = |n: usize| if n == 0 { Value::Null } else { json!(n) };
            json!({
                "code": d.code.code,
                "name": d.code.name,
                "severity": d.severity().as_str(),
                "message": d.message,
                "file": p.file,
                "line": line(p.line),
                "column": line(p.column),
                "end_line": line(p.end_line),
                "end_column": line(p.end_column),
                "label": d.label,
                "help": d.help,
                "notes": d.notes,
                "related": labels,
            })
        })
        .collect();
    let mut summary = serde_json::Map::new();
    summary.insert("errors".into(), json!(checked.count(Severity::Error)));
    summary.insert("warnings".into(), json!(checked.count(Severity::Warning)));
    summary.insert("files".into(), json!(sources.len()));
    for (k, n) in &checked.summary.counts {
        summary.insert((*k).into(), json!(n));
    }
    json!({ "diagnostics": diagnostics, "summary": summary })
}

/// miette's graphical reports, then the totals the way `nagios -v` ends.
pub fn human(checked: &Checked, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut texts: HashMap<FileId, Arc<str>> = HashMap::new();
    let sources = &checked.loaded.sources;
    let mut out = String::new();
    for d in &checked.diagnostics {
        let report = Report::new(d, sources, &mut texts);
        handler
            .render_report(&mut out, &report)
            .expect("rendering to a String cannot fail");
    }
    out.push('\n');
    for (k, n) in &checked.summary.counts {
        // The Nagios object types always, the Shinken ones when present.
        if *n > 0 || NAGIOS_COUNTS.contains(k) {
            writeln!(out, "\tChecked {n} {}.", k).unwrap();
        }
    }
    writeln!(out).unwrap();
    writeln!(out, "Total Warnings: {}", checked.count(Severity::Warning)).unwrap();
    writeln!(out, "Total Errors:   {}", checked.count(Severity::Error)).unwrap();
    out
}

const NAGIOS_COUNTS: &[&str] = &[
    "services",
    "hosts",
    "hostgroups",
    "servicegroups",
    "contacts",
    "contactgroups",
    "commands",
    "timeperiods",
    "hostescalations",
    "serviceescalations",
    "hostdependencies",
    "servicedependencies",
];

/// One diagnostic as miette sees it.
#[derive(Debug)]
struct Report {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &SourceMap, texts: &mut HashMap<FileId, Arc<str>>) -> Report {
        let mut source_of = |span: Span| {
            let f = sources.get(span.file);
            let text = texts
                .entry(span.file)
                .or_insert_with(|| Arc::from(f.text.as_str()))
                .clone();
            NamedSource::new(f.path.display().to_string(), text)
        };
        let mut help = d.help.clone();
        for n in &d.notes {
            let h = help.get_or_insert_with(String::new);
            if !h.is_empty() {
                h.push('\n');
            }
            h.push_str("note: ");
            h.push_str(n);
        }
        let mut labels = Vec::new();
        let mut related = Vec::new();
        let source = d.primary.map(|p| {
            labels.push(LabeledSpan::new_primary_with_span(
                d.label.clone(),
                range(p),
            ));
            source_of(p)
        });
        if source.is_none() {
            if let Some(path) = &d.path {
                help = Some(match help {
                    Some(h) => format!("in {}\n{h}", path.display()),
                    None => format!("in {}", path.display()),
                });
            }
        }
        for l in &d.secondary {
            if Some(l.span.file) == d.primary.map(|p| p.file) {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    range(l.span),
                ));
            } else {
                related.push(Report {
                    message: l.message.clone(),
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    help: None,
                    source: Some(source_of(l.span)),
                    labels: vec![LabeledSpan::new_primary_with_span(None, range(l.span))],
                    related: Vec::new(),
                });
            }
        }
        Report {
            message: d.message.clone(),
            code: format!("{}({})", d.code.code, d.code.name),
            severity: match d.severity() {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help,
            source,
            labels,
            related,
        }
    }
}

fn range(s: Span) -> (usize, usize) {
    (s.start as usize, s.len())
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn std::fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty()).then(|| {
            Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic))
                as Box<dyn Iterator<Item = &'a dyn miette::Diagnostic>>
        })
    }
}

fn origin_text(o: &Origin) -> String {
    match &o.template {
        Some(t) => format!("{}:{} ({t})", o.file, o.line),
        None => format!("{}:{}", o.file, o.line),
    }
}

/// `explain` for people: one line per attribute, its value and where it was set.
pub fn explain_human(e: &Explanation) -> String {
    let mut out = String::new();
    writeln!(out, "{} {}", e.kind, e.name).unwrap();
    if let Some(d) = &e.defined_at {
        writeln!(out, "  defined at {}", origin_text(d)).unwrap();
    }
    if !e.templates.is_empty() {
        writeln!(out, "  templates: {}", e.templates.join(", ")).unwrap();
    }
    let width = e
        .attributes
        .iter()
        .chain(&e.customs)
        .map(|a| a.name.len())
        .max()
        .unwrap_or(0);
    let vwidth = e
        .attributes
        .iter()
        .chain(&e.customs)
        .map(|a| a.value.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for (title, list) in [
        ("attributes", &e.attributes),
        ("custom variables", &e.customs),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}:").unwrap();
        for a in list {
            let from: Vec<String> = a.origins.iter().map(origin_text).collect();
            writeln!(
                out,
                "  {:width$}  {:vwidth$}  {}",
                a.name,
                a.value,
                from.join(", ")
            )
            .unwrap();
        }
    }
    let groups_title = if e.kind == "host" {
        "hostgroups"
    } else {
        "servicegroups"
    };
    for (title, list) in [
        (groups_title, &e.groups),
        ("services", &e.services),
        ("parents", &e.parents),
        ("depends on", &e.depends_on),
        ("dependents", &e.dependents),
    ] {
        if !list.is_empty() {
            writeln!(out, "\n{title}: {}", list.join(", ")).unwrap();
        }
    }
    out
}

/// `explain --format json`: every attribute with `value`, `file`, `line` and `template` (of
/// the definition that set it; `origins` lists all of them for `+` lists).
pub fn explain_json(e: &Explanation) -> Value {
    let attrs = |list: &[Explained]| -> serde_json::Map<String, Value> {
        list.iter()
            .map(|a| {
                let first = a.origins.first();
                let origins: Vec<Value> = a
                    .origins
                    .iter()
                    .map(|o| json!({"file": o.file, "line": o.line, "template": o.template}))
                    .collect();
                (
                    a.name.clone(),
                    json!({
                        "value": a.value,
                        "file": first.map(|o| o.file.clone()),
                        "line": first.map(|o| o.line),
                        "template": first.and_then(|o| o.template.clone()),
                        "origins": origins,
                    }),
                )
            })
            .collect()
    };
    json!({
        "kind": e.kind,
        "name": e.name,
        "file": e.defined_at.as_ref().map(|o| o.file.clone()),
        "line": e.defined_at.as_ref().map(|o| o.line),
        "templates": e.templates,
        "attributes": attrs(&e.attributes),
        "custom_variables": attrs(&e.customs),
        "groups": e.groups,
        "services": e.services,
        "parents": e.parents,
        "depends_on": e.depends_on,
        "dependents": e.dependents,
    })
}
