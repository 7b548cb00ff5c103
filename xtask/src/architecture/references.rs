//! The references of every file to items of other modules: `use` leaves,
//! paths in code (`crate::a::f()`, `super::T`, `a::B` with `a` in scope) and
//! paths inside macro calls.
//!
//! What counts:
//! - a path that names an *item* counts as a reference to the module that
//!   defines it, followed through imports and re-exports; a path that only
//!   names a module (`use crate::lint;`) counts through the paths that use it;
//! - a `pub use` of an item of the module's own descendants (a facade:
//!   `pub use child::X` in `mod.rs` or `lib.rs`) does not count;
//! - items under `#[cfg(test)]` do not count;
//! - inside `quote!`, `quote_spanned!`, `parse_quote!`, `parse_quote_spanned!`
//!   and `format_ident!` nothing counts (those tokens are code for another
//!   crate); in other macro calls every `a::b` path of the tokens counts.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::module_tree::{flatten_use, is_test_only, item_attrs, ModuleId, ModuleTree, Place};

/// `from_file`'s line `line` names an item of module `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Index of the file in [`ModuleTree::files`].
    pub from_file: usize,
    /// 1-based line.
    pub line: usize,
    /// The module of the named item.
    pub to: ModuleId,
}

/// Macros whose tokens are code generated for another crate.
const GENERATING_MACROS: [&str; 5] = [
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
    "format_ident",
];

/// Every reference of every file of the tree.
pub fn references(tree: &ModuleTree) -> Vec<Reference> {
    let mut out = Vec::new();
    for (index, file) in tree.files.iter().enumerate() {
        let mut collector = Collector {
            tree,
            file: index,
            scope: file.module,
            out: &mut out,
        };
        for item in &file.syntax.items {
            collector.visit_item(item);
        }
    }
    out
}

struct Collector<'t, 'o> {
    tree: &'t ModuleTree,
    file: usize,
    scope: ModuleId,
    out: &'o mut Vec<Reference>,
}

impl Collector<'_, '_> {
    fn record(&mut self, segments: &[String], line: usize) {
        if let Some(Place::Item(to)) = self.tree.resolve(self.scope, segments) {
            self.out.push(Reference {
                from_file: self.file,
                line,
                to,
            });
        }
    }

    /// Finds `a::b::c` paths in macro tokens.
    fn scan(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let separator = |j: usize| {
            matches!(
                (trees.get(j), trees.get(j + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
            )
        };
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => {
                    self.scan(group.stream());
                    i += 1;
                }
                TokenTree::Ident(first) if separator(i + 1) && !(i >= 2 && separator(i - 2)) => {
                    let line = first.span().start().line;
                    let mut segments = vec![first.to_string()];
                    let mut j = i + 1;
                    while separator(j) {
                        let Some(TokenTree::Ident(next)) = trees.get(j + 2) else {
                            break;
                        };
                        segments.push(next.to_string());
                        j += 3;
                    }
                    self.record(&segments, line);
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_, '_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let Some((_, items)) = &m.content else {
            return; // a file of its own, visited by itself
        };
        let Some(&child) = self.tree.modules[self.scope]
            .children
            .get(&m.ident.to_string())
        else {
            return;
        };
        let outer = std::mem::replace(&mut self.scope, child);
        for item in items {
            self.visit_item(item);
        }
        self.scope = outer;
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let reexport = !matches!(u.vis, syn::Visibility::Inherited);
        let mut leaves = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), reexport, &mut leaves);
        for leaf in leaves {
            let to = match self.tree.resolve(self.scope, &leaf.path) {
                Some(Place::Item(m)) => m,
                Some(Place::Module(m)) if leaf.glob => m,
                _ => continue,
            };
            if leaf.reexport && self.tree.is_within(to, self.scope) {
                continue; // a facade over the module's own children
            }
            self.out.push(Reference {
                from_file: self.file,
                line: leaf.line,
                to,
            });
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.record(&segments, line);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        let generating = mac
            .path
            .segments
            .last()
            .is_some_and(|s| GENERATING_MACROS.contains(&s.ident.to_string().as_str()));
        if !generating {
            self.scan(mac.tokens.clone());
        }
    }
}
