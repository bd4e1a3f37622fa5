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
SERVER_BIN=$ROOT/target/release/litmus-server
. benches/server/common.sh

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
cargo build --release --locked -p litmus-server 2>&1 | tail -1

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
      fresh_db litmus_load
      start_server DATABASE_URL="$DB" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="litmus-load-$$:" ;;
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
  [ "$BACKEND" = "postgres+redis" ] && drop_db litmus_load
done
