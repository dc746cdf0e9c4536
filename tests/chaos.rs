//! The arbiter under chaos (issue #16): the `monitorc arbiter` binary against ten fake daemons
//! on 127.0.0.1 (ephemeral ports) that die, hang, answer slowly, answer 503 at random, lose
//! their answers after acting and restart empty, on a schedule drawn from a seed, while command
//! lines are posted all along; then everything heals. The invariants are checked from the
//! fakes' own records:
//!
//! - every accepted line reaches a holder of its host's shard, and per shard the lines are
//!   first taken in the order they were posted, numbered 1, 2, 3… with no gap;
//! - never two live holders of one shard for longer than the grace (a daemon that comes back
//!   holds its old shard until its drop is acknowledged);
//! - a shard moves away from a daemon only after its last `max_check_attempts` pings failed,
//!   and away from a daemon that stops answering within
//!   `check_interval × (max_check_attempts + 2) + timeout` when a spare is free;
//! - after healing, `/v1/status` says what the fakes hold, every shard is loaded by exactly
//!   one daemon and nothing waits;
//! - the arbiter answers `/v1/status` throughout, never exits, and stays within a memory bound.
//!
//! `MONITORC_CHAOS_SEED=N` replays one seed (a failure prints its seed and schedule);
//! `MONITORC_CHAOS_SEEDS=K` runs K seeds in a row; `MONITORC_CHAOS_SECS` sets the chaos phase
//! (20 s by default). Two fakes (`s3`, `sp2`) speak the first protocol (a bare 200 to pings).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use monitorc_runtime::shard::{digest, SatelliteShard, SchedulerShard, ShardSet};

const CHECK_INTERVAL_MS: u64 = 1000;
const TIMEOUT_MS: u64 = 1000;
const MAX_CHECK_ATTEMPTS: usize = 2;
/// `check_interval × (max_check_attempts + 2) + timeout`.
const FAILOVER_BOUND_MS: u64 = CHECK_INTERVAL_MS * (MAX_CHECK_ATTEMPTS as u64 + 2) + TIMEOUT_MS;
/// Two live holders of one shard: a daemon that comes back still holds its old shard until
/// its next good ping (one interval, plus the ping's timeout) and its drop (one timeout); each
/// ping or drop that fails (a flaky daemon fails a third of them) costs one more interval.
/// Bounded here by a failover's bound plus three such failures in a row.
const GRACE_MS: u64 = FAILOVER_BOUND_MS + 3 * CHECK_INTERVAL_MS;
/// The arbiter's peak resident memory (the issue measured 29–43 MiB).
const MEMORY_BOUND_KIB: u64 = 160 * 1024;

/// (kind, name, spare, reports what it holds in its ping answer)
const DAEMONS: &[(&str, &str, bool, bool)] = &[
    ("scheduler", "s1", false, true),
    ("scheduler", "s2", false, true),
    ("scheduler", "s3", false, false),
    ("scheduler", "sp1", true, true),
    ("scheduler", "sp2", true, false),
    ("poller", "p1", false, true),
    ("poller", "psp", true, true),
    ("reactionner", "r1", false, true),
    ("broker", "b1", false, true),
    ("receiver", "rc1", false, true),
];
const HOSTS: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Normal,
    /// 503 to everything.
    Down,
    /// Requests wait until the hang ends, then are carried out (answers come too late).
    Hang,
    /// Every answer waits 100–400 ms (under the 1 s timeout).
    Slow,
    /// 503 to a third of the requests, pings included.
    Flaky,
    /// Shards and drops are carried out, then the answer is lost (a timeout; a 503 for
    /// pushes, whose timeout is two minutes); pings are answered.
    LoseAnswers,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Fault {
    Mode(Mode, u64),
    /// Starts again with nothing: no shard, no memory of sequence numbers, a new running id.
    Restart,
}

/// One event of the schedule: at `at` ms, `fault` on the fake at `fake`.
#[derive(Clone, Debug)]
struct Event {
    at: u64,
    fake: usize,
    fault: Fault,
}

/// A line first taken by a fake.
#[derive(Clone, Debug)]
struct Taken {
    order: u64,
    shard: String,
    seq: u64,
    line: String,
}

struct FakeState {
    name: String,
    reports: bool,
    mode: Mode,
    rng: fastrand::Rng,
    incarnation: u64,
    /// The shard held (its name) and the digest of the body loaded.
    held: Option<(String, String)>,
    /// Per shard, the highest sequence number taken in this incarnation.
    have: BTreeMap<String, u64>,
    /// The highest number taken since the last push (a gap after it is a violation).
    period: Option<u64>,
    /// Regression test: refuse this many drops (503, nothing dropped).
    refuse_drops: u32,
    /// The arbiter's run (`x-monitorc-epoch`): its numbers start again in a new one.
    epoch: Option<String>,
    /// Refuse pushes with 422 and this answer (as a node does with Nagios' errors).
    refuse_puts: Option<String>,
    // Records.
    /// (order, ms, answered 200 in time) on arrival
    pings: Vec<(u64, u64, bool)>,
    /// (order, ms, shard) of every push, when it was received.
    puts: Vec<(u64, u64, String)>,
    /// (ms, shard held from then on)
    holds: Vec<(u64, Option<String>)>,
    drops: usize,
    taken: Vec<Taken>,
    duplicates: usize,
    violations: Vec<String>,
}

struct Env {
    start: Instant,
    order: AtomicU64,
}

impl Env {
    fn ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn next(&self) -> u64 {
        self.order.fetch_add(1, Ordering::SeqCst)
    }
}

type Shared = (Arc<Mutex<FakeState>>, Arc<Env>);

#[derive(Clone)]
struct Fake {
    port: u16,
    state: Arc<Mutex<FakeState>>,
}

impl Fake {
    fn held(&self) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .held
            .as_ref()
            .map(|h| h.0.clone())
    }
    fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }
    fn restart(&self, env: &Env) {
        let mut s = self.state.lock().unwrap();
        s.incarnation += 1;
        s.held = None;
        s.have.clear();
        s.period = None;
        let ms = env.ms();
        s.holds.push((ms, None));
    }
}

/// What a request meets on arrival: `Err` is the answer at once (503); `Ok` the mode it came
/// in and how long its answer waits.
fn admit(st: &mut FakeState) -> Result<(Mode, u64), StatusCode> {
    let mode = st.mode;
    let flaky = mode == Mode::Flaky && st.rng.u32(0..3) == 0;
    if mode == Mode::Down || flaky {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let delay = if mode == Mode::Slow {
        st.rng.u64(100..400)
    } else {
        0
    };
    Ok((mode, delay))
}

/// Waits as the mode says: until a hang ends (the arbiter may have given up before: then the
/// request is dropped here), or a slow answer's delay.
async fn wait(s: &Arc<Mutex<FakeState>>, (mode, delay): (Mode, u64)) {
    if mode == Mode::Hang {
        while s.lock().unwrap().mode == Mode::Hang {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(delay)).await;
}

/// [`admit`], then [`wait`].
async fn gate(s: &Arc<Mutex<FakeState>>) -> Result<Mode, StatusCode> {
    let admitted = admit(&mut s.lock().unwrap())?;
    wait(s, admitted).await;
    Ok(admitted.0)
}

async fn fake_ping(State((s, env)): State<Shared>) -> (StatusCode, String) {
    // Recorded on arrival: a ping that hangs is given up by the arbiter, and dropped.
    let admitted = {
        let mut st = s.lock().unwrap();
        let admitted = admit(&mut st);
        let ok = admitted.is_ok_and(|(mode, _)| mode != Mode::Hang);
        st.pings.push((env.next(), env.ms(), ok));
        admitted
    };
    let admitted = match admitted {
        Ok(a) => a,
        Err(code) => return (code, String::new()),
    };
    wait(&s, admitted).await;
    let st = s.lock().unwrap();
    if !st.reports {
        return (StatusCode::OK, String::new());
    }
    let report = serde_json::json!({
        "running_id": format!("{}-{}", st.name, st.incarnation),
        "digest": st.held.as_ref().map(|h| h.1.clone()),
    });
    (StatusCode::OK, report.to_string())
}

async fn lose_answer(mode: Mode) {
    if mode == Mode::LoseAnswers {
        tokio::time::sleep(Duration::from_millis(TIMEOUT_MS + 500)).await;
    }
}

async fn fake_put(State((s, env)): State<Shared>, body: String) -> (StatusCode, String) {
    let (order, ms) = (env.next(), env.ms());
    let name = if let Ok(shard) = ron::from_str::<SchedulerShard>(&body) {
        shard.name
    } else if let Ok(shard) = ron::from_str::<SatelliteShard>(&body) {
        format!("{}/{}", shard.kind, shard.name)
    } else {
        return (StatusCode::BAD_REQUEST, String::new());
    };
    let name = if name.contains('/') {
        name
    } else {
        format!("scheduler/{name}")
    };
    let mode = match gate(&s).await {
        Ok(mode) => mode,
        Err(code) => return (code, String::new()),
    };
    {
        let mut st = s.lock().unwrap();
        if let Some(answer) = st.refuse_puts.clone() {
            return (StatusCode::UNPROCESSABLE_ENTITY, answer);
        }
        st.puts.push((order, ms, name.clone()));
        st.held = Some((name.clone(), digest(body.as_bytes())));
        st.period = None;
        let now = env.ms();
        st.holds.push((now, Some(name)));
    }
    if mode == Mode::LoseAnswers {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    (StatusCode::OK, String::new())
}

async fn fake_delete(State((s, env)): State<Shared>) -> StatusCode {
    let mode = match gate(&s).await {
        Ok(mode) => mode,
        Err(code) => return code,
    };
    {
        let mut st = s.lock().unwrap();
        st.drops += 1;
        if st.refuse_drops > 0 {
            st.refuse_drops -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        st.held = None;
        let now = env.ms();
        st.holds.push((now, None));
    }
    lose_answer(mode).await;
    StatusCode::OK
}

async fn fake_commands(
    State((s, env)): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let mode = match gate(&s).await {
        Ok(mode) => mode,
        Err(code) => return code,
    };
    let shard = headers["x-monitorc-shard"].to_str().unwrap().to_string();
    let first: u64 = headers["x-monitorc-sequence"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    {
        let mut st = s.lock().unwrap();
        if st.held.as_ref().map(|h| h.0.as_str()) != Some(shard.as_str()) {
            // Not holding that shard (restarted, or told to drop it): refused.
            return StatusCode::CONFLICT;
        }
        let epoch = headers
            .get("x-monitorc-epoch")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if epoch != st.epoch {
            st.epoch = epoch;
            st.have.clear();
            st.period = None;
        }
        for (i, line) in body.lines().enumerate() {
            let seq = first + i as u64;
            if st.have.get(&shard).is_some_and(|&h| seq <= h) {
                st.duplicates += 1;
                continue;
            }
            if let Some(p) = st.period.filter(|&p| seq != p + 1) {
                let v = format!("{}: {shard} line {seq} after {p} (a gap)", st.name);
                st.violations.push(v);
            }
            st.have.insert(shard.clone(), seq);
            st.period = Some(seq);
            let order = env.next();
            st.taken.push(Taken {
                order,
                shard: shard.clone(),
                seq,
                line: line.to_string(),
            });
        }
    }
    lose_answer(mode).await;
    StatusCode::OK
}

async fn fake(env: &Arc<Env>, name: &str, reports: bool, seed: u64) -> Fake {
    let state = Arc::new(Mutex::new(FakeState {
        name: name.to_string(),
        reports,
        mode: Mode::Normal,
        rng: fastrand::Rng::with_seed(seed),
        incarnation: 1,
        held: None,
        have: BTreeMap::new(),
        period: None,
        refuse_drops: 0,
        epoch: None,
        refuse_puts: None,
        pings: Vec::new(),
        puts: Vec::new(),
        holds: Vec::new(),
        drops: 0,
        taken: Vec::new(),
        duplicates: 0,
        violations: Vec::new(),
    }));
    let app = Router::new()
        .route("/v1/ping", get(fake_ping))
        .route(
            "/v1/shard",
            axum::routing::put(fake_put).delete(fake_delete),
        )
        .route("/v1/commands", post(fake_commands))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state((state.clone(), env.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fake { port, state }
}

/// The fakes, the arbiter process and what it logged.
struct Cluster {
    env: Arc<Env>,
    fakes: Vec<(String, Fake)>,
    set: ShardSet,
    url: String,
    client: reqwest::Client,
    child: tokio::process::Child,
    log: Arc<Mutex<Vec<String>>>,
    /// The fakes' clock (ms) when the schedule started: its events are relative to it.
    base: AtomicU64,
    /// The fakes' clock (ms) when every fault was ended.
    healed: AtomicU64,
    set_dir: PathBuf,
    _dir: tempfile::TempDir,
}

async fn cluster(seed: u64) -> Cluster {
    cluster_with(seed, None).await
}

/// With `state`, the arbiter keeps its journal there (`--state`).
async fn cluster_with(seed: u64, state: Option<&std::path::Path>) -> Cluster {
    let env = Arc::new(Env {
        start: Instant::now(),
        order: AtomicU64::new(1),
    });
    let mut cfg =
        String::from("define command {\n  command_name check_x\n  command_line /bin/true\n}\n");
    let mut fakes = Vec::new();
    for (i, (kind, name, spare, reports)) in DAEMONS.iter().enumerate() {
        let f = fake(
            &env,
            name,
            *reports,
            seed.wrapping_mul(31).wrapping_add(i as u64),
        )
        .await;
        write!(
            cfg,
            "define {kind} {{\n  {kind}_name {name}\n  address 127.0.0.1\n  port {}\n  \
             spare {}\n  check_interval {}\n  timeout {}\n  max_check_attempts {}\n}}\n",
            f.port,
            u8::from(*spare),
            CHECK_INTERVAL_MS / 1000,
            TIMEOUT_MS / 1000,
            MAX_CHECK_ATTEMPTS
        )
        .unwrap();
        fakes.push((name.to_string(), f));
    }
    for i in 0..HOSTS {
        write!(
            cfg,
            "define host {{\n  host_name h{i:02}\n  check_command check_x\n  max_check_attempts 3\n}}\n"
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.cfg"), cfg).unwrap();
    let out = dir.path().join("shards");
    let (cfg_path, out_path) = (
        dir.path().join("main.cfg").display().to_string(),
        out.display().to_string(),
    );
    let run = tokio::task::spawn_blocking(move || {
        common::monitorc(&["build", &cfg_path, "-o", &out_path])
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let set = ShardSet::open(&out).unwrap();
    let (child, log, url) = arbiter(&out, state).await;
    Cluster {
        env,
        fakes,
        set,
        url,
        client: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
        child,
        log,
        base: AtomicU64::new(0),
        healed: AtomicU64::new(u64::MAX),
        set_dir: out,
        _dir: dir,
    }
}

/// Starts `monitorc arbiter` on the set in `dir`; returns it, its log and its URL.
async fn arbiter(
    dir: &std::path::Path,
    state: Option<&std::path::Path>,
) -> (tokio::process::Child, Arc<Mutex<Vec<String>>>, String) {
    let mut args = vec![
        "arbiter".to_string(),
        dir.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    if let Some(state) = state {
        args.extend(["--state".to_string(), state.display().to_string()]);
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_monitorc"))
        .args(&args)
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
    let start = Instant::now();
    while listen().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the arbiter did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("http://{}", listen().unwrap());
    (child, log, url)
}

impl Cluster {
    fn fake(&self, name: &str) -> &Fake {
        &self.fakes.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// The shards (`kind/name`) with spares, and those spares (fake names).
    fn spares(&self) -> BTreeMap<String, Vec<String>> {
        self.set
            .manifest
            .failover
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn hosts_of(&self, scheduler: &str) -> Vec<String> {
        let hosts: Vec<String> = (self.set.manifest.hosts.iter())
            .filter(|(_, s)| s.as_str() == scheduler)
            .map(|(h, _)| h.clone())
            .collect();
        assert!(!hosts.is_empty(), "{scheduler} runs no host");
        hosts
    }

    async fn status(&self) -> Result<serde_json::Value, String> {
        let r = (self
            .client
            .get(format!("{}/v1/status", self.url))
            .send()
            .await)
            .map_err(|e| e.to_string())?;
        r.json().await.map_err(|e| e.to_string())
    }

    /// Posts lines; returns each line's target shard.
    async fn post(&self, lines: &[String]) -> Result<Vec<String>, String> {
        let r = (self.client.post(format!("{}/v1/commands", self.url)))
            .body(lines.join("\n"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let answer: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
        let answers = answer.as_array().ok_or("not a list")?;
        answers
            .iter()
            .map(|a| match a["targets"].as_array().map(Vec::as_slice) {
                Some([t]) => Ok(t.as_str().unwrap().to_string()),
                _ => Err(format!("unexpected answer {a}")),
            })
            .collect()
    }

    /// Waits until every shard is loaded by the one fake that holds it, as the status says,
    /// with nothing pending.
    async fn settled(&self, secs: u64) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let why = match self.status().await {
                Ok(s) => self.disagreement(&s),
                Err(e) => Some(format!("no status: {e}")),
            };
            let Some(why) = why else { return Ok(()) };
            if start.elapsed() > Duration::from_secs(secs) {
                return Err(format!("not settled after {secs} s: {why}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn disagreement(&self, status: &serde_json::Value) -> Option<String> {
        if status["pending_commands"] != 0 {
            return Some(format!("{} commands pending", status["pending_commands"]));
        }
        let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, f) in &self.fakes {
            if let Some(h) = f.held() {
                holders.entry(h).or_default().push(name.clone());
            }
        }
        for shard in status["shards"].as_array().unwrap() {
            let key = shard["shard"].as_str().unwrap();
            let holder = shard["holder"]
                .as_str()
                .map(|h| h.split('/').nth(1).unwrap());
            let held_by = holders.remove(key).unwrap_or_default();
            if shard["loaded"] != true || holder.is_none() || held_by != [holder.unwrap()] {
                return Some(format!(
                    "{key}: the status says {shard}, held by {held_by:?}"
                ));
            }
        }
        if !holders.is_empty() {
            return Some(format!("held but not in the status: {holders:?}"));
        }
        None
    }

    fn log_tail(&self, n: usize) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(n)..].join("\n")
    }

    /// The arbiter's peak resident memory (KiB).
    fn peak_kib(&self) -> u64 {
        let pid = self.child.id().expect("still running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }
}

/// The schedule of one seed: a fault every 0.3–1 s on a fake that is not already faulted,
/// lasting 0.5–3 s, or 5–7 s (long enough for a failover) one time in three.
fn schedule(seed: u64, chaos_ms: u64) -> Vec<Event> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut busy = vec![0u64; DAEMONS.len()];
    let mut events = Vec::new();
    let mut at = 1500;
    while at < chaos_ms {
        let fake = rng.usize(0..DAEMONS.len());
        if busy[fake] <= at {
            let long = rng.u32(0..3) == 0;
            let length = if long {
                rng.u64(5000..7000)
            } else {
                rng.u64(500..3000)
            };
            let fault = match rng.u32(0..100) {
                0..20 => Fault::Mode(Mode::Down, length),
                20..35 => Fault::Mode(Mode::Hang, length),
                35..50 => Fault::Mode(Mode::Slow, length),
                50..65 => Fault::Mode(Mode::Flaky, length),
                65..80 => Fault::Mode(Mode::LoseAnswers, length),
                _ => Fault::Restart,
            };
            busy[fake] = match fault {
                Fault::Mode(_, d) => at + d,
                Fault::Restart => at,
            };
            events.push(Event { at, fake, fault });
        }
        at += rng.u64(300..1000);
    }
    events
}

/// The outcome of one seed: the violations found, and figures for the report.
struct Outcome {
    violations: Vec<String>,
    lines: usize,
    duplicates: usize,
    moves: usize,
    failovers_checked: usize,
    max_overlap_ms: u64,
    peak_kib: u64,
}

async fn run_seed(seed: u64, chaos_ms: u64) -> (Outcome, Cluster, Vec<Event>) {
    let events = schedule(seed, chaos_ms);
    let c = cluster(seed).await;
    let mut violations = Vec::new();
    if let Err(e) = c.settled(15).await {
        violations.push(format!("before the chaos: {e}"));
    }
    let c = Arc::new(c);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The fault schedule.
    let faults = {
        let (c, events) = (c.clone(), events.clone());
        tokio::spawn(async move {
            let base = c.env.ms();
            c.base.store(base, Ordering::SeqCst);
            let mut ends: Vec<(u64, usize, Mode)> = Vec::new();
            for e in &events {
                loop {
                    let now = c.env.ms() - base;
                    ends.retain(|&(end, fake, mode)| {
                        if end > now {
                            return true;
                        }
                        let f = &c.fakes[fake].1;
                        if f.state.lock().unwrap().mode == mode {
                            f.set_mode(Mode::Normal);
                        }
                        false
                    });
                    if now >= e.at {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let f = &c.fakes[e.fake].1;
                match e.fault {
                    Fault::Mode(mode, length) => {
                        f.set_mode(mode);
                        ends.push((e.at + length, e.fake, mode));
                    }
                    Fault::Restart => f.restart(&c.env),
                }
            }
        })
    };
    // Which live fakes hold each shard, every 20 ms.
    let overlaps = {
        let (c, stop) = (c.clone(), stop.clone());
        tokio::spawn(async move {
            let mut since: BTreeMap<String, u64> = BTreeMap::new();
            let mut worst = (0u64, String::new());
            while !stop.load(Ordering::SeqCst) {
                let now = c.env.ms();
                let mut live: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (name, f) in &c.fakes {
                    let s = f.state.lock().unwrap();
                    if let (Some(h), false) = (&s.held, matches!(s.mode, Mode::Down | Mode::Hang)) {
                        live.entry(h.0.clone()).or_default().push(name.clone());
                    }
                }
                since.retain(|shard, _| live.get(shard).is_some_and(|v| v.len() > 1));
                for (shard, holders) in live.into_iter().filter(|(_, v)| v.len() > 1) {
                    let start = *since.entry(shard.clone()).or_insert(now);
                    if now - start > worst.0 {
                        worst = (
                            now - start,
                            format!("{shard} held by {holders:?} at {now} ms"),
                        );
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            worst
        })
    };
    // `/v1/status` must answer all along.
    let statuses = {
        let (c, stop) = (c.clone(), stop.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                if let Err(e) = c.status().await {
                    failures.push(format!("GET /v1/status at {} ms: {e}", c.env.ms()));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            failures
        })
    };
    // Command lines, all along: 1–10 every 20 ms, each naming a host and unique.
    let posted = {
        let (c, stop) = (c.clone(), stop.clone());
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
            let mut per_shard: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut failures = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let lines: Vec<String> = (0..rng.usize(1..=10))
                    .map(|_| {
                        n += 1;
                        let h = rng.usize(0..HOSTS);
                        format!("[1700000000] ADD_HOST_COMMENT;h{h:02};1;chaos;line {n}")
                    })
                    .collect();
                match c.post(&lines).await {
                    Ok(targets) => {
                        for (t, l) in targets.into_iter().zip(lines) {
                            per_shard.entry(t).or_default().push(l);
                        }
                    }
                    Err(e) => failures.push(format!("POST /v1/commands at {} ms: {e}", c.env.ms())),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (per_shard, failures)
        })
    };
    faults.await.unwrap();
    tokio::time::sleep(Duration::from_millis(
        chaos_ms.saturating_sub(c.env.ms()).min(8000),
    ))
    .await;
    // Heal; one more line per host, so that a daemon of the first protocol that restarted is
    // found out by its refusal.
    for (_, f) in &c.fakes {
        f.set_mode(Mode::Normal);
    }
    c.healed.store(c.env.ms(), Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    let (mut per_shard, post_failures) = posted.await.unwrap();
    violations.extend(post_failures);
    let last: Vec<String> = (0..HOSTS)
        .map(|h| format!("[1700000000] ADD_HOST_COMMENT;h{h:02};1;chaos;healed"))
        .collect();
    match c.post(&last).await {
        Ok(targets) => {
            for (t, l) in targets.into_iter().zip(last) {
                per_shard.entry(t).or_default().push(l);
            }
        }
        Err(e) => violations.push(format!("POST after healing: {e}")),
    }
    if let Err(e) = c.settled(20).await {
        violations.push(format!("after healing: {e}"));
    }
    let worst_overlap = overlaps.await.unwrap();
    violations.extend(statuses.await.unwrap());
    let mut c = Arc::into_inner(c).expect("every task has ended");
    if let Ok(Some(exit)) = c.child.try_wait() {
        violations.push(format!("the arbiter exited: {exit}"));
    }
    let peak_kib = c.peak_kib();
    if peak_kib > MEMORY_BOUND_KIB {
        violations.push(format!("the arbiter peaked at {peak_kib} KiB"));
    }
    if worst_overlap.0 > GRACE_MS {
        violations.push(format!(
            "two live holders for {} ms (grace {GRACE_MS} ms): {}",
            worst_overlap.0, worst_overlap.1
        ));
    }
    let mut outcome = Outcome {
        violations,
        lines: per_shard.values().map(Vec::len).sum(),
        duplicates: 0,
        moves: 0,
        failovers_checked: 0,
        max_overlap_ms: worst_overlap.0,
        peak_kib,
    };
    check_records(&c, &events, &per_shard, &mut outcome);
    (outcome, c, events)
}

/// The invariants read from the fakes' records.
fn check_records(
    c: &Cluster,
    events: &[Event],
    posted: &BTreeMap<String, Vec<String>>,
    out: &mut Outcome,
) {
    let states: Vec<std::sync::MutexGuard<FakeState>> = c
        .fakes
        .iter()
        .map(|(_, f)| f.state.lock().unwrap())
        .collect();
    // Every line reached a holder, first taken in order, numbered without gap.
    let mut taken: BTreeMap<&str, Vec<&Taken>> = BTreeMap::new();
    for s in &states {
        out.violations.extend(s.violations.iter().cloned());
        out.duplicates += s.duplicates;
        for t in &s.taken {
            taken.entry(t.shard.as_str()).or_default().push(t);
        }
    }
    for (shard, lines) in posted {
        let mut firsts: BTreeMap<u64, &Taken> = BTreeMap::new();
        for t in taken.remove(shard.as_str()).unwrap_or_default() {
            let first = firsts.entry(t.seq).or_insert(t);
            if t.order < first.order {
                *first = t;
            }
            if t.line != first.line {
                out.violations.push(format!(
                    "{shard} line {}: {:?} and {:?} under one number",
                    t.seq, first.line, t.line
                ));
            }
        }
        let got: Vec<&str> = firsts.values().map(|t| t.line.as_str()).collect();
        if got != *lines {
            let missing = lines.iter().filter(|l| !got.contains(&l.as_str())).count();
            out.violations.push(format!(
                "{shard}: {} lines posted, {} taken ({missing} never reached a holder), \
                 numbered {:?}…",
                lines.len(),
                got.len(),
                firsts.keys().take(5).collect::<Vec<_>>()
            ));
        }
        let mut orders: Vec<(u64, u64)> = firsts.values().map(|t| (t.order, t.seq)).collect();
        orders.sort_unstable();
        if orders.windows(2).any(|w| w[1].1 < w[0].1) {
            out.violations
                .push(format!("{shard}: lines first taken out of order"));
        }
    }
    for shard in taken.keys() {
        out.violations
            .push(format!("{shard}: lines taken that were never posted"));
    }
    // A shard moves away from a daemon only after its last pings failed.
    let mut puts: BTreeMap<&str, Vec<(u64, u64, usize)>> = BTreeMap::new();
    for (i, s) in states.iter().enumerate() {
        for (order, ms, shard) in &s.puts {
            puts.entry(shard.as_str())
                .or_default()
                .push((*order, *ms, i));
        }
    }
    for (shard, list) in &mut puts {
        list.sort_unstable();
        // The first push of the current holder's run (pushes again to the same daemon, after
        // a restart or a refusal, do not restart the count of failed pings).
        let mut since = list.first().map_or(0, |p| p.0);
        for w in list.windows(2) {
            let ((_, _, from), (order, ms, to)) = (w[0], w[1]);
            if from == to {
                continue;
            }
            let held_since = since;
            since = order;
            out.moves += 1;
            // `max_check_attempts` failed pings in a row before the move, the last of them
            // while it held the shard (the push to the next holder may come later, after a
            // request queued before it).
            let before: Vec<(u64, bool)> = (states[from].pings.iter())
                .filter(|(o, _, _)| *o < order)
                .map(|(o, _, ok)| (*o, *ok))
                .collect();
            let mut run = 0;
            let mut dead = false;
            for &(o, ok) in &before {
                run = if ok { 0 } else { run + 1 };
                dead |= run >= MAX_CHECK_ATTEMPTS && o > held_since;
            }
            let last: Vec<bool> = before[before.len().saturating_sub(MAX_CHECK_ATTEMPTS)..]
                .iter()
                .map(|p| p.1)
                .collect();
            if !dead {
                let pings = &states[from].pings;
                let base = c.base.load(Ordering::SeqCst);
                let faults: Vec<String> = (events.iter())
                    .filter(|e| DAEMONS[e.fake].1 == states[from].name)
                    .map(|e| format!("{:?} at {} ms", e.fault, base + e.at))
                    .collect();
                let before = pings.iter().filter(|p| p.0 < order).count();
                out.violations.push(format!(
                    "{shard} moved from {} to {} at {ms} ms (order {order}) after pings \
                     {last:?} (its pings then, (order, ms, ok): {:?}; its faults: {faults:?})",
                    states[from].name,
                    states[to].name,
                    &pings[before.saturating_sub(4)..(before + 2).min(pings.len())]
                ));
            }
        }
    }
    // Away from a daemon that stops answering, within the bound, when a spare is free.
    let spares = c.spares();
    let base = c.base.load(Ordering::SeqCst);
    let faulted = |fake: usize, from: u64, to: u64| {
        events.iter().any(|e| {
            let (start, end) = match e.fault {
                Fault::Mode(_, d) => (base + e.at, base + e.at + d),
                Fault::Restart => (base + e.at, base + e.at),
            };
            e.fake == fake && start <= to && end >= from
        })
    };
    let index = |name: &str| states.iter().position(|s| s.name == name);
    for e in events {
        let Fault::Mode(Mode::Down | Mode::Hang, length) = e.fault else {
            continue;
        };
        if length < FAILOVER_BOUND_MS {
            continue;
        }
        let t0 = base + e.at;
        let deadline = t0 + FAILOVER_BOUND_MS;
        if deadline > c.healed.load(Ordering::SeqCst) {
            continue;
        }
        // The shard this daemon was meant to hold at t0: the last pushed to it, if no other
        // daemon was pushed it since.
        let Some((_, _, shard)) = (states[e.fake].puts.iter()).filter(|p| p.1 < t0).last() else {
            continue;
        };
        let list = &puts[shard.as_str()];
        let last_before = list.iter().filter(|p| p.1 < t0).last().map(|p| p.2);
        if last_before != Some(e.fake) {
            continue;
        }
        let Some(candidates) = spares.get(shard) else {
            continue;
        };
        let moved = list
            .iter()
            .any(|p| p.1 >= t0 && p.1 <= deadline && p.2 != e.fake);
        let free = candidates
            .iter()
            .filter_map(|s| index(s.rsplit('/').next().unwrap()))
            .any(|s| {
                let held_at_t0 = (states[s].holds.iter())
                    .filter(|h| h.0 <= t0)
                    .last()
                    .and_then(|h| h.1.clone());
                held_at_t0.is_none()
                    && !faulted(s, t0.saturating_sub(CHECK_INTERVAL_MS * 3), deadline)
                    && !(states[s].puts.iter())
                        .any(|p| p.1 >= t0 && p.1 <= deadline && p.2 != *shard)
            });
        if !free {
            continue;
        }
        out.failovers_checked += 1;
        if !moved {
            out.violations.push(format!(
                "{shard}: {} stopped answering at {t0} ms and no spare took the shard within \
                 {FAILOVER_BOUND_MS} ms",
                states[e.fake].name
            ));
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arbiter_keeps_its_invariants_under_chaos() {
    let chaos_ms = env_u64("MONITORC_CHAOS_SECS").unwrap_or(20) * 1000;
    let first = env_u64("MONITORC_CHAOS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    });
    let seeds = env_u64("MONITORC_CHAOS_SEEDS").unwrap_or(1);
    for seed in first..first + seeds {
        let (outcome, c, events) = run_seed(seed, chaos_ms).await;
        eprintln!(
            "seed {seed}: {} faults, {} lines, {} repeated to a daemon that had them, {} shard \
             moves, {} failovers timed, longest two live holders {} ms, peak {} KiB",
            events.len(),
            outcome.lines,
            outcome.duplicates,
            outcome.moves,
            outcome.failovers_checked,
            outcome.max_overlap_ms,
            outcome.peak_kib
        );
        if !outcome.violations.is_empty() {
            let log = std::env::temp_dir().join(format!("monitorc-chaos-{seed}.log"));
            std::fs::write(&log, c.log.lock().unwrap().join("\n")).unwrap();
            eprintln!("the arbiter's whole log: {}", log.display());
            panic!(
                "seed {seed} (replay: MONITORC_CHAOS_SEED={seed}): {} violations:\n{}\n\
                 schedule: {events:?}\n--- arbiter log (last 60 lines) ---\n{}",
                outcome.violations.len(),
                outcome.violations.join("\n"),
                c.log_tail(60)
            );
        }
    }
}

/// Waits until `cond` holds; fails the test after `secs`.
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

/// Issue #16, first hole: a daemon that restarts between two pings answers every ping. One
/// that reports what it holds is sent its shard again at its next ping; one of the first
/// protocol (bare 200) once it refuses a command; the command is delivered after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_restarted_between_pings_gets_its_shard_again() {
    let c = cluster(1).await;
    c.settled(10).await.unwrap();
    let s1 = c.fake("s1");
    s1.restart(&c.env);
    until("s1 is sent its shard again", 4, || {
        s1.held().as_deref() == Some("scheduler/s1")
    })
    .await;
    let s3 = c.fake("s3");
    s3.restart(&c.env);
    let host = &c.hosts_of("s3")[0];
    let line = format!("[1700000000] ADD_HOST_COMMENT;{host};1;test;after the restart");
    assert_eq!(c.post(&[line.clone()]).await.unwrap(), ["scheduler/s3"]);
    until("s3 takes the line", 5, || {
        s3.state
            .lock()
            .unwrap()
            .taken
            .iter()
            .any(|t| t.line == line)
    })
    .await;
    assert_eq!(s3.held().as_deref(), Some("scheduler/s3"));
    c.settled(5).await.unwrap();
    let log = c.log_tail(200);
    assert!(
        log.contains("daemon restarted daemon=scheduler/s1"),
        "{log}"
    );
    assert!(
        log.contains("daemon no longer holds its shard: sending it again shard=scheduler/s3"),
        "{log}"
    );
}

/// Issue #16, second hole: a dead daemon that answers again is told to drop its shard; when
/// the drop is refused it is sent again at each good ping until one is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_that_fails_is_sent_again() {
    let c = cluster(2).await;
    c.settled(10).await.unwrap();
    let s1 = c.fake("s1");
    s1.set_mode(Mode::Down);
    until("a spare runs s1's shard", 6, || {
        ["sp1", "sp2"]
            .iter()
            .any(|s| c.fake(s).held().as_deref() == Some("scheduler/s1"))
    })
    .await;
    s1.state.lock().unwrap().refuse_drops = 2;
    s1.set_mode(Mode::Normal);
    let back = Instant::now();
    until("s1 drops the shard", 6, || s1.held().is_none()).await;
    assert_eq!(s1.state.lock().unwrap().drops, 3);
    // Each refused drop costs one ping interval.
    assert!(back.elapsed() >= Duration::from_millis(2 * CHECK_INTERVAL_MS - 200));
    c.settled(5).await.unwrap();
}

/// Issue #12: with `--state`, what the arbiter answered for survives its death. Lines taken
/// before, lines waiting for dead schedulers when it is killed: after a restart on the same
/// state, each reaches a holder exactly once (the run id and the numbers are kept, so a line
/// whose answer was lost is recognised).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_answered_for_survive_a_restart_of_the_arbiter() {
    let state = tempfile::tempdir().unwrap();
    let mut c = cluster_with(3, Some(state.path())).await;
    c.settled(10).await.unwrap();
    let line = |n: usize| {
        format!(
            "[1700000000] ADD_HOST_COMMENT;h{:02};1;test;line {n}",
            n % HOSTS
        )
    };
    let before: Vec<String> = (0..20).map(line).collect();
    c.post(&before).await.unwrap();
    c.settled(10).await.unwrap();
    // Every scheduler stops answering; lines wait; the arbiter is killed.
    for (name, f) in &c.fakes {
        if name.starts_with('s') {
            f.set_mode(Mode::Down);
        }
    }
    let during: Vec<String> = (20..60).map(line).collect();
    for chunk in during.chunks(10) {
        c.post(chunk).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.child.kill().await.unwrap();
    for (_, f) in &c.fakes {
        f.set_mode(Mode::Normal);
    }
    let (child, log, url) = arbiter(&c.set_dir, Some(state.path())).await;
    (c.child, c.log, c.url) = (child, log, url);
    c.settled(15).await.unwrap();
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for (_, f) in &c.fakes {
        for t in &f.state.lock().unwrap().taken {
            *taken.entry(t.line.clone()).or_default() += 1;
        }
    }
    for l in before.iter().chain(&during) {
        assert_eq!(taken.get(l), Some(&1), "{l}: {taken:?}");
    }
    assert_eq!(taken.len(), 60);
    let log = c.log_tail(100);
    assert!(
        log.contains("lines accepted by an earlier run wait again"),
        "{log}"
    );
}

/// A push the daemon refuses is logged with the start of its answer and shown in
/// `/v1/status` until the daemon takes one (a node answers Nagios' errors).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_push_is_logged_and_shown_with_its_answer() {
    let c = cluster(4).await;
    c.settled(10).await.unwrap();
    let s1 = c.fake("s1");
    let answer = "Error: Service check command 'nope' specified in service 'svc' not defined";
    s1.state.lock().unwrap().refuse_puts = Some(answer.into());
    s1.restart(&c.env);
    let expected = format!("422: {answer}");
    let start = Instant::now();
    loop {
        let s = c.status().await.unwrap();
        let refused = &s["refused_pushes"]["scheduler/s1"];
        if refused["answer"] == expected.as_str() {
            assert_eq!(refused["shard"], "scheduler/s1");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(c.log_tail(50).contains(answer));
    s1.state.lock().unwrap().refuse_puts = None;
    c.settled(5).await.unwrap();
    assert!(c.status().await.unwrap().get("refused_pushes").is_none());
}
