// Who the dashboard acts as, and the calls to the server's API. Two ways in: a person's
// session (the server's HttpOnly cookie `litmus_session`, sent by the browser with every
// same-origin request; every change also carries the session's CSRF token in `X-CSRF-Token`),
// or an API key (kept for this tab in sessionStorage, sent as `Authorization: Bearer`; the
// server then ignores the cookie).

const STORAGE = 'litmus.adminKey';
const PROJECT = 'litmus.project';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The project the dashboard acts in (kept in localStorage; the default project when none). */
export const project = {
  get key() {
    try {
      return localStorage.getItem(PROJECT) || 'default';
    } catch {
      return 'default';
    }
  },
  set(key) {
    try {
      if (key === 'default') localStorage.removeItem(PROJECT);
      else localStorage.setItem(PROJECT, key);
    } catch {
      // Storage refused (a private window): the choice lasts until the page reloads.
    }
  },
};

/**
 * The headers every call sends: the key (or, signed in by session, the CSRF token on a call
 * that changes something), and the project when it is not the default one.
 */
function baseHeaders(accept, method = 'GET') {
  const headers = { Accept: accept };
  if (auth.key) headers.Authorization = `Bearer ${auth.key}`;
  else if (session && !SAFE.has(method)) headers['X-CSRF-Token'] = session.csrf;
  if (project.key !== 'default') headers['Litmus-Project'] = project.key;
  return headers;
}

/** The signed-in person's session as the server answered it: {user, csrf, expires_ms}. */
let session = null;

export const auth = {
  /** The API key of this tab ('' when none). */
  get key() {
    try {
      return sessionStorage.getItem(STORAGE) || '';
    } catch {
      return '';
    }
  },
  /** The person's session ({user, csrf, expires_ms}), or null. */
  get session() {
    return session;
  },
  /** How the dashboard is signed in: 'key', 'session' or null. */
  get by() {
    if (this.key) return 'key';
    return session ? 'session' : null;
  },
  get signedIn() {
    return this.by !== null;
  },
  set(key) {
    sessionStorage.setItem(STORAGE, key);
  },
  /** Keeps the session answered by sign-in or `GET /auth/session`. */
  setSession(me) {
    session = me && me.user ? { user: me.user, csrf: me.csrf, expires_ms: me.expires_ms } : null;
  },
  /** Forgets the key and the session (the cookie is the server's to clear). */
  clear() {
    try {
      sessionStorage.removeItem(STORAGE);
    } catch {
      // Storage refused: nothing was kept.
    }
    session = null;
  },
};

/** An error answered by the server: {status, code, message, path, problems}. */
export class ApiError extends Error {
  constructor(status, body, fallback, retryAfter = null) {
    const e = (body && body.error) || {};
    super(e.message || fallback || `request failed (${status})`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status);
    this.path = e.path || null;
    this.problems = Array.isArray(e.problems) ? e.problems : [];
    /** Seconds to wait (`Retry-After`), when the server said. */
    this.retryAfter = retryAfter;
    /** How the call was signed in: 'key', 'session' or null. */
    this.by = auth.by;
  }

  /** A sentence for people: 401 and 403 say what to do, for a key or a person. */
  get explanation() {
    const person = this.by === 'session';
    if (this.status === 401) {
      return person ? 'Your session has ended (401): sign in again.' : 'The admin key was not accepted (401). Sign in again with a valid key.';
    }
    if (this.status === 403 && this.code === 'csrf_failed') return 'The request was refused as a possible cross-site request (403). Reload the page and try again.';
    if (this.status === 403) return person ? `Your role does not allow this (403): ${this.message}` : `This key is not allowed to do that (403): ${this.message}`;
    if (this.status === 0) return `The server cannot be reached: ${this.message}`;
    return this.message;
  }
}

/**
 * Calls the API as signed in; answers the JSON body, or throws an ApiError. A 401 also
 * dispatches `litmus:unauthorized` on window (the app then shows the sign-in page), unless
 * `quiet` (the sign-in calls, whose 401 is an answer).
 */
export async function api(method, path, body, { quiet = false } = {}) {
  const headers = baseHeaders('application/json', method);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, null, e && e.message ? e.message : 'network error');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const wait = Number(res.headers.get('retry-after'));
    const err = new ApiError(res.status, data, text.slice(0, 200), Number.isFinite(wait) && wait > 0 ? wait : null);
    if (res.status === 401 && !quiet) window.dispatchEvent(new CustomEvent('litmus:unauthorized', { detail: err }));
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;

export const experiments = {
  list: () => api('GET', '/admin/experiments').then((d) => d.experiments || []),
  get: (key) => api('GET', `/admin/experiments/${enc(key)}`),
  put: (key, body) => api('PUT', `/admin/experiments/${enc(key)}`, body),
  remove: (key) => api('DELETE', `/admin/experiments/${enc(key)}`),
  results: (key, points = 60, environment = 'production') => api('GET', `/results/${enc(key)}?points=${points}&environment=${enc(environment)}`),
  audit: (limit = 200) => api('GET', `/admin/audit?limit=${limit}`).then((d) => d.entries || []),
};

/** The metric catalogue (`/admin/metrics`). */
export const metrics = {
  list: () => api('GET', '/admin/metrics').then((d) => d.metrics || []),
  get: (key) => api('GET', `/admin/metrics/${enc(key)}`),
  put: (key, body) => api('PUT', `/admin/metrics/${enc(key)}`, body),
  remove: (key) => api('DELETE', `/admin/metrics/${enc(key)}`),
};

/** Feature flags (`/admin/flags`). */
export const flags = {
  list: () => api('GET', '/admin/flags').then((d) => d.flags || []),
  get: (key) => api('GET', `/admin/flags/${enc(key)}`),
  put: (key, body) => api('PUT', `/admin/flags/${enc(key)}`, body),
  remove: (key) => api('DELETE', `/admin/flags/${enc(key)}`),
};

/** Projects (`/admin/projects`). */
export const projects = {
  list: () => api('GET', '/admin/projects').then((d) => d.projects || []),
  create: (key, name) => api('POST', '/admin/projects', name ? { key, name } : { key }),
};

/** Environments (`/admin/environments`) and promotions between them. */
export const environments = {
  list: () => api('GET', '/admin/environments').then((d) => d.environments || []),
  create: (key, name) => api('POST', '/admin/environments', name ? { key, name } : { key }),
  remove: (key) => api('DELETE', `/admin/environments/${enc(key)}`),
  promote: (from, body) => api('POST', `/admin/environments/${enc(from)}/promote`, body),
};

/** Signing in and out (`/auth/...`); their 401s are answers, not a lost session. */
export const signin = {
  session: () => api('GET', '/auth/session', undefined, { quiet: true }),
  login: (email, password) => api('POST', '/auth/login', { email, password }, { quiet: true }),
  logout: () => api('POST', '/auth/logout', undefined, { quiet: true }),
  token: (token) => api('POST', '/auth/token', { token }, { quiet: true }),
  setup: (body) => api('POST', '/auth/setup', body, { quiet: true }),
  accept: (body) => api('POST', '/auth/accept', body, { quiet: true }),
  /** Single sign-on: `{enabled, name}`; disabled when the server has none (404) or fails. */
  sso: () => api('GET', '/auth/sso', undefined, { quiet: true }).catch(() => ({ enabled: false })),
};

/** People and their invitations (`/admin/users`, instance admins). */
export const users = {
  list: () => api('GET', '/admin/users'),
  invite: (body) => api('POST', '/admin/users/invitations', body),
  withdraw: (id) => api('DELETE', `/admin/users/invitations/${enc(id)}`),
  update: (id, patch) => api('PATCH', `/admin/users/${enc(id)}`, patch),
  reset: (id) => api('POST', `/admin/users/${enc(id)}/reset`),
};

/** Webhooks of the project (`/admin/webhooks`, admins) and their delivery logs. */
export const webhooks = {
  list: () => api('GET', '/admin/webhooks'),
  create: (body) => api('POST', '/admin/webhooks', body),
  update: (id, patch) => api('PATCH', `/admin/webhooks/${enc(id)}`, patch),
  remove: (id) => api('DELETE', `/admin/webhooks/${enc(id)}`),
  test: (id) => api('POST', `/admin/webhooks/${enc(id)}/test`),
  deliveries: (id, limit = 50) => api('GET', `/admin/webhooks/${enc(id)}/deliveries?limit=${limit}`).then((d) => d.deliveries || []),
  retry: (id, delivery) => api('POST', `/admin/webhooks/${enc(id)}/deliveries/${enc(delivery)}/retry`),
};

/** The address of an experiment's results as CSV (in `environment`). */
export const csvPath = (key, environment = 'production') => `/results/${enc(key)}.csv${environment === 'production' ? '' : `?environment=${enc(environment)}`}`;

/**
 * Downloads the results of `key` as CSV: a key travels in the Authorization header, so the
 * file is fetched here (with the session's cookie, or the key) and handed to the browser as a
 * blob URL.
 */
export async function downloadCsv(key, environment = 'production') {
  const headers = baseHeaders('text/csv');
  let res;
  try {
    res = await fetch(csvPath(key, environment), { headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, null, e && e.message ? e.message : 'network error');
  }
  if (!res.ok) {
    const text = await res.text();
    let data = null;
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
    const err = new ApiError(res.status, data, text.slice(0, 200));
    if (res.status === 401) window.dispatchEvent(new CustomEvent('litmus:unauthorized', { detail: err }));
    throw err;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${key.replace(/[^A-Za-z0-9_.-]+/g, '_')}-results.csv`;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
