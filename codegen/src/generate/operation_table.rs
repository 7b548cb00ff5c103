//! The operation table: what the spec declares about each operation (method,
//! path, tag, auth, retry safety, success statuses, secret places), generated
//! as a `const` of the runtime's `OperationSpec` rows, so that neither the
//! runtime nor handwritten code repeats the spec.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::options::RUNTIME_CRATE;
use crate::secrets;
use crate::spec::operations;

/// The table of every operation's method, path, auth and retry safety, read
/// by the pipeline so that no handwritten list repeats the spec, and the
/// operation ids in the table's order (a row's index is its id's position).
pub(super) fn operation_table(doc: &Value) -> (TokenStream, Vec<String>) {
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
        let auth = auth_of(doc, op.value);
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
                OperationSpec::new(
                    #id,
                    #method,
                    #path,
                    #tag,
                    #auth,
                    #idempotent,
                    &[#(#statuses),*],
                    &[#(#secret_query),*],
                    &[#(#secret_headers),*],
                    &[#(#secret_body),*],
                )
            },
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let count = rows.len();
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let indices = 0..count;
    let lookup = quote! { #(#ids => #indices,)* };
    let sorted_ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let rows = rows.iter().map(|(_, t)| t);
    let runtime = format_ident!("{RUNTIME_CRATE}");
    let table = quote! {
        /// What the spec declares about each operation, sorted by operation id.
        pub mod operations {
            pub use ::#runtime::{Auth, OperationSpec};

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
    };
    (table, sorted_ids)
}

/// The credential `operation` needs, as the runtime's `Auth`: from the first
/// of its security requirements that names a scheme (an empty requirement
/// means anonymous calls are allowed too; the credential is then sent when the
/// client has one). An HTTP bearer scheme is `Auth::Bearer`, an API key in a
/// header `Auth::ApiKey` with the header's name; lint refuses other kinds.
fn auth_of(doc: &Value, operation: &Value) -> TokenStream {
    let scheme = operation
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys())
        .next()
        .and_then(|name| {
            doc.pointer(&format!(
                "/components/securitySchemes/{}",
                crate::spec::escape(name)
            ))
        });
    let Some(scheme) = scheme else {
        return quote!(Auth::None);
    };
    let field = |key: &str| scheme.get(key).and_then(Value::as_str).unwrap_or_default();
    match field("type") {
        "http" if field("scheme").eq_ignore_ascii_case("bearer") => quote!(Auth::Bearer),
        "apiKey" if field("in") == "header" => {
            let header = field("name").to_ascii_lowercase();
            quote!(Auth::ApiKey { header: #header })
        }
        _ => quote!(Auth::None),
    }
}
