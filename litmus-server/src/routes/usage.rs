//! Flag usage: SDKs report their evaluations (`POST /sdk/usage`), and the admin API lists each
//! flag's usage with the stale ones first (`GET /admin/flag-usage`). Each handler parses its
//! request and calls one function of `crate::service::usage`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::routes::sdk::SdkQuery;
use crate::service::usage::{self, DEFAULT_STALE_DAYS, UsageReport};
use crate::snapshots::Snapshots;
use crate::state::Ingest;
use crate::store::Store;

/// `POST /sdk/usage`: `{"flags": [{"flag", "evaluations"}]}` from an SDK (scope `sdk:read`),
/// counted in the key's environment; 204. 400 for a body that is not a report, 422 at the
/// entry's path for a duplicate flag or a count that is not positive.
pub async fn report<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    State(ingest): State<Ingest<S>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let who = access
        .authorize(&headers, q.sdk_key.as_deref(), Scope::SdkRead)
        .await?;
    let report: UsageReport = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid usage report: {e}")))?;
    let config = snapshots.of(&who.project);
    usage::report(&config, &ingest, &who.environment, report).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The flag usage query.
#[derive(Debug, Deserialize)]
pub struct UsageQuery {
    /// The environment (default `production`).
    environment: Option<String>,
    /// Days without an evaluation after which a flag is stale (1 to 3650; default 30).
    days: Option<u32>,
}

/// `GET /admin/flag-usage?environment=E&days=N`: each flag's evaluations and last evaluation
/// in the environment, and whether it is stale (never evaluated, none in N days, or serving
/// every unit one value), stale ones first; scope `admin:read`.
pub async fn flags<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Query(q): Query<UsageQuery>,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let (config, environment) =
        crate::routes::results::environment(&snapshots, &project, q.environment).await?;
    let days = q.days.unwrap_or(DEFAULT_STALE_DAYS);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::Invalid(litmus_core::Error::InvalidValue {
            path: litmus_core::FieldPath::root().field("days"),
            message: "days are 1 to 3650".into(),
        }));
    }
    Ok(Json(
        usage::flags(&config, &environment, days, crate::now_ms()).await?,
    ))
}
