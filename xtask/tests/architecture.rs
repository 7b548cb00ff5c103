//! The architecture rules of `ARCHITECTURE.md`, checked on the workspace, and
//! shown to fail: each check is run on a copy (of codegen, or of a small
//! made-up workspace) with one planted violation, and must report it with its
//! file and line.

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::architecture::{self, CrateRules, Violation, RULES};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn show(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("  {v}\n"))
        .collect::<String>()
}

/// Writes `files` (path, text) under a new temporary root.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A workspace of the real crates the rules table names (manifests and
/// sources), so that the whole rules table runs on it.
fn copy_of_codegen() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = workspace();
    let crates: Vec<&str> = xtask::architecture::RULES.iter().map(|r| r.dir).collect();
    let members: Vec<String> = crates.iter().map(|c| format!("\"{c}\"")).collect();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!("[workspace]\nmembers = [{}]\n", members.join(", ")),
    )
    .unwrap();
    for krate in crates {
        std::fs::create_dir_all(dir.path().join(krate)).unwrap();
        std::fs::copy(
            root.join(krate).join("Cargo.toml"),
            dir.path().join(krate).join("Cargo.toml"),
        )
        .unwrap();
        copy_dir(
            &root.join(krate).join("src"),
            &dir.path().join(krate).join("src"),
        );
    }
    dir
}

/// Appends `text` to a file of the copy; returns the 1-based line of the
/// first line appended.
fn append(root: &Path, rel: &str, text: &str) -> usize {
    let path = root.join(rel);
    let mut old = std::fs::read_to_string(&path).unwrap();
    if !old.ends_with('\n') {
        old.push('\n');
    }
    let line = old.lines().count() + 1;
    std::fs::write(&path, old + text).unwrap();
    line
}

/// The 1-based line of the first line of `rel` containing `needle`.
fn line_of(root: &Path, rel: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn codegen_rules() -> Vec<CrateRules> {
    RULES
        .iter()
        .filter(|r| r.dir == "codegen")
        .copied()
        .collect()
}

fn run_xtask(root: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .arg("architecture")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_workspace_keeps_its_architecture() {
    let violations = architecture::check(&workspace(), RULES);
    assert!(violations.is_empty(), "\n{}", show(&violations));
}

#[test]
fn the_codegen_graph_is_read_in_full() {
    // A parser that found no imports would find no circle either.
    let m = architecture::measure(&workspace(), "codegen").unwrap();
    assert!(m.graph.files.len() >= 30, "{m}");
    assert!(m.circles.is_empty() && m.elementary == 0, "{m}");
    let edge = |from: &str, to: &str| {
        let index = |p: &str| m.graph.files.iter().position(|f| f.path == p).unwrap();
        m.graph.edges.contains_key(&(index(from), index(to)))
    };
    // `generate_with` runs lint; lint's rules use the spec toolkit; the
    // open-enum rule names variants as the generator does.
    assert!(edge(
        "codegen/src/generate/mod.rs",
        "codegen/src/lint/mod.rs"
    ));
    assert!(edge(
        "codegen/src/lint/operations.rs",
        "codegen/src/spec/walk.rs"
    ));
    assert!(edge("codegen/src/lint/types.rs", "codegen/src/naming.rs"));
    // A facade re-export is not an import of the parent on its child.
    assert!(!edge("codegen/src/lib.rs", "codegen/src/spec/load.rs"));
}

#[test]
fn the_command_passes_on_the_workspace_and_fails_on_a_planted_import() {
    let (code, text) = run_xtask(&workspace());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 violation(s)"), "{text}");

    let copy = copy_of_codegen();
    let (code, text) = run_xtask(copy.path());
    assert_eq!(code, 0, "the unplanted copy passes: {text}");
    let line = append(
        copy.path(),
        "codegen/src/naming.rs",
        "pub fn planted() -> crate::lint::LintReport {\n    Default::default()\n}\n",
    );
    let (code, text) = run_xtask(copy.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "codegen/src/naming.rs:{line}: module `naming` imports `lint`"
        )),
        "{text}"
    );
}

#[test]
fn an_upward_import_is_reported_with_its_file_and_line() {
    let copy = copy_of_codegen();
    let rules = codegen_rules();
    assert_eq!(architecture::check(copy.path(), &rules), vec![]);
    let line = append(
        copy.path(),
        "codegen/src/spec/pointer.rs",
        "/// Planted.\npub fn planted() -> crate::generate::Options {\n    Default::default()\n}\n",
    ) + 1;
    let violations = architecture::check(copy.path(), &rules);
    let upward = violations
        .iter()
        .find(|v| matches!(v, Violation::Upward { .. }));
    assert_eq!(
        upward,
        Some(&Violation::Upward {
            file: "codegen/src/spec/pointer.rs".into(),
            line,
            from: "spec".into(),
            to: "generate".into(),
            to_file: "codegen/src/generate/options.rs".into(),
        }),
        "\n{}",
        show(&violations)
    );
}

#[test]
fn a_circle_is_reported_with_the_files_and_lines_that_make_it() {
    let copy = copy_of_codegen();
    let rules = codegen_rules();
    // finding.rs reads the rule table; the table now reads a finding: a
    // circle inside one module, which no layer rule sees.
    let planted = append(
        copy.path(),
        "codegen/src/lint/rules.rs",
        "/// Planted.\npub fn planted(finding: &super::Finding) -> &'static str {\n    finding.rule\n}\n",
    ) + 1;
    let back = line_of(copy.path(), "codegen/src/lint/finding.rs", "rules::get(");
    let violations = architecture::check(copy.path(), &rules);
    assert_eq!(violations.len(), 1, "\n{}", show(&violations));
    let Violation::Circle { files, hops, .. } = &violations[0] else {
        panic!("not a circle: {}", violations[0]);
    };
    assert_eq!(
        files,
        &["codegen/src/lint/finding.rs", "codegen/src/lint/rules.rs"]
    );
    let hop = |from: &str| hops.iter().find(|h| h.from == from).unwrap();
    assert_eq!(
        hop("codegen/src/lint/rules.rs").to,
        "codegen/src/lint/finding.rs"
    );
    assert_eq!(hop("codegen/src/lint/rules.rs").lines, vec![planted]);
    assert!(hop("codegen/src/lint/finding.rs").lines.contains(&back));
    let text = violations[0].to_string();
    assert!(
        text.contains(&format!(
            "codegen/src/lint/rules.rs:{planted} -> codegen/src/lint/finding.rs"
        )),
        "{text}"
    );
}

#[test]
fn a_forbidden_crate_dependency_is_reported_in_the_manifest_and_the_source() {
    let copy = copy_of_codegen();
    let rules = codegen_rules();
    let manifest = copy.path().join("codegen/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replacen(
        "[dev-dependencies]\n",
        "[dev-dependencies]\npassage-auth-api = { path = \"../generated/auth\" }\n",
        1,
    );
    std::fs::write(&manifest, text).unwrap();
    let manifest_line = line_of(copy.path(), "codegen/Cargo.toml", "passage-auth-api = {");
    let source_line = append(
        copy.path(),
        "codegen/src/naming.rs",
        "#[allow(unused_imports)]\nuse passage_auth_api as _;\n",
    ) + 1;
    let violations = architecture::check(copy.path(), &rules);
    let forbidden: Vec<(&str, usize)> = violations
        .iter()
        .filter_map(|v| match v {
            Violation::ForbiddenDependency {
                file, line, chain, ..
            } if chain == &["passage-auth-api"] => Some((file.as_str(), *line)),
            _ => None,
        })
        .collect();
    assert_eq!(
        forbidden,
        vec![
            ("codegen/Cargo.toml", manifest_line),
            ("codegen/src/naming.rs", source_line)
        ],
        "\n{}",
        show(&violations)
    );
}

/// A made-up workspace: crate `app` (lib `app`), crate `client`, crate `bridge`
/// (which depends on `client`).
fn small_workspace(app_files: &[(&str, &str)], app_manifest_extra: &str) -> tempfile::TempDir {
    let manifest = format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{app_manifest_extra}"
    );
    let mut files: Vec<(String, String)> = vec![
        (
            "Cargo.toml".into(),
            "[workspace]\nmembers = [\"app\", \"libs/*\"]\n".into(),
        ),
        ("app/Cargo.toml".into(), manifest),
        (
            "libs/client/Cargo.toml".into(),
            "[package]\nname = \"client\"\nversion = \"0.1.0\"\n".into(),
        ),
        ("libs/client/src/lib.rs".into(), "pub struct Client;\n".into()),
        (
            "libs/bridge/Cargo.toml".into(),
            "[package]\nname = \"bridge\"\nversion = \"0.1.0\"\n\n[dependencies]\nclient = { path = \"../client\" }\n".into(),
        ),
        ("libs/bridge/src/lib.rs".into(), "pub use client::Client;\n".into()),
    ];
    files.extend(
        app_files
            .iter()
            .map(|(p, t)| (format!("app/{p}"), t.to_string())),
    );
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    tree(&refs)
}

const PLAIN: CrateRules = CrateRules {
    dir: "app",
    layers: &[],
    independent: &[],
    forbidden: &[],
};

fn circles(root: &Path) -> Vec<Violation> {
    architecture::check(root, &[PLAIN])
}

#[test]
fn a_facade_re_export_is_no_import_but_real_use_is() {
    let facade = [
        ("src/lib.rs", "mod feature;\npub use feature::Thing;\n"),
        (
            "src/feature/mod.rs",
            "mod thing;\npub use thing::Thing;\n\n/// Shared by the children.\npub fn helper() {}\n",
        ),
        (
            "src/feature/thing.rs",
            "use super::helper;\n\n/// A thing.\npub struct Thing;\n\nimpl Thing {\n    pub fn new() -> Self {\n        helper();\n        Thing\n    }\n}\n",
        ),
    ];
    let dir = small_workspace(&facade, "");
    assert_eq!(circles(dir.path()), vec![]);

    // The parent now uses what it re-exports: that is an import.
    let mut used = facade;
    used[1].1 = "mod thing;\npub use thing::Thing;\n\n/// Shared by the children.\npub fn helper() {}\n\n/// Uses a child.\npub fn make() -> Thing {\n    Thing::new()\n}\n";
    let dir = small_workspace(&used, "");
    let violations = circles(dir.path());
    assert_eq!(violations.len(), 1, "\n{}", show(&violations));
    let Violation::Circle { hops, .. } = &violations[0] else {
        panic!("{}", violations[0]);
    };
    let from_parent = hops
        .iter()
        .find(|h| h.from == "app/src/feature/mod.rs")
        .unwrap();
    assert_eq!(from_parent.lines, vec![8, 9]);
    let from_child = hops
        .iter()
        .find(|h| h.from == "app/src/feature/thing.rs")
        .unwrap();
    assert_eq!(from_child.lines, vec![1, 8]);
}

#[test]
fn test_code_and_generated_tokens_are_no_imports_but_macro_paths_are() {
    let base = [
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        ("src/a.rs", "/// A.\npub fn a() {}\n"),
        (
            "src/b.rs",
            "/// B.\npub fn b() {}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {\n        crate::a::a();\n    }\n}\n",
        ),
    ];
    // a -> b only through generated tokens; b -> a only in tests: no circle.
    let mut quiet = base;
    quiet[1].1 = "/// A.\npub fn a() {}\n\n/// Code for another crate.\npub fn tokens() -> proc_macro2::TokenStream {\n    quote::quote!(crate::b::b())\n}\n";
    let dir = small_workspace(&quiet, "");
    assert_eq!(circles(dir.path()), vec![]);
    let m = architecture::measure(dir.path(), "app").unwrap();
    assert!(m.graph.edges.is_empty(), "{:?}", m.graph.edges);

    // The same path in an ordinary macro call is an import.
    let mut loud = quiet;
    loud[2].1 = "/// B.\npub fn b() {\n    assert_eq!(crate::a::a(), ());\n}\n";
    loud[1].1 = "/// A.\npub fn a() {\n    println!(\"{:?}\", crate::b::b());\n}\n";
    let dir = small_workspace(&loud, "");
    let violations = circles(dir.path());
    assert_eq!(violations.len(), 1, "\n{}", show(&violations));
    let Violation::Circle { hops, .. } = &violations[0] else {
        panic!("{}", violations[0]);
    };
    let lines: Vec<(&str, Vec<usize>)> = hops
        .iter()
        .map(|h| (h.from.as_str(), h.lines.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![("app/src/a.rs", vec![3]), ("app/src/b.rs", vec![3])]
    );
}

#[test]
fn layers_siblings_and_names_in_the_rules_are_checked() {
    let files = [
        ("src/lib.rs", "pub mod base;\npub mod http;\npub mod extra;\n"),
        ("src/base.rs", "/// Base.\npub struct Base;\n"),
        ("src/extra.rs", "/// Not in the layer list.\npub struct Extra;\n"),
        ("src/http/mod.rs", "pub mod routes;\n\n/// Shared by routes.\npub fn shared() {}\n"),
        ("src/http/routes/mod.rs", "pub mod apps;\npub mod users;\n"),
        (
            "src/http/routes/apps.rs",
            "use crate::base::Base;\n\n/// Apps.\npub fn apps(_: Base) {\n    super::super::shared();\n}\n",
        ),
        (
            "src/http/routes/users.rs",
            "/// Users.\npub fn users() {\n    super::apps::apps(crate::base::Base);\n}\n",
        ),
    ];
    let dir = small_workspace(&files, "");
    let rules = [CrateRules {
        dir: "app",
        layers: &[&["base"], &["http"], &["gone"]],
        independent: &["http/routes", "http/missing"],
        forbidden: &["libs/nothing"],
    }];
    let violations = architecture::check(dir.path(), &rules);
    let text = show(&violations);
    assert!(
        violations.contains(&Violation::Sibling {
            file: "app/src/http/routes/users.rs".into(),
            line: 3,
            dir: "http/routes".into(),
            to_file: "app/src/http/routes/apps.rs".into(),
        }),
        "\n{text}"
    );
    assert!(
        violations.contains(&Violation::UnlistedModule {
            crate_dir: "app".into(),
            module: "extra".into(),
            file: "app/src/extra.rs".into(),
        }),
        "\n{text}"
    );
    for (module, rule) in [
        ("gone", "the layer list"),
        ("http/missing", "an independent-directory rule"),
    ] {
        assert!(
            violations.contains(&Violation::MissingModule {
                crate_dir: "app".into(),
                module: module.into(),
                rule: rule.into(),
            }),
            "{module}:\n{text}"
        );
    }
    assert!(
        violations.contains(&Violation::MissingCrate {
            dir: "libs/nothing".into(),
            rule: "the forbidden dependencies of app".into(),
        }),
        "\n{text}"
    );
    // Nothing else: the route's use of `base` (an earlier layer) and of the
    // shared `http` helper is allowed.
    assert_eq!(violations.len(), 5, "\n{text}");

    // Upward: base names http.
    let mut upward = files;
    upward[1].1 = "/// Base.\npub struct Base;\n\n/// Planted.\npub fn up() {\n    crate::http::shared();\n}\n";
    let dir = small_workspace(&upward, "");
    let rules = [CrateRules {
        dir: "app",
        layers: &[&["base"], &["http", "extra"]],
        independent: &[],
        forbidden: &[],
    }];
    let violations = architecture::check(dir.path(), &rules);
    assert!(
        violations.contains(&Violation::Upward {
            file: "app/src/base.rs".into(),
            line: 6,
            from: "base".into(),
            to: "http".into(),
            to_file: "app/src/http/mod.rs".into(),
        }),
        "\n{}",
        show(&violations)
    );
}

#[test]
fn a_rule_for_a_missing_crate_fails_and_dependencies_are_followed_through_crates() {
    let dir = small_workspace(
        &[("src/lib.rs", "/// App.\npub fn app() {}\n")],
        "bridge = { path = \"../libs/bridge\" }\n",
    );
    let rules = [
        CrateRules {
            dir: "app",
            layers: &[],
            independent: &[],
            // `libs` covers every crate under it; `libs/client` is reached through `bridge`.
            forbidden: &["libs/client"],
        },
        CrateRules {
            dir: "moved-away",
            layers: &[],
            independent: &[],
            forbidden: &[],
        },
    ];
    let violations = architecture::check(dir.path(), &rules);
    assert_eq!(
        violations,
        vec![
            Violation::ForbiddenDependency {
                file: "app/Cargo.toml".into(),
                line: 7,
                package: "app".into(),
                chain: vec!["bridge".into(), "client".into()],
                forbidden: "libs/client".into(),
            },
            Violation::MissingCrate {
                dir: "moved-away".into(),
                rule: "the rules table".into(),
            },
        ],
        "\n{}",
        show(&violations)
    );
}
