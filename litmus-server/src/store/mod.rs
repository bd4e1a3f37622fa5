//! Where configs live: experiments, the versioned snapshot SDKs download, the audit log, API
//! keys, projects, environments, events and rollups. One trait per concern ([`ConfigStore`],
//! [`KeyStore`], [`ProjectStore`], [`EnvironmentStore`], [`AuditStore`], [`UsageStore`],
//! [`EventStore`]; [`Store`] is all seven), with two backends, the embedded
//! default (SQLite) and PostgreSQL + TimescaleDB (when `DATABASE_URL` is set); the same tests
//! run against each. The transactions that write the config, keys and audit log are written
//! once (`txn`) over each backend's primitives.

pub(crate) mod backfill;
mod byte_reader;
mod copy_binary;
pub mod group_commit;
pub(crate) mod handoff;
pub mod people;
pub mod postgres;
#[cfg(test)]
pub(crate) mod project_fixture;
mod rollup_rows;
pub mod rows;
pub(crate) mod sql;
pub mod sqlite;
pub(crate) mod tiers;
pub(crate) mod txn;
pub(crate) mod unit_state;
pub mod webhooks;

use std::future::Future;

use std::collections::{BTreeMap, BTreeSet};

use litmus_core::config::wire::{WireConfig, WireExperiment, WireHoldout, WireLayer};
use litmus_core::events::{Event, MetricRollup};
use litmus_core::metrics::MetricDefinition;
use serde::Serialize;

use crate::keys::KeyRecord;
pub use people::PeopleStore;
pub use webhooks::WebhookStore;

/// `m`'s guard, also after a panic elsewhere poisoned it (what it guards is written whole or
/// not at all).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A store failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The snapshot moved past the version a change was based on (optimistic concurrency).
    #[error("the config changed concurrently")]
    Conflict,
    /// The backend failed (I/O, SQL, a corrupt row).
    #[error("store backend: {0}")]
    Backend(String),
}

/// A published config version: what `GET /sdk/config` serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Increases by one with every change; 0 before the first.
    pub version: u64,
    /// A strong ETag for this version's body.
    pub etag: String,
    /// The config document (JSON text), with `version` set to `v{version}`.
    pub body: String,
}

/// One row of the audit log: who changed what, when, from what to what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the log (increasing).
    pub id: u64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who (the key's name, or the person's email).
    pub actor: String,
    /// For a person, the IP address of the session that made the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// For a person, the user agent of the session that made the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// What kind of change, e.g. `experiment.put`.
    pub action: String,
    /// The experiment (or layer, holdout) key.
    pub key: String,
    /// The object before (absent when created).
    pub before: Option<serde_json::Value>,
    /// The object after (absent when deleted).
    pub after: Option<serde_json::Value>,
    /// The snapshot version the change produced.
    pub version: u64,
}

/// Who made a change, as the audit log records it: an API key by its name, or a person by
/// email with their session's IP address and user agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The key's name or the person's email.
    pub name: String,
    /// For a person, the IP address their session signed in from.
    pub ip: Option<String>,
    /// For a person, their session's user agent.
    pub user_agent: Option<String>,
}

impl From<String> for Actor {
    fn from(name: String) -> Self {
        Actor {
            name,
            ip: None,
            user_agent: None,
        }
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Actor::from(name.to_owned())
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// What kind of config object: each has its own table and admin routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An experiment.
    Experiment,
    /// A layer of mutually exclusive experiments.
    Layer,
    /// A holdout.
    Holdout,
    /// A metric of the catalogue.
    Metric,
    /// A feature flag.
    Flag,
}

impl Kind {
    /// Every kind, in the order a document lists them.
    pub const ALL: [Kind; 5] = [
        Kind::Experiment,
        Kind::Layer,
        Kind::Holdout,
        Kind::Metric,
        Kind::Flag,
    ];

    /// The name used in routes' messages and audit actions.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Experiment => "experiment",
            Kind::Layer => "layer",
            Kind::Holdout => "holdout",
            Kind::Metric => "metric",
            Kind::Flag => "flag",
        }
    }

    /// The store table.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Experiment => "experiments",
            Kind::Layer => "layers",
            Kind::Holdout => "holdouts",
            Kind::Metric => "metrics",
            Kind::Flag => "flags",
        }
    }
}

/// One config object, as stored (validated by core, defaults filled in). It serializes as
/// the object itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// An experiment.
    Experiment(Box<WireExperiment>),
    /// A layer.
    Layer(WireLayer),
    /// A holdout.
    Holdout(WireHoldout),
    /// A metric of the catalogue.
    Metric(Box<MetricDefinition>),
    /// A feature flag.
    Flag(Box<litmus_core::flags::wire::WireFlag>),
}

impl Object {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::Experiment(_) => Kind::Experiment,
            Object::Layer(_) => Kind::Layer,
            Object::Holdout(_) => Kind::Holdout,
            Object::Metric(_) => Kind::Metric,
            Object::Flag(_) => Kind::Flag,
        }
    }

    /// Its key.
    pub fn key(&self) -> &str {
        match self {
            Object::Experiment(e) => &e.key,
            Object::Layer(l) => &l.key,
            Object::Holdout(h) => &h.key,
            Object::Metric(m) => &m.key,
            Object::Flag(f) => &f.key,
        }
    }
}

/// What a change does to one object.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Creates or replaces the object (as stored: validated, defaults filled in).
    Put(Box<Object>),
    /// Deletes the object of this kind with this key.
    Delete {
        /// Its kind.
        kind: Kind,
        /// Its key.
        key: String,
    },
}

impl Edit {
    /// The kind of the object edited.
    pub fn kind(&self) -> Kind {
        match self {
            Edit::Put(o) => o.kind(),
            Edit::Delete { kind, .. } => *kind,
        }
    }

    /// The key of the object edited.
    pub fn key(&self) -> &str {
        match self {
            Edit::Put(o) => o.key(),
            Edit::Delete { key, .. } => key,
        }
    }
}

/// A change to apply atomically: the object's row, one audit entry and the new snapshot.
#[derive(Debug, Clone)]
pub struct Change {
    /// The project it changes (`crate::projects`).
    pub project: String,
    /// The snapshot version the change was computed from; the store refuses it
    /// ([`StoreError::Conflict`]) if the current version differs.
    pub base_version: u64,
    /// Who made it.
    pub actor: Actor,
    /// The audit action.
    pub action: String,
    /// What happens to each object changed (one audit entry each).
    pub edits: Vec<Edit>,
    /// The full config document of the new version, validated by core.
    pub document: serde_json::Value,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// The config of each project (`crate::projects`): objects, the versioned snapshots SDKs
/// download, and changes to them. Methods are async; an embedded backend runs its blocking
/// calls off the async threads.
pub trait ConfigStore: Send + Sync + 'static {
    /// The current snapshot of `project`.
    fn snapshot(&self, project: &str) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;
    /// The current snapshot's version of `project` (cheaper than [`ConfigStore::snapshot`]).
    fn version(&self, project: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Every stored object of `project` (experiments, layers, holdouts, metrics, flags, each
    /// by key) as one document.
    fn objects(&self, project: &str)
    -> impl Future<Output = Result<WireConfig, StoreError>> + Send;
    /// Applies a change to its project: writes (or deletes) the objects, appends to the audit
    /// log and publishes the project's next snapshot version, all or nothing (`txn::apply`).
    /// Returns the new snapshot.
    fn apply(&self, change: Change) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;
    /// Whether the store answers (for `/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// API keys (hashes only), each of one project; creating and revoking one is audited.
pub trait KeyStore: Send + Sync + 'static {
    /// Stores a new key and records it in its project's audit log (as `key.create` by
    /// `actor`).
    fn create_key(
        &self,
        key: KeyRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every key of `project`, newest first.
    fn keys(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<Vec<KeyRecord>, StoreError>> + Send;
    /// One key by its id (whatever its project: a request's key is looked up by id).
    fn key(&self, id: &str) -> impl Future<Output = Result<Option<KeyRecord>, StoreError>> + Send;
    /// Revokes a key of `project` (audited as `key.revoke`); false when that project has no
    /// such live key.
    fn revoke_key(
        &self,
        project: &str,
        id: &str,
        actor: Actor,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The projects (`crate::projects`); creating one is audited in its own log.
pub trait ProjectStore: Send + Sync + 'static {
    /// Every project, by key.
    fn projects(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::projects::ProjectRecord>, StoreError>> + Send;
    /// Stores a new project with its `production` environment (audited as `project.create`
    /// by `actor`); false when its key is taken.
    fn create_project(
        &self,
        project: crate::projects::ProjectRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Each project's environments (`crate::environments`); creating and deleting one is audited.
pub trait EnvironmentStore: Send + Sync + 'static {
    /// Every environment of `project`, production first, then by key.
    fn environments(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<Vec<crate::environments::EnvironmentRecord>, StoreError>> + Send;
    /// Stores a new environment of `project` (audited as `environment.create` by `actor`);
    /// false when its key is taken.
    fn create_environment(
        &self,
        project: &str,
        environment: crate::environments::EnvironmentRecord,
        actor: Actor,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Deletes an environment of `project` (audited as `environment.delete`); false when
    /// there is none (production is never deleted).
    fn delete_environment(
        &self,
        project: &str,
        key: &str,
        actor: Actor,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Flag usage (`crate::usage`): evaluations per flag and environment, and the last one's time.
pub trait UsageStore: Send + Sync + 'static {
    /// Adds each row's evaluations to its flag's (project, environment) and keeps the newest
    /// time, all in one transaction.
    fn record_usage(
        &self,
        rows: Vec<crate::usage::UsageRow>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every flag's usage in `project`'s `environment`, by key.
    fn flag_usage(
        &self,
        project: &str,
        environment: &str,
    ) -> impl Future<Output = Result<Vec<crate::usage::FlagUsage>, StoreError>> + Send;
}

/// The audit log (append-only; written by [`ConfigStore::apply`] and the [`KeyStore`]).
pub trait AuditStore: Send + Sync + 'static {
    /// The newest audit entries of `project` (of the object `key` only, when given), newest
    /// first.
    fn audit(
        &self,
        project: &str,
        limit: u32,
        key: Option<String>,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
}

/// Events and the rollups maintained from them.
pub trait EventStore: Send + Sync + 'static {
    /// Stores a batch of events durably (committed before it returns), each `message_id`
    /// once, and queues it for the rollups. Only the raw events are written here, so the
    /// acknowledgement costs little; [`EventStore::apply_rollups`] maintains the rollups.
    fn ingest(
        &self,
        batch: EventBatch,
    ) -> impl Future<Output = Result<Ingested, StoreError>> + Send;
    /// Applies core's rules (`litmus_core::events::rollup`) for up to `max_batches` queued
    /// batches (and as many events as the store takes in a round), oldest first, in one
    /// transaction that marks them applied, so a batch counts exactly once; only one instance
    /// applies at a time. Unit states are written at checkpoints (`unit_state`). Answers what
    /// was applied (no batch: the queue is empty, or another instance is applying).
    fn apply_rollups(
        &self,
        window_ms: i64,
        max_batches: usize,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;
    /// Sets the derived metrics (`litmus_core::metrics::Program`) the next rounds of
    /// [`EventStore::apply_rollups`] keep: the config's catalogue and experiments' metrics.
    fn set_metric_program(
        &self,
        program: std::sync::Arc<litmus_core::metrics::Program>,
    ) -> impl Future<Output = ()> + Send;
    /// The rollups' version: one more after each transaction that applied batches.
    fn rollup_version(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// What is stored but not yet in the rollups (results lag by the oldest batch's age).
    fn rollup_backlog(&self) -> impl Future<Output = Result<Backlog, StoreError>> + Send;
    /// Drops the raw events older than `cutoff_ms` (event time) and the deduplication keys
    /// received before it; the rollups stay. Answers how many events (SQLite) or chunks of
    /// them (TimescaleDB's `drop_chunks`, which drops whole days) were dropped.
    fn retain(&self, cutoff_ms: i64) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Every rollup, as core's reference holds them (for tests).
    fn rollups(&self) -> impl Future<Output = Result<RollupTables, StoreError>> + Send;
    /// The units exposed to `experiment` in order of first exposure (the first `limit`):
    /// each one's variant, first exposure and attributed events and total of `metric` (for
    /// replaying bandit policies).
    fn experiment_units(
        &self,
        experiment: &str,
        metric: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<UnitOutcome>, StoreError>> + Send;
    /// Up to `limit` units exposed to `experiment` with unit ids after `after` (from the
    /// first when `None`), in unit id order, with their figures (see [`UnitRecord`]).
    fn experiment_unit_records(
        &self,
        experiment: &str,
        after: Option<String>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<UnitRecord>, StoreError>> + Send;
    /// Every unit exposed to `experiment` (at most `limit`, in no order) with its figures of
    /// the metric whose rollup id is `metric`, as of the last checkpoint (for percentile caps).
    fn experiment_metric_values(
        &self,
        experiment: &str,
        metric: &str,
        limit: usize,
    ) -> impl Future<
        Output = Result<std::sync::Arc<Vec<litmus_core::results::UnitValue>>, StoreError>,
    > + Send;
    /// The derived metrics' rows of `experiment` the rollups hold (`backfill`): each metric's
    /// rollup id and, when its rows were recomputed after retention deleted events, the
    /// retention cutoff then (events before it are not counted).
    fn metric_rows(
        &self,
        experiment: &str,
    ) -> impl Future<Output = Result<Vec<(String, Option<i64>)>, StoreError>> + Send;
    /// The segments of `experiment` with rows (`litmus_core::segments`): (dimension, value),
    /// in order.
    fn experiment_segments(
        &self,
        experiment: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
    /// The first and last minute with units first exposed to `experiment`, if any.
    fn rollup_span(
        &self,
        experiment: &str,
    ) -> impl Future<Output = Result<Option<(i64, i64)>, StoreError>> + Send;
    /// The rollups of one experiment from minute `since_ms` on, added up into buckets of
    /// `bucket_ms` (a multiple of a minute), keyed by each bucket's start (for its results).
    fn experiment_rollups(
        &self,
        experiment: &str,
        bucket_ms: i64,
        since_ms: i64,
    ) -> impl Future<Output = Result<RollupTables, StoreError>> + Send;
    /// The stored events whose rollups were applied, by batch in the order they were applied
    /// (for recomputation).
    fn stored_events(&self) -> impl Future<Output = Result<Vec<Vec<Event>>, StoreError>> + Send;
}

/// A whole store: every concern. Code that needs one concern takes that trait; the state,
/// which hands each part to its users, takes this one.
pub trait Store:
    ConfigStore
    + KeyStore
    + ProjectStore
    + EnvironmentStore
    + AuditStore
    + UsageStore
    + EventStore
    + PeopleStore
    + WebhookStore
{
}

impl<
    T: ConfigStore
        + KeyStore
        + ProjectStore
        + EnvironmentStore
        + AuditStore
        + UsageStore
        + EventStore
        + PeopleStore
        + WebhookStore,
> Store for T
{
}

/// The rollup backlog: batches stored and acknowledged but not yet applied to the rollups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Backlog {
    /// Batches waiting.
    pub batches: u64,
    /// Events in them.
    pub events: u64,
    /// When the oldest waiting batch arrived, in milliseconds since the Unix epoch.
    pub oldest_received_ms: Option<i64>,
}

impl Backlog {
    /// How long the oldest waiting batch has waited at `now_ms` (0 without one).
    pub fn age_ms(&self, now_ms: i64) -> i64 {
        self.oldest_received_ms
            .map_or(0, |t| now_ms.saturating_sub(t).max(0))
    }
}

/// A batch of validated events to store.
#[derive(Debug, Clone)]
pub struct EventBatch {
    /// The events, in batch order.
    pub events: Vec<Event>,
    /// When the server received it, in milliseconds since the Unix epoch.
    pub received_ms: i64,
}

/// The 128-bit key an event is stored once by: its client timestamp (big-endian, so keys of
/// events sent at about the same time sit together in the index and inserts stay in a few
/// hot pages) and a 64-bit hash of its `message_id`. A retried event carries both unchanged
/// (the trackers keep an event whole across retries); telling two events with the same time
/// apart takes a 64-bit hash collision.
pub fn event_key(e: &Event) -> [u8; 16] {
    let ms = e.client_time.map_or(0, |t| t.unix_millis());
    // Flip the sign bit: negative times order before positive ones, bytewise.
    let time = (ms as u64) ^ (1 << 63);
    let hash = xxhash_rust::xxh3::xxh3_64(e.message_id.as_bytes());
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&time.to_be_bytes());
    key[8..].copy_from_slice(&hash.to_be_bytes());
    key
}

/// One unit of an experiment and its outcome on a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitOutcome {
    /// The variant it was first exposed to.
    pub variant: String,
    /// When, in ms since the Unix epoch.
    pub first_ms: i64,
    /// Its attributed events of the metric.
    pub events: u64,
    /// Their total value.
    pub total: f64,
}

/// One exposed unit of an experiment with its figures there (for exports and percentile
/// caps), as of the last checkpoint of the unit records.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    /// The unit.
    pub unit_id: String,
    /// The variant it was first exposed to.
    pub variant: String,
    /// When, in ms since the Unix epoch.
    pub first_ms: i64,
    /// Its figures per metric (by rollup id) in the experiment.
    pub metrics: Vec<UnitMetric>,
}

/// A unit's figures of one metric in one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitMetric {
    /// The metric's rollup id (an event's name, or a derived metric's id).
    pub metric: String,
    /// Its attributed events (a funnel's steps reached).
    pub events: u64,
    /// Its value, uncapped (a funnel's time of its last step).
    pub total: f64,
    /// Its covariate: its value before the exposure.
    pub covariate: f64,
}

/// What applying queued batches did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Batches applied (0: none was queued, or another instance holds the lock).
    pub batches: usize,
    /// The experiments whose rollups changed.
    pub experiments: BTreeSet<String>,
    /// The rollups' version after (0 when nothing was applied).
    pub version: u64,
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ingested {
    /// Events stored for the first time.
    pub stored: usize,
    /// Events already stored (retries), not stored again.
    pub duplicates: usize,
}

/// The rollup tables: units first exposed per (experiment, variant, minute), and the metric
/// rollups per (experiment, variant, metric, minute).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollupTables {
    /// (experiment, variant, minute) to units first exposed.
    pub exposures: BTreeMap<(String, String, i64), u64>,
    /// (experiment, variant, metric, minute) to its rollup.
    pub metrics: BTreeMap<(String, String, String, i64), MetricRollup>,
    /// (experiment, variant, metric, hour, sketch bucket) to the values in it (quantile
    /// metrics; read in coarser buckets, keyed by each bucket's start).
    pub sketches: BTreeMap<(String, String, String, i64, i32), i64>,
}

/// A stored event's columns as both backends read them back: written once, here, how they
/// become an [`Event`] again.
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    /// The batch it was stored in.
    pub(crate) batch: i64,
    /// Its `message_id`.
    pub(crate) message_id: String,
    /// Its unit.
    pub(crate) unit_id: String,
    /// Its time, in ms since the Unix epoch.
    pub(crate) time_ms: i64,
    /// An exposure (else a metric event).
    pub(crate) exposure: bool,
    /// An exposure's experiment.
    pub(crate) experiment: Option<String>,
    /// An exposure's variant.
    pub(crate) variant: Option<String>,
    /// A metric event's name.
    pub(crate) metric: Option<String>,
    /// A metric event's value (1 when absent).
    pub(crate) value: Option<f64>,
    /// A metric event's properties, or an exposure's dimension values (the `properties`
    /// column holds both, see [`stored_extras`]).
    pub(crate) properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What an event stores in its `properties` column, as JSON: a metric event's properties, an
/// exposure's dimension values (`{"country": "FR"}`; none when it carries none).
pub(crate) fn stored_extras(event: &Event) -> Result<Option<String>, serde_json::Error> {
    match &event.kind {
        litmus_core::events::EventKind::Track {
            properties: Some(p),
            ..
        } => serde_json::to_string(p).map(Some),
        litmus_core::events::EventKind::Exposure { dimensions, .. } if !dimensions.is_empty() => {
            let map: serde_json::Map<String, serde_json::Value> = dimensions
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::to_string(&map).map(Some)
        }
        _ => Ok(None),
    }
}

impl StoredEvent {
    /// The event as it was validated, with its batch.
    pub(crate) fn into_event(self) -> (i64, Event) {
        let kind = if self.exposure {
            let dimensions = self
                .properties
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(v) => Some((k, v)),
                    _ => None,
                })
                .collect();
            litmus_core::events::EventKind::Exposure {
                experiment: self.experiment.unwrap_or_default(),
                variant: self.variant.unwrap_or_default(),
                dimensions,
            }
        } else {
            litmus_core::events::EventKind::Track {
                event: self.metric.unwrap_or_default(),
                value: self.value.unwrap_or(1.0),
                properties: self.properties,
            }
        };
        let event = Event {
            message_id: self.message_id,
            unit_id: self.unit_id,
            time: litmus_core::Timestamp::from_unix_millis(self.time_ms),
            client_time: None,
            kind,
        };
        (self.batch, event)
    }
}

/// Events in batch order, each with its batch, grouped into their batches.
pub(crate) fn by_batch(events: impl IntoIterator<Item = (i64, Event)>) -> Vec<Vec<Event>> {
    let mut batches: Vec<(i64, Vec<Event>)> = Vec::new();
    for (batch, event) in events {
        match batches.last_mut() {
            Some((b, events)) if *b == batch => events.push(event),
            _ => batches.push((batch, vec![event])),
        }
    }
    batches.into_iter().map(|(_, e)| e).collect()
}

/// Events with their batches, in the order the batches were applied (`positions`: batch to
/// its position in `applied_batches`; a batch without one goes last), each batch's events in
/// the order given, grouped by batch.
pub(crate) fn by_applied_order(
    mut events: Vec<(i64, Event)>,
    positions: &std::collections::HashMap<i64, i64>,
) -> Vec<Vec<Event>> {
    events.sort_by_key(|(batch, _)| positions.get(batch).copied().unwrap_or(i64::MAX));
    by_batch(events)
}

/// The config document a snapshot publishes: `document` with `version` set to `v{version}`,
/// as JSON text, and its ETag.
pub fn publish(
    mut document: serde_json::Value,
    version: u64,
) -> Result<(String, String), StoreError> {
    if let Some(obj) = document.as_object_mut() {
        obj.insert("version".into(), format!("v{version}").into());
    }
    let body = serde_json::to_string(&document).map_err(|e| StoreError::Backend(e.to_string()))?;
    let tag = etag(version, &body);
    Ok((body, tag))
}

/// The empty config served before the first change (version 0).
pub const EMPTY: &str = r#"{"schema_version":1,"version":"v0","experiments":[]}"#;

/// The snapshot before the first change.
pub fn empty_snapshot() -> Snapshot {
    Snapshot {
        version: 0,
        etag: etag(0, EMPTY),
        body: EMPTY.to_owned(),
    }
}

/// The strong ETag of a snapshot body: its version and a hash of its bytes.
pub fn etag(version: u64, body: &str) -> String {
    format!(
        "\"v{version}-{:016x}\"",
        xxhash_rust::xxh3::xxh3_64(body.as_bytes())
    )
}
