#!/usr/bin/env bash
# Makes (or resumes) a large held-out dataset in chunks and evaluates the detector on it.
#
#   bash scripts/heldout-eval.sh [OUT] [SEED] [PER_GROUP] [CHUNK]
#
# OUT (default target/heldout): chunk-NNNN/ directories, each `holoid simulate --seed SEED
# --from N --count CHUNK` (captures N..N+CHUNK of every species and level, burst 2,
# 720x1280); a chunk is redone unless its manifest.jsonl exists, so an interrupted run
# resumes, and a failed chunk is tried once more. Then OUT/merged (hard links: the chunks
# of one seed are one dataset) and `holoid eval OUT/merged` (table on stdout, OUT/eval.json, OUT/eval.png).
# SEED (default 4242) must not be one the detector's thresholds were chosen on (1-3, 9, 11).
# PER_GROUP (default 200) captures per species and level; CHUNK (default 20) per chunk.
# HOLOID_EVAL_ONLY_DONE=1 evaluates the chunks made so far without making more.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/heldout}
seed=${2:-4242}
per_group=${3:-200}
chunk=${4:-20}
case "$seed" in 1|2|3|9|11) echo "seed $seed was used to tune or check the detector: choose another" >&2; exit 2;; esac
cargo build --release --locked --quiet
mkdir -p "$out"
# A copy of the binary: rebuilding the tree while this runs changes neither the chunks' making
# nor the evaluation.
bin=$(mktemp "$out/holoid.XXXXXX")
trap 'rm -f "$bin"' EXIT
cp target/release/holoid "$bin"
chmod +x "$bin"
if [ "${HOLOID_EVAL_ONLY_DONE:-0}" != 1 ]; then
  for ((from = 0; from < per_group; from += chunk)); do
    dir=$(printf '%s/chunk-%04d' "$out" "$from")
    n=$(( per_group - from < chunk ? per_group - from : chunk ))
    if [ -f "$dir/manifest.jsonl" ]; then continue; fi
    # A chunk that fails (a lost GPU device, a full disk) is tried once more from scratch
    # before the run stops: the chunk is deterministic, so a retry makes the same captures.
    for try in 1 2; do
      echo "chunk $from..$((from + n)) of $per_group, try $try ($(date -u +%H:%M:%S))" >&2
      if "$bin" simulate --out "$dir" --seed "$seed" --from "$from" --count "$n" --burst 2 --force; then
        break
      fi
      rm -rf "$dir"
      if [ "$try" = 2 ]; then
        echo "chunk $from failed twice: stopping (rerun to resume)" >&2
        exit 1
      fi
    done
  done
fi
merged="$out/merged"
rm -rf "$merged"
mkdir -p "$merged"
found=0
for dir in "$out"/chunk-*; do
  [ -f "$dir/manifest.jsonl" ] || continue
  found=1
  cp -alf "$dir"/. "$merged"/
  cat "$dir/manifest.jsonl" >> "$merged/manifest.all"
done
[ "$found" = 1 ] || { echo "no finished chunk in $out" >&2; exit 1; }
mv "$merged/manifest.all" "$merged/manifest.jsonl"
echo "captures: $(wc -l < "$merged/manifest.jsonl")" >&2
"$bin" eval "$merged" --json "$out/eval.json" --plot "$out/eval.png"
