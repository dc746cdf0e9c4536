//! Shard sets as `route`, `failover` and `diff` open them: arbitrary bytes as the manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.ron"), data).unwrap();
    let _ = monitorc_runtime::shard::ShardSet::open(dir.path());
    let _ = monitorc_runtime::shard::read_host_index(dir.path());
});
