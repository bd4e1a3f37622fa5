// The Metrics section of the experiment form: one row per entry of the experiment's
// `metrics`, in order (the first non-guardrail one is the primary metric). A row is either
// inline (an event measured as a conversion or a mean) or a reference to a catalogue metric
// (`{"metric": KEY}`, with the experiment's own goal and guardrail role), added with the
// picker below the table.

import { h } from './dom.js';
import * as f from './format.js';

const INLINE_KINDS = [['conversion', 'Conversion rate'], ['mean', 'Mean per unit']];

/** What a catalogue metric is, in a few words: "ratio · revenue / orders · currency EUR". */
export function describeMetric(m) {
  if (!m) return 'not in the catalogue';
  const parts = [m.kind === 'quantile' ? `${f.quantileName(m.quantile)} quantile` : m.kind];
  if (m.kind === 'ratio') parts.push(`${m.numerator || '?'} / ${m.denominator || '?'}`);
  else if (m.kind === 'funnel') parts.push((m.steps || []).map((s) => s.event).join(' → '));
  else if (m.event) parts.push(`${m.event}${m.filter ? ' (filtered)' : ''}`);
  if (m.format && m.format !== 'number') parts.push(m.format === 'currency' ? `${m.currency || ''}`.trim() || 'currency' : m.format);
  return parts.join(' · ');
}

function goalSelect(value, withDefault) {
  return h('select', { 'data-field': 'goal', 'aria-label': 'Goal' },
    withDefault ? h('option', { value: '', selected: !value, title: 'The catalogue metric’s own goal' }, 'Default') : null,
    h('option', { value: 'increase', selected: value === 'increase' || (!withDefault && !value) }, '↑ Increase'),
    h('option', { value: 'decrease', selected: value === 'decrease' }, '↓ Decrease'));
}

function removeButton(tr, after) {
  return h('button', {
    type: 'button', class: 'btn ghost small icon', 'aria-label': 'Remove metric',
    onclick: () => { tr.remove(); after(); },
  }, '✕');
}

/**
 * The section for `exp`'s metrics, with the `catalogue` (definitions) to pick from. Answers
 * {section, collect()}: collect gives the `metrics` array the rows describe.
 */
export function metricsSection(exp, catalogue) {
  const byKey = new Map(catalogue.map((m) => [m.key, m]));
  const rows = h('tbody', { id: 'metric-rows' });

  const renumber = () => {
    [...rows.children].forEach((tr, i) => {
      for (const el of tr.querySelectorAll('[data-field]')) el.dataset.path = `metrics[${i}].${el.dataset.field}`;
    });
  };

  const addInline = (m = { key: '', kind: 'conversion', goal: 'increase' }) => {
    const kinds = INLINE_KINDS.some(([k]) => k === m.kind) ? INLINE_KINDS : [...INLINE_KINDS, [m.kind, m.kind]];
    const tr = h('tr', { 'data-source': 'inline' });
    tr.__entry = m;
    tr.append(
      h('td', {}, h('input', { 'data-field': 'key', value: m.key, 'aria-label': 'Event name', placeholder: 'purchase', spellcheck: 'false' })),
      h('td', {}, h('select', { 'data-field': 'kind', 'aria-label': 'Metric kind' },
        kinds.map(([k, label]) => h('option', { value: k, selected: m.kind === k }, label)))),
      h('td', {}, goalSelect(m.goal || 'increase', false)),
      h('td', { class: 'center' }, h('label', { class: 'check' },
        h('input', { type: 'checkbox', 'data-field': 'guardrail', checked: Boolean(m.guardrail) }), ' guardrail')),
      h('td', {}, removeButton(tr, renumber)));
    rows.appendChild(tr);
    renumber();
    return tr;
  };

  const addReference = (ref) => {
    const tr = h('tr', { 'data-source': 'catalogue', 'data-metric-key': ref.metric });
    tr.__entry = ref;
    const about = h('span', { class: 'muted small about' });
    const known = byKey.has(ref.metric) ? catalogue : [{ key: ref.metric }, ...catalogue];
    const select = h('select', {
      'data-field': 'metric', 'aria-label': 'Catalogue metric',
      onchange: () => { tr.dataset.metricKey = select.value; describe(); },
    }, known.map((m) => h('option', { value: m.key, selected: m.key === ref.metric }, m.name ? `${m.key} (${m.name})` : m.key)));
    const guard = h('input', { type: 'checkbox', 'data-field': 'guardrail', checked: Boolean(ref.guardrail ?? (byKey.get(ref.metric) || {}).guardrail) });
    const describe = () => {
      const def = byKey.get(select.value);
      about.textContent = describeMetric(def);
      const own = tr.querySelector('[data-field=goal] option[value=""]');
      if (own) own.textContent = `Default (${def && def.goal === 'decrease' ? '↓' : '↑'})`;
    };
    tr.append(
      h('td', {}, h('div', { class: 'ref-cell' }, h('span', { class: 'tag catalogue-tag' }, 'catalogue'), select)),
      h('td', {}, about),
      h('td', {}, goalSelect(ref.goal, true)),
      h('td', { class: 'center' }, h('label', { class: 'check' }, guard, ' guardrail')),
      h('td', {}, removeButton(tr, renumber)));
    rows.appendChild(tr);
    describe();
    renumber();
    return tr;
  };

  for (const m of exp.metrics || []) {
    if (m && typeof m.metric === 'string') addReference(m);
    else addInline(m);
  }

  const picker = h('select', { id: 'metric-picker', 'aria-label': 'Catalogue metric to add', disabled: catalogue.length === 0 },
    h('option', { value: '' }, catalogue.length ? 'Choose a catalogue metric…' : 'The catalogue is empty'),
    catalogue.map((m) => h('option', { value: m.key }, `${m.key}${m.name ? ` (${m.name})` : ''} · ${describeMetric(m)}`)));
  const pickGuard = h('input', { type: 'checkbox', id: 'picker-guardrail' });
  const pick = () => {
    if (!picker.value) {
      picker.focus();
      return;
    }
    const ref = { metric: picker.value };
    if (pickGuard.checked) ref.guardrail = true;
    addReference(ref).querySelector('select').focus();
    picker.value = '';
    pickGuard.checked = false;
  };

  const section = h('section', { class: 'card form-section' },
    h('h2', {}, 'Metrics'),
    h('p', { class: 'hint' }, 'Inline metrics are tracked event names: a conversion counts units with the event; a mean averages the event’s value per unit. Catalogue metrics (ratios, quantiles, retention, funnels, filtered or capped metrics) are defined once under ',
      h('a', { href: '#/metrics' }, 'Metrics'), ' and picked here. Guardrails are watched for harm. With no metric, every tracked event is shown both ways.'),
    h('table', { class: 'form-table', id: 'metrics-table' },
      h('colgroup', {}, ['c-event', 'c-kind', 'c-goal', 'c-guard', 'c-x'].map((c) => h('col', { class: c }))),
      h('thead', {}, h('tr', {}, h('th', {}, 'Event or metric'), h('th', {}, 'Kind'), h('th', {}, 'Goal'), h('th', {}, 'Guardrail'), h('th', {}))),
      rows),
    h('div', { class: 'metric-adders' },
      h('button', { type: 'button', class: 'btn ghost small', 'data-path': 'metrics', id: 'add-metric', onclick: () => addInline().querySelector('input').focus() }, '+ Add event metric'),
      h('div', { class: 'picker', role: 'group', 'aria-label': 'Add a catalogue metric' },
        picker,
        h('label', { class: 'check' }, pickGuard, ' guardrail'),
        h('button', { type: 'button', class: 'btn small', id: 'add-catalogue-metric', disabled: catalogue.length === 0, onclick: pick }, '+ Add from catalogue'))));

  const collect = () => [...rows.children].map((tr) => {
    const orig = tr.__entry || {};
    const guardrail = tr.querySelector('[data-field=guardrail]').checked;
    const goal = tr.querySelector('[data-field=goal]').value;
    if (tr.dataset.source === 'catalogue') {
      const key = tr.querySelector('[data-field=metric]').value;
      const ref = { metric: key };
      if (goal) ref.goal = goal;
      const def = byKey.get(key) || {};
      if (guardrail) ref.guardrail = true;
      else if (def.guardrail || orig.guardrail !== undefined) ref.guardrail = false;
      return ref;
    }
    // Fields the row does not edit (an inline definition's filter, window...) are kept.
    const m = { ...orig };
    delete m.guardrail;
    m.key = tr.querySelector('[data-field=key]').value.trim();
    m.kind = tr.querySelector('[data-field=kind]').value;
    m.goal = goal;
    if (guardrail) m.guardrail = true;
    return m;
  });

  return { section, collect };
}
