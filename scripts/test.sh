#!/usr/bin/env bash
# THE test command of Litmus: installs what is missing, then runs every check.
#
#   scripts/test.sh            everything: fmt, clippy, Rust tests (the server's against real
#                              PostgreSQL + TimescaleDB and Redis, installed and started by
#                              scripts/db), Python spec tests, the Python wheel's tests, wasm32 build
#                              and the wasm32-vs-native determinism check under Node, the
#                              OpenID Connect test provider's own tests (scripts/oidc/)
#   LITMUS_SKIP_WASM=1 ...     skip the wasm32 build of litmus-core (needs a ~1 GB Debian root)
#   LITMUS_FUZZ_SECONDS=N      seconds per fuzz target (30)
#   LITMUS_SOAK_MINUTES=N      minutes of the soak (2)
#
# Steps print a header each; the run stops at the first failing step and exits non-zero.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
T0=$(date +%s)
# Each step's header also shows the disk left, so a run that fills the disk says where.
step() {
  printf '\n=== [%4ss] [%s free] %s\n' "$(( $(date +%s) - T0 ))" \
    "$(df -h --output=avail "$ROOT" 2>/dev/null | tail -1 | tr -d ' ')" "$*"
}

step "toolchain"
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
cargo --version
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked --quiet

step "services: PostgreSQL 15 + TimescaleDB and Redis 7 on loopback (scripts/db; stopped at the end)"
bash scripts/db/setup.sh
# Stop at the end only what this run started.
STARTED_DB=1
if pg_isready -q -h 127.0.0.1 -p "${LITMUS_PG_PORT:-55432}" 2>/dev/null; then STARTED_DB=0; fi
eval "$(bash scripts/db/start.sh)"
export DATABASE_URL REDIS_URL LITMUS_REQUIRE_SERVICES=1
LOG=$(mktemp)
cleanup() {
  rm -f "$LOG"
  if [ "$STARTED_DB" = 1 ]; then bash scripts/db/stop.sh || true; fi
}
trap cleanup EXIT

# The server's single sign-on tests start an OpenID Connect provider written in Node
# (scripts/oidc/provider.mjs).
command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs >/dev/null; }
step "cargo test (unit, integration, property, conformance, doc tests; the server on SQLite, PostgreSQL and PostgreSQL + Redis)"
cargo test --workspace --all-features --locked 2>&1 | tee "$LOG"
RUST_PASSED=$(awk '/^test result:/ {sub(/;/, "", $4); n += $4} END {print n + 0}' "$LOG")
RUST_FAILED=$(awk '/^test result:/ {sub(/;/, "", $6); n += $6} END {print n + 0}' "$LOG")

step "Python: independent checks of the spec and fixtures"
bash scripts/python-env.sh >/dev/null
set +e
"$ROOT/.venv/bin/python" -m pytest -q scripts/spec 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
[ "$rc" = 0 ] || { echo "pytest failed (exit $rc)" >&2; exit 1; }
PY_PASSED=$(grep -Eo '[0-9]+ passed' "$LOG" | tail -1 | grep -Eo '[0-9]+' || echo 0)

step "Python: the litmus-experiments wheel, built and installed, against every fixture"
bash scripts/test-python.sh 2>&1 | tee "$LOG"
WHEEL_PASSED=$(grep -Eo '[0-9]+ passed' "$LOG" | tail -1 | grep -Eo '[0-9]+' || echo 0)
PY_PASSED=$(( PY_PASSED + WHEEL_PASSED ))

step "Python 3.9: the cp39-abi3 wheel (manylinux2014) on CPython 3.9, in a Debian bullseye root"
bash scripts/test-python39.sh 2>&1 | tee "$LOG"
PY39_PASSED=$(grep -Eo '[0-9]+ passed' "$LOG" | tail -1 | grep -Eo '[0-9]+' || echo 0)
PY_PASSED=$(( PY_PASSED + PY39_PASSED ))

if [ "${LITMUS_SKIP_WASM:-0}" != 1 ]; then
  step "wasm32: litmus-core builds with the Rust 1.85 wasm toolchain"
  bash scripts/wasm/setup.sh --bindgen
  bash scripts/wasm/check-core.sh
  step "wasm32: seeded draws under Node equal the native ones (fixtures/determinism/v1.json)"
  command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs >/dev/null; }
  bash scripts/wasm/determinism.sh
  WASM_CHECKS=1
  step "npm package: build (wasm-bindgen, wasm-opt, npm pack), install the tarball, node --test (ESM and CommonJS)"
  bash scripts/wasm/build-package.sh
  bash scripts/wasm/test-package.sh 2>&1 | tee "$LOG"
  NODE_PASSED=$(awk '/^ℹ pass/ {print $3}' "$LOG" | tail -1)
  WASM_CHECKS=$(( WASM_CHECKS + ${NODE_PASSED:-0} ))
  step "npm package in headless Chromium: examples/browser/index.html (screenshot target/npm/browser.png)"
  bash scripts/wasm/browser-test.sh 2>&1 | tee "$LOG"
  BROWSER_PASSED=$(awk '/^browser:/ {print $2}' "$LOG" | tail -1)
  WASM_CHECKS=$(( WASM_CHECKS + ${BROWSER_PASSED:-0} ))
fi

step "dashboard in headless Chromium: a real server, the form, live results over the WebSocket, SRM (screenshots target/dashboard/*.png)"
cargo build -p litmus-server --locked --quiet
bash scripts/dashboard/browser-test.sh 2>&1 | tee "$LOG"
DASHBOARD_PASSED=$(awk '/^dashboard:/ {print $2}' "$LOG" | tail -1)

step "the OpenID Connect test provider's own tests (node --test scripts/oidc/)"
node --test --test-reporter=spec scripts/oidc/ 2>&1 | tee "$LOG"
OIDC_PASSED=$(awk '/^ℹ pass/ {print $3}' "$LOG" | tail -1)

step "fuzz: every target ${LITMUS_FUZZ_SECONDS:-30} s (cargo-fuzz on nightly when installed, else the stable replay; scripts/fuzz/run.sh)"
bash scripts/fuzz/run.sh --seconds "${LITMUS_FUZZ_SECONDS:-30}" 2>&1 | tee "$LOG"
FUZZ_PASSED=$(awk '/ exit 0$/ {n++} /^test result:/ {sub(/;/, "", $4); n += $4} END {print n + 0}' "$LOG")

step "soak: the SDK traffic mix at half of the peak for 2 minutes on PostgreSQL + Redis, no error, flat memory (benches/server/soak.sh)"
PROFILE=debug bash benches/server/soak.sh --minutes "${LITMUS_SOAK_MINUTES:-2}" 2>&1 | tee "$LOG"
SOAK_PASSED=$(grep -c '^soak: PASSED' "$LOG" || true)

step "all checks passed in $(( $(date +%s) - T0 ))s"
echo "Rust: $RUST_PASSED passed, $RUST_FAILED failed; Python: $PY_PASSED passed; wasm32 (Node): ${WASM_CHECKS:-0} passed; dashboard (Chromium): ${DASHBOARD_PASSED:-0} passed; OIDC provider (Node): ${OIDC_PASSED:-0} passed; fuzz targets: $FUZZ_PASSED passed; soak: $SOAK_PASSED passed"
echo "litmus: $(( RUST_PASSED + PY_PASSED + ${WASM_CHECKS:-0} + ${DASHBOARD_PASSED:-0} + ${OIDC_PASSED:-0} + FUZZ_PASSED + SOAK_PASSED )) passed, $RUST_FAILED failed"
