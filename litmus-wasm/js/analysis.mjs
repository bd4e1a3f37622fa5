// The statistics, quantile sketches, bandits and webhook signatures (webhooks.mjs) of
// litmus-experiments (the "litmus-experiments/analysis" entry point) over the analysis module's
// wasm-bindgen exports.
// Names mirror litmus.stats and litmus.bandit in Python, in camelCase. Written once as ESM;
// build-package.sh derives the CommonJS copy. Every computation is the Rust core's.

import { LitmusError, guard } from "./common.mjs";
import { makeWebhooks } from "./webhooks.mjs";

/** Builds the statistics and bandit API over the analysis module `b`. */
export function makeAnalysis(b) {
  const g = guard(b);
  const call = (f) => g.call(f);

  // ---- Bandits (the core's policies; see docs/bandits.md) ----------------------------------

  // wasm-bindgen's release glue passes a string argument by its length and characters
  // without checking its type, and a u64 or u32 one modulo 2^64 or 2^32: a number or an
  // object where a string goes was read as a bogus allocation and trapped the instance, and a
  // seed of -1 silently became 2^64 - 1 (found by scripts/fuzz/js_bindings.mjs). Checked here.
  const str = (name, value) => {
    if (typeof value !== "string") throw new LitmusError(`${name} must be a string, not ${typeof value}`, "invalid_argument");
    return value;
  };
  /** A seed: an integer from 0 to 2^64 - 1, as a number, a BigInt or a string of digits. */
  const seedOf = (seed) => {
    let s = null;
    if (typeof seed === "bigint") s = seed;
    else if (typeof seed === "number" && Number.isInteger(seed)) s = BigInt(seed);
    else if (typeof seed === "string" && /^\s*(0x[0-9a-f]+|[0-9]+)\s*$/i.test(seed)) s = BigInt(seed.trim());
    if (s === null || s < 0n || s >= 2n ** 64n) {
      throw new LitmusError(`seed must be an integer from 0 to 2^64 - 1, not ${typeof seed === "object" ? typeof seed : String(seed)}`, "invalid_argument");
    }
    return s;
  };
  /** Monte Carlo draws: a whole number from 1 to 2^32 - 1 (the core allows at most 10^7). */
  const drawsOf = (draws) => {
    if (!Number.isInteger(draws) || draws < 1 || draws > 0xffffffff) {
      throw new LitmusError(`draws must be a whole number from 1 to 2^32 - 1, not ${typeof draws === "number" ? draws : typeof draws}`, "invalid_argument");
    }
    return draws;
  };

  /** An object made in an instance a trap has since replaced cannot be used any more. */
  const lost = (what) =>
    new LitmusError(`this ${what} was lost when an internal error restarted the WebAssembly instance; create it again`, "internal");

  /** The portable seeded generator (xoshiro256++): same seed, same numbers in every language. */
  class Random {
    #inner;
    #epoch = g.epoch;
    constructor(seed = 0) {
      this.#inner = call(() => new b.Random(seedOf(seed)));
    }
    /** The wasm object, for the policies. */
    get inner() {
      if (this.#epoch !== g.epoch) throw lost("Random");
      return this.#inner;
    }
    /** The next 64-bit word, as a BigInt. */
    nextU64() {
      return this.inner.nextU64();
    }
    /** A uniform number in [0, 1). */
    random() {
      return this.inner.random();
    }
  }

  /** An arm's reward history, updated by the core. */
  class Arm {
    #inner;
    #epoch = g.epoch;
    constructor(inner) {
      this.#inner = inner ?? call(() => new b.Arm());
    }
    static fromCounts(successes, pulls) {
      return new Arm(call(() => b.Arm.fromCounts(successes, pulls)));
    }
    static fromJSON({ pulls, mean, m2 }) {
      return new Arm(call(() => b.Arm.fromSummary(pulls, mean, m2)));
    }
    /** The wasm object. */
    get inner() {
      if (this.#epoch !== g.epoch) throw lost("Arm");
      return this.#inner;
    }
    update(reward) {
      const inner = this.inner;
      call(() => inner.update(reward));
    }
    get pulls() {
      return this.inner.pulls;
    }
    get mean() {
      return this.inner.mean;
    }
    get m2() {
      return this.inner.m2;
    }
    toJSON() {
      return { pulls: this.pulls, mean: this.mean, m2: this.m2 };
    }
  }

  const triples = (arms) => {
    const out = new Float64Array(arms.length * 3);
    arms.forEach((a, i) => {
      out[3 * i] = a.pulls;
      out[3 * i + 1] = a.mean;
      out[3 * i + 2] = a.m2;
    });
    return out;
  };

  /** A bandit policy. Options: `{ burnIn = 0, floor = 0, optimistic }`. */
  class Policy {
    #p;
    #make;
    #epoch;
    constructor(rule, params, options = {}) {
      const { burnIn = 0, floor = 0, optimistic } = options;
      const p = Float64Array.from(params);
      this.#make = () => new b.Policy(rule, p, burnIn, floor, optimistic);
      this.#p = call(this.#make);
      this.#epoch = g.epoch;
    }
    /** The wasm policy, rebuilt if a trap restarted the instance since it was made. */
    #live() {
      if (this.#epoch !== g.epoch) {
        this.#p = call(this.#make);
        this.#epoch = g.epoch;
      }
      return this.#p;
    }
    static thompsonBeta(priorAlpha = 1, priorBeta = 1, options) {
      return new Policy("thompson_beta", [priorAlpha, priorBeta], options);
    }
    static thompsonNormal(priorMean = 0, priorKappa = 1, priorAlpha = 1, priorBeta = 1, options) {
      return new Policy("thompson_normal", [priorMean, priorKappa, priorAlpha, priorBeta], options);
    }
    static ucb1(exploration = 2, options) {
      return new Policy("ucb1", [exploration], options);
    }
    static klUcb(c = 0, options) {
      return new Policy("kl_ucb", [c], options);
    }
    static epsilonGreedy(epsilon = 0.1, decay = null, options) {
      return new Policy("epsilon_greedy", [epsilon, decay ?? NaN], options);
    }
    /** The wasm policy, for bandits. */
    get inner() {
      return this.#live();
    }
    /** The index of the arm to play, drawing from `rng` (a Random). */
    choose(arms, rng) {
      const p = this.#live();
      if (!(rng instanceof Random)) throw new LitmusError("rng must be a bandit.Random", "invalid_argument");
      return call(() => p.choose(triples(arms), rng.inner));
    }
    /** The probability the policy picks each arm (exact by quadrature where possible). */
    weights(arms, draws = 10_000, seed = 0) {
      const p = this.#live();
      return Array.from(call(() => p.weights(triples(arms), drawsOf(draws), seedOf(seed))));
    }
    /** As `weights`, always by Monte Carlo. */
    weightsMonteCarlo(arms, draws = 10_000, seed = 0) {
      const p = this.#live();
      return Array.from(call(() => p.weightsMonteCarlo(triples(arms), drawsOf(draws), seedOf(seed))));
    }
  }

  /** Arms by key under one policy, with its own seeded generator (core's KeyedBandit). */
  class Bandit {
    #inner;
    #epoch = g.epoch;
    constructor(policy, keys, seed = 0) {
      if (!(policy instanceof Policy)) throw new LitmusError("policy must be a bandit.Policy", "invalid_argument");
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
        throw new LitmusError("keys must be an array of strings", "invalid_argument");
      }
      this.#inner = call(() => new b.KeyedBandit(policy.inner, keys, seedOf(seed)));
    }
    #live() {
      if (this.#epoch !== g.epoch) throw lost("Bandit");
      return this.#inner;
    }
    get keys() {
      return this.#live().keys();
    }
    choose() {
      const inner = this.#live();
      return call(() => inner.choose());
    }
    update(key, reward) {
      const inner = this.#live();
      call(() => inner.update(str("key", key), reward));
    }
    weights(draws = 10_000, seed = 0) {
      const inner = this.#live();
      const w = call(() => inner.weights(drawsOf(draws), seedOf(seed)));
      return Object.fromEntries(inner.keys().map((k, i) => [k, w[i]]));
    }
    /** A copy of each arm's state, by key. */
    arms() {
      const inner = this.#live();
      const t = inner.arms();
      return Object.fromEntries(inner.keys().map((k, i) => [k, Arm.fromJSON({ pulls: t[3 * i], mean: t[3 * i + 1], m2: t[3 * i + 2] })]));
    }
  }

  /**
   * A bandit's inference stratified by its periods of constant weights (an object or its JSON
   * text: `variants`, `units` `{ variant: [...], first_ms: [...], value: [...] }`, `changes_ms`, `metric`
   * `{ key, kind, goal }`, `analysis`), as the server shows a bandit's comparisons:
   * `{ method, metric, kind, periods, arms, comparisons }`, or a thrown LitmusError with the
   * code and the field's path.
   */
  function stratified(request) {
    let text;
    if (typeof request === "string") text = request;
    else if (request !== null && typeof request === "object" && !Array.isArray(request)) text = JSON.stringify(request);
    else throw new LitmusError("the request is an object or its JSON text", "invalid_argument");
    return JSON.parse(call(() => b.banditStratified(text)));
  }

  const bandit = { Random, Arm, Policy, Bandit, stratified };

  // ---- Quantile sketches (the core's DDSketch; docs/javascript.md) ---------------------------

  /** Numbers from an array, a typed array or any iterable (not a string), as a Float64Array. */
  const floats = (name, xs) => {
    if (xs instanceof Float64Array) return xs;
    if (xs === null || typeof xs !== "object" || (!ArrayBuffer.isView(xs) && typeof xs[Symbol.iterator] !== "function")) {
      throw new LitmusError(`${name} must be an array or an iterable of numbers, not ${xs === null ? "null" : typeof xs}`, "invalid_argument");
    }
    return Float64Array.from(xs);
  };
  const DEFAULT_ACCURACY = 0.01;

  /**
   * A mergeable DDSketch of values: quantiles within relative accuracy `alpha` (0.001 to 0.05,
   * default 0.01), storable as `[key, count]` buckets. A call that throws leaves it as it was.
   */
  class QuantileSketch {
    #inner;
    #epoch = g.epoch;
    constructor(alpha = DEFAULT_ACCURACY) {
      this.#inner = call(() => new b.QuantileSketch(alpha));
    }
    /** A sketch from `buckets()` (or a database's rows): `[key, count]` pairs. */
    static fromBuckets(buckets, alpha = DEFAULT_ACCURACY) {
      const s = new QuantileSketch(alpha);
      s.#addBuckets(buckets);
      return s;
    }
    /** The wasm object, for the statistics. */
    get inner() {
      if (this.#inner === null) throw new LitmusError("this QuantileSketch was freed", "invalid_argument");
      if (this.#epoch !== g.epoch) throw lost("QuantileSketch");
      return this.#inner;
    }
    #addBuckets(buckets) {
      if (buckets === null || typeof buckets !== "object" || typeof buckets[Symbol.iterator] !== "function") {
        throw new LitmusError("buckets must be an array of [key, count] pairs", "invalid_argument");
      }
      const flat = [];
      for (const pair of buckets) {
        if (pair === null || typeof pair !== "object" || pair.length !== 2) throw new LitmusError("each bucket is a [key, count] pair", "invalid_argument");
        flat.push(pair[0], pair[1]);
      }
      const inner = this.inner;
      call(() => inner.addBuckets(Float64Array.from(flat)));
    }
    /** Counts one value (NaN and infinities throw `invalid_argument`). */
    add(x) {
      const inner = this.inner;
      call(() => inner.add(x));
    }
    /** Counts every value of an array, typed array or iterable, all or nothing. */
    extend(values) {
      const inner = this.inner;
      const xs = floats("values", values);
      call(() => inner.extend(xs));
    }
    /** Takes one value away (the inverse of `add`). */
    remove(x) {
      const inner = this.inner;
      call(() => inner.remove(x));
    }
    /** Adds every bucket of `other` (the same `alpha`). */
    merge(other) {
      if (!(other instanceof QuantileSketch)) throw new LitmusError("other must be a QuantileSketch", "invalid_argument");
      const inner = this.inner;
      if (other === this) {
        const copy = QuantileSketch.fromBuckets(this.buckets(), this.alpha);
        try {
          call(() => inner.merge(copy.inner));
        } finally {
          copy.free();
        }
        return;
      }
      const theirs = other.inner;
      call(() => inner.merge(theirs));
    }
    /** The `q`-quantile, q in [0, 1] (numpy's `method="lower"`), within `alpha` relatively. */
    quantile(q) {
      const inner = this.inner;
      return call(() => inner.quantile(q));
    }
    /** The net number of values. */
    get count() {
      return this.inner.count;
    }
    /** The relative accuracy. */
    get alpha() {
      return this.inner.alpha;
    }
    /** The buckets with a nonzero count, `[key, count]` in ascending key (and value) order. */
    buckets() {
      const flat = this.inner.buckets();
      return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
    }
    /** `{ alpha, buckets }`, which `QuantileSketch.fromJSON` reads back. */
    toJSON() {
      return { alpha: this.alpha, buckets: this.buckets() };
    }
    static fromJSON(state) {
      if (state === null || typeof state !== "object") throw new LitmusError("a sketch's state is { alpha, buckets }", "invalid_argument");
      return QuantileSketch.fromBuckets(state.buckets, state.alpha);
    }
    /** Frees the WebAssembly memory now (the garbage collector does it otherwise); the sketch
     * cannot be used after. */
    free() {
      if (this.#inner !== null && this.#epoch === g.epoch) this.#inner.free();
      this.#inner = null;
    }
  }

  /** A sketch as given, or a temporary one of the values (freed by `release`). */
  const sketchOf = (sample, relativeAccuracy) => {
    if (sample instanceof QuantileSketch) return { sketch: sample, release() {} };
    const xs = floats("values", sample);
    const sketch = new QuantileSketch(relativeAccuracy);
    try {
      sketch.extend(xs);
    } catch (e) {
      sketch.free();
      throw e;
    }
    return { sketch, release: () => sketch.free() };
  };
  const accuracyOf = (options) => {
    if (options === undefined || options === null) return DEFAULT_ACCURACY;
    if (typeof options !== "object") throw new LitmusError("options must be an object ({ relativeAccuracy })", "invalid_argument");
    return options.relativeAccuracy ?? DEFAULT_ACCURACY;
  };
  /** Runs `f` on the groups' sketches, freeing those made here. */
  const withSketches = (samples, options, f) => {
    const accuracy = accuracyOf(options);
    const made = [];
    try {
      for (const s of samples) made.push(sketchOf(s, accuracy));
      return f(...made.map((m) => m.sketch.inner));
    } finally {
      for (const m of made) m.release();
    }
  };

  // ---- Statistics (scipy/statsmodels names in camelCase, as litmus.stats in Python) -------

  const f64 = (xs) => (xs instanceof Float64Array ? xs : Float64Array.from(xs));
  const summary = (x) => {
    if (x && typeof x === "object" && "count" in x && "mean" in x && "m2" in x) return Float64Array.of(x.count, x.mean, x.m2);
    return call(() => b.statsDescribe(f64(x)));
  };
  const joint = (x) => {
    if (Array.isArray(x) && x.length === 2 && typeof x[0] !== "number") return call(() => b.statsDescribePairs(f64(x[0]), f64(x[1])));
    return Float64Array.of(x.nobs, x.meanX, x.meanY, x.m2X, x.m2Y, x.cXY);
  };
  const interval = (v) => ({ estimate: v[0], lower: v[1], upper: v[2] });
  const dist = (name) => (...args) => call(() => b.statsDistribution(name, Float64Array.from(args)));

  const stats = {
    describe(values) {
      const [count, mean, m2] = summary(values);
      return { count, mean, m2 };
    },
    describePairs(x, y) {
      const [nobs, meanX, meanY, m2X, m2Y, cXY] = call(() => b.statsDescribePairs(f64(x), f64(y)));
      return { nobs, meanX, meanY, m2X, m2Y, cXY };
    },
    ttestIndFromStats(mean1, std1, nobs1, mean2, std2, nobs2, equalVar = true, alternative = "two-sided") {
      const [statistic, pvalue, df] = call(() => b.statsTtestIndFromStats(mean1, std1, nobs1, mean2, std2, nobs2, equalVar, str("alternative", alternative)));
      return { statistic, pvalue, df };
    },
    ttestInd(a, b2, equalVar = true, alternative = "two-sided") {
      const [statistic, pvalue, df] = call(() => b.statsTtestIndMoments(summary(a), summary(b2), equalVar, str("alternative", alternative)));
      return { statistic, pvalue, df };
    },
    proportionsZtest(count, nobs, alternative = "two-sided") {
      if (count.length !== 2 || nobs.length !== 2) throw new LitmusError("count and nobs need two groups each", "invalid_argument");
      return Array.from(call(() => b.statsProportionsZtest(count[0], nobs[0], count[1], nobs[1], str("alternative", alternative), true)));
    },
    proportionConfint(count, nobs, alpha = 0.05, method = "normal") {
      return Array.from(call(() => b.statsProportionConfint(count, nobs, alpha, str("method", method))));
    },
    chisquare(fObs, fExp) {
      const weights = fExp ?? fObs.map(() => 1);
      const [statistic, pvalue] = call(() => b.statsChisquare(f64(fObs), f64(weights)));
      return { statistic, pvalue };
    },
    chi2Contingency(observed, correction = true) {
      const rows = observed.length;
      const width = rows ? observed[0].length : 0;
      if (!rows || observed.some((r) => r.length !== width)) throw new LitmusError("observed must be a non-empty rectangular table", "invalid_argument");
      const out = call(() => b.statsChi2Contingency(Float64Array.from(observed.flat()), rows, correction));
      const expected = Array.from(out.subarray(3));
      return {
        statistic: out[0],
        pvalue: out[1],
        dof: out[2],
        expectedFreq: Array.from({ length: rows }, (_, i) => expected.slice(i * width, (i + 1) * width)),
      };
    },
    multipletests(pvals, alpha = 0.05, method = "holm") {
      const n = pvals.length;
      const out = call(() => b.statsMultipletests(f64(pvals), alpha, str("method", method)));
      return [Array.from(out.subarray(0, n), (x) => x === 1), Array.from(out.subarray(n)), 1 - (1 - alpha) ** (1 / Math.max(n, 1)), alpha / Math.max(n, 1)];
    },
    srmCheck(observed, weights, threshold = 0.001) {
      const w = weights ?? observed.map(() => 1);
      const n = observed.length;
      const out = call(() => b.statsSrmCheck(f64(observed), f64(w), threshold));
      return { statistic: out[0], pvalue: out[1], mismatch: out[2] === 1, observedShares: Array.from(out.subarray(3, 3 + n)), expectedShares: Array.from(out.subarray(3 + n)) };
    },
    fOneway(...samples) {
      const flat = new Float64Array(samples.length * 3);
      samples.forEach((x, i) => flat.set(summary(x), 3 * i));
      const [statistic, pvalue, dfBetween, dfWithin] = call(() => b.statsFOneway(flat));
      return { statistic, pvalue, dfBetween, dfWithin };
    },
    factorialAnova(levels, cells) {
      const flat = new Float64Array(cells.length * 3);
      cells.forEach((x, i) => flat.set(summary(x), 3 * i));
      return JSON.parse(call(() => b.statsFactorialAnova(Uint32Array.from(levels), flat)));
    },
    meanConfint: (x, alpha = 0.05) => interval(call(() => b.statsMeanConfint(summary(x), alpha))),
    diffMeansConfint: (a, b2, alpha = 0.05, equalVar = false) => interval(call(() => b.statsDiffMeansConfint(summary(a), summary(b2), alpha, equalVar))),
    relativeLiftConfint: (t, c, alpha = 0.05) => interval(call(() => b.statsRelativeLiftConfint(summary(t), summary(c), alpha))),
    newcombeConfint: (c1, n1, c2, n2, alpha = 0.05) => interval(call(() => b.statsNewcombeConfint(c1, n1, c2, n2, alpha))),
    power: (effectSize, nobs1, alpha = 0.05, ratio = 1, alternative = "two-sided") => call(() => b.statsPlanning("power", effectSize, nobs1, ratio, alpha, str("alternative", alternative))),
    sampleSize: (effectSize, power = 0.8, alpha = 0.05, ratio = 1, alternative = "two-sided") => call(() => b.statsPlanning("sample_size", effectSize, power, ratio, alpha, str("alternative", alternative))),
    minimumDetectableEffect: (nobs1, power = 0.8, alpha = 0.05, ratio = 1, alternative = "two-sided") => call(() => b.statsPlanning("mde", nobs1, power, ratio, alpha, str("alternative", alternative))),
    proportionEffectsize: (prop1, prop2) => call(() => b.statsPlanning("effect_size", prop1, prop2, 1, 0.05, "two-sided")),
    msprt(t, c, tau2, alpha = 0.05) {
      const [likelihoodRatio, pvalue, lower, upper] = call(() => b.statsMsprtMeans(summary(t), summary(c), tau2, alpha));
      return { likelihoodRatio, pvalue, lower, upper };
    },
    msprtProportions(countT, nobsT, countC, nobsC, tau2, alpha = 0.05) {
      const [likelihoodRatio, pvalue, lower, upper] = call(() => b.statsMsprtProportions(countT, nobsT, countC, nobsC, tau2, alpha));
      return { likelihoodRatio, pvalue, lower, upper };
    },
    cuped(t, c, alpha = 0.05, alternative = "two-sided") {
      const [theta, statistic, pvalue, df, lower, upper, varianceReduction] = call(() => b.statsCuped(joint(t), joint(c), alpha, str("alternative", alternative)));
      return { theta, statistic, pvalue, df, lower, upper, varianceReduction };
    },
    ratioZtest(t, c, alpha = 0.05, alternative = "two-sided") {
      const v = call(() => b.statsRatioZtest(joint(t), joint(c), alpha, str("alternative", alternative)));
      return { ratioTreatment: v[0], ratioControl: v[1], varianceTreatment: v[2], varianceControl: v[3], statistic: v[4], pvalue: v[5], diffLower: v[6], diffUpper: v[7], relativeLower: v[8], relativeUpper: v[9] };
    },
    betaProbBeats: (a1, b1, a2, b2) => call(() => b.statsBetaCompare(a1, b1, a2, b2))[0],
    betaExpectedLoss: (a1, b1, a2, b2) => call(() => b.statsBetaCompare(a1, b1, a2, b2))[1],
    betaProbBest: (posteriors) => Array.from(call(() => b.statsBetaProbBest(Float64Array.from(posteriors.flat())))),
    QuantileSketch,
    quantileInterval(sample, q, alpha = 0.05, options) {
      const v = withSketches([sample], options, (s) => call(() => b.statsQuantileInterval(s, q, alpha)));
      return { estimate: v[0], lower: v[1], upper: v[2], stdError: v[3], nobs: v[4], lowerRank: v[5], upperRank: v[6] };
    },
    quantileZtest(treatment, control, q, alpha = 0.05, options) {
      const v = withSketches([treatment, control], options, (t, c) => call(() => b.statsQuantileZtest(t, c, q, alpha)));
      return {
        quantileTreatment: v[0], quantileControl: v[1], stdErrorTreatment: v[2], stdErrorControl: v[3], stdError: v[4], statistic: v[5], pvalue: v[6],
        difference: v[0] - v[1], diffLower: v[7], diffUpper: v[8], relative: v[9], relativeLower: v[10], relativeUpper: v[11],
      };
    },
    exactQuantile: (values, q) => call(() => b.statsExactQuantile(floats("values", values), q)),
    sketchKey: (x, alpha = DEFAULT_ACCURACY) => call(() => b.statsSketchKey(x, alpha)),
    sketchValue: (key, alpha = DEFAULT_ACCURACY) => call(() => b.statsSketchValue(key, alpha)),
    normalProbBeats: (m1, v1, m2, v2) => call(() => b.statsNormalCompare(m1, v1, m2, v2))[0],
    normalExpectedLoss: (m1, v1, m2, v2) => call(() => b.statsNormalCompare(m1, v1, m2, v2))[1],
    normSf: dist("normal_sf"),
    normCdf: dist("normal_cdf"),
    normPdf: dist("normal_pdf"),
    normPpf: dist("normal_ppf"),
    normIsf: dist("normal_isf"),
    tSf: dist("t_sf"),
    tCdf: dist("t_cdf"),
    tPdf: dist("t_pdf"),
    tIsf: dist("t_isf"),
    chi2Sf: dist("chi2_sf"),
    chi2Cdf: dist("chi2_cdf"),
    fSf: dist("f_sf"),
    betaCdf: dist("beta_cdf"),
  };

  /**
   * Checks an experiment's `analysis` settings (an object or its JSON text) as the admin API
   * does, and returns the settings its results would use over core's defaults (`alpha`,
   * `test`, `basis`, `correction`, `cuped`, `rate_prior`, `lift_prior`, `min_units`,
   * `sequential_tuning`), or throws a LitmusError with the server's code and path
   * (`priors.rate.alpha`).
   */
  function validateAnalysis(settings) {
    let text;
    if (typeof settings === "string") text = settings;
    else if (settings !== null && typeof settings === "object" && !Array.isArray(settings)) text = JSON.stringify(settings);
    else throw new LitmusError("the settings are an object or its JSON text", "invalid_argument");
    return JSON.parse(call(() => b.validateAnalysis(text)));
  }

  /**
   * Plans an experiment (an object or its JSON text: `baseline`, `lift` or `days`,
   * `units_per_day`, `power`, `variants`, `analysis`) with core's planning, as the server's
   * `POST /planning` does once it knows the baseline: `{ plan, baseline, settings }`, or a
   * thrown LitmusError with the code and the field's path.
   */
  function planExperiment(request) {
    let text;
    if (typeof request === "string") text = request;
    else if (request !== null && typeof request === "object" && !Array.isArray(request)) text = JSON.stringify(request);
    else throw new LitmusError("the request is an object or its JSON text", "invalid_argument");
    return JSON.parse(call(() => b.planExperiment(text)));
  }

  const { signWebhook, verifyWebhook } = makeWebhooks(b, call);

  return { stats, bandit, QuantileSketch, LitmusError, validateAnalysis, planExperiment, signWebhook, verifyWebhook, version: b.version(), __testTrap: () => call(() => b.__testTrap()) };
}
