//! The capture model's stages, each checked by a property a person would check by eye.

use holoid_sim::camera::{self, BEZEL, CameraParams, Level, Pose, Screen};
use holoid_sim::display::{Display, LinearFrame, SubpixelLayout, linear_to_srgb, srgb_to_linear};
use holoid_sim::rng::Rng;
use image::{Rgba, RgbaImage};

const SCREEN: (u32, u32) = (540, 1170);

fn clean_camera(width: u32, height: u32) -> CameraParams {
    CameraParams {
        width,
        height,
        blur_sigma: 0.0,
        noise_sigma: 0.0,
        jpeg_quality: 92,
        exposure: 1.0,
        white_balance: [1.0; 3],
        vignetting: 0.0,
        motion_blur: None,
        glare: None,
    }
}

fn screen(frame: &LinearFrame, display: Display) -> Screen<'_> {
    Screen {
        frame,
        display,
        bezel: BEZEL,
    }
}

const PANEL: Display = Display {
    layout: SubpixelLayout::RgbStripe,
    fill: 0.7,
    brightness: 1.0,
};

#[test]
fn perspective_puts_the_screen_corners_where_the_pose_says() {
    // White 30-pixel squares in the four screen corners of a black frame.
    let s = 30;
    let img = RgbaImage::from_fn(SCREEN.0, SCREEN.1, |x, y| {
        let near = |v: u32, max: u32| v < s || v >= max - s;
        if near(x, SCREEN.0) && near(y, SCREEN.1) {
            Rgba([255; 4])
        } else {
            Rgba([0, 0, 0, 255])
        }
    });
    let frame = LinearFrame::from_srgb(&img);
    for seed in 0..3 {
        let mut rng = Rng::new(seed);
        let pose = Pose::random(Level::Hard, (720, 1280), SCREEN, &mut rng);
        let shot = camera::photograph(&screen(&frame, PANEL), &pose, &clean_camera(720, 1280), &mut rng);
        let h = pose.homography(SCREEN);
        let (sw, sh) = (f64::from(SCREEN.0), f64::from(SCREEN.1));
        let half = f64::from(s) / 2.0;
        let centres = [
            [half, half],
            [sw - half, half],
            [sw - half, sh - half],
            [half, sh - half],
        ];
        for centre in centres {
            let [ex, ey] = h.apply(centre);
            // Centroid of bright pixels within 40 px of where the pose says the square is.
            let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
            for y in (ey as i64 - 40).max(0)..(ey as i64 + 40).min(1280) {
                for x in (ex as i64 - 40).max(0)..(ex as i64 + 40).min(720) {
                    let v = f64::from(shot.get_pixel(x as u32, y as u32)[1]);
                    if v > 220.0 {
                        sx += x as f64 + 0.5;
                        sy += y as f64 + 0.5;
                        n += 1.0;
                    }
                }
            }
            assert!(n > 10.0, "seed {seed}: nothing bright near ({ex:.0}, {ey:.0})");
            let (cx, cy) = (sx / n, sy / n);
            assert!(
                (cx - ex).hypot(cy - ey) < 1.5,
                "seed {seed}: square at ({cx:.1}, {cy:.1}), pose says ({ex:.1}, {ey:.1})"
            );
        }
    }
}

#[test]
fn demosaicing_and_noise_keep_the_mean_colour() {
    let colour = [180u8, 120, 60];
    let img = RgbaImage::from_pixel(SCREEN.0, SCREEN.1, Rgba([colour[0], colour[1], colour[2], 255]));
    let frame = LinearFrame::from_srgb(&img);
    for (layout, seed) in [(SubpixelLayout::RgbStripe, 1), (SubpixelLayout::Diamond, 2)] {
        let mut rng = Rng::new(seed);
        let pose = Pose::random(Level::Easy, (720, 1280), SCREEN, &mut rng);
        let params = CameraParams {
            blur_sigma: 1.2,
            noise_sigma: 5.0,
            ..clean_camera(720, 1280)
        };
        let display = Display { layout, ..PANEL };
        let shot = camera::photograph(&screen(&frame, display), &pose, &params, &mut rng);
        // The middle of the screen.
        let [cx, cy] = pose
            .homography(SCREEN)
            .apply([f64::from(SCREEN.0) / 2.0, f64::from(SCREEN.1) / 2.0]);
        let mut sum = [0.0f64; 3];
        let mut n = 0.0;
        for y in (cy as u32 - 60)..(cy as u32 + 60) {
            for x in (cx as u32 - 60)..(cx as u32 + 60) {
                let p = shot.get_pixel(x, y);
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
                n += 1.0;
            }
        }
        for c in 0..3 {
            let mean = sum[c] / n;
            // The panel shows the colour; the camera's gamma is the same sRGB curve.
            let want = f64::from(linear_to_srgb(srgb_to_linear(f32::from(colour[c]) / 255.0))) * 255.0;
            assert!(
                (mean - want).abs() < 4.0,
                "{layout:?} channel {c}: mean {mean:.1}, want {want:.1}"
            );
        }
    }
}

#[test]
fn jpeg_quality_changes_the_file_size_monotonically() {
    let card = RgbaImage::from_fn(SCREEN.0, SCREEN.1, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8, 255])
    });
    let mut rng = Rng::new(9);
    let pose = Pose::random(Level::Normal, (360, 640), SCREEN, &mut rng);
    let params = CameraParams::random(Level::Normal, 360, 640, &mut rng);
    let shot = camera::photograph(
        &screen(&LinearFrame::from_srgb(&card), PANEL),
        &pose,
        &params,
        &mut rng,
    );
    let sizes: Vec<usize> = [50, 65, 75, 85, 92, 98]
        .iter()
        .map(|&q| camera::encode_jpeg(&shot, q).len())
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "sizes by quality: {sizes:?}"
    );
    let decoded = image::load_from_memory(&camera::encode_jpeg(&shot, 85)).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (360, 640));
}

#[test]
fn the_same_seed_gives_the_same_photograph() {
    let card = RgbaImage::from_fn(SCREEN.0, SCREEN.1, |x, y| {
        Rgba([(x % 200) as u8, 90, (y % 150) as u8, 255])
    });
    let frame = LinearFrame::from_srgb(&card);
    let shoot = |seed| {
        let mut rng = Rng::new(seed);
        let pose = Pose::random(Level::Hard, (270, 480), SCREEN, &mut rng);
        let params = CameraParams::random(Level::Hard, 270, 480, &mut rng);
        camera::encode_jpeg(
            &camera::photograph(&screen(&frame, PANEL), &pose, &params, &mut rng),
            params.jpeg_quality,
        )
    };
    assert_eq!(shoot(4), shoot(4));
    assert_ne!(shoot(4), shoot(5));
}

#[test]
fn levels_follow_the_design_table() {
    let p = Level::Hard.params();
    assert_eq!(
        (
            p.phone_height,
            p.corner_shift,
            p.blur_sigma,
            p.noise_sigma,
            p.jpeg_quality
        ),
        (0.55, 0.15, 2.0, 5.0, 75)
    );
    assert_eq!("harsh".parse::<Level>(), Ok(Level::Harsh));
    assert!("extreme".parse::<Level>().is_err());
}

/// Magnitude of the 2-D DFT of the luma of `img` over `patch` (x0, y0, size) at the spatial
/// frequency `f` (cycles per camera pixel), normalised by the patch's mean luma.
fn dft_energy(img: &image::RgbImage, patch: (u32, u32, u32), f: [f64; 2]) -> f64 {
    let (x0, y0, n) = patch;
    let (mut re, mut im, mut sum) = (0.0, 0.0, 0.0);
    for y in y0..y0 + n {
        for x in x0..x0 + n {
            let p = img.get_pixel(x, y);
            let l = 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
            let phase = std::f64::consts::TAU * (f[0] * f64::from(x) + f[1] * f64::from(y));
            re += l * phase.cos();
            im += l * phase.sin();
            sum += l;
        }
    }
    re.hypot(im) / sum
}

#[test]
fn a_print_has_halftone_energy_at_its_screen_frequency_and_a_screen_does_not() {
    use holoid_sim::print::{Print, PrintParams};
    // A flat mid grey, printed (black ink only) and shown on a phone, photographed straight on
    // at 1.5 camera pixels per image pixel.
    let grey = RgbaImage::from_pixel(240, 240, Rgba([128, 128, 128, 255]));
    let scale = 1.5;
    let pose = Pose {
        screen_corners: [[0.0, 0.0], [360.0, 0.0], [360.0, 360.0], [0.0, 360.0]]
            .map(|[x, y]| [x + 20.0, y + 20.0]),
    };
    let params = CameraParams {
        blur_sigma: 0.8,
        noise_sigma: 2.0,
        ..clean_camera(400, 400)
    };
    let mut rng = Rng::new(3);
    let print_params = PrintParams::random(&mut rng);
    let printed = camera::photograph(&Print::new(&grey, print_params), &pose, &params, &mut rng);
    let frame = LinearFrame::from_srgb(&grey);
    let shown = camera::photograph(&screen(&frame, PANEL), &pose, &params, &mut rng);
    // The black screen's fundamental, along its angle, in camera pixels.
    let a = print_params.angles[3].to_radians();
    let period = print_params.cell * scale;
    let f = [a.cos() / period, a.sin() / period];
    let patch = (80, 80, 240);
    let (p, s) = (dft_energy(&printed, patch, f), dft_energy(&shown, patch, f));
    assert!(p > 0.05, "print: halftone energy {p:.4} at the screen frequency");
    assert!(p > 10.0 * s, "print {p:.4} vs screen {s:.4}");
    // And nothing special at an unrelated frequency.
    let off = dft_energy(&printed, patch, [0.013, 0.029]);
    assert!(p > 10.0 * off, "print peak {p:.4} vs off-peak {off:.4}");
}

#[test]
fn a_reshown_photo_has_moire_from_the_second_screen_that_the_live_screen_lacks() {
    // The live phone shows flat grey; an attacker photographs it and shows the photo on a
    // monitor with a coarser pixel grid. The verifier frames the grey area the same way in
    // both cases: 400 camera pixels across. The live phone's 1080 pixels alias far from the
    // monitor's, whose grid (0.9 camera px) beats with the sensor into a slow moiré.
    let grey = RgbaImage::from_pixel(1080, 1080, Rgba([140, 140, 140, 255]));
    let frame = LinearFrame::from_srgb(&grey);
    let params = CameraParams {
        blur_sigma: 0.5,
        noise_sigma: 1.5,
        ..clean_camera(480, 480)
    };
    let square = |side: f64| {
        let o = 40.0;
        Pose {
            screen_corners: [[o, o], [o + side, o], [o + side, o + side], [o, o + side]],
        }
    };
    let mut rng = Rng::new(21);
    let live = camera::photograph(&screen(&frame, PANEL), &square(400.0), &params, &mut rng);
    // The attacker's photo of the phone, full frame, shown on a 444 x 444 pixel area.
    let photo = camera::photograph(&screen(&frame, PANEL), &square(400.0), &params, &mut rng);
    let crop = image::imageops::crop_imm(&photo, 40, 40, 400, 400).to_image();
    let monitor = LinearFrame::reshown(&crop, 444, 444);
    let reshown = camera::photograph(&screen(&monitor, PANEL), &square(400.0), &params, &mut rng);
    // Monitor pixel = 400/444 camera px: its grid (1.11 cycles/px) aliases to 0.11 cycles/px.
    let f = 444.0 / 400.0 - 1.0;
    let patch = (90, 90, 300);
    let (m, l) = (
        dft_energy(&reshown, patch, [f, 0.0]),
        dft_energy(&live, patch, [f, 0.0]),
    );
    assert!(m > 0.01, "reshown: moiré energy {m:.4}");
    assert!(m > 10.0 * l, "reshown {m:.4} vs live {l:.4} at {f:.3} cycles/px");
}

#[test]
fn hand_shake_smears_a_dot_along_its_direction() {
    use holoid_sim::camera::{Raw, motion_blur};
    let (w, h) = (61u32, 61u32);
    for angle_deg in [0.0f32, 30.0, 90.0, 135.0] {
        let mut raw = Raw {
            width: w,
            height: h,
            pixels: vec![[0.0; 3]; (w * h) as usize],
        };
        raw.pixels[(30 * w + 30) as usize] = [1.0; 3];
        let (length, angle) = (12.0, angle_deg.to_radians());
        motion_blur(&mut raw, length, angle);
        // Second moments of the smeared dot: its long axis is the streak.
        let (mut sum, mut mxx, mut myy, mut mxy) = (0.0f64, 0.0, 0.0, 0.0);
        for (i, p) in raw.pixels.iter().enumerate() {
            let (x, y) = ((i % w as usize) as f64 - 30.0, (i / w as usize) as f64 - 30.0);
            let v = f64::from(p[0]);
            sum += v;
            mxx += v * x * x;
            myy += v * y * y;
            mxy += v * x * y;
        }
        assert!((sum - 1.0).abs() < 0.02, "energy {sum}");
        let axis = 0.5 * (2.0 * mxy).atan2(mxx - myy);
        let diff = (axis - f64::from(angle)).rem_euclid(std::f64::consts::PI);
        let diff = diff.min(std::f64::consts::PI - diff);
        assert!(
            diff < 0.05,
            "streak at {:.1}°, wanted {angle_deg}°",
            axis.to_degrees()
        );
        // A uniform streak of length L has variance L²/12 along it.
        let along = (mxx + myy) / sum;
        assert!(
            (along - f64::from(length * length) / 12.0).abs() < 3.0,
            "variance {along}"
        );
    }
}

#[test]
fn glare_brightens_the_glass_and_nothing_outside_it() {
    use holoid_sim::camera::Glare;
    let grey = RgbaImage::from_pixel(SCREEN.0, SCREEN.1, Rgba([90, 90, 90, 255]));
    let frame = LinearFrame::from_srgb(&grey);
    let mut rng = Rng::new(8);
    let pose = Pose::random(Level::Easy, (360, 640), SCREEN, &mut rng);
    let g = Glare {
        u: 0.95,
        v: 0.5,
        radius: 60.0,
        strength: 0.5,
    };
    let plain = clean_camera(360, 640);
    let shine = CameraParams {
        glare: Some(g),
        ..plain
    };
    let a = camera::photograph(&screen(&frame, PANEL), &pose, &plain, &mut Rng::new(1));
    let b = camera::photograph(&screen(&frame, PANEL), &pose, &shine, &mut Rng::new(1));
    let h = pose.homography(SCREEN);
    let inv = h.inverse().unwrap();
    let [cx, cy] = h.apply([g.u * f64::from(SCREEN.0), g.v * f64::from(SCREEN.1)]);
    let (mut inside_gain, mut outside_change) = (0.0f64, 0u8);
    let on = |x: f64, y: f64| {
        let [u, v] = inv.apply([x, y]);
        u >= 0.0 && v >= 0.0 && u < f64::from(SCREEN.0) && v < f64::from(SCREEN.1)
    };
    for (x, y, p) in b.enumerate_pixels() {
        let q = a.get_pixel(x, y);
        let (fx, fy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let on_screen = on(fx, fy);
        // Demosaicing mixes neighbours: off the glass means 3 pixels away from it.
        let off_glass = [-3.0, 3.0]
            .iter()
            .all(|&dx| [-3.0, 3.0].iter().all(|&dy| !on(fx + dx, fy + dy)));
        let near = (f64::from(x) + 0.5 - cx).hypot(f64::from(y) + 0.5 - cy) < 20.0;
        if on_screen && near {
            inside_gain = inside_gain.max(f64::from(p[1]) - f64::from(q[1]));
        } else if off_glass && !on_screen {
            outside_change = outside_change.max(p[1].abs_diff(q[1]));
        }
    }
    assert!(inside_gain > 60.0, "glare adds only {inside_gain} on the glass");
    assert_eq!(outside_change, 0, "glare must not light the desk");
}
