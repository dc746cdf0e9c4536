//! The monitorc compiler: typed IR, the passes, diagnostics and (later) placement and emitters.
//!
//! No terminal I/O and no output format here: callers get [`Checked`] (sources, IR,
//! diagnostics in report order, object counts) and render it themselves.

pub mod alignak_env;
pub mod bprule;
pub mod engine;
pub mod expand;
pub mod explain;
pub mod hostexpr;
pub mod ir;
pub mod lower;
pub mod place;
pub mod resolve;
pub mod schema;
mod schema_data;
pub mod shards;
pub mod summary;

use std::path::Path;
use std::time::{Duration, Instant};

pub use monitorc_grammar as grammar;
use monitorc_grammar::{Diagnostic, LoadError, Loaded, Severity};

pub use engine::{Chosen, Engine, EngineChoice};
pub use expand::Model;
pub use ir::Ir;
pub use place::Plan;
pub use resolve::Resolved;
pub use summary::Summary;

/// The result of checking one configuration.
pub struct Checked {
    /// The files read (their syntax trees are dropped once lowered).
    pub loaded: Loaded,
    pub ir: Ir,
    /// The engine the configuration was checked for, and why.
    pub engine: Chosen,
    pub resolved: Resolved,
    pub model: Model,
    pub plan: Plan,
    /// Every diagnostic of every stage, in report order.
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

impl Checked {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == severity)
            .count()
    }
}

/// What a check may take besides the configuration.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Host name → scheduler name of an earlier plan: placement keeps packs where they were
    /// unless balance would suffer beyond the bound.
    pub previous: Option<std::collections::BTreeMap<String, String>>,
    /// What placement balances.
    pub balance: place::Balance,
    /// The engine whose semantics apply (`auto` by default).
    pub engine: EngineChoice,
    /// An Alignak environment file (`alignak.ini`) to load with the configuration; a CONFIG
    /// ending in `.ini` is one too.
    pub alignak_env: Option<std::path::PathBuf>,
    /// Texts read instead of files on disk (an editor's unsaved buffers).
    pub overlay: Option<std::sync::Arc<monitorc_grammar::Overlay>>,
    /// Set by the caller to stop the check between two stages (`LoadError::Cancelled`).
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Loads, parses, lowers, resolves, expands and places the configuration at `path`,
/// collecting every diagnostic.
pub fn check(path: &Path) -> Result<Checked, LoadError> {
    check_timed(path, &Options::default()).map(|(c, _)| c)
}

/// The wall-clock time of each stage, in order.
pub type Timings = Vec<(&'static str, Duration)>;

/// What a check keeps for the next check of the same tree (the language server's, on every
/// edit): each file's text, syntax tree and objects, taken again while the file is unchanged,
/// and each object's resolution, taken again while it and its templates are unchanged.
#[derive(Default)]
pub struct Cache {
    parse: monitorc_grammar::ParseCache,
    lower: lower::Cache,
    resolve: resolve::Cache,
}

/// [`check`], with options and the wall-clock time of each stage (for `--timings` and
/// benchmarks).
pub fn check_timed(path: &Path, options: &Options) -> Result<(Checked, Timings), LoadError> {
    run(path, options, None)
}

/// [`check_timed`], reading and lowering again only the files that changed since the checks
/// that filled `cache`. The result is the same as without the cache.
pub fn check_cached(
    path: &Path,
    options: &Options,
    cache: &mut Cache,
) -> Result<(Checked, Timings), LoadError> {
    run(path, options, Some(cache))
}

fn run(
    path: &Path,
    options: &Options,
    mut cache: Option<&mut Cache>,
) -> Result<(Checked, Timings), LoadError> {
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let cancelled = || {
        options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        let now = Instant::now();
        timings.push((name, now - clock));
        clock = now;
        if cancelled() {
            return Err(LoadError::Cancelled);
        }
        Ok(())
    };
    let is_env = path.extension().is_some_and(|e| e == "ini") && path.is_file();
    let no_overlay = monitorc_grammar::Overlay::default();
    let overlay = options.overlay.as_deref().unwrap_or(&no_overlay);
    let parse = cache.as_deref_mut().map(|c| &mut c.parse);
    let mut loaded = match (&options.alignak_env, is_env) {
        (Some(env), _) => monitorc_grammar::load_alignak_with(env, Some(path), overlay, parse)?,
        (None, true) => monitorc_grammar::load_alignak_with(path, None, overlay, parse)?,
        (None, false) => monitorc_grammar::load_with(path, overlay, parse)?,
    };
    lap("load+parse", &mut timings)?;
    // The engine is chosen from the syntax trees, before anything is interpreted.
    let env_name = loaded
        .alignak_env
        .as_ref()
        .map(|e| e.path.display().to_string());
    let engine = engine::detect(&loaded, options.engine, env_name.as_deref());
    let semantics = engine.engine.semantics();
    let (mut ir, mut lower_diags) = lower::lower_cached(
        &loaded,
        semantics,
        cache.as_deref_mut().map(|c| &mut c.lower),
    );
    if let Some(env) = &loaded.alignak_env {
        alignak_env::apply(env, semantics, &mut ir, &mut lower_diags);
    }
    // The syntax trees are not needed past lowering (spans live on in the IR): freeing them
    // here lowers the peak of what follows.
    loaded.trees = Vec::new();
    lap("lower", &mut timings)?;
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    diagnostics.extend(lower_diags);
    let resolved = resolve::resolve_cached(
        &ir,
        semantics,
        &mut diagnostics,
        cache.map(|c| &mut c.resolve),
    );
    lap("resolve", &mut timings)?;
    let model = expand::expand(&ir, &resolved, &loaded.sources, semantics, &mut diagnostics);
    lap("expand", &mut timings)?;
    // The summary's counts are taken on the second core while placement runs.
    let ((plan, place_diags), summary) = rayon::join(
        || {
            let mut diags = Vec::new();
            let plan = place::place(
                &ir,
                &resolved,
                &model,
                options.previous.as_ref(),
                options.balance,
                &mut diags,
            );
            (plan, diags)
        },
        || summary::summarize(&ir, &resolved, &model),
    );
    diagnostics.extend(place_diags);
    lap("place+summary", &mut timings)?;
    nothing_defined(path, &ir, &summary, semantics, &mut diagnostics);
    monitorc_grammar::diag::sort(&mut diagnostics);
    lap("diagnostics", &mut timings)?;
    let checked = Checked {
        loaded,
        ir,
        engine,
        resolved,
        model,
        plan,
        diagnostics,
        summary,
    };
    Ok((checked, timings))
}

/// F14: an object type the engine needs at least one of, and that the configuration does not
/// define (or whose every definition failed). Only for a whole configuration, one whose main
/// config names object files (`cfg_file`, `cfg_dir`): a single object file or a folder may be
/// a part checked alone.
fn nothing_defined(
    path: &Path,
    ir: &Ir,
    summary: &Summary,
    semantics: &engine::Semantics,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let whole = ir
        .main
        .params
        .iter()
        .any(|p| p.key == "cfg_file" || p.key == "cfg_dir");
    // A file that could not be read stops Nagios before it counts anything; what it held is
    // unknown, so saying it is missing would be noise.
    let unread = diagnostics
        .iter()
        .any(|d| d.code.code.starts_with("E000") && d.severity() == Severity::Error);
    if !whole || unread {
        return;
    }
    for &(kind, key) in semantics.at_least_one {
        if summary.get(key) == 0 {
            diagnostics.push(
                Diagnostic::new(
                    grammar::diag::codes::NOTHING_DEFINED,
                    format!("the configuration defines no {}", kind.keyword()),
                )
                .in_file(path)
                .note(format!(
                    "{} refuses a configuration without {key} (\"There are no {key} defined!\")",
                    semantics.engine.title()
                ))
                .help(format!(
                    "define at least one {}, or check that the `cfg_file`/`cfg_dir` lines load the files that do",
                    kind.keyword()
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_cancelled_check_stops_and_an_overlay_stands_for_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("objects.cfg");
        std::fs::write(
            &main,
            "define command {\n command_name c\n command_line /bin/true\n}\n",
        )
        .unwrap();
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let options = Options {
            cancel: Some(cancel.clone()),
            ..Options::default()
        };
        assert!(matches!(
            check_timed(&main, &options),
            Err(LoadError::Cancelled)
        ));
        // The buffer, not the file, is checked.
        let mut overlay = monitorc_grammar::Overlay::default();
        overlay.insert(&main, "define host {\n host_name h\n".into());
        let options = Options {
            overlay: Some(Arc::new(overlay)),
            ..Options::default()
        };
        let (checked, _) = check_timed(&main, &options).unwrap();
        let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.code).collect();
        assert!(codes.contains(&"E0010"), "{codes:?}");
    }
}
