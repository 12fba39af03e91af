//! Encoding rendered frames: PNG, and animated PNG (APNG) for a sequence. In memory; the
//! caller writes the bytes (atomically). No GPU types.

use image::RgbaImage;

/// Why frames could not be encoded.
#[derive(Debug)]
pub struct EncodeError(pub String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot encode the PNG: {}", self.0)
    }
}

impl std::error::Error for EncodeError {}

fn err(e: impl std::fmt::Display) -> EncodeError {
    EncodeError(e.to_string())
}

/// One RGBA frame as PNG bytes.
pub fn png(frame: &RgbaImage) -> Result<Vec<u8>, EncodeError> {
    apng(std::slice::from_ref(frame), 1.0)
}

/// Frames of one size as an animated PNG that loops forever at `fps` frames per second
/// (a single frame gives a plain PNG).
pub fn apng(frames: &[RgbaImage], fps: f32) -> Result<Vec<u8>, EncodeError> {
    let first = frames.first().ok_or_else(|| err("no frames"))?;
    let (w, h) = first.dimensions();
    if frames.iter().any(|f| f.dimensions() != (w, h)) {
        return Err(err("frames differ in size"));
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        if frames.len() > 1 {
            let n = u32::try_from(frames.len()).map_err(err)?;
            enc.set_animated(n, 0).map_err(err)?;
            // Delay as a fraction of a second: 1000 / (1000 · fps).
            let den = (fps * 1000.0).round().clamp(1.0, 65_535.0) as u16;
            enc.set_frame_delay(1000, den).map_err(err)?;
        }
        let mut writer = enc.write_header().map_err(err)?;
        for f in frames {
            writer.write_image_data(f.as_raw()).map_err(err)?;
        }
        writer.finish().map_err(err)?;
    }
    Ok(out)
}
