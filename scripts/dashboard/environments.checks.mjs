// Environments in the dashboard (#/environments and the top bar's picker), driven by
// dashboard.test.mjs in the same browser against the same server: an environment made in the
// page appears in the picker; a bad key is refused with the server's message; with the
// environment chosen, the flag list's switch and the flag form's rules edit that environment's
// overlay only (production's state is kept) and an SDK key of that environment evaluates them;
// the experiments list shows each experiment's status there; the promote view previews the
// differences, promotes only the flags left checked, and production then serves them; an
// environment still used by a key cannot be deleted, and one without users can.

/** The environment checks; the arguments are dashboard.test.mjs's helpers. */
export async function environmentChecks({ page, BASE, admin, check, assert, shot }) {
  const tag = Date.now().toString(36);
  const env = `qa-${tag}`;
  const flag = `promo-${tag}`;
  const bystander = `other-${tag}`;
  const experiment = `exp-env-${tag}`;

  const api = async (method, path, body, headers = admin) => {
    const res = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const stored = async (key) => (await api('GET', `/admin/flags/${key}`)).body;
  let sdkKey = null;
  const evaluateIn = async (key, headers) => (await api('POST', '/evaluate', { unit_id: 'u-1', flag: key }, headers)).body;
  const card = (i) => `#rule-cards > li[data-rule="${i}"]`;
  const choose = async (key) => {
    await page.waitForSelector('#environment');
    await page.selectOption('#environment', key);
  };

  await check('environments: one made in the page is listed and offered by the picker; a bad key is refused', async () => {
    await page.evaluate(() => { location.hash = '#/environments'; });
    await page.waitForSelector('#environments tr[data-environment="production"]');
    await page.fill('#env-key', 'Bad Key');
    await page.click('#create-env');
    await page.waitForSelector('#env-error');
    const message = await page.textContent('#env-error');
    assert(message.includes('environment key'), `the server's message: ${message}`);
    await page.fill('#env-key', env);
    await page.fill('#env-name', 'QA');
    await page.click('#create-env');
    await page.waitForSelector(`#environments tr[data-environment="${env}"]`);
    const listed = (await api('GET', '/admin/environments')).body.environments.map((e) => e.key);
    assert(listed.includes(env), JSON.stringify(listed));
    await page.waitForSelector(`#environment option[value="${env}"]`, { state: 'attached' });
    assert(await page.isVisible('#environment'), 'the picker shows once there are two environments');
  });

  await check('environments: the switch and the form edit the chosen environment only; its SDK key evaluates them', async () => {
    for (const key of [flag, bystander]) {
      const r = await api('PUT', `/admin/flags/${key}`, { key, type: 'boolean', default: false, rules: [{ id: 'no', kind: 'force', value: false }] });
      assert(r.status === 200, JSON.stringify(r.body));
    }
    const made = await api('POST', '/admin/keys', { name: 'qa sdk', environment: env });
    assert(made.status === 201 && made.body.environment === env, JSON.stringify(made.body));
    sdkKey = { authorization: `Bearer ${made.body.key}`, 'content-type': 'application/json' };
    await page.evaluate(() => { location.hash = '#/flags'; });
    await choose(env);
    await page.waitForSelector('#flags-env');
    const sw = `#flags-table button[data-switch="${flag}"]`;
    await page.waitForSelector(`${sw}[aria-checked="false"]`);
    assert((await evaluateIn(flag, sdkKey)).reason === 'DISABLED', 'off in the new environment');
    await page.click(sw);
    await page.waitForSelector(`${sw}[aria-checked="true"]`);
    let f = await stored(flag);
    assert(f.environments[env].enabled === true && f.enabled === true && f.rules.length === 1, JSON.stringify(f));
    // The form edits this environment's rules.
    await page.evaluate((k) => { location.hash = `#/flags/${k}`; }, flag);
    await page.waitForSelector('#env-hint');
    await page.click('#add-rule');
    await page.fill(`${card(0)} .rule-id`, 'everyone');
    await page.selectOption(`${card(0)} .rule-fields select`, 'true');
    await shot(page, 'flag-form-environment');
    await page.click('#save-flag');
    await page.waitForSelector('#flags-table');
    f = await stored(flag);
    assert(JSON.stringify(f.environments[env].rules) === JSON.stringify([{ id: 'everyone', kind: 'force', value: true }]), JSON.stringify(f));
    assert(JSON.stringify(f.rules) === JSON.stringify([{ id: 'no', kind: 'force', value: false }]), 'production keeps its rules');
    const e = await evaluateIn(flag, sdkKey);
    assert(e.value === true && e.rule === 'everyone', JSON.stringify(e));
    assert((await evaluateIn(flag, admin)).value === false, 'production still serves false');
    await shot(page, 'flags-environment');
  });

  await check('environments: the experiments list shows each experiment\'s status in the chosen environment', async () => {
    const body = { key: experiment, salt: experiment, status: 'running', variants: [{ key: 'control' }, { key: 'treatment' }] };
    assert((await api('PUT', `/admin/experiments/${experiment}`, body)).status === 200, 'stored');
    await page.evaluate(() => { location.hash = '#/experiments'; });
    const row = `tr[data-experiment="${experiment}"]`;
    await page.waitForSelector(`${row} [data-action="running"]`);
    // Started in this environment from its row: production's status is untouched.
    await page.click(`${row} [data-action="running"]`);
    await page.waitForSelector(`${row} [data-action="paused"]`);
    const got = (await api('GET', `/admin/experiments/${experiment}`)).body;
    assert(got.status === 'running' && got.environments[env].status === 'running', JSON.stringify(got));
  });

  await check('environments: promotion previews the differences, promotes only the checked flags, and production serves them', async () => {
    await page.evaluate(() => { location.hash = '#/environments'; });
    await page.waitForSelector('#promote-from');
    await page.selectOption('#promote-from', env);
    await page.selectOption('#promote-to', 'production');
    await page.click('#preview-promotion');
    await page.waitForSelector(`#promotion-diff tr[data-flag="${flag}"][data-field="rules"]`);
    // The bystander has no state in the new environment: promoting it would switch it off.
    await page.waitForSelector(`#promotion-diff tr[data-flag="${bystander}"][data-field="enabled"]`);
    const preview = (await api('POST', `/admin/environments/${env}/promote`, { to: 'production', dry_run: true })).body;
    const rows = await page.$$eval('#promotion-diff tbody tr', (els) => els.map((e) => `${e.dataset.flag}.${e.dataset.field}`));
    assert(JSON.stringify(rows) === JSON.stringify(preview.differences.map((d) => `${d.flag}.${d.field}`)), `${rows} vs the API`);
    assert((await stored(flag)).rules[0].id === 'no', 'a preview stores nothing');
    await shot(page, 'promotion-preview');
    for (const other of await page.$$eval('#promotion-diff [data-promote]', (els) => els.map((e) => e.dataset.promote))) {
      if (other !== flag) await page.uncheck(`#promotion-diff [data-promote="${other}"]`);
    }
    await page.click('#apply-promotion');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="ok"]');
    await page.waitForSelector('#promotion-done');
    const f = await stored(flag);
    assert(JSON.stringify(f.rules) === JSON.stringify(f.environments[env].rules), JSON.stringify(f));
    assert((await stored(bystander)).enabled === true, 'an unchecked flag is not promoted');
    const e = await evaluateIn(flag, admin);
    assert(e.value === true && e.rule === 'everyone', `production serves the promoted rules: ${JSON.stringify(e)}`);
    const audit = (await api('GET', `/admin/audit?key=${flag}&limit=1`)).body.entries[0];
    assert(audit.action === 'flag.promote', JSON.stringify(audit));
  });

  await check('environments: one still in use is not deleted (the message says by what); then it is', async () => {
    await page.click(`#environments [data-delete="${env}"]`);
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="ok"]');
    await page.waitForSelector('.toast.error');
    const message = await page.textContent('.toast.error');
    assert(message.includes('in use') || message.includes('still used'), message);
    assert((await api('GET', '/admin/environments')).body.environments.some((x) => x.key === env), 'still there');
    // Clean up what names it, through the API, and delete it in the page.
    const keys = (await api('GET', '/admin/keys')).body.keys.filter((k) => k.environment === env && k.revoked_ms === null);
    for (const k of keys) await api('DELETE', `/admin/keys/${k.id}`);
    for (const key of [flag, bystander]) await api('DELETE', `/admin/flags/${key}`);
    const exp = (await api('GET', `/admin/experiments/${experiment}`)).body;
    delete exp.environments;
    assert((await api('PUT', `/admin/experiments/${experiment}`, exp)).status === 200, 'overlay removed');
    await choose('production');
    await page.evaluate(() => { location.hash = '#/environments'; });
    await page.waitForSelector(`#environments [data-delete="${env}"]`);
    await page.click(`#environments [data-delete="${env}"]`);
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="ok"]');
    await page.waitForSelector(`#environments tr[data-environment="${env}"]`, { state: 'detached' });
    assert(!(await api('GET', '/admin/environments')).body.environments.some((x) => x.key === env), 'gone');
  });
}

/** The project checks (after the environment checks): the arguments are dashboard.test.mjs's. */
export async function projectChecks({ page, BASE, admin, check, assert }) {
  const tag = Date.now().toString(36);
  const shop = `shop-${tag}`;
  const api = async (method, path, body, project) => {
    const headers = project ? { ...admin, 'litmus-project': project } : admin;
    const res = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  await check('projects: one made in the page is offered by the picker; its flags are its own', async () => {
    await page.evaluate(() => { location.hash = '#/environments'; });
    await page.waitForSelector('#create-project');
    await page.fill('#project-key', 'Bad Key');
    await page.click('#create-project');
    await page.waitForSelector('#project-error');
    assert((await page.textContent('#project-error')).includes('project key'), 'the server\'s message');
    await page.fill('#project-key', shop);
    await page.click('#create-project');
    await page.waitForSelector(`#project-list [data-project="${shop}"]`);
    await page.waitForSelector(`#project option[value="${shop}"]`, { state: 'attached' });
    assert(await page.isVisible('#project'), 'the picker shows once there are two projects');
    const r = await api('PUT', '/admin/flags/shop-only', { key: 'shop-only', type: 'boolean', default: true }, shop);
    assert(r.status === 200, JSON.stringify(r.body));
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.selectOption('#project', shop);
    await page.waitForSelector('#flags-table tr[data-flag="shop-only"]');
    const keys = await page.$$eval('#flags-table tr[data-flag]', (els) => els.map((e) => e.dataset.flag));
    assert(JSON.stringify(keys) === '["shop-only"]', `the shop's flags only: ${keys}`);
    // Its environments are its own: production only.
    await page.evaluate(() => { location.hash = '#/environments'; });
    await page.waitForSelector('#environments tr[data-environment="production"]');
    const envs = await page.$$eval('#environments tr[data-environment]', (els) => els.map((e) => e.dataset.environment));
    assert(JSON.stringify(envs) === '["production"]', JSON.stringify(envs));
    // Back in the default project, the shop's flag is not there.
    await page.selectOption('#project', 'default');
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.waitForSelector('.flags-page');
    await page.waitForFunction(() => !document.querySelector('.card.loading'));
    assert(!(await page.$('#flags-table tr[data-flag="shop-only"]')), 'the default project does not list it');
  });
}

/** The stale-flag checks: the arguments are dashboard.test.mjs's helpers. */
export async function staleChecks({ page, BASE, admin, check, assert }) {
  const tag = Date.now().toString(36);
  const used = `used-${tag}`;
  const done = `done-${tag}`;
  const api = async (method, path, body) => {
    const res = await fetch(`${BASE}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  await check('flags: each flag\'s last evaluation shows, and the stale ones are marked and filtered', async () => {
    await api('PUT', `/admin/flags/${used}`, { key: used, type: 'boolean', default: false, rules: [{ kind: 'rollout', percentage: 50, value: true }] });
    await api('PUT', `/admin/flags/${done}`, { key: done, type: 'boolean', default: false, rules: [{ kind: 'force', value: true }] });
    assert((await api('POST', '/evaluate', { unit_id: 'u-1', flag: used })).status === 200, 'evaluated');
    // The server writes usage on a timer: wait until it has (no time limit is asserted).
    for (;;) {
      const rows = (await api('GET', '/admin/flag-usage')).body.flags;
      if (rows.find((r) => r.flag === used).evaluations === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Through another page, so the list is loaded afresh.
    await page.evaluate(() => { location.hash = '#/metrics'; });
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.waitForSelector(`#flags-table tr[data-flag="${used}"] [data-evaluations="1"]`);
    assert(!(await page.$(`#flags-table tr[data-flag="${used}"] .badge.stale`)), 'an evaluated rollout is not stale');
    const why = await page.getAttribute(`#flags-table tr[data-flag="${done}"] .badge.stale`, 'data-stale');
    assert(why === 'never_evaluated fully_rolled_out', `the reasons: ${why}`);
    await page.check('#stale-filter');
    await page.waitForSelector(`#flags-table tr[data-flag="${used}"]`, { state: 'detached' });
    assert(await page.$(`#flags-table tr[data-flag="${done}"]`), 'the stale flag stays listed');
    await page.uncheck('#stale-filter');
    for (const key of [used, done]) await api('DELETE', `/admin/flags/${key}`);
  });
}
