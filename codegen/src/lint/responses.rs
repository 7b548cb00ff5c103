//! Response rules: `error-response-type`, `success-body`, `content-schema`.
//!
//! These encode what progenitor 0.15 needs: one success body type per
//! operation (it panics on several, or on typed plus empty bodies), one error
//! body type for the whole spec (the generated crate's error is typed with it;
//! the generator's options name it), and a schema on every JSON content.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Sink;
use crate::spec::{escape, operations, resolve, OperationRef};

/// The body every 4xx/5xx response of `doc` must use: the `$ref` most of
/// them use (the first in name order on a tie), so that every other one is
/// reported; `None` when no error response has a body.
fn spec_error_schema(doc: &Value) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for op in operations(doc) {
        let Some(responses) = op.value.get("responses").and_then(Value::as_object) else {
            continue;
        };
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = match response.get("$ref").and_then(Value::as_str) {
                Some(r) => match resolve(doc, r) {
                    Some(target) => target,
                    None => continue,
                },
                None => response,
            };
            if let Some(r) = response
                .pointer("/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
            {
                *counts.entry(r.to_string()).or_default() += 1;
            }
        }
    }
    let most = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(r, _)| r)
}

/// Runs the response rules.
pub(crate) fn check(doc: &Value, sink: &mut Sink) {
    let error_schema = spec_error_schema(doc);
    let error_schema = error_schema
        .as_deref()
        .unwrap_or("#/components/schemas/<an error body>");
    for op in operations(doc) {
        let Some(responses) = op.value.get("responses").and_then(Value::as_object) else {
            sink.push(
                "success-body",
                Some(&op.name),
                &op.pointer,
                "the operation declares no responses",
            );
            continue;
        };
        let mut success_bodies = BTreeSet::new();
        for (status, response) in responses {
            let pointer = format!("{}/responses/{}", op.pointer, escape(status));
            let (response, pointer) = match response.get("$ref").and_then(Value::as_str) {
                Some(r) => match resolve(doc, r) {
                    Some(target) => (target, format!("{pointer}/$ref")),
                    None => continue, // refs-resolve reports it
                },
                None => (response, pointer),
            };
            let body = body_schema(&op, response, &pointer, sink);
            match status.chars().next() {
                Some('2') => {
                    success_bodies.insert(body.unwrap_or_else(|| "<empty>".to_string()));
                }
                Some('3') if body.is_some() => sink.push(
                    "success-body",
                    Some(&op.name),
                    pointer,
                    "a redirect answer has no body; declare only its `Location` header",
                ),
                Some('4') | Some('5') if body.as_deref() != Some(error_schema) => sink.push(
                    "error-response-type",
                    Some(&op.name),
                    pointer,
                    format!(
                        "error status {status} must have the application/json body the spec's other errors have, `$ref: '{error_schema}'`, found {}",
                        body.as_deref().unwrap_or("no body")
                    ),
                ),
                _ if status == "default" => sink.push(
                    "error-response-type",
                    Some(&op.name),
                    pointer,
                    "declare explicit statuses instead of `default`",
                ),
                _ => {}
            }
        }
        // The call wrapper takes progenitor's error with the spec's error body;
        // an operation without an error status would have `Error<()>`.
        if !responses
            .keys()
            .any(|status| status.starts_with('4') || status.starts_with('5'))
        {
            sink.push(
                "error-response-type",
                Some(&op.name),
                format!("{}/responses", op.pointer),
                format!("declare at least one error status (4xx or 5xx) with the body `$ref: '{error_schema}'`"),
            );
        }
        if success_bodies.len() > 1 {
            sink.push(
                "success-body",
                Some(&op.name),
                format!("{}/responses", op.pointer),
                format!(
                    "all success responses must share one body type (or all be empty), found {}",
                    success_bodies.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

/// The `$ref` of the response's single body, `None` for no body.
fn body_schema(
    op: &OperationRef<'_>,
    response: &Value,
    pointer: &str,
    sink: &mut Sink,
) -> Option<String> {
    let content = response.get("content").and_then(Value::as_object)?;
    if content.len() > 1 {
        sink.push(
            "success-body",
            Some(&op.name),
            format!("{pointer}/content"),
            "a response may offer one content type only",
        );
    }
    let (media, body) = content.iter().next()?;
    let schema_pointer = format!("{pointer}/content/{}/schema", escape(media));
    match body.get("schema") {
        None => {
            sink.push(
                "content-schema",
                Some(&op.name),
                format!("{pointer}/content/{}", escape(media)),
                format!("`{media}` content needs a schema"),
            );
            Some(format!("<{media} without schema>"))
        }
        Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => Some(r.to_string()),
            None => {
                sink.push(
                    "content-schema",
                    Some(&op.name),
                    schema_pointer,
                    "a body schema must be a `$ref` to a named component schema",
                );
                Some("<inline schema>".to_string())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::lint;
    use crate::lint::testing::variant;

    #[test]
    fn error_responses_use_api_error() {
        let r = lint(&variant(
            "    NotFound:\n      description: Not found.\n      content:\n        application/json:\n          schema:\n            $ref: '#/components/schemas/ApiError'",
            "    NotFound:\n      description: Not found.\n      content:\n        application/json:\n          schema:\n            $ref: '#/components/schemas/App'",
        ));
        let f = r.of_rule("error-response-type");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(f[0].operation.as_deref(), Some("get_app"));
        assert!(f[0].message.contains("error status 404"));

        let r = lint(&variant(
            "        '401':\n          description: Not signed in.\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/ApiError'",
            "        '401':\n          description: Not signed in.",
        ));
        assert!(
            r.of_rule("error-response-type")[0]
                .message
                .contains("found no body"),
            "{r}"
        );
    }

    #[test]
    fn every_operation_declares_an_error_status() {
        let r = lint(&variant(
            "        '404':\n          $ref: '#/components/responses/NotFound'\n",
            "",
        ));
        let f = r.of_rule("error-response-type");
        assert_eq!(f.len(), 1, "{r}");
        assert!(f[0].message.contains("at least one error status"), "{r}");
    }

    #[test]
    fn one_success_body_type() {
        let r = lint(&variant(
            "        '404':\n          $ref: '#/components/responses/NotFound'",
            "        '201':\n          description: Also fine?\n        '404':\n          $ref: '#/components/responses/NotFound'",
        ));
        let f = r.of_rule("success-body");
        assert_eq!(f.len(), 1, "{r}");
        assert!(f[0].message.contains("<empty>"), "{}", f[0].message);
    }

    #[test]
    fn json_content_needs_a_named_schema() {
        let r = lint(&variant(
            "              schema:\n                $ref: '#/components/schemas/GetAppResponse'",
            "              schema:\n                type: object",
        ));
        assert_eq!(r.of_rule("content-schema").len(), 1, "{r}");
    }
}
