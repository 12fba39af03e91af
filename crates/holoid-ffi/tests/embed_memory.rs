//! The C ABI's engine after warm-up: what each frame allocates on the heap, and that the
//! heap does not grow. Needs a GPU adapter unless HOLOID_SKIP_GPU_TESTS=1.

use holoid_testkit::counting_alloc;
use holoid_testkit::engine;

use std::sync::atomic::Ordering;

use counting_alloc::{ALLOCATED, ALLOCS, LIVE};
use engine::demo_engine;
use holoid::{
    HoloidStatus, holoid_engine_free, holoid_engine_push_motion, holoid_engine_render_rgba,
    holoid_engine_set_capture_state,
};

const T: u64 = 1_795_603_790_000;

#[test]
fn frames_after_warm_up_do_not_grow_the_heap() {
    if holoid_testkit::gpu::skip_gpu("the engine memory test") {
        return;
    }
    let engine = demo_engine(3, (360, 780), true);
    let mut frame = vec![0u8; 360 * 780 * 4];
    let mut draw = |t: u64| {
        assert_eq!(
            holoid_engine_push_motion(engine, t as f64 / 1000.0, 0.5, 0.2, 9.7),
            HoloidStatus::Ok
        );
        // SAFETY: `frame` is exactly width × height × 4 writable bytes.
        let s = unsafe { holoid_engine_render_rgba(engine, t, frame.as_mut_ptr(), frame.len()) };
        assert_eq!(s, HoloidStatus::Ok);
    };
    // Warm-up: the first frames make the renderer, the read-back buffer and wgpu's pools.
    for i in 0..20 {
        draw(T + i * 50);
    }
    let frames = 100u64;
    let (allocs0, bytes0, live0) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOCATED.load(Ordering::Relaxed),
        LIVE.load(Ordering::Relaxed),
    );
    for i in 0..frames {
        // 50 ms apart: 5 s, crossing one window change.
        draw(T + 1_000 + i * 50);
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs0;
    let bytes = ALLOCATED.load(Ordering::Relaxed) - bytes0;
    let live1 = LIVE.load(Ordering::Relaxed);
    eprintln!(
        "after warm-up: {:.1} heap allocations ({:.0} bytes) per frame, all inside wgpu; live heap \
         {live0} -> {live1} bytes over {frames} frames",
        allocs as f64 / frames as f64,
        bytes as f64 / frames as f64
    );
    // No frame-sized copy is made on the heap: the frame goes from the GPU's read-back buffer
    // straight into the caller's memory.
    let per_frame = bytes as f64 / frames as f64;
    assert!(
        per_frame < frame.len() as f64 / 16.0,
        "{per_frame:.0} bytes allocated per frame: a copy of the {}-byte frame?",
        frame.len()
    );
    assert!(
        live1 <= live0 + 4096,
        "the heap grew by {} bytes over {frames} frames",
        live1 as i64 - live0 as i64
    );
    // The calls a host makes between frames allocate nothing at all.
    let allocs0 = ALLOCS.load(Ordering::Relaxed);
    for i in 0..1_000u64 {
        let t = (T + 10_000 + i * 10) as f64 / 1000.0;
        assert_eq!(
            holoid_engine_push_motion(engine, t, 0.3, -0.1, 9.8),
            HoloidStatus::Ok
        );
        assert_eq!(
            holoid_engine_set_capture_state(engine, (i % 2) as u32),
            HoloidStatus::Ok
        );
    }
    assert_eq!(
        ALLOCS.load(Ordering::Relaxed) - allocs0,
        0,
        "motion samples and capture states allocated"
    );
    assert_eq!(holoid_engine_free(engine), HoloidStatus::Ok);
}
