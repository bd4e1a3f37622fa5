//! What SDKs read: the versioned config snapshot, with an ETag so a poll that finds nothing
//! new costs a 304 and no body.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

/// `GET /sdk/config`: the current snapshot (200 with `ETag`), or 304 when the client's
/// `If-None-Match` names it. Readable from any origin (browsers poll it).
pub async fn config<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.store.snapshot().await?;
    let etag = HeaderValue::from_str(&snapshot.etag)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let cors = (
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    let expose = (
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("etag"),
    );
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == snapshot.etag || t.trim() == "*");
    if matches {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), cors, expose, cache],
        )
            .into_response());
    }
    let json = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok((
        StatusCode::OK,
        [(header::ETAG, etag), cors, expose, cache, json],
        snapshot.body,
    )
        .into_response())
}
