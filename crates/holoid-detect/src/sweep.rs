//! Reading the time sweep from one photo: where its bright head stands on the ring gives
//! the time inside the window (see [`holoid_core::pattern::Sweep`] and the `sweep` function in
//! `shaders/frame.wgsl`).
//!
//! The ring is sampled at 360 angles on three radii inside the track (clear of the ticks on
//! the outer rim), and the brightness profile is correlated with the sweep's known shape —
//! a lit head that fades exponentially behind it (1.1 rad) over 45 % of the turn, on a dark
//! track — for every head position. The best position, refined to a fraction of a step, is
//! the head; the correlation coefficient there says how sure the reading is. The direction
//! and start angle come from the window's [`holoid_core::pattern::Pattern`], so a reading needs
//! the decoded window first.

use std::f64::consts::TAU;

use image::GrayImage;

use super::sample::luma;
use holoid_core::homography::Homography;
use holoid_core::layout::CardLayout;
use holoid_core::pattern::Sweep;

/// Angles sampled around the ring.
const STEPS: usize = 360;
/// Radii sampled, design units: inside the 200..260 track and clear of the ticks (> 244).
const RADII: [f64; 3] = [212.0, 222.0, 232.0];
/// The fade length of the sweep's tail and its extent, as drawn by the shader.
const TAIL_RADIANS: f64 = 1.1;
const TAIL_EXTENT: f64 = 0.45;

/// A reading of the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepReading {
    /// Time inside the window, `[0, 1)`.
    pub phase: f32,
    /// Correlation of the ring's profile with the sweep's shape at the reading, -1..1:
    /// near 1 for a clear ring.
    pub confidence: f32,
}

/// The sweep's brightness `behind` radians behind its head, in the direction it came from.
fn shape(behind: f64) -> f64 {
    if behind < TAU * TAIL_EXTENT {
        (-behind / TAIL_RADIANS).exp()
    } else {
        0.0
    }
}

/// Half-width, in steps, of the moving average a profile is high-passed with: slow changes
/// around the ring (glare, vignetting, uneven light) are taken out, the head's edge stays.
const SMOOTH: usize = 25;

/// The profile less its circular moving average over ±[`SMOOTH`] steps.
fn high_pass(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    let width = (2 * SMOOTH + 1) as f64;
    let mut sum: f64 = (0..=2 * SMOOTH).map(|k| v[(k + n - SMOOTH) % n]).sum();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(v[i] - sum / width);
        sum += v[(i + SMOOTH + 1) % n] - v[(i + n - SMOOTH) % n];
    }
    out
}

/// Zero mean, unit length; `None` for a flat profile.
fn normalise(v: &mut [f64]) -> Option<()> {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let norm = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>().sqrt();
    if norm < 1e-6 * v.len() as f64 {
        return None;
    }
    v.iter_mut().for_each(|x| *x = (*x - mean) / norm);
    Some(())
}

/// Where the sweep's head stands on the ring for one direction of travel: what a photo says of
/// the sweep without the window's keyed start angle (the browser reads this for both
/// directions; the server, which holds the key, turns it into a time with
/// [`Sweep::phase_of`]).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadReading {
    /// The head's angle, radians from 12 o'clock, clockwise, `[0, 2π)`.
    pub angle: f32,
    /// Correlation of the ring's profile with the sweep's shape there, -1..1.
    pub confidence: f32,
}

/// The ring's brightness around its [`STEPS`] angles, high-passed and normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct RingProfile(Vec<f64>);

/// The ring's brightness profile through `to_image` (design units to image pixels): `None` when
/// part of the ring lies outside the photo or it shows no contrast.
pub fn ring_profile(img: &GrayImage, to_image: &Homography) -> Option<RingProfile> {
    let ring = CardLayout::STANDARD.sweep;
    let (cx, cy) = (f64::from(ring.center[0]), f64::from(ring.center[1]));
    let mut raw = vec![0.0f64; STEPS];
    for (k, p) in raw.iter_mut().enumerate() {
        // Angles from 12 o'clock, clockwise, as `ring_polar` in common.wgsl measures them.
        let a = k as f64 * TAU / STEPS as f64;
        for r in RADII {
            let [x, y] = to_image.apply([cx + r * a.sin(), cy - r * a.cos()]);
            *p += f64::from(luma(img, x, y)?);
        }
    }
    let mut profile = high_pass(&raw);
    normalise(&mut profile)?;
    Some(RingProfile(profile))
}

/// The head on a [`ring_profile`] for a sweep travelling in `direction` (+1 clockwise, -1
/// counter-clockwise).
pub fn read_head(profile: &RingProfile, direction: f32) -> Option<HeadReading> {
    let profile = &profile.0;
    let dir = f64::from(direction.signum());
    // The template with its head at angle 0; shifted by j steps it has its head at step j.
    let template: Vec<f64> = (0..STEPS)
        .map(|i| {
            let a = i as f64 * TAU / STEPS as f64;
            shape((-a * dir).rem_euclid(TAU))
        })
        .collect();
    let mut template = high_pass(&template);
    normalise(&mut template)?;
    let corr: Vec<f64> = (0..STEPS)
        .map(|j| {
            (0..STEPS)
                .map(|i| profile[i] * template[(i + STEPS - j) % STEPS])
                .sum()
        })
        .collect();
    let (best, &peak) = corr.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    // Parabolic refinement between the neighbouring steps.
    let (l, r) = (corr[(best + STEPS - 1) % STEPS], corr[(best + 1) % STEPS]);
    let denom = l - 2.0 * peak + r;
    let offset = if denom.abs() > 1e-12 {
        (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    // To a ten-thousandth of a radian (a tenth of a millisecond of a 5 s window) and a
    // thousandth, as sent (see `evidence::thousandths`).
    let angle = ((best as f64 + offset) * TAU / STEPS as f64).rem_euclid(TAU);
    Some(HeadReading {
        angle: ((angle * 1e4).round() / 1e4).rem_euclid(TAU) as f32,
        confidence: crate::evidence::thousandths(peak as f32),
    })
}

/// Reads the sweep through `to_image` (design units to image pixels). `None` when part of
/// the ring lies outside the photo or the ring shows no contrast.
pub fn read_sweep(img: &GrayImage, to_image: &Homography, sweep: &Sweep) -> Option<SweepReading> {
    let head = read_head(&ring_profile(img, to_image)?, sweep.direction)?;
    Some(SweepReading {
        phase: sweep.phase_of(head.angle),
        confidence: head.confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic top-down picture of the ring at `scale` pixels per design unit.
    fn ring_image(sweep: &Sweep, phase: f32, scale: f64) -> (GrayImage, Homography) {
        let ring = CardLayout::STANDARD.sweep;
        let head = f64::from(sweep.angle_at(phase));
        let (w, h) = ((1080.0 * scale) as u32, (2340.0 * scale) as u32);
        let img = GrayImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (
                f64::from(x) / scale - f64::from(ring.center[0]),
                f64::from(y) / scale - f64::from(ring.center[1]),
            );
            let r = dx.hypot(dy);
            if !(200.0..260.0).contains(&r) {
                return image::Luma([200]);
            }
            let a = dx.atan2(-dy).rem_euclid(TAU);
            let behind = ((head - a) * f64::from(sweep.direction)).rem_euclid(TAU);
            image::Luma([(30.0 + 200.0 * shape(behind)) as u8])
        });
        let to_image = Homography([scale, 0.0, 0.0, 0.0, scale, 0.0, 0.0, 0.0, 1.0]);
        (img, to_image)
    }

    #[test]
    fn reads_the_phase_both_ways_round() {
        for (start, direction) in [(0.3, 1.0), (4.0, -1.0)] {
            let sweep = Sweep { start, direction };
            for phase in [0.0f32, 0.13, 0.5, 0.77, 0.995] {
                let (img, h) = ring_image(&sweep, phase, 0.4);
                let r = read_sweep(&img, &h, &sweep).unwrap();
                let err = (r.phase - phase + 0.5).rem_euclid(1.0) - 0.5;
                assert!(
                    err.abs() < 0.004,
                    "phase {phase} read as {} ({start}, {direction})",
                    r.phase
                );
                assert!(r.confidence > 0.9, "confidence {}", r.confidence);
            }
        }
    }

    #[test]
    fn flat_or_missing_rings_are_not_read() {
        let sweep = Sweep {
            start: 0.0,
            direction: 1.0,
        };
        let flat = GrayImage::from_pixel(432, 936, image::Luma([128]));
        let h = Homography([0.4, 0.0, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(read_sweep(&flat, &h, &sweep), None);
        let small = GrayImage::from_pixel(100, 100, image::Luma([128]));
        assert_eq!(read_sweep(&small, &h, &sweep), None);
    }
}
