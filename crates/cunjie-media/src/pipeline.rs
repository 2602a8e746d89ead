//! `process`: camera JPEG in, watermarked derivative and thumbnail out.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageError, ImageFormat, ImageReader, RgbImage};
use serde::{Deserialize, Serialize};

use crate::metadata::{self, ExifInfo};
use crate::sign::sha256_hex;
use crate::{MediaError, PhotoHash, jpeg, resize, watermark};

/// Decode limits, checked on the bytes and on the JPEG header before any pixel is allocated.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest input accepted, in bytes. Default 40 MiB.
    pub max_input_bytes: usize,
    /// Most pixels (width × height) accepted. Default 50,000,000 (e.g. 8,660 × 5,773).
    pub max_pixels: u64,
    /// Longest side accepted, in pixels. Default 16,384.
    pub max_dimension: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 40 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_dimension: 16_384,
        }
    }
}

/// Derivative policy (configurable per township).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Long edge of the derivative in pixels (64..=8192); never enlarged. Default 1600.
    pub long_edge: u32,
    /// JPEG quality of the derivative and the thumbnail (1..=100). Default 80.
    pub quality: u8,
    /// Long edge of the thumbnail in pixels (16..=long_edge). Default 320.
    pub thumb_edge: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            long_edge: 1600,
            quality: 80,
            thumb_edge: 320,
        }
    }
}

impl Policy {
    fn check(&self) -> Result<(), MediaError> {
        if !(64..=8192).contains(&self.long_edge) {
            return Err(MediaError::BadPolicy("long_edge must be 64..=8192"));
        }
        if !(1..=100).contains(&self.quality) {
            return Err(MediaError::BadPolicy("quality must be 1..=100"));
        }
        if !(16..=self.long_edge).contains(&self.thumb_edge) {
            return Err(MediaError::BadPolicy("thumb_edge must be 16..=long_edge"));
        }
        Ok(())
    }
}

/// The result of [`process`].
pub struct Processed {
    /// JPEG: long edge ≤ `policy.long_edge` (never enlarged), upright, watermarked, with an
    /// Exif block right after SOI: the input's DateTimeOriginal and GPS when present, and
    /// Orientation = 1.
    pub derivative: Vec<u8>,
    /// JPEG: long edge ≤ `policy.thumb_edge`, made from the watermarked derivative's pixels.
    pub thumbnail: Vec<u8>,
    /// SHA-256 of `derivative`.
    pub sha256: PhotoHash,
    /// Width of the derivative.
    pub width: u32,
    /// Height of the derivative.
    pub height: u32,
    /// What was read from the input's EXIF.
    pub exif: ExifInfo,
}

impl std::fmt::Debug for Processed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processed")
            .field("derivative_bytes", &self.derivative.len())
            .field("thumbnail_bytes", &self.thumbnail.len())
            .field("sha256", &self.sha256)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("exif", &self.exif)
            .finish()
    }
}

/// Makes the upload derivative and the thumbnail of a camera JPEG.
///
/// Order: byte limit, format by magic (only JPEG), header walk (dimension and pixel limits,
/// before any pixel is allocated), end-of-image check (a cut file is `truncated`), decode,
/// downscale (the full-size picture is freed here), EXIF orientation on the small picture,
/// 水印, encode with our Exif, thumbnail, hash. Same input and watermark give the same bytes.
pub fn process(
    input: &[u8],
    policy: &Policy,
    watermark: &crate::Watermark,
    limits: &Limits,
) -> Result<Processed, MediaError> {
    policy.check()?;
    let header = check(input, limits)?;
    let input_exif = metadata::parse(input, header.exif.clone());
    let exif = input_exif
        .as_ref()
        .map_or_else(ExifInfo::default, metadata::info);
    let exif = ExifInfo {
        orientation: exif.orientation.max(1),
        ..exif
    };

    let decoded = decode(input, limits)?;
    let small = resize::downscale(decoded, policy.long_edge)?;
    let mut upright = DynamicImage::ImageRgb8(small);
    upright.apply_orientation(
        Orientation::from_exif(u8::try_from(exif.orientation).unwrap_or(1))
            .unwrap_or(Orientation::NoTransforms),
    );
    let mut upright = upright.into_rgb8();
    watermark::draw(&mut upright, &watermark.lines());

    let tiff = metadata::derivative_exif(input_exif.as_ref(), &exif)?;
    let derivative = jpeg::put_exif_first(&encode(&upright, policy.quality)?, &tiff)?;
    let (width, height) = upright.dimensions();
    let thumb = resize::downscale(upright, policy.thumb_edge)?;
    let thumbnail = encode(&thumb, policy.quality)?;
    Ok(Processed {
        sha256: sha256_hex(&derivative),
        derivative,
        thumbnail,
        width,
        height,
        exif,
    })
}

/// The checks made before any pixel is allocated: byte limit, JPEG by its magic, header walk
/// (dimension and pixel limits), end-of-image marker.
pub(crate) fn check(input: &[u8], limits: &Limits) -> Result<jpeg::Header, MediaError> {
    if input.len() > limits.max_input_bytes {
        return Err(MediaError::TooLarge {
            size: input.len(),
            max: limits.max_input_bytes,
        });
    }
    metadata::check_is_jpeg(input)?;
    let header = jpeg::read_header(input)?;
    let (w, h) = (header.width, header.height);
    if w.max(h) > limits.max_dimension || u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            width: w,
            height: h,
            max_pixels: limits.max_pixels,
            max_dimension: limits.max_dimension,
        });
    }
    if !jpeg::reaches_eoi(input, header.scan_start) {
        return Err(MediaError::Truncated {
            detail: "the picture data has no end-of-image marker",
        });
    }
    Ok(header)
}

/// Decodes to RGB8 under `image`'s own limits too (width, height, allocation).
pub(crate) fn decode(input: &[u8], limits: &Limits) -> Result<RgbImage, MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(input), ImageFormat::Jpeg);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_dimension);
    image_limits.max_image_height = Some(limits.max_dimension);
    image_limits.max_alloc = Some(limits.max_pixels.saturating_mul(4));
    reader.limits(image_limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| decode_error(e, (0, 0), limits))?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(decode_error(
            ImageError::Limits(image::error::LimitError::from_kind(
                image::error::LimitErrorKind::DimensionError,
            )),
            (w, h),
            limits,
        ));
    }
    let img = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, (w, h), limits))?;
    Ok(match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.into_rgb8(),
    })
}

fn decode_error(e: ImageError, (width, height): (u32, u32), limits: &Limits) -> MediaError {
    match e {
        ImageError::Limits(_) => MediaError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
            max_dimension: limits.max_dimension,
        },
        ImageError::Unsupported(u) => MediaError::UnsupportedFormat {
            format: format!("JPEG ({u})"),
        },
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated {
                detail: "the decoder ran out of data",
            }
        }
        other => MediaError::Corrupt {
            detail: other.to_string(),
        },
    }
}

fn encode(img: &RgbImage, quality: u8) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::with_capacity(img.as_raw().len() / 8);
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}
