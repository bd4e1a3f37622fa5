//! Sticky assignments in the SDKs: the key an app's sticky store holds for (experiment, unit),
//! and which assignments are remembered.
//!
//! The key is `"<length of the experiment key>:<experiment>:<unit>"`: length-prefixed, so no
//! two pairs share a key whatever their characters. Only a fresh assignment by the engine
//! (reason `assigned`) is remembered: overrides, sticky answers and misses are not, so a unit
//! that leaves the targeting or an override does not carry a stale variant.

use crate::assign::{Assignment, Reason};

/// The sticky store's key for (experiment, unit).
pub fn sticky_key(experiment: &str, unit: &str) -> String {
    format!("{}:{experiment}:{unit}", experiment.len())
}

/// Whether to remember this assignment in the sticky store.
pub fn should_remember(assignment: &Assignment<'_>) -> bool {
    assignment.reason() == Reason::Assigned
}

/// Whether to remember an assignment given its reason's code (for shells that hold the code
/// only, such as the bindings' assignment objects).
pub fn should_remember_code(reason_code: &str) -> bool {
    reason_code == Reason::Assigned.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_length_prefixed() {
        assert_eq!(sticky_key("exp", "user-1"), "3:exp:user-1");
        assert_ne!(sticky_key("a", "b:c"), sticky_key("a:b", "c"));
    }
}
