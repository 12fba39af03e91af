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
        ("birth_date", Rect::new(f.x, f.y + 238.0, f.w, 50.0)),
        ("resident_number", Rect::new(f.x, f.y + 368.0, f.w, 50.0)),
        ("address", Rect::new(a.x, a.y + 38.0, a.w, 84.0)),
        ("issued", Rect::new(d.x, d.y + 20.0, d.w / 2.0, 50.0)),
        ("expires", Rect::new(d.x + d.w / 2.0, d.y + 20.0, d.w / 2.0, 50.0)),
    ]
};

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
        let birth = c.holder.birth_date.to_string();
        let issued = format!("발급일 Issued  {}", c.issued);
        let expires = format!("유효기간 Expires  {}", c.expires);
        let row = |i: f32, height: f32| Rect::new(f.x, f.y + i, f.w, height);
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
            item(
                &c.holder.name_hangul,
                VALUE_FIELDS[0].1,
                70.0,
                true,
                VALUE,
                Align::Left,
            ),
            item(
                &c.holder.name_latin,
                VALUE_FIELDS[1].1,
                36.0,
                false,
                VALUE,
                Align::Left,
            ),
            item(
                "생년월일 Date of birth",
                row(200.0, 36.0),
                26.0,
                false,
                LABEL,
                Align::Left,
            ),
            item(&birth, VALUE_FIELDS[2].1, 40.0, true, VALUE, Align::Left),
            item(
                "주민등록번호 Resident No.",
                row(330.0, 36.0),
                26.0,
                false,
                LABEL,
                Align::Left,
            ),
            item(
                &c.holder.resident_number_masked,
                VALUE_FIELDS[3].1,
                40.0,
                true,
                VALUE,
                Align::Left,
            ),
            item(
                "주소 Address",
                Rect::new(l.address.x, l.address.y, l.address.w, 36.0),
                26.0,
                false,
                LABEL,
                Align::Left,
            ),
            item(
                &c.holder.address,
                VALUE_FIELDS[4].1,
                36.0,
                false,
                VALUE,
                Align::Left,
            ),
            item(&issued, VALUE_FIELDS[5].1, 30.0, false, VALUE, Align::Left),
            item(&expires, VALUE_FIELDS[6].1, 30.0, false, VALUE, Align::Right),
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

    fn raster(&mut self, items: &[Item<'_>], w: u32, h: u32, scale: f32) -> RgbaImage {
        let mut out = RgbaImage::new(w, h);
        for it in items {
            let metrics = Metrics::new(it.size * scale, it.size * scale * 1.2);
            let mut buffer = Buffer::new(&mut self.fonts, metrics);
            buffer.set_wrap(Wrap::WordOrGlyph);
            buffer.set_size(Some(it.rect.w * scale), Some(it.rect.h * scale));
            let weight = if it.bold { Weight::BOLD } else { Weight::NORMAL };
            let attrs = Attrs::new().family(Family::Name(FAMILY)).weight(weight);
            buffer.set_text(it.text, &attrs, Shaping::Advanced, Some(it.align));
            let [r, g, b] = it.rgb;
            let (ox, oy) = (
                (it.rect.x * scale).round() as i32,
                (it.rect.y * scale).round() as i32,
            );
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
