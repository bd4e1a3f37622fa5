#!/usr/bin/env bash
# Load test of litmus-server: requests per second and p50/p99 latency of GET /sdk/config (200
# with the body, and 304 for a client that has it) and POST /assign (a random unit among a
# million, every running experiment, sticky assignments written on first sight), on the embedded
# default (SQLite, in-process cache) and on PostgreSQL + Redis. wrk (Debian's) drives the load.
#
#   bash benches/server/load.sh                 both backends, 10 s per endpoint
#   DURATION=30s CONNECTIONS=64 bash benches/server/load.sh
#   BACKENDS=sqlite bash benches/server/load.sh
#
# The release server is built first. PostgreSQL and Redis come from scripts/db (installed and
# started when needed; stopped at the end if this script started them). The machine's cores are
# shared by wrk and the server: the figures are what one box serving and loading itself gives.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
BACKENDS=${BACKENDS:-"sqlite postgres+redis"}
KEY=load-admin-key
WORK=$(mktemp -d)
SERVER_PID=""
STARTED_DB=0
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ "$STARTED_DB" = 1 ] && bash scripts/db/stop.sh >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
cargo build --release --locked -p litmus-server 2>&1 | tail -1
BIN=$ROOT/target/release/litmus-server

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server ENV...: starts the server with ENV and waits for /readyz.
start_server() {
  PORT=$(free_port)
  env -u DATABASE_URL -u REDIS_URL LITMUS_LISTEN=127.0.0.1:$PORT LITMUS_ADMIN_KEY=$KEY RUST_LOG=warn "$@" "$BIN" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/server.log" >&2; echo "the server did not start" >&2; exit 1
}

stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

# The experiments of examples/config.json, and an SDK key.
seed() {
  python3 - "$PORT" "$KEY" <<'PY'
import json, sys, urllib.request
port, key = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
config = json.load(open("examples/config.json"))
for kind in ("layers", "holdouts", "experiments"):
    for obj in config.get(kind, []):
        call("PUT", f"/admin/{kind}/{obj['key']}", obj)
print(call("POST", "/admin/keys", {"name": "load"})["key"])
PY
}

# run NAME ARGS...: one wrk run; prints "NAME rps p50 p99".
run() {
  local name=$1; shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5} /Socket errors:/ {print "socket errors: " $0}' <<<"$out")
  printf '| %-16s | %-44s | %9s | %8s | %8s |%s\n' "$BACKEND" "$name" "$rps" "$p50" "$p99" "${errors:+ errors: $errors}"
}

cat >"$WORK/assign.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SDK_KEY")
request = function()
  local body = string.format('{"unit_id":"user-%d","attributes":{"country":"US","plan":"pro"}}',
    math.random(1, 1000000))
  return wrk.format(nil, "/assign", nil, body)
end
LUA

echo "litmus-server load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores shared by wrk and the server"
printf '| %-16s | %-44s | %9s | %8s | %8s |\n' backend endpoint "req/s" p50 p99
printf '| %-16s | %-44s | %9s | %8s | %8s |\n' "---" "---" "---:" "---:" "---:"
for BACKEND in $BACKENDS; do
  case $BACKEND in
    sqlite)
      start_server LITMUS_DATA="$WORK/data" ;;
    postgres+redis)
      bash scripts/db/setup.sh >/dev/null 2>&1
      pg_isready -q -h 127.0.0.1 -p "${LITMUS_PG_PORT:-55432}" 2>/dev/null || STARTED_DB=1
      eval "$(bash scripts/db/start.sh 2>/dev/null)"
      SU="postgres://postgres@127.0.0.1:${LITMUS_PG_PORT:-55432}"
      export PGOPTIONS="-c client_min_messages=warning"
      psql "$SU/postgres" -qAtX -c "DROP DATABASE IF EXISTS litmus_load WITH (FORCE)" -c "CREATE DATABASE litmus_load" >/dev/null
      start_server DATABASE_URL="${DATABASE_URL%/*}/litmus_load" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="litmus-load-$$:" ;;
    *) echo "unknown backend $BACKEND" >&2; exit 2 ;;
  esac
  SDK_KEY=$(seed)
  export SDK_KEY
  URL="http://127.0.0.1:$PORT"
  ETAG=$(curl -fsI -H "Authorization: Bearer $SDK_KEY" "$URL/sdk/config" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
  SIZE=$(curl -fs -H "Authorization: Bearer $SDK_KEY" "$URL/sdk/config" | wc -c)
  run "GET /sdk/config (200, $SIZE B)" -H "Authorization: Bearer $SDK_KEY" "$URL/sdk/config"
  run "GET /sdk/config (304, If-None-Match)" -H "Authorization: Bearer $SDK_KEY" -H "If-None-Match: $ETAG" "$URL/sdk/config"
  run "POST /assign (all experiments, sticky)" -s "$WORK/assign.lua" "$URL"
  stop_server
  [ "$BACKEND" = "postgres+redis" ] && psql "$SU/postgres" -qAtX -c "DROP DATABASE IF EXISTS litmus_load WITH (FORCE)" >/dev/null
done
