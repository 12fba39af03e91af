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
use holoid_core::keys::IssuerSecret;
use holoid_core::keys::MasterKey;
use holoid_core::mac::hmac_sha256;
use holoid_core::motion::{MotionConfig, MotionFilter, Sample};
use holoid_core::pattern::Pattern;
use holoid_core::status::{self, Status, StatusList};
use holoid_core::timekey::{Window, WindowPeriod, WindowSeed};

/// (benchmark id, what it measures, target in nanoseconds if the issue sets one).
const BENCHES: [(&str, &str, Option<f64>); 10] = [
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
    (
        "status_lookup",
        "one credential's status in a verified list",
        Some(1_000.0),
    ),
    (
        "status_list_sign_1m",
        "status list of 1 000 000 (1 % suspended): zlib 9 + sign",
        Some(1e9),
    ),
    (
        "status_list_verify_1m",
        "the same list: verify signature + inflate",
        None,
    ),
];

/// Credentials in the benchmarked status list, and how many are suspended.
const LIST_LEN: usize = 1_000_000;
const SUSPENDED: usize = LIST_LEN / 100;

/// A list of [`LIST_LEN`] with [`SUSPENDED`] suspended at random indices (fixed seed).
fn suspended_list() -> StatusList {
    let mut list = StatusList::new(LIST_LEN);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut done = 0;
    while done < SUSPENDED {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = (x % LIST_LEN as u64) as usize;
        if list.get(i) == Some(Status::Valid) {
            list.set(i, Status::Suspended);
            done += 1;
        }
    }
    list
}

fn benches(c: &mut Criterion) {
    let k_dev = MasterKey::from_bytes([7; 32]).device_key("KR-RRC-00000001", 1);
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
    let list = suspended_list();
    let key = IssuerSecret::from_bytes([5; 32]);
    let sub = status::subject(1);
    let token = status::sign(&list, &sub, 1_000, 3_600, 90_000, &key);
    let verified = status::verify(&token, &key.public(), &sub, 2_000).expect("a valid list");
    let mut i = 0u32;
    c.bench_function(BENCHES[7].0, |b| {
        b.iter(|| {
            i = (i + 7919) % LIST_LEN as u32;
            verified.status(black_box(i)).expect("in range")
        })
    });
    c.bench_function(BENCHES[8].0, |b| {
        b.iter(|| status::sign(black_box(&list), &sub, 1_000, 3_600, 90_000, &key))
    });
    c.bench_function(BENCHES[9].0, |b| {
        b.iter(|| status::verify(black_box(&token), &key.public(), &sub, 2_000).expect("valid"))
    });
}

/// The status list's sizes: (compressed entries, whole signed token), bytes.
fn status_list_sizes() -> (usize, usize) {
    let list = suspended_list();
    let token = status::sign(
        &list,
        &status::subject(1),
        1_000,
        3_600,
        90_000,
        &IssuerSecret::from_bytes([5; 32]),
    );
    let lst = list.to_lst();
    // base64url carries 3 bytes in 4 characters.
    (lst.len() * 3 / 4, token.len())
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
    let (zlib, token) = status_list_sizes();
    table.push_str(&format!(
        "\nStatus list of {LIST_LEN} credentials, {SUSPENDED} suspended at random: entries {} bytes raw, \
         **{zlib} bytes** zlib level 9 (target ≤ 20 000: {}), {token} bytes as a signed token (base64url).\n",
        LIST_LEN / 4,
        if zlib <= 20_000 { "met" } else { "NOT met" }
    ));
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
