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
//! `GET /v1/ping` (200 when alive), `PUT /v1/shard` (body: the shard file, RON), `DELETE
//! /v1/shard`, `POST /v1/commands` (body: command lines; headers `x-monitorc-shard` and
//! `x-monitorc-sequence`, the number of the first line within the shard, so a daemon can
//! ignore lines it already has). The arbiter serves `POST /v1/commands`, `GET /v1/status`
//! and `GET /v1/ping`.

pub mod core;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::core::{Action, Change, Core, Effect, Endpoint, LineResult, Status};
use monitorc_runtime::shard::ShardSet;

/// The largest batch of command lines the arbiter takes in one request.
const COMMANDS_LIMIT: usize = 64 << 20;

/// How long a daemon may take to load a shard (Alignak's `long_timeout`).
const PUSH_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Give a shard back to its owner when the owner answers again (the spare drops it first).
    pub failback: bool,
}

struct Ctx {
    core: Mutex<Core>,
    queues: BTreeMap<String, mpsc::UnboundedSender<Effect>>,
}

impl Ctx {
    /// Runs one step of the state machine, logs its state changes and queues its requests.
    fn step(&self, f: impl FnOnce(&mut Core) -> Vec<Effect>) {
        let (effects, changes) = {
            let mut core = self
                .core
                .lock()
                .expect("the core never panics while locked");
            let effects = f(&mut core);
            (effects, core.take_changes())
        };
        log(&changes);
        self.send(effects);
    }

    fn send(&self, effects: Vec<Effect>) {
        for e in effects {
            if let Some(q) = self.queues.get(&e.daemon) {
                // A closed queue means the arbiter is stopping.
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

/// Sends one request; true when the daemon answered 2xx.
async fn perform(client: &reqwest::Client, e: &Endpoint, action: &Action) -> bool {
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
    match request.send().await {
        Ok(r) if r.status().is_success() => {
            debug!(daemon = %e.key, url = %url, "request done");
            true
        }
        Ok(r) => {
            warn!(daemon = %e.key, url = %url, status = r.status().as_u16(), "request refused");
            false
        }
        Err(err) => {
            warn!(daemon = %e.key, url = %url, error = %err, "request failed");
            false
        }
    }
}

async fn ping(client: &reqwest::Client, e: &Endpoint) -> bool {
    let url = format!("{}/v1/ping", base_url(e));
    matches!(
        client.get(&url).timeout(timeout(e)).send().await,
        Ok(r) if r.status() == reqwest::StatusCode::OK
    )
}

/// Runs the arbiter over `set` on `listener` until `shutdown` completes.
pub async fn run(
    set: ShardSet,
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let core = Core::new(set, options.failback);
    let endpoints = core.endpoints();
    let (shards, daemons) = core.size();
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        // Daemons are reached directly, whatever HTTP_PROXY says.
        .no_proxy()
        .build()
        .map_err(std::io::Error::other)?;
    let mut receivers = Vec::new();
    let mut queues = BTreeMap::new();
    for e in &endpoints {
        let (tx, rx) = mpsc::unbounded_channel();
        queues.insert(e.key.clone(), tx);
        receivers.push((e.clone(), rx));
    }
    let ctx = Arc::new(Ctx {
        core: Mutex::new(core),
        queues,
    });
    let mut tasks = JoinSet::new();
    for (e, mut rx) in receivers {
        // The daemon's request queue: one request at a time, in order.
        let (ctx2, client2, e2) = (ctx.clone(), client.clone(), e.clone());
        tasks.spawn(async move {
            while let Some(effect) = rx.recv().await {
                let ok = perform(&client2, &e2, &effect.action).await;
                ctx2.step(|core| core.on_done(effect.op, ok));
            }
        });
        // The daemon's ping loop.
        let (ctx2, client2) = (ctx.clone(), client.clone());
        tasks.spawn(async move {
            let every = Duration::from_secs(u64::from(e.liveness.check_interval.max(1)));
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let ok = ping(&client2, &e).await;
                ctx2.step(|core| core.on_ping(&e.key, ok));
            }
        });
    }
    let local = listener.local_addr()?;
    info!(listen = %local, shards, daemons, "arbiter started");
    ctx.step(Core::start);

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
    shutdown.await;
    info!("stopping");
    let _ = stop_tx.send(());
    tasks.abort_all();
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

async fn status(State(ctx): State<Arc<Ctx>>) -> Json<Status> {
    Json(ctx.core.lock().expect("not poisoned").status())
}

async fn commands(State(ctx): State<Arc<Ctx>>, body: String) -> Json<Vec<LineResult>> {
    let mut results = Vec::new();
    ctx.step(|core| {
        let (r, effects) = core.submit(&body);
        results = r;
        effects
    });
    Json(results)
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
