#!/usr/bin/env bash
# Sustained event ingestion through POST /events, durability on (every answer after the
# commit), into TimescaleDB (PostgreSQL) and into the embedded store, with a raw binary COPY of
# the same rows measured in the same run for PostgreSQL.
#
#   bash benches/server/ingest.sh                      both stores, 20 s each, 16 connections x 2,500 events
#   SECONDS_EACH=60 CONNECTIONS=8 BATCH=1000 bash benches/server/ingest.sh
#   STORES=sqlite bash benches/server/ingest.sh
#   SECONDS_EACH=600 RATE=150000 bash benches/server/ingest.sh   a steady load (events/s), e.g. half the peak
#   LITMUS_ROLLUPS=off STORES=postgres bash benches/server/ingest.sh   ingestion alone (no rollups, no drain)
#   METRICS=10 bash benches/server/ingest.sh     with 10 catalogue metrics whose filters read each
#                                                event's properties (the events then carry some)
#   PROPERTIES=on bash benches/server/ingest.sh  the events with properties, no metric reading them
#   DIMENSIONS=3 bash benches/server/ingest.sh   the load's 4 experiments declare 3 dimensions
#                                                (country, platform, browser: 5, 3 and 4 values)
#                                                and its exposures carry them (so does the raw COPY)
#
# The results' lag is sampled from /metrics (litmus_rollup_backlog_age_seconds, the age of the
# oldest batch acknowledged but not yet in the rollups) every 250 ms during the load, and its
# distribution printed, with the rate the rollups applied events at during the load (the
# events acknowledged less those still waiting when it stopped) and after it (the drain).
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
RATE=${RATE:-}
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
  PROPS=()
  [ "${PROPERTIES:-off}" = on ] && PROPS=(--properties on)
  if [ "${DIMENSIONS:-0}" = 3 ]; then
    for e in 0 1 2 3; do
      curl -fs -X PUT -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/admin/experiments/exp-$e" \
        -d '{"status": "running", "variants": [{"key": "control"}, {"key": "treatment"}],
             "dimensions": [{"key": "country"}, {"key": "platform"}, {"key": "browser"}]}' >/dev/null
    done
    echo "3 dimensions in the 4 experiments of the load"
    PROPS+=(--dimensions on)
  fi
  if [ "${METRICS:-0}" -gt 0 ]; then
    # N catalogue metrics over the load's events, each with a filter on their properties, used
    # by the load's four experiments: every metric event is read by about N/3 filters.
    python3 - "$PORT" "$KEY" "$METRICS" <<'PY'
import json, os, sys, urllib.request
port, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def put(path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="PUT",
        data=json.dumps(body).encode(), headers={"Authorization": f"Bearer {key}"})
    urllib.request.urlopen(req).read()
kinds = ["conversion", "mean", "quantile"]
for i in range(n):
    m = {"kind": kinds[i % 3], "event": ["purchase", "click", "view"][i % 3],
         "filter": {"all": [{"attribute": "plan", "op": "in", "value": ["pro", "team"][: 1 + i % 2]},
                            {"attribute": "amount", "op": "gte", "value": i * 5}]}}
    if i % 4 == 1:
        m["filter"] = {"attribute": "country", "op": "eq", "value": "DE"}
        m["kind"], m["property"] = "mean", "amount"
    if m["kind"] == "quantile":
        m["quantile"] = 0.9
    put(f"/admin/metrics/m{i}", m)
for e in range(4):
    exp = {"status": "running", "variants": [{"key": "control"}, {"key": "treatment"}],
           "metrics": [{"metric": f"m{i}"} for i in range(n)]}
    if os.environ.get("DIMENSIONS") == "3":
        exp["dimensions"] = [{"key": "country"}, {"key": "platform"}, {"key": "browser"}]
    put(f"/admin/experiments/exp-{e}", exp)
print(f"{n} metrics with property filters in the 4 experiments of the load")
PY
    PROPS+=(--properties on)
  fi
  echo "== $STORE"
  # The backlog, from the server's own figures: "<age seconds> <events waiting>".
  backlog() {
    curl -fs "http://127.0.0.1:$PORT/metrics" | awk '/^litmus_rollup_backlog_age_seconds /{a=$2} /^litmus_rollup_backlog_events /{e=$2} END{print a+0, e+0}'
  }
  SAMPLES=$WORK/lag-$STORE.txt
  : >"$SAMPLES"
  (while :; do backlog >>"$SAMPLES" || true; sleep 0.25; done) &
  SAMPLER=$!
  PACE=()
  [ -n "$RATE" ] && PACE=(--rate "$RATE")
  "$BIN/ingest-load" "127.0.0.1:$PORT" "$SDK" --seconds "$SECONDS_EACH" --connections "$CONNECTIONS" --batch "$BATCH" "${PACE[@]}" "${COPY[@]}" "${PROPS[@]}" | tee "$WORK/load.txt"
  read -r age0 left < <(backlog)
  kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
  sort -n "$SAMPLES" | awk '{a[NR]=$1; if ($2>m) m=$2}
    END{if (NR==0) exit; i50=int(NR*0.5); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
        printf "lag during the load (%d samples): p50 %.2f s, p99 %.2f s, max %.2f s; at most %d events waiting\n", NR, a[i50], a[i99], a[NR], m}'
  # The rollups are applied behind the acknowledgements: how far behind at the end of the load.
  awk -v left="$left" '/^HTTP \/events:/{n=$3; s=$6; if (s > 0) printf "rollups during the load: %.0f events/s applied (%.2f of the acknowledged rate)\n", (n-left)/s, (n > 0 ? (n-left)/n : 0)}' "$WORK/load.txt"
  if [ "${LITMUS_ROLLUPS:-on}" = off ]; then
    # An ingestion-only server: nothing drains.
    stop_server
    if [ "$STORE" = postgres ]; then drop_db litmus_ingest; fi
    continue
  fi
  t0=$(date +%s.%N)
  while read -r age waiting < <(backlog) && [ "$waiting" != 0 ]; do sleep 0.2; done
  awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$left" -v age="$age0" 'BEGIN{s=b-a; printf "rollups: %d events (the oldest %.1f s old) behind when the load stopped, caught up %.1f s later (%.0f events/s applied)\n", n, age, s, (s > 0 ? n/s : 0)}'
  stop_server
  if [ "$STORE" = postgres ]; then drop_db litmus_ingest; fi
done
