//! `cargo xtask semver-check`: spec-diff's verdict and cargo-semver-checks'
//! on the same spec changes, against a table of what each must say.
//!
//! The cases are every spec-diff fixture (`codegen/tests/fixtures/diff/<case>/`,
//! `old.yaml` and `new.yaml`, each a copy of `base.yaml` with one change) and,
//! for each spec of `spec/crates.toml`, a compatible and a breaking change of
//! the real spec ([`SPEC_CASES`]). For each case the crate is generated from
//! both specs into two standalone workspaces beside the runtime, and
//! `cargo semver-checks check-release --release-type minor` compares their
//! public APIs (breaking: it asks for a major version). Every run shares
//! `$CARGO_TARGET_DIR/semver-check`, so the dependencies build once.
//!
//! The two tools see different things: spec-diff judges the wire (what a
//! client sends and receives); cargo-semver-checks judges the Rust API's
//! items (types, fields, variants, methods), not the types inside a field, a
//! signature or a constant. So agreement is not expected everywhere:
//! [`EXPECTED`] puts each fixture in one of the [`Seen`] categories, which
//! fixes the verdict each tool must reach, and spec-diff's own comparison of
//! the generated public items must fit the category too. The command fails
//! (exit 1) on any departure from the table, printing both verdicts, and
//! when a fixture has no row or a row no fixture. What needs no
//! cargo-semver-checks (spec-diff's verdicts, the Rust API effects, the table
//! itself) is also checked by this module's tests, in `cargo test -p xtask`.
//!
//! The full run (56 fixtures and 4 real-spec cases) takes about 4 minutes on
//! the 2-core machine (about 4 s a fixture, 6 to 10 s a real-spec case), so CI
//! runs all of it. `--subset` runs [`SUBSET`], a fixed sample of 12 fixtures
//! that covers every category, plus the real-spec cases, for a quicker local
//! run; `--case NAME` runs chosen fixtures.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context};
use passage_codegen::diff::{self, RustApi, RustApiDiff};
use passage_codegen::{LoadedSpec, Options};

use crate::files::Project;

/// Arguments of `cargo xtask semver-check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run only a fixed sample of fixtures that covers every category (and the real-spec cases).
    #[arg(long)]
    subset: bool,
    /// Run only these fixture cases (repeatable); the real-spec cases are skipped.
    #[arg(long = "case", value_name = "FIXTURE")]
    cases: Vec<String>,
}

/// What a change does on the wire and to the generated Rust API, and so
/// which verdict each tool must reach: (spec-diff, cargo-semver-checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Compatible on the wire; the Rust API only gains items (or does not
    /// change). (compatible, compatible)
    Compatible,
    /// Compatible on the wire; the Rust API changes the type of an existing
    /// field, response or constant (`T` to `Option<T>`, `i32` to `i64`,
    /// `ResponseValue<()>` to `ResponseValue<Thing>`, the operation table's
    /// length), which cargo-semver-checks does not compare: code that names
    /// the old type needs an edit, yet neither tool reports it.
    /// (compatible, compatible)
    UnseenTypeChange,
    /// Compatible on the wire, but a public item disappears (the variant of
    /// an enum value that is no longer sent, the type of a removed schema):
    /// code that names it stops compiling. (compatible, breaking)
    RustOnly,
    /// Breaking on the wire; public items disappear (a type, field, variant,
    /// method or builder setter removed or renamed). (breaking, breaking)
    BreakingItems,
    /// Breaking on the wire only: every item of the Rust API stays as it was
    /// (it may gain a setter or field, which old code does not call: the
    /// request then fails when it is built, at run time). The change lives in
    /// a path, a status list, a credential, the retry flag or a constraint.
    /// (breaking, compatible)
    WireOnly,
    /// Breaking on the wire, and in Rust only through the type of an existing
    /// field, setter argument or response, which cargo-semver-checks does not
    /// compare. (breaking, compatible)
    TypeOnly,
}

impl Seen {
    /// Every category.
    const ALL: [Seen; 6] = [
        Seen::Compatible,
        Seen::UnseenTypeChange,
        Seen::RustOnly,
        Seen::BreakingItems,
        Seen::WireOnly,
        Seen::TypeOnly,
    ];

    /// (spec-diff breaking, cargo-semver-checks breaking) for this category.
    fn verdicts(self) -> (bool, bool) {
        match self {
            Seen::Compatible | Seen::UnseenTypeChange => (false, false),
            Seen::RustOnly => (false, true),
            Seen::BreakingItems => (true, true),
            Seen::WireOnly | Seen::TypeOnly => (true, false),
        }
    }

    /// Whether the Rust API effect (spec-diff's comparison of the public
    /// items) fits the category: `None` when it does, else what is wrong.
    fn check_rust_api(self, api: &RustApiDiff) -> Option<String> {
        let (added, removed, changed) = (api.added.len(), api.removed.len(), api.changed.len());
        let fits = match self {
            Seen::Compatible | Seen::WireOnly => removed == 0 && changed == 0,
            Seen::UnseenTypeChange | Seen::TypeOnly => removed == 0 && changed > 0,
            Seen::RustOnly | Seen::BreakingItems => removed > 0,
        };
        let want = match self {
            Seen::Compatible | Seen::WireOnly => "keep every item as it was",
            Seen::UnseenTypeChange | Seen::TypeOnly => "change a type and remove nothing",
            Seen::RustOnly | Seen::BreakingItems => "remove an item",
        };
        (!fits).then(|| {
            format!(
                "a {self} change should {want} ({added} added, {removed} removed, {changed} changed)"
            )
        })
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Seen::Compatible => "compatible",
            Seen::UnseenTypeChange => "unseen type change",
            Seen::RustOnly => "Rust only",
            Seen::BreakingItems => "breaking items",
            Seen::WireOnly => "wire only",
            Seen::TypeOnly => "type only",
        })
    }
}

use Seen::{BreakingItems, Compatible, RustOnly, TypeOnly, UnseenTypeChange, WireOnly};

/// Every spec-diff fixture and the category of its change.
pub const EXPECTED: &[(&str, Seen)] = &[
    ("body-type-changed", TypeOnly),
    ("closed-object-field-added-request", Compatible),
    ("closed-object-field-added-response", WireOnly),
    ("enum-value-added-request", Compatible),
    ("enum-value-added-response", Compatible),
    ("enum-value-removed-request", BreakingItems),
    ("enum-value-removed-response", RustOnly),
    ("error-code-added", Compatible),
    ("error-code-removed", RustOnly),
    ("error-status-added", Compatible),
    ("error-status-removed", Compatible),
    ("field-added-optional-request", Compatible),
    ("field-added-optional-response", Compatible),
    ("field-added-required-request", WireOnly),
    ("field-added-required-response", Compatible),
    ("field-now-optional-request", UnseenTypeChange),
    ("field-now-optional-response", TypeOnly),
    ("field-now-required-request", TypeOnly),
    ("field-now-required-response", UnseenTypeChange),
    ("field-removed-request", BreakingItems),
    ("field-removed-response", BreakingItems),
    ("no-longer-idempotent", WireOnly),
    ("no-longer-nullable-request", WireOnly),
    ("no-longer-nullable-response", Compatible),
    ("now-idempotent", Compatible),
    ("now-nullable-request", Compatible),
    ("now-nullable-response", TypeOnly),
    ("operation-added", UnseenTypeChange),
    ("operation-moved", WireOnly),
    ("operation-removed", BreakingItems),
    ("operation-renamed", BreakingItems),
    ("parameter-added-optional", Compatible),
    ("parameter-added-required", WireOnly),
    ("parameter-now-optional", Compatible),
    ("parameter-now-required", WireOnly),
    ("parameter-removed", BreakingItems),
    ("request-body-added-optional", Compatible),
    ("request-body-added-required", WireOnly),
    ("request-body-now-optional", Compatible),
    ("request-body-now-required", WireOnly),
    ("request-body-removed", BreakingItems),
    ("response-body-added", UnseenTypeChange),
    ("response-body-removed", TypeOnly),
    ("schema-added", Compatible),
    ("schema-removed", RustOnly),
    ("security-added", WireOnly),
    ("security-relaxed", Compatible),
    ("security-scheme-changed", WireOnly),
    ("success-status-changed", WireOnly),
    ("success-status-removed", WireOnly),
    ("type-changed-parameter", TypeOnly),
    ("type-changed-response", TypeOnly),
    ("type-narrowed-request", WireOnly),
    ("type-narrowed-response", UnseenTypeChange),
    ("type-widened-request", UnseenTypeChange),
    ("type-widened-response", TypeOnly),
];

/// The fixtures `--subset` runs: every category, both directions of a
/// directional rule (`field-now-optional`), and each kind of wire-only change
/// (status, path, credential, retry flag, a new required input).
pub const SUBSET: &[&str] = &[
    "enum-value-added-response",
    "field-now-optional-request",
    "field-now-optional-response",
    "schema-removed",
    "operation-renamed",
    "field-removed-response",
    "parameter-added-required",
    "success-status-removed",
    "operation-moved",
    "security-added",
    "no-longer-idempotent",
    "type-changed-parameter",
];

/// A hand-written change of a real spec and the category it falls in.
struct SpecCase {
    /// The spec, as `spec/crates.toml` names it.
    spec: &'static str,
    name: &'static str,
    seen: Seen,
    /// Turns the spec's text into the changed spec's text.
    change: fn(&str) -> anyhow::Result<String>,
}

/// A compatible and a breaking change of each real spec.
const SPEC_CASES: &[SpecCase] = &[
    SpecCase {
        spec: "spec/passage-auth.yaml",
        name: "a new optional property on App and a new UserStatus value",
        seen: Compatible,
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
    SpecCase {
        spec: "spec/passage-auth.yaml",
        name: "the magic_link property of ActivateMagicLinkRequest renamed to link",
        seen: BreakingItems,
        change: |spec| rename_in_schema(spec, "ActivateMagicLinkRequest", "magic_link", "link"),
    },
    SpecCase {
        spec: "spec/passage-management.yaml",
        name: "a new optional property on AppInfo",
        seen: Compatible,
        change: |spec| {
            add_property(
                spec,
                "    AppInfo:\n",
                "support_email",
                "Where users write for help.",
            )
        },
    },
    SpecCase {
        spec: "spec/passage-management.yaml",
        name: "the delete_user operation removed",
        seen: BreakingItems,
        change: |spec| remove_operation(spec, "delete_user"),
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
    let at = text
        .find(marker)
        .with_context(|| format!("{marker:?} in the spec"))?;
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

/// Renames `from` to `to` inside the component schema `schema` (up to the
/// next line indented as little as the schema's name).
fn rename_in_schema(text: &str, schema: &str, from: &str, to: &str) -> anyhow::Result<String> {
    let marker = format!("\n    {schema}:\n");
    let start = text
        .find(&marker)
        .with_context(|| format!("schema {schema} in the spec"))?
        + 1;
    let end = next_sibling(text, start, 4).unwrap_or(text.len());
    let renamed = text[start..end].replace(from, to);
    if renamed == text[start..end] {
        bail!("schema {schema} has no {from:?}; update the semver-check case");
    }
    Ok(format!("{}{renamed}{}", &text[..start], &text[end..]))
}

/// The start of the first line after the one at `from` that is indented by
/// `indent` spaces or fewer (blank lines do not count).
fn next_sibling(text: &str, from: usize, indent: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = text[at..].find('\n') {
        let line = at + i + 1;
        let rest = &text[line..];
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        if spaces <= indent && !rest.lines().next().unwrap_or("").trim().is_empty() {
            return Some(line);
        }
        at = line;
    }
    None
}

/// Removes the operation with `operation_id` (its method block, up to the
/// next method or path).
fn remove_operation(text: &str, operation_id: &str) -> anyhow::Result<String> {
    let id_line = format!("      operationId: {operation_id}\n");
    let id_at = text
        .find(&id_line)
        .with_context(|| format!("operation {operation_id} in the spec"))?;
    // The method line is the last line indented by 4 before the operationId.
    let start = text[..id_at]
        .rfind("\n    ")
        .map(|i| i + 1)
        .context("the operation's method")?;
    let end = next_sibling(text, id_at, 4).context("the end of the operation")?;
    Ok(format!("{}{}", &text[..start], &text[end..]))
}

/// One comparison: two specs, the options to generate them with, the category.
struct Case {
    name: String,
    old: LoadedSpec,
    new: LoadedSpec,
    options: Options,
    seen: Seen,
}

/// The fixtures' directory.
fn fixtures(root: &Path) -> PathBuf {
    root.join("codegen/tests/fixtures/diff")
}

/// The options every fixture crate is generated with (one crate name, so that
/// cargo-semver-checks compares the two versions of one package).
fn fixture_options() -> Options {
    Options {
        crate_name: "fixture-api".into(),
        crate_version: "1.0.0".into(),
        ..Options::for_spec("fixture.yaml")
    }
}

/// Fixture directories without a row of [`EXPECTED`], rows without a
/// directory, and [`SUBSET`] names that are no rows.
fn table_problems(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = fixtures(root);
    let dirs: BTreeSet<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let rows: BTreeSet<String> = EXPECTED.iter().map(|(c, _)| c.to_string()).collect();
    let mut problems = Vec::new();
    for missing in dirs.difference(&rows) {
        problems.push(format!(
            "fixture {missing} has no row in semver_check::EXPECTED: add one with its category"
        ));
    }
    for stale in rows.difference(&dirs) {
        problems.push(format!("EXPECTED names {stale}, which is no fixture"));
    }
    if rows.len() != EXPECTED.len() {
        problems.push("EXPECTED names a fixture twice".into());
    }
    for name in SUBSET {
        if !rows.contains(*name) {
            problems.push(format!("SUBSET names {name}, which is no row of EXPECTED"));
        }
    }
    let covered: BTreeSet<String> = SUBSET
        .iter()
        .filter_map(|n| EXPECTED.iter().find(|(c, _)| c == n))
        .map(|(_, seen)| seen.to_string())
        .collect();
    for seen in Seen::ALL {
        if !covered.contains(&seen.to_string()) {
            problems.push(format!("SUBSET has no fixture of the category {seen}"));
        }
    }
    Ok(problems)
}

/// The cases to run: the selected fixtures, then (unless `--case` picks
/// fixtures) the real-spec cases of every configured spec.
fn cases(root: &Path, args: &Args) -> anyhow::Result<Vec<Case>> {
    let mut out = Vec::new();
    let selected: Vec<&(&str, Seen)> = EXPECTED
        .iter()
        .filter(|(name, _)| {
            if !args.cases.is_empty() {
                args.cases.iter().any(|c| c == name)
            } else {
                !args.subset || SUBSET.contains(name)
            }
        })
        .collect();
    for wanted in &args.cases {
        if !EXPECTED.iter().any(|(name, _)| name == wanted) {
            bail!("{wanted} is not a fixture of semver_check::EXPECTED");
        }
    }
    for (name, seen) in selected {
        let dir = fixtures(root).join(name);
        out.push(Case {
            name: (*name).to_string(),
            old: passage_codegen::load(dir.join("old.yaml"))?,
            new: passage_codegen::load(dir.join("new.yaml"))?,
            options: fixture_options(),
            seen: *seen,
        });
    }
    if !args.cases.is_empty() {
        return Ok(out);
    }
    let project = Project::load(root)?;
    for entry in project.crates() {
        let kinds: BTreeSet<bool> = SPEC_CASES
            .iter()
            .filter(|c| c.spec == entry.spec)
            .map(|c| c.seen.verdicts().0)
            .collect();
        if kinds.len() != 2 {
            bail!(
                "{} needs a compatible and a breaking case in semver_check::SPEC_CASES",
                entry.spec
            );
        }
        let spec = project.load_spec(entry)?;
        for case in SPEC_CASES.iter().filter(|c| c.spec == entry.spec) {
            let changed = (case.change)(&spec.source)
                .with_context(|| format!("{}: {}", entry.spec, case.name))?;
            out.push(Case {
                name: format!("{}: {}", entry.spec, case.name),
                old: spec.clone(),
                new: LoadedSpec::from_str(entry.spec.clone(), changed)?,
                options: entry.options(),
                seen: case.seen,
            });
        }
    }
    Ok(out)
}

/// Runs the selected cases; prints one line per case and a summary.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    ensure_tool()?;
    let started = Instant::now();
    let mut failures = table_problems(root)?;
    for problem in &failures {
        println!("FAIL {problem}");
    }
    let cases = cases(root, &args)?;
    let target = crate::files::cargo_target_dir(root).join("semver-check");
    let work = target.join("work");
    let mut ran = 0;
    for case in &cases {
        let case_started = Instant::now();
        let problems = run_case(root, &work, &target, case)?;
        ran += 1;
        let seconds = case_started.elapsed().as_secs_f64();
        match problems.as_slice() {
            [] => println!("ok   {} [{}] ({seconds:.0}s)", case.name, case.seen),
            _ => {
                println!("FAIL {} [{}] ({seconds:.0}s)", case.name, case.seen);
                for problem in &problems {
                    println!("       {problem}");
                }
                failures.push(case.name.clone());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "{ran} cases in {:.0}s, {} failed",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Both verdicts of one case against its category; the problems found.
fn run_case(root: &Path, work: &Path, target: &Path, case: &Case) -> anyhow::Result<Vec<String>> {
    let dir = work.join(case.name.replace(['/', ':', ' '], "_"));
    let _ = std::fs::remove_dir_all(&dir);
    let old = standalone_crate(root, &dir.join("old"), &case.options, &case.old)?;
    let new = standalone_crate(root, &dir.join("new"), &case.options, &case.new)?;
    let semver = semver_checks(target, &old, &new)?;
    let _ = std::fs::remove_dir_all(&dir);
    let (spec_diff, mut problems) = static_problems(case);
    let (want_spec_diff, want_semver) = case.seen.verdicts();
    if spec_diff != want_spec_diff || semver.breaking != want_semver {
        problems.insert(
            0,
            format!(
                "spec-diff says {}, cargo-semver-checks says {}; a {} change should get {} and {}",
                verdict(spec_diff),
                verdict(semver.breaking),
                case.seen,
                verdict(want_spec_diff),
                verdict(want_semver)
            ),
        );
        problems.extend(semver.findings.iter().map(|f| format!("  {f}")));
    }
    Ok(problems)
}

/// What needs no cargo-semver-checks: spec-diff's verdict (returned) and
/// whether the Rust API effect fits the case's category; the problems found
/// besides a wrong spec-diff verdict (which [`run_case`] reports with both
/// verdicts).
fn static_problems(case: &Case) -> (bool, Vec<String>) {
    let spec_diff = diff::diff(&case.old, &case.new).is_breaking();
    let mut problems = Vec::new();
    match diff::rust_api_effect(&case.old, &case.new) {
        RustApi::Compared(api) => {
            if let Some(problem) = case.seen.check_rust_api(&api) {
                problems.push(format!("Rust API effect: {problem}"));
                let items = api
                    .added
                    .iter()
                    .map(|i| format!("  + {} {}", i.kind, i.path))
                    .chain(
                        api.removed
                            .iter()
                            .map(|i| format!("  - {} {}", i.kind, i.path)),
                    )
                    .chain(
                        api.changed
                            .iter()
                            .map(|i| format!("  ~ {} {}: {} -> {}", i.kind, i.path, i.old, i.new)),
                    );
                problems.extend(items.take(12));
            }
        }
        RustApi::Skipped { reason } => problems.push(format!("Rust API effect: {reason}")),
    }
    (spec_diff, problems)
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

/// A workspace at `dir` holding the crate `options` name, generated from
/// `spec` (beside the runtime crate); returns the crate's directory.
fn standalone_crate(
    root: &Path,
    dir: &Path,
    options: &Options,
    spec: &LoadedSpec,
) -> anyhow::Result<PathBuf> {
    let generated = match passage_codegen::generate_with(spec, options) {
        Ok(generated) => generated,
        Err(e) => bail!("{e}"),
    };
    passage_codegen::scratch::write_workspace(
        &[(options.crate_name.clone(), &generated)],
        root,
        dir,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(dir.join(&options.crate_name))
}

/// cargo-semver-checks' verdict on one pair of crates.
struct SemverVerdict {
    /// It asks for a major version.
    breaking: bool,
    /// Its failure lines, when breaking.
    findings: Vec<String>,
}

/// Runs cargo-semver-checks on `current` against `baseline`, with `target`
/// as the target directory every run shares.
fn semver_checks(target: &Path, baseline: &Path, current: &Path) -> anyhow::Result<SemverVerdict> {
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
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
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
    let findings = text
        .lines()
        .filter(|l| l.contains("FAIL") || l.starts_with("--- failure"))
        .map(str::to_string)
        .collect();
    Ok(SemverVerdict {
        breaking: !output.status.success(),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf()
    }

    fn all_cases() -> Vec<Case> {
        let args = Args {
            subset: false,
            cases: Vec::new(),
        };
        cases(&root(), &args).unwrap()
    }

    #[test]
    fn the_table_has_a_row_per_fixture_and_the_subset_covers_every_category() {
        assert_eq!(table_problems(&root()).unwrap(), Vec::<String>::new());
    }

    /// Everything of the table that needs no cargo-semver-checks, in
    /// `cargo test`: spec-diff's verdict and the Rust API effect of every
    /// fixture and real-spec case fit its category.
    #[test]
    fn spec_diff_and_the_rust_api_fit_the_table_in_every_case() {
        let cases = all_cases();
        assert_eq!(cases.len(), EXPECTED.len() + SPEC_CASES.len());
        let mut problems = Vec::new();
        for case in &cases {
            let (spec_diff, found) = static_problems(case);
            if spec_diff != case.seen.verdicts().0 {
                problems.push(format!(
                    "{}: spec-diff says {}, the table ({}) {}",
                    case.name,
                    verdict(spec_diff),
                    case.seen,
                    verdict(case.seen.verdicts().0)
                ));
            }
            problems.extend(found.into_iter().map(|p| format!("{}: {p}", case.name)));
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_case_in_the_wrong_category_is_reported() {
        let mut case = all_cases()
            .into_iter()
            .find(|c| c.name == "operation-removed")
            .unwrap();
        case.seen = WireOnly;
        let (spec_diff, problems) = static_problems(&case);
        assert!(spec_diff);
        assert_eq!(
            problems.len(),
            1 + 6,
            "the message and each item: {problems:#?}"
        );
        assert!(
            problems[0].starts_with("Rust API effect: a wire only change should keep every item as it was (0 added, 5 removed, 1 changed)"),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p == "  - method Client::delete_thing"),
            "{problems:#?}"
        );
    }

    #[test]
    fn every_configured_spec_has_a_compatible_and_a_breaking_case() {
        let names: Vec<String> = all_cases()
            .into_iter()
            .filter(|c| c.name.starts_with("spec/"))
            .map(|c| format!("{} [{}]", c.name, c.seen))
            .collect();
        for spec in ["spec/passage-auth.yaml", "spec/passage-management.yaml"] {
            for seen in [Compatible, BreakingItems] {
                assert!(
                    names
                        .iter()
                        .any(|n| n.starts_with(spec) && n.ends_with(&format!("[{seen}]"))),
                    "{spec} [{seen}] in {names:#?}"
                );
            }
        }
    }
}
