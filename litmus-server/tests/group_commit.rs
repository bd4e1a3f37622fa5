//! The group commit of event batches on every backend: a group of batches is one transaction
//! in which each batch keeps its own counts, number and rollup queue entry; a `message_id`
//! carried twice in a group is stored once, for the first batch; a failed group keeps nothing
//! and answers every request in it an error. Requests are grouped by arrival, so the tests
//! through the API assert what holds however they were grouped; `GroupWrite::write_group`
//! writes a chosen group directly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use litmus_core::Timestamp;
use litmus_core::events::{Event, EventKind};
use litmus_server::state::AppState;
use litmus_server::store::group_commit::GroupWrite;
use litmus_server::store::postgres::PostgresStore;
use litmus_server::store::sqlite::SqliteStore;
use litmus_server::store::{EventBatch, Ingested, Store};
use serde_json::{Value, json};

on_every_backend!(
    a_group_gives_each_batch_its_own_counts_number_and_queue_entry,
    concurrent_requests_store_each_message_id_once,
);

/// The events' time: recent, so no retention drops them.
fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn event(id: &str, t: i64) -> Event {
    Event {
        message_id: id.to_owned(),
        unit_id: format!("unit-{id}"),
        time: Timestamp::from_unix_millis(t),
        client_time: Some(Timestamp::from_unix_millis(t)),
        kind: EventKind::Track {
            event: "buy".to_owned(),
            value: 1.0,
            properties: None,
        },
    }
}

fn batch(ids: &[&str], t: i64) -> EventBatch {
    EventBatch {
        events: ids.iter().map(|id| event(id, t)).collect(),
        received_ms: t,
    }
}

fn counts(reports: &[Ingested]) -> Vec<(usize, usize)> {
    reports.iter().map(|r| (r.stored, r.duplicates)).collect()
}

/// The message ids of the stored batches, batch by batch in the order the rollups applied
/// them (after applying every queued batch).
async fn applied_batches<S: Store>(store: &S) -> Vec<Vec<String>> {
    while store.apply_rollups(3_600_000, 1_000).await.unwrap().batches > 0 {}
    store
        .stored_events()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.into_iter().map(|e| e.message_id).collect())
        .collect()
}

async fn a_group_gives_each_batch_its_own_counts_number_and_queue_entry<S: Store + GroupWrite>(
    env: &Env<S>,
) {
    let state = env.instance().await;
    let store: &S = &state.store;
    let t = now_ms();
    // A group of new keys only (PostgreSQL's one COPY of the keys succeeds), in which a later
    // batch repeats an earlier one's message_id.
    let first = store
        .write_group(vec![batch(&["a", "b"], t), batch(&["b", "c"], t)])
        .await
        .unwrap();
    assert_eq!(counts(&first), vec![(2, 0), (1, 1)]);
    // A group with keys already stored (PostgreSQL asks event_ids which keys are new), keys
    // repeated across its batches and within one, and a batch that stores nothing.
    let second = store
        .write_group(vec![
            batch(&["d", "a", "e"], t),
            batch(&["e", "f", "f"], t),
            batch(&["c", "d"], t),
            batch(&["g"], t),
        ])
        .await
        .unwrap();
    assert_eq!(counts(&second), vec![(2, 1), (1, 2), (0, 2), (1, 0)]);
    // Each batch that stored something is queued on its own, with its own events.
    let backlog = store.rollup_backlog().await.unwrap();
    assert_eq!((backlog.batches, backlog.events), (5, 7), "{}", env.name);
    assert_eq!(
        applied_batches(store).await,
        vec![
            vec!["a", "b"],
            vec!["c"],
            vec!["d", "e"],
            vec!["f"],
            vec!["g"]
        ],
        "{}: each batch applied on its own, in group order",
        env.name
    );
    // The ingestion path answers the same: the group's keys are stored.
    let again = store.ingest(batch(&["g", "h"], t)).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (1, 1));
}

/// The body of a batch of track events with these message ids, all at time `t`.
fn body(ids: &[String], t: i64) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| {
                json!({"type": "track", "message_id": id, "unit_id": format!("unit-{id}"),
                       "event": "buy", "value": 1, "timestamp": t})
            })
            .collect(),
    )
}

/// Posts `bodies` at once through the API; answers each one's status and body.
async fn post_all(app: &axum::Router, bodies: Vec<Value>) -> Vec<Reply> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let app = app.clone();
            tokio::spawn(async move { send(&app, "POST", "/events", Some(KEY), Some(b)).await })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    replies
}

async fn concurrent_requests_store_each_message_id_once<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(Arc::clone(&state));
    let t = now_ms();
    // 24 requests of 10 events; request k carries ids k..k+10 of 40: most ids are sent by
    // several requests at once, each request repeats its first id, and they are grouped
    // however they arrive.
    let batches: Vec<Vec<String>> = (0..24)
        .map(|k| {
            let mut ids: Vec<String> = (k..k + 10).map(|i| format!("m{}", i % 40)).collect();
            ids.push(ids[0].clone());
            ids
        })
        .collect();
    let replies = post_all(&app, batches.iter().map(|ids| body(ids, t)).collect()).await;
    let mut accepted = 0;
    for (ids, r) in batches.iter().zip(&replies) {
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", env.name, r.body);
        let (a, d) = (
            r.body["accepted"].as_u64().unwrap(),
            r.body["duplicates"].as_u64().unwrap(),
        );
        assert_eq!(a + d, ids.len() as u64, "{}: {:?}", env.name, r.body);
        accepted += a;
    }
    let distinct: HashSet<&String> = batches.iter().flatten().collect();
    assert_eq!(accepted, distinct.len() as u64, "{}", env.name);
    // Each id stored once, in a batch of the request that was answered for it.
    let stored = applied_batches(&*state.store).await;
    let mut times: BTreeMap<&str, usize> = BTreeMap::new();
    for id in stored.iter().flatten() {
        *times.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(times.len(), distinct.len(), "{}", env.name);
    assert!(times.values().all(|&n| n == 1), "{}: {times:?}", env.name);
    let answered: Vec<u64> = replies
        .iter()
        .map(|r| r.body["accepted"].as_u64().unwrap())
        .filter(|&a| a > 0)
        .collect();
    let mut sizes: Vec<u64> = stored.iter().map(|b| b.len() as u64).collect();
    let mut answered = answered;
    sizes.sort_unstable();
    answered.sort_unstable();
    assert_eq!(sizes, answered, "{}: a stored batch per answer", env.name);
}

/// A message id the stores are made to refuse (a trigger or a constraint): whatever group
/// carries it fails.
const POISON: &str = "poison";

/// Posts batches at once, one of them carrying [`POISON`]: the request with it is answered
/// 503, and so is every request that shared its group; the events of a request answered 503
/// are not stored, those of a request answered 200 are, and nothing of the failed group's
/// other batches is kept (a later retry of them stores them all).
async fn a_failed_group_keeps_nothing_and_answers_each_request<S: Store + GroupWrite>(
    state: Arc<AppState<S>>,
) {
    let store: &S = &state.store;
    let t = now_ms();
    // A chosen group with the poison in its last batch: all or nothing.
    let failed = store
        .write_group(vec![batch(&["a", "b"], t), batch(&["c", POISON], t)])
        .await;
    assert!(failed.is_err());
    let backlog = store.rollup_backlog().await.unwrap();
    assert_eq!((backlog.batches, backlog.events), (0, 0));
    let retried = store.ingest(batch(&["a", "b", "c"], t)).await.unwrap();
    assert_eq!(
        (retried.stored, retried.duplicates),
        (3, 0),
        "no key of the failed group was kept"
    );

    // Through the API, grouped as they arrive.
    let app = litmus_server::app(Arc::clone(&state));
    let batches: Vec<Vec<String>> = (0..12)
        .map(|k| {
            if k == 5 {
                vec![format!("r{k}"), POISON.to_owned()]
            } else {
                vec![format!("r{k}"), format!("s{k}")]
            }
        })
        .collect();
    let replies = post_all(&app, batches.iter().map(|ids| body(ids, t)).collect()).await;
    assert_eq!(replies[5].status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&replies[5]), "store_unavailable");
    let stored: HashSet<String> = applied_batches(store).await.into_iter().flatten().collect();
    for (ids, r) in batches.iter().zip(&replies) {
        match r.status {
            StatusCode::OK => assert!(ids.iter().all(|id| stored.contains(id)), "{ids:?}"),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(ids.iter().all(|id| !stored.contains(id)), "{ids:?}");
            }
            other => panic!("{other}: {:?}", r.body),
        }
    }
}

/// A store on a fresh SQLite file in `dir` (under the temporary directory) to which `sql` was
/// applied (a failure to inject), and the file's directory, to remove at the end.
fn sqlite_with(dir: &str, sql: &str) -> (SqliteStore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("{dir}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("litmus.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    (store, dir)
}

/// A PostgreSQL database (deleted when the `Env` is dropped) and an instance on it, migrated,
/// to whose store `sql` was applied (a failure to inject); `None` without PostgreSQL.
async fn postgres_with(sql: &str) -> Option<(Env<PostgresStore>, Arc<AppState<PostgresStore>>)> {
    let env = postgres(false).await?;
    let (client, conn) = tokio_postgres::connect(env.database().unwrap(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    // Migrated by the first instance, then changed.
    let state = env.instance().await;
    client.batch_execute(sql).await.unwrap();
    Some((env, state))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_group_keeps_nothing_on_sqlite() {
    let (store, dir) = sqlite_with(
        "litmus-group-commit",
        &format!(
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.message_id = '{POISON}'
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;"
        ),
    );
    a_failed_group_keeps_nothing_and_answers_each_request(AppState::new(store, KEY)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_group_keeps_nothing_on_postgres() {
    let sql =
        format!("ALTER TABLE events ADD CONSTRAINT no_poison CHECK (message_id <> '{POISON}')");
    let Some((_env, state)) = postgres_with(&sql).await else {
        return;
    };
    a_failed_group_keeps_nothing_and_answers_each_request(state).await;
}

/// A message id whose batch fails only when its transaction commits (a deferred constraint).
const COMMIT_POISON: &str = "commit-poison";

/// A group that fails at its commit (after its batches were written and handed to the rollup
/// worker in memory) keeps nothing: the batch stored next (which takes a failed batch's number
/// again on SQLite) is counted with its own events, and the rollups equal a recomputation from
/// the events stored. Exposures make the units count, so rollups made from the failed group's
/// events would differ. (That the hand-off forgets a failed batch is `store::handoff`'s test.)
async fn a_group_failing_at_commit_leaves_the_rollups_to_what_was_stored<S: Store + GroupWrite>(
    store: &S,
) {
    let t = now_ms();
    let exposed = |unit: &str| Event {
        message_id: format!("x-{unit}"),
        unit_id: unit.into(),
        time: Timestamp::from_unix_millis(t - 1_000),
        client_time: Some(Timestamp::from_unix_millis(t - 1_000)),
        kind: EventKind::Exposure {
            experiment: "e".into(),
            variant: "a".into(),
            dimensions: Vec::new(),
        },
    };
    let ok = EventBatch {
        events: vec![exposed("unit-a"), exposed("unit-b"), exposed("unit-c")],
        received_ms: t,
    };
    assert_eq!(store.ingest(ok).await.unwrap().stored, 3);
    // The rollup worker is under way (a worker that starts over drops the hand-off).
    while store.apply_rollups(3_600_000, 1_000).await.unwrap().batches > 0 {}
    let failed = store
        .write_group(vec![batch(&["a", "b"], t), batch(&["c", COMMIT_POISON], t)])
        .await;
    assert!(failed.is_err(), "the commit fails");
    // The same batch numbers are taken again (SQLite numbers batches from the events).
    let later = store.ingest(batch(&["a"], t)).await.unwrap();
    assert_eq!(later.stored, 1);
    while store.apply_rollups(3_600_000, 1_000).await.unwrap().batches > 0 {}
    let mut reference = litmus_core::events::Rollups::new(3_600_000);
    for events in store.stored_events().await.unwrap() {
        reference.apply(&events);
    }
    let tables = store.rollups().await.unwrap();
    assert_eq!(tables.exposures, reference.exposures);
    assert_eq!(tables.metrics, reference.metrics);
    let buys: u64 = tables.metrics.values().map(|m| m.events).sum();
    assert_eq!(buys, 1, "only the one stored metric event counts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_failing_at_commit_on_sqlite() {
    // A deferred foreign key: checked, and refused, at the commit.
    let (store, dir) = sqlite_with(
        "litmus-group-commit-late",
        &format!(
            "CREATE TABLE poison_parent (id TEXT PRIMARY KEY);
             CREATE TABLE poison_child (
                 parent TEXT REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED);
             CREATE TRIGGER commit_poison AFTER INSERT ON events
                 WHEN NEW.message_id = '{COMMIT_POISON}'
             BEGIN INSERT INTO poison_child VALUES ('missing'); END;"
        ),
    );
    a_group_failing_at_commit_leaves_the_rollups_to_what_was_stored(&store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_failing_at_commit_on_postgres() {
    // A deferred constraint trigger: it runs, and refuses, at the commit.
    let sql = format!(
        "CREATE FUNCTION commit_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'poisoned at commit'; END $$;
         CREATE CONSTRAINT TRIGGER commit_poison AFTER INSERT ON events
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
             WHEN (NEW.message_id = '{COMMIT_POISON}') EXECUTE FUNCTION commit_poison();"
    );
    let Some((_env, state)) = postgres_with(&sql).await else {
        return;
    };
    let store: &PostgresStore = &state.store;
    a_group_failing_at_commit_leaves_the_rollups_to_what_was_stored(store).await;
}
