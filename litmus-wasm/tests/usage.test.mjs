// Flag usage: engine.flagUsage() counts every flag evaluation the engine answers, and the
// ConfigClient reports the counts to POST /sdk/usage of a fake server (node:http) as core's
// usage sender decides (docs/sdk-protocol.md, "Flag usage"). No test asserts a time: each waits
// for the request it expects (a second apart at least: the shortest interval).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { isDeepStrictEqual } from "node:util";
import { ConfigClient, Engine, LitmusError } from "litmus-experiments";
import { LitmusWebProvider } from "litmus-experiments/openfeature";
import { ADMIN, SERVER, startServer } from "./real-server.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition, what, ms = 10_000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const FLAGS = {
  schema_version: 1,
  version: "v1",
  experiments: [{ key: "exp", status: "running", variants: [{ key: "a" }, { key: "b" }] }],
  flags: [
    { key: "on", type: "boolean", default: false, rules: [{ kind: "rollout", percentage: 50, value: true }] },
    { key: "color", type: "string", default: "grey", rules: [{ kind: "experiment", experiment: "exp", values: { a: "red", b: "blue" } }] },
    { key: "limit", type: "number", default: 3 },
    { key: "layout", type: "json", default: { cols: 2 } },
  ],
};

const withFlags = (...keys) => ({ ...FLAGS, flags: FLAGS.flags.filter((f) => keys.includes(f.key)) });

// -- the engine's counts ------------------------------------------------------------------------

test("every evaluation counts once per flag; unknown keys do not; reset", () => {
  const engine = new Engine(FLAGS);
  assert.deepEqual(engine.flagUsage(), {});
  engine.evaluate("on", "u1");
  engine.evaluate("on", "u2", { country: "FR" }, { now: false });
  assert.equal(typeof engine.booleanValue("on", "u3"), "boolean");
  assert.ok(["red", "blue"].includes(engine.stringValue("color", "u")));
  assert.equal(engine.numberValue("limit", "u"), 3);
  assert.deepEqual(engine.jsonValue("layout", "u"), { cols: 2 });
  // An unknown key is not counted; a flag asked for as another type is (the code uses it).
  assert.equal(engine.evaluate("missing", "u").error, "flag_not_found");
  assert.equal(engine.booleanValue("missing", "u", undefined, { default: true }), true);
  assert.equal(engine.stringValue("on", "u", undefined, { default: "x" }), "x");
  assert.equal(engine.evaluate("limit", "u", undefined, { type: "string" }).error, "type_mismatch");
  engine.assign("exp", "u"); // an assignment is not a flag evaluation
  assert.deepEqual(engine.flagUsage(false), { on: 4, color: 1, limit: 2, layout: 1 });
  // evaluateAll evaluates (and counts) each flag once.
  assert.deepEqual(Object.keys(engine.evaluateAll("u")).sort(), ["color", "layout", "limit", "on"]);
  assert.deepEqual(engine.flagUsage(), { on: 5, color: 2, limit: 3, layout: 2 });
  assert.deepEqual(engine.flagUsage(), {}, "read with reset");
  engine.evaluateAll("u");
  engine.evaluateAll("v");
  assert.deepEqual(engine.flagUsage(false), { on: 2, color: 2, limit: 2, layout: 2 });
  assert.deepEqual(engine.flagUsage(false), { on: 2, color: 2, limit: 2, layout: 2 });
});

test("with a sticky store and through the OpenFeature provider, evaluations count too", () => {
  const store = new Map();
  const engine = new Engine(FLAGS, { stickyStore: { get: (k) => store.get(k), set: (k, v) => store.set(k, v) } });
  for (let i = 0; i < 3; i++) engine.stringValue("color", "u");
  engine.evaluate("color", "v", { country: "DE" });
  const provider = new LitmusWebProvider(engine);
  provider.resolveBooleanEvaluation("on", false, { targetingKey: "user-1" });
  provider.resolveNumberEvaluation("limit", 0, { targetingKey: "user-1" });
  provider.resolveStringEvaluation("exp", "x", { targetingKey: "user-1" }); // an experiment
  assert.deepEqual(engine.flagUsage(), { color: 4, on: 1, limit: 1 });
});

test("the counts of flags still in the config survive update", () => {
  const engine = new Engine(FLAGS);
  engine.booleanValue("on", "u");
  engine.numberValue("limit", "u");
  engine.numberValue("limit", "v");
  engine.jsonValue("layout", "u");
  // "layout" goes, "on" moves after "limit", a new flag comes.
  const next = withFlags("limit", "on");
  next.flags = [...next.flags.reverse(), { key: "new", type: "boolean", default: true }];
  engine.update(next);
  assert.deepEqual(engine.flagUsage(false), { on: 1, limit: 2 });
  engine.booleanValue("on", "u");
  engine.booleanValue("new", "u");
  assert.throws(() => engine.update("{not json"), (e) => e instanceof LitmusError);
  assert.deepEqual(engine.flagUsage(), { on: 2, limit: 2, new: 1 });
});

// -- the config client's reports ----------------------------------------------------------------

/**
 * A node:http server: GET /sdk/config serves FLAGS, POST /sdk/usage answers the next status of
 * `script` (or 204) and records `{ status, headers, counts }`, the counts checked against the
 * contract. Streams stay open with a comment.
 */
async function usageServer(t, script = []) {
  const posts = [];
  const server = createServer((req, res) => {
    if (req.method === "POST") {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const next = script.shift() ?? 204;
        const [status, headers] = Array.isArray(next) ? next : [next, {}];
        posts.push({ status, path: req.url, headers: req.headers, counts: counts(Buffer.concat(chunks).toString("utf8")) });
        if (status === 204) {
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(status, { "Content-Type": "application/json", ...headers });
          res.end(JSON.stringify({ error: { code: `fake_${status}`, message: "scripted" } }));
        }
      });
    } else if (req.url.startsWith("/sdk/stream")) {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(": hi\n\n");
    } else {
      res.writeHead(200, { "Content-Type": "application/json", ETag: '"v1"' });
      res.end(JSON.stringify(FLAGS));
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const stored = () => {
    const out = {};
    for (const p of posts.filter((p) => p.status === 204)) for (const [k, n] of Object.entries(p.counts)) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  return { url: `http://127.0.0.1:${server.address().port}`, posts, stored };
}

/** A request body's counts by flag: each flag once, in order, a positive integer, nothing else. */
function counts(text) {
  const doc = JSON.parse(text);
  assert.deepEqual(Object.keys(doc), ["flags"]);
  assert.ok(doc.flags.length > 0 && doc.flags.length <= 5000);
  const keys = doc.flags.map((e) => e.flag);
  assert.deepEqual(keys, [...new Set(keys)].sort());
  for (const e of doc.flags) {
    assert.deepEqual(Object.keys(e), ["flag", "evaluations"]);
    assert.ok(Number.isInteger(e.evaluations) && e.evaluations > 0, JSON.stringify(e));
  }
  return Object.fromEntries(doc.flags.map((e) => [e.flag, e.evaluations]));
}

function client(srv, errors, options = {}) {
  return new ConfigClient({ baseUrl: srv.url, sdkKey: "sdk-key", mode: "poll", pollInterval: 50, timeout: 2000, usageInterval: 1000, onError: (e) => errors.push(e), ...options });
}

for (const mode of ["poll", "stream"]) {
  test(`${mode}: the counts go to POST /sdk/usage after the interval`, async (t) => {
    const srv = await usageServer(t);
    const errors = [];
    const c = client(srv, errors, { mode });
    t.after(() => c.close());
    assert.equal(await c.ready(), true);
    const engine = c.engine;
    for (let i = 0; i < 3; i++) engine.booleanValue("on", `u${i}`);
    engine.stringValue("color", "u");
    engine.evaluate("missing", "u");
    await waitFor(() => isDeepStrictEqual(srv.stored(), { on: 3, color: 1 }), "the first report");
    const post = srv.posts[0];
    assert.equal(post.path, "/sdk/usage");
    assert.equal(post.headers.authorization, "Bearer sdk-key");
    assert.equal(post.headers["content-type"], "application/json");
    assert.deepEqual(engine.flagUsage(false), {}, "the client took the counts");
    // The next report has only what was counted since.
    engine.numberValue("limit", "u");
    await waitFor(() => srv.stored().limit === 1, "the second report");
    assert.deepEqual(srv.stored(), { on: 3, color: 1, limit: 1 });
    assert.deepEqual(errors, []);
  });
}

test("a 503 keeps the counts: merged into the next report", async (t) => {
  const srv = await usageServer(t, [[503, { "Retry-After": "1" }]]);
  const errors = [];
  const c = client(srv, errors);
  t.after(() => c.close());
  await c.ready();
  for (let i = 0; i < 3; i++) c.engine.booleanValue("on", `u${i}`);
  await waitFor(() => srv.posts.length >= 1 && errors.length >= 1, "the refused report");
  assert.equal(srv.posts[0].status, 503);
  assert.deepEqual(srv.posts[0].counts, { on: 3 });
  assert.ok(errors[0] instanceof LitmusError);
  assert.equal(errors[0].code, "fake_503");
  assert.equal(errors[0].status, 503);
  assert.equal(c.lastError, errors[0]);
  c.engine.booleanValue("on", "u4");
  c.engine.booleanValue("on", "u5");
  await waitFor(() => srv.stored().on === 5, "the merged report");
  assert.equal(srv.posts[1].status, 204);
  assert.ok(srv.posts[1].counts.on >= 3, "the failed counts came back in the next report");
  await waitFor(() => c.lastError === null, "recovery");
});

test("a 404 stops the reports for the life of the client, said once at debug level", async (t) => {
  const srv = await usageServer(t, [404]);
  const errors = [];
  const debug = [];
  const original = console.debug;
  console.debug = (...args) => debug.push(args.join(" "));
  t.after(() => {
    console.debug = original;
  });
  const c = client(srv, errors);
  await c.ready();
  c.engine.booleanValue("on", "u");
  await waitFor(() => srv.posts.length >= 1 && debug.length >= 1, "the 404");
  c.engine.booleanValue("on", "u");
  await c.close(); // would send what is left: not to a server without the route
  assert.deepEqual(srv.posts.map((p) => p.status), [404]);
  assert.deepEqual(errors, []);
  assert.equal(debug.length, 1);
  assert.match(debug[0], /takes no flag usage reports/);
});

test("a 422 drops that report; close() sends what is left", async (t) => {
  const srv = await usageServer(t, [422]);
  const errors = [];
  const c = client(srv, errors);
  await c.ready();
  c.engine.booleanValue("on", "u");
  c.engine.booleanValue("on", "v");
  await waitFor(() => srv.posts.length >= 1 && errors.length >= 1, "the refused report");
  assert.equal(errors[0].status, 422);
  c.engine.stringValue("color", "u");
  await c.close(); // the final report: the refused counts are not in it
  assert.deepEqual(srv.posts.map((p) => p.status), [422, 204]);
  assert.deepEqual(srv.posts[0].counts, { on: 2 });
  assert.deepEqual(srv.posts[1].counts, { color: 1 });
});

test("close() sends what is left; usageInterval 0 sends nothing; bad intervals throw", async (t) => {
  const srv = await usageServer(t);
  const c = client(srv, [], { usageInterval: 60_000 });
  await c.ready();
  c.engine.jsonValue("layout", "u");
  await c.close();
  assert.deepEqual(srv.stored(), { layout: 1 });
  await c.close();
  assert.equal(srv.posts.length, 1);

  const quiet = client(srv, [], { usageInterval: 0 });
  await quiet.ready();
  quiet.engine.jsonValue("layout", "u");
  await quiet.close();
  assert.equal(srv.posts.length, 1);
  assert.deepEqual(quiet.engine.flagUsage(), { layout: 1 }, "nobody took them");

  for (const bad of [500, -1, Number.NaN, "60000", true]) {
    assert.throws(() => client(srv, [], { usageInterval: bad }), (e) => e instanceof LitmusError && e.code === "invalid_argument", String(bad));
  }
});

// ---- the real server (scripts/wasm/test-package.sh builds it and sets LITMUS_SERVER_BIN)

const skip = SERVER ? false : "LITMUS_SERVER_BIN is not set";

test("real server: it takes the client's flag usage reports", { skip, timeout: 90_000 }, async (t) => {
  const url = await startServer(t);
  const admin = (method, path, body) => fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => {
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.clone().text()}`);
    return r.json();
  });
  await admin("PUT", "/admin/flags/dark-mode", { key: "dark-mode", type: "boolean", default: false });
  const errors = [];
  const c = new ConfigClient({ baseUrl: url, sdkKey: ADMIN, mode: "poll", pollInterval: 100, onError: (e) => errors.push(e) });
  assert.equal(await c.ready(), true);
  await waitFor(() => c.engine.flagKeys().includes("dark-mode"), "the flag");
  for (let i = 0; i < 3; i++) assert.equal(c.engine.booleanValue("dark-mode", `user-${i}`), false);
  c.engine.booleanValue("missing", "user-1");
  await c.close(); // the last report, answered 204
  // The server writes the counts it takes every 10 s: wait for them (a hang guard, not a time).
  let rows = [];
  const evaluations = async () => {
    rows = (await admin("GET", "/admin/flag-usage")).flags;
    return rows.find((r) => r.flag === "dark-mode")?.evaluations;
  };
  const end = Date.now() + 60_000;
  while ((await evaluations()) !== 3) {
    assert.ok(Date.now() < end, JSON.stringify(rows));
    await sleep(200);
  }
  assert.deepEqual(errors, []);
});
