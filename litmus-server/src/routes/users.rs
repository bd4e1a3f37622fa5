//! People management (`/admin/users`, scope `users:write`, which instance admins hold): list
//! people and pending invitations, invite, withdraw an invitation, change a role or disable,
//! and make a password-reset link. Each handler parses its request and calls one function of
//! `crate::service::people`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::service::people::{self, Link};
use crate::store::Store;

/// The request's host and whether it came over TLS, for the links made.
fn origin<'a, S>(access: &Access<S>, headers: &'a HeaderMap) -> (Option<&'a str>, bool) {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let tls = super::over_tls(access, headers);
    (host, tls)
}

/// `GET /admin/users`: `{users, invitations}` (no password hashes, no tokens).
pub async fn list<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    access.authorize(&headers, None, Scope::UsersWrite).await?;
    let (users, invitations) = people::list(&access).await?;
    Ok(Json(json!({ "users": users, "invitations": invitations })))
}

/// `POST /admin/users/invitations` `{email, role, projects}`: 201 with the invitation and its
/// link (shown once); 409 `already_exists` when the email has an account.
pub async fn invite<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Link>), ApiError> {
    let who = access.authorize(&headers, None, Scope::UsersWrite).await?;
    let request = super::json(&body, "request")?;
    let (host, tls) = origin(&access, &headers);
    let link = people::invite(&access, &who, request, host, tls).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// `DELETE /admin/users/invitations/{id}`: 204; 404 when there is no such pending invitation.
pub async fn withdraw<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let who = access.authorize(&headers, None, Scope::UsersWrite).await?;
    people::withdraw(&access, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /admin/users/{id}` `{name, role, projects, disabled}`: 200 with the person; 409
/// `in_use` when it would leave no enabled admin.
pub async fn update<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = access.authorize(&headers, None, Scope::UsersWrite).await?;
    let patch = super::json(&body, "request")?;
    let user = people::update(&access, &who, &id, patch).await?;
    Ok(Json(json!({ "user": user })))
}

/// `POST /admin/users/{id}/reset`: 201 with a one-time password-reset link for the person.
pub async fn reset<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Link>), ApiError> {
    let who = access.authorize(&headers, None, Scope::UsersWrite).await?;
    let (host, tls) = origin(&access, &headers);
    let link = people::reset(&access, &who, &id, host, tls).await?;
    Ok((StatusCode::CREATED, Json(link)))
}
