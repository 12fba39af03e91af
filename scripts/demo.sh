#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: set up, build, write a demo identity, verify
# it, and show the time key a card displays now. Output goes to ${1:-/tmp/holoid-demo}.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/holoid-demo}"
bash scripts/setup.sh
cargo build --release --locked
bin=target/release/holoid
"$bin" demo-credential --out "$out" --seed 1 --force
"$bin" verify-credential --credential "$out/credential.json" --issuer-pub "$out/issuer.pub"
"$bin" window --credential "$out/credential.json" --master-key "$out/master.key"
