//! The check cut where the secrets begin (issue #22): what a frame shows, measured without
//! any key, so that the verifier's own device (the officer's PC, the shop's tablet, the kiosk)
//! can do the image work and send the server only this — never the photo of someone's ID.
//!
//! [`measure`] finds the card, reads its code (payload and Reed–Solomon), reads where the
//! time sweep's head stands for either direction of travel, and measures the portrait and the
//! lettering against the credential's registered [`Record`]. The result, a
//! [`FrameEvidence`], is plain serde data: about a kilobyte of JSON with the lettering, its
//! measures as arrays in a fixed order (see [`SweepHeads`], [`PortraitEvidence`],
//! [`FieldEvidence`]), so a burst of three stays under 4 kB.
//! [`Detector::check_evidence`](crate::Detector::check_evidence) then does what needs the
//! keys — the tag in constant time, the window's keyed sweep direction and start turned into a
//! time, the capture time against the clock — and decides with the very rules of a photo
//! check ([`Detector::check`](crate::Detector::check) measures and judges the same way).
//!
//! Every figure is measured to a thousandth ([`thousandths`]) and a photo check decides on
//! those same figures, which JSON carries exactly, so both routes reach the same decision and
//! reasons on the same frames. The server treats evidence as
//! input from the network: [`FrameEvidence::validate`] refuses figures out of their ranges,
//! unknown fields and codes, and lettering that is not one comparison per value field.

use std::fmt;

use holoid_core::code::{CodeError, PAYLOAD_LEN, Payload};
use holoid_core::encoding::{from_hex, to_hex};
use holoid_core::time::UnixMillis;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::content::{self, PortraitComparison};
use crate::locate::{LocateError, Located};
use crate::sweep::{self, HeadReading};
use crate::text::{self, FieldComparison, GlyphComparison};
use crate::{Stopwatch, Timings};

/// What one frame shows, measured without any secret: what the verifier's device sends the
/// server in place of the photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameEvidence {
    /// When the frame was captured, milliseconds since the Unix epoch (the verifier's clock).
    pub captured_at: u64,
    /// Why the card or its code could not be read; `None` when the code was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<Unread>,
    /// The code, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeEvidence>,
    /// Where the sweep's head stands for each direction of travel (which one the card uses,
    /// and where its phase 0 lies, is keyed: the server's to say); `None` where the ring is not
    /// wholly in the frame or shows no contrast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepHeads>,
    /// The portrait against the registered one, where the record had it and the portrait is
    /// wholly in the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portrait: Option<PortraitEvidence>,
    /// Each value field against the credential's lettering, one per field in
    /// [`text::VALUE_NAMES`] order, where the record had it and the code was read; empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_fields: Vec<FieldEvidence>,
}

/// Why a frame's card or code was not read: the detector's own errors, so the server words
/// the retake exactly as a photo check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case", deny_unknown_fields)]
pub enum Unread {
    /// Fewer than three finder marks, or no orientation mark (`card_not_found`).
    MarksNotFound {
        /// Finder marks seen.
        finders: u8,
        /// Orientation marks seen.
        orientation: u8,
    },
    /// The marks found do not form a card (`card_not_found`).
    NotACard,
    /// Too many of the code's modules wrong or unreadable (`code_unreadable`).
    CodeUnreadable {
        /// Bytes with at least one unreadable module.
        erased_bytes: u16,
    },
    /// A payload of a code version this build does not know (`code_unreadable`).
    CodeVersion {
        /// The version read.
        version: u8,
    },
    /// A payload whose window period is outside 1..=30 s (`code_unreadable`).
    CodePeriod {
        /// The period read, seconds.
        secs: u8,
    },
}

impl Unread {
    fn of_locate(e: &LocateError) -> Unread {
        match *e {
            LocateError::MarksNotFound { finders, orientation } => Unread::MarksNotFound {
                finders: finders.min(255) as u8,
                orientation: orientation.min(255) as u8,
            },
            LocateError::BadGeometry => Unread::NotACard,
        }
    }

    fn of_code(e: &CodeError) -> Unread {
        match *e {
            CodeError::UnsupportedVersion(version) => Unread::CodeVersion { version },
            CodeError::BadPeriod(secs) => Unread::CodePeriod { secs },
            CodeError::Unreadable { erased_bytes } => Unread::CodeUnreadable {
                erased_bytes: erased_bytes.min(usize::from(u16::MAX)) as u16,
            },
            // Module readings always have the code's module count (and errors added later are
            // unreadable codes too): say the code was not read.
            _ => Unread::CodeUnreadable { erased_bytes: 0 },
        }
    }

    /// The card was not found (as opposed to found with its code unread).
    pub fn card_not_found(self) -> bool {
        matches!(self, Unread::MarksNotFound { .. } | Unread::NotACard)
    }

    /// The locate error this stands for, when the card was not found.
    pub(crate) fn locate_error(self) -> Option<LocateError> {
        match self {
            Unread::MarksNotFound { finders, orientation } => Some(LocateError::MarksNotFound {
                finders: finders.into(),
                orientation: orientation.into(),
            }),
            Unread::NotACard => Some(LocateError::BadGeometry),
            _ => None,
        }
    }

    /// The code error this stands for, when the card was found and its code not read.
    pub(crate) fn code_error(self) -> Option<CodeError> {
        match self {
            Unread::CodeUnreadable { erased_bytes } => Some(CodeError::Unreadable {
                erased_bytes: erased_bytes.into(),
            }),
            Unread::CodeVersion { version } => Some(CodeError::UnsupportedVersion(version)),
            Unread::CodePeriod { secs } => Some(CodeError::BadPeriod(secs)),
            _ => None,
        }
    }
}

/// The code as read: its payload (tag not yet checked: that needs the credential's key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeEvidence {
    /// The 20 payload bytes, hex: version, period, the window's low 32 bits, the
    /// credential's locator, the window tag.
    pub payload: String,
    /// Bytes the error-correcting code repaired.
    pub corrected_bytes: u16,
}

impl CodeEvidence {
    /// The payload parsed (its tag unchecked).
    pub fn payload(&self) -> Result<Payload, EvidenceError> {
        let bytes: [u8; PAYLOAD_LEN] = from_hex(&self.payload).map_err(|_| EvidenceError::Payload)?;
        Payload::from_bytes(&bytes).map_err(|_| EvidenceError::Payload)
    }
}

/// Where the sweep's head stands for either direction of travel. JSON: `[[angle,
/// confidence], [angle, confidence]]`, clockwise first.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "[[f32; 2]; 2]", into = "[[f32; 2]; 2]")]
pub struct SweepHeads {
    /// Travelling clockwise.
    pub clockwise: HeadReading,
    /// Travelling counter-clockwise.
    pub counter_clockwise: HeadReading,
}

impl From<[[f32; 2]; 2]> for SweepHeads {
    fn from([cw, ccw]: [[f32; 2]; 2]) -> Self {
        let head = |[angle, confidence]: [f32; 2]| HeadReading { angle, confidence };
        SweepHeads {
            clockwise: head(cw),
            counter_clockwise: head(ccw),
        }
    }
}

impl From<SweepHeads> for [[f32; 2]; 2] {
    fn from(s: SweepHeads) -> Self {
        let head = |h: HeadReading| [h.angle, h.confidence];
        [head(s.clockwise), head(s.counter_clockwise)]
    }
}

impl SweepHeads {
    /// The reading for a sweep travelling in `direction` (+1 clockwise, -1 counter-clockwise).
    pub fn for_direction(&self, direction: f32) -> HeadReading {
        if direction.signum() > 0.0 {
            self.clockwise
        } else {
            self.counter_clockwise
        }
    }
}

/// The portrait's measures (see [`PortraitComparison`]). JSON: `[correlation, cells_off,
/// glare, saturation]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "[f32; 4]", into = "[f32; 4]")]
pub struct PortraitEvidence {
    /// Correlation of the cells' light and dark, -1..1.
    pub correlation: f32,
    /// Share of cells off colour, 0..1.
    pub cells_off: f32,
    /// The most glare found on it, a share of the display's white (above 1 where a
    /// reflection outshines the screen).
    pub glare: f32,
    /// Colourfulness against the registered portrait (about 1 on a screen).
    pub saturation: f32,
}

impl From<[f32; 4]> for PortraitEvidence {
    fn from([correlation, cells_off, glare, saturation]: [f32; 4]) -> Self {
        PortraitEvidence {
            correlation,
            cells_off,
            glare,
            saturation,
        }
    }
}

impl From<PortraitEvidence> for [f32; 4] {
    fn from(p: PortraitEvidence) -> Self {
        [p.correlation, p.cells_off, p.glare, p.saturation]
    }
}

impl From<PortraitComparison> for PortraitEvidence {
    fn from(p: PortraitComparison) -> Self {
        PortraitEvidence {
            correlation: p.correlation,
            cells_off: p.cells_off,
            glare: p.glare,
            saturation: p.saturation,
        }
    }
}

impl From<PortraitEvidence> for PortraitComparison {
    fn from(p: PortraitEvidence) -> Self {
        PortraitComparison {
            correlation: p.correlation,
            cells_off: p.cells_off,
            glare: p.glare,
            saturation: p.saturation,
        }
    }
}

/// One value field's measures (see [`FieldComparison`]); which field it is, its place in the
/// list says, and its characters are not named. JSON: `[correlation, worst_window, blur,
/// [[position, margin, separation], …]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "FieldTuple", into = "FieldTuple")]
pub struct FieldEvidence {
    /// Cross-correlation with the expected ink, -1..1.
    pub correlation: f32,
    /// The lowest letter-wide window agreement.
    pub worst_window: f32,
    /// The blur of the expected ink that fits best, design units.
    pub blur: f32,
    /// Per replaceable character: position, margin, separation.
    pub glyphs: Vec<(u16, f32, f32)>,
}

/// [`FieldEvidence`] as JSON has it.
type FieldTuple = (f32, f32, f32, Vec<(u16, f32, f32)>);

impl From<FieldTuple> for FieldEvidence {
    fn from((correlation, worst_window, blur, glyphs): FieldTuple) -> Self {
        FieldEvidence {
            correlation,
            worst_window,
            blur,
            glyphs,
        }
    }
}

impl From<FieldEvidence> for FieldTuple {
    fn from(f: FieldEvidence) -> Self {
        (f.correlation, f.worst_window, f.blur, f.glyphs)
    }
}

impl From<&FieldComparison> for FieldEvidence {
    fn from(t: &FieldComparison) -> Self {
        FieldEvidence {
            correlation: t.correlation,
            worst_window: t.worst_window,
            blur: t.blur,
            glyphs: t
                .glyphs
                .iter()
                .map(|g| {
                    (
                        g.position.min(usize::from(u16::MAX)) as u16,
                        g.margin,
                        g.separation,
                    )
                })
                .collect(),
        }
    }
}

/// `x` to the nearest thousandth: the precision of every figure a frame's measures report
/// (angles: a ten-thousandth of a radian). The photo check decides on these same rounded
/// figures, so evidence sent at that precision — a few kilobytes for a burst, not a burst's
/// photos — is judged exactly as the photos it was measured from; the rounding is far below
/// any threshold's margin of error (see `docs/detector.md`).
pub fn thousandths(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

/// The most characters a field's evidence may name (the longest value field, the address,
/// has well under this many).
const MAX_GLYPHS: usize = 128;

/// What is wrong with a frame's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The payload is not 20 bytes of hex, or names an unknown version or period.
    Payload,
    /// Both a code and a reason it was not read, or neither.
    CodeAndUnread,
    /// Measures of a card that was not found.
    MeasuresWithoutCard,
    /// Lettering measured without a code read.
    TextWithoutCode,
    /// A figure outside its range (or not finite).
    OutOfRange(&'static str),
    /// The lettering is not one comparison per value field.
    Fields,
    /// A field names more characters than any field has, or one twice.
    Glyphs,
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceError::Payload => {
                f.write_str("code.payload must be the code's 20 bytes as hex, of a known version and period")
            }
            EvidenceError::CodeAndUnread => f.write_str("give either code or unread, not both or neither"),
            EvidenceError::MeasuresWithoutCard => {
                f.write_str("sweep, portrait or text_fields given for a frame whose card was not found")
            }
            EvidenceError::TextWithoutCode => {
                f.write_str("text_fields given for a frame whose code was not read")
            }
            EvidenceError::OutOfRange(what) => write!(f, "{what} is outside its range"),
            EvidenceError::Fields => write!(
                f,
                "text_fields must be empty or one comparison per value field ({}), in the order {}",
                text::VALUE_NAMES.len(),
                text::VALUE_NAMES.join(", ")
            ),
            EvidenceError::Glyphs => write!(
                f,
                "a field's glyphs name a position twice or more than {MAX_GLYPHS} characters"
            ),
        }
    }
}

impl std::error::Error for EvidenceError {}

/// `x` finite and within `lo..=hi`, or the error naming `what`.
fn within(x: f32, lo: f32, hi: f32, what: &'static str) -> Result<(), EvidenceError> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(())
    } else {
        Err(EvidenceError::OutOfRange(what))
    }
}

/// A correlation's range, with room for rounding in a sum of products of unit vectors.
const CORRELATION: (f32, f32) = (-1.001, 1.001);

impl FrameEvidence {
    /// Checks the evidence's shape and ranges (what [`measure`] can produce), so that a
    /// malformed or hostile message is refused, never judged.
    pub fn validate(&self) -> Result<(), EvidenceError> {
        match (&self.code, &self.unread) {
            (Some(code), None) => {
                code.payload()?;
            }
            (None, Some(_)) => {}
            _ => return Err(EvidenceError::CodeAndUnread),
        }
        let not_found = self.unread.is_some_and(Unread::card_not_found);
        if not_found && (self.sweep.is_some() || self.portrait.is_some() || !self.text_fields.is_empty()) {
            return Err(EvidenceError::MeasuresWithoutCard);
        }
        if self.code.is_none() && !self.text_fields.is_empty() {
            return Err(EvidenceError::TextWithoutCode);
        }
        if let Some(s) = &self.sweep {
            for (h, what) in [
                (s.clockwise, "sweep.clockwise"),
                (s.counter_clockwise, "sweep.counter_clockwise"),
            ] {
                within(h.angle, 0.0, std::f32::consts::TAU, what)?;
                within(h.confidence, CORRELATION.0, CORRELATION.1, what)?;
            }
        }
        if let Some(p) = &self.portrait {
            within(
                p.correlation,
                CORRELATION.0,
                CORRELATION.1,
                "portrait.correlation",
            )?;
            within(p.cells_off, 0.0, 1.0, "portrait.cells_off")?;
            // Glare is light added as a share of the display's white: above 1 where a
            // reflection outshines the screen (seen: 1.06). Saturation is a slope, negative
            // under such glare (seen: -0.13); both only reported.
            within(p.glare, 0.0, 100.0, "portrait.glare")?;
            within(p.saturation, -100.0, 100.0, "portrait.saturation")?;
        }
        if !self.text_fields.is_empty() && self.text_fields.len() != text::VALUE_NAMES.len() {
            return Err(EvidenceError::Fields);
        }
        for t in &self.text_fields {
            within(
                t.correlation,
                CORRELATION.0,
                CORRELATION.1,
                "text_fields.correlation",
            )?;
            // One less unexplained energy over signal: at most 1, and bounded below in practice
            // far above this.
            within(t.worst_window, -1e6, 1.001, "text_fields.worst_window")?;
            within(t.blur, 0.0, 100.0, "text_fields.blur")?;
            if t.glyphs.len() > MAX_GLYPHS {
                return Err(EvidenceError::Glyphs);
            }
            for (k, &(position, margin, separation)) in t.glyphs.iter().enumerate() {
                if usize::from(position) >= MAX_GLYPHS || t.glyphs[..k].iter().any(|g| g.0 == position) {
                    return Err(EvidenceError::Glyphs);
                }
                within(margin, -1e6, 1e6, "text_fields.glyphs margin")?;
                within(separation, 0.0, 1e6, "text_fields.glyphs separation")?;
            }
        }
        Ok(())
    }

    /// The lettering as the detector's comparisons, each named by its place.
    pub(crate) fn fields(&self) -> Vec<FieldComparison> {
        self.text_fields
            .iter()
            .zip(text::VALUE_NAMES)
            .map(|(t, name)| FieldComparison {
                name,
                correlation: t.correlation,
                worst_window: t.worst_window,
                blur: t.blur,
                glyphs: t
                    .glyphs
                    .iter()
                    .map(|&(position, margin, separation)| GlyphComparison {
                        position: position.into(),
                        margin,
                        separation,
                    })
                    .collect(),
            })
            .collect()
    }

    /// The capture time.
    pub fn time(&self) -> UnixMillis {
        UnixMillis(self.captured_at)
    }
}

/// What a frame is measured against: the credential's registered portrait (its cells) and its
/// lettering, either or both. Made once per credential.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// The registered portrait's cells.
    pub portrait: Option<content::Reference>,
    /// The credential's lettering.
    pub text: Option<text::TextReference>,
}

/// A frame measured: the evidence, and where the card lies in it (for the page to draw).
#[derive(Clone, Debug)]
pub struct Measured {
    /// What is sent to the server.
    pub evidence: FrameEvidence,
    /// The card's marks and homography, where found.
    pub located: Option<Located>,
}

/// Measures one frame captured at `captured_at` against `record`: everything a check needs
/// that no key is needed for. The lettering is measured only where the code was read (as a
/// photo check does: without the code there is no card to judge it for).
pub fn measure(
    image: &RgbImage,
    captured_at: UnixMillis,
    record: &Record,
    timings: &mut Timings,
) -> Measured {
    let look = crate::look(image, record.portrait.as_ref(), timings);
    let grey = &look.grey;
    let mut evidence = FrameEvidence {
        captured_at: captured_at.0,
        unread: None,
        code: None,
        sweep: None,
        portrait: look.portrait.map(PortraitEvidence::from),
        text_fields: Vec::new(),
    };
    let located = match look.located {
        Ok(l) => l,
        Err(e) => {
            evidence.unread = Some(Unread::of_locate(&e));
            return Measured {
                evidence,
                located: None,
            };
        }
    };
    let clock = Stopwatch::start();
    evidence.sweep = sweep::ring_profile(grey, &located.to_image).and_then(|p| {
        Some(SweepHeads {
            clockwise: sweep::read_head(&p, 1.0)?,
            counter_clockwise: sweep::read_head(&p, -1.0)?,
        })
    });
    timings.sweep_us += clock.micros();
    match look.decoded {
        Ok(d) => {
            evidence.code = Some(CodeEvidence {
                payload: to_hex(&d.payload.to_bytes()),
                corrected_bytes: d.corrected_bytes.min(usize::from(u16::MAX)) as u16,
            });
            if let Some(text) = &record.text {
                let mut photo = crate::FromPhoto {
                    grey,
                    to_image: &located.to_image,
                    text,
                };
                let fields = crate::LaterMeasures::text(&mut photo, timings);
                evidence.text_fields = fields.iter().map(FieldEvidence::from).collect();
            }
        }
        Err(e) => evidence.unread = Some(Unread::of_code(&e)),
    }
    Measured {
        evidence,
        located: Some(located),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> FrameEvidence {
        FrameEvidence {
            captured_at: 1_795_603_792_250,
            unread: Some(Unread::CodeUnreadable { erased_bytes: 9 }),
            code: None,
            sweep: Some(SweepHeads {
                clockwise: HeadReading {
                    angle: 1.0,
                    confidence: 0.9,
                },
                counter_clockwise: HeadReading {
                    angle: 2.0,
                    confidence: 0.3,
                },
            }),
            portrait: Some(PortraitEvidence {
                correlation: 0.98,
                cells_off: 0.02,
                glare: 0.0,
                saturation: 1.0,
            }),
            text_fields: Vec::new(),
        }
    }

    #[test]
    fn evidence_round_trips_through_json_exactly() {
        let e = found();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<FrameEvidence>(&json).unwrap(), e);
        assert!(e.validate().is_ok());
    }

    #[test]
    fn malformed_evidence_is_refused() {
        let mut e = found();
        e.unread = None;
        assert_eq!(e.validate(), Err(EvidenceError::CodeAndUnread));
        let mut e = found();
        e.unread = Some(Unread::NotACard);
        assert_eq!(e.validate(), Err(EvidenceError::MeasuresWithoutCard));
        let mut e = found();
        e.portrait.as_mut().unwrap().cells_off = 1.5;
        assert_eq!(e.validate(), Err(EvidenceError::OutOfRange("portrait.cells_off")));
        let mut e = found();
        e.sweep.as_mut().unwrap().clockwise.angle = f32::NAN;
        assert_eq!(e.validate(), Err(EvidenceError::OutOfRange("sweep.clockwise")));
        let mut e = found();
        e.unread = None;
        e.code = Some(CodeEvidence {
            payload: "00".repeat(20),
            corrected_bytes: 0,
        });
        assert_eq!(e.validate(), Err(EvidenceError::Payload), "version 0 is unknown");
        e.code.as_mut().unwrap().payload = format!("0105{}", "00".repeat(18));
        assert_eq!(e.validate(), Ok(()));
        e.text_fields = vec![FieldEvidence {
            correlation: 0.9,
            worst_window: 0.8,
            blur: 1.0,
            glyphs: Vec::new(),
        }];
        assert_eq!(e.validate(), Err(EvidenceError::Fields), "one field only");
        let unknown = r#"{"captured_at": 1, "unread": {"why": "not_a_card"}, "extra": 1}"#;
        assert!(serde_json::from_str::<FrameEvidence>(unknown).is_err());
    }
}
