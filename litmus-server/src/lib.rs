//! The Litmus server: experiment configs validated by `litmus-core`, stored (embedded SQLite by
//! default), versioned, and delivered to SDKs with ETags. [`app`] builds the router, so tests
//! call it without a socket; `main.rs` only wires flags, logging and shutdown.

pub mod auth;
pub mod cache;
pub mod delivery;
pub mod demo;
pub mod encoding;
pub mod environments;
pub mod error;
pub mod export;
pub mod holdouts;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod metrics;
pub mod oidc;
pub mod people;
pub mod planning;
pub mod projects;
pub mod results;
pub mod routes;
pub mod segments;
pub mod server;
pub mod service;
pub mod settings;
pub mod snapshots;
pub mod state;
pub mod store;
pub mod usage;
pub mod webhooks;

use std::sync::Arc;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::state::AppState;
use crate::store::Store;

/// The largest request body accepted (an experiment is a few kilobytes).
pub const BODY_LIMIT: usize = 1 << 20;

/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Milliseconds since the Unix epoch (the server may read the clock; core never does).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The router over `state`.
pub fn app<S: Store>(state: Arc<AppState<S>>) -> Router<()> {
    // What SDKs call, from any origin (browsers included); the admin API sends no CORS
    // headers, so other origins' pages cannot call it.
    let sdk = Router::new()
        .route("/sdk/config", get(routes::sdk::config::<S>))
        .route("/sdk/stream", get(routes::sdk::stream::<S>))
        .route("/assign", post(routes::assign::assign::<S>))
        .route("/evaluate", post(routes::assign::evaluate::<S>))
        .route("/events", post(routes::events::ingest::<S>))
        .route("/sdk/usage", post(routes::usage::report::<S>))
        .layer(sdk_cors());
    Router::new()
        .route("/", get(routes::dashboard::root))
        .route("/dashboard/", get(routes::dashboard::index))
        .route("/dashboard/{file}", get(routes::dashboard::asset))
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz::<S>))
        .route("/admin/{collection}", get(routes::admin::list::<S>))
        .route(
            "/admin/{collection}/{key}",
            get(routes::admin::get::<S>)
                .put(routes::admin::put::<S>)
                .delete(routes::admin::delete::<S>),
        )
        .route("/admin/audit", get(routes::admin::audit::<S>))
        .route(
            "/admin/experiments/{key}/units",
            get(routes::results::units::<S>),
        )
        .route("/results/{experiment}", get(routes::results::results::<S>))
        .route(
            "/planning",
            axum::routing::post(routes::results::planning::<S>),
        )
        .route(
            "/results/{experiment}/replay",
            get(routes::results::replay::<S>),
        )
        .route(
            "/holdouts/{key}/results",
            get(routes::results::holdout::<S>),
        )
        .route(
            "/results/{experiment}/segments",
            get(routes::results::segments::<S>),
        )
        .route("/live", get(routes::live::live::<S>))
        .route(
            "/admin/keys",
            get(routes::keys::list::<S>).post(routes::keys::create::<S>),
        )
        .route(
            "/admin/keys/{id}",
            axum::routing::delete(routes::keys::revoke::<S>),
        )
        .route("/admin/flag-usage", get(routes::usage::flags::<S>))
        .route(
            "/admin/projects",
            get(routes::projects::list::<S>).post(routes::projects::create::<S>),
        )
        .route(
            "/admin/environments",
            get(routes::environments::list::<S>).post(routes::environments::create::<S>),
        )
        .route(
            "/admin/environments/{key}",
            axum::routing::delete(routes::environments::delete::<S>),
        )
        .route(
            "/admin/environments/{from}/promote",
            post(routes::environments::promote::<S>),
        )
        .route("/metrics", get(routes::metrics::metrics::<S>))
        .route("/openapi.json", get(routes::health::openapi))
        .route("/auth/login", post(routes::auth::login::<S>))
        .route("/auth/logout", post(routes::auth::logout::<S>))
        .route("/auth/session", get(routes::auth::me::<S>))
        .route("/auth/setup", post(routes::auth::setup::<S>))
        .route("/auth/token", post(routes::auth::token::<S>))
        .route("/auth/accept", post(routes::auth::accept::<S>))
        .route("/auth/sso", get(routes::sso::info::<S>))
        .route("/auth/oidc/start", get(routes::sso::start::<S>))
        .route("/auth/oidc/callback", get(routes::sso::callback::<S>))
        .route("/admin/users", get(routes::users::list::<S>))
        .route("/admin/users/invitations", post(routes::users::invite::<S>))
        .route(
            "/admin/users/invitations/{id}",
            axum::routing::delete(routes::users::withdraw::<S>),
        )
        .route(
            "/admin/users/{id}",
            axum::routing::patch(routes::users::update::<S>),
        )
        .route("/admin/users/{id}/reset", post(routes::users::reset::<S>))
        .route(
            "/admin/webhooks",
            get(routes::webhooks::list::<S>).post(routes::webhooks::create::<S>),
        )
        .route(
            "/admin/webhooks/{id}",
            get(routes::webhooks::get::<S>)
                .patch(routes::webhooks::update::<S>)
                .delete(routes::webhooks::delete::<S>),
        )
        .route(
            "/admin/webhooks/{id}/test",
            post(routes::webhooks::test::<S>),
        )
        .route(
            "/admin/webhooks/{id}/deliveries",
            get(routes::webhooks::deliveries::<S>),
        )
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/retry",
            post(routes::webhooks::retry::<S>),
        )
        .merge(sdk)
        .route_layer(axum::middleware::from_fn(people::csrf::layer))
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            routes::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// CORS for the SDK routes: any origin, the headers SDKs send, and the ETag readable.
fn sdk_cors() -> CorsLayer {
    use axum::http::{Method, header};
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            header::CONTENT_ENCODING,
            axum::http::HeaderName::from_static("litmus-sent-at"),
            axum::http::HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600))
}

/// A handler that panicked answers 500 with the `internal` code; the server keeps serving.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error::ApiError::internal("internal error (please report it)").into_response()
}
