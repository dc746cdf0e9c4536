//! Alignak 2.1.5's own test configurations (`../shared/corpus/alignak-2.1.5/`, 120 entries):
//! every entry is checked against `tests/alignak-corpus.ron`, the reviewed record of what
//! monitorc answers on it. Accepted by both: no error. Rejected by both: the record names the
//! code that says what Alignak's test is about, and it must be among the errors. Different
//! verdicts: the record gives the reasons (among its `reasons`), which must explain every
//! error code. In every case the exact set
//! of error codes must match, so any change of behaviour on the corpus shows here.
//!
//! `MONITORC_BLESS=1 cargo test --test alignak_corpus` rewrites the record's verdicts and codes
//! (keeping the reviewed `names`/`why` fields; new entries get `why: ["TODO"]`, which
//! fails until reviewed).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Verdict {
    Accepted,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    alignak: Verdict,
    monitorc: Verdict,
    /// monitorc's error codes, sorted, each once.
    errors: Vec<String>,
    /// Both reject: the code of the error that names the problem Alignak's test is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    names: Option<String>,
    /// The verdicts differ: why (keys of `reasons`, which together explain every error).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    why: Vec<String>,
}

/// One deliberate difference from Alignak.
#[derive(Debug, Serialize, Deserialize)]
struct Reason {
    /// The error codes this difference explains (none when monitorc accepts).
    codes: Vec<String>,
    because: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// Why monitorc's verdict differs from Alignak's.
    reasons: BTreeMap<String, Reason>,
    entries: BTreeMap<String, Entry>,
}

const RECORD: &str = "tests/alignak-corpus.ron";

fn verdict(accepted: bool) -> Verdict {
    if accepted {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    }
}

#[test]
fn every_entry_gets_its_recorded_verdict() {
    let corpus = common::root().join("../shared/corpus/alignak-2.1.5");
    let Ok(text) = std::fs::read_to_string(corpus.join("entries.json")) else {
        eprintln!("SKIPPED: ../shared/corpus/alignak-2.1.5 is not beside the repository");
        return;
    };
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 120);
    let record_text = std::fs::read_to_string(common::root().join(RECORD)).unwrap();
    let mut record: Record = ron::from_str(&record_text).unwrap();
    let bless = std::env::var_os("MONITORC_BLESS").is_some();
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for e in list {
        let name = e["cfg"].as_str().unwrap().to_string();
        seen.push(name.clone());
        let cfg = corpus.join(&name);
        let run = common::monitorc_with_limit(
            // Each entry with the Alignak environment its test used: auto then chooses
            // Alignak, and the environment's daemons replace the object files' ones.
            &[
                "check",
                &cfg.display().to_string(),
                "--alignak-env",
                &corpus
                    .join(e["env"].as_str().unwrap())
                    .display()
                    .to_string(),
                "--format",
                "json",
            ],
            Duration::from_secs(60),
        );
        assert!(
            !run.stderr.contains("panicked") && (run.code == 0 || run.code == 1),
            "{name}: exit {} {}",
            run.code,
            run.stderr
        );
        let mut errors: Vec<String> = common::json(&run)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect();
        errors.sort();
        errors.dedup();
        let got = Entry {
            alignak: verdict(e["alignak_verify_exit"] == 0),
            monitorc: verdict(run.code == 0),
            errors,
            names: None,
            why: Vec::new(),
        };
        let Some(want) = record.entries.get_mut(&name) else {
            if bless {
                let mut got = got;
                if got.alignak != got.monitorc {
                    got.why = vec!["TODO".into()];
                }
                record.entries.insert(name, got);
            } else {
                failures.push(format!("{name}: not in {RECORD}"));
            }
            continue;
        };
        if bless {
            want.alignak = got.alignak;
            want.monitorc = got.monitorc;
            want.errors = got.errors.clone();
            if want.alignak == want.monitorc {
                want.why.clear();
            } else {
                // Reasons that no longer explain an error are dropped.
                let errors = &got.errors;
                let reasons = &record.reasons;
                want.why.retain(|r| {
                    reasons.get(r).is_none_or(|r| {
                        r.codes.is_empty() || r.codes.iter().any(|c| errors.contains(c))
                    })
                });
                if want.why.is_empty() {
                    want.why = vec!["TODO".into()];
                }
            }
        }
        let mut problems = Vec::new();
        if want.alignak != got.alignak {
            problems.push(format!(
                "Alignak's verdict is {:?}, recorded {:?}",
                got.alignak, want.alignak
            ));
        }
        if want.monitorc != got.monitorc || want.errors != got.errors {
            problems.push(format!(
                "monitorc says {:?} {:?}, recorded {:?} {:?}",
                got.monitorc, got.errors, want.monitorc, want.errors
            ));
        }
        match (want.alignak, want.monitorc) {
            (a, m) if a != m => {
                for r in &want.why {
                    if !record.reasons.contains_key(r) {
                        problems.push(format!("the reason `{r}` is not among the reasons"));
                    }
                }
                let explained: Vec<&String> = want
                    .why
                    .iter()
                    .filter_map(|r| record.reasons.get(r))
                    .flat_map(|r| &r.codes)
                    .collect();
                for code in &got.errors {
                    if !explained.contains(&code) {
                        problems.push(format!(
                            "verdicts differ and no listed reason explains {code}"
                        ));
                    }
                }
                if want.why.is_empty() {
                    problems.push("verdicts differ and no reason is given".into());
                }
                for r in want
                    .why
                    .iter()
                    .filter_map(|r| record.reasons.get_key_value(r))
                {
                    let (key, reason) = r;
                    if !reason.codes.is_empty()
                        && !reason.codes.iter().any(|c| got.errors.contains(c))
                    {
                        problems.push(format!(
                            "the reason `{key}` explains no error of this entry"
                        ));
                    }
                }
            }
            _ if !want.why.is_empty() => {
                problems.push("verdicts agree, but reasons for a difference are listed".into())
            }
            (Verdict::Rejected, _) => match &want.names {
                Some(code) if got.errors.contains(code) => {}
                n => problems.push(format!(
                    "both reject, but the error naming Alignak's problem ({n:?}) is not reported"
                )),
            },
            _ => {}
        }
        for p in problems {
            failures.push(format!("{name}: {p}"));
        }
    }
    for name in record.entries.keys() {
        if !seen.contains(name) {
            failures.push(format!("{name}: recorded but not in entries.json"));
        }
    }
    if bless {
        let config = ron::ser::PrettyConfig::new()
            .indentor("  ".to_string())
            .struct_names(false)
            .compact_arrays(true)
            .escape_strings(false)
            .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
        let body = ron::ser::to_string_pretty(&record, config).unwrap();
        let header: String = record_text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(common::root().join(RECORD), format!("{header}{body}\n")).unwrap();
    }
    // The summary: how many agree, how many differ and why.
    let agree = record
        .entries
        .values()
        .filter(|e| e.alignak == e.monitorc)
        .count();
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for e in record.entries.values() {
        for r in &e.why {
            *by_reason.entry(r).or_default() += 1;
        }
    }
    eprintln!(
        "alignak corpus: {agree} of {} entries get Alignak's verdict; intended differences: {by_reason:?}",
        record.entries.len()
    );
    assert!(
        failures.is_empty(),
        "{} entries differ from {RECORD}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Placement on the entries Alignak accepts (every one has at least one scheduler, from the
/// configuration or Alignak's .ini files): where monitorc can plan (its only errors are the
/// unknown contact groups, which do not touch placement), every host is placed once, on a
/// scheduler of its realm, with its pack whole; and the summary says where Alignak (its own
/// placement, recorded by `scripts/alignak_placements.py` in
/// `tests/data/alignak-2.1.5-placements.json`) put hosts elsewhere. The differences are
/// printed, not asserted: Alignak's placement is known to be unbalanced and, with several
/// schedulers in a realm, random.
#[test]
fn placements_are_whole_and_compared_with_alignak() {
    let corpus = common::root().join("../shared/corpus/alignak-2.1.5");
    if !corpus.join("entries.json").exists() {
        eprintln!("SKIPPED: ../shared/corpus/alignak-2.1.5 is not beside the repository");
        return;
    }
    let text =
        std::fs::read_to_string(common::root().join("tests/data/alignak-2.1.5-placements.json"))
            .unwrap();
    let alignak: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    // The Alignak environment each entry was tested with.
    let entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("entries.json")).unwrap())
            .unwrap();
    let env_of = |cfg: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["cfg"] == cfg)
            .map(|e| corpus.join(e["env"].as_str().unwrap()))
    };
    let (mut compared, mut same, mut moved, mut unplaced_by_alignak) = (0, 0, 0, 0);
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    for (entry, placed) in &alignak {
        let options = monitorc_compiler::Options {
            alignak_env: env_of(entry),
            ..Default::default()
        };
        let checked = monitorc_compiler::check_timed(&corpus.join(entry), &options)
            .unwrap()
            .0;
        let errors: BTreeSet<&str> = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == monitorc_grammar::Severity::Error)
            .map(|d| d.code.code)
            .collect();
        if errors.iter().any(|c| *c != "E0060") {
            lines.push(format!(
                "  {entry}: not planned (monitorc errors {errors:?})"
            ));
            continue;
        }
        let (m, p) = (&checked.model, &checked.plan);
        let scheduler_of = |h: usize| -> Option<&str> {
            p.packs[p.host_pack[h]]
                .scheduler
                .map(|d| p.daemons[d].name.as_str())
        };
        // Every host placed once, on a scheduler of its pack's realm, packs whole.
        for h in 0..m.hosts.len() {
            let pack = &p.packs[p.host_pack[h]];
            match pack.scheduler {
                None => failures.push(format!("{entry}: host {} not placed", m.host_names[h])),
                Some(d) if p.daemons[d].realm != p.host_realm[h] => failures.push(format!(
                    "{entry}: host {} on {} of another realm",
                    m.host_names[h], p.daemons[d].name
                )),
                Some(_) => {}
            }
            for &parent in &m.parents[h] {
                if scheduler_of(parent as usize) != scheduler_of(h) {
                    failures.push(format!(
                        "{entry}: {} and its parent on different schedulers",
                        m.host_names[h]
                    ));
                }
            }
        }
        let theirs = placed["hosts"].as_object().unwrap();
        compared += 1;
        let mut diffs = Vec::new();
        for (h, name) in m.host_names.iter().enumerate() {
            match theirs.get(name).map(|v| v.as_str()) {
                None => diffs.push(format!("{name} unknown to Alignak")),
                Some(None) => {
                    unplaced_by_alignak += 1;
                    diffs.push(format!("{name} not placed by Alignak"));
                }
                Some(Some(s)) if Some(s) == scheduler_of(h) => same += 1,
                Some(Some(s)) => {
                    moved += 1;
                    diffs.push(format!(
                        "{name}: Alignak {s}, monitorc {}",
                        scheduler_of(h).unwrap_or("-")
                    ));
                }
            }
        }
        for name in theirs.keys() {
            if !m.host_by_name.contains_key(name) {
                diffs.push(format!("{name} unknown to monitorc"));
            }
        }
        if !diffs.is_empty() {
            lines.push(format!("  {entry}: {}", diffs.join("; ")));
        }
    }
    eprintln!(
        "alignak placements: {compared} of {} accepted entries planned by monitorc; hosts on the \
         same scheduler: {same}, elsewhere: {moved}, left unplaced by Alignak: \
         {unplaced_by_alignak}\n{}",
        alignak.len(),
        lines.join("\n")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared > 0);
}

/// `cfg/conf_in_symlinks/`: `links/link` is a symlink to `../dest` in Alignak's repository (this
/// copy of the corpus holds a plain file with the target). Rebuilt with a real symlink, the
/// configuration under it is read through the link.
#[test]
fn a_cfg_dir_reached_through_a_symlink_is_read() {
    let corpus = common::root().join("../shared/corpus/alignak-2.1.5/cfg");
    let src = corpus.join("conf_in_symlinks");
    if !src.exists() {
        eprintln!("SKIPPED: ../shared/corpus/alignak-2.1.5 is not beside the repository");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cfg");
    std::fs::create_dir_all(root.join("conf_in_symlinks/dest")).unwrap();
    std::fs::create_dir_all(root.join("conf_in_symlinks/links")).unwrap();
    std::os::unix::fs::symlink(corpus.join("default"), root.join("default")).unwrap();
    for f in ["alignak_conf_in_symlinks.cfg", "dest/service_hide.cfg"] {
        std::fs::copy(src.join(f), root.join("conf_in_symlinks").join(f)).unwrap();
    }
    std::os::unix::fs::symlink("../dest", root.join("conf_in_symlinks/links/link")).unwrap();
    let cfg = root.join("conf_in_symlinks/alignak_conf_in_symlinks.cfg");
    let checked = monitorc_compiler::check(&cfg).unwrap();
    let read: Vec<String> = checked
        .loaded
        .sources
        .iter()
        .map(|(_, f)| f.path.display().to_string())
        .filter(|p| p.contains("service_hide"))
        .collect();
    assert_eq!(read.len(), 1, "{read:?}");
    assert!(read[0].contains("links/link/"), "{read:?}");
    assert!(checked
        .model
        .services
        .iter()
        .any(|s| &*s.description == "test_HIDDEN"));
}
