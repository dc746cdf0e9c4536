//! Resolution rules, one fixture per rule, each with inline expectations. A fixture is a
//! configuration file under `fixtures/resolve/` whose `#>` comment lines say what the compiler
//! must conclude:
//!
//! ```text
//! #> host web01 notes = from-tA          resolved attribute (`_VAR` for custom variables)
//! #> host web01 notes absent             the attribute is not set
//! #> host web01 templates = tA,tB        inherited templates, depth first
//! #> host web01 groups = g1,g2           hostgroups the host is in
//! #> host web01 parents = core01
//! #> services web01 = HTTP,SSH           the host's services, sorted
//! #> service web01/HTTP check_command = check_http   a service attribute (implicit ones too)
//! #> hostgroup web = web01,web02         members, nested groups included
//! #> servicegroup web = web01/HTTP,web02/HTTP
//! #> hostdependency web01 -> db01        dependent -> master
//! #> servicedependency web01/HTTP -> db01/MySQL
//! #> count services = 12                 a summary count
//! #> engines nagios,shinken,alignak      check once as each engine (default: auto)
//! #> checked-as shinken                  the engine auto chose
//! #> nagios: count servicedependencies = 10   an expectation for one engine's run only
//! #> error E0041 12                      a diagnostic with its line; every diagnostic of the
//! #> warning W0010 30                    run must be listed, and nothing else may appear
//!                                       (W0029–W0031, about contacts and periods, only in a
//!                                       fixture that lists one of them)
//! ```

mod common;

use std::collections::BTreeSet;

use monitorc_compiler::expand::Model;
use monitorc_compiler::grammar::Severity;
use monitorc_compiler::resolve::Resolved;
use monitorc_compiler::{Checked, Engine, EngineChoice};

fn host<'a>(
    m: &Model,
    r: &'a Resolved,
    name: &str,
) -> Result<&'a monitorc_compiler::resolve::ResolvedObject, String> {
    m.host_by_name
        .get(name)
        .map(|&h| m.host(r, h))
        .ok_or_else(|| format!("no host {name}"))
}

fn service_id(m: &Model, spec: &str) -> Result<u32, String> {
    let (h, d) = spec
        .split_once('/')
        .ok_or_else(|| format!("`{spec}` is not HOST/DESC"))?;
    let hid = *m
        .host_by_name
        .get(h)
        .ok_or_else(|| format!("no host {h}"))?;
    m.service_by_key(hid, d)
        .ok_or_else(|| format!("no service {spec}"))
}

fn service_label(m: &Model, s: u32) -> String {
    let s = &m.services[s as usize];
    format!("{}/{}", m.host_names[s.host as usize], s.description)
}

/// Evaluates one expectation; `Err` says what was found instead.
fn expect(c: &Checked, line: &str) -> Result<(), String> {
    let (m, r) = (&c.model, &c.resolved);
    let (lhs, rhs) = match line.split_once(" =") {
        Some((l, r)) => (l, Some(r.trim())),
        None => (line, None),
    };
    let mut words: Vec<&str> = lhs.split_whitespace().collect();
    // `service HOST/DESC ATTR`: the description may contain blanks; ATTR is the last word.
    let spec;
    if words.first() == Some(&"service") && words.len() > 3 {
        let last = words[words.len() - 1];
        let (attr, absent) = if last == "absent" {
            (words[words.len() - 2], true)
        } else {
            (last, false)
        };
        let end = words.len() - if absent { 2 } else { 1 };
        spec = words[1..end].join(" ");
        words = vec!["service", spec.as_str(), attr];
        if absent {
            words.push("absent");
        }
    }
    if rhs.is_some() {
        words.push("=");
    }
    let actual: String = match words.as_slice() {
        ["host", name, attr, "absent"] => {
            let h = host(m, r, name)?;
            let v = if attr.starts_with('_') {
                h.custom(attr).map(|a| a.raw.clone())
            } else {
                h.get_str(attr).map(str::to_string)
            };
            return match v {
                None => Ok(()),
                Some(v) => Err(format!("set to `{v}`")),
            };
        }
        ["host", name, "templates", "=", ..] => host(m, r, name)?.templates.join(","),
        ["host", name, "groups", "=", ..] => {
            let h = m.host_by_name[*name];
            m.hostgroups
                .iter()
                .filter(|(_, hs)| hs.contains(&h))
                .map(|(g, _)| g.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }
        ["host", name, "parents", "=", ..] => {
            let h = m.host_by_name[*name];
            m.parents[h as usize]
                .iter()
                .map(|&p| m.host_names[p as usize].as_str())
                .collect::<Vec<_>>()
                .join(",")
        }
        ["host", name, attr, "=", ..] => {
            let h = host(m, r, name)?;
            let v = if attr.starts_with('_') {
                h.custom(attr).map(|a| a.raw.clone())
            } else {
                h.get_str(attr).map(str::to_string)
            };
            v.ok_or("absent")?
        }
        ["services", name, "=", ..] => {
            let h = *m.host_by_name.get(*name).ok_or("no such host")?;
            m.services_of(h)
                .map(|s| m.services[s as usize].description.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
        ["service", spec, attr, "absent"] => {
            let s = &m.services[service_id(m, spec)? as usize];
            return match m.service_attr(r, s, attr) {
                None => Ok(()),
                Some(v) => Err(format!("set to `{}`", v.raw)),
            };
        }
        ["service", spec, attr, "=", ..] => {
            let s = &m.services[service_id(m, spec)? as usize];
            if attr.starts_with('_') {
                r.objects[s.def]
                    .custom(attr)
                    .map(|a| a.raw.clone())
                    .ok_or("absent")?
            } else {
                m.service_attr(r, s, attr)
                    .map(|a| a.raw.clone())
                    .ok_or("absent")?
            }
        }
        ["hostgroup", g, "=", ..] => {
            let set = m.hostgroups.get(*g).ok_or("no such group")?;
            set.iter()
                .map(|&h| m.host_names[h as usize].as_str())
                .collect::<Vec<_>>()
                .join(",")
        }
        ["servicegroup", g, "=", ..] => {
            let set = m.servicegroups.get(*g).ok_or("no such group")?;
            set.iter()
                .map(|&s| service_label(m, s))
                .collect::<Vec<_>>()
                .join(",")
        }
        ["checked-as", engine] => {
            return if c.engine.engine.as_str() == *engine {
                Ok(())
            } else {
                Err(format!("checked as {}", c.engine.engine.as_str()))
            };
        }
        ["hostdependency", dep, "->", master] => {
            let id = |n: &str| m.host_by_name.get(n).copied();
            let (d, ms) = (
                id(dep).ok_or("no dependent host")?,
                id(master).ok_or("no master host")?,
            );
            let found = m
                .host_dependencies
                .iter()
                .any(|x| x.dependent == d && x.master == ms)
                || m.host_dependency_rules.iter().any(|r| {
                    r.dependents.binary_search(&d).is_ok() && r.masters.binary_search(&ms).is_ok()
                });
            return if found {
                Ok(())
            } else {
                Err("no such dependency".into())
            };
        }
        ["servicedependency", dep, "->", master] => {
            let (d, ms) = (service_id(m, dep)?, service_id(m, master)?);
            let found = m
                .service_dependencies
                .iter()
                .any(|x| x.dependent == d && x.master == ms)
                || m.service_dependency_rules.iter().any(|r| {
                    r.dependents.binary_search(&d).is_ok() && r.masters.binary_search(&ms).is_ok()
                });
            return if found {
                Ok(())
            } else {
                Err("no such dependency".into())
            };
        }
        ["count", key, "=", ..] => c.summary.get(key).to_string(),
        _ => return Err("unknown expectation".into()),
    };
    let want = rhs.ok_or("expected `= VALUE`")?;
    if actual == want {
        Ok(())
    } else {
        Err(format!("found `{actual}`"))
    }
}

#[test]
fn every_resolution_rule_behaves_as_its_fixture_says() {
    let dir = common::root().join("fixtures/resolve");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "fixtures/resolve holds the rule fixtures"
    );
    let mut failures = Vec::new();
    for file in files {
        // Read as bytes: a fixture may be in Latin-1 (its expectations are ASCII).
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let engines: Vec<Option<Engine>> = match text
            .lines()
            .find_map(|l| l.trim().strip_prefix("#>")?.trim().strip_prefix("engines "))
        {
            None => vec![None],
            Some(list) => list
                .split(',')
                .map(|e| match e.trim() {
                    "nagios" => Some(Engine::Nagios),
                    "shinken" => Some(Engine::Shinken),
                    "alignak" => Some(Engine::Alignak),
                    other => panic!("{name}: unknown engine {other}"),
                })
                .collect(),
        };
        for engine in engines {
            let label = match engine {
                Some(e) => format!("{name} [{}]", e.as_str()),
                None => name.clone(),
            };
            check_fixture(&file, &text, engine, &label, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks one fixture as one engine (`None`: auto) against its expectations.
fn check_fixture(
    file: &std::path::Path,
    text: &str,
    engine: Option<Engine>,
    name: &str,
    failures: &mut Vec<String>,
) {
    let options = monitorc_compiler::Options {
        engine: engine.map_or(EngineChoice::Auto, EngineChoice::Given),
        ..Default::default()
    };
    let checked = monitorc_compiler::check_timed(file, &options).unwrap().0;
    let mut expected_diags = BTreeSet::new();
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        let Some(e) = line.trim().strip_prefix("#>") else {
            continue;
        };
        let mut e = e.trim();
        if e.starts_with("engines ") {
            continue;
        }
        // `nagios: …` applies to that engine's run only.
        if let Some((who, rest)) = e.split_once(": ") {
            if ["nagios", "shinken", "alignak"].contains(&who) {
                if engine.map(Engine::as_str) != Some(who) {
                    continue;
                }
                e = rest.trim();
            }
        }
        count += 1;
        match e.split_whitespace().collect::<Vec<_>>().as_slice() {
            [sev @ ("error" | "warning"), code, at] => {
                expected_diags.insert((
                    sev.to_string(),
                    code.to_string(),
                    at.parse::<usize>().unwrap(),
                ));
            }
            _ => {
                if let Err(why) = expect(&checked, e) {
                    failures.push(format!("{name}:{}: `{e}`: {why}", i + 1));
                }
            }
        }
    }
    assert!(count > 0, "{name} has no expectation");
    // Most fixtures are minimal trees that name no contacts or periods: the warnings about
    // that (W0029–W0031) are checked only in the fixtures that list one of them.
    let notify = ["W0029", "W0030", "W0031"];
    let checks_notify = expected_diags
        .iter()
        .any(|d| notify.contains(&d.1.as_str()));
    let actual: BTreeSet<(String, String, usize)> = checked
        .diagnostics
        .iter()
        .filter(|d| checks_notify || !notify.contains(&d.code.code))
        .map(|d| {
            let line = d
                .primary
                .map(|s| checked.loaded.sources.location(s).line)
                .unwrap_or(0);
            let sev = if d.severity() == Severity::Error {
                "error"
            } else {
                "warning"
            };
            (sev.to_string(), d.code.code.to_string(), line)
        })
        .collect();
    for missing in expected_diags.difference(&actual) {
        failures.push(format!(
            "{name}: expected {} {} at line {}, not reported",
            missing.0, missing.1, missing.2
        ));
    }
    for extra in actual.difference(&expected_diags) {
        let d = checked
            .diagnostics
            .iter()
            .find(|d| d.code.code == extra.1)
            .unwrap();
        failures.push(format!(
            "{name}: unexpected {} {} at line {}: {}",
            extra.0, extra.1, extra.2, d.message
        ));
    }
}
