use holoid_core::code::{Locator, Payload, TagCheck};
use holoid_core::keys::MasterKey;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::{AcceptPolicy, Window, WindowPeriod};
use proptest::prelude::*;

proptest! {
    #[test]
    fn window_boundaries(secs in 1u64..=30, k in 1u64..3_000_000_000) {
        let p = WindowPeriod::from_secs(secs).unwrap();
        let boundary = UnixMillis(k * secs * 1000);
        prop_assert_eq!(p.window_at(UnixMillis(boundary.0 - 1)), Window(k - 1));
        prop_assert_eq!(p.window_at(boundary), Window(k));
        prop_assert_eq!(p.start_of(Window(k)), boundary);
        prop_assert_eq!(p.phase_at(boundary), 0.0);
        let before = p.phase_at(UnixMillis(boundary.0 - 1));
        prop_assert!(before > 0.99 && before < 1.0, "phase just before a boundary: {}", before);
    }

    #[test]
    fn accepts_exactly_the_neighbouring_windows(
        key in any::<[u8; 32]>(),
        verifier_ms in 1_000_000_000_000u64..4_000_000_000_000,
        offset in -5i64..=5,
        secs in 1u64..=30,
    ) {
        let period = WindowPeriod::from_secs(secs).unwrap();
        let k_dev = MasterKey::from_bytes(key).device_key("KR-1", 1);
        let now = UnixMillis(verifier_ms);
        let own = period.window_at(now);
        let card = Window(own.0.checked_add_signed(offset).unwrap());
        let payload = Payload::issue(&k_dev, Locator::of("KR-1"), period, card);
        let check = payload.check(&k_dev, now, AcceptPolicy::default().accepted(period, now));
        match offset {
            -1..=1 => prop_assert_eq!(check, TagCheck::Fresh { window: card, offset }),
            o if o < -1 => prop_assert_eq!(check, TagCheck::Stale { window: card, drawn_at: period.start_of(card) }),
            _ => prop_assert_eq!(check, TagCheck::Ahead { window: card }),
        }
        let other = MasterKey::from_bytes(key).device_key("KR-2", 1);
        prop_assert_eq!(payload.check(&other, now, AcceptPolicy::default().accepted(period, now)), TagCheck::Invalid);
    }

    #[test]
    fn any_changed_payload_byte_fails_the_tag(byte in 0usize..20, flip in 1u8..=255) {
        let period = WindowPeriod::default();
        let k_dev = MasterKey::from_bytes([3; 32]).device_key("KR-1", 1);
        let now = UnixMillis(1_764_067_792_000);
        let payload = Payload::issue(&k_dev, Locator::of("KR-1"), period, period.window_at(now));
        let mut bytes = payload.to_bytes();
        bytes[byte] ^= flip;
        if let Ok(changed) = Payload::from_bytes(&bytes) {
            let accepted = AcceptPolicy::default().accepted(changed.period, now);
            prop_assert_eq!(changed.check(&k_dev, now, accepted), TagCheck::Invalid);
        }
    }
}

#[test]
fn policy_can_be_widened() {
    let p = WindowPeriod::default();
    let now = UnixMillis(1_000_000);
    let r = AcceptPolicy { before: 3, after: 0 }.accepted(p, now);
    assert_eq!((r.start().0, r.end().0), (197, 200));
}
