//! A standalone workspace for generated crates, outside the repository: the
//! crates as the generator wrote them, beside a copy of the real runtime
//! crate, with the repository's dependency versions (its
//! `[workspace.dependencies]` and lock file). The spec-mutation check compiles
//! mutants there, and the semver check compares two generations of one crate.

use std::path::Path;
use std::process::Command;

use crate::generate::GeneratedCrate;

/// Writes a workspace at `dir` holding each crate of `crates` (under its
/// given name, which is also its directory) and `passage-runtime`, copied
/// from `workspace/runtime` without its dev-dependencies.
pub fn write_workspace(
    crates: &[(String, &GeneratedCrate)],
    workspace: &Path,
    dir: &Path,
) -> Result<(), String> {
    let read =
        |rel: &str| std::fs::read_to_string(workspace.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let root = read("Cargo.toml")?;
    let runtime_manifest = read("runtime/Cargo.toml")?;
    // Path dependencies of the repository do not exist here; the runtime is copied in.
    let mut workspace_deps: String = toml_section(&root, "workspace.dependencies")
        .lines()
        .filter(|l| !l.contains("path ="))
        .map(|l| format!("{l}\n"))
        .collect();
    workspace_deps.push_str("passage-runtime = { path = \"passage-runtime\" }\n");
    let mut members = vec!["\"passage-runtime\"".to_string()];
    members.extend(crates.iter().map(|(name, _)| format!("\"{name}\"")));
    let manifest = format!(
        "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[profile.dev]\ndebug = false\n\n[workspace.package]\n{}\n[workspace.dependencies]\n{workspace_deps}",
        members.join(", "),
        toml_section(&root, "workspace.package"),
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    if let Ok(lock) = std::fs::read(workspace.join("Cargo.lock")) {
        std::fs::write(dir.join("Cargo.lock"), lock).map_err(|e| e.to_string())?;
    }
    let runtime_package = runtime_manifest
        .split("\n[dev-dependencies]")
        .next()
        .unwrap_or_default();
    write(&dir.join("passage-runtime/Cargo.toml"), runtime_package)?;
    let runtime_src = workspace.join("runtime/src");
    let entries =
        std::fs::read_dir(&runtime_src).map_err(|e| format!("{}: {e}", runtime_src.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let name = path.file_name().unwrap_or_default();
            write(&dir.join("passage-runtime/src").join(name), &text)?;
        }
    }
    for (name, generated) in crates {
        for (file, contents) in generated.files() {
            let contents = if file == "Cargo.toml" {
                rename_package(contents, name)
            } else {
                contents.to_string()
            };
            write(&dir.join(name).join(file), &contents)?;
        }
    }
    Ok(())
}

/// `cargo check --workspace` in `dir`, with `target_dir` as its target
/// directory; the error lines of a failure.
pub fn cargo_check(dir: &Path, target_dir: &Path) -> Result<(), String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .arg("check")
        .arg("--workspace")
        .arg("--quiet")
        .arg("--message-format=short")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("error"))
        .take(20)
        .collect();
    Err(format!(
        "cargo check of the generated code failed:\n{}",
        errors.join("\n")
    ))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Section `[name]` of a TOML file, verbatim, without its header.
fn toml_section(text: &str, name: &str) -> String {
    let header = format!("[{name}]");
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with('[') {
            inside = line.trim() == header;
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `manifest` with the package renamed to `name`.
fn rename_package(manifest: &str, name: &str) -> String {
    manifest
        .lines()
        .map(|line| {
            if line.starts_with("name = ") {
                format!("name = \"{name}\"")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_gets_the_package_name_it_is_given() {
        let manifest = "# @generated\n[package]\nname = \"x-api\"\nversion = \"1.0.0\"\n";
        assert_eq!(
            rename_package(manifest, "mutant3"),
            "# @generated\n[package]\nname = \"mutant3\"\nversion = \"1.0.0\"\n"
        );
    }

    #[test]
    fn a_section_is_read_to_the_next_header() {
        let text = "[a]\nx = 1\n[b]\ny = 2\n[a.c]\nz = 3\n";
        assert_eq!(toml_section(text, "a"), "x = 1\n");
        assert_eq!(toml_section(text, "b"), "y = 2\n");
    }
}
