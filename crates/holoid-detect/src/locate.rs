//! Finding the card in a photo: the three finder marks (1:1:3:1:1 across) and the
//! orientation mark (1:1:1:1:1:1:1) of [`holoid_core::code::geometry`], by run-length scanning of a
//! locally thresholded image along rows, confirmed along columns, then a homography from the
//! marks' design positions to where they were found. Works at any rotation up to about ±25°
//! (beyond that the row runs no longer cross the marks squarely) and under perspective.
//! Run patterns on a flat, noisy surface are dropped for want of contrast; a card of which
//! only three marks were seen is completed by matching the fourth's pattern where the three
//! put it. CPU only.

use image::GrayImage;

use holoid_core::code::geometry::{CodeGeometry, MarkKind};
use holoid_core::homography::Homography;

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

impl Located {
    /// This location with each mark re-centred on the photo `img` by matching its pattern
    /// within a module of where it is (for a location found in a smaller copy of the
    /// photo). Marks that do not match clearly keep their place.
    pub fn refined(&self, img: &GrayImage) -> Located {
        let geometry = CodeGeometry::STANDARD;
        let design = geometry.mark_centers();
        let mut marks = self.marks;
        for (i, m) in marks.iter_mut().enumerate() {
            let [x, y] = design[i].map(f64::from);
            let c = self.to_image.apply([x, y]);
            let right = self.to_image.apply([x + 24.0, y]);
            let down = self.to_image.apply([x, y + 24.0]);
            let mu = [right[0] - c[0], right[1] - c[1]];
            let mv = [down[0] - c[0], down[1] - c[1]];
            // Coarse to fine: quarter-module steps, then twelfths within half a module of the
            // best (wide enough to take in the whole plateau of a sharp mark).
            let kind = geometry.marks[i].kind;
            if let Some((coarse, _)) =
                match_mark(img, kind, c, mu, mv, 0.75, 0.25, Search::Square, CLEAR_MATCH)
                && let Some((fine, _)) = match_mark(
                    img,
                    kind,
                    coarse.center,
                    mu,
                    mv,
                    0.5,
                    1.0 / 12.0,
                    Search::Axes,
                    CLEAR_MATCH,
                )
            {
                m.center = fine.center;
            }
        }
        let from = design.map(|p| p.map(f64::from));
        match Homography::from_points(from, marks.map(|m| m.center)) {
            Some(to_image) => Located { to_image, marks },
            None => self.clone(),
        }
    }

    /// This location in a photo `scale` times larger (a pyramid level's result on the full
    /// photo): pixel centres map as `scale · p + (scale − 1) / 2`.
    pub fn scaled(&self, scale: f64) -> Located {
        let o = (scale - 1.0) / 2.0;
        let h = self.to_image.0;
        let to_image = Homography([
            scale * h[0] + o * h[6],
            scale * h[1] + o * h[7],
            scale * h[2] + o * h[8],
            scale * h[3] + o * h[6],
            scale * h[4] + o * h[7],
            scale * h[5] + o * h[8],
            h[6],
            h[7],
            h[8],
        ]);
        let marks = self.marks.map(|m| FoundMark {
            center: [scale * m.center[0] + o, scale * m.center[1] + o],
            module: scale * m.module,
            hits: m.hits,
        });
        Located { to_image, marks }
    }
}

/// Half the photo's size, each pixel the mean of a 2 × 2 block.
pub fn half(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    let stride = img.width() as usize;
    let src = img.as_raw();
    let mut out = vec![0u8; w as usize * h as usize];
    if w > 0 {
        for (y, dst) in out.chunks_exact_mut(w as usize).enumerate() {
            let top = &src[2 * y * stride..][..2 * w as usize];
            let bottom = &src[(2 * y + 1) * stride..][..2 * w as usize];
            for ((d, t), b) in dst
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
            {
                // At most 4 · 255 + 2: the wrapping additions never wrap (and, unlike the
                // checked ones of this overflow-checked build, vectorise).
                let sum = u16::from(t[0])
                    .wrapping_add(u16::from(t[1]))
                    .wrapping_add(u16::from(b[0]))
                    .wrapping_add(u16::from(b[1]))
                    .wrapping_add(2);
                *d = (sum >> 2) as u8;
            }
        }
    }
    GrayImage::from_raw(w, h, out).expect("w × h bytes")
}

/// Dark (`true`) where a pixel is darker than `factor` times the mean of the square of
/// half-side `radius` around it.
pub fn binarize(img: &GrayImage, radius: usize, factor: f64) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.as_raw();
    // Summed-area table in wrapping 32-bit arithmetic: a photo's total may pass 2^32, but
    // every window's sum is far below it, and modular sums of differences stay exact.
    let mut integral = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        let (above, below) = integral[y * (w + 1)..(y + 2) * (w + 1)].split_at_mut(w + 1);
        for ((sum, &up), &p) in below[1..]
            .iter_mut()
            .zip(&above[1..])
            .zip(&px[y * w..(y + 1) * w])
        {
            row = row.wrapping_add(u32::from(p));
            *sum = up.wrapping_add(row);
        }
    }
    let r = radius.max(2);
    let scaled = (factor * 1024.0).round() as u64;
    let mut out = vec![false; w * h];
    // Columns whose window lies wholly inside the photo: x - r >= 0 and x + r < w.
    let (lo, hi) = (r.min(w), w.saturating_sub(r).max(r.min(w)));
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let (top, bottom) = (&integral[y0 * (w + 1)..], &integral[y1 * (w + 1)..]);
        let row = &px[y * w..(y + 1) * w];
        let dark = &mut out[y * w..(y + 1) * w];
        let window_sum = |x0: usize, x1: usize| {
            bottom[x1]
                .wrapping_add(top[x0])
                .wrapping_sub(top[x1])
                .wrapping_sub(bottom[x0])
        };
        // Near the left and right edges the window is clipped: its own area.
        for x in (0..lo).chain(hi..w) {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let area = ((x1 - x0) * (y1 - y0)) as u64;
            dark[x] = u64::from(row[x]) * area * 1024 < u64::from(window_sum(x0, x1)) * scaled;
        }
        // Inside, one area for the whole row; in 32 bits when the products fit (windows up to
        // 63 pixels from the centre: every pyramid level the detector searches).
        let area = ((2 * r + 1) * (y1 - y0)) as u64;
        if area * 1024 * 255 < u64::from(u32::MAX) && scaled <= 1024 && lo < hi {
            // Bounded above, so wrapping products are exact (and the loop vectorises).
            let (k, scaled) = ((area * 1024) as u32, scaled as u32);
            let n = hi - lo;
            let corners = (
                &bottom[lo + r + 1..][..n],
                &top[lo - r..][..n],
                &top[lo + r + 1..][..n],
                &bottom[lo - r..][..n],
            );
            let sums = corners
                .0
                .iter()
                .zip(corners.1)
                .zip(corners.2)
                .zip(corners.3)
                .map(|(((b1, t0), t1), b0)| b1.wrapping_add(*t0).wrapping_sub(*t1).wrapping_sub(*b0));
            for ((d, &p), sum) in dark[lo..hi].iter_mut().zip(&row[lo..hi]).zip(sums) {
                *d = u32::from(p).wrapping_mul(k) < sum.wrapping_mul(scaled);
            }
        } else {
            for x in lo..hi {
                dark[x] = u64::from(row[x]) * area * 1024 < u64::from(window_sum(x - r, x + r + 1)) * scaled;
            }
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

/// What one scan of a binarised photo saw.
struct Scanned {
    /// Finders confirmed along their column, most confirmed first.
    finders: Vec<FoundMark>,
    /// Orientation marks confirmed along their column, most confirmed first.
    orientation: Vec<FoundMark>,
    /// Finders and orientation marks (in that order) seen along rows whose column did not
    /// confirm them: a mark on the far side of a card tilted away from the camera is
    /// squashed, top to bottom, to half its width or less, and blur merges its one-module
    /// rings along the column while they stay apart along the row. Their centre is the mean
    /// of the rows that saw them.
    rows_only: [Vec<FoundMark>; 2],
}

/// Scans every row once for both patterns; returns the finders and the orientation marks,
/// each confirmed along its column and merged across rows, and those the rows alone saw.
fn scan(bin: &[bool], w: usize, h: usize) -> Scanned {
    let mut found: [Vec<FoundMark>; 2] = [Vec::new(), Vec::new()];
    let mut rows_only: [Vec<FoundMark>; 2] = [Vec::new(), Vec::new()];
    let mut runs: Vec<(bool, usize, usize)> = Vec::with_capacity(w); // (dark, start, length)
    let mut lengths = [0usize; 8];
    for y in 0..h {
        let row = &bin[y * w..(y + 1) * w];
        runs.clear();
        let mut start = 0;
        for x in 1..=w {
            if x == w || row[x] != row[start] {
                runs.push((row[start], start, x - start));
                start = x;
            }
        }
        for (kind, pattern) in [&FINDER[..], &ORIENTATION[..]].into_iter().enumerate() {
            let n = pattern.len();
            for win in runs.windows(n) {
                if !win[0].0 {
                    continue;
                }
                for (l, r) in lengths.iter_mut().zip(win) {
                    *l = r.2;
                }
                let Some(unit) = matches(&lengths[..n], pattern) else {
                    continue;
                };
                let mid_run = win[n / 2];
                let cx = mid_run.1 as f64 + mid_run.2 as f64 / 2.0;
                let column = column_runs(bin, w, h, cx as usize, y, n)
                    .and_then(|(vr, cy)| Some((matches(&vr, pattern)?, cy)))
                    .filter(|(vunit, _)| (vunit / unit - 1.0).abs() <= 0.5);
                match column {
                    Some((vunit, cy)) => merge(&mut found[kind], [cx, cy], (unit + vunit) / 2.0),
                    None => merge(&mut rows_only[kind], [cx, y as f64 + 0.5], unit),
                }
            }
        }
    }
    let confirmed = |mut f: Vec<FoundMark>| {
        f.retain(|m| f64::from(m.hits) >= (m.module * 0.8).max(2.0));
        f.sort_by_key(|m| std::cmp::Reverse(m.hits));
        f
    };
    let [finders, orientation] = found.map(confirmed);
    let rows_only = rows_only.map(|f| {
        let mut f = confirmed(f);
        // Rows through a confirmed mark's edges need not confirm it.
        f.retain(|m| {
            finders.iter().chain(&orientation).all(|c| {
                (c.center[0] - m.center[0]).hypot(c.center[1] - m.center[1]) >= 2.0 * c.module.max(m.module)
            })
        });
        f
    });
    Scanned {
        finders,
        orientation,
        rows_only,
    }
}

/// Adds one row's sighting of a mark: averaged into a mark already seen within two modules,
/// or a new mark. Rows come top to bottom, so marks are looked at latest first, and no
/// further than a few modules up (noise makes many short-lived sightings).
fn merge(found: &mut Vec<FoundMark>, [cx, cy]: [f64; 2], module: f64) {
    match found
        .iter_mut()
        .rev()
        .take_while(|m| cy - m.center[1] < 8.0 * m.module.max(module))
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
            && hi / lo < 3.0
            && (module_from_span / ((lo + hi) / 2.0) - 1.0).abs() < 0.5;
        let score = f64::from(tl.hits + tr.hits + bl.hits + o.hits) - misfit;
        if plausible && best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, [tl, tr, bl, o]));
        }
    }
    best
}

/// The marks' roles, in [`CodeGeometry::mark_centers`] order: top-left, top-right and
/// bottom-left finders, bottom-right orientation mark.
const ROLES: [MarkKind; 4] = [
    MarkKind::Finder,
    MarkKind::Finder,
    MarkKind::Finder,
    MarkKind::Orientation,
];

/// The affine map taking the design points `from` to the image points `to` (three pairs), as
/// `[a, b, c, d, e, f]`: `x' = a x + b y + c`, `y' = d x + e y + f`; `None` if the design
/// points are collinear.
fn affine(from: [[f64; 2]; 3], to: [[f64; 2]; 3]) -> Option<[f64; 6]> {
    let [p0, p1, p2] = from;
    let (ux, uy, vx, vy) = (p1[0] - p0[0], p1[1] - p0[1], p2[0] - p0[0], p2[1] - p0[1]);
    let det = ux * vy - uy * vx;
    if det.abs() < 1e-9 {
        return None;
    }
    let mut m = [0.0; 6];
    for k in 0..2 {
        let (du, dv) = (to[1][k] - to[0][k], to[2][k] - to[0][k]);
        // Solve [ux uy; vx vy] [a b]^T = [du dv]^T.
        let a = (du * vy - dv * uy) / det;
        let b = (dv * ux - du * vx) / det;
        m[3 * k] = a;
        m[3 * k + 1] = b;
        m[3 * k + 2] = to[0][k] - a * p0[0] - b * p0[1];
    }
    Some(m)
}

/// Where three marks (`known`, in role order, one role `None`) put the missing fourth one if
/// the card were seen head-on (the affine map through them), and the module size there, in
/// pixels; `None` when the three cannot be a card's (mirrored, squashed, or of module sizes
/// the card's size denies).
fn predict_missing(known: [Option<FoundMark>; 4]) -> Option<(usize, [f64; 2], f64)> {
    let missing = known.iter().position(Option::is_none)?;
    let design = CodeGeometry::STANDARD.mark_centers().map(|p| p.map(f64::from));
    let present: Vec<usize> = (0..4).filter(|&i| i != missing).collect();
    let marks: Vec<FoundMark> = present.iter().map(|&i| known[i]).collect::<Option<_>>()?;
    let from = [design[present[0]], design[present[1]], design[present[2]]];
    let to = [marks[0].center, marks[1].center, marks[2].center];
    let a = affine(from, to)?;
    // Not mirrored, not folded flat, and the module sizes the span implies match the marks'.
    let (ja, jb, jd, je) = (a[0], a[1], a[3], a[4]);
    let det = ja * je - jb * jd;
    let (sx, sy) = (ja.hypot(jd), jb.hypot(je));
    if det <= 0.0 || sx.max(sy) / sx.min(sy).max(1e-9) > 2.2 {
        return None;
    }
    let span_module = 24.0 * (det.sqrt());
    let mean_module = marks.iter().map(|m| m.module).sum::<f64>() / 3.0;
    let (lo, hi) = marks
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), m| (l.min(m.module), h.max(m.module)));
    if (span_module / mean_module - 1.0).abs() > 0.5 || hi / lo > 2.5 {
        return None;
    }
    let guess =
        [0, 1].map(|k| a[3 * k] * design[missing][0] + a[3 * k + 1] * design[missing][1] + a[3 * k + 2]);
    Some((missing, guess, span_module))
}

/// One module (24 design units) across and one down at design point `p`, in image pixels.
fn module_vectors(hom: &Homography, p: [f64; 2]) -> [[f64; 2]; 2] {
    let (a, b) = (hom.apply([p[0] + 12.0, p[1]]), hom.apply([p[0], p[1] + 12.0]));
    let (a0, b0) = (hom.apply([p[0] - 12.0, p[1]]), hom.apply([p[0], p[1] - 12.0]));
    [[a[0] - a0[0], a[1] - a0[1]], [b[0] - b0[0], b[1] - b0[1]]]
}

/// The correlation with a mark's pattern that counts as the mark when nothing else says where
/// it is (re-centring a found mark).
const CLEAR_MATCH: f64 = 0.6;

/// The correlation that counts as the missing mark where three others put it: lower, as the
/// place is known to a few modules and blur flattens a small mark's one-module rings (a
/// wrong match costs a code that does not decode, not a wrong answer).
const EXPECTED_MATCH: f64 = 0.45;

/// How far (modules) from where a head-on view puts it [`complete`] looks for a missing mark:
/// perspective moves the far corner of a card tilted by 40° about this much.
const SEARCH: f64 = 16.0;

/// Completes cards of which one mark was not seen (blur thins the orientation mark's rings
/// first; glare breaks a finder's proportions): for every three of the found marks that can
/// stand in three of the four roles, the fourth is searched for around where a head-on view
/// would put it ([`predict_missing`]). Three points leave a homography two degrees of
/// freedom, its perspective; each place tried for the fourth mark fixes them, and so the
/// mark's size and shape there, through which its pattern is matched. Returns the completed
/// card (top-left, top-right, bottom-left, orientation) whose added mark matched best.
fn complete(img: &GrayImage, finders: &[FoundMark], orientation: &[FoundMark]) -> Option<[FoundMark; 4]> {
    let mut hypotheses: Vec<[Option<FoundMark>; 4]> = Vec::new();
    for (i, a) in finders.iter().enumerate() {
        for (j, b) in finders.iter().enumerate() {
            if i == j {
                continue;
            }
            for (k, c) in finders.iter().enumerate() {
                if k != i && k != j {
                    hypotheses.push([Some(*a), Some(*b), Some(*c), None]);
                }
            }
            for o in orientation {
                hypotheses.push([None, Some(*a), Some(*b), Some(*o)]);
                hypotheses.push([Some(*a), None, Some(*b), Some(*o)]);
                hypotheses.push([Some(*a), Some(*b), None, Some(*o)]);
            }
        }
    }
    let design = CodeGeometry::STANDARD.mark_centers().map(|p| p.map(f64::from));
    let mut out: Option<(f64, [FoundMark; 4])> = None;
    for known in hypotheses {
        let Some((missing, guess, module)) = predict_missing(known) else {
            continue;
        };
        let kind = ROLES[missing];
        // Every place within SEARCH modules of the head-on guess, half a module apart, as the
        // fourth corner of a homography; the mark's pattern is matched there through it.
        let step = module / 2.0;
        let n = (2.0 * SEARCH) as i32;
        let mut best: Option<(f64, [f64; 2], [[f64; 2]; 2])> = None;
        for i in -n..=n {
            for j in -n..=n {
                let x = [guess[0] + f64::from(i) * step, guess[1] + f64::from(j) * step];
                let mut to = [[0.0; 2]; 4];
                for (k, t) in to.iter_mut().enumerate() {
                    *t = known[k].map_or(x, |m| m.center);
                }
                let Some(hom) = Homography::from_points(design, to) else {
                    continue;
                };
                let [mu, mv] = module_vectors(&hom, design[missing]);
                if let Some((_, r)) = match_mark(img, kind, x, mu, mv, 0.0, 1.0, Search::Square, -1.0)
                    && best.is_none_or(|b| r > b.0)
                {
                    best = Some((r, x, [mu, mv]));
                }
            }
        }
        let Some((_, x, [mu, mv])) = best else {
            continue;
        };
        let Some((found, r)) = match_mark(img, kind, x, mu, mv, 0.75, 0.125, Search::Square, EXPECTED_MATCH)
        else {
            continue;
        };
        let mut card = known;
        card[missing] = Some(found);
        // On a tie, the later card.
        if let [Some(tl), Some(tr), Some(bl), Some(o)] = card
            && out.is_none_or(|(best, _)| r >= best)
        {
            out = Some((r, [tl, tr, bl, o]));
        }
    }
    out.map(|(_, card)| card)
}

/// How [`match_mark`] moves its guess: over a square grid of offsets, or along the image's x
/// axis and then its y axis (a mark is symmetric enough that the two are separable, and it
/// costs a line instead of a square).
#[derive(Clone, Copy)]
enum Search {
    Square,
    Axes,
}

/// Searches ±`reach` modules around `guess`, in steps of `step` modules, for the pattern of
/// a `kind` mark (7 × 7 modules plus its light quiet zone) sampled through the module
/// vectors `mu` (across) and `mv` (down); returns the best position if the pattern
/// correlates above `min_r`, with its correlation.
///
/// On a sharp photo the module-centre samples stay the same while the guess moves within a
/// module, so the best score is a plateau: its middle is the mark's centre (taking its first
/// point would put the centre up to half a module off, as on a full-size screenshot).
#[allow(clippy::too_many_arguments)]
fn match_mark(
    img: &GrayImage,
    kind: MarkKind,
    guess: [f64; 2],
    mu: [f64; 2],
    mv: [f64; 2],
    reach: f64,
    step: f64,
    search: Search,
    min_r: f64,
) -> Option<(FoundMark, f64)> {
    // Expected darkness at each module's centre over 9 × 9 modules (quiet zone included).
    let mut points = Vec::new();
    for row in 0..9 {
        for col in 0..9 {
            let dark = (1..8).contains(&row) && (1..8).contains(&col) && kind.is_dark(col - 1, row - 1);
            points.push((col as f64 - 4.0, row as f64 - 4.0, if dark { -1.0 } else { 1.0 }));
        }
    }
    let mean_t = points.iter().map(|p| p.2).sum::<f64>() / points.len() as f64;
    let module = (mu[0].hypot(mu[1]) + mv[0].hypot(mv[1])) / 2.0;
    let reach = module * reach;
    let step = (module * step).max(0.25);
    let steps = (reach / step).ceil() as i64;
    let mut values = vec![0.0f64; points.len()];
    let mut score = |c: [f64; 2]| -> Option<f64> {
        for (v, &(fx, fy, _)) in values.iter_mut().zip(&points) {
            let x = c[0] + fx * mu[0] + fy * mv[0];
            let y = c[1] + fx * mu[1] + fy * mv[1];
            *v = f64::from(crate::sample::luma(img, x, y)?);
        }
        let mean_v = values.iter().sum::<f64>() / values.len() as f64;
        let (mut vt, mut vv, mut tt) = (0.0, 0.0, 0.0);
        for (v, p) in values.iter().zip(&points) {
            let (a, b) = (v - mean_v, p.2 - mean_t);
            vt += a * b;
            vv += a * a;
            tt += b * b;
        }
        Some(vt / (vv * tt).sqrt().max(1e-9))
    };
    // The best score over `candidates` and the middle of the positions that reach it.
    let plateau = |scored: &[(f64, [f64; 2])]| -> Option<(f64, [f64; 2])> {
        let r = scored.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
        let top: Vec<[f64; 2]> = scored.iter().filter(|s| s.0 >= r - 1e-3).map(|s| s.1).collect();
        let n = top.len() as f64;
        (n > 0.0).then(|| {
            (
                r,
                [
                    top.iter().map(|c| c[0]).sum::<f64>() / n,
                    top.iter().map(|c| c[1]).sum::<f64>() / n,
                ],
            )
        })
    };
    let offsets = || (-steps..=steps).map(|k| k as f64 * step);
    let (r, center) = match search {
        Search::Square => {
            let mut scored = Vec::new();
            for dy in offsets() {
                for dx in offsets() {
                    let c = [guess[0] + dx, guess[1] + dy];
                    if let Some(r) = score(c) {
                        scored.push((r, c));
                    }
                }
            }
            plateau(&scored)?
        }
        Search::Axes => {
            let along_x: Vec<_> = offsets()
                .filter_map(|dx| {
                    let c = [guess[0] + dx, guess[1]];
                    score(c).map(|r| (r, c))
                })
                .collect();
            let (_, [x, _]) = plateau(&along_x)?;
            let along_y: Vec<_> = offsets()
                .filter_map(|dy| {
                    let c = [x, guess[1] + dy];
                    score(c).map(|r| (r, c))
                })
                .collect();
            plateau(&along_y)?
        }
    };
    (r > min_r).then_some((
        FoundMark {
            center,
            module,
            hits: 0,
        },
        r,
    ))
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

/// The least difference (grey levels) between a mark's light ring and its dark centre for a
/// run pattern to count as a mark: a flat, noisy surface (a desk, a wall) binarised against
/// its own mean makes runs of every length, some of them 1:1:3:1:1 along a row and a column,
/// but not with a ring lighter than the centre by many times the noise.
const MIN_MARK_CONTRAST: f32 = 16.0;

/// How much lighter a mark's light parts are than its dark ones near its centre, in grey
/// levels: for a finder, the dark core (3 × 3 samples a module apart) against four samples on
/// the light ring two modules out; for the orientation mark, its light centre against four
/// samples on the dark ring a module out. The ring samples lie along the rows and columns,
/// where rotation keeps them within their ring.
///
/// A mark seen along rows only (`rows_only`, see [`Scanned::rows_only`]) may be squashed top
/// to bottom: only the samples along its row count.
fn contrast(img: &GrayImage, m: &FoundMark, kind: MarkKind, rows_only: bool) -> f32 {
    let at =
        |dx: f64, dy: f64| crate::sample::luma(img, m.center[0] + dx * m.module, m.center[1] + dy * m.module);
    let mean = |points: &[(f64, f64)]| {
        let v: Vec<f32> = points
            .iter()
            .filter(|p| !rows_only || p.1 == 0.0)
            .filter_map(|&(dx, dy)| at(dx, dy))
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
    };
    let cross = |r: f64| [(r, 0.0), (-r, 0.0), (0.0, r), (0.0, -r)];
    let (dark, light) = match kind {
        MarkKind::Finder => {
            let mut core = cross(1.0).to_vec();
            core.extend([(0.0, 0.0), (1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)]);
            (mean(&core), mean(&cross(2.0)))
        }
        MarkKind::Orientation => (mean(&cross(1.0)), mean(&[(0.0, 0.0)])),
    };
    match (dark, light) {
        (Some(d), Some(l)) => l - d,
        _ => 0.0,
    }
}

/// How much the photo looks like the card's four marks where `marks` put them: the least,
/// over the four, of the correlation of each mark's whole pattern (7 × 7 modules and its
/// light quiet zone) sampled through the homography the four marks make, at each mark's
/// centre (`reach` 0) or the best within `reach` modules of it. A row and a column through
/// the data grid can each run 1:1:1:1:1:1:1 (or 1:1:3:1:1) without the square around them
/// being a mark's rings and quiet zone. Stops as soon as one mark scores `below` or less
/// (the score is then at most that); `None` if the four cannot make a homography.
fn structure(img: &GrayImage, marks: &[FoundMark; 4], reach: f64, below: f64) -> Option<f64> {
    let design = CodeGeometry::STANDARD.mark_centers().map(|p| p.map(f64::from));
    let hom = Homography::from_points(design, marks.map(|m| m.center))?;
    let mut least = f64::INFINITY;
    // The orientation mark first: a false one is the likeliest.
    for i in [3, 0, 1, 2] {
        let [mu, mv] = module_vectors(&hom, design[i]);
        let (_, r) = match_mark(
            img,
            ROLES[i],
            marks[i].center,
            mu,
            mv,
            reach,
            0.25,
            Search::Square,
            -1.0,
        )?;
        least = least.min(r);
        if least <= below {
            break;
        }
    }
    Some(least)
}

/// A structure score ([`structure`]) no false card reaches: the search for a better-formed
/// card stops at one that reaches it (a sharp card's marks score 0.95 and more, a blurred
/// one's 0.9; a false mark in the data grid, whose square is not a mark's, far less).
const SURE_MATCH: f64 = 0.8;

/// The card among three of `finders` and one of `orientation` whose four marks look most
/// like the card's marks ([`structure`] at their centres), among those whose shape a card
/// can have ([`arrange`]), tried most confirmed first; with its structure score within a
/// quarter module of them.
fn best_arrangement(
    img: &GrayImage,
    finders: &[FoundMark],
    orientation: &[FoundMark],
) -> Option<(f64, [FoundMark; 4])> {
    let mut cards: Vec<(f64, [FoundMark; 4])> = Vec::new();
    for o in orientation {
        for (i, a) in finders.iter().enumerate() {
            for (j, b) in finders.iter().enumerate().skip(i + 1) {
                for c in finders.iter().skip(j + 1) {
                    cards.extend(arrange([*a, *b, *c], *o));
                }
            }
        }
    }
    cards.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best: Option<(f64, [FoundMark; 4])> = None;
    for (_, marks) in cards {
        let floor = best.map_or(-1.0, |(s, _)| s);
        if let Some(r) = structure(img, &marks, 0.0, floor)
            && r > floor
        {
            best = Some((r, marks));
            if r >= SURE_MATCH {
                break;
            }
        }
    }
    let (_, marks) = best?;
    Some((structure(img, &marks, 0.25, -1.0)?, marks))
}

/// The structure score ([`structure`]) a card's marks must reach for the card to be taken
/// without looking further (a completed card's mark needs as much, see [`complete`]).
const CARD_MATCH: f64 = EXPECTED_MATCH;

fn locate_in(img: &GrayImage, bin: &[bool]) -> Result<Located, LocateError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let Scanned {
        mut finders,
        mut orientation,
        rows_only: [mut flat_finders, mut flat_orientation],
    } = scan(bin, w, h);
    finders.retain(|m| contrast(img, m, MarkKind::Finder, false) >= MIN_MARK_CONTRAST);
    orientation.retain(|m| contrast(img, m, MarkKind::Orientation, false) >= MIN_MARK_CONTRAST);
    flat_finders.retain(|m| contrast(img, m, MarkKind::Finder, true) >= MIN_MARK_CONTRAST);
    flat_orientation.retain(|m| contrast(img, m, MarkKind::Orientation, true) >= MIN_MARK_CONTRAST);
    let seen = finders.len() + orientation.len().min(1);
    if seen + flat_finders.len() + flat_orientation.len().min(1) < 3 {
        return Err(LocateError::MarksNotFound {
            finders: finders.len(),
            orientation: orientation.len().min(1),
        });
    }
    // Other parts of the card (the code grid, the digits) can look like marks along a row
    // and a column: of the finders and orientation marks that can form a card (`arrange`),
    // the four that look most like the marks, rings and quiet zone (`structure`).
    let fs = &finders[..finders.len().min(8)];
    let os = &orientation[..orientation.len().min(8)];
    let first = best_arrangement(img, fs, os);
    let mut best = first.filter(|(r, _)| *r >= CARD_MATCH).map(|(_, marks)| marks);
    if best.is_none() && seen >= 3 {
        // One mark not seen: where three of them say it should be, look for it.
        best = complete(
            img,
            &finders[..finders.len().min(6)],
            &orientation[..orientation.len().min(3)],
        );
    }
    if best.is_none() && seen >= 2 && flat_finders.len() + flat_orientation.len() > 0 {
        // A card tilted away from the camera: its near marks seen, its far ones along rows
        // only.
        let mut fs = finders[..finders.len().min(4)].to_vec();
        fs.extend(flat_finders.iter().take(3));
        let mut os = orientation[..orientation.len().min(2)].to_vec();
        os.extend(flat_orientation.iter().take(3));
        best = best_arrangement(img, &fs, &os)
            .filter(|(r, _)| *r >= CARD_MATCH)
            .map(|(_, marks)| marks);
    }
    // Nothing better: the best-formed card of the marks seen, though it looks little like one.
    let best = best.or(first.map(|(_, marks)| marks));
    let Some([tl, tr, bl, o]) = best else {
        if finders.len() < 3 || orientation.is_empty() {
            return Err(LocateError::MarksNotFound {
                finders: finders.len().min(3),
                orientation: orientation.len().min(1),
            });
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo of a card's four marks (white card, grey desk) seen through `to_image` (design
    /// units to pixels), with the marks whose `shown` entry is false left out, blurred by
    /// `blur` 3 × 3 box passes and with noise of ±`noise` grey levels.
    fn marks_photo(to_image: &Homography, shown: [bool; 4], blur: usize, noise: u32) -> GrayImage {
        let g = CodeGeometry::STANDARD;
        let from = to_image.inverse().expect("invertible");
        let sharp = GrayImage::from_fn(720, 1280, |x, y| {
            let [u, v] = from.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
            if !(0.0..1080.0).contains(&u) || !(0.0..2340.0).contains(&v) {
                return image::Luma([110]);
            }
            for (mark, &on) in g.marks.iter().zip(&shown) {
                let r = mark.rect;
                let (col, row) = ((u - f64::from(r.x)) / 24.0, (v - f64::from(r.y)) / 24.0);
                if on && (0.0..7.0).contains(&col) && (0.0..7.0).contains(&row) {
                    let dark = mark.kind.is_dark(col as usize, row as usize);
                    return image::Luma([if dark { 30 } else { 225 }]);
                }
            }
            image::Luma([225])
        });
        let box3 = |img: &GrayImage| {
            GrayImage::from_fn(img.width(), img.height(), |x, y| {
                let mut sum = 0u32;
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let (px, py) = (
                            (i64::from(x) + dx).clamp(0, i64::from(img.width()) - 1) as u32,
                            (i64::from(y) + dy).clamp(0, i64::from(img.height()) - 1) as u32,
                        );
                        sum += u32::from(img.get_pixel(px, py)[0]);
                    }
                }
                image::Luma([(sum / 9) as u8])
            })
        };
        let mut img = sharp;
        for _ in 0..blur {
            img = box3(&img);
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for p in img.pixels_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % u64::from(2 * noise + 1)) as i32 - noise as i32;
            p[0] = (i32::from(p[0]) + n).clamp(0, 255) as u8;
        }
        img
    }

    /// A card tilted away from the camera: its bottom edge 4/5 as wide as its top.
    fn keystone() -> Homography {
        Homography::from_points(
            [[0.0, 0.0], [1080.0, 0.0], [1080.0, 2340.0], [0.0, 2340.0]],
            [[220.0, 250.0], [540.0, 290.0], [495.0, 890.0], [265.0, 870.0]],
        )
        .expect("a quadrilateral")
    }

    #[test]
    fn a_flat_noisy_surface_is_not_a_card() {
        // Binarised against its own mean, noise makes runs of every length, some in the
        // finder's proportions along a row and a column; none has a mark's contrast.
        let noise = marks_photo(&keystone(), [false; 4], 2, 12);
        let flat = GrayImage::from_fn(720, 1280, |x, y| *noise.get_pixel(x % 100, y % 100));
        for img in [&flat, &half(&flat), &half(&half(&flat))] {
            assert!(
                matches!(locate(img), Err(LocateError::MarksNotFound { .. })),
                "{}x{}",
                img.width(),
                img.height()
            );
        }
    }

    /// Where each mark was found, in modules from where it is.
    fn misplacement(found: &Located, h: &Homography) -> [f64; 4] {
        let design = CodeGeometry::STANDARD.mark_centers();
        std::array::from_fn(|i| {
            let truth = h.apply(design[i].map(f64::from));
            let next = h.apply([f64::from(design[i][0]) + 24.0, f64::from(design[i][1])]);
            let module = (next[0] - truth[0]).hypot(next[1] - truth[1]);
            let m = found.marks[i].center;
            (m[0] - truth[0]).hypot(m[1] - truth[1]) / module
        })
    }

    #[test]
    fn a_tilted_card_whose_orientation_mark_blurs_away_is_completed_where_the_finders_put_it() {
        let h = keystone();
        let img = marks_photo(&h, [true; 4], 2, 6);
        let bin = binarize(&img, 720 / 16, 0.92);
        assert!(
            scan(&bin, 720, 1280).orientation.is_empty(),
            "the orientation mark is seen: not this case"
        );
        let found = locate(&img).expect("completed");
        let off = misplacement(&found, &h);
        assert!(off.iter().all(|&o| o < 0.5), "marks off by {off:?} modules");
    }

    #[test]
    fn a_finder_the_scan_missed_is_completed_where_the_other_marks_put_it() {
        // Glare or a small, blurred mark can break a finder's run proportions while its
        // pattern is still there to match.
        let h = keystone();
        let img = marks_photo(&h, [true; 4], 0, 6);
        let bin = binarize(&img, 720 / 16, 0.92);
        let Scanned {
            finders, orientation, ..
        } = scan(&bin, 720, 1280);
        assert_eq!(
            (finders.len(), orientation.len()),
            (3, 1),
            "{finders:?} {orientation:?}"
        );
        for missed in 0..3 {
            let seen: Vec<FoundMark> = (0..3).filter(|&i| i != missed).map(|i| finders[i]).collect();
            let marks = complete(&img, &seen, &orientation)
                .unwrap_or_else(|| panic!("finder {missed} missed: not completed"));
            let found = Located { to_image: h, marks };
            let off = misplacement(&found, &h);
            assert!(
                off.iter().all(|&o| o < 0.5),
                "finder {missed} missed: marks off by {off:?} modules"
            );
        }
    }

    #[test]
    fn a_row_and_a_column_of_the_data_like_the_orientation_mark_are_not_taken_for_it() {
        // The data grid drawn with random modules, except that the row and the column through
        // one module alternate dark and light for seven modules each way: along its row and
        // its column it is the orientation mark's 1:1:1:1:1:1:1, and the scan, confirming
        // along both, can count it on more rows than the real mark.
        let h = keystone();
        let g = CodeGeometry::STANDARD;
        let grid = g.grid_rect();
        let (fc, fr) = (21i64, 6i64); // the false mark's module
        let mut img = marks_photo(&h, [true; 4], 0, 0);
        let from = h.inverse().expect("invertible");
        for (x, y, p) in img.enumerate_pixels_mut() {
            let [u, v] = from.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
            let (col, row) = (
                ((u - f64::from(grid.x)) / 24.0).floor() as i64,
                ((v - f64::from(grid.y)) / 24.0).floor() as i64,
            );
            if !(0..40).contains(&col) || !(0..12).contains(&row) {
                continue;
            }
            let on_cross = (row == fr && (col - fc).abs() <= 3) || (col == fc && (row - fr).abs() <= 3);
            let dark = if on_cross {
                (col - fc + row - fr).rem_euclid(2) == 1 || (col - fc).abs() == 3 || (row - fr).abs() == 3
            } else {
                (col * 7919 + row * 104_729).wrapping_mul(2_654_435_761) >> 7 & 1 == 1
            };
            p[0] = if dark { 30 } else { 225 };
        }
        let design = g.mark_centers().map(|d| d.map(f64::from));
        let found = |p: [f64; 2], hits: u32| {
            let (a, b) = (h.apply(p), h.apply([p[0] + 24.0, p[1]]));
            FoundMark {
                center: a,
                module: (b[0] - a[0]).hypot(b[1] - a[1]),
                hits,
            }
        };
        let [tl, tr, bl, o] = design.map(|d| found(d, 10));
        let centre = [
            f64::from(grid.x) + (fc as f64 + 0.5) * 24.0,
            f64::from(grid.y) + (fr as f64 + 0.5) * 24.0,
        ];
        let fake = found(centre, 30);
        // Confirmations less misfit, the rule before, would take the false mark.
        let score = |m: FoundMark| arrange([tl, tr, bl], m).map(|(s, _)| s);
        assert!(score(fake) > score(o), "{:?} {:?}", score(fake), score(o));
        let (r, marks) = best_arrangement(&img, &[tl, tr, bl], &[fake, o]).expect("a card");
        assert_eq!(marks[3], o, "the false mark was taken (structure {r:.2})");
        assert!(r >= SURE_MATCH, "structure {r:.2}");
        // Alone, the false mark makes a card that looks little like one.
        let (false_r, _) = best_arrangement(&img, &[tl, tr, bl], &[fake]).expect("a shape");
        assert!(false_r < CARD_MATCH, "structure {false_r:.2}");
    }

    /// The definition, one window at a time.
    fn binarize_naive(img: &GrayImage, radius: usize, factor: f64) -> Vec<bool> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let r = radius.max(2);
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n) = (0u64, 0u64);
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        sum += u64::from(img.get_pixel(xx as u32, yy as u32)[0]);
                        n += 1;
                    }
                }
                let scaled = (factor * 1024.0).round() as u64;
                out.push(u64::from(img.get_pixel(x as u32, y as u32)[0]) * n * 1024 < sum * scaled);
            }
        }
        out
    }

    #[test]
    fn half_is_the_rounded_mean_of_each_two_by_two_block() {
        let img = GrayImage::from_fn(7, 5, |x, y| image::Luma([(x * 37 + y * 91) as u8]));
        let small = half(&img);
        assert_eq!((small.width(), small.height()), (3, 2));
        for (x, y, p) in small.enumerate_pixels() {
            let at = |dx: u32, dy: u32| u32::from(img.get_pixel(2 * x + dx, 2 * y + dy)[0]);
            assert_eq!(
                u32::from(p[0]),
                (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4
            );
        }
        assert_eq!(half(&GrayImage::new(1, 9)).width(), 0);
    }

    #[test]
    fn binarize_is_the_local_mean_threshold_everywhere() {
        let mut state = 7u32;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        };
        for (w, h) in [(37u32, 23u32), (5, 40), (64, 64)] {
            let img = GrayImage::from_fn(w, h, |x, _| image::Luma([next() / 2 + (x as u8 % 7) * 18]));
            for radius in [2, 3, 8, 30, 80] {
                for factor in [0.92, 1.0, 1.07] {
                    assert_eq!(
                        binarize(&img, radius, factor),
                        binarize_naive(&img, radius, factor),
                        "{w}x{h}, radius {radius}, factor {factor}"
                    );
                }
            }
        }
    }
}
