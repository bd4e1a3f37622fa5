//! The authorization code flow's steps that are not the ID token's checks: the one-time values
//! of a sign-in (state, nonce, PKCE verifier and its S256 challenge), the authorization URL,
//! and the code's exchange at the token endpoint (client authentication by HTTP Basic).

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::discovery::{Metadata, Provider};
use super::{SsoError, http};

/// The one-time values of one sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Binds the callback to this browser (also in its `litmus_oidc` cookie).
    pub state: String,
    /// Binds the ID token to this sign-in.
    pub nonce: String,
    /// The PKCE code verifier (43 characters of base64url).
    pub verifier: String,
}

impl Attempt {
    /// Fresh random values.
    pub fn new() -> std::io::Result<Self> {
        let bytes = |n| crate::keys::random_hex(n);
        let raw = bytes(32)?;
        let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(raw.as_bytes())
            .chars()
            .take(43)
            .collect();
        Ok(Attempt {
            state: bytes(16)?,
            nonce: bytes(16)?,
            verifier,
        })
    }

    /// The PKCE challenge: BASE64URL(SHA-256(verifier)).
    pub fn challenge(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

/// Where to send the browser to sign in.
pub fn authorization_url(
    provider: &Provider,
    metadata: &Metadata,
    redirect_uri: &str,
    attempt: &Attempt,
) -> String {
    let query = http::form(&[
        ("response_type", "code"),
        ("client_id", &provider.settings.client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid email profile"),
        ("state", &attempt.state),
        ("nonce", &attempt.nonce),
        ("code_challenge", &attempt.challenge()),
        ("code_challenge_method", "S256"),
    ]);
    let sep = if metadata.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{sep}{query}", metadata.authorization_endpoint)
}

/// Exchanges `code` for the ID token (the token endpoint's `id_token`).
pub async fn exchange(
    provider: &Provider,
    metadata: &Metadata,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<String, SsoError> {
    let body = http::form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let settings = &provider.settings;
    let (status, json) = http::post_form(
        provider.client(),
        &metadata.token_endpoint,
        &settings.client_id,
        &settings.client_secret,
        body,
    )
    .await?;
    if !(200..300).contains(&status) {
        let error = json.get("error").and_then(|e| e.as_str()).unwrap_or("?");
        return Err(SsoError::Refused(format!(
            "the token endpoint answered {status} {error}"
        )));
    }
    json.get("id_token")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| SsoError::Provider("the token answer has no id_token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s() {
        // RFC 7636 appendix B.
        let attempt = Attempt {
            state: String::new(),
            nonce: String::new(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        };
        assert_eq!(
            attempt.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let fresh = Attempt::new().expect("random");
        assert_eq!(fresh.verifier.len(), 43);
        assert_ne!(fresh.state, fresh.nonce);
    }
}
