// The event tracker against a fake POST /events (node:http; it gunzips bodies and answers as
// each test says), against fetch stubs where the exact request matters (keep-alive), and,
// when LITMUS_SERVER_BIN names a litmus-server binary, against the real server.
// Intervals are tens of milliseconds and waits poll for their condition, so the file runs in
// a few seconds (two tests wait out a real one-second Retry-After and report interval).
// No test asserts that something finished within a time: where promptness is the behaviour,
// a wrong implementation would block for an hour, and a kill or test timeout is a hang guard.
import { test } from "node:test";
import { ADMIN, SERVER, startServer } from "./real-server.mjs";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Engine, EventTracker, LitmusError } from "litmus-experiments";

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const RFC3339_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function waitFor(condition, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function reply(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

/** The server's 200: every event accepted, or counted as a duplicate when its message_id was seen. */
function accept(r, res, srv) {
  let accepted = 0;
  for (const e of r.body.events) {
    if (!srv.stored.has(e.message_id)) accepted++;
    srv.stored.set(e.message_id, e);
  }
  reply(res, 200, { accepted, duplicates: r.body.events.length - accepted, rejected: [] });
}

/**
 * A node:http server for POST /events: records each request (body gunzipped and parsed) and
 * answers with `handler(request, res, srv)`; `srv.stored` holds what 200 answers accepted.
 */
async function fakeServer(t, handler = accept) {
  const srv = { requests: [], stored: new Map() };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const gzip = req.headers["content-encoding"] === "gzip";
      const text = (gzip ? gunzipSync(raw) : raw).toString("utf8");
      const r = { method: req.method, path: req.url, headers: req.headers, raw, gzip, text, body: JSON.parse(text), at: Date.now(), req };
      srv.requests.push(r);
      handler(r, res, srv);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  srv.url = `http://127.0.0.1:${server.address().port}`;
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  srv.ids = (i) => srv.requests[i].body.events.map((e) => e.message_id);
  return srv;
}

/** A tracker on `srv` that sends only when asked (or on a full batch), with fast retries. */
function tracker(t, srv, options = {}) {
  const errors = [];
  const tr = new EventTracker({
    baseUrl: srv.url, sdkKey: "sdk-key", flushInterval: 60_000, retryDelay: 10, maxRetryDelay: 50, timeout: 2_000,
    onError: (e) => errors.push(e), ...options,
  });
  t.after(() => tr.close());
  return { tr, errors };
}

test("batches by size: maxBatch events go at once, the rest on flush(); body, headers and timestamps", async (t) => {
  const srv = await fakeServer(t);
  const { tr, errors } = tracker(t, srv, { baseUrl: `${srv.url}/`, maxBatch: 5 });
  const before = Date.now();
  const ids = [];
  ids.push(tr.track("u1", "purchase", { value: 9.5, properties: { sku: "A1", tags: ["x"] }, timestamp: new Date("2026-03-01T10:00:00Z") }));
  ids.push(tr.track("u2", "signup", { timestamp: Date.UTC(2026, 2, 1, 10, 0, 0, 123) }));
  ids.push(tr.exposure("u3", "checkout", "treatment", { timestamp: "2026-03-01T11:00:00+01:00" }));
  ids.push(tr.track("u4", "zero", { value: 0, properties: null }));
  for (let i = 5; i <= 12; i++) ids.push(tr.track(`u${i}`, "view"));
  assert.equal(new Set(ids).size, 12);
  assert.ok(ids.every((id) => UUID.test(id)), "message_ids are random UUIDs");
  await waitFor(() => srv.requests.length === 2, "two full batches");
  await sleep(50);
  assert.equal(srv.requests.length, 2, "the last 2 events wait for the interval or flush()");
  assert.equal(tr.queued, 2);
  await tr.flush();
  assert.deepEqual(srv.requests.map((r) => r.body.events.length), [5, 5, 2]);
  assert.deepEqual(srv.requests.flatMap((r) => r.body.events.map((e) => e.message_id)), ids, "in order");
  assert.equal(tr.queued, 0);
  assert.equal(tr.sent, 12);
  assert.equal(tr.dropped, 0);
  assert.deepEqual(errors, []);

  const [r] = srv.requests;
  assert.equal(r.method, "POST");
  assert.equal(r.path, "/events");
  assert.equal(r.headers.authorization, "Bearer sdk-key");
  assert.equal(r.headers["content-type"], "application/json");
  assert.equal(r.gzip, false, "small bodies are not compressed");
  assert.deepEqual(Object.keys(r.body), ["sent_at", "events"]);
  for (const q of srv.requests) {
    assert.match(q.body.sent_at, RFC3339_MS);
    assert.ok(Math.abs(Date.parse(q.body.sent_at) - q.at) < 1000);
  }
  const [e1, e2, e3, e4, e5] = r.body.events;
  assert.deepEqual(e1, { type: "track", message_id: ids[0], timestamp: "2026-03-01T10:00:00.000Z", unit_id: "u1", event: "purchase", value: 9.5, properties: { sku: "A1", tags: ["x"] } });
  assert.deepEqual(e2, { type: "track", message_id: ids[1], timestamp: "2026-03-01T10:00:00.123Z", unit_id: "u2", event: "signup" });
  assert.deepEqual(e3, { type: "exposure", message_id: ids[2], timestamp: "2026-03-01T10:00:00.000Z", unit_id: "u3", experiment: "checkout", variant: "treatment" });
  assert.deepEqual(e4, { type: "track", message_id: ids[3], timestamp: e4.timestamp, unit_id: "u4", event: "zero", value: 0 });
  for (const e of [e4, e5]) {
    assert.match(e.timestamp, RFC3339_MS);
    assert.ok(Date.parse(e.timestamp) >= before - 1 && Date.parse(e.timestamp) <= Date.now(), "now by default");
  }
});

test("batches by interval: queued events leave flushInterval after the first", async (t) => {
  const srv = await fakeServer(t);
  const { tr } = tracker(t, srv, { flushInterval: 80 });
  const started = Date.now();
  tr.track("u1", "a");
  await sleep(20);
  tr.track("u2", "b");
  tr.exposure("u3", "exp", "control");
  await waitFor(() => srv.requests.length === 1, "the interval's batch");
  const waited = srv.requests[0].at - started;
  assert.ok(waited >= 70, `sent after ${waited} ms, before the interval`);
  assert.equal(srv.requests[0].body.events.length, 3, "one request for the three");
  tr.track("u4", "c");
  await waitFor(() => srv.requests.length === 2, "the next interval");
  assert.ok(srv.requests[1].at - srv.requests[0].at >= 70);
  await waitFor(() => tr.sent === 4, "the answer");
  assert.equal(tr.queued, 0);
});

test("bodies over 1 KB are gzipped (Content-Encoding: gzip); no request is over 1 MB or 2,500 events", async (t) => {
  const srv = await fakeServer(t);
  const { tr, errors } = tracker(t, srv, { maxBatch: 2_500 });
  for (let i = 0; i < 20; i++) tr.track(`u${i}`, "view", { properties: { path: `/products/${i}`, note: "é€😀".repeat(10) } });
  await tr.flush();
  const [big] = srv.requests;
  assert.equal(big.gzip, true);
  assert.equal(big.headers["content-encoding"], "gzip");
  assert.ok(big.raw.length < Buffer.byteLength(big.text), "compressed");
  assert.equal(big.body.events.length, 20);
  assert.equal(big.body.events[3].properties.note, "é€😀".repeat(10), "UTF-8 intact");
  // Events near the 32 KB limit: batches split at 1 MiB of uncompressed JSON.
  const pad = "x".repeat(30_000);
  for (let i = 0; i < 80; i++) tr.track(`u${i}`, "big", { properties: { pad } });
  for (let i = 0; i < 3_000; i++) tr.track(`v${i}`, "small");
  await tr.flush();
  const later = srv.requests.slice(1);
  assert.ok(later.length >= 4);
  for (const r of later) {
    assert.ok(Buffer.byteLength(r.text) <= 1 << 20, `${Buffer.byteLength(r.text)} bytes`);
    assert.ok(r.body.events.length <= 2_500);
  }
  assert.equal(later.reduce((n, r) => n + r.body.events.length, 0), 3_080);
  assert.equal(tr.sent, 3_100);
  assert.deepEqual(errors, []);
});

test("503 with Retry-After and 429: the same batch (same message_ids) again, not before Retry-After", async (t) => {
  const srv = await fakeServer(t, (r, res, s) => {
    const n = s.requests.length;
    if (n === 1) reply(res, 503, { error: { code: "overloaded", message: "busy" } }, { "Retry-After": "1" });
    else if (n === 3) reply(res, 429, { error: { code: "rate_limited", message: "slow down" } });
    else accept(r, res, s);
  });
  const { tr, errors } = tracker(t, srv);
  const ids = [tr.track("u1", "a"), tr.track("u2", "b", { value: 2 }), tr.exposure("u3", "e", "v")];
  await tr.flush();
  assert.equal(srv.requests.length, 1, "flush() does not wait through the back-off");
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "overloaded");
  assert.match(errors[0].message, /HTTP 503 overloaded: busy/);
  assert.equal(errors[0].dropped, 0, "nothing is given up");
  assert.equal(tr.lastError, errors[0]);
  assert.equal(tr.queued, 3);
  await waitFor(() => srv.requests.length === 2, "the retry", 3000);
  const waited = srv.requests[1].at - srv.requests[0].at;
  assert.ok(waited >= 990, `retried after ${waited} ms, Retry-After is 1 s`);
  assert.deepEqual(srv.ids(1), ids, "the same batch, with its message_ids");
  assert.equal(srv.requests[1].body.events[0].timestamp, srv.requests[0].body.events[0].timestamp);
  await waitFor(() => tr.sent === 3, "sent");
  assert.equal(tr.lastError, null, "cleared by a good answer");

  // 429 without Retry-After: the exponential back-off (tens of ms here).
  const more = [tr.track("u5", "e"), tr.track("u6", "f")];
  await tr.flush();
  assert.equal(errors.at(-1).code, "rate_limited");
  await waitFor(() => srv.requests.length === 4, "the retry after 429");
  assert.deepEqual(srv.ids(3), more);
  await waitFor(() => tr.sent === 5, "sent");
  assert.equal(srv.stored.size, 5);
  assert.equal(tr.dropped, 0);
});

test("a dropped connection and a timeout: retried with the same message_ids", async (t) => {
  const srv = await fakeServer(t, (r, res, s) => {
    const n = s.requests.length;
    if (n === 1) r.req.socket.destroy();
    else if (n === 2) return; // no answer: the tracker's timeout
    else accept(r, res, s);
  });
  const { tr, errors } = tracker(t, srv, { timeout: 100 });
  const ids = Array.from({ length: 7 }, (_, i) => tr.track(`u${i}`, "click"));
  await tr.flush();
  await waitFor(() => tr.sent === 7, "delivery after two failures");
  assert.equal(srv.requests.length, 3);
  for (let i = 0; i < 3; i++) assert.deepEqual(srv.ids(i), ids);
  assert.deepEqual(errors.map((e) => e.code), ["unavailable", "unavailable"]);
  assert.match(errors[0].message, /cannot reach/);
  assert.ok(errors[0].cause, "the network error is the cause");
  assert.match(errors[1].message, /within 100 ms/);
  assert.equal(tr.dropped, 0);
  assert.equal(tr.queued, 0);
});

test("413: the batch is split in halves until it fits; a single event still too large is dropped", async (t) => {
  const srv = await fakeServer(t, (r, res, s) => {
    const events = r.body.events;
    if (events.length > 3 || events.some((e) => e.event === "huge")) reply(res, 413, { error: { code: "payload_too_large", message: "too big" } });
    else accept(r, res, s);
  });
  const { tr, errors } = tracker(t, srv);
  const ids = [];
  for (let i = 0; i < 10; i++) {
    ids.push(tr.track(`u${i}`, "view"));
    if (i === 6) ids.push(tr.track("u-huge", "huge", { properties: { pad: "y".repeat(20_000) } }));
  }
  await tr.flush();
  const accepted = srv.requests.filter((r) => r.body.events.length <= 3 && !r.body.events.some((e) => e.event === "huge"));
  assert.ok(accepted.every((r) => r.body.events.length <= 3));
  assert.deepEqual(accepted.flatMap((r) => r.body.events.map((e) => e.message_id)), ids.filter((_, i) => i !== 7), "each once, in order");
  assert.equal(tr.sent, 10);
  assert.equal(tr.dropped, 1);
  assert.equal(tr.queued, 0);
  assert.deepEqual(errors.map((e) => [e.code, e.dropped]), [["payload_too_large", 1]], "the server's code");
});

test("a 200 with rejected events: they are dropped and reported, the rest count as sent", async (t) => {
  const srv = await fakeServer(t, (r, res) => reply(res, 200, {
    accepted: r.body.events.length - 2, duplicates: 0,
    rejected: [{ index: 1, code: "invalid_value", path: "events[1].unit_id", message: "unit_id too long" }, { index: 3, code: "unknown_experiment", message: "no such experiment" }],
  }));
  const { tr, errors } = tracker(t, srv);
  const ids = [tr.track("u0", "a"), tr.track("u1", "b"), tr.track("u2", "c"), tr.exposure("u3", "gone", "x")];
  await tr.flush();
  assert.equal(tr.sent, 2);
  assert.equal(tr.dropped, 2);
  assert.equal(errors.length, 1);
  const [e] = errors;
  assert.ok(e instanceof LitmusError);
  assert.equal(e.code, "events_rejected");
  assert.equal(e.dropped, 2);
  assert.match(e.message, /the server rejected 2 of 4 events: invalid_value \(1\), unknown_experiment \(1\)/);
  assert.deepEqual(e.rejected.map((x) => [x.index, x.code, x.path, x.event.message_id]), [[1, "invalid_value", "events[1].unit_id", ids[1]], [3, "unknown_experiment", null, ids[3]]]);
  assert.equal(e.rejected[1].event.experiment, "gone");
  await tr.flush();
  await sleep(30);
  assert.equal(srv.requests.length, 1, "nothing is sent again");
});

test("400 drops the batch and reports the server's code, without retrying", async (t) => {
  const srv = await fakeServer(t, (r, res) => reply(res, 400, { error: { code: "invalid_body", message: "events[0]: missing type" } }));
  const { tr, errors } = tracker(t, srv, { flushInterval: 10 });
  tr.track("u1", "a");
  tr.track("u2", "b");
  await tr.flush();
  await sleep(60);
  assert.equal(srv.requests.length, 1);
  assert.deepEqual(errors.map((e) => [e.code, e.dropped]), [["invalid_body", 2]]);
  assert.match(errors[0].message, /HTTP 400 invalid_body: events\[0\]: missing type; dropped 2 events/);
  assert.equal(tr.dropped, 2);
  assert.equal(tr.queued, 0);
});

test("401 and 403: dropped, reported, and no request before maxRetryDelay (no spinning)", async (t) => {
  for (const [status, code] of [[401, "unauthorized"], [403, "forbidden"]]) {
    const srv = await fakeServer(t, (r, res) => reply(res, status, { error: { code, message: "bad key" } }));
    const { tr, errors } = tracker(t, srv, { maxBatch: 2, flushInterval: 5, retryDelay: 1, maxRetryDelay: 60_000 });
    tr.track("u1", "a");
    tr.track("u2", "b");
    await waitFor(() => errors.length === 1, `the ${status}`);
    assert.equal(errors[0].code, code);
    assert.match(errors[0].message, /bad key/);
    assert.equal(errors[0].dropped, 2);
    for (let i = 0; i < 10; i++) tr.track(`v${i}`, "c");
    await tr.flush();
    await sleep(150);
    assert.equal(srv.requests.length, 1, `${status}: one request, then the longest wait`);
    assert.equal(tr.queued, 10, "later events wait");
    assert.equal(tr.dropped, 2);
    // close() does not cut a 401/403 pause short (the key has not changed): a pause that
    // outlasts close()'s deadline drops what is queued at once.
    await tr.close();
    assert.equal(srv.requests.length, 1, "nothing sent during the pause");
    assert.equal(tr.dropped, 12);
    assert.equal(tr.queued, 0);
  }
});

test("a full queue drops new events, counts them, and reports at most once per second", async (t) => {
  const srv = await fakeServer(t);
  const { tr, errors } = tracker(t, srv, { maxQueue: 5 });
  const ids = Array.from({ length: 8 }, (_, i) => tr.track(`u${i}`, "view"));
  assert.equal(ids.filter((id) => id !== null).length, 5);
  assert.deepEqual(ids.slice(5), [null, null, null], "track() does not throw: it returns null");
  assert.equal(tr.exposure("u9", "e", "v"), null);
  assert.equal(tr.queued, 5);
  assert.equal(tr.dropped, 4);
  await waitFor(() => errors.length === 1, "the report");
  assert.deepEqual([errors[0].code, errors[0].dropped], ["queue_full", 4]);
  assert.match(errors[0].message, /the event queue is full \(5 events\): dropped 4 new events/);
  tr.track("u10", "view");
  tr.track("u11", "view");
  await sleep(300);
  assert.equal(errors.length, 1, "not again within a second");
  await waitFor(() => errors.length === 2, "the next report", 2000);
  assert.deepEqual([errors[1].code, errors[1].dropped], ["queue_full", 2]);
  assert.equal(tr.dropped, 6);
  await tr.flush();
  assert.equal(tr.sent, 5);
  assert.equal(tr.track("u12", "view") !== null, true, "room again");
});

test("flush() and close() deliver everything; events after close() are dropped", async (t) => {
  const srv = await fakeServer(t);
  const { tr, errors } = tracker(t, srv, { maxBatch: 500, maxQueue: 2_000 });
  for (let i = 0; i < 1_234; i++) tr.track(`u${i}`, "view", { value: i });
  await tr.flush();
  assert.equal(tr.sent, 1_234);
  assert.equal(srv.stored.size, 1_234);
  assert.ok(srv.requests.every((r) => r.body.events.length <= 500));
  for (let i = 0; i < 7; i++) tr.exposure(`u${i}`, "exp", "b");
  const closing = tr.close();
  assert.equal(tr.close(), closing, "one close");
  await closing;
  assert.equal(tr.sent, 1_241);
  assert.equal(tr.queued, 0);
  assert.equal(tr.track("late", "view"), null);
  await tr.flush();
  await waitFor(() => errors.length === 1, "the report");
  assert.deepEqual([errors[0].code, errors[0].dropped], ["closed", 1]);
  assert.equal(tr.dropped, 1);
});

// The producer never stops before flush() resolves: a flush() that waited for an empty queue
// would never resolve (the test's timeout is a hang guard, not the assertion).
test("flush() resolves while events keep coming faster than the server takes them", { timeout: 60_000 }, async (t) => {
  const srv = await fakeServer(t, (r, res, s) => setTimeout(() => accept(r, res, s), 10));
  const { tr } = tracker(t, srv, { maxBatch: 10, maxQueue: 100 });
  let n = 0;
  const producer = setInterval(() => {
    for (let i = 0; i < 20; i++) tr.track(`u${n++}`, "view");
  }, 1);
  t.after(() => clearInterval(producer));
  await waitFor(() => tr.dropped > 0, "a saturated queue");
  const before = tr.sent;
  await tr.flush();
  clearInterval(producer);
  assert.ok(tr.sent >= before + 90, "at least what was queued when flush() was called");
});

test("close() with the server down: an attempt at once whatever the back-off, retries until its deadline, then the rest dropped and reported", async (t) => {
  const srv = await fakeServer(t, (r) => r.req.socket.destroy());
  const { tr, errors } = tracker(t, srv, { maxBatch: 3, retryDelay: 60_000, maxRetryDelay: 60_000 });
  for (let i = 0; i < 8; i++) tr.track(`u${i}`, "view");
  await tr.flush();
  assert.equal(srv.requests.length, 1, "flush() does not wait through the back-off");
  await tr.close(200);
  assert.ok(srv.requests.length >= 2, "close() tries at once, whatever the back-off");
  assert.equal(tr.queued, 0);
  assert.equal(tr.dropped, 8);
  const last = errors.at(-1);
  assert.equal(last.code, "closed");
  assert.equal(last.dropped, 8);
  assert.match(last.message, /the EventTracker closed with 8 events unsent: dropped/);
});

// A timer left running would keep the child alive for an hour (Retry-After: 3600): the child
// exiting by itself is the assertion; the kill after a minute is only a hang guard.
test("the process exits: after close() (everything delivered) and with no close() at all", { timeout: 150_000 }, async (t) => {
  const srv = await fakeServer(t, (r, res, s) => {
    if (r.path === "/busy/events") reply(res, 503, {}, { "Retry-After": "3600" });
    else accept(r, res, s);
  });
  const run = async (script) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: HERE, env: { ...process.env, URL: srv.url } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 60_000);
    const code = await new Promise((resolve) => child.on("exit", resolve));
    clearTimeout(killer);
    assert.ok(!killed, `the process did not exit after its work (killed by the hang guard); stdout: ${out}`);
    assert.equal(code, 0, `child failed: ${err}`);
    assert.ok(out.includes("done"), out);
    return out;
  };
  await run(`
    import { EventTracker } from "litmus-experiments";
    const t = new EventTracker({ baseUrl: process.env.URL, sdkKey: "k", flushInterval: 60000 });
    for (let i = 0; i < 1200; i++) t.track("u" + i, "view");
    await t.close();
    console.log("done", t.sent);
  `);
  assert.equal(srv.stored.size, 1200);
  // Never closed: events waiting for an hour-long interval, and a retry an hour away
  // (Retry-After).
  await run(`
    import { EventTracker } from "litmus-experiments";
    const idle = new EventTracker({ baseUrl: process.env.URL, sdkKey: "k", flushInterval: 3600000 });
    idle.track("u1", "view");
    const busy = new EventTracker({ baseUrl: process.env.URL + "/busy", sdkKey: "k" });
    busy.track("u2", "view");
    await busy.flush();
    if (busy.lastError === null || busy.queued !== 1) throw new Error("expected a back-off");
    console.log("done");
  `);
  assert.equal(srv.stored.size, 1200);
});

test("onExposure as the Engine's option: each exposure is queued with its timestamp", async (t) => {
  const srv = await fakeServer(t);
  const { tr, errors } = tracker(t, srv);
  const config = {
    schema_version: 1, version: "v3",
    experiments: [
      { key: "checkout", salt: "co", status: "running", variants: [{ key: "control" }, { key: "treatment" }] },
      { key: "paused", status: "paused", variants: [{ key: "a" }] },
    ],
  };
  const engine = new Engine(config, { onExposure: tr.onExposure });
  assert.equal(tr.onExposure, tr.onExposure, "one function");
  const before = Date.now();
  const assigned = new Map();
  for (let i = 0; i < 20; i++) {
    assigned.set(`user-${i}`, engine.assign("checkout", `user-${i}`).variant);
    engine.assign("checkout", `user-${i}`); // again: the engine reports it once
    engine.assign("paused", `user-${i}`); // not running: no exposure
  }
  await tr.flush();
  const events = srv.requests.flatMap((r) => r.body.events);
  assert.equal(events.length, 20);
  for (const e of events) {
    assert.deepEqual(Object.keys(e), ["type", "message_id", "timestamp", "unit_id", "experiment", "variant"]);
    assert.equal(e.type, "exposure");
    assert.equal(e.experiment, "checkout");
    assert.equal(e.variant, assigned.get(e.unit_id));
    assert.ok(Date.parse(e.timestamp) >= before - 1 && Date.parse(e.timestamp) <= Date.now());
  }
  assert.equal(new Set(events.map((e) => e.unit_id)).size, 20);
  // It never throws into the engine: a bad exposure goes to onError.
  tr.onExposure({ experiment: "x", unitId: "u", variant: null, timestamp: Date.now() });
  assert.deepEqual(errors.map((e) => [e.code, e.dropped]), [["invalid_argument", 1]]);
});

test("browsers: pagehide and a hidden page send the queue with keepalive (64 KB, uncompressed)", async (t) => {
  const win = new EventTarget();
  const doc = new EventTarget();
  doc.visibilityState = "visible";
  const saved = { addEventListener: globalThis.addEventListener, removeEventListener: globalThis.removeEventListener, document: globalThis.document };
  globalThis.addEventListener = win.addEventListener.bind(win);
  globalThis.removeEventListener = win.removeEventListener.bind(win);
  globalThis.document = doc;
  t.after(() => Object.assign(globalThis, saved));
  const calls = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.headers["Content-Encoding"] === "gzip" ? gunzipSync(init.body).toString() : init.body);
    calls.push({ url, init, body });
    const n = body.events.length;
    return new Response(JSON.stringify({ accepted: n, duplicates: 0, rejected: [] }), { status: 200 });
  };
  const tr = new EventTracker({ baseUrl: "https://litmus.test", sdkKey: "k", fetch, flushInterval: 60_000 });
  t.after(() => tr.close());
  const ids = Array.from({ length: 300 }, (_, i) => tr.track(`u${i}`, "view", { properties: { pad: "z".repeat(400) } }));
  win.dispatchEvent(new Event("pagehide"));
  assert.equal(calls.length, 1, "sent at once, from the event handler");
  const [call] = calls;
  assert.equal(call.init.keepalive, true);
  assert.equal(call.init.method, "POST");
  assert.equal(typeof call.init.body, "string", "not compressed");
  assert.equal(call.init.headers["Content-Encoding"], undefined);
  assert.ok(Buffer.byteLength(call.init.body) <= 64 * 1024);
  assert.ok(Buffer.byteLength(call.init.body) > 60 * 1024, "as much as fits");
  const first = call.body.events.length;
  assert.deepEqual(call.body.events.map((e) => e.message_id), ids.slice(0, first), "the oldest first");
  await waitFor(() => tr.sent === first, "the answer");
  assert.equal(tr.queued, 300 - first, "the rest waits for the page to come back");
  doc.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls.length, 1, "visible: nothing");
  doc.visibilityState = "hidden";
  doc.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls.length, 2);
  assert.equal(calls[1].init.keepalive, true);
  assert.deepEqual(calls[1].body.events.map((e) => e.message_id), ids.slice(first, first + calls[1].body.events.length));
  await tr.close();
  assert.equal(tr.sent, 300);
  const after = calls.length;
  tr.track("late", "view");
  win.dispatchEvent(new Event("pagehide"));
  assert.equal(calls.length, after, "close() removed the listeners");
});

test("without crypto.randomUUID (a page on plain http), message ids still are random UUIDs", async (t) => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  const real = globalThis.crypto;
  Object.defineProperty(globalThis, "crypto", { value: { getRandomValues: (a) => real.getRandomValues(a) }, configurable: true });
  t.after(() => Object.defineProperty(globalThis, "crypto", saved));
  const srv = await fakeServer(t);
  const { tr } = tracker(t, srv);
  const ids = Array.from({ length: 200 }, (_, i) => tr.track(`u${i}`, "view"));
  assert.ok(ids.every((id) => UUID.test(id)), ids[0]);
  assert.equal(new Set(ids).size, 200);
});

test("require(): EventTracker from the CommonJS build, with the same errors", async (t) => {
  const require = createRequire(import.meta.url);
  const cjs = require("litmus-experiments");
  assert.equal(typeof cjs.EventTracker, "function");
  const srv = await fakeServer(t);
  const errors = [];
  const tr = new cjs.EventTracker({ baseUrl: srv.url, sdkKey: "k", onError: (e) => errors.push(e) });
  t.after(() => tr.close());
  tr.track("u1", "view");
  await tr.flush();
  assert.equal(srv.stored.size, 1);
  assert.throws(() => tr.track("", "view"), (e) => e instanceof cjs.LitmusError && e.code === "invalid_argument");
  await tr.close();
});

test("invalid arguments throw invalid_argument; an event over 32 KB of JSON throws event_too_large", async (t) => {
  const srv = await fakeServer(t);
  const bad = (o) => assert.throws(() => new EventTracker(o), (e) => e instanceof LitmusError && e.code === "invalid_argument");
  bad(undefined);
  bad({ sdkKey: "k" });
  bad({ baseUrl: "http://x", sdkKey: "" });
  bad({ baseUrl: "http://x", sdkKey: "k", flushInterval: 0 });
  bad({ baseUrl: "http://x", sdkKey: "k", maxBatch: 2_501 });
  bad({ baseUrl: "http://x", sdkKey: "k", maxBatch: 1.5 });
  bad({ baseUrl: "http://x", sdkKey: "k", maxQueue: 0 });
  bad({ baseUrl: "http://x", sdkKey: "k", onError: "log" });
  bad({ baseUrl: "http://x", sdkKey: "k", fetch: 1 });

  const { tr } = tracker(t, srv);
  const invalid = (f) => assert.throws(f, (e) => e instanceof LitmusError && e.code === "invalid_argument");
  invalid(() => tr.track(7, "view"));
  invalid(() => tr.track("u", ""));
  invalid(() => tr.track("u", "view", { value: "3" }));
  invalid(() => tr.track("u", "view", { value: Infinity }));
  invalid(() => tr.track("u", "view", { properties: [1, 2] }));
  invalid(() => tr.track("u", "view", { properties: { n: 1n } }));
  invalid(() => tr.track("u", "view", { timestamp: "yesterday" }));
  invalid(() => tr.track("u", "view", { timestamp: 1e20 }));
  invalid(() => tr.exposure("u", "exp"));
  invalid(() => tr.exposure("u", "", "v"));
  const tooLarge = (f) => assert.throws(f, (e) => e instanceof LitmusError && e.code === "event_too_large" && /at most 32768/.test(e.message));
  // Bytes of UTF-8, not characters: 11,000 "€" are 33,000 bytes.
  tooLarge(() => tr.track("u", "view", { properties: { s: "€".repeat(11_000) } }));
  tooLarge(() => tr.exposure("u".repeat(40_000), "exp", "v"));
  assert.ok(tr.track("u", "view", { properties: { s: "é".repeat(15_000) } }), "30,000 bytes fit");
  assert.equal(tr.queued, 1, "refused events are not queued");
  assert.equal(tr.dropped, 0);
});

// ---- the real server (scripts/wasm/test-package.sh builds it and sets LITMUS_SERVER_BIN)


const skip = SERVER ? false : "LITMUS_SERVER_BIN is not set";

test("real server: a batch whose answer was lost is resent and counted once; rejections and a wrong key", { skip, timeout: 60_000 }, async (t) => {
  const url = await startServer(t);
  const made = await fetch(`${url}/admin/keys`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "tracker test" }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  const { key } = await made.json();
  // The first answer is read, then lost, as when a connection drops after the server stored
  // the batch: the tracker sends the batch again with the same message_ids.
  const replies = [];
  const requests = [];
  const lossy = async (u, init) => {
    requests.push(init);
    const res = await fetch(u, init);
    const text = await res.text();
    replies.push({ status: res.status, body: JSON.parse(text) });
    if (replies.length === 1) throw new TypeError("fetch failed (the answer was lost)");
    return new Response(text, { status: res.status, headers: res.headers });
  };
  const errors = [];
  const tr = new EventTracker({ baseUrl: url, sdkKey: key, fetch: lossy, flushInterval: 60_000, retryDelay: 10, maxRetryDelay: 50, onError: (e) => errors.push(e) });
  t.after(() => tr.close());
  const engine = new Engine({
    schema_version: 1,
    experiments: [{ key: "checkout", status: "running", variants: [{ key: "control" }, { key: "treatment" }] }],
  }, { onExposure: tr.onExposure });
  for (let i = 0; i < 20; i++) engine.assign("checkout", `user-${i}`);
  for (let i = 0; i < 20; i++) tr.track(`user-${i}`, "purchase", { value: 10 + i, properties: { sku: `A${i}`, note: "Grüße" } });
  tr.track("u".repeat(300), "purchase"); // a unit id over the server's 256 characters
  await tr.flush();
  await waitFor(() => tr.queued === 0, "the resend");
  assert.equal(requests[0].headers["Content-Encoding"], "gzip");
  assert.equal(requests.length, 2);
  assert.deepEqual(replies.map((r) => r.status), [200, 200]);
  assert.deepEqual([replies[0].body.accepted, replies[0].body.duplicates, replies[0].body.rejected.length], [40, 0, 1]);
  assert.deepEqual([replies[1].body.accepted, replies[1].body.duplicates, replies[1].body.rejected.length], [0, 40, 1], "stored once");
  assert.equal(tr.sent, 40);
  assert.equal(tr.dropped, 1);
  assert.deepEqual(errors.map((e) => e.code), ["unavailable", "events_rejected"]);
  const [rejected] = errors[1].rejected;
  assert.equal(rejected.index, 40);
  assert.equal(rejected.event.unit_id, "u".repeat(300));
  assert.match(rejected.path ?? "", /unit_id/);

  const wrong = [];
  const bad = new EventTracker({ baseUrl: url, sdkKey: "lit_nope_nope", onError: (e) => wrong.push(e) });
  t.after(() => bad.close());
  bad.track("u1", "view");
  await bad.flush();
  assert.deepEqual(wrong.map((e) => [e.code, e.dropped]), [["unauthorized", 1]]);
});
