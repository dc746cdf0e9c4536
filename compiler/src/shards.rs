//! Emission: the plan turned into the shard set (file path → content), one self-contained
//! shard per scheduler, one per satellite, and the manifest. Pure: the CLI writes the files.
//!
//! Shards are built in parallel (one per daemon) and collected in name order; every map is
//! sorted, so the same configuration gives the same bytes whatever the thread count.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use monitorc_runtime::shard::{
    digest, satellite_dir, to_ron, Attributes, HostDependency, HostDependencyRule, Liveness,
    Manifest, SatelliteEntry, SatelliteShard, SchedulerEntry, SchedulerLink, SchedulerShard,
    ServiceDependency, ServiceDependencyRule, ServiceEntry,
};
use monitorc_runtime::FORMAT_VERSION;

use crate::expand::{HostId, GHOST_COMMANDS};
use crate::resolve::ResolvedObject;
use crate::schema::ObjectKind;
use crate::Checked;

use monitorc_runtime::shard::DEPENDENCY_KEYS;

/// Attributes that shape resolution but mean nothing once resolved.
const NOT_EMITTED: &[&str] = &[
    "use",
    "name",
    "register",
    "hostgroup_name",
    "duplicate_foreach",
    "default_value",
    "definition_order",
];

/// Values every engine takes when the attribute is absent: not written, so shards stay small.
const DEFAULTS: &[(&str, &str)] = &[
    ("active_checks_enabled", "1"),
    ("check_freshness", "0"),
    ("event_handler_enabled", "1"),
    ("flap_detection_enabled", "1"),
    ("is_volatile", "0"),
    ("notifications_enabled", "1"),
    ("obsess_over_host", "0"),
    ("obsess_over_service", "0"),
    ("passive_checks_enabled", "1"),
    ("process_perf_data", "1"),
    ("retain_nonstatus_information", "1"),
    ("retain_status_information", "1"),
];

fn is_default(k: &str, v: &str) -> bool {
    DEFAULTS.iter().any(|(dk, dv)| *dk == k && *dv == v.trim())
}

fn attributes(o: &ResolvedObject) -> Attributes {
    let mut out: Attributes = o
        .attrs
        .iter()
        .filter(|(k, v)| !NOT_EMITTED.contains(&&**k) && !is_default(k, &v.raw))
        .map(|(k, v)| (k.to_string(), v.raw.clone()))
        .collect();
    out.extend(
        o.customs
            .iter()
            .map(|(k, v)| (k.to_string(), v.raw.clone())),
    );
    out
}

fn names(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The notification commands and periods a contact or notification way names.
fn notification_refs(
    a: &Attributes,
    commands: &mut BTreeSet<String>,
    periods: &mut BTreeSet<String>,
) {
    for k in [
        "host_notification_commands",
        "service_notification_commands",
    ] {
        commands.extend(
            names(a.get(k).map(String::as_str))
                .iter()
                .filter_map(|v| command_name(v)),
        );
    }
    for k in ["host_notification_period", "service_notification_period"] {
        periods.extend(a.get(k).cloned());
    }
}

fn command_name(v: &str) -> Option<String> {
    let n = v.split('!').next()?.trim();
    (!n.is_empty() && !GHOST_COMMANDS.contains(&n)).then(|| n.to_string())
}

/// The whole set: relative path → file content, the manifest included. With `nagios`, also
/// `nagios/<scheduler>/` directories (not part of the verified set: derived, for Nagios).
pub fn emit(c: &Checked, nagios: bool) -> BTreeMap<String, String> {
    let p = &c.plan;
    let d = &p.daemons;
    let schedulers: Vec<usize> = (0..d.len())
        .filter(|&i| d[i].kind == ObjectKind::Scheduler)
        .collect();
    let rendered: Vec<(String, String, BTreeMap<String, String>)> = schedulers
        .par_iter()
        .map(|&s| {
            let shard = scheduler_shard(c, s);
            let extra = if nagios && !d[s].spare {
                monitorc_runtime::nagios::render(&shard)
            } else {
                BTreeMap::new()
            };
            (d[s].name.clone(), to_ron(&shard), extra)
        })
        .collect();
    let mut files = BTreeMap::new();
    let mut derived = BTreeMap::new();
    for (name, text, extra) in rendered {
        files.insert(format!("schedulers/{name}.ron"), text);
        for (rel, content) in extra {
            derived.insert(format!("nagios/{name}/{rel}"), content);
        }
    }
    for (i, x) in d.iter().enumerate() {
        let Some(links) = p.links.get(&i) else {
            continue;
        };
        let kind = x.kind.keyword();
        let mut shard = SatelliteShard {
            format_version: FORMAT_VERSION,
            name: x.name.clone(),
            kind: kind.to_string(),
            realm: p.realm_name(x.realm).to_string(),
            tags: x.tags.clone(),
            manage_sub_realms: x.manage_sub_realms,
            schedulers: links
                .iter()
                .map(|&s| SchedulerLink {
                    name: d[s].name.clone(),
                    address: d[s].address.clone(),
                    port: d[s].port,
                })
                .collect(),
            spares: p
                .spares
                .get(&i)
                .into_iter()
                .flatten()
                .map(|&s| d[s].name.clone())
                .collect(),
            hosts: BTreeMap::new(),
        };
        if x.kind == ObjectKind::Receiver {
            for h in 0..c.model.hosts.len() {
                if let Some(s) = p
                    .scheduler_of_host(h as HostId)
                    .filter(|s| links.contains(s))
                {
                    shard
                        .hosts
                        .insert(c.model.host_names[h].clone(), d[s].name.clone());
                }
            }
        }
        files.insert(
            format!("{}/{}.ron", satellite_dir(kind), x.name),
            to_ron(&shard),
        );
    }
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        monitorc_version: env!("CARGO_PKG_VERSION").to_string(),
        input_digest: input_digest(c),
        realms: p
            .realms
            .iter()
            .map(|r| (r.name.clone(), r.parent.map(|x| p.realms[x].name.clone())))
            .collect(),
        default_realm: p.realm_name(p.default_realm).to_string(),
        schedulers: schedulers
            .iter()
            .map(|&s| {
                let x = &d[s];
                (
                    x.name.clone(),
                    SchedulerEntry {
                        realm: p.realm_name(x.realm).to_string(),
                        weight: x.weight,
                        spare: x.spare,
                        load: p
                            .schedulers
                            .iter()
                            .find(|l| l.daemon == s)
                            .map_or(0, |l| l.load),
                        address: x.address.clone(),
                        port: x.port,
                        liveness: liveness(x),
                    },
                )
            })
            .collect(),
        satellites: d
            .iter()
            .enumerate()
            .filter(|(i, _)| p.links.contains_key(i))
            .map(|(_, x)| {
                (
                    format!("{}/{}", x.kind.keyword(), x.name),
                    SatelliteEntry {
                        kind: x.kind.keyword().to_string(),
                        realm: p.realm_name(x.realm).to_string(),
                        spare: x.spare,
                        address: x.address.clone(),
                        port: x.port,
                        liveness: liveness(x),
                    },
                )
            })
            .collect(),
        failover: p
            .spares
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(&i, v)| {
                (
                    format!("{}/{}", d[i].kind.keyword(), d[i].name),
                    v.iter().map(|&s| d[s].name.clone()).collect(),
                )
            })
            .collect(),
        hosts: (0..c.model.hosts.len())
            .filter_map(|h| {
                p.scheduler_of_host(h as HostId)
                    .map(|s| (c.model.host_names[h].clone(), d[s].name.clone()))
            })
            .collect(),
        files: files
            .iter()
            .map(|(k, v)| (k.clone(), digest(v.as_bytes())))
            .collect(),
    };
    files.insert("manifest.ron".to_string(), to_ron(&manifest));
    files.extend(derived);
    files
}

fn liveness(d: &crate::place::Daemon) -> Liveness {
    Liveness {
        check_interval: d.check_interval,
        timeout: d.timeout,
        max_check_attempts: d.max_check_attempts,
    }
}

fn input_digest(c: &Checked) -> String {
    let mut h = String::new();
    for (_, f) in c.loaded.sources.iter() {
        h.push_str(&f.path.display().to_string());
        h.push('\0');
        h.push_str(&digest(f.text.as_bytes()));
        h.push('\n');
    }
    digest(h.as_bytes())
}

/// One scheduler's hosts and services and everything they reference.
fn scheduler_shard(c: &Checked, s: usize) -> SchedulerShard {
    let (m, p, res) = (&c.model, &c.plan, &c.resolved);
    let d = &p.daemons;
    let mut shard = SchedulerShard {
        format_version: FORMAT_VERSION,
        name: d[s].name.clone(),
        realm: p.realm_name(d[s].realm).to_string(),
        ..Default::default()
    };
    let hosts: Vec<HostId> = p
        .packs
        .iter()
        .filter(|pk| pk.scheduler == Some(s))
        .flat_map(|pk| pk.hosts.iter().copied())
        .collect();
    let in_shard: BTreeSet<HostId> = hosts.iter().copied().collect();
    let mut commands = BTreeSet::new();
    let mut periods = BTreeSet::new();
    let mut contacts = BTreeSet::new();
    let mut cgroups = BTreeSet::new();
    let mut escalations = BTreeSet::new();
    let mut profiles: BTreeMap<usize, (String, Attributes, Vec<&'static str>)> = BTreeMap::new();
    let note = |a: &Attributes,
                commands: &mut BTreeSet<String>,
                periods: &mut BTreeSet<String>,
                contacts: &mut BTreeSet<String>,
                cgroups: &mut BTreeSet<String>,
                escalations: &mut BTreeSet<String>| {
        for k in ["check_command", "event_handler"] {
            commands.extend(a.get(k).and_then(|v| command_name(v)));
        }
        for k in ["check_period", "notification_period", "maintenance_period"] {
            periods.extend(
                a.get(k)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty()),
            );
        }
        contacts.extend(names(a.get("contacts").map(String::as_str)));
        cgroups.extend(names(a.get("contact_groups").map(String::as_str)));
        escalations.extend(names(a.get("escalations").map(String::as_str)));
    };
    // Host profiles: the values a host inherits from its templates, shared (by the identity
    // of the inherited values, then by content) between the hosts that inherit the same ones.
    let mut host_profiles: std::collections::HashMap<Vec<usize>, String> =
        std::collections::HashMap::new();
    for &h in &hosts {
        let o = m.host(res, h);
        let attrs = attributes(o);
        let inherited = |k: &str| -> bool {
            o.get(k)
                .is_some_and(|a| a.sources.iter().all(|src| src.object != o.id))
                || o.custom(k)
                    .is_some_and(|a| a.sources.iter().all(|src| src.object != o.id))
        };
        let identity: Vec<usize> = o
            .attrs
            .iter()
            .chain(o.customs.iter())
            .filter(|(k, _)| inherited(k))
            .map(|(_, v)| std::sync::Arc::as_ptr(v) as usize)
            .collect();
        let (shared, own): (Attributes, Attributes) =
            attrs.clone().into_iter().partition(|(k, _)| inherited(k));
        let profile = if shared.is_empty() {
            String::new()
        } else {
            host_profiles
                .entry(identity)
                .or_insert_with(|| digest(to_ron(&shared).as_bytes())[..16].to_string())
                .clone()
        };
        if !profile.is_empty() && !shard.host_profiles.contains_key(&profile) {
            shard.host_profiles.insert(profile.clone(), shared);
        }
        note(
            &attrs,
            &mut commands,
            &mut periods,
            &mut contacts,
            &mut cgroups,
            &mut escalations,
        );
        let name = m.host_names[h as usize].clone();
        let mut services = BTreeMap::new();
        for sid in m.services_of(h) {
            let svc = &m.services[sid as usize];
            // The definition's attributes are shared by its services: one profile each.
            let (profile, base, missing) = profiles.entry(svc.def).or_insert_with(|| {
                let mut a = attributes(&res.objects[svc.def]);
                a.remove("host_name");
                a.remove("service_description");
                // The attributes its services take from their host, when it has them.
                let def = &res.objects[svc.def];
                let missing = m.implied_keys(|k| a.contains_key(k) || def.is_nulled(k));
                (digest(to_ron(&a).as_bytes())[..16].to_string(), a, missing)
            });
            let mut own = Attributes::new();
            for key in missing.iter() {
                if let Some(v) = o.get_str(key) {
                    own.insert(key.to_string(), v.to_string());
                }
            }
            for (k, v) in &svc.overrides {
                if k != "service_description" {
                    own.insert(k.clone(), v.raw.clone());
                }
            }
            if !shard.service_profiles.contains_key(profile.as_str()) {
                note(
                    base,
                    &mut commands,
                    &mut periods,
                    &mut contacts,
                    &mut cgroups,
                    &mut escalations,
                );
                shard.service_profiles.insert(profile.clone(), base.clone());
            }
            if !own.is_empty() {
                note(
                    &own,
                    &mut commands,
                    &mut periods,
                    &mut contacts,
                    &mut cgroups,
                    &mut escalations,
                );
            }
            services.insert(
                svc.description.to_string(),
                ServiceEntry {
                    profile: profile.clone(),
                    attributes: own,
                },
            );
        }
        if !services.is_empty() {
            shard.services.insert(name.clone(), services);
        }
        shard.hosts.insert(
            name,
            ServiceEntry {
                profile,
                attributes: own,
            },
        );
    }
    // Host and service escalations of this shard's hosts, keyed `host #n` / `host/service #n`;
    // they bring their contacts, groups and periods like everything else.
    let host_esc = m
        .host_escalations
        .iter()
        .enumerate()
        .map(|(i, &(h, def))| (i, h, None, None, def));
    let svc_esc = m
        .service_escalations
        .iter()
        .enumerate()
        .map(|(i, &(sid, def))| {
            let svc = &m.services[sid as usize];
            (
                i,
                svc.host,
                Some(svc.description.to_string()),
                Some(svc),
                def,
            )
        });
    for (i, h, desc, svc, def) in host_esc.chain(svc_esc).filter(|e| in_shard.contains(&e.1)) {
        let host = m.host_names[h as usize].clone();
        let mut a = attributes(&res.objects[def]);
        if m.sem.escalations_inherit {
            // H1: what the escalation does not set, it takes from its service (host).
            let from = |k: &str| match svc {
                Some(s) => m.service_attr(res, s, k).map(|v| v.raw.clone()),
                None => m.host(res, h).get_str(k).map(str::to_string),
            };
            if !a.contains_key("contacts") && !a.contains_key("contact_groups") {
                for k in ["contacts", "contact_groups"] {
                    if let Some(v) = from(k) {
                        a.insert(k.into(), v);
                    }
                }
            }
            if !a.contains_key("notification_interval") {
                if let Some(v) = from("notification_interval") {
                    a.insert("notification_interval".into(), v);
                }
            }
            if !a.contains_key("escalation_period") {
                if let Some(v) = from("notification_period") {
                    a.insert("escalation_period".into(), v);
                }
            }
        }
        a.remove("hostgroup_name");
        a.insert("host_name".into(), host.clone());
        let key = match &desc {
            Some(d) => format!("{host}/{d} #{i}"),
            None => format!("{host} #{i}"),
        };
        if let Some(d) = desc {
            a.insert("service_description".into(), d);
        }
        contacts.extend(names(a.get("contacts").map(String::as_str)));
        cgroups.extend(names(a.get("contact_groups").map(String::as_str)));
        periods.extend(a.get("escalation_period").cloned());
        shard.escalations.insert(key, a);
    }
    // Contact groups bring their members; contacts bring their periods, commands and ways.
    for g in &cgroups {
        if let Some(members) = m.contactgroups.get(g) {
            contacts.extend(members.iter().cloned());
            shard
                .contactgroups
                .insert(g.clone(), members.iter().cloned().collect());
        }
    }
    let named = |kind: ObjectKind, n: &str| {
        m.named
            .get(&kind)
            .and_then(|x| x.get(n))
            .map(|&i| &res.objects[i])
    };
    let mut ways = BTreeSet::new();
    for ct in &contacts {
        if let Some(o) = named(ObjectKind::Contact, ct) {
            let a = attributes(o);
            notification_refs(&a, &mut commands, &mut periods);
            ways.extend(names(a.get("notificationways").map(String::as_str)));
            shard.contacts.insert(ct.clone(), a);
        }
    }
    for w in &ways {
        if let Some(o) = named(ObjectKind::Notificationway, w) {
            let a = attributes(o);
            notification_refs(&a, &mut commands, &mut periods);
            shard.notificationways.insert(w.clone(), a);
        }
    }
    for e in &escalations {
        if let Some(o) = named(ObjectKind::Escalation, e) {
            let a = attributes(o);
            periods.extend(a.get("escalation_period").cloned());
            shard.escalations.insert(e.clone(), a);
        }
    }
    for c2 in &commands {
        if let Some(o) = named(ObjectKind::Command, c2) {
            shard.commands.insert(c2.clone(), attributes(o));
        }
    }
    // A dependency keeps what its definition says of when it applies.
    let dependency_attributes = |def: usize, kind: ObjectKind| -> Attributes {
        let o = &res.objects[def];
        if o.kind != kind {
            return Attributes::new();
        }
        DEPENDENCY_KEYS
            .iter()
            .filter_map(|k| o.get(k).map(|a| (k.to_string(), a.raw.clone())))
            .collect()
    };
    for dep in &m.host_dependencies {
        if in_shard.contains(&dep.dependent) {
            shard.host_dependencies.push(HostDependency {
                dependent: m.host_names[dep.dependent as usize].clone(),
                master: m.host_names[dep.master as usize].clone(),
                attributes: dependency_attributes(dep.def, ObjectKind::Hostdependency),
            });
        }
    }
    let label = |x: u32| {
        let s = &m.services[x as usize];
        (
            m.host_names[s.host as usize].clone(),
            s.description.to_string(),
        )
    };
    for dep in &m.service_dependencies {
        if in_shard.contains(&m.services[dep.dependent as usize].host) {
            shard.service_dependencies.push(ServiceDependency {
                dependent: label(dep.dependent),
                master: label(dep.master),
                attributes: dependency_attributes(dep.def, ObjectKind::Servicedependency),
            });
        }
    }
    // A rule's hosts are all in one pack, so in this shard or in none.
    for r in &m.host_dependency_rules {
        if in_shard.contains(&r.masters[0]) {
            let names = |l: &[u32]| {
                l.iter()
                    .map(|&h| m.host_names[h as usize].clone())
                    .collect()
            };
            shard.host_dependency_rules.push(HostDependencyRule {
                dependents: names(&r.dependents),
                masters: names(&r.masters),
                attributes: dependency_attributes(r.def, ObjectKind::Hostdependency),
            });
        }
    }
    for r in &m.service_dependency_rules {
        if in_shard.contains(&m.services[r.masters[0] as usize].host) {
            shard.service_dependency_rules.push(ServiceDependencyRule {
                dependents: r.dependents.iter().map(|&s| label(s)).collect(),
                masters: r.masters.iter().map(|&s| label(s)).collect(),
                attributes: dependency_attributes(r.def, ObjectKind::Servicedependency),
            });
        }
    }
    shard.host_dependencies.dedup();
    shard.service_dependencies.dedup();
    // Their periods come with them.
    let dependency_periods = shard
        .host_dependencies
        .iter()
        .map(|d| &d.attributes)
        .chain(shard.service_dependencies.iter().map(|d| &d.attributes))
        .chain(shard.host_dependency_rules.iter().map(|d| &d.attributes))
        .chain(shard.service_dependency_rules.iter().map(|d| &d.attributes))
        .filter_map(|a| a.get("dependency_period").cloned());
    periods.extend(dependency_periods);
    // Timeperiods and the ones they exclude.
    let mut todo: Vec<String> = periods.into_iter().collect();
    while let Some(t) = todo.pop() {
        if shard.timeperiods.contains_key(&t) {
            continue;
        }
        if let Some(o) = named(ObjectKind::Timeperiod, &t) {
            let a = attributes(o);
            todo.extend(names(a.get("exclude").map(String::as_str)));
            shard.timeperiods.insert(t, a);
        }
    }
    for (g, members) in &m.hostgroups {
        let here: Vec<String> = members
            .iter()
            .filter(|h| in_shard.contains(h))
            .map(|&h| m.host_names[h as usize].clone())
            .collect();
        if !here.is_empty() {
            shard.hostgroups.insert(g.clone(), here);
        }
    }
    for (g, members) in &m.servicegroups {
        let here: Vec<(String, String)> = members
            .iter()
            .map(|&s| &m.services[s as usize])
            .filter(|s| in_shard.contains(&s.host))
            .map(|s| {
                (
                    m.host_names[s.host as usize].clone(),
                    s.description.to_string(),
                )
            })
            .collect();
        if !here.is_empty() {
            shard.servicegroups.insert(g.clone(), here);
        }
    }
    for (&sat, links) in &p.links {
        if links.contains(&s) {
            let list = match d[sat].kind {
                ObjectKind::Poller => &mut shard.pollers,
                ObjectKind::Reactionner => &mut shard.reactionners,
                ObjectKind::Broker => &mut shard.brokers,
                _ => continue,
            };
            list.push(d[sat].name.clone());
        }
    }
    shard
}
