//! Hostile input, one class at a time (issue #20 item 9): every request below is wrong in one
//! way a client, a fuzzer or an attacker would try. Each must get a clear 4xx in the service's
//! JSON envelope (with the code named here and a message a person can act on), conform to
//! /openapi.json, and leave nothing behind: no check, copy, credential, token, offer, enrolment
//! or remembered photo, and in the audit log nothing but the refused check itself
//! (`check_refused` with its error code).

use holoid_testkit::service as support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use holoid_service::ServiceConfig;
use holoid_service::store::now_ms;
use sqlx::Row;
use support::*;
use tower::ServiceExt;

/// The tables that hold what a request could leave behind.
const TABLES: [&str; 8] = [
    "checks",
    "copies",
    "credentials",
    "tokens",
    "offers",
    "enrolments",
    "frames_seen",
    "status_events",
];

/// Row counts of [`TABLES`].
async fn counts(url: &str) -> Vec<i64> {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let mut out = Vec::new();
    for t in TABLES {
        let r = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {t}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        out.push(r.try_get::<i64, _>("n").unwrap());
    }
    pool.close().await;
    out
}

/// One hostile request.
struct Case {
    /// The class of bad input.
    class: &'static str,
    method: &'static str,
    uri: String,
    /// Raw header pairs (the Authorization header among them, when there is one).
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

fn bearer(token: &str) -> (&'static str, Vec<u8>) {
    ("authorization", format!("Bearer {token}").into_bytes())
}

fn jpeg(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([shade, 128, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn each_class_of_bad_input_gets_a_clear_4xx_and_leaves_nothing_behind() {
    let url = sqlite_url("hostile");
    let config = ServiceConfig {
        max_body_bytes: 4 << 20,
        ..Default::default()
    };
    let w = world(&url, config).await;
    register(&w).await;
    let officer = w.tokens.officer.clone();
    let now = format!("{:.3}", now_ms() as f64 / 1000.0);
    let future = format!("{:.3}", (now_ms() + 3_600_000) as f64 / 1000.0);
    let photo = jpeg(640, 1138, 120);
    let other = jpeg(640, 1138, 60);
    let check = |parts: &[(&str, &[u8])]| {
        let (ctype, body) = multipart(parts);
        (vec![bearer(&officer), ("content-type", ctype.into_bytes())], body)
    };
    let json_to = |text: &[u8]| {
        (
            vec![bearer(&officer), ("content-type", b"application/json".to_vec())],
            text.to_vec(),
        )
    };
    let post =
        |uri: &str, class, (headers, body): (Vec<(&'static str, Vec<u8>)>, Vec<u8>), status, code| Case {
            class,
            method: "POST",
            uri: uri.into(),
            headers,
            body,
            status,
            code,
        };
    let post_check = |class, request, status, code| post("/v1/checks", class, request, status, code);
    let post_copy = |class, request, status, code| post("/v1/copies", class, request, status, code);
    let get = |class, uri: String, token: &str, status, code| Case {
        class,
        method: "GET",
        uri,
        headers: vec![bearer(token)],
        body: Vec::new(),
        status,
        code,
    };
    let (png_type, mut truncated) = multipart(&[("image", &photo), ("captured_at", now.as_bytes())]);
    truncated.truncate(truncated.len() / 2);
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    gif.extend_from_slice(&[0; 32]);
    let half_jpeg = photo[..photo.len() / 2].to_vec();
    let frames: Vec<Vec<u8>> = (0..=ServiceConfig::default().max_images)
        .map(|i| jpeg(64, 114, 20 * i as u8))
        .collect();
    let burst: Vec<(&str, &[u8])> = frames
        .iter()
        .flat_map(|f| [("image", &f[..]), ("captured_at", now.as_bytes())])
        .collect();
    let deep = format!(
        "{{\"check_id\": \"a\", \"purpose\": \"loan\", \"x\": {}",
        "[".repeat(100_000)
    );
    let register_body = |credential: &[u8], portrait: &[u8]| {
        let (ctype, body) = multipart(&[("credential", credential), ("portrait", portrait)]);
        (
            vec![bearer(&w.tokens.admin), ("content-type", ctype.into_bytes())],
            body,
        )
    };
    let document = w.demo.credential.to_json();

    let cases = vec![
        // Who is asking.
        post_check(
            "no token",
            (vec![], Vec::new()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        post_check(
            "another auth scheme",
            (
                vec![("authorization", b"Basic b2ZmaWNlcjpwYXNz".to_vec())],
                Vec::new(),
            ),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        post_check(
            "a token of bytes that are not text",
            (
                vec![("authorization", b"Bearer holoid_\xff\xfe\xfd".to_vec())],
                Vec::new(),
            ),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        post_check(
            "a token of 16 kB",
            (vec![bearer(&"x".repeat(16 << 10))], Vec::new()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        // The check's multipart body.
        post_check(
            "JSON where multipart is expected",
            json_to(b"{\"image\": \"AAAA\"}"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "multipart without a boundary",
            (
                vec![
                    bearer(&officer),
                    ("content-type", b"multipart/form-data".to_vec()),
                ],
                b"--x\r\n\r\n--x--\r\n".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "a multipart body cut off halfway",
            (
                vec![bearer(&officer), ("content-type", png_type.into_bytes())],
                truncated,
            ),
            StatusCode::BAD_REQUEST,
            "bad_multipart",
        ),
        post_check(
            "a field the route does not take",
            check(&[("image", &photo), ("captured_at", now.as_bytes()), ("evil", b"1")]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "more frames than a burst may have",
            check(&burst),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "a capture time that is not a time",
            check(&[("image", &photo), ("captured_at", b"NaN")]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "a capture time an hour ahead",
            check(&[("image", &photo), ("captured_at", future.as_bytes())]),
            StatusCode::BAD_REQUEST,
            "capture_time",
        ),
        post_check(
            "a capture time at the end of the range",
            check(&[("image", &photo), ("captured_at", b"999999999999.999")]),
            StatusCode::BAD_REQUEST,
            "capture_time",
        ),
        post_check(
            "a JPEG cut off halfway",
            check(&[("image", &half_jpeg), ("captured_at", now.as_bytes())]),
            StatusCode::BAD_REQUEST,
            "bad_image",
        ),
        post_check(
            "an image format the service does not read (GIF)",
            check(&[("image", &gif), ("captured_at", now.as_bytes())]),
            StatusCode::BAD_REQUEST,
            "bad_image",
        ),
        post_check(
            "a credential id with control characters",
            check(&[
                ("image", &photo),
                ("captured_at", now.as_bytes()),
                ("credential_id", b"KR-\x00\x1b[31m"),
            ]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "a credential id of 4 kB",
            check(&[
                ("image", &photo),
                ("captured_at", now.as_bytes()),
                ("credential_id", "K".repeat(4096).as_bytes()),
            ]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "the same frame twice in one burst",
            check(&[
                ("image", &photo),
                ("captured_at", now.as_bytes()),
                ("image", &photo),
                ("captured_at", now.as_bytes()),
            ]),
            StatusCode::BAD_REQUEST,
            "duplicate_image",
        ),
        post_check(
            "frames out of time order",
            check(&[
                ("image", &photo),
                ("captured_at", now.as_bytes()),
                ("image", &other),
                (
                    "captured_at",
                    format!("{:.3}", (now_ms() - 5_000) as f64 / 1000.0).as_bytes(),
                ),
            ]),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_check(
            "a declared length beyond the limit",
            {
                let (mut headers, body) = check(&[("image", &photo), ("captured_at", now.as_bytes())]);
                headers.push(("content-length", b"1073741824".to_vec()));
                (headers, body)
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        // JSON bodies.
        post_copy(
            "JSON fields of the wrong type",
            json_to(b"{\"check_id\": 5, \"purpose\": []}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
        ),
        post_copy(
            "JSON nested 100 000 deep",
            json_to(deep.as_bytes()),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_copy(
            "JSON with a key twice",
            json_to(b"{\"check_id\": \"a\", \"check_id\": \"b\", \"purpose\": \"loan\"}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
        ),
        post_copy(
            "JSON followed by more bytes",
            json_to(b"{\"check_id\": \"a\", \"purpose\": \"loan\"} {\"x\": 1}"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_copy(
            "JSON that is not UTF-8",
            json_to(b"{\"check_id\": \"\xff\xfe\", \"purpose\": \"loan\"}"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        post_copy(
            "a purpose with control characters",
            json_to(
                serde_json::json!({"check_id": "a", "purpose": "loan\u{7}\u{1b}[31m"})
                    .to_string()
                    .as_bytes(),
            ),
            StatusCode::BAD_REQUEST,
            "bad_purpose",
        ),
        // Registration (an administrator's mistakes are bad input too).
        post(
            "/v1/credentials",
            "a credential that is not JSON",
            register_body(b"not json at all", &w.demo.portrait_png),
            StatusCode::BAD_REQUEST,
            "bad_credential",
        ),
        post(
            "/v1/credentials",
            "a portrait that is not an image",
            register_body(document.as_bytes(), b"GIF89a"),
            StatusCode::BAD_REQUEST,
            "bad_portrait",
        ),
        // Query strings and paths.
        get(
            "a page size that is not a number",
            "/v1/copies?limit=ten".into(),
            &officer,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        get(
            "a page size out of range",
            "/v1/copies?limit=-5".into(),
            &officer,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        get(
            "an audit position that is not a number",
            "/v1/audit?after=1%3B%20DROP%20TABLE%20audit_log".into(),
            &w.tokens.auditor,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        get(
            "an id of 8 kB",
            format!("/v1/checks/{}", "a".repeat(8192)),
            &officer,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        get(
            "an id with an encoded path and quote",
            "/v1/copies/..%2F..%2Fetc%2Fpasswd%27--".into(),
            &officer,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        post(
            "/v1/enrol",
            "an enrolment of random bytes",
            (
                vec![("content-type", b"application/json".to_vec())],
                (0..=255u8).cycle().take(3000).collect(),
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    assert!(cases.len() >= 20);
    let audit_before = w.state.store().all_audit_entries().await.unwrap().len();
    let before = counts(&url).await;
    let mut refused_checks = Vec::new();
    for case in cases {
        let mut b = Request::builder().method(case.method).uri(case.uri.as_str());
        for (name, value) in &case.headers {
            b = b.header(*name, axum::http::HeaderValue::from_bytes(value).unwrap());
        }
        let response = w
            .app
            .clone()
            .oneshot(b.body(Body::from(case.body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let ctype = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let class = case.class;
        assert_eq!(
            status,
            case.status,
            "{class}: {}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(ctype.starts_with("application/json"), "{class}: {ctype}");
        let e = json(&bytes);
        assert_eq!(e["error"]["code"], case.code, "{class}: {e}");
        let message = e["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.len() >= 10,
            "{class}: the message {message:?} says too little"
        );
        assert_documented(case.method, &case.uri, status.as_u16(), &ctype, &bytes);
        // A check refused once its officer is known is audited; one refused before sign-in
        // (no token, or a declared length over the limit, turned away at the door) is not.
        if case.uri == "/v1/checks" && !matches!(case.code, "unauthorized" | "too_large") {
            refused_checks.push(case.code);
        }
        assert_eq!(counts(&url).await, before, "{class} left something behind");
    }
    // The audit log gained only the refused checks, each named by its error code.
    let entries = w.state.store().all_audit_entries().await.unwrap();
    let added: Vec<(String, String)> = entries[audit_before..]
        .iter()
        .map(|e| (e.event.action.clone(), e.event.subject.clone()))
        .collect();
    let want: Vec<(String, String)> = refused_checks
        .iter()
        .map(|code| ("check_refused".to_string(), code.to_string()))
        .collect();
    assert_eq!(added, want);
}
