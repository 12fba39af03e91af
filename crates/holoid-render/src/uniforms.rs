//! The uniform block of the card shaders, filled from the pattern, the layout and the frame
//! parameters. Mirrors `Card` in `shaders/common.wgsl` field for field (16-byte vectors
//! only, so the layouts agree without padding rules). Plain data: no GPU types.

use bytemuck::{Pod, Zeroable};

use holoid_core::code::Codeword;
use holoid_core::code::geometry::{CodeGeometry, GRID_COLS, GRID_ROWS, MODULE_COUNT, MarkKind};
use holoid_core::layout::{CARD_HEIGHT, CARD_WIDTH, CardLayout, Rect};
use holoid_core::motion::Tilt;
use holoid_core::pattern::Pattern;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;

/// Region slots, as `REGION_*` in `common.wgsl`.
pub mod region {
    /// Issuer header.
    pub const HEADER: usize = 0;
    /// Portrait.
    pub const PORTRAIT: usize = 1;
    /// Identity fields.
    pub const IDENTITY: usize = 2;
    /// Address.
    pub const ADDRESS: usize = 3;
    /// Dates.
    pub const DATES: usize = 4;
    /// Emblem.
    pub const EMBLEM: usize = 5;
    /// Clock.
    pub const CLOCK: usize = 6;
    /// Footer.
    pub const FOOTER: usize = 7;
    /// Code data grid.
    pub const GRID: usize = 8;
    /// Sweep ring: centre x, y, inner, outer radius.
    pub const RING: usize = 9;
    /// First of the four corner marks: x, y, side, kind (0 finder, 1 orientation).
    pub const MARK0: usize = 10;
    /// Module size, grid columns, grid rows, quiet-zone modules.
    pub const CODE_INFO: usize = 14;
}

/// The uniform block.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct CardUniforms {
    /// Width px, height px, px per design unit, 0.
    pub viewport: [f32; 4],
    /// Card origin x px, y px, 0, 0.
    pub origin: [f32; 4],
    /// Petals, inner petals, amplitude, phase.
    pub rosette: [f32; 4],
    /// Rings, animation turns (0..1), animation direction, 0.
    pub rosette2: [f32; 4],
    /// Line period, wave amplitude, wave cycles, angle.
    pub guilloche: [f32; 4],
    /// Base hue, accent hue, burst hue a, burst hue b (degrees).
    pub palette: [f32; 4],
    /// Film nm, gradient angle, tilt x rad, tilt y rad.
    pub foil: [f32; 4],
    /// Sweep start, direction, phase, burst age s (< 0: none).
    pub sweep: [f32; 4],
    /// Local seconds of day, seconds left in the window, period s, burst rings.
    pub clock: [f32; 4],
    /// Capture blocked (0/1), modulation sign, modulation delta, 0.
    pub state: [f32; 4],
    /// Regions in design units, see [`region`].
    pub regions: [[f32; 4]; 16],
    /// Data modules, module `i` is bit `31 - i % 32` of word `i / 32`.
    pub code: [[u32; 4]; 4],
}

fn rect(r: Rect) -> [f32; 4] {
    [r.x, r.y, r.w, r.h]
}

/// How the 1080 × 2340 design canvas sits in a `width` × `height` target: one uniform
/// scale, centred (letterboxed). Returns (px per design unit, origin x, origin y).
pub fn fit(width: u32, height: u32) -> (f32, f32, f32) {
    let scale = (width as f32 / CARD_WIDTH).min(height as f32 / CARD_HEIGHT);
    (
        scale,
        (width as f32 - CARD_WIDTH * scale) / 2.0,
        (height as f32 - CARD_HEIGHT * scale) / 2.0,
    )
}

/// Everything a frame needs beyond the window's pattern and code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameState {
    /// The time drawn.
    pub time: UnixMillis,
    /// The window period.
    pub period: WindowPeriod,
    /// Device tilt.
    pub tilt: Tilt,
    /// When the last shake started, if any.
    pub shake_started: Option<UnixMillis>,
    /// Whether the capture shield is up.
    pub blocked: bool,
    /// Offset of the clock's local time from UTC, seconds.
    pub utc_offset_secs: i32,
}

impl CardUniforms {
    /// The uniforms of one frame.
    pub fn new(
        width: u32,
        height: u32,
        pattern: &Pattern,
        codeword: &Codeword,
        f: &FrameState,
    ) -> CardUniforms {
        let (scale, ox, oy) = fit(width, height);
        let layout = CardLayout::STANDARD;
        let geometry = CodeGeometry::STANDARD;
        let mut regions = [[0.0f32; 4]; 16];
        regions[region::HEADER] = rect(layout.header);
        regions[region::PORTRAIT] = rect(layout.portrait);
        regions[region::IDENTITY] = rect(layout.identity_fields);
        regions[region::ADDRESS] = rect(layout.address);
        regions[region::DATES] = rect(layout.dates);
        regions[region::EMBLEM] = rect(layout.emblem);
        regions[region::CLOCK] = rect(layout.clock);
        regions[region::FOOTER] = rect(layout.footer);
        regions[region::GRID] = rect(geometry.grid_rect());
        let ring = layout.sweep;
        regions[region::RING] = [ring.center[0], ring.center[1], ring.inner, ring.outer];
        for (i, mark) in geometry.marks.iter().enumerate() {
            let kind = if mark.kind == MarkKind::Orientation {
                1.0
            } else {
                0.0
            };
            regions[region::MARK0 + i] = [mark.rect.x, mark.rect.y, mark.rect.w, kind];
        }
        regions[region::CODE_INFO] = [geometry.module, GRID_COLS as f32, GRID_ROWS as f32, 1.0];
        let mut words = [0u32; 16];
        for i in 0..MODULE_COUNT {
            if codeword.module(i) {
                words[i / 32] |= 1 << (31 - i % 32);
            }
        }
        let code = std::array::from_fn(|j| std::array::from_fn(|k| words[j * 4 + k]));
        let seconds = f.time.as_secs_f64();
        let anim = (seconds * f64::from(pattern.animation.speed)).fract() as f32;
        let burst_age = f
            .shake_started
            .filter(|s| *s <= f.time)
            .map_or(-1.0, |s| (f.time.0 - s.0) as f32 / 1000.0);
        let local_ms = (f.time.0 as i64 + i64::from(f.utc_offset_secs) * 1000).rem_euclid(86_400_000);
        let left = (f.period.millis() - f.period.millis_into_window(f.time)) as f32 / 1000.0;
        let r = &pattern.rosette;
        CardUniforms {
            viewport: [width as f32, height as f32, scale, 0.0],
            origin: [ox, oy, 0.0, 0.0],
            rosette: [r.petals as f32, r.inner_petals as f32, r.amplitude, r.phase],
            rosette2: [r.rings as f32, anim, pattern.animation.direction, 0.0],
            guilloche: [
                pattern.guilloche.line_period,
                pattern.guilloche.wave_amplitude,
                pattern.guilloche.wave_cycles,
                pattern.guilloche.angle,
            ],
            palette: [
                pattern.palette.base_hue,
                pattern.palette.accent_hue,
                pattern.burst.hue_a,
                pattern.burst.hue_b,
            ],
            foil: [
                pattern.foil.film_nm,
                pattern.foil.gradient_angle,
                f.tilt.x,
                f.tilt.y,
            ],
            sweep: [
                pattern.sweep.start,
                pattern.sweep.direction,
                f.period.phase_at(f.time),
                burst_age,
            ],
            clock: [
                local_ms as f32 / 1000.0,
                left,
                f32::from(f.period.secs()),
                pattern.burst.rings as f32,
            ],
            state: [if f.blocked { 1.0 } else { 0.0 }, 0.0, 0.0, 0.0],
            regions,
            code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_block_is_a_whole_number_of_vec4s() {
        assert_eq!(std::mem::size_of::<CardUniforms>() % 16, 0);
        assert_eq!(std::mem::size_of::<CardUniforms>(), (10 + 16 + 4) * 16);
    }

    #[test]
    fn fit_letterboxes() {
        assert_eq!(fit(1080, 2340), (1.0, 0.0, 0.0));
        let (s, ox, oy) = fit(1080, 1920);
        assert!((s - 1920.0 / 2340.0).abs() < 1e-6 && ox > 0.0 && oy == 0.0);
    }
}
