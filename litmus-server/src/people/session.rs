//! Session tokens and their cookie. A token is 32 random bytes (hex) given to the browser in an
//! `HttpOnly`, `SameSite=Lax` cookie (`Secure` when the dashboard is served over TLS); the store
//! keeps only its SHA-256, so a copy of the database opens no session. A new token is made at
//! every sign-in (a token set before sign-in is never adopted: no session fixation).

use axum::http::{HeaderMap, HeaderValue, header};

use crate::keys;

/// The session cookie's name.
pub const COOKIE: &str = "litmus_session";

/// How long a session lasts without being used.
pub const IDLE_MS: i64 = 12 * 60 * 60 * 1000;

/// How long a session lasts at most, however much it is used.
pub const ABSOLUTE_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// How often a session's last use is written (a request within this of the last write writes
/// nothing).
pub const TOUCH_MS: i64 = 60 * 1000;

/// A new session token.
pub fn new_token() -> std::io::Result<String> {
    keys::random_hex(32)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    keys::hash(token)
}

/// The session token a request's cookies carry, if any.
pub fn presented(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, COOKIE)
}

/// The value of cookie `name` in a request's `Cookie` headers, if any (and not empty).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value that gives the browser `token` for `max_age_s` seconds (0 clears it).
pub fn set_cookie(name: &str, token: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value =
        format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}");
    // Tokens are hex and names fixed: the value is always a valid header.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a request reached us over TLS: directly never (the server speaks HTTP), so through
/// a proxy that says so in `X-Forwarded-Proto` when the operator trusts it, or when the public
/// URL is https.
pub fn over_tls(headers: &HeaderMap, trust_proxy: bool, public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| u.starts_with("https://"))
        || (trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_made_and_cleared() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; litmus_session=abc"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(presented(&h), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        let set = set_cookie(COOKIE, "abc", 60, true);
        let set = set.to_str().unwrap_or_default();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.ends_with("Secure")
        );
        assert!(
            !set_cookie(COOKIE, "", 0, false)
                .to_str()
                .unwrap_or("Secure")
                .contains("Secure")
        );
        let token = new_token().expect("random");
        assert_eq!(token.len(), 64);
        assert_ne!(token_hash(&token), token);
    }

    #[test]
    fn tls_is_what_the_public_url_or_a_trusted_proxy_says() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_tls(&h, true, None));
        assert!(!over_tls(&h, false, None));
        assert!(over_tls(
            &HeaderMap::new(),
            false,
            Some("https://litmus.example.com")
        ));
        assert!(!over_tls(
            &HeaderMap::new(),
            false,
            Some("http://localhost:8080")
        ));
    }
}
