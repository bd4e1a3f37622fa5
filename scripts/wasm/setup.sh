#!/usr/bin/env bash
# setup.sh [--bindgen] — a Rust -> wasm32-unknown-unknown toolchain on a Debian bookworm host.
#
# rustup cannot download the wasm32 target here, and Debian ships its wasm32 std
# (libstd-rust-dev-wasm32) only for trixie and later, whose binaries need a newer glibc than
# bookworm's. So this debootstraps a minimal Debian trixie root (WASM_ROOT, default
# /opt/wasm-root, ~1 GB, ~1 min) holding rustc/cargo 1.85, the wasm32 std, lld-19 (the wasm
# linker) and binaryen (wasm-opt). Run commands in it with chroot.sh.
#
# --bindgen (or WASM_BINDGEN=1) also builds wasm-bindgen-cli with the HOST toolchain (its MSRV
# is above 1.85) into WASM_TOOLS/bin (default /opt/wasm-tools), at the version locked in the
# workspace Cargo.lock (default 0.2.130; WASM_BINDGEN_VERSION overrides). ~5 min, once.
#
# Idempotent: every step is skipped when its stamp says it is done; a second run takes well
# under a second. The Debian mirror is the one in this machine's apt sources (DEBIAN_MIRROR
# overrides). Nothing in the host's apt configuration is changed; the only host package it may
# install is debootstrap. Step logs go to WASM_LOGS (default $WASM_ROOT.logs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"

BINDGEN=${WASM_BINDGEN:-0}
for arg in "$@"; do
  case $arg in
    --bindgen) BINDGEN=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: setup.sh [--bindgen])" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "setup.sh must run as root (debootstrap, mount, chroot)"
case $WASM_SUITE in
  trixie) LLD=lld-19 ;;
  *) die "unsupported WASM_SUITE=$WASM_SUITE (trixie is the tested suite)" ;;
esac
case $WASM_ROOT in
  /|/bin|/boot|/dev|/etc|/home|/lib|/lib64|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/var)
    die "refusing WASM_ROOT=$WASM_ROOT" ;;
esac
PKGS="rustc cargo libstd-rust-dev-wasm32 $LLD binaryen ca-certificates"
STAMP="suite=$WASM_SUITE pkgs=$PKGS"

# One setup at a time (CI and a developer may start it together).
mkdir -p "$(dirname "$WASM_ROOT")"
exec 9>"$WASM_ROOT.lock"
flock -w 900 9 || die "another setup.sh holds $WASM_ROOT.lock"

# Run a command in the root (common.sh's root_run: private mounts, env -i).
in_root() { root_run "$WASM_ROOT" DEBIAN_FRONTEND=noninteractive -- "$@"; }

# ---- 1. wasm-bindgen-cli (optional; CPU-bound, so it runs in the background while the
#         network/disk-bound debootstrap and apt steps run) --------------------------------------
WBG_PID=
if [ "$BINDGEN" = 1 ]; then
  LOCKED_WBG=$(locked_wasm_bindgen)
  WBG_VERSION=${WASM_BINDGEN_VERSION:-${LOCKED_WBG:-0.2.130}}
  if [ -n "$LOCKED_WBG" ] && [ "$LOCKED_WBG" != "$WBG_VERSION" ]; then
    log "warning: Cargo.lock has wasm-bindgen $LOCKED_WBG but WASM_BINDGEN_VERSION=$WBG_VERSION"
  fi
  if [ "$("$WASM_TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" = "$WBG_VERSION" ]; then
    log "wasm-bindgen $WBG_VERSION present in $WASM_TOOLS/bin"
  else
    command -v cargo >/dev/null || die "--bindgen needs the host's cargo (rustup) on PATH"
    mkdir -p "$WASM_TOOLS" "$WASM_LOGS"
    log "cargo install wasm-bindgen-cli $WBG_VERSION on the host (background; log $WASM_LOGS/wasm-bindgen.log)"
    # --locked first (reproducible). Its lock file can name a dependency version the registry
    # does not serve (seen: webpki-roots 1.0.11 for 0.2.130); then resolve afresh.
    ( cd /tmp && for lock in --locked ""; do
        # shellcheck disable=SC2086  # $lock is empty or one flag
        env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET cargo install wasm-bindgen-cli \
          --version "=$WBG_VERSION" $lock --root "$WASM_TOOLS" && exit 0
        echo "[setup] cargo install ${lock:-(unlocked)} failed"
      done; exit 1 ) >"$WASM_LOGS/wasm-bindgen.log" 2>&1 &
    WBG_PID=$!
  fi
fi

# ---- 2. debootstrap on the host ------------------------------------------------------------------
if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
  log "apt-get install debootstrap (host)"
  run host-apt-update apt-get update
  run host-apt-install env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends debootstrap
fi
DEBOOTSTRAP=$(command -v debootstrap || echo /usr/sbin/debootstrap)

# ---- 3. the minimal root -------------------------------------------------------------------------
if [ "$(cat "$WASM_ROOT/.debootstrap-ok" 2>/dev/null)" = "$WASM_SUITE" ]; then
  log "debootstrap root $WASM_ROOT ($WASM_SUITE) present"
else
  MIRROR=${DEBIAN_MIRROR:-$(debian_mirror)}
  if [ -e "$WASM_ROOT" ]; then
    # Only ever delete what an earlier (possibly interrupted) run of this script made.
    if [ -n "$(ls -A "$WASM_ROOT")" ] && [ ! -d "$WASM_ROOT/debootstrap" ] \
       && [ ! -f "$WASM_ROOT/.debootstrap-ok" ]; then
      die "$WASM_ROOT exists and is not a root made by setup.sh: move it away or set WASM_ROOT"
    fi
    if findmnt -rn -o TARGET | grep -q "^$WASM_ROOT/"; then
      die "something is mounted under $WASM_ROOT (see findmnt); unmount it first"
    fi
    log "removing the incomplete root $WASM_ROOT"
    rm -rf --one-file-system "$WASM_ROOT"
  fi
  log "debootstrap --variant=minbase $WASM_SUITE -> $WASM_ROOT (mirror $MIRROR)"
  run debootstrap "$DEBOOTSTRAP" --variant=minbase --include=ca-certificates \
    "$WASM_SUITE" "$WASM_ROOT" "$MIRROR"
  echo "$WASM_SUITE" >"$WASM_ROOT/.debootstrap-ok"
fi

# ---- 4. Rust, the wasm32 std, lld and binaryen in the root ----------------------------------------
if [ "$(cat "$WASM_ROOT/.wasm-setup-ok" 2>/dev/null)" = "$STAMP" ]; then
  log "packages present in the root"
else
  MIRROR=${DEBIAN_MIRROR:-$(debian_mirror)}
  SECURITY=${DEBIAN_SECURITY_MIRROR:-$(debian_security_mirror)}
  cat >"$WASM_ROOT/etc/apt/sources.list" <<SRC
deb $MIRROR $WASM_SUITE main
deb $MIRROR $WASM_SUITE-updates main
deb $SECURITY $WASM_SUITE-security main
SRC
  # A mirror can serve a Release file past its Valid-Until: do not let that stop apt.
  echo 'Acquire::Check-Valid-Until "false";' >"$WASM_ROOT/etc/apt/apt.conf.d/99wasm-root"
  # Keep the root small: no docs, man pages or locales, and no WASI std (~220 MB).
  cat >"$WASM_ROOT/etc/dpkg/dpkg.cfg.d/01-nodoc" <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/lib/rustlib/wasm32-wasip*
CFG
  log "apt-get update (root)"
  run root-apt-update in_root apt-get update
  log "apt-get install in the root: $PKGS"
  # shellcheck disable=SC2086  # $PKGS is a word list
  run root-apt-install in_root apt-get install -y --no-install-recommends $PKGS
  run root-apt-clean in_root apt-get clean
  echo "$STAMP" >"$WASM_ROOT/.wasm-setup-ok"
fi

# Debian's wasm32 target spec links with `rust-lld -flavor wasm`, but Debian ships no rust-lld
# ("error: linker `rust-lld` not found"): lld is multi-call and honours -flavor.
if [ "$(readlink "$WASM_ROOT/usr/local/bin/rust-lld" 2>/dev/null)" != "/usr/bin/$LLD" ]; then
  ln -sfn "/usr/bin/$LLD" "$WASM_ROOT/usr/local/bin/rust-lld"
fi
[ -x "$WASM_ROOT/usr/bin/$LLD" ] || die "$LLD missing in $WASM_ROOT (rm $WASM_ROOT/.wasm-setup-ok and rerun)"
[ -d "$WASM_ROOT/usr/lib/rustlib/wasm32-unknown-unknown/lib" ] \
  || die "wasm32 std missing in $WASM_ROOT (rm $WASM_ROOT/.wasm-setup-ok and rerun)"
log "root ready: $(in_root rustc --version)"

# ---- 5. wait for wasm-bindgen-cli ---------------------------------------------------------------
if [ -n "$WBG_PID" ]; then
  log "waiting for the wasm-bindgen-cli build"
  if ! wait "$WBG_PID"; then
    echo "wasm: error: cargo install wasm-bindgen-cli failed; last 40 lines of $WASM_LOGS/wasm-bindgen.log:" >&2
    tail -n 40 "$WASM_LOGS/wasm-bindgen.log" >&2
    exit 1
  fi
  log "$("$WASM_TOOLS/bin/wasm-bindgen" --version) in $WASM_TOOLS/bin"
fi
log "done"
