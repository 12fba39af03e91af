//! Detector benchmarks, single thread, on 720x1280 camera captures at the "easy" level (where
//! both readers decode, so both are timed doing the whole job):
//!
//! - `code_locate_decode`: find the card's marks (in a half-size copy first, as the
//!   detector does), read and decode its code (Reed–Solomon);
//! - `qr_rxing_decode`: a peer, rxing's QR reader (ZXing ported to Rust) on a QR code of
//!   the same payload (the 20 bytes as 40 upper-case hex digits, alphanumeric mode), drawn
//!   300 px wide on the same 1080x2340 screen and photographed with the same pose and camera;
//! - `qr_zxing_cpp_decode`: the fastest peer in common use, zxing-cpp (C++, built from the
//!   crate's bundled sources) on the same QR photo, QR only, grey input, no inversion tried;
//! - `full_verdict`: everything `Detector::check` does for one photo (locate, decode, tag,
//!   sweep, portrait).
//!
//! Then the peak heap memory of a full check of one 12 MP photo (counting allocator). The
//! card is rendered on the adapter found (set HOLOID_SKIP_GPU_TESTS=1 to skip).

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use criterion::Criterion;
use holoid_core::code::geometry::CodeGeometry;
use holoid_core::code::{Locator, Payload, decode};
use holoid_core::demo::DemoIdentity;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;
use holoid_detect::{Capture, Detector, Trust, locate::locate, read_modules};
use holoid_render::{CardRenderer, FrameParams, GpuContext, RendererOptions};
use holoid_sim::camera::Level;
use holoid_sim::rng::Rng;
use holoid_sim::species::photograph_screen;
use image::GrayImage;
use image::{Rgba, RgbaImage};
use rxing::{BarcodeFormat, MultiFormatWriter, Writer};

use counting_alloc::{LIVE, PEAK};
use holoid_testkit::counting_alloc;

const T0: UnixMillis = UnixMillis(1_795_603_792_250);

/// A white 1080x2340 screen with a QR code of `text`, `size` px wide, where the card's code is.
fn qr_screen(text: &str, size: u32) -> RgbaImage {
    let bits = MultiFormatWriter
        .encode(text, &BarcodeFormat::QR_CODE, size as i32, size as i32)
        .expect("encode the QR code");
    let mut screen = RgbaImage::from_pixel(1080, 2340, Rgba([250, 250, 252, 255]));
    let centre = CodeGeometry::STANDARD.grid_rect().center();
    let (ox, oy) = (
        centre[0] as u32 - bits.width() / 2,
        centre[1] as u32 - bits.height() / 2,
    );
    for y in 0..bits.height() {
        for x in 0..bits.width() {
            if bits.get(x, y) {
                screen.put_pixel(ox + x, oy + y, Rgba([16, 18, 30, 255]));
            }
        }
    }
    screen
}

/// zxing-cpp's reading of a grey photo: the first QR code's text.
fn zxing_read(reader: &zxingcpp::BarcodeReader, grey: &GrayImage) -> Option<String> {
    let view = zxingcpp::ImageView::from_slice(
        grey.as_raw(),
        grey.width(),
        grey.height(),
        zxingcpp::ImageFormat::Lum,
    )
    .ok()?;
    reader.from(view).ok()?.into_iter().next().map(|b| b.text())
}

fn main() {
    if std::env::var("HOLOID_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        println!(
            "HOLOID_SKIP_GPU_TESTS=1: SKIPPING the detector benchmarks (the card is rendered on a GPU adapter)"
        );
        return;
    }
    let ctx = GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    let demo = DemoIdentity::generate(1);
    let c = &demo.credential.credential;
    let mut r = CardRenderer::for_demo(&ctx, &demo, RendererOptions::default()).expect("renderer");
    let card = r
        .render_to_image(&FrameParams {
            time: T0,
            ..Default::default()
        })
        .unwrap();
    let device_key = demo.master.device_key_for(c);
    let period = WindowPeriod::default();
    let payload = Payload::issue(&device_key, Locator::of(&c.id), period, period.window_at(T0));
    let text = holoid_core::encoding::to_hex(&payload.to_bytes()).to_uppercase();
    let qr = qr_screen(&text, 300);
    // The same pose and camera for both: the same seed.
    let seed = 3;
    let card_photo = photograph_screen(&card, Level::Easy, (720, 1280), &mut Rng::new(seed));
    let qr_photo = photograph_screen(&qr, Level::Easy, (720, 1280), &mut Rng::new(seed));
    let card_grey = holoid_detect::sample::grey(&card_photo);
    let qr_grey = holoid_detect::sample::grey(&qr_photo);
    let ours_ok = locate(&card_grey)
        .ok()
        .and_then(|l| decode(&read_modules(&card_grey, &l.to_image)).ok())
        .is_some_and(|d| d.payload == payload);
    let peer_ok = holoid_testkit::qr::read(&qr_grey).as_deref() == Some(text.as_str());
    let zxing = zxingcpp::read()
        .formats([zxingcpp::BarcodeFormat::QRCode])
        .try_invert(false);
    let zxing_ok = zxing_read(&zxing, &qr_grey).as_deref() == Some(text.as_str());
    let clean = holoid_testkit::qr::read(&holoid_detect::sample::grey(
        &image::DynamicImage::ImageRgba8(qr.clone()).to_rgb8(),
    ));
    assert_eq!(
        clean.as_deref(),
        Some(text.as_str()),
        "rxing reads the QR code straight off the screen"
    );
    println!(
        "timed captures (easy, seed {seed}) decode: holoid code {ours_ok}, rxing QR {peer_ok}, zxing-cpp QR \
         {zxing_ok}"
    );
    // Decode rates of both on the same poses and cameras, a few seeds per level.
    for level in [Level::Easy, Level::Normal, Level::Hard] {
        let (mut ours, mut peer, mut zx, n) = (0, 0, 0, 6u64);
        for seed in 100..100 + n {
            let g = holoid_detect::sample::grey(&photograph_screen(
                &card,
                level,
                (720, 1280),
                &mut Rng::new(seed),
            ));
            if locate(&g)
                .ok()
                .and_then(|l| decode(&read_modules(&g, &l.to_image)).ok())
                .is_some_and(|d| d.payload == payload)
            {
                ours += 1;
            }
            let q =
                holoid_detect::sample::grey(&photograph_screen(&qr, level, (720, 1280), &mut Rng::new(seed)));
            if holoid_testkit::qr::read(&q).as_deref() == Some(text.as_str()) {
                peer += 1;
            }
            if zxing_read(&zxing, &q).as_deref() == Some(text.as_str()) {
                zx += 1;
            }
        }
        println!(
            "decoded at {}: holoid code {ours}/{n}, rxing QR {peer}/{n}, zxing-cpp QR {zx}/{n} (same poses \
             and cameras)",
            level.name()
        );
    }
    let trust = Trust::from_master(c, &demo.master, &demo.portrait_png).expect("trust");
    let detector = Detector::builder(trust).build().expect("detector");

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    // The four jobs timed, each returning what it read (kept from the optimiser).
    // The readers take the grey photo (converted once, outside the timing: zxing-cpp is given
    // grey input, and so are the others); the full verdict takes the camera's RGB.
    let ours = || {
        holoid_detect::find_code(black_box(&card_grey), &mut Default::default())
            .1
            .ok()
    };
    let peer = || holoid_testkit::qr::read(black_box(&qr_grey));
    let fastest = || zxing_read(&zxing, black_box(&qr_grey));
    let full = || {
        detector
            .check(&[Capture {
                image: black_box(&card_photo),
                time: T0,
            }])
            .unwrap()
    };
    criterion.bench_function("code_locate_decode_720x1280", |b| b.iter(ours));
    criterion.bench_function("qr_rxing_decode_720x1280", |b| b.iter(peer));
    criterion.bench_function("qr_zxing_cpp_decode_720x1280", |b| b.iter(fastest));
    criterion.bench_function("full_verdict_720x1280", |b| b.iter(full));
    criterion.final_summary();

    // The same four again, alternating one run of each per round, so that load from other
    // work on a shared machine falls on all of them alike: medians and their ratios.
    let rounds = 150;
    let mut times: [Vec<f64>; 4] = Default::default();
    let mut time = |i: usize, job: &dyn Fn()| {
        let t = Instant::now();
        job();
        times[i].push(t.elapsed().as_secs_f64() * 1e3);
    };
    for _ in 0..rounds {
        time(0, &|| {
            black_box(ours());
        });
        time(1, &|| {
            black_box(peer());
        });
        time(2, &|| {
            black_box(full());
        });
        time(3, &|| {
            black_box(fastest());
        });
    }
    let [ours_ms, peer_ms, full_ms, zx_ms] = times.map(|mut v| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    });
    println!(
        "\npaired medians over {rounds} alternating rounds: code locate+decode {ours_ms:.2} ms, rxing \
         QR {peer_ms:.2} ms, zxing-cpp QR {zx_ms:.2} ms, full verdict {full_ms:.2} ms\n  code: {:.2}x \
         rxing, {:.2}x zxing-cpp (target <= 1x zxing-cpp)\n  full verdict: {:.2}x rxing, {:.2}x \
         zxing-cpp (target <= 3x zxing-cpp)",
        ours_ms / peer_ms,
        ours_ms / zx_ms,
        full_ms / peer_ms,
        full_ms / zx_ms
    );

    // One 12 MP photo (3000 x 4000), checked whole.
    let big = photograph_screen(&card, Level::Normal, (3000, 4000), &mut Rng::new(12));
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let t0 = Instant::now();
    let verdict = detector
        .check(&[Capture {
            image: &big,
            time: T0,
        }])
        .unwrap();
    let took = t0.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    println!(
        "\n12 MP photo (3000x4000, normal): {} in {:.2} s, peak heap {:.0} MiB above the decoded photo ({:.0} MiB)",
        verdict.decision,
        took.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0),
        (3000.0 * 4000.0 * 3.0) / (1024.0 * 1024.0)
    );
}
