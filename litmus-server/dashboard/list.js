// The experiments list (filter by status, search, exposed units with a live sparkline), and
// the pieces other views share: the status badge, the start/pause/stop buttons, the history.

import { currentEnvironment, statusIn, withStatus, topic, keyOfTopic, PRODUCTION } from './environment.js';
import { h, render, toast, confirmDialog } from './dom.js';
import { api, experiments, ApiError } from './api.js';
import { sparkline } from './charts.js';
import { variantCls } from './tables.js';
import * as f from './format.js';

const STATUSES = ['running', 'draft', 'paused', 'stopped'];
const STATUS_ICON = { running: '●', draft: '○', paused: '❚❚', stopped: '■' };

export function statusBadge(status) {
  return h('span', { class: `badge status status-${status}`, 'data-status': status },
    h('span', { 'aria-hidden': 'true' }, STATUS_ICON[status] || ''), ` ${status}`);
}

/** Start, pause, resume and stop buttons for an experiment; stopping asks first. */
export function statusActions(config, onChanged, { small = false, env = PRODUCTION } = {}) {
  const current = statusIn(config, env);
  const where = env === PRODUCTION ? '' : ` in ${env}`;
  const go = async (status, button) => {
    if (status === 'stopped') {
      const ok = await confirmDialog({
        title: `Stop “${config.key}”${where}?`,
        text: 'Stopping is final: no unit is assigned any more and the experiment cannot be restarted. Its results stay available.',
        ok: 'Stop experiment',
      });
      if (!ok) return;
    }
    button.disabled = true;
    try {
      const res = await experiments.put(config.key, withStatus(config, env, status));
      toast(`${config.key} is now ${status}${where}`, 'success');
      onChanged(res.experiment);
    } catch (e) {
      toast(e instanceof ApiError ? `${e.explanation}${e.code ? ` (${e.code})` : ''}` : String(e), 'error', 9000);
      button.disabled = false;
    }
  };
  const btn = (label, status, cls) => h('button', {
    type: 'button', class: `btn ${cls}${small ? ' small' : ''}`, 'data-action': status,
    onclick: (e) => go(status, e.currentTarget),
  }, label);
  const buttons = {
    draft: [btn('Start', 'running', 'primary')],
    running: [btn('Pause', 'paused', 'ghost'), btn('Stop', 'stopped', 'danger')],
    paused: [btn('Resume', 'running', 'primary'), btn('Stop', 'stopped', 'danger')],
    stopped: [h('span', { class: 'muted small' }, 'stopped: final')],
  }[current] || [];
  return h('div', { class: 'status-actions', 'data-edit': true }, buttons);
}

/** What an audit entry changed, in words. */
function summarize(e) {
  if (!e.before) return 'created';
  if (!e.after) return 'deleted';
  const parts = [];
  if (e.before.status !== e.after.status) parts.push(`status ${e.before.status} → ${e.after.status}`);
  for (const field of ['variants', 'metrics', 'traffic', 'targeting', 'kind', 'salt']) {
    if (JSON.stringify(e.before[field]) !== JSON.stringify(e.after[field])) parts.push(`${field} changed`);
  }
  return parts.join(', ') || 'updated';
}

export function historyList(entries) {
  if (!entries || !entries.length) return h('p', { class: 'muted' }, 'No changes recorded.');
  return h('ol', { class: 'history' }, entries.slice(0, 20).map((e) => h('li', {},
    h('time', { datetime: new Date(e.at_ms).toISOString() }, f.dateTime(e.at_ms)),
    h('span', { class: 'who' }, e.actor), h('span', {}, summarize(e)),
    h('span', { class: 'muted small' }, `v${e.version}`))));
}

function variantChips(c) {
  const vs = c.variants || [];
  const total = vs.reduce((a, v) => a + (v.weight ?? 1), 0) || 1;
  if (!vs.length && c.factors) return h('span', { class: 'muted' }, `${c.factors.length} factors`);
  return h('div', { class: 'chips' }, vs.map((v, i) => h('span', { class: 'chip' },
    h('span', { class: `swatch ${variantCls(i)}`, 'aria-hidden': 'true' }), v.key,
    h('span', { class: 'muted' }, ` ${f.pct((v.weight ?? 1) / total, 0)}`))));
}

/** Mounts the experiments list into `main`. */
export function mountList(main, { live, setTitle, navigate }) {
  const st = { list: null, configs: new Map(), error: null, filter: 'all', query: '', units: new Map(), holdouts: [] };
  // The experiments as the chosen environment runs them: each one's status there.
  const env = currentEnvironment();
  let alive = true;
  let frame = 0;
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
  };

  const ignore = () => {};
  const onResults = (t, data) => {
    const key = keyOfTopic(t);
    const total = data.results.units.reduce((a, u) => a + u[1], 0);
    st.units.set(key, { total, spark: data.series.map((p) => p.units.reduce((a, b) => a + b, 0)) });
    schedule();
  };

  async function load() {
    try {
      const configs = await experiments.list();
      st.configs = new Map(configs.map((c) => [c.key, c]));
      st.list = configs.map((c) => ({ ...c, status: statusIn(c, env) }));
      st.error = null;
      live.follow(st.list.filter((c) => c.status !== 'draft').slice(0, 100).map((c) => topic(c.key, env)), onResults, ignore);
    } catch (e) {
      st.error = e instanceof ApiError ? e.explanation : String(e);
    }
    draw();
    // The holdouts, linked from the header (nothing shown when there are none or they fail).
    api('GET', '/admin/holdouts').then((d) => { st.holdouts = (d && d.holdouts) || []; draw(); }).catch(() => {});
  }

  /** The header's links to each holdout's readout, or nothing without holdouts. */
  function holdoutLinks() {
    if (!st.holdouts.length) return null;
    return h('nav', { class: 'holdout-links', id: 'holdout-links', 'aria-label': 'Holdouts' },
      h('span', { class: 'muted' }, 'Holdouts'),
      [...st.holdouts].sort((a, b) => a.key.localeCompare(b.key)).map((o) => h('a', {
        class: 'chip', href: `#/holdouts/${encodeURIComponent(o.key)}`, 'data-holdout': o.key,
        title: `${f.pct(o.share, 1)} held out of ${o.all ? 'every experiment' : (o.experiments || []).join(', ') || 'no experiment'}`,
      }, o.key)));
  }

  function row(c) {
    const u = st.units.get(c.key);
    const link = `#/experiments/${encodeURIComponent(c.key)}`;
    return h('tr', { 'data-key': c.key, 'data-experiment': c.key },
      h('th', { scope: 'row' }, h('a', { href: link, class: 'exp-link' }, c.key),
        h('div', { class: 'muted small' }, `${(c.metrics || []).length === 1 ? '1 metric' : `${(c.metrics || []).length || 'all'} metrics`}${c.targeting ? ' · targeted' : ''}`)),
      h('td', {}, h('span', { class: 'badge kind' }, c.kind || 'ab')),
      h('td', {}, statusBadge(c.status)),
      h('td', {}, variantChips(c)),
      h('td', { class: 'num' }, f.pct(c.traffic ?? 1, 0)),
      h('td', { class: 'num units-cell', 'data-col': 'units' },
        c.status === 'draft' ? h('span', { class: 'muted' }, '—')
          : u ? [h('span', { class: 'units' }, f.int(u.total)), sparkline(u.spark, { label: `Exposed units over time: ${u.total}` })]
            : h('span', { class: 'muted' }, '…')),
      h('td', { class: 'row-actions' },
        h('a', { class: 'btn ghost small', href: link }, 'Results'),
        h('a', { class: 'btn ghost small', href: `${link}/edit`, 'data-edit': true }, 'Edit'),
        statusActions(st.configs.get(c.key) || c, () => load(), { small: true, env })));
  }

  function draw() {
    if (!alive) return;
    const list = st.list || [];
    const counts = Object.fromEntries(STATUSES.map((s) => [s, list.filter((c) => c.status === s).length]));
    const q = st.query.trim().toLowerCase();
    const shown = list
      .filter((c) => st.filter === 'all' || c.status === st.filter)
      .filter((c) => !q || c.key.toLowerCase().includes(q))
      .sort((a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status) || a.key.localeCompare(b.key));
    render(main, h('div', { class: 'page list-page' },
      h('header', { class: 'page-head' },
        h('div', {}, h('h1', {}, 'Experiments'), holdoutLinks()),
        h('div', { class: 'actions' },
          h('a', { class: 'btn primary', href: '#/experiments/new', id: 'new-experiment', 'data-edit': true }, '+ New experiment'))),
      h('div', { class: 'toolbar' },
        h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Filter by status' },
          [['all', `All ${list.length}`], ...STATUSES.map((s) => [s, `${s[0].toUpperCase()}${s.slice(1)} ${counts[s]}`])].map(([v, label]) =>
            h('button', {
              type: 'button', role: 'radio', 'aria-checked': st.filter === v ? 'true' : 'false', class: st.filter === v ? 'on' : '',
              'data-filter': v, onclick: () => { st.filter = v; draw(); },
            }, label))),
        h('input', {
          type: 'search', class: 'search', placeholder: 'Search by key', 'aria-label': 'Search experiments by key',
          value: st.query, oninput: (e) => { st.query = e.target.value; draw(); },
        })),
      st.error ? h('div', { class: 'banner critical', role: 'alert' }, st.error) : null,
      st.list === null && !st.error ? h('div', { class: 'card loading' }, 'Loading experiments…') : null,
      st.list && list.length === 0 ? h('div', { class: 'card empty-state' },
        h('h2', {}, 'No experiments yet'),
        h('p', { class: 'muted' }, 'Create an experiment, start it, and watch its results arrive here live.'),
        h('button', { type: 'button', class: 'btn primary', 'data-edit': true, onclick: () => navigate('#/experiments/new') }, 'Create an experiment')) : null,
      list.length ? h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' },
        h('table', { class: 'list-table', id: 'experiments-table' },
          h('caption', { class: 'sr-only' }, 'Experiments'),
          h('thead', {}, h('tr', {},
            ['Experiment', 'Kind', 'Status', 'Variants', 'Traffic', 'Exposed units', ''].map((t, i) =>
              h('th', { scope: 'col', class: i === 4 || i === 5 ? 'num' : '' }, t)))),
          h('tbody', {}, shown.length ? shown.map(row)
            : h('tr', {}, h('td', { colspan: 7, class: 'muted center' }, 'No experiment matches.')))))) : null));
  }

  setTitle('Experiments');
  draw();
  load();
  const refresh = setInterval(() => { if (document.visibilityState === 'visible') load(); }, 30000);
  return {
    unmount() {
      alive = false;
      clearInterval(refresh);
      if (frame) cancelAnimationFrame(frame);
      live.unfollow();
    },
  };
}
