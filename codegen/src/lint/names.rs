//! `rust-names`: names that must stay distinct and valid after the generator
//! turns them into Rust identifiers (progenitor and typify use `heck`'s
//! snake_case and PascalCase, and append `_` to keywords).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Sink;
use crate::naming::rust_ident;
use crate::spec::{all_schemas, escape, operation_of, operations, resolve};

/// Methods of a generated operation builder that are not parameters:
/// `send` always, `body` and `body_map` when the operation has a request body.
fn builder_methods(has_body: bool) -> &'static [&'static str] {
    if has_body {
        &["send", "body", "body_map"]
    } else {
        &["send"]
    }
}

/// Runs the naming rules.
pub(crate) fn check(doc: &Value, sink: &mut Sink) {
    schema_names(doc, sink);
    property_names(doc, sink);
    let mut builders: BTreeMap<String, (String, String)> = BTreeMap::new();
    for op in operations(doc) {
        if let Some(id) = op.value.get("operationId").and_then(Value::as_str) {
            let pascal = rust_ident(id, true);
            if let Some((first, first_id)) = builders.get(&pascal) {
                if first_id != id {
                    sink.push(
                        "rust-names",
                        Some(&op.name),
                        format!("{}/operationId", op.pointer),
                        format!(
                            "operationId `{id}` and `{first_id}` (at {first}) both become the builder type `{pascal}`"
                        ),
                    );
                }
            } else {
                builders.insert(pascal, (op.pointer.clone(), id.to_string()));
            }
        }
        // Path-level parameters first, as progenitor merges them.
        let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
        let path_level = format!("/paths/{}/parameters", escape(op.path));
        let levels = [
            (doc.pointer(&path_level), path_level.clone()),
            (
                op.value.get("parameters"),
                format!("{}/parameters", op.pointer),
            ),
        ];
        for (params, base) in levels {
            for (i, param) in params
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let param = match param.get("$ref").and_then(Value::as_str) {
                    Some(r) => match resolve(doc, r) {
                        Some(p) => p,
                        None => continue,
                    },
                    None => param,
                };
                let Some(name) = param.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let location = param.get("in").and_then(Value::as_str).unwrap_or("");
                let at = format!("{base}/{i}");
                let rust = rust_ident(name, false);
                if builder_methods(op.value.get("requestBody").is_some()).contains(&rust.as_str()) {
                    sink.push(
                        "rust-names",
                        Some(&op.name),
                        &at,
                        format!("parameter `{name}` would be the builder method `{rust}`, which the operation's builder already has"),
                    );
                }
                match seen.get(&rust) {
                    // The same name and place at both levels: the operation's overrides.
                    Some((first_name, first_in)) if first_name == name && first_in == location => {}
                    Some((first_name, _)) => sink.push(
                        "rust-names",
                        Some(&op.name),
                        &at,
                        format!(
                            "parameters `{first_name}` and `{name}` both become the Rust name `{rust}`"
                        ),
                    ),
                    None => {
                        seen.insert(rust, (name.to_string(), location.to_string()));
                    }
                }
            }
        }
    }
}

fn schema_names(doc: &Value, sink: &mut Sink) {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return;
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for name in schemas.keys() {
        let pointer = format!("/components/schemas/{}", escape(name));
        let pascal = rust_ident(name, true);
        let valid = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && name != "Self";
        if !valid {
            sink.push(
                "rust-names",
                None,
                &pointer,
                format!("schema name `{name}` must be a PascalCase identifier (ASCII letters and digits, starting with a capital), e.g. `{pascal}`"),
            );
        }
        if let Some(first) = seen.insert(pascal.clone(), name.clone()) {
            sink.push(
                "rust-names",
                None,
                &pointer,
                format!("schemas `{first}` and `{name}` both become the Rust type `{pascal}`"),
            );
        }
    }
}

fn property_names(doc: &Value, sink: &mut Sink) {
    for (pointer, schema) in all_schemas(doc) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let op = operation_of(doc, &pointer);
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for name in props.keys() {
            let rust = rust_ident(name, false);
            if let Some(first) = seen.insert(rust.clone(), name.clone()) {
                sink.push(
                    "rust-names",
                    op.as_deref(),
                    format!("{pointer}/properties/{}", escape(name)),
                    format!(
                        "properties `{first}` and `{name}` both become the Rust field `{rust}`"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::lint;
    use crate::lint::testing::variant;

    #[test]
    fn properties_colliding_in_snake_case() {
        let r = lint(&variant(
            "        id:\n          type: string\n        status:",
            "        id:\n          type: string\n        Id:\n          type: string\n        status:",
        ));
        let f = r.of_rule("rust-names");
        assert_eq!(f.len(), 1, "{r}");
        // Which of the two is reported depends on the map order serde_json was built with.
        assert!(f[0]
            .pointer
            .starts_with("/components/schemas/App/properties/"));
        assert!(f[0].message.contains("`id` and `Id`") || f[0].message.contains("`Id` and `id`"));
        assert!(f[0].message.contains("Rust field `id`"), "{r}");
        // Keywords are renamed by the generator (`type` -> `type_`): fine alone.
        let r = lint(&variant(
            "        id:\n          type: string\n        status:",
            "        id:\n          type: string\n        type:\n          type: string\n        status:",
        ));
        assert!(r.is_clean(), "{r}");
    }

    #[test]
    fn schema_names_are_pascal_case_and_distinct() {
        let r = lint(&variant("    Status:\n", "    status-code:\n"));
        assert!(!r.of_rule("rust-names").is_empty(), "{r}");
        let r = lint(&variant(
            "    ApiError:\n",
            "    APIError:\n      type: string\n    ApiError:\n",
        ));
        let f = r.of_rule("rust-names");
        assert!(
            f.iter()
                .any(|f| f.message.contains("both become the Rust type `ApiError`")),
            "{r}"
        );
    }

    #[test]
    fn parameters_colliding_or_shadowing_builder_methods() {
        let r = lint(&variant(
            "        - name: app_id\n          in: path\n          required: true\n          description: The app id.\n          schema:\n            type: string\n      responses:\n        '200':\n          description: The app.",
            "        - name: app_id\n          in: path\n          required: true\n          description: The app id.\n          schema:\n            type: string\n        - name: appId\n          in: query\n          description: Again.\n          schema:\n            type: string\n        - name: send\n          in: query\n          description: Send.\n          schema:\n            type: string\n      responses:\n        '200':\n          description: The app.",
        ));
        let f = r.of_rule("rust-names");
        assert_eq!(f.len(), 2, "{r}");
        assert!(f[0].message.contains("both become the Rust name `app_id`"));
        assert!(f[1].message.contains("builder method `send`"));
    }

    #[test]
    fn operation_ids_colliding_in_pascal_case() {
        let r = lint(&variant(
            "operationId: get_currentuser",
            "operationId: get_app2",
        ));
        assert!(r.of_rule("rust-names").is_empty(), "{r}");
        let r = lint(&variant(
            "operationId: get_app\n",
            "operationId: get_app2\n",
        ));
        let r2 = lint(&crate::lint::testing::spec(
            &crate::lint::testing::VALID
                .replacen("operationId: get_app\n", "operationId: get_app2\n", 1)
                .replacen("operationId: get_currentuser", "operationId: get_app_2", 1),
        ));
        assert!(r.of_rule("rust-names").is_empty(), "{r}");
        assert_eq!(r2.of_rule("rust-names").len(), 1, "{r2}");
    }
}
