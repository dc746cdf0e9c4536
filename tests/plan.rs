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
