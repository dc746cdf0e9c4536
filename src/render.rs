//! Rendering diagnostics and summaries: one function per output format.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use monitorc_compiler::explain::{Explained, Explanation, Origin};
use monitorc_compiler::grammar::{Diagnostic, FileId, Severity, SourceMap, Span};
use monitorc_compiler::schema::ObjectKind;
use monitorc_compiler::Checked;
use serde_json::{json, Value};

/// Where a diagnostic points, as text.
pub(crate) struct Place {
    pub(crate) file: Option<String>,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) end_line: usize,
    pub(crate) end_column: usize,
}

pub(crate) fn place(sources: &SourceMap, d: &Diagnostic) -> Place {
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
            monitorc_runtime::text::display(&d.message)
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
    summary.insert("engine".into(), json!(checked.engine.engine.as_str()));
    summary.insert("engine_reason".into(), json!(checked.engine.reason));
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
    writeln!(
        out,
        "Checked as {} ({}).",
        checked.engine.engine.title(),
        checked.engine.reason
    )
    .unwrap();
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
            // A Latin-1 byte in a name shows as its character, not as its escape.
            message: monitorc_runtime::text::display(&d.message).into_owned(),
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
    if let Some(p) = &e.placement {
        writeln!(out, "\nrealm: {}", p.realm).unwrap();
        writeln!(
            out,
            "scheduler: {}",
            p.scheduler.as_deref().unwrap_or("(none)")
        )
        .unwrap();
        let shown: Vec<&str> = p.pack.iter().take(10).map(String::as_str).collect();
        writeln!(
            out,
            "pack: {} host{}: {}{}",
            p.pack.len(),
            if p.pack.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if p.pack.len() > 10 { ", …" } else { "" }
        )
        .unwrap();
        if !p.ties.is_empty() {
            writeln!(out, "tied by: {}", p.ties.join(", ")).unwrap();
        }
    }
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
        "placement": e.placement.as_ref().map(|p| json!({
            "realm": p.realm,
            "scheduler": p.scheduler,
            "pack": p.pack,
            "ties": p.ties,
        })),
    })
}

/// `plan --format json`: the CLI contract's scheduler and satellite entries, plus realms,
/// balance, brokers and spares.
pub fn plan_json(c: &Checked) -> Value {
    let p = &c.plan;
    let m = &c.model;
    let d = &p.daemons;
    let schedulers: Vec<Value> = d
        .iter()
        .enumerate()
        .filter(|(_, x)| x.kind == ObjectKind::Scheduler)
        .map(|(i, x)| {
            let load = p.schedulers.iter().find(|s| s.daemon == i);
            let hosts: Vec<&str> = p
                .packs
                .iter()
                .filter(|pk| pk.scheduler == Some(i))
                .flat_map(|pk| &pk.hosts)
                .map(|&h| m.host_names[h as usize].as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            json!({
                "name": x.name,
                "realm": p.realm_name(x.realm),
                "weight": x.weight,
                "spare": x.spare,
                "hosts": hosts,
                "services": load.map_or(0, |l| l.services),
                "load": load.map_or(0, |l| l.load),
                "packs": load.map_or(0, |l| l.packs),
                "broker": p.broker_of.get(&i).map(|&b| d[b].name.clone()),
                "spares": p.spares.get(&i).map(|v| v.iter().map(|&s| d[s].name.clone()).collect::<Vec<_>>()).unwrap_or_default(),
                "address": x.address,
                "port": x.port,
            })
        })
        .collect();
    let satellites: Vec<Value> = d
        .iter()
        .enumerate()
        .filter(|(i, _)| p.links.contains_key(i))
        .map(|(i, x)| {
            json!({
                "name": x.name,
                "type": x.kind.keyword(),
                "realm": p.realm_name(x.realm),
                "spare": x.spare,
                "manage_sub_realms": x.manage_sub_realms,
                "tags": x.tags,
                "schedulers": p.links[&i].iter().map(|&s| d[s].name.clone()).collect::<Vec<_>>(),
                "spares": p.spares.get(&i).map(|v| v.iter().map(|&s| d[s].name.clone()).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    let realms: Vec<Value> = p
        .realms
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let b = p.balance.iter().find(|b| b.realm == i);
            json!({
                "name": r.name,
                "default": i == p.default_realm,
                "parent": r.parent.map(|x| p.realms[x].name.clone()),
                "hosts": p.host_realm.iter().filter(|&&x| x == i).count(),
                "load": b.map_or(0, |b| b.load),
                "balance_ratio": b.map(|b| (b.ratio * 1000.0).round() / 1000.0),
                "balance_bound": b.map(|b| (b.bound * 1000.0).round() / 1000.0),
                "largest_pack": b.map_or(0, |b| b.largest_pack),
            })
        })
        .collect();
    json!({
        "realms": realms,
        "schedulers": schedulers,
        "satellites": satellites,
        "packs": p.packs.len(),
        "moves": p.moves.iter().map(|(h, from, to)| json!({"host": m.host_names[*h as usize], "from": from, "to": to})).collect::<Vec<_>>(),
    })
}

/// `plan` for people: per realm, each scheduler's share against the ideal, then satellites.
pub fn plan_table(c: &Checked) -> String {
    let p = &c.plan;
    let d = &p.daemons;
    let mut out = String::new();
    let mut order: Vec<usize> = Vec::new();
    // Realms depth first from the roots, children by name.
    fn walk(p: &monitorc_compiler::Plan, r: usize, depth: usize, out: &mut Vec<(usize, usize)>) {
        out.push((r, depth));
        let mut kids = p.realms[r].children.clone();
        kids.sort_by(|a, b| p.realms[*a].name.cmp(&p.realms[*b].name));
        for k in kids {
            walk(p, k, depth + 1, out);
        }
    }
    let mut realms = Vec::new();
    for r in (0..p.realms.len()).filter(|&r| p.realms[r].parent.is_none()) {
        walk(p, r, 0, &mut realms);
    }
    for (r, depth) in realms {
        order.push(r);
        let indent = "  ".repeat(depth);
        let hosts = p.host_realm.iter().filter(|&&x| x == r).count();
        let b = p.balance.iter().find(|b| b.realm == r);
        write!(
            out,
            "{indent}realm {}{}: {hosts} hosts",
            p.realm_name(r),
            if r == p.default_realm {
                " (default)"
            } else {
                ""
            }
        )
        .unwrap();
        if let Some(b) = b {
            write!(
                out,
                ", load {}, balance {:.3} (largest pack {})",
                b.load, b.ratio, b.largest_pack
            )
            .unwrap();
        }
        out.push('\n');
        let total_w: u64 = p
            .schedulers
            .iter()
            .filter(|s| d[s.daemon].realm == r && d[s.daemon].weight > 0)
            .map(|s| d[s.daemon].weight as u64)
            .sum();
        let rows: Vec<&monitorc_compiler::place::SchedulerLoad> = p
            .schedulers
            .iter()
            .filter(|s| d[s.daemon].realm == r)
            .collect();
        if !rows.is_empty() {
            writeln!(
                out,
                "{indent}  {:<24} {:>6} {:>7} {:>9} {:>8} {:>7} {:>6}  spares",
                "scheduler", "weight", "hosts", "services", "load", "share", "packs"
            )
            .unwrap();
        }
        for s in rows {
            let x = &d[s.daemon];
            let ideal = b.map_or(0.0, |b| {
                b.load as f64 * x.weight as f64 / total_w.max(1) as f64
            });
            let share = if ideal > 0.0 {
                format!("{:.2}", s.load as f64 / ideal)
            } else {
                "-".into()
            };
            let spares: Vec<&str> = p
                .spares
                .get(&s.daemon)
                .into_iter()
                .flatten()
                .map(|&i| d[i].name.as_str())
                .collect();
            writeln!(
                out,
                "{indent}  {:<24} {:>6} {:>7} {:>9} {:>8} {:>7} {:>6}  {}",
                x.name,
                x.weight,
                s.hosts,
                s.services,
                s.load,
                share,
                s.packs,
                if spares.is_empty() {
                    "(none)".to_string()
                } else {
                    spares.join(", ")
                }
            )
            .unwrap();
        }
        for x in d
            .iter()
            .filter(|x| x.realm == r && x.kind == ObjectKind::Scheduler && x.spare)
        {
            writeln!(out, "{indent}  {:<24} spare", x.name).unwrap();
        }
        let unprotected: Vec<&str> = p
            .schedulers
            .iter()
            .filter(|s| {
                d[s.daemon].realm == r && p.spares.get(&s.daemon).is_none_or(|v| v.is_empty())
            })
            .map(|s| d[s.daemon].name.as_str())
            .collect();
        if !unprotected.is_empty() && hosts > 0 {
            writeln!(
                out,
                "{indent}  note: no spare can take over {}",
                unprotected.join(", ")
            )
            .unwrap();
        }
    }
    if p.sticky {
        writeln!(out, "\nmoves against the previous plan: {}", p.moves.len()).unwrap();
        for (h, from, to) in p.moves.iter().take(50) {
            writeln!(
                out,
                "  {:<32} {from} -> {}",
                c.model.host_names[*h as usize],
                if to.is_empty() { "(none)" } else { to }
            )
            .unwrap();
        }
        if p.moves.len() > 50 {
            writeln!(out, "  … {} more", p.moves.len() - 50).unwrap();
        }
    }
    writeln!(out, "\nsatellites:").unwrap();
    for (i, x) in d.iter().enumerate() {
        let Some(links) = p.links.get(&i) else {
            continue;
        };
        let names: Vec<&str> = links.iter().map(|&s| d[s].name.as_str()).collect();
        let mut extra = String::new();
        if matches!(x.kind, ObjectKind::Poller | ObjectKind::Reactionner) {
            extra = format!(" tags {}", x.tags.join(","));
        }
        if x.kind == ObjectKind::Broker {
            let broks: Vec<&str> = p
                .broker_of
                .iter()
                .filter(|(_, &b)| b == i)
                .map(|(&s, _)| d[s].name.as_str())
                .collect();
            extra = format!(
                " broks of {}",
                if broks.is_empty() {
                    "-".to_string()
                } else {
                    broks.join(", ")
                }
            );
        }
        writeln!(
            out,
            "  {:<12} {:<24} realm {}{}{}{} -> {}",
            x.kind.keyword(),
            x.name,
            p.realm_name(x.realm),
            if x.spare { " spare" } else { "" },
            if x.manage_sub_realms {
                " +sub-realms"
            } else {
                ""
            },
            extra,
            if names.is_empty() {
                "(no scheduler)".to_string()
            } else {
                names.join(", ")
            }
        )
        .unwrap();
    }
    out
}

/// The plan file (`plan --format ron`), which `--previous` reads back.
pub fn plan_file(c: &Checked) -> monitorc_runtime::plan::PlanFile {
    let p = &c.plan;
    let mut schedulers = std::collections::BTreeMap::new();
    for (i, d) in p
        .daemons
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == ObjectKind::Scheduler)
    {
        let mut hosts: Vec<String> = p
            .packs
            .iter()
            .filter(|pk| pk.scheduler == Some(i))
            .flat_map(|pk| &pk.hosts)
            .map(|&h| c.model.host_names[h as usize].clone())
            .collect();
        hosts.sort();
        schedulers.insert(
            d.name.clone(),
            monitorc_runtime::plan::PlannedScheduler {
                realm: p.realm_name(d.realm).to_string(),
                weight: d.weight,
                spare: d.spare,
                load: p
                    .schedulers
                    .iter()
                    .find(|s| s.daemon == i)
                    .map_or(0, |s| s.load),
                hosts,
            },
        );
    }
    monitorc_runtime::plan::PlanFile::new(schedulers)
}

/// `diff`: what changed between two shard sets, for review. Empty when they are identical.
pub fn set_diff(
    a: &monitorc_runtime::shard::ShardSet,
    b: &monitorc_runtime::shard::ShardSet,
) -> String {
    use std::collections::BTreeSet;
    let mut out = String::new();
    let (ha, hb) = (&a.manifest.hosts, &b.manifest.hosts);
    let added: Vec<&String> = hb.keys().filter(|h| !ha.contains_key(*h)).collect();
    let removed: Vec<&String> = ha.keys().filter(|h| !hb.contains_key(*h)).collect();
    let moved: Vec<(&String, &String, &String)> = ha
        .iter()
        .filter_map(|(h, s)| hb.get(h).filter(|t| *t != s).map(|t| (h, s, t)))
        .collect();
    for h in &added {
        writeln!(out, "host added: {h} (on {})", hb[*h]).unwrap();
    }
    for h in &removed {
        writeln!(out, "host removed: {h} (was on {})", ha[*h]).unwrap();
    }
    for (h, s, t) in &moved {
        writeln!(out, "host moved: {h}: {s} -> {t}").unwrap();
    }
    // Services and attributes, host by host, wherever each host lives in each set.
    let services = |set: &monitorc_runtime::shard::ShardSet,
                    host: &str|
     -> BTreeMap<String, BTreeMap<String, String>> {
        let Some(s) = set
            .manifest
            .hosts
            .get(host)
            .and_then(|s| set.schedulers.get(s))
        else {
            return BTreeMap::new();
        };
        s.services
            .get(host)
            .map(|m| {
                m.keys()
                    .map(|d| (d.clone(), s.service_attributes(host, d).unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let host_attrs = |set: &monitorc_runtime::shard::ShardSet, host: &str| {
        set.manifest
            .hosts
            .get(host)
            .and_then(|s| set.schedulers.get(s))
            .and_then(|s| s.host_attributes(host))
            .unwrap_or_default()
    };
    let attr_changes =
        |x: &BTreeMap<String, String>, y: &BTreeMap<String, String>| -> Vec<String> {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .filter(|k| x.get(*k) != y.get(*k))
                .map(|k| match (x.get(k), y.get(k)) {
                    (Some(o), Some(n)) => format!("{k}: {o} -> {n}"),
                    (None, Some(n)) => format!("{k}: (unset) -> {n}"),
                    (Some(o), None) => format!("{k}: {o} -> (unset)"),
                    (None, None) => unreachable!(),
                })
                .collect()
        };
    for h in ha.keys().filter(|h| hb.contains_key(*h)) {
        let changes = attr_changes(&host_attrs(a, h), &host_attrs(b, h));
        for c in changes {
            writeln!(out, "host {h}: {c}").unwrap();
        }
        let (sa, sb) = (services(a, h), services(b, h));
        for d in sb.keys().filter(|d| !sa.contains_key(*d)) {
            writeln!(out, "service added: {h}/{d}").unwrap();
        }
        for d in sa.keys().filter(|d| !sb.contains_key(*d)) {
            writeln!(out, "service removed: {h}/{d}").unwrap();
        }
        for (d, x) in &sa {
            if let Some(y) = sb.get(d) {
                for c in attr_changes(x, y) {
                    writeln!(out, "service {h}/{d}: {c}").unwrap();
                }
            }
        }
    }
    // Satellite links.
    let links = |set: &monitorc_runtime::shard::ShardSet| -> BTreeMap<String, Vec<String>> {
        set.satellites
            .values()
            .map(|s| {
                (
                    format!("{} {}", s.kind, s.name),
                    s.schedulers.iter().map(|l| l.name.clone()).collect(),
                )
            })
            .collect()
    };
    let (la, lb) = (links(a), links(b));
    let sats: BTreeSet<&String> = la.keys().chain(lb.keys()).collect();
    for s in sats {
        match (la.get(s), lb.get(s)) {
            (Some(x), Some(y)) if x != y => {
                writeln!(out, "{s}: schedulers {} -> {}", x.join(","), y.join(",")).unwrap()
            }
            (None, Some(y)) => writeln!(out, "{s} added: schedulers {}", y.join(",")).unwrap(),
            (Some(_), None) => writeln!(out, "{s} removed").unwrap(),
            _ => {}
        }
    }
    if out.is_empty() && a.manifest.files != b.manifest.files {
        writeln!(out, "files differ (layout or metadata): see --files").unwrap();
    }
    out
}

/// Unified diffs of the files that differ between two sets (`diff --files`).
pub fn file_diffs(
    old: &std::path::Path,
    new: &std::path::Path,
    a: &monitorc_runtime::shard::ShardSet,
    b: &monitorc_runtime::shard::ShardSet,
) -> String {
    let mut out = String::new();
    let mut names: Vec<&str> = a
        .manifest
        .files
        .keys()
        .chain(b.manifest.files.keys())
        .map(String::as_str)
        .collect();
    names.push("manifest.ron");
    names.sort();
    names.dedup();
    for f in names {
        let x = monitorc_runtime::fs::read_to_string(&old.join(f)).unwrap_or_default();
        let y = monitorc_runtime::fs::read_to_string(&new.join(f)).unwrap_or_default();
        if x == y {
            continue;
        }
        let d = similar::TextDiff::from_lines(&x, &y);
        write!(
            out,
            "{}",
            d.unified_diff()
                .context_radius(3)
                .header(&format!("a/{f}"), &format!("b/{f}"))
        )
        .unwrap();
    }
    out
}
