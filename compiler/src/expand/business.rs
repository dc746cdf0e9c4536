//! Business rules (`bp_rule!…`) and triggers: their operands looked up, and the hosts a
//! rule reads recorded for placement.

use super::*;

/// Whether a check command is a business rule.
fn is_business_rule(command: &str) -> bool {
    command.trim_start().starts_with("bp_rule!")
}

/// A business rule's operand, evaluated.
enum Selected {
    Hosts(Vec<HostId>),
    Services(Vec<ServiceId>),
}

impl<'a> Expander<'a> {
    /// Business rules (`bp_rule!…` check commands of hosts and services): every operand must
    /// name something that exists (hosts E0050, services E0057, groups E0051/E0058) and every
    /// pattern must match something (E0071), as Alignak requires; the hosts a rule reads are
    /// kept for placement (they go in one pack).
    pub(super) fn business_rules(&mut self) {
        let mut ties: BTreeMap<HostId, BTreeSet<HostId>> = BTreeMap::new();
        let mut reported: BTreeSet<(Span, String)> = BTreeSet::new();
        let mut rules: Vec<(HostId, Arc<RAttr>, String)> = Vec::new();
        for h in 0..self.model.hosts.len() {
            let host = self.model.host(self.res, h as HostId);
            if let Some(a) = host.get_shared("check_command") {
                if is_business_rule(&a.raw) {
                    rules.push((
                        h as HostId,
                        a.clone(),
                        format!("host {}", self.model.host_names[h]),
                    ));
                }
            }
        }
        let mut is_bp: Vec<Option<bool>> = vec![None; self.res.objects.len()];
        for s in self.model.services.iter() {
            let own = s.overrides.get("check_command");
            let bp = own.is_some_and(|a| is_business_rule(&a.raw))
                || (own.is_none()
                    && *is_bp[s.def].get_or_insert_with(|| {
                        self.res.objects[s.def]
                            .get_str("check_command")
                            .is_some_and(|c| is_business_rule(c))
                    }));
            if !bp {
                continue;
            }
            let a = match own {
                Some(a) => Arc::new(a.clone()),
                None => match self.res.objects[s.def].get_shared("check_command") {
                    Some(a) => a.clone(),
                    None => continue,
                },
            };
            let who = format!(
                "service {}/{}",
                self.model.host_names[s.host as usize], s.description
            );
            rules.push((s.host, a, who));
        }
        if rules.is_empty() {
            return;
        }
        let mut found: HashMap<String, Arc<Vec<HostId>>> = HashMap::new();
        let mut seen: HashSet<(HostId, String, Span)> = HashSet::new();
        for (i, o) in self.ir.objects.iter().enumerate() {
            if let Some(n) = o.template_name() {
                self.templates.entry((o.kind, n.to_string())).or_insert(i);
            }
        }
        for (owner, attr, who) in rules {
            let Some(rule) = attr.raw.trim().strip_prefix("bp_rule!") else {
                continue;
            };
            let src = attr.sources[0].clone();
            let operands = match crate::bprule::parse(rule) {
                Ok(ops) => ops,
                Err(e) => {
                    let span = within(self.sources, src.value_span, e.at);
                    if reported.insert((span, e.message.clone())) {
                        self.diags.push(
                            Diagnostic::new(
                                codes::INVALID_BUSINESS_RULE,
                                format!("business rule of {who}: {}", e.message),
                            )
                            .at(span)
                            .label("cannot be read")
                            .help("write e.g. `bp_rule!(web1,HTTP | web2,HTTP) & db1,MySQL` or `bp_rule!2 of: g:web,HTTP`"),
                        );
                    }
                    continue;
                }
            };
            for op in operands {
                if crate::bprule::has_macro(op.text) {
                    continue; // macros are resolved at run time
                }
                let at = Source {
                    object: src.object,
                    key_span: src.key_span,
                    value_span: within(self.sources, src.value_span, op.text),
                };
                // The same operand at the same place for the same host: done already.
                if !seen.insert((owner, op.text.to_string(), at.value_span)) {
                    continue;
                }
                // What an operand with a host part selects is the same for every rule that
                // names it (found once; a mistake is looked up again so each place reports it).
                let memo = !op.host.is_empty();
                let hosts: Arc<Vec<HostId>> = match found.get(op.text).filter(|_| memo) {
                    Some(h) => h.clone(),
                    None => {
                        let selected = self.operand(owner, &op, &at, &who, &mut reported);
                        let mut hosts: Vec<HostId> = match selected {
                            Some(Selected::Hosts(h)) => h,
                            Some(Selected::Services(s)) => s
                                .iter()
                                .map(|&s| self.model.services[s as usize].host)
                                .collect(),
                            None => continue,
                        };
                        hosts.dedup();
                        let hosts = Arc::new(hosts);
                        if memo {
                            found.insert(op.text.to_string(), hosts.clone());
                        }
                        hosts
                    }
                };
                ties.entry(owner)
                    .or_default()
                    .extend(hosts.iter().copied().filter(|&h| h != owner));
            }
        }
        self.model.business_rules = ties
            .into_iter()
            .map(|(h, set)| (h, set.into_iter().collect()))
            .collect();
    }

    /// `trigger_name` on hosts and services names a `NAME.trig` file below the main
    /// configuration's `triggers_dir` (searched recursively, as Shinken loads them).
    pub(super) fn triggers(&mut self) {
        let mut users: Vec<(Arc<RAttr>, String)> = Vec::new();
        for h in 0..self.model.hosts.len() {
            if let Some(a) = self
                .model
                .host(self.res, h as HostId)
                .get_shared("trigger_name")
            {
                users.push((a.clone(), format!("host {}", self.model.host_names[h])));
            }
        }
        // Per service definition, not per service.
        let mut done = vec![false; self.res.objects.len()];
        for s in self.model.services.iter() {
            if std::mem::replace(&mut done[s.def], true) {
                continue;
            }
            let o = &self.res.objects[s.def];
            if let Some(a) = o.get_shared("trigger_name") {
                users.push((a.clone(), self.display(o)));
            }
        }
        if users.is_empty() {
            return;
        }
        let mut known: BTreeSet<String> = BTreeSet::new();
        if let Some(p) = self
            .ir
            .main
            .params
            .iter()
            .rev()
            .find(|p| p.key == "triggers_dir")
        {
            let base = self
                .sources
                .path(p.span.file)
                .parent()
                .map(Path::to_path_buf);
            let dir = base.unwrap_or_default().join(p.value.trim());
            // Links are followed, each folder read once (by its canonical path): a link back
            // to an ancestor is not a loop to walk (#13).
            let mut seen: HashSet<std::path::PathBuf> = HashSet::new();
            let mut stack = vec![dir];
            while let Some(d) = stack.pop() {
                if !std::fs::canonicalize(&d).is_ok_and(|c| seen.insert(c)) {
                    continue;
                }
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    let path = e.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|x| x == "trig") {
                        if let Some(stem) = path.file_stem() {
                            known.insert(stem.to_string_lossy().into_owned());
                        }
                    }
                }
            }
        }
        let candidates: Vec<String> = known.iter().cloned().collect();
        for (a, who) in users {
            for (name, src) in entries(self.sources, &a) {
                if !name.is_empty() && !known.contains(name) {
                    let name = name.to_string();
                    let src = src.get().clone();
                    self.unknown(
                        codes::UNKNOWN_TRIGGER,
                        "trigger",
                        "trigger_name",
                        &src,
                        &name,
                        who.clone(),
                        candidates.clone(),
                    );
                }
            }
        }
    }

    /// Whether `o` carries the tag `t` of a `t:` pattern: the name of a template it uses,
    /// directly or not, defined or not (Shinken and Alignak use undefined template names in
    /// `use` as plain tags).
    fn tagged(&self, o: &ResolvedObject, t: &str) -> bool {
        o.templates.iter().any(|x| x == t)
            || self.ir.objects[o.id].uses().iter().any(|x| x == t)
            || o.templates.iter().any(|name| {
                self.templates
                    .get(&(o.kind, name.clone()))
                    .is_some_and(|&i| self.ir.objects[i].uses().iter().any(|u| u == t))
            })
    }

    /// What one operand selects; `None` (with a diagnostic) when it names nothing.
    fn operand(
        &mut self,
        owner: HostId,
        op: &crate::bprule::Operand,
        at: &Source,
        who: &str,
        reported: &mut BTreeSet<(Span, String)>,
    ) -> Option<Selected> {
        let empty = |x: &mut Self, reported: &mut BTreeSet<(Span, String)>, why: String| {
            if reported.insert((at.value_span, why.clone())) {
                x.diags.push(
                    Diagnostic::new(
                        codes::INVALID_BUSINESS_RULE,
                        format!("business rule of {who}: `{}` {why}", op.text),
                    )
                    .at(at.value_span)
                    .label(why.clone())
                    .help("a business rule must read existing hosts and services; fix the name or pattern"),
                );
            }
        };
        let regex = |x: &mut Self, reported: &mut BTreeSet<(Span, String)>, re: &str| {
            let compiled = x
                .regexes
                .entry(re.to_string())
                .or_insert_with(|| {
                    regex::Regex::new(re).map(Arc::new).map_err(|e| {
                        let e = e.to_string();
                        e.lines().last().unwrap_or("").trim().to_string()
                    })
                })
                .clone();
            match compiled {
                Ok(r) => Some(r),
                Err(e) => {
                    empty(x, reported, format!("is not a valid regex ({e})"));
                    None
                }
            }
        };
        let expression = |p: &str| p == "*" || p.get(1..2) == Some(":") && "grtl".contains(&p[..1]);
        // The hosts.
        let host_part = op.host;
        let hosts: Vec<HostId> = if host_part.is_empty() {
            vec![owner]
        } else if host_part == "*" {
            (0..self.model.hosts.len() as HostId).collect()
        } else if let Some(g) = host_part.strip_prefix("g:") {
            match self.model.hostgroups.get(g) {
                Some(m) => m.iter().copied().collect(),
                None => {
                    self.unknown(
                        codes::UNKNOWN_HOSTGROUP,
                        "hostgroup",
                        "check_command",
                        at,
                        g,
                        who.to_string(),
                        ObjectKind::Hostgroup,
                    );
                    return None;
                }
            }
        } else if let Some(re) = host_part.strip_prefix("r:") {
            let r = regex(self, reported, re)?;
            (0..self.model.hosts.len())
                .filter(|&h| r.is_match(&self.model.host_names[h]))
                .map(|h| h as HostId)
                .collect()
        } else if let Some(t) = host_part.strip_prefix("t:") {
            (0..self.model.hosts.len() as HostId)
                .filter(|&h| self.tagged(self.model.host(self.res, h), t))
                .collect()
        } else if let Some(l) = host_part.strip_prefix("l:") {
            (0..self.model.hosts.len() as HostId)
                .filter(|&h| {
                    self.model
                        .host(self.res, h)
                        .list("labels")
                        .iter()
                        .any(|x| x == l)
                })
                .collect()
        } else {
            match self.model.host_by_name.get(host_part) {
                Some(&h) => vec![h],
                None => {
                    self.unknown(
                        codes::UNKNOWN_HOST,
                        "host",
                        "check_command",
                        at,
                        host_part,
                        who.to_string(),
                        ObjectKind::Host,
                    );
                    return None;
                }
            }
        };
        if hosts.is_empty() {
            empty(self, reported, "matches no host".into());
            return None;
        }
        let Some(service_part) = op.service else {
            return Some(Selected::Hosts(hosts));
        };
        if !expression(host_part) && !expression(service_part) {
            return self
                .lookup_service_for(hosts[0], service_part, "check_command", Some(at), who)
                .map(|s| Selected::Services(vec![s]));
        }
        // The services of those hosts that the service part selects.
        if let Some(g) = service_part.strip_prefix("g:") {
            if !self.model.servicegroups.contains_key(g) {
                self.unknown(
                    codes::UNKNOWN_SERVICEGROUP,
                    "servicegroup",
                    "check_command",
                    at,
                    g,
                    who.to_string(),
                    ObjectKind::Servicegroup,
                );
                return None;
            }
        }
        let re = match service_part.strip_prefix("r:") {
            Some(re) => Some(regex(self, reported, re)?),
            None => None,
        };
        let in_group = service_part
            .strip_prefix("g:")
            .map(|g| &self.model.servicegroups[g]);
        let mut found = Vec::new();
        for &h in &hosts {
            for s in self.model.services_of(h) {
                let svc = &self.model.services[s as usize];
                let ok = if service_part == "*" {
                    true
                } else if let Some(g) = in_group {
                    g.contains(&s)
                } else if let Some(r) = &re {
                    r.is_match(&svc.description)
                } else if let Some(t) = service_part.strip_prefix("t:") {
                    self.tagged(&self.res.objects[svc.def], t)
                } else if let Some(l) = service_part.strip_prefix("l:") {
                    self.model
                        .service_attr(self.res, svc, "labels")
                        .is_some_and(|a| a.as_list().iter().any(|x| x == l))
                } else {
                    *svc.description == *service_part
                };
                if ok {
                    found.push(s);
                }
            }
        }
        if found.is_empty() {
            empty(self, reported, "matches no service".into());
            return None;
        }
        Some(Selected::Services(found))
    }
}
