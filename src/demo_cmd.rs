//! `holoid demo`: the whole story on the embedded defaults, in one command. It issues a demo
//! credential, draws the card on the GPU, photographs it as a verifier's camera would (one
//! capture of every species), checks each photo, runs a small ISO/IEC 30107-3 evaluation and
//! writes a self-contained HTML report. Part of the `holoid` binary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::files::write_atomic;
use holoid_core::credential::{Credential, SignedCredential};
use holoid_core::demo::DemoIdentity;
use holoid_core::demo::edited;
use holoid_core::enrol::{Offer, WalletKeyPair};
use holoid_core::keys::DeviceKey;
use holoid_core::mac::sha256;
use holoid_core::motion::Tilt;
use holoid_core::status::{self, Status, StatusList};
use holoid_core::time::UnixMillis;
use holoid_detect::input::{DEFAULT_MAX_PIXELS, decode_photo};
use holoid_detect::{Capture, Decision, Detector, StatusFinding, Trust, Verdict};
use holoid_render::{
    CaptureState, CardRenderer, FrameParams, GpuContext, Modulation, RendererOptions, output,
};
use holoid_sim::camera::{Level, encode_jpeg};
use holoid_sim::rng::Rng;
use holoid_sim::species::{Cast, Species, generate};
use image::RgbaImage;

use crate::eval_cmd::{evaluate, summarise};
use crate::render_cmd::Size;
use crate::simulate_cmd::SimulateCli;
use crate::{Failure, Outcome, check_cmd, demo_report, usage};
use holoid_sim::eval::Summary;

/// Runs the end-to-end demo and writes DIR/report.html.
///
/// A demo identity, the card drawn on the GPU (live, animated with a tilt sweep and a shake,
/// capture-blocked, modulated), one verifier's photo of every attack species and of the live
/// card, the detector's verdict on each, the card's life (lost, found, moved to a new phone)
/// checked with signed status lists, and a small ISO/IEC 30107-3 evaluation.
///
/// Every file it writes goes into DIR (created): report.html (self-contained, images
/// inlined), identity/, card.png, card-animation.png, card-blocked.png, card-copy-0.png,
/// card-copy-1.png, captures/*.jpg, verdicts.json and eval-dataset/. A DIR that holds
/// anything but an earlier demo is refused unless --force is given.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  holoid demo\n  holoid demo --out /tmp/demo --level hard\n  \
    holoid demo --at 2026-11-25T10:49:52Z --seed 3 --eval-count 0   # reproducible, no evaluation"
)]
pub struct DemoCli {
    /// Directory to write the report and its files into.
    #[arg(long, value_name = "DIR", default_value = "holoid-demo")]
    out: PathBuf,
    /// How hard the verifier's photos are: easy, normal, hard or harsh (docs/design.md).
    #[arg(long, default_value = "normal")]
    level: Level,
    /// Seed of the demo identity and of the poses, cameras and attacks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The verifier's clock: Unix seconds or RFC 3339. By default, now; a fixed time makes
    /// the whole demo reproducible.
    #[arg(long, value_name = "TIME")]
    at: Option<UnixMillis>,
    /// Frames per verifier capture (a burst).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=8))]
    burst: u32,
    /// Captures per species and level in the small evaluation; 0 skips it.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=50))]
    eval_count: u32,
    /// Write into a directory that holds other files.
    #[arg(long)]
    force: bool,
}

/// What the demo made, for the report.
pub(crate) struct DemoRun {
    pub at: UnixMillis,
    pub level: Level,
    pub seed: u64,
    pub adapter: String,
    pub credential: Credential,
    pub pictures: CardPictures,
    pub checks: Vec<CheckedCapture>,
    pub eval: Option<(Summary, u32)>,
    pub life: Vec<LifeEvent>,
    /// The office's one-time offers the first and the new phone scanned, as QR codes (PNG).
    pub offer_qr: Vec<Vec<u8>>,
}

/// One verifier capture and its verdict.
pub(crate) struct CheckedCapture {
    pub species: Species,
    /// The frames' JPEG bytes, in the order taken.
    pub jpegs: Vec<Vec<u8>>,
    pub capture_times: Vec<UnixMillis>,
    pub verdict: Verdict,
}

/// The file a finished demo leaves, by which a later run recognises its own directory.
const REPORT: &str = "report.html";
const STEPS: usize = 7;

/// One moment of the card's life and what a verifier's check of the phone shown says then.
pub(crate) struct LifeEvent {
    /// What happened.
    pub what: &'static str,
    /// Which phone the verifier photographed.
    pub phone: &'static str,
    /// What the issuer's signed status list says of that phone's enrolment.
    pub listed: &'static str,
    /// The verdict, with the status taken into account.
    pub verdict: Verdict,
    /// The decision it should be.
    pub want: Decision,
}

/// The cast the demo photographs: `demo`'s card and every attack on it (a fake app, another
/// person's portrait, an edited text), all from the seed.
fn demo_cast(gpu: &GpuContext, demo: &DemoIdentity, seed: u64) -> Result<Cast, Failure> {
    let fake_key = DeviceKey::from_bytes(sha256(&[b"holoid/demo/fake-app", &seed.to_be_bytes()]));
    let other = DemoIdentity::generate(seed.wrapping_add(1_000_003));
    Cast::new(
        gpu,
        demo,
        &fake_key,
        vec![other.portrait_png.clone()],
        vec![edited(
            &demo.credential.credential,
            &other.credential.credential,
            0,
        )],
        RendererOptions::default(),
    )
    .map_err(usage)
}

/// A verifier's burst of `species` at `at`: the camera's JPEGs and their capture times.
fn shoot(
    cast: &mut Cast,
    species: Species,
    a: &DemoCli,
    at: UnixMillis,
    rng: &mut Rng,
) -> Result<(Vec<Vec<u8>>, Vec<UnixMillis>), Failure> {
    let capture = generate(
        species,
        a.level,
        at,
        a.burst as usize,
        (720, 1280),
        cast.renderers(0, 0).map_err(usage)?,
        rng,
    )
    .map_err(usage)?;
    let jpegs = capture
        .frames
        .iter()
        .zip(&capture.cameras)
        .map(|(f, cam)| encode_jpeg(f, cam.jpeg_quality))
        .collect();
    Ok((jpegs, capture.capture_times))
}

/// A burst's JPEGs decoded as the verifier's app decodes them.
fn decode_jpegs(jpegs: &[Vec<u8>]) -> Result<Vec<image::RgbImage>, Failure> {
    jpegs
        .iter()
        .map(|j| decode_photo(j, DEFAULT_MAX_PIXELS))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)
}

/// Decoded photos paired with their capture times.
fn captures_of<'a>(photos: &'a [image::RgbImage], times: &[UnixMillis]) -> Vec<Capture<'a>> {
    photos
        .iter()
        .zip(times)
        .map(|(image, &time)| Capture { image, time })
        .collect()
}

/// The detector's verdict on a burst as a verifier's app sees it: the camera's JPEGs, decoded.
fn check_jpegs(detector: &Detector, jpegs: &[Vec<u8>], times: &[UnixMillis]) -> Result<Verdict, Failure> {
    let photos = decode_jpegs(jpegs)?;
    let captures = captures_of(&photos, times);
    detector.check(&captures).map_err(usage)
}

/// The detector for one enrolment document of `demo`'s credential.
fn demo_detector(demo: &DemoIdentity, c: &Credential) -> Result<Detector, Failure> {
    let trust = Trust::new(c, demo.master.device_key_for(c), &demo.portrait_png).map_err(usage)?;
    Detector::builder(trust).build().map_err(usage)
}

/// A phone enrols with the office's one-time QR offer for device enrolment `epoch`, both sides
/// of `POST /v1/enrol` in this process: the offer's QR code (written as `offer-qr-EPOCH.png`),
/// the phone's X25519 key pair and request, the issuer's document with `K_dev` sealed to the
/// phone (HPKE), and the phone opening and checking it. The phone's wallet is written to
/// `DIR/wallet` (credential.json, device.key, portrait.png: `holoid render` takes them).
fn enrol_by_qr(
    demo: &DemoIdentity,
    a: &DemoCli,
    epoch: u32,
    wallet: &str,
) -> Result<SignedCredential, Failure> {
    let seed = [a.seed.to_be_bytes(), u64::from(epoch).to_be_bytes()].concat();
    let mut offer_id = [0u8; 16];
    offer_id.copy_from_slice(&sha256(&[b"holoid/demo/offer", &seed])[..16]);
    let offer = Offer::issued(&demo.master, offer_id);
    let qr = holoid_service::api::qr_png(&offer.to_text()).map_err(usage)?;
    write(&a.out, &format!("offer-qr-{epoch}.png"), &qr)?;
    // The phone scans the code (the demo's phone draws its key pair from the seed).
    let phone = WalletKeyPair::derive(&sha256(&[b"holoid/demo/phone", &seed]));
    let request = phone.request(&Offer::parse(&offer.to_text()).map_err(usage)?);
    // The issuer: the offer is its own; the demo issuer's status entry for this epoch.
    let scanned = Offer::parse(&request.offer).map_err(usage)?;
    if !scanned.is_issued_by(&demo.master) {
        return Err(usage("the demo's offer is not the issuer's"));
    }
    let entry = demo.enrolment(epoch).credential.status;
    let answer = holoid_core::enrol::issue(
        &demo.credential.credential,
        epoch,
        entry,
        &demo.master,
        &demo.issuer,
        &request.device_public_key,
        &demo.portrait_png,
    )
    .map_err(usage)?;
    let done = answer
        .finish(&phone, Some(&demo.issuer.public()))
        .map_err(usage)?;
    let dir = a.out.join(wallet);
    std::fs::create_dir_all(&dir).map_err(|e| usage(format!("cannot create `{}`: {e}", dir.display())))?;
    let key_text = zeroize::Zeroizing::new(done.device_key.to_text());
    for (name, bytes, secret) in [
        ("credential.json", done.credential_json.as_bytes(), false),
        ("device.key", key_text.as_bytes(), true),
        (holoid_core::demo::PORTRAIT_FILE, &done.portrait_png[..], false),
    ] {
        write_atomic(&dir.join(name), bytes, secret).map_err(usage)?;
    }
    Ok(done.credential)
}

/// The card's life, checked offline as a verifier with the issuer's signed status lists
/// would: issued to a first phone, reported lost (suspended), found (resumed), moved to a
/// new phone by the office's QR code (the first enrolment ends: its card is a forgery, the
/// new phone's genuine).
fn card_life(
    gpu: &GpuContext,
    demo: &DemoIdentity,
    a: &DemoCli,
    at: UnixMillis,
    live: &CheckedCapture,
) -> Result<Vec<LifeEvent>, Failure> {
    let issuer = demo.issuer.public();
    let first = demo.credential.credential.clone();
    let moved_doc = enrol_by_qr(demo, a, 2, "new-phone")?;
    let second = moved_doc.credential.clone();
    let list = |entries: &[(&Credential, Status)]| {
        let mut l = StatusList::new(status::LIST_LEN as usize);
        for (c, s) in entries {
            l.set(c.status.index as usize, *s);
        }
        let iat = at.0 / 1000 - 60;
        status::sign(&l, &status::subject(1), iat, 300, iat + 86_400, &demo.issuer)
    };
    let (old_phone, new_phone) = (demo_detector(demo, &first)?, demo_detector(demo, &second)?);
    // The earlier-enrolment search needs the decoded frames themselves.
    let photos = decode_jpegs(&live.jpegs)?;
    let captures = captures_of(&photos, &live.capture_times);
    let mut events = Vec::new();
    for (what, entry, want) in [
        (
            "issued by QR to the first phone (device enrolment 1)",
            Status::Valid,
            Decision::Genuine,
        ),
        (
            "the phone is reported lost: suspended",
            Status::Suspended,
            Decision::Forgery,
        ),
        ("the phone is found: resumed", Status::Valid, Decision::Genuine),
    ] {
        let finding = check_cmd::status_from_list(&list(&[(&first, entry)]), &issuer, &first, at);
        events.push(LifeEvent {
            what,
            phone: "first phone",
            listed: entry.as_str(),
            // The live capture's verdict from step 3, with the status of the moment.
            verdict: live.verdict.clone().with_status(&finding),
            want,
        });
    }
    // Moved: the issuer's document for enrolment 2; the list ends enrolment 1.
    let moved_list = list(&[(&first, Status::Invalid), (&second, Status::Valid)]);
    let against_new = new_phone.check(&captures).map_err(usage)?;
    let finding = match Detector::earlier_enrolment(&against_new, &captures, &[(1u32, &old_phone)]) {
        Some(epoch) => StatusFinding::DeviceReplaced(format!(
            "this card was moved to another phone: the phone shown holds device enrolment {epoch}, \
             which is no longer enrolled — do not accept"
        )),
        None => check_cmd::status_from_list(&moved_list, &issuer, &second, at),
    };
    events.push(LifeEvent {
        what: "moved to a new phone by QR (enrolment 2): the old phone shown",
        phone: "first phone",
        listed: Status::Invalid.as_str(),
        verdict: against_new.with_status(&finding),
        want: Decision::Forgery,
    });
    let mut moved = DemoIdentity::generate(a.seed);
    moved.credential = moved_doc;
    let mut cast = demo_cast(gpu, &moved, a.seed)?;
    let (jpegs, times) = shoot(
        &mut cast,
        Species::BonaFide,
        a,
        at,
        &mut Rng::new(a.seed).derive("demo/new-phone", 0),
    )?;
    let finding = check_cmd::status_from_list(&moved_list, &issuer, &second, at);
    events.push(LifeEvent {
        what: "the new phone shown",
        phone: "new phone",
        listed: Status::Valid.as_str(),
        verdict: check_jpegs(&new_phone, &jpegs, &times)?.with_status(&finding),
        want: Decision::Genuine,
    });
    Ok(events)
}

/// The life table: what happened, the list's entry, the decision and its first reason.
fn print_life(events: &[LifeEvent]) {
    for e in events {
        let first = e
            .verdict
            .reasons
            .first()
            .map(|r| r.code.as_str())
            .unwrap_or_default();
        println!(
            "      {:<62} list: {:<9} {:<12} {first}{}",
            e.what,
            e.listed,
            e.verdict.decision.as_str(),
            if e.verdict.decision == e.want {
                ""
            } else {
                "  (not as expected)"
            }
        );
    }
    println!();
}

fn step(n: usize, what: &str) {
    println!("[{n}/{STEPS}] {what}");
}

/// Refuses a DIR that holds files of something other than an earlier demo.
fn check_out_dir(out: &Path, force: bool) -> Outcome {
    if out.exists() && !out.is_dir() {
        return Err(usage(format!(
            "`{}` exists and is not a directory",
            out.display()
        )));
    }
    let mut entries = match std::fs::read_dir(out) {
        Ok(d) => d,
        Err(_) => return Ok(()),
    };
    let non_empty = entries.next().is_some();
    if non_empty && !force && !out.join(REPORT).exists() {
        return Err(usage(format!(
            "`{}` holds other files: choose a new --out, or pass --force to write into it",
            out.display()
        )));
    }
    Ok(())
}

fn png(img: &RgbaImage) -> Result<Vec<u8>, Failure> {
    output::png(img).map_err(usage)
}

fn write(out: &Path, name: &str, bytes: &[u8]) -> Outcome {
    write_atomic(&out.join(name), bytes, false).map_err(usage)
}

/// The per-pixel mean of two frames: what the eye integrates from the modulated pair.
fn mean_of(a: &RgbaImage, b: &RgbaImage) -> RgbaImage {
    let mut m = a.clone();
    for (p, q) in m.pixels_mut().zip(b.pixels()) {
        for c in 0..4 {
            p.0[c] = (u16::from(p.0[c]) + u16::from(q.0[c])).div_ceil(2) as u8;
        }
    }
    m
}

/// Frames of the animation, their rate and size.
const ANIMATION_FRAMES: u32 = 30;
const ANIMATION_FPS: f32 = 10.0;
const ANIMATION_SIZE: (u32, u32) = (270, 585);
/// Width of the card pictures in the report (the files beside it are full size).
const REPORT_WIDTH: u32 = 432;

/// The card pictures, as PNG bytes at the report's size.
#[derive(Default)]
pub(crate) struct CardPictures {
    pub live: Vec<u8>,
    /// An APNG.
    pub animation: Vec<u8>,
    pub blocked: Vec<u8>,
    pub copy_pair: [Vec<u8>; 2],
    /// The mean of the modulated pair: what the eye sees.
    pub copy_seen: Vec<u8>,
}

/// Draws the card: live (tilted a little), an animation with a tilt sweep and a shake
/// halfway, the capture-blocked card, and the two frames of the modulation. Writes each at
/// full size into `out` and returns them at the report's size.
fn draw_card(
    gpu: &GpuContext,
    demo: &DemoIdentity,
    at: UnixMillis,
    out: &Path,
) -> Result<CardPictures, Failure> {
    let mut full = CardRenderer::for_demo(gpu, demo, RendererOptions::default()).map_err(usage)?;
    let mut draw = |capture, modulation| {
        full.render_to_image(&FrameParams {
            time: at,
            tilt: Tilt {
                x: (-15f32).to_radians(),
                y: 10f32.to_radians(),
            },
            shake_started: None,
            capture,
            modulation,
        })
        .map_err(usage)
    };
    let live = draw(CaptureState::None, Modulation::Off)?;
    let blocked = draw(CaptureState::Recording, Modulation::Off)?;
    let copy = [
        draw(CaptureState::None, Modulation::for_frame(0))?,
        draw(CaptureState::None, Modulation::for_frame(1))?,
    ];
    let seen = mean_of(&copy[0], &copy[1]);
    let small = |name: &str, img: &RgbaImage| -> Result<Vec<u8>, Failure> {
        write(out, name, &png(img)?)?;
        let h = (u64::from(img.height()) * u64::from(REPORT_WIDTH) / u64::from(img.width().max(1))) as u32;
        png(&image::imageops::resize(
            img,
            REPORT_WIDTH,
            h.max(1),
            image::imageops::FilterType::Triangle,
        ))
    };
    let mut pictures = CardPictures {
        live: small("card.png", &live)?,
        blocked: small("card-blocked.png", &blocked)?,
        copy_pair: [
            small("card-copy-0.png", &copy[0])?,
            small("card-copy-1.png", &copy[1])?,
        ],
        copy_seen: small("card-copy-seen.png", &seen)?,
        animation: Vec::new(),
    };

    let (width, height) = ANIMATION_SIZE;
    let options = RendererOptions {
        width,
        height,
        ..Default::default()
    };
    let mut anim = CardRenderer::for_demo(gpu, demo, options).map_err(usage)?;
    let shake = UnixMillis(at.0 + 1500);
    let mut frames = Vec::with_capacity(ANIMATION_FRAMES as usize);
    for n in 0..ANIMATION_FRAMES {
        let phase = std::f32::consts::TAU * n as f32 / ANIMATION_FRAMES as f32;
        let time = UnixMillis(at.0 + (f64::from(n) * 1000.0 / f64::from(ANIMATION_FPS)).round() as u64);
        frames.push(
            anim.render_to_image(&FrameParams {
                time,
                tilt: Tilt {
                    x: 0.45 * phase.sin(),
                    y: 0.35 * phase.cos(),
                },
                shake_started: Some(shake),
                ..Default::default()
            })
            .map_err(usage)?,
        );
    }
    pictures.animation = output::apng(&frames, ANIMATION_FPS).map_err(usage)?;
    write(out, "card-animation.png", &pictures.animation)?;
    Ok(pictures)
}

/// One capture of every species at the verifier's clock, photographed and checked.
fn photograph_and_check(
    gpu: &GpuContext,
    demo: &DemoIdentity,
    a: &DemoCli,
    at: UnixMillis,
) -> Result<Vec<CheckedCapture>, Failure> {
    let mut cast = demo_cast(gpu, demo, a.seed)?;
    let detector = demo_detector(demo, &demo.credential.credential)?;
    let root = Rng::new(a.seed);
    let mut checks = Vec::with_capacity(Species::ALL.len());
    for (i, &sp) in Species::ALL.iter().enumerate() {
        let started = Instant::now();
        let (jpegs, capture_times) = shoot(
            &mut cast,
            sp,
            a,
            at,
            &mut root.derive(&format!("demo/{}", sp.name()), 0),
        )?;
        let verdict = check_jpegs(&detector, &jpegs, &capture_times)?;
        println!(
            "      {}/{} {:<19} photographed and checked in {:.1} s",
            i + 1,
            Species::ALL.len(),
            sp.name(),
            started.elapsed().as_secs_f32()
        );
        checks.push(CheckedCapture {
            species: sp,
            jpegs,
            capture_times,
            verdict,
        });
    }
    Ok(checks)
}

/// The verdict table: species, decision, score, main reason, time taken.
fn print_verdicts(checks: &[CheckedCapture]) {
    println!(
        "\n      {:<19} {:<13} {:>5} {:>8}  main reason",
        "species", "decision", "score", "time"
    );
    for c in checks {
        let v = &c.verdict;
        let main = v
            .reasons
            .first()
            .map(|r| format!("{}: {}", r.code.as_str(), r.message))
            .unwrap_or_default();
        println!(
            "      {:<19} {:<13} {:>5.2} {:>5.1} ms  {main}",
            c.species.name(),
            v.decision.as_str(),
            v.score,
            v.timings.total_us as f64 / 1000.0
        );
    }
    println!();
}

/// Whether each capture got the decision it should: genuine for the live card, forgery for
/// every attack.
pub(crate) fn as_expected(c: &CheckedCapture) -> bool {
    let want = if c.species.is_attack() {
        Decision::Forgery
    } else {
        Decision::Genuine
    };
    c.verdict.decision == want
}

pub fn run(a: &DemoCli, now: UnixMillis) -> Outcome {
    check_out_dir(&a.out, a.force)?;
    std::fs::create_dir_all(a.out.join("captures"))
        .map_err(|e| usage(format!("cannot create `{}`: {e}", a.out.display())))?;
    let at = a.at.unwrap_or(now);
    let started = Instant::now();

    step(
        1,
        "issuing a demo credential to the first phone by the office's one-time QR code",
    );
    crate::demo_credential(&a.out.join("identity"), a.seed, true)?;
    let identity = DemoIdentity::generate(a.seed);
    // The first phone's wallet comes from the QR enrolment: the very document and key the
    // demo draws with from here on.
    if enrol_by_qr(&identity, a, 1, "identity")? != identity.credential {
        return Err(usage("the first phone's enrolment is not the demo credential"));
    }

    let gpu = GpuContext::headless().map_err(usage)?;
    step(2, &format!("drawing the card at {at} on {}", gpu.describe()));
    let mut run = DemoRun {
        at,
        level: a.level,
        seed: a.seed,
        adapter: gpu.describe(),
        credential: identity.credential.credential.clone(),
        pictures: draw_card(&gpu, &identity, at, &a.out)?,
        checks: Vec::new(),
        eval: None,
        life: Vec::new(),
        offer_qr: Vec::new(),
    };

    step(
        3,
        &format!(
            "photographing the card as a verifier would ({} level, bursts of {}), and every attack",
            a.level.name(),
            a.burst
        ),
    );
    run.checks = photograph_and_check(&gpu, &identity, a, at)?;
    for c in &run.checks {
        for (i, j) in c.jpegs.iter().enumerate() {
            write(&a.out, &format!("captures/{}-{i}.jpg", c.species.name()), j)?;
        }
    }

    step(4, "the detector's verdicts");
    print_verdicts(&run.checks);
    let verdicts = serde_json::Value::Array(
        run.checks
            .iter()
            .map(|c| {
                let mut v = c.verdict.to_json();
                v["species"] = c.species.name().into();
                v["capture_times"] = c.capture_times.iter().map(|t| t.to_rfc3339()).collect();
                v
            })
            .collect(),
    );
    let text = serde_json::to_string_pretty(&verdicts).map_err(usage)?;
    write(&a.out, "verdicts.json", text.as_bytes())?;

    step(
        5,
        "the card's life, checked offline with the issuer's signed status lists",
    );
    let live = run
        .checks
        .iter()
        .find(|c| c.species == Species::BonaFide)
        .ok_or_else(|| usage("no capture of the live card"))?;
    run.life = card_life(&gpu, &identity, a, at, live)?;
    for epoch in [1, 2] {
        let name = format!("offer-qr-{epoch}.png");
        run.offer_qr
            .push(std::fs::read(a.out.join(&name)).map_err(|e| usage(format!("reading back {name}: {e}")))?);
    }
    print_life(&run.life);

    if a.eval_count > 0 {
        step(
            6,
            &format!(
                "a small ISO/IEC 30107-3 evaluation: {} capture(s) per species and level",
                a.eval_count
            ),
        );
        let dataset = a.out.join("eval-dataset");
        crate::simulate_cmd::run(&SimulateCli {
            out: dataset.clone(),
            count: a.eval_count,
            from: 0,
            seed: a.seed,
            species: Vec::new(),
            levels: Vec::new(),
            edits: Vec::new(),
            burst: 2,
            size: Size(720, 1280),
            force: true,
            jobs: None,
        })?;
        let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let (rows, _) = evaluate(&dataset, jobs, false, crate::eval_cmd::Route::Photo)?;
        let summary = summarise(&rows);
        print!("{}", summary.table());
        println!();
        run.eval = Some((summary, a.eval_count));
    } else {
        step(6, "the evaluation is skipped (--eval-count 0)");
    }

    step(7, "writing the report");
    let html = demo_report::html(&run);
    let report = a.out.join(REPORT);
    write_atomic(&report, html.as_bytes(), false).map_err(usage)?;
    let expected = run.checks.iter().filter(|c| as_expected(c)).count();
    println!(
        "{expected} of {} captures called as expected (live card genuine, every attack a forgery); \
         {:.0} s in all",
        run.checks.len(),
        started.elapsed().as_secs_f32()
    );
    let shown = std::fs::canonicalize(&report).unwrap_or(report);
    println!("report: {}", shown.display());
    Ok(())
}
