// Projects and environments (#/environments): the projects the key or person sees and a form to
// create one (instance admins, or a key with projects:write; the bootstrap key has it); the
// current project's environments with their names, a form to create one (editors), delete
// (never production; the server refuses one still in use and says by what), and promotion:
// one environment's flag states (switch, rules, scheduled changes) copied to another, previewed
// as a diff first (`POST /admin/environments/{from}/promote` with `dry_run`), then applied as
// one change after a confirmation.

import { h, render, toast, confirmDialog } from './dom.js';
import { environments, projects, project, ApiError } from './api.js';
import { PRODUCTION } from './environment.js';
import * as f from './format.js';

/** A JSON value in a cell: short ones inline, long ones folded. */
function jsonCell(v) {
  const text = JSON.stringify(v ?? null, null, 1);
  return text.length > 80
    ? h('details', {}, h('summary', {}, `${text.replace(/\s+/g, ' ').slice(0, 60)}…`), h('pre', { class: 'mono small' }, text))
    : h('code', {}, text.replace(/\s+/g, ' '));
}

/** Tells the top bar's picker that the environments changed. */
const changed = () => window.dispatchEvent(new CustomEvent('litmus:environments'));

/** Mounts the environments page into `main`. */
export function mountEnvironments(main, { setTitle }) {
  setTitle('Environments');
  const st = { list: null, error: null, createError: null, from: null, to: PRODUCTION, preview: null, promoteError: null, busy: false, skip: new Set(), newKey: '', newName: '',
    projects: [], newProject: '', projectError: null };
  let alive = true;

  async function loadProjects() {
    st.projects = await projects.list().catch(() => []);
    draw();
  }

  async function createProject() {
    const key = st.newProject.trim();
    try {
      await projects.create(key);
      st.projectError = null;
      st.newProject = '';
      toast(`Project ${key} created`, 'success');
      window.dispatchEvent(new CustomEvent('litmus:projects'));
      await loadProjects();
    } catch (e) {
      st.projectError = e instanceof ApiError ? e.explanation : String(e);
      draw();
    }
  }

  async function load() {
    try {
      st.list = await environments.list();
      st.error = null;
      if (!st.from || !st.list.some((e) => e.key === st.from)) {
        st.from = (st.list.find((e) => e.key !== PRODUCTION) || { key: PRODUCTION }).key;
      }
    } catch (e) {
      st.error = e instanceof ApiError ? e.explanation : String(e);
    }
    draw();
  }

  async function create() {
    const key = st.newKey.trim();
    const name = st.newName.trim();
    try {
      await environments.create(key, name || undefined);
      st.createError = null;
      toast(`Environment ${key} created`, 'success');
      st.newKey = '';
      st.newName = '';
      changed();
      await load();
    } catch (e) {
      st.createError = e instanceof ApiError ? e.message : String(e);
      draw();
    }
  }

  async function remove(env) {
    const ok = await confirmDialog({ title: `Delete “${env.key}”?`, text: 'Its SDK keys must be revoked and no flag or experiment may still have rules for it.', ok: 'Delete' });
    if (!ok) return;
    try {
      await environments.remove(env.key);
      toast(`Environment ${env.key} deleted`, 'success');
      changed();
      await load();
    } catch (e) {
      toast(e instanceof ApiError ? e.explanation : String(e), 'error', 9000);
    }
  }

  async function preview() {
    st.busy = true;
    st.promoteError = null;
    draw();
    try {
      st.preview = await environments.promote(st.from, { to: st.to, dry_run: true });
      st.skip = new Set();
    } catch (e) {
      st.preview = null;
      st.promoteError = e instanceof ApiError ? e.message : String(e);
    }
    st.busy = false;
    draw();
  }

  /** The flags of the preview that are checked for promotion. */
  const chosen = () => [...new Set(st.preview.differences.map((d) => d.flag))].filter((k) => !st.skip.has(k));

  async function apply() {
    const flags = chosen();
    const n = st.preview.differences.filter((d) => !st.skip.has(d.flag)).length;
    const ok = await confirmDialog({
      title: `Promote ${st.from} to ${st.to}?`,
      text: `${n} change${n === 1 ? '' : 's'} to ${st.to}'s flags, published at once to its SDKs.`,
      ok: 'Promote',
    });
    if (!ok) return;
    st.busy = true;
    draw();
    try {
      const done = await environments.promote(st.from, { to: st.to, flags });
      toast(done.version === null ? 'Nothing to promote' : `Promoted ${st.from} to ${st.to} (v${done.version})`, 'success');
      st.preview = done;
    } catch (e) {
      st.promoteError = e instanceof ApiError ? e.message : String(e);
    }
    st.busy = false;
    draw();
  }

  function picker(id, value, onChange) {
    return h('select', { id, onchange: (e) => { onChange(e.target.value); st.preview = null; draw(); } },
      (st.list || []).map((e) => h('option', { value: e.key, selected: e.key === value }, e.key)));
  }

  function diff() {
    const p = st.preview;
    if (!p) return null;
    if (!p.differences.length) {
      return h('p', { id: 'promotion-diff', class: 'muted', 'data-empty': 'true' }, p.dry_run ? `${p.to}'s flags already match ${p.from}'s: nothing to promote.` : `Promoted${p.version === null ? ': nothing changed' : ` as version ${p.version}`}.`);
    }
    return h('div', { id: 'promotion-diff' },
      h('table', { class: 'table diff-table' },
        h('thead', {}, h('tr', {}, h('th', {}, p.dry_run ? 'Promote' : ''), h('th', {}, 'Flag'), h('th', {}, 'Field'), h('th', {}, `${p.to} now`), h('th', {}, `After (${p.from}'s)`))),
        h('tbody', {}, p.differences.map((d, i) => h('tr', { 'data-flag': d.flag, 'data-field': d.field },
          h('td', {}, p.dry_run && (i === 0 || p.differences[i - 1].flag !== d.flag)
            ? h('input', {
              type: 'checkbox', 'data-promote': d.flag, 'aria-label': `Promote ${d.flag}`, checked: !st.skip.has(d.flag),
              onchange: (e) => { if (e.target.checked) st.skip.delete(d.flag); else st.skip.add(d.flag); draw(); },
            }) : null),
          h('th', { scope: 'row' }, h('a', { href: `#/flags/${encodeURIComponent(d.flag)}` }, d.flag)),
          h('td', {}, d.field),
          h('td', { class: 'before' }, jsonCell(d.before)),
          h('td', { class: 'after' }, jsonCell(d.after)))))),
      p.dry_run
        ? h('button', { type: 'button', class: 'btn primary', id: 'apply-promotion', disabled: st.busy || !chosen().length, onclick: apply },
          `Promote ${chosen().length} flag${chosen().length === 1 ? '' : 's'}`)
        : h('p', { class: 'success', id: 'promotion-done' }, `Promoted as version ${p.version}.`));
  }

  function draw() {
    if (!alive) return;
    const list = st.list || [];
    render(main, h('div', { class: 'page environments-page' },
      h('header', { class: 'page-head' },
        h('div', {}, h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/flags' }, 'Flags'), ' / '), h('h1', {}, 'Environments'))),
      st.error ? h('div', { class: 'banner critical', role: 'alert' }, st.error) : null,
      h('section', { class: 'card', id: 'projects' },
        h('h2', {}, 'Projects'),
        h('p', { class: 'hint' }, `This page shows the environments of the project “${project.key}”. Each project has its own flags, experiments, keys and results; choose one with the picker at the top.`),
        h('ul', { class: 'chips', id: 'project-list' }, st.projects.map((p) => h('li', { class: 'chip', 'data-project': p.key }, p.key))),
        h('form', {
          class: 'row env-create', id: 'create-project-form', 'aria-label': 'New project', novalidate: true, 'data-instance-only': true,
          onsubmit: (ev) => { ev.preventDefault(); createProject(); },
        },
        h('input', { id: 'project-key', placeholder: 'shop', 'aria-label': 'Project key', autocomplete: 'off', spellcheck: 'false', value: st.newProject, oninput: (e) => { st.newProject = e.target.value; } }),
        h('button', { type: 'submit', class: 'btn', id: 'create-project' }, 'Create project')),
        st.projectError ? h('div', { class: 'field-error', id: 'project-error', role: 'alert' }, st.projectError) : null),
      h('section', { class: 'card' },
        h('table', { class: 'table', id: 'environments' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Name'), h('th', {}, 'Created'), h('th', {}, ''))),
          h('tbody', {}, list.map((e) => h('tr', { 'data-environment': e.key },
            h('th', { scope: 'row' }, h('code', {}, e.key)),
            h('td', {}, e.name),
            h('td', {}, e.created_ms ? f.clock(e.created_ms) : '—'),
            h('td', { class: 'actions' }, e.key === PRODUCTION ? h('span', { class: 'muted small' }, 'default')
              : h('button', { type: 'button', class: 'btn small ghost danger', 'aria-label': `Delete ${e.key}`, 'data-delete': e.key, 'data-edit': true, onclick: () => remove(e) }, 'Delete')))))),
        h('form', {
          class: 'row env-create', id: 'create-environment', 'aria-label': 'New environment', novalidate: true, 'data-edit': true,
          onsubmit: (ev) => { ev.preventDefault(); create(); },
        },
        h('input', {
          id: 'env-key', name: 'key', placeholder: 'staging', required: true, 'aria-label': 'Key', autocomplete: 'off', spellcheck: 'false',
          value: st.newKey, oninput: (e) => { st.newKey = e.target.value; },
        }),
        h('input', { id: 'env-name', name: 'name', placeholder: 'Staging', 'aria-label': 'Name', value: st.newName, oninput: (e) => { st.newName = e.target.value; } }),
        h('button', { type: 'submit', class: 'btn primary', id: 'create-env' }, 'Create environment')),
        st.createError ? h('div', { class: 'field-error', id: 'env-error', role: 'alert' }, st.createError) : null),
      h('section', { class: 'card', id: 'promote', 'data-edit': true },
        h('h2', {}, 'Promote flags'),
        h('p', { class: 'hint' }, 'Copies every flag’s switch, rules and scheduled changes from one environment to another, as one change. Preview the differences first.'),
        h('div', { class: 'row' },
          h('label', {}, 'From ', picker('promote-from', st.from, (v) => { st.from = v; })),
          h('label', {}, 'To ', picker('promote-to', st.to, (v) => { st.to = v; })),
          h('button', { type: 'button', class: 'btn', id: 'preview-promotion', disabled: st.busy || list.length < 2, onclick: preview }, 'Preview')),
        st.promoteError ? h('div', { class: 'field-error', id: 'promote-error', role: 'alert' }, st.promoteError) : null,
        diff())));
  }

  draw();
  load();
  loadProjects();
  return {
    unmount() {
      alive = false;
    },
  };
}
