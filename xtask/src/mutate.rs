//! `cargo xtask mutate`: the long run of the spec-mutation test
//! (`codegen/tests/mutation.rs`) on every configured spec, or the one
//! `--spec` names. Random mutants must each end in located findings or in
//! new code; a sample of the new code is compiled; an operator that is drawn
//! but never applies to a spec fails the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use passage_codegen::mutate::{self, Mutation, Outcome, Target};
use passage_codegen::GeneratedCrate;

use crate::files::Project;

/// Arguments of `cargo xtask mutate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How many mutants to try per spec.
    #[arg(long, default_value_t = 500)]
    count: u64,
    /// Seed of the run (the same seed tries the same mutants).
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// Mutations applied to each mutant (1 to this many).
    #[arg(long, default_value_t = 3)]
    max_mutations: u64,
    /// How many distinct generated mutants to compile with `cargo check`, per
    /// spec (one per operator family first).
    #[arg(long, default_value_t = 5)]
    compile: usize,
    /// The spec to mutate (a configured one; default: every spec of spec/crates.toml).
    #[arg(long)]
    spec: Option<String>,
}

/// splitmix64: a small, well-mixed generator, so a seed names a run.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs the mutants of every selected spec; exit 1 when one broke the invariant.
pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let project = Project::load(root)?;
    let entries: Vec<&crate::crates::Entry> = match &args.spec {
        Some(spec) => vec![project.crate_of_spec(spec)?],
        None => project.crates().iter().collect(),
    };
    let mut failed = false;
    for entry in entries {
        let spec = project.load_spec(entry)?;
        let target = Target::new(&spec, entry.options())
            .map_err(|e| anyhow::anyhow!("{}: {e}", entry.spec))?;
        failed |= run_spec(root, &target, &args)?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// How often each operator was drawn and applied.
#[derive(Default)]
struct Tally {
    drawn: u64,
    applied: u64,
}

/// One spec's run; true when it failed.
fn run_spec(root: &Path, target: &Target, args: &Args) -> anyhow::Result<bool> {
    let name = target.name();
    let started = Instant::now();
    let mut state = args.seed;
    let (mut unloadable, mut rejected, mut refused) = (0u64, 0u64, 0u64);
    let (mut violations, mut empty) = (0u64, 0u64);
    let mut generated: Vec<(GeneratedCrate, Vec<mutate::Applied>)> = Vec::new();
    let mut by_rule: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for i in 0..args.count {
        let n = 1 + splitmix(&mut state) % args.max_mutations.max(1);
        let mutations: Vec<Mutation> = (0..n)
            .map(|_| Mutation {
                operator: (splitmix(&mut state) % 256) as u8,
                target: splitmix(&mut state),
                choice: splitmix(&mut state),
            })
            .collect();
        for m in &mutations {
            tally.entry(m.operator_name()).or_default().drawn += 1;
        }
        let mutant = target.mutant(&mutations);
        for applied in &mutant.applied {
            tally.entry(applied.operator).or_default().applied += 1;
        }
        if mutant.applied.is_empty() {
            // Nothing changed: the spec itself, not a mutant.
            empty += 1;
            continue;
        }
        match target.judge(&mutant.text) {
            Ok(Outcome::Unloadable) => unloadable += 1,
            Ok(Outcome::Refused(_)) => refused += 1,
            Ok(Outcome::Rejected(rules)) => {
                rejected += 1;
                if rules.contains("generator") {
                    // Lint let through something the generator fails on: a rule is missing.
                    eprintln!("{name}: mutant {i} reached the generator's fallback:");
                    for what in &mutant.applied {
                        eprintln!("    {what}");
                    }
                }
                for rule in rules {
                    *by_rule.entry(rule).or_default() += 1;
                }
            }
            Ok(Outcome::Generated(code)) => {
                if !generated.iter().any(|(c, _)| c.code == code.code) {
                    generated.push((*code, mutant.applied));
                }
            }
            Err(violation) => {
                violations += 1;
                eprintln!("{name}: mutant {i} breaks the invariant: {violation}");
                for what in &mutant.applied {
                    eprintln!("    {what}");
                }
            }
        }
    }
    let rules: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
    println!(
        "{name}: {} mutants in {:.1}s: {empty} left the spec as it was, {unloadable} rejected by the loader, {rejected} by findings ({}), {refused} refused by the crate's options, {} generated distinct new code, {violations} broke the invariant",
        args.count,
        started.elapsed().as_secs_f64(),
        rules.join(", "),
        generated.len(),
    );
    let mut failed = violations > 0;
    let never: Vec<String> = tally
        .iter()
        .filter(|(_, t)| t.drawn > 0 && t.applied == 0)
        .map(|(op, t)| format!("{op} (drawn {} times)", t.drawn))
        .collect();
    if !never.is_empty() {
        failed = true;
        eprintln!("{name}: operators that never applied: {}", never.join(", "));
    }
    let sample = sample(&generated, args.compile);
    if !sample.is_empty() {
        let scratch = tempfile::tempdir()?;
        let started = Instant::now();
        let crates: Vec<GeneratedCrate> = sample.iter().map(|(c, _)| (*c).clone()).collect();
        match mutate::compile_check(
            &crates,
            root,
            scratch.path(),
            &crate::files::cargo_target_dir(root).join("mutants"),
        ) {
            Ok(()) => println!(
                "{name}: cargo check of {} generated mutants: ok ({:.1}s)",
                sample.len(),
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed = true;
                eprintln!("{e}");
                for (i, (_, applied)) in sample.iter().enumerate() {
                    let applied: Vec<String> = applied.iter().map(ToString::to_string).collect();
                    eprintln!("  mutant{i}: {}", applied.join("; "));
                }
            }
        }
    }
    Ok(failed)
}

/// Up to `size` generated mutants: first one per operator family (by the
/// family of the first mutation), then the others in order.
fn sample(
    generated: &[(GeneratedCrate, Vec<mutate::Applied>)],
    size: usize,
) -> Vec<&(GeneratedCrate, Vec<mutate::Applied>)> {
    let family_of = |(_, applied): &&(GeneratedCrate, Vec<mutate::Applied>)| {
        applied.first().and_then(|a| {
            mutate::FAMILIES
                .iter()
                .position(|(_, members)| members.contains(&a.operator))
        })
    };
    let mut picked: Vec<&(GeneratedCrate, Vec<mutate::Applied>)> = Vec::new();
    for family in 0..mutate::FAMILIES.len() {
        if let Some(first) = generated.iter().find(|g| family_of(g) == Some(family)) {
            picked.push(first);
        }
    }
    for g in generated {
        if !picked.iter().any(|p| std::ptr::eq(*p, g)) {
            picked.push(g);
        }
    }
    picked.truncate(size);
    picked
}
