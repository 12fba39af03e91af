//! The secret-free reading of a frame, natively and (under `wasm-bindgen-test-runner`, in
//! node) as WebAssembly: the same checks both ways. The frame is the renderer's snapshot of
//! the seed-1 demo card (tests/snapshots/card.png of holoid-render, drawn at a fixed time).

use holoid_core::code::Locator;
use holoid_core::demo::DemoIdentity;
use holoid_core::encoding::to_hex;
use holoid_core::time::UnixMillis;
use holoid_detect::evidence::Unread;
use holoid_detect::{Capture, Detector, ReasonCode, Trust, Verdict};
use holoid_wasm::{FrameError, Record, portrait_reference, read_card, record_from_json, text_reference};

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

/// The record a console would be sent for demo holder `seed`.
fn record_of(seed: u64) -> Record {
    let demo = DemoIdentity::generate(seed);
    Record {
        portrait: Some(portrait_reference(&demo.portrait_png).expect("portrait decodes")),
        text: Some(text_reference(&demo.credential.to_json()).expect("credential reads")),
    }
}

/// The server's detector for the seed-1 demo credential (it holds the master key).
fn server_detector() -> Detector {
    let demo = DemoIdentity::generate(1);
    let trust = Trust::from_master(&demo.credential.credential, &demo.master, &demo.portrait_png)
        .expect("the demo's own portrait");
    Detector::builder(trust).build().expect("default configuration")
}

/// A verdict's reasons as (code, frame, message), to compare two routes' verdicts.
fn reasons(v: &Verdict) -> Vec<(ReasonCode, Option<usize>, String)> {
    v.reasons
        .iter()
        .map(|r| (r.code, r.frame, r.message.clone()))
        .collect()
}

#[test]
fn a_clean_render_reads_as_its_credentials_code_and_the_server_judges_it_as_the_photo() {
    let (pixels, w, h) = rgba(CARD_PNG);
    let demo = DemoIdentity::generate(1);
    let reading = read_card(&pixels, w, h, DRAWN_AT, &record_of(1)).expect("a good frame");
    let evidence = &reading.evidence;
    assert_eq!(evidence.unread, None, "{reading:?}");
    assert_eq!(evidence.captured_at, DRAWN_AT.0);
    let credential = &demo.credential.credential;
    assert_eq!(reading.locator, Some(to_hex(&Locator::of(&credential.id).0)));
    // The server, with the key, finds the tag authentic and fresh and the sweep showing the
    // time drawn; and it reaches the very verdict a photo check of the same frame reaches.
    let server = server_detector();
    let from_evidence = server
        .check_evidence(std::slice::from_ref(evidence))
        .expect("judged");
    let codes: Vec<ReasonCode> = from_evidence.reasons.iter().map(|r| r.code).collect();
    assert!(
        codes.contains(&ReasonCode::TagValid) && codes.contains(&ReasonCode::SweepInTime),
        "{from_evidence:?}"
    );
    let lag = from_evidence.frames[0].lag_ms.expect("sweep read");
    assert!(lag.abs() < 50, "the sweep shows {lag} ms off the time drawn");
    let photo = image::load_from_memory(CARD_PNG).expect("decodes").to_rgb8();
    let from_photo = server
        .check(&[Capture {
            image: &photo,
            time: DRAWN_AT,
        }])
        .expect("judged");
    assert_eq!(
        (from_evidence.decision, reasons(&from_evidence)),
        (from_photo.decision, reasons(&from_photo))
    );
    // The evidence is JSON the server reads back exactly.
    let json = serde_json::to_string(evidence).expect("serialises");
    assert_eq!(
        &serde_json::from_str::<holoid_wasm::FrameEvidence>(&json).expect("parses"),
        evidence
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
        let record = Record {
            portrait: Some(portrait_reference(&DemoIdentity::generate(seed).portrait_png).expect("decodes")),
            text: None,
        };
        read_card(&pixels, w, h, DRAWN_AT, &record)
            .expect("a good frame")
            .evidence
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
    let bare = read_card(&pixels, w, h, DRAWN_AT, &Record::default()).expect("a good frame");
    assert_eq!(bare.evidence.portrait, None);
    assert!(matches!(
        portrait_reference(b"not an image"),
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
            text: Some(text_reference(&credential.to_json()).expect("credential reads")),
        };
        let fields = read_card(&pixels, w, h, DRAWN_AT, &record)
            .expect("a good frame")
            .evidence
            .text_fields;
        let mut worst: Vec<f32> = fields.iter().map(|f| f.worst_window).collect();
        worst.sort_by(f32::total_cmp);
        let median = worst[worst.len() / 2];
        // Each field's name is its place in the list.
        fields
            .iter()
            .zip(holoid_detect::text::VALUE_NAMES)
            .map(|(f, name)| (name, f.worst_window / median))
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
    assert!(matches!(text_reference("{}"), Err(FrameError::Credential(_))));
}

#[test]
fn a_frame_without_a_card_asks_for_a_retake_and_a_bad_buffer_is_an_error() {
    let (w, h) = (200u32, 300u32);
    let grey: Vec<u8> = (0..w * h).flat_map(|i| [(i % 251) as u8, 90, 90, 255]).collect();
    let reading = read_card(&grey, w, h, DRAWN_AT, &Record::default()).expect("a well-formed frame");
    assert_eq!(
        (&reading.evidence.code, &reading.evidence.sweep, &reading.locator),
        (&None, &None, &None)
    );
    assert!(
        reading.evidence.unread.is_some_and(Unread::card_not_found),
        "{reading:?}"
    );
    let verdict = server_detector()
        .check_evidence(&[reading.evidence])
        .expect("judged");
    assert_eq!(verdict.reasons[0].code, ReasonCode::CardNotFound, "{verdict:?}");
    let bad = |pixels: &[u8], w, h| read_card(pixels, w, h, DRAWN_AT, &Record::default()).err();
    assert_eq!(
        bad(&grey[1..], w, h),
        Some(FrameError::WrongLength {
            expected: u64::from(w * h * 4),
            given: grey.len() - 1
        })
    );
    assert_eq!(
        bad(&[], 10, 10),
        Some(FrameError::BadSize {
            width: 10,
            height: 10
        })
    );
    assert!(matches!(
        bad(&[], 100_000, 100_000),
        Some(FrameError::BadSize { .. })
    ));
}

#[test]
fn the_servers_record_reads_as_the_reference_it_was_made_from() {
    // What `GET /v1/records/{locator}` sends: the signed credential and the portrait's cells.
    let demo = DemoIdentity::generate(1);
    let cells = record_of(1).portrait.expect("cells").to_bytes();
    let json = serde_json::json!({
        "credential": demo.credential.to_json(),
        "portrait_cells": to_hex(&cells),
    })
    .to_string();
    let (pixels, w, h) = rgba(CARD_PNG);
    let from_server = read_card(&pixels, w, h, DRAWN_AT, &record_from_json(&json).expect("reads"))
        .expect("a good frame")
        .evidence;
    let from_files = read_card(&pixels, w, h, DRAWN_AT, &record_of(1))
        .expect("a good frame")
        .evidence;
    assert_eq!(from_server, from_files, "the same measures either way");
    assert_eq!(from_server.text_fields.len(), 7);
    // Cells cut short, or not hex, are errors naming the portrait; a bad credential names it.
    let short = serde_json::json!({"credential": demo.credential.to_json(), "portrait_cells": "00ff"});
    assert!(matches!(
        record_from_json(&short.to_string()),
        Err(FrameError::Portrait(_))
    ));
    let bad = serde_json::json!({"credential": "{}", "portrait_cells": to_hex(&cells)});
    assert!(matches!(
        record_from_json(&bad.to_string()),
        Err(FrameError::Credential(_))
    ));
}

/// The card a copy is made of, straightened where the camera is: a PNG of the copy's size
/// (whether it shows the credential is the server's to judge: holoid-detect's tests and the
/// service's); a frame with no card in it says so.
#[test]
fn the_card_is_straightened_to_a_png_of_the_copys_size() {
    let (pixels, w, h) = rgba(CARD_PNG);
    let png = holoid_wasm::straightened_png(&pixels, w, h).expect("a card in the frame");
    let card = image::load_from_memory(&png).expect("a PNG").to_rgb8();
    assert_eq!(card.dimensions(), holoid_detect::rectify::CARD_IMAGE_SIZE);
    let blank = vec![128u8; (w * h * 4) as usize];
    assert!(matches!(
        holoid_wasm::straightened_png(&blank, w, h),
        Err(FrameError::CardNotFound(_))
    ));
}
