// Create and edit a catalogue metric (#/metrics/new, #/metrics/<key>): key, name,
// description and kind; the fields the kind takes (metric-fields.js); format, currency, goal
// and guardrail. The server validates (`PUT /admin/metrics/{key}`); each of its errors is
// shown next to the field its path names (`metrics[revenue].cap.absolute` at the cap's value)
// and listed above the form. Delete asks first; a metric in use stays, with the reasons. A
// viewer sees the definition read-only (roles.js).

import { h, toast, confirmDialog } from './dom.js';
import { metrics, ApiError } from './api.js';
import { clearErrors, showErrors, problemsOf } from './errors.js';
import { KIND_HINTS, field, kindFields } from './metric-fields.js';
import { lockForm } from './roles.js';

const KINDS = [
  ['conversion', 'Conversion rate'], ['mean', 'Mean per unit'], ['ratio', 'Ratio of two metrics'],
  ['quantile', 'Quantile (p90…)'], ['retention', 'Retention'], ['funnel', 'Funnel'],
];
const FORMATS = [['number', 'Number'], ['percent', 'Percent'], ['currency', 'Currency'], ['duration', 'Duration (ms)']];
const DEFAULT = { key: '', kind: 'conversion', goal: 'increase' };

/** Mounts the editor (a new metric when `key` is null) into `main`. */
export function mountMetricForm(main, key, { setTitle, navigate }) {
  let alive = true;
  const isNew = key === null;
  setTitle(isNew ? 'New metric' : `Metric ${key}`);
  main.replaceChildren(h('div', { class: 'card loading' }, 'Loading…'));
  const start = isNew ? Promise.resolve(structuredClone(DEFAULT)) : metrics.get(key);
  Promise.all([start, metrics.list().catch(() => [])]).then(([m, catalogue]) => {
    if (alive) build(m, catalogue);
  }).catch((e) => {
    main.replaceChildren(h('div', { class: 'banner critical', role: 'alert' }, e instanceof ApiError ? e.explanation : String(e)));
  });

  function build(m, catalogue) {
    const summary = h('div', { id: 'metric-errors', class: 'banner critical', role: 'alert', tabindex: '-1', hidden: true });
    const keyInput = h('input', {
      name: 'key', 'data-path': 'key', value: m.key, required: true, autocomplete: 'off', spellcheck: 'false',
      pattern: '[A-Za-z0-9_.:/\\-]{1,128}', placeholder: 'revenue_per_order', readonly: !isNew,
    });
    const name = h('input', { name: 'name', 'data-path': 'name', value: m.name || '', placeholder: 'Revenue per order' });
    const description = h('textarea', { name: 'description', 'data-path': 'description', rows: 2, placeholder: 'What it measures, for people' });
    description.value = m.description || '';
    const kind = h('select', { name: 'kind', 'data-path': 'kind' }, KINDS.map(([v, l]) => h('option', { value: v, selected: m.kind === v }, l)));
    const kindHint = h('div', { class: 'hint', id: 'kind-hint' });
    const format = h('select', { name: 'format', 'data-path': 'format' }, FORMATS.map(([v, l]) => h('option', { value: v, selected: (m.format || 'number') === v }, l)));
    const currency = h('input', {
      name: 'currency', 'data-path': 'currency', value: m.currency || '', class: 'short', placeholder: 'EUR', maxlength: 3, autocomplete: 'off', spellcheck: 'false',
    });
    const currencyField = field('Currency (ISO 4217)', currency, 'Three capital letters: USD, EUR, JPY.');
    const goal = h('select', { name: 'goal', 'data-path': 'goal' },
      h('option', { value: 'increase', selected: m.goal !== 'decrease' }, '↑ Higher is better'),
      h('option', { value: 'decrease', selected: m.goal === 'decrease' }, '↓ Lower is better'));
    const guardrail = h('input', { type: 'checkbox', name: 'guardrail', 'data-path': 'guardrail', id: 'mf-guardrail', checked: Boolean(m.guardrail) });
    const fields = kindFields(m, catalogue);

    const sync = () => {
      fields.show(kind.value);
      kindHint.textContent = KIND_HINTS[kind.value] || '';
      currencyField.hidden = format.value !== 'currency';
      form.dataset.kind = kind.value;
    };
    kind.addEventListener('change', sync);
    format.addEventListener('change', sync);

    const form = h('form', { class: 'page form-page metric-form', novalidate: true, 'aria-label': isNew ? 'New metric' : `Edit metric ${m.key}`, 'data-kind': m.kind },
      h('header', { class: 'page-head' },
        h('div', {},
          h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/metrics' }, 'Metrics'), ' / '),
          h('h1', {}, isNew ? 'New metric' : m.key))),
      summary,
      h('section', { class: 'card form-section' },
        h('h2', {}, 'Definition'),
        h('div', { class: 'row' },
          field('Key', keyInput, 'Letters, digits and _ - . : /; experiments refer to it. Cannot change later.'),
          field('Name', name, 'Optional; shown in results.')),
        h('div', { class: 'row' },
          h('div', { class: 'field' }, h('label', { for: 'mf-kind' }, 'Kind'), Object.assign(kind, { id: 'mf-kind' }), kindHint),
          field('Description', description))),
      h('section', { class: 'card form-section' },
        h('h2', {}, 'What it measures'),
        fields.groups),
      h('section', { class: 'card form-section' },
        h('h2', {}, 'Display and role'),
        h('div', { class: 'row' },
          field('Format', format, 'How values are shown: ratios and quantiles are numbers unless formatted.'),
          currencyField,
          field('Goal', goal),
          h('div', { class: 'field' }, h('span', { class: 'label' }, 'Role'),
            h('label', { class: 'check', for: 'mf-guardrail' }, guardrail, ' Guardrail: watched for harm, not a decision metric')))),
      h('div', { class: 'form-actions' },
        h('a', { class: 'btn ghost', href: '#/metrics', 'data-edit': true }, 'Cancel'),
        isNew ? null : h('button', { type: 'button', class: 'btn danger ghost', id: 'delete-metric', onclick: () => remove(m.key) }, 'Delete'),
        h('span', { class: 'spacer' }),
        h('button', { type: 'submit', class: 'btn primary', id: 'save-metric' }, isNew ? 'Create metric' : 'Save changes')));

    const shown = (k) => ({ collection: 'metrics', key: k, what: 'metric' });

    async function remove(k) {
      const ok = await confirmDialog({ title: `Delete “${k}”?`, text: 'The metric leaves the catalogue. Experiments and ratios that use it must drop it first.', ok: 'Delete' });
      if (!ok) return;
      clearErrors(form, summary);
      try {
        await metrics.remove(k);
        toast(`${k} deleted`, 'success');
        navigate('#/metrics');
      } catch (err) {
        showErrors(form, summary, problemsOf(err), { ...shown(k), failed: 'deleted' });
      }
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form, summary);
      const problems = [];
      const body = { key: keyInput.value.trim(), kind: kind.value, goal: goal.value };
      if (!body.key) problems.push({ code: 'missing_field', path: 'key', message: 'key: a metric needs a key' });
      if (name.value.trim()) body.name = name.value.trim();
      if (description.value.trim()) body.description = description.value.trim();
      fields.collect(body, problems);
      if (format.value !== 'number') body.format = format.value;
      if (format.value === 'currency' && currency.value.trim()) body.currency = currency.value.trim();
      if (guardrail.checked) body.guardrail = true;
      if (problems.length) {
        showErrors(form, summary, problems, shown(body.key));
        return;
      }
      const button = form.querySelector('#save-metric');
      button.disabled = true;
      try {
        const res = await metrics.put(body.key, body);
        toast(`${res.metric.key} ${isNew ? 'created' : 'saved'}`, 'success');
        navigate('#/metrics');
      } catch (err) {
        showErrors(form, summary, problemsOf(err), shown(body.key));
      } finally {
        button.disabled = false;
      }
    });

    sync();
    main.replaceChildren(form);
    lockForm(form);
    if (isNew && !form.dataset.readonly) keyInput.focus();
  }

  return {
    unmount() {
      alive = false;
    },
  };
}
