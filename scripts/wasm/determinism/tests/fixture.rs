//! The native draws equal `fixtures/determinism/v1.json` (LITMUS_BLESS=1 rewrites it).

use std::path::PathBuf;

#[test]
fn native_draws_match_the_fixture() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/determinism/v1.json");
    let text = litmus_determinism::fixture_text();
    if std::env::var_os("LITMUS_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e} (run with LITMUS_BLESS=1)", path.display()));
    assert!(
        committed == text,
        "native draws differ from {}",
        path.display()
    );
}
