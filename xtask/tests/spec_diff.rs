//! `cargo xtask spec-diff` end to end: the git-ref mode on a temporary
//! repository (version discipline with its messages, the Rust API effect),
//! the two-file mode, output formats and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

const CHANGELOG: &str = "spec/passage-auth.CHANGELOG.md";
const MANIFEST: &str = "generated/auth/Cargo.toml";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn fixture(case: &str, file: &str) -> PathBuf {
    workspace()
        .join("codegen/tests/fixtures/diff")
        .join(case)
        .join(file)
}

fn xtask(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .arg("spec-diff")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn git(root: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "user.name=Spec Diff Test",
            "-c",
            "user.email=spec-diff@example.test",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository holding the real Auth spec, its changelog, its entry of
/// spec/crates.toml and its generated crate's manifest, committed once on `main`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "spec/passage-auth.yaml",
            "spec/passage-auth.CHANGELOG.md",
            "generated/auth/Cargo.toml",
        ] {
            let to = dir.path().join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(workspace().join(rel), &to).unwrap();
        }
        let repo = Repo { dir };
        let config = std::fs::read_to_string(workspace().join("spec/crates.toml")).unwrap();
        let auth_entry = config
            .split("[[crate]]")
            .find(|entry| entry.contains("spec = \"spec/passage-auth.yaml\""))
            .expect("the Auth crate is configured");
        repo.write("spec/crates.toml", &format!("[[crate]]{auth_entry}"));
        // The cases reason from a spec and a client crate both at 1.0.0 and a
        // changelog whose last entry is 1.0.0, whatever the workspace is at now.
        repo.set_spec_version("1.0.0");
        repo.set_crate_version("1.0.0");
        repo.write(
            CHANGELOG,
            "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-11-29\n\n### Added\n\n- The spec.\n",
        );
        git(repo.root(), &["init", "-q", "-b", "main"]);
        git(repo.root(), &["add", "."]);
        git(repo.root(), &["commit", "-q", "-m", "spec 1.0.0"]);
        repo
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.root().join(rel), text).unwrap();
    }

    fn spec(&self) -> String {
        self.read("spec/passage-auth.yaml")
    }

    /// Sets info.version of the working-tree spec.
    fn set_spec_version(&self, version: &str) {
        let spec = self.spec();
        let line = spec
            .lines()
            .find(|l| l.starts_with("  version: "))
            .unwrap()
            .to_string();
        self.write(
            "spec/passage-auth.yaml",
            &spec.replacen(&line, &format!("  version: {version}"), 1),
        );
    }

    /// Sets the crate's version where a release does: in spec/crates.toml and
    /// (as `cargo xtask regenerate` would) in the generated manifest.
    fn set_crate_version(&self, version: &str) {
        for file in ["spec/crates.toml", MANIFEST] {
            let text = self.read(file);
            let line = text
                .lines()
                .find(|l| l.starts_with("version = "))
                .unwrap()
                .to_string();
            self.write(
                file,
                &text.replacen(&line, &format!("version = \"{version}\""), 1),
            );
        }
    }

    fn add_changelog_entry(&self, version: &str) {
        let log = self.read(CHANGELOG);
        self.write(
            CHANGELOG,
            &log.replacen(
                "## [Unreleased]\n",
                &format!(
                    "## [Unreleased]\n\n## [{version}] - 2026-12-01\n\n### Added\n\n- Something.\n"
                ),
                1,
            ),
        );
    }

    /// Adds an optional `nickname` to the `User` schema.
    fn add_user_nickname(&self) {
        let spec = self.spec();
        let anchor = "\n    User:\n      type: object\n";
        let start = spec.find(anchor).expect("User schema") + anchor.len();
        let props = start
            + spec[start..].find("      properties:\n").unwrap()
            + "      properties:\n".len();
        let mut spec = spec;
        spec.insert_str(
            props,
            "        nickname:\n          type: string\n          description: What the user likes to be called.\n",
        );
        self.write("spec/passage-auth.yaml", &spec);
    }

    /// Removes the `delete_currentuser_device` operation.
    fn remove_an_operation(&self) {
        let spec = self.spec();
        let start = spec
            .find("    delete:\n      operationId: delete_currentuser_device\n")
            .expect("the operation");
        let end = start + 1 + spec[start + 1..].find("\n    patch:\n").unwrap();
        let mut spec = spec;
        spec.replace_range(start..end, "");
        self.write("spec/passage-auth.yaml", &spec);
    }
}

#[test]
fn base_mode_on_an_unchanged_tree_reports_nothing() {
    let repo = Repo::new();
    let (code, out, err) = xtask(repo.root(), &["--base", "main"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no changes to the API"), "{out}");
    assert!(
        out.contains("ok: info.version, spec/passage-auth.CHANGELOG.md and generated/auth/Cargo.toml are in order"),
        "{out}"
    );
    assert!(out.contains("no public item changed"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is a pipe: {out}"
    );
}

#[test]
fn base_mode_passes_a_versioned_compatible_change_and_shows_the_rust_effect() {
    let repo = Repo::new();
    repo.add_user_nickname();
    repo.set_spec_version("1.1.0");
    repo.set_crate_version("1.1.0");
    repo.add_changelog_entry("1.1.0");
    let (code, out, err) = xtask(repo.root(), &["--base", "main", "--format", "markdown"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("## Spec diff: `1.0.0` → `1.1.0`"), "{out}");
    assert!(
        out.contains(
            "| 🟢 compatible | new optional field `nickname`: string | `field-added-optional` |"
        ),
        "{out}"
    );
    assert!(
        out.contains("+ field types::User.nickname: Option<String>"),
        "{out}"
    );
    assert!(out.contains("**Result:** no breaking change."), "{out}");

    // After committing, the change is in `main`; comparing with the parent still shows it.
    git(repo.root(), &["commit", "-q", "-am", "spec 1.1.0"]);
    let (code, out, _) = xtask(repo.root(), &["--base", "main~1", "--no-rust-api"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("new optional field `nickname`"), "{out}");
    let (code, out, _) = xtask(repo.root(), &["--base", "main", "--no-rust-api"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no changes to the API"), "{out}");
}

#[test]
fn base_mode_says_a_breaking_change_needs_a_major_version() {
    let repo = Repo::new();
    repo.remove_an_operation();
    repo.set_spec_version("1.1.0");
    repo.set_crate_version("1.1.0");
    repo.add_changelog_entry("1.1.0");
    let (code, out, err) = xtask(repo.root(), &["--base", "main", "--no-rust-api"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "delete_currentuser_device  DELETE /apps/{app_id}/currentuser/devices/{device_id}"
        ),
        "{out}"
    );
    assert!(out.contains("BREAKING    operation removed"), "{out}");
    assert!(
        out.contains("error: breaking changes need info.version 2.0.0 or later; found 1.1.0"),
        "{out}"
    );

    // A major bump settles version discipline, but the exit code still reports the break.
    repo.set_spec_version("2.0.0");
    repo.set_crate_version("2.0.0");
    repo.add_changelog_entry("2.0.0");
    let (code, out, _) = xtask(
        repo.root(),
        &["--base", "main", "--format", "json", "--no-rust-api"],
    );
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["breaking"], true);
    assert_eq!(v["version_problems"], serde_json::json!([]));
    assert_eq!(v["changes"][0]["rule"], "operation-removed");
}

#[test]
fn base_mode_asks_for_a_bump_a_changelog_entry_and_the_crate_version() {
    let repo = Repo::new();
    repo.add_user_nickname();
    let (code, out, _) = xtask(repo.root(), &["--base", "main", "--no-rust-api"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error: compatible changes need info.version 1.1.0 or later; found 1.0.0"),
        "{out}"
    );
    assert!(
        !out.contains("CHANGELOG.md has no"),
        "1.0.0 has an entry: {out}"
    );

    repo.set_spec_version("1.1.0");
    let (code, out, _) = xtask(repo.root(), &["--base", "main", "--no-rust-api"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "error: spec/passage-auth.CHANGELOG.md has no `## [1.1.0]` entry; add one that describes this change"
        ),
        "{out}"
    );
    assert!(
        out.contains("error: compatible spec changes need generated/auth/Cargo.toml package.version 1.1.0 or later (was 1.0.0); found 1.0.0"),
        "{out}"
    );
    assert!(
        !out.contains("need info.version"),
        "the bump itself is fine: {out}"
    );
}

/// With every configured spec committed, `--base` reviews each of them: a
/// change of the Management spec is reported (and fails version discipline
/// until it is versioned) while the unchanged Auth spec reports nothing;
/// `--spec` narrows the review to one spec.
#[test]
fn base_mode_reviews_every_configured_spec() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = std::fs::read_to_string(workspace().join("spec/crates.toml")).unwrap();
    let table: toml::Table = toml::from_str(&config).unwrap();
    let mut files = vec!["spec/crates.toml".to_string()];
    for entry in table["crate"].as_array().unwrap() {
        files.push(entry["spec"].as_str().unwrap().into());
        files.push(entry["changelog"].as_str().unwrap().into());
        files.push(format!("{}/Cargo.toml", entry["dir"].as_str().unwrap()));
    }
    assert!(files.contains(&"spec/passage-management.yaml".to_string()));
    for rel in &files {
        let to = root.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(workspace().join(rel), &to).unwrap();
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "both specs"]);

    // A new optional property on the Management API's AppInfo, unversioned.
    let spec = root.join("spec/passage-management.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let anchor = "\n    AppInfo:\n";
    let start = text.find(anchor).expect("AppInfo schema") + anchor.len();
    let props =
        start + text[start..].find("      properties:\n").unwrap() + "      properties:\n".len();
    let mut changed = text.clone();
    changed.insert_str(
        props,
        "        support_email:\n          type: string\n          description: Where users write for help.\n",
    );
    std::fs::write(&spec, changed).unwrap();

    let (code, out, err) = xtask(root, &["--base", "main", "--no-rust-api"]);
    assert_eq!(code, 1, "{out}{err}");
    let (auth, management) = out
        .split_once("spec diff: main:spec/passage-management.yaml")
        .unwrap_or_else(|| panic!("a report for the Management spec: {out}"));
    assert!(
        auth.contains("spec diff: main:spec/passage-auth.yaml")
            && auth.contains("no changes to the API"),
        "{out}"
    );
    assert!(
        management.contains("compatible  new optional field `support_email`: string"),
        "{out}"
    );
    assert!(
        management
            .contains("error: compatible changes need info.version 1.1.0 or later; found 1.0.0"),
        "{out}"
    );

    // --spec reviews the Auth spec alone: nothing changed there.
    let (code, out, err) = xtask(
        root,
        &[
            "--base",
            "main",
            "--spec",
            "spec/passage-auth.yaml",
            "--no-rust-api",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("passage-management"), "{out}");
}

#[test]
fn an_unknown_git_ref_is_an_error() {
    let repo = Repo::new();
    let (code, out, err) = xtask(repo.root(), &["--base", "no-such-branch"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("no-such-branch is not a commit of the repository"),
        "{err}"
    );
}

#[test]
fn two_files_exit_1_on_a_breaking_change_and_0_otherwise() {
    let root = workspace();
    let breaking = [
        fixture("field-now-optional-response", "old.yaml"),
        fixture("field-now-optional-response", "new.yaml"),
    ];
    let args: Vec<&str> = breaking.iter().map(|p| p.to_str().unwrap()).collect();
    let (code, out, err) = xtask(&root, &args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("Schemas\n  Thing (used by create_thing, get_thing)\n    BREAKING    field `status` is now optional (received by clients)  [field-now-optional]"), "{out}");
    assert!(
        out.contains("~ field types::Thing.status: crate::api::open_enums::Status -> Option<crate::api::open_enums::Status>"),
        "the fixtures generate, so the Rust API effect is shown: {out}"
    );

    let compatible = [
        fixture("field-now-optional-request", "old.yaml"),
        fixture("field-now-optional-request", "new.yaml"),
    ];
    let args: Vec<&str> = compatible.iter().map(|p| p.to_str().unwrap()).collect();
    let (code, out, err) = xtask(&root, &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("compatible  field `name` is now optional (sent by clients)"),
        "{out}"
    );
}

#[test]
fn two_files_check_the_changelog_and_manifest_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("CHANGELOG.md");
    std::fs::write(&log, "# Changelog\n\n## [1.0.0]\n").unwrap();
    let manifest = dir.path().join("Cargo.toml");
    std::fs::write(&manifest, "[package]\nname = \"c\"\nversion = \"1.0.0\"\n").unwrap();
    let (old, new) = (
        fixture("operation-added", "old.yaml"),
        fixture("operation-added", "new.yaml"),
    );
    let (code, out, err) = xtask(
        &workspace(),
        &[
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--changelog",
            log.to_str().unwrap(),
            "--client-manifest",
            manifest.to_str().unwrap(),
            "--no-rust-api",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("CHANGELOG.md has no `## [1.1.0]` entry"),
        "{out}"
    );
    // Two files carry no earlier crate version, so the crate bump is not judged
    // (it is with --base, against the manifest at the base ref).
    assert!(!out.contains("package.version"), "{out}");
}

#[test]
fn bad_arguments_exit_2() {
    let root = workspace();
    let one = fixture("operation-added", "old.yaml");
    for args in [
        vec![],
        vec![one.to_str().unwrap()],
        vec![
            "--base",
            "main",
            one.to_str().unwrap(),
            one.to_str().unwrap(),
        ],
        vec![
            "--format",
            "xml",
            one.to_str().unwrap(),
            one.to_str().unwrap(),
        ],
        vec!["/nonexistent/a.yaml", "/nonexistent/b.yaml"],
    ] {
        let (code, out, err) = xtask(&root, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
    }
}

/// Runs the xtask under `script(1)`, so that its stdout is a terminal.
fn xtask_on_a_terminal(args: &[&str], no_color: bool) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut command = vec![
        quote(env!("CARGO_BIN_EXE_xtask")),
        "--root".into(),
        quote(workspace().to_str().unwrap()),
        "spec-diff".into(),
    ];
    command.extend(args.iter().map(|a| quote(a)));
    let mut script = Command::new("script");
    script.args(["-qec", &command.join(" "), "/dev/null"]);
    if no_color {
        script.env("NO_COLOR", "1");
    } else {
        script.env_remove("NO_COLOR");
    }
    let out = script
        .output()
        .expect("script(1) from util-linux runs the command on a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn text_is_coloured_on_a_terminal_unless_no_color_is_set() {
    let (old, new) = (
        fixture("operation-removed", "old.yaml"),
        fixture("operation-removed", "new.yaml"),
    );
    let args = [
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--no-rust-api",
    ];
    let coloured = xtask_on_a_terminal(&args, false);
    assert!(coloured.contains("\x1b[1;31mBREAKING"), "{coloured:?}");
    let plain = xtask_on_a_terminal(&args, true);
    assert!(plain.contains("BREAKING"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
    // Markdown is never coloured, terminal or not.
    let md = xtask_on_a_terminal(
        &[args[0], args[1], "--format", "markdown", "--no-rust-api"],
        false,
    );
    assert!(md.contains("🔴 **breaking**"), "{md:?}");
    assert!(!md.contains('\x1b'), "{md:?}");
}
