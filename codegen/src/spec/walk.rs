//! The walks over the spec that every pass shares: its operations (and the
//! operation a pointer lies in) and its schema objects.

use serde_json::Value;

use super::pointer::{escape, unescape};

/// The HTTP methods an OpenAPI path item may hold.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of the document.
pub(crate) struct OperationRef<'a> {
    /// The path template, as the key under `paths`.
    pub path: &'a str,
    /// The method, lower case.
    pub method: &'a str,
    /// JSON pointer of the operation object.
    pub pointer: String,
    /// The operation object.
    pub value: &'a Value,
    /// The operationId, or `METHOD path` when it is missing.
    pub name: String,
}

/// Every operation of the document, in `paths` order and then [`METHODS`] order.
pub(crate) fn operations(doc: &Value) -> Vec<OperationRef<'_>> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()));
                out.push(OperationRef {
                    path,
                    method,
                    pointer: format!("/paths/{}/{method}", escape(path)),
                    value: op,
                    name,
                });
            }
        }
    }
    out
}

/// The operationId (or `METHOD path` when it has none) owning a pointer under
/// `/paths/{path}/{method}`, if any.
pub(crate) fn operation_of(doc: &Value, pointer: &str) -> Option<String> {
    let mut parts = pointer.split('/').skip(1);
    if parts.next()? != "paths" {
        return None;
    }
    let path = parts.next()?;
    let method = parts.next()?;
    if !METHODS.contains(&method) {
        return None;
    }
    match doc
        .pointer(&format!("/paths/{path}/{method}/operationId"))
        .and_then(Value::as_str)
    {
        Some(id) => Some(id.to_string()),
        None => Some(format!("{} {}", method.to_uppercase(), unescape(path))),
    }
}

/// Every schema object of the document with its pointer: component schemas,
/// the `schema` of parameters, headers and media types (under `paths` and
/// `components`), and every subschema of those. `$ref`s are not followed.
pub(crate) fn all_schemas(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            subschemas(
                schema,
                format!("/components/schemas/{}", escape(name)),
                &mut out,
            );
        }
    }
    for (key, node) in doc.as_object().into_iter().flatten() {
        match key.as_str() {
            "paths" => find_schema_keys(node, "/paths".into(), &mut out),
            "components" => {
                for (kind, items) in node.as_object().into_iter().flatten() {
                    if kind != "schemas" {
                        find_schema_keys(items, format!("/components/{}", escape(kind)), &mut out);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn find_schema_keys<'a>(node: &'a Value, pointer: String, out: &mut Vec<(String, &'a Value)>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let child = format!("{pointer}/{}", escape(key));
                if key == "schema" {
                    subschemas(value, child, out);
                } else if !key.starts_with("x-") && key != "example" && key != "examples" {
                    find_schema_keys(value, child, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_schema_keys(item, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn subschemas<'a>(schema: &'a Value, pointer: String, out: &mut Vec<(String, &'a Value)>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    out.push((pointer.clone(), schema));
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get(key).filter(|c| c.is_object()) {
            subschemas(child, format!("{pointer}/{key}"), out);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for (i, child) in map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            subschemas(child, format!("{pointer}/{key}/{i}"), out);
        }
    }
    for (name, child) in map
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        subschemas(child, format!("{pointer}/properties/{}", escape(name)), out);
    }
}
