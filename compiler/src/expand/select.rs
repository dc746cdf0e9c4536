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

    /// The hosts a dependency selects: as [`Self::select`], or, where the engine reads plain
    /// comma lists of names there (A12), each entry as a name.
    pub(super) fn select_dependency(
        &mut self,
        o: &ResolvedObject,
        hosts_key: &str,
        groups_key: &str,
    ) -> (BTreeSet<HostId>, bool) {
        if !self.sem.dependency_names_plain {
            return self.select(o, hosts_key, groups_key);
        }
        let mut out = BTreeSet::new();
        let mut errors = false;
        let user = self.display(o);
        for (key, kind) in [
            (groups_key, ObjectKind::Hostgroup),
            (hosts_key, ObjectKind::Host),
        ] {
            let Some(a) = o.get(key) else { continue };
            for (name, src) in entries(self.sources, a) {
                let found = match kind {
                    ObjectKind::Hostgroup => self.model.hostgroups.get(name).cloned(),
                    _ => self
                        .model
                        .host_by_name
                        .get(name)
                        .map(|&h| BTreeSet::from([h])),
                };
                match found {
                    Some(hosts) => out.extend(hosts),
                    None if kind == ObjectKind::Hostgroup
                        && self.ir.objects[o.id].kind == ObjectKind::Hostdependency =>
                    {
                        // A12: Shinken and Alignak record the error on the definition they
                        // expand and then discard: the name is dropped, silently.
                        let engine = self.sem.engine.title();
                        let src = super::SourceRef::source(&src).clone();
                        self.diags.push(
                            Diagnostic::new(
                                codes::UNKNOWN_HOSTGROUP_IGNORED,
                                format!("`{name}` in `{key}` is not a hostgroup name; {engine} ignores it"),
                            )
                            .at(super::narrow(self.sources, src.value_span, name))
                            .label(format!("{engine} reads a plain list of hostgroup names here: no `!`, `*` or operators"))
                            .help("name the hostgroups one by one (define one for the hosts meant), or remove the entry"),
                        );
                    }
                    None => {
                        errors = true;
                        let (code, what) = match kind {
                            ObjectKind::Hostgroup => (codes::UNKNOWN_HOSTGROUP, "hostgroup"),
                            _ => (codes::UNKNOWN_HOST, "host"),
                        };
                        self.unknown(code, what, key, src, name, user.clone(), kind);
                    }
                }
            }
        }
        (out, errors)
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
        let regex = self.regex_matching();
        for (key, kind) in [
            (groups_key, ObjectKind::Hostgroup),
            (hosts_key, ObjectKind::Host),
        ] {
            let Some(a) = o.get(key) else { continue };
            for (entry, src) in entries(self.sources, a) {
                let (negated, name) = match entry.strip_prefix('!') {
                    Some(n) => (true, n.trim()),
                    None => (false, entry),
                };
                let into = if negated {
                    &mut rejected
                } else {
                    &mut accepted
                };
                let found = if let Some(re) = regex.as_ref().and_then(|r| r.get(name)) {
                    // C6: every group (host) whose name the expression matches.
                    let at = super::SourceRef::source(&src).clone();
                    let Some(re) = self.nagios_regex(re, key, at) else {
                        errors = true;
                        continue;
                    };
                    let mut found = false;
                    if kind == ObjectKind::Hostgroup {
                        for (g, members) in &self.model.hostgroups {
                            if re.is_match(g) {
                                found = true;
                                into.extend(members.iter().copied());
                            }
                        }
                    } else {
                        for (n, &id) in self.model.host_by_name.iter() {
                            if re.is_match(n) {
                                found = true;
                                into.insert(id);
                            }
                        }
                    }
                    found
                } else if kind == ObjectKind::Hostgroup {
                    if name == "*" {
                        for members in self.model.hostgroups.values() {
                            into.extend(members.iter().copied());
                        }
                        true
                    } else if let Some(members) = self.model.hostgroups.get(name) {
                        if into.is_empty() {
                            // One group, the usual case: a copy of its set, not inserts.
                            into.clone_from(members);
                        } else {
                            into.extend(members.iter().copied());
                        }
                        true
                    } else {
                        false
                    }
                } else if name == "*" {
                    into.extend(self.all.iter().copied());
                    true
                } else if let Some(&id) = self.model.host_by_name.get(name) {
                    into.insert(id);
                    true
                } else {
                    false
                };
                if !found {
                    errors = true;
                    let (code, what) = match kind {
                        ObjectKind::Hostgroup => (codes::UNKNOWN_HOSTGROUP, "hostgroup"),
                        _ => (codes::UNKNOWN_HOST, "host"),
                    };
                    self.unknown(code, what, key, src, name, user.clone(), kind);
                }
            }
        }
        for h in &rejected {
            accepted.remove(h);
        }
        (accepted, errors)
    }

    /// C6: which names Nagios reads as regular expressions, by the main config's
    /// `use_regexp_matching` and `use_true_regexp_matching` (`None`: no name is one).
    fn regex_matching(&self) -> Option<RegexNames> {
        let on = |k: &str| {
            self.ir
                .main
                .get(k)
                .is_some_and(|v| crate::lower::atoi(v) > 0)
        };
        (self.sem.regexp_matching && on("use_regexp_matching")).then(|| RegexNames {
            every: on("use_true_regexp_matching"),
        })
    }

    /// A name read as a regular expression, compiled once; an invalid one is reported (Nagios
    /// stops: "Failed to expand").
    fn nagios_regex(
        &mut self,
        re: &str,
        key: &str,
        src: crate::resolve::Source,
    ) -> Option<std::sync::Arc<regex::Regex>> {
        let compiled = self
            .regexes
            .entry(re.to_string())
            .or_insert_with(|| {
                regex::Regex::new(re).map(std::sync::Arc::new).map_err(|e| {
                    e.to_string()
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
            })
            .clone();
        match compiled {
            Ok(r) => Some(r),
            Err(e) => {
                self.diags.push(
                    Diagnostic::new(
                        codes::INVALID_EXPRESSION,
                        format!("`{re}` in `{key}` is not a valid regular expression: {e}"),
                    )
                    .at(super::narrow(self.sources, src.value_span, re))
                    .label("use_regexp_matching=1 makes this a regular expression")
                    .help("fix the expression, or escape what is meant literally (`\\.`)"),
                );
                None
            }
        }
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

/// C6: which host and hostgroup names are regular expressions in Nagios 4
/// (`xodtemplate_expand_hosts`, `xodtemplate_expand_hostgroups`).
struct RegexNames {
    /// `use_true_regexp_matching=1`: every name.
    every: bool,
}

impl RegexNames {
    /// The expression, when `name` is read as one: with `use_regexp_matching=1`, a name that
    /// holds `*`, `?`, `+` or `\.`.
    fn get<'n>(&self, name: &'n str) -> Option<&'n str> {
        (self.every || ["*", "?", "+", "\\."].iter().any(|c| name.contains(c))).then_some(name)
    }
}
