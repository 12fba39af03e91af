#!/usr/bin/env bash
# Hostile input against the verifier service (issue #20 item 9), in two parts:
#   1. schemathesis (PyPI) generates requests from /openapi.json against a running server, as
#      each role and with no token, with every check it has (server errors, answers that do
#      not match the document, valid requests refused, invalid ones accepted, ...);
#   2. cargo-fuzz runs the `check_route` target: any bytes as the multipart body of
#      POST /v1/checks through the whole service (fuzz/fuzz_targets/check_route.rs).
# Not part of .ci/run (it takes as long as you give it). Usage, from the repository root:
#   bash scripts/hostile-input.sh [SECONDS_PER_ROLE [FUZZ_SECONDS]]      (default 300 and 2400)
# Needs: cargo build --release; pip install schemathesis; cargo install cargo-fuzz. The fuzz
# target is built with RUSTC_BOOTSTRAP=1 (cargo-fuzz's sanitizer flags need it on a stable
# toolchain). Reports go to target/hostile/.
set -euo pipefail
cd "$(dirname "$0")/.."
per_role=${1:-300}
fuzz_seconds=${2:-2400}
root=$PWD
out=$root/target/hostile
B=$root/target/release/holoid
[ -x "$B" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v st >/dev/null || { echo "install schemathesis: pip install schemathesis" >&2; exit 2; }
rm -rf "$out" && mkdir -p "$out" && cd "$out"

"$B" demo-credential --out id --seed 1 --force >/dev/null
"$B" keygen --kind copy --out copy.key --force >/dev/null
token() { "$B" token create --db sqlite:st.db --copy-key copy.key --role "$1" --office "$2" --name "$3" 2>/dev/null; }
ADMIN=$(token admin hq "Lee Admin")
OFFICER=$(token officer seoul "Kim Officer")
AUDITOR=$(token auditor hq "Choi Auditor")
port=18092
"$B" serve --listen 127.0.0.1:$port --db sqlite:st.db --master-key id/master.key \
  --issuer-pub id/issuer.pub --issuer-key id/issuer.key --copy-key copy.key \
  --audit-witness heads.jsonl > serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
curl -sf -H "Authorization: Bearer $ADMIN" -F credential=@id/credential.json \
  -F portrait=@id/portrait.png "http://127.0.0.1:$port/v1/credentials" >/dev/null

status=0
for role in officer admin auditor none; do
  case $role in
    officer) auth=(-H "Authorization: Bearer $OFFICER") ;;
    admin) auth=(-H "Authorization: Bearer $ADMIN") ;;
    auditor) auth=(-H "Authorization: Bearer $AUDITOR") ;;
    none) auth=() ;;
  esac
  echo "== schemathesis as $role for ${per_role} s"
  st run "http://127.0.0.1:$port/openapi.json" "${auth[@]}" --checks all \
    --max-time "$per_role" -w 1 --suppress-health-check all > "st-$role.log" 2>&1 || status=1
  tail -3 "st-$role.log"
done
errors=$(grep -cE ' 5[0-9]{2} [0-9.]+ ms' serve.log || true)
echo "server errors (5xx) in the access log: $errors"
[ "$errors" -eq 0 ] || status=1

echo "== cargo fuzz run check_route for ${fuzz_seconds} s"
cd "$root"
mkdir -p fuzz/corpus/check_route
RUSTC_BOOTSTRAP=1 cargo fuzz run check_route fuzz/corpus/check_route fuzz/seeds/check_route -- \
  -max_total_time="$fuzz_seconds" -max_len=150000 -rss_limit_mb=4096 -timeout=30 \
  -print_final_stats=1 > "$out/fuzz.log" 2>&1 || status=1
tail -12 "$out/fuzz.log"
exit $status
