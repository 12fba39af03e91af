//! The phone display as a light source: each pixel is lit subpixels (an RGB stripe or a
//! diamond/PenTile-like layout) separated by a black matrix, after the panel's gamma. A
//! camera that samples this pattern finely enough sees the grid; one that does not sees it
//! alias, as real photos of screens do.

use image::RgbaImage;
use serde::{Deserialize, Serialize};

pub use holoid_core::colour::{linear_to_srgb, srgb_to_linear};

/// A frame in linear light, as the panel emits it (before the subpixel structure).
#[derive(Clone, Debug)]
pub struct LinearFrame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major linear RGB.
    pub pixels: Vec<[f32; 3]>,
}

impl LinearFrame {
    /// Decodes an sRGB frame (the renderer's output).
    pub fn from_srgb(img: &RgbaImage) -> LinearFrame {
        let lut = holoid_core::colour::linear_levels();
        let pixels = img
            .pixels()
            .map(|p| [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]])
            .collect();
        LinearFrame {
            width: img.width(),
            height: img.height(),
            pixels,
        }
    }

    /// An image shown full-screen on a panel of `width` × `height` pixels (a screenshot or a
    /// photo re-displayed by an attacker): resampled to the panel, letterboxed in black.
    pub fn reshown(img: &image::RgbImage, width: u32, height: u32) -> LinearFrame {
        let scale =
            (f64::from(width) / f64::from(img.width())).min(f64::from(height) / f64::from(img.height()));
        let (w, h) = (
            ((f64::from(img.width()) * scale).round() as u32).clamp(1, width),
            ((f64::from(img.height()) * scale).round() as u32).clamp(1, height),
        );
        let resized = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
        let mut canvas = RgbaImage::from_pixel(width, height, image::Rgba([0, 0, 0, 255]));
        let (ox, oy) = ((width - w) / 2, (height - h) / 2);
        for (x, y, p) in resized.enumerate_pixels() {
            canvas.put_pixel(x + ox, y + oy, image::Rgba([p[0], p[1], p[2], 255]));
        }
        LinearFrame::from_srgb(&canvas)
    }

    fn at(&self, x: i64, y: i64) -> [f32; 3] {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return [0.0; 3];
        }
        self.pixels[y as usize * self.width as usize + x as usize]
    }
}

/// `x.floor()` without the libm call that `f64::floor` becomes on x86-64 targets without
/// SSE4.1 (the simulator's inner loops call it tens of millions of times a frame). Exact for
/// |x| < 2⁶³.
#[inline]
pub(crate) fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x { t - 1.0 } else { t }
}

/// How the subpixels of one pixel are arranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubpixelLayout {
    /// Three vertical stripes, red, green, blue (most LCDs and many OLED monitors).
    RgbStripe,
    /// Diamond PenTile-like OLED: every pixel has a green subpixel; red and blue alternate in
    /// a checkerboard, each shown at twice the intensity so the mean is kept.
    Diamond,
}

/// A display panel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Display {
    /// Subpixel arrangement.
    pub layout: SubpixelLayout,
    /// Share of each subpixel's cell that emits (the rest is black matrix), 0.3..1 (a
    /// diamond emits at most half of its cell).
    pub fill: f32,
    /// Brightness relative to the camera's nominal exposure (1.0: white reads as white).
    pub brightness: f32,
}

impl Display {
    /// Emitted linear radiance at screen position (`x`, `y`) in pixels (continuous; pixel
    /// (i, j) covers [i, i+1) × [j, j+1)).
    pub fn radiance(&self, frame: &LinearFrame, x: f64, y: f64) -> [f32; 3] {
        let (xf, yf) = (floor(x), floor(y));
        let (i, j) = (xf as i64, yf as i64);
        let (fx, fy) = ((x - xf) as f32, (y - yf) as f32);
        let p = frame.at(i, j);
        match self.layout {
            SubpixelLayout::RgbStripe => {
                // Each stripe's cell (a third of the pixel) emits over a centred square share
                // `fill` of its area.
                let margin = (1.0 - self.fill.sqrt()) / 2.0;
                let inside = |t: f32| t >= margin && t < 1.0 - margin;
                let gain = self.brightness / self.fill;
                let stripe = ((fx * 3.0) as usize).min(2);
                let t = fx * 3.0 - stripe as f32;
                if !(inside(t) && inside(fy)) {
                    return [0.0; 3];
                }
                let mut out = [0.0; 3];
                out[stripe] = p[stripe] * gain * 3.0;
                out
            }
            SubpixelLayout::Diamond => {
                // Left half of each pixel: a red or blue diamond (checkerboard); right half: a
                // green one. A diamond spans `s` of its half-cell in x and y (s² / 2 of its area
                // emits, at most a half), and is driven to keep the pixel's mean.
                let half = usize::from(fx >= 0.5);
                let cx = if half == 0 { 0.25 } else { 0.75 };
                let s = (2.0 * self.fill).min(1.0).sqrt();
                if (fx - cx).abs() / (0.25 * s) + (fy - 0.5).abs() / (0.5 * s) > 1.0 {
                    return [0.0; 3];
                }
                let lit = 0.25 * s * s;
                let mut out = [0.0; 3];
                if half == 1 {
                    out[1] = p[1] * self.brightness / lit;
                } else {
                    let c = if (i + j).rem_euclid(2) == 0 { 0 } else { 2 };
                    out[c] = p[c] * self.brightness * 2.0 / lit;
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean radiance over one pixel, sampled finely, equals the pixel's value (times the
    /// brightness): the subpixel structure keeps the mean.
    #[test]
    fn subpixels_keep_the_mean() {
        let img = RgbaImage::from_fn(4, 4, |_, _| image::Rgba([200, 120, 40, 255]));
        let frame = LinearFrame::from_srgb(&img);
        for layout in [SubpixelLayout::RgbStripe, SubpixelLayout::Diamond] {
            let d = Display {
                layout,
                fill: 0.6,
                brightness: 1.0,
            };
            // Fine enough that each subpixel edge is resolved to well under 1 %.
            let n = 1200;
            let mut sum = [0.0f64; 3];
            for a in 0..n {
                for b in 0..n {
                    // Two pixels across, so the diamond's red/blue checkerboard averages out.
                    let r = d.radiance(
                        &frame,
                        1.0 + 2.0 * (a as f64 + 0.5) / n as f64,
                        1.0 + (b as f64 + 0.5) / n as f64,
                    );
                    for c in 0..3 {
                        sum[c] += f64::from(r[c]);
                    }
                }
            }
            for (c, total) in sum.iter().enumerate() {
                let mean = total / (n * n) as f64;
                let want = f64::from(frame.pixels[0][c]);
                assert!(
                    (mean - want).abs() / want < 0.02,
                    "{layout:?} channel {c}: {mean} vs {want}"
                );
            }
        }
    }
}
