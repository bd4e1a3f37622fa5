//! The ID token's checks (OpenID Connect Core 1.0, 3.1.3.7): its signature by the provider's
//! published key with an allowed algorithm (never `none`, never a symmetric one), `iss` equal
//! to the issuer, `aud` holding the client id (and `azp` equal to it when there are several
//! audiences), `exp` in the future and `iat` present (a minute's leeway for clocks), and the
//! `nonce` of this sign-in.

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::Value;

use super::SsoError;
use super::discovery::{Metadata, Provider};

/// The algorithms accepted.
pub const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Seconds of clock difference tolerated.
pub const LEEWAY_S: u64 = 60;

/// What this server reads of an ID token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// The subject: the person's stable id at the provider.
    pub sub: String,
    /// The audiences.
    pub aud: Value,
    /// The authorized party.
    pub azp: Option<String>,
    /// The nonce of the sign-in.
    pub nonce: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// Whether the provider verified it (a boolean; some providers send "true").
    pub email_verified: Option<Value>,
    /// The person's name.
    pub name: Option<String>,
}

impl Claims {
    /// Whether the provider says the email is verified.
    pub fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }
}

/// The claims of `token` after every check, for the sign-in whose nonce is `nonce`.
pub async fn id_token(
    provider: &Provider,
    metadata: &Metadata,
    token: &str,
    nonce: &str,
) -> Result<Claims, SsoError> {
    let bad = |why: String| SsoError::Token(why);
    let header = decode_header(token).map_err(|e| bad(format!("the header: {e}")))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(bad(format!(
            "the algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let jwk = provider.key(metadata, header.kid.as_deref()).await?;
    if let Some(alg) = jwk.common.key_algorithm {
        if format!("{alg:?}") != format!("{:?}", header.alg) {
            return Err(bad(format!(
                "the key is for {alg:?}, the token says {:?}",
                header.alg
            )));
        }
    }
    let key =
        jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| bad(format!("the key: {e}")))?;
    let client_id = &provider.settings.client_id;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[&metadata.issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_S;
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|e| bad(format!("{e}")))?
        .claims;
    let audiences = match &claims.aud {
        Value::Array(a) => a.len(),
        _ => 1,
    };
    if audiences > 1 && claims.azp.as_deref() != Some(client_id.as_str()) {
        return Err(bad("several audiences and azp is not this client".into()));
    }
    let matches = claims
        .nonce
        .as_deref()
        .is_some_and(|n| crate::keys::constant_time_eq(n.as_bytes(), nonce.as_bytes()));
    if !matches {
        return Err(bad("the nonce is not this sign-in's".into()));
    }
    Ok(claims)
}
