//! The chart `holoid eval --plot` draws: per species and level, the APCER of attacks or the
//! share of bona fide called forgery, with the inconclusive rate stacked above it (for bona
//! fide the two add up to the BPCER); and the DET
//! curve (BPCER against APCER as the score threshold moves). Drawn on the CPU with the
//! bundled font. Part of the `holoid` binary.

use holoid_sim::camera::Level;
use holoid_sim::species::Species;
use holoid_text::TextPainter;
use image::{Rgb, RgbImage, RgbaImage};

const W: u32 = 1400;
const H: u32 = 640;
const INK: [u8; 3] = [30, 34, 48];
const GRID: Rgb<u8> = Rgb([222, 225, 232]);
const LEVEL_COLOURS: [[u8; 3]; 4] = [[76, 175, 80], [33, 150, 243], [255, 152, 0], [229, 57, 53]];

fn fill(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb<u8>) {
    for y in y0.max(0)..y1.min(i64::from(img.height())) {
        for x in x0.max(0)..x1.min(i64::from(img.width())) {
            img.put_pixel(x as u32, y as u32, c);
        }
    }
}

fn blend(c: [u8; 3], over: [u8; 3], a: f32) -> Rgb<u8> {
    Rgb(std::array::from_fn(|i| {
        (f32::from(c[i]) * a + f32::from(over[i]) * (1.0 - a)) as u8
    }))
}

/// Composites a premultiplied label at (`x`, `y`).
fn paste(img: &mut RgbImage, label: &RgbaImage, x: i64, y: i64) {
    for (lx, ly, p) in label.enumerate_pixels() {
        let (px, py) = (x + i64::from(lx), y + i64::from(ly));
        if p[3] == 0 || px < 0 || py < 0 || px >= i64::from(img.width()) || py >= i64::from(img.height()) {
            continue;
        }
        let d = img.get_pixel_mut(px as u32, py as u32);
        let a = u32::from(p[3]);
        for k in 0..3 {
            d[k] = (u32::from(p[k]) + u32::from(d[k]) * (255 - a) / 255) as u8;
        }
    }
}

fn text(img: &mut RgbImage, t: &mut TextPainter, s: &str, size: f32, bold: bool, x: i64, y: i64) {
    wrapped(img, t, s, size, bold, (x, y), (900, 1));
}

/// Text wrapped at `width` pixels over at most `lines` lines.
fn wrapped(
    img: &mut RgbImage,
    t: &mut TextPainter,
    s: &str,
    size: f32,
    bold: bool,
    (x, y): (i64, i64),
    (width, lines): (u32, u32),
) {
    let label = t.label(
        s,
        size,
        bold,
        INK,
        width,
        (size * 1.3 * lines as f32 + size * 0.4) as u32,
    );
    paste(img, &label, x, y);
}

fn line(img: &mut RgbImage, a: [f64; 2], b: [f64; 2], c: Rgb<u8>, width: i64) {
    let steps = ((b[0] - a[0]).abs().max((b[1] - a[1]).abs()) as usize).max(1);
    for i in 0..=steps {
        let f = i as f64 / steps as f64;
        let (x, y) = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f);
        fill(
            img,
            x as i64 - width / 2,
            y as i64 - width / 2,
            x as i64 + (width + 1) / 2,
            y as i64 + (width + 1) / 2,
            c,
        );
    }
}

/// APCER (attacks scoring at least `threshold`) and BPCER (bona fide scoring below it).
fn error_rates(bona: &[f32], attack: &[f32], threshold: f32) -> (f64, f64) {
    let share = |scores: &[f32], hit: &dyn Fn(f32) -> bool| {
        scores.iter().filter(|&&s| hit(s)).count() as f64 / scores.len().max(1) as f64
    };
    (
        share(attack, &|s| s >= threshold),
        share(bona, &|s| s < threshold),
    )
}

/// Draws the chart as PNG bytes. `groups`: (species, level, error rate, inconclusive rate);
/// `scores`: bona fide and attack scores.
pub fn draw(groups: &[(Species, Level, f64, f64)], scores: &(Vec<f32>, Vec<f32>)) -> Result<Vec<u8>, String> {
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    let mut t = TextPainter::new();

    // Left: bars.
    let (left, top, bottom, right) = (70i64, 70i64, 520i64, 900i64);
    let max = groups.iter().map(|g| g.2 + g.3).fold(0.1f64, f64::max).min(1.0);
    let scale_max = [0.1, 0.2, 0.5, 1.0]
        .into_iter()
        .find(|&m| m >= max)
        .unwrap_or(1.0);
    text(
        &mut img,
        &mut t,
        "Per species and level: APCER of attacks, or bona fide called forgery; pale above: inconclusive",
        17.0,
        true,
        left,
        18,
    );
    for k in 0..=5 {
        let v = scale_max * f64::from(k) / 5.0;
        let y = bottom - ((bottom - top) as f64 * f64::from(k) / 5.0) as i64;
        fill(&mut img, left, y, right, y + 1, GRID);
        text(
            &mut img,
            &mut t,
            &format!("{:.0}%", v * 100.0),
            13.0,
            false,
            18,
            y - 9,
        );
    }
    let species: Vec<Species> = Species::ALL
        .into_iter()
        .filter(|s| groups.iter().any(|g| g.0 == *s))
        .collect();
    let slot = (right - left) / species.len().max(1) as i64;
    for (si, sp) in species.iter().enumerate() {
        let x0 = left + si as i64 * slot;
        let bar = (slot - 24) / 4;
        for (li, level) in Level::ALL.into_iter().enumerate() {
            let Some(&(_, _, err, inc)) = groups.iter().find(|g| g.0 == *sp && g.1 == level) else {
                continue;
            };
            let h = |v: f64| ((bottom - top) as f64 * (v / scale_max).min(1.0)) as i64;
            let bx = x0 + 12 + li as i64 * bar;
            let (he, hi) = (h(err), h(err + inc));
            fill(
                &mut img,
                bx,
                bottom - hi,
                bx + bar - 3,
                bottom - he,
                blend(LEVEL_COLOURS[li], [255; 3], 0.3),
            );
            fill(
                &mut img,
                bx,
                bottom - he.max(2),
                bx + bar - 3,
                bottom,
                Rgb(LEVEL_COLOURS[li]),
            );
        }
        let name = sp.name().replace('_', " ");
        wrapped(
            &mut img,
            &mut t,
            &name,
            13.0,
            false,
            (x0 + 10, bottom + 8),
            ((slot - 14) as u32, 2),
        );
    }
    fill(&mut img, left, bottom, right, bottom + 1, Rgb(INK));
    for (li, level) in Level::ALL.into_iter().enumerate() {
        let x = left + li as i64 * 120;
        fill(&mut img, x, 580, x + 16, 596, Rgb(LEVEL_COLOURS[li]));
        text(&mut img, &mut t, level.name(), 14.0, false, x + 22, 578);
    }

    // Right: DET curve on linear axes (0..100 %), one point per score threshold.
    let (dl, dt, db, dr) = (1010i64, 70i64, 520i64, 1360i64);
    text(
        &mut img,
        &mut t,
        "DET curve (score threshold moving)",
        17.0,
        true,
        dl - 40,
        18,
    );
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let x = dl + ((dr - dl) as f64 * f) as i64;
        let y = db - ((db - dt) as f64 * f) as i64;
        fill(&mut img, dl, y, dr, y + 1, GRID);
        fill(&mut img, x, dt, x + 1, db, GRID);
        text(
            &mut img,
            &mut t,
            &format!("{:.0}%", f * 100.0),
            12.0,
            false,
            x - 10,
            db + 6,
        );
        text(
            &mut img,
            &mut t,
            &format!("{:.0}%", f * 100.0),
            12.0,
            false,
            dl - 42,
            y - 8,
        );
    }
    text(
        &mut img,
        &mut t,
        "APCER",
        14.0,
        false,
        (dl + dr) / 2 - 20,
        db + 26,
    );
    text(&mut img, &mut t, "BPCER", 14.0, false, dl - 48, dt - 30);
    let (bona, attack) = scores;
    if !bona.is_empty() && !attack.is_empty() {
        let mut thresholds: Vec<f32> = bona.iter().chain(attack).copied().collect();
        thresholds.push(1.01);
        thresholds.sort_by(f32::total_cmp);
        thresholds.dedup();
        let mut prev: Option<[f64; 2]> = None;
        for th in thresholds {
            let (apcer, bpcer) = error_rates(bona, attack, th);
            let p = [
                dl as f64 + (dr - dl) as f64 * apcer,
                db as f64 - (db - dt) as f64 * bpcer,
            ];
            if let Some(q) = prev {
                line(&mut img, q, p, Rgb([33, 150, 243]), 3);
            }
            prev = Some(p);
        }
        let at_half = error_rates(bona, attack, 0.5);
        let (px, py) = (
            dl + ((dr - dl) as f64 * at_half.0) as i64,
            db - ((db - dt) as f64 * at_half.1) as i64,
        );
        fill(&mut img, px - 5, py - 5, px + 6, py + 6, Rgb([229, 57, 53]));
        text(
            &mut img,
            &mut t,
            &format!(
                "at 0.5: APCER {:.1}%, BPCER {:.1}%",
                at_half.0 * 100.0,
                at_half.1 * 100.0
            ),
            13.0,
            false,
            dl + 20,
            dt + 10,
        );
    }
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the chart: {e}"))?;
    Ok(out)
}
