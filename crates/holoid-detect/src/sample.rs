//! Bilinear sampling of photos at sub-pixel positions, for reading the card through a
//! homography.

use holoid_core::colour::linear_levels;
use image::{GrayImage, RgbImage};

/// The four neighbours of (`x`, `y`) and the fractional offsets, or `None` unless all four
/// lie inside a `width` × `height` image.
fn cell(width: u32, height: u32, x: f64, y: f64) -> Option<(u32, u32, f32, f32)> {
    if !(x >= 0.0 && y >= 0.0 && x + 1.0 < f64::from(width) && y + 1.0 < f64::from(height)) {
        return None;
    }
    // Both are at least 0, so truncation is the floor (and needs no library call).
    let (x0, y0) = (x as u32, y as u32);
    Some((x0, y0, (x - f64::from(x0)) as f32, (y - f64::from(y0)) as f32))
}

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
pub fn luma(img: &GrayImage, x: f64, y: f64) -> Option<f32> {
    let (x0, y0, fx, fy) = cell(img.width(), img.height(), x, y)?;
    let p = |x, y| f32::from(img.get_pixel(x, y)[0]);
    Some(mix(
        p(x0, y0),
        p(x0 + 1, y0),
        p(x0, y0 + 1),
        p(x0 + 1, y0 + 1),
        fx,
        fy,
    ))
}

/// Bilinear colour at (`x`, `y`), 0..255 per channel, or `None` outside the image.
pub fn rgb(img: &RgbImage, x: f64, y: f64) -> Option<[f32; 3]> {
    rgb_of(img, x, y, f32::from)
}

/// Bilinear interpolation at (`x`, `y`) of `value` of each pixel's channels, or `None`
/// outside the image.
fn rgb_of(img: &RgbImage, x: f64, y: f64, value: impl Fn(u8) -> f32) -> Option<[f32; 3]> {
    let (x0, y0, fx, fy) = cell(img.width(), img.height(), x, y)?;
    // The four neighbours read once each (not once per channel).
    let [a, b, c, d] =
        [(x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)].map(|(x, y)| img.get_pixel(x, y).0);
    Some(std::array::from_fn(|ch| {
        mix(value(a[ch]), value(b[ch]), value(c[ch]), value(d[ch]), fx, fy)
    }))
}

/// The linear light (0..1) of an sRGB value `v` (0..255, fractional: a bilinear sample),
/// interpolated in a table of the 256 levels.
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
