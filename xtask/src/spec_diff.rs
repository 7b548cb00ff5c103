//! `cargo xtask spec-diff`: the review report of a spec change.
//!
//! `--base REF` compares every spec of `spec/crates.toml` (or the one `--spec`
//! names) at a git ref with the working tree and checks version discipline
//! against the spec's changelog and its generated crate's manifest;
//! `OLD.yaml NEW.yaml` compares two files (the changelog and manifest are
//! checked when given).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use passage_codegen::diff::{self, Format, Report, VersionInputs};
use passage_codegen::LoadedSpec;

use crate::files::Project;

/// Arguments of `cargo xtask spec-diff`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Compare the configured specs at this git ref (e.g. origin/main) with the working tree.
    #[arg(long, value_name = "GIT_REF")]
    base: Option<String>,
    /// With --base: only this configured spec (e.g. spec/passage-management.yaml).
    #[arg(long, value_name = "PATH")]
    spec: Option<String>,
    /// OLD.yaml NEW.yaml: compare two spec files instead.
    #[arg(value_name = "FILE", num_args = 0..=2)]
    files: Vec<PathBuf>,
    /// text (coloured on a terminal), markdown (for a pull request) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "markdown", "json"])]
    format: String,
    /// Changelog that must have an entry for the new version (default with --base: the spec's, from spec/crates.toml).
    #[arg(long, value_name = "PATH")]
    changelog: Option<PathBuf>,
    /// Generated crate's Cargo.toml whose package.version must be bumped as the spec change requires (default with --base: the spec's crate; compared with its version at the base ref).
    #[arg(long, value_name = "PATH")]
    client_manifest: Option<PathBuf>,
    /// Do not generate both specs to compare the generated Rust API.
    #[arg(long)]
    no_rust_api: bool,
}

/// Runs the command: 0 no breaking change, 1 breaking change or version discipline fails.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    match (&args.base, args.files.as_slice()) {
        (Some(base), []) => {
            ensure_ref(root, base)?;
            let project = Project::load(root)?;
            let entries: Vec<&crate::crates::Entry> = match &args.spec {
                Some(spec) => vec![project.crate_of_spec(spec)?],
                None => project.crates().iter().collect(),
            };
            for entry in entries {
                let old_text = match git_show(root, base, &entry.spec) {
                    Ok(text) => text,
                    Err(e) => {
                        println!(
                            "{}: no such spec at {base} ({e}); a new spec has nothing to compare",
                            entry.spec
                        );
                        continue;
                    }
                };
                let old_crate_version = git_show(root, base, &entry.manifest())
                    .ok()
                    .and_then(|text| manifest_version(&text).ok());
                let old = LoadedSpec::from_str(format!("{base}:{}", entry.spec), old_text)?;
                let new = project.load_spec(entry)?;
                let changelog = args
                    .changelog
                    .clone()
                    .unwrap_or_else(|| root.join(&entry.changelog));
                let manifest = args
                    .client_manifest
                    .clone()
                    .unwrap_or_else(|| root.join(entry.manifest()));
                failed |= report(
                    root,
                    &args,
                    (old, new),
                    Some(changelog),
                    Some(manifest),
                    old_crate_version,
                )?;
            }
        }
        (None, [old, new]) => {
            failed |= report(
                root,
                &args,
                (passage_codegen::load(old)?, passage_codegen::load(new)?),
                args.changelog.clone(),
                args.client_manifest.clone(),
                None,
            )?;
        }
        (Some(_), _) => bail!("give either --base GIT_REF or two files, not both"),
        (None, _) => bail!("give --base GIT_REF, or two files: OLD.yaml NEW.yaml"),
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the report of one spec change; true when it fails.
fn report(
    root: &Path,
    args: &Args,
    (old, new): (LoadedSpec, LoadedSpec),
    changelog: Option<PathBuf>,
    manifest: Option<PathBuf>,
    old_crate_version: Option<String>,
) -> anyhow::Result<bool> {
    let changes = diff::diff(&old, &new);
    let changelog_text = match &changelog {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => None,
    };
    let crate_version = match &manifest {
        Some(path) => Some(package_version(path)?),
        None => None,
    };
    let changelog_name = changelog.as_deref().map(|p| display_name(root, p));
    let manifest_name = manifest.as_deref().map(|p| display_name(root, p));
    let inputs = VersionInputs {
        old_version: &changes.old_version,
        new_version: &changes.new_version,
        changed: !changes.changes.is_empty(),
        breaking: changes.is_breaking(),
        changelog: changelog_name.as_deref().zip(changelog_text.as_deref()),
        crate_version: manifest_name.as_deref().zip(crate_version.as_deref()),
        old_crate_version: old_crate_version.as_deref(),
    };
    let version_problems = diff::version::check(&inputs);
    let version_checked = diff::version::checked(&inputs);
    let rust_api = (!args.no_rust_api).then(|| diff::rust_api_effect(&old, &new));
    let report = Report {
        old_name: old.path.display().to_string(),
        new_name: new.path.display().to_string(),
        diff: changes,
        version_checked,
        version_problems,
        rust_api,
    };
    let format = match args.format.as_str() {
        "text" => Format::Text {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        },
        other => other.parse()?,
    };
    print!("{}", diff::render(&report, format));
    Ok(report.fails())
}

/// Fails unless `reference` names a commit.
fn ensure_ref(root: &Path, reference: &str) -> anyhow::Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{reference}^{{commit}}"))
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "{reference} is not a commit of the repository at {}",
            root.display()
        );
    }
    Ok(())
}

/// The spec at a git ref, as text.
fn git_show(root: &Path, reference: &str, path: &str) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .arg("show")
        .arg(format!("{reference}:./{path}"))
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git show {reference}:{path} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{reference}:{path} is not UTF-8"))
}

fn package_version(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    manifest_version(&text).with_context(|| format!("in {}", path.display()))
}

/// `package.version` of a manifest's text.
fn manifest_version(text: &str) -> anyhow::Result<String> {
    let manifest: toml_edit::DocumentMut = text.parse().context("not valid TOML")?;
    manifest["package"]["version"]
        .as_str()
        .map(str::to_string)
        .context("no package.version")
}

/// A path relative to the root when it is inside it (messages stay short).
fn display_name(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
