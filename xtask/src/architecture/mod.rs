//! The architecture check: the rules of [`rules::RULES`] applied to the
//! workspace's source and manifests, with `syn` (no external tool).
//!
//! - **Module graph** per crate: the crate's files are the nodes; A -> B when
//!   A names an item of B (`use crate::b::X`, `crate::b::f()` or `super::X`
//!   anywhere in code, a name brought in by `use`), followed through
//!   re-exports to the file that defines the item. A `pub use` of the
//!   module's own descendants (a facade such as `pub use child::X` in
//!   `mod.rs`) is not an edge; `#[cfg(test)]` code is not part of the graph
//!   (see `references.rs` for the details). A crate of the table has no circle.
//! - **Layers**: a top-level module imports only modules of earlier layers.
//! - **Independent directories**: modules under one directory never import
//!   each other.
//! - **Crate dependencies**: from every manifest table (and through other
//!   workspace crates) and from crate names written in the source.
//!
//! `cargo xtask architecture` runs it; `xtask/tests/architecture.rs` runs it
//! as a test and shows that each check fails on a planted violation.

mod check;
mod crate_uses;
pub mod graph;
mod module_tree;
mod references;
pub mod rules;
mod violation;
pub mod workspace;

use std::fmt;
use std::path::Path;

pub use check::check;
pub use graph::ModuleGraph;
pub use rules::{CrateRules, RULES};
pub use violation::{Hop, Violation};
pub use workspace::Workspace;

/// The size and circles of one crate's module graph.
#[derive(Debug)]
pub struct Measurement {
    /// The crate's directory.
    pub dir: String,
    /// The graph.
    pub graph: ModuleGraph,
    /// One [`Violation::Circle`] per strongly connected group of files.
    pub circles: Vec<Violation>,
    /// How many elementary circles the graph holds (counted up to [`Measurement::CAP`]).
    pub elementary: usize,
}

impl Measurement {
    /// The most elementary circles counted.
    pub const CAP: usize = 100_000;
}

/// Measures the module graph of the workspace crate at `dir` (any crate, in
/// the rules table or not).
pub fn measure(root: &Path, dir: &str) -> Result<Measurement, Vec<Violation>> {
    let (workspace, mut problems) = Workspace::read(root);
    let Some(krate) = workspace.crate_at(dir) else {
        problems.push(Violation::MissingCrate {
            dir: dir.to_string(),
            rule: "`--graph`".into(),
        });
        return Err(problems);
    };
    let (graph, read_problems) = ModuleGraph::read(root, &krate.roots);
    problems.extend(read_problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Measurement {
        dir: dir.to_string(),
        circles: graph.circles(dir),
        elementary: graph.elementary_circles(Measurement::CAP),
        graph,
    })
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cap = if self.elementary >= Self::CAP {
            "+"
        } else {
            ""
        };
        write!(
            f,
            "{}: {} files, {} imports between them, {} circular group(s), {}{cap} elementary circle(s)",
            self.dir,
            self.graph.files.len(),
            self.graph.edges.len(),
            self.circles.len(),
            self.elementary
        )?;
        for circle in &self.circles {
            write!(f, "\n  {circle}")?;
        }
        Ok(())
    }
}
