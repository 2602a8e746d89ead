//! The sync engine's integration tests: one binary, one module per concern. The engine runs
//! against `fake::FakeServer`, a tiny in-memory township server over the v1 types; the HTTP
//! transport runs against a raw TCP stub.

mod auth;
mod backoff;
mod fake;
mod http;
mod phone;
mod photos;
mod pull;
mod push;
