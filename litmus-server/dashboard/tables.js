// The results table of one metric: per variant its units, conversions, total or events,
// value with interval (in the metric's format: rates as percentages, ratios and quantiles as
// numbers, money or durations; a funnel step also as a share of the previous step), and
// against the control the absolute and relative lift with an interval bar, the p-values, the
// probability of being better, the expected loss and the verdict. Also a funnel's overview.

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

/** An amount in the metric's unit (a total of values): money, a duration or a number. */
export function amount(metric, x) {
  if (metric.format === 'currency') return f.money(x, metric.currency);
  if (metric.format === 'duration') return f.ms(x);
  return f.num(x);
}

/** What the third column counts: units with the event, the total of values, or events. */
function countColumn(metric) {
  switch (metric.kind) {
    case 'conversion':
      return { col: 'converted', head: 'Conversions', value: (r) => f.int(r.converted) };
    case 'retention':
      return { col: 'converted', head: 'Retained', value: (r) => f.int(r.converted) };
    case 'funnel':
      return { col: 'converted', head: 'Reached', value: (r) => f.int(r.converted) };
    case 'mean':
      return { col: 'sum', head: 'Total', value: (r) => amount(metric, r.sum), title: (r) => `${f.int(r.events)} events` };
    default:
      return { col: 'events', head: 'Events', value: (r) => f.int(r.events) };
  }
}

/** The heading of the value column. */
function valueHead(metric, def) {
  switch (metric.kind) {
    case 'conversion':
      return 'Rate';
    case 'retention':
      return 'Retained';
    case 'funnel':
      return 'Reached';
    case 'ratio':
      return 'Ratio';
    case 'quantile':
      return def && def.quantile ? f.quantileName(def.quantile) : 'Quantile';
    default:
      return 'Mean';
  }
}

function valueCell(metric, row) {
  const fmt = (v) => f.metricValue(metric, v);
  const step = metric.step;
  return cell('value', [
    h('span', { class: 'strong' }, fmt(row.value)),
    row.interval ? h('span', { class: 'sub' }, f.range(row.interval, fmt)) : null,
    step && step.index > 0 && typeof row.of_previous === 'number'
      ? h('span', { class: 'sub of-previous', 'data-of-previous': String(row.of_previous) }, `${f.pct(row.of_previous, 1)} of step ${step.index}`)
      : null,
  ], { class: 'num' });
}

function row(metric, r, i, bars, domain, results) {
  const count = countColumn(metric);
  const share = f.isShare(metric);
  const first = [
    h('th', { scope: 'row', 'data-col': 'variant' },
      h('span', { class: `swatch ${variantCls(i)}`, 'aria-hidden': 'true' }), r.variant,
      i === 0 ? h('span', { class: 'tag' }, 'control') : null),
    cell('units', f.int(r.units), { class: 'num' }),
    cell(count.col, count.value(r), { class: 'num', title: count.title ? count.title(r) : '' }),
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
  const diff = (v) => f.metricDiff(metric, v);
  const label = `${r.variant} vs control: ${bars.relative ? 'relative' : 'absolute'} lift ${bars.relative ? fmtRel(b.est) : diff(b.est)}, interval ${bars.relative ? f.range(c.relative, fmtRel) : f.range(c.difference, diff)}`;
  return h('tr', { 'data-variant': r.variant, class: `verdict-${c.verdict}` }, ...first,
    cell('abs', [h('span', { class: 'strong' }, diff(c.difference.estimate)),
      h('span', { class: 'sub' }, f.range(c.difference, (v) => (share ? f.num(v * 100, true) : diff(v)))),
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
    cell('loss', diff(c.expected_loss).replace(/^\+/, ''), { class: 'num' }),
    cell('verdict', verdictBadge(c.verdict,
      c.below_min_units
        ? `no verdict yet: fewer units than the experiment's minimum (${results.settings ? results.settings.min_units : '?'} per variant)`
        : `${results.basis === 'sequential' ? 'always-valid' : 'fixed-horizon'} p-value adjusted across the decision metrics: ${f.pvalue(c.adjusted_pvalue)} (α = ${results.alpha})`)),
  );
}

/** A funnel step's event (and filter), from the catalogue's definition when known. */
function stepName(metric, def) {
  const s = def && def.kind === 'funnel' && def.steps ? def.steps[metric.step.index] : null;
  return s ? `${s.event}${s.filter ? ' (filtered)' : ''}` : '';
}

/**
 * The card of one metric; `onChart` selects it in the lift chart; `def` is its catalogue
 * definition when it has one (for a quantile's level and a funnel step's event).
 */
export function metricCard(metric, results, { onChart, charted, def }) {
  const bars = barIntervals(metric);
  const domain = ciDomain([...bars.out.values()]);
  // One-sided tests show intervals at 1 - 2 alpha (their bound on the tested side is the
  // one-sided bound at 1 - alpha).
  const shownAlpha = results.settings && results.settings.test === 'one_sided' ? 2 * results.alpha : results.alpha;
  const level = `${Math.round((1 - shownAlpha) * 1000) / 10}%`;
  const id = f.metricId(metric);
  const headId = `m-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const violated = metric.guardrail && metric.guardrail_violated;
  return h('section', {
    class: `card metric${metric.guardrail ? ' guardrail' : ''}${violated ? ' violated' : ''}`,
    'data-metric': id, 'data-key': id, 'aria-labelledby': headId,
  },
  h('header', { class: 'card-head' },
    h('h3', { id: headId }, metric.name || metric.key,
      metric.name ? h('code', { class: 'metric-key' }, metric.key) : null,
      h('span', { class: 'kind' }, f.kindLabel(metric, def && def.quantile)),
      metric.step && stepName(metric, def) ? h('span', { class: 'tag step-event' }, stepName(metric, def)) : null),
    typeof metric.cap === 'number'
      ? h('span', { class: 'badge cap-badge', 'data-testid': 'cap', title: 'Each unit’s value is capped (winsorized) at this' }, `capped at ${amount(metric, metric.cap)}`)
      : null,
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
        h('th', { scope: 'col', class: 'num', title: metric.kind === 'retention' ? 'Exposed units whose window has passed' : 'Exposed units' }, 'Units'),
        h('th', { scope: 'col', class: 'num' }, countColumn(metric).head),
        h('th', { scope: 'col', class: 'num' }, `${valueHead(metric, def)} (${level} CI)`),
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

/** A share as a bar (of the exposed units), in the variant's color. */
function shareBar(p, cls) {
  const w = Number.isFinite(p) ? Math.max(0, Math.min(1, p)) * 160 : 0;
  return s('svg', { class: `funnel-bar ${cls}`, width: 160, height: 8, viewBox: '0 0 160 8', 'aria-hidden': 'true' },
    s('rect', { width: 160, height: 8, rx: 2, class: 'bg' }),
    s('rect', { width: w, height: 8, rx: 2, class: 'fill' }));
}

/**
 * A funnel's overview: per step (its event when the definition is known) and variant, the
 * share of exposed units that reached it and the share of the previous step's units.
 */
export function funnelCard(steps, def, names) {
  const first = steps[0];
  const key = first.key;
  const headId = `funnel-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return h('section', { class: 'card funnel', 'data-funnel': key, 'data-key': `funnel:${key}`, 'aria-labelledby': headId },
    h('header', { class: 'card-head' },
      h('h3', { id: headId }, first.name || key, first.name ? h('code', { class: 'metric-key' }, key) : null,
        h('span', { class: 'kind' }, `funnel · ${first.step.of} steps`)),
      h('span', { class: 'muted small' }, 'Share of exposed units that reached each step, in order; the last step decides.')),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'funnel-table' },
        h('caption', { class: 'sr-only' }, `Funnel ${key}`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Step'),
          names.map((n, i) => h('th', { scope: 'col' }, h('span', { class: `swatch ${variantCls(i)}`, 'aria-hidden': 'true' }), n)))),
        h('tbody', {}, steps.map((m) => h('tr', { 'data-step': String(m.step.index) },
          h('th', { scope: 'row' }, h('span', { class: 'step-no' }, `${m.step.index + 1}`), stepName(m, def) || `step ${m.step.index + 1}`),
          names.map((n, i) => {
            const r = m.variants.find((v) => v.variant === n);
            if (!r) return h('td', { 'data-variant': n }, f.DASH);
            return h('td', { 'data-variant': n },
              h('div', { class: 'funnel-cell' }, shareBar(r.value, variantCls(i)),
                h('b', {}, f.pct(r.value, 1)),
                h('span', { class: 'muted small' }, `${f.int(r.converted)} units`)),
              typeof r.of_previous === 'number'
                ? h('div', { class: 'muted small', 'data-of-previous': String(r.of_previous) }, `${f.pct(r.of_previous, 1)} of the previous step`)
                : null);
          })))))));
}
