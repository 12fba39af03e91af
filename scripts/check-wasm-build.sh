#!/usr/bin/env bash
# The detector (holoid-detect, with the core and the typeset words it needs) for
# wasm32-unknown-unknown, the first step of running the check where the camera is (issue #22).
# rustup cannot add that target on these machines, so this uses Debian's rustc-web and
# cargo-web (Rust 1.96, scripts/system-packages.txt) and builds std from rust-web-src's source
# (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP). The native build stays on the
# usual toolchain; this one has its own target directory. Fails if a crate in the detector's
# tree cannot build for the browser (an OS random source, threads, files).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in /usr/bin/rustc /usr/bin/cargo; do
  [ -x "$tool" ] || { echo "$tool is missing: run scripts/setup.sh (Debian's rustc-web, cargo-web, rust-web-src)" >&2; exit 1; }
done
target_dir=${CARGO_TARGET_DIR:-target}/wasm
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo build --locked --release \
  -p holoid-detect --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort \
  --target-dir "$target_dir"
lib="$target_dir/wasm32-unknown-unknown/release/libholoid_detect.rlib"
[ -s "$lib" ] || { echo "the build left no $lib" >&2; exit 1; }
printf 'detector for wasm32-unknown-unknown: %s (%s)\n' "$lib" "$(/usr/bin/rustc --version)"
