//! The C ABI that wallet apps link (`include/holoid.h`, generated from this file by cbindgen;
//! `tests/header.rs` fails when the committed header is stale).
//!
//! An *engine* draws one credential's card: offscreen into a buffer the caller owns, or into a
//! native window surface (Android `ANativeWindow`, Apple `CAMetalLayer`, X11 or Wayland).
//! The host feeds it accelerometer samples, the capture state its OS reports, and the time.
//!
//! Rules at the boundary:
//! - Every function returns a [`HoloidStatus`]; on failure, [`holoid_last_error`] gives a
//!   sentence for the calling thread. No panic crosses the boundary: one is caught and
//!   returned as [`HoloidStatus::Panic`].
//! - Engine handles are opaque numbers, never dereferenced: a freed, forged or foreign handle
//!   is answered with [`HoloidStatus::InvalidHandle`], not undefined behaviour.
//! - Threads: an engine may be used from any thread, one call at a time. A call made while
//!   another call on the same engine is running returns [`HoloidStatus::Busy`] at once (it
//!   does not wait). Different engines may be used from different threads at once.
//!
//! This module holds only the boundary: pointer and length checks, handles, error codes.
//! Drawing is `holoid-render`'s, the motion filter `holoid-core`'s.
//!
//! This crate is what a wallet app links: it must not depend on axum, hyper, tokio, sqlx, clap or
//! winit (`.ci/run` checks its dependency tree).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};

use holoid_core::credential::{Credential, SignedCredential};
use holoid_core::enrol::{EnrolError, Enrolled, Enrolment, Offer, WalletKeyPair};
use holoid_core::keys::{DeviceKey, DeviceMac, IssuerPublic, KeystoreError};
use holoid_core::motion::{MotionConfig, Sample};
use holoid_core::session::WalletSession;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;
use holoid_render::surface::{Drawn, SurfaceCard};
use holoid_render::{CaptureState, CardRenderer, FrameParams, GpuContext, RenderKit, RendererOptions};
use zeroize::Zeroize;

/// What a call did. `HOLOID_STATUS_OK` is 0; every other value is a failure, described by
/// `holoid_last_error()` on the same thread.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoloidStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL.
    NullPointer = 1,
    /// The engine handle is not a live engine (already freed, or never made by
    /// `holoid_engine_new`).
    InvalidHandle = 2,
    /// An argument is out of range or malformed (size, period, capture state, a device key
    /// that is not a key, a motion sample that is not finite or goes back in time).
    InvalidArgument = 3,
    /// The credential bytes are not a credential file (not UTF-8, not JSON, a missing or
    /// invalid field).
    BadCredential = 4,
    /// The device key does not belong to this credential.
    KeyMismatch = 5,
    /// The portrait is not the credential's (its SHA-256 differs) or cannot be decoded.
    BadPortrait = 6,
    /// No GPU adapter or device could be had, or the GPU failed while drawing or reading back.
    Gpu = 7,
    /// The window surface could not be made, configured or drawn into.
    Surface = 8,
    /// The surface kind is not supported in this build or on this platform.
    Unsupported = 9,
    /// The caller's buffer is not width × height × 4 bytes.
    BufferSize = 10,
    /// Another call on this engine is running (on another thread).
    Busy = 11,
    /// An internal error (a Rust panic) was caught at the boundary. The engine it happened
    /// in answers only `holoid_engine_free` afterwards.
    Panic = 12,
    /// `holoid_engine_render` was called with no surface attached.
    NoSurface = 13,
    /// The host's key provider callback failed (keystore locked, key removed). A frame drawn
    /// meanwhile is blank: no pattern, no code.
    Keystore = 14,
    /// The enrolment answer cannot be opened: its device key was sealed to another key pair,
    /// or the answer was changed on the way.
    Unopenable = 15,
}

/// Capture state: nothing is capturing the screen.
pub const HOLOID_CAPTURE_NONE: u32 = 0;
/// Capture state: the screen is being recorded (the card is blanked).
pub const HOLOID_CAPTURE_RECORDING: u32 = 1;
/// Capture state: the screen is mirrored to another display (the card is blanked).
pub const HOLOID_CAPTURE_MIRRORED: u32 = 2;
/// Capture state: a screenshot was just taken (the card is blanked).
pub const HOLOID_CAPTURE_SCREENSHOT: u32 = 3;

/// Surface kind: Android `ANativeWindow*` in `window`.
pub const HOLOID_SURFACE_ANDROID: u32 = 1;
/// Surface kind: Apple (iOS, macOS) `CAMetalLayer*` in `window`.
pub const HOLOID_SURFACE_METAL_LAYER: u32 = 2;
/// Surface kind: X11 through Xlib: `Display*` in `display`, the `Window` in `window_id`,
/// the screen number in `screen`.
pub const HOLOID_SURFACE_XLIB: u32 = 3;
/// Surface kind: X11 through XCB: `xcb_connection_t*` in `display`, the `xcb_window_t` in
/// `window_id`, the screen number in `screen`.
pub const HOLOID_SURFACE_XCB: u32 = 4;
/// Surface kind: Wayland: `wl_display*` in `display`, `wl_surface*` in `window`.
pub const HOLOID_SURFACE_WAYLAND: u32 = 5;

/// Pass as the time of a frame to take it from the engine's clock (`holoid_engine_set_clock`,
/// or the system clock when none is set).
pub const HOLOID_TIME_NOW: u64 = 0;

/// Options fixed when an engine is made. Start from `holoid_options_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoloidOptions {
    /// Width in pixels of offscreen frames (`holoid_engine_render_rgba`). A surface has its
    /// own size, given when it is attached. By default, 1080. 1 to 8192.
    pub width: u32,
    /// Height in pixels of offscreen frames. By default, 2340. 1 to 8192. The card keeps its
    /// 1080:2340 shape and is centred in other shapes.
    pub height: u32,
    /// The time window's period, seconds: the pattern and code change every period. By
    /// default, 5. 1 to 30; the verifier must use the same.
    pub window_period_secs: u32,
    /// The card's clock shows this offset from UTC, seconds. By default, +9 h (KST).
    pub utc_offset_secs: i32,
    /// 1: the temporal COPY / 사본 modulation (successive frames alternate +δ and −δ of the
    /// mark; use it on displays of 90 Hz or more); 0: off. By default, 0.
    pub modulation: u32,
}

/// A window surface to draw into. Fill the fields the kind names; leave the others NULL or 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HoloidSurface {
    /// One of the `HOLOID_SURFACE_*` kinds.
    pub kind: u32,
    /// Xlib: `Display*`; XCB: `xcb_connection_t*`; Wayland: `wl_display*`.
    pub display: *mut c_void,
    /// Android: `ANativeWindow*`; Apple: `CAMetalLayer*`; Wayland: `wl_surface*`.
    pub window: *mut c_void,
    /// Xlib: the `Window`; XCB: the `xcb_window_t`.
    pub window_id: u64,
    /// X11 screen number (Xlib, XCB).
    pub screen: i32,
    /// The surface's width in pixels (not points or dp).
    pub width: u32,
    /// The surface's height in pixels.
    pub height: u32,
}

/// An engine's memory, as far as holoid can count it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HoloidMemory {
    /// Bytes of GPU memory in the engine's textures and buffers (offscreen target, window
    /// layer, text, masks, read-back buffer), not counting the surface's own swapchain images.
    pub gpu_bytes: u64,
}

/// The engine's clock: returns the current Unix time in milliseconds. Called on the thread
/// that draws, once per frame drawn with `HOLOID_TIME_NOW`.
pub type HoloidClock = Option<unsafe extern "C" fn(context: *mut c_void) -> u64>;

/// The host's key provider: computes `HMAC-SHA256(K_dev, message)` with the device key kept in
/// the platform's keystore (Android Keystore / StrongBox HMAC key, iOS keychain) and writes the
/// 32-byte result to `out`. Returns 0 on success, anything else on failure (holoid then draws
/// the card blank and reports `HOLOID_STATUS_KEYSTORE`). Called with the context it was given,
/// on the thread that makes the engine or draws its frames: once when the engine is made (the
/// credential's commitment), then once per time window.
pub type HoloidKeyProvider = Option<
    unsafe extern "C" fn(context: *mut c_void, message: *const u8, message_len: usize, out: *mut u8) -> i32,
>;

/// An enrolment in progress: made by `holoid_enrol_new`, ended by `holoid_enrol_free`.
pub struct HoloidEnrolment {
    _private: [u8; 0],
}

/// An engine. Opaque: made by `holoid_engine_new`, ended by `holoid_engine_free`.
pub struct HoloidEngine {
    _private: [u8; 0],
}

/// A failure on its way to the caller.
struct Failure {
    status: HoloidStatus,
    message: String,
}

fn fail(status: HoloidStatus, message: impl Into<String>) -> Failure {
    Failure {
        status,
        message: message.into(),
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs `f`, turning its failure or panic into a status and the thread's last error.
fn guard(f: impl FnOnce() -> Result<(), Failure>) -> HoloidStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => HoloidStatus::Ok,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            set_last_error(&format!(
                "internal error caught at the C boundary ({what}); please report it"
            ));
            HoloidStatus::Panic
        }
    }
}

/// The caller's clock, with the context it asked to be called with.
#[derive(Clone, Copy)]
struct Clock {
    f: unsafe extern "C" fn(*mut c_void) -> u64,
    context: *mut c_void,
}

// SAFETY: the header's contract for `holoid_engine_set_clock`: the callback and its context
// may be called from whichever thread draws the engine's frames.
unsafe impl Send for Clock {}

/// The host's key provider and its context.
struct Provider {
    f: unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut u8) -> i32,
    context: *mut c_void,
}

// SAFETY: the header's contract for `holoid_engine_new_with_key_provider`: the callback and its
// context may be called from whichever thread makes the engine or draws its frames, one call
// at a time per engine (calls on one engine never overlap).
unsafe impl Send for Provider {}
// SAFETY: as above; holoid never calls one engine's provider from two threads at once.
unsafe impl Sync for Provider {}

impl DeviceMac for Provider {
    fn device_hmac(&self, message: &[u8]) -> Result<[u8; 32], KeystoreError> {
        let mut out = [0u8; 32];
        // SAFETY: the caller promised the callback may be called with its context while the
        // engine lives; `message` and `out` are valid for the lengths given.
        let rc = unsafe { (self.f)(self.context, message.as_ptr(), message.len(), out.as_mut_ptr()) };
        if rc == 0 {
            Ok(out)
        } else {
            out.zeroize();
            Err(KeystoreError(format!("the key provider callback returned {rc}")))
        }
    }
}

struct Engine {
    instance: wgpu::Instance,
    gpu: GpuContext,
    credential: Credential,
    /// The device key, or the host's provider of HMACs under it.
    key: Arc<dyn DeviceMac>,
    portrait: Vec<u8>,
    options: RendererOptions,
    offscreen: Option<CardRenderer>,
    surface: Option<SurfaceCard>,
    session: WalletSession,
    clock: Option<Clock>,
}

impl Engine {
    fn time(&self, unix_ms: u64) -> UnixMillis {
        if unix_ms != HOLOID_TIME_NOW {
            return UnixMillis(unix_ms);
        }
        match self.clock {
            // SAFETY: the caller promised (holoid_engine_set_clock) that the callback may be
            // called with its context until it is replaced or the engine is freed.
            Some(c) => UnixMillis(unsafe { (c.f)(c.context) }),
            None => UnixMillis(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            ),
        }
    }

    /// The next frame's parameters, counting it for the modulation.
    fn next_frame(&mut self, unix_ms: u64) -> FrameParams {
        let time = self.time(unix_ms);
        self.session.next_frame(time)
    }

    /// The card's renderer for `options`, sharing `kit`'s shaders and fonts when given one
    /// (a surface keeps its kit across resizes).
    fn make_renderer(
        &self,
        kit: Option<&RenderKit>,
        options: RendererOptions,
    ) -> Result<CardRenderer, holoid_render::RenderError> {
        let (c, portrait) = (&self.credential, &self.portrait);
        match kit {
            Some(kit) => CardRenderer::with_kit_mac(kit, c, self.key.clone(), portrait, options),
            None => {
                let kit = RenderKit::new(&self.gpu, options.format)?;
                CardRenderer::with_kit_mac(&kit, c, self.key.clone(), portrait, options)
            }
        }
    }

    fn configure_surface(&mut self, size: (u32, u32)) -> Result<(), Failure> {
        let mut card = self
            .surface
            .take()
            .ok_or_else(|| fail(HoloidStatus::NoSurface, "no surface is attached"))?;
        let outcome = card.configure(&self.gpu, size, self.options, |kit, o| {
            self.make_renderer(Some(kit), o)
        });
        self.surface = Some(card);
        outcome.map_err(|e| fail(HoloidStatus::Surface, e.to_string()))
    }
}

/// Live objects of one kind by handle number. Numbers come from one counter and are never
/// reused, so a stale handle never reaches another object, of this kind or another.
type Handles<T> = Mutex<BTreeMap<usize, Arc<Mutex<T>>>>;

static ENGINES: Handles<Engine> = Mutex::new(BTreeMap::new());
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(1);

fn table<T>(handles: &'static Handles<T>) -> std::sync::MutexGuard<'static, BTreeMap<usize, Arc<Mutex<T>>>> {
    // The map is only inserted into and removed from; a panic elsewhere cannot leave it
    // half-changed, so a poisoned lock is still a good map.
    handles.lock().unwrap_or_else(|p| p.into_inner())
}

/// Adds `object` to `handles`; its new handle number.
fn insert<T>(handles: &'static Handles<T>, object: T) -> usize {
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    table(handles).insert(id, Arc::new(Mutex::new(object)));
    id
}

/// Runs `f` on the `kind` (made by `maker`) behind `handle`.
fn with_handle<T, H>(
    handles: &'static Handles<T>,
    handle: *mut H,
    kind: &str,
    maker: &str,
    f: impl FnOnce(&mut T) -> Result<(), Failure>,
) -> HoloidStatus {
    guard(|| {
        if handle.is_null() {
            return Err(fail(
                HoloidStatus::NullPointer,
                format!("the {kind} handle is NULL"),
            ));
        }
        let object = table(handles).get(&handle.addr()).cloned().ok_or_else(|| {
            fail(
                HoloidStatus::InvalidHandle,
                format!("not a live {kind}: it was freed, or was never made by {maker}"),
            )
        })?;
        let mut locked = match object.try_lock() {
            Ok(e) => e,
            Err(TryLockError::WouldBlock) => {
                return Err(fail(
                    HoloidStatus::Busy,
                    format!(
                        "another call on this {kind} is running on another thread: calls on one {kind} must not overlap"
                    ),
                ));
            }
            Err(TryLockError::Poisoned(_)) => {
                return Err(fail(
                    HoloidStatus::Panic,
                    format!(
                        "an earlier internal error left this {kind} unusable: free it and make a new one"
                    ),
                ));
            }
        };
        f(&mut locked)
    })
}

/// Removes the `kind` behind `handle` (NULL does nothing).
fn free_handle<T, H>(handles: &'static Handles<T>, handle: *mut H, kind: &str, maker: &str) -> HoloidStatus {
    guard(|| {
        if handle.is_null() {
            return Ok(());
        }
        match table(handles).remove(&handle.addr()) {
            Some(_) => Ok(()),
            None => Err(fail(
                HoloidStatus::InvalidHandle,
                format!("not a live {kind}: it was already freed, or was never made by {maker}"),
            )),
        }
    })
}

/// Runs `f` on the engine behind `handle`.
fn with_engine(
    handle: *mut HoloidEngine,
    f: impl FnOnce(&mut Engine) -> Result<(), Failure>,
) -> HoloidStatus {
    with_handle(&ENGINES, handle, "engine", "holoid_engine_new", f)
}

/// `len` bytes at `ptr`, or a failure naming `what`.
///
/// # Safety
/// When `ptr` is not NULL it must point to `len` readable bytes.
unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str, max: usize) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(fail(
            HoloidStatus::NullPointer,
            format!("the {what} pointer is NULL"),
        ));
    }
    if len == 0 || len > max {
        return Err(fail(
            HoloidStatus::InvalidArgument,
            format!("the {what} is {len} bytes: give 1 to {max}"),
        ));
    }
    // SAFETY: non-null, and the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The library's version, e.g. "0.1.0". A static string.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A sentence describing the last failure of a holoid call on this thread ("" if none).
/// The string stays valid until the next failing holoid call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Every status, for looking one up by its number.
const STATUSES: [HoloidStatus; 14] = [
    HoloidStatus::Ok,
    HoloidStatus::NullPointer,
    HoloidStatus::InvalidHandle,
    HoloidStatus::InvalidArgument,
    HoloidStatus::BadCredential,
    HoloidStatus::KeyMismatch,
    HoloidStatus::BadPortrait,
    HoloidStatus::Gpu,
    HoloidStatus::Surface,
    HoloidStatus::Unsupported,
    HoloidStatus::BufferSize,
    HoloidStatus::Busy,
    HoloidStatus::Panic,
    HoloidStatus::NoSurface,
];

/// The name of a status value, e.g. "HOLOID_STATUS_KEY_MISMATCH" for 5, or
/// "HOLOID_STATUS_UNKNOWN". A static string.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_status_name(status: i32) -> *const c_char {
    let Some(&status) = STATUSES.iter().find(|s| **s as i32 == status) else {
        return c"HOLOID_STATUS_UNKNOWN".as_ptr();
    };
    let name: &'static str = match status {
        HoloidStatus::Ok => "HOLOID_STATUS_OK\0",
        HoloidStatus::NullPointer => "HOLOID_STATUS_NULL_POINTER\0",
        HoloidStatus::InvalidHandle => "HOLOID_STATUS_INVALID_HANDLE\0",
        HoloidStatus::InvalidArgument => "HOLOID_STATUS_INVALID_ARGUMENT\0",
        HoloidStatus::BadCredential => "HOLOID_STATUS_BAD_CREDENTIAL\0",
        HoloidStatus::KeyMismatch => "HOLOID_STATUS_KEY_MISMATCH\0",
        HoloidStatus::BadPortrait => "HOLOID_STATUS_BAD_PORTRAIT\0",
        HoloidStatus::Gpu => "HOLOID_STATUS_GPU\0",
        HoloidStatus::Surface => "HOLOID_STATUS_SURFACE\0",
        HoloidStatus::Unsupported => "HOLOID_STATUS_UNSUPPORTED\0",
        HoloidStatus::BufferSize => "HOLOID_STATUS_BUFFER_SIZE\0",
        HoloidStatus::Busy => "HOLOID_STATUS_BUSY\0",
        HoloidStatus::Panic => "HOLOID_STATUS_PANIC\0",
        HoloidStatus::NoSurface => "HOLOID_STATUS_NO_SURFACE\0",
        HoloidStatus::Keystore => "HOLOID_STATUS_KEYSTORE\0",
        HoloidStatus::Unopenable => "HOLOID_STATUS_UNOPENABLE\0",
    };
    name.as_ptr().cast()
}

/// The default options: 1080 × 2340 offscreen, 5 s windows, UTC+9, no modulation.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_options_default() -> HoloidOptions {
    let r = RendererOptions::default();
    HoloidOptions {
        width: r.width,
        height: r.height,
        window_period_secs: u32::from(WindowPeriod::DEFAULT_SECS),
        utc_offset_secs: r.utc_offset_secs,
        modulation: 0,
    }
}

/// The largest credential file accepted: 1 MiB.
const MAX_CREDENTIAL: usize = 1 << 20;
/// The largest portrait accepted: 16 MiB.
const MAX_PORTRAIT: usize = 16 << 20;
/// The largest device key accepted (its text form is about 80 bytes).
const MAX_KEY: usize = 4096;

/// How the key file's text starts (its label): 32 bytes that start so are a cut-off text.
const DEVICE_KEY_TEXT_PREFIX: &[u8] = b"holoid-device-key";

fn parse_key(key: &[u8]) -> Result<DeviceKey, Failure> {
    if let Ok(raw) = <[u8; 32]>::try_from(key) {
        if raw.starts_with(DEVICE_KEY_TEXT_PREFIX) {
            return Err(fail(
                HoloidStatus::InvalidArgument,
                "the device key: these 32 bytes are the start of the key file's text; pass the \
                 whole text and its length (about 86 bytes), or the 32 raw key bytes",
            ));
        }
        return Ok(DeviceKey::from_bytes(raw));
    }
    let text = std::str::from_utf8(key).map_err(|_| {
        fail(
            HoloidStatus::InvalidArgument,
            "the device key is neither 32 raw bytes nor the key file's text",
        )
    })?;
    DeviceKey::from_text(text)
        .map_err(|e| fail(HoloidStatus::InvalidArgument, format!("the device key: {e}")))
}

fn renderer_options(o: &HoloidOptions) -> Result<(RendererOptions, bool), Failure> {
    let bad = |m: String| fail(HoloidStatus::InvalidArgument, m);
    if !(1..=8192).contains(&o.width) || !(1..=8192).contains(&o.height) {
        return Err(bad(format!(
            "options: {}x{} pixels: each side must be 1 to 8192",
            o.width, o.height
        )));
    }
    let period = u64::from(o.window_period_secs);
    let period = WindowPeriod::from_secs(period).map_err(|e| bad(format!("options: {e}")))?;
    if !(-18 * 3600..=18 * 3600).contains(&o.utc_offset_secs) {
        return Err(bad(format!(
            "options: UTC offset {} s: give -64800 to 64800",
            o.utc_offset_secs
        )));
    }
    if o.modulation > 1 {
        return Err(bad(format!("options: modulation {}: give 0 or 1", o.modulation)));
    }
    Ok((
        RendererOptions {
            width: o.width,
            height: o.height,
            period,
            utc_offset_secs: o.utc_offset_secs,
            ..Default::default()
        },
        o.modulation == 1,
    ))
}

/// Makes an engine for a credential: `credential` is the credential file's bytes (JSON),
/// `portrait` the portrait file's bytes (PNG, matching the credential's hash), `device_key`
/// the wallet's device key (32 raw bytes, or the key file's text). `options` may be NULL for
/// the defaults. On success `*engine` is the new engine; on failure it is set to NULL.
///
/// # Safety
/// Each pointer must be NULL or point to the stated number of readable bytes; `options`, if
/// not NULL, to a `HoloidOptions`; `engine` to writable storage for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_engine_new(
    credential: *const u8,
    credential_len: usize,
    portrait: *const u8,
    portrait_len: usize,
    device_key: *const u8,
    device_key_len: usize,
    options: *const HoloidOptions,
    engine: *mut *mut HoloidEngine,
) -> HoloidStatus {
    guard(|| {
        if engine.is_null() {
            return Err(fail(HoloidStatus::NullPointer, "the engine out-pointer is NULL"));
        }
        // SAFETY: non-null, and the caller promises writable storage for a handle.
        unsafe { engine.write(std::ptr::null_mut()) };
        // SAFETY: the caller's promise about each pointer and length.
        let (credential, portrait, key) = unsafe {
            (
                bytes(credential, credential_len, "credential", MAX_CREDENTIAL)?,
                bytes(portrait, portrait_len, "portrait", MAX_PORTRAIT)?,
                bytes(device_key, device_key_len, "device key", MAX_KEY)?,
            )
        };
        let key: Arc<dyn DeviceMac> = Arc::new(parse_key(key)?);
        // SAFETY: the caller's promise about `options` and `engine`.
        unsafe { make_engine(credential, portrait, key, options, engine) }
    })
}

/// As `holoid_engine_new`, but the device key stays in the host's keystore: `provider`
/// computes HMAC-SHA256 under it (see `HoloidKeyProvider`) and is called with `context`. The
/// key is checked against the credential through the provider before the engine is made
/// (`HOLOID_STATUS_KEY_MISMATCH`, or `HOLOID_STATUS_KEYSTORE` when the provider fails).
///
/// # Safety
/// As `holoid_engine_new`; `provider` must be callable with `context` from any thread that
/// uses the engine, until the engine is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_engine_new_with_key_provider(
    credential: *const u8,
    credential_len: usize,
    portrait: *const u8,
    portrait_len: usize,
    provider: HoloidKeyProvider,
    context: *mut c_void,
    options: *const HoloidOptions,
    engine: *mut *mut HoloidEngine,
) -> HoloidStatus {
    guard(|| {
        if engine.is_null() {
            return Err(fail(HoloidStatus::NullPointer, "the engine out-pointer is NULL"));
        }
        // SAFETY: non-null, and the caller promises writable storage for a handle.
        unsafe { engine.write(std::ptr::null_mut()) };
        let f = provider.ok_or_else(|| fail(HoloidStatus::NullPointer, "the key provider is NULL"))?;
        // SAFETY: the caller's promise about each pointer and length.
        let (credential, portrait) = unsafe {
            (
                bytes(credential, credential_len, "credential", MAX_CREDENTIAL)?,
                bytes(portrait, portrait_len, "portrait", MAX_PORTRAIT)?,
            )
        };
        let key: Arc<dyn DeviceMac> = Arc::new(Provider { f, context });
        // SAFETY: the caller's promise about `options` and `engine`.
        unsafe { make_engine(credential, portrait, key, options, engine) }
    })
}

/// What both engine constructors share, after their inputs are read.
///
/// # Safety
/// `options` must be NULL or point to a `HoloidOptions`; `engine` is non-NULL and writable.
unsafe fn make_engine(
    credential: &[u8],
    portrait: &[u8],
    key: Arc<dyn DeviceMac>,
    options: *const HoloidOptions,
    engine: *mut *mut HoloidEngine,
) -> Result<(), Failure> {
    // SAFETY: NULL, or a HoloidOptions by the caller's promise.
    let options = unsafe { options.as_ref() }
        .copied()
        .unwrap_or_else(|| holoid_options_default());
    let (options, modulate) = renderer_options(&options)?;
    let mut session = WalletSession::new(MotionConfig::default());
    session.set_modulation(modulate);
    let text = std::str::from_utf8(credential)
        .map_err(|_| fail(HoloidStatus::BadCredential, "the credential is not UTF-8 text"))?;
    let credential = SignedCredential::from_json(text)
        .map_err(|e| fail(HoloidStatus::BadCredential, format!("the credential: {e}")))?
        .credential;
    credential
        .check_device_mac(&*key)
        .map_err(|e| fail(HoloidStatus::Keystore, e.to_string()))?
        .map_err(|e| fail(HoloidStatus::KeyMismatch, e.to_string()))?;
    credential
        .portrait
        .check(portrait)
        .map_err(|e| fail(HoloidStatus::BadPortrait, e.to_string()))?;
    image::load_from_memory(portrait).map_err(|e| {
        fail(
            HoloidStatus::BadPortrait,
            format!("the portrait cannot be decoded: {e}"),
        )
    })?;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let gpu =
        GpuContext::from_instance(&instance, None).map_err(|e| fail(HoloidStatus::Gpu, e.to_string()))?;
    let e = Engine {
        instance,
        gpu,
        credential,
        key,
        portrait: portrait.to_vec(),
        options,
        offscreen: None,
        surface: None,
        session,
        clock: None,
    };
    let id = insert(&ENGINES, e);
    // SAFETY: non-null and writable by the caller's promise.
    unsafe { engine.write(std::ptr::without_provenance_mut(id)) };
    Ok(())
}

/// Ends an engine: drops its surface and GPU resources. NULL is accepted and does nothing.
/// The handle is invalid afterwards (using it returns `HOLOID_STATUS_INVALID_HANDLE`).
#[unsafe(no_mangle)]
pub extern "C" fn holoid_engine_free(engine: *mut HoloidEngine) -> HoloidStatus {
    free_handle(&ENGINES, engine, "engine", "holoid_engine_new")
}

/// Feeds one accelerometer reading: `t` in Unix seconds (the clock frame times use; on
/// Android convert the sensor's elapsed-realtime stamp), acceleration including gravity in
/// m/s², device axes x right, y up, z out of the screen. The tilt is taken relative to the
/// first reading; a shake sets off the burst.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_engine_push_motion(
    engine: *mut HoloidEngine,
    t: f64,
    ax: f32,
    ay: f32,
    az: f32,
) -> HoloidStatus {
    with_engine(engine, |e| {
        if t < 0.0 {
            return Err(fail(
                HoloidStatus::InvalidArgument,
                format!("motion sample at {t} s: give Unix seconds"),
            ));
        }
        e.session
            .push_motion(Sample {
                t,
                accel: [ax, ay, az],
            })
            .map_err(|err| fail(HoloidStatus::InvalidArgument, format!("motion sample: {err}")))
    })
}

/// Sets the capture state the OS reports (`HOLOID_CAPTURE_*`): anything but NONE blanks the
/// card from the next frame on.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_engine_set_capture_state(engine: *mut HoloidEngine, state: u32) -> HoloidStatus {
    with_engine(engine, |e| {
        let capture = match state {
            HOLOID_CAPTURE_NONE => CaptureState::None,
            HOLOID_CAPTURE_RECORDING => CaptureState::Recording,
            HOLOID_CAPTURE_MIRRORED => CaptureState::Mirrored,
            HOLOID_CAPTURE_SCREENSHOT => CaptureState::ScreenshotTaken,
            other => {
                return Err(fail(
                    HoloidStatus::InvalidArgument,
                    format!(
                        "capture state {other}: give one of HOLOID_CAPTURE_NONE (0) to HOLOID_CAPTURE_SCREENSHOT (3)"
                    ),
                ));
            }
        };
        e.session.set_capture(capture);
        Ok(())
    })
}

/// Sets the clock frames drawn with `HOLOID_TIME_NOW` read (e.g. a server-synchronised
/// clock); NULL returns to the system clock.
///
/// # Safety
/// Until the clock is replaced or the engine freed, `clock` must be safe to call with
/// `context` from whichever thread draws the engine's frames.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_engine_set_clock(
    engine: *mut HoloidEngine,
    clock: HoloidClock,
    context: *mut c_void,
) -> HoloidStatus {
    with_engine(engine, |e| {
        e.clock = clock.map(|f| Clock { f, context });
        Ok(())
    })
}

/// The raw handles wgpu makes a surface from.
///
/// # Safety
/// The handles in `s` must be valid for its kind.
unsafe fn surface_target(s: &HoloidSurface) -> Result<wgpu::SurfaceTargetUnsafe, Failure> {
    use raw_window_handle as rwh;
    let need = |p: *mut c_void, what: &str| {
        NonNull::new(p)
            .ok_or_else(|| fail(HoloidStatus::NullPointer, format!("the surface's {what} is NULL")))
    };
    let raw =
        |display: rwh::RawDisplayHandle, window: rwh::RawWindowHandle| wgpu::SurfaceTargetUnsafe::RawHandle {
            raw_display_handle: Some(display),
            raw_window_handle: window,
        };
    match s.kind {
        HOLOID_SURFACE_ANDROID => Ok(raw(
            rwh::AndroidDisplayHandle::new().into(),
            rwh::AndroidNdkWindowHandle::new(need(s.window, "ANativeWindow")?).into(),
        )),
        HOLOID_SURFACE_METAL_LAYER => metal_layer(need(s.window, "CAMetalLayer")?),
        HOLOID_SURFACE_XLIB => {
            let window = std::ffi::c_ulong::try_from(s.window_id)
                .ok()
                .filter(|w| *w != 0)
                .ok_or_else(|| {
                    fail(
                        HoloidStatus::InvalidArgument,
                        "the Xlib window id is 0 or too large",
                    )
                })?;
            Ok(raw(
                rwh::XlibDisplayHandle::new(Some(need(s.display, "Xlib Display")?), s.screen).into(),
                rwh::XlibWindowHandle::new(window).into(),
            ))
        }
        HOLOID_SURFACE_XCB => {
            let window = u32::try_from(s.window_id)
                .ok()
                .and_then(std::num::NonZeroU32::new)
                .ok_or_else(|| {
                    fail(
                        HoloidStatus::InvalidArgument,
                        "the XCB window id is 0 or too large",
                    )
                })?;
            Ok(raw(
                rwh::XcbDisplayHandle::new(Some(need(s.display, "XCB connection")?), s.screen).into(),
                rwh::XcbWindowHandle::new(window).into(),
            ))
        }
        HOLOID_SURFACE_WAYLAND => Ok(raw(
            rwh::WaylandDisplayHandle::new(need(s.display, "wl_display")?).into(),
            rwh::WaylandWindowHandle::new(need(s.window, "wl_surface")?).into(),
        )),
        other => Err(fail(
            HoloidStatus::InvalidArgument,
            format!("surface kind {other}: give one of the HOLOID_SURFACE_* kinds"),
        )),
    }
}

#[cfg(any(target_os = "ios", target_os = "macos"))]
fn metal_layer(layer: NonNull<c_void>) -> Result<wgpu::SurfaceTargetUnsafe, Failure> {
    Ok(wgpu::SurfaceTargetUnsafe::CoreAnimationLayer(layer.as_ptr()))
}

#[cfg(not(any(target_os = "ios", target_os = "macos")))]
fn metal_layer(_layer: NonNull<c_void>) -> Result<wgpu::SurfaceTargetUnsafe, Failure> {
    Err(fail(
        HoloidStatus::Unsupported,
        "a CAMetalLayer surface needs holoid built for iOS or macOS",
    ))
}

/// Attaches a window surface (replacing any attached one) and configures it at its size.
/// Frames then go to it with `holoid_engine_render`.
///
/// # Safety
/// `surface` must point to a `HoloidSurface` whose handles are valid for its kind and stay
/// valid until `holoid_engine_detach_surface` or `holoid_engine_free` (on Android: detach in
/// `surfaceDestroyed`, before releasing the `ANativeWindow`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_engine_attach_surface(
    engine: *mut HoloidEngine,
    surface: *const HoloidSurface,
) -> HoloidStatus {
    with_engine(engine, |e| {
        // SAFETY: NULL, or a HoloidSurface by the caller's promise.
        let desc = unsafe { surface.as_ref() }
            .ok_or_else(|| fail(HoloidStatus::NullPointer, "the surface pointer is NULL"))?;
        // SAFETY: the caller's promise about the handles.
        let target = unsafe { surface_target(desc) }?;
        e.surface = None;
        // SAFETY: the handles are valid and outlive the surface (dropped on detach or free).
        let raw = unsafe { e.instance.create_surface_unsafe(target) }
            .map_err(|err| fail(HoloidStatus::Surface, format!("cannot make a surface: {err}")))?;
        e.surface = Some(SurfaceCard::new(raw));
        let outcome = e.configure_surface((desc.width, desc.height));
        if outcome.is_err() {
            e.surface = None;
        }
        outcome
    })
}

/// Reconfigures the attached surface for a new size in pixels (after rotation or a layout
/// change).
#[unsafe(no_mangle)]
pub extern "C" fn holoid_engine_resize_surface(
    engine: *mut HoloidEngine,
    width: u32,
    height: u32,
) -> HoloidStatus {
    with_engine(engine, |e| e.configure_surface((width, height)))
}

/// Detaches the surface and drops everything drawn into it. No surface attached is fine.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_engine_detach_surface(engine: *mut HoloidEngine) -> HoloidStatus {
    with_engine(engine, |e| {
        e.surface = None;
        Ok(())
    })
}

/// `HOLOID_STATUS_KEYSTORE` when the frame just drawn is blank because the key provider failed.
fn keystore_failure(error: Option<&KeystoreError>) -> Result<(), Failure> {
    match error {
        Some(k) => Err(fail(
            HoloidStatus::Keystore,
            format!("{k}: the frame was drawn blank (no pattern, no code)"),
        )),
        None => Ok(()),
    }
}

/// Draws one frame into the attached surface and presents it. `unix_ms` is the frame's time
/// (Unix milliseconds), or `HOLOID_TIME_NOW` for the engine's clock.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_engine_render(engine: *mut HoloidEngine, unix_ms: u64) -> HoloidStatus {
    with_engine(engine, |e| {
        if e.surface.is_none() {
            return Err(fail(
                HoloidStatus::NoSurface,
                "no surface is attached: call holoid_engine_attach_surface, or draw offscreen with holoid_engine_render_rgba",
            ));
        }
        let frame = e.next_frame(unix_ms);
        let (gpu, card) = (&e.gpu, e.surface.as_mut().expect("checked above"));
        for _ in 0..2 {
            match card.draw(gpu, &frame, || {}) {
                Ok(Drawn::Presented | Drawn::Skipped) => {
                    return keystore_failure(card.renderer().and_then(CardRenderer::key_error));
                }
                Ok(Drawn::Reconfigured) => {}
                Err(err) => return Err(fail(HoloidStatus::Surface, err.to_string())),
            }
        }
        Err(fail(
            HoloidStatus::Surface,
            "the surface stayed outdated after reconfiguring: resize it",
        ))
    })
}

/// Draws one frame offscreen into `out`: tightly packed RGBA rows, top row first,
/// `width × height × 4` bytes exactly (the options' size). `unix_ms` is the frame's time
/// (Unix milliseconds), or `HOLOID_TIME_NOW` for the engine's clock.
///
/// # Safety
/// `out` must be NULL or point to `out_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_engine_render_rgba(
    engine: *mut HoloidEngine,
    unix_ms: u64,
    out: *mut u8,
    out_len: usize,
) -> HoloidStatus {
    with_engine(engine, |e| {
        if out.is_null() {
            return Err(fail(HoloidStatus::NullPointer, "the output buffer is NULL"));
        }
        let need = 4 * e.options.width as usize * e.options.height as usize;
        if out_len != need {
            return Err(fail(
                HoloidStatus::BufferSize,
                format!(
                    "the output buffer holds {out_len} bytes; a {}x{} RGBA frame needs {need}",
                    e.options.width, e.options.height
                ),
            ));
        }
        // SAFETY: non-null, `out_len` writable bytes by the caller's promise.
        let out = unsafe { std::slice::from_raw_parts_mut(out, out_len) };
        if e.offscreen.is_none() {
            let r = e
                .make_renderer(None, e.options)
                .map_err(|err| fail(HoloidStatus::Gpu, err.to_string()))?;
            e.offscreen = Some(r);
        }
        let frame = e.next_frame(unix_ms);
        let r = e.offscreen.as_mut().expect("made above");
        r.render_into(&frame, out)
            .map_err(|err| fail(HoloidStatus::Gpu, err.to_string()))?;
        keystore_failure(r.key_error())
    })
}

/// Reports the engine's GPU memory into `*out`.
///
/// # Safety
/// `out` must be NULL or point to a writable `HoloidMemory`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_engine_memory(
    engine: *mut HoloidEngine,
    out: *mut HoloidMemory,
) -> HoloidStatus {
    with_engine(engine, |e| {
        if out.is_null() {
            return Err(fail(
                HoloidStatus::NullPointer,
                "the memory report pointer is NULL",
            ));
        }
        let gpu_bytes = e.offscreen.as_ref().map_or(0, CardRenderer::gpu_memory_bytes)
            + e.surface
                .as_ref()
                .and_then(SurfaceCard::renderer)
                .map_or(0, CardRenderer::gpu_memory_bytes);
        // SAFETY: non-null and writable by the caller's promise.
        unsafe { out.write(HoloidMemory { gpu_bytes }) };
        Ok(())
    })
}

/// An enrolment: the phone's key pair for one offer, then what the service answered, opened.
struct Enrol {
    keys: WalletKeyPair,
    offer: Offer,
    done: Option<Enrolled>,
}

static ENROLMENTS: Handles<Enrol> = Mutex::new(BTreeMap::new());

/// Runs `f` on the enrolment behind `handle`.
fn with_enrolment(
    handle: *mut HoloidEnrolment,
    f: impl FnOnce(&mut Enrol) -> Result<(), Failure>,
) -> HoloidStatus {
    with_handle(&ENROLMENTS, handle, "enrolment", "holoid_enrol_new", f)
}

/// Copies `data` into the caller's buffer and its length into `*len`. With `out` NULL or
/// `out_cap` too small, only `*len` is set and the answer is `HOLOID_STATUS_BUFFER_SIZE`.
///
/// # Safety
/// `len` must be NULL or writable; `out` NULL or `out_cap` writable bytes.
unsafe fn copy_out(
    data: &[u8],
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
    what: &str,
) -> Result<(), Failure> {
    if len.is_null() {
        return Err(fail(HoloidStatus::NullPointer, "the length pointer is NULL"));
    }
    // SAFETY: non-null and writable by the caller's promise.
    unsafe { len.write(data.len()) };
    if out.is_null() || out_cap < data.len() {
        return Err(fail(
            HoloidStatus::BufferSize,
            format!(
                "the {what} is {} bytes: give a buffer that large (its length is in *len)",
                data.len()
            ),
        ));
    }
    // SAFETY: `out` holds `out_cap >= data.len()` writable bytes by the caller's promise.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), out, data.len()) };
    Ok(())
}

/// Begins enrolling this phone with an offer (the text of the office's QR code,
/// `HOLOID:OFFER1:…`): makes a fresh X25519 key pair for it. On failure `*enrolment` is NULL.
///
/// # Safety
/// `offer` must be NULL or point to `offer_len` readable bytes; `enrolment` to writable
/// storage for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_enrol_new(
    offer: *const u8,
    offer_len: usize,
    enrolment: *mut *mut HoloidEnrolment,
) -> HoloidStatus {
    guard(|| {
        if enrolment.is_null() {
            return Err(fail(
                HoloidStatus::NullPointer,
                "the enrolment out-pointer is NULL",
            ));
        }
        // SAFETY: non-null, writable by the caller's promise.
        unsafe { enrolment.write(std::ptr::null_mut()) };
        // SAFETY: the caller's promise about `offer`.
        let text = unsafe { bytes(offer, offer_len, "offer", 1024)? };
        let text = std::str::from_utf8(text)
            .map_err(|_| fail(HoloidStatus::InvalidArgument, "the offer is not UTF-8 text"))?;
        let offer = Offer::parse(text).map_err(|e| fail(HoloidStatus::InvalidArgument, e.to_string()))?;
        let e = Enrol {
            keys: WalletKeyPair::generate(),
            offer,
            done: None,
        };
        let id = insert(&ENROLMENTS, e);
        // SAFETY: checked non-null above.
        unsafe { enrolment.write(std::ptr::without_provenance_mut(id)) };
        Ok(())
    })
}

/// The body to POST to the service's `/v1/enrol` (JSON: the offer and this phone's public
/// key), copied into `out` (see `holoid_enrol_credential` for the buffer rules).
///
/// # Safety
/// `out` must be NULL or point to `out_cap` writable bytes; `len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_enrol_request(
    enrolment: *mut HoloidEnrolment,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
) -> HoloidStatus {
    with_enrolment(enrolment, |e| {
        let body = serde_json::to_vec(&e.keys.request(&e.offer))
            .map_err(|err| fail(HoloidStatus::Panic, err.to_string()))?;
        // SAFETY: the caller's promise about `out` and `len`.
        unsafe { copy_out(&body, out, out_cap, len, "request") }
    })
}

/// Opens the service's answer (the body of a 201 from `/v1/enrol`): the device key must open
/// with this enrolment's key pair and this exact document, match the document's commitment,
/// and the portrait its hash; with `issuer_public` (32 raw bytes of the issuer's Ed25519 key,
/// or NULL to skip) the issuer's signature is checked too. Then read the results with
/// `holoid_enrol_credential`, `holoid_enrol_portrait` and `holoid_enrol_take_device_key`.
///
/// # Safety
/// `answer` must be NULL or point to `answer_len` readable bytes; `issuer_public` NULL or 32
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_enrol_finish(
    enrolment: *mut HoloidEnrolment,
    answer: *const u8,
    answer_len: usize,
    issuer_public: *const u8,
) -> HoloidStatus {
    with_enrolment(enrolment, |e| {
        // SAFETY: the caller's promise about `answer`.
        let answer = unsafe { bytes(answer, answer_len, "answer", MAX_CREDENTIAL + MAX_PORTRAIT)? };
        let issuer = if issuer_public.is_null() {
            None
        } else {
            // SAFETY: 32 readable bytes by the caller's promise.
            let raw = unsafe { std::slice::from_raw_parts(issuer_public, 32) };
            let raw: [u8; 32] = raw.try_into().expect("32 bytes");
            Some(IssuerPublic::from_bytes(raw).map_err(|err| {
                fail(
                    HoloidStatus::InvalidArgument,
                    format!("the issuer's public key: {err}"),
                )
            })?)
        };
        let answer: Enrolment = serde_json::from_slice(answer).map_err(|err| {
            fail(
                HoloidStatus::InvalidArgument,
                format!("the answer is not an enrolment (the body of a 201 from /v1/enrol): {err}"),
            )
        })?;
        let done = answer.finish(&e.keys, issuer.as_ref()).map_err(|err| {
            let status = match &err {
                EnrolError::Unopenable | EnrolError::BadSealedKey(_) => HoloidStatus::Unopenable,
                EnrolError::Credential(holoid_core::credential::CredentialError::WrongDeviceKey) => {
                    HoloidStatus::KeyMismatch
                }
                EnrolError::Credential(holoid_core::credential::CredentialError::PortraitMismatch {
                    ..
                })
                | EnrolError::BadPortrait(_) => HoloidStatus::BadPortrait,
                EnrolError::Credential(_) => HoloidStatus::BadCredential,
                EnrolError::BadOffer(_) | EnrolError::BadPublicKey => HoloidStatus::InvalidArgument,
            };
            fail(status, err.to_string())
        })?;
        e.done = Some(done);
        Ok(())
    })
}

/// The enrolled credential document (the file `credential.json`, exactly as signed), after
/// `holoid_enrol_finish`. With `out` NULL or `out_cap` too small, `*len` gets the size needed
/// and the answer is `HOLOID_STATUS_BUFFER_SIZE`.
///
/// # Safety
/// `out` must be NULL or point to `out_cap` writable bytes; `len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_enrol_credential(
    enrolment: *mut HoloidEnrolment,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
) -> HoloidStatus {
    with_enrolment(enrolment, |e| {
        let done = finished(e)?;
        // SAFETY: the caller's promise about `out` and `len`.
        unsafe { copy_out(done.credential_json.as_bytes(), out, out_cap, len, "credential") }
    })
}

/// The enrolled portrait (PNG), after `holoid_enrol_finish`; buffer rules as for
/// `holoid_enrol_credential`.
///
/// # Safety
/// As `holoid_enrol_credential`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_enrol_portrait(
    enrolment: *mut HoloidEnrolment,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
) -> HoloidStatus {
    with_enrolment(enrolment, |e| {
        let done = finished(e)?;
        // SAFETY: the caller's promise about `out` and `len`.
        unsafe { copy_out(&done.portrait_png, out, out_cap, len, "portrait") }
    })
}

/// Hands the 32 raw bytes of the device key to the host, once, for it to import into its
/// keystore (then wipe its buffer and draw through `holoid_engine_new_with_key_provider`).
/// holoid wipes its own copy; a second call answers `HOLOID_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `out` must be NULL or point to 32 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn holoid_enrol_take_device_key(
    enrolment: *mut HoloidEnrolment,
    out: *mut u8,
) -> HoloidStatus {
    with_enrolment(enrolment, |e| {
        if out.is_null() {
            return Err(fail(HoloidStatus::NullPointer, "the key buffer is NULL"));
        }
        let done = finished(e)?;
        let key = done.device_key.as_bytes();
        if key.iter().all(|b| *b == 0) {
            return Err(fail(
                HoloidStatus::InvalidArgument,
                "the device key was already taken (holoid keeps no copy)",
            ));
        }
        // SAFETY: 32 writable bytes by the caller's promise.
        unsafe { std::ptr::copy_nonoverlapping(key.as_ptr(), out, 32) };
        done.device_key = DeviceKey::from_bytes([0; 32]);
        Ok(())
    })
}

fn finished(e: &mut Enrol) -> Result<&mut Enrolled, Failure> {
    e.done.as_mut().ok_or_else(|| {
        fail(
            HoloidStatus::InvalidArgument,
            "the enrolment is not finished: call holoid_enrol_finish with the service's answer first",
        )
    })
}

/// Ends an enrolment and wipes its key pair and any key not taken. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn holoid_enrol_free(enrolment: *mut HoloidEnrolment) -> HoloidStatus {
    free_handle(&ENROLMENTS, enrolment, "enrolment", "holoid_enrol_new")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: holoid_last_error returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(holoid_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_key_text_cut_to_32_bytes_is_refused_with_what_to_pass() {
        let key = DeviceKey::from_bytes([7; 32]);
        let text = key.to_text();
        assert!(text.len() > 32);
        let Err(e) = parse_key(&text.as_bytes()[..32]) else {
            panic!("32 bytes of the key text were taken as a key")
        };
        assert_eq!(e.status, HoloidStatus::InvalidArgument);
        assert!(e.message.contains("whole text"), "{}", e.message);
        assert_eq!(
            parse_key(text.as_bytes()).ok().map(|k| *k.as_bytes()),
            Some([7; 32])
        );
        assert_eq!(parse_key(&[7; 32]).ok().map(|k| *k.as_bytes()), Some([7; 32]));
    }

    #[test]
    fn forged_and_null_handles_are_refused_without_touching_memory() {
        let forged: *mut HoloidEngine = std::ptr::without_provenance_mut(0xdead_beef);
        assert_eq!(holoid_engine_free(forged), HoloidStatus::InvalidHandle);
        assert!(last_error().contains("not a live engine"));
        assert_eq!(
            holoid_engine_set_capture_state(forged, 0),
            HoloidStatus::InvalidHandle
        );
        assert_eq!(
            holoid_engine_set_capture_state(std::ptr::null_mut(), 0),
            HoloidStatus::NullPointer
        );
        assert_eq!(holoid_engine_free(std::ptr::null_mut()), HoloidStatus::Ok);
    }

    #[test]
    fn panics_become_a_status_and_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, HoloidStatus::Panic);
        assert!(last_error().contains("boom"), "{}", last_error());
    }

    #[test]
    fn options_are_checked() {
        let mut o = holoid_options_default();
        assert!(renderer_options(&o).is_ok());
        o.width = 0;
        assert_eq!(
            renderer_options(&o).unwrap_err().status,
            HoloidStatus::InvalidArgument
        );
        o = holoid_options_default();
        o.window_period_secs = 31;
        assert_eq!(
            renderer_options(&o).unwrap_err().status,
            HoloidStatus::InvalidArgument
        );
        o = holoid_options_default();
        o.modulation = 2;
        assert_eq!(
            renderer_options(&o).unwrap_err().status,
            HoloidStatus::InvalidArgument
        );
    }

    #[test]
    fn status_names_match_the_header() {
        // SAFETY: static NUL-terminated strings.
        let name = |s: HoloidStatus| {
            unsafe { CStr::from_ptr(holoid_status_name(s as i32)) }
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(name(HoloidStatus::Ok), "HOLOID_STATUS_OK");
        assert_eq!(name(HoloidStatus::KeyMismatch), "HOLOID_STATUS_KEY_MISMATCH");
        assert_eq!(name(HoloidStatus::NoSurface), "HOLOID_STATUS_NO_SURFACE");
        for (i, s) in STATUSES.iter().enumerate() {
            assert_eq!(*s as usize, i, "STATUSES in value order");
        }
        // SAFETY: a static NUL-terminated string.
        assert_eq!(
            unsafe { CStr::from_ptr(holoid_status_name(99)) }.to_str(),
            Ok("HOLOID_STATUS_UNKNOWN")
        );
    }
}
