//! What a verifier takes from a photo besides the verdict: the card cut out and straightened
//! (the start of a digital copy), and the locator its code carries (which credential to check
//! it against, before any key is known).

use image::RgbImage;

use super::locate::LocateError;
use super::{Timings, find_code, sample};
use holoid_core::code::Locator;
use holoid_core::layout::{CARD_HEIGHT, CARD_WIDTH};

/// The card in `photo`, found by its marks and resampled straight at `width` × `height`
/// (bilinear; pixels outside the photo are black).
pub fn rectify(photo: &RgbImage, width: u32, height: u32) -> Result<RgbImage, LocateError> {
    let grey = sample::grey(photo);
    let (located, _) = find_code(&grey, &mut Timings::default());
    let to_image = located?.to_image;
    let (sx, sy) = (
        f64::from(CARD_WIDTH) / f64::from(width.max(1)),
        f64::from(CARD_HEIGHT) / f64::from(height.max(1)),
    );
    Ok(warp(photo, &to_image.0, width, height, sx, sy))
}

/// `photo` resampled through the homography `h` (design coordinates → photo pixels) at
/// `width` × `height`, each output pixel's design point at its centre scaled by (`sx`, `sy`);
/// bilinear, black outside the photo. The same arithmetic as [`sample::rgb`] at
/// `Homography::apply`'s point, in one pass over the rows: the card of every genuine check is
/// straightened on the check's path.
fn warp(photo: &RgbImage, h: &[f64; 9], width: u32, height: u32, sx: f64, sy: f64) -> RgbImage {
    let (pw, ph) = (photo.width() as usize, photo.height() as usize);
    let src = photo.as_raw();
    let mut out = vec![0u8; width as usize * height as usize * 3];
    for (y, row) in out.chunks_exact_mut(width as usize * 3).enumerate() {
        let dy = (y as f64 + 0.5) * sy;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let dx = (x as f64 + 0.5) * sx;
            let w = h[6] * dx + h[7] * dy + h[8];
            let (u, v) = (
                (h[0] * dx + h[1] * dy + h[2]) / w,
                (h[3] * dx + h[4] * dy + h[5]) / w,
            );
            if !(u >= 0.0 && v >= 0.0 && u + 1.0 < pw as f64 && v + 1.0 < ph as f64) {
                continue;
            }
            let (fu, fv) = (u.floor(), v.floor());
            let (x0, y0) = (fu as usize, fv as usize);
            let (fx, fy) = ((u - fu) as f32, (v - fv) as f32);
            let i = (y0 * pw + x0) * 3;
            let j = i + pw * 3;
            for c in 0..3 {
                let (a, b) = (f32::from(src[i + c]), f32::from(src[i + 3 + c]));
                let (d0, d1) = (f32::from(src[j + c]), f32::from(src[j + 3 + c]));
                let top = a + (b - a) * fx;
                let bottom = d0 + (d1 - d0) * fx;
                px[c] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    RgbImage::from_raw(width, height, out).expect("the buffer is width × height × 3")
}

/// The locator in the code of the card in `photo`, when the code can be read (its tag is not
/// checked: that needs the credential's key).
pub fn read_locator(photo: &RgbImage) -> Option<Locator> {
    let grey = sample::grey(photo);
    let (_, decoded) = find_code(&grey, &mut Timings::default());
    decoded.ok().map(|d| d.payload.locator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// The one-pass warp gives exactly what sampling each pixel through `Homography::apply`
    /// and `sample::rgb` gives.
    #[test]
    fn the_warp_matches_per_pixel_sampling() {
        let photo = RgbImage::from_fn(97, 131, |x, y| {
            Rgb([(x * 7 + y * 3) as u8, (x * y) as u8, (255 - x - y) as u8])
        });
        let h = holoid_core::homography::Homography([
            0.09, 0.004, 3.5, -0.006, 0.11, 2.25, 0.00002, -0.00001, 1.0,
        ]);
        let (w, ht, sx, sy) = (60, 90, 17.0, 13.0);
        let fast = warp(&photo, &h.0, w, ht, sx, sy);
        let slow = RgbImage::from_fn(w, ht, |x, y| {
            let [u, v] = h.apply([(f64::from(x) + 0.5) * sx, (f64::from(y) + 0.5) * sy]);
            sample::rgb(&photo, u, v).map_or(Rgb([0, 0, 0]), |c| {
                Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8))
            })
        });
        assert_eq!(fast, slow);
        assert!(
            fast.pixels().any(|p| p.0 == [0, 0, 0]),
            "some of the output falls outside"
        );
        assert!(fast.pixels().filter(|p| p.0 != [0, 0, 0]).count() > 1000);
    }
}
