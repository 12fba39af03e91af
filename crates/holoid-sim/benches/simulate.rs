//! Simulator benchmarks: camera captures per second at 720x1280 (all cores, as
//! `holoid simulate` runs them), and the peak heap memory and time of one 12 MP capture,
//! measured with a counting allocator. The card frame is rendered once beforehand (on the
//! adapter found; set HOLOID_SKIP_GPU_TESTS=1 to skip on a machine without one).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use criterion::Criterion;
use holoid_core::demo::DemoIdentity;
use holoid_core::time::UnixMillis;
use holoid_render::{CardRenderer, FrameParams, GpuContext, RendererOptions};
use holoid_sim::camera::{self, BEZEL, CameraParams, Level, Pose, Screen};
use holoid_sim::display::LinearFrame;
use holoid_sim::rng::Rng;
use holoid_sim::species::random_display;

use counting_alloc::{LIVE, PEAK};
use holoid_testkit::counting_alloc;

fn main() {
    if std::env::var("HOLOID_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        println!("HOLOID_SKIP_GPU_TESTS=1: SKIPPING the simulator benchmarks");
        return;
    }
    let ctx = GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    let demo = DemoIdentity::generate(1);
    let mut r = CardRenderer::for_demo(&ctx, &demo, RendererOptions::default()).expect("renderer");
    let card = r
        .render_to_image(&FrameParams {
            time: UnixMillis(1_795_603_792_250),
            ..Default::default()
        })
        .unwrap();
    let frame = LinearFrame::from_srgb(&card);
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut n = 0u64;
    criterion.bench_function("simulate_capture_720x1280_hard", |b| {
        b.iter(|| {
            n += 1;
            let mut rng = Rng::new(n);
            let display = random_display(&mut rng);
            let screen = Screen {
                frame: &frame,
                display,
                bezel: BEZEL,
            };
            let pose = Pose::random(Level::Hard, (720, 1280), (frame.width, frame.height), &mut rng);
            let params = CameraParams::random(Level::Hard, 720, 1280, &mut rng);
            camera::encode_jpeg(
                &camera::photograph(&screen, &pose, &params, &mut rng),
                params.jpeg_quality,
            )
        })
    });
    criterion.final_summary();
    // One 12 MP capture (4000 x 3000, landscape camera held upright: 3000 x 4000).
    let mut rng = Rng::new(12);
    let display = random_display(&mut rng);
    let screen = Screen {
        frame: &frame,
        display,
        bezel: BEZEL,
    };
    let pose = Pose::random(Level::Normal, (3000, 4000), (frame.width, frame.height), &mut rng);
    let params = CameraParams::random(Level::Normal, 3000, 4000, &mut rng);
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let t0 = Instant::now();
    let jpeg = camera::encode_jpeg(
        &camera::photograph(&screen, &pose, &params, &mut rng),
        params.jpeg_quality,
    );
    let took = t0.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    println!(
        "\n12 MP capture (3000x4000, normal): {:.2} s, peak heap {:.0} MiB above the card frame, JPEG {:.1} MiB",
        took.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0),
        jpeg.len() as f64 / (1024.0 * 1024.0)
    );
}
