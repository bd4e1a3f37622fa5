// DOM helpers: element builders, an in-place patcher (so live updates neither flicker nor
// lose focus or scroll), the shared tooltip, toasts and the confirmation dialog.

const SVG_NS = 'http://www.w3.org/2000/svg';
const BOOLEAN = new Set(['hidden', 'disabled', 'checked', 'selected', 'readonly', 'required', 'open', 'multiple']);

function set(el, name, value) {
  if (value === null || value === undefined || value === false) return;
  if (name === 'text') {
    el.textContent = String(value);
  } else if (name.startsWith('on') && typeof value === 'function') {
    const type = name.slice(2).toLowerCase();
    el.__on = el.__on || {};
    if (!el.__on[type]) el.addEventListener(type, (e) => el.__on[type] && el.__on[type](e));
    el.__on[type] = value;
  } else if (name === 'value' && 'value' in el && el.namespaceURI !== SVG_NS) {
    el.value = String(value);
    el.setAttribute('value', String(value));
  } else if (BOOLEAN.has(name)) {
    if (value) el.setAttribute(name, '');
    if (name === 'checked' || name === 'selected') el[name] = Boolean(value);
  } else {
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === '') continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** An HTML element: h('td', {class: 'num'}, '12', h('span', {}, 'x')). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) set(el, k, v);
  append(el, children);
  return el;
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) set(el, k, v);
  append(el, children);
  return el;
}

function sameKind(a, b) {
  if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName) return false;
  if (a.nodeType !== 1) return true;
  return a.getAttribute('data-key') === b.getAttribute('data-key');
}

/**
 * Makes `from` (in the document) look like `to` (built fresh), changing only what differs.
 * Elements with `data-keep` keep their children (a chart draws itself into them). Answers the
 * node now in the document.
 */
export function morph(from, to) {
  if (!sameKind(from, to)) {
    from.replaceWith(to);
    return to;
  }
  if (from.nodeType === 3 || from.nodeType === 8) {
    if (from.data !== to.data) from.data = to.data;
    return from;
  }
  for (const a of [...from.attributes]) if (!to.hasAttribute(a.name)) from.removeAttribute(a.name);
  for (const a of to.attributes) if (from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
  if (to.__on) {
    from.__on = from.__on || {};
    for (const type of Object.keys(to.__on)) {
      if (!from.__on[type]) from.addEventListener(type, (e) => from.__on[type] && from.__on[type](e));
      from.__on[type] = to.__on[type];
    }
  }
  const tag = from.nodeName;
  if ((tag === 'INPUT' || tag === 'TEXTAREA') && document.activeElement !== from) {
    if (from.value !== to.value) from.value = to.value;
    if (tag === 'INPUT' && from.checked !== to.checked) from.checked = to.checked;
  }
  if (from.hasAttribute('data-keep')) return from;
  morphChildren(from, to);
  if (tag === 'SELECT' && document.activeElement !== from && from.value !== to.value) from.value = to.value;
  return from;
}

const keyOf = (n) => (n.nodeType === 1 ? n.getAttribute('data-key') : null);

/**
 * Makes the children of `parent` those of `model`, patched in place: children with a
 * `data-key` are matched by key (and moved if they moved), the others by position.
 */
export function morphChildren(parent, model) {
  const keyed = new Map();
  for (const c of parent.childNodes) if (keyOf(c)) keyed.set(keyOf(c), c);
  let cursor = parent.firstChild;
  for (const want of [...model.childNodes]) {
    const key = keyOf(want);
    let match = null;
    if (key && keyed.has(key)) {
      match = keyed.get(key);
      keyed.delete(key);
    } else if (!key && cursor && !keyOf(cursor) && sameKind(cursor, want)) {
      match = cursor;
    }
    if (!match) {
      parent.insertBefore(want, cursor);
      continue;
    }
    if (match === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(match, cursor);
    morph(match, want);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

/** Patches `container`'s content to the nodes given. */
export function render(container, ...nodes) {
  const model = document.createElement('div');
  append(model, nodes);
  morphChildren(container, model);
}

// --- the tooltip ---------------------------------------------------------------------------

const tip = () => document.getElementById('tip');

/** Shows the tooltip with `content` (nodes) near the page point (x, y). */
export function showTip(content, x, y) {
  const t = tip();
  if (!t) return;
  t.replaceChildren(...(Array.isArray(content) ? content : [content]));
  t.hidden = false;
  const pad = 14;
  const w = t.offsetWidth;
  const hgt = t.offsetHeight;
  let left = x + pad;
  if (left + w > window.scrollX + document.documentElement.clientWidth - 8) left = x - w - pad;
  let top = y - hgt - pad;
  if (top < window.scrollY + 4) top = y + pad;
  t.style.setProperty('left', `${Math.max(4, left)}px`);
  t.style.setProperty('top', `${top}px`);
}

export function hideTip() {
  const t = tip();
  if (t) t.hidden = true;
}

// --- toasts and confirmation ---------------------------------------------------------------

/** A short notice in the corner; kind is info, success or error. */
export function toast(message, kind = 'info', ms = kind === 'error' ? 8000 : 3500) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, message),
    h('button', { type: 'button', class: 'x', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  box.appendChild(el);
  if (ms) setTimeout(() => el.remove(), ms);
}

/** Asks for confirmation in a modal dialog; resolves true when confirmed. */
export function confirmDialog({ title, text, ok = 'Confirm', danger = true }) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const okButton = document.getElementById('confirm-ok');
  okButton.textContent = ok;
  okButton.className = danger ? 'btn danger' : 'btn primary';
  return new Promise((resolve) => {
    dlg.returnValue = 'cancel';
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.showModal();
    okButton.focus();
  });
}
