//! When the generator fails on a spec that passed lint (a panic inside
//! progenitor or typify, an error, or generated code that defines an item
//! twice), this module finds the schema or operation it failed on, so that the
//! user gets a located finding (rule `generator`) instead of a backtrace.
//!
//! The generator is passed in (a closure), so this module depends on lint's
//! findings and the spec toolkit only. It regenerates subsets of the spec: each component schema with the schemas
//! it references, then each operation with the components it references,
//! then the whole spec without one operation at a time; inside the culprit it
//! blanks out subschemas, parameters and keywords one at a time to point at
//! the deepest node whose removal makes generation succeed.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use serde_json::{Map, Value};

use crate::lint::{add_subject_and_position, Finding};
use crate::spec::{escape, operations, resolve, subject_of, LoadedSpec, METHODS};

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, turning a panic into its message. While `f` runs on this thread,
/// the panic hook prints nothing (other threads keep the previous hook).
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was_quiet = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was_quiet));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// The first line of a message, cut to a readable length.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(160).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// Runs `generate` on `spec`; when it fails (an error or a panic), the
/// findings (rule `generator`) that blame the schemas or operations it fails on.
pub(crate) fn generate_or_blame<T>(
    spec: &LoadedSpec,
    generate: &dyn Fn(&LoadedSpec) -> Result<T, String>,
) -> Result<T, Vec<Finding>> {
    let attempt = |spec: &LoadedSpec| match catch(|| generate(spec)) {
        Ok(Ok(code)) => Ok(code),
        Ok(Err(e)) => Err(e),
        Err(panic) => Err(format!("panicked: {panic}")),
    };
    attempt(spec).map_err(|failure| blame(spec, &failure, &|sub| attempt(sub).err()))
}

/// Findings (rule `generator`) that blame the schemas or operations behind
/// `failure`, the message of a failed generation of `spec`. `fails`
/// regenerates a subset and returns its failure.
fn blame(
    spec: &LoadedSpec,
    failure: &str,
    fails: &dyn Fn(&LoadedSpec) -> Option<String>,
) -> Vec<Finding> {
    let doc = spec.json();
    let attempt = |value: Value| -> Option<String> {
        match LoadedSpec::from_json(spec.path.clone(), value) {
            Ok(sub) => fails(&sub),
            // A subset that does not load cannot tell us anything.
            Err(_) => None,
        }
    };
    let mut findings: Vec<Finding> = Vec::new();
    let finding = |pointer: String, what: &str, message: String| Finding {
        rule: "generator",
        operation: None,
        component: None,
        pointer,
        message: format!("the generator failed on {what}: {}", short(&message)),
        location: None,
    };

    // 1. The component schemas alone.
    if attempt(subset(doc, None)).is_some() {
        let names: Vec<String> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let mut failing: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
        for name in &names {
            let root = format!("#/components/schemas/{}", escape(name));
            let closure = closure(doc, [root.as_str()]);
            let sub = with_components(subset(doc, None), doc, &closure);
            if let Some(message) = attempt(sub) {
                failing.insert(root, (closure, message));
            }
        }
        for (root, (closure, message)) in &failing {
            // Report the schemas that fail by themselves, not those that only
            // reference a failing one.
            if closure
                .iter()
                .any(|other| other != root && failing.contains_key(other))
            {
                continue;
            }
            let sub = with_components(subset(doc, None), doc, closure);
            let pointer = root.trim_start_matches('#').to_string();
            let deepest = narrow_schema(&sub, &pointer, &attempt);
            let what = subject_of(&pointer).unwrap_or_else(|| pointer.clone());
            findings.push(finding(deepest, &what, message.clone()));
        }
    }
    // 2. Each operation with what it references.
    if findings.is_empty() {
        for op in operations(doc) {
            let sub = operation_subset(doc, op.path, op.method);
            if let Some(message) = attempt(sub.clone()) {
                let deepest = narrow_operation(&sub, &op.pointer, &attempt);
                findings.push(finding(
                    deepest,
                    &format!("operation `{}`", op.name),
                    message,
                ));
            }
        }
    }
    // 3. Operations that fail only together: the whole spec without one of them.
    if findings.is_empty() {
        for op in operations(doc) {
            let mut without = doc.clone();
            if let Some(item) = without
                .pointer_mut(&format!("/paths/{}", escape(op.path)))
                .and_then(Value::as_object_mut)
            {
                item.remove(op.method);
            }
            if attempt(without).is_none() {
                findings.push(finding(
                    op.pointer.clone(),
                    &format!("operation `{}` together with the rest of the spec", op.name),
                    failure.to_string(),
                ));
            }
        }
    }
    if findings.is_empty() {
        findings.push(finding(
            "/paths".into(),
            "the spec as a whole (no single schema or operation could be blamed)",
            failure.to_string(),
        ));
    }
    add_subject_and_position(spec, &mut findings);
    findings
}

/// The document with `paths` emptied (or replaced) and every component kept.
fn subset(doc: &Value, paths: Option<Value>) -> Value {
    let mut out = doc.clone();
    if let Some(map) = out.as_object_mut() {
        map.insert(
            "paths".into(),
            paths.unwrap_or_else(|| Value::Object(Map::new())),
        );
    }
    out
}

/// `out` with its components cut down to the `#/components/...` pointers in `keep`.
fn with_components(mut out: Value, doc: &Value, keep: &BTreeSet<String>) -> Value {
    let Some(components) = doc.get("components").and_then(Value::as_object) else {
        return out;
    };
    let mut kept = Map::new();
    for (kind, items) in components {
        let Some(items) = items.as_object() else {
            kept.insert(kind.clone(), items.clone());
            continue;
        };
        if kind == "securitySchemes" {
            kept.insert(kind.clone(), Value::Object(items.clone()));
            continue;
        }
        let filtered: Map<String, Value> = items
            .iter()
            .filter(|(name, _)| {
                keep.contains(&format!("#/components/{}/{}", escape(kind), escape(name)))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        kept.insert(kind.clone(), Value::Object(filtered));
    }
    if let Some(map) = out.as_object_mut() {
        map.insert("components".into(), Value::Object(kept));
    }
    out
}

/// The `#/components/...` references reachable from `roots`, roots included.
fn closure<'a>(doc: &Value, roots: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().map(str::to_string).collect();
    while let Some(reference) = todo.pop() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        if let Some(target) = resolve(doc, &reference) {
            refs_in(target, &mut todo);
        }
    }
    seen
}

fn refs_in(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_string()),
                    _ => refs_in(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs_in(i, out)),
        _ => {}
    }
}

/// The document with one operation (and its path item's parameters) and the
/// components it references.
fn operation_subset(doc: &Value, path: &str, method: &str) -> Value {
    let item_pointer = format!("/paths/{}", escape(path));
    let mut item = Map::new();
    if let Some(original) = doc.pointer(&item_pointer).and_then(Value::as_object) {
        for (key, value) in original {
            if key == method || !METHODS.contains(&key.as_str()) {
                item.insert(key.clone(), value.clone());
            }
        }
    }
    let item = Value::Object(item);
    let mut refs = Vec::new();
    refs_in(&item, &mut refs);
    let keep = closure(doc, refs.iter().map(String::as_str));
    let mut paths = Map::new();
    paths.insert(path.to_string(), item);
    with_components(subset(doc, Some(Value::Object(paths))), doc, &keep)
}

/// The children of a schema that can be blanked out one at a time.
fn schema_children(schema: &Value, pointer: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(map) = schema.as_object() else {
        return out;
    };
    let mut names: Vec<&String> = map
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .collect();
    names.sort();
    for name in names {
        out.push(format!("{pointer}/properties/{}", escape(name)));
    }
    for key in ["items", "additionalProperties", "not"] {
        if map.get(key).is_some_and(Value::is_object) {
            out.push(format!("{pointer}/{key}"));
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        let count = map.get(key).and_then(Value::as_array).map_or(0, Vec::len);
        out.extend((0..count).map(|i| format!("{pointer}/{key}/{i}")));
    }
    out
}

/// The deepest node under `pointer` whose blanking makes generation succeed.
fn narrow_schema(doc: &Value, pointer: &str, attempt: &dyn Fn(Value) -> Option<String>) -> String {
    let Some(schema) = doc.pointer(pointer) else {
        return pointer.to_string();
    };
    for child in schema_children(schema, pointer) {
        let mut blanked = doc.clone();
        if let Some(slot) = blanked.pointer_mut(&child) {
            *slot = Value::Object(Map::new());
        }
        if attempt(blanked).is_none() {
            return narrow_schema(doc, &child, attempt);
        }
    }
    narrow_keywords(doc, pointer, attempt)
}

/// A keyword (or one enum value) of the node whose removal makes generation succeed.
fn narrow_keywords(
    doc: &Value,
    pointer: &str,
    attempt: &dyn Fn(Value) -> Option<String>,
) -> String {
    let Some(node) = doc.pointer(pointer).and_then(Value::as_object) else {
        return pointer.to_string();
    };
    // A fixed order whatever the map's (serde_json's `preserve_order` may be on
    // in some builds): `enum` first, the most precise place, then by name.
    let mut keys: Vec<&String> = node.keys().collect();
    keys.sort_by_key(|k| (k.as_str() != "enum", k.as_str()));
    for key in keys {
        if matches!(key.as_str(), "properties" | "required" | "description") {
            continue;
        }
        let mut removed = doc.clone();
        if let Some(map) = removed.pointer_mut(pointer).and_then(Value::as_object_mut) {
            map.remove(key);
        }
        if attempt(removed).is_some() {
            continue;
        }
        let at = format!("{pointer}/{}", escape(key));
        if key == "enum" {
            let count = node
                .get("enum")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            // From the end, so that of two colliding values the later one is named.
            for i in (0..count).rev() {
                let mut without = doc.clone();
                if let Some(values) = without.pointer_mut(&at).and_then(Value::as_array_mut) {
                    values.remove(i);
                }
                if attempt(without).is_none() {
                    return format!("{at}/{i}");
                }
            }
        }
        return at;
    }
    pointer.to_string()
}

/// The parameter, body or response of an operation whose removal makes generation succeed.
fn narrow_operation(
    doc: &Value,
    pointer: &str,
    attempt: &dyn Fn(Value) -> Option<String>,
) -> String {
    let Some(op) = doc.pointer(pointer) else {
        return pointer.to_string();
    };
    let mut parts: Vec<String> = Vec::new();
    let count = op
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    parts.extend((0..count).map(|i| format!("{pointer}/parameters/{i}")));
    if op.get("requestBody").is_some() {
        parts.push(format!("{pointer}/requestBody"));
    }
    let mut codes: Vec<&String> = op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .collect();
    codes.sort();
    for code in codes {
        parts.push(format!("{pointer}/responses/{}", escape(code)));
    }
    for part in parts {
        let mut removed = doc.clone();
        remove(&mut removed, &part);
        if attempt(removed).is_none() {
            return part;
        }
    }
    narrow_keywords(doc, pointer, attempt)
}

/// Removes the node at `pointer` from its parent object or array.
fn remove(doc: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>() {
                if i < items.len() {
                    items.remove(i);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_returns_the_message_and_keeps_the_result() {
        assert_eq!(catch(|| 3), Ok(3));
        let err = catch(|| -> u8 { panic!("boom {}", 1) }).unwrap_err();
        assert_eq!(err, "boom 1");
        let err = catch(|| -> u8 { std::panic::panic_any(5u8) }).unwrap_err();
        assert_eq!(err, "a panic without a message");
    }

    /// Generates without lint, so that the generator meets what lint would stop.
    fn unlinted(text: &str) -> Vec<Finding> {
        let spec = crate::LoadedSpec::from_str("test.yaml", text.to_string()).unwrap();
        match crate::generate::convert_located(&spec, &crate::Options::for_spec("test.yaml")) {
            Ok(_) => Vec::new(),
            Err(crate::GenerateError::Lint { report, .. }) => report.findings,
            Err(other) => panic!("not located: {other}"),
        }
    }

    fn valid() -> &'static str {
        crate::lint::testing::VALID
    }

    #[test]
    fn the_fixture_generates() {
        assert!(unlinted(valid()).is_empty());
    }

    #[test]
    fn a_progenitor_panic_is_located_at_the_keyword() {
        let text = valid().replacen(
            "        id:\n          type: string",
            "        id:\n          type: strnig",
            1,
        );
        let findings = unlinted(&text);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule, "generator");
        assert_eq!(f.pointer, "/components/schemas/App/properties/id/type");
        assert_eq!(f.component.as_deref(), Some("schema `App`"));
        assert!(f.message.contains("invalid type: strnig"), "{}", f.message);
        let location = f.location.as_ref().unwrap();
        assert_eq!(
            (location.line, location.column),
            (
                text.lines().position(|l| l.contains("strnig")).unwrap() + 1,
                11
            )
        );
    }

    #[test]
    fn a_post_processing_panic_is_located_at_the_enum_value() {
        let text = valid().replacen("enum: [active, inactive]", "enum: [active, '!!!']", 1);
        let findings = unlinted(&text);
        assert_eq!(findings.len(), 1, "{findings:?}");
        // A flow sequence: the walker finds the `enum` key's line.
        assert_eq!(findings[0].pointer, "/components/schemas/Status/enum/1");
        assert!(findings[0].location.as_ref().unwrap().line > 1);
    }

    #[test]
    fn duplicate_variants_are_located() {
        let text = valid().replacen("enum: [active, inactive]", "enum: [active, Active]", 1);
        let findings = unlinted(&text);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].pointer, "/components/schemas/Status/enum/1");
        assert!(
            findings[0].message.contains("`Active`"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn an_operation_failure_is_located_at_the_operation_part() {
        // Two media types for one request body make progenitor panic.
        let body = "      x-idempotent: true\n      requestBody:\n        content:\n          application/json:\n            schema:\n              $ref: '#/components/schemas/App'\n          application/x-www-form-urlencoded:\n            schema:\n              $ref: '#/components/schemas/App'\n      parameters:";
        let text = valid().replacen("      x-idempotent: true\n      parameters:", body, 1);
        let findings = unlinted(&text);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].operation.as_deref(), Some("get_app"));
        assert_eq!(
            findings[0].pointer,
            "/paths/~1apps~1{app_id}/get/requestBody"
        );
        assert!(
            findings[0].message.contains("operation `get_app`"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn closures_follow_references_through_components() {
        let doc = serde_json::json!({
            "components": {
                "schemas": {
                    "A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}},
                    "B": {"items": {"$ref": "#/components/schemas/C"}},
                    "C": {"type": "string"},
                    "D": {"type": "string"}
                }
            }
        });
        let got = closure(&doc, ["#/components/schemas/A"]);
        let want: BTreeSet<String> = ["A", "B", "C"]
            .iter()
            .map(|n| format!("#/components/schemas/{n}"))
            .collect();
        assert_eq!(got, want);
    }
}
