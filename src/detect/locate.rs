//! Finding the card in a photo: the three finder marks (1:1:3:1:1 across) and the
//! orientation mark (1:1:1:1:1:1:1) of [`crate::code::geometry`], by run-length scanning of a
//! locally thresholded image along rows, confirmed along columns, then a homography from the
//! marks' design positions to where they were found. Works at any rotation up to about ±25°
//! (beyond that the row runs no longer cross the marks squarely) and under perspective.
//! CPU only.

use image::GrayImage;

use crate::code::geometry::{CodeGeometry, MarkKind};
use crate::homography::Homography;

/// A mark found in the photo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FoundMark {
    /// Centre, image pixels.
    pub center: [f64; 2],
    /// Estimated module size, pixels.
    pub module: f64,
    /// How many scan lines confirmed it.
    pub hits: u32,
}

/// Why the card was not found.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LocateError {
    /// Fewer than three finder marks, or no orientation mark, were seen.
    MarksNotFound {
        /// Finder marks seen.
        finders: usize,
        /// Orientation marks seen.
        orientation: usize,
    },
    /// The marks do not form a plausible card.
    BadGeometry,
}

impl std::fmt::Display for LocateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocateError::MarksNotFound { finders, orientation } => write!(
                f,
                "the card's corner marks were not found ({finders} of 3 finders, {orientation} of 1 \
                 orientation mark): retake the photo with the whole screen in the frame"
            ),
            LocateError::BadGeometry => {
                write!(
                    f,
                    "the marks found do not form a card: retake the photo straight on"
                )
            }
        }
    }
}

impl std::error::Error for LocateError {}

/// The card located in a photo.
#[derive(Clone, Debug)]
pub struct Located {
    /// Design units (1080 × 2340 canvas) to image pixels.
    pub to_image: Homography,
    /// The marks: top-left, top-right, bottom-left finders, bottom-right orientation mark.
    pub marks: [FoundMark; 4],
}

/// Dark (`true`) where a pixel is darker than `factor` times the mean of the square of
/// half-side `radius` around it.
pub fn binarize(img: &GrayImage, radius: usize, factor: f64) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut integral = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(img.get_pixel(x as u32, y as u32)[0]);
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    let r = radius.max(2);
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                - integral[y0 * (w + 1) + x1]
                - integral[y1 * (w + 1) + x0];
            let mean = sum as f64 / ((x1 - x0) * (y1 - y0)) as f64;
            out[y * w + x] = f64::from(img.get_pixel(x as u32, y as u32)[0]) < mean * factor;
        }
    }
    out
}

/// Whether `runs` (dark first) match `pattern` in module units; returns the module size.
fn matches(runs: &[usize], pattern: &[f64]) -> Option<f64> {
    let total: usize = runs.iter().sum();
    let unit = total as f64 / pattern.iter().sum::<f64>();
    if unit < 1.2 {
        return None;
    }
    runs.iter()
        .zip(pattern)
        .all(|(&r, &p)| (r as f64 - p * unit).abs() < 0.6 * unit * p.max(1.0).sqrt())
        .then_some(unit)
}

const FINDER: [f64; 5] = [1.0, 1.0, 3.0, 1.0, 1.0];
const ORIENTATION: [f64; 7] = [1.0; 7];

/// The `count` runs along the column `x` centred on the run that contains row `y`, and the
/// centre of that middle run.
fn column_runs(
    bin: &[bool],
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    count: usize,
) -> Option<(Vec<usize>, f64)> {
    let at = |y: usize| bin[y * w + x];
    let half = count / 2;
    let colour = at(y);
    let (mut start, mut end) = (y, y + 1);
    while start > 0 && at(start - 1) == colour {
        start -= 1;
    }
    while end < h && at(end) == colour {
        end += 1;
    }
    let mut up = Vec::with_capacity(half);
    let mut pos = start;
    for _ in 0..half {
        if pos == 0 {
            return None;
        }
        let c = at(pos - 1);
        let mut t = pos;
        while t > 0 && at(t - 1) == c {
            t -= 1;
        }
        up.push(pos - t);
        pos = t;
    }
    let mut down = Vec::with_capacity(half);
    pos = end;
    for _ in 0..half {
        if pos >= h {
            return None;
        }
        let c = at(pos);
        let mut t = pos;
        while t < h && at(t) == c {
            t += 1;
        }
        down.push(t - pos);
        pos = t;
    }
    let mut runs: Vec<usize> = up.into_iter().rev().collect();
    runs.push(end - start);
    runs.extend(down);
    Some((runs, (start + end) as f64 / 2.0))
}

fn scan(bin: &[bool], w: usize, h: usize, pattern: &[f64]) -> Vec<FoundMark> {
    let n = pattern.len();
    let mut found: Vec<FoundMark> = Vec::new();
    for y in 0..h {
        let row = &bin[y * w..(y + 1) * w];
        let mut runs: Vec<(bool, usize, usize)> = Vec::new(); // (dark, start, length)
        let mut start = 0;
        for x in 1..=w {
            if x == w || row[x] != row[start] {
                runs.push((row[start], start, x - start));
                start = x;
            }
        }
        for win in runs.windows(n) {
            if !win[0].0 {
                continue;
            }
            let lengths: Vec<usize> = win.iter().map(|r| r.2).collect();
            let Some(unit) = matches(&lengths, pattern) else {
                continue;
            };
            let mid_run = win[n / 2];
            let cx = mid_run.1 as f64 + mid_run.2 as f64 / 2.0;
            let Some((vr, cy)) = column_runs(bin, w, h, cx as usize, y, n) else {
                continue;
            };
            let Some(vunit) = matches(&vr, pattern) else {
                continue;
            };
            if (vunit / unit - 1.0).abs() > 0.5 {
                continue;
            }
            let module = (unit + vunit) / 2.0;
            match found
                .iter_mut()
                .find(|m| (m.center[0] - cx).hypot(m.center[1] - cy) < 2.0 * module)
            {
                Some(m) => {
                    let k = f64::from(m.hits);
                    m.center = [
                        (m.center[0] * k + cx) / (k + 1.0),
                        (m.center[1] * k + cy) / (k + 1.0),
                    ];
                    m.module = (m.module * k + module) / (k + 1.0);
                    m.hits += 1;
                }
                None => found.push(FoundMark {
                    center: [cx, cy],
                    module,
                    hits: 1,
                }),
            }
        }
    }
    found.retain(|m| f64::from(m.hits) >= (m.module * 0.8).max(2.0));
    found.sort_by_key(|m| std::cmp::Reverse(m.hits));
    found
}

/// Orders three finders and an orientation mark as top-left, top-right, bottom-left,
/// bottom-right, if they can be a card's marks; with a score (total confirmations, less the
/// geometric misfit). Each finder is tried as the top-left one (under strong perspective the
/// farthest from the orientation mark need not be it); the other two follow clockwise.
fn arrange(three: [FoundMark; 3], o: FoundMark) -> Option<(f64, [FoundMark; 4])> {
    let dist = |a: &FoundMark, b: &FoundMark| (a.center[0] - b.center[0]).hypot(a.center[1] - b.center[1]);
    let design = CodeGeometry::STANDARD.mark_centers();
    let design_ratio = f64::from(design[2][1] - design[0][1]) / f64::from(design[1][0] - design[0][0]);
    let mut best: Option<(f64, [FoundMark; 4])> = None;
    for tl_index in 0..3 {
        let tl = three[tl_index];
        let others: Vec<FoundMark> = (0..3).filter(|&i| i != tl_index).map(|i| three[i]).collect();
        let (ux, uy) = (
            others[0].center[0] - tl.center[0],
            others[0].center[1] - tl.center[1],
        );
        let (vx, vy) = (
            others[1].center[0] - tl.center[0],
            others[1].center[1] - tl.center[1],
        );
        let (tr, bl) = if ux * vy - uy * vx > 0.0 {
            (others[0], others[1])
        } else {
            (others[1], others[0])
        };
        // The orientation mark lies across the card from the top-left finder.
        let (dx, dy) = (o.center[0] - tl.center[0], o.center[1] - tl.center[1]);
        let (ax, ay) = (tr.center[0] - tl.center[0], tr.center[1] - tl.center[1]);
        let (bx, by) = (bl.center[0] - tl.center[0], bl.center[1] - tl.center[1]);
        if ax * dy - ay * dx <= 0.0 || dx * by - dy * bx <= 0.0 {
            continue;
        }
        // Under perspective one side of the card shrinks: compare both long sides with both
        // short sides.
        let across = (dist(&tl, &tr) + dist(&bl, &o)) / 2.0;
        let ratio = (dist(&tl, &bl) + dist(&tr, &o)) / 2.0 / across.max(1e-6);
        let modules = [tl.module, tr.module, bl.module, o.module];
        let (lo, hi) = modules
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &m| (l.min(m), h.max(m)));
        // Module size against the card's size: the marks are 816 design units apart across.
        let module_from_span = across / f64::from(design[1][0] - design[0][0]) * 24.0;
        let misfit = (ratio / design_ratio - 1.0).abs() + (module_from_span / ((lo + hi) / 2.0) - 1.0).abs();
        let plausible = (ratio / design_ratio - 1.0).abs() < 0.45
            && hi / lo < 2.0
            && (module_from_span / ((lo + hi) / 2.0) - 1.0).abs() < 0.5;
        let score = f64::from(tl.hits + tr.hits + bl.hits + o.hits) - misfit;
        if plausible && best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, [tl, tr, bl, o]));
        }
    }
    best
}

/// For every three finders that can be a card's top-left, top-right and bottom-left marks,
/// the orientation mark found by matching its pattern around where the parallelogram of the
/// three puts it (perspective moves it by a few modules at most).
fn infer_orientation(img: &GrayImage, finders: &[FoundMark]) -> Vec<FoundMark> {
    let design = CodeGeometry::STANDARD.mark_centers();
    let (dx, dy) = (
        f64::from(design[1][0] - design[0][0]),
        f64::from(design[2][1] - design[0][1]),
    );
    let mut out = Vec::new();
    for (i, a) in finders.iter().enumerate() {
        for (j, b) in finders.iter().enumerate() {
            for (k, c) in finders.iter().enumerate() {
                if i == j || j == k || i == k {
                    continue;
                }
                // a = top-left, b = top-right, c = bottom-left (clockwise: b then c).
                let u = [b.center[0] - a.center[0], b.center[1] - a.center[1]];
                let v = [c.center[0] - a.center[0], c.center[1] - a.center[1]];
                let (lu, lv) = (u[0].hypot(u[1]), v[0].hypot(v[1]));
                let cross = u[0] * v[1] - u[1] * v[0];
                let cos = (u[0] * v[0] + u[1] * v[1]) / (lu * lv).max(1e-9);
                if cross <= 0.0 || cos.abs() > 0.35 || ((lv / lu) / (dy / dx) - 1.0).abs() > 0.45 {
                    continue;
                }
                // Module vectors: one module across and one down, from the two sides.
                let mu = [u[0] / dx * 24.0, u[1] / dx * 24.0];
                let mv = [v[0] / dy * 24.0, v[1] / dy * 24.0];
                let module = (mu[0].hypot(mu[1]) + mv[0].hypot(mv[1])) / 2.0;
                if (module / ((a.module + b.module + c.module) / 3.0) - 1.0).abs() > 0.5 {
                    continue;
                }
                let guess = [a.center[0] + u[0] + v[0], a.center[1] + u[1] + v[1]];
                if let Some(found) = match_orientation(img, guess, mu, mv) {
                    out.push(found);
                }
            }
        }
    }
    out
}

/// Searches ±2.5 modules around `guess` for the orientation mark's pattern (7 × 7 modules
/// plus its light quiet zone), sampled through the module vectors `mu` (across) and `mv`
/// (down); returns the best position if the pattern correlates clearly.
fn match_orientation(img: &GrayImage, guess: [f64; 2], mu: [f64; 2], mv: [f64; 2]) -> Option<FoundMark> {
    // Expected darkness at 2 × 2 points per module over 9 × 9 modules (quiet zone included).
    let mut points = Vec::new();
    for row in 0..9 {
        for col in 0..9 {
            let dark = (1..8).contains(&row)
                && (1..8).contains(&col)
                && MarkKind::Orientation.is_dark(col - 1, row - 1);
            for s in 0..4 {
                let fx = col as f64 + 0.25 + 0.5 * f64::from(s % 2) - 4.5;
                let fy = row as f64 + 0.25 + 0.5 * f64::from(s / 2) - 4.5;
                points.push((fx, fy, if dark { -1.0 } else { 1.0 }));
            }
        }
    }
    let mean_t = points.iter().map(|p| p.2).sum::<f64>() / points.len() as f64;
    let module = (mu[0].hypot(mu[1]) + mv[0].hypot(mv[1])) / 2.0;
    let reach = (module * 2.5).ceil() as i64;
    let step = (module / 4.0).max(0.5);
    let mut best: Option<(f64, [f64; 2])> = None;
    let mut values = vec![0.0f64; points.len()];
    let steps = (reach as f64 / step).ceil() as i64;
    for sy in -steps..=steps {
        for sx in -steps..=steps {
            let c = [guess[0] + sx as f64 * step, guess[1] + sy as f64 * step];
            let mut ok = true;
            for (v, &(fx, fy, _)) in values.iter_mut().zip(&points) {
                let x = c[0] + fx * mu[0] + fy * mv[0];
                let y = c[1] + fx * mu[1] + fy * mv[1];
                match crate::detect::sample::luma(img, x, y) {
                    Some(l) => *v = f64::from(l),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            let mean_v = values.iter().sum::<f64>() / values.len() as f64;
            let (mut vt, mut vv, mut tt) = (0.0, 0.0, 0.0);
            for (v, p) in values.iter().zip(&points) {
                let (a, b) = (v - mean_v, p.2 - mean_t);
                vt += a * b;
                vv += a * a;
                tt += b * b;
            }
            let r = vt / (vv * tt).sqrt().max(1e-9);
            if best.is_none_or(|(b, _)| r > b) {
                best = Some((r, c));
            }
        }
    }
    let (r, center) = best?;
    (r > 0.6).then_some(FoundMark {
        center,
        module,
        hits: 0,
    })
}

/// The binarisations tried in turn, as (radius as a share of the photo's shorter side,
/// threshold factor): a wide window with a margin against noise first; then narrower,
/// unbiased windows, which keep the one-module rings of a small, blurred mark apart.
const BINARISATIONS: [(usize, f64); 3] = [(16, 0.92), (40, 1.0), (24, 0.97)];

/// Finds the card's marks in a greyscale photo and the homography from design units.
pub fn locate(img: &GrayImage) -> Result<Located, LocateError> {
    let side = (img.width().min(img.height()) as usize).max(1);
    let mut first_error = None;
    for (share, factor) in BINARISATIONS {
        let bin = binarize(img, (side / share).max(8), factor);
        match locate_in(img, &bin) {
            Ok(l) => return Ok(l),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.expect("at least one binarisation"))
}

fn locate_in(img: &GrayImage, bin: &[bool]) -> Result<Located, LocateError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let finders = scan(bin, w, h, &FINDER);
    let orientation = scan(bin, w, h, &ORIENTATION);
    if finders.len() < 3 {
        return Err(LocateError::MarksNotFound {
            finders: finders.len(),
            orientation: orientation.len().min(1),
        });
    }
    // The orientation mark's thin rings blur away first: where three finders form a card's
    // corner, look for it where they say it should be.
    let inferred: Vec<FoundMark> = infer_orientation(img, &finders[..finders.len().min(6)]);
    let orientation: Vec<FoundMark> = orientation.into_iter().take(3).chain(inferred).collect();
    if orientation.is_empty() {
        return Err(LocateError::MarksNotFound {
            finders: 3,
            orientation: 0,
        });
    }
    // Other parts of the card (the code grid, the digits) can look like marks along a line:
    // choose the finders and orientation mark that form a card — the top-left finder farthest
    // from the orientation mark, top-right clockwise from bottom-left, the long side about
    // 2.5 times the short one, similar module sizes — preferring the most confirmed marks.
    let mut best: Option<(f64, [FoundMark; 4])> = None;
    let fs = &finders[..finders.len().min(8)];
    for o in &orientation {
        for (i, a) in fs.iter().enumerate() {
            for (j, b) in fs.iter().enumerate().skip(i + 1) {
                for c in fs.iter().skip(j + 1) {
                    if let Some((score, marks)) = arrange([*a, *b, *c], *o)
                        && best.as_ref().is_none_or(|(s, _)| score > *s)
                    {
                        best = Some((score, marks));
                    }
                }
            }
        }
    }
    let Some((_, [tl, tr, bl, o])) = best else {
        return Err(LocateError::BadGeometry);
    };
    let design = CodeGeometry::STANDARD.mark_centers();
    let from = [design[0], design[1], design[2], design[3]].map(|[x, y]| [f64::from(x), f64::from(y)]);
    let to = [tl.center, tr.center, bl.center, o.center];
    let to_image = Homography::from_points(from, to).ok_or(LocateError::BadGeometry)?;
    // The card must be taller than wide and not folded: check its corners keep their order.
    let card = [[0.0, 0.0], [1080.0, 0.0], [1080.0, 2340.0], [0.0, 2340.0]].map(|p| to_image.apply(p));
    let convex = (0..4).all(|i| {
        let (a, b, c) = (card[i], card[(i + 1) % 4], card[(i + 2) % 4]);
        (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) > 0.0
    });
    if !convex {
        return Err(LocateError::BadGeometry);
    }
    Ok(Located {
        to_image,
        marks: [tl, tr, bl, o],
    })
}
