// People in the dashboard, driven by dashboard.test.mjs against the same server: the first
// admin made with the set-up link the server logs at start (setupChecks); the People page
// (signed in with the key) inviting an editor and a viewer, each link opened in a fresh browser
// context to join and land signed in; the sign-in page's invalid-credentials message and
// signing out and in again; what a viewer sees (no control that changes anything, the
// read-only note at a "new" address, a direct write refused with 403) and how their role
// follows the project picker; an editor creating an experiment through the form but refused
// people; a person's project roles set in their "Project roles" panel on the People page (the
// server's 422 shown there; the person's role following the picker after a reload); a role
// changed and a person disabled on the People page; a password reset link
// (peopleChecks); and single sign-on against scripts/oidc/provider.mjs (ssoChecks).

import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

const PASSWORD = 'correct horse battery staple';

// The server lets one address make 10 sign-in attempts at once (`/auth/login`, `/token`,
// `/setup`, `/accept`; one more every 6 s): peopleChecks makes 10 (each link opened is 2), so a
// new check that signs in must wait for the bucket to refill or replace one.

/** A fresh browser context (no cookie, no key) and its page, collecting its problems. */
async function fresh(browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // The probe of a signed-out session, a wrong password, refused writes and used links are expected.
    if (/Failed to load resource: the server responded with a status of (401|403|409|422)/.test(text)) return;
    // A server without single sign-on answers /auth/sso 404.
    if (/status of 404/.test(text) && /\/auth\/sso$/.test((m.location() || {}).url || '')) return;
    problems.push(`console: ${text}`);
  });
  return { context, page, problems };
}

/** How many of the elements `selector` names are visible. */
const visibleCount = (page, selector) => page.locator(selector).evaluateAll((els) => els.filter((e) => e.checkVisibility()).length);

/** Opens a one-time link and fills its form; lands signed in as `email`. */
async function redeem(page, link, { kind, email, name }) {
  await page.goto(link);
  await page.waitForSelector(`#redeem-form[data-kind="${kind}"]`);
  if (name !== undefined) await page.fill('#redeem-name', name);
  await page.fill('#redeem-password', PASSWORD);
  await page.fill('#redeem-confirm', PASSWORD);
  await page.click('#redeem-submit');
  await page.waitForSelector(`#whoami[data-email="${email}"]`);
}

/** Signs in on the sign-in page with email and password. */
async function signIn(page, email, password = PASSWORD) {
  await page.waitForSelector('#email');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#signin-submit');
}

/**
 * The first admin: the set-up link the server logs at start while nobody exists makes them in a
 * fresh browser. Answers `{email}`, or null when the log has no link (someone exists already).
 */
export async function setupChecks({ browser, BASE, check, assert }) {
  const log = readFileSync(process.env.SERVER_LOG, 'utf8');
  const token = (/#setup=([0-9a-f]+)/.exec(log) || [])[1];
  if (!token) return null;
  const email = `admin-${Date.now().toString(36)}@example.com`;
  await check('people: the set-up link logged at start makes the first admin, signed in as an instance admin who sees People', async () => {
    const t = await fresh(browser);
    try {
      await t.page.goto(`${BASE}/dashboard/#setup=${token}`);
      await t.page.waitForSelector('#redeem-form[data-kind="setup"]');
      assert((await t.page.textContent('#redeem-title')).trim() === 'Create the first admin', 'the title');
      await t.page.fill('#redeem-email', email);
      await t.page.fill('#redeem-name', 'Ada Admin');
      await t.page.fill('#redeem-password', PASSWORD);
      await t.page.fill('#redeem-confirm', `${PASSWORD}!`);
      await t.page.click('#redeem-submit');
      await t.page.waitForSelector('#redeem-confirm-error:not([hidden])');
      await t.page.fill('#redeem-confirm', PASSWORD);
      await t.page.click('#redeem-submit');
      await t.page.waitForSelector(`#whoami[data-email="${email}"]`);
      assert((await t.page.textContent('#whoami-role')).trim() === 'admin', 'the role shown');
      assert(await t.page.evaluate(() => location.hash) === '#/experiments', 'the token left the address');
      await t.page.click('#people-link');
      await t.page.waitForSelector(`#people-table tr[data-user="${email}"] .tag`);
      assert(await t.page.isVisible('#invite-form'), 'an instance admin can invite');
      assert(t.problems.length === 0, t.problems.join('\n'));
    } finally {
      await t.context.close();
    }
  });
  return { email };
}

/** The people checks: the arguments are dashboard.test.mjs's helpers, the browser and `exp`, a running experiment. */
export async function peopleChecks({ page, browser, BASE, admin, check, assert, shot, exp, firstAdmin }) {
  const tag = Date.now().toString(36);
  const editor = `ed-${tag}@example.com`;
  const viewer = `vi-${tag}@example.com`;
  const flag = `people-${tag}`;
  const api = async (method, path, body) => {
    const res = await fetch(`${BASE}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const person = async (email) => (await api('GET', '/admin/users')).body.users.find((u) => u.email === email);
  // A project besides the default one, for a per-project role.
  let other = (await api('GET', '/admin/projects')).body.projects.map((p) => p.key).find((k) => k !== 'default');
  if (!other) {
    other = `team-${tag}`;
    assert((await api('POST', '/admin/projects', { key: other })).status === 201, 'a second project');
  }
  assert((await api('PUT', `/admin/flags/${flag}`, { key: flag, type: 'boolean', default: false, rules: [{ kind: 'force', value: true }] })).status === 200, 'a flag');
  // The People page loaded afresh (through another page: the address may be #/people already).
  const toPeople = async () => {
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.evaluate(() => { location.hash = '#/people'; });
    await page.waitForSelector('#people-table');
  };
  const links = {};
  const open = [];
  let ed = null;
  let vi = null;

  try {
    await check('people: the key sees People; invitations made in its form show their link once, with a copy button', async () => {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
      await page.evaluate(() => { location.hash = '#/people'; });
      await page.waitForSelector('#people-link', { state: 'visible' });
      await page.waitForSelector('#invite-form');
      if (firstAdmin) await page.waitForSelector(`#people-table tr[data-user="${firstAdmin.email}"]`);
      await page.waitForSelector(`#invite-projects [data-project-role="${other}"]`);
      for (const [email, role] of [[editor, 'editor'], [viewer, 'viewer']]) {
        await page.fill('#invite-email', email);
        await page.selectOption('#invite-role', role);
        if (email === viewer) await page.selectOption(`[data-project-role="${other}"]`, 'editor');
        await page.click('#invite-submit');
        await page.waitForSelector(`#new-link[data-email="${email}"]`);
        links[email] = await page.inputValue('#new-link-url');
        assert(new RegExp(`^${BASE}/dashboard/#invite=[0-9a-f]{64}$`).test(links[email]), `the link: ${links[email]}`);
        await page.waitForSelector(`#invitations-table tr[data-invitation="${email}"]`);
      }
      const row = await page.textContent(`#invitations-table tr[data-invitation="${viewer}"]`);
      assert(/viewer/.test(row) && row.includes(`${other}: editor`), `the viewer's invitation: ${row}`);
      await page.click('#copy-link');
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert(copied === links[viewer], `copied: ${copied}`);
      await shot(page, 'people', { fullPage: true });
      if (firstAdmin) {
        await page.fill('#invite-email', firstAdmin.email);
        await page.click('#invite-submit');
        await page.waitForSelector('#invite-error');
        assert(/has an account/.test(await page.textContent('#invite-error')), 'the 409 is shown at the form');
      }
      // Shown once: the page opened again has no link.
      await page.evaluate(() => { location.hash = '#/flags'; });
      await page.evaluate(() => { location.hash = '#/people'; });
      await page.waitForSelector(`#invitations-table tr[data-invitation="${viewer}"]`);
      assert(!(await page.$('#new-link')), 'the link is shown again');
    });

    await check('people: each link, opened in a fresh browser, joins with a name and password and lands signed in', async () => {
      ed = await fresh(browser);
      vi = await fresh(browser);
      open.push(ed, vi);
      for (const [t, email, role, name] of [[ed, editor, 'editor', 'Eddie Editor'], [vi, viewer, 'viewer', 'Vera Viewer']]) {
        await t.page.goto(links[email]);
        await t.page.waitForSelector('#redeem-form[data-kind="invite"]');
        assert((await t.page.textContent('#redeem-title')).trim() === `Join Litmus as ${email}`, 'the title');
        await t.page.fill('#redeem-name', name);
        await t.page.fill('#redeem-password', PASSWORD);
        await t.page.fill('#redeem-confirm', PASSWORD);
        if (email === viewer) await shot(t.page, 'join');
        await t.page.click('#redeem-submit');
        await t.page.waitForSelector(`#whoami[data-email="${email}"]`);
        assert((await t.page.textContent('#whoami-name')).trim() === name, 'the name shown');
        assert((await t.page.textContent('#whoami-role')).trim() === role, 'the role shown');
        assert(await t.page.evaluate(() => location.hash) === '#/experiments', 'the token left the address');
        await t.page.waitForSelector('#experiments-table, .empty-state');
        assert(await t.page.isHidden('#people-link'), 'People offered to a non-admin');
        const stored = await person(email);
        assert(stored && stored.role === role && stored.name === name, JSON.stringify(stored));
      }
      const pending = (await api('GET', '/admin/users')).body.invitations.map((i) => i.email);
      assert(!pending.includes(editor) && !pending.includes(viewer), `still pending: ${pending}`);
    });

    await check('people: a wrong password shows the invalid-credentials message; signing out and in again works', async () => {
      await vi.page.click('#signout');
      await vi.page.waitForSelector('#email');
      const status = await vi.page.evaluate(() => fetch('/auth/session').then((r) => r.status));
      assert(status === 401, `the session after signing out: ${status}`);
      assert(await vi.page.isVisible('#password') && await vi.page.isHidden('#admin-key'), 'email and password first, the key behind its toggle');
      await signIn(vi.page, viewer, 'not the password at all');
      await vi.page.waitForSelector('#signin-error:not([hidden])');
      const text = await vi.page.textContent('#signin-error');
      assert(/email or the password is wrong/.test(text), `message: ${text}`);
      await shot(vi.page, 'signin');
      await signIn(vi.page, viewer);
      await vi.page.waitForSelector(`#whoami[data-email="${viewer}"]`);
    });

    await check('people: a viewer sees no edit controls (experiments, results, flags, a flag) and the read-only note at #/experiments/new', async () => {
      const p = vi.page;
      assert(await p.evaluate(() => document.body.dataset.role) === 'viewer', 'body[data-role]');
      await p.evaluate(() => { location.hash = '#/experiments'; });
      await p.waitForSelector(`#experiments-table tr[data-experiment="${exp}"]`);
      for (const sel of ['#new-experiment', '#experiments-table [data-action]', '#experiments-table a[href$="/edit"]']) {
        assert(await visibleCount(p, sel) === 0, `a viewer sees ${sel}`);
      }
      await shot(p, 'viewer', { fullPage: true });
      // Results, live over the session's WebSocket, exported as CSV with the cookie.
      await p.click(`#experiments-table tr[data-experiment="${exp}"] a.exp-link`);
      await p.waitForSelector(`.results-page[data-experiment="${exp}"] .results-table`);
      await p.waitForSelector('#live[data-state="connected"]');
      for (const sel of ['#edit-experiment', '.page-head [data-action]']) assert(await visibleCount(p, sel) === 0, `a viewer sees ${sel}`);
      assert(await p.isVisible('#export-csv') && await p.isVisible('#plan-link'), 'reading stays: export and plan');
      const [download] = await Promise.all([p.waitForEvent('download'), p.click('#export-csv')]);
      const csv = readFileSync(await download.path(), 'utf8');
      assert(csv.startsWith('metric,kind,step,variant,'), `CSV: ${csv.slice(0, 60)}`);
      // Flags: the state in words instead of the switch.
      await p.evaluate(() => { location.hash = '#/flags'; });
      await p.waitForSelector(`#flags-table tr[data-flag="${flag}"]`);
      for (const sel of ['#new-flag', '#flags-table button[data-switch]', '#flags-table a[href^="#/flags/"].btn', '#flags-table button[aria-label^="Delete"]']) {
        assert(await visibleCount(p, sel) === 0, `a viewer sees ${sel}`);
      }
      assert((await p.textContent(`[data-state="${flag}"]`)).trim() === 'On', 'the flag\'s state in words');
      await p.evaluate((k) => { location.hash = `#/flags/${k}`; }, flag);
      await p.waitForSelector('form.flag-form[data-readonly] #read-only-note');
      for (const sel of ['#save-flag', '#delete-flag', '#try-flag', '.try-it', '#add-rule', '.rule-buttons button']) {
        assert(await visibleCount(p, sel) === 0, `a viewer sees ${sel}`);
      }
      assert(await p.isDisabled('#ff-type') && await p.isDisabled('#ff-enabled'), 'the flag\'s fields are read-only');
      await shot(p, 'viewer-flag', { fullPage: true });
      await p.evaluate(() => { location.hash = '#/experiments/new'; });
      await p.waitForSelector('#read-only-note');
      assert(/view but not change/.test(await p.textContent('#read-only-note')), 'the note');
      assert(!(await p.$('form.form-page')), 'the form is shown to a viewer');
      await p.evaluate(() => { location.hash = '#/metrics'; });
      await p.waitForSelector('.catalog-page');
      assert(await visibleCount(p, '#new-metric') === 0, 'a viewer sees New metric');
      const metric = (await api('GET', '/admin/metrics')).body.metrics[0];
      if (metric) {
        await p.evaluate((k) => { location.hash = `#/metrics/${encodeURIComponent(k)}`; }, metric.key);
        await p.waitForSelector('form.metric-form[data-readonly] #read-only-note');
        assert(await visibleCount(p, '#save-metric, #delete-metric') === 0, 'a viewer sees Save or Delete');
        assert(await p.isDisabled('#mf-kind'), 'the metric\'s fields are read-only');
      }
      await p.evaluate(() => { location.hash = '#/environments'; });
      await p.waitForSelector('#environments tr[data-environment="production"]');
      for (const sel of ['#create-environment', '#environments [data-delete]', '#promote', '#create-project-form']) {
        assert(await visibleCount(p, sel) === 0, `a viewer sees ${sel}`);
      }
      await p.evaluate(() => { location.hash = '#/people'; });
      await p.waitForSelector('#people-denied');
      assert(vi.problems.length === 0, vi.problems.join('\n'));
    });

    await check('people: a viewer\'s direct API write is refused (403; without the CSRF token too)', async () => {
      const [withToken, without] = await vi.page.evaluate(async () => {
        const me = await (await fetch('/auth/session')).json();
        const put = (headers) => fetch('/admin/experiments/x', { method: 'PUT', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' })
          .then(async (r) => [r.status, (await r.json()).error.code]);
        return [await put({ 'X-CSRF-Token': me.csrf }), await put({})];
      });
      assert(withToken[0] === 403 && withToken[1] === 'forbidden', `with the token: ${withToken}`);
      assert(without[0] === 403 && without[1] === 'csrf_failed', `without: ${without}`);
    });

    await check('people: the role follows the project picker (the viewer is an editor in another project)', async () => {
      const p = vi.page;
      await p.evaluate(() => { location.hash = '#/flags'; });
      await p.waitForSelector(`#project option[value="${other}"]`, { state: 'attached' });
      await p.selectOption('#project', other);
      await p.waitForSelector('body[data-role="editor"]');
      assert((await p.textContent('#whoami-role')).trim() === 'editor', 'the role shown there');
      await p.waitForSelector('.flags-page');
      assert(await p.isVisible('#new-flag'), 'an editor there sees New flag');
      await p.selectOption('#project', 'default');
      await p.waitForSelector('body[data-role="viewer"]');
      await p.waitForSelector('.flags-page');
      assert(await visibleCount(p, '#new-flag') === 0, 'back in the default project, a viewer again');
    });

    await check('people: the admin sets a person\'s project roles in their "Project roles" panel; a 422 is shown there; the person\'s role follows after a reload', async () => {
      const p = vi.page;
      const panel = `details[data-project-roles="${viewer}"]`;
      const select = `${panel} select[data-user-project="${other}"]`;
      const save = `${panel} [data-save-projects]`;
      const error = `${panel} [data-project-roles-error]`;
      const stored = async () => JSON.stringify((await person(viewer)).projects);
      const until = async (want) => {
        for (let i = 0; i < 100 && (await stored()) !== want; i += 1) await new Promise((r) => setTimeout(r, 100));
        assert((await stored()) === want, `projects: ${await stored()}, not ${want}`);
      };
      /** The viewer's page in `key`, after a reload: their role there, whether they see New flag. */
      const viewerIn = async (key, role) => {
        await p.selectOption('#project', key);
        await p.evaluate(() => { location.hash = '#/flags'; });
        await p.reload();
        await p.waitForSelector(`body[data-role="${role}"]`);
        await p.waitForSelector('.flags-page');
        assert(await p.inputValue('#project') === key, 'the picker after the reload');
        assert((await p.textContent('#whoami-role')).trim() === role, `the role shown in ${key}`);
        const sees = await visibleCount(p, '#new-flag');
        assert(sees === (role === 'viewer' ? 0 : 1), `in ${key} as ${role}, New flag shown ${sees} times`);
      };
      await toPeople();
      await page.waitForSelector(`${panel}:not([open])`);
      await page.click(`${panel} summary`);
      await page.waitForSelector(`${select}`, { state: 'visible' });
      // The invitation's role there; "—" (their own role) in the others; nothing to save yet.
      assert(await page.inputValue(select) === 'editor', 'the stored role in the panel');
      assert(await page.inputValue(`${panel} select[data-user-project="default"]`) === '', 'the default project');
      assert(/— \(their role: viewer\)/.test(await page.textContent(`${select} option[value=""]`)), 'the "—" option');
      assert(await page.isDisabled(save), 'Save offered with nothing changed');
      // "—" saved: the project leaves the map, and there they are the viewer they are elsewhere.
      await page.selectOption(select, '');
      await page.click(save);
      await until('{}');
      await page.waitForSelector(`${save}:disabled`);
      assert(/their role everywhere/.test(await page.textContent(`${panel} summary`)), 'the summary');
      await viewerIn(other, 'viewer');
      // A refusal stays in the panel with the choice: the request gets an unknown project on the
      // way (no project can be deleted), and the server's own 422 at \`projects\` is shown.
      const route = `${BASE}/admin/users/${(await person(viewer)).id}`;
      await page.route(route, (r) => r.continue({ postData: JSON.stringify({ projects: { ...r.request().postDataJSON().projects, [`gone-${tag}`]: 'viewer' } }) }));
      try {
        await page.selectOption(select, 'editor');
        await page.click(save);
        await page.waitForSelector(error);
        assert(/no project/.test(await page.textContent(error)), `the message: ${await page.textContent(error)}`);
      } finally {
        await page.unroute(route);
      }
      assert(await stored() === '{}', 'stored despite the 422');
      assert(await page.inputValue(select) === 'editor' && await page.isEnabled(save), 'the choice is kept to try again');
      assert(!(await page.$('#people-error')), 'the error above the table too');
      await page.click(save);
      await until(JSON.stringify({ [other]: 'editor' }));
      await page.waitForSelector(`${panel}:not(:has([data-project-roles-error]))`);
      assert((await page.textContent(`${panel} summary`)).includes(`${other}: editor`), 'the summary');
      // GET /admin/users from the admin's page, with the key it signed in with.
      const listed = await page.evaluate(async (email) => {
        const res = await fetch('/admin/users', { headers: { authorization: `Bearer ${sessionStorage.getItem('litmus.adminKey')}` } });
        return [res.status, ((await res.json()).users || []).find((u) => u.email === email)];
      }, viewer);
      assert(listed[0] === 200 && listed[1] && JSON.stringify(listed[1].projects) === JSON.stringify({ [other]: 'editor' }) && listed[1].role === 'viewer', `listed: ${JSON.stringify(listed)}`);
      await shot(page, 'people-project-roles', { fullPage: true });
      // The person: an editor there after a reload, still a viewer in the default project.
      await viewerIn(other, 'editor');
      await viewerIn('default', 'viewer');
      assert(vi.problems.length === 0, vi.problems.join('\n'));
    });

    const edExp = `ed-exp-${tag}`;
    await check('people: an editor creates an experiment through the form, recorded as theirs; no People, /admin/users is 403', async () => {
      const p = ed.page;
      assert(await p.isHidden('#people-link'), 'People offered to an editor');
      await p.evaluate(() => { location.hash = '#/experiments'; });
      await p.click('#new-experiment');
      await p.waitForSelector('form.form-page');
      await p.fill('input[name=key]', edExp);
      await p.fill('#metric-rows tr:nth-child(1) [data-field=key]', 'signup');
      await p.click('#save');
      await p.waitForSelector(`.results-page[data-experiment="${edExp}"] .page-head .badge[data-status="draft"]`);
      assert(await p.isVisible('.page-head button[data-action="running"]'), 'an editor sees Start');
      assert((await api('GET', `/admin/experiments/${edExp}`)).status === 200, 'stored');
      const entry = (await api('GET', '/admin/audit?limit=50')).body.entries.find((e) => e.after && e.after.key === edExp);
      assert(entry && entry.actor === editor, `the audit's actor: ${JSON.stringify(entry && entry.actor)}`);
      const status = await p.evaluate(() => fetch('/admin/users').then((r) => r.status));
      assert(status === 403, `/admin/users answered ${status}`);
      await p.evaluate(() => { location.hash = '#/environments'; });
      await p.waitForSelector('#create-environment', { state: 'visible' });
      assert(await visibleCount(p, '#create-project-form') === 0, 'an editor is offered to create a project');
      assert(ed.problems.length === 0, ed.problems.join('\n'));
    });

    await check('people: the admin makes the viewer an editor on the People page; after a reload they have edit controls', async () => {
      await toPeople();
      const select = `[data-role-select="${viewer}"]`;
      await page.waitForSelector(select);
      await page.selectOption(select, 'editor');
      for (;;) {
        if ((await person(viewer)).role === 'editor') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert(!(await page.$('#people-error')), 'an error is shown');
      await vi.page.evaluate(() => { location.hash = '#/experiments'; });
      await vi.page.reload();
      await vi.page.waitForSelector('body[data-role="editor"]');
      await vi.page.waitForSelector('#new-experiment', { state: 'visible' });
      assert((await vi.page.textContent('#whoami-role')).trim() === 'editor', 'the role shown');
    });

    if (firstAdmin) {
      await check('people: the only enabled admin cannot be demoted: the server\'s 409 is shown above the table', async () => {
        const select = `[data-role-select="${firstAdmin.email}"]`;
        await page.selectOption(select, 'viewer');
        await page.waitForSelector('#people-error');
        assert(/only enabled admin/.test(await page.textContent('#people-error')), 'the message');
        assert(await page.inputValue(select) === 'admin', 'the select shows the stored role again');
        assert((await person(firstAdmin.email)).role === 'admin', 'demoted');
      });
    }

    await check('people: disabling asks first; a disabled person is signed out at their next call (401)', async () => {
      const box = `[data-disable="${editor}"]`;
      await page.click(box);
      await page.waitForSelector('dialog#confirm[open]');
      await page.click('dialog#confirm button[value="cancel"]');
      await page.waitForFunction(() => !document.getElementById('confirm').open);
      assert(!(await page.isChecked(box)) && !(await person(editor)).disabled_ms, 'cancel disabled them');
      await page.click(box);
      await page.waitForSelector('dialog#confirm[open]');
      await page.click('#confirm-ok');
      await page.waitForSelector(`#people-table tr.disabled[data-user="${editor}"]`);
      assert((await person(editor)).disabled_ms, 'not disabled');
      await ed.page.evaluate(() => { location.hash = '#/flags'; });
      await ed.page.waitForSelector('#signin-error:not([hidden])');
      const text = await ed.page.textContent('#signin-error');
      assert(/session has ended/.test(text) && /401/.test(text), `message: ${text}`);
      assert(await ed.page.isVisible('#email'), 'the sign-in page');
    });

    await check('people: a reset link made on the People page sets a new password; the old one is refused; the link works once', async () => {
      await page.click(`[data-reset="${viewer}"]`);
      await page.waitForSelector(`#new-link[data-kind="reset"][data-email="${viewer}"]`);
      const link = await page.inputValue('#new-link-url');
      assert(new RegExp(`^${BASE}/dashboard/#reset=[0-9a-f]{64}$`).test(link), `the link: ${link}`);
      const rs = await fresh(browser);
      open.push(rs);
      await rs.page.goto(link);
      await rs.page.waitForSelector('#redeem-form[data-kind="reset"]');
      assert((await rs.page.textContent('#redeem-title')).trim() === `Set a new password for ${viewer}`, 'the title');
      assert(!(await rs.page.$('#redeem-name')), 'a reset asks no name');
      await rs.page.fill('#redeem-password', `${PASSWORD} two`);
      await rs.page.fill('#redeem-confirm', `${PASSWORD} two`);
      await rs.page.click('#redeem-submit');
      await rs.page.waitForSelector(`#whoami[data-email="${viewer}"]`);
      const old = await fresh(browser);
      open.push(old);
      await old.page.goto(`${BASE}/dashboard/`);
      await signIn(old.page, viewer, PASSWORD);
      await old.page.waitForSelector('#signin-error:not([hidden])');
      assert(/email or the password is wrong/.test(await old.page.textContent('#signin-error')), 'the old password');
      await old.page.goto(link);
      await old.page.waitForFunction(() => /unknown, used or expired/.test(document.getElementById('signin-error')?.textContent || ''));
      assert(await old.page.isVisible('#email'), 'the sign-in form after a used link');
      assert(await old.page.evaluate(() => location.hash) === '#/experiments', 'the used token left the address');
      for (const t of [rs, old]) assert(t.problems.length === 0, t.problems.join('\n'));
    });
  } finally {
    for (const t of open) await t.context.close();
    await api('DELETE', `/admin/flags/${flag}`);
  }
}

/**
 * Single sign-on against the test provider (scripts/oidc/provider.mjs, `OIDC_PROVIDER`): the
 * server restarted with it; its person lands signed in with the default role; a provider that
 * signs for another audience sends them back to the sign-in page with a message.
 * `restartServer` and `serverUp` are dashboard.test.mjs's.
 */
export async function ssoChecks({ page, browser, BASE, check, assert, shot, restartServer, serverUp }) {
  const provider = spawn(process.execPath, [process.env.OIDC_PROVIDER, '--port', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  // Its stdin stays open: the provider exits with the test.
  const issuer = await new Promise((resolve, reject) => {
    let buf = '';
    provider.stdout.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\n');
      if (end >= 0) resolve(JSON.parse(buf.slice(0, end)).issuer);
    });
    provider.on('exit', (code) => reject(new Error(`the provider exited (${code})`)));
  });
  const control = async (body) => {
    const res = await fetch(`${issuer}/_control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert(res.status === 204, `_control answered ${res.status}`);
  };
  const t = await fresh(browser);
  try {
    await check('sso: "Sign in with Test SSO" signs the provider\'s person in, with the default role (viewer)', async () => {
      await restartServer(page, {
        LITMUS_OIDC_ISSUER: issuer, LITMUS_OIDC_CLIENT_ID: 'litmus', LITMUS_OIDC_CLIENT_SECRET: 'secret',
        LITMUS_OIDC_NAME: 'Test SSO', LITMUS_OIDC_DEFAULT_ROLE: 'viewer',
      });
      await page.waitForSelector('#live[data-state="connected"]', { timeout: 20000 });
      serverUp();
      await control({ user: { sub: 'sso-1', email: 'sso@example.com', email_verified: true, name: 'Sso Person' } });
      await t.page.goto(`${BASE}/dashboard/`);
      await t.page.waitForSelector('#sso-signin');
      assert((await t.page.textContent('#sso-signin')).trim() === 'Sign in with Test SSO', 'the button');
      await t.page.click('#sso-signin');
      await t.page.waitForSelector('#whoami[data-email="sso@example.com"]', { timeout: 20000 });
      assert((await t.page.textContent('#whoami-role')).trim() === 'viewer', 'the role');
      assert((await t.page.textContent('#whoami-name')).trim() === 'Sso Person', 'the name');
      assert(await visibleCount(t.page, '#new-experiment') === 0, 'a viewer sees New experiment');
    });

    await check('sso: a token for another audience comes back as #sso-error=: the sign-in page says so', async () => {
      await control({ fault: 'wrong_audience' });
      await t.page.click('#signout');
      await t.page.waitForSelector('#sso-signin');
      await t.page.click('#sso-signin');
      await t.page.waitForSelector('#signin-error:not([hidden])', { timeout: 20000 });
      const text = (await t.page.textContent('#signin-error')).trim();
      // wrong_audience fails the token's check: #sso-error=invalid_token, in words.
      assert(/could not be verified/.test(text), `message: ${text}`);
      assert(await t.page.isVisible('#email'), 'the sign-in form');
      assert(!(await t.page.evaluate(() => location.hash)).includes('sso-error'), 'the error left the address');
      assert(!(await t.page.$('#whoami:not([hidden])')), 'signed in');
      await shot(t.page, 'signin-sso-error');
      assert(t.problems.length === 0, t.problems.join('\n'));
    });
  } finally {
    await t.context.close();
  }
}
