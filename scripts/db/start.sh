#!/usr/bin/env bash
# Starts PostgreSQL (with TimescaleDB) and Redis on 127.0.0.1 unless they run already, waits
# until both answer, creates the role and database, and prints the connection settings as shell
# exports:   eval "$(bash scripts/db/start.sh)"   sets DATABASE_URL and REDIS_URL.
# The extension is also created in template1, so every database made later (one per test)
# has it.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"
[ "$(id -u)" = 0 ] || die "run as root"
[ -f "$PG_DATA/PG_VERSION" ] || die "no cluster at $PG_DATA: run scripts/db/setup.sh first"

if ! pg_running; then
  port_taken "$PG_PORT" && die "port $PG_PORT is used by another process"
  opts="-c port=$PG_PORT"
  [ "${LITMUS_PG_FAST:-0}" = 1 ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$PG_PORT"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "$opts" start >/dev/null \
    || { tail -20 "$PG_LOG" >&2; die "PostgreSQL did not start"; }
fi
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL is not ready on port $PG_PORT"

SU="postgres://postgres@127.0.0.1:$PG_PORT"
export PGOPTIONS="-c client_min_messages=warning"
psql "$SU/postgres" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "bootstrap SQL failed"
SELECT 'CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD ''$DB_PASS'''
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') \gexec
\c template1
CREATE EXTENSION IF NOT EXISTS timescaledb;
\c postgres
SELECT 'CREATE DATABASE "$DB_NAME" OWNER $DB_USER'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB_NAME') \gexec
SQL
psql "$SU/$DB_NAME" -qAtX -c "CREATE EXTENSION IF NOT EXISTS timescaledb" >/dev/null
TSV=$(psql "$SU/$DB_NAME" -qAtX -c "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
[ -n "$TSV" ] || die "the timescaledb extension is missing in $DB_NAME"

if ! redis_running; then
  [ -f "$REDIS_CONF" ] || die "no $REDIS_CONF: run scripts/db/setup.sh first"
  port_taken "$REDIS_PORT" && die "port $REDIS_PORT is used by another process"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  runuser -u redis -- redis-server "$REDIS_CONF" --port "$REDIS_PORT" || die "redis-server did not start"
  for _ in $(seq 1 60); do redis_running && break; sleep 0.25; done
  redis_running || { tail -20 "$REDIS_DIR/redis.log" >&2; die "Redis does not answer on port $REDIS_PORT"; }
fi
log "ready: PostgreSQL $(psql "$SU/$DB_NAME" -qAtX -c 'SHOW server_version' | cut -d' ' -f1), timescaledb $TSV ($(psql "$SU/$DB_NAME" -qAtX -c 'SHOW timescaledb.license') edition), Redis $(redis-cli -p "$REDIS_PORT" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p')"
echo "export DATABASE_URL=$DATABASE_URL"
echo "export REDIS_URL=$REDIS_URL"
