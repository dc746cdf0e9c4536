//! `cargo bench -p monitorc-bench --bench node`: `monitorc node` on a real Nagios 4 (skipped
//! without `/usr/sbin/nagios4`). Everything runs on 127.0.0.1 and every check is `/bin/true`.
//!
//! - `reload_10k_services`: a changed shard of 1,000 hosts × 10 services pushed to a node
//!   that runs the other one, until the node answers: rendered, checked with `nagios4 -v`,
//!   `SIGHUP`, and `status.dat` shows the engine loaded it. Checks launch again right after.
//! - `commands_through_node`: 10,000 passive check results posted to the arbiter in one
//!   request, until the node confirms that Nagios took the last one (its marker is in
//!   `nagios.log`): routed, forwarded, journalled (fsync), fed to the FIFO, processed.
//! - `failover`: the node of scheduler `a` stops (it stops answering, its engine stops); the
//!   time until the spare's engine runs `a`'s hosts, and until the first check result of one
//!   of them is in the spare's `status.dat`. The daemons are pinged every second and dead after
//!   two failed pings (the example's defaults, 60 s × 3, add up to three minutes of detection);
//!   the engine's first checks follow its default schedule (spread over at most five minutes).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;

const NAGIOS: &str = "/usr/sbin/nagios4";

/// A shard set built from `tree` in `dir/set`.
fn build(dir: &Path, tree: &str) -> PathBuf {
    let src = dir.join("main.cfg");
    std::fs::write(&src, tree).unwrap();
    let checked = monitorc_compiler::check(&src).expect("check the tree");
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity() == monitorc_grammar::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let set = dir.join("set");
    for (rel, text) in monitorc_compiler::shards::emit(&checked, false) {
        let p = set.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    set
}

fn node_options(state: PathBuf, resource: &Path) -> monitorc_node::Options {
    let mut engine_set = vec![("check_workers".to_string(), "1".to_string())];
    // As root, Nagios would drop to the `nagios` user, who cannot enter a private directory.
    if unsafe { libc::geteuid() } == 0 {
        engine_set.push(("nagios_user".into(), "root".into()));
        engine_set.push(("nagios_group".into(), "root".into()));
    }
    monitorc_node::Options {
        state,
        engine_bin: NAGIOS.into(),
        resource_file: Some(resource.to_path_buf()),
        engine_set,
        status_interval: 1,
        hang_after: Duration::from_secs(120),
    }
}

/// A node serving on `listener` until `stop` fires.
fn spawn_node(
    rt: &Runtime,
    listener: std::net::TcpListener,
    opts: monitorc_node::Options,
) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        monitorc_node::run(listener, opts, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    tx
}

fn spawn_arbiter(rt: &Runtime, set: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let set = monitorc_runtime::shard::ShardSet::open(set).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        monitorc_arbiter::run(set, listener, monitorc_arbiter::Options::default(), async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (url, tx)
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

fn ping(url: &str) -> serde_json::Value {
    client()
        .get(format!("{url}/v1/ping"))
        .send()
        .and_then(|r| r.json())
        .unwrap_or_default()
}

fn until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Place {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    resource: PathBuf,
}

fn place() -> Place {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let resource = dir.join("resource.cfg");
    std::fs::write(&resource, "$USER1$=/bin\n").unwrap();
    Place {
        _tmp: tmp,
        dir,
        resource,
    }
}

fn listener() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// 1,000 hosts × 10 services on one node: pushes alternate between two shards that differ
/// in one value.
fn reload(c: &mut Criterion, rt: &Runtime) {
    let p = place();
    let (l, port) = listener();
    let set = build(
        &p.dir,
        &monitorc_bench::loopback_tree(
            &monitorc_bench::loopback_scheduler("a", port, false),
            1000,
            10,
            60,
        ),
    );
    let shard = std::fs::read_to_string(set.join("schedulers/a.ron")).unwrap();
    let changed = shard.replacen(
        "\"max_check_attempts\": \"1\"",
        "\"max_check_attempts\": \"2\"",
        1,
    );
    assert_ne!(shard, changed);
    let _stop = spawn_node(rt, l, node_options(p.dir.join("node"), &p.resource));
    let url = format!("http://127.0.0.1:{port}");
    let put = |body: &str| {
        let r = client()
            .put(format!("{url}/v1/shard"))
            .body(body.to_string())
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
    };
    until("the node listens", 30, || {
        ping(&url)["running_id"].is_string()
    });
    put(&shard);
    let mut g = c.benchmark_group("node");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(30));
    let mut flip = false;
    g.bench_function("reload_10k_services", |b| {
        b.iter(|| {
            flip = !flip;
            put(if flip { &changed } else { &shard });
        })
    });
    g.finish();
}

/// The arbiter and one node of 1,000 hosts × 10 services: 10,000 passive results per
/// request.
fn commands(c: &mut Criterion, rt: &Runtime) {
    let p = place();
    let (l, port) = listener();
    let set = build(
        &p.dir,
        &monitorc_bench::loopback_tree(
            &monitorc_bench::loopback_scheduler("a", port, false),
            1000,
            10,
            60,
        ),
    );
    let _stop = spawn_node(rt, l, node_options(p.dir.join("node"), &p.resource));
    let node = format!("http://127.0.0.1:{port}");
    let (arbiter, _stop_arbiter) = spawn_arbiter(rt, &set);
    until("the node runs the shard", 120, || {
        ping(&node)["engine"]["state"] == "running"
    });
    let body: String = (0..10_000)
        .map(|i| {
            format!(
                "PROCESS_SERVICE_CHECK_RESULT;h{};s{};0;OK - passive {i}|t=0.1s\n",
                i % 1000,
                i / 1000
            )
        })
        .collect();
    let mut g = c.benchmark_group("node");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(10_000));
    g.bench_function("commands_through_node", |b| {
        b.iter(|| {
            let before = ping(&node)["commands"]["high"].as_u64().unwrap_or(0);
            let r = client()
                .post(format!("{arbiter}/v1/commands"))
                .body(body.clone())
                .send()
                .unwrap();
            assert!(r.status().is_success());
            until("Nagios took the last line", 120, || {
                ping(&node)["commands"]["confirmed"].as_u64() == Some(before + 10_000)
            });
        })
    });
    g.finish();
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `last_check` values of `hosts`' hosts and services in a `status.dat`.
fn last_checks(status: &str, hosts: &[String]) -> Vec<u64> {
    status
        .split("status {")
        .skip(1)
        .filter(|b| {
            b.lines()
                .find_map(|l| l.trim().strip_prefix("host_name="))
                .is_some_and(|h| hosts.iter().any(|x| x == h))
        })
        .filter_map(|b| {
            b.lines()
                .find_map(|l| l.trim().strip_prefix("last_check="))
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

/// Schedulers `a` and `b` and spare `sp`, 30 hosts × 5 services; `a`'s node is stopped.
/// Returns the time until the spare's engine runs `a`'s hosts and until its first check
/// result of one of them.
fn failover_once(rt: &Runtime) -> (Duration, Duration) {
    let p = place();
    let ls: Vec<(std::net::TcpListener, u16)> = (0..3).map(|_| listener()).collect();
    let daemons = monitorc_bench::loopback_scheduler("a", ls[0].1, false)
        + &monitorc_bench::loopback_scheduler("b", ls[1].1, false)
        + &monitorc_bench::loopback_scheduler("sp", ls[2].1, true);
    let set = build(&p.dir, &monitorc_bench::loopback_tree(&daemons, 30, 5, 5));
    let manifest = monitorc_runtime::shard::ShardSet::open(&set)
        .unwrap()
        .manifest;
    let a_hosts: Vec<String> = (manifest.hosts.iter())
        .filter(|(_, s)| s.as_str() == "a")
        .map(|(h, _)| h.clone())
        .collect();
    let mut stops = Vec::new();
    let mut urls = Vec::new();
    for (i, (l, port)) in ls.into_iter().enumerate() {
        let opts = node_options(p.dir.join(format!("node{i}")), &p.resource);
        stops.push(Some(spawn_node(rt, l, opts)));
        urls.push(format!("http://127.0.0.1:{port}"));
    }
    let (_arbiter, _stop_arbiter) = spawn_arbiter(rt, &set);
    until("a and b run their shards", 60, || {
        urls[..2]
            .iter()
            .all(|u| ping(u)["engine"]["state"] == "running")
    });
    let spare_status = p.dir.join("node2/engine/status.dat");
    let killed = Instant::now();
    let killed_at = unix_now();
    let _ = stops[0].take().unwrap().send(());
    until("the spare runs a's shard", 60, || {
        ping(&urls[2])["shard"] == "scheduler/a" && ping(&urls[2])["engine"]["state"] == "running"
    });
    let runs = killed.elapsed();
    until(
        "a first check result of a's hosts on the spare",
        400,
        || {
            let status = std::fs::read_to_string(&spare_status).unwrap_or_default();
            last_checks(&status, &a_hosts)
                .iter()
                .any(|&t| t >= killed_at)
        },
    );
    let first = killed.elapsed();
    for s in stops.into_iter().flatten() {
        let _ = s.send(());
    }
    // Let the nodes stop their engines before the directory goes.
    std::thread::sleep(Duration::from_secs(2));
    (runs, first)
}

fn failover(c: &mut Criterion, rt: &Runtime) {
    let mut g = c.benchmark_group("node_failover");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(60));
    g.bench_function("spare_runs_the_dead_shard", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| failover_once(rt).0).sum())
    });
    g.bench_function("first_check_result_on_the_spare", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| failover_once(rt).1).sum())
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    if !Path::new(NAGIOS).exists() {
        eprintln!("SKIPPED: the node benchmarks need nagios4 (`apt-get install nagios4-core`)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    reload(c, &rt);
    commands(c, &rt);
    failover(c, &rt);
}

criterion_group!(benches, bench);
criterion_main!(benches);
