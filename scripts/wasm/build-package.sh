#!/usr/bin/env bash
# build-package.sh — the litmus-experiments npm package from litmus-wasm:
#   cargo build (Rust 1.85 wasm root, profile wasm-release) -> wasm-bindgen (web + nodejs)
#   -> wasm-opt -Oz -> the JS layer (litmus-wasm/js) -> package.json -> npm pack.
# Output: target/npm/litmus-experiments/ and target/npm/litmus-experiments-VERSION.tgz.
# Needs scripts/wasm/setup.sh --bindgen first (the root and wasm-bindgen-cli).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"

WBG=$WASM_TOOLS/bin/wasm-bindgen
[ -x "$WBG" ] || die "no $WBG: run scripts/wasm/setup.sh --bindgen"
LOCKED=$(locked_wasm_bindgen)
HAVE=$("$WBG" --version | awk '{print $2}')
[ "$LOCKED" = "$HAVE" ] || die "Cargo.lock has wasm-bindgen $LOCKED but $WBG is $HAVE"

log "cargo build -p litmus-wasm --target wasm32-unknown-unknown --profile wasm-release"
"$HERE/chroot.sh" -d "$REPO_ROOT" cargo build --locked -p litmus-wasm \
  --target wasm32-unknown-unknown --profile wasm-release --target-dir target/wasm
RAW=$REPO_ROOT/target/wasm/wasm32-unknown-unknown/wasm-release/litmus_wasm.wasm

OUT=$REPO_ROOT/target/npm/litmus-experiments
rm -rf "$OUT" && mkdir -p "$OUT"
for t in web nodejs; do
  dir=$OUT/${t%js}
  "$WBG" --target "$t" --out-dir "$dir" "$RAW"
  "$HERE/chroot.sh" -d "$REPO_ROOT" wasm-opt -Oz "$dir/litmus_wasm_bg.wasm" -o "$dir/litmus_wasm_bg.wasm"
done
# The nodejs build is CommonJS inside a "type": "module" package.
printf '{ "type": "commonjs" }\n' >"$OUT/node/package.json"
JS=$REPO_ROOT/litmus-wasm/js
cp "$JS"/api.mjs "$JS"/browser.mjs "$JS"/node.mjs "$JS"/node.cjs "$JS"/index.d.ts "$OUT/"
# api.cjs: the same module for require().
sed -e 's/^export class /class /' -e 's/^export function /function /' "$JS/api.mjs" >"$OUT/api.cjs"
printf '\nmodule.exports = { makeApi, LitmusError };\n' >>"$OUT/api.cjs"
VERSION=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' "$REPO_ROOT/Cargo.toml")
cat >"$OUT/package.json" <<JSON
{
  "name": "litmus-experiments",
  "version": "$VERSION",
  "description": "Litmus experimentation engine for browsers and Node: deterministic assignment (Rust core, WebAssembly)",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "types": "./index.d.ts",
  "main": "./node.cjs",
  "module": "./browser.mjs",
  "exports": {
    ".": {
      "types": "./index.d.ts",
      "node": { "import": "./node.mjs", "require": "./node.cjs" },
      "default": "./browser.mjs"
    },
    "./package.json": "./package.json"
  },
  "files": ["*.mjs", "*.cjs", "*.d.ts", "web/", "node/"],
  "sideEffects": false
}
JSON
(cd "$REPO_ROOT/target/npm" && rm -f litmus-experiments-*.tgz && npm pack --silent ./litmus-experiments >/dev/null)
TGZ=$(ls "$REPO_ROOT"/target/npm/litmus-experiments-*.tgz)
W=$OUT/web/litmus_wasm_bg.wasm
log "package: $TGZ ($(stat -c %s "$TGZ") bytes); wasm $(stat -c %s "$W") bytes, gzip -9 $(gzip -9c "$W" | wc -c) bytes"
