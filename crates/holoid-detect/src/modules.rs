//! Reading the code's data modules through a found homography.

use image::GrayImage;

use super::sample::luma;
use holoid_core::code::geometry::{CodeGeometry, GRID_COLS, GRID_ROWS, MODULE_COUNT};
use holoid_core::homography::Homography;

/// Half-width (columns) and half-height (rows) of the neighbourhood a module is compared with.
const NEAR: (usize, usize) = (3, 2);

/// How close to the threshold (as a share of the neighbourhood's range) a module reads as
/// unknown in [`read_modules`].
pub const UNSURE: f32 = 1.0 / 6.0;

/// Reads the code's data modules: samples each module centre through `to_image` (design
/// units to image pixels) and compares it with the mean of the modules around it (7 × 5; the
/// whitened code is about half dark everywhere), so glare or vignetting across the code does
/// not move the threshold. Each module's level is how much darker than that mean it is, as a
/// share of the neighbourhood's range (above zero: dark; near zero: unsure); `None` outside
/// the image. [`holoid_core::code::decode_levels`] decodes them.
pub fn read_module_levels(img: &GrayImage, to_image: &Homography) -> Vec<Option<f32>> {
    let g = CodeGeometry::STANDARD;
    // Samples laid out by grid cell.
    let mut cells = [[None::<f32>; GRID_COLS]; GRID_ROWS];
    for i in 0..MODULE_COUNT {
        let (c, r) = CodeGeometry::module_cell(i);
        let [x, y] = g.module_rect(i).center();
        let [u, v] = to_image.apply([f64::from(x), f64::from(y)]);
        cells[r][c] = luma(img, u, v);
    }
    (0..MODULE_COUNT)
        .map(|i| {
            let (c, r) = CodeGeometry::module_cell(i);
            let v = cells[r][c]?;
            let (mut sum, mut n, mut lo, mut hi) = (0.0f32, 0u32, f32::MAX, f32::MIN);
            for row in cells
                .iter()
                .take((r + NEAR.1 + 1).min(GRID_ROWS))
                .skip(r.saturating_sub(NEAR.1))
            {
                for s in row
                    .iter()
                    .take((c + NEAR.0 + 1).min(GRID_COLS))
                    .skip(c.saturating_sub(NEAR.0))
                    .flatten()
                {
                    sum += s;
                    n += 1;
                    lo = lo.min(*s);
                    hi = hi.max(*s);
                }
            }
            let mean = sum / n as f32;
            Some((mean - v) / (hi - lo).max(1e-3))
        })
        .collect()
}

/// [`read_module_levels`] decided: dark when above zero; within [`UNSURE`] of zero, unknown
/// (an erasure, which the Reed–Solomon code repairs at half the cost of an error), as are
/// modules outside the image.
pub fn read_modules(img: &GrayImage, to_image: &Homography) -> Vec<Option<bool>> {
    read_module_levels(img, to_image)
        .into_iter()
        .map(|l| l.filter(|l| l.abs() >= UNSURE).map(|l| l > 0.0))
        .collect()
}
