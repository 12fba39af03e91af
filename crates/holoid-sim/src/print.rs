//! A printed copy of the card: the image separated into cyan, magenta, yellow and black,
//! each ink laid down as amplitude-modulated round dots on its own rotated screen, over a
//! textured paper, lit by the room. What the camera sees is reflected light, with the
//! halftone's periodic structure and the ink set's narrower gamut.

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::camera::Emitter;
use super::display::floor;
use super::rng::Rng;

/// How the card is printed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrintParams {
    /// Halftone cell size in image pixels (a 150 lpi screen on a card printed 54 mm wide from
    /// a 1080-pixel image is about 3.4 px).
    pub cell: f64,
    /// Screen angles of C, M, Y, K in degrees (classic: 15, 75, 0, 45).
    pub angles: [f64; 4],
    /// Paper reflectance (linear RGB), e.g. a slightly warm white.
    pub paper: [f32; 3],
    /// Paper texture: relative reflectance variation.
    pub texture: f32,
    /// Light falling on the print, relative to what makes white paper read as white.
    pub light: f32,
}

impl PrintParams {
    /// A random office or home printer on plain paper.
    pub fn random(rng: &mut Rng) -> PrintParams {
        let jitter = rng.range(-3.0, 3.0);
        PrintParams {
            cell: rng.range(2.6, 4.5),
            angles: [15.0, 75.0, 0.0, 45.0].map(|a| a + jitter),
            paper: [rng.range(0.86, 0.93), rng.range(0.85, 0.92), rng.range(0.78, 0.9)].map(|v| v as f32),
            texture: rng.range(0.02, 0.06) as f32,
            light: rng.range(0.75, 1.05) as f32,
        }
    }
}

/// Linear reflectance of a solid layer of each ink (C, M, Y, K) on white: the print gamut.
const INKS: [[f32; 3]; 4] = [
    [0.08, 0.42, 0.78],
    [0.75, 0.08, 0.32],
    [0.92, 0.84, 0.06],
    [0.04, 0.04, 0.05],
];

/// The printed card, ready to be photographed.
pub struct Print {
    width: u32,
    height: u32,
    /// Ink coverage per pixel (C, M, Y, K), 0..1.
    coverage: Vec<[f32; 4]>,
    params: PrintParams,
    /// Screen rotations: (cos, sin) per ink.
    rot: [(f64, f64); 4],
}

impl Print {
    /// Separates an sRGB image into inks (simple GCR: black takes the common grey).
    pub fn new(img: &RgbaImage, params: PrintParams) -> Print {
        let coverage = img
            .pixels()
            .map(|p| {
                let [r, g, b] = [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0);
                let k = 1.0 - r.max(g).max(b);
                let d = (1.0 - k).max(1e-6);
                [(1.0 - r - k) / d, (1.0 - g - k) / d, (1.0 - b - k) / d, k]
            })
            .collect();
        let rot = params
            .angles
            .map(|a: f64| (a.to_radians().cos(), a.to_radians().sin()));
        Print {
            width: img.width(),
            height: img.height(),
            coverage,
            params,
            rot,
        }
    }

    /// Whether ink `i` covers (`x`, `y`): inside the round dot of its halftone cell, whose
    /// area is the coverage of the image pixel under the cell's centre.
    fn inked(&self, i: usize, x: f64, y: f64) -> bool {
        let (c, s) = self.rot[i];
        let cell = self.params.cell;
        let (u, v) = ((x * c + y * s) / cell, (-x * s + y * c) / cell);
        let (cu, cv) = (floor(u) + 0.5, floor(v) + 0.5);
        // The cell centre back in image coordinates.
        let (px, py) = ((cu * c - cv * s) * cell, (cu * s + cv * c) * cell);
        let (ix, iy) = (
            px.clamp(0.0, f64::from(self.width - 1)) as usize,
            py.clamp(0.0, f64::from(self.height - 1)) as usize,
        );
        let a = f64::from(self.coverage[iy * self.width as usize + ix][i]);
        let d2 = (u - cu).powi(2) + (v - cv).powi(2);
        if a <= 0.5 {
            d2 < a / std::f64::consts::PI
        } else {
            // Past half coverage the paper shows through as shrinking round holes.
            d2 >= (1.0 - a) / std::f64::consts::PI
        }
    }
}

fn hash(x: i64, y: i64) -> f32 {
    let mut h =
        (x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (y as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 32;
    (h & 0xffff) as f32 / 65535.0
}

impl Emitter for Print {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn radiance(&self, x: f64, y: f64) -> [f32; 3] {
        let p = &self.params;
        let grain = 1.0 + p.texture * (hash((x * 0.7) as i64, (y * 0.7) as i64) - 0.5) * 2.0;
        let mut r = p.paper.map(|v| v * grain * p.light);
        for (i, ink) in INKS.iter().enumerate() {
            if self.inked(i, x, y) {
                for c in 0..3 {
                    r[c] *= ink[c];
                }
            }
        }
        r
    }

    fn border(&self) -> (f64, [f32; 3]) {
        // A paper margin around the printed card.
        (
            0.05 * f64::from(self.width),
            self.params.paper.map(|v| v * self.params.light),
        )
    }
}
