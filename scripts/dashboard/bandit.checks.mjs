// A bandit's results, driven by dashboard.test.mjs in the same browser against the same
// server: a bandit experiment whose weights move from 50/50 to 10/90 just as its conversion
// rate drifts from 10% to 40% for both arms. Pooled, arm b would look far better; the results
// say their comparisons are stratified by the 2 periods of constant weights, and show the
// stratified p-value and verdict (no difference), the same the API answers.

export async function banditChecks({ page, BASE, admin, check, assert, f, shot, postEvents, cellSel }) {
  const key = `headline-${Date.now().toString(36)}`;
  const put = async (weights) => {
    const body = { key, kind: 'bandit', status: 'running',
      variants: [{ key: 'a', weight: weights[0] }, { key: 'b', weight: weights[1] }],
      metrics: [{ key: 'click', kind: 'conversion' }] };
    const res = await fetch(`${BASE}/admin/experiments/${key}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
    assert(res.status === 200, `PUT ${key}: ${res.status} ${await res.text()}`);
  };
  /** `n` units from `first`, a share `toB` (in tenths) in b, `rate` (in tenths) converting, at `at`. */
  const units = (first, n, toB, rate, at) => {
    const events = [];
    for (let i = first; i < first + n; i++) {
      const variant = (i - first) % 10 < toB ? 'b' : 'a';
      const unit = `${key}-u${i}`;
      events.push({ type: 'exposure', message_id: `${unit}-x`, unit_id: unit, experiment: key, variant, timestamp: at });
      if (Math.floor(i / 10) % 10 < rate) events.push({ type: 'track', message_id: `${unit}-c`, unit_id: unit, event: 'click', timestamp: at });
    }
    return events;
  };

  await check('bandit: the comparisons are stratified by the periods of constant weights', async () => {
    await put([1, 1]);
    await postEvents(units(0, 400, 5, 1, Date.now() - 3_600_000));
    await new Promise((r) => setTimeout(r, 20));
    await put([0.1, 0.9]);
    await new Promise((r) => setTimeout(r, 20));
    await postEvents(units(400, 800, 9, 4, Date.now()));
    await page.evaluate((k) => { location.hash = `#/experiments/${encodeURIComponent(k)}`; }, key);
    await page.waitForFunction(() => /2 periods/.test(document.getElementById('bandit-inference-line')?.textContent || ''),
      null, { timeout: 20000 });
    // The stratified figures read the units' records, current once the rollup worker's next
    // checkpoint is written (when it finds the queue empty): then a live update follows.
    let data;
    for (let tries = 0; ; tries++) {
      data = await (await fetch(`${BASE}/results/${key}`, { headers: admin })).json();
      const d = data.results.metrics[0].variants[1].comparison?.difference;
      if (d && d.upper - d.lower > 0.02) break;
      assert(tries < 100, `the stratified interval stays ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert(data.results.inference === 'stratified_by_weight_period', `inference: ${data.results.inference}`);
    assert(data.results.units.map((u) => u[1]).join() === '280,920', `units: ${JSON.stringify(data.results.units)}`);
    const c = data.results.metrics[0].variants[1].comparison;
    const stratified = data.bandit.inference.metrics[0].comparisons[0];
    assert(c.pvalue === stratified.pvalue && c.verdict === stratified.verdict, `${JSON.stringify(c)} vs ${JSON.stringify(stratified)}`);
    assert(c.verdict === 'inconclusive' && Math.abs(c.difference.estimate) < 0.01, `no real difference: ${JSON.stringify(c)}`);
    // The page shows the stratified p-value and interval (live, after the checkpoint).
    const range = f.range(c.difference, (v) => f.num(v * 100, true));
    const cells = [[cellSel('click:conversion', 'b', 'pvalue'), f.pvalue(c.pvalue)], [cellSel('click:conversion', 'b', 'abs'), range]];
    try {
      await page.waitForFunction((w) => w.every(([sel, want]) => document.querySelector(sel)?.textContent.includes(want)),
        cells, { timeout: 15000 });
    } catch {
      const shown = await Promise.all(cells.map(([sel]) => page.textContent(sel)));
      throw new Error(`cells show ${JSON.stringify(shown)}, want ${JSON.stringify(cells.map((x) => x[1]))}`);
    }
    const verdict = await page.textContent(`${cellSel('click:conversion', 'b', 'verdict')} .verdict`);
    assert(/inconclusive/i.test(verdict), `verdict shown: ${verdict}`);
    await shot(page, 'bandit-stratified', { fullPage: true });
  });
}
