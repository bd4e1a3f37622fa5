//! Environments (`docs/flags.md`, Environments): the server's list of them, and how each one's
//! events are kept apart in the one event store.
//!
//! Every project's and environment's SDK keys send events to the same store and the same
//! rollup worker. The default project's production events are stored as sent, so a server
//! upgraded from before environments and projects keeps its data as theirs. Another
//! environment's events are stored under its [`Stream`] prefix: `{environment}` and U+001F in
//! the default project, `{project}`, U+001F, `{environment}` and U+001F in another. The prefix
//! goes in front of each event's unit id, `message_id` and exposure experiment. Its units,
//! their exposures, their metric totals and every rollup row are then its own, and the results
//! of an experiment there read the rows of its prefixed subject. Events may not hold U+001F in
//! their unit ids or `message_id`s (they are refused), and keys never do, so the number of
//! separators tells the streams apart and no unit of one stream can stand for another's.

use std::borrow::Cow;

use litmus_core::config::environments::DEFAULT_ENVIRONMENT;
use serde::Serialize;

use crate::projects::DEFAULT_PROJECT;

/// What separates an environment's name from a unit id, `message_id` or subject it prefixes.
pub const SEPARATOR: char = '\u{1f}';

/// The longest environment key.
pub const MAX_KEY_LEN: usize = 64;

/// The most environments a server keeps.
pub const MAX_ENVIRONMENTS: usize = 50;

/// A stored environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentRecord {
    /// Its key (`staging`), as flags' and experiments' overlays name it.
    pub key: String,
    /// A name for people ("Staging").
    pub name: String,
    /// When it was made, in milliseconds since the Unix epoch (0 for `production`, which
    /// every server has).
    pub created_ms: i64,
}

/// Whether `key` is a valid environment key: 1 to [`MAX_KEY_LEN`] lower-case letters, digits,
/// `-` and `_`, starting with a letter.
pub fn is_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    key.len() <= MAX_KEY_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Where one project's environment's events live in the event store (see the module's
/// documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The project.
    project: String,
    /// Empty for the default project's production, else the project (beyond the default
    /// one) and the environment, each followed by [`SEPARATOR`].
    prefix: String,
}

impl Stream {
    /// The stream of `environment` in `project`.
    pub fn of(project: &str, environment: &str) -> Self {
        let prefix = match (
            project == DEFAULT_PROJECT,
            environment == DEFAULT_ENVIRONMENT,
        ) {
            (true, true) => String::new(),
            (true, false) => format!("{environment}{SEPARATOR}"),
            (false, _) => format!("{project}{SEPARATOR}{environment}{SEPARATOR}"),
        };
        Stream {
            project: project.to_owned(),
            prefix,
        }
    }

    /// The default project's production stream (no prefix).
    pub fn production() -> Self {
        Stream::of(DEFAULT_PROJECT, DEFAULT_ENVIRONMENT)
    }

    /// The project whose stream it is.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The prefix (empty for the default environment).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether this is the default environment's stream.
    pub fn is_default(&self) -> bool {
        self.prefix.is_empty()
    }

    /// The stored form of a unit id, `message_id` or subject (an experiment's key, a
    /// holdout's subject, a segment's subject).
    pub fn stored<'a>(&self, name: &'a str) -> Cow<'a, str> {
        if self.prefix.is_empty() {
            Cow::Borrowed(name)
        } else {
            Cow::Owned(format!("{}{name}", self.prefix))
        }
    }

    /// Prefixes `name` in place (nothing for the default environment).
    pub fn prefix_in_place(&self, name: &mut String) {
        if !self.prefix.is_empty() {
            name.insert_str(0, &self.prefix);
        }
    }

    /// A stored name as its environment's clients know it: without the prefix.
    pub fn shown<'a>(&self, stored: &'a str) -> &'a str {
        stored.strip_prefix(self.prefix.as_str()).unwrap_or(stored)
    }
}

/// The project, environment and name of a stored subject, unit id or `message_id`.
pub fn parts(stored: &str) -> (&str, &str, &str) {
    let mut it = stored.splitn(3, SEPARATOR);
    match (it.next(), it.next(), it.next()) {
        (Some(project), Some(environment), Some(name)) => (project, environment, name),
        (Some(environment), Some(name), None) => (DEFAULT_PROJECT, environment, name),
        _ => (DEFAULT_PROJECT, DEFAULT_ENVIRONMENT, stored),
    }
}

/// What separates an experiment's key from its environment in a live topic
/// (`checkout@staging`; keys never hold it).
pub const TOPIC_MARK: char = '@';

/// The live topic (`crate::live`) of the rows stored under `stored`, as a client of its
/// project names it: the experiment's key for production's, `{key}@{environment}` for another
/// environment's; and the project.
pub fn topic(stored: &str) -> (String, &str) {
    let (project, environment, key) = parts(stored);
    let topic = if environment == DEFAULT_ENVIRONMENT {
        key.to_owned()
    } else {
        format!("{key}{TOPIC_MARK}{environment}")
    };
    (topic, project)
}

/// The live hub's name of a client's topic in `project`: the topic itself in the default
/// project, `{project}` and U+001F before it in another (so two projects' topics never meet).
pub fn hub_topic(project: &str, topic: &str) -> String {
    if project == DEFAULT_PROJECT {
        topic.to_owned()
    } else {
        format!("{project}{SEPARATOR}{topic}")
    }
}

/// The live hub's name of the rows stored under `stored`.
pub fn hub_topic_of(stored: &str) -> String {
    let (topic, project) = topic(stored);
    hub_topic(project, &topic)
}

/// The project and client topic of a live hub's name.
pub fn of_hub_topic(hub: &str) -> (&str, &str) {
    hub.split_once(SEPARATOR).unwrap_or((DEFAULT_PROJECT, hub))
}

/// The experiment and environment a live topic names (production when it names none).
pub fn of_topic(topic: &str) -> (&str, &str) {
    match topic.rsplit_once(TOPIC_MARK) {
        Some((key, environment)) => (key, environment),
        None => (topic, DEFAULT_ENVIRONMENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_keys() {
        for ok in ["staging", "dev-2", "qa_eu", "p"] {
            assert!(is_key(ok), "{ok}");
        }
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for bad in [
            "",
            "Staging",
            "2dev",
            "-x",
            "a b",
            "a/b",
            "a\u{1f}b",
            long.as_str(),
        ] {
            assert!(!is_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn production_is_stored_as_sent_and_others_under_their_prefix() {
        let prod = Stream::of("default", "production");
        assert!(prod.is_default());
        assert_eq!(prod.stored("u1"), "u1");
        let staging = Stream::of("default", "staging");
        assert_eq!(staging.stored("u1"), "staging\u{1f}u1");
        assert_eq!(staging.shown("staging\u{1f}u1"), "u1");
        let mut name = "exp".to_owned();
        staging.prefix_in_place(&mut name);
        assert_eq!(name, "staging\u{1f}exp");
        // Another project's streams, production's included, are prefixed with the project.
        let other = Stream::of("shop", "production");
        assert_eq!(other.stored("u1"), "shop\u{1f}production\u{1f}u1");
        assert_eq!(parts("shop\u{1f}qa\u{1f}exp"), ("shop", "qa", "exp"));
        assert_eq!(parts("qa\u{1f}exp"), ("default", "qa", "exp"));
        assert_eq!(parts("exp"), ("default", "production", "exp"));
    }

    #[test]
    fn live_topics_name_the_environment() {
        assert_eq!(topic("exp"), ("exp".to_owned(), "default"));
        assert_eq!(
            topic("staging\u{1f}exp"),
            ("exp@staging".to_owned(), "default")
        );
        assert_eq!(
            topic("shop\u{1f}production\u{1f}exp"),
            ("exp".to_owned(), "shop")
        );
        assert_eq!(of_topic("exp@staging"), ("exp", "staging"));
        assert_eq!(of_topic("a:b/c"), ("a:b/c", "production"));
        let stored = Stream::of("shop", "staging").stored("exp").into_owned();
        let (t, project) = topic(&stored);
        assert_eq!((of_topic(&t), project), (("exp", "staging"), "shop"));
    }
}
