//! The specs and the server agree under a property-based tester: Schemathesis (pinned in
//! `tests/schemathesis/requirements.txt`, installed by `tests/schemathesis/setup.sh`, which
//! `.ci/setup` runs) is run against an emulator on 127.0.0.1, the Auth API's spec at `/v1` with a
//! user's bearer token and the Management API's at `/management/v1` with the app's API key, with
//! all its checks and all its phases (stateful included), a fixed seed and a fixed budget of
//! examples per operation (no wall-clock budget: the same cases run on any machine).
//!
//! Every failure it finds must be listed in `tests/schemathesis/baseline.toml`, where an entry is
//! allowed only for a difference the hosted Passage service has too (the reason says which); the
//! test fails on a failure the baseline does not list and on an entry that no longer happens.
//!
//! Without the virtualenv the test fails with instructions; outside CI (`CI` unset),
//! `PASSAGE_SKIP_SCHEMATHESIS=1` skips it instead, as `PASSAGE_SKIP_BROWSER=1` does the browser
//! suite.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use passage_emulator::{Emulator, EmulatorConfig, DEFAULT_API_KEY};
use serde::Deserialize;
use serde_json::{json, Value};

/// The seed of every run.
const SEED: &str = "20261207";
/// Test cases per operation and phase.
const MAX_EXAMPLES: &str = "25";

fn schemathesis_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemathesis")
}

fn spec_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec")
        .join(file)
}

/// The `schemathesis` executable of the virtualenv, or `None` when the test is skipped.
fn schemathesis_executable() -> Option<PathBuf> {
    let executable = schemathesis_dir().join(".venv/bin/schemathesis");
    if executable.is_file() {
        return Some(executable);
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !in_ci && std::env::var("PASSAGE_SKIP_SCHEMATHESIS").as_deref() == Ok("1") {
        eprintln!("Schemathesis test skipped: no virtualenv and PASSAGE_SKIP_SCHEMATHESIS=1");
        return None;
    }
    panic!(
        "the Schemathesis test needs its virtualenv ({} is missing): run `bash .ci/setup` (or \
         `bash tests/schemathesis/setup.sh`; it needs python3 with venv){}",
        executable.display(),
        if in_ci {
            ""
        } else {
            ", or set PASSAGE_SKIP_SCHEMATHESIS=1 to skip this test locally"
        }
    );
}

/// One accepted failure of `baseline.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Accepted {
    /// `auth` or `management`.
    spec: String,
    /// Schemathesis' code of the check (`ST202`, ...).
    check: String,
    /// `METHOD /path` as the spec writes it (or `Stateful tests`).
    operation: String,
    /// Why it stays: what the hosted service does.
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    accepted: Vec<Accepted>,
}

/// (spec, check code, operation) of one failure.
type Finding = (String, String, String);

/// Runs Schemathesis on one spec; returns its findings.
fn run(
    executable: &Path,
    (spec, file): (&str, &str),
    base_url: &str,
    auth: &str,
    user_id: &str,
) -> Vec<Finding> {
    let reports = tempfile::tempdir().expect("report directory");
    let report = reports.path().join("report.json");
    let started = Instant::now();
    let output = Command::new(executable)
        .arg("--config-file")
        .arg(schemathesis_dir().join("schemathesis.toml"))
        .arg("run")
        .arg(spec_path(file))
        .args(["--url", base_url])
        .args(["--header", &format!("Authorization: Bearer {auth}")])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--seed", SEED, "--max-examples", MAX_EXAMPLES])
        .args(["--workers", "1", "--no-color"])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .env("PASSAGE_SCHEMATHESIS_USER_ID", user_id)
        .current_dir(reports.path())
        .output()
        .expect("schemathesis runs");
    eprintln!(
        "schemathesis on {file}: exit {:?} in {:.1} s",
        output.status.code(),
        started.elapsed().as_secs_f64()
    );
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "schemathesis wrote no report ({e}); its output:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    assert_eq!(
        report["complete"],
        json!(true),
        "the run of {file} did not complete: {}",
        report["stop_reason"]
    );
    assert_eq!(
        report["operations"]["errored"],
        json!(0),
        "operations of {file} errored: {}\n{}",
        report["errors"],
        String::from_utf8_lossy(&output.stdout)
    );
    let errors = report["errors"].as_array().map_or(0, Vec::len);
    assert_eq!(errors, 0, "{file}: {}", report["errors"]);
    let mut findings = Vec::new();
    for failure in report["failures"].as_array().expect("failures") {
        let code = failure["code"].as_str().expect("code");
        for operation in failure["operations"].as_array().expect("operations") {
            findings.push((
                spec.to_owned(),
                code.to_owned(),
                operation.as_str().expect("operation").to_owned(),
            ));
        }
    }
    if !findings.is_empty() {
        // Schemathesis filters credentials out of what it prints.
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    }
    findings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_difference_the_baseline_does_not_list() {
    let Some(executable) = schemathesis_executable() else {
        return;
    };
    let baseline: Baseline = toml::from_str(
        &std::fs::read_to_string(schemathesis_dir().join("baseline.toml")).expect("baseline"),
    )
    .expect("baseline.toml parses");
    for entry in &baseline.accepted {
        assert!(
            ["auth", "management"].contains(&entry.spec.as_str()) && entry.reason.trim().len() > 20,
            "every baseline entry names its spec and gives its reason: {entry:?}"
        );
    }

    // Its answers are judged by Schemathesis' own checks (status, schema, content type, headers),
    // and its probes of unsupported methods are requests to no operation on purpose: this
    // emulator is started without the harness' check.
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let http = reqwest::Client::new();
    let app = emulator.default_app_id().to_owned();
    let created: Value = http
        .post(format!(
            "{}/apps/{app}/users",
            emulator.management_base_url()
        ))
        .bearer_auth(DEFAULT_API_KEY)
        .json(&json!({"email": "schemathesis@example.com"}))
        .send()
        .await
        .expect("user created")
        .json()
        .await
        .expect("user JSON");
    let user_id = created["user"]["id"].as_str().expect("user id").to_owned();
    let session: Value = http
        .post(format!(
            "{}/apps/{app}/users/{user_id}/sessions",
            emulator.admin_url()
        ))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("session JSON");
    let token = session["auth_result"]["auth_token"]
        .as_str()
        .expect("auth token")
        .to_owned();

    let auth_url = emulator.base_url();
    let management_url = emulator.management_base_url();
    let started = Instant::now();
    let findings = tokio::task::spawn_blocking(move || {
        let mut findings = run(
            &executable,
            ("auth", "passage-auth.yaml"),
            &auth_url,
            &token,
            &user_id,
        );
        // The Management run last: it may delete or deactivate the user the Auth run signs in.
        findings.extend(run(
            &executable,
            ("management", "passage-management.yaml"),
            &management_url,
            DEFAULT_API_KEY,
            &user_id,
        ));
        findings
    })
    .await
    .expect("the runs finish");
    eprintln!(
        "schemathesis: both specs in {:.1} s, {} failures",
        started.elapsed().as_secs_f64(),
        findings.len()
    );

    let found: BTreeSet<Finding> = findings.into_iter().collect();
    let accepted: BTreeSet<Finding> = baseline
        .accepted
        .iter()
        .map(|a| (a.spec.clone(), a.check.clone(), a.operation.clone()))
        .collect();
    assert_eq!(
        accepted.len(),
        baseline.accepted.len(),
        "baseline.toml lists an entry twice"
    );
    let new: Vec<_> = found.difference(&accepted).collect();
    let stale: Vec<_> = accepted.difference(&found).collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "Schemathesis' failures differ from tests/schemathesis/baseline.toml.\nnew (fix the spec or \
         the server; list one only where the hosted service does the same): {new:#?}\nstale (no \
         longer happens: remove it): {stale:#?}"
    );
}
