// The results of one experiment, updated live: SRM banner, recommendation, key figures, a
// table per metric (a funnel also as an overview of its steps), the cumulative lift over time
// with its always-valid band, the segments of a dimension (segments.js), exposures, insights,
// bandit weights, the history of changes and the CSV export.

import { h, render, toast } from './dom.js';
import { experiments, metrics as catalogueApi, csvPath, downloadCsv, ApiError } from './api.js';
import { currentEnvironment, statusIn, PRODUCTION } from './environment.js';
import { TimeChart } from './charts.js';
import { funnelCard, metricCard, variantCls, verdictBadge } from './tables.js';
import { statusActions, statusBadge, historyList } from './list.js';
import { settingsLine } from './form-analysis.js';
import { segmentsSection } from './segments.js';
import * as f from './format.js';

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

/**
 * The lifts of each (metric index, treatment) at each point, matched by metric key, kind,
 * funnel step and variant (an event can be both a conversion and a mean); a point has a lift
 * only when the data support it.
 */
export function liftsByMetric(data) {
  const metrics = data.results.metrics;
  const out = metrics.map((m) => new Map(m.variants.slice(1).map((v) => [v.variant, []])));
  const id = (key, kind, step, variant) => [key, kind, step ?? '', variant].join('\u0000');
  data.series.forEach((p, pi) => {
    const at = new Map(p.lifts.map((l) => [id(l.metric, l.kind, l.step, l.variant), l]));
    metrics.forEach((m, mi) => {
      for (const v of m.variants.slice(1)) {
        const l = at.get(id(m.key, m.kind, m.step ? m.step.index : null, v.variant));
        if (l) out[mi].get(v.variant)[pi] = l;
      }
    });
  });
  return out;
}

/** The metric cards, a funnel's overview before its first step. */
function metricCards(results, defs, names, selected, onChart) {
  const out = [];
  results.metrics.forEach((m) => {
    const known = defs.get(m.key);
    const def = known && known.kind === m.kind ? known : null;
    if (m.step && m.step.index === 0) {
      const steps = results.metrics.filter((o) => o.key === m.key && o.kind === m.kind && o.step);
      out.push(funnelCard(steps, def, names));
    }
    out.push(metricCard(m, results, { onChart, charted: f.metricId(m) === selected, def }));
  });
  return out;
}

/** The CSV export: a link to `GET /results/{key}.csv`, fetched with the key (a blob URL). */
function exportLink(key, env) {
  return h('a', {
    class: 'btn ghost', id: 'export-csv', href: csvPath(key, env), download: `${key}-results.csv`,
    title: 'Download these results as CSV',
    onclick: (e) => {
      e.preventDefault();
      const a = e.currentTarget;
      a.setAttribute('aria-busy', 'true');
      downloadCsv(key, env)
        .catch((err) => toast(`CSV export failed: ${err instanceof ApiError ? err.explanation : String(err)}`, 'error', 9000))
        .finally(() => a.removeAttribute('aria-busy'));
    },
  }, '⤓ Export CSV');
}

function srmBanner(data) {
  const srm = data.results.srm;
  if (!srm || !srm.mismatch) return h('div', { id: 'srm-banner', class: 'banner critical', hidden: true, 'data-key': 'srm' });
  const names = data.results.units.map((u) => u[0]);
  return h('div', { id: 'srm-banner', class: 'banner critical', role: 'alert', 'data-key': 'srm' },
    h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '⚠'),
    h('div', {},
      h('strong', {}, 'Sample ratio mismatch. '),
      `The split of units differs from the configured weights (χ² test p ${srm.pvalue < 1e-4 ? `= ${srm.pvalue.toExponential(1)}` : `= ${f.pvalue(srm.pvalue)}`}, below the threshold ${srm.threshold}). `,
      'Results may be biased: check assignment, exposure logging and bot filtering before trusting them.',
      h('div', { class: 'srm-shares' }, names.map((n, i) => h('span', { class: 'share-chip' },
        h('span', { class: `swatch ${variantCls(i)}` }), `${n}: `,
        h('b', {}, f.pct(srm.observed_shares[i], 1)), ` observed vs ${f.pct(srm.expected_shares[i], 1)} expected`)))));
}

/** Results behind ingestion by more than this are marked "as of" their time. */
const LAG_NOTICE_MS = 5000;

/** "Results as of T": shown while events acknowledged more than a few seconds ago are not in the rollups yet. */
function lagBanner(data) {
  const lag = data.lag;
  if (!lag || !(lag.oldest_age_ms > LAG_NOTICE_MS)) return h('div', { id: 'lag-banner', class: 'banner warning', hidden: true, 'data-key': 'lag' });
  return h('div', { id: 'lag-banner', class: 'banner warning', role: 'status', 'data-key': 'lag' },
    h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '◔'),
    h('div', {},
      h('strong', {}, `Results as of ${f.clock(lag.as_of_ms)}. `),
      `${f.int(lag.events)} event${lag.events === 1 ? ' is' : 's are'} stored but not counted yet (the rollups are ${f.duration(lag.oldest_age_ms)} behind); the figures below do not include them.`));
}

const ACTIONS = {
  ship: { cls: 'good', icon: '✔', title: (r) => `Ship ${r.variant || 'the winner'}` },
  stop: { cls: 'bad', icon: '■', title: () => 'Stop the experiment' },
  keep_running: { cls: 'neutral', icon: '▶', title: () => 'Keep running' },
  no_data: { cls: 'muted', icon: '…', title: () => 'Waiting for data' },
};

function recommendationCard(rec) {
  if (!rec) return null;
  const a = ACTIONS[rec.action] || ACTIONS.keep_running;
  const d = rec.expected_days;
  const days = finite(d)
    ? h('div', { class: 'rec-days', 'data-testid': 'expected-days' }, h('b', {}, d < 1 ? '< 1' : String(Math.round(d))),
      d < 1.5 ? 'more day expected' : 'more days expected')
    : null;
  return h('section', { class: `card rec ${a.cls}`, id: 'recommendation', 'aria-label': 'Recommendation', 'data-key': 'rec' },
    h('div', { class: 'rec-icon', 'aria-hidden': 'true' }, a.icon),
    h('div', { class: 'rec-body' },
      h('div', { class: 'rec-kicker' }, 'Recommendation'),
      h('h2', {}, a.title(rec)),
      h('p', {}, rec.reason || '')),
    days);
}

function kpis(data, config) {
  const units = data.results.units;
  const total = units.reduce((a, u) => a + u[1], 0);
  const weights = config && config.variants ? config.variants : [];
  const wsum = weights.reduce((a, v) => a + (v.weight ?? 1), 0) || 1;
  const times = data.series.map((p) => p.time_ms);
  const span = times.length ? times[times.length - 1] - times[0] + (data.bucket_ms || 0) : NaN;
  const verdicts = { better: 0, worse: 0, inconclusive: 0 };
  for (const m of data.results.metrics) {
    // Guardrails do not decide; nor do a funnel's steps before its last.
    if (m.guardrail || (m.step && m.step.index + 1 < m.step.of)) continue;
    for (const v of m.variants) if (v.comparison) verdicts[v.comparison.verdict] += 1;
  }
  return h('div', { class: 'kpis', 'data-key': 'kpis' },
    h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Units exposed'),
      h('div', { class: 'kpi-value', 'data-testid': 'total-units' }, f.int(total)),
      h('div', { class: 'split', role: 'img', 'aria-label': 'Share of units per variant' },
        units.map((u, i) => {
          const w = weights.find((v) => v.key === u[0]);
          const expected = w && data.kind !== 'bandit' ? (w.weight ?? 1) / wsum : NaN;
          return h('div', { class: 'split-row' },
            h('span', { class: `swatch ${variantCls(i)}` }), h('span', { class: 'split-name' }, u[0]),
            h('span', { class: 'num' }, f.int(u[1])),
            h('span', { class: 'muted num' }, total ? f.pct(u[1] / total, 1) : f.DASH),
            finite(expected) ? h('span', { class: 'muted small' }, `of ${f.pct(expected, 0)}`) : null);
        })),
      data.unknown_variant_units ? h('div', { class: 'warn small' }, `${f.int(data.unknown_variant_units)} units in variants not in the config`) : null),
    h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Data span'),
      h('div', { class: 'kpi-value' }, f.duration(span)),
      h('div', { class: 'muted small' }, times.length ? `${f.dateTime(times[0])} – ${f.dateTime(times[times.length - 1])}` : 'no exposures yet')),
    h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Decision metrics'),
      h('div', { class: 'kpi-verdicts' },
        verdictBadge('better'), h('b', {}, String(verdicts.better)),
        verdictBadge('worse'), h('b', {}, String(verdicts.worse)),
        verdictBadge('inconclusive'), h('b', {}, String(verdicts.inconclusive))),
      h('div', { class: 'muted small', id: 'analysis-settings-line', title: 'The analysis settings these results were computed with (the experiment\'s over the server\'s defaults)' },
        data.results.settings ? settingsLine(data.results.settings) : `α = ${data.results.alpha}, ${data.results.basis === 'sequential' ? 'always-valid' : 'fixed-horizon'} decisions`),
      inferenceLine(data)));
}

/**
 * For a bandit, which estimator the comparisons come from: stratified by its periods of
 * constant weights (pooled figures would be biased when rates drift while the weights move).
 */
function inferenceLine(data) {
  if (data.results.inference !== 'stratified_by_weight_period') return null;
  const periods = Math.max(0, ...(data.bandit?.inference?.metrics ?? []).map((m) => m.periods));
  return h('div', { class: 'muted small', id: 'bandit-inference-line', title: data.bandit?.inference?.note ?? '' },
    `Comparisons stratified by ${periods} period${periods === 1 ? '' : 's'} of constant weights (the series are pooled)`);
}

const SEVERITY = { critical: '!!', warning: '!', info: 'i' };

function insightsCard(insights) {
  if (!Array.isArray(insights)) return null;
  return h('section', { class: 'card', id: 'insights', 'aria-labelledby': 'insights-h', 'data-key': 'insights' },
    h('header', { class: 'card-head' }, h('h3', { id: 'insights-h' }, 'Insights'),
      h('span', { class: 'muted small' }, insights.length ? `${insights.length}` : '')),
    insights.length === 0
      ? h('p', { class: 'muted' }, 'Nothing unusual: no SRM, anomalies or guardrail problems detected.')
      : h('ul', { class: 'insights' }, insights.map((i) => h('li', { class: `insight ${i.severity}`, 'data-kind': i.kind },
        h('span', { class: 'sev', role: 'img', 'aria-label': i.severity, title: i.severity }, SEVERITY[i.severity] || 'i'),
        h('div', {},
          h('div', { class: 'insight-title' }, i.title,
            i.metric ? h('span', { class: 'tag' }, i.metric) : null,
            i.variant ? h('span', { class: 'tag' }, i.variant) : null),
          h('div', { class: 'insight-reason' }, i.reason),
          i.numbers ? h('div', { class: 'chips' }, Object.entries(i.numbers).map(([k, v]) =>
            h('span', { class: 'chip' }, `${k.replace(/_/g, ' ')}: `, h('b', {}, f.num(v))))) : null)))));
}

function historyCard(audit) {
  return h('section', { class: 'card', id: 'history-card', 'data-key': 'history', 'aria-labelledby': 'history-h' },
    h('header', { class: 'card-head' }, h('h3', { id: 'history-h' }, 'History')), historyList(audit));
}

function chartCard({ id, title, controls, note }) {
  return h('section', { class: 'card chart-card', id: `${id}-card`, 'aria-labelledby': `${id}-h`, 'data-key': `${id}-card` },
    h('header', { class: 'card-head' }, h('h3', { id: `${id}-h` }, title), h('span', { class: 'spacer' }), controls),
    h('div', { class: 'chart', 'data-chart': id, 'data-keep': '', 'data-key': id }),
    note ? h('p', { class: 'note' }, note) : null);
}

function segmented(name, value, options, onChange) {
  return h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': name },
    options.map(([v, label]) => h('button', {
      type: 'button', role: 'radio', 'aria-checked': v === value ? 'true' : 'false',
      class: v === value ? 'on' : '', onclick: () => onChange(v),
    }, label)));
}

/** Mounts the results view of `key` into `main`. */
export function mountResults(main, key, { live, setTitle }) {
  const st = {
    config: null, data: null, version: -1, error: null, selected: null, liftMode: 'relative',
    exposures: 'cumulative', audit: [], configVersion: null, defs: new Map(),
  };
  const charts = new Map();
  const env = currentEnvironment();
  const segments = segmentsSection(key, draw, env);
  let alive = true;

  const loadConfig = () => experiments.get(key).then((c) => { st.config = c; draw(); }).catch((e) => {
    st.error = e instanceof ApiError ? e.explanation : String(e);
    draw();
  });
  // The catalogue's definitions name a quantile's level and a funnel's steps.
  const loadDefs = () => catalogueApi.list().then((list) => { st.defs = new Map(list.map((m) => [m.key, m])); draw(); }).catch(() => {});
  const loadAudit = () => experiments.audit(300).then((a) => { st.audit = a.filter((e) => e.key === key); draw(); }).catch(() => {});

  function apply(data, version) {
    if (!alive) return;
    if (version !== undefined) st.version = version;
    if (st.configVersion !== null && data.config_version !== st.configVersion) {
      loadConfig();
      loadAudit();
      loadDefs();
    }
    st.configVersion = data.config_version;
    st.data = data;
    st.error = null;
    segments.refresh();
    draw();
  }

  function metricOptions() {
    return st.data ? st.data.results.metrics : [];
  }

  function selectMetric(id) {
    st.selected = id;
    draw();
    const card = document.getElementById('lift-card');
    if (card) card.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }

  function liftControls(metrics) {
    return [
      h('label', { class: 'inline', for: 'metric-select' }, 'Metric'),
      h('select', {
        id: 'metric-select', onchange: (e) => { st.selected = e.target.value; draw(); },
      }, metrics.map((m) => h('option', { value: f.metricId(m), selected: f.metricId(m) === st.selected }, f.metricLabel(m)))),
      segmented('Lift scale', st.liftMode, [['relative', 'Relative'], ['absolute', 'Absolute']], (v) => { st.liftMode = v; draw(); }),
    ];
  }

  function view() {
    const c = st.config;
    const data = st.data;
    const status = (c && statusIn(c, env)) || (data && data.status) || '';
    const head = h('header', { class: 'page-head', 'data-key': 'head' },
      h('div', {},
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / '),
        h('h1', {}, key, ' ', status ? statusBadge(status) : null,
          env === PRODUCTION ? null : h('span', { class: 'badge env', id: 'results-env' }, env),
          h('span', { class: 'badge kind' }, (data && data.kind) || (c && c.kind) || 'ab'))),
      h('div', { class: 'actions' },
        exportLink(key, env),
        h('a', { class: 'btn ghost', href: `#/experiments/${encodeURIComponent(key)}/plan`, id: 'plan-link' }, 'Plan'),
        h('a', { class: 'btn ghost', href: `#/experiments/${encodeURIComponent(key)}/edit`, id: 'edit-experiment', 'data-edit': true }, 'Edit'),
        c ? statusActions(c, (next) => { st.config = next; loadAudit(); draw(); }, { env }) : null));
    if (!data) {
      return [head, st.error ? h('div', { class: 'banner critical', role: 'alert' }, st.error)
        : h('div', { class: 'card loading' }, 'Loading results…')];
    }
    const metrics = data.results.metrics;
    if (!st.selected || !metrics.some((m) => f.metricId(m) === st.selected)) {
      const first = metrics.find((m) => !m.guardrail) || metrics[0];
      st.selected = first ? f.metricId(first) : null;
    }
    const bandit = data.kind === 'bandit' && data.bandit;
    return [head,
      st.error ? h('div', { class: 'banner warning', role: 'alert', 'data-key': 'error' }, st.error) : null,
      srmBanner(data),
      lagBanner(data),
      recommendationCard(data.recommendation),
      kpis(data, c),
      metrics.length === 0
        ? h('section', { class: 'card', 'data-key': 'no-metrics' }, h('p', { class: 'muted' }, 'No metrics yet: declare metrics in the experiment, or track events for its units.'))
        : null,
      h('div', { class: 'metrics', 'data-key': 'metrics' },
        metricCards(data.results, st.defs, data.results.units.map((u) => u[0]), st.selected, selectMetric)),
      metrics.length ? chartCard({
        id: 'lift', title: 'Cumulative lift over time', controls: liftControls(metrics),
        note: 'Line: the cumulative lift against the control; band: its always-valid (anytime) interval, which only narrows. Points appear once each arm has 200 units.',
      }) : null,
      segments.view(c && c.dimensions),
      h('div', { class: 'grid2', 'data-key': 'grid-exposures' },
        chartCard({
          id: 'exposures', title: 'Exposures',
          controls: segmented('Exposures', st.exposures, [['cumulative', 'Cumulative'], ['increments', 'Per bucket']], (v) => { st.exposures = v; draw(); }),
        }),
        insightsCard(data.insights) || historyCard(st.audit)),
      bandit ? h('div', { class: 'grid2', 'data-key': 'grid-bandit' },
        chartCard({ id: 'weights', title: 'Arm weights' }),
        chartCard({ id: 'pbest', title: 'Probability of being best' })) : null,
      Array.isArray(data.insights) ? historyCard(st.audit) : null,
    ];
  }

  function chart(id, opts) {
    const el = main.querySelector(`[data-chart="${id}"]`);
    let ch = charts.get(id);
    if (!el) {
      if (ch) ch.destroy();
      charts.delete(id);
      return null;
    }
    if (!ch || ch.container !== el) {
      if (ch) ch.destroy();
      ch = new TimeChart(el, opts);
      charts.set(id, ch);
    }
    return ch;
  }

  function drawCharts() {
    const data = st.data;
    if (!data) return;
    const times = data.series.map((p) => p.time_ms);
    const names = data.results.units.map((u) => u[0]);
    // Lift.
    const liftChart = chart('lift', { title: 'Cumulative lift over time', height: 280 });
    if (liftChart) {
      liftChart.update(liftChartSpec(data, st.selected, st.liftMode === 'relative'));
    }
    // Exposures.
    const expChart = chart('exposures', { title: 'Exposures over time', height: 220 });
    if (expChart) {
      const inc = st.exposures === 'increments';
      expChart.update({
        times, mode: inc ? 'bars' : 'line', yLabel: inc ? 'Units per bucket' : 'Units (cumulative)', yFormat: (v) => f.int(v),
        empty: 'No exposures yet',
        series: names.map((n, k) => ({
          name: n, cls: variantCls(k),
          values: data.series.map((p, i) => (inc ? p.units[k] - (i ? data.series[i - 1].units[k] : 0) : p.units[k])),
        })),
      });
    }
    // Bandit.
    const b = data.kind === 'bandit' ? data.bandit : null;
    const wChart = b ? chart('weights', { title: 'Arm weights over time', height: 220 }) : chart('weights');
    if (wChart && b) {
      // Weights hold until the next change: drawn as steps, normalized, up to now.
      const pts = (b.weights || []).filter((p) => p && p.weights);
      const ts = [];
      const rows = [];
      pts.forEach((p, i) => {
        const total = names.reduce((a, n) => a + (finite(p.weights[n]) ? p.weights[n] : 0), 0) || 1;
        const row = names.map((n) => (finite(p.weights[n]) ? p.weights[n] / total : 0));
        const end = i + 1 < pts.length ? pts[i + 1].time_ms : Math.max(p.time_ms, Date.now());
        ts.push(p.time_ms, end);
        rows.push(row, row);
      });
      wChart.update({
        times: ts, mode: 'area', yLabel: 'Share of traffic', yFormat: (v) => f.pct(v, 1), yTick: (v) => f.pct(v, 0),
        empty: 'No weights published yet',
        series: names.map((n, k) => ({ name: n, cls: variantCls(k), values: rows.map((r) => r[k]) })),
      });
    }
    const pChart = b ? chart('pbest', { title: 'Probability of being best', height: 220 }) : chart('pbest');
    if (pChart && b) {
      const ts = (b.probability_best || []).map((p) => p.time_ms);
      pChart.update({
        times: ts, mode: 'line', yLabel: 'P(best)', yFormat: (v) => f.pct(v, 1), yTick: (v) => f.pct(v, 0),
        empty: 'No data yet',
        series: names.map((n, k) => ({ name: n, cls: variantCls(k), values: (b.probability_best || []).map((p) => p.values[n] ?? null) })),
      });
    }
  }

  function draw() {
    if (!alive) return;
    render(main, h('div', { class: 'page results-page', 'data-experiment': key }, view()));
    drawCharts();
  }

  setTitle(key);
  draw();
  loadConfig();
  loadAudit();
  loadDefs();
  experiments.results(key, 60, env).then((d) => {
    if (!st.data) apply(d);
  }).catch((e) => {
    if (!st.data) {
      st.error = e instanceof ApiError ? e.explanation : String(e);
      draw();
    }
  });
  // Another environment's results are the live topic `key@environment`.
  const topic = env === PRODUCTION ? key : `${key}@${env}`;
  live.follow([topic], (k, data, version) => {
    if (k === topic && version >= st.version) apply(data, version);
  }, (msg) => {
    if (msg.experiment && msg.experiment !== topic) return;
    st.error = `${msg.message} (${msg.code})`;
    draw();
  });

  return {
    unmount() {
      alive = false;
      for (const ch of charts.values()) ch.destroy();
      charts.clear();
      live.unfollow();
    },
  };
}

/**
 * The lift chart's spec for the metric `selected` (its id) of results `data` (an experiment's
 * or a holdout's): each treatment's cumulative lift over the control with its always-valid
 * band, relative when `relative` is asked and every point has it, else the difference.
 */
export function liftChartSpec(data, selected, relative) {
  const times = data.series.map((p) => p.time_ms);
  const names = data.results.units.map((u) => u[0]);
  const metrics = data.results.metrics;
  const mi = metrics.findIndex((m) => f.metricId(m) === selected);
  const m = metrics[mi];
  const byVariant = liftsByMetric(data)[mi] || new Map();
  const points = [...byVariant.values()].flat().filter(Boolean);
  const rel = relative && points.length > 0 && points.every((l) => l.sequential_relative);
  /** The estimate or a bound of lift `l` on the chart's scale. */
  const pick = (l, part) => {
    if (!l) return null;
    if (rel) return l.sequential_relative[part];
    return part === 'estimate' ? l.difference : l.sequential[part];
  };
  const share = f.isShare(m);
  const yFormat = rel ? (v) => f.pct(v, 1, true) : (v) => f.metricDiff(m, v);
  const yTick = rel ? (v, step) => f.pct(v, step >= 0.05 ? 0 : 1, true)
    : share ? (v) => `${f.num(v * 100, true)}` : (v) => f.metricDiff(m, v);
  const series = m.variants.slice(1).map((v) => {
    const ls = byVariant.get(v.variant) || [];
    return {
      name: `${v.variant} vs ${data.results.control}`, cls: variantCls(names.indexOf(v.variant)),
      values: times.map((_, i) => pick(ls[i], 'estimate')),
      lo: times.map((_, i) => pick(ls[i], 'lower')),
      hi: times.map((_, i) => pick(ls[i], 'upper')),
      lifts: ls,
    };
  });
  return {
    times, series, mode: 'line', zero: true, yFormat, yTick,
    yLabel: rel ? 'Relative lift' : `Difference${share ? ' (pp)' : ''}`,
    empty: 'The lift appears once each arm has 200 units',
    tooltip: (i, shown) => [
      h('div', { class: 'tip-head' }, f.dateTime(times[i]), h('span', { class: 'muted' }, ` · ${f.metricLabel(m)}`)),
      ...shown.map((sr) => {
        const l = sr.lifts[i];
        return h('div', { class: 'tip-row' }, h('span', { class: `swatch ${sr.cls}` }), h('span', { class: 'tip-name' }, sr.name),
          l ? [h('b', {}, yFormat(sr.values[i])), ` [${yFormat(sr.lo[i])}, ${yFormat(sr.hi[i])}]`,
            h('span', { class: 'muted' }, ` p=${f.pvalue(l.sequential_pvalue)}`)] : h('span', { class: 'muted' }, 'not enough data'));
      }),
      h('div', { class: 'tip-foot muted' }, names.map((n, k) => `${n} ${f.int(data.series[i].units[k])}`).join(' · ')),
    ],
  };
}
