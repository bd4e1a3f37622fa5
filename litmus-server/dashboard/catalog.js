// The metric catalogue (#/metrics): every definition with its kind, what it measures, its
// format and goal, and who uses it (experiments, and ratios that divide it); delete asks
// first, and a metric still in use stays, with the server's reasons shown above the list.

import { h, render, toast, confirmDialog } from './dom.js';
import { experiments, metrics, ApiError } from './api.js';
import * as f from './format.js';

/** What a definition measures: its event (filtered, by a property), parts or steps. */
export function measures(m) {
  const tag = (t) => h('span', { class: 'tag' }, t);
  switch (m.kind) {
    case 'ratio':
      return h('span', { class: 'measures' }, h('code', {}, m.numerator || '?'), ' ÷ ', h('code', {}, m.denominator || '?'));
    case 'funnel':
      return h('span', { class: 'measures steps' }, (m.steps || []).map((s, i) => [i ? h('span', { class: 'arrow', 'aria-label': 'then' }, ' → ') : null,
        h('code', {}, s.event), s.filter ? tag('filtered') : null]));
    default:
      return h('span', { class: 'measures' },
        m.kind === 'quantile' ? `${f.quantileName(m.quantile)} of ${m.level === 'unit' ? 'units’ ' : ''}` : null,
        h('code', {}, m.event || '?'),
        m.property ? [' · ', h('code', {}, m.property)] : null,
        m.aggregation ? tag(m.aggregation) : null,
        m.filter ? tag('filtered') : null,
        m.window ? tag(`${m.window.delay_hours ? `${m.window.delay_hours} h + ` : ''}${m.window.hours} h`) : null,
        m.cap ? tag(m.cap.absolute !== undefined ? `cap ${m.cap.absolute}` : `cap p${Math.round(m.cap.percentile * 1000) / 10}`) : null);
  }
}

/** The format of a definition in words. */
export const formatLabel = (m) => (m.format === 'currency' ? `currency ${m.currency || ''}`.trim() : m.format || 'number');

/** Mounts the catalogue into `main`. */
export function mountCatalog(main, { setTitle }) {
  const st = { list: null, experiments: [], error: null, refused: null, query: '' };
  let alive = true;

  async function load() {
    try {
      const [list, exps] = await Promise.all([metrics.list(), experiments.list()]);
      st.list = list;
      st.experiments = exps;
      st.error = null;
    } catch (e) {
      st.error = e instanceof ApiError ? e.explanation : String(e);
    }
    draw();
  }

  /** The experiments that refer to `key`, and the ratios that divide it. */
  function users(key) {
    const exps = st.experiments.filter((e) => (e.metrics || []).some((m) => m && m.metric === key)).map((e) => e.key);
    const ratios = (st.list || []).filter((m) => m.kind === 'ratio' && (m.numerator === key || m.denominator === key)).map((m) => m.key);
    return { exps, ratios };
  }

  async function remove(m) {
    const ok = await confirmDialog({ title: `Delete “${m.key}”?`, text: 'The metric leaves the catalogue. Experiments and ratios that use it must drop it first.', ok: 'Delete' });
    if (!ok) return;
    try {
      await metrics.remove(m.key);
      st.refused = null;
      toast(`${m.key} deleted`, 'success');
      await load();
    } catch (e) {
      st.refused = { key: m.key, error: e };
      draw();
      const banner = document.getElementById('metric-delete-error');
      if (banner) banner.focus();
    }
  }

  function refusedBanner() {
    if (!st.refused) return null;
    const { key, error } = st.refused;
    const problems = error instanceof ApiError && error.problems.length ? error.problems : null;
    return h('div', { id: 'metric-delete-error', class: 'banner critical', role: 'alert', tabindex: '-1', 'data-key': 'refused' },
      h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '⚠'),
      h('div', {},
        h('strong', {}, `“${key}” was not deleted${error.status === 422 ? ': it is in use' : ''}. `),
        problems ? h('ul', {}, problems.map((p) => h('li', {}, p.message, p.code ? h('span', { class: 'small' }, ` (${p.code})`) : null)))
          : h('span', {}, error instanceof ApiError ? error.explanation : String(error)),
        h('button', { type: 'button', class: 'link', onclick: () => { st.refused = null; draw(); } }, 'Dismiss')));
  }

  function row(m) {
    const { exps, ratios } = users(m.key);
    const edit = `#/metrics/${encodeURIComponent(m.key)}`;
    return h('tr', { 'data-key': m.key, 'data-metric-key': m.key },
      h('th', { scope: 'row' }, h('a', { href: edit, class: 'exp-link' }, m.key),
        m.name ? h('div', { class: 'small' }, m.name) : null,
        m.description ? h('div', { class: 'muted small clip', title: m.description }, m.description) : null),
      h('td', { 'data-col': 'kind' }, h('span', { class: 'badge kind' }, m.kind)),
      h('td', { 'data-col': 'measures' }, measures(m)),
      h('td', { 'data-col': 'format' }, formatLabel(m)),
      h('td', { 'data-col': 'goal' }, m.goal === 'decrease' ? '↓ decrease' : '↑ increase',
        m.guardrail ? h('span', { class: 'badge guardrail-badge' }, 'guardrail') : null),
      h('td', { 'data-col': 'used' }, exps.length || ratios.length
        ? h('div', { class: 'chips' },
          exps.map((k) => h('a', { class: 'chip', href: `#/experiments/${encodeURIComponent(k)}` }, k)),
          ratios.map((k) => h('a', { class: 'chip ratio-chip', href: `#/metrics/${encodeURIComponent(k)}`, title: 'A ratio that divides it' }, `÷ ${k}`)))
        : h('span', { class: 'muted' }, 'unused')),
      h('td', { class: 'row-actions' },
        h('a', { class: 'btn ghost small', href: edit, 'data-edit': true }, 'Edit'),
        h('button', { type: 'button', class: 'btn danger ghost small', 'data-action': 'delete', 'data-edit': true, onclick: () => remove(m) }, 'Delete')));
  }

  function draw() {
    if (!alive) return;
    const list = st.list || [];
    const q = st.query.trim().toLowerCase();
    const shown = list
      .filter((m) => !q || m.key.toLowerCase().includes(q) || (m.name || '').toLowerCase().includes(q) || m.kind.includes(q))
      .sort((a, b) => a.key.localeCompare(b.key));
    render(main, h('div', { class: 'page catalog-page' },
      h('header', { class: 'page-head' },
        h('div', {}, h('h1', {}, 'Metrics'),
          h('p', { class: 'muted small lede' }, 'Definitions experiments refer to by key: conversions, means, ratios, quantiles, retention and funnels.')),
        h('div', { class: 'actions' }, h('a', { class: 'btn primary', href: '#/metrics/new', id: 'new-metric', 'data-edit': true }, '+ New metric'))),
      list.length ? h('div', { class: 'toolbar' },
        h('input', {
          type: 'search', class: 'search', placeholder: 'Search by key, name or kind', 'aria-label': 'Search metrics',
          value: st.query, oninput: (e) => { st.query = e.target.value; draw(); },
        })) : null,
      st.error ? h('div', { class: 'banner critical', role: 'alert' }, st.error) : null,
      refusedBanner(),
      st.list === null && !st.error ? h('div', { class: 'card loading' }, 'Loading metrics…') : null,
      st.list && list.length === 0 ? h('div', { class: 'card empty-state' },
        h('h2', {}, 'No metrics yet'),
        h('p', { class: 'muted' }, 'Define a metric once (revenue per order, p90 load time, a checkout funnel) and add it to any experiment.'),
        h('a', { class: 'btn primary', href: '#/metrics/new', 'data-edit': true }, 'Define a metric')) : null,
      list.length ? h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' },
        h('table', { class: 'list-table', id: 'metrics-catalog' },
          h('caption', { class: 'sr-only' }, 'Metric catalogue'),
          h('thead', {}, h('tr', {}, ['Metric', 'Kind', 'Measures', 'Format', 'Goal', 'Used by', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, shown.length ? shown.map(row)
            : h('tr', {}, h('td', { colspan: 7, class: 'muted center' }, 'No metric matches.')))))) : null));
  }

  setTitle('Metrics');
  draw();
  load();
  return {
    unmount() {
      alive = false;
    },
  };
}
