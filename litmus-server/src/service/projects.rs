//! Projects: listing them and creating one (`crate::projects`). The rules: a key with the
//! scope `projects:write` (the bootstrap admin key has every scope) makes projects and sees
//! them all; another key sees only its own. A project's key is a lower-case name; a new project
//! starts with its `production` environment, no config and no keys (the bootstrap key, naming
//! the project, makes its first keys).

use serde::Deserialize;

use crate::error::ApiError;
use crate::keys::{Principal, Scope};
use crate::projects::{self, MAX_PROJECTS, ProjectRecord};
use crate::store::ProjectStore;

/// A new project: its key and a name for people (the key when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    key: String,
    #[serde(default)]
    name: Option<String>,
}

/// The projects `who` may see: every one with `projects:write`, and for a person every one
/// (their role reaches every project); a key its own only.
pub async fn list<S: ProjectStore>(
    store: &S,
    who: &Principal,
) -> Result<Vec<ProjectRecord>, ApiError> {
    let mut all = store.projects().await?;
    if !who.may(Scope::ProjectsWrite) && who.person.is_none() {
        all.retain(|p| p.key == who.project);
    }
    Ok(all)
}

/// Creates a project for `who` (whose key holds `projects:write`, checked by the route): 422
/// for an invalid key or name, 409 `already_exists` when it exists.
pub async fn create<S: ProjectStore>(
    store: &S,
    who: &Principal,
    request: NewProject,
) -> Result<ProjectRecord, ApiError> {
    let root = litmus_core::FieldPath::root();
    let invalid = |field: &str, message: String| {
        ApiError::Invalid(litmus_core::Error::InvalidValue {
            path: root.field(field),
            message,
        })
    };
    if !projects::is_key(&request.key) {
        return Err(invalid(
            "key",
            format!(
                "{:?} is not a project key: 1 to {} lower-case letters, digits, '-' or '_', starting with a letter",
                request.key,
                projects::MAX_KEY_LEN
            ),
        ));
    }
    let name = request.name.unwrap_or_else(|| request.key.clone());
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "a name is 1 to 100 characters, none of them a control character".into(),
        ));
    }
    if store.projects().await?.len() >= MAX_PROJECTS {
        return Err(ApiError::Invalid(litmus_core::Error::LimitExceeded {
            path: root.field("key"),
            message: format!("a server has at most {MAX_PROJECTS} projects"),
        }));
    }
    let record = ProjectRecord {
        key: request.key,
        name,
        created_ms: crate::now_ms(),
    };
    if store.create_project(record.clone(), who.actor()).await? {
        Ok(record)
    } else {
        Err(ApiError::Exists(format!("project {:?} exists", record.key)))
    }
}
