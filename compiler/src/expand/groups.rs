//! Group membership: host, service and contact groups from both sides (the group's
//! `members`, the member's `*groups`), nested groups closed over, and their loops.

use super::*;

impl<'a> Expander<'a> {
    pub(super) fn hostgroups(&mut self) {
        let groups = self
            .model
            .named
            .get(&ObjectKind::Hostgroup)
            .cloned()
            .unwrap_or_default();
        let all = self.all_hosts();
        let host_names = self.model.host_names.clone();
        let mut direct: BTreeMap<String, BTreeSet<HostId>> = groups
            .keys()
            .map(|g| (g.clone(), BTreeSet::new()))
            .collect();
        let mut nested: BTreeMap<String, Vec<(String, Source)>> = BTreeMap::new();
        for (g, &idx) in &groups {
            let o = &self.res.objects[idx];
            if let Some(a) = o.get("members") {
                // Nagios rejects `!host` members from the whole list (B5); Shinken and
                // Alignak read `!host` as a host name.
                let mut rejected = Vec::new();
                for (m, src) in entries(self.sources, a) {
                    let rejection = match m.strip_prefix('!') {
                        Some(r) if self.sem.selection == Selection::Lists => Some(r.trim()),
                        _ => None,
                    };
                    if let Some(r) = rejection.and_then(|r| self.model.host_by_name.get(r)) {
                        rejected.push(*r);
                    } else if m == "*" {
                        direct.get_mut(g).unwrap().extend(all.iter().copied());
                    } else if let Some(&h) = self.model.host_by_name.get(m) {
                        direct.get_mut(g).unwrap().insert(h);
                    } else {
                        self.unknown(
                            codes::UNKNOWN_HOST,
                            "host",
                            "members",
                            src,
                            rejection.unwrap_or(m),
                            format!("hostgroup {g}"),
                            ObjectKind::Host,
                        );
                    }
                }
                let set = direct.get_mut(g).unwrap();
                for h in rejected {
                    set.remove(&h);
                }
            }
            if let Some(a) = o.get("hostgroup_members") {
                let list = self.nested_groups(ObjectKind::Hostgroup, g, a, &groups);
                nested.insert(g.clone(), list);
            }
        }
        let hosts = self.model.hosts.clone();
        self.implicit_groups(ObjectKind::Hostgroup, "hostgroups", &hosts, &mut direct);
        // Hosts share their `hostgroups` value with the template that sets it: its groups are
        // looked up once per value (when they all exist), and members gathered per group in
        // host order, then built in bulk.
        let names: Vec<String> = direct.keys().cloned().collect();
        let mut members: Vec<Vec<HostId>> = vec![Vec::new(); names.len()];
        let mut known: HashMap<*const RAttr, Vec<usize>> = HashMap::new();
        for h in 0..self.model.hosts.len() {
            let o = &self.res.objects[self.model.hosts[h]];
            let Some(shared) = o.get_shared("hostgroups") else {
                continue;
            };
            if let Some(gs) = known.get(&Arc::as_ptr(shared)) {
                for &gi in gs {
                    members[gi].push(h as HostId);
                }
                continue;
            }
            let a = &**shared;
            let mut gs = Vec::new();
            let mut all_known = true;
            for (g, src) in entries(self.sources, a) {
                match names.binary_search_by(|n| n.as_str().cmp(g)) {
                    Ok(gi) => {
                        members[gi].push(h as HostId);
                        gs.push(gi);
                    }
                    Err(_) => {
                        all_known = false;
                        let user = format!("host {}", host_names[h]);
                        self.unknown(
                            codes::UNKNOWN_HOSTGROUP,
                            "hostgroup",
                            "hostgroups",
                            src,
                            g,
                            user,
                            ObjectKind::Hostgroup,
                        );
                    }
                }
            }
            if all_known {
                known.insert(Arc::as_ptr(shared), gs);
            }
        }
        add_members(&mut direct, &names, members);
        self.model.hostgroups =
            self.close_groups("hostgroup", "hostgroup_members", direct, &nested);
    }

    /// The `*group_members` of group `g` that exist (with where each was named); the others
    /// are reported.
    pub(super) fn nested_groups(
        &mut self,
        kind: ObjectKind,
        g: &str,
        a: &RAttr,
        groups: &BTreeMap<String, usize>,
    ) -> Vec<(String, Source)> {
        let what = kind.keyword();
        let (code, attr) = match kind {
            ObjectKind::Hostgroup => (codes::UNKNOWN_HOSTGROUP, "hostgroup_members"),
            ObjectKind::Servicegroup => (codes::UNKNOWN_SERVICEGROUP, "servicegroup_members"),
            _ => (codes::UNKNOWN_CONTACTGROUP, "contactgroup_members"),
        };
        let mut out = Vec::new();
        for (m, src) in entries(self.sources, a) {
            if groups.contains_key(m) {
                out.push((m.to_string(), src.get().clone()));
            } else {
                self.unknown(code, what, attr, src, m, format!("{what} {g}"), kind);
            }
        }
        out
    }

    /// Adds nested groups' members to each group, reporting nesting loops with their cycle.
    pub(super) fn close_groups<T: Ord + Clone>(
        &mut self,
        what: &str,
        attr: &str,
        direct: BTreeMap<String, BTreeSet<T>>,
        nested: &BTreeMap<String, Vec<(String, Source)>>,
    ) -> BTreeMap<String, BTreeSet<T>> {
        let names: Vec<&String> = direct.keys().collect();
        let edges: BTreeMap<&str, Vec<(&str, Span)>> = nested
            .iter()
            .map(|(g, v)| {
                (
                    g.as_str(),
                    v.iter()
                        .map(|(m, s)| (m.as_str(), narrow(self.sources, s.value_span, m)))
                        .collect(),
                )
            })
            .collect();
        for cycle in cycles(names.iter().map(|s| s.as_str()), |n| {
            edges.get(n).into_iter().flatten().map(|(m, _)| *m)
        }) {
            let first_edge = edges[cycle[0]]
                .iter()
                .find(|(m, _)| *m == cycle[1])
                .map(|(_, s)| *s)
                .unwrap();
            let chain: Vec<String> = cycle.iter().map(|c| format!("`{c}`")).collect();
            let mut d = Diagnostic::new(
                codes::GROUP_LOOP,
                format!(
                    "{what}s contain each other in a loop: {}",
                    crate::expand::join_cycle(&chain, " -> ")
                ),
            )
            .at(first_edge)
            .label(format!("`{}` includes `{}` here", cycle[0], cycle[1]));
            for w in cycle.windows(2).skip(1).take(8) {
                if let Some((_, s)) = edges[w[0]].iter().find(|(m, _)| *m == w[1]) {
                    d = d.secondary(*s, format!("`{}` includes `{}`", w[0], w[1]));
                }
            }
            self.diags.push(d.help(format!(
                "remove one `{attr}` entry of the loop; nesting must go one way"
            )));
        }
        // Closed once over the condensation (strongly connected components, leaves first):
        // a group's members are its own, its component's and those of the components it
        // reaches, each component's set computed once. Linear in the nesting for a chain.
        let names: Vec<String> = direct.keys().cloned().collect();
        let index = |n: &str| names.binary_search_by(|x| x.as_str().cmp(n)).ok();
        let mut graph: petgraph::Graph<(), (), petgraph::Directed, u32> =
            petgraph::Graph::with_capacity(names.len(), edges.len());
        for _ in &names {
            graph.add_node(());
        }
        for (g, v) in &edges {
            let Some(a) = index(g) else { continue };
            for (m, _) in v {
                if let Some(b) = index(m) {
                    graph.add_edge((a as u32).into(), (b as u32).into(), ());
                }
            }
        }
        let sccs = petgraph::algo::kosaraju_scc(&graph);
        let mut component = vec![0usize; names.len()];
        for (c, scc) in sccs.iter().enumerate() {
            for n in scc {
                component[n.index()] = c;
            }
        }
        // Each group's own members, moved out of `direct` (a group that nests nothing keeps its
        // set as it is: no copy).
        let mut own: Vec<BTreeSet<T>> = direct.into_values().collect();
        let mut closed: Vec<Option<BTreeSet<T>>> = vec![None; sccs.len()];
        for (c, scc) in sccs.iter().enumerate() {
            if let [n] = scc.as_slice() {
                if graph.neighbors(*n).next().is_none() {
                    closed[c] = Some(std::mem::take(&mut own[n.index()]));
                    continue;
                }
            }
            let mut set = BTreeSet::new();
            for n in scc {
                set.append(&mut own[n.index()]);
                for m in graph.neighbors(*n) {
                    let d = component[m.index()];
                    if d != c {
                        let reached = closed[d]
                            .as_ref()
                            .expect("components come leaves first (postorder)");
                        set.extend(reached.iter().cloned());
                    }
                }
            }
            closed[c] = Some(set);
        }
        // The last group of a component takes its set; the others get copies.
        let mut left: Vec<usize> = sccs.iter().map(Vec::len).collect();
        let mut out = BTreeMap::new();
        for (i, g) in names.iter().enumerate() {
            let c = component[i];
            left[c] -= 1;
            let set = if left[c] == 0 {
                closed[c].take().unwrap_or_default()
            } else {
                closed[c].clone().unwrap_or_default()
            };
            out.insert(g.to_string(), set);
        }
        out
    }

    pub(super) fn servicegroups(&mut self) {
        let groups = self
            .model
            .named
            .get(&ObjectKind::Servicegroup)
            .cloned()
            .unwrap_or_default();
        let mut direct: BTreeMap<String, BTreeSet<ServiceId>> = groups
            .keys()
            .map(|g| (g.clone(), BTreeSet::new()))
            .collect();
        let mut nested: BTreeMap<String, Vec<(String, Source)>> = BTreeMap::new();
        for (g, &idx) in &groups {
            let o = &self.res.objects[idx];
            if let Some(a) = o.get("members") {
                let src = a.sources[0].clone();
                for pair in a.as_list().chunks(2) {
                    let [host, desc] = pair else {
                        self.diags.push(
                            Diagnostic::new(
                                codes::UNKNOWN_SERVICE,
                                format!("servicegroup `{g}` member `{}` names no service", pair[0]),
                            )
                            .at(src.value_span)
                            .label("members are host,service pairs")
                            .help("write `members host1,service1,host2,service2`"),
                        );
                        continue;
                    };
                    match self
                        .model
                        .host_by_name
                        .get(host.as_str())
                        .and_then(|&h| self.model.service_by_key(h, desc))
                    {
                        Some(s) => {
                            direct.get_mut(g).unwrap().insert(s);
                        }
                        None => {
                            let cands = Candidates::ServicePairs;
                            self.unknown(
                                codes::UNKNOWN_SERVICE,
                                "service",
                                "members",
                                &src,
                                &format!("{host},{desc}"),
                                format!("servicegroup {g}"),
                                cands,
                            );
                        }
                    }
                }
            }
            if let Some(a) = o.get("servicegroup_members") {
                let list = self.nested_groups(ObjectKind::Servicegroup, g, a, &groups);
                nested.insert(g.clone(), list);
            }
        }
        // Service definitions (services with their own `servicegroups` override are rare and
        // name groups that exist).
        let mut defs: Vec<usize> = self
            .services_with("servicegroups")
            .into_iter()
            .map(|s| self.model.services[s].def)
            .collect();
        defs.sort_unstable();
        defs.dedup();
        self.implicit_groups(
            ObjectKind::Servicegroup,
            "servicegroups",
            &defs,
            &mut direct,
        );
        // The groups a definition names are the same for all its services: resolve them once
        // per definition (services with their own override are done one by one). Members are
        // gathered in service order, then added to each group in one go.
        let names: Vec<String> = direct.keys().cloned().collect();
        let mut members: Vec<Vec<ServiceId>> = vec![Vec::new(); names.len()];
        let mut per_def: Vec<Option<Vec<usize>>> = vec![None; self.res.objects.len()];
        for sid in self.services_with("servicegroups") {
            let s = &self.model.services[sid];
            let own = s.overrides.contains_key("servicegroups");
            if !own {
                if let Some(groups) = &per_def[s.def] {
                    for &g in groups {
                        members[g].push(sid as ServiceId);
                    }
                    continue;
                }
            }
            let Some(a) = self
                .model
                .service_attr(self.res, s, "servicegroups")
                .cloned()
            else {
                continue;
            };
            let (def, user) = (
                s.def,
                format!(
                    "service {}/{}",
                    self.model.host_names[s.host as usize], s.description
                ),
            );
            let mut known = Vec::new();
            for (g, src) in entries(self.sources, &a) {
                match names.binary_search_by(|n| n.as_str().cmp(g)) {
                    Ok(gi) => {
                        members[gi].push(sid as ServiceId);
                        known.push(gi);
                    }
                    Err(_) => {
                        self.unknown(
                            codes::UNKNOWN_SERVICEGROUP,
                            "servicegroup",
                            "servicegroups",
                            src,
                            g,
                            user.clone(),
                            ObjectKind::Servicegroup,
                        );
                    }
                }
            }
            if !own {
                per_def[def] = Some(known);
            }
        }
        add_members(&mut direct, &names, members);
        self.model.servicegroups =
            self.close_groups("servicegroup", "servicegroup_members", direct, &nested);
    }

    pub(super) fn contactgroups(&mut self) {
        let groups = self
            .model
            .named
            .get(&ObjectKind::Contactgroup)
            .cloned()
            .unwrap_or_default();
        let contacts = self.names_of(ObjectKind::Contact);
        let mut direct: BTreeMap<String, BTreeSet<String>> = groups
            .keys()
            .map(|g| (g.clone(), BTreeSet::new()))
            .collect();
        let mut nested: BTreeMap<String, Vec<(String, Source)>> = BTreeMap::new();
        for (g, &idx) in &groups {
            let o = &self.res.objects[idx];
            if let Some(a) = o.get("members") {
                for (m, src) in entries(self.sources, a) {
                    if m == "*" && self.sem.contactgroup_star {
                        direct.get_mut(g).unwrap().extend(contacts.iter().cloned());
                    } else if self.exists(ObjectKind::Contact, m) {
                        direct.get_mut(g).unwrap().insert(m.to_string());
                    } else {
                        self.unknown(
                            codes::UNKNOWN_CONTACT,
                            "contact",
                            "members",
                            src,
                            m,
                            format!("contactgroup {g}"),
                            ObjectKind::Contact,
                        );
                    }
                }
            }
            if let Some(a) = o.get("contactgroup_members") {
                let list = self.nested_groups(ObjectKind::Contactgroup, g, a, &groups);
                nested.insert(g.clone(), list);
            }
        }
        let contact_objs: Vec<usize> = self
            .model
            .named
            .get(&ObjectKind::Contact)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default();
        self.implicit_groups(
            ObjectKind::Contactgroup,
            "contactgroups",
            &contact_objs,
            &mut direct,
        );
        for idx in contact_objs {
            let o = &self.res.objects[idx];
            let name = o.name().unwrap_or("").to_string();
            if let Some(a) = o.get("contactgroups") {
                for (g, src) in entries(self.sources, a) {
                    match direct.get_mut(g) {
                        Some(set) => {
                            set.insert(name.clone());
                        }
                        None => self.unknown(
                            codes::UNKNOWN_CONTACTGROUP,
                            "contactgroup",
                            "contactgroups",
                            src,
                            g,
                            format!("contact {name}"),
                            ObjectKind::Contactgroup,
                        ),
                    }
                }
            }
        }
        self.model.contactgroups =
            self.close_groups("contactgroup", "contactgroup_members", direct, &nested);
    }
}

/// Adds the members gathered for each group (`members[i]` for `names[i]`, in member order) to
/// its set: built in bulk when the set is still empty, the usual case.
fn add_members<T: Ord>(
    direct: &mut BTreeMap<String, BTreeSet<T>>,
    names: &[String],
    members: Vec<Vec<T>>,
) {
    for (name, list) in names.iter().zip(members) {
        let set = direct.get_mut(name).expect("a name of `direct`");
        if set.is_empty() {
            *set = list.into_iter().collect();
        } else {
            set.extend(list);
        }
    }
}
