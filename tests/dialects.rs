//! One fixture per row of the engine-dialect catalogue (`../shared/reference/engine-dialects.md`,
//! rows A1–J5), under `tests/dialects/<ROW>-<slug>/`: a `nagios.cfg` main config (loading
//! `../_base/base.cfg` and the row's `objects.cfg`), whose header says what each engine does with
//! it, as measured:
//!
//! ```text
//! # A1: <the row>
//! # Nagios 4: …
//! # Shinken 2.4: …
//! # Alignak 2.1: …
//! # explain: service h1 A        (optional, repeatable)
//! ```
//!
//! Each fixture is checked as each of the three engines, and the result (verdict, object
//! counts, diagnostics, and the resolved attributes of the objects its `# explain:` lines name)
//! is snapshotted in `snapshots/dialects/`, the header as the snapshot's description: a review
//! reads the engines' behaviour and monitorc's side by side. The Nagios verdicts and counts are
//! also compared live with `nagios4 -v` (`tests/nagios_live.rs`), and Shinken's with Shinken
//! 2.4.3 (`tests/shinken_live.rs`).

mod common;

use std::path::{Path, PathBuf};

const ENGINES: &[&str] = &["nagios", "shinken", "alignak"];

/// The catalogue's sections and how many rows each has.
const ROWS: &[(char, usize)] = &[
    ('A', 12),
    ('B', 7),
    ('C', 8),
    ('D', 13),
    ('E', 4),
    ('F', 14),
    ('G', 6),
    ('H', 3),
    ('I', 6),
    ('J', 5),
];

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(common::root().join("tests/dialects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    dirs.sort();
    dirs
}

/// `A01-…` → `A1`.
fn row_of(dir: &Path) -> String {
    let name = dir.file_name().unwrap().to_string_lossy();
    let id = name.split('-').next().unwrap();
    let (letter, number) = id.split_at(1);
    format!("{letter}{}", number.parse::<usize>().unwrap_or(0))
}

/// The comment lines at the top of `objects.cfg`.
fn header(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("objects.cfg"))
        .unwrap_or_default()
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_catalogue_row_has_one_fixture_with_its_header() {
    let dirs = fixture_dirs();
    let mut problems = Vec::new();
    for &(letter, count) in ROWS {
        for n in 1..=count {
            let row = format!("{letter}{n}");
            let found: Vec<_> = dirs.iter().filter(|d| row_of(d) == row).collect();
            if found.len() != 1 {
                problems.push(format!("row {row}: {} fixtures", found.len()));
            }
        }
    }
    for d in &dirs {
        let row = row_of(d);
        let known = ROWS.iter().any(|&(l, c)| {
            row.starts_with(l)
                && row[1..]
                    .parse::<usize>()
                    .is_ok_and(|n| (1..=c).contains(&n))
        });
        if !known {
            problems.push(format!("{}: no catalogue row {row}", common::rel(d)));
        }
        if !d.join("nagios.cfg").is_file() {
            problems.push(format!("{}: no nagios.cfg", common::rel(d)));
        }
        let h = header(d);
        let starts = |p: &str| h.iter().any(|l| l.starts_with(p));
        for p in [
            format!("# {row}: "),
            "# Nagios 4: ".into(),
            "# Shinken 2.4: ".into(),
            "# Alignak 2.1: ".into(),
        ] {
            if !starts(&p) {
                problems.push(format!(
                    "{}: the header of objects.cfg lacks `{p}`",
                    common::rel(d)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Summary fields that are not object counts.
const NOT_COUNTS: &[&str] = &["engine", "engine_reason", "errors", "warnings", "files"];

/// What monitorc makes of one fixture as one engine.
fn report(dir: &Path, engine: &str) -> String {
    let main = format!("{}/nagios.cfg", common::rel(dir));
    let prefix = format!("{}/", common::rel(dir));
    let run = common::monitorc(&["check", &main, "--format", "json", "--engine", engine]);
    assert!(
        run.code == 0 || run.code == 1,
        "{main} as {engine}: exit {}\n{}",
        run.code,
        run.stderr
    );
    let doc = common::json(&run);
    let summary = &doc["summary"];
    let errors = summary["errors"].as_u64().unwrap();
    let mut out = format!(
        "== {engine}: {} ({errors} errors, {} warnings)\n",
        if errors == 0 { "accepted" } else { "refused" },
        summary["warnings"]
    );
    let counts: Vec<String> = summary
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| !NOT_COUNTS.contains(&k.as_str()) && v.as_u64() != Some(0))
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    out += &format!("counts: {}\n", counts.join(", "));
    for d in doc["diagnostics"].as_array().unwrap() {
        let file = d["file"].as_str().unwrap_or("-");
        out += &format!(
            "{} {}:{}:{} {}\n",
            d["code"].as_str().unwrap(),
            file.strip_prefix(&prefix).unwrap_or(file),
            d["line"],
            d["column"],
            d["message"].as_str().unwrap()
        );
    }
    for line in header(dir) {
        let Some(what) = line.strip_prefix("# explain:") else {
            continue;
        };
        let what: Vec<&str> = what.split_whitespace().collect();
        let mut args = vec!["explain", "--engine", engine, main.as_str()];
        args.extend(&what);
        let run = common::monitorc(&args);
        out += &format!("explain {}:", what.join(" "));
        if run.code != 0 {
            out += " (none)\n";
            continue;
        }
        out += "\n";
        // The resolved attributes, with their origin.
        for l in run
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("attributes:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
        {
            out += &format!("  {}\n", l.trim().replace(&prefix, ""));
        }
    }
    out
}

#[test]
fn each_row_as_each_engine_matches_its_snapshot() {
    let dirs = fixture_dirs();
    assert!(!dirs.is_empty(), "no fixture under tests/dialects");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text: String = ENGINES.iter().map(|e| report(&dir, e)).collect();
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(common::root().join("snapshots/dialects"));
        s.set_prepend_module_to_snapshot(false);
        s.set_omit_expression(true);
        s.set_description(header(&dir).join("\n"));
        s.bind(|| insta::assert_snapshot!(name, text));
    }
}

/// F10 is about object files: the files an Alignak environment names (`cfg=` in
/// `[alignak-configuration]`) are Alignak's legacy main configuration files, whose `cfg_dir`
/// and `cfg_file` lines Alignak follows; a `cfg_file` inside an object file it ignores.
#[test]
fn an_alignak_environment_s_cfg_files_are_main_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("alignak.ini", "[alignak-configuration]\ncfg=alignak.cfg\n");
    write("alignak.cfg", "cfg_dir=objects\n");
    write(
        "objects/hosts.cfg",
        "define command {\n  command_name check_dummy\n  command_line /bin/true\n}\n\
         define host {\n  host_name h1\n  address 127.0.0.1\n  check_command check_dummy\n  notifications_enabled 0\n}\n\
         cfg_file=more.conf\n",
    );
    write(
        "objects/more.conf",
        "define host {\n  host_name h2\n  check_command check_dummy\n}\n",
    );
    let ini = dir.path().join("alignak.ini").display().to_string();
    let run = common::monitorc(&["check", &ini, "--format", "json"]);
    let doc = common::json(&run);
    assert_eq!(doc["summary"]["engine"], "alignak", "{}", run.stdout);
    assert_eq!(doc["summary"]["hosts"], 1, "{}", run.stdout);
    assert_eq!(common::codes(&run), ["W0026"], "{}", run.stdout);
}
