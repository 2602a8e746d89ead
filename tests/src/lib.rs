//! Cunjie's end-to-end harness: a seeded demo village, simulated devices on temp directories,
//! and real JPEG evidence files. Used by the `e2e` test binary and by `cunjie-demo`.
//!
//! `server::TestServer` runs a real township server on 127.0.0.1:0 (SQLite in a temp dir, or a
//! PostgreSQL URL) with the demo township; `phone::Phone` is a simulated phone with a real store
//! and the real sync engine over HTTP. Nothing touches the real app-data folder.
//! `load` drives hundreds of phones against the real `cunjie-server` binary (SQLite or a
//! throwaway PostgreSQL from `pg`) and measures it.

pub mod crash;
pub mod evidence;
pub mod fault;
pub mod fieldday;
pub mod load;
pub mod pg;
pub mod phone;
pub mod proxy;
pub mod reliability;
pub mod seed;
pub mod server;
pub mod sim;
