//! The outbound HTTP of single sign-on: a client with a timeout, no redirects followed, and a
//! cap on what an answer may hold; JSON in, form-encoded bodies out.

use std::time::Duration;

use serde_json::Value;

use super::SsoError;

/// How long a request to the provider may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes read of an answer.
pub const MAX_BODY: usize = 1 << 20;

/// A client for the provider.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("the HTTP client: {e}"))
}

/// `s` percent-encoded for a query string or a form body (RFC 3986 unreserved characters
/// kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pairs` as `a=1&b=2`, encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The JSON of an answer read whole (up to [`MAX_BODY`]), with its status.
async fn json_of(response: reqwest::Response) -> Result<(u16, Value), SsoError> {
    let status = response.status().as_u16();
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SsoError::Provider(format!("reading the answer: {e}")))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(SsoError::Provider("the answer is over 1 MiB".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let json = serde_json::from_slice(&body)
        .map_err(|e| SsoError::Provider(format!("the answer ({status}) is not JSON: {e}")))?;
    Ok((status, json))
}

/// GETs `url`'s JSON (a 2xx answer).
pub async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, SsoError> {
    let response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| SsoError::Provider(format!("GET {url}: {e}")))?;
    match json_of(response).await? {
        (200..=299, json) => Ok(json),
        (status, json) => Err(SsoError::Provider(format!("GET {url}: {status} {json}"))),
    }
}

/// POSTs a form to `url` with HTTP Basic authentication (RFC 6749 2.3.1: the id and secret
/// form-encoded first), answering the status and JSON.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
    body: String,
) -> Result<(u16, Value), SsoError> {
    use base64::Engine as _;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        encode(user),
        encode(password)
    ));
    let response = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("authorization", format!("Basic {credentials}"))
        .body(body)
        .send()
        .await
        .map_err(|e| SsoError::Provider(format!("POST {url}: {e}")))?;
    json_of(response).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_percent_encoded() {
        assert_eq!(encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
        assert_eq!(form(&[("x", "1 2"), ("y", "=")]), "x=1%202&y=%3D");
    }
}
