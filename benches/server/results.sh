#!/usr/bin/env bash
# GET /results for an experiment with 10 metrics of every kind x 3 variants over 30 days of
# per-minute rollups, on the embedded store and on PostgreSQL + TimescaleDB: p50 and p99 of
# the answer time (goal: p99 under 200 ms on PostgreSQL).
#
#   bash benches/server/results.sh                 both stores, 60 requests each
#   STORES=sqlite REQUESTS=200 bash benches/server/results.sh
#   SEGMENTS=on bash benches/server/results.sh     the experiment also declares 3 dimensions
#                                                  (country: 5 values, platform: 3, browser: 4),
#                                                  its exposures carry them; adds GET
#                                                  /results/shop/segments?dimension=country
#                                                  (10 metrics x 5 segments x 3 variants) and
#                                                  the storage the rollups take
#
# The data: every minute of the 30 days before now, one new unit per variant is exposed and
# acts (purchases with properties, page loads, a cart, a session a week later), about 1.3
# million events posted through POST /events with their timestamps, then the rollups applied.
# The 10 metrics: a conversion, a capped mean, a count, a ratio of the two, a filtered
# conversion, an event-level p90, a unit-level median, a percentile-capped mean (its cap is
# computed from the units' records on every request), day-7 retention and a two-step funnel.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
REQUESTS=${REQUESTS:-60}
STORES=${STORES:-"postgres sqlite"}
KEY=results-admin-key
SERVER_BIN=$ROOT/target/release/litmus-server
. benches/server/common.sh

cargo build --release --locked -p litmus-server --bin litmus-server 2>&1 | tail -1

for STORE in $STORES; do
  case $STORE in
    postgres)
      fresh_db litmus_results
      start_server DATABASE_URL="$DB" ;;
    sqlite)
      start_server LITMUS_DATA="$WORK/data" ;;
    *) echo "unknown store $STORE" >&2; exit 2 ;;
  esac
  echo "== $STORE"
  python3 - "$PORT" "$KEY" "$REQUESTS" "${SEGMENTS:-off}" "$STORE" "${DB:-}" "$WORK" <<'PY'
import json, os, random, subprocess, sys, time, urllib.request
port, key, requests, segments, store, db, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "on", sys.argv[5], sys.argv[6], sys.argv[7]
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None, raw=False):
    data = body if raw else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, method=method, data=data,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
metrics = [
    {"key": "buyers", "kind": "conversion", "event": "purchase"},
    {"key": "revenue", "kind": "mean", "event": "purchase", "cap": {"absolute": 200}},
    {"key": "orders", "kind": "mean", "event": "purchase", "aggregation": "count"},
    {"key": "revenue_per_order", "kind": "ratio", "numerator": "revenue", "denominator": "orders"},
    {"key": "book_buyers", "kind": "conversion", "event": "purchase",
     "filter": {"attribute": "category", "op": "eq", "value": "books"}},
    {"key": "p90_load", "kind": "quantile", "event": "page_load", "quantile": 0.9, "goal": "decrease"},
    {"key": "median_spend", "kind": "quantile", "event": "purchase", "quantile": 0.5, "level": "unit"},
    {"key": "revenue_p99", "kind": "mean", "event": "purchase", "cap": {"percentile": 0.99}},
    {"key": "day7", "kind": "retention", "event": "session", "window": {"delay_hours": 168, "hours": 24}},
    {"key": "checkout", "kind": "funnel", "steps": [{"event": "cart"}, {"event": "purchase"}]},
]
for m in metrics:
    call("PUT", f"/admin/metrics/{m['key']}", m)
variants = ["control", "b", "c"]
shop = {"status": "running",
    "variants": [{"key": v} for v in variants],
    "metrics": [{"metric": m["key"]} for m in metrics if m["key"] != "orders"] + [{"metric": "orders"}]}
if segments:
    shop["dimensions"] = [{"key": "country"}, {"key": "platform"}, {"key": "browser"}]
call("PUT", "/admin/experiments/shop", shop)
COUNTRIES, PLATFORMS, BROWSERS = ["US", "DE", "FR", "JP", "BR"], ["ios", "android", "web"], ["chrome", "safari", "firefox", "edge"]
rng = random.Random(7)
now = int(time.time() * 1000) // 60_000 * 60_000
start = now - 30 * 86_400_000
batch, n, posted, t0 = [], 0, 0, time.time()
def flush():
    global batch, posted
    if batch:
        call("POST", "/events", ('{"events":[' + ",".join(batch) + "]}").encode(), raw=True)
        posted += len(batch)
        batch = []
def add(e):
    global n
    n += 1
    e["message_id"] = f"m{n}"
    batch.append(json.dumps(e, separators=(",", ":")))
    if len(batch) >= 2_500:
        flush()
for minute in range(30 * 1440):
    t = start + minute * 60_000
    for vi, v in enumerate(variants):
        unit = f"u{minute}-{vi}"
        exposure = {"type": "exposure", "timestamp": t, "unit_id": unit, "experiment": "shop", "variant": v}
        if segments:
            exposure["dimensions"] = {"country": rng.choice(COUNTRIES), "platform": rng.choice(PLATFORMS),
                                      "browser": rng.choice(BROWSERS)}
        add(exposure)
        add({"type": "track", "timestamp": t + 1_000, "unit_id": unit, "event": "page_load",
             "value": round(300 + 2_700 * rng.random() ** 3)})
        if rng.random() < 0.4:
            add({"type": "track", "timestamp": t + 2_000, "unit_id": unit, "event": "cart"})
            if rng.random() < 0.5 + 0.02 * vi:
                add({"type": "track", "timestamp": t + 3_000, "unit_id": unit, "event": "purchase",
                     "value": round(10 + 190 * rng.random() ** 2, 2),
                     "properties": {"category": "books" if rng.random() < 0.3 else "music"}})
        if rng.random() < 0.3 and t + 7 * 86_400_000 + 3_600_000 < now:
            add({"type": "track", "timestamp": t + 7 * 86_400_000 + 3_600_000, "unit_id": unit,
                 "event": "session"})
flush()
print(f"posted {posted:,} events over 30 days in {time.time() - t0:.0f} s")
# The rollups are applied behind the acknowledgements: wait for them.
t1 = time.time()
while True:
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    waiting = [l for l in text.splitlines() if l.startswith("litmus_rollup_backlog_events ")]
    if waiting and float(waiting[0].split()[1]) == 0:
        break
    time.sleep(0.5)
print(f"rollups applied {time.time() - t1:.0f} s later")
times = []
for i in range(requests + 5):
    a = time.perf_counter()
    r = call("GET", "/results/shop")
    if i >= 5:  # the first requests warm the caches
        times.append((time.perf_counter() - a) * 1000)
assert len(r["results"]["metrics"]) == 11, [m["key"] for m in r["results"]["metrics"]]
assert r["results"]["units"][0][1] == 30 * 1440
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"GET /results/shop, 10 metrics x 3 variants, 30 days of per-minute rollups, {len(times)} requests: "
      f"p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, max {times[-1]:.0f} ms")
if segments:
    times = []
    for i in range(requests + 5):
        a = time.perf_counter()
        r = call("GET", "/results/shop/segments?dimension=country")
        if i >= 5:
            times.append((time.perf_counter() - a) * 1000)
    shown = r["breakdown"]["segments"]
    assert [s["value"] for s in shown if s["value"] in COUNTRIES] and len(shown) == 5, [s["value"] for s in shown]
    assert sum(s["units"] for s in shown) == 3 * 30 * 1440
    times.sort()
    print(f"GET /results/shop/segments?dimension=country, 10 metrics x 5 segments x 3 variants, {len(times)} requests: "
          f"p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, max {times[-1]:.0f} ms")
# The storage the rollups and the units' records take.
if store == "postgres":
    q = ("SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = 'public' AND c.relkind = 'r' AND (relname LIKE 'rollup_%' OR relname IN ('unit_state', 'segment_subjects'))")
    rows = subprocess.run(["psql", db, "-qAtX", "-F", " ", "-c", q], capture_output=True, text=True, check=True).stdout.split()
    sizes = dict(zip(rows[0::2], map(int, rows[1::2])))
else:
    q = "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'rollup_%' OR name IN ('unit_state', 'segment_subjects') GROUP BY name"
    import sqlite3
    con = sqlite3.connect(f"file:{work}/data/litmus.sqlite3?mode=ro", uri=True)
    try:
        sizes = dict(con.execute(q).fetchall())
    except sqlite3.OperationalError as e:  # no dbstat in this SQLite build
        sizes = {"litmus.sqlite3 (whole file)": os.path.getsize(f"{work}/data/litmus.sqlite3")}
rollups = sum(v for k, v in sizes.items() if k.startswith("rollup_"))
print(f"storage: rollup tables {rollups / 2**20:.1f} MiB, unit records {sizes.get('unit_state', 0) / 2**20:.1f} MiB "
      f"({', '.join(f'{k} {v / 2**20:.1f}' for k, v in sorted(sizes.items()))})")
PY
  stop_server
  if [ "$STORE" = postgres ]; then drop_db litmus_results; fi
done
