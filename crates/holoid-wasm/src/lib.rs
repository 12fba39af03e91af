//! The detector where the camera is (issue #22): the part of a check that needs no secret,
//! built for the verifier's browser (`wasm32-unknown-unknown`) with a small JavaScript API.
//!
//! [`read_card`] takes a camera frame as RGBA (a canvas's `ImageData`), finds the card's
//! corner marks, reads its code (Reed–Solomon): the code's payload (time window, locator,
//! tag), and where the time sweep's head stands for either direction of travel. Whether the
//! tag is authentic, the window fresh, the sweep in time and the card in force is the server's
//! to say: it holds the keys (the window's pattern gives the sweep's direction and start) and
//! the status. Given the credential's registered portrait and record ([`Record`]), the reader
//! also measures the photographed portrait and lettering against them: measures, which the
//! server judges with the same rules as a photo check.
//!
//! The same code runs natively (the tests run it both ways); [`CardReader`] is what
//! JavaScript sees.

use holoid_core::credential::SignedCredential;
use holoid_detect::locate::Located;
use holoid_detect::verdict::TextFieldJson;
use holoid_detect::{ReasonCode, Timings, content, find_code, sample, sweep, text};
use image::RgbImage;
use serde::Serialize;
use wasm_bindgen::JsError;
use wasm_bindgen::prelude::wasm_bindgen;

/// The most pixels a frame may have (a 12 MP camera frame is well inside).
pub const MAX_PIXELS: u64 = holoid_detect::input::DEFAULT_MAX_PIXELS;

/// What one camera frame shows, as sent to the page (and, in time, to the server).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CardReading {
    /// Where the card's marks lie in the frame, pixels: top-left, top-right and bottom-left
    /// finders, the bottom-right orientation mark. `None` where the card was not found.
    pub marks: Option<[[f64; 2]; 4]>,
    /// The code's payload, `None` where it could not be read.
    pub code: Option<CodeReading>,
    /// The time sweep's head for each direction it may travel (the window's keyed pattern
    /// says which, and where its phase 0 is: the server's to say), `None` where the ring is
    /// not wholly in the frame or shows no contrast.
    pub sweep: Option<SweepHeads>,
    /// The portrait against the credential's registered one, where a reader was given it and
    /// the portrait is wholly in the frame.
    pub portrait: Option<PortraitReading>,
    /// Each value field against the credential's lettering (as a photo check's JSON reports
    /// it), where a reader was given the credential and its code was read; empty otherwise.
    pub text_fields: Vec<TextFieldJson>,
    /// Why the card or its code could not be read (a retake), as the detector's reason code
    /// (`card_not_found`, `code_unreadable`) and its words.
    pub retake: Option<Retake>,
}

/// The code's payload as read (its tag not yet checked: that needs the credential's key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeReading {
    /// The window period the card was drawn with, milliseconds.
    pub period_ms: u64,
    /// The low 32 bits of the card's time window.
    pub window_low: u32,
    /// The credential's locator, hex.
    pub locator: String,
    /// The window tag, hex.
    pub tag: String,
    /// Bytes the error-correcting code repaired.
    pub corrected_bytes: usize,
}

/// Where the sweep's head stands on the ring, read for both directions of travel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SweepHeads {
    /// Travelling clockwise.
    pub clockwise: Head,
    /// Travelling counter-clockwise.
    pub counter_clockwise: Head,
}

/// One head reading (see [`holoid_detect::sweep::HeadReading`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Head {
    /// Radians from 12 o'clock, clockwise, `[0, 2π)`.
    pub angle: f32,
    /// Correlation with the sweep's shape, -1..1.
    pub confidence: f32,
}

/// How the photographed portrait compares with the registered one (see
/// [`holoid_detect::content::PortraitComparison`]): measures, not a decision — the server
/// decides with the same thresholds as a photo check.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PortraitReading {
    /// Correlation of the cells' light and dark, -1..1.
    pub correlation: f32,
    /// Share of cells off colour once gain and glare are taken out, 0..1.
    pub cells_off: f32,
    /// The most glare found on it, a share of the display's white.
    pub glare: f32,
    /// How colourful it is against the registered portrait (about 1 on a screen).
    pub saturation: f32,
}

/// The credential's registered portrait as the detector compares it (its cells at each blur a
/// camera may add), made once per credential from the portrait the verifier's server sends.
#[derive(Clone, Debug)]
pub struct PortraitReference(content::Reference);

impl PortraitReference {
    /// From the registered portrait's PNG or JPEG bytes.
    pub fn from_image(bytes: &[u8]) -> Result<PortraitReference, FrameError> {
        let img = image::load_from_memory(bytes).map_err(|e| FrameError::Portrait(e.to_string()))?;
        Ok(PortraitReference(content::reference(&img.to_rgb8())))
    }
}

/// The credential's lettering as the detector compares it (each value field typeset with the
/// card's font at the scales a camera sees), made once per credential from its record.
#[derive(Clone, Debug)]
pub struct TextReference(text::TextReference);

impl TextReference {
    /// From the credential file's JSON (its signature is the server's to check).
    pub fn from_credential_json(json: &str) -> Result<TextReference, FrameError> {
        let signed = SignedCredential::from_json(json).map_err(|e| FrameError::Credential(e.to_string()))?;
        Ok(TextReference(text::reference(&signed.credential)))
    }
}

/// What a reader compares a frame with: the credential's registered portrait and lettering,
/// either or both.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// The registered portrait.
    pub portrait: Option<PortraitReference>,
    /// The credential's lettering.
    pub text: Option<TextReference>,
}

/// Why a frame needs retaking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Retake {
    /// The reason code, as in the detector's verdicts.
    pub code: &'static str,
    /// What went wrong, in words.
    pub message: String,
}

/// Why a frame could not be looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The pixel buffer's length is not width × height × 4.
    WrongLength {
        /// Bytes expected.
        expected: u64,
        /// Bytes given.
        given: usize,
    },
    /// A side below the detector's smallest photo, or more pixels than [`MAX_PIXELS`].
    BadSize {
        /// Width, pixels.
        width: u32,
        /// Height, pixels.
        height: u32,
    },
    /// The registered portrait could not be decoded.
    Portrait(String),
    /// The credential's record could not be read.
    Credential(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::WrongLength { expected, given } => write!(
                f,
                "the frame has {given} bytes; RGBA of its width and height is {expected}"
            ),
            FrameError::BadSize { width, height } => write!(
                f,
                "a {width}x{height} frame is outside {0}x{0} .. {MAX_PIXELS} pixels",
                holoid_detect::input::MIN_SIDE
            ),
            FrameError::Portrait(e) => write!(f, "the registered portrait: {e}"),
            FrameError::Credential(e) => write!(f, "the credential: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Finds the card in an RGBA frame (`width` × `height`, rows top to bottom, 4 bytes a pixel;
/// alpha ignored), reads its code and its sweep, and compares its portrait and lettering with
/// the `record`'s where given.
pub fn read_card(rgba: &[u8], width: u32, height: u32, record: &Record) -> Result<CardReading, FrameError> {
    let pixels = u64::from(width) * u64::from(height);
    let min = holoid_detect::input::MIN_SIDE;
    if width < min || height < min || pixels > MAX_PIXELS {
        return Err(FrameError::BadSize { width, height });
    }
    if rgba.len() as u64 != pixels * 4 {
        return Err(FrameError::WrongLength {
            expected: pixels * 4,
            given: rgba.len(),
        });
    }
    let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let image = RgbImage::from_raw(width, height, rgb).ok_or(FrameError::BadSize { width, height })?;
    let grey = sample::grey(&image);
    let (located, decoded) = find_code(&grey, &mut Timings::default());
    let located: Located = match located {
        Ok(l) => l,
        Err(e) => {
            return Ok(CardReading {
                marks: None,
                code: None,
                sweep: None,
                portrait: None,
                text_fields: Vec::new(),
                retake: Some(Retake {
                    code: ReasonCode::CardNotFound.as_str(),
                    message: e.to_string(),
                }),
            });
        }
    };
    let marks = Some(located.marks.map(|m| m.center));
    let head = |profile: &sweep::RingProfile, direction: f32| {
        sweep::read_head(profile, direction).map(|h| Head {
            angle: h.angle,
            confidence: h.confidence,
        })
    };
    let portrait = (record.portrait.as_ref())
        .and_then(|p| content::compare_portrait(&image, &located.to_image, &p.0))
        .map(|p| PortraitReading {
            correlation: p.correlation,
            cells_off: p.cells_off,
            glare: p.glare,
            saturation: p.saturation,
        });
    let heads = sweep::ring_profile(&grey, &located.to_image).and_then(|p| {
        Some(SweepHeads {
            clockwise: head(&p, 1.0)?,
            counter_clockwise: head(&p, -1.0)?,
        })
    });
    Ok(match decoded {
        Ok(d) => CardReading {
            text_fields: (record.text.as_ref())
                .and_then(|t| text::compare_text(&grey, &located.to_image, &t.0))
                .map(|fields| fields.iter().map(TextFieldJson::of).collect())
                .unwrap_or_default(),
            marks,
            code: Some(CodeReading {
                period_ms: d.payload.period.millis(),
                window_low: d.payload.window_low,
                locator: hex(&d.payload.locator.0),
                tag: hex(&d.payload.tag),
                corrected_bytes: d.corrected_bytes,
            }),
            sweep: heads,
            portrait,
            retake: None,
        },
        Err(e) => CardReading {
            marks,
            code: None,
            sweep: heads,
            portrait,
            text_fields: Vec::new(),
            retake: Some(Retake {
                code: ReasonCode::CodeUnreadable.as_str(),
                message: format!("{e}: hold the phone steady, closer and without glare"),
            }),
        },
    })
}

/// The reader for JavaScript: `new CardReader(portraitBytes, credentialJson)` once per
/// credential (the registered portrait's PNG or JPEG and the credential file's JSON, either
/// `undefined` to leave it out), then
/// `reader.readJson(imageData.data, width, height)` per camera frame: the [`CardReading`] as
/// JSON. Both throw an `Error` saying what is wrong with their input.
#[wasm_bindgen]
pub struct CardReader {
    record: Record,
}

#[wasm_bindgen]
impl CardReader {
    /// A reader comparing frames with `portrait` (image bytes) and the lettering of
    /// `credential` (JSON) where given.
    #[wasm_bindgen(constructor)]
    pub fn new(portrait: Option<Vec<u8>>, credential: Option<String>) -> Result<CardReader, JsError> {
        let js = |e: FrameError| JsError::new(&e.to_string());
        Ok(CardReader {
            record: Record {
                portrait: (portrait.as_deref())
                    .map(PortraitReference::from_image)
                    .transpose()
                    .map_err(js)?,
                text: (credential.as_deref())
                    .map(TextReference::from_credential_json)
                    .transpose()
                    .map_err(js)?,
            },
        })
    }

    /// Reads one RGBA frame: the [`CardReading`] as JSON.
    #[wasm_bindgen(js_name = readJson)]
    pub fn read_json(&self, rgba: &[u8], width: u32, height: u32) -> Result<String, JsError> {
        let reading =
            read_card(rgba, width, height, &self.record).map_err(|e| JsError::new(&e.to_string()))?;
        serde_json::to_string(&reading).map_err(|e| JsError::new(&e.to_string()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
