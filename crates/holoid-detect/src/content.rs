//! The content check: does the portrait on the photographed card look like the portrait the
//! credential names? A cloned device key makes valid tags, so a card with another face passes
//! every cryptographic check; this is what catches it.
//!
//! The portrait region is cut into a coarse grid of cells (12 × 16); each cell's mean colour
//! is taken from the photo (through the homography, averaging a grid of points about one
//! pixel apart, at least 4 × 4, so fine lines drawn over the portrait average out in a sharp,
//! large photo as a camera's blur averages them in a small one) and from the credential's
//! portrait image, and the two are compared (see [`compare_portrait`]).
//! Coarse cells make the comparison indifferent to noise, moiré and JPEG. The camera's blur is
//! unknown (it smears the cells along every edge of the face), so the expected cells are made
//! from the portrait blurred by each of several amounts ([`BLURS`]) and the closest is used:
//! no blur turns another face's skin, hair and clothes into the credential's.

use image::RgbImage;

use super::sample::{along, rgb_linear};
use holoid_core::colour::{linear_of_level, linear_to_srgb};
use holoid_core::filter::gaussian_blur;
use holoid_core::homography::Homography;
use holoid_core::layout::{CardLayout, Rect};

const COLS: usize = 12;
const ROWS: usize = 16;
/// Points per cell side: at least this many, more for cells larger than this many pixels.
const MIN_SUB: usize = 4;
/// At most this many points per cell side (a cell 32 pixels or more across).
const MAX_SUB: usize = 32;
/// Margin inside the portrait rectangle left out (its frame and rounded corners), design units.
const INSET: f32 = 18.0;

fn cells() -> Rect {
    let p = CardLayout::STANDARD.portrait;
    Rect::new(p.x + INSET, p.y + INSET, p.w - 2.0 * INSET, p.h - 2.0 * INSET)
}

/// Points per cell side for cells `px` pixels across: about one a pixel, within
/// [`MIN_SUB`]..=[`MAX_SUB`].
fn sub_for(px: f64) -> usize {
    (px.ceil().max(0.0) as usize).clamp(MIN_SUB, MAX_SUB)
}

/// Mean colour per cell, as light (0..1) and as sRGB values (0..255).
#[derive(Clone, Debug, PartialEq)]
struct Cells {
    lin: Vec<[f32; 3]>,
    srgb: Vec<[f32; 3]>,
}

/// Mean light per cell, sampled at `sub` × `sub` points a cell, as a camera pixel gathers
/// it; `None` if any point is outside. The points lie on one lattice over the portrait,
/// read a row at a time: `row(first, step, n)` gives the light (0..1) at `first`, `first +
/// step`, … (`n` points, design units).
fn grid<I: Iterator<Item = Option<[f32; 3]>>>(
    sub: usize,
    row: impl Fn([f64; 2], [f64; 2], usize) -> I,
) -> Option<Cells> {
    let r = cells();
    let (across, down) = (COLS * sub, ROWS * sub);
    let (x0, y0, w, h) = (f64::from(r.x), f64::from(r.y), f64::from(r.w), f64::from(r.h));
    let step = [w / across as f64, 0.0];
    let mut sums = vec![[0.0f32; 3]; COLS * ROWS];
    for j in 0..down {
        let first = [x0 + 0.5 * step[0], y0 + (j as f64 + 0.5) / down as f64 * h];
        let cells_row = &mut sums[(j / sub) * COLS..(j / sub + 1) * COLS];
        for (i, v) in row(first, step, across).enumerate() {
            let v = v?;
            let sum = &mut cells_row[i / sub];
            (0..3).for_each(|k| sum[k] += v[k]);
        }
    }
    let lin: Vec<[f32; 3]> = sums
        .into_iter()
        .map(|s| s.map(|v| v / (sub * sub) as f32))
        .collect();
    let srgb = lin.iter().map(|c| c.map(|v| linear_to_srgb(v) * 255.0)).collect();
    Some(Cells { lin, srgb })
}

/// How many photo pixels a cell spans through `to_image` (the larger of its width and height,
/// measured across the portrait's middle).
fn cell_pixels(to_image: &Homography) -> f64 {
    let r = cells();
    let (x0, x1, y0, y1) = (
        f64::from(r.x),
        f64::from(r.x + r.w),
        f64::from(r.y),
        f64::from(r.y + r.h),
    );
    let (xm, ym) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let dist = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let across = dist(to_image.apply([x0, ym]), to_image.apply([x1, ym])) / COLS as f64;
    let down = dist(to_image.apply([xm, y0]), to_image.apply([xm, y1])) / ROWS as f64;
    across.max(down)
}

/// Gaussian blurs (σ, design units) the expected cells are made at: from none to what a
/// 3-pixel optics blur is on the smallest card the capture levels allow (~0.25 px per unit).
pub const BLURS: [f32; 5] = [0.0, 3.0, 6.0, 10.0, 15.0];

/// The expected cell colours of the credential's portrait, at each of [`BLURS`].
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    grids: Vec<Cells>,
}

/// The bytes of a [`Reference`]: each of [`BLURS`]' grids of `COLS` × `ROWS` cells (12 × 16),
/// row by row, each cell's linear light in R, G, B as `f32` little-endian.
pub const REFERENCE_BYTES: usize = BLURS.len() * COLS * ROWS * 3 * 4;

impl Reference {
    /// The reference as [`REFERENCE_BYTES`] bytes: what a verifier's device compares photos of
    /// the portrait with, without the portrait file (a 12 × 16 colour grid at each blur).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.grids
            .iter()
            .flat_map(|g| g.lin.iter().flatten())
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    /// The reference [`to_bytes`](Reference::to_bytes) wrote: exactly the same comparisons.
    pub fn from_bytes(bytes: &[u8]) -> Result<Reference, ReferenceError> {
        if bytes.len() != REFERENCE_BYTES {
            return Err(ReferenceError::Length { given: bytes.len() });
        }
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if values.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return Err(ReferenceError::Value);
        }
        let grids = values
            .chunks_exact(COLS * ROWS * 3)
            .map(|g| {
                let lin: Vec<[f32; 3]> = g.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
                // As `grid` derives them.
                let srgb = lin.iter().map(|c| c.map(|v| linear_to_srgb(v) * 255.0)).collect();
                Cells { lin, srgb }
            })
            .collect();
        Ok(Reference { grids })
    }
}

/// Why bytes are not a portrait [`Reference`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceError {
    /// Not [`REFERENCE_BYTES`] long.
    Length {
        /// Bytes given.
        given: usize,
    },
    /// A cell's light outside 0..1 (or not a number).
    Value,
}

impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReferenceError::Length { given } => {
                write!(f, "a portrait reference is {REFERENCE_BYTES} bytes, not {given}")
            }
            ReferenceError::Value => f.write_str("a portrait reference's cell is outside 0..1"),
        }
    }
}

impl std::error::Error for ReferenceError {}

/// The expected cells of a portrait image, as the renderer stretches it over the portrait
/// rectangle, blurred as a camera's optics would (in light, not in sRGB values).
pub fn reference(portrait: &RgbImage) -> Reference {
    let units_per_px = CardLayout::STANDARD.portrait.w / portrait.width().max(1) as f32;
    Reference {
        grids: BLURS
            .iter()
            .map(|&sigma| reference_grid(&blurred(portrait, sigma / units_per_px)))
            .collect(),
    }
}

/// `img` blurred by a Gaussian of `sigma` pixels, in linear light, edges clamped.
fn blurred(img: &RgbImage, sigma: f32) -> RgbImage {
    if sigma < 0.3 {
        return img.clone();
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut light: Vec<[f32; 3]> = img.pixels().map(|p| p.0.map(linear_of_level)).collect();
    gaussian_blur(&mut light, w, h, sigma);
    let data = light
        .iter()
        .flatten()
        .map(|&v| (linear_to_srgb(v) * 255.0).round() as u8)
        .collect();
    RgbImage::from_raw(w as u32, h as u32, data).expect("same size")
}

fn reference_grid(portrait: &RgbImage) -> Cells {
    let p = CardLayout::STANDARD.portrait;
    let (w, h) = (f64::from(portrait.width()), f64::from(portrait.height()));
    let sub = sub_for((w / COLS as f64).max(h / ROWS as f64));
    grid(sub, |first, step, n| {
        (0..n).map(move |i| {
            let [x, y] = [first[0] + i as f64 * step[0], first[1] + i as f64 * step[1]];
            let u = (x - f64::from(p.x)) / f64::from(p.w) * w - 0.5;
            let v = (y - f64::from(p.y)) / f64::from(p.h) * h - 0.5;
            rgb_linear(portrait, u.clamp(0.0, w - 1.001), v.clamp(0.0, h - 1.001))
        })
    })
    .expect("clamped points are inside")
}

/// How the photographed portrait compares with the credential's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PortraitComparison {
    /// Normalised cross-correlation of the cells, mean over R, G and B, -1..1: the layout of
    /// light and dark (any portrait photo has a similar one, so this alone cannot tell two
    /// faces apart).
    pub correlation: f32,
    /// Share of the cells compared, 0..1, whose colour differs from the expected one by more
    /// than [`CELL_TOLERANCE`] once the camera's gain per channel and the glare are taken out.
    pub cells_off: f32,
    /// The most glare found on the portrait: light added, as a share of the display's white.
    pub glare: f32,
    /// How colourful the portrait is against the credential's, whatever the camera's gain per
    /// channel (see [`saturation`]). About 1 on a screen without glare; a print's inks and a
    /// second camera and screen render colours less saturated, and glare does too (a gamut
    /// cue, reported and not used for the decision: a camera's own colour rendering moves
    /// it as well).
    pub saturation: f32,
}

/// How far (sRGB units of 0..255, Euclidean over R, G, B) a cell's colour may be from the
/// expected one and still count as the same.
pub const CELL_TOLERANCE: f32 = 28.0;

/// Compares the photographed portrait (through `to_image`) with the expected cells of
/// [`reference`].
///
/// Colours are compared as light: a display and a camera multiply each channel's light by a
/// gain (brightness, exposure, white balance, vignetting, all nearly constant over the
/// portrait), so the gain per channel is estimated as the median ratio of seen to expected
/// light over the cells and divided out; then each cell's colour is compared with the
/// expected one. Another face differs in skin, hair and clothes colours that no gain per
/// channel explains; glare (added light) spoils only the cells it covers. This is done
/// against each blur of the [`Reference`], and the closest is kept.
///
/// `None` when the portrait is not wholly in the photo or shows no contrast.
pub fn compare_portrait(
    photo: &RgbImage,
    to_image: &Homography,
    expected: &Reference,
) -> Option<PortraitComparison> {
    let seen = grid(sub_for(cell_pixels(to_image)), |first, step, n| {
        along(to_image, first, step, n).map(|[x, y]| rgb_linear(photo, x, y))
    })?;
    let mut best: Option<(PortraitComparison, &Cells)> = None;
    for grid in &expected.grids {
        let c = compare_cells(&seen, grid)?;
        if best.is_none_or(|(b, _)| c.cells_off < b.cells_off) {
            best = Some((c, grid));
        }
    }
    // Every figure to a thousandth, as reported and sent (see `evidence::thousandths`).
    use crate::evidence::thousandths;
    best.map(|(c, grid)| PortraitComparison {
        correlation: thousandths(c.correlation),
        cells_off: thousandths(c.cells_off),
        glare: thousandths(c.glare),
        saturation: thousandths(saturation(&seen.lin, &grid.lin, &seen.srgb)),
    })
}

/// Compares seen cells with one expected grid (the saturation is left at 1: it is measured
/// against the closest grid only).
///
/// In linear light, seen = gain (per channel) × (expected + glare), where glare is light
/// reflected by the screen's glass: the same in every channel once the gains are divided out
/// (a near-white source, through the same camera), never negative, and smooth across the
/// portrait (a reflection is far larger than a cell). Per cell, the white light that could
/// have been added is the least excess over the three channels; spread over the portrait
/// ([`smooth`]) it is the glare, taken out before cells are compared. Another face differs
/// cell by cell and in colour, which no smooth white light explains.
fn compare_cells(seen: &Cells, expected: &Cells) -> Option<PortraitComparison> {
    let (seen_lin, expected_lin) = (seen.lin.as_slice(), expected.lin.as_slice());
    let (seen, expected) = (&seen.srgb, &expected.srgb);
    // Each channel's gain is the slope of its line through the cells, seen against expected
    // (the worst quarter of cells left out and the line fitted again): glare moves cells up
    // by amounts that have nothing to do with the portrait's own light, so it shifts the
    // line, not its slope, even where it covers the whole portrait.
    // A slope far below the cells' median ratio of seen to expected light is no gain but
    // another picture: then that ratio is the gain (and the cells will not match).
    let mut gains = [1.0f32; 3];
    for (k, gain) in gains.iter_mut().enumerate() {
        let mut ratios: Vec<f32> = seen_lin
            .iter()
            .zip(expected_lin)
            .filter(|(_, e)| e[k] > 0.03)
            .map(|(s, e)| s[k] / e[k])
            .collect();
        if ratios.len() < 8 {
            return None;
        }
        ratios.sort_by(f32::total_cmp);
        let median = ratios[ratios.len() / 2].max(1e-3);
        let points: Vec<(f32, f32)> = expected_lin
            .iter()
            .zip(seen_lin)
            .map(|(e, s)| (e[k], s[k]))
            .collect();
        let slope = trimmed_line(&points).map_or(0.0, |(g, _)| g);
        *gain = if slope >= 0.25 * median { slope } else { median };
    }
    // Then the light that could have been added to each cell in every channel, smoothed.
    let white: Vec<f32> = seen_lin
        .iter()
        .zip(expected_lin)
        .map(|(s, e)| {
            (0..3)
                .map(|k| s[k] / gains[k] - e[k])
                .fold(f32::MAX, f32::min)
                .max(0.0)
        })
        .collect();
    let glare = smooth(&white);
    let corrected: Vec<[f32; 3]> = seen_lin
        .iter()
        .zip(&glare)
        .map(|(s, a)| std::array::from_fn(|k| linear_to_srgb((s[k] / gains[k] - a).max(0.0)) * 255.0))
        .collect();
    // The expected portrait has contrast (else there is nothing to compare); a seen one
    // without any resembles it not at all.
    let mut correlation = 0.0;
    for k in 0..3 {
        ncc(expected.iter().map(|c| c[k]), expected.iter().map(|c| c[k]))?;
        correlation += ncc(corrected.iter().map(|c| c[k]), expected.iter().map(|c| c[k])).unwrap_or(0.0);
    }
    // A cell the glare drove to the sensor's limit in some channel shows nothing of the
    // portrait there: it is left out, and the portrait is compared on the others.
    let (mut off, mut compared) = (0usize, 0usize);
    for ((c, s), e) in corrected.iter().zip(seen).zip(expected) {
        if s.iter().any(|&v| v >= SATURATED) {
            continue;
        }
        compared += 1;
        let d2: f32 = (0..3).map(|k| (c[k] - e[k]).powi(2)).sum();
        off += usize::from(d2 > CELL_TOLERANCE * CELL_TOLERANCE);
    }
    if compared * 2 < seen.len() {
        return None;
    }
    Some(PortraitComparison {
        correlation: correlation / 3.0,
        cells_off: off as f32 / compared as f32,
        glare: glare.iter().copied().fold(0.0, f32::max),
        saturation: 1.0,
    })
}

/// How colourful the seen cells are against the expected ones: the least-squares slope of
/// each cell's log-chromaticity (ln R/G, ln B/G in light), less its mean over the cells, on
/// the expected cell's. A gain per channel (exposure, white balance) moves every cell's
/// log-chromaticity alike and drops out; a narrower gamut, or white light added (glare),
/// pulls cells towards grey. Cells the sensor clipped, or too dark for a ratio, are left out;
/// 1 when too few remain.
fn saturation(seen_lin: &[[f32; 3]], expected_lin: &[[f32; 3]], seen_srgb: &[[f32; 3]]) -> f32 {
    let log_chroma = |v: &[f32; 3]| [(v[0] / v[1]).ln(), (v[2] / v[1]).ln()];
    let pairs: Vec<([f32; 2], [f32; 2])> = seen_lin
        .iter()
        .zip(expected_lin)
        .zip(seen_srgb)
        .filter(|((s, e), srgb)| {
            srgb.iter().all(|&v| v < SATURATED) && s.iter().chain(e.iter()).all(|&v| v > 0.01)
        })
        .map(|((s, e), _)| (log_chroma(s), log_chroma(e)))
        .collect();
    if pairs.len() < 8 {
        return 1.0;
    }
    let n = pairs.len() as f32;
    let (mut ms, mut me) = ([0.0f32; 2], [0.0f32; 2]);
    for (s, e) in &pairs {
        for k in 0..2 {
            ms[k] += s[k] / n;
            me[k] += e[k] / n;
        }
    }
    let (mut cross, mut own) = (0.0f32, 0.0f32);
    for (s, e) in &pairs {
        for k in 0..2 {
            cross += (s[k] - ms[k]) * (e[k] - me[k]);
            own += (e[k] - me[k]).powi(2);
        }
    }
    if own < 1e-6 { 1.0 } else { cross / own }
}

/// The least-squares line `y = gain · x + offset` through `points`, fitted again without
/// the quarter of points farthest from the first fit; `None` if the x values do not vary.
fn trimmed_line(points: &[(f32, f32)]) -> Option<(f32, f32)> {
    let fit = |pts: &[(f32, f32)]| -> Option<(f32, f32)> {
        let n = pts.len() as f32;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f32>() / n,
            pts.iter().map(|p| p.1).sum::<f32>() / n,
        );
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for &(x, y) in pts {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
        }
        (sxx > 1e-6).then(|| (sxy / sxx, my - sxy / sxx * mx))
    };
    let (g, o) = fit(points)?;
    let mut by_residual: Vec<(f32, (f32, f32))> = points
        .iter()
        .map(|&(x, y)| ((y - g * x - o).abs(), (x, y)))
        .collect();
    by_residual.sort_by(|a, b| a.0.total_cmp(&b.0));
    let kept: Vec<(f32, f32)> = by_residual[..points.len() * 3 / 4].iter().map(|p| p.1).collect();
    fit(&kept)
}

/// A cell's mean sRGB value (0..255) from which it counts as clipped by the sensor.
const SATURATED: f32 = 250.0;

/// How far glare is spread over the cells: a Gaussian of this σ, in cells.
const GLARE_SPREAD: f32 = 1.5;

/// `values` (one per cell, row by row) smoothed by a Gaussian of [`GLARE_SPREAD`] cells,
/// normalised at the edges; then no larger than the cell's own value's neighbourhood allows:
/// the minimum of the smoothed field and the largest value within one cell, so a lone bright
/// cell (a feature of another face) is not spread onto its neighbours as glare.
fn smooth(values: &[f32]) -> Vec<f32> {
    let r = (3.0 * GLARE_SPREAD).ceil() as i32;
    let weights: Vec<f32> = (-r..=r)
        .map(|d| (-(d * d) as f32 / (2.0 * GLARE_SPREAD * GLARE_SPREAD)).exp())
        .collect();
    // One pass along an axis of `n` cells, `stride` apart, `lines` of them `step` apart:
    // weighted sums and their weights (normalised at the edges).
    let pass = |src: &[f32], along_rows: bool| -> Vec<f32> {
        let (n, stride, lines, step) = if along_rows {
            (COLS, 1, ROWS, COLS)
        } else {
            (ROWS, COLS, COLS, 1)
        };
        let mut out = vec![0.0; src.len()];
        for line in 0..lines {
            for i in 0..n as i32 {
                let (mut sum, mut total) = (0.0, 0.0);
                for (w, d) in weights.iter().zip(-r..=r) {
                    let j = i + d;
                    if (0..n as i32).contains(&j) {
                        sum += w * src[line * step + j as usize * stride];
                        total += w;
                    }
                }
                out[line * step + i as usize * stride] = sum / total;
            }
        }
        out
    };
    let smoothed = pass(&pass(values, true), false);
    let at = |x: i32, y: i32| values[y as usize * COLS + x as usize];
    (0..ROWS as i32)
        .flat_map(|y| (0..COLS as i32).map(move |x| (x, y)))
        .map(|(x, y)| {
            let mut near = 0.0f32;
            for ny in (y - 1).max(0)..=(y + 1).min(ROWS as i32 - 1) {
                for nx in (x - 1).max(0)..=(x + 1).min(COLS as i32 - 1) {
                    near = near.max(at(nx, ny));
                }
            }
            smoothed[y as usize * COLS + x as usize].min(near)
        })
        .collect()
}

fn ncc(a: impl Iterator<Item = f32> + Clone, b: impl Iterator<Item = f32> + Clone) -> Option<f32> {
    let n = a.clone().count() as f32;
    let (ma, mb) = (a.clone().sum::<f32>() / n, b.clone().sum::<f32>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    (aa > 1e-3 && bb > 1e-3).then(|| ab / (aa * bb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portrait(seed: u8) -> RgbImage {
        RgbImage::from_fn(90, 120, |x, y| {
            let v = ((x * u32::from(seed) + y * 3) % 97) as u8;
            image::Rgb([v * 2, 255 - v, ((x * 3 + y * u32::from(seed)) % 89 * 2) as u8])
        })
    }

    /// The card drawn top-down at `scale` px per design unit with `face` in the portrait.
    fn card(face: &RgbImage, scale: f64) -> (RgbImage, Homography) {
        card_with_glare(face, scale, |_, _| 0.0)
    }

    /// The same, with light `glare(u, v)` (a share of white, `u`, `v` across and down the
    /// portrait, 0..1) added in every channel before the camera's gains, as a reflection
    /// on the glass is.
    fn card_with_glare(
        face: &RgbImage,
        scale: f64,
        glare: impl Fn(f64, f64) -> f32,
    ) -> (RgbImage, Homography) {
        card_with(face, scale, glare, 1.0)
    }

    /// The same, with the face's colours (as light) `saturation` times as far from their
    /// grey as drawn, as a narrower gamut renders them.
    fn card_with(
        face: &RgbImage,
        scale: f64,
        glare: impl Fn(f64, f64) -> f32,
        saturation: f32,
    ) -> (RgbImage, Homography) {
        let p = CardLayout::STANDARD.portrait;
        let img = RgbImage::from_fn((1080.0 * scale) as u32, (2340.0 * scale) as u32, |x, y| {
            let (dx, dy) = (f64::from(x) / scale, f64::from(y) / scale);
            let u = (dx - f64::from(p.x)) / f64::from(p.w);
            let v = (dy - f64::from(p.y)) / f64::from(p.h);
            if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
                let px = face.get_pixel((u * 90.0) as u32, (v * 120.0) as u32);
                let light = px.0.map(linear_of_level);
                let grey = (light[0] + light[1] + light[2]) / 3.0;
                // A darker, warmer camera: a gain per channel on the light.
                let gains = [0.8, 0.65, 0.5];
                let added = glare(u, v);
                image::Rgb(std::array::from_fn(|k| {
                    let drawn = grey + saturation * (light[k] - grey);
                    (linear_to_srgb((drawn + added) * gains[k]) * 255.0).round() as u8
                }))
            } else {
                image::Rgb([230, 230, 230])
            }
        });
        (img, Homography([scale, 0.0, 0.0, 0.0, scale, 0.0, 0.0, 0.0, 1.0]))
    }

    #[test]
    fn a_reference_read_back_from_its_bytes_is_the_same() {
        let r = reference(&portrait(5));
        let bytes = r.to_bytes();
        assert_eq!(bytes.len(), REFERENCE_BYTES);
        assert_eq!(Reference::from_bytes(&bytes), Ok(r));
        assert_eq!(
            Reference::from_bytes(&bytes[1..]),
            Err(ReferenceError::Length {
                given: REFERENCE_BYTES - 1
            })
        );
        let mut bad = bytes.clone();
        bad[..4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(Reference::from_bytes(&bad), Err(ReferenceError::Value));
    }

    #[test]
    fn the_same_face_matches_and_another_does_not() {
        let (a, b) = (portrait(5), portrait(11));
        let (photo, h) = card(&a, 0.5);
        let same = compare_portrait(&photo, &h, &reference(&a)).unwrap();
        let other = compare_portrait(&photo, &h, &reference(&b)).unwrap();
        assert!(
            same.correlation > 0.9 && same.cells_off < 0.05,
            "same face: {same:?}"
        );
        assert!(
            other.correlation < 0.5 && other.cells_off > 0.5,
            "other face: {other:?}"
        );
    }

    #[test]
    fn glare_on_the_glass_is_taken_out_and_another_face_under_it_still_differs() {
        let (a, b) = (portrait(5), portrait(11));
        // A reflection off to one side, and one covering the whole portrait.
        let spot = |u: f64, v: f64| (0.35 * (-((u - 0.8).powi(2) + (v - 0.3).powi(2)) / 0.08).exp()) as f32;
        let veil = |u: f64, v: f64| (0.2 + 0.1 * u + 0.05 * v) as f32;
        for (name, glare) in [("spot", &spot as &dyn Fn(f64, f64) -> f32), ("veil", &veil)] {
            let (photo, h) = card_with_glare(&a, 0.5, glare);
            let same = compare_portrait(&photo, &h, &reference(&a)).unwrap();
            let other = compare_portrait(&photo, &h, &reference(&b)).unwrap();
            assert!(
                same.correlation > 0.93 && same.cells_off < 0.12 && same.glare > 0.1,
                "{name}, same face: {same:?}"
            );
            // Another face: off colour, or (this test pattern averages out within cells)
            // unlike the credential's in light and dark.
            assert!(
                other.cells_off > 0.5 || other.correlation < 0.3,
                "{name}, other face: {other:?}"
            );
        }
        let (clean, h) = card(&a, 0.5);
        let none = compare_portrait(&clean, &h, &reference(&a)).unwrap();
        assert!(none.glare < 0.01, "no glare: {none:?}");
    }

    #[test]
    fn saturation_is_one_on_the_screen_and_lower_in_a_narrower_gamut() {
        let a = portrait(5);
        let (photo, h) = card(&a, 0.5);
        let screen = compare_portrait(&photo, &h, &reference(&a)).unwrap();
        assert!((0.9..1.1).contains(&screen.saturation), "screen: {screen:?}");
        let (photo, h) = card_with(&a, 0.5, |_, _| 0.0, 0.6);
        let faded = compare_portrait(&photo, &h, &reference(&a)).unwrap();
        assert!(faded.saturation < 0.75, "faded: {faded:?}");
    }

    #[test]
    fn a_portrait_outside_the_photo_is_not_compared() {
        let a = portrait(5);
        let (photo, _) = card(&a, 0.5);
        let shifted = Homography([0.5, 0.0, -200.0, 0.0, 0.5, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(compare_portrait(&photo, &shifted, &reference(&a)), None);
    }
}
