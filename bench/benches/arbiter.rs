//! `cargo bench -p monitorc-bench --bench arbiter`: the live arbiter's forwarding throughput on
//! loopback. The shard set of the generated 100k-host `--shinken` tree is served by fake daemons
//! on 127.0.0.1 (every daemon of the set moved there); a client posts external command lines
//! to the arbiter, and a measurement ends when the fake schedulers have received every line:
//! parse, route, queue, forward over HTTP, delivered.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use monitorc_runtime::shard::ShardSet;

/// A fake daemon that accepts everything and counts the command lines it gets.
async fn fake(received: Arc<AtomicU64>) -> u16 {
    let app = Router::new()
        .route("/v1/ping", get(|| async { "pong" }))
        .route(
            "/v1/shard",
            axum::routing::put(|_: axum::body::Bytes| async { "ok" }).delete(|| async { "ok" }),
        )
        .route(
            "/v1/commands",
            post(move |body: String| async move {
                received.fetch_add(body.lines().count() as u64, Ordering::Relaxed);
                "ok"
            }),
        )
        // Scheduler shards of this set are ~15 MB.
        .layer(axum::extract::DefaultBodyLimit::disable());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

fn bench(c: &mut Criterion) {
    let mut set = ShardSet::open(&common::shard_set()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let url = rt.block_on(async {
        for s in set.manifest.schedulers.values_mut() {
            s.address = "127.0.0.1".into();
            s.port = fake(received.clone()).await;
        }
        for s in set.manifest.satellites.values_mut() {
            s.address = "127.0.0.1".into();
            s.port = fake(received.clone()).await;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hosts: Vec<(String, String)> = set
            .manifest
            .hosts
            .iter()
            .step_by(10)
            .map(|(h, s)| (h.clone(), s.clone()))
            .collect();
        tokio::spawn(monitorc_arbiter::run(
            set,
            listener,
            monitorc_arbiter::Options::default(),
            std::future::pending(),
        ));
        (url, hosts)
    });
    let (url, hosts) = url;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    // Wait for every shard to be loaded.
    rt.block_on(async {
        let start = Instant::now();
        loop {
            let s = client.get(format!("{url}/v1/status")).send().await.unwrap();
            let text = s.text().await.unwrap();
            if !text.contains("\"loaded\":false") {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "shards not loaded"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // 10,000 host-routed lines (check results with perfdata, acknowledgements).
    let lines: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            if i % 2 == 0 {
                format!("[1700000000] PROCESS_HOST_CHECK_RESULT;{h};0;UP - rta 0.2ms|rta=0.2ms;1;2")
            } else {
                format!("[1700000000] ACKNOWLEDGE_HOST_PROBLEM;{h};1;1;0;admin;on it")
            }
        })
        .collect();
    let mut g = c.benchmark_group("100000_hosts_arbiter");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(lines.len() as u64));
    for per_request in [10_000usize, 100] {
        let bodies: Vec<String> = lines
            .chunks(per_request)
            .map(|c| c.join("\n") + "\n")
            .collect();
        g.bench_function(format!("forward_{per_request}_lines_per_request"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let target = received.load(Ordering::Relaxed) + lines.len() as u64;
                        for body in &bodies {
                            let r = client
                                .post(format!("{url}/v1/commands"))
                                .body(body.clone())
                                .send()
                                .await
                                .unwrap();
                            assert!(r.status().is_success());
                        }
                        while received.load(Ordering::Relaxed) < target {
                            tokio::time::sleep(Duration::from_micros(200)).await;
                        }
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
