//! What SDKs read: the versioned config snapshot, with an ETag so a poll that finds nothing
//! new costs a 304 and no body, or a stream of snapshots as they are published (SSE).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use crate::auth::Access;
use crate::delivery;
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
/// `If-None-Match` names it.
pub async fn config<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
) -> Result<Response, ApiError> {
    let principal = access
        .authorize(&headers, q.sdk_key.as_deref(), Scope::SdkRead)
        .await?;
    let snapshot = snapshots
        .of(&principal.project)
        .snapshot_in(&principal.environment)
        .await?;
    let etag = HeaderValue::from_str(&snapshot.etag).map_err(ApiError::internal)?;
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == snapshot.etag || t.trim() == "*");
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response());
    }
    let json = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok((
        StatusCode::OK,
        [(header::ETAG, etag), cache, json],
        snapshot.body.clone(),
    )
        .into_response())
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
