// The admin key (kept for this tab in sessionStorage) and the calls to the server's API.

const STORAGE = 'litmus.adminKey';
const PROJECT = 'litmus.project';

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

/** The headers every call sends: the key, and the project when it is not the default one. */
function baseHeaders(accept) {
  const headers = { Accept: accept };
  if (auth.key) headers.Authorization = `Bearer ${auth.key}`;
  if (project.key !== 'default') headers['Litmus-Project'] = project.key;
  return headers;
}

export const auth = {
  get key() {
    try {
      return sessionStorage.getItem(STORAGE) || '';
    } catch {
      return '';
    }
  },
  set(key) {
    sessionStorage.setItem(STORAGE, key);
  },
  clear() {
    sessionStorage.removeItem(STORAGE);
  },
};

/** An error answered by the server: {status, code, message, path, problems}. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = (body && body.error) || {};
    super(e.message || fallback || `request failed (${status})`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status);
    this.path = e.path || null;
    this.problems = Array.isArray(e.problems) ? e.problems : [];
  }

  /** A sentence for people: 401 and 403 say what to do. */
  get explanation() {
    if (this.status === 401) return 'The admin key was not accepted (401). Sign in again with a valid key.';
    if (this.status === 403) return `This key is not allowed to do that (403): ${this.message}`;
    if (this.status === 0) return `The server cannot be reached: ${this.message}`;
    return this.message;
  }
}

/**
 * Calls the API with the key; answers the JSON body, or throws an ApiError. A 401 also
 * dispatches `litmus:unauthorized` on window (the app then asks for the key again).
 */
export async function api(method, path, body) {
  const headers = baseHeaders('application/json');
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
    const err = new ApiError(res.status, data, text.slice(0, 200));
    if (res.status === 401) window.dispatchEvent(new CustomEvent('litmus:unauthorized', { detail: err }));
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

/** The address of an experiment's results as CSV (in `environment`). */
export const csvPath = (key, environment = 'production') => `/results/${enc(key)}.csv${environment === 'production' ? '' : `?environment=${enc(environment)}`}`;

/**
 * Downloads the results of `key` as CSV: the key travels in the Authorization header (not a
 * cookie), so the file is fetched here and handed to the browser as a blob URL.
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
