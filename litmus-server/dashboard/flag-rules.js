// The rule editor of a flag: ordered rule cards (first match wins), reordered by dragging a
// card's handle or with its up and down buttons; each card has the rule's id and kind, the
// targeting builder, and the fields of its kind: the value, a rollout's percentage (a slider
// and a number kept in step), an experiment and the value of each of its variants, or a
// prerequisite flag and the value it must have.

import { h } from './dom.js';
import { valueInput, conditionInput } from './flag-values.js';

const KINDS = [['force', 'Force a value'], ['rollout', 'Roll out to a share'], ['experiment', 'Serve an experiment’s variants'], ['prerequisite', 'Depend on another flag']];

/**
 * A rule editor over `rules` for a flag of `type`, with the experiments (`[{key, variants}]`)
 * and the other flags (`[{key, type}]`) a rule may name. Answers {node, read(problems),
 * setType(type)}.
 */
export function ruleEditor(rules, type, { experiments, flags, pathPrefix = '' }) {
  const st = { rules: rules.map((r) => structuredClone(r)), type };
  const list = h('ol', { class: 'rule-cards', id: 'rule-cards' });
  const node = h('div', { class: 'rules-editor' },
    list,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn', id: 'add-rule', onclick: () => { sync(); st.rules.push({ kind: 'force' }); draw(); } }, '+ Rule')),
    h('p', { class: 'hint' }, 'Rules run top to bottom; the first that applies serves its value. Units no rule takes get the default.'));
  let cards = [];
  let dragging = null;

  /** Reads every card back into `st.rules` (keeping what the inputs hold), without checks. */
  function sync() {
    st.rules = cards.map((c) => c.read([], true));
  }

  function move(from, to) {
    if (to < 0 || to >= st.rules.length || from === to) return;
    sync();
    const [r] = st.rules.splice(from, 1);
    st.rules.splice(to, 0, r);
    draw();
  }

  function card(rule, i) {
    // Paths as the server names them (`environments[staging].rules[1].percentage` for another
    // environment's rules), so its errors land next to their field.
    const at = `${pathPrefix}rules[${i}]`;
    const id = h('input', { class: 'rule-id', 'data-path': `${at}.id`, value: rule.id || '', placeholder: `${rule.kind}-${i}`, 'aria-label': `Rule ${i + 1} id` });
    const kind = h('select', { class: 'rule-kind', 'data-path': `${at}.kind`, 'aria-label': `Rule ${i + 1} kind` },
      KINDS.map(([v, l]) => h('option', { value: v, selected: v === rule.kind }, l)));
    kind.addEventListener('change', () => {
      sync();
      st.rules[i] = { id: st.rules[i].id, kind: kind.value, condition: st.rules[i].condition };
      draw();
    });
    const condition = conditionInput(rule.condition, `${at}.condition`);
    const fields = h('div', { class: 'rule-fields' });
    const readers = {};
    const value = (label, v, path = `${at}.value`) => {
      const input = valueInput(st.type, v, path, label);
      fields.append(h('label', { class: 'field inline' }, h('span', {}, label), input));
      return input;
    };
    if (rule.kind === 'rollout') {
      const pct = typeof rule.percentage === 'number' ? rule.percentage : 10;
      const slider = h('input', { type: 'range', min: 0, max: 100, step: 0.5, value: pct, class: 'rollout-slider', 'aria-label': `Rule ${i + 1} rollout percentage` });
      const number = h('input', { type: 'number', min: 0, max: 100, step: 'any', value: pct, class: 'rollout-number short', 'data-path': `${at}.percentage`, 'aria-label': `Rule ${i + 1} percentage` });
      slider.addEventListener('input', () => { number.value = slider.value; });
      number.addEventListener('input', () => { slider.value = number.value; });
      fields.append(h('div', { class: 'field rollout' }, h('span', {}, 'Share of matching units'), slider, number, h('span', {}, '%'),
        h('div', { class: 'hint' }, 'Raising the share keeps every unit already in; lowering it removes the most recently added.')));
      readers.percentage = (problems) => {
        const n = Number(number.value);
        if (number.value.trim() === '' || !Number.isFinite(n)) problems.push({ path: `${at}.percentage`, message: 'a number from 0 to 100' });
        return n;
      };
      readers.value = value('Serve', rule.value ?? (st.type === 'boolean' ? true : undefined)).read;
    } else if (rule.kind === 'experiment') {
      const select = h('select', { class: 'rule-experiment', 'data-path': `${at}.experiment`, 'aria-label': `Rule ${i + 1} experiment` },
        h('option', { value: '' }, 'Choose an experiment…'),
        experiments.map((e) => h('option', { value: e.key, selected: e.key === rule.experiment }, `${e.key} (${e.status || 'draft'})`)));
      const values = h('div', { class: 'variant-values' });
      const inputs = new Map();
      const fill = () => {
        values.replaceChildren();
        inputs.clear();
        const exp = experiments.find((e) => e.key === select.value);
        for (const v of (exp && exp.variants) || []) {
          const input = valueInput(st.type, (rule.values || {})[v.key], `${at}.values.${v.key}`, `Value for ${v.key}`);
          input.dataset.variant = v.key;
          inputs.set(v.key, input);
          values.append(h('label', { class: 'field inline' }, h('span', {}, h('code', {}, v.key), ' →'), input));
        }
      };
      select.addEventListener('change', fill);
      fill();
      fields.append(h('div', { class: 'field' }, h('span', {}, 'Experiment'), select,
        rule.experiment ? h('a', { href: `#/experiments/${encodeURIComponent(rule.experiment)}`, class: 'small' }, 'results') : null), values);
      readers.experiment = () => select.value;
      readers.values = (problems) => Object.fromEntries([...inputs].map(([k, input]) => [k, input.read(problems)]));
    } else if (rule.kind === 'prerequisite') {
      const others = flags.filter((f) => !f.self);
      const select = h('select', { class: 'rule-flag', 'data-path': `${at}.flag`, 'aria-label': `Rule ${i + 1} prerequisite flag` },
        h('option', { value: '' }, 'Choose a flag…'),
        others.map((f) => h('option', { value: f.key, selected: f.key === rule.flag }, `${f.key} (${f.type})`)));
      const is = h('input', { class: 'rule-is mono', 'data-path': `${at}.is`, value: rule.is === undefined ? 'true' : JSON.stringify(rule.is), 'aria-label': `Rule ${i + 1} required value (JSON)` });
      fields.append(h('div', { class: 'field inline' }, h('span', {}, 'When'), select, h('span', {}, 'is'), is));
      readers.flag = () => select.value;
      readers.is = (problems) => {
        try {
          return JSON.parse(is.value);
        } catch {
          problems.push({ path: `${at}.is`, message: 'JSON: true, 3, "blue"…' });
          return undefined;
        }
      };
      readers.value = value('Serve', rule.value).read;
    } else {
      readers.value = value('Serve', rule.value).read;
    }
    const handle = h('span', { class: 'drag-handle', title: 'Drag to reorder', 'aria-hidden': 'true' }, '⠿');
    const li = h('li', { class: 'card rule-card', draggable: 'true', 'data-rule': i, 'data-kind': rule.kind },
      h('div', { class: 'rule-head' }, handle, h('strong', {}, `${i + 1}.`), kind, id,
        h('div', { class: 'rule-buttons' },
          h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Move rule ${i + 1} up`, disabled: i === 0, onclick: () => move(i, i - 1) }, '↑'),
          h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Move rule ${i + 1} down`, disabled: i === st.rules.length - 1, onclick: () => move(i, i + 1) }, '↓'),
          h('button', { type: 'button', class: 'btn small ghost danger', 'aria-label': `Remove rule ${i + 1}`, onclick: () => { sync(); st.rules.splice(i, 1); draw(); } }, 'Remove'))),
      h('div', { class: 'field' }, h('span', {}, 'Who'), condition),
      fields);
    li.addEventListener('dragstart', (e) => {
      dragging = i;
      e.dataTransfer.effectAllowed = 'move';
      e.dataTransfer.setData('text/plain', String(i));
      li.classList.add('dragging');
    });
    li.addEventListener('dragend', () => li.classList.remove('dragging'));
    li.addEventListener('dragover', (e) => e.preventDefault());
    li.addEventListener('drop', (e) => {
      e.preventDefault();
      const from = dragging ?? Number(e.dataTransfer.getData('text/plain'));
      dragging = null;
      move(from, i);
    });
    return {
      node: li,
      /** The rule as written; `loose` keeps it even when a field does not parse (for redraws). */
      read(problems, loose = false) {
        const out = { kind: kind.value };
        if (id.value.trim()) out.id = id.value.trim();
        const c = condition.read(problems);
        if (c !== undefined) out.condition = c;
        for (const [name, read] of Object.entries(readers)) {
          const v = read(problems);
          if (v !== undefined || !loose) out[name] = v;
        }
        return out;
      },
    };
  }

  function draw() {
    cards = st.rules.map(card);
    list.replaceChildren(...cards.map((c) => c.node));
  }

  draw();
  return {
    node,
    read(problems) {
      return cards.map((c) => c.read(problems));
    },
    setType(type) {
      sync();
      st.type = type;
      draw();
    },
  };
}
