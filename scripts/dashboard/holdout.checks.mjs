// A holdout's readout (#/holdouts/<key>), driven by dashboard.test.mjs in the same browser
// against the same server: two running experiments that both declare the conversion `buy`,
// then a holdout covering them with a share of 0.3. 700 units log a holdout exposure (3 in 10
// held out, the others exposed, who also log an exposure to one of the two experiments);
// held-out units buy at 10%, exposed ones at 20%. The experiments list links to the holdout;
// its page shows the share and both experiments (links to their results), the note, and the
// table of `buy` whose units and conversions per arm are those posted and those GET
// /holdouts/{key}/results answers, with the exposed arm's lift, p-value and verdict; an
// unknown holdout shows a not-found message, in a second tab (its 404 would otherwise count as
// a console error of the main run), with no uncaught error.

/** The holdout checks; the arguments are dashboard.test.mjs's helpers. */
export async function holdoutChecks({ page, BASE, admin, check, assert, f, shot, postEvents, waitCells, cellSel }) {
  const tag = Date.now().toString(36);
  const experiments = [`held-a-${tag}`, `held-b-${tag}`];
  const key = `holdout-${tag}`;
  const N = 700;
  const expected = { holdout: { units: 0, converted: 0 }, exposed: { units: 0, converted: 0 } };
  let answer = null;

  /** PUTs `body` into the admin collection `collection` under `k`. */
  const put = async (collection, k, body) => {
    const res = await fetch(`${BASE}/admin/${collection}/${k}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
    assert(res.status === 200, `PUT /admin/${collection}/${k}: ${res.status} ${await res.text()}`);
  };

  /** The events of the N units: each one's holdout exposure, experiment exposure when exposed, and purchase. */
  const events = () => {
    const out = [];
    const start = Date.now() - 2 * 3_600_000;
    for (let i = 0; i < N; i++) {
      const unit = `${key}-u${i}`;
      const arm = i % 10 < 3 ? 'holdout' : 'exposed';
      const at = Math.round(start + (i / N) * (2 * 3_600_000 - 60_000));
      out.push({ type: 'exposure', message_id: `${unit}-h`, unit_id: unit, holdout: key, variant: arm, timestamp: at });
      if (arm === 'exposed') {
        out.push({ type: 'exposure', message_id: `${unit}-x`, unit_id: unit, experiment: experiments[i % 2],
          variant: Math.floor(i / 2) % 2 ? 'treatment' : 'control', timestamp: at });
      }
      expected[arm].units += 1;
      // 1 in 10 held-out units buy, 2 in 10 exposed ones.
      if (Math.floor(i / 10) % 10 < (arm === 'holdout' ? 1 : 2)) {
        out.push({ type: 'track', message_id: `${unit}-b`, unit_id: unit, event: 'buy', timestamp: at + 1000 });
        expected[arm].converted += 1;
      }
    }
    return out;
  };

  /** The readout of the holdout once it counts every event posted (the rollups catch up). */
  const settled = async () => {
    for (let tries = 0; ; tries++) {
      const res = await fetch(`${BASE}/holdouts/${key}/results?points=60`, { headers: admin });
      const body = await res.json();
      assert(res.status === 200, `GET /holdouts/${key}/results: ${res.status} ${JSON.stringify(body)}`);
      const m = body.results.metrics.find((x) => x.key === 'buy' && x.kind === 'conversion');
      const got = m ? m.variants.map((v) => [v.variant, v.units, v.converted]) : [];
      const want = ['holdout', 'exposed'].map((a) => [a, expected[a].units, expected[a].converted]);
      if (JSON.stringify(got) === JSON.stringify(want)) return body;
      assert(tries < 150, `the readout counts ${JSON.stringify(got)}, posted ${JSON.stringify(want)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  await check('holdout: the experiments list links to the holdout, and the link opens its readout', async () => {
    /** A running A/B experiment `k` declaring the conversion `buy`. */
    const body = (k) => ({ key: k, status: 'running', variants: [{ key: 'control' }, { key: 'treatment' }],
      metrics: [{ key: 'buy', kind: 'conversion' }] });
    for (const k of experiments) await put('experiments', k, body(k));
    await put('holdouts', key, { key, share: 0.3, experiments });
    await postEvents(events());
    answer = await settled();
    await page.evaluate(() => { location.hash = '#/experiments'; });
    const link = `#holdout-links a[data-holdout="${key}"]`;
    await page.waitForSelector(link, { timeout: 15000 });
    assert((await page.getAttribute(link, 'href')) === `#/holdouts/${key}`, 'the link\'s address');
    await shot(page, 'holdout-list');
    await page.click(link);
    await page.waitForSelector(`.holdout-page[data-holdout="${key}"] .results-table`, { timeout: 15000 });
  });

  await check('holdout: the header shows the share held out and links to both covered experiments', async () => {
    assert(answer.share === 0.3 && JSON.stringify([...answer.experiments].sort()) === JSON.stringify(experiments),
      `the API's share ${answer.share} and experiments ${JSON.stringify(answer.experiments)}`);
    const share = (await page.textContent('#holdout-share')).trim();
    assert(share === '30% held out', `share shown: ${share}`);
    const links = await page.$$eval('#holdout-experiments a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    const want = answer.experiments.map((k) => [k, `#/experiments/${k}`]);
    assert(JSON.stringify(links) === JSON.stringify(want), `links: ${JSON.stringify(links)}, want ${JSON.stringify(want)}`);
    const note = (await page.textContent('#holdout-note')).trim();
    assert(note.endsWith(answer.note), `note: ${note}`);
    // A covered experiment's link opens its results.
    await page.click(`#holdout-experiments a[href="#/experiments/${experiments[1]}"]`);
    await page.waitForSelector(`.results-page[data-experiment="${experiments[1]}"]`);
    await page.goBack();
    await page.waitForSelector(`.holdout-page[data-holdout="${key}"] .results-table`, { timeout: 15000 });
  });

  await check('holdout: each arm\'s units and conversions are those posted and the API\'s, with the exposed arm\'s lift and p-value', async () => {
    const m = answer.results.metrics.find((x) => x.key === 'buy' && x.kind === 'conversion');
    assert(answer.results.control === 'holdout' && answer.results.units.map((u) => u.join(':')).join() === `holdout:${expected.holdout.units},exposed:${expected.exposed.units}`,
      `units: ${JSON.stringify(answer.results.units)}`);
    const want = [];
    for (const r of m.variants) {
      want.push([cellSel('buy:conversion', r.variant, 'units'), f.int(r.units)]);
      want.push([cellSel('buy:conversion', r.variant, 'converted'), f.int(r.converted)]);
      want.push([cellSel('buy:conversion', r.variant, 'value'), f.pct(r.value, 2)]);
    }
    const c = m.variants[1].comparison;
    assert(c, 'no comparison for the exposed arm');
    want.push([cellSel('buy:conversion', 'exposed', 'rel'), f.pct(c.relative.estimate, 1, true)]);
    want.push([cellSel('buy:conversion', 'exposed', 'pvalue'), f.pvalue(c.pvalue)]);
    await waitCells(page, want);
    assert(want[0][1] === f.int(expected.holdout.units) && want[1][1] === f.int(expected.holdout.converted), 'posted holdout figures');
    assert(want[3][1] === f.int(expected.exposed.units) && want[4][1] === f.int(expected.exposed.converted), 'posted exposed figures');
    const interval = await page.textContent(cellSel('buy:conversion', 'exposed', 'rel'));
    assert(interval.includes(f.range(c.relative, (v) => f.pct(v, 1, true))), `relative lift: ${interval}`);
  });

  await check('holdout: the exposed arm\'s verdict is shown', async () => {
    const c = answer.results.metrics.find((x) => x.key === 'buy' && x.kind === 'conversion').variants[1].comparison;
    const sel = `${cellSel('buy:conversion', 'exposed', 'verdict')} .verdict`;
    const cls = await page.getAttribute(sel, 'class');
    assert(cls.split(' ').includes(c.verdict), `verdict shown: ${cls}, the API's ${c.verdict}`);
    assert(await page.isVisible(sel), 'the verdict is hidden');
    await page.waitForSelector('[data-chart="lift"] svg.chart-svg');
    await shot(page, 'holdout', { fullPage: true });
  });

  await check('holdout: an unknown holdout shows a not-found message, no uncaught error', async () => {
    const adminKey = await page.evaluate(() => sessionStorage.getItem('litmus.adminKey'));
    const tab = await page.context().newPage();
    const problems = [];
    tab.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    tab.on('console', (m) => {
      if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    try {
      await tab.addInitScript((k) => sessionStorage.setItem('litmus.adminKey', k), adminKey);
      await tab.goto(`${BASE}/dashboard/#/holdouts/nope`);
      await tab.waitForSelector('.holdout-page[data-holdout="nope"] #holdout-error', { timeout: 15000 });
      const text = await tab.textContent('#holdout-error');
      assert(/not found/i.test(text) && text.includes('“nope”'), `message: ${text}`);
      assert(!(await tab.$('.holdout-page .results-table')), 'a table for an unknown holdout');
      await shot(tab, 'holdout-not-found');
      assert(problems.length === 0, problems.join('\n'));
    } finally {
      await tab.close();
    }
  });
}
