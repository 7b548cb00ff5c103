//! The operation table: what the spec declares about each operation (method,
//! path, tag, auth, retry safety, success statuses, secret places), generated
//! as a `const` so that no handwritten list repeats the spec.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::secrets;
use crate::spec::operations;

/// The table of every operation's method, path, auth and retry safety, read
/// by the handwritten hooks so that no handwritten list repeats the spec.
pub(super) fn operation_table(doc: &Value) -> TokenStream {
    let mut rows: Vec<(String, TokenStream)> = Vec::new();
    for op in operations(doc) {
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
