#!/usr/bin/env bash
# determinism.sh — build scripts/wasm/determinism for wasm32-unknown-unknown with the Rust 1.85
# wasm toolchain (root made by setup.sh) and check under Node that its seeded draws equal
# fixtures/determinism/v1.json, which the native build is tested against too.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"

[ -f "$WASM_ROOT/.wasm-setup-ok" ] \
  || die "the wasm root $WASM_ROOT is missing or incomplete: run scripts/wasm/setup.sh first"
command -v node >/dev/null || die "node is missing (apt-get install nodejs)"
log "cargo build --locked -p litmus-determinism --target wasm32-unknown-unknown --release"
"$HERE/chroot.sh" -d "$REPO_ROOT" cargo build --locked -p litmus-determinism \
  --target wasm32-unknown-unknown --release --target-dir target/wasm
WASM=$REPO_ROOT/target/wasm/wasm32-unknown-unknown/release/litmus_determinism.wasm
[ -f "$WASM" ] || die "no $WASM after the build"
node "$HERE/determinism.mjs" "$WASM" "$REPO_ROOT/fixtures/determinism/v1.json"
