//! `cargo bench -p monitorc-bench --bench route`: loading and verifying the shard set of the
//! generated 100k-host `--shinken` tree, and routing external commands over it in-process.

use std::time::Duration;

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use monitorc_runtime::commands::{parse, route};
use monitorc_runtime::shard::ShardSet;

fn bench(c: &mut Criterion) {
    let dir = common::shard_set();
    let mut g = c.benchmark_group("100000_hosts_shards");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("open", |b| {
        b.iter_with_large_drop(|| ShardSet::open(&dir).expect("open"))
    });
    let set = ShardSet::open(&dir).unwrap();
    // 10,000 lines: host and service results, a group command, a global one.
    let hosts: Vec<&String> = set.manifest.hosts.keys().step_by(10).collect();
    let mut lines = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let sched = &set.manifest.hosts[*h];
        let svc = set.schedulers[sched]
            .services
            .get(*h)
            .and_then(|m| m.keys().next().cloned());
        lines.push(match (i % 4, svc) {
            (0, _) => {
                format!("[1700000000] PROCESS_HOST_CHECK_RESULT;{h};0;UP - rta 0.2ms|rta=0.2ms;1;2")
            }
            (1, Some(s)) => {
                format!("[1700000000] PROCESS_SERVICE_CHECK_RESULT;{h};{s};0;OK|a=1;2;3")
            }
            (2, _) => format!("SCHEDULE_FORCED_HOST_CHECK;{h};1700000000"),
            _ => "DISABLE_NOTIFICATIONS".to_string(),
        });
    }
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("route", |b| {
        b.iter(|| {
            let mut routed = 0usize;
            for l in &lines {
                let cmd = parse(l).expect("valid line");
                routed += route(&set, &cmd).is_ok() as usize;
            }
            routed
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
