#!/usr/bin/env bash
# check-core.sh [CARGO BUILD ARGS...] — litmus-core builds for wasm32-unknown-unknown with
# Debian's Rust 1.85 (in the root made by setup.sh), from the workspace's Cargo.lock:
#   cargo build --locked -p litmus-core --target wasm32-unknown-unknown --target-dir target/wasm
# Extra arguments go to cargo build (e.g. --release). Output: target/wasm in the workspace.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"

[ -f "$WASM_ROOT/.wasm-setup-ok" ] \
  || die "the wasm root $WASM_ROOT is missing or incomplete: run scripts/wasm/setup.sh first"
[ -f "$REPO_ROOT/litmus-core/Cargo.toml" ] || die "no litmus-core crate in $REPO_ROOT"
[ -f "$REPO_ROOT/Cargo.lock" ] \
  || die "$REPO_ROOT/Cargo.lock is missing: the build is --locked, and the lock file is made by the host's cargo (run 'cargo generate-lockfile' in $REPO_ROOT and commit it)"

"$HERE/chroot.sh" -d "$REPO_ROOT" /bin/sh -c 'cargo --version && rustc --version'
log "cargo build --locked -p litmus-core --target wasm32-unknown-unknown --target-dir target/wasm $*"
"$HERE/chroot.sh" -d "$REPO_ROOT" cargo build --locked -p litmus-core \
  --target wasm32-unknown-unknown --target-dir target/wasm "$@"
RLIB=$(find "$REPO_ROOT/target/wasm/wasm32-unknown-unknown" -maxdepth 2 -name liblitmus_core.rlib \
  -printf '%T@ %s %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
log "litmus-core builds for wasm32-unknown-unknown${RLIB:+ (${RLIB%% *} byte rlib: ${RLIB#* })}"
