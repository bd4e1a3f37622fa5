//! `docs/errors.md` lists every code the server answers with, as `litmus-core/tests/docs.rs`
//! checks core's: the "Server" section holds exactly `ApiError::CODES`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use litmus_server::error::ApiError;

/// The codes in the first column of the "## Server" section's table.
fn documented() -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/errors.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Server\n"))
        .expect("docs/errors.md has a \"## Server\" section");
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |"))
        .map(|(code, _)| code.to_owned())
        .collect()
}

#[test]
fn errors_md_lists_exactly_the_server_codes() {
    let listed: BTreeSet<String> = ApiError::CODES.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(documented(), listed, "docs/errors.md, section Server");
}
