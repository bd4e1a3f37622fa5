// Feature flags in the dashboard (#/flags), driven by dashboard.test.mjs in the same browser
// against the same server: a flag made through the form (a forced value for staff built with
// the targeting builder, a 10% rollout set with the slider) is stored as written and
// evaluates as core does (`POST /evaluate`); a rollout above 100% is refused with the error
// at that rule's percentage and nothing stored changes; dragging a rule card above another
// reorders the stored rules; an experiment rule takes the experiment's variants from a select;
// the list's switch turns the flag off (after a confirmation) so it serves its default
// (DISABLED); the "try it" panel shows the evaluation; deleting asks first.

/** The flag checks; the arguments are dashboard.test.mjs's helpers. */
export async function flagChecks({ page, BASE, admin, check, assert, shot }) {
  const tag = Date.now().toString(36);
  const key = `checkout-${tag}`;
  const experiment = `color-${tag}`;

  const api = async (method, path, body) => {
    const res = await fetch(`${BASE}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  const stored = async () => {
    const r = await api('GET', `/admin/flags/${key}`);
    assert(r.status === 200, `GET /admin/flags/${key}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const evaluate = async (unit, attributes) => (await api('POST', '/evaluate', { unit_id: unit, attributes, flag: key })).body;
  const card = (i) => `#rule-cards > li[data-rule="${i}"]`;

  await check('flags: a flag made in the form is stored as written and evaluates as core does', async () => {
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.waitForSelector('.flags-page');
    await page.click('#new-flag');
    await page.waitForSelector('form.flag-form');
    await page.fill('#ff-key', key);
    await page.fill('#ff-description', 'the one-page checkout');
    await page.fill('#ff-tags', 'checkout, q4');
    // Rule 1: staff get it (targeting builder).
    await page.click('#add-rule');
    await page.click(`${card(0)} .add-condition`);
    await page.fill(`${card(0)} [data-condition-row] .attr`, 'email');
    await page.selectOption(`${card(0)} [data-condition-row] .op`, 'ends_with');
    await page.fill(`${card(0)} [data-condition-row] .operand`, '@litmus.dev');
    await page.fill(`${card(0)} .rule-id`, 'staff');
    await page.selectOption(`${card(0)} .rule-fields select`, 'true');
    // Rule 2: a 10% rollout, set with the slider.
    await page.click('#add-rule');
    await page.selectOption(`${card(1)} .rule-kind`, 'rollout');
    await page.fill(`${card(1)} .rule-id`, 'ramp');
    await page.$eval(`${card(1)} .rollout-slider`, (el) => {
      el.value = '10';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    assert(await page.inputValue(`${card(1)} .rollout-number`) === '10', 'the slider moves the number');
    await shot(page, 'flag-form');
    await page.click('#save-flag');
    await page.waitForSelector('#flags-table');
    const f = await stored();
    assert(JSON.stringify(f.rules) === JSON.stringify([
      { id: 'staff', kind: 'force', condition: { attribute: 'email', op: 'ends_with', value: '@litmus.dev' }, value: true },
      { id: 'ramp', kind: 'rollout', value: true, percentage: 10 },
    ]), `stored rules ${JSON.stringify(f.rules)}`);
    assert(f.description === 'the one-page checkout' && JSON.stringify(f.tags) === '["checkout","q4"]', JSON.stringify(f));
    const staff = await evaluate('u-1', { email: 'ada@litmus.dev' });
    assert(staff.value === true && staff.reason === 'TARGETING_MATCH' && staff.rule === 'staff', JSON.stringify(staff));
    let on = 0;
    for (let i = 0; i < 300; i++) on += (await evaluate(`user-${i}`)).value ? 1 : 0;
    assert(on > 10 && on < 60, `${on} of 300 in a 10% rollout`);
    await page.waitForSelector(`#flags-table tr[data-flag="${key}"] .rule-list li`);
    const rules = await page.$$eval(`#flags-table tr[data-flag="${key}"] .rule-list li`, (els) => els.map((e) => e.textContent));
    assert(rules.length === 2 && rules[1].includes('10%'), `the list shows ${JSON.stringify(rules)}`);
  });

  await check('flags: a rollout above 100% is refused at that rule\'s percentage, and nothing changes', async () => {
    await page.evaluate((k) => { location.hash = `#/flags/${k}`; }, key);
    await page.waitForSelector(`${card(1)} .rollout-number`);
    await page.fill(`${card(1)} .rollout-number`, '150');
    await page.click('#save-flag');
    await page.waitForSelector(`${card(1)} .field-error`);
    const at = await page.getAttribute(`${card(1)} .field-error`, 'data-error-path');
    assert(at === 'rules[1].percentage', `the error is at ${at}`);
    assert(await page.getAttribute(`${card(1)} .rollout-number`, 'aria-invalid') === 'true', 'the field is marked invalid');
    const summary = await page.textContent('#flag-errors');
    assert(/0 to 100/.test(summary), `the summary says ${summary}`);
    const f = await stored();
    assert(f.rules[1].percentage === 10, `stored ${JSON.stringify(f.rules[1])}`);
    await shot(page, 'flag-error');
  });

  /** Opens the flag's editor afresh (from the list, so the form is rebuilt from the server). */
  const openEditor = async () => {
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.waitForSelector('.flags-page');
    await page.evaluate((k) => { location.hash = `#/flags/${k}`; }, key);
    await page.waitForSelector('form.flag-form');
  };

  await check('flags: dragging a rule above another reorders the stored rules', async () => {
    await openEditor();
    await page.waitForSelector(`${card(1)} .drag-handle`);
    await page.dragAndDrop(card(1), card(0));
    const ids = await page.$$eval('#rule-cards .rule-id', (els) => els.map((e) => e.value));
    assert(JSON.stringify(ids) === '["ramp","staff"]', `after the drag: ${JSON.stringify(ids)}`);
    // The keyboard way back and forth: down then up leaves the drag's order.
    await page.click(`${card(0)} button[aria-label="Move rule 1 down"]`);
    await page.click(`${card(1)} button[aria-label="Move rule 2 up"]`);
    await page.click('#save-flag');
    await page.waitForSelector('#flags-table');
    const f = await stored();
    assert(JSON.stringify(f.rules.map((r) => r.id)) === '["ramp","staff"]', `stored ${JSON.stringify(f.rules.map((r) => r.id))}`);
    assert(f.rules[0].percentage === 10, 'the moved rule keeps its fields');
  });

  await check('flags: an experiment rule maps each of the experiment\'s variants to a value', async () => {
    const r = await api('PUT', `/admin/experiments/${experiment}`, { key: experiment, status: 'running', variants: [{ key: 'control' }, { key: 'green' }] });
    assert(r.status === 200, JSON.stringify(r.body));
    const other = `color-flag-${tag}`;
    await page.evaluate(() => { location.hash = '#/flags/new'; });
    await page.waitForSelector('form.flag-form');
    await page.fill('#ff-key', other);
    await page.selectOption('#ff-type', 'string');
    await page.fill('#ff-default', 'grey');
    await page.click('#add-rule');
    await page.selectOption(`${card(0)} .rule-kind`, 'experiment');
    await page.selectOption(`${card(0)} .rule-experiment`, experiment);
    await page.fill(`${card(0)} [data-variant="control"]`, 'grey');
    await page.fill(`${card(0)} [data-variant="green"]`, 'green');
    await page.click('#save-flag');
    await page.waitForSelector('#flags-table');
    const got = await api('GET', `/admin/flags/${other}`);
    assert(JSON.stringify(got.body.rules[0].values) === '{"control":"grey","green":"green"}', JSON.stringify(got.body));
    const e = (await api('POST', '/evaluate', { unit_id: 'u-7', flag: other })).body;
    assert(e.reason === 'SPLIT' && e.assignment.experiment === experiment && e.value === { control: 'grey', green: 'green' }[e.variant], JSON.stringify(e));
  });

  await check('flags: the switch turns the flag off after a confirmation; off serves the default', async () => {
    await page.evaluate(() => { location.hash = '#/flags'; });
    const sw = `#flags-table button[data-switch="${key}"]`;
    await page.waitForSelector(sw);
    assert(await page.getAttribute(sw, 'aria-checked') === 'true', 'on at first');
    await page.click(sw);
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="cancel"]');
    await page.waitForFunction(() => !document.getElementById('confirm').open);
    assert((await stored()).enabled === true, 'cancel keeps it on');
    await page.click(sw);
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="ok"]');
    await page.waitForSelector(`${sw}[aria-checked="false"]`);
    assert((await stored()).enabled === false, 'stored off');
    const e = await evaluate('u-1', { email: 'ada@litmus.dev' });
    assert(e.value === false && e.reason === 'DISABLED', JSON.stringify(e));
    await shot(page, 'flags-list');
    await page.click(sw);
    await page.waitForSelector(`${sw}[aria-checked="true"]`);
  });

  await check('flags: "try it" shows the evaluation of the saved flag', async () => {
    await openEditor();
    await page.waitForSelector('#try-flag');
    await page.fill('#try-unit', 'u-1');
    await page.fill('#try-attrs', '{"email": "ada@litmus.dev"}');
    await page.click('#try-flag');
    await page.waitForSelector('#try-result [data-reason]');
    const reason = await page.getAttribute('#try-result [data-reason]', 'data-reason');
    const value = await page.getAttribute('#try-result [data-value]', 'data-value');
    // The rollout comes first now: the panel shows what the API answers for the same input.
    const want = await evaluate('u-1', { email: 'ada@litmus.dev' });
    assert(reason === want.reason && value === JSON.stringify(want.value), `${reason} ${value}, the API: ${JSON.stringify(want)}`);
    assert(want.value === true, 'staff get the feature whichever rule serves it');
  });

  await check('flags: delete asks first, then the flag is gone', async () => {
    await page.click('#delete-flag');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="ok"]');
    await page.waitForSelector('.flags-page');
    const r = await api('GET', `/admin/flags/${key}`);
    assert(r.status === 404, `GET after delete: ${r.status}`);
    assert((await evaluate('u-1')).error === 'flag_not_found', 'evaluate answers flag_not_found');
  });
}
