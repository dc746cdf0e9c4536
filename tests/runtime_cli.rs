//! `monitorc route` and `monitorc failover` over the committed example shard set.

mod common;

const SET: &str = "fixtures/example-shards";

fn route(line: &str) -> common::Run {
    common::monitorc(&["route", SET, line])
}

#[test]
fn commands_go_where_their_objects_are() {
    let r = route("[1700000000] PROCESS_HOST_CHECK_RESULT;tokyo-web-01;0;UP");
    assert_eq!((r.code, r.stdout.as_str()), (0, "scheduler-tokyo\n"));
    // The plugin output keeps its `;` (perfdata).
    let r = common::monitorc(&[
        "route",
        SET,
        "PROCESS_SERVICE_CHECK_RESULT;paris-web-01;HTTP;0;OK|time=1;2;3",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = common::json(&r);
    assert_eq!(doc["targets"], serde_json::json!(["scheduler-paris-2"]));
    assert_eq!(doc["arguments"][3], "OK|time=1;2;3");
    // Global commands reach every scheduler but spares; group commands only those holding it.
    let r = route("DISABLE_NOTIFICATIONS");
    assert_eq!(
        r.stdout,
        "scheduler-paris-1\nscheduler-paris-2\nscheduler-tokyo\n"
    );
    let r = route("ENABLE_HOSTGROUP_SVC_CHECKS;site-tokyo");
    assert_eq!(r.stdout, "scheduler-tokyo\n");
    let r = route("RESTART_PROGRAM");
    assert_eq!(r.stdout, "arbiter\n");
}

#[test]
fn invalid_lines_are_reported_not_panicked() {
    for (line, needle) in [
        ("PROCESS_HOST_CHECK_RESULT;nohost;0;x", "no host `nohost`"),
        (
            "PROCESS_SERVICE_CHECK_RESULT;tokyo-web-01;NOPE;0;x",
            "no service `NOPE`",
        ),
        (
            "PROCES_HOST_CHECK_RESULT;tokyo-web-01;0;x",
            "did you mean `PROCESS_HOST_CHECK_RESULT`",
        ),
        ("PROCESS_HOST_CHECK_RESULT;tokyo-web-01", "takes 3 argument"),
        (
            "ENABLE_HOSTGROUP_SVC_CHECKS;nogroup",
            "no hostgroup `nogroup`",
        ),
        ("", "empty"),
    ] {
        let r = route(line);
        assert_eq!(r.code, 1, "{line}");
        assert!(r.stderr.contains(needle), "{line}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"));
    }
    assert_eq!(
        common::monitorc(&["route", "/nonexistent", "RELOAD_CONFIG"]).code,
        2
    );
}

#[test]
fn failover_plans() {
    let r = common::monitorc(&["failover", SET, "--dead", "scheduler-paris-1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("scheduler scheduler-paris-1: shard taken over by scheduler-paris-spare"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("poller/poller-paris: link scheduler-paris-1 -> scheduler-paris-spare"),
        "{}",
        r.stdout
    );
    // Two dead schedulers, one spare: the second leaves its hosts unmonitored.
    let r = common::monitorc(&[
        "failover",
        SET,
        "--dead",
        "scheduler-paris-1",
        "scheduler-paris-2",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("scheduler-paris-2: no live spare; 3 hosts unmonitored"),
        "{}",
        r.stdout
    );
    // Tokyo has no spare at all.
    let r = common::monitorc(&["failover", SET, "--dead", "scheduler-tokyo"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("7 hosts unmonitored"), "{}", r.stdout);
    let r = common::monitorc(&["failover", SET, "--dead", "nobody"]);
    assert_eq!(r.code, 1);
}

#[test]
fn lookups_and_host_routing_property() {
    use monitorc_runtime::commands::{parse, route, Target};
    use monitorc_runtime::shard::ShardSet;
    let set = ShardSet::open(&common::root().join(SET)).unwrap();
    assert_eq!(set.scheduler_of("tokyo-db-01"), Some("scheduler-tokyo"));
    assert_eq!(
        set.schedulers_with_group("hostgroup", "site-tokyo"),
        ["scheduler-tokyo"]
    );
    assert_eq!(
        set.spares_of("scheduler/scheduler-paris-1"),
        ["scheduler-paris-spare"]
    );
    assert!(set
        .satellites_of("scheduler-tokyo")
        .contains(&"poller/poller-tokyo".to_string()));
    // Every host-routed command goes to exactly the scheduler of the host's shard, for every
    // host and every host-routed command of the table.
    let host_commands: Vec<_> = monitorc_runtime::commands::all()
        .filter(|c| c.class() == monitorc_runtime::commands::Class::Host)
        .collect();
    assert!(host_commands.len() >= 50);
    for (host, owner) in &set.manifest.hosts {
        for spec in &host_commands {
            let args: Vec<String> = spec
                .args
                .iter()
                .enumerate()
                .map(|(i, a)| match a {
                    _ if i == 0 => host.clone(),
                    monitorc_runtime::commands::Arg::Host => host.clone(),
                    monitorc_runtime::commands::Arg::Int
                    | monitorc_runtime::commands::Arg::Bool => "1".into(),
                    monitorc_runtime::commands::Arg::Float => "1.5".into(),
                    _ => "x".into(),
                })
                .collect();
            let line = format!("{};{}", spec.name, args.join(";"));
            let cmd = parse(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(
                route(&set, &cmd).unwrap(),
                Target::Schedulers(vec![owner.clone()]),
                "{line}"
            );
        }
    }
}
