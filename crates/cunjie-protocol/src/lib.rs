//! Cunjie's wire protocol, version 1: the messages a phone and the township server exchange.
//!
//! This crate holds message shapes ([`v1`]), how bodies are encoded on the wire ([`body`]:
//! JSON, gzipped when it pays, with a decompression limit), the sans-io sync planner
//! ([`plan`]) and the parsers of the tus upload headers ([`tus`]). No SQLite, no HTTP, no
//! Tauri. Every message type that has shipped to phones stays decodable by the server until
//! it is retired on purpose, because field phones update slowly; the frozen fixtures in
//! `tests/fixtures/wire/v1/` (repository root) enforce it.
#![deny(missing_docs)]

pub mod body;
pub mod plan;
pub mod tus;
pub mod v1;

/// The mutation schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;
