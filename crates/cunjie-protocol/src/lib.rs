//! Cunjie's wire protocol, version 1: the messages a phone and the township server exchange.
//!
//! This crate holds message shapes only: no SQLite, no HTTP, no Tauri. Every message type that
//! has shipped to phones stays decodable by the server until it is retired on purpose, because
//! field phones update slowly.
#![deny(missing_docs)]

pub mod v1;

/// The mutation schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;
