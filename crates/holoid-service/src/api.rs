//! The HTTP API: routes, who may call them, and what they answer. Every error is JSON
//! `{"error": {"code", "message"}}` with no data in it beyond the message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::JsonRejection;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::AppState;
use super::audit::{self, AuditEvent, TreeHead};
use super::auth::{self, Principal, Role, View};
use super::copy::{self, COPY_SIZE, CopyRecord};
use super::responses::{
    AgeCheck, AuditConsistency, AuditEntryJson, AuditPage, AuditVerification, CheckResult, CheckStatus, Copy,
    CopyList, CopyRecordJson, CredentialCreated, CredentialStatus, EnrolmentOffer, ErrorBody, ErrorDetail,
    Health, HolderAnswerJson, HolderRecord, Me, RecordJson, StatusEvent, StoredCheck,
};
use super::store::{
    CheckRow, CopyRow, CredentialRow, HolderAnswer, OfferRow, StatusChange, StoreError, TokenEnd, TokenRow,
    now_ms,
};
use holoid_core::code::Locator;
use holoid_core::credential::SignedCredential;
use holoid_core::encoding::{from_hex, to_hex};
use holoid_core::enrol::{self, EnrolRequest, Offer};
use holoid_core::mac::sha256;
use holoid_core::status::{self, Status, StatusList, StatusRef};
use holoid_core::time::UnixMillis;
use holoid_detect::evidence::FrameEvidence;
use holoid_detect::input::decode_photo;
use holoid_detect::rectify::{read_locator, rectify};
use holoid_detect::verdict::ReasonCode;
use holoid_detect::{Capture, Decision, DetectError, Detector, StatusFinding, Trust, Verdict};

/// An answer other than success.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn busy(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        }
    }

    fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your token may not do this (wrong role or another office)",
        )
    }

    fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        eprintln!("holoid serve: {e}");
        match e {
            StoreError::Open(_) => ApiError::busy("the database cannot be reached: try again shortly"),
            StoreError::Conflict(why) => ApiError::new(StatusCode::CONFLICT, "conflict", why),
            StoreError::AuditRefused(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_refused",
                "the audit log failed its integrity check, so nothing that must be audited can be done; \
                 an administrator must run `holoid audit verify` and restore the database",
            ),
            _ => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "database",
                "the database failed; nothing was stored",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        });
        let mut r = (self.status, body).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

type ApiResult<T> = Result<T, ApiError>;

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
        let unauthorized =
            |code: &'static str, message: String| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
        let missing = || {
            unauthorized(
                "unauthorized",
                "send a valid token: Authorization: Bearer holoid_…".into(),
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(auth::bearer)
            .ok_or_else(missing)?;
        // Guessing tokens is throttled per client address (requests without a socket, as in
        // tests driving the router directly, share one bucket).
        let ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let throttle = state.sign_in_throttle();
        if let Some(left) = throttle.refused(&ip, Instant::now()) {
            let secs = left.as_secs().max(1);
            return Err(ApiError {
                retry_after: Some(secs),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!("too many failed sign-ins from this address: try again in {secs} s"),
                )
            });
        }
        let Some(row) = state.store().find_token(&auth::token_hash(token)).await? else {
            throttle.count(&ip, Instant::now());
            return Err(missing());
        };
        match row.unusable_at(now_ms()) {
            Some(TokenEnd::Expired(at)) => {
                return Err(unauthorized(
                    "token_expired",
                    format!(
                        "this token expired at {}: ask an administrator for a new one",
                        rfc3339(at)
                    ),
                ));
            }
            Some(TokenEnd::Revoked(at)) => {
                return Err(unauthorized(
                    "token_revoked",
                    format!("this token was revoked at {}", rfc3339(at)),
                ));
            }
            None => {}
        }
        // A view the service cannot read (a hand-edited row) refuses the token rather than
        // showing it more.
        let view = View::from_stored(row.view_kind.as_deref(), row.age_over).map_err(|_| missing())?;
        Ok(Principal {
            token_id: row.id,
            role: row.role.parse().map_err(|_| missing())?,
            office: row.office,
            name: row.name,
            view,
        })
    }
}

/// The principal has one of `roles` and an `identity` view: every route but those an `age`
/// or `kiosk` token may use (which call [`require_in_view`]), so a route added later is closed
/// to them until it says otherwise.
fn require(p: &Principal, roles: &[Role]) -> ApiResult<()> {
    require_in_view(p, roles, &["identity"])
}

/// The principal has one of `roles` and one of the `views` (by kind).
fn require_in_view(p: &Principal, roles: &[Role], views: &[&str]) -> ApiResult<()> {
    if roles.contains(&p.role) && views.contains(&p.view.kind()) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// Every view: the kiosk's one route is the check.
const ALL_VIEWS: &[&str] = &["identity", "age", "kiosk"];
/// The views that compare a face with the registered portrait.
const FACE_VIEWS: &[&str] = &["identity", "age"];

fn event(p: &Principal, action: &str, subject: &str) -> AuditEvent {
    AuditEvent {
        at_ms: now_ms(),
        actor: p.token_id.clone(),
        office: p.office.clone(),
        action: action.to_string(),
        subject: subject.to_string(),
    }
}

/// One route: its method and path as `/openapi.json` writes them, and its handler.
struct Route(&'static str, &'static str, MethodRouter<AppState>);

/// Every route, in one table that the router is built from and the tests compare with
/// `/openapi.json` (so a route cannot be added without being documented).
fn routes() -> Vec<Route> {
    vec![
        Route("get", "/healthz", get(healthz)),
        Route("get", "/metrics", get(metrics)),
        Route("get", "/openapi.json", get(openapi)),
        Route("get", "/", get(console_page)),
        Route("get", "/console/console.js", get(console_js)),
        Route("get", "/console/console.css", get(console_css)),
        Route("get", "/console/font.ttf", get(console_font)),
        Route("get", "/console/reader.js", get(console_reader)),
        Route("get", "/console/wasm/holoid_wasm.js", get(console_wasm_js)),
        Route(
            "get",
            "/console/wasm/holoid_wasm_bg.wasm",
            get(console_wasm_module),
        ),
        Route("get", "/v1/me", get(whoami)),
        Route("get", "/v1/checks/{id}/card.png", get(get_check_card)),
        Route("get", "/v1/checks/{id}/portrait.png", get(get_check_portrait)),
        Route("post", "/v1/checks/{id}/holder", post(answer_holder)),
        Route("post", "/v1/checks", post(create_check)),
        Route(
            "post",
            "/v1/checks/evidence",
            post(create_evidence_check).layer(DefaultBodyLimit::max(MAX_EVIDENCE_BYTES)),
        ),
        Route("get", "/v1/checks/{id}", get(get_check)),
        Route("post", "/v1/credentials", post(register_credential)),
        Route("post", "/v1/copies", post(create_copy)),
        Route("get", "/v1/copies", get(list_copies)),
        Route("get", "/v1/copies/{id}", get(get_copy)),
        Route("delete", "/v1/copies/{id}", delete(delete_copy)),
        Route("get", "/v1/copies/{id}/image.png", get(get_copy_image)),
        Route("get", "/v1/audit", get(audit_log)),
        Route("get", "/v1/audit/head", get(audit_head)),
        Route("get", "/v1/audit/consistency", get(audit_consistency)),
        Route("get", "/v1/credentials/{id}/status", get(get_credential_status)),
        Route("get", "/v1/records/{id}", get(get_record)),
        Route("post", "/v1/credentials/{id}/suspend", post(suspend_credential)),
        Route("post", "/v1/credentials/{id}/resume", post(resume_credential)),
        Route("post", "/v1/credentials/{id}/revoke", post(revoke_credential)),
        Route("get", "/v1/status-lists/{id}", get(get_status_list)),
        Route("post", "/v1/credentials/{id}/offers", post(create_offer)),
        Route("get", "/v1/offers/{id}", get(get_offer)),
        Route("get", "/v1/offers/{id}/qr.png", get(get_offer_qr)),
        Route("post", "/v1/enrol", post(enrol)),
    ]
}

/// Every (method, path) the router serves, methods in lower case, paths with `{id}`
/// placeholders: exactly what `/openapi.json` must document.
pub fn routed() -> Vec<(&'static str, &'static str)> {
    routes().into_iter().map(|r| (r.0, r.1)).collect()
}

/// The router: every route of the API, with the body limits (axum's and tower-http's), the
/// in-flight limit and the per-request timeout.
pub fn app(state: AppState) -> Router {
    let limit = state.config().max_body_bytes;
    // Routes on one path with different methods merge.
    routes()
        .into_iter()
        .fold(Router::new(), |router, Route(_, path, handler)| {
            router.route(path, handler)
        })
        .fallback(|| async { ApiError::not_found("route: see /openapi.json") })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .layer(middleware::from_fn_with_state(state.clone(), declared_length))
        .with_state(state)
}

/// An error answer that is not the service's JSON envelope (the framework's own rejections: a
/// malformed JSON body, a wrong content type, a method the route does not take) rewritten
/// into it, its sentence kept; its other headers (`Allow`, `Retry-After`) kept too.
async fn enveloped(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 << 10).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "bad_request",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    };
    let message = match text.is_empty() {
        true => status.canonical_reason().unwrap_or("error").to_string(),
        false => text,
    };
    let mut rewritten = ApiError::new(status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

/// A body declared larger than the limit is refused before it is read, as JSON (tower-http's
/// limit still cuts off bodies that grow past it without declaring a length).
async fn declared_length(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.config().max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request is {n} bytes; this server accepts at most {limit}"),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// The in-flight limit (503 with Retry-After when full), the time limit, and an access log
/// line without personal data (method, route path, status, time).
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let Ok(_permit) = state.inner.in_flight.clone().try_acquire_owned() else {
        state.metrics().busy();
        return ApiError::busy("the server is full: try again in a second").into_response();
    };
    let response = match tokio::time::timeout(state.config().request_timeout, next.run(request)).await {
        Ok(r) => r,
        Err(_) => {
            state.metrics().timeout();
            ApiError::busy(format!(
                "the request took longer than {} s: try again",
                state.config().request_timeout.as_secs()
            ))
            .into_response()
        }
    };
    let mut response = enveloped(response).await;
    no_store(&path, response.headers_mut());
    if state.config().access_log {
        eprintln!(
            "holoid serve: {method} {path} {} {:.1} ms",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    response
}

/// Every answer: `X-Content-Type-Options: nosniff`; every API answer (`/v1/…`), which may hold
/// personal data or a one-time secret, `Cache-Control: no-store` unless it set its own (the
/// public status lists are meant to be cached).
fn no_store(path: &str, headers: &mut axum::http::HeaderMap) {
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    if path.starts_with("/v1/") {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
}

/// 200 `ok`, or 503 `degraded` with the reason: the database cannot be reached, or audited
/// writes are refused.
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (copies, problem) = match state.store().count_copies().await {
        Ok(n) => (Some(n), state.store().audit_refusal()),
        Err(e) => (None, Some(format!("the database cannot be reached: {e}"))),
    };
    let code = match problem {
        None => StatusCode::OK,
        Some(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (
        code,
        Json(Health {
            status: if problem.is_some() { "degraded" } else { "ok" }.into(),
            database: format!("{:?}", state.store().backend()).to_lowercase(),
            copies_stored: copies,
            version: env!("CARGO_PKG_VERSION").into(),
            problem,
        }),
    )
}

async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let copies = state.store().count_copies().await?;
    let audit = crate::metrics::AuditGauge {
        intact: state.store().audit_refusal().is_none(),
        refusals: state.store().audit_refusals(),
    };
    let text = state.metrics().render(copies, audit);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// The OpenAPI 3.1 document: every route of [`routed`] and every type of
/// [`crate::responses`] (the service tests hold it to both).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The counter officer's web console: one page and its assets, all in the binary (no CDN:
/// it works on a closed office network), allowed to load nothing from elsewhere.
async fn console_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; \
                 object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("console/index.html"),
    )
        .into_response()
}

async fn console_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("console/console.js"),
    )
        .into_response()
}

async fn console_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("console/console.css"),
    )
        .into_response()
}

async fn console_font() -> Response {
    ([(header::CONTENT_TYPE, "font/ttf")], holoid_text::FONT_REGULAR).into_response()
}

/// The policy of the reader worker and its modules: scripts from here only, and WebAssembly
/// compiled from them (`'wasm-unsafe-eval'`: the worker compiles the detector; nothing else).
const WORKER_POLICY: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

/// The console's reader worker: it measures camera frames with the WebAssembly detector where
/// the service serves one (`--console-wasm`), and says it cannot where not (the page then
/// sends photos).
async fn console_reader() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, WORKER_POLICY),
        ],
        include_str!("console/reader.js"),
    )
        .into_response()
}

/// One of the WebAssembly reader's files, or 404 when the service was started without them:
/// gzipped where the browser takes gzip, `304 Not Modified` where it already has this one
/// (`If-None-Match` naming its entity tag); browsers ask again each time (`no-cache`), so a
/// server started with new files serves them at once.
fn console_wasm_file(
    state: &AppState,
    request: &HeaderMap,
    content_type: &'static str,
    file: impl Fn(&crate::ConsoleWasm) -> &crate::StaticFile,
) -> Response {
    let Some(w) = &state.config().console_wasm else {
        return ApiError::not_found(
            "WebAssembly reader: this server was started without --console-wasm, so the console checks by photo",
        )
        .into_response();
    };
    let f = file(w);
    let cache = [
        (header::ETAG, f.etag.clone()),
        (header::CACHE_CONTROL, "no-cache".into()),
        (header::VARY, "Accept-Encoding".into()),
    ];
    // The comma-separated items of a request header's every line.
    let items = |name: header::HeaderName| -> Vec<String> {
        (request.get_all(name).iter())
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(|t| t.trim().to_string()))
            .collect()
    };
    // A weak tag names the same file (If-None-Match compares weakly).
    let cached = items(header::IF_NONE_MATCH)
        .iter()
        .any(|t| t == "*" || t.trim_start_matches("W/") == f.etag);
    // gzip (or *) named, and not with q=0.
    let gzip = items(header::ACCEPT_ENCODING).iter().any(|t| {
        let mut parts = t.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    });
    if cached {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let policy = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, WORKER_POLICY),
    ];
    if gzip {
        (
            policy,
            cache,
            [(header::CONTENT_ENCODING, "gzip")],
            Body::from(f.gzip.clone()),
        )
            .into_response()
    } else {
        (policy, cache, Body::from(f.bytes.clone())).into_response()
    }
}

async fn console_wasm_js(State(state): State<AppState>, request: HeaderMap) -> Response {
    console_wasm_file(&state, &request, "text/javascript; charset=utf-8", |w| &w.js)
}

async fn console_wasm_module(State(state): State<AppState>, request: HeaderMap) -> Response {
    console_wasm_file(&state, &request, "application/wasm", |w| &w.wasm)
}

/// Who the token belongs to (for the console's sign-in).
async fn whoami(p: Principal) -> Json<Me> {
    Json(Me {
        role: p.role.as_str().into(),
        office: p.office,
        name: p.name,
        view: p.view.kind().into(),
        age_over: p.view.age_over(),
    })
}

/// The parts of a check request.
struct CheckRequest {
    credential_id: Option<String>,
    images: Vec<Vec<u8>>,
    times: Vec<UnixMillis>,
}

async fn read_check_request(mut m: Multipart, max_images: usize) -> ApiResult<CheckRequest> {
    let bad = |m: String| ApiError::bad_request("bad_request", m);
    let mut req = CheckRequest {
        credential_id: None,
        images: Vec::new(),
        times: Vec::new(),
    };
    while let Some((name, data)) = next_part(&mut m).await? {
        match name.as_str() {
            "image" => {
                if req.images.len() == max_images {
                    return Err(bad(format!(
                        "more than {max_images} images: send a burst of at most {max_images}"
                    )));
                }
                req.images.push(data.to_vec());
            }
            "captured_at" => {
                let text = std::str::from_utf8(&data).map_err(|_| bad("`captured_at` is not text".into()))?;
                req.times.push(
                    text.trim()
                        .parse()
                        .map_err(|e| bad(format!("`captured_at` {text:?}: {e}")))?,
                );
            }
            "credential_id" => {
                let text = std::str::from_utf8(&data).unwrap_or("");
                req.credential_id = Some(checked_credential_id(text)?);
            }
            other => {
                return Err(bad(format!(
                    "unknown field `{other}`: send image, captured_at and credential_id"
                )));
            }
        }
    }
    if req.images.is_empty() {
        return Err(bad("no `image` field: send one photo or a burst".into()));
    }
    if req.times.len() != req.images.len() {
        return Err(bad(format!(
            "{} images but {} `captured_at` fields: send one capture time per image, in order",
            req.images.len(),
            req.times.len()
        )));
    }
    Ok(req)
}

/// The next field of a multipart body: its name and its bytes.
async fn next_part(m: &mut Multipart) -> ApiResult<Option<(String, axum::body::Bytes)>> {
    let Some(field) = m
        .next_field()
        .await
        .map_err(|e| multipart_error(e.status(), e.body_text()))?
    else {
        return Ok(None);
    };
    let name = field.name().unwrap_or_default().to_string();
    let data = field
        .bytes()
        .await
        .map_err(|e| multipart_error(e.status(), e.body_text()))?;
    Ok(Some((name, data)))
}

fn multipart_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "too_large",
            "the request is larger than the server accepts",
        )
    } else {
        ApiError::bad_request("bad_multipart", format!("cannot read the multipart body: {text}"))
    }
}

/// The detector for a credential record, built once per record and kept.
fn detector_for(state: &AppState, row: &CredentialRow) -> ApiResult<Arc<Detector>> {
    // The signed record names its portrait by hash (checked when the detector is made), so
    // the record alone keys the cache: hashing the portrait's bytes on every check cost more
    // than the rest of an evidence check's reads.
    let key = to_hex(&sha256(&[row.json.as_bytes()]));
    if let Some(d) = state
        .inner
        .detectors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
    {
        return Ok(d.clone());
    }
    let signed =
        SignedCredential::from_json(&row.json).map_err(|e| bad_record(format!("stored credential: {e}")))?;
    let c = &signed.credential;
    let trust = Trust::new(c, state.keys().master.device_key_for(c), &row.portrait)
        .map_err(|e| bad_record(format!("stored credential: {e}")))?;
    let detector = Arc::new(Detector::builder(trust).build().map_err(bad_record)?);
    let mut cache = state.inner.detectors.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(key, detector.clone());
    Ok(detector)
}

/// The multipart body, read only once the caller's role is known to allow the route.
fn multipart_body(m: Result<Multipart, MultipartRejection>) -> ApiResult<Multipart> {
    m.map_err(|e| ApiError::bad_request("bad_request", format!("send multipart/form-data: {e}")))
}

async fn create_check(
    State(state): State<AppState>,
    p: Principal,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    require_in_view(&p, &[Role::Officer], ALL_VIEWS)?;
    let outcome = run_check(&state, &p, m).await;
    audit_refusal(&state, &p, outcome).await
}

/// A refused check is audited like a finished one (its error code; no photo, no data).
/// Replays are audited where they are found; limits and a full server are not checks.
async fn audit_refusal(state: &AppState, p: &Principal, outcome: ApiResult<Response>) -> ApiResult<Response> {
    if let Err(e) = &outcome
        && e.status.is_client_error()
        && !matches!(e.code, "replayed_photo" | "too_many_checks")
    {
        state
            .store()
            .audit(event(p, "check_refused", e.code), &state.keys().copy_key)
            .await?;
    }
    outcome
}

/// The most bytes an evidence check's body may have: a burst of eight frames' evidence is
/// about 9 kB; the photo routes' limit (megabytes) would let a client make the server parse
/// megabytes of JSON for nothing.
const MAX_EVIDENCE_BYTES: usize = 64 << 10;

/// The body of `POST /v1/checks/evidence`: what the verifier's device measured of each frame
/// (the WebAssembly detector in the console), instead of the photos.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceRequest {
    /// Optional: otherwise found from the card's code (the evidence's payload).
    #[serde(default)]
    credential_id: Option<String>,
    /// One per frame, in the order taken.
    frames: Vec<FrameEvidence>,
}

async fn create_evidence_check(
    State(state): State<AppState>,
    p: Principal,
    body: Result<Json<EvidenceRequest>, JsonRejection>,
) -> ApiResult<Response> {
    require_in_view(&p, &[Role::Officer], ALL_VIEWS)?;
    let outcome = run_evidence_check(&state, &p, body).await;
    audit_refusal(&state, &p, outcome).await
}

/// The evidence route: the tag in constant time, the keyed sweep, the capture times against
/// this server's clock and the status, decided by the same rules as a photo check
/// ([`Detector::check_evidence`]). No photo reaches the server, so no card image is kept.
async fn run_evidence_check(
    state: &AppState,
    p: &Principal,
    body: Result<Json<EvidenceRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let Json(req) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "evidence is at most {} kB: send what the console measured",
                MAX_EVIDENCE_BYTES >> 10
            ),
        ),
        _ => ApiError::bad_request("bad_request", format!("send JSON evidence: {e}")),
    })?;
    let max = state.config().max_images;
    if req.frames.is_empty() || req.frames.len() > max {
        return Err(ApiError::bad_request(
            "bad_request",
            format!("send the evidence of 1 to {max} frames, in the order taken"),
        ));
    }
    if let Some((i, e)) = req
        .frames
        .iter()
        .enumerate()
        .find_map(|(i, f)| f.validate().err().map(|e| (i, e)))
    {
        return Err(ApiError::bad_request(
            "bad_evidence",
            format!("frame {}: {e}", i + 1),
        ));
    }
    let times: Vec<UnixMillis> = req.frames.iter().map(FrameEvidence::time).collect();
    check_capture_times(state, &times, "frame")?;
    let credential_id = req
        .credential_id
        .as_deref()
        .map(checked_credential_id)
        .transpose()?;
    // A frame's evidence is checked once, as a photo is: the same evidence again is a replay.
    let frames: Vec<String> = match state.config().refuse_replays {
        true => req
            .frames
            .iter()
            .map(|f| {
                let json = serde_json::to_vec(f).expect("evidence is plain data");
                to_hex(&sha256(&[b"holoid/v1/evidence", &json]))
            })
            .collect(),
        false => Vec::new(),
    };
    admit_frames(state, p, &frames, "frame").await?;
    let locator = || {
        req.frames
            .iter()
            .find_map(|f| f.code.as_ref().and_then(|c| c.payload().ok()))
            .map(|payload| payload.locator)
    };
    let row = credential_row(state, credential_id, locator).await?;
    let (detector, finding, earlier, seen) = card_for_check(state, &row).await?;
    let verdict = detector
        .check_evidence(&req.frames)
        .map(|v| with_enrolment(v, &finding, &earlier, |d| d.check_evidence(&req.frames)))
        .map_err(|e| match e {
            DetectError::Evidence { .. } => ApiError::bad_request("bad_evidence", e.to_string()),
            _ => ApiError::bad_request("bad_check", e.to_string()),
        })?;
    finish_check(state, p, &row, verdict, None, &frames, seen, started).await
}

/// Admits a check of `frames` (their hashes; empty when replays are allowed): the same one
/// twice in a burst (`what`: a photo or a frame) is refused, the token's rate is counted, and
/// one checked before is a replay (audited).
async fn admit_frames(state: &AppState, p: &Principal, frames: &[String], what: &str) -> ApiResult<()> {
    if frames.iter().enumerate().any(|(i, h)| frames[..i].contains(h)) {
        return Err(ApiError::bad_request(
            "duplicate_image",
            format!("the same {what} is in the burst twice: send the frames the camera took"),
        ));
    }
    state
        .check_throttles()
        .0
        .admit(&p.token_id, Instant::now())
        .map_err(|wait| too_many("checks from this token", wait))?;
    if let Some(earlier) = state.store().frame_seen(frames).await? {
        state
            .store()
            .audit(event(p, "check_replay", &earlier), &state.keys().copy_key)
            .await?;
        return Err(replayed(&earlier));
    }
    Ok(())
}

/// A check of `row`'s card admitted (the per-card rate counted): its detector, its
/// enrolment's status and earlier enrolments (see [`enrolment_status`]).
async fn card_for_check(
    state: &AppState,
    row: &CredentialRow,
) -> ApiResult<(Arc<Detector>, StatusFinding, Earlier, Option<CheckStatus>)> {
    state
        .check_throttles()
        .1
        .admit(&row.id, Instant::now())
        .map_err(|wait| too_many("checks of this card", wait))?;
    let detector = detector_for(state, row)?;
    let (finding, earlier, seen) = enrolment_status(state, row).await?;
    Ok((detector, finding, earlier, seen))
}

/// The credential id a client sent: 1 to 128 printable ASCII characters.
fn checked_credential_id(id: &str) -> ApiResult<String> {
    let id = id.trim();
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "bad_request",
            "`credential_id` must be 1 to 128 printable ASCII characters",
        ));
    }
    Ok(id.to_string())
}

/// Refuses capture times far from this server's clock (each within `max_capture_age`) or out
/// of order (`what`: an image or a frame).
fn check_capture_times(state: &AppState, times: &[UnixMillis], what: &str) -> ApiResult<()> {
    let (now, max_age) = (now_ms(), state.config().max_capture_age.as_millis() as i64);
    if let Some(t) = times.iter().find(|t| (t.0 as i64 - now).abs() > max_age) {
        return Err(ApiError::bad_request(
            "capture_time",
            format!(
                "captured_at {t} is {} s from the server's clock (at most {} s): send the camera's \
                 own capture times, and check the clocks",
                (t.0 as i64 - now).abs() / 1000,
                max_age / 1000
            ),
        ));
    }
    if let Some(i) = (1..times.len()).find(|&i| times[i] < times[i - 1]) {
        return Err(ApiError::bad_request(
            "bad_request",
            format!(
                "{what} {} was captured before {what} {}: send the frames in the order taken",
                i + 1,
                i
            ),
        ));
    }
    Ok(())
}

/// The credential checked: the one named, or the one whose locator the card's code carries
/// (`locator`, read only when none is named; `None`: the code could not be read).
async fn credential_row(
    state: &AppState,
    credential_id: Option<String>,
    locator: impl FnOnce() -> Option<Locator>,
) -> ApiResult<CredentialRow> {
    if let Some(id) = credential_id {
        return state
            .store()
            .credential(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("credential (register it with POST /v1/credentials)"));
    }
    let locator = locator().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_unreadable",
            "the card's code could not be read to find the credential: retake the photo, or send credential_id",
        )
    })?;
    let mut rows = state.store().credentials_by_locator(&to_hex(&locator.0)).await?;
    rows.retain(|r| Locator::of(&r.id) == locator);
    rows.pop()
        .ok_or_else(|| ApiError::not_found("credential for this card's code"))
}

/// The verdict with the enrolment's status: a tag that is not the current enrolment's may be
/// an earlier one's (the card was moved to another phone and this is the old one, or a copy
/// of its key), which `check` with an earlier enrolment's detector finds.
fn with_enrolment(
    v: Verdict,
    finding: &StatusFinding,
    earlier: &Earlier,
    check: impl Fn(&Detector) -> Result<Verdict, DetectError>,
) -> Verdict {
    let replaced = (*finding == StatusFinding::Valid)
        .then(|| Detector::earlier_enrolment_by(&v, earlier, check))
        .flatten()
        .map(|(epoch, ended_ms)| {
            StatusFinding::DeviceReplaced(format!(
                "this card was moved to another phone {}: the phone shown holds device \
                 enrolment {epoch}, which is no longer enrolled — do not accept",
                when(*ended_ms)
            ))
        });
    v.with_status(replaced.as_ref().unwrap_or(finding))
}

async fn run_check(
    state: &AppState,
    p: &Principal,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let m = multipart_body(m)?;
    let started = Instant::now();
    let req = read_check_request(m, state.config().max_images).await?;
    check_capture_times(state, &req.times, "image")?;
    // A photo is checked once: the same bytes again are a replay (within the retention period).
    let frames: Vec<String> = match state.config().refuse_replays {
        true => req
            .images
            .iter()
            .map(|b| to_hex(&sha256(&[b"holoid/v1/frame", b])))
            .collect(),
        false => Vec::new(),
    };
    admit_frames(state, p, &frames, "photo").await?;
    // The CPU-heavy part runs on the blocking pool, at most max_concurrent_checks at once.
    let permit = state.inner.checks.clone().try_acquire_owned().map_err(|_| {
        state.metrics().busy();
        ApiError::busy("all check slots are busy: try again in a second")
    })?;
    let max_pixels = state.config().max_pixels;
    let images = req.images;
    let photos = tokio::task::spawn_blocking(move || {
        images
            .iter()
            .enumerate()
            .map(|(i, b)| decode_photo(b, max_pixels).map_err(|e| (i, e)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "decoding failed"))?
    .map_err(|(i, e)| match e {
        holoid_detect::input::InputError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_pixels",
            format!("image {}: {e}", i + 1),
        ),
        _ => ApiError::bad_request("bad_image", format!("image {}: {e}", i + 1)),
    })?;
    let photos = Arc::new(photos);
    let locator = match &req.credential_id {
        Some(_) => None,
        None => {
            let ph = photos.clone();
            tokio::task::spawn_blocking(move || ph.iter().find_map(read_locator))
                .await
                .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "reading failed"))?
        }
    };
    let row = credential_row(state, req.credential_id, || locator).await?;
    let (detector, finding, earlier, seen) = card_for_check(state, &row).await?;
    let times = req.times;
    let (verdict, card) = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let captures: Vec<Capture<'_>> = photos
            .iter()
            .zip(&times)
            .map(|(image, &time)| Capture { image, time })
            .collect();
        let verdict = (detector.check(&captures))
            .map(|v| with_enrolment(v, &finding, &earlier, |d| d.check(&captures)));
        let card = match &verdict {
            Ok(v) if v.decision == Decision::Genuine => best_card(&photos, v),
            _ => None,
        };
        (verdict, card)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the check failed"))?;
    let verdict = verdict.map_err(|e| ApiError::bad_request("bad_check", e.to_string()))?;
    finish_check(state, p, &row, verdict, card, &frames, seen, started).await
}

/// Stores a judged check (its card image where one was kept; the frames' hashes against
/// replays; the audit entry), counts it, and answers it as the caller's view allows.
#[allow(clippy::too_many_arguments)]
async fn finish_check(
    state: &AppState,
    p: &Principal,
    row: &CredentialRow,
    verdict: Verdict,
    card: Option<Vec<u8>>,
    frames: &[String],
    seen: Option<CheckStatus>,
    started: Instant,
) -> ApiResult<Response> {
    let check_id = auth::new_id();
    let body = CheckResult {
        check_id: check_id.clone(),
        credential_status: seen,
        verdict: verdict.report(),
        holder: None,
        age_check: None,
        portrait_url: None,
    };
    let check = CheckRow {
        id: check_id.clone(),
        created_ms: now_ms(),
        office: p.office.clone(),
        actor: p.token_id.clone(),
        credential_id: verdict.credential_id.clone(),
        decision: verdict.decision.as_str().to_string(),
        verdict_json: serde_json::to_string(&body).expect("a check result is plain data"),
        card_png: card,
        holder_answer: None,
    };
    match state
        .store()
        .insert_check(
            &check,
            frames,
            event(p, "check", &check_id),
            &state.keys().copy_key,
        )
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(replayed("sent at the same time")),
        other => other?,
    }
    state
        .metrics()
        .check(verdict.decision.as_str(), started.elapsed().as_secs_f64());
    let body = in_view(p, body, Some(row), check.created_ms)?;
    let body = serde_json::to_value(&body).map_err(bad_record)?;
    Ok((StatusCode::OK, Json(check_view(p, body))).into_response())
}

/// 409 for photos checked before (`earlier`: the check that had them).
fn replayed(earlier: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "replayed_photo",
        format!("this photo was checked already (check {earlier}): a photo is checked once, take a new one"),
    )
}

/// 429 with the wait, for a rate limit on `what`.
fn too_many(what: &str, wait: std::time::Duration) -> ApiError {
    let secs = wait.as_secs().max(1);
    ApiError {
        retry_after: Some(secs),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_checks",
            format!("too many {what} this minute: try again in {secs} s"),
        )
    }
}

/// What a role sees of a check. Officers get the decision, the reasons in words, the window
/// and the status; the scores (overall, per frame and per signal) and the timings only
/// admins see, so the service is no oracle to tune a forgery against. `age` and `kiosk`
/// tokens see no credential id and no status record either.
fn check_view(p: &Principal, mut check: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = check.as_object_mut() {
        if p.role == Role::Officer {
            for hidden in ["score", "frames", "timings_us"] {
                fields.remove(hidden);
            }
        }
        if p.view != View::Identity {
            for hidden in ["credential_id", "credential_status"] {
                fields.remove(hidden);
            }
        }
    }
    check
}

/// Korea's offset from UTC (no daylight saving): an age is counted on the date in Korea.
const KOREA_UTC_OFFSET_MS: u64 = 9 * 3600 * 1000;

/// `check` as the principal's view shows it: for a genuine check, the registered record
/// (`identity`) or the age check (`age`), and the portrait's address; for `age` and `kiosk`
/// tokens, reasons that carry no record data (no credential id, no status reason an officer
/// typed). `record` is the credential the check was made against; `at_ms` when it was made
/// (the day an age is counted on).
fn in_view(
    p: &Principal,
    mut check: CheckResult,
    record: Option<&CredentialRow>,
    at_ms: i64,
) -> ApiResult<CheckResult> {
    if check.verdict.decision == Decision::Genuine
        && let Some(row) = record
    {
        let c = SignedCredential::from_json(&row.json)
            .map_err(|e| bad_record(format!("stored credential: {e}")))?
            .credential;
        let today = UnixMillis((at_ms.max(0) as u64).saturating_add(KOREA_UTC_OFFSET_MS)).date();
        let age = c.holder.birth_date.age_on(today);
        let portrait = Some(format!("/v1/checks/{}/portrait.png", check.check_id));
        match p.view {
            View::Identity => {
                check.holder = Some(HolderRecord {
                    name_hangul: c.holder.name_hangul,
                    name_latin: c.holder.name_latin,
                    birth_date: c.holder.birth_date.to_string(),
                    age,
                    resident_number_masked: c.holder.resident_number_masked,
                    address: c.holder.address,
                    document: c.document.as_str().into(),
                    expires: c.expires.to_string(),
                });
                check.portrait_url = portrait;
            }
            View::Age { over } => {
                let old_enough = age >= u16::from(over);
                check.age_check = Some(AgeCheck {
                    threshold: over,
                    old_enough,
                    label: match old_enough {
                        true => format!("{over}+"),
                        false => format!("under {over}"),
                    },
                });
                check.portrait_url = portrait;
            }
            View::Kiosk => {}
        }
    }
    if p.view != View::Identity {
        let id = check.verdict.credential_id.clone();
        for r in &mut check.verdict.reasons {
            if let Some(plain) = plain_reason(r.code) {
                r.message = plain.into();
            } else if !id.is_empty() {
                r.message = r.message.replace(&id, "the credential");
            }
        }
    }
    Ok(check)
}

/// The sentence an `age` or `kiosk` token reads for a finding whose words come from the
/// credential's record (when and why it was suspended, its enrolments, its validity dates).
fn plain_reason(code: ReasonCode) -> Option<&'static str> {
    Some(match code {
        ReasonCode::CredentialSuspended => {
            "the card is suspended (its phone was reported lost): do not accept"
        }
        ReasonCode::CredentialRevoked => "the card was revoked: do not accept",
        ReasonCode::DeviceReplaced => "the card was moved to another phone: do not accept this one",
        ReasonCode::OtherCredential => "the code belongs to another credential: a forgery",
        ReasonCode::CredentialNotValid => {
            "the card is not valid today (expired, or not yet valid): do not accept"
        }
        _ => return None,
    })
}

/// The card from the frame with the best score, straightened, as PNG.
fn best_card(photos: &[image::RgbImage], v: &holoid_detect::Verdict) -> Option<Vec<u8>> {
    let best = (0..photos.len()).max_by(|&a, &b| {
        let s = |i: usize| v.frames.get(i).map_or(0.0, |f| f.score);
        s(a).total_cmp(&s(b))
    })?;
    let card = rectify(&photos[best], COPY_SIZE.0, COPY_SIZE.1).ok()?;
    png(&card).ok()
}

/// `img` as PNG, encoded for speed (one fixed filter, fast deflate): the card of every
/// genuine check is encoded on the check's path, where the default adaptive filters and
/// compression cost more than the detector itself.
fn png(img: &image::RgbImage) -> Result<Vec<u8>, image::ImageError> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Paeth).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

async fn get_check(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let check = visible_check(&state, &p, &id, FACE_VIEWS).await?;
    read_audited(&state, &p, "check_read", &id).await?;
    let result: CheckResult = serde_json::from_str(&check.verdict_json).map_err(bad_record)?;
    // The registered record (portrait file included) is read only when the answer shows it.
    let record = match check.decision == "genuine" && p.view != View::Kiosk {
        true => state.store().credential(&check.credential_id).await?,
        false => None,
    };
    let result = in_view(&p, result, record.as_ref(), check.created_ms)?;
    let holder_answer = check.holder_answer.map(|a| HolderAnswerJson {
        check_id: id.clone(),
        matches: a.matches,
        answered_at: rfc3339(a.at_ms),
    });
    let stored = StoredCheck {
        result,
        office: check.office,
        created_at: rfc3339(check.created_ms),
        card_image_kept: check.card_png.is_some(),
        holder_answer,
    };
    Ok(Json(check_view(
        &p,
        serde_json::to_value(&stored).map_err(bad_record)?,
    )))
}

/// "at 14:02 UTC on 27 Nov 2026".
fn when(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = UnixMillis(ms.max(0) as u64);
    let d = t.date();
    let minutes = t.millis_of_day() / 60_000;
    format!(
        "at {:02}:{:02} UTC on {} {} {}",
        minutes / 60,
        minutes % 60,
        d.day(),
        MONTHS[usize::from(d.month().clamp(1, 12)) - 1],
        d.year()
    )
}

/// What the service's records say of the enrolment `row` (the credential's current
/// document) holds, read from the database on every check so a suspension made through any
/// server counts at once; and detectors for the credential's earlier enrolments, newest
/// first, with when each ended.
/// Detectors of a credential's earlier enrolments, newest first, with (epoch, when it ended).
type Earlier = Vec<((i64, i64), Arc<Detector>)>;

async fn enrolment_status(
    state: &AppState,
    row: &CredentialRow,
) -> ApiResult<(StatusFinding, Earlier, Option<CheckStatus>)> {
    let signed =
        SignedCredential::from_json(&row.json).map_err(|e| bad_record(format!("stored credential: {e}")))?;
    let epoch = i64::from(signed.credential.device_epoch);
    let enrolments = state.store().enrolments(&row.id).await?;
    let Some(current) = enrolments.iter().find(|e| e.epoch == epoch) else {
        return Ok((
            StatusFinding::Unknown(
                "the service holds no status for this enrolment: register the credential again".into(),
            ),
            Vec::new(),
            None,
        ));
    };
    let seen = CheckStatus {
        status: current.status.clone(),
        device_epoch: current.epoch,
        changed_at: rfc3339(current.changed_ms),
    };
    let since = when(current.changed_ms);
    let finding = match current.status.as_str() {
        "valid" => StatusFinding::Valid,
        "suspended" => StatusFinding::Suspended(format!(
            "reported lost {since} ({}): do not accept",
            current.reason
        )),
        "revoked" => StatusFinding::Revoked(format!("revoked {since} ({}): do not accept", current.reason)),
        _ => StatusFinding::DeviceReplaced(format!(
            "this enrolment ended {since} ({}): do not accept",
            current.reason
        )),
    };
    let mut earlier = Vec::new();
    for old in enrolments.iter().filter(|e| e.epoch < epoch) {
        let old_row = CredentialRow {
            id: row.id.clone(),
            json: old.credential_json.clone(),
            portrait: row.portrait.clone(),
        };
        earlier.push(((old.epoch, old.changed_ms), detector_for(state, &old_row)?));
    }
    Ok((finding, earlier, Some(seen)))
}

/// A stored row the service cannot read back (written by another version, or edited).
fn bad_record(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "bad_record", e.to_string())
}

/// `found`, if there is one and the principal's office may see it (officers: their own
/// office's; admins: any). The caller has checked the role first, so a wrong role learns
/// nothing, not even whether the record exists.
fn of_my_office<T>(p: &Principal, found: Option<T>, what: &str, office: impl Fn(&T) -> &str) -> ApiResult<T> {
    let item = found.ok_or_else(|| ApiError::not_found(what))?;
    if p.role == Role::Officer && office(&item) != p.office {
        return Err(ApiError::forbidden());
    }
    Ok(item)
}

/// A check the principal may see.
/// Records a read of personal data (a check, its card image, an office's copies) before it is
/// answered: no audit entry, no answer.
async fn read_audited(state: &AppState, p: &Principal, action: &str, subject: &str) -> ApiResult<()> {
    state
        .store()
        .audit(event(p, action, subject), &state.keys().copy_key)
        .await?;
    Ok(())
}

async fn visible_check(state: &AppState, p: &Principal, id: &str, views: &[&str]) -> ApiResult<CheckRow> {
    require_in_view(p, &[Role::Officer, Role::Admin], views)?;
    of_my_office(p, state.store().check(id).await?, "check", |c| &c.office)
}

/// The registered portrait of a genuine check's holder (the service's record, not the
/// photo), for the officer to compare with the face in front of them; served while a copy
/// may be made of the check (`copy_window`).
async fn get_check_portrait(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let check = visible_check(&state, &p, &id, FACE_VIEWS).await?;
    // As long as a copy may be made (a photo check's card image is kept that long; an
    // evidence check never had one).
    let shown_until = check.created_ms + state.config().copy_window.as_millis() as i64;
    if check.decision != "genuine" || now_ms() > shown_until {
        return Err(ApiError::not_found(
            "portrait (shown only for a genuine check, for 15 minutes)",
        ));
    }
    let record = state
        .store()
        .credential(&check.credential_id)
        .await?
        .ok_or_else(|| ApiError::not_found("credential of this check"))?;
    read_audited(&state, &p, "check_portrait_read", &id).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], Body::from(record.portrait)).into_response())
}

/// `POST /v1/checks/{id}/holder`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderAnswerRequest {
    matches: bool,
}

/// The officer's answer to "does the person in front of me match the registered portrait"
/// for a genuine check of their office, recorded with the check and audited
/// (`holder_matches` / `holder_mismatch`). The first answer stands.
async fn answer_holder(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: Result<Json<HolderAnswerRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    // The role first: a token that may not answer learns nothing from its body's errors.
    require_in_view(&p, &[Role::Officer], FACE_VIEWS)?;
    let Ok(Json(answer)) = body else {
        return Err(ApiError::bad_request(
            "bad_request",
            "send JSON {\"matches\": true} or {\"matches\": false} with Content-Type: application/json",
        ));
    };
    let check = visible_check(&state, &p, &id, FACE_VIEWS).await?;
    if check.decision != "genuine" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_genuine",
            format!(
                "the check was {}: only a genuine card's holder is compared",
                check.decision
            ),
        ));
    }
    let row = HolderAnswer {
        matches: answer.matches,
        at_ms: now_ms(),
        by: p.token_id.clone(),
    };
    let action = match answer.matches {
        true => "holder_matches",
        false => "holder_mismatch",
    };
    let stored = state
        .store()
        .answer_holder(&id, &row, event(&p, action, &id), &state.keys().copy_key)
        .await?;
    if !stored {
        // Answered between the read above and this write: read it again to say how.
        let first = state.store().check(&id).await?.and_then(|c| c.holder_answer);
        let said = first.map_or("answered", |a| match a.matches {
            true => "answered: the person matches",
            false => "answered: the person does not match",
        });
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_answered",
            format!("this check was {said}; the first answer stands"),
        ));
    }
    let body = HolderAnswerJson {
        check_id: id,
        matches: row.matches,
        answered_at: rfc3339(row.at_ms),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The straightened card of a genuine check, while it is kept (for the console).
async fn get_check_card(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let check = visible_check(&state, &p, &id, &["identity"]).await?;
    if check.card_png.is_some() {
        read_audited(&state, &p, "check_card_read", &id).await?;
    }
    let png = check
        .card_png
        .ok_or_else(|| ApiError::not_found("card image (kept only for a genuine check, for 15 minutes)"))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], Body::from(png)).into_response())
}

async fn register_credential(
    State(state): State<AppState>,
    p: Principal,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    require(&p, &[Role::Admin])?;
    let mut m = multipart_body(m)?;
    let (mut json, mut portrait) = (None, None);
    while let Some((name, data)) = next_part(&mut m).await? {
        match name.as_str() {
            "credential" => json = Some(data.to_vec()),
            "portrait" => portrait = Some(data.to_vec()),
            other => {
                return Err(ApiError::bad_request(
                    "bad_request",
                    format!("unknown field `{other}`: send credential and portrait"),
                ));
            }
        }
    }
    let (Some(json), Some(portrait)) = (json, portrait) else {
        return Err(ApiError::bad_request(
            "bad_request",
            "send two fields: credential (the credential file) and portrait (its PNG)",
        ));
    };
    let text = String::from_utf8(json)
        .map_err(|_| ApiError::bad_request("bad_credential", "the credential is not UTF-8 text"))?;
    let signed = SignedCredential::from_json(&text)
        .map_err(|e| ApiError::bad_request("bad_credential", e.to_string()))?;
    let c = signed
        .verify(&state.keys().issuer)
        .map_err(|e| ApiError::bad_request("bad_signature", e.to_string()))?;
    c.portrait
        .check(&portrait)
        .map_err(|e| ApiError::bad_request("bad_portrait", e.to_string()))?;
    let row = CredentialRow {
        id: c.id.clone(),
        json: text,
        portrait,
    };
    let locator = to_hex(&Locator::of(&c.id).0);
    state
        .store()
        .register_credential(
            &row,
            (i64::from(c.device_epoch), c.status),
            &locator,
            event(&p, "credential_register", &c.id),
            &state.keys().copy_key,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CredentialCreated {
            credential_id: c.id.clone(),
        }),
    )
        .into_response())
}

/// `POST /v1/copies` body.
#[derive(Deserialize)]
struct NewCopy {
    check_id: String,
    purpose: String,
    /// For a check made from the console's evidence (no photo on the server): the card the
    /// console straightened from the frame it measured, PNG as base64.
    #[serde(default)]
    card_png: Option<String>,
}

/// The largest straightened card the console may send for a copy (a 540 × 1170 PNG is
/// about 1 MB at worst).
const MAX_CARD_PNG: usize = 4 << 20;

/// The straightened card the console sent for a copy of a check it measured itself: a PNG of
/// [`COPY_SIZE`] that shows the checked credential's portrait and lettering (422
/// `card_image_mismatch` where it does not: a copy must show the card that was checked).
async fn console_card(state: &AppState, check: &CheckRow, base64_png: &str) -> ApiResult<image::RgbImage> {
    use base64::Engine as _;
    let bad = |why: String| ApiError::bad_request("bad_card_image", format!("card_png: {why}"));
    if base64_png.len() > MAX_CARD_PNG / 3 * 4 + 4 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("card_png is larger than {} MiB", MAX_CARD_PNG >> 20),
        ));
    }
    let png = base64::engine::general_purpose::STANDARD
        .decode(base64_png.trim())
        .map_err(|e| bad(format!("not base64 ({e})")))?;
    let reader = image::ImageReader::with_format(std::io::Cursor::new(&png), image::ImageFormat::Png);
    let size = reader
        .into_dimensions()
        .map_err(|e| bad(format!("not a PNG ({e})")))?;
    if size != COPY_SIZE {
        return Err(bad(format!(
            "a {}x{} image; the straightened card is {}x{}",
            size.0, size.1, COPY_SIZE.0, COPY_SIZE.1
        )));
    }
    let card = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .map_err(|e| bad(format!("not a PNG ({e})")))?
        .to_rgb8();
    let row = (state.store().credential(&check.credential_id).await?)
        .ok_or_else(|| ApiError::not_found("credential of this check"))?;
    let detector = detector_for(state, &row)?;
    tokio::task::spawn_blocking(move || detector.card_image_matches(&card).map(|()| card))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "comparing the card image failed",
            )
        })?
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "card_image_mismatch",
                format!("{e}: a copy must show the card that was checked; check the card again"),
            )
        })
}

fn copy_json(state: &AppState, c: &CopyRow) -> ApiResult<Copy> {
    let record: CopyRecordJson = serde_json::from_str(&c.record_json).map_err(bad_record)?;
    let ring = state.keys().copy_ring();
    let signer = from_hex::<64>(&c.signature)
        .ok()
        .and_then(|s| copy::signing_key(&c.record_json, &s, &ring));
    Ok(Copy {
        id: c.id.clone(),
        record,
        record_json: c.record_json.clone(),
        signature: c.signature.clone(),
        signature_valid: signer.is_some(),
        public_key: to_hex(&signer.unwrap_or(&ring[0]).to_bytes()),
        image_url: format!("/v1/copies/{}/image.png", c.id),
        expires_at: rfc3339(c.expires_ms),
    })
}

async fn create_copy(
    State(state): State<AppState>,
    p: Principal,
    body: Option<Json<NewCopy>>,
) -> ApiResult<Response> {
    require(&p, &[Role::Officer])?;
    let Some(Json(new)) = body else {
        return Err(ApiError::bad_request(
            "bad_request",
            "send JSON {\"check_id\": \"…\", \"purpose\": \"…\"} with Content-Type: application/json",
        ));
    };
    let purpose = new.purpose.trim().to_string();
    if purpose.is_empty() || purpose.chars().count() > 200 || purpose.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "bad_purpose",
            "state the purpose in 1 to 200 characters, on one line, without control characters",
        ));
    }
    let check = of_my_office(&p, state.store().check(&new.check_id).await?, "check", |c| {
        &c.office
    })?;
    if check.decision != "genuine" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_genuine",
            format!(
                "the check was {}: only a genuine card can be copied",
                check.decision
            ),
        ));
    }
    let purpose_key = copy::purpose_key(&purpose);
    if let Some(first) = state.store().copy_for(&check.id, &purpose_key).await? {
        return first_copy(&state, &p, first).await;
    }
    let now = now_ms();
    let window = state.config().copy_window.as_millis() as i64;
    if now - check.created_ms > window {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "check_too_old",
            format!(
                "copies are made within {} minutes of the check: check the card again",
                window / 60_000
            ),
        ));
    }
    let card = match (&check.card_png, &new.card_png) {
        (Some(png), None) => image::load_from_memory(png).map_err(bad_record)?.to_rgb8(),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_card_image",
                "this check was made from photos and the server straightened its card itself: send no card_png",
            ));
        }
        (None, Some(png)) => console_card(&state, &check, png).await?,
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_card_image",
                "this check was made from the console's evidence, without a photo, so the \
                 server has no card image to copy: send the card the console straightened \
                 (card_png), or check the card's photos (POST /v1/checks)",
            ));
        }
    };
    let copy_id = auth::new_id();
    let retention = state.config().retention.as_millis() as i64;
    let mut record = CopyRecord {
        copy_id: copy_id.clone(),
        check_id: check.id.clone(),
        credential_id: check.credential_id.clone(),
        office: p.office.clone(),
        officer: p.name.clone(),
        purpose,
        created: UnixMillis(now as u64),
        expires: UnixMillis((now + retention) as u64),
        image_sha256: String::new(),
        key_id: state.keys().copy_key.public().key_id(),
    };
    let image_png = {
        let r = record.clone();
        tokio::task::spawn_blocking(move || png(&copy::copy_image(&card, &r)))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "drawing the copy failed",
                )
            })?
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    };
    record.image_sha256 = copy::sha256_hex(&image_png);
    let record_json = record.to_json();
    let signature = to_hex(&copy::sign_record(&record_json, &state.keys().copy_key));
    let row = CopyRow {
        id: copy_id.clone(),
        check_id: check.id,
        office: p.office.clone(),
        created_ms: now,
        expires_ms: now + retention,
        record_json,
        signature,
    };
    let made = state
        .store()
        .insert_copy(
            &row,
            &purpose_key,
            &image_png,
            event(&p, "copy_create", &copy_id),
            &state.keys().copy_key,
        )
        .await?;
    if !made {
        // Another request made this check's copy for this purpose meanwhile.
        let first = state.store().copy_for(&row.check_id, &purpose_key).await?;
        let first = first.ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the copy for this check and purpose vanished",
            )
        })?;
        return first_copy(&state, &p, first).await;
    }
    state.metrics().copy_created();
    Ok((StatusCode::CREATED, Json(copy_json(&state, &row)?)).into_response())
}

/// The copy already made of a check for a purpose, answered (200, not 201) in place of a
/// second one; a read of it, so audited.
async fn first_copy(state: &AppState, p: &Principal, first: CopyRow) -> ApiResult<Response> {
    read_audited(state, p, "copy_read", &first.id).await?;
    Ok((StatusCode::OK, Json(copy_json(state, &first)?)).into_response())
}

/// The query parameter `key` as a whole number in `range`; `default` when absent.
fn query_number(
    q: &HashMap<String, String>,
    key: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> ApiResult<i64> {
    let Some(v) = q.get(key) else {
        return Ok(default);
    };
    match v.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            "bad_request",
            format!(
                "`{key}` must be a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// A copy the principal may see.
async fn visible_copy(state: &AppState, p: &Principal, id: &str) -> ApiResult<CopyRow> {
    require(p, &[Role::Officer, Role::Admin])?;
    of_my_office(p, state.store().copy(id).await?, "copy", |c| &c.office)
}

async fn get_copy(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Copy>> {
    let c = visible_copy(&state, &p, &id).await?;
    state
        .store()
        .audit(event(&p, "copy_read", &id), &state.keys().copy_key)
        .await?;
    Ok(Json(copy_json(&state, &c)?))
}

async fn get_copy_image(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    visible_copy(&state, &p, &id).await?;
    let png = state
        .store()
        .copy_image(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("copy"))?;
    state
        .store()
        .audit(event(&p, "copy_read", &id), &state.keys().copy_key)
        .await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], Body::from(png)).into_response())
}

async fn delete_copy(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    visible_copy(&state, &p, &id).await?;
    if state
        .store()
        .delete_copy(&id, event(&p, "copy_delete", &id), &state.keys().copy_key)
        .await?
    {
        if let Err(e) = state.store().scrub().await {
            eprintln!("holoid serve: the deleted copy {id} may linger in the write-ahead log: {e}");
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("copy"))
    }
}

async fn list_copies(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<CopyList>> {
    require(&p, &[Role::Officer, Role::Admin])?;
    let office = match (p.role, q.get("office")) {
        (Role::Officer, Some(o)) if *o != p.office => return Err(ApiError::forbidden()),
        (Role::Officer, _) => p.office.clone(),
        (_, Some(o)) => o.clone(),
        (_, None) => {
            return Err(ApiError::bad_request("bad_request", "name the office: ?office=…"));
        }
    };
    let limit = query_number(&q, "limit", 20, 1..=100)?;
    let before = query_number(&q, "before", i64::MAX, 0..=i64::MAX)?;
    read_audited(&state, &p, "copy_list", &office).await?;
    let rows = state.store().list_copies(&office, before, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|c| c.created_ms))
        .flatten();
    let copies = rows
        .iter()
        .map(|c| copy_json(&state, c))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(CopyList {
        office,
        copies,
        next_before: next,
    }))
}

/// `GET /v1/audit/head`: the latest signed tree head (no personal data: a size, hashes, a
/// time); witnesses keep them to catch a rollback later.
async fn audit_head(State(state): State<AppState>, p: Principal) -> ApiResult<Json<TreeHead>> {
    require(&p, &[Role::Auditor, Role::Admin])?;
    let head = state
        .store()
        .observe_audit_head(&state.keys().copy_key.public())
        .await?;
    head.map(Json)
        .ok_or_else(|| ApiError::not_found("audit head: nothing was audited yet"))
}

/// `GET /v1/audit/consistency?from=N`: the latest head and the RFC 6962 proof that the log of
/// `N` entries a witness saved is its prefix.
async fn audit_consistency(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<AuditConsistency>> {
    require(&p, &[Role::Auditor, Role::Admin])?;
    let Some(from) = q
        .get("from")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n >= 1)
    else {
        return Err(ApiError::bad_request(
            "bad_request",
            "give from=N, the size of a head saved earlier (1 or more)",
        ));
    };
    let store = state.store();
    let head = store
        .observe_audit_head(&state.keys().copy_key.public())
        .await?
        .ok_or_else(|| ApiError::not_found("audit head: nothing was audited yet"))?;
    if from > head.size {
        return Err(ApiError::bad_request(
            "bad_request",
            format!("the log has {} entries: from={from} is beyond it", head.size),
        ));
    }
    let hashes: Vec<[u8; 32]> = store
        .first_audit_entries(head.size)
        .await?
        .iter()
        .map(|e| e.hash)
        .collect();
    let proof = audit::consistency_proof(&hashes, from as u64)
        .filter(|_| hashes.len() as i64 == head.size)
        .ok_or_else(|| {
            store.refuse(format!(
                "the log holds fewer entries than its head ({})",
                head.size
            ))
        })?;
    Ok(Json(AuditConsistency {
        from,
        proof: proof.iter().map(|h| to_hex(h)).collect(),
        head,
    }))
}

async fn audit_log(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<AuditPage>> {
    require(&p, &[Role::Auditor])?;
    let after = query_number(&q, "after", 0, 0..=i64::MAX)?;
    let limit = query_number(&q, "limit", 100, 1..=1000)?;
    let all = state.store().all_audit_entries().await?;
    let head = state
        .store()
        .observe_audit_head(&state.keys().copy_key.public())
        .await?;
    let seen: Vec<_> = state.store().known_head().into_iter().collect();
    let verification = audit::verify(&all, head.as_ref(), &state.keys().copy_ring(), &seen);
    let entries = all
        .iter()
        .filter(|e| e.seq > after)
        .take(limit as usize)
        .map(|e| AuditEntryJson {
            seq: e.seq,
            at: rfc3339(e.event.at_ms),
            actor: e.event.actor.clone(),
            office: e.event.office.clone(),
            action: e.event.action.clone(),
            subject: e.event.subject.clone(),
            hash: to_hex(&e.hash),
        })
        .collect();
    let verification = match verification {
        Ok(n) => AuditVerification {
            ok: true,
            entries: Some(n),
            problem: None,
        },
        Err(e) => AuditVerification {
            ok: false,
            entries: None,
            problem: Some(e.to_string()),
        },
    };
    Ok(Json(AuditPage {
        entries,
        verification,
    }))
}

/// `POST /v1/credentials/{id}/suspend|resume|revoke` body.
#[derive(Deserialize)]
struct StatusBody {
    reason: String,
}

async fn change_status(
    state: &AppState,
    p: &Principal,
    id: &str,
    change: StatusChange,
    body: Option<Json<StatusBody>>,
) -> ApiResult<Json<CredentialStatus>> {
    let roles: &[Role] = match change {
        StatusChange::Revoke => &[Role::Admin],
        _ => &[Role::Officer, Role::Admin],
    };
    require(p, roles)?;
    let Some(Json(body)) = body else {
        return Err(ApiError::bad_request(
            "bad_request",
            "send JSON {\"reason\": \"…\"} with Content-Type: application/json",
        ));
    };
    let reason = body.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 200 || reason.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "bad_reason",
            "state the reason in 1 to 200 characters, on one line, without control characters",
        ));
    }
    state
        .store()
        .change_status(
            id,
            change,
            &reason,
            event(p, change.action(), id),
            &state.keys().copy_key,
        )
        .await?
        .ok_or_else(|| ApiError::not_found("credential"))?;
    credential_status(state, id).await.map(Json)
}

async fn suspend_credential(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: Option<Json<StatusBody>>,
) -> ApiResult<Json<CredentialStatus>> {
    change_status(&state, &p, &id, StatusChange::Suspend, body).await
}

async fn resume_credential(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: Option<Json<StatusBody>>,
) -> ApiResult<Json<CredentialStatus>> {
    change_status(&state, &p, &id, StatusChange::Resume, body).await
}

async fn revoke_credential(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: Option<Json<StatusBody>>,
) -> ApiResult<Json<CredentialStatus>> {
    change_status(&state, &p, &id, StatusChange::Revoke, body).await
}

/// A credential's current enrolment, its status and their history.
async fn credential_status(state: &AppState, id: &str) -> ApiResult<CredentialStatus> {
    let enrolments = state.store().enrolments(id).await?;
    let current = enrolments
        .first()
        .ok_or_else(|| ApiError::not_found("credential"))?;
    let history = state
        .store()
        .status_events(id)
        .await?
        .into_iter()
        .map(|e| StatusEvent {
            epoch: e.epoch,
            status: e.status,
            reason: e.reason,
            at: rfc3339(e.at_ms),
            actor: e.actor,
            office: e.office,
        })
        .collect();
    Ok(CredentialStatus {
        credential_id: id.to_string(),
        device_epoch: current.epoch,
        status: current.status.clone(),
        reason: current.reason.clone(),
        changed_at: rfc3339(current.changed_ms),
        status_list: current.status_list,
        status_index: current.status_index,
        history,
    })
}

/// A stored time (Unix ms) as RFC 3339.
fn rfc3339(ms: i64) -> String {
    UnixMillis(ms.max(0) as u64).to_rfc3339()
}

async fn get_credential_status(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<CredentialStatus>> {
    require(&p, &[Role::Officer, Role::Admin])?;
    let status = credential_status(&state, &id).await?;
    state
        .store()
        .audit(event(&p, "credential_status_read", &id), &state.keys().copy_key)
        .await?;
    Ok(Json(status))
}

/// `GET /v1/records/{locator}`: the record the console's WebAssembly detector measures a
/// card's frames against, for the credential whose code carries `locator` (the code's 16 hex
/// digits, read by the detector from the first frame). Every view gets it: the lettering is
/// what an age check reads the birth date by (an edited birth year is the attack it must
/// catch), and the phone's screen shows it to the verifier anyway; the portrait comes as the
/// detector's colour grid, never the file. The read is audited (`record_read`).
async fn get_record(
    State(state): State<AppState>,
    p: Principal,
    Path(locator): Path<String>,
) -> ApiResult<Json<RecordJson>> {
    require_in_view(&p, &[Role::Officer], ALL_VIEWS)?;
    let locator: [u8; 8] = from_hex(locator.trim())
        .map_err(|_| ApiError::not_found("record (the locator is the card's code's 16 hex digits)"))?;
    let row = credential_row(&state, None, || Some(Locator(locator))).await?;
    let cells = detector_for(&state, &row)?
        .record()
        .portrait
        .map(|r| to_hex(&r.to_bytes()))
        .ok_or_else(|| bad_record("a trusted credential without portrait cells"))?;
    state
        .store()
        .audit(event(&p, "record_read", &row.id), &state.keys().copy_key)
        .await?;
    Ok(Json(RecordJson {
        credential: row.json,
        portrait_cells: cells,
    }))
}

/// `GET /v1/status-lists/{n}`: the signed status list, for verifiers offline (no token: it
/// holds no personal data, and its indices were drawn at random).
async fn get_status_list(State(state): State<AppState>, Path(n): Path<String>) -> ApiResult<Response> {
    if state.keys().issuer_secret.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_status_lists",
            "this service does not publish status lists: it runs without the issuer's key (--issuer-key)",
        ));
    }
    let list: u32 = n
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::not_found("status list"))?;
    let version = state.store().status_version().await?;
    let now_s = (now_ms() / 1000) as u64;
    if let Some(token) = state.cached_status_list(list, version, now_s) {
        return Ok(status_list_response(token));
    }
    let entries = state.store().status_entries(i64::from(list)).await?;
    if entries.is_empty() {
        return Err(ApiError::not_found("status list"));
    }
    let signer = state.clone();
    let token = tokio::task::spawn_blocking(move || {
        let issuer = signer.keys().issuer_secret.as_ref().expect("checked above");
        let mut l = StatusList::new(status::LIST_LEN as usize);
        for (index, s) in entries {
            let value = match s.as_str() {
                "valid" => Status::Valid,
                "suspended" => Status::Suspended,
                _ => Status::Invalid,
            };
            l.set(index as usize, value);
        }
        status::sign(
            &l,
            &status::subject(list),
            now_s,
            STATUS_LIST_TTL_S,
            now_s + STATUS_LIST_LIFE_S,
            issuer,
        )
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "signing the list failed",
        )
    })?;
    state.cache_status_list(list, version, now_s, token.clone());
    Ok(status_list_response(token))
}

/// How long a verifier may keep a status list before fetching it again, seconds.
pub const STATUS_LIST_TTL_S: u64 = 300;
/// How long a status list says anything at all (`exp - iat`), seconds: a verifier offline
/// for longer gets "status unknown".
pub const STATUS_LIST_LIFE_S: u64 = 24 * 3600;

fn status_list_response(token: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/statuslist+jwt"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        token,
    )
        .into_response()
}

/// The issuer's signing key, or the answer that this service does not issue.
fn issuer_key(state: &AppState) -> ApiResult<&holoid_core::keys::IssuerSecret> {
    state.keys().issuer_secret.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_issuing",
            "this service does not issue credentials: it runs without the issuer's key (--issuer-key)",
        )
    })
}

/// `n` fresh random bytes from the operating system.
fn random<const N: usize>() -> ApiResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the system's random numbers are not available",
        )
    })?;
    Ok(b)
}

/// An offer as the officer sees it; the text and QR code only while it can be used.
fn offer_json(state: &AppState, o: &OfferRow) -> ApiResult<EnrolmentOffer> {
    let now = now_ms();
    let state_name = match (o.used_ms, now < o.expires_ms) {
        (Some(_), _) => "enrolled",
        (None, true) => "pending",
        (None, false) => "expired",
    };
    let pending = state_name == "pending";
    let text = if pending {
        let id = from_hex::<16>(&o.id).map_err(|_| bad_record(format!("stored offer id `{}`", o.id)))?;
        Some(Offer::issued(&state.keys().master, id).to_text())
    } else {
        None
    };
    Ok(EnrolmentOffer {
        offer_id: o.id.clone(),
        credential_id: o.credential_id.clone(),
        state: state_name.to_string(),
        offer: text,
        qr_url: pending.then(|| format!("/v1/offers/{}/qr.png", o.id)),
        created_at: rfc3339(o.created_ms),
        expires_at: rfc3339(o.expires_ms),
        expires_in_s: ((o.expires_ms - now).max(0) + 999) / 1000,
        device_epoch: o.epoch,
        enrolled_at: o.used_ms.map(rfc3339),
    })
}

/// `POST /v1/credentials/{id}/offers`: a one-time offer to enrol the credential on a phone,
/// usable for [`enrol::OFFER_LIFE_S`] seconds.
async fn create_offer(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require(&p, &[Role::Officer, Role::Admin])?;
    issuer_key(&state)?;
    let current = state.store().enrolments(&id).await?;
    let newest = current.first().ok_or_else(|| ApiError::not_found("credential"))?;
    if newest.status == "revoked" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("credential {id} is revoked: it cannot be enrolled again"),
        ));
    }
    let offer_id = to_hex(&random::<16>()?);
    let created_ms = now_ms();
    let row = OfferRow {
        id: offer_id.clone(),
        credential_id: id.clone(),
        created_ms,
        expires_ms: created_ms + enrol::OFFER_LIFE_S as i64 * 1000,
        actor: p.token_id.clone(),
        office: p.office.clone(),
        used_ms: None,
        epoch: None,
    };
    state
        .store()
        .insert_offer(
            &row,
            event(&p, "offer_create", &format!("{id} offer {offer_id}")),
            &state.keys().copy_key,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(offer_json(&state, &row)?)).into_response())
}

/// An offer the principal may see (officers: their office's).
async fn visible_offer(state: &AppState, p: &Principal, id: &str) -> ApiResult<OfferRow> {
    require(p, &[Role::Officer, Role::Admin])?;
    let found = if from_hex::<16>(id).is_ok() {
        state.store().offer(id).await?
    } else {
        None
    };
    of_my_office(p, found, "offer", |o| &o.office)
}

/// `GET /v1/offers/{id}`: whether the phone has taken it (the console's issuance desk asks).
async fn get_offer(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<EnrolmentOffer>> {
    let o = visible_offer(&state, &p, &id).await?;
    Ok(Json(offer_json(&state, &o)?))
}

/// `GET /v1/offers/{id}/qr.png`: the QR code the phone scans, while the offer can be used.
async fn get_offer_qr(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let o = visible_offer(&state, &p, &id).await?;
    let Some(text) = offer_json(&state, &o)?.offer else {
        return Err(ApiError::new(
            StatusCode::GONE,
            "offer_closed",
            "this offer was used or has expired: make a new one",
        ));
    };
    let png = qr_png(&text).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("drawing the QR code failed: {e}"),
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

/// Pixels per QR module in the PNG.
const QR_MODULE_PX: u32 = 8;
/// The quiet zone around a QR code, modules (ISO/IEC 18004 asks for 4).
const QR_QUIET_MODULES: u32 = 4;

/// `text` as a QR code (error correction M), black on white, in a PNG.
pub fn qr_png(text: &str) -> Result<Vec<u8>, String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| e.to_string())?;
    let n = code.width() as u32;
    let colors = code.to_colors();
    let side = (n + 2 * QR_QUIET_MODULES) * QR_MODULE_PX;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / QR_MODULE_PX, y / QR_MODULE_PX);
        let inside = (QR_QUIET_MODULES..QR_QUIET_MODULES + n).contains(&mx)
            && (QR_QUIET_MODULES..QR_QUIET_MODULES + n).contains(&my);
        let dark = inside
            && colors[((my - QR_QUIET_MODULES) * n + (mx - QR_QUIET_MODULES)) as usize]
                == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// Why an enrolment was refused, audited against the offer (no secret in it).
async fn refuse_enrolment(state: &AppState, o: &OfferRow, e: ApiError) -> ApiError {
    let audit = AuditEvent {
        at_ms: now_ms(),
        actor: format!("offer:{}", o.id),
        office: o.office.clone(),
        action: "enrol_refused".to_string(),
        subject: format!("{} ({})", o.credential_id, e.code),
    };
    if let Err(store) = state.store().audit(audit, &state.keys().copy_key).await {
        return store.into();
    }
    e
}

/// `POST /v1/enrol` (no token: the offer's secret is the credential): the phone's signed
/// credential document and its device key sealed to the phone's public key.
async fn enrol(
    State(state): State<AppState>,
    body: Result<Json<EnrolRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let issuer = issuer_key(&state)?;
    let Json(req) = body.map_err(|e| {
        ApiError::bad_request(
            "bad_request",
            format!(
                "send JSON {{\"offer\": \"HOLOID:OFFER1:…\", \"device_public_key\": \"…\"}}: {}",
                e.body_text()
            ),
        )
    })?;
    let offer = Offer::parse(&req.offer).map_err(|e| ApiError::bad_request("bad_offer", e.to_string()))?;
    enrol::check_public_key(&req.device_public_key)
        .map_err(|e| ApiError::bad_request("bad_device_key", e.to_string()))?;
    let unknown = || ApiError::not_found("offer: ask the officer for a new QR code");
    let o = state.store().offer(&offer.id_hex()).await?.ok_or_else(unknown)?;
    if !offer.is_issued_by(&state.keys().master) {
        return Err(refuse_enrolment(&state, &o, unknown()).await);
    }
    if o.used_ms.is_some() {
        let e = ApiError::new(
            StatusCode::CONFLICT,
            "offer_used",
            "this offer was already used: ask the officer for a new QR code",
        );
        return Err(refuse_enrolment(&state, &o, e).await);
    }
    if now_ms() >= o.expires_ms {
        let e = ApiError::new(
            StatusCode::GONE,
            "offer_expired",
            "this offer has expired: ask the officer for a new QR code",
        );
        return Err(refuse_enrolment(&state, &o, e).await);
    }
    let row = state
        .store()
        .credential(&o.credential_id)
        .await?
        .ok_or_else(|| ApiError::not_found("credential"))?;
    let stored =
        SignedCredential::from_json(&row.json).map_err(|e| bad_record(format!("stored credential: {e}")))?;
    let stored = stored
        .verify(&state.keys().issuer)
        .map_err(|e| bad_record(format!("stored credential: {e}")))?;
    let epoch = state
        .store()
        .enrolments(&o.credential_id)
        .await?
        .first()
        .map_or(1, |e| e.epoch + 1);
    let epoch = u32::try_from(epoch).map_err(bad_record)?;
    let status = fresh_status_entry(&state).await?;
    let enrolment = enrol::issue(
        stored,
        epoch,
        status,
        &state.keys().master,
        issuer,
        &req.device_public_key,
        &row.portrait,
    )
    .map_err(|e| match e {
        enrol::EnrolError::BadPublicKey => ApiError::bad_request("bad_device_key", e.to_string()),
        other => bad_record(format!("the enrolment's document: {other}")),
    })?;
    let new_row = CredentialRow {
        id: o.credential_id.clone(),
        json: enrolment.credential.clone(),
        portrait: row.portrait,
    };
    let audit = AuditEvent {
        at_ms: now_ms(),
        actor: format!("offer:{}", o.id),
        office: o.office.clone(),
        action: "credential_enrol".to_string(),
        subject: format!("{} epoch {epoch}", o.credential_id),
    };
    let locator = to_hex(&Locator::of(&o.credential_id).0);
    state
        .store()
        .enrol_with_offer(
            &o.id,
            &new_row,
            (i64::from(epoch), status),
            &locator,
            audit,
            &state.keys().copy_key,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(enrolment)).into_response())
}

/// A status entry no enrolment holds, drawn at random (herd privacy: neighbours in the list
/// say nothing about each other). List 1 holds 2^20 entries.
async fn fresh_status_entry(state: &AppState) -> ApiResult<StatusRef> {
    for _ in 0..16 {
        let r = u32::from_be_bytes(random::<4>()?) % status::LIST_LEN;
        if !state.store().status_entry_taken(1, i64::from(r)).await? {
            return Ok(StatusRef { list: 1, index: r });
        }
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "status_list_full",
        "no free status entry was found: the status list is nearly full",
    ))
}

/// Makes a token for a person and stores its hash; returns the token (shown once). Only an
/// officer's token may have a view other than `identity`.
#[allow(clippy::too_many_arguments)]
pub async fn create_token(
    store: &super::store::Store,
    role: Role,
    view: View,
    office: &str,
    name: &str,
    valid_for: std::time::Duration,
    actor: &str,
    key: &holoid_core::keys::IssuerSecret,
) -> Result<String, StoreError> {
    if role != Role::Officer && view != View::Identity {
        return Err(StoreError::Conflict(format!(
            "a {role}'s token sees the whole record: the {} view is for officers' tokens",
            view.kind()
        )));
    }
    let (token, id) = auth::new_token();
    let now = now_ms();
    let row = TokenRow {
        id: id.clone(),
        role: role.as_str().to_string(),
        office: office.to_string(),
        name: name.to_string(),
        created_ms: now,
        expires_ms: Some(now.saturating_add(valid_for.as_millis().min(i64::MAX as u128) as i64)),
        revoked_ms: None,
        view_kind: Some(view.kind().into()),
        age_over: view.age_over().map(i64::from),
    };
    let event = AuditEvent {
        at_ms: now,
        actor: actor.to_string(),
        office: office.to_string(),
        action: "token_create".into(),
        subject: id,
    };
    store
        .insert_token(&auth::token_hash(&token), &row, event, key)
        .await?;
    Ok(token)
}
