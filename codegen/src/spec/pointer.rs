//! JSON pointers (RFC 6901) into the spec: escaping a segment, resolving a
//! local `$ref`, and naming the component a pointer lies in.

use serde_json::Value;

/// Escapes one JSON-pointer segment (`/apps/{id}` -> `~1apps~1{id}`).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON-pointer segment (`~1apps~1{id}` -> `/apps/{id}`).
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Resolves a local `$ref` (`#/a/b`) against the document.
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// `schema `User`` for a pointer into `/components/schemas/User`, and the
/// like for the other component kinds; `operation `x`` is left to the caller.
pub fn subject_of(pointer: &str) -> Option<String> {
    let mut parts = pointer.split('/').skip(1);
    match (parts.next(), parts.next(), parts.next()) {
        (Some("components"), Some(kind), Some(name)) => {
            let kind = match kind {
                "schemas" => "schema",
                "responses" => "response",
                "parameters" => "parameter",
                "requestBodies" => "request body",
                "headers" => "header",
                "securitySchemes" => "security scheme",
                other => other,
            };
            let name = unescape(name);
            Some(format!("{kind} `{name}`"))
        }
        (Some("paths"), Some(path), None) => Some(format!("path `{}`", unescape(path))),
        (Some(top), None, None) if !top.is_empty() => Some(format!("`{top}`")),
        _ => None,
    }
}
