//! Operation rules: `operation-id`, `summary-and-tag`, `parameter-description`,
//! `security-declared`, `retry-safety-declared`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{operations, OperationRef, Sink};

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
            Some(r) => match super::resolve(doc, r) {
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
    fn retry_safety_is_declared() {
        let r = lint(&variant("      x-idempotent: true\n", ""));
        assert_eq!(r.of_rule("retry-safety-declared").len(), 1, "{r}");
        let r = lint(&variant("x-idempotent: true", "x-idempotent: sometimes"));
        assert_eq!(r.of_rule("retry-safety-declared").len(), 1, "{r}");
    }
}
