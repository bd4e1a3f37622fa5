// Tests of the OpenID Connect test provider (provider.mjs), run as a child process as the
// server's tests run it: `node --test scripts/oidc/`.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PROVIDER = fileURLToPath(new URL('./provider.mjs', import.meta.url));
const CLIENT_ID = 'litmus';
const SECRET = 'secret';
const REDIRECT = 'http://127.0.0.1:5999/auth/callback';

async function startProvider(args = []) {
  const child = spawn(process.execPath, [PROVIDER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => { throw new Error(`provider exited with ${code}`); }),
  ]);
  return { child, ...JSON.parse(first) };
}

async function stopProvider(provider) {
  if (provider.child.exitCode !== null) return;
  const exited = once(provider.child, 'exit');
  provider.child.stdin.end();
  await exited;
}

let op; // the shared provider: { child, issuer, port }
before(async () => { op = await startProvider(); });
after(async () => { await stopProvider(op); });
beforeEach(async () => { await control({ reset: true }); });

// ---- helpers -------------------------------------------------------------------------------

const b64urlSha256 = (s) => createHash('sha256').update(s).digest('base64url');

function newPkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: b64urlSha256(verifier) };
}

async function control(command, issuer = op.issuer) {
  const res = await fetch(`${issuer}/_control`, { method: 'POST', body: JSON.stringify(command), headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 204, await res.text());
}

function authorizeUrl(overrides = {}, issuer = op.issuer) {
  const params = {
    client_id: CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email profile',
    state: 'st-123', nonce: 'n-456', code_challenge_method: 'S256', ...overrides,
  };
  const url = new URL(`${issuer}/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

async function authorize(overrides, issuer) {
  return fetch(authorizeUrl(overrides, issuer), { redirect: 'manual' });
}

// Authorizes and returns { code, verifier, nonce, location }.
async function getCode({ issuer = op.issuer, redirectUri = REDIRECT, nonce = 'n-456' } = {}) {
  const { verifier, challenge } = newPkce();
  const res = await authorize({ code_challenge: challenge, redirect_uri: redirectUri, nonce }, issuer);
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('state'), 'st-123');
  assert.equal(location.searchParams.get('error'), null);
  return { code: location.searchParams.get('code'), verifier, nonce, location };
}

async function exchange({ code, verifier, auth = 'basic', redirectUri = REDIRECT, issuer = op.issuer, clientId = CLIENT_ID, secret = SECRET, extra = {} }) {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...extra });
  if (verifier !== undefined) form.set('code_verifier', verifier);
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'basic') {
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
  } else {
    form.set('client_id', clientId);
    form.set('client_secret', secret);
  }
  const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body: form });
  return { res, body: await res.json() };
}

async function tokens(options = {}) {
  const { code, verifier, nonce } = await getCode(options);
  const { res, body } = await exchange({ code, verifier, ...options });
  assert.equal(res.status, 200, JSON.stringify(body));
  return { ...body, nonce, jwt: decodeJwt(body.id_token) };
}

function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3);
  const [h, p, s] = parts;
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signature: Buffer.from(s, 'base64url'),
    signingInput: `${h}.${p}`,
  };
}

async function jwks(issuer = op.issuer) {
  return (await (await fetch(`${issuer}/jwks`)).json()).keys;
}

// Verifies an RS256 JWT against the JWKS, as a relying party does (key chosen by kid).
function verifiesWith(keys, jwt) {
  const jwk = keys.find((k) => k.kid === jwt.header.kid);
  if (!jwk || jwt.header.alg !== 'RS256') return false;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return verify('sha256', Buffer.from(jwt.signingInput), key, jwt.signature);
}

const now = () => Math.floor(Date.now() / 1000);

// ---- tests ---------------------------------------------------------------------------------

test('prints its issuer and port as one JSON line', () => {
  assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(op.issuer, `http://127.0.0.1:${op.port}`);
});

test('discovery document', async () => {
  const res = await fetch(`${op.issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const d = await res.json();
  assert.equal(d.issuer, op.issuer);
  assert.equal(d.authorization_endpoint, `${op.issuer}/authorize`);
  assert.equal(d.token_endpoint, `${op.issuer}/token`);
  assert.equal(d.userinfo_endpoint, `${op.issuer}/userinfo`);
  assert.equal(d.jwks_uri, `${op.issuer}/jwks`);
  assert.deepEqual(d.response_types_supported, ['code']);
  assert.deepEqual(d.subject_types_supported, ['public']);
  assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256']);
  assert.ok(d.scopes_supported.includes('openid'));
  assert.deepEqual(d.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
  assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(d.grant_types_supported, ['authorization_code']);
  for (const claim of ['sub', 'email', 'email_verified', 'name', 'nonce']) assert.ok(d.claims_supported.includes(claim), claim);
});

test('JWKS holds one RS256 signing key', async () => {
  const keys = await jwks();
  assert.equal(keys.length, 1);
  const [k] = keys;
  assert.equal(k.kty, 'RSA');
  assert.equal(k.alg, 'RS256');
  assert.equal(k.use, 'sig');
  assert.ok(k.kid && k.n && k.e);
  assert.equal(k.d, undefined, 'no private part');
});

test('code flow with PKCE and client_secret_basic: signed ID token with the right claims', async () => {
  const { code, verifier } = await getCode();
  assert.match(code, /^[A-Za-z0-9_-]{20,}$/);
  const { res, body } = await exchange({ code, verifier, auth: 'basic' });
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 3600);
  assert.equal(body.scope, 'openid email profile');
  assert.ok(body.access_token);

  const jwt = decodeJwt(body.id_token);
  assert.deepEqual(jwt.header, { alg: 'RS256', typ: 'JWT', kid: (await jwks())[0].kid });
  assert.ok(verifiesWith(await jwks(), jwt), 'RS256 signature verifies with the JWKS');
  const c = jwt.payload;
  assert.equal(c.iss, op.issuer);
  assert.equal(c.aud, CLIENT_ID);
  assert.equal(c.nonce, 'n-456');
  assert.ok(c.exp > now());
  assert.ok(c.iat <= now() + 1 && c.exp > c.iat);
  assert.ok(c.auth_time <= c.iat);
  assert.equal(c.sub, 'alice-sub');
  assert.equal(c.email, 'alice@example.com');
  assert.equal(c.email_verified, true);
  assert.equal(c.name, 'Alice');
});

test('code flow with client_secret_post', async () => {
  const { jwt } = await tokens({ auth: 'post' });
  assert.ok(verifiesWith(await jwks(), jwt));
  assert.equal(jwt.payload.aud, CLIENT_ID);
});

test('a code is single-use: replay gives invalid_grant and revokes the access token', async () => {
  const { code, verifier } = await getCode();
  const first = await exchange({ code, verifier });
  assert.equal(first.res.status, 200);
  const again = await exchange({ code, verifier });
  assert.equal(again.res.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
  const info = await fetch(`${op.issuer}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
  assert.equal(info.status, 401);
});

test('PKCE at the token endpoint: a wrong verifier is invalid_grant, a missing one invalid_request', async () => {
  const { code } = await getCode();
  const wrong = await exchange({ code, verifier: newPkce().verifier });
  assert.equal(wrong.res.status, 400);
  assert.equal(wrong.body.error, 'invalid_grant');

  const second = await getCode();
  const missing = await exchange({ code: second.code, verifier: undefined });
  assert.equal(missing.res.status, 400);
  assert.equal(missing.body.error, 'invalid_request');
});

test('token endpoint errors: redirect_uri mismatch, bad client, unknown code, grant type', async () => {
  const a = await getCode();
  const mismatch = await exchange({ ...a, redirectUri: 'http://127.0.0.1:5999/other' });
  assert.equal(mismatch.body.error, 'invalid_grant');

  const b = await getCode();
  for (const auth of ['basic', 'post']) {
    const bad = await exchange({ ...b, auth, secret: 'wrong' });
    assert.equal(bad.res.status, 401);
    assert.equal(bad.body.error, 'invalid_client');
    assert.ok(bad.res.headers.get('www-authenticate'));
  }
  const good = await exchange(b); // failed client authentication does not consume the code
  assert.equal(good.res.status, 200);

  const unknown = await exchange({ code: 'no-such-code', verifier: newPkce().verifier });
  assert.equal(unknown.res.status, 400);
  assert.equal(unknown.body.error, 'invalid_grant');

  const grant = await exchange({ code: 'x', verifier: 'y', extra: { grant_type: 'password' } });
  assert.equal(grant.res.status, 400);
  assert.equal(grant.body.error, 'unsupported_grant_type');
});

test('authorize: a missing or plain code_challenge is an error redirect with the state', async () => {
  for (const overrides of [{}, { code_challenge: newPkce().verifier, code_challenge_method: 'plain' }, { code_challenge: newPkce().challenge, code_challenge_method: undefined }]) {
    const res = await authorize(overrides);
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location'));
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.equal(location.searchParams.get('state'), 'st-123');
    assert.equal(location.searchParams.get('code'), null);
  }
});

test('authorize: scope without openid and other response types are refused by redirect', async () => {
  const { challenge } = newPkce();
  const cases = [[{ scope: 'email' }, 'invalid_scope'], [{ response_type: 'token' }, 'unsupported_response_type'], [{ response_type: undefined }, 'invalid_request']];
  for (const [overrides, error] of cases) {
    const res = await authorize({ code_challenge: challenge, ...overrides });
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get('location')).searchParams.get('error'), error);
  }
});

test('authorize: a bad redirect_uri or client_id is a 400 page, never a redirect', async () => {
  const { challenge } = newPkce();
  for (const overrides of [{ redirect_uri: 'https://evil.example/cb' }, { redirect_uri: 'http://127.0.0.1.evil.example/cb' }, { redirect_uri: undefined }, { client_id: 'someone-else' }]) {
    const res = await authorize({ code_challenge: challenge, ...overrides });
    assert.equal(res.status, 400, JSON.stringify(overrides));
    assert.equal(res.headers.get('location'), null);
    assert.match(res.headers.get('content-type'), /text\/html/);
  }
});

test('configured redirect URIs are matched exactly; Basic credentials are form-urlencoded', async () => {
  const secret = 'p@ss:w/rd +é';
  const registered = 'http://localhost:7777/cb?x=1';
  const other = await startProvider(['--port', '0', '--client-id', 'my client', '--client-secret', secret, '--redirect-uri', registered, '--redirect-uri', 'http://localhost:7777/second']);
  try {
    const { challenge } = newPkce();
    const refused = await authorize({ client_id: 'my client', code_challenge: challenge, redirect_uri: 'http://localhost:7777/cb' }, other.issuer);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('location'), null);

    const { verifier, challenge: c2 } = newPkce();
    const res = await authorize({ client_id: 'my client', code_challenge: c2, redirect_uri: registered }, other.issuer);
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location'));
    assert.equal(location.searchParams.get('x'), '1', 'the redirect URI keeps its own query');
    const code = location.searchParams.get('code');
    const { res: tokenRes, body } = await exchange({ code, verifier, redirectUri: registered, issuer: other.issuer, clientId: 'my client', secret });
    assert.equal(tokenRes.status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.id_token).payload.aud, 'my client');
  } finally {
    await stopProvider(other);
  }
});

test('userinfo with the access token', async () => {
  const { access_token } = await tokens();
  const res = await fetch(`${op.issuer}/userinfo`, { headers: { authorization: `Bearer ${access_token}` } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sub: 'alice-sub', email: 'alice@example.com', email_verified: true, name: 'Alice' });

  const none = await fetch(`${op.issuer}/userinfo`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  const bad = await fetch(`${op.issuer}/userinfo`, { headers: { authorization: 'Bearer nope' } });
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /invalid_token/);
});

test('control: the current user is who signs in', async () => {
  const bob = { sub: 'bob-sub', email: 'bob@example.com', email_verified: true, name: 'Bob' };
  await control({ user: bob });
  const { jwt, access_token } = await tokens();
  assert.equal(jwt.payload.sub, 'bob-sub');
  assert.equal(jwt.payload.email, 'bob@example.com');
  assert.equal(jwt.payload.name, 'Bob');
  const info = await (await fetch(`${op.issuer}/userinfo`, { headers: { authorization: `Bearer ${access_token}` } })).json();
  assert.deepEqual(info, bob);
});

test('control: each fault makes the next ID token defective in its way, once', async (t) => {
  const expectations = {
    wrong_audience: (jwt, keys) => { assert.equal(jwt.payload.aud, 'someone-else'); assert.ok(verifiesWith(keys, jwt)); },
    expired: (jwt, keys) => { assert.ok(jwt.payload.exp < now() - 3000); assert.ok(jwt.payload.iat < now() - 3000); assert.ok(verifiesWith(keys, jwt)); },
    bad_signature: (jwt, keys) => { assert.ok(keys.some((k) => k.kid === jwt.header.kid)); assert.equal(verifiesWith(keys, jwt), false); },
    wrong_issuer: (jwt, keys) => { assert.notEqual(jwt.payload.iss, op.issuer); assert.ok(verifiesWith(keys, jwt)); },
    wrong_nonce: (jwt, keys, nonce) => { assert.ok(jwt.payload.nonce); assert.notEqual(jwt.payload.nonce, nonce); assert.ok(verifiesWith(keys, jwt)); },
    unknown_kid: (jwt, keys) => { assert.equal(jwt.header.alg, 'RS256'); assert.ok(jwt.header.kid); assert.ok(!keys.some((k) => k.kid === jwt.header.kid)); assert.equal(jwt.signature.length, 256); },
    alg_none: (jwt) => { assert.equal(jwt.header.alg, 'none'); assert.equal(jwt.signature.length, 0); assert.equal(jwt.header.kid, undefined); },
    missing_nonce: (jwt, keys) => { assert.equal('nonce' in jwt.payload, false); assert.ok(verifiesWith(keys, jwt)); },
    email_unverified: (jwt, keys) => { assert.equal(jwt.payload.email_verified, false); assert.ok(verifiesWith(keys, jwt)); },
  };
  for (const [fault, check] of Object.entries(expectations)) {
    await t.test(fault, async () => {
      await control({ fault });
      const { jwt, nonce } = await tokens();
      check(jwt, await jwks(), nonce);
      const { jwt: next } = await tokens(); // the fault was used up
      assert.ok(verifiesWith(await jwks(), next));
      assert.equal(next.payload.aud, CLIENT_ID);
      assert.equal(next.payload.nonce, nonce);
      assert.equal(next.payload.email_verified, true);
      assert.ok(next.payload.exp > now());
    });
  }
});

test('control: {"fault": null} clears a fault; an unknown fault is refused', async () => {
  await control({ fault: 'wrong_audience' });
  await control({ fault: null });
  const { jwt } = await tokens();
  assert.equal(jwt.payload.aud, CLIENT_ID);
  const res = await fetch(`${op.issuer}/_control`, { method: 'POST', body: JSON.stringify({ fault: 'nope' }) });
  assert.equal(res.status, 400);
});

test('control: rotate_keys signs with a new key and keeps the old one in the JWKS', async () => {
  const keysBefore = await jwks();
  const { jwt: old } = await tokens();
  await control({ rotate_keys: true });
  const keysAfter = await jwks();
  assert.equal(keysAfter.length, keysBefore.length + 1);
  assert.equal(new Set(keysAfter.map((k) => k.kid)).size, keysAfter.length, 'distinct kids');
  const { jwt: fresh } = await tokens();
  assert.notEqual(fresh.header.kid, old.header.kid);
  assert.ok(!keysBefore.some((k) => k.kid === fresh.header.kid), 'signed by the new key');
  assert.ok(verifiesWith(keysAfter, fresh));
  assert.ok(verifiesWith(keysAfter, old), 'tokens from the old key still verify');
});

test('control log: requests with the grant parameters but not the client secret', async () => {
  await tokens({ auth: 'post' });
  const log = await (await fetch(`${op.issuer}/_control/log`)).json();
  const authorizeEntry = log.find((e) => e.path === '/authorize');
  assert.equal(authorizeEntry.method, 'GET');
  assert.equal(authorizeEntry.params.code_challenge_method, 'S256');
  assert.ok(authorizeEntry.params.code_challenge);
  const tokenEntry = log.find((e) => e.path === '/token');
  assert.equal(tokenEntry.method, 'POST');
  assert.equal(tokenEntry.params.grant_type, 'authorization_code');
  assert.equal(b64urlSha256(tokenEntry.params.code_verifier), authorizeEntry.params.code_challenge);
  assert.equal(tokenEntry.params.client_auth, 'client_secret_post');
  assert.equal(tokenEntry.params.client_id, CLIENT_ID);
  assert.equal('client_secret' in tokenEntry.params, false);
});

test('exits cleanly on SIGTERM and when stdin closes', async () => {
  const a = await startProvider();
  const exitA = once(a.child, 'exit');
  a.child.kill('SIGTERM');
  assert.deepEqual(await exitA, [0, null]);

  const b = await startProvider();
  const exitB = once(b.child, 'exit');
  b.child.stdin.end();
  assert.deepEqual(await exitB, [0, null]);
});
