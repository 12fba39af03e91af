//! The verifier service without a socket (`app(state)` driven by `oneshot`): every route,
//! role and error; the storage and the audit chain on SQLite and on the PostgreSQL at
//! HOLOID_TEST_POSTGRES_URL (skipped loudly when unset); tampering with the audit rows in the
//! database caught and named; retention.

use holoid_testkit::service as support;

use axum::http::StatusCode;
use holoid_core::keys::IssuerPublic;
use holoid_detect::verdict::{
    Decision, FrameJson, Outcome, ReasonCode, ReasonReport, TextFieldJson, TimingsJson, VerdictReport,
};
use holoid_service::ServiceConfig;
use holoid_service::audit::{self, AuditBreak, AuditEvent};
use holoid_service::store::{CheckRow, Store, now_ms};
use support::*;

/// Multipart fields: name and bytes.
type Fields<'a> = Vec<(&'a str, &'a [u8])>;

async fn seed_check(w: &World, office: &str, decision: &str, age_ms: i64) -> String {
    seed_verdict(w, office, decision, now_ms() - age_ms, full_verdict()).await
}

/// A check of the demo card stored as the service stores one: `verdict` with `decision`,
/// made by `office` at `created_ms`.
async fn seed_verdict(
    w: &World,
    office: &str,
    decision: &str,
    created_ms: i64,
    mut verdict: VerdictReport,
) -> String {
    let id = holoid_service::auth::new_id();
    verdict.decision = serde_json::from_value(serde_json::json!(decision)).unwrap();
    let row = CheckRow {
        id: id.clone(),
        created_ms,
        office: office.into(),
        actor: "seed".into(),
        credential_id: w.demo.credential.credential.id.clone(),
        decision: decision.into(),
        verdict_json: serde_json::to_string(&holoid_service::responses::CheckResult {
            check_id: id.clone(),
            credential_status: None,
            verdict,
            holder: None,
            age_check: None,
            portrait_url: None,
        })
        .unwrap(),
        card_png: Some(card_png()),
        holder_answer: None,
    };
    let event = AuditEvent {
        at_ms: now_ms(),
        actor: "seed".into(),
        office: office.into(),
        action: "check".into(),
        subject: id.clone(),
    };
    w.state
        .store()
        .insert_check(&row, &[], event, &copy_key())
        .await
        .unwrap();
    id
}

fn copy_body(check_id: &str, purpose: &str) -> Option<(String, Vec<u8>)> {
    Some((
        "application/json".into(),
        serde_json::json!({"check_id": check_id, "purpose": purpose})
            .to_string()
            .into_bytes(),
    ))
}

#[tokio::test]
async fn open_routes_and_the_openapi_document() {
    let w = world(&sqlite_url("open-routes"), ServiceConfig::default()).await;
    let (s, _, b) = call(&w.app, "GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&b)["database"], "sqlite");
    let (s, h, b) = call(&w.app, "GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(String::from_utf8_lossy(&b).contains("holoid_copies_stored 0"));
    // API answers (success or error) are never cached; nothing is content-sniffed.
    for token in [Some(w.tokens.officer.as_str()), None] {
        let (_, h, _) = call(&w.app, "GET", "/v1/me", token, None).await;
        assert_eq!(
            (&h["cache-control"], &h["x-content-type-options"]),
            (&"no-store".parse().unwrap(), &"nosniff".parse().unwrap())
        );
    }
    let (_, h, _) = call(&w.app, "GET", "/healthz", None, None).await;
    assert!(h.get("cache-control").is_none() && h["x-content-type-options"] == "nosniff");
    let (s, _, b) = call(&w.app, "GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let doc = json(&b);
    for path in [
        "/healthz",
        "/metrics",
        "/v1/checks",
        "/v1/checks/{id}",
        "/v1/credentials",
        "/v1/copies",
        "/v1/copies/{id}",
        "/v1/copies/{id}/image.png",
        "/v1/audit",
        "/v1/me",
        "/v1/checks/{id}/card.png",
        "/",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not in /openapi.json");
    }
    // The console and its assets come from the binary, with a policy that loads nothing else.
    let (s, h, b) = call(&w.app, "GET", "/", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert!(String::from_utf8_lossy(&b).contains("/console/console.js"));
    for asset in ["/console/console.js", "/console/console.css", "/console/font.ttf"] {
        let (s, _, b) = call(&w.app, "GET", asset, None, None).await;
        assert_eq!(s, StatusCode::OK, "{asset}");
        assert!(b.len() > 1000, "{asset}");
    }
    // The reader worker compiles WebAssembly (its policy allows that, and nothing from
    // elsewhere); the WebAssembly itself only where the service was given it (`console_wasm`):
    // without, 404, and the console sends photos.
    let (s, h, b) = call(&w.app, "GET", "/console/reader.js", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let policy = h["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(String::from_utf8_lossy(&b).contains("./wasm/holoid_wasm.js"));
    for file in ["holoid_wasm.js", "holoid_wasm_bg.wasm"] {
        let (s, _, b) = call(&w.app, "GET", &format!("/console/wasm/{file}"), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{file}");
        assert!(
            json(&b)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--console-wasm")
        );
    }
    let (s, _, b) = call(&w.app, "GET", "/v2/nothing", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(json(&b)["error"]["code"], "not_found");
}

/// `ConsoleWasm::load` (`holoid serve --console-wasm DIR`): both files served as read, and
/// a clear refusal of a directory without them or with something else in their place.
#[tokio::test]
async fn the_console_serves_the_webassembly_reader_it_was_given() {
    let dir = support::scratch("console-wasm");
    let missing = holoid_service::ConsoleWasm::load(&dir).unwrap_err();
    assert!(
        missing.contains("holoid_wasm_bg.wasm") && missing.contains("check-wasm-build.sh"),
        "{missing}"
    );
    std::fs::write(dir.join("holoid_wasm_bg.wasm"), b"<html>not found</html>").unwrap();
    std::fs::write(
        dir.join("holoid_wasm.js"),
        "export class CardReader {} // holoid_wasm_bg.wasm",
    )
    .unwrap();
    let not_wasm = holoid_service::ConsoleWasm::load(&dir).unwrap_err();
    assert!(not_wasm.contains("not a WebAssembly module"), "{not_wasm}");
    let module = b"\0asm\x01\0\0\0".to_vec();
    std::fs::write(dir.join("holoid_wasm_bg.wasm"), &module).unwrap();
    std::fs::write(dir.join("holoid_wasm.js"), "export function other() {}").unwrap();
    let other = holoid_service::ConsoleWasm::load(&dir).unwrap_err();
    assert!(other.contains("not holoid-wasm's glue"), "{other}");
    let glue = "export class CardReader {}\nconst url = new URL('holoid_wasm_bg.wasm', import.meta.url);";
    std::fs::write(dir.join("holoid_wasm.js"), glue).unwrap();
    let config = ServiceConfig {
        console_wasm: Some(holoid_service::ConsoleWasm::load(&dir).unwrap()),
        ..Default::default()
    };
    let w = world(&sqlite_url("console-wasm"), config).await;
    let (s, h, b) = call(&w.app, "GET", "/console/wasm/holoid_wasm_bg.wasm", None, None).await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap()),
        (StatusCode::OK, "application/wasm")
    );
    assert_eq!(b, module);
    assert!(h.get("content-encoding").is_none());
    let tag = h["etag"].to_str().unwrap().to_string();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
        "{tag}"
    );
    assert_eq!(h["cache-control"], "no-cache");
    let (s, h, b) = call(&w.app, "GET", "/console/wasm/holoid_wasm.js", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(b, glue.as_bytes());
    assert_ne!(h["etag"].to_str().unwrap(), tag);
    // Gzipped for a browser that takes gzip (the real module: 6.4 MB, about 2 MB so), the same
    // file and tag; not for one that refuses it (q=0).
    let wasm = |headers: &'static [(&'static str, &'static str)]| {
        call_with_headers(
            &w.app,
            "GET",
            "/console/wasm/holoid_wasm_bg.wasm",
            None,
            headers,
            None,
        )
    };
    let (s, h, b) = wasm(&[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (&h["content-encoding"], &h["vary"], &h["content-type"]),
        (
            &"gzip".parse().unwrap(),
            &"Accept-Encoding".parse().unwrap(),
            &"application/wasm".parse().unwrap()
        )
    );
    assert_eq!(h["etag"].to_str().unwrap(), tag);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&b[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, module);
    let (_, h, b) = wasm(&[("accept-encoding", "gzip;q=0, identity")]).await;
    assert!(h.get("content-encoding").is_none());
    assert_eq!(b, module);
    // A browser that has this file (its tag, strong or weak, among others) is told so, with
    // no body; one with another file's tag gets the file.
    let (s, h, b) = call_with_headers(
        &w.app,
        "GET",
        "/console/wasm/holoid_wasm_bg.wasm",
        None,
        &[
            ("if-none-match", &format!("\"0000\", W/{tag}")),
            ("accept-encoding", "gzip"),
        ],
        None,
    )
    .await;
    assert_eq!((s, b.len()), (StatusCode::NOT_MODIFIED, 0));
    assert_eq!(h["etag"].to_str().unwrap(), tag);
    let (s, _, b) = wasm(&[("if-none-match", "\"0123456789abcdef0123456789abcdef\"")]).await;
    assert_eq!((s, b), (StatusCode::OK, module));
}

/// A verdict with every optional field filled and every list non-empty.
fn full_verdict() -> VerdictReport {
    VerdictReport {
        decision: Decision::Genuine,
        score: 0.9,
        reasons: vec![ReasonReport {
            code: ReasonCode::TagValid,
            outcome: Outcome::Pass,
            message: "m".into(),
            frame: Some(0),
        }],
        window: Some(1),
        credential_id: "KR-RRC-00000001".into(),
        frames: vec![FrameJson {
            captured_at: "2026-11-27T00:00:00Z".into(),
            located: true,
            corrected_bytes: Some(0),
            window: Some(1),
            shown_at: Some("2026-11-27T00:00:00Z".into()),
            lag_ms: Some(40),
            sweep_confidence: Some(0.9),
            portrait_correlation: Some(0.9),
            portrait_cells_off: Some(0.0),
            portrait_glare: Some(0.0),
            portrait_saturation: Some(1.0),
            text_fields: vec![TextFieldJson {
                field: "name".into(),
                correlation: 0.9,
                worst_window: 0.8,
                blur: 1.5,
                glyph_margins: Vec::new(),
            }],
            score: 0.9,
        }],
        timings_us: TimingsJson {
            locate: 1,
            decode: 1,
            sweep: 1,
            content: 1,
            total: 4,
        },
    }
}

/// One full example of every type the document names, as JSON.
fn full_examples() -> Vec<(&'static str, serde_json::Value)> {
    use holoid_service::responses::*;
    let record = CopyRecordJson {
        version: "holoid/v1/copy".into(),
        copy_id: "c".into(),
        check_id: "k".into(),
        credential_id: "KR-RRC-00000001".into(),
        office: "o".into(),
        officer: "p".into(),
        purpose: "x".into(),
        created_at: "t".into(),
        expires_at: "t".into(),
        image_sha256: "00".into(),
        key_id: Some("0123456789abcdef".into()),
    };
    let copy = Copy {
        id: "c".into(),
        record,
        record_json: "{}".into(),
        signature: "00".into(),
        signature_valid: true,
        public_key: "00".into(),
        image_url: "/v1/copies/c/image.png".into(),
        expires_at: "t".into(),
    };
    let result = CheckResult {
        check_id: "k".into(),
        credential_status: Some(CheckStatus {
            status: "valid".into(),
            device_epoch: 2,
            changed_at: "t".into(),
        }),
        verdict: full_verdict(),
        holder: Some(HolderRecord {
            name_hangul: "김민준".into(),
            name_latin: "KIM MINJUN".into(),
            birth_date: "1998-03-14".into(),
            age: 28,
            resident_number_masked: "980314-1******".into(),
            address: "a".into(),
            document: "resident_registration".into(),
            expires: "2031-01-01".into(),
        }),
        age_check: Some(AgeCheck {
            threshold: 19,
            old_enough: true,
            label: "19+".into(),
        }),
        portrait_url: Some("/v1/checks/k/portrait.png".into()),
    };
    let answer = HolderAnswerJson {
        check_id: "k".into(),
        matches: true,
        answered_at: "t".into(),
    };
    fn v<T: serde::Serialize>(x: &T) -> serde_json::Value {
        serde_json::to_value(x).unwrap()
    }
    let status = CredentialStatus {
        credential_id: "KR-RRC-00000001".into(),
        device_epoch: 1,
        status: "valid".into(),
        reason: "enrolled".into(),
        changed_at: "t".into(),
        status_list: 1,
        status_index: 7,
        history: vec![StatusEvent {
            epoch: 1,
            status: "valid".into(),
            reason: "enrolled".into(),
            at: "t".into(),
            actor: "a".into(),
            office: "o".into(),
        }],
    };
    let offer = EnrolmentOffer {
        offer_id: "0f".into(),
        credential_id: "KR-RRC-00000001".into(),
        state: "pending".into(),
        offer: Some("HOLOID:OFFER1:0F:00".into()),
        qr_url: Some("/v1/offers/0f/qr.png".into()),
        created_at: "t".into(),
        expires_at: "t".into(),
        expires_in_s: 300,
        device_epoch: Some(2),
        enrolled_at: Some("t".into()),
    };
    let sealed = SealedKey {
        enc: "e".into(),
        ciphertext: "c".into(),
    };
    let enrolment = Enrolment {
        credential_id: "KR-RRC-00000001".into(),
        device_epoch: 2,
        credential: "{}".into(),
        portrait_png: "iVBO".into(),
        sealed_device_key: sealed.clone(),
    };
    let request = EnrolRequest {
        offer: "HOLOID:OFFER1:0F:00".into(),
        device_public_key: "k".into(),
    };
    vec![
        ("EnrolmentOffer", v(&offer)),
        ("SealedKey", v(&sealed)),
        ("Enrolment", v(&enrolment)),
        ("EnrolRequest", v(&request)),
        ("CredentialStatus", v(&status)),
        (
            "Record",
            v(&RecordJson {
                credential: "{}".into(),
                portrait_cells: "00".into(),
            }),
        ),
        (
            "Error",
            v(&ErrorBody {
                error: ErrorDetail {
                    code: "c".into(),
                    message: "m".into(),
                },
            }),
        ),
        (
            "Health",
            v(&Health {
                status: "ok".into(),
                database: "sqlite".into(),
                copies_stored: Some(0),
                version: "1".into(),
                problem: Some("p".into()),
            }),
        ),
        (
            "Me",
            v(&Me {
                role: "officer".into(),
                office: "o".into(),
                name: "n".into(),
                view: "age".into(),
                age_over: Some(19),
            }),
        ),
        (
            "CredentialCreated",
            v(&CredentialCreated {
                credential_id: "KR-RRC-00000001".into(),
            }),
        ),
        ("Verdict", v(&full_verdict())),
        ("CheckResult", v(&result)),
        (
            "StoredCheck",
            v(&StoredCheck {
                result: result.clone(),
                office: "o".into(),
                created_at: "t".into(),
                card_image_kept: true,
                holder_answer: Some(answer.clone()),
            }),
        ),
        ("HolderAnswer", v(&answer)),
        ("CopyRecord", v(&copy.record)),
        ("Copy", v(&copy)),
        (
            "CopyList",
            v(&CopyList {
                office: "o".into(),
                copies: vec![copy.clone()],
                next_before: Some(1),
            }),
        ),
        (
            "AuditPage",
            v(&AuditPage {
                entries: vec![AuditEntryJson {
                    seq: 1,
                    at: "t".into(),
                    actor: "a".into(),
                    office: "o".into(),
                    action: "check".into(),
                    subject: "k".into(),
                    hash: "00".into(),
                }],
                verification: AuditVerification {
                    ok: false,
                    entries: Some(1),
                    problem: Some("p".into()),
                },
            }),
        ),
        ("TreeHead", v(&tree_head())),
        (
            "AuditConsistency",
            v(&AuditConsistency {
                from: 1,
                proof: vec![holoid_core::encoding::to_hex(&[7; 32])],
                head: tree_head(),
            }),
        ),
    ]
}

fn tree_head() -> audit::TreeHead {
    let mut frontier = audit::Frontier::new();
    frontier.push(audit::leaf_hash(&[1; 32]));
    audit::TreeHead::sign([2; audit::LOG_ID_LEN], &frontier, [1; 32], 1, &copy_key())
}

#[tokio::test]
async fn the_openapi_document_matches_the_router_and_the_types() {
    let w = world(&sqlite_url("openapi-types"), ServiceConfig::default()).await;
    let (_, _, b) = call(&w.app, "GET", "/openapi.json", None, None).await;
    let doc = json(&b);
    // The documented routes are exactly the router's table.
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .unwrap()
                .keys()
                .map(|m| (m.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut routed: Vec<(String, String)> = holoid_service::api::routed()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed, "documented routes against the router's");
    // And each is served (without a token the protected ones answer 401, never the
    // router's 404 or 405).
    for (method, path) in &routed {
        let uri = path.replace("{id}", "0123456789abcdef");
        let (s, _, b) = call(&w.app, &method.to_uppercase(), &uri, None, None).await;
        let fallback = s == StatusCode::NOT_FOUND && String::from_utf8_lossy(&b).contains("no such route");
        assert!(
            !fallback && s != StatusCode::METHOD_NOT_ALLOWED,
            "{} {path} is documented but not routed ({s})",
            method.to_uppercase()
        );
    }
    // Every schema is a serde type's, field for field: a full example fits it, and it lists
    // no field the type lacks.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let examples = full_examples();
    for (name, example) in &examples {
        let schema = schemas
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is not documented"));
        holoid_testkit::openapi::fits(&doc, schema, example, name).unwrap();
        holoid_testkit::openapi::no_stale_fields(&doc, schema, example, name).unwrap();
    }
    for name in schemas.keys() {
        let nested = [
            "ReasonCode",
            "Reason",
            "Frame",
            "TextField",
            "Timings",
            "AuditEntry",
            "StatusEvent",
            "CheckStatus",
            "HolderRecord",
            "AgeCheck",
        ];
        assert!(
            nested.contains(&name.as_str()) || examples.iter().any(|(n, _)| n == name),
            "schema {name} has no type checked against it"
        );
    }
    // The checks can fail: a field the document lost, a field the type lost, a wrong type.
    let copy = &examples.iter().find(|(n, _)| *n == "Copy").unwrap().1;
    let mut lost = doc.clone();
    lost["components"]["schemas"]["Copy"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("public_key");
    let e = holoid_testkit::openapi::fits(&lost, &lost["components"]["schemas"]["Copy"], copy, "Copy");
    assert!(e.unwrap_err().contains("public_key is not documented"));
    let mut stale = doc.clone();
    stale["components"]["schemas"]["CopyRecord"]["properties"]["office_name"] =
        serde_json::json!({"type": "string"});
    let e = holoid_testkit::openapi::no_stale_fields(
        &stale,
        &stale["components"]["schemas"]["Copy"],
        copy,
        "Copy",
    );
    assert!(e.unwrap_err().contains("record.office_name is documented"));
    let mut wrong = copy.clone();
    wrong["signature_valid"] = "yes".into();
    let e = holoid_testkit::openapi::fits(&doc, &schemas["Copy"], &wrong, "Copy");
    assert!(e.unwrap_err().contains("signature_valid is string"));
    // The reason codes are the detector's, all of them.
    let codes: Vec<&str> = schemas["ReasonCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let all: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, all, "the documented reason codes");
}

#[tokio::test]
async fn tokens_and_roles_are_enforced_with_no_data_in_denials() {
    // Many unknown tokens are sent here: not throttled (that is the next test's).
    let config = ServiceConfig {
        sign_in_failures: 1000,
        ..ServiceConfig::default()
    };
    let w = world(&sqlite_url("roles"), config).await;
    let t = &w.tokens;
    let protected = [
        ("GET", "/v1/me"),
        ("GET", "/v1/checks/x/card.png"),
        ("POST", "/v1/checks"),
        ("GET", "/v1/checks/x"),
        ("POST", "/v1/credentials"),
        ("POST", "/v1/copies"),
        ("GET", "/v1/copies"),
        ("GET", "/v1/copies/x"),
        ("GET", "/v1/copies/x/image.png"),
        ("DELETE", "/v1/copies/x"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/audit/head"),
        ("GET", "/v1/audit/consistency?from=1"),
    ];
    for (m, uri) in protected {
        for token in [None, Some("holoid_0000"), Some("not-even-a-token")] {
            let (s, _, b) = call(&w.app, m, uri, token, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {uri} with {token:?}");
            let body = json(&b);
            assert_eq!(body["error"]["code"], "unauthorized");
            assert_eq!(body.as_object().unwrap().len(), 1, "only the error: {body}");
        }
    }
    let forbidden = [
        ("POST", "/v1/checks", &t.auditor),
        ("POST", "/v1/checks", &t.admin),
        ("POST", "/v1/credentials", &t.officer),
        ("POST", "/v1/credentials", &t.auditor),
        ("GET", "/v1/audit", &t.officer),
        ("GET", "/v1/audit", &t.admin),
        ("GET", "/v1/copies", &t.auditor),
        ("GET", "/v1/copies/x", &t.auditor),
        ("POST", "/v1/copies", &t.admin),
    ];
    for (m, uri, token) in forbidden {
        let (s, _, b) = call(&w.app, m, uri, Some(token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {uri}");
        assert_eq!(json(&b)["error"]["code"], "forbidden");
    }
}

/// A check of the demo card by `seoul` now, with `reasons` and `decision`.
async fn seed_demo_check(w: &World, decision: &str, reasons: Vec<ReasonReport>) -> String {
    let mut verdict = full_verdict();
    verdict.credential_id = w.demo.credential.credential.id.clone();
    verdict.reasons = reasons;
    seed_verdict(w, "seoul", decision, now_ms(), verdict).await
}

#[tokio::test]
async fn each_view_sees_only_its_part_of_a_check_and_the_officer_answers_once() {
    use holoid_service::auth::View;
    let w = world(&sqlite_url("views"), ServiceConfig::default()).await;
    register(&w).await;
    let store = w.state.store();
    let shop = view_token(store, View::Age { over: 19 }, "GS25 Clerk").await;
    let kiosk = view_token(store, View::Kiosk, "Kiosk 3").await;
    let c = w.demo.credential.credential.clone();
    // A shop whose threshold is one year above the holder's age (on the date in Korea).
    let korea_today = holoid_core::time::UnixMillis(now_ms() as u64 + 9 * 3600 * 1000).date();
    let age = c.holder.birth_date.age_on(korea_today);
    assert!(age >= 19, "the demo holder is an adult ({age})");
    let strict = view_token(store, View::Age { over: age as u8 + 1 }, "Strict Bar").await;
    let said = |code, message: String| ReasonReport {
        code,
        outcome: Outcome::Pass,
        message,
        frame: Some(0),
    };
    let genuine = seed_demo_check(
        &w,
        "genuine",
        vec![said(ReasonCode::TagValid, format!("the tag is {}'s", c.id))],
    )
    .await;
    let uri = format!("/v1/checks/{genuine}");
    let get = |token: &str| {
        let (app, uri) = (w.app.clone(), uri.clone());
        let token = token.to_string();
        async move {
            let (s, _, b) = call(&app, "GET", &uri, Some(&token), None).await;
            (s, json(&b), String::from_utf8_lossy(&b).into_owned())
        }
    };
    // The counter: the registered record, its age today, the portrait to compare.
    let (s, v, _) = get(&w.tokens.officer).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["holder"]["name_hangul"], c.holder.name_hangul.as_str());
    assert_eq!(v["holder"]["name_latin"], c.holder.name_latin.as_str());
    assert_eq!(v["holder"]["birth_date"], c.holder.birth_date.to_string());
    assert_eq!(v["holder"]["age"], age);
    assert_eq!(v["credential_id"], c.id.as_str());
    assert!(v.get("age_check").is_none());
    assert_eq!(v["portrait_url"], format!("{uri}/portrait.png"));
    // The shop: the age check and the portrait's address, not one other personal datum.
    let (s, v, text) = get(&shop).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["age_check"],
        serde_json::json!({"threshold": 19, "old_enough": true, "label": "19+"})
    );
    assert_eq!(v["portrait_url"], format!("{uri}/portrait.png"));
    for hidden in ["holder", "credential_id", "credential_status", "score", "frames"] {
        assert!(v.get(hidden).is_none(), "{hidden} shown to a shop: {v}");
    }
    for datum in personal_data(&c) {
        assert!(!text.contains(&datum), "`{datum}` shown to a shop: {text}");
    }
    assert_eq!(v["reasons"][0]["message"], "the tag is the credential's");
    let (_, v, _) = get(&strict).await;
    let over = age + 1;
    assert_eq!(
        v["age_check"],
        serde_json::json!({"threshold": over, "old_enough": false, "label": format!("under {over}")})
    );
    // The portrait is the registered one (the service's record), to the counter and the shop.
    for token in [&w.tokens.officer, &shop] {
        let (s, h, b) = call(&w.app, "GET", &format!("{uri}/portrait.png"), Some(token), None).await;
        assert_eq!(
            (s, &h["content-type"]),
            (StatusCode::OK, &"image/png".parse().unwrap())
        );
        assert_eq!(b, w.demo.portrait_png);
    }
    // What a shop or a kiosk may not reach: the card image (all of the record), copies, the
    // credential's status and history, the audit log; a kiosk reads no check back at all.
    let forbidden = [
        ("GET", format!("{uri}/card.png"), &shop),
        ("POST", "/v1/copies".to_string(), &shop),
        ("GET", "/v1/copies".to_string(), &shop),
        ("GET", format!("/v1/credentials/{}/status", c.id), &shop),
        ("POST", format!("/v1/credentials/{}/offers", c.id), &shop),
        ("GET", uri.clone(), &kiosk),
        ("GET", format!("{uri}/portrait.png"), &kiosk),
        ("GET", format!("{uri}/card.png"), &kiosk),
        ("POST", format!("{uri}/holder"), &kiosk),
        ("GET", "/v1/copies".to_string(), &kiosk),
    ];
    for (m, u, token) in forbidden {
        let (s, _, b) = call(&w.app, m, &u, Some(token), copy_body(&genuine, "x")).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{m} {u}: {}",
            String::from_utf8_lossy(&b)
        );
    }
    let (_, _, b) = call(&w.app, "GET", "/v1/me", Some(&shop), None).await;
    assert_eq!(
        (json(&b)["view"].clone(), json(&b)["age_over"].clone()),
        ("age".into(), 19.into())
    );
    let (_, _, b) = call(&w.app, "GET", "/v1/me", Some(&kiosk), None).await;
    assert_eq!(json(&b)["view"], "kiosk");
    // A suspended card's reason (typed by an officer) and a look-alike's credential id reach
    // a shop only as plain sentences.
    let suspended = seed_demo_check(
        &w,
        "forgery",
        vec![
            said(
                ReasonCode::CredentialSuspended,
                "reported lost at 09:00 (stolen at Gangnam)".into(),
            ),
            said(
                ReasonCode::OtherCredential,
                format!("the code belongs to another credential, not {}", c.id),
            ),
            said(
                ReasonCode::CredentialNotValid,
                format!("the credential expired on {}", c.expires),
            ),
        ],
    )
    .await;
    let (_, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/checks/{suspended}"),
        Some(&shop),
        None,
    )
    .await;
    let text = String::from_utf8_lossy(&b);
    assert!(
        !text.contains("Gangnam")
            && !text.contains(&c.id)
            && !text.contains(&c.expires.to_string())
            && json(&b).get("age_check").is_none(),
        "{text}"
    );
    // No portrait for a forgery.
    let (s, _, _) = call(
        &w.app,
        "GET",
        &format!("/v1/checks/{suspended}/portrait.png"),
        Some(&shop),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The officer's answer: recorded once, audited, shown with the check.
    let answer = |m: bool| {
        Some((
            "application/json".to_string(),
            format!("{{\"matches\": {m}}}").into_bytes(),
        ))
    };
    let holder = format!("{uri}/holder");
    let (s, _, b) = call(&w.app, "POST", &holder, Some(&w.tokens.busan), answer(true)).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "another office: {}",
        String::from_utf8_lossy(&b)
    );
    let (s, _, b) = call(&w.app, "POST", &holder, Some(&w.tokens.officer), None).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );
    let (s, _, b) = call(
        &w.app,
        "POST",
        &format!("/v1/checks/{suspended}/holder"),
        Some(&w.tokens.officer),
        answer(true),
    )
    .await;
    assert_eq!(
        (s, json(&b)["error"]["code"].clone()),
        (StatusCode::CONFLICT, "not_genuine".into())
    );
    let (s, _, b) = call(&w.app, "POST", &holder, Some(&w.tokens.officer), answer(false)).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(
        (json(&b)["matches"].clone(), json(&b)["check_id"].clone()),
        (false.into(), genuine.as_str().into())
    );
    let (s, _, b) = call(&w.app, "POST", &holder, Some(&shop), answer(true)).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].clone()),
        (StatusCode::CONFLICT, "already_answered".into())
    );
    assert!(
        json(&b)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let (_, v, _) = get(&w.tokens.officer).await;
    assert_eq!(v["holder_answer"]["matches"], false);
    let actions = audit_actions(&w).await;
    for done in ["holder_mismatch", "check_portrait_read"] {
        assert!(
            actions.contains(&(done.to_string(), genuine.clone())),
            "{done}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn credentials_are_registered_only_when_signed_and_whole() {
    let w = world(&sqlite_url("credentials"), ServiceConfig::default()).await;
    let admin = Some(w.tokens.admin.as_str());
    let c = w.demo.credential.to_json();
    let forged = c.replace(&w.demo.credential.credential.holder.name_latin, "SOMEONE ELSE");
    let cases: [(Fields<'_>, &str); 5] = [
        (
            vec![
                ("credential", forged.as_bytes()),
                ("portrait", &w.demo.portrait_png),
            ],
            "bad_signature",
        ),
        (
            vec![("credential", c.as_bytes()), ("portrait", b"not the portrait")],
            "bad_portrait",
        ),
        (
            vec![("credential", b"{not json"), ("portrait", &w.demo.portrait_png)],
            "bad_credential",
        ),
        (vec![("credential", c.as_bytes())], "bad_request"),
        (
            vec![
                ("credential", c.as_bytes()),
                ("portrait", &w.demo.portrait_png),
                ("extra", b"x"),
            ],
            "bad_request",
        ),
    ];
    for (parts, code) in cases {
        let (s, _, b) = call(&w.app, "POST", "/v1/credentials", admin, Some(multipart(&parts))).await;
        assert_eq!(
            s,
            StatusCode::BAD_REQUEST,
            "{code}: {}",
            String::from_utf8_lossy(&b)
        );
        assert_eq!(json(&b)["error"]["code"], code);
    }
    register(&w).await;
    let stored = w
        .state
        .store()
        .credential(&w.demo.credential.credential.id)
        .await
        .unwrap();
    assert_eq!(stored.map(|r| r.portrait), Some(w.demo.portrait_png.clone()));
}

#[tokio::test]
async fn bad_check_requests_get_clear_errors() {
    let config = ServiceConfig {
        max_body_bytes: 2 << 20,
        ..Default::default()
    };
    let w = world(&sqlite_url("bad-checks"), config).await;
    register(&w).await;
    let officer = Some(w.tokens.officer.as_str());
    let now = format!("{:.3}", now_ms() as f64 / 1000.0);
    let id = w.demo.credential.credential.id.clone();
    let blank = {
        let img = image::RgbImage::from_pixel(720, 1280, image::Rgb([128, 128, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    // A real PNG whose header claims 30000 x 30000 pixels (a decompression bomb), checked
    // before decoding.
    let mut bomb = Vec::new();
    image::RgbImage::new(64, 64)
        .write_to(&mut std::io::Cursor::new(&mut bomb), image::ImageFormat::Png)
        .unwrap();
    bomb[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let big = vec![7u8; 3 << 20];
    let old = format!("{:.3}", (now_ms() - 3_600_000) as f64 / 1000.0);
    let cases: Vec<(Fields<'_>, StatusCode, &str)> = vec![
        (
            vec![
                ("image", b"garbage bytes, not a photo"),
                ("captured_at", now.as_bytes()),
            ],
            StatusCode::BAD_REQUEST,
            "bad_image",
        ),
        (
            vec![("image", b""), ("captured_at", now.as_bytes())],
            StatusCode::BAD_REQUEST,
            "bad_image",
        ),
        (
            vec![("captured_at", now.as_bytes())],
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (vec![("image", &blank)], StatusCode::BAD_REQUEST, "bad_request"),
        (
            vec![("image", &blank), ("captured_at", b"yesterday-ish")],
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            vec![("image", &blank), ("captured_at", old.as_bytes())],
            StatusCode::BAD_REQUEST,
            "capture_time",
        ),
        (
            vec![("image", &bomb), ("captured_at", now.as_bytes())],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_pixels",
        ),
        (
            vec![("image", &big), ("captured_at", now.as_bytes())],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            vec![("image", &blank), ("captured_at", now.as_bytes())],
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_unreadable",
        ),
        (
            vec![
                ("image", &blank),
                ("captured_at", now.as_bytes()),
                ("credential_id", b"KR-NOBODY"),
            ],
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (parts, status, code) in cases {
        let (s, _, b) = call(&w.app, "POST", "/v1/checks", officer, Some(multipart(&parts))).await;
        assert_eq!(s, status, "{code}: {}", String::from_utf8_lossy(&b));
        let body = json(&b);
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 10);
    }
    // A blank photo against a named credential: a verdict, inconclusive, stored.
    let parts: Vec<(&str, &[u8])> = vec![
        ("image", &blank),
        ("captured_at", now.as_bytes()),
        ("credential_id", id.as_bytes()),
    ];
    let (s, _, b) = call(&w.app, "POST", "/v1/checks", officer, Some(multipart(&parts))).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(v["decision"], "inconclusive");
    let check_id = v["check_id"].as_str().unwrap();
    let (s, _, b) = call(&w.app, "GET", &format!("/v1/checks/{check_id}"), officer, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&b)["decision"], "inconclusive");
    let (s, _, _) = call(
        &w.app,
        "GET",
        &format!("/v1/checks/{check_id}"),
        Some(&w.tokens.busan),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(&w.app, "GET", "/v1/checks/nope", officer, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, m) = call(&w.app, "GET", "/metrics", None, None).await;
    assert!(String::from_utf8_lossy(&m).contains("holoid_checks_total{decision=\"inconclusive\"} 1"));
}

#[tokio::test]
async fn copies_are_made_from_genuine_checks_and_kept_to_their_office() {
    let w = world(&sqlite_url("copies"), ServiceConfig::default()).await;
    let t = &w.tokens;
    let genuine = seed_check(&w, "seoul", "genuine", 0).await;
    let forged = seed_check(&w, "seoul", "forgery", 0).await;
    let stale = seed_check(&w, "seoul", "genuine", 60 * 60_000).await;
    let body = |id: &str| copy_body(id, "bank account opening");
    for (token, id, status, code) in [
        (&t.busan, genuine.as_str(), StatusCode::FORBIDDEN, "forbidden"),
        (&t.officer, forged.as_str(), StatusCode::CONFLICT, "not_genuine"),
        (&t.officer, stale.as_str(), StatusCode::CONFLICT, "check_too_old"),
        (&t.officer, "nope", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (s, _, b) = call(&w.app, "POST", "/v1/copies", Some(token), body(id)).await;
        assert_eq!(s, status, "{code}");
        assert_eq!(json(&b)["error"]["code"], code);
    }
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/copies",
        Some(&t.officer),
        copy_body(&genuine, "  "),
    )
    .await;
    assert_eq!(
        (s, json(&b)["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, "bad_purpose".into())
    );
    let (s, _, _) = call(&w.app, "POST", "/v1/copies", Some(&t.officer), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let mut ids = Vec::new();
    for purpose in ["bank account opening", "loan", "lease"] {
        let (s, _, b) = call(
            &w.app,
            "POST",
            "/v1/copies",
            Some(&t.officer),
            copy_body(&genuine, purpose),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        let c = json(&b);
        assert_eq!(c["record"]["key_id"], copy_key().public().key_id());
        assert_eq!(c["signature_valid"], true);
        assert_eq!(c["record"]["office"], "seoul");
        assert_eq!(c["record"]["officer"], "Kim Officer");
        // The record verifies offline with the service's public key.
        let sig = holoid_core::encoding::from_hex::<64>(c["signature"].as_str().unwrap()).unwrap();
        let public = IssuerPublic::from_bytes(
            holoid_core::encoding::from_hex::<32>(c["public_key"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert!(holoid_service::copy::verify_record(
            c["record_json"].as_str().unwrap(),
            &sig,
            &public
        ));
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    // One copy per check and purpose: asking again (whatever the spacing and case) answers
    // the first copy, 200 not 201, and stores nothing.
    let before = w
        .state
        .store()
        .list_copies("seoul", i64::MAX, 100)
        .await
        .unwrap()
        .len();
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/copies",
        Some(&t.officer),
        copy_body(&genuine, "  Bank  Account opening"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["id"], ids[0].as_str());
    let after = w
        .state
        .store()
        .list_copies("seoul", i64::MAX, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    let id = &ids[0];
    let (s, h, png) = call(
        &w.app,
        "GET",
        &format!("/v1/copies/{id}/image.png"),
        Some(&t.officer),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "image/png");
    let record = json(
        &call(&w.app, "GET", &format!("/v1/copies/{id}"), Some(&t.officer), None)
            .await
            .2,
    );
    assert_eq!(
        record["record"]["image_sha256"],
        holoid_service::copy::sha256_hex(&png)
    );
    assert_eq!(image::load_from_memory(&png).unwrap().width(), 540);
    for (token, status) in [
        (&t.busan, StatusCode::FORBIDDEN),
        (&t.admin, StatusCode::OK),
        (&t.auditor, StatusCode::FORBIDDEN),
    ] {
        for uri in [format!("/v1/copies/{id}"), format!("/v1/copies/{id}/image.png")] {
            let (s, _, b) = call(&w.app, "GET", &uri, Some(token), None).await;
            assert_eq!(s, status, "{uri}");
            if status == StatusCode::FORBIDDEN {
                assert!(
                    !String::from_utf8_lossy(&b).contains("seoul"),
                    "a denial leaked data"
                );
            }
        }
    }
    // Lists: newest first, paged; officers see their own office only.
    let (s, _, b) = call(&w.app, "GET", "/v1/copies?limit=2", Some(&t.officer), None).await;
    assert_eq!(s, StatusCode::OK);
    let page = json(&b);
    assert_eq!(page["copies"].as_array().unwrap().len(), 2);
    let next = page["next_before"].as_i64().unwrap();
    let (_, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/copies?limit=2&before={next}"),
        Some(&t.officer),
        None,
    )
    .await;
    let rest = json(&b);
    let seen: Vec<_> = page["copies"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["copies"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen.len(), 3);
    assert!(ids.iter().all(|i| seen.contains(i)));
    assert_eq!(
        call(&w.app, "GET", "/v1/copies?office=busan", Some(&t.officer), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, _, b) = call(&w.app, "GET", "/v1/copies", Some(&t.busan), None).await;
    assert!(json(&b)["copies"].as_array().unwrap().is_empty());
    assert_eq!(
        call(&w.app, "GET", "/v1/copies", Some(&t.admin), None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, _, b) = call(
        &w.app,
        "GET",
        "/v1/copies?office=seoul&limit=100",
        Some(&t.admin),
        None,
    )
    .await;
    assert_eq!(json(&b)["copies"].as_array().unwrap().len(), 3);
    assert_eq!(
        call(&w.app, "GET", "/v1/copies?limit=0", Some(&t.officer), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // Deletion: not by another office; then gone.
    assert_eq!(
        call(
            &w.app,
            "DELETE",
            &format!("/v1/copies/{id}"),
            Some(&t.busan),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &w.app,
            "DELETE",
            &format!("/v1/copies/{id}"),
            Some(&t.officer),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&w.app, "GET", &format!("/v1/copies/{id}"), Some(&t.officer), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The audit log: only auditors; it verifies; it names actions and token ids, no names.
    let (s, _, b) = call(&w.app, "GET", "/v1/audit?limit=1000", Some(&t.auditor), None).await;
    assert_eq!(s, StatusCode::OK);
    let log = json(&b);
    assert_eq!(log["verification"]["ok"], true, "{log}");
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["check", "copy_create", "copy_read", "copy_delete"] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    assert!(
        !String::from_utf8_lossy(&b).contains("Kim Officer"),
        "personal data in the audit log"
    );
    let (_, _, m) = call(&w.app, "GET", "/metrics", None, None).await;
    let m = String::from_utf8_lossy(&m).into_owned();
    assert!(
        m.contains("holoid_copies_created_total 3") && m.contains("holoid_copies_stored 2"),
        "{m}"
    );
}

#[tokio::test]
async fn retention_deletes_expired_copies_and_audits_it() {
    // Copies and checks kept 400 ms, card images 200 ms (the copy is made at once).
    let config = ServiceConfig {
        retention: std::time::Duration::from_millis(400),
        copy_window: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let w = world(&sqlite_url("retention"), config).await;
    let check = seed_check(&w, "seoul", "genuine", 0).await;
    // Reads of personal data are audited: the check, its card image, the office's copies.
    for uri in [
        format!("/v1/checks/{check}"),
        format!("/v1/checks/{check}/card.png"),
        "/v1/copies".to_string(),
    ] {
        let (s, _, _) = call(&w.app, "GET", &uri, Some(&w.tokens.officer), None).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
    }
    let read: Vec<(String, String)> = w
        .state
        .store()
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.action, e.event.subject))
        .collect();
    for (action, subject) in [
        ("check_read", &check),
        ("check_card_read", &check),
        ("copy_list", &"seoul".to_string()),
    ] {
        assert!(
            read.contains(&(action.to_string(), subject.clone())),
            "{action} not audited: {read:?}"
        );
    }
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/copies",
        Some(&w.tokens.officer),
        copy_body(&check, "loan"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = json(&b)["id"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    assert_eq!(w.state.sweep_retention().await.unwrap(), 1);
    assert_eq!(w.state.store().copy(&id).await.unwrap(), None);
    let entries = w.state.store().all_audit_entries().await.unwrap();
    // The copy, then the check's card image and the check itself, each audited.
    for action in ["copy_expire", "check_card_expire", "check_expire"] {
        let subject = if action == "copy_expire" { &id } else { &check };
        assert!(
            entries
                .iter()
                .any(|e| e.event.action == action && &e.event.subject == subject),
            "{action} not audited"
        );
    }
    assert!(
        w.state.store().check(&check).await.unwrap().is_none(),
        "the check is kept"
    );
    let head = w.state.store().audit_head().await.unwrap();
    assert!(audit::verify(&entries, head.as_ref(), &[copy_key().public()], &[]).is_ok());
}

/// Four audited writes, then the log as the store reads it back.
async fn audited_store(url: &str) -> Store {
    let store = Store::open(url).await.unwrap();
    for i in 0..4 {
        append(&store, i).await.unwrap();
    }
    store
}

async fn append(store: &Store, i: i64) -> Result<audit::AuditEntry, holoid_service::store::StoreError> {
    let e = AuditEvent {
        at_ms: 1_795_603_792_000 + i,
        actor: format!("tok{i}"),
        office: "seoul".into(),
        action: "copy_read".into(),
        subject: format!("copy{i}"),
    };
    store.audit(e, &copy_key()).await
}

async fn verify(store: &Store, saved: &[audit::TreeHead]) -> Result<i64, AuditBreak> {
    let entries = store.all_audit_entries().await.unwrap();
    let head = store.audit_head().await.unwrap();
    audit::verify(&entries, head.as_ref(), &[copy_key().public()], saved)
}

/// The head row as it is now, as statements that put it back.
async fn saved_head_row(url: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let r =
        sqlx::query("SELECT seq, hash, signature, log_id, root, time_ms, key_id, frontier FROM audit_head")
            .fetch_one(&pool)
            .await
            .unwrap();
    use sqlx::Row;
    let text = |c: &str| r.try_get::<String, _>(c).unwrap();
    let statement = format!(
        "UPDATE audit_head SET seq = {}, hash = '{}', signature = '{}', log_id = '{}', root = '{}', \
         time_ms = {}, key_id = '{}', frontier = '{}'",
        r.try_get::<i64, _>("seq").unwrap(),
        text("hash"),
        text("signature"),
        text("log_id"),
        text("root"),
        r.try_get::<i64, _>("time_ms").unwrap(),
        text("key_id"),
        text("frontier"),
    );
    pool.close().await;
    vec![statement]
}

/// The attacks of a database writer, done directly in the database: each is caught by
/// `audit::verify` (with a head saved earlier where only one can tell), named, and — where
/// the server could otherwise be made to sign over it — the next audited write is refused.
async fn tampering_is_caught(url_for: impl Fn(&str) -> String) {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases: Vec<(&str, Vec<String>, AuditBreak, bool)> = vec![
        (
            "edit",
            s(&["UPDATE audit_log SET office = 'busan' WHERE seq = 2"]),
            AuditBreak::Edited { seq: 2 },
            false,
        ),
        (
            "delete",
            s(&["DELETE FROM audit_log WHERE seq = 3"]),
            AuditBreak::Gap {
                expected: 3,
                found: 4,
            },
            false,
        ),
        (
            "reorder",
            s(&[
                "UPDATE audit_log SET seq = 100 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = 100",
            ]),
            AuditBreak::Reordered { seq: 2, was: 3 },
            false,
        ),
        (
            "truncate",
            s(&["DELETE FROM audit_log WHERE seq = 4"]),
            AuditBreak::HeadMismatch { last: 3, head: 4 },
            true,
        ),
        (
            "wipe",
            s(&["DELETE FROM audit_log", WIPE_AUDIT_HEAD]),
            AuditBreak::Wiped { saved: 4 },
            true,
        ),
    ];
    for (name, statements, expected, refused) in cases {
        let url = url_for(name);
        let store = audited_store(&url).await;
        assert_eq!(verify(&store, &[]).await, Ok(4));
        let saved = store
            .observe_audit_head(&copy_key().public())
            .await
            .unwrap()
            .unwrap();
        sql(&url, &statements).await;
        assert_eq!(
            verify(&store, std::slice::from_ref(&saved)).await,
            Err(expected.clone()),
            "{name}"
        );
        // The server will not sign a head over what it cannot vouch for.
        let next = append(&store, 9).await;
        if refused {
            assert!(
                matches!(next, Err(holoid_service::store::StoreError::AuditRefused(_))),
                "{name}: {next:?}"
            );
            assert!(
                store.audit_refusal().is_some() && store.audit_refusals() == 1,
                "{name}"
            );
        }
        assert_eq!(
            verify(&store, std::slice::from_ref(&saved)).await,
            Err(expected),
            "{name} after an append"
        );
    }

    // A rollback: the database as it was at 2 entries put back, head row and all. The chain
    // and head agree; only a head saved later tells, and this process has seen one.
    let url = url_for("rollback");
    let store = Store::open(&url).await.unwrap();
    append(&store, 0).await.unwrap();
    append(&store, 1).await.unwrap();
    let old_row = saved_head_row(&url).await;
    append(&store, 2).await.unwrap();
    append(&store, 3).await.unwrap();
    let later = store
        .observe_audit_head(&copy_key().public())
        .await
        .unwrap()
        .unwrap();
    let mut rollback = vec!["DELETE FROM audit_log WHERE seq > 2".to_string()];
    rollback.extend(old_row);
    sql(&url, &rollback).await;
    assert_eq!(
        verify(&store, &[]).await,
        Ok(2),
        "a rollback looks whole on its own"
    );
    assert_eq!(
        verify(&store, std::slice::from_ref(&later)).await,
        Err(AuditBreak::RolledBack { size: 2, saved: 4 })
    );
    let refused = append(&store, 9).await.unwrap_err().to_string();
    assert!(refused.contains("rolled back"), "{refused}");
    assert_eq!(verify(&store, &[]).await, Ok(2), "nothing was appended");

    // A re-signed rewrite: entry 2 edited, the chain recomputed from it, the head row's
    // hashes and tree edge made to match. The server refuses to sign over it (the stored head
    // is not signed by its key), and verification names the head.
    let url = url_for("rewrite");
    let store = audited_store(&url).await;
    let saved = store
        .observe_audit_head(&copy_key().public())
        .await
        .unwrap()
        .unwrap();
    let mut entries = store.all_audit_entries().await.unwrap();
    entries[1].event.office = "busan".into();
    let mut prev = audit::GENESIS;
    let mut frontier = audit::Frontier::new();
    let mut rewrite = Vec::new();
    for e in &mut entries {
        e.prev_hash = prev;
        e.hash = audit::entry_hash(&prev, e.seq, &e.event);
        prev = e.hash;
        frontier.push(audit::leaf_hash(&e.hash));
        rewrite.push(format!(
            "UPDATE audit_log SET office = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
            e.event.office,
            holoid_core::encoding::to_hex(&e.prev_hash),
            holoid_core::encoding::to_hex(&e.hash),
            e.seq
        ));
    }
    rewrite.push(format!(
        "UPDATE audit_head SET hash = '{}', root = '{}', frontier = '{}'",
        holoid_core::encoding::to_hex(&prev),
        holoid_core::encoding::to_hex(&frontier.root()),
        frontier.to_text()
    ));
    sql(&url, &rewrite).await;
    assert_eq!(verify(&store, &[]).await, Err(AuditBreak::BadHeadSignature));
    let refused = append(&store, 9).await.unwrap_err().to_string();
    assert!(refused.contains("not signed by this server's key"), "{refused}");
    // Had a server signed it anyway, the head saved before would still name the rewrite.
    let resigned = audit::TreeHead::sign(saved.log_id, &frontier, prev, saved.time_ms + 1, &copy_key());
    assert_eq!(
        audit::verify(
            &entries,
            Some(&resigned),
            &[copy_key().public()],
            std::slice::from_ref(&saved)
        ),
        Err(AuditBreak::Rewritten { size: 4 })
    );
}

const TAMPER_CASES: [&str; 7] = [
    "edit", "delete", "reorder", "truncate", "wipe", "rollback", "rewrite",
];

#[tokio::test]
async fn audit_tampering_is_caught_on_sqlite() {
    tampering_is_caught(|name| sqlite_url(&format!("tamper-{name}"))).await;
}

#[tokio::test]
async fn audit_tampering_is_caught_on_postgres() {
    let Some(base) = postgres_base() else { return };
    let mut scratch = Vec::new();
    for _ in TAMPER_CASES {
        scratch.push(PgScratch::new(&base).await);
    }
    let urls: Vec<String> = scratch.iter().map(|s| s.url.clone()).collect();
    tampering_is_caught(|name| urls[TAMPER_CASES.iter().position(|n| *n == name).unwrap()].clone()).await;
    for s in scratch {
        s.drop_db().await;
    }
}

/// The same storage calls on either database.
async fn storage_round_trip(url: &str) {
    let w = world(url, ServiceConfig::default()).await;
    register(&w).await;
    let store = w.state.store();
    let id = &w.demo.credential.credential.id;
    let locator = holoid_core::encoding::to_hex(&holoid_core::code::Locator::of(id).0);
    assert_eq!(store.credentials_by_locator(&locator).await.unwrap().len(), 1);
    register(&w).await; // re-registering replaces
    assert_eq!(store.credentials_by_locator(&locator).await.unwrap().len(), 1);
    let check = seed_check(&w, "seoul", "genuine", 0).await;
    assert_eq!(
        store.check(&check).await.unwrap().map(|c| c.card_png.is_some()),
        Some(true)
    );
    let mut copies = Vec::new();
    for i in 0..5 {
        let (s, _, b) = call(
            &w.app,
            "POST",
            "/v1/copies",
            Some(&w.tokens.officer),
            copy_body(&check, &format!("lease {i}")),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
        copies.push(json(&b)["id"].as_str().unwrap().to_string());
    }
    // Two requests at once for one purpose: one copy made (201), the other answered with it.
    let same = || {
        call(
            &w.app,
            "POST",
            "/v1/copies",
            Some(&w.tokens.officer),
            copy_body(&check, "deposit"),
        )
    };
    let (a, b) = tokio::join!(same(), same());
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    assert_eq!(json(&a.2)["id"], json(&b.2)["id"]);
    copies.push(json(&a.2)["id"].as_str().unwrap().to_string());
    assert_eq!(store.count_copies().await.unwrap(), 6);
    let listed = store.list_copies("seoul", i64::MAX, 100).await.unwrap();
    assert_eq!(listed.len(), 6);
    assert!(listed.windows(2).all(|p| p[0].created_ms >= p[1].created_ms));
    assert!(
        store
            .copy_image(&copies[0])
            .await
            .unwrap()
            .is_some_and(|png| png.starts_with(b"\x89PNG"))
    );
    // Four tokens made, two registrations, a check, six copies, the first copy read again.
    assert_eq!(verify(store, &[]).await, Ok(4 + 2 + 1 + 6 + 1));
    // Reopening runs no migration twice and keeps everything.
    let again = Store::open(url).await.unwrap();
    assert_eq!(again.count_copies().await.unwrap(), 6);
    assert_eq!(verify(&again, &[]).await, Ok(14));
    // A deleted copy's image is gone from the SQLite files, not left in free pages or the log.
    if let Some(path) = url.strip_prefix("sqlite:") {
        // Pieces of its PNG found in no other copy's (a piece may straddle two pages).
        let png = store.copy_image(&copies[1]).await.unwrap().unwrap();
        let mut others = Vec::new();
        for c in copies.iter().filter(|c| *c != &copies[1]) {
            others.push(store.copy_image(c).await.unwrap().unwrap());
        }
        // (The footer's text, drawn last, is what differs: the pieces come from the PNG's end.)
        let pieces: Vec<&[u8]> = (0..64)
            .map(|i| &png[png.len() * 3 / 4 + i * (png.len() / 4 - 32) / 64..][..24])
            .filter(|p| !others.iter().any(|o| o.windows(24).any(|w| w == *p)))
            .collect();
        assert!(
            pieces.len() >= 8,
            "only {} pieces are the copy's own",
            pieces.len()
        );
        let found = || {
            let files: Vec<Vec<u8>> = ["", "-wal"]
                .iter()
                .filter_map(|suffix| std::fs::read(format!("{path}{suffix}")).ok())
                .collect();
            pieces
                .iter()
                .filter(|p| files.iter().any(|f| f.windows(24).any(|w| w == **p)))
                .count()
        };
        store.scrub().await.unwrap();
        assert!(
            found() >= pieces.len() / 2,
            "the copy's image is in the file before it is deleted"
        );
        let (s, _, _) = call(
            &w.app,
            "DELETE",
            &format!("/v1/copies/{}", copies[1]),
            Some(&w.tokens.officer),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(found(), 0, "a deleted copy's image is still readable in {path}");
    }
}

#[tokio::test]
async fn storage_on_sqlite() {
    storage_round_trip(&sqlite_url("storage")).await;
}

#[tokio::test]
async fn storage_on_postgres() {
    let Some(base) = postgres_base() else { return };
    let db = PgScratch::new(&base).await;
    storage_round_trip(&db.url).await;
    let w = world(&db.url, ServiceConfig::default()).await;
    let (_, _, b) = call(&w.app, "GET", "/healthz", None, None).await;
    assert_eq!(json(&b)["database"], "postgres");
    db.drop_db().await;
}

/// `{"reason": …}` as a JSON body.
fn reason(text: &str) -> Option<(String, Vec<u8>)> {
    Some((
        "application/json".into(),
        serde_json::json!({ "reason": text }).to_string().into_bytes(),
    ))
}

/// Registers a credential document (as the admin): status and JSON body.
async fn register_json(
    w: &World,
    doc: &holoid_core::credential::SignedCredential,
) -> (StatusCode, serde_json::Value) {
    let (s, b) = register_document(w, doc).await;
    (s, json(&b))
}

/// The status list `n` as the service publishes it, checked with the issuer's public key.
async fn published_status(w: &World, index: u32) -> holoid_core::status::Status {
    use holoid_core::status;
    let (s, h, b) = call(&w.app, "GET", "/v1/status-lists/1", None, None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(h["content-type"], "application/statuslist+jwt");
    assert_eq!(h["cache-control"], "max-age=300", "a public list may be cached");
    let now = (now_ms() / 1000) as u64;
    let list = status::verify(
        std::str::from_utf8(&b).unwrap(),
        &w.demo.issuer.public(),
        &status::subject(1),
        now,
    )
    .expect("a list signed by the issuer, fresh");
    assert!(list.claims.exp >= now + 86_000 && list.claims.ttl == 300);
    assert_eq!(list.list.len(), status::LIST_LEN as usize);
    list.status(index).unwrap()
}

#[tokio::test]
async fn a_card_is_suspended_resumed_moved_and_revoked_and_every_list_says_so() {
    use holoid_core::status::Status;
    let w = world(&sqlite_url("lifecycle"), ServiceConfig::default()).await;
    register(&w).await;
    let id = w.demo.credential.credential.id.clone();
    let first = w.demo.credential.credential.status.index;
    let path = |verb: &str| format!("/v1/credentials/{id}/{verb}");
    let (s, _, b) = call(&w.app, "GET", &path("status"), Some(&w.tokens.officer), None).await;
    assert_eq!(s, StatusCode::OK);
    let st = json(&b);
    assert_eq!(
        (st["status"].as_str(), st["device_epoch"].as_i64()),
        (Some("valid"), Some(1))
    );
    assert_eq!(st["status_index"].as_i64(), Some(i64::from(first)));
    assert_eq!(published_status(&w, first).await, Status::Valid);

    // Reported lost at the counter: suspended, published, and not twice.
    let (s, _, b) = call(
        &w.app,
        "POST",
        &path("suspend"),
        Some(&w.tokens.officer),
        reason("phone reported lost"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["status"], "suspended");
    assert_eq!(published_status(&w, first).await, Status::Suspended);
    let (s, _, b) = call(
        &w.app,
        "POST",
        &path("suspend"),
        Some(&w.tokens.officer),
        reason("again"),
    )
    .await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    // Bad requests and roles.
    for body in [reason(""), reason(&"x".repeat(201)), None] {
        let (s, _, _) = call(&w.app, "POST", &path("resume"), Some(&w.tokens.officer), body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
    let (s, _, _) = call(
        &w.app,
        "POST",
        &path("revoke"),
        Some(&w.tokens.officer),
        reason("x"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only an admin revokes");
    let (s, _, _) = call(
        &w.app,
        "POST",
        &path("suspend"),
        Some(&w.tokens.auditor),
        reason("x"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(&w.app, "POST", &path("suspend"), None, reason("x")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = call(
        &w.app,
        "POST",
        "/v1/credentials/KR-NOPE/suspend",
        Some(&w.tokens.officer),
        reason("x"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Found again.
    let (s, _, b) = call(
        &w.app,
        "POST",
        &path("resume"),
        Some(&w.tokens.officer),
        reason("phone found"),
    )
    .await;
    assert_eq!((s, json(&b)["status"].as_str()), (StatusCode::OK, Some("valid")));
    assert_eq!(published_status(&w, first).await, Status::Valid);

    // Moved to a new phone: the first enrolment ends at once; the old document cannot come back.
    let second = w.demo.enrolment(2);
    let (s, b) = register_json(&w, &second).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, _, b) = call(&w.app, "GET", &path("status"), Some(&w.tokens.admin), None).await;
    let st = json(&b);
    assert_eq!(
        (st["status"].as_str(), st["device_epoch"].as_i64()),
        (Some("valid"), Some(2))
    );
    let history: Vec<(i64, String)> = st["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["epoch"].as_i64().unwrap(),
                e["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (1, "valid"),
            (1, "suspended"),
            (1, "valid"),
            (1, "replaced"),
            (2, "valid")
        ]
        .map(|(e, s)| (e, s.to_string()))
    );
    let moved_index = second.credential.status.index;
    assert_eq!(published_status(&w, first).await, Status::Invalid);
    assert_eq!(published_status(&w, moved_index).await, Status::Valid);
    let (s, b) = register_json(&w, &w.demo.credential).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("newer enrolment")
    );

    // Revoked for good: published, final, and no phone can enrol it again.
    let (s, _, _) = call(
        &w.app,
        "POST",
        &path("revoke"),
        Some(&w.tokens.admin),
        reason("card withdrawn"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(published_status(&w, moved_index).await, Status::Invalid);
    let (s, _, _) = call(
        &w.app,
        "POST",
        &path("resume"),
        Some(&w.tokens.admin),
        reason("x"),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = register_json(&w, &w.demo.enrolment(3)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(b["error"]["message"].as_str().unwrap().contains("revoked"));

    // Every change is in the audit log, with the status read.
    let actions: Vec<String> = audit_actions(&w).await.into_iter().map(|(a, _)| a).collect();
    for a in [
        "credential_suspend",
        "credential_resume",
        "credential_revoke",
        "credential_status_read",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} not audited: {actions:?}");
    }
    // Unknown lists.
    for n in ["2", "0", "x"] {
        let (s, _, _) = call(&w.app, "GET", &format!("/v1/status-lists/{n}"), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "list {n}");
    }
}

#[tokio::test]
async fn a_service_without_the_issuer_key_publishes_no_lists() {
    let demo = holoid_core::demo::DemoIdentity::generate(1);
    let store = Store::open(&sqlite_url("no-issuer-key")).await.unwrap();
    let keys = holoid_service::ServiceKeys {
        issuer_secret: None,
        ..support::keys(&demo)
    };
    let app = holoid_service::app(holoid_service::AppState::new(
        store,
        keys,
        ServiceConfig::default(),
    ));
    let (s, _, b) = call(&app, "GET", "/v1/status-lists/1", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(json(&b)["error"]["code"], "no_status_lists");
}

/// The signed head and the consistency proof over HTTP (a witness checks the proof itself),
/// the witness file written as the log grows, and a restarted server that finds its database
/// rolled back behind the witness: it says so at `/healthz` and `/metrics` and refuses every
/// audited write with its own error code.
#[tokio::test]
async fn heads_proofs_and_the_witness_catch_a_rollback_at_start() {
    let url = sqlite_url("witness");
    let witness = scratch("audit-witness").join("heads.jsonl");
    let config = ServiceConfig {
        audit_witness: Some(witness.clone()),
        ..ServiceConfig::default()
    };
    let w = world(&url, config.clone()).await;
    // The tokens' making is in the log already.
    let start = w.state.start_audit().await.unwrap();
    let base = start.size;
    assert_eq!(base, 4);
    let last = w.state.witness_tick(None).await;
    assert_eq!(last.as_ref(), Some(&start));
    let public = copy_key().public();
    let head_of = |b: &[u8]| serde_json::from_slice::<audit::TreeHead>(b).unwrap();

    for i in 0..3 {
        append(w.state.store(), i).await.unwrap();
    }
    let (s, _, b) = call(&w.app, "GET", "/v1/audit/head", Some(&w.tokens.auditor), None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let head3 = head_of(&b);
    assert!(head3.size == base + 3 && head3.is_signed_by(&public) && head3.log_id == start.log_id);
    let (s, _, _) = call(&w.app, "GET", "/v1/audit/head", Some(&w.tokens.officer), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let row3 = saved_head_row(&url).await;
    let last = w.state.witness_tick(last).await;
    assert_eq!(last.as_ref().map(|h| h.size), Some(base + 3));
    assert_eq!(
        w.state.witness_tick(last.clone()).await,
        last,
        "nothing new, nothing written"
    );

    for i in 3..8 {
        append(w.state.store(), i).await.unwrap();
    }
    let (s, _, b) = call(
        &w.app,
        "GET",
        &format!("/v1/audit/consistency?from={}", base + 3),
        Some(&w.tokens.admin),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let c: holoid_service::responses::AuditConsistency = serde_json::from_slice(&b).unwrap();
    let proof: Vec<[u8; 32]> = c
        .proof
        .iter()
        .map(|h| holoid_core::encoding::from_hex::<32>(h).unwrap())
        .collect();
    assert!(c.head.size == base + 8 && c.head.is_signed_by(&public) && c.head.time_ms >= head3.time_ms);
    assert!(
        audit::verify_consistency(&head3, &c.head, &proof),
        "the proof holds"
    );
    let mut forged = head3.clone();
    forged.root[0] ^= 1;
    assert!(
        !audit::verify_consistency(&forged, &c.head, &proof),
        "and fails for another log"
    );
    let beyond = format!("?from={}", base + 9);
    for bad in ["", "?from=0", &beyond, "?from=x"] {
        let uri = format!("/v1/audit/consistency{bad}");
        let (s, _, b) = call(&w.app, "GET", &uri, Some(&w.tokens.auditor), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(json(&b)["error"]["code"], "bad_request");
    }
    let last = w.state.witness_tick(last).await;
    assert_eq!(last.as_ref().map(|h| h.size), Some(base + 8));
    let written = holoid_service::witness::read(&witness).unwrap();
    assert_eq!(
        written.iter().map(|h| h.size).collect::<Vec<_>>(),
        [base, base + 3, base + 8]
    );
    let (s, _, b) = call(&w.app, "GET", "/healthz", None, None).await;
    assert_eq!((s, json(&b)["status"].as_str()), (StatusCode::OK, Some("ok")));

    // The database put back as it was 5 entries ago, head row and all; the server restarts.
    let mut rollback = vec![format!("DELETE FROM audit_log WHERE seq > {}", base + 3)];
    rollback.extend(row3);
    sql(&url, &rollback).await;
    // The same database and witness under a new process (no new tokens: nothing is appended
    // before the server's own check).
    let store = Store::open(&url).await.unwrap();
    let config = ServiceConfig {
        access_log: false,
        ..config
    };
    let state = holoid_service::AppState::new(store, keys(&w.demo), config);
    let restarted = holoid_service::app(state.clone());
    let why = state.start_audit().await.unwrap_err();
    assert!(why.contains("rolled back"), "{why}");
    let (s, _, b) = call(&restarted, "GET", "/healthz", None, None).await;
    let health = json(&b);
    assert_eq!(
        (s, health["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("degraded"))
    );
    assert!(health["problem"].as_str().unwrap().contains("rolled back"));
    let (_, _, b) = call(&restarted, "GET", "/metrics", None, None).await;
    assert!(String::from_utf8_lossy(&b).contains("holoid_audit_log_intact 0"));
    let document = w.demo.credential.to_json();
    let body = multipart(&[
        ("credential", document.as_bytes()),
        ("portrait", &w.demo.portrait_png),
    ]);
    let (s, _, b) = call(
        &restarted,
        "POST",
        "/v1/credentials",
        Some(&w.tokens.admin),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&b)["error"]["code"], "audit_refused");
    assert_eq!(
        verify(state.store(), &[]).await,
        Ok(base + 3),
        "nothing was appended"
    );
}

/// Rotating the copy key: copies the old key signed still verify (by the key id in their
/// record); at the first start with the new key, the head the old key signed is checked with
/// the whole log and signed again (audited as copy_key_rotate); after that a head signed with
/// the retired key (by someone who kept it) is refused, at once and at the next start.
async fn rotating_the_copy_key(url: &str) {
    let w = world(url, ServiceConfig::default()).await;
    let backend = if url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    let witness = scratch(&format!("rotation-{backend}")).join("heads.jsonl");
    let check = seed_check(&w, "seoul", "genuine", 0).await;
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/copies",
        Some(&w.tokens.officer),
        copy_body(&check, "loan"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let old_copy = json(&b)["id"].as_str().unwrap().to_string();
    let old_head = w.state.store().audit_head().await.unwrap().unwrap();
    holoid_service::witness::append(&witness, &old_head).unwrap();
    let (old, new) = (copy_key(), holoid_core::keys::IssuerSecret::from_bytes([10; 32]));
    let restart = |retired: Vec<IssuerPublic>| {
        let (witness, demo) = (witness.clone(), &w.demo);
        async move {
            let keys = holoid_service::ServiceKeys {
                copy_key: holoid_core::keys::IssuerSecret::from_bytes([10; 32]),
                retired_copy_keys: retired,
                ..keys(demo)
            };
            let config = ServiceConfig {
                access_log: false,
                audit_witness: Some(witness),
                ..Default::default()
            };
            let state = holoid_service::AppState::new(Store::open(url).await.unwrap(), keys, config);
            (state.clone(), holoid_service::app(state))
        }
    };
    // The new key alone: the old head is not its own, and the message says what to do.
    let (state, _) = restart(Vec::new()).await;
    let why = state.start_audit().await.unwrap_err();
    assert!(
        why.contains("--retired-copy-pub") && why.contains(&old.public().key_id()),
        "{why}"
    );
    // With the old key retired: checked, signed again, audited.
    let (state, app) = restart(vec![old.public()]).await;
    let head = state.start_audit().await.unwrap();
    assert_eq!(
        (head.key_id.clone(), head.size),
        (new.public().key_id(), old_head.size + 1)
    );
    let entries = state.store().all_audit_entries().await.unwrap();
    let last = &entries.last().unwrap().event;
    assert_eq!(last.action, "copy_key_rotate");
    assert_eq!(
        last.subject,
        format!("{} -> {}", old.public().key_id(), new.public().key_id())
    );
    let ring = [new.public(), old.public()];
    assert_eq!(
        audit::verify(&entries, Some(&head), &ring, std::slice::from_ref(&old_head)),
        Ok(head.size)
    );
    assert_eq!(
        audit::verify(&entries, Some(&head), &ring[..1], std::slice::from_ref(&old_head)),
        Err(AuditBreak::BadSavedHead { size: old_head.size })
    );
    let last = state.witness_tick(Some(old_head.clone())).await.unwrap();
    assert!(last.is_signed_by(&new.public()));
    // The old copy: valid, by the retired key; a new one: signed by the new key.
    let (s, _, b) = call(
        &app,
        "GET",
        &format!("/v1/copies/{old_copy}"),
        Some(&w.tokens.officer),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let c = json(&b);
    assert_eq!(c["signature_valid"], true);
    assert_eq!(c["record"]["key_id"], old.public().key_id());
    assert_eq!(
        c["public_key"],
        holoid_core::encoding::to_hex(&old.public().to_bytes())
    );
    let (s, _, b) = call(
        &app,
        "POST",
        "/v1/copies",
        Some(&w.tokens.officer),
        copy_body(&check, "lease"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["record"]["key_id"], new.public().key_id());
    // Without the retired key the old copy no longer verifies: the key id is not a free pass.
    let (_, bare_app) = restart(Vec::new()).await;
    let (_, _, b) = call(
        &bare_app,
        "GET",
        &format!("/v1/copies/{old_copy}"),
        Some(&w.tokens.officer),
        None,
    )
    .await;
    assert_eq!(json(&b)["signature_valid"], false);
    // Someone who kept the retired key signs a head with it: refused now and at a restart.
    let mut forged = state.store().audit_head().await.unwrap().unwrap();
    forged.key_id = old.public().key_id();
    forged.signature = old.sign(&forged.message());
    sql(
        url,
        &[format!(
            "UPDATE audit_head SET key_id = '{}', signature = '{}'",
            forged.key_id,
            holoid_core::encoding::to_hex(&forged.signature)
        )],
    )
    .await;
    let (s, _, b) = call(
        &app,
        "POST",
        "/v1/copies",
        Some(&w.tokens.officer),
        copy_body(&check, "rent"),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&b)["error"]["code"], "audit_refused");
    let (state, _) = restart(vec![old.public()]).await;
    let why = state.start_audit().await.unwrap_err();
    assert!(why.contains("not signed by this server's key"), "{why}");
}

#[tokio::test]
async fn rotating_the_copy_key_on_sqlite() {
    rotating_the_copy_key(&sqlite_url("rotation")).await;
}

#[tokio::test]
async fn rotating_the_copy_key_on_postgres() {
    let Some(base) = postgres_base() else { return };
    let db = PgScratch::new(&base).await;
    rotating_the_copy_key(&db.url).await;
    db.drop_db().await;
}

/// A version-1 log (a hash chain under a signed (seq, hash) head, before migration 4) is
/// checked and given a tree head on the first append; a damaged one is refused, not adopted.
#[tokio::test]
async fn a_version_one_log_is_upgraded_only_when_intact() {
    for damaged in [false, true] {
        let url = sqlite_url(&format!("legacy-{damaged}"));
        let store = audited_store(&url).await;
        let entries = store.all_audit_entries().await.unwrap();
        let last = entries.last().unwrap();
        let signature = copy_key().sign(&audit::legacy_head_message(4, &last.hash));
        let mut legacy = vec![format!(
            "UPDATE audit_head SET signature = '{}', log_id = NULL, root = NULL, time_ms = NULL, \
             key_id = NULL, frontier = NULL",
            holoid_core::encoding::to_hex(&signature)
        )];
        if damaged {
            legacy.push("UPDATE audit_log SET subject = 'other' WHERE seq = 2".into());
        }
        sql(&url, &legacy).await;
        let store = Store::open(&url).await.unwrap();
        assert!(
            store
                .audit_head()
                .await
                .unwrap_err()
                .to_string()
                .contains("version-1")
        );
        let next = append(&store, 4).await;
        if damaged {
            assert!(next.unwrap_err().to_string().contains("breaks at entry 2"));
        } else {
            assert_eq!(next.unwrap().seq, 5);
            assert_eq!(verify(&store, &[]).await, Ok(5));
        }
    }
}

/// Tokens end: one past its expiry and a revoked one are refused with their own codes on every
/// route; making and revoking tokens is audited; guessing tokens from one address is
/// throttled with 429 and Retry-After, and a valid token from that address waits too.
#[tokio::test]
async fn tokens_expire_are_revoked_and_guessing_them_is_throttled() {
    let config = ServiceConfig {
        sign_in_failures: 3,
        ..ServiceConfig::default()
    };
    let w = world(&sqlite_url("tokens-end"), config).await;
    let store = w.state.store();
    let short = holoid_service::api::create_token(
        store,
        holoid_service::auth::Role::Officer,
        holoid_service::auth::View::Identity,
        "seoul",
        "Short Shift",
        std::time::Duration::from_millis(300),
        "test",
        &copy_key(),
    )
    .await
    .unwrap();
    let (s, _, _) = call(&w.app, "GET", "/v1/me", Some(&short), None).await;
    assert_eq!(s, StatusCode::OK, "works before its expiry");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (s, _, b) = call(&w.app, "GET", "/v1/me", Some(&short), None).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_expired"))
    );

    let tokens = store.list_tokens().await.unwrap();
    assert_eq!(tokens.len(), 5);
    assert!(
        tokens
            .iter()
            .all(|t| t.expires_ms.is_some() && t.revoked_ms.is_none())
    );
    let busan = tokens.iter().find(|t| t.office == "busan").unwrap().id.clone();
    let revoke = |id: &str| AuditEvent {
        at_ms: now_ms(),
        actor: "cli".into(),
        office: "busan".into(),
        action: "token_revoke".into(),
        subject: id.to_string(),
    };
    assert!(
        store
            .revoke_token(&busan, revoke(&busan), &copy_key())
            .await
            .unwrap()
    );
    assert!(matches!(
        store.revoke_token(&busan, revoke(&busan), &copy_key()).await,
        Err(holoid_service::store::StoreError::Conflict(_))
    ));
    assert!(
        !store
            .revoke_token("nope", revoke("nope"), &copy_key())
            .await
            .unwrap()
    );
    let (s, _, b) = call(&w.app, "GET", "/v1/copies", Some(&w.tokens.busan), None).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked"))
    );
    let actions: Vec<(String, String)> = store
        .all_audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.action, e.event.subject))
        .collect();
    assert_eq!(actions.iter().filter(|(a, _)| a == "token_create").count(), 5);
    assert!(actions.contains(&("token_revoke".into(), busan.clone())));

    // Guessing: three unknown tokens, then even a valid one from this address waits.
    let guess = format!("holoid_{}", "0".repeat(64));
    for _ in 0..3 {
        let (s, _, _) = call(&w.app, "GET", "/v1/me", Some(&guess), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    for token in [&guess, &w.tokens.officer] {
        let (s, h, b) = call(&w.app, "GET", "/v1/me", Some(token), None).await;
        assert_eq!(
            (s, json(&b)["error"]["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
        );
        let wait: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // Requests without a token are not sign-in attempts.
    let (s, _, _) = call(&w.app, "GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

/// A photo is checked once, and checks are limited per token and per card; without a GPU:
/// plain pictures named by `credential_id` go through the whole route.
#[tokio::test]
async fn a_photo_is_checked_once_and_checks_are_limited_per_token_and_card() {
    let config = ServiceConfig {
        checks_per_credential: 2,
        checks_per_token: 4,
        ..ServiceConfig::default()
    };
    let w = world(&sqlite_url("replay-limits"), config).await;
    register(&w).await;
    let id = w.demo.credential.credential.id.clone();
    let picture = |shade: u8| {
        let img = image::RgbImage::from_pixel(540, 1170, image::Rgb([shade, 200, 200]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let check = |images: Vec<Vec<u8>>, credential: Option<String>| {
        let app = w.app.clone();
        let token = w.tokens.officer.clone();
        async move {
            let now = format!("{:.3}", now_ms() as f64 / 1000.0);
            let mut fields: Vec<(&str, &[u8])> = Vec::new();
            for image in &images {
                fields.push(("image", image));
                fields.push(("captured_at", now.as_bytes()));
            }
            if let Some(c) = &credential {
                fields.push(("credential_id", c.as_bytes()));
            }
            let (s, h, b) = call(&app, "POST", "/v1/checks", Some(&token), Some(multipart(&fields))).await;
            (s, h, json(&b))
        }
    };
    let (s, _, v) = check(vec![picture(1)], Some(id.clone())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v.get("score").is_none() && v.get("frames").is_none(),
        "scores shown to an officer: {v}"
    );
    let (s, _, v) = check(vec![picture(1)], Some(id.clone())).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("replayed_photo"))
    );
    let (s, _, v) = check(vec![picture(2), picture(2)], Some(id.clone())).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("duplicate_image"))
    );
    let (s, _, v) = check(vec![picture(3)], Some(id.clone())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The card's two checks this minute are spent.
    let (s, h, v) = check(vec![picture(4)], Some(id.clone())).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_checks"))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("of this card"));
    assert!(h.contains_key("retry-after"));
    // And now the token's four (a refused request counts too).
    let (s, _, v) = check(vec![picture(5)], None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_checks"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from this token")
    );
    // The replay was audited, naming the earlier check; the refused burst by its code.
    let entries = w.state.store().all_audit_entries().await.unwrap();
    let count = |action: &str, subject: Option<&str>| {
        entries
            .iter()
            .filter(|e| e.event.action == action && subject.is_none_or(|s| e.event.subject == s))
            .count()
    };
    assert_eq!(count("check_replay", None), 1);
    assert_eq!(count("check_refused", Some("duplicate_image")), 1);
    assert_eq!(count("check", None), 2);
}

/// The framework's own rejections come in the service's JSON envelope too: a malformed JSON
/// body, a missing field, a wrong content type, a method a route does not take.
#[tokio::test]
async fn every_rejection_is_the_json_error_envelope() {
    let w = world(&sqlite_url("envelope"), ServiceConfig::default()).await;
    let officer = Some(w.tokens.officer.as_str());
    let body = |ctype: &str, text: &str| Some((ctype.to_string(), text.as_bytes().to_vec()));
    let cases = [
        (
            body("application/json", "{not json"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            body("application/json", "{\"check_id\": \"x\"}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
        ),
        (
            body("application/json", "[1, 2]"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
        ),
        (
            body("text/plain", "hello"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (b, status, code) in cases {
        let (s, h, bytes) = call(&w.app, "POST", "/v1/copies", officer, b).await;
        assert_eq!(s, status, "{}", String::from_utf8_lossy(&bytes));
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let e = json(&bytes);
        assert_eq!(e["error"]["code"], code, "{e}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    // A method the route does not take (not in /openapi.json, so without `call`'s check).
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .method("PUT")
        .uri("/v1/enrol")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = w.app.clone().oneshot(request).await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers().contains_key("allow"));
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert_eq!(json(&bytes)["error"]["code"], "method_not_allowed");
}
