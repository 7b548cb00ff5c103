//! Applies a rules table to a workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::crate_uses::crate_uses;
use super::graph::ModuleGraph;
use super::rules::CrateRules;
use super::violation::Violation;
use super::workspace::{Workspace, WorkspaceCrate};

/// Every violation of `rules` in the workspace at `root`; empty when the
/// architecture holds.
pub fn check(root: &Path, rules: &[CrateRules]) -> Vec<Violation> {
    let (workspace, mut out) = Workspace::read(root);
    for rule in rules {
        let Some(krate) = workspace.crate_at(rule.dir) else {
            out.push(Violation::MissingCrate {
                dir: rule.dir.to_string(),
                rule: "the rules table".into(),
            });
            continue;
        };
        let (graph, problems) = ModuleGraph::read(root, &krate.roots);
        out.extend(problems);
        out.extend(graph.circles(rule.dir));
        out.extend(layers(rule, &graph));
        out.extend(independent(rule, &graph));
        out.extend(dependencies(root, rule, krate, &workspace));
    }
    out
}

/// The top-level module of a file; `None` for a root.
fn top(graph: &ModuleGraph, file: usize) -> Option<&str> {
    graph.files[file].module.first().map(String::as_str)
}

fn layers(rule: &CrateRules, graph: &ModuleGraph) -> Vec<Violation> {
    let mut out = Vec::new();
    if rule.layers.is_empty() {
        return out;
    }
    let rank: BTreeMap<&str, usize> = rule
        .layers
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| layer.iter().map(move |m| (*m, i)))
        .collect();
    let present: BTreeSet<&str> = (0..graph.files.len())
        .filter_map(|f| top(graph, f))
        .collect();
    for module in rank.keys().filter(|m| !present.contains(*m)) {
        out.push(Violation::MissingModule {
            crate_dir: rule.dir.to_string(),
            module: module.to_string(),
            rule: "the layer list".into(),
        });
    }
    let mut unlisted = BTreeSet::new();
    for (file, node) in graph.files.iter().enumerate() {
        if let Some(module) = top(graph, file) {
            if !rank.contains_key(module) && unlisted.insert(module) {
                out.push(Violation::UnlistedModule {
                    crate_dir: rule.dir.to_string(),
                    module: module.to_string(),
                    file: node.path.clone(),
                });
            }
        }
    }
    for (&(from, to), lines) in &graph.edges {
        let (Some(a), Some(b)) = (top(graph, from), top(graph, to)) else {
            continue; // the roots are exempt
        };
        let (Some(ra), Some(rb)) = (rank.get(a), rank.get(b)) else {
            continue; // reported above
        };
        if a != b && rb >= ra {
            out.push(Violation::Upward {
                file: graph.files[from].path.clone(),
                line: lines[0],
                from: a.to_string(),
                to: b.to_string(),
                to_file: graph.files[to].path.clone(),
            });
        }
    }
    out
}

fn independent(rule: &CrateRules, graph: &ModuleGraph) -> Vec<Violation> {
    let mut out = Vec::new();
    for dir in rule.independent {
        let prefix: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        let under = |file: usize| -> Option<&str> {
            let module = &graph.files[file].module;
            (module.len() > prefix.len() && module.iter().zip(&prefix).all(|(a, b)| a == b))
                .then(|| module[prefix.len()].as_str())
        };
        if !(0..graph.files.len()).any(|f| under(f).is_some()) {
            out.push(Violation::MissingModule {
                crate_dir: rule.dir.to_string(),
                module: dir.to_string(),
                rule: "an independent-directory rule".into(),
            });
            continue;
        }
        for (&(from, to), lines) in &graph.edges {
            if graph.files[from].root != graph.files[to].root {
                continue;
            }
            if let (Some(a), Some(b)) = (under(from), under(to)) {
                if a != b {
                    out.push(Violation::Sibling {
                        file: graph.files[from].path.clone(),
                        line: lines[0],
                        dir: dir.to_string(),
                        to_file: graph.files[to].path.clone(),
                    });
                }
            }
        }
    }
    out
}

fn dependencies(
    root: &Path,
    rule: &CrateRules,
    krate: &WorkspaceCrate,
    workspace: &Workspace,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut forbidden: BTreeMap<&str, &str> = BTreeMap::new(); // package -> rule dir
    for dir in rule.forbidden {
        let covered = workspace.crates_under(dir);
        if covered.is_empty() {
            out.push(Violation::MissingCrate {
                dir: dir.to_string(),
                rule: format!("the forbidden dependencies of {}", rule.dir),
            });
        }
        for c in covered {
            forbidden.insert(c.package.as_str(), dir);
        }
    }
    let manifest = format!("{}/Cargo.toml", krate.dir);
    for dependency in &krate.dependencies {
        // Through workspace crates, only what they link (not their dev-dependencies).
        let mut chain = vec![dependency.package.clone()];
        let mut seen = BTreeSet::new();
        if let Some(found) = reach(workspace, &mut chain, &mut seen, &forbidden) {
            out.push(Violation::ForbiddenDependency {
                file: manifest.clone(),
                line: dependency.line,
                package: krate.package.clone(),
                forbidden: forbidden[chain_end(&found)].to_string(),
                chain: found,
            });
        }
    }
    let names: BTreeMap<&str, &WorkspaceCrate> = forbidden
        .keys()
        .filter_map(|p| workspace.package(p))
        .map(|c| (c.lib_name.as_str(), c))
        .collect();
    let (uses, problems) = crate_uses(root, &krate.dir);
    out.extend(problems);
    for used in uses {
        if let Some(other) = names.get(used.name.as_str()) {
            out.push(Violation::ForbiddenDependency {
                file: used.file,
                line: used.line,
                package: krate.package.clone(),
                chain: vec![other.package.clone()],
                forbidden: forbidden[other.package.as_str()].to_string(),
            });
        }
    }
    out
}

fn chain_end(chain: &[String]) -> &str {
    chain.last().map_or("", String::as_str)
}

/// Depth-first from the last package of `chain` through workspace crates'
/// linked dependencies; the chain to the first forbidden package found.
fn reach(
    workspace: &Workspace,
    chain: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
    forbidden: &BTreeMap<&str, &str>,
) -> Option<Vec<String>> {
    let package = chain_end(chain).to_string();
    if forbidden.contains_key(package.as_str()) {
        return Some(chain.clone());
    }
    if !seen.insert(package.clone()) {
        return None;
    }
    let krate = workspace.package(&package)?;
    for dependency in krate.dependencies.iter().filter(|d| d.is_linked()) {
        chain.push(dependency.package.clone());
        if let Some(found) = reach(workspace, chain, seen, forbidden) {
            return Some(found);
        }
        chain.pop();
    }
    None
}
