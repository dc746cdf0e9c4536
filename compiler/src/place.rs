//! Realms, daemons, packs and placement: which scheduler runs which hosts.
//!
//! - The realm tree from `realm_members` (and Alignak's `higher_realms`), exactly one default.
//! - Each host's realm: its own `realm`, else its hostgroups' (they must agree), else the
//!   default one. Conflicts are errors naming both sides (Shinken only warns, shinken#253).
//! - Daemons with their realm; a type nobody defined gets Shinken's implicit daemon.
//! - Packs: connected components of parents, host dependencies, service dependencies across
//!   hosts and business-rule members (petgraph's union-find, no recursion). A pack whose hosts
//!   span realms is an error that prints the chain of relations that joined them.
//! - Tags: every poller/reactionner tag used in a realm must be served by a poller/reactionner
//!   reachable from that realm.
//! - Placement per realm over its own non-spare schedulers, in proportion to `weight`,
//!   balanced by load (1 per host plus 1 per service), each share bound to the scheduler it
//!   was computed for; ties broken by name.
//! - Satellites' scheduler links, one broker per scheduler, ordered spares.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use petgraph::unionfind::UnionFind;

use monitorc_grammar::{codes, Diagnostic, Span};

use crate::expand::{HostId, Model};
use crate::ir::{Ir, Value};
use crate::lower::parse_bool;
use crate::resolve::{Resolved, ResolvedObject};
use crate::schema::ObjectKind;

#[derive(Clone, Debug)]
pub struct Realm {
    pub name: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// The `define realm` (absent for the implicit default realm).
    pub def: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Daemon {
    pub kind: ObjectKind,
    pub name: String,
    pub realm: usize,
    pub spare: bool,
    pub weight: u32,
    pub manage_sub_realms: bool,
    /// `poller_tags` / `reactionner_tags` (`None` when unset).
    pub tags: Vec<String>,
    pub address: String,
    pub port: u16,
    /// Liveness checking: ping every `check_interval` seconds, `timeout` seconds each, dead
    /// after `max_check_attempts` failures in a row (Shinken's defaults 60, 3, 3).
    pub check_interval: u32,
    pub timeout: u32,
    pub max_check_attempts: u32,
    /// The definition (absent for implicit daemons).
    pub def: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Pack {
    /// In name order.
    pub hosts: Vec<HostId>,
    pub realm: usize,
    /// One per host plus one per service.
    pub load: u64,
    /// The scheduler (index in `Plan::daemons`) that runs it, if any.
    pub scheduler: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct SchedulerLoad {
    pub daemon: usize,
    pub load: u64,
    pub hosts: usize,
    pub services: usize,
    pub packs: usize,
}

#[derive(Clone, Debug)]
pub struct RealmBalance {
    pub realm: usize,
    pub load: u64,
    pub weight: u64,
    /// max(load/weight) ÷ (realm load / realm weight): 1.0 is perfect.
    pub ratio: f64,
    pub largest_pack: u64,
    /// What placement guarantees: ratio ≤ 1 + largest·W / (w_min·L). (The ideal
    /// 1 + largest/L cannot always be met: 4 equal packs on 3 equal schedulers give 1.5.)
    pub bound: f64,
}

/// Everything placement decided.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Sorted by name.
    pub realms: Vec<Realm>,
    pub default_realm: usize,
    /// Realm of each host.
    pub host_realm: Vec<usize>,
    /// Sorted by (type, name).
    pub daemons: Vec<Daemon>,
    /// Sorted by first host name.
    pub packs: Vec<Pack>,
    /// Pack of each host.
    pub host_pack: Vec<usize>,
    pub schedulers: Vec<SchedulerLoad>,
    pub balance: Vec<RealmBalance>,
    /// Satellite (daemon index) → schedulers it works with (daemon indices, sorted by name).
    pub links: BTreeMap<usize, Vec<usize>>,
    /// Scheduler → the broker that takes its broks.
    pub broker_of: BTreeMap<usize, usize>,
    /// Daemon → its spares in takeover order.
    pub spares: BTreeMap<usize, Vec<usize>>,
    /// Hosts whose scheduler changed against the previous plan: (host, from, to).
    pub moves: Vec<(HostId, String, String)>,
    /// Whether a previous plan was given.
    pub sticky: bool,
}

impl Plan {
    pub fn realm_name(&self, r: usize) -> &str {
        &self.realms[r].name
    }

    /// Whether `ancestor` is `realm` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: usize, realm: usize) -> bool {
        let mut r = Some(realm);
        while let Some(x) = r {
            if x == ancestor {
                return true;
            }
            r = self.realms[x].parent;
        }
        false
    }

    pub fn scheduler_of_host(&self, h: HostId) -> Option<usize> {
        self.packs[self.host_pack[h as usize]].scheduler
    }
}

/// The default `manage_sub_realms`: Shinken's pollers do not, its other satellites do;
/// every Alignak satellite does (`SatelliteLink`, J6).
fn default_manage_sub_realms(kind: ObjectKind, sem: &crate::engine::Semantics) -> bool {
    match kind {
        ObjectKind::Scheduler => false,
        ObjectKind::Poller => sem.pollers_manage_sub_realms,
        _ => true,
    }
}

/// `scheduler `a`` or `scheduler `a`, poller `b``.
fn names_of(d: &[Daemon], list: &[usize]) -> String {
    list.iter()
        .map(|&i| format!("{} `{}`", d[i].kind.keyword(), d[i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn default_port(kind: ObjectKind) -> u16 {
    match kind {
        ObjectKind::Scheduler => 7768,
        ObjectKind::Reactionner => 7769,
        ObjectKind::Arbiter => 7770,
        ObjectKind::Poller => 7771,
        ObjectKind::Broker => 7772,
        _ => 7773,
    }
}

pub const DAEMON_KINDS: &[ObjectKind] = &[
    ObjectKind::Arbiter,
    ObjectKind::Scheduler,
    ObjectKind::Poller,
    ObjectKind::Reactionner,
    ObjectKind::Broker,
    ObjectKind::Receiver,
];

/// What "load" counts when balancing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Balance {
    /// One per host plus one per service.
    #[default]
    Checks,
    /// Active checks per hour, from each host's and service's check_interval (times the
    /// main config's interval_length); passive-only objects weigh nothing.
    Rate,
}

struct Placer<'a> {
    previous: Option<&'a BTreeMap<String, String>>,
    balance: Balance,
    ir: &'a Ir,
    res: &'a Resolved,
    model: &'a Model,
    plan: Plan,
    diags: Vec<Diagnostic>,
}

pub fn place(
    ir: &Ir,
    res: &Resolved,
    model: &Model,
    previous: Option<&BTreeMap<String, String>>,
    balance: Balance,
    diags: &mut Vec<Diagnostic>,
) -> Plan {
    let mut p = Placer {
        previous,
        balance,
        ir,
        res,
        model,
        plan: Plan::default(),
        diags: Vec::new(),
    };
    p.realms();
    p.host_realms();
    p.daemons();
    p.packs();
    p.tags();
    p.assign();
    p.satellites();
    p.shared_endpoints();
    diags.extend(p.diags);
    p.plan
}

fn header(ir: &Ir, def: usize) -> Span {
    ir.objects[def].header
}

impl<'a> Placer<'a> {
    fn obj(&self, i: usize) -> &'a ResolvedObject {
        &self.res.objects[i]
    }

    fn attr_span(&self, def: usize, key: &str) -> Span {
        self.obj(def)
            .get(key)
            .map(|a| a.sources[0].value_span)
            .unwrap_or(header(self.ir, def))
    }

    fn realm_index(&self, name: &str) -> Option<usize> {
        self.plan
            .realms
            .binary_search_by(|r| r.name.as_str().cmp(name))
            .ok()
    }

    fn realms(&mut self) {
        let named = self
            .model
            .named
            .get(&ObjectKind::Realm)
            .cloned()
            .unwrap_or_default();
        if named.is_empty() {
            // No realm at all: one implicit default realm holds everything, named as the
            // engine names it (J1).
            self.plan.realms.push(Realm {
                name: self.model.sem.default_realm.into(),
                parent: None,
                children: Vec::new(),
                def: None,
            });
            self.plan.default_realm = 0;
            return;
        }
        for (name, &def) in &named {
            self.plan.realms.push(Realm {
                name: name.clone(),
                parent: None,
                children: Vec::new(),
                def: Some(def),
            });
        }
        // Parent links from realm_members (and higher_realms, Alignak's other direction).
        let mut links: Vec<(usize, usize, Span)> = Vec::new();
        for (i, r) in self.plan.realms.clone().iter().enumerate() {
            let def = r.def.unwrap();
            for m in self.obj(def).list("realm_members") {
                if let Some(c) = self.realm_index(m) {
                    links.push((i, c, self.attr_span(def, "realm_members")));
                }
            }
            for h in self.obj(def).list("higher_realms") {
                if let Some(p) = self.realm_index(h) {
                    links.push((p, i, self.attr_span(def, "higher_realms")));
                }
            }
        }
        links.sort_by_key(|&(p, c, _)| (c, p));
        links.dedup_by_key(|&mut (p, c, _)| (p, c));
        let edges: Vec<Vec<usize>> = (0..self.plan.realms.len())
            .map(|p| links.iter().filter(|l| l.0 == p).map(|l| l.1).collect())
            .collect();
        let loops = crate::expand::cycles(0..self.plan.realms.len(), |r| edges[r].iter().copied());
        let mut in_loop = BTreeSet::new();
        for cycle in &loops {
            let names: Vec<String> = cycle
                .iter()
                .map(|&r| format!("`{}`", self.plan.realms[r].name))
                .collect();
            let span = links
                .iter()
                .find(|l| l.0 == cycle[0] && l.1 == cycle[1])
                .map(|l| l.2)
                .unwrap();
            self.diags.push(
                Diagnostic::new(codes::REALM_LOOP, format!("realms contain each other in a loop: {}", crate::expand::join_cycle(&names, " -> ")))
                    .at(span)
                    .label(format!("`{}` contains `{}` here", self.plan.realms[cycle[0]].name, self.plan.realms[cycle[1]].name))
                    .help("a realm cannot be its own sub-realm: remove one `realm_members` entry of the loop"),
            );
            in_loop.extend(cycle.iter().copied());
        }
        for &(p, c, span) in &links {
            if in_loop.contains(&p) && in_loop.contains(&c) {
                continue;
            }
            match self.plan.realms[c].parent {
                None => {
                    self.plan.realms[c].parent = Some(p);
                    self.plan.realms[p].children.push(c);
                }
                Some(q) if q != p => {
                    let (a, b, child) = (
                        self.plan.realms[q].name.clone(),
                        self.plan.realms[p].name.clone(),
                        self.plan.realms[c].name.clone(),
                    );
                    self.diags.push(
                        Diagnostic::new(
                            codes::REALM_MULTIPLE_PARENTS,
                            format!("realm `{child}` is a member of both `{a}` and `{b}`"),
                        )
                        .at(span)
                        .label(format!("`{b}` claims it here"))
                        .help("a realm has one parent: keep it in one `realm_members` list"),
                    );
                }
                _ => {}
            }
        }
        let defaults: Vec<usize> = (0..self.plan.realms.len())
            .filter(|&r| {
                self.obj(self.plan.realms[r].def.unwrap())
                    .get_str("default")
                    .and_then(parse_bool)
                    == Some(true)
            })
            .collect();
        self.plan.default_realm = match defaults.as_slice() {
            [d] => *d,
            [] => {
                let first = &self.plan.realms[0];
                self.diags.push(
                    Diagnostic::new(codes::NO_DEFAULT_REALM, format!("no realm is the default one ({} realms defined)", self.plan.realms.len()))
                        .at(header(self.ir, first.def.unwrap()))
                        .label("none of the realms has `default 1`")
                        .help("set `default 1` on the realm that holds hosts and daemons without a `realm`"),
                );
                0
            }
            [first, rest @ ..] => {
                let mut d = Diagnostic::new(
                    codes::SEVERAL_DEFAULT_REALMS,
                    format!("{} realms are the default one", rest.len() + 1),
                )
                .at(self.attr_span(self.plan.realms[*first].def.unwrap(), "default"))
                .label(format!(
                    "`{}` is a default realm",
                    self.plan.realms[*first].name
                ));
                for r in rest {
                    d = d.secondary(
                        self.attr_span(self.plan.realms[*r].def.unwrap(), "default"),
                        format!("`{}` too", self.plan.realms[*r].name),
                    );
                }
                self.diags
                    .push(d.help("keep `default 1` on exactly one realm"));
                *first
            }
        };
    }

    fn host_realms(&mut self) {
        let m = self.model;
        let default = self.plan.default_realm;
        let mut host_realm = vec![None; m.hosts.len()];
        let mut explicit = vec![false; m.hosts.len()];
        for h in 0..m.hosts.len() {
            if let Some(r) = m
                .host(self.res, h as HostId)
                .get_str("realm")
                .map(str::trim)
                .filter(|r| !r.is_empty())
            {
                // Unknown realms were reported by the reference checks.
                host_realm[h] = self.realm_index(r);
                explicit[h] = host_realm[h].is_some();
            }
        }
        // Hostgroup realms, in group name order: a host takes its groups' realm; two groups
        // that disagree, or a group that disagrees with the host's own realm, are errors.
        let mut from_group: Vec<Option<(usize, &str)>> = vec![None; m.hosts.len()];
        let groups = self
            .model
            .named
            .get(&ObjectKind::Hostgroup)
            .cloned()
            .unwrap_or_default();
        let mut reported = 0usize;
        for (g, &def) in &groups {
            let Some(r) = self
                .obj(def)
                .get_str("realm")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .and_then(|r| self.realm_index(r))
            else {
                continue;
            };
            for &h in m.hostgroups.get(g).into_iter().flatten() {
                let hi = h as usize;
                let host_name = &m.host_names[hi];
                let conflict = if explicit[hi] && host_realm[hi] != Some(r) {
                    let hr = host_realm[hi].unwrap();
                    let host_def = m.hosts[hi];
                    if self.model.sem.host_realm_beats_hostgroup {
                        // J2: Shinken keeps the host in its own realm, with a warning.
                        self.diags.push(
                            Diagnostic::new(
                                codes::REALM_CONFLICT_IGNORED,
                                format!(
                                    "host `{host_name}` is in realm `{}` but its hostgroup `{g}` is in realm `{}`; {} keeps the host in `{}`",
                                    self.plan.realms[hr].name,
                                    self.plan.realms[r].name,
                                    self.model.sem.engine.title(),
                                    self.plan.realms[hr].name
                                ),
                            )
                            .at(self.attr_span(host_def, "realm"))
                            .label(format!("realm `{}` set here", self.plan.realms[hr].name))
                            .secondary(self.attr_span(def, "realm"), format!("hostgroup `{g}` is in realm `{}`", self.plan.realms[r].name))
                            .help("give the host and its hostgroup one realm, or remove the host's `realm` if the hostgroup's is meant (Alignak refuses this)"),
                        );
                        continue;
                    }
                    Some(
                        Diagnostic::new(
                            codes::REALM_CONFLICT,
                            format!(
                                "host `{host_name}` is in realm `{}` but its hostgroup `{g}` is in realm `{}`",
                                self.plan.realms[hr].name, self.plan.realms[r].name
                            ),
                        )
                        .at(self.attr_span(host_def, "realm"))
                        .label(format!("realm `{}` set here", self.plan.realms[hr].name))
                        .secondary(self.attr_span(def, "realm"), format!("hostgroup `{g}` is in realm `{}`", self.plan.realms[r].name)),
                    )
                } else if let Some((other, other_group)) = from_group[hi].filter(|(o, _)| *o != r) {
                    let other_def = groups[other_group];
                    Some(
                        Diagnostic::new(
                            codes::REALM_CONFLICT,
                            format!(
                                "host `{host_name}` is in hostgroups of two realms: `{other_group}` ({}) and `{g}` ({})",
                                self.plan.realms[other].name, self.plan.realms[r].name
                            ),
                        )
                        .at(self.attr_span(def, "realm"))
                        .label(format!("hostgroup `{g}` is in realm `{}`", self.plan.realms[r].name))
                        .secondary(self.attr_span(other_def, "realm"), format!("hostgroup `{other_group}` is in realm `{}`", self.plan.realms[other].name)),
                    )
                } else {
                    None
                };
                match conflict {
                    Some(d) => {
                        reported += 1;
                        if reported <= 20 {
                            self.diags.push(d.help("give the host one realm: change its `realm`, or move it out of the other realm's hostgroup"));
                        }
                    }
                    None => {
                        if from_group[hi].is_none() {
                            from_group[hi] = Some((r, g.as_str()));
                        }
                    }
                }
            }
        }
        if reported > 20 {
            self.diags.push(
                Diagnostic::new(
                    codes::REALM_CONFLICT,
                    format!("{} more hosts have conflicting realms", reported - 20),
                )
                .help("fix the conflicts above the same way; only the first 20 are shown"),
            );
        }
        self.plan.host_realm = (0..m.hosts.len())
            .map(|h| {
                host_realm[h]
                    .or(from_group[h].map(|(r, _)| r))
                    .unwrap_or(default)
            })
            .collect();
    }

    fn daemons(&mut self) {
        let default = self.plan.default_realm;
        let mut daemons = Vec::new();
        for &kind in DAEMON_KINDS {
            let named = self.model.named.get(&kind).cloned().unwrap_or_default();
            if named.is_empty() && kind == ObjectKind::Receiver && !self.model.sem.default_receiver
            {
                // J1: Shinken 2.4 creates no implicit receiver.
                continue;
            }
            if named.is_empty() {
                // The implicit daemon of each type, on localhost, in the default realm.
                let name = format!("{}-master", kind.keyword());
                daemons.push(Daemon {
                    kind,
                    name,
                    realm: default,
                    spare: false,
                    weight: 1,
                    manage_sub_realms: true,
                    tags: vec!["None".into()],
                    address: "localhost".into(),
                    port: default_port(kind),
                    check_interval: 60,
                    timeout: 3,
                    max_check_attempts: 3,
                    def: None,
                });
                continue;
            }
            for (name, &def) in &named {
                let o = self.obj(def);
                let realm = o
                    .get_str("realm")
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .and_then(|r| self.realm_index(r))
                    .unwrap_or(default);
                let flag = |k: &str, d: bool| o.get_str(k).and_then(parse_bool).unwrap_or(d);
                let tags_key = match kind {
                    ObjectKind::Poller => "poller_tags",
                    _ => "reactionner_tags",
                };
                let mut tags: Vec<String> = o.list(tags_key).to_vec();
                if tags.is_empty() {
                    tags.push("None".into());
                }
                let weight = match o.get("weight").map(|a| &a.value) {
                    Some(Value::Int(w)) if *w > 0 => *w as u32,
                    Some(Value::Int(_)) => 0,
                    _ => 1,
                };
                if !is_safe_file_name(name) {
                    self.diags.push(
                        Diagnostic::new(codes::UNSAFE_DAEMON_NAME, format!("{} name `{}` cannot be a file name", kind.keyword(), name.escape_debug()))
                            .at(self.attr_span(def, kind.name_key().unwrap()))
                            .label("its shard file is named after it")
                            .help("use letters, digits, `-`, `_` and `.`; no `/`, `..` or control characters"),
                    );
                }
                daemons.push(Daemon {
                    kind,
                    name: name.clone(),
                    realm,
                    spare: flag("spare", false),
                    weight,
                    manage_sub_realms: flag(
                        "manage_sub_realms",
                        default_manage_sub_realms(kind, self.model.sem),
                    ),
                    tags,
                    address: o.get_str("address").unwrap_or("localhost").to_string(),
                    port: match o.get("port").map(|a| &a.value) {
                        Some(Value::Int(p)) if (1..=65535).contains(p) => *p as u16,
                        _ => default_port(kind),
                    },
                    check_interval: positive(o, "check_interval", 60),
                    timeout: positive(o, "timeout", 3),
                    max_check_attempts: positive(o, "max_check_attempts", 3),
                    def: Some(def),
                });
            }
        }
        self.plan.daemons = daemons;
    }

    fn packs(&mut self) {
        let m = self.model;
        let n = m.hosts.len();
        // Relations, kept with what they are for the error message.
        let mut edges: Vec<(HostId, HostId, &'static str)> = Vec::new();
        for h in 0..n {
            for &p in &m.parents[h] {
                edges.push((h as HostId, p, "parent"));
            }
        }
        for d in &m.host_dependencies {
            edges.push((d.dependent, d.master, "hostdependency"));
        }
        for d in &m.service_dependencies {
            let (a, b) = (
                m.services[d.dependent as usize].host,
                m.services[d.master as usize].host,
            );
            if a != b {
                edges.push((a, b, "servicedependency"));
            }
        }
        // A group-to-group rule ties all the hosts of both sides: a star around its first
        // master host is as many edges as hosts, not their product.
        for r in &m.host_dependency_rules {
            let hub = r.masters[0];
            for &h in r.masters.iter().chain(&r.dependents) {
                if h != hub {
                    edges.push((h, hub, "hostdependency"));
                }
            }
        }
        for r in &m.service_dependency_rules {
            let host = |s: &u32| m.services[*s as usize].host;
            let hub = host(&r.masters[0]);
            let mut hosts: Vec<HostId> = r.masters.iter().chain(&r.dependents).map(host).collect();
            hosts.sort_unstable();
            hosts.dedup();
            for h in hosts {
                if h != hub {
                    edges.push((h, hub, "servicedependency"));
                }
            }
        }
        // Business rules: every host a rule reads (names, groups, patterns, templates,
        // labels), as the expansion found them.
        for (h, others) in &m.business_rules {
            for &other in others {
                edges.push((*h, other, "business rule"));
            }
        }
        let mut uf: UnionFind<u32> = UnionFind::new(n);
        for &(a, b, _) in &edges {
            uf.union(a, b);
        }
        let labels = uf.into_labeling();
        let host_load = self.host_loads();
        // Packs in order of their first (smallest-named) host: hosts are already in name order.
        let mut pack_of_label: HashMap<u32, usize> = HashMap::new();
        let mut packs: Vec<Pack> = Vec::new();
        let mut host_pack = vec![0usize; n];
        for h in 0..n {
            let p = *pack_of_label.entry(labels[h]).or_insert_with(|| {
                packs.push(Pack {
                    hosts: Vec::new(),
                    realm: 0,
                    load: 0,
                    scheduler: None,
                });
                packs.len() - 1
            });
            packs[p].hosts.push(h as HostId);
            packs[p].load += host_load[h];
            host_pack[h] = p;
        }
        // A pack's realm: its hosts must share one.
        let mut adjacency: Option<Vec<Vec<(HostId, &'static str)>>> = None;
        for pack in &mut packs {
            let realms: BTreeSet<usize> = pack
                .hosts
                .iter()
                .map(|&h| self.plan.host_realm[h as usize])
                .collect();
            pack.realm = self.plan.host_realm[pack.hosts[0] as usize];
            if realms.len() > 1 {
                let adj = adjacency.get_or_insert_with(|| {
                    let mut adj = vec![Vec::new(); n];
                    for &(a, b, what) in &edges {
                        adj[a as usize].push((b, what));
                        adj[b as usize].push((a, what));
                    }
                    adj
                });
                let a = pack.hosts[0];
                let b = *pack
                    .hosts
                    .iter()
                    .find(|&&h| {
                        self.plan.host_realm[h as usize] != self.plan.host_realm[a as usize]
                    })
                    .unwrap();
                let chain = shortest_chain(adj, a, b);
                let mut text = m.host_names[a as usize].clone();
                for (h, what) in &chain {
                    text.push_str(&format!(" -{what}-> {}", m.host_names[*h as usize]));
                }
                let names: Vec<String> = realms
                    .iter()
                    .map(|&r| format!("`{}`", self.plan.realms[r].name))
                    .collect();
                let host_def = m.hosts[b as usize];
                self.diags.push(
                    Diagnostic::new(
                        codes::PACK_SPANS_REALMS,
                        format!("hosts of realms {} are tied together: {text}", names.join(", ")),
                    )
                    .at(header(self.ir, m.hosts[a as usize]))
                    .label(format!("`{}` is in realm `{}`", m.host_names[a as usize], self.plan.realms[self.plan.host_realm[a as usize]].name))
                    .secondary(header(self.ir, host_def), format!("`{}` is in realm `{}`", m.host_names[b as usize], self.plan.realms[self.plan.host_realm[b as usize]].name))
                    .note(format!("the {} hosts tied together must run on one scheduler, which serves one realm", pack.hosts.len()))
                    .help("put these hosts in one realm, or remove the relation that ties them"),
                );
            }
        }
        self.plan.packs = packs;
        self.plan.host_pack = host_pack;
    }

    /// Each host's load: its checks (itself and its services), or their rate per hour.
    fn host_loads(&self) -> Vec<u64> {
        let m = self.model;
        match self.balance {
            Balance::Checks => (0..m.hosts.len())
                .map(|h| 1 + m.services_of(h as HostId).len() as u64)
                .collect(),
            Balance::Rate => {
                let interval_length = self
                    .ir
                    .main
                    .get("interval_length")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|v| *v > 0.0)
                    .unwrap_or(60.0);
                let sem = m.sem;
                // Active checks per hour of an object with these attributes, read as the
                // engine reads them (F3: Nagios's `atoi`, so `yes` is false; G2, G3: its
                // default interval).
                let rate = |active: Option<&str>, interval: Option<&str>| -> f64 {
                    let off = match active {
                        Some(v) if sem.atoi_values => crate::lower::atoi(v) <= 0,
                        Some(v) => parse_bool(v) == Some(false),
                        None => false,
                    };
                    if off {
                        return 0.0;
                    }
                    let interval = match interval {
                        Some(v) if sem.atoi_values => Some(crate::lower::strtod(v)),
                        Some(v) => v.trim().parse::<f64>().ok(),
                        None => Some(sem.default_check_interval),
                    };
                    match interval {
                        Some(i) if i > 0.0 => 3600.0 / (i * interval_length),
                        _ => 0.0,
                    }
                };
                let mut per_def: Vec<Option<f64>> = vec![None; self.res.objects.len()];
                (0..m.hosts.len())
                    .map(|h| {
                        let host = m.host(self.res, h as HostId);
                        let mut total = rate(
                            host.get_str("active_checks_enabled"),
                            host.get_str("check_interval"),
                        );
                        for sid in m.services_of(h as HostId) {
                            let s = &m.services[sid as usize];
                            total += if s.overrides.is_empty() {
                                *per_def[s.def].get_or_insert_with(|| {
                                    let d = &self.res.objects[s.def];
                                    rate(
                                        d.get_str("active_checks_enabled"),
                                        d.get_str("check_interval"),
                                    )
                                })
                            } else {
                                let at = |k: &str| {
                                    m.service_attr(self.res, s, k).map(|a| a.raw.as_str())
                                };
                                rate(at("active_checks_enabled"), at("check_interval"))
                            };
                        }
                        total.round() as u64
                    })
                    .collect()
            }
        }
    }

    /// Every poller / reactionner tag used in a realm is served there.
    fn tags(&mut self) {
        let m = self.model;
        // (kind, tag, realm) → an example host.
        let mut used: BTreeMap<(ObjectKind, String, usize), HostId> = BTreeMap::new();
        let command_tag = |cmd: Option<&str>, key: &str| -> Option<String> {
            let name = cmd?.split('!').next()?.trim();
            let def = *self.model.named.get(&ObjectKind::Command)?.get(name)?;
            self.obj(def).get_str(key).map(str::to_string)
        };
        for h in 0..m.hosts.len() {
            let host = m.host(self.res, h as HostId);
            let r = self.plan.host_realm[h];
            let pt = host
                .get_str("poller_tag")
                .map(str::to_string)
                .or_else(|| command_tag(host.get_str("check_command"), "poller_tag"))
                .unwrap_or_else(|| "None".into());
            used.entry((ObjectKind::Poller, pt, r))
                .or_insert(h as HostId);
            let rt = host
                .get_str("reactionner_tag")
                .map(str::to_string)
                .or_else(|| command_tag(host.get_str("event_handler"), "reactionner_tag"))
                .unwrap_or_else(|| "None".into());
            used.entry((ObjectKind::Reactionner, rt, r))
                .or_insert(h as HostId);
        }
        // Services: a definition's own tags (or its command's) are looked up once; the
        // service's realm and its host's tags complete the key. Per host, not per service.
        let mut by_def: Vec<Option<(Option<String>, Option<String>)>> =
            vec![None; self.res.objects.len()];
        for s in m.services.iter() {
            if by_def[s.def].is_none() {
                let d = &self.res.objects[s.def];
                by_def[s.def] = Some((
                    d.get_str("poller_tag")
                        .map(str::to_string)
                        .or_else(|| command_tag(d.get_str("check_command"), "poller_tag")),
                    d.get_str("reactionner_tag")
                        .map(str::to_string)
                        .or_else(|| command_tag(d.get_str("event_handler"), "reactionner_tag")),
                ));
            }
        }
        let mut seen: BTreeSet<(&str, &str, usize)> = BTreeSet::new();
        let mut overridden = Vec::new();
        for h in 0..m.hosts.len() {
            let host = m.host(self.res, h as HostId);
            let r = self.plan.host_realm[h];
            // Untagged services take their host's tag (implicit inheritance).
            let host_pt = host.get_str("poller_tag");
            let host_rt = host.get_str("reactionner_tag");
            for sid in m.services_of(h as HostId) {
                let s = &m.services[sid as usize];
                if !s.overrides.is_empty() {
                    overridden.push(s);
                    continue;
                }
                let (dpt, drt) = by_def[s.def].as_ref().unwrap();
                let pt = dpt.as_deref().or(host_pt).unwrap_or("None");
                let rt = drt.as_deref().or(host_rt).unwrap_or("None");
                if seen.insert((pt, rt, r)) {
                    used.entry((ObjectKind::Poller, pt.to_string(), r))
                        .or_insert(s.host);
                    used.entry((ObjectKind::Reactionner, rt.to_string(), r))
                        .or_insert(s.host);
                }
            }
        }
        for s in overridden {
            let r = self.plan.host_realm[s.host as usize];
            let at = |k: &str| m.service_attr(self.res, s, k).map(|a| a.raw.clone());
            let pt = at("poller_tag")
                .or_else(|| command_tag(at("check_command").as_deref(), "poller_tag"))
                .unwrap_or_else(|| "None".into());
            let rt = at("reactionner_tag")
                .or_else(|| command_tag(at("event_handler").as_deref(), "reactionner_tag"))
                .unwrap_or_else(|| "None".into());
            used.entry((ObjectKind::Poller, pt, r)).or_insert(s.host);
            used.entry((ObjectKind::Reactionner, rt, r))
                .or_insert(s.host);
        }
        for ((kind, tag, realm), host) in used {
            let served = self.plan.daemons.iter().any(|d| {
                d.kind == kind
                    && !d.spare
                    && d.tags.contains(&tag)
                    && (d.realm == realm
                        || (d.manage_sub_realms && self.plan.is_ancestor(d.realm, realm)))
            });
            if served {
                continue;
            }
            let what = kind.keyword();
            let host_name = &m.host_names[host as usize];
            let realm_name = &self.plan.realms[realm].name;
            let span = m
                .host(self.res, host)
                .get(if kind == ObjectKind::Poller {
                    "poller_tag"
                } else {
                    "reactionner_tag"
                })
                .map(|a| a.sources[0].value_span)
                .unwrap_or(header(self.ir, m.hosts[host as usize]));
            self.diags.push(
                Diagnostic::new(
                    codes::UNSERVED_TAG,
                    format!("no {what} serves {what}_tag `{tag}` in realm `{realm_name}`; host `{host_name}` would never be checked"),
                )
                .at(span)
                .label(format!("`{host_name}` (realm `{realm_name}`) needs a {what} with tag `{tag}`"))
                .help(format!(
                    "add `{tag}` to the {what}_tags of a {what} in realm `{realm_name}` (or in a parent realm with manage_sub_realms 1)"
                )),
            );
        }
    }

    fn assign(&mut self) {
        let m = self.model;
        let mut schedulers: Vec<SchedulerLoad> = Vec::new();
        let mut index: HashMap<usize, usize> = HashMap::new();
        for (i, d) in self.plan.daemons.iter().enumerate() {
            if d.kind == ObjectKind::Scheduler && !d.spare {
                index.insert(i, schedulers.len());
                schedulers.push(SchedulerLoad {
                    daemon: i,
                    load: 0,
                    hosts: 0,
                    services: 0,
                    packs: 0,
                });
            }
        }
        for r in 0..self.plan.realms.len() {
            let mut packs: Vec<usize> = (0..self.plan.packs.len())
                .filter(|&p| self.plan.packs[p].realm == r)
                .collect();
            if packs.is_empty() {
                continue;
            }
            let own: Vec<usize> = schedulers
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    self.plan.daemons[s.daemon].realm == r && self.plan.daemons[s.daemon].weight > 0
                })
                .map(|(i, _)| i)
                .collect();
            if own.is_empty() {
                let hosts: Vec<&str> = packs
                    .iter()
                    .flat_map(|&p| &self.plan.packs[p].hosts)
                    .map(|&h| m.host_names[h as usize].as_str())
                    .collect();
                let shown: Vec<&str> = hosts.iter().take(10).copied().collect();
                let realm = &self.plan.realms[r];
                let mut d = Diagnostic::new(
                    codes::REALM_WITHOUT_SCHEDULER,
                    format!("realm `{}` has {} hosts and no scheduler to run them: {}{}", realm.name, hosts.len(), shown.join(", "), if hosts.len() > 10 { ", …" } else { "" }),
                )
                .help(format!("define a scheduler with `realm {}` (spares and schedulers of weight 0 do not count)", realm.name));
                if let Some(def) = realm.def {
                    d = d
                        .at(header(self.ir, def))
                        .label("this realm's hosts would be unmonitored");
                }
                self.diags.push(d);
                continue;
            }
            // Largest packs first; ties by first host name (packs are in that order).
            packs.sort_by(|&a, &b| {
                self.plan.packs[b]
                    .load
                    .cmp(&self.plan.packs[a].load)
                    .then(a.cmp(&b))
            });
            let realm_load: u64 = packs.iter().map(|&p| self.plan.packs[p].load).sum();
            let realm_weight: u64 = own
                .iter()
                .map(|&s| self.plan.daemons[schedulers[s].daemon].weight as u64)
                .sum();
            let largest = packs
                .iter()
                .map(|&p| self.plan.packs[p].load)
                .max()
                .unwrap_or(0);
            // Sticky: a pack whose known hosts were all on one scheduler that still runs this
            // realm stays there while that scheduler's load stays within the bound
            // w·(L + largest pack)/W, i.e. balance ratio ≤ 1 + largest/L.
            let mut fresh = Vec::new();
            for p in packs {
                let target = self
                    .previous_scheduler(p)
                    .and_then(|d| own.iter().copied().find(|&s| schedulers[s].daemon == d));
                let Some(s) = target else {
                    fresh.push(p);
                    continue;
                };
                let load = self.plan.packs[p].load;
                let w = self.plan.daemons[schedulers[s].daemon].weight as u128;
                let cap = w * (realm_load + largest) as u128;
                if (schedulers[s].load + load) as u128 * realm_weight as u128 <= cap {
                    self.put(&mut schedulers[s], p);
                } else {
                    fresh.push(p);
                }
            }
            // The others: each to the scheduler whose load relative to its weight stays
            // lowest; ties by scheduler name (daemons are sorted by name).
            for p in fresh {
                let load = self.plan.packs[p].load;
                let best = *own
                    .iter()
                    .min_by(|&&a, &&b| {
                        let (sa, sb) = (&schedulers[a], &schedulers[b]);
                        let wa = self.plan.daemons[sa.daemon].weight as u128;
                        let wb = self.plan.daemons[sb.daemon].weight as u128;
                        // (la + load)/wa vs (lb + load)/wb, exactly.
                        ((sa.load + load) as u128 * wb)
                            .cmp(&((sb.load + load) as u128 * wa))
                            .then(sa.daemon.cmp(&sb.daemon))
                    })
                    .unwrap();
                self.put(&mut schedulers[best], p);
            }
            let total: u64 = own.iter().map(|&s| schedulers[s].load).sum();
            let weight: u64 = own
                .iter()
                .map(|&s| self.plan.daemons[schedulers[s].daemon].weight as u64)
                .sum();
            let worst = own
                .iter()
                .map(|&s| {
                    schedulers[s].load as f64
                        / self.plan.daemons[schedulers[s].daemon].weight as f64
                })
                .fold(0.0, f64::max);
            let largest = self
                .plan
                .packs
                .iter()
                .filter(|p| p.realm == r)
                .map(|p| p.load)
                .max()
                .unwrap_or(0);
            self.plan.balance.push(RealmBalance {
                realm: r,
                load: total,
                weight,
                ratio: if total == 0 {
                    1.0
                } else {
                    worst / (total as f64 / weight as f64)
                },
                bound: if total == 0 {
                    1.0
                } else {
                    let w_min = own
                        .iter()
                        .map(|&s| self.plan.daemons[schedulers[s].daemon].weight)
                        .min()
                        .unwrap_or(1) as f64;
                    1.0 + largest as f64 * weight as f64 / (w_min * total as f64)
                },
                largest_pack: largest,
            });
        }
        self.plan.schedulers = schedulers;
        if let Some(prev) = self.previous {
            self.plan.sticky = true;
            for h in 0..m.hosts.len() {
                let Some(from) = prev.get(&m.host_names[h]) else {
                    continue;
                };
                let to = self
                    .plan
                    .scheduler_of_host(h as HostId)
                    .map(|d| self.plan.daemons[d].name.clone())
                    .unwrap_or_default();
                if *from != to {
                    self.plan.moves.push((h as HostId, from.clone(), to));
                }
            }
        }
    }

    fn put(&mut self, s: &mut SchedulerLoad, p: usize) {
        let pack = &self.plan.packs[p];
        s.load += pack.load;
        s.packs += 1;
        s.hosts += pack.hosts.len();
        s.services += pack
            .hosts
            .iter()
            .map(|&h| self.model.services_of(h).len())
            .sum::<usize>();
        self.plan.packs[p].scheduler = Some(s.daemon);
    }

    /// The scheduler (daemon index) that ran every already-known host of pack `p`, if one did.
    fn previous_scheduler(&self, p: usize) -> Option<usize> {
        let prev = self.previous?;
        let mut found: Option<&String> = None;
        for &h in &self.plan.packs[p].hosts {
            if let Some(s) = prev.get(&self.model.host_names[h as usize]) {
                match found {
                    None => found = Some(s),
                    Some(f) if f == s => {}
                    Some(_) => return None,
                }
            }
        }
        let name = found?;
        self.plan
            .daemons
            .iter()
            .position(|d| d.kind == ObjectKind::Scheduler && !d.spare && d.name == *name)
    }

    /// Two daemons at one address and port are one process: the arbiter hands it both
    /// configurations, and the second replaces the first. An error when both hold work (what
    /// one of them holds would go unmonitored), a warning otherwise (the idle one, or a spare
    /// at its master's address, would never run anything).
    fn shared_endpoints(&mut self) {
        let d = &self.plan.daemons;
        let scheduling = |s: usize| {
            self.plan
                .schedulers
                .iter()
                .any(|x| x.daemon == s && x.hosts > 0)
        };
        let working = |i: usize| {
            !d[i].spare
                && match d[i].kind {
                    ObjectKind::Scheduler => scheduling(i),
                    ObjectKind::Arbiter => true,
                    _ => self
                        .plan
                        .links
                        .get(&i)
                        .is_some_and(|l| l.iter().any(|&s| scheduling(s))),
                }
        };
        // Only daemons that say where they run: one that sets neither `address` nor `port`
        // leaves its place to the defaults, as planning sketches do.
        let placed = |x: &Daemon| {
            x.def.is_some_and(|def| {
                let o = self.obj(def);
                o.get("address").is_some() || o.get("port").is_some()
            })
        };
        let mut at: BTreeMap<(String, u16), Vec<usize>> = BTreeMap::new();
        for (i, x) in d.iter().enumerate().filter(|(_, x)| placed(x)) {
            let host = x.address.trim().to_ascii_lowercase();
            let host = match host.as_str() {
                "127.0.0.1" | "::1" | "[::1]" => "localhost".to_string(),
                _ => host,
            };
            at.entry((host, x.port)).or_default().push(i);
        }
        let mut found = Vec::new();
        for ((host, port), list) in at {
            if list.len() < 2 {
                continue;
            }
            let busy: Vec<usize> = list.iter().copied().filter(|&i| working(i)).collect();
            let names: Vec<String> = list.iter().map(|&i| names_of(d, &[i])).collect();
            let endpoint = format!("{host}:{port}");
            let (code, why, help) = if busy.len() >= 2 {
                (
                    codes::DAEMON_ADDRESS_SHARED,
                    format!(
                        "{} and {} both hold work: one process at {endpoint} would get both configurations, and the one sent last replaces the other (what the first holds goes unmonitored)",
                        names_of(d, &busy[..busy.len() - 1]),
                        names_of(d, &busy[busy.len() - 1..]),
                    ),
                    "give each daemon its own `port` (or `address`)",
                )
            } else {
                (
                    codes::DAEMON_ADDRESS_SHARED_IDLE,
                    "one process answers for all of them: a spare there takes nothing over when its master's process dies, and an idle daemon there would take the working one's place once it gets work".to_string(),
                    "give each daemon its own `port` (or `address`), or remove the one that is not used",
                )
            };
            // Reported at the second definition, pointing to the first and to any others.
            let first = list[0];
            let at = |i: usize| {
                let def = d[i].def.expect("defined daemons only");
                match self.obj(def).get("port").or(self.obj(def).get("address")) {
                    Some(a) => a.sources[0].value_span,
                    None => header(self.ir, def),
                }
            };
            let mut diag = Diagnostic::new(
                code,
                format!(
                    "{} and {} share the address and port {endpoint}",
                    names[..names.len() - 1].join(", "),
                    names[names.len() - 1]
                ),
            )
            .at(at(list[1]))
            .label(format!("the same address and port as {}", names[0]))
            .secondary(at(first), format!("{} is here", names[0]))
            .note(why)
            .help(help);
            for (&i, name) in list.iter().zip(&names).skip(2) {
                diag = diag.secondary(at(i), format!("{name} too"));
            }
            found.push(diag);
        }
        self.diags.extend(found);
    }

    fn satellites(&mut self) {
        let d = &self.plan.daemons;
        let schedulers: Vec<usize> = (0..d.len())
            .filter(|&i| d[i].kind == ObjectKind::Scheduler)
            .collect();
        let serves = |sat: &Daemon, realm: usize| {
            sat.realm == realm || (sat.manage_sub_realms && self.plan.is_ancestor(sat.realm, realm))
        };
        let mut links = BTreeMap::new();
        for (i, sat) in d.iter().enumerate() {
            if matches!(
                sat.kind,
                ObjectKind::Poller
                    | ObjectKind::Reactionner
                    | ObjectKind::Broker
                    | ObjectKind::Receiver
            ) {
                let mut l: Vec<usize> = schedulers
                    .iter()
                    .copied()
                    .filter(|&s| serves(sat, d[s].realm))
                    .collect();
                l.sort_by(|&a, &b| d[a].name.cmp(&d[b].name));
                links.insert(i, l);
            }
        }
        // One broker per scheduler: the least loaded broker that can reach its realm.
        let mut broker_load: BTreeMap<usize, u64> = BTreeMap::new();
        let mut broker_of = BTreeMap::new();
        let load_of = |s: usize| {
            self.plan
                .schedulers
                .iter()
                .find(|x| x.daemon == s)
                .map_or(0, |x| x.load)
        };
        let mut by_load: Vec<usize> = schedulers
            .iter()
            .copied()
            .filter(|&s| !d[s].spare)
            .collect();
        by_load.sort_by(|&a, &b| load_of(b).cmp(&load_of(a)).then(d[a].name.cmp(&d[b].name)));
        for s in by_load {
            let candidates: Vec<usize> = (0..d.len())
                .filter(|&b| {
                    d[b].kind == ObjectKind::Broker && !d[b].spare && serves(&d[b], d[s].realm)
                })
                .collect();
            let Some(&best) = candidates.iter().min_by(|&&a, &&b| {
                let (la, lb) = (
                    broker_load.get(&a).copied().unwrap_or(0),
                    broker_load.get(&b).copied().unwrap_or(0),
                );
                // Prefer the scheduler's own realm, then the least loaded.
                (d[a].realm != d[s].realm, la, &d[a].name).cmp(&(
                    d[b].realm != d[s].realm,
                    lb,
                    &d[b].name,
                ))
            }) else {
                let mut diag = Diagnostic::new(
                    codes::SCHEDULER_WITHOUT_BROKER,
                    format!(
                        "no broker takes the broks of scheduler `{}` (realm `{}`)",
                        d[s].name, self.plan.realms[d[s].realm].name
                    ),
                )
                .help(
                    "define a broker in this realm, or in a parent realm with manage_sub_realms 1",
                );
                if let Some(def) = d[s].def {
                    diag = diag
                        .at(header(self.ir, def))
                        .label("its results would reach no broker");
                }
                self.diags.push(diag);
                continue;
            };
            *broker_load.entry(best).or_default() += load_of(s).max(1);
            broker_of.insert(s, best);
        }
        // Spares: same type, own realm first, then ancestors that manage sub-realms.
        let mut spares = BTreeMap::new();
        for (i, x) in d.iter().enumerate().filter(|(_, x)| !x.spare) {
            let mut list: Vec<(usize, usize)> = Vec::new();
            let mut realm = Some(x.realm);
            let mut depth = 0;
            while let Some(r) = realm {
                for (j, y) in d.iter().enumerate() {
                    if y.kind == x.kind
                        && y.spare
                        && y.realm == r
                        && (depth == 0 || y.manage_sub_realms)
                    {
                        list.push((depth, j));
                    }
                }
                realm = self.plan.realms[r].parent;
                depth += 1;
            }
            list.sort_by(|a, b| a.0.cmp(&b.0).then(d[a.1].name.cmp(&d[b.1].name)));
            spares.insert(i, list.into_iter().map(|(_, j)| j).collect());
        }
        self.plan.links = links;
        self.plan.broker_of = broker_of;
        self.plan.spares = spares;
    }
}

/// A positive integer attribute of a daemon, or its default.
fn positive(o: &ResolvedObject, key: &str, default: u32) -> u32 {
    o.get_str(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| *v >= 1.0 && *v <= u32::MAX as f64)
        .map_or(default, |v| v as u32)
}

/// The shortest chain of relations from `a` to `b` (breadth first, neighbours in name order).
fn shortest_chain(
    adj: &[Vec<(HostId, &'static str)>],
    a: HostId,
    b: HostId,
) -> Vec<(HostId, &'static str)> {
    let mut prev: HashMap<HostId, (HostId, &'static str)> = HashMap::new();
    let mut queue = VecDeque::from([a]);
    let mut seen = BTreeSet::from([a]);
    while let Some(x) = queue.pop_front() {
        if x == b {
            break;
        }
        let mut next = adj[x as usize].clone();
        next.sort();
        for (y, what) in next {
            if seen.insert(y) {
                prev.insert(y, (x, what));
                queue.push_back(y);
            }
        }
    }
    let mut chain = Vec::new();
    let mut cur = b;
    while cur != a {
        let Some(&(p, what)) = prev.get(&cur) else {
            break;
        };
        chain.push((cur, what));
        cur = p;
    }
    chain.reverse();
    chain
}

/// Daemon names become file names.
pub fn is_safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}
