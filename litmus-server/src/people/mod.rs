//! People who sign in to the dashboard: users with a role (`viewer`, `editor`, `admin`) and
//! per-project overrides, their sessions, and the one-time tokens of invitations, password
//! resets and the first admin's set-up. The rules (what each role may do, how sign-in is
//! throttled, how sessions and CSRF tokens are made) live in this module's parts; the
//! operations that combine them are `crate::service::people`, and the rows are stored by
//! `crate::store::people`.
//!
//! A role grants scopes (`crate::keys::Scope`), so people and API keys pass through the same
//! authorization check (`crate::auth`): one layer, one table of what each route needs.

pub mod client;
pub mod csrf;
pub mod password;
pub mod session;
pub mod throttle;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keys::Scope;

/// How people sign in: where the dashboard is served and whether a proxy in front of the server
/// is believed.
#[derive(Debug, Clone, Default)]
pub struct PeopleSettings {
    /// The dashboard's public base URL (`LITMUS_PUBLIC_URL`, e.g. `https://litmus.example.com`):
    /// the links of invitations and resets start with it, and session cookies are `Secure` when
    /// it is https. Without it, links use the request's `Host`.
    pub public_url: Option<String>,
    /// Whether the `X-Forwarded-For` and `X-Forwarded-Proto` headers of a proxy in front are
    /// believed (`LITMUS_TRUST_PROXY=1`; only behind a proxy that sets them).
    pub trust_proxy: bool,
    /// Single sign-on by OpenID Connect, when set up (`crate::oidc`).
    pub sso: Option<crate::oidc::OidcSettings>,
}

/// What a person may do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads results and config.
    Viewer,
    /// Also changes experiments, flags, metrics, layers, holdouts and environments' overlays,
    /// and tries flags (`POST /evaluate`).
    Editor,
    /// Also manages API keys and webhooks (and, as the instance's role, people and projects).
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// The role's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// The role of a spelling.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The scopes the role grants in a project.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Role::Viewer => &[Scope::AdminRead],
            Role::Editor => &[Scope::AdminRead, Scope::AdminWrite, Scope::Assign],
            Role::Admin => &[
                Scope::AdminRead,
                Scope::AdminWrite,
                Scope::Assign,
                Scope::KeysWrite,
                Scope::WebhooksWrite,
            ],
        }
    }
}

/// The scopes only an instance admin holds (an admin by their own role, not by a project's
/// override): people and projects are the instance's, not a project's.
pub const INSTANCE_ADMIN_SCOPES: [Scope; 2] = [Scope::UsersWrite, Scope::ProjectsWrite];

/// A person, as stored (the password's hash is never answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// A random id.
    pub id: String,
    /// Their email address, lower-cased (unique).
    pub email: String,
    /// Their name, for people.
    pub name: String,
    /// Their role in every project without an override.
    pub role: Role,
    /// Their role in particular projects, overriding [`UserRecord::role`].
    pub projects: BTreeMap<String, Role>,
    /// The argon2id hash of their password (none for a person who signs in only by SSO).
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Their single sign-on identity: the issuer and subject of their ID tokens.
    #[serde(skip)]
    pub subject: Option<String>,
    /// Failed sign-ins since the last success.
    #[serde(skip)]
    pub failed_logins: u32,
    /// Until when sign-in is refused after too many failures, in milliseconds since the epoch.
    pub locked_until_ms: Option<i64>,
    /// When an admin disabled them (they cannot sign in, and their sessions end).
    pub disabled_ms: Option<i64>,
    /// When they were added.
    pub created_ms: i64,
    /// When they last signed in.
    pub last_login_ms: Option<i64>,
}

impl UserRecord {
    /// Their role in `project`: the project's override, else their own.
    pub fn role_in(&self, project: &str) -> Role {
        self.projects.get(project).copied().unwrap_or(self.role)
    }

    /// The scopes they hold in `project`: their role's there, and the instance admin's when
    /// their own role is admin.
    pub fn scopes_in(&self, project: &str) -> Vec<Scope> {
        let mut scopes = self.role_in(project).scopes().to_vec();
        if self.role == Role::Admin {
            scopes.extend(INSTANCE_ADMIN_SCOPES);
        }
        scopes
    }

    /// Whether they may sign in at `now_ms` (not disabled, not locked).
    pub fn may_sign_in(&self, now_ms: i64) -> bool {
        self.disabled_ms.is_none() && self.locked_until_ms.is_none_or(|until| until <= now_ms)
    }
}

/// A signed-in session, as stored (by the hash of its token; the token is only in the cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session token, hex.
    pub token_hash: String,
    /// The person.
    pub user_id: String,
    /// How they signed in: `password` or `sso`.
    pub method: String,
    /// When it began.
    pub created_ms: i64,
    /// When it ends unless used again (idle expiry, pushed back as it is used).
    pub expires_ms: i64,
    /// When it was last used (written at most once a minute).
    pub last_seen_ms: i64,
    /// The IP address it signed in from.
    pub ip: Option<String>,
    /// The user agent it signed in with.
    pub user_agent: Option<String>,
}

/// A single sign-on attempt, stored between the redirect to the provider and its callback (so
/// any instance can finish it) by the hash of its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLogin {
    /// SHA-256 of the state, hex.
    pub state_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The redirect URI the provider was given (the exchange repeats it).
    pub redirect_uri: String,
    /// When it began.
    pub created_ms: i64,
    /// When it stops working (ten minutes on).
    pub expires_ms: i64,
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Joins a new person (email, role and project roles fixed by the admin who invited).
    Invite,
    /// Sets a person's new password (made by an admin); their sessions end.
    Reset,
    /// Makes the first admin, while there is nobody (logged at start).
    Setup,
}

impl TokenKind {
    /// The kind's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Invite => "invite",
            TokenKind::Reset => "reset",
            TokenKind::Setup => "setup",
        }
    }

    /// The kind of a spelling.
    pub fn parse(s: &str) -> Option<TokenKind> {
        [TokenKind::Invite, TokenKind::Reset, TokenKind::Setup]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A one-time token (invitation, reset or set-up), as stored by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex (also the invitation's id in the API).
    #[serde(rename = "id")]
    pub token_hash: String,
    /// What it is for.
    pub kind: TokenKind,
    /// The email it is for (the invited person's, or the person whose password is reset).
    pub email: String,
    /// The person whose password it resets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The role an invited person gets.
    pub role: Role,
    /// The project roles an invited person gets.
    pub projects: BTreeMap<String, Role>,
    /// Who made it.
    pub created_by: String,
    /// When it was made.
    pub created_ms: i64,
    /// When it stops working.
    pub expires_ms: i64,
    /// When it was used, if it was.
    pub used_ms: Option<i64>,
}

/// Lower-cases and trims an email address; none when it is not one (`local@domain`, at most
/// 254 characters, no spaces or control characters).
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let fine = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    fine.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role) -> UserRecord {
        UserRecord {
            id: "u1".into(),
            email: "a@example.com".into(),
            name: "A".into(),
            role,
            projects: BTreeMap::from([("shop".to_owned(), Role::Admin)]),
            password_hash: None,
            subject: None,
            failed_logins: 0,
            locked_until_ms: None,
            disabled_ms: None,
            created_ms: 0,
            last_login_ms: None,
        }
    }

    #[test]
    fn roles_grant_their_scopes_and_overrides_win() {
        let viewer = person(Role::Viewer);
        assert_eq!(viewer.scopes_in("default"), vec![Scope::AdminRead]);
        // An admin of one project manages its keys, not people or projects.
        let in_shop = viewer.scopes_in("shop");
        assert!(in_shop.contains(&Scope::KeysWrite));
        assert!(!in_shop.contains(&Scope::UsersWrite));
        let admin = person(Role::Admin);
        assert!(admin.scopes_in("default").contains(&Scope::UsersWrite));
        assert!(admin.scopes_in("default").contains(&Scope::ProjectsWrite));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert!(!role.scopes().contains(&Scope::SdkRead));
            assert!(!role.scopes().contains(&Scope::EventsWrite));
        }
    }

    #[test]
    fn locked_and_disabled_people_may_not_sign_in() {
        let mut p = person(Role::Editor);
        assert!(p.may_sign_in(10));
        p.locked_until_ms = Some(20);
        assert!(!p.may_sign_in(10));
        assert!(p.may_sign_in(20));
        p.disabled_ms = Some(5);
        assert!(!p.may_sign_in(30));
    }

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(
            normalize_email("  Alice@Example.COM "),
            Some("alice@example.com".into())
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "a@b",
            "a@.com",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }
}
