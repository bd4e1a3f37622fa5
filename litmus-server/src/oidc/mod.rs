//! Single sign-on by OpenID Connect (Core 1.0, Discovery 1.0): the authorization code flow with
//! PKCE (RFC 7636, S256), against any standards-compliant provider named by its issuer URL.
//! - [`discovery`] reads the provider's metadata and keys (cached; the keys are read again
//!   when a token names a key not yet seen);
//! - [`flow`] builds the authorization request and its one-time values, exchanges the code;
//! - [`verify`] checks an ID token: signature by the provider's published key (RS256, RS384,
//!   RS512, PS256, PS384, PS512, ES256, ES384; never `none`), issuer, audience (and `azp`),
//!   expiry, issue time and the nonce of this sign-in.
//!
//! Who may sign in this way, and as whom, is `crate::service::sso`'s rule.

pub mod discovery;
pub mod flow;
pub mod http;
pub mod verify;

use crate::people::Role;

/// How single sign-on is set up (`LITMUS_OIDC_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer URL (`LITMUS_OIDC_ISSUER`), e.g. `https://accounts.google.com`:
    /// https, or http on a loopback address only.
    pub issuer: String,
    /// This server's client id at the provider (`LITMUS_OIDC_CLIENT_ID`).
    pub client_id: String,
    /// Its client secret (`LITMUS_OIDC_CLIENT_SECRET`), sent by HTTP Basic authentication.
    pub client_secret: String,
    /// The sign-in button's label (`LITMUS_OIDC_NAME`, "SSO" by default).
    pub name: String,
    /// The role of a person who signs in by SSO for the first time without an invitation
    /// (`LITMUS_OIDC_DEFAULT_ROLE`); none: only invited or existing people may sign in.
    pub default_role: Option<Role>,
    /// The email domains whose people may join that way (`LITMUS_OIDC_DOMAINS`, comma-
    /// separated; empty: any domain).
    pub domains: Vec<String>,
}

impl OidcSettings {
    /// Checks the issuer: an http(s) URL without query or fragment, https unless its host is a
    /// loopback address (a provider on this machine, as in tests).
    pub fn check(&self) -> Result<(), String> {
        let issuer = &self.issuer;
        let rest = if let Some(rest) = issuer.strip_prefix("https://") {
            rest
        } else if let Some(rest) = issuer.strip_prefix("http://") {
            let host = rest.split(['/', ':']).next().unwrap_or_default();
            let loopback = host == "localhost" || host.starts_with("127.");
            let ipv6_loopback = rest.starts_with("[::1]");
            if !(loopback || ipv6_loopback) {
                return Err(format!(
                    "LITMUS_OIDC_ISSUER {issuer:?} must be https (http only on a loopback address)"
                ));
            }
            rest
        } else {
            return Err(format!(
                "LITMUS_OIDC_ISSUER {issuer:?} is not an http(s) URL"
            ));
        };
        if rest.is_empty() || rest.contains(['?', '#']) {
            return Err(format!(
                "LITMUS_OIDC_ISSUER {issuer:?} is not an issuer URL"
            ));
        }
        if self.client_id.is_empty() || self.client_secret.is_empty() {
            return Err("LITMUS_OIDC_CLIENT_ID and LITMUS_OIDC_CLIENT_SECRET are required".into());
        }
        Ok(())
    }

    /// Whether `email` may join by SSO without an invitation (its domain is allowed).
    pub fn domain_allowed(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        self.domains.is_empty() || self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// Why single sign-on failed: a stable code the dashboard shows a sentence for
/// (`/dashboard/#sso-error=<code>`), and the detail for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    /// The provider cannot be reached or answered something unreadable.
    #[error("provider_error: {0}")]
    Provider(String),
    /// The provider said no (`error=` on the callback).
    #[error("provider_refused: {0}")]
    Refused(String),
    /// The callback's state is not this browser's sign-in.
    #[error("invalid_state")]
    State,
    /// The sign-in is unknown, used already, or older than ten minutes.
    #[error("expired")]
    Expired,
    /// The ID token failed a check (signature, issuer, audience, expiry, nonce).
    #[error("invalid_token: {0}")]
    Token(String),
    /// The provider has not verified the email address.
    #[error("email_unverified")]
    EmailUnverified,
    /// Nobody with this identity or email exists, and nobody invited them.
    #[error("not_invited")]
    NotInvited,
    /// The person is disabled.
    #[error("disabled")]
    Disabled,
}

impl SsoError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::Provider(_) => "provider_error",
            SsoError::Refused(_) => "provider_refused",
            SsoError::State => "invalid_state",
            SsoError::Expired => "expired",
            SsoError::Token(_) => "invalid_token",
            SsoError::EmailUnverified => "email_unverified",
            SsoError::NotInvited => "not_invited",
            SsoError::Disabled => "disabled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str) -> OidcSettings {
        OidcSettings {
            issuer: issuer.into(),
            client_id: "litmus".into(),
            client_secret: "s".into(),
            name: "SSO".into(),
            default_role: None,
            domains: vec!["example.com".into()],
        }
    }

    #[test]
    fn issuers_are_https_or_loopback() {
        assert!(settings("https://accounts.example.com").check().is_ok());
        assert!(settings("http://127.0.0.1:9000").check().is_ok());
        assert!(settings("http://localhost:9000/realms/x").check().is_ok());
        assert!(settings("http://[::1]:9000").check().is_ok());
        assert!(settings("http://accounts.example.com").check().is_err());
        assert!(settings("ftp://x").check().is_err());
        assert!(settings("https://x.example.com/?a=b").check().is_err());
    }

    #[test]
    fn domains_limit_who_joins_uninvited() {
        let s = settings("https://x");
        assert!(s.domain_allowed("a@EXAMPLE.com"));
        assert!(!s.domain_allowed("a@evil.com"));
    }
}
