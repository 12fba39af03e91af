//! What the detector answers: a decision, a score, and reasons with stable codes.

use std::fmt;

use holoid_core::time::UnixMillis;
use holoid_core::timekey::Window;
use serde::{Deserialize, Serialize};

/// The detector's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every check passed on at least one frame, and no frame showed a forgery.
    Genuine,
    /// At least one frame showed a forgery (a wrong, stale or lagging card, another face).
    Forgery,
    /// Nothing conclusive could be read: the reasons say what to retake.
    Inconclusive,
}

impl Decision {
    /// `genuine`, `forgery` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Genuine => "genuine",
            Decision::Forgery => "forgery",
            Decision::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a reason says about the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A check passed.
    Pass,
    /// Evidence of a forgery.
    Fail,
    /// The check could not be made: retake the photo.
    Retake,
}

impl Outcome {
    /// `pass`, `fail` or `retake`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Retake => "retake",
        }
    }
}

macro_rules! reason_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $outcome:ident;)*) => {
        /// A reason's stable code (its `as_str` never changes once released).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $($(#[$doc])* $name,)*
        }

        impl ReasonCode {
            /// Every code.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$name,)*];

            /// The stable code, snake case.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ReasonCode::$name => $code,)*
                }
            }

            /// Whether it is a pass, a fail or a retake.
            pub fn outcome(self) -> Outcome {
                match self {
                    $(ReasonCode::$name => Outcome::$outcome,)*
                }
            }
        }
    };
}

reason_codes! {
    /// The code's tag is authentic for this credential and a window the verifier accepts.
    TagValid = "tag_valid", Pass;
    /// The sweep shows the capture time, within the clock tolerance.
    SweepInTime = "sweep_in_time", Pass;
    /// The portrait matches the credential's.
    PortraitMatch = "portrait_match", Pass;
    /// The burst's frames advance with their capture times.
    BurstAdvances = "burst_advances", Pass;
    /// The words on the card are the credential's, as far as the photo shows them.
    TextMatch = "text_match", Pass;
    /// The code's tag was not made with this credential's device key.
    InvalidTag = "invalid_tag", Fail;
    /// The code names another credential.
    OtherCredential = "other_credential", Fail;
    /// An authentic tag from a window older than the accepted ones: a replay.
    StaleWindow = "stale_window", Fail;
    /// An authentic tag from a window later than the accepted ones.
    WindowAhead = "window_ahead", Fail;
    /// The sweep shows a time earlier than the capture by more than the tolerance: a replay.
    SweepLag = "sweep_lag", Fail;
    /// The sweep shows a time later than the capture by more than the tolerance.
    SweepAhead = "sweep_ahead", Fail;
    /// The burst's frames do not advance with their capture times: a still or slowed replay.
    BurstNotAdvancing = "burst_not_advancing", Fail;
    /// The portrait is not the credential's.
    PortraitMismatch = "portrait_mismatch", Fail;
    /// Words on the card (name, birth date, number, address, dates) are not the credential's.
    TextMismatch = "text_mismatch", Fail;
    /// The credential is expired or not yet valid at the capture time.
    CredentialNotValid = "credential_not_valid", Fail;
    /// The issuer's status says this enrolment is suspended (the phone was reported lost).
    CredentialSuspended = "credential_suspended", Fail;
    /// The issuer's status says this enrolment is revoked (or, in an offline list, no longer
    /// in force).
    CredentialRevoked = "credential_revoked", Fail;
    /// The card was drawn with the key of an earlier enrolment: it was moved to another
    /// phone, and this one (or a copy of its key) is no longer enrolled.
    DeviceReplaced = "device_replaced", Fail;
    /// The card's corner marks were not found.
    CardNotFound = "card_not_found", Retake;
    /// The code could not be read.
    CodeUnreadable = "code_unreadable", Retake;
    /// The sweep could not be read clearly.
    SweepUnreadable = "sweep_unreadable", Retake;
    /// The portrait could not be compared (outside the photo, no contrast, or neither
    /// clearly matching nor clearly different).
    PortraitUnclear = "portrait_unclear", Retake;
    /// The words on the card are too blurred to compare letter by letter, or disagree while
    /// glare spoils the portrait too (informational: the portrait and the tag still decide).
    TextUnclear = "text_unclear", Retake;
    /// The credential's status could not be learnt (the status list is stale, unsigned by
    /// the issuer, or unreadable): never read as genuine, never as revoked.
    StatusUnknown = "status_unknown", Retake;
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, with a sentence for people.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// Stable code.
    pub code: ReasonCode,
    /// A sentence for a human verifier.
    pub message: String,
    /// The frame it concerns (0-based), or `None` for the burst as a whole.
    pub frame: Option<usize>,
}

/// What the detector found in one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameReport {
    /// When it was captured (verifier's clock).
    pub captured_at: UnixMillis,
    /// Whether the card's marks were found.
    pub located: bool,
    /// The code's bytes repaired by the error-correcting code, when it decoded.
    pub corrected_bytes: Option<usize>,
    /// The card's window, when the code decoded with an authentic tag.
    pub window: Option<Window>,
    /// The time the sweep shows, when read.
    pub shown_at: Option<UnixMillis>,
    /// Capture time minus shown time, milliseconds (positive: the card lags).
    pub lag_ms: Option<i64>,
    /// Confidence of the sweep reading, -1..1.
    pub sweep_confidence: Option<f32>,
    /// Correlation of the portrait's light and dark with the credential's, -1..1.
    pub portrait_correlation: Option<f32>,
    /// Share of the portrait's cells whose colour is not the credential's, 0..1.
    pub portrait_cells_off: Option<f32>,
    /// Glare found on the portrait: light added, as a share of the display's white.
    pub portrait_glare: Option<f32>,
    /// The portrait's colourfulness against the credential's (about 1 on a screen; lower
    /// through a print's or a second screen's narrower gamut): reported, not decided on.
    pub portrait_saturation: Option<f32>,
    /// Each value field's comparison with the credential's words (empty when not compared).
    pub text_fields: Vec<super::text::FieldComparison>,
    /// This frame's score, 0..1 (0.5 = the decision boundary).
    pub score: f32,
}

/// Time spent per step, microseconds, summed over the frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Finding the marks.
    pub locate_us: u64,
    /// Reading and decoding the code, checking the tag.
    pub decode_us: u64,
    /// Reading the sweep.
    pub sweep_us: u64,
    /// The portrait and text comparisons.
    pub content_us: u64,
    /// Everything, from the images handed in to the verdict.
    pub total_us: u64,
}

/// The detector's verdict on a capture (one frame or a burst).
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Genuine, forgery or inconclusive.
    pub decision: Decision,
    /// 0..1, higher is more genuine: at least 0.5 exactly when the decision is genuine
    /// (inconclusive verdicts score 0.3..0.49, what their evidence allows; forgeries at most 0.49).
    pub score: f32,
    /// The findings, failures first.
    pub reasons: Vec<Reason>,
    /// The card's window, when any frame carried an authentic tag.
    pub window: Option<Window>,
    /// The credential checked against.
    pub credential_id: String,
    /// Per-frame findings.
    pub frames: Vec<FrameReport>,
    /// Time per step.
    pub timings: Timings,
}

/// What the issuer's status says of the enrolment a card was checked against, learnt by the
/// verifier apart from the photos (its database, or a signed status list). Each carries the
/// sentence to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusFinding {
    /// In force.
    Valid,
    /// Suspended: reported lost.
    Suspended(String),
    /// Revoked, or no longer in force.
    Revoked(String),
    /// Drawn with an earlier enrolment's key: moved to another phone.
    DeviceReplaced(String),
    /// Could not be learnt.
    Unknown(String),
}

impl Verdict {
    /// The verdict with the credential's status taken into account: a suspended, revoked or
    /// replaced enrolment is a forgery whatever the photos show (the reason first); an unknown
    /// status makes a genuine verdict inconclusive (score below the boundary), never a forgery.
    pub fn with_status(mut self, finding: &StatusFinding) -> Verdict {
        let (code, message) = match finding {
            StatusFinding::Valid => return self,
            StatusFinding::Suspended(m) => (ReasonCode::CredentialSuspended, m),
            StatusFinding::Revoked(m) => (ReasonCode::CredentialRevoked, m),
            StatusFinding::DeviceReplaced(m) => (ReasonCode::DeviceReplaced, m),
            StatusFinding::Unknown(m) => (ReasonCode::StatusUnknown, m),
        };
        self.reasons.insert(
            0,
            Reason {
                code,
                message: message.clone(),
                frame: None,
            },
        );
        if code.outcome() == Outcome::Fail {
            self.decision = Decision::Forgery;
            self.score = self.score.min(0.49);
        } else if self.decision == Decision::Genuine {
            self.decision = Decision::Inconclusive;
            self.score = self.score.clamp(0.3, 0.49);
        }
        self
    }

    /// The verdict as JSON: `decision`, `score`, `reasons` (`code`, `outcome`, `message`,
    /// `frame`), `window` (number and start time, or null), `credential_id`, `frames`,
    /// `timings_us`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.report()).expect("a verdict report is plain data")
    }

    /// The verdict as the public JSON types: scores rounded to three decimals, times in
    /// RFC 3339, windows as their numbers.
    pub fn report(&self) -> VerdictReport {
        VerdictReport {
            decision: self.decision,
            score: round(self.score),
            reasons: self
                .reasons
                .iter()
                .map(|r| ReasonReport {
                    code: r.code,
                    outcome: r.code.outcome(),
                    message: r.message.clone(),
                    frame: r.frame,
                })
                .collect(),
            window: self.window.map(|w| w.0),
            credential_id: self.credential_id.clone(),
            frames: self
                .frames
                .iter()
                .map(|f| FrameJson {
                    captured_at: f.captured_at.to_rfc3339(),
                    located: f.located,
                    corrected_bytes: f.corrected_bytes,
                    window: f.window.map(|w| w.0),
                    shown_at: f.shown_at.map(UnixMillis::to_rfc3339),
                    lag_ms: f.lag_ms,
                    sweep_confidence: f.sweep_confidence.map(round),
                    portrait_correlation: f.portrait_correlation.map(round),
                    portrait_cells_off: f.portrait_cells_off.map(round),
                    portrait_glare: f.portrait_glare.map(round),
                    portrait_saturation: f.portrait_saturation.map(round),
                    text_fields: f.text_fields.iter().map(TextFieldJson::of).collect(),
                    score: round(f.score),
                })
                .collect(),
            timings_us: TimingsJson {
                locate: self.timings.locate_us,
                decode: self.timings.decode_us,
                sweep: self.timings.sweep_us,
                content: self.timings.content_us,
                total: self.timings.total_us,
            },
        }
    }
}

/// The verdict's public JSON (`holoid check --json`, the service's check responses).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictReport {
    /// `genuine`, `forgery` or `inconclusive`.
    pub decision: Decision,
    /// 0..1, three decimals; at least 0.5 exactly when genuine.
    pub score: f64,
    /// The findings, failures first.
    pub reasons: Vec<ReasonReport>,
    /// The card's window number, when any frame carried an authentic tag.
    pub window: Option<u64>,
    /// The credential checked against.
    pub credential_id: String,
    /// Per-frame findings.
    pub frames: Vec<FrameJson>,
    /// Time per step, microseconds.
    pub timings_us: TimingsJson,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReasonReport {
    /// The stable code, e.g. `stale_window`.
    pub code: ReasonCode,
    /// `pass`, `fail` or `retake`.
    pub outcome: Outcome,
    /// A sentence for a human verifier.
    pub message: String,
    /// The frame it concerns (0-based), or null for the burst.
    pub frame: Option<usize>,
}

/// What the detector found in one frame (see [`FrameReport`]); scores to three decimals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameJson {
    /// When it was captured, RFC 3339.
    pub captured_at: String,
    /// Whether the card's marks were found.
    pub located: bool,
    /// Bytes the error-correcting code repaired, when the code decoded.
    pub corrected_bytes: Option<usize>,
    /// The card's window number, when its tag was authentic.
    pub window: Option<u64>,
    /// The time the sweep shows, RFC 3339.
    pub shown_at: Option<String>,
    /// Capture time minus shown time, ms.
    pub lag_ms: Option<i64>,
    /// Confidence of the sweep reading.
    pub sweep_confidence: Option<f64>,
    /// Correlation of the portrait with the credential's.
    pub portrait_correlation: Option<f64>,
    /// Share of the portrait's cells off colour.
    pub portrait_cells_off: Option<f64>,
    /// Glare on the portrait, as a share of white.
    pub portrait_glare: Option<f64>,
    /// The portrait's colourfulness against the credential's.
    pub portrait_saturation: Option<f64>,
    /// Each value field's comparison with the credential's words.
    pub text_fields: Vec<TextFieldJson>,
    /// The frame's score.
    pub score: f64,
}

/// One value field's comparison with the credential's lettering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextFieldJson {
    /// The field's name.
    pub field: String,
    /// Cross-correlation with the expected ink.
    pub correlation: f64,
    /// The lowest letter-wide window agreement.
    pub worst_window: f64,
    /// The blur of the expected ink that fits best, design units.
    pub blur: f64,
    /// Each character an edit could replace, against the replacement the photo comes
    /// nearest (1: the expected glyph exactly; −1: the replacement; 0: half-way). The
    /// characters themselves are not named.
    #[serde(default)]
    pub glyph_margins: Vec<GlyphMarginJson>,
}

/// A figure for the public JSON: rounded to three decimals.
fn round(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

impl TextFieldJson {
    /// A field's comparison as JSON, figures rounded to three decimals.
    pub fn of(t: &crate::text::FieldComparison) -> TextFieldJson {
        TextFieldJson {
            field: t.name.to_string(),
            correlation: round(t.correlation),
            worst_window: round(t.worst_window),
            blur: round(t.blur),
            glyph_margins: t
                .glyphs
                .iter()
                .map(|g| GlyphMarginJson {
                    position: g.position,
                    margin: round(g.margin),
                    separation: round(g.separation),
                })
                .collect(),
        }
    }
}

/// One character's glyph margin (see [`TextFieldJson::glyph_margins`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlyphMarginJson {
    /// The character's index in the field's value, from 0.
    pub position: usize,
    /// The margin, -2..2.
    pub margin: f64,
    /// How far apart the two glyphs lie in the photo's noise (see
    /// `holoid_detect::text::GlyphComparison::separation`).
    pub separation: f64,
}

/// Time per step, microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingsJson {
    /// Finding the marks.
    pub locate: u64,
    /// Reading and decoding the code.
    pub decode: u64,
    /// Reading the sweep.
    pub sweep: u64,
    /// The portrait and text comparisons.
    pub content: u64,
    /// Everything.
    pub total: u64,
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        ReasonCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == code)
            .ok_or_else(|| serde::de::Error::custom(format!("`{code}` is not a reason code")))
    }
}

impl fmt::Display for Verdict {
    /// A readable verdict: the decision and score, then one line per reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} (score {:.2}) — credential {}",
            self.decision.as_str().to_uppercase(),
            self.score,
            self.credential_id
        )?;
        for r in &self.reasons {
            let mark = match r.code.outcome() {
                Outcome::Pass => "ok   ",
                Outcome::Fail => "FAIL ",
                Outcome::Retake => "retake",
            };
            let frame = r.frame.map(|i| format!(" [frame {}]", i + 1)).unwrap_or_default();
            writeln!(f, "  {mark} {:<20} {}{frame}", r.code.as_str(), r.message)?;
        }
        Ok(())
    }
}

/// A duration for people: `850 ms`, `2.4 s`, `3 min`, `5 h`, `2 days`.
pub fn human_duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min", (ms + 30_000) / 60_000),
        3_600_000..172_800_000 => format!("{} h", (ms + 1_800_000) / 3_600_000),
        _ => format!("{} days", (ms + 43_200_000) / 86_400_000),
    }
}

/// The time of day (UTC) as `HH:MM:SS`.
pub fn clock_time(t: UnixMillis) -> String {
    let ms = t.millis_of_day();
    format!(
        "{:02}:{:02}:{:02}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ReasonCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    fn genuine() -> Verdict {
        Verdict {
            decision: Decision::Genuine,
            score: 0.9,
            reasons: vec![Reason {
                code: ReasonCode::TagValid,
                message: "tag".into(),
                frame: Some(0),
            }],
            window: Some(Window(1)),
            credential_id: "KR-RRC-00000001".into(),
            frames: Vec::new(),
            timings: Timings::default(),
        }
    }

    #[test]
    fn the_status_overrules_the_photos_and_unknown_is_never_genuine_nor_revoked() {
        assert_eq!(genuine().with_status(&StatusFinding::Valid), genuine());
        for (finding, code) in [
            (
                StatusFinding::Suspended("lost".into()),
                ReasonCode::CredentialSuspended,
            ),
            (
                StatusFinding::Revoked("gone".into()),
                ReasonCode::CredentialRevoked,
            ),
            (
                StatusFinding::DeviceReplaced("moved".into()),
                ReasonCode::DeviceReplaced,
            ),
        ] {
            let v = genuine().with_status(&finding);
            assert_eq!(v.decision, Decision::Forgery, "{code}");
            assert!(v.score < 0.5);
            assert_eq!(v.reasons[0].code, code);
            assert_eq!(v.reasons.len(), 2);
        }
        let v = genuine().with_status(&StatusFinding::Unknown("stale list".into()));
        assert_eq!(v.decision, Decision::Inconclusive);
        assert!((0.3..0.5).contains(&v.score));
        assert_eq!(v.reasons[0].code, ReasonCode::StatusUnknown);
        // An unknown status leaves a forgery a forgery.
        let mut forged = genuine();
        forged.decision = Decision::Forgery;
        forged.score = 0.1;
        let v = forged.with_status(&StatusFinding::Unknown("stale list".into()));
        assert_eq!((v.decision, v.score), (Decision::Forgery, 0.1));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(850), "850 ms");
        assert_eq!(human_duration(2_400), "2.4 s");
        assert_eq!(human_duration(185_000), "3 min");
        assert_eq!(human_duration(5 * 3_600_000), "5 h");
        assert_eq!(human_duration(3 * 86_400_000), "3 days");
        assert_eq!(
            clock_time(UnixMillis(14 * 3_600_000 + 2 * 60_000 + 5_999)),
            "14:02:05"
        );
    }

    #[test]
    fn the_json_is_the_report_type_and_reads_back() {
        let v = Verdict {
            decision: Decision::Forgery,
            score: 0.123_456,
            reasons: vec![Reason {
                code: ReasonCode::SweepLag,
                message: "the sweep lags".into(),
                frame: Some(1),
            }],
            window: Some(Window(359_120_758)),
            credential_id: "KR-RRC-00000001".into(),
            frames: vec![FrameReport {
                captured_at: UnixMillis(1_795_603_792_250),
                located: true,
                corrected_bytes: Some(3),
                lag_ms: Some(1_900),
                portrait_glare: Some(0.012_34),
                text_fields: vec![crate::text::FieldComparison {
                    name: "birth_date",
                    correlation: 0.987_65,
                    worst_window: 0.5,
                    blur: 2.0,
                    glyphs: vec![crate::text::GlyphComparison {
                        position: 3,
                        margin: 0.75,
                        separation: 1.5,
                    }],
                }],
                score: 0.25,
                ..Default::default()
            }],
            timings: Timings {
                total_us: 7_300,
                ..Default::default()
            },
        };
        let json = v.to_json();
        assert_eq!(json["decision"], "forgery");
        assert_eq!(json["score"], 0.123);
        assert_eq!(json["reasons"][0]["code"], "sweep_lag");
        assert_eq!(json["reasons"][0]["outcome"], "fail");
        assert_eq!(json["window"], 359_120_758);
        assert_eq!(json["frames"][0]["captured_at"], "2026-11-25T10:49:52.250Z");
        assert_eq!(json["frames"][0]["portrait_glare"], 0.012);
        assert_eq!(json["frames"][0]["shown_at"], serde_json::Value::Null);
        assert_eq!(json["frames"][0]["text_fields"][0]["field"], "birth_date");
        assert_eq!(json["timings_us"]["total"], 7_300);
        let back: VerdictReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, v.report());
        for &code in ReasonCode::ALL {
            let text = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ReasonCode>(&text).unwrap(), code);
        }
        assert!(serde_json::from_str::<ReasonCode>("\"dragon\"").is_err());
    }
}
