//! The text check: do the words on the photographed card say what the credential says? A
//! cloned device key makes valid tags, so a card whose name or birth date was edited passes
//! every cryptographic check; this and the portrait check are what catch it.
//!
//! The credential's own words ([`VALUE_FIELDS`]: name, birth date, number, address, dates)
//! are drawn once, on the CPU, with the renderer's own text painter and font, at half the
//! design scale; each field's ink coverage is kept blurred by several amounts ([`BLURS`]: the
//! camera's blur is unknown). In a photo, each field is sampled through the homography on a
//! grid about a photo pixel apart, as darkness (one less the light, so glare is an offset),
//! and compared with the expected
//! ink by normalised cross-correlation, over a small search of offsets (the homography is
//! fitted from the corner marks and may be a few design units off at the fields) and blurs.
//!
//! A field-wide correlation stays high when one or two letters change (the rest still
//! match), so each field is also judged in windows about one letter wide: the darkness the
//! field's fit (gain and black level over the expected ink) leaves unexplained within the
//! window (with the window's own black level), against the field's text signal. Where a letter was changed, added or removed,
//! the window sees ink where none is expected or none where it is: as much residual as
//! signal, or more. Empty stretches of a field agree as well as its letters do.

use image::GrayImage;

use super::sample::{level_to_linear, luma_along};
use holoid_core::credential::Credential;
use holoid_core::filter::gaussian_blur;
use holoid_core::homography::Homography;
use holoid_core::layout::Rect;
use holoid_text::{GlyphKey, TextPainter, VALUE_FIELDS, ValueGlyph};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// Reference map pixels per design unit: the text drawn at half the design scale, for
/// photos with fewer than [`FINE_FROM`] pixels a unit; at full scale (made when first needed)
/// for sharper, larger ones. Each glyph is placed on the pixel grid of its size, so letters
/// sit a unit or two apart between renderings at different sizes: a reference near the
/// photo's scale matches its lettering best.
const SCALES: [f32; 2] = [0.5, 1.0];
/// Photo pixels per design unit from which the full-scale reference is used.
const FINE_FROM: f32 = 0.6;
/// Blurs (Gaussian σ, design units) the expected ink is kept at: from none to what a 3-pixel
/// optics blur is on the smallest card the capture levels allow.
pub const BLURS: [f32; 6] = [0.0, 2.0, 4.0, 6.0, 9.0, 14.0];
/// The finest sample grid, design units (about one and a half strokes of the smallest value
/// text: a letter is still several samples wide; a sharper photo is averaged per sample).
const MIN_STEP: f32 = 5.0;
/// Windows agreeing less than this are tried again moved along the line by up to 2 units.
const RESCUE_BELOW: f32 = 0.75;
/// The offsets along the line (design units) a glyph's fit may move by.
const SHIFTS: [f32; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];
/// Where the replacement nearest on a quarter of a glyph window's samples comes within this
/// margin of the expected glyph, the next two nearest are compared on all samples too (far
/// below [`DetectorConfig::glyph_clear_from`]'s and the mismatch margin's range, a
/// replacement's ranking there decides nothing).
///
/// [`DetectorConfig::glyph_clear_from`]: crate::DetectorConfig::glyph_clear_from
const RECHECK_BELOW: f32 = 0.5;
/// The fewest samples a sixteenth of a glyph window must hold to sift many replacements
/// on it (small lettering in a small photo keeps them all for the quarter).
const MIN_SIFT_SAMPLES: usize = 64;
/// The offsets searched, ± design units, and their step.
const REACH: f32 = 6.0;
const STEP: f32 = 2.0;

/// One field's expected ink at each blur.
#[derive(Clone, Debug, PartialEq)]
struct FieldReference {
    name: &'static str,
    rect: Rect,
    /// Map pixels per design unit (one of [`SCALES`]).
    scale: f32,
    /// One map per blur: coverage 0..1 on a grid of `1 / scale` design units, from `origin`.
    maps: Vec<Vec<f32>>,
    origin: [f32; 2],
    size: (usize, usize),
    /// The field's characters that an edit could replace, with their replacements, placed
    /// on the map's pixel grid (map pixels = design units × `scale`).
    glyphs: Vec<ValueGlyph>,
    /// Each character's glyphs at each blur of [`BLURS`], looked up in the shared cache
    /// when first needed (see [`FieldReference::blurred`]).
    blurred: [std::sync::OnceLock<Vec<Option<CharacterGlyphs>>>; BLURS.len()],
}

/// A character's glyph and its replacements', blurred alike.
#[derive(Clone, Debug, PartialEq)]
struct CharacterGlyphs {
    expected: Arc<BlurredGlyph>,
    alternatives: Vec<Arc<BlurredGlyph>>,
}

impl FieldReference {
    /// Each of [`Self::glyphs`] at blur `b`: `None` where the font cannot draw it or any of
    /// its replacements.
    fn blurred(&self, b: usize) -> &[Option<CharacterGlyphs>] {
        self.blurred[b].get_or_init(|| {
            self.glyphs
                .iter()
                .map(|g| {
                    let expected = blurred_glyph(g.key, b, self.scale)?;
                    let alternatives: Vec<Arc<BlurredGlyph>> = g
                        .alternatives
                        .iter()
                        .filter_map(|&(_, key)| blurred_glyph(key, b, self.scale))
                        .collect();
                    (!alternatives.is_empty()).then_some(CharacterGlyphs {
                        expected,
                        alternatives,
                    })
                })
                .collect()
        })
    }
}

impl FieldReference {
    /// Expected ink of blur `b` at design point (`x`, `y`), bilinear; 0 outside the map.
    #[inline]
    fn at(&self, b: usize, x: f32, y: f32) -> f32 {
        self.at_axes(b, self.column(x), self.row(y))
    }

    /// Design x split for a bilinear read of the maps (see [`map_axis`]).
    #[inline]
    fn column(&self, x: f32) -> MapSplit {
        map_axis((x - self.origin[0]) * self.scale - 0.5, self.size.0)
    }

    /// Design y split for a bilinear read of the maps (see [`map_axis`]).
    #[inline]
    fn row(&self, y: f32) -> MapSplit {
        map_axis((y - self.origin[1]) * self.scale - 0.5, self.size.1)
    }

    /// Expected ink of blur `b` at a column and row split by [`Self::column`] and
    /// [`Self::row`]; 0 off the map.
    #[inline]
    fn at_axes(&self, b: usize, column: MapSplit, row: MapSplit) -> f32 {
        match (column, row) {
            (Some(x), Some(y)) => lerp4(&self.maps[b], self.size.0, x, y),
            _ => 0.0,
        }
    }
}

/// A coordinate on the field's maps split for bilinear reads (see [`map_axis`]).
type MapSplit = Option<(usize, f32)>;

/// A map coordinate `a` (pixel-centre units) split for a bilinear read: the pixel before
/// it and the fraction beyond; `None` unless both pixels lie on a map `len` pixels long (or
/// at NaN).
#[inline]
fn map_axis(a: f32, len: usize) -> MapSplit {
    (a >= 0.0 && a < (len - 1) as f32).then(|| {
        let i = a as usize;
        (i, a - i as f32)
    })
}

/// `map` (`w` pixels a row) read bilinearly at the splits `x` and `y` (see [`map_axis`]).
#[inline]
fn lerp4(map: &[f32], w: usize, (x0, fx): (usize, f32), (y0, fy): (usize, f32)) -> f32 {
    // Inside the map (see `map_axis`): the index arithmetic cannot wrap.
    let i = y0.wrapping_mul(w).wrapping_add(x0);
    let (upper, lower) = (&map[i..][..2], &map[i.wrapping_add(w)..][..2]);
    let top = upper[0] * (1.0 - fx) + upper[1] * fx;
    let bottom = lower[0] * (1.0 - fx) + lower[1] * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The value fields' names, in [`VALUE_FIELDS`]' order.
pub const VALUE_NAMES: [&str; 7] = {
    let mut names = [""; 7];
    let mut k = 0;
    while k < 7 {
        names[k] = VALUE_FIELDS[k].0;
        k += 1;
    }
    names
};

/// A value field's name in words, for people: "Hangul name", "birth date", ….
pub fn field_words(name: &str) -> &'static str {
    match name {
        "name_hangul" => "Hangul name",
        "name_latin" => "Latin name",
        "birth_date" => "birth date",
        "resident_number" => "resident number",
        "address" => "address",
        "issued" => "issue date",
        "expires" => "expiry date",
        _ => "lettering",
    }
}

/// The credential's words as the card draws them, ready to compare with photos.
#[derive(Clone, Debug, PartialEq)]
pub struct TextReference {
    credential: Credential,
    /// The fields at each of [`SCALES`]; the finer made when first needed.
    coarse: Vec<FieldReference>,
    fine: std::sync::OnceLock<Vec<FieldReference>>,
}

impl TextReference {
    /// The fields at the scale for photos of `px_per_unit` pixels a design unit.
    fn fields(&self, px_per_unit: f32) -> &[FieldReference] {
        if px_per_unit >= FINE_FROM {
            self.fine.get_or_init(|| fields_at(&self.credential, SCALES[1]))
        } else {
            &self.coarse
        }
    }
}

/// Draws the credential's words and keeps each field's ink at every blur of [`BLURS`].
pub fn reference(credential: &Credential) -> TextReference {
    TextReference {
        credential: credential.clone(),
        coarse: fields_at(credential, SCALES[0]),
        fine: std::sync::OnceLock::new(),
    }
}

/// The value fields drawn at `scale` map pixels per design unit.
fn fields_at(credential: &Credential, scale: f32) -> Vec<FieldReference> {
    let (w, h) = (
        (holoid_core::layout::CARD_WIDTH * scale).round() as u32,
        (holoid_core::layout::CARD_HEIGHT * scale).round() as u32,
    );
    let mut painter = TextPainter::new();
    let layer = painter.credential_layer(credential, w, h);
    let pad = REACH + 3.0 * BLURS[BLURS.len() - 1] + 2.0;
    VALUE_FIELDS
        .iter()
        .enumerate()
        .map(|(k, &(name, rect))| {
            let origin = [rect.x - pad, rect.y - pad];
            let size = (
                ((rect.w + 2.0 * pad) * scale).ceil() as usize,
                ((rect.h + 2.0 * pad) * scale).ceil() as usize,
            );
            let (x0, y0) = (
                (origin[0] * scale).round() as i64,
                (origin[1] * scale).round() as i64,
            );
            let coverage: Vec<f32> = (0..size.0 * size.1)
                .map(|i| {
                    let (x, y) = (x0 + (i % size.0) as i64, y0 + (i / size.0) as i64);
                    if x < 0 || y < 0 || x >= i64::from(w) || y >= i64::from(h) {
                        0.0
                    } else {
                        f32::from(layer.get_pixel(x as u32, y as u32)[3]) / 255.0
                    }
                })
                .collect();
            let maps = BLURS
                .iter()
                .map(|&sigma| gaussian(&coverage, size, sigma * scale))
                .collect();
            FieldReference {
                name,
                scale,
                rect,
                maps,
                origin,
                size,
                glyphs: painter
                    .value_glyphs(credential, k, w, h)
                    .into_iter()
                    .filter(|g| name != "address" || g.ch.is_ascii_digit())
                    .collect(),
                blurred: Default::default(),
            }
        })
        .collect()
}

/// `map` (`w` × `h`) blurred by a Gaussian of `sigma` map pixels, edges clamped (the blur
/// the simulator's optics use, `holoid_core::filter`).
fn gaussian(map: &[f32], (w, h): (usize, usize), sigma: f32) -> Vec<f32> {
    if sigma < 0.3 {
        return map.to_vec();
    }
    let mut pixels: Vec<[f32; 1]> = map.iter().map(|&v| [v]).collect();
    gaussian_blur(&mut pixels, w, h, sigma);
    pixels.into_iter().map(|[v]| v).collect()
}

/// How one photographed field compares with the credential's words.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldComparison {
    /// The field's name (see [`VALUE_FIELDS`]).
    pub name: &'static str,
    /// Normalised cross-correlation of the field's darkness with the expected ink, -1..1, at
    /// the best offset and blur.
    pub correlation: f32,
    /// The lowest window agreement (windows about one letter wide), -1..1: one less the
    /// window's energy left unexplained by the expected ink, as a share of the field's text
    /// signal. Near 1 when every letter is where the credential puts it; near zero or below
    /// where a letter was changed, added or removed.
    pub worst_window: f32,
    /// The blur (Gaussian σ, design units) of the expected ink that fits the photo best: how
    /// soft the lettering is.
    pub blur: f32,
    /// Each character an edit could replace, in the value's order (see [`GlyphComparison`]).
    pub glyphs: Vec<GlyphComparison>,
}

impl FieldComparison {
    /// Every figure to a thousandth ([`crate::evidence::thousandths`]), as reported and sent.
    fn in_thousandths(self) -> FieldComparison {
        use crate::evidence::thousandths;
        FieldComparison {
            correlation: thousandths(self.correlation),
            worst_window: thousandths(self.worst_window),
            blur: thousandths(self.blur),
            glyphs: (self.glyphs.into_iter())
                .map(|g| GlyphComparison {
                    margin: thousandths(g.margin),
                    separation: thousandths(g.separation),
                    ..g
                })
                .collect(),
            ..self
        }
    }
}

/// How one character of a field compares with the glyphs that could replace it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlyphComparison {
    /// The character's index in the field's value (0 = first).
    pub position: usize,
    /// Against the replacement the photo comes nearest: 1 when the photo shows the expected
    /// glyph exactly, −1 when it shows that replacement, 0 half-way (the difference of the
    /// two fits' unexplained darkness, in units of the darkness the two glyphs differ by).
    pub margin: f32,
    /// How far apart the two glyphs lie in the photo's own noise: half the darkness they
    /// differ by over the darkness the better of the two fits leaves unexplained (both root
    /// sums of squares over the window). Under white noise, `margin` × `separation` is
    /// the z-score of the expected glyph against that replacement; a blurred or noisy photo
    /// of small lettering has little separation, whatever its margin.
    pub separation: f32,
}

/// Compares each value field of the photo (`grey`, through `to_image`) with the
/// credential's words. `None` when a field is not wholly in the photo or shows no contrast.
pub fn compare_text(
    grey: &GrayImage,
    to_image: &Homography,
    expected: &TextReference,
) -> Option<Vec<FieldComparison>> {
    // The first field that matches finds the offset the homography leaves at the fields
    // (the name, the largest and darkest, unless it was edited); the others refine it.
    // Pixels per design unit at the card's middle choose the reference's scale.
    let (p0, p1) = (to_image.apply([540.0, 1170.0]), to_image.apply([550.0, 1170.0]));
    let px_per_unit = ((p1[0] - p0[0]).hypot(p1[1] - p0[1]) / 10.0) as f32;
    let mut base = None;
    expected
        .fields(px_per_unit)
        .iter()
        .map(|field| {
            let (comparison, shift) = compare_field(grey, to_image, field, base)?;
            if comparison.worst_window >= 0.5 {
                base.get_or_insert(shift);
            }
            Some(comparison.in_thousandths())
        })
        .collect()
}

/// One field's comparison, and the offset (design units) it was made at. With `base`, the
/// offset is only refined around it.
fn compare_field(
    grey: &GrayImage,
    to_image: &Homography,
    field: &FieldReference,
    base: Option<[f32; 2]>,
) -> Option<(FieldComparison, [f32; 2])> {
    let r = field.rect;
    // About one sample a photo pixel, and at most one every MIN_STEP design units (sharper
    // photos are averaged over each sample's square).
    let c = [f64::from(r.x + r.w / 2.0), f64::from(r.y + r.h / 2.0)];
    let (p0, p1) = (to_image.apply(c), to_image.apply([c[0] + 10.0, c[1]]));
    let px_per_unit = ((p1[0] - p0[0]).hypot(p1[1] - p0[1]) / 10.0) as f32;
    let step = (1.0 / px_per_unit.max(1e-3)).max(MIN_STEP);
    let (nx, ny) = ((r.w / step) as usize, (r.h / step) as usize);
    if nx < 4 || ny < 2 {
        return None;
    }
    // A photo much sharper than the grid (a large photo, a screenshot) is averaged over each
    // sample's square, about a point a pixel, so thin strokes between samples still count
    // (up to about 1.3 pixels a sample, the bilinear read and the camera's blur do that).
    let sub = (0.75 * step * px_per_unit).floor().clamp(1.0, 4.0) as usize;
    let mut points = Vec::with_capacity(nx * ny);
    let mut dark = Vec::with_capacity(nx * ny);
    let mut light = vec![0.0f32; nx];
    for j in 0..ny {
        let y = r.y + (j as f32 + 0.5) * step;
        light.fill(0.0);
        for k in 0..sub * sub {
            let fx = ((k % sub) as f32 + 0.5) / sub as f32 - 0.5;
            let fy = ((k / sub) as f32 + 0.5) / sub as f32 - 0.5;
            let first = [f64::from(r.x + (0.5 + fx) * step), f64::from(y + fy * step)];
            let along = luma_along(grey, to_image, first, [f64::from(step), 0.0], nx);
            for (sum, l) in light.iter_mut().zip(along) {
                // In light, not in the photo's sRGB values: glare on the glass adds light,
                // which the window's own black level then takes out; in sRGB values it would
                // also flatten the lettering under it.
                *sum += level_to_linear(l?);
            }
        }
        for (i, sum) in light.iter().enumerate() {
            dark.push(255.0 * (1.0 - sum / (sub * sub) as f32));
            points.push([r.x + (i as f32 + 0.5) * step, y]);
        }
    }
    // The samples' columns and rows on the field's maps at an offset (a sample's place is
    // its column's and its row's), and the expected ink at blur `b` at the samples `(i, j)`.
    let splits = |[dx, dy]: [f32; 2]| -> (Vec<MapSplit>, Vec<MapSplit>) {
        (
            (0..nx).map(|i| field.column(points[i][0] + dx)).collect(),
            (0..ny).map(|j| field.row(points[j * nx][1] + dy)).collect(),
        )
    };
    let ink_at = |b: usize, shift: [f32; 2], samples: &mut dyn Iterator<Item = (usize, usize)>| -> Vec<f32> {
        let (columns, rows) = splits(shift);
        samples
            .map(|(i, j)| field.at_axes(b, columns[i], rows[j]))
            .collect()
    };
    let all = || (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j)));
    let expected = |b: usize, shift: [f32; 2]| ink_at(b, shift, &mut all());
    // Offset at a middle blur, along x then along y, on every fourth sample (or around
    // `base`); the blur at that offset; then the offset again to half a design unit at that
    // blur (a sharp stroke is about four wide, and a wide blur lets ink from outside the field
    // pull the offset); then the blur among its neighbours on all the samples.
    let steps = (REACH / STEP).round() as i32;
    let thin: Vec<(usize, usize)> = all().step_by(4).collect();
    let thin_dark: Vec<f32> = thin.iter().map(|&(i, j)| dark[j * nx + i]).collect();
    let thin_moments = moments(&thin_dark);
    // Each (blur, offset) is scored once: the searches below come back to the one they
    // started from.
    let scored = std::cell::RefCell::new(Vec::<(usize, [f32; 2], Option<f32>)>::new());
    let thin_score = |b: usize, shift: [f32; 2]| -> Option<f32> {
        if let Some(&(_, _, n)) = scored.borrow().iter().find(|(c, s, _)| *c == b && *s == shift) {
            return n;
        }
        let ink = ink_at(b, shift, &mut thin.iter().copied());
        let n = ncc_with(thin_moments, &thin_dark, &ink);
        scored.borrow_mut().push((b, shift, n));
        n
    };
    // Offsets `base` + k · `step` along `axis`, k in -`steps`..=`steps`, at blur `b`: the best.
    let along = |b: usize, axis: usize, base: [f32; 2], step: f32, steps: i32| -> Option<[f32; 2]> {
        (-steps..=steps)
            .filter_map(|k| {
                let mut shift = base;
                shift[axis] += k as f32 * step;
                thin_score(b, shift).map(|n| (n, shift))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, shift)| shift)
    };
    let middle = BLURS.len() / 2;
    let (start, reach) = match base {
        Some(shift) => (shift, 1),
        None => (
            along(middle, 1, along(middle, 0, [0.0, 0.0], STEP, steps)?, STEP, steps)?,
            1,
        ),
    };
    let (_, b) = (0..BLURS.len())
        .filter_map(|b| thin_score(b, start).map(|n| (n, b)))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    let mut fine = along(b, 1, along(b, 0, start, 1.0, reach)?, 1.0, reach)?;
    if BLURS[b] < 4.0 {
        // Only a sharp photo tells half units apart.
        fine = along(b, 1, along(b, 0, fine, 0.5, 1)?, 0.5, 1)?;
    }
    let (_, b) = (b.saturating_sub(1)..=(b + 1).min(BLURS.len() - 1))
        .filter_map(|b| thin_score(b, fine).map(|n| (n, b)))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    let shift = fine;
    let ink = expected(b, shift);
    let correlation = ncc(&dark, &ink)?;
    // The field's darkness as a linear function of the expected ink (the camera's gain and
    // black level), then each window's residual energy against the field's text signal.
    let (ma, mb) = (mean(&dark), mean(&ink));
    let var_b = spread(&ink, mb).powi(2);
    let cov = dark
        .iter()
        .zip(&ink)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f32>()
        / dark.len() as f32;
    let beta = cov / var_b.max(1e-6);
    // The text signal is taken over the columns the lettering spans, not the whole field: a
    // short name leaves most of its field empty, and the field-wide variance of its ink
    // would make the photo's noise in an empty window look like a letter gone wrong.
    let inked = |i: usize| (0..ny).any(|j| ink[j * nx + i] > 0.1);
    let signal = match ((0..nx).find(|&i| inked(i)), (0..nx).rev().find(|&i| inked(i))) {
        (Some(first), Some(last)) => {
            let text: Vec<f32> = (0..ny)
                .flat_map(|j| (first..=last).map(move |i| j * nx + i))
                .map(|k| ink[k])
                .collect();
            beta * beta * spread(&text, mean(&text)).powi(2)
        }
        _ => beta * beta * var_b,
    };
    let window = ((r.h / step) as usize).max(2);
    // The agreement of the window over columns `start..end` with the expected ink `ink_at`
    // (sample index → ink).
    let agreement = |start: usize, end: usize, ink_at: &dyn Fn(usize) -> f32| -> f32 {
        if beta <= 0.0 {
            return -1.0;
        }
        // The window's own black level (moiré and vignetting shade a field unevenly).
        let (mut offset, mut n) = (0.0f32, 0usize);
        for j in 0..ny {
            for i in start..end {
                let k = j * nx + i;
                offset += dark[k] - beta * ink_at(k);
                n += 1;
            }
        }
        let offset = offset / n as f32;
        let mut energy = 0.0f32;
        for j in 0..ny {
            for i in start..end {
                let k = j * nx + i;
                let residual = dark[k] - offset - beta * ink_at(k);
                energy += residual * residual;
            }
        }
        (1.0 - energy / n as f32 / signal.max(1e-6)).max(-1.0)
    };
    let mut worst = f32::INFINITY;
    let mut start = 0;
    while start < nx {
        let end = (start + window).min(nx);
        let mut a = agreement(start, end, &|k| ink[k]);
        if a < RESCUE_BELOW {
            // Letters sit a unit or two apart between renderings at different pixel sizes
            // (each glyph is placed on the pixel grid of its own size): a window that
            // disagrees may move along the line by that much. Too little to turn one letter
            // into another.
            for dx in [-2.0f32, -1.0, 1.0, 2.0] {
                let moved = |k: usize| field.at(b, points[k][0] + shift[0] + dx, points[k][1] + shift[1]);
                a = a.max(agreement(start, end, &moved));
            }
        }
        worst = worst.min(a);
        if end == nx {
            break;
        }
        start += window / 2;
    }
    let glyphs = compare_glyphs(grey, to_image, field, px_per_unit, (b, shift, beta));
    Some((
        FieldComparison {
            name: field.name,
            correlation,
            worst_window: worst,
            blur: BLURS[b],
            glyphs,
        },
        shift,
    ))
}

/// A glyph's coverage blurred like a field map: `w` × `h` values 0..1 whose first lies at
/// map pixel (`x`, `y`) from the glyph's origin.
#[derive(Debug, PartialEq)]
struct BlurredGlyph {
    x: i32,
    y: i32,
    w: usize,
    h: usize,
    data: Vec<f32>,
}

impl BlurredGlyph {
    /// Coverage at `cell` (a map point from the glyph's origin, see [`Cell`]), bilinear; 0
    /// outside.
    #[inline]
    fn at(&self, cell: Cell) -> f32 {
        // Cells and glyph origins are design points on the card times the map's scale, far
        // inside i32; a negative offset becomes a huge usize and is outside. The index
        // arithmetic is then bounded by the map's size (wrapping operations that never wrap
        // spare this overflow-checked build a test each in the innermost loop).
        let x0 = cell.x.wrapping_sub(self.x) as usize;
        let y0 = cell.y.wrapping_sub(self.y) as usize;
        if x0 >= self.w.wrapping_sub(1) || y0 >= self.h.wrapping_sub(1) {
            return 0.0;
        }
        let i = y0.wrapping_mul(self.w).wrapping_add(x0);
        let (upper, lower) = (&self.data[i..][..2], &self.data[i.wrapping_add(self.w)..][..2]);
        let top = upper[0] * (1.0 - cell.fx) + upper[1] * cell.fx;
        let bottom = lower[0] * (1.0 - cell.fx) + lower[1] * cell.fx;
        top * (1.0 - cell.fy) + bottom * cell.fy
    }
}

/// A glyph window's samples read at one offset along the line (see [`compare_glyphs`]).
#[derive(Default)]
struct AtShift {
    /// The photo's darkness at each sample.
    dark: Vec<f32>,
    /// Where each sample falls on the glyphs' maps.
    cells: Vec<Cell>,
    /// The field's expected ink at each sample.
    field: Vec<f32>,
    /// The expected glyph's own ink at each sample.
    own: Vec<f32>,
}

impl AtShift {
    fn with_capacity(n: usize) -> AtShift {
        AtShift {
            dark: Vec::with_capacity(n),
            cells: Vec::with_capacity(n),
            field: Vec::with_capacity(n),
            own: Vec::with_capacity(n),
        }
    }
}

/// The least of `energy` over the offsets of [`SHIFTS`] and where it is, searched from the
/// middle outwards: a fit's unexplained darkness falls towards the glyph's place and rises
/// beyond it, so the search goes one way while it falls, and the other way only if the
/// first step did not.
fn descend(mut energy: impl FnMut(usize) -> f32) -> (f32, usize) {
    let middle = SHIFTS.len() / 2;
    let mut best = (energy(middle), middle);
    for way in [-1isize, 1] {
        let mut s = middle as isize + way;
        while let Ok(k) = usize::try_from(s) {
            if k >= SHIFTS.len() {
                break;
            }
            let e = energy(k);
            if e.total_cmp(&best.0).is_ge() {
                break;
            }
            best = (e, k);
            s += way;
        }
        if best.1 != middle {
            break;
        }
    }
    best
}

/// A map point (`u`, `v`) from a glyph's origin, in pixel-centre units, split once into the
/// pixel left of and above it and the fractions beyond: every glyph drawn at the same place
/// (the expected one and each replacement) is then read at it with integer steps alone.
#[derive(Clone, Copy, Debug)]
struct Cell {
    x: i32,
    y: i32,
    fx: f32,
    fy: f32,
}

impl Cell {
    /// One coordinate split: the pixel before it and the fraction beyond.
    #[inline]
    fn axis(a: f32) -> (i32, f32) {
        let a = a - 0.5;
        // The floor, without a library call: truncation, one less below zero.
        let t = a as i32;
        let floor = if (t as f32) > a { t - 1 } else { t };
        (floor, a - floor as f32)
    }

    /// The cell of a column's split and a row's.
    #[inline]
    fn of((x, fx): (i32, f32), (y, fy): (i32, f32)) -> Cell {
        Cell { x, y, fx, fy }
    }
}

/// Blurred glyphs by key, blur and scale, shared by every check in the process (a glyph's
/// look depends on its key alone; the set is bounded by the font's characters at the card's
/// few sizes and sub-pixel positions, and is emptied past [`GLYPH_CACHE_MAX`] entries).
struct GlyphCache {
    painter: Option<TextPainter>,
    blurred: HashMap<(GlyphKey, usize, u32), Arc<BlurredGlyph>>,
}

const GLYPH_CACHE_MAX: usize = 50_000;

static GLYPHS: LazyLock<Mutex<GlyphCache>> = LazyLock::new(|| {
    Mutex::new(GlyphCache {
        painter: None,
        blurred: HashMap::new(),
    })
});

/// The glyph `key` at blur `b` of [`BLURS`] for a map of `scale` pixels a design unit.
fn blurred_glyph(key: GlyphKey, b: usize, scale: f32) -> Option<Arc<BlurredGlyph>> {
    let mut cache = GLYPHS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let id = (key, b, scale.to_bits());
    if let Some(g) = cache.blurred.get(&id) {
        return Some(g.clone());
    }
    let image = cache
        .painter
        .get_or_insert_with(TextPainter::new)
        .glyph_image(key)?;
    let sigma = BLURS[b] * scale;
    let pad = (3.0 * sigma).ceil() as usize + 1;
    let (w, h) = (image.width as usize + 2 * pad, image.height as usize + 2 * pad);
    let mut map = vec![0.0f32; w * h];
    for (i, &c) in image.coverage.iter().enumerate() {
        let (x, y) = (i % image.width as usize, i / image.width as usize);
        map[(y + pad) * w + x + pad] = f32::from(c) / 255.0;
    }
    let glyph = Arc::new(BlurredGlyph {
        x: image.left - pad as i32,
        y: -image.top - pad as i32,
        w,
        h,
        data: gaussian(&map, (w, h), sigma),
    });
    if cache.blurred.len() >= GLYPH_CACHE_MAX {
        cache.blurred.clear();
    }
    cache.blurred.insert(id, glyph.clone());
    Some(glyph)
}

/// Each replaceable character of `field` in the photo (`px_per_unit` photo pixels a design
/// unit at the field), against its replacements: the photo's
/// darkness around the glyph, sampled about a photo pixel apart, is explained by the
/// field's expected ink at blur `b` and offset `shift` with the field's gain `beta` (and the
/// window's own black level); the same with the glyph swapped for each replacement. The
/// expected glyph's fit may move by up to 2 design units along the line (letters sit that
/// far apart between renderings at different pixel sizes), and so may the nearest
/// replacement's. Characters not wholly in the photo are left out.
fn compare_glyphs(
    grey: &GrayImage,
    to_image: &Homography,
    field: &FieldReference,
    px_per_unit: f32,
    (b, shift, beta): (usize, [f32; 2], f32),
) -> Vec<GlyphComparison> {
    if beta <= 0.0 {
        return Vec::new();
    }
    let scale = field.scale;
    let r = field.rect;
    let step = (1.0 / px_per_unit.max(1e-3)).max(1.0);
    let reach = 2.0 * BLURS[b] + 3.0;
    let mut out = Vec::with_capacity(field.glyphs.len());
    'glyphs: for (g, glyphs) in field.glyphs.iter().zip(field.blurred(b)) {
        let Some(CharacterGlyphs {
            expected,
            alternatives,
        }) = glyphs
        else {
            continue;
        };
        // The window: every glyph's blurred extent (design units), plus the offsets tried.
        let origin = [g.origin[0] as f32, g.origin[1] as f32];
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for t in std::iter::once(expected).chain(alternatives) {
            x0 = x0.min((origin[0] + t.x as f32) / scale);
            y0 = y0.min((origin[1] + t.y as f32) / scale);
            x1 = x1.max((origin[0] + (t.x + t.w as i32) as f32) / scale);
            y1 = y1.max((origin[1] + (t.y + t.h as i32) as f32) / scale);
        }
        let (x0, x1) = (x0.max(r.x - reach), x1.min(r.x + r.w + reach));
        let (y0, y1) = (y0.max(r.y - reach), y1.min(r.y + r.h + reach));
        let (nx, ny) = (((x1 - x0) / step) as usize, ((y1 - y0) / step) as usize);
        if nx < 2 || ny < 2 {
            continue;
        }
        let mut points = Vec::with_capacity(nx * ny);
        let mut dark = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            let y = y0 + (j as f32 + 0.5) * step;
            let first = [f64::from(x0 + 0.5 * step), f64::from(y)];
            for (i, l) in luma_along(grey, to_image, first, [f64::from(step), 0.0], nx).enumerate() {
                let Some(l) = l else {
                    continue 'glyphs;
                };
                dark.push(255.0 * (1.0 - level_to_linear(l)));
                points.push([x0 + (i as f32 + 0.5) * step + shift[0], y + shift[1]]);
            }
        }
        // The offsets along the line are searched on a quarter of the samples (every other
        // column of every other row: a glyph's fit falls and rises smoothly with its offset),
        // and the fits compared on all of them at the offsets found.
        // Each row's place on the glyphs' maps and the field's (a sample's is its column's
        // and its row's).
        let rows: Vec<((i32, f32), MapSplit)> = (0..ny)
            .map(|j| {
                let y = points[j * nx][1];
                (Cell::axis(y * scale - origin[1]), field.row(y))
            })
            .collect();
        // At each offset tried along the line, read when first needed (most fits settle
        // within one unit of the middle): where each sample (all, or every other of every
        // other row) falls on the glyphs' maps, the field's expected ink, and the expected
        // glyph's.
        let read_at = |s: usize, all: bool| -> AtShift {
            let dx = SHIFTS[s];
            let columns: Vec<((i32, f32), MapSplit)> = (0..nx)
                .map(|i| {
                    let x = points[i][0] + dx;
                    (Cell::axis(x * scale - origin[0]), field.column(x))
                })
                .collect();
            let every = if all { 1 } else { 2 };
            let mut at = AtShift::with_capacity(nx.div_ceil(every) * ny.div_ceil(every));
            // A row at a time, each list extended from the row's columns (no per-sample
            // index arithmetic or capacity test).
            for (j, &(cell_row, field_row)) in rows.iter().enumerate().step_by(every) {
                let start = at.cells.len();
                at.dark.extend(dark[j * nx..(j + 1) * nx].iter().step_by(every));
                let columns = columns.iter().step_by(every);
                at.cells
                    .extend(columns.clone().map(|&(c, _)| Cell::of(c, cell_row)));
                at.field
                    .extend(columns.map(|&(_, f)| field.at_axes(b, f, field_row)));
                at.own.extend(at.cells[start..].iter().map(|&c| expected.at(c)));
            }
            at
        };
        let shifts: [[std::cell::OnceCell<AtShift>; SHIFTS.len()]; 2] = Default::default();
        // The samples at offset `s`: all of them, or the quarter.
        let at_shift = |s: usize, all: bool| shifts[usize::from(all)][s].get_or_init(|| read_at(s, all));
        // Unexplained darkness (about the window's own level) of the photo against the
        // expected ink moved by `SHIFTS[s]`, with the glyph's ink replaced by `with`'s.
        let energy = |s: usize, all: bool, with: Option<&BlurredGlyph>| -> f32 {
            let (mut sum, mut sum2) = (0.0f32, 0.0f32);
            let AtShift {
                cells,
                dark,
                field: ink,
                own,
            } = at_shift(s, all);
            match with {
                None => {
                    for (&d, &ink) in dark.iter().zip(ink) {
                        let residual = d - beta * ink;
                        sum += residual;
                        sum2 += residual * residual;
                    }
                }
                Some(t) => {
                    for (k, &c) in cells.iter().enumerate() {
                        let residual = dark[k] - beta * (ink[k] + (t.at(c) - own[k]));
                        sum += residual;
                        sum2 += residual * residual;
                    }
                }
            }
            sum2 - sum * sum / dark.len() as f32
        };
        let (_, at) = descend(|s| energy(s, false, None));
        let e_expected = energy(at, true, None);
        // The replacement nearest at the expected glyph's offset (the expected fit's residual
        // and glyph read once), then its own best offset.
        let AtShift {
            cells: at_cells,
            field: ink,
            own,
            ..
        } = at_shift(at, true);
        let residual: Vec<f32> = dark.iter().zip(ink).map(|(d, ink)| d - beta * ink).collect();
        // The expected fit's unexplained darkness over every `every`th column of every
        // `every`th row (1, 2 or 4).
        let subset = |every: usize| {
            (0..ny)
                .step_by(every)
                .flat_map(move |j| (0..nx).step_by(every).map(move |i| j * nx + i))
        };
        let own_energy = [1, 2, 4].map(|every| {
            let (mut sum, mut sum2, mut m) = (0.0f32, 0.0f32, 0.0f32);
            for k in subset(every) {
                sum += residual[k];
                sum2 += residual[k] * residual[k];
                m += 1.0;
            }
            sum2 - sum * sum / m
        });
        // A replacement's fit against the expected glyph's over every `every`th column of
        // every `every`th row: its score (the margin there), the darkness the two differ by,
        // and the darkness the replacement leaves unexplained.
        let fit = |t: &BlurredGlyph, every: usize| -> Option<(f32, f32, f32)> {
            let (mut sum, mut sum2, mut d_sum, mut d_sum2, mut m) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for k in subset(every) {
                let delta = t.at(at_cells[k]) - own[k];
                let left = residual[k] - beta * delta;
                sum += left;
                sum2 += left * left;
                d_sum += delta;
                d_sum2 += delta * delta;
                m += 1.0;
            }
            let difference = beta * beta * (d_sum2 - d_sum * d_sum / m);
            let energy = sum2 - sum * sum / m;
            let own = own_energy[every.trailing_zeros() as usize];
            (difference > 1e-3).then(|| ((energy - own) / difference, difference, energy))
        };
        // The nearest in stages: of many (the Hangul syllables one jamo away, the Latin
        // letters) in a window large enough, the six nearest on every fourth column of every
        // fourth row; the three nearest of those on every
        // other column of every other row; then the nearest of them on all samples, and where
        // that is a close call (below `RECHECK_BELOW`), the other two as well.
        let mut candidates: Vec<&Arc<BlurredGlyph>> = alternatives.iter().collect();
        if candidates.len() > 6 && nx.div_ceil(4) * ny.div_ceil(4) >= MIN_SIFT_SAMPLES {
            candidates = nearest(candidates, 6, |t| fit(t, 4).map(|(score, ..)| score))
                .into_iter()
                .map(|(_, t)| t)
                .collect();
        }
        let coarse = nearest(candidates, 3, |t| fit(t, 2).map(|(score, ..)| score));
        let Some(&(closest, _)) = coarse.first() else {
            continue;
        };
        let Some((nearest, difference, e_there)) = coarse
            .iter()
            .take(if closest < RECHECK_BELOW { 3 } else { 1 })
            .filter_map(|&(_, t)| fit(t, 1).map(|(score, d, e)| (score, t, d, e)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, t, d, e)| (t, d, e))
        else {
            continue;
        };
        // Its own best offset; where that is the expected glyph's, its fit there is known.
        let e_nearest = match descend(|s| energy(s, false, Some(nearest))) {
            (_, s) if s == at => e_there,
            (_, s) => energy(s, true, Some(nearest)),
        };
        out.push(GlyphComparison {
            position: g.position,
            margin: ((e_nearest - e_expected) / difference).clamp(-2.0, 2.0),
            // The photo's noise is what the better of the two fits leaves unexplained (the
            // worse one's residual also holds the glyph it got wrong).
            separation: 0.5 * (difference / e_expected.min(e_nearest).max(1e-6)).sqrt(),
        });
    }
    out
}

/// The `keep` glyphs of `candidates` with the lowest `score`, lowest first, with their scores.
fn nearest(
    candidates: Vec<&Arc<BlurredGlyph>>,
    keep: usize,
    score: impl Fn(&BlurredGlyph) -> Option<f32>,
) -> Vec<(f32, &Arc<BlurredGlyph>)> {
    let mut scored: Vec<(f32, &Arc<BlurredGlyph>)> = candidates
        .into_iter()
        .filter_map(|t| score(t).map(|s| (s, t)))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.truncate(keep);
    scored
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

fn spread(v: &[f32], m: f32) -> f32 {
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / v.len().max(1) as f32).sqrt()
}

fn ncc(a: &[f32], b: &[f32]) -> Option<f32> {
    ncc_with(moments(a), a, b)
}

/// The mean and spread of `v`.
fn moments(v: &[f32]) -> (f32, f32) {
    let m = mean(v);
    (m, spread(v, m))
}

/// [`ncc`] with `a`'s [`moments`] already known (`a` is compared with many).
fn ncc_with((ma, sa): (f32, f32), a: &[f32], b: &[f32]) -> Option<f32> {
    let mb = mean(b);
    let sb = spread(b, mb);
    if sa < 1.0 || sb < 1e-3 {
        return None;
    }
    let cov = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f32>() / a.len() as f32;
    Some(cov / (sa * sb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use holoid_core::demo::DemoIdentity;
    use holoid_core::demo::edited;

    /// `c`'s words drawn dark on a light card as a 1080 × 2340 screen shows them, then
    /// photographed top-down, slightly soft, at `scale` photo pixels per screen pixel; with its
    /// homography.
    fn photo(c: &Credential, scale: f64) -> (GrayImage, Homography) {
        let layer = TextPainter::new().credential_layer(c, 1080, 2340);
        let screen = GrayImage::from_fn(1080, 2340, |x, y| {
            let a = f32::from(layer.get_pixel(x, y)[3]) / 255.0;
            image::Luma([(235.0 - a * 200.0) as u8])
        });
        let (w, h) = ((1080.0 * scale) as u32, (2340.0 * scale) as u32);
        // The camera's optics: the easy capture level's blur (σ 0.6 pixel) and a little more.
        let img = image::imageops::resize(&screen, w, h, image::imageops::FilterType::Triangle);
        let img = image::imageops::blur(&img, 0.7);
        let (sx, sy) = (f64::from(w) / 1080.0, f64::from(h) / 2340.0);
        (img, Homography([sx, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, 1.0]))
    }

    fn field<'a>(fields: &'a [FieldComparison], name: &str) -> &'a FieldComparison {
        fields.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn the_credentials_words_agree_and_an_edited_field_does_not() {
        let demo = DemoIdentity::generate(3);
        let other = DemoIdentity::generate(4);
        let c = &demo.credential.credential;
        let expected = reference(c);
        let (img, h) = photo(c, 0.45);
        let same = compare_text(&img, &h, &expected).unwrap();
        assert_eq!(same.len(), VALUE_FIELDS.len());
        for f in &same {
            assert!(f.correlation > 0.8 && f.worst_window > 0.6, "genuine {f:?}");
        }
        for (which, name) in [(0, "name_hangul"), (1, "birth_date"), (2, "resident_number")] {
            // (edit 2 moves the birth year and the resident number's year digit together)
            let forged = edited(c, &other.credential.credential, which);
            let (img, h) = photo(&forged, 0.45);
            let seen = compare_text(&img, &h, &expected).unwrap();
            let f = field(&seen, name);
            let genuine = field(&same, name);
            assert!(
                f.worst_window < 0.5 * genuine.worst_window,
                "edit {which}: {f:?} against genuine {genuine:?}"
            );
            // The fields not edited still agree.
            assert!(field(&seen, "address").worst_window > 0.6);
        }
    }

    #[test]
    fn a_short_name_in_a_noisy_photo_agrees_as_well_as_the_other_words() {
        // A short Latin name leaves most of its field empty; the camera's grain there is
        // measured against the lettering's own signal, not against the field's mostly
        // empty average (which made it look like a letter gone wrong).
        let mut c = DemoIdentity::generate(3).credential.credential;
        c.holder.name_latin = "LEE YU".into();
        let expected = reference(&c);
        let (mut img, h) = photo(&c, 0.45);
        let mut state = 0x2545_f491_u32;
        for p in img.pixels_mut() {
            // Grain of up to ±30 levels (σ ≈ 18), deterministic.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let grain = (state % 61) as i16 - 30;
            p[0] = (i16::from(p[0]) + grain).clamp(0, 255) as u8;
        }
        let seen = compare_text(&img, &h, &expected).unwrap();
        let mut windows: Vec<f32> = seen.iter().map(|f| f.worst_window).collect();
        windows.sort_by(f32::total_cmp);
        let median = windows[windows.len() / 2];
        let name = field(&seen, "name_latin");
        assert!(
            name.worst_window >= 0.8 * median,
            "{name:?} against the median field {median}"
        );
    }

    #[test]
    fn a_changed_character_fits_another_glyph_better_than_its_own() {
        let demo = DemoIdentity::generate(3);
        let other = DemoIdentity::generate(4);
        let c = &demo.credential.credential;
        let expected = reference(c);
        let margins = |seen: &[FieldComparison], name: &str| -> Vec<(usize, f32)> {
            field(seen, name)
                .glyphs
                .iter()
                .map(|g| (g.position, g.margin))
                .collect()
        };
        for scale in [0.45, 0.3] {
            let (img, h) = photo(c, scale);
            let genuine = compare_text(&img, &h, &expected).unwrap();
            for name in ["birth_date", "resident_number", "issued", "expires"] {
                let m = margins(&genuine, name);
                assert!(m.len() >= 7, "{name}: {m:?}");
                assert!(m.iter().all(|g| g.1 > 0.5), "genuine {name} at {scale}: {m:?}");
            }
            // One digit of the birth year (1975 -> 1972: the fourth character), the expiry
            // year's last digit, one Latin letter, one Hangul syllable.
            for (which, name, position) in [
                (1, "birth_date", 3),
                (3, "expires", 3),
                (5, "name_latin", usize::MAX),
                (4, "name_hangul", 2),
            ] {
                let forged = edited(c, &other.credential.credential, which);
                let (img, h) = photo(&forged, scale);
                let seen = compare_text(&img, &h, &expected).unwrap();
                let m = margins(&seen, name);
                let worst = m.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
                assert!(worst.1 < -0.4, "edit {which} at {scale}: {m:?}");
                // How far apart the two digits lie is measured against what the better fit
                // (the replacement's) leaves unexplained: against the expected glyph's
                // residual, which holds the edit itself, these read 0.28-0.30 here.
                if name != "name_latin" && name != "name_hangul" {
                    let edited_glyph = field(&seen, name).glyphs.iter().find(|g| g.position == worst.0);
                    let separation = edited_glyph.map_or(0.0, |g| g.separation);
                    assert!(
                        separation > 0.35,
                        "edit {which} at {scale}: separation {separation}"
                    );
                }
                if position != usize::MAX {
                    assert_eq!(worst.0, position, "edit {which} at {scale}: {m:?}");
                }
                // No other character of the field is taken for another, where characters
                // have one width (a Latin letter of another width moves the rest of its line).
                if name != "name_latin" {
                    let mut others = m.iter().filter(|g| g.0 != worst.0);
                    assert!(others.all(|g| g.1 > -0.4), "edit {which} at {scale}: {m:?}");
                }
            }
        }
    }

    #[test]
    fn a_sharp_large_photo_of_a_card_drawn_at_another_size_agrees() {
        // A QHD phone draws the card at 1440 x 3120; its letters sit on that pixel grid, not
        // the reference's. Photographed sharp at full size, every field still agrees.
        let demo = DemoIdentity::generate(5);
        let c = &demo.credential.credential;
        let layer = TextPainter::new().credential_layer(c, 1440, 3120);
        let img = GrayImage::from_fn(1440, 3120, |x, y| {
            let a = f32::from(layer.get_pixel(x, y)[3]) / 255.0;
            image::Luma([(235.0 - a * 200.0) as u8])
        });
        let img = image::imageops::blur(&img, 0.7);
        let s = 1440.0 / 1080.0;
        let h = Homography([s, 0.0, 0.0, 0.0, s, 0.0, 0.0, 0.0, 1.0]);
        for f in compare_text(&img, &h, &reference(c)).unwrap() {
            assert!(f.worst_window > 0.6, "{f:?}");
        }
    }

    #[test]
    fn fields_outside_the_photo_are_not_compared() {
        let demo = DemoIdentity::generate(3);
        let c = &demo.credential.credential;
        let (img, _) = photo(c, 0.45);
        let shifted = Homography([0.45, 0.0, -300.0, 0.0, 0.45, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(compare_text(&img, &shifted, &reference(c)), None);
    }
}
