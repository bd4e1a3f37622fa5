// Feature flags (#/flags): every flag with its type, its switch (flipped in place, after a
// confirmation when switching off), its rules in order, its default and tags; a search box;
// delete asks first. Switches and rules are the environment chosen in the top bar's
// (environment.js), with each flag's last evaluation there and a stale badge (never
// evaluated, unused for 30 days, fully rolled out, off: `GET /admin/flag-usage`), and a
// filter for the stale ones. The server validates every change (`PUT /admin/flags/{key}`).
// A viewer sees each switch's state in words and no control (roles.js).

import { h, render, toast, confirmDialog } from './dom.js';
import { flags, api, ApiError } from './api.js';
import * as f from './format.js';
import { currentEnvironment, stateIn, withState, PRODUCTION } from './environment.js';

/** A value in a few characters: JSON, shortened. */
export function shortValue(v) {
  const text = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** A rule in words: its id, what it does and to whom. */
export function ruleSummary(r) {
  const who = r.condition ? ' if …' : '';
  switch (r.kind) {
    case 'rollout':
      return `${r.id || 'rollout'}: ${r.percentage}%${who} → ${shortValue(r.value)}`;
    case 'experiment':
      return `${r.id || 'experiment'}: experiment ${r.experiment}${who}`;
    case 'prerequisite':
      return `${r.id || 'prerequisite'}: when ${r.flag} is ${shortValue(r.is)}${who} → ${shortValue(r.value)}`;
    default:
      return `${r.id || 'force'}:${who || ' everyone'} → ${shortValue(r.value)}`;
  }
}

/** Mounts the flag list into `main`. */
export function mountFlags(main, { setTitle }) {
  setTitle('Flags');
  const st = { list: null, error: null, query: '', busy: new Set(), usage: new Map(), staleOnly: false };
  const env = currentEnvironment();
  const where = env === PRODUCTION ? '' : ` in ${env}`;
  let alive = true;

  /** Each flag's usage in this environment (the page works without it). */
  async function loadUsage() {
    try {
      const d = await api('GET', `/admin/flag-usage?environment=${encodeURIComponent(env)}`);
      st.usage = new Map((d.flags || []).map((u) => [u.flag, u]));
    } catch {
      st.usage = new Map();
    }
    draw();
  }

  async function load() {
    loadUsage();
    try {
      st.list = await flags.list();
      st.error = null;
    } catch (e) {
      st.error = e instanceof ApiError ? e.explanation : String(e);
    }
    draw();
  }

  async function flip(flag) {
    const state = stateIn(flag, env);
    const on = state.enabled;
    if (on) {
      const ok = await confirmDialog({
        title: `Switch “${flag.key}” off${where}?`,
        text: 'Every unit then gets the default value, whatever the rules say.',
        ok: 'Switch off',
      });
      if (!ok) return;
    }
    st.busy.add(flag.key);
    draw();
    try {
      await flags.put(flag.key, withState(flag, env, { ...state, enabled: !on }));
      toast(`${flag.key} switched ${on ? 'off' : 'on'}${where}`, 'success');
      await load();
    } catch (e) {
      toast(e instanceof ApiError ? e.explanation : String(e), 'error');
    } finally {
      st.busy.delete(flag.key);
      draw();
    }
  }

  async function remove(flag) {
    const ok = await confirmDialog({ title: `Delete “${flag.key}”?`, text: 'SDKs then answer flag_not_found for it and serve their own defaults.', ok: 'Delete' });
    if (!ok) return;
    try {
      await flags.remove(flag.key);
      toast(`${flag.key} deleted`, 'success');
      await load();
    } catch (e) {
      toast(e instanceof ApiError ? e.explanation : String(e), 'error');
    }
  }

  function row(flag) {
    const state = stateIn(flag, env);
    const on = state.enabled;
    const href = `#/flags/${encodeURIComponent(flag.key)}`;
    return h('tr', { 'data-key': flag.key, 'data-flag': flag.key },
      h('td', {}, h('a', { href, class: 'flag-key' }, flag.key),
        flag.description ? h('div', { class: 'muted small' }, flag.description) : null),
      h('td', {}, h('span', { class: 'tag' }, flag.type)),
      h('td', {},
        h('button', {
          type: 'button', role: 'switch', class: `switch ${on ? 'on' : 'off'}`, 'aria-checked': on ? 'true' : 'false',
          'aria-label': `${flag.key} is ${on ? 'on' : 'off'}${where}`, 'data-switch': flag.key, disabled: st.busy.has(flag.key),
          'data-edit': true, onclick: () => flip(flag),
        }, h('span', { class: 'knob', 'aria-hidden': 'true' }), on ? 'On' : 'Off'),
        // What a viewer sees instead of the switch.
        h('span', { class: `flag-state ${on ? 'on' : 'off'}`, 'data-read': true, 'data-state': flag.key }, on ? 'On' : 'Off'),
        state.schedule.length ? h('div', { class: 'muted small' }, `${state.schedule.length} scheduled`) : null),
      h('td', {}, state.rules.length
        ? h('ol', { class: 'rule-list' }, state.rules.map((r) => h('li', {}, ruleSummary(r))))
        : h('span', { class: 'muted' }, 'no rules')),
      h('td', {}, h('code', {}, shortValue(flag.default))),
      h('td', {}, (flag.tags || []).map((t) => h('span', { class: 'tag' }, t))),
      h('td', { class: 'usage-cell', 'data-col': 'usage' }, usageCell(st.usage.get(flag.key))),
      h('td', { class: 'actions' },
        h('a', { class: 'btn small', href, 'data-edit': true }, 'Edit'),
        h('button', { type: 'button', class: 'btn small ghost danger', 'aria-label': `Delete ${flag.key}`, 'data-edit': true, onclick: () => remove(flag) }, 'Delete')));
  }

  /** A flag's last evaluation here and, when stale, a badge saying why. */
  function usageCell(u) {
    if (!u) return h('span', { class: 'muted' }, '…');
    const words = { never_evaluated: 'never evaluated', unused: 'unused 30+ days', fully_rolled_out: 'serves everyone one value', off: 'off' };
    return [
      h('span', { class: 'small', 'data-evaluations': String(u.evaluations) },
        u.last_evaluated_ms === null ? 'never' : `${f.ago(u.last_evaluated_ms)} · ${f.int(u.evaluations)}`),
      u.stale ? [' ', h('span', { class: 'badge stale', 'data-stale': u.reasons.join(' '), title: u.reasons.map((r) => words[r] || r).join(', ') }, 'stale')] : null,
    ];
  }

  function draw() {
    if (!alive) return;
    const q = st.query.trim().toLowerCase();
    const list = (st.list || []).filter((fl) => !st.staleOnly || (st.usage.get(fl.key) || {}).stale).filter((f) => !q || f.key.toLowerCase().includes(q)
      || (f.description || '').toLowerCase().includes(q) || (f.tags || []).some((t) => t.toLowerCase().includes(q)));
    render(main, h('div', { class: 'page flags-page' },
      h('header', { class: 'page-head' },
        h('h1', {}, 'Flags', env === PRODUCTION ? null : [' ', h('span', { class: 'badge env', id: 'flags-env' }, env)]),
        h('div', { class: 'page-actions' },
          h('a', { class: 'btn ghost', href: '#/environments', id: 'environments-link' }, 'Environments'),
          h('input', {
            type: 'search', id: 'flag-search', placeholder: 'Search keys, descriptions, tags', value: st.query, 'aria-label': 'Search flags',
            oninput: (e) => { st.query = e.target.value; draw(); },
          }),
          h('label', { class: 'check small' }, h('input', {
            type: 'checkbox', id: 'stale-filter', checked: st.staleOnly,
            onchange: (e) => { st.staleOnly = e.target.checked; draw(); },
          }), ' Stale only'),
          h('a', { class: 'btn primary', href: '#/flags/new', id: 'new-flag', 'data-edit': true }, 'New flag'))),
      st.error ? h('div', { class: 'banner critical', role: 'alert' }, st.error) : null,
      st.list === null && !st.error ? h('div', { class: 'card loading' }, 'Loading…') : null,
      st.list && !st.list.length ? h('div', { class: 'card empty' }, 'No flags yet. A flag is a typed value your code reads, decided per unit by ordered rules.') : null,
      list.length ? h('table', { class: 'table flags-table', id: 'flags-table' },
        h('thead', {}, h('tr', {}, ['Flag', 'Type', 'Switch', 'Rules (first match wins)', 'Default', 'Tags', 'Last evaluated', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map(row))) : null));
  }

  load();
  return {
    unmount() {
      alive = false;
    },
  };
}
