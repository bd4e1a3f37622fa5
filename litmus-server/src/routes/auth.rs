//! Signing in and out (`/auth/...`): by email and password, with a one-time link (the first
//! admin's set-up, an invitation, a password reset), and the session's person. Each handler
//! parses its request and calls one function of `crate::service::people`; the session token
//! travels only in its cookie (`crate::people::session`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::Access;
use crate::error::ApiError;
use crate::people::client::Client;
use crate::people::session;
use crate::service::people::{self, SignedIn};
use crate::store::Store;

/// A JSON body of `T` (only `application/json`: another site's form cannot send one).
pub(crate) fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return Err(ApiError::bad_request("the body must be application/json"));
    }
    super::json(body, "request")
}

/// 200 with the person and the CSRF token, setting the session cookie.
fn signed_in<S>(access: &Access<S>, headers: &HeaderMap, signed: SignedIn) -> Response {
    let max_age = session::IDLE_MS / 1000;
    let cookie = session::set_cookie(
        session::COOKIE,
        &signed.token,
        max_age,
        super::over_tls(access, headers),
    );
    ([(header::SET_COOKIE, cookie)], Json(signed.me)).into_response()
}

/// A sign-in by `way` with the request's JSON body and client: the session's cookie and
/// person.
async fn sign_in_by<S, T, F>(
    access: &Access<S>,
    parts: &Parts,
    body: &[u8],
    way: F,
) -> Result<Response, ApiError>
where
    T: DeserializeOwned,
    F: AsyncFnOnce(T, Client) -> Result<SignedIn, ApiError>,
{
    let request = json_body(&parts.headers, body)?;
    let client = Client::of(parts, access.people().trust_proxy);
    let signed = way(request, client).await?;
    Ok(signed_in(access, &parts.headers, signed))
}

/// `POST /auth/login` `{email, password}`: 200 with `{user, csrf, expires_ms}` and the session
/// cookie; 401 `invalid_credentials`, 429 `locked` or `throttled` (with `Retry-After`).
pub async fn login<S: Store>(
    State(access): State<Access<S>>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    sign_in_by(&access, &parts, &body, async |r, c| {
        people::login(&access, r, &c).await
    })
    .await
}

/// `POST /auth/logout`: 204; the session ends and its cookie is cleared.
pub async fn logout<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session::presented(&headers) {
        people::logout(&access, token).await?;
    }
    let clear = session::set_cookie(session::COOKIE, "", 0, super::over_tls(&access, &headers));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// `GET /auth/session`: the signed-in person, their CSRF token and when the session ends; 401
/// without a live session.
pub async fn me<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Json<people::Me>, ApiError> {
    let token = session::presented(&headers).ok_or(ApiError::Unauthorized)?;
    Ok(Json(people::me(&access, token).await?))
}

/// `POST /auth/setup` `{token, email, name, password}`: makes the first admin with the set-up
/// link logged at start, and signs them in; 409 `already_exists` once there is one.
pub async fn setup<S: Store>(
    State(access): State<Access<S>>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    sign_in_by(&access, &parts, &body, async |r, c| {
        people::setup(&access, r, &c).await
    })
    .await
}

/// `POST /auth/token` `{token}`: what a link is for (`{kind, email, expires_ms}`); 422 at
/// `token` when it is unknown, used or expired.
pub async fn token<S: Store>(
    State(access): State<Access<S>>,
    parts: Parts,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Token {
        token: String,
    }
    let request: Token = json_body(&parts.headers, &body)?;
    let client = Client::of(&parts, access.people().trust_proxy);
    let record = people::token_info(&access, &request.token, &client).await?;
    Ok(Json(json!({
        "kind": record.kind,
        "email": record.email,
        "expires_ms": record.expires_ms,
    })))
}

/// `POST /auth/accept` `{token, name, password}`: joins by invitation, or sets a new password
/// by reset link, and signs in.
pub async fn accept<S: Store>(
    State(access): State<Access<S>>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    sign_in_by(&access, &parts, &body, async |r, c| {
        people::accept(&access, r, &c).await
    })
    .await
}
