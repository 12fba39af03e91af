//! Criterion's results read back for the benchmarks' own tables (ratios to a floor or a peer
//! measured in the same run).

use std::path::PathBuf;

/// Where criterion writes its estimates: the workspace's `target/criterion` (criterion asks
/// `cargo metadata`, or reads `CARGO_TARGET_DIR`).
pub fn criterion_dir() -> PathBuf {
    crate::gpu::target_dir().join("criterion")
}

/// Mean time in nanoseconds of a finished benchmark, from criterion's estimates file.
pub fn mean_ns(id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(criterion_dir().join(id).join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// The same in milliseconds.
pub fn mean_ms(id: &str) -> Option<f64> {
    mean_ns(id).map(|ns| ns / 1e6)
}
