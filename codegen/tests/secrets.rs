//! The operation table's secret places are exactly the spec's: this test
//! derives them from the YAML on its own (a separate, deliberately simple
//! walk: every `$ref` followed, parameters, request bodies, JSON and form
//! fields), then compares them with what the generator wrote. A new secret
//! parameter or field in the spec therefore can never be missed silently.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value;

mod common;

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/passage-auth.yaml");

#[derive(Debug, Default, PartialEq, Eq)]
struct Places {
    query: BTreeSet<String>,
    body: BTreeSet<String>,
}

fn lookup<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let mut node = doc;
    for segment in reference.trim_start_matches("#/").split('/') {
        node = &node[segment];
    }
    node
}

/// Follows `$ref` until a node without one.
fn follow<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(r) = node.get("$ref").and_then(Value::as_str) {
        node = lookup(doc, r);
    }
    node
}

fn is_password(doc: &Value, node: &Value) -> bool {
    let node = follow(doc, node);
    if node.get("format").and_then(Value::as_str) == Some("password") {
        return true;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(items) = node.get(key).and_then(Value::as_sequence) {
            if items.len() == 1 && is_password(doc, &items[0]) {
                return true;
            }
        }
    }
    false
}

fn body_fields(
    doc: &Value,
    node: &Value,
    prefix: &str,
    seen: &mut Vec<String>,
    out: &mut BTreeSet<String>,
) {
    if is_password(doc, node) {
        out.insert(prefix.trim_start_matches('/').to_string());
        return;
    }
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        if seen.iter().any(|s| s == r) {
            return;
        }
        seen.push(r.to_string());
        body_fields(doc, lookup(doc, r), prefix, seen, out);
        seen.pop();
        return;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in node
            .get(key)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            body_fields(doc, part, prefix, seen, out);
        }
    }
    if let Some(props) = node.get("properties").and_then(Value::as_mapping) {
        for (name, prop) in props {
            let name = name.as_str().unwrap();
            body_fields(doc, prop, &format!("{prefix}/{name}"), seen, out);
        }
    }
    if let Some(items) = node.get("items") {
        body_fields(doc, items, &format!("{prefix}/*"), seen, out);
    }
}

fn expected() -> BTreeMap<String, Places> {
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(SPEC).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for (_, item) in doc["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            if method.as_str() == Some("parameters") {
                continue;
            }
            let id = op["operationId"].as_str().unwrap().to_string();
            let mut places = Places::default();
            for param in op
                .get("parameters")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                let param = follow(&doc, param);
                if param["in"].as_str() == Some("query") && is_password(&doc, &param["schema"]) {
                    places
                        .query
                        .insert(param["name"].as_str().unwrap().to_string());
                }
            }
            if let Some(body) = op.get("requestBody") {
                let body = follow(&doc, body);
                for (_, media) in body["content"].as_mapping().into_iter().flatten() {
                    body_fields(
                        &doc,
                        &media["schema"],
                        "",
                        &mut Vec::new(),
                        &mut places.body,
                    );
                }
            }
            out.insert(id, places);
        }
    }
    out
}

/// The secret places of every operation, as the generated operation table lists them.
fn generated() -> BTreeMap<String, Places> {
    let spec = passage_codegen::load(std::path::Path::new(SPEC)).unwrap();
    let generated = passage_codegen::generate(&spec).unwrap();
    let (rows, _) = common::operation_rows(&generated.code);
    rows.into_iter()
        .map(|row| {
            (
                row.operation_id,
                Places {
                    query: row.secret_query.into_iter().collect(),
                    body: row.secret_body.into_iter().collect(),
                },
            )
        })
        .collect()
}

#[test]
fn the_operation_table_holds_every_secret_place_of_the_spec() {
    let expected = expected();
    let generated = generated();
    assert_eq!(generated, expected);
    // The spec does have secrets in each kind of place (so the comparison is not of empty sets).
    let queries: usize = expected.values().map(|p| p.query.len()).sum();
    let bodies: usize = expected.values().map(|p| p.body.len()).sum();
    assert!(
        queries > 0 && bodies > 0,
        "queries {queries}, body fields {bodies}"
    );
    eprintln!(
        "{} operations: {queries} secret query parameters, {bodies} secret body fields",
        expected.len()
    );
}
