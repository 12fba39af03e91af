//! A verifier service to test against: a store (SQLite in a scratch file, or a scratch
//! PostgreSQL database), the demo issuer's keys, tokens for each role, requests without a
//! socket, multipart bodies.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use holoid_core::credential::SignedCredential;
use holoid_core::demo::DemoIdentity;
use holoid_core::keys::IssuerSecret;
use holoid_service::api::create_token;
use holoid_service::auth::{Role, View, new_id};
use holoid_service::store::Store;
use holoid_service::{AppState, ServiceConfig, ServiceKeys, app};
use sqlx::Executor;
use tower::ServiceExt;

/// The service's copy-signing key in tests.
pub fn copy_key() -> IssuerSecret {
    IssuerSecret::from_bytes([9; 32])
}

/// The demo issuer (seed 1) and the service's keys for it.
pub fn keys(demo: &DemoIdentity) -> ServiceKeys {
    ServiceKeys {
        master: holoid_core::keys::MasterKey::from_bytes(*demo.master.as_bytes()),
        issuer: demo.issuer.public(),
        copy_key: copy_key(),
        retired_copy_keys: Vec::new(),
        issuer_secret: Some(IssuerSecret::from_text(&demo.issuer.to_text()).expect("a key's own text")),
    }
}

/// A fresh SQLite URL in the target directory.
/// Runs `statements` on the database at `url` directly, as an attacker with write access
/// would (around the service, not through it).
pub async fn sql(url: &str, statements: &[String]) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url)
        .await
        .expect("connect to the database");
    for s in statements {
        pool.execute(s.as_str())
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    pool.close().await;
}

/// The statement that resets the audit head row to its state before any entry: with
/// `DELETE FROM audit_log`, a wiped log.
pub const WIPE_AUDIT_HEAD: &str = "UPDATE audit_head SET seq = 0, \
    hash = '0000000000000000000000000000000000000000000000000000000000000000', signature = '', \
    log_id = NULL, root = NULL, time_ms = NULL, key_id = NULL, frontier = NULL";

pub fn sqlite_url(name: &str) -> String {
    let dir = crate::gpu::target_tmp().join("service-db");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite:{}", path.display())
}

/// The PostgreSQL URL `.ci/run` provides, if any; says loudly when the tests skip.
pub fn postgres_base() -> Option<String> {
    match std::env::var("HOLOID_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "HOLOID_TEST_POSTGRES_URL is unset: SKIPPING the PostgreSQL half of this test \
                 (.ci/run sets it, e.g. postgres://root@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A scratch PostgreSQL database made from the base URL's server; dropped by [`PgScratch::drop_db`].
pub struct PgScratch {
    pub url: String,
    base: String,
    name: String,
}

impl PgScratch {
    pub async fn new(base: &str) -> PgScratch {
        sqlx::any::install_default_drivers();
        let name = format!("holoid_test_{}", &new_id()[..12]);
        let pool = sqlx::AnyPool::connect(base).await.expect("connect to PostgreSQL");
        pool.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a scratch database");
        pool.close().await;
        let (server, _db) = base.rsplit_once('/').expect("a URL with a database");
        let query = base
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        PgScratch {
            url: format!("{server}/{name}{query}"),
            base: base.to_string(),
            name,
        }
    }

    pub async fn drop_db(self) {
        let pool = sqlx::AnyPool::connect(&self.base)
            .await
            .expect("connect to PostgreSQL");
        let _ = pool
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await;
        pool.close().await;
    }
}

/// Tokens of each role: officers of `seoul` and `busan`, an admin and an auditor.
pub struct Tokens {
    pub officer: String,
    pub busan: String,
    pub admin: String,
    pub auditor: String,
}

pub async fn tokens(store: &Store) -> Tokens {
    let make = |role, office, name| token(store, role, View::Identity, office, name);
    Tokens {
        officer: make(Role::Officer, "seoul", "Kim Officer").await,
        busan: make(Role::Officer, "busan", "Park Officer").await,
        admin: make(Role::Admin, "hq", "Lee Admin").await,
        auditor: make(Role::Auditor, "hq", "Choi Auditor").await,
    }
}

/// A `seoul` officer's token with `view` (a shop's `age`, a `kiosk`), made when a test needs
/// one (each token is an audit entry, which other tests count).
pub async fn view_token(store: &Store, view: View, name: &str) -> String {
    token(store, Role::Officer, view, "seoul", name).await
}

async fn token(store: &Store, role: Role, view: View, office: &str, name: &str) -> String {
    create_token(store, role, view, office, name, TOKEN_LIFE, "test", &copy_key())
        .await
        .unwrap()
}

/// How long the tests' tokens work: an officer's default.
pub const TOKEN_LIFE: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// A service on `url` with `config`, the demo identity (seed 1) and tokens.
pub struct World {
    pub state: AppState,
    pub app: Router,
    pub tokens: Tokens,
    pub demo: DemoIdentity,
}

pub async fn world(url: &str, config: ServiceConfig) -> World {
    let demo = DemoIdentity::generate(1);
    let store = Store::open(url).await.expect("open the store");
    let tokens = tokens(&store).await;
    // Quiet servers: the tests read the responses, not the access log.
    let config = ServiceConfig {
        access_log: false,
        ..config
    };
    let state = AppState::new(store, keys(&demo), config);
    World {
        app: app(state.clone()),
        state,
        tokens,
        demo,
    }
}

/// A service running on a free loopback port of `rt`, until [`Serving::stop`].
pub struct Serving {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Serving {
    pub fn start(rt: &tokio::runtime::Runtime, state: AppState) -> Serving {
        Serving::start_tls(rt, state, None)
    }

    /// [`Serving::start`], over TLS with `tls`.
    pub fn start_tls(
        rt: &tokio::runtime::Runtime,
        state: AppState,
        tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    ) -> Serving {
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = rt.spawn(holoid_service::serve_tls(listener, state, tls, async {
            let _ = stopped.await;
        }));
        Serving { addr, stop, done }
    }

    /// Stops taking requests, finishes those in flight, and returns how serving ended.
    pub fn stop(self, rt: &tokio::runtime::Runtime) -> std::io::Result<()> {
        let _ = self.stop.send(());
        rt.block_on(self.done).unwrap()
    }
}

/// A multipart/form-data body: (content type, bytes). Fields named image, credential and
/// portrait are sent as files.
pub fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "holoid-test-boundary-1e7c4f";
    let mut body = Vec::new();
    for (name, data) in parts {
        let file = matches!(*name, "image" | "credential" | "portrait");
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if file {
            body.extend_from_slice(b"; filename=\"upload\"\r\nContent-Type: application/octet-stream");
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A request through the router without a socket: status, headers, body.
pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<(String, Vec<u8>)>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    call_with_headers(app, method, uri, token, &[], body).await
}

/// [`call`] with more request headers (`name`, `value`).
pub async fn call_with_headers(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<(String, Vec<u8>)>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut b = Request::builder().method(method).uri(uri);
    for &(name, value) in headers {
        b = b.header(name, value);
    }
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let request = match body {
        Some((content_type, bytes)) => b
            .header("content-type", content_type)
            .header("content-length", bytes.len())
            .body(Body::from(bytes)),
        None => b.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_documented(method, uri, status.as_u16(), content_type, &bytes);
    (status, headers, bytes.to_vec())
}

/// Every answer the tests get is held to /openapi.json: panics, naming the mismatch, when
/// the route, the status or the JSON's fields are not as documented.
pub fn assert_documented(method: &str, uri: &str, status: u16, content_type: &str, body: &[u8]) {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(crate::openapi::document);
    if let Err(e) = crate::openapi::check_answer(doc, method, uri, status, content_type, body) {
        panic!("the answer does not match /openapi.json: {e}");
    }
}

/// The JSON of a response body.
pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// POSTs a multipart form to a server on a real port.
pub fn post_form(
    addr: std::net::SocketAddr,
    path: &str,
    token: &str,
    parts: &[(&str, &[u8])],
) -> crate::http::Response {
    let (ctype, body) = multipart(parts);
    let r = crate::http::request(addr, "POST", path, Some(token), Some((&ctype, &body)))
        .expect("the server answers");
    let content_type = r.header("content-type").unwrap_or("").to_string();
    assert_documented("POST", path, r.status, &content_type, &r.body);
    r
}

/// Registers `demo`'s credential with a server on a real port, as `admin`.
pub fn register_over_http(addr: std::net::SocketAddr, admin: &str, demo: &DemoIdentity) {
    let c = demo.credential.to_json();
    let r = post_form(
        addr,
        "/v1/credentials",
        admin,
        &[("credential", c.as_bytes()), ("portrait", &demo.portrait_png)],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

/// An officer's one-time enrolment offer for credential `id`, made over TCP: its text and id.
pub fn offer_over_http(addr: std::net::SocketAddr, token: &str, id: &str) -> (String, String) {
    let path = format!("/v1/credentials/{id}/offers");
    let r = crate::http::request(addr, "POST", &path, Some(token), None).expect("the server answers");
    assert_documented(
        "POST",
        &path,
        r.status,
        r.header("content-type").unwrap_or(""),
        &r.body,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let o = r.json();
    (
        o["offer"].as_str().expect("a pending offer's text").to_string(),
        o["offer_id"].as_str().expect("its id").to_string(),
    )
}

/// A phone enrolling with `offer` over TCP: a fresh key pair, `POST /v1/enrol` (201 asserted),
/// the answer opened and checked with the issuer's key.
pub fn enrol_over_http(
    addr: std::net::SocketAddr,
    offer: &str,
    issuer: &holoid_core::keys::IssuerPublic,
) -> holoid_core::enrol::Enrolled {
    let keys = holoid_core::enrol::WalletKeyPair::generate();
    let body = serde_json::json!({"offer": offer, "device_public_key": keys.public_text()}).to_string();
    let r = crate::http::request(
        addr,
        "POST",
        "/v1/enrol",
        None,
        Some(("application/json", body.as_bytes())),
    )
    .expect("the server answers");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let e: holoid_core::enrol::Enrolment = serde_json::from_slice(&r.body).expect("an enrolment");
    e.finish(&keys, Some(issuer))
        .expect("the phone opens and checks its enrolment")
}

/// Registers a credential document with the demo portrait (as the admin): status and body.
pub async fn register_document(w: &World, doc: &SignedCredential) -> (StatusCode, Vec<u8>) {
    let c = doc.to_json();
    let body = multipart(&[("credential", c.as_bytes()), ("portrait", &w.demo.portrait_png)]);
    let (s, _, b) = call(
        &w.app,
        "POST",
        "/v1/credentials",
        Some(&w.tokens.admin),
        Some(body),
    )
    .await;
    (s, b)
}

/// Registers the demo credential (as the admin).
pub async fn register(w: &World) {
    let (s, b) = register_document(w, &w.demo.credential).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
}

/// Every audit entry's (action, subject), read by the auditor, once the chain is verified.
pub async fn audit_actions(w: &World) -> Vec<(String, String)> {
    let (_, _, b) = call(
        &w.app,
        "GET",
        "/v1/audit?limit=1000",
        Some(&w.tokens.auditor),
        None,
    )
    .await;
    let page = json(&b);
    assert_eq!(page["verification"]["ok"], true, "the audit chain holds");
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A credential's personal data as strings: what an answer to a shop or a kiosk must not
/// carry.
pub fn personal_data(c: &holoid_core::credential::Credential) -> Vec<String> {
    let h = &c.holder;
    vec![
        c.id.clone(),
        h.name_hangul.clone(),
        h.name_latin.clone(),
        h.birth_date.to_string(),
        h.resident_number_masked.clone(),
        h.address.clone(),
    ]
}

/// A plain PNG the size of a copy, standing in for a rectified card.
pub fn card_png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(540, 1170, image::Rgb([220, 225, 235]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub use crate::gpu::scratch;

/// The console's WebAssembly reader as `bash scripts/check-wasm-build.sh` writes it
/// (`$CARGO_TARGET_DIR/wasm/pkg`, by default the workspace's `target/wasm/pkg`; or the
/// directory `HOLOID_CONSOLE_WASM` names). Panics saying how to build it when it is missing.
pub fn console_wasm() -> holoid_service::ConsoleWasm {
    let dir = std::env::var_os("HOLOID_CONSOLE_WASM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
            target.join("wasm/pkg")
        });
    holoid_service::ConsoleWasm::load(&dir).unwrap_or_else(|e| {
        panic!("the console's WebAssembly reader: {e}; or set HOLOID_SKIP_BROWSER_TESTS=1")
    })
}
