//! The secret-free reading of a frame, natively and (under `wasm-bindgen-test-runner`, in
//! node) as WebAssembly: the same checks both ways. The frame is the renderer's snapshot of
//! the seed-1 demo card (tests/snapshots/card.png of holoid-render, drawn at a fixed time).

use holoid_core::code::{Locator, TagCheck};
use holoid_core::demo::DemoIdentity;
use holoid_core::pattern::Pattern;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::AcceptPolicy;
use holoid_wasm::{FrameError, PortraitReference, Record, TextReference, read_card};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The snapshot's card and the time it was drawn (holoid-render's tests/snapshots.rs).
const CARD_PNG: &[u8] = include_bytes!("../../holoid-render/tests/snapshots/card.png");
const DRAWN_AT: UnixMillis = UnixMillis(1_795_603_792_250);

fn rgba(png: &[u8]) -> (Vec<u8>, u32, u32) {
    let img = image::load_from_memory(png).expect("snapshot decodes").to_rgba8();
    let (w, h) = img.dimensions();
    (img.into_raw(), w, h)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn a_clean_render_reads_as_its_credentials_code_with_a_tag_its_key_made() {
    let (pixels, w, h) = rgba(CARD_PNG);
    let demo = DemoIdentity::generate(1);
    let reading = read_card(&pixels, w, h, &Record::default()).expect("a good frame");
    assert_eq!(reading.retake, None, "{reading:?}");
    let code = reading.code.expect("code read");
    let credential = &demo.credential.credential;
    assert_eq!(unhex(&code.locator), Locator::of(&credential.id).0);
    // The reading carries what the server needs to check the tag: with the credential's
    // key, at the time drawn, it is authentic and fresh.
    let mut payload = holoid_core::code::Payload {
        period: Default::default(),
        window_low: code.window_low,
        locator: Locator::of(&credential.id),
        tag: Default::default(),
    };
    assert_eq!(payload.period.millis(), code.period_ms);
    payload.tag.copy_from_slice(&unhex(&code.tag));
    let key = demo.master.device_key_for(credential);
    let accepted = AcceptPolicy::default().accepted(payload.period, DRAWN_AT);
    assert!(
        matches!(
            payload.check(&key, DRAWN_AT, accepted),
            TagCheck::Fresh { offset: 0, .. }
        ),
        "{code:?}"
    );
    // The server turns the sweep's head into the time shown with the window's keyed pattern:
    // the time drawn, to well within the ~100 ms the sweep is read to.
    let window = payload.window_near(DRAWN_AT);
    let sweep = Pattern::for_window(&key, window).sweep;
    let heads = reading.sweep.expect("sweep read");
    let head = if sweep.direction > 0.0 {
        heads.clockwise
    } else {
        heads.counter_clockwise
    };
    assert!(head.confidence > 0.9, "{heads:?}");
    let drawn = payload.period.millis_into_window(DRAWN_AT) as f32 / code.period_ms as f32;
    let off = (sweep.phase_of(head.angle) - drawn).abs();
    assert!(
        off.min(1.0 - off) * (code.period_ms as f32) < 50.0,
        "phase {} for {drawn}",
        sweep.phase_of(head.angle)
    );
    // The marks lie in the frame.
    let marks = reading.marks.expect("marks");
    assert!(
        marks
            .iter()
            .all(|m| m[0] > 0.0 && m[0] < f64::from(w) && m[1] > 0.0 && m[1] < f64::from(h))
    );
}

#[test]
fn the_portrait_is_measured_against_the_registered_one() {
    let (pixels, w, h) = rgba(CARD_PNG);
    let measure = |seed: u64| {
        let portrait =
            PortraitReference::from_image(&DemoIdentity::generate(seed).portrait_png).expect("decodes");
        let record = Record {
            portrait: Some(portrait),
            text: None,
        };
        read_card(&pixels, w, h, &record)
            .expect("a good frame")
            .portrait
            .expect("portrait in frame")
    };
    // Against its own registered portrait: the same face, as a photo check's thresholds
    // (DetectorConfig: a match at 12 % of cells off or fewer and correlation 0.93) would call it.
    let own = measure(1);
    assert!(own.cells_off <= 0.12 && own.correlation >= 0.93, "{own:?}");
    // Against another holder's: far off colour.
    let other = measure(2);
    assert!(other.cells_off >= 0.25, "{other:?}");
    // Without a portrait, none is measured; a portrait that is not an image is an error.
    assert_eq!(
        read_card(&pixels, w, h, &Record::default())
            .expect("a good frame")
            .portrait,
        None
    );
    assert!(matches!(
        PortraitReference::from_image(b"not an image"),
        Err(FrameError::Portrait(_))
    ));
}

#[test]
fn the_lettering_is_measured_against_the_credentials() {
    let (pixels, w, h) = rgba(CARD_PNG);
    let demo = DemoIdentity::generate(1);
    // The fields' worst windows against the lettering of `credential`, each as a share of
    // the median field's.
    let measure = |credential: &holoid_core::credential::SignedCredential| {
        let record = Record {
            portrait: None,
            text: Some(TextReference::from_credential_json(&credential.to_json()).expect("credential reads")),
        };
        let fields = read_card(&pixels, w, h, &record)
            .expect("a good frame")
            .text_fields;
        let mut worst: Vec<f64> = fields.iter().map(|f| f.worst_window).collect();
        worst.sort_by(f64::total_cmp);
        let median = worst[worst.len() / 2];
        fields
            .iter()
            .map(|f| (f.field.clone(), f.worst_window / median))
            .collect::<Vec<_>>()
    };
    // Its own credential: every value field compared; the Latin name agrees about as well as
    // the others (a photo check calls an edit below 0.6 of them). (The snapshot is small,
    // 0.25 px a design unit: its resident number reads 0.39 there, which a photo check would
    // not judge at that blur.)
    let own = measure(&demo.credential);
    assert_eq!(own.len(), 7, "{own:?}");
    let own_latin = own.iter().find(|f| f.0 == "name_latin").expect("Latin name");
    assert!(own_latin.1 >= 0.6, "{own:?}");
    // A credential with another Latin name: that field's lettering does not agree.
    let mut other = demo.credential.clone();
    other.credential.holder.name_latin = "NAMGUNG SEOYEON".into();
    let edited = measure(&other);
    let latin = edited.iter().find(|f| f.0 == "name_latin").expect("Latin name");
    assert!(latin.1 < 0.6, "{own:?} {edited:?}");
    // A record that is not a credential is an error.
    assert!(matches!(
        TextReference::from_credential_json("{}"),
        Err(FrameError::Credential(_))
    ));
}

#[test]
fn a_frame_without_a_card_asks_for_a_retake_and_a_bad_buffer_is_an_error() {
    let (w, h) = (200u32, 300u32);
    let grey: Vec<u8> = (0..w * h).flat_map(|i| [(i % 251) as u8, 90, 90, 255]).collect();
    let reading = read_card(&grey, w, h, &Record::default()).expect("a well-formed frame");
    assert_eq!((reading.code, reading.sweep), (None, None));
    assert_eq!(reading.retake.expect("retake").code, "card_not_found");
    assert_eq!(
        read_card(&grey[1..], w, h, &Record::default()),
        Err(FrameError::WrongLength {
            expected: u64::from(w * h * 4),
            given: grey.len() - 1
        })
    );
    assert_eq!(
        read_card(&[], 10, 10, &Record::default()),
        Err(FrameError::BadSize {
            width: 10,
            height: 10
        })
    );
    assert!(matches!(
        read_card(&[], 100_000, 100_000, &Record::default()),
        Err(FrameError::BadSize { .. })
    ));
}
