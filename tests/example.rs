//! The bundled example tree: it checks clean, its report is snapshotted, and the output is
//! the same bytes whatever the thread count.

mod common;

use std::time::Duration;

const EXAMPLE: &str = "fixtures/example/monitorc.cfg";

#[test]
fn the_example_checks_clean() {
    let run = common::monitorc(&["check", EXAMPLE, "--format", "human", "--deny-warnings"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/example"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.bind(|| insta::assert_snapshot!("check.human", run.stdout));
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    for format in ["json", "human", "short", "github"] {
        let runs: Vec<String> = ["1", "2", "7"]
            .iter()
            .map(|n| {
                common::monitorc_env(
                    &["check", EXAMPLE, "--format", format],
                    &[("RAYON_NUM_THREADS", n)],
                    Duration::from_secs(60),
                )
                .stdout
            })
            .collect();
        assert_eq!(runs[0], runs[1], "{format}: 1 vs 2 threads");
        assert_eq!(runs[0], runs[2], "{format}: 1 vs 7 threads");
    }
    // The same holds for a configuration full of errors in many files.
    let runs: Vec<String> = ["1", "2"]
        .iter()
        .map(|n| {
            common::monitorc_env(
                &["check", "fixtures/invalid", "--format", "json"],
                &[("RAYON_NUM_THREADS", n)],
                Duration::from_secs(60),
            )
            .stdout
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
}
