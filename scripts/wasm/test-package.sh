#!/usr/bin/env bash
# test-package.sh — install the packed litmus-experiments tarball (build-package.sh) into a
# fresh temporary project and run litmus-wasm/tests with node --test, as ESM and CommonJS.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"
TGZ=$(ls "$REPO_ROOT"/target/npm/litmus-experiments-*.tgz 2>/dev/null | head -1)
[ -n "$TGZ" ] || die "no package: run scripts/wasm/build-package.sh"
PROJ=$(mktemp -d)
trap 'rm -rf "$PROJ"' EXIT
(cd "$PROJ" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$TGZ" >/dev/null)
cp "$REPO_ROOT"/litmus-wasm/tests/*.test.mjs "$REPO_ROOT"/litmus-wasm/tests/*.test.cjs "$PROJ/"
cd "$PROJ"
LITMUS_FIXTURES=$REPO_ROOT/fixtures node --test --test-reporter=spec ./*.test.mjs ./*.test.cjs
