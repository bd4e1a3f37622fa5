// The results of an experiment per segment of one of its dimensions (GET
// /results/{key}/segments?dimension=): per segment its units, its sample ratio check and, for
// one metric, each treatment's relative lift with its interval, its p-value corrected across
// the whole breakdown and its verdict. Segment results are exploratory, as the note says.

import { h } from './dom.js';
import { api, ApiError } from './api.js';
import { variantCls, verdictBadge } from './tables.js';
import * as f from './format.js';

const CORRECTIONS = { holm: 'Holm', bonferroni: 'Bonferroni', benjamini_hochberg: 'Benjamini-Hochberg' };
const RESERVED = new Set(['(other)', '(missing)']);

/** The SRM cell: the p-value, and a badge (with the observed and expected shares) on a mismatch. */
function srmCell(results) {
  const srm = results.srm;
  if (!srm) return h('td', { 'data-col': 'srm', class: 'num muted', title: results.srm_problem ? results.srm_problem.message : 'not checked' }, f.DASH);
  const shares = results.units.map((u, i) => `${u[0]} ${f.pct(srm.observed_shares[i], 1)} (expected ${f.pct(srm.expected_shares[i], 1)})`).join(', ');
  return h('td', { 'data-col': 'srm', class: 'num' }, f.pvalue(srm.pvalue),
    srm.mismatch ? h('span', { class: 'badge srm-mismatch', role: 'img', 'aria-label': `sample ratio mismatch: ${shares}`, title: `Sample ratio mismatch: ${shares}` }, '⚠ SRM') : null);
}

/** The lift, corrected p-value and verdict of `treatment` on `metric` (one segment's result). */
function liftCells(metric, treatment) {
  const r = metric && metric.variants.find((v) => v.variant === treatment);
  const c = r && r.comparison;
  if (!c) return h('td', { 'data-col': 'problem', colspan: 3, class: 'muted' }, r && r.problem ? r.problem.message : 'not enough data yet');
  const rel = (v) => f.pct(v, 1, true);
  const diff = (v) => f.metricDiff(metric, v);
  return [
    h('td', { 'data-col': 'lift', 'data-variant': treatment, class: 'num' }, c.relative
      ? [h('span', { class: 'strong' }, rel(c.relative.estimate)), h('span', { class: 'sub' }, f.range(c.relative, rel))]
      : [h('span', { class: 'strong' }, diff(c.difference.estimate)), h('span', { class: 'sub' }, f.range(c.difference, diff))]),
    h('td', { 'data-col': 'adjusted_pvalue', 'data-variant': treatment, class: 'num' }, f.pvalue(c.adjusted_pvalue)),
    h('td', { 'data-col': 'verdict', 'data-variant': treatment }, verdictBadge(c.verdict)),
  ];
}

/** The table of a breakdown's segments on the metric `id`. */
function segmentTable(segments, id) {
  const first = segments[0].results;
  const control = first.control;
  const treatments = first.units.map((u) => u[0]).filter((v) => v !== control);
  const names = first.units.map((u) => u[0]);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'results-table segment-table', id: 'segment-table' },
      h('thead', {},
        h('tr', {},
          h('th', { scope: 'col', rowspan: 2 }, 'Segment'),
          h('th', { scope: 'col', rowspan: 2, class: 'num', title: 'Exposed units; per variant below' }, 'Units'),
          h('th', { scope: 'col', rowspan: 2, class: 'num', title: 'The sample ratio mismatch check of the segment (χ² p-value)' }, 'SRM p'),
          treatments.map((t) => h('th', { scope: 'colgroup', colspan: 3, class: 'center' },
            h('span', { class: `swatch ${variantCls(names.indexOf(t))}`, 'aria-hidden': 'true' }), `${t} vs ${control}`))),
        h('tr', {}, treatments.map(() => [
          h('th', { scope: 'col', class: 'num', title: 'Relative lift over the control, with its interval (the difference when the control is at 0)' }, 'Lift'),
          h('th', { scope: 'col', class: 'num', title: 'Corrected across every segment, metric and variant of the breakdown' }, 'Corrected p'),
          h('th', { scope: 'col' }, 'Verdict'),
        ]))),
      h('tbody', {}, segments.map((s) => h('tr', { 'data-segment': s.value, class: RESERVED.has(s.value) ? 'reserved' : '' },
        h('th', { scope: 'row', 'data-col': 'value' }, s.value),
        h('td', { 'data-col': 'units', class: 'num' }, h('span', { class: 'strong' }, f.int(s.units)),
          h('span', { class: 'sub' }, s.results.units.map((u) => f.int(u[1])).join(' / '))),
        srmCell(s.results),
        treatments.map((t) => liftCells(s.results.metrics.find((m) => f.metricId(m) === id), t)))))));
}

/** Which values of the dimension get a segment, in words. */
function valuesLine(d) {
  const from = d.attribute !== d.dimension ? `Values of the attribute ${d.attribute}. ` : '';
  const own = d.values.listed ? `Listed values (${d.values.listed.join(', ')})` : `The first ${d.values.max_values} values seen`;
  return `${from}${own} get a segment of their own; other values count in (other), units exposed without a value in (missing).`;
}

/**
 * The Segments section of experiment `key`: `view(dimensions)` builds it for the experiment's
 * declared dimensions (nothing without any); `refresh()` reloads the breakdown shown (one
 * request at a time); `redraw` is called when an answer arrives.
 */
export function segmentsSection(key, redraw, env = 'production') {
  const st = { dimension: null, metric: null, answer: null, loading: false, again: false };

  function load() {
    if (st.loading) {
      st.again = true;
      return;
    }
    st.loading = true;
    const dimension = st.dimension;
    api('GET', `/results/${encodeURIComponent(key)}/segments?dimension=${encodeURIComponent(dimension)}&environment=${encodeURIComponent(env)}`)
      .then((data) => { st.answer = { dimension, data }; })
      .catch((e) => { st.answer = { dimension, error: e instanceof ApiError ? e.explanation : String(e) }; })
      .finally(() => {
        st.loading = false;
        if (st.again) {
          st.again = false;
          load();
        }
        redraw();
      });
  }

  /** The metrics of the breakdown shown; keeps the one selected, else the first decision metric. */
  function metricsOf(data) {
    const segments = data ? data.breakdown.segments : [];
    const metrics = segments.length ? segments[0].results.metrics : [];
    if (!metrics.some((m) => f.metricId(m) === st.metric)) {
      const first = metrics.find((m) => !m.guardrail) || metrics[0];
      st.metric = first ? f.metricId(first) : null;
    }
    return metrics;
  }

  /** The section's content for the answer `a` on the dimension shown (null while it loads). */
  function body(a) {
    if (!a) return h('p', { class: 'muted' }, 'Loading segments…');
    if (a.error) return h('div', { class: 'banner critical', role: 'alert', id: 'segment-error' }, a.error);
    const b = a.data.breakdown;
    return [
      h('div', { class: 'banner warning', id: 'segment-note' }, h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '⚠'), h('div', {}, b.note)),
      b.segments.length && st.metric
        ? segmentTable(b.segments, st.metric)
        : h('p', { class: 'muted', id: 'segment-empty' }, 'No exposures with this dimension yet.'),
      h('p', { class: 'note', id: 'segment-correction' },
        `${CORRECTIONS[b.correction] || b.correction} correction across ${f.int(b.comparisons)} comparison${b.comparisons === 1 ? '' : 's'}. ${valuesLine(a.data)}`),
      a.data.not_broken_down.length
        ? h('p', { class: 'note' }, 'Not broken down: ', a.data.not_broken_down.map((n) => `${n.metric} (${n.reason})`).join('; '))
        : null,
    ];
  }

  return {
    view(dimensions) {
      if (!dimensions || !dimensions.length) return null;
      // The first dimension at first, and when the one shown is no longer declared.
      if (!dimensions.some((d) => d.key === st.dimension)) {
        st.dimension = dimensions[0].key;
        load();
      }
      const a = st.answer && st.answer.dimension === st.dimension ? st.answer : null;
      const metrics = metricsOf(a && a.data);
      return h('section', { class: 'card', id: 'segments', 'aria-labelledby': 'segments-h', 'data-key': 'segments' },
        h('header', { class: 'card-head' },
          h('h3', { id: 'segments-h' }, 'Segments'),
          h('span', { class: 'spacer' }),
          h('label', { class: 'inline', for: 'segment-dimension' }, 'Dimension'),
          h('select', { id: 'segment-dimension', onchange: (e) => { st.dimension = e.target.value; load(); redraw(); } },
            dimensions.map((d) => h('option', { value: d.key, selected: d.key === st.dimension },
              d.attribute && d.attribute !== d.key ? `${d.key} (${d.attribute})` : d.key))),
          metrics.length > 1 ? [
            h('label', { class: 'inline', for: 'segment-metric' }, 'Metric'),
            h('select', { id: 'segment-metric', onchange: (e) => { st.metric = e.target.value; redraw(); } },
              metrics.map((m) => h('option', { value: f.metricId(m), selected: f.metricId(m) === st.metric }, f.metricLabel(m)))),
          ] : null),
        body(a));
    },
    refresh() {
      if (st.dimension) load();
    },
  };
}
