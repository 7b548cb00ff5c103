//! `cargo xtask`: the developer commands of the workspace.
//!
//! - `regenerate`: for every crate of `spec/crates.toml`, lint its spec and
//!   write its crate under `generated/` (`--force` regenerates even when
//!   nothing changed since the last run).
//! - `check`: the same in memory; fails with a diff when a checked-in file is
//!   stale or was edited by hand, or when `generated/` holds a file the
//!   generator does not write (CI runs it).
//! - `lint`: only the spec rules, for every configured spec.
//! - `spec-diff`: the review report of a spec change (breaking or not, version
//!   discipline, effect on the generated Rust API).
//! - `bench`: run the benches and rewrite BENCHMARKS.md's tables.
//! - `semver-check`: spec-diff's verdict and cargo-semver-checks' on every
//!   spec-diff fixture and on a compatible and a breaking change of each
//!   spec, against the table of what each must say (`--subset`: CI's sample).
//! - `mutate`: the long run of the spec-mutation test on every configured
//!   spec: random mutants must each end in located findings or in new code
//!   that compiles.
//! - `architecture`: the rules of `ARCHITECTURE.md` (no import circle, layers,
//!   forbidden crate dependencies); `--graph DIR` measures any crate's module graph.
//!
//! `lint`, `regenerate` and `check` print one line per finding
//! (`file:line:column: [rule] operation or component: message (at pointer). Fix: ...`)
//! and a count.
//!
//! Exit codes: 0 success, 1 a check failed (drift, lint, a breaking spec
//! change, version discipline), 2 an error (I/O, a spec that does not parse,
//! bad arguments).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod crates;
mod files;
mod mutate;
mod semver_check;
mod spec_diff;
mod stamp;

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
    /// Lint every configured spec and regenerate its crate under generated/.
    Regenerate {
        /// Generate even when nothing changed since the last run.
        #[arg(long)]
        force: bool,
    },
    /// Fail (exit 1) with a diff when generated code is out of date, or lint fails.
    Check {
        /// Lines of unified diff to print at most.
        #[arg(long, default_value_t = 200)]
        max_diff_lines: usize,
    },
    /// Run only the spec lint rules, on every configured spec.
    Lint,
    /// Compare two versions of the spec: changes, breaking or not, version discipline, Rust API effect.
    SpecDiff(spec_diff::Args),
    /// Run the benches and rewrite BENCHMARKS.md's tables (each figure beside its bound).
    Bench(bench::Args),
    /// Run random spec mutants through lint and generation; fail on a panic, an unlocated finding, a mutant that generates the original code, an operator that never applies, or code that does not compile.
    Mutate(mutate::Args),
    /// Check spec-diff's verdict and cargo-semver-checks' on every spec-diff fixture and on a compatible and a breaking change of each spec, against the expected table.
    SemverCheck(semver_check::Args),
    /// Check the architecture rules: no import circle, layers, forbidden crate dependencies.
    Architecture {
        /// Also measure the module graph of this crate directory (any crate; repeatable).
        #[arg(long = "graph", value_name = "DIR")]
        graphs: Vec<String>,
        /// With `--graph`: print every import between files, with its lines.
        #[arg(long)]
        edges: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(default_root);
    let result = match cli.command {
        Command::Regenerate { force } => regenerate(&root, force),
        Command::Check { max_diff_lines } => check(&root, max_diff_lines),
        Command::Lint => lint(&root),
        Command::SpecDiff(args) => spec_diff::run(&root, args),
        Command::Bench(args) => bench::run(&root, args),
        Command::Mutate(args) => mutate::run(&root, args),
        Command::SemverCheck(args) => semver_check::run(&root, args),
        Command::Architecture { graphs, edges } => architecture(&root, &graphs, edges),
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

fn regenerate(root: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if !force {
        if let Some(summary) = stamp::unchanged(root) {
            println!("generated crates are up to date ({summary}; specs and generator unchanged)");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let project = files::Project::load(root)?;
    let mut failed = false;
    let mut versions = Vec::new();
    for (entry, outcome) in project.crates().iter().zip(generate_all(&project)) {
        let (spec, generated) = outcome?;
        let generated = match generated {
            Ok(generated) => generated,
            Err(report) => {
                eprintln!("{report}");
                eprintln!("nothing was written to {}: fix the spec, then run `cargo xtask regenerate` again", entry.dir);
                failed = true;
                continue;
            }
        };
        let version = &spec.openapi.info.version;
        versions.push(format!("{} {version}", entry.name));
        let mut written = Vec::new();
        for (path, contents) in entry.files(&generated) {
            let old = project.read(&path).unwrap_or_default();
            if old != contents {
                project.write(&path, &contents)?;
                written.push(format!(
                    "{} ({})",
                    path.display(),
                    files::summarize(&old, &contents)
                ));
            }
        }
        if written.is_empty() {
            println!("{}: up to date (spec {version})", entry.dir);
        } else {
            println!("{}: regenerated from spec {version}:", entry.dir);
            for line in written {
                println!("    {line}");
            }
        }
    }
    for stray in project.stray_files()? {
        eprintln!(
            "{}: not written by the generator (generated/ holds only generated crates): remove it, or configure its crate in spec/crates.toml",
            stray.display()
        );
        failed = true;
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    stamp::record(root, &versions.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// What loading and generating a configured crate gave: its spec and its crate, or the lint
/// report that stopped it.
type Generation = anyhow::Result<(
    passage_codegen::LoadedSpec,
    Result<passage_codegen::GeneratedCrate, passage_codegen::LintReport>,
)>;

/// Loads and generates every configured crate, each on its own thread (the crates are
/// independent; the machine's cores share the work), in the order of `spec/crates.toml`.
fn generate_all(project: &files::Project) -> Vec<Generation> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = project
            .crates()
            .iter()
            .map(|entry| {
                scope.spawn(move || -> Generation {
                    let spec = project.load_spec(entry)?;
                    let generated = project.generate(entry, &spec)?;
                    Ok((spec, generated))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn check(root: &Path, max_diff_lines: usize) -> anyhow::Result<ExitCode> {
    let project = files::Project::load(root)?;
    let mut ok = true;
    let mut versions = Vec::new();
    for (entry, outcome) in project.crates().iter().zip(generate_all(&project)) {
        let (spec, generated) = outcome?;
        let generated = match generated {
            Ok(generated) => generated,
            Err(report) => {
                eprintln!("{report}");
                eprintln!("fix {}, then run `cargo xtask regenerate`", entry.spec);
                ok = false;
                continue;
            }
        };
        versions.push(format!(
            "{} (spec {})",
            entry.name, spec.openapi.info.version
        ));
        for (path, contents) in entry.files(&generated) {
            let name = path.display().to_string();
            match project.read(&path) {
                None => {
                    ok = false;
                    eprintln!("{name} is missing: the spec generates it");
                }
                Some(current) if current != contents => {
                    ok = false;
                    eprintln!(
                        "{name} does not match what {} generates (stale, or edited by hand):",
                        entry.spec
                    );
                    eprintln!(
                        "{}",
                        files::unified_diff(&name, &current, &contents, max_diff_lines)
                    );
                }
                Some(_) => {}
            }
        }
    }
    for stray in project.stray_files()? {
        ok = false;
        eprintln!(
            "{}: not written by the generator (generated/ holds only generated crates)",
            stray.display()
        );
    }
    if ok {
        println!(
            "generated crates match their specs: {}",
            versions.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("run `cargo xtask regenerate` and commit the result");
        Ok(ExitCode::from(1))
    }
}

fn lint(root: &Path) -> anyhow::Result<ExitCode> {
    let project = files::Project::load(root)?;
    let mut clean = true;
    for entry in project.crates() {
        let spec = project.load_spec(entry)?;
        let report = passage_codegen::lint(&spec);
        if report.is_clean() {
            println!("{}: lint clean (0 findings)", entry.spec);
        } else {
            clean = false;
            eprintln!("{report}");
        }
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn architecture(root: &Path, graphs: &[String], edges: bool) -> anyhow::Result<ExitCode> {
    use xtask::architecture::{self, RULES};

    let mut failed = false;
    for dir in graphs {
        match architecture::measure(root, dir) {
            Ok(measurement) => {
                println!("{measurement}");
                if edges {
                    let files = &measurement.graph.files;
                    for (&(from, to), lines) in &measurement.graph.edges {
                        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                        println!(
                            "    {}:{} -> {}",
                            files[from].path,
                            lines.join(","),
                            files[to].path
                        );
                    }
                }
            }
            Err(problems) => {
                failed = true;
                for problem in problems {
                    eprintln!("{problem}");
                }
            }
        }
    }
    let violations = architecture::check(root, RULES);
    for violation in &violations {
        eprintln!("{violation}");
    }
    let dirs: Vec<&str> = RULES.iter().map(|r| r.dir).collect();
    println!(
        "architecture rules of {}: {} violation(s)",
        dirs.join(", "),
        violations.len()
    );
    Ok(if failed || !violations.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
