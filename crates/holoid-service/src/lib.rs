//! The verifier service: the HTTP forgery-check API that public offices and banks use, with
//! stored digital copies and an audit log whose integrity can be proven.
//!
//! - [`app`] builds the router from an [`AppState`]; tests drive it without a socket, and
//!   [`serve`] runs it on a TCP listener with graceful shutdown and the retention sweep.
//! - [`store`]: SQLite (embedded default) or PostgreSQL (many stateless servers share one).
//! - [`audit`]: the hash chain, its Merkle tree, signed heads and their check (pure);
//!   [`witness`]: the file of heads kept outside the database; [`copy`]: the copy's image and signed
//!   record (pure); [`auth`]: tokens and roles; [`metrics`]: Prometheus counters;
//!   [`responses`]: the public JSON, one serde type per answer (what `/openapi.json` documents).
//!
//! Nothing that must be shared between servers lives in process memory: the in-memory parts
//! are counters and a cache of detectors derived from the database.
//!
//! This crate must not depend on wgpu or the simulator: a verifier server has no GPU.

pub mod api;
pub mod audit;
pub mod auth;
pub mod copy;
pub mod listen;
pub mod metrics;
pub mod responses;
pub mod store;
pub mod witness;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use api::app;
use holoid_core::keys::{IssuerPublic, IssuerSecret, MasterKey};
use metrics::Metrics;
use store::Store;

/// Limits and periods of a service. Every field has a documented default
/// ([`ServiceConfig::default`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// The largest request body, bytes. By default, 32 MiB.
    pub max_body_bytes: usize,
    /// The largest photo, pixels, checked from its header before decoding. By default,
    /// 24 megapixels.
    pub max_pixels: u64,
    /// Photos in one check (a burst). By default, 8.
    pub max_images: usize,
    /// A request taking longer is answered 503. By default, 30 s.
    pub request_timeout: Duration,
    /// Checks computed at once; more are answered 503 with Retry-After at once, not queued.
    /// By default, twice the number of cores.
    pub max_concurrent_checks: usize,
    /// Requests in flight at once; more are answered 503. By default, 512.
    pub max_in_flight: usize,
    /// How long copies and checks are kept (and photos remembered against replays). By
    /// default, 30 days.
    pub retention: Duration,
    /// How long after a genuine check a copy may be made from it; the check's card image is
    /// deleted after this. By default, 15 minutes.
    pub copy_window: Duration,
    /// How far a photo's `captured_at` may be from the server's clock: the detector judges
    /// freshness against the capture times, so they must be the verifier's own, recent ones.
    /// By default, 10 s.
    pub max_capture_age: Duration,
    /// Print one line per request on stderr (method, path, status, time; no personal data).
    /// By default, on.
    pub access_log: bool,
    /// Where to append every signed audit head the service sees (`--audit-witness`); its
    /// heads are also checked at start. By default, none.
    pub audit_witness: Option<std::path::PathBuf>,
    /// Header-read and handshake timeouts, the connection cap, the drain time at a stop.
    pub connections: listen::Limits,
    /// Failed sign-ins (unknown tokens) allowed per client address per
    /// [`ServiceConfig::sign_in_window`] before it gets 429. By default, 10.
    pub sign_in_failures: u32,
    /// By default, a minute.
    pub sign_in_window: Duration,
    /// Checks one token may ask for per minute (more get 429). By default, 60.
    pub checks_per_token: u32,
    /// Checks of one credential per minute, from all tokens (more get 429): a forger cannot
    /// tune an edited card against the service. By default, 20.
    pub checks_per_credential: u32,
    /// Refuse a photo checked before (409 `replayed_photo`), remembering each photo's hash for
    /// [`ServiceConfig::retention`]. By default, on; the load benchmark, which sends the same
    /// photos again and again, turns it off.
    pub refuse_replays: bool,
    /// The console's WebAssembly reader (`holoid serve --console-wasm DIR`): with it the
    /// console measures camera frames in the browser and sends only their evidence; without
    /// it the console sends photos. By default, none.
    pub console_wasm: Option<ConsoleWasm>,
}

/// The window of the per-token and per-credential check limits.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

impl Default for ServiceConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ServiceConfig {
            max_body_bytes: 32 << 20,
            max_pixels: 24_000_000,
            max_images: 8,
            request_timeout: Duration::from_secs(30),
            max_concurrent_checks: 2 * cores,
            max_in_flight: 512,
            retention: Duration::from_secs(30 * 86_400),
            copy_window: Duration::from_secs(15 * 60),
            max_capture_age: Duration::from_secs(10),
            access_log: true,
            audit_witness: None,
            connections: listen::Limits::default(),
            sign_in_failures: 10,
            sign_in_window: Duration::from_secs(60),
            checks_per_token: 60,
            checks_per_credential: 20,
            refuse_replays: true,
            console_wasm: None,
        }
    }
}

/// The detector's keyless half for the console's browser (crate `holoid-wasm`, issue #22): the
/// two files `wasm-bindgen --target web` writes (`scripts/check-wasm-build.sh` leaves them in
/// `target/wasm/pkg`), read once at start and served under `/console/wasm/`.
#[derive(Clone, PartialEq)]
pub struct ConsoleWasm {
    /// `holoid_wasm.js`: the JavaScript glue (an ES module).
    pub js: StaticFile,
    /// `holoid_wasm_bg.wasm`: the module.
    pub wasm: StaticFile,
}

impl std::fmt::Debug for ConsoleWasm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ConsoleWasm {{ js: {} bytes, wasm: {} bytes ({} gzipped) }}",
            self.js.bytes.len(),
            self.wasm.bytes.len(),
            self.wasm.gzip.len()
        )
    }
}

impl ConsoleWasm {
    /// The glue's file name.
    pub const JS: &'static str = "holoid_wasm.js";
    /// The module's file name.
    pub const WASM: &'static str = "holoid_wasm_bg.wasm";

    /// Reads the two files from `dir`, saying which is missing or is not what it should be.
    pub fn load(dir: &std::path::Path) -> Result<ConsoleWasm, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| {
                format!(
                    "{}: {e} (build it with `bash scripts/check-wasm-build.sh`, which writes target/wasm/pkg)",
                    path.display()
                )
            })
        };
        let wasm = read(Self::WASM)?;
        if !wasm.starts_with(b"\0asm") {
            return Err(format!(
                "{}: not a WebAssembly module",
                dir.join(Self::WASM).display()
            ));
        }
        let js = String::from_utf8(read(Self::JS)?)
            .ok()
            .filter(|js| js.contains("export class CardReader") && js.contains(Self::WASM))
            .ok_or_else(|| {
                format!(
                    "{}: not holoid-wasm's glue for the web (wasm-bindgen --target web)",
                    dir.join(Self::JS).display()
                )
            })?;
        Ok(ConsoleWasm {
            js: StaticFile::new(js.into_bytes()),
            wasm: StaticFile::new(wasm),
        })
    }
}

/// A file served as it was read at start: its bytes, the same gzipped (the console's
/// WebAssembly is 6.4 MB, about 2 MB gzipped, fetched at every sign-in), and an entity tag
/// (its SHA-256), so that a browser that has it asks again with `If-None-Match` and gets
/// `304 Not Modified` instead of the file.
#[derive(Clone, PartialEq)]
pub struct StaticFile {
    /// The file (shared by every answer, not copied).
    pub bytes: axum::body::Bytes,
    /// The file gzipped.
    pub gzip: axum::body::Bytes,
    /// `"` the first 32 hex digits of its SHA-256 `"`.
    pub etag: String,
}

impl StaticFile {
    /// The file `bytes`, gzipped and tagged here (about 0.3 s for the WebAssembly).
    pub fn new(bytes: Vec<u8>) -> StaticFile {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(bytes.len() / 2),
            flate2::Compression::default(),
        );
        // Writing to memory cannot fail.
        gz.write_all(&bytes).expect("gzip in memory");
        let gzip = gz.finish().expect("gzip in memory");
        let digest = holoid_core::mac::sha256(&[&bytes]);
        StaticFile {
            etag: format!("\"{}\"", &holoid_core::encoding::to_hex(&digest)[..32]),
            bytes: bytes.into(),
            gzip: gzip.into(),
        }
    }
}

/// The keys a service holds.
pub struct ServiceKeys {
    /// The issuer's pattern master key: the service derives each credential's device key.
    pub master: MasterKey,
    /// The issuer's public key: registered credentials must carry its signature.
    pub issuer: IssuerPublic,
    /// The service's own key: signs copies and audit heads.
    pub copy_key: IssuerSecret,
    /// Copy keys used before this one (`holoid serve --retired-copy-pub`): copies they signed
    /// still verify, and the audit head one of them signed is checked in full and signed
    /// again with `copy_key` at start.
    pub retired_copy_keys: Vec<IssuerPublic>,
    /// The issuer's signing key, when this service issues (`holoid serve --issuer-key`): it
    /// signs the status lists. Without it no lists are published.
    pub issuer_secret: Option<IssuerSecret>,
}

impl ServiceKeys {
    /// The public copy keys: the current one first, then the retired ones.
    pub fn copy_ring(&self) -> Vec<IssuerPublic> {
        std::iter::once(self.copy_key.public())
            .chain(self.retired_copy_keys.iter().copied())
            .collect()
    }
}

/// A signed status list kept until the statuses change or half its ttl has passed.
struct CachedList {
    version: i64,
    issued_s: u64,
    token: String,
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    keys: ServiceKeys,
    config: ServiceConfig,
    metrics: Metrics,
    checks: Arc<tokio::sync::Semaphore>,
    in_flight: Arc<tokio::sync::Semaphore>,
    /// Detectors by a hash of the credential record (derived data: any server can rebuild it).
    detectors: Mutex<HashMap<String, Arc<holoid_detect::Detector>>>,
    /// Signed status lists by number (derived data, keyed by the store's status version).
    status_lists: Mutex<HashMap<u32, CachedList>>,
    /// Failed sign-ins by client address.
    sign_in: auth::Throttle<std::net::IpAddr>,
    /// Checks by token id.
    checks_by_token: auth::Throttle<String>,
    /// Checks by credential id.
    checks_by_credential: auth::Throttle<String>,
}

impl AppState {
    /// A state over `store` with these keys and limits.
    pub fn new(store: Store, keys: ServiceKeys, config: ServiceConfig) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                keys,
                metrics: Metrics::default(),
                checks: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_checks.max(1))),
                in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1))),
                detectors: Mutex::default(),
                status_lists: Mutex::default(),
                sign_in: auth::Throttle::new(config.sign_in_failures, config.sign_in_window),
                checks_by_token: auth::Throttle::new(config.checks_per_token, RATE_WINDOW),
                checks_by_credential: auth::Throttle::new(config.checks_per_credential, RATE_WINDOW),
                config,
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The limits.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The keys.
    pub fn keys(&self) -> &ServiceKeys {
        &self.inner.keys
    }

    /// Failed sign-ins by client address.
    pub(crate) fn sign_in_throttle(&self) -> &auth::Throttle<std::net::IpAddr> {
        &self.inner.sign_in
    }

    /// Checks by token id, and by credential id.
    pub(crate) fn check_throttles(&self) -> (&auth::Throttle<String>, &auth::Throttle<String>) {
        (&self.inner.checks_by_token, &self.inner.checks_by_credential)
    }

    /// The signed status list `list`, if one was made at `version` of the statuses less than
    /// half its ttl before `now_s`.
    pub(crate) fn cached_status_list(&self, list: u32, version: i64, now_s: u64) -> Option<String> {
        let cache = self.inner.status_lists.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(&list)
            .filter(|c| c.version == version && now_s < c.issued_s + api::STATUS_LIST_TTL_S / 2)
            .map(|c| c.token.clone())
    }

    /// Keeps a signed status list.
    pub(crate) fn cache_status_list(&self, list: u32, version: i64, issued_s: u64, token: String) {
        let mut cache = self.inner.status_lists.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(
            list,
            CachedList {
                version,
                issued_s,
                token,
            },
        );
    }

    /// Before serving: the witness file's heads become heads the log may not fall below, the
    /// log gets a signed head (a new log's, or a version-1 log's upgraded), and the whole log
    /// is verified against them. A failure is kept as the reason audited writes are refused
    /// (`/healthz` degraded) and returned.
    pub async fn start_audit(&self) -> Result<audit::TreeHead, String> {
        let store = self.store();
        let key = &self.keys().copy_key;
        let ring = self.keys().copy_ring();
        let saved = match &self.config().audit_witness {
            Some(path) => witness::read(path).map_err(|e| store.refuse(e.to_string()).to_string())?,
            None => Vec::new(),
        };
        if let Some(bad) = saved.iter().find(|h| !h.is_signed_by_any(&ring)) {
            let why = format!(
                "a head in the witness file (size {}) is signed by key {}: neither this server's key {} nor a retired key given with --retired-copy-pub",
                bad.size,
                bad.key_id,
                ring[0].key_id()
            );
            return Err(store.refuse(why).to_string());
        }
        for head in &saved {
            store.know_head(head);
        }
        let before = store.audit_head().await.ok().flatten();
        let head = store
            .prepare_audit(key, &self.keys().retired_copy_keys)
            .await
            .map_err(|e| e.to_string())?;
        let entries = store.all_audit_entries().await.map_err(|e| e.to_string())?;
        audit::verify(&entries, Some(&head), &ring, &saved)
            .map_err(|b| store.refuse(b.to_string()).to_string())?;
        match before {
            Some(old) if old.key_id != head.key_id => {
                let rotation = audit::AuditEvent {
                    at_ms: store::now_ms(),
                    actor: "holoid serve".into(),
                    office: String::new(),
                    action: "copy_key_rotate".into(),
                    subject: format!("{} -> {}", old.key_id, head.key_id),
                };
                store.audit(rotation, key).await.map_err(|e| e.to_string())?;
                store
                    .audit_head()
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| "the audit head vanished after the key rotation".to_string())
            }
            _ => Ok(head),
        }
    }

    /// The newest head in the witness file, if there is one.
    fn last_witnessed(&self) -> Option<audit::TreeHead> {
        let path = self.config().audit_witness.as_ref()?;
        witness::read(path).ok()?.into_iter().last()
    }

    /// Reads the stored head; when it is newer than `last`, appends it to the witness file.
    /// Returns the head now witnessed. [`serve`] runs this every [`WITNESS_EVERY`].
    pub async fn witness_tick(&self, last: Option<audit::TreeHead>) -> Option<audit::TreeHead> {
        let public = self.keys().copy_key.public();
        let head = match self.store().observe_audit_head(&public).await {
            Ok(Some(h)) if h.is_signed_by(&public) => h,
            Ok(_) => return last,
            Err(e) => {
                eprintln!("holoid serve: cannot read the audit head for the witness: {e}");
                return last;
            }
        };
        if last
            .as_ref()
            .is_some_and(|l| l.log_id == head.log_id && l.size == head.size)
        {
            return last;
        }
        if let Some(path) = &self.config().audit_witness
            && let Err(e) = witness::append(path, &head)
        {
            eprintln!("holoid serve: {e}");
            return last;
        }
        Some(head)
    }

    /// Deletes expired copies, checks' card images after the copy window and checks after the
    /// retention period (each audited), and forgets the photos checked before it (a replay is
    /// refused within it); returns how many copies.
    pub async fn sweep_retention(&self) -> Result<usize, store::StoreError> {
        let now = store::now_ms();
        let window = self.inner.config.copy_window.as_millis() as i64;
        let retention = self.inner.config.retention.as_millis() as i64;
        let n = self
            .inner
            .store
            .expire(now, now - window, now - retention, &self.inner.keys.copy_key)
            .await?;
        self.inner.store.forget_frames(now - retention).await?;
        Ok(n)
    }
}

/// HSTS for a year: a browser that reached the service over TLS never tries plain HTTP.
async fn hsts(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// How often [`serve`] reads the audit head for the witness file (and as the newest head the
/// log may not fall below).
pub const WITNESS_EVERY: Duration = Duration::from_secs(2);

/// Serves `state` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight. Checks the audit log first ([`AppState::start_audit`]); meanwhile sweeps retention
/// every minute and witnesses the audit head every [`WITNESS_EVERY`] (and once more at the
/// end).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls(listener, state, None, shutdown).await
}

/// [`serve`], over TLS when `tls` is given (every answer then also carries
/// `Strict-Transport-Security`).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Err(why) = state.start_audit().await {
        eprintln!("holoid serve: the audit log failed its check at start, audited writes are refused: {why}");
    }
    let witness = state.clone();
    let watch = tokio::spawn(async move {
        let mut last = witness.last_witnessed();
        let mut tick = tokio::time::interval(WITNESS_EVERY);
        loop {
            tick.tick().await;
            last = witness.witness_tick(last).await;
        }
    });
    let sweeper = state.clone();
    let sweep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match sweeper.sweep_retention().await {
                Ok(0) => {}
                Ok(n) => eprintln!("holoid serve: retention deleted {n} expired copies"),
                Err(e) => eprintln!("holoid serve: retention sweep failed: {e}"),
            }
        }
    });
    let router = if tls.is_some() {
        app(state.clone()).layer(axum::middleware::map_response(hsts))
    } else {
        app(state.clone())
    };
    let limits = state.config().connections;
    let outcome = listen::serve_on(listener, router, tls, limits, shutdown).await;
    sweep.abort();
    watch.abort();
    // The head as the server leaves it, witnessed.
    state.witness_tick(state.last_witnessed()).await;
    outcome
}
