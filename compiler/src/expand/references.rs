//! Escalations, and every attribute that names another object (commands, periods,
//! contacts, groups, realms, modules…) checked to name one that exists.

use super::*;

impl<'a> Expander<'a> {
    /// #15: Nagios 4 refuses an extended-info object that names a host or a service that does
    /// not exist ("Could not expand … specified in extended … info"); Shinken and Alignak
    /// merge what they find.
    pub(super) fn extinfos(&mut self) {
        if !self.sem.extinfo_targets_checked {
            return;
        }
        let defs: Vec<&'a ResolvedObject> = self
            .res
            .of_kind(ObjectKind::Hostextinfo)
            .chain(self.res.of_kind(ObjectKind::Serviceextinfo))
            .collect();
        for d in defs {
            let hosts = self.select(d, "host_name", "hostgroup_name").0;
            if d.kind != ObjectKind::Serviceextinfo {
                continue;
            }
            let Some(a) = d.get("service_description") else {
                continue;
            };
            let desc = a.raw.trim().to_string();
            let src = a.sources[0].clone();
            for h in hosts {
                self.lookup_service(h, &desc, "service_description", Some(&src), d);
            }
        }
    }

    pub(super) fn escalations(&mut self) {
        let mut hosts_esc = BTreeSet::new();
        let defs: Vec<&'a ResolvedObject> = self.res.of_kind(ObjectKind::Hostescalation).collect();
        for d in defs {
            for h in self.select(d, "host_name", "hostgroup_name").0 {
                hosts_esc.insert((h, d.id));
            }
        }
        let mut svc_esc = BTreeSet::new();
        let defs: Vec<&'a ResolvedObject> =
            self.res.of_kind(ObjectKind::Serviceescalation).collect();
        for d in defs {
            let descs = d.list("service_description").to_vec();
            let src = d.get("service_description").map(|a| a.sources[0].clone());
            for h in self.select(d, "host_name", "hostgroup_name").0 {
                for desc in &descs {
                    let found = if desc == "*" {
                        self.model.services_of(h).collect()
                    } else {
                        self.lookup_service(h, desc, "service_description", src.as_ref(), d)
                            .into_iter()
                            .collect::<Vec<_>>()
                    };
                    for s in found {
                        svc_esc.insert((s, d.id));
                    }
                }
            }
            // H2: Nagios escalates every service of the groups `servicegroup_name` names;
            // Shinken and Alignak do not know the attribute.
            let Some(a) = d
                .get("servicegroup_name")
                .filter(|_| self.sem.servicegroup_escalations)
            else {
                continue;
            };
            for (g, src) in entries(self.sources, a) {
                match self.model.servicegroups.get(g) {
                    Some(members) => svc_esc.extend(members.iter().map(|&s| (s, d.id))),
                    None => {
                        let who = self.display(d);
                        self.unknown(
                            codes::UNKNOWN_SERVICEGROUP,
                            "servicegroup",
                            "servicegroup_name",
                            src,
                            g,
                            who,
                            ObjectKind::Servicegroup,
                        );
                    }
                }
            }
        }
        self.model.host_escalations = hosts_esc.into_iter().collect();
        self.model.service_escalations = svc_esc.into_iter().collect();
    }

    /// Every attribute that names another object must name one that exists (the values are
    /// those [`reference_checks`] gathered).
    pub(super) fn references(&mut self, groups: Vec<Check>) {
        use ObjectKind as K;
        for g in groups {
            let (kind, what, code) = g.target;
            let a = &g.value;
            let names: Vec<(String, Src)> = match g.attr {
                "check_command" | "event_handler" => {
                    let name = a.raw.split('!').next().unwrap_or("").trim();
                    if self.sem.ghost_commands && GHOST_COMMANDS.contains(&name) {
                        continue;
                    }
                    vec![(
                        name.to_string(),
                        Src {
                            sources: self.sources,
                            attr: a,
                            entry: name,
                        },
                    )]
                }
                _ => match &a.value {
                    // A notification command may carry arguments (`notify-by-x!arg`): the
                    // command is the part before the first `!`, as every engine reads it.
                    Value::List(_) if kind == K::Command => entries(self.sources, a)
                        .map(|(n, s)| (n.split('!').next().unwrap_or("").trim().to_string(), s))
                        .collect(),
                    Value::List(_) => entries(self.sources, a)
                        .map(|(n, s)| (n.to_string(), s))
                        .collect(),
                    _ => vec![(
                        a.raw.trim().to_string(),
                        Src {
                            sources: self.sources,
                            attr: a,
                            entry: a.raw.trim(),
                        },
                    )],
                },
            };
            for (name, src) in names {
                if name.is_empty() || self.exists(kind, &name) {
                    continue;
                }
                // Without any realm definition, Shinken's and Alignak's implicit default realm
                // names are accepted.
                if kind == K::Realm
                    && self.names_of(K::Realm).is_empty()
                    && matches!(name.as_str(), "All" | "Default")
                {
                    continue;
                }
                let extra = g.count.saturating_sub(g.users.len());
                for who in &g.users {
                    let who = match who {
                        Who::Named(n) => n.clone(),
                        Who::Service(i) => {
                            let s = &self.model.services[*i as usize];
                            let host = &self.model.host_names[s.host as usize];
                            format!("service {host}/{}", s.description)
                        }
                    };
                    self.unknown(code, what, g.attr, src, &name, who, kind);
                }
                if let Some(u) = self.unknown.get_mut(&(
                    narrow(self.sources, src.get().value_span, &name),
                    name.clone(),
                )) {
                    u.count += extra;
                }
            }
        }
        // The main configuration's global event handlers (Nagios and Alignak refuse an
        // undefined one; the ocsp/ochp and perfdata commands are not checked by Alignak).
        for key in ["global_host_event_handler", "global_service_event_handler"] {
            let Some(p) = self.ir.main.params.iter().rev().find(|p| p.key == key) else {
                continue;
            };
            let name = p.value.split('!').next().unwrap_or("").trim();
            if name.is_empty() || self.exists(K::Command, name) {
                continue;
            }
            let src = Source {
                object: usize::MAX,
                key_span: p.span,
                value_span: p.span,
            };
            let name = name.to_string();
            self.unknown(
                codes::UNKNOWN_COMMAND,
                "command",
                key,
                &src,
                &name,
                "the main configuration".into(),
                K::Command,
            );
        }
    }
}

/// Who has a checked value, named when the value is reported.
pub(super) enum Who {
    Named(String),
    Service(ServiceId),
}

/// Every distinct value of the attributes that name another object (a value inherited from a
/// template is one `Arc` shared by every object that uses it), with how many objects have it.
/// It reads only the resolved objects and the services, so it runs beside the passes that
/// follow `services`; [`Expander::references`] reports what names nothing.
pub(super) fn reference_checks(ir: &Ir, res: &Resolved, services: &[Service]) -> Vec<Check> {
    use ObjectKind as K;
    const COMMAND: (K, &str, Code) = (K::Command, "command", codes::UNKNOWN_COMMAND);
    const PERIOD: (K, &str, Code) = (K::Timeperiod, "timeperiod", codes::UNKNOWN_TIMEPERIOD);
    const CONTACT: (K, &str, Code) = (K::Contact, "contact", codes::UNKNOWN_CONTACT);
    const CGROUP: (K, &str, Code) = (K::Contactgroup, "contactgroup", codes::UNKNOWN_CONTACTGROUP);
    const ESC: (K, &str, Code) = (K::Escalation, "escalation", codes::UNKNOWN_ESCALATION);
    const REALM: (K, &str, Code) = (K::Realm, "realm", codes::UNKNOWN_REALM);
    const NWAY: (K, &str, Code) = (
        K::Notificationway,
        "notificationway",
        codes::UNKNOWN_NOTIFICATIONWAY,
    );
    const MODULE: (K, &str, Code) = (K::Module, "module", codes::UNKNOWN_MODULE);
    let common: &[(&str, (K, &str, Code))] = &[
        ("check_command", COMMAND),
        ("event_handler", COMMAND),
        ("check_period", PERIOD),
        ("notification_period", PERIOD),
        ("maintenance_period", PERIOD),
        ("contacts", CONTACT),
        ("contact_groups", CGROUP),
        ("escalations", ESC),
    ];
    let per_kind = |kind: K| -> Vec<(&'static str, (K, &'static str, Code))> {
        match kind {
            K::Host => [common, &[("realm", REALM)]].concat(),
            K::Service => common.to_vec(),
            K::Contact | K::Notificationway => vec![
                ("host_notification_commands", COMMAND),
                ("service_notification_commands", COMMAND),
                ("host_notification_period", PERIOD),
                ("service_notification_period", PERIOD),
                ("notificationways", NWAY),
            ],
            K::Hostgroup => vec![("realm", REALM)],
            K::Timeperiod => vec![("exclude", PERIOD)],
            K::Hostescalation | K::Serviceescalation | K::Escalation => {
                vec![
                    ("contacts", CONTACT),
                    ("contact_groups", CGROUP),
                    ("escalation_period", PERIOD),
                ]
            }
            K::Hostdependency | K::Servicedependency => vec![("dependency_period", PERIOD)],
            K::Realm => vec![("realm_members", REALM), ("higher_realms", REALM)],
            K::Scheduler | K::Poller | K::Reactionner | K::Broker | K::Receiver | K::Arbiter => {
                vec![("realm", REALM), ("modules", MODULE)]
            }
            _ => Vec::new(),
        }
    };
    // A value inherited from a template is one `Arc` shared by every object that uses
    // it: check each distinct value once, remembering how many objects it affects.
    let mut groups: Vec<Check> = Vec::new();
    let mut index: HashMap<(usize, &'static str), usize> = HashMap::new();
    let mut add = |a: &Arc<RAttr>, attr: &'static str, target, who: &dyn Fn() -> Who, n: usize| {
        let key = (Arc::as_ptr(a) as usize, attr);
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Check {
                attr,
                value: a.clone(),
                target,
                count: 0,
                users: Vec::new(),
            });
            groups.len() - 1
        });
        let g = &mut groups[i];
        g.count += n;
        if g.users.len() < 5 {
            g.users.push(who());
        }
    };
    let mut kinds: HashMap<K, Vec<(&'static str, Target)>> = HashMap::new();
    for o in res.objects.iter().filter(|o| o.register) {
        if o.kind == K::Service {
            continue; // checked per service definition below
        }
        for &(attr, target) in kinds
            .entry(o.kind)
            .or_insert_with(|| per_kind(o.kind))
            .iter()
        {
            if let Some(a) = o.get_shared(attr) {
                add(
                    a,
                    attr,
                    target,
                    &|| Who::Named(ir.objects[o.id].display_name()),
                    1,
                );
            }
        }
    }
    // Services: once per definition that made services (values a service takes from its
    // host are checked on the host), and per service for its own overrides.
    let service_kind = per_kind(K::Service);
    let mut used_defs: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, s) in services.iter().enumerate() {
        *used_defs.entry(s.def).or_default() += 1;
        for (attr, target) in &service_kind {
            if let Some(a) = s.overrides.get(*attr) {
                let who = || Who::Service(i as ServiceId);
                add(&Arc::new(a.clone()), attr, *target, &who, 1);
            }
        }
    }
    for (def, n) in used_defs {
        let o = &res.objects[def];
        let foreach = o.get("duplicate_foreach").is_some();
        for (attr, target) in &service_kind {
            if let Some(a) = o.get_shared(attr) {
                // `check_disk_$KEY$` names a command only once each generated service has
                // its key: those values are checked per service, as overrides.
                if foreach && (a.raw.contains("$KEY$") || a.raw.contains("$VALUE")) {
                    continue;
                }
                let who = || {
                    Who::Named(format!(
                        "{} ({n} service{})",
                        ir.objects[o.id].display_name(),
                        if n == 1 { "" } else { "s" }
                    ))
                };
                add(a, attr, *target, &who, n);
            }
        }
    }
    groups
}
