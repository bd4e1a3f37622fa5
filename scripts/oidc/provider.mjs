// A minimal OpenID Connect provider for Litmus's tests. TEST DOUBLE — NOT FOR PRODUCTION:
// it has no login page (it approves every authorization request as the "current user" that a
// test sets), keeps everything in memory and binds to loopback.
//
// It implements what a relying party needs for the authorization code flow with PKCE:
// discovery (OpenID Connect Discovery 1.0), /authorize and /token (RFC 6749 + RFC 7636, S256
// only, PKCE required), ID tokens signed with RS256 (OpenID Connect Core 1.0, 2 and 3.1),
// /jwks and /userinfo. Tests drive it through /_control: set the user, make the next ID token
// defective in one named way (see FAULTS), rotate the signing key, read the request log.
//
//   node scripts/oidc/provider.mjs [--port 0] [--host 127.0.0.1] [--client-id litmus]
//       [--client-secret secret] [--redirect-uri URL]...
//
// When listening it prints one line of JSON to stdout, {"issuer":"http://HOST:PORT","port":PORT},
// and logs only to stderr. It exits on SIGTERM/SIGINT and, when its stdin is a pipe, when
// that pipe reaches end of file, so a test's child process dies with the test. Node 20, no
// dependencies. Usage and the control API: README.md next to this file.

import http from 'node:http';
import { createHash, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';
import { fstatSync } from 'node:fs';

const CODE_TTL_MS = 60_000;
const ACCESS_TOKEN_TTL_S = 3600;
const ID_TOKEN_TTL_S = 300;
const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_USER = { sub: 'alice-sub', email: 'alice@example.com', email_verified: true, name: 'Alice' };
const FAULTS = ['wrong_audience', 'expired', 'bad_signature', 'wrong_issuer', 'wrong_nonce',
  'unknown_kid', 'alg_none', 'missing_nonce', 'email_unverified'];
// RFC 7636 4.1: code_verifier (and so a plain challenge) = 43..128 unreserved characters;
// an S256 challenge is BASE64URL of 32 bytes, 43 characters.
const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;

// ---- configuration -------------------------------------------------------------------------

function parseArgs(argv) {
  const config = { port: 0, host: '127.0.0.1', clientId: 'litmus', clientSecret: 'secret', redirectUris: [] };
  const names = { '--port': 'port', '--host': 'host', '--client-id': 'clientId',
    '--client-secret': 'clientSecret', '--redirect-uri': 'redirectUris' };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split(/=(.*)/s);
    if (!(flag in names)) fail(`unknown argument ${argv[i]}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`${flag} needs a value`);
      value = argv[++i];
    }
    const key = names[flag];
    if (key === 'redirectUris') config.redirectUris.push(value);
    else if (key === 'port') config.port = parsePort(value);
    else config[key] = value;
  }
  return config;
}

function parsePort(value) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${value}`);
  return port;
}

function fail(message) {
  process.stderr.write(`oidc provider: ${message}\n`);
  process.exit(2);
}

// ---- keys and JWTs -------------------------------------------------------------------------

function newSigningKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomBytes(12).toString('base64url'), privateKey, publicKey };
}

function publicJwk(key) {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS256', use: 'sig' };
}

const b64url = (data) => Buffer.from(data).toString('base64url');

function signJwt(header, payload, key) {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  if (header.alg === 'none') return `${signingInput}.`;
  // RS256 = RSASSA-PKCS1-v1_5 with SHA-256, the default padding for an RSA key.
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function flipSignatureBytes(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  for (let i = 0; i < bytes.length; i += 32) bytes[i] ^= 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

// ---- provider state ------------------------------------------------------------------------

function createProvider(config) {
  const state = {
    keys: [newSigningKey()], // newest first; keys[0] signs
    strayKey: null, // the unknown_kid fault's key, never published
    user: { ...DEFAULT_USER },
    fault: null,
    codes: new Map(), // code -> grant (kept after use, to detect replay)
    accessTokens: new Map(), // token -> { claims, scope, expiresAt }
    log: [],
  };
  let issuer = null;

  function discovery() {
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'email', 'email_verified', 'name'],
    };
  }

  function isAllowedRedirectUri(uri) {
    if (config.redirectUris.length > 0) return config.redirectUris.includes(uri);
    let url;
    try { url = new URL(uri); } catch { return false; }
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname) && !url.hash
      && !url.username && !url.password;
  }

  // OpenID Connect Core 3.1.2.1 / RFC 6749 4.1.1 / RFC 7636 4.3. Errors about the client or
  // the redirect URI are shown (never redirected, RFC 6749 4.1.2.1); the others go back to
  // the client's redirect URI.
  function authorize(params) {
    const p = params.values;
    if (['client_id', 'redirect_uri'].includes(params.duplicate)) return errorPage(400, `${params.duplicate} given more than once`);
    if (p.client_id !== config.clientId) return errorPage(400, 'unknown client_id');
    if (!p.redirect_uri || !isAllowedRedirectUri(p.redirect_uri)) return errorPage(400, 'redirect_uri not registered for this client');
    const back = (query) => redirect(p.redirect_uri, { ...query, state: p.state });
    const refuse = (error, description) => back({ error, error_description: description });
    if (params.duplicate) return refuse('invalid_request', `${params.duplicate} given more than once`);
    if (!p.response_type) return refuse('invalid_request', 'response_type is required');
    if (p.response_type !== 'code') return refuse('unsupported_response_type', 'only response_type=code is supported');
    if (!(p.scope || '').split(' ').includes('openid')) return refuse('invalid_scope', 'scope must include openid');
    if (p.response_mode && p.response_mode !== 'query') return refuse('invalid_request', 'only response_mode=query is supported');
    if (!p.code_challenge) return refuse('invalid_request', 'code_challenge is required (PKCE)');
    if (p.code_challenge_method !== 'S256') return refuse('invalid_request', 'code_challenge_method must be S256');
    if (!S256_CHALLENGE_RE.test(p.code_challenge)) return refuse('invalid_request', 'malformed code_challenge');

    const code = randomBytes(32).toString('base64url');
    state.codes.set(code, {
      clientId: p.client_id, redirectUri: p.redirect_uri, codeChallenge: p.code_challenge,
      nonce: p.nonce, scope: p.scope, user: { ...state.user }, authTime: nowSeconds(),
      expiresAt: Date.now() + CODE_TTL_MS, used: false, accessToken: null,
    });
    return back({ code });
  }

  // RFC 6749 2.3.1: the Basic credentials are form-urlencoded client_id and client_secret.
  function authenticateClient(headers, p) {
    const basic = /^Basic\s+(\S+)$/i.exec(headers.authorization || '');
    if (basic && p.client_secret !== undefined) return { error: 'invalid_request', description: 'more than one client authentication method' };
    let id, secret, method;
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { error: 'invalid_client' };
      try {
        [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)].map(formDecode);
      } catch { return { error: 'invalid_client' }; }
      if (p.client_id !== undefined && p.client_id !== id) return { error: 'invalid_client' };
      method = 'client_secret_basic';
    } else {
      [id, secret, method] = [p.client_id, p.client_secret, 'client_secret_post'];
    }
    if (id !== config.clientId || secret === undefined || !equalSecrets(secret, config.clientSecret)) {
      return { error: 'invalid_client' };
    }
    return { clientId: id, method };
  }

  // RFC 6749 4.1.3 and 5, RFC 7636 4.5-4.6.
  function token(headers, params) {
    if (!/^application\/x-www-form-urlencoded\b/i.test(headers['content-type'] || '')) {
      return tokenError(400, 'invalid_request', 'body must be application/x-www-form-urlencoded');
    }
    if (params.duplicate) return tokenError(400, 'invalid_request', `parameter ${params.duplicate} given more than once`);
    const p = params.values;
    const client = authenticateClient(headers, p);
    logEntry('POST', '/token', { ...withoutSecrets(p), client_auth: client.method ?? null });
    // RFC 6749 5.2: invalid_client may be 401, and must be when Basic was tried; we always use 401.
    if (client.error === 'invalid_client') return tokenError(401, 'invalid_client', 'client authentication failed');
    if (client.error) return tokenError(400, client.error, client.description);
    if (!p.grant_type) return tokenError(400, 'invalid_request', 'grant_type is required');
    if (p.grant_type !== 'authorization_code') return tokenError(400, 'unsupported_grant_type');
    if (!p.code) return tokenError(400, 'invalid_request', 'code is required');
    if (!p.code_verifier) return tokenError(400, 'invalid_request', 'code_verifier is required (PKCE)');

    const grant = state.codes.get(p.code);
    if (!grant) return tokenError(400, 'invalid_grant', 'unknown code');
    if (grant.used) {
      // RFC 6749 4.1.2: a code used twice revokes what it was exchanged for.
      if (grant.accessToken) state.accessTokens.delete(grant.accessToken);
      return tokenError(400, 'invalid_grant', 'code already used');
    }
    grant.used = true; // any presentation consumes the code, successful or not
    if (Date.now() > grant.expiresAt) return tokenError(400, 'invalid_grant', 'code expired');
    if (grant.clientId !== client.clientId) return tokenError(400, 'invalid_grant', 'code issued to another client');
    if (p.redirect_uri !== grant.redirectUri) return tokenError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    if (!VERIFIER_RE.test(p.code_verifier) || !equalSecrets(s256(p.code_verifier), grant.codeChallenge)) {
      return tokenError(400, 'invalid_grant', 'code_verifier does not match code_challenge');
    }

    const fault = state.fault;
    state.fault = null;
    const claims = { ...grant.user };
    if (fault === 'email_unverified') claims.email_verified = false;
    const accessToken = randomBytes(32).toString('base64url');
    state.accessTokens.set(accessToken, { claims, scope: grant.scope, expiresAt: Date.now() + ACCESS_TOKEN_TTL_S * 1000 });
    grant.accessToken = accessToken;
    return json(200, {
      access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S,
      id_token: issueIdToken(grant, claims, fault), scope: grant.scope,
    }, { 'cache-control': 'no-store', pragma: 'no-cache' });
  }

  // OpenID Connect Core 2 and 3.1.3.6, with at most one deliberate defect.
  function issueIdToken(grant, claims, fault) {
    const now = nowSeconds();
    const iat = fault === 'expired' ? now - 3600 - ID_TOKEN_TTL_S : now;
    const payload = {
      iss: fault === 'wrong_issuer' ? 'http://wrong-issuer.invalid' : issuer,
      sub: claims.sub,
      aud: fault === 'wrong_audience' ? 'someone-else' : grant.clientId,
      exp: iat + ID_TOKEN_TTL_S,
      iat,
      auth_time: Math.min(grant.authTime, iat),
      nonce: fault === 'wrong_nonce' ? `wrong-${randomBytes(8).toString('hex')}` : grant.nonce,
      email: claims.email,
      email_verified: claims.email_verified,
      name: claims.name,
    };
    if (fault === 'missing_nonce') delete payload.nonce;
    if (fault === 'alg_none') return signJwt({ alg: 'none', typ: 'JWT' }, payload);
    let key = state.keys[0];
    if (fault === 'unknown_kid') key = state.strayKey ??= newSigningKey();
    const jwt = signJwt({ alg: 'RS256', typ: 'JWT', kid: key.kid }, payload, key);
    return fault === 'bad_signature' ? flipSignatureBytes(jwt) : jwt;
  }

  // OpenID Connect Core 5.3, RFC 6750 2.1 and 3.1.
  function userinfo(headers) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization || '');
    const grant = bearer && state.accessTokens.get(bearer[1]);
    if (!grant || Date.now() > grant.expiresAt) {
      const challenge = bearer ? 'Bearer error="invalid_token"' : 'Bearer';
      return json(401, { error: bearer ? 'invalid_token' : 'invalid_request' }, { 'www-authenticate': challenge });
    }
    const { sub, email, email_verified, name } = grant.claims;
    return json(200, { sub, email, email_verified, name }, { 'cache-control': 'no-store' });
  }

  function control(body) {
    let command;
    try { command = JSON.parse(body || '{}'); } catch { return json(400, { error: 'body is not JSON' }); }
    if (command === null || typeof command !== 'object') return json(400, { error: 'body must be a JSON object' });
    if ('fault' in command && command.fault !== null && !FAULTS.includes(command.fault)) {
      return json(400, { error: `unknown fault ${command.fault}`, faults: FAULTS });
    }
    if ('user' in command && (typeof command.user?.sub !== 'string' || !command.user.sub)) {
      return json(400, { error: 'user needs a non-empty string sub' });
    }
    if (command.reset) Object.assign(state, { user: { ...DEFAULT_USER }, fault: null, log: [] });
    if ('user' in command) {
      const { sub, email, email_verified, name } = command.user;
      state.user = { sub, email, email_verified, name };
    }
    if ('fault' in command) state.fault = command.fault;
    if (command.rotate_keys) state.keys.unshift(newSigningKey());
    return { status: 204, headers: {}, body: '' };
  }

  function logEntry(method, path, params) {
    state.log.push(params ? { method, path, params } : { method, path });
  }

  async function handle(req) {
    const url = new URL(req.url, issuer);
    const path = url.pathname;
    const route = `${req.method} ${path}`;
    // /token logs itself (without the client secret); /_control is not logged.
    if (!path.startsWith('/_control') && !['/token', '/authorize'].includes(path)) logEntry(req.method, path);
    switch (route) {
      case 'GET /.well-known/openid-configuration': return json(200, discovery());
      case 'GET /jwks': return json(200, { keys: state.keys.map(publicJwk) });
      case 'GET /authorize': case 'POST /authorize': {
        // OpenID Connect Core 3.1.2.1: the authorization endpoint takes GET and form POST.
        const params = formParams(req.method === 'GET' ? url.searchParams : new URLSearchParams(await readBody(req)));
        logEntry(req.method, path, params.values);
        return authorize(params);
      }
      case 'POST /token': return token(req.headers, formParams(new URLSearchParams(await readBody(req))));
      case 'GET /userinfo': case 'POST /userinfo': return userinfo(req.headers);
      case 'POST /_control': return control(await readBody(req));
      case 'GET /_control/log': return json(200, state.log);
    }
    const known = ['/.well-known/openid-configuration', '/jwks', '/authorize', '/token', '/userinfo', '/_control', '/_control/log'];
    return known.includes(path) ? json(405, { error: 'method not allowed' }) : json(404, { error: 'not found' });
  }

  return {
    setIssuer(value) { issuer = value; },
    async listener(req, res) {
      let reply;
      try {
        reply = await handle(req);
      } catch (err) {
        reply = err.status ? json(err.status, { error: err.message }) : json(500, { error: 'server_error' });
        if (!err.status) process.stderr.write(`oidc provider: ${err.stack}\n`);
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    },
  };
}

// ---- HTTP helpers --------------------------------------------------------------------------

const nowSeconds = () => Math.floor(Date.now() / 1000);
const s256 = (verifier) => createHash('sha256').update(verifier, 'ascii').digest('base64url');
const formDecode = (s) => decodeURIComponent(s.replace(/\+/g, ' '));

function equalSecrets(a, b) {
  // Compare digests so that neither the length nor the content leaks through timing.
  const digest = (s) => createHash('sha256').update(String(s)).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function withoutSecrets(params) {
  const { client_secret, ...rest } = params;
  return rest;
}

// Parameters, and the first one given more than once (RFC 6749 3.1: each at most once).
function formParams(searchParams) {
  const values = {};
  let duplicate = null;
  for (const [name, value] of searchParams) {
    if (name in values) duplicate ??= name;
    else values[name] = value;
  }
  return { values, duplicate };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(status, value, headers = {}) {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

function tokenError(status, error, description) {
  const body = description ? { error, error_description: description } : { error };
  const headers = { 'cache-control': 'no-store', pragma: 'no-cache' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="oidc-test-provider"';
  return json(status, body, headers);
}

function redirect(target, query) {
  const url = new URL(target);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  return { status: 302, headers: { location: url.href, 'cache-control': 'no-store' }, body: '' };
}

function errorPage(status, message) {
  const escaped = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html><title>Authorization error</title><h1>Authorization error</h1><p>${escaped}</p>\n`,
  };
}

// ---- main ----------------------------------------------------------------------------------

function exitWithStdin() {
  // Only when stdin is a pipe or socket (a parent process holding the other end): /dev/null
  // or a file would end at once, and reading a terminal from a background job stops it
  // (SIGTTIN). Otherwise only signals stop the provider.
  let stat;
  try { stat = fstatSync(0); } catch { return; }
  if (!stat.isFIFO() && !stat.isSocket()) return;
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

const config = parseArgs(process.argv.slice(2));
const provider = createProvider(config);
const server = http.createServer((req, res) => { provider.listener(req, res); });
server.on('error', (err) => { process.stderr.write(`oidc provider: ${err.message}\n`); process.exit(1); });
server.listen(config.port, config.host, () => {
  const { port } = server.address();
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const issuer = `http://${host}:${port}`;
  provider.setIssuer(issuer);
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
exitWithStdin();
