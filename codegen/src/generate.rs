//! Generation: progenitor settings, the spec-driven extras (open enums,
//! redacting secret strings, the operation table), formatting and the header.

use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::lint::{self, LintReport};
use crate::LoadedSpec;
use crate::{postprocess, secrets};

/// How the generated code is wired into the client crate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Path (from the crate root) of the module that `generated.rs` becomes.
    pub module_path: String,
    /// The `inner` type of the generated `Client`, which implements
    /// the runtime's `ClientHooks` in handwritten code.
    pub inner_type: String,
    /// The spec's name as written in the header (keep it relative, so the
    /// output is the same on every machine).
    pub spec_display_name: String,
    /// The error type every generated `send()` returns.
    pub error_type: String,
    /// The function every generated `send()` passes its call through:
    /// `fn(impl Future<Output = Result<T, runtime::Error<E>>>) -> impl
    /// Future<Output = Result<T, error_type>>` (an `async fn` of that shape too).
    pub call_wrapper: String,
    /// The module the generated code calls instead of `progenitor_client`
    /// (every `progenitor_client::` path is rewritten to start with it): it
    /// provides the same items (`ResponseValue`, `Error`, `ClientHooks`, ...).
    pub runtime: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            module_path: "crate::generated".into(),
            inner_type: "crate::hooks::ClientState".into(),
            spec_display_name: "spec/passage-auth.yaml".into(),
            error_type: "crate::Error".into(),
            call_wrapper: "crate::error::finish_call".into(),
            runtime: "crate::runtime".into(),
        }
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The spec breaks the project's rules; nothing was generated.
    #[error("{path}: the spec does not pass lint:\n{report}")]
    Lint {
        /// The spec file.
        path: String,
        /// What lint found.
        report: LintReport,
    },
    /// progenitor refused the spec.
    #[error("{path}: progenitor could not generate the client: {message}")]
    Progenitor {
        /// The spec file.
        path: String,
        /// progenitor's error or panic message.
        message: String,
    },
    /// The generated tokens did not parse as Rust (a generator bug).
    #[error("{path}: the generated code is not valid Rust: {message}")]
    Syntax {
        /// The spec file.
        path: String,
        /// syn's message.
        message: String,
    },
}

/// Lints the spec and generates the client module with the project's options.
pub fn generate(spec: &LoadedSpec) -> Result<String, GenerateError> {
    generate_with(spec, &Options::default())
}

/// Lints the spec and generates the client module.
///
/// Never panics: a panic or an error of the generator on a spec that passed
/// lint becomes a [`GenerateError::Lint`] whose findings (rule `generator`)
/// name the schema or operation it failed on.
pub fn generate_with(spec: &LoadedSpec, options: &Options) -> Result<String, GenerateError> {
    let path = options.spec_display_name.clone();
    let report = lint::lint(spec);
    if !report.is_clean() {
        return Err(GenerateError::Lint { path, report });
    }
    convert_located(spec, options)
}

/// [`convert`], with a panic or an error turned into located findings.
pub(crate) fn convert_located(
    spec: &LoadedSpec,
    options: &Options,
) -> Result<String, GenerateError> {
    let attempt = |spec: &LoadedSpec| match crate::isolate::catch(|| convert(spec, options)) {
        Ok(Ok(code)) => Ok(code),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("panicked: {panic}")),
    };
    attempt(spec).map_err(|failure| GenerateError::Lint {
        path: options.spec_display_name.clone(),
        report: LintReport {
            findings: crate::isolate::locate(spec, &failure, &|sub| attempt(sub).err()),
        },
    })
}

/// Runs progenitor and the post-processing on a spec that passed lint.
fn convert(spec: &LoadedSpec, options: &Options) -> Result<String, GenerateError> {
    let path = options.spec_display_name.clone();
    let doc = spec.json();
    let extras = Extras::collect(doc);

    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(parse_tokens(&options.inner_type))
        .with_derive("PartialEq");
    for e in &extras.enums {
        let mut impls = vec![TypeImpl::Display, TypeImpl::FromStr];
        if e.default.is_some() {
            impls.push(TypeImpl::Default);
        }
        settings.with_replacement(
            &e.name,
            format!("{}::open_enums::{}", options.module_path, e.name),
            impls.into_iter(),
        );
    }
    for s in &extras.secrets {
        settings.with_replacement(
            &s.name,
            format!("{}::secrets::{}", options.module_path, s.name),
            std::iter::empty(),
        );
    }

    // A panic here is caught (quietly) by `generate_with`, which locates it.
    let client_tokens = Generator::new(&settings)
        .generate_tokens(&spec.openapi)
        .map_err(|e| GenerateError::Progenitor {
            path: path.clone(),
            message: e.to_string(),
        })?;

    let enums = extras.enums.iter().map(OpenEnum::tokens);
    let secrets = extras.secrets.iter().map(SecretType::tokens);
    let operations = operation_table(doc);
    let version = &spec.openapi.info.version;
    let sha = spec.sha256();
    let tokens = quote! {
        #client_tokens

        /// The `info.version` of the spec this module was generated from.
        pub const SPEC_VERSION: &str = #version;
        /// The sha256 of the spec bytes this module was generated from.
        pub const SPEC_SHA256: &str = #sha;

        /// String enums of the spec as open enums: every known value has a
        /// variant, and a value a newer server sends decodes as `Unknown`.
        pub mod open_enums {
            #(#enums)*
        }

        /// Strings the spec marks `format: password`: their `Debug` never
        /// shows the value.
        pub mod secrets {
            #(#secrets)*
        }

        #operations
    };
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| GenerateError::Syntax {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let wiring = postprocess::Wiring {
        error_type: parse_path(&options.error_type, &path)?,
        call_wrapper: parse_path(&options.call_wrapper, &path)?,
        runtime: parse_path(&options.runtime, &path)?,
    };
    postprocess::apply(&mut file, &wiring);
    if let Some(message) = crate::isolate::duplicate_item(&file) {
        return Err(GenerateError::Syntax { path, message });
    }
    let body = prettyplease::unparse(&file);
    Ok(format!(
        "// @generated by `cargo xtask regenerate` from {path}: DO NOT EDIT.\n\
         // spec: {path}\n\
         // info.version: {version}\n\
         // sha256: {sha}\n\
         // generator: passage-codegen with progenitor 0.15\n\n{body}"
    ))
}

fn parse_path(s: &str, path: &str) -> Result<syn::Path, GenerateError> {
    syn::parse_str(s).map_err(|e| GenerateError::Syntax {
        path: path.to_string(),
        message: format!("option `{s}` is not a Rust path: {e}"),
    })
}

fn parse_tokens(s: &str) -> TokenStream {
    s.parse().expect("inner type is a Rust path")
}

/// The spec-driven types generated beside progenitor's.
struct Extras {
    enums: Vec<OpenEnum>,
    secrets: Vec<SecretType>,
}

impl Extras {
    fn collect(doc: &Value) -> Self {
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
}

struct OpenEnum {
    name: String,
    description: String,
    values: Vec<String>,
    default: Option<String>,
}

/// `cross-platform` -> `CrossPlatform`, `""` -> `Empty`, `Andalé Mono` -> `AndaleMono`.
pub(crate) fn variant_name(value: &str) -> String {
    if value.is_empty() {
        return "Empty".into();
    }
    let folded: String = value
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            other => other,
        })
        .collect();
    let mut out = String::new();
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            let rest: String = chars.collect();
            // Keep inner capitals of mixed-case words (`S256`), lower-case shouted ones (`MS`).
            if word.chars().all(|c| !c.is_ascii_lowercase()) {
                out.push_str(&rest.to_ascii_lowercase());
            } else {
                out.push_str(&rest);
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
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

impl SecretType {
    fn tokens(&self) -> TokenStream {
        let name = format_ident!("{}", self.name);
        let doc = doc_text(&self.description, &self.name);
        let debug = format!("{}([redacted])", self.name);
        quote! {
            #[doc = #doc]
            ///
            /// `Debug` prints `[redacted]`; read the value with `expose_secret`.
            #[derive(Clone, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
            #[serde(transparent)]
            pub struct #name(::std::string::String);

            impl #name {
                /// Wraps a secret value.
                pub fn new(value: impl ::std::convert::Into<::std::string::String>) -> Self {
                    Self(value.into())
                }

                /// The secret value itself: do not log it.
                pub fn expose_secret(&self) -> &str {
                    &self.0
                }

                /// Unwraps the secret value.
                pub fn into_secret(self) -> ::std::string::String {
                    self.0
                }
            }

            impl ::std::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(#debug)
                }
            }

            impl ::std::convert::From<::std::string::String> for #name {
                fn from(value: ::std::string::String) -> Self {
                    Self(value)
                }
            }

            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    Self(value.to_string())
                }
            }
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

/// The table of every operation's method, path, auth and retry safety, read
/// by the handwritten hooks so that no handwritten list repeats the spec.
fn operation_table(doc: &Value) -> TokenStream {
    let mut rows: Vec<(String, TokenStream)> = Vec::new();
    for op in lint::operations(doc) {
        let id = op
            .value
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let method = op.method.to_uppercase();
        let path = op.path;
        let tag = op
            .value
            .pointer("/tags/0")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let schemes: Vec<&str> = op
            .value
            .get("security")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_object)
                    .flat_map(|m| m.keys().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let auth = if schemes.contains(&"bearerAuth") {
            quote!(Auth::Bearer)
        } else if schemes.contains(&"apiKeyAuth") {
            quote!(Auth::ApiKey)
        } else {
            quote!(Auth::None)
        };
        let idempotent = op
            .value
            .get("x-idempotent")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let statuses: Vec<u16> = op
            .value
            .get("responses")
            .and_then(Value::as_object)
            .map(|r| {
                r.keys()
                    .filter_map(|k| k.parse::<u16>().ok())
                    .filter(|s| (200..400).contains(s))
                    .collect::<std::collections::BTreeSet<u16>>()
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default();
        let path_item = doc.get("paths").and_then(|p| p.get(op.path));
        let secrets::OperationSecrets {
            query: secret_query,
            headers: secret_headers,
            body: secret_body,
        } = secrets::of_operation(doc, op.value, path_item);
        let secret_query = secret_query.iter();
        let secret_headers = secret_headers.iter();
        let secret_body = secret_body.iter();
        rows.push((
            id.to_string(),
            quote! {
                OperationSpec {
                    operation_id: #id,
                    method: #method,
                    path: #path,
                    tag: #tag,
                    auth: #auth,
                    idempotent: #idempotent,
                    success_statuses: &[#(#statuses),*],
                    secret_query: &[#(#secret_query),*],
                    secret_headers: &[#(#secret_headers),*],
                    secret_body: &[#(#secret_body),*],
                }
            },
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let count = rows.len();
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let indices = 0..count;
    let lookup = quote! { #(#ids => #indices,)* };
    let rows = rows.iter().map(|(_, t)| t);
    quote! {
        /// What the spec declares about each operation, sorted by operation id.
        pub mod operations {
            /// The credential an operation needs.
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub enum Auth {
                /// No credential.
                None,
                /// The user's auth token as an HTTP bearer token.
                Bearer,
                /// The app's API key in the `X-API-KEY` header.
                ApiKey,
            }

            /// One operation of the spec.
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            #[non_exhaustive]
            pub struct OperationSpec {
                /// The spec's `operationId`, also the generated method name.
                pub operation_id: &'static str,
                /// The HTTP method.
                pub method: &'static str,
                /// The path template, relative to the base URL.
                pub path: &'static str,
                /// The API area (the spec's tag).
                pub tag: &'static str,
                /// The credential the operation needs.
                pub auth: Auth,
                /// `x-idempotent`: whether repeating the request is safe.
                pub idempotent: bool,
                /// The success (2xx and 3xx) statuses the spec declares.
                pub success_statuses: &'static [u16],
                /// Query parameters that carry a secret (`format: password`,
                /// `$ref`s resolved): never log their values.
                pub secret_query: &'static [&'static str],
                /// Header parameters (lower-case) that carry a secret.
                pub secret_headers: &'static [&'static str],
                /// Paths into the request body (JSON or form; `/`-separated
                /// property names, `*` for array items) whose values are secret.
                pub secret_body: &'static [&'static str],
            }

            /// Every operation of the spec, sorted by `operation_id`.
            pub const OPERATIONS: [OperationSpec; #count] = [#(#rows),*];

            /// Looks an operation up by its id (a `match`, which the compiler
            /// turns into a switch on the length and a comparison or two).
            pub fn operation(operation_id: &str) -> Option<&'static OperationSpec> {
                let index = match operation_id {
                    #lookup
                    _ => return None,
                };
                Some(&OPERATIONS[index])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("cross-platform"), "CrossPlatform");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("Andalé Mono"), "AndaleMono");
        assert_eq!(variant_name("Comic Sans MS"), "ComicSansMs");
        assert_eq!(variant_name("S256"), "S256");
        assert_eq!(variant_name("invalid_refresh_token"), "InvalidRefreshToken");
        assert_eq!(variant_name("s"), "S");
    }
}
