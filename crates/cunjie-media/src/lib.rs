//! The phone's photo pipeline, on bytes: a camera JPEG in; the upload derivative, its thumbnail
//! and its SHA-256 out; and the device's Ed25519 signature over what the phone claims about it.
//!
//! No network, no database, no async runtime, no file system: the caller reads and writes the
//! files (durably, named by hash, see `cunjie-store`). The font is compiled in.
//!
//! # Pipeline ([`process`])
//!
//! 1. **Limits before pixels** ([`Limits`]): the byte length (40 MiB), then the format by its
//!    magic bytes (only JPEG: a PNG screenshot or an HEIC is `unsupported_format`, anything else
//!    `not_an_image`), then the JPEG's marker segments up to the first scan, read without
//!    decoding: a 30,000 × 30,000 header or a small file claiming 100 megapixels is refused
//!    (`too_many_pixels`: more than 50 M pixels or 16,384 per side) before anything is allocated.
//!    A file whose picture data has no end-of-image marker is `truncated` (zune-jpeg would
//!    otherwise fill the missing part with grey). `image`'s own limits apply as well.
//! 2. **Decode** to RGB8 (`image` 0.25 with zune-jpeg, single-threaded: no rayon).
//! 3. **Downscale** to [`Policy::long_edge`] (1600 px by default, never enlarged) with
//!    `fast_image_resize` (Catmull-Rom, SIMD, one thread): about 25–30 ms for 12 MP →
//!    1600×1200 on one core, where `image`'s `resize` with `Triangle` takes 320–450 ms. The
//!    full-size picture is freed as soon as the small one exists. `benches/derivative.rs` (run
//!    by `scripts/bench-media`) measured the whole pipeline on a 4.6 MB 4000×3000 JPEG on one
//!    x86-64 core at about 0.25 s and 62 MB peak resident memory for the whole process
//!    (ImageMagick `convert -resize 1600x1600 -quality 80`, one thread: about 0.9–1 s, 153 MB).
//! 4. **Orientation**: the EXIF orientation (all eight) is applied to the small picture.
//! 5. **水印** ([`Watermark`]): time, place, person and GPS (or 无定位), white on a translucent
//!    dark band, bottom-left, 2.2 % of the long edge per line. The font is a subset of Noto Sans
//!    CJK SC Bold (SIL Open Font License 1.1, `fonts/OFL.txt`): printable ASCII, all of GB2312
//!    (6,763 hanzi and its symbols), full-width forms and every character of the demo township
//!    and the standards catalog; `scripts/font-subset` regenerates it. A character outside it
//!    draws as a box (see [`Watermark::missing_glyphs`]).
//! 6. **Encode** at [`Policy::quality`] (80), with our own Exif segment right after SOI.
//! 7. **Thumbnail** ([`Policy::thumb_edge`], 320 px) from the watermarked derivative.
//! 8. **Hash**: SHA-256 of the derivative's bytes. The same input and watermark give the same
//!    bytes on the same build and CPU.
//!
//! # EXIF policy
//!
//! [`read_exif`] gives the evidence: DateTimeOriginal (or DateTime), GPS position in signed
//! decimal degrees, orientation. The derivative carries only Orientation = 1 and, when the
//! input had them, DateTimeOriginal, DateTime, OffsetTimeOriginal and the GPS position fields,
//! copied as they were (rationals included): nothing is invented, and the camera's make,
//! serial numbers, maker notes and embedded thumbnail are dropped.
//!
//! # Signature statement
//!
//! [`DeviceKey`] is the phone's Ed25519 key (made at enrollment from the OS's randomness; the
//! seed stays in the phone's store). [`DeviceKey::sign`] signs exactly
//! [`PhotoAttestation::signing_bytes`]: the derivative's SHA-256 and size, time taken, fix,
//! subject and device, one per line under a version tag. The server checks it with
//! [`verify_attestation`] and the key registered at enrollment, so a photo that arrives days
//! later cannot be swapped or backdated. Keys and signatures are standard base64.
//!
//! # Errors
//!
//! [`MediaError::code`] is a stable snake_case code; [`MediaError::message_zh`] tells the
//! person what to do next ("照片文件不完整，请重新拍照").

mod error;
mod jpeg;
mod metadata;
mod pipeline;
mod qr;
mod resize;
mod sign;
mod watermark;

pub use cunjie_domain::fact::{PhotoAttestation, PhotoHash};
pub use error::MediaError;
pub use metadata::{ExifInfo, read_exif};
pub use pipeline::{Limits, Policy, Processed, process};
pub use qr::read_qr;
pub use sign::{DeviceKey, sha256_hex, verify_attestation};
pub use watermark::Watermark;
