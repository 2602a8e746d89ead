//! Photo makers: photographic-looking pictures, JPEG encoding with our own EXIF.

use std::io::Cursor;

use chrono::DateTime;
use cunjie_media::{Limits, Policy, Processed, Watermark, process};
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};

/// One GPS coordinate as a camera writes it: reference ("N"/"S"/"E"/"W"), degrees, minutes,
/// seconds × 100.
pub(crate) type Dms = (&'static str, u32, u32, u32);

/// What the test camera writes into EXIF.
#[derive(Debug, Clone, Default)]
pub(crate) struct Camera {
    pub(crate) orientation: Option<u16>,
    pub(crate) taken: Option<&'static str>,
    /// Latitude and longitude.
    pub(crate) gps: Option<(Dms, Dms)>,
}

impl Camera {
    /// A phone camera at 太平村: time, position, and the given orientation.
    pub(crate) fn full(orientation: u16) -> Self {
        Self {
            orientation: Some(orientation),
            taken: Some("2026:11:29 14:05:09"),
            gps: Some((("N", 28, 7, 2_445), ("E", 115, 7, 2_444))),
        }
    }

    /// The TIFF bytes of this camera's EXIF (IFD0, Exif IFD, GPS IFD), plus a Make that the
    /// derivative must drop.
    pub(crate) fn tiff(&self) -> Vec<u8> {
        let f = |tag, value| Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        };
        let r = |num, denom| Rational { num, denom };
        let mut fields = vec![f(Tag::Make, Value::Ascii(vec![b"TestCam".to_vec()]))];
        if let Some(o) = self.orientation {
            fields.push(f(Tag::Orientation, Value::Short(vec![o])));
        }
        if let Some(t) = self.taken {
            fields.push(f(
                Tag::DateTimeOriginal,
                Value::Ascii(vec![t.as_bytes().to_vec()]),
            ));
        }
        if let Some(((ns, la, lm, ls), (ew, lo, om, os))) = self.gps {
            fields.push(f(
                Tag::GPSLatitudeRef,
                Value::Ascii(vec![ns.as_bytes().to_vec()]),
            ));
            fields.push(f(
                Tag::GPSLatitude,
                Value::Rational(vec![r(la, 1), r(lm, 1), r(ls, 100)]),
            ));
            fields.push(f(
                Tag::GPSLongitudeRef,
                Value::Ascii(vec![ew.as_bytes().to_vec()]),
            ));
            fields.push(f(
                Tag::GPSLongitude,
                Value::Rational(vec![r(lo, 1), r(om, 1), r(os, 100)]),
            ));
        }
        let mut w = Writer::new();
        for field in &fields {
            w.push_field(field);
        }
        let mut out = Cursor::new(Vec::new());
        w.write(&mut out, false).expect("EXIF of the test camera");
        out.into_inner()
    }
}

/// A picture with smooth gradients, deterministic noise and a disc, like a photo.
pub(crate) fn picture(width: u32, height: u32) -> RgbImage {
    let mut state: u32 = 0x9E37_79B9;
    let (cx, cy, rr) = (width / 3, height / 2, (height / 5).pow(2));
    let mut raw = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        let gy = y * 120 / height;
        let dy = y.abs_diff(cy);
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = state % 21;
            let gx = x * 160 / width;
            let dx = x.abs_diff(cx);
            let base = if dx * dx + dy * dy < rr {
                [200, 60 + gy, 40]
            } else {
                [60 + gx, 90 + gy, 110 + gx / 2]
            };
            raw.extend(base.map(|c| (c + noise).saturating_sub(10).min(255) as u8));
        }
    }
    RgbImage::from_raw(width, height, raw).expect("the buffer has width × height pixels")
}

/// Encodes `img` as a JPEG at `quality`, with the camera's EXIF when given.
pub(crate) fn jpeg(img: &RgbImage, quality: u8, camera: Option<&Camera>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(c) = camera {
        enc.set_exif_metadata(c.tiff()).expect("JPEG takes EXIF");
    }
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .expect("encode test JPEG");
    out
}

/// The watermark of the brief's example.
pub(crate) fn watermark() -> Watermark {
    Watermark {
        taken_at: DateTime::parse_from_rfc3339("2026-11-29T14:05:09+08:00").expect("time"),
        place: "太平村 · 3组 · 18号 李建国".into(),
        person: "检查员 王芳".into(),
        fix: Some((28.123_456_7, 115.123_456_7, 8.0)),
    }
}

/// Runs the pipeline with default policy and limits.
pub(crate) fn run(input: &[u8]) -> Result<Processed, cunjie_media::MediaError> {
    process(input, &Policy::default(), &watermark(), &Limits::default())
}

/// The error code `input` is refused with, or a failure naming what was made instead.
pub(crate) fn refused(input: &[u8]) -> &'static str {
    match run(input) {
        Ok(p) => panic!(
            "expected a refusal, got a {}×{} derivative",
            p.width, p.height
        ),
        Err(e) => e.code(),
    }
}
