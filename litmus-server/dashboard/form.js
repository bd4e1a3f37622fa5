// Create and edit an experiment: key, kind, traffic, variants and weights, metrics (inline
// or picked from the catalogue), optional targeting (raw JSON) and advanced fields. The server
// validates; each of its errors is shown next to the field its path names (and listed above
// the form).

import { h, toast, confirmDialog } from './dom.js';
import { experiments, metrics as catalogueApi, ApiError } from './api.js';
import { statusActions, statusBadge } from './list.js';
import { variantCls } from './tables.js';
import { clearErrors, showErrors, problemsOf } from './errors.js';
import { metricsSection } from './form-metrics.js';
import { analysisSection } from './form-analysis.js';
import { numberOr } from './metric-fields.js';
import * as f from './format.js';

/** The fields the form edits; anything else of a stored experiment is kept as it is. */
const EDITED = ['key', 'kind', 'traffic', 'variants', 'metrics', 'targeting', 'salt', 'start_time', 'end_time', 'analysis'];

const DEFAULTS = {
  key: '', kind: 'ab', status: 'draft', traffic: 1,
  variants: [{ key: 'control', weight: 1 }, { key: 'treatment', weight: 1 }],
  metrics: [{ key: '', kind: 'conversion', goal: 'increase' }],
};

/** Mounts the form (a new experiment when `key` is null) into `main`. */
export function mountForm(main, key, { setTitle, navigate }) {
  let original = null;
  let alive = true;
  const isNew = key === null;
  setTitle(isNew ? 'New experiment' : `Edit ${key}`);
  main.replaceChildren(h('div', { class: 'card loading' }, 'Loading…'));

  const start = isNew ? Promise.resolve(structuredClone(DEFAULTS)) : experiments.get(key);
  // Without the catalogue (an older server, a read error) only inline metrics can be added.
  Promise.all([start, catalogueApi.list().catch(() => [])]).then(([exp, catalogue]) => {
    if (!alive) return;
    original = exp;
    build(exp, catalogue);
  }).catch((e) => {
    main.replaceChildren(h('div', { class: 'banner critical', role: 'alert' }, e instanceof ApiError ? e.explanation : String(e)));
  });

  function field(label, input, hint) {
    const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
    input.id = id;
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('div', { class: 'hint' }, hint) : null);
  }

  function build(exp, catalogue) {
    const locked = !isNew && exp.status !== 'draft';
    const variantRows = h('tbody', { id: 'variant-rows' });
    const metricsPart = metricsSection(exp, catalogue);
    const analysisPart = analysisSection(exp);
    const summary = h('div', { id: 'form-errors', class: 'banner critical', role: 'alert', tabindex: '-1', hidden: true });

    const keyInput = h('input', {
      name: 'key', 'data-path': 'key', value: exp.key, required: true, autocomplete: 'off', spellcheck: 'false',
      pattern: '[A-Za-z0-9_.:/\\-]{1,128}', placeholder: 'checkout-button', readonly: !isNew,
    });
    const kindSelect = h('select', { name: 'kind', 'data-path': 'kind', disabled: locked },
      ['ab', 'bandit', ...(exp.kind === 'multivariate' ? ['multivariate'] : [])].map((k) =>
        h('option', { value: k, selected: (exp.kind || 'ab') === k }, k === 'ab' ? 'A/B(/n) test' : k === 'bandit' ? 'Multi-armed bandit' : 'Multivariate')));
    const traffic = h('input', {
      type: 'number', name: 'traffic', 'data-path': 'traffic', min: 0, max: 100, step: 'any',
      value: String(Math.round((exp.traffic ?? 1) * 10000) / 100), class: 'short',
    });
    const slider = h('input', { type: 'range', min: 0, max: 100, step: 1, value: String(Math.round((exp.traffic ?? 1) * 100)), 'aria-label': 'Traffic (slider)' });
    slider.addEventListener('input', () => { traffic.value = slider.value; });
    traffic.addEventListener('input', () => { slider.value = traffic.value; });
    const targeting = h('textarea', {
      name: 'targeting', 'data-path': 'targeting', rows: 4, spellcheck: 'false', class: 'mono',
      placeholder: '{"attribute": "country", "op": "in", "value": ["US", "CA"]}',
    });
    targeting.value = exp.targeting ? JSON.stringify(exp.targeting, null, 2) : '';
    const salt = h('input', { name: 'salt', 'data-path': 'salt', value: exp.salt || '', placeholder: 'the key', readonly: locked });
    const startTime = h('input', { name: 'start_time', 'data-path': 'start_time', value: exp.start_time || '', placeholder: '2027-01-15T09:00:00Z' });
    const endTime = h('input', { name: 'end_time', 'data-path': 'end_time', value: exp.end_time || '', placeholder: 'none' });

    const renumber = () => {
      const weights = [...variantRows.children].map((tr) => Number(tr.querySelector('[data-field=weight]').value) || 0);
      const total = weights.reduce((a, b) => a + Math.max(0, b), 0);
      [...variantRows.children].forEach((tr, i) => {
        tr.querySelector('[data-field=key]').dataset.path = `variants[${i}].key`;
        tr.querySelector('[data-field=weight]').dataset.path = `variants[${i}].weight`;
        tr.querySelector('[data-field=payload]').dataset.path = `variants[${i}].payload`;
        tr.querySelector('.swatch').setAttribute('class', `swatch ${variantCls(i)}`);
        tr.querySelector('.share').textContent = total > 0 ? f.pct(Math.max(0, weights[i]) / total, 1) : f.DASH;
        tr.querySelector('.role').textContent = i === 0 ? 'control' : '';
      });
    };

    const addVariant = (v = { key: '', weight: 1 }) => {
      const removable = !locked || !v.key;
      const tr = h('tr', {},
        h('td', {}, h('span', { class: 'swatch', 'aria-hidden': 'true' })),
        h('td', { class: 'keycell' }, h('input', { 'data-field': 'key', value: v.key, 'aria-label': 'Variant key', placeholder: 'variant key', spellcheck: 'false', readonly: locked && Boolean(v.key) }),
          h('span', { class: 'role tag' })),
        h('td', {}, h('input', { 'data-field': 'weight', type: 'number', min: 0, step: 'any', value: String(v.weight ?? 1), 'aria-label': 'Weight', class: 'short', oninput: renumber })),
        h('td', { class: 'share num muted' }),
        h('td', {}, h('input', {
          'data-field': 'payload', class: 'mono', 'aria-label': 'Payload (JSON, optional)', placeholder: '{"color": "green"}',
          value: v.payload === undefined ? '' : JSON.stringify(v.payload),
        })),
        h('td', {}, removable ? h('button', {
          type: 'button', class: 'btn ghost small icon', 'aria-label': 'Remove variant',
          onclick: () => { tr.remove(); renumber(); },
        }, '✕') : null));
      variantRows.appendChild(tr);
      renumber();
      return tr;
    };

    const form = h('form', { class: 'page form-page', novalidate: true, 'aria-label': isNew ? 'New experiment' : `Edit ${exp.key}` },
      h('header', { class: 'page-head' },
        h('div', {},
          h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / ',
            isNew ? null : h('a', { href: `#/experiments/${encodeURIComponent(exp.key)}` }, exp.key)),
          h('h1', {}, isNew ? 'New experiment' : `Edit ${exp.key}`, ' ', isNew ? null : statusBadge(exp.status))),
        isNew ? null : h('div', { class: 'actions' }, statusActions(exp, () => navigate(`#/experiments/${encodeURIComponent(exp.key)}`)))),
      summary,
      locked ? h('div', { class: 'banner info' }, 'This experiment has started: its kind and salt are fixed and variants cannot be removed (set a weight to 0 instead).') : null,
      h('section', { class: 'card form-section' },
        h('h2', {}, 'Basics'),
        h('div', { class: 'row' },
          field('Key', keyInput, 'Letters, digits and _ - . : /; cannot change later.'),
          field('Kind', kindSelect, 'A bandit shifts traffic to the best arm as data arrive.'),
          h('div', { class: 'field' }, h('label', { for: 'f-traffic' }, 'Traffic (%)'),
            h('div', { class: 'inline-group' }, Object.assign(traffic, { id: 'f-traffic' }), slider),
            h('div', { class: 'hint' }, 'Share of eligible units that enter the experiment.')))),
      h('section', { class: 'card form-section' },
        h('h2', {}, 'Variants'),
        h('p', { class: 'hint' }, 'The first variant is the control. Weights are relative.'),
        h('table', { class: 'form-table', id: 'variants-table' },
          h('colgroup', {}, ['c-swatch', 'c-key', 'c-weight', 'c-share', 'c-payload', 'c-x'].map((c) => h('col', { class: c }))),
          h('thead', {}, h('tr', {}, h('th', {}), h('th', {}, 'Key'), h('th', {}, 'Weight'), h('th', {}, 'Share'), h('th', {}, 'Payload (JSON)'), h('th', {}))),
          variantRows),
        h('button', { type: 'button', class: 'btn ghost small', 'data-path': 'variants', id: 'add-variant', onclick: () => addVariant().querySelector('input').focus() }, '+ Add variant')),
      metricsPart.section,
      h('section', { class: 'card form-section' },
        h('h2', {}, 'Targeting ', h('span', { class: 'muted small' }, 'optional')),
        field('Condition (JSON)', targeting, 'Empty: everyone is eligible. Leaves: {"attribute", "op", "value"}; combine with {"all": [...]}, {"any": [...]}, {"not": ...}.')),
      analysisPart.section,
      h('details', { class: 'card form-section' },
        h('summary', {}, 'Advanced'),
        h('div', { class: 'row' },
          field('Salt', salt, 'Changing it reshuffles every unit.'),
          field('Start time (RFC 3339)', startTime),
          field('End time (RFC 3339)', endTime))),
      h('div', { class: 'form-actions' },
        h('a', { class: 'btn ghost', href: isNew ? '#/experiments' : `#/experiments/${encodeURIComponent(exp.key)}` }, 'Cancel'),
        !isNew && (exp.status === 'draft' || exp.status === 'stopped')
          ? h('button', { type: 'button', class: 'btn danger ghost', id: 'delete', onclick: () => remove(exp) }, 'Delete') : null,
        h('span', { class: 'spacer' }),
        h('button', { type: 'submit', class: 'btn', 'data-submit': 'save', id: 'save' }, isNew ? 'Create draft' : 'Save changes'),
        isNew || exp.status === 'draft'
          ? h('button', { type: 'submit', class: 'btn primary', 'data-submit': 'start', id: 'save-start' }, isNew ? 'Create and start' : 'Save and start') : null));

    (exp.variants || []).forEach((v) => addVariant(v));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const startNow = e.submitter && e.submitter.dataset.submit === 'start';
      clearErrors(form, summary);
      const { body, problems } = collect(exp, { keyInput, kindSelect, traffic, targeting, salt, startTime, endTime, variantRows, metrics: metricsPart.collect, analysis: analysisPart.collect });
      if (startNow) body.status = 'running';
      const shown = { collection: 'experiments', key: body.key, what: 'experiment' };
      // A collapsed section opens when one of its fields shows an error.
      const reveal = () => form.querySelectorAll('details').forEach((d) => {
        if (d.querySelector('[aria-invalid]')) d.open = true;
      });
      if (problems.length) {
        showErrors(form, summary, problems, shown);
        reveal();
        return;
      }
      const buttons = form.querySelectorAll('button[type=submit]');
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const res = await experiments.put(body.key, body);
        toast(`${body.key} ${isNew ? 'created' : 'saved'}${startNow ? ' and started' : ''}`, 'success');
        navigate(`#/experiments/${encodeURIComponent(res.experiment.key)}`);
      } catch (err) {
        showErrors(form, summary, problemsOf(err), shown);
        reveal();
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });

    main.replaceChildren(form);
    if (isNew) keyInput.focus();
  }

  async function remove(exp) {
    const ok = await confirmDialog({ title: `Delete “${exp.key}”?`, text: 'The experiment leaves the config. Its stored events stay.', ok: 'Delete' });
    if (!ok) return;
    try {
      await experiments.remove(exp.key);
      toast(`${exp.key} deleted`, 'success');
      navigate('#/experiments');
    } catch (e) {
      toast(e instanceof ApiError ? e.explanation : String(e), 'error', 9000);
    }
  }

  return {
    unmount() {
      alive = false;
    },
    get original() {
      return original;
    },
  };
}

/** The experiment the form describes, and the problems found before sending it. */
function collect(exp, els) {
  const problems = [];
  const body = {};
  for (const [k, v] of Object.entries(exp)) if (!EDITED.includes(k)) body[k] = v;
  if (!body.status) body.status = 'draft';
  body.key = els.keyInput.value.trim();
  body.kind = els.kindSelect.value;
  const t = numberOr(els.traffic.value);
  if (typeof t === 'number' && (t < 0 || t > 100)) {
    problems.push({ code: 'invalid_value', path: 'traffic', message: `traffic: ${t}% is not a percentage from 0 to 100` });
  }
  body.traffic = typeof t === 'number' ? Math.round(t * 100) / 10000 : t;
  if (body.traffic === undefined) delete body.traffic;
  const json = (text, path) => {
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      problems.push({ code: 'invalid_json', path, message: `not valid JSON: ${e.message}` });
      return undefined;
    }
  };
  body.variants = [...els.variantRows.children].map((tr, i) => {
    const v = { key: tr.querySelector('[data-field=key]').value.trim() };
    const w = numberOr(tr.querySelector('[data-field=weight]').value);
    if (w !== undefined) v.weight = w;
    const payload = json(tr.querySelector('[data-field=payload]').value, `variants[${i}].payload`);
    if (payload !== undefined) v.payload = payload;
    const before = (exp.variants || []).find((o) => o.key === v.key);
    if (before) for (const [k, val] of Object.entries(before)) if (!(k in v) && k !== 'payload') v[k] = val;
    return v;
  });
  body.metrics = els.metrics();
  if (!body.metrics.length) delete body.metrics;
  const analysis = els.analysis();
  if (analysis !== undefined) body.analysis = analysis;
  const targeting = json(els.targeting.value, 'targeting');
  if (targeting !== undefined) body.targeting = targeting;
  for (const [name, el] of [['salt', els.salt], ['start_time', els.startTime], ['end_time', els.endTime]]) {
    if (el.value.trim()) body[name] = el.value.trim();
  }
  return { body, problems };
}
