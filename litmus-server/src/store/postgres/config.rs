//! The PostgreSQL config store: objects, snapshots, API keys and the audit log. Its
//! transactions are `crate::store::txn`'s, over the primitives of [`PgTx`].

use deadpool_postgres::GenericClient;
use litmus_core::config::wire::WireConfig;
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{PostgresStore, backend, current};
use crate::environments::EnvironmentRecord;
use crate::keys::{KeyRecord, Scope};
use crate::store::sql;
use crate::store::txn::{self, ConfigTx, Write};
use crate::store::{
    AuditEntry, AuditStore, Change, ConfigStore, EnvironmentStore, KeyStore, Kind, Snapshot,
    StoreError,
};

const KEY_COLUMNS: &str =
    "SELECT id, name, scopes, hash, created_ms, revoked_ms, environment FROM api_keys";

fn key_row(r: &Row) -> KeyRecord {
    let scopes: Vec<String> = r.get(2);
    KeyRecord {
        id: r.get(0),
        name: r.get(1),
        scopes: scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        hash: r.get(3),
        created_ms: r.get(4),
        revoked_ms: r.get(5),
        environment: r.get(6),
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

/// The stored objects of one kind, by key.
async fn bodies<T: serde::de::DeserializeOwned>(
    c: &impl GenericClient,
    kind: Kind,
) -> Result<Vec<T>, StoreError> {
    c.query(&sql::objects_sql(kind), &[])
        .await
        .map_err(backend)?
        .into_iter()
        .map(|r| serde_json::from_value(r.get::<_, Value>(0)).map_err(backend))
        .collect()
}

/// An open PostgreSQL transaction: the primitives `txn` runs the config's transactions over.
struct PgTx<'c>(deadpool_postgres::Transaction<'c>);

impl ConfigTx for PgTx<'_> {
    async fn lock_version(&mut self) -> Result<u64, StoreError> {
        let head: i64 = self
            .0
            .query_one("SELECT version FROM config_head FOR UPDATE", &[])
            .await
            .map_err(backend)?
            .get(0);
        Ok(head as u64)
    }

    async fn version(&mut self) -> Result<u64, StoreError> {
        head_version(&self.0).await
    }

    async fn object(&mut self, kind: Kind, key: &str) -> Result<Option<Value>, StoreError> {
        Ok(self
            .0
            .query_opt(&sql::object_sql(kind), &[&key])
            .await
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    async fn write(&mut self, write: Write<'_>) -> Result<u64, StoreError> {
        let tx = &self.0;
        let changed = match write {
            Write::PutObject(row) => {
                let params: [&(dyn ToSql + Sync); 3] = [&row.key, row.body, &row.at_ms];
                tx.execute(&sql::upsert_object_sql(row.kind), &params).await
            }
            Write::DeleteObject { kind, key } => {
                tx.execute(&sql::delete_object_sql(kind), &[&key]).await
            }
            Write::Snapshot { snapshot: s, at_ms } => {
                let version = s.version as i64;
                let params: [&(dyn ToSql + Sync); 4] = [&version, &s.body, &s.etag, &at_ms];
                match tx.execute(sql::INSERT_SNAPSHOT, &params).await {
                    Ok(_) => {
                        tx.execute("UPDATE config_head SET version = $1", &[&version])
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
            Write::Audit(e) => {
                let version = e.version as i64;
                let params: [&(dyn ToSql + Sync); 7] = [
                    &e.at_ms, &e.actor, &e.action, &e.key, &e.before, &e.after, &version,
                ];
                tx.execute(sql::INSERT_AUDIT, &params).await
            }
            Write::InsertKey(key) => {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                tx.execute(
                    "INSERT INTO api_keys (id, name, scopes, hash, created_ms, environment)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &key.id,
                        &key.name,
                        &scopes,
                        &key.hash,
                        &key.created_ms,
                        &key.environment,
                    ],
                )
                .await
            }
            Write::InsertEnvironment(e) => {
                tx.execute(sql::INSERT_ENVIRONMENT, &[&e.key, &e.name, &e.created_ms])
                    .await
            }
            Write::DeleteEnvironment(key) => tx.execute(sql::DELETE_ENVIRONMENT, &[&key]).await,
            Write::RevokeKey { id, at_ms } => {
                tx.execute(
                    "UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                    &[&id, &at_ms],
                )
                .await
            }
        };
        changed.map_err(backend)
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await.map_err(backend)
    }
}

impl PostgresStore {
    /// A new transaction on a pooled connection, for one of `txn`'s transactions.
    async fn begin<'c>(client: &'c mut deadpool_postgres::Object) -> Result<PgTx<'c>, StoreError> {
        Ok(PgTx(client.transaction().await.map_err(backend)?))
    }
}

impl ConfigStore for PostgresStore {
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
            metrics: bodies(&tx, Kind::Metric).await?,
            flags: bodies(&tx, Kind::Flag).await?,
            ..WireConfig::default()
        };
        tx.commit().await.map_err(backend)?;
        Ok(config)
    }

    async fn apply(&self, change: Change) -> Result<Snapshot, StoreError> {
        let mut client = self.client().await?;
        txn::apply(Self::begin(&mut client).await?, change).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.query_one("SELECT 1", &[]).await.map_err(backend)?;
        Ok(())
    }
}

impl KeyStore for PostgresStore {
    async fn create_key(&self, key: KeyRecord, actor: String) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        txn::create_key(Self::begin(&mut client).await?, key, actor).await
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
        txn::revoke_key(Self::begin(&mut client).await?, id, actor, at_ms).await
    }
}

impl EnvironmentStore for PostgresStore {
    async fn environments(&self) -> Result<Vec<EnvironmentRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c.query(sql::ENVIRONMENTS, &[]).await.map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| EnvironmentRecord {
                key: r.get(0),
                name: r.get(1),
                created_ms: r.get(2),
            })
            .collect())
    }

    async fn create_environment(
        &self,
        environment: EnvironmentRecord,
        actor: String,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        txn::create_environment(Self::begin(&mut client).await?, environment, actor).await
    }

    async fn delete_environment(
        &self,
        key: &str,
        actor: String,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        txn::delete_environment(Self::begin(&mut client).await?, key, actor, at_ms).await
    }
}

impl AuditStore for PostgresStore {
    async fn audit(&self, limit: u32, key: Option<String>) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, at_ms, actor, action, key, before, after, version
                 FROM audit WHERE $2::text IS NULL OR key = $2 ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit), &key],
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
}
