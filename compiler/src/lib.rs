//! The monitorc compiler: typed IR, the passes, diagnostics and (later) placement and emitters.
//!
//! No terminal I/O and no output format here: callers get [`Checked`] (sources, IR,
//! diagnostics in report order, object counts) and render it themselves.

pub mod expand;
pub mod hostexpr;
pub mod ir;
pub mod lower;
pub mod resolve;
pub mod schema;
mod schema_data;
pub mod summary;

use std::path::Path;

pub use monitorc_grammar as grammar;
use monitorc_grammar::{Diagnostic, LoadError, Loaded, Severity};

pub use expand::Model;
pub use ir::Ir;
pub use resolve::Resolved;
pub use summary::Summary;

/// The result of checking one configuration.
pub struct Checked {
    pub loaded: Loaded,
    pub ir: Ir,
    pub resolved: Resolved,
    pub model: Model,
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

/// Loads, parses and lowers the configuration at `path`, collecting every diagnostic.
pub fn check(path: &Path) -> Result<Checked, LoadError> {
    let mut loaded = monitorc_grammar::load(path)?;
    let (ir, lower_diags) = lower::lower(&loaded);
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    diagnostics.extend(lower_diags);
    let resolved = resolve::resolve(&ir, &mut diagnostics);
    let model = expand::expand(&ir, &resolved, &loaded.sources, &mut diagnostics);
    monitorc_grammar::diag::sort(&mut diagnostics);
    let summary = summary::summarize(&ir, &resolved, &model);
    Ok(Checked {
        loaded,
        ir,
        resolved,
        model,
        diagnostics,
        summary,
    })
}
