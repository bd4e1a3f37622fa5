//! `POST /events`: batches of exposure and metric events from SDKs, read and validated by core
//! (`litmus_core::events`), stored durably (committed before the answer) and each
//! `message_id` once, so a client may retry any batch it has no answer for.
//!
//! - Shapes: `{"sent_at", "events": [...]}`, a JSON array, or NDJSON; `Content-Encoding:
//!   gzip` accepted. For arrays and NDJSON a `Litmus-Sent-At` header gives the send time.
//! - Limits, measured after decompression: 1 MB per request and 2,500 events per batch (413
//!   `payload_too_large` / `too_many_events`), 32 KB per event (that event is rejected).
//! - Answers: 200 `{"accepted", "duplicates", "rejected": [{"index", "code", "path",
//!   "message"}]}`: the valid events are kept even when others are refused. 429 with
//!   `Retry-After` when more batches are being stored than the store takes at once; 503 with
//!   `Retry-After` when the store fails. Nothing is acknowledged before it is committed, and
//!   memory stays bounded: a body is read only once its batch holds one of the
//!   [`crate::state::Tuning::ingest_permits`] permits, so at most that many are held.

use std::io::Read;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use litmus_core::Timestamp;
use litmus_core::events::{MAX_BATCH_BYTES, parse_batch};
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::metrics::Metrics;
use crate::routes::sdk::SdkQuery;
use crate::service;
use crate::state::Ingest;
use crate::store::{EventBatch, Store};

/// How long a batch may wait for its turn to be stored before the client is told to retry.
const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The request body, decompressed when it is gzip, at most [`MAX_BATCH_BYTES`].
pub fn decompressed(headers: &HeaderMap, body: Bytes) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "the batch is over {MAX_BATCH_BYTES} bytes (measured after decompression)"
        ))
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") => {
            if body.len() > MAX_BATCH_BYTES {
                return Err(too_large());
            }
            Ok(body)
        }
        Some("gzip") => {
            let mut out = Vec::new();
            // One byte more than allowed: enough to know it is too large, never more.
            let limit = MAX_BATCH_BYTES as u64 + 1;
            flate2::read::GzDecoder::new(&body[..])
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::bad_request(format!("the gzip body cannot be read: {e}")))?;
            if out.len() > MAX_BATCH_BYTES {
                return Err(too_large());
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ApiError::UnsupportedEncoding(other.to_owned())),
    }
}

/// `POST /events`.
pub async fn ingest<S: Store>(
    State(access): State<Access<S>>,
    State(ingest): State<Ingest<S>>,
    State(metrics): State<Metrics>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let principal = access
        .authorize(&headers, q.sdk_key.as_deref(), Scope::EventsWrite)
        .await?;
    // A permit per batch being read and stored: memory and store load stay bounded.
    let Ok(Ok(_permit)) = tokio::time::timeout(QUEUE_WAIT, ingest.slots.acquire()).await else {
        metrics.count_events("throttled", 1);
        return Err(ApiError::Busy);
    };
    // The body is read only once the batch has its permit, so at most `ingest_permits`
    // bodies are in memory however many clients send at once.
    let body = axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .map_err(|e| {
            ApiError::PayloadTooLarge(format!(
                "the request body cannot be read within {} bytes: {e}",
                crate::BODY_LIMIT
            ))
        })?;
    let body = decompressed(&headers, body)?;
    let received_ms = crate::now_ms();
    let sent_at = headers.get("litmus-sent-at").and_then(|v| v.to_str().ok());
    let batch = parse_batch(&body, Timestamp::from_unix_millis(received_ms), sent_at)?;
    let mut refused: Vec<(usize, litmus_core::Error)> = batch
        .rejected
        .into_iter()
        .map(|r| (r.index, r.error))
        .collect();
    let mut events = Vec::with_capacity(batch.events.len());
    for (index, event) in batch.events {
        match service::events::misplaced(index, &event) {
            Some(error) => refused.push((index, error)),
            None => events.push(event),
        }
    }
    refused.sort_by_key(|(index, _)| *index);
    let rejected: Vec<Value> = refused
        .iter()
        .map(|(index, error)| {
            json!({
                "index": index,
                "code": error.code(),
                "path": error.path().map(|p| p.to_string()),
                "message": error.to_string(),
            })
        })
        .collect();
    let offered = events.len();
    let stream = crate::environments::Stream::of(&principal.project, &principal.environment);
    let stored = service::events::store(
        &ingest,
        &stream,
        EventBatch {
            events,
            received_ms,
        },
    )
    .await;
    let report = match stored {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(error = %e, events = offered, "events not stored");
            metrics.count_events("failed", offered as u64);
            return Err(ApiError::StoreUnavailable {
                message: "the events could not be stored: retry later".into(),
                retry_after: Some(2),
            });
        }
    };
    metrics.count_events("accepted", report.stored as u64);
    metrics.count_events("duplicate", report.duplicates as u64);
    metrics.count_events("rejected", rejected.len() as u64);
    Ok(Json(json!({
        "accepted": report.stored,
        "duplicates": report.duplicates,
        "rejected": rejected,
    }))
    .into_response())
}
