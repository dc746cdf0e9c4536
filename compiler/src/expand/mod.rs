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

mod business;
mod dependencies;
mod groups;
mod implicit;
mod notify;
mod references;
mod select;
mod services;

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
    /// Real hosts (resolved object indices), sorted by host name. The host lists are shared
    /// (`Arc`) so that passes read them beside others.
    pub hosts: Arc<Vec<usize>>,
    pub host_names: Arc<Vec<String>>,
    pub host_by_name: Arc<HashMap<String, HostId>>,
    /// Parents of each host.
    pub parents: Vec<Vec<HostId>>,
    /// Every hostgroup with all its hosts (nested groups included).
    pub hostgroups: BTreeMap<String, BTreeSet<HostId>>,
    /// Sorted by (host name, description). Shared, so that passes read it beside others
    /// once it is complete.
    pub services: Arc<Vec<Service>>,
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
            hosts: Arc::new(Vec::new()),
            host_names: Arc::new(Vec::new()),
            host_by_name: Arc::new(HashMap::new()),
            parents: Vec::new(),
            hostgroups: BTreeMap::new(),
            services: Arc::new(Vec::new()),
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
        let def = &res.objects[s.def];
        if def.is_nulled(key) {
            // D4, D5: `null` counts as set (Nagios).
            return None;
        }
        if self.sem.implied_contacts_as_pair && matches!(key, "contacts" | "contact_groups") {
            let own =
                |k: &str| s.overrides.contains_key(k) || def.get(k).is_some() || def.is_nulled(k);
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
        from_hostgroups: HashSet::new(),
    };
    x.named();
    x.hosts();
    // Parents are read on the second core meanwhile: they need only the hosts.
    let (hosts, by_name) = (x.model.hosts.clone(), x.model.host_by_name.clone());
    let (parents, ()) = rayon::join(
        || host_parents(res, sources, sem, &hosts, &by_name),
        || {
            x.hostgroups();
            x.services();
        },
    );
    x.parents(parents);
    x.servicegroups();
    x.contactgroups();
    // The values that name other objects are gathered on the second core meanwhile: that
    // reads only the resolved objects and the services, which are complete now.
    let services = x.model.services.clone();
    let (checks, ()) = rayon::join(
        || references::reference_checks(ir, res, &services),
        || {
            x.host_dependencies();
            x.service_dependencies();
            x.escalations();
            x.extinfos();
            x.business_rules();
        },
    );
    x.references(checks);
    x.triggers();
    x.unnotified();
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
    /// E4: service definitions that select several hosts through `hostgroup_name` (Nagios
    /// prefers the other definitions of the same service).
    from_hostgroups: HashSet<usize>,
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
        let mut by_name = HashMap::with_capacity(hosts.len());
        let mut names = Vec::with_capacity(hosts.len());
        let mut objects = Vec::with_capacity(hosts.len());
        for (i, (name, idx)) in hosts.into_iter().enumerate() {
            by_name.insert(name.clone(), i as HostId);
            names.push(name);
            objects.push(idx);
        }
        self.model.host_by_name = Arc::new(by_name);
        self.model.host_names = Arc::new(names);
        self.model.hosts = Arc::new(objects);
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
        let span = narrow(self.sources, src.source().value_span, name);
        self.unknown_at(code, what, attr, span, name, user, candidates.into());
    }

    /// [`Self::unknown`] at a span already narrowed to the name.
    #[allow(clippy::too_many_arguments)]
    fn unknown_at(
        &mut self,
        code: Code,
        what: &'static str,
        attr: &str,
        span: Span,
        name: &str,
        user: String,
        candidates: Candidates,
    ) {
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

    /// Records what [`host_parents`] found: the links, the unknown names, the loops.
    fn parents(&mut self, found: Parents) {
        for u in found.unknown {
            let who = format!("host {}", self.model.host_names[u.host as usize]);
            self.unknown_at(
                u.code,
                "parent host",
                "parents",
                u.span,
                &u.name,
                who,
                ObjectKind::Host.into(),
            );
        }
        self.model.parents = found.links;
        let host_names = self.model.host_names.clone();
        for cycle in found.loops {
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
    users: Vec<references::Who>,
}

/// What the hosts' `parents` say, found beside the other passes.
struct Parents {
    /// The parents of each host that exist.
    links: Vec<Vec<HostId>>,
    /// Loops, each from its smallest host.
    loops: Vec<Vec<HostId>>,
    unknown: Vec<UnknownParent>,
}

/// A `parents` entry that names no host.
struct UnknownParent {
    code: Code,
    host: HostId,
    /// The entry, narrowed to the name.
    span: Span,
    name: String,
}

/// The parents of every host and their loops. It reads only the hosts, so it runs beside
/// the group and service passes.
fn host_parents(
    res: &Resolved,
    sources: &SourceMap,
    sem: &Semantics,
    hosts: &[usize],
    by_name: &HashMap<String, HostId>,
) -> Parents {
    let mut links = vec![Vec::new(); hosts.len()];
    let mut unknown = Vec::new();
    for (h, &idx) in hosts.iter().enumerate() {
        let Some(a) = res.objects[idx].get("parents") else {
            continue;
        };
        for (p, src) in entries(sources, a) {
            match by_name.get(p) {
                Some(&pid) => links[h].push(pid),
                // J3: Shinken warns and drops the link; Nagios and Alignak refuse it.
                None => unknown.push(UnknownParent {
                    code: if sem.unknown_parent_refused {
                        codes::UNKNOWN_PARENT
                    } else {
                        codes::UNKNOWN_PARENT_IGNORED
                    },
                    host: h as HostId,
                    span: narrow(sources, src.source().value_span, p),
                    name: p.to_string(),
                }),
            }
        }
    }
    let loops = cycles(0..hosts.len() as HostId, |h| {
        links[h as usize].iter().copied()
    });
    Parents {
        links,
        loops,
        unknown,
    }
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
    cycles_of(pairs)
}

/// [`cycles`] of a graph given as its edges.
pub(crate) fn cycles_of<N: Ord + Copy>(pairs: Vec<(N, N)>) -> Vec<Vec<N>> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut ids: Vec<N> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.sort();
    ids.dedup();
    let id = |n: N| ids.binary_search(&n).unwrap() as u32;
    let dense: Vec<(u32, u32)> = pairs.iter().map(|&(a, b)| (id(a), id(b))).collect();
    // Parent trees and dependency graphs are mostly acyclic: peel off every node that has no
    // incoming or no outgoing edge left (it is on no cycle), and compute components only for
    // what remains, if anything.
    let on_cycles = peel(ids.len(), &dense);
    if on_cycles.is_empty() {
        return Vec::new();
    }
    let g: petgraph::Graph<(), (), petgraph::Directed, u32> =
        petgraph::Graph::from_edges(on_cycles);
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

/// The edges between nodes `0..n` that may be on a cycle: nodes without an incoming or an
/// outgoing edge are removed, repeatedly, in O(nodes + edges).
fn peel(n: usize, edges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    // Both directions as compressed adjacency lists.
    let index = |key: fn(&(u32, u32)) -> u32| {
        let mut start = vec![0u32; n + 1];
        for e in edges {
            start[key(e) as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut list = vec![0u32; edges.len()];
        for (i, e) in edges.iter().enumerate() {
            let k = key(e) as usize;
            list[fill[k] as usize] = i as u32;
            fill[k] += 1;
        }
        (start, list)
    };
    let (out_start, out_edges) = index(|e| e.0);
    let (in_start, in_edges) = index(|e| e.1);
    let mut out_deg: Vec<u32> = (0..n).map(|v| out_start[v + 1] - out_start[v]).collect();
    let mut in_deg: Vec<u32> = (0..n).map(|v| in_start[v + 1] - in_start[v]).collect();
    let mut removed = vec![false; n];
    let mut queue: Vec<u32> = (0..n as u32)
        .filter(|&v| out_deg[v as usize] == 0 || in_deg[v as usize] == 0)
        .collect();
    for &v in &queue {
        removed[v as usize] = true;
    }
    while let Some(v) = queue.pop() {
        let v = v as usize;
        for &e in &out_edges[out_start[v] as usize..out_start[v + 1] as usize] {
            let w = edges[e as usize].1 as usize;
            in_deg[w] -= 1;
            if in_deg[w] == 0 && !removed[w] {
                removed[w] = true;
                queue.push(w as u32);
            }
        }
        for &e in &in_edges[in_start[v] as usize..in_start[v + 1] as usize] {
            let u = edges[e as usize].0 as usize;
            out_deg[u] -= 1;
            if out_deg[u] == 0 && !removed[u] {
                removed[u] = true;
                queue.push(u as u32);
            }
        }
    }
    edges
        .iter()
        .copied()
        .filter(|&(a, b)| !removed[a as usize] && !removed[b as usize])
        .collect()
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
        // The width bound keeps `[000…01-2]` within what the formatter pads (u16).
        (x <= y && y - x < 100_000 && a.len() <= 255).then_some((open, close, x, y, a.len()))
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

/// Whether the host's `service_excludes` / `service_includes` drop this service: entries are
/// [`Pattern`]s, or exact names only (Alignak, E2).
fn excluded(host: &ResolvedObject, desc: &str, patterns: bool) -> bool {
    let matches = |p: &str| {
        if patterns {
            Pattern::new(p).matches(desc)
        } else {
            p.trim() == desc
        }
    };
    let excl = host.list("service_excludes");
    if excl.iter().any(|p| matches(p)) {
        return true;
    }
    let incl = host.list("service_includes");
    !incl.is_empty() && !incl.iter().any(|p| matches(p))
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
    fn peeling_keeps_every_cycle_and_drops_the_paths_around_them() {
        // A chain into a cycle, a chain out of it, a second cycle reached through the first,
        // and a tree beside them.
        let pairs = vec![
            (10, 1),
            (1, 2),
            (2, 3),
            (3, 2),
            (3, 4),
            (4, 5),
            (5, 6),
            (6, 4),
            (6, 7),
            (20, 21),
            (20, 22),
        ];
        assert_eq!(
            cycles_of(pairs.clone()),
            vec![vec![2, 3, 2], vec![4, 5, 6, 4]]
        );
        let kept = peel(
            23,
            &pairs
                .iter()
                .map(|&(a, b)| (a as u32, b as u32))
                .collect::<Vec<_>>(),
        );
        assert_eq!(kept, vec![(2, 3), (3, 2), (3, 4), (4, 5), (5, 6), (6, 4)]);
        assert!(cycles_of(vec![(1, 2), (2, 3), (1, 3)]).is_empty());
    }

    #[test]
    fn patterns() {
        assert!(Pattern::new("*").matches("x"));
        assert!(Pattern::new("r:HTTP.*").matches("HTTPS"));
        assert!(!Pattern::new("r:HTTP").matches("XHTTP"));
        assert!(Pattern::new("SSH").matches("SSH"));
    }
}
