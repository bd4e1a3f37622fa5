// Robustness of the installed package against arbitrary input (issue 10): every call returns or
// throws an Error (a LitmusError, TypeError or RangeError), never traps on bad arguments, and
// after any thrown error the engine still gives the same answers; regressions for what
// scripts/fuzz/js_bindings.mjs found; the per-unit state stays within its caps.
//
// The seeded sweep runs the fuzz harness itself (scripts/fuzz/js_bindings.mjs, found from
// LITMUS_FIXTURES, which scripts/wasm/test-package.sh sets) over this installed package.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as litmus from "litmus-experiments";
import * as analysis from "litmus-experiments/analysis";
import * as openfeature from "litmus-experiments/openfeature";

const { Engine, EventTracker, LitmusError, hashing } = litmus;
const { bandit, stats } = analysis;
const harness = process.env.LITMUS_FIXTURES ? join(process.env.LITMUS_FIXTURES, "..", "scripts", "fuzz", "js_bindings.mjs") : null;

const CONFIG = {
  schema_version: 1,
  experiments: [
    { key: "a", status: "running", variants: [{ key: "control" }, { key: "treatment" }] },
    { key: "b", status: "running", traffic: 0.5, variants: [{ key: "x" }, { key: "y" }] },
  ],
};
const invalid = (e) => e instanceof LitmusError && e.code === "invalid_argument";

test("a seeded sweep of every export: only Errors, and the same answers after each", { skip: harness && existsSync(harness) ? false : "no LITMUS_FIXTURES" }, async () => {
  const { fuzz } = await import(pathToFileURL(harness).href);
  // Callbacks that throw are rethrown in a microtask by design: the test runner would count
  // them as failures, so this sweep passes callbacks that do not.
  const out = await fuzz(litmus, analysis, openfeature, { seed: 2026, iterations: 600, hostileCallbacks: false });
  assert.deepEqual(out.findings, []);
  assert.equal(out.iterations, 600);
  assert.ok(out.failures > 100, `only ${out.failures} calls threw: the sweep is not probing`);
  // Every driver ran, the deliberate traps included.
  for (const name of ["engine", "engineKnown", "engineArgs", "hashing", "stats", "quantiles", "metrics", "bandit", "tracker", "client", "openfeature", "trap"]) {
    assert.ok(out.counts[name] > 0, `driver ${name} never ran`);
  }
});

test("a non-string where a string goes is an invalid_argument, not a trap of the instance", () => {
  let reported = 0;
  const engine = new Engine(CONFIG, { onExposure: () => reported++ });
  engine.assign("a", "u1");
  assert.equal(reported, 1);
  // A number, an object or null went to wasm-bindgen's string glue unchecked: "memory access
  // out of bounds", and the instance was restarted (losing the exposure memory).
  for (const f of [
    () => hashing.bucket("salt", "variant", 123),
    () => hashing.seed("salt", {}),
    () => hashing.unitHash(5, "variant", "u"),
    () => hashing.unitHash("salt", "variant", null),
    () => engine.assignAll(42),
    () => hashing.pickVariant(2 ** 32 + 5, [1, 1]),
    () => hashing.pickVariant(-1, [1, 1]),
    () => hashing.inTraffic(0.5, 1),
  ]) {
    assert.throws(f, invalid);
  }
  engine.assign("a", "u1");
  assert.equal(reported, 1, "the exposure memory survived: no trap restarted the instance");
  assert.equal(hashing.pickVariant(2 ** 32 - 1, [1, 1]), 1);
});

test("statistics and bandits check their strings, seeds and draws", () => {
  const arm = bandit.Arm.fromCounts(3, 10); // made before: lost if a trap restarted the instance
  for (const f of [
    () => stats.ttestIndFromStats(1, 1, 10, 2, 1, 10, true, 5),
    () => stats.proportionConfint(3, 10, 0.05, {}),
    () => stats.multipletests([0.01, 0.2], 0.05, null),
    () => stats.power(0.2, 100, 0.05, 1, 7),
    () => stats.cuped([[1, 2, 3], [1, 2, 4]], [[2, 3, 4], [1, 2, 3]], 0.05, Symbol("x")),
  ]) {
    assert.throws(f, invalid);
  }
  for (const seed of ["x", -1, 1.5, 2n ** 64n, -1n, {}, NaN]) {
    assert.throws(() => new bandit.Random(seed), invalid, String(seed));
  }
  assert.equal(new bandit.Random("12").nextU64(), new bandit.Random(12n).nextU64());
  assert.equal(new bandit.Random(2n ** 64n - 1n).nextU64(), new bandit.Random("0xffffffffffffffff").nextU64());
  const policy = bandit.Policy.thompsonBeta();
  assert.throws(() => policy.choose([arm], {}), invalid);
  assert.throws(() => policy.weights([arm, arm], 2 ** 32 + 100, 7), invalid, "draws wrapped modulo 2^32");
  assert.throws(() => policy.weights([arm, arm], 1.5, 7), invalid);
  assert.equal(policy.weights([arm, arm], 100, 7).length, 2);
  arm.update(1);
  assert.equal(arm.pulls, 11);
});

test("any thrown error leaves the engine with its answers", () => {
  // "t" reads the attributes below; "a" reads none.
  const reads = ["self", "big", "deep", "shallow", "x"].map((attribute) => ({ attribute, op: "exists" }));
  const config = { ...CONFIG, experiments: [...CONFIG.experiments, { key: "t", status: "running", targeting: { any: reads }, variants: [{ key: "on" }] }] };
  const engine = new Engine(config, { onExposure: () => {} });
  const answers = () => Array.from({ length: 100 }, (_, i) => engine.assign("a", `u${i}`).variant + engine.assign("t", `u${i}`, { x: i % 2 ? 1 : undefined }).reason).join();
  const before = answers();
  const trap = () => {
    throw new Error("hostile");
  };
  const hostile = new Proxy({}, { get: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap });
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  let deep = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  // Deeper than core reads JSON (128 levels), shallow enough for JSON.stringify.
  let shallow = 1;
  for (let i = 0; i < 200; i++) shallow = [shallow];
  assert.throws(() => engine.assign("t", "u1", { shallow }), (e) => e instanceof LitmusError && e.code === "invalid_argument" && /not JSON/.test(e.message));
  for (const f of [
    () => engine.assign("t", "u1", hostile),
    () => engine.assign("t", "u1", cyclic),
    () => engine.assign("t", "u1", { big: 1n }),
    () => engine.assign("t", "u1", { deep }),
    () => engine.assign("t", "u1", { x: { toJSON() { throw new Error("toJSON"); } } }),
    () => engine.assign("a", "u1", "not an object"),
    () => engine.assign("a", "u1", [1, 2]),
    () => engine.assign("a", "u1", undefined, { now: 1n }),
    () => engine.update("{"),
    () => engine.update(hostile),
    () => new Engine(hostile),
    () => litmus.default.__testTrap(),
  ]) {
    assert.throws(f, Error);
    assert.equal(answers(), before);
  }
  // Only the attributes an experiment reads are read: "a" reads none.
  assert.equal(engine.assign("a", "u1", hostile).variant, engine.assign("a", "u1").variant);
  assert.equal(engine.assign("a", "u1", { big: 1n, cyclic }).variant, engine.assign("a", "u1").variant);
});

test("per-unit state stays within its caps over 200k units", async () => {
  // The engine's only per-unit state is the exposure memory (exposureDedupeSize pairs), the
  // tracker's its queue (maxQueue events). scripts/fuzz/memory_node.mjs measures the
  // process over 10 million units.
  let reported = 0;
  const cap = 20_000;
  const engine = new Engine(CONFIG, { onExposure: () => reported++, exposureDedupeSize: cap });
  const tracker = new EventTracker({ baseUrl: "http://127.0.0.1:9", sdkKey: "k", maxQueue: 1_000, flushInterval: 3_600_000, fetch: () => Promise.reject(new TypeError("offline")), onError: () => {} });
  for (let i = 0; i < 200_000; i++) {
    const unit = `unit-${i}`;
    engine.assign("a", unit);
    if (i % 4 === 0) engine.assignAll(unit);
    if (i % 10 === 0) tracker.track(unit, "purchase", { value: 1 });
    if (i % 1000 === 0) assert.ok(tracker.queued <= 1_000);
  }
  assert.equal(tracker.queued, 1_000);
  assert.equal(tracker.dropped, 20_000 - 1_000);
  await tracker.close();
  assert.ok(reported >= 200_000);
  // A unit seen long ago is reported again (forgotten: the memory is bounded), a recent one not.
  const before = reported;
  engine.assign("a", "unit-0");
  assert.equal(reported, before + 1);
  engine.assign("a", "unit-199999");
  assert.equal(reported, before + 1);
  // Unknown experiment keys (cached per key for the clock) do not accumulate either.
  for (let i = 0; i < 30_000; i++) assert.equal(engine.assign(`no-such-${i}`, "u").reason, "unknown_experiment");
});
