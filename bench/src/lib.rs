//! A deterministic generator of realistic Nagios / Shinken / Alignak configuration trees, for
//! benchmarks and manual load tests of monitorc.
//!
//! The tree looks like what a large shop keeps under version control:
//!
//! ```text
//! DIR/monitorc.cfg                      main config: cfg_dir=objects, cfg_dir=sites, resource_file=
//! DIR/resource.cfg                      $USERn$ macros
//! DIR/objects/commands/*.cfg            ~30 check and notification commands
//! DIR/objects/timeperiods.cfg
//! DIR/objects/contacts/*.cfg            contact template, contacts, contact groups
//! DIR/objects/templates/*.cfg           host and service templates (OS templates with multiple `use`)
//! DIR/objects/hostgroups.cfg            OS and role groups, regions (`hostgroup_members`)
//! DIR/objects/services/*.cfg            services applied through `hostgroup_name`
//! DIR/objects/dependencies.cfg          dependency templates, same-host dependencies on role groups
//! DIR/objects/escalations.cfg           escalations on role groups
//! DIR/sites/<site>/site.cfg             site host template, site hostgroup (`members`), shop groups
//! DIR/sites/<site>/services.cfg         per-host services (`host_name`)
//! DIR/sites/<site>/dependencies.cfg     the site's dependencies and escalations
//! DIR/sites/<site>/hosts-NN.cfg         100 hosts each
//! ```
//!
//! Sites hold 1,000 hosts each: a firewall, a core router and access switches form the parent
//! chain (`parents`), servers hang off the switches. Every host is in two or three hostgroups
//! (its OS group and role group through its `hostgroups` attribute, its site group through the
//! group's `members`), and gets about ten services, most through `hostgroup_name`. At 100,000
//! hosts the tree is about 55 MB in about 1,300 files.
//!
//! Every form of dependency and escalation is there, the way Nagios reads it:
//!
//! 1. same-host service dependencies on role groups (`hostgroup_name`, no dependent side: each
//!    host's `HTTP` depends on the same host's `SSH`);
//! 2. a same-host service dependency on a `host_name` list (a site's first mail relays);
//! 3. `*` as the master service description: the core router's `WAN Latency` depends on every
//!    service of the firewall (on another host: a same-host `*` would make the dependent
//!    service its own master, a loop Nagios refuses);
//! 4. group-to-group dependencies inside a site, service and host ones (the site's shop
//!    databases → the site's shop application servers: every master × every dependent);
//! 5. host dependencies between `host_name` and `dependent_host_name` lists, beside `parents`;
//! 6. host and service escalations with contacts and without (Nagios gives these the host's or
//!    the service's);
//! 7. services that set `contacts` on hosts that have `contact_groups`.
//!
//! The Shinken tree ([`Tree::Shinken`]) writes form 1 with `explode_hostgroup 1` (without it a
//! hostgroup dependency is the whole product in Shinken) and form 3 with the firewall's
//! services named, since Shinken drops a dependency on `*`; form 2 is a product there.
//! [`Tree::ShinkenCartesian`] adds the case that once took 35 s and 5.5 GB: a hostgroup of
//! 3,000 hosts with a service dependency on itself.
//!
//! The output depends only on the number of hosts and the tree: the same call writes the same
//! bytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The workspace's `target/` as seen from a bench executable (`target/<profile>/deps/…`), where
/// generated trees are cached.
pub fn target_dir() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return std::path::PathBuf::from(d);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "deps"))
                .and_then(|deps| deps.parent()?.parent().map(Path::to_path_buf))
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Bumped whenever the generated text changes, so cached trees are rebuilt.
pub const GENERATOR_VERSION: u32 = 2;
/// Hosts per host file.
pub const HOSTS_PER_FILE: usize = 100;
/// Hosts per site (the last site may hold fewer).
pub const HOSTS_PER_SITE: usize = 1000;
/// Hosts of the cartesian group of [`Tree::ShinkenCartesian`] (fewer if the first region's
/// sites have fewer Linux servers).
pub const CARTESIAN_HOSTS: usize = 3000;

/// Which tree [`generate_tree`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tree {
    /// Nagios syntax and meaning: `nagios4 -v` accepts it.
    Nagios,
    /// A Shinken architecture too: a realm per region under a default `All`, site hostgroups
    /// in their region's realm, four weighted schedulers and a spare per region, a poller per
    /// region, and a reactionner, broker and receiver in `All`. Dependencies are written for
    /// Shinken's meaning (see the crate documentation).
    Shinken,
    /// The Shinken tree, and a hostgroup of [`CARTESIAN_HOSTS`] Linux servers of one realm
    /// whose `Disk /var` depends on their `NTP Time`: without `explode_hostgroup` every host's
    /// on every host's (nine million pairs), with `explode_hostgroup 1` each host's on its own.
    ShinkenCartesian { explode: bool },
}

impl Tree {
    fn shinken(self) -> bool {
        self != Tree::Nagios
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Files written (`*.cfg`, the main config and the resource file included).
    pub files: usize,
    /// Bytes written in all files.
    pub bytes: u64,
    /// Registered hosts.
    pub hosts: usize,
    /// Registered `define service` blocks (through `hostgroup_name` or `host_name`).
    pub service_definitions: usize,
    /// Host/service pairs those definitions expand to.
    pub services: usize,
    /// Registered `define hostdependency` and `define servicedependency` blocks.
    pub dependency_definitions: usize,
    /// (master, dependent) host pairs they make, with the tree's engine's meaning.
    pub host_dependencies: usize,
    /// (master, dependent) service pairs they make.
    pub service_dependencies: usize,
    /// Registered `define hostescalation` and `define serviceescalation` blocks.
    pub escalation_definitions: usize,
    /// Hosts those host escalations apply to (once per definition).
    pub host_escalations: usize,
    /// Services those service escalations apply to (once per definition).
    pub service_escalations: usize,
}

impl std::fmt::Display for GenStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} hosts, {} service definitions ({} services), {} dependency definitions ({} host and {} service pairs), {} escalation definitions ({} hosts, {} services), {} files, {:.1} MB",
            self.hosts,
            self.service_definitions,
            self.services,
            self.dependency_definitions,
            self.host_dependencies,
            self.service_dependencies,
            self.escalation_definitions,
            self.host_escalations,
            self.service_escalations,
            self.files,
            self.bytes as f64 / 1e6
        )
    }
}

/// Writes a configuration of `hosts` hosts under `dir`, which must not exist or be empty.
/// Check it with `monitorc check DIR/monitorc.cfg`.
pub fn generate(dir: &Path, hosts: usize) -> io::Result<GenStats> {
    generate_tree(dir, hosts, Tree::Nagios)
}

/// [`generate`], and with `shinken` the Shinken tree ([`Tree::Shinken`]).
pub fn generate_with(dir: &Path, hosts: usize, shinken: bool) -> io::Result<GenStats> {
    generate_tree(
        dir,
        hosts,
        if shinken { Tree::Shinken } else { Tree::Nagios },
    )
}

/// Writes the tree `tree` of `hosts` hosts under `dir`, which must not exist or be empty.
pub fn generate_tree(dir: &Path, hosts: usize, tree: Tree) -> io::Result<GenStats> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is not empty; generate into a new directory",
                dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(dir)?;
    let plan = Plan::new(hosts);
    let mut w = Writer {
        dir,
        stats: GenStats {
            hosts,
            ..GenStats::default()
        },
    };
    w.file("monitorc.cfg", main_config(&plan))?;
    w.file("resource.cfg", resource_file())?;
    w.file(
        "objects/commands/checks.cfg",
        commands(CHECK_COMMANDS, "check commands", 1, tree.shinken()),
    )?;
    w.file(
        "objects/commands/notifications.cfg",
        commands(
            NOTIFY_COMMANDS,
            "notification and performance data commands",
            2,
            tree.shinken(),
        ),
    )?;
    w.file("objects/timeperiods.cfg", timeperiods())?;
    w.file("objects/contacts/contacts.cfg", contacts())?;
    w.file("objects/contacts/contactgroups.cfg", contactgroups())?;
    w.file("objects/templates/hosts.cfg", host_templates())?;
    w.file("objects/templates/services.cfg", service_templates())?;
    w.file("objects/hostgroups.cfg", hostgroups(&plan))?;
    w.file("objects/servicegroups.cfg", servicegroups())?;
    for (file, groups) in SERVICE_FILES {
        let (text, defs, applied) = hostgroup_services(&plan, groups);
        w.stats.service_definitions += defs;
        w.stats.services += applied;
        w.file(&format!("objects/services/{file}"), text)?;
    }
    let text = group_dependencies(&plan, tree, &mut w.stats);
    w.file("objects/dependencies.cfg", text)?;
    let text = group_escalations(&plan, &mut w.stats);
    w.file("objects/escalations.cfg", text)?;
    if tree.shinken() {
        w.file("objects/architecture.cfg", architecture())?;
    }
    if let Tree::ShinkenCartesian { explode } = tree {
        let text = cartesian(&plan, explode, &mut w.stats);
        w.file("objects/batch-cluster.cfg", text)?;
    }
    // `cfg_dir=sites` must name a directory even without hosts.
    std::fs::create_dir_all(dir.join("sites"))?;
    for site in &plan.sites {
        w.file(
            &format!("sites/{}/site.cfg", site.name),
            site_file(site, tree.shinken()),
        )?;
        let (text, defs, applied) = site_services(site);
        w.stats.service_definitions += defs;
        w.stats.services += applied;
        w.file(&format!("sites/{}/services.cfg", site.name), text)?;
        let text = site_dependencies(site, tree, &mut w.stats);
        w.file(&format!("sites/{}/dependencies.cfg", site.name), text)?;
        for (n, chunk) in site.hosts.chunks(HOSTS_PER_FILE).enumerate() {
            w.file(
                &format!("sites/{}/hosts-{:02}.cfg", site.name, n + 1),
                host_file(site, n, chunk),
            )?;
        }
    }
    Ok(w.stats)
}

struct Writer<'a> {
    dir: &'a Path,
    stats: GenStats,
}

impl Writer<'_> {
    fn file(&mut self, rel: &str, text: String) -> io::Result<()> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text.as_bytes())?;
        self.stats.files += 1;
        self.stats.bytes += text.len() as u64;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-randomness: a hash of (stream, index), no state.

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn rnd(stream: u64, index: u64) -> u64 {
    mix(mix(stream) ^ index)
}

// ---------------------------------------------------------------------------------------------
// Writing style: what varies between admins and files.

/// Where the opening brace goes (never alone on the next line: Nagios reads `define host`
/// as a whole definition line, and `{` then as an attribute).
#[derive(Clone, Copy)]
enum Brace {
    /// `define host {`
    Spaced,
    /// `define host{`
    Tight,
}

#[derive(Clone, Copy)]
struct Style {
    indent: &'static str,
    /// Align values with tabs (else with spaces).
    tabs: bool,
    brace: Brace,
}

impl Style {
    /// The style of the file with seed `seed`: tabs in most files, a few space-indented ones,
    /// mostly `define x {`, some `define x{`.
    fn of(seed: u64) -> Style {
        let r = mix(seed);
        Style {
            indent: if r % 4 == 0 { "    " } else { "\t" },
            tabs: (r >> 8) % 3 != 0,
            brace: match (r >> 16) % 16 {
                0..=9 => Brace::Spaced,
                _ => Brace::Tight,
            },
        }
    }

    fn open(&self, out: &mut String, kind: &str) {
        match self.brace {
            Brace::Spaced => writeln!(out, "define {kind} {{"),
            Brace::Tight => writeln!(out, "define {kind}{{"),
        }
        .unwrap();
    }

    fn close(&self, out: &mut String) {
        out.push_str("}\n\n");
    }

    fn attr(&self, out: &mut String, key: &str, value: impl std::fmt::Display) {
        self.key(out, key);
        writeln!(out, "{value}").unwrap();
    }

    /// An attribute with a trailing `;` comment.
    fn attr_c(&self, out: &mut String, key: &str, value: impl std::fmt::Display, comment: &str) {
        self.key(out, key);
        writeln!(out, "{value}\t; {comment}").unwrap();
    }

    fn key(&self, out: &mut String, key: &str) {
        out.push_str(self.indent);
        out.push_str(key);
        if self.tabs {
            // Values start at column 32 with 8-column tabs (at least one tab).
            let col = self.indent.len() * if self.indent == "\t" { 8 } else { 1 } + key.len();
            let tabs = if col >= 32 { 1 } else { (32 - col).div_ceil(8) };
            for _ in 0..tabs {
                out.push('\t');
            }
        } else {
            let pad = 24usize.saturating_sub(key.len()).max(1);
            for _ in 0..pad {
                out.push(' ');
            }
        }
    }
}

const STANDARD: Style = Style {
    indent: "    ",
    tabs: false,
    brace: Brace::Spaced,
};

fn banner(out: &mut String, title: &str, lines: &[&str]) {
    out.push_str(
        "###############################################################################\n",
    );
    writeln!(out, "# {title}").unwrap();
    for l in lines {
        if l.is_empty() {
            out.push_str("#\n");
        } else {
            writeln!(out, "# {l}").unwrap();
        }
    }
    out.push_str(
        "###############################################################################\n\n",
    );
}

// ---------------------------------------------------------------------------------------------
// The plan: sites and hosts, before any text.

/// (code, region, city)
const CITIES: &[(&str, &str, &str)] = &[
    ("par", "europe", "Paris"),
    ("lon", "europe", "London"),
    ("fra", "europe", "Frankfurt"),
    ("ams", "europe", "Amsterdam"),
    ("mad", "europe", "Madrid"),
    ("nyc", "americas", "New York"),
    ("chi", "americas", "Chicago"),
    ("sfo", "americas", "San Francisco"),
    ("dal", "americas", "Dallas"),
    ("gru", "americas", "Sao Paulo"),
    ("sin", "apac", "Singapore"),
    ("tyo", "apac", "Tokyo"),
    ("syd", "apac", "Sydney"),
    ("hkg", "apac", "Hong Kong"),
    ("bom", "apac", "Mumbai"),
];

const REGIONS: &[(&str, &str)] = &[
    ("europe", "Europe, Middle East and Africa"),
    ("americas", "North and South America"),
    ("apac", "Asia and Pacific"),
];

const TIMEZONES: &[(&str, &str)] = &[
    ("europe", "Europe/Paris"),
    ("americas", "America/New_York"),
    ("apac", "Asia/Singapore"),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Firewall,
    Core,
    Switch,
    Web,
    App,
    Db,
    Mail,
    Linux,
    Windows,
    Ad,
}

/// Server roles, cycled through so that every role appears in every site of 20+ servers.
const SERVER_ROLES: [Role; 20] = [
    Role::Web,
    Role::App,
    Role::Web,
    Role::Windows,
    Role::Db,
    Role::App,
    Role::Web,
    Role::Linux,
    Role::Windows,
    Role::Web,
    Role::App,
    Role::Mail,
    Role::Web,
    Role::Ad,
    Role::App,
    Role::Windows,
    Role::Web,
    Role::Db,
    Role::Linux,
    Role::App,
];

impl Role {
    fn tag(self) -> &'static str {
        match self {
            Role::Firewall => "fw",
            Role::Core => "core",
            Role::Switch => "sw",
            Role::Web => "web",
            Role::App => "app",
            Role::Db => "db",
            Role::Mail => "mx",
            Role::Linux => "lnx",
            Role::Windows => "win",
            Role::Ad => "dc",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Role::Firewall => "Perimeter firewall",
            Role::Core => "Core router",
            Role::Switch => "Access switch",
            Role::Web => "Web frontend",
            Role::App => "Application server",
            Role::Db => "Database server",
            Role::Mail => "Mail relay",
            Role::Linux => "Linux utility server",
            Role::Windows => "Windows file server",
            Role::Ad => "Active Directory domain controller",
        }
    }

    /// Hostgroups named by the host's own `hostgroups` attribute.
    fn groups(self) -> &'static [&'static str] {
        match self {
            Role::Firewall | Role::Core | Role::Switch => &["network-devices"],
            Role::Web => &["linux-servers", "web-servers"],
            Role::App => &["linux-servers", "app-servers"],
            Role::Db => &["linux-servers", "db-servers"],
            Role::Mail => &["linux-servers", "mail-servers"],
            Role::Linux => &["linux-servers"],
            Role::Windows => &["windows-servers"],
            Role::Ad => &["windows-servers", "ad-servers"],
        }
    }

    fn team(self) -> &'static str {
        match self {
            Role::Firewall | Role::Core | Role::Switch => "network-admins",
            Role::Web => "web-team",
            Role::App => "linux-admins",
            Role::Db => "dba",
            Role::Mail | Role::Linux => "linux-admins",
            Role::Windows | Role::Ad => "windows-admins",
        }
    }

    fn is_network(self) -> bool {
        matches!(self, Role::Firewall | Role::Core | Role::Switch)
    }
}

struct HostPlan {
    name: String,
    role: Role,
    /// Index inside the site.
    index: usize,
    /// Number of this role inside the site (for the alias).
    number: usize,
    parent: Option<usize>,
    seed: u64,
}

struct Site {
    index: usize,
    name: String,
    city: &'static str,
    region: &'static str,
    hosts: Vec<HostPlan>,
}

impl Site {
    /// The first `n` hosts of `role`, by index.
    fn first(&self, role: Role, n: usize) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|h| h.role == role)
            .take(n)
            .map(|h| h.name.as_str())
            .collect()
    }

    /// The site's shop: its first databases and application servers, in the hostgroups
    /// `<site>-shop-db` and `<site>-shop-app` that group-to-group dependencies join. Small
    /// enough that every database × every application server stays under monitorc's warning
    /// about large products.
    fn shop(&self) -> (Vec<&str>, Vec<&str>) {
        (self.first(Role::Db, 4), self.first(Role::App, 24))
    }
}

struct Plan {
    sites: Vec<Site>,
}

impl Plan {
    fn new(hosts: usize) -> Plan {
        let nsites = hosts.div_ceil(HOSTS_PER_SITE);
        let sites = (0..nsites)
            .map(|i| {
                let (code, region, city) = CITIES[i % CITIES.len()];
                let name = format!("{code}{:02}", i / CITIES.len() + 1);
                let n = (hosts - i * HOSTS_PER_SITE).min(HOSTS_PER_SITE);
                let hosts = site_hosts(i, &name, n);
                Site {
                    index: i,
                    name,
                    city,
                    region,
                    hosts,
                }
            })
            .collect();
        Plan { sites }
    }

    fn hosts(&self) -> impl Iterator<Item = &HostPlan> {
        self.sites.iter().flat_map(|s| &s.hosts)
    }

    fn count_in_group(&self, group: &str) -> usize {
        self.hosts()
            .filter(|h| h.role.groups().contains(&group))
            .count()
    }
}

/// Host 0 is the firewall, 1 the core router (behind the firewall), then one access switch
/// (behind the core) per 40 servers, then servers, each behind a switch.
fn site_hosts(site: usize, name: &str, n: usize) -> Vec<HostPlan> {
    let servers = n.saturating_sub(2);
    let switches = if n > 2 {
        servers.div_ceil(41).max(1)
    } else {
        0
    };
    let servers = n.saturating_sub(2 + switches);
    let mut counts = [0usize; 10];
    let mut out = Vec::with_capacity(n);
    for index in 0..n {
        let (role, parent) = match index {
            0 => (Role::Firewall, None),
            1 => (Role::Core, Some(0)),
            i if i < 2 + switches => (Role::Switch, Some(1)),
            i => {
                let k = i - 2 - switches;
                let role = SERVER_ROLES[(k + site * 7) % SERVER_ROLES.len()];
                // Consecutive servers share a switch, as racks do.
                let switch = 2 + k * switches / servers.max(1);
                (role, Some(switch))
            }
        };
        let number = {
            let c = &mut counts[role as usize];
            *c += 1;
            *c
        };
        out.push(HostPlan {
            name: format!("{name}-{}-{index:04}", role.tag()),
            role,
            index,
            number,
            parent,
            seed: rnd(site as u64 + 1, index as u64),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Global files

/// The main configuration, with the paths of Debian's `nagios4` package, so that
/// `nagios4 -v DIR/monitorc.cfg` verifies the tree as it is.
fn main_config(plan: &Plan) -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "monitorc.cfg - main configuration",
        &[
            "Generated by monitorc-bench (deterministic): a large multi-site installation.",
            &format!(
                "{} sites, {} hosts.",
                plan.sites.len(),
                plan.hosts().count()
            ),
        ],
    );
    let params: &[(&str, &str)] = &[
        ("log_file", "/var/log/nagios4/nagios.log"),
        (
            "",
            "# Object configuration: shared objects first, then one directory per site.",
        ),
        ("cfg_dir", "objects"),
        ("cfg_dir", "sites"),
        ("", ""),
        ("resource_file", "resource.cfg"),
        ("", ""),
        ("object_cache_file", "/var/lib/nagios4/objects.cache"),
        ("precached_object_file", "/var/lib/nagios4/objects.precache"),
        ("status_file", "/var/lib/nagios4/status.dat"),
        ("status_update_interval", "10"),
        ("nagios_user", "nagios"),
        ("nagios_group", "nagios"),
        ("check_external_commands", "1"),
        ("command_file", "/var/lib/nagios4/rw/nagios.cmd"),
        ("lock_file", "/var/run/nagios4/nagios4.pid"),
        ("temp_file", "/var/lib/nagios4/nagios.tmp"),
        ("temp_path", "/tmp"),
        ("check_result_path", "/var/lib/nagios4/spool/checkresults"),
        ("state_retention_file", "/var/lib/nagios4/retention.dat"),
        ("retention_update_interval", "60"),
        ("retain_state_information", "1"),
        ("use_retained_program_state", "1"),
        ("use_syslog", "1"),
        ("log_notifications", "1"),
        ("log_service_retries", "1"),
        ("log_host_retries", "1"),
        ("log_event_handlers", "1"),
        ("log_initial_states", "0"),
        ("log_external_commands", "1"),
        ("log_passive_checks", "1"),
        ("service_inter_check_delay_method", "s"),
        ("max_service_check_spread", "30"),
        ("service_interleave_factor", "s"),
        ("host_inter_check_delay_method", "s"),
        ("max_host_check_spread", "30"),
        ("max_concurrent_checks", "0"),
        ("check_result_reaper_frequency", "10"),
        ("max_check_result_reaper_time", "30"),
        ("auto_reschedule_checks", "0"),
        ("sleep_time", "0.25"),
        ("service_check_timeout", "60"),
        ("host_check_timeout", "30"),
        ("event_handler_timeout", "30"),
        ("notification_timeout", "30"),
        ("perfdata_timeout", "5"),
        ("enable_notifications", "1"),
        ("execute_service_checks", "1"),
        ("accept_passive_service_checks", "1"),
        ("execute_host_checks", "1"),
        ("accept_passive_host_checks", "1"),
        ("enable_event_handlers", "1"),
        ("enable_flap_detection", "1"),
        ("process_performance_data", "1"),
        ("host_perfdata_command", "process-host-perfdata"),
        ("service_perfdata_command", "process-service-perfdata"),
        ("check_for_orphaned_services", "1"),
        ("check_for_orphaned_hosts", "1"),
        ("check_service_freshness", "1"),
        ("check_host_freshness", "0"),
        ("interval_length", "60"),
        ("use_aggressive_host_checking", "0"),
        ("date_format", "iso8601"),
        ("use_timezone", "UTC"),
        ("illegal_object_name_chars", "`~!$%^&*|'\"<>?,()="),
        ("illegal_macro_output_chars", "`~$&|'\"<>"),
        ("use_regexp_matching", "0"),
        ("admin_email", "nagios-admins@example.com"),
        ("admin_pager", "pager-nagios@example.com"),
    ];
    for (k, v) in params {
        match (k.is_empty(), v.is_empty()) {
            (true, true) => o.push('\n'),
            (true, false) => writeln!(o, "{v}").unwrap(),
            _ => writeln!(o, "{k}={v}").unwrap(),
        }
    }
    o
}

fn resource_file() -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "resource.cfg - $USERn$ macros",
        &["Sensitive values live here, not in object files."],
    );
    for (k, v) in [
        ("$USER1$", "/usr/lib/nagios/plugins"),
        ("$USER2$", "/usr/lib/nagios/eventhandlers"),
        ("$USER3$", "monitoring"),
        ("$USER4$", "s3cr3t-not-really"),
        ("$USER5$", "ro-community"),
        ("$USER6$", "/etc/nagios/ssl"),
    ] {
        writeln!(o, "{k}={v}").unwrap();
    }
    o
}

/// (name, command line)
const CHECK_COMMANDS: &[(&str, &str)] = &[
    ("check-host-alive", "$USER1$/check_ping -H $HOSTADDRESS$ -w 3000.0,80% -c 5000.0,100% -p 5"),
    ("check_ping", "$USER1$/check_ping -H $HOSTADDRESS$ -w $ARG1$ -c $ARG2$ -p 5"),
    ("check_ssh", "$USER1$/check_ssh $ARG1$ $HOSTADDRESS$"),
    ("check_tcp", "$USER1$/check_tcp -H $HOSTADDRESS$ -p $ARG1$ $ARG2$"),
    ("check_nrpe", "$USER1$/check_nrpe -H $HOSTADDRESS$ -t 30 -c $ARG1$ -a $ARG2$"),
    ("check_nrpe_disk", "$USER1$/check_nrpe -H $HOSTADDRESS$ -c check_disk -a -w $ARG2$ -c $ARG3$ -p $ARG1$"),
    ("check_snmp_load", "$USER1$/check_snmp_load.pl -H $HOSTADDRESS$ -C $_HOSTSNMP_COMMUNITY$ -2 -w $ARG1$ -c $ARG2$"),
    ("check_snmp_mem", "$USER1$/check_snmp_mem.pl -H $HOSTADDRESS$ -C $_HOSTSNMP_COMMUNITY$ -2 -w $ARG1$ -c $ARG2$"),
    ("check_snmp_storage", "$USER1$/check_snmp_storage.pl -H $HOSTADDRESS$ -C $_HOSTSNMP_COMMUNITY$ -2 -m \"$ARG1$\" -w $ARG2$ -c $ARG3$"),
    ("check_snmp_int", "$USER1$/check_snmp_int.pl -H $HOSTADDRESS$ -C $_HOSTSNMP_COMMUNITY$ -2 -n \"$ARG1$\" -k -w $ARG2$ -c $ARG3$"),
    ("check_snmp_env", "$USER1$/check_snmp_env.pl -H $HOSTADDRESS$ -C $_HOSTSNMP_COMMUNITY$ -T $ARG1$"),
    ("check_snmp_uptime", "$USER1$/check_snmp -H $HOSTADDRESS$ -C $_HOSTSNMP_COMMUNITY$ -o sysUpTime.0 -w $ARG1$:"),
    ("check_http", "$USER1$/check_http -I $HOSTADDRESS$ -H $ARG1$ -u $ARG2$ -w 2 -c 5"),
    ("check_https", "$USER1$/check_http -I $HOSTADDRESS$ -H $ARG1$ -S --sni -u $ARG2$ -w 2 -c 5"),
    ("check_ssl_cert", "$USER1$/check_http -I $HOSTADDRESS$ -H $ARG1$ -S --sni -C $ARG2$,$ARG3$"),
    ("check_tomcat", "$USER1$/check_tomcat.pl -H $HOSTADDRESS$ -p $ARG1$ -l $USER3$ -a $USER4$ -w $ARG2$ -c $ARG3$"),
    ("check_jvm_heap", "$USER1$/check_jmx -U service:jmx:rmi:///jndi/rmi://$HOSTADDRESS$:$ARG1$/jmxrmi -O java.lang:type=Memory -A HeapMemoryUsage -K used -w $ARG2$ -c $ARG3$"),
    ("check_mysql", "$USER1$/check_mysql -H $HOSTADDRESS$ -u $USER3$ -p $USER4$"),
    ("check_mysql_health", "$USER1$/check_mysql_health --hostname $HOSTADDRESS$ --username $USER3$ --password $USER4$ --mode $ARG1$ --warning $ARG2$ --critical $ARG3$"),
    ("check_smtp", "$USER1$/check_smtp -H $HOSTADDRESS$ -w $ARG1$ -c $ARG2$"),
    ("check_imap", "$USER1$/check_imap -H $HOSTADDRESS$ -p 993 -S"),
    ("check_mailq", "$USER1$/check_nrpe -H $HOSTADDRESS$ -c check_mailq -a -w $ARG1$ -c $ARG2$ -M postfix"),
    ("check_ntp_time", "$USER1$/check_ntp_time -H $HOSTADDRESS$ -w $ARG1$ -c $ARG2$"),
    ("check_nt", "$USER1$/check_nt -H $HOSTADDRESS$ -p 12489 -s $USER4$ -v $ARG1$ $ARG2$"),
    ("check_dns", "$USER1$/check_dns -H $ARG1$ -s $HOSTADDRESS$ -w 1 -c 3"),
    ("check_ldap", "$USER1$/check_ldap -H $HOSTADDRESS$ -b $ARG1$ -3 -w 2 -c 5"),
    ("check_dummy", "$USER1$/check_dummy $ARG1$ \"$ARG2$\""),
];

const NOTIFY_COMMANDS: &[(&str, &str)] = &[
    ("notify-host-by-email", "/usr/bin/printf \"%b\" \"***** Nagios *****\\n\\nNotification Type: $NOTIFICATIONTYPE$\\nHost: $HOSTNAME$\\nState: $HOSTSTATE$\\nAddress: $HOSTADDRESS$\\nInfo: $HOSTOUTPUT$\\n\\nDate/Time: $LONGDATETIME$\\n\" | /usr/bin/mail -s \"** $NOTIFICATIONTYPE$ Host Alert: $HOSTNAME$ is $HOSTSTATE$ **\" $CONTACTEMAIL$"),
    ("notify-service-by-email", "/usr/bin/printf \"%b\" \"***** Nagios *****\\n\\nNotification Type: $NOTIFICATIONTYPE$\\n\\nService: $SERVICEDESC$\\nHost: $HOSTALIAS$\\nAddress: $HOSTADDRESS$\\nState: $SERVICESTATE$\\n\\nDate/Time: $LONGDATETIME$\\n\\nAdditional Info:\\n\\n$SERVICEOUTPUT$\\n\" | /usr/bin/mail -s \"** $NOTIFICATIONTYPE$ Service Alert: $HOSTALIAS$/$SERVICEDESC$ is $SERVICESTATE$ **\" $CONTACTEMAIL$"),
    ("notify-host-by-sms", "$USER2$/send_sms.sh \"$CONTACTPAGER$\" \"$NOTIFICATIONTYPE$ $HOSTNAME$ $HOSTSTATE$\""),
    ("notify-service-by-sms", "$USER2$/send_sms.sh \"$CONTACTPAGER$\" \"$NOTIFICATIONTYPE$ $HOSTNAME$/$SERVICEDESC$ $SERVICESTATE$\""),
    ("process-host-perfdata", "/usr/bin/printf \"%b\" \"$LASTHOSTCHECK$\\t$HOSTNAME$\\t$HOSTSTATE$\\t$HOSTATTEMPT$\\t$HOSTSTATETYPE$\\t$HOSTEXECUTIONTIME$\\t$HOSTOUTPUT$\\t$HOSTPERFDATA$\\n\" >> /var/lib/nagios/host-perfdata.out"),
    ("process-service-perfdata", "/usr/bin/printf \"%b\" \"$LASTSERVICECHECK$\\t$HOSTNAME$\\t$SERVICEDESC$\\t$SERVICESTATE$\\t$SERVICEATTEMPT$\\t$SERVICESTATETYPE$\\t$SERVICEEXECUTIONTIME$\\t$SERVICELATENCY$\\t$SERVICEOUTPUT$\\t$SERVICEPERFDATA$\\n\" >> /var/lib/nagios/service-perfdata.out"),
    ("restart-service", "$USER2$/restart_service.sh $SERVICESTATE$ $SERVICESTATETYPE$ $SERVICEATTEMPT$ $ARG1$"),
];

/// Command definitions; with `shinken`, slow ones get a `timeout` (a Shinken attribute that
/// Nagios refuses).
fn commands(list: &[(&str, &str)], title: &str, seed: u64, shinken: bool) -> String {
    let mut o = String::new();
    banner(
        &mut o,
        &format!("Commands: {title}"),
        &["$USER1$ is the plugin directory (resource.cfg)."],
    );
    let style = Style::of(0xc0 + seed);
    for (i, (name, line)) in list.iter().enumerate() {
        if i % 8 == 0 && i > 0 {
            o.push_str(
                "# ---------------------------------------------------------------------\n\n",
            );
        }
        style.open(&mut o, "command");
        style.attr(&mut o, "command_name", name);
        style.attr(&mut o, "command_line", line);
        if shinken && (name.starts_with("check_nrpe") || name.starts_with("check_mysql")) {
            style.attr(&mut o, "timeout", 60);
        }
        style.close(&mut o);
    }
    o
}

fn timeperiods() -> String {
    let mut o = String::new();
    banner(&mut o, "Time periods", &[]);
    let s = STANDARD;
    s.open(&mut o, "timeperiod");
    s.attr(&mut o, "timeperiod_name", "24x7");
    s.attr(&mut o, "alias", "24 Hours A Day, 7 Days A Week");
    for d in [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ] {
        s.attr(&mut o, d, "00:00-24:00");
    }
    s.close(&mut o);

    s.open(&mut o, "timeperiod");
    s.attr(&mut o, "timeperiod_name", "workhours");
    s.attr(&mut o, "alias", "Normal Work Hours");
    for d in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
        s.attr(&mut o, d, "09:00-17:00");
    }
    s.attr(&mut o, "exclude", "us-holidays");
    s.close(&mut o);

    s.open(&mut o, "timeperiod");
    s.attr(&mut o, "timeperiod_name", "nonworkhours");
    s.attr(&mut o, "alias", "Non-Work Hours");
    s.attr(&mut o, "sunday", "00:00-24:00");
    for d in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
        s.attr(&mut o, d, "00:00-09:00,17:00-24:00");
    }
    s.attr(&mut o, "saturday", "00:00-24:00");
    s.close(&mut o);

    o.push_str("# 'none' has no time ranges: nothing is ever in it.\n");
    s.open(&mut o, "timeperiod");
    s.attr(&mut o, "timeperiod_name", "none");
    s.attr(&mut o, "alias", "No Time Is A Good Time");
    s.close(&mut o);

    s.open(&mut o, "timeperiod");
    s.attr(&mut o, "name", "us-holidays");
    s.attr(&mut o, "timeperiod_name", "us-holidays");
    s.attr(&mut o, "alias", "U.S. Holidays");
    s.attr_c(&mut o, "january 1", "00:00-24:00", "New Years");
    s.attr_c(
        &mut o,
        "monday -1 may",
        "00:00-24:00",
        "Memorial Day (last Monday in May)",
    );
    s.attr_c(&mut o, "july 4", "00:00-24:00", "Independence Day");
    s.attr_c(
        &mut o,
        "monday 1 september",
        "00:00-24:00",
        "Labor Day (first Monday in September)",
    );
    s.attr_c(
        &mut o,
        "thursday 4 november",
        "00:00-24:00",
        "Thanksgiving (4th Thursday in November)",
    );
    s.attr_c(&mut o, "december 25", "00:00-24:00", "Christmas");
    s.close(&mut o);

    s.open(&mut o, "timeperiod");
    s.attr(&mut o, "timeperiod_name", "backup-window");
    s.attr(&mut o, "alias", "Nightly backups");
    s.attr(&mut o, "day 1 - 31", "01:00-05:00");
    s.close(&mut o);
    o
}

/// (contact, full name, groups)
const CONTACTS: &[(&str, &str, &str)] = &[
    ("nagiosadmin", "Nagios Admin", "admins"),
    ("alice", "Alice Martin", "admins,linux-admins"),
    ("bob", "Bob Dupont", "linux-admins"),
    ("carol", "Carol Smith", "linux-admins,web-team"),
    ("dave", "Dave Jones", "web-team"),
    ("erin", "Erin Brown", "web-team"),
    ("frank", "Frank Miller", "dba"),
    ("grace", "Grace Lee", "dba"),
    ("heidi", "Heidi Wagner", "windows-admins"),
    ("ivan", "Ivan Petrov", "windows-admins"),
    ("judy", "Judy Chen", "network-admins"),
    ("mallory", "Mallory Klein", "network-admins"),
    ("niaj", "Niaj Patel", "network-admins,admins"),
    ("olivia", "Olivia Rossi", "linux-admins"),
    ("peggy", "Peggy Tanaka", "windows-admins"),
    ("rupert", "Rupert Evans", "dba,linux-admins"),
    ("sybil", "Sybil Novak", "web-team"),
    ("trent", "Trent Walker", "admins"),
    ("victor", "Victor Silva", "network-admins"),
    ("wendy", "Wendy Kim", "linux-admins"),
];

const CONTACT_GROUPS: &[(&str, &str)] = &[
    ("admins", "Nagios Administrators"),
    ("linux-admins", "Linux Administrators"),
    ("windows-admins", "Windows Administrators"),
    ("network-admins", "Network Team"),
    ("dba", "Database Administrators"),
    ("web-team", "Web Operations"),
];

fn contacts() -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "Contacts",
        &["Group membership is set on each contact (`contactgroups`)."],
    );
    let s = Style::of(0xc1);
    s.open(&mut o, "contact");
    s.attr(&mut o, "name", "generic-contact");
    s.attr(&mut o, "service_notification_period", "24x7");
    s.attr(&mut o, "host_notification_period", "24x7");
    s.attr(&mut o, "service_notification_options", "w,u,c,r,f,s");
    s.attr(&mut o, "host_notification_options", "d,u,r,f,s");
    s.attr(
        &mut o,
        "service_notification_commands",
        "notify-service-by-email",
    );
    s.attr(&mut o, "host_notification_commands", "notify-host-by-email");
    s.attr_c(&mut o, "register", 0, "template");
    s.close(&mut o);
    s.open(&mut o, "contact");
    s.attr(&mut o, "name", "oncall-contact");
    s.attr(&mut o, "use", "generic-contact");
    s.attr(
        &mut o,
        "service_notification_commands",
        "notify-service-by-email,notify-service-by-sms",
    );
    s.attr(
        &mut o,
        "host_notification_commands",
        "notify-host-by-email,notify-host-by-sms",
    );
    s.attr(&mut o, "register", 0);
    s.close(&mut o);
    for (i, (name, full, groups)) in CONTACTS.iter().enumerate() {
        s.open(&mut o, "contact");
        s.attr(&mut o, "contact_name", name);
        s.attr(
            &mut o,
            "use",
            if i % 3 == 0 {
                "oncall-contact"
            } else {
                "generic-contact"
            },
        );
        s.attr(&mut o, "alias", full);
        s.attr(&mut o, "email", format!("{name}@example.com"));
        if i % 3 == 0 {
            s.attr(&mut o, "pager", format!("00336123{:05}", i * 37));
        }
        s.attr(&mut o, "contactgroups", groups);
        if i % 4 == 1 {
            s.attr_c(
                &mut o,
                "service_notification_period",
                "workhours",
                "daytime only",
            );
        }
        s.close(&mut o);
    }
    o
}

fn contactgroups() -> String {
    let mut o = String::new();
    banner(&mut o, "Contact groups", &[]);
    let s = Style::of(0xc2);
    for (name, alias) in CONTACT_GROUPS {
        s.open(&mut o, "contactgroup");
        s.attr(&mut o, "contactgroup_name", name);
        s.attr(&mut o, "alias", alias);
        s.close(&mut o);
    }
    s.open(&mut o, "contactgroup");
    s.attr(&mut o, "contactgroup_name", "oncall");
    s.attr(&mut o, "alias", "Everyone on call");
    s.attr(
        &mut o,
        "contactgroup_members",
        "linux-admins,windows-admins,network-admins",
    );
    s.attr(&mut o, "members", "nagiosadmin");
    s.close(&mut o);
    o
}

fn host_templates() -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "Host templates",
        &["OS templates combine generic-host with snmp-host (multiple `use`)."],
    );
    let s = Style::of(0xc3);
    let t = |o: &mut String, name: &str, uses: &str, attrs: &[(&str, &str)]| {
        s.open(o, "host");
        s.attr(o, "name", name);
        if !uses.is_empty() {
            s.attr(o, "use", uses);
        }
        for (k, v) in attrs {
            s.attr(o, k, v);
        }
        s.attr_c(o, "register", 0, "a template, not a real host");
        s.close(o);
    };
    t(
        &mut o,
        "generic-host",
        "",
        &[
            ("check_command", "check-host-alive"),
            ("max_check_attempts", "3"),
            ("check_interval", "5"),
            ("retry_interval", "1"),
            ("check_period", "24x7"),
            ("notification_period", "24x7"),
            ("notification_interval", "60"),
            ("notification_options", "d,u,r,f,s"),
            ("contact_groups", "admins"),
            ("notifications_enabled", "1"),
            ("event_handler_enabled", "1"),
            ("flap_detection_enabled", "1"),
            ("process_perf_data", "1"),
            ("retain_status_information", "1"),
            ("retain_nonstatus_information", "1"),
        ],
    );
    t(
        &mut o,
        "snmp-host",
        "",
        &[
            ("_SNMP_COMMUNITY", "$USER5$"),
            ("_SNMP_VERSION", "2c"),
            ("_SNMP_PORT", "161"),
        ],
    );
    t(
        &mut o,
        "linux-server",
        "generic-host,snmp-host",
        &[
            ("contact_groups", "linux-admins"),
            ("icon_image", "base/linux40.png"),
            ("statusmap_image", "base/linux40.gd2"),
            ("_OS", "linux"),
        ],
    );
    t(
        &mut o,
        "debian-server",
        "linux-server",
        &[("icon_image", "base/debian.png"), ("_DISTRO", "debian")],
    );
    t(
        &mut o,
        "rhel-server",
        "linux-server",
        &[("icon_image", "base/redhat.png"), ("_DISTRO", "rhel")],
    );
    t(
        &mut o,
        "windows-server",
        "generic-host,snmp-host",
        &[
            ("contact_groups", "windows-admins"),
            ("icon_image", "base/win40.png"),
            ("statusmap_image", "base/win40.gd2"),
            ("_OS", "windows"),
        ],
    );
    t(
        &mut o,
        "network-device",
        "generic-host,snmp-host",
        &[
            ("check_interval", "2"),
            ("contact_groups", "network-admins"),
            ("notification_options", "d,r"),
            ("icon_image", "base/switch40.png"),
        ],
    );
    t(
        &mut o,
        "cisco-device",
        "network-device",
        &[("_VENDOR", "cisco")],
    );
    t(
        &mut o,
        "juniper-device",
        "network-device",
        &[("_VENDOR", "juniper")],
    );
    o
}

fn service_templates() -> String {
    let mut o = String::new();
    banner(&mut o, "Service templates", &[]);
    let s = Style::of(0xc4);
    s.open(&mut o, "service");
    s.attr(&mut o, "name", "generic-service");
    for (k, v) in [
        ("active_checks_enabled", "1"),
        ("passive_checks_enabled", "1"),
        ("parallelize_check", "1"),
        ("obsess_over_service", "1"),
        ("check_freshness", "0"),
        ("notifications_enabled", "1"),
        ("event_handler_enabled", "1"),
        ("flap_detection_enabled", "1"),
        ("process_perf_data", "1"),
        ("retain_status_information", "1"),
        ("retain_nonstatus_information", "1"),
        ("is_volatile", "0"),
        ("check_period", "24x7"),
        ("max_check_attempts", "3"),
        ("check_interval", "5"),
        ("retry_interval", "1"),
        ("contact_groups", "admins"),
        ("notification_options", "w,u,c,r"),
        ("notification_interval", "60"),
        ("notification_period", "24x7"),
    ] {
        s.attr(&mut o, k, v);
    }
    s.attr_c(&mut o, "register", 0, "a template, not a real service");
    s.close(&mut o);
    for (name, uses, attrs) in [
        (
            "local-service",
            "generic-service",
            &[("max_check_attempts", "4"), ("retry_interval", "1")][..],
        ),
        (
            "snmp-service",
            "generic-service",
            &[("check_interval", "10"), ("retry_interval", "2")][..],
        ),
        (
            "critical-service",
            "generic-service",
            &[
                ("check_interval", "1"),
                ("notification_interval", "15"),
                ("contact_groups", "+oncall"),
            ][..],
        ),
        (
            "business-hours-service",
            "generic-service",
            &[("notification_period", "workhours")][..],
        ),
    ] {
        s.open(&mut o, "service");
        s.attr(&mut o, "name", name);
        s.attr(&mut o, "use", uses);
        for (k, v) in attrs {
            s.attr(&mut o, k, v);
        }
        s.attr(&mut o, "register", 0);
        s.close(&mut o);
    }
    o.push_str(
        "# Services owned by application teams: they name their contacts, and take the host's\n\
         # notification period and interval.\n",
    );
    s.open(&mut o, "service");
    s.attr(&mut o, "name", "team-service");
    for (k, v) in [
        ("check_period", "24x7"),
        ("max_check_attempts", "3"),
        ("check_interval", "10"),
        ("retry_interval", "2"),
        ("notification_options", "w,c,r"),
    ] {
        s.attr(&mut o, k, v);
    }
    s.attr(&mut o, "register", 0);
    s.close(&mut o);
    o
}

/// (group, alias)
const HOSTGROUPS: &[(&str, &str)] = &[
    ("linux-servers", "Linux Servers"),
    ("windows-servers", "Windows Servers"),
    ("network-devices", "Network Devices"),
    ("web-servers", "Web Frontends"),
    ("app-servers", "Application Servers"),
    ("db-servers", "Database Servers"),
    ("mail-servers", "Mail Relays"),
    ("ad-servers", "Active Directory Domain Controllers"),
];

fn hostgroups(plan: &Plan) -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "Host groups",
        &[
            "OS and role groups: hosts join them with their `hostgroups` attribute.",
            "Site groups (sites/*/site.cfg) list their hosts in `members`; regions list sites.",
        ],
    );
    let s = Style::of(0xc5);
    for (name, alias) in HOSTGROUPS {
        s.open(&mut o, "hostgroup");
        s.attr(&mut o, "hostgroup_name", name);
        s.attr(&mut o, "alias", alias);
        s.attr(
            &mut o,
            "notes_url",
            format!("https://wiki.example.com/monitoring/hostgroups/{name}"),
        );
        s.close(&mut o);
    }
    for (region, alias) in REGIONS {
        let sites: Vec<&str> = plan
            .sites
            .iter()
            .filter(|s| s.region == *region)
            .map(|s| s.name.as_str())
            .collect();
        if sites.is_empty() {
            continue;
        }
        s.open(&mut o, "hostgroup");
        s.attr(&mut o, "hostgroup_name", format!("region-{region}"));
        s.attr(&mut o, "alias", alias);
        s.attr(&mut o, "hostgroup_members", sites.join(","));
        s.close(&mut o);
    }
    o
}

fn servicegroups() -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "Service groups",
        &["Services join them with their `servicegroups` attribute."],
    );
    let s = Style::of(0xc6);
    for (name, alias) in [
        ("web-checks", "Web and TLS checks"),
        ("database-checks", "Database checks"),
        ("system-checks", "Operating system checks"),
        ("network-checks", "Network device checks"),
    ] {
        s.open(&mut o, "servicegroup");
        s.attr(&mut o, "servicegroup_name", name);
        s.attr(&mut o, "alias", alias);
        s.close(&mut o);
    }
    o
}

/// One service applied to hostgroups: (description, template, check_command, servicegroup).
type Svc = (&'static str, &'static str, &'static str, &'static str);

/// (hostgroup, services)
const HOSTGROUP_SERVICES: &[(&str, &[Svc])] = &[
    (
        "linux-servers",
        &[
            (
                "PING",
                "generic-service",
                "check_ping!100.0,20%!500.0,60%",
                "system-checks",
            ),
            ("SSH", "generic-service", "check_ssh!-t 20", "system-checks"),
            (
                "CPU Load",
                "local-service",
                "check_nrpe!check_load!-w 15,10,5 -c 30,25,20",
                "system-checks",
            ),
            (
                "Memory",
                "local-service",
                "check_nrpe!check_mem!-w 90 -c 95",
                "system-checks",
            ),
            (
                "Disk /",
                "local-service",
                "check_nrpe_disk!/!20%!10%",
                "system-checks",
            ),
            (
                "Disk /var",
                "local-service",
                "check_nrpe_disk!/var!15%!5%",
                "system-checks",
            ),
            (
                "NTP Time",
                "local-service",
                "check_ntp_time!0.5!1",
                "system-checks",
            ),
            (
                "Total Processes",
                "local-service",
                "check_nrpe!check_procs!-w 400 -c 600",
                "system-checks",
            ),
        ],
    ),
    (
        "windows-servers",
        &[
            (
                "PING",
                "generic-service",
                "check_ping!100.0,20%!500.0,60%",
                "system-checks",
            ),
            (
                "CPU Load",
                "snmp-service",
                "check_nt!CPULOAD!-l 5,80,90",
                "system-checks",
            ),
            (
                "Memory",
                "snmp-service",
                "check_nt!MEMUSE!-w 85 -c 95",
                "system-checks",
            ),
            (
                "Disk C:",
                "snmp-service",
                "check_nt!USEDDISKSPACE!-l c -w 85 -c 95",
                "system-checks",
            ),
            (
                "Disk D:",
                "snmp-service",
                "check_nt!USEDDISKSPACE!-l d -w 90 -c 97",
                "system-checks",
            ),
            (
                "Uptime",
                "snmp-service",
                "check_nt!UPTIME!",
                "system-checks",
            ),
            (
                "W32Time",
                "snmp-service",
                "check_nt!SERVICESTATE!-d SHOWALL -l W32Time",
                "system-checks",
            ),
            (
                "RDP",
                "generic-service",
                "check_tcp!3389!-t 10",
                "system-checks",
            ),
        ],
    ),
    (
        "network-devices",
        &[
            (
                "PING",
                "critical-service",
                "check_ping!50.0,10%!200.0,40%",
                "network-checks",
            ),
            (
                "Uptime",
                "snmp-service",
                "check_snmp_uptime!600",
                "network-checks",
            ),
            (
                "CPU Load",
                "snmp-service",
                "check_snmp_load!80!90",
                "network-checks",
            ),
            (
                "Memory",
                "snmp-service",
                "check_snmp_mem!85,85!95,95",
                "network-checks",
            ),
            (
                "Interfaces",
                "snmp-service",
                "check_snmp_int!^(Gi|Te)!80,80!95,95",
                "network-checks",
            ),
            (
                "Environment",
                "snmp-service",
                "check_snmp_env!cisco",
                "network-checks",
            ),
            (
                "Port 22",
                "generic-service",
                "check_tcp!22!-t 5",
                "network-checks",
            ),
        ],
    ),
    (
        "web-servers",
        &[
            (
                "HTTP",
                "generic-service",
                "check_http!$HOSTNAME$.example.com!/health",
                "web-checks",
            ),
            (
                "HTTPS",
                "critical-service",
                "check_https!$HOSTNAME$.example.com!/health",
                "web-checks",
            ),
            (
                "TLS Certificate",
                "business-hours-service",
                "check_ssl_cert!$HOSTNAME$.example.com!30!14",
                "web-checks",
            ),
        ],
    ),
    (
        "app-servers",
        &[
            (
                "Tomcat",
                "generic-service",
                "check_tomcat!8080!80!90",
                "system-checks",
            ),
            (
                "JVM Heap",
                "generic-service",
                "check_jvm_heap!9010!80!95",
                "system-checks",
            ),
        ],
    ),
    (
        "db-servers",
        &[
            (
                "MySQL",
                "critical-service",
                "check_mysql",
                "database-checks",
            ),
            (
                "MySQL Connections",
                "generic-service",
                "check_mysql_health!threads-connected!400!480",
                "database-checks",
            ),
            (
                "MySQL Replication",
                "critical-service",
                "check_mysql_health!slave-lag!30!120",
                "database-checks",
            ),
            (
                "MySQL Slow Queries",
                "generic-service",
                "check_mysql_health!slow-queries!10!50",
                "database-checks",
            ),
        ],
    ),
    (
        "mail-servers",
        &[
            (
                "SMTP",
                "critical-service",
                "check_smtp!2!5",
                "system-checks",
            ),
            ("IMAPS", "generic-service", "check_imap", "system-checks"),
            (
                "Mail Queue",
                "local-service",
                "check_mailq!200!500",
                "system-checks",
            ),
        ],
    ),
    (
        "ad-servers",
        &[
            (
                "DNS",
                "critical-service",
                "check_dns!example.com",
                "system-checks",
            ),
            (
                "LDAP",
                "critical-service",
                "check_ldap!dc=example,dc=com",
                "system-checks",
            ),
            (
                "NetLogon",
                "snmp-service",
                "check_nt!SERVICESTATE!-d SHOWALL -l Netlogon",
                "system-checks",
            ),
        ],
    ),
];

/// Which hostgroups' services go in which file of objects/services/.
const SERVICE_FILES: &[(&str, &[&str])] = &[
    ("linux.cfg", &["linux-servers"]),
    ("windows.cfg", &["windows-servers", "ad-servers"]),
    ("network.cfg", &["network-devices"]),
    (
        "applications.cfg",
        &["web-servers", "app-servers", "db-servers", "mail-servers"],
    ),
];

/// The services of `groups`, each once per group; groups without hosts get none (a service
/// on an empty hostgroup is an error to Nagios). Returns (text, definitions, host/service pairs).
fn hostgroup_services(plan: &Plan, groups: &[&str]) -> (String, usize, usize) {
    let mut o = String::new();
    banner(
        &mut o,
        &format!("Services of {}", groups.join(", ")),
        &["Applied to every host of the hostgroup (`hostgroup_name`)."],
    );
    let mut defs = 0;
    let mut applied = 0;
    for (gi, group) in groups.iter().enumerate() {
        let members = plan.count_in_group(group);
        if members == 0 {
            writeln!(o, "# {group}: no hosts, no services\n").unwrap();
            continue;
        }
        let services = HOSTGROUP_SERVICES
            .iter()
            .find(|(g, _)| g == group)
            .map(|(_, s)| *s)
            .unwrap_or(&[]);
        writeln!(o, "# ---- {group} ({members} hosts) ----\n").unwrap();
        let s = Style::of(0x5e + gi as u64 + group.len() as u64);
        for (i, (desc, template, check, sg)) in services.iter().enumerate() {
            s.open(&mut o, "service");
            s.attr(&mut o, "use", template);
            s.attr(&mut o, "hostgroup_name", group);
            s.attr(&mut o, "service_description", desc);
            s.attr(&mut o, "check_command", check);
            s.attr(&mut o, "servicegroups", sg);
            if i % 3 == 1 {
                s.attr_c(
                    &mut o,
                    "notes",
                    format!("Runbook: https://wiki.example.com/runbooks/{}", slug(desc)),
                    "see the runbook first",
                );
            }
            if *template == "local-service" && i % 2 == 0 {
                s.attr(&mut o, "event_handler", "restart-service!auto");
            }
            s.close(&mut o);
            defs += 1;
            applied += members;
        }
    }
    (o, defs, applied)
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Site files

fn city_alias(site: &Site) -> String {
    format!("{} DC {}", site.city, site.index / CITIES.len() + 1)
}

fn site_file(site: &Site, shinken: bool) -> String {
    let mut o = String::new();
    let alias = city_alias(site);
    banner(
        &mut o,
        &format!("Site {}: {alias}", site.name),
        &[&format!(
            "{} hosts in {} files.",
            site.hosts.len(),
            site.hosts.len().div_ceil(HOSTS_PER_FILE)
        )],
    );
    let s = Style::of(0x517e + site.index as u64);
    s.open(&mut o, "host");
    s.attr(&mut o, "name", format!("site-{}", site.name));
    s.attr(
        &mut o,
        "notes_url",
        format!("https://wiki.example.com/sites/{}", site.name),
    );
    s.attr(&mut o, "_SITE", &site.name);
    s.attr(&mut o, "_DATACENTER", &alias);
    let tz = TIMEZONES
        .iter()
        .find(|(r, _)| *r == site.region)
        .map(|(_, t)| *t)
        .unwrap_or("UTC");
    s.attr(&mut o, "_TIMEZONE", tz);
    s.attr(
        &mut o,
        "_SYSLOG_SERVER",
        format!("syslog.{}.example.com", site.name),
    );
    s.attr(&mut o, "register", 0);
    s.close(&mut o);

    o.push_str("# Every host of the site; generated from the CMDB.\n");
    s.open(&mut o, "hostgroup");
    s.attr(&mut o, "hostgroup_name", &site.name);
    s.attr(&mut o, "alias", &alias);
    let members: Vec<&str> = site.hosts.iter().map(|h| h.name.as_str()).collect();
    s.attr(&mut o, "members", members.join(","));
    if shinken {
        s.attr(&mut o, "realm", site.region);
    }
    s.close(&mut o);

    let (dbs, apps) = site.shop();
    for (role, alias, members) in [
        ("db", "databases", dbs),
        ("app", "application servers", apps),
    ] {
        if members.is_empty() {
            continue;
        }
        s.open(&mut o, "hostgroup");
        s.attr(
            &mut o,
            "hostgroup_name",
            format!("{}-shop-{role}", site.name),
        );
        s.attr(
            &mut o,
            "alias",
            format!("{alias} of the {} shop", site.name),
        );
        s.attr(&mut o, "members", members.join(","));
        s.close(&mut o);
    }
    o
}

/// The Shinken architecture of [`generate_with`].
fn architecture() -> String {
    let mut o = String::from("# Realms and daemons: one realm per region under All.\n\n");
    let regions: Vec<&str> = REGIONS.iter().map(|(r, _)| *r).collect();
    writeln!(o, "define realm {{\n    realm_name     All\n    realm_members  {}\n    default        1\n}}\n", regions.join(",")).unwrap();
    for (region, alias) in REGIONS {
        writeln!(
            o,
            "define realm {{\n    realm_name  {region}\n    alias       {alias}\n}}\n"
        )
        .unwrap();
        for (i, weight) in [1, 2, 1, 2].iter().enumerate() {
            writeln!(o, "define scheduler {{\n    scheduler_name  scheduler-{region}-{}\n    address         sched{}.{region}.example.com\n    port            7768\n    realm           {region}\n    weight          {weight}\n}}\n", i + 1, i + 1).unwrap();
        }
        writeln!(o, "define scheduler {{\n    scheduler_name  scheduler-{region}-spare\n    address         sched-spare.{region}.example.com\n    realm           {region}\n    spare           1\n}}\n").unwrap();
        writeln!(o, "define poller {{\n    poller_name  poller-{region}\n    address      poller.{region}.example.com\n    realm        {region}\n}}\n").unwrap();
    }
    for kind in ["reactionner", "broker", "receiver"] {
        writeln!(o, "define {kind} {{\n    {kind}_name        {kind}-master\n    address  {kind}.example.com\n    realm              All\n    manage_sub_realms  1\n}}\n").unwrap();
    }
    o
}

/// Per-host services (`host_name`): virtual hosts on some web servers, backups on some
/// databases, application services on some Windows servers, batch queues on some application
/// servers, and one service on the site's gateways. Returns (text, definitions, host/service
/// pairs).
fn site_services(site: &Site) -> (String, usize, usize) {
    let mut o = String::new();
    banner(
        &mut o,
        &format!("Site {}: host-specific services", site.name),
        &["Services that only some hosts have, named by `host_name`."],
    );
    let s = Style::of(0x5e7 + site.index as u64);
    let mut defs = 0;
    let mut applied = 0;
    let gateways: Vec<&str> = site
        .hosts
        .iter()
        .filter(|h| matches!(h.role, Role::Firewall | Role::Core))
        .map(|h| h.name.as_str())
        .collect();
    if !gateways.is_empty() {
        s.open(&mut o, "service");
        s.attr(&mut o, "use", "critical-service");
        s.attr(&mut o, "host_name", gateways.join(","));
        s.attr(&mut o, "service_description", "WAN Latency");
        s.attr(&mut o, "check_command", "check_ping!80.0,5%!250.0,20%");
        s.attr(&mut o, "servicegroups", "network-checks");
        s.close(&mut o);
        defs += 1;
        applied += gateways.len();
    }
    for h in &site.hosts {
        let r = h.seed >> 20;
        let svc: Option<(&str, String, String, &str)> = match h.role {
            Role::Web if r % 6 == 0 => Some((
                "generic-service",
                format!("HTTP vhost shop-{}", h.number),
                format!("check_http!shop-{}.{}.example.com!/", h.number, site.name),
                "web-checks",
            )),
            Role::Db if r % 3 == 0 => Some((
                "business-hours-service",
                "MySQL Backup Age".into(),
                "check_mysql_health!sql!--name \"SELECT TIMESTAMPDIFF(HOUR, MAX(finished), NOW()) FROM backup.runs\"!26!50".into(),
                "database-checks",
            )),
            Role::Windows if r % 8 == 0 => Some((
                "snmp-service",
                "MSSQLSERVER".into(),
                "check_nt!SERVICESTATE!-d SHOWALL -l MSSQLSERVER".into(),
                "database-checks",
            )),
            Role::App if r % 4 == 0 => Some((
                "team-service",
                "Batch Queue".into(),
                "check_nrpe!check_batch_queue!-w 100 -c 500".into(),
                "system-checks",
            )),
            _ => None,
        };
        let Some((template, desc, check, sg)) = svc else {
            continue;
        };
        if r % 5 == 0 {
            writeln!(o, "# requested in ticket OPS-{}", 10_000 + (r % 90_000)).unwrap();
        }
        s.open(&mut o, "service");
        s.attr(&mut o, "use", template);
        s.attr(&mut o, "host_name", &h.name);
        s.attr(&mut o, "service_description", desc);
        s.attr(&mut o, "check_command", check);
        s.attr(&mut o, "servicegroups", sg);
        if template == "team-service" {
            // The owners, while the host has contact groups (form 7).
            let owners = BATCH_OWNERS[(r >> 4) as usize % BATCH_OWNERS.len()];
            s.attr(&mut o, "contacts", owners);
        } else {
            s.attr(&mut o, "contact_groups", format!("+{}", h.role.team()));
        }
        s.close(&mut o);
        defs += 1;
        applied += 1;
    }
    (o, defs, applied)
}

/// Contacts of the batch jobs of application servers (all Linux administrators).
const BATCH_OWNERS: &[&str] = &["bob,olivia", "wendy", "carol,rupert"];

// ---------------------------------------------------------------------------------------------
// Dependencies and escalations (the forms of the crate documentation)

/// One object of `kind` with these attributes, in order.
fn define(o: &mut String, s: &Style, kind: &str, attrs: &[(&str, &str)]) {
    s.open(o, kind);
    for (k, v) in attrs {
        s.attr(o, k, v);
    }
    s.close(o);
}

/// Same-host service dependencies on role groups (form 1): (group, master service, dependent
/// services).
const GROUP_DEPENDENCIES: &[(&str, &str, &[&str])] = &[
    (
        "linux-servers",
        "SSH",
        &["CPU Load", "Memory", "Total Processes"],
    ),
    ("web-servers", "SSH", &["HTTP", "HTTPS"]),
    ("app-servers", "Tomcat", &["JVM Heap"]),
];

/// Dependency templates, and the same-host dependencies of role groups (form 1): without a
/// dependent side in Nagios, with `explode_hostgroup 1` in Shinken.
fn group_dependencies(plan: &Plan, tree: Tree, stats: &mut GenStats) -> String {
    let mut o = String::new();
    banner(
        &mut o,
        "Dependencies",
        &[
            "Each host's checks wait for the same host's transport (SSH, Tomcat):",
            "no dependent host means the same host.",
        ],
    );
    let s = Style::of(0xde0);
    define(
        &mut o,
        &s,
        "servicedependency",
        &[
            ("name", "generic-servicedependency"),
            ("notification_failure_criteria", "w,u,c"),
            ("execution_failure_criteria", "c"),
            ("inherits_parent", "1"),
            ("register", "0"),
        ],
    );
    define(
        &mut o,
        &s,
        "hostdependency",
        &[
            ("name", "generic-hostdependency"),
            ("notification_failure_criteria", "d,u"),
            ("execution_failure_criteria", "n"),
            ("register", "0"),
        ],
    );
    for (group, master, dependents) in GROUP_DEPENDENCIES {
        let members = plan.count_in_group(group);
        if members == 0 {
            writeln!(o, "# {group}: no hosts, no dependency\n").unwrap();
            continue;
        }
        let list = dependents.join(",");
        let mut attrs = vec![
            ("use", "generic-servicedependency"),
            ("hostgroup_name", *group),
            ("service_description", *master),
            ("dependent_service_description", list.as_str()),
        ];
        if tree.shinken() {
            attrs.push(("explode_hostgroup", "1"));
        }
        define(&mut o, &s, "servicedependency", &attrs);
        stats.dependency_definitions += 1;
        stats.service_dependencies += members * dependents.len();
    }
    o
}

/// Escalations of role groups (form 6): database services with their contact groups, domain
/// controllers without contacts (Nagios gives each escalation its host's).
fn group_escalations(plan: &Plan, stats: &mut GenStats) -> String {
    let mut o = String::new();
    banner(&mut o, "Escalations", &[]);
    let s = Style::of(0xe5c);
    let dbs = plan.count_in_group("db-servers");
    if dbs > 0 {
        define(
            &mut o,
            &s,
            "serviceescalation",
            &[
                ("hostgroup_name", "db-servers"),
                ("service_description", "MySQL,MySQL Replication"),
                ("first_notification", "2"),
                ("last_notification", "0"),
                ("notification_interval", "30"),
                ("escalation_period", "24x7"),
                ("contact_groups", "dba,oncall"),
            ],
        );
        stats.escalation_definitions += 1;
        stats.service_escalations += 2 * dbs;
    }
    let dcs = plan.count_in_group("ad-servers");
    if dcs > 0 {
        o.push_str("# No contacts: each escalation goes to its host's.\n");
        define(
            &mut o,
            &s,
            "hostescalation",
            &[
                ("hostgroup_name", "ad-servers"),
                ("first_notification", "4"),
                ("last_notification", "0"),
                ("notification_interval", "30"),
            ],
        );
        stats.escalation_definitions += 1;
        stats.host_escalations += dcs;
    }
    o
}

/// The services of a site's firewall: those of `network-devices` and `WAN Latency`.
fn firewall_services() -> Vec<&'static str> {
    let (_, services) = HOSTGROUP_SERVICES
        .iter()
        .find(|(g, _)| *g == "network-devices")
        .expect("network devices have services");
    let mut out: Vec<&str> = services.iter().map(|(desc, ..)| *desc).collect();
    out.push("WAN Latency");
    out
}

/// A site's dependencies and escalations (forms 2 to 6), every pair inside the site.
fn site_dependencies(site: &Site, tree: Tree, stats: &mut GenStats) -> String {
    let mut o = String::new();
    banner(
        &mut o,
        &format!("Site {}: dependencies and escalations", site.name),
        &["Every pair stays inside the site."],
    );
    let s = Style::of(0xde5 + site.index as u64);

    // Form 2: a same-host dependency on a host list (in Shinken, every relay's queue depends
    // on every relay's SMTP).
    let relays = site.first(Role::Mail, 4);
    if !relays.is_empty() {
        let hosts = relays.join(",");
        define(
            &mut o,
            &s,
            "servicedependency",
            &[
                ("use", "generic-servicedependency"),
                ("host_name", &hosts),
                ("service_description", "SMTP"),
                ("dependent_service_description", "Mail Queue,IMAPS"),
            ],
        );
        stats.dependency_definitions += 1;
        let n = relays.len();
        stats.service_dependencies += 2 * if tree.shinken() { n * n } else { n };
    }

    // Form 3: the core router's WAN latency means nothing while anything on the firewall is
    // wrong. Shinken drops a dependency on `*`: the services are named there. The `n` is what
    // admins write to turn the template's execution criteria off; Nagios 4 reads `n` as unset
    // and takes the template's `c` all the same.
    if site.hosts.len() >= 2 {
        let masters = firewall_services();
        let all = if tree.shinken() {
            masters.join(",")
        } else {
            "*".to_string()
        };
        define(
            &mut o,
            &s,
            "servicedependency",
            &[
                ("use", "generic-servicedependency"),
                ("host_name", &site.hosts[0].name),
                ("service_description", &all),
                ("dependent_host_name", &site.hosts[1].name),
                ("dependent_service_description", "WAN Latency"),
                ("execution_failure_criteria", "n"),
            ],
        );
        stats.dependency_definitions += 1;
        stats.service_dependencies += masters.len();
    }

    // Form 4: the shop's application servers depend on all of the shop's databases.
    let (dbs, apps) = site.shop();
    let (db_group, app_group) = (
        format!("{}-shop-db", site.name),
        format!("{}-shop-app", site.name),
    );
    if !dbs.is_empty() && !apps.is_empty() {
        define(
            &mut o,
            &s,
            "servicedependency",
            &[
                ("use", "generic-servicedependency"),
                ("hostgroup_name", &db_group),
                ("service_description", "MySQL"),
                ("dependent_hostgroup_name", &app_group),
                ("dependent_service_description", "Tomcat"),
                ("dependency_period", "workhours"),
            ],
        );
        define(
            &mut o,
            &s,
            "hostdependency",
            &[
                ("use", "generic-hostdependency"),
                ("hostgroup_name", &db_group),
                ("dependent_hostgroup_name", &app_group),
            ],
        );
        stats.dependency_definitions += 2;
        stats.service_dependencies += dbs.len() * apps.len();
        stats.host_dependencies += dbs.len() * apps.len();
    }

    // Form 5: Windows servers and mail relays authenticate against the domain controllers.
    let (dcs, windows) = (site.first(Role::Ad, 2), site.first(Role::Windows, 8));
    for (masters, dependents) in [
        (&dcs[..], &windows[..]),
        (&dcs[..dcs.len().min(1)], &relays[..]),
    ] {
        if masters.is_empty() || dependents.is_empty() {
            continue;
        }
        define(
            &mut o,
            &s,
            "hostdependency",
            &[
                ("use", "generic-hostdependency"),
                ("host_name", &masters.join(",")),
                ("dependent_host_name", &dependents.join(",")),
                ("inherits_parent", "1"),
            ],
        );
        stats.dependency_definitions += 1;
        stats.host_dependencies += masters.len() * dependents.len();
    }

    // Form 6: the gateways escalate to the network team and on-call, the shop to whoever its
    // hosts and services notify.
    if site.hosts.len() >= 2 {
        let gateways = format!("{},{}", site.hosts[0].name, site.hosts[1].name);
        define(
            &mut o,
            &s,
            "hostescalation",
            &[
                ("host_name", &gateways),
                ("first_notification", "3"),
                ("last_notification", "0"),
                ("notification_interval", "30"),
                ("contact_groups", "network-admins,oncall"),
            ],
        );
        define(
            &mut o,
            &s,
            "serviceescalation",
            &[
                ("host_name", &gateways),
                ("service_description", "WAN Latency,PING"),
                ("first_notification", "2"),
                ("last_notification", "0"),
                ("notification_interval", "15"),
                ("contacts", "judy,niaj"),
            ],
        );
        stats.escalation_definitions += 2;
        stats.host_escalations += 2;
        stats.service_escalations += 4;
    }
    if !dbs.is_empty() {
        define(
            &mut o,
            &s,
            "hostescalation",
            &[
                ("hostgroup_name", &db_group),
                ("first_notification", "5"),
                ("last_notification", "10"),
                ("notification_interval", "60"),
            ],
        );
        stats.escalation_definitions += 1;
        stats.host_escalations += dbs.len();
    }
    if !apps.is_empty() {
        define(
            &mut o,
            &s,
            "serviceescalation",
            &[
                ("hostgroup_name", &app_group),
                ("service_description", "Tomcat,JVM Heap"),
                ("first_notification", "3"),
                ("last_notification", "0"),
                ("notification_interval", "30"),
            ],
        );
        stats.escalation_definitions += 1;
        stats.service_escalations += 2 * apps.len();
    }
    o
}

/// The cartesian case of [`Tree::ShinkenCartesian`]: up to [`CARTESIAN_HOSTS`] Linux servers
/// of the first region's sites (so of one realm), each one's `Disk /var` (on shared storage)
/// depending on `NTP Time`. Meant per host; without `explode_hostgroup`, Shinken makes every
/// host's depend on every host's.
fn cartesian(plan: &Plan, explode: bool, stats: &mut GenStats) -> String {
    let region = plan.sites.first().map_or("europe", |s| s.region);
    let members: Vec<&str> = plan
        .sites
        .iter()
        .filter(|s| s.region == region)
        .flat_map(|s| &s.hosts)
        .filter(|h| h.role.groups().contains(&"linux-servers"))
        .take(CARTESIAN_HOSTS)
        .map(|h| h.name.as_str())
        .collect();
    let mut o = String::new();
    banner(
        &mut o,
        "Batch cluster",
        &[&format!(
            "{} Linux servers of the {region} realm sharing /var.",
            members.len()
        )],
    );
    if members.is_empty() {
        return o;
    }
    let s = Style::of(0xba7);
    define(
        &mut o,
        &s,
        "hostgroup",
        &[
            ("hostgroup_name", "batch-cluster"),
            ("alias", "Batch cluster"),
            ("members", &members.join(",")),
        ],
    );
    let mut attrs = vec![
        ("use", "generic-servicedependency"),
        ("hostgroup_name", "batch-cluster"),
        ("service_description", "NTP Time"),
        ("dependent_service_description", "Disk /var"),
    ];
    if explode {
        attrs.push(("explode_hostgroup", "1"));
    }
    define(&mut o, &s, "servicedependency", &attrs);
    stats.dependency_definitions += 1;
    let n = members.len();
    stats.service_dependencies += if explode { n } else { n * n };
    o
}

const DEBIAN_VERSIONS: &[&str] = &["debian 12.5", "debian 11.9", "ubuntu 22.04"];
const RHEL_VERSIONS: &[&str] = &["rhel 9.3", "rhel 8.9"];
const PATCH_WINDOWS: &[&str] = &[
    "tuesday 02:00-04:00 UTC",
    "wednesday 22:00-24:00 UTC",
    "sunday 03:00-06:00 UTC",
];

fn host_file(site: &Site, n: usize, hosts: &[HostPlan]) -> String {
    let mut o = String::new();
    let first = hosts.first().map_or(0, |h| h.index);
    let last = hosts.last().map_or(0, |h| h.index);
    banner(
        &mut o,
        &format!(
            "sites/{}/hosts-{:02}.cfg - {}, hosts {first}-{last}",
            site.name,
            n + 1,
            city_alias(site)
        ),
        &["Generated from the CMDB export; local changes are overwritten nightly."],
    );
    let s = Style::of(rnd(0xf11e, (site.index * 1000 + n) as u64));
    for h in hosts {
        if h.index % 20 == 0 {
            writeln!(
                o,
                "# ---- rack {}{:02} ----\n",
                (b'A' + (h.index / 200) as u8) as char,
                h.index / 20 % 10 + 1
            )
            .unwrap();
        }
        host(&mut o, &s, site, h);
    }
    o
}

fn host(o: &mut String, s: &Style, site: &Site, h: &HostPlan) {
    let r = h.seed;
    let os_template = match h.role {
        Role::Firewall => "juniper-device",
        Role::Core | Role::Switch => "cisco-device",
        Role::Windows | Role::Ad => "windows-server",
        Role::Db | Role::App => "rhel-server",
        _ if r % 3 == 0 => "rhel-server",
        _ => "debian-server",
    };
    let rack = format!(
        "{}{:02}",
        (b'A' + (h.index / 200) as u8) as char,
        h.index / 20 % 10 + 1
    );
    s.open(o, "host");
    if r % 7 == 0 {
        s.attr_c(
            o,
            "use",
            format_args!("{os_template},site-{}", site.name),
            "OS first, then site defaults",
        );
    } else {
        s.attr(o, "use", format_args!("{os_template},site-{}", site.name));
    }
    s.attr(o, "host_name", &h.name);
    s.attr(
        o,
        "alias",
        format_args!("{} {} - {}", h.role.what(), h.number, city_alias(site)),
    );
    if h.role.is_network() {
        s.attr(
            o,
            "display_name",
            format_args!("{}", h.name.to_ascii_uppercase()),
        );
    }
    let (a, b) = (h.index / 250, h.index % 250 + 1);
    if r % 11 == 0 {
        s.attr_c(
            o,
            "address",
            format_args!("10.{}.{a}.{b}", site.index % 250),
            "mgmt VLAN",
        );
    } else {
        s.attr(
            o,
            "address",
            format_args!("10.{}.{a}.{b}", site.index % 250),
        );
    }
    if let Some(p) = h.parent {
        s.attr(o, "parents", &site.hosts[p].name);
    }
    s.attr(o, "hostgroups", h.role.groups().join(","));
    if r % 5 == 0 {
        s.attr(o, "contact_groups", format_args!("+{}", h.role.team()));
    }
    if r % 13 == 0 {
        s.attr_c(
            o,
            "notification_period",
            "workhours",
            "not business critical",
        );
    }
    let window = PATCH_WINDOWS[(r >> 8) as usize % PATCH_WINDOWS.len()];
    s.attr(
        o,
        "notes",
        format_args!("owner {}, patch window {window}", h.role.team()),
    );
    s.attr(
        o,
        "action_url",
        format_args!("https://cmdb.example.com/ci/{}", h.name),
    );
    s.attr(o, "_SERIAL", format_args!("CZ{:08X}", (r >> 16) as u32));
    s.attr(
        o,
        "_RACK",
        format_args!("{rack}-U{:02}", h.index % 20 * 2 + 1),
    );
    if r % 3 == 0 {
        s.attr(
            o,
            "_ASSET_TAG",
            format_args!("AT-{:03}-{:05}", site.index, h.index),
        );
    }
    match h.role {
        Role::Windows | Role::Ad => s.attr(o, "_OS_VERSION", "Windows Server 2022"),
        Role::Firewall | Role::Core | Role::Switch => {
            s.attr(o, "_SNMP_COMMUNITY", format_args!("ro-{}", site.name));
            s.attr(
                o,
                "_FIRMWARE",
                if h.role == Role::Firewall {
                    "junos 22.4R3"
                } else {
                    "ios-xe 17.9.4a"
                },
            );
        }
        _ => {
            let versions = if os_template == "rhel-server" {
                RHEL_VERSIONS
            } else {
                DEBIAN_VERSIONS
            };
            s.attr(
                o,
                "_OS_VERSION",
                versions[(r >> 12) as usize % versions.len()],
            );
        }
    }
    if r % 4 == 0 {
        s.attr(
            o,
            "_BACKUP_POLICY",
            if r % 8 == 0 {
                "daily-30d"
            } else {
                "weekly-12w"
            },
        );
    }
    s.close(o);
}

/// What every loopback tree a real engine runs starts with: the one command (`ok`,
/// `$USER1$/true`, so with `$USER1$=/bin` no check touches the network), a timeperiod that is
/// always on, and a contact whose notifications run that same command (no mail is sent).
pub const LOOPBACK_BASE: &str = "define command {\n  command_name  ok\n  command_line  $USER1$/true\n}\n\
     define timeperiod {\n  timeperiod_name  always\n  alias  always\n  sunday  00:00-24:00\n  \
     monday  00:00-24:00\n  tuesday  00:00-24:00\n  wednesday  00:00-24:00\n  thursday  00:00-24:00\n  \
     friday  00:00-24:00\n  saturday  00:00-24:00\n}\n\
     define contact {\n  contact_name  nobody\n  alias  nobody\n  host_notification_period  always\n  \
     service_notification_period  always\n  host_notification_commands  ok\n  \
     service_notification_commands  ok\n}\n";

/// A scheduler at 127.0.0.1:`port` that the arbiter pings every second and declares dead
/// after two failed pings (2 s timeout): failovers in tests and benchmarks take seconds.
pub fn loopback_scheduler(name: &str, port: u16, spare: bool) -> String {
    format!(
        "define scheduler {{\n  scheduler_name  {name}\n  address  127.0.0.1\n  port  {port}\n  \
         spare  {}\n  check_interval  1\n  timeout  2\n  max_check_attempts  2\n}}\n",
        u8::from(spare)
    )
}

/// A loopback tree for a real engine: [`LOOPBACK_BASE`], `daemons` as given, and `hosts` hosts
/// `h0`… at 127.0.0.1 with `services` services `s0`… each, all checked by `ok` every
/// `interval` minutes.
pub fn loopback_tree(daemons: &str, hosts: usize, services: usize, interval: u32) -> String {
    let mut cfg = String::from(LOOPBACK_BASE);
    cfg.push_str(daemons);
    for h in 0..hosts {
        let _ = write!(
            cfg,
            "define host {{\n  host_name  h{h}\n  address  127.0.0.1\n  check_command  ok\n  \
             max_check_attempts  1\n  check_interval  {interval}\n  check_period  always\n  contacts  nobody\n}}\n"
        );
        for s in 0..services {
            let _ = write!(
                cfg,
                "define service {{\n  host_name  h{h}\n  service_description  s{s}\n  check_command  ok\n  \
                 max_check_attempts  1\n  check_interval  {interval}\n  retry_interval  {interval}\n  \
                 check_period  always\n  contacts  nobody\n}}\n"
            );
        }
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let a = tempdir("a");
        let b = tempdir("b");
        let sa = generate(&a, 2500).unwrap();
        let sb = generate(&b, 2500).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.hosts, 2500);
        // 3 sites of 1000, 1000 and 500 hosts: 25 host files plus 3 per site, plus 17 shared.
        assert_eq!(sa.files, 25 + 3 * 3 + 17);
        let per_host = sa.bytes as f64 / sa.hosts as f64;
        assert!(
            (400.0..650.0).contains(&per_host),
            "{per_host} bytes per host"
        );
        let per_host = sa.services as f64 / sa.hosts as f64;
        assert!(
            (8.0..12.0).contains(&per_host),
            "{per_host} services per host"
        );
        let fa = std::fs::read(a.join("sites/lon01/hosts-03.cfg")).unwrap();
        let fb = std::fs::read(b.join("sites/lon01/hosts-03.cfg")).unwrap();
        assert_eq!(fa, fb);
        assert!(generate(&a, 10).is_err(), "refuses a non-empty directory");
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }

    /// Small sites lack some roles: what is written for them must still check clean.
    #[test]
    fn tiny_trees() {
        for n in [0, 1, 2, 3, 25] {
            for tree in [Tree::Nagios, Tree::Shinken] {
                let d = tempdir(&format!("tiny{n}"));
                let s = generate_tree(&d, n, tree).unwrap();
                assert_eq!(s.hosts, n);
                // F14: Nagios refuses a configuration without hosts and services.
                let expected: &[&str] = if n == 0 && matches!(tree, Tree::Nagios) {
                    &["E0035", "E0035"]
                } else {
                    &[]
                };
                assert_clean(&d, &s, expected);
                std::fs::remove_dir_all(&d).unwrap();
            }
        }
    }

    /// The benchmark measures clean trees: a generated tree must check without any
    /// diagnostic, and the compiler must count what the generator says it wrote.
    #[test]
    fn generated_tree_checks_clean() {
        for tree in [Tree::Nagios, Tree::Shinken] {
            let d = tempdir("clean");
            let stats = generate_tree(&d, 2500, tree).unwrap();
            assert_clean(&d, &stats, &[]);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    /// The cartesian case is the whole product (one warning says so) or same-host.
    #[test]
    fn cartesian_trees() {
        for explode in [false, true] {
            let d = tempdir("cartesian");
            let stats = generate_tree(&d, 2500, Tree::ShinkenCartesian { explode }).unwrap();
            let expected: &[&str] = if explode { &[] } else { &["W0013"] };
            assert_clean(&d, &stats, expected);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    /// Checks the tree in `dir`: exactly the `expected` diagnostic codes, and every count of
    /// `stats` (dependencies and escalations as pairs, group-to-group rules multiplied out).
    fn assert_clean(dir: &Path, stats: &GenStats, expected: &[&str]) {
        let checked = monitorc_compiler::check(&dir.join("monitorc.cfg")).unwrap();
        let codes: Vec<(&str, &str)> = checked
            .diagnostics
            .iter()
            .map(|d| (d.code.code, d.message.as_str()))
            .collect();
        assert_eq!(
            codes.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            expected,
            "{codes:#?}"
        );
        let m = &checked.model;
        let host_pairs = m.host_dependencies.len()
            + m.host_dependency_rules
                .iter()
                .map(|r| r.masters.len() * r.dependents.len())
                .sum::<usize>();
        let service_pairs = m.service_dependencies.len()
            + m.service_dependency_rules
                .iter()
                .map(|r| r.masters.len() * r.dependents.len())
                .sum::<usize>();
        assert_eq!(checked.loaded.sources.len(), stats.files);
        assert_eq!(checked.summary.get("hosts"), stats.hosts);
        assert_eq!(checked.summary.get("services"), stats.services);
        assert_eq!(host_pairs, stats.host_dependencies, "host dependency pairs");
        assert_eq!(
            service_pairs, stats.service_dependencies,
            "service dependency pairs"
        );
        assert_eq!(m.host_escalations.len(), stats.host_escalations);
        assert_eq!(m.service_escalations.len(), stats.service_escalations);
    }

    fn tempdir(tag: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("monitorc-bench-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}
