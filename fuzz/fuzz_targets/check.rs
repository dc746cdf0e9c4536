//! The whole `check` pipeline (load, lower, resolve, expand, place) on one object file, as
//! each engine: the first byte chooses Nagios, Shinken or Alignak. No panic, and every
//! diagnostic about the file points into it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use monitorc_compiler::{check_timed, Engine, EngineChoice, Options};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let engine = [Engine::Nagios, Engine::Shinken, Engine::Alignak][usize::from(first % 3)];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("objects.cfg");
    std::fs::write(&path, rest).unwrap();
    let options = Options {
        engine: EngineChoice::Given(engine),
        ..Options::default()
    };
    let Ok((checked, _)) = check_timed(&path, &options) else {
        return;
    };
    for d in &checked.diagnostics {
        if let Some(s) = d.primary {
            let file = checked.loaded.sources.get(s.file);
            assert!(s.range().end <= file.text.len(), "{d:?}");
        }
    }
});
