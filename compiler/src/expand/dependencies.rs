//! Host and service dependencies: which (master, dependent) pairs each definition makes, as
//! the engine makes them (same-host rules differ: catalogue rows A1–A5, A10), and their loops.
//!
//! A definition whose both sides have several hosts is kept as one rule (every master ×
//! every dependent) and never materialised: the product of two groups of 3,000 hosts is nine
//! million pairs, and packs, counts, loops and shards all work on the two sides instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use monitorc_grammar::{codes, Code, Diagnostic};

use super::{
    cycles_of, join_cycle, Expander, HostDependency, HostDependencyRule, HostId, ServiceDependency,
    ServiceDependencyRule, ServiceId,
};
use crate::engine::{Engine, SameHost, StarService};
use crate::resolve::{ResolvedObject, Source};
use crate::schema::ObjectKind;

/// Every master service × every dependent service of definition `def` (both sorted, each
/// once): one rule when `as_rule` (never materialised), pairs otherwise.
fn service_product(
    masters: Vec<ServiceId>,
    dependents: Vec<ServiceId>,
    def: usize,
    as_rule: bool,
    deps: &mut Vec<ServiceDependency>,
    rules: &mut Vec<ServiceDependencyRule>,
) {
    if masters.is_empty() || dependents.is_empty() {
        return;
    }
    if as_rule {
        rules.push(ServiceDependencyRule {
            masters,
            dependents,
            def,
        });
        return;
    }
    for &m in &masters {
        for &c in &dependents {
            deps.push(ServiceDependency {
                master: m,
                dependent: c,
                def,
            });
        }
    }
}

/// The hosts a dependency definition pairs.
enum Shape {
    /// Each host depends on itself (services of one host on services of the same host).
    SameHost(BTreeSet<HostId>),
    /// Every master host × every dependent host.
    Product(BTreeSet<HostId>, BTreeSet<HostId>),
}

/// A master or dependent side of a rule needs this many hosts for the definition to be kept as
/// a rule rather than as pairs: with one host on a side, the pairs are as many as the other
/// side's hosts, so linear.
const RULE_SIDE: usize = 2;

impl<'a> Expander<'a> {
    pub(super) fn host_dependencies(&mut self) {
        let defs: Vec<&'a ResolvedObject> = self.res.of_kind(ObjectKind::Hostdependency).collect();
        let mut deps = BTreeSet::new();
        let mut rules = Vec::new();
        for d in defs {
            if self.lame(d) {
                continue;
            }
            let (masters, _) = self.select_dependency(d, "host_name", "hostgroup_name");
            if d.get("dependent_host_name").is_none() && d.get("dependent_hostgroup_name").is_none()
            {
                // A10: every engine accepts it and makes nothing.
                self.without_effect(
                    d,
                    "it names no dependent host",
                    "add `dependent_host_name` or `dependent_hostgroup_name`, or remove the definition",
                );
                continue;
            }
            let (dependents, _) =
                self.select_dependency(d, "dependent_host_name", "dependent_hostgroup_name");
            self.warn_product(d, "host", masters.len(), dependents.len(), false);
            if masters.len() >= RULE_SIDE && dependents.len() >= RULE_SIDE {
                rules.push(HostDependencyRule {
                    masters: masters.into_iter().collect(),
                    dependents: dependents.into_iter().collect(),
                    def: d.id,
                });
                continue;
            }
            for &m in &masters {
                for &c in &dependents {
                    deps.insert(HostDependency {
                        master: m,
                        dependent: c,
                        def: d.id,
                    });
                }
            }
        }
        self.model.host_dependencies = deps.into_iter().collect();
        self.model.host_dependency_rules = rules;
        let m = &self.model;
        let found = dependency_loops(
            m.host_names.len(),
            m.host_dependencies
                .iter()
                .map(|d| (d.dependent, d.master, d.def)),
            m.host_dependency_rules
                .iter()
                .map(|r| (&r.dependents[..], &r.masters[..], r.def)),
        );
        if found.is_empty() {
            return;
        }
        let labels: Vec<String> = m.host_names.iter().map(|n| format!("`{n}`")).collect();
        self.report_loops(codes::HOST_DEPENDENCY_LOOP, "host", found, &labels);
    }

    /// Which hosts a `servicedependency` pairs, by the engine's rule (A1–A4, A8), or `None`
    /// when it makes nothing.
    fn service_dependency_shape(&mut self, d: &ResolvedObject) -> Option<Shape> {
        let has = |k: &str| d.get(k).is_some();
        let (hosts, groups) = (has("host_name"), has("hostgroup_name"));
        let (dep_hosts, dep_groups) = (has("dependent_host_name"), has("dependent_hostgroup_name"));
        let explode = groups
            && d.get_str("explode_hostgroup")
                .is_some_and(|v| crate::lower::parse_bool(v) == Some(true));
        let masters = |x: &mut Self| x.select_dependency(d, "host_name", "hostgroup_name").0;
        // A missing dependent attribute takes its master counterpart (Shinken, Alignak).
        let defaulted = |x: &mut Self| {
            let hk = if dep_hosts {
                "dependent_host_name"
            } else {
                "host_name"
            };
            let gk = if dep_groups {
                "dependent_hostgroup_name"
            } else {
                "hostgroup_name"
            };
            x.select_dependency(d, hk, gk).0
        };
        if !hosts && !groups {
            if self.sem.dependent_side_alone && (dep_hosts || dep_groups) {
                // A4: "children first", each dependent host on itself.
                let c = self
                    .select_dependency(d, "dependent_host_name", "dependent_hostgroup_name")
                    .0;
                return Some(Shape::SameHost(c));
            }
            self.without_effect(
                d,
                "it names no master host (`host_name` or `hostgroup_name`)",
                "add `host_name` or `hostgroup_name` for the hosts of the services depended on",
            );
            return None;
        }
        Some(match self.sem.same_host {
            SameHost::NoDependentSide if !dep_hosts && !dep_groups => {
                Shape::SameHost(masters(self))
            }
            SameHost::NoDependentSide => Shape::Product(
                masters(self),
                self.select_dependency(d, "dependent_host_name", "dependent_hostgroup_name")
                    .0,
            ),
            SameHost::HostgroupWithoutDependentGroup if explode || (groups && !dep_groups) => {
                Shape::SameHost(masters(self))
            }
            SameHost::ExplodeHostgroupOnly if explode => Shape::SameHost(masters(self)),
            SameHost::HostgroupWithoutDependentGroup | SameHost::ExplodeHostgroupOnly => {
                Shape::Product(masters(self), defaulted(self))
            }
        })
    }

    /// A6: a `servicedependency` with `servicegroup_name` or `dependent_servicegroup_name`
    /// (Nagios 4, `xodtemplate_create_service_list`): each side is its groups' services plus
    /// its hosts' services of the description list; without any dependent host or group, the
    /// dependent descriptions are looked up on each master service's own host.
    fn servicegroup_dependency(
        &mut self,
        d: &ResolvedObject,
        deps: &mut Vec<ServiceDependency>,
        rules: &mut Vec<ServiceDependencyRule>,
    ) {
        let masters = self.service_side(
            d,
            [
                "host_name",
                "hostgroup_name",
                "servicegroup_name",
                "service_description",
            ],
        );
        let dependent_side = [
            "dependent_host_name",
            "dependent_hostgroup_name",
            "dependent_servicegroup_name",
        ]
        .iter()
        .any(|k| d.get(k).is_some());
        if !dependent_side {
            let key = "dependent_service_description";
            let descs = d.list(key).to_vec();
            let src = d.get(key).map(|a| a.sources[0].clone());
            let mut by_host: BTreeMap<HostId, Vec<ServiceId>> = BTreeMap::new();
            for &m in &masters {
                by_host
                    .entry(self.model.services[m as usize].host)
                    .or_default()
                    .push(m);
            }
            for (h, ms) in by_host {
                let cs = self.dependency_services(h, &descs, key, src.as_ref(), d);
                for &m in &ms {
                    for &c in &cs {
                        deps.push(ServiceDependency {
                            master: m,
                            dependent: c,
                            def: d.id,
                        });
                    }
                }
            }
            return;
        }
        let dependents = self.service_side(
            d,
            [
                "dependent_host_name",
                "dependent_hostgroup_name",
                "dependent_servicegroup_name",
                "dependent_service_description",
            ],
        );
        let as_rule = masters.len() >= RULE_SIDE && dependents.len() >= RULE_SIDE;
        service_product(masters, dependents, d.id, as_rule, deps, rules);
    }

    /// One side of a servicegroup dependency: the services of its groups, and those its
    /// descriptions name on its hosts. Sorted, each once.
    fn service_side(&mut self, d: &ResolvedObject, [hk, gk, sgk, dk]: [&str; 4]) -> Vec<ServiceId> {
        let mut out = BTreeSet::new();
        if let Some(a) = d.get(sgk) {
            for (g, src) in super::entries(self.sources, a) {
                match self.model.servicegroups.get(g) {
                    Some(members) => out.extend(members.iter().copied()),
                    None => {
                        let who = self.display(d);
                        self.unknown(
                            codes::UNKNOWN_SERVICEGROUP,
                            "servicegroup",
                            sgk,
                            src,
                            g,
                            who,
                            ObjectKind::Servicegroup,
                        );
                    }
                }
            }
        }
        if d.get(hk).is_some() || d.get(gk).is_some() {
            let hosts = self.select_dependency(d, hk, gk).0;
            let descs = d.list(dk).to_vec();
            let src = d.get(dk).map(|a| a.sources[0].clone());
            for h in hosts {
                out.extend(self.dependency_services(h, &descs, dk, src.as_ref(), d));
            }
        }
        out.into_iter().collect()
    }

    /// The services a description list names on `host`. Where the engine reads `*` as every
    /// service (Nagios), `!X` rejects X from the whole list (`*,!X`), as in
    /// `xodtemplate_expand_services`.
    fn dependency_services(
        &mut self,
        host: HostId,
        descs: &[String],
        attr: &str,
        src: Option<&Source>,
        d: &ResolvedObject,
    ) -> Vec<ServiceId> {
        let lists = self.sem.star_service == StarService::Every;
        let mut out = Vec::new();
        let mut rejected = Vec::new();
        for desc in descs {
            if lists && desc == "*" {
                out.extend(self.model.services_of(host));
            } else if let Some(x) = desc.strip_prefix('!').filter(|_| lists) {
                rejected.extend(self.lookup_service(host, x.trim(), attr, src, d));
            } else {
                out.extend(self.lookup_service(host, desc, attr, src, d));
            }
        }
        out.retain(|s| !rejected.contains(s));
        out
    }

    pub(super) fn service_dependencies(&mut self) {
        // Pairs are gathered, then sorted and made unique once.
        let mut deps = Vec::new();
        let mut rules = Vec::new();
        let defs: Vec<&'a ResolvedObject> =
            self.res.of_kind(ObjectKind::Servicedependency).collect();
        for d in defs {
            if self.lame(d) {
                continue;
            }
            let by_group = ["servicegroup_name", "dependent_servicegroup_name"]
                .iter()
                .any(|k| d.get(k).is_some());
            if by_group && self.sem.servicegroup_escalations {
                self.servicegroup_dependency(d, &mut deps, &mut rules);
                continue;
            }
            let masters_desc: Vec<String> = d.list("service_description").to_vec();
            let dependents_desc: Vec<String> = d.list("dependent_service_description").to_vec();
            let star = masters_desc
                .iter()
                .chain(&dependents_desc)
                .any(|s| s == "*");
            if star && self.sem.star_service == StarService::Dropped {
                self.without_effect(
                    d,
                    "Shinken drops a service dependency whose service description is `*`",
                    "name the services, one dependency (or one comma-separated list) each",
                );
                continue;
            }
            let Some(shape) = self.service_dependency_shape(d) else {
                continue;
            };
            let src_m = d.get("service_description").map(|a| a.sources[0].clone());
            let src_d = d
                .get("dependent_service_description")
                .map(|a| a.sources[0].clone());
            let (src_m, src_d) = (src_m.as_ref(), src_d.as_ref());
            let (mdesc, cdesc) = ("service_description", "dependent_service_description");
            match shape {
                Shape::SameHost(hosts) => {
                    for h in hosts {
                        let ms = self.dependency_services(h, &masters_desc, mdesc, src_m, d);
                        let cs = self.dependency_services(h, &dependents_desc, cdesc, src_d, d);
                        // With `*`, a service may be its own master: Nagios registers it
                        // and refuses the loop, as monitorc does (E0056).
                        for &m in &ms {
                            for &c in &cs {
                                deps.push(ServiceDependency {
                                    master: m,
                                    dependent: c,
                                    def: d.id,
                                });
                            }
                        }
                    }
                }
                Shape::Product(masters, dependents) => {
                    self.warn_product(d, "service", masters.len(), dependents.len(), true);
                    let mut ms = Vec::new();
                    for &h in &masters {
                        ms.extend(self.dependency_services(h, &masters_desc, mdesc, src_m, d));
                    }
                    let mut cs = Vec::new();
                    for &h in &dependents {
                        cs.extend(self.dependency_services(h, &dependents_desc, cdesc, src_d, d));
                    }
                    let as_rule = masters.len() >= RULE_SIDE && dependents.len() >= RULE_SIDE;
                    ms.sort_unstable();
                    ms.dedup();
                    cs.sort_unstable();
                    cs.dedup();
                    service_product(ms, cs, d.id, as_rule, &mut deps, &mut rules);
                }
            }
        }
        self.service_side_dependencies(&mut deps);
        deps.sort_unstable();
        deps.dedup();
        self.model.service_dependencies = deps;
        self.model.service_dependency_rules = rules;
        let m = &self.model;
        let found = dependency_loops(
            m.services.len(),
            m.service_dependencies
                .iter()
                .map(|d| (d.dependent, d.master, d.def)),
            m.service_dependency_rules
                .iter()
                .map(|r| (&r.dependents[..], &r.masters[..], r.def)),
        );
        if found.is_empty() {
            return;
        }
        let labels: Vec<String> = m
            .services
            .iter()
            .map(|s| format!("`{}/{}`", m.host_names[s.host as usize], s.description))
            .collect();
        self.report_loops(codes::SERVICE_DEPENDENCY_LOOP, "service", found, &labels);
    }

    /// The service-side form: `service_dependencies host1,svc1,host2,svc2` (an empty host
    /// is the service's own).
    fn service_side_dependencies(&mut self, deps: &mut Vec<ServiceDependency>) {
        for sid in self.services_with("service_dependencies") {
            let s = self.model.services[sid].clone();
            let Some(a) = self
                .model
                .service_attr(self.res, &s, "service_dependencies")
                .cloned()
            else {
                continue;
            };
            let raw: Vec<&str> = a.raw.split(',').map(str::trim).collect();
            for pair in raw.chunks(2) {
                let [host, desc] = pair else { continue };
                let h = if host.is_empty() {
                    Some(s.host)
                } else {
                    self.model.host_by_name.get(*host).copied()
                };
                let user = format!(
                    "service {}/{}",
                    self.model.host_names[s.host as usize], s.description
                );
                match h.and_then(|h| self.model.service_by_key(h, desc)) {
                    Some(m) => {
                        deps.push(ServiceDependency {
                            master: m,
                            dependent: sid as ServiceId,
                            def: s.def,
                        });
                    }
                    None => {
                        self.unknown(
                            codes::UNKNOWN_SERVICE,
                            "service",
                            "service_dependencies",
                            &a.sources[0],
                            &format!("{host},{desc}"),
                            user,
                            super::Candidates::ServicePairs,
                        );
                    }
                }
            }
        }
    }

    /// W0012: a dependency the engine accepts and ignores.
    /// A7: Nagios ignores a dependency without failure criteria (none, or `n` only:
    /// "Ignoring lame service dependency"; host dependencies silently), with W0012.
    fn lame(&mut self, d: &ResolvedObject) -> bool {
        let lame = self.sem.lame_dependencies_dropped
            && [
                "notification_failure_criteria",
                "execution_failure_criteria",
            ]
            .iter()
            .filter_map(|k| d.get_str(k))
            .all(|v| v.trim() == "n");
        if lame {
            self.without_effect(
                d,
                "it has no failure criteria (a \"lame\" dependency)",
                "add `notification_failure_criteria` or `execution_failure_criteria` (e.g. `w,u,c`)",
            );
        }
        lame
    }

    fn without_effect(&mut self, d: &ResolvedObject, why: &str, help: &str) {
        let o = &self.ir.objects[d.id];
        let kw = o.kind.keyword();
        let engine = self.sem.engine.title();
        self.diags.push(
            Diagnostic::new(
                codes::DEPENDENCY_WITHOUT_EFFECT,
                format!("this {kw} makes no dependency: {why}"),
            )
            .at(o.header)
            .label(format!("{engine} accepts it and ignores it"))
            .help(help.to_string()),
        );
    }

    /// W0013: a dependency between two large sets of hosts.
    fn warn_product(
        &mut self,
        d: &ResolvedObject,
        what: &str,
        masters: usize,
        dependents: usize,
        services: bool,
    ) {
        let product = masters as u64 * dependents as u64;
        if product <= self.sem.product_warning {
            return;
        }
        let o = &self.ir.objects[d.id];
        let same_host = match (services, self.sem.engine) {
            (false, _) => {
                "if each host is meant to wait only for its own parent, use `parents`, or name the master and dependent hosts one to one".to_string()
            }
            (true, Engine::Shinken) => {
                "if each host's services are meant to depend on the same host's, add `explode_hostgroup 1` and keep only `hostgroup_name`".to_string()
            }
            (true, _) => {
                "if each host's services are meant to depend on the same host's, give only `host_name`/`hostgroup_name` and no dependent hosts".to_string()
            }
        };
        self.diags.push(
            Diagnostic::new(
                codes::DEPENDENCY_PRODUCT,
                format!(
                    "this {} ties every one of {masters} master hosts to every one of {dependents} dependent hosts ({product} {what} pairs)",
                    o.kind.keyword()
                ),
            )
            .at(o.header)
            .label(format!("{} makes the whole product", self.sem.engine.title()))
            .help(same_host)
            .note("every host of both sides lands in one pack, so on one scheduler"),
        );
    }

    /// Reports each loop found by [`dependency_loops`].
    fn report_loops(&mut self, code: Code, what: &str, found: Vec<Loop>, labels: &[String]) {
        for Loop { nodes, defs } in found {
            let chain: Vec<String> = nodes.iter().map(|&x| labels[x as usize].clone()).collect();
            let mut diag = Diagnostic::new(
                code,
                format!(
                    "{what} dependencies form a loop: {}",
                    join_cycle(&chain, " -depends-on-> ")
                ),
            )
            .at(self.ir.objects[defs[0]].header)
            .label(format!("{} depends on {} here", chain[0], chain[1]));
            for (i, w) in nodes.windows(2).enumerate().skip(1).take(8) {
                diag = diag.secondary(
                    self.ir.objects[defs[i]].header,
                    format!(
                        "{} depends on {}",
                        labels[w[0] as usize], labels[w[1] as usize]
                    ),
                );
            }
            self.diags.push(diag.help(format!(
                "a {what} cannot depend on itself through others: remove one dependency of the loop"
            )));
        }
    }
}

/// One dependency loop: the nodes in order (the first repeated at the end) and the definition
/// of each hop.
pub(super) struct Loop {
    pub nodes: Vec<u32>,
    pub defs: Vec<usize>,
}

/// Every loop of dependencies between `n` nodes: `pairs` are (dependent, master, definition),
/// `rules` (dependents, masters, definition). A rule is one extra node between its two
/// sides, so the graph has |A| + |B| edges per rule, not |A| × |B|.
pub(super) fn dependency_loops<'r>(
    n: usize,
    pairs: impl Iterator<Item = (u32, u32, usize)>,
    rules: impl Iterator<Item = (&'r [u32], &'r [u32], usize)>,
) -> Vec<Loop> {
    let pairs: Vec<(u32, u32, usize)> = pairs.collect();
    let mut edges: Vec<(u32, u32)> = pairs.iter().map(|&(d, m, _)| (d, m)).collect();
    let mut rule_defs = Vec::new();
    for (dependents, masters, def) in rules {
        let v = (n + rule_defs.len()) as u32;
        edges.extend(dependents.iter().map(|&d| (d, v)));
        edges.extend(masters.iter().map(|&m| (v, m)));
        rule_defs.push(def);
    }
    let found = cycles_of(edges);
    if found.is_empty() {
        return Vec::new();
    }
    let def_of: HashMap<(u32, u32), usize> =
        pairs.iter().map(|&(d, m, def)| ((d, m), def)).collect();
    let mut out = Vec::new();
    for cycle in found {
        let mut nodes = Vec::new();
        let mut defs = Vec::new();
        let mut i = 0;
        while i + 1 < cycle.len() {
            let (a, b) = (cycle[i], cycle[i + 1]);
            nodes.push(a);
            if (b as usize) < n {
                defs.push(def_of[&(a, b)]);
                i += 1;
            } else {
                defs.push(rule_defs[b as usize - n]);
                i += 2;
            }
        }
        nodes.push(nodes[0]);
        out.push(Loop { nodes, defs });
    }
    out
}
