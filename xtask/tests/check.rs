//! `cargo xtask check` against a copy of the workspace: clean passes, a hand
//! edit of any generated file or a file the generator did not write fails
//! with a message saying what to run, and a new spec is a configuration
//! change only.

mod common;

use common::{configured_crates, copy_of_workspace, workspace, xtask, AUTH_CODE};

#[test]
fn check_passes_on_the_checked_in_tree() {
    let dir = copy_of_workspace();
    let (code, text) = xtask(dir.path(), &["check"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("match their specs"), "{text}");
}

#[test]
fn check_fails_after_a_hand_edit_and_regenerate_repairs_it() {
    let dir = copy_of_workspace();
    let generated = dir.path().join(AUTH_CODE);
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

/// `check` covers every configured crate: a hand edit of any one's code
/// fails it, naming that file and its spec.
#[test]
fn a_hand_edit_of_every_configured_crate_fails_check() {
    for (spec, dir) in configured_crates() {
        let copy = copy_of_workspace();
        let file = format!("{dir}/src/api.rs");
        let path = copy.path().join(&file);
        let code = std::fs::read_to_string(&path).unwrap();
        let edited = code.replacen("pub mod types {", "pub mod types {\n    // hand edit\n", 1);
        assert_ne!(code, edited, "{file}");
        std::fs::write(&path, edited).unwrap();
        let (status, out) = xtask(copy.path(), &["check"]);
        assert_eq!(status, 1, "{file}: {out}");
        assert!(
            out.contains(&format!("{file} does not match what {spec} generates")),
            "{out}"
        );
        assert!(out.contains("-    // hand edit"), "{out}");
        let (status, out) = xtask(copy.path(), &["regenerate"]);
        assert_eq!(status, 0, "{out}");
        assert!(out.contains(&format!("{dir}: regenerated")), "{out}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), code);
    }
}

#[test]
fn a_hand_edit_of_a_generated_manifest_or_crate_root_fails_too() {
    for file in ["generated/auth/Cargo.toml", "generated/auth/src/lib.rs"] {
        let dir = copy_of_workspace();
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}\n# hand edit\n")).unwrap();
        let (status, out) = xtask(dir.path(), &["check"]);
        assert_eq!(status, 1, "{file}: {out}");
        assert!(out.contains(&format!("{file} does not match")), "{out}");
        assert_eq!(xtask(dir.path(), &["regenerate"]).0, 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}

#[test]
fn a_file_the_generator_did_not_write_fails_check_and_regenerate() {
    let dir = copy_of_workspace();
    let stray = dir.path().join("generated/auth/src/extras.rs");
    std::fs::write(&stray, "pub fn handwritten() {}\n").unwrap();
    for command in ["check", "regenerate"] {
        let (status, out) = xtask(dir.path(), &[command]);
        assert_eq!(status, 1, "{command}: {out}");
        assert!(
            out.contains("generated/auth/src/extras.rs: not written by the generator"),
            "{command}: {out}"
        );
    }
    std::fs::remove_file(&stray).unwrap();
    assert_eq!(xtask(dir.path(), &["check"]).0, 0);
}

#[test]
fn the_crate_version_is_its_own() {
    // A handwritten-only fix is released by bumping the crate alone: its
    // version lives in spec/crates.toml, not in the spec.
    let dir = copy_of_workspace();
    let config = dir.path().join("spec/crates.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let version_line = text
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap()
        .to_string();
    std::fs::write(
        &config,
        text.replacen(&version_line, "version = \"9.8.7\"", 1),
    )
    .unwrap();

    let (status, out) = xtask(dir.path(), &["check"]);
    assert_eq!(status, 1, "the manifest is stale: {out}");
    let (status, out) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 0, "{out}");
    let manifest = std::fs::read_to_string(dir.path().join("generated/auth/Cargo.toml")).unwrap();
    assert!(manifest.contains("\nversion = \"9.8.7\"\n"), "{manifest}");
    assert_eq!(xtask(dir.path(), &["check"]).0, 0);
}

/// A third API is a spec and an entry in spec/crates.toml: regenerate writes
/// its crate, check covers it, and the crate compiles against the runtime.
#[test]
fn a_third_spec_is_a_configuration_change() {
    let dir = copy_of_workspace();
    std::fs::copy(
        workspace().join("xtask/tests/fixtures/widgets.yaml"),
        dir.path().join("spec/widgets.yaml"),
    )
    .unwrap();
    let config = dir.path().join("spec/crates.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[crate]]\nspec = \"spec/widgets.yaml\"\nchangelog = \"spec/widgets.CHANGELOG.md\"\ndir = \"generated/widgets\"\nname = \"widgets-api\"\nversion = \"0.1.0\"\ndescription = \"Widgets\"\nerror-body = { schema = \"Problem\", code = \"kind\", message = \"detail\" }\n",
    );
    std::fs::write(&config, text).unwrap();

    assert_eq!(
        xtask(dir.path(), &["check"]).0,
        1,
        "the new crate is missing"
    );
    let (status, out) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("generated/widgets: regenerated"), "{out}");
    let (status, out) = xtask(dir.path(), &["check"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("widgets-api (spec 0.1.0)"), "{out}");

    // The generated crate builds in a workspace of its own beside the runtime.
    let read = |file: &str| {
        std::fs::read_to_string(dir.path().join("generated/widgets").join(file)).unwrap()
    };
    let generated = passage_codegen::GeneratedCrate {
        manifest: read("Cargo.toml"),
        root: read("src/lib.rs"),
        code: read("src/api.rs"),
    };
    assert!(generated
        .code
        .contains("pub type Error = ::passage_runtime::Error<open_enums::ProblemKind>;"));
    assert!(
        generated.code.contains("Auth::ApiKey {"),
        "the fixture's API key header"
    );
    let scratch = tempfile::tempdir().unwrap();
    passage_codegen::scratch::write_workspace(
        &[("widgets-api".to_string(), &generated)],
        &workspace(),
        scratch.path(),
    )
    .unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("mutants");
    passage_codegen::scratch::cargo_check(scratch.path(), &target).unwrap();
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
    let before = std::fs::read_to_string(dir.path().join(AUTH_CODE)).unwrap();

    let (status, out) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("spec/passage-auth.yaml:"),
        "names the file and line: {out}"
    );
    assert!(out.contains("[operation-id] operation `getApp`"), "{out}");
    let after = std::fs::read_to_string(dir.path().join(AUTH_CODE)).unwrap();
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
