#!/usr/bin/env bash
# check-core.sh — litmus-core builds for wasm32-unknown-unknown with Debian's Rust 1.85 (the
# compiler the npm package is built with), from the committed Cargo.lock.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
[ -f "$WASM_ROOT/.wasm-setup-ok" ] || { echo "wasm root missing: run scripts/wasm/setup.sh" >&2; exit 1; }
[ -f "$REPO_ROOT/Cargo.lock" ] || { echo "Cargo.lock missing: run cargo generate-lockfile on the host" >&2; exit 1; }
cd "$REPO_ROOT"
log "$("$(dirname "$0")/chroot.sh" rustc --version)"
"$(dirname "$0")/chroot.sh" cargo build --locked --release -p litmus-core \
  --target wasm32-unknown-unknown --target-dir target/wasm
log "litmus-core: wasm32-unknown-unknown build ok ($(stat -c %s target/wasm/wasm32-unknown-unknown/release/liblitmus_core.rlib) byte rlib)"
