//! Services over the hosts they select (host lists, hostgroup expressions, host templates,
//! `duplicate_foreach`, exclusions) and the hosts' `service_overrides`.

use super::*;

impl<'a> Expander<'a> {
    pub(super) fn services(&mut self) {
        let deny_empty = self.sem.empty_hostgroup_key
            && self
                .ir
                .main
                .get("allow_empty_hostgroup_assignment")
                .is_some_and(|v| v.trim() == "0");
        let mut per_host: Vec<Vec<Service>> = vec![Vec::new(); self.model.hosts.len()];
        self.filters = self
            .model
            .hosts
            .iter()
            .map(|&i| {
                let h = &self.res.objects[i];
                h.get("service_excludes").is_some() || h.get("service_includes").is_some()
            })
            .collect();
        let mut defs: Vec<&'a ResolvedObject> = self.res.of_kind(ObjectKind::Service).collect();
        // Services on host templates: service templates whose host_name names host templates.
        // Nagios has none: such a template is only a template (E1).
        let templated: Vec<&'a ResolvedObject> = self
            .res
            .templates_of_kind(ObjectKind::Service)
            .filter(|t| self.sem.services_on_host_templates && t.get("host_name").is_some())
            .collect();
        defs.sort_by_key(|d| d.id);
        for def in defs {
            let (hosts, errors) = self.select(def, "host_name", "hostgroup_name");
            if hosts.is_empty() && !errors {
                let (code, verdict) = if deny_empty {
                    (
                        codes::SERVICE_WITHOUT_HOSTS_DENIED,
                        "allow_empty_hostgroup_assignment=0 makes this an error",
                    )
                } else {
                    (codes::SERVICE_WITHOUT_HOSTS, "it is not created")
                };
                let o = &self.ir.objects[def.id];
                let at = def
                    .get("hostgroup_name")
                    .or(def.get("host_name"))
                    .map(|a| a.sources[0].value_span)
                    .unwrap_or(o.header);
                self.diags.push(
                    Diagnostic::new(
                        code,
                        format!(
                            "service `{}` applies to no host; {verdict}",
                            def.get_str("service_description").unwrap_or("?")
                        ),
                    )
                    .at(at)
                    .label("selects no host")
                    .help("add hosts to the groups it names, or remove the service"),
                );
            }
            self.add_services(def, hosts, false, &mut per_host);
        }
        if !templated.is_empty() {
            // Which hosts inherit each host template, computed once.
            let mut by_template: HashMap<&str, BTreeSet<HostId>> = HashMap::new();
            for (h, &idx) in self.model.hosts.iter().enumerate() {
                for t in self.res.objects[idx].templates.iter() {
                    by_template
                        .entry(t.as_str())
                        .or_default()
                        .insert(h as HostId);
                }
            }
            for t in templated {
                let a = t.get("host_name").unwrap();
                let Ok(expr) = hostexpr::parse(&a.raw) else {
                    continue;
                };
                let hosts = expr.eval(&self.all, &|name| {
                    by_template.get(name).cloned().unwrap_or_default()
                });
                self.add_services(t, hosts, true, &mut per_host);
            }
        }
        // Hosts are in name order already; services of a host in description order.
        let mut services = Vec::with_capacity(per_host.iter().map(Vec::len).sum());
        let mut ranges = Vec::with_capacity(per_host.len());
        for mut list in per_host {
            list.sort_by(|a, b| a.description.cmp(&b.description));
            let start = services.len() as ServiceId;
            services.extend(list);
            ranges.push(start..services.len() as ServiceId);
        }
        self.model.services = Arc::new(services);
        self.model.host_services = ranges;
        self.apply_overrides();
    }

    pub(super) fn add_services(
        &mut self,
        def: &ResolvedObject,
        hosts: BTreeSet<HostId>,
        from_template: bool,
        per_host: &mut [Vec<Service>],
    ) {
        let Some(desc) = def.get_str("service_description") else {
            return;
        };
        let foreach = def.get_str("duplicate_foreach");
        if foreach.is_some() && !from_template && self.sem.foreach_single_host {
            // Shinken 2.4 expands `duplicate_foreach` before it splits `host_name` and
            // `hostgroup_name` (`Services.explode`): it looks the whole `host_name` up as one
            // host, and a service selected by groups keeps its `$KEY$` description.
            let single = def.get("hostgroup_name").is_none()
                && def
                    .get_str("host_name")
                    .is_some_and(|h| !h.contains([',', '*', '!', '&', '|', '(']));
            if !single {
                let at = def
                    .get("host_name")
                    .or_else(|| def.get("hostgroup_name"))
                    .map(|a| a.sources[0].value_span)
                    .unwrap_or(self.ir.objects[def.id].header);
                self.diags.push(
                    Diagnostic::new(
                        codes::INVALID_FOREACH,
                        format!("service `{desc}` has `duplicate_foreach` and does not name one host"),
                    )
                    .at(at)
                    .label(format!("{} expands `duplicate_foreach` for one `host_name` only", self.sem.engine.title()))
                    .help("write one service definition per host, or define the service on a host template (`host_name` naming the template)")
                    .note("Shinken looks `a,b` up as one host (\"The hostname a,b is unknown\"); with `hostgroup_name` the service keeps its `$KEY$` description, which Shinken refuses"),
                );
                return;
            }
        }
        if self.sem.explicit_services_first
            && def.get("hostgroup_name").is_some()
            && hosts.len() > 1
        {
            self.from_hostgroups.insert(def.id);
        }
        let shared: Arc<str> = Arc::from(desc);
        for h in hosts {
            let host = self.model.host(self.res, h);
            let generated: Vec<(Arc<str>, BTreeMap<String, RAttr>)> = match foreach {
                Some(var) => self.foreach(def, host, var, desc),
                None => vec![(shared.clone(), BTreeMap::new())],
            };
            let filters = self.filters[h as usize];
            for (description, overrides) in generated {
                if filters && excluded(host, &description, self.sem.exclude_patterns) {
                    continue;
                }
                let list = &mut per_host[h as usize];
                let svc = Service {
                    host: h,
                    description,
                    def: def.id,
                    from_host_template: from_template,
                    overrides,
                };
                let Some(pos) = list.iter().position(|s| s.description == svc.description) else {
                    list.push(svc);
                    continue;
                };
                let prev = &list[pos];
                // A service defined for the host beats one from a host template.
                if prev.from_host_template != from_template {
                    if prev.from_host_template {
                        list[pos] = svc;
                    }
                    continue;
                }
                let p = &self.res.objects[prev.def];
                // E4: Nagios keeps a copy made from `host_name` over one made from a hostgroup
                // of several hosts, whatever their order.
                let grouped = |d: usize| self.from_hostgroups.contains(&d);
                let keep_prev = match (grouped(prev.def), grouped(def.id)) {
                    (false, true) => true,
                    (true, false) => false,
                    _ => order_of(p) < order_of(def),
                };
                if prev.def != def.id {
                    let host_name = &self.model.host_names[h as usize];
                    self.diags.push(
                        Diagnostic::new(
                            codes::DUPLICATE_DEFINITION,
                            format!(
                                "service `{}` of host `{host_name}` is defined twice; {}",
                                svc.description,
                                if keep_prev && grouped(def.id) && !grouped(prev.def) {
                                    "the one made from `host_name` is kept (Nagios 4 prefers it to a hostgroup's)"
                                } else if keep_prev {
                                    "the first one is kept (lower definition_order)"
                                } else {
                                    "this one, defined last, is kept"
                                }
                            ),
                        )
                        .at(self.ir.objects[def.id].header)
                        .label("defined again here")
                        .secondary(self.ir.objects[p.id].header, "first defined here")
                        .help("remove one definition, or set `definition_order` on the one that must win"),
                    );
                }
                if !keep_prev {
                    list[pos] = svc;
                }
            }
        }
    }

    /// `duplicate_foreach _VAR`: one service per entry of the host's `_VAR`.
    pub(super) fn foreach(
        &mut self,
        def: &ResolvedObject,
        host: &ResolvedObject,
        var: &str,
        desc: &str,
    ) -> Vec<(Arc<str>, BTreeMap<String, RAttr>)> {
        let var = var.trim().to_ascii_uppercase();
        let Some(list) = host.custom(&var) else {
            return Vec::new();
        };
        let excluded: BTreeSet<String> = host
            .custom(&format!("_!{}", &var[1..]))
            .map(|a| {
                foreach_entries(&a.raw)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        let default = def.get_str("default_value");
        let mut out = Vec::new();
        for (key, values) in foreach_entries(&list.raw) {
            if excluded.contains(&key) {
                continue;
            }
            if key.contains('$') {
                self.diags.push(
                    Diagnostic::new(codes::INVALID_FOREACH, format!("`{key}` in `{var}` of host `{}` cannot name a service: it contains `$`", host.name().unwrap_or("?")))
                        .at(list.sources[0].value_span)
                        .label("entry with `$`")
                        .help("entries are written KEY or KEY$(VALUE)$; remove the `$` from the key"),
                );
                continue;
            }
            let uses_value = [
                "service_description",
                "check_command",
                "display_name",
                "event_handler",
                "aggregation",
                "service_dependencies",
            ]
            .iter()
            .filter_map(|k| def.get_str(k))
            .chain(std::iter::once(desc))
            .any(|v| v.contains("$VALUE"));
            if values.is_empty() && uses_value && default.is_none() {
                self.diags.push(
                    Diagnostic::new(codes::INVALID_FOREACH, format!("`{key}` in `{var}` of host `{}` has no value and service `{desc}` has no `default_value`", host.name().unwrap_or("?")))
                        .at(list.sources[0].value_span)
                        .label("entry without value")
                        .secondary(self.ir.objects[def.id].header, "the service that needs $VALUE$")
                        .help("write the entry KEY$(VALUE)$, or give the service a `default_value`"),
                );
                continue;
            }
            // An entry without values takes default_value as its one value; $VALUEn$ beyond
            // the values given is empty.
            let values: Vec<&str> = if values.is_empty() {
                default.into_iter().collect()
            } else {
                values.iter().map(String::as_str).collect()
            };
            let subst = |text: &str| -> String {
                let mut t = text.replace("$KEY$", &key);
                if !t.contains("$VALUE") {
                    return t;
                }
                for n in (1..=9).rev() {
                    t = t.replace(
                        &format!("$VALUE{n}$"),
                        values.get(n - 1).copied().unwrap_or(""),
                    );
                }
                t.replace("$VALUE$", values.first().copied().unwrap_or(""))
            };
            let safe_key: String = key
                .chars()
                .map(|c| {
                    if self.ir.main.illegal_object_name_chars().contains(c) {
                        '_'
                    } else {
                        c
                    }
                })
                .collect();
            let description = desc.replace("$KEY$", &safe_key);
            let description = subst(&description);
            let mut overrides = BTreeMap::new();
            for k in [
                "check_command",
                "display_name",
                "event_handler",
                "aggregation",
                "service_dependencies",
            ] {
                if let Some(a) = def.get(k) {
                    let raw = subst(&a.raw);
                    if raw != a.raw {
                        let value = match &a.value {
                            Value::List(_) => Value::List(crate::lower::split_list(&raw)),
                            _ => Value::Str,
                        };
                        overrides.insert(
                            k.to_string(),
                            RAttr {
                                value,
                                raw,
                                sources: a.sources.clone(),
                            },
                        );
                    }
                }
            }
            let d = def.get("service_description").unwrap();
            overrides.insert(
                "service_description".into(),
                RAttr {
                    value: Value::Str,
                    raw: description.clone(),
                    sources: d.sources.clone(),
                },
            );
            out.push((description.into(), overrides));
        }
        out
    }

    /// Hosts' `service_overrides`: `description,attribute value` (description may be `*` or
    /// `r:regex`).
    pub(super) fn apply_overrides(&mut self) {
        const FORBIDDEN: &[&str] = &[
            "host_name",
            "service_description",
            "use",
            "servicegroups",
            "trigger",
            "trigger_name",
        ];
        for h in 0..self.model.hosts.len() {
            let host = &self.res.objects[self.model.hosts[h]];
            let Some(a) = host.get("service_overrides") else {
                continue;
            };
            let items = a.as_list().to_vec();
            let src = a.sources[0].clone();
            // One entry per `service_overrides` line: the service before the first comma,
            // then the attribute and its value (which may hold commas: `c,r`).
            for entry in &items {
                let at = within(self.sources, src.value_span, entry);
                let Some((pattern, setting)) = entry.split_once(',') else {
                    self.diags.push(
                        Diagnostic::new(
                            codes::INVALID_OVERRIDE,
                            format!("`service_overrides` entry `{entry}` has no attribute"),
                        )
                        .at(at)
                        .label("expected `description,attribute value`")
                        .help("write `service_overrides SERVICE,attribute value`"),
                    );
                    continue;
                };
                let pattern = pattern.trim();
                let Some((attr, value)) = setting.trim().split_once(char::is_whitespace) else {
                    self.diags.push(
                        Diagnostic::new(
                            codes::INVALID_OVERRIDE,
                            format!("`service_overrides` entry `{pattern},{setting}` has no value"),
                        )
                        .at(at)
                        .label("expected `description,attribute value`")
                        .help("write `service_overrides SERVICE,attribute value`"),
                    );
                    continue;
                };
                if FORBIDDEN.contains(&attr) {
                    self.diags.push(
                        Diagnostic::new(
                            codes::INVALID_OVERRIDE,
                            format!("`{attr}` cannot be overridden per host"),
                        )
                        .at(narrow(self.sources, at, attr))
                        .label("forbidden in service_overrides")
                        .help(format!(
                            "{} cannot be overridden; define a separate service instead",
                            FORBIDDEN.join(", ")
                        )),
                    );
                    continue;
                }
                let matcher = Pattern::new(pattern);
                let mut matched = false;
                let range = self.model.services_of(h as HostId);
                let services = Arc::get_mut(&mut self.model.services)
                    .expect("the services are not shared before they are complete");
                for s in &mut services[range.start as usize..range.end as usize] {
                    if matcher.matches(&s.description) {
                        matched = true;
                        let v = value.trim().to_string();
                        s.overrides.insert(
                            attr.to_string(),
                            RAttr {
                                value: Value::Str,
                                raw: v,
                                sources: vec![src.clone()],
                            },
                        );
                    }
                }
                if !matched {
                    let user = format!("host {}", self.model.host_names[h]);
                    let range = self.model.services_of(h as HostId);
                    let candidates: Vec<String> = self.model.services
                        [range.start as usize..range.end as usize]
                        .iter()
                        .map(|s| s.description.to_string())
                        .collect();
                    self.unknown(
                        codes::UNKNOWN_SERVICE,
                        "service",
                        "service_overrides",
                        &src,
                        pattern,
                        user,
                        candidates,
                    );
                }
            }
        }
    }

    /// The services that set `key` themselves (through their definition or an override);
    /// looked up once per definition, not once per service.
    pub(super) fn services_with(&self, key: &str) -> Vec<usize> {
        let mut has: Vec<Option<bool>> = vec![None; self.res.objects.len()];
        (0..self.model.services.len())
            .filter(|&i| {
                let s = &self.model.services[i];
                s.overrides.contains_key(key)
                    || *has[s.def].get_or_insert_with(|| self.res.objects[s.def].get(key).is_some())
            })
            .collect()
    }
}
