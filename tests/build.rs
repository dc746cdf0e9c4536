//! `monitorc build`: the example's shard set is the committed, reviewed artifact
//! (`fixtures/example-shards/`); builds are byte-identical across thread counts and runs; a
//! failed build leaves the previous set untouched; every file loads back through the runtime
//! loader, which rejects a tampered set.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use monitorc_runtime::shard::ShardSet;

const EXAMPLE: &str = "fixtures/example/monitorc.cfg";

fn read_set(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walk(dir) {
        let rel = entry.strip_prefix(dir).unwrap().display().to_string();
        out.insert(rel, std::fs::read(&entry).unwrap());
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files
}

fn build(config: &str, out: &Path, threads: &str) -> common::Run {
    common::monitorc_env(
        &["build", config, "-o", &out.display().to_string()],
        &[("RAYON_NUM_THREADS", threads)],
        Duration::from_secs(60),
    )
}

#[test]
fn the_committed_example_set_is_what_build_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");
    let run = build(EXAMPLE, &out, "2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = read_set(&common::root().join("fixtures/example-shards"));
    let built = read_set(&out);
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        built.keys().collect::<Vec<_>>(),
        "the file list changed: rebuild with `cargo run -- build fixtures/example/monitorc.cfg -o fixtures/example-shards` and review"
    );
    for (k, v) in &built {
        assert!(
            committed[k] == *v,
            "{k} changed: rebuild the example set and review the diff"
        );
    }
}

#[test]
fn builds_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let sets: Vec<_> = [("a", "1"), ("b", "2"), ("c", "2")]
        .iter()
        .map(|(name, threads)| {
            let out = dir.path().join(name);
            assert_eq!(build(EXAMPLE, &out, threads).code, 0);
            read_set(&out)
        })
        .collect();
    assert_eq!(sets[0], sets[1], "1 vs 2 threads");
    assert_eq!(sets[1], sets[2], "two runs");
}

#[test]
fn a_failed_build_leaves_the_previous_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");
    assert_eq!(build(EXAMPLE, &out, "2").code, 0);
    let before = read_set(&out);
    let run = build(
        "fixtures/invalid/E0087-realm-without-scheduler/main.cfg",
        &out,
        "2",
    );
    assert_eq!(run.code, 1);
    assert_eq!(read_set(&out), before, "the old set is untouched");
    // A build that succeeds replaces the set whole: files of removed daemons disappear.
    assert_eq!(build("fixtures/plan/implicit.cfg", &out, "2").code, 0);
    let after = read_set(&out);
    assert!(
        after.keys().all(|k| !k.contains("paris")),
        "{:?}",
        after.keys()
    );
    // Nothing is left beside the set.
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, ["set"]);
}

#[test]
fn sets_load_back_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");
    assert_eq!(build(EXAMPLE, &out, "2").code, 0);
    let set = ShardSet::open(&out).unwrap();
    assert_eq!(set.schedulers.len(), set.manifest.schedulers.len());
    // Round trip: every file re-serializes to the same bytes.
    for (name, shard) in &set.schedulers {
        let text = std::fs::read_to_string(out.join(format!("schedulers/{name}.ron"))).unwrap();
        assert_eq!(monitorc_runtime::shard::to_ron(shard), text);
    }
    let placed: usize = set.schedulers.values().map(|s| s.hosts.len()).sum();
    assert_eq!(
        placed,
        set.manifest.hosts.len(),
        "every host in exactly one shard"
    );
    // Tampering with a shard, or a missing file, is reported with the file's name.
    let victim = out.join("schedulers/scheduler-tokyo.ron");
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(&victim, text.replace("tokyo-web-01", "tokyo-web-99")).unwrap();
    let err = ShardSet::open(&out).unwrap_err();
    assert_eq!(err.file, "schedulers/scheduler-tokyo.ron");
    std::fs::remove_file(&victim).unwrap();
    assert_eq!(
        ShardSet::open(&out).unwrap_err().file,
        "schedulers/scheduler-tokyo.ron"
    );
    let manifest = out.join("manifest.ron");
    let m = std::fs::read_to_string(&manifest).unwrap().replacen(
        &format!("format_version: {}", monitorc_runtime::FORMAT_VERSION),
        "format_version: 7",
        1,
    );
    std::fs::write(&manifest, m).unwrap();
    assert!(ShardSet::open(&out)
        .unwrap_err()
        .message
        .contains("format version 7"));
    // A set of another version still gives its placement to `--previous`: nothing moves.
    let run = common::monitorc(&[
        "plan",
        EXAMPLE,
        "--previous",
        &out.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(common::json(&run)["moves"], serde_json::json!([]));
}

#[test]
fn diff_summarises_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert_eq!(build(EXAMPLE, &a, "2").code, 0);
    let same = common::monitorc(&["diff", &a.display().to_string(), &a.display().to_string()]);
    assert_eq!((same.code, same.stdout.as_str()), (0, ""));
    // A changed copy of the example: one template value, one new host.
    let src = dir.path().join("example");
    common::copy_dir(&common::root().join("fixtures/example"), &src);
    let services = src.join("objects/templates/services.cfg");
    let text = std::fs::read_to_string(&services).unwrap();
    std::fs::write(
        &services,
        text.replacen("check_interval\t\t\t10", "check_interval\t\t\t12", 1),
    )
    .unwrap();
    let hosts = src.join("objects/hosts/paris.cfg");
    let mut text = std::fs::read_to_string(&hosts).unwrap();
    text.push_str("define host {\n    host_name  paris-new-01\n    use        linux-server\n    address    10.1.9.9\n}\n");
    std::fs::write(&hosts, text).unwrap();
    let run = common::monitorc(&[
        "build",
        &src.join("monitorc.cfg").display().to_string(),
        "-o",
        &b.display().to_string(),
        "--previous",
        &a.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = common::monitorc(&["diff", &a.display().to_string(), &b.display().to_string()]);
    assert_eq!(d.code, 1);
    assert!(
        d.stdout.contains("host added: paris-new-01"),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout
            .contains("service paris-db-01/MySQL: check_interval: 10 -> 12"),
        "{}",
        d.stdout
    );
    assert!(
        !d.stdout.contains("host moved"),
        "sticky: no host moves\n{}",
        d.stdout
    );
    let files = common::monitorc(&[
        "diff",
        &a.display().to_string(),
        &b.display().to_string(),
        "--files",
    ]);
    assert!(
        files.stdout.contains("--- a/manifest.ron"),
        "{}",
        files.stdout
    );
    let broken = common::monitorc(&["diff", &a.display().to_string(), "/nonexistent"]);
    assert_eq!(broken.code, 2);
}

/// `--emit nagios`: every scheduler directory of every valid fixture passes `nagios4 -v` (the
/// shards are self-contained). Nagios' own lint of thin fixtures (hosts without services or
/// contacts) is the only warning allowed, and the example has none.
#[test]
fn emitted_nagios_configurations_pass_nagios4() {
    if !Path::new("/usr/sbin/nagios4").exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return;
    }
    let mut configs = vec![common::root().join(EXAMPLE)];
    for dir in ["fixtures/plan", "fixtures/resolve"] {
        let mut files: Vec<_> = std::fs::read_dir(common::root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        configs.extend(files);
    }
    let tmp = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mut checked = 0;
    for (i, config) in configs.iter().enumerate() {
        let out = tmp.path().join(format!("set{i}"));
        let run = common::monitorc(&[
            "build",
            &config.display().to_string(),
            "-o",
            &out.display().to_string(),
            "--emit",
            "nagios",
        ]);
        if run.code == 1 {
            continue; // a fixture made to fail (loops)
        }
        assert_eq!(run.code, 0, "{}: {}", config.display(), run.stderr);
        // nagios4 runs as the `nagios` user.
        for d in walk(&out)
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .chain([tmp.path().to_path_buf(), out.clone()])
        {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        }
        let nagios_dir = out.join("nagios");
        for entry in std::fs::read_dir(&nagios_dir).unwrap() {
            let dir = entry.unwrap().path();
            // The operator's resource file (shards carry none).
            std::fs::write(
                dir.join("resource.cfg"),
                "$USER1$=/usr/lib/nagios/plugins\n",
            )
            .unwrap();
            let main = dir.join("nagios.cfg");
            let v = std::process::Command::new("/usr/sbin/nagios4")
                .arg("-v")
                .arg(&main)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&v.stdout);
            let findings: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with("Warning") || l.starts_with("Error"))
                .collect();
            if config.ends_with("escalations.cfg") {
                // Both escalations are Nagios objects of the shard.
                assert!(text.contains("Checked 1 host escalations"), "{text}");
                assert!(text.contains("Checked 1 service escalations"), "{text}");
            }
            if config.ends_with(EXAMPLE) {
                assert!(findings.is_empty(), "{}: {findings:?}", main.display());
                assert!(text.contains("Total Errors:   0") && text.contains("Total Warnings: 0"));
            }
            // Thin fixtures draw Nagios' lint (nothing to notify, no periods), and Shinken's
            // business rules are no Nagios command; anything else, such as a reference to an
            // object of another shard, would fail here.
            const LINT: &[&str] = &[
                "has no services associated",
                "has no default contacts",
                "There are no services defined",
                "There are no contacts defined",
                "has no check time period",
                "has no notification time period",
                "notification commands defined",
                "notification time period defined",
                "'bp_rule!",
            ];
            for f in &findings {
                assert!(
                    LINT.iter().any(|l| f.contains(l)),
                    "{} ({}): {f}",
                    main.display(),
                    config.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} Nagios directories checked");
}

/// A build killed in the middle leaves the previous set as it was.
#[test]
fn a_killed_build_leaves_the_previous_set() {
    let dir = tempfile::tempdir().unwrap();
    // A tree big enough that the build takes a while: 3,000 hosts of 20 services.
    let mut text = String::from(
        "define command {\n    command_name  check_x\n    command_line  /bin/true\n}\n",
    );
    for i in 0..3000 {
        text.push_str(&format!(
            "define host {{\n    host_name  h{i}\n    notes  {}\n}}\n",
            "n".repeat(200)
        ));
    }
    for s in 0..20 {
        text.push_str(&format!("define service {{\n    host_name  *\n    service_description  S{s}\n    check_command  check_x!{s}\n}}\n"));
    }
    let big = dir.path().join("big.cfg");
    std::fs::write(&big, text).unwrap();
    let out = dir.path().join("set");
    assert_eq!(build(EXAMPLE, &out, "2").code, 0);
    let before = read_set(&out);
    for delay_ms in [5u64, 30, 80, 150] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_monitorc"))
            .args([
                "build",
                &big.display().to_string(),
                "-o",
                &out.display().to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let now = read_set(&out);
        if status.success() {
            // It finished first: then the new set is complete and loads.
            assert!(ShardSet::open(&out).is_ok());
            return;
        }
        assert_eq!(
            now, before,
            "killed after {delay_ms} ms: the old set must be intact"
        );
    }
}

/// The whole shard set of every placement fixture, snapshotted (one document per fixture).
#[test]
fn fixture_shard_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(common::root().join("fixtures/plan"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(common::root().join("snapshots/shards"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let out = tmp.path().join(&name);
        let run = build(&common::rel(&f), &out, "2");
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let mut doc = String::new();
        for (rel, bytes) in read_set(&out) {
            doc.push_str(&format!(
                "==> {rel} <==\n{}\n",
                String::from_utf8(bytes).unwrap()
            ));
        }
        s.bind(|| insta::assert_snapshot!(name, doc));
    }
}

/// An I/O error while writing (injected) leaves the previous set and nothing beside it.
#[test]
fn a_write_failure_leaves_the_previous_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");
    assert_eq!(build(EXAMPLE, &out, "2").code, 0);
    let before = read_set(&out);
    let run = common::monitorc_env(
        &[
            "build",
            "fixtures/plan/weights.cfg",
            "-o",
            &out.display().to_string(),
        ],
        &[("MONITORC_INJECT_WRITE_FAILURE", "3")],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("injected write failure"),
        "{}",
        run.stderr
    );
    assert_eq!(read_set(&out), before);
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, ["set"], "the partial set is removed");
}

/// A Latin-1 file (#15): Nagios reads bytes, so `--emit nagios` writes back the very bytes the
/// administrator wrote, while the shard (RON, UTF-8) holds them as escape characters.
#[test]
fn latin1_values_are_written_back_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("set");
    let config = common::root().join("fixtures/resolve/25-latin1.cfg");
    let run = common::monitorc(&[
        "build",
        &config.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--emit",
        "nagios",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let set = read_set(&out);
    let has = |needle: &[u8]| {
        set.iter()
            .filter(|(k, _)| k.starts_with("nagios/"))
            .any(|(_, v)| v.windows(needle.len()).any(|w| w == needle))
    };
    assert!(has(b"Caf\xe9\n"), "the byte 0xE9 is written back");
    assert!(!has("Café".as_bytes()), "not transcoded to UTF-8");
    let shard = set
        .iter()
        .find(|(k, _)| k.starts_with("schedulers/"))
        .map(|(_, v)| String::from_utf8(v.clone()).expect("shards are UTF-8"))
        .unwrap();
    // RON writes the escape character as an escape: the shard stays ASCII there.
    assert!(shard.contains(r"Caf\u{10ffe9}"), "{shard}");
}

/// `--emit nagios` runs as written: two shards' engines started side by side (their own query
/// sockets and command FIFOs), every check run with `$USER1$` from the operator's resource
/// file, an external command taken through the FIFO. Loopback hosts and `/bin/true` only.
#[test]
fn emitted_nagios_configurations_run_side_by_side() {
    if !Path::new("/usr/sbin/nagios4").exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = String::from(common::LOOPBACK_BASE);
    cfg.push_str(
        "define scheduler {\n  scheduler_name  a\n  address  127.0.0.1\n  port  1\n}\n\
         define scheduler {\n  scheduler_name  b\n  address  127.0.0.1\n  port  2\n}\n",
    );
    for i in 0..6 {
        cfg.push_str(&format!(
            "define host {{\n  host_name  h{i}\n  address  127.0.0.1\n  check_command  ok\n  \
             max_check_attempts  1\n  check_period  always\n  contacts  nobody\n}}\n\
             define service {{\n  host_name  h{i}\n  service_description  svc\n  check_command  ok\n  \
             max_check_attempts  1\n  check_interval  1\n  retry_interval  1\n  check_period  always\n  \
             contacts  nobody\n}}\n"
        ));
    }
    let src = tmp.path().join("main.cfg");
    std::fs::write(&src, cfg).unwrap();
    let out = tmp.path().join("set");
    let run = common::monitorc(&[
        "build",
        &src.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--emit",
        "nagios",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dirs: Vec<std::path::PathBuf> = ["a", "b"]
        .iter()
        .map(|s| out.join("nagios").join(s))
        .collect();
    for dir in &dirs {
        let example = std::fs::read_to_string(dir.join("resource.cfg.example")).unwrap();
        assert!(example.contains("#$USER1$="), "{example}");
        std::fs::write(dir.join("resource.cfg"), "$USER1$=/bin\n").unwrap();
        // Seconds instead of minutes, so the checks run within the test.
        let mut main = std::fs::read_to_string(dir.join("nagios.cfg")).unwrap();
        main.push_str("interval_length=1\nstatus_update_interval=1\ncheck_workers=1\n");
        std::fs::write(dir.join("nagios.cfg"), main).unwrap();
    }
    // Run as root, Nagios drops to the `nagios` user: its directories must be writable.
    for d in walk(&out)
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .chain([tmp.path().to_path_buf(), out.clone()])
    {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    struct Engine(std::process::Child);
    impl Drop for Engine {
        fn drop(&mut self) {
            unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
            let _ = self.0.wait();
        }
    }
    let engines: Vec<Engine> = dirs
        .iter()
        .map(|d| {
            Engine(
                std::process::Command::new("/usr/sbin/nagios4")
                    .arg(d.join("nagios.cfg"))
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    // Every host and service of each shard checked, and OK: `$USER1$/true` was found.
    let status = |d: &Path| std::fs::read_to_string(d.join("status.dat")).unwrap_or_default();
    let checked_ok = |text: &str| -> usize {
        text.split("status {")
            .filter(|b| b.contains("has_been_checked=1") && b.contains("current_state=0"))
            .count()
    };
    let start = std::time::Instant::now();
    let hosts: Vec<usize> = dirs
        .iter()
        .map(|d| {
            std::fs::read_to_string(d.join("objects.cfg"))
                .unwrap()
                .matches("define host {")
                .count()
        })
        .collect();
    assert_eq!(hosts.iter().sum::<usize>(), 6, "{hosts:?}");
    loop {
        let done = dirs.iter().zip(&hosts).all(|(d, &h)| {
            let t = status(d);
            t.matches("hoststatus {").count() == h && checked_ok(&t) == 2 * h
        });
        if done {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not every check ran OK within 60 s: {}",
            dirs.iter()
                .map(|d| status(d))
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // An external command through each engine's own FIFO.
    for (d, e) in dirs.iter().zip(&engines) {
        assert!(e.0.id() > 0);
        let host = std::fs::read_to_string(d.join("objects.cfg"))
            .unwrap()
            .lines()
            .find_map(|l| l.trim().strip_prefix("host_name\t").map(str::to_string))
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let line = format!("[{now}] ADD_HOST_COMMENT;{host};1;monitorc;through the fifo\n");
        std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("nagios.cmd"))
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
    }
    let start = std::time::Instant::now();
    while !dirs
        .iter()
        .all(|d| status(d).contains("comment_data=through the fifo"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the comments were not taken"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(engines);
}
