//! `monitorc node` on a real Nagios 4 (#12): a shard pushed, validated, started and loaded;
//! the same shard again without a reload; a shard Nagios refuses answered 422 with the engine
//! untouched; a changed shard reloaded; another shard (a spare's takeover) started fresh;
//! commands de-duplicated, fed through the FIFO, dangerous ones dropped; a killed engine
//! restarted; a drop stops it and keeps its retention; a node restarted restores its shard.
//! Loopback hosts and `/bin/true` only.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use monitorc_runtime::shard::digest;

const NAGIOS: &str = "/usr/sbin/nagios4";

/// Two schedulers, `a` and `b`, with three loopback hosts each, checked by `$USER1$/true`.
fn build_set(dir: &Path) -> PathBuf {
    build_set_with(
        dir,
        "define scheduler {\n  scheduler_name  a\n  address  127.0.0.1\n  port  1\n}\n\
         define scheduler {\n  scheduler_name  b\n  address  127.0.0.1\n  port  2\n}\n",
    )
}

fn build_set_with(dir: &Path, daemons: &str) -> PathBuf {
    let mut cfg = String::from(common::LOOPBACK_BASE);
    cfg.push_str(daemons);
    for i in 0..6 {
        cfg.push_str(&format!(
            "define host {{\n  host_name  h{i}\n  address  127.0.0.1\n  check_command  ok\n  \
             max_check_attempts  1\n  check_interval  60\n  check_period  always\n  contacts  nobody\n}}\n\
             define service {{\n  host_name  h{i}\n  service_description  svc\n  check_command  ok\n  \
             max_check_attempts  1\n  check_interval  60\n  retry_interval  60\n  check_period  always\n  \
             contacts  nobody\n}}\n"
        ));
    }
    let src = dir.join("main.cfg");
    std::fs::write(&src, cfg).unwrap();
    let out = dir.join("set");
    let run = common::monitorc(&[
        "build",
        &src.display().to_string(),
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    out
}

struct NodeProcess {
    child: std::process::Child,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(state: &Path, resource: &Path) -> NodeProcess {
    start_node_on(state, resource, "127.0.0.1:0")
}

/// A node on `state` that runs `shard`.
fn running_node(state: &Path, resource: &Path, shard: &str) -> NodeProcess {
    let node = start_node(state, resource);
    let (code, text) = put(&node, shard);
    assert_eq!(code, 200, "{text}");
    node
}

fn start_node_on(state: &Path, resource: &Path, listen: &str) -> NodeProcess {
    start_node_with(state, resource, listen, NAGIOS)
}

fn start_node_with(state: &Path, resource: &Path, listen: &str, engine: &str) -> NodeProcess {
    let args = node_args(state, resource, listen, engine);
    spawn_server(&[&["node".to_string()][..], &args].concat())
}

/// The arguments of a test node: loopback, short intervals, as root where needed.
fn node_args(state: &Path, resource: &Path, listen: &str, engine: &str) -> Vec<String> {
    let mut args = vec![
        "--engine-bin".to_string(),
        engine.to_string(),
        "--listen".into(),
        listen.into(),
        "--state".into(),
        state.display().to_string(),
        "--resource-file".into(),
        resource.display().to_string(),
        "--status-interval".into(),
        "1".into(),
        "--engine-set".into(),
        "interval_length=1".into(),
        "--engine-set".into(),
        "check_workers=1".into(),
        // Every first check at once (then one a minute, so a passive result stays visible).
        "--engine-set".into(),
        "service_inter_check_delay_method=n".into(),
        "--engine-set".into(),
        "host_inter_check_delay_method=n".into(),
    ];
    // Run as root, Nagios would drop to the `nagios` user, who cannot enter a private
    // temporary directory; a real node runs as its own user.
    if unsafe { libc::geteuid() } == 0 {
        for kv in ["nagios_user=root", "nagios_group=root"] {
            args.extend(["--engine-set".to_string(), kv.to_string()]);
        }
    }
    args
}

/// Runs `monitorc ARGS` (a node or the arbiter), keeps its log, and waits until it says
/// where it listens.
fn spawn_server(args: &[String]) -> NodeProcess {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_monitorc"))
        .args(args)
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let err = std::io::BufReader::new(child.stderr.take().unwrap());
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for l in err.lines().map_while(Result::ok) {
            log2.lock().unwrap().push(l);
        }
    });
    let start = Instant::now();
    let addr = loop {
        let found = log.lock().unwrap().iter().find_map(|l| {
            let rest = l.split("listen=").nth(1)?;
            rest.split_whitespace().next().map(str::to_string)
        });
        if let Some(a) = found {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "`monitorc {}` did not start: {:?}",
            args[0],
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    NodeProcess {
        child,
        url: format!("http://{addr}"),
        log,
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

fn ping(n: &NodeProcess) -> (u16, serde_json::Value) {
    let r = client().get(format!("{}/v1/ping", n.url)).send().unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

fn put(n: &NodeProcess, body: &str) -> (u16, String) {
    let r = client()
        .put(format!("{}/v1/shard", n.url))
        .body(body.to_string())
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn post(n: &NodeProcess, shard: &str, seq: u64, lines: &str) -> (u16, String) {
    let r = client()
        .post(format!("{}/v1/commands", n.url))
        .header("x-monitorc-shard", shard)
        .header("x-monitorc-sequence", seq.to_string())
        .body(lines.to_string())
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out after {secs} s waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Scheduler `a`'s shard, a resource file and a node directory in a temporary directory; `None`
/// (the test is skipped) without nagios4.
struct Fixture {
    tmp: tempfile::TempDir,
    a: String,
    resource: PathBuf,
    state: PathBuf,
}

fn fixture() -> Option<Fixture> {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let set = build_set(tmp.path());
    let a = std::fs::read_to_string(set.join("schedulers/a.ron")).unwrap();
    let resource = resource_file(tmp.path());
    let state = tmp.path().join("node");
    Some(Fixture {
        tmp,
        a,
        resource,
        state,
    })
}

/// A shard changed in one attribute (a reload, not a new shard).
fn changed_shard(shard: &str) -> String {
    let changed = shard.replacen(
        "\"max_check_attempts\": \"1\"",
        "\"max_check_attempts\": \"2\"",
        1,
    );
    assert_ne!(changed, shard);
    changed
}

/// The first host a shard names (`h1`…).
fn first_host(shard: &str) -> String {
    shard
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("\"h")
                .map(|r| format!("h{}", &r[..1]))
        })
        .unwrap()
}

/// A resource file whose `$USER1$` holds `/bin/true`.
fn resource_file(dir: &Path) -> PathBuf {
    let resource = dir.join("resource.cfg");
    std::fs::write(&resource, "$USER1$=/bin\n").unwrap();
    resource
}

fn status_dat(state: &Path) -> String {
    std::fs::read_to_string(state.join("engine/status.dat")).unwrap_or_default()
}

#[test]
fn a_node_runs_its_shard_on_nagios() {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let set = build_set(tmp.path());
    let a = std::fs::read_to_string(set.join("schedulers/a.ron")).unwrap();
    let b = std::fs::read_to_string(set.join("schedulers/b.ron")).unwrap();
    let resource = resource_file(tmp.path());
    let state = tmp.path().join("node");
    let node = start_node(&state, &resource);
    let (code, idle) = ping(&node);
    assert_eq!(
        (code, &idle["shard"]),
        (200, &serde_json::Value::Null),
        "{idle}"
    );

    // A shard: validated, started, loaded; its checks run with the resource file's $USER1$.
    let (code, text) = put(&node, &a);
    assert_eq!(code, 200, "{text}");
    let (_, p) = ping(&node);
    assert_eq!(p["shard"], "scheduler/a");
    assert_eq!(p["digest"], digest(a.as_bytes()));
    assert_eq!(p["engine"]["state"], "running", "{p}");
    let pid = p["engine"]["pid"].as_u64().unwrap();
    until("every check of a ran OK", 30, || {
        let s = status_dat(&state);
        s.matches("has_been_checked=1").count() >= 6
            && !s.contains("current_state=1")
            && !s.contains("current_state=2")
    });

    // The same shard again: answered at once, no reload.
    let t = Instant::now();
    assert_eq!(put(&node, &a), (200, "already held\n".to_string()));
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(ping(&node).1["engine"]["reloads"], 0);

    // A shard Nagios refuses (a host's command is missing): 422 with its errors, the engine
    // untouched.
    let broken = a.replacen("\"ok\": {", "\"renamed\": {", 1);
    assert_ne!(broken, a);
    let (code, text) = put(&node, &broken);
    assert_eq!(code, 422, "{text}");
    assert!(text.contains("Error"), "{text}");
    let (_, p) = ping(&node);
    assert_eq!(p["digest"], digest(a.as_bytes()));
    assert_eq!(p["engine"]["pid"], pid);

    // A changed shard: reloaded in place (same process).
    let changed = changed_shard(&a);
    let (code, text) = put(&node, &changed);
    assert_eq!(code, 200, "{text}");
    let (_, p) = ping(&node);
    assert_eq!(
        (p["engine"]["reloads"].as_u64(), p["engine"]["pid"].as_u64()),
        (Some(1), Some(pid))
    );
    assert_eq!(p["generation"], 2);

    // Another shard (a spare taking over): the engine is started afresh on it.
    let (code, text) = put(&node, &b);
    assert_eq!(code, 200, "{text}");
    let (_, p) = ping(&node);
    assert_eq!(p["shard"], "scheduler/b");
    let pid_b = p["engine"]["pid"].as_u64().unwrap();
    assert_ne!(pid_b, pid);
    let archived = std::fs::read_dir(state.join("archive")).unwrap().count();
    assert_eq!(archived, 1, "a's retention is kept aside");

    // Commands: de-duplicated by number, fed through the FIFO with a timestamp added;
    // SHUTDOWN_PROGRAM is taken but never fed.
    let host_b = first_host(&b);
    let line = format!("ADD_HOST_COMMENT;{host_b};1;node;fed through the fifo");
    let (code, text) = post(&node, "scheduler/b", 1, &line);
    assert_eq!(
        (code, text.as_str()),
        (200, r#"{"taken":1,"duplicates":0}"#)
    );
    let (code, text) = post(
        &node,
        "scheduler/b",
        1,
        &format!("{line}\nSHUTDOWN_PROGRAM"),
    );
    assert_eq!(
        (code, text.as_str()),
        (200, r#"{"taken":1,"duplicates":1}"#)
    );
    let (code, _) = post(&node, "scheduler/a", 3, &line);
    assert_eq!(code, 409, "a shard it does not hold");
    until("the comment is in the engine", 20, || {
        status_dat(&state).contains("comment_data=fed through the fifo")
    });
    until("both lines are fed or dropped", 10, || {
        let c = &ping(&node).1["commands"];
        c["fed"] == 1 && c["dropped"] == 1 && c["high"] == 2
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        ping(&node).1["engine"]["pid"].as_u64(),
        Some(pid_b),
        "still running"
    );
    assert_eq!(
        status_dat(&state)
            .matches("comment_data=fed through the fifo")
            .count(),
        1,
        "the repeated line was not fed twice"
    );
    let journal = std::fs::read_to_string(state.join("journal/scheduler_b.log")).unwrap();
    assert_eq!(
        journal
            .lines()
            .filter(|l| !l.starts_with("journal\t"))
            .count(),
        2,
        "{journal}"
    );
    let fed_once = |state: &Path| {
        status_dat(state)
            .matches("comment_data=fed through the fifo")
            .count()
            == 1
    };

    // A crash: restarted on the same generation.
    unsafe { libc::kill(pid_b as i32, libc::SIGKILL) };
    until("the engine is restarted", 20, || {
        let (_, p) = ping(&node);
        p["engine"]["restarts"] == 1 && p["engine"]["state"] == "running"
    });
    let (_, p) = ping(&node);
    assert_ne!(p["engine"]["pid"].as_u64(), Some(pid_b));
    let pid_restarted = p["engine"]["pid"].as_u64().unwrap();
    // No retention save since the engine started: the line goes to the new engine again.
    assert_eq!(p["commands"]["replayed"], 1, "{p}");
    until("the comment is in the restarted engine", 20, || {
        fed_once(&state)
    });

    // A node restarted restores what it held.
    unsafe { libc::kill(node.child.id() as i32, libc::SIGTERM) };
    let mut node = node;
    until("the node stops", 15, || {
        node.child.try_wait().unwrap().is_some()
    });
    assert!(
        unsafe { libc::kill(pid_restarted as i32, 0) } != 0,
        "the engine stops with the node"
    );
    drop(node);
    let node = start_node(&state, &resource);
    assert_eq!(ping(&node).1["shard"], "scheduler/b");
    until("the restored engine runs", 20, || {
        ping(&node).1["engine"]["state"] == "running"
    });
    let (_, p) = ping(&node);
    // The engine stopped cleanly and saved its state after taking the line: not fed again.
    assert_eq!(p["commands"]["replayed"], 0, "{p}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(fed_once(&state), "{}", status_dat(&state));

    // A drop: the engine stops, its retention is kept aside.
    let pid = p["engine"]["pid"].as_u64().unwrap();
    let r = client()
        .delete(format!("{}/v1/shard", node.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, p) = ping(&node);
    assert_eq!(
        (p["shard"].is_null(), p["engine"]["state"].as_str()),
        (true, Some("idle"))
    );
    until(
        "the engine is gone",
        10,
        || unsafe { libc::kill(pid as i32, 0) } != 0,
    );
    assert_eq!(std::fs::read_dir(state.join("archive")).unwrap().count(), 2);
    eprintln!("{}", node.log.lock().unwrap().join("\n"));
}

/// A port free now (a node is started on it right after).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A shard set of loopback schedulers (`spare` names the spare, if any) and one running node
/// per scheduler at its port, each on `DIR/node-NAME`.
struct Cluster {
    set_dir: PathBuf,
    set: monitorc_runtime::shard::ShardSet,
    states: Vec<PathBuf>,
    nodes: Vec<NodeProcess>,
}

fn cluster(dir: &Path, names: &[&str], spare: &str) -> Cluster {
    let ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
    let daemons: String = names
        .iter()
        .zip(&ports)
        .map(|(name, port)| monitorc_bench::loopback_scheduler(name, *port, *name == spare))
        .collect();
    let set_dir = build_set_with(dir, &daemons);
    let set = monitorc_runtime::shard::ShardSet::open(&set_dir).unwrap();
    let resource = resource_file(dir);
    let states: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.join(format!("node-{n}")))
        .collect();
    let nodes = states
        .iter()
        .zip(&ports)
        .map(|(s, p)| start_node_on(s, &resource, &format!("127.0.0.1:{p}")))
        .collect();
    Cluster {
        set_dir,
        set,
        states,
        nodes,
    }
}

/// The hosts whose status the engine of a node's state directory writes.
fn engine_hosts(state: &Path) -> Vec<String> {
    let mut hosts: Vec<String> = status_dat(state)
        .split("hoststatus {")
        .skip(1)
        .filter_map(|b| {
            b.lines()
                .find_map(|l| l.trim().strip_prefix("host_name=").map(str::to_string))
        })
        .collect();
    hosts.sort();
    hosts
}

/// The arbiter and three real nodes (schedulers `a` and `b`, spare `sp`): each engine runs
/// exactly its shard's hosts; a passive result posted to the arbiter reaches the owning
/// engine; a node killed, its spare's engine runs exactly the dead shard's hosts and takes
/// the results posted after the kill.
#[test]
fn the_arbiter_fails_over_between_real_nodes() {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Cluster {
        set_dir,
        set,
        states,
        nodes,
    } = cluster(tmp.path(), &["a", "b", "sp"], "sp");
    let mut nodes: Vec<Option<NodeProcess>> = nodes.into_iter().map(Some).collect();
    let hosts_of = |s: &str| -> Vec<String> {
        let mut h: Vec<String> = (set.manifest.hosts.iter())
            .filter(|(_, x)| x.as_str() == s)
            .map(|(h, _)| h.clone())
            .collect();
        h.sort();
        h
    };
    let arbiter = spawn_server(&[
        "arbiter".to_string(),
        set_dir.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ]);
    // Each engine runs exactly its shard's hosts; the spare runs none.
    for (i, n) in ["a", "b"].iter().enumerate() {
        until(&format!("{n}'s engine runs its hosts"), 30, || {
            engine_hosts(&states[i]) == hosts_of(n)
        });
    }
    assert!(engine_hosts(&states[2]).is_empty());
    let post = |line: &str| {
        let r = client()
            .post(format!("{}/v1/commands", arbiter.url))
            .body(line.to_string())
            .send()
            .unwrap();
        assert!(r.status().is_success());
        r.text().unwrap()
    };
    let host = hosts_of("a")[0].clone();
    let result = |text: &str| format!("PROCESS_SERVICE_CHECK_RESULT;{host};svc;2;{text}");
    let answer = post(&result("CRITICAL - posted to the arbiter"));
    assert!(answer.contains("scheduler/a"), "{answer}");
    until("the result is in a's engine", 20, || {
        status_dat(&states[0]).contains("plugin_output=CRITICAL - posted to the arbiter")
    });
    // Node a dies (its engine with it): the spare takes a's shard.
    let killed = Instant::now();
    nodes[0].take();
    post(&result("CRITICAL - posted after the kill"));
    until("the spare's engine runs a's hosts", 30, || {
        engine_hosts(&states[2]) == hosts_of("a")
    });
    let took = killed.elapsed();
    until(
        "the result posted after the kill is in the spare's engine",
        20,
        || status_dat(&states[2]).contains("plugin_output=CRITICAL - posted after the kill"),
    );
    assert_eq!(engine_hosts(&states[1]), hosts_of("b"), "b is not touched");
    eprintln!(
        "spare running the dead shard {:.1} s after the kill\n{}",
        took.as_secs_f64(),
        arbiter.log.lock().unwrap().join("\n")
    );
    drop(nodes);
}

/// What is wrong with the node's own setup is told apart from a shard Nagios refuses: no
/// engine binary is a 500 (the node's trouble), a missing resource file a 422 with Nagios'
/// words; a body that is no shard a 400. Nothing is held after any of them.
#[test]
fn a_node_says_what_keeps_it_from_running_a_shard() {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let set = build_set(tmp.path());
    let a = std::fs::read_to_string(set.join("schedulers/a.ron")).unwrap();
    let resource = resource_file(tmp.path());
    let node = start_node_with(
        &tmp.path().join("n1"),
        &resource,
        "127.0.0.1:0",
        "/nonexistent/nagios4",
    );
    let (code, text) = put(&node, &a);
    assert_eq!(code, 500, "{text}");
    assert!(text.contains("cannot run /nonexistent/nagios4"), "{text}");
    assert!(ping(&node).1["shard"].is_null());
    let (code, text) = put(&node, &a[..a.len() / 2]);
    assert_eq!(code, 400, "{text}");
    let node = start_node(&tmp.path().join("n2"), &tmp.path().join("missing.cfg"));
    let (code, text) = put(&node, &a);
    assert_eq!(code, 422, "{text}");
    assert!(text.contains("resource file"), "{text}");
    let (_, p) = ping(&node);
    assert_eq!(
        (p["shard"].is_null(), p["engine"]["state"].as_str()),
        (true, Some("idle"))
    );
}

/// Lines a node took and had not fed when it died are fed by the node that restarts on its
/// directory, and so are those its dead engine had in its FIFO and never took (no marker of
/// theirs in its log): each line reaches the engine once. The numbering (the arbiter's epoch)
/// survives too.
#[test]
fn lines_taken_and_not_fed_are_fed_after_a_node_restart() {
    let Some(Fixture {
        tmp: _tmp,
        a,
        resource,
        state,
    }) = fixture()
    else {
        return;
    };
    let host = first_host(&a);
    let node = running_node(&state, &resource, &a);
    let engine = ping(&node).1["engine"]["pid"].as_u64().unwrap() as i32;

    // The engine stops reading: the FIFO fills (Nagios makes it 1 MiB) and the rest of the
    // lines wait in the node.
    const LINES: u64 = 30_000;
    unsafe { libc::kill(engine, libc::SIGSTOP) };
    let lines: Vec<String> = (1..=LINES)
        .map(|i| format!("ADD_HOST_COMMENT;{host};1;node;replayed line {i:05} of a journal"))
        .collect();
    let r = client()
        .post(format!("{}/v1/commands", node.url))
        .header("x-monitorc-shard", "scheduler/a")
        .header("x-monitorc-sequence", "1")
        .header("x-monitorc-epoch", "run-1")
        .body(lines.join("\n"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Once the FIFO is full, nothing moves: what was fed is in the stopped engine's buffer.
    let mut last = (u64::MAX, u64::MAX);
    until("the FIFO is full", 20, || {
        std::thread::sleep(Duration::from_millis(500));
        let c = ping(&node).1["commands"].clone();
        let now = (c["fed"].as_u64().unwrap(), c["waiting"].as_u64().unwrap());
        std::mem::replace(&mut last, now) == now && now.0 + now.1 == LINES
    });
    let (fed, waiting) = last;
    assert!(waiting > 0 && fed > 0, "{fed} fed, {waiting} waiting");

    // The node dies without a word; its stopped engine with it.
    unsafe { libc::kill(node.child.id() as i32, libc::SIGKILL) };
    let mut node = node;
    until("the node is gone", 15, || {
        node.child.try_wait().unwrap().is_some()
    });
    unsafe {
        libc::kill(engine, libc::SIGKILL);
        libc::kill(engine, libc::SIGCONT);
    }
    until(
        "the engine is gone",
        15,
        || unsafe { libc::kill(engine, 0) } != 0,
    );
    drop(node);

    let node = start_node(&state, &resource);
    let c = ping(&node).1["commands"].clone();
    assert_eq!(
        (
            c["replayed"].as_u64(),
            c["high"].as_u64(),
            c["epoch"].as_str()
        ),
        (Some(LINES), Some(LINES), Some("run-1")),
        "{c}"
    );
    until("the lines are fed again", 60, || {
        let c = ping(&node).1["commands"].clone();
        c["waiting"] == 0 && c["fed"].as_u64() == Some(LINES)
    });
    until("the last line is in the engine", 60, || {
        status_dat(&state).contains(&format!(
            "comment_data=replayed line {LINES:05} of a journal"
        ))
    });
    // The same run's lines again: already taken.
    let r = client()
        .post(format!("{}/v1/commands", node.url))
        .header("x-monitorc-shard", "scheduler/a")
        .header("x-monitorc-sequence", LINES.to_string())
        .header("x-monitorc-epoch", "run-1")
        .body(lines[LINES as usize - 1].clone())
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap(), r#"{"taken":0,"duplicates":1}"#);
    std::thread::sleep(Duration::from_secs(2));
    // Every line reached the engine once: those that waited in the node and those lost in the
    // dead engine's FIFO buffer.
    let s = status_dat(&state);
    let mut seen = std::collections::HashMap::new();
    for l in s.lines() {
        if let Some(rest) = l.trim().strip_prefix("comment_data=replayed line ") {
            let Ok(n) = rest[..5.min(rest.len())].parse::<u64>() else {
                panic!("a line cut or joined: {l}");
            };
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    for i in 1..=LINES {
        assert_eq!(seen.get(&i), Some(&1), "line {i}");
    }
}

/// The comments `TAG N` in `status.dat`: each N, with how often it is there.
fn comments(state: &Path, tag: &str) -> std::collections::BTreeMap<u64, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for l in status_dat(state).lines() {
        if let Some(rest) = l.trim().strip_prefix(&format!("comment_data={tag} ")) {
            *seen.entry(rest.parse::<u64>().unwrap()).or_insert(0) += 1;
        }
    }
    seen
}

/// A crashed engine restarts from its last retention save: what it took before the save is
/// in it, and every line whose delivery marker Nagios had not logged before the save is fed
/// again, so each line is in the new engine once.
#[test]
fn lines_a_crashed_engine_lost_are_fed_again() {
    let Some(Fixture {
        tmp: _tmp,
        a,
        resource,
        state,
    }) = fixture()
    else {
        return;
    };
    let host = first_host(&a);
    let node = running_node(&state, &resource, &a);
    let lines = |from: u64, to: u64| -> String {
        (from..=to)
            .map(|i| format!("ADD_HOST_COMMENT;{host};1;node;crash {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let confirmed = |n: u64| {
        until(&format!("Nagios logged taking line {n}"), 30, || {
            ping(&node).1["commands"]["confirmed"].as_u64() == Some(n)
        })
    };
    // Lines 1–50, then a reload, which saves retention with them in it.
    assert_eq!(post(&node, "scheduler/a", 1, &lines(1, 50)).0, 200);
    confirmed(50);
    std::thread::sleep(Duration::from_millis(1100));
    let (code, text) = put(&node, &changed_shard(&a));
    assert_eq!(code, 200, "{text}");
    // Lines 51–80 are taken after the save, and lost when the engine is killed.
    assert_eq!(post(&node, "scheduler/a", 51, &lines(51, 80)).0, 200);
    confirmed(80);
    until("lines 1–80 are in the engine, once each", 30, || {
        let c = comments(&state, "crash");
        (1..=80).all(|i| c.get(&i) == Some(&1))
    });
    let pid = ping(&node).1["engine"]["pid"].as_u64().unwrap();
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    until("the engine is restarted", 30, || {
        let p = ping(&node).1;
        p["engine"]["state"] == "running" && p["engine"]["pid"].as_u64() != Some(pid)
    });
    let p = ping(&node).1;
    assert_eq!(p["engine"]["restarts"], 1, "{p}");
    assert_eq!(p["commands"]["replayed"], 30, "{p}");
    until("the lost lines are in the new engine", 30, || {
        comments(&state, "crash").len() == 80
    });
    std::thread::sleep(Duration::from_secs(2));
    let after = comments(&state, "crash");
    assert!(
        (1..=80).all(|i| after.get(&i) == Some(&1)),
        "each line once: {after:?}"
    );
    // New lines go on after the replayed ones.
    assert_eq!(post(&node, "scheduler/a", 81, &lines(81, 81)).0, 200);
    confirmed(81);

    // A reload saves all 81; the node stops cleanly, and Nagios' log is rotated away (as at
    // midnight) with the markers in it: the restarted node still knows the journal is in the
    // engine's retention, and feeds nothing again.
    std::thread::sleep(Duration::from_millis(1100));
    let (code, text) = put(&node, &a);
    assert_eq!(code, 200, "{text}");
    ping(&node);
    std::thread::sleep(Duration::from_millis(1500));
    unsafe { libc::kill(node.child.id() as i32, libc::SIGTERM) };
    let mut node = node;
    until("the node stops", 15, || {
        node.child.try_wait().unwrap().is_some()
    });
    drop(node);
    std::fs::rename(
        state.join("engine/nagios.log"),
        state.join("engine/archives/nagios-rotated.log"),
    )
    .unwrap();
    let node = start_node(&state, &resource);
    until("the restored engine runs", 20, || {
        ping(&node).1["engine"]["state"] == "running"
    });
    assert_eq!(ping(&node).1["commands"]["replayed"], 0);
    std::thread::sleep(Duration::from_secs(2));
    let after = comments(&state, "crash");
    assert!(
        (1..=81).all(|i| after.get(&i) == Some(&1)),
        "each line once: {after:?}"
    );
}

/// An engine that stops writing its status file (here stopped with SIGSTOP) is killed and
/// restarted on the same shard, and the ping says why.
#[test]
fn a_hung_engine_is_killed_and_restarted() {
    let Some(Fixture {
        tmp: _tmp,
        a,
        resource,
        state,
    }) = fixture()
    else {
        return;
    };
    let mut args = node_args(&state, &resource, "127.0.0.1:0", NAGIOS);
    args.extend(["--hang-after".to_string(), "3".to_string()]);
    let node = spawn_server(&[&["node".to_string()][..], &args].concat());
    let (code, text) = put(&node, &a);
    assert_eq!(code, 200, "{text}");
    let hung = ping(&node).1["engine"]["pid"].as_u64().unwrap();
    unsafe { libc::kill(hung as i32, libc::SIGSTOP) };
    until("the hung engine is replaced", 30, || {
        let p = ping(&node).1;
        p["engine"]["restarts"] == 1
            && p["engine"]["state"] == "running"
            && p["engine"]["pid"].as_u64() != Some(hung)
    });
    assert!(
        unsafe { libc::kill(hung as i32, 0) } != 0,
        "the hung one is gone"
    );
    let (code, p) = ping(&node);
    assert_eq!(code, 200);
    assert_eq!(p["shard"], "scheduler/a");
    assert!(
        p["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("wrote no status")),
        "{p}"
    );
}

/// An engine killed while it reloads a new shard: the push fails (500, saying why), and the
/// previous generation runs again on a new engine, as held.
#[test]
fn an_engine_killed_mid_reload_leaves_the_previous_shard_running() {
    let Some(Fixture {
        tmp: _tmp,
        a,
        resource,
        state,
    }) = fixture()
    else {
        return;
    };
    let node = running_node(&state, &resource, &a);
    let pid = ping(&node).1["engine"]["pid"].as_u64().unwrap() as i32;
    // Stopped, the engine cannot take the reload's SIGHUP: it is killed a second into it.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let changed = changed_shard(&a);
    let (code, text) = put(&node, &changed);
    killer.join().unwrap();
    assert_eq!(code, 500, "{text}");
    assert!(text.contains("exited while loading"), "{text}");
    let (code, p) = ping(&node);
    assert_eq!(code, 200, "{p}");
    assert_eq!(
        p["digest"],
        digest(a.as_bytes()),
        "the previous shard is held"
    );
    assert_eq!(p["engine"]["state"], "running", "{p}");
    assert_ne!(p["engine"]["pid"].as_u64(), Some(pid as u64));
    assert_eq!(p["generation"], 1);
    // The generation that failed is gone; the one that runs is the first.
    assert!(!state.join("gens/2").exists());
    assert!(std::fs::read_link(state.join("current"))
        .unwrap()
        .ends_with("gens/1"));
}

/// A tmpfs of `size` mounted at `dir` for the life of the value; `None` where this process
/// may not mount (not root, or no CAP_SYS_ADMIN in a container).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

/// `dir` seen read-only through a bind mount of itself, until dropped (files already open
/// stay writable, as on a file system remounted read-only under a running process).
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn bind(dir: &Path) -> ReadOnly {
        for args in [&["--bind"][..], &["-o", "remount,bind,ro"][..]] {
            let s = std::process::Command::new("mount")
                .args(args)
                .args([dir, dir])
                .status()
                .unwrap();
            assert!(s.success(), "mount {args:?}");
        }
        ReadOnly(dir.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A state directory that is full, then read-only: commands are refused with 503 and the
/// reason (the arbiter keeps them), a new shard with 500, the running engine keeps its shard;
/// once there is room again the same lines are taken and reach the engine.
#[test]
fn a_full_or_read_only_state_directory_refuses_and_loses_nothing() {
    let Some(Fixture {
        tmp,
        a,
        resource,
        state: _,
    }) = fixture()
    else {
        return;
    };
    let Some(fs) = Tmpfs::mount(&tmp.path().join("fs"), "8m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
        return;
    };
    let state = fs.0.join("node");
    let host = first_host(&a);
    let node = running_node(&state, &resource, &a);
    // Lines over a page, so that each append needs a block the full file system lacks.
    let line = |n: u64| {
        format!(
            "ADD_HOST_COMMENT;{host};1;node;room {n} {}",
            "x".repeat(6000)
        )
    };
    assert_eq!(post(&node, "scheduler/a", 1, &line(1)).0, 200);

    // Full: a file takes every block left.
    let filler = fs.0.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
    }
    let (code, text) = post(&node, "scheduler/a", 2, &line(2));
    assert_eq!(code, 503, "{text}");
    assert!(text.contains("No space left"), "{text}");
    let (code, text) = put(&node, &changed_shard(&a));
    assert_eq!(code, 500, "{text}");
    assert!(text.contains("No space left"), "{text}");
    let p = ping(&node).1;
    assert_eq!(p["digest"], digest(a.as_bytes()), "{p}");
    assert_eq!(p["commands"]["high"], 1, "nothing of line 2 counts: {p}");
    std::fs::remove_file(&filler).unwrap();

    // Read-only: the same.
    let read_only = ReadOnly::bind(&state);
    let (code, text) = post(&node, "scheduler/a", 2, &line(2));
    assert_eq!(code, 503, "{text}");
    assert!(text.contains("Read-only file system"), "{text}");
    let (code, text) = put(&node, &changed_shard(&a));
    assert_eq!(code, 500, "{text}");
    assert!(text.contains("Read-only file system"), "{text}");
    assert_eq!(ping(&node).1["digest"], digest(a.as_bytes()));
    drop(read_only);

    // Room again: the refused line is taken (the arbiter sends it again) and reaches the
    // engine, once, after line 1.
    assert_eq!(
        post(&node, "scheduler/a", 2, &line(2)),
        (200, r#"{"taken":1,"duplicates":0}"#.to_string())
    );
    until("both lines are in the engine", 30, || {
        let s = status_dat(&state);
        s.matches("comment_data=room 1 ").count() == 1
            && s.matches("comment_data=room 2 ").count() == 1
    });
    let (code, text) = put(&node, &changed_shard(&a));
    assert_eq!(code, 200, "{text}");
    drop(node);
}

/// The arbiter, with `--state`, over real nodes: killed (`SIGKILL`) while lines for a node
/// that does not answer (stopped) wait in it, and restarted on the same state. Every line it
/// answered for reaches an engine exactly once: those taken before, those that waited, those
/// posted after.
#[test]
fn lines_the_arbiter_answered_for_reach_real_engines_once_across_its_restart() {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: nagios4-core is not installed; run `apt-get install nagios4-core`");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Cluster {
        set_dir,
        set,
        states,
        nodes,
    } = cluster(tmp.path(), &["a", "b"], "");
    let hosts: Vec<(String, String)> = set.manifest.hosts.clone().into_iter().collect();
    let arbiter_state = tmp.path().join("arbiter");
    let start_arbiter = || {
        spawn_server(&[
            "arbiter".to_string(),
            set_dir.display().to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--state".into(),
            arbiter_state.display().to_string(),
        ])
    };
    let mut arbiter = start_arbiter();
    for s in &states {
        until("the engines run", 30, || !engine_hosts(s).is_empty());
    }
    // Lines over every host, numbered.
    let chunk = |from: usize| -> String {
        (from..from + 10)
            .map(|n| {
                format!(
                    "ADD_HOST_COMMENT;{};1;t;stream {n}",
                    hosts[n % hosts.len()].0
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let post = |arbiter: &NodeProcess, from: usize| {
        let r = client()
            .post(format!("{}/v1/commands", arbiter.url))
            .body(chunk(from))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
    };
    for from in (0..50).step_by(10) {
        post(&arbiter, from);
    }
    // b's node stops answering; lines for its hosts wait in the arbiter, which is killed.
    let b = nodes[1].child.id() as i32;
    unsafe { libc::kill(b, libc::SIGSTOP) };
    for from in (50..100).step_by(10) {
        post(&arbiter, from);
    }
    std::thread::sleep(Duration::from_millis(500));
    arbiter.child.kill().unwrap();
    arbiter.child.wait().unwrap();
    unsafe { libc::kill(b, libc::SIGCONT) };
    arbiter = start_arbiter();
    for from in (100..150).step_by(10) {
        post(&arbiter, from);
    }
    let all = || {
        let mut seen = comments(&states[0], "stream");
        for (n, k) in comments(&states[1], "stream") {
            *seen.entry(n).or_insert(0) += k;
        }
        seen
    };
    until("every line is in an engine", 60, || all().len() == 150);
    std::thread::sleep(Duration::from_secs(2));
    let seen = all();
    let twice: Vec<_> = seen.iter().filter(|(_, &k)| k != 1).collect();
    assert!(twice.is_empty(), "lines not there once: {twice:?}");
    let log = arbiter.log.lock().unwrap().join("\n");
    assert!(
        log.contains("lines accepted by an earlier run wait again"),
        "{log}"
    );
    drop(nodes);
}

/// An engine that keeps dying: restarted three times, then the node gives up and its ping
/// answers 503 with the reason, so the arbiter moves the shard to a spare. Pushing the shard
/// again starts it afresh.
#[test]
fn a_crash_loop_turns_the_ping_to_503() {
    let Some(Fixture {
        tmp: _tmp,
        a,
        resource,
        state,
    }) = fixture()
    else {
        return;
    };
    let node = running_node(&state, &resource, &a);
    let mut last = None;
    for crash in 1..=4 {
        let mut pid = None;
        until(&format!("the engine runs before crash {crash}"), 30, || {
            let p = ping(&node).1;
            pid = p["engine"]["pid"]
                .as_u64()
                .filter(|_| p["engine"]["state"] == "running");
            pid.is_some() && pid != last
        });
        unsafe { libc::kill(pid.unwrap() as i32, libc::SIGKILL) };
        last = pid;
    }
    until("the node gives up", 30, || ping(&node).0 == 503);
    let (code, p) = ping(&node);
    assert_eq!(
        (code, p["engine"]["state"].as_str()),
        (503, Some("failed")),
        "{p}"
    );
    assert_eq!(p["engine"]["restarts"], 3, "{p}");
    assert!(
        p["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("crashed more than 3 times")),
        "{p}"
    );
    let (code, text) = put(&node, &a);
    assert_eq!(code, 200, "{text}");
    let (code, p) = ping(&node);
    assert_eq!(
        (code, p["engine"]["state"].as_str()),
        (200, Some("running")),
        "{p}"
    );
}
