//! For working on the code reader: reads each frame of a `holoid simulate` dataset's bona
//! fide captures and compares the modules read with the ones drawn (known from the master key
//! and the time each frame was drawn), so a reader change shows as module errors and
//! erasures, not only as decoded or not.
//!
//! ```text
//! cargo run --release --example code_probe -- /tmp/dataset [level]
//! ```

use holoid_core::code::{Codeword, Locator, Payload};
use holoid_core::credential::SignedCredential;
use holoid_core::keys::MasterKey;
use holoid_core::time::UnixMillis;
use holoid_core::timekey::WindowPeriod;
use holoid_detect::locate;
use holoid_detect::read_modules;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("dataset directory"));
    let level = args.next().unwrap_or_else(|| "hard".into());
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).expect("read");
    let signed = SignedCredential::from_json(&read("identity/credential.json")).expect("credential");
    let master = MasterKey::from_text(&read("identity/master.key")).expect("master key");
    let id = &signed.credential.id;
    let key = master.device_key_for(&signed.credential);
    let period = WindowPeriod::default();
    let (mut frames, mut decoded, mut located) = (0, 0, 0);
    let mut hist = [0u32; 8];
    for line in read("manifest.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        if v["species"] != "bona_fide" || v["level"] != level.as_str() {
            continue;
        }
        for (i, f) in v["frames"].as_array().expect("frames").iter().enumerate() {
            let drawn = UnixMillis(v["drawn_times_ms"][i].as_u64().expect("drawn"));
            let w = period.window_at(drawn);
            let truth = Codeword::encode(&Payload::issue(&key, Locator::of(id), period, w)).modules();
            let grey = image::open(dir.join(f["file"].as_str().expect("file")))
                .expect("image")
                .to_luma8();
            frames += 1;
            let mut timings = Default::default();
            let (loc, dec) = holoid_detect::find_code(&grey, &mut timings);
            let ok = dec.is_ok();
            decoded += usize::from(ok);
            let Ok(l) = loc else {
                println!("{} {i}: not located", v["id"]);
                continue;
            };
            located += 1;
            if let Ok(out) = std::env::var("HOLOID_PROBE_DRAW") {
                let mut img = grey.clone();
                for mk in l.marks {
                    let [x, y] = mk.center;
                    for d in -6i32..=6 {
                        for (dx, dy) in [(d, 0), (0, d)] {
                            let (px, py) = (x as i32 + dx, y as i32 + dy);
                            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                                img.put_pixel(px as u32, py as u32, image::Luma([255]));
                            }
                        }
                    }
                }
                let name = format!(
                    "{out}/{}-{i}.png",
                    v["id"].as_str().unwrap_or("x").replace('/', "_")
                );
                img.save(name).expect("save");
            }
            let m = read_modules(&grey, &l.to_image);
            let wrong = m.iter().zip(truth).filter(|(r, t)| **r == Some(!*t)).count();
            let erased = m.iter().filter(|r| r.is_none()).count();
            let bucket = (wrong / 10).min(7);
            hist[bucket] += 1;
            if !ok || std::env::var("HOLOID_PROBE_ALL").is_ok() {
                println!(
                    "{} {i}: decoded {ok}, {wrong} modules wrong, {erased} erased (of {})",
                    v["id"],
                    m.len()
                );
            }
        }
    }
    let _ = locate::half;
    println!(
        "{frames} frames, {located} located, {decoded} decoded; wrong-module histogram (tens): {hist:?}"
    );
}
