//! The evidence route (issue #22): the console's WebAssembly detector measures each frame
//! without a key and sends only that; the server judges it. The same simulated bursts checked
//! as photos (`POST /v1/checks`) and as evidence (`POST /v1/checks/evidence`) reach the same
//! decision and reasons, for every species; evidence is refused as photos are (out of its
//! ranges, far from the clock, sent twice), and no card image is kept for it.

use base64::Engine as _;
use holoid_testkit::captures;
use holoid_testkit::service as support;

use axum::http::StatusCode;
use captures::{Burst, Camera, mid_window_after, now};
use holoid_core::code::Locator;
use holoid_core::encoding::to_hex;
use holoid_detect::Timings;
use holoid_detect::content::REFERENCE_BYTES;
use holoid_detect::evidence::{self, FrameEvidence, Record};
use holoid_service::ServiceConfig;
use holoid_service::auth::View;
use holoid_service::responses::RecordJson;
use holoid_sim::camera::Level;
use holoid_sim::species::Species;
use support::*;

/// The record the console is sent for the demo credential (`GET /v1/records/{locator}` with
/// `token`): its lettering and its portrait's cells, read back as the WebAssembly reader reads
/// them.
async fn fetch_record(w: &World, token: &str) -> Record {
    let locator = to_hex(&Locator::of(&w.demo.credential.credential.id).0);
    let (s, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/records/{locator}"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let sent: RecordJson = serde_json::from_slice(&b).unwrap();
    // Exactly what the detector itself compares with: the cells, not the portrait file.
    assert!(
        !String::from_utf8_lossy(&b).contains("base64") && sent.portrait_cells.len() == 2 * REFERENCE_BYTES
    );
    holoid_wasm::record_from_json(std::str::from_utf8(&b).unwrap()).unwrap()
}

/// What the console sends for `burst`: each JPEG decoded as the browser's canvas would hold
/// it, measured.
fn evidence_of(burst: &Burst, record: &Record) -> Vec<FrameEvidence> {
    burst
        .jpegs
        .iter()
        .zip(&burst.times)
        .map(|(jpeg, &t)| {
            let img = image::load_from_memory(jpeg).unwrap().to_rgb8();
            evidence::measure(&img, t, record, &mut Timings::default()).evidence
        })
        .collect()
}

/// Asks for a copy of check `id` "for account opening", with the console's straightened
/// card (base64) where given.
async fn post_copy(
    w: &World,
    id: &str,
    card_png: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut copy = serde_json::json!({"check_id": id, "purpose": "account opening"});
    if let Some(card) = card_png {
        copy["card_png"] = card.into();
    }
    call(
        &w.app,
        "POST",
        "/v1/copies",
        Some(&w.tokens.officer),
        json_body(&copy),
    )
    .await
}

fn json_body(value: &serde_json::Value) -> Option<(String, Vec<u8>)> {
    Some(("application/json".into(), value.to_string().into_bytes()))
}

async fn photo_check(w: &World, burst: &Burst) -> (StatusCode, serde_json::Value) {
    let fields = burst.fields();
    let parts: Vec<(&str, &[u8])> = fields.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/checks",
        Some(&w.tokens.officer),
        Some(multipart(&parts)),
    )
    .await;
    (s, json(&b))
}

async fn evidence_check(w: &World, body: &serde_json::Value) -> (StatusCode, serde_json::Value) {
    evidence_check_raw(w, body.to_string().into_bytes()).await
}

async fn evidence_check_raw(w: &World, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/checks/evidence",
        Some(&w.tokens.officer),
        Some(("application/json".into(), body)),
    )
    .await;
    (s, json(&b))
}

/// The decision and each reason's code and words.
fn finding(v: &serde_json::Value) -> (String, Vec<(String, String)>) {
    let reasons = v["reasons"].as_array().map_or_else(Vec::new, |r| {
        r.iter()
            .map(|x| {
                (
                    x["code"].as_str().unwrap().to_string(),
                    x["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    });
    (v["decision"].as_str().unwrap_or("").to_string(), reasons)
}

#[tokio::test]
async fn both_routes_reach_the_same_verdict_on_every_species() {
    if holoid_testkit::gpu::skip_gpu("the evidence route's comparison (its captures need a GPU adapter)") {
        return;
    }
    let config = ServiceConfig {
        checks_per_credential: 1000,
        checks_per_token: 1000,
        max_body_bytes: 8 << 20,
        ..Default::default()
    };
    let w = world(&sqlite_url("evidence-routes"), config).await;
    register(&w).await;
    let record = fetch_record(&w, &w.tokens.officer).await;
    let mut camera = Camera::new(&w.demo);
    let mut decisions = Vec::new();
    for (k, species) in Species::ALL.into_iter().enumerate() {
        for (j, level) in [Level::Easy, Level::Hard].into_iter().enumerate() {
            let burst = camera.shoot(
                species,
                level,
                mid_window_after(now()),
                3,
                700 + 10 * k as u64 + j as u64,
            );
            let (s, by_photo) = photo_check(&w, &burst).await;
            let evidence = evidence_of(&burst, &record);
            // As the console sends it: serialised from the evidence's own types (f32 figures;
            // through serde_json::Value they would widen to f64's longer digits).
            let body = format!(r#"{{"frames":{}}}"#, serde_json::to_string(&evidence).unwrap());
            let sent = body.len();
            // The body is what /openapi.json documents.
            let doc = holoid_testkit::openapi::document();
            let schema = &doc["paths"]["/v1/checks/evidence"]["post"]["requestBody"]["content"]["application/json"]
                ["schema"];
            holoid_testkit::openapi::fits(&doc, schema, &json(body.as_bytes()), "evidence").unwrap();
            let (t, by_evidence) = evidence_check_raw(&w, body.into_bytes()).await;
            let what = format!("{} at {level:?}", species.name());
            assert_eq!(
                (s, t),
                (StatusCode::OK, StatusCode::OK),
                "{what}: {by_photo} {by_evidence}"
            );
            assert_eq!(
                finding(&by_evidence),
                finding(&by_photo),
                "{what}: the routes disagree"
            );
            // The point of the route: a burst of three in a few kilobytes, not half a megabyte.
            let photos: usize = burst.jpegs.iter().map(Vec::len).sum();
            assert!(sent < 4096, "{what}: {sent} bytes of evidence");
            eprintln!(
                "{what}: {} (evidence {sent} bytes, photos {photos} bytes)",
                finding(&by_photo).0
            );
            decisions.push(finding(&by_photo).0);
        }
    }
    // The set is worth comparing: it holds every decision.
    for d in ["genuine", "forgery", "inconclusive"] {
        assert!(decisions.iter().any(|x| x == d), "no {d} among {decisions:?}");
    }
}

#[tokio::test]
async fn evidence_is_refused_as_photos_are_and_leaves_no_card_image() {
    if holoid_testkit::gpu::skip_gpu("the evidence route's refusals (its captures need a GPU adapter)") {
        return;
    }
    let w = world(&sqlite_url("evidence-refused"), ServiceConfig::default()).await;
    register(&w).await;
    let record = fetch_record(&w, &w.tokens.officer).await;
    let mut camera = Camera::new(&w.demo);
    let burst = camera.shoot(Species::BonaFide, Level::Easy, mid_window_after(now()), 2, 91);
    let evidence = evidence_of(&burst, &record);
    let body = serde_json::json!({ "frames": evidence });
    let (s, v) = evidence_check(&w, &body).await;
    assert_eq!(
        (s, v["decision"].as_str()),
        (StatusCode::OK, Some("genuine")),
        "{v}"
    );
    // The officer's answer is a photo check's: the decision and reasons, the holder's record.
    assert!(
        v["holder"]["name_latin"].is_string() && v.get("frames").is_none(),
        "{v}"
    );
    // No photo reached the server: no card image is kept.
    let id = v["check_id"].as_str().unwrap();
    let (s, _, _) = call(
        &w.app,
        "GET",
        &format!("/v1/checks/{id}/card.png"),
        Some(&w.tokens.officer),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // So a copy cannot be made from it (yet): a clear refusal, not a pretended expiry.
    let (s, _, b) = post_copy(&w, id, None).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_card_image"))
    );
    // The console sends the card it straightened from a frame (holoid-wasm, as in the
    // browser) when the officer stores a copy: the service checks that it shows the checked
    // credential's portrait and lettering. Another face's card, a wrong size, not base64 or
    // not a PNG are refused; the credential's own card makes the copy.
    let straightened = |jpeg: &[u8]| {
        let rgba: Vec<u8> = (image::load_from_memory(jpeg).unwrap().to_rgba8()).into_raw();
        let img = image::load_from_memory(jpeg).unwrap();
        holoid_wasm::straightened_png(&rgba, img.width(), img.height()).unwrap()
    };
    let b64 = |png: &[u8]| base64::engine::general_purpose::STANDARD.encode(png);
    let swapped = camera.shoot(Species::PortraitSwap, Level::Easy, mid_window_after(now()), 1, 92);
    let renamed = camera.shoot(Species::TextEdit, Level::Easy, mid_window_after(now()), 1, 93);
    let small = {
        let mut png = Vec::new();
        image::RgbImage::new(100, 100)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    };
    let refusals = [
        (
            b64(&straightened(&swapped.jpegs[0])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_image_mismatch",
        ),
        (
            b64(&straightened(&renamed.jpegs[0])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_image_mismatch",
        ),
        (b64(&small), StatusCode::BAD_REQUEST, "bad_card_image"),
        ("not base64!".into(), StatusCode::BAD_REQUEST, "bad_card_image"),
        (
            b64(b"\x89PNG but no more"),
            StatusCode::BAD_REQUEST,
            "bad_card_image",
        ),
    ];
    for (card, status, code) in refusals {
        let (s, _, b) = post_copy(&w, id, Some(&card)).await;
        assert_eq!(
            (s, json(&b)["error"]["code"].as_str()),
            (status, Some(code)),
            "{}",
            json(&b)
        );
    }
    let card = straightened(&burst.jpegs[1]);
    let (s, h, b) = post_copy(&w, id, Some(&b64(&card))).await;
    assert_eq!(s, StatusCode::CREATED, "{}", json(&b));
    assert_documented("POST", "/v1/copies", 201, h["content-type"].to_str().unwrap(), &b);
    let made = json(&b);
    assert_eq!(made["signature_valid"], true, "{made}");
    let (s, _, image) = call(
        &w.app,
        "GET",
        &format!("/v1/copies/{}/image.png", made["id"].as_str().unwrap()),
        Some(&w.tokens.officer),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(image::load_from_memory(&image).unwrap().width(), 540);
    // The same evidence again is a replay, as the same photo is.
    let (s, v) = evidence_check(&w, &body).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("replayed_photo")),
        "{v}"
    );
    // Refused before judging: times far from the clock, figures out of range, a frame twice,
    // unknown fields, no frames, a payload that is not a code's.
    let mut old = evidence.clone();
    for f in &mut old {
        f.captured_at -= 60_000;
    }
    let mut hot = evidence.clone();
    hot[0].portrait.as_mut().unwrap().cells_off = 7.0;
    let twice = vec![evidence[0].clone(), evidence[0].clone()];
    let mut forged = evidence.clone();
    forged[0].code.as_mut().unwrap().payload = "zz".repeat(20);
    let cases = [
        (serde_json::json!({ "frames": old }), "capture_time"),
        (serde_json::json!({ "frames": hot }), "bad_evidence"),
        (serde_json::json!({ "frames": twice }), "duplicate_image"),
        (
            serde_json::json!({ "frames": evidence, "photos": [] }),
            "bad_request",
        ),
        (serde_json::json!({ "frames": [] }), "bad_request"),
        (serde_json::json!({ "frames": forged }), "bad_evidence"),
    ];
    for (body, code) in cases {
        let (s, v) = evidence_check(&w, &body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}: {v}"
        );
    }
    // Evidence is kilobytes: a body of megabytes is refused before it is parsed.
    let padded = format!(r#"{{"frames": [], "pad": "{}"}}"#, "x".repeat(1 << 20));
    let (s, v) = evidence_check_raw(&w, padded.into_bytes()).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")),
        "{v}"
    );
    // A kiosk token may use the route (its one route is the check); an admin may not.
    let (s, _, _) = call(
        &w.app,
        "POST",
        "/v1/checks/evidence",
        Some(&w.tokens.admin),
        json_body(&serde_json::json!({ "frames": [] })),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The refusals are audited as refused checks, never as checks.
    let actions = audit_actions(&w).await;
    let refused = actions.iter().filter(|a| a.0 == "check_refused").count();
    assert_eq!(refused, 7, "{actions:?}");
    // The record: every view's officer may fetch it (the kiosk's and the shop's consoles
    // measure with it too), each read audited; no other role, and no unknown locator.
    for view in [View::Age { over: 19 }, View::Kiosk] {
        let token = view_token(w.state.store(), view, "Counter 2").await;
        assert!(fetch_record(&w, &token).await.text.is_some());
    }
    let reads = audit_actions(&w)
        .await
        .iter()
        .filter(|a| a.0 == "record_read")
        .count();
    assert_eq!(reads, 3, "the officer's read and the two views'");
    let locator = to_hex(&Locator::of(&w.demo.credential.credential.id).0);
    for (token, uri, status) in [
        (
            &w.tokens.admin,
            format!("/v1/records/{locator}"),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.tokens.officer,
            "/v1/records/0123456789abcdef".to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            &w.tokens.officer,
            "/v1/records/not-a-locator".to_string(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, _, _) = call(&w.app, "GET", &uri, Some(token), None).await;
        assert_eq!(s, status, "{uri}");
    }
}
