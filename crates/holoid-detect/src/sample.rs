//! Bilinear sampling of photos at sub-pixel positions, for reading the card through a
//! homography.

use holoid_core::colour::linear_levels;
use holoid_core::homography::Homography;
use image::{GrayImage, RgbImage};

/// The four neighbours of (`x`, `y`) and the fractional offsets, or `None` unless all four
/// lie inside a `width` × `height` image.
#[inline]
fn cell(width: u32, height: u32, x: f64, y: f64) -> Option<(u32, u32, f32, f32)> {
    if !(x >= 0.0 && y >= 0.0 && x + 1.0 < f64::from(width) && y + 1.0 < f64::from(height)) {
        return None;
    }
    // Both are at least 0, so truncation is the floor (and needs no library call).
    let (x0, y0) = (x as u32, y as u32);
    Some((x0, y0, (x - f64::from(x0)) as f32, (y - f64::from(y0)) as f32))
}

#[inline]
fn mix(a: f32, b: f32, c: f32, d: f32, fx: f32, fy: f32) -> f32 {
    let top = a + (b - a) * fx;
    let bottom = c + (d - c) * fx;
    top + (bottom - top) * fy
}

/// The photo's luma (Rec. 601 weights, integer arithmetic): what the locator, the code
/// reader and the sweep reader work on.
pub fn grey(img: &RgbImage) -> GrayImage {
    let raw = img.as_raw();
    let mut data = vec![0u8; raw.len() / 3];
    for (g, p) in data.iter_mut().zip(raw.chunks_exact(3)) {
        *g = ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8) as u8;
    }
    GrayImage::from_raw(img.width(), img.height(), data).expect("one byte per pixel")
}

/// Bilinear luma at (`x`, `y`), or `None` outside the image (or at a NaN position).
#[inline]
pub fn luma(img: &GrayImage, x: f64, y: f64) -> Option<f32> {
    let (x0, y0, fx, fy) = cell(img.width(), img.height(), x, y)?;
    // The four neighbours straight from the pixel rows (`cell` checked they are inside).
    let w = img.width() as usize;
    let i = y0 as usize * w + x0 as usize;
    let raw = img.as_raw();
    let (top, bottom) = (&raw[i..i + 2], &raw[i + w..i + w + 2]);
    Some(mix(
        f32::from(top[0]),
        f32::from(top[1]),
        f32::from(bottom[0]),
        f32::from(bottom[1]),
        fx,
        fy,
    ))
}

/// The images through `to_image` of `n` points along a line: `first`, `first + step`, …
/// (design units). The homography's numerators and denominator are affine along the line,
/// so a point costs a few additions and one division rather than a full projection.
pub fn along(
    to_image: &Homography,
    first: [f64; 2],
    step: [f64; 2],
    n: usize,
) -> impl Iterator<Item = [f64; 2]> + use<> {
    let h = to_image.0;
    let row = |k: usize, p: [f64; 2]| h[3 * k] * p[0] + h[3 * k + 1] * p[1];
    let start = [0, 1, 2].map(|k| row(k, first) + h[3 * k + 2]);
    let delta = [0, 1, 2].map(|k| row(k, step));
    (0..n).map(move |i| {
        let t = i as f64;
        let w = 1.0 / (start[2] + t * delta[2]);
        [(start[0] + t * delta[0]) * w, (start[1] + t * delta[1]) * w]
    })
}

/// Bilinear luma at the images of `n` points along a line (see [`along`]), each `None`
/// outside the photo.
pub fn luma_along<'a>(
    img: &'a GrayImage,
    to_image: &Homography,
    first: [f64; 2],
    step: [f64; 2],
    n: usize,
) -> impl Iterator<Item = Option<f32>> + 'a {
    along(to_image, first, step, n).map(|[x, y]| luma(img, x, y))
}

/// Bilinear colour at (`x`, `y`), 0..255 per channel, or `None` outside the image.
pub fn rgb(img: &RgbImage, x: f64, y: f64) -> Option<[f32; 3]> {
    rgb_of(img, x, y, f32::from)
}

/// Bilinear interpolation at (`x`, `y`) of `value` of each pixel's channels, or `None`
/// outside the image.
fn rgb_of(img: &RgbImage, x: f64, y: f64, value: impl Fn(u8) -> f32) -> Option<[f32; 3]> {
    let (x0, y0, fx, fy) = cell(img.width(), img.height(), x, y)?;
    // The four neighbours read once each (not once per channel), straight from the rows.
    let w = img.width() as usize;
    let i = 3 * (y0 as usize * w + x0 as usize);
    let raw = img.as_raw();
    let (top, bottom) = (&raw[i..i + 6], &raw[i + 3 * w..i + 3 * w + 6]);
    Some(std::array::from_fn(|ch| {
        mix(
            value(top[ch]),
            value(top[3 + ch]),
            value(bottom[ch]),
            value(bottom[3 + ch]),
            fx,
            fy,
        )
    }))
}

/// The linear light (0..1) of an sRGB value `v` (0..255, fractional: a bilinear sample),
/// interpolated in a table of the 256 levels.
#[inline]
pub fn level_to_linear(v: f32) -> f32 {
    let lin = linear_levels();
    let v = v.clamp(0.0, 255.0);
    let i = (v as usize).min(254);
    lin[i] + (lin[i + 1] - lin[i]) * (v - i as f32)
}

/// Bilinear colour at (`x`, `y`) as linear light (0..1 per channel), interpolated between
/// the pixels' light, or `None` outside the image.
pub fn rgb_linear(img: &RgbImage, x: f64, y: f64) -> Option<[f32; 3]> {
    let lin = linear_levels();
    rgb_of(img, x, y, |v| lin[usize::from(v)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_along_a_line_is_luma_at_each_point() {
        let img = GrayImage::from_fn(64, 48, |x, y| image::Luma([((x * 7 + y * 13) % 251) as u8]));
        let h = Homography([0.9, 0.1, 3.0, -0.05, 1.1, 2.0, 0.0004, -0.0003, 1.0]);
        let (first, step) = ([1.5, 7.25], [1.75, 0.5]);
        let along: Vec<Option<f32>> = luma_along(&img, &h, first, step, 40).collect();
        for (i, got) in along.iter().enumerate() {
            let p = [first[0] + i as f64 * step[0], first[1] + i as f64 * step[1]];
            let [x, y] = h.apply(p);
            match (got, luma(&img, x, y)) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-3, "{i}: {a} vs {b}"),
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "{i}: {a:?} vs {b:?}"),
            }
        }
        // The line leaves the photo: those points are None.
        assert!(along.iter().any(Option::is_none) && along.iter().any(Option::is_some));
    }

    #[test]
    fn interpolates_inside_and_refuses_outside() {
        let img = GrayImage::from_fn(4, 4, |x, _| image::Luma([(x * 10) as u8]));
        assert_eq!(luma(&img, 1.5, 1.0), Some(15.0));
        assert_eq!(luma(&img, 3.0, 1.0), None);
        assert_eq!(luma(&img, -0.1, 1.0), None);
        assert_eq!(luma(&img, f64::NAN, 1.0), None);
        let c = RgbImage::from_fn(4, 4, |x, y| image::Rgb([(x * 10) as u8, (y * 20) as u8, 7]));
        assert_eq!(rgb(&c, 0.5, 0.5), Some([5.0, 10.0, 7.0]));
        let lin = rgb_linear(&c, 1.0, 1.0).unwrap();
        assert!(
            (lin[1] - holoid_core::colour::srgb_to_linear(20.0 / 255.0)).abs() < 1e-6,
            "{lin:?}"
        );
        assert_eq!(rgb_linear(&c, 3.5, 0.0), None);
        for v in [0.0f32, 10.0, 127.5, 200.25, 255.0] {
            let exact = holoid_core::colour::srgb_to_linear(v / 255.0);
            assert!(
                (level_to_linear(v) - exact).abs() < 2e-3,
                "{v}: {} vs {exact}",
                level_to_linear(v)
            );
        }
    }
}
