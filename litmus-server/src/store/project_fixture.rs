//! A database written before projects (migration 14), for the migration tests of both
//! backends: every config row, snapshot, audit entry, key and environment it holds becomes the
//! `default` project's.

use crate::store::Store;

/// The rows of a database before projects (the same SQL on both backends): an experiment and a
/// flag, a snapshot at version 3, two audit entries, and staging. Each backend's test adds an
/// SDK key of staging (their `scopes` columns differ).
pub(crate) const ROWS: &str = "INSERT INTO experiments (key, body, updated_ms) VALUES
     ('old-exp', '{\"key\": \"old-exp\", \"salt\": \"s\", \"status\": \"draft\", \"variants\": [{\"key\": \"a\"}, {\"key\": \"b\"}]}', 1);
 INSERT INTO flags (key, body, updated_ms) VALUES
     ('old-flag', '{\"key\": \"old-flag\", \"type\": \"boolean\", \"default\": true}', 1);
 INSERT INTO snapshots (version, body, etag, created_ms) VALUES
     (3, '{\"schema_version\": 1, \"version\": \"v3\", \"experiments\": []}', '\"v3-x\"', 1);
 INSERT INTO audit (at_ms, actor, action, key, version) VALUES
     (1, 'a', 'experiment.create', 'old-exp', 2), (2, 'a', 'flag.create', 'old-flag', 3);
 INSERT INTO environments (key, name, created_ms) VALUES ('staging', 'Staging', 5);";

/// What `store`, opened over [`ROWS`], must hold: all of it in the default project, and no
/// other project.
pub(crate) async fn carried_over<S: Store>(store: &S) {
    let projects = store.projects().await.unwrap_or_default();
    assert_eq!(
        projects.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        ["default"]
    );
    let objects = store.objects("default").await.unwrap_or_default();
    assert_eq!(objects.experiments.len(), 1);
    assert_eq!(objects.experiments[0].key, "old-exp");
    assert_eq!(objects.flags.len(), 1);
    let snapshot = store.snapshot("default").await.ok();
    assert_eq!(snapshot.map(|s| s.version), Some(3));
    assert_eq!(store.version("default").await.ok(), Some(3));
    let audit = store.audit("default", 10, None).await.unwrap_or_default();
    assert_eq!(audit.len(), 2);
    let keys = store.keys("default").await.unwrap_or_default();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].project.as_str(), keys[0].environment.as_str()),
        ("default", "staging")
    );
    let environments = store.environments("default").await.unwrap_or_default();
    assert_eq!(
        environments
            .iter()
            .map(|e| e.key.as_str())
            .collect::<Vec<_>>(),
        ["production", "staging"]
    );
    // Nothing is another project's, and the next change of the default project follows on.
    assert!(
        store
            .objects("other")
            .await
            .unwrap_or_default()
            .experiments
            .is_empty()
    );
    assert!(store.keys("other").await.unwrap_or_default().is_empty());
}
