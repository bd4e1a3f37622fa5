//! Webhooks (`/admin/webhooks`, scope `webhooks:write`, which admins hold): list, make (the
//! secret shown once), read, change, delete, send a test event, the delivery log and a manual
//! retry. Each handler parses its request and calls one function of
//! `crate::service::webhooks`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::service::webhooks;
use crate::store::Store;

/// `GET /admin/webhooks`: `{webhooks, events}` (the project's webhooks, without secrets, and
/// every event type).
pub async fn list<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    let hooks = access.store().webhooks(&who.project).await?;
    Ok(Json(
        json!({"webhooks": hooks, "events": crate::webhooks::EVENT_TYPES}),
    ))
}

/// `POST /admin/webhooks` `{url, events, format}`: 201 with `{webhook, secret}` (the secret
/// shown this once).
pub async fn create<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    let (webhook, secret) =
        webhooks::create(access.store(), &who, super::json(&bytes, "request")?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"webhook": webhook, "secret": secret})),
    ))
}

/// `GET /admin/webhooks/{id}`.
pub async fn get<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    let webhook = webhooks::get(access.store(), &who.project, &id).await?;
    Ok(Json(json!({ "webhook": webhook })))
}

/// `PATCH /admin/webhooks/{id}` `{url, events, format, enabled}`.
pub async fn update<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    let webhook = webhooks::update(
        access.store(),
        &who.project,
        &id,
        super::json(&bytes, "request")?,
    )
    .await?;
    Ok(Json(json!({ "webhook": webhook })))
}

/// `DELETE /admin/webhooks/{id}`: 204.
pub async fn delete<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    webhooks::delete(access.store(), &who.project, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/webhooks/{id}/test`: 202 with `{delivery}` (a `webhook.test` event, sent by
/// the webhook job like any other).
pub async fn test<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    let dashboard = access.people().public_url.clone();
    let delivery = webhooks::test(access.store(), &who, &id, dashboard.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "delivery": delivery }))))
}

/// The delivery log's query: `?limit=N` (1 to 500, default 100).
#[derive(Debug, Deserialize)]
pub struct LogQuery {
    /// How many deliveries, newest first.
    limit: Option<u32>,
}

/// `GET /admin/webhooks/{id}/deliveries?limit=N`: the newest deliveries with their status,
/// attempts, last answer and next attempt.
pub async fn deliveries<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    let log = webhooks::deliveries(access.store(), &who.project, &id, q.limit).await?;
    Ok(Json(json!({ "deliveries": log })))
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/retry`: 202; the delivery is due now.
pub async fn retry<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let who = access
        .authorize(&headers, None, Scope::WebhooksWrite)
        .await?;
    webhooks::redeliver(access.store(), &who.project, &id, &delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
