//! Schema type rules: `schema-type`, `schema-bounds`, `required-properties`,
//! `nullable-ref`, `enum-values`, `unsupported-keyword`.
//!
//! These cover what progenitor and the open-enum generator take on trust: an
//! unknown `type` makes progenitor panic ("invalid type"), an exclusive bound
//! without its bound panics too, and enum values that give no Rust name (or
//! one name twice) break the generated code.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Sink;
use crate::naming::variant_name;
use crate::spec::{all_schemas, operation_of};

/// The types OpenAPI 3.0 knows.
pub const TYPES: [&str; 6] = ["string", "number", "integer", "boolean", "array", "object"];

/// The formats the generator maps to a Rust type the client crate can compile,
/// per `type` (`uuid` is left out: it needs the `uuid` crate, which the
/// client does not depend on).
pub fn formats_of(ty: &str) -> &'static [&'static str] {
    match ty {
        "string" => &[
            "byte",
            "binary",
            "date",
            "date-time",
            "time",
            "password",
            "email",
            "uri",
            "uri-reference",
            "hostname",
            "ip",
            "ipv4",
            "ipv6",
        ],
        "integer" => &[
            "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        ],
        "number" => &["float", "double"],
        _ => &[],
    }
}

/// Schema keywords the generated client cannot compile or that progenitor
/// cannot convert, with why.
const UNSUPPORTED: [(&str, &str); 2] = [
    (
        "pattern",
        "the generator validates it with the `regress` crate, which the client crate does not depend on",
    ),
    (
        "not",
        "progenitor converts only a few forms of `not` and panics on the others",
    ),
];

/// Runs the schema type rules.
pub(crate) fn check(doc: &Value, sink: &mut Sink) {
    for (pointer, schema) in all_schemas(doc) {
        let Some(map) = schema.as_object() else {
            continue;
        };
        let op = operation_of(doc, &pointer);
        let op = op.as_deref();
        if map.contains_key("$ref") {
            let siblings: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "$ref" && !k.starts_with("x-"))
                .collect();
            if !siblings.is_empty() {
                sink.push(
                    "nullable-ref",
                    op,
                    &pointer,
                    format!(
                        "`{}` beside `$ref` has no effect in OpenAPI 3.0 (siblings of `$ref` are ignored)",
                        siblings.join("`, `")
                    ),
                );
            }
            continue;
        }
        let ty = map.get("type");
        let ty_str = ty.and_then(Value::as_str);
        match (ty, ty_str) {
            (None, _) => {}
            (Some(_), Some(t)) if TYPES.contains(&t) => {}
            (Some(t), _) => sink.push(
                "schema-type",
                op,
                format!("{pointer}/type"),
                format!(
                    "unknown type {t}: a schema's `type` is one of {}",
                    TYPES.join(", ")
                ),
            ),
        }
        if let Some(format) = map.get("format") {
            let known = ty_str.filter(|t| TYPES.contains(t));
            match (format.as_str(), known) {
                (Some(f), Some(t)) if formats_of(t).contains(&f) => {}
                (_, None) if ty.is_none() => sink.push(
                    "schema-type",
                    op,
                    format!("{pointer}/format"),
                    format!("`format: {format}` needs a `type` beside it"),
                ),
                (_, None) => {} // the unknown type is reported above
                (Some("uuid"), Some("string")) => sink.push(
                    "schema-type",
                    op,
                    format!("{pointer}/format"),
                    "`format: uuid` becomes `uuid::Uuid`, and the client crate does not depend on `uuid`: drop the format (say it is a UUID in the description)",
                ),
                (_, Some(t)) => {
                    let allowed = formats_of(t);
                    sink.push(
                        "schema-type",
                        op,
                        format!("{pointer}/format"),
                        if allowed.is_empty() {
                            format!("`type: {t}` takes no `format`, found {format}")
                        } else {
                            format!(
                                "`format: {format}` is not a format of `type: {t}` (known: {})",
                                allowed.join(", ")
                            )
                        },
                    )
                }
            }
        }
        if ty_str == Some("array") && !map.get("items").is_some_and(Value::is_object) {
            sink.push(
                "schema-type",
                op,
                &pointer,
                "`type: array` needs an `items` schema",
            );
        }
        if let (Some(t), Some(default)) = (ty_str, map.get("default")) {
            let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
            if !(fits(t, default) || (nullable && default.is_null())) {
                sink.push(
                    "schema-type",
                    op,
                    format!("{pointer}/default"),
                    format!("`default: {default}` is not a value of `type: {t}`"),
                );
            }
        }
        for keyword in UNSUPPORTED {
            if map.contains_key(keyword.0) {
                sink.push(
                    "unsupported-keyword",
                    op,
                    format!("{pointer}/{}", keyword.0),
                    format!("`{}` is not supported: {}", keyword.0, keyword.1),
                );
            }
        }
        bounds(map, &pointer, op, sink);
        required(map, &pointer, op, sink);
        if map.get("nullable").and_then(Value::as_bool) == Some(true) && ty.is_none() {
            let composed = ["allOf", "oneOf", "anyOf"]
                .into_iter()
                .find(|k| map.contains_key(*k));
            sink.push(
                "nullable-ref",
                op,
                format!("{pointer}/nullable"),
                match composed {
                    Some(k) => format!(
                        "`nullable: true` beside `{k}` but no `type`: OpenAPI 3.0.3 ignores it, so strict tools read the value as never null"
                    ),
                    None => "`nullable: true` without a `type` has no effect in OpenAPI 3.0.3".to_string(),
                },
            );
        }
        if map.get("type").and_then(Value::as_str) == Some("string") {
            if let Some(values) = map.get("enum") {
                enum_values(map, values, &pointer, op, sink);
            }
        }
    }
}

/// True when `value` is a JSON value of the OpenAPI type `ty`.
fn fits(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

fn bounds(map: &serde_json::Map<String, Value>, pointer: &str, op: Option<&str>, sink: &mut Sink) {
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if map.get(flag).and_then(Value::as_bool) == Some(true) && !map.contains_key(bound) {
            sink.push(
                "schema-bounds",
                op,
                format!("{pointer}/{flag}"),
                format!("`{flag}: true` without `{bound}`: there is no bound to exclude"),
            );
        }
    }
    for (low, high) in [
        ("minimum", "maximum"),
        ("minLength", "maxLength"),
        ("minItems", "maxItems"),
        ("minProperties", "maxProperties"),
    ] {
        let (Some(l), Some(h)) = (
            map.get(low).and_then(Value::as_f64),
            map.get(high).and_then(Value::as_f64),
        ) else {
            continue;
        };
        if l > h {
            sink.push(
                "schema-bounds",
                op,
                format!("{pointer}/{low}"),
                format!("`{low}: {l}` is above `{high}: {h}`: no value fits"),
            );
        }
    }
}

fn required(
    map: &serde_json::Map<String, Value>,
    pointer: &str,
    op: Option<&str>,
    sink: &mut Sink,
) {
    let Some(required) = map.get("required").and_then(Value::as_array) else {
        return;
    };
    let properties = map.get("properties").and_then(Value::as_object);
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in required.iter().enumerate() {
        let Some(name) = name.as_str() else {
            continue; // the loader rejects non-string names
        };
        if !seen.insert(name) {
            sink.push(
                "required-properties",
                op,
                format!("{pointer}/required/{i}"),
                format!("`{name}` is listed twice in `required`"),
            );
        } else if !properties.is_some_and(|p| p.contains_key(name)) {
            sink.push(
                "required-properties",
                op,
                format!("{pointer}/required/{i}"),
                format!("`required` names `{name}`, which is not a property of this schema"),
            );
        }
    }
}

/// Variant names the open enums reserve for themselves or that Rust does.
const RESERVED_VARIANTS: [&str; 2] = ["Unknown", "Self"];

fn enum_values(
    map: &serde_json::Map<String, Value>,
    values: &Value,
    pointer: &str,
    op: Option<&str>,
    sink: &mut Sink,
) {
    let Some(values) = values.as_array() else {
        return; // the loader rejects a non-sequence enum
    };
    if values.is_empty() {
        sink.push(
            "enum-values",
            op,
            format!("{pointer}/enum"),
            "the enum lists no values",
        );
    }
    let mut by_variant: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (i, value) in values.iter().enumerate() {
        let at = format!("{pointer}/enum/{i}");
        let Some(text) = value.as_str() else {
            sink.push(
                "enum-values",
                op,
                at,
                format!("value {value} of a `type: string` enum is not a string"),
            );
            continue;
        };
        let variant = variant_name(text);
        if variant.is_empty() {
            sink.push(
                "enum-values",
                op,
                at,
                format!("value {text:?} has no letter or digit, so it gives no Rust variant name"),
            );
            continue;
        }
        if RESERVED_VARIANTS.contains(&variant.as_str()) {
            sink.push(
                "enum-values",
                op,
                at,
                format!(
                    "value {text:?} would be the variant `{variant}`, which the open enum reserves"
                ),
            );
            continue;
        }
        if let Some((first, first_text)) = by_variant.get(&variant) {
            let what = if first_text == text {
                format!("value {text:?} is listed twice (also at index {first})")
            } else {
                format!(
                    "values {first_text:?} (index {first}) and {text:?} both become the Rust variant `{variant}`"
                )
            };
            sink.push("enum-values", op, at, what);
            continue;
        }
        by_variant.insert(variant, (i, text.to_string()));
    }
    if let Some(default) = map.get("default") {
        let listed = default
            .as_str()
            .is_some_and(|d| values.iter().any(|v| v.as_str() == Some(d)));
        if !listed {
            sink.push(
                "enum-values",
                op,
                format!("{pointer}/default"),
                format!("`default: {default}` is not one of the enum's values"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::lint;
    use crate::lint::testing::variant;

    fn status(values: &str) -> crate::LintReport {
        lint(&variant(
            "      enum: [active, inactive]",
            &format!("      enum: {values}"),
        ))
    }

    #[test]
    fn unknown_types_and_bad_formats() {
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: strnig",
        ));
        let f = r.of_rule("schema-type");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(f[0].pointer, "/components/schemas/App/properties/id/type");
        assert_eq!(f[0].component.as_deref(), Some("schema `App`"));
        assert!(f[0].message.contains("unknown type \"strnig\""), "{r}");

        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: string\n          format: int64",
        ));
        assert!(r.of_rule("schema-type")[0]
            .message
            .contains("not a format of `type: string`"));
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          format: date-time",
        ));
        assert!(r.of_rule("schema-type")[0]
            .message
            .contains("needs a `type`"));
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: boolean\n          format: int32",
        ));
        assert!(r.of_rule("schema-type")[0]
            .message
            .contains("takes no `format`"));
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: array",
        ));
        assert!(r.of_rule("schema-type")[0].message.contains("`items`"));
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: integer\n          default: abc",
        ));
        assert!(r.of_rule("schema-type")[0]
            .message
            .contains("`default: \"abc\"`"));
        // Known pairs pass.
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: integer\n          format: int64\n          default: 3",
        ));
        assert!(r.is_clean(), "{r}");
    }

    #[test]
    fn keywords_the_client_cannot_compile() {
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: string\n          pattern: '^a'\n          not:\n            type: integer",
        ));
        assert_eq!(r.of_rule("unsupported-keyword").len(), 2, "{r}");
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: string\n          format: uuid",
        ));
        assert!(
            r.of_rule("schema-type")[0].message.contains("`uuid`"),
            "{r}"
        );
    }

    #[test]
    fn bounds_and_required() {
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: integer\n          exclusiveMinimum: true",
        ));
        assert_eq!(r.of_rule("schema-bounds").len(), 1, "{r}");
        let r = lint(&variant(
            "        id:\n          type: string",
            "        id:\n          type: string\n          minLength: 5\n          maxLength: 2",
        ));
        assert!(r.of_rule("schema-bounds")[0].message.contains("above"));
        let r = lint(&variant("required: [id]", "required: [id, nope, id]"));
        let f = r.of_rule("required-properties");
        assert_eq!(f.len(), 2, "{r}");
        assert!(f[0].message.contains("`nope`"));
        assert!(f[1].message.contains("twice"));
    }

    #[test]
    fn nullable_needs_a_type_and_no_ref_siblings() {
        let r = lint(&variant(
            "        app:\n          $ref: '#/components/schemas/App'",
            "        app:\n          allOf:\n            - $ref: '#/components/schemas/App'\n          nullable: true",
        ));
        let f = r.of_rule("nullable-ref");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(
            f[0].pointer,
            "/components/schemas/GetAppResponse/properties/app/nullable"
        );
        let r = lint(&variant(
            "        app:\n          $ref: '#/components/schemas/App'",
            "        app:\n          $ref: '#/components/schemas/App'\n          nullable: true",
        ));
        assert!(r.of_rule("nullable-ref")[0]
            .message
            .contains("beside `$ref`"));
        // The accepted form.
        let r = lint(&variant(
            "        app:\n          $ref: '#/components/schemas/App'",
            "        app:\n          type: object\n          allOf:\n            - $ref: '#/components/schemas/App'\n          nullable: true",
        ));
        assert!(r.is_clean(), "{r}");
    }

    #[test]
    fn enum_values_need_distinct_rust_names() {
        assert!(status("[active, inactive, '', cross-platform, S256]").is_clean());
        let r = status("[active, '!!!']");
        let f = r.of_rule("enum-values");
        assert_eq!(f.len(), 1, "{r}");
        assert_eq!(f[0].pointer, "/components/schemas/Status/enum/1");
        assert!(f[0].message.contains("no letter or digit"));
        let r = status("[active, Active]");
        let f = r.of_rule("enum-values");
        assert_eq!(f.len(), 1, "{r}");
        assert!(f[0]
            .message
            .contains("both become the Rust variant `Active`"));
        assert!(status("[active, active]").of_rule("enum-values")[0]
            .message
            .contains("listed twice"));
        assert!(status("[active, unknown]").of_rule("enum-values")[0]
            .message
            .contains("reserves"));
        assert!(status("[active, 3]").of_rule("enum-values")[0]
            .message
            .contains("not a string"));
        let r = lint(&variant(
            "      enum: [active, inactive]",
            "      enum: [active, inactive]\n      default: gone",
        ));
        assert!(r.of_rule("enum-values")[0]
            .message
            .contains("`default: \"gone\"`"));
    }
}
