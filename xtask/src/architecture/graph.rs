//! The module graph of one crate: its files as nodes, an edge from A to B when
//! A names an item of B (see `references.rs`), and the circles in it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use super::module_tree::ModuleTree;
use super::references::references;
use super::violation::{Hop, Violation};

/// One file of the graph.
#[derive(Clone, Debug)]
pub struct FileNode {
    /// Relative to the workspace root.
    pub path: String,
    /// The module path of the file inside its crate root (empty for a root).
    pub module: Vec<String>,
    /// Which root (target) of the crate the file belongs to.
    pub root: usize,
}

/// Files and the imports between them.
#[derive(Clone, Debug, Default)]
pub struct ModuleGraph {
    /// Every file, in the order the module tree found them.
    pub files: Vec<FileNode>,
    /// `(from, to)` -> the 1-based lines of `from` that name an item of `to`.
    pub edges: BTreeMap<(usize, usize), Vec<usize>>,
}

impl ModuleGraph {
    /// Reads and parses the crate from `roots` (relative to `workspace`).
    pub fn read(workspace: &Path, roots: &[String]) -> (Self, Vec<Violation>) {
        let (tree, problems) = ModuleTree::read(workspace, roots);
        (Self::of_tree(&tree), problems)
    }

    fn of_tree(tree: &ModuleTree) -> Self {
        let files = tree
            .files
            .iter()
            .map(|f| {
                let module = &tree.modules[f.module];
                FileNode {
                    path: f.path.clone(),
                    module: module.path.clone(),
                    root: module.root,
                }
            })
            .collect();
        let mut edges: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for reference in references(tree) {
            let to = tree.modules[reference.to].file;
            if to != reference.from_file {
                edges
                    .entry((reference.from_file, to))
                    .or_default()
                    .push(reference.line);
            }
        }
        for lines in edges.values_mut() {
            lines.sort_unstable();
            lines.dedup();
        }
        Self { files, edges }
    }

    fn successors(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.files.len()];
        for &(from, to) in self.edges.keys() {
            out[from].push(to);
        }
        out
    }

    /// The strongly connected groups of more than one file (each sorted by
    /// path), sorted; empty when the graph has no circle.
    pub fn circular_groups(&self) -> Vec<Vec<usize>> {
        let successors = self.successors();
        let mut tarjan = Tarjan {
            successors: &successors,
            index: vec![None; self.files.len()],
            low: vec![0; self.files.len()],
            on_stack: vec![false; self.files.len()],
            stack: Vec::new(),
            next: 0,
            groups: Vec::new(),
        };
        for node in 0..self.files.len() {
            if tarjan.index[node].is_none() {
                tarjan.visit(node);
            }
        }
        let mut groups: Vec<Vec<usize>> = tarjan
            .groups
            .into_iter()
            .filter(|g| g.len() > 1)
            .map(|mut g| {
                g.sort_by(|a, b| self.files[*a].path.cmp(&self.files[*b].path));
                g
            })
            .collect();
        groups.sort_by(|a, b| self.files[a[0]].path.cmp(&self.files[b[0]].path));
        groups
    }

    /// A shortest circle through the first file of `group`, as hops.
    pub fn shortest_circle(&self, group: &[usize]) -> Vec<Hop> {
        let members: BTreeSet<usize> = group.iter().copied().collect();
        let successors = self.successors();
        let start = group[0];
        let mut previous: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(node) = queue.pop_front() {
            for &next in &successors[node] {
                if !members.contains(&next) {
                    continue;
                }
                if next == start {
                    last = Some(node);
                    break 'search;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(next) {
                    e.insert(node);
                    queue.push_back(next);
                }
            }
        }
        let Some(mut node) = last else {
            return Vec::new();
        };
        let mut path = vec![start, node];
        while node != start {
            node = previous[&node];
            path.push(node);
        }
        path.reverse(); // start, ..., last, start
        path.windows(2)
            .map(|w| Hop {
                from: self.files[w[0]].path.clone(),
                to: self.files[w[1]].path.clone(),
                lines: self.edges[&(w[0], w[1])].clone(),
            })
            .collect()
    }

    /// One violation per circular group.
    pub fn circles(&self, crate_dir: &str) -> Vec<Violation> {
        self.circular_groups()
            .iter()
            .map(|group| Violation::Circle {
                crate_dir: crate_dir.to_string(),
                files: group.iter().map(|&f| self.files[f].path.clone()).collect(),
                hops: self.shortest_circle(group),
            })
            .collect()
    }

    /// The number of elementary circles (distinct simple cycles), counting
    /// at most `cap` of them.
    pub fn elementary_circles(&self, cap: usize) -> usize {
        let successors = self.successors();
        let mut count = 0;
        // Each circle is counted once, from its lowest node.
        for start in 0..self.files.len() {
            let mut on_path = vec![false; self.files.len()];
            let mut stack = vec![(start, 0usize)];
            on_path[start] = true;
            while let Some((node, next)) = stack.last_mut() {
                let node = *node;
                match successors[node].get(*next) {
                    None => {
                        on_path[node] = false;
                        stack.pop();
                    }
                    Some(&to) => {
                        *next += 1;
                        if to == start {
                            count += 1;
                            if count >= cap {
                                return count;
                            }
                        } else if to > start && !on_path[to] {
                            on_path[to] = true;
                            stack.push((to, 0));
                        }
                    }
                }
            }
        }
        count
    }
}

struct Tarjan<'a> {
    successors: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    groups: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, node: usize) {
        self.index[node] = Some(self.next);
        self.low[node] = self.next;
        self.next += 1;
        self.stack.push(node);
        self.on_stack[node] = true;
        for &to in &self.successors[node] {
            match self.index[to] {
                None => {
                    self.visit(to);
                    self.low[node] = self.low[node].min(self.low[to]);
                }
                Some(i) if self.on_stack[to] => self.low[node] = self.low[node].min(i),
                Some(_) => {}
            }
        }
        if Some(self.low[node]) == self.index[node] {
            let mut group = Vec::new();
            while let Some(top) = self.stack.pop() {
                self.on_stack[top] = false;
                group.push(top);
                if top == node {
                    break;
                }
            }
            self.groups.push(group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(usize, usize)], n: usize) -> ModuleGraph {
        ModuleGraph {
            files: (0..n)
                .map(|i| FileNode {
                    path: format!("f{i}.rs"),
                    module: vec![format!("f{i}")],
                    root: 0,
                })
                .collect(),
            edges: edges.iter().map(|&e| (e, vec![e.0 + 1])).collect(),
        }
    }

    #[test]
    fn groups_and_shortest_circles() {
        // 0 -> 1 -> 2 -> 0 and 1 -> 0: one group, shortest circle 0 -> 1 -> 0.
        let g = graph(&[(0, 1), (1, 2), (2, 0), (1, 0), (2, 3)], 4);
        assert_eq!(g.circular_groups(), vec![vec![0, 1, 2]]);
        let hops = g.shortest_circle(&[0, 1, 2]);
        let names: Vec<(&str, &str)> = hops
            .iter()
            .map(|h| (h.from.as_str(), h.to.as_str()))
            .collect();
        assert_eq!(names, vec![("f0.rs", "f1.rs"), ("f1.rs", "f0.rs")]);
        assert_eq!(g.elementary_circles(100), 2);
        assert!(graph(&[(0, 1), (1, 2)], 3).circular_groups().is_empty());
        assert_eq!(graph(&[(0, 1), (1, 2)], 3).elementary_circles(100), 0);
    }
}
