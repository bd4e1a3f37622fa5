#!/usr/bin/env bash
# Load test of litmus-server's SDK endpoints: requests per second and p50/p99/p999 latency of
# POST /assign (a random unit among a million, every running experiment of examples/config.json,
# sticky assignments written on first sight), GET /sdk/config (200 with the body; 304 for a
# client that has it), and POST /events (batches of 20 new events, each answered after its
# commit), one endpoint at a time, back to back on C connections, on the embedded default
# (SQLite, in-process cache) and on PostgreSQL + Redis. The generator is
# benches/src/bin/server_load.rs. For POST /events the events/s (20 per batch) and the p99 of
# their acknowledgements follow, and events are measured again on EVENT_CONNECTIONS (64)
# connections: the server commits the batches that arrive together in one group, so more
# batches at once make larger groups (up to its 64 ingest permits). Last, the SSE fan-out of
# GET /sdk/stream: SSE_CLIENTS (1,000) streams, one change, the time to each stream's event
# and the server's memory per idle stream (benches/server/sse.sh runs it with 10,000).
#
#   bash benches/server/load.sh                      both backends, 10 s per endpoint, 32 connections
#   DURATION=30 CONNECTIONS=64 bash benches/server/load.sh
#   BACKENDS=sqlite bash benches/server/load.sh
#
# The release server is built first. PostgreSQL and Redis come from scripts/db (installed and
# started when needed; stopped at the end if this script started them). The machine's cores are
# shared by the generator and the server: the figures are what one box serving and loading
# itself gives.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
EVENT_CONNECTIONS=${EVENT_CONNECTIONS:-64}
SSE_CLIENTS=${SSE_CLIENTS:-1000}
BACKENDS=${BACKENDS:-"sqlite postgres+redis"}
KEY=load-admin-key
SERVER_BIN=$ROOT/target/release/litmus-server
. benches/server/common.sh
raise_nofile $((SSE_CLIENTS + 100))

cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin server-load --bin sse-fanout 2>&1 | tail -1

echo "litmus-server load: $CONNECTIONS connections, ${DURATION}s per endpoint, on $(nproc) cores shared by the generator and the server"
for BACKEND in $BACKENDS; do
  case $BACKEND in
    sqlite)
      start_server LITMUS_DATA="$WORK/data" ;;
    postgres+redis)
      fresh_db litmus_load
      start_server DATABASE_URL="$DB" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="litmus-load-$$:" ;;
    *) echo "unknown backend $BACKEND" >&2; exit 2 ;;
  esac
  SDK_KEY=$(seed)
  SIZE=$(curl -fs -H "Authorization: Bearer $SDK_KEY" "http://127.0.0.1:$PORT/sdk/config" | wc -c)
  echo
  echo "== $BACKEND (GET /sdk/config body: $SIZE bytes; RSS: the server's resident memory after the run)"
  echo "|         | endpoint  |  requests |     req/s | errors |   p50 ms |   p99 ms |  p999 ms |  RSS MiB |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for endpoint in assign config config304 events; do
    "$ROOT/target/release/server-load" "127.0.0.1:$PORT" "$SDK_KEY" --mix "$endpoint=1" \
      --seconds "$DURATION" --connections "$CONNECTIONS" --pid "$SERVER_PID" | grep -E '^\| +total|^  error|^  events: total' || true
  done
  if [ "$EVENT_CONNECTIONS" != "$CONNECTIONS" ]; then
    echo "events again on $EVENT_CONNECTIONS connections:"
    "$ROOT/target/release/server-load" "127.0.0.1:$PORT" "$SDK_KEY" --mix "events=1" \
      --seconds "$DURATION" --connections "$EVENT_CONNECTIONS" --pid "$SERVER_PID" | grep -E '^\| +total|^  error|^  events: total' || true
  fi
  echo "SSE fan-out of /sdk/stream, one change:"
  sse_fanout "$BACKEND" "$SSE_CLIENTS" 0 1 | grep -E '^\||RSS:' || true
  stop_server
  [ "$BACKEND" = "postgres+redis" ] && drop_db litmus_load
done
