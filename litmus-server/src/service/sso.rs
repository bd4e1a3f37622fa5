//! Single sign-on's rules: who may sign in by the provider, and as whom. A sign-in starts with
//! one-time values stored by the hash of its state (any instance can finish it; each is used
//! once, within ten minutes) and the state in this browser's `litmus_oidc` cookie; the callback
//! must come back to the same browser with the same state. The ID token (`crate::oidc::verify`)
//! then names the person:
//! 1. someone already linked to this identity (the issuer and subject);
//! 2. else, by their email (which the provider must have verified): a person with that email,
//!    who is then linked to the identity; or a pending invitation, which makes their account
//!    with its role;
//! 3. else, with `LITMUS_OIDC_DEFAULT_ROLE` set and their email's domain allowed, a new person
//!    with that role;
//! 4. else nobody: `not_invited`. A disabled person is refused.

use serde_json::{Value, json};

use crate::auth::Access;
use crate::oidc::flow::{self, Attempt};
use crate::oidc::{SsoError, verify};
use crate::people::client::Client;
use crate::people::{SsoLogin, TokenKind, normalize_email, session};
use crate::service::people::{SignedIn, open_session, person};
use crate::store::{Actor, PeopleStore};

/// How long a sign-in may take at the provider.
pub const ATTEMPT_MS: i64 = 10 * 60 * 1000;

/// The cookie that binds a sign-in to its browser.
pub const STATE_COOKIE: &str = "litmus_oidc";

/// `GET /auth/sso`'s answer: whether single sign-on is on, and its button's label.
pub fn info<S>(access: &Access<S>) -> Value {
    match access.sso() {
        Some(p) => json!({"enabled": true, "name": p.settings.name}),
        None => json!({"enabled": false}),
    }
}

/// Starts a sign-in: where to send the browser, and the state for its cookie.
pub async fn start<S: PeopleStore>(
    access: &Access<S>,
    redirect_uri: &str,
) -> Result<(String, String), SsoError> {
    let provider = access.sso().ok_or(SsoError::NotInvited)?;
    let metadata = provider.metadata().await?;
    let attempt = Attempt::new().map_err(|e| SsoError::Provider(e.to_string()))?;
    let now = crate::now_ms();
    let login = SsoLogin {
        state_hash: session::token_hash(&attempt.state),
        nonce: attempt.nonce.clone(),
        verifier: attempt.verifier.clone(),
        redirect_uri: redirect_uri.to_owned(),
        created_ms: now,
        expires_ms: now + ATTEMPT_MS,
    };
    access
        .store()
        .add_sso_login(login)
        .await
        .map_err(|e| SsoError::Provider(e.to_string()))?;
    let url = flow::authorization_url(provider, &metadata, redirect_uri, &attempt);
    Ok((url, attempt.state))
}

/// What the provider's redirect back carries.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state sent.
    pub state: Option<String>,
    /// The provider's error, when it refused.
    pub error: Option<String>,
}

/// A store failure during sign-on, as a provider-side failure the dashboard can show.
fn store(e: impl std::fmt::Display) -> SsoError {
    SsoError::Provider(format!("the store: {e}"))
}

/// Finishes a sign-in from the provider's redirect back, with the state this browser's cookie
/// holds: a session for the person the ID token names (see the module's rules).
pub async fn finish<S: PeopleStore>(
    access: &Access<S>,
    callback: Callback,
    cookie_state: Option<&str>,
    client: &Client,
) -> Result<SignedIn, SsoError> {
    let provider = access.sso().ok_or(SsoError::NotInvited)?;
    if let Some(error) = callback.error {
        return Err(SsoError::Refused(error));
    }
    let (Some(code), Some(state)) = (callback.code, callback.state) else {
        return Err(SsoError::State);
    };
    let same =
        cookie_state.is_some_and(|c| crate::keys::constant_time_eq(c.as_bytes(), state.as_bytes()));
    if !same {
        return Err(SsoError::State);
    }
    let now = crate::now_ms();
    let login = access
        .store()
        .take_sso_login(&session::token_hash(&state), now)
        .await
        .map_err(store)?
        .ok_or(SsoError::Expired)?;
    let metadata = provider.metadata().await?;
    let token = flow::exchange(
        provider,
        &metadata,
        &code,
        &login.redirect_uri,
        &login.verifier,
    )
    .await?;
    let claims = verify::id_token(provider, &metadata, &token, &login.nonce).await?;
    let subject = format!("{} {}", metadata.issuer, claims.sub);
    let store_ = access.store();
    if let Some(user) = store_.user_by_subject(&subject).await.map_err(store)? {
        if user.disabled_ms.is_some() {
            return Err(SsoError::Disabled);
        }
        return open_session(access, user, "sso", client)
            .await
            .map_err(store);
    }
    if !claims.email_verified() {
        return Err(SsoError::EmailUnverified);
    }
    let email = claims
        .email
        .as_deref()
        .and_then(normalize_email)
        .ok_or(SsoError::EmailUnverified)?;
    if let Some(user) = store_.user_by_email(&email).await.map_err(store)? {
        if user.disabled_ms.is_some() {
            return Err(SsoError::Disabled);
        }
        if store_
            .link_subject(&user.id, &subject)
            .await
            .map_err(store)?
            .is_err()
        {
            tracing::warn!(user = %email, "single sign-on: the person is linked to another identity");
            return Err(SsoError::NotInvited);
        }
        return open_session(access, user, "sso", client)
            .await
            .map_err(store);
    }
    let name = claims.name.clone().unwrap_or_else(|| email.clone());
    let invitation = store_
        .invitations(now)
        .await
        .map_err(store)?
        .into_iter()
        .find(|t| t.email == email);
    let settings = &provider.settings;
    let (role, projects, token) = match (invitation, settings.default_role) {
        (Some(t), _) => (
            t.role,
            t.projects,
            Some((t.token_hash, TokenKind::Invite, now)),
        ),
        (None, Some(role)) if settings.domain_allowed(&email) => (role, Default::default(), None),
        _ => return Err(SsoError::NotInvited),
    };
    let mut user = person(email.clone(), name, role, projects).map_err(store)?;
    user.subject = Some(subject);
    let actor = Actor {
        name: email.clone(),
        ip: client.ip_text(),
        user_agent: client.user_agent.clone(),
    };
    match store_
        .add_user(user.clone(), token, false, actor)
        .await
        .map_err(store)?
    {
        Ok(()) => open_session(access, user, "sso", client)
            .await
            .map_err(store),
        Err(_) => Err(SsoError::Expired),
    }
}
