//! Renderer benchmarks on the adapter found (lavapipe on a machine without a GPU): the
//! steady-state frame, the cold frame after a window change, and in the same run the floor,
//! a plain full-screen texture blit of the same size. Each iteration waits for the GPU.
//! Also the cost of making a renderer with a kit of its own and from a shared kit.
//! Prints a table with the frame / blit ratios and the GPU memory the renderer holds.
//! Set HOLOID_SKIP_GPU_TESTS=1 to skip it on a machine with no adapter at all.

use std::time::Duration;

use holoid_testkit::estimates;

use criterion::Criterion;
use estimates::mean_ms;
use holoid_core::demo::DemoIdentity;
use holoid_core::time::UnixMillis;
use holoid_render::{CardRenderer, FrameParams, GpuContext, RenderKit, RendererOptions};

const SIZES: [(u32, u32); 2] = [(1080, 2340), (1440, 3120)];
/// 100 ms into a window (window starts are multiples of 5 000 ms).
const T0: u64 = 1_795_603_790_100;

fn id(kind: &str, (w, h): (u32, u32)) -> String {
    format!("render_{kind}_{w}x{h}")
}

fn main() {
    if std::env::var("HOLOID_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        println!("HOLOID_SKIP_GPU_TESTS=1: SKIPPING the renderer benchmarks");
        return;
    }
    let ctx = GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    println!("adapter: {}", ctx.describe());
    let demo = DemoIdentity::generate(1);
    let c = &demo.credential.credential;
    let k_dev = demo.master.device_key_for(c);
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut memory = Vec::new();
    for size in SIZES {
        let options = RendererOptions {
            width: size.0,
            height: size.1,
            ..Default::default()
        };
        let mut r = CardRenderer::new(&ctx, c, &k_dev, &demo.portrait_png, options).expect("renderer");
        memory.push((size, r.gpu_memory_bytes()));
        let mut t = T0;
        r.render(&FrameParams {
            time: UnixMillis(t),
            ..Default::default()
        });
        criterion.bench_function(&id("steady", size), |b| {
            b.iter(|| {
                // 16 ms steps, wrapping after 4 s: always inside the one window.
                t = T0 + (t + 16 - T0) % 4_000;
                r.render(&FrameParams {
                    time: UnixMillis(t),
                    ..Default::default()
                });
                r.wait_idle().expect("GPU idle");
            })
        });
        criterion.bench_function(&id("cold", size), |b| {
            b.iter(|| {
                r.invalidate_window_layer();
                r.render(&FrameParams {
                    time: UnixMillis(T0),
                    ..Default::default()
                });
                r.wait_idle().expect("GPU idle");
            })
        });
        criterion.bench_function(&id("blit", size), |b| {
            b.iter(|| {
                r.render_blit_floor();
                r.wait_idle().expect("GPU idle");
            })
        });
    }
    // Making a renderer: with a kit of its own (shaders compiled, pipelines built, fonts
    // loaded) against one more card from a shared kit (a second card, or a resized window).
    let small = RendererOptions {
        width: 540,
        height: 1170,
        ..Default::default()
    };
    let kit = RenderKit::new(&ctx, small.format).expect("kit");
    criterion.bench_function("renderer_new_own_kit_540x1170", |b| {
        b.iter(|| CardRenderer::new(&ctx, c, &k_dev, &demo.portrait_png, small).expect("renderer"))
    });
    criterion.bench_function("renderer_new_shared_kit_540x1170", |b| {
        b.iter(|| CardRenderer::with_kit(&kit, c, &k_dev, &demo.portrait_png, small).expect("renderer"))
    });
    criterion.final_summary();
    if let (Some(own), Some(shared)) = (
        mean_ms("renderer_new_own_kit_540x1170"),
        mean_ms("renderer_new_shared_kit_540x1170"),
    ) {
        println!(
            "\nmaking a 540x1170 renderer: {own:.1} ms with its own kit, {shared:.1} ms from a shared kit ({:.2}x)",
            shared / own
        );
    }
    println!(
        "\n| size | steady frame | cold frame (window change) | blit (floor) | steady / blit | cold / blit | GPU memory |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (size, bytes) in memory {
        let (Some(s), Some(c), Some(b)) = (
            mean_ms(&id("steady", size)),
            mean_ms(&id("cold", size)),
            mean_ms(&id("blit", size)),
        ) else {
            continue;
        };
        println!(
            "| {}x{} | {s:.2} ms | {c:.2} ms | {b:.2} ms | {:.2} | {:.2} | {:.1} MiB |",
            size.0,
            size.1,
            s / b,
            c / b,
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}
