//! What the architecture check reports: each violation names the file and,
//! where there is one, the line that makes it.

use std::fmt;

/// One import of an import circle: `from` names an item of `to` at `lines`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The importing file, relative to the workspace root.
    pub from: String,
    /// The imported file.
    pub to: String,
    /// 1-based lines of `from` that name an item of `to`.
    pub lines: Vec<usize>,
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A manifest or source file that cannot be read or parsed.
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// A rule names a crate directory that holds no workspace crate.
    MissingCrate {
        /// The directory the rule names.
        dir: String,
        /// Which rule names it.
        rule: String,
    },
    /// A rule names a module that the crate does not have.
    MissingModule {
        /// The crate's directory.
        crate_dir: String,
        /// The module (`http/routes`, `spec`).
        module: String,
        /// Which rule names it.
        rule: String,
    },
    /// `mod x;` whose file is not there.
    MissingModuleFile {
        /// The file with the declaration.
        file: String,
        /// Its line.
        line: usize,
        /// The module declared.
        module: String,
    },
    /// Files of one crate that import each other in a circle.
    Circle {
        /// The crate's directory.
        crate_dir: String,
        /// Every file of the strongly connected group, sorted.
        files: Vec<String>,
        /// One shortest circle through the group, each import with its lines.
        hops: Vec<Hop>,
    },
    /// A module of a layered crate that its layer list does not place.
    UnlistedModule {
        /// The crate's directory.
        crate_dir: String,
        /// The top-level module.
        module: String,
        /// One of its files.
        file: String,
    },
    /// A module imports a module of its own layer or of a later one.
    Upward {
        /// The importing file.
        file: String,
        /// The line of the import.
        line: usize,
        /// The importing top-level module.
        from: String,
        /// The imported top-level module.
        to: String,
        /// The imported file.
        to_file: String,
    },
    /// A module under an independent directory imports a sibling.
    Sibling {
        /// The importing file.
        file: String,
        /// The line of the import.
        line: usize,
        /// The directory whose modules must not import each other.
        dir: String,
        /// The imported file.
        to_file: String,
    },
    /// A crate depends on a crate it must not depend on.
    ForbiddenDependency {
        /// `Cargo.toml` of the crate, or the source file that names the other crate.
        file: String,
        /// The line of the dependency entry or of the path.
        line: usize,
        /// The package that depends.
        package: String,
        /// The chain of packages from the direct dependency to the forbidden one.
        chain: Vec<String>,
        /// The forbidden directory that matched.
        forbidden: String,
    },
}

fn lines(lines: &[usize]) -> String {
    let shown: Vec<String> = lines.iter().take(6).map(usize::to_string).collect();
    let more = if lines.len() > 6 { ",…" } else { "" };
    format!("{}{more}", shown.join(","))
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Unreadable { file, message } => write!(f, "{file}: cannot read: {message}"),
            Violation::MissingCrate { dir, rule } => write!(
                f,
                "{dir}: {rule} names this directory, but no workspace crate is at or under it"
            ),
            Violation::MissingModule {
                crate_dir,
                module,
                rule,
            } => write!(
                f,
                "{crate_dir}: {rule} names the module `{module}`, which the crate does not have"
            ),
            Violation::MissingModuleFile { file, line, module } => write!(
                f,
                "{file}:{line}: `mod {module};` has no file ({module}.rs or {module}/mod.rs)"
            ),
            Violation::Circle {
                crate_dir,
                files,
                hops,
            } => {
                write!(
                    f,
                    "{crate_dir}: import circle through {} file(s): ",
                    files.len()
                )?;
                for (i, hop) in hops.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}:{} -> {}", hop.from, lines(&hop.lines), hop.to)?;
                }
                if files.len() > hops.len() {
                    write!(f, " (the group also holds: ")?;
                    let others: Vec<&str> = files
                        .iter()
                        .filter(|file| !hops.iter().any(|h| &h.from == *file))
                        .map(String::as_str)
                        .collect();
                    write!(f, "{})", others.join(", "))?;
                }
                Ok(())
            }
            Violation::UnlistedModule {
                crate_dir,
                module,
                file,
            } => write!(
                f,
                "{file}: module `{module}` is not in the layer list of {crate_dir} (add it to the rules table)"
            ),
            Violation::Upward {
                file,
                line,
                from,
                to,
                to_file,
            } => write!(
                f,
                "{file}:{line}: module `{from}` imports `{to}` ({to_file}), which is not in an earlier layer"
            ),
            Violation::Sibling {
                file,
                line,
                dir,
                to_file,
            } => write!(
                f,
                "{file}:{line}: imports its sibling {to_file}; the modules under `{dir}` never import each other"
            ),
            Violation::ForbiddenDependency {
                file,
                line,
                package,
                chain,
                forbidden,
            } => write!(
                f,
                "{file}:{line}: {package} depends on {} (under `{forbidden}/`), which it must not",
                chain.join(" -> ")
            ),
        }
    }
}
