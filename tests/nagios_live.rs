//! Live differential against Nagios 4 (Debian's `nagios4`, run with `-v`): every dialect probe
//! of `../shared/reference/dialect-probes/` (one per row of `engine-dialects.md`) and every
//! resolve fixture is checked by both programs, monitorc with `--engine nagios`. The verdicts
//! must agree (Nagios accepts ⇔ monitorc reports no error) and, where both accept, so must
//! the object counts. The differences that remain are listed in [`KNOWN`] with their reason;
//! the list must be exact, so a fix shows here as a stale entry.

mod common;

use std::path::Path;
use std::process::Command;

const NAGIOS: &str = "/usr/sbin/nagios4";

/// Configurations where monitorc's verdict deliberately or not yet differs from Nagios 4's.
const KNOWN: &[(&str, &str)] = &[
    (
        "loops/main-tpl-loop.cfg",
        "D9: Nagios accepts a template loop silently (the resolved flag breaks it); monitorc keeps E0041 with the cycle",
    ),
    (
        "fixtures/resolve/33-missing-template-via-child.cfg",
        "#15: Nagios logs a template's missing template and passes when the objects using it are resolved first (an order it does not document); monitorc refuses it in every order (E0040)",
    ),
    (
        "tests/dialects/D09-template-loop",
        "D9: Nagios accepts a template loop silently; monitorc keeps E0041 with the cycle",
    ),
    (
        "parsing/main-bool.cfg",
        "F3: Nagios reads `notifications_enabled yes` as 0 and accepts it; monitorc refuses it (E0022): notifications would be off, silently",
    ),
    (
        "fixtures/resolve/20-booleans.cfg",
        "F3: as parsing/main-bool.cfg",
    ),
    (
        "tests/dialects/F03-boolean-words",
        "F3: Nagios reads `active_checks_enabled yes` as 0 and accepts it; monitorc refuses it (E0022): the checks would be off, silently (DESIGN: what leaves something unmonitored is an error; other switches get W0027)",
    ),
];

/// What `nagios4 -v` concluded.
struct Verdict {
    accepted: bool,
    /// "Checked N services." … by the word after the number.
    counts: Vec<(String, usize)>,
    output: String,
}

fn nagios(main: &Path) -> Verdict {
    let out = Command::new(NAGIOS)
        .arg("-v")
        .arg(main.file_name().unwrap())
        .current_dir(main.parent().unwrap())
        .output()
        .expect("nagios4 runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let counts = text
        .lines()
        .filter_map(|l| {
            let mut w = l.trim().strip_prefix("Checked ")?.split_whitespace();
            let n = w.next()?.parse().ok()?;
            let what = w
                .collect::<Vec<_>>()
                .join(" ")
                .trim_end_matches('.')
                .to_string();
            Some((what, n))
        })
        .collect();
    Verdict {
        accepted: out.status.success(),
        counts,
        output: text,
    }
}

/// monitorc's summary key for a `nagios4 -v` count, for the counts compared.
const COUNTS: &[(&str, &str)] = &[
    ("services", "services"),
    ("hosts", "hosts"),
    ("host groups", "hostgroups"),
    ("service groups", "servicegroups"),
    ("contacts", "contacts"),
    ("contact groups", "contactgroups"),
    ("commands", "commands"),
    ("host escalations", "hostescalations"),
    ("service escalations", "serviceescalations"),
    ("service dependencies", "servicedependencies"),
    ("host dependencies", "hostdependencies"),
];

/// Compares one main configuration; returns the difference, if any.
fn compare(label: &str, main: &Path) -> Option<String> {
    let n = nagios(main);
    let (json, errors) = common::check_as(main, "nagios");
    if n.accepted != errors.is_empty() {
        let nagios_errors: Vec<&str> = n
            .output
            .lines()
            .filter(|l| l.trim_start().starts_with("Error"))
            .take(3)
            .collect();
        return Some(format!(
            "{label}: nagios {} ({nagios_errors:?}), monitorc {} ({:?})",
            if n.accepted { "accepts" } else { "refuses" },
            if errors.is_empty() {
                "accepts"
            } else {
                "refuses"
            },
            errors.iter().take(3).collect::<Vec<_>>()
        ));
    }
    if !n.accepted {
        return None;
    }
    let mut diffs = Vec::new();
    for (theirs, mine) in COUNTS {
        let Some(&(_, want)) = n.counts.iter().find(|(w, _)| w == theirs) else {
            continue;
        };
        let got = json["summary"][mine].as_u64().unwrap() as usize;
        if got != want {
            diffs.push(format!("{mine}: nagios {want}, monitorc {got}"));
        }
    }
    (!diffs.is_empty()).then(|| format!("{label}: {}", diffs.join(", ")))
}

#[test]
fn nagios_and_monitorc_give_the_same_verdicts_and_counts() {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: {NAGIOS} is not installed (Debian package nagios4-core)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Nagios may read the files as its own user once it has dropped root.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let configs = common::live_configurations(dir.path(), common::LIVE_BASE);
    let mut found: Vec<String> = Vec::new();
    for (label, main) in &configs {
        found.extend(compare(label, main));
    }
    let labels: Vec<String> = configs.into_iter().map(|(l, _)| l).collect();
    let problems = common::known_problems(&found, &labels, KNOWN);
    eprintln!(
        "nagios4 -v and monitorc --engine nagios: {} of {} configurations agree; {} known differences",
        labels.len() - found.len(),
        labels.len(),
        found.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
