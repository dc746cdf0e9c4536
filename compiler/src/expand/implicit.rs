//! Groups named only from the member side (catalogue rows B1–B3): a contact's
//! `contactgroups`, a host's `hostgroups` or a service's `servicegroups` that names a group no
//! definition has. Shinken and Alignak create the group (its alias is its name) and everything
//! that names it then works; Nagios refuses the configuration. Where the engine creates them,
//! monitorc does too, with a warning that says so (a misspelt group name is the usual cause).

use std::collections::BTreeMap;

use monitorc_grammar::diag::did_you_mean;
use monitorc_grammar::{codes, Diagnostic, Span};

use super::{entries, narrow, Expander};
use crate::schema::ObjectKind;

/// The first place a missing group was named, and how many objects name it.
struct Named {
    at: Span,
    attr: &'static str,
    count: usize,
}

impl<'a> Expander<'a> {
    /// Group names that objects of `member_kind` give in `attr` and that no `group_kind`
    /// definition has: created (an empty entry in `direct`) when the engine creates them, with
    /// one warning each. Returns nothing where the engine refuses them (they are then
    /// reported as unknown names).
    pub(super) fn implicit_groups<T>(
        &mut self,
        group_kind: ObjectKind,
        attr: &'static str,
        users: &[usize],
        direct: &mut BTreeMap<String, std::collections::BTreeSet<T>>,
    ) {
        if !self.sem.implicit_groups {
            return;
        }
        let mut missing: BTreeMap<String, Named> = BTreeMap::new();
        for &idx in users {
            let Some(a) = self.res.objects[idx].get(attr) else {
                continue;
            };
            for (g, src) in entries(self.sources, a) {
                if direct.contains_key(g) {
                    continue;
                }
                if let Some(n) = missing.get_mut(g) {
                    n.count += 1;
                    continue;
                }
                let at = narrow(self.sources, super::SourceRef::source(&src).value_span, g);
                missing.insert(g.to_string(), Named { at, attr, count: 1 });
            }
        }
        let defined: Vec<String> = direct.keys().cloned().collect();
        let kw = group_kind.keyword();
        let engine = self.sem.engine.title();
        for (g, n) in missing {
            let mut d = Diagnostic::new(
                codes::IMPLICIT_GROUP,
                format!("{kw} `{g}` is defined nowhere; {engine} creates it from its members"),
            )
            .at(n.at)
            .label(format!("named here in `{}`", n.attr))
            .note(format!(
                "{} object(s) name it; the group exists with them as members (alias `{g}`), and Nagios would refuse it",
                n.count
            ));
            d = match did_you_mean(&g, defined.iter().map(String::as_str)) {
                Some(s) => d.help(format!(
                    "did you mean `{s}`? Otherwise define `{kw}` `{g}` so the group is deliberate"
                )),
                None => d.help(format!(
                    "define it (`define {kw} {{ {} {g} }}`) so the group is deliberate",
                    group_kind.name_key().unwrap_or("name")
                )),
            };
            self.diags.push(d);
            direct.insert(g.clone(), Default::default());
            self.model
                .implicit_groups
                .entry(group_kind)
                .or_default()
                .insert(g);
        }
    }
}
