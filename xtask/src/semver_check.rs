//! `cargo xtask semver-check`: spec-diff's verdict and cargo-semver-checks'
//! agree on real spec changes.
//!
//! For each case (a compatible and a breaking change applied to the real
//! spec) the client crate is generated twice, from the spec as it is and from
//! the changed spec, into two standalone copies of the crate; then
//! `cargo semver-checks --release-type minor` compares their public APIs. A
//! change that spec-diff calls compatible must pass it, one it calls breaking
//! must fail it. Exit 0 when every case agrees, 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use passage_codegen::LoadedSpec;

use crate::files::Project;

/// One spec change and the verdict both tools must reach.
struct Case {
    name: &'static str,
    /// Turns the spec's text into the changed spec's text.
    change: fn(&str) -> anyhow::Result<String>,
}

const CASES: &[Case] = &[
    Case {
        name: "compatible: a new optional property on App and a new UserStatus value",
        change: |spec| {
            let spec = add_property(
                spec,
                "    App:\n",
                "support_email",
                "Where users write for help.",
            )?;
            replace_once(
                &spec,
                "      enum: [active, inactive, pending, '']",
                "      enum: [active, inactive, pending, '', suspended]",
            )
        },
    },
    Case {
        name: "breaking: the magic_link property of ActivateMagicLinkRequest renamed to link",
        change: |spec| {
            let start = spec
                .find("    ActivateMagicLinkRequest:\n")
                .context("ActivateMagicLinkRequest in the spec")?;
            let end = start
                + spec[start..]
                    .find("    GetMagicLinkStatusRequest:\n")
                    .context("the schema after ActivateMagicLinkRequest")?;
            let renamed = spec[start..end].replace("magic_link", "link");
            Ok(format!("{}{renamed}{}", &spec[..start], &spec[end..]))
        },
    },
];

fn replace_once(text: &str, from: &str, to: &str) -> anyhow::Result<String> {
    if !text.contains(from) {
        bail!("the spec no longer contains {from:?}; update the semver-check case");
    }
    Ok(text.replacen(from, to, 1))
}

/// Adds an optional string property to the schema that starts at `marker`
/// (to the `properties:` block that follows it).
fn add_property(text: &str, marker: &str, name: &str, description: &str) -> anyhow::Result<String> {
    let at = text.find(marker).context("marker")?;
    let props = at
        + text[at..]
            .find("      properties:\n")
            .context("properties")?
        + "      properties:\n".len();
    Ok(format!(
        "{}        {name}:\n          type: string\n          description: {description}\n{}",
        &text[..props],
        &text[props..]
    ))
}

/// Runs every case; prints one line per case and a summary.
pub fn run(root: &Path) -> anyhow::Result<ExitCode> {
    ensure_tool()?;
    let project = Project::load(root)?;
    let entry = project.crate_of_spec("spec/passage-auth.yaml")?;
    let spec = project.load_spec(entry)?;
    let work = tempdir(root)?;
    let base = standalone_crate(root, &work.join("base"), entry, &spec)?;
    let mut disagreements = 0;
    for (i, case) in CASES.iter().enumerate() {
        let changed_text = (case.change)(&spec.source)?;
        let changed =
            LoadedSpec::from_str(format!("{} ({})", entry.spec, case.name), changed_text)?;
        let spec_diff_breaking = passage_codegen::diff_specs(&spec, &changed).is_breaking();
        let new = standalone_crate(root, &work.join(format!("case{i}")), entry, &changed)?;
        let semver_breaking = !semver_checks(root, &base, &new)?;
        let agree = spec_diff_breaking == semver_breaking;
        println!(
            "{} {}: spec-diff says {}, cargo-semver-checks says {}",
            if agree { "ok  " } else { "FAIL" },
            case.name,
            verdict(spec_diff_breaking),
            verdict(semver_breaking),
        );
        disagreements += usize::from(!agree);
        let expected_breaking = case.name.starts_with("breaking");
        if spec_diff_breaking != expected_breaking {
            println!("FAIL {}: the case itself is mislabelled", case.name);
            disagreements += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("{} cases, {disagreements} disagreements", CASES.len());
    Ok(if disagreements == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn verdict(breaking: bool) -> &'static str {
    if breaking {
        "breaking"
    } else {
        "compatible"
    }
}

fn ensure_tool() -> anyhow::Result<()> {
    let found = Command::new("cargo")
        .args(["semver-checks", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        bail!("cargo-semver-checks is not installed: `cargo install --locked cargo-semver-checks`");
    }
    Ok(())
}

fn tempdir(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("target/semver-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// A workspace at `dir` holding the crate `entry` generates from `spec`
/// (beside the runtime crate); returns the crate's directory.
fn standalone_crate(
    root: &Path,
    dir: &Path,
    entry: &crate::crates::Entry,
    spec: &LoadedSpec,
) -> anyhow::Result<PathBuf> {
    let generated = match passage_codegen::generate_with(spec, &entry.options()) {
        Ok(generated) => generated,
        Err(e) => bail!("{e}"),
    };
    passage_codegen::scratch::write_workspace(&[(entry.name.clone(), &generated)], root, dir)
        .map_err(anyhow::Error::msg)?;
    Ok(dir.join(&entry.name))
}

/// True when cargo-semver-checks finds no change that a minor release may not make.
fn semver_checks(root: &Path, baseline: &Path, current: &Path) -> anyhow::Result<bool> {
    let output = Command::new("cargo")
        .args([
            "semver-checks",
            "check-release",
            "--release-type",
            "minor",
            "--manifest-path",
        ])
        .arg(current.join("Cargo.toml"))
        .arg("--baseline-root")
        .arg(baseline)
        .env("CARGO_TARGET_DIR", root.join("target/semver-check-target"))
        .output()
        .context("cannot run cargo semver-checks")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // A failure to build either crate is an error, not a verdict.
    if !output.status.success() && !text.contains("semver requires new major version") {
        bail!("cargo semver-checks failed without a verdict:\n{text}");
    }
    if !output.status.success() {
        for line in text
            .lines()
            .filter(|l| l.contains("FAIL") || l.starts_with("--- failure"))
        {
            println!("     {line}");
        }
    }
    Ok(output.status.success())
}
