//! Runs the detector's locator on photos and says, for each, whether the card's marks were
//! found and why not; with a summary per directory. For working on the locator:
//!
//! ```text
//! cargo run --release --example locate_probe -- /tmp/dataset/bona_fide/hard/*.jpg
//! ```

use std::collections::BTreeMap;

fn main() {
    let mut per_dir: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let verbose = std::env::var("HOLOID_DEBUG_LOCATE").is_ok();
    for path in std::env::args().skip(1) {
        let grey = match image::open(&path) {
            Ok(i) => i.to_luma8(),
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let dir = std::path::Path::new(&path)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if let Ok(out) = std::env::var("HOLOID_DUMP_BINARY") {
            let r = (grey.width().min(grey.height()) / 40) as usize;
            let bin = holoid_detect::locate::binarize(&grey, r, 1.0);
            let img = image::GrayImage::from_fn(grey.width(), grey.height(), |x, y| {
                image::Luma([if bin[(y * grey.width() + x) as usize] {
                    0
                } else {
                    255
                }])
            });
            img.save(&out).expect("write the binary image");
        }
        let entry = per_dir.entry(dir).or_default();
        entry.1 += 1;
        match holoid_detect::locate::locate(&grey) {
            Ok(_) => entry.0 += 1,
            Err(e) if verbose => println!("{path}: {e:?}"),
            Err(_) => {}
        }
    }
    for (dir, (found, total)) in per_dir {
        println!("{dir}: marks found in {found}/{total}");
    }
}
