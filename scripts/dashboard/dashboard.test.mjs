// The dashboard in a real headless Chromium against a real litmus-server (started by
// browser-test.sh): signs in, creates an experiment through the form (a validation error
// first), starts it, opens its results, posts events from Node and checks, without reloading,
// that the table and the lift chart update live; then the SRM banner on an unbalanced split,
// the list, stopping with a confirmation, the metric catalogue (metrics.checks.mjs: the
// editor, errors at their fields, the experiment form's picker, results of every format, the
// CSV export), the analysis settings (analysis.checks.mjs: an error at its field, stored
// settings, the results naming them, no verdict under the minimum of units), the segments of
// the experiment's dimensions (segments.checks.mjs: the API's segments in order, the
// exploratory note, the SRM badge on the one unbalanced segment), a bandit whose comparisons
// are stratified by its periods of constant weights (bandit.checks.mjs), a holdout's readout
// page (holdout.checks.mjs: its arms' units and conversions, the covered experiments, an
// unknown holdout), people (people.checks.mjs: the first admin from the set-up link, the People
// page's invitations and their links joined in fresh browsers, signing in by email and password,
// what viewers and editors may do, role changes, disabling, password resets; single sign-on
// against scripts/oidc/provider.mjs), webhooks (webhooks.checks.mjs: made through the form, the
// secret once, signed test deliveries to a receiver in this process, retries, Slack bodies,
// switching off, deleting, no link for a viewer) and signing out. Prints `dashboard: N passed`.
//
// Environment: LITMUS_URL, LITMUS_KEY, CHROMIUM (executable), OUT (screenshot directory),
// FORMAT_JS (the dashboard's format.js, to format expected values as the page does), and to
// restart the server mid-test: SERVER_PID, LITMUS_SERVER_BIN, LITMUS_LISTEN, LITMUS_DATA,
// SERVER_LOG (also read for the set-up link); OIDC_PROVIDER (scripts/oidc/provider.mjs, for
// ssoChecks); LITMUS_WEBHOOK_ALLOW_PRIVATE and LITMUS_WEBHOOK_RETRY_SCALE (the server's, kept
// by restarts: webhookChecks delivers to loopback and needs quick retries).

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { metricChecks } from './metrics.checks.mjs';
import { analysisChecks } from './analysis.checks.mjs';
import { segmentChecks } from './segments.checks.mjs';
import { banditChecks } from './bandit.checks.mjs';
import { holdoutChecks } from './holdout.checks.mjs';
import { flagChecks } from './flags.checks.mjs';
import { environmentChecks, projectChecks, staleChecks } from './environments.checks.mjs';
import { setupChecks, peopleChecks, ssoChecks } from './people.checks.mjs';
import { webhookChecks } from './webhooks.checks.mjs';

const BASE = process.env.LITMUS_URL;
const KEY = process.env.LITMUS_KEY;
const OUT = process.env.OUT || 'target/dashboard';
const f = await import(pathToFileURL(process.env.FORMAT_JS).href);
mkdirSync(OUT, { recursive: true });

let passed = 0;
let restarted = null;
let serverDown = false;
const t0 = Date.now();
const log = (msg) => console.log(`[dashboard +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

/** One check: counted when it passes; the run stops at the first failure. */
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    log(`ok   ${name}`);
  } catch (e) {
    log(`FAIL ${name}: ${e && e.message ? e.message.split('\n').slice(0, 6).join('\n') : e}`);
    throw new Error(name);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const admin = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

async function postEvents(events) {
  const res = await fetch(`${BASE}/events`, { method: 'POST', headers: admin, body: JSON.stringify({ events }) });
  const body = await res.json();
  assert(res.status === 200, `POST /events answered ${res.status}: ${JSON.stringify(body)}`);
  assert(body.accepted === events.length, `accepted ${body.accepted} of ${events.length}: ${JSON.stringify(body.rejected).slice(0, 300)}`);
}

/** The test experiment's dimensions: country (2 values of its own), platform (read from os; ios listed). */
const DIMENSIONS = [{ key: 'country', max_values: 2 }, { key: 'platform', attribute: 'os', values: ['ios'] }];

/**
 * The dimension values unit `i` is exposed with. Country, per 20 pairs of units: control US 12,
 * FR 4, DE 2, none 2; treatment US 13, FR 1, DE 3, none 3 (FR splits 80/20, the others about
 * evenly; DE comes after US and FR, past the cap of 2). Platform: ios, android or none in turn.
 */
function dimensionsOf(i) {
  const r = Math.floor(i / 2) % 20;
  const country = i % 2 === 0
    ? (r < 12 ? 'US' : r < 16 ? 'FR' : r < 18 ? 'DE' : null)
    : (r < 13 ? 'US' : r < 14 ? 'FR' : r < 17 ? 'DE' : null);
  const platform = ['ios', 'android', null][i % 3];
  return Object.fromEntries([['country', country], ['platform', platform]].filter(([, v]) => v));
}

/** Units `from`..`to` of `experiment`: even ones in control, odd ones in treatment, exposed over [start, end) with their dimensions. */
function traffic(experiment, from, to, start, end, { purchases = true } = {}) {
  const events = [];
  const expected = { control: { units: 0, converted: 0, sum: 0, errors: 0 }, treatment: { units: 0, converted: 0, sum: 0, errors: 0 } };
  for (let i = from; i < to; i++) {
    const variant = i % 2 === 0 ? 'control' : 'treatment';
    const k = Math.floor(i / 2);
    const at = Math.round(start + ((i - from) / (to - from)) * (end - start));
    const unit = `${experiment}-u${i}`;
    events.push({ type: 'exposure', message_id: `${unit}-x`, unit_id: unit, experiment, variant, timestamp: at, dimensions: dimensionsOf(i) });
    const e = expected[variant];
    e.units += 1;
    if (!purchases) continue;
    // 10% of control units buy for 25; 16% of treatment units buy for 30.
    const buys = variant === 'control' ? k % 10 === 0 : k % 25 < 4;
    if (buys) {
      const value = variant === 'control' ? 25 : 30;
      events.push({ type: 'track', message_id: `${unit}-p`, unit_id: unit, event: 'purchase', value, timestamp: at + 1000 });
      e.converted += 1;
      e.sum += value;
    }
    if (k % 50 === 7) {
      events.push({ type: 'track', message_id: `${unit}-e`, unit_id: unit, event: 'error', timestamp: at + 2000 });
      e.errors += 1;
    }
  }
  return { events, expected };
}

function add(a, b) {
  const out = {};
  for (const v of Object.keys(a)) {
    out[v] = {};
    for (const k of Object.keys(a[v])) out[v][k] = a[v][k] + b[v][k];
  }
  return out;
}

const cellSel = (metric, variant, col) => `section[data-metric="${metric}"] tr[data-variant="${variant}"] [data-col="${col}"]`;

/** Waits until every cell shows its text (the live update), or fails saying what it shows. */
async function waitCells(page, want, timeout = 15000) {
  try {
    await page.waitForFunction((w) => w.every(([sel, text]) => {
      const el = document.querySelector(sel);
      return el && el.textContent.trim().startsWith(text);
    }), want, { timeout, polling: 100 });
  } catch {
    const got = await page.evaluate((w) => w.map(([sel]) => {
      const el = document.querySelector(sel);
      return el ? el.textContent.trim() : '(missing)';
    }), want);
    throw new Error(`cells did not update: ${want.map(([s, t], i) => `${s} wanted "${t}" shows "${got[i]}"`).join('; ')}`);
  }
}

/** A screenshot without the transient notices. */
async function shot(page, name, options = {}) {
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  if (options.fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${OUT}/${name}.png`, ...options });
}

/** Kills the server (as a crash would) and starts it again on the same port and data, with
 * `settings` added to its environment. */
async function restartServer(page, settings = {}) {
  serverDown = true;
  // The first server, or the one the last restart started.
  process.kill(restarted ? restarted.pid : Number(process.env.SERVER_PID), 'SIGKILL');
  await page.waitForSelector('#live[data-state="reconnecting"]', { timeout: 10000 });
  const env = { ...process.env, LITMUS_ADMIN_KEY: KEY, LITMUS_DEMO: '0', RUST_LOG: 'warn', ...settings };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const out = openSync(process.env.SERVER_LOG, 'a');
  restarted = spawn(process.env.LITMUS_SERVER_BIN, [], { env, stdio: ['ignore', out, out] });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the restarted server does not answer');
}

const liftPoints = (page) => page.$eval('[data-chart="lift"] svg.chart-svg', (svg) => Number(svg.getAttribute('data-points')));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let failed = false;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // The wrong key's 401, the invalid form's 422 and the in-use environment's 409 are expected.
    if (/Failed to load resource: the server responded with a status of (401|409|422)/.test(text)) return;
    // A server without single sign-on answers the sign-in page's /auth/sso with 404.
    if (/status of 404/.test(text) && /\/auth\/sso$/.test((m.location() || {}).url || '')) return;
    // So are failed reconnection attempts while the server is down, and the call made after a
    // few of them (to learn whether the key or session is the cause).
    if (serverDown && /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(text)) return;
    problems.push(`console: ${text}`);
  });

  await check('the page, its assets and headers: / redirects, CSP self-only, nosniff, ETag revalidation, 404 JSON', async () => {
    const root = await fetch(`${BASE}/`, { redirect: 'manual' });
    assert(root.status >= 300 && root.status < 400 && root.headers.get('location') === '/dashboard/', `GET / answered ${root.status} to ${root.headers.get('location')}`);
    const index = await fetch(`${BASE}/dashboard/`);
    const csp = index.headers.get('content-security-policy') || '';
    for (const part of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:"]) {
      assert(csp.includes(part), `CSP lacks ${part}: ${csp}`);
    }
    assert(index.headers.get('x-content-type-options') === 'nosniff', 'no nosniff');
    const etag = index.headers.get('etag');
    assert(etag, 'no ETag');
    const again = await fetch(`${BASE}/dashboard/`, { headers: { 'if-none-match': etag } });
    assert(again.status === 304, `If-None-Match answered ${again.status}`);
    const js = await fetch(`${BASE}/dashboard/app.js`);
    assert(js.status === 200 && js.headers.get('content-type').startsWith('text/javascript'), `app.js: ${js.status} ${js.headers.get('content-type')}`);
    const missing = await fetch(`${BASE}/dashboard/nope.js`);
    const body = await missing.json();
    assert(missing.status === 404 && body.error.code === 'not_found', `nope.js: ${missing.status} ${JSON.stringify(body)}`);
  });

  await check('the sign-in page asks for an email and a password; a wrong key (behind its toggle) is refused with a clear 401 message', async () => {
    await page.goto(`${BASE}/`);
    await page.waitForSelector('#signin-form #email');
    assert(await page.isVisible('#password') && await page.isHidden('#admin-key'), 'the key is behind its toggle');
    assert(await page.isHidden('#signout') && await page.isHidden('#whoami'), 'signed-in controls before signing in');
    await page.click('#use-key');
    await page.waitForSelector('#admin-key');
    await page.fill('#admin-key', 'not-the-key');
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#signin-error:not([hidden])');
    const text = await page.textContent('#signin-error');
    assert(/401/.test(text) && /not accepted/.test(text), `error shown: ${text}`);
  });

  await check('signing in with the admin key shows the (empty) experiments list', async () => {
    await page.fill('#admin-key', KEY);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('.empty-state');
    const stored = await page.evaluate(() => sessionStorage.getItem('litmus.adminKey'));
    assert(stored === KEY, 'the key is not kept in sessionStorage');
    assert((await page.textContent('#whoami')).includes('API key'), 'the top bar names the key');
  });

  const firstAdmin = await setupChecks({ browser, BASE, check, assert });

  const exp = `checkout-${Date.now().toString(36)}`;
  await check('the form checks the traffic percentage before sending', async () => {
    await page.click('#new-experiment');
    await page.waitForSelector('form.form-page');
    await page.fill('input[name=key]', exp);
    await page.fill('#f-traffic', '250');
    await page.fill('#metric-rows tr:nth-child(1) [data-field=key]', 'purchase');
    await page.click('#add-metric');
    await page.fill('#metric-rows tr:nth-child(2) [data-field=key]', 'purchase');
    await page.selectOption('#metric-rows tr:nth-child(2) [data-field=kind]', 'mean');
    await page.click('#add-metric');
    await page.fill('#metric-rows tr:nth-child(3) [data-field=key]', 'error');
    await page.selectOption('#metric-rows tr:nth-child(3) [data-field=goal]', 'decrease');
    await page.check('#metric-rows tr:nth-child(3) [data-field=guardrail]');
    await page.click('#save');
    await page.waitForSelector('.field-error[data-error-path="traffic"]');
    const invalid = await page.getAttribute('#f-traffic', 'aria-invalid');
    const text = await page.textContent('.field-error[data-error-path="traffic"]');
    assert(invalid === 'true', 'the traffic input is not marked invalid');
    assert(/0 to 100/.test(text), `error text: ${text}`);
  });

  await check('the server\'s 422 is shown next to the field its path names (variants[1].weight)', async () => {
    await page.fill('#f-traffic', '100');
    await page.fill('#variant-rows tr:nth-child(2) [data-field=weight]', '-1');
    await page.click('#save');
    await page.waitForSelector('.field-error[data-error-path="variants[1].weight"]');
    const input = '#variant-rows tr:nth-child(2) [data-field=weight]';
    assert(await page.getAttribute(input, 'aria-invalid') === 'true', 'the weight input is not marked invalid');
    assert(await page.getAttribute('#f-traffic', 'aria-invalid') === null, 'the corrected traffic is still marked');
    const text = await page.textContent('.field-error[data-error-path="variants[1].weight"]');
    assert(/-1/.test(text) && />= 0/.test(text), `error text: ${text}`);
    const summary = await page.textContent('#form-errors');
    assert(/variants\[1\]\.weight/.test(summary) && /invalid_value/.test(summary), `summary: ${summary}`);
    const inRow = await page.$eval(input, (el) => Boolean(el.closest('tr').querySelector('.field-error')));
    assert(inRow, 'the error is not in the weight\'s row');
    await shot(page, 'form-error', { fullPage: true });
  });

  await check('the corrected form creates the experiment (a draft) and opens its results', async () => {
    await page.fill('#variant-rows tr:nth-child(2) [data-field=weight]', '1');
    await page.click('#save');
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .page-head .badge[data-status="draft"]`);
    const stored = await (await fetch(`${BASE}/admin/experiments/${exp}`, { headers: admin })).json();
    const metrics = stored.metrics.map((m) => `${m.key}:${m.kind}:${m.goal}:${Boolean(m.guardrail)}`).join(',');
    assert(metrics === 'purchase:conversion:increase:false,purchase:mean:increase:false,error:conversion:decrease:true', `stored metrics: ${metrics}`);
    assert(stored.traffic === 1 && stored.variants.length === 2, `stored: ${JSON.stringify(stored)}`);
    // Dimensions (which the form keeps but does not edit) before any exposure.
    const put = await fetch(`${BASE}/admin/experiments/${exp}`, { method: 'PUT', headers: admin, body: JSON.stringify({ ...stored, dimensions: DIMENSIONS }) });
    assert(put.status === 200, `PUT with dimensions answered ${put.status}: ${await put.text()}`);
    await page.reload();
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .page-head .badge[data-status="draft"]`);
  });

  await check('Start makes it running', async () => {
    await page.click('.page-head button[data-action="running"]');
    await page.waitForSelector('.page-head .badge[data-status="running"]');
    const stored = await (await fetch(`${BASE}/admin/experiments/${exp}`, { headers: admin })).json();
    assert(stored.status === 'running', `stored status ${stored.status}`);
  });

  await check('the results view is live (WebSocket connected) with empty tables and chart', async () => {
    await page.waitForSelector('#live[data-state="connected"]');
    await waitCells(page, [[cellSel('purchase:conversion', 'control', 'units'), '0']]);
    assert(await page.isHidden('#srm-banner'), 'an SRM banner without data');
    assert((await liftPoints(page)) === 0, 'lift points before any data');
    await page.evaluate(() => { window.__noReload = 'still here'; });
  });

  const now = Date.now();
  const first = traffic(exp, 0, 400, now - 2 * 3600e3, now - 3600e3);
  await check('400 units posted: the table shows their units, conversions, rates and means without a reload', async () => {
    await postEvents(first.events);
    const e = first.expected;
    assert(e.control.units === 200 && e.treatment.units === 200 && e.control.converted === 20 && e.treatment.converted === 32, 'test data');
    await waitCells(page, [
      [cellSel('purchase:conversion', 'control', 'units'), '200'],
      [cellSel('purchase:conversion', 'treatment', 'units'), '200'],
      [cellSel('purchase:conversion', 'control', 'converted'), '20'],
      [cellSel('purchase:conversion', 'treatment', 'converted'), '32'],
      [cellSel('purchase:conversion', 'control', 'value'), '10.00%'],
      [cellSel('purchase:conversion', 'treatment', 'value'), '16.00%'],
      [cellSel('purchase:mean', 'control', 'value'), f.num(e.control.sum / 200)],
      [cellSel('purchase:mean', 'treatment', 'value'), f.num(e.treatment.sum / 200)],
      [cellSel('purchase:mean', 'treatment', 'sum'), f.num(e.treatment.sum)],
      [cellSel('error:conversion', 'treatment', 'converted'), String(e.treatment.errors)],
      ['[data-testid="total-units"]', '400'],
    ]);
    assert(await page.evaluate(() => window.__noReload) === 'still here', 'the page reloaded');
  });

  await check('the comparison row shows the lift, p-values, P(better) and a verdict', async () => {
    const rel = (await page.textContent(cellSel('purchase:conversion', 'treatment', 'rel'))).trim();
    assert(rel.startsWith('+60.0%'), `relative lift shows ${rel}`);
    const abs = (await page.textContent(cellSel('purchase:conversion', 'treatment', 'abs'))).trim();
    assert(abs.startsWith('+6.00 pp'), `absolute lift shows ${abs}`);
    for (const col of ['pvalue', 'seq_pvalue', 'prob', 'loss']) {
      const text = (await page.textContent(cellSel('purchase:conversion', 'treatment', col))).trim();
      assert(/\d/.test(text), `${col} shows ${text}`);
    }
    assert(await page.isVisible(`${cellSel('purchase:conversion', 'treatment', 'verdict')} .verdict`), 'no verdict badge');
    assert(await page.isVisible(`${cellSel('purchase:conversion', 'treatment', 'bar')} svg.ci rect.bar`), 'no interval bar');
  });

  let pointsBefore = 0;
  await check('the lift chart gained its first points (burn-in passed)', async () => {
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="lift"] svg.chart-svg').getAttribute('data-points')) > 0, null, { timeout: 10000 });
    pointsBefore = await liftPoints(page);
    assert(await page.isVisible('[data-chart="lift"] path.band'), 'no interval band');
  });

  await check('choosing the mean in the chart\'s selector redraws it', async () => {
    await page.selectOption('#metric-select', 'purchase:mean');
    await page.waitForSelector('section[data-metric="purchase:mean"] button[aria-pressed="true"]');
    assert((await liftPoints(page)) === pointsBefore, 'the mean has other points');
  });

  const second = traffic(exp, 400, 800, now - 3600e3, now - 1000);
  const total = add(first.expected, second.expected);
  await check('400 more units: table and chart update in place, the selected metric is kept', async () => {
    await postEvents(second.events);
    await waitCells(page, [
      [cellSel('purchase:conversion', 'control', 'units'), '400'],
      [cellSel('purchase:conversion', 'treatment', 'converted'), String(total.treatment.converted)],
      [cellSel('purchase:mean', 'control', 'value'), f.num(total.control.sum / 400)],
      ['[data-testid="total-units"]', '800'],
    ]);
    await page.waitForFunction((n) => Number(document.querySelector('[data-chart="lift"] svg.chart-svg').getAttribute('data-points')) > n, pointsBefore, { timeout: 10000 });
    const after = await liftPoints(page);
    const selected = await page.$eval('#metric-select', (s) => s.value);
    assert(selected === 'purchase:mean', `the chart shows ${selected}`);
    assert(await page.evaluate(() => window.__noReload) === 'still here', 'the page reloaded');
    log(`     lift chart points: ${pointsBefore} -> ${after}`);
  });

  await check('hovering the chart shows a tooltip with the lift and its interval', async () => {
    await page.locator('#lift-card').scrollIntoViewIfNeeded();
    const box = await page.$eval('[data-chart="lift"] svg.chart-svg', (svg) => svg.getBoundingClientRect().toJSON());
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
    await page.waitForSelector('#tip:not([hidden])');
    const text = await page.textContent('#tip');
    assert(/treatment vs control/.test(text) && /\[/.test(text), `tooltip: ${text}`);
    await shot(page, 'lift-hover', { clip: { x: box.x - 20, y: box.y - 70, width: box.width + 40, height: box.height + 120 } });
    await page.selectOption('#metric-select', 'purchase:conversion');
    await page.mouse.move(0, 0);
    await page.waitForTimeout(200);
    await shot(page, 'results', { fullPage: true });
  });

  await check('after a server crash and restart the page reconnects, resubscribes and updates again', async () => {
    await restartServer(page);
    await page.waitForSelector('#live[data-state="connected"]', { timeout: 20000 });
    serverDown = false;
    const later = Date.now();
    const third = traffic(exp, 800, 840, later - 60e3, later - 1000, { purchases: false });
    await postEvents(third.events);
    await waitCells(page, [
      [cellSel('purchase:conversion', 'control', 'units'), '420'],
      [cellSel('purchase:conversion', 'treatment', 'units'), '420'],
      ['[data-testid="total-units"]', '840'],
    ]);
    assert(await page.evaluate(() => window.__noReload) === 'still here', 'the page reloaded');
  });

  const srm = `onboarding-${Date.now().toString(36)}`;
  await check('a second experiment (running) appears in the list with its status and live unit count', async () => {
    const res = await fetch(`${BASE}/admin/experiments/${srm}`, {
      method: 'PUT', headers: admin,
      body: JSON.stringify({ key: srm, status: 'running', variants: [{ key: 'control', weight: 1 }, { key: 'treatment', weight: 1 }], metrics: [{ key: 'activate', kind: 'conversion' }] }),
    });
    assert(res.status === 200, `PUT answered ${res.status}`);
    await page.click('nav a[data-nav="experiments"]');
    await page.waitForSelector(`#experiments-table tr[data-experiment="${srm}"]`);
    await waitCells(page, [
      [`#experiments-table tr[data-experiment="${exp}"] [data-col="units"]`, '840'],
      [`#experiments-table tr[data-experiment="${srm}"] [data-col="units"]`, '0'],
    ]);
    assert(await page.isVisible(`#experiments-table tr[data-experiment="${exp}"] .badge[data-status="running"]`), 'no running badge');
    assert(await page.isVisible(`#experiments-table tr[data-experiment="${exp}"] svg.spark`), 'no sparkline');
    await page.click('button[data-filter="draft"]');
    assert(await page.isHidden(`#experiments-table tr[data-experiment="${exp}"]`), 'the status filter shows a running experiment under draft');
    await page.click('button[data-filter="all"]');
    await shot(page, 'list', { fullPage: true });
  });

  await check('an unbalanced split (300 vs 100) raises the SRM banner, live', async () => {
    await page.click(`#experiments-table tr[data-experiment="${srm}"] a.exp-link`);
    await page.waitForSelector(`.results-page[data-experiment="${srm}"] .results-table`);
    assert(await page.isHidden('#srm-banner'), 'an SRM banner before the events');
    const events = [];
    for (let i = 0; i < 400; i++) {
      const unit = `${srm}-u${i}`;
      events.push({ type: 'exposure', message_id: `${unit}-x`, unit_id: unit, experiment: srm, variant: i % 4 === 0 ? 'treatment' : 'control', timestamp: now - 3600e3 + i * 9000 });
    }
    await postEvents(events);
    await page.waitForSelector('#srm-banner:not([hidden])', { timeout: 15000 });
    const text = await page.textContent('#srm-banner');
    assert(/Sample ratio mismatch/.test(text) && /75\.0%/.test(text) && /25\.0%/.test(text), `banner: ${text}`);
    await shot(page, 'srm');
  });

  await check('Stop asks for confirmation: cancel keeps it running, confirm stops it', async () => {
    await page.click('.page-head button[data-action="stopped"]');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('dialog#confirm button[value="cancel"]');
    await page.waitForFunction(() => !document.getElementById('confirm').open);
    assert(await page.isVisible('.page-head .badge[data-status="running"]'), 'cancel changed the status');
    await page.click('.page-head button[data-action="stopped"]');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('.page-head .badge[data-status="stopped"]');
    const stored = await (await fetch(`${BASE}/admin/experiments/${srm}`, { headers: admin })).json();
    assert(stored.status === 'stopped', `stored status ${stored.status}`);
  });

  await check('results behind ingestion say "as of" when (events stored, the rollups not applied: --rollups off)', async () => {
    await restartServer(page, { LITMUS_ROLLUPS: 'off' });
    await page.waitForSelector('#live[data-state="connected"]', { timeout: 20000 });
    serverDown = false;
    await page.click('nav a[data-nav="experiments"]');
    await page.click(`#experiments-table tr[data-experiment="${exp}"] a.exp-link`);
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .results-table`);
    assert(await page.isHidden('#lag-banner'), 'a lag banner while nothing waits');
    const t = Date.now();
    const waiting = traffic(exp, 900, 940, t - 60e3, t - 1000, { purchases: false });
    await postEvents(waiting.events);
    // Nothing applies them on this instance: once they have waited past the notice's 5 s, the
    // results say how old they are (the reload is what asks for them again).
    await new Promise((r) => setTimeout(r, 5500));
    await page.reload();
    await page.waitForSelector('#lag-banner:not([hidden])', { timeout: 20000 });
    const text = await page.textContent('#lag-banner');
    assert(/Results as of \d\d:\d\d:\d\d/.test(text) && new RegExp(`${waiting.events.length} events are stored but not counted yet`).test(text), `banner: ${text}`);
    await waitCells(page, [['[data-testid="total-units"]', '840']]);
    await shot(page, 'lag');
    // Back to an instance that applies them: the banner goes once they are counted.
    await restartServer(page);
    await page.waitForSelector('#live[data-state="connected"]', { timeout: 20000 });
    serverDown = false;
    await waitCells(page, [['[data-testid="total-units"]', '880']]);
    await page.reload();
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .results-table`);
    await waitCells(page, [['[data-testid="total-units"]', '880']]);
    assert(await page.isHidden('#lag-banner'), 'the lag banner stays once the events are counted');
  });

  await analysisChecks({ page, BASE, admin, check, assert, shot, exp, cellSel });

  await segmentChecks({ page, BASE, admin, check, assert, f, shot, exp, dimensions: DIMENSIONS });

  await banditChecks({ page, BASE, admin, check, assert, f, shot, postEvents, cellSel });

  await metricChecks({ page, BASE, admin, OUT, check, assert, f, shot, postEvents, waitCells, cellSel, log });

  await holdoutChecks({ page, BASE, admin, check, assert, f, shot, postEvents, waitCells, cellSel });

  await flagChecks({ page, BASE, admin, check, assert, shot });

  await environmentChecks({ page, BASE, admin, check, assert, shot });

  await projectChecks({ page, BASE, admin, check, assert });

  await staleChecks({ page, BASE, admin, check, assert });

  await peopleChecks({ page, browser, BASE, admin, check, assert, shot, exp, firstAdmin });

  await ssoChecks({ page, browser, BASE, check, assert, shot, restartServer, serverUp: () => { serverDown = false; } });

  await webhookChecks({ page, browser, BASE, admin, check, assert, shot });

  await check('sign out forgets the key', async () => {
    await page.click('#signout');
    await page.waitForSelector('#signin-form #email');
    const stored = await page.evaluate(() => sessionStorage.getItem('litmus.adminKey'));
    assert(stored === null, 'the key is still stored');
  });

  await check('no uncaught error and no Content-Security-Policy violation in the whole run', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
} catch (e) {
  failed = true;
  if (problems.length) log(`browser problems:\n  ${problems.join('\n  ')}`);
} finally {
  await browser.close();
  if (restarted) restarted.kill('SIGTERM');
}
console.log(`dashboard: ${passed} passed${failed ? ', 1 failed' : ''} (${((Date.now() - t0) / 1000).toFixed(1)}s; screenshots in ${OUT})`);
process.exit(failed ? 1 : 0);
