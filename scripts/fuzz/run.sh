#!/usr/bin/env bash
# Coverage-guided fuzzing of Litmus's Rust entry points with cargo-fuzz (libFuzzer), one target
# after another. The targets (fuzz/src/lib.rs): config (parsing and compilation, then every
# experiment assigned), targeting (condition trees against attributes of every type), events
# (the server's gzip decoding with its limit, then core's batch reader: JSON, array, NDJSON),
# stats (every statistics entry point), bandit (policies, choices and weights), results
# (experiment results from arbitrary rollups, and the anomaly detectors).
#
#   bash scripts/fuzz/run.sh                     every target, 600 s each
#   bash scripts/fuzz/run.sh --seconds 30 events the events target for 30 s
#
# Needs the nightly toolchain (rustup's, when installed) and cargo-fuzz (installed from the
# crate registry when missing). Without nightly, the same bodies run on stable Rust through
# fuzz/tests/replay.rs (the corpora, then random mutations) for the same time: less thorough,
# and said so. Each target runs with debug assertions (overflow checks), a 10 s per-input
# timeout (a hang is a crash), and 2 GiB RSS / 512 MiB per-allocation limits (an unbounded
# allocation is a crash). New inputs go to target/fuzz-corpus/<target>; crashes to
# fuzz/artifacts/<target>/, and the script exits non-zero. Make each crash a regression input:
# copy it to fuzz/corpus/<target>/regression-<what> (replayed by every test run) and fix it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_EACH=600
TARGETS=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(config targeting events stats bandit results)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain here; replaying the corpora with random mutations on stable" \
       "for ${SECONDS_EACH}s per target (fuzz/tests/replay.rs) instead of libFuzzer"
  LITMUS_FUZZ_REPLAY_SECONDS=$SECONDS_EACH cargo test --release --locked \
    --manifest-path fuzz/Cargo.toml --test replay -- --exact "${TARGETS[@]}" --nocapture
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.13.2

status=0
summary=()
for t in "${TARGETS[@]}"; do
  corpus=target/fuzz-corpus/$t
  mkdir -p "$corpus" "fuzz/corpus/$t" "fuzz/artifacts/$t"
  dict=()
  case $t in config|events|targeting) dict=(-dict=fuzz/json.dict) ;; esac
  log=$(mktemp)
  echo "=== fuzz $t: ${SECONDS_EACH}s"
  set +e
  cargo +nightly fuzz run --fuzz-dir fuzz --features libfuzzer --sanitizer none \
    --debug-assertions "$t" "$corpus" "fuzz/corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
    "${dict[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || true)
  summary+=("$(printf '%-10s %6ss %12s runs  cov %6s  exit %s' "$t" "$SECONDS_EACH" "${runs:-?}" "${cov:-?}" "$rc")")
  if [ "$rc" != 0 ]; then
    status=1
    tail -60 "$log"
    if [ -n "$(ls -A "fuzz/artifacts/$t")" ]; then
      echo "fuzz $t FAILED: the input is in fuzz/artifacts/$t/"
    else
      echo "fuzz $t FAILED: libFuzzer did not run (see its output above)"
    fi
  fi
  rm -f "$log"
done
printf '\n%s\n' "fuzz summary (libFuzzer, nightly $(rustup run nightly rustc --version | awk '{print $2}')):"
printf '%s\n' "${summary[@]}"
exit $status
