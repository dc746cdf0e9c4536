//! `monitorc plan`: the example's placement, as a table and as JSON (the CLI contract), and
//! exit 1 without a plan when the configuration has errors.

mod common;

const EXAMPLE: &str = "fixtures/example/monitorc.cfg";

#[test]
fn the_example_plan() {
    let table = common::monitorc(&["plan", EXAMPLE]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let json = common::monitorc(&["plan", EXAMPLE, "--format", "json"]);
    assert_eq!(json.code, 0);
    let doc = common::json(&json);
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/plan"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.bind(|| {
        insta::assert_snapshot!("example.table", table.stdout);
        insta::assert_snapshot!("example.json", json.stdout);
    });
    // The contract's fields, and every host placed exactly once on a scheduler of its realm.
    let mut placed = Vec::new();
    for sched in doc["schedulers"].as_array().unwrap() {
        for key in [
            "name", "realm", "weight", "spare", "hosts", "services", "load",
        ] {
            assert!(sched.get(key).is_some(), "scheduler lacks {key}: {sched}");
        }
        for h in sched["hosts"].as_array().unwrap() {
            placed.push(h.as_str().unwrap().to_string());
            let explain = common::json(&common::monitorc(&[
                "explain",
                EXAMPLE,
                "host",
                h.as_str().unwrap(),
                "--format",
                "json",
            ]));
            let realm = explain["attributes"]
                .get("realm")
                .map(|r| r["value"].as_str().unwrap().to_string());
            if let Some(realm) = realm {
                assert_eq!(
                    realm,
                    sched["realm"].as_str().unwrap(),
                    "{h} placed outside its realm"
                );
            }
        }
    }
    let mut unique = placed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), placed.len(), "a host placed twice");
    let check = common::json(&common::monitorc(&["check", EXAMPLE, "--format", "json"]));
    assert_eq!(
        placed.len() as u64,
        check["summary"]["hosts"].as_u64().unwrap(),
        "every host placed"
    );
    for sat in doc["satellites"].as_array().unwrap() {
        for key in ["name", "type", "realm", "schedulers"] {
            assert!(sat.get(key).is_some(), "satellite lacks {key}: {sat}");
        }
    }
    assert_eq!(doc["moves"].as_array().unwrap().len(), 0);
}

#[test]
fn errors_mean_no_plan_and_exit_1() {
    let run = common::monitorc(&[
        "plan",
        "fixtures/invalid/E0087-realm-without-scheduler/main.cfg",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("E0087"), "{}", run.stderr);
}

/// A tree of `packs` parent chains of 1 to 5 hosts with a few services, and `schedulers`
/// schedulers of weights 1, 2, 3, …
fn tree(dir: &std::path::Path, packs: usize, schedulers: usize, extra_hosts: usize) -> String {
    use std::fmt::Write;
    let mut o = String::from(
        "define command {\n    command_name  check_x\n    command_line  /bin/true\n}\n\n",
    );
    for s in 0..schedulers {
        writeln!(
            o,
            "define scheduler {{\n    scheduler_name  sched-{s}\n    weight  {}\n}}\n",
            s + 1
        )
        .unwrap();
    }
    let mut n = 0;
    for p in 0..packs {
        let len = 1 + (p * 7) % 5;
        for i in 0..len {
            write!(o, "define host {{\n    host_name  h{n:04}\n").unwrap();
            if i > 0 {
                writeln!(o, "    parents  h{:04}", n - 1).unwrap();
            }
            o.push_str("}\n\n");
            n += 1;
        }
    }
    for e in 0..extra_hosts {
        writeln!(o, "define host {{\n    host_name  new{e:03}\n}}\n").unwrap();
    }
    writeln!(o, "define service {{\n    host_name  *\n    service_description  PING\n    check_interval  5\n    retry_interval  1\n    check_command  check_x\n}}\n").unwrap();
    let path = dir.join("objects.cfg");
    std::fs::write(&path, o).unwrap();
    path.display().to_string()
}

fn plan_json(config: &str, previous: Option<&str>) -> serde_json::Value {
    let mut args = vec!["plan", config, "--format", "json"];
    if let Some(p) = previous {
        args.extend(["--previous", p]);
    }
    let run = common::monitorc(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    common::json(&run)
}

fn write_ron(config: &str, out: &std::path::Path) {
    let run = common::monitorc(&["plan", config, "--format", "ron"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(out, run.stdout).unwrap();
}

#[test]
fn sticky_placement() {
    let dir = tempfile::tempdir().unwrap();
    let prev = dir.path().join("plan.ron");
    let config = tree(dir.path(), 60, 3, 0);
    write_ron(&config, &prev);
    let prev_s = prev.display().to_string();

    // Re-planning with itself as the previous plan moves nothing.
    let same = plan_json(&config, Some(&prev_s));
    assert_eq!(same["moves"].as_array().unwrap().len(), 0);
    assert_eq!(same["schedulers"], plan_json(&config, None)["schedulers"]);

    // Unrelated new hosts move no existing host.
    let grown = tree(dir.path(), 60, 3, 5);
    let doc = plan_json(&grown, Some(&prev_s));
    assert_eq!(
        doc["moves"].as_array().unwrap().len(),
        0,
        "{}",
        doc["moves"]
    );

    // A new scheduler takes load: some hosts move, far from all of them.
    let more = tree(dir.path(), 60, 4, 0);
    let doc = plan_json(&more, Some(&prev_s));
    let moves = doc["moves"].as_array().unwrap().len();
    let hosts: usize = doc["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hosts"].as_array().unwrap().len())
        .sum();
    assert!(
        moves > 0 && moves < hosts / 2,
        "{moves} of {hosts} hosts moved"
    );
    let ratio = doc["realms"][0]["balance_ratio"].as_f64().unwrap();
    let bound = doc["realms"][0]["balance_bound"].as_f64().unwrap();
    assert!(ratio <= bound, "ratio {ratio} beyond the bound {bound}");
    for m in doc["moves"].as_array().unwrap() {
        assert_eq!(m["to"], "sched-3", "only the new scheduler receives: {m}");
    }
}

/// One fixture per placement rule (`fixtures/plan/`), its plan snapshotted.
#[test]
fn fixture_plans() {
    let mut files: Vec<_> = std::fs::read_dir(common::root().join("fixtures/plan"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/plan"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let run = common::monitorc(&["plan", &common::rel(&f)]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        s.bind(|| insta::assert_snapshot!(format!("{name}.table"), run.stdout));
        let rate = common::monitorc(&[
            "plan",
            &common::rel(&f),
            "--balance",
            "rate",
            "--format",
            "json",
        ]);
        assert_eq!(rate.code, 0, "{name} --balance rate: {}", rate.stderr);
    }
}
