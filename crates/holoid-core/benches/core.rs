//! Benchmarks of the pure core: window seed, pattern, code and motion filter.
//!
//! `cargo bench --bench core` measures each, then prints a table with its target and its
//! ratio to a floor measured in the same run (one HMAC-SHA256 of 24 bytes), because the
//! machines are shared and noisy: the ratio moves less than the absolute time.
//! A short mode for CI: `cargo bench --bench core -- --warm-up-time 0.3 --measurement-time 1`.

use std::hint::black_box;

use holoid_testkit::estimates;

use criterion::Criterion;
use estimates::{criterion_dir, mean_ns};
use holoid_core::code::{Codeword, Locator, Payload, decode};
use holoid_core::keys::MasterKey;
use holoid_core::mac::hmac_sha256;
use holoid_core::motion::{MotionConfig, MotionFilter, Sample};
use holoid_core::pattern::Pattern;
use holoid_core::timekey::{Window, WindowPeriod, WindowSeed};

/// (benchmark id, what it measures, target in nanoseconds if the issue sets one).
const BENCHES: [(&str, &str, Option<f64>); 7] = [
    (
        "floor_hmac_sha256",
        "one HMAC-SHA256 of 24 bytes (the floor)",
        None,
    ),
    ("window_seed", "seed_w = HMAC(K_dev, label ‖ w)", None),
    ("pattern_derive", "pattern from seed_w", None),
    (
        "seed_and_pattern",
        "seed_w + pattern (per window change)",
        Some(5_000.0),
    ),
    ("code_encode", "payload tag + Reed-Solomon encode", None),
    (
        "code_decode_10_errors",
        "decode with 10 wrong bytes + 10 erased",
        None,
    ),
    ("motion_push", "motion filter, one sample", Some(1_000.0)),
];

fn benches(c: &mut Criterion) {
    let k_dev = MasterKey::from_bytes([7; 32]).device_key("KR-RRC-00000001");
    let w = Window(359_120_758);
    c.bench_function(BENCHES[0].0, |b| {
        b.iter(|| {
            hmac_sha256(
                black_box(&[1u8; 32]),
                &[black_box(b"holoid/v1/window\0\0\0\0\0\0\0\x01")],
            )
        })
    });
    c.bench_function(BENCHES[1].0, |b| {
        b.iter(|| WindowSeed::derive(black_box(&k_dev), black_box(w)))
    });
    let seed = WindowSeed::derive(&k_dev, w);
    c.bench_function(BENCHES[2].0, |b| {
        b.iter(|| Pattern::derive(black_box(&seed), black_box(w)))
    });
    c.bench_function(BENCHES[3].0, |b| {
        b.iter(|| Pattern::for_window(black_box(&k_dev), black_box(w)))
    });
    let locator = Locator::of("KR-RRC-00000001");
    let period = WindowPeriod::default();
    c.bench_function(BENCHES[4].0, |b| {
        b.iter(|| Codeword::encode(&Payload::issue(black_box(&k_dev), locator, period, black_box(w))))
    });
    let mut reading: Vec<Option<bool>> = Codeword::encode(&Payload::issue(&k_dev, locator, period, w))
        .modules()
        .map(Some)
        .to_vec();
    for byte in 0..10 {
        let m = &mut reading[byte * 48 + 3];
        *m = m.map(|v| !v);
        reading[byte * 48 + 24] = None;
    }
    c.bench_function(BENCHES[5].0, |b| {
        b.iter(|| decode(black_box(&reading)).expect("decodable"))
    });
    let mut filter = MotionFilter::new(MotionConfig::default());
    let mut t = 0.0f64;
    c.bench_function(BENCHES[6].0, |b| {
        b.iter(|| {
            t += 0.01;
            let wobble = (t * 31.0).sin() as f32;
            filter
                .push(black_box(Sample {
                    t,
                    accel: [wobble, 6.9, 6.9],
                }))
                .expect("valid sample")
        })
    });
}

fn print_table() {
    let Some(floor) = mean_ns(BENCHES[0].0) else {
        println!(
            "(no estimates found under {}: table skipped)",
            criterion_dir().display()
        );
        return;
    };
    let mut table =
        String::from("| benchmark | what | mean | × floor | target | met |\n|---|---|---:|---:|---:|---|\n");
    for (id, what, target) in BENCHES {
        let Some(mean) = mean_ns(id) else { continue };
        let (target_s, met) = match target {
            Some(t) => (
                format!("≤ {:.1} µs", t / 1000.0),
                if mean <= t { "yes" } else { "NO" },
            ),
            None => ("".to_string(), ""),
        };
        table.push_str(&format!(
            "| {id} | {what} | {:.3} µs | {:.2} | {target_s} | {met} |\n",
            mean / 1000.0,
            mean / floor
        ));
    }
    println!("\n{table}");
    let out = criterion_dir().join("holoid-core-table.md");
    if let Err(e) = std::fs::write(&out, &table) {
        println!("(could not write {}: {e})", out.display());
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    print_table();
}
