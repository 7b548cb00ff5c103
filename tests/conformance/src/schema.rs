//! OpenAPI 3.0 schema objects as JSON Schema (2020-12), and the validator that checks a body
//! against one, formats included.
//!
//! The translation keeps every assertion of the spec: `nullable` becomes `anyOf` with `null`, local
//! `$ref`s point into `$defs`, and `format` stays. JSON Schema's own formats (`date-time`, `email`,
//! `uri`, `uuid`, ...) are checked by the validator; OpenAPI's integer formats become the range
//! they name (`int32`, `int64`); `password` is a hint to user interfaces with no syntax of its own.
//! Any other format makes [`Validators::compile`] fail, so a new format in a spec is checked or
//! listed here, never silently ignored.

use serde_json::{json, Map, Value};

/// Formats that constrain nothing on the wire: OpenAPI's `password` only tells user interfaces to
/// hide the value.
pub const ANNOTATION_FORMATS: &[&str] = &["password"];

/// OpenAPI 3.0 schema -> JSON Schema (2020-12): `nullable`, local `$ref`s to `$defs`, `int32` and
/// `int64` as ranges, every other `format` kept for the validator.
pub fn to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let name = reference.rsplit('/').next().unwrap_or_default();
                return json!({ "$ref": format!("#/$defs/{name}") });
            }
            let mut out = Map::new();
            let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
            for (key, value) in map {
                match key.as_str() {
                    // Annotations of OpenAPI that JSON Schema does not know (or reads otherwise).
                    "nullable" | "example" | "x-idempotent" | "discriminator" | "xml"
                    | "externalDocs" | "deprecated" | "readOnly" | "writeOnly" => {}
                    "properties" => {
                        let props = value
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(k, v)| (k.clone(), to_json_schema(v)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    "items" | "additionalProperties" | "not" => {
                        out.insert(key.clone(), to_json_schema(value));
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        let items = value
                            .as_array()
                            .map(|a| a.iter().map(to_json_schema).collect())
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Array(items));
                    }
                    "format" => match value.as_str() {
                        Some("int32") => integer_range(map, &mut out, i32::MIN, i32::MAX),
                        Some("int64") => integer_range(map, &mut out, i64::MIN, i64::MAX),
                        _ => {
                            out.insert(key.clone(), value.clone());
                        }
                    },
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            let schema = Value::Object(out);
            if nullable {
                json!({ "anyOf": [ { "type": "null" }, schema ] })
            } else {
                schema
            }
        }
        other => other.clone(),
    }
}

/// The range an integer format names, unless the schema states its own bound.
fn integer_range(
    schema: &Map<String, Value>,
    out: &mut Map<String, Value>,
    min: impl Into<Value>,
    max: impl Into<Value>,
) {
    if !schema.contains_key("minimum") {
        out.insert("minimum".into(), min.into());
    }
    if !schema.contains_key("maximum") {
        out.insert("maximum".into(), max.into());
    }
}

/// Compiles translated schemas into validators that check formats.
pub struct Validators;

impl Validators {
    /// A validator for `root` (a translated schema with its `$defs`): formats are assertions,
    /// [`ANNOTATION_FORMATS`] accept any string, and an unknown format is an error.
    pub fn compile(root: &Value) -> Result<jsonschema::Validator, String> {
        let mut options = jsonschema::options()
            .should_validate_formats(true)
            .should_ignore_unknown_formats(false);
        for format in ANNOTATION_FORMATS {
            options = options.with_format(*format, |_: &str| true);
        }
        options.build(root).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(schema: Value) -> jsonschema::Validator {
        Validators::compile(&to_json_schema(&schema)).expect("compiles")
    }

    #[test]
    fn date_times_and_emails_are_checked() {
        let at = validator(json!({"type": "string", "format": "date-time"}));
        assert!(at.is_valid(&json!("2026-11-29T04:30:07Z")));
        assert!(at.is_valid(&json!("0001-01-01T00:00:00Z")));
        assert!(!at.is_valid(&json!("2026-11-29 04:30:07")));
        assert!(!at.is_valid(&json!("yesterday")));
        let email = validator(json!({"type": "string", "format": "email"}));
        assert!(email.is_valid(&json!("ada@example.com")));
        assert!(!email.is_valid(&json!("not an address")));
    }

    #[test]
    fn integer_formats_are_ranges() {
        let int32 = validator(json!({"type": "integer", "format": "int32"}));
        assert!(int32.is_valid(&json!(2_147_483_647_i64)));
        assert!(!int32.is_valid(&json!(2_147_483_648_i64)));
        let own_bound = validator(json!({"type": "integer", "format": "int32", "minimum": 1}));
        assert!(!own_bound.is_valid(&json!(0)));
        let int64 = validator(json!({"type": "integer", "format": "int64"}));
        assert!(int64.is_valid(&json!(i64::MAX)));
        assert!(!int64.is_valid(&json!(u64::MAX)));
    }

    #[test]
    fn password_is_an_annotation_and_unknown_formats_do_not_compile() {
        let password = validator(json!({"type": "string", "format": "password"}));
        assert!(password.is_valid(&json!("anything at all")));
        let unknown = to_json_schema(&json!({"type": "string", "format": "no-such-format"}));
        assert!(Validators::compile(&unknown).is_err());
    }

    #[test]
    fn nullable_and_references_translate() {
        let schema = json!({"type": "object", "nullable": true, "allOf": [{"$ref": "#/components/schemas/User"}]});
        let translated = to_json_schema(&schema);
        assert_eq!(translated["anyOf"][0], json!({"type": "null"}));
        assert_eq!(
            translated["anyOf"][1]["allOf"][0],
            json!({"$ref": "#/$defs/User"})
        );
    }
}
