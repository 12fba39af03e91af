//! A demo identity's engine made through the C ABI, as a wallet app makes one, for the
//! embedding benchmark and test.

use holoid::{HoloidEngine, HoloidStatus, holoid_engine_new, holoid_options_default};
use holoid_core::demo::DemoIdentity;

/// The engine of demo identity `seed`, offscreen at `width` × `height`, with or without the
/// temporal modulation. Panics on failure (this is test support).
pub fn demo_engine(seed: u64, (width, height): (u32, u32), modulation: bool) -> *mut HoloidEngine {
    let demo = DemoIdentity::generate(seed);
    let c = &demo.credential.credential;
    let json = demo.credential.to_json();
    let key = *demo.master.device_key_for(c).as_bytes();
    let mut options = holoid_options_default();
    (options.width, options.height) = (width, height);
    options.modulation = u32::from(modulation);
    let mut engine = std::ptr::null_mut();
    // SAFETY: every pointer is to live memory of the stated length.
    let status = unsafe {
        holoid_engine_new(
            json.as_ptr(),
            json.len(),
            demo.portrait_png.as_ptr(),
            demo.portrait_png.len(),
            key.as_ptr(),
            key.len(),
            &options,
            &mut engine,
        )
    };
    assert_eq!(status, HoloidStatus::Ok, "holoid_engine_new");
    engine
}
