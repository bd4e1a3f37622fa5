//! The dashboard: a web page served from assets built into the binary (no CDN).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

/// The page.
const INDEX: &str = include_str!("../../dashboard/index.html");

/// `GET /`: to the dashboard.
pub async fn root() -> Redirect {
    Redirect::to("/dashboard/")
}

/// `GET /dashboard/`: the page.
pub async fn index() -> Response {
    let mut res = INDEX.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}
