//! The store's integration tests: one binary, one module per concern.

mod common;
mod drafts;
mod enrollment;
mod migrations;
mod photos;
mod pull_and_ack;
mod registry;
mod write_paths;
