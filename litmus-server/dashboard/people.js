// People (#/people, instance admins; `/admin/users`): everyone who can sign in, with their role
// (changed in place) and, when there are several projects, their role in each (a "Project
// roles" panel saved at once: the map replaces the old one, "—" leaves a project to their own
// role), whether they are disabled (asks first), their last sign-in and a password-reset link; the pending invitations (withdraw); and an invite form (email, role, and
// a role per project when there are several). A link made here is shown once, with a copy
// button: the server sends no email, so the admin passes it on. The server refuses a change
// that would leave no enabled admin (409 `in_use`); its message is shown above the table.

import { h, render, toast, confirmDialog } from './dom.js';
import { users, projects, auth, ApiError } from './api.js';
import { ROLES, isInstanceAdmin } from './roles.js';
import * as f from './format.js';

const explain = (e) => (e instanceof ApiError ? e.explanation : String(e));

/** A person's project roles in words: "shop: editor, eu: viewer". */
const overrides = (roles) => Object.entries(roles || {}).map(([p, r]) => `${p}: ${r}`).join(', ');

/** Mounts the people page into `main`. */
export function mountPeople(main, { setTitle }) {
  setTitle('People');
  let alive = true;
  const st = {
    users: null, invitations: [], projects: [], error: null, rowError: null, link: null,
    email: '', role: 'viewer', projectRoles: {}, inviteError: null, busy: false,
    // The "Project roles" panels, by person id: open or not, the roles chosen but not saved,
    // the server's refusal (shown in the panel), a save under way.
    rolesOpen: new Set(), rolesDraft: {}, rolesError: {}, rolesBusy: new Set(),
  };
  const me = auth.session && auth.session.user ? auth.session.user.id : null;

  if (!isInstanceAdmin()) {
    main.replaceChildren(h('div', { class: 'page people-page' },
      h('header', { class: 'page-head' }, h('h1', {}, 'People')),
      h('div', { class: 'banner info', id: 'people-denied', role: 'note' }, 'Only instance admins manage people. Ask one to invite someone or to change a role.')));
    return { unmount() {} };
  }

  async function load() {
    try {
      const d = await users.list();
      st.users = d.users || [];
      st.invitations = d.invitations || [];
      st.error = null;
    } catch (e) {
      st.error = explain(e);
    }
    draw();
  }

  /** Changes a person (`PATCH /admin/users/{id}`); a refusal is shown above the table. */
  async function change(user, patch, done) {
    st.rowError = null;
    try {
      const res = await users.update(user.id, patch);
      st.users = st.users.map((u) => (u.id === user.id ? res.user : u));
      toast(done(res.user), 'success');
      // One's own role changed: the app reads the session again.
      if (user.id === me) window.dispatchEvent(new CustomEvent('litmus:session'));
    } catch (e) {
      st.rowError = { id: user.id, message: `${user.email}: ${explain(e)}` };
    }
    draw();
  }

  async function setRole(user, select) {
    const role = select.value;
    await change(user, { role }, (u) => `${u.email} is now ${u.role}`);
    // Refused: the select shows the stored role again.
    const stored = (st.users.find((u) => u.id === user.id) || user).role;
    if (select.isConnected) select.value = stored;
  }

  /** The project roles shown in `user`'s panel: the ones chosen, else the stored ones. */
  const draftOf = (user) => st.rolesDraft[user.id] || { ...(user.projects || {}) };

  /** Whether the panel's choice differs from the stored map. */
  function rolesChanged(user) {
    const stored = user.projects || {};
    const chosen = Object.fromEntries(Object.entries(draftOf(user)).filter(([, r]) => r));
    const keys = new Set([...Object.keys(stored), ...Object.keys(chosen)]);
    return [...keys].some((k) => stored[k] !== chosen[k]);
  }

  function chooseRole(user, key, role) {
    st.rolesDraft[user.id] = { ...draftOf(user), [key]: role };
    draw();
  }

  /** Saves `user`'s project roles (`PATCH /admin/users/{id}` `{projects}`, the whole map). */
  async function saveProjects(user) {
    const projectsMap = Object.fromEntries(Object.entries(draftOf(user)).filter(([, r]) => r));
    st.rolesBusy.add(user.id);
    delete st.rolesError[user.id];
    draw();
    try {
      const res = await users.update(user.id, { projects: projectsMap });
      st.users = st.users.map((u) => (u.id === user.id ? res.user : u));
      delete st.rolesDraft[user.id];
      const now = overrides(res.user.projects);
      toast(`${res.user.email}: ${now ? `project roles ${now}` : 'their own role in every project'}`, 'success');
      if (user.id === me) window.dispatchEvent(new CustomEvent('litmus:session'));
    } catch (e) {
      // Kept open with the roles chosen, so they can be corrected.
      st.rolesError[user.id] = explain(e);
      st.rolesOpen.add(user.id);
    }
    st.rolesBusy.delete(user.id);
    draw();
  }

  async function setDisabled(user, box) {
    const disable = box.checked;
    if (disable) {
      const ok = await confirmDialog({
        title: `Disable ${user.email}?`,
        text: 'They are signed out at once and cannot sign in until an admin enables them again.',
        ok: 'Disable',
      });
      if (!ok) {
        box.checked = false;
        return;
      }
    }
    await change(user, { disabled: disable }, (u) => `${u.email} ${u.disabled_ms ? 'disabled' : 'enabled'}`);
    const stored = st.users.find((u) => u.id === user.id) || user;
    if (box.isConnected) box.checked = Boolean(stored.disabled_ms);
  }

  async function reset(user) {
    st.rowError = null;
    try {
      const made = await users.reset(user.id);
      st.link = { kind: 'reset', email: user.email, link: made.link, expires_ms: made.expires_ms };
    } catch (e) {
      st.rowError = { id: user.id, message: `${user.email}: ${explain(e)}` };
    }
    draw();
    focusLink();
  }

  async function withdraw(inv) {
    const ok = await confirmDialog({ title: `Withdraw the invitation of ${inv.email}?`, text: 'Its link stops working.', ok: 'Withdraw' });
    if (!ok) return;
    try {
      await users.withdraw(inv.id);
      toast(`The invitation of ${inv.email} was withdrawn`, 'success');
      if (st.link && st.link.kind === 'invite' && st.link.email === inv.email) st.link = null;
    } catch (e) {
      toast(explain(e), 'error', 9000);
    }
    await load();
  }

  async function invite() {
    const body = { email: st.email.trim(), role: st.role };
    const perProject = Object.fromEntries(Object.entries(st.projectRoles).filter(([, r]) => r));
    if (Object.keys(perProject).length) body.projects = perProject;
    if (!body.email) {
      st.inviteError = 'Enter the email address of the person to invite.';
      draw();
      return;
    }
    st.busy = true;
    st.inviteError = null;
    draw();
    try {
      const made = await users.invite(body);
      st.link = { kind: 'invite', email: made.email, link: made.link, expires_ms: made.expires_ms };
      st.email = '';
      st.role = 'viewer';
      st.projectRoles = {};
      toast(`${made.email} invited`, 'success');
      await load();
      focusLink();
    } catch (e) {
      st.inviteError = explain(e);
    }
    st.busy = false;
    draw();
  }

  const focusLink = () => {
    const input = document.getElementById('new-link-url');
    if (input) {
      input.focus();
      input.select();
    }
  };

  async function copy() {
    const input = document.getElementById('new-link-url');
    try {
      await navigator.clipboard.writeText(st.link.link);
      toast('Link copied', 'success');
    } catch {
      // No clipboard permission: the selected text, copied the old way.
      input.focus();
      input.select();
      const ok = document.execCommand && document.execCommand('copy');
      toast(ok ? 'Link copied' : 'Press Ctrl+C (⌘C) to copy the selected link', ok ? 'success' : 'info');
    }
  }

  /** The link just made, once: to copy and pass on. */
  function linkPanel() {
    const l = st.link;
    if (!l) return null;
    return h('section', { class: 'card link-panel', id: 'new-link', 'data-kind': l.kind, 'data-email': l.email, 'data-key': `link-${l.kind}-${l.email}`, role: 'status' },
      h('h2', {}, l.kind === 'invite' ? `Invitation link for ${l.email}` : `Password-reset link for ${l.email}`),
      h('p', { class: 'hint' }, `Copy it now and send it to them yourself: Litmus sends no email and will not show this link again. It works once${l.expires_ms ? `, until ${f.dateTime(l.expires_ms)}` : ''}.`),
      h('div', { class: 'link-row' },
        h('input', { id: 'new-link-url', class: 'mono', readonly: true, value: l.link, 'aria-label': 'The link', spellcheck: 'false' }),
        h('button', { type: 'button', class: 'btn primary', id: 'copy-link', onclick: copy }, 'Copy'),
        h('button', { type: 'button', class: 'btn ghost', id: 'dismiss-link', onclick: () => { st.link = null; draw(); } }, 'Done')));
  }

  const roleOptions = (value, withDefault) => [
    withDefault ? h('option', { value: '', selected: !value }, 'Their role') : null,
    ROLES.map((r) => h('option', { value: r, selected: r === value }, r)),
  ];

  /** Their role in each project (when there are several), in a panel that opens. */
  function projectRoles(u) {
    const stored = overrides(u.projects);
    if (st.projects.length <= 1) return stored ? h('div', { class: 'muted small', 'data-projects': '' }, stored) : null;
    const draft = draftOf(u);
    const busy = st.rolesBusy.has(u.id);
    const error = st.rolesError[u.id];
    const keys = [...new Set([...st.projects.map((p) => p.key), ...Object.keys(u.projects || {})])];
    return h('details', {
      class: 'project-roles-editor', 'data-project-roles': u.email, open: st.rolesOpen.has(u.id),
      ontoggle: (e) => { if (e.target.open) st.rolesOpen.add(u.id); else st.rolesOpen.delete(u.id); },
    },
    h('summary', {}, 'Project roles', h('span', { class: 'muted small', 'data-projects': '' }, stored ? `: ${stored}` : ': their role everywhere')),
    h('table', { class: 'table compact' },
      h('tbody', {}, keys.map((k) => h('tr', { 'data-key': k },
        h('th', { scope: 'row', class: 'mono' }, k),
        h('td', {}, h('select', {
          'data-user-project': k, 'aria-label': `Role of ${u.email} in ${k}`, disabled: busy,
          onchange: (e) => chooseRole(u, k, e.target.value),
        },
        h('option', { value: '', selected: !draft[k] }, `— (their role: ${u.role})`),
        ROLES.map((r) => h('option', { value: r, selected: draft[k] === r }, r)))))))),
    error ? h('div', { class: 'field-error', 'data-project-roles-error': u.email, role: 'alert' }, error) : null,
    h('button', {
      type: 'button', class: 'btn small primary', 'data-save-projects': u.email,
      disabled: busy || !rolesChanged(u), onclick: () => saveProjects(u),
    }, busy ? 'Saving…' : 'Save project roles'));
  }

  function userRow(u) {
    const locked = u.locked_until_ms && u.locked_until_ms > Date.now();
    return h('tr', { 'data-key': u.id, 'data-user': u.email, 'data-user-id': u.id, class: u.disabled_ms ? 'disabled' : '' },
      h('th', { scope: 'row' }, u.email, u.id === me ? h('span', { class: 'tag' }, 'you') : null),
      h('td', {}, u.name),
      h('td', {},
        h('select', { 'data-role-select': u.email, 'aria-label': `Role of ${u.email}`, onchange: (e) => setRole(u, e.target) }, roleOptions(u.role, false)),
        projectRoles(u)),
      h('td', {},
        h('label', { class: 'check' }, h('input', {
          type: 'checkbox', 'data-disable': u.email, checked: Boolean(u.disabled_ms), 'aria-label': `${u.email} is disabled`,
          onchange: (e) => setDisabled(u, e.target),
        }), ' Disabled'),
        locked ? h('div', { class: 'badge stale', 'data-locked': '' }, `locked until ${f.clock(u.locked_until_ms)}`) : null),
      h('td', { 'data-col': 'last-login' }, u.last_login_ms ? h('time', { datetime: new Date(u.last_login_ms).toISOString(), title: f.dateTime(u.last_login_ms) }, f.ago(u.last_login_ms)) : h('span', { class: 'muted' }, 'never')),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn small ghost', 'data-reset': u.email, onclick: () => reset(u) }, 'Reset password')));
  }

  function invitationRow(inv) {
    return h('tr', { 'data-key': inv.id, 'data-invitation': inv.email, 'data-id': inv.id },
      h('th', { scope: 'row' }, inv.email),
      h('td', {}, inv.role, Object.keys(inv.projects || {}).length ? h('div', { class: 'muted small' }, overrides(inv.projects)) : null),
      h('td', {}, inv.created_by),
      h('td', {}, f.dateTime(inv.expires_ms)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn small ghost danger', 'data-withdraw': inv.email, onclick: () => withdraw(inv) }, 'Withdraw')));
  }

  function inviteForm() {
    const several = st.projects.length > 1;
    return h('form', {
      id: 'invite-form', class: 'invite-form', 'aria-label': 'Invite someone', novalidate: true,
      onsubmit: (e) => { e.preventDefault(); invite(); },
    },
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'invite-email' }, 'Email'),
        h('input', { id: 'invite-email', type: 'email', autocomplete: 'off', spellcheck: 'false', placeholder: 'ada@example.com', value: st.email, oninput: (e) => { st.email = e.target.value; } })),
      h('div', { class: 'field' }, h('label', { for: 'invite-role' }, 'Role'),
        h('select', { id: 'invite-role', onchange: (e) => { st.role = e.target.value; } }, roleOptions(st.role, false)))),
    several ? h('fieldset', { class: 'group project-roles', id: 'invite-projects' },
      h('legend', {}, 'Role per project (optional)'),
      h('div', { class: 'row' }, st.projects.map((p) => h('label', { class: 'field' }, h('span', {}, p.key),
        h('select', { 'data-project-role': p.key, 'aria-label': `Role in ${p.key}`, onchange: (e) => { st.projectRoles[p.key] = e.target.value; } },
          roleOptions(st.projectRoles[p.key] || '', true)))))) : null,
    h('p', { class: 'hint' }, 'Viewers read results and config; editors also change experiments, flags, metrics and environments; admins also manage API keys. An admin by their own role also manages people and projects.'),
    st.inviteError ? h('div', { class: 'field-error', id: 'invite-error', role: 'alert' }, st.inviteError) : null,
    h('button', { type: 'submit', class: 'btn primary', id: 'invite-submit', disabled: st.busy }, 'Invite'));
  }

  function draw() {
    if (!alive) return;
    const list = [...(st.users || [])].sort((a, b) => a.email.localeCompare(b.email));
    render(main, h('div', { class: 'page people-page' },
      h('header', { class: 'page-head' },
        h('div', {}, h('h1', {}, 'People'),
          h('p', { class: 'muted small lede' }, 'Who can sign in to this Litmus, and what they may do.'))),
      st.error ? h('div', { class: 'banner critical', role: 'alert', id: 'people-load-error' }, st.error) : null,
      linkPanel(),
      h('section', { class: 'card', id: 'people' },
        h('h2', {}, 'People'),
        st.rowError ? h('div', { class: 'banner critical', id: 'people-error', role: 'alert' }, st.rowError.message) : null,
        st.users === null && !st.error ? h('p', { class: 'loading' }, 'Loading…') : null,
        st.users && !list.length ? h('p', { class: 'muted' }, 'Nobody has an account yet: invite someone below.') : null,
        list.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'people-table' },
          h('thead', {}, h('tr', {}, ['Email', 'Name', 'Role', 'Access', 'Last sign-in', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, list.map(userRow)))) : null),
      h('section', { class: 'card', id: 'invitations' },
        h('h2', {}, 'Pending invitations'),
        st.invitations.length ? h('table', { class: 'table', id: 'invitations-table' },
          h('thead', {}, h('tr', {}, ['Email', 'Role', 'Invited by', 'Expires', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, st.invitations.map(invitationRow)))
          : h('p', { class: 'muted', id: 'no-invitations' }, 'None.')),
      h('section', { class: 'card', id: 'invite' },
        h('h2', {}, 'Invite someone'),
        inviteForm())));
  }

  draw();
  load();
  projects.list().then((list) => {
    st.projects = list;
    draw();
  }).catch(() => {});
  return {
    unmount() {
      alive = false;
    },
  };
}
