//! Environments (`docs/flags.md`, Environments): the server's list of them, and how each one's
//! events are kept apart in the one event store.
//!
//! Every environment's SDK keys send events to the same store and the same rollup worker. The
//! default environment's (`production`) are stored as sent, so a server upgraded from before
//! environments keeps its data as production's. Another environment's events are stored under
//! its [`Stream`] prefix, `{environment}` followed by U+001F: the prefix goes in front of each
//! event's unit id, `message_id` and exposure experiment. Its units, their exposures, their
//! metric totals and every rollup row are then its own, and the results of an experiment in
//! that environment read the rows of its prefixed subject. Production's events may not hold
//! U+001F in their unit ids or `message_id`s (they are refused), so no production unit can
//! stand for another environment's.

use std::borrow::Cow;

use litmus_core::config::environments::DEFAULT_ENVIRONMENT;
use serde::Serialize;

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

/// Where one environment's events live in the event store (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Empty for the default environment, else `{environment}` and [`SEPARATOR`].
    prefix: String,
}

impl Stream {
    /// The stream of `environment`.
    pub fn of(environment: &str) -> Self {
        let prefix = if environment == DEFAULT_ENVIRONMENT {
            String::new()
        } else {
            format!("{environment}{SEPARATOR}")
        };
        Stream { prefix }
    }

    /// The default environment's stream (no prefix).
    pub fn production() -> Self {
        Stream {
            prefix: String::new(),
        }
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

    /// Whether a stored subject (an experiment's, a holdout's) belongs to this stream.
    pub fn holds(&self, stored: &str) -> bool {
        if self.prefix.is_empty() {
            !stored.contains(SEPARATOR)
        } else {
            stored.starts_with(self.prefix.as_str())
        }
    }
}

/// What separates an experiment's key from its environment in a live topic
/// (`checkout@staging`; keys never hold it).
pub const TOPIC_MARK: char = '@';

/// The live topic (`crate::live`) of the rows stored under `stored`: the experiment's key for
/// production's, `{key}@{environment}` for another environment's.
pub fn topic(stored: &str) -> String {
    match stored.split_once(SEPARATOR) {
        Some((environment, key)) => format!("{key}{TOPIC_MARK}{environment}"),
        None => stored.to_owned(),
    }
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
        let prod = Stream::of("production");
        assert!(prod.is_default());
        assert_eq!(prod.stored("u1"), "u1");
        let staging = Stream::of("staging");
        assert_eq!(staging.stored("u1"), "staging\u{1f}u1");
        assert_eq!(staging.shown("staging\u{1f}u1"), "u1");
        let mut name = "exp".to_owned();
        staging.prefix_in_place(&mut name);
        assert_eq!(name, "staging\u{1f}exp");
        assert!(staging.holds("staging\u{1f}exp"));
        assert!(!staging.holds("exp"));
        assert!(prod.holds("exp"));
        assert!(!prod.holds("staging\u{1f}exp"));
        assert!(!Stream::of("dev").holds("staging\u{1f}exp"));
    }

    #[test]
    fn live_topics_name_the_environment() {
        assert_eq!(topic("exp"), "exp");
        assert_eq!(topic("staging\u{1f}exp"), "exp@staging");
        assert_eq!(of_topic("exp@staging"), ("exp", "staging"));
        assert_eq!(of_topic("a:b/c"), ("a:b/c", "production"));
        let stored = Stream::of("staging").stored("exp").into_owned();
        assert_eq!(of_topic(&topic(&stored)), ("exp", "staging"));
    }
}
