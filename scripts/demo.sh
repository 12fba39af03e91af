#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: installs the system packages, builds, and runs
# `holoid demo`, which issues a demo identity, draws the card on the GPU, photographs it as a
# verifier's camera would (the live card and every attack), checks each photo, runs a small
# ISO/IEC 30107-3 evaluation, and writes a self-contained report. Output goes to
# ${1:-holoid-demo}; the last line printed is the report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-holoid-demo}"
bash scripts/setup.sh
cargo build --release --locked
exec target/release/holoid demo --out "$out"
