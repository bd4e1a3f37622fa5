#!/usr/bin/env bash
# test-package.sh — install the packed litmus-experiments tarball (build-package.sh) into a
# fresh temporary project, type-check litmus-wasm/tests/types.ts with tsc --strict, and run
# litmus-wasm/tests with node --test, as ESM and CommonJS. The config client's tests also run
# against the real server: litmus-server is built first (debug) and named by LITMUS_SERVER_BIN.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"
TGZ=$(ls "$REPO_ROOT"/target/npm/litmus-experiments-*.tgz 2>/dev/null | head -1 || true)
[ -n "$TGZ" ] || die "no package: run scripts/wasm/build-package.sh"
log "cargo build -p litmus-server --locked (for the config client's tests)"
(cd "$REPO_ROOT" && cargo build -p litmus-server --locked)
SERVER_BIN=$REPO_ROOT/target/debug/litmus-server
[ -x "$SERVER_BIN" ] || die "no $SERVER_BIN after cargo build"
PROJ=$(mktemp -d)
trap 'rm -rf "$PROJ"' EXIT
(cd "$PROJ" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$TGZ" typescript@5.9.3 @openfeature/web-sdk@1.10.0 @openfeature/core@1.12.0 >/dev/null)
cp "$REPO_ROOT"/litmus-wasm/tests/*.test.mjs "$REPO_ROOT"/litmus-wasm/tests/*.test.cjs \
  "$REPO_ROOT"/litmus-wasm/tests/real-server.mjs \
  "$REPO_ROOT"/litmus-wasm/tests/types.ts "$REPO_ROOT"/litmus-wasm/tests/tsconfig.json "$PROJ/"
cd "$PROJ"
# The TypeScript types: a strict compile of a program using the whole API.
npx --no-install tsc -p tsconfig.json
echo "types: tsc --strict passed on types.ts"
LITMUS_FIXTURES=$REPO_ROOT/fixtures LITMUS_SERVER_BIN=$SERVER_BIN node --test --test-reporter=spec ./*.test.mjs ./*.test.cjs
