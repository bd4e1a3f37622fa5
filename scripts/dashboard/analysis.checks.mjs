// The experiment form's analysis settings, driven by dashboard.test.mjs in the same browser
// against the same server, on the running experiment `exp` with data (the treatment converts
// 16% against 10%): the server's 422 for a bad alpha lands at its field and opens the
// collapsed section; valid settings are stored as the experiment's `analysis` object; the
// results name the settings they were computed with (and show a one-sided test's intervals at
// 1 - 2 alpha), and a minimum of units above what the experiment has holds every verdict at
// inconclusive, with the reason in the badge's title; cleared fields leave the defaults.
// Then the planning calculator (#/experiments/<key>/plan): an error at its field, and the plan
// POST /planning gives for the experiment's control.

/** JSON with every object's keys sorted (the server stores them in its own order). */
const canonical = (v) => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

export async function analysisChecks({ page, BASE, admin, check, assert, shot, exp, cellSel }) {
  const openForm = async () => {
    await page.evaluate((key) => { location.hash = `#/experiments/${encodeURIComponent(key)}/edit`; }, exp);
    await page.waitForSelector('form.form-page #analysis-settings');
  };
  const save = async () => {
    await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
    await page.click('#save');
  };

  await check('analysis settings: a bad alpha gets the server\'s 422 at its field, in the section it opens', async () => {
    await openForm();
    assert(!(await page.$eval('#analysis-settings', (d) => d.open)), 'the section is open without settings');
    await page.click('#analysis-settings summary');
    await page.fill('input[name=alpha]', '0.7');
    await page.$eval('#analysis-settings', (d) => { d.open = false; });
    await save();
    await page.waitForSelector('.field-error[data-error-path="analysis.alpha"]');
    assert(await page.$eval('#analysis-settings', (d) => d.open), 'the section stays closed over its error');
    assert(await page.getAttribute('input[name=alpha]', 'aria-invalid') === 'true', 'alpha is not marked invalid');
    const text = await page.textContent('.field-error[data-error-path="analysis.alpha"]');
    assert(/0\.7/.test(text) && /0\.5/.test(text), `error text: ${text}`);
    const stored = await (await fetch(`${BASE}/admin/experiments/${exp}`, { headers: admin })).json();
    assert(stored.analysis === undefined, `a refused change was stored: ${JSON.stringify(stored.analysis)}`);
    await shot(page, 'analysis-error', { fullPage: true });
  });

  await check('valid settings are stored as the experiment\'s analysis object', async () => {
    await page.fill('input[name=alpha]', '0.1');
    await page.selectOption('select[name=test]', 'one_sided');
    await page.selectOption('select[name=basis]', 'fixed_horizon');
    await page.selectOption('select[name=correction]', 'none');
    await page.fill('input[name=min_units]', '100000');
    await page.fill('input[name=rate_alpha]', '2');
    await page.fill('input[name=rate_beta]', '20');
    await save();
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .results-table`);
    const stored = await (await fetch(`${BASE}/admin/experiments/${exp}`, { headers: admin })).json();
    const want = { alpha: 0.1, test: 'one_sided', basis: 'fixed_horizon', correction: 'none', min_units: 100000, priors: { rate: { alpha: 2, beta: 20 } } };
    assert(canonical(stored.analysis) === canonical(want), `stored: ${JSON.stringify(stored.analysis)}`);
  });

  await check('the results name their settings, and under the minimum of units no verdict is given', async () => {
    await page.waitForFunction(() => /one-sided/.test(document.getElementById('analysis-settings-line')?.textContent || ''));
    const line = await page.textContent('#analysis-settings-line');
    for (const part of ['α = 0.1', 'one-sided', 'fixed horizon', 'no correction', 'min 100000 units', 'Beta(2, 20) prior']) {
      assert(line.includes(part), `settings line "${line}" lacks "${part}"`);
    }
    // One-sided at 0.1: intervals at 80%, whose lower bound is the one-sided 90% bound.
    const head = await page.textContent('section[data-metric="purchase:conversion"] thead');
    assert(/80% CI/.test(head), `table head: ${head}`);
    const badge = `${cellSel('purchase:conversion', 'treatment', 'verdict')} .verdict`;
    await page.waitForSelector(badge);
    const title = await page.getAttribute(badge, 'title');
    const cls = await page.getAttribute(badge, 'class');
    assert(/inconclusive/.test(cls) && /minimum/.test(title || ''), `verdict ${cls}: ${title}`);
    await shot(page, 'analysis-settings');
  });

  await check('clearing the settings in the form leaves the server\'s defaults', async () => {
    await openForm();
    assert(await page.$eval('#analysis-settings', (d) => d.open), 'the section is closed over stored settings');
    for (const name of ['alpha', 'min_units', 'rate_alpha', 'rate_beta']) await page.fill(`input[name=${name}]`, '');
    for (const name of ['test', 'basis', 'correction']) await page.selectOption(`select[name=${name}]`, '');
    await save();
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .results-table`);
    const stored = await (await fetch(`${BASE}/admin/experiments/${exp}`, { headers: admin })).json();
    assert(stored.analysis === undefined, `stored: ${JSON.stringify(stored.analysis)}`);
    await page.waitForFunction(() => /two-sided/.test(document.getElementById('analysis-settings-line')?.textContent || ''));
  });

  await check('the planning calculator: an error at its field, then the plan the API gives for the experiment', async () => {
    await page.evaluate((key) => { location.hash = `#/experiments/${encodeURIComponent(key)}`; }, exp);
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] #plan-link`);
    await page.click('#plan-link');
    await page.waitForSelector('form.form-page #plan-submit');
    await page.fill('input[name=lift]', '');
    await page.click('#plan-submit');
    await page.waitForSelector('.field-error[data-error-path="lift"]');
    assert(await page.getAttribute('input[name=lift]', 'aria-invalid') === 'true', 'lift is not marked invalid');
    await page.fill('input[name=lift]', '20');
    await page.click('#plan-submit');
    await page.waitForSelector('#plan-answer:not([hidden]) #plan-units');
    const shown = (await page.textContent('#plan-units')).trim();
    const res = await fetch(`${BASE}/planning`, { method: 'POST', headers: admin, body: JSON.stringify({ experiment: exp, metric: 'purchase', lift: 0.2, power: 0.8 }) });
    const want = await res.json();
    assert(res.status === 200, `POST /planning: ${res.status} ${JSON.stringify(want)}`);
    assert(shown === want.plan.units_per_variant.toLocaleString('en-US'), `units shown ${shown}, the API's ${want.plan.units_per_variant}`);
    assert(want.source.experiment === exp && want.baseline.kind === 'rate', `source ${JSON.stringify(want.source)}`);
    const basis = await page.textContent('#plan-basis');
    assert(/always-valid/.test(basis) && /fixed-horizon test would need/.test(basis), `basis: ${basis}`);
    await shot(page, 'planning');
  });
}
