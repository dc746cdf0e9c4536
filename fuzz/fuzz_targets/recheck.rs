//! The cached check (what the language server runs on every edit) against a fresh one: an
//! object file is checked as written (version A, on disk), then as edited (version B, an
//! editor's buffer), with the cache of the first check; the second must give exactly what a
//! fresh check of B gives. The first byte chooses the engine; the rest is A and B separated by
//! the first 0x1E byte (without one, B is A's first half). A second file of templates and
//! hosts is in the tree, so that edits meet objects they did not touch.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use monitorc_compiler::grammar::Overlay;
use monitorc_compiler::{check_cached, check_timed, Cache, Checked, Engine, EngineChoice, Options};

const OTHER: &str = "define host {\n name base\n max_check_attempts 3\n register 0\n}\n\
define host {\n host_name h1\n use base\n address 127.0.0.1\n}\n\
define service {\n name svc\n check_command c\n register 0\n}\n\
define service {\n host_name h1\n service_description s\n use svc\n}\n\
define command {\n command_name c\n command_line /bin/true\n}\n";

/// What the cached stages produce (the later stages are computed from it each time).
fn digest(c: &Checked) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        c.diagnostics, c.ir, c.resolved, c.summary, c.engine
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let engine = [Engine::Nagios, Engine::Shinken, Engine::Alignak][usize::from(first % 3)];
    let (a, b) = match rest.iter().position(|&x| x == 0x1e) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[..rest.len() / 2]),
    };
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.cfg");
    std::fs::write(&main, "cfg_file=objects.cfg\ncfg_file=other.cfg\n").unwrap();
    let objects = dir.path().join("objects.cfg");
    std::fs::write(&objects, a).unwrap();
    std::fs::write(dir.path().join("other.cfg"), OTHER).unwrap();
    let mut cache = Cache::default();
    let mut options = Options {
        engine: EngineChoice::Given(engine),
        ..Options::default()
    };
    if check_cached(&main, &options, &mut cache).is_err() {
        return;
    }
    // The buffer holds B as text (the loader's own decoding of bytes that are not UTF-8).
    let mut overlay = Overlay::default();
    overlay.insert(&objects, String::from_utf8_lossy(b).into_owned());
    options.overlay = Some(Arc::new(overlay));
    let (Ok((cached, _)), Ok((fresh, _))) = (
        check_cached(&main, &options, &mut cache),
        check_timed(&main, &options),
    ) else {
        return;
    };
    assert_eq!(digest(&cached), digest(&fresh));
});
