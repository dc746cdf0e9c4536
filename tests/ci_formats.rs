//! The reports CI systems read (`check --format sarif|gitlab|junit`), the shell completions
//! and the manual page.

mod common;

use common::monitorc;

/// Fixtures with errors, warnings and secondary labels, and a clean tree.
const TREES: &[&str] = &[
    "fixtures/invalid/E0090-daemon-address-shared/main.cfg",
    "fixtures/invalid/W0028-daemon-address-shared-idle/main.cfg",
    "fixtures/invalid/E0061-unknown-command/main.cfg",
    "fixtures/example/monitorc.cfg",
];

/// The official SARIF 2.1.0 schema, as the `serde-sarif` crate (a dev-dependency) ships it.
fn sarif_schema() -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(common::root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("serde-sarif is a dev-dependency");
    let path = std::path::Path::new(manifest)
        .parent()
        .unwrap()
        .join("src/schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
        "{}",
        path.display()
    );
    schema
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let mut schema = sarif_schema();
    // The published schema's one pattern that a strict regex engine refuses (a stray `]`;
    // monitorc sets no `language`): written as the specification's text describes it.
    for def in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][def]["properties"]["language"]["pattern"];
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
    }
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    for tree in TREES {
        let run = monitorc(&["check", "--format", "sarif", tree]);
        assert!(run.code <= 1, "{tree}: {}", run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{tree}:\n{}", errors.join("\n"));
        // One rule per registered code; each result names its rule by index.
        let run0 = &doc["runs"][0];
        let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: std::collections::BTreeSet<&str> =
            rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), rules.len(), "one rule per code");
        for code in ["E0002", "E0061", "E0090", "W0028"] {
            assert!(ids.contains(code), "{code}");
        }
        for r in run0["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            assert!(r["message"]["text"].as_str().unwrap().contains("help: "));
        }
    }
    // The fixture's error points at the second daemon, with the first as a related place.
    let run = monitorc(&["check", "--format", "sarif", TREES[0]]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "E0090");
    assert_eq!(result["level"], "error");
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], TREES[0]);
    assert_eq!(loc["region"]["startLine"], 17);
    assert_eq!(
        result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
}

#[test]
fn gitlab_and_junit_reports_are_as_snapshotted() {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/ci"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for tree in &TREES[..3] {
        let name = std::path::Path::new(tree)
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for format in ["gitlab", "junit"] {
            let run = monitorc(&["check", "--format", format, tree]);
            assert!(run.code <= 1, "{tree}: {}", run.stderr);
            if format == "gitlab" {
                let issues: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                for i in issues.as_array().unwrap() {
                    for key in ["description", "check_name", "fingerprint", "severity"] {
                        assert!(i[key].is_string(), "{key} in {i}");
                    }
                    assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
                }
            }
            s.bind(|| insta::assert_snapshot!(format!("{name}.{format}"), run.stdout));
        }
    }
    // A clean tree: every file is a passing test case.
    let run = monitorc(&["check", "--format", "junit", TREES[3]]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("failures=\"0\""), "{}", run.stdout);
    assert!(!run.stdout.contains("<failure"), "{}", run.stdout);
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = monitorc(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in ["check", "plan", "explain", "--format"] {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
        if matches!(shell, "bash" | "zsh" | "fish") {
            assert!(
                run.stdout.contains("sarif"),
                "{shell} lacks the format values"
            );
        }
    }
    // The bash script is valid bash.
    let run = monitorc(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("monitorc.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success());
    let run = monitorc(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH monitorc 1"), "{}", run.stdout);
    for word in ["monitorc\\-check(1)", "monitorc\\-completions(1)"] {
        assert!(run.stdout.contains(word), "the page lacks {word}");
    }
    // Each command's own page, as the main page's SUBCOMMANDS section names them.
    let run = monitorc(&["man", "check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(".TH monitorc-check 1"),
        "{}",
        run.stdout
    );
    for word in ["\\-\\-format", "sarif", "\\-\\-deny\\-warnings"] {
        assert!(run.stdout.contains(word), "the check page lacks {word}");
    }
    assert_eq!(monitorc(&["man", "nothing"]).code, 2);
}
