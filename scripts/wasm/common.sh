# Shared by the wasm scripts: paths, logging, and the Debian mirror of this machine.
# shellcheck shell=bash
WASM_ROOT=$(realpath -m "${WASM_ROOT:-/opt/wasm-root}")
WASM_SUITE=${WASM_SUITE:-trixie}
WASM_TOOLS=${WASM_TOOLS:-/opt/wasm-tools}
WASM_LOGS=${WASM_LOGS:-$WASM_ROOT.logs}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T0=${T0:-$(date +%s)}
log() { printf '[wasm %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf 'wasm: error: %s\n' "$*" >&2; exit 1; }

# run NAME CMD... : run CMD with its output in $WASM_LOGS/NAME.log; on failure print the
# log's tail and stop.
run() {
  local name=$1 rc=0; shift
  mkdir -p "$WASM_LOGS"
  "$@" >"$WASM_LOGS/$name.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    printf 'wasm: error: step "%s" failed (exit %s): %s\n--- last 40 lines of %s ---\n' \
      "$name" "$rc" "$*" "$WASM_LOGS/$name.log" >&2
    tail -n 40 "$WASM_LOGS/$name.log" >&2
    exit 1
  fi
}

# apt_uri, host_codename, debian_mirror, debian_security_mirror
. "$REPO_ROOT/scripts/lib/debian.sh"

# The wasm-bindgen version locked in the workspace (the CLI must be the very same version).
locked_wasm_bindgen() {
  [ -f "$REPO_ROOT/Cargo.lock" ] || return 0
  awk '/^name = "wasm-bindgen"$/ { getline; if (match($0, /"[^"]*"/)) print substr($0, RSTART + 1, RLENGTH - 2); exit }' \
    "$REPO_ROOT/Cargo.lock"
}

# root_run ROOT [-b DIR] [VAR=VALUE...] -- CMD...: run CMD in the Debian root ROOT, in a private
# mount namespace (the mounts vanish when CMD exits): /proc, /dev, the host's resolv.conf and,
# laid over the root's, the host's CA bundle (registry TLS may go through a proxy whose CA only
# the host has). With -b, DIR is bind-mounted at its own path and CMD runs there. Nothing of
# the host's environment is passed in but HOME, LANG, TERM, PATH and the VAR=VALUE given.
root_run() {
  local root=$1 dir=""; shift
  if [ "${1:-}" = -b ]; then dir=$2; shift 2; fi
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  # shellcheck disable=SC2016  # expanded by the inner shell
  unshare --mount --propagation private -- /bin/bash -c '
    set -e
    R=$1 D=$2 N=$3; shift 3
    if [ -n "$D" ]; then mkdir -p "$R$D"; mount --bind "$D" "$R$D"; fi
    mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
    B=/etc/ssl/certs/ca-certificates.crt
    if [ -f "$B" ] && [ -f "$R$B" ]; then mount --bind -o ro "$(readlink -f "$B")" "$R$B"; fi
    VARS=("${@:1:$N}"); shift "$N"
    exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${VARS[@]}" \
      /bin/sh -c "cd \"\${0:-/}\" && exec \"\$@\"" "$D" "$@"
  ' root_run "$root" "$dir" "${#vars[@]}" "${vars[@]}" "$@"
}
