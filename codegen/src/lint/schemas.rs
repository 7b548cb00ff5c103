//! Schema rules: `no-inline-objects`, `named-enums`, `unique-titles`.
//!
//! progenitor names inline schemas after their context or `title`, and two
//! inline schemas with one title silently share one Rust type; so every object
//! with properties and every enum is a named component, referenced by `$ref`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Sink;
use crate::spec::{escape, operation_of, operations};

/// Runs the schema rules.
pub(crate) fn check(doc: &Value, sink: &mut Sink) {
    // Request bodies must be references.
    for op in operations(doc) {
        if let Some(content) = op
            .value
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
        {
            for (media, body) in content {
                let is_ref = body.pointer("/schema/$ref").is_some();
                if !is_ref {
                    sink.push(
                        "no-inline-objects",
                        Some(&op.name),
                        format!(
                            "{}/requestBody/content/{}/schema",
                            op.pointer,
                            escape(media)
                        ),
                        "a request body schema must be a `$ref` to a named component schema",
                    );
                }
            }
        }
    }
    // Nested objects and enums anywhere (component tops are the named ones).
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let pointer = format!("/components/schemas/{}", escape(name));
            walk(doc, schema, &pointer, true, &mut titles, sink);
        }
    }
    if let Some(paths) = doc.get("paths") {
        walk_paths(doc, paths, "/paths".to_string(), &mut titles, sink);
    }
}

/// Visits every `schema` under the paths (parameters, bodies, headers).
fn walk_paths(
    doc: &Value,
    node: &Value,
    pointer: String,
    titles: &mut BTreeMap<String, String>,
    sink: &mut Sink,
) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let child = format!("{pointer}/{}", escape(key));
                if key == "schema" {
                    walk(doc, value, &child, false, titles, sink);
                } else {
                    walk_paths(doc, value, child, titles, sink);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_paths(doc, item, format!("{pointer}/{i}"), titles, sink);
            }
        }
        _ => {}
    }
}

fn walk(
    doc: &Value,
    schema: &Value,
    pointer: &str,
    top: bool,
    titles: &mut BTreeMap<String, String>,
    sink: &mut Sink,
) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if map.contains_key("$ref") {
        return;
    }
    let op = operation_of(doc, pointer);
    if let Some(title) = map.get("title").and_then(Value::as_str) {
        if let Some(first) = titles.insert(title.to_string(), pointer.to_string()) {
            sink.push(
                "unique-titles",
                op.as_deref(),
                pointer,
                format!("title `{title}` is also used at {first}: progenitor would merge the two into one type"),
            );
        }
    }
    if !top {
        if map
            .get("properties")
            .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()))
        {
            sink.push(
                "no-inline-objects",
                op.as_deref(),
                pointer,
                "an object with properties must be a named component schema referenced by `$ref`",
            );
        }
        if map.contains_key("enum") {
            sink.push(
                "named-enums",
                op.as_deref(),
                pointer,
                "an enum must be a named component schema referenced by `$ref` (it becomes an open enum)",
            );
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get(key) {
            walk(doc, child, &format!("{pointer}/{key}"), false, titles, sink);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(items) = map.get(key).and_then(Value::as_array) {
            for (i, child) in items.iter().enumerate() {
                walk(
                    doc,
                    child,
                    &format!("{pointer}/{key}/{i}"),
                    false,
                    titles,
                    sink,
                );
            }
        }
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            walk(
                doc,
                child,
                &format!("{pointer}/properties/{}", escape(name)),
                false,
                titles,
                sink,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::lint;
    use crate::lint::testing::variant;

    #[test]
    fn nested_objects_must_be_named() {
        let r = lint(&variant(
            "        id:\n          type: string\n        status:",
            "        id:\n          type: object\n          properties:\n            inner:\n              type: string\n        status:",
        ));
        let f = r.of_rule("no-inline-objects");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(f[0].pointer, "/components/schemas/App/properties/id");
    }

    #[test]
    fn enums_must_be_named() {
        let r = lint(&variant(
            "          description: The app id.\n          schema:\n            type: string",
            "          description: The app id.\n          schema:\n            type: string\n            enum: [a, b]",
        ));
        let f = r.of_rule("named-enums");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(f[0].operation.as_deref(), Some("get_app"));
    }

    #[test]
    fn titles_are_unique() {
        let r = lint(&variant(
            "    App:\n      type: object",
            "    App:\n      title: Thing\n      type: object",
        ));
        assert!(r.of_rule("unique-titles").is_empty());
        let r = lint(&variant(
            "    GetAppResponse:\n      type: object\n      required: [app]\n      properties:\n        app:\n          $ref: '#/components/schemas/App'\n    App:\n      type: object",
            "    GetAppResponse:\n      title: Thing\n      type: object\n      required: [app]\n      properties:\n        app:\n          $ref: '#/components/schemas/App'\n    App:\n      title: Thing\n      type: object",
        ));
        assert_eq!(r.of_rule("unique-titles").len(), 1, "{r}");
    }

    #[test]
    fn request_bodies_must_be_references() {
        let r = lint(&variant(
            "      x-idempotent: true\n      parameters:",
            "      x-idempotent: true\n      requestBody:\n        content:\n          application/json:\n            schema:\n              type: object\n      parameters:",
        ));
        assert_eq!(r.of_rule("no-inline-objects").len(), 1, "{r}");
    }
}
