//! What the detector answers: a decision, a score, and reasons with stable codes.

use std::fmt;

use holoid_core::time::UnixMillis;
use holoid_core::timekey::Window;

/// The detector's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

impl Verdict {
    /// The verdict as JSON: `decision`, `score`, `reasons` (`code`, `outcome`, `message`,
    /// `frame`), `window` (number and start time, or null), `credential_id`, `frames`,
    /// `timings_us`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let opt_f = |v: Option<f32>| v.map(|x| (f64::from(x) * 1000.0).round() / 1000.0);
        json!({
            "decision": self.decision.as_str(),
            "score": (f64::from(self.score) * 1000.0).round() / 1000.0,
            "reasons": self.reasons.iter().map(|r| json!({
                "code": r.code.as_str(),
                "outcome": r.code.outcome().as_str(),
                "message": r.message,
                "frame": r.frame,
            })).collect::<Vec<_>>(),
            "window": self.window.map(|w| w.0),
            "credential_id": self.credential_id,
            "frames": self.frames.iter().map(|f| json!({
                "captured_at": f.captured_at.to_rfc3339(),
                "located": f.located,
                "corrected_bytes": f.corrected_bytes,
                "window": f.window.map(|w| w.0),
                "shown_at": f.shown_at.map(UnixMillis::to_rfc3339),
                "lag_ms": f.lag_ms,
                "sweep_confidence": opt_f(f.sweep_confidence),
                "portrait_correlation": opt_f(f.portrait_correlation),
                "portrait_cells_off": opt_f(f.portrait_cells_off),
                "portrait_glare": opt_f(f.portrait_glare),
                "portrait_saturation": opt_f(f.portrait_saturation),
                "text_fields": f.text_fields.iter().map(|t| json!({
                    "field": t.name,
                    "correlation": opt_f(Some(t.correlation)),
                    "worst_window": opt_f(Some(t.worst_window)),
                    "blur": opt_f(Some(t.blur)),
                })).collect::<Vec<_>>(),
                "score": opt_f(Some(f.score)),
            })).collect::<Vec<_>>(),
            "timings_us": {
                "locate": self.timings.locate_us,
                "decode": self.timings.decode_us,
                "sweep": self.timings.sweep_us,
                "content": self.timings.content_us,
                "total": self.timings.total_us,
            },
        })
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
}
