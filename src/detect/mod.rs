//! The forgery detector (issue 5, in progress). So far: [`locate`], finding the card in a
//! photo by its corner marks. CPU only; no GPU types.

pub mod locate;

use image::GrayImage;

use crate::code::geometry::{CodeGeometry, MODULE_COUNT};
use crate::simulate::homography::Homography;

/// Bilinear luma at (`x`, `y`), or `None` outside the image.
fn luma(img: &GrayImage, x: f64, y: f64) -> Option<f32> {
    if x < 0.0 || y < 0.0 || x + 1.0 >= f64::from(img.width()) || y + 1.0 >= f64::from(img.height()) {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = ((x - x.floor()) as f32, (y - y.floor()) as f32);
    let p = |x, y| f32::from(img.get_pixel(x, y)[0]);
    let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
    let bottom = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
    Some(top * (1.0 - fy) + bottom * fy)
}

/// Reads the code's data modules: samples each module centre through `to_image` (design
/// units to image pixels) and splits dark from light at the midpoint of the darkest and
/// lightest quarters. Modules outside the image read as unknown.
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
