#!/usr/bin/env bash
# browser-test.sh — examples/browser/index.html in Debian's headless Chromium, against the
# packed npm package (build-package.sh): the page assigns a unit, loads the analysis module and
# runs a z-test, and prints what it got; the test requires the variant, bucket and p-value Node
# computes with the same package, and saves a screenshot to target/npm/browser.png. A second
# page (litmus-wasm/tests/browser-recovery.html) checks recovery after a trap, a third
# (browser-tracker.html) the event tracker's gzip and keep-alive sends.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"
command -v chromium >/dev/null || {
  log "installing Debian's chromium"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
TGZ=$(ls "$REPO_ROOT"/target/npm/litmus-experiments-*.tgz 2>/dev/null | head -1)
[ -n "$TGZ" ] || die "no package: run scripts/wasm/build-package.sh"
SITE=$(mktemp -d)
PROFILE=$(mktemp -d)
PROJ=$(mktemp -d)
mkdir -p "$SITE/litmus-experiments"
tar -xzf "$TGZ" -C "$SITE/litmus-experiments" --strip-components=1
cp "$REPO_ROOT/examples/browser/index.html" "$REPO_ROOT/litmus-wasm/tests/browser-recovery.html" \
  "$REPO_ROOT/litmus-wasm/tests/browser-tracker.html" "$SITE/"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE" >/dev/null 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null || true; rm -rf "$SITE" "$PROFILE" "$PROJ"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done

UNIT=user-$RANDOM
# What Node says with the same package.
(cd "$PROJ" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$TGZ" >/dev/null)
EXPECTED=$(cd "$PROJ" && UNIT=$UNIT node --input-type=module -e '
import { Engine, hashing } from "litmus-experiments";
import { stats } from "litmus-experiments/analysis";
const e = new Engine({ schema_version: 1, experiments: [{ key: "checkout-button", salt: "cb-2026", status: "running",
  variants: [{ key: "control" }, { key: "treatment" }] }] });
const p = stats.proportionsZtest([145, 120], [1000, 1000])[1];
console.log(`variant ${e.assign("checkout-button", process.env.UNIT).variant} bucket ${hashing.bucket("cb-2026", "variant", process.env.UNIT)} pvalue ${p}`);
')
FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$PROFILE" --virtual-time-budget=5000)
URL="http://127.0.0.1:$PORT/index.html?unit=$UNIT"
DOM=$(timeout 60 chromium "${FLAGS[@]}" --dump-dom "$URL" 2>/dev/null)
mkdir -p "$REPO_ROOT/target/npm"
timeout 60 chromium "${FLAGS[@]}" --window-size=900,420 --screenshot="$REPO_ROOT/target/npm/browser.png" "$URL" >/dev/null 2>&1 || true
OUT=$(echo "$DOM" | sed -n '/<pre id="out">/,/<\/pre>/p' | sed 's/<[^>]*>//g')
echo "$OUT"
GOT="variant $(echo "$OUT" | awk '/^variant/ {print $2}') bucket $(echo "$OUT" | awk '/^bucket/ {print $2}') pvalue $(echo "$OUT" | awk '/^pvalue/ {print $2}')"
fail=0
echo "$OUT" | grep -q 'RESULT PASS' || { echo "browser: the page did not report PASS" >&2; fail=1; }
[ "$GOT" = "$EXPECTED" ] || { echo "browser: page shows '$GOT', Node computes '$EXPECTED'" >&2; fail=1; }
[ -s "$REPO_ROOT/target/npm/browser.png" ] || { echo "browser: no screenshot" >&2; fail=1; }
RECOVERY=$(timeout 60 chromium "${FLAGS[@]}" --dump-dom "http://127.0.0.1:$PORT/browser-recovery.html" 2>/dev/null \
  | sed -n 's/.*<pre id="out">\(RECOVERY[^<]*\)<.*/\1/p')
echo "$RECOVERY"
rfail=0
[ "$RECOVERY" = "RECOVERY PASS" ] || { echo "browser: recovery after a trap failed: '$RECOVERY'" >&2; rfail=1; }
TRACKER=$(timeout 60 chromium "${FLAGS[@]}" --dump-dom "http://127.0.0.1:$PORT/browser-tracker.html" 2>/dev/null \
  | sed -n 's/.*<pre id="out">\(TRACKER[^<]*\)<.*/\1/p')
echo "$TRACKER"
tfail=0
[ "$TRACKER" = "TRACKER PASS" ] || { echo "browser: the event tracker failed: '$TRACKER'" >&2; tfail=1; }
failed=$(( fail + rfail + tfail ))
echo "browser: $(( 3 - failed )) passed, $failed failed (screenshot target/npm/browser.png)"
[ "$failed" = 0 ] || exit 1
