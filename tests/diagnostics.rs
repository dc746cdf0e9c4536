//! One fixture per diagnostic code: each triggers its code, and its rendering (human and
//! JSON) is snapshotted. A registered code without a fixture fails the suite. A fixture is
//! checked as the engine its `engine` file names, if it has one (auto otherwise).

mod common;

use common::{codes, monitorc};
use monitorc_compiler::grammar::{Severity, REGISTRY};

fn fixture_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(common::root().join("fixtures/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/diagnostics"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

#[test]
fn every_registered_code_has_a_fixture() {
    let names: Vec<String> = fixture_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<String> = REGISTRY
        .iter()
        .map(|c| format!("{}-{}", c.code, c.name))
        .filter(|n| !names.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a fixture under fixtures/invalid: {missing:?}"
    );
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| {
            !REGISTRY
                .iter()
                .any(|c| format!("{}-{}", c.code, c.name) == **n)
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "fixtures named after no registered code: {unknown:?}"
    );
}

#[test]
fn each_fixture_triggers_its_code_and_renders_as_snapshotted() {
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let code = REGISTRY
            .iter()
            .find(|c| name.starts_with(c.code))
            .unwrap_or_else(|| panic!("{name} names no registered code"));
        let main = format!("{}/main.cfg", common::rel(&dir));
        // A fixture about one engine's rule names it in an `engine` file (auto otherwise).
        let engine = std::fs::read_to_string(dir.join("engine"))
            .map(|e| e.trim().to_string())
            .unwrap_or_else(|_| "auto".into());
        // A fixture about Alignak's environment has its `alignak.ini`.
        let env = dir.join("alignak.ini");
        let env = env
            .exists()
            .then(|| format!("{}/alignak.ini", common::rel(&dir)));
        let monitorc = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(["--engine", engine.as_str()]);
            if let Some(env) = &env {
                all.extend(["--alignak-env", env.as_str()]);
            }
            monitorc(&all)
        };

        let json = monitorc(&["check", &main, "--format", "json"]);
        let found = codes(&json);
        assert!(found.iter().any(|c| c == code.code), "{name}: {:?}", found);
        let expected_exit = match code.severity {
            Severity::Error => 1,
            Severity::Warning => 0,
        };
        assert_eq!(json.code, expected_exit, "{name}: exit code");
        if code.severity == Severity::Warning {
            let denied = monitorc(&["check", &main, "--format", "short", "--deny-warnings"]);
            assert_eq!(denied.code, 1, "{name}: --deny-warnings");
        }

        let human = monitorc(&["check", &main, "--format", "human"]);
        assert_eq!(human.code, expected_exit);
        settings().bind(|| {
            insta::assert_snapshot!(format!("{name}.human"), human.stdout);
            insta::assert_snapshot!(format!("{name}.json"), json.stdout);
        });
    }
}

/// Every output format, snapshotted on a run with many diagnostics in many files.
#[test]
fn every_format_renders_as_snapshotted() {
    for format in ["short", "github"] {
        let run = monitorc(&[
            "check",
            "fixtures/invalid/E0040-unknown-template",
            "--format",
            format,
        ]);
        assert_eq!(run.code, 1);
        settings().bind(|| insta::assert_snapshot!(format!("formats.{format}"), run.stdout));
    }
    let all = monitorc(&["check", "fixtures/invalid", "--format", "short"]);
    assert_eq!(all.code, 1);
    // All fixtures checked as one directory: one line per diagnostic, many of them.
    assert!(
        all.stdout.lines().count() > REGISTRY.len() / 2,
        "{}",
        all.stdout
    );
}
