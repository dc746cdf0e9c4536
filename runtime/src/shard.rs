//! The shard schema: what `monitorc build` writes and the runtime loads.
//!
//! A set is a directory: `manifest.ron`, `schedulers/<name>.ron`, and `pollers/`,
//! `reactionners/`, `brokers/`, `receivers/<name>.ron`. Every file carries `format_version`;
//! the manifest lists every other file with its blake3 digest, so a set is verified before use.
//! Maps are `BTreeMap`s (sorted keys) and the RON is written with fixed settings, so the same
//! configuration always gives the same bytes and reviews read as diffs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::FORMAT_VERSION;

/// An object's resolved attributes (custom variables included), attribute → value as written.
pub type Attributes = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub monitorc_version: String,
    /// blake3 of the configuration files read, in load order (path and content).
    pub input_digest: String,
    /// Realm → its parent (none for the top realms), and which one is the default.
    pub realms: BTreeMap<String, Option<String>>,
    pub default_realm: String,
    pub schedulers: BTreeMap<String, SchedulerEntry>,
    /// (type, name) of every satellite → its realm.
    pub satellites: BTreeMap<String, SatelliteEntry>,
    /// Daemon → its spares, in takeover order.
    pub failover: BTreeMap<String, Vec<String>>,
    /// Host → the scheduler that runs it.
    pub hosts: BTreeMap<String, String>,
    /// Every other file of the set (relative path) → its blake3 digest.
    pub files: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulerEntry {
    pub realm: String,
    pub weight: u32,
    pub spare: bool,
    pub load: u64,
    pub address: String,
    pub port: u16,
    pub liveness: Liveness,
}

/// How the arbiter checks a daemon: a ping every `check_interval` seconds, `timeout` seconds
/// each, dead after `max_check_attempts` failures in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liveness {
    pub check_interval: u32,
    pub timeout: u32,
    pub max_check_attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SatelliteEntry {
    /// poller, reactionner, broker or receiver.
    pub kind: String,
    pub realm: String,
    pub spare: bool,
    pub address: String,
    pub port: u16,
    pub liveness: Liveness,
}

/// Everything one scheduler needs, and nothing of the others.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchedulerShard {
    pub format_version: u32,
    pub name: String,
    pub realm: String,
    /// What hosts of the same templates share, by content digest: written once per shard.
    pub host_profiles: BTreeMap<String, Attributes>,
    /// Host → its profile (empty when it inherits nothing) and its own attributes.
    pub hosts: BTreeMap<String, ServiceEntry>,
    /// What services of one definition share, by content digest: written once per shard.
    pub service_profiles: BTreeMap<String, Attributes>,
    /// Host → service description → its profile and its own attributes (overrides, values
    /// taken from the host).
    pub services: BTreeMap<String, BTreeMap<String, ServiceEntry>>,
    pub commands: BTreeMap<String, Attributes>,
    pub timeperiods: BTreeMap<String, Attributes>,
    pub contacts: BTreeMap<String, Attributes>,
    pub notificationways: BTreeMap<String, Attributes>,
    pub escalations: BTreeMap<String, Attributes>,
    /// Group → its members present in this shard.
    pub contactgroups: BTreeMap<String, Vec<String>>,
    pub hostgroups: BTreeMap<String, Vec<String>>,
    /// Group → (host, service) members present in this shard.
    pub servicegroups: BTreeMap<String, Vec<(String, String)>>,
    pub host_dependencies: Vec<HostDependency>,
    pub service_dependencies: Vec<ServiceDependency>,
    /// Group-to-group dependencies, kept whole: every master × every dependent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_dependency_rules: Vec<HostDependencyRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_dependency_rules: Vec<ServiceDependencyRule>,
    /// The satellites that work for this scheduler.
    pub pollers: Vec<String>,
    pub reactionners: Vec<String>,
    pub brokers: Vec<String>,
}

/// The dependent host waits for the master. `attributes`: the failure criteria,
/// `inherits_parent` and `dependency_period` its definition sets (none for parents-like links
/// made by a service's `service_dependencies`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostDependency {
    pub dependent: String,
    pub master: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// The dependent (host, service) waits for the master (host, service).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDependency {
    pub dependent: (String, String),
    pub master: (String, String),
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// Every dependent host waits for every master host (a dependency between two groups,
/// written once instead of as their product).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostDependencyRule {
    pub dependents: Vec<String>,
    pub masters: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// Every dependent (host, service) waits for every master (host, service).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDependencyRule {
    pub dependents: Vec<(String, String)>,
    pub masters: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

/// A host or service: the profile it shares with others, and what is its own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceEntry {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub profile: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Attributes,
}

impl SchedulerShard {
    /// A host's whole attribute set: its profile's, then its own.
    pub fn host_attributes(&self, host: &str) -> Option<Attributes> {
        let e = self.hosts.get(host)?;
        let mut out = self
            .host_profiles
            .get(&e.profile)
            .cloned()
            .unwrap_or_default();
        out.extend(e.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        Some(out)
    }

    /// A service's whole attribute set: its profile's, then its own, with its host name and
    /// description.
    pub fn service_attributes(&self, host: &str, description: &str) -> Option<Attributes> {
        let e = self.services.get(host)?.get(description)?;
        let mut out = self
            .service_profiles
            .get(&e.profile)
            .cloned()
            .unwrap_or_default();
        out.extend(e.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.insert("host_name".into(), host.to_string());
        out.insert("service_description".into(), description.to_string());
        Some(out)
    }
}

/// A poller, reactionner, broker or receiver.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SatelliteShard {
    pub format_version: u32,
    pub name: String,
    pub kind: String,
    pub realm: String,
    pub tags: Vec<String>,
    pub manage_sub_realms: bool,
    pub schedulers: Vec<SchedulerLink>,
    pub spares: Vec<String>,
    /// Receivers: host → scheduler, for direct routing of external commands.
    pub hosts: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulerLink {
    pub name: String,
    pub address: String,
    pub port: u16,
}

/// The fixed RON settings of every file of a set.
pub fn to_ron<T: Serialize>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new()
        .new_line("\n".to_string())
        .indentor("  ".to_string())
        .struct_names(false)
        .separate_tuple_members(false);
    let mut s = ron::ser::to_string_pretty(value, config).expect("shard types always serialize");
    s.push('\n');
    s
}

/// What a dependency definition says of when it applies, kept in the shard.
pub const DEPENDENCY_KEYS: &[&str] = &[
    "dependency_period",
    "execution_failure_criteria",
    "inherits_parent",
    "notification_failure_criteria",
];

pub fn digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

pub fn satellite_dir(kind: &str) -> &'static str {
    match kind {
        "poller" => "pollers",
        "reactionner" => "reactionners",
        "broker" => "brokers",
        _ => "receivers",
    }
}

/// A loaded and verified set.
#[derive(Debug)]
pub struct ShardSet {
    pub manifest: Manifest,
    pub schedulers: BTreeMap<String, SchedulerShard>,
    pub satellites: BTreeMap<String, SatelliteShard>,
}

/// Why a set cannot be used, naming the file.
#[derive(Debug, PartialEq)]
pub struct LoadError {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for LoadError {}

fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, LoadError> {
    ron::from_str(text).map_err(|e| LoadError {
        file: file.to_string(),
        message: e.to_string(),
    })
}

/// The host → scheduler index of a set's manifest, from any version of the format (it has
/// not changed), so a set built by an older monitorc still makes placement sticky.
pub fn read_host_index(dir: &Path) -> Result<BTreeMap<String, String>, LoadError> {
    #[derive(Deserialize)]
    struct Hosts {
        hosts: BTreeMap<String, String>,
    }
    let text = crate::fs::read_to_string(&dir.join("manifest.ron")).map_err(|e| LoadError {
        file: "manifest.ron".into(),
        message: e.to_string(),
    })?;
    parse::<Hosts>("manifest.ron", &text).map(|h| h.hosts)
}

impl ShardSet {
    /// The scheduler that owns `host`.
    pub fn scheduler_of(&self, host: &str) -> Option<&str> {
        self.manifest.hosts.get(host).map(String::as_str)
    }

    /// The schedulers holding members of a group (`hostgroup`, `servicegroup` or
    /// `contactgroup`), by name.
    pub fn schedulers_with_group(&self, kind: &str, group: &str) -> Vec<&str> {
        self.schedulers
            .iter()
            .filter(|(_, s)| match kind {
                "hostgroup" => s.hostgroups.contains_key(group),
                "servicegroup" => s.servicegroups.contains_key(group),
                _ => s.contactgroups.contains_key(group),
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The spares of a daemon (`scheduler/NAME`, `poller/NAME`, …), in takeover order.
    pub fn spares_of(&self, daemon: &str) -> &[String] {
        self.manifest
            .failover
            .get(daemon)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The satellites (`kind/name`) linked to a scheduler.
    pub fn satellites_of(&self, scheduler: &str) -> Vec<String> {
        self.satellites
            .values()
            .filter(|s| s.schedulers.iter().any(|l| l.name == scheduler))
            .map(|s| format!("{}/{}", s.kind, s.name))
            .collect()
    }

    /// Opens the set in `dir`: the manifest's version, every listed file present with its
    /// digest, and every file readable as its type.
    pub fn open(dir: &Path) -> Result<ShardSet, LoadError> {
        let read = |rel: &str| -> Result<String, LoadError> {
            crate::fs::read_to_string(&dir.join(rel)).map_err(|e| LoadError {
                file: rel.to_string(),
                message: e.to_string(),
            })
        };
        let text = read("manifest.ron")?;
        // The version first, so an unknown future format says so rather than failing to parse.
        let version = text
            .split("format_version:")
            .nth(1)
            .and_then(|rest| {
                rest.trim_start()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
            })
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(v) = version.filter(|v| *v != FORMAT_VERSION) {
            return Err(LoadError {
                file: "manifest.ron".into(),
                message: format!(
                    "format version {v} is not supported (this monitorc reads {FORMAT_VERSION})"
                ),
            });
        }
        let manifest: Manifest = parse("manifest.ron", &text)?;
        let mut schedulers = BTreeMap::new();
        let mut satellites = BTreeMap::new();
        for (rel, want) in &manifest.files {
            let text = read(rel)?;
            let got = digest(text.as_bytes());
            if &got != want {
                return Err(LoadError {
                    file: rel.clone(),
                    message: format!(
                        "content does not match the manifest (digest {got}, expected {want})"
                    ),
                });
            }
            if let Some(name) = rel
                .strip_prefix("schedulers/")
                .and_then(|n| n.strip_suffix(".ron"))
            {
                let s: SchedulerShard = parse(rel, &text)?;
                schedulers.insert(name.to_string(), s);
            } else {
                let s: SatelliteShard = parse(rel, &text)?;
                satellites.insert(rel.clone(), s);
            }
        }
        for name in manifest.schedulers.keys() {
            if !schedulers.contains_key(name) {
                return Err(LoadError {
                    file: format!("schedulers/{name}.ron"),
                    message: "missing from the set".into(),
                });
            }
        }
        Ok(ShardSet {
            manifest,
            schedulers,
            satellites,
        })
    }
}
