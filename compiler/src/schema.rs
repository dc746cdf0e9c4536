//! What each object type is: its `define` keyword, name attribute, required attributes and
//! known attributes with their value types. The attribute tables themselves are data
//! (`schema_data.rs`); this module gives them types and fast lookups.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::schema_data::{MAIN_CONFIG_KEYS, NAGIOS_MAIN_CONFIG_KEYS, OBJECT_ATTRS};

/// The value type of a known attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Free text: names, command lines with `!` arguments, addresses, URLs.
    Str,
    Int,
    /// A number that may be fractional (intervals).
    Float,
    /// `1/0/yes/no/true/false/on/off`.
    Bool,
    /// A comma-separated list of names.
    List,
    /// A list with one entry per occurrence of the key, commas kept (`service_overrides`:
    /// `SERVICE,attribute value` where the value may hold commas).
    Entries,
    /// A comma-separated list of option letters, with the letters accepted.
    Opts(&'static str),
}

impl Ty {
    pub fn is_list(self) -> bool {
        matches!(self, Ty::List | Ty::Entries | Ty::Opts(_))
    }
}

macro_rules! kinds {
    ($( $variant:ident $kw:literal name: $name:expr, required: $req:expr, used: $used:literal; )*) => {
        /// Every object type the engines know.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ObjectKind { $($variant),* }

        impl ObjectKind {
            pub const ALL: &'static [ObjectKind] = &[$(ObjectKind::$variant),*];

            /// The keyword after `define`.
            pub fn keyword(self) -> &'static str {
                match self { $(ObjectKind::$variant => $kw),* }
            }

            /// The attribute that names an object of this type, if objects are named.
            pub fn name_key(self) -> Option<&'static str> {
                match self { $(ObjectKind::$variant => $name),* }
            }

            /// Attributes a real (registered) object must have; each entry lists
            /// alternatives of which one is enough.
            pub fn required(self) -> &'static [&'static [&'static str]] {
                match self { $(ObjectKind::$variant => $req),* }
            }

            /// Whether monitorc uses objects of this type (the others are known but ignored:
            /// Shinken/Alignak modulations and discovery objects).
            pub fn is_used(self) -> bool {
                match self { $(ObjectKind::$variant => $used),* }
            }
        }
    };
}

kinds! {
    Host "host" name: Some("host_name"), required: &[&["host_name"]], used: true;
    Service "service" name: None,
        required: &[&["service_description"], &["host_name", "hostgroup_name"], &["check_command"]], used: true;
    Hostgroup "hostgroup" name: Some("hostgroup_name"), required: &[&["hostgroup_name"]], used: true;
    Servicegroup "servicegroup" name: Some("servicegroup_name"), required: &[&["servicegroup_name"]], used: true;
    Contact "contact" name: Some("contact_name"), required: &[&["contact_name"]], used: true;
    Contactgroup "contactgroup" name: Some("contactgroup_name"), required: &[&["contactgroup_name"]], used: true;
    Command "command" name: Some("command_name"), required: &[&["command_name"], &["command_line"]], used: true;
    Timeperiod "timeperiod" name: Some("timeperiod_name"), required: &[&["timeperiod_name"]], used: true;
    Hostdependency "hostdependency" name: None,
        required: &[&["host_name", "hostgroup_name"]], used: true;
    Servicedependency "servicedependency" name: None,
        required: &[&["host_name", "hostgroup_name", "dependent_host_name", "dependent_hostgroup_name", "servicegroup_name", "dependent_servicegroup_name"], &["service_description", "servicegroup_name"], &["dependent_service_description", "dependent_servicegroup_name"]], used: true;
    Hostescalation "hostescalation" name: None,
        required: &[&["host_name", "hostgroup_name"], &["first_notification", "first_notification_time"], &["last_notification", "last_notification_time"]], used: true;
    Serviceescalation "serviceescalation" name: None,
        required: &[&["host_name", "hostgroup_name", "servicegroup_name"], &["service_description", "servicegroup_name"], &["first_notification", "first_notification_time"], &["last_notification", "last_notification_time"]], used: true;
    Escalation "escalation" name: Some("escalation_name"),
        required: &[&["escalation_name"], &["first_notification", "first_notification_time"], &["last_notification", "last_notification_time"]], used: true;
    Hostextinfo "hostextinfo" name: None, required: &[&["host_name", "hostgroup_name"]], used: true;
    Serviceextinfo "serviceextinfo" name: None,
        required: &[&["host_name", "hostgroup_name"], &["service_description"]], used: true;
    Notificationway "notificationway" name: Some("notificationway_name"), required: &[&["notificationway_name"]], used: true;
    Realm "realm" name: Some("realm_name"), required: &[&["realm_name"]], used: true;
    Scheduler "scheduler" name: Some("scheduler_name"), required: &[&["scheduler_name"]], used: true;
    Poller "poller" name: Some("poller_name"), required: &[&["poller_name"]], used: true;
    Reactionner "reactionner" name: Some("reactionner_name"), required: &[&["reactionner_name"]], used: true;
    Broker "broker" name: Some("broker_name"), required: &[&["broker_name"]], used: true;
    Receiver "receiver" name: Some("receiver_name"), required: &[&["receiver_name"]], used: true;
    Arbiter "arbiter" name: Some("arbiter_name"), required: &[&["arbiter_name"]], used: true;
    Module "module" name: Some("module_name"), required: &[&["module_name"]], used: true;
    Businessimpactmodulation "businessimpactmodulation" name: Some("business_impact_modulation_name"), required: &[], used: false;
    Resultmodulation "resultmodulation" name: Some("resultmodulation_name"), required: &[], used: false;
    Checkmodulation "checkmodulation" name: Some("checkmodulation_name"), required: &[], used: false;
    Macromodulation "macromodulation" name: Some("macromodulation_name"), required: &[], used: false;
    Discoveryrule "discoveryrule" name: Some("discoveryrule_name"), required: &[], used: false;
    Discoveryrun "discoveryrun" name: Some("discoveryrun_name"), required: &[], used: false;
}

impl ObjectKind {
    pub fn from_keyword(kw: &str) -> Option<ObjectKind> {
        static MAP: OnceLock<HashMap<&'static str, ObjectKind>> = OnceLock::new();
        MAP.get_or_init(|| ObjectKind::ALL.iter().map(|k| (k.keyword(), *k)).collect())
            .get(kw)
            .copied()
    }

    /// The known attributes of this type, sorted by name.
    pub fn attributes(self) -> &'static [(&'static str, Ty)] {
        static MAP: OnceLock<HashMap<&'static str, &'static [(&'static str, Ty)]>> =
            OnceLock::new();
        MAP.get_or_init(|| OBJECT_ATTRS.iter().map(|(k, a)| (*k, *a)).collect())
            .get(self.keyword())
            .copied()
            .unwrap_or(&[])
    }

    /// The type of a known attribute of this type.
    pub fn attribute(self, name: &str) -> Option<Ty> {
        let attrs = self.attributes();
        attrs
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| attrs[i].1)
    }

    /// The type of a known attribute and its name as a shared string, so the millions of
    /// attributes of a large configuration do not each allocate their name.
    pub fn attribute_interned(self, name: &str) -> Option<(Ty, Arc<str>)> {
        static NAMES: OnceLock<HashMap<ObjectKind, Vec<Arc<str>>>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            ObjectKind::ALL
                .iter()
                .map(|k| {
                    (
                        *k,
                        k.attributes().iter().map(|(n, _)| Arc::from(*n)).collect(),
                    )
                })
                .collect()
        });
        let attrs = self.attributes();
        let i = attrs
            .binary_search_by(|(n, _)| crate::resolve::short_cmp(n, name))
            .ok()?;
        Some((attrs[i].1, names[&self][i].clone()))
    }

    /// The required attributes `has` does not satisfy, each written as its alternatives
    /// (`` `host_name` or `hostgroup_name` ``).
    pub fn missing_required(self, has: impl Fn(&str) -> bool) -> Vec<String> {
        self.required()
            .iter()
            .filter(|alts| !alts.iter().any(|a| has(a)))
            .map(|alts| {
                alts.iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect()
    }

    /// Modules take arbitrary, module-specific attributes.
    pub fn open_attributes(self) -> bool {
        matches!(
            self,
            ObjectKind::Module | ObjectKind::Discoveryrule | ObjectKind::Discoveryrun
        )
    }
}

pub fn is_main_config_key(key: &str) -> bool {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| MAIN_CONFIG_KEYS.iter().copied().collect())
        .contains(key)
}

/// Whether Nagios 4 reads `key` in its main config (F12).
pub fn is_nagios_main_config_key(key: &str) -> bool {
    NAGIOS_MAIN_CONFIG_KEYS.binary_search(&key).is_ok()
}

pub fn main_config_keys() -> &'static [&'static str] {
    MAIN_CONFIG_KEYS
}

/// Nagios' default `illegal_object_name_chars`.
pub const DEFAULT_ILLEGAL_NAME_CHARS: &str = "`~!$%^&*\"|'<>?,()=";

/// Day and month words that start a timeperiod range line.
pub const TIMEPERIOD_DAY_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "day",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_tables_are_sorted_and_cover_every_kind() {
        for kind in ObjectKind::ALL {
            let attrs = kind.attributes();
            assert!(!attrs.is_empty(), "{kind:?} has no attribute table");
            assert!(
                attrs.windows(2).all(|w| w[0].0 < w[1].0),
                "{kind:?} attributes are not sorted and unique"
            );
            for key in ["name", "use", "register"] {
                assert!(kind.attribute(key).is_some(), "{kind:?} lacks {key}");
            }
            if let Some(n) = kind.name_key() {
                assert!(
                    kind.attribute(n).is_some(),
                    "{kind:?} lacks its name key {n}"
                );
            }
            for alts in kind.required() {
                for a in *alts {
                    assert!(kind.attribute(a).is_some(), "{kind:?} requires unknown {a}");
                }
            }
        }
    }
}
