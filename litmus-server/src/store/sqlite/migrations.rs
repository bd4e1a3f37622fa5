//! The SQLite schema: versioned migrations, applied in order (never renumbered).

/// Versioned migrations, applied in order; `PRAGMA user_version` records how many ran.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: experiments, published snapshots, the audit log.
    "CREATE TABLE experiments (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );
     CREATE TABLE snapshots (
         version INTEGER PRIMARY KEY,
         body TEXT NOT NULL,
         etag TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     CREATE TABLE audit (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         at_ms INTEGER NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         key TEXT NOT NULL,
         before TEXT,
         after TEXT,
         version INTEGER NOT NULL
     );",
    // 2: API keys (hashes only).
    "CREATE TABLE keys (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         scopes TEXT NOT NULL,
         hash TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         revoked_ms INTEGER
     );",
    // 3: layers and holdouts, stored like experiments.
    "CREATE TABLE layers (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );
     CREATE TABLE holdouts (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );",
    // 4: events (each message_id once), first exposures, per-unit totals and the rollups.
    "CREATE TABLE events (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         batch INTEGER NOT NULL,
         id BLOB NOT NULL UNIQUE,
         message_id TEXT NOT NULL,
         time_ms INTEGER NOT NULL,
         received_ms INTEGER NOT NULL,
         kind TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         experiment TEXT,
         variant TEXT,
         metric TEXT,
         value REAL,
         properties TEXT
     );
     CREATE INDEX events_batch ON events (batch);
     CREATE TABLE pending_batches (batch INTEGER PRIMARY KEY);
     CREATE TABLE applied_batches (
         position INTEGER PRIMARY KEY AUTOINCREMENT,
         batch INTEGER NOT NULL UNIQUE
     );
     CREATE TABLE exposures (
         experiment TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         variant TEXT NOT NULL,
         first_ms INTEGER NOT NULL,
         PRIMARY KEY (experiment, unit_id)
     ) WITHOUT ROWID;
     CREATE INDEX exposures_unit ON exposures (unit_id);
     CREATE TABLE unit_totals (
         experiment TEXT NOT NULL,
         metric TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         events INTEGER NOT NULL,
         total REAL NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     ) WITHOUT ROWID;
     CREATE TABLE rollup_exposures (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         minute_ms INTEGER NOT NULL,
         units INTEGER NOT NULL,
         PRIMARY KEY (experiment, variant, minute_ms)
     ) WITHOUT ROWID;
     CREATE TABLE rollup_metrics (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         metric TEXT NOT NULL,
         minute_ms INTEGER NOT NULL,
         events INTEGER NOT NULL,
         units INTEGER NOT NULL,
         sum REAL NOT NULL,
         sum_squares REAL NOT NULL,
         PRIMARY KEY (experiment, variant, metric, minute_ms)
     ) WITHOUT ROWID;",
    // 5: the rollups' version, one more for each transaction that applies batches.
    "CREATE TABLE rollup_head (version INTEGER NOT NULL);
     INSERT INTO rollup_head (version) VALUES (0);",
    // 6: an object's history (a bandit's weights) without reading the whole log.
    "CREATE INDEX audit_key ON audit (key, id);",
    // 7: CUPED covariates: each unit's totals per metric over every event applied, the
    // covariate each unit took at its first exposure, and their sums in the rollups.
    "CREATE TABLE unit_history (
         unit_id TEXT NOT NULL,
         metric TEXT NOT NULL,
         total REAL NOT NULL,
         PRIMARY KEY (unit_id, metric)
     ) WITHOUT ROWID;
     CREATE TABLE covariates (
         experiment TEXT NOT NULL,
         metric TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         x REAL NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     ) WITHOUT ROWID;
     ALTER TABLE rollup_metrics ADD COLUMN covariate_sum REAL NOT NULL DEFAULT 0;
     ALTER TABLE rollup_metrics ADD COLUMN covariate_squares REAL NOT NULL DEFAULT 0;
     ALTER TABLE rollup_metrics ADD COLUMN cross_sum REAL NOT NULL DEFAULT 0;",
    // 8: the rollup backlog as a figure: each pending batch's events and when it arrived
    // (NULL for batches stored before: they count, without an age).
    "ALTER TABLE pending_batches ADD COLUMN events INTEGER;
     ALTER TABLE pending_batches ADD COLUMN received_ms INTEGER;",
    // 9: each unit's rollup state in one record (`store::unit_state`), written at checkpoints;
    // `SqliteStore::init` fills it from the tables of migrations 4 and 7 right after this
    // migration. A batch applied since the last checkpoint stays queued, marked with its
    // position in `applied_batches`, until the next one (a restarted worker replays them).
    "CREATE TABLE unit_state (unit_id TEXT PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID;
     ALTER TABLE pending_batches ADD COLUMN applied INTEGER;
     CREATE INDEX pending_batches_queue ON pending_batches (batch) WHERE applied IS NULL;",
    // 10: the per-unit tables migration 9 replaced.
    "DROP TABLE unit_totals;
     DROP TABLE covariates;
     DROP TABLE unit_history;",
    // 11: the metric catalogue, stored like experiments; quantile metrics' sketches: per
    // (experiment, variant, metric, hour), the values (events or units) in each bucket; the
    // derived metrics' rows the rollups hold (`store::backfill`) and the newest retention
    // cutoff; hourly copies of the rollups and daily ones of the sketches (`store::tiers`),
    // filled from the rows so far; indexes for the recent minutes.
    "CREATE TABLE metrics (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );
     CREATE TABLE rollup_sketches (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         metric TEXT NOT NULL,
         hour_ms INTEGER NOT NULL,
         bucket INTEGER NOT NULL,
         count INTEGER NOT NULL,
         PRIMARY KEY (experiment, variant, metric, hour_ms, bucket)
     ) WITHOUT ROWID;
     CREATE TABLE metric_rows (
         experiment TEXT NOT NULL,
         metric TEXT NOT NULL,
         since_ms INTEGER,
         PRIMARY KEY (experiment, metric)
     ) WITHOUT ROWID;
     CREATE TABLE retention_head (id INTEGER PRIMARY KEY, cutoff_ms INTEGER NOT NULL);
     CREATE TABLE rollup_exposures_hourly (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         hour_ms INTEGER NOT NULL,
         units INTEGER NOT NULL,
         PRIMARY KEY (experiment, variant, hour_ms)
     ) WITHOUT ROWID;
     INSERT INTO rollup_exposures_hourly
         SELECT experiment, variant, minute_ms - (((minute_ms % 3600000) + 3600000) % 3600000),
                sum(units)
         FROM rollup_exposures GROUP BY 1, 2, 3;
     CREATE TABLE rollup_metrics_hourly (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         metric TEXT NOT NULL,
         hour_ms INTEGER NOT NULL,
         events INTEGER NOT NULL,
         units INTEGER NOT NULL,
         sum REAL NOT NULL,
         sum_squares REAL NOT NULL,
         covariate_sum REAL NOT NULL,
         covariate_squares REAL NOT NULL,
         cross_sum REAL NOT NULL,
         PRIMARY KEY (experiment, variant, metric, hour_ms)
     ) WITHOUT ROWID;
     INSERT INTO rollup_metrics_hourly
         SELECT experiment, variant, metric,
                minute_ms - (((minute_ms % 3600000) + 3600000) % 3600000), sum(events), sum(units),
                sum(sum), sum(sum_squares), sum(covariate_sum), sum(covariate_squares),
                sum(cross_sum)
         FROM rollup_metrics GROUP BY 1, 2, 3, 4;
     CREATE TABLE rollup_sketches_daily (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         metric TEXT NOT NULL,
         day_ms INTEGER NOT NULL,
         bucket INTEGER NOT NULL,
         count INTEGER NOT NULL,
         PRIMARY KEY (experiment, variant, metric, day_ms, bucket)
     ) WITHOUT ROWID;
     CREATE INDEX rollup_exposures_recent ON rollup_exposures (experiment, minute_ms);
     CREATE INDEX rollup_metrics_recent ON rollup_metrics (experiment, minute_ms);",
    // 12: the segments that have rows (`litmus_core::segments`): each (experiment, dimension,
    // value) whose subject `experiment#dimension=value` the rollups hold.
    "CREATE TABLE segment_subjects (
         experiment TEXT NOT NULL,
         dimension TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (experiment, dimension, value)
     ) WITHOUT ROWID;",
    // 13: feature flags (`docs/flags.md`), stored like experiments.
    "CREATE TABLE flags (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );",
    // 14: environments (`crate::environments`), production first; each key's environment
    // (existing keys are production's).
    "CREATE TABLE environments (
         key TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     INSERT INTO environments (key, name, created_ms) VALUES ('production', 'Production', 0);
     ALTER TABLE keys ADD COLUMN environment TEXT NOT NULL DEFAULT 'production';",
    // 15: projects (`crate::projects`): every config object, snapshot, audit entry, key and
    // environment belongs to one; what was stored before is the `default` project's.
    "CREATE TABLE projects (
         key TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     INSERT INTO projects (key, name, created_ms) VALUES ('default', 'Default', 0);
     CREATE TABLE experiments_by_project (
         project TEXT NOT NULL,
         key TEXT NOT NULL,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL,
         PRIMARY KEY (project, key)
     );
     INSERT INTO experiments_by_project SELECT 'default', key, body, updated_ms FROM experiments;
     DROP TABLE experiments;
     ALTER TABLE experiments_by_project RENAME TO experiments;
     CREATE TABLE layers_by_project (
         project TEXT NOT NULL,
         key TEXT NOT NULL,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL,
         PRIMARY KEY (project, key)
     );
     INSERT INTO layers_by_project SELECT 'default', key, body, updated_ms FROM layers;
     DROP TABLE layers;
     ALTER TABLE layers_by_project RENAME TO layers;
     CREATE TABLE holdouts_by_project (
         project TEXT NOT NULL,
         key TEXT NOT NULL,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL,
         PRIMARY KEY (project, key)
     );
     INSERT INTO holdouts_by_project SELECT 'default', key, body, updated_ms FROM holdouts;
     DROP TABLE holdouts;
     ALTER TABLE holdouts_by_project RENAME TO holdouts;
     CREATE TABLE metrics_by_project (
         project TEXT NOT NULL,
         key TEXT NOT NULL,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL,
         PRIMARY KEY (project, key)
     );
     INSERT INTO metrics_by_project SELECT 'default', key, body, updated_ms FROM metrics;
     DROP TABLE metrics;
     ALTER TABLE metrics_by_project RENAME TO metrics;
     CREATE TABLE flags_by_project (
         project TEXT NOT NULL,
         key TEXT NOT NULL,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL,
         PRIMARY KEY (project, key)
     );
     INSERT INTO flags_by_project SELECT 'default', key, body, updated_ms FROM flags;
     DROP TABLE flags;
     ALTER TABLE flags_by_project RENAME TO flags;
     CREATE TABLE snapshots_by_project (
         project TEXT NOT NULL,
         version INTEGER NOT NULL,
         body TEXT NOT NULL,
         etag TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         PRIMARY KEY (project, version)
     );
     INSERT INTO snapshots_by_project SELECT 'default', version, body, etag, created_ms FROM snapshots;
     DROP TABLE snapshots;
     ALTER TABLE snapshots_by_project RENAME TO snapshots;
     CREATE TABLE environments_by_project (
         project TEXT NOT NULL,
         key TEXT NOT NULL,
         name TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         PRIMARY KEY (project, key)
     );
     INSERT INTO environments_by_project SELECT 'default', key, name, created_ms FROM environments;
     DROP TABLE environments;
     ALTER TABLE environments_by_project RENAME TO environments;
     ALTER TABLE audit ADD COLUMN project TEXT NOT NULL DEFAULT 'default';
     DROP INDEX audit_key;
     CREATE INDEX audit_project_key ON audit (project, key, id);
     CREATE INDEX audit_project ON audit (project, id);
     ALTER TABLE keys ADD COLUMN project TEXT NOT NULL DEFAULT 'default';",
    // 16: flag usage (`crate::usage`): evaluations per flag in each project's environment.
    "CREATE TABLE flag_usage (
         project TEXT NOT NULL,
         environment TEXT NOT NULL,
         flag TEXT NOT NULL,
         evaluations INTEGER NOT NULL,
         last_ms INTEGER NOT NULL,
         PRIMARY KEY (project, environment, flag)
     ) WITHOUT ROWID;",
    // 17: people (`crate::people`): users, their sessions and one-time tokens, the instance's
    // set-up mark, and the audit log's session address and agent for people's changes.
    "CREATE TABLE users (
         id TEXT PRIMARY KEY,
         email TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         role TEXT NOT NULL,
         projects TEXT NOT NULL,
         password_hash TEXT,
         subject TEXT UNIQUE,
         failed_logins INTEGER NOT NULL,
         locked_until_ms INTEGER,
         disabled_ms INTEGER,
         created_ms INTEGER NOT NULL,
         last_login_ms INTEGER
     );
     CREATE TABLE sessions (
         token_hash TEXT PRIMARY KEY,
         user_id TEXT NOT NULL,
         method TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL,
         last_seen_ms INTEGER NOT NULL,
         ip TEXT,
         user_agent TEXT
     );
     CREATE INDEX sessions_user ON sessions (user_id);
     CREATE INDEX sessions_expiry ON sessions (expires_ms);
     CREATE TABLE auth_tokens (
         token_hash TEXT PRIMARY KEY,
         kind TEXT NOT NULL,
         email TEXT NOT NULL,
         user_id TEXT,
         role TEXT NOT NULL,
         projects TEXT NOT NULL,
         created_by TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL,
         used_ms INTEGER
     );
     CREATE TABLE sso_logins (
         state_hash TEXT PRIMARY KEY,
         nonce TEXT NOT NULL,
         verifier TEXT NOT NULL,
         redirect_uri TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL,
         used_ms INTEGER
     );
     CREATE TABLE instance_setup (
         id INTEGER PRIMARY KEY,
         user_id TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     ALTER TABLE audit ADD COLUMN actor_ip TEXT;
     ALTER TABLE audit ADD COLUMN actor_agent TEXT;",
    // 18: webhooks (`crate::webhooks`): subscriptions, their deliveries (the durable queue, one
    // per webhook and event), the audit log's read position per project, and each running
    // experiment's last look at its insights.
    "CREATE TABLE webhooks (
         id TEXT PRIMARY KEY,
         project TEXT NOT NULL,
         url TEXT NOT NULL,
         events TEXT NOT NULL,
         secret TEXT NOT NULL,
         format TEXT NOT NULL,
         enabled INTEGER NOT NULL,
         created_by TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     CREATE INDEX webhooks_project ON webhooks (project);
     CREATE TABLE webhook_deliveries (
         id TEXT PRIMARY KEY,
         webhook_id TEXT NOT NULL,
         project TEXT NOT NULL,
         event_id TEXT NOT NULL,
         event_type TEXT NOT NULL,
         body TEXT NOT NULL,
         status TEXT NOT NULL,
         attempts INTEGER NOT NULL,
         next_attempt_ms INTEGER,
         last_attempt_ms INTEGER,
         last_status INTEGER,
         last_error TEXT,
         lease_owner TEXT,
         lease_until_ms INTEGER,
         created_ms INTEGER NOT NULL,
         delivered_ms INTEGER,
         UNIQUE (webhook_id, event_id)
     );
     CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
     CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_ms);
     CREATE TABLE webhook_cursors (
         project TEXT NOT NULL,
         source TEXT NOT NULL,
         position INTEGER NOT NULL,
         PRIMARY KEY (project, source)
     );
     CREATE TABLE webhook_insights (
         project TEXT NOT NULL,
         experiment TEXT NOT NULL,
         state TEXT NOT NULL,
         PRIMARY KEY (project, experiment)
     );",
];

/// The migration after which the per-unit tables are converted into `unit_state` records.
pub(super) const UNIT_STATE: usize = 9;

/// The migration that gives every config row a project (`crate::projects`).
#[cfg(test)]
pub(super) const PROJECTS: usize = 15;
