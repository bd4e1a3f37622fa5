//! Databases written by an older version of the schema, for the migration tests: a database
//! of its own, migrated up to a given migration, with rows of that time.

#![allow(clippy::unwrap_used)]

use super::migrations;

/// `DATABASE_URL`, or `None` (skipped) unless `LITMUS_REQUIRE_SERVICES=1`.
pub(crate) fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("LITMUS_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "DATABASE_URL is not set (run scripts/db/start.sh)"
            );
            None
        }
    }
}

/// A database of a migration test: its name and the statements that drop and create it
/// (literals: the store's SQL interpolates nothing).
pub(crate) struct TestDatabase {
    /// Its name.
    pub(crate) name: &'static str,
    /// `DROP DATABASE IF EXISTS ... WITH (FORCE)`.
    pub(crate) drop: &'static str,
    /// `CREATE DATABASE ...`.
    pub(crate) create: &'static str,
}

/// The database of the unit-state migration test.
pub(crate) const UNITS: TestDatabase = TestDatabase {
    name: "litmus_migration_9",
    drop: "DROP DATABASE IF EXISTS litmus_migration_9 WITH (FORCE)",
    create: "CREATE DATABASE litmus_migration_9",
};

/// The database of the projects migration test.
pub(crate) const PROJECTS: TestDatabase = TestDatabase {
    name: "litmus_migration_projects",
    drop: "DROP DATABASE IF EXISTS litmus_migration_projects WITH (FORCE)",
    create: "CREATE DATABASE litmus_migration_projects",
};

/// A fresh database `db` with the first `upto` migrations applied (recorded as the store
/// records them) and `rows` inserted: its URL, or `None` without a database to test on.
pub(crate) async fn at_migration(db: &TestDatabase, upto: usize, rows: &[&str]) -> Option<String> {
    let url = database_url()?;
    let admin: tokio_postgres::Config = url.parse().unwrap();
    let (client, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    // One statement each: a multi-statement batch runs in a transaction, which DROP and
    // CREATE DATABASE refuse.
    for sql in [db.drop, db.create] {
        client.batch_execute(sql).await.unwrap();
    }
    let mut config = admin.clone();
    config.dbname(db.name);
    let (old, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    old.batch_execute(
        "SET client_min_messages = warning;
         CREATE TABLE litmus_migrations (
             version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .unwrap();
    for (i, sql) in migrations::MIGRATIONS[..upto].iter().enumerate() {
        old.batch_execute(sql).await.unwrap();
        old.execute(
            "INSERT INTO litmus_migrations (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )
        .await
        .unwrap();
    }
    for sql in rows {
        old.batch_execute(sql).await.unwrap();
    }
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    Some(format!(
        "postgres://{}@{host}:{}/{}",
        config.get_user().unwrap_or("postgres"),
        config.get_ports().first().copied().unwrap_or(5432),
        db.name
    ))
}

/// Drops the database `db`.
pub(crate) async fn drop_database(db: &TestDatabase) {
    let Some(url) = database_url() else { return };
    let admin: tokio_postgres::Config = url.parse().unwrap();
    let (client, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute(db.drop).await.unwrap();
}
