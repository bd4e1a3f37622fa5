//! The SQLite config store: each project's objects, snapshots, API keys, environments and
//! audit log, and the projects. Its transactions are `crate::store::txn`'s, over the
//! primitives of [`SqliteTx`].

use futures_util::FutureExt;
use litmus_core::config::wire::WireConfig;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::{SqliteStore, backend};
use crate::environments::EnvironmentRecord;
use crate::keys::{KeyRecord, Scope};
use crate::projects::ProjectRecord;
use crate::store::sql;
use crate::store::txn::{self, ConfigTx, Write};
use crate::store::{
    Actor, AuditEntry, AuditStore, Change, ConfigStore, EnvironmentStore, KeyStore, Kind,
    ProjectStore, Snapshot, StoreError, UsageStore, empty_snapshot,
};
use crate::usage::{FlagUsage, UsageRow};

/// The newest snapshot of `project` (the empty one before its first change).
fn current(conn: &Connection, project: &str) -> Result<Snapshot, StoreError> {
    let row = conn
        .query_row(sql::CURRENT_SNAPSHOT, [project], |r| {
            Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(backend)?;
    Ok(match row {
        Some((version, etag, body)) => Snapshot {
            version: version as u64,
            etag,
            body,
        },
        None => empty_snapshot(),
    })
}

/// The config version of `project`.
fn version_of(conn: &Connection, project: &str) -> Result<u64, StoreError> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM snapshots WHERE project = ?1",
        [project],
        |r| r.get::<_, i64>(0),
    )
    .map(|v| v as u64)
    .map_err(backend)
}

/// Stored JSON bodies to wire objects.
fn parse_all<T: serde::de::DeserializeOwned>(bodies: Vec<String>) -> Result<Vec<T>, StoreError> {
    bodies
        .iter()
        .map(|b| serde_json::from_str(b).map_err(backend))
        .collect()
}

const KEY_COLUMNS: &str =
    "SELECT id, name, scopes, hash, created_ms, revoked_ms, environment, project FROM keys";

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    let scopes: String = r.get(2)?;
    Ok(KeyRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: scopes.split(',').filter_map(Scope::parse).collect(),
        hash: r.get(3)?,
        created_ms: r.get(4)?,
        revoked_ms: r.get(5)?,
        environment: r.get(6)?,
        project: r.get(7)?,
    })
}

/// A transaction's future on SQLite never waits (its calls block on the connection, on a
/// blocking thread): this runs it to its end.
fn finish<T>(
    transaction: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    transaction
        .now_or_never()
        .unwrap_or_else(|| Err(StoreError::Backend("an SQLite transaction waited".into())))
}

/// An open SQLite transaction: the primitives `txn` runs the config's transactions over.
struct SqliteTx<'c>(rusqlite::Transaction<'c>);

impl ConfigTx for SqliteTx<'_> {
    async fn lock_version(&mut self, project: &str) -> Result<u64, StoreError> {
        // One connection behind a mutex: the transaction is the only writer.
        version_of(&self.0, project)
    }

    async fn version(&mut self, project: &str) -> Result<u64, StoreError> {
        version_of(&self.0, project)
    }

    async fn object(
        &mut self,
        project: &str,
        kind: Kind,
        key: &str,
    ) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = self
            .0
            .query_row(&sql::object_sql(kind), [project, key], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        body.map(|b| serde_json::from_str(&b).map_err(backend))
            .transpose()
    }

    async fn write(&mut self, write: Write<'_>) -> Result<u64, StoreError> {
        let tx = &self.0;
        let changed = match write {
            Write::PutObject(row) => tx.execute(
                &sql::upsert_object_sql(row.kind),
                params![row.project, row.key, row.body.to_string(), row.at_ms],
            ),
            Write::DeleteObject { project, kind, key } => {
                tx.execute(&sql::delete_object_sql(kind), [project, key])
            }
            Write::Snapshot {
                project,
                snapshot: s,
                at_ms,
            } => tx.execute(
                sql::INSERT_SNAPSHOT,
                params![project, s.version as i64, s.body, s.etag, at_ms],
            ),
            Write::Audit(e) => tx.execute(
                sql::INSERT_AUDIT,
                params![
                    e.project,
                    e.at_ms,
                    e.actor.name,
                    e.action,
                    e.key,
                    e.before.map(Value::to_string),
                    e.after.map(Value::to_string),
                    e.version as i64,
                    e.actor.ip,
                    e.actor.user_agent
                ],
            ),
            Write::InsertKey(key) => {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                tx.execute(
                    "INSERT INTO keys (id, name, scopes, hash, created_ms, environment, project)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        key.id,
                        key.name,
                        scopes.join(","),
                        key.hash,
                        key.created_ms,
                        key.environment,
                        key.project
                    ],
                )
            }
            Write::RevokeKey { project, id, at_ms } => tx.execute(
                "UPDATE keys SET revoked_ms = ?3
                 WHERE project = ?1 AND id = ?2 AND revoked_ms IS NULL",
                params![project, id, at_ms],
            ),
            Write::InsertEnvironment {
                project,
                environment: e,
            } => tx.execute(
                sql::INSERT_ENVIRONMENT,
                params![project, e.key, e.name, e.created_ms],
            ),
            Write::DeleteEnvironment { project, key } => {
                tx.execute(sql::DELETE_ENVIRONMENT, [project, key])
            }
            Write::InsertProject(p) => {
                tx.execute(sql::INSERT_PROJECT, params![p.key, p.name, p.created_ms])
            }
        };
        changed.map(|n| n as u64).map_err(backend)
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().map_err(backend)
    }
}

/// Opens a transaction on `c`.
fn begin(c: &mut Connection) -> Result<SqliteTx<'_>, StoreError> {
    Ok(SqliteTx(c.transaction().map_err(backend)?))
}

impl ConfigStore for SqliteStore {
    async fn snapshot(&self, project: &str) -> Result<Snapshot, StoreError> {
        let project = project.to_owned();
        self.with(move |c| current(c, &project)).await
    }

    async fn version(&self, project: &str) -> Result<u64, StoreError> {
        let project = project.to_owned();
        self.with(move |c| version_of(c, &project)).await
    }

    async fn objects(&self, project: &str) -> Result<WireConfig, StoreError> {
        let project = project.to_owned();
        self.with(move |c| {
            let bodies = |kind: Kind| -> Result<Vec<String>, StoreError> {
                let mut stmt = c.prepare(&sql::objects_sql(kind)).map_err(backend)?;
                let rows = stmt
                    .query_map([&project], |r| r.get::<_, String>(0))
                    .map_err(backend)?;
                rows.map(|r| r.map_err(backend)).collect()
            };
            Ok(WireConfig {
                schema_version: litmus_core::config::SCHEMA_VERSION,
                experiments: parse_all(bodies(Kind::Experiment)?)?,
                layers: parse_all(bodies(Kind::Layer)?)?,
                holdouts: parse_all(bodies(Kind::Holdout)?)?,
                metrics: parse_all(bodies(Kind::Metric)?)?,
                flags: parse_all(bodies(Kind::Flag)?)?,
                ..WireConfig::default()
            })
        })
        .await
    }

    async fn apply(&self, change: Change) -> Result<Snapshot, StoreError> {
        self.with(move |c| finish(txn::apply(begin(c)?, change)))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }
}

impl KeyStore for SqliteStore {
    async fn create_key(&self, key: KeyRecord, actor: Actor) -> Result<(), StoreError> {
        self.with(move |c| finish(txn::create_key(begin(c)?, key, actor)))
            .await
    }

    async fn keys(&self, project: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let project = project.to_owned();
        self.with(move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "{KEY_COLUMNS} WHERE project = ?1 ORDER BY created_ms DESC, id"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([&project], key_row).map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let id = id.to_owned();
        self.with(move |c| {
            c.query_row(&format!("{KEY_COLUMNS} WHERE id = ?1"), [&id], key_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn revoke_key(
        &self,
        project: &str,
        id: &str,
        actor: Actor,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let (project, id) = (project.to_owned(), id.to_owned());
        self.with(move |c| finish(txn::revoke_key(begin(c)?, &project, &id, actor, at_ms)))
            .await
    }
}

impl ProjectStore for SqliteStore {
    async fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(sql::PROJECTS).map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ProjectRecord {
                        key: r.get(0)?,
                        name: r.get(1)?,
                        created_ms: r.get(2)?,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn create_project(
        &self,
        project: ProjectRecord,
        actor: Actor,
    ) -> Result<bool, StoreError> {
        self.with(move |c| finish(txn::create_project(begin(c)?, project, actor)))
            .await
    }
}

impl EnvironmentStore for SqliteStore {
    async fn environments(&self, project: &str) -> Result<Vec<EnvironmentRecord>, StoreError> {
        let project = project.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare_cached(sql::ENVIRONMENTS).map_err(backend)?;
            let rows = stmt
                .query_map([&project], |r| {
                    Ok(EnvironmentRecord {
                        key: r.get(0)?,
                        name: r.get(1)?,
                        created_ms: r.get(2)?,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn create_environment(
        &self,
        project: &str,
        environment: EnvironmentRecord,
        actor: Actor,
    ) -> Result<bool, StoreError> {
        let project = project.to_owned();
        self.with(move |c| {
            finish(txn::create_environment(
                begin(c)?,
                &project,
                environment,
                actor,
            ))
        })
        .await
    }

    async fn delete_environment(
        &self,
        project: &str,
        key: &str,
        actor: Actor,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let (project, key) = (project.to_owned(), key.to_owned());
        self.with(move |c| {
            finish(txn::delete_environment(
                begin(c)?,
                &project,
                &key,
                actor,
                at_ms,
            ))
        })
        .await
    }
}

impl UsageStore for SqliteStore {
    async fn record_usage(&self, rows: Vec<UsageRow>) -> Result<(), StoreError> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            {
                let mut stmt = tx.prepare_cached(sql::RECORD_USAGE).map_err(backend)?;
                for r in &rows {
                    let n = i64::try_from(r.evaluations).unwrap_or(i64::MAX);
                    stmt.execute(params![r.project, r.environment, r.flag, n, r.last_ms])
                        .map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn flag_usage(
        &self,
        project: &str,
        environment: &str,
    ) -> Result<Vec<FlagUsage>, StoreError> {
        let (project, environment) = (project.to_owned(), environment.to_owned());
        self.with(move |c| {
            let mut stmt = c.prepare_cached(sql::FLAG_USAGE).map_err(backend)?;
            let rows = stmt
                .query_map([&project, &environment], |r| {
                    Ok(FlagUsage {
                        flag: r.get(0)?,
                        evaluations: r.get::<_, i64>(1)?.max(0) as u64,
                        last_ms: r.get(2)?,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }
}

impl AuditStore for SqliteStore {
    async fn audit(
        &self,
        project: &str,
        limit: u32,
        key: Option<String>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let project = project.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare_cached(sql::AUDIT).map_err(backend)?;
            let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
            let rows = stmt
                .query_map(rusqlite::params![project, key, limit], |r| {
                    Ok(AuditEntry {
                        id: r.get::<_, i64>(0)? as u64,
                        at_ms: r.get(1)?,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        key: r.get(4)?,
                        before: json(r.get(5)?),
                        after: json(r.get(6)?),
                        version: r.get::<_, i64>(7)? as u64,
                        ip: r.get(8)?,
                        user_agent: r.get(9)?,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{SqliteStore, migrations};
    use crate::store::project_fixture;

    /// A database written before projects keeps everything, as the default project's.
    #[tokio::test]
    async fn a_database_before_projects_is_the_default_project() {
        let before = migrations::PROJECTS - 1;
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        for sql in migrations::MIGRATIONS.iter().take(before) {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(project_fixture::ROWS).unwrap();
        conn.execute_batch(
            "INSERT INTO keys (id, name, scopes, hash, created_ms, environment)
             VALUES ('k1', 'web', 'sdk:read,assign', 'h', 1, 'staging')",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        tx.pragma_update(None, "user_version", before as i64)
            .unwrap();
        tx.commit().unwrap();
        project_fixture::carried_over(&SqliteStore::init(conn).unwrap()).await;
    }
}
