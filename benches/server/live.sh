#!/usr/bin/env bash
# Live-update latency: an event posted to instance A reaches a WebSocket subscriber of
# instance B (sharing PostgreSQL + TimescaleDB and Redis) as updated results. Prints p50, p90,
# p99 and max over 1,000 events posted one at a time, back to back and then 150 ms apart
# (benches/src/bin/live_latency.rs).
#
#   bash benches/server/live.sh            1,000 events
#   EVENTS=200 bash benches/server/live.sh
#
# PostgreSQL and Redis come from scripts/db (started when needed, stopped at the end if this
# script started them). Target: p99 under 1 s.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
EVENTS=${EVENTS:-1000}
KEY=live-admin-key
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
SERVER_BIN=$BIN/litmus-server
. benches/server/common.sh

cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin live-latency 2>&1 | tail -1
fresh_db litmus_live
PREFIX="litmus-live-$$:"
start_server DATABASE_URL="$DB" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="$PREFIX"
A_PORT=$PORT; A_PID=$SERVER_PID
start_server DATABASE_URL="$DB" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="$PREFIX"
B_PORT=$PORT
trap 'kill $A_PID 2>/dev/null || true; cleanup' EXIT
# Back to back, then spaced by 150 ms (past the 100 ms coalescing of results rounds).
"$BIN/live-latency" "127.0.0.1:$A_PORT" "127.0.0.1:$B_PORT" "$KEY" --events "$EVENTS"
"$BIN/live-latency" "127.0.0.1:$A_PORT" "127.0.0.1:$B_PORT" "$KEY" --events "$EVENTS" --gap-ms 150
kill "$A_PID" 2>/dev/null || true
stop_server
drop_db litmus_live
