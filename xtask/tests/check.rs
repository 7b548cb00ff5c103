//! `cargo xtask check` against a copy of the workspace: clean passes, a hand
//! edit or a version mismatch fails with a message saying what to run.

mod common;

use common::{copy_of_workspace, xtask};

#[test]
fn check_passes_on_the_checked_in_tree() {
    let dir = copy_of_workspace();
    let (code, text) = xtask(dir.path(), &["check"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("matches spec"), "{text}");
}

#[test]
fn check_fails_after_a_hand_edit_and_regenerate_repairs_it() {
    let dir = copy_of_workspace();
    let generated = dir.path().join("generated/src/generated.rs");
    let code = std::fs::read_to_string(&generated).unwrap();
    let edited = code.replacen("pub mod types {", "pub mod types {\n    // hand edit\n", 1);
    assert_ne!(code, edited);
    std::fs::write(&generated, edited).unwrap();

    let (status, text) = xtask(dir.path(), &["check"]);
    assert_eq!(status, 1, "{text}");
    assert!(
        text.contains("-    // hand edit"),
        "the diff shows the edit: {text}"
    );
    assert!(text.contains("cargo xtask regenerate"), "{text}");

    let (status, text) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("+0 -2 lines"), "{text}");
    assert_eq!(std::fs::read_to_string(&generated).unwrap(), code);
    assert_eq!(xtask(dir.path(), &["check"]).0, 0);
}

#[test]
fn the_crate_version_is_its_own() {
    // A handwritten-only fix is released by bumping the crate alone: neither
    // check nor regenerate ties the crate's version to the spec's.
    let dir = copy_of_workspace();
    let manifest = dir.path().join("generated/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let version_line = text
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap()
        .to_string();
    let bumped = text.replacen(&version_line, "version = \"9.8.7\"", 1);
    std::fs::write(&manifest, &bumped).unwrap();

    let (status, out) = xtask(dir.path(), &["check"]);
    assert_eq!(status, 0, "{out}");
    let (status, out) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), bumped);
}

#[test]
fn a_spec_that_fails_lint_stops_generation_with_findings() {
    let dir = copy_of_workspace();
    let spec = dir.path().join("spec/passage-auth.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replacen("operationId: get_app\n", "operationId: getApp\n", 1),
    )
    .unwrap();
    let before = std::fs::read_to_string(dir.path().join("generated/src/generated.rs")).unwrap();

    let (status, out) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("spec/passage-auth.yaml:"),
        "names the file and line: {out}"
    );
    assert!(out.contains("[operation-id] operation `getApp`"), "{out}");
    let after = std::fs::read_to_string(dir.path().join("generated/src/generated.rs")).unwrap();
    assert_eq!(before, after, "nothing is written when lint fails");
}

#[test]
fn a_spec_with_broken_yaml_exits_2_with_its_location() {
    let dir = copy_of_workspace();
    std::fs::write(
        dir.path().join("spec/passage-auth.yaml"),
        "openapi: 3.0.3\ninfo: [\n",
    )
    .unwrap();
    let (status, out) = xtask(dir.path(), &["check"]);
    assert_eq!(status, 2, "{out}");
    assert!(out.contains("spec/passage-auth.yaml:3:"), "{out}");
}
