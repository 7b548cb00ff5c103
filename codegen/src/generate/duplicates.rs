//! A last check of the generated code: an item defined twice would not
//! compile, so it is reported (and located by the caller) instead.

use std::collections::{BTreeMap, BTreeSet};

/// An item the generated code defines twice, which would not compile: two
/// items of one namespace in a module, two fields of a struct, two variants of
/// an enum, two associated items of a type's inherent impls.
pub(crate) fn duplicate_item(file: &syn::File) -> Option<String> {
    duplicate_in(&file.items, "crate")
}

fn duplicate_in(items: &[syn::Item], module: &str) -> Option<String> {
    use syn::Item;
    let mut types = BTreeSet::new();
    let mut values = BTreeSet::new();
    let mut associated: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let twice = |what: &str, name: &dyn std::fmt::Display| {
        Some(format!(
            "the generated code defines {what} `{name}` twice in `{module}`"
        ))
    };
    for item in items {
        let (type_name, value_name) = match item {
            Item::Struct(s) => {
                let mut fields = BTreeSet::new();
                for field in &s.fields {
                    if let Some(ident) = &field.ident {
                        if !fields.insert(ident.to_string()) {
                            return twice(&format!("the field `{}` of", ident), &s.ident);
                        }
                    }
                }
                let unit_or_tuple = !matches!(s.fields, syn::Fields::Named(_));
                (
                    Some(s.ident.to_string()),
                    unit_or_tuple.then(|| s.ident.to_string()),
                )
            }
            Item::Enum(e) => {
                let mut variants = BTreeSet::new();
                for v in &e.variants {
                    if !variants.insert(v.ident.to_string()) {
                        return twice(&format!("the variant `{}` of", v.ident), &e.ident);
                    }
                }
                (Some(e.ident.to_string()), None)
            }
            Item::Type(t) => (Some(t.ident.to_string()), None),
            Item::Trait(t) => (Some(t.ident.to_string()), None),
            Item::Union(u) => (Some(u.ident.to_string()), None),
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    let path = format!("{module}::{}", m.ident);
                    if let Some(found) = duplicate_in(inner, &path) {
                        return Some(found);
                    }
                }
                (Some(m.ident.to_string()), None)
            }
            Item::Fn(f) => (None, Some(f.sig.ident.to_string())),
            Item::Const(c) => (None, Some(c.ident.to_string())),
            Item::Static(s) => (None, Some(s.ident.to_string())),
            Item::Impl(i) if i.trait_.is_none() => {
                let self_ty = quote::ToTokens::to_token_stream(&i.self_ty).to_string();
                let names = associated.entry(self_ty.clone()).or_default();
                for member in &i.items {
                    let name = match member {
                        syn::ImplItem::Fn(f) => f.sig.ident.to_string(),
                        syn::ImplItem::Const(c) => c.ident.to_string(),
                        _ => continue,
                    };
                    if !names.insert(name.clone()) {
                        return twice(&format!("`{name}` of"), &self_ty);
                    }
                }
                (None, None)
            }
            _ => (None, None),
        };
        if let Some(name) = type_name {
            if !types.insert(name.clone()) {
                return twice("the type", &name);
            }
        }
        if let Some(name) = value_name {
            if !values.insert(name.clone()) {
                return twice("the value", &name);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_in_generated_code_are_found() {
        let file: syn::File = syn::parse_quote! {
            pub mod types {
                pub enum Status { Active, Inactive }
                pub struct User { pub id: String }
                impl User { pub fn id(&self) {} }
                impl User { pub fn name(&self) {} }
            }
        };
        assert_eq!(duplicate_item(&file), None);
        let file: syn::File = syn::parse_quote! {
            pub mod types { pub enum Status { Active, Active } }
        };
        assert_eq!(
            duplicate_item(&file).unwrap(),
            "the generated code defines the variant `Active` of `Status` twice in `crate::types`"
        );
        let file: syn::File = syn::parse_quote! {
            pub struct A { x: u8, x: u8 }
        };
        assert!(duplicate_item(&file)
            .unwrap()
            .contains("the field `x` of `A`"));
        let file: syn::File = syn::parse_quote! {
            pub struct A; pub enum A {}
        };
        assert!(duplicate_item(&file).unwrap().contains("the type `A`"));
        let file: syn::File = syn::parse_quote! {
            impl A { fn f() {} } impl A { fn f() {} }
        };
        assert!(duplicate_item(&file).unwrap().contains("`f` of `A`"));
    }
}
