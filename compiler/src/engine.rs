//! The engine a configuration is checked for, and what differs between the engines.
//!
//! Nagios 4, Shinken 2.4 and Alignak 2.1 read the same syntax and compile it differently
//! (`../shared/reference/engine-dialects.md` measures 78 differences, each with a probe). Every
//! difference monitorc reproduces is one field of [`Semantics`], documented with its catalogue
//! row; the passes consult the table and never test the engine themselves. [`detect`] chooses
//! the engine when the user did not (`--engine auto`), and says why.

use monitorc_grammar::{Loaded, SourceMap, Span};

use crate::schema::ObjectKind;

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

/// How `host_name` and `hostgroup_name` select hosts (catalogue rows C1–C5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Nagios 4: comma lists; `*` in groups is every hostgroup's members; `!` rejections apply
    /// to the whole result; no operators.
    Lists,
    /// Shinken 2.4, Alignak 2.1: hostgroup expressions (`,` `|` `&` `!` `()` `*`), host
    /// entries in order; a lone `!group` selects the group (its negation is ignored).
    Expressions,
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
    /// D7: `use` naming no template is refused (Nagios: "Template could not be found");
    /// Shinken and Alignak warn and inherit nothing from it.
    pub unknown_template_refused: bool,
    /// D6: an object with `name` that is registered (no `register 0`) is a template too
    /// (Nagios); Shinken and Alignak look templates up among `register 0` objects only.
    pub registered_templates: bool,
    /// #15: Nagios registers a host, contact, command, timeperiod or group only when its own
    /// definition writes its name attribute (`host_name`…): one with `name` and without it is
    /// a template in effect, `register 0` or not. Shinken and Alignak refuse it ("defined
    /// without host_name").
    pub nameless_objects_are_templates: bool,
    /// F2: a list attribute written twice in one definition: Shinken and Alignak concatenate
    /// the lines; Nagios keeps the last one.
    pub repeated_lists_concatenate: bool,
    /// G1, G2, G5: attributes this engine requires besides every engine's (`schema`), on
    /// registered objects after inheritance.
    pub required: &'static [(ObjectKind, &'static str)],
    /// Attributes every engine but this one requires: Nagios defaults an escalation's
    /// `first_notification` and `last_notification`.
    pub optional: &'static [(ObjectKind, &'static str)],
    /// F13: `_internal_host_up`, `_echo`, `bp_rule` … are commands of the engine's own.
    pub ghost_commands: bool,
    /// C7: `host_name srv[1-3]` defines three hosts (Alignak); elsewhere one host of that
    /// name.
    pub host_name_ranges: bool,
    /// D11, D12: `+value` on a single-valued attribute or a custom variable is the literal
    /// text (Nagios, Shinken); Alignak refuses it.
    pub plus_on_single_value_literal: bool,
    /// F4, F5: without `illegal_object_name_chars` Nagios checks no name (Shinken and Alignak
    /// apply their default), and it checks eight kinds of names, they three.
    pub illegal_chars_default: bool,
    pub illegal_chars_checked: &'static [ObjectKind],
    /// C8: `allow_empty_hostgroup_assignment=0` makes a service on an empty hostgroup an error
    /// (Shinken, Alignak); Nagios creates nothing, silently, whatever the key.
    pub empty_hostgroup_key: bool,
    /// J6: a poller without `manage_sub_realms` serves its realm's sub-realms (Alignak's
    /// `SatelliteLink` default); Shinken's pollers serve their own realm only.
    pub pollers_manage_sub_realms: bool,
    /// H2, A6: a serviceescalation's `servicegroup_name` escalates the group's services, and a
    /// servicedependency's `servicegroup_name` / `dependent_servicegroup_name` pair them
    /// (Nagios); Shinken and Alignak do not know the attributes (a dependency with only them
    /// crashes both).
    pub servicegroup_escalations: bool,
    /// F3: booleans are `atoi(value) > 0`, integers `atoi`, numbers `strtod` (Nagios: `yes`
    /// is false, `1x` true, nothing is refused but a `max_check_attempts` below 1); Shinken
    /// and Alignak accept 1/0, yes/no, true/false, on/off and well-formed numbers only.
    pub atoi_values: bool,
    /// C1–C5: host selection.
    pub selection: Selection,
    /// E1: a service template whose `host_name` names host templates makes a service on
    /// every host using them (Shinken, Alignak); in Nagios it is only a template.
    pub services_on_host_templates: bool,
    /// D1–D3: the attributes a service takes from its host when neither it nor its
    /// templates set them.
    pub implied_from_host: &'static [&'static str],
    /// D1: Nagios copies the host's `contacts` and `contact_groups` together, and only to a
    /// service that sets neither; Shinken and Alignak copy each one the service lacks.
    pub implied_contacts_as_pair: bool,
    /// D2: a service without `check_period` (never implied in Nagios 4) or without
    /// `notification_period` (its own or its host's) is checked or notified about at any time,
    /// which `nagios4 -v` warns about; Shinken and Alignak take both from the host.
    pub service_periods_warned: bool,
    /// The product of two groups above which a dependency gets a warning with its size.
    pub product_warning: u64,
    /// #15: `define host` with its `{` alone on a later line. Shinken and Alignak accept it;
    /// Nagios 4 reads the `{` as an attribute ("Invalid host object directive '{'").
    pub open_brace_next_line: bool,
    /// #15: `define host` with no `{` at all. Nagios 4 reads the block as if it were there;
    /// Shinken and Alignak read each attribute line as a malformed `key=value` parameter.
    pub open_brace_missing: bool,
    /// #15: a block not closed before the next `define` or the end of its file. Shinken and
    /// Alignak end it there silently; Nagios 4 refuses ("Unexpected start of object
    /// definition", "Unexpected EOF").
    pub unclosed_block: bool,
    /// #15: a file that is not UTF-8 (Latin-1). Nagios 4 and Shinken 2.4 (Python 2) read
    /// bytes; Alignak 2.1 (Python 3) stops with a UnicodeDecodeError.
    pub bytes_not_utf8: bool,
    /// #15: Nagios 4 splits option lists (`notification_options d u r`) and a contact's
    /// notification commands on blanks as well as commas (`strtok(value, ", ")`); Shinken and
    /// Alignak on commas only.
    pub blank_separates: bool,
    /// #15: an extended-info object (`hostextinfo`, `serviceextinfo`) naming a host or a
    /// service that does not exist: Nagios 4 refuses it ("Could not expand … specified in
    /// extended … info"); Shinken and Alignak merge what they find.
    pub extinfo_targets_checked: bool,
    /// #15: Nagios 4 and Shinken keep empty entries of a servicegroup's `members`
    /// (`h1,s1,,h1,s2`: the host,service pairs shift; Nagios refuses the shifted pairs, Shinken
    /// reports an unknown member `,h1`) and refuse a member-side group list that names no group
    /// (`hostgroups` with no value: Nagios "Failed to process hostgroup names", Shinken "a
    /// hostgroup item has been defined without hostgroup_name"). Alignak drops empty entries.
    pub empty_list_entries_refused: bool,
    /// #15: Nagios 4 reads `n` in a service dependency's criteria, or a host dependency's
    /// notification criteria, as "not set" (`have_… = FALSE`): the template's value is
    /// inherited. Shinken and Alignak read it as "none".
    pub none_criteria_unset: bool,
    /// #15: Shinken 2.4 expands a `duplicate_foreach` service before splitting its host
    /// selection, so it needs exactly one `host_name` (or a host template); Alignak expands
    /// per host.
    pub foreach_single_host: bool,
    /// J3: a `parents` entry naming no host: Nagios and Alignak refuse it; Shinken warns and
    /// drops the link.
    pub unknown_parent_refused: bool,
    /// D13: Shinken refuses a registered service whose own definition names no host
    /// (`host_name` or `hostgroup_name` only inherited: "a service has been defined without
    /// host_name nor hostgroups", checked before inheritance); Nagios and Alignak inherit it.
    pub service_hosts_written: bool,
    /// I1, I3, I6: Nagios 4 reads each half of a time range with `atoi` (`00:00-24:00x` is
    /// 00:00-24:00) and cannot parse a `+` before the ranges; Shinken and Alignak match
    /// `HH:MM-HH:MM` exactly.
    pub time_ranges_atoi: bool,
    /// B6: `*` in a contactgroup's `members` is every contact (Nagios 4); Shinken and Alignak
    /// read it as a contact name ("got unknown member *").
    pub contactgroup_star: bool,
    /// E2: a host's `service_excludes` / `service_includes` entries are patterns (`*`,
    /// `r:regex`, exact names) in Shinken 2.4; Alignak 2.1 compares exact names only
    /// (`Host.is_excluded_for_sdesc`). Nagios refuses both attributes.
    pub exclude_patterns: bool,
    /// J2: a host whose own `realm` differs from its hostgroup's stays in its own realm, with
    /// a warning (Shinken 2.4: "host … it not in the same realm than it's hostgroup"); Alignak
    /// refuses it ("is not in the same realm than its hostgroup"). Nagios has no realms.
    pub host_realm_beats_hostgroup: bool,
    /// A11, A12: a host or service dependency's `host_name`, `hostgroup_name` and their
    /// `dependent_` counterparts are plain comma lists of names (Shinken, Alignak:
    /// `Hostdependencies.explode`, `Servicedependencies.explode`): `!group`, `*` and operators
    /// are looked up as names (and an unknown hostgroup crashes both engines). Nagios selects
    /// hosts there as it does for services.
    pub dependency_names_plain: bool,
    /// C6: Nagios 4 reads host and hostgroup names as POSIX extended regular expressions,
    /// matched anywhere in the name, when the main config sets `use_regexp_matching=1` and
    /// the name holds `*`, `?`, `+` or `\.` (any name with `use_true_regexp_matching=1`).
    /// Shinken and Alignak do not ("use_regexp_matching parameter is not managed").
    pub regexp_matching: bool,
    /// D4, D5: `null` on an attribute cancels what the templates give and what a service
    /// would take from its host (Nagios 4: `XODTEMPLATE_NULL` counts as set); Shinken and
    /// Alignak delete the value, and a service then takes its host's.
    pub null_cancels_implied: bool,
    /// D4: `null` on a list attribute (`contact_groups null`) is the one-name list `null`
    /// (Shinken and Alignak compare only single values with `null`), so it names a group
    /// that does not exist.
    pub null_list_literal: bool,
    /// H1: an escalation that sets neither `contacts` nor `contact_groups` takes both from
    /// its service (host), and its `notification_interval` and `escalation_period` (from the
    /// `notification_period`) likewise (Nagios 4, `xodtemplate_inherit_object_properties`);
    /// Shinken and Alignak give it no contacts, the object's interval and no period.
    pub escalations_inherit: bool,
    /// F10, F12: Nagios 4 refuses a main-config key it does not read ("UNKNOWN VARIABLE",
    /// keys starting with `x` aside) and any `key=value` line in an object file but
    /// `include_file`/`include_dir`; Shinken and Alignak accept both (warning for unknown keys,
    /// and they ignore the lines of object files).
    pub main_keys_checked: bool,
    /// F10, F11: Nagios 4 reads `include_file=` / `include_dir=` in object files (and refuses
    /// `cfg_file=` there, see `main_keys_checked`); Shinken and Alignak read no directive in an
    /// object file, so what those lines name is not loaded.
    pub object_file_directives: bool,
    /// G2, G3: the check interval of a host or service that sets none (Nagios 4: 5; Shinken
    /// and Alignak: 0, checked on demand only), for `--balance rate`.
    pub default_check_interval: f64,
    /// A7: a dependency without failure criteria (none, or `n`) is ignored (Nagios 4: "lame",
    /// and one dependency object is counted per criteria line); Shinken and Alignak keep it
    /// (criteria `n`: it never fails, but it ties its hosts into one pack) and count it once.
    pub lame_dependencies_dropped: bool,
    /// J1: a tree without realms gets one implicit realm (Alignak `All`, Shinken `Default`),
    /// and without daemons of a type one implicit daemon of it; Shinken 2.4 creates no
    /// receiver.
    pub default_realm: &'static str,
    pub default_receiver: bool,
    /// E4: a service defined twice for one host: Nagios 4 keeps the copy made from
    /// `host_name` over one made from a hostgroup of several hosts (it registers the former
    /// first, and the first registered wins), otherwise the last defined; Shinken and Alignak
    /// keep the last defined (or the lower `definition_order`).
    pub explicit_services_first: bool,
    /// F14: the object types a configuration must define at least one of (Nagios 4: "There
    /// are no services defined!", hosts, contacts); Shinken and Alignak accept an empty tree.
    pub at_least_one: &'static [(ObjectKind, &'static str)],
    /// I4, I5: a timeperiod line Shinken cannot read (`Monday`, `satourday`, a day without
    /// ranges) is warned about and dropped; Nagios and Alignak refuse it.
    pub timeperiod_entries_dropped: bool,
}

/// Shinken and Alignak check host, service and contact names for illegal characters.
const SHINKEN_NAMES_CHECKED: &[ObjectKind] =
    &[ObjectKind::Host, ObjectKind::Service, ObjectKind::Contact];

/// Nagios 4 (`xodtemplate_inherit_object_properties`): no `check_period` (D2).
const NAGIOS_IMPLIED: &[&str] = &[
    "contacts",
    "contact_groups",
    "notification_interval",
    "notification_period",
];

/// Shinken 2.4 and Alignak 2.1 (`Services.apply_implicit_inheritance`).
const SHINKEN_IMPLIED: &[&str] = &[
    "contacts",
    "contact_groups",
    "notification_interval",
    "notification_period",
    "resultmodulations",
    "business_impact_modulations",
    "escalations",
    "poller_tag",
    "reactionner_tag",
    "check_period",
    "business_impact",
    "maintenance_period",
];

/// Nagios 4.4.
pub static NAGIOS: Semantics = Semantics {
    engine: Engine::Nagios,
    same_host: SameHost::NoDependentSide,
    dependent_side_alone: true,
    star_service: StarService::Every,
    implicit_groups: false,
    unknown_template_refused: true,
    registered_templates: true,
    nameless_objects_are_templates: true,
    repeated_lists_concatenate: false,
    required: &[
        (ObjectKind::Host, "max_check_attempts"),
        (ObjectKind::Service, "max_check_attempts"),
        (ObjectKind::Timeperiod, "alias"),
        (ObjectKind::Contact, "host_notification_commands"),
        (ObjectKind::Contact, "service_notification_commands"),
    ],
    optional: &[
        (ObjectKind::Hostescalation, "first_notification"),
        (ObjectKind::Hostescalation, "last_notification"),
        (ObjectKind::Serviceescalation, "first_notification"),
        (ObjectKind::Serviceescalation, "last_notification"),
    ],
    ghost_commands: false,
    host_name_ranges: false,
    plus_on_single_value_literal: true,
    illegal_chars_default: false,
    illegal_chars_checked: &[
        ObjectKind::Host,
        ObjectKind::Service,
        ObjectKind::Hostgroup,
        ObjectKind::Servicegroup,
        ObjectKind::Contact,
        ObjectKind::Contactgroup,
        ObjectKind::Command,
        ObjectKind::Timeperiod,
    ],
    empty_hostgroup_key: false,
    pollers_manage_sub_realms: false,
    servicegroup_escalations: true,
    atoi_values: true,
    selection: Selection::Lists,
    services_on_host_templates: false,
    implied_from_host: NAGIOS_IMPLIED,
    implied_contacts_as_pair: true,
    service_periods_warned: true,
    product_warning: PRODUCT_WARNING,
    open_brace_next_line: false,
    open_brace_missing: true,
    unclosed_block: false,
    bytes_not_utf8: true,
    blank_separates: true,
    extinfo_targets_checked: true,
    empty_list_entries_refused: true,
    none_criteria_unset: true,
    foreach_single_host: false,
    unknown_parent_refused: true,
    service_hosts_written: false,
    time_ranges_atoi: true,
    at_least_one: &[
        (ObjectKind::Service, "services"),
        (ObjectKind::Host, "hosts"),
        (ObjectKind::Contact, "contacts"),
    ],
    contactgroup_star: true,
    exclude_patterns: true,
    host_realm_beats_hostgroup: false,
    dependency_names_plain: false,
    regexp_matching: true,
    null_cancels_implied: true,
    null_list_literal: false,
    escalations_inherit: true,
    main_keys_checked: true,
    object_file_directives: true,
    default_check_interval: 5.0,
    lame_dependencies_dropped: true,
    default_realm: "All",
    default_receiver: true,
    explicit_services_first: true,
    timeperiod_entries_dropped: false,
};

/// Shinken 2.4.
pub static SHINKEN: Semantics = Semantics {
    engine: Engine::Shinken,
    // G2: Shinken 2.4 gives a service no default check or retry interval ("does not have
    // check_interval").
    required: &[
        (ObjectKind::Service, "check_interval"),
        (ObjectKind::Service, "retry_interval"),
        (ObjectKind::Contact, "host_notification_period"),
        (ObjectKind::Contact, "service_notification_period"),
        (ObjectKind::Contact, "host_notification_commands"),
        (ObjectKind::Contact, "service_notification_commands"),
    ],
    optional: &[],
    ghost_commands: true,
    host_name_ranges: false,
    plus_on_single_value_literal: true,
    illegal_chars_default: true,
    illegal_chars_checked: SHINKEN_NAMES_CHECKED,
    empty_hostgroup_key: true,
    pollers_manage_sub_realms: false,
    servicegroup_escalations: false,
    atoi_values: false,
    same_host: SameHost::ExplodeHostgroupOnly,
    dependent_side_alone: false,
    star_service: StarService::Dropped,
    implicit_groups: true,
    unknown_template_refused: false,
    registered_templates: false,
    nameless_objects_are_templates: false,
    repeated_lists_concatenate: true,
    selection: Selection::Expressions,
    services_on_host_templates: true,
    implied_from_host: SHINKEN_IMPLIED,
    implied_contacts_as_pair: false,
    service_periods_warned: false,
    product_warning: PRODUCT_WARNING,
    open_brace_next_line: true,
    open_brace_missing: false,
    unclosed_block: true,
    bytes_not_utf8: true,
    blank_separates: false,
    extinfo_targets_checked: false,
    empty_list_entries_refused: true,
    none_criteria_unset: false,
    foreach_single_host: true,
    unknown_parent_refused: false,
    service_hosts_written: true,
    time_ranges_atoi: false,
    at_least_one: &[],
    contactgroup_star: false,
    exclude_patterns: true,
    host_realm_beats_hostgroup: true,
    dependency_names_plain: true,
    regexp_matching: false,
    null_cancels_implied: false,
    null_list_literal: true,
    escalations_inherit: false,
    main_keys_checked: false,
    object_file_directives: false,
    default_check_interval: 0.0,
    lame_dependencies_dropped: false,
    default_realm: "Default",
    default_receiver: false,
    explicit_services_first: false,
    timeperiod_entries_dropped: true,
};

/// Alignak 2.1.
pub static ALIGNAK: Semantics = Semantics {
    engine: Engine::Alignak,
    required: CONTACT_NOTIFICATION_WAY,
    optional: &[],
    ghost_commands: true,
    host_name_ranges: true,
    plus_on_single_value_literal: false,
    illegal_chars_default: true,
    illegal_chars_checked: SHINKEN_NAMES_CHECKED,
    empty_hostgroup_key: true,
    pollers_manage_sub_realms: true,
    servicegroup_escalations: false,
    atoi_values: false,
    same_host: SameHost::HostgroupWithoutDependentGroup,
    dependent_side_alone: false,
    star_service: StarService::Unknown,
    implicit_groups: true,
    unknown_template_refused: false,
    registered_templates: false,
    nameless_objects_are_templates: false,
    repeated_lists_concatenate: true,
    selection: Selection::Expressions,
    services_on_host_templates: true,
    implied_from_host: SHINKEN_IMPLIED,
    implied_contacts_as_pair: false,
    service_periods_warned: false,
    product_warning: PRODUCT_WARNING,
    open_brace_next_line: true,
    open_brace_missing: false,
    unclosed_block: true,
    bytes_not_utf8: false,
    blank_separates: false,
    extinfo_targets_checked: false,
    empty_list_entries_refused: false,
    none_criteria_unset: false,
    foreach_single_host: false,
    unknown_parent_refused: true,
    service_hosts_written: false,
    time_ranges_atoi: false,
    at_least_one: &[],
    contactgroup_star: false,
    exclude_patterns: false,
    host_realm_beats_hostgroup: false,
    dependency_names_plain: true,
    regexp_matching: false,
    null_cancels_implied: false,
    null_list_literal: true,
    escalations_inherit: false,
    main_keys_checked: false,
    object_file_directives: false,
    default_check_interval: 0.0,
    lame_dependencies_dropped: false,
    default_realm: "All",
    default_receiver: true,
    explicit_services_first: false,
    timeperiod_entries_dropped: false,
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
    "timeout",
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

/// Another name an engine accepts for an attribute: the attribute it stands for on `kind`
/// (`hostgroups` on a service is `hostgroup_name`). Nagios 4's are the names
/// `xodtemplate_add_object_property` compares besides the documented one; Shinken's and
/// Alignak's their classes' `old_properties`. Where both names are written, Nagios keeps the
/// later line (one field), Shinken and Alignak the canonical name.
pub fn alias(engine: Engine, kind: ObjectKind, key: &str) -> Option<&'static str> {
    use ObjectKind as K;
    let table: &[(&str, &str)] = match (engine, kind) {
        (Engine::Nagios, K::Service) => &[
            ("host", "host_name"),
            ("hosts", "host_name"),
            ("hostgroup", "hostgroup_name"),
            ("hostgroups", "hostgroup_name"),
            ("description", "service_description"),
            ("service_groups", "servicegroups"),
            ("normal_check_interval", "check_interval"),
            ("retry_check_interval", "retry_interval"),
            ("hourly_value", "importance"),
            ("obsess", "obsess_over_service"),
        ],
        (Engine::Nagios, K::Host) => &[
            ("host_groups", "hostgroups"),
            ("gd2_image", "statusmap_image"),
            ("normal_check_interval", "check_interval"),
            ("retry_check_interval", "retry_interval"),
            ("hourly_value", "importance"),
            ("checks_enabled", "active_checks_enabled"),
            ("obsess", "obsess_over_host"),
        ],
        (Engine::Nagios, K::Contact) => &[
            ("contact_groups", "contactgroups"),
            ("minimum_value", "minimum_importance"),
        ],
        (Engine::Nagios, K::Servicedependency) => &[
            ("servicegroup", "servicegroup_name"),
            ("servicegroups", "servicegroup_name"),
            ("hostgroup", "hostgroup_name"),
            ("hostgroups", "hostgroup_name"),
            ("host", "host_name"),
            ("master_host", "host_name"),
            ("master_host_name", "host_name"),
            ("description", "service_description"),
            ("master_description", "service_description"),
            ("master_service_description", "service_description"),
            ("dependent_servicegroup", "dependent_servicegroup_name"),
            ("dependent_servicegroups", "dependent_servicegroup_name"),
            ("dependent_hostgroup", "dependent_hostgroup_name"),
            ("dependent_hostgroups", "dependent_hostgroup_name"),
            ("dependent_host", "dependent_host_name"),
            ("dependent_description", "dependent_service_description"),
            ("execution_failure_options", "execution_failure_criteria"),
            (
                "notification_failure_options",
                "notification_failure_criteria",
            ),
        ],
        (Engine::Nagios, K::Hostdependency) => &[
            ("hostgroup", "hostgroup_name"),
            ("hostgroups", "hostgroup_name"),
            ("host", "host_name"),
            ("master_host", "host_name"),
            ("master_host_name", "host_name"),
            ("dependent_hostgroup", "dependent_hostgroup_name"),
            ("dependent_hostgroups", "dependent_hostgroup_name"),
            ("dependent_host", "dependent_host_name"),
            ("execution_failure_options", "execution_failure_criteria"),
            (
                "notification_failure_options",
                "notification_failure_criteria",
            ),
        ],
        (Engine::Nagios, K::Hostescalation) => &[
            ("host", "host_name"),
            ("hostgroup", "hostgroup_name"),
            ("hostgroups", "hostgroup_name"),
        ],
        (Engine::Nagios, K::Serviceescalation) => &[
            ("host", "host_name"),
            ("description", "service_description"),
            ("servicegroup", "servicegroup_name"),
            ("servicegroups", "servicegroup_name"),
            ("hostgroup", "hostgroup_name"),
            ("hostgroups", "hostgroup_name"),
        ],
        (Engine::Nagios, K::Hostextinfo) => &[
            ("hostgroup", "hostgroup_name"),
            ("gd2_image", "statusmap_image"),
        ],
        (Engine::Nagios, K::Serviceextinfo) => &[("hostgroup", "hostgroup_name")],
        (Engine::Shinken | Engine::Alignak, K::Host) => &[
            ("normal_check_interval", "check_interval"),
            ("retry_check_interval", "retry_interval"),
            ("criticity", "business_impact"),
            ("hostgroup", "hostgroups"),
        ],
        (Engine::Shinken | Engine::Alignak, K::Service) => &[
            ("normal_check_interval", "check_interval"),
            ("retry_check_interval", "retry_interval"),
            ("criticity", "business_impact"),
            ("hostgroup", "hostgroup_name"),
            ("hostgroups", "hostgroup_name"),
        ],
        (Engine::Shinken | Engine::Alignak, K::Contact | K::Notificationway) => {
            &[("min_criticity", "min_business_impact")]
        }
        _ => &[],
    };
    table.iter().find(|(a, _)| *a == key).map(|(_, c)| *c)
}

/// The object types Nagios 4 reads (`xodtemplate_process_config_file`); it refuses any other
/// `define` ("Invalid object definition type").
pub const NAGIOS_OBJECT_TYPES: &[ObjectKind] = &[
    ObjectKind::Timeperiod,
    ObjectKind::Command,
    ObjectKind::Contactgroup,
    ObjectKind::Hostgroup,
    ObjectKind::Servicegroup,
    ObjectKind::Servicedependency,
    ObjectKind::Serviceescalation,
    ObjectKind::Contact,
    ObjectKind::Host,
    ObjectKind::Service,
    ObjectKind::Hostdependency,
    ObjectKind::Hostescalation,
    ObjectKind::Hostextinfo,
    ObjectKind::Serviceextinfo,
];

/// Whether Nagios 4 reads `key` on a `kind` definition (`xodtemplate_add_object_property`,
/// which refuses any other: "Invalid … object directive"). Other names of the same attribute
/// ([`alias`]) are included; custom `_VARS` (hosts, services, contacts) and timeperiod day
/// lines are checked by the caller.
pub fn nagios_reads(kind: ObjectKind, key: &str) -> bool {
    use ObjectKind as K;
    const COMMON: &[&str] = &["use", "name", "register"];
    const DEPENDENCY: &[&str] = &[
        "host_name",
        "hostgroup_name",
        "dependent_host_name",
        "dependent_hostgroup_name",
        "dependency_period",
        "inherits_parent",
        "notification_failure_criteria",
        "execution_failure_criteria",
    ];
    const ESCALATION: &[&str] = &[
        "host_name",
        "hostgroup_name",
        "contact_groups",
        "contacts",
        "escalation_period",
        "first_notification",
        "last_notification",
        "notification_interval",
        "escalation_options",
    ];
    let own: &[&str] = match kind {
        K::Timeperiod => &["timeperiod_name", "alias", "exclude"],
        K::Command => &["command_name", "command_line"],
        K::Contactgroup => &[
            "contactgroup_name",
            "alias",
            "members",
            "contactgroup_members",
        ],
        K::Hostgroup => &[
            "hostgroup_name",
            "alias",
            "members",
            "hostgroup_members",
            "notes",
            "notes_url",
            "action_url",
        ],
        K::Servicegroup => &[
            "servicegroup_name",
            "alias",
            "members",
            "servicegroup_members",
            "notes",
            "notes_url",
            "action_url",
        ],
        K::Servicedependency => &[
            "service_description",
            "dependent_service_description",
            "servicegroup_name",
            "dependent_servicegroup_name",
        ],
        K::Hostdependency | K::Hostescalation => &[],
        K::Serviceescalation => &["service_description", "servicegroup_name"],
        K::Contact => &[
            "contact_name",
            "alias",
            "contactgroups",
            "minimum_importance",
            "email",
            "pager",
            "host_notification_period",
            "host_notification_commands",
            "service_notification_period",
            "service_notification_commands",
            "host_notification_options",
            "service_notification_options",
            "host_notifications_enabled",
            "service_notifications_enabled",
            "can_submit_commands",
            "retain_status_information",
            "retain_nonstatus_information",
        ],
        K::Host => &[
            "host_name",
            "display_name",
            "alias",
            "address",
            "parents",
            "hostgroups",
            "contact_groups",
            "contacts",
            "notification_period",
            "check_command",
            "check_period",
            "event_handler",
            "notes",
            "notes_url",
            "action_url",
            "icon_image",
            "icon_image_alt",
            "vrml_image",
            "statusmap_image",
            "initial_state",
            "importance",
            "check_interval",
            "retry_interval",
            "max_check_attempts",
            "active_checks_enabled",
            "passive_checks_enabled",
            "obsess_over_host",
            "event_handler_enabled",
            "check_freshness",
            "freshness_threshold",
            "low_flap_threshold",
            "high_flap_threshold",
            "flap_detection_enabled",
            "flap_detection_options",
            "notification_options",
            "notifications_enabled",
            "notification_interval",
            "first_notification_delay",
            "stalking_options",
            "process_perf_data",
            "2d_coords",
            "3d_coords",
            "retain_status_information",
            "retain_nonstatus_information",
            "failure_prediction_options",
            "failure_prediction_enabled",
        ],
        K::Service => &[
            "host_name",
            "service_description",
            "display_name",
            "parents",
            "hostgroup_name",
            "servicegroups",
            "check_command",
            "check_period",
            "event_handler",
            "notification_period",
            "contact_groups",
            "contacts",
            "notes",
            "notes_url",
            "action_url",
            "icon_image",
            "icon_image_alt",
            "initial_state",
            "importance",
            "max_check_attempts",
            "check_interval",
            "retry_interval",
            "active_checks_enabled",
            "passive_checks_enabled",
            "parallelize_check",
            "is_volatile",
            "obsess_over_service",
            "event_handler_enabled",
            "check_freshness",
            "freshness_threshold",
            "low_flap_threshold",
            "high_flap_threshold",
            "flap_detection_enabled",
            "flap_detection_options",
            "notification_options",
            "notifications_enabled",
            "notification_interval",
            "first_notification_delay",
            "stalking_options",
            "process_perf_data",
            "retain_status_information",
            "retain_nonstatus_information",
            "failure_prediction_options",
            "failure_prediction_enabled",
        ],
        K::Hostextinfo => &[
            "host_name",
            "hostgroup_name",
            "notes",
            "notes_url",
            "action_url",
            "icon_image",
            "icon_image_alt",
            "vrml_image",
            "statusmap_image",
            "2d_coords",
            "3d_coords",
        ],
        K::Serviceextinfo => &[
            "host_name",
            "service_description",
            "hostgroup_name",
            "notes",
            "notes_url",
            "action_url",
            "icon_image",
            "icon_image_alt",
        ],
        _ => return false,
    };
    let shared: &[&str] = match kind {
        K::Servicedependency | K::Hostdependency => DEPENDENCY,
        K::Serviceescalation | K::Hostescalation => ESCALATION,
        _ => &[],
    };
    COMMON.contains(&key)
        || own.contains(&key)
        || shared.contains(&key)
        || alias(Engine::Nagios, kind, key).is_some()
        || (kind == K::Contact && key.starts_with("address"))
}

/// Shinken and Alignak make a notification way of a contact's own notification attributes
/// and refuse it without its periods and commands ("the host_notification_period is invalid").
const CONTACT_NOTIFICATION_WAY: &[(ObjectKind, &str)] = &[
    (ObjectKind::Contact, "host_notification_period"),
    (ObjectKind::Contact, "service_notification_period"),
    (ObjectKind::Contact, "host_notification_commands"),
    (ObjectKind::Contact, "service_notification_commands"),
];

/// The attributes from which Shinken and Alignak make a contact's own notification way.
const NOTIFICATION_WAY_KEYS: &[&str] = &[
    "host_notification_period",
    "service_notification_period",
    "host_notification_options",
    "service_notification_options",
    "host_notification_commands",
    "service_notification_commands",
    "min_business_impact",
];

impl Semantics {
    /// The required attributes an object of `kind` lacks, every engine's and this one's, each
    /// written as its alternatives (`` `host_name` or `hostgroup_name` ``).
    pub fn missing_required<'a>(
        &self,
        kind: ObjectKind,
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> Vec<String> {
        // A6: only Nagios reads a servicegroup on a dependency (Shinken and Alignak crash on
        // one that names no host).
        let has = |a: &str| {
            get(a).is_some()
                && (self.servicegroup_escalations
                    || kind != ObjectKind::Servicedependency
                    || !matches!(a, "servicegroup_name" | "dependent_servicegroup_name"))
        };
        let optional = |a: &str| self.optional.contains(&(kind, a));
        let mut out = kind.missing_required(|a| has(a) || optional(a));
        if !self.servicegroup_escalations && kind == ObjectKind::Servicedependency {
            for m in &mut out {
                *m = m
                    .replace(" or `servicegroup_name`", "")
                    .replace(" or `dependent_servicegroup_name`", "");
            }
        }
        // Shinken and Alignak (not Nagios, which requires the commands of every contact) make
        // a contact's own notification way only when it writes one of its attributes (a period, options, commands or `min_business_impact`), and accept
        // one that notifies of nothing (`n` for hosts and services, a "null notification way").
        let no_way = kind == ObjectKind::Contact
            && self.engine != Engine::Nagios
            && (!NOTIFICATION_WAY_KEYS.iter().any(|k| has(k))
                || ["host_notification_options", "service_notification_options"]
                    .iter()
                    .all(|k| get(k).is_some_and(|v| v.trim() == "n")));
        out.extend(
            self.required
                .iter()
                .filter(|(k, a)| *k == kind && !has(a))
                .filter(|(_, a)| !(no_way && a.contains("_notification_")))
                .map(|(_, a)| format!("`{a}`")),
        );
        out
    }
}
