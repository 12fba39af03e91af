#!/usr/bin/env bash
# The detector in the browser's WebAssembly (issue #22): builds holoid-wasm (the detector's
# secret-free part with its JavaScript API) for wasm32-unknown-unknown and runs its tests in
# node with wasm-bindgen-test-runner — the same tests `cargo test` runs natively — then writes
# the package the console's reader worker loads (`wasm-bindgen --target web`) to
# target/wasm/pkg: `holoid serve --console-wasm target/wasm/pkg` serves it, and the console's
# browser tests use it.
#
# rustup cannot add that target on these machines, so this uses Debian's rustc-web and
# cargo-web (Rust 1.96), builds std from rust-web-src's source (-Zbuild-std, allowed on a
# stable compiler by RUSTC_BOOTSTRAP) and links with LLVM's wasm-ld (lld-22); all are in
# scripts/system-packages.txt. The native build stays on the usual toolchain; this one has its
# own target directory. Installs wasm-bindgen-cli at the version holoid-wasm pins when it is
# missing (not --locked: the registry mirror here lacks a pinned dependency of its lock file).
set -euo pipefail
cd "$(dirname "$0")/.."
bindgen=0.2.130
for tool in /usr/bin/rustc /usr/bin/cargo /usr/bin/wasm-ld-22 node; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/setup.sh" >&2; exit 1; }
done
grep -q "wasm-bindgen = \"=$bindgen\"" crates/holoid-wasm/Cargo.toml ||
  { echo "crates/holoid-wasm pins another wasm-bindgen than $bindgen: change both" >&2; exit 1; }
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null || true)" != "wasm-bindgen-test-runner $bindgen" ]; then
  cargo install wasm-bindgen-cli --version "$bindgen" --force
fi
export RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/bin/wasm-ld-22
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
target_dir=${CARGO_TARGET_DIR:-target}/wasm
/usr/bin/cargo test --locked --release -p holoid-wasm --lib --tests \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort --target-dir "$target_dir"
/usr/bin/cargo build --locked --release -p holoid-wasm --lib \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort --target-dir "$target_dir"
# Written beside and then moved, so a failed run never leaves a half-written package.
rm -rf "$target_dir/pkg.new"
wasm-bindgen --target web --no-typescript --out-dir "$target_dir/pkg.new" \
  "$target_dir/wasm32-unknown-unknown/release/holoid_wasm.wasm"
rm -rf "$target_dir/pkg"
mv "$target_dir/pkg.new" "$target_dir/pkg"
printf 'the console reader package: %s (%s bytes of WebAssembly)\n' "$target_dir/pkg" \
  "$(stat -c %s "$target_dir/pkg/holoid_wasm_bg.wasm")"
printf 'the detector in WebAssembly: tests passed in node %s (%s)\n' "$(node --version)" "$(/usr/bin/rustc --version)"
