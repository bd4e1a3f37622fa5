//! The provider: its metadata from `{issuer}/.well-known/openid-configuration` (its `issuer`
//! must be exactly the configured one, Discovery 1.0 section 4.3) and its signing keys from
//! `jwks_uri`. Both are cached: the metadata for a day, the keys for an hour, and the keys
//! are read again (at most once a minute) when a token names a key id not among them, so a
//! provider's key rotation is followed.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

use super::{OidcSettings, SsoError, http};

/// How long the metadata is kept.
const METADATA_FOR: Duration = Duration::from_secs(24 * 3600);

/// How long the keys are kept.
const KEYS_FOR: Duration = Duration::from_secs(3600);

/// How often an unknown key id may make the keys be read again.
const KEYS_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// What this server uses of the provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The issuer (equal to the configured one).
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// Where the signing keys are.
    pub jwks_uri: String,
}

/// A provider with its cached metadata and keys.
pub struct Provider {
    /// How it is set up.
    pub settings: OidcSettings,
    client: reqwest::Client,
    metadata: Mutex<Option<(Metadata, Instant)>>,
    keys: Mutex<Keys>,
}

/// The cached keys: the set and when it was read, and when an unknown key id last made them be
/// read again.
#[derive(Default)]
struct Keys {
    set: Option<(JwkSet, Instant)>,
    refreshed_for_unknown: Option<Instant>,
}

impl Provider {
    /// The provider of `settings` (checked).
    pub fn new(settings: OidcSettings) -> Result<Self, String> {
        settings.check()?;
        Ok(Provider {
            settings,
            client: http::client()?,
            metadata: Mutex::new(None),
            keys: Mutex::new(Keys::default()),
        })
    }

    /// The HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The provider's metadata (read when not cached).
    pub async fn metadata(&self) -> Result<Metadata, SsoError> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref() {
            if at.elapsed() < METADATA_FOR {
                return Ok(m.clone());
            }
        }
        let issuer = self.settings.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let doc = http::get_json(&self.client, &url).await?;
        let field = |name: &str| {
            doc.get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| SsoError::Provider(format!("the discovery document has no {name}")))
        };
        let metadata = Metadata {
            issuer: field("issuer")?,
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: field("jwks_uri")?,
        };
        if metadata.issuer != self.settings.issuer {
            return Err(SsoError::Provider(format!(
                "the discovery document names the issuer {:?}, not {:?}",
                metadata.issuer, self.settings.issuer
            )));
        }
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// The provider's key with id `kid` (or its only key, for a token without a `kid`).
    pub async fn key(&self, metadata: &Metadata, kid: Option<&str>) -> Result<Jwk, SsoError> {
        let mut cached = self.keys.lock().await;
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let unknown = || SsoError::Token(format!("no key {kid:?} among the provider's"));
        if let Some((set, at)) = cached.set.as_ref() {
            if at.elapsed() < KEYS_FOR {
                if let Some(key) = find(set) {
                    return Ok(key);
                }
                // A key not seen: read the keys again, but not for every such token.
                if cached
                    .refreshed_for_unknown
                    .is_some_and(|t| t.elapsed() < KEYS_AT_MOST_EVERY)
                {
                    return Err(unknown());
                }
                cached.refreshed_for_unknown = Some(Instant::now());
            }
        }
        let json = http::get_json(&self.client, &metadata.jwks_uri).await?;
        let set: JwkSet = serde_json::from_value(json)
            .map_err(|e| SsoError::Provider(format!("the provider's keys: {e}")))?;
        let key = find(&set);
        cached.set = Some((set, Instant::now()));
        key.ok_or_else(unknown)
    }
}
