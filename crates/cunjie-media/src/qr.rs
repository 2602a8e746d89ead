//! Reading a QR code from a camera photo: the door-plate code (门牌二维码) that opens a household
//! or a business, and the township's enrollment code. Pure Rust (`rqrr`, a port of quirc), so it
//! works the same on every phone and on the desktop, where no scanner plugin exists.
//!
//! The photo passes the evidence pipeline's limits first (bytes, JPEG only, dimensions and
//! pixels from the header before any pixel is allocated, end-of-image marker), then is decoded,
//! reduced and searched at two sizes: a code that fills the frame is found faster small, a
//! small one far away needs the larger picture.

use image::RgbImage;

use crate::pipeline::{Limits, check, decode};
use crate::{MediaError, resize};

/// Long edges the picture is searched at: small first (fast for a code filling the frame),
/// then large (a small code far away).
const EDGES: [u32; 2] = [800, 1600];

/// The text of the first QR code found in a camera JPEG.
pub fn read_qr(input: &[u8], limits: &Limits) -> Result<String, MediaError> {
    check(input, limits)?;
    let large = resize::downscale(decode(input, limits)?, EDGES[1])?;
    if let Some(text) = find(&resize::downscale(large.clone(), EDGES[0])?) {
        return Ok(text);
    }
    find(&large).ok_or(MediaError::NoQrCode)
}

fn find(img: &RgbImage) -> Option<String> {
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            let p = img.get_pixel(x as u32, y as u32).0;
            // ITU-R BT.601 luma.
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
        });
    prepared
        .detect_grids()
        .iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{Rgb, RgbImage};

    /// A camera-like JPEG of `text` as a QR code: dark modules `module` px wide on white, placed
    /// off-centre on a grey, slightly noisy background.
    pub(crate) fn photo_of_qr(text: &str, width: u32, height: u32, module: u32) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).expect("encodes");
        let n = code.width() as u32;
        let colors = code.to_colors();
        let quiet = 4 * module;
        let side = n * module + 2 * quiet;
        let (ox, oy) = (width / 5, height / 6);
        let img = RgbImage::from_fn(width, height, |x, y| {
            let noise = ((x * 31 + y * 17) % 23) as u8;
            if x < ox || y < oy || x >= ox + side || y >= oy + side {
                return Rgb([120 + noise, 124 + noise, 118 + noise]);
            }
            let (mx, my) = (x - ox, y - oy);
            if mx < quiet || my < quiet || mx >= side - quiet || my >= side - quiet {
                return Rgb([235, 235, 230]);
            }
            let i = ((my - quiet) / module * n + (mx - quiet) / module) as usize;
            match colors[i] {
                qrcode::Color::Dark => Rgb([25 + noise, 25, 30]),
                qrcode::Color::Light => Rgb([235, 235, 230]),
            }
        });
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&img)
            .expect("encodes");
        out
    }

    #[test]
    fn reads_a_door_plate_code_from_a_photo() {
        let text = "cunjie://household/01935000-0000-7000-8000-000000002710";
        for (w, h, module) in [(1200, 900, 8), (2000, 1500, 12), (640, 480, 4)] {
            let jpeg = photo_of_qr(text, w, h, module);
            assert_eq!(
                read_qr(&jpeg, &Limits::default()).map_err(|e| e.code()),
                Ok(text.to_owned()),
                "{w}×{h}, {module} px modules"
            );
        }
    }

    #[test]
    fn says_so_when_there_is_no_code_and_refuses_what_is_no_photo() {
        let blank = RgbImage::from_pixel(800, 600, Rgb([200, 180, 160]));
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 80)
            .encode_image(&blank)
            .expect("encodes");
        assert_eq!(
            read_qr(&jpeg, &Limits::default()).map_err(|e| e.code()),
            Err("no_qr_code")
        );
        let code = photo_of_qr("x", 800, 600, 6);
        assert!(
            matches!(
                read_qr(&code[..code.len() / 2], &Limits::default()),
                Err(MediaError::Truncated { .. })
            ),
            "a cut file"
        );
        assert_eq!(
            read_qr(b"", &Limits::default()).map_err(|e| e.code()),
            Err("empty")
        );
        assert_eq!(
            read_qr(b"<html>", &Limits::default()).map_err(|e| e.code()),
            Err("not_an_image")
        );
    }
}
