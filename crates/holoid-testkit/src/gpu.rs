//! The GPU guard and scratch folders. A GPU test fails loudly without an adapter; it skips only
//! when `HOLOID_SKIP_GPU_TESTS=1` says so, and then says so on standard error.

use std::path::PathBuf;

/// The variable that lets GPU tests skip on purpose.
pub const SKIP_GPU_VAR: &str = "HOLOID_SKIP_GPU_TESTS";

/// Whether the GPU tests are told to skip (`HOLOID_SKIP_GPU_TESTS=1`); when they are, says on
/// standard error that `what` is skipped.
pub fn skip_gpu(what: &str) -> bool {
    let skipping = std::env::var(SKIP_GPU_VAR).as_deref() == Ok("1");
    if skipping {
        eprintln!("{SKIP_GPU_VAR}=1: SKIPPING {what} (it needs a GPU adapter)");
    }
    skipping
}

/// The panic message of a test that found no GPU adapter.
pub fn no_adapter(e: &dyn std::fmt::Display) -> String {
    format!("{e}\n(set {SKIP_GPU_VAR}=1 to skip the GPU tests on purpose)")
}

/// The target directory (`target/`, or `CARGO_TARGET_DIR`), found from the running test or
/// benchmark binary, which lies in `target/<profile>/deps/`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary lies in target/<profile>/deps")
        .to_path_buf()
}

/// The target directory's `tmp` folder (what Cargo calls `CARGO_TARGET_TMPDIR` for
/// integration tests).
pub fn target_tmp() -> PathBuf {
    target_dir().join("tmp")
}

/// An empty scratch folder `name` under [`target_tmp`] (emptied if it was there).
pub fn scratch(name: &str) -> PathBuf {
    let dir = target_tmp().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}
