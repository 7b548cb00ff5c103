//! Version discipline: the spec's `info.version` must say what the change
//! did (major for breaking changes, minor for other changes), every new
//! version needs a `## [X.Y.Z]` entry in the changelog, and the client
//! crate's own version is bumped at least as the spec change requires (its
//! version is independent of the spec's, so a fix to handwritten code alone
//! can be released; `SPEC_VERSION` in the crate says which spec it was
//! generated from).

use semver::Version;
use serde::Serialize;

/// What the version check looks at.
#[derive(Clone, Debug, Default)]
pub struct VersionInputs<'a> {
    /// `info.version` of the old spec.
    pub old_version: &'a str,
    /// `info.version` of the new spec.
    pub new_version: &'a str,
    /// The diff found at least one change.
    pub changed: bool,
    /// The diff found at least one breaking change.
    pub breaking: bool,
    /// The changelog's name and text, when it should be checked.
    pub changelog: Option<(&'a str, &'a str)>,
    /// The client manifest's name and its `package.version`, when it should be checked.
    pub crate_version: Option<(&'a str, &'a str)>,
    /// The client crate's `package.version` before the change, when known
    /// (read from the base ref): the crate bump is checked against it.
    pub old_crate_version: Option<&'a str>,
}

/// One broken rule of version discipline, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionProblem {
    /// A stable id: `version-invalid`, `version-backwards`, `version-bump`,
    /// `changelog-entry`, `crate-version`.
    pub id: &'static str,
    /// The message, saying exactly what to bump or add.
    pub message: String,
}

/// The smallest version that may follow `old` after a breaking change.
pub fn next_major(old: &Version) -> Version {
    if old.major == 0 {
        Version::new(0, old.minor + 1, 0)
    } else {
        Version::new(old.major + 1, 0, 0)
    }
}

/// The smallest version that may follow `old` after a compatible change.
pub fn next_minor(old: &Version) -> Version {
    if old.major == 0 {
        Version::new(0, old.minor, old.patch + 1)
    } else {
        Version::new(old.major, old.minor + 1, 0)
    }
}

/// Checks version discipline; an empty list means it holds.
pub fn check(inputs: &VersionInputs<'_>) -> Vec<VersionProblem> {
    let mut problems = Vec::new();
    let parse = |v: &str, which: &str, problems: &mut Vec<VersionProblem>| match Version::parse(v) {
        Ok(version) => Some(version),
        Err(_) => {
            problems.push(VersionProblem {
                id: "version-invalid",
                message: format!(
                    "the {which} spec's info.version `{v}` is not a semantic version (X.Y.Z)"
                ),
            });
            None
        }
    };
    let old = parse(inputs.old_version, "old", &mut problems);
    let new = parse(inputs.new_version, "new", &mut problems);
    if let (Some(old), Some(new)) = (&old, &new) {
        if new < old {
            problems.push(VersionProblem {
                id: "version-backwards",
                message: format!("info.version went backwards from {old} to {new}"),
            });
        } else if inputs.breaking {
            let need = next_major(old);
            if new < &need {
                problems.push(VersionProblem {
                    id: "version-bump",
                    message: format!(
                        "breaking changes need info.version {need} or later; found {new}"
                    ),
                });
            }
        } else if inputs.changed {
            let need = next_minor(old);
            if new < &need {
                problems.push(VersionProblem {
                    id: "version-bump",
                    message: format!(
                        "compatible changes need info.version {need} or later; found {new}"
                    ),
                });
            }
        }
    }
    let bumped = inputs.old_version != inputs.new_version;
    if let Some((name, text)) = inputs.changelog {
        if (bumped || inputs.changed) && !has_entry(text, inputs.new_version) {
            problems.push(VersionProblem {
                id: "changelog-entry",
                message: format!(
                    "{name} has no `## [{}]` entry; add one that describes this change",
                    inputs.new_version
                ),
            });
        }
    }
    if let (Some((name, version)), Some(old_version)) =
        (inputs.crate_version, inputs.old_crate_version)
    {
        if let (Ok(old), Ok(new)) = (Version::parse(old_version), Version::parse(version)) {
            let need = if inputs.breaking {
                Some(("breaking", next_major(&old)))
            } else if inputs.changed {
                Some(("compatible", next_minor(&old)))
            } else {
                None
            };
            if let Some((kind, need)) = need.filter(|(_, need)| &new < need) {
                problems.push(VersionProblem {
                    id: "crate-version",
                    message: format!(
                        "{kind} spec changes need {name} package.version {need} or later (was {old}); found {new}"
                    ),
                });
            }
        }
    }
    problems
}

/// The names of what [`check`] looks at with these inputs.
pub fn checked(inputs: &VersionInputs<'_>) -> Vec<String> {
    let mut out = vec!["info.version".to_string()];
    out.extend(inputs.changelog.map(|(name, _)| name.to_string()));
    out.extend(inputs.crate_version.map(|(name, _)| name.to_string()));
    out
}

/// True when the changelog has a `## [version]` heading (a date may follow).
pub fn has_entry(changelog: &str, version: &str) -> bool {
    let heading = format!("## [{version}]");
    changelog.lines().any(|line| {
        line.trim_end()
            .strip_prefix(&heading)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_major_versions_bump_the_minor_for_breaking_changes() {
        let v = Version::parse("0.3.1").unwrap();
        assert_eq!(next_major(&v).to_string(), "0.4.0");
        assert_eq!(next_minor(&v).to_string(), "0.3.2");
    }

    #[test]
    fn changelog_headings_match_exactly() {
        let text = "# Changelog\n\n## [1.10.0] - 2026-01-01\n## [Unreleased]\n";
        assert!(has_entry(text, "1.10.0"));
        assert!(!has_entry(text, "1.1.0"));
        assert!(!has_entry(text, "1.10"));
    }
}
