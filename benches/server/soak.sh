#!/usr/bin/env bash
# Soak test of litmus-server: the SDK traffic mix (6 /assign : 2 /sdk/config : 1 /sdk/config 304 :
# 1 /events of 20 events) at half of the peak this machine gives, open loop, for M minutes,
# on PostgreSQL + TimescaleDB and Redis (the rollup worker and live hub running as in
# production). Passes when no request failed and the server's memory stayed flat: its resident
# memory at the end is within 20% + 16 MiB of what it was after the first tenth of the run.
# /assign draws its units among the 50,000 the events come from, as an application's assigned
# units are the ones that send events: every assigned unit is logged to the holdout of
# examples/config.json and so enters the rollups, whose unit cache holds up to 400,000 units
# (bounded, but it fills for longer than a CI soak runs when units come from a million).
#
#   bash benches/server/soak.sh                  60 minutes (the recorded run)
#   bash benches/server/soak.sh --minutes 2      the CI version
#   PROFILE=debug bash benches/server/soak.sh ... with the debug build cargo test made (CI)
#   BACKEND=sqlite bash benches/server/soak.sh   the embedded store
#
# Prints the peak (15 s back to back), then a line per endpoint every report (a minute, or
# 10 s for runs under 10 minutes) with req/s, errors, p50/p99/p999 and the server's RSS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
MINUTES=60
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    *) echo "usage: soak.sh [--minutes M]" >&2; exit 2 ;;
  esac
done
PROFILE=${PROFILE:-release}
BACKEND=${BACKEND:-postgres+redis}
CONNECTIONS=${CONNECTIONS:-32}
MIX=assign=6,config=2,config304=1,events=1
KEY=soak-admin-key
BIN=$ROOT/target/$PROFILE
SERVER_BIN=$BIN/litmus-server
. benches/server/common.sh

if [ "$PROFILE" = release ]; then
  cargo build --release --locked -p litmus-server -p litmus-benches --bin litmus-server --bin server-load 2>&1 | tail -1
else
  cargo build --locked -p litmus-server -p litmus-benches --bin litmus-server --bin server-load 2>&1 | tail -1
fi

case $BACKEND in
  sqlite) start_server LITMUS_DATA="$WORK/data" ;;
  postgres+redis)
    fresh_db litmus_soak
    start_server DATABASE_URL="$DB" REDIS_URL="$REDIS_URL" LITMUS_REDIS_PREFIX="litmus-soak-$$:" ;;
  *) echo "unknown backend $BACKEND" >&2; exit 2 ;;
esac
SDK_KEY=$(seed)
URL=127.0.0.1:$PORT

echo "== peak: $CONNECTIONS connections back to back, 15 s ($BACKEND, $PROFILE build)"
"$BIN/server-load" "$URL" "$SDK_KEY" --mix "$MIX" --assign-units 50000 --seconds 15 --connections "$CONNECTIONS" | tee "$WORK/peak.txt" | grep -E '^\| +total|^  error|requests in' || true
PEAK=$(awk '/^server-load: [0-9]+ requests in/ {printf "%.0f", $2 / $5}' "$WORK/peak.txt")
RATE=$(( PEAK / 2 ))
[ "$RATE" -gt 0 ] || { echo "no peak measured" >&2; exit 1; }
EVERY=60
[ "$MINUTES" -lt 10 ] && EVERY=10
echo
echo "== soak: $RATE req/s (half of the peak $PEAK req/s) for $MINUTES min, report every ${EVERY}s"
set +e
"$BIN/server-load" "$URL" "$SDK_KEY" --mix "$MIX" --assign-units 50000 --rate "$RATE" --seconds $(( MINUTES * 60 )) \
  --connections "$CONNECTIONS" --report-every "$EVERY" --pid "$SERVER_PID" | tee "$WORK/soak.txt"
LOAD_RC=${PIPESTATUS[0]}
set -e

# Memory: the RSS column of each report (the same figure on every endpoint's line).
python3 - "$WORK/soak.txt" "$LOAD_RC" <<'PY'
import re, sys
path, rc = sys.argv[1], int(sys.argv[2])
points = []
for line in open(path):
    m = re.match(r"\|\s+(\d+)s\s+\|.*\|\s+([\d.]+)\s+\|\s*$", line)
    if m and (not points or points[-1][0] != int(m.group(1))):
        points.append((int(m.group(1)), float(m.group(2))))
if len(points) < 3:
    sys.exit(f"soak: too few memory samples ({len(points)})")
warm = points[max(0, len(points) // 10 - 1)]
end = points[-1]
peak = max(p[1] for p in points)
limit = warm[1] * 1.2 + 16
n = len(points)
mx = sum(t for t, _ in points) / n
my = sum(r for _, r in points) / n
slope = sum((t - mx) * (r - my) for t, r in points) / max(1e-9, sum((t - mx) ** 2 for t, _ in points))
print(f"soak memory: {warm[1]:.1f} MiB at {warm[0]}s, {end[1]:.1f} MiB at {end[0]}s, "
      f"peak {peak:.1f} MiB; trend {slope * 3600:+.1f} MiB/hour; limit {limit:.1f} MiB")
ok = end[1] <= limit and rc == 0
print("soak:", "PASSED (no errors, memory flat)" if ok else
      f"FAILED ({'errors' if rc else ''}{' memory grew' if end[1] > limit else ''})")
sys.exit(0 if ok else 1)
PY
stop_server
[ "$BACKEND" = "postgres+redis" ] && drop_db litmus_soak
exit 0
