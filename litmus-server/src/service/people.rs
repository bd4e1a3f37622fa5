//! People's operations: signing in and out, the first admin, invitations, password resets, and
//! changes to people's roles. The rules are `crate::people`'s; this module puts them together
//! with the store (`crate::store::people`), and every route and the start-up call it.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Principal;
use crate::people::client::Client;
use crate::people::{
    PeopleSettings, Role, SessionRecord, TokenKind, TokenRecord, UserRecord, csrf, normalize_email,
    password, session, throttle,
};
use crate::store::people::{PersonAudit, Refusal, public};
use crate::store::{Actor, PeopleStore, ProjectStore};

/// How long an invitation link works.
pub const INVITATION_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// How long a password-reset or set-up link works.
pub const RESET_MS: i64 = 24 * 60 * 60 * 1000;

/// A new session, for the route to set as a cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session token (only ever in the cookie).
    pub token: String,
    /// What the dashboard learns of the session (no token).
    pub me: Me,
}

/// A signed-in person as `GET /auth/session` answers: who, their roles, the CSRF token and
/// when the session ends.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    /// The person.
    pub user: UserRecord,
    /// The CSRF token to send in `X-CSRF-Token` with every change.
    pub csrf: String,
    /// When the session ends unless used again.
    pub expires_ms: i64,
}

/// `POST /auth/login`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The email address.
    pub email: String,
    /// The password.
    pub password: String,
}

/// `POST /auth/setup` and `POST /auth/accept`'s body: a one-time token, and the person's name
/// and password (the set-up also gives the email).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redeem {
    /// The token from the link.
    pub token: String,
    /// The email (set-up only: an invitation's and a reset's are fixed).
    pub email: Option<String>,
    /// The person's name (a reset keeps theirs when absent).
    pub name: Option<String>,
    /// The new password.
    pub password: String,
}

/// `POST /admin/users/invitations`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// Who is invited.
    pub email: String,
    /// Their role (viewer by default).
    #[serde(default = "viewer")]
    pub role: Role,
    /// Their role in particular projects.
    #[serde(default)]
    pub projects: BTreeMap<String, Role>,
}

fn viewer() -> Role {
    Role::Viewer
}

/// `PATCH /admin/users/{id}`'s body: what changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// A new name.
    pub name: Option<String>,
    /// A new role.
    pub role: Option<Role>,
    /// New project roles (replacing all of them).
    pub projects: Option<BTreeMap<String, Role>>,
    /// Disable (true) or enable (false).
    pub disabled: Option<bool>,
}

/// A link made for someone: the one-time token's record, and the URL to send them.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// The token's record (its id is the token's hash).
    #[serde(flatten)]
    pub record: TokenRecord,
    /// The link (its token is in the fragment, so it reaches no server log).
    pub link: String,
}

/// 422 naming `field`.
fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid(litmus_core::Error::InvalidValue {
        path: litmus_core::FieldPath::root().field(field),
        message: message.into(),
    })
}

/// Runs the slow password work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

/// `password`'s hash, after checking it is strong enough for `email` (422 at `password`).
async fn new_hash(password: String, email: &str) -> Result<String, ApiError> {
    if let Some(why) = password::weakness(&password, email) {
        return Err(invalid("password", why));
    }
    blocking(move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)
}

/// A person's name as given: trimmed, 1 to 100 characters, no control characters (422 at
/// `name`).
fn valid_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "a name is 1 to 100 characters, none of them a control character",
        ));
    }
    Ok(name.to_owned())
}

/// Checks that every project named in `roles` exists (422 at `projects`).
async fn known_projects<S: ProjectStore>(
    store: &S,
    roles: &BTreeMap<String, Role>,
) -> Result<(), ApiError> {
    if roles.is_empty() {
        return Ok(());
    }
    let projects = store.projects().await?;
    for key in roles.keys() {
        let known =
            key == crate::projects::DEFAULT_PROJECT || projects.iter().any(|p| &p.key == key);
        if !known {
            return Err(invalid("projects", format!("there is no project {key:?}")));
        }
    }
    Ok(())
}

/// Opens a session for `user` signed in by `method` from `client`.
pub(crate) async fn open_session<S: PeopleStore>(
    access: &Access<S>,
    user: UserRecord,
    method: &str,
    client: &Client,
) -> Result<SignedIn, ApiError> {
    let token = session::new_token().map_err(ApiError::internal)?;
    let now = crate::now_ms();
    let record = SessionRecord {
        token_hash: session::token_hash(&token),
        user_id: user.id.clone(),
        method: method.to_owned(),
        created_ms: now,
        expires_ms: now + session::IDLE_MS,
        last_seen_ms: now,
        ip: client.ip_text(),
        user_agent: client.user_agent.clone(),
    };
    access.store().sign_in(record).await?;
    tracing::info!(user = %user.email, method, ip = ?client.ip, "signed in");
    let user = UserRecord {
        failed_logins: 0,
        locked_until_ms: None,
        last_login_ms: Some(now),
        ..user
    };
    Ok(SignedIn {
        me: Me {
            csrf: csrf::token(&token),
            expires_ms: now + session::IDLE_MS,
            user,
        },
        token,
    })
}

/// Takes one sign-in attempt for `client`'s address (429 `throttled` when it has none left).
fn throttle<S>(access: &Access<S>, client: &Client) -> Result<(), ApiError> {
    match client.ip {
        Some(ip) => access
            .limiter()
            .take(ip, Instant::now())
            .map_err(ApiError::Throttled),
        None => Ok(()),
    }
}

/// Seconds from `now_ms` to `until_ms`, at least one.
fn seconds_until(until_ms: i64, now_ms: i64) -> u32 {
    u32::try_from((until_ms - now_ms + 999) / 1000)
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Signs a person in by email and password. The same 401 `invalid_credentials` answers an
/// unknown email, a wrong password, a disabled person and one who signs in only by SSO (and an
/// unknown email costs a hash verification too, so time tells nothing either); 429 `locked`
/// after [`throttle::LOCK_AFTER`] failures in a row, 429 `throttled` for an address that tries
/// too often.
pub async fn login<S: PeopleStore>(
    access: &Access<S>,
    request: Login,
    client: &Client,
) -> Result<SignedIn, ApiError> {
    throttle(access, client)?;
    let now = crate::now_ms();
    let user = match normalize_email(&request.email) {
        Some(email) => access.store().user_by_email(&email).await?,
        None => None,
    };
    let Some(user) = user else {
        let attempt = request.password;
        blocking(move || password::verify(&attempt, password::decoy())).await?;
        return Err(ApiError::InvalidCredentials);
    };
    if let Some(until) = user.locked_until_ms.filter(|&until| until > now) {
        return Err(ApiError::Locked(seconds_until(until, now)));
    }
    let hash = user
        .password_hash
        .clone()
        .filter(|_| user.disabled_ms.is_none());
    let attempt = request.password;
    let right =
        blocking(move || password::verify(&attempt, hash.as_deref().unwrap_or(password::decoy())))
            .await?;
    if right && user.password_hash.is_some() && user.disabled_ms.is_none() {
        return open_session(access, user, "password", client).await;
    }
    let failures = access.store().login_failed(&user.id).await?;
    if let Some(until) = throttle::lock_until(failures, now) {
        access.store().lock_user(&user.id, until).await?;
        tracing::warn!(user = %user.email, failures, ip = ?client.ip, "account locked");
        return Err(ApiError::Locked(seconds_until(until, now)));
    }
    Err(ApiError::InvalidCredentials)
}

/// Ends the session whose token is `token`.
pub async fn logout<S: PeopleStore>(access: &Access<S>, token: &str) -> Result<(), ApiError> {
    let hash = session::token_hash(token);
    access.store().end_session(&hash).await?;
    access.sessions().forget(&hash);
    Ok(())
}

/// The signed-in person of session `token` (401 when there is none).
pub async fn me<S: PeopleStore + crate::store::KeyStore + ProjectStore>(
    access: &Access<S>,
    token: &str,
) -> Result<Me, ApiError> {
    let (session, user) = crate::auth::signed_in(access, token)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Me {
        user,
        csrf: csrf::token(token),
        expires_ms: session.expires_ms,
    })
}

/// A new person record.
pub(crate) fn person(
    email: String,
    name: String,
    role: Role,
    projects: BTreeMap<String, Role>,
) -> Result<UserRecord, ApiError> {
    Ok(UserRecord {
        id: crate::keys::random_hex(12).map_err(ApiError::internal)?,
        email,
        name,
        role,
        projects,
        password_hash: None,
        subject: None,
        failed_logins: 0,
        locked_until_ms: None,
        disabled_ms: None,
        created_ms: crate::now_ms(),
        last_login_ms: None,
    })
}

/// The error of a refused write about people.
fn refused(refusal: Refusal, email: &str) -> ApiError {
    match refusal {
        Refusal::Token => invalid("token", "this link is unknown, used or expired"),
        Refusal::Taken => ApiError::Exists(format!("{email} has an account")),
        Refusal::SetUp => ApiError::Exists("the first admin exists: sign in instead".into()),
        Refusal::NoOne => ApiError::not_found("no such person"),
    }
}

/// Makes the first admin with the set-up link's token and signs them in (409
/// `already_exists` once there is one; 422 at `token` for a wrong or used token).
pub async fn setup<S: PeopleStore>(
    access: &Access<S>,
    request: Redeem,
    client: &Client,
) -> Result<SignedIn, ApiError> {
    throttle(access, client)?;
    let email = request
        .email
        .as_deref()
        .and_then(normalize_email)
        .ok_or_else(|| invalid("email", "an email address is required"))?;
    let name = valid_name(request.name.as_deref().unwrap_or(&email))?;
    let hash = new_hash(request.password, &email).await?;
    let mut user = person(email.clone(), name, Role::Admin, BTreeMap::new())?;
    user.password_hash = Some(hash);
    let token = (
        session::token_hash(&request.token),
        TokenKind::Setup,
        user.created_ms,
    );
    access
        .store()
        .add_user(user.clone(), Some(token), true, Actor::from(email.as_str()))
        .await?
        .map_err(|r| refused(r, &email))?;
    tracing::info!(user = %email, "the first admin was set up");
    open_session(access, user, "password", client).await
}

/// What a link's token is for, for the page that redeems it: its kind and email (422 at
/// `token` when it is unknown, used or expired).
pub async fn token_info<S: PeopleStore>(
    access: &Access<S>,
    token: &str,
    client: &Client,
) -> Result<TokenRecord, ApiError> {
    throttle(access, client)?;
    let record = access
        .store()
        .token(&session::token_hash(token))
        .await?
        .filter(|t| t.used_ms.is_none() && t.expires_ms > crate::now_ms());
    record.ok_or_else(|| refused(Refusal::Token, ""))
}

/// Redeems an invitation (the new person joins with the role they were invited with) or a
/// password reset (their password changes and their other sessions end), then signs them in.
pub async fn accept<S: PeopleStore>(
    access: &Access<S>,
    request: Redeem,
    client: &Client,
) -> Result<SignedIn, ApiError> {
    let token = token_info(access, &request.token, client).await?;
    let now = crate::now_ms();
    match token.kind {
        TokenKind::Invite => {
            let name = valid_name(request.name.as_deref().unwrap_or(&token.email))?;
            let mut user = person(token.email.clone(), name, token.role, token.projects)?;
            user.password_hash = Some(new_hash(request.password, &token.email).await?);
            let used = (token.token_hash, TokenKind::Invite, now);
            let actor = Actor {
                name: token.email.clone(),
                ip: client.ip_text(),
                user_agent: client.user_agent.clone(),
            };
            access
                .store()
                .add_user(user.clone(), Some(used), false, actor)
                .await?
                .map_err(|r| refused(r, &token.email))?;
            open_session(access, user, "password", client).await
        }
        TokenKind::Reset => {
            let user_id = token.user_id.clone().unwrap_or_default();
            let user = access
                .store()
                .user(&user_id)
                .await?
                .ok_or_else(|| refused(Refusal::NoOne, ""))?;
            let hash = new_hash(request.password, &user.email).await?;
            let actor = Actor {
                name: user.email.clone(),
                ip: client.ip_text(),
                user_agent: client.user_agent.clone(),
            };
            access
                .store()
                .set_password(
                    &user.id,
                    &user.email,
                    hash.clone(),
                    Some((token.token_hash, now)),
                    actor,
                )
                .await?
                .map_err(|r| refused(r, &user.email))?;
            access.sessions().clear();
            let user = UserRecord {
                password_hash: Some(hash),
                ..user
            };
            open_session(access, user, "password", client).await
        }
        TokenKind::Setup => Err(refused(Refusal::Token, "")),
    }
}

/// The base of links: the public URL, else the request's host.
pub(crate) fn base_url(settings: &PeopleSettings, host: Option<&str>, tls: bool) -> String {
    match (&settings.public_url, host) {
        (Some(url), _) => url.clone(),
        (None, Some(host)) => format!("{}://{host}", if tls { "https" } else { "http" }),
        (None, None) => String::new(),
    }
}

/// The link that redeems `token` of `kind`, on the dashboard.
fn link(base: &str, kind: TokenKind, token: &str) -> String {
    format!("{base}/dashboard/#{}={token}", kind.as_str())
}

/// A one-time link's record of `kind` for `email`, made by `created_by`, working for
/// `valid_ms` (its token's hash is set by [`issue`]).
fn draft(
    kind: TokenKind,
    email: String,
    role: Role,
    created_by: &str,
    valid_ms: i64,
) -> TokenRecord {
    let now = crate::now_ms();
    TokenRecord {
        token_hash: String::new(),
        kind,
        email,
        user_id: None,
        role,
        projects: BTreeMap::new(),
        created_by: created_by.to_owned(),
        created_ms: now,
        expires_ms: now + valid_ms,
        used_ms: None,
    }
}

/// Draws the token of `record`, stores the record (audited by `actor`) and answers the link
/// on the dashboard at `base`.
async fn issue<S: PeopleStore>(
    access: &Access<S>,
    mut record: TokenRecord,
    actor: Actor,
    base: &str,
) -> Result<Link, ApiError> {
    let token = session::new_token().map_err(ApiError::internal)?;
    record.token_hash = session::token_hash(&token);
    access.store().add_token(record.clone(), actor).await?;
    Ok(Link {
        link: link(base, record.kind, &token),
        record,
    })
}

/// Invites a person: a link that makes their account with `request`'s role (409
/// `already_exists` when the email has one; 422 naming a bad field). Audited as `user.invite`.
pub async fn invite<S: PeopleStore + ProjectStore>(
    access: &Access<S>,
    who: &Principal,
    request: Invite,
    host: Option<&str>,
    tls: bool,
) -> Result<Link, ApiError> {
    let email = normalize_email(&request.email).ok_or_else(|| {
        invalid(
            "email",
            format!("{:?} is not an email address", request.email),
        )
    })?;
    known_projects(access.store(), &request.projects).await?;
    if access.store().user_by_email(&email).await?.is_some() {
        return Err(refused(Refusal::Taken, &email));
    }
    let mut record = draft(
        TokenKind::Invite,
        email,
        request.role,
        &who.name,
        INVITATION_MS,
    );
    record.projects = request.projects;
    let base = base_url(access.people(), host, tls);
    issue(access, record, who.actor(), &base).await
}

/// A password-reset link for person `id` (404 when there is none). Audited as `user.reset`;
/// the password changes only when the link is used.
pub async fn reset<S: PeopleStore>(
    access: &Access<S>,
    who: &Principal,
    id: &str,
    host: Option<&str>,
    tls: bool,
) -> Result<Link, ApiError> {
    let user = access
        .store()
        .user(id)
        .await?
        .ok_or_else(|| refused(Refusal::NoOne, ""))?;
    let mut record = draft(TokenKind::Reset, user.email, user.role, &who.name, RESET_MS);
    record.user_id = Some(user.id);
    let base = base_url(access.people(), host, tls);
    issue(access, record, who.actor(), &base).await
}

/// Everyone, and the pending invitations.
pub async fn list<S: PeopleStore>(
    access: &Access<S>,
) -> Result<(Vec<UserRecord>, Vec<TokenRecord>), ApiError> {
    let users = access.store().users().await?;
    let invitations = access.store().invitations(crate::now_ms()).await?;
    Ok((users, invitations))
}

/// Withdraws the pending invitation with id (token hash) `id` (404 when there is none).
pub async fn withdraw<S: PeopleStore>(
    access: &Access<S>,
    who: &Principal,
    id: &str,
) -> Result<(), ApiError> {
    let invitation = access
        .store()
        .invitations(crate::now_ms())
        .await?
        .into_iter()
        .find(|t| t.token_hash == id)
        .ok_or_else(|| ApiError::not_found(format!("no pending invitation {id:?}")))?;
    if access
        .store()
        .withdraw_invitation(id, &invitation.email, who.actor())
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no pending invitation {id:?}")))
    }
}

/// Whether `user` is an enabled instance admin.
fn active_admin(user: &UserRecord) -> bool {
    user.role == Role::Admin && user.disabled_ms.is_none()
}

/// Changes person `id` as `patch` says (404 when there is none; 422 naming a bad field; 409
/// `in_use` when the change would leave no enabled admin). A disabled person's sessions end at
/// once. Audited as `user.update` with before and after.
pub async fn update<S: PeopleStore + ProjectStore>(
    access: &Access<S>,
    who: &Principal,
    id: &str,
    patch: Patch,
) -> Result<UserRecord, ApiError> {
    let before = access
        .store()
        .user(id)
        .await?
        .ok_or_else(|| refused(Refusal::NoOne, ""))?;
    let mut after = before.clone();
    if let Some(name) = &patch.name {
        after.name = valid_name(name)?;
    }
    if let Some(role) = patch.role {
        after.role = role;
    }
    if let Some(projects) = patch.projects {
        known_projects(access.store(), &projects).await?;
        after.projects = projects;
    }
    match patch.disabled {
        Some(true) if after.disabled_ms.is_none() => after.disabled_ms = Some(crate::now_ms()),
        Some(false) => after.disabled_ms = None,
        _ => {}
    }
    if active_admin(&before) && !active_admin(&after) {
        let others = access
            .store()
            .users()
            .await?
            .iter()
            .filter(|u| u.id != before.id && active_admin(u))
            .count();
        if others == 0 {
            return Err(ApiError::InUse(format!(
                "{} is the only enabled admin: make another admin first",
                before.email
            )));
        }
    }
    let audit = PersonAudit {
        action: "user.update",
        email: before.email.clone(),
        before: Some(public(&before)?),
        after: Some(public(&after)?),
    };
    access
        .store()
        .update_user(after.clone(), audit, who.actor())
        .await?
        .map_err(|r| refused(r, &before.email))?;
    // Their sessions carry their old role in this instance's cache.
    access.sessions().clear();
    Ok(after)
}

/// At start: makes the first admin from `first_admin` (email, password) while nobody exists;
/// without it, while the instance is not set up, logs a one-time set-up link (valid a day) to
/// make them in the dashboard, and answers it. Does nothing once there is an admin.
pub async fn welcome_first_admin<S: PeopleStore>(
    access: &Access<S>,
    first_admin: Option<(String, String)>,
    listen: &str,
) -> Result<Option<String>, ApiError> {
    if access.store().is_set_up().await? {
        return Ok(None);
    }
    if let Some((email, password)) = first_admin {
        let email = normalize_email(&email)
            .ok_or_else(|| invalid("email", "LITMUS_ADMIN_EMAIL is not an email address"))?;
        let mut user = person(email.clone(), email.clone(), Role::Admin, BTreeMap::new())?;
        user.password_hash = Some(new_hash(password, &email).await?);
        match access
            .store()
            .add_user(user, None, true, Actor::from("LITMUS_ADMIN_EMAIL"))
            .await?
        {
            Ok(()) => tracing::info!(user = %email, "made the first admin from LITMUS_ADMIN_EMAIL"),
            Err(r) => tracing::warn!(user = %email, ?r, "the first admin was not made"),
        }
        return Ok(None);
    }
    let record = draft(
        TokenKind::Setup,
        String::new(),
        Role::Admin,
        "start-up",
        RESET_MS,
    );
    let base = base_url(access.people(), Some(listen), false);
    let setup = issue(access, record, Actor::from("start-up"), &base)
        .await?
        .link;
    tracing::warn!(
        link = %setup,
        "nobody can sign in to the dashboard yet: open this one-time link to make the first admin (or set LITMUS_ADMIN_EMAIL and LITMUS_ADMIN_PASSWORD)"
    );
    Ok(Some(setup))
}
