// Errors shown at their fields: a server error's `path` (or each of its `problems[].path`),
// made relative to the object edited, names the input carrying the same `data-path`; the
// message goes next to that input (marked invalid) and every problem is listed in a summary
// above the form.

import { h } from './dom.js';
import { ApiError } from './api.js';

const escape = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The prefix of the paths of the object `key` of `collection` (also by index, as some
 * messages name it): `experiments[checkout].`, `metrics[revenue].`.
 */
function ownPrefix(collection, key) {
  return new RegExp(`${collection}\\[(?:${escape(key || '')}|\\d+)\\]\\.?`, 'g');
}

/**
 * A server path relative to the object edited, or null when it names another object:
 * `experiments[x].variants[1].weight` -> `variants[1].weight`, `metrics[revenue].cap.absolute`
 * -> `cap.absolute`. A path outside any collection (`key`) is already relative.
 */
export function relativeTo(collection, key, path) {
  if (!path) return '';
  const own = ownPrefix(collection, key);
  own.lastIndex = 0;
  const m = own.exec(path);
  if (m && m.index === 0) return path.slice(m[0].length);
  return /^[a-z_]+\[/.test(path) && !/^(variants|metrics|steps|factors)\[/.test(path) ? null : path;
}

/** Removes the errors shown in `form` and hides its summary. */
export function clearErrors(form, summary) {
  form.querySelectorAll('.field-error').forEach((el) => el.remove());
  form.querySelectorAll('[aria-invalid]').forEach((el) => {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  });
  summary.hidden = true;
  summary.replaceChildren();
}

/** The input a path names: exactly, else the nearest enclosing or first enclosed one. */
export function fieldFor(form, rel) {
  if (!rel) return null;
  const all = [...form.querySelectorAll('[data-path]')].filter((el) => !el.closest('[hidden]'));
  const exact = all.find((el) => el.dataset.path === rel);
  if (exact) return exact;
  const enclosing = all.filter((el) => rel.startsWith(el.dataset.path) && /^[.[]/.test(rel.slice(el.dataset.path.length)))
    .sort((a, b) => b.dataset.path.length - a.dataset.path.length)[0];
  if (enclosing) return enclosing;
  return all.find((el) => el.dataset.path.startsWith(rel) && /^[.[]/.test(el.dataset.path.slice(rel.length))) || null;
}

/** The problems of an error: its list, or itself as one problem. */
export function problemsOf(err) {
  if (err instanceof ApiError) {
    return err.problems.length ? err.problems : [{ code: err.code, message: err.explanation, path: err.path }];
  }
  return [{ code: 'error', message: String(err), path: null }];
}

/**
 * Shows `problems` ({code, message, path}) at their fields in `form` and in `summary`: paths
 * are made relative to the object `key` of `collection`; `what` names it ("experiment") and
 * `failed` what did not happen to it ("saved").
 */
export function showErrors(form, summary, problems, { collection, key, what, failed = 'saved' }) {
  let first = null;
  const items = problems.map((p, i) => {
    const rel = relativeTo(collection, key, p.path);
    const message = (p.message || '').replace(ownPrefix(collection, key), '').replace(/^:\s*/, '');
    const el = rel === null ? null : fieldFor(form, rel);
    const shown = rel === null ? p.path : rel;
    if (el) {
      const id = `err-${i}`;
      const own = rel && message.startsWith(`${rel}: `) ? message.slice(rel.length + 2) : message;
      const box = h('div', { class: 'field-error', id, 'data-error-path': rel }, own);
      el.setAttribute('aria-invalid', 'true');
      el.setAttribute('aria-describedby', id);
      const anchor = el.closest('td') || el.closest('.field') || el;
      if (anchor === el) el.after(box);
      else anchor.appendChild(box);
      if (!first) first = el;
    }
    return h('li', {}, message, shown ? [' ', h('code', {}, shown)] : null, p.code ? h('span', { class: 'muted small' }, ` (${p.code})`) : null,
      el ? [' ', h('button', { type: 'button', class: 'link', onclick: () => el.focus() }, 'go to field')] : null);
  });
  summary.replaceChildren(h('strong', {}, problems.length === 1 ? `The ${what} was not ${failed}:` : `The ${what} was not ${failed} (${problems.length} problems):`),
    h('ul', {}, items));
  summary.hidden = false;
  if (first) first.focus();
  else summary.focus();
}
