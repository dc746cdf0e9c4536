//! Hosts and services whose problems reach no one, or that Nagios checks or notifies about at
//! any time (catalogue row D2): what `nagios4 -v` warns about ("has no default contacts or
//! contactgroups defined", "has no check time period defined", "has no notification time
//! period defined"), and what Shinken and Alignak check or warn about less, or not at all.
//!
//! A host or service counts as notifying unless `notifications_enabled` is 0. Contacts are its
//! own `contacts` / `contact_groups`, or its host's for a service (implied inheritance, D1);
//! Nagios 4 takes a service's `notification_period` from its host too, but never its
//! `check_period`. One warning per service definition (with the hosts it lacks the value on),
//! and one per set of hosts using the same templates.

use std::collections::BTreeMap;
use std::sync::Arc;

use monitorc_grammar::{codes, Code, Diagnostic};

use super::Expander;
use crate::ir::Value;
use crate::resolve::ResolvedObject;

/// How many names a warning lists before "and N more".
const SHOWN: usize = 5;

fn notifying(o: &ResolvedObject) -> bool {
    !matches!(
        o.get("notifications_enabled").map(|a| &a.value),
        Some(Value::Bool(false))
    )
}

/// Set to something: a `null` or an empty list counts as unset.
fn set(o: &ResolvedObject, key: &str) -> bool {
    o.get(key)
        .is_some_and(|a| !matches!(&a.value, Value::Null) && !a.raw.trim().is_empty())
}

fn has_contacts(o: &ResolvedObject) -> bool {
    set(o, "contacts") || set(o, "contact_groups")
}

/// `a, b, c, d, e and 12 more`.
fn listed(names: &[&str]) -> String {
    let shown = names[..names.len().min(SHOWN)].join(", ");
    match names.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

impl<'a> Expander<'a> {
    /// Warns about hosts and services without contacts, and (Nagios 4) services without a
    /// check or notification period.
    pub(super) fn unnotified(&mut self) {
        let engine = self.sem.engine.title();
        // Hosts without contacts, grouped by the templates they use.
        let mut hosts: BTreeMap<Arc<[String]>, Vec<u32>> = BTreeMap::new();
        let host_has: Vec<(bool, bool)> = (0..self.model.hosts.len())
            .map(|h| {
                let o = self.model.host(self.res, h as u32);
                (has_contacts(o), set(o, "notification_period"))
            })
            .collect();
        for (h, &(contacts, _)) in host_has.iter().enumerate() {
            let o = self.model.host(self.res, h as u32);
            if !contacts && notifying(o) {
                hosts.entry(o.templates.clone()).or_default().push(h as u32);
            }
        }
        for (templates, list) in hosts {
            let first = self.model.host(self.res, list[0]);
            let names: Vec<&str> = list
                .iter()
                .map(|&h| self.model.host_names[h as usize].as_str())
                .collect();
            let mut d = Diagnostic::new(
                codes::NO_CONTACTS,
                format!("host `{}` has no contacts or contact groups", names[0]),
            )
            .at(self.ir.objects[first.id].header)
            .label(format!(
                "notifications are enabled, and {engine} sends them to no one"
            ));
            if names.len() > 1 {
                d = d.note(format!(
                    "{} hosts {} have none: {}",
                    names.len(),
                    if templates.is_empty() {
                        "without templates".to_string()
                    } else {
                        format!("using templates {}", templates.join(", "))
                    },
                    listed(&names)
                ));
            }
            let help = match templates.first() {
                Some(t) => format!(
                    "add `contact_groups` (or `contacts`) to template `{t}` or to the hosts, or set `notifications_enabled 0` where no one is to be told"
                ),
                None => "add `contact_groups` (or `contacts`) to the hosts, or set `notifications_enabled 0` where no one is to be told".to_string(),
            };
            self.diags.push(d.help(help));
        }

        // Services: per definition, the hosts on which each value is missing.
        #[derive(Default)]
        struct Missing {
            contacts: Vec<u32>,
            check_period: Vec<u32>,
            notification_period: Vec<u32>,
        }
        let implied = |key: &str| self.sem.implied_from_host.contains(&key);
        let (implied_contacts, implied_period) =
            (implied("contacts"), implied("notification_period"));
        // What each definition sets itself, worked out once (a definition has many services).
        #[derive(Clone, Copy)]
        struct Own {
            notifying: bool,
            contacts: bool,
            check_period: bool,
            notification_period: bool,
            contacts_nulled: bool,
            period_nulled: bool,
        }
        let own_of = |def: &ResolvedObject| Own {
            notifying: notifying(def),
            contacts: has_contacts(def),
            check_period: set(def, "check_period"),
            notification_period: set(def, "notification_period"),
            contacts_nulled: def.is_nulled("contacts"),
            period_nulled: def.is_nulled("notification_period"),
        };
        let mut owns: Vec<Option<Own>> = vec![None; self.res.objects.len()];
        let mut defs: BTreeMap<usize, Missing> = BTreeMap::new();
        for s in self.model.services.iter() {
            let mut own = *owns[s.def].get_or_insert_with(|| own_of(&self.res.objects[s.def]));
            if !s.overrides.is_empty() {
                let given = |key: &str| {
                    s.overrides
                        .get(key)
                        .is_some_and(|a| !a.raw.trim().is_empty())
                };
                if let Some(a) = s.overrides.get("notifications_enabled") {
                    own.notifying = a.value != Value::Bool(false);
                }
                own.contacts |= given("contacts") || given("contact_groups");
                own.check_period |= given("check_period");
                own.notification_period |= given("notification_period");
            }
            if !own.notifying {
                continue;
            }
            let (host_contacts, host_period) = host_has[s.host as usize];
            let contacts =
                own.contacts || (implied_contacts && host_contacts && !own.contacts_nulled);
            let check_period = own.check_period || !self.sem.service_periods_warned;
            let period = own.notification_period
                || !self.sem.service_periods_warned
                || (implied_period && host_period && !own.period_nulled);
            if contacts && check_period && period {
                continue;
            }
            let m = defs.entry(s.def).or_default();
            if !contacts {
                m.contacts.push(s.host);
            }
            if !check_period {
                m.check_period.push(s.host);
            }
            if !period {
                m.notification_period.push(s.host);
            }
        }
        for (def, m) in defs {
            let header = self.ir.objects[def].header;
            let description = self.res.objects[def]
                .get_str("service_description")
                .unwrap_or("")
                .to_string();
            let cases: [(&Vec<u32>, Code, &str, String, String); 3] = [
                (
                    &m.contacts,
                    codes::NO_CONTACTS,
                    "no contacts or contact groups",
                    format!("notifications are enabled, and {engine} sends them to no one"),
                    "add `contact_groups` (or `contacts`) to the service, a template it uses or its hosts, or set `notifications_enabled 0` where no one is to be told".to_string(),
                ),
                (
                    &m.check_period,
                    codes::NO_CHECK_PERIOD,
                    "no check_period",
                    format!(
                        "{engine} checks it at any time: a service does not take its host's check_period there (Shinken and Alignak do)"
                    ),
                    "set `check_period` on the service or on a template it uses".to_string(),
                ),
                (
                    &m.notification_period,
                    codes::NO_NOTIFICATION_PERIOD,
                    "no notification_period",
                    format!("{engine} notifies about it at any time"),
                    "set `notification_period` on the service, a template it uses or its hosts"
                        .to_string(),
                ),
            ];
            for (hosts, code, what, label, help) in cases {
                if hosts.is_empty() {
                    continue;
                }
                let names: Vec<&str> = hosts
                    .iter()
                    .map(|&h| self.model.host_names[h as usize].as_str())
                    .collect();
                let on = if names.len() == 1 {
                    format!("on host `{}`", names[0])
                } else {
                    format!("on {} hosts", names.len())
                };
                let mut d =
                    Diagnostic::new(code, format!("service `{description}` {on} has {what}"))
                        .at(header)
                        .label(label);
                if names.len() > 1 {
                    d = d.note(format!("hosts: {}", listed(&names)));
                }
                self.diags.push(d.help(help));
            }
        }
    }
}
