//! `GET /sdk/config` compressed: gzip and br when `Accept-Encoding` asks, each decoding to
//! exactly the identity body; every representation's ETag answers 304; q=0 refuses a coding;
//! unknown codings and small bodies get identity; `Vary: Accept-Encoding` always.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::io::Read;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// `GET /sdk/config` with these headers: status, headers, raw body.
async fn get(
    app: &Router,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let mut req =
        Request::get("/sdk/config").header(header::AUTHORIZATION, format!("Bearer {KEY}"));
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &b[..], &mut out).unwrap();
    out
}

/// An app whose config is several kilobytes (bodies under 1 KiB are never encoded).
async fn app_with_a_large_config(env: &Env<impl litmus_server::store::Store>) -> Router {
    let app = env.app().await;
    for i in 0..4 {
        let key = format!("exp-{i}");
        let mut e = experiment(&key, "running");
        e["variants"][1]["payload"] = json!({"copy": "Buy now and save ".repeat(40), "i": i});
        assert_eq!(put_experiment(&app, &key, e).await.status, StatusCode::OK);
    }
    app
}

fn etag(h: &HeaderMap) -> String {
    h[header::ETAG].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_br_decode_to_the_identity_body_with_their_own_etags() {
    let env = common::sqlite();
    let app = app_with_a_large_config(&env).await;
    let (status, h, identity) = get(&app, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(identity.len() > 2_000, "{}", identity.len());
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(h[header::VARY], "accept-encoding");
    assert_eq!(h[header::CONTENT_TYPE], "application/json");
    let tag = etag(&h);
    assert!(tag.starts_with("\"v4-") && tag.ends_with('"'), "{tag}");
    let open = &tag[..tag.len() - 1];

    let (status, h, gz) = get(&app, &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    assert_eq!(h[header::VARY], "accept-encoding");
    assert_eq!(h[header::CONTENT_TYPE], "application/json");
    assert_eq!(etag(&h), format!("{open}-gzip\""));
    assert_eq!(gunzip(&gz), identity);
    assert!(gz.len() < identity.len() / 2);

    let (status, h, br) = get(&app, &[(header::ACCEPT_ENCODING, "gzip, deflate, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_ENCODING], "br");
    assert_eq!(etag(&h), format!("{open}-br\""));
    assert_eq!(unbrotli(&br), identity);
    assert!(br.len() < identity.len() / 2);

    // The same bytes again: encoded once per version.
    let (_, _, again) = get(&app, &[(header::ACCEPT_ENCODING, "br")]).await;
    assert_eq!(again, br);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_representations_etag_answers_304_with_the_etag_of_the_asked_one() {
    let env = common::sqlite();
    let app = app_with_a_large_config(&env).await;
    let (_, h, _) = get(&app, &[]).await;
    let identity = etag(&h);
    let open = &identity[..identity.len() - 1];
    let tags = [
        identity.clone(),
        format!("{open}-gzip\""),
        format!("{open}-br\""),
    ];
    for given in tags
        .iter()
        .cloned()
        .chain([format!("W/{}", tags[1]), "*".to_owned()])
    {
        for (accept, want) in [
            ("", &tags[0]),
            ("gzip", &tags[1]),
            ("br;q=1, gzip;q=0.5", &tags[2]),
        ] {
            let mut headers = vec![(header::IF_NONE_MATCH, given.as_str())];
            if !accept.is_empty() {
                headers.push((header::ACCEPT_ENCODING, accept));
            }
            let (status, h, body) = get(&app, &headers).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED, "{given} {accept}");
            assert!(body.is_empty());
            assert_eq!(&etag(&h), want, "{given} {accept}");
            assert_eq!(h[header::VARY], "accept-encoding");
            assert!(h.get(header::CONTENT_ENCODING).is_none());
        }
    }
    // An older version's ETag: the body.
    let (status, _, _) = get(
        &app,
        &[(header::IF_NONE_MATCH, "\"v3-0000000000000000-gzip\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // After a change, none of them matches.
    assert_eq!(
        put_experiment(&app, "late", experiment("late", "draft"))
            .await
            .status,
        StatusCode::OK
    );
    for given in &tags {
        let (status, h, body) = get(
            &app,
            &[
                (header::IF_NONE_MATCH, given.as_str()),
                (header::ACCEPT_ENCODING, "gzip"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{given}");
        assert!(etag(&h).starts_with("\"v5-") && etag(&h).ends_with("-gzip\""));
        let (_, _, identity) = get(&app, &[]).await;
        assert_eq!(gunzip(&body), identity);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_unknown_codings_and_small_bodies_get_what_is_acceptable() {
    let env = common::sqlite();
    // The empty config is under 1 KiB: identity whatever is asked.
    let small = env.app().await;
    let (status, h, body) = get(&small, &[(header::ACCEPT_ENCODING, "br, gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(h[header::VARY], "accept-encoding");
    assert!(body.starts_with(b"{"));

    let app = app_with_a_large_config(&env).await;
    let (_, _, identity) = get(&app, &[]).await;
    for (accept, want) in [
        ("br;q=0, gzip", Some("gzip")),
        ("gzip;q=0, *", Some("br")),
        ("*;q=0, gzip;q=0.1", Some("gzip")),
        ("br;q=0, gzip;q=0", None),
        ("*;q=0", None),
        ("identity;q=0", None),
        ("zstd, deflate, compress", None),
        ("gzip;q=0.5, identity", None),
        ("x-gzip", Some("gzip")),
        ("br;q=0.2, gzip;q=0.1", Some("br")),
    ] {
        let (status, h, body) = get(&app, &[(header::ACCEPT_ENCODING, accept)]).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        let got = h.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap());
        assert_eq!(got, want, "{accept}");
        let decoded = match got {
            Some("gzip") => gunzip(&body),
            Some("br") => unbrotli(&body),
            _ => body.to_vec(),
        };
        assert_eq!(decoded, identity, "{accept}");
    }
}
