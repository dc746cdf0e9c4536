//! What the runtime benches share: the shard set of the generated 100k-host `--shinken` tree.

use std::path::PathBuf;

/// The shard set of the 100k-host `--shinken` tree, built once.
pub fn shard_set() -> PathBuf {
    let base = monitorc_bench::target_dir().join("bench-data");
    let set = base.join("100000-shinken-set");
    // A set cached by an older monitorc (another format) is rebuilt.
    if monitorc_runtime::shard::ShardSet::open(&set).is_ok() {
        return set;
    }
    let _ = std::fs::remove_dir_all(&set);
    let tree = base.join("100000-shinken");
    if !tree.join("monitorc.cfg").exists() {
        let _ = std::fs::remove_dir_all(&tree);
        monitorc_bench::generate_with(&tree, 100_000, true).expect("generate the tree");
    }
    let checked = monitorc_compiler::check(&tree.join("monitorc.cfg")).expect("check the tree");
    assert!(
        checked.diagnostics.is_empty(),
        "the generated tree must check clean"
    );
    let files = monitorc_compiler::shards::emit(&checked, false);
    let tmp = base.join("100000-shinken-set.tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    for (rel, text) in &files {
        let p = tmp.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::rename(&tmp, &set).unwrap();
    set
}
