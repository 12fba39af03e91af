// The per-frame pass: the window layer, and over it what moves every frame — the tilt
// foil, the time sweep, the shake burst, the clock and the window countdown — or the
// capture-blocked card instead. Follows common.wgsl.

@group(0) @binding(1) var window_layer: texture_2d<f32>;
@group(0) @binding(2) var layer_sampler: sampler;

// Interference colour of a thin film (refractive index 1.45) of thickness `d_nm`.
fn thin_film(d_nm: f32) -> vec3<f32> {
    let opd = 2.0 * 1.45 * d_nm;
    let lambda = vec3<f32>(650.0, 532.0, 450.0);
    return 0.5 + 0.5 * cos(TAU * opd / lambda);
}

// Foil colour at `p`: the film thickness follows the tilt (the whole colour turns as the
// phone tilts) and varies gently across the foil, slowly turning with the animation.
fn foil_colour(p: vec2<f32>) -> vec3<f32> {
    let f = card.foil;
    let ring = card.regions[REGION_RING];
    let d = p - ring.xy;
    let spin = card.rosette2.y * TAU * card.rosette2.z;
    let g = f.y + spin;
    let across = dot(d, vec2<f32>(cos(g), sin(g))) / ring.w;
    let thickness = f.x * (1.0 + 0.25 * f.z + 0.2 * f.w) + 22.0 * across;
    let sheen = pow(max(0.0, 1.0 - abs(dot(d / ring.w, vec2<f32>(0.7, -0.7)) - 0.6 * f.z)), 6.0);
    return thin_film(thickness) * 0.85 + 0.35 * sheen;
}

fn sweep(p: vec2<f32>) -> vec4<f32> {
    let ring = card.regions[REGION_RING];
    let polar = ring_polar(p);
    let band = cover(max(ring.z - polar.x, polar.x - ring.w));
    if band <= 0.0 {
        return vec4<f32>(0.0);
    }
    let s = card.sweep;
    let head = fract((s.x + s.y * s.z * TAU) / TAU) * TAU;
    // Angle behind the head, in the direction the sweep came from (0 at the head).
    let behind = fract((head - polar.y) * s.y / TAU) * TAU;
    let tail = exp(-behind / 1.1) * select(0.0, 1.0, behind < TAU * 0.45);
    let track = vec3<f32>(0.10, 0.12, 0.20);
    // Light enough in any hue (every channel at least 0.45) to stand out from the dark track.
    let lit = hsv(card.palette.y, 0.55, 1.0);
    var c = mix(track, lit, tail);
    // Ten ticks from the start angle on the outer rim, for reading by eye.
    let tick = fract((polar.y - s.x) / (TAU / 10.0) + 0.5) - 0.5;
    let tick_px = abs(tick) * TAU / 10.0 * polar.x;
    let in_tick = cover(tick_px - 3.0) * cover(ring.w - 16.0 - polar.x);
    c = mix(c, vec3<f32>(0.9), in_tick * 0.8);
    return vec4<f32>(c, band);
}

// The shake ripple: rings in the window's two burst hues expanding from the emblem,
// crossing the card in about a second. Returns colour and coverage.
fn burst(p: vec2<f32>) -> vec4<f32> {
    let age = card.sweep.w;
    let ring = card.regions[REGION_RING];
    let r = length(p - ring.xy);
    let front = age * 2400.0;
    let fade = 1.0 - age / 1.2;
    var out = vec4<f32>(0.0);
    let rings = u32(card.clock.w);
    for (var k = 0u; k < rings; k++) {
        let rk = front - f32(k) * 140.0;
        let w = (1.0 - smoothstep(18.0, 42.0, abs(r - rk))) * fade * 0.85;
        if w > out.a {
            let hue = select(card.palette.z, card.palette.w, k % 2u == 1u);
            out = vec4<f32>(hsv(hue, 0.9, 0.95), w);
        }
    }
    return out;
}

// Segments a..g of the digits 0-9 (bit 0 = a).
const DIGITS: array<u32, 10> = array<u32, 10>(0x3Fu, 0x06u, 0x5Bu, 0x4Fu, 0x66u, 0x6Du, 0x7Du, 0x07u, 0x7Fu, 0x6Fu);

// Coverage of a seven-segment digit `d` in a cell at `o` of size 44 x 70.
fn digit(p: vec2<f32>, o: vec2<f32>, d: u32) -> f32 {
    let q = p - o;
    let m = DIGITS[d];
    let t = 8.0;
    let rects = array<vec4<f32>, 7>(
        vec4<f32>(4.0, 0.0, 36.0, t),
        vec4<f32>(36.0, 4.0, t, 30.0),
        vec4<f32>(36.0, 36.0, t, 30.0),
        vec4<f32>(4.0, 62.0, 36.0, t),
        vec4<f32>(0.0, 36.0, t, 30.0),
        vec4<f32>(0.0, 4.0, t, 30.0),
        vec4<f32>(4.0, 31.0, 36.0, t),
    );
    var a = 0.0;
    for (var i = 0u; i < 7u; i++) {
        if ((m >> i) & 1u) == 1u {
            a = max(a, cover(rounded_rect(q, rects[i], 3.5)));
        }
    }
    return a;
}

// HH:MM:SS centred in the clock region, and the window countdown bar under it.
fn clock(p: vec2<f32>) -> vec4<f32> {
    let r = card.regions[REGION_CLOCK];
    if !in_rect(p, r) {
        return vec4<f32>(0.0);
    }
    let secs = u32(floor(card.clock.x));
    let parts = array<u32, 3>(secs / 3600u % 24u, secs / 60u % 60u, secs % 60u);
    let width = 6.0 * 56.0 + 2.0 * 24.0 - 12.0;
    var x = r.x + (r.z - width) * 0.5;
    var a = 0.0;
    for (var i = 0u; i < 3u; i++) {
        a = max(a, digit(p, vec2<f32>(x, r.y), parts[i] / 10u));
        a = max(a, digit(p, vec2<f32>(x + 56.0, r.y), parts[i] % 10u));
        x += 112.0;
        if i < 2u {
            let dot_a = cover(length(p - vec2<f32>(x + 6.0, r.y + 22.0)) - 5.0);
            let dot_b = cover(length(p - vec2<f32>(x + 6.0, r.y + 50.0)) - 5.0);
            a = max(a, max(dot_a, dot_b));
            x += 24.0;
        }
    }
    // Countdown: the bar empties as the window runs out.
    let left = clamp(card.clock.y / card.clock.z, 0.0, 1.0);
    let bar = vec4<f32>(r.x + 60.0, r.y + 86.0, (r.z - 120.0) * left, 10.0);
    let track = vec4<f32>(r.x + 60.0, r.y + 86.0, r.z - 120.0, 10.0);
    let b = cover(rounded_rect(p, bar, 5.0));
    let t = cover(rounded_rect(p, track, 5.0)) * 0.25;
    return vec4<f32>(a, b, t, 0.0);
}

fn blocked(p: vec2<f32>) -> vec3<f32> {
    var c = vec3<f32>(0.16, 0.17, 0.20);
    let hatch = line((p.x + p.y) / 40.0, 1.0 / (40.0 * card.viewport.z) * 1.41, 2.0);
    c = mix(c, vec3<f32>(0.22, 0.23, 0.27), hatch);
    // A crossed-out circle in the middle.
    let centre = CARD_SIZE * vec2<f32>(0.5, 0.42);
    let d = length(p - centre);
    let ring = cover(abs(d - 220.0) - 18.0);
    let n = normalize(vec2<f32>(1.0, 1.0));
    let slash = cover(abs(dot(p - centre, vec2<f32>(n.x, -n.y))) - 18.0) * cover(d - 230.0);
    return mix(c, vec3<f32>(0.92, 0.35, 0.30), max(ring, slash));
}

// The parts of a frame, each drawn as a quad over its own region (llvmpipe runs every
// instruction of a shader on every pixel it covers, branches or not, so small quads are
// what keeps a steady frame close to a blit there; on GPUs it saves work too):
//   instance 0: the whole target, 1: the sweep ring's square, 2: the clock region.
@vertex
fn vs_part(@builtin(vertex_index) i: u32, @builtin(instance_index) part: u32) -> VertexOut {
    let corner = vec2<f32>(f32(i & 1u), f32((i >> 1u) & 1u));
    var px: vec2<f32>;
    if part == 0u {
        px = corner * card.viewport.xy;
    } else {
        var r = card.regions[REGION_CLOCK];
        if part == 1u {
            let ring = card.regions[REGION_RING];
            r = vec4<f32>(ring.xy - vec2<f32>(ring.w + 2.0), vec2<f32>(2.0 * ring.w + 4.0));
        }
        px = card.origin.xy + (r.xy + corner * r.zw) * card.viewport.z;
    }
    var out: VertexOut;
    out.position = vec4<f32>(px.x / card.viewport.x * 2.0 - 1.0, 1.0 - px.y / card.viewport.y * 2.0, 0.0, 1.0);
    return out;
}

fn layer(frag: vec2<f32>) -> vec3<f32> {
    let size = vec2<f32>(textureDimensions(window_layer));
    return textureSampleLevel(window_layer, layer_sampler, frag / size, 0.0).rgb;
}

// The window layer as it is: the base of every frame, and the benchmark floor (a plain
// full-screen texture blit).
@fragment
fn fs_blit(in: VertexOut) -> @location(0) vec4<f32> {
    return vec4<f32>(layer(in.position.xy), 1.0);
}

// Foil over the emblem disc (the rosette lines show through) and the time sweep.
@fragment
fn fs_ring(in: VertexOut) -> @location(0) vec4<f32> {
    let p = to_design(in.position.xy);
    var c = layer(in.position.xy);
    let ring = card.regions[REGION_RING];
    let disc = cover(length(p - ring.xy) - ring.z * 0.92);
    c = mix(c, c * 0.35 + foil_colour(p) * 0.75, disc * 0.8);
    let sw = sweep(p);
    c = mix(c, sw.rgb, sw.a);
    return vec4<f32>(clamp(c, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}

// The clock and the window countdown.
@fragment
fn fs_clock(in: VertexOut) -> @location(0) vec4<f32> {
    let p = to_design(in.position.xy);
    var c = layer(in.position.xy);
    let ck = clock(p);
    c = mix(c, hsv(card.palette.x, 0.5, 0.35), ck.z);
    c = mix(c, hsv(card.palette.y, 0.8, 0.75), ck.y);
    c = mix(c, vec3<f32>(0.06, 0.07, 0.12), ck.x);
    return vec4<f32>(c, 1.0);
}

// The shake burst, blended over the whole card while it runs.
@fragment
fn fs_burst(in: VertexOut) -> @location(0) vec4<f32> {
    let p = to_design(in.position.xy);
    let inside = p.x >= 0.0 && p.y >= 0.0 && p.x < CARD_SIZE.x && p.y < CARD_SIZE.y;
    return select(vec4<f32>(0.0), burst(p), inside);
}

// The capture-blocked card: drawn over the whole target instead of everything else. Its
// bind group puts the generic "capture blocked" text layer (premultiplied, card-sized) in
// the `window_layer` slot; the real window layer is never bound.
@fragment
fn fs_blocked(in: VertexOut) -> @location(0) vec4<f32> {
    let p = to_design(in.position.xy);
    if p.x < 0.0 || p.y < 0.0 || p.x >= CARD_SIZE.x || p.y >= CARD_SIZE.y {
        return vec4<f32>(0.0, 0.0, 0.0, 1.0);
    }
    // Rg8: premultiplied grey in r, coverage in g.
    let words = textureSampleLevel(window_layer, layer_sampler, p / CARD_SIZE, 0.0);
    return vec4<f32>(blocked(p) * (1.0 - words.g) + vec3<f32>(words.r), 1.0);
}

// Temporal modulation, blended as `this + frame · (1 − 2δ)` (blend constant): the value is
// δ·(1 ± mask), so a Plus/Minus pair averages to the clean frame compressed into [δ, 1 − δ],
// and each single frame carries the COPY / 사본 mask at ±δ. Its bind group puts the mask
// (one channel, card-sized) in the `window_layer` slot.
@fragment
fn fs_modulate(in: VertexOut) -> @location(0) vec4<f32> {
    let p = to_design(in.position.xy);
    let inside = p.x >= 0.0 && p.y >= 0.0 && p.x < CARD_SIZE.x && p.y < CARD_SIZE.y;
    let mask = textureSampleLevel(window_layer, layer_sampler, p / CARD_SIZE, 0.0).r;
    let v = select(0.0, card.state.z * (1.0 + card.state.y * mask), inside);
    return vec4<f32>(v, v, v, 1.0);
}
