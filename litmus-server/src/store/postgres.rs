//! The PostgreSQL store (with TimescaleDB, which the event tables use), chosen when
//! `DATABASE_URL` is set: what several server instances share. A pool of connections;
//! versioned migrations applied under an advisory lock, so instances starting together do not
//! race; writers serialized by a row lock on the one-row `config_head`, so concurrent changes
//! from different instances get consecutive versions or a conflict, never a lost update.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use litmus_core::config::wire::WireConfig;
use serde_json::Value;
use tokio_postgres::{NoTls, Row};

use super::{AuditEntry, Change, Edit, Kind, Snapshot, Store, StoreError, empty_snapshot, publish};
use crate::keys::{KeyRecord, Scope};

/// Versioned migrations, applied in order; `litmus_migrations` records which ran.
const MIGRATIONS: &[&str] = &[
    // 1: config objects, published snapshots, the audit log (append-only), API keys.
    "CREATE TABLE config_head (
         id boolean PRIMARY KEY DEFAULT true CHECK (id),
         version bigint NOT NULL
     );
     INSERT INTO config_head (version) VALUES (0);
     CREATE TABLE experiments (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE layers (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE holdouts (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE snapshots (
         version bigint PRIMARY KEY,
         body text NOT NULL,
         etag text NOT NULL,
         created_ms bigint NOT NULL
     );
     CREATE TABLE audit (
         id bigserial PRIMARY KEY,
         at_ms bigint NOT NULL,
         actor text NOT NULL,
         action text NOT NULL,
         key text NOT NULL,
         before jsonb,
         after jsonb,
         version bigint NOT NULL
     );
     CREATE FUNCTION litmus_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
         RAISE EXCEPTION 'the audit log is append-only';
     END $$;
     CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
         FOR EACH STATEMENT EXECUTE FUNCTION litmus_audit_append_only();
     CREATE TABLE api_keys (
         id text PRIMARY KEY,
         name text NOT NULL,
         scopes text[] NOT NULL,
         hash text NOT NULL,
         created_ms bigint NOT NULL,
         revoked_ms bigint
     );",
];

/// The advisory lock key that serializes migrations between instances.
const MIGRATION_LOCK: i64 = 0x6c69_746d_7573;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) with a pool of at most
    /// `max_connections`, and applies pending migrations.
    pub async fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(backend)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .build()
            .map_err(backend)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(backend)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS litmus_migrations (
                 version integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(backend)?;
        let done: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM litmus_migrations",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(done).unwrap_or(0))
        {
            tx.batch_execute(sql).await.map_err(backend)?;
            let version = i32::try_from(i + 1).map_err(backend)?;
            tx.execute(
                "INSERT INTO litmus_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}

fn snapshot_row(row: &Row) -> Snapshot {
    Snapshot {
        version: row.get::<_, i64>(0) as u64,
        etag: row.get(1),
        body: row.get(2),
    }
}

async fn current(c: &impl GenericClient) -> Result<Snapshot, StoreError> {
    let row = c
        .query_opt(
            "SELECT version, etag, body FROM snapshots ORDER BY version DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(backend)?;
    Ok(row.as_ref().map_or_else(empty_snapshot, snapshot_row))
}

const KEY_COLUMNS: &str = "SELECT id, name, scopes, hash, created_ms, revoked_ms FROM api_keys";

fn key_row(r: &Row) -> KeyRecord {
    let scopes: Vec<String> = r.get(2);
    KeyRecord {
        id: r.get(0),
        name: r.get(1),
        scopes: scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        hash: r.get(3),
        created_ms: r.get(4),
        revoked_ms: r.get(5),
    }
}

/// The current config version.
async fn head_version(c: &impl GenericClient) -> Result<u64, StoreError> {
    let row = c
        .query_one("SELECT version FROM config_head", &[])
        .await
        .map_err(backend)?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Appends an audit entry at the config version `version`.
#[allow(clippy::too_many_arguments)]
async fn audit_row(
    tx: &impl GenericClient,
    at_ms: i64,
    actor: &str,
    action: &str,
    key: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    version: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit (at_ms, actor, action, key, before, after, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &at_ms,
            &actor,
            &action,
            &key,
            &before,
            &after,
            &(version as i64),
        ],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// The stored objects of one kind, by key.
async fn bodies<T: serde::de::DeserializeOwned>(
    c: &impl GenericClient,
    kind: Kind,
) -> Result<Vec<T>, StoreError> {
    let sql = format!("SELECT body FROM {} ORDER BY key", kind.table());
    c.query(&sql, &[])
        .await
        .map_err(backend)?
        .into_iter()
        .map(|r| serde_json::from_value(r.get::<_, Value>(0)).map_err(backend))
        .collect()
}

impl Store for PostgresStore {
    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let c = self.client().await?;
        current(&c).await
    }

    async fn version(&self) -> Result<u64, StoreError> {
        head_version(&self.client().await?).await
    }

    async fn objects(&self) -> Result<WireConfig, StoreError> {
        let mut client = self.client().await?;
        // One consistent view of the three tables.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(backend)?;
        let config = WireConfig {
            schema_version: litmus_core::config::SCHEMA_VERSION,
            experiments: bodies(&tx, Kind::Experiment).await?,
            layers: bodies(&tx, Kind::Layer).await?,
            holdouts: bodies(&tx, Kind::Holdout).await?,
            ..WireConfig::default()
        };
        tx.commit().await.map_err(backend)?;
        Ok(config)
    }

    async fn apply(&self, change: Change) -> Result<Snapshot, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let head: i64 = tx
            .query_one("SELECT version FROM config_head FOR UPDATE", &[])
            .await
            .map_err(backend)?
            .get(0);
        if head as u64 != change.base_version {
            return Err(StoreError::Conflict);
        }
        let version = change.base_version + 1;
        let (kind, key) = (change.edit.kind(), change.edit.key().to_owned());
        let before: Option<Value> = tx
            .query_opt(
                &format!("SELECT body FROM {} WHERE key = $1", kind.table()),
                &[&key],
            )
            .await
            .map_err(backend)?
            .map(|r| r.get(0));
        let after = match &change.edit {
            Edit::Put(object) => {
                let after = serde_json::to_value(object).map_err(backend)?;
                tx.execute(
                    &format!(
                        "INSERT INTO {} (key, body, updated_ms) VALUES ($1, $2, $3)
                         ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
                        kind.table()
                    ),
                    &[&key, &after, &change.at_ms],
                )
                .await
                .map_err(backend)?;
                Some(after)
            }
            Edit::Delete { .. } => {
                tx.execute(
                    &format!("DELETE FROM {} WHERE key = $1", kind.table()),
                    &[&key],
                )
                .await
                .map_err(backend)?;
                None
            }
        };
        let (body, tag) = publish(change.document, version)?;
        tx.execute(
            "INSERT INTO snapshots (version, body, etag, created_ms) VALUES ($1, $2, $3, $4)",
            &[&(version as i64), &body, &tag, &change.at_ms],
        )
        .await
        .map_err(backend)?;
        tx.execute("UPDATE config_head SET version = $1", &[&(version as i64)])
            .await
            .map_err(backend)?;
        audit_row(
            &tx,
            change.at_ms,
            &change.actor,
            &change.action,
            &key,
            before.as_ref(),
            after.as_ref(),
            version,
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(Snapshot {
            version,
            etag: tag,
            body,
        })
    }

    async fn audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, at_ms, actor, action, key, before, after, version
                 FROM audit ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit)],
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get::<_, i64>(0) as u64,
                at_ms: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                key: r.get(4),
                before: r.get(5),
                after: r.get(6),
                version: r.get::<_, i64>(7) as u64,
            })
            .collect())
    }

    async fn create_key(&self, key: KeyRecord, actor: String) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        tx.execute(
            "INSERT INTO api_keys (id, name, scopes, hash, created_ms) VALUES ($1, $2, $3, $4, $5)",
            &[&key.id, &key.name, &scopes, &key.hash, &key.created_ms],
        )
        .await
        .map_err(backend)?;
        let version = head_version(&tx).await?;
        let after = serde_json::to_value(&key).map_err(backend)?;
        audit_row(
            &tx,
            key.created_ms,
            &actor,
            "key.create",
            &key.id,
            None,
            Some(&after),
            version,
        )
        .await?;
        tx.commit().await.map_err(backend)
    }

    async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(&format!("{KEY_COLUMNS} ORDER BY created_ms DESC, id"), &[])
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(key_row).collect())
    }

    async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(&format!("{KEY_COLUMNS} WHERE id = $1"), &[&id])
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(key_row))
    }

    async fn revoke_key(&self, id: &str, actor: String, at_ms: i64) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let n = tx
            .execute(
                "UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                &[&id, &at_ms],
            )
            .await
            .map_err(backend)?;
        if n > 0 {
            let version = head_version(&tx).await?;
            audit_row(&tx, at_ms, &actor, "key.revoke", id, None, None, version).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(n > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.query_one("SELECT 1", &[]).await.map_err(backend)?;
        Ok(())
    }
}
