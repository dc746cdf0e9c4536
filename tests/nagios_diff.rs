//! Differential test against real Nagios: a generated tree of 1,200 hosts (templates with
//! multiple `use`, `+` lists, `null`, custom variables, nested hostgroups, services on
//! hostgroups with `!` exclusions, implied host→service inheritance, parents, every form of
//! host and service dependency and escalation) is resolved by `nagios4 -vp`, which writes every
//! resolved object to its precache file, and by monitorc with the Nagios engine; every host and
//! service attribute both resolve must agree, and so must the (dependent, master) pairs of
//! every dependency, the hosts and services of every escalation, and the counts `nagios4 -v`
//! prints.
//!
//! Shinken-only attributes and object types (realms, poller tags, business rules, services on
//! host templates, `duplicate_foreach`, `explode_hostgroup`) are not generated: Nagios does not
//! read them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use monitorc_compiler::grammar::{parse, FileId};

const NAGIOS: &str = "/usr/sbin/nagios4";
const HOSTS: usize = 1200;

/// A deterministic configuration that uses every inheritance rule Nagios shares with Shinken.
fn generate(dir: &Path) {
    let mut o = String::new();
    for (name, line) in [
        ("check-host-alive", "/bin/true host $HOSTADDRESS$"),
        ("check_ping", "/bin/true ping $ARG1$ $ARG2$"),
        ("check_ssh", "/bin/true ssh $_HOSTSSH_PORT$"),
        ("check_http", "/bin/true http $ARG1$"),
        ("check_disk", "/bin/true disk $ARG1$"),
        ("check_cpu", "/bin/true cpu"),
        ("check_backup", "/bin/true backup"),
        ("notify-host", "/bin/true notify host"),
        ("notify-service", "/bin/true notify service"),
    ] {
        writeln!(
            o,
            "define command {{\n    command_name  {name}\n    command_line  {line}\n}}\n"
        )
        .unwrap();
    }
    for (name, ranges) in [
        ("24x7", "00:00-24:00"),
        ("workhours", "09:00-17:00"),
        ("nights", "00:00-08:00,20:00-24:00"),
    ] {
        write!(
            o,
            "define timeperiod {{\n    timeperiod_name  {name}\n    alias  {name}\n"
        )
        .unwrap();
        for day in [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ] {
            writeln!(o, "    {day}  {ranges}").unwrap();
        }
        o.push_str("}\n\n");
    }
    o.push_str(
        "define contact {\n    name                           generic-contact\n    host_notification_period       24x7\n    service_notification_period    24x7\n    host_notification_options      d,u,r\n    service_notification_options   w,u,c,r\n    host_notification_commands     notify-host\n    service_notification_commands  notify-service\n    register                       0\n}\n\n",
    );
    for c in ["alice", "bob", "carol", "dave", "erin"] {
        writeln!(o, "define contact {{\n    contact_name  {c}\n    alias  {c}\n    use  generic-contact\n    email  {c}@example.com\n}}\n").unwrap();
    }
    for (g, m) in [
        ("admins", "alice,bob"),
        ("ops", "carol,dave"),
        ("dba", "erin"),
    ] {
        writeln!(o, "define contactgroup {{\n    contactgroup_name  {g}\n    alias  {g}\n    members  {m}\n}}\n").unwrap();
    }
    // Host templates: a chain, multiple `use`, `+` lists, custom variables.
    o.push_str(
        "define host {\n    name                   generic-host\n    check_command          check-host-alive\n    max_check_attempts     3\n    check_interval         5\n    retry_interval         1\n    check_period           24x7\n    notification_period    24x7\n    notification_interval  30\n    contact_groups         admins\n    notes                  generic\n    _SSH_PORT              22\n    register               0\n}\n\n\
define host {\n    name                linux\n    use                 generic-host\n    check_interval      3\n    hostgroups          linux-servers\n    _OS                 linux\n    register            0\n}\n\n\
define host {\n    name                windows\n    use                 generic-host\n    max_check_attempts  5\n    hostgroups          windows-servers\n    _OS                 windows\n    _SSH_PORT           2222\n    register            0\n}\n\n\
define host {\n    name                 site-a\n    contact_groups       +ops\n    notification_period  workhours\n    _SITE                a\n    register             0\n}\n\n\
define host {\n    name                 site-b\n    contact_groups       dba\n    notification_period  nights\n    retry_interval       2\n    _SITE                b\n    register             0\n}\n\n\
define host {\n    name           web\n    use            linux\n    check_command  check_ping!100.0,20%!500.0,60%\n    hostgroups     +web\n    _ROLE          web\n    register       0\n}\n\n",
    );
    for (g, extra) in [
        ("linux-servers", ""),
        ("windows-servers", ""),
        ("web", ""),
        ("db", ""),
        ("site-a", ""),
        ("site-b", ""),
        (
            "all-servers",
            "    hostgroup_members  linux-servers,windows-servers\n",
        ),
        // A database cluster and the web servers of its application.
        ("cluster-db", "    members  host-0007,host-0014,host-0021\n"),
        (
            "cluster-app",
            "    members  host-0100,host-0101,host-0105,host-0106,host-0110,host-0111\n",
        ),
    ] {
        writeln!(
            o,
            "define hostgroup {{\n    hostgroup_name  {g}\n    alias  {g}\n{extra}}}\n"
        )
        .unwrap();
    }
    // Service templates; `lite-service` sets no contacts: services take them from the host.
    o.push_str(
        "define service {\n    name                   generic-service\n    max_check_attempts     3\n    check_interval         10\n    retry_interval         2\n    check_period           24x7\n    notification_period    24x7\n    notification_interval  60\n    contact_groups         admins\n    register               0\n}\n\n\
define service {\n    name                critical-service\n    use                 generic-service\n    max_check_attempts  2\n    contact_groups      +ops\n    register            0\n}\n\n\
define service {\n    name                lite-service\n    max_check_attempts  4\n    check_interval      15\n    retry_interval      5\n    check_period        workhours\n    register            0\n}\n\n",
    );
    for (desc, sel, tpl, cmd) in [
        (
            "PING",
            "hostgroup_name  all-servers",
            "generic-service",
            "check_ping!200.0,20%!600.0,60%",
        ),
        (
            "SSH",
            "hostgroup_name  linux-servers",
            "critical-service",
            "check_ssh",
        ),
        (
            "Disk",
            "hostgroup_name  linux-servers,windows-servers\n    host_name  !host-0007,!host-0011",
            "lite-service",
            "check_disk!/",
        ),
        (
            "CPU",
            "hostgroup_name  windows-servers",
            "lite-service,generic-service",
            "check_cpu",
        ),
        (
            "HTTP",
            "hostgroup_name  web",
            "critical-service",
            "check_http!/health",
        ),
        (
            "Backup",
            "host_name  host-0001,host-0002,host-0003",
            "generic-service",
            "check_backup",
        ),
        (
            "DB",
            "hostgroup_name  db",
            "generic-service,critical-service",
            "check_disk!/var/lib/db",
        ),
    ] {
        writeln!(o, "define service {{\n    {sel}\n    service_description  {desc}\n    use  {tpl}\n    check_command  {cmd}\n}}\n").unwrap();
    }
    // Contacts without contact groups, on hosts with contact groups: Nagios gives the service
    // neither of the host's. No check period either: Nagios does not take the host's.
    o.push_str(
        "define service {\n    hostgroup_name         windows-servers\n    service_description    Agent\n    check_command          check_cpu\n    check_period           24x7\n    max_check_attempts     3\n    check_interval         5\n    retry_interval         1\n    contacts               carol\n}\n\n",
    );
    std::fs::write(dir.join("objects.cfg"), o).unwrap();
    std::fs::write(dir.join("dependencies.cfg"), DEPENDENCIES).unwrap();

    let mut hosts = String::new();
    for i in 0..HOSTS {
        let name = format!("host-{i:04}");
        let site = if i % 2 == 0 { "site-a" } else { "site-b" };
        let role = match i % 5 {
            0 | 1 => "web",
            2 | 3 => "linux",
            _ => "windows",
        };
        write!(hosts, "define host {{\n    host_name  {name}\n    alias  Host {i}\n    address  10.{}.{}.{}\n    use  {site},{role}\n", i / 65536, (i / 256) % 256, i % 256).unwrap();
        if i % 20 != 0 {
            // Parents: each host hangs off the switch of its block of 20.
            writeln!(hosts, "    parents  host-{:04}", i - i % 20).unwrap();
        }
        if i % 7 == 0 {
            writeln!(hosts, "    hostgroups  +db,{site}").unwrap();
        }
        if i % 11 == 0 {
            hosts.push_str("    notes  null\n    max_check_attempts  7\n");
        }
        if i % 13 == 0 {
            hosts.push_str("    contacts  erin\n    _SSH_PORT  2022\n");
        }
        hosts.push_str("}\n\n");
    }
    std::fs::write(dir.join("hosts.cfg"), hosts).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nagios.cfg"),
        format!(
            "cfg_file={d}/objects.cfg\ncfg_file={d}/hosts.cfg\ncfg_file={d}/dependencies.cfg\nillegal_macro_output_chars=`~$&|'\"<>\n\
             check_result_path={d}\nprecached_object_file={d}/objects.precache\nobject_cache_file={d}/objects.cache\n\
             lock_file={d}/nagios.lock\ntemp_file={d}/nagios.tmp\nstatus_file={d}/status.dat\nlog_file={d}/nagios.log\n"
        ),
    )
    .unwrap();
}

/// Every form of dependency and escalation, Nagios syntax. Hosts `i % 5` 0 and 1 are web
/// servers, 2 and 3 Linux servers, 4 Windows servers; `i % 7 == 0` are databases.
const DEPENDENCIES: &str = "\
define servicedependency {
    name                           generic-dependency
    notification_failure_criteria  w,u,c
    execution_failure_criteria     c
    register                       0
}

# Same-host over a hostgroup (no dependent side): each web server's HTTP on its own SSH.
define servicedependency {
    use                            generic-dependency
    hostgroup_name                 web
    service_description            SSH
    dependent_service_description  HTTP
}

define servicedependency {
    hostgroup_name                 windows-servers
    service_description            PING
    dependent_service_description  CPU,Agent
    notification_failure_criteria  c
}

# Same-host over a host list.
define servicedependency {
    use                            generic-dependency
    host_name                      host-0001,host-0002,host-0003
    service_description            PING
    dependent_service_description  Backup
}

# Only the dependent side: same-host on the dependent hosts.
define servicedependency {
    use                            generic-dependency
    service_description            PING
    dependent_host_name            host-0030,host-0031
    dependent_service_description  SSH
}

# `*`: every service of the master hosts, to one host and to two.
define servicedependency {
    use                            generic-dependency
    host_name                      host-0020
    service_description            *
    dependent_host_name            host-0021,host-0022
    dependent_service_description  PING
}

define servicedependency {
    use                            generic-dependency
    host_name                      host-0040,host-0041
    service_description            *
    dependent_host_name            host-0042,host-0043
    dependent_service_description  Disk
}

# Group to group, and group to a host list: every master × every dependent.
define servicedependency {
    use                            generic-dependency
    hostgroup_name                 cluster-db
    service_description            DB
    dependent_hostgroup_name       cluster-app
    dependent_service_description  HTTP
    dependency_period              workhours
}

define servicedependency {
    use                            generic-dependency
    hostgroup_name                 cluster-db
    service_description            DB
    dependent_host_name            host-0300,host-0301
    dependent_service_description  HTTP
}

define hostdependency {
    hostgroup_name                 cluster-db
    dependent_hostgroup_name       cluster-app
    notification_failure_criteria  d,u
    execution_failure_criteria     d
}

define hostdependency {
    host_name                      host-0100,host-0101
    dependent_host_name            host-0102,host-0103,host-0104
    notification_failure_criteria  d,u
    inherits_parent                1
}

define hostdependency {
    host_name                      host-0200
    dependent_host_name            host-0201,host-0202
    notification_failure_criteria  d
}

# Escalations with contacts, and without (Nagios gives them the host's or the service's).
define hostescalation {
    host_name              host-0000,host-0020
    first_notification     2
    last_notification      0
    notification_interval  30
    contact_groups         ops
}

define hostescalation {
    hostgroup_name         cluster-db
    first_notification     3
    last_notification      5
    notification_interval  60
}

define serviceescalation {
    hostgroup_name         cluster-app
    service_description    HTTP
    first_notification     2
    last_notification      0
    notification_interval  30
    contact_groups         dba
}

define serviceescalation {
    host_name              host-0001,host-0002
    service_description    Backup,PING
    first_notification     1
    last_notification      3
    notification_interval  10
}

define serviceescalation {
    host_name              host-0040
    service_description    *
    first_notification     4
    last_notification      0
    notification_interval  20
    contacts               erin
}
";

type Attrs = BTreeMap<String, String>;

/// Objects of the precache file, by type.
fn read_precache(path: &Path) -> BTreeMap<String, Vec<Attrs>> {
    let text = std::fs::read_to_string(path).expect("nagios4 -vp wrote its precache file");
    let (tree, diags) = parse(FileId(0), &text);
    assert!(
        diags.is_empty(),
        "monitorc cannot read Nagios' precache: {diags:?}"
    );
    let mut out: BTreeMap<String, Vec<Attrs>> = BTreeMap::new();
    for b in &tree.blocks {
        let kind = text[b.kind.unwrap().range()].to_string();
        let attrs = b
            .attrs
            .iter()
            .map(|a| (text[a.key.range()].to_string(), a.value(&text).to_string()))
            .collect();
        out.entry(kind).or_default().push(attrs);
    }
    out
}

/// A value in a comparable form: numbers as numbers, lists as sorted sets.
fn norm(key: &str, v: &str) -> String {
    if let Ok(f) = v.parse::<f64>() {
        return format!("{f}");
    }
    if matches!(key, "contacts" | "contact_groups" | "parents") {
        let set: BTreeSet<&str> = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        return set.into_iter().collect::<Vec<_>>().join(",");
    }
    v.to_string()
}

const COMPARED: &[&str] = &[
    "check_command",
    "check_interval",
    "retry_interval",
    "max_check_attempts",
    "check_period",
    "notification_period",
    "notification_interval",
    "contacts",
    "contact_groups",
    "parents",
    "notes",
];

/// The set of `(dependent, master)` of the precache's dependency blocks, services as
/// `host/description`. Nagios writes one block per failure-criteria type: each pair once here.
fn nagios_pairs(blocks: &[Attrs], service: bool) -> BTreeSet<(String, String)> {
    let name = |b: &Attrs, host: &str, desc: &str| {
        if service {
            format!("{}/{}", b[host], b[desc])
        } else {
            b[host].clone()
        }
    };
    blocks
        .iter()
        .map(|b| {
            (
                name(b, "dependent_host_name", "dependent_service_description"),
                name(b, "host_name", "service_description"),
            )
        })
        .collect()
}

/// How many times each host (or `host/description`) has an escalation block.
fn nagios_escalations(blocks: &[Attrs], service: bool) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for b in blocks {
        let key = if service {
            format!("{}/{}", b["host_name"], b["service_description"])
        } else {
            b["host_name"].clone()
        };
        *out.entry(key).or_default() += 1;
    }
    out
}

/// The number `nagios4 -v` prints on its `Checked N <what>` line.
fn nagios_checked(stdout: &str, what: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("Checked ")?;
            let (n, w) = rest.split_once(' ')?;
            (w.trim_end_matches('.') == what).then(|| n.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("nagios4 -v prints no `Checked N {what}`"))
}

/// Adds to `mismatches` the elements of one set missing from the other, a few of each.
fn compare_sets<T: Ord + std::fmt::Debug>(
    what: &str,
    nagios: &BTreeSet<T>,
    mine: &BTreeSet<T>,
    mismatches: &mut Vec<String>,
) {
    for (side, a, b) in [("nagios", nagios, mine), ("monitorc", mine, nagios)] {
        let only: Vec<&T> = a.difference(b).collect();
        if !only.is_empty() {
            mismatches.push(format!(
                "{what}: {} only in {side}, first: {:?}",
                only.len(),
                &only[..only.len().min(5)]
            ));
        }
    }
}

#[test]
fn resolved_hosts_and_services_match_nagios() {
    if !Path::new(NAGIOS).exists() {
        eprintln!(
            "SKIPPED: nagios4-core is not installed ({NAGIOS}); run `apt-get install nagios4-core`"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    // nagios4 runs as the `nagios` user: it must read the config and write its precache.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    generate(dir.path());
    let main = dir.path().join("nagios.cfg");
    let out = Command::new(NAGIOS)
        .arg("-vp")
        .arg(&main)
        .output()
        .expect("nagios4 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Total Errors:   0"),
        "nagios4 rejects the generated tree:\n{stdout}"
    );
    let nagios = read_precache(&dir.path().join("objects.precache"));

    let options = monitorc_compiler::Options {
        engine: monitorc_compiler::EngineChoice::Given(monitorc_compiler::Engine::Nagios),
        ..Default::default()
    };
    let (checked, _) =
        monitorc_compiler::check_timed(&main, &options).expect("monitorc loads the tree");
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| (d.code.code, &d.message))
        .collect();
    assert!(errors.is_empty(), "monitorc reports {errors:?}");
    let m = &checked.model;
    let res = &checked.resolved;

    let mut mismatches = Vec::new();
    let mut compared = 0usize;
    let nagios_hosts = &nagios["host"];
    assert_eq!(nagios_hosts.len(), m.hosts.len(), "host count");
    for nh in nagios_hosts {
        let name = &nh["host_name"];
        let &h = m
            .host_by_name
            .get(name)
            .unwrap_or_else(|| panic!("monitorc lacks host {name}"));
        let ours = m.host(res, h);
        for key in COMPARED {
            let theirs = nh.get(*key).map(|v| norm(key, v));
            let mine = ours.get_str(key).map(|v| norm(key, v));
            compared += 1;
            if theirs != mine {
                mismatches.push(format!(
                    "host {name} {key}: nagios {theirs:?}, monitorc {mine:?}"
                ));
            }
        }
        for (k, v) in nh.iter().filter(|(k, _)| k.starts_with('_')) {
            compared += 1;
            let mine = ours.custom(k).map(|a| a.raw.clone());
            if mine.as_deref() != Some(v.as_str()) {
                mismatches.push(format!("host {name} {k}: nagios {v:?}, monitorc {mine:?}"));
            }
        }
        let customs = ours.customs.len();
        let theirs = nh.keys().filter(|k| k.starts_with('_')).count();
        if customs != theirs {
            mismatches.push(format!(
                "host {name}: {theirs} custom variables in nagios, {customs} in monitorc"
            ));
        }
    }

    let nagios_services = &nagios["service"];
    assert_eq!(nagios_services.len(), m.services.len(), "service count");
    for ns in nagios_services {
        let (host, desc) = (&ns["host_name"], &ns["service_description"]);
        let h = m.host_by_name[host];
        let sid = m
            .service_by_key(h, desc)
            .unwrap_or_else(|| panic!("monitorc lacks {host}/{desc}"));
        let s = &m.services[sid as usize];
        for key in COMPARED
            .iter()
            .filter(|k| **k != "parents" && **k != "notes")
        {
            let theirs = ns.get(*key).map(|v| norm(key, v));
            let mine = m.service_attr(res, s, key).map(|a| norm(key, &a.raw));
            compared += 1;
            if theirs != mine {
                mismatches.push(format!(
                    "service {host}/{desc} {key}: nagios {theirs:?}, monitorc {mine:?}"
                ));
            }
        }
    }

    // Group membership: every hostgroup's members.
    for g in &nagios["hostgroup"] {
        let name = &g["hostgroup_name"];
        let theirs: BTreeSet<&str> = g
            .get("members")
            .map(|v| v.split(',').collect())
            .unwrap_or_default();
        let mine: BTreeSet<&str> = m.hostgroups[name]
            .iter()
            .map(|&h| m.host_names[h as usize].as_str())
            .collect();
        compared += 1;
        if theirs != mine {
            mismatches.push(format!(
                "hostgroup {name}: {} members in nagios, {} in monitorc",
                theirs.len(),
                mine.len()
            ));
        }
    }

    // Dependencies: monitorc's pairs and every master × dependent of its group-to-group rules.
    let host = |h: u32| m.host_names[h as usize].clone();
    let service = |sid: u32| {
        let s = &m.services[sid as usize];
        format!("{}/{}", m.host_names[s.host as usize], s.description)
    };
    let mut host_pairs: BTreeSet<(String, String)> = m
        .host_dependencies
        .iter()
        .map(|d| (host(d.dependent), host(d.master)))
        .collect();
    for r in &m.host_dependency_rules {
        for &d in &r.dependents {
            host_pairs.extend(r.masters.iter().map(|&ma| (host(d), host(ma))));
        }
    }
    let mut service_pairs: BTreeSet<(String, String)> = m
        .service_dependencies
        .iter()
        .map(|d| (service(d.dependent), service(d.master)))
        .collect();
    for r in &m.service_dependency_rules {
        for &d in &r.dependents {
            service_pairs.extend(r.masters.iter().map(|&ma| (service(d), service(ma))));
        }
    }
    let nagios_host_pairs = nagios_pairs(&nagios["hostdependency"], false);
    let nagios_service_pairs = nagios_pairs(&nagios["servicedependency"], true);
    compared += nagios_host_pairs.len() + nagios_service_pairs.len();
    compare_sets(
        "host dependency (dependent, master)",
        &nagios_host_pairs,
        &host_pairs,
        &mut mismatches,
    );
    compare_sets(
        "service dependency (dependent, master)",
        &nagios_service_pairs,
        &service_pairs,
        &mut mismatches,
    );

    // Escalations: the hosts and services each applies to, once per definition.
    let mut host_escalations = BTreeMap::new();
    for &(h, _) in &m.host_escalations {
        *host_escalations.entry(host(h)).or_default() += 1;
    }
    let mut service_escalations = BTreeMap::new();
    for &(sid, _) in &m.service_escalations {
        *service_escalations.entry(service(sid)).or_default() += 1;
    }
    for (what, theirs, mine) in [
        (
            "host escalations",
            nagios_escalations(&nagios["hostescalation"], false),
            host_escalations,
        ),
        (
            "service escalations",
            nagios_escalations(&nagios["serviceescalation"], true),
            service_escalations,
        ),
    ] {
        compared += theirs.len();
        if theirs != mine {
            let differ: Vec<_> = theirs
                .keys()
                .chain(mine.keys())
                .filter(|k| theirs.get(*k) != mine.get(*k))
                .take(5)
                .map(|k| {
                    format!(
                        "{k}: nagios {:?}, monitorc {:?}",
                        theirs.get(k),
                        mine.get(k)
                    )
                })
                .collect();
            mismatches.push(format!("{what} differ: {differ:?}"));
        }
    }

    // The counts `nagios4 -v` prints (dependency objects once per failure-criteria type).
    for (what, key) in [
        ("host dependencies", "hostdependencies"),
        ("service dependencies", "servicedependencies"),
        ("host escalations", "hostescalations"),
        ("service escalations", "serviceescalations"),
    ] {
        compared += 1;
        let (theirs, mine) = (nagios_checked(&stdout, what), checked.summary.get(key));
        if theirs != mine {
            mismatches.push(format!(
                "{what}: nagios checked {theirs}, monitorc counts {mine}"
            ));
        }
    }

    assert!(
        mismatches.is_empty(),
        "{} of {compared} values differ, first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "nagios4 -vp and monitorc agree on all {compared} values ({} hosts, {} services, {} host and {} service dependency pairs)",
        m.hosts.len(),
        m.services.len(),
        host_pairs.len(),
        service_pairs.len()
    );
}
