//! The documentation lists every error code, reason and operator the code has.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

fn doc(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn errors_md_lists_every_code_and_reason() {
    let text = doc("errors.md");
    for code in litmus_core::Error::CODES {
        assert!(
            text.contains(&format!("| `{code}` |")),
            "docs/errors.md misses error code {code}"
        );
    }
    for code in litmus_core::events::BatchError::CODES {
        assert!(
            text.contains(&format!("| `{code}` |")),
            "docs/errors.md misses the event batch code {code}"
        );
    }
    for reason in litmus_core::Reason::ALL {
        assert!(
            text.contains(&format!("`{}`", reason.code())),
            "docs/errors.md misses reason {}",
            reason.code()
        );
    }
    for miss in [
        litmus_core::MissKind::False,
        litmus_core::MissKind::Missing,
        litmus_core::MissKind::TypeMismatch,
    ] {
        assert!(text.contains(&format!("`{}`", miss.code())));
    }
}

#[test]
fn config_spec_lists_every_operator() {
    let text = doc("spec/config-v1.md");
    for op in litmus_core::config::OPERATORS {
        assert!(
            text.contains(&format!("`{op}`")),
            "docs/spec/config-v1.md misses operator {op}"
        );
    }
}

#[test]
fn errors_md_lists_every_flag_reason_and_evaluation_error() {
    let text = doc("errors.md");
    for reason in litmus_core::FlagReason::ALL {
        assert!(
            text.contains(&format!("`{}`", reason.code())),
            "docs/errors.md misses flag reason {}",
            reason.code()
        );
    }
    for error in [
        litmus_core::EvaluationError::FlagNotFound,
        litmus_core::EvaluationError::InvalidConfig,
        litmus_core::EvaluationError::TypeMismatch,
    ] {
        assert!(text.contains(&format!("`{}`", error.code())));
        assert!(text.contains(&format!("`{}`", error.openfeature_code())));
    }
}
