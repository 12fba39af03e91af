//! `holoid demo` end to end, and its report opened in a real headless browser (Debian's
//! chromium). Needs a GPU adapter unless HOLOID_SKIP_GPU_TESTS=1, and chromium unless
//! HOLOID_SKIP_BROWSER_TESTS=1; either skip is announced loudly.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use holoid_testkit::gpu::scratch;

const SPECIES: [&str; 8] = [
    "bona_fide",
    "stale_replay",
    "same_window_replay",
    "screen_photo",
    "print",
    "fake_app",
    "portrait_swap",
    "text_edit",
];

fn holoid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holoid"))
        .args(args)
        .output()
        .expect("run holoid")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn skip(var: &str, what: &str) -> bool {
    let skipping = std::env::var(var).as_deref() == Ok("1");
    if skipping {
        eprintln!("{var}=1: SKIPPING {what}");
    }
    skipping
}

/// Debian's chromium, or the browser HOLOID_CHROMIUM names.
fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("HOLOID_CHROMIUM") {
        return PathBuf::from(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "no chromium on PATH: run scripts/setup.sh (it installs Debian's chromium), set \
         HOLOID_CHROMIUM, or set HOLOID_SKIP_BROWSER_TESTS=1 to skip the browser check on purpose"
    );
}

/// Headless chromium as root, on a fresh profile, with `args` and the page.
fn browse(profile: &Path, args: &[&str], page: &Path) -> Output {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
            "--virtual-time-budget=10000",
        ])
        .args(args)
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "chromium failed: {}", text(&o.stderr));
    o
}

#[test]
fn demo_refuses_a_directory_of_other_files() {
    let dir = scratch("demo-refuse");
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let o = holoid(&["demo", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("holds other files"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert!(!dir.join("report.html").exists());
}

#[test]
fn demo_report_shows_every_verdict_in_a_browser() {
    if skip(
        "HOLOID_SKIP_GPU_TESTS",
        "the `holoid demo` test (it needs a GPU adapter)",
    ) {
        return;
    }
    let dir = scratch("demo-run");
    let out = dir.join("report");
    let o = holoid(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--at",
        "2026-11-25T10:49:52.250Z",
        "--seed",
        "1",
        "--eval-count",
        "1",
    ]);
    let stdout = text(&o.stdout);
    assert!(o.status.success(), "{stdout}\n{}", text(&o.stderr));
    for n in 1..=7 {
        assert!(
            stdout.contains(&format!("[{n}/7]")),
            "step {n} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("8 of 8 captures called as expected"), "{stdout}");
    // The printed table: each species with its decision.
    for sp in SPECIES {
        let want = if sp == "bona_fide" { "genuine" } else { "forgery" };
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(sp) && !l.contains("photographed"))
            .unwrap_or_else(|| panic!("no table line for {sp}:\n{stdout}"));
        assert_eq!(line.split_whitespace().nth(1), Some(want), "{line}");
    }
    // The card's life: lost, found, moved; each moment's decision and first reason.
    for (moment, decision, reason) in [
        ("issued by QR to the first phone", "genuine", ""),
        ("reported lost: suspended", "forgery", "credential_suspended"),
        ("found: resumed", "genuine", ""),
        ("the old phone shown", "forgery", "device_replaced"),
        ("the new phone shown", "genuine", ""),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(moment))
            .unwrap_or_else(|| panic!("no life line for {moment}:\n{stdout}"));
        assert!(line.contains(&format!(" {decision} ")), "{line}");
        assert!(
            line.contains(reason) && !line.contains("not as expected"),
            "{line}"
        );
    }
    // The new phone's wallet came from the QR offer: enrolment 2, its key the one it commits to.
    let offer = holoid_testkit::qr::read(&image::open(out.join("offer-qr-2.png")).unwrap().to_luma8())
        .expect("the offer's QR code reads");
    assert!(offer.starts_with("HOLOID:OFFER1:"), "{offer}");
    let doc = holoid_core::credential::SignedCredential::from_json(
        &std::fs::read_to_string(out.join("new-phone/credential.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc.credential.device_epoch, 2);
    let key = holoid_core::keys::DeviceKey::from_text(
        &std::fs::read_to_string(out.join("new-phone/device.key")).unwrap(),
    )
    .unwrap();
    doc.credential.check_device_key(&key).unwrap();
    let report = out.join("report.html");
    assert!(stdout.contains(&format!("report: {}", report.canonicalize().unwrap().display())));
    for f in [
        "card.png",
        "card-animation.png",
        "card-blocked.png",
        "card-copy-0.png",
        "card-copy-1.png",
        "verdicts.json",
        "identity/credential.json",
        "offer-qr-1.png",
        "offer-qr-2.png",
        "new-phone/credential.json",
        "new-phone/device.key",
        "new-phone/portrait.png",
        "eval-dataset/manifest.jsonl",
        "captures/bona_fide-0.jpg",
        "captures/portrait_swap-2.jpg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let verdicts: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("verdicts.json")).unwrap()).unwrap();
    assert_eq!(verdicts.as_array().map(Vec::len), Some(SPECIES.len()));

    if skip(
        "HOLOID_SKIP_BROWSER_TESTS",
        "the browser check of the demo report",
    ) {
        return;
    }
    // The page as the browser built it, after its load handler counted the images.
    let dom = text(&browse(&dir.join("profile-dom"), &["--dump-dom"], &report).stdout);
    assert!(
        dom.contains("data-broken-images=\"0\""),
        "broken images:\n{}",
        &dom[..dom.len().min(600)]
    );
    let images: usize = dom
        .split("data-images=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the page counted its images");
    assert_eq!(
        images,
        6 + SPECIES.len() + 2,
        "six card pictures, one per capture and the two offers' QR codes"
    );
    for sp in SPECIES {
        let want = if sp == "bona_fide" { "genuine" } else { "forgery" };
        assert!(
            dom.contains(&format!("data-species=\"{sp}\" data-decision=\"{want}\"")),
            "{sp} not shown as {want}"
        );
    }
    assert_eq!(
        dom.matches("<div class=\"verdict genuine\">GENUINE</div>")
            .count(),
        1
    );
    assert_eq!(
        dom.matches("<div class=\"verdict forgery\">FORGERY</div>")
            .count(),
        SPECIES.len() - 1
    );
    assert!(dom.contains("A small ISO/IEC 30107-3 evaluation") && dom.contains("<td>harsh</td>"));
    let life: Vec<&str> = dom
        .split("<tr data-decision=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap())
        .collect();
    assert_eq!(
        life,
        ["genuine", "forgery", "genuine", "forgery", "genuine"],
        "the life table"
    );

    // And it paints: a screenshot that is not one flat colour.
    let shot = dir.join("report.png");
    browse(
        &dir.join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2200",
        ],
        &report,
    );
    let img = image::open(&shot).expect("the screenshot is a PNG").to_rgb8();
    assert_eq!(img.dimensions(), (1280, 2200));
    let first = *img.get_pixel(0, 0);
    let differing = img.pixels().filter(|p| **p != first).count();
    assert!(differing > img.len() / 3 / 10, "the screenshot is nearly blank");
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        fs::copy(
            &shot,
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/demo-report.png"),
        )
        .unwrap();
    }
}
