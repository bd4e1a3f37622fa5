// Signing in: the sign-in page (email and password; "Sign in with …" when the server has
// single sign-on, `GET /auth/sso`; an API key as the secondary way in), and the pages of the
// one-time links whose token is in the address's fragment: `#setup=` (the first admin),
// `#invite=` (joining) and `#reset=` (a new password). `#sso-error=<code>` is where the server
// sends a failed single sign-on back to; the page says what went wrong.

import { h } from './dom.js';
import { auth, api, signin, ApiError } from './api.js';
import * as f from './format.js';

const LINK = /^#(setup|invite|reset)=([^&]+)$/;
const SSO_ERROR = /^#sso-error=([^&]*)/;

/**
 * What the address's fragment holds: a one-time link (`{kind, token}`), a failed single
 * sign-on (`{ssoError}`), or null.
 */
export function fragment(hash = location.hash) {
  const link = LINK.exec(hash || '');
  if (link) return { kind: link[1], token: decodeURIComponent(link[2]) };
  const sso = SSO_ERROR.exec(hash || '');
  if (sso) return { ssoError: decodeURIComponent(sso[1]) };
  return null;
}

/** Replaces the fragment (a token or an error) without a new history entry or a hashchange. */
export function replaceFragment(next = '') {
  history.replaceState(null, '', `${location.pathname}${location.search}${next}`);
}

const SSO_ERRORS = {
  not_invited: 'Your single sign-on account has no access to Litmus yet: ask an admin to invite your email address.',
  invalid_token: 'The sign-in provider’s answer could not be verified, so you were not signed in. Try again, or ask an admin to check the single sign-on settings.',
  invalid_state: 'The single sign-on attempt did not match this browser (was it started in another tab?). Try again.',
  expired: 'The single sign-on attempt expired before it finished. Try again.',
  provider_error: 'The sign-in provider could not be reached or answered with an error. Try again later.',
  provider_refused: 'The sign-in provider refused the sign-in.',
  email_unverified: 'The sign-in provider has not verified your email address.',
  disabled: 'This account is disabled: ask an admin.',
};

/** A failed single sign-on's code, in words. */
export function ssoMessage(code) {
  return SSO_ERRORS[code] || `Single sign-on failed (${code || 'no reason given'}). Try again.`;
}

/** A server's message as a sentence. */
const sentence = (m) => {
  const s = String(m || '').trim();
  return s ? `${s[0].toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}` : '';
};

/** A failed sign-in in words: wrong credentials, a locked account or a throttled address (with the wait). */
export function signInError(err) {
  if (!(err instanceof ApiError)) return String(err);
  const wait = err.retryAfter ? f.duration(err.retryAfter * 1000) : null;
  switch (err.code) {
    case 'invalid_credentials':
      return 'The email or the password is wrong.';
    case 'locked':
      return wait ? `Too many failed sign-ins: this account is locked. Try again in ${wait}.` : sentence(err.message);
    case 'throttled':
      return wait ? `Too many sign-in attempts from this address. Try again in ${wait}.` : sentence(err.message);
    default:
      return err.status === 0 ? err.explanation : sentence(err.message);
  }
}

/** A labelled input with its error line (shown by `fail`). */
function field(id, label, attrs, hint) {
  const input = h('input', { id, name: id, ...attrs });
  const error = h('div', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
  input.setAttribute('aria-describedby', `${id}-error${hint ? ` ${id}-hint` : ''}`);
  return {
    input,
    node: h('div', { class: 'field' }, h('label', { for: id }, label), input,
      hint ? h('div', { class: 'hint', id: `${id}-hint` }, hint) : null, error),
    fail(message) {
      error.textContent = message;
      error.hidden = !message;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/**
 * The sign-in page: email and password, single sign-on when the server has it, and an API key
 * behind "Use an API key instead" (`#admin-key`). `message` is shown first (why the last
 * session ended, a failed single sign-on). `onSignedIn()` once signed in either way.
 */
export function mountSignIn(main, { message = '', setTitle, onSignedIn }) {
  setTitle('Sign in');
  let alive = true;
  const error = h('div', { id: 'signin-error', class: 'banner critical', role: 'alert', hidden: !message }, message);
  const say = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  const email = h('input', { id: 'email', type: 'email', name: 'email', autocomplete: 'username', spellcheck: 'false', required: true });
  const password = h('input', { id: 'password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn primary', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { id: 'signin-form', class: 'signin-form', 'aria-label': 'Sign in with email and password', novalidate: true },
    h('label', { for: 'email' }, 'Email'), email,
    h('label', { for: 'password' }, 'Password'), password,
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!email.value.trim() || !password.value) {
      say('Enter your email and your password.');
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    try {
      const me = await signin.login(email.value.trim(), password.value);
      auth.setSession(me);
      onSignedIn();
    } catch (err) {
      say(signInError(err));
      submit.disabled = false;
      password.select();
      password.focus();
    }
  });

  // The key: the way in for automation, and before anyone has an account.
  const keyInput = h('input', {
    id: 'admin-key', type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true,
    placeholder: 'paste the key', 'aria-describedby': 'key-hint',
  });
  const keyButton = h('button', { type: 'submit', class: 'btn', id: 'key-submit' }, 'Sign in with the key');
  const keyForm = h('form', { id: 'key-form', class: 'signin-key', 'aria-label': 'Sign in with an API key', hidden: true, novalidate: true },
    h('label', { for: 'admin-key' }, 'API key'),
    keyInput,
    h('p', { id: 'key-hint', class: 'hint' }, 'The key the server was started with (LITMUS_ADMIN_KEY), or any key with admin scopes. It is kept in this tab only, until you sign out or close it.'),
    keyButton);
  keyForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = keyInput.value.trim();
    if (!key) {
      say('Paste a key first.');
      return;
    }
    keyButton.disabled = true;
    auth.set(key);
    try {
      await api('GET', '/admin/experiments', undefined, { quiet: true });
      onSignedIn();
    } catch (err) {
      auth.clear();
      say(err instanceof ApiError ? err.explanation : String(err));
      keyButton.disabled = false;
      keyInput.focus();
      keyInput.select();
    }
  });
  const toggle = h('button', { type: 'button', class: 'link', id: 'use-key', 'aria-expanded': 'false', 'aria-controls': 'key-form' }, 'Use an API key instead');
  toggle.addEventListener('click', () => {
    keyForm.hidden = !keyForm.hidden;
    toggle.setAttribute('aria-expanded', String(!keyForm.hidden));
    toggle.textContent = keyForm.hidden ? 'Use an API key instead' : 'Hide the API key';
    if (!keyForm.hidden) keyInput.focus();
  });

  const sso = h('div', { class: 'sso', id: 'sso-box', hidden: true });
  signin.sso().then((s) => {
    if (!alive || !s || !s.enabled) return;
    sso.replaceChildren(
      h('a', { class: 'btn sso-button', id: 'sso-signin', href: '/auth/oidc/start' }, `Sign in with ${s.name || 'single sign-on'}`),
      h('div', { class: 'or muted small', 'aria-hidden': 'true' }, 'or'));
    sso.hidden = false;
  });

  main.replaceChildren(h('div', { class: 'page signin-page' },
    h('div', { class: 'card signin', role: 'region', 'aria-labelledby': 'signin-h' },
      h('h1', { id: 'signin-h' }, 'Sign in to Litmus'),
      error,
      sso,
      form,
      h('div', { class: 'signin-alt' }, toggle),
      keyForm)));
  email.focus();
  return {
    unmount() {
      alive = false;
    },
  };
}

const TITLES = {
  setup: () => 'Create the first admin',
  invite: (email) => `Join Litmus as ${email}`,
  reset: (email) => `Set a new password for ${email}`,
};

/**
 * The page of a one-time link (`{kind, token}`): asks the server what the link is for
 * (`POST /auth/token`), then the form it needs. `onSignedIn()` after the account is made or
 * the password set; `onInvalid(message)` when the link is unknown, used or expired.
 */
export function mountRedeem(main, link, { setTitle, onSignedIn, onInvalid }) {
  let alive = true;
  setTitle('Sign in');
  main.replaceChildren(h('div', { class: 'page signin-page' }, h('div', { class: 'card signin loading', id: 'redeem-loading' }, 'Checking the link…')));
  signin.token(link.token).then((info) => {
    if (alive) build(info);
  }).catch((err) => {
    if (!alive) return;
    onInvalid(err instanceof ApiError && err.status === 422
      ? 'This link is unknown, used or expired: ask an admin for a new one, or sign in.'
      : `This link cannot be used now: ${signInError(err)}`);
  });

  function build(info) {
    const kind = info.kind;
    const title = TITLES[kind] ? TITLES[kind](info.email) : 'Sign in';
    setTitle(title);
    const error = h('div', { id: 'redeem-error', class: 'banner critical', role: 'alert', hidden: true });
    const fields = {
      email: kind === 'setup' ? field('redeem-email', 'Email', { type: 'email', autocomplete: 'username', spellcheck: 'false', required: true }) : null,
      name: kind === 'reset' ? null : field('redeem-name', 'Your name', { autocomplete: 'name', required: true, maxlength: 100 }),
      password: field('redeem-password', kind === 'reset' ? 'New password' : 'Password', { type: 'password', autocomplete: 'new-password', required: true }, 'At least 10 characters; a passphrase is good.'),
      confirm: field('redeem-confirm', 'Password again', { type: 'password', autocomplete: 'new-password', required: true }),
    };
    const submit = h('button', { type: 'submit', class: 'btn primary', id: 'redeem-submit' },
      kind === 'setup' ? 'Create the admin and sign in' : kind === 'invite' ? 'Join and sign in' : 'Set the password and sign in');
    const form = h('form', { class: 'card signin redeem', id: 'redeem-form', 'data-kind': kind, novalidate: true, 'aria-labelledby': 'redeem-title' },
      h('h1', { id: 'redeem-title' }, title),
      kind === 'setup' ? h('p', { class: 'hint' }, 'Nobody can sign in yet. This one-time link makes the first admin, who can then invite the others.') : null,
      kind === 'invite' ? h('p', { class: 'hint' }, 'You were invited to Litmus: choose the name others will see and a password.') : null,
      info.expires_ms ? h('p', { class: 'muted small' }, `The link works until ${f.dateTime(info.expires_ms)}.`) : null,
      error,
      Object.values(fields).filter(Boolean).map((x) => x.node),
      submit);
    const show = (text) => {
      error.textContent = text;
      error.hidden = !text;
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      show('');
      for (const x of Object.values(fields)) if (x) x.fail('');
      const password = fields.password.input.value;
      let bad = false;
      const need = (x, ok, message) => {
        if (x && !ok) {
          x.fail(message);
          bad = true;
        }
      };
      need(fields.email, fields.email && /.+@.+/.test(fields.email.input.value.trim()), 'Enter an email address.');
      need(fields.name, fields.name && fields.name.input.value.trim(), 'Enter your name.');
      need(fields.password, password.length >= 10, 'The password must have at least 10 characters.');
      need(fields.confirm, fields.confirm.input.value === password, 'The two passwords differ.');
      if (bad) {
        const first = form.querySelector('[aria-invalid="true"]');
        if (first) first.focus();
        return;
      }
      const body = { token: link.token, password };
      if (fields.name) body.name = fields.name.input.value.trim();
      if (fields.email) body.email = fields.email.input.value.trim();
      submit.disabled = true;
      try {
        const me = await (kind === 'setup' ? signin.setup(body) : signin.accept(body));
        auth.clear();
        auth.setSession(me);
        onSignedIn();
      } catch (err) {
        submit.disabled = false;
        const at = err instanceof ApiError ? err.path : null;
        if (at === 'token' || (err instanceof ApiError && err.status === 409)) {
          onInvalid(at === 'token' ? 'This link is unknown, used or expired: ask an admin for a new one, or sign in.' : sentence(err.message));
        } else if (at && fields[at]) {
          fields[at].fail(sentence(err.message.replace(/^[a-z_]+: /, '')));
          fields[at].input.focus();
        } else {
          show(signInError(err));
        }
      }
    });
    main.replaceChildren(h('div', { class: 'page signin-page' }, form));
    (fields.email || fields.name || fields.password).input.focus();
  }

  return {
    unmount() {
      alive = false;
    },
  };
}
