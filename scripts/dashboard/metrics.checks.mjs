// The dashboard's metric catalogue, driven by dashboard.test.mjs in the same browser against
// the same server: the Metrics page and its editor (fields by kind; the server's 422 at the
// field its path names: a negative absolute cap, a ratio dividing itself), metrics of several
// kinds created through it (revenue and orders, their ratio, a p90 load time formatted as a
// duration, a filtered conversion, a 30-minute retention, a funnel), a delete refused while
// in use, the experiment form's catalogue picker, and the results: the ratio and the quantile
// in their formats, the cap, retention, the funnel's steps with the share of the previous
// step, and the CSV export.

import { readFileSync } from 'node:fs';

/** What units of the shop experiment do, and the figures the results should show. */
export function shopTraffic(experiment, n, start, end) {
  const events = [];
  const fig = {};
  for (const v of ['control', 'treatment']) {
    fig[v] = { units: 0, revenue: 0, orders: 0, books: 0, carts: 0, bought: 0, loads: [] };
  }
  for (let i = 0; i < n; i++) {
    const variant = i % 2 === 0 ? 'control' : 'treatment';
    const t = variant === 'treatment';
    const k = Math.floor(i / 2);
    const at = Math.round(start + (i / n) * (end - start));
    const unit = `${experiment}-u${i}`;
    const e = fig[variant];
    e.units += 1;
    events.push({ type: 'exposure', message_id: `${unit}-x`, unit_id: unit, experiment, variant, timestamp: at });
    const track = (name, j, dt, value, properties) => events.push({
      type: 'track', message_id: `${unit}-${name}-${j}`, unit_id: unit, event: name, value, timestamp: at + dt, properties,
    });
    const cart = t ? k % 2 === 0 : k % 3 === 0;
    if (cart) {
      track('cart', 0, 500, 1, {});
      e.carts += 1;
    }
    const buys = (t ? k % 3 === 0 : k % 4 === 0) ? 1 + (k % 2) : 0;
    let books = false;
    for (let j = 0; j < buys; j++) {
      const value = (t ? 12 : 10) + (k % 5) * 4 + j;
      const category = (k + j) % 3 === 0 ? 'books' : 'music';
      track('purchase', j, 1000 + j * 10, value, { category, price: value });
      e.revenue += value;
      e.orders += 1;
      books ||= category === 'books';
    }
    if (books) e.books += 1;
    if (cart && buys) e.bought += 1;
    // A visit 10 minutes after exposure (when that is not in the future): 30-minute retention.
    if ((t ? k % 5 < 3 : k % 2 === 0) && at + 600e3 < Date.now() - 5000) track('visit', 0, 600e3, 1, {});
    for (let j = 0; j < 2; j++) {
      const load = 200 + ((i * 37 + j * 101) % 800) + (t ? 60 : 0);
      track('page_load', j, 100 + j, load, {});
      e.loads.push(load);
    }
  }
  return { events, fig };
}

/** The exact `q` quantile (linear interpolation, as numpy's default). */
function exactQuantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/** A JSON value with its objects' keys sorted (to compare what the server stores). */
const canonical = (v) => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** The checks, with the helpers and state of dashboard.test.mjs. */
export async function metricChecks({ page, BASE, admin, OUT, check, assert, f, shot, postEvents, waitCells, cellSel, log }) {
  // The last save's notice sits over the bottom of the page: dismissed before clicking there.
  const save = async () => {
    await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
    await page.click('#save-metric');
  };
  const toCatalog = async () => {
    await page.click('nav a[data-nav="metrics"]');
    await page.waitForSelector('.catalog-page');
  };
  const newMetric = async (key, kind) => {
    await page.click('#new-metric');
    await page.waitForSelector('form.metric-form');
    await page.fill('input[name=key]', key);
    await page.selectOption('#mf-kind', kind);
  };
  const created = (key) => page.waitForSelector(`#metrics-catalog tr[data-metric-key="${key}"]`);
  const stored = async (path) => (await fetch(`${BASE}${path}`, { headers: admin })).json();

  await check('the Metrics page: an empty catalogue, and an editor whose fields follow the kind', async () => {
    await toCatalog();
    await page.waitForSelector('.catalog-page .empty-state');
    assert(await page.getAttribute('nav a[data-nav="metrics"]', 'aria-current') === 'page', 'the Metrics tab is not current');
    await page.click('#new-metric');
    await page.waitForSelector('form.metric-form');
    const groups = async () => page.$$eval('fieldset[data-group]', (gs) => gs.filter((g) => !g.hidden).map((g) => g.dataset.group).join(','));
    const want = {
      conversion: 'event,window', mean: 'event,value,cap,window', ratio: 'ratio', quantile: 'event,value,quantile,window',
      retention: 'event,window', funnel: 'steps,window',
    };
    for (const [kind, shown] of Object.entries(want)) {
      await page.selectOption('#mf-kind', kind);
      const got = await groups();
      assert(got === shown, `${kind} shows ${got}, not ${shown}`);
      assert((await page.textContent('#kind-hint')).length > 20, `no hint for ${kind}`);
    }
    assert(await page.isHidden('input[name=currency]'), 'a currency field for a number');
    await page.selectOption('select[name=format]', 'currency');
    assert(await page.isVisible('input[name=currency]'), 'no currency field for a currency');
    await page.click('form.metric-form a.btn.ghost');
    await page.waitForSelector('.catalog-page .empty-state');
  });

  await check('a negative absolute cap: the server\'s 422 (metrics[revenue].cap.absolute) is shown at the cap\'s value', async () => {
    await newMetric('revenue', 'mean');
    await page.fill('input[name=name]', 'Revenue');
    await page.fill('input[name=event]', 'purchase');
    await page.selectOption('select[name=cap]', 'absolute');
    await page.fill('input[data-path="cap.absolute"]', '-5');
    await page.selectOption('select[name=format]', 'currency');
    await page.fill('input[name=currency]', 'EUR');
    await save();
    await page.waitForSelector('.field-error[data-error-path="cap.absolute"]');
    const input = 'input[data-path="cap.absolute"]';
    assert(await page.getAttribute(input, 'aria-invalid') === 'true', 'the cap value is not marked invalid');
    const text = await page.textContent('.field-error[data-error-path="cap.absolute"]');
    assert(/finite and 0 or more/.test(text), `error text: ${text}`);
    const inField = await page.$eval(input, (el) => Boolean(el.closest('.field').querySelector('.field-error')));
    assert(inField, 'the error is not in the cap value\'s field');
    const summary = await page.textContent('#metric-errors');
    assert(/cap\.absolute/.test(summary) && /invalid_value/.test(summary), `summary: ${summary}`);
    await shot(page, 'metrics-editor-error', { fullPage: true });
    await page.fill(input, '100');
    await save();
    await created('revenue');
    const m = await stored('/admin/metrics/revenue');
    assert(m.cap && m.cap.absolute === 100 && m.currency === 'EUR' && m.format === 'currency' && m.name === 'Revenue', `stored: ${JSON.stringify(m)}`);
  });

  await check('orders (a count) and revenue_per_order (a ratio picked from the catalogue) are created', async () => {
    await newMetric('orders', 'mean');
    await page.fill('input[name=event]', 'purchase');
    await page.selectOption('select[name=aggregation]', 'count');
    await save();
    await created('orders');
    await newMetric('revenue_per_order', 'ratio');
    await page.fill('input[name=name]', 'Revenue per order');
    const options = await page.$$eval('select[name=numerator] optgroup[label="Mean metrics"] option', (os) => os.map((o) => o.value).join(','));
    assert(options === 'orders,revenue', `numerator choices: ${options}`);
    await page.selectOption('select[name=numerator]', 'revenue');
    await page.selectOption('select[name=denominator]', 'orders');
    await page.selectOption('select[name=format]', 'currency');
    await page.fill('input[name=currency]', 'EUR');
    await save();
    await created('revenue_per_order');
    const m = await stored('/admin/metrics/revenue_per_order');
    assert(m.kind === 'ratio' && m.numerator === 'revenue' && m.denominator === 'orders', `stored: ${JSON.stringify(m)}`);
  });

  await check('a ratio whose denominator is itself: the 422 is shown at the denominator, nothing changes', async () => {
    await page.click('#metrics-catalog tr[data-metric-key="revenue_per_order"] a.exp-link');
    await page.waitForSelector('form.metric-form[data-kind="ratio"]');
    assert(await page.getAttribute('input[name=key]', 'readonly') !== null, 'the key can be edited');
    await page.selectOption('select[name=denominator]', 'revenue_per_order');
    await save();
    await page.waitForSelector('.field-error[data-error-path="denominator"]');
    assert(await page.getAttribute('select[name=denominator]', 'aria-invalid') === 'true', 'the denominator is not marked invalid');
    const text = await page.textContent('.field-error[data-error-path="denominator"]');
    assert(/not the ratio itself/.test(text), `error text: ${text}`);
    await shot(page, 'metrics-ratio-error');
    const m = await stored('/admin/metrics/revenue_per_order');
    assert(m.denominator === 'orders', `stored denominator ${m.denominator}`);
    await page.click('form.metric-form a.btn.ghost');
    await page.waitForSelector('.catalog-page');
  });

  await check('a p90 page-load quantile (duration), a filtered conversion, a retention and a funnel are created', async () => {
    await newMetric('p90_load', 'quantile');
    await page.fill('input[name=name]', 'Page load p90');
    await page.fill('input[name=event]', 'page_load');
    await page.fill('input[name=quantile]', '0.9');
    await page.selectOption('select[name=format]', 'duration');
    await page.selectOption('select[name=goal]', 'decrease');
    await save();
    await created('p90_load');
    await newMetric('books', 'conversion');
    await page.fill('input[name=event]', 'purchase');
    await page.fill('textarea[name=filter]', '{"attribute": "category", "op": "eq", "value": "books"}');
    await save();
    await created('books');
    await newMetric('visit_30m', 'retention');
    await page.fill('input[name=event]', 'visit');
    await save();
    await page.waitForSelector('.field-error[data-error-path="window"]');
    assert(await page.getAttribute('input[name="window.hours"]', 'aria-invalid') === 'true', 'a retention without a window: the hours are not marked');
    await page.fill('input[name="window.hours"]', '0.5');
    await save();
    await created('visit_30m');
    await newMetric('checkout', 'funnel');
    await page.fill('input[name=name]', 'Checkout');
    await page.fill('#step-rows tr:nth-child(1) [data-field=event]', 'cart');
    await page.fill('#step-rows tr:nth-child(2) [data-field=event]', 'purchase');
    await shot(page, 'metrics-editor-funnel', { fullPage: true });
    await save();
    await created('checkout');
    const list = await stored('/admin/metrics');
    const got = list.metrics.map((m) => `${m.key}:${m.kind}`).sort().join(',');
    assert(got === 'books:conversion,checkout:funnel,orders:mean,p90_load:quantile,revenue:mean,revenue_per_order:ratio,visit_30m:retention', `catalogue: ${got}`);
    const visits = list.metrics.find((m) => m.key === 'visit_30m');
    assert(visits.window && visits.window.hours === 0.5, `visit_30m: ${JSON.stringify(visits)}`);
    const p90 = list.metrics.find((m) => m.key === 'p90_load');
    assert(p90.quantile === 0.9 && p90.format === 'duration' && p90.goal === 'decrease', `p90: ${JSON.stringify(p90)}`);
    const books = list.metrics.find((m) => m.key === 'books');
    assert(books.filter && books.filter.value === 'books', `books: ${JSON.stringify(books)}`);
  });

  await check('the catalogue lists each metric with its kind, what it measures, its format and its users', async () => {
    const cell = (key, col) => page.textContent(`#metrics-catalog tr[data-metric-key="${key}"] [data-col="${col}"]`);
    assert((await cell('revenue_per_order', 'measures')).replace(/\s+/g, ' ').trim() === 'revenue ÷ orders', `ratio: ${await cell('revenue_per_order', 'measures')}`);
    assert(/p90 of\s*page_load/.test(await cell('p90_load', 'measures')), `quantile: ${await cell('p90_load', 'measures')}`);
    assert(/cart\s*→\s*purchase/.test(await cell('checkout', 'measures')), `funnel: ${await cell('checkout', 'measures')}`);
    assert(/filtered/.test(await cell('books', 'measures')), `books: ${await cell('books', 'measures')}`);
    assert((await cell('p90_load', 'format')).trim() === 'duration', 'p90 format');
    assert((await cell('revenue', 'format')).trim() === 'currency EUR', 'revenue format');
    assert(/÷ revenue_per_order/.test(await cell('orders', 'used')), `orders used by: ${await cell('orders', 'used')}`);
    assert(/unused/.test(await cell('checkout', 'used')), 'checkout is used');
    await shot(page, 'metrics-catalog', { fullPage: true });
  });

  const shop = `shop-${Date.now().toString(36)}`;
  await check('the experiment form adds catalogue metrics with the picker (one as a guardrail) next to an inline one', async () => {
    await page.click('nav a[data-nav="experiments"]');
    await page.click('#new-experiment');
    await page.waitForSelector('form.form-page #metric-picker');
    await page.fill('input[name=key]', shop);
    await page.fill('#metric-rows tr:nth-child(1) [data-field=key]', 'purchase');
    for (const [key, guardrail] of [['revenue_per_order', false], ['p90_load', true], ['books', false], ['checkout', false], ['revenue', false], ['visit_30m', false]]) {
      await page.selectOption('#metric-picker', key);
      if (guardrail) await page.check('#picker-guardrail');
      await page.click('#add-catalogue-metric');
    }
    const rows = await page.$$eval('#metric-rows tr', (trs) => trs.map((tr) => `${tr.dataset.source}:${tr.dataset.metricKey || ''}:${tr.querySelector('[data-field=guardrail]').checked}`).join(','));
    assert(rows === 'inline::false,catalogue:revenue_per_order:false,catalogue:p90_load:true,catalogue:books:false,catalogue:checkout:false,catalogue:revenue:false,catalogue:visit_30m:false', `rows: ${rows}`);
    const about = await page.textContent('#metric-rows tr:nth-child(2) .about');
    assert(/ratio · revenue \/ orders · EUR/.test(about), `about: ${about}`);
    await shot(page, 'metrics-picker', { fullPage: true });
    await page.click('#save-start');
    await page.waitForSelector(`.results-page[data-experiment="${shop}"] .page-head .badge[data-status="running"]`);
    const exp = await stored(`/admin/experiments/${shop}`);
    const want = [{ key: 'purchase', kind: 'conversion', goal: 'increase' }, { metric: 'revenue_per_order' }, { metric: 'p90_load', guardrail: true },
      { metric: 'books' }, { metric: 'checkout' }, { metric: 'revenue' }, { metric: 'visit_30m' }];
    assert(canonical(exp.metrics) === canonical(want), `stored metrics: ${JSON.stringify(exp.metrics)}`);
    // Its settings show the references as they are, and saving keeps them.
    await page.click('.page-head a[href$="/edit"]');
    await page.waitForSelector('#metric-rows tr[data-source="catalogue"]');
    const again = await page.$$eval('#metric-rows tr', (trs) => trs.map((tr) => `${tr.dataset.source}:${tr.dataset.metricKey || ''}:${tr.querySelector('[data-field=guardrail]').checked}`).join(','));
    assert(again === rows, `rows when editing: ${again}`);
    await page.click('#save');
    await page.waitForSelector(`.results-page[data-experiment="${shop}"] .results-table`);
    const kept = await stored(`/admin/experiments/${shop}`);
    assert(canonical(kept.metrics) === canonical(want), `metrics after saving again: ${JSON.stringify(kept.metrics)}`);
  });

  const now = Date.now();
  const { events, fig } = shopTraffic(shop, 400, now - 2 * 3600e3, now - 60e3);
  const ratioFmt = { kind: 'ratio', format: 'currency', currency: 'EUR' };
  const p90Fmt = { kind: 'quantile', format: 'duration' };
  await check('events with properties: the ratio, the p90 (a duration), the filtered conversion, the cap and retention show in their formats', async () => {
    await postEvents(events);
    const c = fig.control;
    const t = fig.treatment;
    assert(c.units === 200 && t.units === 200 && c.orders > 0 && t.bought > 0, 'test data');
    await waitCells(page, [
      ['[data-testid="total-units"]', '400'],
      [cellSel('revenue_per_order:ratio', 'control', 'value'), f.metricValue(ratioFmt, c.revenue / c.orders)],
      [cellSel('revenue_per_order:ratio', 'treatment', 'value'), f.metricValue(ratioFmt, t.revenue / t.orders)],
      [cellSel('revenue_per_order:ratio', 'treatment', 'events'), String(t.orders)],
      [cellSel('books:conversion', 'control', 'converted'), String(c.books)],
      [cellSel('books:conversion', 'treatment', 'converted'), String(t.books)],
      [cellSel('books:conversion', 'treatment', 'value'), f.pct(t.books / 200, 2)],
      [cellSel('revenue:mean', 'control', 'value'), f.metricValue({ kind: 'mean', format: 'currency', currency: 'EUR' }, c.revenue / 200)],
    ]);
    const ratio = (await page.textContent(cellSel('revenue_per_order:ratio', 'control', 'value'))).trim();
    assert(ratio.startsWith('€') && !/%/.test(ratio), `the ratio shows ${ratio}`);
    // The p90: the page shows the server's value as a duration; the server's is within the
    // sketch's 1% of the exact quantile of the loads posted.
    const served = (await stored(`/results/${shop}`)).results.metrics.find((m) => m.key === 'p90_load');
    for (const [i, v] of ['control', 'treatment'].entries()) {
      const got = served.variants[i].value;
      const exact = exactQuantile(fig[v].loads, 0.9);
      assert(Math.abs(got - exact) <= 0.02 * exact, `${v} p90 ${got} vs exact ${exact}`);
      await waitCells(page, [[cellSel('p90_load:quantile', v, 'value'), f.metricValue(p90Fmt, got)]]);
      const text = (await page.textContent(cellSel('p90_load:quantile', v, 'value'))).trim();
      assert(/^\d+(\.\d+)? (ms|s)/.test(text), `${v} p90 shows ${text}`);
    }
    const head = await page.textContent('section[data-metric="p90_load:quantile"] thead');
    assert(/p90 \(95% CI\)/.test(head) && /Events/.test(head), `quantile header: ${head}`);
    assert(/guardrail/.test(await page.textContent('section[data-metric="p90_load:quantile"] .card-head')), 'p90 is not shown as a guardrail');
    const cap = await page.textContent('section[data-metric="revenue:mean"] [data-testid="cap"]');
    assert(cap.trim() === 'capped at €100.00', `cap: ${cap}`);
    // Retention counts the cohorts whose 30 minutes have passed: a rate of those units.
    const retention = 'section[data-metric="visit_30m:retention"]';
    assert(/Retained \(95% CI\)/.test(await page.textContent(`${retention} thead`)), 'no retention column');
    for (const v of ['control', 'treatment']) {
      const units = Number((await page.textContent(cellSel('visit_30m:retention', v, 'units'))).replace(/,/g, ''));
      const kept = Number(await page.textContent(cellSel('visit_30m:retention', v, 'converted')));
      const value = (await page.textContent(`${cellSel('visit_30m:retention', v, 'value')} .strong`)).trim();
      assert(units > 100 && units < 200 && kept > 0 && kept <= units, `${v}: ${kept} of ${units} retained`);
      assert(value === f.pct(kept / units, 2), `${v} retention shows ${value}, not ${f.pct(kept / units, 2)}`);
    }
  });

  await check('the funnel shows its steps (step i of n, each after the first with its share of the previous step)', async () => {
    const c = fig.control;
    const t = fig.treatment;
    const ofPrev = (e) => f.pct(e.bought / e.carts, 1);
    await waitCells(page, [
      [cellSel('checkout:funnel#0', 'control', 'converted'), String(c.carts)],
      [cellSel('checkout:funnel#0', 'treatment', 'converted'), String(t.carts)],
      [cellSel('checkout:funnel#1', 'control', 'converted'), String(c.bought)],
      [cellSel('checkout:funnel#1', 'treatment', 'converted'), String(t.bought)],
      [cellSel('checkout:funnel#1', 'treatment', 'value'), f.pct(t.bought / 200, 2)],
    ]);
    for (const [v, e] of [['control', c], ['treatment', t]]) {
      const text = await page.textContent(`${cellSel('checkout:funnel#1', v, 'value')} .of-previous`);
      assert(text === `${ofPrev(e)} of step 1`, `${v} step 2 shows "${text}", not "${ofPrev(e)} of step 1"`);
      const overview = await page.textContent(`section[data-funnel="checkout"] tr[data-step="1"] td[data-variant="${v}"]`);
      assert(overview.includes(`${ofPrev(e)} of the previous step`) && overview.includes(f.pct(e.bought / 200, 1)), `${v} overview: ${overview}`);
    }
    const heads = await page.$$eval('section[data-metric^="checkout:funnel"] h3', (hs) => hs.map((x) => x.textContent.replace(/\s+/g, ' ').trim()));
    assert(heads.length === 2 && /step 1 of 2/.test(heads[0]) && /cart/.test(heads[0]) && /step 2 of 2/.test(heads[1]) && /purchase/.test(heads[1]), `headings: ${heads}`);
    assert(await page.isHidden(`${cellSel('checkout:funnel#0', 'control', 'value')} .of-previous`), 'the first step has a previous one');
    await page.selectOption('#metric-select', 'checkout:funnel#1');
    await page.waitForSelector('section[data-metric="checkout:funnel#1"] button[aria-pressed="true"]');
    await page.mouse.move(0, 0);
    await shot(page, 'metrics-results', { fullPage: true });
    await page.locator('section[data-funnel="checkout"]').screenshot({ path: `${OUT}/metrics-funnel.png` });
  });

  await check('Export CSV links to GET /results/{key}.csv and downloads it with the admin key (a blob URL)', async () => {
    const href = await page.getAttribute('#export-csv', 'href');
    assert(href === `/results/${shop}.csv`, `href ${href}`);
    const probe = await fetch(`${BASE}/results/${shop}.csv`, { headers: admin });
    assert(probe.ok && /text\/csv/.test(probe.headers.get('content-type') || ''),
      `GET /results/${shop}.csv answered ${probe.status} ${probe.headers.get('content-type')}`);
    const csv = await probe.text();
    assert(csv.startsWith('metric,kind,step,variant,'), `CSV header: ${csv.slice(0, 60)}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    assert(download.suggestedFilename() === `${shop}-results.csv`, `file name ${download.suggestedFilename()}`);
    const body = readFileSync(await download.path(), 'utf8');
    assert(body === csv, 'the download differs from the server\'s CSV');
  });

  await check('deleting a metric in use is refused and the server\'s reasons are shown', async () => {
    await toCatalog();
    await page.click('#metrics-catalog tr[data-metric-key="orders"] button[data-action="delete"]');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('#metric-delete-error');
    const text = await page.textContent('#metric-delete-error');
    assert(/“orders” was not deleted: it is in use/.test(text) && /revenue_per_order/.test(text), `banner: ${text}`);
    assert(await page.isVisible('#metrics-catalog tr[data-metric-key="orders"]'), 'the row is gone');
    assert(new RegExp(shop).test(await page.textContent('#metrics-catalog tr[data-metric-key="checkout"] [data-col="used"]')), 'checkout is not shown as used');
    await shot(page, 'metrics-delete-refused');
    const r = await fetch(`${BASE}/admin/metrics/orders`, { headers: admin });
    assert(r.status === 200, 'orders was deleted');
  });
}
