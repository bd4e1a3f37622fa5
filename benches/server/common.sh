# Shared by the server benchmarks (load.sh, ingest.sh, soak.sh): a work folder, the release server
# started on a free port and stopped at exit, and PostgreSQL + Redis from scripts/db (stopped
# at exit when started here). Sourced after `cd` to the repository; needs KEY and SERVER_BIN.
# shellcheck shell=bash
WORK=$(mktemp -d)
SERVER_PID=""
STARTED_DB=0
export PGOPTIONS="-c client_min_messages=warning"
SU="postgres://postgres@127.0.0.1:${LITMUS_PG_PORT:-55432}"
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ "$STARTED_DB" = 1 ] && bash scripts/db/stop.sh >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_server ENV...: the server on a free port ($PORT) with ENV (and nothing of the caller's
# DATABASE_URL / REDIS_URL), once /readyz answers.
start_server() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  env -u DATABASE_URL -u REDIS_URL LITMUS_LISTEN=127.0.0.1:$PORT LITMUS_ADMIN_KEY=$KEY RUST_LOG=warn "$@" "$SERVER_BIN" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/server.log" >&2; echo "the server did not start" >&2; exit 1
}

stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

# fresh_db NAME: PostgreSQL and Redis running (DATABASE_URL, REDIS_URL exported) and an empty
# database NAME, whose URL is set in DB. Not in a subshell: it sets the caller's variables.
fresh_db() {
  bash scripts/db/setup.sh >/dev/null 2>&1
  pg_isready -q -h 127.0.0.1 -p "${LITMUS_PG_PORT:-55432}" 2>/dev/null || STARTED_DB=1
  eval "$(bash scripts/db/start.sh 2>/dev/null)"
  psql "$SU/postgres" -qAtX -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  DB="${DATABASE_URL%/*}/$1"
}

drop_db() { psql "$SU/postgres" -qAtX -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }

# seed: the experiments of examples/config.json put through the admin API; prints a new SDK key.
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

# raise_nofile N: this shell's open-file limit raised to its hard limit (for the server and the
# clients it starts; the machine's configuration is left alone); fails when that is under N.
raise_nofile() {
  ulimit -n "$(ulimit -Hn)"
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$1" ]; then
    echo "need $1 open files, the hard limit is $(ulimit -Hn)" >&2; exit 1
  fi
}

# config_sizes SDK_KEY: the bytes of GET /sdk/config as identity, gzip and br.
config_sizes() {
  local url="http://127.0.0.1:$PORT/sdk/config" a="Authorization: Bearer $1" id gz br
  id=$(curl -fs -H "$a" "$url" | wc -c)
  gz=$(curl -fs -H "$a" -H "Accept-Encoding: gzip" "$url" | wc -c)
  br=$(curl -fs -H "$a" -H "Accept-Encoding: br" "$url" | wc -c)
  echo "GET /sdk/config: $id bytes identity, $gz gzip, $br br"
}

# sse_fanout LABEL CLIENTS STALLED ROUNDS: benches/src/bin/sse_fanout.rs against the server
# started by start_server, with the SDK key in SDK_KEY; prints its lines.
sse_fanout() {
  "${BIN:-$ROOT/target/release}/sse-fanout" "127.0.0.1:$PORT" "$SDK_KEY" "$KEY" \
    --label "$1" --clients "$2" --stalled "$3" --rounds "$4" --pid "$SERVER_PID"
}
