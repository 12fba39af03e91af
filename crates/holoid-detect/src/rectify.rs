//! What a verifier takes from a photo besides the verdict: the card cut out and straightened
//! (the start of a digital copy), and the locator its code carries (which credential to check
//! it against, before any key is known).

use image::RgbImage;

use super::locate::LocateError;
use super::{Timings, find_code, sample};
use holoid_core::code::Locator;
use holoid_core::homography::Homography;
use holoid_core::layout::{CARD_HEIGHT, CARD_WIDTH};

/// The size a card is straightened to for a digital copy: the design's 1080 × 2340 at half
/// scale (what the service and the console's WebAssembly reader both make).
pub const CARD_IMAGE_SIZE: (u32, u32) = (540, 1170);

/// Where the design's points lie in a card [`rectify`] straightened at `width` × `height`
/// (each pixel's centre is at its design point; pixel centres at whole coordinates, as
/// [`sample`] reads them).
pub fn straightened(width: u32, height: u32) -> Homography {
    let (w, h) = (f64::from(width) - 0.5, f64::from(height) - 0.5);
    let (cw, ch) = (f64::from(CARD_WIDTH), f64::from(CARD_HEIGHT));
    Homography::from_points(
        [[0.0, 0.0], [cw, 0.0], [0.0, ch], [cw, ch]],
        [[-0.5, -0.5], [w, -0.5], [-0.5, h], [w, h]],
    )
    .expect("a rectangle's corners make a homography")
}

/// The card in `photo`, found by its marks and resampled straight at `width` × `height`
/// (bilinear; pixels outside the photo are black). Where the card is larger in the photo than
/// the output, each output pixel averages n × n bilinear samples (n the photo's pixels per
/// output pixel, rounded up, at most 4), so fine lettering is not aliased.
pub fn rectify(photo: &RgbImage, width: u32, height: u32) -> Result<RgbImage, LocateError> {
    let grey = sample::grey(photo);
    let (located, _) = find_code(&grey, &mut Timings::default());
    let to_image = located?.to_image;
    let (width, height) = (width.max(1), height.max(1));
    let (sx, sy) = (
        f64::from(CARD_WIDTH) / f64::from(width),
        f64::from(CARD_HEIGHT) / f64::from(height),
    );
    // Photo pixels per output pixel at the card's middle, across and down.
    let middle = [f64::from(CARD_WIDTH) / 2.0, f64::from(CARD_HEIGHT) / 2.0];
    let at = |d: [f64; 2]| to_image.apply(d);
    let (p0, px, py) = (
        at(middle),
        at([middle[0] + sx, middle[1]]),
        at([middle[0], middle[1] + sy]),
    );
    let step = (px[0] - p0[0])
        .hypot(px[1] - p0[1])
        .max((py[0] - p0[0]).hypot(py[1] - p0[1]));
    let n = if step.is_finite() {
        step.ceil().clamp(1.0, 4.0) as u32
    } else {
        1
    };
    let fine = warp(
        photo,
        &to_image.0,
        width * n,
        height * n,
        sx / f64::from(n),
        sy / f64::from(n),
    );
    Ok(box_down(fine, n))
}

/// `img` with each `n` × `n` block averaged into one pixel (rounded); `img` itself when `n`
/// is 1. Its sides must be multiples of `n`.
fn box_down(img: RgbImage, n: u32) -> RgbImage {
    if n == 1 {
        return img;
    }
    let (w, h) = (img.width() / n, img.height() / n);
    // n is at most 4: the area is exact in f32.
    let area = (n * n) as f32;
    RgbImage::from_fn(w, h, |x, y| {
        let mut sum = [0f32; 3];
        for dy in 0..n {
            for dx in 0..n {
                let p = img.get_pixel(x * n + dx, y * n + dy).0;
                for c in 0..3 {
                    sum[c] += f32::from(p[c]);
                }
            }
        }
        image::Rgb(sum.map(|v| (v / area).round().clamp(0.0, 255.0) as u8))
    })
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
    /// Averaging blocks: a one-pixel checkerboard halved is even grey, not one of its colours
    /// (what point sampling would give: aliased lettering).
    #[test]
    fn box_down_averages_blocks() {
        let board = RgbImage::from_fn(8, 6, |x, y| {
            if (x + y) % 2 == 0 {
                Rgb([255; 3])
            } else {
                Rgb([0; 3])
            }
        });
        let half = box_down(board.clone(), 2);
        assert_eq!(half.dimensions(), (4, 3));
        assert!(
            half.pixels().all(|p| p.0 == [128; 3]),
            "{:?}",
            half.pixels().next()
        );
        assert_eq!(box_down(board.clone(), 1), board);
    }

    /// The straightened card's homography puts each pixel's centre at the design point
    /// `rectify` sampled it from.
    #[test]
    fn straightened_maps_design_points_to_pixel_centres() {
        let (w, h) = CARD_IMAGE_SIZE;
        let to_image = straightened(w, h);
        let (sx, sy) = (
            f64::from(CARD_WIDTH) / f64::from(w),
            f64::from(CARD_HEIGHT) / f64::from(h),
        );
        for (x, y) in [(0u32, 0u32), (17, 403), (w - 1, h - 1), (270, 585)] {
            let p = to_image.apply([(f64::from(x) + 0.5) * sx, (f64::from(y) + 0.5) * sy]);
            assert!(
                (p[0] - f64::from(x)).abs() < 1e-9 && (p[1] - f64::from(y)).abs() < 1e-9,
                "{p:?}"
            );
        }
    }

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
