//! The machine-readable code: its payload, its error-correcting codeword, and (in
//! [`geometry`]) where its modules sit on the card.
//!
//! **Payload** (20 bytes):
//!
//! | bytes  | field                                                             |
//! |--------|-------------------------------------------------------------------|
//! | 0      | code version, 1                                                   |
//! | 1      | window period in seconds (1..=30)                                  |
//! | 2..6   | window number `w`, low 32 bits, big-endian                        |
//! | 6..14  | credential locator: `SHA-256("holoid/v1/locator" ‖ id)[..8]`      |
//! | 14..20 | tag: `HMAC-SHA256(seed_w, "holoid/v1/code-tag" ‖ bytes 0..14)[..6]` (48 bits) |
//!
//! **Codeword** (60 bytes): the payload followed by 40 Reed–Solomon check bytes
//! ([`rs`]), XORed with a fixed whitening sequence so no payload draws large flat areas.
//! It corrects any 20 wrong bytes, or 40 bytes flagged unreadable, or a mix with
//! `2·wrong + unreadable ≤ 40`. Past that, decoding fails, or in the rare case it lands
//! on another codeword, the 48-bit tag fails: a wrong payload is never accepted.
//!
//! Pure: no GPU or I/O types.

pub mod geometry;
pub mod rs;

use std::fmt;
use std::ops::RangeInclusive;

use subtle::ConstantTimeEq;

use crate::keys::DeviceKey;
use crate::mac::{hmac_sha256, sha256};
use crate::time::UnixMillis;
use crate::timekey::{Window, WindowPeriod, WindowSeed};
use geometry::MODULE_COUNT;
use rs::ReedSolomon;

/// Version byte of the current payload layout.
pub const CODE_VERSION: u8 = 1;
/// Bytes in a payload.
pub const PAYLOAD_LEN: usize = 20;
/// Reed–Solomon check bytes.
pub const PARITY_LEN: usize = 40;
/// Bytes in a codeword: payload and check bytes.
pub const CODEWORD_LEN: usize = PAYLOAD_LEN + PARITY_LEN;
/// Bytes of tag.
pub const TAG_LEN: usize = 6;
/// Domain label of the code tag.
pub const TAG_LABEL: &[u8] = b"holoid/v1/code-tag";
/// Domain label of the credential locator.
pub const LOCATOR_LABEL: &[u8] = b"holoid/v1/locator";

const _: () = assert!(CODEWORD_LEN * 8 == MODULE_COUNT);

/// The fixed whitening sequence: xorshift32 from the seed "holo" (0x686f6c6f), low byte of
/// each step.
const WHITENING: [u8; CODEWORD_LEN] = {
    let mut out = [0u8; CODEWORD_LEN];
    let mut x: u32 = 0x686f_6c6f;
    let mut i = 0;
    while i < CODEWORD_LEN {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = x as u8;
        i += 1;
    }
    out
};

/// Why a code could not be read or parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeError {
    /// The reading does not have one value per data module.
    WrongModuleCount {
        /// Modules given.
        found: usize,
    },
    /// Too many modules are wrong or unreadable for the error-correcting code.
    Unreadable {
        /// Bytes that had at least one unreadable module.
        erased_bytes: usize,
    },
    /// A payload of a code version this build does not know.
    UnsupportedVersion(u8),
    /// A payload whose window period is outside 1..=30 s.
    BadPeriod(u8),
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeError::WrongModuleCount { found } => {
                write!(f, "a code reading needs {MODULE_COUNT} modules, got {found}")
            }
            CodeError::Unreadable { erased_bytes } => write!(
                f,
                "the code is unreadable ({erased_bytes} of {CODEWORD_LEN} bytes obscured, \
                 more errors than the code corrects): retake the photo closer, steadier, \
                 without glare"
            ),
            CodeError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "code version {v} is not supported (this build reads version {CODE_VERSION})"
                )
            }
            CodeError::BadPeriod(p) => write!(f, "code carries a window period of {p} s, outside 1..=30"),
        }
    }
}

impl std::error::Error for CodeError {}

/// What a verifier needs to find the credential: 8 bytes derived from its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Locator(pub [u8; 8]);

impl Locator {
    /// `SHA-256("holoid/v1/locator" || id)[..8]`.
    pub fn of(credential_id: &str) -> Locator {
        let h = sha256(&[LOCATOR_LABEL, credential_id.as_bytes()]);
        let mut l = [0u8; 8];
        l.copy_from_slice(&h[..8]);
        Locator(l)
    }
}

/// The decoded content of a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The window period the card was drawn with.
    pub period: WindowPeriod,
    /// Low 32 bits of the window number.
    pub window_low: u32,
    /// Finds the credential.
    pub locator: Locator,
    /// The window tag.
    pub tag: [u8; TAG_LEN],
}

/// The result of checking a payload's tag against the verifier's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagCheck {
    /// Authentic, and the window is one the verifier accepts now.
    Fresh {
        /// The card's window.
        window: Window,
        /// Its offset from the verifier's window (-1, 0, +1 by default).
        offset: i64,
    },
    /// Authentic, but older than the accepted windows: a replay.
    Stale {
        /// The card's window.
        window: Window,
        /// When that window began.
        drawn_at: UnixMillis,
    },
    /// Authentic, but later than the accepted windows (a phone clock far ahead, or a card
    /// pre-rendered for the future).
    Ahead {
        /// The card's window.
        window: Window,
    },
    /// The tag does not match: not drawn with this credential's device key.
    Invalid,
}

impl Payload {
    /// The payload a wallet shows in `window`, tagged with its device key.
    pub fn issue(device_key: &DeviceKey, locator: Locator, period: WindowPeriod, window: Window) -> Payload {
        Payload::issue_with_seed(&WindowSeed::derive(device_key, window), locator, period, window)
    }

    /// The payload a wallet shows in `window`, tagged with that window's seed (derived by
    /// whatever holds the device key).
    pub fn issue_with_seed(
        seed: &WindowSeed,
        locator: Locator,
        period: WindowPeriod,
        window: Window,
    ) -> Payload {
        let mut p = Payload {
            period,
            window_low: window.low32(),
            locator,
            tag: [0; TAG_LEN],
        };
        p.tag = p.expected_tag(seed);
        p
    }

    fn header(&self) -> [u8; PAYLOAD_LEN - TAG_LEN] {
        let mut h = [0u8; PAYLOAD_LEN - TAG_LEN];
        h[0] = CODE_VERSION;
        h[1] = self.period.secs();
        h[2..6].copy_from_slice(&self.window_low.to_be_bytes());
        h[6..14].copy_from_slice(&self.locator.0);
        h
    }

    /// The tag this payload's header should carry under `seed`.
    pub fn expected_tag(&self, seed: &WindowSeed) -> [u8; TAG_LEN] {
        let mac = hmac_sha256(seed.as_bytes(), &[TAG_LABEL, &self.header()]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&mac[..TAG_LEN]);
        tag
    }

    /// The 20 payload bytes.
    pub fn to_bytes(&self) -> [u8; PAYLOAD_LEN] {
        let mut b = [0u8; PAYLOAD_LEN];
        b[..PAYLOAD_LEN - TAG_LEN].copy_from_slice(&self.header());
        b[PAYLOAD_LEN - TAG_LEN..].copy_from_slice(&self.tag);
        b
    }

    /// Parses 20 payload bytes (the tag is not checked here).
    pub fn from_bytes(b: &[u8; PAYLOAD_LEN]) -> Result<Payload, CodeError> {
        if b[0] != CODE_VERSION {
            return Err(CodeError::UnsupportedVersion(b[0]));
        }
        let period = WindowPeriod::from_secs(u64::from(b[1])).map_err(|_| CodeError::BadPeriod(b[1]))?;
        let mut locator = [0u8; 8];
        locator.copy_from_slice(&b[6..14]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&b[14..]);
        Ok(Payload {
            period,
            window_low: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
            locator: Locator(locator),
            tag,
        })
    }

    /// The full window number nearest to the verifier's time `now`.
    pub fn window_near(&self, now: UnixMillis) -> Window {
        Window::from_low32_near(self.window_low, self.period.window_at(now))
    }

    /// Checks the tag under `device_key` (constant-time comparison) and places its window
    /// against the verifier's time `now` and the `accepted` windows.
    pub fn check(
        &self,
        device_key: &DeviceKey,
        now: UnixMillis,
        accepted: RangeInclusive<Window>,
    ) -> TagCheck {
        let window = self.window_near(now);
        let expected = self.expected_tag(&WindowSeed::derive(device_key, window));
        if !bool::from(expected.ct_eq(&self.tag)) {
            return TagCheck::Invalid;
        }
        let own = self.period.window_at(now);
        if accepted.contains(&window) {
            TagCheck::Fresh {
                window,
                offset: window.0 as i64 - own.0 as i64,
            }
        } else if window < *accepted.start() {
            TagCheck::Stale {
                window,
                drawn_at: self.period.start_of(window),
            }
        } else {
            TagCheck::Ahead { window }
        }
    }
}

/// A whitened codeword: what the card draws, one bit per data module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codeword(pub [u8; CODEWORD_LEN]);

impl Codeword {
    /// Encodes a payload: check bytes added, then whitened.
    pub fn encode(payload: &Payload) -> Codeword {
        let mut w = [0u8; CODEWORD_LEN];
        w[..PAYLOAD_LEN].copy_from_slice(&payload.to_bytes());
        let (msg, parity) = w.split_at_mut(PAYLOAD_LEN);
        reed_solomon().encode_into(msg, parity);
        for (b, k) in w.iter_mut().zip(WHITENING) {
            *b ^= k;
        }
        Codeword(w)
    }

    /// Whether data module `index` is dark (see [`geometry`] for where it sits).
    pub fn module(&self, index: usize) -> bool {
        self.0[index / 8] >> (7 - index % 8) & 1 == 1
    }

    /// All data modules, dark = `true`.
    pub fn modules(&self) -> [bool; MODULE_COUNT] {
        std::array::from_fn(|i| self.module(i))
    }
}

/// A decoded code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The payload (its tag still to be checked with [`Payload::check`]).
    pub payload: Payload,
    /// Bytes the error-correcting code repaired.
    pub corrected_bytes: usize,
    /// Bytes that had an unreadable module.
    pub erased_bytes: usize,
}

/// Decodes a reading of the data modules: `Some(dark)` per module, `None` where the module
/// could not be read (glare, occlusion).
pub fn decode(modules: &[Option<bool>]) -> Result<Decoded, CodeError> {
    if modules.len() != MODULE_COUNT {
        return Err(CodeError::WrongModuleCount { found: modules.len() });
    }
    let word = whitened(modules);
    let erasures: Vec<usize> = (0..CODEWORD_LEN)
        .filter(|&i| modules[i * 8..i * 8 + 8].iter().any(Option::is_none))
        .collect();
    let erased_bytes = erasures.len();
    corrected(word, &erasures).unwrap_or(Err(CodeError::Unreadable { erased_bytes }))
}

/// The codeword bytes a reading spells, whitening taken off (an unread module as light).
fn whitened(modules: &[Option<bool>]) -> [u8; CODEWORD_LEN] {
    std::array::from_fn(|i| {
        let raw = modules[i * 8..i * 8 + 8]
            .iter()
            .fold(0u8, |acc, b| acc << 1 | u8::from(b.unwrap_or(false)));
        raw ^ WHITENING[i]
    })
}

/// `word` corrected with `erasures` and its payload; `None` if Reed–Solomon cannot correct it.
fn corrected(mut word: [u8; CODEWORD_LEN], erasures: &[usize]) -> Option<Result<Decoded, CodeError>> {
    let corrected_bytes = reed_solomon().correct(&mut word, erasures).ok()?;
    let mut payload = [0u8; PAYLOAD_LEN];
    payload.copy_from_slice(&word[..PAYLOAD_LEN]);
    Some(Payload::from_bytes(&payload).map(|payload| Decoded {
        payload,
        corrected_bytes,
        erased_bytes: erasures.len(),
    }))
}

/// Decodes soft readings of the data modules: per module, how dark it looks against its
/// surroundings (above zero: dark; the larger, the surer; `None`: not seen), as
/// `detect::read_module_levels` gives them.
///
/// First as [`decode`] with modules within `unsure` of zero erased. If that fails (blur
/// leaves many modules near the threshold: too many erased bytes, though most of them read
/// right), generalised minimum-distance decoding: every module is decided by its sign and
/// the least sure bytes are erased, 0, 4, 8, … up to [`PARITY_LEN`] − [`GMD_MARGIN`] of
/// them, until one decodes to a payload that parses. A wrong codeword stays out of reach:
/// each try corrects only within the code's distance, and the margin of check bytes never
/// erased checks the rest (erasing all 40 "corrects" any reading at all, and about one
/// random reading in 2 000 then parsed: a misread card of another credential).
pub fn decode_levels(levels: &[Option<f32>], unsure: f32) -> Result<Decoded, CodeError> {
    if levels.len() != MODULE_COUNT {
        return Err(CodeError::WrongModuleCount { found: levels.len() });
    }
    let hard: Vec<Option<bool>> = levels
        .iter()
        .map(|l| l.filter(|l| l.abs() >= unsure).map(|l| l > 0.0))
        .collect();
    let first = decode(&hard);
    if first.is_ok() {
        return first;
    }
    // Each byte's reliability: its least sure module (an unseen module: none).
    let mut order: Vec<(usize, f32)> = levels
        .chunks_exact(8)
        .map(|bits| {
            bits.iter()
                .map(|l| l.map_or(0.0, f32::abs))
                .fold(f32::MAX, f32::min)
        })
        .enumerate()
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let word = whitened(&levels.iter().map(|l| l.map(|l| l > 0.0)).collect::<Vec<_>>());
    for erase in (0..=PARITY_LEN - GMD_MARGIN).step_by(4) {
        let mut erasures: Vec<usize> = order[..erase].iter().map(|&(i, _)| i).collect();
        // Unseen modules' bytes are erased whatever the budget.
        erasures.extend(
            order[erase..]
                .iter()
                .filter(|&&(i, _)| levels[i * 8..i * 8 + 8].iter().any(Option::is_none))
                .map(|&(i, _)| i),
        );
        if erasures.len() > PARITY_LEN - GMD_MARGIN {
            break;
        }
        // A corrected word whose payload does not parse was not this code (a parse error
        // of a code read without erasures is reported as it is, above).
        if let Some(Ok(decoded)) = corrected(word, &erasures) {
            return Ok(decoded);
        }
    }
    first
}

/// Check bytes' worth that generalised minimum-distance decoding never erases, so that a
/// reading it corrects is still checked by 8 bytes: a random reading then decodes with odds
/// of about 5 in a million (words within 4 errors of a codeword of the 28 bytes left). On
/// 720 simulated frames at every capture level (seeds 2 and 3) not one frame that decoded
/// with all 40 erasable decoded less with 32.
pub const GMD_MARGIN: usize = 8;

fn reed_solomon() -> &'static ReedSolomon {
    static RS: std::sync::OnceLock<ReedSolomon> = std::sync::OnceLock::new();
    RS.get_or_init(|| ReedSolomon::new(PARITY_LEN))
}
