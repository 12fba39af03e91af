#!/usr/bin/env bash
# Regenerates the pictures in docs/ from the demo identity (seed 1), on whatever adapter
# wgpu finds (lavapipe without a GPU). Needs xvfb and imagemagick for the viewer screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
bin=target/release/holoid
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
"$bin" demo-credential --out "$demo" --seed 1 >/dev/null
render() { "$bin" render --credential "$demo/credential.json" --device-key "$demo/device.key" "$@"; }
at=2026-11-25T10:49:52.250Z
render --at "$at" --size 540x1170 --tilt -15,10 --out docs/card.png
render --at 2026-11-25T10:49:51Z --size 270x585 --frames 24 --fps 8 \
  --shake-at 2026-11-25T10:49:52.500Z --out docs/card-animation.png
render --at "$at" --size 270x585 --capture-state recording --out docs/card-blocked.png
render --at "$at" --size 270x585 --modulate --out docs/card-copy-frame.png
cargo run --release --example layout_map -- docs/card-layout.png
cargo run --release --example capture_sheet -- docs/captures.png 20 | tee "$demo/rates.txt"
# Species x levels contact sheet (needs imagemagick's montage).
if command -v montage >/dev/null; then
  "$bin" simulate --out "$demo/dataset" --count 1 --burst 1 --size 360x640 --seed 3 >/dev/null
  files=()
  for level in easy normal hard harsh; do
    for sp in bona_fide stale_replay same_window_replay screen_photo print fake_app portrait_swap; do
      files+=("$demo/dataset/$sp/$level/0000-0.jpg")
    done
  done
  montage "${files[@]}" -tile 7x4 -geometry 135x240+2+2 -quality 85 docs/species-levels.jpg
fi
if command -v xvfb-run >/dev/null && command -v import >/dev/null; then
  xvfb-run -a -s "-screen 0 432x936x24" bash -c "
    $bin view --credential $demo/credential.json --device-key $demo/device.key --exit-after 4 &
    sleep 3; import -window root docs/viewer-xvfb.png; wait"
fi
ls -la docs
