#!/usr/bin/env bash
# browser-test.sh — the dashboard (litmus-server/dashboard/) in Debian's headless Chromium,
# driven by playwright-core against a real litmus-server on a free port with the embedded
# store in a temporary directory: dashboard.test.mjs signs in, creates and starts an
# experiment through the form, posts events and checks that the results table and the lift
# chart update live, checks the SRM banner, the list, stopping, the metric catalogue (its
# editor, the experiment form's picker, ratio, quantile and funnel results, the CSV export;
# metrics.checks.mjs), people (people.checks.mjs: the first admin from the logged set-up link,
# invitations joined in fresh browser contexts, signing in by email and password, viewers'
# read-only pages, role changes, disabling, password resets, single sign-on against
# scripts/oidc/provider.mjs), webhooks (webhooks.checks.mjs: deliveries to a receiver in the
# test process, so the server may reach loopback and retries 1000x sooner) and signing out.
# Screenshots go to target/dashboard/*.png; the last line is `dashboard: N passed`.
#
#   LITMUS_SERVER_BIN   the server binary (target/debug/litmus-server; built when missing)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PLAYWRIGHT_VERSION=1.65.1
log() { printf '[dashboard %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'dashboard: error: %s\n' "$*" >&2; exit 1; }

BIN=${LITMUS_SERVER_BIN:-$ROOT/target/debug/litmus-server}
if [ ! -x "$BIN" ]; then
  log "building litmus-server"
  (cd "$ROOT" && cargo build -p litmus-server --locked)
fi
[ -x "$BIN" ] || die "no server binary at $BIN"
command -v chromium >/dev/null || {
  log "installing Debian's chromium"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
}
command -v npm >/dev/null || {
  log "installing node and npm"
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
}

TMP=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# playwright-core only (no browser download: Debian's chromium is used), pinned.
log "installing playwright-core $PLAYWRIGHT_VERSION"
mkdir -p "$TMP/node"
cp "$HERE/dashboard.test.mjs" "$HERE/metrics.checks.mjs" "$HERE/analysis.checks.mjs" "$HERE/segments.checks.mjs" "$HERE/bandit.checks.mjs" "$HERE/holdout.checks.mjs" "$HERE/flags.checks.mjs" "$HERE/environments.checks.mjs" "$HERE/people.checks.mjs" "$HERE/webhooks.checks.mjs" "$TMP/node/"
(cd "$TMP/node" && printf '{"private":true,"type":"module"}\n' >package.json \
  && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --no-save \
       "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null) || die "npm install playwright-core failed"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KEY=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
# Webhook deliveries go to a receiver on loopback, and their retries come 1000x sooner; the
# test's restarts keep both (they are in its environment too).
export LITMUS_WEBHOOK_ALLOW_PRIVATE=1 LITMUS_WEBHOOK_RETRY_SCALE=0.001
mkdir -p "$TMP/data"
log "starting $BIN on 127.0.0.1:$PORT"
# The embedded store only, even when scripts/test.sh has exported PostgreSQL and Redis URLs.
env -u DATABASE_URL -u REDIS_URL LITMUS_LISTEN="127.0.0.1:$PORT" LITMUS_DATA="$TMP/data" \
  LITMUS_ADMIN_KEY="$KEY" LITMUS_DEMO=0 RUST_LOG=warn "$BIN" >"$TMP/server.log" 2>&1 &
SERVER=$!
disown "$SERVER"  # the test may kill it (to check reconnection): no job report then
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/server.log" >&2; die "the server exited"; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || die "the server did not answer /healthz"

mkdir -p "$ROOT/target/dashboard"
rc=0
# The test also kills the server (by this pid) and starts it again with the same settings, to
# check that the page reconnects; it stops the one it started.
env -u DATABASE_URL -u REDIS_URL LITMUS_URL="http://127.0.0.1:$PORT" LITMUS_KEY="$KEY" \
  CHROMIUM="$(command -v chromium)" OUT="$ROOT/target/dashboard" \
  FORMAT_JS="$ROOT/litmus-server/dashboard/format.js" SERVER_PID="$SERVER" LITMUS_SERVER_BIN="$BIN" \
  LITMUS_LISTEN="127.0.0.1:$PORT" LITMUS_DATA="$TMP/data" SERVER_LOG="$TMP/server.log" \
  OIDC_PROVIDER="$ROOT/scripts/oidc/provider.mjs" timeout 240 node "$TMP/node/dashboard.test.mjs" || rc=$?
if [ "$rc" != 0 ]; then
  echo "--- last 30 lines of the server log ---" >&2
  tail -n 30 "$TMP/server.log" >&2
  exit "$rc"
fi
