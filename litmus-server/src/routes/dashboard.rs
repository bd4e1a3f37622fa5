//! The dashboard: a web page and its scripts and styles, built into the binary (no CDN, no
//! build step). `GET /` redirects to `/dashboard/`, which serves `index.html`; every other
//! asset is `GET /dashboard/{file}`, by exact name.
//!
//! Every answer carries a Content-Security-Policy that allows only this origin (scripts,
//! styles, fetches and the `/live` WebSocket; images also as `data:`), `nosniff`, and an ETag
//! from a hash of the content with `Cache-Control: no-cache`: browsers keep the assets and
//! revalidate them (a 304 while the binary is the same). Text assets are sent gzipped to
//! clients that accept it.

use std::io::Write;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ApiError;

/// The policy: this origin only. `connect-src 'self'` covers the same-origin `ws:`/`wss:`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    /// Its name under `/dashboard/`.
    name: &'static str,
    /// Its bytes.
    body: &'static [u8],
}

/// The page.
const INDEX: &str = "index.html";

/// Every file of the dashboard, by name.
const ASSETS: &[Asset] = &[
    embedded(INDEX, include_bytes!("../../dashboard/index.html")),
    embedded("style.css", include_bytes!("../../dashboard/style.css")),
    embedded("favicon.svg", include_bytes!("../../dashboard/favicon.svg")),
    embedded("app.js", include_bytes!("../../dashboard/app.js")),
    embedded("api.js", include_bytes!("../../dashboard/api.js")),
    embedded("live.js", include_bytes!("../../dashboard/live.js")),
    embedded("dom.js", include_bytes!("../../dashboard/dom.js")),
    embedded("format.js", include_bytes!("../../dashboard/format.js")),
    embedded("charts.js", include_bytes!("../../dashboard/charts.js")),
    embedded("list.js", include_bytes!("../../dashboard/list.js")),
    embedded("form.js", include_bytes!("../../dashboard/form.js")),
    embedded("results.js", include_bytes!("../../dashboard/results.js")),
    embedded("tables.js", include_bytes!("../../dashboard/tables.js")),
    embedded("errors.js", include_bytes!("../../dashboard/errors.js")),
    embedded(
        "form-metrics.js",
        include_bytes!("../../dashboard/form-metrics.js"),
    ),
    embedded(
        "form-analysis.js",
        include_bytes!("../../dashboard/form-analysis.js"),
    ),
    embedded("plan.js", include_bytes!("../../dashboard/plan.js")),
    embedded("segments.js", include_bytes!("../../dashboard/segments.js")),
    embedded("holdout.js", include_bytes!("../../dashboard/holdout.js")),
    embedded("catalog.js", include_bytes!("../../dashboard/catalog.js")),
    embedded("flags.js", include_bytes!("../../dashboard/flags.js")),
    embedded(
        "environment.js",
        include_bytes!("../../dashboard/environment.js"),
    ),
    embedded(
        "environments.js",
        include_bytes!("../../dashboard/environments.js"),
    ),
    embedded(
        "flag-form.js",
        include_bytes!("../../dashboard/flag-form.js"),
    ),
    embedded(
        "flag-rules.js",
        include_bytes!("../../dashboard/flag-rules.js"),
    ),
    embedded(
        "flag-values.js",
        include_bytes!("../../dashboard/flag-values.js"),
    ),
    embedded(
        "metric-form.js",
        include_bytes!("../../dashboard/metric-form.js"),
    ),
    embedded(
        "metric-fields.js",
        include_bytes!("../../dashboard/metric-fields.js"),
    ),
    embedded("roles.js", include_bytes!("../../dashboard/roles.js")),
    embedded("signin.js", include_bytes!("../../dashboard/signin.js")),
    embedded("people.js", include_bytes!("../../dashboard/people.js")),
    embedded("webhooks.js", include_bytes!("../../dashboard/webhooks.js")),
];

/// An embedded file.
const fn embedded(name: &'static str, body: &'static [u8]) -> Asset {
    Asset { name, body }
}

/// The `Content-Type` of a file name, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// What is sent for one asset: its ETag and, when it is worth it, its gzipped bytes.
struct Prepared {
    etag: HeaderValue,
    gzip: Option<Vec<u8>>,
}

/// The assets prepared once, in the order of [`ASSETS`].
static PREPARED: LazyLock<Vec<Prepared>> = LazyLock::new(|| ASSETS.iter().map(prepare).collect());

/// The ETag (a hash of the bytes) and the gzipped form of an asset.
fn prepare(a: &Asset) -> Prepared {
    let hash = xxhash_rust::xxh3::xxh3_128(a.body);
    let etag = HeaderValue::from_str(&format!("\"{hash:032x}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    let compressible = content_type(a.name) != "application/octet-stream";
    let gzip = compressible
        .then(|| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(a.body).ok()?;
            enc.finish().ok()
        })
        .flatten()
        .filter(|z| z.len() + 64 < a.body.len());
    Prepared { etag, gzip }
}

/// The security and caching headers of every dashboard answer.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(Ok(given)) = request.get(header::IF_NONE_MATCH).map(|v| v.to_str()) else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    given
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == ours)
}

/// Whether the client accepts gzip.
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The answer for the asset named `name`, or `None` when there is none.
fn serve(name: &str, request: &HeaderMap) -> Option<Response> {
    let i = ASSETS.iter().position(|a| a.name == name)?;
    let (a, p) = (ASSETS.get(i)?, PREPARED.get(i)?);
    let mut res = if matches(request, &p.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match &p.gzip {
            Some(z) if accepts_gzip(request) => {
                let mut res = z.clone().into_response();
                res.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                res
            }
            _ => a.body.into_response(),
        }
    };
    let modified = res.status() != StatusCode::NOT_MODIFIED;
    let headers = res.headers_mut();
    if modified {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(a.name)),
        );
    }
    headers.insert(header::ETAG, p.etag.clone());
    if p.gzip.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    secure(headers);
    Some(res)
}

/// `GET /`: to the dashboard.
pub async fn root() -> Redirect {
    Redirect::to("/dashboard/")
}

/// `GET /dashboard/`: the page.
pub async fn index(headers: HeaderMap) -> Response {
    serve(INDEX, &headers).unwrap_or_else(|| missing(INDEX))
}

/// `GET /dashboard/{file}`: a script, style sheet or image of the page, by exact name; 404
/// (the JSON error) for any other name.
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&file, &headers).unwrap_or_else(|| missing(&file))
}

/// The 404 for a name that is not an asset.
fn missing(name: &str) -> Response {
    ApiError::not_found(format!("no dashboard file {name:?}")).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn get(name: &str, headers: &[(header::HeaderName, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(k, HeaderValue::from_str(v).unwrap());
        }
        serve(name, &map).unwrap_or_else(|| missing(name))
    }

    #[test]
    fn every_asset_is_served_with_its_type_and_the_policy() {
        for a in ASSETS {
            let res = get(a.name, &[]);
            assert_eq!(res.status(), StatusCode::OK, "{}", a.name);
            let h = res.headers();
            let ty = content_type(a.name);
            assert_eq!(h[header::CONTENT_TYPE], ty);
            assert_ne!(ty, "application/octet-stream", "{}", a.name);
            assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert!(h[header::ETAG].to_str().unwrap().starts_with('"'));
        }
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
    }

    #[test]
    fn a_known_etag_answers_304_and_gzip_is_sent_when_accepted() {
        let etag = get("app.js", &[]).headers()[header::ETAG]
            .to_str()
            .unwrap()
            .to_owned();
        let res = get(
            "app.js",
            &[(header::IF_NONE_MATCH, &format!("\"x\", {etag}"))],
        );
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        let res = get("app.js", &[(header::ACCEPT_ENCODING, "br, gzip;q=0.8")]);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let res = get("app.js", &[(header::ACCEPT_ENCODING, "gzip;q=0")]);
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    }

    #[test]
    fn other_names_are_404_json_errors() {
        for name in ["nope.js", "../Cargo.toml", "", "APP.JS"] {
            let res = get(name, &[]);
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{name}");
            assert!(
                res.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
        }
    }
}
