//! `cargo bench -p monitorc-bench`: load (read + parse, in parallel), lower, and the whole
//! `check` (load, lower, resolve, expand, validate, place), on generated trees of 1,000,
//! 10,000, 50,000 and 100,000 hosts (about 0.6, 5.5, 27 and 55 MB); then `check` on the
//! Shinken cartesian case of 10,000 hosts, a hostgroup of 3,000 hosts with a service
//! dependency on itself: the whole product (nine million pairs, kept as one rule) against
//! `explode_hostgroup 1` (3,000 same-host pairs).
//!
//! The trees are generated once into `target/bench-data/<name>/` and reused while their
//! marker file matches the generator version. Throughput is in bytes of configuration text.
//! Dropping the results is not timed (`iter_with_large_drop`). The allocator is mimalloc,
//! as in the `monitorc` binary.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use monitorc_bench::{generate_tree, GenStats, Tree, GENERATOR_VERSION};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: &[usize] = &[1_000, 10_000, 50_000, 100_000];
/// Hosts of the cartesian trees.
const CARTESIAN_SIZE: usize = 10_000;
const MARKER: &str = ".monitorc-bench";

fn marker_text(s: &GenStats) -> String {
    format!(
        "version={GENERATOR_VERSION} hosts={} files={} bytes={} service_definitions={} services={} \
         dependency_definitions={} host_dependencies={} service_dependencies={} \
         escalation_definitions={} host_escalations={} service_escalations={}\n",
        s.hosts,
        s.files,
        s.bytes,
        s.service_definitions,
        s.services,
        s.dependency_definitions,
        s.host_dependencies,
        s.service_dependencies,
        s.escalation_definitions,
        s.host_escalations,
        s.service_escalations
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
            "dependency_definitions" => s.dependency_definitions = v as usize,
            "host_dependencies" => s.host_dependencies = v as usize,
            "service_dependencies" => s.service_dependencies = v as usize,
            "escalation_definitions" => s.escalation_definitions = v as usize,
            "host_escalations" => s.host_escalations = v as usize,
            "service_escalations" => s.service_escalations = v as usize,
            _ => return None,
        }
    }
    (version == Some(GENERATOR_VERSION as u64)).then_some(s)
}

/// The tree `kind` of `hosts` hosts in `target/bench-data/<name>/`, generated unless a
/// complete one of this generator version is already there.
fn tree(name: &str, hosts: usize, kind: Tree) -> (PathBuf, GenStats) {
    let dir = monitorc_bench::target_dir().join("bench-data").join(name);
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
    let stats = generate_tree(&dir, hosts, kind).expect("generate the benchmark tree");
    std::fs::write(dir.join(MARKER), marker_text(&stats)).expect("write the marker file");
    eprintln!(
        "generated {}: {stats} in {:.2?}",
        dir.display(),
        start.elapsed()
    );
    (dir, stats)
}

/// Checks the tree once: it must report exactly the `expected` diagnostic codes, or the
/// benchmark measures error reporting.
fn assert_checks(dir: &std::path::Path, stats: &GenStats, expected: &[&str]) {
    let main = dir.join("monitorc.cfg");
    let checked = monitorc_compiler::check(&main).expect("load the benchmark tree");
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.code).collect();
    assert_eq!(
        codes,
        expected,
        "{}: {} diagnostics, first: {}",
        main.display(),
        checked.diagnostics.len(),
        checked
            .diagnostics
            .first()
            .map_or("", |d| d.message.as_str())
    );
    assert_eq!(checked.loaded.sources.len(), stats.files);
}

fn bench(c: &mut Criterion) {
    for &hosts in SIZES {
        let (dir, stats) = tree(&hosts.to_string(), hosts, Tree::Nagios);
        let main = dir.join("monitorc.cfg");
        assert_checks(&dir, &stats, &[]);

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
            b.iter_with_large_drop(|| {
                monitorc_compiler::lower::lower(&loaded, &monitorc_compiler::engine::NAGIOS)
            })
        });
        drop(loaded);
        g.bench_function("check", |b| {
            b.iter_with_large_drop(|| monitorc_compiler::check(&main).expect("check"))
        });
        g.finish();
    }
}

/// The Shinken cartesian case: `check` with the whole product (which gets its one warning)
/// against `explode_hostgroup 1`. The product is kept as one rule, so it should cost little
/// more than the same-host pairs.
fn cartesian(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("cartesian_{CARTESIAN_SIZE}_hosts"));
    // ~0.6 s per iteration: 10 single-iteration samples per variant.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for (name, explode, expected) in [
        ("explode", true, &[][..]),
        ("product", false, &["W0013"][..]),
    ] {
        let (dir, stats) = tree(
            &format!("{CARTESIAN_SIZE}-cartesian-{name}"),
            CARTESIAN_SIZE,
            Tree::ShinkenCartesian { explode },
        );
        assert_checks(&dir, &stats, expected);
        let main = dir.join("monitorc.cfg");
        g.throughput(Throughput::Bytes(stats.bytes));
        g.bench_function(name, |b| {
            b.iter_with_large_drop(|| monitorc_compiler::check(&main).expect("check"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, cartesian);
criterion_main!(benches);
