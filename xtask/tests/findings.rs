//! The rows of issue #14, run as a contributor would: a small mistake in the
//! spec ends in one located finding per line and a count, with nothing
//! written and no panic or backtrace; the spec as it is regenerates.

mod common;

use std::path::Path;

use common::{configured_crates, copy_of_workspace, xtask, AUTH_CODE};

/// Replaces `from` (which must occur) in the copy's spec; returns the 1-based line of `to`.
fn break_spec(root: &Path, from: &str, to: &str) -> usize {
    let path = root.join("spec/passage-auth.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "the spec has no {from:?}");
    let broken = text.replacen(from, to, 1);
    let offset = broken.find(to).unwrap();
    std::fs::write(&path, &broken).unwrap();
    broken[..offset].lines().count() + 1
}

fn assert_one_located_finding(out: &str, rule: &str, line: usize, subject: &str, pointer: &str) {
    for forbidden in [
        "panicked",
        "backtrace",
        "RUST_BACKTRACE",
        "not yet implemented",
    ] {
        assert!(!out.contains(forbidden), "{forbidden:?} in: {out}");
    }
    let findings: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("spec/passage-auth.yaml:"))
        .collect();
    assert_eq!(findings.len(), 1, "{out}");
    let finding = findings[0];
    let prefix = format!("spec/passage-auth.yaml:{line}:");
    assert!(finding.starts_with(&prefix), "{prefix} in: {out}");
    let column: usize = finding[prefix.len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(column >= 1, "{out}");
    assert!(finding.contains(&format!("[{rule}] {subject}: ")), "{out}");
    assert!(finding.contains(&format!("(at {pointer})")), "{out}");
    assert!(finding.contains(". Fix: "), "{out}");
    assert!(out.lines().any(|l| l == "1 finding(s)"), "{out}");
}

#[test]
fn the_rows_of_issue_14_end_in_located_findings_in_every_command() {
    let rows = [
        (
            "        id:\n          type: string\n          description: User id.",
            "        id:\n          type: strnig\n          description: User id.",
            "strnig",
            "schema-type",
            "schema `User`",
            "/components/schemas/User/properties/id/type",
        ),
        (
            "      enum: [active, inactive, pending, '']",
            "      enum: [active, inactive, pending, '', '!!!']",
            "'!!!'",
            "enum-values",
            "schema `UserStatus`",
            "/components/schemas/UserStatus/enum/4",
        ),
        (
            "      enum: [active, inactive, pending, '']",
            "      enum: [active, inactive, pending, '', Active]",
            "Active]",
            "enum-values",
            "schema `UserStatus`",
            "/components/schemas/UserStatus/enum/4",
        ),
    ];
    for (from, to, marker, rule, subject, pointer) in rows {
        let dir = copy_of_workspace();
        break_spec(dir.path(), from, to);
        let text = std::fs::read_to_string(dir.path().join("spec/passage-auth.yaml")).unwrap();
        let line = text.lines().position(|l| l.contains(marker)).unwrap() + 1;
        let generated = dir.path().join(AUTH_CODE);
        let before = std::fs::read_to_string(&generated).unwrap();
        for command in ["lint", "regenerate", "check"] {
            let (status, out) = xtask(dir.path(), &[command]);
            assert_eq!(status, 1, "{command}: {out}");
            assert_one_located_finding(&out, rule, line, subject, pointer);
        }
        assert_eq!(
            std::fs::read_to_string(&generated).unwrap(),
            before,
            "nothing is written"
        );
    }
}

#[test]
fn a_shape_error_names_the_node_it_is_in() {
    let dir = copy_of_workspace();
    // `required` must be a boolean: the loader rejects it with the node's pointer.
    let line = break_spec(
        dir.path(),
        "          required: true\n",
        "          required: sometimes\n",
    );
    // The error names the innermost node that does not read: the parameter
    // the broken `required` belongs to (its line, and its pointer).
    let text = std::fs::read_to_string(dir.path().join("spec/passage-auth.yaml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let parameter_line = (0..line)
        .rev()
        .find(|&i| lines[i].trim_start().starts_with("- "))
        .expect("the broken field is inside a parameter")
        + 1;
    let (status, out) = xtask(dir.path(), &["check"]);
    assert_eq!(status, 2, "{out}");
    assert!(
        out.contains(&format!("spec/passage-auth.yaml:{parameter_line}:")),
        "names line {parameter_line}: {out}"
    );
    assert!(out.contains("/parameters/"), "{out}");
    assert!(out.contains("(at /paths/"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn the_spec_as_it_is_lints_clean_and_is_up_to_date() {
    let dir = copy_of_workspace();
    let (status, out) = xtask(dir.path(), &["lint"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("lint clean (0 findings)"), "{out}");
    let (status, out) = xtask(dir.path(), &["regenerate"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("generated/auth: up to date"), "{out}");
}

#[test]
fn the_rows_that_were_already_good_stay_located() {
    // (spec text, exit code, what the output contains)
    let dir = copy_of_workspace();
    let spec = dir.path().join("spec/passage-auth.yaml");
    let original = std::fs::read_to_string(&spec).unwrap();
    let cases: Vec<(String, i32, &str)> = vec![
        (
            "openapi: 3.0.3\ninfo: [\n".into(),
            2,
            "spec/passage-auth.yaml:3:",
        ),
        (
            String::new(),
            2,
            "spec/passage-auth.yaml:1:1: the spec must be a YAML mapping",
        ),
        ("just: a mapping\n".into(), 2, "spec/passage-auth.yaml:1:"),
        (
            original.replacen(
                "$ref: '#/components/schemas/User'",
                "$ref: '#/components/schemas/Nobody'",
                1,
            ),
            1,
            "[refs-resolve]",
        ),
        (
            original.replacen("      operationId: get_app\n", "", 1),
            1,
            "[operation-id] operation `GET /apps/{app_id}`: operationId is missing",
        ),
    ];
    for (text, code, expected) in cases {
        std::fs::write(&spec, &text).unwrap();
        let (status, out) = xtask(dir.path(), &["regenerate"]);
        assert_eq!(status, code, "{out}");
        assert!(out.contains(expected), "{expected:?} in: {out}");
        assert!(!out.contains("panicked"), "{out}");
        let line = out
            .lines()
            .find(|l| l.contains("spec/passage-auth.yaml:"))
            .unwrap_or_else(|| panic!("no located line: {out}"));
        // file:line:column: ... (at <pointer>)
        let after = &line
            [line.find("spec/passage-auth.yaml:").unwrap() + "spec/passage-auth.yaml:".len()..];
        let mut parts = after.split(':');
        for what in ["line", "column"] {
            let n: usize = parts.next().unwrap().parse().unwrap_or(0);
            assert!(n >= 1, "no {what} in {line}");
        }
        assert!(line.contains("(at "), "{line}");
    }
}

/// `lint`, `regenerate` and `check` cover every configured spec: a finding in
/// any one fails them with the finding located in that spec, while the other
/// specs still lint clean.
#[test]
fn a_finding_in_any_configured_spec_fails_every_command() {
    let crates = configured_crates();
    for (spec, dir) in &crates {
        let copy = copy_of_workspace();
        let path = copy.path().join(spec);
        let text = std::fs::read_to_string(&path).unwrap();
        let id_line = text
            .lines()
            .find(|l| l.trim_start().starts_with("operationId: "))
            .unwrap()
            .to_string();
        let id = id_line.trim_start().trim_start_matches("operationId: ");
        let camel = heck_like_camel(id);
        assert_ne!(camel, id, "{spec}: {id}");
        let broken = text.replacen(&id_line, &id_line.replace(id, &camel), 1);
        let line = broken[..broken.find(&camel).unwrap()].lines().count();
        std::fs::write(&path, broken).unwrap();
        let code = copy.path().join(dir).join("src/api.rs");
        let before = std::fs::read_to_string(&code).unwrap();
        for command in ["lint", "regenerate", "check"] {
            let (status, out) = xtask(copy.path(), &[command]);
            assert_eq!(status, 1, "{spec} {command}: {out}");
            assert!(
                out.contains(&format!("{spec}:{line}:")),
                "{spec} {command}: the finding names {spec}:{line}: {out}"
            );
            assert!(
                out.contains(&format!("[operation-id] operation `{camel}`")),
                "{out}"
            );
            if command == "lint" {
                for (other, _) in crates.iter().filter(|(s, _)| s != spec) {
                    assert!(
                        out.contains(&format!("{other}: lint clean (0 findings)")),
                        "{out}"
                    );
                }
            }
        }
        assert_eq!(
            std::fs::read_to_string(&code).unwrap(),
            before,
            "nothing is written"
        );
    }
}

/// `get_app` -> `getApp`.
fn heck_like_camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
