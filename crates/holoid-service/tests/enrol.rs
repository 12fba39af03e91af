//! Issuance by one-time QR without a socket: an officer makes an offer, its QR code reads
//! back (with rxing, a reader that is not the encoder) as the offer's text, a phone enrols
//! once with a fresh key pair and opens its device key, the earlier phone's enrolment ends,
//! and every bad, used, expired or tampered request gets its own clear 4xx and is audited.

use holoid_testkit::service as support;

use axum::http::StatusCode;
use holoid_core::enrol::{Enrolment, Offer, WalletKeyPair};
use holoid_service::ServiceConfig;
use holoid_service::store::{Store, now_ms};
use sqlx::Executor;
use support::*;

/// A JSON body.
fn body(v: serde_json::Value) -> Option<(String, Vec<u8>)> {
    Some(("application/json".into(), v.to_string().into_bytes()))
}

/// Makes an offer for the demo credential as `token`: status and JSON.
async fn make_offer(w: &World, token: &str) -> (StatusCode, serde_json::Value) {
    let id = &w.demo.credential.credential.id;
    let (s, _, b) = call(
        &w.app,
        "POST",
        &format!("/v1/credentials/{id}/offers"),
        Some(token),
        None,
    )
    .await;
    (s, json(&b))
}

/// Sends an enrolment request: status and JSON.
async fn enrol(w: &World, offer: &str, public_key: &str) -> (StatusCode, serde_json::Value) {
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/enrol",
        None,
        body(serde_json::json!({"offer": offer, "device_public_key": public_key})),
    )
    .await;
    (s, json(&b))
}

/// The QR code's text, read by rxing.
fn read_qr(png: &[u8]) -> String {
    let grey = image::load_from_memory(png).unwrap().to_luma8();
    holoid_testkit::qr::read(&grey).expect("the QR code reads")
}

#[tokio::test]
async fn a_phone_enrols_once_by_the_offers_qr_code_on_sqlite() {
    enrols_once(&sqlite_url("enrol")).await;
}

#[tokio::test]
async fn a_phone_enrols_once_by_the_offers_qr_code_on_postgres() {
    let Some(base) = postgres_base() else { return };
    let db = PgScratch::new(&base).await;
    enrols_once(&db.url).await;
    db.drop_db().await;
}

/// The whole issuance on the store at `url`; the earlier phone's enrolment ends.
async fn enrols_once(url: &str) {
    let w = world(url, ServiceConfig::default()).await;
    register(&w).await;
    let id = w.demo.credential.credential.id.clone();

    // Who may make an offer, and for what.
    for (token, want) in [
        (&w.tokens.auditor, StatusCode::FORBIDDEN),
        (&w.tokens.officer, StatusCode::CREATED),
    ] {
        assert_eq!(make_offer(&w, token).await.0, want);
    }
    let (s, _, _) = call(
        &w.app,
        "POST",
        "/v1/credentials/KR-NOPE/offers",
        Some(&w.tokens.officer),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, offer) = make_offer(&w, &w.tokens.officer).await;
    assert_eq!(s, StatusCode::CREATED, "{offer}");
    assert_eq!(offer["state"], "pending");
    assert_eq!(offer["credential_id"], id.as_str());
    let secs = offer["expires_in_s"].as_i64().unwrap();
    assert!((295..=300).contains(&secs), "valid five minutes: {secs}");
    let text = offer["offer"].as_str().unwrap().to_string();
    let offer_id = offer["offer_id"].as_str().unwrap().to_string();
    assert!(text.starts_with("HOLOID:OFFER1:"), "{text}");

    // The QR code holds exactly the offer's text; only the offer's office sees it.
    let qr_url = offer["qr_url"].as_str().unwrap();
    let (s, h, png) = call(&w.app, "GET", qr_url, Some(&w.tokens.officer), None).await;
    assert_eq!(
        (s, &h["content-type"]),
        (StatusCode::OK, &"image/png".parse().unwrap())
    );
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(read_qr(&png), text);
    let (s, _, _) = call(&w.app, "GET", qr_url, Some(&w.tokens.busan), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another office's officer");
    let (s, _, _) = call(&w.app, "GET", qr_url, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    for bad in ["/v1/offers/zz", "/v1/offers/00000000000000000000000000000000"] {
        let (s, _, _) = call(&w.app, "GET", bad, Some(&w.tokens.admin), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }

    // Bad requests, each named.
    let keys = WalletKeyPair::generate();
    let pk = keys.public_text();
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/enrol",
        None,
        Some(("application/json".into(), b"{\"offer\": 1}".to_vec())),
    )
    .await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let cases = [
        (
            "HOLOID:OFFER2:00:00",
            pk.as_str(),
            StatusCode::BAD_REQUEST,
            "bad_offer",
        ),
        (text.as_str(), "AAAA", StatusCode::BAD_REQUEST, "bad_device_key"),
        (
            text.as_str(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            StatusCode::BAD_REQUEST,
            "bad_device_key",
        ),
    ];
    for (offer_text, key, status, code) in cases {
        let (s, b) = enrol(&w, offer_text, key).await;
        assert_eq!((s, b["error"]["code"].as_str()), (status, Some(code)), "{b}");
    }
    // An offer id nobody made, and this offer's id with a secret changed by one digit.
    let unknown = Offer::issued(&w.state.keys().master, [0x5a; 16]).to_text();
    let (s, b) = enrol(&w, &unknown, &pk).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let last = text.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &text[..text.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let (s, b) = enrol(&w, &tampered, &pk).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // The phone enrols: epoch 2, a fresh random status entry, the key opens and is K_dev.
    let started = std::time::Instant::now();
    let (s, answer) = enrol(&w, &text, &pk).await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::CREATED, "{answer}");
    let enrolment: Enrolment = serde_json::from_value(answer).unwrap();
    let done = enrolment
        .finish(&keys, Some(&w.demo.issuer.public()))
        .expect("the phone opens and checks its enrolment");
    let c = &done.credential.credential;
    assert_eq!((c.id.as_str(), c.device_epoch), (id.as_str(), 2));
    assert_eq!(
        done.device_key.as_bytes(),
        w.demo.master.device_key(&id, 2).as_bytes()
    );
    assert_ne!(
        c.status, w.demo.credential.credential.status,
        "a new status entry"
    );
    assert_eq!(done.portrait_png, w.demo.portrait_png);
    eprintln!("enrolment through the router: {took:?}");

    // Once only; the officer sees it enrolled and the QR code is gone.
    let (s, b) = enrol(&w, &text, &WalletKeyPair::generate().public_text()).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("offer_used"))
    );
    let (s, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/offers/{offer_id}"),
        Some(&w.tokens.officer),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let seen = json(&b);
    assert_eq!(
        (seen["state"].as_str(), seen["device_epoch"].as_i64()),
        (Some("enrolled"), Some(2))
    );
    assert!(seen["offer"].is_null() && seen["qr_url"].is_null());
    let (s, _, b) = call(&w.app, "GET", qr_url, Some(&w.tokens.officer), None).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::GONE, Some("offer_closed"))
    );

    // The earlier phone's enrolment ended at once.
    let (_, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/credentials/{id}/status"),
        Some(&w.tokens.officer),
        None,
    )
    .await;
    let st = json(&b);
    assert_eq!(
        (st["device_epoch"].as_i64(), st["status"].as_str()),
        (Some(2), Some("valid"))
    );
    let history: Vec<(i64, &str)> = st["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["epoch"].as_i64().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(history, [(1, "valid"), (1, "replaced"), (2, "valid")]);

    // An expired offer is refused and says so.
    let (_, late) = make_offer(&w, &w.tokens.officer).await;
    let late_id = late["offer_id"].as_str().unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    pool.execute(
        format!(
            "UPDATE offers SET expires_ms = {} WHERE id = '{late_id}'",
            now_ms() - 1
        )
        .as_str(),
    )
    .await
    .unwrap();
    pool.close().await;
    let (s, b) = enrol(&w, late["offer"].as_str().unwrap(), &pk).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::GONE, Some("offer_expired"))
    );
    let (_, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/offers/{late_id}"),
        Some(&w.tokens.admin),
        None,
    )
    .await;
    assert_eq!(json(&b)["state"], "expired");

    // Audited: the offers made, the enrolment, and each refusal of a real offer (no secret).
    let actions = audit_actions(&w).await;
    let count = |a: &str| actions.iter().filter(|(x, _)| x == a).count();
    assert_eq!(count("offer_create"), 3);
    assert_eq!(count("credential_enrol"), 1);
    // The tampered secret, the second use and the expired offer.
    assert_eq!(count("enrol_refused"), 3, "{actions:?}");
    assert!(
        actions.iter().all(|(_, subject)| !subject.contains(&text[14..])),
        "no offer secret in the audit log"
    );

    // A revoked credential takes no more offers.
    let (s, _, _) = call(
        &w.app,
        "POST",
        &format!("/v1/credentials/{id}/revoke"),
        Some(&w.tokens.admin),
        body(serde_json::json!({"reason": "card withdrawn"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = make_offer(&w, &w.tokens.officer).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
}

#[tokio::test]
async fn a_service_without_the_issuer_key_does_not_issue() {
    let demo = holoid_core::demo::DemoIdentity::generate(1);
    let store = Store::open(&sqlite_url("enrol-no-issuer")).await.unwrap();
    let tokens = tokens(&store).await;
    let keys = holoid_service::ServiceKeys {
        issuer_secret: None,
        ..support::keys(&demo)
    };
    let app = holoid_service::app(holoid_service::AppState::new(
        store,
        keys,
        ServiceConfig {
            access_log: false,
            ..ServiceConfig::default()
        },
    ));
    let id = &demo.credential.credential.id;
    let (s, _, b) = call(
        &app,
        "POST",
        &format!("/v1/credentials/{id}/offers"),
        Some(&tokens.officer),
        None,
    )
    .await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_issuing"))
    );
    let offer = Offer::issued(&demo.master, [1; 16]).to_text();
    let pk = WalletKeyPair::generate().public_text();
    let (s, _, b) = call(
        &app,
        "POST",
        "/v1/enrol",
        None,
        body(serde_json::json!({"offer": offer, "device_public_key": pk})),
    )
    .await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_issuing"))
    );
}
