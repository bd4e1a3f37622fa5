// The shared SDK behaviour fixtures (fixtures/sdk/config_sync.json, tracker.json and
// usage.json) through the installed package: the config client's, the event tracker's and the
// flag usage sender's state machines, as its ConfigClient and EventTracker drive them. The Rust
// and Python suites run the same files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import litmus from "litmus-experiments";

const { b } = litmus.sdk;
const load = (name) => JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "sdk", name), "utf8"));
const bytes = (step) => (step.body_hex !== undefined ? Buffer.from(step.body_hex, "hex") : new TextEncoder().encode(step.body ?? ""));
const opt = (v) => (v === null ? undefined : v);

/** Only the fields the fixture gives; a wait's `ms` exactly or within [min, max]. */
function matches(actual, expected) {
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== "object") return false;
    return Object.entries(expected).every(([name, want]) => {
      if (name === "min") return actual.ms !== null && actual.ms >= want;
      if (name === "max") return actual.ms !== null && actual.ms <= want;
      if (!(name in actual)) return want === null;
      return matches(actual[name], want);
    });
  }
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && actual.every((a, i) => matches(a, expected[i]));
  return actual === expected;
}

for (const c of load("config_sync.json").cases) {
  test(`config sync: ${c.name}`, () => {
    const o = c.options;
    const sync = new b.ConfigSync("http://litmus.test", o.mode ?? "stream", o.poll_interval_ms ?? 30_000, o.idle_timeout_ms ?? 45_000,
      o.retry_delay_ms ?? 1_000, o.max_retry_delay_ms ?? 30_000, o.has_cache ?? false, o.seed ?? 0);
    let now = 0;
    c.steps.forEach((step, i) => {
      if (step.check !== undefined) {
        const state = { stale: sync.stale, version: sync.version ?? null, source: sync.source ?? null, etag: sync.etag ?? null, last_event_id: sync.lastEventId ?? null, closed: sync.closed };
        assert.ok(matches(state, step.check), `step ${i}: ${JSON.stringify(state)} is not ${JSON.stringify(step.check)}`);
        return;
      }
      now = step.at ?? now;
      switch (step.do) {
        case "start": sync.start(opt(step.bootstrap)); break;
        case "close": sync.close(); break;
        case "fetched": sync.fetched(step.status, opt(step.etag), bytes(step), now); break;
        case "unreachable": sync.unreachable(step.message, now); break;
        case "stream_opened": sync.streamOpened(step.status, opt(step.content_type), bytes(step), now); break;
        case "stream_data": sync.streamData(new TextEncoder().encode(step.data), now); break;
        case "stream_ended": sync.streamEnded(now); break;
        case "stream_failed": sync.streamFailed(step.message, step.idle ?? false, now); break;
        case "timer_fired": sync.timerFired(now); break;
        case "loaded": sync.loaded(opt(step.version), now); break;
        case "refused": sync.refused(step.code, step.message, now); break;
        case "cache_read": sync.cacheRead(opt(step.text), now); break;
        default: assert.fail(`unknown step ${step.do}`);
      }
      const actions = [];
      for (let a = sync.pollAction(); a !== undefined; a = sync.pollAction()) actions.push(JSON.parse(a));
      assert.ok(matches(actions, step.expect), `step ${i} (${step.do}): got ${JSON.stringify(actions)}, expected ${JSON.stringify(step.expect)}`);
    });
  });
}

for (const c of load("tracker.json").cases) {
  test(`tracker: ${c.name}`, () => {
    const o = c.options;
    const tracker = new b.TrackerCore("http://litmus.test", o.flush_interval_ms ?? 1_000, o.max_batch ?? 500, o.max_queue ?? 10_000,
      o.retry_delay_ms ?? 1_000, o.max_retry_delay_ms ?? 30_000, o.gzip_min_bytes ?? 1024, o.seed ?? 0);
    let now = 0;
    c.steps.forEach((step, i) => {
      if (step.check !== undefined) {
        const state = { queued: tracker.queued, sent: tracker.sent, dropped: tracker.dropped, settled: tracker.settled, enqueued: tracker.enqueued };
        assert.ok(matches(state, step.check), `step ${i}: ${JSON.stringify(state)} is not ${JSON.stringify(step.check)}`);
        return;
      }
      now = step.at ?? now;
      let actual = null;
      switch (step.do) {
        case "enqueue": actual = tracker.enqueue(step.data, now); break;
        case "flush": tracker.flush(); break;
        case "close": tracker.close(step.timeout_ms, now); break;
        case "next": actual = JSON.parse(tracker.nextAction(now)); break;
        case "keepalive": {
          const a = tracker.takeForKeepalive(step.max_bytes, now);
          actual = a === undefined ? null : JSON.parse(a);
          break;
        }
        case "answered": tracker.answered(step.id, step.status, opt(step.retry_after), bytes(step), now); break;
        case "unreachable": tracker.unreachable(step.id, step.message, now); break;
        default: assert.fail(`unknown step ${step.do}`);
      }
      if (step.expect !== undefined) {
        assert.ok(matches(actual, step.expect), `step ${i} (${step.do}): got ${JSON.stringify(actual)}, expected ${JSON.stringify(step.expect)}`);
      }
    });
  });
}

for (const c of load("usage.json").cases) {
  test(`usage: ${c.name}`, () => {
    const sender = new b.UsageSender("http://litmus.test", c.options.interval_ms ?? 60_000);
    let now = 0;
    c.steps.forEach((step, i) => {
      if (step.check !== undefined) {
        const state = JSON.parse(sender.state());
        assert.ok(matches(state, step.check), `step ${i}: ${JSON.stringify(state)} is not ${JSON.stringify(step.check)}`);
        return;
      }
      now = step.at ?? now;
      let actual = null;
      switch (step.do) {
        case "record": sender.record(step.flag, step.evaluations); break;
        case "record_many":
          for (let k = 0; k < step.count; k++) sender.record(`${step.prefix}${String(k).padStart(5, "0")}`, step.evaluations);
          break;
        case "tick": actual = JSON.parse(sender.tick(now)); break;
        case "sent": sender.sent(step.status, opt(step.retry_after), bytes(step), now); break;
        case "unreachable": sender.sent(0, undefined, new TextEncoder().encode(step.message), now); break;
        case "close": sender.close(step.timeout_ms, now); break;
        default: assert.fail(`unknown step ${step.do}`);
      }
      if (step.expect !== undefined) {
        assert.ok(matches(actual, step.expect), `step ${i} (${step.do}): got ${JSON.stringify(actual)}, expected ${JSON.stringify(step.expect)}`);
      }
    });
  });
}

test("sticky keys are core's (fixtures/sdk/wire.json)", () => {
  for (const k of load("wire.json").sticky_keys) assert.equal(b.stickyKey(k.experiment, k.unit_id), k.key);
  assert.equal(b.shouldRemember("assigned"), true);
  assert.equal(b.shouldRemember("override"), false);
  assert.equal(b.shouldRemember("sticky"), false);
});
