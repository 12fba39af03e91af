//! Time windows and their keyed seeds.
//!
//! `w = floor(t / period)`; `seed_w = HMAC-SHA256(K_dev, "holoid/v1/window" || w)` with `w`
//! as 8 bytes big-endian. Everything on the card that changes per window is derived from
//! `seed_w` ([`crate::pattern`], [`crate::code`]). Time inside the window (the sweep phase)
//! is public: it is what makes a replay inside the window visible.
//!
//! Time is always an argument here; nothing reads the clock. No GPU or I/O types.

use std::fmt;
use std::ops::RangeInclusive;

use zeroize::Zeroize;

use crate::keys::{DeviceKey, DeviceMac, KeystoreError};
use crate::mac::hmac_sha256;
use crate::time::UnixMillis;

/// Domain label of the window seed derivation.
pub const WINDOW_SEED_LABEL: &[u8] = b"holoid/v1/window";

/// Why a window setting was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeKeyError {
    /// The window period must be 1 to 30 whole seconds.
    PeriodOutOfRange(u64),
}

impl fmt::Display for TimeKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeKeyError::PeriodOutOfRange(s) => write!(
                f,
                "window period of {s} s is out of range: choose 1 to {} seconds",
                WindowPeriod::MAX_SECS
            ),
        }
    }
}

impl std::error::Error for TimeKeyError {}

/// The length of a time window, in whole seconds. By default, 5 seconds; at most 30.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowPeriod(u8);

impl Default for WindowPeriod {
    fn default() -> Self {
        WindowPeriod(Self::DEFAULT_SECS)
    }
}

impl WindowPeriod {
    /// The default period, 5 s.
    pub const DEFAULT_SECS: u8 = 5;
    /// The longest period allowed, 30 s.
    pub const MAX_SECS: u8 = 30;

    /// A period of `secs` seconds, 1..=30.
    pub fn from_secs(secs: u64) -> Result<Self, TimeKeyError> {
        match u8::try_from(secs) {
            Ok(s @ 1..=Self::MAX_SECS) => Ok(WindowPeriod(s)),
            _ => Err(TimeKeyError::PeriodOutOfRange(secs)),
        }
    }

    /// The period in seconds.
    pub fn secs(self) -> u8 {
        self.0
    }

    /// The period in milliseconds.
    pub fn millis(self) -> u64 {
        u64::from(self.0) * 1000
    }

    /// The window that contains `t`.
    pub fn window_at(self, t: UnixMillis) -> Window {
        Window(t.0 / self.millis())
    }

    /// The first millisecond of window `w`.
    pub fn start_of(self, w: Window) -> UnixMillis {
        UnixMillis(w.0.saturating_mul(self.millis()))
    }

    /// Milliseconds elapsed since the start of the window that contains `t`.
    pub fn millis_into_window(self, t: UnixMillis) -> u64 {
        t.0 % self.millis()
    }

    /// Time inside the window as a fraction in `[0, 1)`: the phase of the time sweep.
    pub fn phase_at(self, t: UnixMillis) -> f32 {
        (self.millis_into_window(t) as f64 / self.millis() as f64) as f32
    }

    /// The time that a sweep `phase` in window `w` stands for (the inverse of
    /// [`phase_at`](Self::phase_at), to the millisecond).
    pub fn time_of_phase(self, w: Window, phase: f32) -> UnixMillis {
        let p = f64::from(phase.clamp(0.0, 1.0));
        UnixMillis(self.start_of(w).0 + (p * self.millis() as f64).round() as u64)
    }
}

/// A window number `w = floor(t / period)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window(pub u64);

impl Window {
    /// The low 32 bits, as carried by the machine-readable code.
    pub fn low32(self) -> u32 {
        self.0 as u32
    }

    /// The window whose low 32 bits are `low` and which lies nearest to `near` (the
    /// verifier's own window). Inverse of [`low32`](Self::low32) within ±2^31 windows.
    pub fn from_low32_near(low: u32, near: Window) -> Window {
        let delta = low.wrapping_sub(near.low32()) as i32;
        Window(near.0.saturating_add_signed(i64::from(delta)))
    }
}

/// Which windows a verifier accepts around its own: by default one before and one after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptPolicy {
    /// Windows accepted before the verifier's own. By default, 1.
    pub before: u8,
    /// Windows accepted after the verifier's own (a phone clock running ahead). By default, 1.
    pub after: u8,
}

impl Default for AcceptPolicy {
    fn default() -> Self {
        AcceptPolicy { before: 1, after: 1 }
    }
}

impl AcceptPolicy {
    /// The windows accepted at verifier time `t`.
    pub fn accepted(self, period: WindowPeriod, t: UnixMillis) -> RangeInclusive<Window> {
        let w = period.window_at(t).0;
        Window(w.saturating_sub(u64::from(self.before)))..=Window(w + u64::from(self.after))
    }
}

/// `seed_w`, the per-window secret every visual parameter is derived from. Zeroed on drop.
#[derive(Clone)]
pub struct WindowSeed([u8; 32]);

impl WindowSeed {
    /// `HMAC-SHA256(K_dev, "holoid/v1/window" || w as u64 big-endian)`.
    pub fn derive(device_key: &DeviceKey, w: Window) -> Self {
        WindowSeed(hmac_sha256(
            device_key.as_bytes(),
            &[WINDOW_SEED_LABEL, &w.0.to_be_bytes()],
        ))
    }

    /// The same seed, computed by whatever holds the device key (a keystore, or the key).
    pub fn derive_with(mac: &dyn DeviceMac, w: Window) -> Result<Self, KeystoreError> {
        let mut message = [0u8; WINDOW_SEED_LABEL.len() + 8];
        message[..WINDOW_SEED_LABEL.len()].copy_from_slice(WINDOW_SEED_LABEL);
        message[WINDOW_SEED_LABEL.len()..].copy_from_slice(&w.0.to_be_bytes());
        mac.device_hmac(&message).map(WindowSeed)
    }

    /// The seed bytes. Keep them out of logs.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for WindowSeed {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for WindowSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WindowSeed(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keystore that computes HMACs under a key it keeps (what a host's callback does).
    struct Keystore([u8; 32], bool);

    impl DeviceMac for Keystore {
        fn device_hmac(&self, message: &[u8]) -> Result<[u8; 32], KeystoreError> {
            if self.1 {
                Ok(crate::mac::hmac_sha256(&self.0, &[message]))
            } else {
                Err(KeystoreError("locked".into()))
            }
        }
    }

    #[test]
    fn a_keystore_derives_the_same_seed_as_the_key() {
        let key = DeviceKey::from_bytes([7; 32]);
        for w in [Window(0), Window(359_120_758), Window(u64::MAX)] {
            let by_key = WindowSeed::derive(&key, w);
            let by_store = WindowSeed::derive_with(&Keystore([7; 32], true), w).unwrap();
            let by_trait = WindowSeed::derive_with(&key, w).unwrap();
            assert_eq!(by_key.as_bytes(), by_store.as_bytes());
            assert_eq!(by_key.as_bytes(), by_trait.as_bytes());
        }
        let e = WindowSeed::derive_with(&Keystore([7; 32], false), Window(1)).unwrap_err();
        assert_eq!(e.to_string(), "the device key's keystore failed: locked");
        // The commitment check through the keystore: right key, wrong key, failing store.
        let demo = crate::demo::DemoIdentity::generate(1);
        let c = &demo.credential.credential;
        let k = demo.master.device_key_for(c);
        assert_eq!(c.check_device_mac(&Keystore(*k.as_bytes(), true)), Ok(Ok(())));
        assert!(matches!(c.check_device_mac(&Keystore([1; 32], true)), Ok(Err(_))));
        assert!(c.check_device_mac(&Keystore(*k.as_bytes(), false)).is_err());
    }

    #[test]
    fn period_bounds() {
        assert_eq!(WindowPeriod::default().secs(), 5);
        assert!(WindowPeriod::from_secs(0).is_err());
        assert!(WindowPeriod::from_secs(31).is_err());
        assert!(WindowPeriod::from_secs(256 + 5).is_err());
        assert_eq!(WindowPeriod::from_secs(30).unwrap().millis(), 30_000);
    }

    #[test]
    fn low32_reconstruction() {
        let near = Window(0x1_0000_0005);
        assert_eq!(Window::from_low32_near(3, near), Window(0x1_0000_0003));
        assert_eq!(Window::from_low32_near(0xffff_fffe, near), Window(0xffff_fffe));
        assert_eq!(Window::from_low32_near(9, Window(2)), Window(9));
    }

    #[test]
    fn phase_inverse() {
        let p = WindowPeriod::default();
        let t = UnixMillis(1_795_603_792_250);
        assert_eq!(p.time_of_phase(p.window_at(t), p.phase_at(t)), t);
    }
}
