//! The verifier's camera photographing a phone: pose (where the phone sits in the frame,
//! rotated and in perspective), optics (blur, vignetting), exposure and white balance, a
//! Bayer colour filter with bilinear demosaicing, shot and read noise, and JPEG. Each stage is
//! a function of its parameters; all randomness comes from the caller's [`Rng`].

use image::{ImageEncoder, RgbImage};
use serde::{Deserialize, Serialize};

use super::display::{Display, LinearFrame, linear_to_srgb};
use super::rng::Rng;
use holoid_core::filter::gaussian_blur;
use holoid_core::homography::Homography;

/// Capture difficulty, as in docs/design.md's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Phone 80 % of the frame height, 5 % corner shift, blur σ 0.6, noise σ 1.5, JPEG 92.
    Easy,
    /// 70 %, 10 %, 1.2, 3, 85.
    Normal,
    /// 55 %, 15 %, 2.0, 5, 75.
    Hard,
    /// 45 %, 18 %, 3.0, 8, 65.
    Harsh,
}

/// The numbers of one level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LevelParams {
    /// Phone height as a share of the frame height.
    pub phone_height: f64,
    /// Largest perspective shift of a phone corner, as a share of the phone height.
    pub corner_shift: f64,
    /// Optics blur σ in camera pixels.
    pub blur_sigma: f32,
    /// Noise σ in 8-bit units (at mid grey).
    pub noise_sigma: f32,
    /// JPEG quality.
    pub jpeg_quality: u8,
}

impl Level {
    /// All levels, easiest first.
    pub const ALL: [Level; 4] = [Level::Easy, Level::Normal, Level::Hard, Level::Harsh];

    /// The level's numbers.
    pub fn params(self) -> LevelParams {
        let (phone_height, corner_shift, blur_sigma, noise_sigma, jpeg_quality) = match self {
            Level::Easy => (0.80, 0.05, 0.6, 1.5, 92),
            Level::Normal => (0.70, 0.10, 1.2, 3.0, 85),
            Level::Hard => (0.55, 0.15, 2.0, 5.0, 75),
            Level::Harsh => (0.45, 0.18, 3.0, 8.0, 65),
        };
        LevelParams {
            phone_height,
            corner_shift,
            blur_sigma,
            noise_sigma,
            jpeg_quality,
        }
    }

    /// The level's name: easy, normal, hard or harsh.
    pub fn name(self) -> &'static str {
        match self {
            Level::Easy => "easy",
            Level::Normal => "normal",
            Level::Hard => "hard",
            Level::Harsh => "harsh",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Level, String> {
        Level::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("`{s}` is not a level: use easy, normal, hard or harsh"))
    }
}

/// Where the photographed rectangle (a phone's screen, a print) lands in the camera frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    /// Its corners in camera pixels: top-left, top-right, bottom-right, bottom-left.
    pub screen_corners: [[f64; 2]; 4],
}

/// Bezel width of the phones the simulator draws, as a share of the screen width.
pub const BEZEL: f64 = 0.04;

impl Pose {
    /// A random pose for `level`: the phone (screen plus bezel) at the level's share of the
    /// frame height, rotated by up to ±12°, each corner shifted by up to the level's share of
    /// the phone height, and placed with a small random offset from the centre.
    pub fn random(level: Level, camera: (u32, u32), screen: (u32, u32), rng: &mut Rng) -> Pose {
        let p = level.params();
        let bezel = BEZEL;
        let (cw, ch) = (f64::from(camera.0), f64::from(camera.1));
        let aspect = f64::from(screen.0) / f64::from(screen.1);
        let phone_h = p.phone_height * ch;
        let screen_h = phone_h / (1.0 + 2.0 * bezel * aspect);
        let screen_w = screen_h * aspect;
        let angle = rng.range(-12.0, 12.0).to_radians();
        let (sin, cos) = angle.sin_cos();
        let room = ((1.0 - p.phone_height) * ch * 0.3).max(0.0);
        let centre = [
            cw / 2.0 + rng.range(-room, room) * 0.3,
            ch / 2.0 + rng.range(-room, room),
        ];
        let half = [screen_w / 2.0, screen_h / 2.0];
        let corners = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]].map(|[sx, sy]: [f64; 2]| {
            let (x, y) = (sx * half[0], sy * half[1]);
            let shift = p.corner_shift * phone_h;
            [
                centre[0] + x * cos - y * sin + rng.range(-shift, shift) / 2.0,
                centre[1] + x * sin + y * cos + rng.range(-shift, shift) / 2.0,
            ]
        });
        Pose {
            screen_corners: corners,
        }
    }

    /// The map from screen pixels (`width` × `height`) to camera pixels.
    pub fn homography(&self, screen: (u32, u32)) -> Homography {
        let (w, h) = (f64::from(screen.0), f64::from(screen.1));
        Homography::from_points([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]], self.screen_corners)
            .expect("a pose's corners form a quadrilateral")
    }
}

/// The camera's settings for one capture (as the dataset manifest records them).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CameraParams {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Optics blur σ, pixels.
    pub blur_sigma: f32,
    /// Noise σ at mid grey, 8-bit units.
    pub noise_sigma: f32,
    /// JPEG quality, 1..=100.
    pub jpeg_quality: u8,
    /// Exposure relative to nominal, 0.7..1.3.
    pub exposure: f32,
    /// White-balance gains (R, G, B), near 1.
    pub white_balance: [f32; 3],
    /// Vignetting: brightness falls by this share at the frame corners.
    pub vignetting: f32,
    /// Hand-shake during the exposure, or none.
    pub motion_blur: Option<MotionBlur>,
    /// A reflection of a light on the phone's glass, or none.
    pub glare: Option<Glare>,
}

/// Hand-shake during the exposure: a straight streak.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotionBlur {
    /// Its length, pixels.
    pub length: f32,
    /// Its angle, radians.
    pub angle: f32,
}

/// A soft specular highlight on the glass over the screen: a Gaussian spot of linear
/// radiance `strength` (added), `radius` pixels, centred on the screen at (`u`, `v`), given
/// as shares of its width and height.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Glare {
    /// Centre across the screen, 0..1.
    pub u: f64,
    /// Centre down the screen, 0..1.
    pub v: f64,
    /// Radius (σ) in camera pixels.
    pub radius: f32,
    /// Peak added linear radiance.
    pub strength: f32,
}

impl CameraParams {
    /// Random settings for `level` at `width` × `height`: exposure ±30 %, white balance ±8 %,
    /// vignetting 0–30 %; in 30 % of captures a hand-shake streak (1 to 2–6.5 px, longer at
    /// harder levels), in 30 % a glare spot on the glass.
    pub fn random(level: Level, width: u32, height: u32, rng: &mut Rng) -> CameraParams {
        let p = level.params();
        CameraParams {
            width,
            height,
            blur_sigma: p.blur_sigma,
            noise_sigma: p.noise_sigma,
            jpeg_quality: p.jpeg_quality,
            exposure: rng.range(0.7, 1.3) as f32,
            white_balance: [rng.range(0.92, 1.08) as f32, 1.0, rng.range(0.92, 1.08) as f32],
            vignetting: rng.range(0.0, 0.3) as f32,
            motion_blur: (rng.unit() < 0.3).then(|| {
                let level_index = Level::ALL.iter().position(|l| *l == level).unwrap_or(0) as f64;
                MotionBlur {
                    length: rng.range(1.0, 2.0 + 1.5 * level_index) as f32,
                    angle: rng.range(0.0, std::f64::consts::PI) as f32,
                }
            }),
            glare: (rng.unit() < 0.3).then(|| Glare {
                u: rng.range(0.1, 0.9),
                v: rng.range(0.1, 0.9),
                radius: rng.range(0.04, 0.15) as f32 * height as f32,
                strength: rng.range(0.1, 0.5) as f32,
            }),
        }
    }
}

/// A linear RGB image in camera space.
#[derive(Clone, Debug)]
pub struct Raw {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Row-major linear RGB.
    pub pixels: Vec<[f32; 3]>,
}

/// What the camera photographs: a flat rectangle `size()` units across (screen pixels, or
/// card pixels of a print) that sends `radiance` toward the camera, framed by a border
/// (a phone's bezel, a paper margin).
pub trait Emitter: Sync {
    /// Width and height in the emitter's own units.
    fn size(&self) -> (u32, u32);
    /// Linear radiance at (`x`, `y`) inside the rectangle.
    fn radiance(&self, x: f64, y: f64) -> [f32; 3];
    /// The border around the rectangle: its width in the same units, and its radiance.
    fn border(&self) -> (f64, [f32; 3]);
}

/// A phone (or monitor) screen showing a frame.
pub struct Screen<'a> {
    /// The frame shown, one entry per panel pixel.
    pub frame: &'a LinearFrame,
    /// The panel.
    pub display: Display,
    /// Bezel width as a share of the screen width.
    pub bezel: f64,
}

impl Emitter for Screen<'_> {
    fn size(&self) -> (u32, u32) {
        (self.frame.width, self.frame.height)
    }

    fn radiance(&self, x: f64, y: f64) -> [f32; 3] {
        self.display.radiance(self.frame, x, y)
    }

    fn border(&self) -> (f64, [f32; 3]) {
        (self.bezel * f64::from(self.frame.width), [0.012, 0.012, 0.014])
    }
}

/// Forms the optical image: each camera pixel integrates the scene over its area with
/// stratified jittered samples, enough for at least 2.5 samples per emitter unit where the
/// pixel sees the emitter. A pixel that sees none of it (only the border around it and the
/// desk, both smooth) takes 2 × 2 samples, which still smooth the phone's outline. Outside
/// the emitter: its border, then a desk whose colours `rng` picks.
pub fn expose_scene(emitter: &dyn Emitter, pose: &Pose, width: u32, height: u32, rng: &mut Rng) -> Raw {
    let screen = emitter.size();
    let to_screen = pose.homography(screen).inverse().expect("a pose is invertible");
    let c = pose.screen_corners;
    let screen_px_per_camera_px = f64::from(screen.1) / ((c[3][1] - c[0][1]).hypot(c[3][0] - c[0][0]));
    let k_screen = (2.5 * screen_px_per_camera_px).ceil().clamp(1.0, 12.0) as u32;
    let k_outside = k_screen.min(2);
    let desk_a = [rng.range(0.05, 0.3), rng.range(0.05, 0.3), rng.range(0.04, 0.25)].map(|v| v as f32);
    let desk_b = desk_a.map(|v| v * rng.range(0.6, 1.1) as f32);
    let (bezel_x, body) = emitter.border();
    let (sw, sh) = (f64::from(screen.0), f64::from(screen.1));
    // Where a camera pixel's corner lies against the screen rectangle: one bit per side it is
    // beyond (left, right, above, below). A pixel whose four corners share a bit sees none of
    // the screen (its footprint is convex).
    let sides = |[u, v]: [f64; 2]| -> u8 {
        u8::from(u < 0.0) | u8::from(u >= sw) << 1 | u8::from(v < 0.0) << 2 | u8::from(v >= sh) << 3
    };
    let seed = rng.next_u64();
    let rows: Vec<u32> = (0..height).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = rows.len().div_ceil(threads).max(1);
    let mut pixels = vec![[0.0f32; 3]; (width * height) as usize];
    std::thread::scope(|scope| {
        for (band, out) in rows.chunks(chunk).zip(pixels.chunks_mut(chunk * width as usize)) {
            let to_screen = &to_screen;
            scope.spawn(move || {
                // Each camera pixel's footprint on the screen from its four corners, mapped
                // once per row; within one pixel the map is bilinear between them (the
                // projective part is far below a thousandth of a pixel there).
                let corner_row = |y: u32| -> Vec<[f64; 2]> {
                    (0..=width)
                        .map(|x| to_screen.apply([f64::from(x), f64::from(y)]))
                        .collect()
                };
                let mut above = corner_row(band[0]);
                for (row_in_band, &y) in band.iter().enumerate() {
                    let below = corner_row(y + 1);
                    let mut r = Rng::new(seed).derive("row", u64::from(y));
                    let t_row = |fy: f64| ((f64::from(y) + fy) / f64::from(height)) as f32;
                    for x in 0..width {
                        let xi = x as usize;
                        let [p00, p10, p01, p11] = [above[xi], above[xi + 1], below[xi], below[xi + 1]];
                        let off_screen = sides(p00) & sides(p10) & sides(p01) & sides(p11) != 0;
                        let k = if off_screen { k_outside } else { k_screen };
                        // u(fx, fy) = a + b fx + c fy + d fx fy, the same for v.
                        let bil = |i: usize| {
                            let a = p00[i];
                            let b = p10[i] - a;
                            let c = p01[i] - a;
                            (a, b, c, p11[i] - a - b - c)
                        };
                        let ((ua, ub, uc, ud), (va, vb, vc, vd)) = (bil(0), bil(1));
                        let mut sum = [0.0f32; 3];
                        for sy in 0..k {
                            for sx in 0..k {
                                let (jx, jy) = r.unit_pair();
                                let fx = (f64::from(sx) + jx) / f64::from(k);
                                let fy = (f64::from(sy) + jy) / f64::from(k);
                                let u = ua + ub * fx + (uc + ud * fx) * fy;
                                let v = va + vb * fx + (vc + vd * fx) * fy;
                                let rad = if u >= 0.0 && v >= 0.0 && u < sw && v < sh {
                                    emitter.radiance(u, v)
                                } else if u >= -bezel_x
                                    && v >= -bezel_x
                                    && u < sw + bezel_x
                                    && v < sh + bezel_x
                                {
                                    body
                                } else {
                                    let t = t_row(fy);
                                    [0, 1, 2].map(|i| desk_a[i] + (desk_b[i] - desk_a[i]) * t)
                                };
                                for i in 0..3 {
                                    sum[i] += rad[i];
                                }
                            }
                        }
                        let n = (k * k) as f32;
                        out[row_in_band * width as usize + x as usize] = sum.map(|s| s / n);
                    }
                    above = below;
                }
            });
        }
    });
    Raw {
        width,
        height,
        pixels,
    }
}

/// Gaussian blur of σ pixels (separable, edges clamped), in place: the optics
/// (`holoid_core::filter`, the blur the detector's references use too).
pub fn blur(raw: &mut Raw, sigma: f32) {
    let (w, h) = (raw.width as usize, raw.height as usize);
    gaussian_blur(&mut raw.pixels, w, h, sigma);
}

/// Hand-shake: each pixel averages the image along a straight streak of `length` pixels at
/// `angle` (bilinear samples, half a pixel apart).
pub fn motion_blur(raw: &mut Raw, length: f32, angle: f32) {
    let steps = (2.0 * length).ceil().max(1.0) as usize;
    let (dx, dy) = (angle.cos() * length, angle.sin() * length);
    let (w, h) = (raw.width as usize, raw.height as usize);
    let src = raw.pixels.clone();
    let sample = |x: f32, y: f32| {
        let (x, y) = (x.clamp(0.0, (w - 1) as f32), y.clamp(0.0, (h - 1) as f32));
        // Clamped to be non-negative: truncation is the floor (no libm call).
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |x: usize, y: usize| src[y * w + x];
        std::array::from_fn::<f32, 3, _>(|c| {
            let top = p(x0, y0)[c] * (1.0 - fx) + p(x1, y0)[c] * fx;
            let bottom = p(x0, y1)[c] * (1.0 - fx) + p(x1, y1)[c] * fx;
            top * (1.0 - fy) + bottom * fy
        })
    };
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for i in 0..=steps {
                let t = i as f32 / steps as f32 - 0.5;
                let s = sample(x as f32 + t * dx, y as f32 + t * dy);
                for c in 0..3 {
                    acc[c] += s[c];
                }
            }
            raw.pixels[y * w + x] = acc.map(|v| v / (steps + 1) as f32);
        }
    }
}

/// Adds a glare spot on the screen's glass: only inside the screen quadrilateral of `pose`.
pub fn glare(raw: &mut Raw, pose: &Pose, screen: (u32, u32), g: &Glare) {
    let h = pose.homography(screen);
    let [cx, cy] = h.apply([g.u * f64::from(screen.0), g.v * f64::from(screen.1)]);
    let Some(to_screen) = h.inverse() else { return };
    let w = raw.width as usize;
    let r2 = 2.0 * f64::from(g.radius).powi(2);
    for (i, px) in raw.pixels.iter_mut().enumerate() {
        let (x, y) = ((i % w) as f64 + 0.5, (i / w) as f64 + 0.5);
        let d2 = (x - cx).powi(2) + (y - cy).powi(2);
        if d2 > 9.0 * r2 {
            continue;
        }
        let [u, v] = to_screen.apply([x, y]);
        if u < 0.0 || v < 0.0 || u >= f64::from(screen.0) || v >= f64::from(screen.1) {
            continue;
        }
        let add = g.strength * (-d2 / r2).exp() as f32;
        for c in px.iter_mut() {
            *c += add;
        }
    }
}

/// Exposure, white balance and vignetting (radial fall-off to `1 − vignetting` at the corners).
pub fn expose(raw: &mut Raw, p: &CameraParams) {
    let (cx, cy) = (raw.width as f32 / 2.0, raw.height as f32 / 2.0);
    let r2max = cx * cx + cy * cy;
    let w = raw.width as usize;
    for (i, px) in raw.pixels.iter_mut().enumerate() {
        let (x, y) = ((i % w) as f32 + 0.5 - cx, (i / w) as f32 + 0.5 - cy);
        let gain = p.exposure * (1.0 - p.vignetting * (x * x + y * y) / r2max);
        for (v, wb) in px.iter_mut().zip(p.white_balance) {
            *v *= gain * wb;
        }
    }
}

/// The sensor: an RGGB Bayer mosaic with shot and read noise (σ chosen so that mid grey has
/// `noise_sigma` 8-bit units after encoding), then bilinear demosaicing and sRGB encoding.
pub fn sensor(raw: &Raw, noise_sigma: f32, rng: &mut Rng) -> RgbImage {
    let (w, h) = (raw.width as usize, raw.height as usize);
    // At mid grey (linear 0.214) the sRGB curve's slope is about 1.08.
    let sigma_mid = noise_sigma / 255.0 / 1.08;
    let shot = 0.7 * sigma_mid * sigma_mid / 0.214;
    let read = 0.3 * sigma_mid * sigma_mid;
    let colour = |x: usize, y: usize| match (x % 2, y % 2) {
        (0, 0) => 0,
        (1, 1) => 2,
        _ => 1,
    };
    let mut mosaic = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let v = raw.pixels[y * w + x][colour(x, y)].max(0.0);
            let sd = (shot * v + read).sqrt();
            mosaic[y * w + x] = (v + sd * rng.normal() as f32).clamp(0.0, 1.0);
        }
    }
    let mut out = RgbImage::new(raw.width, raw.height);
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            let mut n = [0.0f32; 3];
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (sx, sy) = (x as i64 + dx, y as i64 + dy);
                    if sx < 0 || sy < 0 || sx >= w as i64 || sy >= h as i64 {
                        continue;
                    }
                    let (sx, sy) = (sx as usize, sy as usize);
                    let c = colour(sx, sy);
                    // Bilinear: own sample for the site's colour, neighbours for the others.
                    let weight = if dx == 0 && dy == 0 {
                        4.0
                    } else if dx == 0 || dy == 0 {
                        2.0
                    } else {
                        1.0
                    };
                    acc[c] += weight * mosaic[sy * w + sx];
                    n[c] += weight;
                }
            }
            let own = colour(x, y);
            let mut rgb = [0.0f32; 3];
            for c in 0..3 {
                rgb[c] = if c == own {
                    mosaic[y * w + x]
                } else {
                    acc[c] / n[c].max(1e-6)
                };
            }
            out.put_pixel(
                x as u32,
                y as u32,
                image::Rgb(rgb.map(|v| (linear_to_srgb(v) * 255.0).round() as u8)),
            );
        }
    }
    out
}

/// The image as a camera writes it: baseline JPEG at `quality`.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding a JPEG into memory cannot fail");
    out
}

/// A whole photograph: optical image, glare, optics blur, hand-shake, exposure, sensor. Returns the image before
/// JPEG (encode it with [`encode_jpeg`] and `params.jpeg_quality`).
pub fn photograph(emitter: &dyn Emitter, pose: &Pose, params: &CameraParams, rng: &mut Rng) -> RgbImage {
    let mut raw = expose_scene(emitter, pose, params.width, params.height, rng);
    if let Some(g) = &params.glare {
        glare(&mut raw, pose, emitter.size(), g);
    }
    blur(&mut raw, params.blur_sigma);
    if let Some(MotionBlur { length, angle }) = params.motion_blur {
        motion_blur(&mut raw, length, angle);
    }
    expose(&mut raw, params);
    sensor(&raw, params.noise_sigma, rng)
}
