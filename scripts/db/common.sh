# Shared by the database scripts (setup.sh, start.sh, stop.sh): settings, paths and helpers.
# Sourced, not run. Every setting can be overridden from the environment:
#   LITMUS_DB_DIR      state folder (cluster, logs, Redis, TimescaleDB source)   /var/lib/litmus-db
#   LITMUS_PG_PORT     PostgreSQL's TCP port on 127.0.0.1                         55432
#   LITMUS_REDIS_PORT  Redis's TCP port on 127.0.0.1                              56379
#   LITMUS_DB_NAME     the database start.sh creates                              litmus
#   LITMUS_PG_FAST=1   start PostgreSQL without fsync (throwaway data only)
# shellcheck shell=bash
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${LITMUS_DB_DIR:-/var/lib/litmus-db}
PG_PORT=${LITMUS_PG_PORT:-55432}
REDIS_PORT=${LITMUS_REDIS_PORT:-56379}
DB_NAME=${LITMUS_DB_NAME:-litmus}
DB_USER=litmus
DB_PASS=litmus
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_DATA=$DIR/pg$PG_MAJOR
PG_RUN=$DIR/run
PG_LOG=$DIR/log/postgresql.log
REDIS_DIR=$DIR/redis
REDIS_CONF=$REDIS_DIR/redis.conf
DATABASE_URL="postgres://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

log() { printf '[db %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
. "$REPO_ROOT/scripts/lib/debian.sh"

# PostgreSQL refuses to run as root: every server command runs as the `postgres` user.
as_pg() { runuser -u postgres -- "$@"; }
pg_running() { [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
