//! Live differential against Shinken 2.4.3's own configuration code (`scripts/
//! shinken_verdict.py`, Python 2.7, the Shinken sdist from PyPI that `.ci/run` unpacks into
//! `target/shinken-2.4.3`): every resolve fixture and every dialect probe of
//! `../shared/reference/dialect-probes/` is loaded by Shinken and checked by `monitorc check
//! --engine shinken`. The verdicts must agree (Shinken accepts ⇔ monitorc reports no error) and,
//! where both accept, so must the numbers of hosts and services. The differences that remain
//! are listed in [`KNOWN`] with their reason; the list must be exact.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Configurations where monitorc's verdict deliberately or not yet differs from Shinken's.
const KNOWN: &[(&str, &str)] = &[
    (
        "loops/main-hg-loop.cfg",
        "B7: Shinken logs a hostgroup_members loop and accepts it; monitorc keeps E0052 with the cycle (DESIGN: loops print their cycle)",
    ),
    (
        "misc/main-empty-hg-0.cfg",
        "C8: Shinken does not read allow_empty_hostgroup_assignment; monitorc's E0070 follows the key in every engine",
    ),
    (
        "tests/dialects/B07-hostgroup-members-loop",
        "B7: Shinken logs a hostgroup_members loop and accepts it; monitorc keeps E0052 with the cycle",
    ),
    (
        "tests/dialects/C08-service-on-empty-hostgroup",
        "C8: Shinken does not read allow_empty_hostgroup_assignment; monitorc's E0070 follows the key in every engine",
    ),
    (
        "tests/dialects/J05-poller-tag-other-realm",
        "J5: Shinken wants some poller anywhere to serve a tag; monitorc wants one the host's realm reaches, or the host is never checked (E0086, DESIGN)",
    ),
];

/// Configurations whose result in Shinken changes from one run to the next: only the verdict
/// is compared. Shinken's service explosion walks objects in memory order.
const UNSTABLE: &[(&str, &str)] = &[(
    "fixtures/resolve/05-host-template-services.cfg",
    "a service on the host and one generated from its template with the same description: Shinken keeps one or both",
)];

/// The Python 2.7 that runs Shinken: `SHINKEN_PY`, `python2.7` on the path, or pyenv's.
fn python() -> Option<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .args(["-c", "import sys; assert sys.version_info[:2] == (2, 7)"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if let Some(p) = std::env::var_os("SHINKEN_PY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| works(p));
    }
    let mut candidates = vec![PathBuf::from("python2.7")];
    if let Some(home) = std::env::var_os("HOME") {
        let versions = Path::new(&home).join(".pyenv/versions");
        if let Ok(entries) = std::fs::read_dir(versions) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("2.7"))
                })
                .map(|p| p.join("bin/python2.7"))
                .collect();
            found.sort();
            candidates.extend(found);
        }
    }
    candidates.into_iter().find(|p| works(p))
}

/// Shinken's source: `SHINKEN_SRC`, or what `.ci/run` unpacked.
fn shinken_src() -> Option<PathBuf> {
    let dir = std::env::var_os("SHINKEN_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target/shinken-2.4.3"));
    dir.join("shinken/objects/config.py")
        .is_file()
        .then_some(dir)
}

struct Verdict {
    accepted: bool,
    hosts: u64,
    services: u64,
    errors: Vec<String>,
}

fn shinken(py: &Path, src: &Path, main: &Path) -> Verdict {
    let out = Command::new(py)
        .arg(common::root().join("scripts/shinken_verdict.py"))
        .arg(main)
        .env("SHINKEN_SRC", src)
        .output()
        .expect("python2.7 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "{}: no verdict from Shinken ({e}): {}",
            main.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Verdict {
        accepted: json["correct"].as_bool().unwrap(),
        hosts: json["hosts"].as_u64().unwrap(),
        services: json["services"].as_u64().unwrap(),
        errors: json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .take(3)
            .map(|e| e.as_str().unwrap_or("").to_string())
            .collect(),
    }
}

fn compare(py: &Path, src: &Path, label: &str, main: &Path) -> Option<String> {
    let s = shinken(py, src, main);
    let (json, errors) = common::check_as(main, "shinken");
    if s.accepted != errors.is_empty() {
        return Some(format!(
            "{label}: shinken {} ({:?}), monitorc {} ({:?})",
            if s.accepted { "accepts" } else { "refuses" },
            s.errors,
            if errors.is_empty() {
                "accepts"
            } else {
                "refuses"
            },
            errors.iter().take(3).collect::<Vec<_>>()
        ));
    }
    if !s.accepted || UNSTABLE.iter().any(|(k, _)| *k == label) {
        return None;
    }
    let (hosts, services) = (
        json["summary"]["hosts"].as_u64().unwrap(),
        json["summary"]["services"].as_u64().unwrap(),
    );
    (hosts != s.hosts || services != s.services).then(|| {
        format!(
            "{label}: shinken {} hosts and {} services, monitorc {hosts} and {services}",
            s.hosts, s.services
        )
    })
}

#[test]
fn shinken_and_monitorc_give_the_same_verdicts_and_counts() {
    let (Some(py), Some(src)) = (python(), shinken_src()) else {
        eprintln!(
            "SKIPPED: Shinken 2.4.3 needs Python 2.7 and its source (SHINKEN_SRC, or .ci/run's target/shinken-2.4.3)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let configs = common::live_configurations(dir.path(), common::LIVE_BASE);
    let mut found: Vec<String> = Vec::new();
    for (label, main) in &configs {
        found.extend(compare(&py, &src, label, main));
    }
    let labels: Vec<String> = configs.into_iter().map(|(l, _)| l).collect();
    let problems = common::known_problems(&found, &labels, KNOWN);
    eprintln!(
        "Shinken 2.4.3 and monitorc --engine shinken: {} of {} configurations agree; {} known differences",
        labels.len() - found.len(),
        labels.len(),
        found.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
