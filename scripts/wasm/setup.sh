#!/usr/bin/env bash
# setup.sh [--bindgen] — a Rust -> wasm32-unknown-unknown toolchain on a Debian bookworm host.
#
# rustup cannot download the wasm32 target here, and Debian's wasm32 std exists only for trixie
# and later, whose binaries need a newer glibc than bookworm's. So this debootstraps a minimal
# Debian trixie root (WASM_ROOT, default /opt/wasm-root, ~1 GB) holding rustc/cargo 1.85, the
# wasm32 std, lld (the wasm linker) and binaryen (wasm-opt). Enter it with chroot.sh.
#
# --bindgen (or WASM_BINDGEN=1) also builds wasm-bindgen-cli on the host toolchain into
# WASM_TOOLS/bin (its MSRV is above 1.85), at the version locked in Cargo.lock (~5 minutes once).
#
# Idempotent: a second run only checks stamps (well under a second). Touches nothing in the
# host's apt configuration; the only host package it may install is debootstrap.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
BINDGEN=${WASM_BINDGEN:-0}
[ "${1:-}" = "--bindgen" ] && BINDGEN=1
[ "$(id -u)" = 0 ] || { echo "setup.sh must run as root" >&2; exit 1; }
case "$WASM_SUITE" in
  trixie) LLD=lld-19 ;;
  *) echo "unsupported WASM_SUITE=$WASM_SUITE (trixie is the tested suite)" >&2; exit 2 ;;
esac
PKGS="rustc cargo libstd-rust-dev-wasm32 $LLD binaryen ca-certificates"
STAMP="suite=$WASM_SUITE pkgs=$PKGS"

if [ -f "$WASM_ROOT/.wasm-setup-ok" ] && [ "$(cat "$WASM_ROOT/.wasm-setup-ok")" = "$STAMP" ] \
   && [ "$BINDGEN" != 1 ]; then
  log "wasm root $WASM_ROOT ready"
  exit 0
fi

# 1. wasm-bindgen-cli (CPU-bound) in the background while debootstrap and apt (network-bound) run.
WBG_PID=
if [ "$BINDGEN" = 1 ]; then
  WBG_VERSION=${WASM_BINDGEN_VERSION:-$(locked_wasm_bindgen)}
  WBG_VERSION=${WBG_VERSION:-0.2.130}
  if [ "$("$WASM_TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" = "$WBG_VERSION" ]; then
    log "wasm-bindgen $WBG_VERSION present in $WASM_TOOLS/bin"
  else
    mkdir -p "$WASM_TOOLS"
    log "building wasm-bindgen-cli $WBG_VERSION (background; log $WASM_TOOLS/install.log)"
    # --locked first; its lock file can name a version the registry no longer serves.
    ( cd /tmp && for LOCK in --locked ""; do
        env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "=$WBG_VERSION" \
          $LOCK --root "$WASM_TOOLS" && exit 0
      done; exit 1 ) >"$WASM_TOOLS/install.log" 2>&1 &
    WBG_PID=$!
  fi
fi

# 2. debootstrap on the host.
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# 3. A minimal root.
MIRROR=${DEBIAN_MIRROR:-$(debian_mirror)}
if [ -f "$WASM_ROOT/.debootstrap-ok" ] && [ "$(cat "$WASM_ROOT/.debootstrap-ok")" = "$WASM_SUITE" ]; then
  log "debootstrap root present"
else
  log "debootstrap --variant=minbase $WASM_SUITE -> $WASM_ROOT"
  rm -rf "$WASM_ROOT"
  mkdir -p "$(dirname "$WASM_ROOT")"
  debootstrap --variant=minbase --include=ca-certificates "$WASM_SUITE" "$WASM_ROOT" "$MIRROR" \
    >"$WASM_ROOT.debootstrap.log" 2>&1 || { tail -30 "$WASM_ROOT.debootstrap.log"; exit 1; }
  echo "$WASM_SUITE" >"$WASM_ROOT/.debootstrap-ok"
fi

in_root() {
  unshare --mount --propagation private -- /bin/bash -c '
    set -e; R=$1; shift
    mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    cp -L /etc/resolv.conf "$R/etc/resolv.conf"
    B=/etc/ssl/certs/ca-certificates.crt
    [ -f "$R$B" ] && mount --bind -o ro "$(readlink -f $B)" "$R$B"
    exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' in_root "$WASM_ROOT" "$@"
}

# 4. Rust, the wasm32 std, lld and binaryen in the root.
if [ -f "$WASM_ROOT/.wasm-setup-ok" ] && [ "$(cat "$WASM_ROOT/.wasm-setup-ok")" = "$STAMP" ]; then
  log "packages present in the root"
else
  log "apt-get install in the root: $PKGS"
  cat >"$WASM_ROOT/etc/apt/sources.list" <<SRC
deb $MIRROR $WASM_SUITE main
deb $MIRROR $WASM_SUITE-updates main
deb ${MIRROR}-security $WASM_SUITE-security main
SRC
  echo 'Acquire::Check-Valid-Until "false";' >"$WASM_ROOT/etc/apt/apt.conf.d/99wasm-root"
  cat >"$WASM_ROOT/etc/dpkg/dpkg.cfg.d/01-nodoc" <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/lib/rustlib/wasm32-wasip*
CFG
  in_root apt-get update -qq
  in_root apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
  in_root apt-get clean
  # Debian's wasm32 target spec links with `rust-lld -flavor wasm`, which Debian does not ship:
  # lld is multi-call and honours -flavor.
  ln -sfn "/usr/bin/$LLD" "$WASM_ROOT/usr/local/bin/rust-lld"
  test -d "$WASM_ROOT/usr/lib/rustlib/wasm32-unknown-unknown/lib" || { echo "wasm32 std missing in the root" >&2; exit 1; }
  echo "$STAMP" >"$WASM_ROOT/.wasm-setup-ok"
fi
log "$(in_root rustc --version), $(in_root wasm-opt --version)"

if [ -n "$WBG_PID" ]; then
  log "waiting for wasm-bindgen-cli"
  wait "$WBG_PID" || { tail -40 "$WASM_TOOLS/install.log"; exit 1; }
  log "$("$WASM_TOOLS/bin/wasm-bindgen" --version)"
fi
log "done ($(du -sh "$WASM_ROOT" 2>/dev/null | cut -f1) in $WASM_ROOT)"
