// Inputs for flag values and targeting conditions: a value input per flag type (boolean,
// string, number, json) read back into JSON, and a targeting builder (attribute, operator,
// value rows, all of which must match) that falls back to the condition's JSON when it is not
// a flat list of comparisons.

import { h } from './dom.js';

/** The targeting operators, as docs/spec/config-v1.md lists them. */
export const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'ends_with',
  'regex', 'exists', 'version_eq', 'version_ne', 'version_gt', 'version_gte', 'version_lt', 'version_lte'];

/**
 * An input for a value of `type` at `path`; `.read(problems)` answers the JSON value or
 * pushes `{path, message}` and answers undefined.
 */
export function valueInput(type, value, path, label) {
  let el;
  if (type === 'boolean') {
    el = h('select', { 'data-path': path, 'aria-label': label },
      h('option', { value: 'true', selected: value === true }, 'true'),
      h('option', { value: 'false', selected: value !== true }, 'false'));
  } else if (type === 'number') {
    el = h('input', { type: 'number', step: 'any', 'data-path': path, 'aria-label': label, value: typeof value === 'number' ? value : '' });
  } else if (type === 'json') {
    el = h('textarea', { 'data-path': path, 'aria-label': label, rows: 2, spellcheck: 'false', class: 'mono' });
    el.value = value === undefined || value === null ? '' : JSON.stringify(value);
  } else {
    el = h('input', { type: 'text', 'data-path': path, 'aria-label': label, value: typeof value === 'string' ? value : '' });
  }
  el.read = (problems) => {
    if (type === 'boolean') return el.value === 'true';
    if (type === 'number') {
      const n = Number(el.value);
      if (el.value.trim() === '' || !Number.isFinite(n)) {
        problems.push({ path, message: 'a number' });
        return undefined;
      }
      return n;
    }
    if (type === 'json') {
      try {
        const v = JSON.parse(el.value);
        if (v === null) throw new Error('null');
        return v;
      } catch {
        problems.push({ path, message: 'JSON other than null, e.g. {"color": "blue"}' });
        return undefined;
      }
    }
    return el.value;
  };
  return el;
}

/** A comparison value typed as text: a list for `in`/`not_in`, numbers and booleans as such. */
function parseOperand(op, text) {
  const scalar = (t) => {
    const s = t.trim();
    if (s === 'true' || s === 'false') return s === 'true';
    if (/^".*"$/.test(s)) return s.slice(1, -1);
    if (s !== '' && Number.isFinite(Number(s)) && !/^version_/.test(op)) return Number(s);
    return s;
  };
  if (op === 'in' || op === 'not_in') return text.split(',').map(scalar).filter((v) => v !== '');
  if (op === 'exists') return text.trim() !== 'false';
  return scalar(text);
}

/** A comparison value as text (the inverse of `parseOperand`). */
function showOperand(v) {
  if (Array.isArray(v)) return v.map(showOperand).join(', ');
  if (typeof v === 'string') return /^(true|false|-?\d+(\.\d+)?)$/.test(v) ? `"${v}"` : v;
  return v === undefined ? '' : String(v);
}

/** Whether a condition is a flat list of comparisons (what the builder edits). */
function flat(c) {
  const leaf = (x) => x && typeof x === 'object' && typeof x.attribute === 'string' && typeof x.op === 'string';
  if (!c) return [];
  if (leaf(c)) return [c];
  if (Array.isArray(c.all) && c.all.every(leaf)) return c.all;
  return null;
}

/**
 * The targeting builder of a condition at `path`: rows of attribute, operator and value (all
 * must match), or the condition's JSON when it has `any` or `not`. `.read(problems)` answers
 * the condition (undefined for everyone).
 */
export function conditionInput(condition, path) {
  const rows = flat(condition);
  const box = h('div', { class: 'condition', 'data-path': path });
  if (rows === null) {
    const text = h('textarea', { class: 'mono', rows: 3, spellcheck: 'false', 'aria-label': 'Condition (JSON)', 'data-path': path });
    text.value = JSON.stringify(condition, null, 1);
    box.append(h('div', { class: 'hint' }, 'This condition uses any/not: edit its JSON.'), text);
    box.read = (problems) => {
      try {
        return text.value.trim() ? JSON.parse(text.value) : undefined;
      } catch {
        problems.push({ path, message: 'the condition is not JSON' });
        return undefined;
      }
    };
    return box;
  }
  const list = h('div', { class: 'condition-rows' });
  const addRow = (c = { attribute: '', op: 'eq', value: '' }) => {
    const i = list.children.length;
    const at = `${path}.all[${i}]`;
    const row = h('div', { class: 'condition-row', 'data-condition-row': '' },
      h('input', { class: 'attr', placeholder: 'attribute', 'aria-label': 'Attribute', value: c.attribute, 'data-path': `${at}.attribute` }),
      h('select', { class: 'op', 'aria-label': 'Operator', 'data-path': `${at}.op` }, OPERATORS.map((o) => h('option', { value: o, selected: o === c.op }, o.replace(/_/g, ' ')))),
      h('input', { class: 'operand', placeholder: 'value (a, b for lists)', 'aria-label': 'Value', value: showOperand(c.value), 'data-path': `${at}.value` }),
      h('button', { type: 'button', class: 'btn small ghost', 'aria-label': 'Remove this condition', onclick: () => row.remove() }, '×'));
    list.append(row);
  };
  rows.forEach(addRow);
  box.append(list,
    h('button', { type: 'button', class: 'btn small add-condition', onclick: () => addRow() }, '+ Condition'),
    h('div', { class: 'hint' }, 'All conditions must match; none means every unit. Lists are comma separated; quote a string that looks like a number.'));
  box.read = () => {
    const leaves = [...list.querySelectorAll('[data-condition-row]')].map((row) => {
      const op = row.querySelector('.op').value;
      return { attribute: row.querySelector('.attr').value.trim(), op, value: parseOperand(op, row.querySelector('.operand').value) };
    }).filter((c) => c.attribute);
    if (!leaves.length) return undefined;
    return leaves.length === 1 ? leaves[0] : { all: leaves };
  };
  return box;
}
