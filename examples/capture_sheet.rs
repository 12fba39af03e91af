//! Photographs the rendered card with the simulated camera at every level, writes a contact
//! sheet, and measures how often the code decodes when the module positions are known
//! exactly (an oracle locator: this isolates the code's robustness from the detector's
//! finding of the card).
//!
//! ```text
//! cargo run --release --example capture_sheet -- docs/captures.png 20
//! ```
//!
//! It also runs the detector's locator on each capture and reports how often it finds the
//! marks; `HOLOID_DEBUG_LOCATE=1` prints why it did not.

use holoid_core::code::decode;
use holoid_core::code::geometry::{CodeGeometry, MODULE_COUNT};
use holoid_core::demo::DemoIdentity;
use holoid_core::time::UnixMillis;
use holoid_render::uniforms::fit;
use holoid_render::{CardRenderer, FrameParams, GpuContext, RendererOptions};
use holoid_sim::camera::{self, BEZEL, CameraParams, Level, Pose, Screen};
use holoid_sim::display::{Display, LinearFrame, SubpixelLayout};
use holoid_sim::rng::Rng;
use image::{RgbImage, imageops};

fn luma(img: &RgbImage, x: f64, y: f64) -> f32 {
    let (xi, yi) = (x.floor() as u32, y.floor() as u32);
    if xi + 1 >= img.width() || yi + 1 >= img.height() {
        return 0.0;
    }
    let (fx, fy) = ((x - x.floor()) as f32, (y - y.floor()) as f32);
    let l = |x, y| {
        let p = img.get_pixel(x, y);
        0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
    };
    let top = l(xi, yi) * (1.0 - fx) + l(xi + 1, yi) * fx;
    let bottom = l(xi, yi + 1) * (1.0 - fx) + l(xi + 1, yi + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "captures.png".to_string());
    let per_level: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let ctx = GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    let demo = DemoIdentity::generate(1);
    let screen = (1080, 2340);
    let options = RendererOptions {
        width: screen.0,
        height: screen.1,
        ..Default::default()
    };
    let mut r = CardRenderer::for_demo(&ctx, &demo, options).unwrap();
    let t = UnixMillis(1_795_603_792_250);
    let frame = LinearFrame::from_srgb(
        &r.render_to_image(&FrameParams {
            time: t,
            ..Default::default()
        })
        .unwrap(),
    );
    let geometry = CodeGeometry::STANDARD;
    let (s, ox, oy) = fit(screen.0, screen.1);
    let mut sheet = RgbImage::new(4 * 270, 480);
    let design = geometry.mark_centers();
    for (li, level) in Level::ALL.into_iter().enumerate() {
        let (mut decoded, mut located, mut located_decoded, mut worst) = (0, 0, 0, 0.0f64);
        for n in 0..per_level {
            let mut rng = Rng::new(7).derive(level.name(), n);
            let layout = if n % 2 == 0 {
                SubpixelLayout::Diamond
            } else {
                SubpixelLayout::RgbStripe
            };
            let display = Display {
                layout,
                fill: rng.range(0.5, 0.8) as f32,
                brightness: rng.range(0.8, 1.1) as f32,
            };
            let pose = Pose::random(level, (720, 1280), screen, &mut rng);
            let params = CameraParams::random(level, 720, 1280, &mut rng);
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
            let seen = image::load_from_memory(&jpeg).unwrap().to_rgb8();
            let h = pose.homography(screen);
            let samples: Vec<f32> = (0..MODULE_COUNT)
                .map(|i| {
                    let [mx, my] = geometry.module_rect(i).center();
                    let [x, y] = h.apply([f64::from(ox + mx * s), f64::from(oy + my * s)]);
                    luma(&seen, x, y)
                })
                .collect();
            let mut sorted = samples.clone();
            sorted.sort_by(f32::total_cmp);
            let q = MODULE_COUNT / 4;
            let threshold = (sorted[q] + sorted[MODULE_COUNT - 1 - q]) / 2.0;
            let reading: Vec<Option<bool>> = samples.iter().map(|&v| Some(v < threshold)).collect();
            if decode(&reading).is_ok() {
                decoded += 1;
            }
            // The same, with the card found by its marks instead of the oracle.
            let grey = image::imageops::grayscale(&seen);
            let result = holoid_detect::locate::locate(&grey);
            if let (Err(e), Ok(_)) = (&result, std::env::var("HOLOID_DEBUG_LOCATE")) {
                eprintln!("{} #{n}: {e:?}", level.name());
            }
            if let Ok(found) = result {
                located += 1;
                for (m, d) in found.marks.iter().zip(design) {
                    let [ex, ey] = h.apply([f64::from(ox + d[0] * s), f64::from(oy + d[1] * s)]);
                    worst = worst.max((m.center[0] - ex).hypot(m.center[1] - ey));
                }
                if decode(&holoid_detect::read_modules(&grey, &found.to_image)).is_ok() {
                    located_decoded += 1;
                }
            }
            if n == 0 {
                let thumb = imageops::resize(&seen, 270, 480, imageops::FilterType::Triangle);
                imageops::replace(&mut sheet, &thumb, li as i64 * 270, 0);
            }
        }
        println!(
            "{:>6}: code decoded {decoded}/{per_level} with an oracle locator; marks found in \
             {located}/{per_level} (worst centre error {worst:.1} px), code decoded \
             {located_decoded}/{per_level} from the found marks",
            level.name()
        );
    }
    sheet.save(&out).unwrap();
    println!("wrote {out}");
}
