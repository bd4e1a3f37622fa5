//! The PostgreSQL schema: versioned migrations, applied in order under an advisory lock (never
//! renumbered).

/// Versioned migrations, applied in order; `litmus_migrations` records which ran.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 2: events (a hypertable by time; each message_id once, through event_ids), first
    // exposures, per-unit totals and the rollups (ordinary tables Litmus maintains: the
    // Apache edition of TimescaleDB has no continuous aggregates).
    "CREATE EXTENSION IF NOT EXISTS timescaledb;
     CREATE TABLE events (
         time timestamptz NOT NULL,
         batch bigint NOT NULL,
         seq integer NOT NULL,
         message_id text NOT NULL,
         received_at timestamptz NOT NULL,
         kind smallint NOT NULL,
         unit_id text NOT NULL,
         experiment text,
         variant text,
         metric text,
         value double precision,
         properties jsonb
     );
     -- One index: the rollup worker reads a batch by it. No time index: results come from
     -- the rollups, and retention drops whole chunks.
     SELECT create_hypertable('events', 'time', chunk_time_interval => interval '1 day',
                              create_default_indexes => false);
     CREATE INDEX events_batch ON events (batch, seq);
     -- Each event once: by a 128-bit hash of its message_id.
     CREATE TABLE event_ids (id bytea PRIMARY KEY, received_at timestamptz NOT NULL);
     CREATE SEQUENCE event_batches;
     -- Batches stored but not yet in the rollups, with their time range (chunk exclusion).
     CREATE TABLE pending_batches (batch bigint PRIMARY KEY, min_ms bigint NOT NULL, max_ms bigint NOT NULL);
     -- Batches in the rollups, in the order they were applied.
     CREATE TABLE applied_batches (
         position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         batch bigint NOT NULL UNIQUE
     );
     CREATE TABLE exposures (
         experiment text NOT NULL,
         unit_id text NOT NULL,
         variant text NOT NULL,
         first_ms bigint NOT NULL,
         PRIMARY KEY (experiment, unit_id)
     );
     CREATE INDEX exposures_unit ON exposures (unit_id);
     CREATE TABLE unit_totals (
         experiment text NOT NULL,
         metric text NOT NULL,
         unit_id text NOT NULL,
         events bigint NOT NULL,
         total double precision NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     );
     CREATE TABLE rollup_exposures (
         experiment text NOT NULL,
         variant text NOT NULL,
         minute_ms bigint NOT NULL,
         units bigint NOT NULL,
         PRIMARY KEY (experiment, variant, minute_ms)
     );
     CREATE TABLE rollup_metrics (
         experiment text NOT NULL,
         variant text NOT NULL,
         metric text NOT NULL,
         minute_ms bigint NOT NULL,
         events bigint NOT NULL,
         units bigint NOT NULL,
         sum double precision NOT NULL,
         sum_squares double precision NOT NULL,
         PRIMARY KEY (experiment, variant, metric, minute_ms)
     );",
    // 3: each pending batch carries the rows its rollups need (see `rollup_rows`), so the
    // events need no index by batch. Stored uncompressed: written once, read once.
    "ALTER TABLE pending_batches ADD COLUMN rows bytea;
     ALTER TABLE pending_batches ALTER COLUMN rows SET STORAGE EXTERNAL;
     DROP INDEX events_batch;",
    // 4: event keys as uuid (16 bytes, compared by memcmp): a quarter less index per event
    // than bytea, and no varlena header to strip on every comparison.
    "ALTER TABLE event_ids ALTER COLUMN id TYPE uuid USING encode(id, 'hex')::uuid;",
    // 5: the rollups' version, one more for each transaction that applies batches.
    "CREATE TABLE rollup_head (version bigint NOT NULL);
     INSERT INTO rollup_head (version) VALUES (0);",
    // 6: an object's history (a bandit's weights) without reading the whole log.
    "CREATE INDEX audit_key ON audit (key, id);",
    // 7: CUPED covariates: each unit's totals per metric over every event applied, the
    // covariate each unit took at its first exposure, and their sums in the rollups.
    "CREATE TABLE unit_history (
         unit_id text NOT NULL,
         metric text NOT NULL,
         total double precision NOT NULL,
         PRIMARY KEY (unit_id, metric)
     );
     CREATE TABLE covariates (
         experiment text NOT NULL,
         metric text NOT NULL,
         unit_id text NOT NULL,
         x double precision NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     );
     ALTER TABLE rollup_metrics ADD COLUMN covariate_sum double precision NOT NULL DEFAULT 0,
         ADD COLUMN covariate_squares double precision NOT NULL DEFAULT 0,
         ADD COLUMN cross_sum double precision NOT NULL DEFAULT 0;",
    // 8: the rollup backlog as a figure: each pending batch's events and when it arrived
    // (NULL for batches stored before: they count, without an age).
    "ALTER TABLE pending_batches ADD COLUMN events bigint, ADD COLUMN received_ms bigint;",
    // 9: each unit's rollup state in one record (`store::unit_state`), written at checkpoints;
    // `PostgresStore::migrate` fills it from the tables of migrations 2 and 7 right after this
    // migration. A batch applied since the last checkpoint stays queued, with its rows and its
    // position in `applied_batches`, until the next one (a new worker replays them).
    "CREATE TABLE unit_state (unit_id text PRIMARY KEY, state bytea NOT NULL);
     ALTER TABLE pending_batches ADD COLUMN applied bigint;
     CREATE INDEX pending_batches_queue ON pending_batches (batch) WHERE applied IS NULL;",
    // 10: the per-unit tables migration 9 replaced.
    "DROP TABLE unit_totals, covariates, unit_history;",
    // 11: the metric catalogue, stored like experiments; quantile metrics' sketches: per
    // (experiment, variant, metric, hour), the values (events or units) in each bucket; the
    // derived metrics' rows the rollups hold (`store::backfill`) and the newest retention
    // cutoff; hourly copies of the rollups and daily ones of the sketches (`store::tiers`),
    // filled from the rows so far; indexes for the recent minutes.
    "CREATE TABLE metrics (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE rollup_sketches (
         experiment text NOT NULL,
         variant text NOT NULL,
         metric text NOT NULL,
         hour_ms bigint NOT NULL,
         bucket integer NOT NULL,
         count bigint NOT NULL,
         PRIMARY KEY (experiment, variant, metric, hour_ms, bucket)
     );
     CREATE TABLE metric_rows (
         experiment text NOT NULL,
         metric text NOT NULL,
         since_ms bigint,
         PRIMARY KEY (experiment, metric)
     );
     CREATE TABLE retention_head (id integer PRIMARY KEY, cutoff_ms bigint NOT NULL);
     CREATE TABLE rollup_exposures_hourly (
         experiment text NOT NULL,
         variant text NOT NULL,
         hour_ms bigint NOT NULL,
         units bigint NOT NULL,
         PRIMARY KEY (experiment, variant, hour_ms)
     );
     INSERT INTO rollup_exposures_hourly
         SELECT experiment, variant, minute_ms - (((minute_ms % 3600000) + 3600000) % 3600000),
                sum(units)::bigint
         FROM rollup_exposures GROUP BY 1, 2, 3;
     CREATE TABLE rollup_metrics_hourly (
         experiment text NOT NULL,
         variant text NOT NULL,
         metric text NOT NULL,
         hour_ms bigint NOT NULL,
         events bigint NOT NULL,
         units bigint NOT NULL,
         sum double precision NOT NULL,
         sum_squares double precision NOT NULL,
         covariate_sum double precision NOT NULL,
         covariate_squares double precision NOT NULL,
         cross_sum double precision NOT NULL,
         PRIMARY KEY (experiment, variant, metric, hour_ms)
     );
     INSERT INTO rollup_metrics_hourly
         SELECT experiment, variant, metric,
                minute_ms - (((minute_ms % 3600000) + 3600000) % 3600000), sum(events)::bigint, sum(units)::bigint,
                sum(sum), sum(sum_squares), sum(covariate_sum), sum(covariate_squares),
                sum(cross_sum)
         FROM rollup_metrics GROUP BY 1, 2, 3, 4;
     CREATE TABLE rollup_sketches_daily (
         experiment text NOT NULL,
         variant text NOT NULL,
         metric text NOT NULL,
         day_ms bigint NOT NULL,
         bucket integer NOT NULL,
         count bigint NOT NULL,
         PRIMARY KEY (experiment, variant, metric, day_ms, bucket)
     );
     CREATE INDEX rollup_exposures_recent ON rollup_exposures (experiment, minute_ms);
     CREATE INDEX rollup_metrics_recent ON rollup_metrics (experiment, minute_ms);",
    // 12: the segments that have rows (`litmus_core::segments`): each (experiment, dimension,
    // value) whose subject `experiment#dimension=value` the rollups hold.
    "CREATE TABLE segment_subjects (
         experiment text NOT NULL,
         dimension text NOT NULL,
         value text NOT NULL,
         PRIMARY KEY (experiment, dimension, value)
     );",
    // 13: feature flags (`docs/flags.md`), stored like experiments.
    "CREATE TABLE flags (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);",
    // 14: environments (`crate::environments`), production first; each key's environment
    // (existing keys are production's).
    "CREATE TABLE environments (key text PRIMARY KEY, name text NOT NULL, created_ms bigint NOT NULL);
     INSERT INTO environments (key, name, created_ms) VALUES ('production', 'Production', 0);
     ALTER TABLE api_keys ADD COLUMN environment text NOT NULL DEFAULT 'production';",
    // 15: projects (`crate::projects`): every config object, snapshot, audit entry, key and
    // environment belongs to one; what was stored before is the `default` project's. Each
    // project's config version is its row of `config_head`.
    "CREATE TABLE projects (key text PRIMARY KEY, name text NOT NULL, created_ms bigint NOT NULL);
     INSERT INTO projects (key, name, created_ms) VALUES ('default', 'Default', 0);
     ALTER TABLE experiments ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE experiments DROP CONSTRAINT experiments_pkey;
     ALTER TABLE experiments ADD PRIMARY KEY (project, key);
     ALTER TABLE layers ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE layers DROP CONSTRAINT layers_pkey;
     ALTER TABLE layers ADD PRIMARY KEY (project, key);
     ALTER TABLE holdouts ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE holdouts DROP CONSTRAINT holdouts_pkey;
     ALTER TABLE holdouts ADD PRIMARY KEY (project, key);
     ALTER TABLE metrics ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE metrics DROP CONSTRAINT metrics_pkey;
     ALTER TABLE metrics ADD PRIMARY KEY (project, key);
     ALTER TABLE flags ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE flags DROP CONSTRAINT flags_pkey;
     ALTER TABLE flags ADD PRIMARY KEY (project, key);
     ALTER TABLE snapshots ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE snapshots DROP CONSTRAINT snapshots_pkey;
     ALTER TABLE snapshots ADD PRIMARY KEY (project, version);
     ALTER TABLE environments ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE environments DROP CONSTRAINT environments_pkey;
     ALTER TABLE environments ADD PRIMARY KEY (project, key);
     ALTER TABLE config_head ADD COLUMN project text NOT NULL DEFAULT 'default';
     ALTER TABLE config_head DROP CONSTRAINT config_head_pkey;
     ALTER TABLE config_head DROP COLUMN id;
     ALTER TABLE config_head ADD PRIMARY KEY (project);
     ALTER TABLE audit ADD COLUMN project text NOT NULL DEFAULT 'default';
     DROP INDEX audit_key;
     CREATE INDEX audit_project_key ON audit (project, key, id);
     CREATE INDEX audit_project ON audit (project, id);
     ALTER TABLE api_keys ADD COLUMN project text NOT NULL DEFAULT 'default';",
    // 16: flag usage (`crate::usage`): evaluations per flag in each project's environment.
    "CREATE TABLE flag_usage (
         project text NOT NULL,
         environment text NOT NULL,
         flag text NOT NULL,
         evaluations bigint NOT NULL,
         last_ms bigint NOT NULL,
         PRIMARY KEY (project, environment, flag)
     );",
    // 17: people (`crate::people`): users, their sessions and one-time tokens, the instance's
    // set-up mark, and the audit log's session address and agent for people's changes.
    "CREATE TABLE users (
         id text PRIMARY KEY,
         email text NOT NULL UNIQUE,
         name text NOT NULL,
         role text NOT NULL,
         projects text NOT NULL,
         password_hash text,
         subject text UNIQUE,
         failed_logins bigint NOT NULL,
         locked_until_ms bigint,
         disabled_ms bigint,
         created_ms bigint NOT NULL,
         last_login_ms bigint
     );
     CREATE TABLE sessions (
         token_hash text PRIMARY KEY,
         user_id text NOT NULL,
         method text NOT NULL,
         created_ms bigint NOT NULL,
         expires_ms bigint NOT NULL,
         last_seen_ms bigint NOT NULL,
         ip text,
         user_agent text
     );
     CREATE INDEX sessions_user ON sessions (user_id);
     CREATE INDEX sessions_expiry ON sessions (expires_ms);
     CREATE TABLE auth_tokens (
         token_hash text PRIMARY KEY,
         kind text NOT NULL,
         email text NOT NULL,
         user_id text,
         role text NOT NULL,
         projects text NOT NULL,
         created_by text NOT NULL,
         created_ms bigint NOT NULL,
         expires_ms bigint NOT NULL,
         used_ms bigint
     );
     CREATE TABLE sso_logins (
         state_hash text PRIMARY KEY,
         nonce text NOT NULL,
         verifier text NOT NULL,
         redirect_uri text NOT NULL,
         created_ms bigint NOT NULL,
         expires_ms bigint NOT NULL,
         used_ms bigint
     );
     CREATE TABLE instance_setup (
         id bigint PRIMARY KEY,
         user_id text NOT NULL,
         created_ms bigint NOT NULL
     );
     ALTER TABLE audit ADD COLUMN actor_ip text;
     ALTER TABLE audit ADD COLUMN actor_agent text;",
    // 18: webhooks (`crate::webhooks`): subscriptions, their deliveries (the durable queue, one
    // per webhook and event), the audit log's read position per project, and each running
    // experiment's last look at its insights.
    "CREATE TABLE webhooks (
         id text PRIMARY KEY,
         project text NOT NULL,
         url text NOT NULL,
         events text NOT NULL,
         secret text NOT NULL,
         format text NOT NULL,
         enabled bigint NOT NULL,
         created_by text NOT NULL,
         created_ms bigint NOT NULL
     );
     CREATE INDEX webhooks_project ON webhooks (project);
     CREATE TABLE webhook_deliveries (
         id text PRIMARY KEY,
         webhook_id text NOT NULL,
         project text NOT NULL,
         event_id text NOT NULL,
         event_type text NOT NULL,
         body text NOT NULL,
         status text NOT NULL,
         attempts bigint NOT NULL,
         next_attempt_ms bigint,
         last_attempt_ms bigint,
         last_status bigint,
         last_error text,
         lease_owner text,
         lease_until_ms bigint,
         created_ms bigint NOT NULL,
         delivered_ms bigint,
         UNIQUE (webhook_id, event_id)
     );
     CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
     CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_ms);
     CREATE TABLE webhook_cursors (
         project text NOT NULL,
         source text NOT NULL,
         position bigint NOT NULL,
         PRIMARY KEY (project, source)
     );
     CREATE TABLE webhook_insights (
         project text NOT NULL,
         experiment text NOT NULL,
         state text NOT NULL,
         PRIMARY KEY (project, experiment)
     );",
];

/// The migration after which the per-unit tables are converted into `unit_state` records.
pub(super) const UNIT_STATE: usize = 9;

/// The migration that gives every config row a project (`crate::projects`).
#[cfg(test)]
pub(super) const PROJECTS: usize = 15;
