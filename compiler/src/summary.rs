//! Object counts, the way `nagios4 -v` counts them: real (registered) objects, one per name,
//! with services, escalations and dependencies counted once per host (and service) they
//! expand to.
//!
//! Host selection here follows the plain forms (`host_name` lists with `*` and `!`,
//! `hostgroup_name` lists, group `members`, host-side `hostgroups`, nested
//! `hostgroup_members`) on objects as written.

use std::collections::{BTreeSet, HashMap};

use crate::ir::{Ir, Object};
use crate::schema::ObjectKind;

/// Counts per object type, in the order `nagios4 -v` prints them, then the Shinken types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub counts: Vec<(&'static str, usize)>,
}

impl Summary {
    pub fn get(&self, key: &str) -> usize {
        self.counts
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

pub fn summarize(ir: &Ir) -> Summary {
    let hosts = Hosts::new(ir);
    let named = |kind| {
        ir.of_kind(kind)
            .filter(|o| o.register)
            .filter_map(Object::name)
            .collect::<BTreeSet<_>>()
            .len()
    };
    let count = |kind| ir.of_kind(kind).filter(|o| o.register).count();

    let mut services = BTreeSet::new();
    for s in ir.of_kind(ObjectKind::Service).filter(|o| o.register) {
        let Some(desc) = s.get_str("service_description") else {
            continue;
        };
        for h in hosts.select(s, "host_name", "hostgroup_name") {
            services.insert((h, desc));
        }
    }
    let per_host = |kind, descs: Option<&str>| -> usize {
        ir.of_kind(kind)
            .filter(|o| o.register)
            .map(|o| {
                let n = hosts.select(o, "host_name", "hostgroup_name").len();
                let d = descs.map_or(1, |k| o.get(k).map_or(0, |a| list_len(&a.raw)));
                n * d
            })
            .sum()
    };
    let dependencies = |kind, descs: Option<(&str, &str)>| -> usize {
        ir.of_kind(kind)
            .filter(|o| o.register)
            .map(|o| {
                let masters = hosts.select(o, "host_name", "hostgroup_name").len();
                let mut dependents = hosts
                    .select(o, "dependent_host_name", "dependent_hostgroup_name")
                    .len();
                if kind == ObjectKind::Servicedependency
                    && o.get("dependent_host_name").is_none()
                    && o.get("dependent_hostgroup_name").is_none()
                {
                    // Nagios: a service dependency without dependent hosts is on the same host.
                    dependents = 1;
                }
                let (m, d) = descs.map_or((1, 1), |(a, b)| {
                    (
                        o.get(a).map_or(0, |x| list_len(&x.raw)),
                        o.get(b).map_or(0, |x| list_len(&x.raw)),
                    )
                });
                masters * dependents * m * d * criteria_objects(kind, o)
            })
            .sum()
    };

    Summary {
        counts: vec![
            ("services", services.len()),
            ("hosts", hosts.all.len()),
            ("hostgroups", named(ObjectKind::Hostgroup)),
            ("servicegroups", named(ObjectKind::Servicegroup)),
            ("contacts", named(ObjectKind::Contact)),
            ("contactgroups", named(ObjectKind::Contactgroup)),
            ("commands", named(ObjectKind::Command)),
            ("timeperiods", named(ObjectKind::Timeperiod)),
            (
                "hostescalations",
                per_host(ObjectKind::Hostescalation, None),
            ),
            (
                "serviceescalations",
                per_host(ObjectKind::Serviceescalation, Some("service_description")),
            ),
            (
                "hostdependencies",
                dependencies(ObjectKind::Hostdependency, None),
            ),
            (
                "servicedependencies",
                dependencies(
                    ObjectKind::Servicedependency,
                    Some(("service_description", "dependent_service_description")),
                ),
            ),
            ("escalations", named(ObjectKind::Escalation)),
            ("notificationways", named(ObjectKind::Notificationway)),
            ("hostextinfos", count(ObjectKind::Hostextinfo)),
            ("serviceextinfos", count(ObjectKind::Serviceextinfo)),
            ("realms", named(ObjectKind::Realm)),
            ("arbiters", named(ObjectKind::Arbiter)),
            ("schedulers", named(ObjectKind::Scheduler)),
            ("pollers", named(ObjectKind::Poller)),
            ("reactionners", named(ObjectKind::Reactionner)),
            ("brokers", named(ObjectKind::Broker)),
            ("receivers", named(ObjectKind::Receiver)),
            ("modules", named(ObjectKind::Module)),
        ],
    }
}

/// How many dependency objects `nagios4 -v` counts for one expanded pair: Nagios registers
/// one per failure-criteria attribute (notification, execution), none without criteria.
/// Observed with Nagios 4.4: a service dependency criterion of `n` registers nothing; a host
/// dependency criterion of `n` registers nothing alone but counts beside the other one.
fn criteria_objects(kind: ObjectKind, o: &Object) -> usize {
    let set: Vec<&str> = [
        "notification_failure_criteria",
        "execution_failure_criteria",
    ]
    .iter()
    .filter_map(|k| o.get_str(k))
    .collect();
    match kind {
        ObjectKind::Hostdependency if set.len() == 2 => 2,
        _ => set.iter().filter(|v| v.trim() != "n").count(),
    }
}

fn list_len(raw: &str) -> usize {
    raw.split(',').filter(|s| !s.trim().is_empty()).count()
}

/// Registered host names and hostgroup membership.
struct Hosts<'a> {
    all: BTreeSet<&'a str>,
    groups: HashMap<&'a str, Vec<&'a str>>,
    nested: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Hosts<'a> {
    fn new(ir: &'a Ir) -> Hosts<'a> {
        let all: BTreeSet<&str> = ir
            .of_kind(ObjectKind::Host)
            .filter(|o| o.register)
            .filter_map(Object::name)
            .collect();
        let mut groups: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut nested: HashMap<&str, Vec<&str>> = HashMap::new();
        for g in ir.of_kind(ObjectKind::Hostgroup).filter(|o| o.register) {
            let Some(name) = g.name() else { continue };
            let members = groups.entry(name).or_default();
            for m in g.get("members").map(|a| a.as_list()).unwrap_or(&[]) {
                if m == "*" {
                    members.extend(all.iter().copied());
                } else {
                    members.push(m);
                }
            }
            nested.entry(name).or_default().extend(
                g.get("hostgroup_members")
                    .map(|a| a.as_list())
                    .unwrap_or(&[])
                    .iter()
                    .map(String::as_str),
            );
        }
        for h in ir.of_kind(ObjectKind::Host).filter(|o| o.register) {
            let Some(name) = h.name() else { continue };
            for g in h.get("hostgroups").map(|a| a.as_list()).unwrap_or(&[]) {
                groups.entry(g.as_str()).or_default().push(name);
            }
        }
        Hosts {
            all,
            groups,
            nested,
        }
    }

    fn group_members(&self, group: &str, out: &mut BTreeSet<&'a str>) {
        let mut stack = vec![group];
        let mut visited = BTreeSet::new();
        while let Some(g) = stack.pop() {
            if !visited.insert(g) {
                continue;
            }
            if let Some(m) = self.groups.get(g) {
                out.extend(m.iter().filter(|h| self.all.contains(*h)));
            }
            if let Some(n) = self.nested.get(g) {
                stack.extend(n.iter().copied());
            }
        }
    }

    /// The hosts an object applies to: its groups' members first, then `host_name` entries
    /// in order (`!h` removes, `*` adds every host).
    fn select(&self, o: &'a Object, hosts_key: &str, groups_key: &str) -> BTreeSet<&'a str> {
        let mut out = BTreeSet::new();
        if let Some(g) = o.get(groups_key) {
            let mut excluded = BTreeSet::new();
            for entry in g
                .raw
                .split([',', '|'])
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                match entry.strip_prefix('!') {
                    Some(x) => self.group_members(x, &mut excluded),
                    None if entry == "*" => out.extend(self.all.iter().copied()),
                    None => self.group_members(entry, &mut out),
                }
            }
            out.retain(|h| !excluded.contains(h));
        }
        if let Some(h) = o.get(hosts_key) {
            for entry in h.as_list() {
                match entry.strip_prefix('!') {
                    Some(x) => {
                        out.remove(x);
                    }
                    None if entry == "*" => out.extend(self.all.iter().copied()),
                    None => {
                        if let Some(known) = self.all.get(entry.as_str()) {
                            out.insert(known);
                        }
                    }
                }
            }
        }
        out
    }
}
