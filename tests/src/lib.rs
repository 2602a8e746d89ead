//! Cunjie's end-to-end harness: a seeded demo village, simulated devices on temp directories,
//! and real JPEG evidence files. Used by the `e2e` test binary and by `cunjie-demo`.
//!
//! This grows with the product: the server issue adds a `TestServer` on 127.0.0.1:0, the
//! photo issue adds the media pipeline. It never touches the real app-data folder.

pub mod evidence;
pub mod seed;
pub mod sim;
