//! `monitorc explain`: resolved attributes with their origin, for a host and a service of the
//! example, in both formats; exit 1 with a did-you-mean for a missing object.

mod common;

const EXAMPLE: &str = "fixtures/example/monitorc.cfg";

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/explain"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

#[test]
fn a_host_and_a_service_with_their_origins() {
    for (name, args) in [
        ("host", vec!["host", "paris-web-01"]),
        ("service", vec!["service", "paris-web-01", "HTTP"]),
    ] {
        let mut human = vec!["explain", EXAMPLE];
        human.extend(&args);
        let run = common::monitorc(&human);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut json = human.clone();
        json.extend(["--format", "json"]);
        let jrun = common::monitorc(&json);
        assert_eq!(jrun.code, 0);
        let doc = common::json(&jrun);
        settings().bind(|| {
            insta::assert_snapshot!(format!("{name}.human"), run.stdout);
            insta::assert_snapshot!(format!("{name}.json"), jrun.stdout);
        });
        // Every attribute says where it came from.
        for (attr, v) in doc["attributes"].as_object().unwrap() {
            assert!(
                v["file"].is_string() && v["line"].is_u64(),
                "{name} {attr}: {v}"
            );
            assert!(v.get("value").is_some() && v.get("template").is_some());
        }
    }
    let doc = common::json(&common::monitorc(&[
        "explain",
        EXAMPLE,
        "host",
        "paris-web-01",
        "--format",
        "json",
    ]));
    // Inherited from a template: the template is named; set on the host: no template.
    assert_eq!(
        doc["attributes"]["check_interval"]["template"],
        "generic-host"
    );
    assert!(doc["attributes"]["address"]["template"].is_null());
}

#[test]
fn a_missing_object_exits_1_with_a_hint() {
    let run = common::monitorc(&["explain", EXAMPLE, "host", "paris-web-1"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("did you mean `paris-web-01`?"),
        "{}",
        run.stderr
    );
    let run = common::monitorc(&["explain", EXAMPLE, "service", "paris-web-01", "HTPP"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("HTTP"), "{}", run.stderr);
    let run = common::monitorc(&["explain", EXAMPLE, "router", "x"]);
    assert_eq!(run.code, 2);
}
