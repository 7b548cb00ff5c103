//! Document-level rules: `openapi-version`, `info-version-semver`, `refs-resolve`.

use serde_json::Value;

use super::{escape, resolve, Sink};

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

/// The operationId owning a pointer under `/paths/{path}/{method}`, if any.
pub(crate) fn operation_of(doc: &Value, pointer: &str) -> Option<String> {
    let mut parts = pointer.split('/').skip(1);
    if parts.next()? != "paths" {
        return None;
    }
    let path = parts.next()?;
    let method = parts.next()?;
    doc.pointer(&format!("/paths/{path}/{method}/operationId"))
        .and_then(Value::as_str)
        .map(str::to_string)
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
        assert_eq!(f[0].location.as_ref().map(|l| l.1), Some(4));
    }

    #[test]
    fn openapi_must_be_3_0() {
        let report = lint(&variant("openapi: 3.0.3", "openapi: 3.1.0"));
        assert_eq!(report.of_rule("openapi-version").len(), 1, "{report}");
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
