//! Bytes → photo → verdict: whatever a client uploads, the detector must answer with a
//! verdict or a clear error, never a panic, a hang or an allocation beyond the pixel limit.
//!
//! ```text
//! cargo +nightly fuzz run photo_to_verdict -- -max_total_time=300 -rss_limit_mb=2048
//! ```

#![no_main]

use std::sync::OnceLock;

use holoid_core::demo::DemoIdentity;
use holoid_detect::input::decode_photo;
use holoid_detect::{Capture, Detector, Trust};
use holoid_core::time::UnixMillis;
use libfuzzer_sys::fuzz_target;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        let demo = DemoIdentity::generate(1);
        let trust = Trust::from_master(&demo.credential.credential, &demo.master, &demo.portrait_png)
            .expect("the demo identity is consistent");
        Detector::builder(trust).build().expect("default configuration")
    })
}

fuzz_target!(|data: &[u8]| {
    // 4 MP keeps each run fast; the limit logic is the same at 50 MP.
    if let Ok(photo) = decode_photo(data, 4_000_000) {
        let capture = Capture {
            image: &photo,
            time: UnixMillis(1_795_603_792_250),
        };
        let verdict = detector().check(&[capture]).expect("one capture in order");
        assert!((0.0..=1.0).contains(&verdict.score));
    }
});
