// The installed package through require() (CommonJS) gives the same answers.
const { test } = require("node:test");
const assert = require("node:assert/strict");
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { Engine, hashing, LitmusError } = require("litmus-experiments");

const FIXTURES = process.env.LITMUS_FIXTURES;
const load = (p) => JSON.parse(readFileSync(join(FIXTURES, p), "utf8"));

test("require(): bucketing vectors and the targeting cases", () => {
  for (const v of load("bucketing/v1.json").vectors) {
    assert.equal(hashing.unitHash(v.salt, v.purpose, v.unit), v.hash);
  }
  const doc = load("conformance/targeting.json");
  const engine = new Engine(JSON.stringify(doc.config));
  for (const c of doc.cases) {
    const a = engine.assign(c.experiment, c.unit, c.attributes, { now: c.now ?? false });
    assert.equal(a.reason, c.expected.reason, c.name);
    assert.equal(a.variant, c.expected.variant, c.name);
  }
  assert.throws(() => new Engine(42), (e) => e instanceof LitmusError && e.code === "invalid_argument");
});

test("require(): the analysis entry point and one error class for both modules", () => {
  const { stats, bandit, LitmusError: AnalysisError } = require("litmus-experiments/analysis");
  assert.equal(AnalysisError, LitmusError);
  const t = stats.ttestIndFromStats(10, 2, 100, 10.5, 2, 100, false);
  assert.ok(t.pvalue > 0 && t.pvalue < 1);
  assert.equal(bandit.Policy.thompsonBeta().weights([bandit.Arm.fromCounts(5, 10), bandit.Arm.fromCounts(5, 10)]).length, 2);
  assert.throws(() => stats.proportionConfint(11, 10), (e) => e instanceof LitmusError);
});

test("require(): ConfigClient, with the bootstrap served at once and the cache file wired", async () => {
  const { ConfigClient } = require("litmus-experiments");
  assert.equal(require("litmus-experiments").ConfigClient, ConfigClient);
  // A fetch that answers only by failing when aborted (the client is closed first).
  const fetch = (url, init) => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
  const client = new ConfigClient({
    baseUrl: "http://127.0.0.1:1", sdkKey: "k", fetch, cachePath: join(require("node:os").tmpdir(), "litmus-unused.json"),
    bootstrap: { schema_version: 1, version: "v0", experiments: [{ key: "e", status: "running", variants: [{ key: "only" }] }] },
  });
  assert.throws(() => client.engine, (e) => e instanceof LitmusError && e.code === "not_ready");
  const ready = client.start();
  assert.equal(client.engine.assign("e", "u").variant, "only");
  assert.equal(client.version, "v0");
  client.close();
  assert.equal(await ready, true);
});
