//! `GET /results/{experiment}`: an experiment's results and their series (see
//! [`crate::results`]).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::results::{self, DEFAULT_POINTS};
use crate::snapshots::{ProjectConfig, Snapshots};
use crate::store::Store;
use litmus_core::config::environments::DEFAULT_ENVIRONMENT;

/// The query string.
#[derive(Debug, Deserialize)]
pub struct ResultsQuery {
    /// Points in the series (1 to 500; default 60).
    points: Option<usize>,
    /// The environment whose results (default `production`).
    environment: Option<String>,
}

/// The project's config and the environment a results route reads: `asked`, else
/// production; 404 when the project has none such.
pub(crate) async fn environment<S: Store>(
    snapshots: &Snapshots<S>,
    project: &str,
    asked: Option<String>,
) -> Result<(ProjectConfig<S>, String), ApiError> {
    let environment = asked.unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
    crate::service::environments::require(snapshots.store(), project, &environment).await?;
    Ok((snapshots.of(project), environment))
}

/// `GET /results/{experiment}?points=N&environment=E`: needs `admin:read`. `GET /results/{experiment}.csv`
/// answers the same results as CSV (`crate::export::results_csv`).
pub async fn results<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Result<Response, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let points = query.points.unwrap_or(DEFAULT_POINTS).clamp(1, 500);
    let (snapshots, environment) = environment(&snapshots, &project, query.environment).await?;
    if let Some(experiment) = key.strip_suffix(".csv") {
        let value = results::current(&snapshots, experiment, &environment, points).await?;
        let disposition = format!("attachment; filename=\"{}.csv\"", file_name(experiment));
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            crate::export::results_csv(&value),
        )
            .into_response());
    }
    Ok(Json(results::current(&snapshots, &key, &environment, points).await?).into_response())
}

/// `GET /holdouts/{key}/results?points=N`: a holdout's readout, its held-out units against
/// the units that entered the experiments it covers (`crate::holdouts`); needs `admin:read`.
pub async fn holdout<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let points = query.points.unwrap_or(DEFAULT_POINTS).clamp(1, 500);
    let (snapshots, environment) = environment(&snapshots, &project, query.environment).await?;
    Ok(Json(
        crate::holdouts::current(&snapshots, &key, &environment, points).await?,
    ))
}

/// The segments query string.
#[derive(Debug, Deserialize)]
pub struct SegmentsQuery {
    /// The dimension to break the results down by (one the experiment declares).
    dimension: Option<String>,
    /// The environment whose results (default `production`).
    environment: Option<String>,
}

/// `GET /results/{experiment}/segments?dimension=country`: the results per segment of one
/// dimension, corrected across segments (`crate::segments`); needs `admin:read`.
pub async fn segments<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<SegmentsQuery>,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let Some(dimension) = query.dimension else {
        return Err(ApiError::Invalid(litmus_core::Error::MissingField {
            path: litmus_core::FieldPath::root().field("dimension"),
        }));
    };
    let (snapshots, environment) = environment(&snapshots, &project, query.environment).await?;
    Ok(Json(
        crate::segments::current(&snapshots, &key, &environment, &dimension).await?,
    ))
}

/// A key as a file name: characters other than letters, digits, `-`, `_` and `.` become `_`.
fn file_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The query of routes that read one environment's data.
#[derive(Debug, Deserialize)]
pub struct EnvironmentQuery {
    /// The environment (default `production`).
    environment: Option<String>,
}

/// `GET /admin/experiments/{key}/units?environment=E`: every unit exposed to the experiment
/// in the environment, one JSON line each (NDJSON, streamed in unit id order) with its
/// variant, first exposure and value of each of the experiment's metrics
/// (`crate::export::unit_line`); needs `admin:read`.
pub async fn units<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<EnvironmentQuery>,
) -> Result<Response, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let (snapshots, environment) = environment(&snapshots, &project, query.environment).await?;
    let engine = snapshots.engine_in(&environment).await?;
    let metrics = crate::export::metrics_of(&engine, &key)?;
    let stream = crate::environments::Stream::of(&project, &environment);
    // The experiment's units in this environment, shown by the ids their clients sent.
    let key = stream.stored(&key).into_owned();
    let store = snapshots.store_arc();
    // Pages are read as the client takes them; a store error ends the stream early (the
    // client sees a body cut short, not a line of JSON).
    let stream = futures_util::stream::unfold(Some(None), move |after| {
        let (store, key, metrics, stream) = (
            std::sync::Arc::clone(&store),
            key.clone(),
            metrics.clone(),
            stream.clone(),
        );
        async move {
            let after: Option<String> = after?;
            let page = store
                .experiment_unit_records(&key, after, crate::export::PAGE_UNITS)
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            let next = (page.len() == crate::export::PAGE_UNITS)
                .then(|| page.last().map(|u| u.unit_id.clone()));
            let mut text = String::new();
            for u in &page {
                let shown = crate::store::UnitRecord {
                    unit_id: stream.shown(&u.unit_id).to_owned(),
                    ..u.clone()
                };
                text.push_str(&crate::export::unit_line(&shown, &metrics).to_string());
                text.push('\n');
            }
            if page.is_empty() {
                return None;
            }
            Some((Ok::<_, std::io::Error>(text), next))
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The replay query string.
#[derive(Debug, Deserialize)]
pub struct ReplayQuery {
    /// Comma-separated policy names (default `thompson,ucb1,epsilon_greedy,uniform`).
    policies: Option<String>,
    /// The random seed (default 1).
    seed: Option<u64>,
    /// The environment whose logged units (default `production`).
    environment: Option<String>,
}

/// `GET /results/{experiment}/replay?policies=thompson,uniform&seed=1`: policies replayed
/// offline on the experiment's logged units; needs `admin:read`.
pub async fn replay<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<ReplayQuery>,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let names = query
        .policies
        .unwrap_or_else(|| "thompson,ucb1,epsilon_greedy,uniform".to_owned());
    let policies: Vec<&str> = names
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if policies.is_empty() || policies.len() > 10 {
        return Err(ApiError::bad_request("name 1 to 10 policies"));
    }
    let seed = query.seed.unwrap_or(1);
    let (snapshots, environment) = environment(&snapshots, &project, query.environment).await?;
    Ok(Json(
        results::replay_current(&snapshots, &key, &environment, &policies, seed).await?,
    ))
}

/// `POST /planning`: the units and days an experiment needs, or the lift it can detect
/// (`crate::planning`); needs `admin:read`.
pub async fn planning<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    Ok(Json(
        crate::planning::plan(&snapshots.of(&project), body).await?,
    ))
}
