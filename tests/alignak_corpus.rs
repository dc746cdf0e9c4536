//! Alignak 2.1.5's own test configurations (`../shared/corpus/alignak-2.1.5/`): every one of
//! the 120 entries runs through `monitorc check` without a crash or a hang, and the agreement
//! with Alignak's verdicts is printed. (Asserting each verdict, with the reviewed list of
//! intended differences, is issue #7.)

mod common;

use std::time::Duration;

#[test]
fn every_entry_runs_and_the_agreement_is_reported() {
    let corpus = common::root().join("../shared/corpus/alignak-2.1.5");
    let Ok(text) = std::fs::read_to_string(corpus.join("entries.json")) else {
        eprintln!("SKIPPED: ../shared/corpus/alignak-2.1.5 is not beside the repository");
        return;
    };
    let entries: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 120);
    let mut agree = 0;
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for e in entries {
        let cfg = corpus.join(e["cfg"].as_str().unwrap());
        let run = common::monitorc_with_limit(
            &["check", &cfg.display().to_string(), "--format", "json"],
            Duration::from_secs(60),
        );
        assert!(
            !run.stderr.contains("panicked"),
            "{}: {}",
            cfg.display(),
            run.stderr
        );
        assert!(
            run.code == 0 || run.code == 1,
            "{}: exit {} {}",
            cfg.display(),
            run.code,
            run.stderr
        );
        let alignak_accepts = e["alignak_verify_exit"] == 0;
        if (run.code == 0) == alignak_accepts {
            agree += 1;
        }
        for d in common::json(&run)["diagnostics"].as_array().unwrap() {
            if d["severity"] == "error" {
                *codes
                    .entry(d["code"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
    }
    eprintln!("alignak corpus: monitorc agrees with Alignak on {agree} of {} entries; errors by code: {codes:?}", entries.len());
}
