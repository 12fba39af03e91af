//! Any bytes as the multipart body of `POST /v1/checks`, through the whole service (router,
//! sign-in, multipart reading, photo decoding, the detector, the store and the audit log, on
//! SQLite): the answer must be a verdict (200) or a client error in the JSON envelope, never
//! a panic, a 500 or a hang.
//!
//! ```text
//! RUSTC_BOOTSTRAP=1 cargo fuzz run check_route fuzz/corpus/check_route fuzz/seeds/check_route \
//!     -- -max_total_time=2400 -max_len=150000 -rss_limit_mb=4096 -timeout=30
//! ```
//! The inputs are bodies for the boundary `holoidfuzz`; `fuzz/seeds/check_route` holds a real
//! two-frame burst of the demo card (seed 1, drawn by `holoid render`, 360 px JPEGs: genuine),
//! one frame with a capture time a day off (a forgery) and an empty body. `HOLOID_FUZZ_SHOW=1`
//! prints each answer. `scripts/hostile-input.sh` runs this after schemathesis.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use holoid_core::demo::DemoIdentity;
use holoid_core::keys::{IssuerSecret, MasterKey};
use holoid_service::{AppState, ServiceConfig, ServiceKeys, store::Store};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct World {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    token: String,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let demo = DemoIdentity::generate(1);
        let path = std::env::temp_dir().join(format!("holoid-fuzz-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let (app, token) = rt.block_on(async {
            let store = Store::open(&format!("sqlite:{}", path.display()))
                .await
                .expect("open the store");
            let copy_key = IssuerSecret::from_bytes([9; 32]);
            let token_for = |role| {
                holoid_service::api::create_token(
                    &store,
                    role,
                    "seoul",
                    "Fuzz",
                    std::time::Duration::from_secs(30 * 86_400),
                    "fuzz",
                    &copy_key,
                )
            };
            let officer = token_for(holoid_service::auth::Role::Officer).await.expect("a token");
            let admin = token_for(holoid_service::auth::Role::Admin).await.expect("a token");
            let keys = ServiceKeys {
                master: MasterKey::from_bytes(*demo.master.as_bytes()),
                issuer: demo.issuer.public(),
                copy_key: IssuerSecret::from_bytes([9; 32]),
                retired_copy_keys: Vec::new(),
                issuer_secret: None,
            };
            let config = ServiceConfig {
                access_log: false,
                // Any capture time, any number of checks, photos seen before: every input
                // reaches the detector instead of stopping at the replay and rate rules.
                max_capture_age: std::time::Duration::from_secs(u32::MAX as u64),
                refuse_replays: false,
                checks_per_token: u32::MAX,
                checks_per_credential: u32::MAX,
                max_pixels: 4_000_000,
                ..Default::default()
            };
            let app = holoid_service::app(AppState::new(store, keys, config));
            // The demo credential, registered as an admin would.
            let document = demo.credential.to_json();
            let mut body = Vec::new();
            for (name, data) in [("credential", document.as_bytes()), ("portrait", &demo.portrait_png[..])] {
                body.extend_from_slice(
                    format!("--holoidfuzz\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"--holoidfuzz--\r\n");
            let r = app
                .clone()
                .oneshot(post("/v1/credentials", &admin, body))
                .await
                .expect("infallible");
            assert_eq!(r.status(), StatusCode::CREATED, "registering the demo credential");
            (app, officer)
        });
        World { rt, app, token }
    })
}

/// A multipart POST with the boundary `holoidfuzz`.
fn post(uri: &str, token: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "multipart/form-data; boundary=holoidfuzz")
        .body(Body::from(body))
        .expect("a request")
}

fuzz_target!(|body: &[u8]| {
    let w = world();
    let request = post("/v1/checks", &w.token, body.to_vec());
    let (status, bytes) = w.rt.block_on(async {
        let r = w.app.clone().oneshot(request).await.expect("infallible");
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 64 << 20)
            .await
            .expect("the answer's body");
        (status, bytes)
    });
    assert!(
        status == StatusCode::OK || status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON answer");
    if std::env::var_os("HOLOID_FUZZ_SHOW").is_some() {
        eprintln!("{status}: {}", &json.to_string()[..json.to_string().len().min(300)]);
    }
    if status != StatusCode::OK {
        let code = json["error"]["code"].as_str().expect("an error code");
        assert!(!code.is_empty() && json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    } else {
        assert!(json["decision"].is_string());
    }
});
