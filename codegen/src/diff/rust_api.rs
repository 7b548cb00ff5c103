//! The effect of a spec change on the generated Rust: parses both generated
//! modules with `syn` and compares their public items (types, fields, enum
//! variants, methods, constants), so a reviewer sees the API change without
//! reading the generated code.

use std::collections::BTreeMap;

use quote::ToTokens;
use serde::Serialize;
use syn::{ImplItem, Item, Visibility};

/// Modules that only mirror other items (the per-type builders repeat the
/// fields of `types`) or hold progenitor internals.
const SKIPPED_MODULES: [&str; 4] = [
    "types::builder",
    "types::defaults",
    "types::error",
    "prelude",
];

/// One public item of the generated module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiItem {
    /// Its path inside the generated module, e.g. `types::User.email` or `Client::get_app`.
    pub path: String,
    /// `struct`, `field`, `enum`, `variant`, `method`, `fn`, `const`, `static`, `type`, `trait`.
    pub kind: &'static str,
    /// Its signature or type, normalised (`Option<String>` rather than `::std::option::Option<...>`).
    pub signature: String,
}

/// One item whose signature changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangedItem {
    /// The item's path.
    pub path: String,
    /// The item's kind.
    pub kind: &'static str,
    /// The old signature.
    pub old: String,
    /// The new signature.
    pub new: String,
}

/// Public items added, removed and changed between two generated modules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RustApiDiff {
    /// Items only the new code has.
    pub added: Vec<ApiItem>,
    /// Items only the old code has.
    pub removed: Vec<ApiItem>,
    /// Items in both whose signature differs.
    pub changed: Vec<ChangedItem>,
}

impl RustApiDiff {
    /// True when the public API is the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares the public items of two generated modules.
pub fn diff_api(old_code: &str, new_code: &str) -> Result<RustApiDiff, syn::Error> {
    let old = public_items(old_code)?;
    let new = public_items(new_code)?;
    let mut diff = RustApiDiff::default();
    for (path, item) in &old {
        match new.get(path) {
            None => diff.removed.push(item.clone()),
            Some(now) if now.signature != item.signature || now.kind != item.kind => {
                diff.changed.push(ChangedItem {
                    path: path.clone(),
                    kind: now.kind,
                    old: item.signature.clone(),
                    new: now.signature.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (path, item) in &new {
        if !old.contains_key(path) {
            diff.added.push(item.clone());
        }
    }
    Ok(diff)
}

/// Every public item of a generated module, keyed by path.
pub fn public_items(code: &str) -> Result<BTreeMap<String, ApiItem>, syn::Error> {
    let file = syn::parse_file(code)?;
    let mut out = BTreeMap::new();
    collect(&file.items, "", &mut out);
    Ok(out)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}::{name}")
    }
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn hidden(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("doc") && a.to_token_stream().to_string().contains("hidden"))
}

fn collect(items: &[Item], prefix: &str, out: &mut BTreeMap<String, ApiItem>) {
    let mut put = |path: String, kind: &'static str, signature: String| {
        out.insert(
            path.clone(),
            ApiItem {
                path,
                kind,
                signature,
            },
        );
    };
    let mut impls = Vec::new();
    let mut modules = Vec::new();
    for item in items {
        match item {
            Item::Mod(m) if is_pub(&m.vis) && !hidden(&m.attrs) => {
                let path = join(prefix, &m.ident.to_string());
                if SKIPPED_MODULES.contains(&path.as_str()) {
                    continue;
                }
                if let Some((_, inner)) = &m.content {
                    modules.push((path, inner));
                }
            }
            Item::Struct(s) if is_pub(&s.vis) && !hidden(&s.attrs) => {
                let path = join(prefix, &s.ident.to_string());
                let generics = tokens(&s.generics);
                put(
                    path.clone(),
                    "struct",
                    normalise(&format!("struct {}{generics}", s.ident)),
                );
                for (i, field) in s.fields.iter().enumerate() {
                    if !is_pub(&field.vis) {
                        continue;
                    }
                    let name = field
                        .ident
                        .as_ref()
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| i.to_string());
                    put(format!("{path}.{name}"), "field", type_text(&field.ty));
                }
            }
            Item::Enum(e) if is_pub(&e.vis) && !hidden(&e.attrs) => {
                let path = join(prefix, &e.ident.to_string());
                put(
                    path.clone(),
                    "enum",
                    normalise(&format!("enum {}{}", e.ident, tokens(&e.generics))),
                );
                for v in &e.variants {
                    let mut variant = v.clone();
                    variant.attrs.clear();
                    for f in variant.fields.iter_mut() {
                        f.attrs.clear();
                    }
                    put(
                        format!("{path}::{}", v.ident),
                        "variant",
                        normalise(&tokens(&variant)),
                    );
                }
            }
            Item::Type(t) if is_pub(&t.vis) && !hidden(&t.attrs) => {
                put(
                    join(prefix, &t.ident.to_string()),
                    "type",
                    format!("type {} = {}", t.ident, type_text(&t.ty)),
                );
            }
            Item::Const(c) if is_pub(&c.vis) && !hidden(&c.attrs) => {
                put(
                    join(prefix, &c.ident.to_string()),
                    "const",
                    format!("const {}: {}", c.ident, type_text(&c.ty)),
                );
            }
            Item::Static(s) if is_pub(&s.vis) && !hidden(&s.attrs) => {
                put(
                    join(prefix, &s.ident.to_string()),
                    "static",
                    format!("static {}: {}", s.ident, type_text(&s.ty)),
                );
            }
            Item::Fn(f) if is_pub(&f.vis) && !hidden(&f.attrs) => {
                put(
                    join(prefix, &f.sig.ident.to_string()),
                    "fn",
                    signature_text(&f.sig),
                );
            }
            Item::Trait(t) if is_pub(&t.vis) && !hidden(&t.attrs) => {
                put(
                    join(prefix, &t.ident.to_string()),
                    "trait",
                    normalise(&format!("trait {}{}", t.ident, tokens(&t.generics))),
                );
            }
            Item::Impl(i) if i.trait_.is_none() => impls.push(i),
            _ => {}
        }
    }
    for i in impls {
        let self_ty = match &*i.self_ty {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            other => tokens(other),
        };
        let owner = join(prefix, &self_ty);
        for item in &i.items {
            if let ImplItem::Fn(f) = item {
                if is_pub(&f.vis) && !hidden(&f.attrs) {
                    put(
                        format!("{owner}::{}", f.sig.ident),
                        "method",
                        signature_text(&f.sig),
                    );
                }
            }
        }
    }
    for (path, inner) in modules {
        collect(inner, &path, out);
    }
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

/// A type as prettyplease prints it, without the long standard paths.
fn type_text(ty: &syn::Type) -> String {
    let item: Item = syn::parse_quote!(type __T = #ty;);
    let text = pretty(item);
    let text = text
        .trim()
        .trim_start_matches("type __T =")
        .trim_end_matches(';')
        .trim()
        .to_string();
    normalise(&text)
}

/// A function signature as prettyplease prints it, on one line.
fn signature_text(sig: &syn::Signature) -> String {
    let item: Item = syn::parse_quote!(#sig {});
    let text = pretty(item);
    let text = text.trim().trim_end_matches("{}").trim().to_string();
    normalise(&text)
}

fn pretty(item: Item) -> String {
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![item],
    })
}

/// One line, without `::std::...::` and `crate::generated::` prefixes.
fn normalise(text: &str) -> String {
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for long in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::collections::",
        "::std::",
        "crate::generated::",
    ] {
        out = out.replace(long, "");
    }
    out = out
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" <", "<");
    out.trim_end_matches(',').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"
        pub mod types {
            pub struct User { pub id: ::std::string::String, pub email: ::std::string::String, secret: u8 }
            pub mod builder { pub struct User { id: u8 } }
            impl User { pub fn builder() -> builder::User { todo!() } fn private(&self) {} }
        }
        pub mod open_enums { pub enum Color { Red, Green, Unknown(::std::string::String) } }
        pub struct Client;
        impl Client { pub fn get_user(&self) -> u8 { 0 } pub fn gone(&self) {} }
        impl Clone for Client { fn clone(&self) -> Self { Client } }
        pub const SPEC_VERSION: &str = "1.0.0";
    "#;

    const NEW: &str = r#"
        pub mod types {
            pub struct User { pub id: ::std::string::String, pub email: ::std::option::Option<::std::string::String>, pub name: ::std::string::String }
            pub mod builder { pub struct User { id: u8, name: u8 } }
            impl User { pub fn builder() -> builder::User { todo!() } }
        }
        pub mod open_enums { pub enum Color { Red, Blue, Unknown(::std::string::String) } }
        pub struct Client;
        impl Client { pub fn get_user(&self) -> u8 { 0 } pub fn added(&self, id: &str) -> u8 { 0 } }
        pub const SPEC_VERSION: &str = "2.0.0";
    "#;

    #[test]
    fn lists_public_items_added_removed_and_changed() {
        let diff = diff_api(OLD, NEW).unwrap();
        let added: Vec<_> = diff.added.iter().map(|i| i.path.as_str()).collect();
        let removed: Vec<_> = diff.removed.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            added,
            [
                "Client::added",
                "open_enums::Color::Blue",
                "types::User.name"
            ]
        );
        assert_eq!(removed, ["Client::gone", "open_enums::Color::Green"]);
        assert_eq!(diff.changed.len(), 1, "{:?}", diff.changed);
        assert_eq!(diff.changed[0].path, "types::User.email");
        assert_eq!(diff.changed[0].old, "String");
        assert_eq!(diff.changed[0].new, "Option<String>");
        let added_method = &diff.added[0];
        assert_eq!(added_method.signature, "fn added(&self, id: &str) -> u8");
    }

    #[test]
    fn identical_code_has_no_api_change() {
        assert!(diff_api(OLD, OLD).unwrap().is_empty());
    }
}
