//! cunjie-media's integration tests: one binary, one module per concern. Every JPEG is made
//! here with `image`'s encoder and EXIF written with kamadak-exif, so no fixture file is needed.

mod common;
mod exif_policy;
mod malformed;
mod orientation;
mod pipeline;
mod signature;
