//! Syntax of Nagios / Shinken / Alignak configuration: the pest grammar, the syntax tree with
//! exact spans, the loader that follows `cfg_file` / `cfg_dir` / `resource_file`, and the
//! diagnostic model shared by every stage. No semantics: object types and attribute names are
//! not interpreted here.

// pest is used without its `std` feature (which adds a stack guard on every rule entry, a
// fifth of the parse time on large trees; this grammar does not nest); its generated code
// then names the `alloc` crate.
extern crate alloc;

pub mod diag;
pub mod ini;
pub mod loader;
pub mod source;
pub mod tree;

pub use diag::{codes, Code, Diagnostic, Label, Severity, REGISTRY};
pub use loader::{
    load, load_alignak, load_alignak_with, load_with, AlignakEnv, LoadError, Loaded, NotUtf8,
    Origin, Overlay, ParseCache,
};
pub use source::{FileId, Location, SourceFile, SourceMap, Span};
pub use tree::{parse, Attribute, Block, Open, Param, SyntaxTree};
