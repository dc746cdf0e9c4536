//! Expansion: from resolved objects to the monitored model. Group membership (hosts,
//! services, contacts, nested groups), services exploded over the hosts they select (host
//! lists, hostgroup expressions, host templates, `duplicate_foreach`, exclusions and
//! overrides), parents, host and service dependencies, escalations, and every check that a
//! name refers to an object that exists, with loops reported with their whole cycle.
//!
//! A reference that is wrong in a template is reported once, at the template, with the number
//! of objects it affects (alignak#781), because every resolved value knows where it was set.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use monitorc_grammar::diag::did_you_mean;
use monitorc_grammar::{codes, Code, Diagnostic, SourceMap, Span};

mod dependencies;
mod implicit;
mod select;

use crate::engine::{Selection, Semantics};
use crate::hostexpr;
use crate::ir::{Ir, Value};
use crate::resolve::{RAttr, Resolved, ResolvedObject, Source};
use crate::schema::ObjectKind;

/// Position of a host in [`Model::hosts`].
pub type HostId = u32;
/// Position of a service in [`Model::services`].
pub type ServiceId = u32;

/// One service on one host.
#[derive(Clone, Debug)]
pub struct Service {
    pub host: HostId,
    /// Shared between the services of one definition.
    pub description: Arc<str>,
    /// The resolved service definition (or service template, for services on host templates)
    /// in `Resolved::objects`.
    pub def: usize,
    /// Created from a service template attached to one of the host's templates.
    pub from_host_template: bool,
    /// Values that differ from the definition's: `duplicate_foreach` substitutions and the
    /// host's `service_overrides`.
    pub overrides: BTreeMap<String, RAttr>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostDependency {
    pub master: HostId,
    pub dependent: HostId,
    /// The `hostdependency` object (absent for parent links, which are separate).
    pub def: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceDependency {
    pub master: ServiceId,
    pub dependent: ServiceId,
    /// The `servicedependency` object, or the service whose `service_dependencies` made it.
    pub def: usize,
}

/// Every master host × every dependent host of one `hostdependency`, kept as one rule: a
/// dependency between two groups is never materialised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostDependencyRule {
    /// Sorted, each once.
    pub masters: Vec<HostId>,
    pub dependents: Vec<HostId>,
    pub def: usize,
}

/// Every master service × every dependent service of one `servicedependency` whose both sides
/// have several hosts (a group-to-group dependency), kept as one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDependencyRule {
    /// Sorted, each once.
    pub masters: Vec<ServiceId>,
    pub dependents: Vec<ServiceId>,
    pub def: usize,
}

/// The monitored configuration, every list ordered by name.
#[derive(Debug)]
pub struct Model {
    /// The engine semantics it was expanded with (implied inheritance depends on them).
    pub sem: &'static Semantics,
    /// Real hosts (resolved object indices), sorted by host name.
    pub hosts: Vec<usize>,
    pub host_names: Vec<String>,
    pub host_by_name: HashMap<String, HostId>,
    /// Parents of each host.
    pub parents: Vec<Vec<HostId>>,
    /// Every hostgroup with all its hosts (nested groups included).
    pub hostgroups: BTreeMap<String, BTreeSet<HostId>>,
    /// Sorted by (host name, description).
    pub services: Vec<Service>,
    /// The range of `services` each host has.
    pub host_services: Vec<std::ops::Range<ServiceId>>,
    pub servicegroups: BTreeMap<String, BTreeSet<ServiceId>>,
    pub contactgroups: BTreeMap<String, BTreeSet<String>>,
    /// Dependencies with one host (or service) on a side, and same-host ones, as pairs.
    pub host_dependencies: Vec<HostDependency>,
    pub service_dependencies: Vec<ServiceDependency>,
    /// Group-to-group dependencies, in definition order.
    pub host_dependency_rules: Vec<HostDependencyRule>,
    pub service_dependency_rules: Vec<ServiceDependencyRule>,
    /// (host, escalation object) pairs from `hostescalation` definitions.
    pub host_escalations: Vec<(HostId, usize)>,
    /// (service, escalation object) pairs from `serviceescalation` definitions.
    pub service_escalations: Vec<(ServiceId, usize)>,
    /// Real objects of the other named types, by name (the winner of duplicates).
    pub named: BTreeMap<ObjectKind, BTreeMap<String, usize>>,
    /// Groups no definition has, created from the member side as the engine does (host,
    /// service and contact groups in Shinken and Alignak).
    pub implicit_groups: BTreeMap<ObjectKind, BTreeSet<String>>,
    /// Hosts whose check (or one of whose services' checks) is a business rule, with the
    /// other hosts the rule reads (through names, groups, patterns, templates, labels).
    pub business_rules: Vec<(HostId, Vec<HostId>)>,
}

/// Commands every engine defines itself.
pub const GHOST_COMMANDS: &[&str] = &[
    "bp_rule",
    "_internal_host_up",
    "_echo",
    "_internal_host_check",
    "_internal_service_check",
];

impl Model {
    pub fn new(sem: &'static Semantics) -> Model {
        Model {
            sem,
            hosts: Vec::new(),
            host_names: Vec::new(),
            host_by_name: HashMap::new(),
            parents: Vec::new(),
            hostgroups: BTreeMap::new(),
            services: Vec::new(),
            host_services: Vec::new(),
            servicegroups: BTreeMap::new(),
            contactgroups: BTreeMap::new(),
            host_dependencies: Vec::new(),
            service_dependencies: Vec::new(),
            host_dependency_rules: Vec::new(),
            service_dependency_rules: Vec::new(),
            host_escalations: Vec::new(),
            service_escalations: Vec::new(),
            named: BTreeMap::new(),
            implicit_groups: BTreeMap::new(),
            business_rules: Vec::new(),
        }
    }

    pub fn host<'r>(&self, res: &'r Resolved, h: HostId) -> &'r ResolvedObject {
        &res.objects[self.hosts[h as usize]]
    }

    /// A service attribute: override, then definition (with its templates), then the host's
    /// value for the attributes services inherit implicitly.
    pub fn service_attr<'a>(
        &'a self,
        res: &'a Resolved,
        s: &'a Service,
        key: &str,
    ) -> Option<&'a RAttr> {
        if let Some(a) = s.overrides.get(key) {
            return Some(a);
        }
        if key == "host_name" {
            return None;
        }
        if let Some(a) = res.objects[s.def].get(key) {
            return Some(a);
        }
        if !self.sem.implied_from_host.contains(&key) {
            return None;
        }
        if self.sem.implied_contacts_as_pair && matches!(key, "contacts" | "contact_groups") {
            let own = |k: &str| s.overrides.contains_key(k) || res.objects[s.def].get(k).is_some();
            if own("contacts") || own("contact_groups") {
                return None;
            }
        }
        self.host(res, s.host).get(key)
    }

    /// The attributes the services of a definition that sets `has` take from their host.
    pub fn implied_keys(&self, has: impl Fn(&str) -> bool) -> Vec<&'static str> {
        let pair = self.sem.implied_contacts_as_pair && (has("contacts") || has("contact_groups"));
        self.sem
            .implied_from_host
            .iter()
            .copied()
            .filter(|k| !has(k) && (!pair || !matches!(*k, "contacts" | "contact_groups")))
            .collect()
    }

    pub fn service_by_key(&self, host: HostId, description: &str) -> Option<ServiceId> {
        let range = self.host_services.get(host as usize)?.clone();
        let list = &self.services[range.start as usize..range.end as usize];
        list.binary_search_by(|s| (*s.description).cmp(description))
            .ok()
            .map(|i| range.start + i as ServiceId)
    }

    /// The services of one host.
    pub fn services_of(&self, host: HostId) -> std::ops::Range<ServiceId> {
        self.host_services[host as usize].clone()
    }
}

/// Builds the model and reports every unknown name and every loop.
pub fn expand(
    ir: &Ir,
    res: &Resolved,
    sources: &SourceMap,
    sem: &'static Semantics,
    diags: &mut Vec<Diagnostic>,
) -> Model {
    let mut x = Expander {
        ir,
        sem,
        res,
        sources,
        model: Model::new(sem),
        all: BTreeSet::new(),
        filters: Vec::new(),
        unknown: BTreeMap::new(),
        diags: Vec::new(),
        templates: HashMap::new(),
        regexes: HashMap::new(),
    };
    x.named();
    x.hosts();
    x.hostgroups();
    x.parents();
    x.services();
    x.servicegroups();
    x.contactgroups();
    x.host_dependencies();
    x.service_dependencies();
    x.escalations();
    x.business_rules();
    x.references();
    x.triggers();
    x.flush_unknown();
    diags.extend(x.diags);
    x.model
}

/// One unknown name at one place, with every object it affects.
struct Unknown {
    code: Code,
    what: &'static str,
    attr: String,
    /// How many objects the mistake affects, and the first few of them by name.
    count: usize,
    users: BTreeSet<String>,
    candidates: Candidates,
}

/// What a misspelt name may have meant; computed only when reporting.
enum Candidates {
    Named(ObjectKind),
    /// Every service as `host,description`.
    ServicePairs,
    Given(Vec<String>),
}

struct Expander<'a> {
    ir: &'a Ir,
    /// What the engine does where engines differ.
    sem: &'static Semantics,
    res: &'a Resolved,
    sources: &'a SourceMap,
    model: Model,
    /// Every host, for `*` and negations.
    all: BTreeSet<HostId>,
    /// Whether each host has `service_excludes` or `service_includes`.
    filters: Vec<bool>,
    /// Keyed by (span, name) so a mistake in a template is one diagnostic.
    unknown: BTreeMap<(Span, String), Unknown>,
    diags: Vec<Diagnostic>,
    /// Templates by (kind, name), filled only when business rules need them.
    templates: HashMap<(ObjectKind, String), usize>,
    /// Business rules' regexes, compiled once each.
    regexes: HashMap<String, Result<Arc<regex::Regex>, String>>,
}

impl From<ObjectKind> for Candidates {
    fn from(k: ObjectKind) -> Candidates {
        Candidates::Named(k)
    }
}

impl From<Vec<String>> for Candidates {
    fn from(v: Vec<String>) -> Candidates {
        Candidates::Given(v)
    }
}

fn order_of(o: &ResolvedObject) -> i64 {
    match o.get("definition_order").map(|a| &a.value) {
        Some(Value::Int(n)) => *n,
        _ => 100,
    }
}

impl<'a> Expander<'a> {
    fn display(&self, o: &ResolvedObject) -> String {
        self.ir.objects[o.id].display_name()
    }

    /// Real objects of every named type by name; duplicates resolved like `lower` reports them.
    fn named(&mut self) {
        let mut named: BTreeMap<ObjectKind, BTreeMap<String, usize>> = BTreeMap::new();
        for o in self.res.objects.iter().filter(|o| o.register) {
            let Some(name) = o.name().filter(|n| !n.is_empty()) else {
                continue;
            };
            if matches!(o.kind, ObjectKind::Hostextinfo | ObjectKind::Serviceextinfo) {
                continue;
            }
            let by = named.entry(o.kind).or_default();
            match by.get(name) {
                Some(&prev) if order_of(&self.res.objects[prev]) < order_of(o) => {}
                _ => {
                    by.insert(name.to_string(), o.id);
                }
            }
        }
        self.model.named = named;
    }

    fn names_of(&self, kind: ObjectKind) -> Vec<String> {
        self.model
            .named
            .get(&kind)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn exists(&self, kind: ObjectKind, name: &str) -> bool {
        self.model
            .named
            .get(&kind)
            .is_some_and(|m| m.contains_key(name))
            || self
                .model
                .implicit_groups
                .get(&kind)
                .is_some_and(|m| m.contains(name))
    }

    fn hosts(&mut self) {
        let hosts: Vec<(String, usize)> = self
            .model
            .named
            .get(&ObjectKind::Host)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        for (i, (name, idx)) in hosts.into_iter().enumerate() {
            self.model.host_by_name.insert(name.clone(), i as HostId);
            self.model.host_names.push(name);
            self.model.hosts.push(idx);
        }
        self.model.parents = vec![Vec::new(); self.model.hosts.len()];
        self.all = (0..self.model.hosts.len() as HostId).collect();
    }

    fn all_hosts(&self) -> BTreeSet<HostId> {
        self.all.clone()
    }

    /// Records an unknown name found in `attr` (set at `src`) of object `user`.
    fn unknown(
        &mut self,
        code: Code,
        what: &'static str,
        attr: &str,
        src: impl SourceRef,
        name: &str,
        user: String,
        candidates: impl Into<Candidates>,
    ) {
        let candidates = candidates.into();
        let span = narrow(self.sources, src.source().value_span, name);
        let entry = self
            .unknown
            .entry((span, name.to_string()))
            .or_insert_with(|| Unknown {
                code,
                what,
                attr: attr.to_string(),
                count: 0,
                users: BTreeSet::new(),
                candidates,
            });
        if entry.users.insert(user) {
            entry.count += 1;
            // Keep only the first names in order; the count says how many there are.
            if entry.users.len() > 5 {
                entry.users.pop_last();
            }
        }
    }

    fn flush_unknown(&mut self) {
        for ((span, name), u) in std::mem::take(&mut self.unknown) {
            let mut d = Diagnostic::new(
                u.code,
                format!("unknown {} `{name}` in `{}`", u.what, u.attr),
            )
            .at(span)
            .label(format!("no {} is named `{name}`", u.what));
            if u.count > 1 {
                let shown: Vec<&str> = u.users.iter().map(String::as_str).collect();
                d = d.note(format!(
                    "this value is inherited by {} objects: {}{}",
                    u.count,
                    shown.join(", "),
                    if u.count > 5 { ", …" } else { "" }
                ));
            }
            let candidates = match u.candidates {
                Candidates::Named(kind) => self.names_of(kind),
                Candidates::ServicePairs => self
                    .model
                    .services
                    .iter()
                    .map(|s| {
                        format!(
                            "{},{}",
                            self.model.host_names[s.host as usize], s.description
                        )
                    })
                    .collect(),
                Candidates::Given(v) => v,
            };
            d = match did_you_mean(&name, candidates.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "define the {} `{name}`, or remove it from `{}`",
                    u.what, u.attr
                )),
            };
            self.diags.push(d);
        }
    }

    fn hostgroups(&mut self) {
        let groups = self
            .model
            .named
            .get(&ObjectKind::Hostgroup)
            .cloned()
            .unwrap_or_default();
        let all = self.all_hosts();
        let host_names: Vec<String> = self.model.host_names.clone();
        let mut direct: BTreeMap<String, BTreeSet<HostId>> = groups
            .keys()
            .map(|g| (g.clone(), BTreeSet::new()))
            .collect();
        let mut nested: BTreeMap<String, Vec<(String, Source)>> = BTreeMap::new();
        for (g, &idx) in &groups {
            let o = &self.res.objects[idx];
            if let Some(a) = o.get("members") {
                // Nagios rejects `!host` members from the whole list (B5); Shinken and
                // Alignak read `!host` as a host name.
                let mut rejected = Vec::new();
                for (m, src) in entries(self.sources, a) {
                    let rejection = match m.strip_prefix('!') {
                        Some(r) if self.sem.selection == Selection::Lists => Some(r.trim()),
                        _ => None,
                    };
                    if let Some(r) = rejection.and_then(|r| self.model.host_by_name.get(r)) {
                        rejected.push(*r);
                    } else if m == "*" {
                        direct.get_mut(g).unwrap().extend(all.iter().copied());
                    } else if let Some(&h) = self.model.host_by_name.get(m) {
                        direct.get_mut(g).unwrap().insert(h);
                    } else {
                        self.unknown(
                            codes::UNKNOWN_HOST,
                            "host",
                            "members",
                            src,
                            rejection.unwrap_or(m),
                            format!("hostgroup {g}"),
                            ObjectKind::Host,
                        );
                    }
                }
                let set = direct.get_mut(g).unwrap();
                for h in rejected {
                    set.remove(&h);
                }
            }
            if let Some(a) = o.get("hostgroup_members") {
                let list = self.nested_groups(ObjectKind::Hostgroup, g, a, &groups);
                nested.insert(g.clone(), list);
            }
        }
        let hosts = self.model.hosts.clone();
        self.implicit_groups(ObjectKind::Hostgroup, "hostgroups", &hosts, &mut direct);
        for h in 0..self.model.hosts.len() {
            let o = &self.res.objects[self.model.hosts[h]];
            if let Some(a) = o.get("hostgroups") {
                for (g, src) in entries(self.sources, a) {
                    match direct.get_mut(g) {
                        Some(set) => {
                            set.insert(h as HostId);
                        }
                        None => {
                            let user = format!("host {}", host_names[h]);
                            self.unknown(
                                codes::UNKNOWN_HOSTGROUP,
                                "hostgroup",
                                "hostgroups",
                                src,
                                g,
                                user,
                                ObjectKind::Hostgroup,
                            );
                        }
                    }
                }
            }
        }
        self.model.hostgroups =
            self.close_groups("hostgroup", "hostgroup_members", direct, &nested);
    }

    /// The `*group_members` of group `g` that exist (with where each was named); the others
    /// are reported.
    fn nested_groups(
        &mut self,
        kind: ObjectKind,
        g: &str,
        a: &RAttr,
        groups: &BTreeMap<String, usize>,
    ) -> Vec<(String, Source)> {
        let what = kind.keyword();
        let (code, attr) = match kind {
            ObjectKind::Hostgroup => (codes::UNKNOWN_HOSTGROUP, "hostgroup_members"),
            ObjectKind::Servicegroup => (codes::UNKNOWN_SERVICEGROUP, "servicegroup_members"),
            _ => (codes::UNKNOWN_CONTACTGROUP, "contactgroup_members"),
        };
        let mut out = Vec::new();
        for (m, src) in entries(self.sources, a) {
            if groups.contains_key(m) {
                out.push((m.to_string(), src.get().clone()));
            } else {
                self.unknown(code, what, attr, src, m, format!("{what} {g}"), kind);
            }
        }
        out
    }

    /// Adds nested groups' members to each group, reporting nesting loops with their cycle.
    fn close_groups<T: Ord + Clone>(
        &mut self,
        what: &str,
        attr: &str,
        direct: BTreeMap<String, BTreeSet<T>>,
        nested: &BTreeMap<String, Vec<(String, Source)>>,
    ) -> BTreeMap<String, BTreeSet<T>> {
        let names: Vec<&String> = direct.keys().collect();
        let edges: BTreeMap<&str, Vec<(&str, Span)>> = nested
            .iter()
            .map(|(g, v)| {
                (
                    g.as_str(),
                    v.iter()
                        .map(|(m, s)| (m.as_str(), narrow(self.sources, s.value_span, m)))
                        .collect(),
                )
            })
            .collect();
        for cycle in cycles(names.iter().map(|s| s.as_str()), |n| {
            edges.get(n).into_iter().flatten().map(|(m, _)| *m)
        }) {
            let first_edge = edges[cycle[0]]
                .iter()
                .find(|(m, _)| *m == cycle[1])
                .map(|(_, s)| *s)
                .unwrap();
            let chain: Vec<String> = cycle.iter().map(|c| format!("`{c}`")).collect();
            let mut d = Diagnostic::new(
                codes::GROUP_LOOP,
                format!(
                    "{what}s contain each other in a loop: {}",
                    crate::expand::join_cycle(&chain, " -> ")
                ),
            )
            .at(first_edge)
            .label(format!("`{}` includes `{}` here", cycle[0], cycle[1]));
            for w in cycle.windows(2).skip(1).take(8) {
                if let Some((_, s)) = edges[w[0]].iter().find(|(m, _)| *m == w[1]) {
                    d = d.secondary(*s, format!("`{}` includes `{}`", w[0], w[1]));
                }
            }
            self.diags.push(d.help(format!(
                "remove one `{attr}` entry of the loop; nesting must go one way"
            )));
        }
        let mut out = BTreeMap::new();
        for g in direct.keys() {
            let mut set = BTreeSet::new();
            let mut stack = vec![g.as_str()];
            let mut seen = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if !seen.insert(n) {
                    continue;
                }
                set.extend(direct[n].iter().cloned());
                if let Some(v) = edges.get(n) {
                    stack.extend(v.iter().map(|(m, _)| *m));
                }
            }
            out.insert(g.clone(), set);
        }
        out
    }

    fn parents(&mut self) {
        let host_names = self.model.host_names.clone();
        for h in 0..self.model.hosts.len() {
            let o = &self.res.objects[self.model.hosts[h]];
            let Some(a) = o.get("parents") else { continue };
            for (p, src) in entries(self.sources, a) {
                match self.model.host_by_name.get(p) {
                    Some(&pid) => self.model.parents[h].push(pid),
                    None => {
                        let user = format!("host {}", host_names[h]);
                        self.unknown(
                            codes::UNKNOWN_PARENT,
                            "parent host",
                            "parents",
                            src,
                            p,
                            user,
                            ObjectKind::Host,
                        );
                    }
                }
            }
        }
        let parents = std::mem::take(&mut self.model.parents);
        let found = cycles(0..host_names.len() as HostId, |h| {
            parents[h as usize].iter().copied()
        });
        self.model.parents = parents;
        for cycle in found {
            let names: Vec<String> = cycle
                .iter()
                .map(|&h| format!("`{}`", host_names[h as usize]))
                .collect();
            let at = |h: HostId| {
                let o = &self.res.objects[self.model.hosts[h as usize]];
                o.get("parents")
                    .map(|a| a.sources[0].value_span)
                    .unwrap_or(self.ir.objects[o.id].header)
            };
            let mut d = Diagnostic::new(
                codes::PARENT_LOOP,
                format!(
                    "hosts are each other's parents in a loop: {}",
                    crate::expand::join_cycle(&names, " -> ")
                ),
            )
            .at(narrow(
                self.sources,
                at(cycle[0]),
                &host_names[cycle[1] as usize],
            ))
            .label(format!(
                "`{}` has parent `{}`",
                host_names[cycle[0] as usize], host_names[cycle[1] as usize]
            ));
            for w in cycle.windows(2).skip(1).take(8) {
                d = d.secondary(
                    narrow(self.sources, at(w[0]), &host_names[w[1] as usize]),
                    format!(
                        "`{}` has parent `{}`",
                        host_names[w[0] as usize], host_names[w[1] as usize]
                    ),
                );
            }
            self.diags.push(
                d.help("a host cannot be its own ancestor: remove one `parents` entry of the loop"),
            );
        }
    }

    fn services(&mut self) {
        let deny_empty = self.sem.empty_hostgroup_key
            && self
                .ir
                .main
                .get("allow_empty_hostgroup_assignment")
                .is_some_and(|v| v.trim() == "0");
        let mut per_host: Vec<Vec<Service>> = vec![Vec::new(); self.model.hosts.len()];
        self.filters = self
            .model
            .hosts
            .iter()
            .map(|&i| {
                let h = &self.res.objects[i];
                h.get("service_excludes").is_some() || h.get("service_includes").is_some()
            })
            .collect();
        let mut defs: Vec<&'a ResolvedObject> = self.res.of_kind(ObjectKind::Service).collect();
        // Services on host templates: service templates whose host_name names host templates.
        // Nagios has none: such a template is only a template (E1).
        let templated: Vec<&'a ResolvedObject> = self
            .res
            .templates_of_kind(ObjectKind::Service)
            .filter(|t| self.sem.services_on_host_templates && t.get("host_name").is_some())
            .collect();
        defs.sort_by_key(|d| d.id);
        for def in defs {
            let (hosts, errors) = self.select(def, "host_name", "hostgroup_name");
            if hosts.is_empty() && !errors {
                let (code, verdict) = if deny_empty {
                    (
                        codes::SERVICE_WITHOUT_HOSTS_DENIED,
                        "allow_empty_hostgroup_assignment=0 makes this an error",
                    )
                } else {
                    (codes::SERVICE_WITHOUT_HOSTS, "it is not created")
                };
                let o = &self.ir.objects[def.id];
                let at = def
                    .get("hostgroup_name")
                    .or(def.get("host_name"))
                    .map(|a| a.sources[0].value_span)
                    .unwrap_or(o.header);
                self.diags.push(
                    Diagnostic::new(
                        code,
                        format!(
                            "service `{}` applies to no host; {verdict}",
                            def.get_str("service_description").unwrap_or("?")
                        ),
                    )
                    .at(at)
                    .label("selects no host")
                    .help("add hosts to the groups it names, or remove the service"),
                );
            }
            self.add_services(def, hosts, false, &mut per_host);
        }
        if !templated.is_empty() {
            // Which hosts inherit each host template, computed once.
            let mut by_template: HashMap<&str, BTreeSet<HostId>> = HashMap::new();
            for (h, &idx) in self.model.hosts.iter().enumerate() {
                for t in self.res.objects[idx].templates.iter() {
                    by_template
                        .entry(t.as_str())
                        .or_default()
                        .insert(h as HostId);
                }
            }
            for t in templated {
                let a = t.get("host_name").unwrap();
                let Ok(expr) = hostexpr::parse(&a.raw) else {
                    continue;
                };
                let hosts = expr.eval(&self.all, &|name| {
                    by_template.get(name).cloned().unwrap_or_default()
                });
                self.add_services(t, hosts, true, &mut per_host);
            }
        }
        // Hosts are in name order already; services of a host in description order.
        let mut services = Vec::with_capacity(per_host.iter().map(Vec::len).sum());
        let mut ranges = Vec::with_capacity(per_host.len());
        for mut list in per_host {
            list.sort_by(|a, b| a.description.cmp(&b.description));
            let start = services.len() as ServiceId;
            services.extend(list);
            ranges.push(start..services.len() as ServiceId);
        }
        self.model.services = services;
        self.model.host_services = ranges;
        self.apply_overrides();
    }

    fn add_services(
        &mut self,
        def: &ResolvedObject,
        hosts: BTreeSet<HostId>,
        from_template: bool,
        per_host: &mut [Vec<Service>],
    ) {
        let Some(desc) = def.get_str("service_description") else {
            return;
        };
        let foreach = def.get_str("duplicate_foreach");
        let shared: Arc<str> = Arc::from(desc);
        for h in hosts {
            let host = self.model.host(self.res, h);
            let generated: Vec<(Arc<str>, BTreeMap<String, RAttr>)> = match foreach {
                Some(var) => self.foreach(def, host, var, desc),
                None => vec![(shared.clone(), BTreeMap::new())],
            };
            let filters = self.filters[h as usize];
            for (description, overrides) in generated {
                if filters && excluded(host, &description) {
                    continue;
                }
                let list = &mut per_host[h as usize];
                let svc = Service {
                    host: h,
                    description,
                    def: def.id,
                    from_host_template: from_template,
                    overrides,
                };
                let Some(pos) = list.iter().position(|s| s.description == svc.description) else {
                    list.push(svc);
                    continue;
                };
                let prev = &list[pos];
                // A service defined for the host beats one from a host template.
                if prev.from_host_template != from_template {
                    if prev.from_host_template {
                        list[pos] = svc;
                    }
                    continue;
                }
                let p = &self.res.objects[prev.def];
                let keep_prev = order_of(p) < order_of(def);
                if prev.def != def.id {
                    let host_name = &self.model.host_names[h as usize];
                    self.diags.push(
                        Diagnostic::new(
                            codes::DUPLICATE_DEFINITION,
                            format!(
                                "service `{}` of host `{host_name}` is defined twice; {}",
                                svc.description,
                                if keep_prev {
                                    "the first one is kept (lower definition_order)"
                                } else {
                                    "this one, defined last, is kept"
                                }
                            ),
                        )
                        .at(self.ir.objects[def.id].header)
                        .label("defined again here")
                        .secondary(self.ir.objects[p.id].header, "first defined here")
                        .help("remove one definition, or set `definition_order` on the one that must win"),
                    );
                }
                if !keep_prev {
                    list[pos] = svc;
                }
            }
        }
    }

    /// `duplicate_foreach _VAR`: one service per entry of the host's `_VAR`.
    fn foreach(
        &mut self,
        def: &ResolvedObject,
        host: &ResolvedObject,
        var: &str,
        desc: &str,
    ) -> Vec<(Arc<str>, BTreeMap<String, RAttr>)> {
        let var = var.trim().to_ascii_uppercase();
        let Some(list) = host.custom(&var) else {
            return Vec::new();
        };
        let excluded: BTreeSet<String> = host
            .custom(&format!("_!{}", &var[1..]))
            .map(|a| {
                foreach_entries(&a.raw)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        let default = def.get_str("default_value");
        let mut out = Vec::new();
        for (key, values) in foreach_entries(&list.raw) {
            if excluded.contains(&key) {
                continue;
            }
            if key.contains('$') {
                self.diags.push(
                    Diagnostic::new(codes::INVALID_FOREACH, format!("`{key}` in `{var}` of host `{}` cannot name a service: it contains `$`", host.name().unwrap_or("?")))
                        .at(list.sources[0].value_span)
                        .label("entry with `$`")
                        .help("entries are written KEY or KEY$(VALUE)$; remove the `$` from the key"),
                );
                continue;
            }
            let uses_value = [
                "service_description",
                "check_command",
                "display_name",
                "event_handler",
                "aggregation",
                "service_dependencies",
            ]
            .iter()
            .filter_map(|k| def.get_str(k))
            .chain(std::iter::once(desc))
            .any(|v| v.contains("$VALUE"));
            if values.is_empty() && uses_value && default.is_none() {
                self.diags.push(
                    Diagnostic::new(codes::INVALID_FOREACH, format!("`{key}` in `{var}` of host `{}` has no value and service `{desc}` has no `default_value`", host.name().unwrap_or("?")))
                        .at(list.sources[0].value_span)
                        .label("entry without value")
                        .secondary(self.ir.objects[def.id].header, "the service that needs $VALUE$")
                        .help("write the entry KEY$(VALUE)$, or give the service a `default_value`"),
                );
                continue;
            }
            // An entry without values takes default_value as its one value; $VALUEn$ beyond
            // the values given is empty.
            let values: Vec<&str> = if values.is_empty() {
                default.into_iter().collect()
            } else {
                values.iter().map(String::as_str).collect()
            };
            let subst = |text: &str| -> String {
                let mut t = text.replace("$KEY$", &key);
                if !t.contains("$VALUE") {
                    return t;
                }
                for n in (1..=9).rev() {
                    t = t.replace(
                        &format!("$VALUE{n}$"),
                        values.get(n - 1).copied().unwrap_or(""),
                    );
                }
                t.replace("$VALUE$", values.first().copied().unwrap_or(""))
            };
            let safe_key: String = key
                .chars()
                .map(|c| {
                    if self.ir.main.illegal_object_name_chars().contains(c) {
                        '_'
                    } else {
                        c
                    }
                })
                .collect();
            let description = desc.replace("$KEY$", &safe_key);
            let description = subst(&description);
            let mut overrides = BTreeMap::new();
            for k in [
                "check_command",
                "display_name",
                "event_handler",
                "aggregation",
                "service_dependencies",
            ] {
                if let Some(a) = def.get(k) {
                    let raw = subst(&a.raw);
                    if raw != a.raw {
                        let value = match &a.value {
                            Value::List(_) => Value::List(crate::lower::split_list(&raw)),
                            _ => Value::Str,
                        };
                        overrides.insert(
                            k.to_string(),
                            RAttr {
                                value,
                                raw,
                                sources: a.sources.clone(),
                            },
                        );
                    }
                }
            }
            let d = def.get("service_description").unwrap();
            overrides.insert(
                "service_description".into(),
                RAttr {
                    value: Value::Str,
                    raw: description.clone(),
                    sources: d.sources.clone(),
                },
            );
            out.push((description.into(), overrides));
        }
        out
    }

    /// Hosts' `service_overrides`: `description,attribute value` (description may be `*` or
    /// `r:regex`).
    fn apply_overrides(&mut self) {
        const FORBIDDEN: &[&str] = &[
            "host_name",
            "service_description",
            "use",
            "servicegroups",
            "trigger",
            "trigger_name",
        ];
        for h in 0..self.model.hosts.len() {
            let host = &self.res.objects[self.model.hosts[h]];
            let Some(a) = host.get("service_overrides") else {
                continue;
            };
            let items = a.as_list().to_vec();
            let src = a.sources[0].clone();
            // One entry per `service_overrides` line: the service before the first comma,
            // then the attribute and its value (which may hold commas: `c,r`).
            for entry in &items {
                let at = within(self.sources, src.value_span, entry);
                let Some((pattern, setting)) = entry.split_once(',') else {
                    self.diags.push(
                        Diagnostic::new(
                            codes::INVALID_OVERRIDE,
                            format!("`service_overrides` entry `{entry}` has no attribute"),
                        )
                        .at(at)
                        .label("expected `description,attribute value`")
                        .help("write `service_overrides SERVICE,attribute value`"),
                    );
                    continue;
                };
                let pattern = pattern.trim();
                let Some((attr, value)) = setting.trim().split_once(char::is_whitespace) else {
                    self.diags.push(
                        Diagnostic::new(
                            codes::INVALID_OVERRIDE,
                            format!("`service_overrides` entry `{pattern},{setting}` has no value"),
                        )
                        .at(at)
                        .label("expected `description,attribute value`")
                        .help("write `service_overrides SERVICE,attribute value`"),
                    );
                    continue;
                };
                if FORBIDDEN.contains(&attr) {
                    self.diags.push(
                        Diagnostic::new(
                            codes::INVALID_OVERRIDE,
                            format!("`{attr}` cannot be overridden per host"),
                        )
                        .at(narrow(self.sources, at, attr))
                        .label("forbidden in service_overrides")
                        .help(format!(
                            "{} cannot be overridden; define a separate service instead",
                            FORBIDDEN.join(", ")
                        )),
                    );
                    continue;
                }
                let matcher = Pattern::new(pattern);
                let mut matched = false;
                let range = self.model.services_of(h as HostId);
                for s in &mut self.model.services[range.start as usize..range.end as usize] {
                    if matcher.matches(&s.description) {
                        matched = true;
                        let v = value.trim().to_string();
                        s.overrides.insert(
                            attr.to_string(),
                            RAttr {
                                value: Value::Str,
                                raw: v,
                                sources: vec![src.clone()],
                            },
                        );
                    }
                }
                if !matched {
                    let user = format!("host {}", self.model.host_names[h]);
                    let range = self.model.services_of(h as HostId);
                    let candidates: Vec<String> = self.model.services
                        [range.start as usize..range.end as usize]
                        .iter()
                        .map(|s| s.description.to_string())
                        .collect();
                    self.unknown(
                        codes::UNKNOWN_SERVICE,
                        "service",
                        "service_overrides",
                        &src,
                        pattern,
                        user,
                        candidates,
                    );
                }
            }
        }
    }

    /// The services that set `key` themselves (through their definition or an override);
    /// looked up once per definition, not once per service.
    fn services_with(&self, key: &str) -> Vec<usize> {
        let mut has: Vec<Option<bool>> = vec![None; self.res.objects.len()];
        (0..self.model.services.len())
            .filter(|&i| {
                let s = &self.model.services[i];
                s.overrides.contains_key(key)
                    || *has[s.def].get_or_insert_with(|| self.res.objects[s.def].get(key).is_some())
            })
            .collect()
    }

    fn servicegroups(&mut self) {
        let groups = self
            .model
            .named
            .get(&ObjectKind::Servicegroup)
            .cloned()
            .unwrap_or_default();
        let mut direct: BTreeMap<String, BTreeSet<ServiceId>> = groups
            .keys()
            .map(|g| (g.clone(), BTreeSet::new()))
            .collect();
        let mut nested: BTreeMap<String, Vec<(String, Source)>> = BTreeMap::new();
        for (g, &idx) in &groups {
            let o = &self.res.objects[idx];
            if let Some(a) = o.get("members") {
                let src = a.sources[0].clone();
                for pair in a.as_list().chunks(2) {
                    let [host, desc] = pair else {
                        self.diags.push(
                            Diagnostic::new(
                                codes::UNKNOWN_SERVICE,
                                format!("servicegroup `{g}` member `{}` names no service", pair[0]),
                            )
                            .at(src.value_span)
                            .label("members are host,service pairs")
                            .help("write `members host1,service1,host2,service2`"),
                        );
                        continue;
                    };
                    match self
                        .model
                        .host_by_name
                        .get(host.as_str())
                        .and_then(|&h| self.model.service_by_key(h, desc))
                    {
                        Some(s) => {
                            direct.get_mut(g).unwrap().insert(s);
                        }
                        None => {
                            let cands = Candidates::ServicePairs;
                            self.unknown(
                                codes::UNKNOWN_SERVICE,
                                "service",
                                "members",
                                &src,
                                &format!("{host},{desc}"),
                                format!("servicegroup {g}"),
                                cands,
                            );
                        }
                    }
                }
            }
            if let Some(a) = o.get("servicegroup_members") {
                let list = self.nested_groups(ObjectKind::Servicegroup, g, a, &groups);
                nested.insert(g.clone(), list);
            }
        }
        // Service definitions (services with their own `servicegroups` override are rare and
        // name groups that exist).
        let mut defs: Vec<usize> = self
            .services_with("servicegroups")
            .into_iter()
            .map(|s| self.model.services[s].def)
            .collect();
        defs.sort_unstable();
        defs.dedup();
        self.implicit_groups(ObjectKind::Servicegroup, "servicegroups", &defs, &mut direct);
        // The groups a definition names are the same for all its services: resolve them once
        // per definition (services with their own override are done one by one). Members are
        // gathered in service order, then added to each group in one go.
        let names: Vec<String> = direct.keys().cloned().collect();
        let mut members: Vec<Vec<ServiceId>> = vec![Vec::new(); names.len()];
        let mut per_def: Vec<Option<Vec<usize>>> = vec![None; self.res.objects.len()];
        for sid in self.services_with("servicegroups") {
            let s = &self.model.services[sid];
            let own = s.overrides.contains_key("servicegroups");
            if !own {
                if let Some(groups) = &per_def[s.def] {
                    for &g in groups {
                        members[g].push(sid as ServiceId);
                    }
                    continue;
                }
            }
            let Some(a) = self
                .model
                .service_attr(self.res, s, "servicegroups")
                .cloned()
            else {
                continue;
            };
            let (def, user) = (
                s.def,
                format!(
                    "service {}/{}",
                    self.model.host_names[s.host as usize], s.description
                ),
            );
            let mut known = Vec::new();
            for (g, src) in entries(self.sources, &a) {
                match names.binary_search_by(|n| n.as_str().cmp(g)) {
                    Ok(gi) => {
                        members[gi].push(sid as ServiceId);
                        known.push(gi);
                    }
                    Err(_) => {
                        self.unknown(
                            codes::UNKNOWN_SERVICEGROUP,
                            "servicegroup",
                            "servicegroups",
                            src,
                            g,
                            user.clone(),
                            ObjectKind::Servicegroup,
                        );
                    }
                }
            }
            if !own {
                per_def[def] = Some(known);
            }
        }
        for (gi, list) in members.into_iter().enumerate() {
            if !list.is_empty() {
                direct.get_mut(&names[gi]).unwrap().extend(list);
            }
        }
        self.model.servicegroups =
            self.close_groups("servicegroup", "servicegroup_members", direct, &nested);
    }

    fn contactgroups(&mut self) {
        let groups = self
            .model
            .named
            .get(&ObjectKind::Contactgroup)
            .cloned()
            .unwrap_or_default();
        let contacts = self.names_of(ObjectKind::Contact);
        let mut direct: BTreeMap<String, BTreeSet<String>> = groups
            .keys()
            .map(|g| (g.clone(), BTreeSet::new()))
            .collect();
        let mut nested: BTreeMap<String, Vec<(String, Source)>> = BTreeMap::new();
        for (g, &idx) in &groups {
            let o = &self.res.objects[idx];
            if let Some(a) = o.get("members") {
                for (m, src) in entries(self.sources, a) {
                    if m == "*" {
                        direct.get_mut(g).unwrap().extend(contacts.iter().cloned());
                    } else if self.exists(ObjectKind::Contact, m) {
                        direct.get_mut(g).unwrap().insert(m.to_string());
                    } else {
                        self.unknown(
                            codes::UNKNOWN_CONTACT,
                            "contact",
                            "members",
                            src,
                            m,
                            format!("contactgroup {g}"),
                            ObjectKind::Contact,
                        );
                    }
                }
            }
            if let Some(a) = o.get("contactgroup_members") {
                let list = self.nested_groups(ObjectKind::Contactgroup, g, a, &groups);
                nested.insert(g.clone(), list);
            }
        }
        let contact_objs: Vec<usize> = self
            .model
            .named
            .get(&ObjectKind::Contact)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default();
        self.implicit_groups(
            ObjectKind::Contactgroup,
            "contactgroups",
            &contact_objs,
            &mut direct,
        );
        for idx in contact_objs {
            let o = &self.res.objects[idx];
            let name = o.name().unwrap_or("").to_string();
            if let Some(a) = o.get("contactgroups") {
                for (g, src) in entries(self.sources, a) {
                    match direct.get_mut(g) {
                        Some(set) => {
                            set.insert(name.clone());
                        }
                        None => self.unknown(
                            codes::UNKNOWN_CONTACTGROUP,
                            "contactgroup",
                            "contactgroups",
                            src,
                            g,
                            format!("contact {name}"),
                            ObjectKind::Contactgroup,
                        ),
                    }
                }
            }
        }
        self.model.contactgroups =
            self.close_groups("contactgroup", "contactgroup_members", direct, &nested);
    }

    fn lookup_service(
        &mut self,
        host: HostId,
        desc: &str,
        attr: &str,
        src: Option<&Source>,
        user: &ResolvedObject,
    ) -> Option<ServiceId> {
        let who = self.display(user);
        self.lookup_service_for(host, desc, attr, src, &who)
    }

    /// [`Self::lookup_service`] for a user named by `who`.
    fn lookup_service_for(
        &mut self,
        host: HostId,
        desc: &str,
        attr: &str,
        src: Option<&Source>,
        who: &str,
    ) -> Option<ServiceId> {
        let found = self.model.service_by_key(host, desc);
        if found.is_none() {
            if let Some(src) = src {
                let host_name = self.model.host_names[host as usize].clone();
                let range = self.model.services_of(host);
                let cands: Vec<String> = self.model.services
                    [range.start as usize..range.end as usize]
                    .iter()
                    .map(|s| s.description.to_string())
                    .collect();
                let who = format!("{who} (host {host_name})");
                self.unknown(
                    codes::UNKNOWN_SERVICE,
                    "service",
                    attr,
                    src,
                    desc,
                    who,
                    cands,
                );
            }
        }
        found
    }

    fn escalations(&mut self) {
        let mut hosts_esc = BTreeSet::new();
        let defs: Vec<&'a ResolvedObject> = self.res.of_kind(ObjectKind::Hostescalation).collect();
        for d in defs {
            for h in self.select(d, "host_name", "hostgroup_name").0 {
                hosts_esc.insert((h, d.id));
            }
        }
        let mut svc_esc = BTreeSet::new();
        let defs: Vec<&'a ResolvedObject> =
            self.res.of_kind(ObjectKind::Serviceescalation).collect();
        for d in defs {
            let descs = d.list("service_description").to_vec();
            let src = d.get("service_description").map(|a| a.sources[0].clone());
            for h in self.select(d, "host_name", "hostgroup_name").0 {
                for desc in &descs {
                    let found = if desc == "*" {
                        self.model.services_of(h).collect()
                    } else {
                        self.lookup_service(h, desc, "service_description", src.as_ref(), d)
                            .into_iter()
                            .collect::<Vec<_>>()
                    };
                    for s in found {
                        svc_esc.insert((s, d.id));
                    }
                }
            }
            // H2: Nagios escalates every service of the groups `servicegroup_name` names;
            // Shinken and Alignak do not know the attribute.
            let Some(a) = d.get("servicegroup_name").filter(|_| self.sem.servicegroup_escalations)
            else {
                continue;
            };
            for (g, src) in entries(self.sources, a) {
                match self.model.servicegroups.get(g) {
                    Some(members) => svc_esc.extend(members.iter().map(|&s| (s, d.id))),
                    None => {
                        let who = self.display(d);
                        self.unknown(
                            codes::UNKNOWN_SERVICEGROUP,
                            "servicegroup",
                            "servicegroup_name",
                            src,
                            g,
                            who,
                            ObjectKind::Servicegroup,
                        );
                    }
                }
            }
        }
        self.model.host_escalations = hosts_esc.into_iter().collect();
        self.model.service_escalations = svc_esc.into_iter().collect();
    }

    /// Every attribute that names another object must name one that exists.
    fn references(&mut self) {
        use ObjectKind as K;
        const COMMAND: (K, &str, Code) = (K::Command, "command", codes::UNKNOWN_COMMAND);
        const PERIOD: (K, &str, Code) = (K::Timeperiod, "timeperiod", codes::UNKNOWN_TIMEPERIOD);
        const CONTACT: (K, &str, Code) = (K::Contact, "contact", codes::UNKNOWN_CONTACT);
        const CGROUP: (K, &str, Code) =
            (K::Contactgroup, "contactgroup", codes::UNKNOWN_CONTACTGROUP);
        const ESC: (K, &str, Code) = (K::Escalation, "escalation", codes::UNKNOWN_ESCALATION);
        const REALM: (K, &str, Code) = (K::Realm, "realm", codes::UNKNOWN_REALM);
        const NWAY: (K, &str, Code) = (
            K::Notificationway,
            "notificationway",
            codes::UNKNOWN_NOTIFICATIONWAY,
        );
        const MODULE: (K, &str, Code) = (K::Module, "module", codes::UNKNOWN_MODULE);
        let common: &[(&str, (K, &str, Code))] = &[
            ("check_command", COMMAND),
            ("event_handler", COMMAND),
            ("check_period", PERIOD),
            ("notification_period", PERIOD),
            ("maintenance_period", PERIOD),
            ("contacts", CONTACT),
            ("contact_groups", CGROUP),
            ("escalations", ESC),
        ];
        let per_kind = |kind: K| -> Vec<(&'static str, (K, &'static str, Code))> {
            match kind {
                K::Host => [common, &[("realm", REALM)]].concat(),
                K::Service => common.to_vec(),
                K::Contact | K::Notificationway => vec![
                    ("host_notification_commands", COMMAND),
                    ("service_notification_commands", COMMAND),
                    ("host_notification_period", PERIOD),
                    ("service_notification_period", PERIOD),
                    ("notificationways", NWAY),
                ],
                K::Hostgroup => vec![("realm", REALM)],
                K::Timeperiod => vec![("exclude", PERIOD)],
                K::Hostescalation | K::Serviceescalation | K::Escalation => {
                    vec![
                        ("contacts", CONTACT),
                        ("contact_groups", CGROUP),
                        ("escalation_period", PERIOD),
                    ]
                }
                K::Hostdependency | K::Servicedependency => vec![("dependency_period", PERIOD)],
                K::Realm => vec![("realm_members", REALM), ("higher_realms", REALM)],
                K::Scheduler
                | K::Poller
                | K::Reactionner
                | K::Broker
                | K::Receiver
                | K::Arbiter => {
                    vec![("realm", REALM), ("modules", MODULE)]
                }
                _ => Vec::new(),
            }
        };
        // A value inherited from a template is one `Arc` shared by every object that uses
        // it: check each distinct value once, remembering how many objects it affects.
        let mut groups: Vec<Check> = Vec::new();
        let mut index: HashMap<(usize, &'static str), usize> = HashMap::new();
        let mut add =
            |a: &Arc<RAttr>, attr: &'static str, target, who: &dyn Fn() -> String, n: usize| {
                let key = (Arc::as_ptr(a) as usize, attr);
                let i = *index.entry(key).or_insert_with(|| {
                    groups.push(Check {
                        attr,
                        value: a.clone(),
                        target,
                        count: 0,
                        users: Vec::new(),
                    });
                    groups.len() - 1
                });
                let g = &mut groups[i];
                g.count += n;
                if g.users.len() < 5 {
                    g.users.push(who());
                }
            };
        let mut kinds: HashMap<K, Vec<(&'static str, Target)>> = HashMap::new();
        for o in self.res.objects.iter().filter(|o| o.register) {
            if o.kind == K::Service {
                continue; // checked per service definition below
            }
            for &(attr, target) in kinds
                .entry(o.kind)
                .or_insert_with(|| per_kind(o.kind))
                .iter()
            {
                if let Some(a) = o.get_shared(attr) {
                    add(a, attr, target, &|| self.display(o), 1);
                }
            }
        }
        // Services: once per definition that made services (values a service takes from its
        // host are checked on the host), and per service for its own overrides.
        let service_kind = per_kind(K::Service);
        let mut used_defs: BTreeMap<usize, usize> = BTreeMap::new();
        for s in &self.model.services {
            *used_defs.entry(s.def).or_default() += 1;
            for (attr, target) in &service_kind {
                if let Some(a) = s.overrides.get(*attr) {
                    let who = || {
                        format!(
                            "service {}/{}",
                            self.model.host_names[s.host as usize], s.description
                        )
                    };
                    add(&Arc::new(a.clone()), attr, *target, &who, 1);
                }
            }
        }
        for (def, n) in used_defs {
            let o = &self.res.objects[def];
            for (attr, target) in &service_kind {
                if let Some(a) = o.get_shared(attr) {
                    let who = || {
                        format!(
                            "{} ({n} service{})",
                            self.display(o),
                            if n == 1 { "" } else { "s" }
                        )
                    };
                    add(a, attr, *target, &who, n);
                }
            }
        }
        for g in groups {
            let (kind, what, code) = g.target;
            let a = &g.value;
            let names: Vec<(String, Src)> = match g.attr {
                "check_command" | "event_handler" => {
                    let name = a.raw.split('!').next().unwrap_or("").trim();
                    if self.sem.ghost_commands && GHOST_COMMANDS.contains(&name) {
                        continue;
                    }
                    vec![(
                        name.to_string(),
                        Src {
                            sources: self.sources,
                            attr: a,
                            entry: name,
                        },
                    )]
                }
                _ => match &a.value {
                    // A notification command may carry arguments (`notify-by-x!arg`): the
                    // command is the part before the first `!`, as every engine reads it.
                    Value::List(_) if kind == K::Command => entries(self.sources, a)
                        .map(|(n, s)| (n.split('!').next().unwrap_or("").trim().to_string(), s))
                        .collect(),
                    Value::List(_) => entries(self.sources, a)
                        .map(|(n, s)| (n.to_string(), s))
                        .collect(),
                    _ => vec![(
                        a.raw.trim().to_string(),
                        Src {
                            sources: self.sources,
                            attr: a,
                            entry: a.raw.trim(),
                        },
                    )],
                },
            };
            for (name, src) in names {
                if name.is_empty() || self.exists(kind, &name) {
                    continue;
                }
                // Without any realm definition, Shinken's and Alignak's implicit default realm
                // names are accepted.
                if kind == K::Realm
                    && self.names_of(K::Realm).is_empty()
                    && matches!(name.as_str(), "All" | "Default")
                {
                    continue;
                }
                let extra = g.count.saturating_sub(g.users.len());
                for who in &g.users {
                    self.unknown(code, what, g.attr, src, &name, who.clone(), kind);
                }
                if let Some(u) = self.unknown.get_mut(&(
                    narrow(self.sources, src.get().value_span, &name),
                    name.clone(),
                )) {
                    u.count += extra;
                }
            }
        }
        // The main configuration's global event handlers (Nagios and Alignak refuse an
        // undefined one; the ocsp/ochp and perfdata commands are not checked by Alignak).
        for key in ["global_host_event_handler", "global_service_event_handler"] {
            let Some(p) = self.ir.main.params.iter().rev().find(|p| p.key == key) else {
                continue;
            };
            let name = p.value.split('!').next().unwrap_or("").trim();
            if name.is_empty() || self.exists(K::Command, name) {
                continue;
            }
            let src = Source {
                object: usize::MAX,
                key_span: p.span,
                value_span: p.span,
            };
            let name = name.to_string();
            self.unknown(
                codes::UNKNOWN_COMMAND,
                "command",
                key,
                &src,
                &name,
                "the main configuration".into(),
                K::Command,
            );
        }
    }
}

/// Whether a check command is a business rule.
fn is_business_rule(command: &str) -> bool {
    command.trim_start().starts_with("bp_rule!")
}

/// A business rule's operand, evaluated.
enum Selected {
    Hosts(Vec<HostId>),
    Services(Vec<ServiceId>),
}

impl<'a> Expander<'a> {
    /// Business rules (`bp_rule!…` check commands of hosts and services): every operand must
    /// name something that exists (hosts E0050, services E0057, groups E0051/E0058) and every
    /// pattern must match something (E0071), as Alignak requires; the hosts a rule reads are
    /// kept for placement (they go in one pack).
    fn business_rules(&mut self) {
        let mut ties: BTreeMap<HostId, BTreeSet<HostId>> = BTreeMap::new();
        let mut reported: BTreeSet<(Span, String)> = BTreeSet::new();
        let mut rules: Vec<(HostId, Arc<RAttr>, String)> = Vec::new();
        for h in 0..self.model.hosts.len() {
            let host = self.model.host(self.res, h as HostId);
            if let Some(a) = host.get_shared("check_command") {
                if is_business_rule(&a.raw) {
                    rules.push((
                        h as HostId,
                        a.clone(),
                        format!("host {}", self.model.host_names[h]),
                    ));
                }
            }
        }
        let mut is_bp: Vec<Option<bool>> = vec![None; self.res.objects.len()];
        for s in &self.model.services {
            let own = s.overrides.get("check_command");
            let bp = own.is_some_and(|a| is_business_rule(&a.raw))
                || (own.is_none()
                    && *is_bp[s.def].get_or_insert_with(|| {
                        self.res.objects[s.def]
                            .get_str("check_command")
                            .is_some_and(|c| is_business_rule(c))
                    }));
            if !bp {
                continue;
            }
            let a = match own {
                Some(a) => Arc::new(a.clone()),
                None => match self.res.objects[s.def].get_shared("check_command") {
                    Some(a) => a.clone(),
                    None => continue,
                },
            };
            let who = format!(
                "service {}/{}",
                self.model.host_names[s.host as usize], s.description
            );
            rules.push((s.host, a, who));
        }
        if rules.is_empty() {
            return;
        }
        let mut found: HashMap<String, Arc<Vec<HostId>>> = HashMap::new();
        let mut seen: HashSet<(HostId, String, Span)> = HashSet::new();
        for (i, o) in self.ir.objects.iter().enumerate() {
            if let Some(n) = o.template_name() {
                self.templates.entry((o.kind, n.to_string())).or_insert(i);
            }
        }
        for (owner, attr, who) in rules {
            let Some(rule) = attr.raw.trim().strip_prefix("bp_rule!") else {
                continue;
            };
            let src = attr.sources[0].clone();
            let operands = match crate::bprule::parse(rule) {
                Ok(ops) => ops,
                Err(e) => {
                    let span = within(self.sources, src.value_span, e.at);
                    if reported.insert((span, e.message.clone())) {
                        self.diags.push(
                            Diagnostic::new(
                                codes::INVALID_BUSINESS_RULE,
                                format!("business rule of {who}: {}", e.message),
                            )
                            .at(span)
                            .label("cannot be read")
                            .help("write e.g. `bp_rule!(web1,HTTP | web2,HTTP) & db1,MySQL` or `bp_rule!2 of: g:web,HTTP`"),
                        );
                    }
                    continue;
                }
            };
            for op in operands {
                if crate::bprule::has_macro(op.text) {
                    continue; // macros are resolved at run time
                }
                let at = Source {
                    object: src.object,
                    key_span: src.key_span,
                    value_span: within(self.sources, src.value_span, op.text),
                };
                // The same operand at the same place for the same host: done already.
                if !seen.insert((owner, op.text.to_string(), at.value_span)) {
                    continue;
                }
                // What an operand with a host part selects is the same for every rule that
                // names it (found once; a mistake is looked up again so each place reports it).
                let memo = !op.host.is_empty();
                let hosts: Arc<Vec<HostId>> = match found.get(op.text).filter(|_| memo) {
                    Some(h) => h.clone(),
                    None => {
                        let selected = self.operand(owner, &op, &at, &who, &mut reported);
                        let mut hosts: Vec<HostId> = match selected {
                            Some(Selected::Hosts(h)) => h,
                            Some(Selected::Services(s)) => s
                                .iter()
                                .map(|&s| self.model.services[s as usize].host)
                                .collect(),
                            None => continue,
                        };
                        hosts.dedup();
                        let hosts = Arc::new(hosts);
                        if memo {
                            found.insert(op.text.to_string(), hosts.clone());
                        }
                        hosts
                    }
                };
                ties.entry(owner)
                    .or_default()
                    .extend(hosts.iter().copied().filter(|&h| h != owner));
            }
        }
        self.model.business_rules = ties
            .into_iter()
            .map(|(h, set)| (h, set.into_iter().collect()))
            .collect();
    }

    /// `trigger_name` on hosts and services names a `NAME.trig` file below the main
    /// configuration's `triggers_dir` (searched recursively, as Shinken loads them).
    fn triggers(&mut self) {
        let mut users: Vec<(Arc<RAttr>, String)> = Vec::new();
        for h in 0..self.model.hosts.len() {
            if let Some(a) = self
                .model
                .host(self.res, h as HostId)
                .get_shared("trigger_name")
            {
                users.push((a.clone(), format!("host {}", self.model.host_names[h])));
            }
        }
        // Per service definition, not per service.
        let mut done = vec![false; self.res.objects.len()];
        for s in &self.model.services {
            if std::mem::replace(&mut done[s.def], true) {
                continue;
            }
            let o = &self.res.objects[s.def];
            if let Some(a) = o.get_shared("trigger_name") {
                users.push((a.clone(), self.display(o)));
            }
        }
        if users.is_empty() {
            return;
        }
        let mut known: BTreeSet<String> = BTreeSet::new();
        if let Some(p) = self
            .ir
            .main
            .params
            .iter()
            .rev()
            .find(|p| p.key == "triggers_dir")
        {
            let base = self
                .sources
                .path(p.span.file)
                .parent()
                .map(Path::to_path_buf);
            let dir = base.unwrap_or_default().join(p.value.trim());
            let mut stack = vec![(dir, 0)];
            while let Some((d, depth)) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    let path = e.path();
                    if path.is_dir() && depth < 32 {
                        stack.push((path, depth + 1));
                    } else if path.extension().is_some_and(|x| x == "trig") {
                        if let Some(stem) = path.file_stem() {
                            known.insert(stem.to_string_lossy().into_owned());
                        }
                    }
                }
            }
        }
        let candidates: Vec<String> = known.iter().cloned().collect();
        for (a, who) in users {
            for (name, src) in entries(self.sources, &a) {
                if !name.is_empty() && !known.contains(name) {
                    let name = name.to_string();
                    let src = src.get().clone();
                    self.unknown(
                        codes::UNKNOWN_TRIGGER,
                        "trigger",
                        "trigger_name",
                        &src,
                        &name,
                        who.clone(),
                        candidates.clone(),
                    );
                }
            }
        }
    }

    /// Whether `o` carries the tag `t` of a `t:` pattern: the name of a template it uses,
    /// directly or not, defined or not (Shinken and Alignak use undefined template names in
    /// `use` as plain tags).
    fn tagged(&self, o: &ResolvedObject, t: &str) -> bool {
        o.templates.iter().any(|x| x == t)
            || self.ir.objects[o.id].uses().iter().any(|x| x == t)
            || o.templates.iter().any(|name| {
                self.templates
                    .get(&(o.kind, name.clone()))
                    .is_some_and(|&i| self.ir.objects[i].uses().iter().any(|u| u == t))
            })
    }

    /// What one operand selects; `None` (with a diagnostic) when it names nothing.
    fn operand(
        &mut self,
        owner: HostId,
        op: &crate::bprule::Operand,
        at: &Source,
        who: &str,
        reported: &mut BTreeSet<(Span, String)>,
    ) -> Option<Selected> {
        let empty = |x: &mut Self, reported: &mut BTreeSet<(Span, String)>, why: String| {
            if reported.insert((at.value_span, why.clone())) {
                x.diags.push(
                    Diagnostic::new(
                        codes::INVALID_BUSINESS_RULE,
                        format!("business rule of {who}: `{}` {why}", op.text),
                    )
                    .at(at.value_span)
                    .label(why.clone())
                    .help("a business rule must read existing hosts and services; fix the name or pattern"),
                );
            }
        };
        let regex = |x: &mut Self, reported: &mut BTreeSet<(Span, String)>, re: &str| {
            let compiled = x
                .regexes
                .entry(re.to_string())
                .or_insert_with(|| {
                    regex::Regex::new(re).map(Arc::new).map_err(|e| {
                        let e = e.to_string();
                        e.lines().last().unwrap_or("").trim().to_string()
                    })
                })
                .clone();
            match compiled {
                Ok(r) => Some(r),
                Err(e) => {
                    empty(x, reported, format!("is not a valid regex ({e})"));
                    None
                }
            }
        };
        let expression = |p: &str| p == "*" || p.get(1..2) == Some(":") && "grtl".contains(&p[..1]);
        // The hosts.
        let host_part = op.host;
        let hosts: Vec<HostId> = if host_part.is_empty() {
            vec![owner]
        } else if host_part == "*" {
            (0..self.model.hosts.len() as HostId).collect()
        } else if let Some(g) = host_part.strip_prefix("g:") {
            match self.model.hostgroups.get(g) {
                Some(m) => m.iter().copied().collect(),
                None => {
                    self.unknown(
                        codes::UNKNOWN_HOSTGROUP,
                        "hostgroup",
                        "check_command",
                        at,
                        g,
                        who.to_string(),
                        ObjectKind::Hostgroup,
                    );
                    return None;
                }
            }
        } else if let Some(re) = host_part.strip_prefix("r:") {
            let r = regex(self, reported, re)?;
            (0..self.model.hosts.len())
                .filter(|&h| r.is_match(&self.model.host_names[h]))
                .map(|h| h as HostId)
                .collect()
        } else if let Some(t) = host_part.strip_prefix("t:") {
            (0..self.model.hosts.len() as HostId)
                .filter(|&h| self.tagged(self.model.host(self.res, h), t))
                .collect()
        } else if let Some(l) = host_part.strip_prefix("l:") {
            (0..self.model.hosts.len() as HostId)
                .filter(|&h| {
                    self.model
                        .host(self.res, h)
                        .list("labels")
                        .iter()
                        .any(|x| x == l)
                })
                .collect()
        } else {
            match self.model.host_by_name.get(host_part) {
                Some(&h) => vec![h],
                None => {
                    self.unknown(
                        codes::UNKNOWN_HOST,
                        "host",
                        "check_command",
                        at,
                        host_part,
                        who.to_string(),
                        ObjectKind::Host,
                    );
                    return None;
                }
            }
        };
        if hosts.is_empty() {
            empty(self, reported, "matches no host".into());
            return None;
        }
        let Some(service_part) = op.service else {
            return Some(Selected::Hosts(hosts));
        };
        if !expression(host_part) && !expression(service_part) {
            return self
                .lookup_service_for(hosts[0], service_part, "check_command", Some(at), who)
                .map(|s| Selected::Services(vec![s]));
        }
        // The services of those hosts that the service part selects.
        if let Some(g) = service_part.strip_prefix("g:") {
            if !self.model.servicegroups.contains_key(g) {
                self.unknown(
                    codes::UNKNOWN_SERVICEGROUP,
                    "servicegroup",
                    "check_command",
                    at,
                    g,
                    who.to_string(),
                    ObjectKind::Servicegroup,
                );
                return None;
            }
        }
        let re = match service_part.strip_prefix("r:") {
            Some(re) => Some(regex(self, reported, re)?),
            None => None,
        };
        let in_group = service_part
            .strip_prefix("g:")
            .map(|g| &self.model.servicegroups[g]);
        let mut found = Vec::new();
        for &h in &hosts {
            for s in self.model.services_of(h) {
                let svc = &self.model.services[s as usize];
                let ok = if service_part == "*" {
                    true
                } else if let Some(g) = in_group {
                    g.contains(&s)
                } else if let Some(r) = &re {
                    r.is_match(&svc.description)
                } else if let Some(t) = service_part.strip_prefix("t:") {
                    self.tagged(&self.res.objects[svc.def], t)
                } else if let Some(l) = service_part.strip_prefix("l:") {
                    self.model
                        .service_attr(self.res, svc, "labels")
                        .is_some_and(|a| a.as_list().iter().any(|x| x == l))
                } else {
                    *svc.description == *service_part
                };
                if ok {
                    found.push(s);
                }
            }
        }
        if found.is_empty() {
            empty(self, reported, "matches no service".into());
            return None;
        }
        Some(Selected::Services(found))
    }
}

/// What a reference names: the kind of object, its word in messages, the code when unknown.
type Target = (ObjectKind, &'static str, Code);

/// One distinct value to check, with how many objects have it.
struct Check {
    attr: &'static str,
    value: Arc<RAttr>,
    target: Target,
    count: usize,
    /// The first few objects, for the message.
    users: Vec<String>,
}

/// The entries of a list attribute with the definition each came from. A list merged from
/// several `+` definitions keeps one source per definition; each entry goes with the last
/// definition whose text names it.
fn entries<'r>(sources: &'r SourceMap, a: &'r RAttr) -> impl Iterator<Item = (&'r str, Src<'r>)> {
    a.as_list().iter().map(move |e| {
        (
            e.as_str(),
            Src {
                sources,
                attr: a,
                entry: e,
            },
        )
    })
}

/// A definition's place, known or found on demand.
trait SourceRef {
    fn source(&self) -> &Source;
}

impl SourceRef for &Source {
    fn source(&self) -> &Source {
        self
    }
}

impl SourceRef for Src<'_> {
    fn source(&self) -> &Source {
        self.get()
    }
}

/// The definition one list entry came from, found only when a diagnostic needs it: a list
/// merged from several `+` definitions keeps one source per definition, and an entry goes
/// with the last definition whose text names it.
#[derive(Clone, Copy)]
struct Src<'r> {
    sources: &'r SourceMap,
    attr: &'r RAttr,
    entry: &'r str,
}

impl<'r> Src<'r> {
    fn get(&self) -> &'r Source {
        let a = self.attr;
        if a.sources.len() == 1 {
            return &a.sources[0];
        }
        a.sources
            .iter()
            .rev()
            .find(|src| {
                narrow(self.sources, src.value_span, self.entry) != src.value_span
                    || self.sources.text(src.value_span) == self.entry
            })
            .unwrap_or(&a.sources[0])
    }
}

/// Narrows `span` (a value) to the first whole occurrence of `name` in it.
/// The first occurrence of `text` inside `span`, or `span`.
fn within(sources: &SourceMap, span: Span, text: &str) -> Span {
    match sources.text(span).find(text) {
        Some(i) => Span {
            file: span.file,
            start: span.start + i as u32,
            end: span.start + (i + text.len()) as u32,
        },
        None => span,
    }
}

fn narrow(sources: &SourceMap, span: Span, name: &str) -> Span {
    if name.is_empty() {
        return span;
    }
    let text = sources.text(span);
    let is_sep = |c: Option<char>| {
        c.is_none_or(|c| matches!(c, ',' | '|' | '&' | '!' | '(' | ')' | ' ' | '\t' | '+'))
    };
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let start = from + i;
        let end = start + name.len();
        if is_sep(text[..start].chars().next_back()) && is_sep(text[end..].chars().next()) {
            return Span {
                file: span.file,
                start: span.start + start as u32,
                end: span.start + end as u32,
            };
        }
        from = end;
    }
    span
}

/// Elementary cycles worth reporting, one per strongly connected component: the walk from
/// the smallest node along the first edge that stays in the component. Deterministic.
pub(crate) fn cycles<N: Ord + Copy, I: IntoIterator<Item = N>>(
    nodes: impl Iterator<Item = N>,
    edges: impl Fn(N) -> I,
) -> Vec<Vec<N>> {
    // Only nodes with edges can be on a cycle: a million services without dependencies cost
    // one call each here. Nodes are numbered densely by sorting, so the graph needs no hashing.
    let mut pairs: Vec<(N, N)> = Vec::new();
    for n in nodes {
        pairs.extend(edges(n).into_iter().map(|m| (n, m)));
    }
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut ids: Vec<N> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.sort();
    ids.dedup();
    let id = |n: N| ids.binary_search(&n).unwrap() as u32;
    let g: petgraph::Graph<(), (), petgraph::Directed, u32> =
        petgraph::Graph::from_edges(pairs.iter().map(|&(a, b)| (id(a), id(b))));
    let mut out = Vec::new();
    // Kosaraju's algorithm in petgraph is iterative: a 100k-host parent loop must not
    // overflow the stack.
    for scc in petgraph::algo::kosaraju_scc(&g) {
        let mut members: Vec<u32> = scc.iter().map(|n| n.index() as u32).collect();
        members.sort();
        let start = members[0];
        let self_loop = g.contains_edge(start.into(), start.into());
        if members.len() == 1 && !self_loop {
            continue;
        }
        let mut path = vec![start];
        let mut on_path = std::collections::HashSet::from([start]);
        let mut cur = start;
        loop {
            let mut next: Vec<u32> = g
                .neighbors(cur.into())
                .map(|n| n.index() as u32)
                .filter(|m| members.binary_search(m).is_ok())
                .collect();
            next.sort();
            // Prefer closing the loop, else the smallest unvisited member.
            let n = if next.contains(&start) {
                start
            } else {
                *next.iter().find(|m| !on_path.contains(m)).unwrap_or(&start)
            };
            on_path.insert(n);
            path.push(n);
            if n == start {
                break;
            }
            cur = n;
        }
        out.push(
            path.into_iter()
                .map(|i| ids[i as usize])
                .collect::<Vec<N>>(),
        );
    }
    out.sort();
    out
}

/// A cycle as text, shortened when long: a 100,000-host loop names its first and last hops.
pub(crate) fn join_cycle(names: &[String], sep: &str) -> String {
    if names.len() <= 12 {
        return names.join(sep);
    }
    format!(
        "{}{sep}… {} more …{sep}{}",
        names[..8].join(sep),
        names.len() - 10,
        names[names.len() - 2..].join(sep)
    )
}

/// `duplicate_foreach` entries: `KEY` or `KEY$(V1)$$(V2)$`, with `name[1-3]` ranges.
fn foreach_entries(raw: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (key, rest) = match entry.find("$(") {
            Some(i) => (entry[..i].trim(), &entry[i..]),
            None => (entry, ""),
        };
        let values: Vec<String> = rest
            .split("$(")
            .filter_map(|v| v.strip_suffix(")$").or_else(|| v.strip_suffix(")$ ")))
            .map(str::to_string)
            .collect();
        for k in expand_range(key) {
            out.push((k, values.clone()));
        }
    }
    out
}

/// `disk[1-3]` → disk1, disk2, disk3 (`[01-03]` keeps the padding).
fn expand_range(key: &str) -> Vec<String> {
    let parsed = key.find('[').and_then(|open| {
        let close = key[open..].find(']')? + open;
        let (a, b) = key[open + 1..close].split_once('-')?;
        let (x, y) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?);
        (x <= y && y - x < 100_000).then_some((open, close, x, y, a.len()))
    });
    match parsed {
        Some((open, close, x, y, width)) => (x..=y)
            .map(|i| {
                format!(
                    "{}{:0width$}{}",
                    &key[..open],
                    i,
                    &key[close + 1..],
                    width = width
                )
            })
            .collect(),
        None => vec![key.to_string()],
    }
}

/// A service-name pattern of `service_excludes`, `service_includes` and `service_overrides`:
/// `*`, `r:regex`, or an exact name.
enum Pattern {
    Any,
    Regex(regex::Regex),
    Exact(String),
}

impl Pattern {
    fn new(p: &str) -> Pattern {
        let p = p.trim();
        if p == "*" {
            Pattern::Any
        } else if let Some(r) = p.strip_prefix("r:") {
            match regex::Regex::new(&format!("^(?:{r})")) {
                Ok(re) => Pattern::Regex(re),
                Err(_) => Pattern::Exact(p.to_string()),
            }
        } else {
            Pattern::Exact(p.to_string())
        }
    }

    fn matches(&self, desc: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Regex(re) => re.is_match(desc),
            Pattern::Exact(e) => e == desc,
        }
    }
}

/// Whether the host's `service_excludes` / `service_includes` drop this service.
fn excluded(host: &ResolvedObject, desc: &str) -> bool {
    let excl = host.list("service_excludes");
    if excl.iter().any(|p| Pattern::new(p).matches(desc)) {
        return true;
    }
    let incl = host.list("service_includes");
    !incl.is_empty() && !incl.iter().any(|p| Pattern::new(p).matches(desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreach_entries_and_ranges() {
        assert_eq!(
            foreach_entries("C$(80%)$$(90%)$,D, disk[1-3]"),
            vec![
                ("C".to_string(), vec!["80%".to_string(), "90%".to_string()]),
                ("D".to_string(), vec![]),
                ("disk1".to_string(), vec![]),
                ("disk2".to_string(), vec![]),
                ("disk3".to_string(), vec![]),
            ]
        );
        assert_eq!(expand_range("sw[08-10]"), ["sw08", "sw09", "sw10"]);
    }

    #[test]
    fn cycles_are_reported_once_each_from_their_smallest_node() {
        let edges = |n: u32| match n {
            1 => vec![2],
            2 => vec![3],
            3 => vec![1],
            4 => vec![4],
            5 => vec![1],
            _ => vec![],
        };
        assert_eq!(cycles(1..=6, edges), vec![vec![1, 2, 3, 1], vec![4, 4]]);
    }

    #[test]
    fn patterns() {
        assert!(Pattern::new("*").matches("x"));
        assert!(Pattern::new("r:HTTP.*").matches("HTTPS"));
        assert!(!Pattern::new("r:HTTP").matches("XHTTP"));
        assert!(Pattern::new("SSH").matches("SSH"));
    }
}
