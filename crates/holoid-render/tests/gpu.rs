//! The renderer on a real wgpu adapter (lavapipe in CI). These tests fail when no adapter
//! is found, unless HOLOID_SKIP_GPU_TESTS=1 says to skip them.

use std::f32::consts::TAU;
use std::sync::{Mutex, OnceLock};

use holoid_core::code::geometry::{CodeGeometry, MODULE_COUNT};
use holoid_core::code::{Locator, Payload, TagCheck, decode};
use holoid_core::demo::DemoIdentity;
use holoid_core::layout::{CardLayout, Rect};
use holoid_core::motion::Tilt;
use holoid_core::pattern::Pattern;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::{AcceptPolicy, WindowPeriod};
use holoid_render::uniforms::fit;
use holoid_render::{
    CaptureState, CardRenderer, FrameParams, GpuContext, Modulation, RenderError, RenderKit, RendererOptions,
    TARGET_FORMAT,
};
use image::RgbaImage;

const T0: UnixMillis = UnixMillis(1_795_603_792_250);

/// The shared device, or `None` when skipping is asked for.
fn gpu() -> Option<&'static GpuContext> {
    static GPU: OnceLock<Option<GpuContext>> = OnceLock::new();
    GPU.get_or_init(|| {
        if std::env::var("HOLOID_SKIP_GPU_TESTS").as_deref() == Ok("1") {
            eprintln!("HOLOID_SKIP_GPU_TESTS=1: SKIPPING the GPU renderer tests");
            return None;
        }
        match GpuContext::headless() {
            Ok(ctx) => Some(ctx),
            Err(e) => panic!("{}", holoid_testkit::gpu::no_adapter(&e)),
        }
    })
    .as_ref()
}

struct Card {
    demo: DemoIdentity,
    renderer: Mutex<CardRenderer>,
}

fn card(seed: u64, width: u32, height: u32) -> Option<Card> {
    let ctx = gpu()?;
    let demo = DemoIdentity::generate(seed);
    let options = RendererOptions {
        width,
        height,
        ..Default::default()
    };
    let renderer = CardRenderer::for_demo(ctx, &demo, options).expect("renderer");
    Some(Card {
        demo,
        renderer: Mutex::new(renderer),
    })
}

impl Card {
    fn frame(&self, f: FrameParams) -> RgbaImage {
        self.renderer.lock().unwrap().render_to_image(&f).expect("render")
    }

    fn at(&self, t: UnixMillis) -> RgbaImage {
        self.frame(FrameParams {
            time: t,
            ..Default::default()
        })
    }
}

/// Pixel rectangle of a design-unit rectangle, shrunk by `inset` design units.
fn px_rect(img: &RgbaImage, r: Rect, inset: f32) -> (u32, u32, u32, u32) {
    let (s, ox, oy) = fit(img.width(), img.height());
    let x0 = (ox + (r.x + inset) * s).ceil() as u32;
    let y0 = (oy + (r.y + inset) * s).ceil() as u32;
    let x1 = (ox + (r.x + r.w - inset) * s).floor() as u32;
    let y1 = (oy + (r.y + r.h - inset) * s).floor() as u32;
    (x0, y0, x1, y1)
}

/// Mean absolute difference per channel (0..1) of two images inside `r`.
fn mean_diff(a: &RgbaImage, b: &RgbaImage, r: Rect) -> f64 {
    mean_diff_inset(a, b, r, 2.0)
}

/// The same, `inset` design units inside `r`.
fn mean_diff_inset(a: &RgbaImage, b: &RgbaImage, r: Rect, inset: f32) -> f64 {
    let (x0, y0, x1, y1) = px_rect(a, r, inset);
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            for c in 0..3 {
                sum += u64::from(a.get_pixel(x, y)[c].abs_diff(b.get_pixel(x, y)[c]));
                n += 1;
            }
        }
    }
    sum as f64 / n as f64 / 255.0
}

fn luma(p: &image::Rgba<u8>) -> f32 {
    (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0
}

/// Reads the data modules at their centres, as a camera-less detector would.
fn read_modules(img: &RgbaImage) -> Vec<Option<bool>> {
    let (s, ox, oy) = fit(img.width(), img.height());
    let g = CodeGeometry::STANDARD;
    (0..MODULE_COUNT)
        .map(|i| {
            let [cx, cy] = g.module_rect(i).center();
            Some(luma(img.get_pixel((ox + cx * s) as u32, (oy + cy * s) as u32)) < 0.5)
        })
        .collect()
}

#[test]
fn code_decodes_from_the_gpu_frame_in_several_windows_and_sizes() {
    for (w, h) in [(1080, 2340), (540, 1170), (720, 1600)] {
        let Some(card) = card(1, w, h) else { return };
        let c = &card.demo.credential.credential;
        let k_dev = card.demo.master.device_key_for(c);
        for k in 0..4u64 {
            let t = UnixMillis(T0.0 + k * 5_000 + 1_300);
            let img = card.at(t);
            let decoded = decode(&read_modules(&img)).unwrap_or_else(|e| panic!("{w}x{h} window {k}: {e}"));
            let period = WindowPeriod::default();
            let expected = Payload::issue(&k_dev, Locator::of(&c.id), period, period.window_at(t));
            assert_eq!(decoded.payload, expected, "{w}x{h} window {k}");
            assert_eq!(decoded.corrected_bytes, 0, "a clean render needs no correction");
            let accepted = AcceptPolicy::default().accepted(period, t);
            assert!(matches!(
                decoded.payload.check(&k_dev, t, accepted),
                TagCheck::Fresh { offset: 0, .. }
            ));
        }
    }
}

#[test]
fn same_inputs_render_the_same_image() {
    let Some(card) = card(2, 540, 1170) else { return };
    let a = card.at(T0);
    let b = card.at(T0);
    let whole = Rect::new(0.0, 0.0, 1080.0, 2340.0);
    assert!(mean_diff(&a, &b, whole) <= 1.0 / 255.0);
}

#[test]
fn adjacent_windows_differ_in_security_layers_only() {
    let Some(card) = card(3, 540, 1170) else { return };
    let a = card.at(T0);
    let b = card.at(UnixMillis(T0.0 + 5_000));
    let l = CardLayout::STANDARD;
    // Inside its rounded frame (whose anti-aliased corners blend the background).
    assert_eq!(
        mean_diff_inset(&a, &b, l.portrait, 16.0),
        0.0,
        "the portrait must not change with the window"
    );
    // Glyph cores (where the text layer is opaque) are the same pixels in both windows.
    let c = &card.demo.credential.credential;
    let text = holoid_text::TextPainter::new().credential_layer(c, a.width(), a.height());
    let mut opaque = 0;
    for (x, y, t) in text.enumerate_pixels() {
        if t[3] == 255 {
            opaque += 1;
            assert_eq!(
                a.get_pixel(x, y),
                b.get_pixel(x, y),
                "text pixel {x},{y} changed with the window"
            );
        }
    }
    assert!(opaque > 2_000, "only {opaque} opaque text pixels");
    let background = Rect::new(480.0, 560.0, 520.0, 200.0);
    let emblem = l.emblem;
    let grid = CodeGeometry::STANDARD.grid_rect();
    for (name, r, min) in [
        ("background", background, 0.02),
        ("emblem", emblem, 0.05),
        ("code", grid, 0.2),
    ] {
        let d = mean_diff(&a, &b, r);
        assert!(d > min, "{name} differs by only {d:.4} between adjacent windows");
    }
}

/// Circular mean hue (degrees) of the foil disc, weighted by chroma.
fn foil_hue(img: &RgbaImage) -> f32 {
    let l = CardLayout::STANDARD;
    let (s, ox, oy) = fit(img.width(), img.height());
    let [cx, cy] = l.sweep.center;
    let r = l.sweep.inner * 0.85;
    let (mut sx, mut sy) = (0.0f32, 0.0f32);
    for y in 0..img.height() {
        for x in 0..img.width() {
            let (dx, dy) = ((x as f32 - ox) / s - cx, (y as f32 - oy) / s - cy);
            if dx * dx + dy * dy > r * r {
                continue;
            }
            let p = img.get_pixel(x, y);
            let [r8, g8, b8] = [p[0], p[1], p[2]].map(|c| f32::from(c) / 255.0);
            let (max, min) = (r8.max(g8).max(b8), r8.min(g8).min(b8));
            let chroma = max - min;
            if chroma < 1e-3 {
                continue;
            }
            let h = if max == r8 {
                ((g8 - b8) / chroma).rem_euclid(6.0)
            } else if max == g8 {
                (b8 - r8) / chroma + 2.0
            } else {
                (r8 - g8) / chroma + 4.0
            } * 60.0;
            sx += chroma * h.to_radians().cos();
            sy += chroma * h.to_radians().sin();
        }
    }
    sy.atan2(sx).to_degrees().rem_euclid(360.0)
}

#[test]
fn tilt_moves_the_foil_hue_by_at_least_90_degrees() {
    // Eight keys (the film thickness of each is drawn from its window seed).
    for seed in 1..=8 {
        let Some(card) = card(seed, 540, 1170) else { return };
        let tilted = |deg: f32| {
            card.frame(FrameParams {
                time: T0,
                tilt: Tilt {
                    x: deg.to_radians(),
                    y: 0.0,
                },
                ..Default::default()
            })
        };
        let (a, b) = (foil_hue(&tilted(-30.0)), foil_hue(&tilted(30.0)));
        let d = (a - b).rem_euclid(360.0);
        let d = d.min(360.0 - d);
        assert!(
            d >= 90.0,
            "seed {seed}: foil hue {a:.0}° at -30°, {b:.0}° at +30°: moved only {d:.0}°"
        );
    }
}

#[test]
fn a_shake_bursts_then_returns_to_normal() {
    let Some(card) = card(6, 540, 1170) else { return };
    let shake = UnixMillis(T0.0 - 300);
    let plain = card.at(T0);
    let during = card.frame(FrameParams {
        time: T0,
        shake_started: Some(shake),
        ..Default::default()
    });
    let burst_zone = Rect::new(80.0, 800.0, 920.0, 300.0);
    assert!(
        mean_diff(&plain, &during, burst_zone) > 0.03,
        "no visible burst 0.3 s after the shake"
    );
    let later = UnixMillis(T0.0 + 1_500);
    let after = card.frame(FrameParams {
        time: later,
        shake_started: Some(shake),
        ..Default::default()
    });
    let whole = Rect::new(0.0, 0.0, 1080.0, 2340.0);
    assert_eq!(
        mean_diff(&card.at(later), &after, whole),
        0.0,
        "the burst must be over 1.8 s after the shake"
    );
}

/// The sweep's head angle read from the frame: the largest drop in brightness just ahead
/// of the lit tail, along the middle of the ring (the reading ticks sit on its outer rim).
fn sweep_phase(img: &RgbaImage, pattern: &Pattern) -> f32 {
    let l = CardLayout::STANDARD;
    let (s, ox, oy) = fit(img.width(), img.height());
    let radius = (l.sweep.inner + l.sweep.outer) / 2.0;
    let n = 1440;
    let sample = |i: usize| {
        let a = i as f32 / n as f32 * TAU;
        let (x, y) = (
            l.sweep.center[0] + radius * a.sin(),
            l.sweep.center[1] - radius * a.cos(),
        );
        luma(img.get_pixel((ox + x * s) as u32, (oy + y * s) as u32))
    };
    let dir = pattern.sweep.direction;
    let step = |i: usize| if dir > 0.0 { (i + 1) % n } else { (i + n - 1) % n };
    let head = (0..n)
        .max_by(|&a, &b| (sample(a) - sample(step(a))).total_cmp(&(sample(b) - sample(step(b)))))
        .unwrap();
    pattern.sweep.phase_of(head as f32 / n as f32 * TAU)
}

#[test]
fn the_sweep_encodes_time_inside_the_window_to_100_ms() {
    let Some(card) = card(7, 1080, 2340) else { return };
    let c = &card.demo.credential.credential;
    let k_dev = card.demo.master.device_key_for(c);
    let period = WindowPeriod::default();
    for offset in [150u64, 1_100, 2_450, 3_900, 4_800] {
        let t = UnixMillis(period.start_of(period.window_at(T0)).0 + offset);
        let pattern = Pattern::for_window(&k_dev, period.window_at(t));
        let phase = sweep_phase(&card.at(t), &pattern);
        let read = period.time_of_phase(period.window_at(t), phase);
        let err = read.0.abs_diff(t.0);
        assert!(err <= 100, "sweep read {read} for {t}: {err} ms off");
    }
}

#[test]
fn a_blocked_frame_shows_no_personal_data() {
    let (Some(a), Some(b)) = (card(8, 540, 1170), card(9, 540, 1170)) else {
        return;
    };
    let blocked = FrameParams {
        time: T0,
        capture: CaptureState::Recording,
        ..Default::default()
    };
    let (fa, fb) = (a.frame(blocked), b.frame(blocked));
    let whole = Rect::new(0.0, 0.0, 1080.0, 2340.0);
    // Two holders' blocked frames are the same image: nothing of either person is in them.
    assert_eq!(mean_diff(&fa, &fb, whole), 0.0);
    let l = CardLayout::STANDARD;
    assert!(
        mean_diff(&fa, &a.at(T0), l.portrait) > 0.2,
        "the portrait must be gone"
    );
    for state in [CaptureState::Mirrored, CaptureState::ScreenshotTaken] {
        let f = a.frame(FrameParams {
            capture: state,
            ..blocked
        });
        assert_eq!(mean_diff(&f, &fa, whole), 0.0);
    }
    // Lowering the shield brings the card back.
    assert!(mean_diff(&a.at(T0), &fa, l.portrait) > 0.2);
}

#[test]
fn bad_sizes_are_refused() {
    let Some(ctx) = gpu() else { return };
    let demo = DemoIdentity::generate(1);
    let c = &demo.credential.credential;
    let k = demo.master.device_key_for(c);
    for (w, h) in [(0, 100), (100, 0), (100_000, 100)] {
        let options = RendererOptions {
            width: w,
            height: h,
            ..Default::default()
        };
        match CardRenderer::new(ctx, c, &k, &demo.portrait_png, options) {
            Err(RenderError::BadSize { .. }) => {}
            other => panic!("{w}x{h}: expected BadSize, got {:?}", other.err()),
        }
    }
    assert!(matches!(
        CardRenderer::new(ctx, c, &k, b"not a png", RendererOptions::default()),
        Err(RenderError::Portrait(_))
    ));
}

#[test]
fn modulated_pairs_average_to_the_clean_frame_and_each_frame_shows_copy() {
    let Some(card) = card(10, 540, 1170) else { return };
    let delta = RendererOptions::default().modulation_delta;
    let frame = |m| {
        card.frame(FrameParams {
            time: T0,
            modulation: m,
            ..Default::default()
        })
    };
    let (off, plus, minus) = (
        frame(Modulation::Off),
        frame(Modulation::Plus),
        frame(Modulation::Minus),
    );
    let mask = holoid_text::TextPainter::new().copy_mask(off.width(), off.height());
    let (mut pair_err, mut pair_max, mut n) = (0.0f64, 0.0f64, 0u64);
    let (mut on_mark, mut on_n, mut off_mark_max) = (0.0f64, 0u64, 0u8);
    for (x, y, o) in off.enumerate_pixels() {
        let (p, m) = (plus.get_pixel(x, y), minus.get_pixel(x, y));
        let a = mask.get_pixel(x, y)[3];
        for c in 0..3 {
            // The clean frame under modulation: compressed into [δ, 1 − δ].
            let clean = f64::from(o[c]) * (1.0 - 2.0 * f64::from(delta)) + 255.0 * f64::from(delta);
            let mean = (f64::from(p[c]) + f64::from(m[c])) / 2.0;
            pair_err += (mean - clean).abs();
            pair_max = pair_max.max((mean - clean).abs());
            n += 1;
            if a == 255 {
                on_mark += f64::from(p[c]) - f64::from(m[c]);
                on_n += 1;
            } else if a == 0 {
                off_mark_max = off_mark_max.max(p[c].abs_diff(m[c]));
            }
        }
    }
    let mean_err = pair_err / n as f64 / 255.0;
    assert!(
        mean_err <= 1.0 / 255.0,
        "pair mean differs from the clean frame by {mean_err:.5}"
    );
    assert!(pair_max <= 1.5, "largest pair-mean error {pair_max} / 255");
    let contrast = on_mark / on_n as f64;
    // Each frame is ±δ·255 ≈ ±15 from the clean frame on the mark: 30 between the two.
    assert!(
        contrast >= 2.0 * f64::from(delta) * 255.0 - 2.0,
        "mark contrast only {contrast:.1} / 255"
    );
    assert!(off_mark_max <= 1, "frames differ by {off_mark_max} off the mark");
}

#[test]
fn bgra_targets_render_the_same_card_and_srgb_is_refused() {
    let Some(ctx) = gpu() else { return };
    let demo = DemoIdentity::generate(11);
    let c = &demo.credential.credential;
    let k = demo.master.device_key_for(c);
    let make = |format| {
        let options = RendererOptions {
            width: 270,
            height: 585,
            format,
            ..Default::default()
        };
        CardRenderer::new(ctx, c, &k, &demo.portrait_png, options)
    };
    let frame = FrameParams {
        time: T0,
        ..Default::default()
    };
    let rgba = make(wgpu::TextureFormat::Rgba8Unorm)
        .unwrap()
        .render_to_image(&frame)
        .unwrap();
    let bgra = make(wgpu::TextureFormat::Bgra8Unorm)
        .unwrap()
        .render_to_image(&frame)
        .unwrap();
    assert_eq!(mean_diff(&rgba, &bgra, Rect::new(0.0, 0.0, 1080.0, 2340.0)), 0.0);
    assert!(matches!(
        make(wgpu::TextureFormat::Rgba8UnormSrgb),
        Err(RenderError::Format(_))
    ));
}

#[test]
fn the_card_is_located_and_its_code_read_in_simulated_photos() {
    use holoid_detect::{locate::locate, read_modules};
    use holoid_sim::camera::{self, BEZEL, CameraParams, Level, Pose, Screen};
    use holoid_sim::display::LinearFrame;
    use holoid_sim::rng::Rng;
    use holoid_sim::species::random_display;
    let Some(card) = card(12, 1080, 2340) else { return };
    let frame = LinearFrame::from_srgb(&card.at(T0));
    let design = CodeGeometry::STANDARD.mark_centers();
    for (level, seed) in [(Level::Easy, 1), (Level::Normal, 2), (Level::Normal, 3)] {
        let mut rng = Rng::new(seed);
        let display = random_display(&mut rng);
        let pose = Pose::random(level, (720, 1280), (1080, 2340), &mut rng);
        let params = CameraParams {
            glare: None,
            motion_blur: None,
            ..CameraParams::random(level, 720, 1280, &mut rng)
        };
        let shot = camera::photograph(
            &Screen {
                frame: &frame,
                display,
                bezel: BEZEL,
            },
            &pose,
            &params,
            &mut rng,
        );
        let jpeg = camera::encode_jpeg(&shot, params.jpeg_quality);
        let grey = image::load_from_memory(&jpeg).unwrap().to_luma8();
        let found = locate(&grey).unwrap_or_else(|e| panic!("{level:?} seed {seed}: {e}"));
        let h = pose.homography((1080, 2340));
        for (m, d) in found.marks.iter().zip(design) {
            let [ex, ey] = h.apply([f64::from(d[0]), f64::from(d[1])]);
            let err = (m.center[0] - ex).hypot(m.center[1] - ey);
            assert!(
                err < 1.5,
                "{level:?} seed {seed}: mark {err:.2} px from where the pose puts it"
            );
        }
        let decoded = decode(&read_modules(&grey, &found.to_image)).unwrap();
        assert_eq!(
            decoded.payload.window_low,
            WindowPeriod::default().window_at(T0).low32()
        );
    }
}

/// Cards drawn from one kit share its shaders and fonts, draw exactly what a renderer with a
/// kit of its own draws, and a kit refuses a target of another format.
#[test]
fn renderers_from_one_kit_share_it_and_draw_the_same_card() {
    let Some(ctx) = gpu() else { return };
    let kit = RenderKit::new(ctx, TARGET_FORMAT).expect("kit");
    let (a, b) = (DemoIdentity::generate(21), DemoIdentity::generate(22));
    let small = RendererOptions {
        width: 270,
        height: 585,
        ..Default::default()
    };
    let with_kit = |demo: &DemoIdentity, options: RendererOptions| {
        let c = &demo.credential.credential;
        CardRenderer::with_kit(
            &kit,
            c,
            &demo.master.device_key_for(c),
            &demo.portrait_png,
            options,
        )
    };
    let mut first = with_kit(&a, small).expect("first card");
    let mut second = with_kit(&b, small).expect("second card");
    let mut resized = with_kit(
        &a,
        RendererOptions {
            width: 360,
            height: 780,
            ..small
        },
    )
    .expect("the first card at another size");
    for r in [&first, &second, &resized] {
        assert!(r.kit().same_as(&kit));
    }
    let mut own = CardRenderer::for_demo(ctx, &a, small).expect("a renderer with its own kit");
    assert!(!own.kit().same_as(&kit));
    let f = FrameParams {
        time: T0,
        tilt: Tilt { x: 0.2, y: -0.1 },
        ..Default::default()
    };
    let shared = first.render_to_image(&f).unwrap();
    assert_eq!(
        shared,
        own.render_to_image(&f).unwrap(),
        "the kit changes nothing drawn"
    );
    assert_ne!(
        shared,
        second.render_to_image(&f).unwrap(),
        "another holder's card"
    );
    assert_eq!(resized.render_to_image(&f).unwrap().dimensions(), (360, 780));
    let bgra = RendererOptions {
        format: wgpu::TextureFormat::Bgra8Unorm,
        ..small
    };
    assert!(matches!(with_kit(&a, bgra), Err(RenderError::Format(_))));
}
