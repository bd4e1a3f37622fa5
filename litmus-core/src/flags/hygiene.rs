//! Stale-flag hygiene (`docs/flags.md`, Stale flags): whether a flag, as one environment has
//! it, serves one value to every unit, so its rules could go and the code read a constant.

use serde_json::Value;

use super::wire::{RuleKind, WireFlag};

/// The value `flag` (as an environment's document has it: `environments::project`) serves to
/// every unit, when it serves them all the same one: its default when it is off or has no rule
/// that applies to anyone, else the value of its first rule when that rule applies to everyone
/// (a force rule or a 100 % rollout without a condition; 0 % rollouts apply to no one and are
/// passed over). `None` when units may get different values: a rule with a condition, a
/// partial rollout, an experiment or a prerequisite comes first, or scheduled changes are
/// pending (the flag will change).
pub fn serves_everyone(flag: &WireFlag) -> Option<&Value> {
    if !flag.enabled {
        return Some(&flag.default);
    }
    if !flag.schedule.is_empty() {
        return None;
    }
    for rule in &flag.rules {
        if rule.condition.is_some() {
            return None;
        }
        match rule.kind {
            RuleKind::Force => return rule.value.as_ref(),
            RuleKind::Rollout => match rule.percentage {
                Some(p) if p >= 100.0 => return rule.value.as_ref(),
                Some(p) if p <= 0.0 => continue,
                _ => return None,
            },
            RuleKind::Experiment | RuleKind::Prerequisite => return None,
        }
    }
    Some(&flag.default)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn flag(json: &str) -> WireFlag {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn what_every_unit_is_served() {
        let cases = [
            (
                r#"{"key":"f","type":"boolean","default":false}"#,
                Some(false),
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"enabled":false,"rules":[{"kind":"force","value":true}]}"#,
                Some(false),
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"force","value":true}]}"#,
                Some(true),
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"rollout","percentage":100,"value":true}]}"#,
                Some(true),
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"rollout","percentage":0,"value":true},{"kind":"force","value":true}]}"#,
                Some(true),
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"rollout","percentage":0,"value":true}]}"#,
                Some(false),
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"rollout","percentage":50,"value":true}]}"#,
                None,
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"force","value":true,"condition":{"attribute":"a","op":"eq","value":1}},{"kind":"force","value":true}]}"#,
                None,
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"rules":[{"kind":"experiment","experiment":"e","values":{"a":true}}]}"#,
                None,
            ),
            (
                r#"{"key":"f","type":"boolean","default":false,"schedule":[{"at":"2027-01-01T00:00:00Z","enabled":false}]}"#,
                None,
            ),
        ];
        for (json, want) in cases {
            let f = flag(json);
            assert_eq!(serves_everyone(&f).and_then(Value::as_bool), want, "{json}");
        }
    }
}
