//! Reading the code's data modules through a found homography.

use image::GrayImage;

use super::sample::luma;
use crate::code::geometry::{CodeGeometry, MODULE_COUNT};
use crate::homography::Homography;

/// Reads the code's data modules: samples each module centre through `to_image` (design
/// units to image pixels) and splits dark from light at the midpoint of the darkest and
/// lightest quarters. Modules outside the image read as unknown (erasures).
pub fn read_modules(img: &GrayImage, to_image: &Homography) -> Vec<Option<bool>> {
    let g = CodeGeometry::STANDARD;
    let samples: Vec<Option<f32>> = (0..MODULE_COUNT)
        .map(|i| {
            let [x, y] = g.module_rect(i).center();
            let [u, v] = to_image.apply([f64::from(x), f64::from(y)]);
            luma(img, u, v)
        })
        .collect();
    let mut known: Vec<f32> = samples.iter().flatten().copied().collect();
    if known.len() < 8 {
        return vec![None; MODULE_COUNT];
    }
    known.sort_by(f32::total_cmp);
    let q = known.len() / 4;
    let threshold = (known[q] + known[known.len() - 1 - q]) / 2.0;
    samples.iter().map(|s| s.map(|v| v < threshold)).collect()
}
