//! What SDKs read: the versioned config snapshot, with an ETag so a poll that finds nothing
//! new costs a 304 and no body, or a stream of snapshots as they are published (SSE).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use crate::auth::Access;
use crate::delivery;
use crate::encoding::{self, Coding};
use crate::error::ApiError;
use crate::keys::Scope;
use crate::snapshots::Snapshots;
use crate::store::Store;

/// The SDK routes' query: the key, for clients that cannot send an Authorization header
/// (a browser's `EventSource`).
#[derive(Debug, Default, Deserialize)]
pub struct SdkQuery {
    /// An SDK key.
    pub sdk_key: Option<String>,
}

/// `GET /sdk/config`: the current snapshot (200 with `ETag`), or 304 when the client's
/// `If-None-Match` names any representation of it; gzip or br when `Accept-Encoding` asks
/// (`crate::encoding`), each made once per version and environment (`crate::delivery`).
pub async fn config<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
) -> Result<Response, ApiError> {
    let principal = access
        .authorize(&headers, q.sdk_key.as_deref(), Scope::SdkRead)
        .await?;
    let delivery = snapshots
        .of(&principal.project)
        .delivery_in(&principal.environment)
        .await?;
    let wanted = encoding::negotiate(headers.get_all(header::ACCEPT_ENCODING));
    let coding = delivery.coding(wanted);
    let mut answer = if delivery.matches(headers.get_all(header::IF_NONE_MATCH)) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (coding, body) = delivery.encoded(coding).await;
        let mut answer = (StatusCode::OK, body).into_response();
        let h = answer.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if coding != Coding::Identity {
            h.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(coding.token()),
            );
        }
        h.insert(header::ETAG, delivery.etag(coding).clone());
        answer
    };
    let h = answer.headers_mut();
    if !h.contains_key(header::ETAG) {
        h.insert(header::ETAG, delivery.etag(coding).clone());
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(answer)
}

/// `GET /sdk/stream`: Server-Sent Events, one `config` event per published version (the
/// event id is the version, the data the snapshot), starting with the current one unless the
/// client's `Last-Event-ID` already names it; a comment every 15 s keeps proxies from closing
/// the connection. Each version's event is encoded once and shared by every stream; a slow
/// reader gets the newest version when it can take one (`crate::delivery::updates`).
pub async fn stream<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
) -> Result<Response, ApiError> {
    let principal = access
        .authorize(&headers, q.sdk_key.as_deref(), Scope::SdkRead)
        .await?;
    let seen: Option<u64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let frames = delivery::updates(
        snapshots.of(&principal.project),
        &principal.environment,
        seen,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(frames),
    )
        .into_response())
}
