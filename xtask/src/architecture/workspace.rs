//! The workspace's crates and their dependencies on each other, read from the manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item, Table};

use super::violation::Violation;

/// One package of the workspace.
#[derive(Clone, Debug)]
pub struct WorkspaceCrate {
    /// Its directory relative to the workspace root, `/`-separated (`codegen`).
    pub dir: String,
    /// The package name (`passage-codegen`).
    pub package: String,
    /// The name other crates write in paths (`passage_codegen`).
    pub lib_name: String,
    /// Roots of its library and binaries, relative to the workspace root.
    pub roots: Vec<String>,
    /// Its dependencies of every kind, in manifest order.
    pub dependencies: Vec<Dependency>,
}

/// One dependency entry of a manifest.
#[derive(Clone, Debug)]
pub struct Dependency {
    /// The package it names (after `package = "..."` renames).
    pub package: String,
    /// The table it is in (`dependencies`, `dev-dependencies`, `target.'cfg(unix)'.build-dependencies`, ...).
    pub table: String,
    /// 1-based line of its key in the manifest.
    pub line: usize,
}

impl Dependency {
    /// False for dev-dependencies, which a dependent crate does not build.
    pub fn is_linked(&self) -> bool {
        !self.table.ends_with("dev-dependencies")
    }
}

/// The workspace: its root and its member crates.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The directory of the root manifest.
    pub root: PathBuf,
    /// Every member, sorted by directory.
    pub crates: Vec<WorkspaceCrate>,
}

impl Workspace {
    /// Reads the root manifest and every member's manifest; what cannot be
    /// read becomes a violation (the check must not pass on a half-read workspace).
    pub fn read(root: &Path) -> (Self, Vec<Violation>) {
        let mut problems = Vec::new();
        let mut workspace = Workspace {
            root: root.to_path_buf(),
            crates: Vec::new(),
        };
        let Some(manifest) = read_manifest(root, "Cargo.toml", &mut problems) else {
            return (workspace, problems);
        };
        let renames = workspace_renames(&manifest);
        let list = |key: &str| -> Vec<String> {
            manifest
                .get("workspace")
                .and_then(|w| w.get(key))
                .and_then(Item::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let excluded = list("exclude");
        let mut dirs: Vec<String> = list("members")
            .iter()
            .flat_map(|pattern| expand(root, pattern))
            .filter(|dir| !excluded.contains(dir))
            .collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            let manifest_path = format!("{dir}/Cargo.toml");
            let Some(doc) = read_manifest(root, &manifest_path, &mut problems) else {
                continue;
            };
            let Some(package) = doc
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(Item::as_str)
            else {
                problems.push(Violation::Unreadable {
                    file: manifest_path,
                    message: "a workspace member without `package.name`".into(),
                });
                continue;
            };
            let lib_name = doc
                .get("lib")
                .and_then(|l| l.get("name"))
                .and_then(Item::as_str)
                .map_or_else(|| package.replace('-', "_"), str::to_string);
            workspace.crates.push(WorkspaceCrate {
                roots: roots(root, &dir, &doc),
                dependencies: dependencies(&doc, &renames),
                package: package.to_string(),
                lib_name,
                dir,
            });
        }
        (workspace, problems)
    }

    /// The crate whose directory is `dir`.
    pub fn crate_at(&self, dir: &str) -> Option<&WorkspaceCrate> {
        self.crates.iter().find(|c| c.dir == dir)
    }

    /// The crate named `package`.
    pub fn package(&self, package: &str) -> Option<&WorkspaceCrate> {
        self.crates.iter().find(|c| c.package == package)
    }

    /// The crates at `dir` or in a directory under it.
    pub fn crates_under(&self, dir: &str) -> Vec<&WorkspaceCrate> {
        let dir = dir.trim_end_matches('/');
        self.crates
            .iter()
            .filter(|c| c.dir == dir || c.dir.starts_with(&format!("{dir}/")))
            .collect()
    }
}

fn read_manifest(
    root: &Path,
    rel: &str,
    problems: &mut Vec<Violation>,
) -> Option<ImDocument<String>> {
    let text = match std::fs::read_to_string(root.join(rel)) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Violation::Unreadable {
                file: rel.to_string(),
                message: e.to_string(),
            });
            return None;
        }
    };
    match ImDocument::parse(text) {
        Ok(doc) => Some(doc),
        Err(e) => {
            problems.push(Violation::Unreadable {
                file: rel.to_string(),
                message: e.to_string(),
            });
            None
        }
    }
}

/// `[workspace.dependencies]` keys that rename a package (`key = { package = "..." }`).
fn workspace_renames(manifest: &ImDocument<String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let table = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Item::as_table_like);
    for (key, value) in table.into_iter().flat_map(|t| t.iter()) {
        if let Some(package) = value.get("package").and_then(Item::as_str) {
            out.insert(key.to_string(), package.to_string());
        }
    }
    out
}

/// The directories a `members` entry names; `*` matches any part of one path segment.
fn expand(root: &Path, pattern: &str) -> Vec<String> {
    let mut found = vec![String::new()];
    for segment in pattern.trim_end_matches('/').split('/') {
        let mut next = Vec::new();
        for base in &found {
            let join = |name: &str| {
                if base.is_empty() {
                    name.to_string()
                } else {
                    format!("{base}/{name}")
                }
            };
            if !segment.contains('*') {
                next.push(join(segment));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(root.join(base)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|name| wildcard(segment, name))
                .collect();
            names.sort();
            next.extend(names.iter().map(|n| join(n)));
        }
        found = next;
    }
    let globbed = pattern.contains('*');
    found
        .into_iter()
        // A glob matches only directories that hold a crate; a plain entry must exist (or fail).
        .filter(|dir| !globbed || root.join(dir).join("Cargo.toml").is_file())
        .collect()
}

fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len())
                    .filter(|&i| name.is_char_boundary(head.len() + i))
                    .any(|i| wildcard(tail, &name[head.len() + i..]))
        }
    }
}

/// The roots of the crate's library and binaries that exist.
fn roots(root: &Path, dir: &str, doc: &ImDocument<String>) -> Vec<String> {
    let mut out = Vec::new();
    let lib = doc
        .get("lib")
        .and_then(|l| l.get("path"))
        .and_then(Item::as_str)
        .unwrap_or("src/lib.rs");
    out.push(lib.to_string());
    let bins = doc.get("bin").and_then(Item::as_array_of_tables);
    for bin in bins.into_iter().flat_map(|b| b.iter()) {
        if let Some(path) = bin.get("path").and_then(Item::as_str) {
            out.push(path.to_string());
        }
    }
    out.push("src/main.rs".into());
    if let Ok(entries) = std::fs::read_dir(root.join(dir).join("src/bin")) {
        let mut found: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                if e.path().is_dir() {
                    Some(format!("src/bin/{name}/main.rs"))
                } else {
                    name.ends_with(".rs").then(|| format!("src/bin/{name}"))
                }
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    let mut roots: Vec<String> = out
        .into_iter()
        .map(|p| format!("{dir}/{}", p.trim_start_matches("./")))
        .filter(|p| root.join(p).is_file())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    roots.retain(|r| seen.insert(r.clone()));
    roots
}

/// Every dependency entry of the manifest: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and their `[target.*]` forms.
fn dependencies(doc: &ImDocument<String>, renames: &BTreeMap<String, String>) -> Vec<Dependency> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let source = doc.raw();
    let mut out = Vec::new();
    let mut read = |table: &Table, name: String| {
        for (key, value) in table.iter() {
            let renamed = value
                .get("package")
                .and_then(Item::as_str)
                .map(str::to_string);
            let inherits = value.get("workspace").and_then(Item::as_bool) == Some(true);
            let package = match (renamed, inherits) {
                (Some(p), _) => p,
                (None, true) => renames.get(key).cloned().unwrap_or_else(|| key.to_string()),
                (None, false) => key.to_string(),
            };
            let line = table
                .key(key)
                .and_then(|k| k.span())
                .map_or(0, |span| line_at(source, span.start));
            out.push(Dependency {
                package,
                table: name.clone(),
                line,
            });
        }
    };
    for kind in KINDS {
        if let Some(table) = doc.get(kind).and_then(Item::as_table) {
            read(table, kind.to_string());
        }
    }
    if let Some(targets) = doc.get("target").and_then(Item::as_table) {
        for (cfg, target) in targets.iter() {
            for kind in KINDS {
                if let Some(table) = target.get(kind).and_then(Item::as_table) {
                    read(table, format!("target.'{cfg}'.{kind}"));
                }
            }
        }
    }
    out
}

/// The 1-based line of a byte offset.
pub fn line_at(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_within_one_segment() {
        assert!(wildcard("*", "auth"));
        assert!(wildcard("client-*", "client-auth"));
        assert!(!wildcard("client-*", "server-auth"));
        assert!(wildcard("a*c", "abbc"));
        assert!(!wildcard("a*c", "abbd"));
    }
}
