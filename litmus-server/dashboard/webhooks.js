// Webhooks (#/webhooks, admins of the project; `/admin/webhooks`, scope `webhooks:write`): the
// project's webhooks (URL, events, format, an on/off switch, who made it and when), a form to
// make one (URL, events as checkboxes grouped by kind with "all", JSON or Slack) whose secret
// is shown once with a copy button, and per webhook "Send test", edit, delete (asks first) and
// its delivery log (status, attempts, the last answer, the next attempt; "Retry" on pending and
// failed deliveries), read again every few seconds while it is open. The server checks every
// change; a 422 is shown at the field its path names (`url`, `events[i]`).

import { h, render, toast, confirmDialog } from './dom.js';
import { webhooks, project, auth, ApiError } from './api.js';
import { currentRole } from './roles.js';
import * as f from './format.js';

/** How often an open delivery log is read again. */
const REFRESH_MS = 3000;
/** How many deliveries a log shows. */
const LOG_LIMIT = 50;

const explain = (e) => (e instanceof ApiError ? e.explanation : String(e));

/** The format's name for people. */
const FORMATS = { json: 'JSON', slack: 'Slack' };

/** The event types grouped by kind (the part before the dot), in the API's order. */
function byKind(types) {
  const groups = new Map();
  for (const t of types) {
    const kind = t.split('.')[0];
    if (!groups.has(kind)) groups.set(kind, []);
    groups.get(kind).push(t);
  }
  return [...groups];
}

/** A subscription pattern in words. */
export function patternLabel(p) {
  if (p === '*') return 'all events';
  return p.endsWith('.*') ? `all ${p.slice(0, -2)} events` : p;
}

/** "in 12 s", or "due now" once the time has come. */
function until(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return f.DASH;
  const d = ms - now;
  return d < 1000 ? 'due now' : `in ${f.duration(d)}`;
}

/** A server error as {path, message}: the message without the path it starts with. */
function problemOf(e) {
  const path = e instanceof ApiError ? e.path || '' : '';
  let message = explain(e);
  if (path && message.startsWith(`${path}: `)) message = message.slice(path.length + 2);
  return { path, message, code: e instanceof ApiError ? e.code : 'error' };
}

/** The error shown at one field, when `problem` names it (`url`; `events` or `events[i]`). */
function errorAt(problem, field) {
  if (!problem) return null;
  const hit = field === 'events' ? /^events(\[\d+\])?$/.test(problem.path) : problem.path === field;
  return hit ? h('div', { class: 'field-error', 'data-error-path': problem.path, role: 'alert' }, problem.message) : null;
}

/**
 * The events checkboxes: "all events" (`*`), then per kind "all <kind> events" (`kind.*`) and
 * each type; a type covered by a broader pattern shows checked and disabled. `sel` is the set
 * of patterns; `onChange` gets the next one.
 */
function eventsPicker(prefix, sel, types, onChange, problem) {
  const all = sel.has('*');
  const toggle = (pattern, on) => {
    const next = new Set(sel);
    if (pattern === '*') {
      next.clear();
    } else if (pattern.endsWith('.*')) {
      const kind = pattern.slice(0, -2);
      for (const p of [...next]) if (p.split('.')[0] === kind) next.delete(p);
    }
    if (on) next.add(pattern);
    else next.delete(pattern);
    onChange(next);
  };
  const box = (pattern, label, checked, disabled) => h('label', { class: 'check' },
    h('input', {
      type: 'checkbox', 'data-event': pattern, checked, disabled,
      onchange: (e) => toggle(pattern, e.target.checked),
    }), ' ', label);
  const error = errorAt(problem, 'events');
  return h('fieldset', { class: 'group events-picker', id: `${prefix}-events`, 'data-path': 'events', 'aria-invalid': error ? 'true' : null },
    h('legend', {}, 'Events'),
    box('*', h('span', {}, 'All events', h('span', { class: 'muted small' }, ' (and types added later)')), all, false),
    h('div', { class: 'event-kinds' }, byKind(types).map(([kind, names]) => {
      const kindAll = all || sel.has(`${kind}.*`);
      return h('div', { class: 'event-kind', 'data-kind': kind },
        h('div', { class: 'event-kind-head' }, box(`${kind}.*`, h('strong', {}, `all ${kind}`), kindAll, all)),
        names.map((n) => box(n, n.slice(kind.length + 1), kindAll || sel.has(n), kindAll)));
    })),
    error);
}

/** Mounts the webhooks page into `main`. */
export function mountWebhooks(main, { setTitle }) {
  setTitle('Webhooks');
  if (!auth.key && currentRole() !== 'admin') {
    main.replaceChildren(h('div', { class: 'page webhooks-page' },
      h('header', { class: 'page-head' }, h('h1', {}, 'Webhooks')),
      h('div', { class: 'banner info', id: 'webhooks-denied', role: 'note' },
        `Only admins of the project “${project.key}” manage its webhooks. Your role there is ${currentRole()}.`)));
    return { unmount() {} };
  }

  let alive = true;
  const blank = () => ({ url: '', sel: new Set(['*']), format: 'json' });
  const st = {
    hooks: null, types: [], error: null,
    form: blank(), formProblem: null, busy: false,
    secret: null,
    open: new Set(), logs: new Map(),
    editing: null, edit: null, editProblem: null,
    rowError: null, pending: new Set(),
  };

  async function load() {
    try {
      const d = await webhooks.list();
      st.hooks = d.webhooks || [];
      st.types = d.events || [];
      st.error = null;
    } catch (e) {
      st.error = explain(e);
    }
    draw();
  }

  /** Reads webhook `id`'s delivery log again (a webhook deleted meanwhile leaves the list). */
  async function loadLog(id) {
    const log = st.logs.get(id) || { list: null, error: null };
    try {
      log.list = await webhooks.deliveries(id, LOG_LIMIT);
      log.error = null;
      log.at = Date.now();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        st.open.delete(id);
        st.logs.delete(id);
        if (st.editing === id) st.editing = null;
        await load();
        return;
      }
      log.error = explain(e);
    }
    st.logs.set(id, log);
    draw();
  }

  const timer = setInterval(() => {
    if (!alive || document.hidden) return;
    for (const id of st.open) loadLog(id);
    if (!st.open.size) draw();
  }, REFRESH_MS);

  const replace = (w) => {
    st.hooks = st.hooks.map((x) => (x.id === w.id ? w : x));
  };

  async function create() {
    const body = { url: st.form.url.trim(), events: [...st.form.sel], format: st.form.format };
    st.busy = true;
    st.formProblem = null;
    draw();
    try {
      const made = await webhooks.create(body);
      st.secret = { id: made.webhook.id, url: made.webhook.url, secret: made.secret };
      st.form = blank();
      toast(`Webhook to ${made.webhook.url} made`, 'success');
      await load();
      const input = document.getElementById('webhook-secret');
      if (input) {
        input.focus();
        input.select();
      }
    } catch (e) {
      st.formProblem = problemOf(e);
    }
    st.busy = false;
    draw();
  }

  async function copySecret() {
    const input = document.getElementById('webhook-secret');
    try {
      await navigator.clipboard.writeText(st.secret.secret);
      toast('Secret copied', 'success');
    } catch {
      // No clipboard permission: the selected text, copied the old way.
      input.focus();
      input.select();
      const ok = document.execCommand && document.execCommand('copy');
      toast(ok ? 'Secret copied' : 'Press Ctrl+C (⌘C) to copy the selected secret', ok ? 'success' : 'info');
    }
  }

  /** Runs a change of webhook `w`; a refusal is shown above the table. */
  async function act(w, fn) {
    st.rowError = null;
    st.pending.add(w.id);
    draw();
    try {
      await fn();
    } catch (e) {
      st.rowError = `${w.url}: ${explain(e)}`;
    }
    st.pending.delete(w.id);
    draw();
  }

  const flip = (w) => act(w, async () => {
    const res = await webhooks.update(w.id, { enabled: !w.enabled });
    replace(res.webhook);
    toast(`Webhook to ${w.url} ${res.webhook.enabled ? 'on' : 'off'}`, 'success');
  });

  const sendTest = (w) => act(w, async () => {
    await webhooks.test(w.id);
    toast('Test event queued: it is sent within a few seconds', 'success');
    st.open.add(w.id);
    await loadLog(w.id);
  });

  const retry = (w, d) => act(w, async () => {
    await webhooks.retry(w.id, d.id);
    toast('The delivery is due again now', 'success');
    await loadLog(w.id);
  });

  async function remove(w) {
    const ok = await confirmDialog({
      title: `Delete the webhook to ${w.url}?`,
      text: 'It receives nothing more, and its delivery log is deleted with it.',
      ok: 'Delete',
    });
    if (!ok) return;
    await act(w, async () => {
      await webhooks.remove(w.id);
      toast(`Webhook to ${w.url} deleted`, 'success');
      st.open.delete(w.id);
      st.logs.delete(w.id);
      if (st.editing === w.id) st.editing = null;
      if (st.secret && st.secret.id === w.id) st.secret = null;
      await load();
    });
  }

  function startEdit(w) {
    st.editing = w.id;
    st.edit = { url: w.url, sel: new Set(w.events), format: w.format };
    st.editProblem = null;
    draw();
    const input = document.getElementById('wh-edit-url');
    if (input) input.focus();
  }

  async function saveEdit(w) {
    const patch = { url: st.edit.url.trim(), events: [...st.edit.sel], format: st.edit.format };
    st.editProblem = null;
    st.pending.add(w.id);
    draw();
    try {
      const res = await webhooks.update(w.id, patch);
      replace(res.webhook);
      st.editing = null;
      toast(`Webhook to ${res.webhook.url} saved`, 'success');
    } catch (e) {
      st.editProblem = problemOf(e);
    }
    st.pending.delete(w.id);
    draw();
  }

  const toggleLog = (w) => {
    if (st.open.has(w.id)) {
      st.open.delete(w.id);
      draw();
    } else {
      st.open.add(w.id);
      loadLog(w.id);
    }
  };

  /** The fields of the new-webhook form (`prefix` wh) or of an edit (`prefix` wh-edit). */
  function fields(prefix, model, problem) {
    const urlError = errorAt(problem, 'url');
    const other = problem && !/^(url|events(\[\d+\])?)$/.test(problem.path)
      ? h('div', { class: 'field-error', id: `${prefix}-error`, role: 'alert' }, problem.message) : null;
    return [
      h('div', { class: 'row' },
        h('div', { class: 'field url-field' }, h('label', { for: `${prefix}-url` }, 'URL'),
          h('input', {
            id: `${prefix}-url`, type: 'url', class: 'mono', 'data-path': 'url', placeholder: 'https://hooks.example.com/litmus', autocomplete: 'off', spellcheck: 'false',
            value: model.url, 'aria-invalid': urlError ? 'true' : null, oninput: (e) => { model.url = e.target.value; },
          }), urlError),
        h('div', { class: 'field format-field' }, h('label', { for: `${prefix}-format` }, 'Format'),
          h('select', { id: `${prefix}-format`, onchange: (e) => { model.format = e.target.value; draw(); } },
            h('option', { value: 'json', selected: model.format === 'json' }, 'JSON (the event, signed)'),
            h('option', { value: 'slack', selected: model.format === 'slack' }, 'Slack message')),
          h('p', { class: 'hint' }, model.format === 'slack'
            ? 'The URL is a Slack incoming webhook (https://hooks.slack.com/…): each event is a sentence with a link.'
            : 'Each event is POSTed as JSON, signed with the secret in Litmus-Signature.'))),
      eventsPicker(prefix, model.sel, st.types, (next) => { model.sel = next; draw(); }, problem),
      other,
    ];
  }

  function secretPanel() {
    const s = st.secret;
    if (!s) return null;
    return h('section', { class: 'card link-panel secret-panel', id: 'new-secret', 'data-key': `secret-${s.id}`, 'data-webhook': s.id, role: 'status' },
      h('h2', {}, `Signing secret of the webhook to ${s.url}`),
      h('p', { class: 'banner warning', id: 'secret-warning' }, 'Copy it now and keep it where your endpoint verifies deliveries: Litmus will not show it again.'),
      h('div', { class: 'link-row' },
        h('input', { id: 'webhook-secret', class: 'mono', readonly: true, value: s.secret, 'aria-label': 'The signing secret', spellcheck: 'false' }),
        h('button', { type: 'button', class: 'btn primary', id: 'copy-secret', onclick: copySecret }, 'Copy'),
        h('button', { type: 'button', class: 'btn ghost', id: 'dismiss-secret', onclick: () => { st.secret = null; draw(); } }, 'Done')));
  }

  function answerCell(d) {
    if (d.last_status === null && !d.last_error) return h('span', { class: 'muted' }, f.DASH);
    const own = d.last_error && d.last_error !== `answered ${d.last_status}` ? d.last_error : null;
    return [
      d.last_status !== null ? h('code', { class: 'http-status', 'data-http': String(d.last_status) }, `HTTP ${d.last_status}`) : null,
      own ? h('span', { class: 'small delivery-error' }, d.last_status !== null ? ` ${own}` : own) : null,
    ];
  }

  function deliveryRow(w, d) {
    const time = (ms) => h('time', { datetime: new Date(ms).toISOString(), title: f.dateTime(ms) }, f.clock(ms));
    return h('tr', { 'data-key': d.id, 'data-delivery': d.id, 'data-event-id': d.event_id, 'data-event-type': d.event_type, 'data-status': d.status },
      h('td', { 'data-col': 'type' }, h('code', {}, d.event_type)),
      h('td', { 'data-col': 'event', class: 'mono small clip', title: d.event_id }, d.event_id),
      h('td', { 'data-col': 'status' }, h('span', { class: `badge delivery status-${d.status}`, 'data-status': d.status }, d.status)),
      h('td', { 'data-col': 'attempts', class: 'num' }, String(d.attempts)),
      h('td', { 'data-col': 'answer' }, answerCell(d)),
      h('td', { 'data-col': 'next' }, d.status === 'pending' && d.next_attempt_ms !== null
        ? h('span', { title: f.dateTime(d.next_attempt_ms) }, until(d.next_attempt_ms)) : h('span', { class: 'muted' }, f.DASH)),
      h('td', { 'data-col': 'delivered' }, d.delivered_ms ? time(d.delivered_ms) : h('span', { class: 'muted' }, f.DASH)),
      h('td', { 'data-col': 'retry' }, d.status === 'pending' || d.status === 'failed'
        ? h('button', { type: 'button', class: 'btn small', 'data-retry': d.id, 'aria-label': `Retry ${d.event_type} ${d.event_id}`, disabled: st.pending.has(w.id), onclick: () => retry(w, d) }, 'Retry')
        : null));
  }

  function deliveryLog(w) {
    const log = st.logs.get(w.id) || { list: null, error: null };
    return h('div', { class: 'delivery-log', 'data-log': w.id },
      h('div', { class: 'card-head' },
        h('h3', {}, 'Delivery log'),
        h('span', { class: 'muted small' }, `newest first, read again every ${Math.round(REFRESH_MS / 1000)} s`,
          log.at ? ` · last read ${f.clock(log.at)}` : '')),
      log.error ? h('div', { class: 'field-error', role: 'alert', 'data-log-error': w.id }, log.error) : null,
      log.list === null && !log.error ? h('p', { class: 'loading' }, 'Loading…') : null,
      log.list && !log.list.length ? h('p', { class: 'muted', 'data-empty-log': w.id }, 'No deliveries yet. “Send test” sends one.') : null,
      log.list && log.list.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table deliveries', id: `log-${w.id}` },
        h('thead', {}, h('tr', {}, ['Event', 'Event id', 'Status', 'Attempts', 'Last answer', 'Next attempt', 'Delivered', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, log.list.map((d) => deliveryRow(w, d))))) : null);
  }

  function editForm(w) {
    return h('form', {
      class: 'webhook-edit', id: 'webhook-edit', 'data-webhook': w.id, 'aria-label': `Edit the webhook to ${w.url}`, novalidate: true,
      onsubmit: (e) => { e.preventDefault(); saveEdit(w); },
    },
    h('h3', {}, 'Edit'),
    fields('wh-edit', st.edit, st.editProblem),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn primary', id: 'save-webhook', disabled: st.pending.has(w.id) }, 'Save'),
      h('button', { type: 'button', class: 'btn ghost', id: 'cancel-edit', onclick: () => { st.editing = null; draw(); } }, 'Cancel')));
  }

  function rows(w) {
    const on = w.enabled;
    const busy = st.pending.has(w.id);
    const open = st.open.has(w.id);
    const out = [h('tr', { 'data-key': w.id, 'data-webhook': w.id, 'data-url': w.url, 'data-format': w.format, 'data-enabled': String(on) },
      h('th', { scope: 'row', class: 'webhook-url' }, h('code', {}, w.url)),
      h('td', { 'data-col': 'events' }, h('span', { class: 'chips' }, w.events.map((p) => h('span', { class: 'chip', 'data-pattern': p }, patternLabel(p))))),
      h('td', { 'data-col': 'format' }, h('span', { class: `badge format-${w.format}` }, FORMATS[w.format] || w.format)),
      h('td', { 'data-col': 'enabled' }, h('button', {
        type: 'button', role: 'switch', class: `switch ${on ? 'on' : 'off'}`, 'aria-checked': on ? 'true' : 'false',
        'aria-label': `The webhook to ${w.url} is ${on ? 'on' : 'off'}`, 'data-toggle': w.id, disabled: busy, onclick: () => flip(w),
      }, h('span', { class: 'knob', 'aria-hidden': 'true' }), on ? 'On' : 'Off')),
      h('td', { 'data-col': 'created' }, h('div', {}, w.created_by), h('div', { class: 'muted small' }, f.dateTime(w.created_ms))),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', class: `btn small${open ? ' active' : ''}`, 'data-log-toggle': w.id, 'aria-expanded': open ? 'true' : 'false', onclick: () => toggleLog(w) }, 'Deliveries'),
        h('button', { type: 'button', class: 'btn small', 'data-test': w.id, disabled: busy, onclick: () => sendTest(w) }, 'Send test'),
        h('button', { type: 'button', class: 'btn small ghost', 'data-edit-webhook': w.id, onclick: () => startEdit(w) }, 'Edit'),
        h('button', { type: 'button', class: 'btn small ghost danger', 'data-delete': w.id, 'aria-label': `Delete the webhook to ${w.url}`, disabled: busy, onclick: () => remove(w) }, 'Delete'))))];
    if (open || st.editing === w.id) {
      out.push(h('tr', { class: 'webhook-detail', 'data-key': `detail-${w.id}`, 'data-detail': w.id },
        h('td', { colspan: '6' }, st.editing === w.id ? editForm(w) : null, open ? deliveryLog(w) : null)));
    }
    return out;
  }

  function newForm() {
    return h('form', {
      id: 'webhook-form', class: 'webhook-form', 'aria-label': 'New webhook', novalidate: true,
      onsubmit: (e) => { e.preventDefault(); create(); },
    },
    fields('wh', st.form, st.formProblem),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn primary', id: 'create-webhook', disabled: st.busy || st.hooks === null }, 'Create webhook')));
  }

  function draw() {
    if (!alive) return;
    const list = st.hooks || [];
    render(main, h('div', { class: 'page webhooks-page' },
      h('header', { class: 'page-head' },
        h('div', {}, h('h1', {}, 'Webhooks'),
          h('p', { class: 'muted small lede' }, `Signed HTTP POSTs to your endpoints when experiments, flags and insights of the project “${project.key}” change. See docs/webhooks.md to verify them.`))),
      st.error ? h('div', { class: 'banner critical', role: 'alert', id: 'webhooks-error' }, st.error) : null,
      secretPanel(),
      h('section', { class: 'card', id: 'webhooks' },
        h('h2', {}, 'Webhooks'),
        st.rowError ? h('div', { class: 'banner critical', id: 'webhook-row-error', role: 'alert' }, st.rowError) : null,
        st.hooks === null && !st.error ? h('p', { class: 'loading' }, 'Loading…') : null,
        st.hooks && !list.length ? h('p', { class: 'muted', id: 'no-webhooks' }, 'No webhooks yet: make one below.') : null,
        list.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'webhooks-table' },
          h('thead', {}, h('tr', {}, ['URL', 'Events', 'Format', 'On', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, list.map(rows)))) : null),
      h('section', { class: 'card', id: 'new-webhook' },
        h('h2', {}, 'New webhook'),
        newForm())));
  }

  draw();
  load();
  return {
    unmount() {
      alive = false;
      clearInterval(timer);
    },
  };
}
