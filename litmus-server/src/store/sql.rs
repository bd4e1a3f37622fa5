//! The SQL both backends run as written: the config's tables have the same columns in SQLite
//! and PostgreSQL, and both read `$1`, `$2`, ... as positional parameters (SQLite numbers
//! each `$N` by its first appearance, so every statement here names them in order). What
//! differs (types, keys, events, rollups) stays in each backend's module.

use super::Kind;

/// Every environment of project `$1`, production first, then by key.
pub(crate) const ENVIRONMENTS: &str = "SELECT key, name, created_ms FROM environments
     WHERE project = $1 ORDER BY key <> 'production', key";

/// Stores a new environment of project `$1`: `($2, $3, $4)`; no row when the key is taken.
pub(crate) const INSERT_ENVIRONMENT: &str =
    "INSERT INTO environments (project, key, name, created_ms)
     VALUES ($1, $2, $3, $4) ON CONFLICT (project, key) DO NOTHING";

/// Deletes the environment `$2` of project `$1` (never production).
pub(crate) const DELETE_ENVIRONMENT: &str =
    "DELETE FROM environments WHERE project = $1 AND key = $2 AND key <> 'production'";

/// Adds `$4` evaluations of flag `$3` in project `$1`'s environment `$2` at `$5`.
pub(crate) const RECORD_USAGE: &str =
    "INSERT INTO flag_usage (project, environment, flag, evaluations, last_ms)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (project, environment, flag) DO UPDATE SET
         evaluations = flag_usage.evaluations + excluded.evaluations,
         last_ms = CASE WHEN excluded.last_ms > flag_usage.last_ms
                   THEN excluded.last_ms ELSE flag_usage.last_ms END";

/// Every flag's usage in project `$1`'s environment `$2`, by key.
pub(crate) const FLAG_USAGE: &str = "SELECT flag, evaluations, last_ms FROM flag_usage
     WHERE project = $1 AND environment = $2 ORDER BY flag";

/// Every project, by key.
pub(crate) const PROJECTS: &str = "SELECT key, name, created_ms FROM projects ORDER BY key";

/// Stores a new project `($1, $2, $3)`; no row when the key is taken.
pub(crate) const INSERT_PROJECT: &str = "INSERT INTO projects (key, name, created_ms)
     VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING";

/// The rollup backlog: pending batches (not yet applied), their events, the oldest one's
/// arrival.
pub(crate) const ROLLUP_BACKLOG: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(events), 0) AS BIGINT), MIN(received_ms) FROM pending_batches WHERE applied IS NULL";

/// The rollups' version (how many rounds have been applied).
pub(crate) const ROLLUP_VERSION: &str = "SELECT version FROM rollup_head";

/// Where the unit records stand: the rollups' version, and the batches applied since the last
/// checkpoint (0 right after one), which together change whenever a record may have.
pub(crate) const RECORDS_VERSION: &str = "SELECT (SELECT version FROM rollup_head),
    (SELECT COUNT(*) FROM pending_batches WHERE applied IS NOT NULL)";

/// Counts a round applied: the rollups' new version.
pub(crate) const NEXT_ROLLUP_VERSION: &str =
    "UPDATE rollup_head SET version = version + 1 RETURNING version";

/// The oldest queued batches not applied yet, at most `$1`, with their events.
pub(crate) const ROLLUP_QUEUE: &str =
    "SELECT batch, events FROM pending_batches WHERE applied IS NULL ORDER BY batch LIMIT $1";

/// Drops the queue entries of the batches applied before a checkpoint (their units' records
/// now hold them).
/// Records a segment whose subject the rollups hold.
pub(crate) const ADD_SEGMENT_SUBJECT: &str =
    "INSERT INTO segment_subjects (experiment, dimension, value)
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Every segment with rows: (experiment, dimension, value).
pub(crate) const SEGMENT_SUBJECTS: &str =
    "SELECT experiment, dimension, value FROM segment_subjects";

/// An experiment's segments with rows: (dimension, value), in order.
pub(crate) const EXPERIMENT_SEGMENTS: &str = "SELECT dimension, value FROM segment_subjects
     WHERE experiment = $1 ORDER BY dimension, value";

pub(crate) const DROP_CHECKPOINTED: &str = "DELETE FROM pending_batches WHERE applied IS NOT NULL";

/// The derived metrics' rows the rollups hold: experiment, metric (`store::backfill`).
pub(crate) const KNOWN_METRIC_ROWS: &str = "SELECT experiment, metric FROM metric_rows";

/// The derived metrics' rows of experiment `$1`, with the retention cutoff when recomputed.
pub(crate) const METRIC_ROWS_OF: &str =
    "SELECT metric, since_ms FROM metric_rows WHERE experiment = $1";

/// Forgets the rows of metric `$2` in experiment `$1`.
pub(crate) const FORGET_METRIC_ROWS: &str =
    "DELETE FROM metric_rows WHERE experiment = $1 AND metric = $2";

/// Records the rows of metric `$2` in experiment `$1`, recomputed with retention cutoff `$3`.
pub(crate) const REMEMBER_METRIC_ROWS: &str =
    "INSERT INTO metric_rows (experiment, metric, since_ms) VALUES ($1, $2, $3)
     ON CONFLICT (experiment, metric) DO UPDATE SET since_ms = excluded.since_ms";

/// Deletes the rollup rows of metric row id `$2` in experiment `$1`.
pub(crate) const DELETE_METRIC_ROLLUPS: &str =
    "DELETE FROM rollup_metrics WHERE experiment = $1 AND metric = $2";

/// [`DELETE_METRIC_ROLLUPS`] in the hourly copies.
pub(crate) const DELETE_METRIC_ROLLUPS_HOURLY: &str =
    "DELETE FROM rollup_metrics_hourly WHERE experiment = $1 AND metric = $2";

/// [`DELETE_SKETCH_ROLLUPS`] in the daily copies.
pub(crate) const DELETE_SKETCH_ROLLUPS_DAILY: &str =
    "DELETE FROM rollup_sketches_daily WHERE experiment = $1 AND metric = $2";

/// Deletes the sketch rows of metric `$2` in experiment `$1`.
pub(crate) const DELETE_SKETCH_ROLLUPS: &str =
    "DELETE FROM rollup_sketches WHERE experiment = $1 AND metric = $2";

/// The newest retention cutoff (events before it were deleted), if any.
pub(crate) const RETENTION_CUTOFF: &str = "SELECT cutoff_ms FROM retention_head WHERE id = 1";

/// Records retention cutoff `$1` (keeping the newest).
pub(crate) const SET_RETENTION_CUTOFF: &str =
    "INSERT INTO retention_head (id, cutoff_ms) VALUES (1, $1)
     ON CONFLICT (id) DO UPDATE SET cutoff_ms = CASE WHEN excluded.cutoff_ms > retention_head.cutoff_ms
         THEN excluded.cutoff_ms ELSE retention_head.cutoff_ms END";

/// The newest snapshot of project `$1`.
pub(crate) const CURRENT_SNAPSHOT: &str = "SELECT version, etag, body FROM snapshots
     WHERE project = $1 ORDER BY version DESC LIMIT 1";

/// Stores a snapshot of project `$1`: version, body, ETag, when.
pub(crate) const INSERT_SNAPSHOT: &str =
    "INSERT INTO snapshots (project, version, body, etag, created_ms) VALUES ($1, $2, $3, $4, $5)";

/// Appends an audit entry of project `$1`: when, who, what, which key, before, after, version,
/// and for a person their session's IP address and user agent.
pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit (project, at_ms, actor, action, key, before, after, version, actor_ip, actor_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The newest audit entries of project `$1` (of the object `$2` only, when not null), at most
/// `$3`, newest first.
pub(crate) const AUDIT: &str =
    "SELECT id, at_ms, actor, action, key, before, after, version, actor_ip, actor_agent
     FROM audit WHERE project = $1 AND (CAST($2 AS TEXT) IS NULL OR key = $2)
     ORDER BY id DESC LIMIT $3";

/// The body of the object of `kind` with key `$2` in project `$1`.
pub(crate) fn object_sql(kind: Kind) -> String {
    format!(
        "SELECT body FROM {} WHERE project = $1 AND key = $2",
        kind.table()
    )
}

/// Every body of `kind` in project `$1`, by key.
pub(crate) fn objects_sql(kind: Kind) -> String {
    format!(
        "SELECT body FROM {} WHERE project = $1 ORDER BY key",
        kind.table()
    )
}

/// Writes the object of `kind` in project `$1`: key, body, when.
pub(crate) fn upsert_object_sql(kind: Kind) -> String {
    format!(
        "INSERT INTO {} (project, key, body, updated_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project, key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
        kind.table()
    )
}

/// Deletes the object of `kind` with key `$2` in project `$1`.
pub(crate) fn delete_object_sql(kind: Kind) -> String {
    format!(
        "DELETE FROM {} WHERE project = $1 AND key = $2",
        kind.table()
    )
}

// People (`crate::store::people`): users, sessions and one-time tokens.

/// The columns of a user, in the order `crate::store::people` reads them.
macro_rules! user_columns {
    () => {
        "SELECT id, email, name, role, projects, password_hash, subject, failed_logins, locked_until_ms, disabled_ms, created_ms, last_login_ms FROM users"
    };
}

/// Every user, by email.
pub(crate) const USERS: &str = concat!(user_columns!(), " ORDER BY email");

/// The user with id `$1`.
pub(crate) const USER_BY_ID: &str = concat!(user_columns!(), " WHERE id = $1");

/// The user with email `$1`.
pub(crate) const USER_BY_EMAIL: &str = concat!(user_columns!(), " WHERE email = $1");

/// The user with single sign-on subject `$1`.
pub(crate) const USER_BY_SUBJECT: &str = concat!(user_columns!(), " WHERE subject = $1");

/// Stores a user (no row when the id, email or subject is taken).
pub(crate) const INSERT_USER: &str = "INSERT INTO users (id, email, name, role, projects, password_hash, subject, failed_logins, locked_until_ms, disabled_ms, created_ms, last_login_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING";

/// Marks the instance set up by user `$1` at `$2` (no row when it was set up already).
pub(crate) const MARK_SET_UP: &str = "INSERT INTO instance_setup (id, user_id, created_ms) VALUES (1, $1, $2) ON CONFLICT DO NOTHING";

/// Whether the instance was set up (a first admin exists).
pub(crate) const IS_SET_UP: &str = "SELECT user_id FROM instance_setup WHERE id = 1";

/// Sets user `$5`'s name, role, project roles and disabled time.
pub(crate) const UPDATE_USER: &str =
    "UPDATE users SET name = $1, role = $2, projects = $3, disabled_ms = $4 WHERE id = $5";

/// Sets user `$2`'s password hash to `$1` and clears their failed sign-ins and lock.
pub(crate) const SET_PASSWORD: &str =
    "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until_ms = NULL WHERE id = $2";

/// Links user `$2` to single sign-on subject `$1` (no row when they have another one).
pub(crate) const LINK_SUBJECT: &str =
    "UPDATE users SET subject = $1 WHERE id = $2 AND (subject IS NULL OR subject = $1)";

/// Counts a failed sign-in of user `$1`.
pub(crate) const LOGIN_FAILED: &str =
    "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1";

/// Locks user `$2` until `$1`.
pub(crate) const LOCK_USER: &str = "UPDATE users SET locked_until_ms = $1 WHERE id = $2";

/// Records user `$2`'s sign-in at `$1`: failures cleared, lock lifted.
pub(crate) const LOGIN_SUCCEEDED: &str =
    "UPDATE users SET failed_logins = 0, locked_until_ms = NULL, last_login_ms = $1 WHERE id = $2";

/// Stores a session.
pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, method, created_ms, expires_ms, last_seen_ms, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// The session whose token hashes to `$1`.
pub(crate) const SESSION: &str =
    "SELECT token_hash, user_id, method, created_ms, expires_ms, last_seen_ms, ip, user_agent
     FROM sessions WHERE token_hash = $1";

/// Records session `$3`'s use at `$1`, ending it at `$2` unless used again.
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_ms = $1, expires_ms = $2 WHERE token_hash = $3";

/// Ends session `$1`.
pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";

/// Ends every session of user `$1`.
pub(crate) const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

/// Forgets the sessions that ended before `$1`.
pub(crate) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_ms < $1";

/// The columns of a one-time token, in the order `crate::store::people` reads them.
macro_rules! token_columns {
    () => {
        "SELECT token_hash, kind, email, user_id, role, projects, created_by, created_ms, expires_ms, used_ms FROM auth_tokens"
    };
}

/// Stores a one-time token.
pub(crate) const INSERT_TOKEN: &str = "INSERT INTO auth_tokens (token_hash, kind, email, user_id, role, projects, created_by, created_ms, expires_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// The token that hashes to `$1`.
pub(crate) const TOKEN: &str = concat!(token_columns!(), " WHERE token_hash = $1");

/// Uses token `$2` at `$1` if it is of kind `$3`, unused and unexpired (no row otherwise).
pub(crate) const USE_TOKEN: &str = "UPDATE auth_tokens SET used_ms = $1
     WHERE token_hash = $2 AND used_ms IS NULL AND expires_ms > $1 AND kind = $3";

/// The invitations unused and unexpired at `$1`, newest first.
pub(crate) const PENDING_INVITATIONS: &str = concat!(
    token_columns!(),
    " WHERE kind = 'invite' AND used_ms IS NULL AND expires_ms > $1 ORDER BY created_ms DESC"
);

/// Withdraws the unused invitation `$1`.
pub(crate) const DELETE_INVITATION: &str =
    "DELETE FROM auth_tokens WHERE token_hash = $1 AND kind = 'invite' AND used_ms IS NULL";

/// Withdraws every unused set-up token (a new one is logged at each start).
pub(crate) const DELETE_SETUP_TOKENS: &str =
    "DELETE FROM auth_tokens WHERE kind = 'setup' AND used_ms IS NULL";

/// Stores a single sign-on attempt.
pub(crate) const INSERT_SSO_LOGIN: &str =
    "INSERT INTO sso_logins (state_hash, nonce, verifier, redirect_uri, created_ms, expires_ms)
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Forgets the sign-on attempts that expired before `$1`.
pub(crate) const DELETE_OLD_SSO_LOGINS: &str = "DELETE FROM sso_logins WHERE expires_ms < $1";

/// The sign-on attempt whose state hashes to `$1`.
pub(crate) const SSO_LOGIN: &str =
    "SELECT state_hash, nonce, verifier, redirect_uri, created_ms, expires_ms, used_ms
     FROM sso_logins WHERE state_hash = $1";

/// Uses the sign-on attempt `$2` at `$1` if it is unused and unexpired (no row otherwise).
pub(crate) const USE_SSO_LOGIN: &str = "UPDATE sso_logins SET used_ms = $1
     WHERE state_hash = $2 AND used_ms IS NULL AND expires_ms > $1";

/// Appends an audit entry about a person to project `$1`'s log, at its current version: when,
/// who, what, which key (the email), before, after, and the actor's session address and agent.
pub(crate) const INSERT_PEOPLE_AUDIT: &str = "INSERT INTO audit (project, at_ms, actor, action, key, before, after, version, actor_ip, actor_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(MAX(version), 0) FROM snapshots WHERE project = $1), $8, $9)";

// Webhooks (`crate::store::webhooks`).

/// The columns of a webhook, in the order `crate::store::webhooks` reads them.
macro_rules! webhook_columns {
    () => {
        "SELECT id, project, url, events, secret, format, enabled, created_by, created_ms FROM webhooks"
    };
}

/// Stores a webhook.
pub(crate) const INSERT_WEBHOOK: &str = "INSERT INTO webhooks (id, project, url, events, secret, format, enabled, created_by, created_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Project `$1`'s webhooks, oldest first.
pub(crate) const WEBHOOKS: &str = concat!(
    webhook_columns!(),
    " WHERE project = $1 ORDER BY created_ms, id"
);

/// Webhook `$1` of project `$2`.
pub(crate) const WEBHOOK: &str = concat!(webhook_columns!(), " WHERE id = $1 AND project = $2");

/// Sets webhook `$5` (of project `$6`)'s URL, events, format and whether it is on.
pub(crate) const UPDATE_WEBHOOK: &str = "UPDATE webhooks SET url = $1, events = $2, format = $3, enabled = $4 WHERE id = $5 AND project = $6";

/// Deletes webhook `$1` of project `$2`.
pub(crate) const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE id = $1 AND project = $2";

/// Deletes webhook `$1`'s deliveries.
pub(crate) const DELETE_WEBHOOK_DELIVERIES: &str =
    "DELETE FROM webhook_deliveries WHERE webhook_id = $1";

/// The projects with a webhook that is on.
pub(crate) const WEBHOOK_PROJECTS: &str = "SELECT DISTINCT project FROM webhooks WHERE enabled = 1";

/// Queues a delivery (no row when the webhook has this event already).
pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, webhook_id, project, event_id, event_type, body, status, attempts, next_attempt_ms, created_ms)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8) ON CONFLICT DO NOTHING";

/// Leases the deliveries due at `$3` to owner `$1` until `$2` (at most 20; one owner each: a
/// lease is taken only from a row that has none or an expired one).
pub(crate) const CLAIM_DELIVERIES: &str =
    "UPDATE webhook_deliveries SET lease_owner = $1, lease_until_ms = $2
     WHERE id IN (SELECT id FROM webhook_deliveries
                  WHERE status = 'pending' AND next_attempt_ms <= $3
                    AND (lease_until_ms IS NULL OR lease_until_ms <= $3)
                  ORDER BY next_attempt_ms LIMIT 20)
       AND status = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms <= $3)";

/// The deliveries leased to owner `$1`, with their webhook's URL and secret.
pub(crate) const CLAIMED_DELIVERIES: &str = "SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.attempts, d.created_ms, w.url, w.secret
     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.lease_owner = $1";

/// Records an attempt of delivery `$7` (leased to `$8`): its new status, attempts, when, the
/// answer's status, the error, the next attempt, and when it was delivered.
pub(crate) const RECORD_ATTEMPT: &str = "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_attempt_ms = $2,
     last_status = $3, last_error = $4, next_attempt_ms = $5, delivered_ms = $6, lease_owner = NULL, lease_until_ms = NULL
     WHERE id = $7 AND lease_owner = $8";

/// The columns of a delivery as its log shows it.
macro_rules! delivery_columns {
    () => {
        "SELECT id, webhook_id, event_id, event_type, body, status, attempts, next_attempt_ms, last_attempt_ms, last_status, last_error, created_ms, delivered_ms FROM webhook_deliveries"
    };
}

/// Webhook `$1`'s newest deliveries, at most `$2`.
pub(crate) const DELIVERIES: &str = concat!(
    delivery_columns!(),
    " WHERE webhook_id = $1 ORDER BY created_ms DESC, id LIMIT $2"
);

/// Makes delivery `$2` of webhook `$3` due again at `$1` (a manual retry).
pub(crate) const REDELIVER: &str = "UPDATE webhook_deliveries SET status = 'pending', next_attempt_ms = $1, lease_owner = NULL, lease_until_ms = NULL
     WHERE id = $2 AND webhook_id = $3";

/// Project `$1`'s read position in source `$2`.
pub(crate) const CURSOR: &str =
    "SELECT position FROM webhook_cursors WHERE project = $1 AND source = $2";

/// Moves project `$1`'s read position in source `$2` forward to `$3` (never back).
pub(crate) const ADVANCE_CURSOR: &str =
    "INSERT INTO webhook_cursors (project, source, position) VALUES ($1, $2, $3)
     ON CONFLICT (project, source) DO UPDATE SET position = excluded.position
     WHERE webhook_cursors.position < excluded.position";

/// Project `$1`'s audit entries written at `$2` or later, oldest first (at most 1,000).
pub(crate) const AUDIT_SINCE: &str = "SELECT id, at_ms, actor, action, key, before, after, version
     FROM audit WHERE project = $1 AND at_ms >= $2 ORDER BY id LIMIT 1000";

/// The last look at experiment `$2`'s insights in project `$1`.
pub(crate) const INSIGHT_STATE: &str =
    "SELECT state FROM webhook_insights WHERE project = $1 AND experiment = $2";

/// Stores the last look at experiment `$2`'s insights in project `$1`.
pub(crate) const SET_INSIGHT_STATE: &str =
    "INSERT INTO webhook_insights (project, experiment, state) VALUES ($1, $2, $3)
     ON CONFLICT (project, experiment) DO UPDATE SET state = excluded.state";

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite numbers `$N` by first appearance: each statement's first appearances must read
    /// `$1`, `$2`, … in order, or SQLite would bind the values to the wrong places.
    #[test]
    fn parameters_first_appear_in_order() {
        let statements = [
            USERS,
            USER_BY_ID,
            USER_BY_EMAIL,
            USER_BY_SUBJECT,
            INSERT_USER,
            MARK_SET_UP,
            IS_SET_UP,
            UPDATE_USER,
            SET_PASSWORD,
            LINK_SUBJECT,
            LOGIN_FAILED,
            LOCK_USER,
            LOGIN_SUCCEEDED,
            INSERT_SESSION,
            SESSION,
            TOUCH_SESSION,
            DELETE_SESSION,
            DELETE_USER_SESSIONS,
            DELETE_EXPIRED_SESSIONS,
            INSERT_TOKEN,
            TOKEN,
            USE_TOKEN,
            PENDING_INVITATIONS,
            DELETE_INVITATION,
            DELETE_SETUP_TOKENS,
            INSERT_PEOPLE_AUDIT,
            INSERT_AUDIT,
            AUDIT,
            RECORD_USAGE,
            FLAG_USAGE,
            INSERT_PROJECT,
            INSERT_ENVIRONMENT,
            DELETE_ENVIRONMENT,
            ENVIRONMENTS,
            CURRENT_SNAPSHOT,
            INSERT_SNAPSHOT,
        ];
        for sql in statements {
            let mut seen: Vec<u32> = Vec::new();
            let mut rest = sql;
            while let Some(at) = rest.find('$') {
                rest = &rest[at + 1..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<u32>() {
                    if !seen.contains(&n) {
                        seen.push(n);
                    }
                }
            }
            let expected: Vec<u32> = (1..=seen.len() as u32).collect();
            assert_eq!(seen, expected, "{sql}");
        }
    }
}
