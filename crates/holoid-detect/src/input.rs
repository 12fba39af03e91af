//! Camera photos from bytes: the format is sniffed from the content, and the dimensions are
//! read from the header and checked against a pixel limit *before* anything is decoded, so
//! a decompression bomb (a small file that claims a huge image) is refused without the
//! memory it asks for.

use std::fmt;
use std::io::Cursor;

use image::{ImageFormat, ImageReader, RgbImage};

/// Why a photo could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// Zero bytes.
    Empty,
    /// Not a format the detector reads (JPEG or PNG).
    NotAnImage,
    /// A JPEG or PNG whose header or data is damaged or cut short.
    Corrupt {
        /// The decoder's words.
        detail: String,
    },
    /// More pixels than the limit.
    TooLarge {
        /// Width the header claims.
        width: u32,
        /// Height the header claims.
        height: u32,
        /// The limit, pixels.
        limit: u64,
    },
    /// Too small to hold a card.
    TooSmall {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Empty => write!(f, "the file is empty (0 bytes)"),
            InputError::NotAnImage => write!(f, "not a JPEG or PNG image"),
            InputError::Corrupt { detail } => write!(f, "the image is damaged or truncated: {detail}"),
            InputError::TooLarge { width, height, limit } => write!(
                f,
                "the image is {width}x{height} ({} MP), over the limit of {} MP",
                u64::from(*width) * u64::from(*height) / 1_000_000,
                limit / 1_000_000
            ),
            InputError::TooSmall { width, height } => write!(
                f,
                "the image is {width}x{height}, too small to show a card (at least {MIN_SIDE} px a side)"
            ),
        }
    }
}

impl std::error::Error for InputError {}

/// The default pixel limit: 50 MP, above any phone camera's default photo.
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// The smallest side a photo may have.
pub const MIN_SIDE: u32 = 64;

/// Decodes a JPEG or PNG photo into RGB, refusing more than `max_pixels` pixels before
/// decoding them.
pub fn decode_photo(bytes: &[u8], max_pixels: u64) -> Result<RgbImage, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    let format = image::guess_format(bytes).map_err(|_| InputError::NotAnImage)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(InputError::NotAnImage);
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(InputError::Corrupt {
            detail: "the JPEG ends before its end-of-image marker".into(),
        });
    }
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let corrupt = |e: image::ImageError| InputError::Corrupt {
        detail: e.to_string(),
    };
    let (width, height) = reader().into_dimensions().map_err(corrupt)?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(InputError::TooLarge {
            width,
            height,
            limit: max_pixels,
        });
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(InputError::TooSmall { width, height });
    }
    let mut limits = image::Limits::default();
    // The decoded image at up to 8 bytes a pixel (16-bit RGBA PNG), plus the decoder's own.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    let mut r = reader();
    r.limits(limits);
    Ok(r.decode().map_err(corrupt)?.to_rgb8())
}

/// Whether an end-of-image marker follows the last start-of-scan marker. Decoders fill a
/// cut-off JPEG with grey rather than fail; this tells a truncated file. (Inside scan data
/// a 0xFF byte is always followed by 0x00 or a restart marker, so neither marker can appear
/// there by chance; an embedded thumbnail's markers come before the main scan.)
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_scan {
        Some(i) => bytes[i..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_pixel(width, height, image::Rgb([200, 100, 50]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn reads_a_png() {
        let img = decode_photo(&png(80, 100), DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!(img.dimensions(), (80, 100));
        assert_eq!(img.get_pixel(5, 5).0, [200, 100, 50]);
    }

    #[test]
    fn refuses_bad_input_by_name() {
        assert_eq!(decode_photo(&[], 1000), Err(InputError::Empty));
        assert_eq!(decode_photo(b"hello world", 1000), Err(InputError::NotAnImage));
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(decode_photo(gif, 1000), Err(InputError::NotAnImage));
        let full = png(80, 100);
        assert!(matches!(
            decode_photo(&full[..full.len() / 2], DEFAULT_MAX_PIXELS),
            Err(InputError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_photo(&full[..20], DEFAULT_MAX_PIXELS),
            Err(InputError::Corrupt { .. })
        ));
        assert_eq!(
            decode_photo(&png(80, 100), 7999),
            Err(InputError::TooLarge {
                width: 80,
                height: 100,
                limit: 7999
            })
        );
        assert_eq!(
            decode_photo(&png(80, 40), DEFAULT_MAX_PIXELS),
            Err(InputError::TooSmall {
                width: 80,
                height: 40
            })
        );
    }

    #[test]
    fn a_cut_off_jpeg_is_refused() {
        let img = RgbImage::from_fn(96, 96, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut jpeg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        assert!(decode_photo(&jpeg, DEFAULT_MAX_PIXELS).is_ok());
        assert!(matches!(
            decode_photo(&jpeg[..jpeg.len() * 2 / 3], DEFAULT_MAX_PIXELS),
            Err(InputError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_bomb_header_is_refused_before_decoding() {
        // A PNG whose header claims 100000 x 100000 pixels, with no image data: the
        // dimension check must refuse it without trying to allocate 30 GB.
        let mut bytes = png(80, 100);
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        // Fix the IHDR CRC so the header itself is valid.
        let crc = crc32fast::hash(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            decode_photo(&bytes, DEFAULT_MAX_PIXELS),
            Err(InputError::TooLarge { width: 100_000, .. })
        ));
    }
}
