//! The protocol's integration tests: one binary, one module per concern.

mod body;
mod fixtures;
mod plan;
