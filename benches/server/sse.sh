#!/usr/bin/env bash
# SSE fan-out of GET /sdk/stream: CLIENTS (10,000) SDK streams on one server over loopback, a
# config change published through the admin API, and the time from the publish request to
# each stream's event of the new version: p50, p99 and max (the change-to-last-client time),
# ROUNDS (3) times, with STALLED (100) more streams that never read a byte open during the
# changes. Also the server's resident memory before the streams and with them idle, and the
# difference per stream. The client is benches/src/bin/sse_fanout.rs.
#
#   bash benches/server/sse.sh                                 10,000 streams, embedded store
#   CLIENTS=2000 STALLED=0 bash benches/server/sse.sh
#   BACKENDS="sqlite postgres+redis" bash benches/server/sse.sh
#
# The open-file limit of this script (so of the server and the client) is raised to its hard
# limit; it needs CLIENTS + STALLED + 100. The machine's cores are shared by the client and the
# server. Targets: p99 within 1 s, under 16 KiB per idle stream.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CLIENTS=${CLIENTS:-10000}
STALLED=${STALLED:-100}
ROUNDS=${ROUNDS:-3}
BACKENDS=${BACKENDS:-sqlite}
KEY=sse-admin-key
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
SERVER_BIN=$BIN/litmus-server
. benches/server/common.sh
raise_nofile $((CLIENTS + STALLED + 100))

cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin sse-fanout 2>&1 | tail -1

echo "litmus-server SSE fan-out: $CLIENTS streams (+$STALLED stalled), $ROUNDS changes, on $(nproc) cores shared by the client and the server"
for BACKEND in $BACKENDS; do
  case $BACKEND in
    sqlite)
      start_server LITMUS_DATA="$WORK/data" ;;
    postgres+redis)
      fresh_db litmus_sse
      start_server DATABASE_URL="$DB" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="litmus-sse-$$:" ;;
    *) echo "unknown backend $BACKEND" >&2; exit 2 ;;
  esac
  SDK_KEY=$(seed)
  echo
  echo "== $BACKEND ($(config_sizes "$SDK_KEY"))"
  sse_fanout "$BACKEND" "$CLIENTS" "$STALLED" "$ROUNDS"
  stop_server
  if [ "$BACKEND" = "postgres+redis" ]; then drop_db litmus_sse; fi
done
