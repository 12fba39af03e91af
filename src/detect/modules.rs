//! Reading the code's data modules through a found homography.

use image::GrayImage;

use super::sample::luma;
use crate::code::geometry::{CodeGeometry, GRID_COLS, GRID_ROWS, MODULE_COUNT};
use crate::homography::Homography;

/// Half-width (columns) and half-height (rows) of the neighbourhood a module is compared with.
const NEAR: (usize, usize) = (3, 2);

/// Reads the code's data modules: samples each module centre through `to_image` (design
/// units to image pixels) and calls it dark when it is darker than the mean of the modules
/// around it (7 × 5; the whitened code is about half dark everywhere), so glare or vignetting
/// across the code does not move the threshold. A module within a sixth of the neighbourhood's
/// range of that mean is unsure and reads as unknown (an erasure, which the Reed–Solomon code
/// repairs at half the cost of an error), as do modules outside the image.
pub fn read_modules(img: &GrayImage, to_image: &Homography) -> Vec<Option<bool>> {
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
            ((v - mean).abs() >= (hi - lo) / 6.0).then_some(v < mean)
        })
        .collect()
}
