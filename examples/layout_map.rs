//! Draws the card layout — regions, sweep ring, corner marks and a sample code — from the
//! shared layout data, as a PNG for the docs:
//!
//! ```text
//! cargo run --release --example layout_map -- docs/card-layout.png
//! ```
//!
//! One design unit is one pixel (1080 × 2340), scaled down by 3 in the file.

use holoid_core::code::geometry::{CodeGeometry, MARK_MODULES, MODULE_COUNT};
use holoid_core::code::{Codeword, Locator, Payload};
use holoid_core::keys::MasterKey;
use holoid_core::layout::{CARD_HEIGHT, CARD_WIDTH, CardLayout, Rect};
use holoid_core::timekey::{Window, WindowPeriod};
use image::{Rgb, RgbImage, imageops};

fn fill(img: &mut RgbImage, r: Rect, colour: [u8; 3]) {
    let (x0, y0) = (r.x.max(0.0) as u32, r.y.max(0.0) as u32);
    let (x1, y1) = (
        (r.x + r.w).min(CARD_WIDTH) as u32,
        (r.y + r.h).min(CARD_HEIGHT) as u32,
    );
    for y in y0..y1 {
        for x in x0..x1 {
            img.put_pixel(x, y, Rgb(colour));
        }
    }
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "card-layout.png".to_string());
    let mut img = RgbImage::from_pixel(CARD_WIDTH as u32, CARD_HEIGHT as u32, Rgb([236, 238, 242]));
    let layout = CardLayout::STANDARD;
    let colours: [[u8; 3]; 8] = [
        [120, 144, 196],
        [214, 170, 140],
        [150, 196, 160],
        [190, 190, 120],
        [200, 160, 200],
        [250, 250, 250],
        [140, 200, 210],
        [180, 180, 180],
    ];
    for ((_, r), c) in layout.regions().iter().zip(colours) {
        fill(&mut img, *r, c);
    }
    // The sweep ring and the emblem inside it.
    let ring = layout.sweep;
    for y in 0..img.height() {
        for x in 0..img.width() {
            let d = ((x as f32 - ring.center[0]).powi(2) + (y as f32 - ring.center[1]).powi(2)).sqrt();
            if (ring.inner..=ring.outer).contains(&d) {
                img.put_pixel(x, y, Rgb([230, 120, 60]));
            }
        }
    }
    fill(&mut img, layout.emblem, [240, 200, 90]);
    // The code: quiet zones, a sample codeword, the corner marks.
    let code = CodeGeometry::STANDARD;
    fill(&mut img, code.grid_rect_with_quiet_zone(), [255, 255, 255]);
    let k_dev = MasterKey::from_bytes([1; 32]).device_key("KR-RRC-00000001", 1);
    let payload = Payload::issue(
        &k_dev,
        Locator::of("KR-RRC-00000001"),
        WindowPeriod::default(),
        Window(1),
    );
    let codeword = Codeword::encode(&payload);
    for i in 0..MODULE_COUNT {
        if codeword.module(i) {
            fill(&mut img, code.module_rect(i), [20, 24, 40]);
        }
    }
    for (m, mark) in code.marks.iter().enumerate() {
        fill(&mut img, code.mark_rect_with_quiet_zone(m), [255, 255, 255]);
        for row in 0..MARK_MODULES {
            for col in 0..MARK_MODULES {
                if mark.kind.is_dark(col, row) {
                    let r = Rect::new(
                        mark.rect.x + col as f32 * code.module,
                        mark.rect.y + row as f32 * code.module,
                        code.module,
                        code.module,
                    );
                    fill(&mut img, r, [20, 24, 40]);
                }
            }
        }
    }
    let small = imageops::resize(
        &img,
        img.width() / 3,
        img.height() / 3,
        imageops::FilterType::Triangle,
    );
    if let Err(e) = small.save(&out) {
        eprintln!("cannot write {out}: {e}");
        std::process::exit(2);
    }
    println!("wrote {out}");
}
