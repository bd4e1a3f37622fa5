// Webhook signatures through the installed package ("litmus-experiments/analysis"): every
// signing and verification case of fixtures/webhooks/signatures.json (made with Python's hmac
// by scripts/spec/gen_webhooks.py; the Rust and Python suites run the same file), through ESM
// and CommonJS; the standard-library check of docs/webhooks.md (node:crypto); arguments; and a
// receiver on node:http. The file's retry cases are the server's schedule, run by core's tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as esm from "litmus-experiments/analysis";

const cjs = createRequire(import.meta.url)("litmus-experiments/analysis");

// Timestamps past 2^53 (the largest i64) would lose digits in JSON.parse: read them as BigInt.
const text = readFileSync(join(process.env.LITMUS_FIXTURES, "webhooks", "signatures.json"), "utf8");
const doc = JSON.parse(text.replace(/"(timestamp|now)": (\d{16,})/g, '"$1": {"bigint": "$2"}'), (key, value) =>
  value !== null && typeof value === "object" && typeof value.bigint === "string" ? BigInt(value.bigint) : value,
);

const bodyOf = (c) => {
  const bytes = Buffer.from(c.body_hex, "hex");
  if (c.body !== undefined) assert.deepEqual(Buffer.from(c.body, "utf8"), bytes, c.name);
  return new Uint8Array(bytes);
};

function outcome(key, f, LitmusError) {
  try {
    return { [key]: f() };
  } catch (e) {
    assert.ok(e instanceof LitmusError, `${e}`);
    assert.equal(e.name, "LitmusError");
    return { error: e.code };
  }
}

for (const [kind, api] of [["ESM", esm], ["CJS", cjs]]) {
  const { signWebhook, verifyWebhook, LitmusError } = api;

  test(`${kind}: every signing case`, () => {
    assert.ok(doc.sign.length >= 10);
    for (const c of doc.sign) {
      const got = outcome("header", () => signWebhook(c.secret, bodyOf(c), c.timestamp), LitmusError);
      assert.deepEqual(got, c.expected, c.name);
    }
  });

  test(`${kind}: every verification case`, () => {
    assert.equal(doc.default_tolerance_s, 300);
    assert.ok(doc.verify.length >= 50);
    for (const c of doc.verify) {
      const options = c.tolerance === null ? { now: c.now } : { now: c.now, tolerance: c.tolerance };
      const got = outcome("timestamp", () => verifyWebhook(c.secret, c.header, bodyOf(c), options), LitmusError);
      assert.deepEqual(got, c.expected, c.name);
    }
  });
}

test("the default export carries both functions", () => {
  assert.equal(esm.default.verifyWebhook, esm.verifyWebhook);
  assert.equal(typeof cjs.signWebhook, "function");
});

const { signWebhook, verifyWebhook, LitmusError } = esm;
const SECRET = "whsec_" + "ab".repeat(32);
const code = (c) => (e) => e instanceof LitmusError && e.code === c;

test("bodies as Uint8Array, Buffer, ArrayBuffer, other views or text are the same bytes", () => {
  const raw = '{"name":"Zürich ☕"}';
  const header = signWebhook(SECRET, raw, 10);
  const bytes = new TextEncoder().encode(raw);
  const padded = new Uint8Array(bytes.length + 4);
  padded.set(bytes, 2);
  for (const body of [raw, bytes, Buffer.from(raw), bytes.slice().buffer, new DataView(padded.buffer, 2, bytes.length)]) {
    assert.equal(verifyWebhook(SECRET, header, body, { now: 10 }), 10);
    assert.equal(signWebhook(SECRET, body, 10), header);
  }
});

test("a round trip on the clock, and the default tolerance", () => {
  const raw = Buffer.from('{"id":"evt_1"}');
  const t = Math.floor(Date.now() / 1000);
  assert.equal(verifyWebhook(SECRET, signWebhook(SECRET, raw, t), raw), t);
  const old = signWebhook(SECRET, raw, t - 3600);
  assert.throws(() => verifyWebhook(SECRET, old, raw), code("signature_expired"));
  assert.equal(verifyWebhook(SECRET, old, raw, { tolerance: 7200 }), t - 3600);
  assert.equal(verifyWebhook(SECRET, signWebhook(SECRET, raw, 5n), raw, { now: 5n, tolerance: 0n }), 5);
});

test("bad arguments throw invalid_argument, never a wrapped number or a trap", () => {
  const header = signWebhook(SECRET, "{}", 100);
  assert.throws(() => verifyWebhook(SECRET, undefined, "{}", { now: 100 }), code("signature_missing"));
  assert.throws(() => verifyWebhook(SECRET, null, "{}", { now: 100 }), code("signature_missing"));
  for (const bad of [
    () => signWebhook(42, "{}", 1),
    () => signWebhook(SECRET, 42, 1),
    () => signWebhook(SECRET, null, 1),
    () => signWebhook(SECRET, "{}", 1.5),
    () => signWebhook(SECRET, "{}", "100"),
    () => signWebhook(SECRET, "{}", 2 ** 53),
    () => signWebhook(SECRET, "{}", 2n ** 63n),
    () => signWebhook(SECRET, "{}", -1),
    () => signWebhook("", "{}", 1),
    () => verifyWebhook(SECRET, 7, "{}", { now: 100 }),
    () => verifyWebhook(SECRET, header, "{}", { now: NaN }),
    () => verifyWebhook(SECRET, header, "{}", { now: 2n ** 64n + 100n }),
    () => verifyWebhook(SECRET, header, "{}", { now: 100, tolerance: -1 }),
    () => verifyWebhook(SECRET, header, "{}", 300),
    () => verifyWebhook("", header, "{}", { now: 100 }),
  ]) {
    assert.throws(bad, code("invalid_argument"));
  }
  assert.equal(verifyWebhook(SECRET, header, "{}", { now: 100 }), 100);
});

test("the standard-library check of docs/webhooks.md (node:crypto) accepts what signWebhook makes", () => {
  const raw = Buffer.from("payload \xff", "latin1");
  const header = signWebhook(SECRET, raw, 1_767_225_600);
  const fields = Object.fromEntries(header.split(",").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
  const expected = createHmac("sha256", SECRET).update(`${fields.t}.`).update(raw).digest();
  assert.ok(timingSafeEqual(expected, Buffer.from(fields.v1, "hex")));
});

test("the docs' node:crypto verifier, as written, agrees with the fixtures", () => {
  const docs = readFileSync(join(process.env.LITMUS_FIXTURES, "..", "docs", "webhooks.md"), "utf8");
  const blocks = [...docs.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes("function verifyLitmusSignature"));
  assert.equal(blocks.length, 1);
  const source = blocks[0].replace(/^import .*$/m, "");
  const stdlib = new Function("createHmac", "timingSafeEqual", `${source}\nreturn verifyLitmusSignature;`)(createHmac, timingSafeEqual);
  let checked = 0;
  for (const c of doc.verify) {
    // The short version is lenient with malformed headers, by design.
    if (c.expected.error === "signature_malformed" || c.expected.error === "invalid_argument") continue;
    let got;
    try {
      got = stdlib(c.secret, c.header, Buffer.from(bodyOf(c)), c.tolerance ?? 300, c.now);
    } catch (e) {
      assert.ok(!(e instanceof LitmusError), `${e}`);
      got = "refused";
    }
    assert.equal(got, c.expected.timestamp ?? "refused", c.name);
    checked++;
  }
  assert.ok(checked >= 40);
});

test("a receiver on node:http verifies the raw body", async () => {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      try {
        verifyWebhook(SECRET, req.headers["litmus-signature"], raw);
      } catch (e) {
        res.writeHead(400).end(e.code);
        return;
      }
      received.push({ event: req.headers["litmus-event-id"], body: raw.toString() });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/hooks/litmus`;
  try {
    const raw = '{"id":"evt_7","type":"experiment.started","data":{"note":"café"}}';
    const headers = {
      "content-type": "application/json",
      "litmus-signature": signWebhook(SECRET, raw, Math.floor(Date.now() / 1000)),
      "litmus-event-id": "evt_7",
      "litmus-event-type": "experiment.started",
      "litmus-delivery": "dlv_1",
    };
    const post = async (body, h) => {
      const r = await fetch(url, { method: "POST", body, headers: h });
      return [r.status, await r.text()];
    };
    assert.deepEqual(await post(raw, headers), [204, ""]);
    assert.deepEqual(await post(raw.replace("caf", "CAF"), headers), [400, "signature_mismatch"]);
    assert.deepEqual(await post(raw, { "content-type": "application/json" }), [400, "signature_missing"]);
    assert.deepEqual(received, [{ event: "evt_7", body: raw }]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
