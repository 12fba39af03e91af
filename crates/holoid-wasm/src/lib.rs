//! The detector where the camera is (issue #22): the part of a check that needs no secret,
//! built for the verifier's browser (`wasm32-unknown-unknown`) with a small JavaScript API.
//!
//! [`read_card`] takes a camera frame as RGBA (a canvas's `ImageData`) and its capture time,
//! and measures what the photo check measures before any key is used
//! ([`holoid_detect::evidence::measure`]): the card's corner marks, its code's payload (time
//! window, locator, tag; Reed–Solomon), where the time sweep's head stands for either
//! direction of travel, and, given the credential's registered [`Record`], its portrait and
//! lettering against them. The [`FrameEvidence`] is what the page sends the server instead of
//! the photo: the server holds the keys (the tag; the window's keyed sweep) and the status,
//! and judges the evidence with the same rules as a photo check
//! (`holoid_detect::Detector::check_evidence`).
//!
//! The same code runs natively (the tests run it both ways); [`CardReader`] is what
//! JavaScript sees.

use holoid_core::credential::SignedCredential;
use holoid_core::encoding::{from_hex, to_hex};
use holoid_core::time::UnixMillis;
use holoid_detect::{Timings, content, evidence, rectify, text};
use image::RgbImage;
use serde::Serialize;
use wasm_bindgen::JsError;
use wasm_bindgen::prelude::wasm_bindgen;

pub use holoid_detect::evidence::{FrameEvidence, Record};

/// The most pixels a frame may have (a 12 MP camera frame is well inside).
pub const MAX_PIXELS: u64 = holoid_detect::input::DEFAULT_MAX_PIXELS;

/// What one camera frame shows: the evidence for the server, and what the page itself needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CardReading {
    /// Where the card's marks lie in the frame, pixels: top-left, top-right and bottom-left
    /// finders, the bottom-right orientation mark (for the page to outline the card). `None`
    /// where the card was not found.
    pub marks: Option<[[f64; 2]; 4]>,
    /// The credential's locator read from the code, hex: the page asks the server for that
    /// credential's record by it. `None` where the code was not read.
    pub locator: Option<String>,
    /// What the server is sent for this frame (see [`FrameEvidence`]).
    pub evidence: FrameEvidence,
}

/// The credential's registered portrait as the detector compares it (its cells at each blur a
/// camera may add), from the portrait's PNG or JPEG bytes the verifier's server sends.
pub fn portrait_reference(bytes: &[u8]) -> Result<content::Reference, FrameError> {
    let img = image::load_from_memory(bytes).map_err(|e| FrameError::Portrait(e.to_string()))?;
    Ok(content::reference(&img.to_rgb8()))
}

/// The record the verifier's server sends for a credential (`GET /v1/records/{locator}`: the
/// credential's signed JSON and its portrait's cells as hex) as what frames are measured against.
pub fn record_from_json(json: &str) -> Result<Record, FrameError> {
    #[derive(serde::Deserialize)]
    struct RecordJson {
        credential: String,
        portrait_cells: String,
    }
    let r: RecordJson = serde_json::from_str(json).map_err(|e| FrameError::Credential(e.to_string()))?;
    let cells: [u8; content::REFERENCE_BYTES] = from_hex(&r.portrait_cells)
        .map_err(|_| FrameError::Portrait("portrait_cells is not the cells' bytes as hex".into()))?;
    Ok(Record {
        portrait: Some(
            content::Reference::from_bytes(&cells).map_err(|e| FrameError::Portrait(e.to_string()))?,
        ),
        text: Some(text_reference(&r.credential)?),
    })
}

/// The credential's lettering as the detector compares it (each value field typeset with the
/// card's font at the scales a camera sees), from the credential file's JSON (its signature is
/// the server's to check).
pub fn text_reference(json: &str) -> Result<text::TextReference, FrameError> {
    let signed = SignedCredential::from_json(json).map_err(|e| FrameError::Credential(e.to_string()))?;
    Ok(text::reference(&signed.credential))
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
    /// The card's marks were not found (or its image could not be written).
    CardNotFound(String),
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
            FrameError::CardNotFound(e) => write!(f, "no card to straighten: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Measures an RGBA frame (`width` × `height`, rows top to bottom, 4 bytes a pixel; alpha
/// ignored) captured at `captured_at`: finds the card, reads its code and its sweep, and
/// compares its portrait and lettering with the `record`'s where given.
pub fn read_card(
    rgba: &[u8],
    width: u32,
    height: u32,
    captured_at: UnixMillis,
    record: &Record,
) -> Result<CardReading, FrameError> {
    let image = rgb_frame(rgba, width, height)?;
    let measured = evidence::measure(&image, captured_at, record, &mut Timings::default());
    let locator = (measured.evidence.code.as_ref())
        .and_then(|c| c.payload().ok())
        .map(|p| to_hex(&p.locator.0));
    Ok(CardReading {
        marks: measured.located.map(|l| l.marks.map(|m| m.center)),
        locator,
        evidence: measured.evidence,
    })
}

/// The card in an RGBA frame, straightened at [`rectify::CARD_IMAGE_SIZE`] as a PNG: what the
/// console sends, and only when the officer stores a digital copy of a check it measured
/// itself (the service checks that it shows the checked credential's portrait and lettering).
pub fn straightened_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, FrameError> {
    let image = rgb_frame(rgba, width, height)?;
    let (w, h) = rectify::CARD_IMAGE_SIZE;
    let card = rectify::rectify(&image, w, h).map_err(|e| FrameError::CardNotFound(e.to_string()))?;
    let mut png = Vec::new();
    card.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| FrameError::CardNotFound(e.to_string()))?;
    Ok(png)
}

/// An RGBA frame's pixels as RGB, after checking its size and length.
fn rgb_frame(rgba: &[u8], width: u32, height: u32) -> Result<RgbImage, FrameError> {
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
    RgbImage::from_raw(width, height, rgb).ok_or(FrameError::BadSize { width, height })
}

/// The card in an RGBA frame straightened, as PNG bytes (see [`straightened_png`]); throws
/// an `Error` when the frame holds no card.
#[wasm_bindgen(js_name = cardPng)]
pub fn card_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, JsError> {
    straightened_png(rgba, width, height).map_err(|e| JsError::new(&e.to_string()))
}

/// The reader for JavaScript: `new CardReader(portraitBytes, credentialJson)` once per
/// credential (the registered portrait's PNG or JPEG and the credential file's JSON, either
/// `undefined` to leave it out: a reader without them reads the code, to learn which
/// credential's record to fetch), or `CardReader.fromRecord(recordJson)` with the record the
/// server sends, then `reader.readJson(imageData.data, width, height,
/// capturedAtMs)` per camera frame: the [`CardReading`] as JSON. Both throw an `Error` saying
/// what is wrong with their input.
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
                    .map(portrait_reference)
                    .transpose()
                    .map_err(js)?,
                text: (credential.as_deref())
                    .map(text_reference)
                    .transpose()
                    .map_err(js)?,
            },
        })
    }

    /// A reader comparing frames with the record the server sent (`GET
    /// /v1/records/{locator}`, its JSON text).
    #[wasm_bindgen(js_name = fromRecord)]
    pub fn from_record(json: &str) -> Result<CardReader, JsError> {
        Ok(CardReader {
            record: record_from_json(json).map_err(|e| JsError::new(&e.to_string()))?,
        })
    }

    /// Reads one RGBA frame captured at `captured_at_ms` (milliseconds since the Unix epoch,
    /// as `Date.now()` gives): the [`CardReading`] as JSON.
    #[wasm_bindgen(js_name = readJson)]
    pub fn read_json(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        captured_at_ms: f64,
    ) -> Result<String, JsError> {
        if !(captured_at_ms.is_finite() && (0.0..9.0e15).contains(&captured_at_ms)) {
            return Err(JsError::new(
                "capturedAtMs must be milliseconds since the Unix epoch",
            ));
        }
        let at = UnixMillis(captured_at_ms as u64);
        let reading =
            read_card(rgba, width, height, at, &self.record).map_err(|e| JsError::new(&e.to_string()))?;
        serde_json::to_string(&reading).map_err(|e| JsError::new(&e.to_string()))
    }
}
