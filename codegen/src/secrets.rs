//! Which values of a request are secrets, read from the spec.
//!
//! A schema is secret when, after following `$ref`s (and single-entry
//! `allOf`/`oneOf`/`anyOf` wrappers), it is a `type: string` with
//! `format: password`. Parameters are resolved through
//! `#/components/parameters`, request bodies through
//! `#/components/requestBodies`, and JSON and form bodies are walked to every
//! secret property (arrays as `*`), so a secret written anywhere in the spec
//! reaches the operation table.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::spec::resolve;

/// How deep `$ref` chains and nested bodies are followed (the spec's own
/// depth is far lower; a loop stops here instead of running forever).
const MAX_DEPTH: usize = 32;

/// The secret places of one operation's request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct OperationSecrets {
    /// Query parameters whose values are secret.
    pub query: BTreeSet<String>,
    /// Header parameters whose values are secret (lower-case names).
    pub headers: BTreeSet<String>,
    /// Paths into the request body (`/`-separated property names, `*` for
    /// array items) whose values are secret.
    pub body: BTreeSet<String>,
}

/// Follows `$ref`s from `value`, at most [`MAX_DEPTH`] of them.
fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> Option<&'a Value> {
    for _ in 0..MAX_DEPTH {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => value = resolve(doc, reference)?,
            None => return Some(value),
        }
    }
    None
}

/// The one schema a single-entry `allOf`/`oneOf`/`anyOf` wraps, if any.
fn single_wrapped(schema: &Value) -> Option<&Value> {
    ["allOf", "oneOf", "anyOf"].iter().find_map(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .filter(|items| items.len() == 1)
            .and_then(|items| items.first())
    })
}

/// True when `schema` is (or wraps, or refers to) a `format: password` string.
pub(crate) fn is_secret_schema(doc: &Value, schema: &Value) -> bool {
    let mut current = schema;
    for _ in 0..MAX_DEPTH {
        let Some(resolved) = deref(doc, current) else {
            return false;
        };
        if resolved.get("format").and_then(Value::as_str) == Some("password") {
            return true;
        }
        match single_wrapped(resolved) {
            Some(inner) => current = inner,
            None => return false,
        }
    }
    false
}

/// The secrets of one operation object.
pub(crate) fn of_operation(
    doc: &Value,
    operation: &Value,
    path_item: Option<&Value>,
) -> OperationSecrets {
    let mut secrets = OperationSecrets::default();
    let path_params = path_item
        .and_then(|p| p.get("parameters"))
        .and_then(Value::as_array);
    let op_params = operation.get("parameters").and_then(Value::as_array);
    for param in path_params.into_iter().chain(op_params).flatten() {
        let Some(param) = deref(doc, param) else {
            continue;
        };
        let Some(name) = param.get("name").and_then(Value::as_str) else {
            continue;
        };
        let secret = param
            .get("schema")
            .is_some_and(|schema| is_secret_schema(doc, schema));
        if !secret {
            continue;
        }
        match param.get("in").and_then(Value::as_str) {
            Some("query") => {
                secrets.query.insert(name.to_string());
            }
            Some("header") => {
                secrets.headers.insert(name.to_ascii_lowercase());
            }
            _ => {}
        }
    }
    let content = operation
        .get("requestBody")
        .and_then(|body| deref(doc, body))
        .and_then(|body| body.get("content"))
        .and_then(Value::as_object);
    for media in content.into_iter().flat_map(|c| c.values()) {
        if let Some(schema) = media.get("schema") {
            walk_body(
                doc,
                schema,
                &mut Vec::new(),
                &mut Vec::new(),
                &mut secrets.body,
            );
        }
    }
    secrets
}

/// Walks a body schema to its secret properties. `stack` holds the `$ref`s
/// being expanded, so a self-referring schema is walked once, not forever.
fn walk_body<'a>(
    doc: &'a Value,
    schema: &'a Value,
    path: &mut Vec<String>,
    stack: &mut Vec<&'a str>,
    out: &mut BTreeSet<String>,
) {
    if stack.len() > MAX_DEPTH || path.len() > MAX_DEPTH {
        return;
    }
    if is_secret_schema(doc, schema) {
        if !path.is_empty() {
            out.insert(path.join("/"));
        }
        return;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if stack.contains(&reference) {
            return;
        }
        if let Some(target) = resolve(doc, reference) {
            stack.push(reference);
            walk_body(doc, target, path, stack, out);
            stack.pop();
        }
        return;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk_body(doc, part, path, stack, out);
        }
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            path.push(name.clone());
            walk_body(doc, property, path, stack, out);
            path.pop();
        }
    }
    for nested in [
        schema.get("items"),
        schema.get("additionalProperties").filter(|v| v.is_object()),
    ]
    .into_iter()
    .flatten()
    {
        path.push("*".into());
        walk_body(doc, nested, path, stack, out);
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_to_parameters_schemas_and_bodies_are_followed() {
        let doc = json!({
            "components": {
                "schemas": {
                    "Secret": {"type": "string", "format": "password"},
                    "Alias": {"$ref": "#/components/schemas/Secret"},
                    "Form": {"type": "object", "properties": {
                        "code": {"allOf": [{"$ref": "#/components/schemas/Alias"}]},
                        "state": {"type": "string"},
                        "list": {"type": "array", "items": {"$ref": "#/components/schemas/Secret"}}
                    }},
                    "Loop": {"type": "object", "properties": {
                        "left": {"$ref": "#/components/schemas/Loop"},
                        "right": {"$ref": "#/components/schemas/Loop"}
                    }}
                },
                "parameters": {
                    "Code": {"name": "code", "in": "query", "schema": {"$ref": "#/components/schemas/Alias"}},
                    "Plain": {"name": "state", "in": "query", "schema": {"type": "string"}}
                },
                "requestBodies": {
                    "Form": {"content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Form"}}}}
                }
            }
        });
        let op = json!({
            "parameters": [{"$ref": "#/components/parameters/Code"}, {"$ref": "#/components/parameters/Plain"}],
            "requestBody": {"$ref": "#/components/requestBodies/Form"}
        });
        let secrets = of_operation(&doc, &op, None);
        assert_eq!(secrets.query, BTreeSet::from(["code".to_string()]));
        assert_eq!(
            secrets.body,
            BTreeSet::from(["code".to_string(), "list/*".to_string()])
        );
        let looping = json!({"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loop"}}}}});
        assert!(of_operation(&doc, &looping, None).body.is_empty());
        let dangling = json!({"parameters": [{"$ref": "#/components/parameters/Missing"}]});
        assert_eq!(
            of_operation(&doc, &dangling, None),
            OperationSecrets::default()
        );
    }
}
