#!/usr/bin/env bash
# build-package.sh — the litmus-experiments npm package from litmus-wasm:
#   cargo build (Rust 1.85 wasm root, profile wasm-release) of the engine and analysis modules
#   -> wasm-bindgen (web + nodejs) -> wasm-opt -Oz -> the JS layer (litmus-wasm/js)
#   -> package.json (litmus-wasm/package.json, version checked against Cargo's) -> npm pack.
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

OUT=$REPO_ROOT/target/npm/litmus-experiments
rm -rf "$OUT" && mkdir -p "$OUT"
# package.json first (a version that does not follow Cargo's stops the build before it starts):
# litmus-wasm/package.json (the exports map, "files", the npm scripts of the source tree), its
# version checked against Cargo's workspace version (versions come from Cargo only) and the
# source-only fields dropped (package-json.mjs).
VERSION=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' "$REPO_ROOT/Cargo.toml")
node "$HERE/package-json.mjs" "$REPO_ROOT/litmus-wasm/package.json" "$OUT/package.json" "$VERSION"
# Two modules from one crate: the engine (what an application that assigns downloads) and the
# analysis module (statistics and bandits), each built with its feature only.
for module in engine analysis; do
  log "cargo build -p litmus-wasm --features $module --target wasm32-unknown-unknown --profile wasm-release"
  "$HERE/chroot.sh" -d "$REPO_ROOT" cargo build --locked -p litmus-wasm --no-default-features \
    --features "$module" --target wasm32-unknown-unknown --profile wasm-release --target-dir target/wasm
  RAW=$REPO_ROOT/target/wasm/litmus_$module.wasm
  cp "$REPO_ROOT/target/wasm/wasm32-unknown-unknown/wasm-release/litmus_wasm.wasm" "$RAW"
  for t in web nodejs; do
    dir=$OUT/${t%js}
    # The reset function lets the JavaScript layer start a fresh instance after a trap.
    "$WBG" --target "$t" --experimental-reset-state-function --out-dir "$dir" "$RAW"
    "$HERE/chroot.sh" -d "$REPO_ROOT" wasm-opt -Oz --converge \
      "$dir/litmus_${module}_bg.wasm" -o "$dir/litmus_${module}_bg.wasm"
  done
done
# The nodejs build is CommonJS inside a "type": "module" package.
printf '{ "type": "commonjs" }\n' >"$OUT/node/package.json"
JS=$REPO_ROOT/litmus-wasm/js
cp "$JS"/*.mjs "$JS"/*.cjs "$JS"/*.d.ts "$OUT/"
# CommonJS copies of the shared modules, for require().
for m in common api flags scratch analysis webhooks openfeature client client-node tracker; do
  node "$HERE/esm-to-cjs.mjs" "$JS/$m.mjs" "$OUT/$m.cjs"
done
(cd "$REPO_ROOT/target/npm" && rm -f litmus-experiments-*.tgz && npm pack --silent ./litmus-experiments >/dev/null)
TGZ=$(ls "$REPO_ROOT"/target/npm/litmus-experiments-*.tgz)
for module in engine analysis; do
  W=$OUT/web/litmus_${module}_bg.wasm
  log "$module module: $(stat -c %s "$W") bytes, gzip -9 $(gzip -9c "$W" | wc -c) bytes"
done
log "package: $TGZ ($(stat -c %s "$TGZ") bytes)"
