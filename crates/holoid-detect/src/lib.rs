//! The forgery detector: from camera photos of a phone screen (one, or a burst) to a
//! [`Verdict`] — genuine, forgery or inconclusive — with reasons.
//!
//! Each frame goes through:
//! 1. [`locate`]: find the card's corner marks and the homography from the design canvas;
//! 2. [`modules`] + [`holoid_core::code::decode`]: read the code through it (Reed–Solomon) and check
//!    the window tag in constant time against the accepted windows of the capture time — a
//!    wrong tag, another credential's code or a stale window is a forgery, an unreadable code
//!    asks for a retake;
//! 3. [`sweep`]: read the time sweep, so the time the card shows is known to ~0.1 s; a card
//!    that lags the capture by more than the clock tolerance is a replay, even inside the
//!    accepted windows;
//! 4. [`content`]: compare the portrait with the credential's, so a cloned key with another
//!    face fails.
//!
//! A burst adds one check: the times the frames show must advance with their capture times
//! (a still screenshot does not move; a slowed recording does not keep up).
//!
//! The cues are cryptographic (the tag) and physical (the sweep is a clock drawn on the
//! card; the portrait is what the credential says); none is learnt from the simulator. The
//! only tuned numbers are the confidence and similarity thresholds of [`DetectorConfig`],
//! chosen on simulator seeds that the reported figures do not use (see `docs/detector.md`).
//!
//! [`input`] decodes photo bytes with a pixel limit checked before decoding. CPU only.
//!
//! This crate must not depend on wgpu, the service's stack (tokio, axum, sqlx) or the simulator: it runs
//! where the verifier's camera is, on the CPU.

pub mod content;
pub mod evidence;
pub mod input;
pub mod locate;
pub mod modules;
pub mod rectify;
pub mod sample;
pub mod sweep;
pub mod text;
pub mod verdict;

use std::fmt;

use image::{GrayImage, RgbImage};

pub use modules::read_modules;
pub use verdict::{Decision, FrameReport, Outcome, Reason, ReasonCode, StatusFinding, Timings, Verdict};

use evidence::{EvidenceError, FrameEvidence};
use holoid_core::code::{CodeError, Decoded, Locator, Payload, TagCheck, decode_levels};
use holoid_core::credential::{Credential, CredentialError};
use holoid_core::homography::Homography;
use holoid_core::keys::{DeviceKey, MasterKey};
use holoid_core::pattern::Pattern;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::{AcceptPolicy, Window, WindowPeriod};
use locate::{LocateError, Located};
use verdict::{clock_time, human_duration};

/// The per-step timings' clock: std's monotonic clock, except in the browser build
/// (wasm32-unknown-unknown has no clock of its own, and std's panics there), where every
/// step reads 0 µs and the page times the check itself.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Clone, Copy, Debug)]
struct Stopwatch(std::time::Instant);

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    /// Microseconds since `start`.
    fn micros(&self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

/// The browser build's stand-in: no clock, every step 0 µs.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[derive(Clone, Copy, Debug)]
struct Stopwatch;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch
    }

    fn micros(&self) -> u64 {
        0
    }
}

/// Why a straightened card image is not the checked credential's card (see
/// [`Detector::card_image_matches`]).
#[derive(Clone, Debug, PartialEq)]
pub enum CardImageError {
    /// The image is not [`rectify::CARD_IMAGE_SIZE`].
    Size {
        /// Its width, pixels.
        width: u32,
        /// Its height, pixels.
        height: u32,
    },
    /// The portrait is not the credential's, or not clearly: the photo check's reason.
    Portrait(Reason),
    /// The lettering is not the credential's, or cannot be read: the photo check's reason.
    Text(Reason),
}

impl fmt::Display for CardImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardImageError::Size { width, height } => {
                let (w, h) = rectify::CARD_IMAGE_SIZE;
                write!(
                    f,
                    "the card image is {width}x{height}; a straightened card is {w}x{h}"
                )
            }
            CardImageError::Portrait(r) | CardImageError::Text(r) => {
                write!(f, "in the card image, {}", r.message)
            }
        }
    }
}

impl std::error::Error for CardImageError {}

/// Why a check could not be made at all (as opposed to a verdict of "inconclusive").
#[derive(Debug)]
#[non_exhaustive]
pub enum DetectError {
    /// The key given is not this credential's device key (or master key).
    KeyMismatch(CredentialError),
    /// The portrait image is not the credential's, or cannot be decoded.
    Portrait(String),
    /// A configuration value out of range.
    BadConfig(String),
    /// No captures were given.
    NoCaptures,
    /// Capture times go backwards.
    TimesOutOfOrder {
        /// The first frame (0-based) earlier than the one before it.
        frame: usize,
    },
    /// A frame's evidence (see [`Detector::check_evidence`]) is malformed.
    Evidence {
        /// The frame (0-based).
        frame: usize,
        /// What is wrong with it.
        error: EvidenceError,
    },
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectError::KeyMismatch(e) => write!(f, "the key does not belong to this credential: {e}"),
            DetectError::Portrait(e) => write!(f, "the credential's portrait: {e}"),
            DetectError::BadConfig(e) => write!(f, "detector configuration: {e}"),
            DetectError::NoCaptures => write!(f, "no photos to check"),
            DetectError::TimesOutOfOrder { frame } => write!(
                f,
                "capture times must not go backwards: frame {} is earlier than frame {frame}",
                frame + 1
            ),
            DetectError::Evidence { frame, error } => write!(f, "frame {}'s evidence: {error}", frame + 1),
        }
    }
}

impl std::error::Error for DetectError {}

/// What the verifier trusts: the credential (its signature already verified), its device
/// key, and its portrait.
#[derive(Clone, Debug)]
pub struct Trust {
    credential: Credential,
    device_key: DeviceKey,
    locator: Locator,
    portrait_cells: content::Reference,
    text: text::TextReference,
}

impl Trust {
    /// A trust context from the credential, its device key and the portrait file's bytes
    /// (checked against the credential's portrait hash).
    pub fn new(
        credential: &Credential,
        device_key: DeviceKey,
        portrait_png: &[u8],
    ) -> Result<Trust, DetectError> {
        credential
            .check_device_key(&device_key)
            .map_err(DetectError::KeyMismatch)?;
        credential
            .portrait
            .check(portrait_png)
            .map_err(|e| DetectError::Portrait(e.to_string()))?;
        let portrait = image::load_from_memory(portrait_png)
            .map_err(|e| DetectError::Portrait(e.to_string()))?
            .to_rgb8();
        Ok(Trust {
            locator: Locator::of(&credential.id),
            credential: credential.clone(),
            device_key,
            portrait_cells: content::reference(&portrait),
            text: text::reference(credential),
        })
    }

    /// As [`Trust::new`], deriving the device key from the pattern master key `M`.
    pub fn from_master(
        credential: &Credential,
        master: &MasterKey,
        portrait_png: &[u8],
    ) -> Result<Trust, DetectError> {
        Trust::new(credential, master.device_key_for(credential), portrait_png)
    }

    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// What the verifier's device measures frames against ([`evidence::measure`]): the
    /// registered portrait's cells and the credential's lettering. No key is in it.
    pub fn record(&self) -> evidence::Record {
        evidence::Record {
            portrait: Some(self.portrait_cells.clone()),
            text: Some(self.text.clone()),
        }
    }
}

/// One photo and when it was taken (the verifier's clock).
#[derive(Clone, Copy, Debug)]
pub struct Capture<'a> {
    /// The photo.
    pub image: &'a RgbImage,
    /// Capture time.
    pub time: UnixMillis,
}

/// The detector's settings. [`Default`] gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorConfig {
    /// How far the time the sweep shows may be from the capture time, milliseconds.
    /// Default 1000 (docs/design.md).
    pub clock_tolerance_ms: u64,
    /// Windows accepted around the capture time. Default one before, one after.
    pub accept: AcceptPolicy,
    /// How far a burst's shown times may drift from its capture times between its first and
    /// last read frames, milliseconds. Default 400.
    pub burst_tolerance_ms: u64,
    /// The least correlation of the ring with the sweep's shape for a reading to count.
    /// Default 0.5.
    pub min_sweep_confidence: f32,
    /// The largest share of portrait cells off colour (see [`content::compare_portrait`])
    /// for the portrait to match. Default 0.12.
    pub portrait_match_max_off: f32,
    /// The share of portrait cells off colour from which the portrait is another face.
    /// Default 0.25; between the two the check asks for a retake.
    pub portrait_mismatch_min_off: f32,
    /// The correlation of the portrait's light and dark with the credential's that a match
    /// needs; a mismatch needs less (glare lowers it a little, another face a lot; below
    /// half of it the portrait is another picture whatever its colours) unless the colours
    /// are off where there is little glare (`portrait_max_glare`). Default 0.93.
    pub portrait_min_correlation: f32,
    /// The most glare (light added, as a share of the display's white) under which a
    /// portrait with at least `portrait_mismatch_min_off` of its cells off colour is another
    /// face whatever its correlation: what is left of glare after it is taken out moves a few
    /// cells at most. Default 0.1 (tuning seeds 2 and 3: the credential's own portrait came
    /// out that far off only under glare of 0.156 and more; another face of the same pose
    /// under 0.03–0.05).
    pub portrait_max_glare: f32,
    /// A value field whose worst window agrees with the credential's lettering less than
    /// this share of the card's median field (see [`text::compare_text`]) was edited.
    /// Default 0.6 (genuine cards of the tuning seed: 0.8 and above; see `docs/detector.md`).
    pub text_mismatch_below: f32,
    /// The median field agreement below which the photo is too blurred to judge words
    /// letter by letter (the text check then says so and decides nothing). Default 0.5.
    pub text_min_clarity: f32,
    /// The most glare on the portrait (light added, as a share of the display's white; see
    /// [`content::compare_portrait`]) in the frame a field disagrees in for the
    /// disagreement to count as an edit: glare on the glass flattens lettering beside it
    /// unevenly. Default 0.03 (frames without glare of the tuning seed: 0.022 at most).
    pub text_max_glare: f32,
    /// A character whose glyph margin (see [`text::GlyphComparison`]) is at most this,
    /// with at least `glyph_min_separation`, in every clear photo looks more like another
    /// character than like the credential's: the field was edited. Default -0.4.
    pub glyph_mismatch_at_most: f32,
    /// The least separation (see [`text::GlyphComparison::separation`]) at which a glyph
    /// margin counts as evidence of an edit: below it the photo's noise and blur could
    /// have made the margin. Default 0.4 (tuning seed 2: bona fide characters taken for
    /// another reached 0.38, all in the 30- and 36-unit lettering; with the separation
    /// measured against the better fit (session 15), 0.395 on seeds 2 and 4245, and 0.465
    /// once in held-out seed 4246, an address digit at hard, in one photo of its burst: a
    /// thin margin, see `docs/detector.md`).
    pub glyph_min_separation: f32,
    /// A character of a critical field (birth date, resident number, expiry date) whose glyph
    /// margin is below this in every photo that can tell it from its nearest replacement
    /// (separation at least `glyph_min_separation`; in every photo where none can) leans
    /// towards another character: the check asks for a retake instead of accepting. Default
    /// -0.2 (tuning seed 2: genuine cards' critical characters at hard reached -0.17 at worst
    /// in their best photo).
    pub glyph_clear_from: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            clock_tolerance_ms: 1000,
            accept: AcceptPolicy::default(),
            burst_tolerance_ms: 400,
            min_sweep_confidence: 0.5,
            portrait_match_max_off: 0.12,
            portrait_mismatch_min_off: 0.25,
            portrait_min_correlation: 0.93,
            portrait_max_glare: 0.1,
            text_mismatch_below: 0.6,
            text_min_clarity: 0.5,
            text_max_glare: 0.03,
            glyph_mismatch_at_most: -0.4,
            glyph_min_separation: 0.4,
            glyph_clear_from: -0.2,
        }
    }
}

impl DetectorConfig {
    /// Checks the values' ranges.
    pub fn validate(&self) -> Result<(), DetectError> {
        let bad = |m: String| Err(DetectError::BadConfig(m));
        if !(50..=30_000).contains(&self.clock_tolerance_ms) {
            return bad(format!(
                "clock tolerance {} ms is outside 50..30000 ms",
                self.clock_tolerance_ms
            ));
        }
        if !(50..=30_000).contains(&self.burst_tolerance_ms) {
            return bad(format!(
                "burst tolerance {} ms is outside 50..30000 ms",
                self.burst_tolerance_ms
            ));
        }
        if !(0.0..1.0).contains(&self.min_sweep_confidence) {
            return bad(format!(
                "sweep confidence {} is outside 0..1",
                self.min_sweep_confidence
            ));
        }
        let (lo, hi) = (self.portrait_match_max_off, self.portrait_mismatch_min_off);
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
            return bad(format!(
                "portrait thresholds {lo} (match at most) and {hi} (mismatch from) must lie in \
                 0..1, the first not above the second"
            ));
        }
        if !(-1.0..1.0).contains(&self.portrait_min_correlation) {
            return bad(format!(
                "portrait correlation {} is outside -1..1",
                self.portrait_min_correlation
            ));
        }
        if !(0.0..1.0).contains(&self.text_mismatch_below) || !(0.0..1.0).contains(&self.text_min_clarity) {
            return bad(format!(
                "text thresholds {} (edited below) and {} (clarity) must lie in 0..1",
                self.text_mismatch_below, self.text_min_clarity
            ));
        }
        let (bad_glyph, clear_glyph) = (self.glyph_mismatch_at_most, self.glyph_clear_from);
        if !(-1.0..=1.0).contains(&bad_glyph)
            || !(-1.0..=1.0).contains(&clear_glyph)
            || bad_glyph >= clear_glyph
        {
            return bad(format!(
                "glyph margins {bad_glyph} (another character at most) and {clear_glyph} (the \
                 credential's from) must lie in -1..1, the first below the second"
            ));
        }
        if !(0.0..=10.0).contains(&self.glyph_min_separation) {
            return bad(format!(
                "glyph separation {} must lie in 0..10",
                self.glyph_min_separation
            ));
        }
        if !(0.0..=1.0).contains(&self.text_max_glare) {
            return bad(format!(
                "text glare limit {} must lie in 0..1 (a share of the display's white)",
                self.text_max_glare
            ));
        }
        if !(0.0..=1.0).contains(&self.portrait_max_glare) {
            return bad(format!(
                "portrait glare limit {} must lie in 0..1 (a share of the display's white)",
                self.portrait_max_glare
            ));
        }
        Ok(())
    }
}

/// Builds a [`Detector`]: start from [`Detector::builder`], change what differs from the
/// defaults of [`DetectorConfig`], then [`build`](DetectorBuilder::build).
#[derive(Clone, Debug)]
pub struct DetectorBuilder {
    trust: Trust,
    config: DetectorConfig,
}

impl DetectorBuilder {
    /// Sets the clock tolerance, milliseconds.
    pub fn clock_tolerance_ms(mut self, ms: u64) -> Self {
        self.config.clock_tolerance_ms = ms;
        self
    }

    /// Sets the accepted windows.
    pub fn accept(mut self, policy: AcceptPolicy) -> Self {
        self.config.accept = policy;
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: DetectorConfig) -> Self {
        self.config = config;
        self
    }

    /// The detector, or why the configuration is out of range.
    pub fn build(self) -> Result<Detector, DetectError> {
        self.config.validate()?;
        Ok(Detector {
            trust: self.trust,
            config: self.config,
        })
    }
}

/// The forgery detector for one credential.
#[derive(Clone, Debug)]
pub struct Detector {
    trust: Trust,
    config: DetectorConfig,
}

/// How a frame came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameState {
    Pass,
    Fail,
    Retake,
}

struct FrameResult {
    report: FrameReport,
    reasons: Vec<Reason>,
    state: FrameState,
}

impl Detector {
    /// A builder with the default configuration.
    pub fn builder(trust: Trust) -> DetectorBuilder {
        DetectorBuilder {
            trust,
            config: DetectorConfig::default(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Whether `card`, a card straightened at [`rectify::CARD_IMAGE_SIZE`] (the console's
    /// WebAssembly reader makes it from the frame it measured, to have a copy made of a check
    /// that sent no photo), shows this credential's portrait and lettering: the photo check's
    /// own portrait and text rules, on the one image. Neither the tag nor the time is judged
    /// (the check did that); this keeps a copy from showing another card than the one checked.
    pub fn card_image_matches(&self, card: &RgbImage) -> Result<(), CardImageError> {
        let (width, height) = card.dimensions();
        if (width, height) != rectify::CARD_IMAGE_SIZE {
            return Err(CardImageError::Size { width, height });
        }
        let to_image = rectify::straightened(width, height);
        let portrait = content::compare_portrait(card, &to_image, &self.trust.portrait_cells);
        let fields = text::compare_text(&sample::grey(card), &to_image, &self.trust.text);
        // One frame whose code was authentic (the check found it so), with these measures.
        let frame = FrameResult {
            report: FrameReport {
                window: Some(Window(0)),
                portrait_correlation: portrait.map(|p| p.correlation),
                portrait_cells_off: portrait.map(|p| p.cells_off),
                portrait_glare: portrait.map(|p| p.glare),
                portrait_saturation: portrait.map(|p| p.saturation),
                text_fields: fields.unwrap_or_default(),
                ..FrameReport::default()
            },
            reasons: Vec::new(),
            state: FrameState::Pass,
        };
        let frames = [frame];
        let mut reasons = Vec::new();
        let matched = portrait_check(&self.config, &frames, &mut reasons);
        let first = |codes: &[ReasonCode], reasons: &[Reason]| {
            reasons.iter().find(|r| codes.contains(&r.code)).cloned()
        };
        if !matched.is_some_and(|m| m.1) {
            let why = first(
                &[ReasonCode::PortraitMismatch, ReasonCode::PortraitUnclear],
                &reasons,
            );
            return Err(CardImageError::Portrait(why.unwrap_or(Reason {
                code: ReasonCode::PortraitUnclear,
                message: "the portrait does not match cleanly".into(),
                frame: Some(0),
            })));
        }
        let mut reasons = Vec::new();
        let read = text_check(&self.config, &frames, true, &mut reasons);
        match first(&[ReasonCode::TextMismatch, ReasonCode::TextUnclear], &reasons) {
            Some(why) => Err(CardImageError::Text(why)),
            None if !read => Err(CardImageError::Text(Reason {
                code: ReasonCode::TextUnclear,
                message: "the birth date and the resident number cannot be read".into(),
                frame: Some(0),
            })),
            None => Ok(()),
        }
    }

    /// What the verifier's device measures frames against (see [`Trust::record`]).
    pub fn record(&self) -> evidence::Record {
        self.trust.record()
    }

    /// Whether a capture whose verdict found no authentic tag (`invalid_tag`) shows an
    /// earlier enrolment's card instead: the first of `earlier` (detectors of the credential's
    /// earlier enrolments, newest first) under whose key any frame's tag is authentic. A card
    /// moved to a new phone leaves the old phone — or a copy of its key — drawing such tags.
    pub fn earlier_enrolment<'d, T, D: std::borrow::Borrow<Detector>>(
        verdict: &Verdict,
        captures: &[Capture<'_>],
        earlier: &'d [(T, D)],
    ) -> Option<&'d T> {
        Detector::earlier_enrolment_by(verdict, earlier, |d| d.check(captures))
    }

    /// As [`Detector::earlier_enrolment`], each earlier detector checking the capture with
    /// `check` (a photo check, or [`Detector::check_evidence`] on the same evidence).
    pub fn earlier_enrolment_by<'d, T, D: std::borrow::Borrow<Detector>>(
        verdict: &Verdict,
        earlier: &'d [(T, D)],
        check: impl Fn(&Detector) -> Result<Verdict, DetectError>,
    ) -> Option<&'d T> {
        if !verdict.reasons.iter().any(|r| r.code == ReasonCode::InvalidTag) {
            return None;
        }
        earlier.iter().find_map(|(which, d)| {
            check(d.borrow())
                .ok()
                .filter(|old| old.window.is_some())
                .map(|_| which)
        })
    }

    /// Checks a capture: one photo, or a burst of photos in the order taken.
    pub fn check(&self, captures: &[Capture<'_>]) -> Result<Verdict, DetectError> {
        let start = Stopwatch::start();
        if captures.is_empty() {
            return Err(DetectError::NoCaptures);
        }
        if let Some(i) = (1..captures.len()).find(|&i| captures[i].time < captures[i - 1].time) {
            return Err(DetectError::TimesOutOfOrder { frame: i - 1 });
        }
        let mut timings = Timings::default();
        let results: Vec<FrameResult> = captures
            .iter()
            .enumerate()
            .map(|(i, c)| self.check_frame(i, c, &mut timings))
            .collect();
        Ok(self.decide(results, captures[0].time, timings, start))
    }

    /// Checks a capture from the evidence the verifier's device measured (see [`evidence`]):
    /// one frame's, or a burst's in the order taken. What needs a key is done here — the tag
    /// in constant time, the window's keyed sweep turned into a time, the capture times
    /// against the windows — and the decision follows the same rules, with the same reasons,
    /// as [`Detector::check`] on the photos the evidence was measured from. The capture times
    /// are the evidence's: a server must first check them against its own clock.
    pub fn check_evidence(&self, frames: &[FrameEvidence]) -> Result<Verdict, DetectError> {
        let start = Stopwatch::start();
        if frames.is_empty() {
            return Err(DetectError::NoCaptures);
        }
        if let Some(i) = (1..frames.len()).find(|&i| frames[i].captured_at < frames[i - 1].captured_at) {
            return Err(DetectError::TimesOutOfOrder { frame: i - 1 });
        }
        let mut seen = Vec::with_capacity(frames.len());
        for (frame, f) in frames.iter().enumerate() {
            f.validate()
                .and_then(|()| sighting(f))
                .map(|s| seen.push(s))
                .map_err(|error| DetectError::Evidence { frame, error })?;
        }
        let mut timings = Timings::default();
        let results: Vec<FrameResult> = seen
            .into_iter()
            .zip(frames)
            .enumerate()
            .map(|(i, (s, f))| self.judge_frame(i, s, &mut FromEvidence(f), &mut timings))
            .collect();
        Ok(self.decide(results, frames[0].time(), timings, start))
    }

    /// The verdict from the frames' results: the burst, portrait and text checks over them,
    /// the credential's validity at `first_time`, and the decision.
    fn decide(
        &self,
        mut results: Vec<FrameResult>,
        first_time: UnixMillis,
        mut timings: Timings,
        start: Stopwatch,
    ) -> Verdict {
        let mut reasons: Vec<Reason> = Vec::new();
        if let Err(e) = self.trust.credential.check_valid_at(first_time) {
            reasons.push(Reason {
                code: ReasonCode::CredentialNotValid,
                message: e.to_string(),
                frame: None,
            });
        }
        let burst = self.burst_check(&results, &mut reasons);
        let portrait = portrait_check(&self.config, &results, &mut reasons);
        let text_read = text_check(
            &self.config,
            &results,
            portrait.is_some_and(|p| p.1),
            &mut reasons,
        );
        reasons.extend(results.iter_mut().flat_map(|r| std::mem::take(&mut r.reasons)));
        reasons.sort_by_key(|r| match r.code.outcome() {
            Outcome::Fail => 0,
            Outcome::Retake => 1,
            Outcome::Pass => 2,
        });
        let failed = reasons.iter().any(|r| r.code.outcome() == Outcome::Fail);
        let frame_scores = results.iter().map(|r| r.report.score);
        let whole = burst.unwrap_or(1.0).min(portrait.map_or(1.0, |p| p.0));
        let portrait_matches = portrait.is_some_and(|p| p.1);
        let (decision, score) = if failed {
            (Decision::Forgery, frame_scores.fold(whole, f32::min).min(0.49))
        } else if portrait_matches && text_read && results.iter().any(|r| r.state == FrameState::Pass) {
            let best = results
                .iter()
                .filter(|r| r.state == FrameState::Pass)
                .map(|r| r.report.score)
                .fold(0.0, f32::max);
            (Decision::Genuine, best.min(whole).max(0.5))
        } else {
            // Not accepted: below the boundary, above the forgeries where the evidence allows.
            (
                Decision::Inconclusive,
                frame_scores.fold(whole, f32::min).clamp(0.3, 0.49),
            )
        };
        let window = results.iter().find_map(|r| r.report.window);
        timings.total_us = start.micros();
        Verdict {
            decision,
            score,
            reasons,
            window,
            credential_id: self.trust.credential.id.clone(),
            frames: results.into_iter().map(|r| r.report).collect(),
            timings,
        }
    }

    /// The burst check over frames whose sweep was read: their shown times must advance
    /// with their capture times. Returns its score, if it could be made.
    fn burst_check(&self, results: &[FrameResult], reasons: &mut Vec<Reason>) -> Option<f32> {
        let read: Vec<(usize, &FrameReport)> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.report.shown_at.is_some())
            .map(|(i, r)| (i, &r.report))
            .collect();
        let (&(i, first), &(j, last)) = (read.first()?, read.last()?);
        let captured = last.captured_at.0 as i64 - first.captured_at.0 as i64;
        if captured < 150 {
            return None;
        }
        let shown = last.shown_at?.0 as i64 - first.shown_at?.0 as i64;
        let drift = (shown - captured).unsigned_abs();
        let tol = self.config.burst_tolerance_ms;
        let score = (1.0 - 0.5 * drift as f32 / tol as f32).clamp(0.0, 1.0);
        let span = format!("frames {} and {}", i + 1, j + 1);
        reasons.push(if drift > tol {
            Reason {
                code: ReasonCode::BurstNotAdvancing,
                message: format!(
                    "the card moved {} while {} passed between {span}: a still or slowed replay",
                    signed_duration(shown),
                    human_duration(captured as u64)
                ),
                frame: None,
            }
        } else {
            Reason {
                code: ReasonCode::BurstAdvances,
                message: format!(
                    "the card moved {} in the {} between {span}",
                    signed_duration(shown),
                    human_duration(captured as u64)
                ),
                frame: None,
            }
        });
        Some(score)
    }

    /// A photo's frame: its secret-free measures made here (the first steps as
    /// [`evidence::measure`] makes them, the sweep and the lettering only once the tag proved
    /// authentic), then judged.
    fn check_frame(&self, index: usize, capture: &Capture<'_>, timings: &mut Timings) -> FrameResult {
        let look = look(capture.image, Some(&self.trust.portrait_cells), timings);
        let code = look.decoded.map(|d| (d.payload, d.corrected_bytes));
        let located = match look.located {
            Ok(l) => l,
            Err(e) => {
                let seen = Sighting {
                    captured_at: capture.time,
                    located: Err(e),
                    code,
                    portrait: None,
                };
                return self.judge_frame(index, seen, &mut NothingMore, timings);
            }
        };
        let seen = Sighting {
            captured_at: capture.time,
            located: Ok(()),
            code,
            portrait: look.portrait,
        };
        let mut later = FromPhoto {
            grey: &look.grey,
            to_image: &located.to_image,
            text: &self.trust.text,
        };
        self.judge_frame(index, seen, &mut later, timings)
    }

    /// Judges one frame from what it showed (`seen`) and, once its tag proved authentic, the
    /// sweep and the lettering (`later`): the same rules whether the frame was a photo here or
    /// evidence from the verifier's device.
    fn judge_frame(
        &self,
        index: usize,
        seen: Sighting,
        later: &mut dyn LaterMeasures,
        timings: &mut Timings,
    ) -> FrameResult {
        let capture_time = seen.captured_at;
        let mut out = FrameResult {
            report: FrameReport {
                captured_at: capture_time,
                score: 0.5,
                ..Default::default()
            },
            reasons: Vec::new(),
            state: FrameState::Retake,
        };
        let say = |out: &mut FrameResult, code: ReasonCode, message: String| {
            out.reasons.push(Reason {
                code,
                message,
                frame: Some(index),
            });
        };
        if let Err(e) = seen.located {
            say(&mut out, ReasonCode::CardNotFound, e.to_string());
            return out;
        }
        out.report.located = true;
        let portrait = seen.portrait;
        out.report.portrait_correlation = portrait.map(|p| p.correlation);
        out.report.portrait_cells_off = portrait.map(|p| p.cells_off);
        out.report.portrait_glare = portrait.map(|p| p.glare);
        out.report.portrait_saturation = portrait.map(|p| p.saturation);

        let clock = Stopwatch::start();
        let tag = seen.code.as_ref().ok().map(|(payload, _)| {
            let accepted = self.config.accept.accepted(payload.period, capture_time);
            payload.check(&self.trust.device_key, capture_time, accepted)
        });
        timings.decode_us += clock.micros();
        let (payload, corrected_bytes) = match seen.code {
            Ok(d) => d,
            Err(e) => {
                say(
                    &mut out,
                    ReasonCode::CodeUnreadable,
                    format!("{e}: hold the phone steady, closer and without glare"),
                );
                return out;
            }
        };
        out.report.corrected_bytes = Some(corrected_bytes);
        let period = payload.period;
        if payload.locator != self.trust.locator {
            say(
                &mut out,
                ReasonCode::OtherCredential,
                format!(
                    "the code belongs to another credential, not {}",
                    self.trust.credential.id
                ),
            );
            return fail(out);
        }
        let window = match tag.expect("decoded") {
            TagCheck::Invalid => {
                say(
                    &mut out,
                    ReasonCode::InvalidTag,
                    "the code's tag was not made with this credential's key: a look-alike card".into(),
                );
                return fail(out);
            }
            TagCheck::Stale { window, drawn_at } => {
                say(
                    &mut out,
                    ReasonCode::StaleWindow,
                    format!(
                        "the card's pattern is from {} UTC, {} before this photo: a replay",
                        clock_time(drawn_at),
                        human_duration(capture_time.0.saturating_sub(drawn_at.0))
                    ),
                );
                out.report.window = Some(window);
                return fail(out);
            }
            TagCheck::Ahead { window } => {
                let at = period.start_of(window);
                say(
                    &mut out,
                    ReasonCode::WindowAhead,
                    format!(
                        "the card's pattern is for {} UTC, {} after this photo: a card made in \
                         advance, or a phone clock far ahead",
                        clock_time(at),
                        human_duration(at.0.saturating_sub(capture_time.0))
                    ),
                );
                out.report.window = Some(window);
                return fail(out);
            }
            TagCheck::Fresh { window, offset } => {
                say(
                    &mut out,
                    ReasonCode::TagValid,
                    format!(
                        "authentic code for window {} ({offset:+} from the photo's)",
                        window.0
                    ),
                );
                window
            }
        };
        out.report.window = Some(window);
        let mut scores = vec![1.0f32];

        let clock = Stopwatch::start();
        let pattern = Pattern::for_window(&self.trust.device_key, window);
        timings.sweep_us += clock.micros();
        let reading = later
            .head(pattern.sweep.direction, timings)
            .map(|h| sweep::SweepReading {
                phase: pattern.sweep.phase_of(h.angle),
                confidence: h.confidence,
            });
        let mut passed = true;
        match reading {
            Some(r) if r.confidence >= self.config.min_sweep_confidence => {
                let (shown, across) = shown_time(period, window, r.phase);
                let lag = capture_time.0 as i64 - shown.0 as i64;
                let tol = self.config.clock_tolerance_ms as i64;
                let in_time = |t: UnixMillis| (capture_time.0 as i64 - t.0 as i64).abs() <= tol;
                out.report.sweep_confidence = Some(r.confidence);
                let shows = format!("the sweep shows {} UTC", clock_time_tenths(shown));
                if !in_time(shown) && across.is_some_and(in_time) {
                    // Read at the window's edge: the other side of the edge would be in
                    // time. Never accept on a guess; ask for another photo.
                    passed = false;
                    say(
                        &mut out,
                        ReasonCode::SweepUnreadable,
                        "the sweep stands at the edge of its window and cannot be read \
                         unambiguously: take another photo"
                            .into(),
                    );
                } else {
                    out.report.shown_at = Some(shown);
                    out.report.lag_ms = Some(lag);
                    scores.push((1.0 - 0.5 * lag.unsigned_abs() as f32 / tol as f32).clamp(0.0, 1.0));
                    if lag > tol {
                        say(
                            &mut out,
                            ReasonCode::SweepLag,
                            format!(
                                "{shows}, {} before this photo: a replay",
                                human_duration(lag as u64)
                            ),
                        );
                    } else if lag < -tol {
                        say(
                            &mut out,
                            ReasonCode::SweepAhead,
                            format!(
                                "{shows}, {} after this photo: not a live card",
                                human_duration(lag.unsigned_abs())
                            ),
                        );
                    } else {
                        say(
                            &mut out,
                            ReasonCode::SweepInTime,
                            format!("{shows}, {} from the photo's time", signed_duration(-lag)),
                        );
                    }
                }
            }
            other => {
                out.report.sweep_confidence = other.map(|r| r.confidence);
                passed = false;
                say(
                    &mut out,
                    ReasonCode::SweepUnreadable,
                    "the time sweep around the emblem could not be read clearly: retake without \
                     glare on the ring"
                        .into(),
                );
            }
        }

        if passed {
            out.report.text_fields = later.text(timings);
        }
        out.report.score = scores.into_iter().fold(1.0, f32::min);
        out.state = if out.reasons.iter().any(|r| r.code.outcome() == Outcome::Fail) {
            FrameState::Fail
        } else if passed && portrait.is_some() {
            FrameState::Pass
        } else {
            FrameState::Retake
        };
        out
    }
}

/// A photo's first steps, the same on both routes (a photo check here, [`evidence::measure`]
/// where the camera is): its grey copy, the card's marks, its code, and its portrait against
/// `portrait` where the card was found.
struct Look {
    grey: GrayImage,
    located: Result<Located, LocateError>,
    decoded: Result<Decoded, CodeError>,
    portrait: Option<content::PortraitComparison>,
}

fn look(image: &RgbImage, portrait: Option<&content::Reference>, timings: &mut Timings) -> Look {
    let clock = Stopwatch::start();
    let grey = sample::grey(image);
    timings.locate_us += clock.micros();
    let (located, decoded) = find_code(&grey, timings);
    // The portrait is measured in every located frame (its glare and colourfulness are
    // reported even where the code fails); only frames with an authentic code judge it.
    let clock = Stopwatch::start();
    let portrait = (located.as_ref().ok())
        .zip(portrait)
        .and_then(|(l, p)| content::compare_portrait(image, &l.to_image, p));
    timings.content_us += clock.micros();
    Look {
        grey,
        located,
        decoded,
        portrait,
    }
}

/// What a frame showed before any key is used: a photo check's first steps, or the
/// evidence the verifier's device sent.
struct Sighting {
    captured_at: UnixMillis,
    /// Whether the card's marks were found.
    located: Result<(), LocateError>,
    /// The code's payload (tag unchecked) and the bytes it had repaired.
    code: Result<(Payload, usize), CodeError>,
    /// The portrait against the credential's, where the card was found.
    portrait: Option<content::PortraitComparison>,
}

/// A frame's evidence as what it showed (checked by [`FrameEvidence::validate`] first).
fn sighting(f: &FrameEvidence) -> Result<Sighting, EvidenceError> {
    let unread = f.unread;
    Ok(Sighting {
        captured_at: f.time(),
        located: match unread.and_then(|u| u.locate_error()) {
            Some(e) => Err(e),
            None => Ok(()),
        },
        code: match (&f.code, unread.and_then(|u| u.code_error())) {
            (Some(code), _) => Ok((code.payload()?, usize::from(code.corrected_bytes))),
            (None, Some(e)) => Err(e),
            // Card not found: no code either (never judged past the card).
            (None, None) => Err(CodeError::Unreadable { erased_bytes: 0 }),
        },
        portrait: f.portrait.map(Into::into),
    })
}

/// The measures a frame's judgement needs only once its tag proved authentic: a photo check
/// makes them then (they take time), evidence carries them.
trait LaterMeasures {
    /// The sweep's head for a sweep travelling in `direction`.
    fn head(&mut self, direction: f32, timings: &mut Timings) -> Option<sweep::HeadReading>;
    /// The value fields against the credential's lettering (empty: not compared).
    fn text(&mut self, timings: &mut Timings) -> Vec<text::FieldComparison>;
}

/// A card not found: nothing more to measure.
struct NothingMore;

impl LaterMeasures for NothingMore {
    fn head(&mut self, _: f32, _: &mut Timings) -> Option<sweep::HeadReading> {
        None
    }

    fn text(&mut self, _: &mut Timings) -> Vec<text::FieldComparison> {
        Vec::new()
    }
}

/// Measured from the photo when asked (a photo check's, and [`evidence::measure`]'s lettering).
struct FromPhoto<'a> {
    grey: &'a GrayImage,
    to_image: &'a Homography,
    text: &'a text::TextReference,
}

impl LaterMeasures for FromPhoto<'_> {
    fn head(&mut self, direction: f32, timings: &mut Timings) -> Option<sweep::HeadReading> {
        let clock = Stopwatch::start();
        let head =
            sweep::ring_profile(self.grey, self.to_image).and_then(|p| sweep::read_head(&p, direction));
        timings.sweep_us += clock.micros();
        head
    }

    fn text(&mut self, timings: &mut Timings) -> Vec<text::FieldComparison> {
        let clock = Stopwatch::start();
        let fields = text::compare_text(self.grey, self.to_image, self.text).unwrap_or_default();
        timings.content_us += clock.micros();
        fields
    }
}

/// Carried by the evidence.
struct FromEvidence<'a>(&'a FrameEvidence);

impl LaterMeasures for FromEvidence<'_> {
    fn head(&mut self, direction: f32, _: &mut Timings) -> Option<sweep::HeadReading> {
        self.0.sweep.map(|s| s.for_direction(direction))
    }

    fn text(&mut self, _: &mut Timings) -> Vec<text::FieldComparison> {
        self.0.fields()
    }
}

fn fail(mut out: FrameResult) -> FrameResult {
    out.state = FrameState::Fail;
    out.report.score = 0.0;
    out
}

/// The smallest side a pyramid level may have: below it the marks of a card that fills only
/// half the frame get too small to scan.
const MIN_LEVEL_SIDE: u32 = 360;

/// Finds the card and reads its code: first in the smallest copy of the photo (halved while
/// its shorter side stays at least [`MIN_LEVEL_SIDE`]), where a card that fills much of the
/// frame is found quickly, then in each larger copy up to the photo itself, until the code
/// decodes. Returns the last location found (or why none was) and the decoding.
pub fn find_code(
    grey: &GrayImage,
    timings: &mut Timings,
) -> (Result<Located, LocateError>, Result<Decoded, CodeError>) {
    // smaller[i] is the photo halved i + 1 times.
    let mut smaller: Vec<GrayImage> = Vec::new();
    loop {
        let img = smaller.last().unwrap_or(grey);
        if img.width().min(img.height()) / 2 < MIN_LEVEL_SIDE {
            break;
        }
        smaller.push(locate::half(img));
    }
    let mut result = (
        Err(LocateError::MarksNotFound {
            finders: 0,
            orientation: 0,
        }),
        Err(CodeError::Unreadable { erased_bytes: 0 }),
    );
    for k in (0..=smaller.len()).rev() {
        let level = if k == 0 { grey } else { &smaller[k - 1] };
        let clock = Stopwatch::start();
        let found = locate::locate(level).map(|l| match k {
            0 => l,
            _ => l.scaled(f64::from(1u32 << k)).refined(grey),
        });
        timings.locate_us += clock.micros();
        let clock = Stopwatch::start();
        let decoded = match &found {
            Ok(l) => decode_levels(&modules::read_module_levels(grey, &l.to_image), modules::UNSURE),
            Err(_) => Err(CodeError::Unreadable { erased_bytes: 0 }),
        };
        timings.decode_us += clock.micros();
        let done = decoded.is_ok();
        if found.is_ok() || result.0.is_err() {
            result = (found, decoded);
        }
        if done {
            break;
        }
    }
    result
}

/// The portrait check over the frames whose code was authentic: decided on the frame
/// whose portrait is closest to the credential's, because glare and blur come and go
/// between frames while another face stays. Returns its score and whether it matched.
fn portrait_check(
    config: &DetectorConfig,
    results: &[FrameResult],
    reasons: &mut Vec<Reason>,
) -> Option<(f32, bool)> {
    let authentic: Vec<(usize, &FrameReport)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.report.window.is_some() && r.state != FrameState::Fail)
        .map(|(i, r)| (i, &r.report))
        .collect();
    let Some((index, off, corr, glare)) = authentic
        .iter()
        .filter_map(|&(i, r)| {
            Some((
                i,
                r.portrait_cells_off?,
                r.portrait_correlation?,
                r.portrait_glare.unwrap_or(0.0),
            ))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
    else {
        if let Some(&(i, _)) = authentic.first() {
            reasons.push(Reason {
                code: ReasonCode::PortraitUnclear,
                message: "the portrait is not wholly in the photo: retake with the whole card in \
                          the frame"
                    .into(),
                frame: Some(i),
            });
        }
        return None;
    };
    let (lo, hi) = (config.portrait_match_max_off, config.portrait_mismatch_min_off);
    let frame = Some(index);
    let min_corr = config.portrait_min_correlation;
    // Colours off with little glare are another face even where its light and dark
    // follow the credential's outline (a face of the same pose and framing).
    let off_without_glare = off >= hi && glare <= config.portrait_max_glare;
    let (code, score, message) =
        if (corr < min_corr && (off >= hi || corr < min_corr / 2.0)) || off_without_glare {
            (
                ReasonCode::PortraitMismatch,
                0.4 * (1.0 - off) / (1.0 - hi).max(1e-3) * corr.clamp(0.0, 1.0),
                format!(
                    "the portrait is not the credential's: {:.0} % of it is off colour (another face \
                 from {:.0} %), correlation {corr:.2}",
                    off * 100.0,
                    hi * 100.0
                ),
            )
        } else if off <= lo && corr >= min_corr {
            (
                ReasonCode::PortraitMatch,
                0.6 + 0.4 * (1.0 - off / lo.max(1e-3)),
                format!(
                    "the portrait matches the credential's ({:.0} % off colour, correlation {corr:.2})",
                    off * 100.0
                ),
            )
        } else {
            (
                ReasonCode::PortraitUnclear,
                0.6 - 0.2 * (off - lo) / (hi - lo).max(1e-3),
                format!(
                    "the portrait could not be matched clearly ({:.0} % off colour, correlation \
                 {corr:.2}): retake without glare on it",
                    off * 100.0
                ),
            )
        };
    reasons.push(Reason { code, message, frame });
    Some((score.min(1.0), code == ReasonCode::PortraitMatch))
}

/// The text check over the frames whose code was authentic. Only frames that show the
/// words clearly count: lettering sharper than the softest blur the reference keeps
/// ([`text::BLURS`]; at that blur the value text's letters are no longer told apart, and
/// the photo may be softer still), no more glare than `text_max_glare` (glare on the
/// glass flattens lettering unevenly) and a median field agreeing at least
/// `text_min_clarity`. In each, every field's agreement is taken against that frame's
/// median field (how well the photo shows words at all); a field's evidence is the best
/// of that over the clear frames (an edit disagrees in every photo; a passing glare spot,
/// shake or noise in one does not), and the card is judged on its worst field. A field
/// that does not agree is called edited only when the portrait matched cleanly
/// (`portrait_clean`); otherwise, and without a clear frame, the check asks for a retake. A
/// field fitting a blur [`SOFT_PATCH_STEPS`] or more steps softer than its photo's median
/// field, and disagreeing, in every clear photo is a soft patch or an edit, which those
/// photos cannot tell: not an edit, and not read (the check asks for a retake). So is a
/// field disagreeing only weakly (agreement [`ILLEGIBLE_MISMATCH_BELOW`] or more) in clear
/// photos too noisy to read letters (their critical digits' median separation below
/// `glyph_min_separation`): noise there leaves small lettering as far off as an edit. A
/// field that disagrees in every clear photo is still read as the credential's where a photo
/// with more glare, otherwise clear enough, agrees on it and reads each of its characters as
/// the credential's ([`reads_as_credentials`]): an edit is in every photo, moiré and
/// reflections move.
///
/// Each replaceable character is also judged against the characters that could replace it
/// ([`text::GlyphComparison`]): its best glyph margin over the clear frames at or below
/// `glyph_mismatch_at_most` is an edit (with a clean portrait, as above). The critical
/// fields ([`CRITICAL_FIELDS`]: what an age or identity decision rests on) must be read as
/// the credential's, every character at `glyph_clear_from` or more in some photo that can
/// tell it from its nearest replacement (or, where none can, in some photo), for the card to
/// be accepted: returns whether they were. A soft photo's margin is mostly noise: read as the
/// credential's there, a digit that another photo clearly shows as another is not read.
fn text_check(
    config: &DetectorConfig,
    results: &[FrameResult],
    portrait_clean: bool,
    reasons: &mut Vec<Reason>,
) -> bool {
    // A frame's median field (of its fields' `value`s; every compared frame has fields).
    let median_field = |r: &FrameReport, value: fn(&text::FieldComparison) -> f32| {
        let mut v: Vec<f32> = r.text_fields.iter().map(value).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let median = |r: &FrameReport| median_field(r, |t| t.worst_window);
    let compared: Vec<(usize, &FrameReport)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.report.window.is_some() && !r.report.text_fields.is_empty())
        .map(|(i, r)| (i, &r.report))
        .collect();
    let Some(&(first_index, _)) = compared.first() else {
        // A frame whose code failed (a replay's stale window) has its own reason; its words
        // were never compared, and saying they were not in the photo would be wrong.
        if let Some(frame) = results
            .iter()
            .position(|r| r.report.window.is_some() && r.state != FrameState::Fail)
        {
            reasons.push(Reason {
                code: ReasonCode::TextUnclear,
                message: "the card's words are not wholly in any photo: retake with the whole \
                          card in the frame"
                    .into(),
                frame: Some(frame),
            });
        }
        return false;
    };
    // Each critical field's least clear character, at its best over the compared frames.
    let unread = CRITICAL_FIELDS.iter().find_map(|&name| {
        let best = best_glyph_margins(
            compared.iter().map(|&(_, r)| r),
            name,
            config.glyph_min_separation,
            Inseparable::SaysNothing,
        );
        match best.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
            None => Some((name, None)),
            Some(&(position, margin)) if margin < config.glyph_clear_from => {
                Some((name, Some((position, margin))))
            }
            Some(_) => None,
        }
    });
    // The blur of the frame's median field: an edited field fits a blurred reference
    // best, the frame's other fields do not.
    let soft = |r: &FrameReport| median_field(r, |t| t.blur) >= text::BLURS[text::BLURS.len() - 1];
    let clear_enough: Vec<(usize, &FrameReport, f32)> = compared
        .iter()
        .map(|&(i, r)| (i, r, median(r)))
        .filter(|&(_, r, m)| m >= config.text_min_clarity && !soft(r))
        .collect();
    let clear: Vec<(usize, &FrameReport, f32)> = clear_enough
        .iter()
        .copied()
        .filter(|(_, r, _)| r.portrait_glare.is_some_and(|g| g <= config.text_max_glare))
        .collect();
    let unclear = |frame: usize, message: String| Reason {
        code: ReasonCode::TextUnclear,
        message,
        frame: Some(frame),
    };
    if clear_enough.is_empty() {
        let best = compared.iter().map(|&(_, r)| median(r)).fold(f32::MIN, f32::max);
        let message = if compared.iter().all(|&(_, r)| soft(r)) {
            format!(
                "the words on the card are too blurred to compare letter by letter (as \
                 soft as a blur of {:.0} design units or softer): retake closer or steadier",
                text::BLURS[text::BLURS.len() - 1]
            )
        } else {
            format!(
                "the words on the card are too blurred to compare letter by letter \
                 (agreement {best:.2}, {:.2} needed)",
                config.text_min_clarity
            )
        };
        reasons.push(unclear(first_index, message));
        return unread.is_none();
    }
    if clear.is_empty() {
        reasons.push(unclear(
            clear_enough[0].0,
            "glare on the card flattens its words unevenly in every photo: retake without \
             glare on the card to compare them letter by letter"
                .into(),
        ));
        return unread.is_none();
    }
    // A field that fits a blur two or more steps softer than the frame's median field is, in
    // that photo, a soft patch (a smudge, moiré, the edge of a reflection) or lettering that
    // is not the credential's: a disagreement there cannot tell which.
    let step = |blur: f32| text::BLURS.partition_point(|&b| b < blur);
    let soft_patch = |r: &FrameReport, t: &text::FieldComparison| {
        step(t.blur) >= step(median_field(r, |t| t.blur)) + SOFT_PATCH_STEPS
    };
    // A photo whose critical digits mostly lie within its noise of their nearest replacements
    // (median separation below `glyph_min_separation`; the digits are the card's largest
    // lettering, and an edit touches one or two of them) cannot read letters either: there,
    // noise alone leaves the small lettering's windows agreeing as little as a changed letter
    // does, and only a window agreeing less than nothing (more left unexplained than the
    // whole of the lettering's signal: other words) is evidence of an edit.
    let legible: Vec<bool> = clear
        .iter()
        .map(|&(_, r, _)| {
            let mut s: Vec<f32> = r
                .text_fields
                .iter()
                .filter(|t| CRITICAL_FIELDS.contains(&t.name))
                .flat_map(|t| t.glyphs.iter().map(|g| g.separation))
                .collect();
            s.sort_by(f32::total_cmp);
            s.get(s.len() / 2)
                .is_none_or(|&m| m >= config.glyph_min_separation)
        })
        .collect();
    let fields = clear[0].1.text_fields.len();
    // Per field: the best over the clear frames of its agreement against the frame's median
    // field, the clear frame where it agrees least, and, where every clear frame sets its
    // disagreement aside (a soft patch there, or a weak disagreement in an illegible photo),
    // why in the first.
    // The fields whose disagreement in the clear frames a frame with glare overruled.
    let mut read_in_glare: Vec<&str> = Vec::new();
    let per_field: Vec<(f32, &str, usize, Option<SetAside>)> = (0..fields)
        .filter_map(|k| {
            let seen: Vec<(f32, usize, &str, Option<SetAside>)> = clear
                .iter()
                .zip(&legible)
                .filter_map(|(&(i, r, m), &legible)| {
                    let t = r.text_fields.get(k)?;
                    let ratio = t.worst_window / m.max(1e-3);
                    let aside = if soft_patch(r, t) {
                        Some(SetAside::Soft)
                    } else if ratio >= ILLEGIBLE_MISMATCH_BELOW && !legible {
                        Some(SetAside::Illegible)
                    } else {
                        None
                    };
                    Some((ratio, i, t.name, aside))
                })
                .collect();
            let &(_, frame, name, _) = seen.iter().min_by(|a, b| a.0.total_cmp(&b.0))?;
            let mut best = seen.iter().map(|s| s.0).fold(f32::MIN, f32::max);
            if best < config.text_mismatch_below {
                // An edit is on the card in every photo; moiré and reflections move between
                // them. A photo with more glare than a clear one's, but otherwise clear
                // enough, that reads this field as the credential's letter by letter
                // ([`reads_as_credentials`]) shows its disagreement elsewhere was not there.
                let elsewhere = (clear_enough.iter())
                    .filter(|&&(i, ..)| !clear.iter().any(|&(c, ..)| c == i))
                    .filter_map(|&(_, r, m)| {
                        let t = r.text_fields.get(k)?;
                        let ratio = t.worst_window / m.max(1e-3);
                        (ratio >= config.text_mismatch_below && reads_as_credentials(config, t))
                            .then_some(ratio)
                    })
                    .fold(f32::MIN, f32::max);
                if elsewhere > best {
                    best = elsewhere;
                    read_in_glare.push(name);
                }
            }
            let aside = seen.iter().all(|s| s.3.is_some()).then(|| seen[0].3).flatten();
            Some((best, name, frame, aside))
        })
        .collect();
    let disagrees = |f: &&(f32, &str, usize, Option<SetAside>)| f.0 < config.text_mismatch_below;
    // A field that disagrees only where it is much softer than the rest of its photo, or only
    // weakly where the photo cannot read letters: a soft patch, noise or an edit, which these
    // photos cannot tell. Not an edit; not read.
    let unjudged = per_field
        .iter()
        .filter(disagrees)
        .find_map(|f| f.3.map(|why| (f.2, f.1, why, f.0)));
    let Some((ratio, field, mut frame)) = per_field
        .iter()
        .filter(|f| !(f.3.is_some() && disagrees(f)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|f| (f.0, f.1, f.2))
        .or_else(|| unjudged.map(|(frame, name, ..)| (1.0, name, frame)))
    else {
        return unread.is_none();
    };
    // The character that looks most like another, at its best over the clear frames (a
    // frame whose glyphs lie too close in its noise counts as showing the credential's).
    let glyph_edit = text::VALUE_NAMES
        .iter()
        .filter_map(|&name| {
            let best = best_glyph_margins(
                clear.iter().map(|&(_, r, _)| r),
                name,
                config.glyph_min_separation,
                Inseparable::ShowsCredentials,
            );
            best.into_iter()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(position, margin)| (name, position, margin))
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .filter(|g| g.2 <= config.glyph_mismatch_at_most);
    let frames = if clear.len() == 1 {
        "in the one clear photo".to_string()
    } else {
        format!("at best, in {} clear photos", clear.len())
    };
    // Where the field named as least clear was read, said with a match.
    let matched_in = if read_in_glare.contains(&field) {
        format!(
            "read letter by letter in a photo with some glare; in the clear {} something \
             passing lay over it",
            if clear.len() == 1 { "one" } else { "ones" }
        )
    } else {
        frames.clone()
    };
    let field = text::field_words(field);
    let (code, message) = if let Some((name, position, margin)) = glyph_edit {
        let field = text::field_words(name);
        if portrait_clean {
            (
                ReasonCode::TextMismatch,
                format!(
                    "the {field} on the card is not the credential's: its character {} looks \
                     more like another character than like the credential's ({frames}; \
                     margin {margin:.2}, edited at {:.2} or less)",
                    position + 1,
                    config.glyph_mismatch_at_most
                ),
            )
        } else {
            (
                ReasonCode::TextUnclear,
                format!(
                    "the {field}'s character {} looks more like another character than like \
                     the credential's ({frames}), but the portrait beside it did not match \
                     cleanly either: retake without glare on the card",
                    position + 1
                ),
            )
        }
    } else if ratio < config.text_mismatch_below && !portrait_clean {
        (
            ReasonCode::TextUnclear,
            format!(
                "part of the {field} agrees with the credential's lettering only {:.0} % as \
                 well as the card's other words do ({frames}), but the portrait beside it did \
                 not match cleanly either: retake without glare on the card",
                ratio.max(0.0) * 100.0
            ),
        )
    } else if ratio < config.text_mismatch_below {
        (
            ReasonCode::TextMismatch,
            format!(
                "the {field} on the card is not the credential's: part of it agrees with the \
                 credential's lettering only {:.0} % as well as the card's other words do \
                 ({frames}; edited from below {:.0} %)",
                ratio.max(0.0) * 100.0,
                config.text_mismatch_below * 100.0
            ),
        )
    } else if let Some((aside_frame, name, why, aside_ratio)) = unjudged {
        frame = aside_frame;
        let field = text::field_words(name);
        (
            ReasonCode::TextUnclear,
            match why {
                SetAside::Soft => format!(
                    "the {field} is much softer than the card's other words in every clear \
                     photo (a smudge or a reflection's edge on the glass, or lettering that is \
                     not the credential's): retake without glare, holding the phone flat"
                ),
                SetAside::Illegible => format!(
                    "part of the {field} agrees with the credential's lettering only {:.0} % as \
                     well as the card's other words do, in photos too noisy to read letters \
                     (the card's digits lie within the noise of other digits): retake closer \
                     and steadier, in more light",
                    aside_ratio.max(0.0) * 100.0
                ),
            },
        )
    } else if let Some((name, least)) = unread {
        let field = text::field_words(name);
        (
            ReasonCode::TextUnclear,
            match least {
                Some((position, margin)) => format!(
                    "the {field}'s character {} cannot be told from another character in any \
                     photo (margin {margin:.2}, {:.2} needed): retake closer and steadier",
                    position + 1,
                    config.glyph_clear_from
                ),
                None => format!("the {field} could not be read in any photo: retake closer"),
            },
        )
    } else {
        (
            ReasonCode::TextMatch,
            format!(
                "the words on the card are the credential's (least clear: the {field}, {:.0} % \
                 of the others, {matched_in})",
                ratio * 100.0
            ),
        )
    };
    reasons.push(Reason {
        code,
        message,
        frame: Some(frame),
    });
    unread.is_none() && unjudged.is_none()
}

/// Whether `field` reads, in its photo, as the credential's letter by letter: it has glyphs
/// compared, and each lies at least `glyph_min_separation` from its nearest replacement in
/// the photo's noise and leans to the credential's glyph by as much as an edit call needs to
/// lean to another (margin at least −`glyph_mismatch_at_most`). Glare lowers a glyph's
/// contrast, never draws the credential's glyph where another one is: an edited character
/// cannot read so.
fn reads_as_credentials(config: &DetectorConfig, field: &text::FieldComparison) -> bool {
    !field.glyphs.is_empty()
        && field.glyphs.iter().all(|g| {
            g.separation >= config.glyph_min_separation && g.margin >= -config.glyph_mismatch_at_most
        })
}

/// How many steps of [`text::BLURS`] softer than its photo's median field a field must fit
/// for its disagreement there to be a soft patch as much as an edit (see `text_check`): on
/// seeds 4247 and 4248 and every species of seed 7, 21 of about 9 000 bona fide fields in a
/// photo fitted two or more steps softer, most agreeing far less than the others (the window
/// check's false alarms); 4 of 1 228 edited fields did.
const SOFT_PATCH_STEPS: usize = 2;

/// In a photo that cannot read letters (its critical digits' median separation below
/// `glyph_min_separation`), the agreement (against the photo's median field) below which a
/// field's worst window is still an edit: below zero it leaves more unexplained than the whole
/// of its lettering's signal, which noise does not do and other words do (another holder's
/// name: about −1 on seed 4248 at normal and hard). Genuine cards at harsh on seed 4249 reached
/// 0.28 in such photos, their critical digits at median separations 0.22–0.33 (at hard: 0.47
/// and up).
const ILLEGIBLE_MISMATCH_BELOW: f32 = 0.0;

/// Why a field's disagreement in a photo is not taken as an edit (see `text_check`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetAside {
    /// The field fits a blur [`SOFT_PATCH_STEPS`] or more steps softer than its photo's median.
    Soft,
    /// The photo cannot read letters, and the field disagrees only weakly
    /// ([`ILLEGIBLE_MISMATCH_BELOW`]).
    Illegible,
}

/// The value fields a decision about the holder or the card rests on (age and identity; the
/// card still in force): they must be read as the credential's, character by character,
/// for a card to be accepted.
pub const CRITICAL_FIELDS: [&str; 3] = ["birth_date", "resident_number", "expires"];

/// What a photo says of a character whose separation there is below the floor (its two
/// glyphs lie within the photo's noise of each other; see [`best_glyph_margins`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inseparable {
    /// It shows the credential's glyph as well as it can: an edit must show in every photo.
    ShowsCredentials,
    /// Nothing either way: the character is judged on the photos that can tell it, and on all
    /// of them only where none can.
    SaysNothing,
}

/// Field `name`'s characters, each at its best glyph margin over `frames`, a photo where its
/// separation is below `min_separation` counting as `inseparable` says.
fn best_glyph_margins<'a>(
    frames: impl Iterator<Item = &'a FrameReport> + Clone,
    name: &str,
    min_separation: f32,
    inseparable: Inseparable,
) -> Vec<(usize, f32)> {
    // Each character's best over the frames of what `counts` makes of each of its glyphs
    // (None: nothing).
    let best_with = |counts: &dyn Fn(&text::GlyphComparison) -> Option<f32>| {
        let mut best: Vec<(usize, f32)> = Vec::new();
        for t in frames
            .clone()
            .flat_map(|r| r.text_fields.iter())
            .filter(|t| t.name == name)
        {
            for g in &t.glyphs {
                let Some(margin) = counts(g) else {
                    continue;
                };
                match best.iter_mut().find(|b| b.0 == g.position) {
                    Some(b) => b.1 = b.1.max(margin),
                    None => best.push((g.position, margin)),
                }
            }
        }
        best
    };
    let separable = |g: &text::GlyphComparison| g.separation >= min_separation;
    match inseparable {
        Inseparable::ShowsCredentials => best_with(&|g| Some(if separable(g) { g.margin } else { f32::MAX })),
        Inseparable::SaysNothing => {
            let told = best_with(&|g| separable(g).then_some(g.margin));
            best_with(&|g| Some(g.margin))
                .into_iter()
                .map(|(position, margin)| {
                    told.iter()
                        .copied()
                        .find(|b| b.0 == position)
                        .unwrap_or((position, margin))
                })
                .collect()
        }
    }
}

/// The time a sweep `phase` stands for in `window`, and, when the reading lies within 2 %
/// of the window's edge (at least 40 ms), the time just across that edge that a reading
/// error of that size could also mean (a head at 0.995 may stand at 0.0).
fn shown_time(period: WindowPeriod, window: Window, phase: f32) -> (UnixMillis, Option<UnixMillis>) {
    let t = period.time_of_phase(window, phase);
    let p = period.millis();
    let band = (p / 50).max(40) as f64 / p as f64;
    let phase = f64::from(phase);
    let start = period.start_of(window).0;
    let across = if phase > 1.0 - band {
        Some(UnixMillis(start))
    } else if phase < band {
        Some(UnixMillis(start + p))
    } else {
        None
    };
    (t, across)
}

fn signed_duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    format!("{sign}{}", human_duration(ms.unsigned_abs()))
}

fn clock_time_tenths(t: UnixMillis) -> String {
    format!("{}.{}", clock_time(t), t.0 % 1000 / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_at_the_window_edge_names_the_other_side() {
        let period = WindowPeriod::from_secs(5).unwrap();
        let w = Window(1000);
        let start = period.start_of(w).0;
        assert_eq!(
            shown_time(period, w, 0.995),
            (UnixMillis(start + 4_975), Some(UnixMillis(start)))
        );
        assert_eq!(
            shown_time(period, w, 0.004),
            (UnixMillis(start + 20), Some(UnixMillis(start + 5_000)))
        );
        assert_eq!(shown_time(period, w, 0.5), (UnixMillis(start + 2_500), None));
    }

    /// A frame with an authentic code and no glare whose fields agree 0.9 but the last (the
    /// expiry date) `last`, all fitted at blur `blur` design units.
    fn text_frame(last: f32, blur: f32) -> FrameResult {
        glyph_frame(last, blur, 0.9)
    }

    /// A frame whose expiry date's worst window agrees `last`, at `blur`, the birth date's
    /// fourth character at glyph margin `birth`, every other character at 0.9.
    fn glyph_frame(last: f32, blur: f32, birth: f32) -> FrameResult {
        let names = [
            "name_hangul",
            "name_latin",
            "birth_date",
            "resident_number",
            "address",
            "expires",
        ];
        let glyphs = |name: &str| -> Vec<text::GlyphComparison> {
            (0..8)
                .map(|position| text::GlyphComparison {
                    position,
                    margin: if name == "birth_date" && position == 3 {
                        birth
                    } else {
                        0.9
                    },
                    separation: 2.0,
                })
                .collect()
        };
        FrameResult {
            report: FrameReport {
                window: Some(Window(1)),
                portrait_glare: Some(0.0),
                text_fields: names
                    .iter()
                    .enumerate()
                    .map(|(k, &name)| text::FieldComparison {
                        name,
                        correlation: 0.9,
                        worst_window: if k + 1 == names.len() { last } else { 0.9 },
                        blur,
                        glyphs: glyphs(name),
                    })
                    .collect(),
                ..Default::default()
            },
            reasons: Vec::new(),
            state: FrameState::Retake,
        }
    }

    fn glyph_reasons(frames: &[FrameResult]) -> (Vec<Reason>, bool) {
        let mut reasons = Vec::new();
        let read = text_check(&DetectorConfig::default(), frames, true, &mut reasons);
        (reasons, read)
    }

    #[test]
    fn a_character_that_looks_like_another_is_an_edit_and_an_unclear_one_is_not_accepted() {
        // Taken for another digit in both clear photos: an edit of the birth date, named by
        // field and position, not by value.
        let (edited, _) = glyph_reasons(&[glyph_frame(0.9, 4.0, -0.9), glyph_frame(0.9, 4.0, -0.7)]);
        assert_eq!(edited[0].code, ReasonCode::TextMismatch, "{edited:?}");
        assert!(edited[0].message.contains("birth date") && edited[0].message.contains("character 4"));
        // Its own in one photo: not an edit (a shake or noise spoils one photo, not all).
        let (one, read) = glyph_reasons(&[glyph_frame(0.9, 4.0, -0.9), glyph_frame(0.9, 4.0, 0.8)]);
        assert_eq!((one[0].code, read), (ReasonCode::TextMatch, true), "{one:?}");
        // Neither its own nor another in any photo: a retake, and the card is not accepted.
        let (unclear, read) = glyph_reasons(&[glyph_frame(0.9, 4.0, -0.3), glyph_frame(0.9, 4.0, -0.25)]);
        assert_eq!(
            (unclear[0].code, read),
            (ReasonCode::TextUnclear, false),
            "{unclear:?}"
        );
        assert!(
            unclear[0].message.contains("birth date's character 4"),
            "{unclear:?}"
        );
        // Taken for another only where the two glyphs lie close in the photo's noise: not an
        // edit, but not read either.
        let noisy = |margin| {
            let mut f = glyph_frame(0.9, 4.0, margin);
            for t in &mut f.report.text_fields {
                t.glyphs.iter_mut().for_each(|g| g.separation = 0.1);
            }
            f
        };
        let (reasons, read) = glyph_reasons(&[noisy(-0.9), noisy(-0.8)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextUnclear, false),
            "{reasons:?}"
        );
        // Taken for another where the photo can tell the two glyphs apart, and read as its
        // own only where it cannot (a soft photo's margin is mostly noise): not an edit (the
        // soft photo may be right), but not read either: the soft photo says nothing.
        let soft_own = || {
            let mut f = glyph_frame(0.9, 4.0, 0.8);
            let birth = f.report.text_fields.iter_mut().find(|t| t.name == "birth_date");
            birth.expect("birth date").glyphs[3].separation = 0.1;
            f
        };
        let (reasons, read) = glyph_reasons(&[soft_own(), glyph_frame(0.9, 4.0, -1.2)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextUnclear, false),
            "{reasons:?}"
        );
        // Where no photo can tell them apart, its best photo reads it (as before: a card is
        // not held back for its small lettering at the hard level).
        let (reasons, read) = glyph_reasons(&[soft_own()]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextMatch, true),
            "{reasons:?}"
        );
        // Too soft to compare words at all, and leaning to another digit: a retake too.
        let softest = text::BLURS[text::BLURS.len() - 1];
        let (reasons, read) = glyph_reasons(&[glyph_frame(0.1, softest, -0.3)]);
        assert!(!read && reasons[0].message.contains("too blurred"), "{reasons:?}");
        // A critical field missing from every photo is not read.
        let mut missing = glyph_frame(0.9, 4.0, 0.9);
        missing.report.text_fields.retain(|t| t.name != "resident_number");
        let (reasons, read) = glyph_reasons(&[missing]);
        assert!(
            !read && reasons[0].message.contains("resident number"),
            "{reasons:?}"
        );
        // The expiry date is critical too: a digit of it leaning to another in every photo
        // (here under glare, so no photo is clear enough to call it an edit) is not accepted.
        let glared = |margin: f32| {
            let mut f = glyph_frame(0.9, 4.0, 0.9);
            f.report.portrait_glare = Some(0.2);
            let expiry = f.report.text_fields.iter_mut().find(|t| t.name == "expires");
            expiry.expect("expiry field").glyphs[3].margin = margin;
            f
        };
        let (reasons, read) = glyph_reasons(&[glared(0.9), glared(0.9)]);
        assert!(read && reasons[0].code == ReasonCode::TextUnclear, "{reasons:?}");
        let (reasons, read) = glyph_reasons(&[glared(-1.0), glared(-0.9)]);
        assert!(!read && reasons[0].code == ReasonCode::TextUnclear, "{reasons:?}");
    }

    fn text_reasons(frames: &[FrameResult]) -> Vec<Reason> {
        let mut reasons = Vec::new();
        text_check(&DetectorConfig::default(), frames, true, &mut reasons);
        reasons
    }

    #[test]
    fn an_edit_must_disagree_in_every_clear_photo() {
        let edited = text_reasons(&[text_frame(0.2, 6.0), text_frame(0.3, 6.0)]);
        assert_eq!(edited[0].code, ReasonCode::TextMismatch, "{edited:?}");
        assert!(edited[0].message.contains("expiry date"), "{edited:?}");
        // A disagreement in one photo only (a glare spot, a shake) is not an edit.
        let passing = text_reasons(&[text_frame(0.2, 6.0), text_frame(0.88, 6.0)]);
        assert_eq!(passing[0].code, ReasonCode::TextMatch, "{passing:?}");
        // A single clear photo is judged by itself.
        let one = text_reasons(&[text_frame(0.2, 6.0)]);
        assert_eq!(one[0].code, ReasonCode::TextMismatch, "{one:?}");
    }

    #[test]
    fn a_photo_with_glare_that_reads_a_field_letter_by_letter_overrules_its_disagreement() {
        // The one clear photo has the expiry date at 0.2 of its other fields (testkit camera
        // seed 90 at easy: moiré over the issue date and address, agreeing below 0, in the
        // only photo without glare); the other photo has glare on the portrait (too much to
        // judge words by) but reads every character of the field as the credential's.
        let glared = |last: f32, expiry_margin: f32, separation: f32| {
            let mut f = text_frame(last, 4.0);
            f.report.portrait_glare = Some(0.1);
            let expiry = f.report.text_fields.iter_mut().find(|t| t.name == "expires");
            for g in &mut expiry.expect("expiry field").glyphs {
                (g.margin, g.separation) = (expiry_margin, separation);
            }
            f
        };
        let (reasons, read) = glyph_reasons(&[text_frame(0.2, 4.0), glared(0.7, 0.8, 1.0)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextMatch, true),
            "{reasons:?}"
        );
        assert!(
            reasons[0].message.contains("expiry date") && reasons[0].message.contains("glare"),
            "{reasons:?}"
        );
        // Not when that photo's window disagrees too, or a character there leans less to the
        // credential's than an edit call leans to another (0.4), or lies within its noise.
        for other in [
            glared(0.3, 0.8, 1.0),
            glared(0.9, 0.3, 1.0),
            glared(0.9, 0.8, 0.3),
        ] {
            let (reasons, _) = glyph_reasons(&[text_frame(0.2, 4.0), other]);
            assert_eq!(reasons[0].code, ReasonCode::TextMismatch, "{reasons:?}");
        }
        // An edited digit leans to its replacement in the photo with glare too.
        let mut edited = glared(0.9, 0.8, 1.0);
        let expiry = edited.report.text_fields.iter_mut().find(|t| t.name == "expires");
        expiry.expect("expiry field").glyphs[3].margin = -0.9;
        let (reasons, _) = glyph_reasons(&[text_frame(0.2, 4.0), edited]);
        assert_eq!(reasons[0].code, ReasonCode::TextMismatch, "{reasons:?}");
    }

    #[test]
    fn a_field_much_softer_than_its_photo_says_nothing_of_an_edit() {
        // The last field (the expiry date) agrees poorly and fits a blur two steps softer
        // than the photo's other fields (4 → 9): a soft patch or an edit, which one photo
        // cannot tell. Not an edit, not read: a retake.
        let patch = |last: f32| {
            let mut f = text_frame(last, 4.0);
            f.report.text_fields.last_mut().expect("fields").blur = 9.0;
            f
        };
        let (reasons, read) = glyph_reasons(&[patch(0.2)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextUnclear, false),
            "{reasons:?}"
        );
        assert!(reasons[0].message.contains("expiry date"), "{reasons:?}");
        // As soft but agreeing as well as the others: read (a soft patch that hides nothing).
        let (reasons, read) = glyph_reasons(&[patch(0.85)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextMatch, true),
            "{reasons:?}"
        );
        // One step softer is judged as before (an edited field fits a little softer too).
        let mut one_step = text_frame(0.2, 4.0);
        one_step.report.text_fields.last_mut().expect("fields").blur = 6.0;
        assert_eq!(text_reasons(&[one_step])[0].code, ReasonCode::TextMismatch);
        // Soft in one photo and clear in the other: judged on the other.
        let edited = text_reasons(&[patch(0.2), text_frame(0.3, 4.0)]);
        assert_eq!(edited[0].code, ReasonCode::TextMismatch, "{edited:?}");
        let (reasons, read) = glyph_reasons(&[patch(0.2), text_frame(0.9, 4.0)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextMatch, true),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_weak_disagreement_in_photos_too_noisy_to_read_letters_is_not_an_edit() {
        // The Latin name's worst window at `latin` of the median field, every character's
        // separation at `separation` (the critical digits' median: below 0.4, the photo
        // cannot read letters).
        let frame = |latin: f32, separation: f32| {
            let mut f = glyph_frame(0.9, 9.0, 0.9);
            for t in &mut f.report.text_fields {
                t.glyphs.iter_mut().for_each(|g| g.separation = separation);
                if t.name == "name_latin" {
                    t.worst_window = latin;
                }
            }
            f
        };
        // Legible photos: a window at 0.39 of the others is an edit, as before.
        let (reasons, _) = glyph_reasons(&[frame(0.35, 2.0), frame(0.3, 2.0)]);
        assert_eq!(reasons[0].code, ReasonCode::TextMismatch, "{reasons:?}");
        // Too noisy to read letters (seed 4249 at harsh: genuine Latin names at 0.28-0.59 of
        // the others): not an edit, and not read.
        let (reasons, read) = glyph_reasons(&[frame(0.35, 0.3), frame(0.3, 0.3)]);
        assert_eq!(
            (reasons[0].code, read),
            (ReasonCode::TextUnclear, false),
            "{reasons:?}"
        );
        assert!(reasons[0].message.contains("Latin name") && reasons[0].message.contains("noisy"));
        // Agreeing less than nothing (another holder's name) is an edit however noisy.
        let (reasons, _) = glyph_reasons(&[frame(-0.5, 0.3), frame(-0.9, 0.3)]);
        assert_eq!(reasons[0].code, ReasonCode::TextMismatch, "{reasons:?}");
        // Noisy in one photo, legible in the other: judged as before.
        let (reasons, _) = glyph_reasons(&[frame(0.35, 0.3), frame(0.3, 2.0)]);
        assert_eq!(reasons[0].code, ReasonCode::TextMismatch, "{reasons:?}");
    }

    #[test]
    fn a_failed_frame_gets_no_retake_reason_for_its_words() {
        // A replay's frames: a window read, the code failed, the words never compared.
        let unread = |state: FrameState| {
            let mut frame = text_frame(0.9, 6.0);
            frame.report.text_fields.clear();
            frame.state = state;
            frame
        };
        let replayed = text_reasons(&[unread(FrameState::Fail), unread(FrameState::Fail)]);
        assert_eq!(replayed, Vec::new());
        // A frame whose code passed and whose words were not all in the photo: a retake.
        let partial = text_reasons(&[unread(FrameState::Retake)]);
        assert_eq!(partial.len(), 1, "{partial:?}");
        assert_eq!(partial[0].code, ReasonCode::TextUnclear, "{partial:?}");
    }

    #[test]
    fn lettering_at_the_softest_blur_is_not_judged() {
        let softest = text::BLURS[text::BLURS.len() - 1];
        let soft = text_reasons(&[text_frame(0.1, softest), text_frame(0.1, softest)]);
        assert_eq!(soft.len(), 1);
        assert_eq!(soft[0].code, ReasonCode::TextUnclear, "{soft:?}");
        assert!(soft[0].message.contains("too blurred"), "{soft:?}");
        // Only the sharper photo of a burst counts.
        let mixed = text_reasons(&[text_frame(0.1, softest), text_frame(0.9, 9.0)]);
        assert_eq!(mixed[0].code, ReasonCode::TextMatch, "{mixed:?}");
        assert_eq!(mixed[0].frame, Some(1), "{mixed:?}");
    }

    /// A frame with an authentic code whose portrait came out `off` colour with correlation
    /// `corr` under glare `glare`.
    fn portrait_frame(off: f32, corr: f32, glare: f32) -> FrameResult {
        FrameResult {
            report: FrameReport {
                window: Some(Window(1)),
                portrait_cells_off: Some(off),
                portrait_correlation: Some(corr),
                portrait_glare: Some(glare),
                ..Default::default()
            },
            reasons: Vec::new(),
            state: FrameState::Pass,
        }
    }

    fn portrait_reason(frames: &[FrameResult]) -> ReasonCode {
        let mut reasons = Vec::new();
        portrait_check(&DetectorConfig::default(), frames, &mut reasons);
        reasons[0].code
    }

    #[test]
    fn colours_off_without_glare_are_another_face_of_the_same_outline() {
        // Another face of the same pose: light and dark follow the outline, colours do not.
        let swap = [portrait_frame(0.4, 0.96, 0.04), portrait_frame(0.45, 0.95, 0.2)];
        assert_eq!(portrait_reason(&swap), ReasonCode::PortraitMismatch);
        // The same numbers under strong glare ask for a retake.
        assert_eq!(
            portrait_reason(&[portrait_frame(0.4, 0.96, 0.3)]),
            ReasonCode::PortraitUnclear
        );
        // A low correlation is another face whatever the glare.
        assert_eq!(
            portrait_reason(&[portrait_frame(0.4, 0.6, 0.3)]),
            ReasonCode::PortraitMismatch
        );
        // The best frame decides: glare in one frame does not hide a match in the other.
        let glare = [portrait_frame(0.5, 0.97, 0.4), portrait_frame(0.02, 0.99, 0.01)];
        assert_eq!(portrait_reason(&glare), ReasonCode::PortraitMatch);
    }

    #[test]
    fn config_ranges_are_checked() {
        assert!(DetectorConfig::default().validate().is_ok());
        let bad = DetectorConfig {
            portrait_match_max_off: 0.8,
            portrait_mismatch_min_off: 0.5,
            ..Default::default()
        };
        assert!(matches!(bad.validate(), Err(DetectError::BadConfig(_))));
        let bad = DetectorConfig {
            clock_tolerance_ms: 0,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("clock tolerance")
        );
    }
}
