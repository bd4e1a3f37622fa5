// Webhooks in the dashboard, driven by dashboard.test.mjs against the same server (started with
// LITMUS_WEBHOOK_ALLOW_PRIVATE=1, so deliveries may reach loopback, and
// LITMUS_WEBHOOK_RETRY_SCALE=0.001, so retries come 1000x sooner): a receiver in this process
// (node:http on 127.0.0.1) records every request and can answer 500 to the next ones that match.
// The checks make webhooks through the page's form (the server's 422 at its fields first; the
// secret shown once), send a test whose Litmus-Signature verifies with node:crypto, see a
// failing delivery pending with Retry, an experiment started in the UI delivered on the third
// attempt, a Slack-format body, an edit, a webhook switched off receiving nothing, a delete,
// and what a viewer and a key without the scope are offered.

import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

const PASSWORD = 'correct horse battery staple';

/**
 * Verifies a delivery as docs/webhooks.md "With the standard library only" does: HMAC-SHA256
 * of `${t}.${body}` keyed by the secret; answers `t`, or throws.
 */
export function verifyLitmusSignature(secret, header, body, tolerance = 300, now = Date.now() / 1000) {
  let t = null;
  const signatures = [];
  for (const entry of (header ?? '').split(',')) {
    const part = entry.trim();
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const [name, value] = [part.slice(0, eq), part.slice(eq + 1)];
    if (name === 't') t = value;
    else if (name === 'v1') signatures.push(value);
  }
  if (t === null || !/^[0-9]+$/.test(t) || signatures.length === 0) {
    throw new Error('missing or malformed Litmus-Signature header');
  }
  if (Math.abs(now - Number(t)) > tolerance) throw new Error("the signature's timestamp is outside the tolerance");
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const matches = (s) => /^[0-9a-f]{64}$/.test(s) && timingSafeEqual(expected, Buffer.from(s, 'hex'));
  if (!signatures.some(matches)) throw new Error('no signature matches');
  return Number(t);
}

/**
 * A receiver on 127.0.0.1 (a free port): records each request ({path, headers, body (Buffer),
 * json, type, eventId, answered}) and answers 204, or 500 while a `failNext` rule matches.
 */
async function receiver() {
  const requests = [];
  const rules = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json = null;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = null;
      }
      const r = {
        method: req.method, path: req.url, headers: req.headers, body, json,
        type: req.headers['litmus-event-type'], eventId: req.headers['litmus-event-id'], delivery: req.headers['litmus-delivery'],
      };
      const rule = rules.find((x) => x.left > 0 && x.when(r));
      if (rule) rule.left -= 1;
      r.answered = rule ? 500 : 204;
      requests.push(r);
      res.writeHead(r.answered, { 'content-type': 'text/plain' }).end(rule ? 'failing on purpose' : '');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    /** Answers 500 to the next `n` requests `when` matches (Infinity: until `stop`). */
    failNext(n, when = () => true) {
      const rule = { left: n, when };
      rules.push(rule);
      return { stop: () => { rule.left = 0; } };
    },
    /** The requests `pred` matches, once there are at least `count` (a hang guard of 60 s). */
    async waitFor(pred, what, count = 1) {
      for (let i = 0; i < 1200; i++) {
        const found = requests.filter(pred);
        if (found.length >= count) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the receiver did not get ${what}; it got: ${requests.map((r) => `${r.path} ${r.type} ${r.answered}`).join(', ') || 'nothing'}`);
    },
    // The server keeps its connections alive: they are closed here, or close() waits for them.
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  };
}

/** A fresh browser context (no cookie, no key) and its page, collecting its problems. */
async function fresh(browser, init) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  if (init) await context.addInitScript(init.fn, init.arg);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // The signed-out probe (401), the refusals this file checks (403) and the throttle (429).
    if (/Failed to load resource: the server responded with a status of (401|403|404|429)/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  return { context, page, problems };
}

/** The webhooks checks: the arguments are dashboard.test.mjs's helpers. */
export async function webhookChecks({ page, browser, BASE, admin, check, assert, shot }) {
  const tag = Date.now().toString(36);
  const exp = `hooked-${tag}`;
  const rx = await receiver();
  const api = async (method, path, body) => {
    const res = await fetch(`${BASE}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const stored = async () => (await api('GET', '/admin/webhooks')).body.webhooks;
  const deliveries = async (id) => (await api('GET', `/admin/webhooks/${id}/deliveries?limit=500`)).body.deliveries;
  /** The webhooks page mounted afresh (through another page: the address may be it already). */
  const toWebhooks = async () => {
    await page.evaluate(() => { location.hash = '#/flags'; });
    await page.evaluate(() => { location.hash = '#/webhooks'; });
    await page.waitForSelector('#webhook-form #create-webhook:not([disabled])');
  };
  /** Opens webhook `id`'s delivery log on the page. */
  const openLog = async (id) => {
    await page.waitForSelector(`[data-log-toggle="${id}"]`);
    if (await page.getAttribute(`[data-log-toggle="${id}"]`, 'aria-expanded') !== 'true') await page.click(`[data-log-toggle="${id}"]`);
    await page.waitForSelector(`[data-log="${id}"] table.deliveries, [data-empty-log="${id}"]`);
  };
  /** Changes the experiment's status with its results page's button. */
  const setStatus = async (action, status) => {
    await page.evaluate((k) => { location.hash = `#/experiments/${encodeURIComponent(k)}`; }, exp);
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] .page-head button[data-action="${action}"]`);
    await page.click(`.page-head button[data-action="${action}"]`);
    await page.waitForSelector(`.page-head .badge[data-status="${status}"]`);
  };
  /** Types the form's URL, format and events (patterns to check after unchecking "all"). */
  const fillForm = async (url, format, patterns) => {
    await page.fill('#wh-url', url);
    await page.selectOption('#wh-format', format);
    if (await page.isChecked('#webhook-form [data-event="*"]')) await page.uncheck('#webhook-form [data-event="*"]');
    for (const p of patterns) await page.check(`#webhook-form [data-event="${p}"]`);
  };
  /** Makes a webhook through the form; answers {id, secret} read from the page. */
  const makeThroughForm = async (url, format, patterns) => {
    await fillForm(url, format, patterns);
    await page.click('#create-webhook');
    await page.waitForSelector('#new-secret #webhook-secret');
    const secret = await page.inputValue('#webhook-secret');
    const id = await page.getAttribute('#new-secret', 'data-webhook');
    await page.waitForSelector(`#webhooks-table tr[data-webhook="${id}"]`);
    return { id, secret };
  };

  assert((await api('PUT', `/admin/experiments/${exp}`, {
    key: exp, status: 'draft', variants: [{ key: 'control', weight: 1 }, { key: 'treatment', weight: 1 }], metrics: [{ key: 'signup', kind: 'conversion' }],
  })).status === 200, 'a draft experiment');

  let a = null;
  let s = null;
  let aPath = '/a';
  const open = [];
  try {
    await check('webhooks: an admin (the key) is offered Webhooks; the form shows the server\'s 422 at the URL, then at the events', async () => {
      await page.waitForSelector('#webhooks-link[data-access="allowed"]', { state: 'attached' });
      assert(await page.isVisible('#webhooks-link'), 'no Webhooks link for the admin key');
      await page.click('#webhooks-link');
      await page.waitForSelector('#webhook-form #create-webhook:not([disabled])');
      assert(await page.getAttribute('#webhooks-link', 'aria-current') === 'page', 'the link is not current');
      // Every event type of the API, grouped by kind, each with its "all".
      const { events } = (await api('GET', '/admin/webhooks')).body;
      for (const t of events) assert(await page.$(`#webhook-form [data-kind="${t.split('.')[0]}"] [data-event="${t}"]`), `no checkbox for ${t}`);
      for (const kind of new Set(events.map((t) => t.split('.')[0]))) assert(await page.$(`#webhook-form [data-event="${kind}.*"]`), `no "all ${kind}"`);
      assert(await page.isChecked('#webhook-form [data-event="*"]') && await page.isDisabled('#webhook-form [data-event="flag.created"]'), 'all events by default, each covered');
      await page.fill('#wh-url', 'not a url');
      await page.click('#create-webhook');
      await page.waitForSelector('#webhook-form .field-error[data-error-path="url"]');
      assert(/is not a URL/.test(await page.textContent('#webhook-form .field-error[data-error-path="url"]')), 'the URL\'s message');
      assert(await page.getAttribute('#wh-url', 'aria-invalid') === 'true', 'the URL is not marked invalid');
      await page.fill('#wh-url', `${rx.url}${aPath}`);
      await page.uncheck('#webhook-form [data-event="*"]');
      assert(!(await page.isDisabled('#webhook-form [data-event="flag.created"]')), 'a type stays disabled without "all"');
      await page.click('#create-webhook');
      await page.waitForSelector('#webhook-form .field-error[data-error-path="events"]');
      assert(!(await page.$('#webhook-form .field-error[data-error-path="url"]')), 'the URL\'s error stays');
      assert((await stored()).length === 0, 'a webhook was made');
    });

    await check('webhooks: one made through the form (experiment.*, webhook.test) shows its secret once, with Copy; then the list shows it without', async () => {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
      await page.check('#webhook-form [data-event="experiment.*"]');
      assert(await page.isChecked('#webhook-form [data-event="experiment.started"]') && await page.isDisabled('#webhook-form [data-event="experiment.started"]'), 'the kind\'s "all" covers its types');
      await page.check('#webhook-form [data-event="webhook.test"]');
      await page.click('#create-webhook');
      await page.waitForSelector('#new-secret #webhook-secret');
      a = { id: await page.getAttribute('#new-secret', 'data-webhook'), secret: await page.inputValue('#webhook-secret') };
      assert(/^whsec_[0-9a-f]{64}$/.test(a.secret), `the secret: ${a.secret}`);
      assert(/not show it again/.test(await page.textContent('#secret-warning')), 'the warning');
      await page.click('#copy-secret');
      assert(await page.evaluate(() => navigator.clipboard.readText()) === a.secret, 'Copy did not copy the secret');
      await shot(page, 'webhooks-secret');
      const row = `#webhooks-table tr[data-webhook="${a.id}"]`;
      await page.waitForSelector(row);
      const w = (await stored()).find((x) => x.id === a.id);
      assert(w && w.url === `${rx.url}${aPath}` && w.format === 'json' && w.enabled && w.events.join() === 'experiment.*,webhook.test', `stored: ${JSON.stringify(w)}`);
      const text = await page.textContent(row);
      assert(text.includes(w.url) && /all experiment events/.test(text) && /webhook\.test/.test(text) && /JSON/.test(text) && text.includes(w.created_by), `the row: ${text}`);
      assert(await page.getAttribute(`${row} [data-toggle]`, 'aria-checked') === 'true', 'the switch is not on');
      assert(await page.inputValue('#wh-url') === '' && await page.isChecked('#webhook-form [data-event="*"]'), 'the form was not reset');
      // Once: Done hides it, and the page opened again does not have it.
      await page.click('#dismiss-secret');
      await page.waitForSelector('#new-secret', { state: 'detached' });
      await toWebhooks();
      await page.waitForSelector(row);
      assert(!(await page.$('#new-secret')), 'the secret panel is back');
      assert(!(await page.content()).includes(a.secret), 'the secret is in the page');
    });

    await check('webhooks: "Send test" → the receiver gets a webhook.test POST whose Litmus-Signature verifies; the log row turns delivered', async () => {
      await page.click(`[data-test="${a.id}"]`);
      const [got] = await rx.waitFor((r) => r.path === aPath && r.type === 'webhook.test', 'the test event');
      assert(got.method === 'POST' && /application\/json/.test(got.headers['content-type']), `${got.method} ${got.headers['content-type']}`);
      const t = verifyLitmusSignature(a.secret, got.headers['litmus-signature'], got.body);
      assert(Number.isInteger(t), 'no timestamp');
      let refused = false;
      try {
        verifyLitmusSignature(`${a.secret}0`, got.headers['litmus-signature'], got.body);
      } catch {
        refused = true;
      }
      assert(refused, 'another secret verifies too');
      assert(got.json && got.json.type === 'webhook.test' && got.json.id === got.eventId && got.json.data.webhook === a.id && got.json.project === 'default', `body: ${got.body}`);
      const row = `#log-${a.id} tr[data-delivery="${got.delivery}"]`;
      await page.waitForSelector(`${row}[data-status="delivered"]`, { timeout: 20000 });
      assert(await page.textContent(`${row} [data-col="type"]`) === 'webhook.test', 'the event type');
      assert((await page.textContent(`${row} [data-col="event"]`)).trim() === got.eventId, 'the event id');
      assert((await page.textContent(`${row} [data-col="attempts"]`)).trim() === '1', 'attempts');
      assert((await page.textContent(`${row} [data-col="answer"]`)).includes('HTTP 204'), 'the answer');
      assert(/\d\d:\d\d:\d\d/.test(await page.textContent(`${row} [data-col="delivered"]`)), 'delivered at');
      assert(await page.isVisible(`${row} .badge.delivery[data-status="delivered"]`), 'no delivered badge');
      assert(!(await page.$(`${row} [data-retry]`)), 'Retry on a delivered row');
    });

    await check('webhooks: a delivery answered 500 shows pending with the answer, its next attempt and Retry; Retry (202) and it is delivered', async () => {
      const failing = rx.failNext(Infinity, (r) => r.path === aPath && r.type === 'webhook.test');
      const before = rx.requests.length;
      await page.click(`[data-test="${a.id}"]`);
      const [first] = await rx.waitFor((r) => rx.requests.indexOf(r) >= before && r.type === 'webhook.test', 'the failing test');
      const row = `#log-${a.id} tr[data-delivery="${first.delivery}"]`;
      await page.waitForSelector(`${row}[data-status="pending"] [data-col="answer"] [data-http="500"]`, { timeout: 20000 });
      assert(await page.isVisible(`${row} .badge.delivery[data-status="pending"]`), 'no pending badge');
      const next = (await page.textContent(`${row} [data-col="next"]`)).trim();
      assert(/^(in \d+ s|due now)$/.test(next), `next attempt: ${next}`);
      assert(await page.isVisible(`${row} [data-retry]`), 'no Retry on a pending row');
      await shot(page, 'webhooks-pending', { fullPage: true });
      failing.stop();
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/deliveries/${first.delivery}/retry`)),
        page.click(`${row} [data-retry]`),
      ]);
      assert(res.status() === 202, `retry answered ${res.status()}`);
      await page.waitForSelector(`${row}[data-status="delivered"]`, { timeout: 20000 });
      assert(!(await page.$(`${row} [data-retry]`)), 'Retry stays on the delivered row');
      const all = rx.requests.filter((r) => r.delivery === first.delivery);
      assert(all.length >= 2 && all.every((r) => r.eventId === first.eventId), `attempts seen: ${all.length}`);
      for (const r of all) verifyLitmusSignature(a.secret, r.headers['litmus-signature'], r.body);
      // Retries come fast here, so an automatic one may deliver it before (or besides) the
      // manual one: 500s until the first 204, and then nothing but 204s.
      const firstOk = all.findIndex((r) => r.answered === 204);
      assert(firstOk > 0 && all.slice(0, firstOk).every((r) => r.answered === 500), `answers: ${all.map((r) => r.answered)}`);
      assert(all.slice(firstOk).every((r) => r.answered === 204), `answers: ${all.map((r) => r.answered)}`);
    });

    await check('webhooks: with the receiver answering 500 twice, an experiment started in the UI is delivered on the third attempt (log: attempts 3, delivered)', async () => {
      rx.failNext(2, (r) => r.path === aPath && r.type === 'experiment.started' && r.json && r.json.data.experiment === exp);
      await setStatus('running', 'running');
      const got = await rx.waitFor((r) => r.path === aPath && r.type === 'experiment.started' && r.json && r.json.data.experiment === exp && r.answered === 204, 'the started event, delivered');
      const all = rx.requests.filter((r) => r.eventId === got[0].eventId && r.path === aPath);
      assert(all.map((r) => r.answered).join() === '500,500,204', `answers: ${all.map((r) => r.answered)}`);
      for (const r of all) verifyLitmusSignature(a.secret, r.headers['litmus-signature'], r.body);
      const data = got[0].json.data;
      assert(data.status === 'running' && data.changes.some((c) => c.path === 'status' && c.before === 'draft' && c.after === 'running'), `data: ${JSON.stringify(data)}`);
      await toWebhooks();
      await openLog(a.id);
      const row = `#log-${a.id} tr[data-event-id="${got[0].eventId}"]`;
      await page.waitForSelector(`${row}[data-status="delivered"]`, { timeout: 20000 });
      assert((await page.textContent(`${row} [data-col="attempts"]`)).trim() === '3', 'attempts');
      assert(await page.textContent(`${row} [data-col="type"]`) === 'experiment.started', 'the type');
      assert((await page.textContent(`${row} [data-col="answer"]`)).includes('HTTP 204'), 'the last answer');
    });

    let slackEvent = null;
    await check('webhooks: a Slack-format webhook made through the form gets {"text": …} for an experiment paused in the UI', async () => {
      await toWebhooks();
      s = await makeThroughForm(`${rx.url}/slack`, 'slack', ['experiment.*']);
      await page.click('#dismiss-secret');
      const row = `#webhooks-table tr[data-webhook="${s.id}"]`;
      assert(await page.getAttribute(row, 'data-format') === 'slack' && /Slack/.test(await page.textContent(`${row} [data-col="format"]`)), 'the format shown');
      assert((await stored()).find((x) => x.id === s.id).format === 'slack', 'stored format');
      await setStatus('paused', 'paused');
      const [got] = await rx.waitFor((r) => r.path === '/slack' && r.type === 'experiment.changed' && r.json && String(r.json.text).includes(exp), 'the Slack message');
      slackEvent = got.eventId;
      verifyLitmusSignature(s.secret, got.headers['litmus-signature'], got.body);
      assert(got.json && typeof got.json.text === 'string' && got.json.text.includes(exp), `body: ${got.body}`);
      assert(!('type' in got.json) && !('data' in got.json), 'a JSON event, not a Slack message');
      await toWebhooks();
      await openLog(a.id);
      await page.waitForSelector(`#log-${a.id} tr[data-event-type="experiment.changed"][data-status="delivered"]`, { timeout: 20000 });
      await shot(page, 'webhooks', { fullPage: true });
    });

    await check('webhooks: edit changes the URL, events and format (a bad URL first: the 422 at the field)', async () => {
      await page.click(`[data-edit-webhook="${a.id}"]`);
      await page.waitForSelector(`#webhook-edit[data-webhook="${a.id}"]`);
      assert(await page.inputValue('#wh-edit-url') === `${rx.url}${aPath}`, 'the edit form\'s URL');
      assert(await page.isChecked('#webhook-edit [data-event="experiment.*"]') && await page.isChecked('#webhook-edit [data-event="webhook.test"]')
        && !(await page.isChecked('#webhook-edit [data-event="flag.*"]')), 'the edit form\'s events');
      await page.fill('#wh-edit-url', 'ftp://example.com/hook');
      await page.click('#save-webhook');
      await page.waitForSelector('#webhook-edit .field-error[data-error-path="url"]');
      assert(/http or https/.test(await page.textContent('#webhook-edit .field-error[data-error-path="url"]')), 'the message');
      aPath = '/a2';
      await page.fill('#wh-edit-url', `${rx.url}${aPath}`);
      await page.check('#webhook-edit [data-event="flag.*"]');
      await page.selectOption('#wh-edit-format', 'slack');
      await page.selectOption('#wh-edit-format', 'json');
      await page.click('#save-webhook');
      await page.waitForSelector('#webhook-edit', { state: 'detached' });
      await page.waitForSelector(`#webhooks-table tr[data-webhook="${a.id}"][data-url="${rx.url}${aPath}"]`);
      const w = (await stored()).find((x) => x.id === a.id);
      assert(w.url === `${rx.url}${aPath}` && w.events.join() === 'experiment.*,webhook.test,flag.*' && w.format === 'json', `stored: ${JSON.stringify(w)}`);
      assert(/all flag events/.test(await page.textContent(`#webhooks-table tr[data-webhook="${a.id}"] [data-col="events"]`)), 'the events shown');
    });

    await check('webhooks: switched off, a webhook gets nothing: the experiment resumed in the UI reaches the Slack one only', async () => {
      await page.click(`[data-toggle="${a.id}"]`);
      await page.waitForSelector(`#webhooks-table tr[data-webhook="${a.id}"][data-enabled="false"] [data-toggle][aria-checked="false"]`);
      assert((await stored()).find((x) => x.id === a.id).enabled === false, 'stored as on');
      const before = rx.requests.length;
      await setStatus('running', 'running');
      const [got] = await rx.waitFor((r) => rx.requests.indexOf(r) >= before && r.path === '/slack' && r.type === 'experiment.changed' && r.json && String(r.json.text).includes(exp), 'the resumed event at the Slack webhook');
      assert(got.eventId !== slackEvent, 'the same event again');
      // Both webhooks' deliveries of an event are queued together: the Slack one's arrival means
      // the switched-off one would have had its own by now.
      assert(!rx.requests.some((r) => r.eventId === got.eventId && r.path !== '/slack'), 'the webhook switched off received it');
      assert(!(await deliveries(a.id)).some((d) => d.event_id === got.eventId), 'a delivery was queued for the webhook switched off');
      await toWebhooks();
      await openLog(a.id);
      assert(!(await page.$(`#log-${a.id} tr[data-event-id="${got.eventId}"]`)), 'its log shows the event');
      assert(await page.getAttribute(`[data-toggle="${a.id}"]`, 'aria-checked') === 'false', 'the switch shows on');
    });

    await check('webhooks: delete asks first; cancel keeps it, confirm removes it from the list and the server', async () => {
      const row = `#webhooks-table tr[data-webhook="${s.id}"]`;
      await page.click(`[data-delete="${s.id}"]`);
      await page.waitForSelector('dialog#confirm[open]');
      await page.click('dialog#confirm button[value="cancel"]');
      await page.waitForFunction(() => !document.getElementById('confirm').open);
      assert(await page.$(row) && (await stored()).some((x) => x.id === s.id), 'cancel deleted it');
      await page.click(`[data-delete="${s.id}"]`);
      await page.waitForSelector('dialog#confirm[open]');
      await page.click('#confirm-ok');
      await page.waitForSelector(row, { state: 'detached' });
      assert(!(await stored()).some((x) => x.id === s.id), 'still stored');
      assert((await api('GET', `/admin/webhooks/${s.id}`)).status === 404, 'still readable');
      assert(await page.$(`#webhooks-table tr[data-webhook="${a.id}"]`), 'the other one went too');
    });

    await check('webhooks: a viewer sees no Webhooks link, #/webhooks says only admins, and fetch(\'/admin/webhooks\') is 403; a key without the scope is not offered it', async () => {
      const email = `hooks-viewer-${tag}@example.com`;
      const invited = await api('POST', '/admin/users/invitations', { email, role: 'viewer' });
      assert(invited.status === 201, `the invitation answered ${invited.status}`);
      const token = invited.body.link.split('#invite=')[1];
      const v = await fresh(browser);
      open.push(v);
      await v.page.goto(`${BASE}/dashboard/`);
      await v.page.waitForSelector('#email');
      // One sign-in attempt: the address's bucket may be empty after the people checks, so a
      // 429 waits as long as its Retry-After says.
      const status = await v.page.evaluate(async ({ token: t, password }) => {
        for (;;) {
          const r = await fetch('/auth/accept', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: t, name: 'Wanda Viewer', password }) });
          if (r.status !== 429) return r.status;
          await new Promise((done) => setTimeout(done, (Number(r.headers.get('retry-after')) || 1) * 1000));
        }
      }, { token, password: PASSWORD });
      assert(status === 200, `accepting the invitation answered ${status}`);
      await v.page.reload();
      await v.page.waitForSelector(`#whoami[data-email="${email}"]`);
      assert(await v.page.evaluate(() => document.body.dataset.role) === 'viewer', 'not a viewer');
      assert(await v.page.isVisible('nav a[data-nav="flags"]'), 'no navigation');
      assert(await v.page.isHidden('#webhooks-link'), 'a viewer is offered Webhooks');
      const answer = await v.page.evaluate(() => fetch('/admin/webhooks').then(async (r) => [r.status, (await r.json()).error.code]));
      assert(answer[0] === 403 && answer[1] === 'forbidden', `GET /admin/webhooks answered ${answer}`);
      await v.page.evaluate(() => { location.hash = '#/webhooks'; });
      await v.page.waitForSelector('#webhooks-denied');
      assert(!(await v.page.$('#webhook-form')), 'the form is shown to a viewer');
      assert(v.problems.length === 0, v.problems.join('\n'));

      const made = await api('POST', '/admin/keys', { name: `read-only ${tag}`, scopes: ['admin:read', 'admin:write'] });
      assert(made.status === 201, `the key answered ${made.status}`);
      const k = await fresh(browser, { fn: (key) => sessionStorage.setItem('litmus.adminKey', key), arg: made.body.key });
      open.push(k);
      await k.page.goto(`${BASE}/dashboard/`);
      await k.page.waitForSelector('#webhooks-link[data-access="refused"]', { state: 'attached' });
      assert(await k.page.isVisible('nav a[data-nav="flags"]'), 'no navigation for the key');
      assert(await k.page.isHidden('#webhooks-link'), 'a key without webhooks:write is offered Webhooks');
      assert(k.problems.length === 0, k.problems.join('\n'));
    });
  } finally {
    for (const t of open) await t.context.close();
    // Away from the page first: it would read the logs of the webhooks deleted here.
    await page.evaluate(() => { location.hash = '#/experiments'; });
    for (const w of [a, s]) if (w) await api('DELETE', `/admin/webhooks/${w.id}`);
    await rx.close();
  }
}
