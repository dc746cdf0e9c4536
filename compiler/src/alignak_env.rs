//! What an Alignak 2 environment (`alignak.ini` and `alignak.d/*.ini`) adds to the object
//! configuration: its `[daemon.NAME]` sections are daemons, which replace the same-named
//! daemons of the object files (as Alignak's arbiter does), its `[module.NAME]` sections
//! modules, and the `$NAME$` options of
//! `[alignak-configuration]` and `[pack.*]` are macros. Every object keeps the spans of the
//! ini lines that wrote it.

use std::sync::Arc;

use monitorc_grammar::ini::{interpolate, IniSection};
use monitorc_grammar::{codes, AlignakEnv, Diagnostic};

use crate::engine::Semantics;
use crate::ir::{Ir, MainParam, Object};
use crate::schema::ObjectKind;

/// The daemon types an environment section may declare.
const DAEMON_TYPES: &[ObjectKind] = &[
    ObjectKind::Arbiter,
    ObjectKind::Scheduler,
    ObjectKind::Poller,
    ObjectKind::Reactionner,
    ObjectKind::Broker,
    ObjectKind::Receiver,
    ObjectKind::Module,
];

/// Adds the environment's daemons and macros to `ir`.
pub fn apply(env: &AlignakEnv, sem: &Semantics, ir: &mut Ir, diags: &mut Vec<Diagnostic>) {
    let all = &env.sections;
    let value = |s: &IniSection, raw: &str, span, diags: &mut Vec<Diagnostic>| match interpolate(
        all, &s.name, raw,
    ) {
        Ok(v) => Some(v),
        Err(why) => {
            diags.push(
                Diagnostic::new(codes::INVALID_ALIGNAK_ENV, why)
                    .at(span)
                    .label("cannot be interpolated")
                    .help("define the option it names in this section or in `[DEFAULT]`"),
            );
            None
        }
    };
    // Macros: `$NAME$=value` in the configuration section and the packs.
    for s in all
        .iter()
        .filter(|s| s.name == "alignak-configuration" || s.name.starts_with("pack."))
    {
        for o in s.options.iter().filter(|o| o.key.starts_with('$')) {
            if let Some(v) = value(s, &o.raw, o.value_span, diags) {
                let key = o.key.to_uppercase();
                ir.main.resource_macros.retain(|m| m.key != key);
                ir.main.resource_macros.push(MainParam {
                    key,
                    value: v,
                    span: o.key_span,
                });
            }
        }
    }
    let mut daemons: Vec<Object> = Vec::new();
    let merged = merge(all);
    for s in merged.iter().filter(|s| s.name.starts_with("daemon.")) {
        let section_name = &s.name["daemon.".len()..];
        let Some(t) = s.options.iter().find(|o| o.key == "type") else {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_ALIGNAK_ENV,
                    format!("daemon section `[{}]` has no `type`", s.name),
                )
                .at(s.header)
                .label("Alignak cannot tell which daemon this is")
                .help("add `type=scheduler` (or poller, reactionner, broker, receiver, arbiter)"),
            );
            continue;
        };
        let Some(kind) =
            ObjectKind::from_keyword(t.raw.trim()).filter(|k| DAEMON_TYPES.contains(k))
        else {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_ALIGNAK_ENV,
                    format!("`type={}` is not a daemon type", t.raw.trim()),
                )
                .at(t.value_span)
                .label("not a daemon type")
                .help("write one of arbiter, scheduler, poller, reactionner, broker, receiver"),
            );
            continue;
        };
        let name_key = kind.name_key().expect("daemons are named");
        let mut obj = Object {
            kind,
            header: s.header,
            span: s.header,
            register: true,
            attrs: Vec::new(),
            customs: Vec::new(),
        };
        let mut has_name = false;
        for o in &s.options {
            // The many runtime settings of a daemon (workdir, log files, …) are not part of
            // the object configuration: only what the daemon's object type knows is kept.
            let key = if o.key == "name" {
                name_key
            } else {
                o.key.as_str()
            };
            let Some((ty, interned)) = kind.attribute_interned(key) else {
                continue;
            };
            let Some(v) = value(s, &o.raw, o.value_span, diags) else {
                continue;
            };
            has_name |= key == name_key;
            if let Some(attr) =
                crate::lower::typed(kind, interned, ty, &v, o.value_span, o.key_span, sem, diags)
            {
                obj.attrs.retain(|a| a.name != attr.name);
                obj.attrs.push(attr);
            }
        }
        if !has_name {
            // Alignak names the daemon after its section.
            obj.attrs.push(crate::ir::Attr {
                name: Arc::from(name_key),
                key_span: s.header,
                value_span: s.header,
                raw: section_name.to_string(),
                plus: false,
                value: crate::ir::Value::Str,
            });
        }
        daemons.push(obj);
    }
    // `[module.NAME]` sections are modules, named by `name` (or the section).
    for s in merged.iter().filter(|s| s.name.starts_with("module.")) {
        let named = s.options.iter().find(|o| o.key == "name");
        let (raw, key_span, value_span) = match named {
            Some(o) => (o.raw.trim().to_string(), o.key_span, o.value_span),
            None => (s.name["module.".len()..].to_string(), s.header, s.header),
        };
        daemons.push(Object {
            kind: ObjectKind::Module,
            header: s.header,
            span: s.header,
            register: true,
            attrs: vec![crate::ir::Attr {
                name: Arc::from("module_name"),
                key_span,
                value_span,
                raw,
                plus: false,
                value: crate::ir::Value::Str,
            }],
            customs: Vec::new(),
        });
    }
    // A daemon of the environment replaces the object files' daemon of the same name.
    ir.objects.retain(|o| {
        !(DAEMON_TYPES.contains(&o.kind)
            && daemons
                .iter()
                .any(|d| d.kind == o.kind && d.name().is_some() && d.name() == o.name()))
    });
    ir.objects.extend(daemons.into_iter().map(Arc::new));
}

/// Sections of the same name merged in read order (a later file's option replaces an
/// earlier one's), as configparser merges the files it reads.
fn merge(all: &[IniSection]) -> Vec<IniSection> {
    let mut out: Vec<IniSection> = Vec::new();
    for s in all {
        match out.iter_mut().find(|m| m.name == s.name) {
            Some(m) => {
                for o in &s.options {
                    m.options.retain(|p| p.key != o.key);
                    m.options.push(o.clone());
                }
            }
            None => out.push(s.clone()),
        }
    }
    out
}
