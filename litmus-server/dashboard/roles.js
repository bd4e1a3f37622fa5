// What the signed-in person may do, shown once for every view: their role in the current
// project (`user.projects[project]`, else their own `user.role`) goes on <body data-role>, and
// style.css hides every control marked `data-edit` from a viewer (and shows the `data-read`
// stand-ins, such as a flag's state in words instead of its switch); `data-instance-admin` on
// <body> shows the controls marked `data-instance-only` (people, creating projects). An API key
// counts as an admin: the server still refuses what its scopes do not allow (403).
//
//   viewer   reads results and config
//   editor   also changes experiments, flags, metrics, layers, holdouts, environments
//   admin    also API keys in the project; an instance admin (their own role) also people and
//            projects

import { h } from './dom.js';
import { auth, project } from './api.js';

/** The roles, least first. */
export const ROLES = ['viewer', 'editor', 'admin'];

/** The role of the signed-in person in the current project ('admin' for a key). */
export function currentRole() {
  if (auth.key) return 'admin';
  const user = auth.session && auth.session.user;
  if (!user) return 'viewer';
  return (user.projects && user.projects[project.key]) || user.role || 'viewer';
}

/** Whether the current role may change things (editor or admin). */
export const canEdit = () => currentRole() !== 'viewer';

/** Whether the signed-in person is an instance admin (their own role; a key counts as one). */
export function isInstanceAdmin() {
  if (auth.key) return true;
  return Boolean(auth.session && auth.session.user && auth.session.user.role === 'admin');
}

/** Puts the current role on <body> (call after signing in and when the project changes). */
export function applyRole() {
  const data = document.body.dataset;
  if (!auth.signedIn) {
    delete data.role;
    delete data.instanceAdmin;
    return;
  }
  data.role = currentRole();
  if (isInstanceAdmin()) data.instanceAdmin = 'true';
  else delete data.instanceAdmin;
}

/** The note a viewer sees instead of (or above) a form. */
export function readOnlyNote() {
  return h('div', { class: 'banner info', id: 'read-only-note', role: 'note' },
    h('div', {},
      h('strong', {}, 'You can view but not change this. '),
      `Your role in the project “${project.key}” is ${currentRole()}; an admin can make you an editor.`));
}

/** A page with only the read-only note (a viewer opening a "new …" address). */
export function mountReadOnly(main, { setTitle }, { title, back, backLabel }) {
  setTitle(title);
  main.replaceChildren(h('div', { class: 'page read-only-page' },
    h('header', { class: 'page-head' }, h('h1', {}, title)),
    readOnlyNote(),
    h('p', {}, h('a', { href: back }, backLabel))));
  return { unmount() {} };
}

/**
 * Makes a built form read-only for a viewer: the note first, every input, select and button
 * disabled (style.css hides the form's buttons), nothing draggable.
 */
export function lockForm(form) {
  if (canEdit()) return;
  for (const el of form.querySelectorAll('input, select, textarea, button')) el.disabled = true;
  for (const el of form.querySelectorAll('[draggable]')) el.setAttribute('draggable', 'false');
  form.dataset.readonly = 'true';
  const head = form.querySelector('.page-head');
  if (head) head.after(readOnlyNote());
  else form.prepend(readOnlyNote());
}
