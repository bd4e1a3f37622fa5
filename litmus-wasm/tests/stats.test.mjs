// litmus-experiments' stats against every case of fixtures/stats (scipy, statsmodels,
// mpmath), within 1e-9 relative as in Rust and Python.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments/analysis";

// Every test runs through the ESM entry point (import) and the CommonJS one (require).
const cjs = createRequire(import.meta.url)("litmus-experiments/analysis");

const load = (f) => JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "stats", f), "utf8")).cases;
function close(got, want, abs = 0) {
  if (want === null || want === undefined) return true;
  if (got === want) return true;
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (Math.abs(got - want) <= abs) return true;
  const scale = Math.abs(want) >= 1e-290 ? Math.abs(want) : 1e-290 / 1e-12;
  return Math.abs(got - want) / scale <= 1e-9;
}
const check = (got, want, what, abs = 0) => assert.ok(close(got, want, abs), `${what}: got ${got}, want ${want}`);
const sum = (g) => ({ count: g.count, mean: g.mean, m2: g.m2 });
const fromStd = (n, mean, std) => ({ count: n, mean, m2: std * std * (n - 1) });
const co = (v) => ({ nobs: v.count, meanX: v.mean_x, meanY: v.mean_y, m2X: v.m2_x, m2Y: v.m2_y, cXY: v.c_xy });

for (const [kind, { stats, LitmusError }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: distributions`, () => {
    const d = load("distributions.json");
    for (const c of d.normal_sf) check(stats.normSf(c.z), c.sf, "normal_sf");
    for (const c of d.normal_ppf) check(stats.normPpf(c.p), c.ppf, "normal_ppf");
    for (const c of d.t_sf) check(stats.tSf(c.t, c.df), c.sf, "t_sf");
    for (const c of d.t_isf) check(stats.tIsf(c.q, c.df), c.isf, "t_isf");
    for (const c of d.chi2_sf) check(stats.chi2Sf(c.x, c.k), c.sf, "chi2_sf");
    for (const c of d.f_sf) check(stats.fSf(c.f, c.d1, c.d2), c.sf, "f_sf");
    for (const c of d.beta_cdf) check(stats.betaCdf(c.x, c.a, c.b), c.cdf, "beta_cdf");
    // The wrong number of parameters is an error, as in Python (core's dist::by_name).
    assert.throws(() => stats.tSf(1.5), (e) => e.code === "invalid_argument" && /t_sf takes 2 arguments, not 1/.test(e.message));
    assert.throws(() => stats.normSf(1, 2), (e) => e.code === "invalid_argument");
  });

  test(`${kind}: tests: t, z, chi-squared, ANOVA, factorial, multiple testing`, () => {
    for (const c of load("ttest.json")) {
      const r = stats.ttestIndFromStats(c.mean1, c.std1, c.nobs1, c.mean2, c.std2, c.nobs2, c.equal_var, c.alternative);
      check(r.statistic, c.statistic, "t");
      check(r.pvalue, c.pvalue, "t p");
      check(r.df, c.df, "t df");
    }
    for (const c of load("ztest.json")) {
      const [z, p] = stats.proportionsZtest([c.count1, c.count2], [c.nobs1, c.nobs2], c.alternative);
      check(z, c.statistic, "z");
      check(p, c.pvalue, "z p");
    }
    for (const c of load("chi2_contingency.json")) {
      const w = c.observed.length / c.rows;
      const table = Array.from({ length: c.rows }, (_, i) => c.observed.slice(i * w, (i + 1) * w));
      const r = stats.chi2Contingency(table, c.correction);
      check(r.statistic, c.statistic, "chi2");
      check(r.pvalue, c.pvalue, "chi2 p");
      assert.equal(r.dof, c.dof);
      r.expectedFreq.flat().forEach((e, i) => check(e, c.expected[i], "expected"));
    }
    for (const c of load("chisquare.json")) {
      const r = stats.chisquare(c.observed, c.weights);
      check(r.statistic, c.statistic, "gof");
      check(r.pvalue, c.pvalue, "gof p");
    }
    for (const c of load("anova.json")) {
      const r = stats.fOneway(...c.groups.map(sum));
      check(r.statistic, c.statistic, "F");
      check(r.pvalue, c.pvalue, "F p");
      assert.equal(r.dfWithin, c.df_within);
    }
    for (const c of load("factorial.json")) {
      const r = stats.factorialAnova(c.levels, c.cells.map(sum));
      check(r.residualSumSq, c.residual_sum_sq, "rss");
      for (const want of c.terms) {
        const got = r.terms.find((t) => JSON.stringify(t.factors) === JSON.stringify(want.factors));
        check(got.sumSq, want.sum_sq, "ss");
        check(got.statistic, want.statistic, "term F");
        check(got.pvalue, want.pvalue, "term p");
        assert.equal(got.df, want.df);
      }
    }
    for (const c of load("multipletests.json")) {
      const [reject, corrected] = stats.multipletests(c.pvals, c.alpha, c.method);
      assert.deepEqual(reject, c.reject);
      corrected.forEach((p, i) => check(p, c.pvals_corrected[i], "corrected", 1e-15));
    }
    // The defaults: alpha 0.05 and Holm, as in Python (statsmodels' "hs" is not offered).
    const holm = load("multipletests.json").find((c) => c.method === "holm" && c.alpha === 0.05);
    assert.ok(holm, "a Holm case at alpha 0.05 in the fixtures");
    assert.deepEqual(stats.multipletests(holm.pvals), stats.multipletests(holm.pvals, 0.05, "holm"));
    assert.deepEqual(stats.multipletests(holm.pvals)[0], holm.reject);
    assert.throws(() => stats.multipletests(holm.pvals, 0.05, "hs"), (e) => e instanceof LitmusError && e.code === "invalid_argument");
  });

  test(`${kind}: intervals, planning, CUPED, ratios, Bayesian`, () => {
    const iv = load("intervals.json");
    for (const c of iv.proportion) {
      const [lo, hi] = stats.proportionConfint(c.count, c.nobs, c.alpha, c.method);
      check(lo, c.lower, "prop lo", 1e-15);
      check(hi, c.upper, "prop hi", 1e-15);
    }
    for (const c of iv.newcombe) {
      const i = stats.newcombeConfint(c.count1, c.nobs1, c.count2, c.nobs2, c.alpha);
      check(i.lower, c.lower, "newcombe");
      check(i.upper, c.upper, "newcombe");
    }
    for (const c of iv.mean) {
      const i = stats.meanConfint(fromStd(c.nobs, c.mean, c.std), c.alpha);
      check(i.lower, c.lower, "mean", 1e-12);
      check(i.upper, c.upper, "mean", 1e-12);
    }
    for (const c of iv.diff_means) {
      const i = stats.diffMeansConfint(fromStd(c.nobs1, c.mean1, c.std1), fromStd(c.nobs2, c.mean2, c.std2), c.alpha, c.equal_var);
      check(i.lower, c.lower, "diff", 1e-12);
      check(i.upper, c.upper, "diff", 1e-12);
    }
    for (const c of iv.relative_lift) {
      const i = stats.relativeLiftConfint(fromStd(c.nobs1, c.mean1, c.std1), fromStd(c.nobs2, c.mean2, c.std2), c.alpha);
      check(i.estimate, c.estimate, "lift", 1e-12);
      check(i.lower, c.lower, "lift", 1e-12);
    }
    const pw = load("power.json");
    for (const c of pw.power) check(stats.power(c.effect_size, c.nobs1, c.alpha, c.ratio, c.alternative), c.power, "power");
    for (const c of pw.sample_size) check(stats.sampleSize(c.effect_size, c.power, c.alpha, c.ratio, c.alternative), c.nobs1, "n");
    for (const c of pw.mde) check(stats.minimumDetectableEffect(c.nobs1, c.power, c.alpha, c.ratio, c.alternative), c.effect_size, "mde");
    for (const c of pw.effect_size) check(stats.proportionEffectsize(c.prop1, c.prop2), c.h, "h", 1e-15);
    const vr = load("variance_reduction.json");
    for (const c of vr.cuped) {
      const r = stats.cuped(co(c.treatment), co(c.control), c.alpha);
      for (const [got, key] of [[r.theta, "theta"], [r.statistic, "statistic"], [r.pvalue, "pvalue"], [r.df, "df"], [r.lower, "lower"], [r.upper, "upper"]]) check(got, c[key], key);
      check(r.varianceReduction, c.variance_reduction, "vr", 1e-12);
    }
    for (const c of vr.ratio) {
      const r = stats.ratioZtest(co(c.treatment), co(c.control), c.alpha);
      for (const [got, key] of [[r.ratioTreatment, "ratio_t"], [r.ratioControl, "ratio_c"], [r.varianceTreatment, "var_t"], [r.varianceControl, "var_c"], [r.statistic, "statistic"], [r.pvalue, "pvalue"], [r.diffLower, "diff_lower"], [r.diffUpper, "diff_upper"], [r.relativeLower, "rel_lower"], [r.relativeUpper, "rel_upper"]]) check(got, c[key], key);
    }
    const by = load("bayes.json");
    for (const c of by.beta) {
      check(stats.betaProbBeats(c.a1, c.b1, c.a2, c.b2), c.prob_beats, "beats", 1e-12);
      check(stats.betaExpectedLoss(c.a1, c.b1, c.a2, c.b2), c.expected_loss, "loss", 1e-14);
    }
    for (const c of by.beta_best) stats.betaProbBest(c.arms).forEach((p, i) => check(p, c.prob_best[i], "best", 1e-12));
    for (const c of by.normal) {
      check(stats.normalProbBeats(c.mean1, c.var1, c.mean2, c.var2), c.prob_beats, "nbeats");
      check(stats.normalExpectedLoss(c.mean1, c.var1, c.mean2, c.var2), c.expected_loss, "nloss");
    }
  });

  test(`${kind}: quantiles against numpy (quantiles.json), as litmus-core and Python check them`, () => {
    // The exact quantile is numpy's method="lower" to 1e-12; the sketch's quantiles and
    // interval bounds are within its relative accuracy of numpy's, at the same ranks.
    const within = (got, want, rel) => Math.abs(got - want) <= rel * Math.abs(want);
    const { samples } = load("quantiles.json");
    assert.ok(samples.length >= 5);
    let checks = 0;
    for (const sample of samples) {
      const x = sample.values;
      for (const accuracy of [0.001, 0.01, 0.05]) {
        const sketch = new stats.QuantileSketch(accuracy);
        sketch.extend(x);
        assert.equal(sketch.count, x.length);
        const tolerance = accuracy * (1 + 1e-9);
        for (const c of sample.quantiles) {
          const what = `${sample.kind} alpha ${accuracy} q ${c.q}`;
          assert.ok(within(stats.exactQuantile(x, c.q), c.value, 1e-12), what);
          assert.ok(within(sketch.quantile(c.q), c.value, tolerance), what);
          checks++;
        }
        for (const c of sample.intervals) {
          const e = stats.quantileInterval(sketch, c.q, c.alpha);
          const what = `${sample.kind} n ${x.length} alpha ${accuracy} q ${c.q} level ${c.alpha}`;
          assert.deepEqual([e.lowerRank, e.upperRank, e.nobs], [c.lower_rank, c.upper_rank, x.length], what);
          assert.ok(within(e.lower, c.lower, tolerance), what);
          assert.ok(within(e.upper, c.upper, tolerance), what);
          const bound = (tolerance * (Math.abs(c.lower) + Math.abs(c.upper))) / (2 * c.z);
          assert.ok(Math.abs(e.stdError - (c.upper - c.lower) / (2 * c.z)) <= bound, what);
          // Raw values are sketched at the relative accuracy asked for: the same answer.
          assert.deepEqual(stats.quantileInterval(x, c.q, c.alpha, { relativeAccuracy: accuracy }), e, what);
          checks++;
        }
        sketch.free();
      }
    }
    assert.ok(checks > 500);
  });

  test(`${kind}: samples, SRM and errors`, () => {
    const a = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3 + 10);
    const b = Array.from({ length: 150 }, (_, i) => Math.cos(i) * 2 + 10.5);
    const fromSamples = stats.ttestInd(a, b, false);
    const fromSummaries = stats.ttestInd(stats.describe(a), stats.describe(b), false);
    assert.deepEqual(fromSamples, fromSummaries);
    assert.equal(stats.srmCheck([50110, 49890]).mismatch, false);
    assert.equal(stats.srmCheck([51000, 49000], [1, 1]).mismatch, true);
    assert.throws(() => stats.ttestIndFromStats(0, -1, 10, 0, 1, 10), (e) => e instanceof LitmusError && e.code === "invalid_argument");
    assert.throws(() => stats.ttestInd([1], [2, 3]), (e) => e.code === "degenerate_data");
  });
}
