//! When a suite that needs something outside cargo (Chromium, Node, Python and their packages)
//! cannot find it: one rule for every such suite. In CI (`CI` set to anything but `false` or
//! `0`) the suite fails, whatever else is set; elsewhere it is skipped only when the developer
//! asked for it with the suite's skip variable (`PASSAGE_SKIP_BROWSER=1`, ...), and then it says
//! so on the terminal, past the test harness's output capture, so that a skipped run never reads
//! as a passed one. Without the variable it fails with the instructions.

use std::io::Write as _;

/// What a suite does when what it needs is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Fail: in CI, or no skip was asked for.
    Fail,
    /// Skip, and report it as skipped.
    Skip,
}

/// The rule, from the values of `CI` and of the suite's skip variable.
pub fn decide(ci: Option<&str>, skip_variable: Option<&str>) -> Missing {
    let in_ci = ci.is_some_and(|value| !matches!(value.trim(), "" | "0" | "false"));
    if !in_ci && skip_variable == Some("1") {
        Missing::Skip
    } else {
        Missing::Fail
    }
}

/// Applies the rule for a suite whose requirement is missing: returns when the suite is to be
/// skipped (after reporting it), panics with `instructions` otherwise.
///
/// `suite` names the suite in the report, `skip_variable` is its opt-out variable and `reason`
/// says what is missing.
pub fn missing_requirement(suite: &str, skip_variable: &str, reason: &str, instructions: &str) {
    let ci = std::env::var("CI").ok();
    let skip = std::env::var(skip_variable).ok();
    match decide(ci.as_deref(), skip.as_deref()) {
        Missing::Skip => report_skipped(suite, &format!("{reason} and {skip_variable}=1")),
        Missing::Fail if ci.is_some() && skip.as_deref() == Some("1") => panic!(
            "{suite} cannot be skipped in CI ({skip_variable}=1 is ignored there): {reason}. \
             {instructions}"
        ),
        Missing::Fail => panic!(
            "{suite} cannot run: {reason}. {instructions} To skip it locally, set \
             {skip_variable}=1 (never in CI)."
        ),
    }
}

/// Writes `SKIPPED: <suite> (<why>)` to the process's stderr directly (not through `eprintln!`,
/// which the test harness captures and hides for a passing test).
pub fn report_skipped(suite: &str, why: &str) {
    let mut stderr = std::io::stderr().lock();
    // Best effort: a closed stderr must not turn a skip into a failure.
    let _ = writeln!(stderr, "SKIPPED: {suite} ({why})");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_honoured_only_outside_ci() {
        assert_eq!(decide(None, Some("1")), Missing::Skip);
        assert_eq!(decide(Some("false"), Some("1")), Missing::Skip);
        assert_eq!(decide(Some("0"), Some("1")), Missing::Skip);
        assert_eq!(decide(Some(""), Some("1")), Missing::Skip);
        assert_eq!(decide(Some("true"), Some("1")), Missing::Fail);
        assert_eq!(decide(Some("1"), Some("1")), Missing::Fail);
    }

    #[test]
    fn without_the_skip_variable_a_missing_requirement_fails() {
        assert_eq!(decide(None, None), Missing::Fail);
        assert_eq!(decide(None, Some("0")), Missing::Fail);
        assert_eq!(decide(None, Some("yes")), Missing::Fail);
        assert_eq!(decide(Some("true"), None), Missing::Fail);
    }
}
