//! Hostile and broken input: always a diagnostic and the right exit code, never a panic or
//! a hang (every run has a time limit).

mod common;

use std::path::Path;
use std::time::Duration;

use common::{monitorc_with_limit, Run};
use serde_json::Value;

fn check(path: &Path) -> Run {
    let p = path.display().to_string();
    let run = monitorc_with_limit(&["check", &p, "--format", "json"], Duration::from_secs(60));
    assert!(
        !run.stderr.contains("panicked"),
        "monitorc panicked on {p}:\n{}",
        run.stderr
    );
    run
}

/// The diagnostics of a run, without the warnings about contacts and periods (W0029–W0031):
/// the trees here are minimal and name none (`fixtures/invalid` and `fixtures/resolve` check
/// those warnings).
fn diagnostics(run: &Run) -> Vec<Value> {
    let doc = common::json(run);
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !matches!(d["code"].as_str(), Some("W0029" | "W0030" | "W0031")))
        .cloned()
        .collect()
}

fn codes(run: &Run) -> Vec<String> {
    diagnostics(run)
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A deterministic pseudo-random byte stream (xorshift), so failures reproduce.
fn random_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn random_bytes_are_a_file_error() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 1..=20u64 {
        let f = dir.path().join(format!("random{seed}.cfg"));
        write(&f, random_bytes(4096, seed));
        let run = check(&f);
        assert_eq!(run.code, 1, "seed {seed}");
        let c = codes(&run);
        assert!(c == ["E0005"] || c == ["E0006"], "seed {seed}: {c:?}");
    }
}

#[test]
fn random_text_never_panics() {
    // Random printable text with config-ish tokens mixed in: the parser must cope with any
    // UTF-8, whatever it reports.
    let dir = tempfile::tempdir().unwrap();
    let tokens = [
        "define ", "host", "{", "}", "\n", " ", "\t", ";", "\\", "\\\n", "=", "#", "_X", "+",
        "\r\n", "é",
    ];
    for seed in 1..=50u64 {
        let picks = random_bytes(2000, seed);
        let text: String = picks
            .iter()
            .map(|b| tokens[*b as usize % tokens.len()])
            .collect();
        let f = dir.path().join(format!("text{seed}.cfg"));
        write(&f, text);
        let run = check(&f);
        assert!(
            run.code == 0 || run.code == 1,
            "seed {seed}: exit {}",
            run.code
        );
    }
}

#[test]
fn a_truncated_file_reports_the_open_block() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hosts.cfg");
    write(&f, "define host {\n    host_name web01\n    max_check_attempts 1\n    address 10.0.0.1\n}\ndefine host {\n    host_name web02\n    max_check_attempts 1\n    addr");
    let run = check(&f);
    assert_eq!(run.code, 1);
    let d = &diagnostics(&run)[0];
    assert_eq!(d["code"], "E0010");
    assert_eq!(
        d["line"], 6,
        "reported at the define line of the truncated block"
    );
    assert!(
        codes(&run).iter().any(|c| c == "E0031"),
        "the cut attribute `addr` is one Nagios refuses"
    );
}

#[test]
fn a_ten_megabyte_line() {
    let dir = tempfile::tempdir().unwrap();
    // Inside a block: one huge attribute value.
    let f = dir.path().join("long_value.cfg");
    let mut text =
        String::from("define host {\n    host_name web01\n    max_check_attempts 1\n    notes ");
    text.push_str(&"x".repeat(10 << 20));
    text.push_str("\n}\n");
    write(&f, &text);
    let run = check(&f);
    assert_eq!(
        run.code,
        0,
        "a long value is valid: {}",
        run.stdout.chars().take(500).collect::<String>()
    );
    // Outside blocks: one huge line of garbage, reported once.
    let g = dir.path().join("long_garbage.cfg");
    write(&g, "y ".repeat(5 << 20));
    let run = check(&g);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&run), ["E0013"]);
}

#[test]
fn a_deeply_nested_cfg_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().join("objects");
    for i in 0..300 {
        deep.push(format!("d{i}"));
    }
    write(
        &deep.join("host.cfg"),
        "define host {\n    host_name deep\n    max_check_attempts 1\n}\n",
    );
    write(&dir.path().join("main.cfg"), "cfg_dir=objects\n");
    let run = check(&dir.path().join("main.cfg"));
    // A whole Nagios tree needs a service and a contact too (F14): nothing else is wrong.
    assert_eq!(codes(&run), ["E0035", "E0035"], "{}", run.stdout);
    assert_eq!(common::json(&run)["summary"]["hosts"], 1);
}

#[test]
fn a_symlink_loop_is_reported_and_harmless() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("objects/a/host.cfg"),
        "define host {\n    host_name h\n    max_check_attempts 1\n}\n",
    );
    std::os::unix::fs::symlink("..", dir.path().join("objects/a/up")).unwrap();
    // The same file reached a second time through another directive is read once.
    write(
        &dir.path().join("main.cfg"),
        "cfg_dir=objects\ncfg_file=objects/a/host.cfg\n",
    );
    let run = check(&dir.path().join("main.cfg"));
    assert_eq!(codes(&run), ["E0035", "E0035", "W0001"], "{}", run.stdout);
    let doc = common::json(&run);
    assert_eq!(doc["summary"]["hosts"], 1);
    assert_eq!(doc["summary"]["files"], 2);
}

#[test]
fn a_missing_include_does_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("main.cfg"),
        "cfg_file=missing.cfg\ncfg_dir=missing.d\nresource_file=/nonexistent/resource.cfg\ncfg_file=hosts.cfg\n",
    );
    write(
        &dir.path().join("hosts.cfg"),
        "define host {\n    host_name h\n    max_check_attempts 1\n    bogus 1\n}\n",
    );
    let run = check(&dir.path().join("main.cfg"));
    assert_eq!(run.code, 1);
    // Every problem in one run, each at its directive, and the rest still checked (the
    // unknown attribute is refused, as Nagios refuses it: the tree is checked as Nagios).
    assert_eq!(codes(&run), ["E0002", "E0003", "E0002", "E0031"]);
    let lines: Vec<_> = diagnostics(&run)
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3, 4]);
}

#[test]
fn a_missing_config_is_a_usage_error() {
    let run = check(Path::new("/nonexistent/monitorc.cfg"));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/nonexistent/monitorc.cfg"),
        "{}",
        run.stderr
    );
}

#[test]
fn several_syntax_errors_are_all_reported_at_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.cfg");
    write(
        &f,
        "define host {\n    host_name a\n\ndefine host\n    host_name b\n}\n\nhost_name c\n}\n\ndefine {\n    x y\n}\ndefine host {\n    host_name d\n    max_check_attempts x\n}\n",
    );
    let run = check(&f);
    assert_eq!(run.code, 1);
    let got: Vec<(String, u64)> = diagnostics(&run)
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // Checked as Nagios (auto), each host also lacks `max_check_attempts` (E0024), and the
    // `define host` without `{` is read as if it were there (W0018), as Nagios 4 does.
    let want: Vec<(String, u64)> = [
        ("E0010", 1),
        ("E0024", 1),
        ("E0024", 4),
        ("W0018", 4),
        ("E0013", 8),
        ("E0014", 9),
        ("E0011", 11),
        ("E0024", 14),
        ("E0020", 16),
    ]
    .iter()
    .map(|(c, l)| (c.to_string(), *l))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn a_100k_long_parent_chain_and_loop() {
    // Packs, loops and their messages must be iterative: no stack overflow, no quadratic walk.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "define host {\n    host_name  h0\n    max_check_attempts  1\n    parents  h99999\n}\n",
    );
    for i in 1..100_000 {
        text.push_str(&format!(
            "define host {{\n    host_name  h{i}\n    max_check_attempts  1\n    parents  h{}\n}}\n",
            i - 1
        ));
    }
    let f = dir.path().join("chain.cfg");
    write(&f, text);
    let run = monitorc_with_limit(
        &["check", &f.display().to_string(), "--format", "json"],
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &diagnostics(&run)[0];
    assert_eq!(d["code"], "E0054");
    assert!(
        d["message"].as_str().unwrap().len() < 400,
        "the cycle is shortened"
    );
}

#[test]
fn long_template_and_group_chains_and_loops() {
    // Template resolution and group closure walk each chain once (#13): a 100k template
    // chain, a `use` of 100k templates and a 100k hostgroup_members loop used to take minutes
    // (cubic and quadratic walks); a hang here would hit the limit.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "define command {\n    command_name  c\n    command_line  /bin/true\n}\n\
         define host {\n    name  t0\n    max_check_attempts  1\n    check_command  c\n    register  0\n}\n",
    );
    for i in 1..100_000 {
        text.push_str(&format!(
            "define host {{\n    name  t{i}\n    use  t{}\n    register  0\n}}\n",
            i - 1
        ));
    }
    let wide: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
    text.push_str(&format!(
        "define host {{\n    host_name  deep\n    use  t99999\n    hostgroups  g0\n}}\n\
         define host {{\n    host_name  wide\n    use  {}\n}}\n",
        wide.join(",")
    ));
    for i in 0..100_000 {
        text.push_str(&format!(
            "define hostgroup {{\n    hostgroup_name  g{i}\n    hostgroup_members  g{}\n}}\n",
            (i + 1) % 100_000
        ));
    }
    let f = dir.path().join("chains.cfg");
    write(&f, text);
    let run = monitorc_with_limit(
        &["check", &f.display().to_string(), "--format", "json"],
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = common::json(&run);
    assert_eq!(codes(&run), ["E0052"], "only the group loop: {doc}");
    let d = &diagnostics(&run)[0];
    assert!(
        d["message"].as_str().unwrap().len() < 400,
        "the cycle is shortened"
    );
    let run = monitorc_with_limit(
        &["explain", &f.display().to_string(), "host", "deep"],
        Duration::from_secs(120),
    );
    assert!(
        run.stdout.contains("t99999, t99998"),
        "{}",
        &run.stdout[..run.stdout.len().min(2000)]
    );
}

#[test]
fn long_loops_of_templates_and_of_every_group_kind() {
    // A `use` loop through 100k templates took 11 s (each step searched the loop's member
    // list); service and contact group loops of 100k are closed once, like host groups.
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let mut text = String::from(
        "define command {\n    command_name  c\n    command_line  /bin/true\n}\n\
         define timeperiod {\n    timeperiod_name  always\n    alias  always\n    monday  00:00-24:00\n}\n\
         define host {\n    host_name  h\n    use  t0\n    max_check_attempts  1\n    check_command  c\n}\n\
         define service {\n    host_name  h\n    service_description  s\n    check_command  c\n    \
         max_check_attempts  1\n    check_interval  1\n    retry_interval  1\n    servicegroups  sg0\n}\n\
         define contact {\n    contact_name  admin\n    contactgroups  cg0\n    host_notification_period  always\n    \
         service_notification_period  always\n    host_notification_commands  c\n    service_notification_commands  c\n}\n",
    );
    for i in 0..n {
        let next = (i + 1) % n;
        text.push_str(&format!(
            "define host {{\n    name  t{i}\n    use  t{next}\n    register  0\n}}\n\
             define servicegroup {{\n    servicegroup_name  sg{i}\n    servicegroup_members  sg{next}\n}}\n\
             define contactgroup {{\n    contactgroup_name  cg{i}\n    contactgroup_members  cg{next}\n}}\n"
        ));
    }
    let f = dir.path().join("loops.cfg");
    write(&f, text);
    let run = monitorc_with_limit(
        &["check", &f.display().to_string(), "--format", "json"],
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = common::json(&run);
    let mut found: Vec<(String, String)> = diagnostics(&run)
        .iter()
        .map(|d| {
            let m = d["message"].as_str().unwrap();
            assert!(m.len() < 400, "the cycle is shortened: {m}");
            let what = m.split(':').next().unwrap().to_string();
            (d["code"].as_str().unwrap().to_string(), what)
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "E0041".into(),
                "host templates use each other in a loop".into()
            ),
            (
                "E0052".into(),
                "contactgroups contain each other in a loop".into()
            ),
            (
                "E0052".into(),
                "servicegroups contain each other in a loop".into()
            ),
        ],
        "{doc}"
    );
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn pipes_and_devices_are_refused_not_read() {
    // A FIFO hangs a reader forever and /dev/zero never ends (#13): each is a located error
    // (an include), a usage error (CONFIG) or a refused shard set, at once.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.cfg");
    mkfifo(&fifo);
    let main = dir.path().join("main.cfg");
    write(&main, "cfg_file=fifo.cfg\ncfg_file=/dev/zero\n");
    let run = monitorc_with_limit(
        &["check", &main.display().to_string(), "--format", "json"],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got: Vec<(String, u64, String)> = diagnostics(&run)
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].1), ("E0004", 1));
    assert!(got[0].2.contains("is a FIFO (named pipe)"), "{got:?}");
    assert_eq!((got[1].0.as_str(), got[1].1), ("E0004", 2));
    assert!(got[1].2.contains("is a character device"), "{got:?}");
    // A file beyond the size cap is refused the same way.
    let big = dir.path().join("big.cfg");
    write(&big, "; padding\n".repeat(100));
    let capped = dir.path().join("capped.cfg");
    write(&capped, "cfg_file=big.cfg\n");
    let run = common::monitorc_env(
        &["check", &capped.display().to_string()],
        &[("MONITORC_MAX_FILE_BYTES", "500")],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("capped.cfg:1:10: error[E0004]:")
            && run
                .stdout
                .contains("big.cfg` is 1000 bytes, more than the 500"),
        "{}",
        run.stdout
    );
    for config in [fifo.display().to_string(), "/dev/zero".to_string()] {
        let run = monitorc_with_limit(&["check", &config], Duration::from_secs(30));
        assert_eq!(run.code, 2, "{config}: {}", run.stderr);
        assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    }
    // A shard set whose scheduler file became a FIFO.
    let set = dir.path().join("set");
    let run = common::monitorc(&[
        "build",
        &common::root()
            .join("fixtures/example/monitorc.cfg")
            .display()
            .to_string(),
        "-o",
        &set.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shard = std::fs::read_dir(set.join("schedulers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&shard).unwrap();
    mkfifo(&shard);
    let run = monitorc_with_limit(
        &[
            "route",
            &set.display().to_string(),
            "SCHEDULE_FORCED_HOST_CHECK;x;1",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a FIFO"), "{}", run.stderr);
}

#[test]
fn a_closed_output_ends_quietly() {
    // `monitorc plan CONFIG | head` (#13): the reader goes away, monitorc ends by SIGPIPE
    // like other Unix tools, without a panic.
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("define command {\n    command_name  c\n    command_line  /bin/true\n}\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "define host {{\n    host_name  h{i}\n    max_check_attempts  1\n    check_command  c\n}}\n"
        ));
    }
    let f = dir.path().join("hosts.cfg");
    write(&f, text);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_monitorc"))
        .args(["plan", &f.display().to_string(), "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is closed here: the rest of the output (about 170 KiB, more than
    // a pipe holds) has nowhere to go.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
}

#[test]
fn range_patterns_are_bounded() {
    // `%0Nd` pads like printf; a width past what Rust's formatter takes (u16) once panicked.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("objects.cfg");
    write(
        &f,
        "define command {\n command_name c\n command_line /bin/true\n}\n\
         define host {\n max_check_attempts 1\n check_command c\n host_name web[1-3-%05d]\n}\n\
         define service {\n max_check_attempts 1\n check_command c\n host_name web00002\n service_description s\n}\n\
         define host {\n max_check_attempts 1\n host_name a[0-1-%099999d]\n}\n\
         define host {\n max_check_attempts 1\n host_name b[0-1-%0999999999999999999999d]\n}\n\
         define host {\n max_check_attempts 1\n host_name c[0-4000000000]\n}\n",
    );
    // A `duplicate_foreach` key range whose padding is past the formatter's width stays one key.
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str(&format!(
        "define host {{\n max_check_attempts 1\n host_name d\n _disks k[{}1-2]\n}}\n\
         define service {{\n max_check_attempts 1\n check_command c\n host_name d\n \
         service_description disk $KEY$\n duplicate_foreach _disks\n}}\n",
        "0".repeat(70_000)
    ));
    write(&f, text);
    let p = f.display().to_string();
    let run = monitorc_with_limit(
        &["check", &p, "--engine", "alignak", "--format", "json"],
        Duration::from_secs(60),
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(codes(&run), ["E0073", "E0073", "E0073"], "{}", run.stdout);
    let json = common::json(&run);
    assert_eq!(json["summary"]["hosts"], 4, "{}", run.stdout);
    assert_eq!(json["summary"]["services"], 2, "{}", run.stdout);
}
