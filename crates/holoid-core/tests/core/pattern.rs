use holoid_core::keys::MasterKey;
use holoid_core::pattern::{Pattern, hue_distance};
use holoid_core::timekey::Window;
use proptest::prelude::*;
use std::f32::consts::TAU;

fn pattern(key: [u8; 32], w: u64) -> Pattern {
    Pattern::for_window(&MasterKey::from_bytes(key).device_key("KR-1", 1), Window(w))
}

proptest! {
    #[test]
    fn neighbouring_windows_differ_clearly(key in any::<[u8; 32]>(), w in 0u64..u64::MAX / 2) {
        let (a, b) = (pattern(key, w), pattern(key, w + 1));
        prop_assert!(hue_distance(a.palette.base_hue, b.palette.base_hue) >= 60.0 - 1e-3);
        prop_assert_ne!(a.rosette.petals, b.rosette.petals);
    }

    #[test]
    fn parameters_stay_in_their_documented_ranges(key in any::<[u8; 32]>(), w in any::<u64>()) {
        let p = pattern(key, w);
        prop_assert_eq!(p, pattern(key, w));
        prop_assert!((8..=23).contains(&p.rosette.petals) && p.rosette.petals % 2 == (w % 2) as u32);
        prop_assert!((3..=9).contains(&p.rosette.inner_petals));
        prop_assert!((16..=28).contains(&p.rosette.rings));
        prop_assert!((0.10..0.22).contains(&p.rosette.amplitude));
        prop_assert!((5.0..9.0).contains(&p.guilloche.line_period));
        prop_assert!((10.0..30.0).contains(&p.guilloche.wave_amplitude));
        prop_assert!((2.0..7.0).contains(&p.guilloche.wave_cycles));
        prop_assert!((0.0..TAU / 2.0).contains(&p.guilloche.angle));
        let sector = (w % 3) as f32 * 120.0;
        prop_assert!((sector..sector + 60.0).contains(&p.palette.base_hue));
        prop_assert!(hue_distance(p.palette.accent_hue, p.palette.base_hue) >= 150.0 - 1e-3);
        prop_assert!((0.05..0.25).contains(&p.animation.speed));
        prop_assert!(p.animation.direction == 1.0 || p.animation.direction == -1.0);
        prop_assert!((300.0..430.0).contains(&p.foil.film_nm));
        prop_assert!((hue_distance(p.burst.hue_a, p.burst.hue_b) - 180.0).abs() < 1e-3);
        prop_assert!((2..=4).contains(&p.burst.rings));
        prop_assert!(p.sweep.direction == 1.0 || p.sweep.direction == -1.0);
    }

    #[test]
    fn sweep_phase_is_recoverable_from_its_angle(key in any::<[u8; 32]>(), w in any::<u64>(), phase in 0.0f32..0.999) {
        let s = pattern(key, w).sweep;
        let back = s.phase_of(s.angle_at(phase));
        prop_assert!((back - phase).abs() < 1e-4, "{} -> {}", phase, back);
    }
}

#[test]
fn other_keys_give_other_patterns() {
    assert_ne!(pattern([1; 32], 10).rosette, pattern([2; 32], 10).rosette);
}
