//! The PostgreSQL config store: each project's objects, snapshots, API keys, environments and
//! audit log, and the projects. Its transactions are `crate::store::txn`'s, over the
//! primitives of [`PgTx`]; a project's writers are serialized by a lock on its row of
//! `config_head`.

use deadpool_postgres::GenericClient;
use litmus_core::config::wire::WireConfig;
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{PostgresStore, backend, current};
use crate::environments::EnvironmentRecord;
use crate::keys::{KeyRecord, Scope};
use crate::projects::ProjectRecord;
use crate::store::sql;
use crate::store::txn::{self, ConfigTx, Write};
use crate::store::{
    Actor, AuditEntry, AuditStore, Change, ConfigStore, EnvironmentStore, KeyStore, Kind,
    ProjectStore, Snapshot, StoreError, UsageStore,
};
use crate::usage::{FlagUsage, UsageRow};

const KEY_COLUMNS: &str =
    "SELECT id, name, scopes, hash, created_ms, revoked_ms, environment, project FROM api_keys";

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
        project: r.get(7),
    }
}

/// The current config version of `project` (0 for a project without a row).
async fn head_version(c: &impl GenericClient, project: &str) -> Result<u64, StoreError> {
    let row = c
        .query_opt(
            "SELECT version FROM config_head WHERE project = $1",
            &[&project],
        )
        .await
        .map_err(backend)?;
    Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
}

/// The stored objects of one kind in `project`, by key.
async fn bodies<T: serde::de::DeserializeOwned>(
    c: &impl GenericClient,
    project: &str,
    kind: Kind,
) -> Result<Vec<T>, StoreError> {
    c.query(&sql::objects_sql(kind), &[&project])
        .await
        .map_err(backend)?
        .into_iter()
        .map(|r| serde_json::from_value(r.get::<_, Value>(0)).map_err(backend))
        .collect()
}

/// An open PostgreSQL transaction: the primitives `txn` runs the config's transactions over.
struct PgTx<'c>(deadpool_postgres::Transaction<'c>);

impl ConfigTx for PgTx<'_> {
    async fn lock_version(&mut self, project: &str) -> Result<u64, StoreError> {
        let head = self
            .0
            .query_opt(
                "SELECT version FROM config_head WHERE project = $1 FOR UPDATE",
                &[&project],
            )
            .await
            .map_err(backend)?;
        Ok(head.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    async fn version(&mut self, project: &str) -> Result<u64, StoreError> {
        head_version(&self.0, project).await
    }

    async fn object(
        &mut self,
        project: &str,
        kind: Kind,
        key: &str,
    ) -> Result<Option<Value>, StoreError> {
        Ok(self
            .0
            .query_opt(&sql::object_sql(kind), &[&project, &key])
            .await
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    async fn write(&mut self, write: Write<'_>) -> Result<u64, StoreError> {
        let tx = &self.0;
        let changed = match write {
            Write::PutObject(row) => {
                let params: [&(dyn ToSql + Sync); 4] =
                    [&row.project, &row.key, row.body, &row.at_ms];
                tx.execute(&sql::upsert_object_sql(row.kind), &params).await
            }
            Write::DeleteObject { project, kind, key } => {
                tx.execute(&sql::delete_object_sql(kind), &[&project, &key])
                    .await
            }
            Write::Snapshot {
                project,
                snapshot: s,
                at_ms,
            } => {
                let version = s.version as i64;
                let params: [&(dyn ToSql + Sync); 5] =
                    [&project, &version, &s.body, &s.etag, &at_ms];
                match tx.execute(sql::INSERT_SNAPSHOT, &params).await {
                    Ok(_) => {
                        tx.execute(
                            "UPDATE config_head SET version = $2 WHERE project = $1",
                            &[&project, &version],
                        )
                        .await
                    }
                    Err(e) => Err(e),
                }
            }
            Write::Audit(e) => {
                let version = e.version as i64;
                let params: [&(dyn ToSql + Sync); 10] = [
                    &e.project,
                    &e.at_ms,
                    &e.actor.name,
                    &e.action,
                    &e.key,
                    &e.before,
                    &e.after,
                    &version,
                    &e.actor.ip,
                    &e.actor.user_agent,
                ];
                tx.execute(sql::INSERT_AUDIT, &params).await
            }
            Write::InsertKey(key) => {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                tx.execute(
                    "INSERT INTO api_keys (id, name, scopes, hash, created_ms, environment, project)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &key.id,
                        &key.name,
                        &scopes,
                        &key.hash,
                        &key.created_ms,
                        &key.environment,
                        &key.project,
                    ],
                )
                .await
            }
            Write::RevokeKey { project, id, at_ms } => {
                tx.execute(
                    "UPDATE api_keys SET revoked_ms = $3
                     WHERE project = $1 AND id = $2 AND revoked_ms IS NULL",
                    &[&project, &id, &at_ms],
                )
                .await
            }
            Write::InsertEnvironment {
                project,
                environment: e,
            } => {
                tx.execute(
                    sql::INSERT_ENVIRONMENT,
                    &[&project, &e.key, &e.name, &e.created_ms],
                )
                .await
            }
            Write::DeleteEnvironment { project, key } => {
                tx.execute(sql::DELETE_ENVIRONMENT, &[&project, &key]).await
            }
            Write::InsertProject(p) => {
                match tx
                    .execute(sql::INSERT_PROJECT, &[&p.key, &p.name, &p.created_ms])
                    .await
                {
                    // Its config versions start at 0, in a row of their own.
                    Ok(1) => tx
                        .execute(
                            "INSERT INTO config_head (project, version) VALUES ($1, 0)",
                            &[&p.key],
                        )
                        .await
                        .map(|_| 1),
                    other => other,
                }
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
    async fn snapshot(&self, project: &str) -> Result<Snapshot, StoreError> {
        let c = self.client().await?;
        current(&c, project).await
    }

    async fn version(&self, project: &str) -> Result<u64, StoreError> {
        head_version(&self.client().await?, project).await
    }

    async fn objects(&self, project: &str) -> Result<WireConfig, StoreError> {
        let mut client = self.client().await?;
        // One consistent view of the tables.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(backend)?;
        let config = WireConfig {
            schema_version: litmus_core::config::SCHEMA_VERSION,
            experiments: bodies(&tx, project, Kind::Experiment).await?,
            layers: bodies(&tx, project, Kind::Layer).await?,
            holdouts: bodies(&tx, project, Kind::Holdout).await?,
            metrics: bodies(&tx, project, Kind::Metric).await?,
            flags: bodies(&tx, project, Kind::Flag).await?,
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
    async fn create_key(&self, key: KeyRecord, actor: Actor) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        txn::create_key(Self::begin(&mut client).await?, key, actor).await
    }

    async fn keys(&self, project: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("{KEY_COLUMNS} WHERE project = $1 ORDER BY created_ms DESC, id"),
                &[&project],
            )
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

    async fn revoke_key(
        &self,
        project: &str,
        id: &str,
        actor: Actor,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        txn::revoke_key(Self::begin(&mut client).await?, project, id, actor, at_ms).await
    }
}

impl ProjectStore for PostgresStore {
    async fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c.query(sql::PROJECTS, &[]).await.map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| ProjectRecord {
                key: r.get(0),
                name: r.get(1),
                created_ms: r.get(2),
            })
            .collect())
    }

    async fn create_project(
        &self,
        project: ProjectRecord,
        actor: Actor,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        txn::create_project(Self::begin(&mut client).await?, project, actor).await
    }
}

impl EnvironmentStore for PostgresStore {
    async fn environments(&self, project: &str) -> Result<Vec<EnvironmentRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(sql::ENVIRONMENTS, &[&project])
            .await
            .map_err(backend)?;
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
        project: &str,
        environment: EnvironmentRecord,
        actor: Actor,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        txn::create_environment(Self::begin(&mut client).await?, project, environment, actor).await
    }

    async fn delete_environment(
        &self,
        project: &str,
        key: &str,
        actor: Actor,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        txn::delete_environment(Self::begin(&mut client).await?, project, key, actor, at_ms).await
    }
}

impl UsageStore for PostgresStore {
    async fn record_usage(&self, rows: Vec<UsageRow>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let stmt = tx.prepare(sql::RECORD_USAGE).await.map_err(backend)?;
        for r in &rows {
            let n = i64::try_from(r.evaluations).unwrap_or(i64::MAX);
            tx.execute(
                &stmt,
                &[&r.project, &r.environment, &r.flag, &n, &r.last_ms],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn flag_usage(
        &self,
        project: &str,
        environment: &str,
    ) -> Result<Vec<FlagUsage>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(sql::FLAG_USAGE, &[&project, &environment])
            .await
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| FlagUsage {
                flag: r.get(0),
                evaluations: r.get::<_, i64>(1).max(0) as u64,
                last_ms: r.get(2),
            })
            .collect())
    }
}

impl AuditStore for PostgresStore {
    async fn audit(
        &self,
        project: &str,
        limit: u32,
        key: Option<String>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(sql::AUDIT, &[&project, &key, &i64::from(limit)])
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
                ip: r.get(8),
                user_agent: r.get(9),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{PostgresStore, migrations, test_db};
    use crate::store::project_fixture;

    /// A database written before projects keeps everything, as the default project's.
    #[tokio::test]
    async fn a_database_before_projects_is_the_default_project() {
        let db = &test_db::PROJECTS;
        // The version is also in `config_head`, as every write kept it.
        let key = "INSERT INTO api_keys (id, name, scopes, hash, created_ms, environment)
             VALUES ('k1', 'web', '{sdk:read,assign}', 'h', 1, 'staging');
             UPDATE config_head SET version = 3";
        let rows = [project_fixture::ROWS, key];
        let Some(url) = test_db::at_migration(db, migrations::PROJECTS - 1, &rows).await else {
            return;
        };
        let store = PostgresStore::connect(&url, 2).await.unwrap();
        project_fixture::carried_over(&store).await;
        drop(store);
        test_db::drop_database(db).await;
    }
}
