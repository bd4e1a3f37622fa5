// The experiment form's analysis settings: alpha, one- or two-sided, the decision basis, the
// correction, CUPED's role, minimum units, the always-valid tuning and the priors. An empty
// field (or "server default") leaves the setting to the server's defaults; the server checks
// every value and its errors land at the field whose data-path they name (analysis.alpha).

import { h } from './dom.js';
import { field, numberOr } from './metric-fields.js';

const CHOICES = {
  test: [['two_sided', 'Two-sided'], ['one_sided', 'One-sided (needs fixed horizon)']],
  basis: [['sequential', 'Sequential (always valid)'], ['fixed_horizon', 'Fixed horizon']],
  correction: [['holm', 'Holm'], ['benjamini_hochberg', 'Benjamini-Hochberg'], ['bonferroni', 'Bonferroni'], ['none', 'None']],
  cuped: [['show', 'Shown beside'], ['decide', 'Decides']],
};

/** The settings section for `exp`: `{ section, collect }`, `collect()` giving the object or undefined. */
export function analysisSection(exp) {
  const a = exp.analysis && typeof exp.analysis === 'object' ? exp.analysis : {};
  const priors = a.priors || {};
  const num = (name, path, value, attrs = {}) => h('input', {
    type: 'number', step: 'any', name, 'data-path': path, class: 'short', placeholder: 'default',
    value: value === undefined || value === null ? '' : String(value), ...attrs,
  });
  const select = (name) => h('select', { name, 'data-path': `analysis.${name}` },
    h('option', { value: '' }, 'Server default'),
    CHOICES[name].map(([v, label]) => h('option', { value: v, selected: a[name] === v }, label)));
  const els = {
    alpha: num('alpha', 'analysis.alpha', a.alpha, { min: 0, max: 0.5 }),
    test: select('test'),
    basis: select('basis'),
    correction: select('correction'),
    cuped: select('cuped'),
    min_units: num('min_units', 'analysis.min_units', a.min_units, { min: 0, step: 1 }),
    sequential_tuning: num('sequential_tuning', 'analysis.sequential_tuning', a.sequential_tuning, { min: 1 }),
    rateAlpha: num('rate_alpha', 'analysis.priors.rate.alpha', priors.rate && priors.rate.alpha, { min: 1 }),
    rateBeta: num('rate_beta', 'analysis.priors.rate.beta', priors.rate && priors.rate.beta, { min: 1 }),
    liftMean: num('lift_mean', 'analysis.priors.lift.mean', priors.lift && priors.lift.mean),
    liftSd: num('lift_sd', 'analysis.priors.lift.sd', priors.lift && priors.lift.sd, { min: 0 }),
  };
  const section = h('details', { class: 'card form-section', id: 'analysis-settings', open: Object.keys(a).length > 0, 'data-path': 'analysis' },
    h('summary', {}, 'Analysis settings ', h('span', { class: 'muted small' }, 'optional: empty fields use the server\'s defaults')),
    h('div', { class: 'row' },
      field('Alpha', els.alpha, 'Significance level, in (0, 0.5].'),
      field('Test', els.test, 'One-sided tests only the metric\'s good direction.'),
      field('Decision basis', els.basis, 'Sequential p-values stay valid at every look.'),
      field('Correction', els.correction, 'Across decision metrics and variants.')),
    h('div', { class: 'row' },
      field('CUPED', els.cuped, 'Whether pre-exposure adjustment decides, for means.'),
      field('Minimum units', els.min_units, 'Per variant, before any verdict.'),
      field('Always-valid n*', els.sequential_tuning, 'Units per group where the interval is narrowest.')),
    h('div', { class: 'row' },
      field('Rate prior α', els.rateAlpha, 'Beta prior of conversion rates (>= 1).'),
      field('Rate prior β', els.rateBeta),
      field('Lift prior mean', els.liftMean, 'Normal prior of relative lifts (0.3 = ±30%).'),
      field('Lift prior sd', els.liftSd)));

  function collect() {
    // Fields the form does not edit are kept as they are.
    const out = { ...a };
    for (const name of ['alpha', 'min_units', 'sequential_tuning']) {
      const v = numberOr(els[name].value);
      if (v === undefined) delete out[name];
      else out[name] = v;
    }
    for (const name of ['test', 'basis', 'correction', 'cuped']) {
      if (els[name].value) out[name] = els[name].value;
      else delete out[name];
    }
    const pair = (x, y, names) => {
      const [vx, vy] = [numberOr(x.value), numberOr(y.value)];
      if (vx === undefined && vy === undefined) return undefined;
      const o = {};
      if (vx !== undefined) o[names[0]] = vx;
      if (vy !== undefined) o[names[1]] = vy;
      return o;
    };
    const p = { ...priors };
    const rate = pair(els.rateAlpha, els.rateBeta, ['alpha', 'beta']);
    const lift = pair(els.liftMean, els.liftSd, ['mean', 'sd']);
    if (rate) p.rate = rate; else delete p.rate;
    if (lift) p.lift = lift; else delete p.lift;
    if (Object.keys(p).length) out.priors = p; else delete out.priors;
    return Object.keys(out).length ? out : undefined;
  }

  return { section, collect };
}

/** One line naming the settings a result was computed with (`results.settings`). */
export function settingsLine(s) {
  if (!s) return '';
  const name = (group, v) => (CHOICES[group].find(([k]) => k === v) || [v, v])[1].replace(/ \(.*\)$/, '');
  const parts = [
    `α = ${s.alpha}`,
    name('test', s.test).toLowerCase(),
    name('basis', s.basis).toLowerCase(),
    s.correction === 'none' ? 'no correction' : `${name('correction', s.correction)} correction`,
    `CUPED ${s.cuped === 'decide' ? 'decides' : 'shown'}`,
  ];
  if (s.min_units > 0) parts.push(`min ${s.min_units} units`);
  if (s.rate_prior && (s.rate_prior.alpha !== 1 || s.rate_prior.beta !== 1)) parts.push(`Beta(${s.rate_prior.alpha}, ${s.rate_prior.beta}) prior`);
  if (s.lift_prior) parts.push(`lift prior N(${s.lift_prior.mean}, ${s.lift_prior.sd}²)`);
  return parts.join(' · ');
}
