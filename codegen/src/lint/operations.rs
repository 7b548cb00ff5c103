//! Operation rules: `operation-id`, `summary-and-tag`, `parameter-description`,
//! `security-declared`, `retry-safety-declared`, `path-parameters`, `request-body`,
//! `parameter-schema`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Sink;
use crate::spec::{escape, operations, resolve, OperationRef};

/// Runs the operation rules.
pub(crate) fn check(doc: &Value, sink: &mut Sink) {
    let declared_tags: BTreeSet<&str> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let schemes: BTreeSet<&str> = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if doc.get("security").is_some() {
        sink.push(
            "security-declared",
            None,
            "/security",
            "no global `security`: declare it on each operation",
        );
    }

    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for op in operations(doc) {
        operation_id(&op, &mut seen, sink);
        summary_and_tag(&op, &declared_tags, sink);
        parameter_descriptions(doc, &op, sink);
        security(&op, &schemes, sink);
        retry_safety(&op, sink);
        path_parameters(doc, &op, sink);
        request_body(doc, &op, sink);
        parameter_schemas(doc, &op, sink);
    }
}

/// Follows a chain of `$ref`s (at most a few: loops are `ref-cycle`'s).
fn follow<'a>(doc: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => node = resolve(doc, r)?,
            None => return Some(node),
        }
    }
    None
}

const SCALARS: [&str; 4] = ["string", "integer", "number", "boolean"];

/// Why a parameter schema is not one progenitor can put in a path, query or header.
fn parameter_schema_problem(doc: &Value, schema: &Value, place: &str) -> Option<String> {
    let schema = follow(doc, schema)?;
    if let Some(k) = ["allOf", "oneOf", "anyOf", "not"]
        .into_iter()
        .find(|k| schema.get(*k).is_some())
    {
        return Some(format!("its schema uses `{k}`"));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some(t) if SCALARS.contains(&t) => None,
        Some("array") if place == "query" => {
            let items = schema.get("items").and_then(|i| follow(doc, i));
            match items.and_then(|i| i.get("type")).and_then(Value::as_str) {
                Some(t) if SCALARS.contains(&t) => None,
                _ => Some("its array items are not a string, integer, number or boolean".into()),
            }
        }
        Some(t) => Some(format!("its schema has `type: {t}`")),
        None => Some("its schema has no `type`".into()),
    }
}

fn parameter_schemas(doc: &Value, op: &OperationRef<'_>, sink: &mut Sink) {
    let path_level = format!("/paths/{}/parameters", escape(op.path));
    for (base, params) in [
        (path_level.clone(), doc.pointer(&path_level)),
        (
            format!("{}/parameters", op.pointer),
            op.value.get("parameters"),
        ),
    ] {
        for (i, param) in params
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{base}/{i}");
            let Some(param) = follow(doc, param) else {
                continue;
            };
            let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
            let place = param.get("in").and_then(Value::as_str).unwrap_or("");
            let Some(schema) = param.get("schema") else {
                sink.push(
                    "parameter-schema",
                    Some(&op.name),
                    at,
                    format!(
                        "parameter `{name}` needs a `schema` (the `content` form is not supported)"
                    ),
                );
                continue;
            };
            if let Some(problem) = parameter_schema_problem(doc, schema, place) {
                sink.push(
                    "parameter-schema",
                    Some(&op.name),
                    format!("{at}/schema"),
                    format!(
                        "parameter `{name}` (in {place}) must be a string, integer, number or boolean{}, but {problem}",
                        if place == "query" { " (or an array of them)" } else { "" }
                    ),
                );
            }
        }
    }
}

/// The `{names}` of a path template, or why the template is malformed.
pub(crate) fn template_names(path: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = path;
    if !path.starts_with('/') {
        return Err("a path must start with `/`".into());
    }
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("`}` without a matching `{`".into());
        }
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}'])
            .filter(|&c| after[c..].starts_with('}'))
            .ok_or("`{` without a matching `}`")?;
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{{{name}}}` is not a parameter name (letters, digits and `_`)"
            ));
        }
        names.push(name.to_string());
        rest = &after[close + 1..];
    }
    Ok(names)
}

fn path_parameters(doc: &Value, op: &OperationRef<'_>, sink: &mut Sink) {
    let names = match template_names(op.path) {
        Ok(names) => names,
        Err(why) => {
            sink.push(
                "path-parameters",
                Some(&op.name),
                format!("/paths/{}", escape(op.path)),
                format!("path template `{}`: {why}", op.path),
            );
            return;
        }
    };
    // (name, in) -> pointer; the operation's parameters override the path item's.
    let mut declared: BTreeMap<(String, String), (String, bool)> = BTreeMap::new();
    let path_level = format!("/paths/{}/parameters", escape(op.path));
    for (base, params, overrides) in [
        (path_level.clone(), doc.pointer(&path_level), false),
        (
            format!("{}/parameters", op.pointer),
            op.value.get("parameters"),
            true,
        ),
    ] {
        let mut level: BTreeSet<(String, String)> = BTreeSet::new();
        for (i, param) in params
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{base}/{i}");
            let param = match param.get("$ref").and_then(Value::as_str) {
                Some(r) => match resolve(doc, r) {
                    Some(p) => p,
                    None => continue,
                },
                None => param,
            };
            let (Some(name), Some(place)) = (
                param.get("name").and_then(Value::as_str),
                param.get("in").and_then(Value::as_str),
            ) else {
                continue; // the loader rejects a parameter without them
            };
            let key = (name.to_string(), place.to_string());
            if !level.insert(key.clone()) {
                sink.push(
                    "path-parameters",
                    Some(&op.name),
                    &at,
                    format!("parameter `{name}` (in {place}) is declared twice"),
                );
                continue;
            }
            let required = param.get("required").and_then(Value::as_bool) == Some(true);
            if overrides || !declared.contains_key(&key) {
                declared.insert(key, (at, required));
            }
        }
    }
    for ((name, place), (at, required)) in &declared {
        if place != "path" {
            continue;
        }
        if !names.contains(name) {
            sink.push(
                "path-parameters",
                Some(&op.name),
                at,
                format!(
                    "path parameter `{name}` does not appear in the path `{}`",
                    op.path
                ),
            );
        } else if !required {
            sink.push(
                "path-parameters",
                Some(&op.name),
                at,
                format!("path parameter `{name}` must have `required: true`"),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for name in &names {
        if !seen.insert(name) {
            sink.push(
                "path-parameters",
                Some(&op.name),
                format!("/paths/{}", escape(op.path)),
                format!("`{{{name}}}` appears twice in the path `{}`", op.path),
            );
        } else if !declared.contains_key(&(name.clone(), "path".to_string())) {
            sink.push(
                "path-parameters",
                Some(&op.name),
                &op.pointer,
                format!("`{{{name}}}` of the path has no `in: path` parameter"),
            );
        }
    }
}

/// The media types progenitor can encode a request body as.
const BODY_MEDIA: [&str; 2] = ["application/json", "application/x-www-form-urlencoded"];

fn request_body(doc: &Value, op: &OperationRef<'_>, sink: &mut Sink) {
    let Some(body) = op.value.get("requestBody") else {
        return;
    };
    let mut pointer = format!("{}/requestBody", op.pointer);
    let body = match body.get("$ref").and_then(Value::as_str) {
        Some(r) => match resolve(doc, r) {
            Some(target) => {
                pointer.push_str("/$ref");
                target
            }
            None => return,
        },
        None => body,
    };
    let Some(content) = body.get("content").and_then(Value::as_object) else {
        return; // the loader rejects a body without content
    };
    if content.len() != 1 {
        sink.push(
            "request-body",
            Some(&op.name),
            format!("{pointer}/content"),
            format!(
                "a request body offers exactly one media type, found {}",
                content.len()
            ),
        );
    }
    for (media, item) in content {
        let at = format!("{pointer}/content/{}", escape(media));
        if !BODY_MEDIA.contains(&media.as_str()) {
            sink.push(
                "request-body",
                Some(&op.name),
                &at,
                format!(
                    "media type `{media}` is not one of {}",
                    BODY_MEDIA.join(", ")
                ),
            );
        }
        if item.get("schema").is_none() {
            sink.push(
                "request-body",
                Some(&op.name),
                &at,
                "the request body needs a `schema`",
            );
        }
        if item
            .get("encoding")
            .is_some_and(|e| e.as_object().is_none_or(|m| !m.is_empty()))
        {
            sink.push(
                "request-body",
                Some(&op.name),
                format!("{at}/encoding"),
                "`encoding` is not supported by the generator",
            );
        }
    }
}

fn operation_id(op: &OperationRef<'_>, seen: &mut BTreeMap<String, String>, sink: &mut Sink) {
    let Some(id) = op.value.get("operationId").and_then(Value::as_str) else {
        sink.push(
            "operation-id",
            Some(&op.name),
            &op.pointer,
            "operationId is missing",
        );
        return;
    };
    if !is_snake_case(id) {
        sink.push(
            "operation-id",
            Some(&op.name),
            format!("{}/operationId", op.pointer),
            format!("operationId `{id}` must be snake_case (lower-case words joined by `_`)"),
        );
    }
    if let Some(first) = seen.insert(id.to_string(), op.pointer.clone()) {
        sink.push(
            "operation-id",
            Some(&op.name),
            format!("{}/operationId", op.pointer),
            format!("operationId `{id}` is used twice (also at {first})"),
        );
    }
}

/// `a_b2_c`: lower-case ASCII words joined by single underscores.
pub(crate) fn is_snake_case(id: &str) -> bool {
    !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('_')
        && !id.contains("__")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn summary_and_tag(op: &OperationRef<'_>, declared: &BTreeSet<&str>, sink: &mut Sink) {
    for field in ["summary", "description"] {
        let text = op.value.get(field).and_then(Value::as_str).unwrap_or("");
        if text.trim().is_empty() {
            sink.push(
                "summary-and-tag",
                Some(&op.name),
                &op.pointer,
                format!("`{field}` is missing or empty"),
            );
        }
    }
    let tags: Vec<&str> = op
        .value
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match tags.as_slice() {
        [tag] if declared.contains(tag) => {}
        [tag] => sink.push(
            "summary-and-tag",
            Some(&op.name),
            format!("{}/tags/0", op.pointer),
            format!("tag `{tag}` is not declared in the top-level `tags`"),
        ),
        _ => sink.push(
            "summary-and-tag",
            Some(&op.name),
            &op.pointer,
            format!(
                "an operation needs exactly one tag (its API area), found {}",
                tags.len()
            ),
        ),
    }
}

fn parameter_descriptions(doc: &Value, op: &OperationRef<'_>, sink: &mut Sink) {
    let Some(params) = op.value.get("parameters").and_then(Value::as_array) else {
        return;
    };
    for (i, param) in params.iter().enumerate() {
        let param = match param.get("$ref").and_then(Value::as_str) {
            Some(r) => match resolve(doc, r) {
                Some(p) => p,
                None => continue, // reported by refs-resolve
            },
            None => param,
        };
        let described = param
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.trim().is_empty());
        if !described {
            let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
            sink.push(
                "parameter-description",
                Some(&op.name),
                format!("{}/parameters/{i}", op.pointer),
                format!("parameter `{name}` needs a description"),
            );
        }
    }
}

fn security(op: &OperationRef<'_>, schemes: &BTreeSet<&str>, sink: &mut Sink) {
    let Some(security) = op.value.get("security") else {
        sink.push(
            "security-declared",
            Some(&op.name),
            &op.pointer,
            "declare `security` on every operation (`security: []` when it needs no credential)",
        );
        return;
    };
    let used: Vec<&str> = security
        .as_array()
        .map(|reqs| {
            reqs.iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.keys().map(String::as_str))
                .collect()
        })
        .unwrap_or_default();
    for scheme in &used {
        if !schemes.contains(scheme) {
            sink.push(
                "security-declared",
                Some(&op.name),
                format!("{}/security", op.pointer),
                format!("security scheme `{scheme}` is not in components.securitySchemes"),
            );
        }
    }
    // The current user's operations act for a signed-in user: they need the bearer token.
    if op.path.contains("/currentuser") && !used.contains(&"bearerAuth") {
        sink.push(
            "security-declared",
            Some(&op.name),
            format!("{}/security", op.pointer),
            "current-user operations must require `bearerAuth` (the user's auth token)",
        );
    }
}

fn retry_safety(op: &OperationRef<'_>, sink: &mut Sink) {
    if !op.value.get("x-idempotent").is_some_and(Value::is_boolean) {
        sink.push(
            "retry-safety-declared",
            Some(&op.name),
            &op.pointer,
            "declare `x-idempotent: true|false` (whether the client may retry it after a failure)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_snake_case;
    use crate::lint::lint;
    use crate::lint::testing::variant;

    #[test]
    fn snake_case_ids() {
        assert!(is_snake_case("get_app"));
        assert!(is_snake_case("oauth2_callback"));
        for bad in ["getApp", "Get-app", "get-app", "_x", "x_", "a__b", ""] {
            assert!(!is_snake_case(bad), "{bad}");
        }
    }

    #[test]
    fn operation_id_missing_cased_or_duplicated() {
        let r = lint(&variant("      operationId: get_app\n", ""));
        assert_eq!(
            r.of_rule("operation-id")[0].message,
            "operationId is missing"
        );
        assert_eq!(
            r.of_rule("operation-id")[0].operation.as_deref(),
            Some("GET /apps/{app_id}")
        );

        let r = lint(&variant("operationId: get_app", "operationId: getApp"));
        assert!(
            r.of_rule("operation-id")[0].message.contains("snake_case"),
            "{r}"
        );

        let r = lint(&variant(
            "operationId: get_currentuser",
            "operationId: get_app",
        ));
        assert!(
            r.of_rule("operation-id")[0].message.contains("used twice"),
            "{r}"
        );
    }

    #[test]
    fn summary_description_and_one_declared_tag() {
        let r = lint(&variant("      description: Returns the app.\n", ""));
        assert!(r.of_rule("summary-and-tag")[0]
            .message
            .contains("`description`"));
        let r = lint(&variant("tags: [Apps]", "tags: [Apps, Currentuser]"));
        assert!(r.of_rule("summary-and-tag")[0]
            .message
            .contains("exactly one tag"));
        let r = lint(&variant("tags: [Apps]", "tags: [Nope]"));
        assert!(r.of_rule("summary-and-tag")[0]
            .message
            .contains("`Nope` is not declared"));
    }

    #[test]
    fn parameters_need_descriptions() {
        let r = lint(&variant("          description: The app id.\n", ""));
        let f = r.of_rule("parameter-description");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(f[0].pointer, "/paths/~1apps~1{app_id}/get/parameters/0");
    }

    #[test]
    fn security_is_declared_per_operation() {
        let r = lint(&variant("      security: []\n", ""));
        assert_eq!(r.of_rule("security-declared").len(), 1, "{r}");
        let r = lint(&variant(
            "        - bearerAuth: []",
            "        - otherAuth: []",
        ));
        let messages: Vec<_> = r
            .of_rule("security-declared")
            .iter()
            .map(|f| f.message.clone())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains("`otherAuth` is not in")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("must require `bearerAuth`")),
            "{messages:?}"
        );
        let r = lint(&variant(
            "servers:",
            "security:\n  - bearerAuth: []\nservers:",
        ));
        assert!(r.of_rule("security-declared")[0]
            .message
            .contains("no global"));
    }

    #[test]
    fn path_templates_and_path_parameters_match() {
        use super::template_names;
        assert_eq!(template_names("/a/{b}/c/{d_e}").unwrap(), ["b", "d_e"]);
        for bad in ["/a/{b", "/a/b}", "/a/{}", "/a/{b-c}", "a/b", "/{a{b}}"] {
            assert!(template_names(bad).is_err(), "{bad}");
        }
        let r = lint(&variant(
            "  /apps/{app_id}:\n    get:",
            "  /apps/{app}:\n    get:",
        ));
        let messages: Vec<_> = r
            .of_rule("path-parameters")
            .iter()
            .map(|f| f.message.clone())
            .collect();
        assert_eq!(messages.len(), 2, "{r}");
        assert!(
            messages[1].contains("`app_id` does not appear"),
            "{messages:?}"
        );
        assert!(
            messages[0].contains("`{app}` of the path has no"),
            "{messages:?}"
        );
        let r = lint(&variant(
            "  /apps/{app_id}:\n    get:",
            "  /apps/{app_id:\n    get:",
        ));
        assert!(r.of_rule("path-parameters")[0]
            .message
            .contains("matching `}`"));
        let r = lint(&variant(
            "          in: path\n          required: true\n          description: The app id.",
            "          in: path\n          description: The app id.",
        ));
        assert!(r.of_rule("path-parameters")[0]
            .message
            .contains("`required: true`"));
    }

    #[test]
    fn parameters_are_scalars() {
        let r = lint(&variant(
            "          description: The app id.\n          schema:\n            type: string",
            "          description: The app id.\n          schema:\n            $ref: '#/components/schemas/App'",
        ));
        let f = r.of_rule("parameter-schema");
        assert_eq!(f.len(), 1, "{r}");
        assert!(f[0].message.contains("`type: object`"), "{r}");
        assert_eq!(
            f[0].pointer,
            "/paths/~1apps~1{app_id}/get/parameters/0/schema"
        );
        let r = lint(&variant(
            "          description: The app id.\n          schema:\n            type: string",
            "          description: The app id.\n          schema:\n            anyOf:\n              - type: string",
        ));
        assert!(
            r.of_rule("parameter-schema")[0].message.contains("`anyOf`"),
            "{r}"
        );
        // A string enum component is a string.
        let r = lint(&variant(
            "          description: The app id.\n          schema:\n            type: string",
            "          description: The app id.\n          schema:\n            $ref: '#/components/schemas/Status'",
        ));
        assert!(r.is_clean(), "{r}");
    }

    #[test]
    fn request_bodies_have_one_supported_media_type() {
        let body = "      x-idempotent: true\n      requestBody:\n        content:\n          application/json:\n            schema:\n              $ref: '#/components/schemas/App'\n";
        let base = variant(
            "      x-idempotent: true\n      parameters:",
            &format!("{body}      parameters:"),
        );
        assert!(lint(&base).is_clean());
        let two = base.source.replacen(
            "              $ref: '#/components/schemas/App'\n",
            "              $ref: '#/components/schemas/App'\n          text/plain:\n            schema:\n              $ref: '#/components/schemas/App'\n            encoding:\n              a: {}\n",
            1,
        );
        let r = lint(&crate::lint::testing::spec(&two));
        let messages: Vec<_> = r
            .of_rule("request-body")
            .iter()
            .map(|f| f.message.clone())
            .collect();
        assert_eq!(messages.len(), 3, "{r}");
        assert!(messages[0].contains("exactly one media type"));
        assert!(messages[1].contains("`text/plain`"));
        assert!(messages[2].contains("`encoding`"));
    }

    #[test]
    fn retry_safety_is_declared() {
        let r = lint(&variant("      x-idempotent: true\n", ""));
        assert_eq!(r.of_rule("retry-safety-declared").len(), 1, "{r}");
        let r = lint(&variant("x-idempotent: true", "x-idempotent: sometimes"));
        assert_eq!(r.of_rule("retry-safety-declared").len(), 1, "{r}");
    }
}
