//! The generator's invariant under random spec mutations (issue #14): for any
//! mutant of the real spec, lint and generation either report findings that
//! each name file, line, column, the operation or component and a JSON
//! pointer, or produce code that compiles. No panic reaches the caller.
//!
//! This is the CI-sized run; `cargo xtask mutate --count N` is the long one.

use std::path::{Path, PathBuf};

use passage_codegen::mutate::{self, Mutation, Outcome};
use proptest::prelude::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

const SPEC: &str = "spec/passage-auth.yaml";

fn real_spec() -> passage_codegen::LoadedSpec {
    let text = std::fs::read_to_string(workspace().join(SPEC)).unwrap();
    passage_codegen::LoadedSpec::from_str(SPEC, text).unwrap()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (any::<u8>(), any::<u64>(), any::<u64>()).prop_map(|(operator, target, choice)| Mutation {
        operator,
        target,
        choice,
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_mutant_ends_in_located_findings_or_code(
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let base = real_spec().json().clone();
        let (text, applied) = mutate::mutant(&base, &mutations);
        if let Err(violation) = mutate::judge(SPEC, &text) {
            prop_assert!(false, "{violation}\nmutations: {applied:?}");
        }
    }
}

/// One mutant per operator, so that every operator runs in every CI run
/// whatever proptest draws.
#[test]
fn every_operator_keeps_the_invariant() {
    let base = real_spec().json().clone();
    for operator in 0..mutate::OPERATORS.len() as u8 {
        for n in 0..3u64 {
            let m = Mutation {
                operator,
                target: n * 31 + 5,
                choice: n * 17 + 3,
            };
            let (text, applied) = mutate::mutant(&base, &[m]);
            if let Err(violation) = mutate::judge(SPEC, &text) {
                panic!("{violation}\nmutations: {applied:?}");
            }
        }
    }
}

/// The real spec itself generates, and the old nullable form of #10 is reported.
#[test]
fn the_real_spec_generates_and_its_old_nullable_form_does_not() {
    let spec = real_spec();
    assert!(matches!(
        mutate::judge(SPEC, &spec.source),
        Ok(Outcome::Generated(_))
    ));
    let old = spec.source.replace(
        "          type: object\n          allOf:\n            - $ref: '#/components/schemas/User'\n          nullable: true\n",
        "          allOf:\n            - $ref: '#/components/schemas/User'\n          nullable: true\n",
    );
    assert_ne!(old, spec.source);
    match mutate::judge(SPEC, &old) {
        Ok(Outcome::Rejected(rules)) => {
            assert_eq!(rules.into_iter().collect::<Vec<_>>(), ["nullable-ref"])
        }
        other => panic!("{other:?}"),
    }
}

/// splitmix64, as `cargo xtask mutate` uses.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A few mutants that generate new code are compiled with `cargo check` in a
/// scratch crate, with stubs for the handwritten modules.
#[test]
fn a_sample_of_generated_mutants_compiles() {
    const SAMPLE: usize = 3;
    let spec = real_spec();
    let original = passage_codegen::generate(&spec).unwrap();
    let base = spec.json().clone();
    let mut state = 10_014u64;
    let mut sample: Vec<(passage_codegen::GeneratedCrate, Vec<String>)> = Vec::new();
    let mut tried = 0;
    while sample.len() < SAMPLE && tried < 400 {
        tried += 1;
        let m = Mutation {
            operator: (splitmix(&mut state) % 256) as u8,
            target: splitmix(&mut state),
            choice: splitmix(&mut state),
        };
        let (text, applied) = mutate::mutant(&base, &[m]);
        if let Ok(Outcome::Generated(generated)) = mutate::judge(SPEC, &text) {
            let generated = *generated;
            if generated.code != original.code
                && !sample.iter().any(|(c, _)| c.code == generated.code)
            {
                sample.push((generated, applied));
            }
        }
    }
    assert_eq!(
        sample.len(),
        SAMPLE,
        "{tried} mutants gave too few new outputs"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("mutants");
    let scratch = tempfile::tempdir().unwrap();
    let crates: Vec<_> = sample.iter().map(|(c, _)| c.clone()).collect();
    if let Err(e) = mutate::compile_check(&crates, &workspace(), scratch.path(), &target) {
        let applied: Vec<_> = sample.iter().map(|(_, a)| a.join("; ")).collect();
        panic!("{e}\nmutants: {applied:#?}");
    }
    eprintln!(
        "compiled {SAMPLE} generated mutants (of {tried} tried): {:?}",
        sample.iter().map(|(_, a)| a.join("; ")).collect::<Vec<_>>()
    );
}
