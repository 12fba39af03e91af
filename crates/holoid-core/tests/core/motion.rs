use holoid_core::motion::{MotionConfig, MotionError, MotionFilter, Sample};
use proptest::prelude::*;
use std::f64::consts::TAU;

const G: f32 = 9.81;

/// Feeds `seconds` of samples at irregular intervals (`rate` Hz ± 40 %), with
/// acceleration `f(t)`; returns the shake start times seen.
fn run(
    filter: &mut MotionFilter,
    t0: f64,
    seconds: f64,
    rate: f64,
    jitter: u64,
    f: impl Fn(f64) -> [f32; 3],
) -> (f64, Vec<f64>) {
    let mut t = t0;
    let mut shakes = Vec::new();
    let mut state = jitter | 1;
    while t < t0 + seconds {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % 1000) as f64 / 1000.0 * 0.8 + 0.6;
        t += j / rate;
        let u = filter
            .push(Sample { t, accel: f(t) })
            .expect("finite, advancing samples");
        shakes.extend(u.shake_started);
    }
    (t, shakes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn constant_gravity_converges_to_its_tilt(
        tx in -1.2f32..1.2, ty in -1.2f32..1.2, rate in 20.0f64..400.0, jitter in any::<u64>(),
    ) {
        // Gravity direction from the two tilt angles (z toward the viewer).
        let (gx, gy, gz) = (tx.tan(), ty.tan(), 1.0f32);
        let n = (gx * gx + gy * gy + gz * gz).sqrt();
        let g = [G * gx / n, G * gy / n, G * gz / n];
        let mut f = MotionFilter::new(MotionConfig::default());
        f.push(Sample { t: 0.0, accel: [0.0, G, 0.0] }).unwrap();
        let (t, shakes) = run(&mut f, 0.0, 0.4, rate, jitter, |_| [0.0, G, 0.0]);
        prop_assert!(shakes.is_empty());
        // Turn the phone from upright to the target over a second, then hold it.
        let start = t;
        let (u0, u1) = ([0.0f32, 1.0, 0.0], g.map(|c| c / G));
        let theta = (u0[1] * u1[1]).clamp(-1.0, 1.0).acos();
        let turn = move |t: f64| {
            // Spherical interpolation: constant angular speed, |a| stays G.
            let k = ((t - start) / 1.0).clamp(0.0, 1.0) as f32;
            let (a, b) = (((1.0 - k) * theta).sin(), (k * theta).sin());
            let s = theta.sin().max(1e-6);
            [0, 1, 2].map(|i| G * (a * u0[i] + b * u1[i]) / s)
        };
        let (_, shakes) = run(&mut f, t, 3.0, rate, jitter, turn);
        let tilt = f.tilt();
        prop_assert!((tilt.x - tx).abs() < 0.01 && (tilt.y - ty).abs() < 0.01, "{:?} vs {} {}", tilt, tx, ty);
        // Turning the phone within a second is not a shake.
        prop_assert!(shakes.is_empty(), "{:?}", shakes);
    }

    #[test]
    fn a_shake_burst_is_detected_once(
        freq in 3.0f64..6.0, amp in 12.0f64..25.0, rate in 50.0f64..200.0, jitter in any::<u64>(),
    ) {
        let mut f = MotionFilter::new(MotionConfig::default());
        let rest = |_| [0.0, G * 0.7, G * 0.7];
        let (t, before) = run(&mut f, 0.0, 2.0, rate, jitter, rest);
        let (t, during) = run(&mut f, t, 1.0, rate, jitter, |t| {
            [(amp * (TAU * freq * t).sin()) as f32, G * 0.7, G * 0.7]
        });
        let (_, after) = run(&mut f, t, 2.0, rate, jitter, rest);
        prop_assert!(before.is_empty() && after.is_empty(), "{:?} {:?}", before, after);
        prop_assert_eq!(during.len(), 1, "shakes {:?}", during);
    }

    #[test]
    fn tremor_and_walking_are_not_shakes(
        tremor_hz in 6.0f64..12.0, tremor in 0.05f64..0.8, step_hz in 1.5f64..2.5, step in 0.5f64..3.0,
        rate in 50.0f64..200.0, jitter in any::<u64>(),
    ) {
        let mut f = MotionFilter::new(MotionConfig::default());
        let (_, shakes) = run(&mut f, 0.0, 10.0, rate, jitter, |t| {
            let tr = tremor * (TAU * tremor_hz * t).sin();
            let st = step * (TAU * step_hz * t).sin();
            [tr as f32, (f64::from(G) * 0.7 + st) as f32, (f64::from(G) * 0.7 + tr * 0.5) as f32]
        });
        prop_assert!(shakes.is_empty(), "{:?}", shakes);
    }
}

#[test]
fn bad_samples_are_refused_and_leave_the_state() {
    let mut f = MotionFilter::new(MotionConfig::default());
    f.push(Sample {
        t: 1.0,
        accel: [0.0, 0.0, G],
    })
    .unwrap();
    let before = f.gravity();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(
            f.push(Sample {
                t: 1.01,
                accel: [bad, 0.0, G]
            }),
            Err(MotionError::NonFinite)
        );
    }
    assert_eq!(
        f.push(Sample {
            t: f64::NAN,
            accel: [0.0; 3]
        }),
        Err(MotionError::NonFinite)
    );
    assert_eq!(
        f.push(Sample {
            t: 1.0,
            accel: [0.0, 0.0, G]
        }),
        Err(MotionError::TimeNotAdvancing {
            previous: 1.0,
            t: 1.0
        })
    );
    assert_eq!(f.gravity(), before);
    assert!(
        f.push(Sample {
            t: 1.02,
            accel: [0.0, 0.0, G]
        })
        .is_ok()
    );
}

#[test]
fn a_gap_restarts_the_filters() {
    let mut f = MotionFilter::new(MotionConfig::default());
    f.push(Sample {
        t: 0.0,
        accel: [0.0, 0.0, G],
    })
    .unwrap();
    // After a 2 s gap the new reading is taken as gravity at once, and the jump is no shake.
    let u = f
        .push(Sample {
            t: 2.0,
            accel: [G, 0.0, 0.0],
        })
        .unwrap();
    assert_eq!(f.gravity(), [G, 0.0, 0.0]);
    assert!(u.shake_started.is_none() && !u.shaking);
}

#[test]
fn motion_csv_parses_and_names_bad_lines() {
    use holoid_core::motion::parse_csv;
    let ok = parse_csv("t,ax,ay,az\n0.0,0,6.9,6.9\n# comment\n\n0.01, 0.1, 6.9, 6.9\n").unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[1].accel, [0.1, 6.9, 6.9]);
    for (text, line, words) in [
        ("0,1,2\n", 1, "3 fields"),
        ("0,1,2,x\n", 1, "not a number"),
        ("0,1,2,3\n0,1,2,3\n", 2, "not after"),
        ("0,NaN,2,3\n", 1, "NaN"),
        ("", 0, "no samples"),
    ] {
        let e = parse_csv(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}");
        assert!(e.to_string().contains(words), "{text:?}: {e}");
    }
}
