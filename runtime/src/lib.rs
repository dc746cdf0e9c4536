//! The monitorc runtime: the shard schema (the only serializable types of the project),
//! loading and verifying a shard set, command routing and failover.
//!
//! **Architecture invariant:** this crate depends on neither `monitorc-grammar` nor
//! `monitorc-compiler`; it knows only the shard files. Today it holds the schema version
//! alone: the schema types arrive with `monitorc build`.

/// Version of the shard file format, written in every file of a set and checked on load.
pub const FORMAT_VERSION: u32 = 1;
