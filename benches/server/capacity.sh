#!/usr/bin/env bash
# The capacity model's per-unit costs (docs/scaling.md): CPU seconds, bytes and Redis commands
# per event, per rollup row, per assignment, measured on a fixed load and divided by what was
# acknowledged. CPU is read from /proc/PID/stat (utime + stime, every thread) before and after
# each load, so the figures hold on a shared machine; the wall-clock rates printed beside them
# do not (they depend on what else the cores were doing).
#
#   bash benches/server/capacity.sh                  everything, about 4 minutes after the build
#   STORES=postgres bash benches/server/capacity.sh  PostgreSQL + Redis only (or STORES=sqlite)
#   INGEST_SECONDS=20 BATCHES="500 100 20" ASSIGN_SECONDS=20 bash benches/server/capacity.sh
#   SDK_BENCH=off SSE=off bash benches/server/capacity.sh   without the criterion bench or SSE
#   STORES=postgres BATCHES= METRICS=20 bash benches/server/capacity.sh   only the run with
#                                                 catalogue metrics, and /assign
#
# What it measures, for each store (PostgreSQL + TimescaleDB with Redis; the embedded SQLite
# with the in-process cache):
#
# 1. Ingestion: benches/src/bin/ingest-load for INGEST_SECONDS on INGEST_CONNECTIONS
#    connections, once per batch size in BATCHES (events per POST /events: 500 is a tracker's
#    full batch, 20 a browser's), each on a fresh store, into a server started with
#    LITMUS_ROLLUPS=off, so its CPU is the ingestion's alone. Also the CPU of the PostgreSQL
#    backends connected to the benchmark's database, and the WAL written (pg_current_wal_lsn;
#    the cluster's, so anything else using it counts too).
# 2. Rollups: a second server on the same store with the rollups on applies the queue the first
#    left; its CPU from its start to the drained queue, less what an idle start costs (the first
#    server's CPU when /readyz first answered), per 1,000 events applied. On PostgreSQL, again
#    with METRICS catalogue metrics (filters on the events' properties) in the load's four
#    experiments, the events carrying properties.
# 3. Bytes: PostgreSQL's events hypertable (hypertable_size: every chunk with its indexes and
#    TOAST; pg_total_relation_size of a hypertable is its empty parent) and deduplication keys
#    (event_ids, with its primary key index) per event; the per-unit tables after the rollups
#    (exposures per (experiment, unit), unit_state per unit); and per rollup row, on
#    SYNTHETIC_ROWS rows inserted into copies of the rollup tables (same columns, primary keys
#    and indexes: CREATE TABLE ... (LIKE ... INCLUDING ALL)), because a short load fills only
#    a minute or two of rollups. SQLite: the data folder's growth per event, and each table
#    with its indexes from the dbstat virtual table.
# 4. POST /assign: benches/src/bin/server-load --mix assign=1 for ASSIGN_SECONDS on
#    ASSIGN_CONNECTIONS connections, every running experiment of examples/config.json: "new"
#    units drawn among ASSIGN_UNITS (most are new: sticky entries written, holdout exposures
#    logged), then "returning" units drawn among RETURNING_UNITS, assigned for WARM_SECONDS
#    before the measurement (nearly all remembered: one read). With PostgreSQL the
#    cache is a private redis-server started here on a free port (INFO commandstats, INFO
#    memory and the process's CPU are per Redis server, and the machine's Redis is shared):
#    commands per assign, memory per sticky key (used_memory delta / keys added).
# 5. GET /sdk/config (200 and 304) for CONFIG_SECONDS each, on SQLite (the route reads neither
#    store nor cache).
# 6. The in-process SDK assignment (no server): `cargo bench -p litmus-benches --bench assign`
#    with a short measurement (SDK_BENCH=off skips it).
# 7. SSE clients: benches/server/sse.sh with CLIENTS=$SSE_CLIENTS when it exists.
#
# A summary table closes the output. PostgreSQL and Redis's binaries come from scripts/db
# (PostgreSQL started when needed, stopped at the end if this script started it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
STORES=${STORES:-"postgres sqlite"}
INGEST_SECONDS=${INGEST_SECONDS:-10}
INGEST_CONNECTIONS=${INGEST_CONNECTIONS:-16}
BATCHES=${BATCHES-"500 20"}
ASSIGN_SECONDS=${ASSIGN_SECONDS:-10}
ASSIGN_CONNECTIONS=${ASSIGN_CONNECTIONS:-16}
ASSIGN_UNITS=${ASSIGN_UNITS:-1000000}
RETURNING_UNITS=${RETURNING_UNITS:-2000}
WARM_SECONDS=${WARM_SECONDS:-4}
CONFIG_SECONDS=${CONFIG_SECONDS:-5}
SYNTHETIC_ROWS=${SYNTHETIC_ROWS:-200000}
METRICS=${METRICS:-10}
METRICS_BATCH=${METRICS_BATCH:-500}
SDK_BENCH=${SDK_BENCH:-on}
SSE=${SSE:-on}
SSE_CLIENTS=${SSE_CLIENTS:-2000}
DBNAME=litmus_capacity
KEY=capacity-admin-key
SERVER_BIN=$ROOT/target/release/litmus-server
BIN=$ROOT/target/release
. benches/server/common.sh

PREPARE=true
LOAD_FLAGS=()
REDIS_PID=""
stop_redis() {
  if [ -n "$REDIS_PID" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
  fi
}
trap 'stop_redis; cleanup' EXIT

cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin server-load --bin ingest-load 2>&1 | tail -1

TICK=$(getconf CLK_TCK)
SUMMARY=$WORK/summary.txt
: >"$SUMMARY"
# row FIGURE STORE VALUE UNIT: a line of the closing table.
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" >>"$SUMMARY"; }

# cpu PID: the process's user + system CPU seconds so far (all its threads); 0 once it is gone.
cpu() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  awk -v t="$TICK" '{printf "%.3f\n", ($12 + $13) / t}' <<<"$s"
}

# settle PID: waits (at most 30 s) until the process spends less than 20 ms of CPU in 500 ms.
settle() {
  local a b
  a=$(cpu "$1")
  for _ in $(seq 1 60); do
    sleep 0.5
    b=$(cpu "$1")
    awk -v a="$a" -v b="$b" 'BEGIN{exit !(b - a < 0.02)}' && return 0
    a=$b
  done
}

# pg_cpu FILE: "pid seconds" of each PostgreSQL backend connected to the benchmark's database.
pg_cpu() {
  local p
  for p in $(psql "$SU/postgres" -qAtX -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DBNAME'"); do
    echo "$p $(cpu "$p")"
  done >"$1"
}

# pg_all_cpu FILE: "pid seconds" of every process of the PostgreSQL cluster (shared).
pg_all_cpu() {
  local p
  for p in $(pgrep -x postgres || true); do echo "$p $(cpu "$p")"; done >"$1"
}

# cpu_delta BEFORE AFTER: the CPU seconds spent between two such files (a process that started
# in between counts from 0; one that ended in between is missed).
cpu_delta() { awk 'FILENAME == ARGV[1] {b[$1] = $2; next} {d += $2 - (($1 in b) ? b[$1] : 0)} END {printf "%.3f\n", d}' "$1" "$2"; }

# per N TOTAL [SCALE]: TOTAL / N * SCALE with 4 significant digits (SCALE 1 by default).
per() { awk -v n="$1" -v t="$2" -v s="${3:-1}" 'BEGIN{if (n > 0) printf "%.4g\n", t / n * s; else print "n/a"}'; }

wal_lsn() { psql "$SU/postgres" -qAtX -c "SELECT pg_current_wal_lsn()"; }
wal_bytes() { psql "$SU/postgres" -qAtX -c "SELECT pg_wal_lsn_diff('$2', '$1')::bigint"; }
q() { psql "$DB" -qAtX -F ' ' -c "$1"; }
# bytes_per LABEL TABLE SIZE: a summary row of SIZE (an SQL expression) bytes per row of TABLE.
bytes_per() {
  local rows bytes
  read -r rows bytes < <(q "SELECT (SELECT count(*) FROM $2), $3")
  row "$1" postgres "$(per "$rows" "$bytes")" "bytes"
}

# backlog_events: the events acknowledged but not yet in the rollups ("?" when not known).
backlog_events() {
  { curl -fs "http://127.0.0.1:$PORT/metrics" || true; } | awk '/^litmus_rollup_backlog_events /{e = $2} END{if (e == "") print "?"; else print e + 0}'
}

sdk_key() {
  curl -fs -H "Authorization: Bearer $KEY" -d '{"name": "capacity"}' "http://127.0.0.1:$PORT/admin/keys" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'
}

# drain STORE LABEL EVENTS ENV...: a server with the rollups on over the queue the ingestion
# left; its CPU to the drained queue, less an idle start ($READY_CPU), per 1,000 events.
drain() {
  local store=$1 label=$2 events=$3 t0 t1 c before after
  shift 3
  before=$WORK/pg-drain-0 after=$WORK/pg-drain-1
  : >"$before"
  t0=$(date +%s.%N)
  start_server "$@"
  local waited=0
  while [ "$(backlog_events)" != 0 ]; do
    sleep 0.2
    waited=$((waited + 1))
    [ "$waited" -lt 3000 ] || { echo "the rollups did not drain in 10 minutes" >&2; exit 1; }
  done
  t1=$(date +%s.%N)
  settle "$SERVER_PID"
  local whole
  whole=$(cpu "$SERVER_PID")
  c=$(awk -v c="$whole" -v r="$READY_CPU" 'BEGIN{printf "%.3f", c - r}')
  echo "rollups ($label): $events events applied in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}') s (wall, from the start), server CPU $c s ($whole s less an idle start's $READY_CPU s) = $(per "$events" "$c" 1000) s per 1,000 events"
  row "rollups: server CPU per 1,000 events ($label)" "$store" "$(per "$events" "$c" 1000)" "CPU s"
  if [ "$store" = postgres ]; then
    pg_cpu "$after"
    local pgc
    pgc=$(cpu_delta "$before" "$after")
    echo "rollups ($label): PostgreSQL backends CPU $pgc s = $(per "$events" "$pgc" 1000) s per 1,000 events"
    row "rollups: PostgreSQL backends' CPU per 1,000 events ($label)" "$store" "$(per "$events" "$pgc" 1000)" "CPU s"
  fi
}

# ingest STORE BATCH ENV...: ingestion alone (rollups off) into a fresh store; sets EVENTS.
ingest() {
  local store=$1 batch=$2 out c0 c1 sdk wal0 wal1 label
  shift 2
  label="batches of $batch${NOTE:-}"
  start_server LITMUS_ROLLUPS=off "$@"
  READY_CPU=$(cpu "$SERVER_PID")
  sdk=$(sdk_key)
  "$PREPARE"
  out=$WORK/ingest.txt
  if [ "$store" = postgres ]; then
    pg_cpu "$WORK/pg0"; pg_all_cpu "$WORK/pgall0"; wal0=$(wal_lsn)
  fi
  c0=$(cpu "$SERVER_PID")
  "$BIN/ingest-load" "127.0.0.1:$PORT" "$sdk" --seconds "$INGEST_SECONDS" --connections "$INGEST_CONNECTIONS" --batch "$batch" "${LOAD_FLAGS[@]}" | tee "$out"
  settle "$SERVER_PID"
  c1=$(cpu "$SERVER_PID")
  EVENTS=$(awk '/^HTTP \/events:/{print $3}' "$out")
  local c
  c=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.3f", b - a}')
  echo "ingestion ($label): server CPU $c s for $EVENTS events = $(per "$EVENTS" "$c" 1000) s per 1,000 events"
  row "ingestion: server CPU per 1,000 events ($label)" "$store" "$(per "$EVENTS" "$c" 1000)" "CPU s"
  if [ "$store" = postgres ]; then
    pg_cpu "$WORK/pg1"; pg_all_cpu "$WORK/pgall1"; wal1=$(wal_lsn)
    local pgc all wal
    pgc=$(cpu_delta "$WORK/pg0" "$WORK/pg1")
    all=$(cpu_delta "$WORK/pgall0" "$WORK/pgall1")
    wal=$(wal_bytes "$wal0" "$wal1")
    echo "ingestion ($label): PostgreSQL backends CPU $pgc s = $(per "$EVENTS" "$pgc" 1000) s per 1,000 events; every PostgreSQL process (shared cluster) $all s; WAL $wal bytes = $(per "$EVENTS" "$wal") per event"
    row "ingestion: PostgreSQL backends' CPU per 1,000 events ($label)" "$store" "$(per "$EVENTS" "$pgc" 1000)" "CPU s"
    row "ingestion: every PostgreSQL process's CPU per 1,000 events ($label; shared cluster)" "$store" "$(per "$EVENTS" "$all" 1000)" "CPU s"
    row "ingestion: WAL per event ($label; the cluster's)" "$store" "$(per "$EVENTS" "$wal")" "bytes"
  fi
}

# catalogue_metrics: METRICS catalogue metrics, each with a filter on the events' properties
# (conversion, mean and quantile in turn), used by the load's four experiments.
catalogue_metrics() {
  python3 - "$PORT" "$KEY" "$METRICS" <<'PY'
import json, sys, urllib.request
port, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def put(path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="PUT",
        data=json.dumps(body).encode(), headers={"Authorization": f"Bearer {key}"})
    urllib.request.urlopen(req).read()
for i in range(n):
    kind = ["conversion", "mean", "quantile"][i % 3]
    m = {"kind": kind, "event": ["purchase", "click", "view"][i % 3],
         "filter": {"attribute": "amount", "op": "gte", "value": i * 5}}
    if kind == "quantile":
        m["quantile"] = 0.9
    put(f"/admin/metrics/m{i}", m)
for e in range(4):
    put(f"/admin/experiments/exp-{e}", {"status": "running",
        "variants": [{"key": "control"}, {"key": "treatment"}],
        "metrics": [{"metric": f"m{i}"} for i in range(n)]})
PY
}

# pg_sizes: each table's rows and bytes (with indexes and TOAST), and per row.
pg_sizes() {
  echo "| table | rows | bytes (with indexes) | of which indexes | bytes per row | index bytes per row |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  local t rows bytes index
  for t in events event_ids pending_batches applied_batches exposures unit_state rollup_exposures rollup_metrics rollup_exposures_hourly rollup_metrics_hourly rollup_sketches rollup_sketches_daily segment_subjects; do
    if [ "$t" = events ]; then
      read -r rows bytes index < <(q "SELECT (SELECT count(*) FROM events), hypertable_size('events'), COALESCE(hypertable_index_size('events'), 0)")
    else
      read -r rows bytes index < <(q "SELECT (SELECT count(*) FROM $t), pg_total_relation_size('$t'), pg_indexes_size('$t')")
    fi
    echo "| $t | $rows | $bytes | $index | $(per "$rows" "$bytes") | $(per "$rows" "$index") |"
  done
}

# pg_synthetic: bytes per rollup row on SYNTHETIC_ROWS rows in copies of the rollup tables.
pg_synthetic() {
  local n=$SYNTHETIC_ROWS
  # Keys as an application names them: 200 experiments, 2 variants, 10 metrics, consecutive
  # minutes (hours; for sketches 50 buckets), each primary key once.
  q "CREATE TABLE cap_rm (LIKE rollup_metrics INCLUDING ALL);
     INSERT INTO cap_rm (experiment, variant, metric, minute_ms, events, units, sum, sum_squares, covariate_sum, covariate_squares, cross_sum)
       SELECT 'checkout-exp-' || (g % 200), (ARRAY['control', 'treatment'])[1 + g / 200 % 2], 'metric-' || (g / 400 % 10),
              1796000000000 + (g / 4000) * 60000, 1 + g % 50, g % 20, g * 1.5, g * 2.25, g * 0.5, g * 0.25, g * 0.75
       FROM generate_series(0, $n - 1) g;
     CREATE TABLE cap_re (LIKE rollup_exposures INCLUDING ALL);
     INSERT INTO cap_re (experiment, variant, minute_ms, units)
       SELECT 'checkout-exp-' || (g % 200), (ARRAY['control', 'treatment'])[1 + g / 200 % 2], 1796000000000 + (g / 400) * 60000, 1 + g % 50
       FROM generate_series(0, $n - 1) g;
     CREATE TABLE cap_rmh (LIKE rollup_metrics_hourly INCLUDING ALL);
     INSERT INTO cap_rmh SELECT experiment, variant, metric, minute_ms, events, units, sum, sum_squares, covariate_sum, covariate_squares, cross_sum FROM cap_rm;
     CREATE TABLE cap_rs (LIKE rollup_sketches INCLUDING ALL);
     INSERT INTO cap_rs (experiment, variant, metric, hour_ms, bucket, count)
       SELECT 'checkout-exp-' || (g % 200), (ARRAY['control', 'treatment'])[1 + g / 200 % 2], 'metric-' || (g / 400 % 10),
              1796000000000 + (g / 200000) * 3600000, g / 4000 % 50, 1 + g % 9
       FROM generate_series(0, $n - 1) g;" >/dev/null
  q "VACUUM ANALYZE cap_rm, cap_re, cap_rmh, cap_rs" >/dev/null
  echo "bytes per rollup row, $n synthetic rows per table (same columns, primary key and indexes):"
  local t copy bytes
  for t in rollup_metrics:cap_rm rollup_exposures:cap_re rollup_metrics_hourly:cap_rmh rollup_sketches:cap_rs; do
    copy=${t#*:}
    bytes=$(q "SELECT pg_total_relation_size('$copy')")
    echo "  ${t%%:*}: $bytes bytes = $(per "$n" "$bytes") bytes per row (indexes: $(q "SELECT pg_indexes_size('$copy')") bytes)"
    row "bytes per rollup row, with indexes: ${t%%:*}" postgres "$(per "$n" "$bytes")" "bytes"
  done
  q "DROP TABLE cap_rm, cap_re, cap_rmh, cap_rs" >/dev/null
}

# sqlite_sizes DIR: each table of the store with its indexes (dbstat), rows and bytes.
sqlite_sizes() {
  python3 - "$1/litmus.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
owner = {name: tbl for name, tbl in db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
sizes = {}
for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
    t = owner.get(name, name)
    sizes[t] = sizes.get(t, 0) + size
print("| table | rows | bytes (with indexes) | bytes per row |")
print("| --- | ---: | ---: | ---: |")
for t in ("events", "pending_batches", "applied_batches", "exposures", "unit_state", "rollup_exposures", "rollup_metrics", "rollup_exposures_hourly", "rollup_metrics_hourly"):
    if t not in sizes:
        continue
    rows = db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
    print(f"| {t} | {rows} | {sizes[t]} | {sizes[t] / rows if rows else 0:.1f} |")
PY
}

dir_bytes() { du -sb "$1" | cut -f1; }

# redis_calls: "command=calls ..." of the private Redis since its last RESETSTAT, leaving out
# the commands this script sends (info, dbsize, scan, config).
redis_calls() {
  redis-cli -p "$RPORT" INFO commandstats | tr -d '\r' \
    | sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\),.*/\1=\2/p' | grep -vE '^(info|dbsize|scan|config[|a-z]*)=' | tr '\n' ' '
}
redis_memory() { redis-cli -p "$RPORT" INFO memory | tr -d '\r' | awk -F: '/^used_memory:/{print $2}'; }

# assign STORE UNITS LABEL: POST /assign at the peak for ASSIGN_SECONDS, a unit drawn among
# UNITS; CPU (and with Redis, commands, keys and memory) per assignment. For "returning" units
# the same units are assigned for WARM_SECONDS first, so nearly all are remembered already.
assign() {
  local store=$1 units=$2 label=$3 out c0 c1 n c sdk=$SDK
  out=$WORK/assign.txt
  if [ "$label" = returning ]; then
    "$BIN/server-load" "127.0.0.1:$PORT" "$sdk" --mix assign=1 --seconds "$WARM_SECONDS" \
      --connections "$ASSIGN_CONNECTIONS" --assign-units "$units" >/dev/null || true
    settle "$SERVER_PID"
  fi
  if [ "$store" = postgres ]; then
    redis-cli -p "$RPORT" CONFIG RESETSTAT >/dev/null
    MEM0=$(redis_memory)
    KEYS0=$(redis-cli -p "$RPORT" DBSIZE)
    RCPU0=$(cpu "$REDIS_PID")
    pg_cpu "$WORK/pg0"
  fi
  c0=$(cpu "$SERVER_PID")
  "$BIN/server-load" "127.0.0.1:$PORT" "$sdk" --mix assign=1 --seconds "$ASSIGN_SECONDS" \
    --connections "$ASSIGN_CONNECTIONS" --assign-units "$units" --pid "$SERVER_PID" | tee "$out" | grep -E '^\| +total|^  error|^server-load:' || true
  settle "$SERVER_PID"
  c1=$(cpu "$SERVER_PID")
  n=$(awk -F'|' '$2 ~ /total/ && $3 ~ /assign/ {gsub(/ /, "", $4); print $4}' "$out")
  c=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.3f", b - a}')
  echo "POST /assign ($label units, among $units): server CPU $c s for $n assigns = $(per "$n" "$c" 1000) s per 1,000"
  row "POST /assign ($label units): server CPU per 1,000" "$store" "$(per "$n" "$c" 1000)" "CPU s"
  if [ "$store" = postgres ]; then
    local pgc rc mem1 keys1 calls total
    pg_cpu "$WORK/pg1"
    pgc=$(cpu_delta "$WORK/pg0" "$WORK/pg1")
    rc=$(awk -v a="$RCPU0" -v b="$(cpu "$REDIS_PID")" 'BEGIN{printf "%.3f", b - a}')
    calls=$(redis_calls)
    total=$(tr ' ' '\n' <<<"$calls" | awk -F= '{s += $2} END{print s + 0}')
    mem1=$(redis_memory)
    keys1=$(redis-cli -p "$RPORT" DBSIZE)
    echo "POST /assign ($label units): PostgreSQL backends CPU $pgc s (the holdout exposures /assign logs) = $(per "$n" "$pgc" 1000) s per 1,000"
    echo "POST /assign ($label units): redis-server CPU $rc s = $(per "$n" "$rc" 1000) s per 1,000; the server's commands: ${calls}= $total, $(per "$n" "$total") per assign"
    echo "POST /assign ($label units): keys $KEYS0 -> $keys1 ($(per "$n" $((keys1 - KEYS0))) new sticky keys per assign); used_memory $MEM0 -> $mem1"
    row "POST /assign ($label units): PostgreSQL backends' CPU per 1,000 (holdout exposures)" "$store" "$(per "$n" "$pgc" 1000)" "CPU s"
    row "POST /assign ($label units): redis-server CPU per 1,000" "$store" "$(per "$n" "$rc" 1000)" "CPU s"
    row "POST /assign ($label units): Redis commands per assign (${calls% })" "$store" "$(per "$n" "$total")" "commands"
    row "POST /assign ($label units): new sticky keys per assign" "$store" "$(per "$n" $((keys1 - KEYS0)))" "keys"
    if [ "$label" = new ]; then
      echo "Redis memory per sticky key: $(per $((keys1 - KEYS0)) $((mem1 - MEM0))) bytes (used_memory delta / keys added)"
      row "Redis used_memory per sticky key" "$store" "$(per $((keys1 - KEYS0)) $((mem1 - MEM0)))" "bytes"
    fi
  fi
}

# config: GET /sdk/config with the body (200) and with If-None-Match (304), CPU per 1,000.
config() {
  local sdk=$SDK mode c0 n c
  for mode in config config304; do
    c0=$(cpu "$SERVER_PID")
    "$BIN/server-load" "127.0.0.1:$PORT" "$sdk" --mix "$mode=1" --seconds "$CONFIG_SECONDS" \
      --connections "$ASSIGN_CONNECTIONS" >"$WORK/config.txt" || true
    settle "$SERVER_PID"
    n=$(awk -F'|' '$2 ~ /total/ {gsub(/ /, "", $4); print $4}' "$WORK/config.txt")
    c=$(awk -v a="$c0" -v b="$(cpu "$SERVER_PID")" 'BEGIN{printf "%.3f", b - a}')
    echo "GET /sdk/config ($mode): server CPU $c s for $n requests = $(per "$n" "$c" 1000) s per 1,000"
    row "GET /sdk/config ($mode): server CPU per 1,000" sqlite "$(per "$n" "$c" 1000)" "CPU s"
  done
}

echo "litmus-server capacity: per-unit costs on $(nproc) cores shared with the load generators (CPU figures are CPU seconds, not wall time)"
for STORE in $STORES; do
  case $STORE in
    postgres)
      first=1
      for B in $BATCHES; do
        echo
        echo "== PostgreSQL + TimescaleDB: ingestion, batches of $B"
        fresh_db "$DBNAME"
        ingest postgres "$B" DATABASE_URL="$DB"
        stop_server
        if [ "$first" = 1 ]; then
          echo "after ingestion ($EVENTS events, rollups not yet applied):"
          pg_sizes
          bytes_per "bytes per event: events hypertable + event_ids (with indexes)" events \
            "hypertable_size('events') + pg_total_relation_size('event_ids')"
          bytes_per "bytes per event waiting for the rollups (pending_batches, deleted at checkpoints)" events \
            "pg_total_relation_size('pending_batches')"
        fi
        drain postgres "batches of $B" "$EVENTS" DATABASE_URL="$DB"
        stop_server
        if [ "$first" = 1 ]; then
          echo "after the rollups:"
          pg_sizes
          bytes_per "bytes per unit: unit_state (4 experiments x 3 metrics each)" unit_state \
            "pg_total_relation_size('unit_state')"
          bytes_per "bytes per (experiment, unit): exposures" exposures "pg_total_relation_size('exposures')"
          pg_synthetic
          first=0
        fi
        drop_db "$DBNAME"
      done
      if [ "$METRICS" -gt 0 ]; then
        B=$METRICS_BATCH
        echo
        echo "== PostgreSQL + TimescaleDB: rollups with $METRICS catalogue metrics (filters on properties) in the 4 experiments, batches of $B"
        fresh_db "$DBNAME"
        PREPARE=catalogue_metrics LOAD_FLAGS=(--properties on) NOTE=", $METRICS metrics, with properties"
        ingest postgres "$B" DATABASE_URL="$DB" >"$WORK/metrics-ingest.txt"
        PREPARE=true LOAD_FLAGS=() NOTE=""
        grep -E '^ingestion' "$WORK/metrics-ingest.txt"
        stop_server
        read -r rows bytes < <(q "SELECT (SELECT count(*) FROM events), hypertable_size('events') + pg_total_relation_size('event_ids')")
        echo "events with properties: $rows events, $bytes bytes in events and event_ids = $(per "$rows" "$bytes") bytes per event"
        row "bytes per event with properties: events hypertable + event_ids (with indexes)" postgres "$(per "$rows" "$bytes")" "bytes"
        drain postgres "$METRICS metrics, batches of $B" "$EVENTS" DATABASE_URL="$DB"
        stop_server
        read -r rows minutes < <(q "SELECT count(*), count(DISTINCT minute_ms) FROM rollup_metrics")
        echo "rollup_metrics: $rows rows over $minutes minutes ($(per "$minutes" "$rows") a minute; sketches: $(q "SELECT count(*) FROM rollup_sketches") rows)"
        drop_db "$DBNAME"
      fi
      echo
      echo "== PostgreSQL + Redis: POST /assign (a private redis-server, default settings)"
      RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
      REDIS_PID=$!
      for _ in $(seq 1 50); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
      echo "redis-server $(redis-cli -p "$RPORT" INFO server | tr -d '\r' | sed -n 's/^redis_version://p') on port $RPORT"
      fresh_db "$DBNAME"
      start_server DATABASE_URL="$DB" REDIS_URL="redis://127.0.0.1:$RPORT"
      SDK=$(seed)
      assign postgres "$ASSIGN_UNITS" new
      assign postgres "$RETURNING_UNITS" returning
      stop_server
      stop_redis
      drop_db "$DBNAME"
      ;;
    sqlite)
      first=1
      for B in $BATCHES; do
        echo
        echo "== SQLite: ingestion, batches of $B"
        DATA=$WORK/data-$B
        ingest sqlite "$B" LITMUS_DATA="$DATA"
        stop_server
        echo "data folder after ingestion: $(dir_bytes "$DATA") bytes (the database and its WAL)"
        drain sqlite "batches of $B" "$EVENTS" LITMUS_DATA="$DATA"
        stop_server
        if [ "$first" = 1 ]; then
          echo "after the rollups (the data folder: $(dir_bytes "$DATA") bytes):"
          sqlite_sizes "$DATA" | tee "$WORK/sqlite-sizes.txt"
          row "bytes per event: events table with its indexes" sqlite "$(awk -F'|' '$2 ~ / events / {gsub(/ /, "", $5); print $5}' "$WORK/sqlite-sizes.txt")" "bytes"
          row "bytes per event: data folder after the rollups / events" sqlite "$(per "$EVENTS" "$(dir_bytes "$DATA")")" "bytes"
          first=0
        fi
        rm -rf "$DATA"
      done
      echo
      echo "== SQLite, in-process cache: POST /assign and GET /sdk/config"
      start_server LITMUS_DATA="$WORK/data-assign"
      SDK=$(seed)
      assign sqlite "$ASSIGN_UNITS" new
      assign sqlite "$RETURNING_UNITS" returning
      config
      stop_server
      ;;
    *) echo "unknown store $STORE" >&2; exit 2 ;;
  esac
done

echo
if [ "$SDK_BENCH" = on ]; then
  echo "== in-process SDK assignment (cargo bench -p litmus-benches --bench assign, short)"
  cargo bench --locked -p litmus-benches --bench assign -- --warm-up-time 1 --measurement-time 3 2>&1 \
    | sed -n '/^ratios to the floors/,$p' | tee "$WORK/bench.txt"
  while read -r name ns _; do
    row "SDK assign, in process: $name (ns per call)" core "$ns" "ns"
  done < <(awk '/^  assign_/{print $1, $2}' "$WORK/bench.txt")
else
  echo "in-process SDK assignment: run cargo bench -p litmus-benches --bench assign"
fi

echo
echo "== CPU and memory per SSE client"
if [ "$SSE" = on ] && [ -f benches/server/sse.sh ]; then
  CLIENTS=$SSE_CLIENTS bash benches/server/sse.sh
  row "CPU and memory per SSE client ($SSE_CLIENTS clients)" server "the sse.sh output above" ""
else
  echo "run benches/server/sse.sh"
  row "CPU and memory per SSE client" server "run benches/server/sse.sh" ""
fi

echo
echo "== summary (bash benches/server/capacity.sh)"
echo "| figure | store | value | unit |"
echo "| --- | --- | ---: | --- |"
cat "$SUMMARY"
