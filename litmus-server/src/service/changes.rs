//! Changes to the config (experiments, layers, holdouts, metrics): one path for the admin API, the
//! bandit job and the demo alike. A change is validated (core: the config it would produce,
//! strictly, and the lifecycle rules against the stored one, `litmus_core::config::
//! validate_change`), stored with its audit entry in one transaction, and published as the
//! next snapshot version (cached, announced here, told to the other instances).

use litmus_core::config::{self, wire::WireConfig};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::snapshots::ProjectConfig;
use crate::store::Actor;
use crate::store::{
    AuditEntry, AuditStore, Change, ConfigStore, Edit, EnvironmentStore, Kind, Object, StoreError,
};

/// How often a change is recomputed when another change lands first.
const RETRIES: usize = 3;

/// What a change did: the object as stored (or as it was, when deleted) and the new version.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The object as stored, defaults filled in (as it was, for a deletion).
    pub object: Object,
    /// The config version the change published.
    pub version: u64,
}

/// The kind of a collection in a path (`experiments`, `layers`, `holdouts`).
pub fn kind_of(collection: &str) -> Result<Kind, ApiError> {
    Kind::ALL
        .into_iter()
        .find(|k| k.table() == collection)
        .ok_or_else(|| ApiError::not_found(format!("no collection {collection:?}")))
}

/// Every stored object of `kind` in `project`, as JSON.
pub async fn list<S: ConfigStore>(store: &S, project: &str, kind: Kind) -> Result<Value, ApiError> {
    let doc = store.objects(project).await?;
    Ok(json!({ kind.table(): of_kind(&doc, kind) }))
}

/// The stored object of `kind` with `key` in `project`.
pub async fn get<S: ConfigStore>(
    store: &S,
    project: &str,
    kind: Kind,
    key: &str,
) -> Result<Object, ApiError> {
    let doc = store.objects(project).await?;
    find(&doc, kind, key).ok_or_else(|| missing(kind, key))
}

/// Creates or replaces the object of `kind` with `key` by `value`, a JSON object whose `key`,
/// when present, must be the path's.
pub async fn put<S: ConfigStore + EnvironmentStore>(
    snapshots: &ProjectConfig<S>,
    actor: &Actor,
    kind: Kind,
    key: &str,
    mut value: Value,
) -> Result<Changed, ApiError> {
    let object = value
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request(format!("a {} is a JSON object", kind.as_str())))?;
    match object.get("key") {
        None => {
            object.insert("key".into(), Value::String(key.to_owned()));
        }
        Some(Value::String(k)) if k == key => {}
        Some(_) => {
            return Err(ApiError::Invalid(litmus_core::Error::InvalidValue {
                path: litmus_core::FieldPath::root().field("key"),
                message: format!("the body's key must be the path's, {key:?}"),
            }));
        }
    }
    change(snapshots, actor, kind, key, Some(value)).await
}

/// Deletes the object of `kind` with `key` (when the lifecycle rules allow it).
pub async fn delete<S: ConfigStore + EnvironmentStore>(
    snapshots: &ProjectConfig<S>,
    actor: &Actor,
    kind: Kind,
    key: &str,
) -> Result<Changed, ApiError> {
    change(snapshots, actor, kind, key, None).await
}

/// The newest `limit` audit entries (1 to 1,000; default 100), of the object `key` only when
/// given, newest first.
pub async fn audit<S: AuditStore>(
    store: &S,
    project: &str,
    limit: Option<u32>,
    key: Option<String>,
) -> Result<Vec<AuditEntry>, ApiError> {
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    Ok(store.audit(project, limit, key).await?)
}

/// Puts `value` as the object of `kind` with `key` (or deletes that object when `value` is
/// `None`): computes the config document that would result, has core validate it against the
/// stored one, stores it with an audit entry and publishes it. Recomputed when another change
/// lands first.
pub async fn change<S: ConfigStore + EnvironmentStore>(
    snapshots: &ProjectConfig<S>,
    actor: &Actor,
    kind: Kind,
    key: &str,
    value: Option<Value>,
) -> Result<Changed, ApiError> {
    let changed = commit(snapshots, actor, |current| {
        let previous = find(current, kind, key);
        let verb = match (&previous, value.is_some()) {
            (None, false) => return Err(missing(kind, key)),
            (Some(_), false) => "delete",
            (Some(_), true) => "update",
            (None, true) => "create",
        };
        // The document this change would publish: the others as stored, this one as written.
        let [experiments, layers, holdouts, metrics, flags] = Kind::ALL.map(|k| {
            let mut items = of_kind(current, k);
            if k == kind {
                items.retain(|o| o.get("key").and_then(Value::as_str) != Some(key));
                items.extend(value.clone());
            }
            items
        });
        let document = json!({
            "schema_version": config::SCHEMA_VERSION,
            "experiments": experiments, "layers": layers, "holdouts": holdouts,
            "metrics": metrics, "flags": flags,
        });
        Ok(Plan {
            document,
            objects: vec![(kind, key.to_owned(), value.is_some())],
            action: format!("{}.{verb}", kind.as_str()),
        })
    })
    .await?;
    let (mut objects, version) = changed.ok_or_else(|| missing(kind, key))?;
    let object = objects.pop().ok_or_else(|| missing(kind, key))?;
    Ok(Changed { object, version })
}

/// A change computed from the stored config: the whole document it would publish (as the
/// admin wrote it, validated next) and the objects it writes.
pub(crate) struct Plan {
    /// The config document after the change.
    pub(crate) document: Value,
    /// Each object written: its kind, its key, and whether it is put (else deleted).
    pub(crate) objects: Vec<(Kind, String, bool)>,
    /// The audit action of each object's entry (`flag.update`).
    pub(crate) action: String,
}

/// Applies the change `plan` computes from the stored config: core validates the document
/// (unknown fields are errors) and the change against the stored config, every environment
/// an overlay names must exist, then the objects are stored with an audit entry each and the
/// next version is published. Answers each object as stored (as it was, when deleted) and
/// the version; `None` when the plan writes no object (nothing is stored or published).
/// Recomputed (`plan` called again) when another change lands first.
pub(crate) async fn commit<S: ConfigStore + EnvironmentStore>(
    snapshots: &ProjectConfig<S>,
    actor: &Actor,
    mut plan: impl FnMut(&WireConfig) -> Result<Plan, ApiError>,
) -> Result<Option<(Vec<Object>, u64)>, ApiError> {
    for _ in 0..RETRIES {
        // The version first: if a change lands before the objects are read, applying this
        // one fails as a conflict and it is recomputed.
        let project = snapshots.project();
        let base = snapshots.store().version(project).await?;
        let current = snapshots.store().objects(project).await?;
        let Plan {
            document,
            objects,
            action,
        } = plan(&current)?;
        if objects.is_empty() {
            return Ok(None);
        }
        // SDKs get the validated form, with defaults filled in.
        let validated = config::validate_change(&current, &document.to_string())?;
        check_environments(snapshots.store(), project, &validated).await?;
        let mut edits = Vec::with_capacity(objects.len());
        let mut answers = Vec::with_capacity(objects.len());
        for (kind, key, put) in objects {
            if put {
                let stored = find(&validated, kind, &key).ok_or_else(|| missing(kind, &key))?;
                edits.push(Edit::Put(Box::new(stored.clone())));
                answers.push(stored);
            } else {
                answers.push(find(&current, kind, &key).ok_or_else(|| missing(kind, &key))?);
                edits.push(Edit::Delete { kind, key });
            }
        }
        let change = Change {
            project: project.to_owned(),
            base_version: base,
            actor: actor.to_owned(),
            action: action.clone(),
            edits,
            // The whole document, every environment's overlays included: each environment's
            // SDKs get its projection (`crate::snapshots`).
            document: serde_json::to_value(&validated).map_err(ApiError::internal)?,
            at_ms: crate::now_ms(),
        };
        match snapshots.store().apply(change).await {
            Ok(snapshot) => {
                let version = snapshot.version;
                tracing::info!(version, %actor, %action, objects = answers.len(), "saved");
                snapshots.published(snapshot).await;
                return Ok(Some((answers, version)));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// Refuses a document whose overlays name an environment the server does not have, at the
/// first overlay that names it (`flags[checkout].environments[qa]`).
async fn check_environments<S: EnvironmentStore>(
    store: &S,
    project: &str,
    document: &WireConfig,
) -> Result<(), ApiError> {
    let named = config::environments::named(document);
    if named.is_empty() {
        return Ok(());
    }
    let known: std::collections::BTreeSet<String> = store
        .environments(project)
        .await?
        .into_iter()
        .map(|e| e.key)
        .collect();
    let Some(unknown) = named.into_iter().find(|e| !known.contains(e)) else {
        return Ok(());
    };
    let root = litmus_core::FieldPath::root();
    let path = document
        .flags
        .iter()
        .find(|f| f.environments.contains_key(&unknown))
        .map(|f| root.field("flags").item(&f.key))
        .or_else(|| {
            document
                .experiments
                .iter()
                .find(|e| e.environments.contains_key(&unknown))
                .map(|e| root.field("experiments").item(&e.key))
        })
        .unwrap_or(root)
        .field("environments")
        .item(&unknown);
    Err(ApiError::Invalid(litmus_core::Error::UnknownReference {
        path,
        key: unknown,
    }))
}

/// 404 for the object of `kind` with `key`.
fn missing(kind: Kind, key: &str) -> ApiError {
    ApiError::not_found(format!("no {} {key:?}", kind.as_str()))
}

/// The objects of one kind in a document, as JSON.
fn of_kind(doc: &WireConfig, kind: Kind) -> Vec<Value> {
    let all = match kind {
        Kind::Experiment => serde_json::to_value(&doc.experiments),
        Kind::Layer => serde_json::to_value(&doc.layers),
        Kind::Holdout => serde_json::to_value(&doc.holdouts),
        Kind::Metric => serde_json::to_value(&doc.metrics),
        Kind::Flag => serde_json::to_value(&doc.flags),
    };
    match all {
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// The object of `kind` with `key` in a document.
fn find(doc: &WireConfig, kind: Kind, key: &str) -> Option<Object> {
    match kind {
        Kind::Experiment => doc
            .experiments
            .iter()
            .find(|e| e.key == key)
            .map(|e| Object::Experiment(Box::new(e.clone()))),
        Kind::Layer => doc
            .layers
            .iter()
            .find(|l| l.key == key)
            .cloned()
            .map(Object::Layer),
        Kind::Holdout => doc
            .holdouts
            .iter()
            .find(|h| h.key == key)
            .cloned()
            .map(Object::Holdout),
        Kind::Metric => doc
            .metrics
            .iter()
            .find(|m| m.key == key)
            .cloned()
            .map(|m| Object::Metric(Box::new(m))),
        Kind::Flag => doc
            .flags
            .iter()
            .find(|f| f.key == key)
            .cloned()
            .map(|f| Object::Flag(Box::new(f))),
    }
}
