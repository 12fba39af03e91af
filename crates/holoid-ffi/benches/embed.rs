//! The engine as a wallet app drives it through the C ABI, at 1440x3120 (a large phone):
//! its CPU heap and GPU memory, and an offscreen frame (`holoid_engine_render_rgba`, read back
//! into the caller's buffer) against the Rust renderer doing the same (`render_into`) in the
//! same run: the ratio is the cost of the boundary. Prints a table.
//! Set HOLOID_SKIP_GPU_TESTS=1 to skip it on a machine with no adapter at all.

use holoid_testkit::counting_alloc;
use holoid_testkit::engine;
use holoid_testkit::estimates;

use std::sync::atomic::Ordering;
use std::time::Duration;

use counting_alloc::{ALLOCATED, ALLOCS, LIVE, PEAK};
use criterion::Criterion;
use engine::demo_engine;
use estimates::mean_ms;
use holoid::{
    HoloidMemory, HoloidStatus, holoid_engine_free, holoid_engine_memory, holoid_engine_render_rgba,
};
use holoid_core::demo::DemoIdentity;
use holoid_core::time::UnixMillis;
use holoid_render::{CardRenderer, FrameParams, GpuContext, RendererOptions};

const SIZE: (u32, u32) = (1440, 3120);
/// 100 ms into a window.
const T0: u64 = 1_795_603_790_100;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    if std::env::var("HOLOID_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        println!("HOLOID_SKIP_GPU_TESTS=1: SKIPPING the embedding benchmark");
        return;
    }
    let demo = DemoIdentity::generate(1);
    let mut frame = vec![0u8; 4 * SIZE.0 as usize * SIZE.1 as usize];
    let live_before = LIVE.load(Ordering::Relaxed);
    PEAK.store(live_before, Ordering::Relaxed);
    let engine = demo_engine(1, SIZE, false);
    let mut t = T0;
    let draw = |t: u64, frame: &mut [u8]| {
        // SAFETY: `frame` is exactly width × height × 4 writable bytes.
        let s = unsafe { holoid_engine_render_rgba(engine, t, frame.as_mut_ptr(), frame.len()) };
        assert_eq!(s, HoloidStatus::Ok);
    };
    for i in 0..5 {
        draw(T0 + i * 16, &mut frame);
    }
    let live_engine = LIVE.load(Ordering::Relaxed) - live_before;
    let peak_engine = PEAK.load(Ordering::Relaxed) - live_before;
    let mut memory = HoloidMemory::default();
    // SAFETY: a writable HoloidMemory.
    assert_eq!(
        unsafe { holoid_engine_memory(engine, &mut memory) },
        HoloidStatus::Ok
    );
    let (allocs0, bytes0) = (ALLOCS.load(Ordering::Relaxed), ALLOCATED.load(Ordering::Relaxed));
    for i in 0..20 {
        draw(T0 + 100 + i * 16, &mut frame);
    }
    let allocs = (ALLOCS.load(Ordering::Relaxed) - allocs0) as f64 / 20.0;
    let alloc_bytes = (ALLOCATED.load(Ordering::Relaxed) - bytes0) as f64 / 20.0;

    let gpu = GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    println!("adapter: {}", gpu.describe());
    let mut renderer = CardRenderer::for_demo(
        &gpu,
        &demo,
        RendererOptions {
            width: SIZE.0,
            height: SIZE.1,
            ..Default::default()
        },
    )
    .expect("renderer");
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let (w, h) = SIZE;
    let abi_id = format!("embed_render_rgba_{w}x{h}");
    let rust_id = format!("embed_rust_render_into_{w}x{h}");
    criterion.bench_function(&abi_id, |b| {
        b.iter(|| {
            // 16 ms steps, wrapping after 4 s: always inside the one window.
            t = T0 + (t + 16 - T0) % 4_000;
            draw(t, &mut frame);
        })
    });
    let mut t = T0;
    criterion.bench_function(&rust_id, |b| {
        b.iter(|| {
            t = T0 + (t + 16 - T0) % 4_000;
            let params = FrameParams {
                time: UnixMillis(t),
                ..Default::default()
            };
            renderer.render_into(&params, &mut frame).expect("frame");
        })
    });
    assert_eq!(holoid_engine_free(engine), HoloidStatus::Ok);
    criterion.final_summary();

    println!("\nthe engine at {w}x{h} through the C ABI (offscreen):");
    println!(
        "  CPU heap held     {:>8.1} MiB (peak while starting {:.1} MiB)",
        mib(live_engine),
        mib(peak_engine)
    );
    println!("  GPU memory        {:>8.1} MiB", mib(memory.gpu_bytes as usize));
    println!(
        "  per frame         {allocs:>8.1} heap allocations, {alloc_bytes:.0} bytes (wgpu's), freed by the next frame"
    );
    if let (Some(abi), Some(rust)) = (mean_ms(&abi_id), mean_ms(&rust_id)) {
        println!("\n| benchmark | mean | × Rust renderer |");
        println!("|---|---:|---:|");
        println!("| `{rust_id}` (the peer) | {rust:.2} ms | 1.00 |");
        println!("| `{abi_id}` | {abi:.2} ms | {:.2} |", abi / rust);
    }
}
