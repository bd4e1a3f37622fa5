//! What changed between two versions of a config object: each changed leaf as its path (`a.b`,
//! `variants[1].weight`), before and after. Arrays are compared by position; an array whose
//! length changed is one change of the whole array.

use serde::Serialize;
use serde_json::Value;

/// The most changes listed (a larger diff ends with a `truncated` mark).
pub const MAX_CHANGES: usize = 100;

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Where.
    pub path: String,
    /// The value before (absent: it was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (absent: it was removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The changes from `before` to `after` (at most [`MAX_CHANGES`]), and whether there were more.
pub fn diff(before: &Value, after: &Value) -> (Vec<Change>, bool) {
    let mut out = Vec::new();
    let truncated = walk(String::new(), Some(before), Some(after), &mut out);
    (out, truncated)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Adds the changes under `path`; true when the list is full.
fn walk(
    path: String,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut Vec<Change>,
) -> bool {
    if out.len() >= MAX_CHANGES {
        return true;
    }
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                if walk(join(&path, k), b.get(k), a.get(k), out) {
                    return true;
                }
            }
            false
        }
        (Some(Value::Array(b)), Some(Value::Array(a))) if a.len() == b.len() => {
            for (i, (x, y)) in b.iter().zip(a).enumerate() {
                if walk(format!("{path}[{i}]"), Some(x), Some(y), out) {
                    return true;
                }
            }
            false
        }
        (b, a) if b == a => false,
        (b, a) => {
            out.push(Change {
                path,
                before: b.cloned(),
                after: a.cloned(),
            });
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_that_changed_are_listed_with_their_paths() {
        let before = json!({"status": "draft", "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}], "gone": 1});
        let after = json!({"status": "running", "variants": [{"key": "a", "weight": 0.4}, {"key": "b", "weight": 0.6}], "new": true});
        let (changes, truncated) = diff(&before, &after);
        assert!(!truncated);
        let paths: Vec<_> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "gone",
                "new",
                "status",
                "variants[0].weight",
                "variants[1].weight"
            ]
        );
        assert_eq!(changes[0].after, None);
        assert_eq!(changes[1].before, None);
        assert!(diff(&after, &after).0.is_empty());
        let many_b = json!(
            (0..200)
                .map(|i| (i.to_string(), json!(i)))
                .collect::<serde_json::Map<_, _>>()
        );
        let many_a = json!(
            (0..200)
                .map(|i| (i.to_string(), json!(-i - 1)))
                .collect::<serde_json::Map<_, _>>()
        );
        let (changes, truncated) = diff(&many_b, &many_a);
        assert_eq!((changes.len(), truncated), (MAX_CHANGES, true));
    }
}
