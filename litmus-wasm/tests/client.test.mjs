// The config client against fake servers (node:http, and fetch stubs for exact chunking) and,
// when LITMUS_SERVER_BIN names a litmus-server binary, against the real server. Intervals are
// tens of milliseconds and every wait polls for its condition, so the file runs in seconds.
// No test asserts that something finished within a time: where promptness is the behaviour,
// a wrong implementation would block for an hour, and a kill or test timeout is a hang guard.
import { test } from "node:test";
import { ADMIN, SERVER, startServer } from "./real-server.mjs";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigClient, Engine, LitmusError } from "litmus-experiments";

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A config document at version `n` whose one experiment "exp" has these variants. */
function config(n, variants = ["control", "treatment"], pretty = false) {
  const doc = {
    schema_version: 1,
    version: `v${n}`,
    experiments: [{ key: "exp", salt: "exp-salt", status: "running", variants: variants.map((key) => ({ key })) }],
  };
  return pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc);
}

/** A node:http server answering with `handler`; records each request. */
async function fakeServer(t, handler) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url, headers: req.headers });
    handler(req, res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url, requests, server, of: (path) => requests.filter((r) => r.path.startsWith(path)) };
}

/** Answers GET /sdk/config from `state.body`/`state.etag`, with 304 for a matching If-None-Match. */
function serveConfig(state, req, res) {
  if (req.headers["if-none-match"] === state.etag) {
    res.writeHead(304, { ETag: state.etag });
    res.end();
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json", ETag: state.etag });
  res.end(state.body);
}

function openStream(res) {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.flushHeaders();
}

const FAST = { pollInterval: 30, retryDelay: 10, maxRetryDelay: 200, timeout: 1000 };

test("poll: ETag and 304, then a new version is picked up", async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => serveConfig(state, req, res));
  const updates = [];
  const client = new ConfigClient({ baseUrl: `${srv.url}/`, sdkKey: "sdk-key", mode: "poll", ...FAST, onUpdate: (u) => updates.push(u) });
  t.after(() => client.close());
  assert.throws(() => client.engine, (e) => e instanceof LitmusError && e.code === "not_ready");
  assert.equal(await client.ready(), true);
  assert.equal(client.version, "v1");
  assert.equal(client.source, "server");
  assert.equal(client.stale, false);
  assert.equal(client.lastError, null);
  const engine = client.engine;
  await waitFor(() => srv.requests.length >= 3, "two more polls");
  assert.equal(srv.requests[0].headers.authorization, "Bearer sdk-key");
  assert.equal(srv.requests[0].headers["if-none-match"], undefined);
  assert.equal(srv.requests[0].path, "/sdk/config");
  assert.equal(srv.requests[2].headers["if-none-match"], '"e1"');
  assert.equal(updates.length, 1);

  Object.assign(state, { body: config(2, ["only"]), etag: '"e2"' });
  await waitFor(() => client.version === "v2", "v2");
  assert.equal(client.engine, engine, "the same Engine, updated in place");
  assert.equal(client.engine.assign("exp", "user-1").variant, "only");
  assert.deepEqual(updates.map((u) => [u.version, u.previousVersion, u.source]), [["v1", null, "server"], ["v2", "v1", "server"]]);
  assert.equal(updates[1].engine, engine);
});

test("stream: a new version with multi-line data, comments and CRLF", async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const streams = [];
  const srv = await fakeServer(t, (req, res) => {
    if (req.url.startsWith("/sdk/stream")) {
      openStream(res);
      res.write(": connected\r\n\r\n");
      streams.push(res);
    } else serveConfig(state, req, res);
  });
  const updates = [];
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", ...FAST, onUpdate: (u) => updates.push(u.version) });
  t.after(() => client.close());
  assert.equal(await client.ready(), true);
  await waitFor(() => streams.length === 1, "the stream");
  const [stream] = srv.of("/sdk/stream");
  assert.equal(stream.headers.authorization, "Bearer k");
  assert.equal(stream.headers.accept, "text/event-stream");
  assert.equal(stream.headers["last-event-id"], "1", "the polled v1 is event id 1");

  // Pretty-printed JSON over several data lines, CRLF, a comment inside the event, an event
  // of another type (ignored), written in pieces.
  const lines = config(2, ["only"], true).split("\n").map((l) => `data: ${l}`);
  const text = `event: ping\r\ndata: x\r\n\r\nevent: config\r\nid: 2\r\n: keep-alive\r\n${lines.join("\r\n")}\r\n\r\n`;
  for (let i = 0; i < text.length; i += 7) streams[0].write(text.slice(i, i + 7));
  await waitFor(() => client.version === "v2", "v2 from the stream");
  assert.equal(client.engine.assign("exp", "u").variant, "only");
  assert.deepEqual(updates, ["v1", "v2"]);
  assert.equal(client.stale, false);
  assert.equal(srv.of("/sdk/config").length, 1, "no polling while the stream is up");
});

test("stream: after the server drops it, reconnects with Last-Event-ID", async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const streams = [];
  const srv = await fakeServer(t, (req, res) => {
    if (req.url.startsWith("/sdk/stream")) {
      openStream(res);
      streams.push(res);
    } else serveConfig(state, req, res);
  });
  const errors = [];
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", ...FAST, onError: (e) => errors.push(e.code) });
  t.after(() => client.close());
  await client.ready();
  await waitFor(() => streams.length === 1, "the stream");
  streams[0].write(`event: config\nid: 5\ndata: ${config(5)}\n\n`);
  await waitFor(() => client.version === "v5", "v5");
  streams[0].destroy();
  await waitFor(() => streams.length === 2, "a reconnection");
  assert.equal(srv.of("/sdk/stream")[1].headers["last-event-id"], "5");
  streams[1].write(`retry: 10\nevent: config\nid: 6\ndata: ${config(6)}\n\n`);
  await waitFor(() => client.version === "v6", "v6 after the reconnection");
  assert.deepEqual(errors, [], "a dropped stream is not an error");
  assert.equal(client.stale, false);
});

test("stream: silence longer than streamIdleTimeout reopens the stream", async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => {
    if (req.url.startsWith("/sdk/stream")) openStream(res); // and then nothing, not even comments
    else serveConfig(state, req, res);
  });
  const errors = [];
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", ...FAST, streamIdleTimeout: 50, onError: (e) => errors.push(e.code) });
  t.after(() => client.close());
  await client.ready();
  await waitFor(() => srv.of("/sdk/stream").length >= 2, "a second connection");
  assert.equal(errors[0], "unavailable");
  assert.equal(srv.of("/sdk/stream")[1].headers["last-event-id"], "1");
});

test("stream: exact chunk boundaries (CR | LF, split UTF-8, BOM), id kept across events", async (t) => {
  const enc = new TextEncoder();
  const doc = JSON.parse(config(3));
  doc.experiments[0].variants[0].payload = "Grüße";
  const lines = JSON.stringify(doc, null, 2).split("\n");
  assert.equal(lines[0], "{");
  // The first chunk is the byte order mark alone; the second ends between the CR and the LF
  // of the first data line (read as two line ends, the event would be dispatched as "{");
  // the third and fourth split the two bytes of "ü"; the last holds an unfinished event.
  const rest = enc.encode(`\n${lines.slice(1).map((l) => `data: ${l}`).join("\r\n")}`);
  const cut = rest.indexOf(0xc3) + 1;
  const chunks = [
    enc.encode("\uFEFF"),
    enc.encode(": hi\rid: 7\r\rretry: x\r\nevent: config\r\ndata: {\r"),
    rest.slice(0, cut),
    rest.slice(cut),
    enc.encode('\r\n\r\nevent: config\ndata: {"unfinished": '),
  ];
  const calls = [];
  // Like a browser's fetch, it must not be called as a method of the client.
  const fetch = async function (url, init) {
    if (this !== undefined && this !== globalThis) throw new TypeError("Illegal invocation");
    calls.push({ url, headers: init.headers });
    if (url.endsWith("/sdk/config")) return new Response(config(1), { status: 200, headers: { ETag: '"e1"' } });
    if (calls.filter((c) => c.url.endsWith("/sdk/stream")).length > 1) {
      return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
    }
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    return new Response(stream, { status: 200, headers: { "Content-Type": "text/event-stream; charset=utf-8" } });
  };
  const errors = [];
  const client = new ConfigClient({ baseUrl: "http://litmus.test", sdkKey: "k", fetch, ...FAST, onError: (e) => errors.push(e) });
  t.after(() => client.close());
  await client.ready();
  await waitFor(() => calls.length === 3, "the reconnection");
  assert.deepEqual(errors, []);
  assert.equal(client.version, "v3");
  const control = Array.from({ length: 50 }, (_, i) => client.engine.assign("exp", `u${i}`)).find((a) => a.variant === "control");
  assert.equal(control.payload, "Grüße");
  assert.equal(calls[1].headers["Last-Event-ID"], "1");
  assert.equal(calls[2].headers["Last-Event-ID"], "7", "the id persists to the next event and the reconnection");
});

test("stream down: polls with the ETag meanwhile, and backs off", async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => {
    if (req.url.startsWith("/sdk/stream")) {
      res.writeHead(503, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "maintenance", message: "try later" } }));
    } else serveConfig(state, req, res);
  });
  const errors = [];
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", ...FAST, maxRetryDelay: 100, onError: (e) => errors.push(e) });
  t.after(() => client.close());
  await client.ready();
  Object.assign(state, { body: config(2), etag: '"e2"' });
  await waitFor(() => client.version === "v2", "v2 through polling");
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === "maintenance" && /HTTP 503 maintenance: try later/.test(e.message)), String(errors));
  assert.ok(srv.of("/sdk/config").some((r) => r.headers["if-none-match"] === '"e1"'));
  // Retries go on, at most 100 ms apart (the cap) but not in a tight loop.
  const before = srv.of("/sdk/stream").length;
  await waitFor(() => srv.of("/sdk/stream").length >= before + 2, "two more stream attempts");
  await sleep(300);
  const tries = srv.of("/sdk/stream").length - before;
  assert.ok(tries <= 60, `${tries} stream attempts in about 300 ms with delays up to 100 ms`);
});

test("bootstrap while the server is down, then replaced by the server's config", async (t) => {
  const state = { down: true, body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => (state.down ? req.socket.destroy() : serveConfig(state, req, res)));
  const errors = [];
  const updates = [];
  const client = new ConfigClient({
    baseUrl: srv.url, sdkKey: "k", mode: "poll", ...FAST,
    bootstrap: JSON.parse(config(0, ["boot"])),
    onError: (e) => errors.push(e), onUpdate: (u) => updates.push([u.version, u.source]),
  });
  t.after(() => client.close());
  const ready = client.start();
  assert.equal(client.version, "v0", "the bootstrap serves at once");
  assert.equal(await ready, true);
  assert.equal(client.source, "bootstrap");
  assert.equal(client.stale, true);
  assert.equal(client.lastError.code, "unavailable");
  assert.ok(client.lastError.cause, "the network error is the cause");
  assert.ok(errors[0] instanceof LitmusError);
  assert.equal(client.engine.assign("exp", "u").variant, "boot");
  state.down = false;
  await waitFor(() => client.version === "v1", "the server's v1");
  assert.equal(client.source, "server");
  assert.equal(client.stale, false);
  assert.equal(client.lastError, null);
  assert.notEqual(client.engine.assign("exp", "u").variant, "boot");
  assert.deepEqual(updates, [["v0", "bootstrap"], ["v1", "server"]]);
});

test("a config that does not load keeps the old engine and is reported once", async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => serveConfig(state, req, res));
  const errors = [];
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", mode: "poll", ...FAST, onError: (e) => errors.push(e) });
  t.after(() => client.close());
  await client.ready();
  const variant = client.engine.assign("exp", "u").variant;
  Object.assign(state, { body: '{"schema_version": 99, "version": "v2", "experiments": []}', etag: '"e2"' });
  await waitFor(() => errors.length === 1, "the error");
  assert.equal(errors[0].code, "unsupported_schema_version");
  assert.equal(client.lastError, errors[0]);
  assert.equal(client.version, "v1");
  assert.equal(client.engine.assign("exp", "u").variant, variant);
  assert.equal(client.stale, true, "the server's config is one the client cannot serve");
  const polls = srv.requests.length;
  await waitFor(() => srv.requests.length >= polls + 3, "more polls");
  assert.equal(errors.length, 1, "reported once");
  assert.equal(client.stale, true);
  // Not JSON at all, then a good version.
  Object.assign(state, { body: "{not json", etag: '"e3"' });
  await waitFor(() => errors.length === 2, "the second error");
  assert.equal(errors[1].code, "invalid_json");
  Object.assign(state, { body: config(4, ["only"]), etag: '"e4"' });
  await waitFor(() => client.version === "v4", "v4");
  assert.equal(client.engine.assign("exp", "u").variant, "only");
  assert.equal(client.stale, false);
  assert.equal(client.lastError, null);
});

test("stream: a config that does not load is reported once, also when polling finds it again", async (t) => {
  const BAD = '{"schema_version": 7, "version": "v2", "experiments": []}';
  const state = { body: config(1), etag: '"e1"', streamUp: true };
  const streams = [];
  const srv = await fakeServer(t, (req, res) => {
    if (!req.url.startsWith("/sdk/stream")) return serveConfig(state, req, res);
    if (!state.streamUp) {
      res.writeHead(503);
      res.end();
      return;
    }
    openStream(res);
    streams.push(res);
  });
  const errors = [];
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", ...FAST, onError: (e) => errors.push(e) });
  t.after(() => client.close());
  await client.ready();
  await waitFor(() => streams.length === 1, "the stream");
  Object.assign(state, { body: BAD, etag: '"e2"' });
  streams[0].write(`event: config\nid: 2\ndata: ${BAD}\n\n`);
  await waitFor(() => errors.length === 1, "the error");
  assert.equal(errors[0].code, "unsupported_schema_version");
  assert.equal(client.version, "v1");
  assert.equal(client.stale, true);
  // The stream goes down; polling (with v1's ETag) gets the same bad config: not reported again.
  state.streamUp = false;
  streams[0].destroy();
  const polls = srv.of("/sdk/config").length;
  await waitFor(() => srv.of("/sdk/config").length >= polls + 3, "polls while the stream is down");
  assert.deepEqual(errors.map((e) => e.code).filter((c) => c !== "http_error"), ["unsupported_schema_version"]);
  assert.equal(client.version, "v1");
  assert.equal(client.stale, true);
});

test("401 and 403 are surfaced and the client backs off to the longest delay", async (t) => {
  for (const [status, code] of [[401, "unauthorized"], [403, "forbidden"]]) {
    for (const mode of ["poll", "stream"]) {
      const srv = await fakeServer(t, (req, res) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: { code, message: "bad key" } }));
      });
      const errors = [];
      const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "wrong", mode, pollInterval: 10, retryDelay: 10, maxRetryDelay: 60_000, onError: (e) => errors.push(e) });
      t.after(() => client.close());
      assert.equal(await client.ready(), false, "no config");
      assert.equal(client.lastError.code, code);
      assert.match(client.lastError.message, /bad key/);
      assert.throws(() => client.engine, (e) => e.code === "not_ready");
      await sleep(150);
      assert.equal(srv.requests.length, 1, `${mode} ${status}: no retry before maxRetryDelay`);
      assert.equal(errors.length, 1);
      client.close();
    }
  }
});

// The server never answers: ready() settling at all shows the timeout at work (the test's own
// timeout is only a hang guard; nothing is asserted about how long it took).
test("timeout: ready() settles when the server does not answer", { timeout: 60_000 }, async (t) => {
  const srv = await fakeServer(t, () => {}); // never answers
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", timeout: 50, bootstrap: config(0) });
  t.after(() => client.close());
  assert.equal(await client.ready(), true);
  assert.equal(client.lastError.code, "unavailable");
  assert.match(client.lastError.message, /within 50 ms/);
  assert.equal(client.source, "bootstrap");
});

test("stream mode with cachePath: a config event is cached and the stream stays open", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "litmus-cache-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cachePath = join(dir, "config.json");
  const state = { body: config(1), etag: '"e1"' };
  const streams = [];
  const srv = await fakeServer(t, (req, res) => {
    if (req.url.startsWith("/sdk/stream")) {
      openStream(res);
      streams.push(res);
    } else serveConfig(state, req, res);
  });
  const client = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", ...FAST, cachePath });
  t.after(() => client.close());
  await client.ready();
  await waitFor(() => streams.length === 1, "the stream");
  streams[0].write(`event: config\nid: 5\ndata: ${config(5)}\n\n`);
  await waitFor(() => client.version === "v5", "v5");
  streams[0].write(`event: config\nid: 6\ndata: ${config(6)}\n\n`);
  await waitFor(() => client.version === "v6", "v6 from the same stream");
  assert.equal(srv.of("/sdk/stream").length, 1, "writing the cache did not close the stream");
  const cached = async () => readFile(cachePath, "utf8").catch(() => null);
  for (let i = 0; i < 200 && (await cached()) !== config(6); i++) await sleep(5);
  assert.equal(await cached(), config(6));
});

test("cachePath: each good config is written atomically and read when the server is down, if newer than the bootstrap", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "litmus-cache-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cachePath = join(dir, "sub", "config.json");
  const state = { body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => serveConfig(state, req, res));
  const writer = new ConfigClient({ baseUrl: srv.url, sdkKey: "k", mode: "poll", ...FAST, cachePath });
  t.after(() => writer.close());
  await writer.ready();
  const cached = async () => readFile(cachePath, "utf8").catch(() => null);
  for (let i = 0; i < 200 && (await cached()) !== state.body; i++) await sleep(5);
  assert.equal(await cached(), config(1));
  Object.assign(state, { body: config(2), etag: '"e2"' });
  await waitFor(() => writer.version === "v2", "v2");
  for (let i = 0; i < 200 && (await cached()) !== state.body; i++) await sleep(5);
  assert.equal(await cached(), config(2));
  writer.close();
  assert.deepEqual(await readdir(join(dir, "sub")), ["config.json"], "no temporary files left");

  const down = "http://127.0.0.1:9"; // nothing listens on the discard port
  const reader = new ConfigClient({ baseUrl: down, sdkKey: "k", mode: "poll", ...FAST, cachePath });
  t.after(() => reader.close());
  assert.equal(await reader.ready(), true);
  assert.equal(reader.source, "cache");
  assert.equal(reader.version, "v2");
  assert.equal(reader.stale, true);
  reader.close();
  // With a bootstrap too, the newer by version serves (the cache on a tie), as in Python.
  for (const [bootVersion, source, version] of [[0, "cache", "v2"], [2, "cache", "v2"], [7, "bootstrap", "v7"]]) {
    const both = new ConfigClient({ baseUrl: down, sdkKey: "k", mode: "poll", ...FAST, cachePath, bootstrap: config(bootVersion, ["boot"]) });
    t.after(() => both.close());
    await both.ready();
    assert.deepEqual([both.source, both.version], [source, version], `bootstrap v${bootVersion}`);
    both.close();
  }
});

test("invalid options throw invalid_argument", () => {
  const bad = (o) => assert.throws(() => new ConfigClient(o), (e) => e instanceof LitmusError && e.code === "invalid_argument");
  bad({ sdkKey: "k" });
  bad({ baseUrl: "http://x", sdkKey: "" });
  bad({ baseUrl: "http://x", sdkKey: "k", mode: "push" });
  bad({ baseUrl: "http://x", sdkKey: "k", pollInterval: 0 });
  bad({ baseUrl: "http://x", sdkKey: "k", onUpdate: 1 });
  bad({ baseUrl: "http://x", sdkKey: "k", cachePath: 7 });
});

// A client left running keeps the process alive for ever (its timers), and the hanging request
// for an hour: the child exiting by itself shows that close() aborted them all. The kill after
// a minute is a hang guard, not the assertion.
test("close() aborts requests and timers: the process exits", { timeout: 90_000 }, async (t) => {
  const state = { body: config(1), etag: '"e1"' };
  const srv = await fakeServer(t, (req, res) => {
    if (req.url.startsWith("/hang")) return; // never answers
    if (req.url.startsWith("/sdk/stream")) {
      openStream(res);
      res.write(": hi\n\n");
    } else serveConfig(state, req, res);
  });
  const script = `
    import { ConfigClient } from "litmus-experiments";
    const url = process.env.URL;
    const clients = [
      new ConfigClient({ baseUrl: url, sdkKey: "k", mode: "stream", pollInterval: 20 }),
      new ConfigClient({ baseUrl: url, sdkKey: "k", mode: "poll", pollInterval: 20 }),
    ];
    for (const c of clients) if (!(await c.ready())) throw new Error("not ready");
    const hanging = new ConfigClient({ baseUrl: url + "/hang", sdkKey: "k", timeout: 3_600_000 });
    hanging.start();
    await new Promise((r) => setTimeout(r, 100));
    for (const c of [...clients, hanging]) c.close();
    if ((await hanging.ready()) !== false) throw new Error("ready after close");
    console.log("closed");
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: HERE, env: { ...process.env, URL: srv.url } });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 60_000);
  const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(killer);
  assert.ok(!killed, `the process did not exit after close() (killed by the hang guard); stdout: ${out}`);
  assert.equal(code, 0, `child failed: ${err}`);
  assert.ok(out.includes("closed"), out);
  assert.ok(srv.of("/sdk/stream").length >= 1 && srv.of("/hang").length === 1);
});

// ---- the real server (scripts/wasm/test-package.sh builds it and sets LITMUS_SERVER_BIN)


async function putExperiment(url, key, body) {
  const res = await fetch(`${url}/admin/experiments/${key}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

const skip = SERVER ? false : "LITMUS_SERVER_BIN is not set";

test("real server: streaming and polling clients see each new version", { skip, timeout: 60_000 }, async (t) => {
  const url = await startServer(t);
  const streaming = new ConfigClient({ baseUrl: url, sdkKey: ADMIN, mode: "stream", retryDelay: 50 });
  const polling = new ConfigClient({ baseUrl: url, sdkKey: ADMIN, mode: "poll", pollInterval: 100 });
  t.after(() => {
    streaming.close();
    polling.close();
  });
  assert.equal(await streaming.ready(), true);
  assert.equal(await polling.ready(), true);
  const initial = streaming.version;
  assert.match(initial, /^v[0-9]+$/);
  assert.equal(streaming.engine.assign("checkout", "user-1").reason, "unknown_experiment");
  assert.equal(streaming.stale, false);
  // Let the stream connect before the change (the change must arrive as an event).
  await sleep(200);

  const experiment = {
    key: "checkout", salt: "checkout-salt", status: "running",
    variants: [{ key: "control" }, { key: "treatment", payload: { color: "green" } }],
  };
  await putExperiment(url, "checkout", experiment);
  const snapshot = await fetch(`${url}/sdk/config`, { headers: { Authorization: `Bearer ${ADMIN}` } }).then((r) => r.text());
  const next = JSON.parse(snapshot).version;
  assert.notEqual(next, initial);
  await waitFor(() => streaming.version === next && polling.version === next, `both clients at ${next}`, 10_000);
  const reference = new Engine(snapshot);
  for (const unit of ["user-1", "user-2", "user-3", "user-4"]) {
    const expected = reference.assign("checkout", unit);
    assert.equal(expected.reason, "assigned");
    assert.ok(["control", "treatment"].includes(expected.variant));
    assert.equal(streaming.engine.assign("checkout", unit).variant, expected.variant);
    assert.equal(polling.engine.assign("checkout", unit).variant, expected.variant);
  }
  // A second change: the experiment paused.
  await putExperiment(url, "checkout", { ...experiment, status: "paused" });
  await waitFor(() => streaming.engine.assign("checkout", "user-1").reason === "not_running"
    && polling.engine.assign("checkout", "user-1").reason === "not_running", "the pause", 10_000);
  assert.equal(streaming.version, polling.version);
  assert.equal(streaming.stale, false);
  assert.equal(polling.stale, false);
  assert.equal(streaming.lastError, null);
});

test("real server: a wrong key is surfaced as unauthorized", { skip, timeout: 60_000 }, async (t) => {
  const url = await startServer(t);
  const client = new ConfigClient({ baseUrl: url, sdkKey: "wrong", mode: "stream" });
  t.after(() => client.close());
  assert.equal(await client.ready(), false);
  assert.equal(client.lastError.code, "unauthorized");
});
