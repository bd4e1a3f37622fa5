// The JavaScript API of litmus-experiments over the wasm-bindgen exports of litmus-wasm.
// Written once as ESM; scripts/wasm/build-package.sh derives api.cjs from it for require().
// This layer only converts values and caches strings: every decision is the Rust core's.

const MISSES = [null, "false", "attribute_missing", "type_mismatch"];

/** An error thrown by Litmus: `code` is stable (docs/errors.md), `path` names a config field. */
export class LitmusError extends Error {
  constructor(message, code, path) {
    super(message);
    this.name = "LitmusError";
    this.code = code;
    this.path = path ?? null;
  }
}

function toError(e) {
  if (typeof e === "string") {
    try {
      const d = JSON.parse(e);
      return new LitmusError(d.message, d.code, d.path);
    } catch {
      return new LitmusError(e, "internal");
    }
  }
  if (e instanceof WebAssembly.RuntimeError) {
    return new LitmusError(`internal error in litmus (please report it): ${e.message}`, "internal");
  }
  return e;
}

function call(f) {
  try {
    return f();
  } catch (e) {
    throw toError(e);
  }
}

function configText(config) {
  if (typeof config === "string") return config;
  if (config instanceof Uint8Array) return new TextDecoder().decode(config);
  if (config !== null && typeof config === "object") return JSON.stringify(config);
  throw new LitmusError("config must be a JSON string, bytes or an object", "invalid_argument");
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  if (now === false) return NaN; // no time known
  if (now instanceof Date) return now.getTime();
  if (typeof now === "number" && Number.isFinite(now)) return now;
  if (typeof now === "string") {
    const t = Date.parse(now);
    if (Number.isFinite(t)) return t;
  }
  throw new LitmusError(`now must be a Date, milliseconds, an ISO string or false, not ${String(now)}`, "invalid_argument");
}

function stickyKey(experiment, unitId) {
  return `${experiment.length}:${experiment}:${unitId}`;
}

/** Builds the public API over a wasm-bindgen module `b`. */
export function makeApi(b) {
  const REASONS = JSON.parse(b.reasonCodes());

  class Engine {
    #core;
    #variants = new Map();
    #onExposure;
    // Exposures reported, as experiment -> Set of unit ids, in two generations (the current
    // one holds at most `generation` pairs); keyed without building a string per call.
    #seen = new Map();
    #previous = new Map();
    #seenCount = 0;
    #generation;
    #sticky;
    #strict;

    /**
     * @param config JSON text, bytes or an object.
     * @param options `{ onExposure, exposureDedupeSize = 250000, strict = false, stickyStore }`.
     */
    constructor(config, options = {}) {
      const { onExposure, exposureDedupeSize = 250_000, strict = false, stickyStore } = options;
      if (onExposure !== undefined && typeof onExposure !== "function") {
        throw new LitmusError("onExposure must be a function", "invalid_argument");
      }
      if (stickyStore !== undefined && (typeof stickyStore.get !== "function" || typeof stickyStore.set !== "function")) {
        throw new LitmusError("stickyStore needs get(key) and set(key, value)", "invalid_argument");
      }
      this.#strict = strict;
      this.#core = call(() => new b.EngineCore(configText(config), strict));
      this.#onExposure = onExposure;
      this.#generation = Math.max(1, Math.floor(exposureDedupeSize / 2));
      this.#sticky = stickyStore;
    }

    /** Replaces the config; a config that cannot load throws and changes nothing. */
    update(config) {
      const fresh = call(() => new b.EngineCore(configText(config), this.#strict));
      const old = this.#core;
      this.#core = fresh;
      this.#variants = new Map();
      old.free();
    }

    #variantsOf(experiment) {
      let list = this.#variants.get(experiment);
      if (list === undefined) {
        list = JSON.parse(this.#core.variants(experiment));
        this.#variants.set(experiment, list);
      }
      return list;
    }

    #result(experiment, unitId, packed) {
      const reason = REASONS[packed & 15];
      const inExperiment = (packed & 16) !== 0;
      const miss = MISSES[(packed >>> 5) & 3];
      const index = packed >>> 7;
      const v = index === 0 ? null : this.#variantsOf(experiment)[index - 1];
      return {
        experiment,
        unitId,
        variant: v ? v.key : null,
        inExperiment,
        reason,
        miss,
        payload: v && v.payload !== undefined ? v.payload : null,
        factors: v ? v.factors : {},
      };
    }

    #expose(a) {
      if (!this.#onExposure || !a.inExperiment) return;
      const { experiment, unitId } = a;
      if (this.#seen.get(experiment)?.has(unitId) || this.#previous.get(experiment)?.has(unitId)) return;
      if (this.#seenCount >= this.#generation) {
        this.#previous = this.#seen;
        this.#seen = new Map();
        this.#seenCount = 0;
      }
      let units = this.#seen.get(experiment);
      if (units === undefined) {
        units = new Set();
        this.#seen.set(experiment, units);
      }
      units.add(unitId);
      this.#seenCount++;
      try {
        this.#onExposure({
          experiment: a.experiment,
          unitId: a.unitId,
          variant: a.variant,
          reason: a.reason,
          timestamp: Date.now(),
          configVersion: this.version,
        });
      } catch (e) {
        // A failing logger must not break assignment.
        queueMicrotask(() => {
          throw e;
        });
      }
    }

    /**
     * Assigns `unitId` to `experiment`: `{ variant, inExperiment, reason, miss, payload, factors }`.
     * `options.now`: a Date, milliseconds, an ISO string, or false for "no time known";
     * the current time by default.
     */
    assign(experiment, unitId, attributes, options) {
      if (typeof experiment !== "string" || typeof unitId !== "string") {
        throw new LitmusError("experiment and unitId must be strings", "invalid_argument");
      }
      const now = nowMs(options?.now);
      let packed;
      const remembered = this.#sticky ? this.#sticky.get(stickyKey(experiment, unitId)) ?? undefined : undefined;
      if (attributes === undefined && remembered === undefined) {
        packed = call(() => this.#core.assignPlain(experiment, unitId, now));
      } else {
        const attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
        packed = call(() => this.#core.assign(experiment, unitId, attrs, now, remembered === undefined ? undefined : String(remembered)));
      }
      const a = this.#result(experiment, unitId, packed);
      if (this.#sticky && a.reason === "assigned") this.#sticky.set(stickyKey(experiment, unitId), a.variant);
      this.#expose(a);
      return a;
    }

    /** Assigns `unitId` to every running experiment, in config order. */
    assignAll(unitId, attributes, options) {
      const now = nowMs(options?.now);
      const attrs = attributes === undefined || attributes === null ? undefined : JSON.stringify(attributes);
      const list = JSON.parse(call(() => this.#core.assignAll(unitId, attrs, now)));
      return list.map(([experiment]) => this.assign(experiment, unitId, attributes, options));
    }

    /** The problems found in the config, as LitmusError objects. */
    get problems() {
      return JSON.parse(this.#core.problems()).map((p) => new LitmusError(p.message, p.code, p.path));
    }

    /** The config's version, if any. */
    get version() {
      return this.#core.version() ?? null;
    }

    /** Every experiment key in the config. */
    experimentKeys() {
      return JSON.parse(this.#core.experimentKeys());
    }
  }

  const hashing = {
    seed: (salt, purpose) => call(() => b.seedHex(salt, purpose)),
    unitHash: (salt, purpose, unitId) => call(() => b.unitHashHex(salt, purpose, unitId)),
    bucket: (salt, purpose, unitId) => call(() => b.bucket(salt, purpose, unitId)),
    pickVariant: (bucket, weights) => call(() => b.pickVariant(bucket, Float64Array.from(weights))),
    inTraffic: (bucket, traffic) => b.inTraffic(bucket, traffic),
  };

  /** A sticky store in the browser's localStorage (or any Storage). */
  class LocalStorageStickyStore {
    constructor(storage = globalThis.localStorage, prefix = "litmus:sticky:") {
      this.storage = storage;
      this.prefix = prefix;
    }
    get(key) {
      return this.storage.getItem(this.prefix + key) ?? undefined;
    }
    set(key, value) {
      this.storage.setItem(this.prefix + key, value);
    }
  }

  // ---- Bandits (the core's policies; see docs/bandits.md) ----------------------------------

  /** The portable seeded generator (xoshiro256++): same seed, same numbers in every language. */
  class Random {
    constructor(seed = 0) {
      this.inner = call(() => new b.Random(BigInt(seed)));
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
    constructor(inner = new b.Arm()) {
      this.inner = inner;
    }
    static fromCounts(successes, pulls) {
      return new Arm(call(() => b.Arm.fromCounts(successes, pulls)));
    }
    static fromJSON({ pulls, mean, m2 }) {
      return new Arm(call(() => b.Arm.fromSummary(pulls, mean, m2)));
    }
    update(reward) {
      call(() => this.inner.update(reward));
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
    constructor(rule, params, options = {}) {
      const { burnIn = 0, floor = 0, optimistic } = options;
      this.#p = call(() => new b.Policy(rule, Float64Array.from(params), burnIn, floor, optimistic));
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
    /** The index of the arm to play, drawing from `rng` (a Random). */
    choose(arms, rng) {
      return call(() => this.#p.choose(triples(arms), rng.inner));
    }
    /** The probability the policy picks each arm (exact by quadrature where possible). */
    weights(arms, draws = 10_000, seed = 0) {
      return Array.from(call(() => this.#p.weights(triples(arms), draws, BigInt(seed))));
    }
    /** As `weights`, always by Monte Carlo. */
    weightsMonteCarlo(arms, draws = 10_000, seed = 0) {
      return Array.from(call(() => this.#p.weightsMonteCarlo(triples(arms), draws, BigInt(seed))));
    }
  }

  /** Arms by key under one policy, with its own seeded generator. */
  class Bandit {
    #policy;
    #arms;
    #rng;
    constructor(policy, keys, seed = 0) {
      if (!Array.isArray(keys) || keys.length === 0 || new Set(keys).size !== keys.length) {
        throw new LitmusError("keys must be distinct and not empty", "invalid_argument");
      }
      this.#policy = policy;
      this.#arms = new Map(keys.map((k) => [k, new Arm()]));
      this.#rng = new Random(seed);
    }
    get keys() {
      return [...this.#arms.keys()];
    }
    choose() {
      return this.keys[this.#policy.choose([...this.#arms.values()], this.#rng)];
    }
    update(key, reward) {
      const arm = this.#arms.get(key);
      if (!arm) throw new LitmusError(`no arm ${JSON.stringify(key)}`, "invalid_argument");
      arm.update(reward);
    }
    weights(draws = 10_000, seed = 0) {
      const w = this.#policy.weights([...this.#arms.values()], draws, seed);
      return Object.fromEntries(this.keys.map((k, i) => [k, w[i]]));
    }
    arms() {
      return Object.fromEntries(this.#arms);
    }
  }

  const bandit = { Random, Arm, Policy, Bandit };

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
      const [statistic, pvalue, df] = call(() => b.statsTtestIndFromStats(mean1, std1, nobs1, mean2, std2, nobs2, equalVar, alternative));
      return { statistic, pvalue, df };
    },
    ttestInd(a, b2, equalVar = true, alternative = "two-sided") {
      const [statistic, pvalue, df] = call(() => b.statsTtestIndMoments(summary(a), summary(b2), equalVar, alternative));
      return { statistic, pvalue, df };
    },
    proportionsZtest(count, nobs, alternative = "two-sided") {
      if (count.length !== 2 || nobs.length !== 2) throw new LitmusError("count and nobs need two groups each", "invalid_argument");
      return Array.from(call(() => b.statsProportionsZtest(count[0], nobs[0], count[1], nobs[1], alternative, true)));
    },
    proportionConfint(count, nobs, alpha = 0.05, method = "normal") {
      return Array.from(call(() => b.statsProportionConfint(count, nobs, alpha, method)));
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
      const out = call(() => b.statsMultipletests(f64(pvals), alpha, method));
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
    power: (effectSize, nobs1, alpha = 0.05, ratio = 1, alternative = "two-sided") => call(() => b.statsPlanning("power", effectSize, nobs1, ratio, alpha, alternative)),
    sampleSize: (effectSize, power = 0.8, alpha = 0.05, ratio = 1, alternative = "two-sided") => call(() => b.statsPlanning("sample_size", effectSize, power, ratio, alpha, alternative)),
    minimumDetectableEffect: (nobs1, power = 0.8, alpha = 0.05, ratio = 1, alternative = "two-sided") => call(() => b.statsPlanning("mde", nobs1, power, ratio, alpha, alternative)),
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
      const [theta, statistic, pvalue, df, lower, upper, varianceReduction] = call(() => b.statsCuped(joint(t), joint(c), alpha, alternative));
      return { theta, statistic, pvalue, df, lower, upper, varianceReduction };
    },
    ratioZtest(t, c, alpha = 0.05, alternative = "two-sided") {
      const v = call(() => b.statsRatioZtest(joint(t), joint(c), alpha, alternative));
      return { ratioTreatment: v[0], ratioControl: v[1], varianceTreatment: v[2], varianceControl: v[3], statistic: v[4], pvalue: v[5], diffLower: v[6], diffUpper: v[7], relativeLower: v[8], relativeUpper: v[9] };
    },
    betaProbBeats: (a1, b1, a2, b2) => call(() => b.statsBetaCompare(a1, b1, a2, b2))[0],
    betaExpectedLoss: (a1, b1, a2, b2) => call(() => b.statsBetaCompare(a1, b1, a2, b2))[1],
    betaProbBest: (posteriors) => Array.from(call(() => b.statsBetaProbBest(Float64Array.from(posteriors.flat())))),
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

  return { Engine, LitmusError, hashing, bandit, stats, LocalStorageStickyStore, version: b.version() };
}
