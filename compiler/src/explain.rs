//! `explain`: one host or service as the compiler sees it, every resolved attribute with the
//! place and template it came from, its groups, services and dependencies. Data only; the CLI
//! renders it.

use crate::expand::{HostId, Model, ServiceId};
use crate::resolve::{RAttr, ResolvedObject};
use crate::Checked;

/// Where one value was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    /// The template that set it, or `None` when the object itself did. For values a service
    /// takes from its host, `host NAME`.
    pub template: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    pub name: String,
    pub value: String,
    pub origins: Vec<Origin>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// `host` or `service`.
    pub kind: &'static str,
    /// The host name, or `HOST/DESCRIPTION`.
    pub name: String,
    pub defined_at: Option<Origin>,
    /// Templates inherited from, depth first.
    pub templates: Vec<String>,
    pub attributes: Vec<Explained>,
    pub customs: Vec<Explained>,
    /// Hostgroups of a host, servicegroups of a service.
    pub groups: Vec<String>,
    /// A host's services.
    pub services: Vec<String>,
    pub parents: Vec<String>,
    /// What this object depends on, and what depends on it (`host` or `host/service`).
    pub depends_on: Vec<String>,
    pub dependents: Vec<String>,
    /// Where the host (of a service) runs.
    pub placement: Option<Placement>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub realm: String,
    pub scheduler: Option<String>,
    /// The hosts that must run on the same scheduler (this one included), in name order.
    pub pack: Vec<String>,
    /// This host's own relations inside its pack: `parent X`, `child X`, `hostdependency X`, …
    pub ties: Vec<String>,
}

fn placement(c: &Checked, h: HostId) -> Placement {
    let (m, p) = (&c.model, &c.plan);
    let pack = &p.packs[p.host_pack[h as usize]];
    let name = |x: HostId| m.host_names[x as usize].clone();
    let mut ties: Vec<String> = Vec::new();
    ties.extend(
        m.parents[h as usize]
            .iter()
            .map(|&x| format!("parent {}", name(x))),
    );
    for (x, parents) in m.parents.iter().enumerate() {
        if parents.contains(&h) {
            ties.push(format!("child {}", name(x as HostId)));
        }
    }
    for d in &m.host_dependencies {
        if d.dependent == h {
            ties.push(format!("depends on {} (hostdependency)", name(d.master)));
        } else if d.master == h {
            ties.push(format!(
                "dependency of {} (hostdependency)",
                name(d.dependent)
            ));
        }
    }
    for d in &m.service_dependencies {
        let (a, b) = (
            m.services[d.dependent as usize].host,
            m.services[d.master as usize].host,
        );
        if a == h && b != h {
            ties.push(format!("depends on {} (servicedependency)", name(b)));
        } else if b == h && a != h {
            ties.push(format!("dependency of {} (servicedependency)", name(a)));
        }
    }
    for r in &m.host_dependency_rules {
        if r.dependents.contains(&h) {
            ties.push(format!(
                "depends on {} hosts ({})",
                r.masters.len(),
                rule_at(c, r.def)
            ));
        }
        if r.masters.contains(&h) {
            ties.push(format!(
                "dependency of {} hosts ({})",
                r.dependents.len(),
                rule_at(c, r.def)
            ));
        }
    }
    for r in &m.service_dependency_rules {
        let on_host = |list: &[ServiceId]| list.iter().any(|&s| m.services[s as usize].host == h);
        if on_host(&r.dependents) {
            ties.push(format!(
                "depends on {} services ({})",
                r.masters.len(),
                rule_at(c, r.def)
            ));
        }
        if on_host(&r.masters) {
            ties.push(format!(
                "dependency of {} services ({})",
                r.dependents.len(),
                rule_at(c, r.def)
            ));
        }
    }
    ties.sort();
    ties.dedup();
    Placement {
        realm: p.realm_name(p.host_realm[h as usize]).to_string(),
        scheduler: pack.scheduler.map(|s| p.daemons[s].name.clone()),
        pack: pack.hosts.iter().map(|&x| name(x)).collect(),
        ties,
    }
}

/// Either the explanation, or the closest names to what was asked.
pub type Lookup = Result<Explanation, Option<String>>;

fn origin(c: &Checked, r: &RAttr, i: usize, owner: usize, via_host: Option<&str>) -> Origin {
    let src = &r.sources[i];
    let loc = c.loaded.sources.location(src.key_span);
    let template = match via_host {
        Some(h) => Some(format!("host {h}")),
        None if src.object == owner => None,
        None => Some(
            c.ir.objects[src.object]
                .template_name()
                .map(str::to_string)
                .unwrap_or_else(|| c.ir.objects[src.object].display_name()),
        ),
    };
    Origin {
        file: c
            .loaded
            .sources
            .path(src.key_span.file)
            .display()
            .to_string(),
        line: loc.line,
        template,
    }
}

fn explained(
    c: &Checked,
    name: &str,
    r: &RAttr,
    owner: usize,
    via_host: Option<&str>,
) -> Explained {
    Explained {
        name: name.to_string(),
        value: r.raw.clone(),
        origins: (0..r.sources.len())
            .map(|i| origin(c, r, i, owner, via_host))
            .collect(),
    }
}

fn defined_at(c: &Checked, o: &ResolvedObject) -> Origin {
    let header = c.ir.objects[o.id].header;
    Origin {
        file: c.loaded.sources.path(header.file).display().to_string(),
        line: c.loaded.sources.location(header).line,
        template: None,
    }
}

pub fn host(c: &Checked, name: &str) -> Lookup {
    let m = &c.model;
    let Some(&h) = m.host_by_name.get(name) else {
        return Err(monitorc_grammar::diag::did_you_mean(
            name,
            m.host_names.iter().map(String::as_str),
        )
        .map(str::to_string));
    };
    let o = m.host(&c.resolved, h);
    let mut e = Explanation {
        kind: "host",
        name: name.to_string(),
        defined_at: Some(defined_at(c, o)),
        templates: o.templates.to_vec(),
        ..Default::default()
    };
    e.attributes = o
        .attrs
        .iter()
        .map(|(k, r)| explained(c, k, r, o.id, None))
        .collect();
    e.customs = o
        .customs
        .iter()
        .map(|(k, r)| explained(c, k, r, o.id, None))
        .collect();
    e.groups = m
        .hostgroups
        .iter()
        .filter(|(_, hs)| hs.contains(&h))
        .map(|(g, _)| g.clone())
        .collect();
    e.services = m
        .services_of(h)
        .map(|s| m.services[s as usize].description.to_string())
        .collect();
    e.parents = m.parents[h as usize]
        .iter()
        .map(|&p| m.host_names[p as usize].clone())
        .collect();
    e.depends_on = host_deps(m, |d| d.dependent == h, |d| d.master);
    e.dependents = host_deps(m, |d| d.master == h, |d| d.dependent);
    // A group-to-group rule is named once with its size, not host by host.
    for r in &m.host_dependency_rules {
        if r.dependents.binary_search(&h).is_ok() {
            e.depends_on
                .push(rule_entry(c, r.masters.len(), "hosts", r.def));
        }
        if r.masters.binary_search(&h).is_ok() {
            e.dependents
                .push(rule_entry(c, r.dependents.len(), "hosts", r.def));
        }
    }
    e.placement = Some(placement(c, h));
    Ok(e)
}

fn host_deps(
    m: &Model,
    keep: impl Fn(&crate::expand::HostDependency) -> bool,
    other: impl Fn(&crate::expand::HostDependency) -> HostId,
) -> Vec<String> {
    let mut v: Vec<String> = m
        .host_dependencies
        .iter()
        .filter(|d| keep(d))
        .map(|d| m.host_names[other(d) as usize].clone())
        .collect();
    v.dedup();
    v
}

pub fn service(c: &Checked, host: &str, description: &str) -> Lookup {
    let m = &c.model;
    let Some(&h) = m.host_by_name.get(host) else {
        return Err(monitorc_grammar::diag::did_you_mean(
            host,
            m.host_names.iter().map(String::as_str),
        )
        .map(|s| format!("{s} {description}")));
    };
    let Some(sid) = m.service_by_key(h, description) else {
        let descs: Vec<&str> = m
            .services_of(h)
            .map(|s| &*m.services[s as usize].description)
            .collect();
        return Err(
            monitorc_grammar::diag::did_you_mean(description, descs).map(|s| format!("{host} {s}"))
        );
    };
    let s = &m.services[sid as usize];
    let def = &c.resolved.objects[s.def];
    let host_obj = m.host(&c.resolved, h);
    let mut e = Explanation {
        kind: "service",
        name: format!("{host}/{description}"),
        defined_at: Some(defined_at(c, def)),
        templates: def.templates.to_vec(),
        ..Default::default()
    };
    let mut keys: Vec<&str> = def.attrs.iter().map(|(k, _)| &**k).collect();
    keys.extend(s.overrides.keys().map(String::as_str));
    let implied =
        m.implied_keys(|k| def.get(k).is_some() || def.is_nulled(k) || s.overrides.contains_key(k));
    keys.extend(implied.iter().filter(|k| host_obj.get(k).is_some()));
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        if k == "host_name" || k == "hostgroup_name" {
            continue;
        }
        if let Some(r) = s.overrides.get(k) {
            e.attributes.push(explained(c, k, r, s.def, None));
        } else if let Some(r) = def.get(k) {
            e.attributes.push(explained(c, k, r, s.def, None));
        } else if let Some(r) = implied.contains(&k).then(|| host_obj.get(k)).flatten() {
            e.attributes.push(explained(c, k, r, s.def, Some(host)));
        }
    }
    e.attributes.push(Explained {
        name: "host_name".into(),
        value: host.to_string(),
        origins: def
            .get("host_name")
            .or(def.get("hostgroup_name"))
            .map(|r| vec![origin(c, r, 0, s.def, None)])
            .unwrap_or_default(),
    });
    e.attributes.sort_by(|a, b| a.name.cmp(&b.name));
    e.customs = def
        .customs
        .iter()
        .map(|(k, r)| explained(c, k, r, s.def, None))
        .collect();
    e.groups = m
        .servicegroups
        .iter()
        .filter(|(_, ss)| ss.contains(&sid))
        .map(|(g, _)| g.clone())
        .collect();
    let label = |x: ServiceId| {
        let t = &m.services[x as usize];
        format!("{}/{}", m.host_names[t.host as usize], t.description)
    };
    e.depends_on = m
        .service_dependencies
        .iter()
        .filter(|d| d.dependent == sid)
        .map(|d| label(d.master))
        .collect();
    e.dependents = m
        .service_dependencies
        .iter()
        .filter(|d| d.master == sid)
        .map(|d| label(d.dependent))
        .collect();
    e.depends_on.dedup();
    e.dependents.dedup();
    for r in &m.service_dependency_rules {
        if r.dependents.binary_search(&sid).is_ok() {
            e.depends_on
                .push(rule_entry(c, r.masters.len(), "services", r.def));
        }
        if r.masters.binary_search(&sid).is_ok() {
            e.dependents
                .push(rule_entry(c, r.dependents.len(), "services", r.def));
        }
    }
    e.placement = Some(placement(c, h));
    Ok(e)
}

/// Where a dependency definition is: `servicedependency at FILE:LINE`.
fn rule_at(c: &Checked, def: usize) -> String {
    let o = &c.ir.objects[def];
    let at = defined_at(c, &c.resolved.objects[def]);
    format!("{} at {}:{}", o.kind.keyword(), at.file, at.line)
}

/// One group-to-group rule in a list of dependencies.
fn rule_entry(c: &Checked, n: usize, what: &str, def: usize) -> String {
    format!("every one of {n} {what} ({})", rule_at(c, def))
}
