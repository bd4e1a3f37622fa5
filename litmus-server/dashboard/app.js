// The Litmus dashboard: signing in (signin.js), the router, and the top bar (who is signed
// in and their role, the project and environment pickers, the live indicator, sign out). Views:
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
//   #/people                      people and invitations (instance admins)
//   #/webhooks                    the project's webhooks and their delivery logs (its admins)
//   #setup=, #invite=, #reset=    a one-time link's page (signin.js); #sso-error= a failed SSO
//
// The environment picker in the top bar chooses whose flag states, experiment statuses and
// results every view shows (environment.js); the project picker chooses the project, and with
// it the person's role there (roles.js: a viewer sees no control that changes anything).

import { h, hideTip, toast } from './dom.js';
import { auth, api, ApiError, project, signin } from './api.js';
import { Live } from './live.js';
import { applyRole, canEdit, currentRole, isInstanceAdmin, mountReadOnly } from './roles.js';
import { fragment, replaceFragment, ssoMessage, mountSignIn, mountRedeem } from './signin.js';
import { mountPeople } from './people.js';
import { mountWebhooks } from './webhooks.js';
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
const whoBox = document.getElementById('whoami');
const peopleLink = document.querySelector('[data-nav="people"]');
const webhooksLink = document.querySelector('[data-nav="webhooks"]');
const nav = document.querySelector('.topbar nav');
const envSelect = document.getElementById('environment');
const projectSelect = document.getElementById('project');

/**
 * Fills the project picker (hidden while one project is seen). Choosing another project
 * reopens the live socket in it, reloads its environments and puts the person's role there on
 * the page. A person who is not an instance admin is also offered the projects where they have
 * a role of their own, and the default one.
 */
function loadProjects() {
  api('GET', '/admin/projects').then((d) => {
    const list = [...((d && d.projects) || [])];
    const user = !auth.key && auth.session ? auth.session.user : null;
    if (user) {
      for (const key of ['default', ...Object.keys(user.projects || {})]) {
        if (!list.some((p) => p.key === key)) list.push({ key });
      }
      list.sort((a, b) => (a.key === 'default' ? -1 : b.key === 'default' ? 1 : a.key.localeCompare(b.key)));
    }
    if (!list.some((p) => p.key === project.key)) {
      project.set(list.length ? list[0].key : 'default');
      loadWebhooksAccess();
    }
    projectSelect.replaceChildren(...list.map((p) => h('option', { value: p.key, selected: p.key === project.key }, p.name && p.name !== p.key ? `${p.name} (${p.key})` : p.key)));
    projectSelect.parentElement.hidden = list.length < 2;
    if (auth.signedIn) {
      applyRole();
      drawChrome();
    }
  }).catch(() => {
    projectSelect.parentElement.hidden = true;
  });
}
projectSelect.addEventListener('change', () => {
  project.set(projectSelect.value);
  applyRole();
  loadWebhooksAccess();
  drawChrome();
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
// Whether the People page is offered: an instance admin's session, or a key that may list people.
let peopleAllowed = false;
// Whether a key may manage the project's webhooks (a person: whether they are its admin).
let webhooksByKey = false;
// Whether a one-time link's page is shown (the top bar then offers nothing).
let onLinkPage = false;

/** Whether to offer the Webhooks page: an admin of the project, or a key it does not refuse. */
const webhooksAllowed = () => (auth.key ? webhooksByKey : currentRole() === 'admin');

const live = new Live(() => auth.key, (st) => {
  liveStatus = st;
  drawLive();
}, () => {
  // Several failed opens: if the key or session is the cause, the API says 401 and we sign out.
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

/** The top bar's signed-in part: who, their role in this project, the People link, sign out. */
function drawChrome() {
  const inside = auth.signedIn && !onLinkPage;
  nav.hidden = !inside;
  liveBox.hidden = !inside;
  signOutButton.hidden = !inside;
  whoBox.hidden = !inside;
  peopleLink.hidden = !(inside && peopleAllowed);
  webhooksLink.hidden = !(inside && webhooksAllowed());
  if (!inside) {
    whoBox.replaceChildren();
    return;
  }
  const role = currentRole();
  const user = auth.session && auth.session.user;
  whoBox.dataset.role = role;
  if (user && !auth.key) {
    whoBox.dataset.email = user.email;
    whoBox.title = `Signed in as ${user.email}: ${role} in the project “${project.key}”${user.role === 'admin' ? ', instance admin' : ''}`;
    whoBox.replaceChildren(
      h('span', { class: 'who-name', id: 'whoami-name' }, user.name || user.email),
      user.name && user.name !== user.email ? h('span', { class: 'who-email muted small', id: 'whoami-email' }, user.email) : null,
      h('span', { class: `badge role role-${role}`, id: 'whoami-role', 'data-role': role }, role));
  } else {
    delete whoBox.dataset.email;
    whoBox.title = 'Signed in with an API key: what it may do is its scopes';
    whoBox.replaceChildren(h('span', { class: 'who-name', id: 'whoami-name' }, 'API key'),
      h('span', { class: 'badge role', id: 'whoami-role', 'data-role': 'key' }, 'key'));
  }
}

/** Whether to offer the People page: an instance admin's session; a key unless it is refused. */
function loadPeopleAccess() {
  if (!auth.key) {
    peopleAllowed = isInstanceAdmin();
    drawChrome();
    return;
  }
  api('GET', '/admin/users').then(() => {
    peopleAllowed = true;
  }).catch((e) => {
    peopleAllowed = !(e instanceof ApiError && (e.status === 403 || e.status === 401));
  }).finally(drawChrome);
}

/** Whether a key may manage webhooks in the current project (`GET /admin/webhooks` not 403). */
function loadWebhooksAccess() {
  if (!auth.key) return;
  delete webhooksLink.dataset.access;
  api('GET', '/admin/webhooks').then(() => {
    webhooksByKey = true;
  }).catch((e) => {
    webhooksByKey = !(e instanceof ApiError && (e.status === 403 || e.status === 401));
  }).finally(() => {
    // What the probe found, for the page's tests: `allowed` or `refused`.
    webhooksLink.dataset.access = webhooksByKey ? 'allowed' : 'refused';
    drawChrome();
  });
}

/** Signed in (by session or key): the pickers, the People and Webhooks links, then the view. */
function enter() {
  signInMessage = '';
  onLinkPage = false;
  loadProjects();
  loadEnvironments();
  loadPeopleAccess();
  loadWebhooksAccess();
  route();
}

/** Signs out: ends the session on the server when `end` (the button), forgets the key. */
async function signOut(message = '', { end = false } = {}) {
  if (end && auth.by === 'session') {
    try {
      await signin.logout();
    } catch {
      // The session is gone already: forgetting it here is all that is left.
    }
  }
  auth.clear();
  live.stop();
  peopleAllowed = false;
  webhooksByKey = false;
  projectSelect.parentElement.hidden = true;
  envSelect.parentElement.hidden = true;
  applyRole();
  signInMessage = message;
  if (location.hash && location.hash !== '#/experiments') {
    location.hash = '#/experiments';
  } else {
    route();
  }
}

/** A one-time link's page: the account is made or the password set, then the app. */
function showLink(link) {
  onLinkPage = true;
  live.stop();
  drawChrome();
  current = mountRedeem(main, link, {
    setTitle,
    onSignedIn: () => {
      replaceFragment('#/experiments');
      enter();
    },
    onInvalid: (message) => {
      onLinkPage = false;
      replaceFragment('#/experiments');
      if (auth.signedIn) toast(message, 'error', 9000);
      else signInMessage = message;
      route();
    },
  });
}

function showSignIn() {
  drawChrome();
  current = mountSignIn(main, { message: signInMessage, setTitle, onSignedIn: enter });
}

/** A viewer's page instead of a form that makes something new. */
const readOnly = (ctx, title, back, backLabel) => mountReadOnly(main, ctx, { title, back, backLabel });

function route() {
  if (current) {
    current.unmount();
    current = null;
  }
  hideTip();
  const link = fragment();
  if (link && link.kind) {
    showLink(link);
    return;
  }
  onLinkPage = false;
  if (!auth.signedIn) {
    showSignIn();
    return;
  }
  applyRole();
  drawChrome();
  live.start();
  const parts = (location.hash || '#/experiments').replace(/^#\/?/, '').split('/').filter(Boolean);
  const ctx = { live, setTitle, navigate };
  const section = ['metrics', 'flags', 'environments', 'people', 'webhooks'].includes(parts[0]) ? parts[0] : 'experiments';
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.setAttribute('aria-current', section === a.dataset.nav ? 'page' : 'false');
  }
  // A viewer who opens the address of a change sees a note instead of the form.
  const viewer = !canEdit();
  main.replaceChildren();
  if (section === 'people') {
    current = mountPeople(main, ctx);
  } else if (section === 'webhooks') {
    current = mountWebhooks(main, ctx);
  } else if (section === 'environments') {
    current = mountEnvironments(main, ctx);
  } else if (section === 'flags') {
    if (parts.length === 1) current = mountFlags(main, ctx);
    else if (parts[1] === 'new' && viewer) current = readOnly(ctx, 'New flag', '#/flags', 'Back to the flags');
    else current = mountFlagForm(main, parts[1] === 'new' ? null : decodeURIComponent(parts[1]), ctx);
  } else if (section === 'metrics') {
    if (parts.length === 1) current = mountCatalog(main, ctx);
    else if (parts[1] === 'new' && viewer) current = readOnly(ctx, 'New metric', '#/metrics', 'Back to the metrics');
    else current = mountMetricForm(main, parts[1] === 'new' ? null : decodeURIComponent(parts[1]), ctx);
  } else if (parts[0] === 'holdouts' && parts.length > 1) {
    current = mountHoldout(main, decodeURIComponent(parts[1]), ctx);
  } else if (parts[0] !== 'experiments' || parts.length === 1) {
    current = mountList(main, ctx);
  } else if (parts[1] === 'new') {
    current = viewer ? readOnly(ctx, 'New experiment', '#/experiments', 'Back to the experiments') : mountForm(main, null, ctx);
  } else {
    const key = decodeURIComponent(parts[1]);
    const results = `#/experiments/${encodeURIComponent(key)}`;
    if (parts[2] === 'edit') current = viewer ? readOnly(ctx, `Edit ${key}`, results, `Back to the results of ${key}`) : mountForm(main, key, ctx);
    else if (parts[2] === 'plan') current = mountPlan(main, key, ctx);
    else current = mountResults(main, key, ctx);
  }
  window.scrollTo(0, 0);
}

window.addEventListener('litmus:unauthorized', (e) => {
  if (!auth.signedIn) return;
  signOut(e.detail && e.detail.explanation ? e.detail.explanation : 'You were signed out (401): sign in again.');
});
signOutButton.addEventListener('click', () => signOut('', { end: true }));
// The signed-in person changed (their own role, on the People page): read the session again.
window.addEventListener('litmus:session', () => {
  if (auth.by !== 'session') return;
  signin.session().then((me) => {
    auth.setSession(me);
    loadPeopleAccess();
    route();
  }).catch(() => {});
});
window.addEventListener('hashchange', route);

/**
 * At load: a failed single sign-on's message; else a key of this tab, or the session the
 * server's cookie holds (`GET /auth/session`), decides whether the app or the sign-in page
 * shows. A one-time link's page shows either way.
 */
async function start() {
  const link = fragment();
  if (link && link.ssoError !== undefined) {
    signInMessage = ssoMessage(link.ssoError);
    replaceFragment('#/experiments');
  } else if (!auth.key) {
    try {
      auth.setSession(await signin.session());
    } catch {
      auth.setSession(null);
    }
  }
  if (auth.signedIn) enter();
  else route();
}
start();
