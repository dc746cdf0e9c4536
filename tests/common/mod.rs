//! Helpers shared by the CLI tests: run the built binary, with a time limit.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `monitorc ARGS` from the repository root; fails the test after `limit` (a hang is a
/// bug, never a pass).
pub fn monitorc_with_limit(args: &[&str], limit: Duration) -> Run {
    monitorc_env(args, &[], limit)
}

/// Like [`monitorc_with_limit`], with extra environment variables.
pub fn monitorc_env(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_monitorc"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("monitorc starts");
    // Drain the pipes on threads so a large output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("monitorc {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status
            .code()
            .expect("monitorc exited normally, not by a signal"),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

pub fn monitorc(args: &[&str]) -> Run {
    monitorc_with_limit(args, Duration::from_secs(60))
}

pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout))
}

/// The codes of every diagnostic of a `--format json` run.
pub fn codes(run: &Run) -> Vec<String> {
    json(run)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

pub fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// What a live differential test (`nagios_live`, `shinken_live`) compares, as (label, main
/// config): every main config of the dialect probes beside the repository
/// (`DIR/nagios.cfg`, `DIR/main-*.cfg`), one configuration per line of their timeperiod cases,
/// every dialect row fixture (`tests/dialects/*/nagios.cfg`) and every resolve fixture. The
/// timeperiod cases and the resolve fixtures are written into `dir`, each loaded with `base`
/// (what the engine needs besides the fixture, such as a contact, a host and a service).
pub fn live_configurations(dir: &Path, base: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let probe_root = root().join("../shared/reference/dialect-probes");
    if probe_root.is_dir() {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&probe_root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            let mut mains: Vec<PathBuf> = std::fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy();
                    n == "nagios.cfg" || (n.starts_with("main-") && n.ends_with(".cfg"))
                })
                .collect();
            mains.sort();
            for m in mains {
                let label = format!(
                    "{}/{}",
                    d.file_name().unwrap().to_string_lossy(),
                    m.file_name().unwrap().to_string_lossy()
                );
                out.push((label, m));
            }
        }
    } else {
        eprintln!(
            "SKIPPED (probes): ../shared/reference/dialect-probes is not beside the repository"
        );
    }
    std::fs::write(dir.join("base.cfg"), base).unwrap();
    let main_with = |name: &str, file: &Path| {
        let main = dir.join(format!("{name}.main.cfg"));
        std::fs::write(
            &main,
            format!("cfg_file=base.cfg\ncfg_file={}\n", file.display()),
        )
        .unwrap();
        main
    };
    // Every timeperiod line of the catalogue's I rows, one configuration each.
    if let Ok(text) = std::fs::read_to_string(probe_root.join("timeperiods/cases.txt")) {
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let obj = dir.join(format!("timeperiod-{n}.cfg"));
            std::fs::write(
                &obj,
                format!("define timeperiod {{\n    timeperiod_name  probe\n    alias  probe\n    {line}\n}}\n"),
            )
            .unwrap();
            let label = format!("timeperiods/cases.txt#{}", n + 1);
            out.push((label, main_with(&format!("timeperiod-{n}"), &obj)));
        }
    }
    // One fixture per row of the catalogue (`tests/dialects.rs`).
    let mut rows: Vec<PathBuf> = std::fs::read_dir(root().join("tests/dialects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("nagios.cfg").is_file())
        .collect();
    rows.sort();
    for d in rows {
        let label = format!(
            "tests/dialects/{}",
            d.file_name().unwrap().to_string_lossy()
        );
        out.push((label, d.join("nagios.cfg")));
    }
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/resolve"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    for f in fixtures {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        out.push((format!("fixtures/resolve/{name}"), main_with(&name, &f)));
    }
    out
}

/// The problems of a differential run: a difference (`LABEL: …`) not in `known`, or a known
/// one that no longer shows (the list must be exact, so a fix shows as a stale entry).
pub fn known_problems(found: &[String], labels: &[String], known: &[(&str, &str)]) -> Vec<String> {
    let label_of = |d: &str| d.split(": ").next().unwrap_or("").to_string();
    let mut problems = Vec::new();
    for diff in found {
        if !known.iter().any(|(k, _)| *k == label_of(diff)) {
            problems.push(format!("new difference: {diff}"));
        }
    }
    for (k, why) in known {
        let listed = labels.iter().any(|l| l == k);
        if listed && !found.iter().any(|d| label_of(d) == *k) {
            problems.push(format!("{k} agrees now: remove it from KNOWN ({why})"));
        }
    }
    problems
}

/// `monitorc check MAIN --engine ENGINE --format json`: the document and its errors, each as
/// `CODE message`.
pub fn check_as(main: &Path, engine: &str) -> (serde_json::Value, Vec<String>) {
    let run = monitorc_with_limit(
        &[
            "check",
            &main.display().to_string(),
            "--engine",
            engine,
            "--format",
            "json",
        ],
        Duration::from_secs(60),
    );
    assert!(
        run.code == 0 || run.code == 1,
        "{}: {}",
        main.display(),
        run.stderr
    );
    let doc = json(&run);
    let errors = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            format!(
                "{} {}",
                d["code"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    (doc, errors)
}

/// What every configuration of a live differential test is loaded with: Nagios refuses a
/// configuration without a contact, a host or a service, which the fixtures, each about one
/// rule, leave out; Shinken 2.4 also wants a service's check and retry intervals.
pub const LIVE_BASE: &str = "
define timeperiod {
    timeperiod_name  monitorc-live-24x7
    alias            24x7
    monday           00:00-24:00
}
define command {
    command_name  monitorc-live-true
    command_line  /bin/true
}
define contact {
    contact_name                   monitorc-live-contact
    host_notification_period       monitorc-live-24x7
    service_notification_period    monitorc-live-24x7
    host_notification_commands     monitorc-live-true
    service_notification_commands  monitorc-live-true
}
define host {
    host_name           monitorc-live-host
    address             127.0.0.1
    max_check_attempts  1
    check_command       monitorc-live-true
}
define service {
    host_name            monitorc-live-host
    service_description  monitorc-live-service
    max_check_attempts   1
    check_interval       5
    retry_interval       1
    check_command        monitorc-live-true
}
";

/// What a tree run by a real Nagios in a test needs besides its hosts (shared with the node
/// benchmarks).
#[allow(unused_imports)]
pub use monitorc_bench::LOOPBACK_BASE;

/// Copies the directory `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}
