//! API keys: admin keys with scopes and public SDK keys, stored as SHA-256 hashes and checked
//! in constant time. A key reads `lit_<id>_<secret>`: the id finds the stored record, the
//! secret is compared by hash. The bootstrap admin key (`LITMUS_ADMIN_KEY`) holds every scope,
//! so the first real keys can be made.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read experiments and the audit log.
    #[serde(rename = "admin:read")]
    AdminRead,
    /// Change experiments.
    #[serde(rename = "admin:write")]
    AdminWrite,
    /// Make and revoke keys.
    #[serde(rename = "keys:write")]
    KeysWrite,
    /// Read the config snapshot (`/sdk/config`, `/sdk/stream`).
    #[serde(rename = "sdk:read")]
    SdkRead,
    /// Ask the server for assignments (`/assign`).
    #[serde(rename = "assign")]
    Assign,
    /// Send events (`/events`).
    #[serde(rename = "events:write")]
    EventsWrite,
    /// Make projects (`POST /admin/projects`) and list every project.
    #[serde(rename = "projects:write")]
    ProjectsWrite,
    /// Invite people, change their roles, disable them and reset their passwords.
    #[serde(rename = "users:write")]
    UsersWrite,
    /// Make, change and delete webhooks, read their deliveries, send test events.
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 9] = [
        Scope::AdminRead,
        Scope::AdminWrite,
        Scope::KeysWrite,
        Scope::SdkRead,
        Scope::Assign,
        Scope::EventsWrite,
        Scope::ProjectsWrite,
        Scope::UsersWrite,
        Scope::WebhooksWrite,
    ];

    /// The scopes of a public SDK key.
    pub const SDK: [Scope; 3] = [Scope::SdkRead, Scope::Assign, Scope::EventsWrite];

    /// The scope's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AdminRead => "admin:read",
            Scope::AdminWrite => "admin:write",
            Scope::KeysWrite => "keys:write",
            Scope::SdkRead => "sdk:read",
            Scope::Assign => "assign",
            Scope::EventsWrite => "events:write",
            Scope::ProjectsWrite => "projects:write",
            Scope::UsersWrite => "users:write",
            Scope::WebhooksWrite => "webhooks:write",
        }
    }

    /// The scope of a spelling.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A stored key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    /// The public id (part of the key).
    pub id: String,
    /// A name for people ("checkout web app").
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The project it belongs to: it reads and changes only that project's data.
    pub project: String,
    /// The environment whose document it reads and whose events it sends (`production`
    /// unless made for another).
    pub environment: String,
    /// SHA-256 of the secret, hex.
    #[serde(skip)]
    pub hash: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
}

/// Who made a request: the key's name and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's name (recorded as the actor in the audit log).
    pub name: String,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// The project the request acts in: the key's own, or for the bootstrap key the one the
    /// request names (`crate::projects::HEADER`, the default project otherwise).
    pub project: String,
    /// The key's environment: the document SDK routes serve it, where its events go.
    pub environment: String,
    /// For a person signed in by session (`crate::people`), who they are.
    pub person: Option<Person>,
}

/// A person behind a request, signed in by session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their user id.
    pub user_id: String,
    /// The IP address their session signed in from.
    pub ip: Option<String>,
    /// Their session's user agent.
    pub user_agent: Option<String>,
}

impl Principal {
    /// The bootstrap admin key's principal in `project`: every scope, in the default
    /// environment.
    pub fn bootstrap(project: &str) -> Self {
        Principal {
            name: "bootstrap".into(),
            scopes: Scope::ALL.to_vec(),
            project: project.to_owned(),
            environment: litmus_core::config::environments::DEFAULT_ENVIRONMENT.into(),
            person: None,
        }
    }

    /// Who made a change, as the audit log records it: the key's name, or the person's email
    /// with their session's address and agent.
    pub fn actor(&self) -> crate::store::Actor {
        let person = self.person.as_ref();
        crate::store::Actor {
            name: self.name.clone(),
            ip: person.and_then(|p| p.ip.clone()),
            user_agent: person.and_then(|p| p.user_agent.clone()),
        }
    }

    /// Whether it may do `scope`.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// SHA-256 of `secret`, hex.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Equality whose time depends only on the lengths, not on where the bytes differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `lit_<id>_<secret>` into the id and the secret.
pub fn split(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("lit_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// `n` random bytes from the OS, as hex.
pub fn random_hex(n: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().fold(String::with_capacity(2 * n), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// How long a key looked up in the store is trusted before it is looked up again: a key
/// revoked through another instance stops working within this time (at once on the instance
/// that revoked it).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The most keys (and unknown key ids) remembered; the cache is emptied when it is full.
const KEY_CACHE_CAPACITY: usize = 100_000;

/// Keys looked up recently, found or not, so a request costs no store query.
pub type KeyCache = LookupCache<KeyRecord>;

/// Things looked up in the store by id (keys, sessions), found or not, remembered for
/// [`KEY_CACHE_TTL`] so a request costs no store query.
pub struct LookupCache<V> {
    entries: Arc<Mutex<Lookups<V>>>,
}

impl<V> Default for LookupCache<V> {
    fn default() -> Self {
        LookupCache {
            entries: Arc::default(),
        }
    }
}

impl<V> Clone for LookupCache<V> {
    fn clone(&self) -> Self {
        LookupCache {
            entries: Arc::clone(&self.entries),
        }
    }
}

/// Ids to what the store said (the record, or none) and when.
type Lookups<V> = HashMap<String, (Option<V>, Instant)>;

impl<V: Clone> LookupCache<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Lookups<V>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The record (or `Some(None)`: no such thing) looked up less than [`KEY_CACHE_TTL`] ago.
    pub fn get(&self, id: &str) -> Option<Option<V>> {
        let entries = self.lock();
        let (record, at) = entries.get(id)?;
        (at.elapsed() < KEY_CACHE_TTL).then(|| record.clone())
    }

    /// Remembers what the store said about `id`.
    pub fn put(&self, id: &str, record: Option<V>) {
        let mut entries = self.lock();
        if entries.len() >= KEY_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(id.to_owned(), (record, Instant::now()));
    }

    /// Forgets `id` (it was created or revoked here).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Forgets everything (many entries may have changed).
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_hash_and_compare() {
        assert_eq!(split("lit_ab12_secret"), Some(("ab12", "secret")));
        assert_eq!(split("lit__x"), None);
        assert_eq!(split("nope"), None);
        // SHA-256("abc"), from FIPS 180-2.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sane"));
        assert!(!constant_time_eq(b"short", b"longer"));
        assert_eq!(Scope::parse("admin:write"), Some(Scope::AdminWrite));
        assert_eq!(random_hex(8).map(|s| s.len()).unwrap_or(0), 16);
    }
}
