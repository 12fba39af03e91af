//! Every visual parameter that changes per window, derived from `seed_w`.
//!
//! `HMAC-SHA256(seed_w, "holoid/v1/pattern" || i)` for the bytes `i` = 0 and 1 give 32
//! values of 16 bits; each parameter takes the next one in the order of the fields below
//! (base hue first) and maps it linearly onto its documented range. Two rules make neighbouring
//! windows look clearly different whatever the key:
//!
//! - the base hue lies in sector `w mod 3` (0–60°, 120–180° or 240–300°), so the hues of
//!   windows `w` and `w+1` are at least 60° apart;
//! - the rosette's petal count has the parity of `w`, so neighbours never share it.
//!
//! The renderer copies a [`Pattern`] into its uniform buffer; the detector derives the same
//! [`Pattern`] to know what a genuine card of that window looks like. Pure: no GPU or I/O.

use std::f32::consts::TAU;

use crate::keys::DeviceKey;
use crate::mac::hmac_sha256;
use crate::timekey::{Window, WindowSeed};

/// Domain label of the pattern expansion.
pub const PATTERN_LABEL: &[u8] = b"holoid/v1/pattern";

/// The guilloche rosette behind the emblem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rosette {
    /// Outer petals, 8..=23, with the parity of the window number.
    pub petals: u32,
    /// Inner petals of the second harmonic, 3..=9.
    pub inner_petals: u32,
    /// Petal depth as a fraction of the radius, 0.10..0.22.
    pub amplitude: f32,
    /// Rotation of the petals, radians, 0..2π.
    pub phase: f32,
    /// Concentric line count, 16..=28.
    pub rings: u32,
}

/// The fine-line background over the whole card.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guilloche {
    /// Distance between neighbouring lines, design units, 5.0..9.0: near the pixel pitch of
    /// a photographed screen, so a re-displayed photo aliases into moiré.
    pub line_period: f32,
    /// Amplitude of the lines' waves, design units, 10..30.
    pub wave_amplitude: f32,
    /// Wave cycles across the card width, 2..7.
    pub wave_cycles: f32,
    /// Direction of the lines, radians, 0..π.
    pub angle: f32,
}

/// Colours of the card's security print.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    /// Base hue, degrees: `120·(w mod 3)` plus 0..60.
    pub base_hue: f32,
    /// Accent hue, degrees: base hue plus 150..210 (wrapped to 0..360).
    pub accent_hue: f32,
}

/// The slow animation of the holographic layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Animation {
    /// Turns per second, 0.05..0.25.
    pub speed: f32,
    /// +1 clockwise, -1 counter-clockwise.
    pub direction: f32,
}

/// The thin-film interference foil.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Foil {
    /// Film thickness at zero tilt, nanometres, 300..430: above about 435 nm the film at
    /// +30° tilt washes out to grey and its hue flips, so the foil of such a key would hardly
    /// turn (the GPU test checks every key turns it by at least 90°).
    pub film_nm: f32,
    /// Direction of the thickness gradient across the card, radians, 0..2π.
    pub gradient_angle: f32,
}

/// The ripple a shake starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burst {
    /// First ring hue, degrees: base hue plus 90..150.
    pub hue_a: f32,
    /// Second ring hue, degrees: opposite `hue_a`.
    pub hue_b: f32,
    /// Rings in the ripple, 2..=4.
    pub rings: u32,
}

/// The time sweep around the ring of [`crate::layout::CardLayout::sweep`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sweep {
    /// Angle at phase 0, radians from 12 o'clock, 0..2π.
    pub start: f32,
    /// +1 clockwise, -1 counter-clockwise.
    pub direction: f32,
}

impl Sweep {
    /// The sweep's angle (radians from 12 o'clock, clockwise, 0..2π) at `phase` in [0, 1).
    pub fn angle_at(&self, phase: f32) -> f32 {
        (self.start + self.direction * phase * TAU).rem_euclid(TAU)
    }

    /// The phase in [0, 1) that puts the sweep at `angle`: inverse of [`angle_at`](Self::angle_at).
    pub fn phase_of(&self, angle: f32) -> f32 {
        (((angle - self.start) * self.direction) / TAU).rem_euclid(1.0)
    }
}

/// All per-window visual parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pattern {
    /// The window these parameters belong to.
    pub window: Window,
    /// The emblem rosette.
    pub rosette: Rosette,
    /// The background lines.
    pub guilloche: Guilloche,
    /// The colours.
    pub palette: Palette,
    /// The holographic animation.
    pub animation: Animation,
    /// The foil.
    pub foil: Foil,
    /// The shake burst.
    pub burst: Burst,
    /// The time sweep.
    pub sweep: Sweep,
}

struct Draws {
    bytes: [u8; 64],
    next: usize,
}

impl Draws {
    /// The next 16-bit value as a fraction in [0, 1).
    fn unit(&mut self) -> f32 {
        let v = u16::from_be_bytes([self.bytes[self.next], self.bytes[self.next + 1]]);
        self.next += 2;
        f32::from(v) / 65536.0
    }

    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    fn int(&mut self, lo: u32, hi_inclusive: u32) -> u32 {
        let n = hi_inclusive - lo + 1;
        lo + ((self.unit() * n as f32) as u32).min(n - 1)
    }

    fn sign(&mut self) -> f32 {
        if self.unit() < 0.5 { 1.0 } else { -1.0 }
    }
}

fn wrap_degrees(h: f32) -> f32 {
    h.rem_euclid(360.0)
}

/// The smaller angle between two hues, degrees (0..=180).
pub fn hue_distance(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

impl Pattern {
    /// The pattern of window `window`, from its seed.
    pub fn derive(seed: &WindowSeed, window: Window) -> Pattern {
        let mut bytes = [0u8; 64];
        for (i, half) in bytes.chunks_exact_mut(32).enumerate() {
            half.copy_from_slice(&hmac_sha256(seed.as_bytes(), &[PATTERN_LABEL, &[i as u8]]));
        }
        let mut d = Draws { bytes, next: 0 };
        let sector = (window.0 % 3) as f32 * 120.0;
        let parity = (window.0 % 2) as u32;
        let base_hue = sector + d.range(0.0, 60.0);
        let rosette = Rosette {
            petals: 2 * d.int(4, 11) + parity,
            inner_petals: d.int(3, 9),
            amplitude: d.range(0.10, 0.22),
            phase: d.range(0.0, TAU),
            rings: d.int(16, 28),
        };
        let guilloche = Guilloche {
            line_period: d.range(5.0, 9.0),
            wave_amplitude: d.range(10.0, 30.0),
            wave_cycles: d.range(2.0, 7.0),
            angle: d.range(0.0, TAU / 2.0),
        };
        let palette = Palette {
            base_hue,
            accent_hue: wrap_degrees(base_hue + d.range(150.0, 210.0)),
        };
        let animation = Animation {
            speed: d.range(0.05, 0.25),
            direction: d.sign(),
        };
        let foil = Foil {
            film_nm: d.range(300.0, 430.0),
            gradient_angle: d.range(0.0, TAU),
        };
        let hue_a = wrap_degrees(base_hue + d.range(90.0, 150.0));
        let burst = Burst {
            hue_a,
            hue_b: wrap_degrees(hue_a + 180.0),
            rings: d.int(2, 4),
        };
        let sweep = Sweep {
            start: d.range(0.0, TAU),
            direction: d.sign(),
        };
        Pattern {
            window,
            rosette,
            guilloche,
            palette,
            animation,
            foil,
            burst,
            sweep,
        }
    }

    /// The pattern a holder of `device_key` shows in `window`.
    pub fn for_window(device_key: &DeviceKey, window: Window) -> Pattern {
        Pattern::derive(&WindowSeed::derive(device_key, window), window)
    }
}
