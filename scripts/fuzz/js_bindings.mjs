#!/usr/bin/env node
// Randomized fuzzing of every export of the litmus-experiments npm package under Node: the
// engine and metric catalogue check ("litmus-experiments"), statistics, quantile sketches and
// bandits ("litmus-experiments/analysis") and the OpenFeature provider
// ("litmus-experiments/openfeature"), driven with arbitrary JavaScript values from a seeded
// generator: undefined, null, NaN, ±Infinity, -0, huge numbers, BigInt,
// symbols, functions, deeply nested and cyclic objects and arrays, strings with lone
// surrogates, very long strings, typed arrays, proxies that throw on any access, objects with
// throwing getters, toJSON, valueOf and toString.
//
// The property:
//   - every call returns, or throws an Error: a LitmusError (its code never "internal", which
//     means a trap, i.e. a Rust panic or exhausted memory in the WebAssembly module, unless the
//     driver trapped on purpose), a TypeError or RangeError, or the UserError thrown by this
//     harness' hostile objects (which must come through unchanged);
//   - never a raw WebAssembly.RuntimeError, never a thrown non-Error, never a hang (a call over
//     10 s is reported);
//   - after ANY thrown error the package still gives correct answers: a sentinel engine made
//     at start, the engine that just threw (when its config is known), a fresh engine, a hash
//     and a statistic all give the answers they gave before. Traps are also provoked on
//     purpose now and then (the package's __testTrap) to exercise the JavaScript layer's
//     rebuild of the instance;
//   - EventTracker.onExposure never throws.
//
// Usage (from the repository root, after scripts/wasm/build-package.sh):
//   nice -n 10 node scripts/fuzz/js_bindings.mjs --seconds 600 [--seed N] [--package DIR]
//   node scripts/fuzz/js_bindings.mjs --iterations 2000 --seed 7     (a deterministic run)
// Default package: target/npm/litmus-experiments (the unpacked build). A finding prints the
// seed of its input: rerun it alone with --inputs SEED (or several: --inputs A,B,C); exits 1.
//
// litmus-wasm/tests/robustness.test.mjs imports `fuzz` from this file with the installed
// package's modules, and runs a short deterministic sweep in the normal Node test suite.

const NUMBERS = [
  NaN, Infinity, -Infinity, -0, 0, 5e-324, 1e-300, 1e-12, 0.001, 0.05, 0.1, 0.5, 0.999999, 1, 1.5, 2, 3, 10, 100, 1e6,
  2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e21, 1e300,
  Number.MAX_VALUE, -1, -0.5, -1e-300, -1e300, -Number.MAX_VALUE, 0.1 + 0.2,
];
const BIGINTS = [0n, 1n, -1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 63n) - 1n, 10n ** 30n];
const WORDS = [
  "", "a", "control", "treatment", "on", "user-42", "qa-1", "DE", "AT", "free", "pro", "1.2.3", "10.0.0-beta", "2026-06-15",
  "traffic", "variant", "layer", "holdout", "factor:color", "factor:", "two-sided", "less", "greater", "smaller", "larger",
  "normal", "wilson", "agresti_coull", "bonferroni", "holm", "fdr_bh", "thompson_beta", "ucb1", "\0", "\ud800", "\udfff",
  "a\ud800b", "\udc00\ud800", "z\u00fcrich", "\u{1f9ea}", "\u202e", "__proto__", "constructor", "toString", "a".repeat(300),
  "2026-06-15T12:00:00Z", "2026-06-15T12:00:00.123+02:00", "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z", "+275760-09-13T00:00:00Z", "NaN", "Infinity", "-0", "1e999", "[", "{}", "null",
];
const ATTRIBUTE_NAMES = ["country", "age", "score", "beta", "plan", "errors", "ratio", "name", "day", "tier", "version", "app_version", "email", "tags"];
const OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with", "ends_with", "regex", "exists", "version_eq", "version_gt", "version_lte", "bogus"];
const REGEXES = ["^a.*z$", "(a+)+$", "[", "\\", "(?i)de", "a{1000000}", "\\p{L}+", "x".repeat(5000)];

/** Thrown by the hostile objects; must come through the library unchanged. */
export class UserError extends Error {
  constructor(message = "hostile") {
    super(message);
    this.name = "UserError";
  }
}

class Finding extends Error {
  constructor(message, cause) {
    super(message);
    this.name = "Finding";
    this.cause = cause;
  }
}

/** A seeded generator (sfc32 seeded by splitmix32): the same seed, the same inputs. */
export class Rng {
  constructor(seed) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }
  u32() {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t >>> 0;
  }
  int(lo, hi) {
    return lo + Math.floor((this.u32() / 2 ** 32) * (hi - lo + 1));
  }
  bool() {
    return (this.u32() & 1) === 1;
  }
  chance(oneIn) {
    return this.int(1, oneIn) === 1;
  }
  pick(list) {
    return list[this.int(0, list.length - 1)];
  }
  float() {
    const b = new DataView(new ArrayBuffer(8));
    b.setUint32(0, this.u32());
    b.setUint32(4, this.u32());
    return b.getFloat64(0);
  }
  text(n) {
    const k = this.int(0, n);
    let s = "";
    for (let i = 0; i < k; i++) {
      const r = this.int(0, 9);
      const code = r < 6 ? this.int(0x20, 0x7e) : r === 6 ? this.int(0, 0x1f) : r === 7 ? this.int(0x80, 0xffff) : r === 8 ? this.int(0xd800, 0xdfff) : this.int(0x10000, 0x10ffff);
      s += String.fromCodePoint(code);
    }
    return s;
  }
}

// ---- values ----------------------------------------------------------------------------------

const text = (r) => {
  const k = r.int(0, 6);
  if (k <= 1) return r.pick(WORDS);
  if (k === 2) return r.text(40);
  if (k === 3) return r.pick(WORDS) + r.text(6);
  if (k === 4) return r.text(6).repeat(r.int(1, 3000));
  if (k === 5 && r.chance(20)) return "x".repeat(r.pick([65_536, 1_000_000, 5_000_000])); // very long
  return String(r.int(0, 1e6));
};
const number = (r) => {
  const k = r.int(0, 3);
  if (k === 0) return r.pick(NUMBERS);
  if (k === 1) return r.float();
  if (k === 2) return r.int(-5, 1000);
  return r.int(0, 1e6) / 10 ** r.int(0, 6);
};
const count = (r) => (r.chance(3) ? r.pick(NUMBERS) : r.int(0, 500));

/** An object whose every operation throws (a Proxy). */
const hostileProxy = (target = {}) =>
  new Proxy(target, {
    get() {
      throw new UserError("proxy get");
    },
    has() {
      throw new UserError("proxy has");
    },
    ownKeys() {
      throw new UserError("proxy ownKeys");
    },
    getOwnPropertyDescriptor() {
      throw new UserError("proxy descriptor");
    },
    getPrototypeOf() {
      throw new UserError("proxy prototype");
    },
    apply() {
      throw new UserError("proxy apply");
    },
    construct() {
      throw new UserError("proxy construct");
    },
  });

function hostile(r) {
  const k = r.int(0, 11);
  if (k === 0) return hostileProxy();
  if (k === 1) return hostileProxy([]);
  if (k === 2) return { get country() { throw new UserError("getter"); }, toString: () => "x" };
  if (k === 3) return { toJSON() { throw new UserError("toJSON"); } };
  if (k === 4) return { toJSON: () => 1n };
  if (k === 5) return { valueOf() { throw new UserError("valueOf"); }, toString() { throw new UserError("toString"); } };
  if (k === 6) return { [Symbol.toPrimitive]() { throw new UserError("toPrimitive"); } };
  if (k === 7) return Object.create(null);
  if (k === 8) {
    const o = { a: 1 };
    o.self = o;
    return o;
  }
  if (k === 9) {
    const a = [1];
    a.push(a);
    return a;
  }
  if (k === 10) return { length: 2 ** 32 - 1 }; // an array-like of absurd length
  return new Proxy({ a: 1 }, { getPrototypeOf() { throw new UserError("prototype"); } });
}

function deep(r) {
  let v = r.pick([1, "x", null]);
  const n = r.pick([50, 129, 300, 5_000, 200_000]);
  for (let i = 0; i < n; i++) v = r.bool() ? [v] : { k: v };
  return v;
}

// Whether value() may give a function that throws (set by fuzz(): hostileCallbacks).
let throwingFunctions = true;

export function value(r, depth = 0) {
  if (depth > 3) return r.pick([null, 0, NaN, "", undefined]);
  const k = r.int(0, 34);
  switch (k) {
    case 0: return undefined;
    case 1: return null;
    case 2: return r.bool();
    case 3: case 4: case 5: return number(r);
    case 6: return r.pick(BIGINTS);
    case 7: case 8: case 9: return text(r);
    case 10: return Symbol(r.pick(["s", ""]));
    case 11: return r.pick([() => 1, function named() {}, class K {}, async () => 1, Math.max, throwingFunctions ? () => { throw new UserError("fn"); } : () => 2]);
    case 12: case 13: return Array.from({ length: r.int(0, 6) }, () => value(r, depth + 1));
    case 14: case 15: return Object.fromEntries(Array.from({ length: r.int(0, 5) }, () => [text(r), value(r, depth + 1)]));
    case 16: return deep(r);
    case 17: case 18: return hostile(r);
    case 19: return r.pick([new Date(NaN), new Date(8.64e15), new Date(-8.64e15), new Date(0), new Date("2026-06-15T12:00:00Z")]);
    case 20: return Float64Array.from({ length: r.int(0, 8) }, () => number(r));
    case 21: return r.pick([new Uint8Array(r.int(0, 16)), new BigInt64Array(2), new Int32Array([1, -1]), new ArrayBuffer(8), new DataView(new ArrayBuffer(4))]);
    case 22: return r.pick([new Map([["a", 1]]), new Set([1]), new WeakMap(), Promise.resolve(1), /re/g, new Error("e"), Math, JSON, globalThis.process ?? null]);
    case 23: {
      const a = [];
      a[r.pick([5, 1000, 2 ** 20])] = 1; // sparse
      return a;
    }
    case 24: return Object.freeze({ country: "DE", age: 30 });
    case 25: return Array.from({ length: r.int(0, 12) }, () => number(r));
    case 26: return new Proxy({ country: "DE" }, {}); // a transparent proxy
    case 27: return new String("boxed");
    case 28: return new Number(3);
    default: return r.pick(WORDS);
  }
}

/** A value for attributes, config fields: JSON-like, with the odd arbitrary one. */
function jsonValue(r, depth = 0) {
  const k = r.int(0, 11);
  if (k === 0) return null;
  if (k === 1) return r.bool();
  if (k === 2 || k === 3) return number(r);
  if (k === 4 || k === 5) return text(r);
  if (k === 6 && depth < 3) return Array.from({ length: r.int(0, 4) }, () => jsonValue(r, depth + 1));
  if (k === 7 && depth < 3) return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [text(r), jsonValue(r, depth + 1)]));
  if (k === 8) return targeting(r, depth);
  if (k === 9) return r.pick(REGEXES);
  if (k === 10) return Array.from({ length: r.int(0, 4) }, () => ({ key: text(r), weight: number(r) }));
  return value(r, depth + 1);
}

function targeting(r, depth = 0) {
  if (depth < 4 && r.chance(3)) {
    const kind = r.pick(["all", "any", "not"]);
    if (kind === "not") return { not: targeting(r, depth + 1) };
    return { [kind]: Array.from({ length: r.int(0, 3) }, () => targeting(r, depth + 1)) };
  }
  const op = r.pick(OPS);
  const rule = { attribute: r.bool() ? r.pick(ATTRIBUTE_NAMES) : text(r), op };
  if (op === "regex") rule.value = r.bool() ? r.pick(REGEXES) : text(r);
  else if (op === "in" || op === "not_in") rule.value = Array.from({ length: r.int(0, 5) }, () => jsonValue(r, depth + 2));
  else if (op !== "exists" || r.bool()) rule.value = jsonValue(r, depth + 2);
  return rule;
}

// ---- configs ---------------------------------------------------------------------------------

export const SENTINEL_CONFIG = {
  schema_version: 1,
  version: "v1",
  experiments: [
    {
      key: "checkout",
      salt: "checkout-2026",
      status: "running",
      traffic: 1,
      variants: [{ key: "control", weight: 1 }, { key: "treatment", weight: 1, payload: { color: "red" } }],
    },
  ],
};
const BASE_CONFIGS = [
  SENTINEL_CONFIG,
  {
    schema_version: 1,
    experiments: [
      { key: "t", status: "running", variants: [{ key: "a" }, { key: "b" }], targeting: { attribute: "country", op: "in", value: ["DE", "AT"] } },
      { key: "w", status: "running", start_time: "2026-06-01T00:00:00Z", end_time: "2027-06-01T00:00:00Z", variants: [{ key: "a" }, { key: "b" }] },
      { key: "o", status: "running", variants: [{ key: "a" }, { key: "b" }], overrides: { "qa-1": "b" } },
    ],
  },
  {
    schema_version: 1,
    experiments: [
      { key: "l1", status: "running", variants: [{ key: "x" }, { key: "y" }], layer: { key: "L", range: [0, 0.5] } },
      { key: "l2", status: "running", traffic: 0.5, variants: [{ key: "x" }, { key: "y" }], layer: { key: "L", range: [0.5, 1] } },
    ],
    layers: [{ key: "L", salt: "s" }],
    holdouts: [{ key: "h", share: 0.1, experiments: ["l1"] }],
  },
  {
    schema_version: 1,
    experiments: [
      {
        key: "mv", kind: "multivariate", status: "running",
        factors: [{ key: "color", levels: [{ key: "red", payload: "#f00" }, { key: "blue" }] }, { key: "size", levels: [{ key: "s" }, { key: "l", weight: 2 }] }],
      },
    ],
  },
  {
    schema_version: 1,
    experiments: [{ key: "x", status: "running", variants: [{ key: "a" }, { key: "b" }], overrides: { "qa-1": "b" } }],
    flags: [
      { key: "on", type: "boolean", default: false, rules: [{ kind: "force", condition: { attribute: "country", op: "eq", value: "DE" }, value: true }, { kind: "rollout", percentage: 30, value: true }] },
      { key: "color", type: "string", default: "grey", rules: [{ kind: "experiment", experiment: "x", values: { a: "red", b: "blue" } }, { kind: "prerequisite", flag: "on", is: true, value: "gold" }] },
      { key: "limit", type: "number", default: 3, enabled: false, schedule: [{ at: "2026-06-01T00:00:00Z", enabled: true }] },
      { key: "theme", type: "json", default: { dark: true, sizes: [1, 2] } },
    ],
  },
];

const FLAG_TYPES = ["boolean", "string", "number", "json", "integer", null];

/** Flags of every type and rule kind, with references that may or may not exist, cycles and values of the wrong type. */
function generatedFlags(r, experiments) {
  const keys = Array.from({ length: r.int(0, 5) }, (_, i) => `f${i}`);
  return keys.map((key) => {
    const rules = Array.from({ length: r.int(0, 4) }, (_, i) => {
      const kind = r.pick(["force", "rollout", "experiment", "prerequisite", text(r)]);
      const rule = { kind };
      if (r.bool()) rule.id = r.pick([`r${i}`, "r0", text(r)]);
      if (r.chance(3)) rule.condition = targeting(r);
      if (kind === "experiment") {
        rule.experiment = experiments.length && r.bool() ? r.pick(experiments) : text(r);
        rule.values = Object.fromEntries(Array.from({ length: r.int(0, 3) }, () => [r.pick(["control", "treatment", text(r)]), jsonValue(r)]));
      } else rule.value = jsonValue(r);
      if (kind === "rollout" || r.chance(6)) rule.percentage = r.pick([0, 10, 50, 100, 101, -1, number(r)]);
      if (kind === "prerequisite" || r.chance(6)) {
        rule.flag = keys.length && r.bool() ? r.pick(keys) : text(r);
        rule.is = jsonValue(r);
      }
      return rule;
    });
    const flag = { key: r.chance(6) ? text(r) : key, type: r.pick(FLAG_TYPES), default: jsonValue(r), rules };
    if (r.bool()) flag.enabled = r.chance(4) ? jsonValue(r) : r.bool();
    if (r.chance(3)) flag.schedule = Array.from({ length: r.int(0, 3) }, () => ({ at: r.bool() ? r.pick(WORDS.slice(-14)) : jsonValue(r), ...(r.bool() ? { enabled: r.bool() } : {}), ...(r.bool() ? { rules: rules.slice(0, 1) } : {}) }));
    return flag;
  });
}

function generatedConfig(r) {
  const experiments = [];
  const layers = [];
  for (let i = 0; i < r.int(0, 5); i++) {
    const e = { key: r.chance(4) ? text(r) : `e${i}` };
    if (r.bool()) e.status = r.pick(["running", "running", "draft", "paused", "stopped", text(r)]);
    if (r.bool()) e.salt = text(r);
    if (r.bool()) e.traffic = number(r);
    if (r.chance(3)) e.start_time = r.bool() ? r.pick(WORDS.slice(-14)) : jsonValue(r);
    if (r.chance(3)) e.end_time = r.bool() ? r.pick(WORDS.slice(-14)) : jsonValue(r);
    if (r.bool()) e.targeting = targeting(r);
    if (r.chance(3)) e.overrides = Object.fromEntries(Array.from({ length: r.int(0, 3) }, () => [text(r), r.pick(["control", "treatment", text(r)])]));
    if (r.chance(4)) {
      e.kind = "multivariate";
      e.factors = Array.from({ length: r.int(0, 4) }, (_, j) => ({
        key: r.chance(3) ? text(r) : `f${j}`,
        levels: Array.from({ length: r.int(0, 4) }, (_, m) => ({ key: `l${m}`, weight: number(r), payload: jsonValue(r) })),
      }));
    } else {
      e.variants = Array.from({ length: r.int(0, 5) }, () => {
        const v = { key: r.pick(["control", "treatment", "c", text(r)]), weight: r.bool() ? number(r) : 1 };
        if (r.bool()) v.payload = jsonValue(r);
        return v;
      });
    }
    if (r.chance(3)) {
      const lk = r.pick(["L", "L2", text(r)]);
      e.layer = { key: lk, range: [r.bool() ? number(r) : r.int(0, 10) / 10, r.bool() ? number(r) : r.int(0, 10) / 10] };
      layers.push({ key: lk });
    }
    if (r.chance(8)) e[text(r)] = jsonValue(r);
    experiments.push(e);
  }
  const doc = { schema_version: r.pick([1, 1, 1, 2, 0, "1", null]), experiments };
  if (layers.length || r.chance(4)) doc.layers = layers;
  if (r.chance(3)) doc.holdouts = [{ key: text(r), share: number(r), experiments: experiments.slice(0, r.int(0, 3)).map((e) => e.key) }];
  if (r.chance(2)) doc.flags = generatedFlags(r, experiments.map((e) => e.key));
  if (r.bool()) doc.version = text(r);
  return doc;
}

function mutate(r, doc, rounds) {
  for (let i = 0; i < rounds; i++) {
    const spots = [];
    const walk = (node, depth) => {
      if (depth > 12 || spots.length > 500 || spots.includes(node)) return;
      if (Array.isArray(node)) {
        spots.push(node);
        node.forEach((v) => walk(v, depth + 1));
      } else if (node !== null && typeof node === "object") {
        spots.push(node);
        Object.values(node).forEach((v) => walk(v, depth + 1));
      }
    };
    try {
      walk(doc, 0);
    } catch {
      return doc; // a hostile value inside: leave it
    }
    if (spots.length === 0) return jsonValue(r);
    const node = r.pick(spots);
    const op = r.int(0, 4);
    try {
      mutateAt(r, node, op);
    } catch {
      // a frozen, boxed or hostile object: left as it is
    }
  }
  return doc;
}

function mutateAt(r, node, op) {
  {
    if (Array.isArray(node)) {
      if (node.length && op <= 2) node[r.int(0, node.length - 1)] = jsonValue(r);
      else if (node.length && op === 3) node.splice(r.int(0, node.length - 1), 1);
      else node.push(jsonValue(r));
    } else {
      const keys = Object.keys(node);
      if (keys.length && op <= 2) node[r.pick(keys)] = jsonValue(r);
      else if (keys.length && op === 3) delete node[r.pick(keys)];
      else node[r.bool() ? r.pick(["key", "status", "variants", "weight", "traffic", "salt", "layer", "range", "targeting", "op", "value", "payload", "overrides", "holdouts", "share"]) : text(r)] = jsonValue(r);
    }
  }
}

/** A metric catalogue of every kind (as fixtures/metrics/catalogues.json), for validateMetrics. */
const METRIC_CATALOGUE = [
  { key: "revenue", kind: "mean", event: "purchase", format: "currency", currency: "USD", cap: { absolute: 1000 } },
  { key: "orders", kind: "mean", event: "purchase", aggregation: "count" },
  { key: "revenue_per_order", kind: "ratio", numerator: "revenue", denominator: "orders" },
  { key: "p90_load", kind: "quantile", event: "page_load", quantile: 0.9, goal: "decrease" },
  { key: "day7", kind: "retention", event: "session", window: { delay_hours: 168, hours: 24 } },
  { key: "books", kind: "conversion", event: "purchase", filter: { attribute: "category", op: "eq", value: "books" } },
  { key: "checkout_funnel", kind: "funnel", steps: [{ event: "view_cart" }, { event: "begin_checkout" }, { event: "purchase" }] },
];

/** `base` (a fixture's JSON), mutated or not, as a value or JSON text; or anything. */
function mutated(r, base) {
  const k = r.int(0, 7);
  if (k === 0) return value(r);
  const doc = k <= 5 ? mutate(r, structuredClone(base), r.int(0, 4)) : structuredClone(base);
  if (r.int(0, 3)) return doc;
  try {
    return JSON.stringify(doc) ?? doc;
  } catch {
    return doc;
  }
}

/** A catalogue argument: the one above mutated, as an array or JSON text, or anything. */
const catalogue = (r) => mutated(r, METRIC_CATALOGUE);

/** Analysis settings with every field (as fixtures/analysis/settings.json), for validateAnalysis. */
const ANALYSIS_SETTINGS = {
  alpha: 0.1, test: "one_sided", basis: "fixed_horizon", correction: "none", cuped: "decide", min_units: 500,
  sequential_tuning: 800, priors: { rate: { alpha: 2, beta: 30 }, lift: { mean: 0, sd: 0.3 } },
};

/** A settings argument: the object above mutated, as an object or JSON text, or anything. */
const analysisSettings = (r) => mutated(r, ANALYSIS_SETTINGS);

/** Planning requests (as fixtures/planning/cases.json), for planExperiment. */
const PLANNING_REQUESTS = [
  { baseline: { kind: "rate", rate: 0.1 }, lift: 0.1, units_per_day: 2000, analysis: { basis: "fixed_horizon" } },
  { baseline: { kind: "mean", mean: 10, sd: 20 }, lift: 0.05, variants: 3, analysis: { test: "one_sided", basis: "fixed_horizon" } },
  { baseline: { kind: "rate", rate: 0.2 }, days: 14, units_per_day: 10000 },
];

/** A stratified bandit inference request (as fixtures/stats/bandit_inference.json's). */
const STRATIFIED_REQUEST = {
  variants: ["control", "b"],
  units: { variant: ["control", "b", "control", "b", "b", "control"], first_ms: [1, 2, 50, 60, 70, 80], value: [0, 1, 1, 0, 1, 0] },
  changes_ms: [40],
  metric: { key: "m", kind: "conversion", goal: "increase" },
  analysis: { alpha: 0.05, correction: "holm" },
};

/** A planning argument: one of the requests above mutated, as an object or JSON text, or anything. */
const planningRequest = (r) => mutated(r, r.pick(PLANNING_REQUESTS));

/** A config argument: a mutated base config or a generated one (object, JSON text or bytes), or anything. */
function config(r) {
  const k = r.int(0, 9);
  if (k === 0) return value(r);
  const doc = k <= 4 ? mutate(r, structuredClone(r.pick(BASE_CONFIGS)), r.int(0, 4)) : generatedConfig(r);
  const form = r.int(0, 5);
  if (form <= 2) return doc;
  let json;
  try {
    json = JSON.stringify(doc);
  } catch {
    return doc;
  }
  if (json === undefined) return doc;
  if (form === 3) return json;
  if (form === 4 && json.length) {
    const i = r.int(0, json.length);
    json = json.slice(0, i) + r.text(4) + json.slice(i + r.int(0, 3));
  }
  const bytes = new TextEncoder().encode(json);
  if (r.chance(4)) bytes[r.int(0, Math.max(0, bytes.length - 1))] = r.pick([0xff, 0xc0, 0x80, 0]);
  return r.bool() ? bytes : json;
}

// ---- the property ----------------------------------------------------------------------------

/**
 * Runs the fuzz over the package modules: `litmus` ("litmus-experiments"), `analysis`
 * ("litmus-experiments/analysis"), `openfeature` ("litmus-experiments/openfeature", optional).
 * Options: `{ seed, iterations, seconds, verbose, log, hostileCallbacks = true }` (false: no
 * onExposure callback throws, for runners that fail on uncaught exceptions). Resolves to
 * `{ iterations, seconds, counts, failures, findings }`; `findings` is empty when the property
 * held.
 */
export async function fuzz(litmus, analysis, openfeature, options = {}) {
  const { seed = 1, iterations = Infinity, seconds = Infinity, verbose = false, log = () => {}, hostileCallbacks = true } = options;
  throwingFunctions = hostileCallbacks;
  const { Engine, LitmusError, hashing, LocalStorageStickyStore, ConfigClient, EventTracker } = litmus;
  const { stats, bandit } = analysis;
  const validateMetrics = litmus.validateMetrics ?? litmus.default?.validateMetrics;
  const validateAnalysis = analysis.validateAnalysis ?? analysis.default?.validateAnalysis;
  const planExperiment = analysis.planExperiment ?? analysis.default?.planExperiment;
  const { QuantileSketch } = stats;
  const trap = litmus.default?.__testTrap ?? litmus.__testTrap;
  const trapAnalysis = analysis.default?.__testTrap ?? analysis.__testTrap;
  const counts = {};
  const findings = [];
  let failures = 0; // calls that threw (as allowed): each is followed by the sentinel checks
  let trapping = false; // a driver traps on purpose: "internal" is then expected

  // The answers to hold after every failure.
  const sentinel = new Engine(SENTINEL_CONFIG);
  const units = Array.from({ length: 16 }, (_, i) => `user-${i}`);
  const expected = units.map((u) => sentinel.assign("checkout", u).variant);
  const expectedBucket = hashing.bucket("checkout-2026", "variant", "user-42");
  const expectedSf = stats.normSf(1.96);
  const expectedT = stats.ttestIndFromStats(10, 2, 100, 10.5, 2, 100, false).pvalue;
  const tracker = new EventTracker({
    baseUrl: "http://127.0.0.1:9",
    sdkKey: "fuzz",
    flushInterval: 2 ** 30,
    maxQueue: 64,
    fetch: () => new Promise(() => {}),
    onError: () => {},
  });

  function check(where) {
    const got = units.map((u) => sentinel.assign("checkout", u).variant);
    if (got.join() !== expected.join()) throw new Finding(`after ${where}: the sentinel engine changed its answers`);
    const fresh = new Engine(SENTINEL_CONFIG);
    if (units.some((u, i) => fresh.assign("checkout", u).variant !== expected[i])) throw new Finding(`after ${where}: a fresh engine gives other answers`);
    if (hashing.bucket("checkout-2026", "variant", "user-42") !== expectedBucket) throw new Finding(`after ${where}: the bucket changed`);
    if (stats.normSf(1.96) !== expectedSf) throw new Finding(`after ${where}: normSf(1.96) changed`);
    if (stats.ttestIndFromStats(10, 2, 100, 10.5, 2, 100, false).pvalue !== expectedT) throw new Finding(`after ${where}: the t-test changed`);
  }

  const nameOf = (f, name) => name ?? f?.name ?? "call";
  /** Calls f(); an allowed throw is followed by the checks (and `after`, the driver's own). */
  function call(name, f, after) {
    const t0 = performance.now();
    let out;
    try {
      out = f();
    } catch (e) {
      failures++;
      classify(name, e);
      check(name);
      after?.();
      return undefined;
    } finally {
      const ms = performance.now() - t0;
      if (ms > 10_000) findings.push(`${name} took ${(ms / 1000).toFixed(1)} s`);
    }
    return out;
  }
  function classify(name, e) {
    if (e instanceof Finding) throw e;
    if (!(e instanceof Error)) throw new Finding(`${name} threw a non-Error: ${typeof e} ${safe(e)}`);
    if (e instanceof WebAssembly.RuntimeError) throw new Finding(`${name} threw a raw WebAssembly.RuntimeError: ${e.message}`, e);
    if (e instanceof LitmusError) {
      if (e.code === "internal" && !trapping) throw new Finding(`${name} trapped (LitmusError internal): ${e.message}`, e);
      if (typeof e.code !== "string") throw new Finding(`${name} threw a LitmusError without a code`, e);
      return;
    }
    if (e instanceof UserError || e instanceof TypeError || e instanceof RangeError) return;
    throw new Finding(`${name} threw ${e.name}: ${e.message.slice(0, 300)}`, e);
  }
  const safe = (v) => {
    try {
      return String(v).slice(0, 100);
    } catch {
      return "?";
    }
  };

  const arg = (r, plausible, oneIn = 8) => (r.chance(oneIn) ? value(r) : plausible());

  // ---- drivers

  function stickyStore(r) {
    const k = r.int(0, 5);
    if (k === 0) return undefined;
    if (k === 1) {
      const d = new Map();
      return { get: (key) => d.get(key), set: (key, v) => d.set(key, v) };
    }
    if (k === 2) {
      const d = new Map();
      return {
        get: (key) => {
          const x = r.int(0, 9);
          if (x === 0) throw new UserError("store get");
          if (x === 1) return r.pick([1, null, {}, [], Symbol("s"), 2n, "x".repeat(10_000), "\ud800", hostileProxy(), { toString() { throw new UserError("toString"); } }]);
          return d.get(key);
        },
        set: (key, v) => {
          if (r.chance(6)) throw new UserError("store set");
          d.set(key, v);
        },
      };
    }
    if (k === 3) {
      const storage = new Map();
      return new LocalStorageStickyStore({ getItem: (key) => storage.get(key) ?? null, setItem: (key, v) => storage.set(key, String(v)) }, r.bool() ? undefined : text(r));
    }
    if (k === 4) return new LocalStorageStickyStore(r.pick([hostileProxy(), {}, null, undefined]));
    return value(r);
  }

  function engineOptions(r) {
    if (r.chance(6)) return value(r);
    const o = {};
    // A throwing callback is rethrown in a microtask (an uncaught exception), by design.
    const throwing = hostileCallbacks ? () => { throw new UserError("callback"); } : () => {};
    if (r.bool()) o.onExposure = arg(r, () => r.pick([() => {}, tracker.onExposure, throwing]), 12);
    if (r.chance(3)) o.exposureDedupeSize = arg(r, () => r.pick([0, 1, 2, 3, 10, 250_000, 2 ** 32, 2 ** 53, NaN, Infinity, 10n]));
    if (r.chance(3)) o.strict = arg(r, () => r.bool(), 10);
    if (r.chance(3)) o.stickyStore = stickyStore(r);
    if (r.chance(10)) Object.defineProperty(o, "strict", { get() { throw new UserError("option getter"); }, enumerable: true });
    return o;
  }

  const attributes = (r) => {
    const k = r.int(0, 5);
    if (k === 0) return undefined;
    if (k === 1) return value(r);
    return Object.fromEntries(Array.from({ length: r.int(0, 5) }, () => [r.bool() ? r.pick(ATTRIBUTE_NAMES) : text(r), r.bool() ? value(r) : jsonValue(r)]));
  };
  const nowOptions = (r) => {
    const k = r.int(0, 4);
    if (k === 0) return undefined;
    if (k === 1) return value(r);
    return { now: r.pick([undefined, null, false, true, 0, -1, 1.7e12, 8.64e15, 8.64e15 + 1, NaN, Infinity, 2n, "2026-06-15T00:00:00Z", r.pick(WORDS), new Date(NaN), new Date(8.64e15), number(r), value(r)]) };
  };

  /** Uses an engine; `probe` (when the config is known) is re-checked after each failure. */
  function useEngine(r, engine, probe) {
    const keys = call("experimentKeys", () => engine.experimentKeys()) ?? [];
    const after = probe ? () => probe.check() : undefined;
    for (let i = r.int(1, 6); i > 0; i--) {
      const op = r.int(0, 11);
      const exp = arg(r, () => (keys.length && r.int(0, 3) ? r.pick(keys) : text(r)), 10);
      const unit = arg(r, () => text(r), 10);
      if (op <= 4) {
        const a = call("Engine.assign", () => engine.assign(exp, unit, attributes(r), nowOptions(r)), after);
        if (a !== undefined) checkAssignment(a);
      } else if (op === 5) {
        const list = call("Engine.assignAll", () => engine.assignAll(unit, attributes(r), nowOptions(r)), after);
        if (list !== undefined) {
          if (!Array.isArray(list)) throw new Finding("assignAll returned a non-array");
          list.forEach(checkAssignment);
        }
      } else if (op === 6) {
        const ok = call("Engine.update", () => (engine.update(config(r)), true), after);
        if (ok && probe) probe.rebase();
      } else if (op === 7) {
        const problems = call("Engine.problems", () => engine.problems) ?? [];
        if (!problems.every((p) => p instanceof LitmusError)) throw new Finding("Engine.problems holds a non-LitmusError");
      } else if (op === 8) {
        call("Engine.version", () => engine.version);
      } else if (op === 9) {
        call("Engine.assign (no time)", () => engine.assign(exp, unit, { country: "DE" }, { now: false }), after);
      } else {
        useFlags(r, engine, unit, after);
      }
    }
  }

  const FLAG_REASONS = ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "ERROR"];

  /** The flag entry points: evaluate (typed or not), evaluateAll, the typed values, metadata. */
  function useFlags(r, engine, unit, after) {
    const keys = call("flagKeys", () => engine.flagKeys()) ?? [];
    const flag = arg(r, () => (keys.length && r.int(0, 3) ? r.pick(keys) : text(r)), 10);
    const op = r.int(0, 6);
    const options = nowOptions(r);
    // Options are built inside the calls: a hostile `options` may throw when spread.
    const extended = (field, make) => () => (r.bool() ? { ...(options ?? {}), [field]: make() } : options);
    if (op <= 2) {
      const typed = extended("type", () => r.pick(["boolean", "string", "number", "json", "object", 5]));
      const e = call("Engine.evaluate", () => engine.evaluate(flag, unit, attributes(r), typed()), after);
      if (e !== undefined) checkEvaluation(e);
    } else if (op === 3) {
      const all = call("Engine.evaluateAll", () => engine.evaluateAll(unit, attributes(r), options), after);
      if (all !== undefined) Object.values(all).forEach(checkEvaluation);
    } else {
      const method = r.pick(["booleanValue", "stringValue", "numberValue", "jsonValue"]);
      const withDefault = extended("default", () => value(r));
      call(`Engine.${method}`, () => engine[method](flag, unit, attributes(r), withDefault()), after);
      call("Engine.flagMetadata", () => engine.flagMetadata(flag), after);
    }
    if (r.int(0, 3) === 0) {
      const usage = call("Engine.flagUsage", () => engine.flagUsage(arg(r, () => r.bool())), after);
      const counts = usage === undefined ? [] : Object.values(usage ?? { bad: null });
      if (!counts.every((n) => Number.isInteger(n) && n > 0)) throw new Finding(`flagUsage gave ${safe(usage)}`);
    }
  }

  function checkEvaluation(e) {
    if (e === null || typeof e !== "object") throw new Finding(`an evaluation is ${typeof e}`);
    if (!FLAG_REASONS.includes(e.reason)) throw new Finding(`flag reason ${safe(e.reason)}`);
    if ((e.reason === "ERROR") !== (e.error !== null)) throw new Finding(`flag error ${safe(e.error)} with reason ${safe(e.reason)}`);
  }

  function checkAssignment(a) {
    if (a === null || typeof a !== "object") throw new Finding(`an assignment is ${typeof a}`);
    if (a.variant !== null && typeof a.variant !== "string") throw new Finding(`variant ${safe(a.variant)} is not a string`);
    if (typeof a.reason !== "string" || typeof a.inExperiment !== "boolean") throw new Finding(`a malformed assignment: ${safe(JSON.stringify(a))}`);
  }

  /** A probe of an engine made from a known config: its answer for one unit, re-checked after each failure. */
  function probeOf(engine) {
    const keys = engine.experimentKeys();
    if (keys.length === 0) return undefined;
    const p = {
      exp: keys[0],
      want: null,
      rebase() {
        p.want = p.answer();
      },
      answer() {
        const a = engine.assign(p.exp, "probe-unit", undefined, { now: 1.78e12 });
        return JSON.stringify([a.variant, a.inExperiment, a.reason, a.payload]);
      },
      check() {
        const got = p.answer();
        if (got !== p.want) throw new Finding(`the engine that threw now answers ${got}, not ${p.want}`);
      },
    };
    p.rebase();
    return p;
  }

  /** A QuantileSketch: empty, of some values, or from buckets (sometimes odd ones). */
  function makeSketch(r) {
    const accuracy = arg(r, () => r.pick([0.001, 0.01, 0.05]), 10);
    const k = r.int(0, 2);
    if (k === 0) return call("new QuantileSketch", () => new QuantileSketch(accuracy)) ?? new QuantileSketch();
    if (k === 1) {
      const s = call("new QuantileSketch", () => new QuantileSketch(accuracy)) ?? new QuantileSketch();
      call("QuantileSketch.extend", () => s.extend(arg(r, () => Array.from({ length: r.int(0, 40) }, () => (r.chance(4) ? number(r) : r.int(0, 100))))));
      return s;
    }
    const key = () => r.pick([0, 32_768 + r.int(-20_000, 400_000), -(32_768 + r.int(-20_000, 400_000)), r.int(-(2 ** 31), 2 ** 31 - 1), number(r)]);
    const pairs = Array.from({ length: r.int(0, 6) }, () => [key(), r.pick([1, 2, -1, 0, count(r), number(r)])]);
    return call("QuantileSketch.fromBuckets", () => QuantileSketch.fromBuckets(arg(r, () => pairs), accuracy)) ?? new QuantileSketch();
  }
  /** A group for the quantile functions: a sketch or values. */
  const quantileSample = (r) => (r.bool() ? makeSketch(r) : arg(r, () => Array.from({ length: r.int(0, 40) }, () => (r.chance(4) ? number(r) : r.int(0, 100)))));

  const drivers = {
    engine(r) {
      const options = engineOptions(r);
      const engine = call("new Engine", () => new Engine(config(r), options));
      if (engine === undefined) return;
      // With a sticky store the answers legitimately change (and a hostile store throws):
      // the probe is for engines without one.
      let sticky = true;
      try {
        sticky = options?.stickyStore !== undefined;
      } catch {
        // a hostile options object
      }
      useEngine(r, engine, sticky ? undefined : call("probe", () => probeOf(engine)));
    },
    engineKnown(r) {
      // A valid config and plain options: the engine must keep its answers through failures.
      const engine = new Engine(r.pick(BASE_CONFIGS), r.bool() ? { onExposure: () => {} } : {});
      useEngine(r, engine, probeOf(engine));
    },
    engineArgs(r) {
      const engine = r.bool() ? sentinel : call("new Engine (sticky store)", () => new Engine(r.pick(BASE_CONFIGS), { stickyStore: stickyStore(r) }));
      if (engine === undefined) return;
      const args = Array.from({ length: r.int(0, 4) }, () => value(r));
      const method = r.pick(["assign", "assignAll", "update", "experimentKeys", "evaluate", "evaluateAll", "booleanValue", "stringValue", "numberValue", "jsonValue", "flagKeys", "flagMetadata", "flagUsage"]);
      if (method === "update" && engine === sentinel) return;
      call(`Engine.${method} (any arguments)`, () => engine[method](...args));
      call("new Engine (any arguments)", () => new Engine(...args));
    },
    hashing(r) {
      const salt = arg(r, () => text(r));
      const purpose = arg(r, () => r.pick(["traffic", "variant", "layer", "holdout", `factor:${text(r)}`, text(r)]));
      const unit = arg(r, () => text(r));
      const k = r.int(0, 4);
      if (k === 0) call("hashing.seed", () => hashing.seed(salt, purpose));
      else if (k === 1) call("hashing.unitHash", () => hashing.unitHash(salt, purpose, unit));
      else if (k === 2) call("hashing.bucket", () => hashing.bucket(salt, purpose, unit));
      else if (k === 3) call("hashing.pickVariant", () => hashing.pickVariant(arg(r, () => count(r)), arg(r, () => Array.from({ length: r.int(0, 6) }, () => number(r)))));
      else call("hashing.inTraffic", () => hashing.inTraffic(arg(r, () => count(r)), arg(r, () => number(r))));
    },
    stats(r) {
      const name = r.pick(Object.keys(stats));
      const f = () => arg(r, () => number(r));
      const c = () => arg(r, () => count(r));
      const alt = () => arg(r, () => r.pick(["two-sided", "less", "greater", "smaller", "larger", text(r)]));
      const xs = () => arg(r, () => (r.chance(4) ? Float64Array.from({ length: r.int(0, 12) }, () => number(r)) : Array.from({ length: r.int(0, 12) }, () => (r.bool() ? number(r) : r.int(0, 100)))));
      const sample = () => (r.chance(4) ? { count: c(), mean: f(), m2: f() } : xs());
      const joint = () => {
        const k = r.int(0, 2);
        if (k === 0) return { nobs: c(), meanX: f(), meanY: f(), m2X: f(), m2Y: f(), cXY: f() };
        if (k === 1) {
          const n = r.int(0, 6);
          return [Array.from({ length: n }, () => number(r)), Array.from({ length: n + (r.chance(5) ? 1 : 0) }, () => number(r))];
        }
        return value(r);
      };
      const table = {
        describe: () => [xs()],
        describePairs: () => [xs(), xs()],
        ttestIndFromStats: () => [f(), f(), c(), f(), f(), c(), arg(r, () => r.bool()), alt()],
        ttestInd: () => [sample(), sample(), arg(r, () => r.bool()), alt()],
        proportionsZtest: () => [arg(r, () => [c(), c()]), arg(r, () => [c(), c()]), alt()],
        proportionConfint: () => [c(), c(), f(), arg(r, () => r.pick(["normal", "wilson", "agresti_coull", "beta", text(r)]))],
        chisquare: () => [xs(), r.bool() ? undefined : xs()],
        chi2Contingency: () => [arg(r, () => Array.from({ length: r.int(0, 4) }, () => Array.from({ length: r.int(0, 4) }, () => (r.chance(4) ? number(r) : r.int(0, 50))))), arg(r, () => r.bool())],
        multipletests: () => [xs(), f(), arg(r, () => r.pick(["bonferroni", "holm", "fdr_bh", "hs", text(r)]))],
        srmCheck: () => [xs(), r.bool() ? undefined : xs(), f()],
        fOneway: () => Array.from({ length: r.int(0, 4) }, sample),
        factorialAnova: () => {
          const levels = Array.from({ length: r.int(0, 3) }, () => (r.int(0, 5) ? r.int(0, 4) : number(r)));
          const n = levels.reduce((p, x) => p * (Number.isInteger(x) && x >= 0 && x <= 4 ? x : 1), 1);
          return [arg(r, () => levels), arg(r, () => Array.from({ length: Math.min(Math.max(n + r.int(-1, 1), 0), 40) }, sample))];
        },
        meanConfint: () => [sample(), f()],
        diffMeansConfint: () => [sample(), sample(), f(), arg(r, () => r.bool())],
        relativeLiftConfint: () => [sample(), sample(), f()],
        newcombeConfint: () => [c(), c(), c(), c(), f()],
        power: () => [f(), f(), f(), f(), alt()],
        sampleSize: () => [f(), f(), f(), f(), alt()],
        minimumDetectableEffect: () => [f(), f(), f(), f(), alt()],
        proportionEffectsize: () => [f(), f()],
        msprt: () => [sample(), sample(), f(), f()],
        msprtProportions: () => [c(), c(), c(), c(), f(), f()],
        cuped: () => [joint(), joint(), f(), alt()],
        ratioZtest: () => [joint(), joint(), f(), alt()],
        betaProbBeats: () => [f(), f(), f(), f()],
        betaExpectedLoss: () => [f(), f(), f(), f()],
        betaProbBest: () => [arg(r, () => Array.from({ length: r.int(0, 5) }, () => (r.int(0, 5) ? [number(r), number(r)] : value(r))))],
        normalProbBeats: () => [f(), f(), f(), f()],
        normalExpectedLoss: () => [f(), f(), f(), f()],
        quantileInterval: () => [quantileSample(r), arg(r, () => r.pick([0, 0.5, 0.9, 1, number(r)])), f(), arg(r, () => ({ relativeAccuracy: arg(r, () => r.pick([0.001, 0.01, 0.05])) }))],
        quantileZtest: () => [quantileSample(r), quantileSample(r), arg(r, () => r.pick([0, 0.5, 0.9, 1, number(r)])), f(), arg(r, () => (r.bool() ? undefined : { relativeAccuracy: arg(r, () => r.pick([0.001, 0.01, 0.05])) }))],
        exactQuantile: () => [xs(), arg(r, () => r.pick([0, 0.5, 1, number(r)]))],
        sketchKey: () => [f(), arg(r, () => r.pick([0.001, 0.01, 0.05]))],
        sketchValue: () => [arg(r, () => r.pick([0, 32_768 + r.int(-20_000, 400_000), -40_000, count(r)])), arg(r, () => r.pick([0.001, 0.01, 0.05]))],
        QuantileSketch: () => [arg(r, () => r.pick([0.001, 0.01, 0.05]))],
      };
      const make = table[name] ?? (() => Array.from({ length: r.chance(6) ? r.int(0, 4) : name.match(/^(f|beta)/) ? 3 : name.match(/^(t|chi2)/) ? 2 : 1 }, f));
      let args = make();
      if (r.chance(12)) args = r.bool() ? args.slice(0, r.int(0, args.length)) : [...args, value(r)];
      if (name === "QuantileSketch") call("new stats.QuantileSketch", () => new QuantileSketch(...args));
      else call(`stats.${name}`, () => stats[name](...args));
    },
    quantiles(r) {
      // A sketch driven through its methods; a call that throws leaves it as it was.
      const s = makeSketch(r);
      const x = () => arg(r, () => (r.chance(3) ? number(r) : r.int(-50, 50)));
      for (let i = r.int(1, 8); i > 0; i--) {
        const before = JSON.stringify(s.buckets());
        const op = r.int(0, 8);
        let ok;
        if (op === 0) ok = call("QuantileSketch.add", () => (s.add(x()), true));
        else if (op === 1) ok = call("QuantileSketch.remove", () => (s.remove(x()), true));
        else if (op === 2) ok = call("QuantileSketch.extend", () => (s.extend(arg(r, () => Array.from({ length: r.int(0, 20) }, x))), true));
        else if (op === 3) ok = call("QuantileSketch.merge", () => (s.merge(arg(r, () => (r.int(0, 5) ? makeSketch(r) : s))), true));
        else if (op === 4) call("QuantileSketch.quantile", () => s.quantile(arg(r, () => r.pick([0, 0.5, 0.9, 1, number(r)]))));
        else if (op === 5) {
          const back = call("QuantileSketch.fromBuckets", () => QuantileSketch.fromBuckets(s.buckets(), s.alpha));
          if (back && JSON.stringify(back.buckets()) !== before) throw new Finding("QuantileSketch.fromBuckets(s.buckets()) differs from s");
        } else if (op === 6) call("QuantileSketch state", () => [s.count, s.alpha, JSON.stringify(s)]);
        else call("stats.quantileInterval (sketch)", () => stats.quantileInterval(s, arg(r, () => r.pick([0.5, 0.99, number(r)]))));
        if (ok === undefined && op <= 3 && JSON.stringify(s.buckets()) !== before) throw new Finding(`a QuantileSketch call that threw changed the sketch (op ${op})`);
      }
    },
    metrics(r) {
      const out = call("validateMetrics", () => validateMetrics(catalogue(r)));
      if (out !== undefined && !(Array.isArray(out) && out.every((m) => typeof m.key === "string" && typeof m.kind === "string" && typeof m.rollup === "string"))) {
        throw new Finding(`validateMetrics returned ${safe(JSON.stringify(out))}`);
      }
      const settings = call("validateAnalysis", () => validateAnalysis(analysisSettings(r)));
      if (settings !== undefined && !(settings && typeof settings.alpha === "number" && settings.alpha > 0 && settings.alpha <= 0.5 && typeof settings.correction === "string")) {
        throw new Finding(`validateAnalysis returned ${safe(JSON.stringify(settings))}`);
      }
      const planned = call("planExperiment", () => planExperiment(planningRequest(r)));
      if (planned !== undefined && !(planned && planned.plan && planned.plan.units_per_variant >= 1)) {
        throw new Finding(`planExperiment returned ${safe(JSON.stringify(planned))}`);
      }
      const inference = call("bandit.stratified", () => bandit.stratified(mutated(r, STRATIFIED_REQUEST)));
      if (inference !== undefined && !(inference && inference.method === "stratified_by_weight_period" && Array.isArray(inference.arms))) {
        throw new Finding(`bandit.stratified returned ${safe(JSON.stringify(inference))}`);
      }
    },
    bandit(r) {
      const { Random, Arm, Policy, Bandit } = bandit;
      const f = () => arg(r, () => number(r), 10);
      const opts = () => (r.chance(3) ? arg(r, () => ({ burnIn: arg(r, () => r.pick([0, 1, 5, 2 ** 53, -1, NaN])), floor: f(), optimistic: arg(r, () => r.pick([undefined, null, number(r)])) })) : undefined);
      const policy = () => {
        const k = r.int(0, 4);
        if (k === 0) return call("Policy.thompsonBeta", () => Policy.thompsonBeta(f(), f(), opts()));
        if (k === 1) return call("Policy.thompsonNormal", () => Policy.thompsonNormal(f(), f(), f(), f(), opts()));
        if (k === 2) return call("Policy.ucb1", () => Policy.ucb1(f(), opts()));
        if (k === 3) return call("Policy.klUcb", () => Policy.klUcb(f(), opts()));
        return call("Policy.epsilonGreedy", () => Policy.epsilonGreedy(f(), arg(r, () => r.pick([null, undefined, number(r)])), opts()));
      };
      const arm = () => {
        const k = r.int(0, 3);
        if (k === 0) return new Arm();
        if (k === 1) return call("Arm.fromCounts", () => Arm.fromCounts(arg(r, () => r.int(0, 100)), arg(r, () => r.int(0, 100)))) ?? new Arm();
        if (k === 2) return call("Arm.fromJSON", () => Arm.fromJSON(arg(r, () => ({ pulls: count(r), mean: number(r), m2: number(r) })))) ?? new Arm();
        const a = new Arm();
        for (let i = r.int(0, 5); i > 0; i--) call("Arm.update", () => a.update(arg(r, () => (r.bool() ? number(r) : r.int(0, 1)))));
        call("Arm.toJSON", () => Arm.fromJSON(a.toJSON()));
        return a;
      };
      const seed = () => arg(r, () => r.pick([0, 1, 7, 2 ** 53, -1, 1.5, NaN, "12", "x", 2n ** 64n - 1n, 2n ** 64n, -1n]));
      const k = r.int(0, 3);
      if (k === 0) {
        const rng = call("new Random", () => new Random(seed()));
        if (rng) call("Random.next", () => [rng.nextU64(), rng.random()]);
      } else if (k <= 2) {
        const p = policy();
        if (!p) return;
        const arms = Array.from({ length: r.int(0, 5) }, arm);
        if (r.chance(10)) arms.push(value(r));
        const draws = () => arg(r, () => r.pick([0, 1, 100, 10_000, 10_000_001, 2 ** 32 + 100, -1, 1.5, NaN]));
        const op = r.int(0, 2);
        if (op === 0) call("Policy.choose", () => p.choose(arms, r.int(0, 8) ? new Random(7) : value(r)));
        else if (op === 1) call("Policy.weights", () => p.weights(arms, draws(), seed()));
        else call("Policy.weightsMonteCarlo", () => p.weightsMonteCarlo(arms, draws(), seed()));
      } else {
        const p = policy() ?? Policy.thompsonBeta();
        const keys = arg(r, () => Array.from({ length: r.int(0, 4) }, () => r.pick(["red", "blue", "green", text(r)])));
        const b = call("new Bandit", () => new Bandit(r.int(0, 8) ? p : value(r), keys, seed()));
        if (!b) return;
        for (let i = r.int(1, 6); i > 0; i--) {
          const op = r.int(0, 3);
          if (op === 0) call("Bandit.choose", () => b.choose());
          else if (op === 1) call("Bandit.update", () => b.update(arg(r, () => (r.bool() ? r.pick(b.keys) : text(r))), arg(r, () => (r.bool() ? number(r) : r.int(0, 1)))));
          else if (op === 2) call("Bandit.weights", () => b.weights(arg(r, () => r.pick([1, 100, 10_000, 0, -1])), seed()));
          else call("Bandit.arms", () => [b.arms(), b.keys]);
        }
      }
    },
    tracker(r) {
      const ts = () => arg(r, () => r.pick([undefined, null, new Date(), 0, -62_167_219_200_001, 253_402_300_800_000, 1.7e12, "2026-06-15T00:00:00Z", "nope", NaN]));
      const k = r.int(0, 4);
      if (k === 0) {
        const o = arg(r, () => ({ value: arg(r, () => r.pick([undefined, null, number(r), 1n])), properties: arg(r, () => r.pick([undefined, null, Object.fromEntries([[text(r), jsonValue(r)]]), { big: "x".repeat(40_000) }, [1], hostile(r)])), timestamp: ts() }));
        call("EventTracker.track", () => tracker.track(arg(r, () => text(r)), arg(r, () => text(r)), o));
      } else if (k === 1) {
        call("EventTracker.exposure", () => tracker.exposure(arg(r, () => text(r)), arg(r, () => text(r)), arg(r, () => text(r)),
          arg(r, () => ({ timestamp: ts(), dimensions: r.pick([undefined, {}, { country: text(r) }, { [text(r)]: "x" }, { c: 3 }]) }))));
        call("EventTracker.holdoutExposure", () => tracker.holdoutExposure(arg(r, () => text(r)), arg(r, () => text(r)),
          arg(r, () => r.pick(["holdout", "exposed", text(r)])), arg(r, () => ({ timestamp: ts() }))));
      } else if (k === 2) {
        const e = arg(r, () => ({ unitId: arg(r, () => text(r)), experiment: arg(r, () => text(r)), variant: arg(r, () => text(r)), timestamp: ts() }), 5);
        try {
          tracker.onExposure(e);
        } catch (error) {
          throw new Finding(`EventTracker.onExposure threw ${error?.name}: ${error?.message}`, error);
        }
      } else if (k === 3) {
        const o = {};
        for (const name of ["flushInterval", "maxBatch", "maxQueue", "timeout", "retryDelay", "maxRetryDelay"]) {
          if (r.chance(3)) o[name] = arg(r, () => r.pick([number(r), count(r), 1, 0, -1]), 3);
        }
        const t = call("new EventTracker", () => new EventTracker({ baseUrl: arg(r, () => r.pick(["http://127.0.0.1:9", "", text(r)])), sdkKey: arg(r, () => r.pick(["k", "", text(r)])), fetch: () => Promise.reject(new TypeError("no network")), ...o }));
        if (t) {
          call("EventTracker.track (fresh)", () => t.track("u", "e"));
          call("EventTracker counters", () => [t.queued, t.sent, t.dropped, t.lastError]);
          t.close();
        }
      } else {
        const o = arg(r, () => ({ baseUrl: arg(r, () => r.pick(["http://127.0.0.1:9", "https://x/p/", "", text(r)])), sdkKey: arg(r, () => r.pick(["k", "", text(r)])), mode: arg(r, () => r.pick(["stream", "poll", undefined])), pollInterval: arg(r, () => r.pick([undefined, 1, 1e9, 2 ** 31, 0])), bootstrap: r.bool() ? config(r) : undefined, fetch: () => Promise.reject(new TypeError("no network")) }));
        const client = call("new ConfigClient", () => new ConfigClient(o));
        if (client) {
          call("ConfigClient.engine", () => client.engine);
          call("ConfigClient.state", () => [client.version, client.stale, client.source, client.lastError]);
          if (r.bool()) {
            call("ConfigClient.start", () => client.start());
            const e = call("ConfigClient.engine (started)", () => client.engine);
            if (e) useEngine(r, e);
          }
          client.close();
        }
      }
    },
    async client(r) {
      // A config client against a fake server answering arbitrary bodies and statuses.
      const status = r.pick([200, 200, 200, 304, 401, 403, 429, 500, 503, 204, 302, 418]);
      const body = r.int(0, 3) ? (() => { try { return JSON.stringify(mutate(r, structuredClone(r.pick(BASE_CONFIGS)), r.int(0, 3))) ?? "null"; } catch { return "{"; } })() : text(r);
      const sse = `retry: ${r.pick(["0", "10", "x", "99999999999999999999"])}\nid: ${text(r)}\nevent: ${r.pick(["config", "message", text(r)])}\ndata: ${body.replace(/[\r\n]/g, "")}\n\n${r.bool() ? ":keep\n" : ""}`;
      const fetch = (url) => {
        if (r.chance(6)) return Promise.reject(new TypeError("network"));
        const stream = String(url).endsWith("/sdk/stream");
        return Promise.resolve(new Response(status === 204 || status === 304 ? null : stream ? sse : body, {
          status,
          headers: { "Content-Type": stream ? r.pick(["text/event-stream", "text/plain"]) : "application/json", ETag: r.pick(['"1"', "", text(r)]) },
        }));
      };
      const usageInterval = r.pick([undefined, 0, 1000, 500]);
      const client = call("new ConfigClient (fake server)", () => new ConfigClient({ baseUrl: "http://fake", sdkKey: "k", mode: r.pick(["stream", "poll"]), pollInterval: 5, retryDelay: 1, maxRetryDelay: 5, timeout: 50, bootstrap: r.bool() ? r.pick(BASE_CONFIGS) : undefined, fetch, onError: () => {}, onUpdate: () => {}, usageInterval }));
      if (!client) return;
      try {
        await Promise.race([client.ready(), new Promise((resolve) => setTimeout(resolve, 20))]);
        await new Promise((resolve) => setTimeout(resolve, r.int(0, 15)));
      } finally {
        // The last usage report (the engine may have counts): close() never rejects.
        const before = call("ConfigClient.engine (before close)", () => client.engine);
        if (before && r.bool()) useEngine(r, before);
        await client.close();
      }
      const e = call("ConfigClient.engine (fake server)", () => client.engine);
      if (e) useEngine(r, e);
      if (client.lastError !== null && !(client.lastError instanceof LitmusError)) throw new Finding(`ConfigClient.lastError is ${safe(client.lastError)}`);
    },
    openfeature(r) {
      if (!openfeature?.LitmusWebProvider) return;
      const engine = r.bool() ? sentinel : new Engine(r.pick(BASE_CONFIGS));
      const provider = call("new LitmusWebProvider", () => new openfeature.LitmusWebProvider(r.int(0, 8) ? engine : value(r)));
      if (!provider) return;
      const keys = engine.experimentKeys();
      const method = r.pick(["resolveBooleanEvaluation", "resolveStringEvaluation", "resolveNumberEvaluation", "resolveObjectEvaluation"]);
      const context = arg(r, () => ({ targetingKey: arg(r, () => r.pick(["user-1", "", text(r)])), ...Object.fromEntries(Array.from({ length: r.int(0, 3) }, () => [text(r), value(r)])) }));
      const result = call(`LitmusWebProvider.${method}`, () => provider[method](arg(r, () => (keys.length && r.bool() ? r.pick(keys) : text(r))), value(r), context));
      if (result !== undefined && (result === null || typeof result !== "object" || !("value" in result))) throw new Finding(`${method} returned ${safe(result)}`);
    },
    trap(r) {
      // A trap on purpose, in either module, sometimes several in a row: the instance is
      // rebuilt and everything (checked after) answers as before.
      trapping = true;
      try {
        for (let i = r.int(1, 3); i > 0; i--) {
          const f = r.bool() ? trap : trapAnalysis;
          call("__testTrap", () => f());
        }
      } finally {
        trapping = false;
      }
      check("a trap");
    },
  };
  const weights = { engine: 4, engineKnown: 2, engineArgs: 1, hashing: 1, stats: 3, quantiles: 1, metrics: 1, bandit: 2, tracker: 2, client: 1, openfeature: 1, trap: 1 };
  const schedule = Object.entries(weights).flatMap(([name, w]) => Array(w).fill(name));

  const start = performance.now();
  let i = 0;
  let lastReport = start;
  for (; i < iterations && performance.now() - start < seconds * 1000; i++) {
    const inputSeed = options.inputs ? options.inputs[i] : (seed * 1_000_003 + i) >>> 0;
    const r = new Rng(inputSeed);
    const name = r.pick(schedule);
    counts[name] = (counts[name] ?? 0) + 1;
    if (verbose) log(`input ${inputSeed}: ${name}`);
    try {
      await drivers[name](r);
      if (i % 50 === 0) check("50 inputs");
    } catch (e) {
      const message = e instanceof Finding ? e.message : `the harness or an unguarded path threw ${e?.name}: ${e?.message}`;
      findings.push(`${message} (input seed ${inputSeed}, driver ${name})`);
      log(`FINDING: ${message} (input seed ${inputSeed}, driver ${name})${e?.cause?.stack ? `\n${e.cause.stack}` : e instanceof Finding ? "" : `\n${e?.stack}`}`);
      if (findings.length >= 20) break;
    }
    const now = performance.now();
    if (now - lastReport > 60_000) {
      lastReport = now;
      log(`fuzz: ${i + 1} inputs in ${((now - start) / 1000).toFixed(0)} s, ${failures} allowed throws`);
    }
  }
  return { iterations: i, seconds: (performance.now() - start) / 1000, counts, failures, findings };
}

// ---- the command line ------------------------------------------------------------------------

async function main() {
  const { pathToFileURL, fileURLToPath } = await import("node:url");
  const { resolve, dirname, join } = await import("node:path");
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const pkg = resolve(opt("--package", join(repo, "target/npm/litmus-experiments")));
  const seconds = Number(opt("--seconds", args.includes("--iterations") || args.includes("--inputs") ? Infinity : 600));
  // --inputs A,B,C: exactly these input seeds (as printed by a finding), in this order.
  const inputs = opt("--inputs", undefined)?.split(",").map(Number);
  const iterations = inputs ? inputs.length : Number(opt("--iterations", Infinity));
  const seed = Number(opt("--seed", Date.now() % 1_000_000));
  const load = (file) => import(pathToFileURL(join(pkg, file)).href);
  const [litmus, analysis, openfeature] = await Promise.all([load("node.mjs"), load("analysis-node.mjs"), load("openfeature.mjs")]);
  // A throwing onExposure or onError callback is rethrown in a microtask, by design: count it.
  let rethrown = 0;
  process.on("uncaughtException", (e) => {
    if (e instanceof UserError) rethrown++;
    else {
      console.error("fuzz: an uncaught exception outside any call:", e);
      process.exitCode = 1;
    }
  });
  console.error(`fuzz: ${pkg}, seed ${seed}, ${Number.isFinite(iterations) ? `${iterations} inputs` : `${seconds} s`}`);
  const out = await fuzz(litmus, analysis, openfeature, { seed, seconds, iterations, inputs, verbose: args.includes("--verbose"), log: (m) => console.error(m) });
  const by = Object.entries(out.counts).sort().map(([k, v]) => `${k} ${v}`).join(", ");
  const mem = process.memoryUsage();
  console.log(`fuzz: ${out.iterations} inputs in ${out.seconds.toFixed(0)} s (${(out.iterations / out.seconds).toFixed(0)}/s), ${out.failures} allowed throws each followed by the checks, ${rethrown} callback errors rethrown; ${by}; rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB`);
  if (out.findings.length) {
    console.log(`fuzz: ${out.findings.length} finding(s):\n  ${out.findings.join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log("fuzz: the property held");
  }
  // Timers of trackers and clients never keep the process alive, but say so explicitly.
  setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
}

if (process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href) {
  await main();
}
