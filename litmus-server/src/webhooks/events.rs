//! Config-change events, read from the audit log: each entry about an experiment or a flag is
//! an event whose id is the entry's (`audit:<project>:<id>`), so every instance that reads it
//! queues the same event, once.

use serde_json::{Value, json};

use super::Event;
use super::diff::diff;
use crate::store::AuditEntry;

/// The audit actor of the bandit job's changes (`crate::jobs::bandits::ACTOR`).
const BANDIT: &str = crate::jobs::bandits::ACTOR;

/// The status of a stored object, if it has one.
fn status(object: Option<&Value>) -> Option<&str> {
    object?.get("status")?.as_str()
}

/// The event type of an audit entry about an experiment or a flag (none for other entries).
pub fn event_type(entry: &AuditEntry) -> Option<&'static str> {
    let kind = entry.action.split('.').next()?;
    let (before, after) = (entry.before.as_ref(), entry.after.as_ref());
    match kind {
        "experiment" => Some(match (before, after) {
            (_, None) => "experiment.deleted",
            (None, Some(_)) => "experiment.created",
            _ if entry.actor == BANDIT => "bandit.weights_updated",
            _ => match (status(before), status(after)) {
                (b, Some("running")) if b != Some("running") && b != Some("paused") => {
                    "experiment.started"
                }
                (b, Some("stopped")) if b != Some("stopped") => "experiment.stopped",
                _ => "experiment.changed",
            },
        }),
        "flag" => Some(match (before, after) {
            (_, None) => "flag.deleted",
            (None, Some(_)) => "flag.created",
            _ => "flag.changed",
        }),
        _ => None,
    }
}

/// The event of an audit entry of `project`, if it is about an experiment or a flag: who, what,
/// the config version, and the changes (or the object, when made or deleted).
pub fn from_audit(project: &str, entry: &AuditEntry) -> Option<Event> {
    let kind = event_type(entry)?;
    let object = entry.action.split('.').next().unwrap_or_default();
    let mut data = serde_json::Map::new();
    data.insert(object.to_owned(), json!(entry.key));
    data.insert("actor".into(), json!(entry.actor));
    data.insert("version".into(), json!(entry.version));
    match (&entry.before, &entry.after) {
        (Some(before), Some(after)) => {
            let (changes, truncated) = diff(before, after);
            data.insert("changes".into(), json!(changes));
            if truncated {
                data.insert("truncated".into(), json!(true));
            }
            if let Some(s) = status(Some(after)) {
                data.insert("status".into(), json!(s));
            }
        }
        (None, Some(after)) => {
            data.insert("after".into(), after.clone());
        }
        (Some(before), None) => {
            data.insert("before".into(), before.clone());
        }
        (None, None) => {}
    }
    Some(Event {
        id: format!("audit:{project}:{}", entry.id),
        kind: kind.to_owned(),
        project: project.to_owned(),
        created_ms: entry.at_ms,
        data: Value::Object(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(action: &str, actor: &str, before: Option<Value>, after: Option<Value>) -> AuditEntry {
        AuditEntry {
            id: 7,
            at_ms: 1,
            actor: actor.into(),
            action: action.into(),
            key: "exp".into(),
            before,
            after,
            version: 3,
            ip: None,
            user_agent: None,
        }
    }

    #[test]
    fn audit_entries_become_the_events_they_describe() {
        let draft = json!({"status": "draft"});
        let running = json!({"status": "running"});
        let stopped = json!({"status": "stopped"});
        let cases = [
            (
                entry("experiment.put", "ada", None, Some(draft.clone())),
                Some("experiment.created"),
            ),
            (
                entry(
                    "experiment.put",
                    "ada",
                    Some(draft.clone()),
                    Some(running.clone()),
                ),
                Some("experiment.started"),
            ),
            (
                entry(
                    "experiment.put",
                    "ada",
                    Some(running.clone()),
                    Some(stopped.clone()),
                ),
                Some("experiment.stopped"),
            ),
            (
                entry(
                    "experiment.put",
                    "ada",
                    Some(running.clone()),
                    Some(json!({"status": "running", "x": 1})),
                ),
                Some("experiment.changed"),
            ),
            (
                entry(
                    "experiment.put",
                    BANDIT,
                    Some(running.clone()),
                    Some(json!({"status": "running", "w": 1})),
                ),
                Some("bandit.weights_updated"),
            ),
            (
                entry("experiment.delete", "ada", Some(stopped), None),
                Some("experiment.deleted"),
            ),
            (
                entry("flag.put", "ada", None, Some(json!({}))),
                Some("flag.created"),
            ),
            (
                entry(
                    "flag.put",
                    "ada",
                    Some(json!({"on": false})),
                    Some(json!({"on": true})),
                ),
                Some("flag.changed"),
            ),
            (entry("key.create", "ada", None, Some(json!({}))), None),
            (
                entry("user.update", "ada", Some(draft), Some(running)),
                None,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(event_type(&e), want, "{e:?}");
        }
        let changed = entry(
            "flag.put",
            "ada",
            Some(json!({"on": false})),
            Some(json!({"on": true})),
        );
        let event = from_audit("shop", &changed).unwrap();
        assert_eq!(event.id, "audit:shop:7");
        assert_eq!(
            event.data["changes"],
            json!([{"path": "on", "before": false, "after": true}])
        );
        assert_eq!(event.data["flag"], json!("exp"));
    }
}
