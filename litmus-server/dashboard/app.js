// The Litmus dashboard: the admin key, the router and the live indicator. Views:
//   #/experiments                 the list
//   #/experiments/new             a new experiment
//   #/experiments/<key>           its results, live
//   #/experiments/<key>/edit      its settings
//   #/experiments/<key>/plan      its planning calculator
//   #/holdouts/<key>              a holdout's readout
//   #/metrics                     the metric catalogue
//   #/metrics/new                 a new metric
//   #/metrics/<key>               a metric's definition, to edit
//   #/flags                       the feature flags
//   #/flags/new                   a new flag
//   #/flags/<key>                 a flag's rules, to edit
//   #/environments                the environments, and promotion between them
//
// The environment picker in the top bar chooses whose flag states, experiment statuses and
// results every view shows (environment.js).

import { h, hideTip } from './dom.js';
import { auth, api, ApiError, project } from './api.js';
import { Live } from './live.js';
import { mountList } from './list.js';
import { mountForm } from './form.js';
import { mountResults } from './results.js';
import { mountPlan } from './plan.js';
import { mountHoldout } from './holdout.js';
import { mountCatalog } from './catalog.js';
import { mountMetricForm } from './metric-form.js';
import { mountFlags } from './flags.js';
import { mountFlagForm } from './flag-form.js';
import { mountEnvironments } from './environments.js';
import { fillPicker } from './environment.js';
import * as f from './format.js';

const main = document.getElementById('main');
const signOutButton = document.getElementById('signout');
const envSelect = document.getElementById('environment');
const projectSelect = document.getElementById('project');

/**
 * Fills the project picker (hidden while the key sees one project). Choosing another project
 * reopens the live socket in it and reloads its environments.
 */
function loadProjects() {
  api('GET', '/admin/projects').then((d) => {
    const list = (d && d.projects) || [];
    if (!list.some((p) => p.key === project.key)) project.set(list.length ? list[0].key : 'default');
    projectSelect.replaceChildren(...list.map((p) => h('option', { value: p.key, selected: p.key === project.key }, p.name && p.name !== p.key ? `${p.name} (${p.key})` : p.key)));
    projectSelect.parentElement.hidden = list.length < 2;
  }).catch(() => {
    projectSelect.parentElement.hidden = true;
  });
}
projectSelect.addEventListener('change', () => {
  project.set(projectSelect.value);
  live.stop();
  loadEnvironments();
  route();
});
window.addEventListener('litmus:projects', loadProjects);

/** Fills the environment picker (hidden while production is the only environment). */
function loadEnvironments() {
  api('GET', '/admin/environments').then((d) => {
    const list = (d && d.environments) || [];
    fillPicker(envSelect, list, () => route());
    envSelect.parentElement.hidden = list.length < 2;
  }).catch(() => {
    envSelect.parentElement.hidden = true;
  });
}
window.addEventListener('litmus:environments', loadEnvironments);
const liveBox = document.getElementById('live');
let current = null;
let signInMessage = '';
let liveStatus = { state: 'idle' };

const live = new Live(() => auth.key, (st) => {
  liveStatus = st;
  drawLive();
}, () => {
  // Several failed opens: if the key is the cause, the API says 401 and we sign out.
  api('GET', '/admin/experiments').catch(() => {});
});

function drawLive() {
  const st = liveStatus;
  const text = liveBox.querySelector('.live-text');
  let label;
  switch (st.state) {
    case 'connected':
      label = 'Live';
      if (st.lastUpdate) label += ` · updated ${f.ago(st.lastUpdate)}`;
      if (st.version !== undefined) label += ` · v${st.version}`;
      break;
    case 'connecting':
      label = 'Connecting…';
      break;
    case 'reconnecting': {
      const s = st.retryAt ? Math.max(0, Math.ceil((st.retryAt - Date.now()) / 1000)) : 0;
      label = s > 0 ? `Reconnecting in ${s} s` : 'Reconnecting…';
      break;
    }
    default:
      label = 'Not connected';
  }
  liveBox.dataset.state = st.state;
  liveBox.title = st.reason ? `Last problem: ${st.reason}` : st.lastUpdate ? `Last results at ${f.clock(st.lastUpdate)}` : '';
  if (text.textContent !== label) text.textContent = label;
}
setInterval(drawLive, 1000);

function setTitle(t) {
  document.title = t ? `${t} · Litmus` : 'Litmus';
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signOut(message = '') {
  auth.clear();
  live.stop();
  signInMessage = message;
  if (location.hash && location.hash !== '#/experiments') {
    location.hash = '#/experiments';
  } else {
    route();
  }
}

function showSignIn() {
  signOutButton.hidden = true;
  setTitle('Sign in');
  const input = h('input', {
    id: 'admin-key', type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true,
    placeholder: 'paste the admin key', 'aria-describedby': 'key-hint',
  });
  const error = h('div', { id: 'signin-error', class: 'field-error', role: 'alert', hidden: !signInMessage }, signInMessage);
  const button = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h' }, 'Sign in to Litmus'),
    h('label', { for: 'admin-key' }, 'Admin key'),
    input,
    h('p', { id: 'key-hint', class: 'hint' }, 'The key the server was started with (LITMUS_ADMIN_KEY), or any key with admin scopes. It is kept in this tab only, until you sign out or close it.'),
    error,
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = 'Paste a key first.';
      error.hidden = false;
      return;
    }
    button.disabled = true;
    auth.set(key);
    try {
      await api('GET', '/admin/experiments');
      signInMessage = '';
      loadProjects();
      loadEnvironments();
      route();
    } catch (err) {
      auth.clear();
      error.textContent = err instanceof ApiError ? err.explanation : String(err);
      error.hidden = false;
      button.disabled = false;
      input.focus();
      input.select();
    }
  });
  main.replaceChildren(h('div', { class: 'page signin-page' }, form));
  input.focus();
}

function route() {
  if (current) {
    current.unmount();
    current = null;
  }
  hideTip();
  if (!auth.key) {
    showSignIn();
    return;
  }
  signOutButton.hidden = false;
  live.start();
  const parts = (location.hash || '#/experiments').replace(/^#\/?/, '').split('/').filter(Boolean);
  const ctx = { live, setTitle, navigate };
  const section = ['metrics', 'flags', 'environments'].includes(parts[0]) ? parts[0] : 'experiments';
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.setAttribute('aria-current', section === a.dataset.nav ? 'page' : 'false');
  }
  main.replaceChildren();
  if (section === 'environments') {
    current = mountEnvironments(main, ctx);
  } else if (section === 'flags') {
    if (parts.length === 1) current = mountFlags(main, ctx);
    else current = mountFlagForm(main, parts[1] === 'new' ? null : decodeURIComponent(parts[1]), ctx);
  } else if (section === 'metrics') {
    if (parts.length === 1) current = mountCatalog(main, ctx);
    else current = mountMetricForm(main, parts[1] === 'new' ? null : decodeURIComponent(parts[1]), ctx);
  } else if (parts[0] === 'holdouts' && parts.length > 1) {
    current = mountHoldout(main, decodeURIComponent(parts[1]), ctx);
  } else if (parts[0] !== 'experiments' || parts.length === 1) {
    current = mountList(main, ctx);
  } else if (parts[1] === 'new') {
    current = mountForm(main, null, ctx);
  } else {
    const key = decodeURIComponent(parts[1]);
    if (parts[2] === 'edit') current = mountForm(main, key, ctx);
    else if (parts[2] === 'plan') current = mountPlan(main, key, ctx);
    else current = mountResults(main, key, ctx);
  }
  window.scrollTo(0, 0);
}

window.addEventListener('litmus:unauthorized', (e) => {
  signOut(e.detail && e.detail.explanation ? e.detail.explanation : 'The admin key was not accepted (401).');
});
signOutButton.addEventListener('click', () => signOut(''));
window.addEventListener('hashchange', route);
if (auth.key) {
  loadProjects();
  loadEnvironments();
}
route();
