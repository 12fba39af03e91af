//! The detector where the camera is (issue #22): the part of a check that needs no secret,
//! built for the verifier's browser (`wasm32-unknown-unknown`) with a small JavaScript API.
//!
//! [`read_card`] takes a camera frame as RGBA (a canvas's `ImageData`), finds the card's
//! corner marks, reads its code (Reed–Solomon): the code's payload (time window, locator,
//! tag), and where the time sweep's head stands for either direction of travel. Whether the
//! tag is authentic, the window fresh, the sweep in time and the card in force is the server's
//! to say: it holds the keys (the window's pattern gives the sweep's direction and start) and
//! the status. The portrait and lettering comparisons, which need the credential's registered
//! record, are the next step.
//!
//! The same code runs natively (the tests run it both ways); only [`read_card_json`] is
//! exported to JavaScript.

use holoid_detect::locate::Located;
use holoid_detect::{ReasonCode, Timings, find_code, sample, sweep};
use image::RgbImage;
use serde::Serialize;
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
        }
    }
}

impl std::error::Error for FrameError {}

/// Finds the card in an RGBA frame (`width` × `height`, rows top to bottom, 4 bytes a pixel;
/// alpha ignored) and reads its code.
pub fn read_card(rgba: &[u8], width: u32, height: u32) -> Result<CardReading, FrameError> {
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
    let heads = sweep::ring_profile(&grey, &located.to_image).and_then(|p| {
        Some(SweepHeads {
            clockwise: head(&p, 1.0)?,
            counter_clockwise: head(&p, -1.0)?,
        })
    });
    Ok(match decoded {
        Ok(d) => CardReading {
            marks,
            code: Some(CodeReading {
                period_ms: d.payload.period.millis(),
                window_low: d.payload.window_low,
                locator: hex(&d.payload.locator.0),
                tag: hex(&d.payload.tag),
                corrected_bytes: d.corrected_bytes,
            }),
            sweep: heads,
            retake: None,
        },
        Err(e) => CardReading {
            marks,
            code: None,
            sweep: heads,
            retake: Some(Retake {
                code: ReasonCode::CodeUnreadable.as_str(),
                message: format!("{e}: hold the phone steady, closer and without glare"),
            }),
        },
    })
}

/// [`read_card`] for JavaScript: `readCardJson(imageData.data, width, height)` gives the
/// reading as JSON, or throws an `Error` saying what is wrong with the frame.
#[wasm_bindgen(js_name = readCardJson)]
pub fn read_card_json(rgba: &[u8], width: u32, height: u32) -> Result<String, wasm_bindgen::JsError> {
    let reading = read_card(rgba, width, height).map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))?;
    serde_json::to_string(&reading).map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
