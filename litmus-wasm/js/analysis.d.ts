// Types of "litmus-experiments/analysis": statistics, quantile sketches, bandits and webhook
// signatures (browsers, Node ESM and CommonJS), a separate WebAssembly module from the engine's.

import { LitmusError } from "./index.js";
export { LitmusError };

export declare const version: string;

export declare namespace bandit {
  /** A bandit's inference stratified by its periods of constant weights. */
  function stratified(
    request:
      | {
          variants: string[];
          units: { variant: string[]; first_ms: number[]; value: number[] };
          changes_ms?: number[];
          metric: { key?: string; kind: "conversion" | "mean"; goal?: "increase" | "decrease" };
          analysis?: Record<string, unknown>;
        }
      | string,
  ): {
    method: string;
    metric: string;
    kind: "conversion" | "mean";
    periods: number;
    arms: { variant: string; units: number; value: { estimate: number; lower: number; upper: number } | null }[];
    comparisons: {
      variant: string;
      difference: { estimate: number; lower: number; upper: number };
      relative: { estimate: number; lower: number; upper: number } | null;
      pvalue: number;
      adjusted_pvalue: number;
      probability_better: number;
      expected_loss: number;
      verdict: "better" | "worse" | "inconclusive";
      periods: number;
    }[];
  };
  class Random {
    constructor(seed?: number | bigint | string);
    nextU64(): bigint;
    random(): number;
  }
  class Arm {
    static fromCounts(successes: number, pulls: number): Arm;
    static fromJSON(state: { pulls: number; mean: number; m2: number }): Arm;
    update(reward: number): void;
    readonly pulls: number;
    readonly mean: number;
    readonly m2: number;
    toJSON(): { pulls: number; mean: number; m2: number };
  }
  interface PolicyOptions {
    burnIn?: number;
    floor?: number;
    optimistic?: number;
  }
  class Policy {
    static thompsonBeta(priorAlpha?: number, priorBeta?: number, options?: PolicyOptions): Policy;
    static thompsonNormal(priorMean?: number, priorKappa?: number, priorAlpha?: number, priorBeta?: number, options?: PolicyOptions): Policy;
    static ucb1(exploration?: number, options?: PolicyOptions): Policy;
    static klUcb(c?: number, options?: PolicyOptions): Policy;
    static epsilonGreedy(epsilon?: number, decay?: number | null, options?: PolicyOptions): Policy;
    choose(arms: Arm[], rng: Random): number;
    weights(arms: Arm[], draws?: number, seed?: number | bigint | string): number[];
    weightsMonteCarlo(arms: Arm[], draws?: number, seed?: number | bigint | string): number[];
  }
  class Bandit {
    constructor(policy: Policy, keys: string[], seed?: number | bigint | string);
    readonly keys: string[];
    choose(): string;
    update(key: string, reward: number): void;
    weights(draws?: number, seed?: number | bigint | string): Record<string, number>;
    /** A copy of each arm's state, by key. */
    arms(): Record<string, Arm>;
  }
}

/**
 * A mergeable DDSketch of values: quantiles within relative accuracy `alpha` (0.001 to 0.05,
 * default 0.01), storable as `[key, count]` buckets. A call that throws leaves it as it was.
 */
export declare class QuantileSketch {
  constructor(alpha?: number);
  /** A sketch from `buckets()` (or a database's rows); counts may be negative (changes). */
  static fromBuckets(buckets: Iterable<[number, number] | number[]>, alpha?: number): QuantileSketch;
  static fromJSON(state: { alpha: number; buckets: [number, number][] }): QuantileSketch;
  add(x: number): void;
  extend(values: Iterable<number> | ArrayLike<number>): void;
  remove(x: number): void;
  merge(other: QuantileSketch): void;
  /** The q-quantile, q in [0, 1] (numpy's method="lower"), within alpha relatively. */
  quantile(q: number): number;
  readonly count: number;
  readonly alpha: number;
  /** `[key, count]` pairs in ascending key (and value) order. */
  buckets(): [number, number][];
  toJSON(): { alpha: number; buckets: [number, number][] };
  /** Frees the WebAssembly memory now; the sketch cannot be used after. */
  free(): void;
}
/** A group for the quantile functions: a sketch, or values (sketched at `relativeAccuracy`). */
export type QuantileSample = QuantileSketch | number[] | Float64Array | Iterable<number>;
export interface QuantileOptions { relativeAccuracy?: number }
export interface QuantileEstimate { estimate: number; lower: number; upper: number; stdError: number; nobs: number; lowerRank: number; upperRank: number }
export interface QuantileComparison {
  quantileTreatment: number; quantileControl: number; stdErrorTreatment: number; stdErrorControl: number; stdError: number;
  statistic: number; pvalue: number; difference: number; diffLower: number; diffUpper: number;
  relative: number; relativeLower: number; relativeUpper: number;
}

export interface Summary { count: number; mean: number; m2: number }
export interface JointSummary { nobs: number; meanX: number; meanY: number; m2X: number; m2Y: number; cXY: number }
export type Sample = number[] | Float64Array | Summary;
export type Alternative = "two-sided" | "less" | "greater" | "smaller" | "larger";
export interface TTest { statistic: number; pvalue: number; df: number }
export interface Interval { estimate: number; lower: number; upper: number }
export interface Sequential { likelihoodRatio: number; pvalue: number; lower: number; upper: number }

export declare const stats: {
  describe(values: number[] | Float64Array): Summary;
  describePairs(x: number[] | Float64Array, y: number[] | Float64Array): JointSummary;
  ttestIndFromStats(mean1: number, std1: number, nobs1: number, mean2: number, std2: number, nobs2: number, equalVar?: boolean, alternative?: Alternative): TTest;
  ttestInd(a: Sample, b: Sample, equalVar?: boolean, alternative?: Alternative): TTest;
  proportionsZtest(count: [number, number], nobs: [number, number], alternative?: Alternative): [number, number];
  proportionConfint(count: number, nobs: number, alpha?: number, method?: "normal" | "wilson" | "agresti_coull"): [number, number];
  chisquare(fObs: number[], fExp?: number[]): { statistic: number; pvalue: number };
  chi2Contingency(observed: number[][], correction?: boolean): { statistic: number; pvalue: number; dof: number; expectedFreq: number[][] };
  multipletests(pvals: number[], alpha?: number, method?: "bonferroni" | "holm" | "fdr_bh" | "none"): [boolean[], number[], number, number];
  srmCheck(observed: number[], weights?: number[], threshold?: number): { statistic: number; pvalue: number; mismatch: boolean; observedShares: number[]; expectedShares: number[] };
  fOneway(...samples: Sample[]): { statistic: number; pvalue: number; dfBetween: number; dfWithin: number };
  factorialAnova(levels: number[], cells: Sample[]): { residualSumSq: number; residualDf: number; terms: { factors: number[]; sumSq: number; df: number; statistic: number; pvalue: number }[] };
  meanConfint(x: Sample, alpha?: number): Interval;
  diffMeansConfint(a: Sample, b: Sample, alpha?: number, equalVar?: boolean): Interval;
  relativeLiftConfint(treatment: Sample, control: Sample, alpha?: number): Interval;
  newcombeConfint(count1: number, nobs1: number, count2: number, nobs2: number, alpha?: number): Interval;
  power(effectSize: number, nobs1: number, alpha?: number, ratio?: number, alternative?: Alternative): number;
  sampleSize(effectSize: number, power?: number, alpha?: number, ratio?: number, alternative?: Alternative): number;
  minimumDetectableEffect(nobs1: number, power?: number, alpha?: number, ratio?: number, alternative?: Alternative): number;
  proportionEffectsize(prop1: number, prop2: number): number;
  msprt(treatment: Sample, control: Sample, tau2: number, alpha?: number): Sequential;
  msprtProportions(countT: number, nobsT: number, countC: number, nobsC: number, tau2: number, alpha?: number): Sequential;
  cuped(treatment: JointSummary | [number[], number[]], control: JointSummary | [number[], number[]], alpha?: number, alternative?: Alternative): { theta: number; statistic: number; pvalue: number; df: number; lower: number; upper: number; varianceReduction: number };
  ratioZtest(treatment: JointSummary | [number[], number[]], control: JointSummary | [number[], number[]], alpha?: number, alternative?: Alternative): { ratioTreatment: number; ratioControl: number; varianceTreatment: number; varianceControl: number; statistic: number; pvalue: number; diffLower: number; diffUpper: number; relativeLower: number; relativeUpper: number };
  QuantileSketch: typeof QuantileSketch;
  quantileInterval(sample: QuantileSample, q: number, alpha?: number, options?: QuantileOptions): QuantileEstimate;
  quantileZtest(treatment: QuantileSample, control: QuantileSample, q: number, alpha?: number, options?: QuantileOptions): QuantileComparison;
  exactQuantile(values: number[] | Float64Array | Iterable<number>, q: number): number;
  sketchKey(x: number, alpha?: number): number;
  sketchValue(key: number, alpha?: number): number;
  betaProbBeats(a1: number, b1: number, a2: number, b2: number): number;
  betaExpectedLoss(a1: number, b1: number, a2: number, b2: number): number;
  betaProbBest(posteriors: [number, number][]): number[];
  normalProbBeats(mean1: number, var1: number, mean2: number, var2: number): number;
  normalExpectedLoss(mean1: number, var1: number, mean2: number, var2: number): number;
  normSf(z: number): number; normCdf(z: number): number; normPdf(z: number): number; normPpf(p: number): number; normIsf(q: number): number;
  tSf(t: number, df: number): number; tCdf(t: number, df: number): number; tPdf(t: number, df: number): number; tIsf(q: number, df: number): number;
  chi2Sf(x: number, k: number): number; chi2Cdf(x: number, k: number): number; fSf(f: number, d1: number, d2: number): number; betaCdf(x: number, a: number, b: number): number;
};

/** Default export: the same API as one object. */
/** The analysis settings an experiment's results use (its own over core's defaults). */
export interface AnalysisSettings {
  alpha: number;
  test: "two_sided" | "one_sided";
  basis: "sequential" | "fixed_horizon";
  correction: "holm" | "benjamini_hochberg" | "bonferroni" | "none";
  cuped: "show" | "decide";
  rate_prior: { alpha: number; beta: number };
  lift_prior: { mean: number; sd: number } | null;
  min_units: number;
  sequential_tuning: number;
}

/**
 * Checks an experiment's `analysis` settings (an object or its JSON text) as the server's
 * admin API does; throws a LitmusError with the server's code and path for invalid ones.
 */
export declare function validateAnalysis(settings: Record<string, unknown> | string): AnalysisSettings;

/** An experiment's plan (`planExperiment`, the server's `POST /planning`). */
export interface PlanAnswer {
  plan: {
    units_per_variant: number;
    total_units: number;
    days: number | null;
    lift: number;
    difference: number;
    alpha: number;
    power: number;
    basis: "sequential" | "fixed_horizon";
    test: "two_sided" | "one_sided";
    fixed_horizon_units: number;
  };
  baseline: { kind: "rate"; rate: number } | { kind: "mean"; mean: number; sd: number };
  settings: AnalysisSettings;
}

/**
 * Plans an experiment: the units and days to detect `lift`, or the lift detectable in `days`
 * (with `units_per_day`), from a `baseline`; throws a LitmusError with the field's path.
 */
export declare function planExperiment(request: Record<string, unknown> | string): PlanAnswer;

/** A webhook delivery's raw body: bytes (a Buffer is a Uint8Array), or text taken as UTF-8. */
export type WebhookBody = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/**
 * The `Litmus-Signature` value for `body` signed with `secret` at `timestamp` (unix seconds):
 * `t=<timestamp>,v1=<hex>` (docs/webhooks.md). For tests of a receiver. Throws a LitmusError
 * `invalid_argument` for an empty secret or a negative timestamp.
 */
export declare function signWebhook(secret: string, body: WebhookBody, timestamp: number | bigint): string;

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /** The current unix time in seconds (default: the system clock). */
  now?: number | bigint;
  /** How far, in seconds and either way, the signed time may be from `now` (default 300). */
  tolerance?: number | bigint;
}

/**
 * Verifies a webhook delivery and returns its signed timestamp (unix seconds): `header` is the
 * request's `Litmus-Signature` value (undefined or null when absent), `body` the raw body
 * exactly as received. Throws a LitmusError whose `code` is `signature_missing`,
 * `signature_malformed`, `signature_expired`, `signature_mismatch`, or `invalid_argument`.
 */
export declare function verifyWebhook(
  secret: string,
  header: string | null | undefined,
  body: WebhookBody,
  options?: VerifyWebhookOptions,
): number;

declare const api: { stats: typeof stats; bandit: typeof bandit; QuantileSketch: typeof QuantileSketch; LitmusError: typeof LitmusError; validateAnalysis: typeof validateAnalysis; planExperiment: typeof planExperiment; signWebhook: typeof signWebhook; verifyWebhook: typeof verifyWebhook; version: string };
export default api;
