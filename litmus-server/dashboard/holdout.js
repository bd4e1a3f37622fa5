// A holdout's readout (#/holdouts/<key>, GET /holdouts/{key}/results): its share, the
// experiments it covers, the exploratory note, per metric of those experiments the table of
// its two arms (holdout: the units held out, the baseline; exposed: the units that entered a
// covered experiment) with the exposed arm's lift, p-values and verdict, and the cumulative
// lift over time. Reloaded every few seconds while the tab is visible (holdouts have no live
// channel); an unknown holdout says so in the page.

import { currentEnvironment } from './environment.js';
import { h, render } from './dom.js';
import { api, metrics as catalogueApi, ApiError } from './api.js';
import { TimeChart } from './charts.js';
import { funnelCard, metricCard, variantCls, verdictBadge } from './tables.js';
import { liftChartSpec } from './results.js';
import * as f from './format.js';

const REFRESH_MS = 10000;

/** A share of units as a percentage, with a decimal only when it has one: 0.3 -> "30%", 0.125 -> "12.5%". */
export function sharePct(share) {
  const whole = Number.isFinite(share) && Math.abs(share * 100 - Math.round(share * 100)) < 1e-9;
  return f.pct(share, whole ? 0 : 1);
}

/** The message of a failed load: a missing holdout in words, else the API's explanation. */
function problemOf(key, e) {
  if (e instanceof ApiError && e.status === 404) {
    return `There is no holdout “${key}”: it may have been deleted, or the address is mistyped.`;
  }
  return e instanceof ApiError ? e.explanation : String(e);
}

/** The figures under the header: the share held out, the units of each arm, the experiments covered. */
function kpis(data) {
  const units = data.results.units;
  const total = units.reduce((a, u) => a + u[1], 0);
  const covered = data.experiments || [];
  const decisions = data.results.metrics.filter((m) => !m.guardrail && !(m.step && m.step.index + 1 < m.step.of));
  return h('div', { class: 'kpis', 'data-key': 'kpis' },
    h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Units'),
      h('div', { class: 'kpi-value', 'data-testid': 'holdout-units' }, f.int(total)),
      h('div', { class: 'split', role: 'img', 'aria-label': 'Units per arm' },
        units.map((u, i) => h('div', { class: 'split-row', 'data-arm': u[0] },
          h('span', { class: `swatch ${variantCls(i)}` }), h('span', { class: 'split-name' }, u[0]),
          h('span', { class: 'num' }, f.int(u[1])),
          h('span', { class: 'muted num' }, total ? f.pct(u[1] / total, 1) : f.DASH)))),
      h('div', { class: 'muted small' }, 'Exposed counts only the units that entered a covered experiment.')),
    h('div', { class: 'kpi', id: 'holdout-covers' }, h('div', { class: 'kpi-label' }, 'Covered experiments'),
      h('div', { class: 'kpi-value' }, f.int(covered.length)),
      covered.length
        ? h('ul', { class: 'holdout-experiments', id: 'holdout-experiments' }, covered.map((k) => h('li', { 'data-experiment': k },
          h('a', { href: `#/experiments/${encodeURIComponent(k)}` }, k))))
        : h('p', { class: 'muted small', id: 'holdout-experiments' }, 'None: no experiment is held out from.')),
    h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Verdicts of the exposed arm'),
      h('div', { class: 'kpi-verdicts' }, ['better', 'worse', 'inconclusive'].map((v) => [
        verdictBadge(v),
        h('b', {}, String(decisions.filter((m) => m.variants.some((r) => r.comparison && r.comparison.verdict === v)).length)),
      ])),
      h('div', { class: 'muted small' },
        `α = ${data.results.alpha}, ${data.results.basis === 'sequential' ? 'always-valid' : 'fixed-horizon'} decisions`)));
}

/** The metric cards (a funnel's overview before its first step), with `selected` shown in the chart. */
function metricCards(results, defs, selected, onChart) {
  const names = results.units.map((u) => u[0]);
  const out = [];
  for (const m of results.metrics) {
    const known = defs.get(m.key);
    const def = known && known.kind === m.kind ? known : null;
    if (m.step && m.step.index === 0) {
      out.push(funnelCard(results.metrics.filter((o) => o.key === m.key && o.kind === m.kind && o.step), def, names));
    }
    out.push(metricCard(m, results, { onChart, charted: f.metricId(m) === selected, def }));
  }
  return out;
}

/** The card of the lift chart, with its metric picker; the chart draws itself into it. */
function liftCard(metrics, selected, onSelect) {
  return h('section', { class: 'card chart-card', id: 'lift-card', 'aria-labelledby': 'lift-h', 'data-key': 'lift-card' },
    h('header', { class: 'card-head' }, h('h3', { id: 'lift-h' }, 'Cumulative lift over time'), h('span', { class: 'spacer' }),
      h('label', { class: 'inline', for: 'metric-select' }, 'Metric'),
      h('select', { id: 'metric-select', onchange: (e) => onSelect(e.target.value) },
        metrics.map((m) => h('option', { value: f.metricId(m), selected: f.metricId(m) === selected }, f.metricLabel(m))))),
    h('div', { class: 'chart', 'data-chart': 'lift', 'data-keep': '', 'data-key': 'lift' }),
    h('p', { class: 'note' }, 'Line: the exposed arm\'s cumulative lift over the holdout arm; band: its always-valid (anytime) interval. Points appear once each arm has 200 units.'));
}

/** Mounts the readout of holdout `key` into `main`. */
export function mountHoldout(main, key, { setTitle }) {
  const st = { data: null, error: null, notFound: false, selected: null, defs: new Map(), loading: false };
  let alive = true;
  let chart = null;

  /** Loads the readout (one request at a time) and redraws. */
  function load() {
    if (st.loading) return;
    st.loading = true;
    api('GET', `/holdouts/${encodeURIComponent(key)}/results?points=60&environment=${encodeURIComponent(currentEnvironment())}`)
      .then((data) => {
        st.data = data;
        st.error = null;
        st.notFound = false;
      })
      .catch((e) => {
        st.error = problemOf(key, e);
        st.notFound = e instanceof ApiError && e.status === 404;
        if (st.notFound) st.data = null;
      })
      .finally(() => {
        st.loading = false;
        draw();
      });
  }

  /** Shows metric `id` in the lift chart and scrolls to it. */
  function selectMetric(id) {
    st.selected = id;
    draw();
    const card = document.getElementById('lift-card');
    if (card) card.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }

  /** The page's content for the state now. */
  function view() {
    const data = st.data;
    const head = h('header', { class: 'page-head', 'data-key': 'head' },
      h('div', {},
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / '),
        h('h1', {}, key, h('span', { class: 'badge kind' }, 'holdout'),
          data ? h('span', { class: 'badge holdout-share', id: 'holdout-share' }, `${sharePct(data.share)} held out`) : null)));
    if (!data) {
      if (st.notFound) {
        return [head, h('div', { class: 'banner critical', role: 'alert', id: 'holdout-error', 'data-key': 'error' },
          h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '⚠'),
          h('div', {}, h('strong', {}, 'Holdout not found. '), st.error, ' ', h('a', { href: '#/experiments' }, 'Back to the experiments')))];
      }
      return [head, st.error ? h('div', { class: 'banner critical', role: 'alert', id: 'holdout-error', 'data-key': 'error' }, st.error)
        : h('div', { class: 'card loading', 'data-key': 'loading' }, 'Loading the holdout…')];
    }
    const metrics = data.results.metrics;
    if (!metrics.some((m) => f.metricId(m) === st.selected)) {
      const first = metrics.find((m) => !m.guardrail) || metrics[0];
      st.selected = first ? f.metricId(first) : null;
    }
    return [head,
      st.error ? h('div', { class: 'banner warning', role: 'alert', 'data-key': 'error' }, st.error) : null,
      h('div', { class: 'banner warning', id: 'holdout-note', 'data-key': 'note' },
        h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '⚠'),
        h('div', {}, h('strong', {}, `${sharePct(data.share)} of units are held out of the experiments below. `), data.note)),
      kpis(data),
      metrics.length === 0
        ? h('section', { class: 'card', 'data-key': 'no-metrics' }, h('p', { class: 'muted' }, 'No metrics: the experiments this holdout covers declare none.'))
        : h('div', { class: 'metrics', 'data-key': 'metrics' }, metricCards(data.results, st.defs, st.selected, selectMetric)),
      metrics.length ? liftCard(metrics, st.selected, (id) => { st.selected = id; draw(); }) : null,
    ];
  }

  /** Draws the lift chart into its container (made anew when the container is). */
  function drawChart() {
    const el = main.querySelector('[data-chart="lift"]');
    if (!el || !st.data) {
      if (chart) chart.destroy();
      chart = null;
      return;
    }
    if (!chart || chart.container !== el) {
      if (chart) chart.destroy();
      chart = new TimeChart(el, { title: 'Cumulative lift over time', height: 260 });
    }
    chart.update(liftChartSpec(st.data, st.selected, true));
  }

  /** Patches the page to the state now. */
  function draw() {
    if (!alive) return;
    render(main, h('div', { class: 'page holdout-page', 'data-holdout': key }, view()));
    drawChart();
  }

  setTitle(`Holdout ${key}`);
  draw();
  load();
  // The catalogue's definitions name a quantile's level and a funnel's steps.
  catalogueApi.list().then((list) => { st.defs = new Map(list.map((m) => [m.key, m])); draw(); }).catch(() => {});
  const refresh = setInterval(() => {
    if (!st.notFound && document.visibilityState === 'visible') load();
  }, REFRESH_MS);

  return {
    unmount() {
      alive = false;
      clearInterval(refresh);
      if (chart) chart.destroy();
    },
  };
}
