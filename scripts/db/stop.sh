#!/usr/bin/env bash
# Stops the PostgreSQL and Redis that start.sh started (found by data folder and pid file;
# nothing else). LITMUS_DB_PURGE=1 also deletes $LITMUS_DB_DIR.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"
[ "$(id -u)" = 0 ] || die "run as root"
rc=0
if pg_running; then
  log "stopping PostgreSQL"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null || { log "pg_ctl stop failed"; rc=1; }
fi
if [ -f "$REDIS_DIR/redis.pid" ] && kill -0 "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null; then
  pid=$(cat "$REDIS_DIR/redis.pid")
  log "stopping Redis"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && { log "Redis (pid $pid) is still running"; rc=1; }
fi
if [ "${LITMUS_DB_PURGE:-0}" = 1 ]; then log "deleting $DIR"; rm -rf --one-file-system "$DIR"; fi
exit $rc
