//! Protection against cross-site request forgery for people signed in by cookie. A request
//! that changes something (any method but GET, HEAD and OPTIONS), carries the session cookie and
//! no `Authorization` header must:
//! - carry the session's CSRF token in `X-CSRF-Token` (a token derived from the session token,
//!   which the dashboard reads from `GET /auth/session`; another site's page can read neither);
//! - not be marked cross-site by the browser (`Sec-Fetch-Site: cross-site`).
//!
//! Requests with a key (`Authorization: Bearer`) carry no ambient credential and pass. The
//! sign-in routes ([`SIGN_IN_ROUTES`]) take only JSON bodies, which another site cannot send
//! without a CORS preflight this server never grants, so they need no token.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::session;
use crate::error::ApiError;
use crate::keys;

/// The sign-in routes: not authenticated by the cookie (a stale cookie must not stop a
/// sign-in), and JSON-only, so another site cannot post to them.
pub const SIGN_IN_ROUTES: [&str; 4] = ["/auth/login", "/auth/setup", "/auth/token", "/auth/accept"];

/// The header that carries the CSRF token.
pub const HEADER: &str = "x-csrf-token";

/// The CSRF token of the session whose token is `session_token`.
pub fn token(session_token: &str) -> String {
    keys::hash(&format!("litmus-csrf\u{1f}{session_token}"))
}

/// Whether a request may go on (see the module's rules).
pub fn check(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || headers.contains_key(header::AUTHORIZATION)
    {
        return Ok(());
    }
    let Some(session_token) = session::presented(headers) else {
        return Ok(());
    };
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    let presented = headers.get(HEADER).and_then(|v| v.to_str().ok());
    let matches = presented.is_some_and(|p| {
        keys::constant_time_eq(p.trim().as_bytes(), token(session_token).as_bytes())
    });
    if matches && !cross_site {
        Ok(())
    } else {
        Err(ApiError::CsrfFailed)
    }
}

/// Whether a request comes from a page of another origin: its `Origin` names another host
/// than its `Host` (a WebSocket handshake, which no CSRF token accompanies, is checked so).
pub fn cross_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => {
            let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            !authority.eq_ignore_ascii_case(host)
        }
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The middleware that answers 403 `csrf_failed` to a request [`check`] refuses.
pub async fn layer(request: Request, next: Next) -> Response {
    if SIGN_IN_ROUTES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    match check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_session(csrf: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("litmus_session=abc"),
        );
        if let Some(t) = csrf {
            h.insert(HEADER, HeaderValue::from_str(t).expect("header"));
        }
        h
    }

    #[test]
    fn cookie_writes_need_the_token_and_a_same_site_request() {
        let good = token("abc");
        assert!(check(&Method::GET, &with_session(None)).is_ok());
        assert!(check(&Method::POST, &with_session(None)).is_err());
        assert!(check(&Method::POST, &with_session(Some("nope"))).is_err());
        assert!(check(&Method::PUT, &with_session(Some(&token("other")))).is_err());
        assert!(check(&Method::DELETE, &with_session(Some(&good))).is_ok());
        let mut cross = with_session(Some(&good));
        cross.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(check(&Method::POST, &cross).is_err());
        // A key's request, or one without a session, needs no token.
        let mut keyed = with_session(None);
        keyed.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
        assert!(check(&Method::POST, &keyed).is_ok());
        assert!(check(&Method::POST, &HeaderMap::new()).is_ok());
    }

    #[test]
    fn an_origin_other_than_the_host_is_cross_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("litmus.example.com"));
        assert!(!cross_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://litmus.example.com"),
        );
        assert!(!cross_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_origin(&h));
    }
}
