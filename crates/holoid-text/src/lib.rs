//! The card's text, shaped with cosmic-text (HarfBuzz-compatible shaping via harfrust,
//! rasterised by swash) in the bundled Holoid Sans KR font (a renamed NanumGothic subset,
//! SIL OFL; see `fonts/OFL.txt`), into a premultiplied RGBA layer the window-layer
//! shader composites. Text changes only with the credential and the size, so it is drawn
//! once, on the CPU. No GPU types here.
//!
//! This crate must not depend on wgpu: the detector reads the same lettering on the CPU.

use cosmic_text::{
    Align, Attrs, Buffer, Color, Family, FontSystem, Metrics, Shaping, SwashCache, Weight, Wrap,
};
use image::RgbaImage;

use holoid_core::credential::{Credential, DocumentKind};
use holoid_core::layout::{CARD_HEIGHT, CARD_WIDTH, CardLayout, Rect};

/// The bundled regular face.
pub const FONT_REGULAR: &[u8] = include_bytes!("../fonts/HoloidSansKR-Regular.ttf");
/// The bundled bold face.
pub const FONT_BOLD: &[u8] = include_bytes!("../fonts/HoloidSansKR-Bold.ttf");
/// The family name of the bundled faces.
pub const FAMILY: &str = "Holoid Sans KR";

/// One piece of text placed on the design canvas.
struct Item<'a> {
    text: &'a str,
    /// Where it goes, design units; wraps at the width.
    rect: Rect,
    /// Font size, design units.
    size: f32,
    bold: bool,
    rgb: [u8; 3],
    align: Align,
}

/// Where the credential's own words go on the design canvas (the text that differs from card
/// to card), by name: the detector's text check compares these regions of a photo with the
/// credential.
pub const VALUE_FIELDS: [(&str, Rect); 7] = {
    let f = CardLayout::STANDARD.identity_fields;
    let a = CardLayout::STANDARD.address;
    let d = CardLayout::STANDARD.dates;
    [
        ("name_hangul", Rect::new(f.x, f.y, f.w, 90.0)),
        ("name_latin", Rect::new(f.x, f.y + 92.0, f.w, 50.0)),
        ("birth_date", Rect::new(f.x, f.y + 236.0, f.w, 70.0)),
        ("resident_number", Rect::new(f.x, f.y + 374.0, f.w, 70.0)),
        ("address", Rect::new(a.x, a.y + 38.0, a.w, 84.0)),
        // Two columns under their labels, the second aligned with the identity fields.
        ("issued", Rect::new(d.x, d.y + 36.0, f.x - d.x, 70.0)),
        ("expires", Rect::new(f.x, d.y + 36.0, d.x + d.w - f.x, 70.0)),
    ]
};

/// How each of [`VALUE_FIELDS`] is set: size (design units), bold, alignment.
const VALUE_STYLE: [(f32, bool, Align); 7] = [
    (70.0, true, Align::Left),
    (36.0, false, Align::Left),
    // The critical fields (what an age or identity decision rests on) are the largest value
    // digits on the card: at 40 units a photo at the hard capture level could not tell one
    // digit from another (docs/detector.md, "Glyph-level check").
    (56.0, true, Align::Left),
    (56.0, true, Align::Left),
    (36.0, false, Align::Left),
    // The dates as large: at 30 units beside their labels a one-digit edit of the expiry
    // year passed at the normal and hard levels (its digits within the photo's noise of
    // each other).
    (56.0, true, Align::Left),
    (56.0, true, Align::Left),
];

/// The text each of [`VALUE_FIELDS`] draws: the credential's value alone (every label is
/// drawn above its value, outside the field).
fn value_texts(c: &Credential) -> [String; 7] {
    let h = &c.holder;
    [
        h.name_hangul.clone(),
        h.name_latin.clone(),
        h.birth_date.to_string(),
        h.resident_number_masked.clone(),
        h.address.clone(),
        c.issued.to_string(),
        c.expires.to_string(),
    ]
}

/// One glyph as the rasteriser keys it (font, glyph, size, sub-pixel position): the same
/// key always gives the same coverage ([`TextPainter::glyph_image`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlyphKey(cosmic_text::CacheKey);

/// A glyph's coverage: `width` × `height` bytes (0..255), its top-left pixel at (`left`,
/// `-top`) from the glyph's origin (pen position on the baseline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlyphImage {
    pub left: i32,
    pub top: i32,
    pub width: u32,
    pub height: u32,
    pub coverage: Vec<u8>,
}

/// One character of a value field as [`TextPainter::credential_layer`] draws it, and the
/// characters a forger could put in its place, drawn at the same place and size.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueGlyph {
    /// The character's index among the value's characters (0 = first).
    pub position: usize,
    pub ch: char,
    pub key: GlyphKey,
    /// The glyph's origin in the layer, pixels.
    pub origin: [i32; 2],
    /// Each replacement the font can draw: another digit for a digit, another letter of the
    /// same case for a Latin letter, a syllable one jamo away for a Hangul syllable.
    pub alternatives: Vec<(char, GlyphKey)>,
}

/// The characters that could replace `ch` in an edit the eye would take for a real value:
/// the other digits, the other Latin letters of its case, or the Hangul syllables that
/// differ from it in one jamo (initial, vowel or final). Nothing for other characters.
pub fn replacements(ch: char) -> Vec<char> {
    if ch.is_ascii_digit() {
        return ('0'..='9').filter(|&d| d != ch).collect();
    }
    if ch.is_ascii_uppercase() {
        return ('A'..='Z').filter(|&d| d != ch).collect();
    }
    if ch.is_ascii_lowercase() {
        return ('a'..='z').filter(|&d| d != ch).collect();
    }
    let code = u32::from(ch);
    if !(0xAC00..=0xD7A3).contains(&code) {
        return Vec::new();
    }
    let s = code - 0xAC00;
    let (initial, vowel, last) = (s / 588, (s % 588) / 28, s % 28);
    let syllable = |i: u32, v: u32, l: u32| char::from_u32(0xAC00 + i * 588 + v * 28 + l);
    let mut out = Vec::new();
    out.extend(
        (0..19)
            .filter(|&i| i != initial)
            .filter_map(|i| syllable(i, vowel, last)),
    );
    out.extend(
        (0..21)
            .filter(|&v| v != vowel)
            .filter_map(|v| syllable(initial, v, last)),
    );
    out.extend(
        (0..28)
            .filter(|&l| l != last)
            .filter_map(|l| syllable(initial, vowel, l)),
    );
    out
}

/// Shapes and rasterises text into card layers.
pub struct TextPainter {
    fonts: FontSystem,
    cache: SwashCache,
}

impl Default for TextPainter {
    fn default() -> Self {
        Self::new()
    }
}

const LABEL: [u8; 3] = [92, 98, 112];
const VALUE: [u8; 3] = [22, 26, 40];
const WHITE: [u8; 3] = [250, 250, 252];

impl TextPainter {
    /// A painter with only the bundled fonts (no system fonts are read).
    pub fn new() -> TextPainter {
        let mut db = cosmic_text::fontdb::Database::new();
        db.load_font_data(FONT_REGULAR.to_vec());
        db.load_font_data(FONT_BOLD.to_vec());
        db.set_sans_serif_family(FAMILY);
        TextPainter {
            fonts: FontSystem::new_with_locale_and_db("ko-KR".to_string(), db),
            cache: SwashCache::new(),
        }
    }

    /// The layer of the credential's text, sized for the card as drawn in a
    /// `width` × `height` target (one pixel per target pixel over the card's area).
    pub fn credential_layer(&mut self, c: &Credential, width: u32, height: u32) -> RgbaImage {
        let l = CardLayout::STANDARD;
        let (title_ko, title_en) = match c.document {
            DocumentKind::ResidentRegistration => ("주민등록증", "RESIDENT REGISTRATION CARD"),
            DocumentKind::DrivingLicence => ("운전면허증", "DRIVER'S LICENSE"),
        };
        let h = l.header;
        let f = l.identity_fields;
        let values = value_texts(c);
        let value = |k: usize| {
            let (size, bold, align) = VALUE_STYLE[k];
            item(&values[k], VALUE_FIELDS[k].1, size, bold, VALUE, align)
        };
        let row = |i: f32, height: f32| Rect::new(f.x, f.y + i, f.w, height);
        // A field's small label, above it.
        let label = |text: &'static str, rect: Rect| item(text, rect, 26.0, false, LABEL, Align::Left);
        // Above the date field `k`, at the top of the dates region.
        let date_label = |k: usize| Rect::new(VALUE_FIELDS[k].1.x, l.dates.y, VALUE_FIELDS[k].1.w, 36.0);
        let items = [
            item(
                title_ko,
                Rect::new(h.x, h.y + 22.0, h.w, 80.0),
                60.0,
                true,
                WHITE,
                Align::Center,
            ),
            item(
                title_en,
                Rect::new(h.x, h.y + 104.0, h.w, 40.0),
                26.0,
                false,
                WHITE,
                Align::Center,
            ),
            value(0),
            value(1),
            label("생년월일 Date of birth", row(200.0, 36.0)),
            value(2),
            label("주민등록번호 Resident No.", row(336.0, 36.0)),
            value(3),
            label(
                "주소 Address",
                Rect::new(l.address.x, l.address.y, l.address.w, 36.0),
            ),
            value(4),
            label("발급일 Issued", date_label(5)),
            value(5),
            label("유효기간 Expires", date_label(6)),
            value(6),
            item(
                &c.issuer,
                Rect::new(l.footer.x, l.footer.y + 30.0, l.footer.w, 40.0),
                24.0,
                false,
                LABEL,
                Align::Center,
            ),
            item(
                &c.id,
                Rect::new(l.footer.x, l.footer.y + 74.0, l.footer.w, 40.0),
                24.0,
                true,
                LABEL,
                Align::Center,
            ),
        ];
        self.paint(&items, width, height)
    }

    /// The layer of the capture-blocked card: generic words only, no personal data.
    pub fn blocked_layer(&mut self, width: u32, height: u32) -> RgbaImage {
        let y = CARD_HEIGHT * 0.42 + 300.0;
        let items = [
            item(
                "화면 캡처가 감지되어",
                Rect::new(60.0, y, CARD_WIDTH - 120.0, 70.0),
                54.0,
                true,
                WHITE,
                Align::Center,
            ),
            item(
                "신분증을 가렸습니다",
                Rect::new(60.0, y + 76.0, CARD_WIDTH - 120.0, 70.0),
                54.0,
                true,
                WHITE,
                Align::Center,
            ),
            item(
                "Screen capture detected: the ID card is hidden",
                Rect::new(60.0, y + 176.0, CARD_WIDTH - 120.0, 90.0),
                34.0,
                false,
                [200, 204, 214],
                Align::Center,
            ),
        ];
        self.paint(&items, width, height)
    }

    /// The mask of the temporal modulation: rows of "사본 COPY" across the card (alpha).
    pub fn copy_mask(&mut self, width: u32, height: u32) -> RgbaImage {
        const ROW: &str = "사본 COPY 사본 COPY 사본 COPY";
        let rows: Vec<Rect> = (0..11)
            .map(|i| {
                let shift = if i % 2 == 0 { -180.0 } else { -20.0 };
                Rect::new(shift, 60.0 + i as f32 * 210.0, CARD_WIDTH * 2.0, 140.0)
            })
            .collect();
        let items: Vec<Item<'_>> = rows
            .iter()
            .map(|r| item(ROW, *r, 110.0, true, WHITE, Align::Left))
            .collect();
        self.paint(&items, width, height)
    }

    /// One line or paragraph of text, `size` pixels high, wrapped at `width`, as a
    /// premultiplied `width` × `height` image (for charts and labels outside the card).
    pub fn label(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        rgb: [u8; 3],
        width: u32,
        height: u32,
    ) -> RgbaImage {
        let rect = Rect::new(0.0, 0.0, width as f32, height as f32);
        self.raster(
            &[item(text, rect, size, bold, rgb, Align::Left)],
            width,
            height,
            1.0,
        )
    }

    fn paint(&mut self, items: &[Item<'_>], width: u32, height: u32) -> RgbaImage {
        let scale = (width as f32 / CARD_WIDTH).min(height as f32 / CARD_HEIGHT);
        let (w, h) = (
            ((CARD_WIDTH * scale).round() as u32).max(1),
            ((CARD_HEIGHT * scale).round() as u32).max(1),
        );
        self.raster(items, w, h, scale)
    }

    /// `it` shaped at `scale` pixels a design unit, and where its box's corner lies, pixels.
    fn shaped(&mut self, it: &Item<'_>, scale: f32) -> (Buffer, [i32; 2]) {
        let metrics = Metrics::new(it.size * scale, it.size * scale * 1.2);
        let mut buffer = Buffer::new(&mut self.fonts, metrics);
        buffer.set_wrap(Wrap::WordOrGlyph);
        buffer.set_size(Some(it.rect.w * scale), Some(it.rect.h * scale));
        let weight = if it.bold { Weight::BOLD } else { Weight::NORMAL };
        let attrs = Attrs::new().family(Family::Name(FAMILY)).weight(weight);
        buffer.set_text(it.text, &attrs, Shaping::Advanced, Some(it.align));
        buffer.shape_until_scroll(&mut self.fonts, false);
        let corner = [
            (it.rect.x * scale).round() as i32,
            (it.rect.y * scale).round() as i32,
        ];
        (buffer, corner)
    }

    /// The characters of value field `field` (index into [`VALUE_FIELDS`]) as
    /// [`TextPainter::credential_layer`] draws them for a `width` × `height` target, each
    /// with the glyphs that could replace it at the same place ([`replacements`] the font
    /// has). Characters without replacements (spaces, dashes, masks) are left out.
    pub fn value_glyphs(&mut self, c: &Credential, field: usize, width: u32, height: u32) -> Vec<ValueGlyph> {
        let Some(text) = value_texts(c).into_iter().nth(field) else {
            return Vec::new();
        };
        let scale = (width as f32 / CARD_WIDTH).min(height as f32 / CARD_HEIGHT);
        let (size, bold, align) = VALUE_STYLE[field];
        let it = item(&text, VALUE_FIELDS[field].1, size, bold, VALUE, align);
        let (buffer, [ox, oy]) = self.shaped(&it, scale);
        let mut out = Vec::new();
        for run in buffer.layout_runs() {
            for glyph in run.glyphs {
                let mut chars = text[glyph.start..glyph.end].chars();
                let (Some(ch), None) = (chars.next(), chars.next()) else {
                    continue;
                };
                let physical = glyph.physical((0.0, run.line_y), 1.0);
                let key = physical.cache_key;
                let Some(font) = self.fonts.get_font(key.font_id, key.font_weight) else {
                    continue;
                };
                let charmap = font.as_swash().charmap();
                let alternatives: Vec<(char, GlyphKey)> = replacements(ch)
                    .into_iter()
                    .filter_map(|alt| {
                        let glyph_id = charmap.map(alt);
                        (glyph_id != 0).then_some((alt, GlyphKey(cosmic_text::CacheKey { glyph_id, ..key })))
                    })
                    .collect();
                if alternatives.is_empty() {
                    continue;
                }
                out.push(ValueGlyph {
                    position: text[..glyph.start].chars().count(),
                    ch,
                    key: GlyphKey(key),
                    origin: [ox + physical.x, oy + physical.y],
                    alternatives,
                });
            }
        }
        out
    }

    /// The coverage of the glyph `key` names (`None` for an empty glyph, such as a space).
    pub fn glyph_image(&mut self, key: GlyphKey) -> Option<GlyphImage> {
        let image = self.cache.get_image(&mut self.fonts, key.0).as_ref()?;
        if image.content != cosmic_text::SwashContent::Mask || image.placement.width == 0 {
            return None;
        }
        Some(GlyphImage {
            left: image.placement.left,
            top: image.placement.top,
            width: image.placement.width,
            height: image.placement.height,
            coverage: image.data.clone(),
        })
    }

    fn raster(&mut self, items: &[Item<'_>], w: u32, h: u32, scale: f32) -> RgbaImage {
        let mut out = RgbaImage::new(w, h);
        for it in items {
            let (mut buffer, [ox, oy]) = self.shaped(it, scale);
            let [r, g, b] = it.rgb;
            buffer.draw(
                &mut self.fonts,
                &mut self.cache,
                Color::rgb(r, g, b),
                |x, y, gw, gh, color| {
                    let a = u32::from(color.a());
                    if a == 0 {
                        return;
                    }
                    for py in (y + oy)..(y + oy + gh as i32) {
                        for px in (x + ox)..(x + ox + gw as i32) {
                            if px < 0 || py < 0 || px >= w as i32 || py >= h as i32 {
                                continue;
                            }
                            // Premultiplied "over".
                            let dst = out.get_pixel_mut(px as u32, py as u32);
                            let src = [color.r(), color.g(), color.b()].map(|c| u32::from(c) * a / 255);
                            for (d, s) in dst.0.iter_mut().zip(src) {
                                *d = (s + u32::from(*d) * (255 - a) / 255) as u8;
                            }
                            dst.0[3] = (a + u32::from(dst.0[3]) * (255 - a) / 255) as u8;
                        }
                    }
                },
            );
        }
        out
    }
}

fn item(text: &str, rect: Rect, size: f32, bold: bool, rgb: [u8; 3], align: Align) -> Item<'_> {
    Item {
        text,
        rect,
        size,
        bold,
        rgb,
        align,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use holoid_core::demo::DemoIdentity;

    #[test]
    fn value_glyphs_are_the_layers_own_pixels() {
        let demo = DemoIdentity::generate(3);
        let c = &demo.credential.credential;
        let mut painter = TextPainter::new();
        let (w, h) = (540, 1170);
        let layer = painter.credential_layer(c, w, h);
        for (field, (name, _)) in VALUE_FIELDS.iter().enumerate() {
            let glyphs = painter.value_glyphs(c, field, w, h);
            assert!(!glyphs.is_empty(), "{name}");
            for g in &glyphs {
                let img = painter.glyph_image(g.key).expect("drawn");
                let mut differ = 0;
                for y in 0..img.height as i32 {
                    for x in 0..img.width as i32 {
                        let cov = img.coverage[(y * img.width as i32 + x) as usize];
                        let (px, py) = (g.origin[0] + img.left + x, g.origin[1] - img.top + y);
                        let alpha = layer.get_pixel(px as u32, py as u32)[3];
                        // Over-compositing only adds where a neighbour's pixels overlap.
                        assert!(
                            u16::from(alpha) + 1 >= u16::from(cov),
                            "{name} {}: {alpha} < {cov}",
                            g.ch
                        );
                        differ += usize::from(alpha.abs_diff(cov) > 1);
                    }
                }
                assert!(
                    differ * 20 <= (img.width * img.height) as usize,
                    "{name} {}",
                    g.ch
                );
                // Another character at the same place draws other pixels.
                let (alt, key) = g.alternatives[0];
                assert_ne!(painter.glyph_image(key), Some(img), "{} → {alt}", g.ch);
            }
        }
        // The birth date's digits: 8 of them, each with the nine others.
        let birth = painter.value_glyphs(c, 2, w, h);
        assert_eq!(birth.len(), 8);
        assert!(birth.iter().all(|g| g.alternatives.len() == 9));
        let dates = painter.value_glyphs(c, 5, w, h);
        assert_eq!(dates[0].position, 0, "the label is not part of the value");
        assert_eq!(dates.len(), 8);
    }

    #[test]
    fn replacements_are_one_step_away() {
        assert_eq!(replacements('7').len(), 9);
        assert!(!replacements('7').contains(&'7'));
        assert_eq!(replacements('K').len(), 25);
        assert!(replacements('k').iter().all(char::is_ascii_lowercase));
        let kim = replacements('김');
        for near in ['님', '금', '기', '킴', '길'] {
            assert!(kim.contains(&near), "{near}");
        }
        assert!(!kim.contains(&'박'));
        assert_eq!(kim.len(), 18 + 20 + 27);
        assert!(replacements('-').is_empty() && replacements('*').is_empty());
    }
}
