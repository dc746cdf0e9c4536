//! A scheduler shard as a Nagios 4 configuration: [`objects`] renders its objects (from the
//! shard alone), [`main_config`] the main file that runs them (from whoever runs it: `build
//! --emit nagios` or a node). Attributes Nagios does not know (Shinken's realm, tags, business
//! impact, …) are left out; services are written fully resolved. This lives in `runtime` so a
//! node renders what it is pushed without the compiler.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::shard::{Attributes, SchedulerShard, DEPENDENCY_KEYS};

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
    block(out, kind, &a, DEPENDENCY_KEYS, extra);
}

/// The hosts of (host, description) pairs, by description.
fn by_description(list: &[(String, String)]) -> BTreeMap<&str, Vec<&str>> {
    let mut m: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (h, d) in list {
        m.entry(d.as_str()).or_default().push(h.as_str());
    }
    m
}

/// The main configuration of one engine. Every path is relative to the directory of the main
/// file (Nagios makes them absolute from there) or absolute.
#[derive(Clone, Debug)]
pub struct Main {
    /// The objects file ([`objects`]).
    pub objects: String,
    /// The file of `$USERn$` macros. Shards carry no secrets: the operator supplies it.
    pub resource_file: String,
    /// Seconds between two writes of `status.dat`.
    pub status_update_interval: u32,
    /// Check worker processes (Nagios' default is one per CPU).
    pub check_workers: u32,
    /// More `key=value` lines, written last (a later line wins): `interval_length=1` in
    /// tests, `nagios_user` when running as root…
    pub extra: Vec<(String, String)>,
}

impl Main {
    /// The settings of `build --emit nagios`: objects in `objects.cfg`, the resource file
    /// `resource.cfg` next to it.
    pub fn standalone() -> Main {
        Main {
            objects: "objects.cfg".into(),
            resource_file: "resource.cfg".into(),
            status_update_interval: 10,
            check_workers: 2,
            extra: Vec::new(),
        }
    }
}

/// The main file: its own query socket, command FIFO, status, retention, log and check-result
/// paths inside its directory (two engines on one machine never share one), external
/// commands read, state retained every minute, the first checks spread over five minutes,
/// no update check (it would call out to nagios.org).
pub fn main_config(m: &Main) -> String {
    let mut o = String::from(
        "# Nagios 4 main configuration of one monitorc shard, written by monitorc.\n\
         # Relative paths are relative to this file's directory.\n",
    );
    let lines: [(&str, String); 27] = [
        ("cfg_file", m.objects.clone()),
        ("resource_file", m.resource_file.clone()),
        ("log_file", "nagios.log".into()),
        ("log_rotation_method", "d".into()),
        ("log_archive_path", "archives".into()),
        ("use_syslog", "0".into()),
        ("object_cache_file", "objects.cache".into()),
        ("precached_object_file", "objects.precache".into()),
        ("status_file", "status.dat".into()),
        (
            "status_update_interval",
            m.status_update_interval.to_string(),
        ),
        ("temp_file", "nagios.tmp".into()),
        ("temp_path", ".".into()),
        ("check_result_path", "checkresults".into()),
        ("lock_file", "nagios.lock".into()),
        ("query_socket", "nagios.qh".into()),
        ("command_file", "nagios.cmd".into()),
        ("check_external_commands", "1".into()),
        ("log_external_commands", "1".into()),
        ("state_retention_file", "retention.dat".into()),
        ("retain_state_information", "1".into()),
        ("retention_update_interval", "1".into()),
        ("use_retained_program_state", "1".into()),
        ("use_retained_scheduling_info", "1".into()),
        ("max_service_check_spread", "5".into()),
        ("max_host_check_spread", "5".into()),
        ("check_for_updates", "0".into()),
        ("check_workers", m.check_workers.to_string()),
    ];
    for (k, v) in lines {
        writeln!(o, "{k}={v}").unwrap();
    }
    o.push_str("illegal_macro_output_chars=`~$&|'\"<>\n");
    for (k, v) in &m.extra {
        writeln!(o, "{k}={v}").unwrap();
    }
    o
}

/// The files of one scheduler's directory for `build --emit nagios`: relative path → content.
/// `resource.cfg` is not among them: the operator puts theirs there (see
/// `resource.cfg.example`, which lists the macros the commands use).
pub fn render(shard: &SchedulerShard) -> BTreeMap<String, String> {
    let objects = objects(shard);
    let example = resource_example(shard);
    BTreeMap::from([
        ("nagios.cfg".to_string(), main_config(&Main::standalone())),
        ("objects.cfg".to_string(), objects),
        ("resource.cfg.example".to_string(), example),
        ("checkresults/.keep".to_string(), String::new()),
        ("archives/.keep".to_string(), String::new()),
    ])
}

/// The `$USERn$` macros the shard's commands use, one line each, without values.
fn resource_example(shard: &SchedulerShard) -> String {
    let mut used: BTreeMap<u32, usize> = BTreeMap::new();
    for a in shard.commands.values() {
        let line = a.get("command_line").map_or("", String::as_str);
        let mut rest = line;
        while let Some(i) = rest.find("$USER") {
            rest = &rest[i + 5..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if rest[digits.len()..].starts_with('$') {
                if let Ok(n) = digits.parse() {
                    *used.entry(n).or_default() += 1;
                }
            }
        }
    }
    let mut o = String::from(
        "# The resource macros this shard's commands use. Shards carry no secrets: copy your\n\
         # resource file to resource.cfg in this directory (or point resource_file= at it).\n",
    );
    for (n, count) in used {
        let s = if count == 1 { "" } else { "s" };
        writeln!(o, "#$USER{n}$=…\t(used by {count} command{s})").unwrap();
    }
    o
}

/// The objects of one scheduler shard.
pub fn objects(shard: &SchedulerShard) -> String {
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
    // Escalations Nagios can run: an interval and someone to notify (Nagios defaults the first
    // and last notification); Shinken's time-based ones (`first_notification_time`) have no
    // Nagios form.
    for a in shard.escalations.values() {
        let complete = a.contains_key("notification_interval")
            && (a.contains_key("contacts") || a.contains_key("contact_groups"))
            && !a.contains_key("first_notification_time")
            && !a.contains_key("last_notification_time");
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
    o
}
