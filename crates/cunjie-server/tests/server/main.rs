//! The server's integration tests: one binary. `conformance` holds scenarios that take a `Db`;
//! `sqlite` and `pg` run them on each backend.

mod api;
mod conformance;
mod dashboard;
mod dashboard_forms;
mod harness;
mod hostile;
mod pg;
mod pg_launcher;
mod photos;
#[cfg(feature = "s3")]
mod s3;
mod scopes;
mod scoring;
mod sqlite;
mod tus_client;
mod web;
