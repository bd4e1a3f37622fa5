# Shared by the wasm scripts: paths, logging and the Debian mirror of this machine.
# shellcheck shell=bash
WASM_ROOT=${WASM_ROOT:-/opt/wasm-root}
WASM_SUITE=${WASM_SUITE:-trixie}
WASM_TOOLS=${WASM_TOOLS:-/opt/wasm-tools}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T0=${T0:-$(date +%s)}
log() { printf '[wasm +%4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

# The Debian mirror this machine's own apt configuration uses (no host is written in the project).
debian_mirror() {
  local f u
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    u=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit} /^deb / && $2 !~ /security/ {print $2; exit}' "$f")
    [ -n "$u" ] && { echo "${u%/}"; return; }
  done
  echo "no Debian mirror found in /etc/apt" >&2
  return 1
}

# The wasm-bindgen version locked in the workspace (the CLI must be the same version).
locked_wasm_bindgen() {
  awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$REPO_ROOT/Cargo.lock" 2>/dev/null
}
