//! Types generated from component schemas in place of the ones typify would
//! write: an *open* enum for every string enum (a value a newer server sends
//! decodes as `Unknown`), and the runtime's redacting `SecretValue` for every
//! `format: password` string.

use proc_macro2::TokenStream;
use progenitor::TypeImpl;
use quote::{format_ident, quote};
use serde_json::Value;

use super::options::RUNTIME_CRATE;
use crate::naming::variant_name;

/// The generated module that holds the open enums.
const OPEN_ENUMS: &str = "open_enums";
/// The generated module that holds the secret types.
const SECRETS: &str = "secrets";

/// The types generated from component schemas in place of typify's.
pub(super) struct ReplacementTypes {
    enums: Vec<OpenEnum>,
    secrets: Vec<SecretType>,
}

impl ReplacementTypes {
    /// The string enums and the `format: password` strings of `components/schemas`.
    pub(super) fn collect(doc: &Value) -> Self {
        let mut enums = Vec::new();
        let mut secrets = Vec::new();
        if let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, schema) in schemas {
                let description = schema
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let is_string = schema.get("type").and_then(Value::as_str) == Some("string");
                if let (true, Some(values)) =
                    (is_string, schema.get("enum").and_then(Value::as_array))
                {
                    enums.push(OpenEnum {
                        name: name.clone(),
                        description,
                        values: values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect(),
                        default: schema
                            .get("default")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    });
                } else if is_string
                    && schema.get("format").and_then(Value::as_str) == Some("password")
                {
                    secrets.push(SecretType {
                        name: name.clone(),
                        description,
                    });
                }
            }
        }
        // serde_json's map order depends on its `preserve_order` feature, which
        // feature unification may switch on in some builds: sort, so the output
        // is the same whichever build runs the generator.
        enums.sort_by(|a, b| a.name.cmp(&b.name));
        secrets.sort_by(|a, b| a.name.cmp(&b.name));
        Self { enums, secrets }
    }

    /// True when `name` is a schema replaced by an open enum.
    pub(super) fn is_open_enum(&self, name: &str) -> bool {
        self.enums.iter().any(|e| e.name == name)
    }

    /// progenitor's replacements: each schema's name, the path of the type
    /// that replaces it under `module_path` (the generated module) and the
    /// impls the replacement provides.
    pub(super) fn replacements(&self, module_path: &str) -> Vec<(String, String, Vec<TypeImpl>)> {
        let mut out = Vec::new();
        for e in &self.enums {
            let mut impls = vec![TypeImpl::Display, TypeImpl::FromStr];
            if e.default.is_some() {
                impls.push(TypeImpl::Default);
            }
            out.push((
                e.name.clone(),
                format!("{module_path}::{OPEN_ENUMS}::{}", e.name),
                impls,
            ));
        }
        for s in &self.secrets {
            out.push((s.name.clone(), secret_value_path(), Vec::new()));
        }
        out
    }

    /// The two modules that hold the replacement types.
    pub(super) fn tokens(&self) -> TokenStream {
        let enums = self.enums.iter().map(OpenEnum::tokens);
        let secrets = self.secrets.iter().map(SecretType::tokens);
        let (open_enums, secrets_module) =
            (format_ident!("{OPEN_ENUMS}"), format_ident!("{SECRETS}"));
        let runtime = format_ident!("{RUNTIME_CRATE}");
        quote! {
            /// String enums of the spec as open enums: every known value has a
            /// variant, and a value a newer server sends decodes as `Unknown`.
            pub mod #open_enums {
                #(#enums)*
            }

            /// Strings the spec marks `format: password`: the runtime's
            /// `SecretValue`, whose `Debug` never shows the value.
            pub mod #secrets_module {
                pub use ::#runtime::SecretValue;
                #(#secrets)*
            }
        }
    }
}

struct OpenEnum {
    name: String,
    description: String,
    values: Vec<String>,
    default: Option<String>,
}

impl OpenEnum {
    fn tokens(&self) -> TokenStream {
        let name = format_ident!("{}", self.name);
        let doc = doc_text(&self.description, &self.name);
        let variants: Vec<_> = self
            .values
            .iter()
            .map(|v| format_ident!("{}", variant_name(v)))
            .collect();
        let values = &self.values;
        let variant_docs = values.iter().map(|v| format!("The value `{v:?}`."));
        let default_impl = self.default.as_ref().map(|d| {
            let v = format_ident!("{}", variant_name(d));
            quote! {
                impl ::std::default::Default for #name {
                    fn default() -> Self {
                        Self::#v
                    }
                }
            }
        });
        quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(
                    #[doc = #variant_docs]
                    #variants,
                )*
                /// A value this version of the spec does not list (kept as sent).
                Unknown(::std::string::String),
            }

            impl #name {
                /// Every value the spec lists, in spec order.
                pub const KNOWN: &'static [&'static str] = &[#(#values),*];

                /// The value as it travels on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#variants => #values,)*
                        Self::Unknown(other) => other.as_str(),
                    }
                }

                /// False for a value the spec does not list.
                pub fn is_known(&self) -> bool {
                    !matches!(self, Self::Unknown(_))
                }
            }

            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    match value {
                        #(#values => Self::#variants,)*
                        other => Self::Unknown(other.to_string()),
                    }
                }
            }

            impl ::std::convert::From<::std::string::String> for #name {
                fn from(value: ::std::string::String) -> Self {
                    Self::from(value.as_str())
                }
            }

            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                    Ok(Self::from(value.as_ref()))
                }
            }

            #default_impl
        }
    }
}

struct SecretType {
    name: String,
    description: String,
}

/// The runtime's secret type, as a path from anywhere.
fn secret_value_path() -> String {
    format!("::{RUNTIME_CRATE}::SecretValue")
}

impl SecretType {
    /// An alias of the runtime's `SecretValue` under the schema's name (none
    /// for a schema named `SecretValue`, which the module re-exports).
    fn tokens(&self) -> TokenStream {
        if self.name == "SecretValue" {
            return TokenStream::new();
        }
        let name = format_ident!("{}", self.name);
        let doc = doc_text(&self.description, &self.name);
        quote! {
            #[doc = #doc]
            pub type #name = SecretValue;
        }
    }
}

fn doc_text(description: &str, name: &str) -> String {
    let d = description.trim();
    if d.is_empty() {
        format!("`{name}` from the spec.")
    } else {
        d.to_string()
    }
}
