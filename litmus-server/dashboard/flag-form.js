// Create and edit a flag (#/flags/new, #/flags/<key>): key, type, default, description, tags,
// and the switch and ordered rules (flag-rules.js) of the environment chosen in the top bar
// (environment.js; the other environments' are kept as they are). The server validates
// (`PUT /admin/flags/{key}`); each of its errors is shown next to the field its path names
// (`flags[checkout].rules[1].percentage` at that rule's percentage) and listed above the form.
// A "try it" panel evaluates the flag as saved for a unit and attributes (`POST /evaluate`).
// A viewer sees the form read-only, without "try it" (roles.js).

import { h, toast, confirmDialog } from './dom.js';
import { flags, experiments as experimentsApi, api, ApiError } from './api.js';
import { clearErrors, showErrors, problemsOf } from './errors.js';
import { valueInput } from './flag-values.js';
import { ruleEditor } from './flag-rules.js';
import { currentEnvironment, stateIn, withState, PRODUCTION } from './environment.js';
import { lockForm } from './roles.js';

const TYPES = [['boolean', 'Boolean'], ['string', 'String'], ['number', 'Number'], ['json', 'JSON']];
const DEFAULT = { key: '', type: 'boolean', default: false, enabled: true, rules: [] };

/** Mounts the flag editor (a new flag when `key` is null) into `main`. */
export function mountFlagForm(main, key, { setTitle, navigate }) {
  let alive = true;
  const isNew = key === null;
  const env = currentEnvironment();
  const where = env === PRODUCTION ? '' : ` in ${env}`;
  setTitle(isNew ? 'New flag' : `Flag ${key}`);
  main.replaceChildren(h('div', { class: 'card loading' }, 'Loading…'));
  const start = isNew ? Promise.resolve(structuredClone(DEFAULT)) : flags.get(key);
  Promise.all([start, experimentsApi.list().catch(() => []), flags.list().catch(() => [])]).then(([flag, exps, all]) => {
    if (alive) build(flag, exps, all);
  }).catch((e) => {
    main.replaceChildren(h('div', { class: 'banner critical', role: 'alert' }, e instanceof ApiError ? e.explanation : String(e)));
  });

  function build(flag, exps, all) {
    const state = stateIn(flag, env);
    const summary = h('div', { id: 'flag-errors', class: 'banner critical', role: 'alert', tabindex: '-1', hidden: true });
    const keyInput = h('input', {
      id: 'ff-key', name: 'key', 'data-path': 'key', value: flag.key, required: true, autocomplete: 'off', spellcheck: 'false',
      pattern: '[A-Za-z0-9_.:/\\-]{1,128}', placeholder: 'new-checkout', readonly: !isNew,
    });
    const type = h('select', { id: 'ff-type', 'data-path': 'type' }, TYPES.map(([v, l]) => h('option', { value: v, selected: v === flag.type }, l)));
    const defaultBox = h('div', { class: 'default-box' });
    let defaultInput = valueInput(flag.type, flag.default, 'default', 'Default value');
    defaultInput.id = 'ff-default';
    defaultBox.append(defaultInput);
    const description = h('textarea', { id: 'ff-description', 'data-path': 'description', rows: 2, placeholder: 'What the flag is for' });
    description.value = flag.description || '';
    const tags = h('input', { id: 'ff-tags', 'data-path': 'tags', value: (flag.tags || []).join(', '), placeholder: 'checkout, q4' });
    // Errors of another environment's state are named at its overlay.
    const statePath = env === PRODUCTION ? '' : `environments[${env}].`;
    const enabled = h('input', { type: 'checkbox', id: 'ff-enabled', 'data-path': `${statePath}enabled`, checked: state.enabled });
    const others = all.filter((f) => f.key !== flag.key).map((f) => ({ key: f.key, type: f.type }));
    const rules = ruleEditor(state.rules, flag.type, { experiments: exps, flags: others, pathPrefix: statePath });
    type.addEventListener('change', () => {
      const fresh = valueInput(type.value, undefined, 'default', 'Default value');
      fresh.id = 'ff-default';
      defaultInput.replaceWith(fresh);
      defaultInput = fresh;
      rules.setType(type.value);
    });

    const tryUnit = h('input', { id: 'try-unit', placeholder: 'user-42', 'aria-label': 'Unit id', value: 'user-42' });
    const tryAttrs = h('input', { id: 'try-attrs', class: 'mono', placeholder: '{"country": "FR"}', 'aria-label': 'Attributes (JSON)' });
    const tryOut = h('output', { id: 'try-result', class: 'try-result', 'aria-live': 'polite' });
    const tryIt = async () => {
      let attributes;
      try {
        attributes = tryAttrs.value.trim() ? JSON.parse(tryAttrs.value) : undefined;
      } catch {
        tryOut.replaceChildren(h('span', { class: 'field-error' }, 'The attributes are not JSON.'));
        return;
      }
      try {
        const e = await api('POST', '/evaluate', { unit_id: tryUnit.value, attributes, flag: flag.key || keyInput.value });
        tryOut.replaceChildren(h('code', { 'data-value': JSON.stringify(e.value) }, JSON.stringify(e.value)), ' · ',
          h('span', { class: 'tag', 'data-reason': e.reason }, e.reason), e.rule ? [' · rule ', h('code', {}, e.rule)] : null,
          e.error ? [' · ', h('span', { class: 'field-error' }, e.error)] : null,
          e.assignment ? [' · experiment ', h('code', {}, `${e.assignment.experiment}=${e.assignment.variant}`)] : null);
      } catch (err) {
        tryOut.replaceChildren(h('span', { class: 'field-error' }, err instanceof ApiError ? err.explanation : String(err)));
      }
    };

    const save = h('button', { type: 'submit', class: 'btn primary', id: 'save-flag' }, isNew ? 'Create flag' : 'Save');
    const form = h('form', { class: 'page form-page flag-form', novalidate: true, 'aria-label': isNew ? 'New flag' : `Edit flag ${flag.key}` },
      h('header', { class: 'page-head' },
        h('div', {},
          h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/flags' }, 'Flags'), ' / '),
          h('h1', {}, isNew ? 'New flag' : flag.key))),
      summary,
      h('section', { class: 'card form-section' },
        h('h2', {}, 'Flag'),
        h('div', { class: 'row' },
          h('div', { class: 'field' }, h('label', { for: 'ff-key' }, 'Key'), keyInput, h('div', { class: 'hint' }, 'Letters, digits and _ - . : /; your code reads the flag by it. Cannot change later.')),
          h('div', { class: 'field' }, h('label', { for: 'ff-type' }, 'Type'), type),
          h('div', { class: 'field' }, h('label', { for: 'ff-default' }, 'Default'), defaultBox, h('div', { class: 'hint' }, 'Served when the flag is off and when no rule applies.'))),
        h('div', { class: 'row' },
          h('div', { class: 'field' }, h('label', { for: 'ff-description' }, 'Description'), description),
          h('div', { class: 'field' }, h('label', { for: 'ff-tags' }, 'Tags'), tags, h('div', { class: 'hint' }, 'Comma separated.'))),
        h('label', { class: 'check' }, enabled, ` On${where}: the rules apply (off serves the default to everyone)`)),
      h('section', { class: 'card form-section' }, h('h2', {}, `Rules${where}`),
        env === PRODUCTION ? null : h('p', { class: 'hint', id: 'env-hint' }, `These are the switch and rules of ${env}; the other environments keep theirs. Promote them to another environment from the Environments page.`),
        rules.node),
      state.schedule.length ? h('section', { class: 'card form-section' }, h('h2', {}, 'Scheduled changes'),
        h('ul', {}, state.schedule.map((c) => h('li', {}, h('time', {}, c.at), c.enabled !== undefined ? ` switch ${c.enabled ? 'on' : 'off'}` : null, c.rules ? ` · ${c.rules.length} rules` : null))),
        h('p', { class: 'hint' }, 'Kept as they are when you save (edit them through the API).')) : null,
      isNew || env !== PRODUCTION ? null : h('section', { class: 'card form-section try-it', 'data-edit': true }, h('h2', {}, 'Try it'),
        h('div', { class: 'row' }, tryUnit, tryAttrs, h('button', { type: 'button', class: 'btn', id: 'try-flag', onclick: tryIt }, 'Evaluate')), tryOut),
      h('div', { class: 'actions' },
        save,
        h('a', { class: 'btn ghost', href: '#/flags', 'data-edit': true }, 'Cancel'),
        isNew ? null : h('button', { type: 'button', class: 'btn ghost danger', id: 'delete-flag', onclick: remove }, 'Delete')));

    async function remove() {
      const ok = await confirmDialog({ title: `Delete “${flag.key}”?`, text: 'SDKs then answer flag_not_found for it and serve their own defaults.', ok: 'Delete' });
      if (!ok) return;
      try {
        await flags.remove(flag.key);
        toast(`${flag.key} deleted`, 'success');
        navigate('#/flags');
      } catch (e) {
        showErrors(form, summary, problemsOf(e), { collection: 'flags', key: flag.key, what: 'flag', failed: 'deleted' });
      }
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form, summary);
      const problems = [];
      const k = keyInput.value.trim();
      if (!/^[A-Za-z0-9_.:/-]{1,128}$/.test(k)) problems.push({ path: 'key', message: 'a key: 1 to 128 letters, digits, _ - . : /' });
      const shared = { ...flag, key: k, type: type.value, default: defaultInput.read(problems) };
      const body = withState(shared, env, { enabled: enabled.checked, rules: rules.read(problems), schedule: state.schedule });
      delete body.description;
      delete body.tags;
      if (description.value.trim()) body.description = description.value.trim();
      const tagList = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
      if (tagList.length) body.tags = tagList;
      if (problems.length) {
        showErrors(form, summary, problems.map((p) => ({ code: 'invalid_value', message: `${p.path}: ${p.message}`, path: `flags[${k}].${p.path}` })),
          { collection: 'flags', key: k, what: 'flag' });
        return;
      }
      save.disabled = true;
      try {
        await flags.put(k, body);
        toast(`${k} saved`, 'success');
        navigate('#/flags');
      } catch (err) {
        showErrors(form, summary, problemsOf(err), { collection: 'flags', key: k, what: 'flag' });
      } finally {
        save.disabled = false;
      }
    });
    main.replaceChildren(form);
    lockForm(form);
    if (!form.dataset.readonly) (isNew ? keyInput : type).focus();
  }

  return {
    unmount() {
      alive = false;
    },
  };
}
