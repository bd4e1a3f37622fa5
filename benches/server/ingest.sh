#!/usr/bin/env bash
# Sustained event ingestion through POST /events, durability on (every answer after the
# commit), into TimescaleDB (PostgreSQL) and into the embedded store, with a raw binary COPY of
# the same rows measured in the same run for PostgreSQL.
#
#   bash benches/server/ingest.sh                      both stores, 20 s each, 16 connections x 2,500 events
#   SECONDS_EACH=60 CONNECTIONS=8 BATCH=1000 bash benches/server/ingest.sh
#   STORES=sqlite bash benches/server/ingest.sh
#
# PostgreSQL and Redis come from scripts/db (started when needed, stopped at the end if this
# script started them). The load generator (benches/src/bin/ingest_load.rs) runs on the same
# 2 cores as the server and PostgreSQL.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_EACH=${SECONDS_EACH:-20}
CONNECTIONS=${CONNECTIONS:-16}
BATCH=${BATCH:-2500}
STORES=${STORES:-"postgres sqlite"}
KEY=ingest-admin-key
WORK=$(mktemp -d)
SERVER_PID=""
STARTED_DB=0
export PGOPTIONS="-c client_min_messages=warning"
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ "$STARTED_DB" = 1 ] && bash scripts/db/stop.sh >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin ingest-load 2>&1 | tail -1
BIN=$ROOT/target/release
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

start_server() {
  env -u DATABASE_URL -u REDIS_URL LITMUS_LISTEN=127.0.0.1:$PORT LITMUS_ADMIN_KEY=$KEY RUST_LOG=warn "$@" "$BIN/litmus-server" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/server.log" >&2; exit 1
}

for STORE in $STORES; do
  case $STORE in
    postgres)
      bash scripts/db/setup.sh >/dev/null 2>&1
      pg_isready -q -h 127.0.0.1 -p "${LITMUS_PG_PORT:-55432}" 2>/dev/null || STARTED_DB=1
      eval "$(bash scripts/db/start.sh 2>/dev/null)"
      SU="postgres://postgres@127.0.0.1:${LITMUS_PG_PORT:-55432}"
      psql "$SU/postgres" -qAtX -c "DROP DATABASE IF EXISTS litmus_ingest WITH (FORCE)" -c "CREATE DATABASE litmus_ingest" >/dev/null
      DB="${DATABASE_URL%/*}/litmus_ingest"
      start_server DATABASE_URL="$DB"
      COPY=(--copy "$DB") ;;
    sqlite)
      start_server LITMUS_DATA="$WORK/data"
      COPY=() ;;
    *) echo "unknown store $STORE" >&2; exit 2 ;;
  esac
  SDK=$(curl -fs -H "Authorization: Bearer $KEY" -d '{"name": "load"}' "http://127.0.0.1:$PORT/admin/keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  echo "== $STORE"
  "$BIN/ingest-load" "127.0.0.1:$PORT" "$SDK" --seconds "$SECONDS_EACH" --connections "$CONNECTIONS" --batch "$BATCH" "${COPY[@]}"
  # The rollups are applied behind the acknowledgements: how far behind at the end of the load.
  pending() {
    if [ "$STORE" = postgres ]; then psql "$DB" -qAtX -c "SELECT count(*) FROM pending_batches"
    else python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM pending_batches").fetchone()[0])' "$WORK/data/litmus.sqlite3"; fi
  }
  t0=$(date +%s.%N); left=$(pending)
  while [ "$(pending)" != 0 ]; do sleep 0.2; done
  echo "rollups: $left batches behind when the load stopped, caught up $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s later"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  [ "$STORE" = postgres ] && psql "$SU/postgres" -qAtX -c "DROP DATABASE IF EXISTS litmus_ingest WITH (FORCE)" >/dev/null
done
