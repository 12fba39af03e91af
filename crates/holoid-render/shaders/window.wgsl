// The window layer: everything that changes only when the time window (or the credential)
// changes. Rendered once per window into a texture that every frame samples.
// Follows common.wgsl.

@group(0) @binding(1) var portrait_tex: texture_2d<f32>;
@group(0) @binding(2) var text_tex: texture_2d<f32>;
@group(0) @binding(3) var layer_sampler: sampler;

const INK: vec3<f32> = vec3<f32>(0.075, 0.09, 0.16);

// Fine wavy lines in two crossing families over the whole card.
fn guilloche(p: vec2<f32>) -> f32 {
    let g = card.guilloche;
    let px = 1.0 / card.viewport.z;
    var total = 0.0;
    for (var family = 0; family < 2; family++) {
        let a = g.w + f32(family) * PI / 3.0;
        let dir = vec2<f32>(cos(a), sin(a));
        let u = dot(p, dir);
        let v = dot(p, vec2<f32>(-dir.y, dir.x));
        let k = TAU * g.z / CARD_SIZE.x;
        let wave = g.y * sin(k * u + f32(family) * 1.7) + 0.35 * g.y * sin(3.0 * k * u);
        let x = (v + wave) / g.x;
        let slope = sqrt(1.0 + pow(g.y * k * 2.0, 2.0));
        total = max(total, line(x, px * slope / g.x, 1.1));
    }
    return total;
}

// The rosette: concentric petal curves around the ring centre, out to the ring's inner edge.
fn rosette(p: vec2<f32>) -> f32 {
    let ring = card.regions[REGION_RING];
    let polar = ring_polar(p);
    let r = polar.x;
    let radius = ring.z;
    if r > radius * 0.98 {
        return 0.0;
    }
    let ro = card.rosette;
    let theta = polar.y;
    let shape = 1.0 + ro.z * sin(ro.x * theta + ro.w) + 0.5 * ro.z * sin(ro.y * theta - ro.w);
    let r0 = radius * 0.98 / (1.0 + 1.5 * ro.z);
    let x = r / (r0 * shape) * card.rosette2.x;
    let fw = 1.5 * card.rosette2.x / (r0 * shape * card.viewport.z);
    return line(x, fw, 1.2) * smoothstep(0.0, 0.15, r / radius);
}

fn corner_mark(p: vec2<f32>, m: vec4<f32>) -> vec4<f32> {
    // Returns (covered, dark) packed: x = inside quiet zone or mark, y = darkness.
    let mod_size = card.regions[REGION_CODE_INFO].x;
    let quiet = vec4<f32>(m.xy - vec2<f32>(mod_size), vec2<f32>(m.z + 2.0 * mod_size));
    if !in_rect(p, quiet) {
        return vec4<f32>(0.0);
    }
    if !in_rect(p, vec4<f32>(m.xy, m.zz)) {
        return vec4<f32>(1.0, 0.0, 0.0, 0.0);
    }
    let cell = vec2<i32>(floor((p - m.xy) / mod_size));
    let ring = max(abs(cell.x - 3), abs(cell.y - 3));
    var dark = ring != 2;
    if m.w > 0.5 {
        dark = ring % 2 == 1;
    }
    return vec4<f32>(1.0, select(0.0, 1.0, dark), 0.0, 0.0);
}

@fragment
fn fs_window(in: VertexOut) -> @location(0) vec4<f32> {
    let p = to_design(in.position.xy);
    if p.x < 0.0 || p.y < 0.0 || p.x >= CARD_SIZE.x || p.y >= CARD_SIZE.y {
        return vec4<f32>(0.0, 0.0, 0.0, 1.0);
    }
    let base = card.palette.x;
    let accent = card.palette.y;
    // Pearl paper with a soft diagonal tint of the window's hue.
    let tint = hsv(base, 0.10, 0.97);
    var c = mix(vec3<f32>(0.965, 0.965, 0.975), tint, 0.5 + 0.5 * sin((p.x + p.y) / 900.0));
    c = mix(c, hsv(base, 0.55, 0.70), 0.30 * guilloche(p));
    c = mix(c, hsv(accent, 0.65, 0.55), 0.55 * rosette(p));

    // Header band.
    let header = card.regions[REGION_HEADER];
    c = mix(c, hsv(base, 0.45, 0.42), 0.85 * cover(rounded_rect(p, header, 18.0)));

    // Portrait with a thin frame.
    let pr = card.regions[REGION_PORTRAIT];
    let frame = cover(rounded_rect(p, pr, 14.0) - 4.0);
    c = mix(c, hsv(base, 0.35, 0.45), frame);
    if in_rect(p, pr) {
        let uv = (p - pr.xy) / pr.zw;
        let img = textureSampleLevel(portrait_tex, layer_sampler, uv, 0.0).rgb;
        c = mix(c, img, cover(rounded_rect(p, pr, 14.0)));
    }

    // Text layer (premultiplied ink coverage in alpha), drawn by the CPU once per credential.
    let text = textureSampleLevel(text_tex, layer_sampler, p / CARD_SIZE, 0.0);
    c = c * (1.0 - text.a) + text.rgb;

    // The code: light quiet zone, rounded dark modules.
    let info = card.regions[REGION_CODE_INFO];
    let mod_size = info.x;
    let grid = card.regions[REGION_GRID];
    let quiet = vec4<f32>(grid.xy - vec2<f32>(mod_size), grid.zw + vec2<f32>(2.0 * mod_size));
    if in_rect(p, quiet) {
        c = mix(c, vec3<f32>(0.975, 0.975, 0.985), 0.92);
        if in_rect(p, grid) {
            let cell = vec2<u32>(floor((p - grid.xy) / mod_size));
            let byte = (cell.y / 2u) * (u32(info.y) / 4u) + cell.x / 4u;
            let bit = (cell.y % 2u) * 4u + cell.x % 4u;
            if module_dark(byte * 8u + bit) {
                let m = vec4<f32>(grid.xy + vec2<f32>(cell) * mod_size, mod_size, mod_size);
                c = mix(c, INK, cover(rounded_rect(p, m, mod_size * 0.22)));
            }
        }
    }
    for (var i = 0u; i < 4u; i++) {
        let mark = corner_mark(p, card.regions[REGION_MARK0 + i]);
        if mark.x > 0.0 {
            c = mix(vec3<f32>(0.975, 0.975, 0.985), INK, mark.y);
        }
    }
    return vec4<f32>(c, 1.0);
}
