//! The server's one error type: every failure becomes a JSON body
//! `{"error": {"code", "message", "path", "problems"}}` with a stable code and an HTTP status.
//!
//! The server's own codes are [`ApiError::CODES`] (listed in `docs/errors.md`, "Server"); input
//! that core rejects is answered with core's code ([`litmus_core::Error::CODES`]).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use litmus_core::events::BatchError;
use serde_json::json;

use crate::store::StoreError;

/// An error answered to a client.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `bad_request`: a request that cannot be read (a body that is not JSON, a gzip body
    /// that cannot be inflated, a malformed key request).
    #[error("{0}")]
    BadRequest(String),
    /// 401 `unauthorized`: no key, or an unknown or revoked one.
    #[error("a valid key is required: Authorization: Bearer <key>")]
    Unauthorized,
    /// 403 `forbidden`: the key lacks the scope named.
    #[error("this key lacks the scope {0}")]
    Forbidden(&'static str),
    /// 403 `wrong_project`: the key belongs to another project than the request names (the
    /// key's project).
    #[error("this key belongs to another project ({0:?}) than the request names")]
    WrongProject(String),
    /// 401 `invalid_credentials`: the email or the password is wrong (the same answer for an
    /// unknown email, so sign-in tells nobody who has an account).
    #[error("the email or the password is wrong")]
    InvalidCredentials,
    /// 403 `csrf_failed`: a request that changes something, signed in by the session cookie,
    /// without the session's CSRF token in `X-CSRF-Token` (or sent from another site).
    #[error("this request needs the session's CSRF token in the X-CSRF-Token header")]
    CsrfFailed,
    /// 429 `locked` with `Retry-After`: too many failed sign-ins to this account; it opens
    /// again after the time given.
    #[error("too many failed sign-ins: this account is locked for {0} more seconds")]
    Locked(u32),
    /// 429 `throttled` with `Retry-After`: too many sign-in attempts from this address.
    #[error("too many sign-in attempts from this address: retry in {0} seconds")]
    Throttled(u32),
    /// 404 `not_found`: the thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409 `conflict`: the config changed while a change was being made (retry).
    #[error("the config changed while this change was being made; retry")]
    Conflict,
    /// 409 `already_exists`: something with the key given exists (an environment).
    #[error("{0}")]
    Exists(String),
    /// 409 `in_use`: what is to be deleted is still in use (the message says by what).
    #[error("{0}")]
    InUse(String),
    /// 409 `invalid_config`: the experiment named is invalid in the current config.
    #[error("experiment {0:?} is invalid in the current config; fix it first")]
    InvalidConfig(String),
    /// 409 `no_metric`: the experiment named declares no metric to replay policies on.
    #[error("experiment {0:?} declares no metric to replay policies on")]
    NoMetric(String),
    /// 413 `payload_too_large`: a body over the size limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415 `unsupported_encoding`: a `Content-Encoding` other than gzip.
    #[error("Content-Encoding {0:?} is not supported (gzip or none)")]
    UnsupportedEncoding(String),
    /// 429 `busy` with `Retry-After: 1`: too many event batches are being stored at once.
    #[error("too many batches are being stored: retry later")]
    Busy,
    /// 503 `store_unavailable`: the store failed (with `Retry-After` when given).
    #[error("{message}")]
    StoreUnavailable {
        /// What failed.
        message: String,
        /// Seconds the client should wait before retrying, if it should.
        retry_after: Option<u32>,
    },
    /// 503 `cache_unavailable`: the cache (Redis) failed.
    #[error("{0}")]
    CacheUnavailable(String),
    /// 500 `internal`: a bug.
    #[error("{0}")]
    Internal(String),
    /// Input core rejects: 422 with core's code, field path and every problem (409 for
    /// `invalid_transition`, a change the lifecycle rules forbid).
    #[error("{0}")]
    Invalid(litmus_core::Error),
    /// A batch of events that cannot be read: 400 with core's code, 413 `too_many_events`.
    #[error("{0}")]
    Batch(BatchError),
    /// A computation core refused on stored data: 500 with core's code.
    #[error("{0}")]
    Computation(litmus_core::Error),
}

impl ApiError {
    /// The server's own codes (the others are core's, [`litmus_core::Error::CODES`] and
    /// [`BatchError::CODES`]), for documentation and tests.
    pub const CODES: &'static [&'static str] = &[
        "bad_request",
        "unauthorized",
        "forbidden",
        "wrong_project",
        "invalid_credentials",
        "csrf_failed",
        "locked",
        "throttled",
        "not_found",
        "conflict",
        "already_exists",
        "in_use",
        "invalid_config",
        "no_metric",
        "payload_too_large",
        "unsupported_encoding",
        "busy",
        "store_unavailable",
        "cache_unavailable",
        "internal",
    ];

    /// 404 for a named thing.
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }

    /// 400 for a request that cannot be read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    /// 500 for a bug.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::WrongProject(_) => "wrong_project",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::CsrfFailed => "csrf_failed",
            ApiError::Locked(_) => "locked",
            ApiError::Throttled(_) => "throttled",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict => "conflict",
            ApiError::Exists(_) => "already_exists",
            ApiError::InUse(_) => "in_use",
            ApiError::InvalidConfig(_) => "invalid_config",
            ApiError::NoMetric(_) => "no_metric",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedEncoding(_) => "unsupported_encoding",
            ApiError::Busy => "busy",
            ApiError::StoreUnavailable { .. } => "store_unavailable",
            ApiError::CacheUnavailable(_) => "cache_unavailable",
            ApiError::Internal(_) => "internal",
            ApiError::Invalid(e) | ApiError::Computation(e) => e.code(),
            ApiError::Batch(e) => e.code(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::WrongProject(_) | ApiError::CsrfFailed => {
                StatusCode::FORBIDDEN
            }
            ApiError::Locked(_) | ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict
            | ApiError::Exists(_)
            | ApiError::InUse(_)
            | ApiError::InvalidConfig(_)
            | ApiError::NoMetric(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Busy => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StoreUnavailable { .. } | ApiError::CacheUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) | ApiError::Computation(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Invalid(litmus_core::Error::InvalidTransition { .. }) => StatusCode::CONFLICT,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Batch(BatchError::Invalid(_)) => StatusCode::BAD_REQUEST,
            ApiError::Batch(_) => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The message.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The core error behind it, when there is one (for its path and problems).
    fn core(&self) -> Option<&litmus_core::Error> {
        match self {
            ApiError::Invalid(e) | ApiError::Computation(e) => Some(e),
            ApiError::Batch(BatchError::Invalid(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<litmus_core::Error> for ApiError {
    /// A config that core rejects: 422 with core's code and field path, and every problem
    /// when there are several.
    fn from(e: litmus_core::Error) -> Self {
        ApiError::Invalid(e)
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        ApiError::Batch(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::Conflict,
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::StoreUnavailable {
                    message: other.to_string(),
                    retry_after: None,
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let core = self.core();
        let problems: Vec<_> = match core {
            Some(litmus_core::Error::Multiple { errors }) => errors
                .iter()
                .map(|p| json!({"code": p.code(), "message": p.to_string(), "path": p.path().map(|x| x.as_str())}))
                .collect(),
            _ => Vec::new(),
        };
        let body = json!({"error": {
            "code": self.code(),
            "message": self.to_string(),
            "path": core.and_then(|e| e.path()).map(|p| p.as_str()),
            "problems": problems,
        }});
        let retry_after = match &self {
            ApiError::Busy => Some(1),
            ApiError::Locked(s) | ApiError::Throttled(s) => Some(*s),
            ApiError::StoreUnavailable { retry_after, .. } => *retry_after,
            _ => None,
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every variant (the match below fails to compile when a variant is added
    /// without being listed here).
    fn every_variant() -> Vec<ApiError> {
        let core = litmus_core::Error::MissingField {
            path: litmus_core::FieldPath::root().field("key"),
        };
        let all = vec![
            ApiError::BadRequest(String::new()),
            ApiError::Unauthorized,
            ApiError::Forbidden("admin:read"),
            ApiError::WrongProject(String::new()),
            ApiError::InvalidCredentials,
            ApiError::CsrfFailed,
            ApiError::Locked(1),
            ApiError::Throttled(1),
            ApiError::NotFound(String::new()),
            ApiError::Conflict,
            ApiError::Exists(String::new()),
            ApiError::InUse(String::new()),
            ApiError::InvalidConfig(String::new()),
            ApiError::NoMetric(String::new()),
            ApiError::PayloadTooLarge(String::new()),
            ApiError::UnsupportedEncoding(String::new()),
            ApiError::Busy,
            ApiError::StoreUnavailable {
                message: String::new(),
                retry_after: None,
            },
            ApiError::CacheUnavailable(String::new()),
            ApiError::Internal(String::new()),
            ApiError::Invalid(core.clone()),
            ApiError::Batch(BatchError::TooManyEvents { count: 1 }),
            ApiError::Computation(core),
        ];
        for e in &all {
            match e {
                ApiError::BadRequest(_)
                | ApiError::Unauthorized
                | ApiError::Forbidden(_)
                | ApiError::WrongProject(_)
                | ApiError::InvalidCredentials
                | ApiError::CsrfFailed
                | ApiError::Locked(_)
                | ApiError::Throttled(_)
                | ApiError::NotFound(_)
                | ApiError::Conflict
                | ApiError::Exists(_)
                | ApiError::InUse(_)
                | ApiError::InvalidConfig(_)
                | ApiError::NoMetric(_)
                | ApiError::PayloadTooLarge(_)
                | ApiError::UnsupportedEncoding(_)
                | ApiError::Busy
                | ApiError::StoreUnavailable { .. }
                | ApiError::CacheUnavailable(_)
                | ApiError::Internal(_)
                | ApiError::Invalid(_)
                | ApiError::Batch(_)
                | ApiError::Computation(_) => {}
            }
        }
        all
    }

    #[test]
    fn codes_are_unique_listed_and_snake_case() {
        let mut codes = ApiError::CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ApiError::CODES.len());
        for code in ApiError::CODES {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!(
                !litmus_core::Error::CODES.contains(code),
                "{code} is core's"
            );
        }
        let mut own = std::collections::BTreeSet::new();
        for e in every_variant() {
            let code = e.code();
            let listed = ApiError::CODES.contains(&code)
                || litmus_core::Error::CODES.contains(&code)
                || BatchError::CODES.contains(&code);
            assert!(listed, "{code} is in no list");
            assert!(e.status().is_client_error() || e.status().is_server_error());
            own.insert(code);
        }
        for code in ApiError::CODES {
            assert!(own.contains(code), "no variant answers {code}");
        }
    }
}
