//! The `Litmus-Signature` header's format.
//!
//! The header is a list of entries separated by commas; each entry is `name=value` (split at
//! its first `=`), with spaces and tabs around the entry ignored and empty entries skipped.
//! The names this version reads:
//!
//! - `t`: the unix time in seconds at which the delivery was signed: one or more ASCII digits
//!   (no sign) whose value fits a signed 64-bit integer. Exactly one.
//! - `v1`: an HMAC-SHA256 signature as 64 lowercase hex digits. At least one; several while a
//!   secret rotates (the server signs with the old and the new secret).
//!
//! Entries with any other name (`v0`, future schemes) are ignored. Everything else makes the
//! header malformed (`signature_malformed`); a header that is empty or only spaces and tabs is
//! missing (`signature_missing`).

use crate::Error;

/// Bytes in an HMAC-SHA256 signature.
pub const SIGNATURE_BYTES: usize = 32;

/// A parsed `Litmus-Signature` header: the signed timestamp (with its text, which is what was
/// signed) and the `v1` signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    timestamp: i64,
    timestamp_text: &'a str,
    signatures: Vec<[u8; SIGNATURE_BYTES]>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses a header value. Errors: `signature_missing` for an empty (or blank) header,
    /// `signature_malformed` for anything the format does not allow (the message says what).
    pub fn parse(header: &'a str) -> Result<Self, Error> {
        if trim(header).is_empty() {
            return Err(Error::SignatureMissing);
        }
        Self::read(header).map_err(|reason| Error::SignatureMalformed { reason })
    }

    fn read(header: &'a str) -> Result<Self, &'static str> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for entry in header.split(',').map(trim).filter(|e| !e.is_empty()) {
            let (name, value) = split_entry(entry).ok_or("an entry is not name=value")?;
            match name {
                "t" if timestamp.is_some() => return Err("more than one t entry"),
                "t" => {
                    let t = parse_timestamp(value).ok_or(
                        "t is not a unix time in seconds (ASCII digits, at most 2^63 - 1)",
                    )?;
                    timestamp = Some((t, value));
                }
                "v1" => signatures.push(
                    decode_hex(value).ok_or("a v1 signature is not 64 lowercase hex digits")?,
                ),
                _ => {} // another scheme: not ours to read
            }
        }
        let (timestamp, timestamp_text) = timestamp.ok_or("no t entry (the signed unix time)")?;
        if signatures.is_empty() {
            return Err("no v1 signature");
        }
        Ok(SignatureHeader {
            timestamp,
            timestamp_text,
            signatures,
        })
    }

    /// The signed unix time, in seconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The timestamp exactly as written in the header: the signed message starts with it.
    pub fn timestamp_text(&self) -> &'a str {
        self.timestamp_text
    }

    /// The `v1` signatures, in header order.
    pub fn signatures(&self) -> &[[u8; SIGNATURE_BYTES]] {
        &self.signatures
    }
}

/// Without HTTP's optional whitespace (spaces and tabs) on either side. (Byte-wise: the
/// module is small enough for the browser's analysis module.)
fn trim(s: &str) -> &str {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// `name=value` split at the first `=`.
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    let eq = entry.bytes().position(|b| b == b'=')?;
    Some((entry.get(..eq)?, entry.get(eq + 1..)?))
}

/// ASCII digits only (no sign, no spaces), fitting an `i64`.
fn parse_timestamp(text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0i64, |n, b| {
        let digit = b.is_ascii_digit().then(|| i64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// 64 lowercase hex digits as 32 bytes.
fn decode_hex(text: &str) -> Option<[u8; SIGNATURE_BYTES]> {
    if text.len() != 2 * SIGNATURE_BYTES {
        return None;
    }
    let mut digits = text.bytes().map(nibble);
    let mut out = [0u8; SIGNATURE_BYTES];
    for byte in &mut out {
        *byte = (digits.next()?? << 4) | digits.next()??;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Lowercase hex of `bytes`, appended to `out`.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        for n in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(n)).copied().unwrap_or(b'0'),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn code(header: &str) -> &'static str {
        SignatureHeader::parse(header).map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn reads_t_and_every_v1_ignoring_other_schemes_and_whitespace() {
        let text = format!(" t=12 ,\tv0=zz, v1={SIG} ,,v1={SIG},");
        let h = SignatureHeader::parse(&text).unwrap();
        assert_eq!(h.timestamp(), 12);
        assert_eq!(h.timestamp_text(), "12");
        assert_eq!(h.signatures().len(), 2);
        assert_eq!(h.signatures()[0][..2], [0x01, 0x23]);
        let mut hex = String::new();
        push_hex(&mut hex, &h.signatures()[0]);
        assert_eq!(hex, SIG);
    }

    #[test]
    fn missing_and_malformed() {
        assert_eq!(code(""), "signature_missing");
        assert_eq!(code(" \t "), "signature_missing");
        for bad in [
            format!("v1={SIG}"),
            "t=12".to_owned(),
            format!("t=,v1={SIG}"),
            format!("t=-1,v1={SIG}"),
            format!("t=+1,v1={SIG}"),
            format!("t=1.5,v1={SIG}"),
            format!("t=1 2,v1={SIG}"),
            format!("t=99999999999999999999,v1={SIG}"),
            format!("t=1,t=1,v1={SIG}"),
            format!("t=1,v1={}", &SIG[1..]),
            format!("t=1,v1={}", SIG.to_uppercase()),
            format!("t=1,v1={SIG}0"),
            format!("t=1,v1={}é", &SIG[2..]),
            format!("t=1,v1={SIG},garbage"),
            format!("t=1,v1={SIG},v1="),
        ] {
            assert_eq!(code(&bad), "signature_malformed", "{bad}");
        }
        assert_eq!(code(&format!("t=9223372036854775807,v1={SIG}")), "ok");
        assert_eq!(code(&format!("t=0001,v1={SIG},v2=x=y")), "ok");
    }
}
