//! A crate's modules as the compiler would find them: from each root
//! (`lib.rs`, `main.rs`, binaries) through `mod x;` declarations to files, and
//! inline `mod x { ... }` blocks inside files. For each module: its children,
//! the names of the items it defines and its `use` imports, so that a path can
//! be resolved to the module (and so the file) that defines what it names.
//!
//! Items under `#[cfg(test)]` are left out: tests are not part of the
//! dependency graph of the code they test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Attribute, Item, Meta, Token, UseTree};

use super::violation::Violation;

/// Index of a module in [`ModuleTree::modules`].
pub type ModuleId = usize;

/// One source file of the crate.
pub struct SourceFile {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    /// The module the file is.
    pub module: ModuleId,
    /// The parsed file.
    pub syntax: syn::File,
}

/// One module: a file or an inline `mod` block.
#[derive(Debug)]
pub struct Module {
    /// The module path inside its crate root (`["lint", "types"]`; empty for a root).
    pub path: Vec<String>,
    /// The enclosing module (`None` for a crate root).
    pub parent: Option<ModuleId>,
    /// The root of the target (library or binary) the module belongs to.
    pub root: ModuleId,
    /// Index of its file in [`ModuleTree::files`].
    pub file: usize,
    /// Child modules by name.
    pub children: BTreeMap<String, ModuleId>,
    /// Names of the other items it defines.
    pub items: BTreeSet<String>,
    /// Its `use` imports (also those written inside function bodies).
    pub imports: Vec<Import>,
}

/// One leaf of a `use` tree: `use a::b::{c as d, e::*}` has two.
#[derive(Clone, Debug)]
pub struct Import {
    /// The path as written (`["a", "b", "c"]`); for a glob, the path before `*`.
    pub path: Vec<String>,
    /// The name it brings into scope (`d`); `None` for a glob or `as _`.
    pub name: Option<String>,
    /// `use a::*`.
    pub glob: bool,
    /// `pub use` (of any visibility but private): a re-export.
    pub reexport: bool,
    /// 1-based line of the leaf.
    pub line: usize,
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A module itself.
    Module(ModuleId),
    /// An item defined in (or generated into) a module.
    Item(ModuleId),
}

/// Every module and file of one crate.
#[derive(Default)]
pub struct ModuleTree {
    /// All modules, roots first in the order of their targets.
    pub modules: Vec<Module>,
    /// All files, in the order they were found.
    pub files: Vec<SourceFile>,
}

impl ModuleTree {
    /// Reads the modules reachable from `roots` (paths relative to `workspace`).
    pub fn read(workspace: &Path, roots: &[String]) -> (Self, Vec<Violation>) {
        let mut tree = ModuleTree::default();
        let mut problems = Vec::new();
        for root in roots {
            let dir = Path::new(root)
                .parent()
                .unwrap_or(Path::new(""))
                .to_path_buf();
            tree.read_file(workspace, root, Vec::new(), None, dir, &mut problems);
        }
        (tree, problems)
    }

    fn read_file(
        &mut self,
        workspace: &Path,
        rel: &str,
        path: Vec<String>,
        parent: Option<ModuleId>,
        child_dir: PathBuf,
        problems: &mut Vec<Violation>,
    ) -> Option<ModuleId> {
        let text = match std::fs::read_to_string(workspace.join(rel)) {
            Ok(text) => text,
            Err(e) => {
                problems.push(Violation::Unreadable {
                    file: rel.to_string(),
                    message: e.to_string(),
                });
                return None;
            }
        };
        let syntax = match syn::parse_file(&text) {
            Ok(syntax) => syntax,
            Err(e) => {
                let line = e.span().start().line;
                problems.push(Violation::Unreadable {
                    file: rel.to_string(),
                    message: format!("line {line}: {e}"),
                });
                return None;
            }
        };
        let id = self.modules.len();
        let file = self.files.len();
        self.modules.push(Module {
            path,
            parent,
            root: parent.map_or(id, |p| self.modules[p].root),
            file,
            children: BTreeMap::new(),
            items: BTreeSet::new(),
            imports: Vec::new(),
        });
        let items = syntax.items.clone();
        self.files.push(SourceFile {
            path: rel.to_string(),
            module: id,
            syntax,
        });
        self.read_items(workspace, id, &items, &child_dir, problems);
        Some(id)
    }

    fn read_items(
        &mut self,
        workspace: &Path,
        module: ModuleId,
        items: &[Item],
        child_dir: &Path,
        problems: &mut Vec<Violation>,
    ) {
        for item in items {
            if is_test_only(item_attrs(item)) {
                continue;
            }
            match item {
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let mut path = self.modules[module].path.clone();
                    path.push(name.clone());
                    let child = if let Some((_, inner)) = &m.content {
                        let id = self.modules.len();
                        self.modules.push(Module {
                            path,
                            parent: Some(module),
                            root: self.modules[module].root,
                            file: self.modules[module].file,
                            children: BTreeMap::new(),
                            items: BTreeSet::new(),
                            imports: Vec::new(),
                        });
                        self.read_items(workspace, id, inner, &child_dir.join(&name), problems);
                        Some(id)
                    } else {
                        let here = Path::new(&self.files[self.modules[module].file].path)
                            .parent()
                            .unwrap_or(Path::new(""))
                            .to_path_buf();
                        let explicit = path_attr(&m.attrs).map(|p| here.join(p));
                        let candidates = match explicit {
                            Some(p) => vec![p],
                            None => vec![
                                child_dir.join(format!("{name}.rs")),
                                child_dir.join(&name).join("mod.rs"),
                            ],
                        };
                        match candidates.iter().find(|c| workspace.join(c).is_file()) {
                            Some(found) => {
                                let rel = slash(found);
                                let grand_dir = if found.file_name().is_some_and(|f| f == "mod.rs")
                                {
                                    found.parent().unwrap_or(Path::new("")).to_path_buf()
                                } else {
                                    found.with_extension("")
                                };
                                self.read_file(
                                    workspace,
                                    &rel,
                                    path,
                                    Some(module),
                                    grand_dir,
                                    problems,
                                )
                            }
                            None => {
                                problems.push(Violation::MissingModuleFile {
                                    file: self.files[self.modules[module].file].path.clone(),
                                    line: m.ident.span().start().line,
                                    module: name.clone(),
                                });
                                None
                            }
                        }
                    };
                    if let Some(child) = child {
                        self.modules[module].children.insert(name, child);
                    }
                }
                Item::Use(u) => {
                    let reexport = !matches!(u.vis, syn::Visibility::Inherited);
                    let mut leaves = Vec::new();
                    flatten_use(&u.tree, &mut Vec::new(), reexport, &mut leaves);
                    self.modules[module].imports.extend(leaves);
                }
                other => {
                    if let Some(name) = item_name(other) {
                        self.modules[module].items.insert(name);
                    }
                    // `use` inside function bodies imports into that body only;
                    // it is counted as an import of the module.
                    let mut uses = BodyUses::default();
                    uses.visit_item(other);
                    self.modules[module].imports.extend(uses.imports);
                }
            }
        }
    }

    /// The module `super` names from `module` (`None` above a root).
    fn parent(&self, module: ModuleId) -> Option<ModuleId> {
        self.modules[module].parent
    }

    /// Resolves a path written in `scope` (`crate::a::B`, `super::x`, `a::b`
    /// with `a` in scope). `None` when it leads outside the crate (another
    /// crate, the prelude, a local variable) or cannot be followed.
    pub fn resolve(&self, scope: ModuleId, segments: &[String]) -> Option<Place> {
        self.resolve_path(scope, segments, 0)
    }

    fn resolve_path(&self, scope: ModuleId, segments: &[String], depth: usize) -> Option<Place> {
        if depth > 32 {
            return None;
        }
        let (first, rest) = segments.split_first()?;
        let mut place = match first.as_str() {
            "crate" => Place::Module(self.modules[scope].root),
            "self" => Place::Module(scope),
            "super" => Place::Module(self.parent(scope)?),
            "Self" | "" => return None,
            name => self.resolve_name(scope, name, depth + 1)?,
        };
        for segment in rest {
            let Place::Module(module) = place else {
                break; // an associated item or a variant of the item
            };
            place = match segment.as_str() {
                "super" => Place::Module(self.parent(module)?),
                "self" => Place::Module(module),
                // A name the module does not show (made by a macro, say) is still its item.
                name => self
                    .resolve_name(module, name, depth + 1)
                    .unwrap_or(Place::Item(module)),
            };
        }
        Some(place)
    }

    /// What `name` means inside `module`: a child, an item, an import or a
    /// name one of its glob imports brings.
    fn resolve_name(&self, module: ModuleId, name: &str, depth: usize) -> Option<Place> {
        if depth > 32 {
            return None;
        }
        let m = &self.modules[module];
        if let Some(&child) = m.children.get(name) {
            return Some(Place::Module(child));
        }
        if m.items.contains(name) {
            return Some(Place::Item(module));
        }
        for import in &m.imports {
            if !import.glob && import.name.as_deref() == Some(name) {
                return self.resolve_path(module, &import.path, depth + 1);
            }
        }
        for import in m.imports.iter().filter(|i| i.glob) {
            if let Some(Place::Module(source)) = self.resolve_path(module, &import.path, depth + 1)
            {
                if source != module {
                    if let Some(found) = self.resolve_name(source, name, depth + 1) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// True when `inner` is `outer` or a module inside it.
    pub fn is_within(&self, inner: ModuleId, outer: ModuleId) -> bool {
        let mut at = Some(inner);
        while let Some(m) = at {
            if m == outer {
                return true;
            }
            at = self.modules[m].parent;
        }
        false
    }
}

fn slash(path: &Path) -> String {
    path.components()
        .filter_map(|c| c.as_os_str().to_str())
        .filter(|c| *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// `#[path = "..."]` of a module declaration.
fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// The attributes of an item.
pub fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Fn(i) => &i.sig.ident,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::TraitAlias(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// True for `#[cfg(test)]` and any `cfg` that holds only when testing
/// (`all(test, ...)`, `any(test, test)`).
pub fn is_test_only(attrs: &[Attribute]) -> bool {
    fn requires_test(meta: &Meta) -> bool {
        match meta {
            Meta::Path(p) => p.is_ident("test"),
            Meta::List(list) => {
                let inner = list
                    .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .unwrap_or_default();
                if list.path.is_ident("all") {
                    inner.iter().any(requires_test)
                } else if list.path.is_ident("any") {
                    !inner.is_empty() && inner.iter().all(requires_test)
                } else {
                    false
                }
            }
            Meta::NameValue(_) => false,
        }
    }
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .any(|a| a.parse_args::<Meta>().is_ok_and(|m| requires_test(&m)))
}

/// The leaves of a `use` tree, each with its full path.
pub fn flatten_use(
    tree: &UseTree,
    prefix: &mut Vec<String>,
    reexport: bool,
    out: &mut Vec<Import>,
) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, reexport, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            let (path, name) = if name == "self" {
                (prefix.clone(), prefix.last().cloned())
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                (path, Some(name))
            };
            out.push(Import {
                path,
                name,
                glob: false,
                reexport,
                line: n.ident.span().start().line,
            });
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            let alias = r.rename.to_string();
            out.push(Import {
                path,
                name: (alias != "_").then_some(alias),
                glob: false,
                reexport,
                line: r.ident.span().start().line,
            });
        }
        UseTree::Glob(g) => out.push(Import {
            path: prefix.clone(),
            name: None,
            glob: true,
            reexport,
            line: g.star_token.span.start().line,
        }),
        UseTree::Group(g) => {
            for tree in &g.items {
                flatten_use(tree, prefix, reexport, out);
            }
        }
    }
}

/// The `use` items inside an item's function bodies (not inside nested modules).
#[derive(Default)]
struct BodyUses {
    imports: Vec<Import>,
}

impl<'ast> Visit<'ast> for BodyUses {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !is_test_only(&u.attrs) {
            flatten_use(&u.tree, &mut Vec::new(), false, &mut self.imports);
        }
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}
}
