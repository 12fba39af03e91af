//! The C ABI from C: builds `tests/c/host.c` (offscreen) and `tests/c/host_x11.c` (an X11
//! window under Xvfb) with the system C compiler against `include/holoid.h` and the cdylib,
//! runs them, and checks what they drew with the Rust detector. Needs a GPU adapter unless
//! HOLOID_SKIP_GPU_TESTS=1 (announced loudly).

use std::fs;
use std::path::{Path, PathBuf};

use holoid_testkit::gpu::scratch;
use std::process::Command;

use holoid_core::demo::DemoIdentity;
use holoid_core::layout::{CardLayout, Rect};
use holoid_core::motion::Tilt;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;
use holoid_detect::{Capture, Decision, Detector, Trust};
use holoid_render::{CardRenderer, FrameParams, GpuContext, RendererOptions};
use image::RgbaImage;

/// 2026-11-25T10:49:52.250Z, and 5 s (one window) later.
const T1: u64 = 1_795_603_792_250;
const T2: u64 = T1 + 5_000;
const WIDTH: u32 = 540;
const HEIGHT: u32 = 1170;

fn skip() -> bool {
    holoid_testkit::gpu::skip_gpu("the C host tests")
}

/// The directory holding libholoid.so of this build (beside the test binary). The hosts run
/// with LD_LIBRARY_PATH set to it alone: cargo's own search path puts `target/release` first,
/// where an older `cargo build -p holoid-ffi` may have left a stale library.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap().to_path_buf();
    assert!(
        deps.join("libholoid.so").is_file(),
        "no libholoid.so in {} (the cdylib is built with the library)",
        deps.display()
    );
    deps
}

/// Compiles `source` into `out` with warnings as errors, linked to libholoid and `libs`.
fn compile(source: &str, out: &Path, libs: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = lib_dir();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let o = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1"])
        .arg(format!("-I{}", root.join("include").display()))
        .arg(root.join(source))
        .arg("-o")
        .arg(out)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lholoid")
        .args(libs)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e} (install gcc, or set CC)"));
    assert!(
        o.status.success(),
        "{source} does not compile:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A demo identity's files, a key of another credential and a damaged credential.
fn identity(dir: &Path) -> DemoIdentity {
    let demo = DemoIdentity::generate(5);
    let c = &demo.credential.credential;
    let json = demo.credential.to_json();
    fs::write(dir.join("credential.json"), &json).unwrap();
    fs::write(dir.join("portrait.png"), &demo.portrait_png).unwrap();
    fs::write(dir.join("device.key"), demo.master.device_key_for(c).to_text()).unwrap();
    let other = DemoIdentity::generate(6);
    let other_key = other.master.device_key_for(&other.credential.credential);
    fs::write(dir.join("wrong.key"), other_key.to_text()).unwrap();
    fs::write(dir.join("corrupt.json"), &json[..json.len() / 2]).unwrap();
    demo
}

fn checks_passed(stdout: &str) -> usize {
    let line = stdout.lines().last().unwrap_or_default();
    let (n, rest) = line
        .split_once(" checks, ")
        .unwrap_or_else(|| panic!("no summary: {stdout}"));
    assert_eq!(rest, "0 failures", "{stdout}");
    n.parse().unwrap()
}

fn read_rgba(path: &Path) -> RgbaImage {
    RgbaImage::from_raw(WIDTH, HEIGHT, fs::read(path).unwrap()).expect("a 540x1170 RGBA frame")
}

/// Mean absolute difference (0..1) of two frames inside a design-unit rectangle (the
/// frames are half the 1080 × 2340 design size).
fn mean_diff(a: &RgbaImage, b: &RgbaImage, r: Rect) -> f64 {
    let (mut sum, mut n) = (0u64, 0u64);
    for y in (r.y / 2.0) as u32..((r.y + r.h) / 2.0) as u32 {
        for x in (r.x / 2.0) as u32..((r.x + r.w) / 2.0) as u32 {
            for c in 0..3 {
                sum += u64::from(a.get_pixel(x, y)[c].abs_diff(b.get_pixel(x, y)[c]));
                n += 1;
            }
        }
    }
    sum as f64 / n as f64 / 255.0
}

#[test]
fn c_host_renders_offscreen_and_gets_every_error_code() {
    if skip() {
        return;
    }
    let dir = scratch("c-host");
    let demo = identity(&dir);
    let host = dir.join("host");
    compile("tests/c/host.c", &host, &["-lm"]);
    let p = |name: &str| dir.join(name).display().to_string();
    let o = Command::new(&host)
        .env("LD_LIBRARY_PATH", lib_dir())
        .args([
            p("credential.json"),
            p("portrait.png"),
            p("device.key"),
            p("wrong.key"),
            p("corrupt.json"),
            dir.display().to_string(),
            T1.to_string(),
            T2.to_string(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(checks_passed(&stdout) > 150, "{stdout}");

    let (a, b, blocked) = (
        read_rgba(&dir.join("frame-1.rgba")),
        read_rgba(&dir.join("frame-2.rgba")),
        read_rgba(&dir.join("frame-blocked.rgba")),
    );
    let layout = CardLayout::STANDARD;
    // Two windows: the hologram differs, the portrait does not.
    let emblem = mean_diff(&a, &b, layout.emblem);
    assert!(
        emblem > 0.05,
        "hologram differs by only {emblem:.3} between windows"
    );
    assert!(mean_diff(&a, &b, layout.portrait) < 0.01);

    // The tilt pushed through the C ABI turned the foil: the same card drawn level differs there.
    let gpu = GpuContext::headless().expect("a GPU adapter");
    let options = RendererOptions {
        width: WIDTH,
        height: HEIGHT,
        ..Default::default()
    };
    let level = CardRenderer::for_demo(&gpu, &demo, options)
        .unwrap()
        .render_to_image(&FrameParams {
            time: UnixMillis(T1),
            tilt: Tilt::default(),
            ..Default::default()
        })
        .unwrap();
    let foil = mean_diff(&a, &level, layout.sweep.bounds());
    assert!(foil > 0.02, "the tilt did not reach the foil ({foil:.3})");

    // The Rust detector reads each frame's code: genuine, in the window of its time.
    let c = &demo.credential.credential;
    let trust = Trust::new(c, demo.master.device_key_for(c), &demo.portrait_png).unwrap();
    let detector = Detector::builder(trust).build().unwrap();
    let period = WindowPeriod::default();
    for (frame, t) in [(&a, T1), (&b, T2)] {
        let rgb = image::DynamicImage::ImageRgba8(frame.clone()).to_rgb8();
        let v = detector
            .check(&[Capture {
                image: &rgb,
                time: UnixMillis(t),
            }])
            .unwrap();
        assert_eq!(v.decision, Decision::Genuine, "{v}");
        assert_eq!(v.window, Some(period.window_at(UnixMillis(t))));
    }
    let rgb = image::DynamicImage::ImageRgba8(blocked).to_rgb8();
    let v = detector
        .check(&[Capture {
            image: &rgb,
            time: UnixMillis(T2),
        }])
        .unwrap();
    assert_ne!(v.decision, Decision::Genuine, "the blocked card passed: {v}");
    assert!(v.window.is_none(), "the blocked card carries a code");
}

#[test]
fn c_host_draws_into_an_x11_window() {
    if skip() {
        return;
    }
    let dir = scratch("c-host-x11");
    identity(&dir);
    let host = dir.join("host_x11");
    compile("tests/c/host_x11.c", &host, &["-lX11"]);
    let p = |name: &str| dir.join(name).display().to_string();
    let o = Command::new("xvfb-run")
        .env("LD_LIBRARY_PATH", lib_dir())
        .args(["-a", "-s", "-screen 0 800x1200x24"])
        .arg(&host)
        .args([
            p("credential.json"),
            p("portrait.png"),
            p("device.key"),
            T1.to_string(),
        ])
        .output()
        .expect("run xvfb-run (scripts/setup.sh installs xvfb)");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(checks_passed(&stdout) > 20, "{stdout}");
}

/// The verdict on one RGBA frame of the demo credential's enrolment `epoch` at `t`.
fn verdict(demo: &DemoIdentity, epoch: u32, frame: &RgbaImage, t: u64) -> holoid_detect::Verdict {
    let c = demo.enrolment(epoch).credential;
    let trust = Trust::new(&c, demo.master.device_key_for(&c), &demo.portrait_png).unwrap();
    let detector = Detector::builder(trust).build().unwrap();
    let rgb = image::DynamicImage::ImageRgba8(frame.clone()).to_rgb8();
    detector
        .check(&[Capture {
            image: &rgb,
            time: UnixMillis(t),
        }])
        .unwrap()
}

#[test]
fn c_wallet_enrols_by_qr_offer_and_draws_with_its_keystore() {
    if skip() {
        return;
    }
    use holoid_testkit::service::{Serving, offer_over_http, register_over_http, sqlite_url, world};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let w = rt.block_on(world(
        &sqlite_url("c-wallet"),
        holoid_service::ServiceConfig::default(),
    ));
    let server = Serving::start(&rt, w.state.clone());
    register_over_http(server.addr, &w.tokens.admin, &w.demo);
    let id = w.demo.credential.credential.id.clone();
    let (offer, _) = offer_over_http(server.addr, &w.tokens.officer, &id);

    let dir = scratch("c-wallet");
    let host = dir.join("wallet");
    compile("tests/c/wallet.c", &host, &["-lcrypto"]);
    let issuer_hex = holoid_core::encoding::to_hex(&w.demo.issuer.public().to_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Mid-window, so the drawn frame and its check fall in one window.
    let t = now - now % 5_000 + 2_500;
    let o = Command::new(&host)
        .env("LD_LIBRARY_PATH", lib_dir())
        .args([
            "127.0.0.1".to_string(),
            server.addr.port().to_string(),
            offer,
            issuer_hex,
            dir.display().to_string(),
            t.to_string(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(checks_passed(&stdout) > 30, "{stdout}");
    server.stop(&rt).unwrap();

    // The C wallet holds enrolment 2, and what it drew through its keystore is genuine.
    let doc = holoid_core::credential::SignedCredential::from_json(
        &fs::read_to_string(dir.join("credential.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc.credential.device_epoch, 2);
    assert_eq!(fs::read(dir.join("portrait.png")).unwrap(), w.demo.portrait_png);
    let v = verdict(&w.demo, 2, &read_rgba(&dir.join("frame-keystore.rgba")), t);
    assert_eq!(v.decision, Decision::Genuine, "{v}");
    // The locked keystore's frame carries no code.
    let v = verdict(&w.demo, 2, &read_rgba(&dir.join("frame-locked.rgba")), t + 5_000);
    assert_ne!(v.decision, Decision::Genuine, "{v}");
    assert!(v.window.is_none(), "the locked keystore's frame carries a code");
}

/// The header is plain C89 as well as C11 and C++: a wallet's build may use any of them.
#[test]
fn header_compiles_as_c89_pedantic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = scratch("c89");
    let source = dir.join("c89.c");
    fs::write(
        &source,
        "#include \"holoid.h\"\nint main(void) { return holoid_status_name(HOLOID_STATUS_OK) == 0; }\n",
    )
    .unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let o = Command::new(&cc)
        .args([
            "-std=c89",
            "-pedantic",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
        ])
        .arg(format!("-I{}", root.join("include").display()))
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e} (install gcc, or set CC)"));
    assert!(
        o.status.success(),
        "include/holoid.h is not C89:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
