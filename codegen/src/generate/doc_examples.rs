//! progenitor documents each operation's `Client` method with a usage example
//! marked `ignore` (its `client` and argument values are not defined, and it
//! awaits outside an async function), so none of them is compiled. This turns
//! each one into a compiled (`no_run`) example: hidden lines wrap it in an
//! async function whose parameters are `client` and the values it passes to
//! the builder's setters, typed as those setters take them. An example whose
//! setters cannot all be found is left as it was.

use std::collections::HashMap;

use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{ImplItem, Item};

use super::options::API_MODULE;
use super::postprocess::{first_path_argument, is_client_impl};

/// The opening fence of progenitor's examples, and the one written instead.
const IGNORED_FENCE: &str = "```ignore\n";
const COMPILED_FENCE: &str = "```no_run\n";

/// Rewrites the examples of the `Client` methods in `file`. `crate_ident` is
/// the generated crate's name as Rust code spells it (doc tests see the crate
/// from outside).
pub(crate) fn compile_examples(file: &mut syn::File, crate_ident: &str) {
    let setters = setter_types(file, crate_ident);
    for item in &mut file.items {
        let Item::Impl(block) = item else { continue };
        if !is_client_impl(block) {
            continue;
        }
        for item in &mut block.items {
            let ImplItem::Fn(f) = item else { continue };
            let Some(builder) = returned_builder(&f.sig.output) else {
                continue;
            };
            for attr in &mut f.attrs {
                let Some(doc) = doc_text(attr) else { continue };
                if let Some(new) = compiled(&doc, crate_ident, |setter| {
                    setters.get(&(builder.clone(), setter.to_string()))
                }) {
                    *attr = syn::parse_quote!(#[doc = #new]);
                }
            }
        }
    }
}

/// `doc` with its ignored example compiled, when every value it passes to a
/// setter has a type (`type_of(setter)`); `None` when there is nothing to do.
fn compiled<'a>(
    doc: &str,
    crate_ident: &str,
    type_of: impl Fn(&str) -> Option<&'a String>,
) -> Option<String> {
    let start = doc.find(IGNORED_FENCE)?;
    let code_start = start + IGNORED_FENCE.len();
    let code_len = doc[code_start..].find("\n```")?;
    let code = &doc[code_start..code_start + code_len];
    let mut params = vec![format!("client: &{crate_ident}::Client")];
    for line in code.lines() {
        let Some(call) = line.trim().strip_prefix('.') else {
            continue;
        };
        let Some((setter, rest)) = call.split_once('(') else {
            continue;
        };
        if setter == "send" {
            continue;
        }
        let value = rest.strip_suffix(')')?;
        params.push(format!("{value}: {}", type_of(setter)?));
    }
    Some(format!(
        "{}{COMPILED_FENCE}# async fn example({}) {{\n{code}\n# }}{}",
        &doc[..start],
        params.join(", "),
        &doc[code_start + code_len..],
    ))
}

/// For each builder and setter (`builder::GetApp`, `app_id`), the type the
/// setter converts its value into (`V: TryInto<T>`), with the paths into the
/// crate's `types` made absolute.
fn setter_types(file: &syn::File, crate_ident: &str) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    let builders = file.items.iter().find_map(|item| match item {
        Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    });
    for item in builders.into_iter().flatten() {
        let Item::Impl(block) = item else { continue };
        let Some(builder) = last_segment(&block.self_ty) else {
            continue;
        };
        for item in &block.items {
            let ImplItem::Fn(f) = item else { continue };
            if let Some(mut target) = conversion_target(&f.sig) {
                AbsoluteTypes(crate_ident).visit_type_mut(&mut target);
                out.insert(
                    (builder.clone(), f.sig.ident.to_string()),
                    target.to_token_stream().to_string(),
                );
            }
        }
    }
    out
}

/// `T` of a setter `fn x<V>(self, value: V) where V: TryInto<T>`.
fn conversion_target(sig: &syn::Signature) -> Option<syn::Type> {
    let clause = sig.generics.where_clause.as_ref()?;
    clause.predicates.iter().find_map(|p| {
        let syn::WherePredicate::Type(p) = p else {
            return None;
        };
        if !is_named(&p.bounded_ty, "V") {
            return None;
        }
        p.bounds.iter().find_map(|bound| {
            let syn::TypeParamBound::Trait(t) = bound else {
                return None;
            };
            first_path_argument(&t.path, "TryInto")
        })
    })
}

/// Makes the paths into the crate absolute, as a doc test outside the crate
/// needs them: `types::X` (relative to the builders) and `crate::api::X`
/// (the generated module, whose items the crate root re-exports) become
/// `::name::types::X` and `::name::X`.
struct AbsoluteTypes<'a>(&'a str);

impl VisitMut for AbsoluteTypes<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.leading_colon.is_none() {
            let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            match names.as_slice() {
                [first, ..] if first == "types" => self.root(path, 0),
                [first, second, ..] if first == "crate" && second == API_MODULE => {
                    self.root(path, 2)
                }
                _ => {}
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

impl AbsoluteTypes<'_> {
    /// `path` without its first `skip` segments, from the crate's root.
    fn root(&self, path: &mut syn::Path, skip: usize) {
        let rest: Vec<syn::PathSegment> = path.segments.iter().skip(skip).cloned().collect();
        let krate = syn::Ident::new(self.0, proc_macro2::Span::call_site());
        path.segments = std::iter::once(syn::PathSegment::from(krate))
            .chain(rest)
            .collect();
        path.leading_colon = Some(Default::default());
    }
}

/// The builder a `Client` method returns (`-> builder::GetApp<'_>`).
fn returned_builder(output: &syn::ReturnType) -> Option<String> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    last_segment(ty)
}

/// The last segment's name of a path type.
fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => Some(p.path.segments.last()?.ident.to_string()),
        _ => None,
    }
}

/// Whether `ty` is the plain path `name`.
fn is_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// The text of a `#[doc = "..."]` attribute.
fn doc_text(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    let syn::Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> syn::File {
        syn::parse_quote! {
            pub struct Client;
            impl Client {
                #[doc = "Get a user\n\nSends a `GET` request.\n\n```ignore\nlet response = client.get_user()\n    .app_id(app_id)\n    .body(body)\n    .error(error)\n    .send()\n    .await;\n```"]
                pub fn get_user(&self) -> builder::GetUser<'_> {
                    builder::GetUser::new(self)
                }
                #[doc = "Other\n\n```ignore\nlet response = client.other()\n    .unknown(unknown)\n    .send()\n    .await;\n```"]
                pub fn other(&self) -> builder::Other<'_> {
                    builder::Other::new(self)
                }
            }
            pub mod builder {
                impl<'a> GetUser<'a> {
                    pub fn app_id<V>(mut self, value: V) -> Self
                    where
                        V: std::convert::TryInto<::std::string::String>,
                    {
                        self
                    }
                    pub fn body<V>(mut self, value: V) -> Self
                    where
                        V: std::convert::TryInto<types::UpdateUser>,
                        <V as std::convert::TryInto<types::UpdateUser>>::Error: std::fmt::Display,
                    {
                        self
                    }
                    pub fn error<V>(mut self, value: V) -> Self
                    where
                        V: std::convert::TryInto<Option<crate::api::open_enums::Code>>,
                    {
                        self
                    }
                }
            }
        }
    }

    fn docs(file: &syn::File) -> Vec<String> {
        let Item::Impl(block) = &file.items[1] else {
            panic!("the Client impl")
        };
        block
            .items
            .iter()
            .filter_map(|item| match item {
                ImplItem::Fn(f) => f.attrs.iter().find_map(doc_text),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_example_gets_a_hidden_async_fn_with_the_setters_types() {
        let mut file = file();
        compile_examples(&mut file, "x_api");
        let docs = docs(&file);
        assert_eq!(
            docs[0],
            "Get a user\n\nSends a `GET` request.\n\n```no_run\n\
             # async fn example(client: &x_api::Client, app_id: :: std :: string :: String, body: :: x_api :: types :: UpdateUser, \
             error: Option < :: x_api :: open_enums :: Code >) {\n\
             let response = client.get_user()\n    .app_id(app_id)\n    .body(body)\n    .error(error)\n    .send()\n    .await;\n# }\n```"
        );
    }

    #[test]
    fn an_example_with_a_setter_not_found_stays_ignored() {
        let mut file = file();
        compile_examples(&mut file, "x_api");
        let docs = docs(&file);
        assert!(docs[1].contains("```ignore\n"), "{}", docs[1]);
        assert!(!docs[1].contains("# async fn"), "{}", docs[1]);
    }
}
