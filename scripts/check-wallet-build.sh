#!/usr/bin/env bash
# The wallet library (holoid-ffi: libholoid.so / libholoid.a) as a wallet app links it: fails if
# its normal dependency tree holds a crate of the service, the command line or a window
# system (axum, hyper, tokio, sqlx, clap, winit), then builds it alone and prints the number of
# crates in that tree and the size of the stripped shared library.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='axum|hyper|tokio|sqlx|clap|winit'
tree=$(cargo tree --locked -p holoid-ffi -e normal --prefix none --no-dedupe | sed -e 's/ (\*)$//' -e 's/ (proc-macro)$//' | sort -u)
crates=$(printf '%s\n' "$tree" | awk '{print $1}' | sort -u)
bad=$(printf '%s\n' "$crates" | grep -E -x "($forbidden)(-.*)?" || true)
if [ -n "$bad" ]; then
  echo "holoid-ffi's dependency tree holds crates a wallet app must not link:" >&2
  printf '  %s\n' $bad >&2
  echo "(cargo tree -p holoid-ffi -e normal -i CRATE shows the path)" >&2
  exit 1
fi
count=$(printf '%s\n' "$crates" | grep -c .)
cargo build --locked --release -p holoid-ffi
lib=${CARGO_TARGET_DIR:-target}/release/libholoid.so
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$lib"
size=$(stat -c %s "$stripped")
printf 'wallet library: %d crates in its dependency tree (holoid-ffi included), none of %s\n' "$count" "${forbidden//|/, }"
awk -v l="$lib" -v s="$size" 'BEGIN { printf "wallet library: %s stripped: %.1f MiB (%d bytes)\n", l, s / 1048576, s }'
