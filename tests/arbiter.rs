//! The live arbiter against fake daemons on 127.0.0.1 (ephemeral ports): initial push,
//! forwarding, failover after max_check_attempts failed pings, queued commands during an
//! outage, the return of a dead daemon, `--failback`, dead spares, uncovered hosts, and a
//! clean stop on SIGTERM. Every wait is bounded: a hang fails the test.
//!
//! The daemons are checked every second (`check_interval 1`, `timeout 1`) and dead after two
//! failed pings (`max_check_attempts 2`), so a failover takes two to three seconds.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use monitorc_runtime::shard::{SatelliteShard, SchedulerShard, ShardSet};

/// One clock for the events of every fake daemon of a test, so their order can be compared.
type Clock = Arc<AtomicU64>;

#[derive(Default)]
struct FakeState {
    /// Answers 503 to everything while down.
    up: bool,
    /// The `name` of the shard it holds (a scheduler's or a satellite's).
    held: Option<String>,
    /// Satellites: the scheduler names of the links last pushed.
    links: Vec<String>,
    /// Receivers: host → scheduler, as last pushed.
    routes: BTreeMap<String, String>,
    /// Every shard loaded, in order, with the clock.
    puts: Vec<(u64, String)>,
    deletes: Vec<u64>,
    /// Command lines received, with the shard that was held then.
    lines: Vec<(String, String)>,
    /// (shard, sequence) of every line received, to find duplicates.
    seen: Vec<(String, u64)>,
}

#[derive(Clone)]
struct Fake {
    port: u16,
    state: Arc<Mutex<FakeState>>,
}

impl Fake {
    fn set_up(&self, up: bool) {
        self.state.lock().unwrap().up = up;
    }
    fn held(&self) -> Option<String> {
        self.state.lock().unwrap().held.clone()
    }
    fn links(&self) -> Vec<String> {
        self.state.lock().unwrap().links.clone()
    }
    fn lines(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.lines.iter().map(|(_, l)| l.clone()).collect()
    }
    fn deletes(&self) -> Vec<u64> {
        self.state.lock().unwrap().deletes.clone()
    }
    fn puts(&self) -> Vec<(u64, String)> {
        self.state.lock().unwrap().puts.clone()
    }
}

type Shared = (Arc<Mutex<FakeState>>, Clock);

async fn fake_ping(State((s, _)): State<Shared>) -> StatusCode {
    if s.lock().unwrap().up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn fake_put(State((s, clock)): State<Shared>, body: String) -> StatusCode {
    let mut s = s.lock().unwrap();
    if !s.up {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let t = clock.fetch_add(1, Ordering::SeqCst);
    if let Ok(shard) = ron::from_str::<SchedulerShard>(&body) {
        s.held = Some(shard.name.clone());
        s.puts.push((t, shard.name));
    } else if let Ok(shard) = ron::from_str::<SatelliteShard>(&body) {
        s.links = shard.schedulers.iter().map(|l| l.name.clone()).collect();
        s.routes = shard.hosts.clone();
        s.held = Some(shard.name.clone());
        s.puts.push((t, shard.name));
    } else {
        return StatusCode::BAD_REQUEST;
    }
    StatusCode::OK
}

async fn fake_delete(State((s, clock)): State<Shared>) -> StatusCode {
    let mut s = s.lock().unwrap();
    if !s.up {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    s.held = None;
    s.links.clear();
    let t = clock.fetch_add(1, Ordering::SeqCst);
    s.deletes.push(t);
    StatusCode::OK
}

async fn fake_commands(
    State((s, _)): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let mut s = s.lock().unwrap();
    let Some(held) = s.held.clone().filter(|_| s.up) else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let shard = headers["x-monitorc-shard"].to_str().unwrap().to_string();
    let first: u64 = headers["x-monitorc-sequence"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    for (i, line) in body.lines().enumerate() {
        s.seen.push((shard.clone(), first + i as u64));
        s.lines.push((held.clone(), line.to_string()));
    }
    StatusCode::OK
}

/// A fake daemon listening on an ephemeral port.
async fn fake(clock: &Clock) -> Fake {
    let state = Arc::new(Mutex::new(FakeState {
        up: true,
        ..Default::default()
    }));
    let app = Router::new()
        .route("/v1/ping", get(fake_ping))
        .route(
            "/v1/shard",
            axum::routing::put(fake_put).delete(fake_delete),
        )
        .route("/v1/commands", post(fake_commands))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state((state.clone(), clock.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fake { port, state }
}

/// A port nothing listens on (a daemon that never started).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Schedulers s1 and s2, spare scheduler sp, poller p1 with spare poller psp, one broker,
/// reactionner and receiver; ten hosts h00..h09 without dependencies (five per scheduler).
const DAEMONS: &[(&str, &str, bool)] = &[
    ("scheduler", "s1", false),
    ("scheduler", "s2", false),
    ("scheduler", "sp", false),
    ("poller", "p1", false),
    ("poller", "psp", true),
    ("reactionner", "r1", false),
    ("broker", "b1", false),
    ("receiver", "rc1", false),
];

struct Cluster {
    fakes: BTreeMap<String, Fake>,
    url: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    arbiter: tokio::task::JoinHandle<std::io::Result<()>>,
    set: Arc<ShardSet>,
    clock: Clock,
    dir: tempfile::TempDir,
}

/// Starts fakes (all up; `never_started` ones get a closed port), builds the set with their
/// ports, and runs the arbiter in-process.
async fn cluster(never_started: &[&str], failback: bool) -> Cluster {
    let clock: Clock = Arc::new(AtomicU64::new(1));
    let mut fakes = BTreeMap::new();
    let mut cfg =
        String::from("define command {\n  command_name check_x\n  command_line /bin/true\n}\n");
    for (kind, name, satellite_spare) in DAEMONS {
        let port = if never_started.contains(name) {
            closed_port()
        } else {
            let f = fake(&clock).await;
            let p = f.port;
            fakes.insert(name.to_string(), f);
            p
        };
        let spare = *name == "sp" || *satellite_spare;
        cfg.push_str(&format!(
            "define {kind} {{\n  {kind}_name {name}\n  address 127.0.0.1\n  port {port}\n  \
             spare {}\n  check_interval 1\n  timeout 1\n  max_check_attempts 2\n}}\n",
            u8::from(spare)
        ));
    }
    for i in 0..10 {
        cfg.push_str(&format!(
            "define host {{\n  host_name h{i:02}\n  check_command check_x\n}}\n\
             define service {{\n  host_name h{i:02}\n  service_description ping\n  check_interval 5\n  retry_interval 1\n  \
             check_command check_x\n}}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.cfg"), cfg).unwrap();
    let out = dir.path().join("shards");
    let cfg_path = dir.path().join("main.cfg").display().to_string();
    let out_path = out.display().to_string();
    let run = tokio::task::spawn_blocking(move || {
        common::monitorc(&["build", &cfg_path, "-o", &out_path])
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let set = ShardSet::open(&out).unwrap();
    let set_copy = Arc::new(ShardSet::open(&out).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let arbiter = tokio::spawn(monitorc_arbiter::run(
        set,
        listener,
        monitorc_arbiter::Options {
            failback,
            dir: Some(out.clone()),
            state: None,
        },
        async move {
            let _ = rx.await;
        },
    ));
    Cluster {
        fakes,
        url,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        stop: Some(tx),
        arbiter,
        set: set_copy,
        clock,
        dir,
    }
}

impl Cluster {
    fn fake(&self, name: &str) -> &Fake {
        &self.fakes[name]
    }

    /// The hosts the plan put on `scheduler`.
    fn hosts_of(&self, scheduler: &str) -> Vec<String> {
        let hosts: Vec<String> = self
            .set
            .manifest
            .hosts
            .iter()
            .filter(|(_, s)| s.as_str() == scheduler)
            .map(|(h, _)| h.clone())
            .collect();
        assert!(!hosts.is_empty(), "{scheduler} runs no host");
        hosts
    }

    async fn post(&self, lines: &str) -> serde_json::Value {
        let r = self
            .client
            .post(format!("{}/v1/commands", self.url))
            .body(lines.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.json().await.unwrap()
    }

    async fn status(&self) -> serde_json::Value {
        self.client
            .get(format!("{}/v1/status", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls `/v1/status` until `cond` holds; fails the test after 10 s.
    async fn status_until(
        &self,
        what: &str,
        cond: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let s = self.status().await;
            if cond(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out waiting until {what}: {s}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn daemon(&self, key: &str) -> serde_json::Value {
        daemon_in(&self.status().await, key)
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(3), self.arbiter)
            .await
            .expect("the arbiter stops within 3 s")
            .unwrap()
            .unwrap();
    }

    /// Initial push done: s1, s2 and every non-spare satellite hold their own shard.
    async fn started(&self) {
        for name in ["s1", "s2", "p1", "r1", "b1", "rc1"] {
            if let Some(f) = self.fakes.get(name) {
                until(&format!("{name} holds its shard"), 10, || {
                    f.held().as_deref() == Some(name)
                })
                .await;
            }
        }
    }
}

/// One daemon of a `/v1/status` answer.
fn daemon_in(status: &serde_json::Value, key: &str) -> serde_json::Value {
    status["daemons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["daemon"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("no daemon {key} in {status}"))
}

/// Polls `cond` every 20 ms; fails the test after `secs` seconds.
async fn until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out after {secs} s waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn ack(host: &str, n: usize) -> String {
    format!("[1700000000] ACKNOWLEDGE_HOST_PROBLEM;{host};1;1;0;admin;ack {n}; with a semicolon")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_push_and_forwarding_to_the_owner() {
    let c = cluster(&[], false).await;
    c.started().await;
    // Satellites are linked to the schedulers of their realm; the spare holds nothing.
    assert_eq!(c.fake("p1").links(), ["s1", "s2", "sp"]);
    assert_eq!(c.fake("sp").held(), None);
    assert_eq!(c.fake("psp").held(), None);
    // The spares dropped whatever an earlier run left them before any shard went out.
    let first_put = ["s1", "s2", "p1", "r1", "b1", "rc1"]
        .iter()
        .map(|n| c.fake(n).puts()[0].0)
        .min()
        .unwrap();
    for spare in ["sp", "psp"] {
        assert!(
            c.fake(spare).deletes()[0] < first_put,
            "{spare} dropped late"
        );
    }

    let h1 = &c.hosts_of("s1")[0];
    let h2 = &c.hosts_of("s2")[0];
    let answer = c
        .post(&format!(
            "{}\n{}\nDISABLE_NOTIFICATIONS\nNO_SUCH_COMMAND;x\n",
            ack(h1, 1),
            ack(h2, 2)
        ))
        .await;
    let answer = answer.as_array().unwrap();
    assert_eq!(answer[0]["targets"], serde_json::json!(["scheduler/s1"]));
    assert_eq!(answer[0]["holders"], serde_json::json!(["scheduler/s1"]));
    assert_eq!(answer[1]["targets"], serde_json::json!(["scheduler/s2"]));
    assert_eq!(
        answer[2]["targets"],
        serde_json::json!(["scheduler/s1", "scheduler/s2"])
    );
    assert!(answer[3]["error"]
        .as_str()
        .unwrap()
        .contains("unknown command"));
    until("s1 and s2 got their commands", 10, || {
        c.fake("s1").lines().len() == 2 && c.fake("s2").lines().len() == 2
    })
    .await;
    // The last argument keeps its `;`.
    assert_eq!(
        c.fake("s1").lines(),
        [ack(h1, 1), "DISABLE_NOTIFICATIONS".to_string()]
    );
    assert_eq!(
        c.fake("s2").lines(),
        [ack(h2, 2), "DISABLE_NOTIFICATIONS".to_string()]
    );
    assert!(c.fake("sp").lines().is_empty());
    // A fake records the lines before its answer reaches the arbiter, which then empties
    // the queue.
    let status = c
        .status_until("no command is pending", |s| s["pending_commands"] == 0)
        .await;
    assert_eq!(status["uncovered"], serde_json::json!({}));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_scheduler_fails_over_to_its_spare_and_is_told_to_drop_when_back() {
    let c = cluster(&[], false).await;
    c.started().await;
    let hosts = c.hosts_of("s1");
    c.fake("s1").set_up(false);
    let killed = Instant::now();
    // Commands sent during the outage wait for the next holder.
    let during: Vec<String> = (0..3).map(|n| ack(&hosts[n % hosts.len()], n)).collect();
    c.post(&during.join("\n")).await;

    until("s1 is declared dead", 10, || {
        let f = c.fake("sp").held();
        f.as_deref() == Some("s1")
    })
    .await;
    let elapsed = killed.elapsed();
    // Two failed pings one second apart: not before ~1 s.
    assert!(
        elapsed >= Duration::from_millis(900),
        "failed over after {elapsed:?}, before max_check_attempts pings"
    );
    let s1 = c.daemon("scheduler/s1").await;
    assert_eq!(s1["alive"], false);
    assert!(s1["failed_pings"].as_u64().unwrap() >= 2);

    // The outage's commands reach the spare, in order, once each.
    until("the spare got the queued commands", 10, || {
        c.fake("sp").lines().len() == 3
    })
    .await;
    assert_eq!(c.fake("sp").lines(), during);
    assert!(c.fake("s1").lines().is_empty());
    // Satellites get new links: s1 replaced by the spare.
    until("p1 is relinked", 10, || {
        c.fake("p1").links() == ["sp", "s2"]
    })
    .await;
    until("r1 is relinked", 10, || {
        c.fake("r1").links() == ["sp", "s2"]
    })
    .await;

    // Later commands for s1's hosts go to the spare.
    c.post(&ack(&hosts[0], 9)).await;
    until("the spare got the later command", 10, || {
        c.fake("sp").lines().len() == 4
    })
    .await;

    // s1 comes back: it is told to drop what it held; the spare keeps the shard.
    let deletes_before = c.fake("s1").deletes().len();
    c.fake("s1").set_up(true);
    until("s1 is told to drop", 10, || {
        c.fake("s1").deletes().len() > deletes_before
    })
    .await;
    assert_eq!(c.fake("s1").held(), None);
    assert_eq!(c.fake("sp").held().as_deref(), Some("s1"));
    let s1 = c.daemon("scheduler/s1").await;
    assert_eq!(s1["alive"], true);
    assert_eq!(s1["holds"], serde_json::Value::Null);
    let shards = c.status().await["shards"].clone();
    let shard = shards
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["shard"] == "scheduler/s1")
        .unwrap()
        .clone();
    assert_eq!(shard["holder"], "scheduler/sp");
    // No line was delivered twice to one holder.
    let seen = c.fake("sp").state.lock().unwrap().seen.clone();
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(seen.len(), dedup.len(), "duplicates in {seen:?}");
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_ping_is_not_death() {
    let c = cluster(&[], false).await;
    c.started().await;
    c.fake("s2").set_up(false);
    let s = c
        .status_until("s2 failed one ping", |s| {
            daemon_in(s, "scheduler/s2")["failed_pings"] == 1
        })
        .await;
    let d = daemon_in(&s, "scheduler/s2");
    assert_eq!(d["alive"], true, "dead after one failed ping: {d}");
    assert_eq!(d["holds"], "scheduler/s2");
    // It answers again before the second attempt: nothing moves.
    c.fake("s2").set_up(true);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let d = c.daemon("scheduler/s2").await;
    assert_eq!(d["alive"], true);
    assert_eq!(d["failed_pings"], 0);
    assert_eq!(c.fake("sp").held(), None);
    assert_eq!(c.fake("s2").held().as_deref(), Some("s2"));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_returns_the_shard_after_the_spare_dropped_it() {
    let c = cluster(&[], true).await;
    c.started().await;
    let hosts = c.hosts_of("s1");
    c.fake("s1").set_up(false);
    until("the spare holds s1", 10, || {
        c.fake("sp").held().as_deref() == Some("s1")
    })
    .await;
    c.fake("s1").set_up(true);
    until("s1 holds its shard again", 10, || {
        c.fake("s1").held().as_deref() == Some("s1") && c.fake("sp").held().is_none()
    })
    .await;
    // At most one holder at every moment: the spare dropped before s1 was sent the shard.
    let dropped = *c.fake("sp").deletes().last().unwrap();
    let (reloaded, _) = *c.fake("s1").puts().last().unwrap();
    assert!(
        dropped < reloaded,
        "s1 reloaded (t={reloaded}) before the spare dropped (t={dropped})"
    );
    until("p1 is linked to s1 again", 10, || {
        c.fake("p1").links() == ["s1", "s2", "sp"]
    })
    .await;
    c.post(&ack(&hosts[0], 1)).await;
    until("s1 gets commands again", 10, || {
        c.fake("s1").lines().len() == 1
    })
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_spare_leaves_the_hosts_uncovered_and_reported() {
    let c = cluster(&["sp"], false).await;
    c.started().await;
    c.status_until("sp is dead", |s| {
        daemon_in(s, "scheduler/sp")["alive"] == false
    })
    .await;
    let hosts = c.hosts_of("s1");
    c.fake("s1").set_up(false);
    let status = c
        .status_until("s1 is uncovered", |s| {
            s["uncovered"].get("scheduler/s1").is_some()
        })
        .await;
    assert_eq!(
        status["uncovered"]["scheduler/s1"],
        serde_json::json!(hosts)
    );
    // Commands for its hosts wait; p1 is no longer linked to it.
    c.post(&ack(&hosts[0], 1)).await;
    assert_eq!(c.status().await["pending_commands"], 1);
    until("p1 drops the link to s1", 10, || {
        c.fake("p1").links() == ["s2", "sp"]
    })
    .await;
    // s1 returns: no spare holds its shard, so it gets it back with the waiting command.
    c.fake("s1").set_up(true);
    until("s1 gets the waiting command", 10, || {
        c.fake("s1").lines().len() == 1
    })
    .await;
    assert_eq!(c.status().await["uncovered"], serde_json::json!({}));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dead_schedulers_one_spare() {
    let c = cluster(&[], false).await;
    c.started().await;
    c.fake("s1").set_up(false);
    until("the spare holds s1", 10, || {
        c.fake("sp").held().as_deref() == Some("s1")
    })
    .await;
    c.fake("s2").set_up(false);
    let status = c
        .status_until("s2 is uncovered", |s| {
            s["uncovered"].get("scheduler/s2").is_some()
        })
        .await;
    assert_eq!(
        status["uncovered"],
        serde_json::json!({ "scheduler/s2": c.hosts_of("s2") })
    );
    assert_eq!(c.fake("sp").held().as_deref(), Some("s1"));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_satellite_is_replaced_by_its_spare() {
    let c = cluster(&[], false).await;
    c.started().await;
    c.fake("p1").set_up(false);
    until("psp runs p1's shard", 10, || {
        c.fake("psp").held().as_deref() == Some("p1")
    })
    .await;
    assert_eq!(c.fake("psp").links(), ["s1", "s2", "sp"]);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_config_takes_a_rebuilt_set() {
    // No spare runs (sp never started): a command for s1 waits in its queue while s1 is down,
    // however long the rebuild takes, and across the reload.
    let mut c = cluster(&["sp"], false).await;
    c.started().await;
    let hosts = c.hosts_of("s1");
    c.fake("s1").set_up(false);
    c.post(&ack(&hosts[0], 1)).await;
    // A third scheduler is added and the set rebuilt in place.
    let s3 = fake(&c.clock).await;
    let cfg = c.dir.path().join("main.cfg");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "define scheduler {{\n  scheduler_name s3\n  address 127.0.0.1\n  port {}\n  \
         check_interval 1\n  timeout 1\n  max_check_attempts 2\n}}\n",
        s3.port
    ));
    std::fs::write(&cfg, text).unwrap();
    let out = c.dir.path().join("shards");
    let (cfg_s, out_s) = (cfg.display().to_string(), out.display().to_string());
    let run = tokio::task::spawn_blocking(move || {
        common::monitorc(&["build", &cfg_s, "-o", &out_s, "--previous", &out_s])
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer = c.post("[1700000000] RELOAD_CONFIG").await;
    assert_eq!(answer[0]["targets"], serde_json::json!(["arbiter"]));
    assert_eq!(answer[0]["reload"], true);
    c.fakes.insert("s3".into(), s3);
    until("s3 holds its shard", 10, || {
        c.fake("s3").held().as_deref() == Some("s3")
    })
    .await;
    until("p1 is linked to s3", 10, || {
        c.fake("p1").links().contains(&"s3".to_string())
    })
    .await;
    let status = c.status().await;
    assert_eq!(status["reloads"], 1);
    assert_eq!(status["last_reload_error"], serde_json::Value::Null);
    // s1 answers again: the command that waited is delivered, once.
    c.fake("s1").set_up(true);
    until("s1 gets the waiting command", 10, || {
        c.fake("s1").lines().len() == 1
    })
    .await;
    // A set that cannot be loaded changes nothing.
    std::fs::write(out.join("manifest.ron"), "(broken").unwrap();
    c.post("RELOAD_CONFIG").await;
    c.status_until("the reload error is reported", |s| {
        !s["last_reload_error"].is_null()
    })
    .await;
    assert_eq!(c.status().await["reloads"], 1);
    assert_eq!(c.fake("s3").held().as_deref(), Some("s3"));
    c.stop().await;
}

#[test]
fn the_cli_serves_reloads_on_sighup_and_stops_on_sigterm() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shards");
    let run = common::monitorc(&[
        "build",
        "fixtures/example/monitorc.cfg",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_monitorc"))
        .args([
            "arbiter",
            &out.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.split("listen=").nth(1) {
            addr = rest.split_whitespace().next().map(str::to_string);
            break;
        }
        line.clear();
    }
    let addr = addr.expect("the arbiter logs where it listens");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status: serde_json::Value = rt.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://{addr}/v1/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(status["shards"].as_array().unwrap().len(), 9, "{status}");
    // The log, line by line, read on a thread so the child never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in err.lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    // SIGHUP reloads the set.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let l = rx
            .recv_timeout(left)
            .expect("`shard set reloaded` logged after SIGHUP");
        if l.contains("shard set reloaded") {
            break;
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "exit {s:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "still running 2 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Copies the bundled example with every daemon moved to 127.0.0.1 (a fake on an ephemeral
/// port) and checked every second, dead after two failed pings; returns the fakes by name.
async fn local_example(dir: &std::path::Path, clock: &Clock) -> BTreeMap<String, Fake> {
    let src = common::root().join("fixtures/example");
    let mut fakes = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let to = dir.join(path.strip_prefix(&src).unwrap());
            if path.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut out = String::new();
            let mut name: Option<String> = None;
            for line in text.lines() {
                let t = line.trim();
                let words: Vec<&str> = t.split_whitespace().collect();
                if let ["define", kind, ..] = words[..] {
                    if ["scheduler", "poller", "reactionner", "broker", "receiver"]
                        .contains(&kind.trim_end_matches('{'))
                    {
                        name = Some(String::new());
                    }
                }
                if let (Some(n), [key, value, ..]) = (&mut name, &words[..]) {
                    if key.ends_with("_name") {
                        *n = value.to_string();
                    }
                }
                if t.starts_with('}') {
                    if let Some(n) = name.take() {
                        let f = fake(clock).await;
                        // Scalars: the last value wins.
                        out.push_str(&format!(
                            "    address 127.0.0.1\n    port {}\n    check_interval 1\n    \
                             timeout 1\n    max_check_attempts 2\n",
                            f.port
                        ));
                        fakes.insert(n, f);
                    }
                }
                out.push_str(line);
                out.push('\n');
            }
            std::fs::write(&to, out).unwrap();
        }
    }
    fakes
}

/// The README's failover: the example's Paris scheduler dies, its spare takes the shard,
/// the Paris satellites are relinked, a command sent during the outage reaches the spare.
/// Run with `--nocapture` to see the arbiter's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_fails_over_live() {
    let clock: Clock = Arc::new(AtomicU64::new(1));
    let dir = tempfile::tempdir().unwrap();
    let fakes = local_example(dir.path(), &clock).await;
    assert_eq!(fakes.len(), 10, "{:?}", fakes.keys());
    let out = dir.path().join("shards");
    let (cfg, out_s) = (
        dir.path().join("monitorc.cfg").display().to_string(),
        out.display().to_string(),
    );
    let run = tokio::task::spawn_blocking(move || common::monitorc(&["build", &cfg, "-o", &out_s]))
        .await
        .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_monitorc"))
        .args([
            "arbiter",
            &out.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stderr.take().unwrap()));
    let log2 = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(l)) = lines.next_line().await {
            log2.lock().unwrap().push(l);
        }
    });
    let listen = || {
        log.lock()
            .unwrap()
            .iter()
            .find_map(|l| l.split("listen=").nth(1))
            .and_then(|r| r.split_whitespace().next().map(str::to_string))
    };
    until("the arbiter listens", 10, || listen().is_some()).await;
    let url = format!("http://{}", listen().unwrap());
    let p1 = &fakes["scheduler-paris-1"];
    let spare = &fakes["scheduler-paris-spare"];
    until("paris-1 holds its shard", 10, || {
        p1.held().as_deref() == Some("scheduler-paris-1")
    })
    .await;
    p1.set_up(false);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let line = "ACKNOWLEDGE_HOST_PROBLEM;paris-core-sw;1;1;0;admin;switch replaced";
    let r = client
        .post(format!("{url}/v1/commands"))
        .body(line)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    until("the spare runs paris-1's shard", 10, || {
        spare.held().as_deref() == Some("scheduler-paris-1")
    })
    .await;
    until("the spare got the command", 10, || spare.lines() == [line]).await;
    until("poller-paris is relinked", 10, || {
        fakes["poller-paris"].links() == ["scheduler-paris-spare", "scheduler-paris-2"]
    })
    .await;
    let routes = fakes["receiver-paris"].state.lock().unwrap().routes.clone();
    assert_eq!(routes["paris-core-sw"], "scheduler-paris-spare");
    assert_eq!(
        fakes["poller-tokyo"].links(),
        ["scheduler-tokyo"],
        "Asia is not touched"
    );
    let status = client
        .get(format!("{url}/v1/status"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let exit = tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .expect("stops within 2 s of SIGTERM")
        .unwrap();
    assert!(exit.success());
    eprintln!("--- arbiter log ---");
    for l in log.lock().unwrap().iter() {
        eprintln!("{l}");
    }
    eprintln!("--- GET /v1/status ---\n{status}");
}
