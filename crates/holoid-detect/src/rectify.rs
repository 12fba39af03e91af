//! What a verifier takes from a photo besides the verdict: the card cut out and straightened
//! (the start of a digital copy), and the locator its code carries (which credential to check
//! it against, before any key is known).

use image::{Rgb, RgbImage};

use super::locate::LocateError;
use super::{Timings, find_code, sample};
use holoid_core::code::Locator;
use holoid_core::layout::{CARD_HEIGHT, CARD_WIDTH};

/// The card in `photo`, found by its marks and resampled straight at `width` × `height`
/// (bilinear; pixels outside the photo are black).
pub fn rectify(photo: &RgbImage, width: u32, height: u32) -> Result<RgbImage, LocateError> {
    let grey = sample::grey(photo);
    let (located, _) = find_code(&grey, &mut Timings::default());
    let to_image = located?.to_image;
    let (sx, sy) = (
        f64::from(CARD_WIDTH) / f64::from(width.max(1)),
        f64::from(CARD_HEIGHT) / f64::from(height.max(1)),
    );
    Ok(RgbImage::from_fn(width, height, |x, y| {
        let design = [(f64::from(x) + 0.5) * sx, (f64::from(y) + 0.5) * sy];
        let [u, v] = to_image.apply(design);
        sample::rgb(photo, u, v).map_or(Rgb([0, 0, 0]), |c| {
            Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    }))
}

/// The locator in the code of the card in `photo`, when the code can be read (its tag is not
/// checked: that needs the credential's key).
pub fn read_locator(photo: &RgbImage) -> Option<Locator> {
    let grey = sample::grey(photo);
    let (_, decoded) = find_code(&grey, &mut Timings::default());
    decoded.ok().map(|d| d.payload.locator)
}
