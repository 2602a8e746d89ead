//! Downscaling RGB8 buffers with `fast_image_resize` (Catmull-Rom convolution, SIMD on x86-64
//! and aarch64 NEON, one thread). Measured by `benches/derivative.rs` on one core, 4000×3000 →
//! 1600×1200: about 25–30 ms, against 320–450 ms for `image::imageops::resize` with `Triangle`
//! (which also keeps an f32 copy of the picture). Its Bilinear filter is hardly faster, so the
//! sharper Catmull-Rom it is.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::MediaError;

/// The size that fits `(w, h)` into a square of `long_edge`, keeping the aspect ratio and never
/// enlarging. Each side is at least 1.
pub(crate) fn fit(w: u32, h: u32, long_edge: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= long_edge {
        return (w, h);
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
    };
    (scale(w), scale(h))
}

/// `img` scaled to fit `long_edge` (a copy; the input is unchanged). Returns the input itself
/// when it already fits.
pub(crate) fn downscale(img: RgbImage, long_edge: u32) -> Result<RgbImage, MediaError> {
    let (w, h) = img.dimensions();
    let (tw, th) = fit(w, h, long_edge);
    if (tw, th) == (w, h) {
        return Ok(img);
    }
    let src = ImageRef::new(w, h, img.as_raw(), PixelType::U8x3)
        .map_err(|e| MediaError::Encode(format!("resize source: {e}")))?;
    let mut dst = Image::new(tw, th, PixelType::U8x3);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom)),
        )
        .map_err(|e| MediaError::Encode(format!("resize: {e}")))?;
    RgbImage::from_raw(tw, th, dst.into_vec())
        .ok_or_else(|| MediaError::Encode("resize gave a buffer of the wrong size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_enlarges() {
        assert_eq!(fit(4000, 3000, 1600), (1600, 1200), "landscape");
        assert_eq!(fit(3000, 4000, 1600), (1200, 1600), "portrait");
        assert_eq!(fit(800, 600, 1600), (800, 600), "small stays small");
        assert_eq!(fit(1600, 1200, 1600), (1600, 1200), "exact fit unchanged");
        assert_eq!(fit(10_000, 3, 320), (320, 1), "a side never becomes 0");
        assert_eq!(fit(4032, 3024, 1600), (1600, 1200), "a 12 MP phone sensor");
    }

    #[test]
    fn downscale_averages() {
        let img = RgbImage::from_fn(400, 200, |x, _| {
            if x % 2 == 0 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([200, 200, 200])
            }
        });
        let small = downscale(img, 100).expect("resize");
        assert_eq!(small.dimensions(), (100, 50), "fits 100");
        let v = small.get_pixel(50, 25).0[0];
        assert!((80..=120).contains(&v), "stripes average to grey, got {v}");
    }
}
