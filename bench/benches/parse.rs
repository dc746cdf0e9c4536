//! `cargo bench -p monitorc-bench`: load (read + parse, in parallel), lower, and the whole
//! `check` (load, lower, resolve, expand, validate, place), on generated trees of 1,000,
//! 10,000, 50,000 and 100,000 hosts (about 0.5, 5, 27 and 53 MB).
//!
//! The trees are generated once into `target/bench-data/<hosts>/` and reused while their
//! marker file matches the generator version. Throughput is in bytes of configuration text.
//! Dropping the results is not timed (`iter_with_large_drop`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use monitorc_bench::{generate, GenStats, GENERATOR_VERSION};

const SIZES: &[usize] = &[1_000, 10_000, 50_000, 100_000];
const MARKER: &str = ".monitorc-bench";

fn marker_text(s: &GenStats) -> String {
    format!(
        "version={GENERATOR_VERSION} hosts={} files={} bytes={} service_definitions={} services={}\n",
        s.hosts, s.files, s.bytes, s.service_definitions, s.services
    )
}

fn parse_marker(text: &str) -> Option<GenStats> {
    let mut s = GenStats::default();
    let mut version = None;
    for field in text.split_whitespace() {
        let (k, v) = field.split_once('=')?;
        let v: u64 = v.parse().ok()?;
        match k {
            "version" => version = Some(v),
            "hosts" => s.hosts = v as usize,
            "files" => s.files = v as usize,
            "bytes" => s.bytes = v,
            "service_definitions" => s.service_definitions = v as usize,
            "services" => s.services = v as usize,
            _ => return None,
        }
    }
    (version == Some(GENERATOR_VERSION as u64)).then_some(s)
}

/// The tree of `hosts` hosts, generated unless a complete one of this generator version is
/// already there.
fn tree(hosts: usize) -> (PathBuf, GenStats) {
    let dir = monitorc_bench::target_dir()
        .join("bench-data")
        .join(hosts.to_string());
    if let Some(stats) = std::fs::read_to_string(dir.join(MARKER))
        .ok()
        .and_then(|t| parse_marker(&t))
        .filter(|s| s.hosts == hosts)
    {
        eprintln!("reusing {}: {stats}", dir.display());
        return (dir, stats);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the stale benchmark tree");
    }
    let start = Instant::now();
    let stats = generate(&dir, hosts).expect("generate the benchmark tree");
    std::fs::write(dir.join(MARKER), marker_text(&stats)).expect("write the marker file");
    eprintln!(
        "generated {}: {stats} in {:.2?}",
        dir.display(),
        start.elapsed()
    );
    (dir, stats)
}

fn bench(c: &mut Criterion) {
    for &hosts in SIZES {
        let (dir, stats) = tree(hosts);
        let main = dir.join("monitorc.cfg");

        // The tree must be clean, or the benchmark measures error reporting.
        let checked = monitorc_compiler::check(&main).expect("load the benchmark tree");
        assert!(
            checked.diagnostics.is_empty(),
            "{}: {} diagnostics, first: {}",
            main.display(),
            checked.diagnostics.len(),
            checked.diagnostics[0].message
        );
        assert_eq!(checked.loaded.sources.len(), stats.files);
        drop(checked);

        let mut g = c.benchmark_group(format!("{hosts}_hosts"));
        g.throughput(Throughput::Bytes(stats.bytes));
        match hosts {
            h if h >= 100_000 => {
                // ~1 s per iteration: 10 single-iteration samples per function.
                g.sampling_mode(SamplingMode::Flat)
                    .sample_size(10)
                    .warm_up_time(Duration::from_secs(2))
                    .measurement_time(Duration::from_secs(10));
            }
            h if h >= 10_000 => {
                g.sampling_mode(SamplingMode::Flat)
                    .sample_size(20)
                    .warm_up_time(Duration::from_secs(2))
                    .measurement_time(Duration::from_secs(8));
            }
            _ => {
                g.sample_size(30)
                    .warm_up_time(Duration::from_secs(1))
                    .measurement_time(Duration::from_secs(5));
            }
        }

        g.bench_function("load", |b| {
            b.iter_with_large_drop(|| monitorc_grammar::load(&main).expect("load"))
        });
        let loaded = monitorc_grammar::load(&main).expect("load");
        g.bench_function("lower", |b| {
            b.iter_with_large_drop(|| monitorc_compiler::lower::lower(&loaded, &monitorc_compiler::engine::NAGIOS))
        });
        drop(loaded);
        g.bench_function("check", |b| {
            b.iter_with_large_drop(|| monitorc_compiler::check(&main).expect("check"))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
