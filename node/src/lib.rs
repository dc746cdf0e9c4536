//! `monitorc node`: runs the shard the arbiter pushes on a real engine (Nagios 4), under
//! supervision. One node per state directory; it speaks the arbiter's daemon protocol:
//!
//! - `PUT /v1/shard`: the same digest as held answers at once. Otherwise a scheduler shard is
//!   rendered into a new generation, validated with `nagios4 -v` on an isolated copy (a
//!   refused shard answers 422 with Nagios' errors and the running engine is untouched), the
//!   `current` link is switched atomically, the engine reloaded (`SIGHUP`) or started, and the
//!   node waits until `status.dat` shows the engine loaded it; if it does not, the previous
//!   generation is put back and the answer is 500. A satellite shard is only held.
//! - `DELETE /v1/shard`: the engine is stopped, its retention file kept aside in `archive/`.
//! - `POST /v1/commands`: 409 for a shard not held; lines de-duplicated by the arbiter's
//!   sequence numbers (reset when its `x-monitorc-epoch` changes), written to the journal and
//!   fsynced before the answer, then fed to the engine's command FIFO in order, never blocking
//!   on a FIFO without a reader; commands that stop the engine or read files are dropped with
//!   a log line.
//! - `GET /v1/ping`: 200 with a JSON report (running id, shard and digest held, engine state,
//!   command counters), 503 once the engine has failed (crash budget spent), so the arbiter
//!   fails over.
//!
//! Supervision: the engine runs in its own process group and dies with the node; a crash is
//! restarted on the same generation (at most three times in five minutes), and so is an
//! engine that stopped writing `status.dat` for [`Options::hang_after`] (killed first).
//!
//! Delivery ([`confirm`]): each fed batch ends with a marker Nagios logs once it has processed
//! the batch. The restarted engine of a crash, a hang or a node restart starts from its last
//! retention save, so every line whose marker was not logged before that save is fed again:
//! nothing taken is lost, and a line may reach the engine's history twice (its state once).
//!
//! Files under the state directory: `node.lock` (one node per directory), `node.json` (what is
//! held), `gens/<N>/` (`shard.ron`, `objects.cfg`, `verify/` for validation), `current` →
//! `gens/<N>`, `engine/` (the main config and Nagios' runtime files, stable across
//! generations), `journal/` (command lines taken), `archive/` (retention of dropped shards).

use std::collections::VecDeque;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use monitorc_runtime::nagios::{self, Main};
use monitorc_runtime::shard::{digest, SatelliteShard, SchedulerShard};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tracing::{error, info, warn};

mod confirm;
use confirm::Marker;

/// How long a start or reload may take before it counts as failed (inside the arbiter's
/// two-minute push timeout, with validation).
const LOAD_BUDGET: Duration = Duration::from_secs(60);
/// Crash restarts allowed within [`CRASH_WINDOW`] before the engine is declared failed.
const CRASH_BUDGET: usize = 3;
const CRASH_WINDOW: Duration = Duration::from_secs(300);
/// Lines taken but not yet fed beyond which commands are refused (503): the arbiter keeps them.
const BACKLOG_LIMIT: usize = 100_000;
/// External commands never fed to the engine: they stop it, restart it behind the node's back
/// or read files on its host.
const DROPPED: &[&str] = &[
    "SHUTDOWN_PROGRAM",
    "SHUTDOWN_PROCESS",
    "RESTART_PROGRAM",
    "RESTART_PROCESS",
    "PROCESS_FILE",
    "READ_STATE_INFORMATION",
];

#[derive(Clone, Debug)]
pub struct Options {
    /// The node's directory (created if missing).
    pub state: PathBuf,
    /// The engine's binary.
    pub engine_bin: PathBuf,
    /// The `$USERn$` macros (shards carry no secrets). Without it the engine gets an empty one.
    pub resource_file: Option<PathBuf>,
    /// More main-config lines, e.g. `interval_length=1` in tests.
    pub engine_set: Vec<(String, String)>,
    /// Seconds between two writes of `status.dat`.
    pub status_interval: u32,
    /// A running engine whose `status.dat` is older than this (and than three status
    /// intervals) is hung: it is killed, and restarted as after a crash.
    pub hang_after: Duration,
}

/// What the node holds, as `node.json` keeps it across restarts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Held {
    /// `scheduler/NAME`, or `KIND/NAME` for a satellite.
    shard: String,
    digest: String,
    /// The generation under `gens/` (schedulers).
    generation: u64,
    scheduler: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum EngineState {
    Idle,
    Starting,
    Reloading,
    Running,
    Failed,
}

/// What a ping reports; never locked across an await.
#[derive(Debug)]
struct View {
    held: Option<Held>,
    state: EngineState,
    pid: Option<u32>,
    reloads: u64,
    restarts: u64,
    last_error: Option<String>,
}

/// Command lines taken for the shard held. On disk, `journal/<shard>.log` holds one record
/// per line taken (`SEQ<TAB>LINE`), one per arbiter run (`epoch<TAB>EPOCH<TAB>HIGH`) and the
/// journal's id (`journal<TAB>ID`, which the feeder's markers name), each fsynced before the
/// answer; `journal/<shard>.fed` holds the offset in the log up to which every line was fed (so
/// a restarted node feeds the rest) and the offset up to which the engine's retention holds it. The log is emptied once it has grown past [`COMPACT_AT`]
/// and every line in it reached the engine before its last retention save.
#[derive(Debug, Default)]
struct Journal {
    /// Names this log in the feeder's markers (empty until the first line is taken).
    id: String,
    epoch: Option<String>,
    /// The highest sequence number taken.
    high: u64,
    /// Lines fed to the engine so far.
    fed: u64,
    dropped: u64,
    /// Taken, not yet fed: sequence number, line, offset in the log after its record.
    pending: VecDeque<(u64, String, u64)>,
    /// The log's length, and the offset up to which every line was fed.
    log_len: u64,
    fed_offset: u64,
    /// Lines fed again: not fed when the node last stopped, or lost with a crashed engine.
    replayed: u64,
    /// The markers of this log that Nagios logged (those before its last retention save
    /// collapsed into the furthest one), and the arbiter's number of the last line confirmed.
    markers: Vec<Marker>,
    confirmed: u64,
    /// How far the engine's retention is known to hold the journal (a marker logged before a
    /// retention save), kept in `<shard>.fed` too: `nagios.log` is rotated daily, and a node
    /// restarted after that finds the markers in the archive only.
    safe: u64,
    /// The offsets `<shard>.fed` holds (fed, safe), as last written or read.
    saved_offset: Option<(u64, u64)>,
    /// Which holding of the shard, and which engine process of it, lines now go to: a batch
    /// written for an earlier one is never counted as fed in this one.
    holding: u64,
}

/// Numbers the journals of successive holdings and engine processes.
static HOLDINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The journal's log is emptied once it is longer than this and all of it was fed.
const COMPACT_AT: u64 = 4 << 20;
/// At most this many bytes of lines are written to the FIFO at once.
const FEED_BATCH: usize = 64 << 10;

fn journal_paths(node: &Node, shard: &str) -> (PathBuf, PathBuf) {
    let base = shard.replace('/', "_");
    (
        node.dir(&format!("journal/{base}.log")),
        node.dir(&format!("journal/{base}.fed")),
    )
}

/// The journal of `shard` as the last run left it: the epoch and highest number taken, and the
/// lines not yet fed. A torn last record (never acknowledged) is cut off.
fn restore_journal(node: &Node, shard: &str) -> std::io::Result<Journal> {
    let (log, fed) = journal_paths(node, shard);
    let text = match std::fs::read(&log) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Journal::default()),
        Err(e) => return Err(e),
    };
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if complete < text.len() {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)?
            .set_len(complete as u64)?;
    }
    // `FED SAFE` (an older node wrote `FED` alone).
    let saved = std::fs::read_to_string(&fed).unwrap_or_default();
    let mut numbers = saved.split_whitespace().map(|n| n.parse::<u64>().ok());
    let fed_offset = numbers.next().flatten().unwrap_or(0);
    let safe = numbers.next().flatten().unwrap_or(0);
    let mut j = Journal {
        log_len: complete as u64,
        fed_offset: fed_offset.min(complete as u64),
        safe: safe.min(fed_offset).min(complete as u64),
        saved_offset: Some((fed_offset, safe)),
        ..Journal::default()
    };
    let mut offset = 0u64;
    for record in String::from_utf8_lossy(&text[..complete]).split_inclusive('\n') {
        offset += record.len() as u64;
        let record = record.trim_end_matches('\n');
        let mut parts = record.splitn(3, '\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("epoch"), Some(epoch), Some(high)) => {
                j.epoch = Some(epoch.to_string());
                j.high = high.parse().unwrap_or(0);
            }
            (Some("journal"), Some(id), None) => j.id = id.to_string(),
            (Some(seq), Some(line), None) => {
                let Ok(seq) = seq.parse::<u64>() else {
                    continue;
                };
                j.high = j.high.max(seq);
                if offset > j.fed_offset {
                    j.pending.push_back((seq, line.to_string(), offset));
                }
            }
            _ => {}
        }
    }
    j.replayed = j.pending.len() as u64;
    Ok(j)
}

/// A new holding of `shard` starts an empty journal (an earlier holding's lines are not
/// replayed into it).
fn reset_journal(node: &Node, shard: &str) {
    let (log, fed) = journal_paths(node, shard);
    let _ = std::fs::remove_file(log);
    let _ = std::fs::remove_file(fed);
    *node.journal.lock().expect("not poisoned") = Journal {
        holding: HOLDINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ..Journal::default()
    };
}

/// The running engine, owned by whoever holds the control lock.
struct Engine {
    pid: u32,
    /// Set by the supervisor when the process exits.
    exited: watch::Receiver<bool>,
    /// The exit was asked for (stop, restart): not a crash.
    stopping: Arc<std::sync::atomic::AtomicBool>,
}

struct Node {
    opts: Options,
    running_id: String,
    view: Mutex<View>,
    journal: Mutex<Journal>,
    feed: Notify,
    /// PUT, DELETE and crash restarts, one at a time.
    control: tokio::sync::Mutex<Option<Engine>>,
    crashes: Mutex<VecDeque<Instant>>,
    /// The pids of engines that exited on their own, for the supervisor.
    crash_tx: tokio::sync::mpsc::UnboundedSender<u32>,
    /// How far `nagios.log` was read for markers.
    follow: Mutex<confirm::Follow>,
}

/// A journal id no other journal of this directory had.
fn new_journal_id() -> String {
    format!(
        "{}.{}.{}",
        now_secs(),
        std::process::id(),
        HOLDINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn sync_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Node {
    fn dir(&self, rel: &str) -> PathBuf {
        self.opts.state.join(rel)
    }

    fn resource_file(&self) -> PathBuf {
        match &self.opts.resource_file {
            Some(p) => std::path::absolute(p).unwrap_or_else(|_| p.clone()),
            None => self.dir("engine/resource.cfg"),
        }
    }

    fn main(&self, objects: String) -> Main {
        Main {
            objects,
            resource_file: self.resource_file().display().to_string(),
            status_update_interval: self.opts.status_interval,
            check_workers: 2,
            extra: self.opts.engine_set.clone(),
        }
    }

    /// Reads the markers Nagios logged since the last look.
    fn confirm(&self) {
        let Some(shard) = self.held().map(|h| h.shard) else {
            return;
        };
        let id = self.journal.lock().expect("not poisoned").id.clone();
        if id.is_empty() {
            return;
        }
        // Held until the markers are in the journal, so that two readers never record
        // them out of order.
        let mut follow = self.follow.lock().expect("not poisoned");
        let new = confirm::follow(&self.dir("engine/nagios.log"), &mut follow, &shard, &id);
        let created = confirm::retention_created(&self.dir("engine/retention.dat"));
        let mut j = self.journal.lock().expect("not poisoned");
        if j.id != id {
            return;
        }
        if let Some(last) = new.last() {
            j.confirmed = last.seq;
        }
        j.markers.extend(new);
        // Of the markers before the last retention save, only the furthest one matters.
        let safe = confirm::safe_offset(&j.markers, created);
        j.safe = j.safe.max(safe);
        if let Some(c) = created {
            let mut kept = false;
            j.markers
                .retain(|m| m.at >= c || (m.offset == safe && !std::mem::replace(&mut kept, true)));
        }
    }

    /// The engine starts again from its last retention save (after a crash, a hang or a node
    /// restart): every line fed whose marker Nagios had not logged before that save goes to
    /// the engine again, ahead of the lines not fed yet.
    fn refeed(&self, why: &str) {
        let Some(shard) = self.held().map(|h| h.shard) else {
            return;
        };
        // Brings `safe` up to the markers logged before the last retention save.
        self.confirm();
        let (log, _) = journal_paths(self, &shard);
        let mut j = self.journal.lock().expect("not poisoned");
        // A batch the feeder was writing belongs to the engine that died.
        j.holding = HOLDINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let safe = j.safe;
        if safe >= j.fed_offset {
            return;
        }
        match confirm::read_lines(&log, safe, j.fed_offset) {
            Ok(lines) => {
                // Lines dropped before are dropped again as the feeder passes them, and are
                // not counted as fed again.
                let n = lines
                    .iter()
                    .filter(|(_, line, _)| !DROPPED.contains(&command_name(line)))
                    .count() as u64;
                for line in lines.into_iter().rev() {
                    j.pending.push_front(line);
                }
                j.fed_offset = safe;
                j.replayed += n;
                if n > 0 {
                    info!(shard = %shard, lines = n, reason = why, "lines the engine may not have taken before its last retention save are fed again");
                }
            }
            Err(e) => error!(shard = %shard, error = %e, "cannot read the journal back"),
        }
    }

    fn set_state(&self, state: EngineState, pid: Option<u32>) {
        let mut v = self.view.lock().expect("not poisoned");
        v.state = state;
        v.pid = pid;
    }

    fn fail(&self, why: String) {
        error!(error = %why, "engine failed");
        let mut v = self.view.lock().expect("not poisoned");
        v.state = EngineState::Failed;
        v.last_error = Some(why);
    }

    fn held(&self) -> Option<Held> {
        self.view.lock().expect("not poisoned").held.clone()
    }

    fn save_held(&self, held: Option<Held>) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&held).expect("serialisable");
        sync_write(&self.dir("node.json"), text.as_bytes())?;
        self.view.lock().expect("not poisoned").held = held;
        Ok(())
    }

    /// Renders generation `n` and validates it with `nagios4 -v` on its own copy of the
    /// runtime paths. `Err` holds Nagios' errors (422: the shard is refused), or what kept the
    /// node from checking it (500: the node's own trouble, such as no engine binary).
    async fn prepare(&self, n: u64, body: &str, shard: &SchedulerShard) -> Result<(), Answer> {
        let trouble = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
        let gen = self.dir(&format!("gens/{n}"));
        let verify = gen.join("verify");
        let written = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(verify.join("checkresults"))?;
            std::fs::write(gen.join("shard.ron"), body)?;
            let objects = nagios::objects(shard);
            std::fs::write(
                gen.join("objects.cfg"),
                monitorc_runtime::text::encode(&objects),
            )?;
            let main = nagios::main_config(&self.main("../objects.cfg".into()));
            std::fs::write(verify.join("verify.cfg"), main)
        })();
        written.map_err(|e| trouble(format!("cannot write generation {n}: {e}")))?;
        let run = tokio::process::Command::new(&self.opts.engine_bin)
            .arg("-v")
            .arg(verify.join("verify.cfg"))
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(Duration::from_secs(30), run).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                let bin = self.opts.engine_bin.display();
                return Err(trouble(format!("cannot run {bin}: {e}")));
            }
            Err(_) => return Err(trouble("the engine's check took over 30 s".into())),
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let errors: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("Error"))
            .collect();
        if out.status.success() && errors.is_empty() {
            return Ok(());
        }
        let mut why: Vec<&str> = errors;
        if why.is_empty() {
            why = text.lines().rev().take(10).collect();
            why.reverse();
        }
        Err((StatusCode::UNPROCESSABLE_ENTITY, why.join("\n")))
    }

    /// Points `current` at generation `n` (atomically) and keeps only `n` and `n - 1` (the
    /// one to roll back to).
    fn switch(&self, n: u64) -> std::io::Result<()> {
        let tmp = self.dir("current.tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(format!("gens/{n}"), &tmp)?;
        std::fs::rename(&tmp, self.dir("current"))?;
        if let Ok(entries) = std::fs::read_dir(self.dir("gens")) {
            for e in entries.flatten() {
                let keep = e
                    .file_name()
                    .to_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|g| g == n || g + 1 == n);
                if !keep {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        Ok(())
    }

    /// Writes the engine's main config (once: its path never changes, so a reload always
    /// reads it, and through it `current/`).
    fn engine_config(&self) -> std::io::Result<PathBuf> {
        let dir = self.dir("engine");
        std::fs::create_dir_all(dir.join("checkresults"))?;
        std::fs::create_dir_all(dir.join("archives"))?;
        if self.opts.resource_file.is_none() && !dir.join("resource.cfg").exists() {
            std::fs::write(dir.join("resource.cfg"), "")?;
        }
        let objects = self.dir("current/objects.cfg").display().to_string();
        let path = dir.join("nagios.cfg");
        std::fs::write(&path, nagios::main_config(&self.main(objects)))?;
        // A regular file where the FIFO goes (a shell redirect made it) stops the engine.
        let fifo = dir.join("nagios.cmd");
        if std::fs::symlink_metadata(&fifo).is_ok_and(|m| m.file_type().is_file()) {
            std::fs::remove_file(&fifo)?;
        }
        Ok(path)
    }

    /// Starts the engine on `current` and waits until it has loaded it.
    async fn start(self: &Arc<Self>, slot: &mut Option<Engine>) -> Result<(), String> {
        let config = self.engine_config().map_err(|e| e.to_string())?;
        let since = now_secs();
        let out =
            std::fs::File::create(self.dir("engine/engine.out")).map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(&self.opts.engine_bin);
        cmd.arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; it only asks for SIGTERM when the node dies.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        self.set_state(EngineState::Starting, None);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.opts.engine_bin.display()))?;
        let pid = child.id().unwrap_or(0);
        let (tx, rx) = watch::channel(false);
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (crashes, stop) = (self.crash_tx.clone(), stopping.clone());
        tokio::spawn(async move {
            let status = child.wait().await;
            let _ = tx.send(true);
            if !stop.load(std::sync::atomic::Ordering::SeqCst) {
                warn!(pid, status = ?status, "engine exited unexpectedly");
                let _ = crashes.send(pid);
            }
        });
        *slot = Some(Engine {
            pid,
            exited: rx,
            stopping,
        });
        info!(pid, "engine started");
        self.await_loaded(slot, since.saturating_sub(1)).await?;
        self.set_state(EngineState::Running, Some(pid));
        self.feed.notify_one();
        Ok(())
    }

    /// Waits until `status.dat` shows our engine with a `program_start` after `after`.
    async fn await_loaded(&self, slot: &mut Option<Engine>, after: u64) -> Result<(), String> {
        let Some(engine) = slot.as_mut() else {
            return Err("no engine".into());
        };
        let start = Instant::now();
        loop {
            if *engine.exited.borrow() {
                let out =
                    std::fs::read_to_string(self.dir("engine/engine.out")).unwrap_or_default();
                let tail: Vec<&str> = out.lines().rev().take(8).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                *slot = None;
                return Err(format!(
                    "the engine exited while loading: {}",
                    tail.join(" | ")
                ));
            }
            if let Some((pid, started)) = program_status(&self.dir("engine/status.dat")) {
                if pid == engine.pid && started > after {
                    return Ok(());
                }
            }
            if start.elapsed() > LOAD_BUDGET {
                return Err(format!(
                    "the engine did not load within {} s",
                    LOAD_BUDGET.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reloads the running engine (`SIGHUP`) and waits until it has loaded `current`.
    async fn reload(&self, slot: &mut Option<Engine>) -> Result<(), String> {
        let Some(engine) = slot.as_ref() else {
            return Err("no engine".into());
        };
        let pid = engine.pid;
        let before = program_status(&self.dir("engine/status.dat"))
            .filter(|(p, _)| *p == pid)
            .map_or(0, |(_, started)| started);
        self.set_state(EngineState::Reloading, Some(pid));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid as i32, libc::SIGHUP) };
        self.await_loaded(slot, before).await?;
        self.view.lock().expect("not poisoned").reloads += 1;
        self.set_state(EngineState::Running, Some(pid));
        self.feed.notify_one();
        Ok(())
    }

    /// Stops the engine (SIGTERM, then SIGKILL to its group after 10 s) and keeps its
    /// retention file in `archive/` under the shard's name.
    async fn stop(&self, slot: &mut Option<Engine>, shard: Option<&str>) {
        if let Some(mut engine) = slot.take() {
            engine
                .stopping
                .store(true, std::sync::atomic::Ordering::SeqCst);
            // SAFETY: signalling our own child and its group.
            unsafe { libc::kill(engine.pid as i32, libc::SIGTERM) };
            let exited = engine.exited.wait_for(|e| *e);
            if tokio::time::timeout(Duration::from_secs(10), exited)
                .await
                .is_err()
            {
                warn!(
                    pid = engine.pid,
                    "engine ignored SIGTERM: killing its group"
                );
                unsafe { libc::kill(-(engine.pid as i32), libc::SIGKILL) };
                let _ = engine.exited.wait_for(|e| *e).await;
            }
            info!(pid = engine.pid, "engine stopped");
        }
        let retention = self.dir("engine/retention.dat");
        if let (Some(shard), true) = (shard, retention.exists()) {
            let archive = self.dir("archive");
            let _ = std::fs::create_dir_all(&archive);
            let name = format!("{}.{}.dat", shard.replace('/', "_"), now_secs());
            if let Err(e) = std::fs::rename(&retention, archive.join(name)) {
                warn!(error = %e, "cannot archive the retention file");
            }
        }
        self.set_state(EngineState::Idle, None);
    }

    /// The engine exited on its own: restart it on the same generation, within the budget.
    async fn crashed(self: Arc<Self>, pid: u32) {
        let mut slot = self.control.lock().await;
        if slot.as_ref().map(|e| e.pid) != Some(pid) {
            return; // already replaced
        }
        *slot = None;
        let within = {
            let mut c = self.crashes.lock().expect("not poisoned");
            c.push_back(Instant::now());
            while c.front().is_some_and(|t| t.elapsed() > CRASH_WINDOW) {
                c.pop_front();
            }
            c.len() <= CRASH_BUDGET
        };
        if !within {
            self.fail(format!(
                "the engine crashed more than {CRASH_BUDGET} times in {} s",
                CRASH_WINDOW.as_secs()
            ));
            return;
        }
        self.view.lock().expect("not poisoned").restarts += 1;
        self.set_state(EngineState::Starting, None);
        self.refeed("the engine crashed");
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = self.start(&mut slot).await {
            self.fail(e);
        }
    }
}

/// `nagios_pid` and `program_start` of `status.dat` (read from its beginning only).
fn program_status(path: &Path) -> Option<(u32, u64)> {
    use std::io::Read as _;
    let mut head = vec![0u8; 16 * 1024];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head[..n]);
    let block = text.split("programstatus {").nth(1)?;
    let value = |key: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((value("nagios_pid")? as u32, value("program_start")?))
}

enum Parsed {
    Scheduler(Box<SchedulerShard>),
    Satellite(String),
}

fn parse(body: &str) -> Result<Parsed, String> {
    if let Ok(s) = ron::from_str::<SchedulerShard>(body) {
        check_version(s.format_version)?;
        return Ok(Parsed::Scheduler(Box::new(s)));
    }
    match ron::from_str::<SatelliteShard>(body) {
        Ok(s) => {
            check_version(s.format_version)?;
            Ok(Parsed::Satellite(format!("{}/{}", s.kind, s.name)))
        }
        Err(e) => Err(format!("not a shard: {e}")),
    }
}

fn check_version(v: u32) -> Result<(), String> {
    if v == monitorc_runtime::FORMAT_VERSION {
        Ok(())
    } else {
        Err(format!(
            "shard format version {v}; this node reads version {}",
            monitorc_runtime::FORMAT_VERSION
        ))
    }
}

type Answer = (StatusCode, String);

async fn put_shard(State(node): State<Arc<Node>>, body: String) -> Answer {
    let parsed = match parse(&body) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e + "\n"),
    };
    let digest = digest(body.as_bytes());
    let mut slot = node.control.lock().await;
    let held = node.held();
    let failed = node.view.lock().expect("not poisoned").state == EngineState::Failed;
    if held.as_ref().is_some_and(|h| h.digest == digest) && !failed {
        return (StatusCode::OK, "already held\n".into());
    }
    let old_shard = held.as_ref().map(|h| h.shard.clone());
    let shard_key = match &parsed {
        Parsed::Scheduler(s) => format!("scheduler/{}", s.name),
        Parsed::Satellite(k) => k.clone(),
    };
    let same_shard = old_shard.as_deref() == Some(shard_key.as_str());
    let Parsed::Scheduler(shard) = parsed else {
        // A satellite shard is only held: no engine runs for it.
        node.stop(&mut slot, old_shard.as_deref()).await;
        return commit(&node, shard_key, digest, 0, false, same_shard);
    };
    let n = held.as_ref().map_or(0, |h| h.generation) + 1;
    if let Err((code, why)) = node.prepare(n, &body, &shard).await {
        warn!(shard = %shard_key, generation = n, error = %why, "shard not taken");
        let _ = std::fs::remove_dir_all(node.dir(&format!("gens/{n}")));
        return (code, why + "\n");
    }
    if let Err(e) = node.switch(n) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot switch generations: {e}\n"),
        );
    }
    let outcome = if same_shard && slot.is_some() {
        node.reload(&mut slot).await
    } else {
        node.stop(&mut slot, old_shard.as_deref()).await;
        node.start(&mut slot).await
    };
    if let Err(why) = outcome {
        // Back to what ran before, if anything did.
        error!(shard = %shard_key, generation = n, error = %why, "the engine did not load the new generation");
        match held.as_ref().filter(|h| h.scheduler) {
            Some(h) => {
                let _ = node.switch(h.generation);
                node.stop(&mut slot, None).await;
                if let Err(e) = node.start(&mut slot).await {
                    node.fail(e);
                }
            }
            None => node.stop(&mut slot, None).await,
        }
        let _ = std::fs::remove_dir_all(node.dir(&format!("gens/{n}")));
        return (StatusCode::INTERNAL_SERVER_ERROR, why + "\n");
    }
    info!(shard = %shard_key, generation = n, "shard loaded");
    commit(&node, shard_key, digest, n, true, same_shard)
}

/// Records what is held; a new shard starts a new journal.
fn commit(
    node: &Node,
    shard: String,
    digest: String,
    generation: u64,
    scheduler: bool,
    same_shard: bool,
) -> Answer {
    if !same_shard {
        reset_journal(node, &shard);
    }
    let held = Held {
        shard,
        digest,
        generation,
        scheduler,
    };
    match node.save_held(Some(held)) {
        Ok(()) => (StatusCode::OK, "loaded\n".into()),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot record the shard: {e}\n"),
        ),
    }
}

async fn delete_shard(State(node): State<Arc<Node>>) -> Answer {
    let mut slot = node.control.lock().await;
    let held = node.held();
    node.stop(&mut slot, held.as_ref().map(|h| h.shard.as_str()))
        .await;
    match &held {
        Some(h) => reset_journal(&node, &h.shard),
        None => *node.journal.lock().expect("not poisoned") = Journal::default(),
    }
    node.view.lock().expect("not poisoned").last_error = None;
    match node.save_held(None) {
        Ok(()) => (StatusCode::OK, "dropped\n".into()),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot record the drop: {e}\n"),
        ),
    }
}

#[derive(Serialize)]
struct Taken {
    taken: usize,
    duplicates: usize,
}

async fn post_commands(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: String,
) -> Result<Json<Taken>, Answer> {
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let shard = header("x-monitorc-shard").unwrap_or_default();
    let first: u64 = header("x-monitorc-sequence")
        .and_then(|s| s.parse().ok())
        .ok_or((
            StatusCode::BAD_REQUEST,
            "x-monitorc-sequence is missing\n".into(),
        ))?;
    let (held, state) = {
        let v = node.view.lock().expect("not poisoned");
        (v.held.clone(), v.state)
    };
    if held.as_ref().map(|h| h.shard.as_str()) != Some(shard.as_str()) {
        return Err((
            StatusCode::CONFLICT,
            format!("this node does not hold {shard}\n"),
        ));
    }
    if matches!(state, EngineState::Idle | EngineState::Failed) {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "no engine runs\n".into()));
    }
    let epoch = header("x-monitorc-epoch");
    let mut j = node.journal.lock().expect("not poisoned");
    if j.pending.len() >= BACKLOG_LIMIT {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "too many lines waiting for the engine\n".into(),
        ));
    }
    let mut text = String::new();
    if j.id.is_empty() {
        j.id = new_journal_id();
        text.push_str(&format!("journal\t{}\n", j.id));
    }
    if epoch.is_some() && epoch != j.epoch {
        // A new arbiter run numbers from 1 again.
        j.epoch = epoch;
        j.high = first.saturating_sub(1);
        text.push_str(&format!(
            "epoch\t{}\t{}\n",
            j.epoch.as_deref().unwrap_or(""),
            j.high
        ));
    }
    let mut taken = Vec::new();
    let mut duplicates = 0;
    for (i, line) in body.lines().enumerate() {
        let seq = first + i as u64;
        if seq <= j.high || line.trim().is_empty() {
            duplicates += usize::from(seq <= j.high);
            continue;
        }
        taken.push((seq, line.to_string()));
    }
    if let Some(&(first_taken, _)) = taken.first() {
        if first_taken > j.high + 1 && j.high > 0 {
            warn!(shard = %shard, after = j.high, next = first_taken, "a gap in the arbiter's numbers");
        }
    }
    // Durable before the answer.
    let (journal, _) = journal_paths(&node, &shard);
    let mut ends = Vec::with_capacity(taken.len());
    let base = j.log_len + text.len() as u64;
    let mut at = 0;
    for (seq, line) in &taken {
        // A line is one record: a stray tab or line end cannot split it.
        let record = format!("{seq}\t{}\n", line.replace(['\t', '\r', '\n'], " "));
        at += record.len() as u64;
        ends.push(base + at);
        text.push_str(&record);
    }
    let written = (|| -> std::io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(journal.parent().expect("has a parent"))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal)?;
        f.write_all(text.as_bytes())?;
        f.sync_data()
    })();
    if let Err(e) = written {
        // Nothing of it counts: a partial record is cut off when the journal is read back.
        error!(shard = %shard, error = %e, "cannot journal command lines");
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot journal the lines: {e}\n"),
        ));
    }
    j.log_len += text.len() as u64;
    let n = taken.len();
    if let Some(&(last, _)) = taken.last() {
        j.high = last;
    }
    j.pending.extend(
        taken
            .into_iter()
            .zip(ends)
            .map(|((seq, line), end)| (seq, line, end)),
    );
    drop(j);
    node.feed.notify_one();
    Ok(Json(Taken {
        taken: n,
        duplicates,
    }))
}

/// Feeds taken lines to the engine's FIFO, in order: a timestamp added where missing,
/// dangerous commands dropped, never blocking (no reader: wait; full: retry). The FIFO stays
/// open between lines; lines go in batches, and a line the FIFO took in part is finished
/// before the next one (a line longer than the pipe's atomic size is never cut in two).
async fn feeder(node: Arc<Node>) {
    let fifo = node.dir("engine/nagios.cmd");
    let mut out: Option<Arc<std::fs::File>> = None;
    loop {
        let ready = {
            let state = node.view.lock().expect("not poisoned").state;
            state == EngineState::Running
        };
        // The next batch: the dropped commands at its front are taken out first.
        let mut batch = String::new();
        let mut last_end = None;
        let mut lines = 0u64;
        let mut holding = 0;
        let shard = node.held().map(|h| h.shard).unwrap_or_default();
        if ready {
            let mut j = node.journal.lock().expect("not poisoned");
            holding = j.holding;
            while let Some((_, line, end)) = j.pending.front().cloned() {
                let name = command_name(&line);
                if !DROPPED.contains(&name) {
                    break;
                }
                warn!(command = %name, "command dropped: the node does not let it stop the engine or read files");
                j.pending.pop_front();
                j.dropped += 1;
                j.fed_offset = end;
            }
            for (seq, line, end) in &j.pending {
                if DROPPED.contains(&command_name(line))
                    || (!batch.is_empty() && batch.len() + line.len() > FEED_BATCH)
                {
                    break;
                }
                if line.trim_start().starts_with('[') {
                    batch.push_str(line.trim_start());
                } else {
                    batch.push_str(&format!("[{}] {line}", now_secs()));
                }
                batch.push('\n');
                last_end = Some((*seq, *end));
                lines += 1;
            }
            if let Some((seq, end)) = last_end {
                batch.push_str(&format!(
                    "[{}] {};{shard};{};{end};{seq}\n",
                    now_secs(),
                    confirm::MARKER,
                    j.id
                ));
            }
        }
        if batch.is_empty() {
            save_fed(&node);
            let _ = tokio::time::timeout(Duration::from_millis(500), node.feed.notified()).await;
            continue;
        }
        let bytes = batch.into_bytes();
        let mut at = 0;
        let current = |node: &Node| node.journal.lock().expect("not poisoned").holding == holding;
        while at < bytes.len() {
            if !current(&node) {
                // The shard was dropped or replaced meanwhile: its lines are not fed to the
                // next engine. A line cut in two is ended, so that the next one is whole.
                if at > 0 {
                    if let Some(f) = &out {
                        let _ = (&**f).write(b"\n");
                    }
                }
                break;
            }
            let file = match &out {
                Some(f) => f.clone(),
                None => match std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&fifo)
                {
                    Ok(f) => {
                        let f = Arc::new(f);
                        out = Some(f.clone());
                        f
                    }
                    Err(_) => {
                        // No reader yet (ENXIO): try again shortly.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if at == 0 && !node_running(&node) {
                            break;
                        }
                        continue;
                    }
                },
            };
            let chunk = bytes[at..].to_vec();
            let written = tokio::task::spawn_blocking(move || (&*file).write(&chunk))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            match written {
                Ok(n) => at += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // Full: the engine reads it soon.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(_) => {
                    // The reader went away (EPIPE, an engine restart): open again.
                    out = None;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if at == 0 && !node_running(&node) {
                        break;
                    }
                }
            }
        }
        if at < bytes.len() {
            continue; // the engine stopped before the batch went in: it stays pending
        }
        let mut j = node.journal.lock().expect("not poisoned");
        if j.holding != holding {
            continue;
        }
        for _ in 0..lines {
            j.pending.pop_front();
        }
        j.fed += lines;
        if let Some((_, end)) = last_end {
            j.fed_offset = end;
        }
        drop(j);
        save_fed(&node);
    }
}

/// Kills a running engine that stopped writing its status file (hung, or stopped with
/// SIGSTOP): the supervisor then restarts it as after a crash, within the crash budget, and
/// the journal lines not yet fed go to the new process.
async fn watchdog(node: Arc<Node>) {
    let status = node.dir("engine/status.dat");
    let hang_after = node.opts.hang_after.max(Duration::from_secs(
        3 * u64::from(node.opts.status_interval),
    ));
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        node.confirm();
        let (state, pid) = {
            let v = node.view.lock().expect("not poisoned");
            (v.state, v.pid)
        };
        let (EngineState::Running, Some(pid)) = (state, pid) else {
            continue;
        };
        let age = std::fs::metadata(&status)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        let Some(age) = age.filter(|a| *a > hang_after) else {
            continue;
        };
        error!(
            pid,
            silent_for = age.as_secs(),
            "the engine has not written its status file: hung, killing it"
        );
        node.view.lock().expect("not poisoned").last_error = Some(format!(
            "the engine (pid {pid}) wrote no status for {} s and was killed",
            age.as_secs()
        ));
        // SAFETY: signalling our own child's process group; a stopped process dies too.
        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
        // Wait for the supervisor to take it over before looking again.
        tokio::time::sleep(hang_after.min(Duration::from_secs(10))).await;
    }
}

/// `ADD_HOST_COMMENT` of `[123] ADD_HOST_COMMENT;h;…`.
fn command_name(line: &str) -> &str {
    line.trim_start()
        .trim_start_matches(|c: char| c == '[' || c.is_ascii_digit() || c == ']')
        .trim_start()
        .split(';')
        .next()
        .unwrap_or("")
}

fn node_running(node: &Node) -> bool {
    node.view.lock().expect("not poisoned").state == EngineState::Running
}

/// Records how far the journal was fed (no fsync: after a machine crash a few lines may be
/// fed twice, never lost), and empties a long log once all of it was fed.
fn save_fed(node: &Node) {
    let Some(shard) = node.held().map(|h| h.shard) else {
        return;
    };
    let (log, fed) = journal_paths(node, &shard);
    let mut j = node.journal.lock().expect("not poisoned");
    if j.pending.is_empty() && j.log_len > COMPACT_AT && j.safe >= j.log_len {
        // Every line is in the engine's retention: only a new id and the run's numbering
        // are kept.
        let id = new_journal_id();
        let mut header = format!("journal\t{id}\n");
        if let Some(e) = &j.epoch {
            header.push_str(&format!("epoch\t{e}\t{}\n", j.high));
        }
        if sync_write(&log, header.as_bytes()).is_ok() {
            j.id = id;
            j.markers.clear();
            j.log_len = header.len() as u64;
            j.fed_offset = j.log_len;
            j.safe = j.log_len;
        }
    }
    let offsets = (j.fed_offset, j.safe);
    if j.saved_offset == Some(offsets) || !log.exists() {
        return;
    }
    let tmp = fed.with_extension("fed.tmp");
    if std::fs::write(&tmp, format!("{} {}\n", offsets.0, offsets.1)).is_ok()
        && std::fs::rename(&tmp, &fed).is_ok()
    {
        j.saved_offset = Some(offsets);
    }
}

#[derive(Serialize)]
struct Report {
    running_id: String,
    shard: Option<String>,
    digest: Option<String>,
    generation: Option<u64>,
    engine: EngineReport,
    commands: CommandReport,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct EngineReport {
    state: EngineState,
    pid: Option<u32>,
    reloads: u64,
    restarts: u64,
}

#[derive(Serialize)]
struct CommandReport {
    epoch: Option<String>,
    high: u64,
    fed: u64,
    dropped: u64,
    waiting: usize,
    /// Lines fed again: not fed when the node last stopped, or lost with a crashed engine.
    replayed: u64,
    /// The arbiter's number of the last line Nagios logged taking (its marker).
    confirmed: u64,
}

async fn ping(State(node): State<Arc<Node>>) -> (StatusCode, Json<Report>) {
    // What Nagios confirmed up to now, not up to the watchdog's last look.
    node.confirm();
    let (held, engine, last_error) = {
        let v = node.view.lock().expect("not poisoned");
        let e = EngineReport {
            state: v.state,
            pid: v.pid,
            reloads: v.reloads,
            restarts: v.restarts,
        };
        (v.held.clone(), e, v.last_error.clone())
    };
    let commands = {
        let j = node.journal.lock().expect("not poisoned");
        CommandReport {
            epoch: j.epoch.clone(),
            high: j.high,
            fed: j.fed,
            dropped: j.dropped,
            waiting: j.pending.len(),
            replayed: j.replayed,
            confirmed: j.confirmed,
        }
    };
    let code = if engine.state == EngineState::Failed {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let report = Report {
        running_id: node.running_id.clone(),
        shard: held.as_ref().map(|h| h.shard.clone()),
        digest: held.as_ref().map(|h| h.digest.clone()),
        generation: held.as_ref().filter(|h| h.scheduler).map(|h| h.generation),
        engine,
        commands,
        last_error,
    };
    (code, Json(report))
}

/// Takes the state directory's lock for the life of the process (one node per directory).
fn lock(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd as _;
    std::fs::create_dir_all(dir)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("node.lock"))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(std::io::Error::other(format!(
            "another node runs on {}",
            dir.display()
        )));
    }
    Ok(f)
}

/// Runs the node on `listener` until `shutdown` completes; the engine is stopped then.
pub async fn run(
    listener: TcpListener,
    opts: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _lock = lock(&opts.state)?;
    let held: Option<Held> = std::fs::read_to_string(opts.state.join("node.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .flatten();
    let running_id = format!("{}.{}", now_secs(), std::process::id());
    let (crash_tx, mut crash_rx) = tokio::sync::mpsc::unbounded_channel();
    if opts.resource_file.is_none() {
        warn!("no --resource-file: the engine's $USERn$ macros are empty");
    }
    let node = Arc::new(Node {
        opts,
        running_id,
        view: Mutex::new(View {
            held: held.clone(),
            state: EngineState::Idle,
            pid: None,
            reloads: 0,
            restarts: 0,
            last_error: None,
        }),
        journal: Mutex::new(Journal::default()),
        feed: Notify::new(),
        control: tokio::sync::Mutex::new(None),
        crashes: Mutex::new(VecDeque::new()),
        crash_tx,
        follow: Mutex::new(confirm::Follow::default()),
    });
    // Lines the last run took and had not fed are fed once the engine runs.
    if let Some(h) = &held {
        match restore_journal(&node, &h.shard) {
            Ok(j) => {
                if !j.pending.is_empty() {
                    info!(shard = %h.shard, lines = j.pending.len(), "journal lines not yet fed are fed again");
                }
                *node.journal.lock().expect("not poisoned") = j;
                if h.scheduler {
                    node.refeed("the node restarted");
                }
            }
            Err(e) => error!(shard = %h.shard, error = %e, "cannot read the journal"),
        }
    }
    let supervisor = {
        let node = node.clone();
        tokio::spawn(async move {
            while let Some(pid) = crash_rx.recv().await {
                node.clone().crashed(pid).await;
            }
        })
    };
    // What the last run held is run again, while pings are answered (a large shard takes
    // seconds to load; a push that came first wins).
    if let Some(h) = held.filter(|h| h.scheduler) {
        let node = node.clone();
        node.set_state(EngineState::Starting, None);
        tokio::spawn(async move {
            let mut slot = node.control.lock().await;
            if slot.is_none() && node.held().as_ref() == Some(&h) {
                info!(shard = %h.shard, generation = h.generation, "restoring the shard held");
                if let Err(e) = node.start(&mut slot).await {
                    node.fail(e);
                }
            }
        });
    }
    let feeding = tokio::spawn(feeder(node.clone()));
    let watching = tokio::spawn(watchdog(node.clone()));
    let app = Router::new()
        .route("/v1/ping", get(ping))
        .route("/v1/shard", put(put_shard).delete(delete_shard))
        .route("/v1/commands", post(post_commands))
        .layer(axum::extract::DefaultBodyLimit::max(512 << 20))
        .with_state(node.clone());
    info!(listen = %listener.local_addr()?, state = %node.opts.state.display(), "node started");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    feeding.abort();
    watching.abort();
    supervisor.abort();
    let mut slot = node.control.lock().await;
    // The retention file stays in place: the next run restores it.
    node.stop(&mut slot, None).await;
    info!("node stopped");
    Ok(())
}
