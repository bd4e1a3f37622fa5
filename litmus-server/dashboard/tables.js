// The results table of one metric: per variant its units, conversions or total, value with
// interval, and against the control the absolute and relative lift with an interval bar, the
// p-values, the probability of being better, the expected loss and the verdict.

import { h, s } from './dom.js';
import { ciBar, ciDomain } from './charts.js';
import * as f from './format.js';

/** The color class of the i-th variant (the control is neutral). */
export const variantCls = (i) => (i === 0 ? 'cc' : `c${(i - 1) % 8}`);

const VERDICT = {
  better: { icon: '▲', text: 'Better' },
  worse: { icon: '▼', text: 'Worse' },
  inconclusive: { icon: '●', text: 'Inconclusive' },
};

export function verdictBadge(verdict, title) {
  const v = VERDICT[verdict] || VERDICT.inconclusive;
  return h('span', { class: `verdict ${verdict}`, title },
    h('span', { 'aria-hidden': 'true' }, v.icon), ` ${v.text}`);
}

/** The interval of a variant's lift for the bar: relative when every row has it. */
function barIntervals(metric) {
  const control = metric.variants[0];
  const rows = metric.variants.slice(1).filter((r) => r.comparison);
  const relative = rows.length > 0 && rows.every((r) => r.comparison.relative)
    && control && Number.isFinite(control.value) && control.value !== 0;
  const scale = relative ? Math.abs(control.value) : 1;
  const out = new Map();
  for (const r of rows) {
    const c = r.comparison;
    const iv = relative ? c.relative : c.difference;
    out.set(r.variant, {
      est: iv.estimate,
      lo: iv.lower,
      hi: iv.upper,
      seqLo: c.sequential_difference.lower / scale,
      seqHi: c.sequential_difference.upper / scale,
    });
  }
  return { relative, out };
}

/** A small bar of a probability. */
function meter(p) {
  const w = Number.isFinite(p) ? Math.max(0, Math.min(1, p)) * 36 : 0;
  return s('svg', { class: 'meter', width: 36, height: 6, viewBox: '0 0 36 6', 'aria-hidden': 'true' },
    s('rect', { width: 36, height: 6, rx: 3, class: 'meter-bg' }),
    s('rect', { width: w, height: 6, rx: 3, class: 'meter-fill' }));
}

/** Whether a change is in the metric's good direction: good, bad or nothing. */
function direction(metric, x) {
  if (!(x > 0 || x < 0)) return '';
  return (x > 0) === (metric.goal !== 'decrease') ? 'good' : 'bad';
}

function cell(col, content, attrs = {}) {
  return h('td', { 'data-col': col, ...attrs }, content);
}

function valueCell(metric, row) {
  const fmt = (v) => f.metricValue(metric.kind, v);
  return cell('value', [
    h('span', { class: 'strong' }, fmt(row.value)),
    row.interval ? h('span', { class: 'sub' }, f.range(row.interval, fmt)) : null,
  ], { class: 'num' });
}

function row(metric, r, i, bars, domain, results) {
  const kind = metric.kind;
  const first = [
    h('th', { scope: 'row', 'data-col': 'variant' },
      h('span', { class: `swatch ${variantCls(i)}`, 'aria-hidden': 'true' }), r.variant,
      i === 0 ? h('span', { class: 'tag' }, 'control') : null),
    cell('units', f.int(r.units), { class: 'num' }),
    kind === 'conversion'
      ? cell('converted', f.int(r.converted), { class: 'num' })
      : cell('sum', f.num(r.sum), { class: 'num', title: `${f.int(r.events)} events` }),
    valueCell(metric, r),
  ];
  if (i === 0) {
    return h('tr', { 'data-variant': r.variant, class: 'control' }, ...first,
      cell('baseline', 'baseline', { colspan: 8, class: 'muted center' }));
  }
  const c = r.comparison;
  if (!c) {
    const why = r.problem ? r.problem.message : 'not enough data yet';
    return h('tr', { 'data-variant': r.variant }, ...first,
      cell('problem', why, { colspan: 8, class: 'muted', title: r.problem ? r.problem.code : '' }));
  }
  const b = bars.out.get(r.variant);
  const fmtRel = (v) => f.pct(v, 1, true);
  const label = `${r.variant} vs control: ${bars.relative ? 'relative' : 'absolute'} lift ${bars.relative ? fmtRel(b.est) : f.metricDiff(kind, b.est)}, interval ${bars.relative ? f.range(c.relative, fmtRel) : f.range(c.difference, (v) => f.metricDiff(kind, v))}`;
  return h('tr', { 'data-variant': r.variant, class: `verdict-${c.verdict}` }, ...first,
    cell('abs', [h('span', { class: 'strong' }, f.metricDiff(kind, c.difference.estimate)),
      h('span', { class: 'sub' }, f.range(c.difference, (v) => (kind === 'conversion' ? f.num(v * 100, true) : f.num(v, true)))),
      ...(c.cuped ? [h('span', {
        class: 'sub cuped',
        title: `CUPED (pre-exposure activity as covariate): p ${f.pvalue(c.cuped.pvalue)}, variance reduced by ${f.pct(c.cuped.variance_reduction, 0)}`,
      }, `CUPED ${f.range(c.cuped.difference, (v) => f.num(v, true))}`)] : [])], { class: 'num' }),
    cell('rel', c.relative
      ? [h('span', { class: `strong lift ${direction(metric, c.relative.estimate)}` }, fmtRel(c.relative.estimate)),
        h('span', { class: 'sub' }, f.range(c.relative, fmtRel))]
      : f.DASH, { class: 'num' }),
    cell('bar', ciBar({ ...b, domain, verdict: c.verdict, label, width: 124 }), { class: 'bar-cell' }),
    cell('pvalue', f.pvalue(c.pvalue), { class: 'num' }),
    cell('seq_pvalue', f.pvalue(c.sequential_pvalue), { class: 'num', title: `adjusted: ${f.pvalue(c.adjusted_pvalue)}` }),
    cell('prob', h('span', { class: 'prob' },
      meter(c.probability_better),
      f.prob(c.probability_better)), { class: 'num' }),
    cell('loss', f.metricDiff(kind, c.expected_loss).replace(/^\+/, ''), { class: 'num' }),
    cell('verdict', verdictBadge(c.verdict,
      `${results.basis === 'sequential' ? 'always-valid' : 'fixed-horizon'} p-value adjusted across the decision metrics: ${f.pvalue(c.adjusted_pvalue)} (α = ${results.alpha})`)),
  );
}

/** The card of one metric; `onChart` selects it in the lift chart. */
export function metricCard(metric, results, { onChart, charted }) {
  const bars = barIntervals(metric);
  const domain = ciDomain([...bars.out.values()]);
  const level = `${Math.round((1 - results.alpha) * 1000) / 10}%`;
  const valueHead = metric.kind === 'conversion' ? 'Rate' : 'Mean';
  const id = f.metricId(metric);
  const headId = `m-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const violated = metric.guardrail && metric.guardrail_violated;
  return h('section', {
    class: `card metric${metric.guardrail ? ' guardrail' : ''}${violated ? ' violated' : ''}`,
    'data-metric': id, 'data-key': id, 'aria-labelledby': headId,
  },
  h('header', { class: 'card-head' },
    h('h3', { id: headId }, metric.key, h('span', { class: 'kind' }, metric.kind === 'conversion' ? 'conversion rate' : 'mean per unit')),
    h('span', { class: 'goal', title: 'Which direction is good' }, metric.goal === 'decrease' ? '↓ lower is better' : '↑ higher is better'),
    metric.guardrail ? h('span', { class: 'badge guardrail-badge', title: 'Watched for harm; not a decision metric' }, 'guardrail') : null,
    violated ? h('span', { class: 'badge violated-badge', role: 'alert' }, 'violated: a variant is significantly worse') : null,
    h('span', { class: 'spacer' }),
    h('button', {
      type: 'button', class: `btn ghost small${charted ? ' active' : ''}`, 'aria-pressed': charted ? 'true' : 'false',
      onclick: () => onChart(id),
    }, charted ? 'Shown in chart' : 'Show over time')),
  h('div', { class: 'table-wrap' },
    h('table', { class: 'results-table' },
      h('caption', { class: 'sr-only' }, `Results for ${f.metricLabel(metric)}`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Variant'),
        h('th', { scope: 'col', class: 'num' }, 'Units'),
        h('th', { scope: 'col', class: 'num' }, metric.kind === 'conversion' ? 'Conversions' : 'Total'),
        h('th', { scope: 'col', class: 'num' }, `${valueHead} (${level} CI)`),
        h('th', { scope: 'col', class: 'num' }, 'Abs. lift'),
        h('th', { scope: 'col', class: 'num' }, 'Rel. lift'),
        h('th', { scope: 'col', class: 'bar-cell', title: 'Bar: fixed-horizon interval; whisker: always-valid interval; line: zero' },
          bars.relative ? 'Relative lift interval' : 'Lift interval'),
        h('th', { scope: 'col', class: 'num', title: 'Fixed-horizon two-sided p-value' }, 'p-value'),
        h('th', { scope: 'col', class: 'num', title: 'Always-valid (mSPRT) p-value: safe to look at any time' }, 'Always-valid p'),
        h('th', { scope: 'col', class: 'num', title: 'Bayesian probability that the variant beats the control' }, 'P(better)'),
        h('th', { scope: 'col', class: 'num', title: 'Expected loss of shipping the variant, in the metric’s units' }, 'Exp. loss'),
        h('th', { scope: 'col' }, 'Verdict'))),
      h('tbody', {}, metric.variants.map((r, i) => row(metric, r, i, bars, domain, results))))));
}
