//! Signing and verifying a delivery: HMAC-SHA256, keyed by the webhook's secret (its UTF-8
//! bytes, nothing decoded), of the header's timestamp text, a `.` and the raw body bytes.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::header::{SIGNATURE_BYTES, SignatureHeader, push_hex};
use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// How far (in seconds, either way) a signed timestamp may be from the receiver's clock by
/// default: 5 minutes.
pub const DEFAULT_TOLERANCE_S: i64 = 300;

/// The `Litmus-Signature` header value for a delivery: `t=<timestamp>,v1=<hex>`.
///
/// `timestamp` is the unix time in seconds (0 or later). Errors: `invalid_argument` for an
/// empty secret or a negative timestamp.
pub fn sign(secret: &str, body: &[u8], timestamp: i64) -> Result<String, Error> {
    sign_with(&[secret], body, timestamp)
}

/// The header value signed with each secret in turn, `t=<timestamp>,v1=<hex>,v1=<hex>...`:
/// what the server sends while a webhook's secret rotates, so receivers holding either
/// secret accept the delivery.
///
/// Errors: `invalid_argument` for no secret, an empty one, or a negative timestamp.
pub fn sign_with(secrets: &[&str], body: &[u8], timestamp: i64) -> Result<String, Error> {
    if secrets.is_empty() {
        return Err(Error::argument("secrets", "at least one secret is needed"));
    }
    if timestamp < 0 {
        return Err(Error::argument(
            "timestamp",
            "a unix time in seconds is 0 or more",
        ));
    }
    let t = format!("{timestamp}");
    let mut header = String::with_capacity(2 + t.len() + secrets.len() * (4 + 2 * SIGNATURE_BYTES));
    header.push_str("t=");
    header.push_str(&t);
    for secret in secrets {
        let tag = mac(secret, &t, body)?.finalize().into_bytes();
        header.push_str(",v1=");
        push_hex(&mut header, &tag);
    }
    Ok(header)
}

/// Verifies a delivery and returns its signed timestamp (unix seconds).
///
/// `header` is the `Litmus-Signature` value ("" when the request has none), `body` the raw
/// request body, exactly as received; `now` is the receiver's time in unix seconds and
/// `tolerance` how far (in seconds, either way) the signed time may be from it
/// ([`DEFAULT_TOLERANCE_S`]).
///
/// Errors, checked in this order: `invalid_argument` (an empty secret, a negative
/// tolerance), `signature_missing` (no header), `signature_malformed` (see
/// [`super::header`]), `signature_expired` (`|now - t| > tolerance`), `signature_mismatch` (no
/// `v1` signature matches; each is compared in constant time).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<i64, Error> {
    check_secret(secret)?;
    if tolerance < 0 {
        return Err(Error::argument(
            "tolerance",
            "a number of seconds is 0 or more",
        ));
    }
    let parsed = SignatureHeader::parse(header)?;
    let timestamp = parsed.timestamp();
    if timestamp.abs_diff(now) > tolerance.unsigned_abs() {
        return Err(Error::SignatureExpired {
            timestamp,
            now,
            tolerance,
        });
    }
    let expected = mac(secret, parsed.timestamp_text(), body)?;
    // Each candidate is compared in constant time (hmac's `verify_slice`); which one matched,
    // if any, is not secret.
    let matched = parsed
        .signatures()
        .iter()
        .any(|candidate| expected.clone().verify_slice(candidate).is_ok());
    if matched {
        Ok(timestamp)
    } else {
        Err(Error::SignatureMismatch)
    }
}

/// The HMAC of `<t>.<body>` under `secret`, ready to finalize or verify.
fn mac(secret: &str, t: &str, body: &[u8]) -> Result<HmacSha256, Error> {
    check_secret(secret)?;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .map_err(|_| Error::argument("secret", "HMAC refused the key"))?;
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

fn check_secret(secret: &str) -> Result<(), Error> {
    if secret.is_empty() {
        return Err(Error::argument("secret", "the webhook secret is empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2: the HMAC-SHA256 this module relies on.
    #[test]
    fn hmac_is_rfc_4231() {
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let mut hex = String::new();
        push_hex(&mut hex, &mac.finalize().into_bytes());
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn round_trip_rotation_and_errors() {
        let body = "{\"é\":1}".as_bytes();
        let h = sign("whsec_a", body, 100).unwrap();
        assert_eq!(verify("whsec_a", &h, body, 100, 0), Ok(100));
        assert_eq!(verify("whsec_a", &h, body, 400, 300), Ok(100));
        assert_eq!(
            verify("whsec_a", &h, body, 401, 300).unwrap_err().code(),
            "signature_expired"
        );
        assert_eq!(
            verify("whsec_b", &h, body, 100, 300),
            Err(Error::SignatureMismatch)
        );
        let both = sign_with(&["whsec_a", "whsec_b"], body, 100).unwrap();
        assert_eq!(both.matches(",v1=").count(), 2);
        assert_eq!(verify("whsec_b", &both, body, 100, 300), Ok(100));
        assert_eq!(verify("whsec_a", &both, body, 100, 300), Ok(100));
        for (result, code) in [
            (sign("", body, 1).map(|_| 0), "invalid_argument"),
            (sign("s", body, -1).map(|_| 0), "invalid_argument"),
            (sign_with(&[], body, 1).map(|_| 0), "invalid_argument"),
            (verify("", &h, body, 100, 300), "invalid_argument"),
            (verify("whsec_a", &h, body, 100, -1), "invalid_argument"),
            (verify("whsec_a", "", body, 100, 300), "signature_missing"),
        ] {
            assert_eq!(result.unwrap_err().code(), code);
        }
        // Extremes neither overflow nor panic.
        assert_eq!(
            verify("k", &h, body, 0, i64::MAX).unwrap_err().code(),
            "signature_mismatch"
        );
        assert_eq!(
            verify("k", &h, body, i64::MIN, i64::MAX)
                .unwrap_err()
                .code(),
            "signature_expired"
        );
        assert_eq!(
            verify("k", &h, body, i64::MIN, 0).unwrap_err().code(),
            "signature_expired"
        );
    }
}
