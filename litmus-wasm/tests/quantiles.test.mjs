// litmus-experiments/analysis quantile sketches on the installed package: the QuantileSketch's
// API (add, extend, remove, merge, buckets and back), the quantile comparison from raw values
// and from sketches, and the error contract: NaN, infinities and other bad input throw a
// LitmusError with a code, never trap, and leave the sketch (and the instance) usable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments/analysis";

const cjs = createRequire(import.meta.url)("litmus-experiments/analysis");
// The ESM and CommonJS entry points each have their LitmusError class: match by name and code.
const invalid = (e) => e instanceof Error && e.name === "LitmusError" && e.code === "invalid_argument";
const degenerate = (e) => e instanceof Error && e.name === "LitmusError" && e.code === "degenerate_data";

/** A seeded lognormal sample (Box-Muller over sfc-like steps; no Math.random). */
function lognormal(seed, n, mu = 0, sigma = 1) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s = (s ^ (s >>> 12)) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return Float64Array.from({ length: n }, () => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())));
}

for (const [kind, { stats, QuantileSketch }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: a sketch adds, removes, merges and round-trips through its buckets`, () => {
    assert.equal(stats.QuantileSketch, QuantileSketch);
    const s = new QuantileSketch();
    assert.deepEqual([s.alpha, s.count, s.buckets()], [0.01, 0, []]);
    s.extend(Array.from({ length: 100 }, (_, i) => i + 1));
    s.add(1000);
    s.remove(1000);
    assert.equal(s.count, 100);
    assert.ok(Math.abs(s.quantile(0.5) - 50) <= 0.5);
    const keys = s.buckets().map(([k]) => k);
    assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
    const back = QuantileSketch.fromBuckets(s.buckets());
    assert.deepEqual(back.buckets(), s.buckets());
    assert.deepEqual(QuantileSketch.fromJSON(JSON.parse(JSON.stringify(s))).buckets(), s.buckets());
    const other = new QuantileSketch();
    other.extend(new Set(Array.from({ length: 100 }, (_, i) => i + 101)));
    s.merge(other);
    assert.equal(s.count, 200);
    s.merge(s); // itself: every bucket doubles
    assert.equal(s.count, 400);
    assert.equal(stats.sketchKey(0), 0);
    assert.equal(stats.sketchValue(0), 0);
    const xs = [-1e6, -3.5, -1e-3, 0, 1e-3, 1, 2.5, 1e12];
    const ks = xs.map((x) => stats.sketchKey(x, 0.02));
    assert.deepEqual(ks, [...ks].sort((a, b) => a - b));
    xs.forEach((x, i) => assert.ok(Math.abs(stats.sketchValue(ks[i], 0.02) - x) <= 0.02 * Math.abs(x) * (1 + 1e-12)));
    s.free();
    assert.throws(() => s.count, invalid, "a freed sketch");
  });

  test(`${kind}: quantile comparisons from raw values equal those from sketches`, () => {
    const t = lognormal(1, 10_000, 0.2);
    const c = lognormal(2, 10_000, 0);
    const st = new QuantileSketch();
    const sc = new QuantileSketch();
    st.extend(t);
    sc.extend(c);
    const r = stats.quantileZtest(t, Array.from(c), 0.5);
    assert.deepEqual(r, stats.quantileZtest(st, sc, 0.5));
    assert.ok(r.pvalue < 1e-3, `p ${r.pvalue}`);
    assert.ok(r.diffLower <= r.difference && r.difference <= r.diffUpper);
    assert.ok(r.relativeLower <= r.relative && r.relative <= r.relativeUpper);
    assert.equal(r.difference, r.quantileTreatment - r.quantileControl);
    const same = stats.quantileZtest(sc, sc, 0.9);
    assert.deepEqual([same.statistic, same.pvalue], [0, 1]);
    const e = stats.quantileInterval(t, 0.9, 0.05, { relativeAccuracy: 0.001 });
    assert.ok(e.lower <= e.estimate && e.estimate <= e.upper && e.nobs === 10_000);
    const sorted = Array.from(t).sort((a, b) => a - b);
    assert.ok(Math.abs(e.estimate - sorted[Math.floor(0.9 * 9999)]) <= 0.001 * sorted[Math.floor(0.9 * 9999)] * (1 + 1e-9));
    assert.equal(stats.exactQuantile([3, 1, 4, 1, 5, 9, 2, 6], 0.3), 2); // numpy method="lower"
  });

  test(`${kind}: NaN and infinities throw invalid_argument and leave the sketch usable`, () => {
    const s = new QuantileSketch();
    s.extend([1, 2, 3]);
    const before = s.buckets();
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const f of [
        () => s.add(bad), () => s.remove(bad), () => s.extend([4, bad, 5]), () => s.extend(Float64Array.of(4, bad)),
        () => s.quantile(bad), () => stats.exactQuantile([1, bad], 0.5), () => stats.exactQuantile([1, 2], bad),
        () => stats.quantileInterval([1, 2, bad], 0.5), () => stats.quantileInterval(s, bad), () => stats.quantileInterval(s, 0.5, bad),
        () => stats.quantileZtest(s, [1, bad], 0.5), () => stats.quantileZtest(s, s, 0.5, bad), () => stats.sketchKey(bad),
        () => stats.sketchValue(0, bad), () => stats.sketchValue(bad), () => new QuantileSketch(bad),
        () => QuantileSketch.fromBuckets([[bad, 1]]), () => QuantileSketch.fromBuckets([[0, bad]]),
        () => s.extend(["x"]), () => s.add(undefined),
      ]) {
        assert.throws(f, invalid, `${bad}: ${f}`);
      }
      assert.deepEqual(s.buckets(), before, "a failed call left the sketch as it was");
    }
    s.add(4);
    assert.equal(s.count, 4);
    assert.ok(Math.abs(s.quantile(1) - 4) <= 0.04);
  });

  test(`${kind}: other bad input throws typed errors`, () => {
    const s = new QuantileSketch();
    assert.throws(() => s.quantile(0.5), degenerate);
    s.add(1);
    assert.throws(() => stats.quantileInterval(s, 0.5), degenerate);
    assert.throws(() => stats.exactQuantile([], 0.5), degenerate);
    for (const q of [-0.1, 1.5]) assert.throws(() => s.quantile(q), invalid);
    for (const a of [0, 0.0001, 0.2, -1]) assert.throws(() => new QuantileSketch(a), invalid);
    assert.throws(() => s.merge(new QuantileSketch(0.02)), invalid);
    for (const other of [[1], {}, null, undefined]) assert.throws(() => s.merge(other), invalid);
    for (const buckets of [[[7, 1]], [[1, 2, 3]], "buckets", 5, null, [[0, 2 ** 60]], [[2 ** 40, 1]], [[1.5, 1]]]) {
      assert.throws(() => QuantileSketch.fromBuckets(buckets), invalid, JSON.stringify(buckets));
    }
    for (const values of ["123", 5, null, undefined, {}]) assert.throws(() => s.extend(values), invalid, String(values));
    for (const values of [5, null, "12"]) assert.throws(() => stats.quantileInterval(values, 0.5), invalid);
    assert.throws(() => stats.quantileZtest([1, 2], [1, 2], 0.5, 0.05, 7), invalid);
    assert.throws(() => stats.quantileZtest([1, 2], [1, 2], 0.5, 0.05, { relativeAccuracy: 0.5 }), invalid);
    assert.throws(() => stats.sketchValue(7), invalid);
    // Changes whose removals came first: consistent again once the additions arrive.
    const changes = QuantileSketch.fromBuckets([[stats.sketchKey(5), -1]]);
    assert.throws(() => changes.quantile(0.5), degenerate);
    changes.add(5);
    changes.add(6);
    assert.equal(changes.count, 1);
    assert.ok(Math.abs(changes.quantile(0.5) - 6) <= 0.06);
    assert.equal(s.count, 1);
  });

  test(`${kind}: after a trap a sketch made before is lost, not wrong, and new ones work`, () => {
    const api = kind === "ESM" ? esm.default : cjs;
    const s = new QuantileSketch();
    s.add(1);
    assert.throws(() => api.__testTrap(), (e) => e.name === "LitmusError" && e.code === "internal");
    assert.throws(() => s.add(2), (e) => e.code === "internal" && /lost/.test(e.message));
    const fresh = new QuantileSketch();
    fresh.extend([1, 2, 3]);
    assert.equal(fresh.count, 3);
    assert.equal(stats.quantileZtest([1, 2, 3, 4], [2, 3, 4, 5], 0.5).quantileControl > 0, true);
  });
}
