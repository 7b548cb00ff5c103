//! The items that connect a generated `Client` to the runtime crate: the
//! crate's `Error` (the runtime's error over the API's error code), the
//! runtime's traits implemented for the error body and the client (how it is
//! made from parts, and the hooks that hand every request to the runtime's
//! call pipeline), and the spec's default base URL.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::error::GenerateError;
use super::options::{ErrorBody, Options, RUNTIME_CRATE};
use super::replacement_types::ReplacementTypes;
use crate::naming::rust_ident;

/// The wiring items for a spec generated with `options`.
pub(super) fn runtime_wiring(
    doc: &Value,
    options: &Options,
    types: &ReplacementTypes,
) -> Result<TokenStream, GenerateError> {
    let runtime = format_ident!("{RUNTIME_CRATE}");
    let ErrorBody {
        schema,
        code_field,
        message_field,
    } = &options.error_body;
    let code_type = check_error_body(doc, options, types)?;
    let body = format_ident!("{}", rust_ident(schema, true));
    let code = format_ident!("{}", rust_ident(code_field, false));
    let message = format_ident!("{}", rust_ident(message_field, false));
    let base_url = doc
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let base_url_doc = if base_url.is_empty() {
        "The spec lists no server: every client needs a base URL.".to_string()
    } else {
        format!("The spec's first server URL: `{base_url}`.")
    };
    Ok(quote! {
        #[doc = #base_url_doc]
        pub const DEFAULT_BASE_URL: &str = #base_url;

        /// The error every call of this crate fails with: the runtime's one
        /// redacting error over the API's error code.
        pub type Error = ::#runtime::Error<#code_type>;

        impl ::#runtime::ApiErrorBody for types::#body {
            type Code = #code_type;
            fn into_parts(self) -> (Self::Code, ::std::string::String) {
                (self.#code, self.#message)
            }
        }

        impl ::#runtime::GeneratedClient for Client {
            type ErrorBody = types::#body;
            const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
            fn from_parts(parts: ::#runtime::ClientParts) -> Self {
                let (baseurl, client, inner) = parts.into_inner();
                Self { baseurl, client, inner }
            }
        }

        /// Every request goes through the runtime's call pipeline with this
        /// crate's operation table and error body.
        /// The hooks return the pipeline's futures themselves (no `async`
        /// layer around them, whose state would be one more copy per call).
        impl ::#runtime::ClientHooks<::#runtime::ClientState> for Client {
            fn pre<E>(
                &self,
                _request: &mut ::reqwest::Request,
                info: &::#runtime::OperationInfo,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<(), ::#runtime::CallError<E>>,
            > {
                ::std::future::ready(::#runtime::pipeline::check_credentials(
                    &self.inner,
                    operations::operation(info.operation_id),
                ))
            }

            fn exec(
                &self,
                request: ::reqwest::Request,
                info: &::#runtime::OperationInfo,
            ) -> impl ::std::future::Future<
                Output = ::reqwest::Result<::reqwest::Response>,
            > {
                ::#runtime::pipeline::send::<types::#body>(
                    &self.client,
                    &self.inner,
                    operations::operation(info.operation_id),
                    request,
                )
            }
        }
    })
}

/// True when the spec has the schema the options name as the error body.
pub(super) fn has_error_body(doc: &Value, options: &Options) -> bool {
    doc.pointer(&format!(
        "/components/schemas/{}",
        crate::spec::escape(&options.error_body.schema)
    ))
    .is_some()
}

/// The Rust type of the error body's code: the open enum of the string enum
/// schema it refers to, or `String` for a plain string. The code and the
/// message must both be required strings.
pub(super) fn check_error_body(
    doc: &Value,
    options: &Options,
    types: &ReplacementTypes,
) -> Result<TokenStream, GenerateError> {
    let ErrorBody {
        schema,
        code_field,
        message_field,
    } = &options.error_body;
    let refuse = |option: &'static str, message: String| GenerateError::Options {
        path: options.spec_display_name.clone(),
        option,
        message,
    };
    let body = doc
        .pointer(&format!(
            "/components/schemas/{}",
            crate::spec::escape(schema)
        ))
        .ok_or_else(|| {
            refuse(
                "error_body.schema",
                format!("the spec has no schema `{schema}`"),
            )
        })?;
    let wanted = format!("#/components/schemas/{schema}");
    if let Some(other) = error_bodies_used(doc).into_iter().find(|r| *r != wanted) {
        return Err(refuse(
            "error_body.schema",
            format!("the spec's error answers have the body `{other}`, not `{wanted}`"),
        ));
    }
    let required: Vec<&str> = body
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let property = |name: &str, option: &'static str| {
        let found = body
            .pointer(&format!("/properties/{}", crate::spec::escape(name)))
            .ok_or_else(|| {
                refuse(
                    option,
                    format!("schema `{schema}` has no property `{name}`"),
                )
            })?;
        if !required.contains(&name) {
            return Err(refuse(
                option,
                format!("property `{name}` of `{schema}` is not required"),
            ));
        }
        Ok(found)
    };
    let message = property(message_field, "error_body.message_field")?;
    if message.get("type").and_then(Value::as_str) != Some("string") {
        return Err(refuse(
            "error_body.message_field",
            format!("property `{message_field}` of `{schema}` is not a string"),
        ));
    }
    let code = property(code_field, "error_body.code_field")?;
    // `$ref`, or a one-element `allOf` of a `$ref` (how a described reference is written).
    let reference = code.get("$ref").or_else(|| match code.get("allOf") {
        Some(Value::Array(all)) if all.len() == 1 => all[0].get("$ref"),
        _ => None,
    });
    let referenced = reference
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"));
    match referenced {
        Some(name) if types.is_open_enum(name) => {
            let name = format_ident!("{name}");
            Ok(quote!(open_enums::#name))
        }
        None if code.get("type").and_then(Value::as_str) == Some("string")
            && code.get("enum").is_none() =>
        {
            Ok(quote!(::std::string::String))
        }
        _ => Err(refuse(
            "error_body.code_field",
            format!(
                "property `{code_field}` of `{schema}` is neither a string nor a reference to a string enum"
            ),
        )),
    }
}

/// The `$ref`s of the bodies of every 4xx/5xx answer of the spec (lint makes
/// them one).
fn error_bodies_used(doc: &Value) -> std::collections::BTreeSet<String> {
    let mut used = std::collections::BTreeSet::new();
    for op in crate::spec::operations(doc) {
        let Some(responses) = op.value.get("responses").and_then(Value::as_object) else {
            continue;
        };
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = match response.get("$ref").and_then(Value::as_str) {
                Some(r) => crate::spec::resolve(doc, r).unwrap_or(response),
                None => response,
            };
            if let Some(r) = response
                .pointer("/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
            {
                used.insert(r.to_string());
            }
        }
    }
    used
}
