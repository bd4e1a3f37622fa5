//! People's rows (`crate::people`): users, sessions and one-time tokens, written once over
//! the backends' [`Rows`] primitives with the SQL of `crate::store::sql`. Changes to people are
//! audited in the default project's log (people belong to the instance), each in the same
//! transaction as the change.

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::Value;

use super::rows::{Batch, Cell, Row, Rows, Step, corrupt, int, text, to_json};
use super::{Actor, StoreError, sql};
use crate::people::{Role, SessionRecord, SsoLogin, TokenKind, TokenRecord, UserRecord};
use crate::projects::DEFAULT_PROJECT;

/// An audit entry about a person: what, the person's email, before and after.
#[derive(Debug, Clone)]
pub struct PersonAudit {
    /// What happened, e.g. `user.update`.
    pub action: &'static str,
    /// The person's email (the entry's key).
    pub email: String,
    /// The person before (absent when created).
    pub before: Option<Value>,
    /// The person after.
    pub after: Option<Value>,
}

/// Why a write about people was refused (nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The one-time token is unknown, used, expired or of another kind.
    Token,
    /// The email (or the single sign-on identity) belongs to someone already.
    Taken,
    /// The instance already has its first admin.
    SetUp,
    /// There is no such person.
    NoOne,
}

/// What people's stores do; every backend with [`Rows`] has it.
pub trait PeopleStore: Send + Sync + 'static {
    /// Every person, by email.
    fn users(&self) -> impl Future<Output = Result<Vec<UserRecord>, StoreError>> + Send;
    /// The person with `id`.
    fn user(&self, id: &str)
    -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;
    /// The person with (normalized) `email`.
    fn user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;
    /// The person with single sign-on `subject`.
    fn user_by_subject(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;
    /// Whether the instance has its first admin.
    fn is_set_up(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Adds `user` (audited as `user.create` by `actor`), using the one-time token (hash,
    /// kind, now) when given, and marking the instance set up when `first` — all or nothing.
    fn add_user(
        &self,
        user: UserRecord,
        token: Option<(String, TokenKind, i64)>,
        first: bool,
        actor: Actor,
    ) -> impl Future<Output = Result<Result<(), Refusal>, StoreError>> + Send;
    /// Replaces `user`'s name, role, project roles and disabled time (audited); a disabled
    /// person's sessions end.
    fn update_user(
        &self,
        user: UserRecord,
        audit: PersonAudit,
        actor: Actor,
    ) -> impl Future<Output = Result<Result<(), Refusal>, StoreError>> + Send;
    /// Sets user `id`'s password hash, using the reset token (hash, now) when given; every
    /// session of theirs ends (audited as `user.password`).
    fn set_password(
        &self,
        id: &str,
        email: &str,
        hash: String,
        token: Option<(String, i64)>,
        actor: Actor,
    ) -> impl Future<Output = Result<Result<(), Refusal>, StoreError>> + Send;
    /// Links user `id` to single sign-on `subject`.
    fn link_subject(
        &self,
        id: &str,
        subject: &str,
    ) -> impl Future<Output = Result<Result<(), Refusal>, StoreError>> + Send;
    /// Counts a failed sign-in of user `id` and answers their failures in a row.
    fn login_failed(&self, id: &str) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// Locks user `id` until `until_ms`.
    fn lock_user(
        &self,
        id: &str,
        until_ms: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Stores a session for a sign-in at `session.created_ms` (failures cleared, expired
    /// sessions forgotten).
    fn sign_in(
        &self,
        session: SessionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The session whose token hashes to `token_hash`.
    fn session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;
    /// Records a session's use at `now_ms`, ending it at `expires_ms` unless used again.
    fn touch_session(
        &self,
        token_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Ends a session.
    fn end_session(&self, token_hash: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Stores a one-time token (audited as `user.invite` or `user.reset` by `actor`; a set-up
    /// token replaces any unused one, unaudited).
    fn add_token(
        &self,
        token: TokenRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The one-time token that hashes to `token_hash`.
    fn token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
    /// The invitations unused and unexpired at `now_ms`, newest first.
    fn invitations(
        &self,
        now_ms: i64,
    ) -> impl Future<Output = Result<Vec<TokenRecord>, StoreError>> + Send;
    /// Stores a single sign-on attempt (forgetting expired ones).
    fn add_sso_login(&self, login: SsoLogin)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Uses the sign-on attempt whose state hashes to `state_hash` at `now_ms`: it, when it
    /// was unused and unexpired (each attempt is used once).
    fn take_sso_login(
        &self,
        state_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<SsoLogin>, StoreError>> + Send;
    /// Withdraws an unused invitation (audited); false when there is none.
    fn withdraw_invitation(
        &self,
        token_hash: &str,
        email: &str,
        actor: Actor,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<T: Rows> PeopleStore for T {
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = self.query(sql::USERS, vec![]).await?;
        rows.iter().map(user).collect()
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        one(self, sql::USER_BY_ID, id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        one(self, sql::USER_BY_EMAIL, email).await
    }

    async fn user_by_subject(&self, subject: &str) -> Result<Option<UserRecord>, StoreError> {
        one(self, sql::USER_BY_SUBJECT, subject).await
    }

    async fn is_set_up(&self) -> Result<bool, StoreError> {
        Ok(!self.query(sql::IS_SET_UP, vec![]).await?.is_empty())
    }

    async fn add_user(
        &self,
        user: UserRecord,
        token: Option<(String, TokenKind, i64)>,
        first: bool,
        actor: Actor,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let mut steps = Vec::new();
        let mut refusals = Vec::new();
        if let Some((hash, kind, now_ms)) = token {
            steps.push(Step::must(
                sql::USE_TOKEN,
                vec![now_ms.into(), hash.into(), kind.as_str().into()],
            ));
            refusals.push(Refusal::Token);
        }
        if first {
            steps.push(Step::must(
                sql::MARK_SET_UP,
                vec![user.id.as_str().into(), user.created_ms.into()],
            ));
            refusals.push(Refusal::SetUp);
        }
        steps.push(Step::must(sql::INSERT_USER, user_cells(&user)?));
        refusals.push(Refusal::Taken);
        let audit = PersonAudit {
            action: "user.create",
            email: user.email.clone(),
            before: None,
            after: Some(public(&user)?),
        };
        steps.push(audit_step(audit, &actor, user.created_ms));
        Ok(match self.batch(steps).await? {
            Batch::Done(_) => Ok(()),
            Batch::Refused(i) => Err(refusals.get(i).copied().unwrap_or(Refusal::Taken)),
        })
    }

    async fn update_user(
        &self,
        user: UserRecord,
        audit: PersonAudit,
        actor: Actor,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let now = crate::now_ms();
        let mut steps = vec![Step::must(
            sql::UPDATE_USER,
            vec![
                user.name.as_str().into(),
                user.role.as_str().into(),
                roles_json(&user.projects)?.into(),
                user.disabled_ms.into(),
                user.id.as_str().into(),
            ],
        )];
        if user.disabled_ms.is_some() {
            steps.push(Step::new(
                sql::DELETE_USER_SESSIONS,
                vec![user.id.as_str().into()],
            ));
        }
        steps.push(audit_step(audit, &actor, now));
        Ok(match self.batch(steps).await? {
            Batch::Done(_) => Ok(()),
            Batch::Refused(_) => Err(Refusal::NoOne),
        })
    }

    async fn set_password(
        &self,
        id: &str,
        email: &str,
        hash: String,
        token: Option<(String, i64)>,
        actor: Actor,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let now = crate::now_ms();
        let mut steps = Vec::new();
        if let Some((token_hash, now_ms)) = &token {
            steps.push(Step::must(
                sql::USE_TOKEN,
                vec![
                    (*now_ms).into(),
                    token_hash.as_str().into(),
                    TokenKind::Reset.as_str().into(),
                ],
            ));
        }
        steps.push(Step::must(sql::SET_PASSWORD, vec![hash.into(), id.into()]));
        steps.push(Step::new(sql::DELETE_USER_SESSIONS, vec![id.into()]));
        let audit = PersonAudit {
            action: "user.password",
            email: email.to_owned(),
            before: None,
            after: None,
        };
        steps.push(audit_step(audit, &actor, now));
        Ok(match self.batch(steps).await? {
            Batch::Done(_) => Ok(()),
            Batch::Refused(0) if token.is_some() => Err(Refusal::Token),
            Batch::Refused(_) => Err(Refusal::NoOne),
        })
    }

    async fn link_subject(
        &self,
        id: &str,
        subject: &str,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let step = Step::must(sql::LINK_SUBJECT, vec![subject.into(), id.into()]);
        Ok(match self.batch(vec![step]).await? {
            Batch::Done(_) => Ok(()),
            Batch::Refused(_) => Err(Refusal::Taken),
        })
    }

    async fn login_failed(&self, id: &str) -> Result<u32, StoreError> {
        self.batch(vec![Step::new(sql::LOGIN_FAILED, vec![id.into()])])
            .await?;
        let failures = one(self, sql::USER_BY_ID, id)
            .await?
            .map_or(0, |u| u.failed_logins);
        Ok(failures)
    }

    async fn lock_user(&self, id: &str, until_ms: i64) -> Result<(), StoreError> {
        self.batch(vec![Step::new(
            sql::LOCK_USER,
            vec![until_ms.into(), id.into()],
        )])
        .await
        .map(drop)
    }

    async fn sign_in(&self, s: SessionRecord) -> Result<(), StoreError> {
        let steps = vec![
            Step::new(sql::DELETE_EXPIRED_SESSIONS, vec![s.created_ms.into()]),
            Step::new(
                sql::LOGIN_SUCCEEDED,
                vec![s.created_ms.into(), s.user_id.as_str().into()],
            ),
            Step::new(
                sql::INSERT_SESSION,
                vec![
                    s.token_hash.into(),
                    s.user_id.into(),
                    s.method.into(),
                    s.created_ms.into(),
                    s.expires_ms.into(),
                    s.last_seen_ms.into(),
                    s.ip.into(),
                    s.user_agent.into(),
                ],
            ),
        ];
        self.batch(steps).await.map(drop)
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let rows = self.query(sql::SESSION, vec![token_hash.into()]).await?;
        rows.first().map(session).transpose()
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let params = vec![now_ms.into(), expires_ms.into(), token_hash.into()];
        self.batch(vec![Step::new(sql::TOUCH_SESSION, params)])
            .await
            .map(drop)
    }

    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.batch(vec![Step::new(
            sql::DELETE_SESSION,
            vec![token_hash.into()],
        )])
        .await
        .map(drop)
    }

    async fn add_token(&self, t: TokenRecord, actor: Actor) -> Result<(), StoreError> {
        let mut steps = Vec::new();
        if t.kind == TokenKind::Setup {
            steps.push(Step::new(sql::DELETE_SETUP_TOKENS, vec![]));
        }
        let audit = match t.kind {
            TokenKind::Setup => None,
            kind => Some(PersonAudit {
                action: if kind == TokenKind::Invite {
                    "user.invite"
                } else {
                    "user.reset"
                },
                email: t.email.clone(),
                before: None,
                after: Some(serde_json::json!({
                    "role": t.role, "projects": t.projects, "expires_ms": t.expires_ms,
                })),
            }),
        };
        let at = t.created_ms;
        steps.push(Step::new(
            sql::INSERT_TOKEN,
            vec![
                t.token_hash.into(),
                t.kind.as_str().into(),
                t.email.into(),
                t.user_id.into(),
                t.role.as_str().into(),
                roles_json(&t.projects)?.into(),
                t.created_by.into(),
                t.created_ms.into(),
                t.expires_ms.into(),
            ],
        ));
        if let Some(audit) = audit {
            steps.push(audit_step(audit, &actor, at));
        }
        self.batch(steps).await.map(drop)
    }

    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let rows = self.query(sql::TOKEN, vec![token_hash.into()]).await?;
        rows.first().map(token).transpose()
    }

    async fn invitations(&self, now_ms: i64) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = self
            .query(sql::PENDING_INVITATIONS, vec![now_ms.into()])
            .await?;
        rows.iter().map(token).collect()
    }

    async fn add_sso_login(&self, l: SsoLogin) -> Result<(), StoreError> {
        let steps = vec![
            Step::new(sql::DELETE_OLD_SSO_LOGINS, vec![l.created_ms.into()]),
            Step::new(
                sql::INSERT_SSO_LOGIN,
                vec![
                    l.state_hash.into(),
                    l.nonce.into(),
                    l.verifier.into(),
                    l.redirect_uri.into(),
                    l.created_ms.into(),
                    l.expires_ms.into(),
                ],
            ),
        ];
        self.batch(steps).await.map(drop)
    }

    async fn take_sso_login(
        &self,
        state_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SsoLogin>, StoreError> {
        let rows = self.query(sql::SSO_LOGIN, vec![state_hash.into()]).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let login = sso_login(row)?;
        let step = Step::must(sql::USE_SSO_LOGIN, vec![now_ms.into(), state_hash.into()]);
        Ok(match self.batch(vec![step]).await? {
            Batch::Done(_) => Some(login),
            Batch::Refused(_) => None,
        })
    }

    async fn withdraw_invitation(
        &self,
        token_hash: &str,
        email: &str,
        actor: Actor,
    ) -> Result<bool, StoreError> {
        let audit = PersonAudit {
            action: "user.invite.withdraw",
            email: email.to_owned(),
            before: None,
            after: None,
        };
        let steps = vec![
            Step::must(sql::DELETE_INVITATION, vec![token_hash.into()]),
            audit_step(audit, &actor, crate::now_ms()),
        ];
        Ok(matches!(self.batch(steps).await?, Batch::Done(_)))
    }
}

/// The first person `sql` selects with `key`.
async fn one<T: Rows>(
    store: &T,
    sql: &'static str,
    key: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let rows = store.query(sql, vec![key.into()]).await?;
    rows.first().map(user).transpose()
}

/// The audit step of `audit` by `actor` at `at_ms`, in the default project's log.
fn audit_step(audit: PersonAudit, actor: &Actor, at_ms: i64) -> Step {
    Step::new(
        sql::INSERT_PEOPLE_AUDIT,
        vec![
            DEFAULT_PROJECT.into(),
            at_ms.into(),
            actor.name.as_str().into(),
            audit.action.into(),
            audit.email.into(),
            audit.before.map(|v| v.to_string()).into(),
            audit.after.map(|v| v.to_string()).into(),
            actor.ip.clone().into(),
            actor.user_agent.clone().into(),
        ],
    )
}

/// A person as the audit log shows them (what the API answers: no hash).
pub fn public(user: &UserRecord) -> Result<Value, StoreError> {
    serde_json::to_value(user).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Project roles as stored: a JSON object.
fn roles_json(roles: &BTreeMap<String, Role>) -> Result<String, StoreError> {
    to_json(roles)
}

/// Project roles from their stored JSON.
fn roles(row: &Row, i: usize) -> Option<BTreeMap<String, Role>> {
    serde_json::from_str(&text(row, i)?).ok()
}

/// A person from a row of `user_columns!`.
fn user(r: &Row) -> Result<UserRecord, StoreError> {
    let read = || {
        Some(UserRecord {
            id: text(r, 0)?,
            email: text(r, 1)?,
            name: text(r, 2)?,
            role: Role::parse(&text(r, 3)?)?,
            projects: roles(r, 4)?,
            password_hash: text(r, 5),
            subject: text(r, 6),
            failed_logins: u32::try_from(int(r, 7)?).unwrap_or(u32::MAX),
            locked_until_ms: int(r, 8),
            disabled_ms: int(r, 9),
            created_ms: int(r, 10)?,
            last_login_ms: int(r, 11),
        })
    };
    read().ok_or_else(|| corrupt("user"))
}

/// The cells that store `u`.
fn user_cells(u: &UserRecord) -> Result<Vec<Cell>, StoreError> {
    Ok(vec![
        u.id.as_str().into(),
        u.email.as_str().into(),
        u.name.as_str().into(),
        u.role.as_str().into(),
        roles_json(&u.projects)?.into(),
        u.password_hash.clone().into(),
        u.subject.clone().into(),
        i64::from(u.failed_logins).into(),
        u.locked_until_ms.into(),
        u.disabled_ms.into(),
        u.created_ms.into(),
        u.last_login_ms.into(),
    ])
}

/// A session from a row of `sql::SESSION`.
fn session(r: &Row) -> Result<SessionRecord, StoreError> {
    let read = || {
        Some(SessionRecord {
            token_hash: text(r, 0)?,
            user_id: text(r, 1)?,
            method: text(r, 2)?,
            created_ms: int(r, 3)?,
            expires_ms: int(r, 4)?,
            last_seen_ms: int(r, 5)?,
            ip: text(r, 6),
            user_agent: text(r, 7),
        })
    };
    read().ok_or_else(|| corrupt("session"))
}

/// A sign-on attempt from a row of `sql::SSO_LOGIN`.
fn sso_login(r: &Row) -> Result<SsoLogin, StoreError> {
    let read = || {
        Some(SsoLogin {
            state_hash: text(r, 0)?,
            nonce: text(r, 1)?,
            verifier: text(r, 2)?,
            redirect_uri: text(r, 3)?,
            created_ms: int(r, 4)?,
            expires_ms: int(r, 5)?,
        })
    };
    read().ok_or_else(|| corrupt("sign-on attempt"))
}

/// A one-time token from a row of `token_columns!`.
fn token(r: &Row) -> Result<TokenRecord, StoreError> {
    let read = || {
        Some(TokenRecord {
            token_hash: text(r, 0)?,
            kind: TokenKind::parse(&text(r, 1)?)?,
            email: text(r, 2)?,
            user_id: text(r, 3),
            role: Role::parse(&text(r, 4)?)?,
            projects: roles(r, 5)?,
            created_by: text(r, 6)?,
            created_ms: int(r, 7)?,
            expires_ms: int(r, 8)?,
            used_ms: int(r, 9),
        })
    };
    read().ok_or_else(|| corrupt("token"))
}
