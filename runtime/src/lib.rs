//! The monitorc runtime: the versioned file formats (the only serializable types of the
//! project), loading and verifying them, and later command routing and failover.
//!
//! **Architecture invariant:** this crate depends on neither `monitorc-grammar` nor
//! `monitorc-compiler`; it knows only the files.

pub mod commands;
mod commands_data;
pub mod failover;
pub mod fs;
pub mod nagios;
pub mod plan;
pub mod shard;
pub mod text;

/// Version of the shard set format, written in every file and checked on load. 2: dependencies
/// carry their criteria, period and `inherits_parent`.
pub const FORMAT_VERSION: u32 = 3;

/// Version of the plan file format (`plan --format ron`).
pub const PLAN_VERSION: u32 = 1;
