#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: set up, build, write a demo identity, verify
# it, show the time key a card displays now, draw the card on the GPU (a PNG and an animated
# PNG with a shake), photograph it as a verifier's camera would (a small dataset of every
# species), check one photo, and run the detector over the dataset. Output goes to
# ${1:-/tmp/holoid-demo}.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/holoid-demo}"
bash scripts/setup.sh
cargo build --release --locked
bin=target/release/holoid
"$bin" demo-credential --out "$out" --seed 1 --force
"$bin" verify-credential --credential "$out/credential.json" --issuer-pub "$out/issuer.pub"
"$bin" window --credential "$out/credential.json" --master-key "$out/master.key" | sed -n 1,4p
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$bin" render --credential "$out/credential.json" --device-key "$out/device.key" --at "$now" \
  --tilt -15,10 --out "$out/card.png"
"$bin" render --credential "$out/credential.json" --device-key "$out/device.key" --at "$now" \
  --frames 30 --fps 10 --size 360x780 --shake-at "$now" --out "$out/card-animation.png"
"$bin" simulate --out "$out/captures" --count 1 --levels normal --burst 2 --force
# Check the first bona fide burst the way a verifier would: the photos and when they were taken.
line=$(grep '"species":"bona_fide"' "$out/captures/manifest.jsonl" | head -1)
times=$(echo "$line" | sed -e 's/.*"capture_times_ms":\[\([0-9,]*\)\].*/\1/')
first=${times%%,*}
rest=${times#*,}
id="$out/captures/identity"
"$bin" check --credential "$id/credential.json" --master-key "$id/master.key" \
  --at "$((first / 1000)).$(printf %03d $((first % 1000)))" \
  --frame-times "$((rest / 1000)).$(printf %03d $((rest % 1000)))" \
  "$out/captures/bona_fide/normal/0000-0.jpg" "$out/captures/bona_fide/normal/0000-1.jpg"
"$bin" eval "$out/captures" --json "$out/eval.json" --plot "$out/eval.png"
echo "demo written to $out: card.png, card-animation.png, captures/ (see captures/manifest.jsonl), eval.json, eval.png"
