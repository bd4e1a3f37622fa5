#!/usr/bin/env bash
# Installs what the server's tests need, idempotently (0.1 s when done; about 20-90 s on a fresh
# Debian bookworm machine): bookworm's PostgreSQL 15 and Redis 7, and TimescaleDB 2.19 compiled
# for PostgreSQL 15 from Debian trixie's source package (Apache edition: hypertables,
# time_bucket, drop_chunks; no continuous aggregates, compression or jobs). Then a cluster in
# $LITMUS_DB_DIR and a Redis config. Needs root and this machine's Debian mirror; nothing in
# /etc/apt is changed (trixie's source index is read through a private apt configuration).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"
T0=$(date +%s)
[ "$(id -u)" = 0 ] || die "run as root"

# The source package's tarball, pinned, for when trixie's source index cannot be read.
TSDB_FALLBACK_VER=2.19.3+dfsg
TSDB_FALLBACK_SHA256=09fd11191768c220b071f61a108df9bd1df5522fbe4e7c2229f30f69b195454a

# ---------- 1. packages ----------
PKGS="postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR postgresql-server-dev-$PG_MAJOR redis-server redis-tools
      cmake make gcc libc6-dev libssl-dev dpkg-dev ca-certificates xz-utils curl"
mkdir -p "$DIR/log" "$REDIS_DIR"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "apt: installing$missing"
  # Keep package scripts from starting services (a stray Redis on 6379, the stock cluster).
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # server-dev comes at the newest 15.x: upgrade the server and client with it.
  # shellcheck disable=SC2086
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing \
    "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" >"$DIR/log/apt-install.log" 2>&1 \
    || { tail -30 "$DIR/log/apt-install.log" >&2; [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed"; }
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# ---------- 2. TimescaleDB for PostgreSQL 15 ----------
build_timescaledb() {
  local pgc=$PG_BIN/pg_config libdir sharedir src=$DIR/src apt=$DIR/apt mirror
  libdir=$($pgc --pkglibdir); sharedir=$($pgc --sharedir)
  if ls "$libdir"/timescaledb-2.*.so >/dev/null 2>&1 && [ -f "$sharedir/extension/timescaledb.control" ]; then
    return 0
  fi
  mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
  [ -n "$mirror" ] || die "no Debian mirror in /etc/apt (set DEBIAN_MIRROR)"
  rm -rf "$src"; mkdir -p "$src" "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$apt/sources.list"
  local O=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
           -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root)
  if apt-get "${O[@]}" update -qq >"$DIR/log/apt-src.log" 2>&1 &&
     (cd "$src" && apt-get "${O[@]}" source --download-only -qq timescaledb >>"$DIR/log/apt-src.log" 2>&1); then
    log "timescaledb: Debian source $(cd "$src" && ls ./*.dsc)"
    (cd "$src" && dpkg-source --no-check -x ./*.dsc tsdb >/dev/null)   # Debian's patches are test-only
  else
    log "timescaledb: apt source failed (see $DIR/log/apt-src.log); using the pinned tarball $TSDB_FALLBACK_VER"
    local orig="$src/timescaledb_${TSDB_FALLBACK_VER}.orig.tar.xz"
    curl -fsS -o "$orig" "$mirror/pool/main/t/timescaledb/timescaledb_${TSDB_FALLBACK_VER}.orig.tar.xz" \
      || die "cannot download the timescaledb source"
    echo "$TSDB_FALLBACK_SHA256  $orig" | sha256sum -c --quiet - || die "timescaledb tarball checksum mismatch"
    mkdir "$src/tsdb" && tar -xJf "$orig" -C "$src/tsdb" --strip-components=1
  fi
  rm -rf "$apt"
  [ -f "$src/tsdb/CMakeLists.txt" ] || die "timescaledb source not unpacked"
  log "timescaledb: compiling (Apache edition, no telemetry)"
  # Debian's own flags (the +dfsg tarball has no tsl/ directory).
  cmake -S "$src/tsdb" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG_CONFIG="$pgc" \
        -DAPACHE_ONLY=1 -DSEND_TELEMETRY_DEFAULT=OFF -DUSE_TELEMETRY=OFF \
        -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF >"$DIR/log/tsdb-cmake.log" 2>&1 \
    || { tail -20 "$DIR/log/tsdb-cmake.log" >&2; die "cmake failed"; }
  make -C "$src/build" -j"$(nproc)" >"$DIR/log/tsdb-make.log" 2>&1 || { tail -30 "$DIR/log/tsdb-make.log" >&2; die "make failed"; }
  make -C "$src/build" install >"$DIR/log/tsdb-install.log" 2>&1 || die "make install failed"
  rm -rf "$src"
  log "timescaledb: installed $(ls "$libdir"/timescaledb-2.*.so)"
}
build_timescaledb

# ---------- 3. the cluster ----------
mkdir -p "$PG_RUN" "$(dirname "$PG_LOG")"
chown postgres:postgres "$PG_RUN" "$(dirname "$PG_LOG")"
if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  log "initdb $PG_DATA (UTF8, C.UTF-8, trust on 127.0.0.1 only)"
  mkdir -p "$PG_DATA"; chown postgres:postgres "$PG_DATA"; chmod 700 "$PG_DATA"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/log/initdb.log" 2>&1 \
    || { cat "$DIR/log/initdb.log" >&2; die "initdb failed"; }
  echo "include_if_exists = 'litmus.conf'" >>"$PG_DATA/postgresql.conf"
fi
# Rewritten on every run, so a change here applies at the next start.
cat >"$PG_DATA/litmus.conf" <<CONF
# written by scripts/db/setup.sh: edit that script, not this file
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 200
shared_buffers = 512MB
max_wal_size = 2GB
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
timescaledb.max_background_workers = 8
max_worker_processes = 16
log_min_messages = warning
CONF
chown postgres:postgres "$PG_DATA/litmus.conf"

# ---------- 4. Redis ----------
chown redis:redis "$REDIS_DIR"
cat >"$REDIS_CONF" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_DIR/redis.pid
logfile $REDIS_DIR/redis.log
dir $REDIS_DIR
save ""
appendonly no
CONF
chown redis:redis "$REDIS_CONF"
log "setup done in $(( $(date +%s) - T0 )) s (state in $DIR)"
