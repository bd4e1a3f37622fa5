// The fields of a metric definition that depend on its kind, as groups shown only for the
// kinds that take them (core refuses the others): the event with its filter, property and
// aggregation; the window; the cap; the quantile and its level; a ratio's numerator and
// denominator (picked from the catalogue); a funnel's steps. Every input carries the
// `data-path` of the field it edits, so the server's errors land next to it.

import { h } from './dom.js';

/** What each kind computes, shown under the kind selector. */
export const KIND_HINTS = {
  conversion: 'The share of exposed units with at least one matching event.',
  mean: 'The mean, over exposed units, of each unit’s total: the sum (or count, or maximum) of its events’ values or of a numeric property. Units without events count 0.',
  ratio: 'The sum of one catalogue mean metric over the sum of another, per variant (revenue per order), compared by the delta method.',
  quantile: 'A quantile (0.9 for p90) of the matching events’ values, or of each exposed unit’s value.',
  retention: 'The share of exposed units with a matching event inside a window after their exposure (day 7: from 168 h, for 24 h). Units count once the window has passed.',
  funnel: 'Ordered steps, each counted for units that did the previous one, at or after it. Results show every step; the last one decides.',
};

/** The groups, and the kinds each is shown for. */
const GROUPS = {
  event: ['conversion', 'mean', 'quantile', 'retention'],
  value: ['mean', 'quantile'],
  quantile: ['quantile'],
  cap: ['mean'],
  ratio: ['ratio'],
  steps: ['funnel'],
  window: ['conversion', 'mean', 'quantile', 'retention', 'funnel'],
};

/** A number when the text is one; the text itself otherwise (the server names the problem). */
export function numberOr(text) {
  const t = String(text).trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

let ids = 0;
/** A labelled field around `input` (given an id), with an optional hint. */
export function field(label, input, hint) {
  if (!input.id) input.id = `mf-${(ids += 1)}`;
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('div', { class: 'hint' }, hint) : null);
}

const option = (value, label, selected) => h('option', { value, selected: value === selected }, label);
const json = (v) => (v === undefined || v === null ? '' : JSON.stringify(v));

/**
 * The kind-dependent fields of definition `m`, with `catalogue` to pick a ratio's parts from.
 * Answers {groups (nodes), show(kind), collect(body, problems)}.
 */
export function kindFields(m, catalogue) {
  const input = (name, attrs = {}) => h('input', { name, 'data-path': name, autocomplete: 'off', spellcheck: 'false', ...attrs });
  const select = (name, options, value) => h('select', { name, 'data-path': name }, options.map(([v, l]) => option(v, l, value ?? '')));

  // The event, its filter, the value read and how a unit's events add up.
  const event = input('event', { value: m.event || '', placeholder: 'purchase' });
  const filter = h('textarea', { name: 'filter', 'data-path': 'filter', rows: 2, spellcheck: 'false', class: 'mono', placeholder: '{"attribute": "category", "op": "eq", "value": "books"}' });
  filter.value = m.filter ? JSON.stringify(m.filter, null, 2) : '';
  const property = input('property', { value: m.property || '', placeholder: 'price (default: the event’s value)' });
  const aggregation = select('aggregation', [['', 'Default (sum)'], ['sum', 'Sum'], ['count', 'Count of events'], ['unique', 'Unique (1 if any)'], ['max', 'Maximum']], m.aggregation);
  // A quantile and its level.
  const quantile = input('quantile', { type: 'number', step: 'any', min: 0, max: 1, class: 'short', value: m.quantile ?? '', placeholder: '0.9' });
  const level = select('level', [['', 'Events (default)'], ['event', 'Events'], ['unit', 'Units']], m.level);
  // The window.
  const w = m.window || {};
  const hours = input('window.hours', { type: 'number', step: 'any', min: 0, class: 'short', value: w.hours ?? '', placeholder: 'server’s' });
  const delay = input('window.delay_hours', { type: 'number', step: 'any', min: 0, class: 'short', value: w.delay_hours ?? '', placeholder: '0' });
  // The cap: its type selects the path of its value.
  const capType = m.cap ? (m.cap.percentile !== undefined ? 'percentile' : 'absolute') : '';
  const capKind = select('cap', [['', 'No cap'], ['absolute', 'Absolute value'], ['percentile', 'Percentile of units']], capType);
  const capValue = input('cap.absolute', {
    type: 'number', step: 'any', class: 'short', 'aria-label': 'Cap value',
    value: m.cap ? (m.cap.absolute ?? m.cap.percentile ?? '') : '',
  });
  const syncCap = () => {
    capValue.dataset.path = `cap.${capKind.value || 'absolute'}`;
    capValue.name = capValue.dataset.path;
    capValue.disabled = !capKind.value;
    capValue.placeholder = capKind.value === 'percentile' ? '0.99' : capKind.value ? '100' : '';
  };
  capKind.addEventListener('change', syncCap);
  syncCap();
  // A ratio's parts: catalogue means are valid; the others are listed for what they are.
  const part = (name) => {
    const value = m[name] || '';
    const means = catalogue.filter((c) => c.kind === 'mean');
    const others = catalogue.filter((c) => c.kind !== 'mean');
    const label = (c) => `${c.key}${c.name ? ` (${c.name})` : ''}`;
    const missing = value && !catalogue.some((c) => c.key === value) ? [option(value, `${value} (not in the catalogue)`, value)] : [];
    return h('select', { name, 'data-path': name },
      option('', 'Choose a mean metric…', value), missing,
      means.length ? h('optgroup', { label: 'Mean metrics' }, means.map((c) => option(c.key, label(c), value))) : null,
      others.length ? h('optgroup', { label: 'Other metrics (not valid as parts)' }, others.map((c) => option(c.key, `${label(c)} · ${c.kind}`, value))) : null);
  };
  const numerator = part('numerator');
  const denominator = part('denominator');
  // A funnel's steps.
  const stepRows = h('tbody', { id: 'step-rows' });
  const renumber = () => [...stepRows.children].forEach((tr, i) => {
    tr.querySelector('.step-idx').textContent = String(i + 1);
    tr.querySelector('[data-field=event]').dataset.path = `steps[${i}].event`;
    tr.querySelector('[data-field=filter]').dataset.path = `steps[${i}].filter`;
  });
  const addStep = (s = { event: '' }) => {
    const tr = h('tr', {},
      h('td', { class: 'step-idx num muted' }),
      h('td', {}, h('input', { 'data-field': 'event', value: s.event, 'aria-label': 'Step event', placeholder: 'cart', spellcheck: 'false' })),
      h('td', {}, h('input', { 'data-field': 'filter', class: 'mono', value: json(s.filter), 'aria-label': 'Step filter (JSON, optional)', placeholder: 'optional: {"attribute": …}', spellcheck: 'false' })),
      h('td', { class: 'nowrap' },
        h('button', { type: 'button', class: 'btn ghost small icon', 'aria-label': 'Move step up', onclick: () => { if (tr.previousElementSibling) tr.previousElementSibling.before(tr); renumber(); } }, '↑'),
        h('button', { type: 'button', class: 'btn ghost small icon', 'aria-label': 'Remove step', onclick: () => { tr.remove(); renumber(); } }, '✕')));
    stepRows.appendChild(tr);
    renumber();
    return tr;
  };
  const steps = m.steps && m.steps.length ? m.steps : [{ event: '' }, { event: '' }];
  steps.forEach((s) => addStep(s));

  const group = (name, title, ...children) => h('fieldset', { class: `group group-${name}`, 'data-group': name },
    h('legend', {}, title), ...children);
  const groups = [
    group('event', 'Event',
      h('div', { class: 'row' },
        field('Event name', event, 'The tracked event this metric reads.'),
        field('Filter on its properties (JSON, optional)', filter, 'Targeting syntax over the event’s properties; combine with {"all": [...]}, {"any": [...]}, {"not": ...}.'))),
    group('value', 'Value',
      h('div', { class: 'row' },
        field('Numeric property (optional)', property, 'Read instead of the event’s value; events without it do not count.'),
        field('Aggregation per unit', aggregation, 'How a unit’s events add up. An event-level quantile has none.'))),
    group('quantile', 'Quantile',
      h('div', { class: 'row' },
        field('Quantile', quantile, 'In (0, 1): 0.9 for p90, 0.5 for the median.'),
        field('Ranks', level, 'Each event’s value (p90 load time), or each exposed unit’s value.'))),
    group('cap', 'Cap (winsorizing)',
      h('div', { class: 'row' },
        field('Cap', capKind, 'Values above the cap count as the cap: outliers weigh less.'),
        field('Cap value', capValue, 'An amount (0 or more), or a share in (0, 1) for a percentile.'))),
    group('ratio', 'Ratio',
      h('div', { class: 'row' },
        field('Numerator', numerator, 'A catalogue mean metric: revenue.'),
        field('Denominator', denominator, 'Another catalogue mean metric: orders.'))),
    group('steps', 'Steps',
      h('table', { class: 'form-table', id: 'steps-table' },
        h('colgroup', {}, ['c-no', 'c-event', 'c-filter', 'c-x2'].map((c) => h('col', { class: c }))),
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Event'), h('th', {}, 'Filter (JSON)'), h('th', {}))),
        stepRows),
      h('button', { type: 'button', class: 'btn ghost small', id: 'add-step', 'data-path': 'steps', onclick: () => addStep().querySelector('input').focus() }, '+ Add step')),
    group('window', 'Window',
      h('div', { class: 'row' },
        field('Counts for (hours)', hours, 'Empty: the server’s attribution window. Retention needs one.'),
        field('Starting after exposure (hours)', delay, '0 by default; 168 for day-7 retention.'))),
  ];

  const show = (kind) => {
    for (const g of groups) g.hidden = !GROUPS[g.dataset.group].includes(kind);
    aggregation.options[0].textContent = kind === 'quantile' ? 'Default (none for events, sum for units)' : 'Default (sum)';
  };

  /** Adds the visible groups' fields to `body`; JSON that does not parse is a problem. */
  const collect = (body, problems) => {
    const visible = (name) => !groups.find((g) => g.dataset.group === name).hidden;
    const text = (el) => el.value.trim();
    const parse = (t, path) => {
      if (!t) return undefined;
      try {
        return JSON.parse(t);
      } catch (e) {
        problems.push({ code: 'invalid_json', path, message: `${path}: not valid JSON: ${e.message}` });
        return undefined;
      }
    };
    const put = (name, value) => {
      if (value !== undefined && value !== '') body[name] = value;
    };
    if (visible('event')) {
      put('event', text(event));
      put('filter', parse(text(filter), 'filter'));
    }
    if (visible('value')) {
      put('property', text(property));
      put('aggregation', aggregation.value);
    }
    if (visible('quantile')) {
      put('quantile', numberOr(quantile.value));
      put('level', level.value);
    }
    if (visible('cap') && capKind.value) body.cap = { [capKind.value]: numberOr(capValue.value) };
    if (visible('ratio')) {
      put('numerator', numerator.value);
      put('denominator', denominator.value);
    }
    if (visible('steps')) {
      body.steps = [...stepRows.children].map((tr, i) => {
        const s = { event: text(tr.querySelector('[data-field=event]')) };
        const fl = parse(text(tr.querySelector('[data-field=filter]')), `steps[${i}].filter`);
        if (fl !== undefined) s.filter = fl;
        return s;
      });
    }
    if (visible('window') && (text(hours) || text(delay))) {
      body.window = {};
      if (text(hours)) body.window.hours = numberOr(hours.value);
      if (text(delay)) body.window.delay_hours = numberOr(delay.value);
    }
  };

  return { groups, show, collect };
}
