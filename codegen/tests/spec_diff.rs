//! The spec-diff rules, one fixture pair per rule and direction
//! (`tests/fixtures/diff/<case>/{old,new}.yaml`, each a copy of `base.yaml`
//! with one change), the rule table in `docs/spec-diff-rules.md`, version
//! discipline, the generated Rust API effect, and the real spec.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use passage_codegen::diff::{
    self, rules, Format, Report, Rule, RustApi, Severity, Subject, VersionInputs,
};
use passage_codegen::LoadedSpec;

use Rule::*;
use Severity::{Breaking as B, Compatible as C};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn load(path: &Path) -> LoadedSpec {
    passage_codegen::load(path).unwrap_or_else(|e| panic!("{e}"))
}

fn pair(case: &str) -> (LoadedSpec, LoadedSpec) {
    let dir = fixtures().join(case);
    (load(&dir.join("old.yaml")), load(&dir.join("new.yaml")))
}

/// Every fixture case and exactly the changes it must produce.
const CASES: &[(&str, &[(Rule, Severity)])] = &[
    ("operation-added", &[(OperationAdded, C)]),
    ("operation-removed", &[(OperationRemoved, B)]),
    ("operation-moved", &[(OperationMoved, B)]),
    ("operation-renamed", &[(OperationRenamed, B)]),
    ("parameter-added-required", &[(ParameterAddedRequired, B)]),
    ("parameter-added-optional", &[(ParameterAddedOptional, C)]),
    ("parameter-removed", &[(ParameterRemoved, B)]),
    ("parameter-now-required", &[(ParameterNowRequired, B)]),
    ("parameter-now-optional", &[(ParameterNowOptional, C)]),
    (
        "request-body-added-required",
        &[(RequestBodyAddedRequired, B)],
    ),
    (
        "request-body-added-optional",
        &[(RequestBodyAddedOptional, C)],
    ),
    ("request-body-removed", &[(RequestBodyRemoved, B)]),
    ("request-body-now-required", &[(RequestBodyNowRequired, B)]),
    ("request-body-now-optional", &[(RequestBodyNowOptional, C)]),
    (
        "body-type-changed",
        &[(BodyTypeChanged, B), (SchemaAdded, C)],
    ),
    ("response-body-added", &[(ResponseBodyAdded, C)]),
    ("response-body-removed", &[(ResponseBodyRemoved, B)]),
    (
        "success-status-changed",
        &[(SuccessStatusAdded, B), (SuccessStatusRemoved, B)],
    ),
    ("success-status-removed", &[(SuccessStatusRemoved, B)]),
    ("security-added", &[(SecurityAdded, B)]),
    ("security-relaxed", &[(SecurityRelaxed, C)]),
    (
        "security-scheme-changed",
        &[(SecuritySchemeChanged, B), (SecuritySchemeChanged, B)],
    ),
    ("error-status-added", &[(ErrorStatusAdded, C)]),
    ("error-status-removed", &[(ErrorStatusRemoved, C)]),
    ("no-longer-idempotent", &[(NoLongerIdempotent, B)]),
    ("now-idempotent", &[(NowIdempotent, C)]),
    ("schema-added", &[(SchemaAdded, C)]),
    ("schema-removed", &[(SchemaRemoved, C)]),
    ("type-widened-request", &[(TypeWidened, C)]),
    ("type-widened-response", &[(TypeWidened, B)]),
    ("type-narrowed-request", &[(TypeNarrowed, B)]),
    ("type-narrowed-response", &[(TypeNarrowed, C)]),
    ("type-changed-parameter", &[(TypeChanged, B)]),
    ("type-changed-response", &[(TypeChanged, B)]),
    ("field-added-required-request", &[(FieldAddedRequired, B)]),
    ("field-added-required-response", &[(FieldAddedRequired, C)]),
    ("field-added-optional-request", &[(FieldAddedOptional, C)]),
    ("field-added-optional-response", &[(FieldAddedOptional, C)]),
    (
        "closed-object-field-added-request",
        &[(FieldAddedOptional, C), (ClosedObjectFieldAdded, C)],
    ),
    (
        "closed-object-field-added-response",
        &[(FieldAddedOptional, C), (ClosedObjectFieldAdded, B)],
    ),
    ("field-removed-request", &[(FieldRemoved, B)]),
    ("field-removed-response", &[(FieldRemoved, B)]),
    ("field-now-required-request", &[(FieldNowRequired, B)]),
    ("field-now-required-response", &[(FieldNowRequired, C)]),
    ("field-now-optional-request", &[(FieldNowOptional, C)]),
    ("field-now-optional-response", &[(FieldNowOptional, B)]),
    ("now-nullable-request", &[(NowNullable, C)]),
    ("now-nullable-response", &[(NowNullable, B)]),
    ("no-longer-nullable-request", &[(NoLongerNullable, B)]),
    ("no-longer-nullable-response", &[(NoLongerNullable, C)]),
    ("enum-value-added-request", &[(EnumValueAdded, C)]),
    ("enum-value-added-response", &[(EnumValueAdded, C)]),
    ("enum-value-removed-request", &[(EnumValueRemoved, B)]),
    ("enum-value-removed-response", &[(EnumValueRemoved, C)]),
    ("error-code-added", &[(ErrorCodeAdded, C)]),
    ("error-code-removed", &[(ErrorCodeRemoved, C)]),
];

/// Runs one case: the pair yields exactly the expected (rule, severity) list.
fn check_case(case: &str) -> diff::SpecDiff {
    let (_, expected) = CASES
        .iter()
        .find(|(name, _)| *name == case)
        .unwrap_or_else(|| panic!("no case {case}"));
    let (old, new) = pair(case);
    let found = diff::diff(&old, &new);
    let mut got: Vec<(Rule, Severity)> =
        found.changes.iter().map(|c| (c.rule, c.severity)).collect();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "{case}: {:#?}", found.changes);
    assert_eq!(
        found.is_breaking(),
        want.iter().any(|(_, s)| *s == B),
        "{case}"
    );
    found
}

macro_rules! rule_tests {
    ($($test:ident => $case:literal;)*) => {
        $(
            #[test]
            fn $test() {
                check_case($case);
            }
        )*
    };
}

rule_tests! {
    operation_added_is_compatible => "operation-added";
    operation_removed_is_breaking => "operation-removed";
    operation_moved_is_breaking => "operation-moved";
    operation_renamed_is_breaking => "operation-renamed";
    new_required_parameter_is_breaking => "parameter-added-required";
    new_optional_parameter_is_compatible => "parameter-added-optional";
    removed_parameter_is_breaking => "parameter-removed";
    parameter_made_required_is_breaking => "parameter-now-required";
    parameter_made_optional_is_compatible => "parameter-now-optional";
    new_required_request_body_is_breaking => "request-body-added-required";
    new_optional_request_body_is_compatible => "request-body-added-optional";
    removed_request_body_is_breaking => "request-body-removed";
    request_body_made_required_is_breaking => "request-body-now-required";
    request_body_made_optional_is_compatible => "request-body-now-optional";
    body_schema_swap_is_breaking => "body-type-changed";
    response_body_added_is_compatible => "response-body-added";
    response_body_removed_is_breaking => "response-body-removed";
    changed_success_status_is_breaking => "success-status-changed";
    removed_success_status_is_breaking => "success-status-removed";
    new_security_requirement_is_breaking => "security-added";
    relaxed_security_is_compatible => "security-relaxed";
    changed_security_scheme_is_breaking => "security-scheme-changed";
    new_error_status_is_compatible => "error-status-added";
    removed_error_status_is_compatible => "error-status-removed";
    losing_idempotency_is_breaking => "no-longer-idempotent";
    gaining_idempotency_is_compatible => "now-idempotent";
    new_schema_is_compatible => "schema-added";
    removed_schema_is_compatible => "schema-removed";
    widened_request_type_is_compatible => "type-widened-request";
    widened_response_type_is_breaking => "type-widened-response";
    narrowed_request_type_is_breaking => "type-narrowed-request";
    narrowed_response_type_is_compatible => "type-narrowed-response";
    changed_parameter_type_is_breaking => "type-changed-parameter";
    changed_response_type_is_breaking => "type-changed-response";
    new_required_request_field_is_breaking => "field-added-required-request";
    new_required_response_field_is_compatible => "field-added-required-response";
    new_optional_request_field_is_compatible => "field-added-optional-request";
    new_optional_response_field_is_compatible => "field-added-optional-response";
    new_field_in_a_closed_request_object_is_compatible => "closed-object-field-added-request";
    new_field_in_a_closed_response_object_is_breaking => "closed-object-field-added-response";
    removed_request_field_is_breaking => "field-removed-request";
    removed_response_field_is_breaking => "field-removed-response";
    request_field_made_required_is_breaking => "field-now-required-request";
    response_field_made_required_is_compatible => "field-now-required-response";
    request_field_made_optional_is_compatible => "field-now-optional-request";
    response_field_made_optional_is_breaking => "field-now-optional-response";
    nullable_request_field_is_compatible => "now-nullable-request";
    nullable_response_field_is_breaking => "now-nullable-response";
    request_field_no_longer_nullable_is_breaking => "no-longer-nullable-request";
    response_field_no_longer_nullable_is_compatible => "no-longer-nullable-response";
    new_enum_value_sent_by_clients_is_compatible => "enum-value-added-request";
    new_enum_value_in_responses_is_compatible => "enum-value-added-response";
    removed_enum_value_sent_by_clients_is_breaking => "enum-value-removed-request";
    removed_enum_value_in_responses_is_compatible => "enum-value-removed-response";
    new_error_code_is_compatible => "error-code-added";
    removed_error_code_is_compatible => "error-code-removed";
}

#[test]
fn every_rule_has_a_fixture_case_and_every_fixture_is_a_case() {
    let covered: BTreeSet<Rule> = CASES
        .iter()
        .flat_map(|(_, e)| e.iter().map(|(r, _)| *r))
        .collect();
    for rule in Rule::ALL {
        assert!(covered.contains(rule), "rule {rule} has no fixture case");
    }
    // Directional rules are tested both ways.
    for rule in Rule::ALL {
        let info = rule.info();
        if info.request != info.response {
            let verdicts: BTreeSet<Severity> = CASES
                .iter()
                .flat_map(|(_, e)| e.iter())
                .filter(|(r, _)| r == rule)
                .map(|(_, s)| *s)
                .collect();
            assert_eq!(
                verdicts.len(),
                2,
                "rule {rule} needs a breaking and a compatible case"
            );
        }
    }
    let dirs: BTreeSet<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let cases: BTreeSet<String> = CASES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(dirs, cases);
}

#[test]
fn the_rule_table_in_the_docs_is_the_one_the_code_applies() {
    let doc = std::fs::read_to_string(workspace().join("docs/spec-diff-rules.md")).unwrap();
    assert!(
        doc.contains(&rules::markdown_table()),
        "docs/spec-diff-rules.md is out of date; paste in rules::markdown_table():\n{}",
        rules::markdown_table()
    );
}

#[test]
fn every_fixture_pair_carries_a_version_that_satisfies_the_discipline() {
    for (case, _) in CASES {
        let (old, new) = pair(case);
        let d = diff::diff(&old, &new);
        let problems = diff::version::check(&VersionInputs {
            old_version: &d.old_version,
            new_version: &d.new_version,
            changed: !d.changes.is_empty(),
            breaking: d.is_breaking(),
            changelog: None,
            crate_version: None,
            old_crate_version: None,
        });
        assert!(problems.is_empty(), "{case}: {problems:?}");
    }
}

#[test]
fn changes_name_their_subject_and_direction() {
    let d = check_case("field-now-optional-response");
    let change = &d.changes[0];
    assert_eq!(
        change.subject,
        Subject::Schema {
            name: "Thing".into()
        }
    );
    assert_eq!(
        change.message,
        "field `status` is now optional (received by clients)"
    );

    let d = check_case("operation-moved");
    assert_eq!(
        d.changes[0].subject,
        Subject::Operation {
            id: "get_thing".into(),
            route: "GET /items/{thing_id}".into()
        }
    );
    assert!(d.changes[0]
        .message
        .contains("from `GET /things/{thing_id}` to `GET /items/{thing_id}`"));

    let d = check_case("security-scheme-changed");
    assert_eq!(
        d.changes[0].message,
        "security scheme `bearerAuth` changed from http bearer to apiKey in header `X-API-KEY`"
    );

    let d = check_case("security-added");
    assert_eq!(
        d.changes[0].message,
        "security changed from none to bearerAuth"
    );
}

#[test]
fn a_schema_used_both_ways_gets_the_stricter_verdict() {
    // Color is sent in CreateThingRequest; make Thing return it too, then drop a value.
    let base = std::fs::read_to_string(fixtures().join("base.yaml")).unwrap();
    let both = base.replace(
        "        created_at:\n",
        "        color:\n          $ref: '#/components/schemas/Color'\n        created_at:\n",
    );
    assert_ne!(both, base);
    let old = LoadedSpec::from_str("old.yaml", both.clone()).unwrap();
    let new = LoadedSpec::from_str("new.yaml", both.replace("      - green\n", "")).unwrap();
    let d = diff::diff(&old, &new);
    let removed = d.of_rule(EnumValueRemoved);
    assert_eq!(removed.len(), 1, "{:#?}", d.changes);
    assert_eq!(removed[0].severity, B);
    assert!(removed[0]
        .message
        .ends_with("(sent and received by clients)"));
}

#[test]
fn the_real_spec_against_itself_reports_nothing() {
    let spec = load(&workspace().join("spec/passage-auth.yaml"));
    let d = diff::diff(&spec, &spec);
    assert!(d.changes.is_empty(), "{:#?}", d.changes);
    assert_eq!(
        diff::rust_api_effect(&spec, &spec),
        RustApi::Compared(Default::default())
    );
}

#[test]
fn the_real_spec_with_a_new_response_field_shows_the_rust_api_effect() {
    let path = workspace().join("spec/passage-auth.yaml");
    let old = load(&path);
    let mut text = old.source.clone();
    // Add an optional `nickname` to the model every user lookup returns.
    let anchor = "\n    User:\n      type: object\n";
    assert!(text.contains(anchor), "the spec has a User schema");
    let start = text.find(anchor).unwrap() + anchor.len();
    let props =
        start + text[start..].find("      properties:\n").unwrap() + "      properties:\n".len();
    text.insert_str(
        props,
        "        nickname:\n          type: string\n          description: What the user likes to be called.\n",
    );
    let new = LoadedSpec::from_str("new.yaml", text).unwrap();
    let d = diff::diff(&old, &new);
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    assert_eq!(d.changes[0].rule, FieldAddedOptional);
    let RustApi::Compared(api) = diff::rust_api_effect(&old, &new) else {
        panic!("both specs generate")
    };
    let added: Vec<_> = api.added.iter().map(|i| i.path.as_str()).collect();
    assert!(added.contains(&"types::User.nickname"), "{added:?}");
    assert!(api.removed.is_empty(), "{:?}", api.removed);
    let field = api
        .added
        .iter()
        .find(|i| i.path == "types::User.nickname")
        .unwrap();
    assert_eq!(field.signature, "Option<String>");
}

/// Every fixture generates a crate (`cargo xtask semver-check` compares the
/// two crates of each case with cargo-semver-checks).
#[test]
fn every_fixture_lints_clean_and_generates() {
    let base = load(&fixtures().join("base.yaml"));
    let report = passage_codegen::lint(&base);
    assert!(report.is_clean(), "base.yaml:\n{report}");
    let mut failures = Vec::new();
    for (case, _) in CASES {
        let (old, new) = pair(case);
        for (which, spec) in [("old", &old), ("new", &new)] {
            if let Err(e) = passage_codegen::generate(spec) {
                failures.push(format!("{case}/{which}.yaml: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn specs_that_do_not_lint_skip_the_rust_api_effect_with_a_reason() {
    let (old, new) = pair("operation-added");
    let broken = new
        .source
        .replacen("operationId: create_thing", "operationId: createThing", 1);
    assert_ne!(broken, new.source);
    let new = LoadedSpec::from_str("new.yaml", broken).unwrap();
    let RustApi::Skipped { reason } = diff::rust_api_effect(&old, &new) else {
        panic!("the new spec does not lint clean")
    };
    assert!(
        reason.contains("the new spec does not lint clean"),
        "{reason}"
    );
}

fn report(case: &str) -> Report {
    let (old, new) = pair(case);
    let d = diff::diff(&old, &new);
    Report {
        old_name: "old.yaml".into(),
        new_name: "new.yaml".into(),
        version_checked: vec!["info.version".into()],
        version_problems: diff::version::check(&VersionInputs {
            old_version: &d.old_version,
            new_version: "1.0.1",
            changed: true,
            breaking: d.is_breaking(),
            changelog: None,
            crate_version: None,
            old_crate_version: None,
        }),
        diff: d,
        rust_api: None,
    }
}

#[test]
fn text_report_groups_by_subject_and_colours_only_when_asked() {
    let r = report("success-status-changed");
    let plain = diff::render(&r, Format::Text { color: false });
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(
        plain.contains("Operations\n  create_thing  POST /things\n"),
        "{plain}"
    );
    assert!(
        plain.contains("BREAKING    new success status 200"),
        "{plain}"
    );
    assert!(
        plain.contains("BREAKING    success status 201 removed"),
        "{plain}"
    );
    assert!(plain.contains("[success-status-removed]"), "{plain}");
    assert!(
        plain.contains("2 breaking changes, 0 compatible changes"),
        "{plain}"
    );
    assert!(plain.contains("error: breaking changes need info.version 2.0.0 or later; found 1.0.1"));
    let coloured = diff::render(&r, Format::Text { color: true });
    assert!(coloured.contains("\x1b[1;31mBREAKING"), "{coloured}");
}

#[test]
fn markdown_report_has_a_table_per_subject() {
    let r = report("field-now-optional-response");
    let md = diff::render(&r, Format::Markdown);
    assert!(md.starts_with("## Spec diff: `1.0.0` → `2.0.0`"), "{md}");
    assert!(
        md.contains("### Schemas\n\n#### `Thing` (used by `create_thing`, `get_thing`)\n\n| Verdict | Change | Rule |"),
        "{md}"
    );
    assert!(md.contains(
        "| 🔴 **breaking** | field `status` is now optional (received by clients) | `field-now-optional` |"
    ), "{md}");
    assert!(
        md.contains("- ❌ breaking changes need info.version 2.0.0 or later; found 1.0.1"),
        "{md}"
    );
}

#[test]
fn json_report_is_machine_readable() {
    let r = report("enum-value-added-response");
    let v: serde_json::Value = serde_json::from_str(&diff::render(&r, Format::Json)).unwrap();
    assert_eq!(v["breaking"], false);
    assert_eq!(v["counts"]["compatible"], 1);
    assert_eq!(v["changes"][0]["rule"], "enum-value-added");
    assert_eq!(v["changes"][0]["severity"], "compatible");
    assert_eq!(v["changes"][0]["subject"]["kind"], "schema");
    assert_eq!(v["changes"][0]["subject"]["name"], "Status");
    assert_eq!(
        v["used_by"]["Status"],
        serde_json::json!(["create_thing", "get_thing"])
    );
    assert_eq!(v["version_problems"][0]["id"], "version-bump");
    assert_eq!(
        v["version_problems"][0]["message"],
        "compatible changes need info.version 1.1.0 or later; found 1.0.1"
    );
}

mod version_discipline {
    use super::*;

    fn inputs<'a>(old: &'a str, new: &'a str, breaking: bool) -> VersionInputs<'a> {
        VersionInputs {
            old_version: old,
            new_version: new,
            changed: true,
            breaking,
            changelog: None,
            crate_version: None,
            old_crate_version: None,
        }
    }

    fn messages(i: &VersionInputs<'_>) -> Vec<String> {
        diff::version::check(i)
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn breaking_changes_need_a_major_bump() {
        assert_eq!(
            messages(&inputs("1.0.0", "1.1.0", true)),
            ["breaking changes need info.version 2.0.0 or later; found 1.1.0"]
        );
        assert!(messages(&inputs("1.0.0", "2.0.0", true)).is_empty());
        assert_eq!(
            messages(&inputs("0.3.0", "0.3.1", true)),
            ["breaking changes need info.version 0.4.0 or later; found 0.3.1"]
        );
    }

    #[test]
    fn compatible_changes_need_a_minor_bump() {
        assert_eq!(
            messages(&inputs("1.0.0", "1.0.0", false)),
            ["compatible changes need info.version 1.1.0 or later; found 1.0.0"]
        );
        assert!(messages(&inputs("1.0.0", "1.1.0", false)).is_empty());
    }

    #[test]
    fn no_change_needs_no_bump_and_versions_may_not_go_back() {
        let mut i = inputs("1.2.0", "1.2.0", false);
        i.changed = false;
        assert!(messages(&i).is_empty());
        assert_eq!(
            messages(&inputs("1.2.0", "1.1.9", false)),
            ["info.version went backwards from 1.2.0 to 1.1.9"]
        );
        assert_eq!(
            messages(&inputs("1.0.0", "two", false)),
            ["the new spec's info.version `two` is not a semantic version (X.Y.Z)"]
        );
    }

    #[test]
    fn a_new_version_needs_a_changelog_entry() {
        let mut i = inputs("1.0.0", "1.1.0", false);
        i.changelog = Some((
            "spec/CHANGELOG.md",
            "# Changelog\n\n## [1.0.0] - 2026-11-29\n",
        ));
        assert_eq!(
            messages(&i),
            ["spec/CHANGELOG.md has no `## [1.1.0]` entry; add one that describes this change"]
        );
        i.changelog = Some((
            "spec/CHANGELOG.md",
            "# Changelog\n\n## [1.1.0] - 2026-12-01\n\n## [1.0.0] - 2026-11-29\n",
        ));
        assert!(messages(&i).is_empty());
    }

    #[test]
    fn the_client_crate_is_bumped_as_the_spec_change_requires() {
        // Compatible change: the crate needs a minor bump, whatever its own number.
        let mut i = inputs("1.0.0", "1.1.0", false);
        i.crate_version = Some(("generated/Cargo.toml", "2.3.1"));
        i.old_crate_version = Some("2.3.1");
        assert_eq!(
            messages(&i),
            ["compatible spec changes need generated/Cargo.toml package.version 2.4.0 or later (was 2.3.1); found 2.3.1"]
        );
        i.crate_version = Some(("generated/Cargo.toml", "2.4.0"));
        assert!(messages(&i).is_empty());
        // Breaking change: a major bump.
        let mut i = inputs("1.0.0", "2.0.0", true);
        i.crate_version = Some(("generated/Cargo.toml", "2.4.0"));
        i.old_crate_version = Some("2.3.1");
        assert_eq!(
            messages(&i),
            ["breaking spec changes need generated/Cargo.toml package.version 3.0.0 or later (was 2.3.1); found 2.4.0"]
        );
        // Without the old crate version there is nothing to compare.
        i.old_crate_version = None;
        assert!(messages(&i).is_empty());
    }
}
