//! Reading the server's answers: the error body of a non-2xx answer, `Retry-After`, and which
//! statuses are worth sending again.
//!
//! The server answers errors as `{"error": {"code": "...", "message": "..."}}`. The code of an
//! error answer is the body's `code` when it is a non-empty string; without one, 401 is
//! `unauthorized`, 403 `forbidden`, and any other status `http_error`.

use crate::time::Timestamp;

/// The longest `Retry-After` honoured: a longer one is read as an hour.
pub const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

/// How much of an error body is read.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A non-2xx answer, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// The HTTP status.
    pub status: u16,
    /// The stable error code (the server's, or one from the status).
    pub code: String,
    /// The server's message, when its body had one.
    pub message: Option<String>,
}

impl ErrorReply {
    /// Decodes the answer `status` with `body` (any bytes: a body that is not the server's
    /// error JSON leaves the code to the status).
    pub fn decode(status: u16, body: &[u8]) -> Self {
        let body = body.get(..MAX_ERROR_BODY_BYTES).unwrap_or(body);
        // As text: the one JSON reader instantiation the engine already has (smaller wasm).
        let error = std::str::from_utf8(body)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|mut v| v.get_mut("error").map(serde_json::Value::take));
        let code = error
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(serde_json::Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let message = error
            .as_ref()
            .and_then(|e| e.get("message"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let code = code.unwrap_or_else(|| {
            match status {
                401 => "unauthorized",
                403 => "forbidden",
                _ => "http_error",
            }
            .to_owned()
        });
        ErrorReply {
            status,
            code,
            message,
        }
    }

    /// Whether the key is at fault (401 or 403): retrying soon will not help.
    pub fn is_auth(&self) -> bool {
        is_auth(self.status)
    }

    /// The text of the error for `what` (e.g. `"GET https://x/sdk/config"`):
    /// `"GET ...: HTTP 503 unavailable: the store is down"`.
    pub fn describe(&self, what: &str) -> String {
        match &self.message {
            Some(m) => format!("{what}: HTTP {} {}: {m}", self.status, self.code),
            None => format!("{what}: HTTP {} {}", self.status, self.code),
        }
    }
}

/// 401 and 403: the key is missing, wrong or lacks the scope.
pub fn is_auth(status: u16) -> bool {
    status == 401 || status == 403
}

/// Whether a request answered `status` may succeed if sent again unchanged: 408, 429 and 5xx.
pub fn is_retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// A `Retry-After` header in milliseconds from `now`: delta-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`, and the obsolete RFC 850 and asctime forms, as RFC 9110
/// section 10.2.3 and 5.6.7 require recipients to read). A date in the past is 0; anything
/// over an hour is an hour; a value that is neither form is None.
pub fn retry_after_ms(value: &str, now: Timestamp) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = value.parse().unwrap_or(u64::MAX);
        return Some(seconds.saturating_mul(1000).min(MAX_RETRY_AFTER_MS));
    }
    let at = parse_http_date(value)?;
    let delta = at.unix_millis().saturating_sub(now.unix_millis());
    Some(u64::try_from(delta).unwrap_or(0).min(MAX_RETRY_AFTER_MS))
}

/// Parses an HTTP date in any of its three forms (IMF-fixdate, RFC 850, asctime), in GMT.
pub fn parse_http_date(value: &str) -> Option<Timestamp> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [_, day, month, year, time, "GMT"] => (*day, *month, year_of(year)?, *time),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [_, date, time, "GMT"] => {
            let mut d = date.split('-');
            let (day, month, yy) = (d.next()?, d.next()?, d.next()?);
            if d.next().is_some() || yy.len() != 2 {
                return None;
            }
            let yy = year_of(yy)?;
            // Two-digit years are read as 1970 to 2069.
            (
                day,
                month,
                if yy < 70 { 2000 + yy } else { 1900 + yy },
                *time,
            )
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_, month, day, time, year] => (*day, *month, year_of(year)?, *time),
        _ => return None,
    };
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    if day.is_empty() || day.len() > 2 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let text = format!("{year:04}-{month:02}-{:0>2}T{time}Z", day);
    if time.len() != 8 {
        return None;
    }
    Timestamp::parse_rfc3339(&text)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn year_of(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_the_body_or_the_status() {
        let r = ErrorReply::decode(
            503,
            br#"{"error":{"code":"unavailable","message":"store down"}}"#,
        );
        assert_eq!(r.code, "unavailable");
        assert_eq!(
            r.describe("POST /events"),
            "POST /events: HTTP 503 unavailable: store down"
        );
        assert_eq!(ErrorReply::decode(401, b"nope").code, "unauthorized");
        assert_eq!(
            ErrorReply::decode(403, br#"{"error":{"code":""}}"#).code,
            "forbidden"
        );
        assert_eq!(ErrorReply::decode(404, b"").code, "http_error");
        let r = ErrorReply::decode(401, br#"{"error":{"code":"invalid_key","message":"m"}}"#);
        assert_eq!(r.code, "invalid_key");
        assert!(r.is_auth());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = Timestamp::parse_rfc3339("1994-11-06T08:49:00Z")
            .unwrap_or(Timestamp::from_unix_millis(0));
        assert_eq!(retry_after_ms("120", now), Some(120_000));
        assert_eq!(
            retry_after_ms(" 99999999999999999999 ", now),
            Some(MAX_RETRY_AFTER_MS)
        );
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(37_000)
        );
        assert_eq!(
            retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", now),
            Some(37_000)
        );
        assert_eq!(
            retry_after_ms("Sun Nov  6 08:49:37 1994", now),
            Some(37_000)
        );
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_ms("-1", now), None);
        assert_eq!(retry_after_ms("1.5", now), None);
        assert_eq!(retry_after_ms("soon", now), None);
        assert_eq!(retry_after_ms("Sun, 06 Foo 1994 08:49:37 GMT", now), None);
    }

    #[test]
    fn retryable_statuses() {
        assert!(is_retryable(408) && is_retryable(429) && is_retryable(500) && is_retryable(503));
        assert!(!is_retryable(400) && !is_retryable(401) && !is_retryable(413));
    }
}
