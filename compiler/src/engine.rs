//! The engine a configuration is checked for, and what differs between the engines.
//!
//! Nagios 4, Shinken 2.4 and Alignak 2.1 read the same syntax and compile it differently
//! (`../shared/reference/engine-dialects.md` measures 78 differences, each with a probe). Every
//! difference monitorc reproduces is one field of [`Semantics`], documented with its catalogue
//! row; the passes consult the table and never test the engine themselves. [`detect`] chooses
//! the engine when the user did not (`--engine auto`), and says why.

use monitorc_grammar::{Loaded, SourceMap, Span};

/// An engine that runs the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Engine {
    Nagios,
    Shinken,
    Alignak,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Nagios => "nagios",
            Engine::Shinken => "shinken",
            Engine::Alignak => "alignak",
        }
    }

    /// The name and version whose behaviour is reproduced, for messages.
    pub fn title(self) -> &'static str {
        match self {
            Engine::Nagios => "Nagios 4",
            Engine::Shinken => "Shinken 2.4",
            Engine::Alignak => "Alignak 2.1",
        }
    }

    pub fn semantics(self) -> &'static Semantics {
        match self {
            Engine::Nagios => &NAGIOS,
            Engine::Shinken => &SHINKEN,
            Engine::Alignak => &ALIGNAK,
        }
    }
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// Chosen from the configuration by [`detect`].
    #[default]
    Auto,
    Given(Engine),
}

/// The engine a check runs for, and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub engine: Engine,
    /// One sentence: `given with --engine`, or what in the tree decided it (with its place).
    pub reason: String,
}

/// Which (master, dependent) host pairs a `servicedependency` makes when its dependent side is
/// missing or partial (catalogue rows A1–A4, A8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameHost {
    /// Nagios 4 (`xodtemplate_register_and_destroy_servicedependency`): with neither
    /// `dependent_host_name` nor `dependent_hostgroup_name`, each master host depends on
    /// itself (host lists and hostgroups alike); with only the dependent side, each dependent
    /// host on itself ("children first"). Otherwise the product of both sides.
    /// `explode_hostgroup` is not a Nagios attribute.
    NoDependentSide,
    /// Alignak 2.1 (`Servicedependencies.explode`): `hostgroup_name` without
    /// `dependent_hostgroup_name`, or `explode_hostgroup 1`, is same-host over the master
    /// hosts, and `dependent_host_name` is then ignored. Otherwise each missing dependent
    /// attribute takes its master counterpart, and the sides make a product.
    HostgroupWithoutDependentGroup,
    /// Shinken 2.4 (`Servicedependencies.explode`): only `explode_hostgroup 1` with a
    /// `hostgroup_name` is same-host. Otherwise `dependent_hostgroup_name` defaults to
    /// `hostgroup_name` and `dependent_host_name` to `host_name`, and the sides make a product
    /// (a hostgroup without dependent side depends on every host of itself).
    ExplodeHostgroupOnly,
}

/// What `*` as a `servicedependency`'s service description does (catalogue row A5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StarService {
    /// Nagios 4: every service of the host.
    Every,
    /// Shinken 2.4: the dependency is dropped with a warning.
    Dropped,
    /// Alignak 2.1: an error, "Service * not found".
    Unknown,
}

/// Every semantic difference monitorc reproduces, one field per catalogue row (or group of
/// rows). The three tables are [`NAGIOS`], [`SHINKEN`] and [`ALIGNAK`].
#[derive(Debug)]
pub struct Semantics {
    pub engine: Engine,
    /// A1–A4, A8: same-host service dependencies.
    pub same_host: SameHost,
    /// A4: a `servicedependency` with only its dependent side is valid (Nagios); elsewhere it
    /// makes nothing, silently.
    pub dependent_side_alone: bool,
    /// A5: `*` as a service description in a `servicedependency`.
    pub star_service: StarService,
    /// B1–B3: a group named from the member side (a contact's `contactgroups`, a host's
    /// `hostgroups`, a service's `servicegroups`) that no definition has is created, with the
    /// name as alias (Shinken, Alignak); Nagios refuses it.
    pub implicit_groups: bool,
    /// The product of two groups above which a dependency gets a warning with its size.
    pub product_warning: u64,
}

/// Nagios 4.4.
pub static NAGIOS: Semantics = Semantics {
    engine: Engine::Nagios,
    same_host: SameHost::NoDependentSide,
    dependent_side_alone: true,
    star_service: StarService::Every,
    implicit_groups: false,
    product_warning: PRODUCT_WARNING,
};

/// Shinken 2.4.
pub static SHINKEN: Semantics = Semantics {
    engine: Engine::Shinken,
    same_host: SameHost::ExplodeHostgroupOnly,
    dependent_side_alone: false,
    star_service: StarService::Dropped,
    implicit_groups: true,
    product_warning: PRODUCT_WARNING,
};

/// Alignak 2.1.
pub static ALIGNAK: Semantics = Semantics {
    engine: Engine::Alignak,
    same_host: SameHost::HostgroupWithoutDependentGroup,
    dependent_side_alone: false,
    star_service: StarService::Unknown,
    implicit_groups: true,
    product_warning: PRODUCT_WARNING,
};

/// 100 hosts depending on 100 hosts: beyond, a group-to-group dependency is rarely meant.
const PRODUCT_WARNING: u64 = 10_000;

/// Object types only Shinken and Alignak know (Nagios refuses them as "Invalid object
/// definition type").
pub const SHINKEN_OBJECT_TYPES: &[&str] = &[
    "realm",
    "arbiter",
    "scheduler",
    "poller",
    "reactionner",
    "broker",
    "receiver",
    "module",
    "escalation",
    "notificationway",
    "businessimpactmodulation",
    "resultmodulation",
    "checkmodulation",
    "macromodulation",
    "discoveryrule",
    "discoveryrun",
];

/// Object attributes only Shinken and Alignak know: a tree that writes one was written for
/// them (Nagios refuses each as an invalid directive).
pub const SHINKEN_ATTRIBUTES: &[&str] = &[
    "realm",
    "poller_tag",
    "reactionner_tag",
    "business_impact",
    "business_impact_modulations",
    "service_excludes",
    "service_includes",
    "service_overrides",
    "duplicate_foreach",
    "default_value",
    "escalations",
    "explode_hostgroup",
    "service_dependencies",
    "resultmodulations",
    "checkmodulations",
    "macromodulations",
    "maintenance_period",
    "trigger_name",
    "business_rule_output_template",
    "business_rule_smart_notifications",
    "business_rule_downtime_as_ack",
    "business_rule_host_notification_options",
    "business_rule_service_notification_options",
    "notificationways",
    "criticity",
];

/// Chooses the engine. `alignak_env` is true when the configuration was given as (or with) an
/// Alignak environment file. The auto rule, in order:
/// 1. an Alignak environment file (`alignak.ini`) → Alignak;
/// 2. a Shinken/Alignak object type (`define realm`, a daemon, `escalation`, …) or attribute
///    (`realm`, `poller_tag`, `business_impact`, `service_excludes`, …) → Shinken;
/// 3. otherwise → Nagios.
pub fn detect(loaded: &Loaded, choice: EngineChoice, alignak_env: Option<&str>) -> Chosen {
    if let EngineChoice::Given(engine) = choice {
        return Chosen {
            engine,
            reason: format!("given with --engine {}", engine.as_str()),
        };
    }
    if let Some(env) = alignak_env {
        return Chosen {
            engine: Engine::Alignak,
            reason: format!("auto: `{env}` is an Alignak environment file"),
        };
    }
    for (_, source, tree) in loaded.files() {
        for block in &tree.blocks {
            let Some(kind) = block.kind else { continue };
            let kind_text = &source.text[kind.range()];
            if SHINKEN_OBJECT_TYPES.contains(&kind_text) {
                return shinken(&loaded.sources, kind, format!("`define {kind_text}`"));
            }
            for a in &block.attrs {
                let key = &source.text[a.key.range()];
                if SHINKEN_ATTRIBUTES.contains(&key) {
                    return shinken(&loaded.sources, a.key, format!("the attribute `{key}`"));
                }
            }
        }
    }
    Chosen {
        engine: Engine::Nagios,
        reason: "auto: no Alignak environment, and no realm, daemon or Shinken/Alignak-only object type or attribute".into(),
    }
}

fn shinken(sources: &SourceMap, at: Span, what: String) -> Chosen {
    let file = sources.get(at.file);
    let loc = file.location(at.start as usize);
    Chosen {
        engine: Engine::Shinken,
        reason: format!(
            "auto: {what} ({}:{}) is Shinken/Alignak-only",
            file.path.display(),
            loc.line
        ),
    }
}
