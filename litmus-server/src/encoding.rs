//! Content codings of the SDK config (`GET /sdk/config`): which one a request's
//! `Accept-Encoding` asks for (RFC 9110 §12.5.3) and the encoders, gzip (flate2) and br
//! (the pure-Rust `brotli` crate).
//!
//! Negotiation, written once for every route that compresses:
//!
//! - Each coding the server has (`br`, `gzip`, `identity`) gets its q-value from its own entry
//!   (`x-gzip` counts as `gzip`), else from `*`; `identity` is acceptable when neither names
//!   it, the others are not. A `q` of 0 refuses a coding; a malformed `q` drops its entry.
//! - The highest q wins; ties go to `br`, then `gzip`, then `identity` (the smaller body).
//! - No header, or nothing acceptable (even `identity;q=0`): `identity`. The config is never
//!   refused for its coding.

use std::io::Write;

use axum::http::HeaderValue;

/// A content coding the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// No coding: the body as it is.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
    /// Brotli (RFC 7932).
    Br,
}

impl Coding {
    /// The coding's token in `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Br => "br",
        }
    }

    /// The codings the server has, in the order ties are broken.
    pub const ALL: [Coding; 3] = [Coding::Br, Coding::Gzip, Coding::Identity];

    /// `body` in this coding (`Identity`: a copy).
    pub fn encode(self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Coding::Identity => Ok(body.to_vec()),
            Coding::Gzip => gzip(body),
            Coding::Br => br(body),
        }
    }
}

/// The coding to answer with, given every `Accept-Encoding` value of a request (see the
/// module's rules).
pub fn negotiate<'a>(accept_encoding: impl IntoIterator<Item = &'a HeaderValue>) -> Coding {
    let mut present = false;
    // The q-values given for br, gzip, identity and `*` (the highest when repeated).
    let mut given: [Option<u16>; 4] = [None; 4];
    for value in accept_encoding {
        present = true;
        let Ok(text) = value.to_str() else { continue };
        for element in text.split(',') {
            let mut parts = element.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let slot = if name.eq_ignore_ascii_case("br") {
                0
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                1
            } else if name.eq_ignore_ascii_case("identity") {
                2
            } else if name == "*" {
                3
            } else {
                continue;
            };
            let mut q = Some(1000);
            for param in parts {
                let (key, v) = param.split_once('=').unwrap_or((param, ""));
                if key.trim().eq_ignore_ascii_case("q") {
                    q = qvalue(v.trim());
                }
            }
            if let (Some(q), Some(seen)) = (q, given.get_mut(slot)) {
                *seen = Some(seen.map_or(q, |s| s.max(q)));
            }
        }
    }
    if !present {
        return Coding::Identity;
    }
    let star = given.get(3).copied().flatten();
    let q_of = |i: usize, default: u16| given.get(i).copied().flatten().or(star).unwrap_or(default);
    let candidates = [
        (Coding::Br, q_of(0, 0)),
        (Coding::Gzip, q_of(1, 0)),
        (Coding::Identity, q_of(2, 1)),
    ];
    // The first of the highest: ties keep the order of `candidates`.
    let mut best = (Coding::Identity, 0);
    for (coding, q) in candidates {
        if q > best.1 {
            best = (coding, q);
        }
    }
    best.0
}

/// A q-value in thousandths (RFC 9110 §12.4.2: `0`, `0.5`, `1.000`, at most three decimals),
/// or `None` when it is malformed.
fn qvalue(text: &str) -> Option<u16> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1].get(i).copied().unwrap_or(0);
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

/// gzip at the best compression (once per version, so the time is spent once).
pub fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::best(),
    );
    enc.write_all(body)?;
    enc.finish()
}

/// Brotli quality. On a 3 MB document (`litmus_benches::flag_document(10_000, 2_000)`) 11 took
/// 12 s for 28.5 KB, 9 took 0.1 s for 33.7 KB (gzip level 9: 18 ms, 91 KB): the first br
/// answer after a change must not keep its clients waiting.
const BR_QUALITY: i32 = 9;

/// Brotli in text mode at quality 9 (`BR_QUALITY`) with a 4 MiB window.
pub fn br(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BR_QUALITY,
        lgwin: 22,
        size_hint: body.len(),
        mode: brotli::enc::backward_references::BrotliEncoderMode::BROTLI_MODE_TEXT,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn pick(values: &[&str]) -> Coding {
        let values: Vec<HeaderValue> = values
            .iter()
            .map(|v| HeaderValue::from_str(v).unwrap())
            .collect();
        negotiate(&values)
    }

    #[test]
    fn the_highest_q_wins_and_ties_prefer_the_smaller_body() {
        assert_eq!(pick(&[]), Coding::Identity);
        assert_eq!(pick(&["gzip"]), Coding::Gzip);
        assert_eq!(pick(&["gzip, deflate, br"]), Coding::Br);
        assert_eq!(
            pick(&["gzip", "br"]),
            Coding::Br,
            "every header line counts"
        );
        assert_eq!(pick(&["br;q=0.5, gzip"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.4"]), Coding::Br);
        assert_eq!(pick(&["gzip;q=0.9, identity"]), Coding::Identity);
        assert_eq!(pick(&["GZIP;Q=1.0"]), Coding::Gzip, "case-insensitive");
        assert_eq!(pick(&["x-gzip"]), Coding::Gzip);
        assert_eq!(pick(&["*"]), Coding::Br);
        assert_eq!(pick(&["*;q=0.5, identity"]), Coding::Identity);
        assert_eq!(
            pick(&["deflate, zstd"]),
            Coding::Identity,
            "unknown codings"
        );
        assert_eq!(pick(&[""]), Coding::Identity);
    }

    #[test]
    fn zero_refuses_a_coding() {
        assert_eq!(pick(&["br;q=0, gzip"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0.000, gzip;q=0"]), Coding::Identity);
        assert_eq!(pick(&["*;q=0, gzip"]), Coding::Gzip);
        assert_eq!(
            pick(&["*, br;q=0"]),
            Coding::Gzip,
            "a coding's own entry over *"
        );
        assert_eq!(
            pick(&["identity;q=0, gzip;q=0"]),
            Coding::Identity,
            "never refused"
        );
        assert_eq!(pick(&["identity;q=0, br;q=0.1"]), Coding::Br);
        assert_eq!(pick(&["*;q=0"]), Coding::Identity);
    }

    #[test]
    fn malformed_q_values_drop_their_entry() {
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0.001"), Some(1));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("0.0001"), None);
        assert_eq!(qvalue("2"), None);
        assert_eq!(qvalue("-1"), None);
        assert_eq!(qvalue("0.x"), None);
        assert_eq!(pick(&["br;q=abc, gzip;q=0.2"]), Coding::Gzip);
    }

    #[test]
    fn the_encoders_round_trip() {
        let body = br#"{"schema_version":1,"experiments":[]}"#.repeat(50);
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gzip(&body).unwrap()[..]),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br(&body).unwrap()[..], &mut out).unwrap();
        assert_eq!(out, body);
    }
}
