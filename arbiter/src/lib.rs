//! `monitorc arbiter`: the live dispatcher of a shard set.
//!
//! It pushes every daemon its shard, pings each one every `check_interval`, declares it dead
//! after `max_check_attempts` failed pings in a row, hands a dead daemon's shard to its first
//! live spare (satellites get new links), queues the external commands of a shard nobody
//! holds and delivers them, in order, to whoever holds it next. The decisions are made by
//! [`core::Core`], which does no I/O; this module is the network side: one HTTP request queue
//! per daemon (so each daemon sees its requests in the order they were decided), one ping
//! loop per daemon, and the arbiter's own HTTP API.
//!
//! Protocol with the daemons (each at the address and port of its definition):
//! `GET /v1/ping` (200 when alive, with a JSON report `{"running_id": …, "digest": …}` of what
//! it holds, or a bare 200 for "unknown"), `PUT /v1/shard` (body: the shard file, RON), `DELETE
//! /v1/shard`, `POST /v1/commands` (body: command lines; headers `x-monitorc-shard` and
//! `x-monitorc-sequence`, the number of the first line within the shard, so a daemon can
//! ignore lines it already has; every request carries `x-monitorc-epoch`, which changes with
//! each run of the arbiter, whose numbers then start at 1 again). The arbiter serves `POST /v1/commands`, `GET /v1/status`
//! and `GET /v1/ping`.

pub mod core;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tracing::{debug, error, info, warn};

use crate::core::{Action, Change, Core, Effect, Endpoint, LineResult, Outcome, Ping, Status};
use monitorc_runtime::shard::ShardSet;

/// The largest batch of command lines the arbiter takes in one request.
const COMMANDS_LIMIT: usize = 64 << 20;

/// How long a daemon may take to load a shard (Alignak's `long_timeout`).
const PUSH_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Give a shard back to its owner when the owner answers again (the spare drops it first).
    pub failback: bool,
    /// Where the set was read from: RELOAD_CONFIG, RESTART_PROGRAM and SIGHUP read it again.
    /// Without it, a reload fails (logged, and shown in `/v1/status`).
    pub dir: Option<PathBuf>,
    /// Where the arbiter keeps its command journal and run id, so that a line it answered for
    /// survives a restart. Without it, lines waiting for a holder are lost with the process.
    pub state: Option<PathBuf>,
}

/// The command journal (`--state DIR`, file `commands.log`), one record per line:
/// `L unit seq line` for each line accepted (fsynced before the answer), `A unit seq` when a
/// holder took the unit's lines up to `seq`, `N unit seq` for a unit's next number (written
/// when the file is compacted: at start, and when it grows past [`JOURNAL_COMPACT`] with
/// nothing waiting). Fields are separated by tabs.
struct Journal {
    path: PathBuf,
    file: std::fs::File,
    len: u64,
}

/// A journal larger than this is rewritten (with nothing but the numbers) once no line waits.
const JOURNAL_COMPACT: u64 = 16 << 20;

type Restored = BTreeMap<String, (u64, Vec<(u64, String)>)>;

impl Journal {
    /// Reads what an earlier run left: per unit, its next number and the lines not taken.
    fn read(path: &std::path::Path) -> Restored {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut units: BTreeMap<String, (u64, BTreeMap<u64, String>, u64)> = BTreeMap::new();
        for record in text.lines() {
            let mut f = record.splitn(4, '\t');
            let (Some(kind), Some(unit), Some(seq)) = (f.next(), f.next(), f.next()) else {
                continue; // a record cut short by a crash
            };
            let Ok(seq) = seq.parse::<u64>() else {
                continue;
            };
            let u = units.entry(unit.to_string()).or_default();
            match (kind, f.next()) {
                ("L", Some(line)) => {
                    u.0 = u.0.max(seq + 1);
                    u.1.insert(seq, line.to_string());
                }
                ("A", None) => u.2 = u.2.max(seq),
                ("N", None) => u.0 = u.0.max(seq),
                _ => {}
            }
        }
        units
            .into_iter()
            .map(|(unit, (next, lines, acked))| {
                let waiting = lines.into_iter().filter(|(s, _)| *s > acked).collect();
                (unit, (next, waiting))
            })
            .collect()
    }

    /// Replaces the file with the numbers and waiting lines given.
    fn rewrite(
        path: &std::path::Path,
        queues: &[(String, u64, Vec<(u64, String)>)],
    ) -> std::io::Result<Journal> {
        use std::io::Write as _;
        let mut text = String::new();
        for (unit, next, lines) in queues {
            text.push_str(&format!("N\t{unit}\t{next}\n"));
            for (seq, line) in lines {
                text.push_str(&format!("L\t{unit}\t{seq}\t{line}\n"));
            }
        }
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            len: text.len() as u64,
        })
    }

    fn append(&mut self, text: &str, sync: bool) -> std::io::Result<()> {
        use std::io::Write as _;
        self.file.write_all(text.as_bytes())?;
        self.len += text.len() as u64;
        if sync {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

struct Ctx {
    core: Mutex<Core>,
    /// The last push each daemon refused, with its answer, until it takes one.
    refused: Mutex<BTreeMap<String, RefusedPush>>,
    journal: Option<Mutex<Journal>>,
    /// Each daemon's request queue, by `kind/name`.
    queues: Mutex<BTreeMap<String, mpsc::UnboundedSender<Effect>>>,
    control: mpsc::UnboundedSender<Control>,
    reloads: Mutex<ReloadStatus>,
}

enum Control {
    Reload,
}

/// What `/v1/status` says of reloads.
#[derive(Clone, Debug, Default, Serialize)]
struct ReloadStatus {
    reloads: u64,
    last_reload_error: Option<String>,
}

impl Ctx {
    /// Runs one step of the state machine, logs its state changes and queues its requests.
    fn step<T>(&self, f: impl FnOnce(&mut Core) -> (Vec<Effect>, T)) -> T {
        let (effects, changes, t) = {
            let mut core = self
                .core
                .lock()
                .expect("the core never panics while locked");
            let (effects, t) = f(&mut core);
            let changes = core.take_changes();
            self.journal_deliveries(&core, &changes);
            (effects, changes, t)
        };
        log(&changes);
        self.send(effects);
        t
    }

    /// Records the lines holders took; compacts the journal once it is large and nothing
    /// waits. (Losing such a record only sends lines again, with their numbers.)
    fn journal_deliveries(&self, core: &Core, changes: &[Change]) {
        let Some(journal) = &self.journal else { return };
        let mut text = String::new();
        for c in changes {
            if let Change::Delivered { unit, through } = c {
                text.push_str(&format!("A\t{unit}\t{through}\n"));
            }
        }
        if text.is_empty() {
            return;
        }
        let mut j = journal.lock().expect("not poisoned");
        if let Err(e) = j.append(&text, false) {
            error!(error = %e, "cannot write the command journal");
        }
        if j.len > JOURNAL_COMPACT && core.status().pending_commands == 0 {
            match Journal::rewrite(&j.path, &core.queues()) {
                Ok(fresh) => *j = fresh,
                Err(e) => error!(error = %e, "cannot compact the command journal"),
            }
        }
    }

    fn send(&self, effects: Vec<Effect>) {
        let queues = self.queues.lock().expect("not poisoned");
        for e in effects {
            if let Some(q) = queues.get(&e.daemon) {
                // A closed queue means the daemon was removed or the arbiter is stopping.
                let _ = q.send(e);
            }
        }
    }
}

fn log(changes: &[Change]) {
    for c in changes {
        match c {
            Change::Dead { daemon, failures } => {
                warn!(daemon = %daemon, failed_pings = failures, "daemon is dead")
            }
            Change::Back { daemon } => info!(daemon = %daemon, "daemon answers again"),
            Change::Assigned { unit, daemon } => {
                info!(shard = %unit, daemon = %daemon, "shard assigned")
            }
            Change::Loaded { unit, daemon } => {
                info!(shard = %unit, daemon = %daemon, "shard loaded")
            }
            Change::Released { unit, daemon } => {
                info!(shard = %unit, daemon = %daemon, "shard dropped by its spare (failback)")
            }
            Change::Uncovered { unit, hosts } => {
                warn!(shard = %unit, hosts = hosts, "no live spare: hosts unmonitored")
            }
            Change::Lost { unit, daemon } => {
                warn!(shard = %unit, daemon = %daemon, "daemon no longer holds its shard: sending it again")
            }
            Change::Restarted { daemon } => info!(daemon = %daemon, "daemon restarted"),
            Change::Delivered { unit, through } => {
                debug!(shard = %unit, through, "lines delivered")
            }
            Change::Discarded { unit, commands } => {
                warn!(shard = %unit, commands, "shard removed by the reload: its waiting commands are dropped")
            }
        }
    }
}

fn base_url(e: &Endpoint) -> String {
    if e.address.contains(':') {
        format!("http://[{}]:{}", e.address, e.port)
    } else {
        format!("http://{}:{}", e.address, e.port)
    }
}

fn timeout(e: &Endpoint) -> Duration {
    Duration::from_secs(u64::from(e.liveness.timeout.max(1)))
}

/// This run of the arbiter: sequence numbers start at 1 again in each, so a daemon that
/// de-duplicates by number resets when it changes (header `x-monitorc-epoch`).
/// With `--state`, the id is kept there and stays the same across restarts: the lines the
/// journal brings back keep their numbers, which daemons have seen.
fn epoch() -> &'static str {
    EPOCH.get_or_init(new_epoch)
}

static EPOCH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn new_epoch() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.{:09}.{}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    )
}

/// Opens the state directory: the run id (created once) and the journal, whose waiting lines
/// go back into the core.
fn open_state(dir: &std::path::Path, core: &mut Core) -> std::io::Result<Journal> {
    std::fs::create_dir_all(dir)?;
    let epoch_file = dir.join("epoch");
    let epoch = match std::fs::read_to_string(&epoch_file) {
        Ok(e) if !e.trim().is_empty() => e.trim().to_string(),
        _ => {
            let e = new_epoch();
            std::fs::write(&epoch_file, &e)?;
            e
        }
    };
    let _ = EPOCH.set(epoch);
    let path = dir.join("commands.log");
    let mut waiting = 0;
    for (unit, (next, lines)) in Journal::read(&path) {
        let n = lines.len();
        if core.restore(&unit, next, lines) {
            waiting += n;
        } else if n > 0 {
            warn!(shard = %unit, commands = n, "the journal holds lines for a shard the set no longer has: dropped");
        }
    }
    if waiting > 0 {
        info!(
            commands = waiting,
            "lines accepted by an earlier run wait again"
        );
    }
    Journal::rewrite(&path, &core.queues())
}

/// Sends one request. A refusal comes with the start of the daemon's answer (a node says why
/// Nagios refused a shard there).
async fn perform(
    client: &reqwest::Client,
    e: &Endpoint,
    action: &Action,
) -> (Outcome, Option<String>) {
    let url = format!(
        "{}/v1/{}",
        base_url(e),
        match action {
            Action::Forward { .. } => "commands",
            _ => "shard",
        }
    );
    let request = match action {
        Action::Push { body, .. } => client
            .put(&url)
            .timeout(PUSH_TIMEOUT)
            .body(body.as_bytes().to_vec()),
        Action::Drop => client.delete(&url).timeout(timeout(e)),
        Action::Forward {
            unit,
            first_seq,
            lines,
        } => {
            let mut body = lines.join("\n");
            body.push('\n');
            client
                .post(&url)
                .timeout(timeout(e) + Duration::from_micros(100 * lines.len() as u64))
                .header("x-monitorc-shard", unit.as_str())
                .header("x-monitorc-sequence", first_seq.to_string())
                .body(body)
        }
    };
    match request.header("x-monitorc-epoch", epoch()).send().await {
        Ok(r) if r.status().is_success() => {
            debug!(daemon = %e.key, url = %url, "request done");
            (Outcome::Done, None)
        }
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            let answer: String = body.trim().chars().take(2048).collect();
            warn!(daemon = %e.key, url = %url, status, answer = %answer, "request refused");
            (Outcome::Refused, Some(format!("{status}: {answer}")))
        }
        Err(err) => {
            warn!(daemon = %e.key, url = %url, error = %err, "request failed");
            (Outcome::Failed, None)
        }
    }
}

/// The report a daemon may give in its ping answer.
#[derive(serde::Deserialize)]
struct Report {
    running_id: String,
    digest: Option<String>,
}

async fn ping(client: &reqwest::Client, e: &Endpoint) -> Ping {
    let url = format!("{}/v1/ping", base_url(e));
    let answer = async {
        let r = client.get(&url).timeout(timeout(e)).send().await?;
        if r.status() != reqwest::StatusCode::OK {
            return Ok(Ping::Failed);
        }
        let body = r.bytes().await?;
        Ok::<_, reqwest::Error>(match serde_json::from_slice::<Report>(&body) {
            Ok(r) => Ping::Holding {
                running_id: r.running_id,
                digest: r.digest,
            },
            // A bare 200 (or any other body): alive, holding who knows what.
            Err(_) => Ping::Alive,
        })
    };
    answer.await.unwrap_or(Ping::Failed)
}

/// The request queue and the ping loop of one daemon.
fn spawn_daemon(
    ctx: &Arc<Ctx>,
    client: &reqwest::Client,
    e: Endpoint,
) -> (mpsc::UnboundedSender<Effect>, [AbortHandle; 2]) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
    // One request at a time, in order.
    let (ctx2, client2, e2) = (ctx.clone(), client.clone(), e.clone());
    let queue = tokio::spawn(async move {
        while let Some(effect) = rx.recv().await {
            let wanted = ctx2.core.lock().expect("not poisoned").wanted(effect.op);
            let (outcome, refusal) = if wanted {
                perform(&client2, &e2, &effect.action).await
            } else {
                debug!(daemon = %e2.key, op = effect.op, "request superseded: not sent");
                (Outcome::Failed, None)
            };
            if let Action::Push { unit, .. } = &effect.action {
                let mut refused = ctx2.refused.lock().expect("not poisoned");
                match refusal {
                    Some(answer) => {
                        let r = RefusedPush {
                            shard: unit.clone(),
                            answer,
                        };
                        refused.insert(e2.key.clone(), r);
                    }
                    None if outcome == Outcome::Done => {
                        refused.remove(&e2.key);
                    }
                    None => {}
                }
            }
            ctx2.step(|core| (core.on_done(effect.op, outcome), ()));
        }
    });
    let (ctx2, client2) = (ctx.clone(), client.clone());
    let pings = tokio::spawn(async move {
        let every = Duration::from_secs(u64::from(e.liveness.check_interval.max(1)));
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let sent = ctx2.core.lock().expect("not poisoned").clock();
            let ping = ping(&client2, &e).await;
            ctx2.step(|core| (core.on_ping(&e.key, ping, sent), ()));
        }
    });
    (tx, [queue.abort_handle(), pings.abort_handle()])
}

/// Runs the arbiter over `set` on `listener` until `shutdown` completes.
pub async fn run(
    set: ShardSet,
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut core = Core::new(set, options.failback);
    let journal = match &options.state {
        Some(dir) => Some(Mutex::new(open_state(dir, &mut core).map_err(|e| {
            std::io::Error::other(format!("state directory {}: {e}", dir.display()))
        })?)),
        None => None,
    };
    let endpoints = core.endpoints();
    let (shards, daemons) = core.size();
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        // Daemons are reached directly, whatever HTTP_PROXY says.
        .no_proxy()
        .build()
        .map_err(std::io::Error::other)?;
    let (control, mut controls) = mpsc::unbounded_channel();
    let ctx = Arc::new(Ctx {
        core: Mutex::new(core),
        refused: Mutex::new(BTreeMap::new()),
        journal,
        queues: Mutex::new(BTreeMap::new()),
        control,
        reloads: Mutex::new(ReloadStatus::default()),
    });
    let mut tasks: BTreeMap<String, [AbortHandle; 2]> = BTreeMap::new();
    for e in endpoints {
        let key = e.key.clone();
        let (tx, handles) = spawn_daemon(&ctx, &client, e);
        ctx.queues
            .lock()
            .expect("not poisoned")
            .insert(key.clone(), tx);
        tasks.insert(key, handles);
    }
    let local = listener.local_addr()?;
    info!(listen = %local, shards, daemons, "arbiter started");
    ctx.step(|core| (core.start(), ()));

    let app = Router::new()
        .route("/v1/ping", get(|| async { "pong\n" }))
        .route("/v1/status", get(status))
        .route("/v1/commands", post(commands))
        .layer(axum::extract::DefaultBodyLimit::max(COMMANDS_LIMIT))
        .with_state(ctx.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let mut server = tokio::spawn(async move { server.await });
    let mut hangups = hangups();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = hangups.recv() => reload(&ctx, &client, &options, &mut tasks).await,
            Some(Control::Reload) = controls.recv() => {
                reload(&ctx, &client, &options, &mut tasks).await
            }
        }
    }
    info!("stopping");
    let _ = stop_tx.send(());
    for handles in tasks.values() {
        for h in handles {
            h.abort();
        }
    }
    ctx.queues.lock().expect("not poisoned").clear();
    // Open client connections get a second to finish; then the server is dropped.
    match tokio::time::timeout(Duration::from_secs(1), &mut server).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Ok(()),
        Err(_) => {
            server.abort();
            Ok(())
        }
    }
}

/// Reads the set again and hands it to the core; daemons added or moved get new queues and
/// ping loops, removed ones lose theirs. A set that cannot be loaded changes nothing.
async fn reload(
    ctx: &Arc<Ctx>,
    client: &reqwest::Client,
    options: &Options,
    tasks: &mut BTreeMap<String, [AbortHandle; 2]>,
) {
    let Some(dir) = options.dir.clone() else {
        let why = "the arbiter does not know where its set came from";
        error!("reload failed: {why}");
        ctx.reloads.lock().expect("not poisoned").last_reload_error = Some(why.into());
        return;
    };
    let loaded = tokio::task::spawn_blocking(move || ShardSet::open(&dir)).await;
    let set = match loaded {
        Ok(Ok(set)) => set,
        Ok(Err(e)) => {
            error!(error = %e, "reload failed: the set cannot be loaded; keeping the current one");
            ctx.reloads.lock().expect("not poisoned").last_reload_error = Some(e.to_string());
            return;
        }
        Err(e) => {
            error!(error = %e, "reload failed");
            return;
        }
    };
    // The effects are sent once the queues of new daemons exist.
    let (effects, restarted, gone) = ctx.step(|core| (Vec::new(), core.reload(set)));
    let endpoints = ctx.core.lock().expect("not poisoned").endpoints();
    for key in gone.iter().chain(&restarted) {
        if let Some(handles) = tasks.remove(key) {
            for h in handles {
                h.abort();
            }
        }
        ctx.queues.lock().expect("not poisoned").remove(key);
    }
    for e in endpoints.into_iter().filter(|e| restarted.contains(&e.key)) {
        let key = e.key.clone();
        let (tx, handles) = spawn_daemon(ctx, client, e);
        ctx.queues
            .lock()
            .expect("not poisoned")
            .insert(key.clone(), tx);
        tasks.insert(key, handles);
    }
    ctx.send(effects);
    {
        let mut r = ctx.reloads.lock().expect("not poisoned");
        r.reloads += 1;
        r.last_reload_error = None;
    }
    let (shards, daemons) = ctx.core.lock().expect("not poisoned").size();
    info!(
        shards,
        daemons,
        restarted = restarted.len(),
        removed = gone.len(),
        "shard set reloaded"
    );
}

/// SIGHUP, the daemons' usual reload signal (never on other platforms).
fn hangups() -> mpsc::UnboundedReceiver<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    #[cfg(unix)]
    if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(tx);
    rx
}

/// `/v1/status`: the core's view, and the reloads.
#[derive(Serialize)]
struct FullStatus {
    #[serde(flatten)]
    core: Status,
    #[serde(flatten)]
    reloads: ReloadStatus,
    /// Daemon → the last push it refused and its answer (a node gives Nagios' errors).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    refused_pushes: BTreeMap<String, RefusedPush>,
}

#[derive(Clone, Debug, Serialize)]
struct RefusedPush {
    shard: String,
    answer: String,
}

async fn status(State(ctx): State<Arc<Ctx>>) -> Json<FullStatus> {
    let core = ctx.core.lock().expect("not poisoned").status();
    let reloads = ctx.reloads.lock().expect("not poisoned").clone();
    let refused_pushes = ctx.refused.lock().expect("not poisoned").clone();
    Json(FullStatus {
        core,
        reloads,
        refused_pushes,
    })
}

async fn commands(
    State(ctx): State<Arc<Ctx>>,
    body: String,
) -> Result<Json<Vec<LineResult>>, (axum::http::StatusCode, String)> {
    let results = ctx.step(|core| {
        let (results, effects) = core.submit(&body);
        (effects, results)
    });
    // Durable before the answer.
    if let Some(journal) = &ctx.journal {
        let mut text = String::new();
        for r in &results {
            for (unit, seq) in r.targets.iter().zip(&r.seqs) {
                text.push_str(&format!("L\t{unit}\t{seq}\t{}\n", r.line));
            }
        }
        if !text.is_empty() {
            let written = journal.lock().expect("not poisoned").append(&text, true);
            if let Err(e) = written {
                error!(error = %e, "cannot write the command journal");
                return Err((
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the lines are queued but not journalled: {e}\n"),
                ));
            }
        }
    }
    if results.iter().any(|r| r.reload) {
        let _ = ctx.control.send(Control::Reload);
    }
    Ok(Json(results))
}

/// Completes on SIGINT or SIGTERM, whichever comes first. The handlers are installed when
/// this is called, not when the future is first polled.
pub fn signals() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    }
}
