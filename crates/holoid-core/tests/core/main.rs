//! Tests of the pure core: derivation vectors, properties and bad inputs.

mod code;
mod credential;
mod layout;
mod motion;
mod pattern;
mod timekey;
mod vectors;

/// Decodes hex of any length (test data only).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length in test data: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex test data"))
        .collect()
}

/// The fixed inputs of `tests/vectors/holoid-v2.txt` (device epoch 1).
pub mod fixture {
    use holoid_core::keys::{DeviceKey, MasterKey};
    use holoid_core::timekey::Window;

    pub const CREDENTIAL_ID: &str = "KR-RRC-00000001";
    pub const WINDOW: Window = Window(352_813_558);

    pub fn master() -> MasterKey {
        MasterKey::from_bytes(std::array::from_fn(|i| i as u8))
    }

    pub fn device_key() -> DeviceKey {
        master().device_key(CREDENTIAL_ID, 1)
    }
}
