//! `build --emit nagios`: a scheduler shard rendered as a standalone Nagios 4 configuration
//! (`nagios.cfg` plus `objects.cfg`), so a shard can run on a real Nagios/Naemon engine and
//! `nagios4 -v` proves it self-contained. Attributes Nagios does not know (Shinken's realm,
//! tags, business impact, …) are left out; services are written fully resolved.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use monitorc_runtime::shard::{Attributes, SchedulerShard};

const HOST: &[&str] = &[
    "host_name",
    "alias",
    "display_name",
    "address",
    "parents",
    "check_command",
    "initial_state",
    "max_check_attempts",
    "check_interval",
    "retry_interval",
    "active_checks_enabled",
    "passive_checks_enabled",
    "check_period",
    "obsess_over_host",
    "check_freshness",
    "freshness_threshold",
    "event_handler",
    "event_handler_enabled",
    "low_flap_threshold",
    "high_flap_threshold",
    "flap_detection_enabled",
    "flap_detection_options",
    "process_perf_data",
    "retain_status_information",
    "retain_nonstatus_information",
    "contacts",
    "contact_groups",
    "notification_interval",
    "first_notification_delay",
    "notification_period",
    "notification_options",
    "notifications_enabled",
    "stalking_options",
    "notes",
    "notes_url",
    "action_url",
    "icon_image",
    "icon_image_alt",
    "vrml_image",
    "statusmap_image",
    "2d_coords",
    "3d_coords",
];
const SERVICE: &[&str] = &[
    "host_name",
    "service_description",
    "display_name",
    "is_volatile",
    "check_command",
    "initial_state",
    "max_check_attempts",
    "check_interval",
    "retry_interval",
    "active_checks_enabled",
    "passive_checks_enabled",
    "check_period",
    "obsess_over_service",
    "check_freshness",
    "freshness_threshold",
    "event_handler",
    "event_handler_enabled",
    "low_flap_threshold",
    "high_flap_threshold",
    "flap_detection_enabled",
    "flap_detection_options",
    "process_perf_data",
    "retain_status_information",
    "retain_nonstatus_information",
    "notification_interval",
    "first_notification_delay",
    "notification_period",
    "notification_options",
    "notifications_enabled",
    "contacts",
    "contact_groups",
    "stalking_options",
    "notes",
    "notes_url",
    "action_url",
    "icon_image",
    "icon_image_alt",
];
const CONTACT: &[&str] = &[
    "contact_name",
    "alias",
    "host_notifications_enabled",
    "service_notifications_enabled",
    "host_notification_period",
    "service_notification_period",
    "host_notification_options",
    "service_notification_options",
    "host_notification_commands",
    "service_notification_commands",
    "email",
    "pager",
    "address1",
    "address2",
    "address3",
    "address4",
    "address5",
    "address6",
    "can_submit_commands",
    "retain_status_information",
    "retain_nonstatus_information",
];
const COMMAND: &[&str] = &["command_name", "command_line"];

const ESCALATION: &[&str] = &[
    "host_name",
    "service_description",
    "contacts",
    "contact_groups",
    "first_notification",
    "last_notification",
    "notification_interval",
    "escalation_period",
    "escalation_options",
];

fn block(
    out: &mut String,
    kind: &str,
    attrs: &Attributes,
    known: &[&str],
    extra: &[(&str, String)],
) {
    writeln!(out, "define {kind} {{").unwrap();
    for (k, v) in extra {
        writeln!(out, "    {k}\t{v}").unwrap();
    }
    for (k, v) in attrs {
        if extra.iter().any(|(e, _)| e == k) {
            continue;
        }
        if known.contains(&k.as_str()) || k.starts_with('_') {
            // A `;` would start a comment in Nagios' syntax.
            writeln!(out, "    {k}\t{}", v.replace(';', "\\\\;")).unwrap();
        }
    }
    out.push_str("}\n\n");
}

/// One dependency definition: its own criteria, or `default` when its definition set none.
fn dependency(
    out: &mut String,
    kind: &str,
    attrs: &Attributes,
    default: &str,
    extra: &[(&str, String)],
) {
    let mut a = attrs.clone();
    if a.is_empty() {
        a.insert("notification_failure_criteria".into(), default.into());
    }
    block(out, kind, &a, crate::shards::DEPENDENCY_KEYS, extra);
}

/// The hosts of (host, description) pairs, by description.
fn by_description(list: &[(String, String)]) -> BTreeMap<&str, Vec<&str>> {
    let mut m: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (h, d) in list {
        m.entry(d.as_str()).or_default().push(h.as_str());
    }
    m
}

/// The files of one scheduler's Nagios directory: relative path → content.
pub fn render(shard: &SchedulerShard) -> BTreeMap<String, String> {
    let mut o = String::new();
    writeln!(
        o,
        "# Scheduler {} (realm {}), rendered by monitorc from its shard.\n",
        shard.name, shard.realm
    )
    .unwrap();
    for (name, a) in &shard.commands {
        block(
            &mut o,
            "command",
            a,
            COMMAND,
            &[("command_name", name.clone())],
        );
    }
    for (name, a) in &shard.timeperiods {
        writeln!(o, "define timeperiod {{\n    timeperiod_name\t{name}").unwrap();
        writeln!(
            o,
            "    alias\t{}",
            a.get("alias").cloned().unwrap_or_else(|| name.clone())
        )
        .unwrap();
        for (k, v) in a {
            if k == "timeperiod_name" || k == "alias" || k == "name" || k.starts_with('_') {
                continue;
            }
            writeln!(o, "    {k}\t{v}").unwrap();
        }
        o.push_str("}\n\n");
    }
    for (name, a) in &shard.contacts {
        block(
            &mut o,
            "contact",
            a,
            CONTACT,
            &[("contact_name", name.clone())],
        );
    }
    for (name, members) in &shard.contactgroups {
        writeln!(o, "define contactgroup {{\n    contactgroup_name\t{name}\n    alias\t{name}\n    members\t{}\n}}\n", members.join(",")).unwrap();
    }
    for name in shard.hosts.keys() {
        // Parents of another shard cannot exist here (packs keep them together), but be safe.
        let mut a = shard.host_attributes(name).unwrap_or_default();
        if let Some(p) = a.get("parents").cloned() {
            let kept: Vec<&str> = p
                .split(',')
                .map(str::trim)
                .filter(|x| shard.hosts.contains_key(*x))
                .collect();
            a.insert("parents".into(), kept.join(","));
            if kept.is_empty() {
                a.remove("parents");
            }
        }
        let mut extra = vec![("host_name", name.clone())];
        if !a.contains_key("max_check_attempts") {
            extra.push(("max_check_attempts", "3".into()));
        }
        block(&mut o, "host", &a, HOST, &extra);
    }
    for (name, members) in &shard.hostgroups {
        writeln!(o, "define hostgroup {{\n    hostgroup_name\t{name}\n    alias\t{name}\n    members\t{}\n}}\n", members.join(",")).unwrap();
    }
    for (host, services) in &shard.services {
        for desc in services.keys() {
            let a = shard.service_attributes(host, desc).unwrap_or_default();
            let mut extra = vec![
                ("host_name", host.clone()),
                ("service_description", desc.clone()),
            ];
            for (k, d) in [
                ("max_check_attempts", "3"),
                ("check_interval", "5"),
                ("retry_interval", "1"),
            ] {
                if !a.contains_key(k) {
                    extra.push((k, d.to_string()));
                }
            }
            block(&mut o, "service", &a, SERVICE, &extra);
        }
    }
    for (name, members) in &shard.servicegroups {
        let list: Vec<String> = members.iter().map(|(h, s)| format!("{h},{s}")).collect();
        writeln!(o, "define servicegroup {{\n    servicegroup_name\t{name}\n    alias\t{name}\n    members\t{}\n}}\n", list.join(",")).unwrap();
    }
    // Dependencies with their own criteria; one whose definition sets none (or made by a
    // service's `service_dependencies`) holds notifications while its master is not OK.
    // Group-to-group rules are written with host lists: Nagios makes the product itself, so a
    // rule is one definition per pair of descriptions.
    let host_pairs = shard
        .host_dependencies
        .iter()
        .map(|d| (d.master.clone(), d.dependent.clone(), &d.attributes));
    let host_rules = shard
        .host_dependency_rules
        .iter()
        .map(|r| (r.masters.join(","), r.dependents.join(","), &r.attributes));
    for (master, dependent, a) in host_pairs.chain(host_rules) {
        let extra = [("host_name", master), ("dependent_host_name", dependent)];
        dependency(&mut o, "hostdependency", a, "d,u", &extra);
    }
    for d in &shard.service_dependencies {
        let extra = [
            ("host_name", d.master.0.clone()),
            ("service_description", d.master.1.clone()),
            ("dependent_host_name", d.dependent.0.clone()),
            ("dependent_service_description", d.dependent.1.clone()),
        ];
        dependency(&mut o, "servicedependency", &d.attributes, "w,u,c", &extra);
    }
    for r in &shard.service_dependency_rules {
        let (masters, dependents) = (by_description(&r.masters), by_description(&r.dependents));
        for (md, mh) in &masters {
            for (cd, ch) in &dependents {
                let extra = [
                    ("host_name", mh.join(",")),
                    ("service_description", md.to_string()),
                    ("dependent_host_name", ch.join(",")),
                    ("dependent_service_description", cd.to_string()),
                ];
                dependency(&mut o, "servicedependency", &r.attributes, "w,u,c", &extra);
            }
        }
    }
    // Escalations Nagios can run: a first and last notification, an interval, someone to
    // notify (Shinken's time-based `first_notification_time` ones have no Nagios form).
    for a in shard.escalations.values() {
        let complete = [
            "first_notification",
            "last_notification",
            "notification_interval",
        ]
        .iter()
        .all(|k| a.contains_key(*k))
            && (a.contains_key("contacts") || a.contains_key("contact_groups"));
        if !complete {
            continue;
        }
        let kind = if a.contains_key("service_description") {
            "serviceescalation"
        } else {
            "hostescalation"
        };
        block(&mut o, kind, a, ESCALATION, &[]);
    }
    let main = "# Standalone Nagios configuration of one monitorc shard; paths are relative to this directory.\n\
log_file=nagios.log\ncfg_file=objects.cfg\nobject_cache_file=objects.cache\nprecached_object_file=objects.precache\n\
status_file=status.dat\ntemp_file=nagios.tmp\ncheck_result_path=checkresults\nlock_file=nagios.lock\n\
state_retention_file=retention.dat\ncommand_file=nagios.cmd\nillegal_macro_output_chars=`~$&|'\"<>\n"
        .to_string();
    BTreeMap::from([
        ("nagios.cfg".to_string(), main),
        ("objects.cfg".to_string(), o),
        ("checkresults/.keep".to_string(), String::new()),
    ])
}
