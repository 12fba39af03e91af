//! Image snapshots of the rendered card, compared with a tolerance (different GPUs and
//! drivers round transcendental functions differently). A missing reference fails; on a
//! failure `NAME-actual.png` and `NAME-diff.png` are written beside the reference.
//! `HOLOID_UPDATE_SNAPSHOTS=1 cargo test --release --test snapshots` rewrites the references
//! (look at them before committing). Needs a GPU adapter unless HOLOID_SKIP_GPU_TESTS=1.

use std::path::PathBuf;

use holoid_core::demo::DemoIdentity;
use holoid_core::motion::Tilt;
use holoid_core::time::UnixMillis;
use holoid_render::{CaptureState, CardRenderer, FrameParams, GpuContext, Modulation, RendererOptions};
use image::{Rgba, RgbaImage};

/// Mean absolute difference per channel allowed, out of 255.
const MEAN_TOLERANCE: f64 = 3.0;
/// Share of channels allowed to differ by more than 48 / 255.
const OUTLIER_SHARE: f64 = 0.01;

fn check(name: &str, actual: &RgbaImage) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let reference = dir.join(format!("{name}.png"));
    if std::env::var("HOLOID_UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        actual.save(&reference).expect("write reference");
        eprintln!("updated {}", reference.display());
        return;
    }
    let expected = match image::open(&reference) {
        Ok(img) => img.to_rgba8(),
        Err(e) => {
            actual.save(dir.join(format!("{name}-actual.png"))).unwrap();
            panic!(
                "missing reference {} ({e}); wrote {name}-actual.png: look at it, then run with \
                 HOLOID_UPDATE_SNAPSHOTS=1",
                reference.display()
            );
        }
    };
    assert_eq!(expected.dimensions(), actual.dimensions(), "{name}: size changed");
    let mut diff = RgbaImage::new(actual.width(), actual.height());
    let (mut sum, mut outliers, mut n) = (0u64, 0u64, 0u64);
    for (x, y, a) in actual.enumerate_pixels() {
        let e = expected.get_pixel(x, y);
        let mut worst = 0u8;
        for c in 0..3 {
            let d = a[c].abs_diff(e[c]);
            sum += u64::from(d);
            outliers += u64::from(d > 48);
            n += 1;
            worst = worst.max(d);
        }
        diff.put_pixel(x, y, Rgba([worst.saturating_mul(4), 0, 0, 255]));
    }
    let mean = sum as f64 / n as f64;
    let share = outliers as f64 / n as f64;
    if mean > MEAN_TOLERANCE || share > OUTLIER_SHARE {
        actual.save(dir.join(format!("{name}-actual.png"))).unwrap();
        diff.save(dir.join(format!("{name}-diff.png"))).unwrap();
        panic!(
            "{name}: mean difference {mean:.2}/255 (allowed {MEAN_TOLERANCE}), {:.2}% outliers \
             (allowed {:.0}%); wrote {name}-actual.png and {name}-diff.png",
            share * 100.0,
            OUTLIER_SHARE * 100.0
        );
    }
}

#[test]
fn card_snapshots() {
    if holoid_testkit::gpu::skip_gpu("the snapshot tests") {
        return;
    }
    let ctx = GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    let demo = DemoIdentity::generate(1);
    let options = RendererOptions {
        width: 270,
        height: 585,
        ..Default::default()
    };
    let mut r = CardRenderer::for_demo(&ctx, &demo, options).unwrap();
    let t = UnixMillis(1_795_603_792_250);
    let base = FrameParams {
        time: t,
        ..Default::default()
    };
    let cases = [
        ("card", base),
        (
            "card-tilted",
            FrameParams {
                tilt: Tilt { x: 0.4, y: -0.2 },
                ..base
            },
        ),
        (
            "card-burst",
            FrameParams {
                shake_started: Some(UnixMillis(t.0 - 250)),
                ..base
            },
        ),
        (
            "card-blocked",
            FrameParams {
                capture: CaptureState::Recording,
                ..base
            },
        ),
        (
            "card-modulated",
            FrameParams {
                modulation: Modulation::Plus,
                ..base
            },
        ),
    ];
    for (name, frame) in cases {
        check(name, &r.render_to_image(&frame).unwrap());
    }
}
