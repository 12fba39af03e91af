// Shared by every card shader: the uniform block (filled from holoid::render::uniforms,
// which mirrors this layout field for field), the full-screen triangle, and helpers.

struct Card {
    // width px, height px, px per design unit, 0
    viewport: vec4<f32>,
    // card origin x px, y px, 0, 0
    origin: vec4<f32>,
    // petals, inner petals, amplitude, phase
    rosette: vec4<f32>,
    // rings, animation turns (0..1), animation direction, 0
    rosette2: vec4<f32>,
    // line period du, wave amplitude du, wave cycles, angle
    guilloche: vec4<f32>,
    // base hue, accent hue, burst hue a, burst hue b (degrees)
    palette: vec4<f32>,
    // film nm, gradient angle, tilt x rad, tilt y rad
    foil: vec4<f32>,
    // sweep start rad, sweep direction, sweep phase 0..1, burst age s (< 0: none)
    sweep: vec4<f32>,
    // local seconds of day, seconds left in the window, period s, burst rings
    clock: vec4<f32>,
    // capture blocked (0/1), modulation sign (-1, 0, +1), modulation delta (0..1), 0
    state: vec4<f32>,
    // regions, see REGION_* below: x, y, w, h in design units (the ring: cx, cy, inner, outer)
    regions: array<vec4<f32>, 16>,
    // data modules, 480 bits, module i is bit 31 - i % 32 of word i / 32
    code: array<vec4<u32>, 4>,
}

const REGION_HEADER: u32 = 0u;
const REGION_PORTRAIT: u32 = 1u;
const REGION_IDENTITY: u32 = 2u;
const REGION_ADDRESS: u32 = 3u;
const REGION_DATES: u32 = 4u;
const REGION_EMBLEM: u32 = 5u;
const REGION_CLOCK: u32 = 6u;
const REGION_FOOTER: u32 = 7u;
const REGION_GRID: u32 = 8u;
const REGION_RING: u32 = 9u;
// 10..13: the corner marks (x, y, side, kind: 0 finder, 1 orientation)
const REGION_MARK0: u32 = 10u;
// 14: module size, grid columns, grid rows, quiet zone modules
const REGION_CODE_INFO: u32 = 14u;

const PI: f32 = 3.14159265358979;
const TAU: f32 = 6.28318530717959;
const CARD_SIZE: vec2<f32> = vec2<f32>(1080.0, 2340.0);

@group(0) @binding(0) var<uniform> card: Card;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
}

// One triangle that covers the whole target.
@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VertexOut {
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    var out: VertexOut;
    out.position = vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
    return out;
}

// Pixel position (framebuffer, y down) to design units.
fn to_design(frag: vec2<f32>) -> vec2<f32> {
    return (frag - card.origin.xy) / card.viewport.z;
}

fn in_rect(p: vec2<f32>, r: vec4<f32>) -> bool {
    return p.x >= r.x && p.y >= r.y && p.x < r.x + r.z && p.y < r.y + r.w;
}

// Signed distance to a rounded rectangle (negative inside).
fn rounded_rect(p: vec2<f32>, r: vec4<f32>, radius: f32) -> f32 {
    let c = r.xy + r.zw * 0.5;
    let q = abs(p - c) - r.zw * 0.5 + vec2<f32>(radius);
    return length(max(q, vec2<f32>(0.0))) + min(max(q.x, q.y), 0.0) - radius;
}

// Anti-aliased coverage of a shape from its signed distance in design units.
fn cover(d: f32) -> f32 {
    let aa = 0.75 / card.viewport.z;
    return clamp(0.5 - d / max(aa, 1e-4), 0.0, 1.0);
}

fn hsv(h_deg: f32, s: f32, v: f32) -> vec3<f32> {
    let h = fract(h_deg / 360.0) * 6.0;
    let k = vec3<f32>(5.0, 3.0, 1.0);
    let t = (k + h) % vec3<f32>(6.0);
    return v - v * s * clamp(min(t, 4.0 - t), vec3<f32>(0.0), vec3<f32>(1.0));
}

// Coverage of thin lines at the integer values of a coordinate `x` that changes by `fw`
// per pixel; the lines are `w` pixels wide. (Derivatives are passed in, not taken with
// fwidth, so the helper may be called in non-uniform control flow.)
fn line(x: f32, fw: f32, w: f32) -> f32 {
    let d = abs(fract(x + 0.5) - 0.5);
    let f = max(fw, 1e-5);
    return 1.0 - smoothstep(0.5 * w * f, (0.5 * w + 1.0) * f, d);
}

// Whether data module `index` is dark.
fn module_dark(index: u32) -> bool {
    let word = index / 32u;
    let v = card.code[word / 4u][word % 4u];
    return ((v >> (31u - index % 32u)) & 1u) == 1u;
}

// The sweep ring's polar coordinates: (radius du, angle from 12 o'clock clockwise, 0..TAU).
fn ring_polar(p: vec2<f32>) -> vec2<f32> {
    let ring = card.regions[REGION_RING];
    let d = p - ring.xy;
    let angle = atan2(d.x, -d.y);
    return vec2<f32>(length(d), select(angle, angle + TAU, angle < 0.0));
}
