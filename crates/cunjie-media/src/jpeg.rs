//! JPEG container work on bytes: recognising the format, walking the marker segments up to the
//! first scan (dimensions and the Exif block, without decoding anything), checking that the
//! file reaches its end, and putting our own APP1 Exif segment right after SOI.
//!
//! Pixels are decoded by `image` (zune-jpeg); this module never allocates per pixel.

use std::ops::Range;

use crate::MediaError;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const EXIF_ID: &[u8] = b"Exif\0\0";

/// What the bytes look like, by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Jpeg,
    Other(&'static str),
    Unknown,
}

/// Recognises the format by its magic bytes (not by a file name, which we never see).
pub(crate) fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, SOI, 0xFF]) {
        return Sniffed::Jpeg;
    }
    let other = if starts(b"\x89PNG\r\n\x1a\n") {
        "PNG"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "GIF"
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        "WebP"
    } else if starts(b"BM") && bytes.len() >= 26 {
        "BMP"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "TIFF"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        match &bytes[8..12] {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIF/HEIC",
            b"avif" | b"avis" => "AVIF",
            _ => return Sniffed::Unknown,
        }
    } else if starts(&[0x00, 0x00, 0x00, 0x0C, b'j', b'P']) {
        "JPEG 2000"
    } else {
        return Sniffed::Unknown;
    };
    Sniffed::Other(other)
}

/// The header of a JPEG, read up to its first scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// The TIFF bytes of the first APP1 Exif segment (after `Exif\0\0`).
    pub(crate) exif: Option<Range<usize>>,
    /// Offset of the first byte after the SOS segment (the entropy-coded data).
    pub(crate) scan_start: usize,
}

fn truncated(detail: &'static str) -> MediaError {
    MediaError::Truncated { detail }
}

fn corrupt(detail: impl Into<String>) -> MediaError {
    MediaError::Corrupt {
        detail: detail.into(),
    }
}

/// Walks the marker segments from SOI to the first SOS. Reads only lengths and the frame
/// header, so a 30,000 × 30,000 claim costs nothing; a header cut short is `Truncated`.
pub(crate) fn read_header(bytes: &[u8]) -> Result<Header, MediaError> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return Err(MediaError::NotAnImage);
    }
    let mut pos = 2;
    let mut frame: Option<(u32, u32)> = None;
    let mut exif = None;
    loop {
        // A marker is 0xFF (any number of fill bytes) then a code.
        match bytes.get(pos) {
            None => return Err(truncated("the file ends inside the header")),
            Some(0xFF) => {}
            Some(_) => return Err(corrupt("a header segment is not followed by a marker")),
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&code) = bytes.get(pos) else {
            return Err(truncated("the file ends inside the header"));
        };
        pos += 1;
        match code {
            // Stand-alone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            SOI => return Err(corrupt("a second start-of-image marker in the header")),
            EOI => return Err(corrupt("the image ends before any picture data")),
            _ => {}
        }
        let len = match bytes.get(pos..pos + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(truncated("the file ends inside the header")),
        };
        if len < 2 {
            return Err(corrupt(format!("segment 0xFF{code:02X} has length {len}")));
        }
        let body = pos + 2..pos + len;
        let Some(data) = bytes.get(body.clone()) else {
            return Err(truncated("the file ends inside a header segment"));
        };
        match code {
            // Start of frame: every SOFn except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                if frame.is_some() {
                    return Err(corrupt("two frame headers"));
                }
                let [precision, h1, h0, w1, w0, ..] = *data else {
                    return Err(corrupt("the frame header is too short"));
                };
                let (width, height) = (
                    u32::from(u16::from_be_bytes([w1, w0])),
                    u32::from(u16::from_be_bytes([h1, h0])),
                );
                if matches!(code, 0xC3 | 0xC7 | 0xCB | 0xCF) {
                    return Err(MediaError::UnsupportedFormat {
                        format: "JPEG (lossless)".into(),
                    });
                }
                if precision != 8 {
                    return Err(MediaError::UnsupportedFormat {
                        format: format!("JPEG ({precision}-bit)"),
                    });
                }
                if width == 0 || height == 0 {
                    return Err(corrupt(format!("the frame is {width}×{height} pixels")));
                }
                frame = Some((width, height));
            }
            APP1 if exif.is_none() && data.starts_with(EXIF_ID) => {
                exif = Some(body.start + EXIF_ID.len()..body.end);
            }
            SOS => {
                let Some((width, height)) = frame else {
                    return Err(corrupt("picture data before the frame header"));
                };
                return Ok(Header {
                    width,
                    height,
                    exif,
                    scan_start: body.end,
                });
            }
            _ => {}
        }
        pos = body.end;
    }
}

/// Whether the entropy-coded data after `scan_start` reaches an end-of-image marker. In scan
/// data every 0xFF is followed by 0x00 or a restart marker, so 0xFF 0xD9 there is the real
/// end; a file cut short (an interrupted save) has none.
pub(crate) fn reaches_eoi(bytes: &[u8], scan_start: usize) -> bool {
    bytes
        .get(scan_start..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, EOI]))
}

/// Replaces everything between SOI and the first non-APP0 segment of `encoded` (the encoder's
/// JFIF header) with one APP1 Exif segment holding `tiff`: APP1 comes first, as Exif requires.
pub(crate) fn put_exif_first(encoded: &[u8], tiff: &[u8]) -> Result<Vec<u8>, MediaError> {
    let seg_len = tiff.len() + EXIF_ID.len() + 2;
    let seg_len = u16::try_from(seg_len).map_err(|_| MediaError::Encode("Exif too long".into()))?;
    if !encoded.starts_with(&[0xFF, SOI]) {
        return Err(MediaError::Encode("the encoder wrote no SOI".into()));
    }
    let mut rest = 2;
    while encoded.get(rest..rest + 2) == Some(&[0xFF, APP0]) {
        let len = match encoded.get(rest + 2..rest + 4) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(MediaError::Encode("the encoder wrote a short APP0".into())),
        };
        rest += 2 + len;
    }
    let tail = encoded
        .get(rest..)
        .ok_or_else(|| MediaError::Encode("the encoder wrote a short APP0".into()))?;
    let mut out = Vec::with_capacity(encoded.len() + usize::from(seg_len) + 2);
    out.extend_from_slice(&[0xFF, SOI, 0xFF, APP1]);
    out.extend_from_slice(&seg_len.to_be_bytes());
    out.extend_from_slice(EXIF_ID);
    out.extend_from_slice(tiff);
    out.extend_from_slice(tail);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP1 Exif, SOF0 w×h, SOS, two bytes of scan, EOI.
    fn minimal(width: u16, height: u16) -> Vec<u8> {
        let mut j = vec![0xFF, SOI];
        j.extend_from_slice(&[0xFF, APP1, 0, 12]);
        j.extend_from_slice(b"Exif\0\0MM\0*");
        j.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
        j.extend_from_slice(&height.to_be_bytes());
        j.extend_from_slice(&width.to_be_bytes());
        j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        j.extend_from_slice(&[0xFF, SOS, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
        j.extend_from_slice(&[0x12, 0x34, 0xFF, EOI]);
        j
    }

    #[test]
    fn header_reads_dimensions_and_exif_without_decoding() {
        let j = minimal(30_000, 20_000);
        let h = read_header(&j).expect("a well-formed header");
        assert_eq!(
            (h.width, h.height),
            (30_000, 20_000),
            "width and height from SOF0"
        );
        let exif = h.exif.expect("the APP1 Exif segment is found");
        assert_eq!(&j[exif], b"MM\0*", "the range holds the TIFF bytes only");
        assert!(
            reaches_eoi(&j, h.scan_start),
            "the minimal file ends with EOI"
        );
        assert!(
            !reaches_eoi(&j[..j.len() - 2], h.scan_start),
            "cut before EOI is truncated"
        );
    }

    #[test]
    fn every_cut_of_the_header_is_an_error_not_a_panic() {
        let j = minimal(640, 480);
        let scan = read_header(&j).expect("whole header").scan_start;
        for cut in 0..scan {
            let r = read_header(&j[..cut]);
            assert!(r.is_err(), "a header cut at {cut} must be refused");
        }
    }

    #[test]
    fn sniff_names_other_formats() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Sniffed::Other("PNG"));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Sniffed::Other("HEIF/HEIC")
        );
        assert_eq!(sniff(b"GIF89a......"), Sniffed::Other("GIF"));
        assert_eq!(sniff(b"hello, this is text"), Sniffed::Unknown);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Sniffed::Jpeg);
    }

    #[test]
    fn exif_goes_right_after_soi_and_replaces_jfif() {
        let mut enc = vec![0xFF, SOI, 0xFF, APP0, 0, 4, b'J', b'F'];
        enc.extend_from_slice(&[0xFF, 0xDB, 0, 2, 0xFF, EOI]);
        let out = put_exif_first(&enc, b"II*\0").expect("splice");
        assert_eq!(
            &out[..16],
            b"\xFF\xD8\xFF\xE1\x00\x0cExif\0\0II*\0",
            "SOI then APP1"
        );
        assert_eq!(
            &out[16..],
            &enc[8..],
            "JFIF dropped, the rest kept byte for byte"
        );
    }
}
