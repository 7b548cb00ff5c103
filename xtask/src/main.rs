//! `cargo xtask`: the developer commands of the workspace.
//!
//! - `regenerate`: lint the spec, write `generated/src/generated.rs` (the
//!   client crate's version is its own; `spec-diff` checks its bump).
//! - `check`: the same in memory; fails with a diff when the checked-in code is
//!   stale or was edited by hand (CI runs it).
//! - `lint`: only the spec rules.
//! - `spec-diff`: the review report of a spec change (breaking or not, version
//!   discipline, effect on the generated Rust API).
//! - `semver-check`: spec-diff's verdict and cargo-semver-checks' agree on a
//!   compatible and a breaking spec change (CI runs it).
//!
//! Exit codes: 0 success, 1 a check failed (drift, lint, a breaking spec
//! change, version discipline), 2 an error (I/O, a spec that does not parse,
//! bad arguments).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod files;
mod semver_check;
mod spec_diff;

/// Developer commands for passage-auth-rs.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    /// The workspace root (default: the directory above xtask/).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint the spec and regenerate generated/src/generated.rs.
    Regenerate,
    /// Fail (exit 1) with a diff when generated code is out of date, or lint fails.
    Check {
        /// Lines of unified diff to print at most.
        #[arg(long, default_value_t = 200)]
        max_diff_lines: usize,
    },
    /// Run only the spec lint rules.
    Lint,
    /// Compare two versions of the spec: changes, breaking or not, version discipline, Rust API effect.
    SpecDiff(spec_diff::Args),
    /// Check that spec-diff and cargo-semver-checks agree on a compatible and a breaking spec change.
    SemverCheck,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(default_root);
    let result = match cli.command {
        Command::Regenerate => regenerate(&root),
        Command::Check { max_diff_lines } => check(&root, max_diff_lines),
        Command::Lint => lint(&root),
        Command::SpecDiff(args) => spec_diff::run(&root, args),
        Command::SemverCheck => semver_check::run(&root),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn regenerate(root: &Path) -> anyhow::Result<ExitCode> {
    let project = files::Project::new(root);
    let spec = project.load_spec()?;
    let code = match project.generate(&spec)? {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report}");
            return Ok(ExitCode::from(1));
        }
    };
    let old = project.read_generated().unwrap_or_default();
    let version = &spec.openapi.info.version;
    if old == code {
        println!("generated/src/generated.rs is up to date (spec {version})");
    } else {
        project.write_generated(&code)?;
        let summary = files::summarize(&old, &code);
        println!("regenerated generated/src/generated.rs from spec {version}: {summary}");
    }
    Ok(ExitCode::SUCCESS)
}

fn check(root: &Path, max_diff_lines: usize) -> anyhow::Result<ExitCode> {
    let project = files::Project::new(root);
    let spec = project.load_spec()?;
    let code = match project.generate(&spec)? {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report}");
            eprintln!("fix the spec, then run `cargo xtask regenerate`");
            return Ok(ExitCode::from(1));
        }
    };
    let mut ok = true;
    let current = project.read_generated().unwrap_or_default();
    if current != code {
        ok = false;
        eprintln!("generated/src/generated.rs does not match what the spec generates (stale, or edited by hand):");
        eprintln!("{}", files::unified_diff(&current, &code, max_diff_lines));
    }
    let version = &spec.openapi.info.version;
    if ok {
        println!("generated code matches spec {version}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("run `cargo xtask regenerate` and commit the result");
        Ok(ExitCode::from(1))
    }
}

fn lint(root: &Path) -> anyhow::Result<ExitCode> {
    let project = files::Project::new(root);
    let spec = project.load_spec()?;
    let report = passage_codegen::lint(&spec);
    if report.is_clean() {
        println!("{}: lint clean", project.spec_name());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{report}");
        Ok(ExitCode::from(1))
    }
}
