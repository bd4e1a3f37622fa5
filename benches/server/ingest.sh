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
SERVER_BIN=$ROOT/target/release/litmus-server
. benches/server/common.sh

cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin ingest-load 2>&1 | tail -1
BIN=$ROOT/target/release

for STORE in $STORES; do
  case $STORE in
    postgres)
      fresh_db litmus_ingest
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
  awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$left" -v size="$BATCH" 'BEGIN{s=b-a; printf "rollups: %d batches behind when the load stopped, caught up %.1f s later (%.0f events/s applied)\n", n, s, (s > 0 ? n*size/s : 0)}'
  stop_server
  [ "$STORE" = postgres ] && drop_db litmus_ingest
done
