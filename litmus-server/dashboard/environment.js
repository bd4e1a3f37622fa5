// The environment the dashboard shows (kept in localStorage, production by default), the
// picker in the top bar, and a flag's state in one environment: production's is the flag's
// own `enabled`, `rules` and `schedule`; another's is its overlay in `environments`, and a
// flag without one is off there with no rules (docs/flags.md, Environments).

import { h } from './dom.js';

const STORAGE = 'litmus.environment';
export const PRODUCTION = 'production';

/** The environment chosen in the picker. */
export function currentEnvironment() {
  try {
    return localStorage.getItem(STORAGE) || PRODUCTION;
  } catch {
    return PRODUCTION;
  }
}

/** Chooses `key` (production forgets the choice). */
export function chooseEnvironment(key) {
  try {
    if (key === PRODUCTION) localStorage.removeItem(STORAGE);
    else localStorage.setItem(STORAGE, key);
  } catch {
    // Storage refused (a private window): the choice lasts until the page reloads.
  }
}

/** A flag's state in `env`: `{enabled, rules, schedule}`. */
export function stateIn(flag, env) {
  if (env === PRODUCTION) {
    return { enabled: flag.enabled !== false, rules: flag.rules || [], schedule: flag.schedule || [] };
  }
  const o = (flag.environments || {})[env];
  if (!o) return { enabled: false, rules: [], schedule: [] };
  return { enabled: o.enabled === true, rules: o.rules || [], schedule: o.schedule || [] };
}

/** `flag` with its state in `env` replaced by `state` (a copy; the other environments kept). */
export function withState(flag, env, state) {
  const out = structuredClone(flag);
  if (env === PRODUCTION) {
    out.enabled = state.enabled;
    out.rules = state.rules;
    if ((state.schedule || []).length) out.schedule = state.schedule;
    else delete out.schedule;
    return out;
  }
  const overlay = { enabled: state.enabled, rules: state.rules };
  if ((state.schedule || []).length) overlay.schedule = state.schedule;
  out.environments = { ...(out.environments || {}), [env]: overlay };
  return out;
}

/**
 * Fills the top bar's picker (`select`) with `list` (environment records), the current one
 * selected; `onChange(key)` after a choice. A chosen environment that no longer exists falls
 * back to production.
 */
export function fillPicker(select, list, onChange) {
  let current = currentEnvironment();
  if (!list.some((e) => e.key === current)) {
    chooseEnvironment(PRODUCTION);
    current = PRODUCTION;
  }
  select.replaceChildren(...list.map((e) => h('option', { value: e.key, selected: e.key === current }, e.name && e.name !== e.key ? `${e.name} (${e.key})` : e.key)));
  select.onchange = () => {
    chooseEnvironment(select.value);
    onChange(select.value);
  };
}

/** An experiment's status in `env`: its own for production, its overlay's (a draft without one). */
export function statusIn(config, env) {
  if (env === PRODUCTION) return config.status || 'draft';
  const o = (config.environments || {})[env];
  return (o && o.status) || 'draft';
}

/** `config` with its status in `env` set to `status` (a copy). */
export function withStatus(config, env, status) {
  if (env === PRODUCTION) return { ...config, status };
  return { ...config, environments: { ...(config.environments || {}), [env]: { ...((config.environments || {})[env] || {}), status } } };
}

/** The live topic of experiment `key`'s results in `env` (`key@env` beyond production). */
export const topic = (key, env) => (env === PRODUCTION ? key : `${key}@${env}`);

/** The experiment a live topic names. */
export const keyOfTopic = (t) => t.split('@')[0];
