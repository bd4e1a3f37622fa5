//! Single sign-on's routes (`crate::service::sso`): whether it is on, the start (a redirect to
//! the provider with this browser's state cookie), and the callback (a session, then the
//! dashboard; or the dashboard with `#sso-error=<code>`).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::Access;
use crate::error::ApiError;
use crate::oidc::SsoError;
use crate::people::client::Client;
use crate::people::session;
use crate::service::people::base_url;
use crate::service::sso::{self, Callback, STATE_COOKIE};
use crate::store::Store;

/// This server's callback URL, as the provider is told it.
fn redirect_uri<S>(access: &Access<S>, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let base = base_url(access.people(), host, super::over_tls(access, headers));
    format!("{base}/auth/oidc/callback")
}

/// A 302 to `location`, setting `cookies`.
fn redirect(location: &str, cookies: Vec<axum::http::HeaderValue>) -> Response {
    let mut response =
        (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response();
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The dashboard with the failure's code for it to explain; the detail goes to the log.
fn failed(e: &SsoError, clear: axum::http::HeaderValue) -> Response {
    tracing::warn!(error = %e, "single sign-on failed");
    redirect(&format!("/dashboard/#sso-error={}", e.code()), vec![clear])
}

/// `GET /auth/sso`: `{enabled, name}`.
pub async fn info<S: Store>(State(access): State<Access<S>>) -> Json<Value> {
    Json(sso::info(&access))
}

/// `GET /auth/oidc/start`: 302 to the provider (404 when single sign-on is off).
pub async fn start<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if access.sso().is_none() {
        return Err(ApiError::not_found("single sign-on is not set up"));
    }
    let secure = super::over_tls(&access, &headers);
    let clear = session::set_cookie(STATE_COOKIE, "", 0, secure);
    Ok(
        match sso::start(&access, &redirect_uri(&access, &headers)).await {
            Ok((location, state)) => {
                let max_age = sso::ATTEMPT_MS / 1000;
                redirect(
                    &location,
                    vec![session::set_cookie(STATE_COOKIE, &state, max_age, secure)],
                )
            }
            Err(e) => failed(&e, clear),
        },
    )
}

/// `GET /auth/oidc/callback?code&state`: a session and 302 to the dashboard, or 302 to
/// `/dashboard/#sso-error=<code>` (404 when single sign-on is off).
pub async fn callback<S: Store>(
    State(access): State<Access<S>>,
    parts: Parts,
    Query(query): Query<Callback>,
) -> Result<Response, ApiError> {
    if access.sso().is_none() {
        return Err(ApiError::not_found("single sign-on is not set up"));
    }
    let headers = &parts.headers;
    let secure = super::over_tls(&access, headers);
    let clear = session::set_cookie(STATE_COOKIE, "", 0, secure);
    let client = Client::of(&parts, access.people().trust_proxy);
    let cookie_state = session::cookie(headers, STATE_COOKIE);
    Ok(
        match sso::finish(&access, query, cookie_state, &client).await {
            Ok(signed) => {
                let max_age = session::IDLE_MS / 1000;
                let cookie = session::set_cookie(session::COOKIE, &signed.token, max_age, secure);
                redirect("/dashboard/", vec![cookie, clear])
            }
            Err(e) => failed(&e, clear),
        },
    )
}
