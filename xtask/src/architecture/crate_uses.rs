//! Where a crate's source names another crate: the first segment of every
//! `use` tree and path (also in macro tokens) and every `extern crate`.

use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::violation::Violation;

/// A crate name written at a line of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrateUse {
    /// The file, relative to the workspace root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The name as written (`passage_auth_client`).
    pub name: String,
}

/// The names written in every `.rs` file under `dir` (relative to
/// `workspace`), skipping `target/`, hidden directories and directories of
/// other crates (with a `Cargo.toml` of their own).
pub fn crate_uses(workspace: &Path, dir: &str) -> (Vec<CrateUse>, Vec<Violation>) {
    let mut files = Vec::new();
    collect_files(workspace, dir, true, &mut files);
    files.sort();
    let mut uses = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(workspace.join(&file)) {
            Ok(text) => text,
            Err(e) => {
                problems.push(Violation::Unreadable {
                    file,
                    message: e.to_string(),
                });
                continue;
            }
        };
        match syn::parse_file(&text) {
            Ok(syntax) => {
                let mut names = Names {
                    file: &file,
                    out: &mut uses,
                };
                names.visit_file(&syntax);
            }
            Err(e) => problems.push(Violation::Unreadable {
                message: format!("line {}: {e}", e.span().start().line),
                file,
            }),
        }
    }
    (uses, problems)
}

fn collect_files(workspace: &Path, dir: &str, top: bool, out: &mut Vec<String>) {
    let full = workspace.join(dir);
    if !top && full.join("Cargo.toml").is_file() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(&full) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let rel = format!("{dir}/{name}");
        let path = entry.path();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_files(workspace, &rel, false, out);
            }
        } else if name.ends_with(".rs") {
            out.push(rel);
        }
    }
}

struct Names<'a> {
    file: &'a str,
    out: &'a mut Vec<CrateUse>,
}

impl Names<'_> {
    fn push(&mut self, ident: &proc_macro2::Ident) {
        self.out.push(CrateUse {
            file: self.file.to_string(),
            line: ident.span().start().line,
            name: ident.to_string(),
        });
    }

    fn scan(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.scan(group.stream()),
                TokenTree::Ident(ident) => {
                    if let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) =
                        (trees.get(i + 1), trees.get(i + 2))
                    {
                        if a.as_char() == ':' && b.as_char() == ':' {
                            self.push(ident);
                        }
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        self.push(&item.ident);
    }

    fn visit_use_tree(&mut self, tree: &'ast syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => self.push(&p.ident),
            syn::UseTree::Name(n) => self.push(&n.ident),
            syn::UseTree::Rename(r) => self.push(&r.ident),
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.visit_use_tree(tree);
                }
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if let Some(first) = path.segments.first() {
            self.push(&first.ident);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.scan(mac.tokens.clone());
    }
}
