//! `POST /assign` and `POST /evaluate`: assignment and flag evaluation for clients that cannot
//! embed core (another language, an edge worker). The handlers read the request and call
//! `crate::service::assign` or `crate::service::evaluate`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde_json::Value;

use crate::auth::Access;
use crate::cache::SharedCache;
use crate::error::ApiError;
use crate::keys::{Principal, Scope};
use crate::routes::sdk::SdkQuery;
use crate::service::assign::{self, AssignRequest};
use crate::service::evaluate::{self, EvaluateRequest};
use crate::snapshots::Snapshots;
use crate::store::Store;

/// The request of an `assign`-scoped route: the key checked (its project and environment
/// answer), then the body read as `T`.
async fn request<S: Store, T: serde::de::DeserializeOwned>(
    access: &Access<S>,
    headers: &HeaderMap,
    q: &SdkQuery,
    body: &[u8],
) -> Result<(Principal, T), ApiError> {
    let principal = access
        .authorize(headers, q.sdk_key.as_deref(), Scope::Assign)
        .await?;
    let request = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
    Ok((principal, request))
}

/// `POST /assign`: `{"unit_id", "attributes"?, "experiment"?}` to one assignment, or to
/// `{"assignments": [...]}` for every running experiment.
///
/// Assignments are sticky: a unit's first variant in an experiment is kept in the cache
/// (`SET NX`: the first instance to assign it decides), and later requests answer it with the
/// reason `sticky` while the unit still qualifies, even after the weights or the traffic
/// changed (as a bandit's do). Only a cache read and one write per new assignment are added.
pub async fn assign<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    State(cache): State<SharedCache>,
    State(ingest): State<crate::state::Ingest<S>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, req): (_, AssignRequest) = request(&access, &headers, &q, &body).await?;
    let config = snapshots.of(&who.project);
    Ok(Json(
        assign::assign(&config, cache.0.as_ref(), &ingest, &who.environment, req).await?,
    ))
}

/// `POST /evaluate`: `{"unit_id", "attributes"?, "flag"?}` to one flag's evaluation, or with
/// `"flags": [...]` (or neither) to `{"flags": [...]}` for those flags (or every flag).
///
/// Each evaluation has the value, OpenFeature's reason, the rule and variant, an error code
/// when the flag cannot be evaluated, and the experiment assignment when an experiment rule
/// served the value (sticky, as `/assign`'s assignments are).
pub async fn evaluate<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    State(cache): State<SharedCache>,
    State(ingest): State<crate::state::Ingest<S>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, req): (_, EvaluateRequest) = request(&access, &headers, &q, &body).await?;
    let config = snapshots.of(&who.project);
    Ok(Json(
        evaluate::evaluate(&config, cache.0.as_ref(), &ingest, &who.environment, req).await?,
    ))
}
