//! Document-level rules: `openapi-version`, `info-version-semver`,
//! `refs-resolve`, `ref-cycle`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Sink;
use crate::spec::{escape, operation_of, resolve};

/// Runs the document-level rules.
pub(crate) fn check(doc: &Value, sink: &mut Sink) {
    match doc.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        other => sink.push(
            "openapi-version",
            None,
            "/openapi",
            format!("the spec must be OpenAPI 3.0.x (progenitor reads 3.0), found {other:?}"),
        ),
    }
    let version = doc.pointer("/info/version").and_then(Value::as_str);
    match version.map(semver::Version::parse) {
        Some(Ok(_)) => {}
        Some(Err(e)) => sink.push(
            "info-version-semver",
            None,
            "/info/version",
            format!(
                "info.version {:?} is not semver: {e}",
                version.unwrap_or_default()
            ),
        ),
        None => sink.push(
            "info-version-semver",
            None,
            "/info/version",
            "info.version is missing",
        ),
    }
    check_refs(doc, doc, String::new(), sink);
    ref_cycles(doc, sink);
}

/// The component kind a `$ref` held at `holder` (a pointer) must name, when
/// the place says it.
fn expected_kind(holder: &str) -> Option<&'static str> {
    let segments: Vec<&str> = holder.split('/').skip(1).collect();
    if segments.starts_with(&["components", "schemas"]) || segments.contains(&"schema") {
        return Some("schemas");
    }
    let last = *segments.last()?;
    let parent = segments.len().checked_sub(2).map(|i| segments[i]);
    match (segments.as_slice(), parent, last) {
        (["components", "parameters", _], _, _) => Some("parameters"),
        (["components", "responses", _], _, _) => Some("responses"),
        (["components", "requestBodies", _], _, _) => Some("requestBodies"),
        (["components", "headers", _], _, _) => Some("headers"),
        (_, Some("parameters"), index) if index.parse::<usize>().is_ok() => Some("parameters"),
        (["paths", _, _, "responses", _], _, _) => Some("responses"),
        (["paths", _, _, "requestBody"], _, _) => Some("requestBodies"),
        (_, Some("headers"), _) => Some("headers"),
        _ => None,
    }
}

/// Checks the form of a local reference: `#/components/<kind>/<Name>`.
fn ref_form(reference: &str, holder: &str) -> Result<(), String> {
    let parts: Vec<&str> = reference.trim_start_matches("#/").split('/').collect();
    let ["components", kind, _name] = parts.as_slice() else {
        return Err(format!(
            "`$ref: {reference}` must name a component directly (`#/components/<kind>/<Name>`)"
        ));
    };
    match expected_kind(holder) {
        Some(expected) if expected != *kind => Err(format!(
            "`$ref: {reference}` names a component of `{kind}`, but this place needs one of `components/{expected}`"
        )),
        _ => Ok(()),
    }
}

/// The component schemas a schema is defined through (its `$ref` and the
/// members of its `allOf`/`oneOf`/`anyOf`, recursively), not what it contains.
fn definition_refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        out.push(r);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for member in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            definition_refs(member, out);
        }
    }
}

fn ref_cycles(doc: &Value, sink: &mut Sink) {
    // component pointer -> the component pointers it is defined through
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, items) in doc
        .get("components")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (name, item) in items.as_object().into_iter().flatten() {
            let from = format!("#/components/{}/{}", escape(kind), escape(name));
            let mut refs = Vec::new();
            if kind == "schemas" {
                definition_refs(item, &mut refs);
            } else if let Some(r) = item.get("$ref").and_then(Value::as_str) {
                refs.push(r);
            }
            edges.insert(from, refs.into_iter().map(str::to_string).collect());
        }
    }
    for start in edges.keys() {
        // Depth-first search for a path back to `start`, keeping the path for the message.
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut visited = BTreeSet::new();
        let mut cycle = None;
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == start {
                    cycle = Some(path.clone());
                    break;
                }
                if visited.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
            if cycle.is_some() {
                break;
            }
        }
        if let Some(mut path) = cycle {
            path.push(start.clone());
            let names: Vec<&str> = path
                .iter()
                .map(|p| p.rsplit('/').next().unwrap_or(p))
                .collect();
            sink.push(
                "ref-cycle",
                None,
                start.trim_start_matches('#'),
                format!(
                    "`{}` is defined through itself ({}), a loop the generator would follow forever",
                    names[0],
                    names.join(" -> ")
                ),
            );
        }
    }
}

fn check_refs(doc: &Value, node: &Value, pointer: String, sink: &mut Sink) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let child = format!("{pointer}/{}", escape(key));
                if key == "$ref" {
                    match value.as_str() {
                        Some(r) if r.starts_with("#/") => {
                            if resolve(doc, r).is_none() {
                                sink.push(
                                    "refs-resolve",
                                    operation_of(doc, &pointer).as_deref(),
                                    child,
                                    format!("`$ref: {r}` does not resolve to anything in the spec"),
                                );
                            } else if let Err(message) = ref_form(r, &pointer) {
                                sink.push(
                                    "refs-resolve",
                                    operation_of(doc, &pointer).as_deref(),
                                    child,
                                    message,
                                );
                            }
                        }
                        _ => sink.push(
                            "refs-resolve",
                            operation_of(doc, &pointer).as_deref(),
                            child,
                            format!("only local references (`#/...`) are allowed, found {value}"),
                        ),
                    }
                } else {
                    check_refs(doc, value, child, sink);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_refs(doc, item, format!("{pointer}/{i}"), sink);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::lint;
    use crate::lint::testing::variant;

    #[test]
    fn version_must_be_semver() {
        let report = lint(&variant("version: 1.2.3", "version: '1.2'"));
        let f = report.of_rule("info-version-semver");
        assert_eq!(f.len(), 1, "{report}");
        assert!(f[0].message.contains("\"1.2\""));
        assert_eq!(f[0].location.as_ref().map(|l| l.line), Some(4));
    }

    #[test]
    fn openapi_must_be_3_0() {
        let report = lint(&variant("openapi: 3.0.3", "openapi: 3.1.0"));
        assert_eq!(report.of_rule("openapi-version").len(), 1, "{report}");
    }

    #[test]
    fn refs_name_a_component_of_the_right_kind() {
        let r = lint(&variant(
            "$ref: '#/components/schemas/GetAppResponse'",
            "$ref: '#/components/schemas/GetAppResponse/properties/app'",
        ));
        assert!(
            r.of_rule("refs-resolve")[0].message.contains("directly"),
            "{r}"
        );
        let r = lint(&variant(
            "$ref: '#/components/responses/NotFound'",
            "$ref: '#/components/schemas/ApiError'",
        ));
        let f = r.of_rule("refs-resolve");
        assert_eq!(f.len(), 1, "{r}");
        assert!(
            f[0].message.contains("needs one of `components/responses`"),
            "{r}"
        );
    }

    #[test]
    fn definition_loops_are_reported_but_containment_is_fine() {
        let r = lint(&variant(
            "    Status:\n      type: string\n      enum: [active, inactive]",
            "    Status:\n      $ref: '#/components/schemas/Other'\n    Other:\n      allOf:\n        - $ref: '#/components/schemas/Status'",
        ));
        let f = r.of_rule("ref-cycle");
        assert_eq!(f.len(), 2, "{r}");
        assert!(
            f.iter()
                .any(|f| f.message.contains("Status -> Other -> Status")),
            "{r}"
        );
        // A tree: an object that contains itself through a property.
        let r = lint(&variant(
            "        status:\n          $ref: '#/components/schemas/Status'",
            "        status:\n          $ref: '#/components/schemas/Status'\n        parent:\n          $ref: '#/components/schemas/App'",
        ));
        assert!(r.of_rule("ref-cycle").is_empty(), "{r}");
    }

    #[test]
    fn dangling_refs_are_reported_with_their_operation() {
        let report = lint(&variant(
            "$ref: '#/components/schemas/GetAppResponse'",
            "$ref: '#/components/schemas/Missing'",
        ));
        let f = report.of_rule("refs-resolve");
        assert_eq!(f.len(), 1, "{report}");
        assert_eq!(f[0].operation.as_deref(), Some("get_app"));
        assert!(f[0]
            .pointer
            .ends_with("/content/application~1json/schema/$ref"));
    }
}
