//! Which hosts an object selects with its host names and hostgroups (`host_name` /
//! `hostgroup_name` of services, dependencies and escalations), as the engine selects them
//! (catalogue rows C1–C5).

use std::collections::BTreeSet;

use monitorc_grammar::{codes, Diagnostic};

use super::{entries, Expander, HostId};
use crate::engine::Selection;
use crate::hostexpr::{self, Expr};
use crate::resolve::{RAttr, ResolvedObject};
use crate::schema::ObjectKind;

impl<'a> Expander<'a> {
    /// The hosts `o` selects with `hosts_key` (names, `!name`, `*`) and `groups_key`, and
    /// whether a name in them was unknown.
    pub(super) fn select(
        &mut self,
        o: &ResolvedObject,
        hosts_key: &str,
        groups_key: &str,
    ) -> (BTreeSet<HostId>, bool) {
        match self.sem.selection {
            Selection::Lists => self.select_lists(o, hosts_key, groups_key),
            Selection::Expressions => self.select_expression(o, hosts_key, groups_key),
        }
    }

    /// Nagios 4 (`xodtemplate_expand_hostgroups`, `xodtemplate_expand_hosts`): both values
    /// are comma lists. `*` in the groups is the members of every hostgroup, in the hosts
    /// every host; `!name` rejects, from the whole result whatever its position; `&`, `|`
    /// and parentheses are part of a (then unknown) group name.
    fn select_lists(
        &mut self,
        o: &ResolvedObject,
        hosts_key: &str,
        groups_key: &str,
    ) -> (BTreeSet<HostId>, bool) {
        let mut accepted = BTreeSet::new();
        let mut rejected = BTreeSet::new();
        let mut errors = false;
        let user = self.display(o);
        if let Some(a) = o.get(groups_key) {
            for (g, src) in entries(self.sources, a) {
                let (negated, name) = match g.strip_prefix('!') {
                    Some(n) => (true, n.trim()),
                    None => (false, g),
                };
                let into = if negated {
                    &mut rejected
                } else {
                    &mut accepted
                };
                if name == "*" {
                    for members in self.model.hostgroups.values() {
                        into.extend(members.iter().copied());
                    }
                } else if let Some(members) = self.model.hostgroups.get(name) {
                    into.extend(members.iter().copied());
                } else {
                    errors = true;
                    self.unknown(
                        codes::UNKNOWN_HOSTGROUP,
                        "hostgroup",
                        groups_key,
                        src,
                        name,
                        user.clone(),
                        ObjectKind::Hostgroup,
                    );
                }
            }
        }
        if let Some(a) = o.get(hosts_key) {
            for (h, src) in entries(self.sources, a) {
                let (negated, name) = match h.strip_prefix('!') {
                    Some(n) => (true, n.trim()),
                    None => (false, h),
                };
                let into = if negated {
                    &mut rejected
                } else {
                    &mut accepted
                };
                if name == "*" {
                    into.extend(self.all.iter().copied());
                } else if let Some(&id) = self.model.host_by_name.get(name) {
                    into.insert(id);
                } else {
                    errors = true;
                    self.unknown(
                        codes::UNKNOWN_HOST,
                        "host",
                        hosts_key,
                        src,
                        name,
                        user.clone(),
                        ObjectKind::Host,
                    );
                }
            }
        }
        for h in &rejected {
            accepted.remove(h);
        }
        (accepted, errors)
    }

    /// Shinken and Alignak ignore the negation of a lone group (`hostgroup_name !web` selects
    /// web's hosts, `ComplexExpressionNode.resolve_elements`): reproduced, with a warning.
    fn lone_negation(&mut self, expr: Expr, key: &str, a: &RAttr) -> Expr {
        let Expr::Not(inner) = expr else {
            return expr;
        };
        let Expr::Name(name) = *inner else {
            return Expr::Not(inner);
        };
        let engine = self.sem.engine.title();
        self.diags.push(
            Diagnostic::new(
                codes::NEGATION_IGNORED,
                format!("`{key} !{name}` selects the hosts of `{name}`, not the others"),
            )
            .at(a.sources[0].value_span)
            .label(format!("{engine} ignores a negation that stands alone"))
            .help(format!(
                "to select every host but those of `{name}`, write `*,!{name}` (or `*&!{name}`)"
            )),
        );
        Expr::Name(name)
    }

    /// Shinken and Alignak: `hostgroup_name` is an expression (`,` `|` `&` `!` `()` `*`),
    /// host entries are applied in order.
    fn select_expression(
        &mut self,
        o: &ResolvedObject,
        hosts_key: &str,
        groups_key: &str,
    ) -> (BTreeSet<HostId>, bool) {
        let mut out = BTreeSet::new();
        let mut errors = false;
        let user = self.display(o);
        if let Some(a) = o.get(groups_key) {
            match hostexpr::parse(&a.raw) {
                Ok(expr) => {
                    let expr = self.lone_negation(expr, groups_key, a);
                    let src = a.sources[0].clone();
                    for n in expr.names() {
                        if !self.model.hostgroups.contains_key(n) {
                            errors = true;
                            self.unknown(
                                codes::UNKNOWN_HOSTGROUP,
                                "hostgroup",
                                groups_key,
                                &src,
                                n,
                                user.clone(),
                                ObjectKind::Hostgroup,
                            );
                        }
                    }
                    let groups = &self.model.hostgroups;
                    out = expr.eval(&self.all, &|n| groups.get(n).cloned().unwrap_or_default());
                }
                Err(why) => {
                    errors = true;
                    self.diags.push(
                        Diagnostic::new(codes::INVALID_EXPRESSION, format!("invalid hostgroup expression in `{groups_key}`: {why}"))
                            .at(a.sources[0].value_span)
                            .label("cannot be read")
                            .help("combine group names with `,` or `|` (or), `&` (and), `!` (not) and parentheses"),
                    );
                }
            }
        }
        if let Some(a) = o.get(hosts_key) {
            for (h, src) in entries(self.sources, a) {
                if let Some(x) = h.strip_prefix('!') {
                    let x = x.trim();
                    match self.model.host_by_name.get(x) {
                        Some(id) => {
                            out.remove(id);
                        }
                        None => {
                            errors = true;
                            self.unknown(
                                codes::UNKNOWN_HOST,
                                "host",
                                hosts_key,
                                src,
                                x,
                                user.clone(),
                                ObjectKind::Host,
                            );
                        }
                    }
                } else if h == "*" {
                    out.extend(self.all.iter().copied());
                } else {
                    match self.model.host_by_name.get(h) {
                        Some(&id) => {
                            out.insert(id);
                        }
                        None => {
                            errors = true;
                            self.unknown(
                                codes::UNKNOWN_HOST,
                                "host",
                                hosts_key,
                                src,
                                h,
                                user.clone(),
                                ObjectKind::Host,
                            );
                        }
                    }
                }
            }
        }
        (out, errors)
    }
}
