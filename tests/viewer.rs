//! `holoid view` opens a real window and draws into it: run under Xvfb (lavapipe) for 2 s.
//! Needs `xvfb-run` (Debian package xvfb) and a GPU adapter; fails loudly without them
//! unless HOLOID_SKIP_GPU_TESTS=1.

use std::process::Command;

#[test]
fn the_viewer_runs_under_xvfb() {
    if holoid_testkit::gpu::skip_gpu("the viewer test") {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer");
    let _ = std::fs::remove_dir_all(&dir);
    let bin = env!("CARGO_BIN_EXE_holoid");
    let made = Command::new(bin)
        .args(["demo-credential", "--seed", "3", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(made.status.success());
    let run = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 800x1200x24",
            bin,
            "view",
            "--exit-after",
            "2",
            "--credential",
        ])
        .arg(dir.join("credential.json"))
        .arg("--device-key")
        .arg(dir.join("device.key"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run xvfb-run ({e}): apt-get install xvfb xauth"));
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "viewer failed: {}{}",
        out,
        String::from_utf8_lossy(&run.stderr)
    );
    let frames: u64 = out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame count in `{out}`"));
    assert!(frames >= 5, "only {frames} frames in 2 s");
}
