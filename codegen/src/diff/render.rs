//! Reports: text for a terminal (optionally coloured), Markdown for a pull
//! request comment, JSON for tools.

use std::fmt::Write as _;
use std::str::FromStr;

use super::report::{Change, Report, RustApi, Subject};
use super::rules::Severity;
use super::rust_api::RustApiDiff;

/// Output format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Plain text; ANSI colour when `color` is true.
    Text {
        /// Use ANSI colours (only when writing to a terminal).
        color: bool,
    },
    /// GitHub-flavoured Markdown.
    Markdown,
    /// Pretty-printed JSON.
    Json,
}

/// The name does not denote a format.
#[derive(Debug, thiserror::Error)]
#[error("unknown format `{0}`: use text, markdown or json")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `text` (without colour), `markdown` or `json`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text { color: false }),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// Renders a report.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text { color } => text(report, color),
        Format::Markdown => markdown(report),
        Format::Json => json(report),
    }
}

fn counts(report: &Report) -> (usize, usize) {
    let breaking = report.diff.breaking().count();
    (breaking, report.diff.changes.len() - breaking)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn summary(report: &Report) -> String {
    let (breaking, compatible) = counts(report);
    if breaking + compatible == 0 {
        return "no changes to the API".into();
    }
    format!(
        "{}, {}",
        plural(breaking, "breaking change"),
        plural(compatible, "compatible change")
    )
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn red(&self, t: &str) -> String {
        self.wrap("1;31", t)
    }
    fn green(&self, t: &str) -> String {
        self.wrap("32", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
}

fn subject_title(subject: &Subject) -> (String, String) {
    match subject {
        Subject::Operation { id, route } => (id.clone(), route.clone()),
        Subject::Schema { name } => (name.clone(), String::new()),
    }
}

fn text(report: &Report, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let d = &report.diff;
    let _ = writeln!(
        out,
        "{} {} ({}) -> {} ({})",
        p.bold("spec diff:"),
        report.old_name,
        d.old_version,
        report.new_name,
        d.new_version
    );
    let _ = writeln!(out, "{}", summary(report));
    let groups = d.groups();
    for (heading, want_ops) in [("Operations", true), ("Schemas", false)] {
        let chosen: Vec<_> = groups
            .iter()
            .filter(|(s, _)| matches!(s, Subject::Operation { .. }) == want_ops)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", p.bold(heading));
        for (subject, changes) in chosen {
            let (name, route) = subject_title(subject);
            if route.is_empty() {
                let users = used_by(report, &name, |op| op.to_string());
                let _ = writeln!(out, "  {}{}", p.bold(&name), p.dim(&users));
            } else {
                let _ = writeln!(out, "  {}  {}", p.bold(&name), route);
            }
            for c in changes {
                let tag = match c.severity {
                    Severity::Breaking => p.red("BREAKING  "),
                    Severity::Compatible => p.green("compatible"),
                };
                let _ = writeln!(
                    out,
                    "    {tag}  {}  {}",
                    c.message,
                    p.dim(&format!("[{}]", c.rule))
                );
            }
        }
    }
    let _ = writeln!(out, "\n{}", p.bold("Version"));
    if report.version_problems.is_empty() {
        let what = and_list(&report.version_checked);
        let _ = writeln!(out, "  {}", p.green(&format!("ok: {what} in order")));
    }
    for problem in &report.version_problems {
        let _ = writeln!(out, "  {} {}", p.red("error:"), problem.message);
    }
    if let Some(api) = &report.rust_api {
        let _ = writeln!(out, "\n{}", p.bold("Rust API of the generated client"));
        match api {
            RustApi::Skipped { reason } => {
                let _ = writeln!(out, "  not compared: {reason}");
            }
            RustApi::Compared(diff) if diff.is_empty() => {
                let _ = writeln!(out, "  no public item changed");
            }
            RustApi::Compared(diff) => {
                for line in api_lines(diff) {
                    let painted = match line.chars().next() {
                        Some('+') => p.green(&line),
                        Some('-') => p.red(&line),
                        _ => line.clone(),
                    };
                    let _ = writeln!(out, "  {painted}");
                }
            }
        }
    }
    let verdict = if report.fails() {
        if report.diff.is_breaking() {
            p.red("result: breaking changes (exit 1)")
        } else {
            p.red("result: version discipline fails (exit 1)")
        }
    } else {
        p.green("result: no breaking change (exit 0)")
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}

/// ` (used by a, b and 3 more)`, or "" when no operation uses the schema.
fn used_by(report: &Report, schema: &str, show: impl Fn(&str) -> String) -> String {
    const SHOWN: usize = 5;
    let Some(users) = report.diff.used_by.get(schema).filter(|u| !u.is_empty()) else {
        return String::new();
    };
    let mut names: Vec<String> = users.iter().take(SHOWN).map(|u| show(u)).collect();
    if users.len() > SHOWN {
        names.push(format!("{} more", users.len() - SHOWN));
    }
    format!(" (used by {})", names.join(", "))
}

/// `+ path: sig`, `- path: sig`, `~ path: old -> new`, one per item.
fn api_lines(diff: &RustApiDiff) -> Vec<String> {
    let mut lines = Vec::new();
    for (sign, items) in [('+', &diff.added), ('-', &diff.removed)] {
        for item in items {
            // A unit variant's signature is its own name; do not say it twice.
            let last = item.path.rsplit("::").next().unwrap_or_default();
            if item.signature == last {
                lines.push(format!("{sign} {} {}", item.kind, item.path));
            } else {
                lines.push(format!(
                    "{sign} {} {}: {}",
                    item.kind, item.path, item.signature
                ));
            }
        }
    }
    for item in &diff.changed {
        lines.push(format!(
            "~ {} {}: {} -> {}",
            item.kind, item.path, item.old, item.new
        ));
    }
    lines
}

/// `a is`, `a and b are`, `a, b and c are`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => "nothing checked, all".into(),
        [one] => format!("{one} is"),
        [init @ .., last] => format!("{} and {last} are", init.join(", ")),
    }
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn md_row(c: &Change) -> String {
    let verdict = match c.severity {
        Severity::Breaking => "🔴 **breaking**",
        Severity::Compatible => "🟢 compatible",
    };
    format!("| {verdict} | {} | `{}` |\n", md_escape(&c.message), c.rule)
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let d = &report.diff;
    let _ = writeln!(
        out,
        "## Spec diff: `{}` → `{}`\n",
        d.old_version, d.new_version
    );
    let _ = writeln!(
        out,
        "Comparing `{}` with `{}`: **{}**.\n",
        report.old_name,
        report.new_name,
        summary(report)
    );
    let groups = d.groups();
    for (heading, want_ops) in [("Operations", true), ("Schemas", false)] {
        let chosen: Vec<_> = groups
            .iter()
            .filter(|(s, _)| matches!(s, Subject::Operation { .. }) == want_ops)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {heading}\n");
        for (subject, changes) in chosen {
            let (name, route) = subject_title(subject);
            if route.is_empty() {
                let users = used_by(report, &name, |op| format!("`{op}`"));
                let _ = writeln!(out, "#### `{name}`{users}\n");
            } else {
                let _ = writeln!(out, "#### `{name}` — `{route}`\n");
            }
            out.push_str("| Verdict | Change | Rule |\n|---|---|---|\n");
            for c in changes {
                out.push_str(&md_row(c));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "### Version discipline\n");
    if report.version_problems.is_empty() {
        let what = and_list(
            &report
                .version_checked
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>(),
        );
        let _ = writeln!(out, "✅ {what} in order.\n");
    }
    for problem in &report.version_problems {
        let _ = writeln!(out, "- ❌ {}", md_escape(&problem.message));
    }
    if !report.version_problems.is_empty() {
        out.push('\n');
    }
    if let Some(api) = &report.rust_api {
        let _ = writeln!(out, "### Rust API of the generated client\n");
        match api {
            RustApi::Skipped { reason } => {
                let _ = writeln!(out, "Not compared: {}.\n", md_escape(reason));
            }
            RustApi::Compared(diff) if diff.is_empty() => {
                let _ = writeln!(out, "No public item changed.\n");
            }
            RustApi::Compared(diff) => {
                let _ = writeln!(
                    out,
                    "<details><summary>{} added, {} removed, {} changed</summary>\n\n```diff",
                    diff.added.len(),
                    diff.removed.len(),
                    diff.changed.len()
                );
                for line in api_lines(diff) {
                    // `~` lines are shown as context lines in a diff block.
                    let line = match line.strip_prefix('~') {
                        Some(rest) => format!("!{rest}"),
                        None => line,
                    };
                    let _ = writeln!(out, "{line}");
                }
                let _ = writeln!(out, "```\n\n</details>\n");
            }
        }
    }
    let verdict = if report.diff.is_breaking() {
        "**Result:** breaking changes; clients generated from the old spec can fail."
    } else if report.fails() {
        "**Result:** no breaking change, but version discipline fails."
    } else {
        "**Result:** no breaking change."
    };
    let _ = writeln!(out, "{verdict}");
    out
}

fn json(report: &Report) -> String {
    let (breaking, compatible) = counts(report);
    let value = serde_json::json!({
        "old": {"name": report.old_name, "version": report.diff.old_version},
        "new": {"name": report.new_name, "version": report.diff.new_version},
        "breaking": report.diff.is_breaking(),
        "fails": report.fails(),
        "counts": {"breaking": breaking, "compatible": compatible},
        "changes": report.diff.changes,
        "used_by": report.diff.used_by,
        "version_checked": report.version_checked,
        "version_problems": report.version_problems,
        "rust_api": report.rust_api,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}
