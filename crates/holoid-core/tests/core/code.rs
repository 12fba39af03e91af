use holoid_core::code::geometry::MODULE_COUNT;
use holoid_core::code::{CodeError, Codeword, Locator, Payload, TagCheck, decode, decode_levels};
use holoid_core::keys::MasterKey;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::{AcceptPolicy, WindowPeriod};
use proptest::prelude::*;
use proptest::sample::subsequence;

const NOW: UnixMillis = UnixMillis(1_764_067_792_000);

fn issue(key: [u8; 32], id: &str) -> Payload {
    let period = WindowPeriod::default();
    Payload::issue(
        &MasterKey::from_bytes(key).device_key(id, 1),
        Locator::of(id),
        period,
        period.window_at(NOW),
    )
}

fn reading(cw: &Codeword) -> Vec<Option<bool>> {
    cw.modules().iter().map(|&m| Some(m)).collect()
}

/// Corrupts whole bytes: `wrong` bytes get a nonzero XOR on their modules, `erased` bytes
/// get one or more modules marked unreadable.
fn damage(read: &mut [Option<bool>], wrong: &[usize], erased: &[usize], flips: &[u8]) {
    for (i, &b) in wrong.iter().enumerate() {
        let mask = flips[i % flips.len()].max(1);
        for bit in 0..8 {
            if mask >> (7 - bit) & 1 == 1 {
                let m = &mut read[b * 8 + bit];
                *m = m.map(|v| !v);
            }
        }
    }
    for (i, &b) in erased.iter().enumerate() {
        let first = usize::from(flips[i % flips.len()]) % 8;
        for m in &mut read[b * 8 + first..b * 8 + 8] {
            *m = None;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn round_trip_up_to_designed_capacity(
        key in any::<[u8; 32]>(),
        bytes in subsequence((0..60).collect::<Vec<usize>>(), 0..=40),
        wrong_share in 0.0f64..=1.0,
        flips in proptest::collection::vec(1u8..=255, 1..8),
    ) {
        let payload = issue(key, "KR-RRC-12345678");
        let cw = Codeword::encode(&payload);
        // Split the damaged bytes into wrong and erased with 2·wrong + erased ≤ 40.
        let mut wrong_n = ((bytes.len() as f64) * wrong_share) as usize;
        while 2 * wrong_n + (bytes.len() - wrong_n) > 40 {
            wrong_n -= 1;
        }
        let (wrong, erased) = bytes.split_at(wrong_n);
        let mut read = reading(&cw);
        damage(&mut read, wrong, erased, &flips);
        let decoded = decode(&read).expect("within the designed capacity");
        prop_assert_eq!(&decoded.payload, &payload);
        prop_assert_eq!(decoded.erased_bytes, erased.len());
        prop_assert!(decoded.corrected_bytes >= wrong.len());
    }

    #[test]
    fn beyond_capacity_never_accepts_a_wrong_payload(
        key in any::<[u8; 32]>(),
        bytes in subsequence((0..60).collect::<Vec<usize>>(), 21..=60),
        flips in proptest::collection::vec(1u8..=255, 1..8),
    ) {
        let id = "KR-RRC-12345678";
        let payload = issue(key, id);
        let mut read = reading(&Codeword::encode(&payload));
        damage(&mut read, &bytes, &[], &flips);
        match decode(&read) {
            Err(CodeError::Unreadable { .. }) | Err(CodeError::UnsupportedVersion(_)) | Err(CodeError::BadPeriod(_)) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
            Ok(d) => {
                prop_assert_ne!(&d.payload, &payload);
                let k_dev = MasterKey::from_bytes(key).device_key(id, 1);
                let accepted = AcceptPolicy::default().accepted(d.payload.period, NOW);
                prop_assert_eq!(d.payload.check(&k_dev, NOW, accepted), TagCheck::Invalid);
            }
        }
    }

    #[test]
    fn random_readings_are_refused(bits in proptest::collection::vec(any::<bool>(), MODULE_COUNT)) {
        let read: Vec<Option<bool>> = bits.into_iter().map(Some).collect();
        prop_assert!(decode(&read).is_err(), "random modules decoded as a code");
    }

    /// A blurred reading: every module on the right side of the threshold but a third of
    /// them, spread over nearly every byte, too close to it to be sure, and some bytes read
    /// wrong with confidence. Erasing every unsure module erases more bytes than the code has
    /// check bytes; deciding them by their sign and erasing only the least sure bytes reads it.
    #[test]
    fn soft_levels_decode_where_erasing_every_unsure_module_cannot(
        key in any::<[u8; 32]>(),
        faint in proptest::collection::vec(0.0f32..0.15, MODULE_COUNT),
        wrong in subsequence((0..60).collect::<Vec<usize>>(), 0..=6),
        seed in any::<u64>(),
    ) {
        let payload = issue(key, "KR-RRC-12345678");
        let cw = Codeword::encode(&payload);
        let mut levels: Vec<Option<f32>> = cw
            .modules()
            .iter()
            .enumerate()
            .map(|(i, &dark)| {
                // Every third module (and so two or three of every byte) faint.
                let size = if (i as u64 + seed % 3).is_multiple_of(3) { 0.02 + faint[i] } else { 0.5 + faint[i] };
                Some(if dark { size } else { -size })
            })
            .collect();
        for &b in &wrong {
            let m = &mut levels[b * 8 + (seed as usize % 8)];
            *m = m.map(|v| -v.signum() * 0.02);
        }
        let hard: Vec<Option<bool>> = levels
            .iter()
            .map(|l| l.filter(|l| l.abs() >= 1.0 / 6.0).map(|l| l > 0.0))
            .collect();
        prop_assert!(decode(&hard).is_err(), "the hard reading alone decodes: not a test of soft decoding");
        let decoded = decode_levels(&levels, 1.0 / 6.0).expect("soft decoding");
        prop_assert_eq!(&decoded.payload, &payload);
    }
}

proptest! {
    // A fixed sample of 300 random readings (see `random_readings_never_decode` for the
    // odds: with a fresh seed this failed about one run in ten while the decoder could erase
    // all 40 check bytes).
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20_261_127),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_levels_are_refused(levels in proptest::collection::vec(-1.0f32..1.0, MODULE_COUNT)) {
        let read: Vec<Option<f32>> = levels.into_iter().map(Some).collect();
        prop_assert!(decode_levels(&read, 1.0 / 6.0).is_err(), "random levels decoded as a code");
    }
}

/// Twenty thousand random soft readings (a wrong quadrilateral read as a code, a photo of
/// anything else): none decodes. While generalised minimum-distance decoding could erase all
/// 40 check bytes, any reading "corrected" to some codeword and about one in 2 000 parsed
/// (version and period bytes right by chance): about ten of these did, and each would have
/// read as a card of another credential.
#[test]
fn random_readings_never_decode() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let decoded = (0..20_000)
        .filter(|_| {
            let read: Vec<Option<f32>> = (0..MODULE_COUNT).map(|_| Some(next())).collect();
            decode_levels(&read, 1.0 / 6.0).is_ok()
        })
        .count();
    assert_eq!(decoded, 0, "random readings decoded");
}

#[test]
fn soft_levels_of_the_wrong_length_or_unseen_are_errors() {
    assert_eq!(
        decode_levels(&[Some(0.5); 10], 1.0 / 6.0),
        Err(CodeError::WrongModuleCount { found: 10 })
    );
    assert_eq!(
        decode_levels(&vec![None; MODULE_COUNT], 1.0 / 6.0),
        Err(CodeError::Unreadable { erased_bytes: 60 })
    );
}

#[test]
fn wrong_reading_length_is_an_error() {
    assert_eq!(
        decode(&[Some(true); 10]),
        Err(CodeError::WrongModuleCount { found: 10 })
    );
    let all_erased = vec![None; MODULE_COUNT];
    assert_eq!(
        decode(&all_erased),
        Err(CodeError::Unreadable { erased_bytes: 60 })
    );
}

#[test]
fn codeword_is_balanced() {
    // Whitening keeps the share of dark modules near one half for any payload.
    for seed in 0..50u8 {
        let cw = Codeword::encode(&issue([seed; 32], "KR-RRC-1"));
        let dark = cw.modules().iter().filter(|&&m| m).count();
        assert!(
            (170..=310).contains(&dark),
            "{dark} dark modules of {MODULE_COUNT}"
        );
    }
}
