//! Generation on the real spec: deterministic bytes, the header, the
//! spec-driven extras (open enums, secrets, operation table).

use std::path::Path;

mod common;

fn real_spec() -> passage_codegen::LoadedSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/passage-auth.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    passage_codegen::LoadedSpec::from_str("spec/passage-auth.yaml", text).unwrap()
}

#[test]
fn generation_is_byte_identical_across_runs() {
    let spec = real_spec();
    let first = passage_codegen::generate(&spec).unwrap();
    let second = passage_codegen::generate(&real_spec()).unwrap();
    assert_eq!(first, second);
    for (file, contents) in first.files() {
        assert!(!contents.is_empty(), "{file}");
    }
}

#[test]
fn header_names_spec_version_and_hash() {
    let spec = real_spec();
    let generated = passage_codegen::generate(&spec).unwrap();
    for (file, contents) in generated.files() {
        let prefix = if file == "Cargo.toml" { "#" } else { "//" };
        let header: Vec<&str> = contents.lines().take(4).collect();
        assert_eq!(
            header[1],
            format!("{prefix} spec: spec/passage-auth.yaml"),
            "{file}"
        );
        assert_eq!(
            header[3],
            format!("{prefix} sha256: {}", spec.sha256()),
            "{file}"
        );
    }
    let code = generated.code;
    let header: Vec<&str> = code.lines().take(4).collect();
    assert!(header[0].starts_with("// @generated"), "{header:?}");
    assert_eq!(header[1], "// spec: spec/passage-auth.yaml");
    assert_eq!(
        header[2],
        format!("// info.version: {}", spec.openapi.info.version)
    );
    assert_eq!(header[3], format!("// sha256: {}", spec.sha256()));
    // A one-byte change of the spec changes the hash in the header.
    let changed = passage_codegen::LoadedSpec::from_str(
        "spec/passage-auth.yaml",
        format!("{}\n", spec.source),
    )
    .unwrap();
    assert_ne!(changed.sha256(), spec.sha256());
}

#[test]
fn every_string_enum_becomes_an_open_enum_and_secrets_are_redacting_types() {
    let spec = real_spec();
    let code = passage_codegen::generate(&spec).unwrap().code;
    let doc = spec.json();
    let schemas = doc
        .pointer("/components/schemas")
        .unwrap()
        .as_object()
        .unwrap();
    let mut enums = 0;
    for (name, schema) in schemas {
        if schema.get("enum").is_some() {
            enums += 1;
            assert!(
                code.contains(&format!("pub enum {name} {{")),
                "{name} is generated"
            );
            assert!(
                code.contains(&format!("crate::api::open_enums::{name}")),
                "{name} is used through the open enum"
            );
        }
    }
    assert!(enums >= 10, "the spec has its enums ({enums})");
    // Every `format: password` string is the runtime's redacting `SecretValue`.
    assert!(code.contains("pub use ::passage_runtime::SecretValue;"));
    assert!(code.contains("pub auth_token: ::passage_runtime::SecretValue"));
    assert!(!code.contains("pub auth_token: ::std::string::String"));
}

#[test]
fn the_operation_table_mirrors_the_spec() {
    let spec = real_spec();
    let code = passage_codegen::generate(&spec).unwrap().code;
    // Expected figures come from the YAML itself (secrets: tests/secrets.rs).
    let doc: serde_yaml::Value = serde_yaml::from_str(&spec.source).unwrap();
    let mut operations = 0;
    let with_scheme = |scheme: &str| {
        let mut n = 0;
        for (_, item) in doc["paths"].as_mapping().unwrap() {
            for (method, op) in item.as_mapping().unwrap() {
                if method.as_str() == Some("parameters") {
                    continue;
                }
                let uses = op["security"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|req| req.get(scheme).is_some());
                n += usize::from(uses);
            }
        }
        n
    };
    let bearer = with_scheme("bearerAuth");
    let api_key = with_scheme("apiKeyAuth");
    for (_, item) in doc["paths"].as_mapping().unwrap() {
        operations += item
            .as_mapping()
            .unwrap()
            .keys()
            .filter(|k| k.as_str() != Some("parameters"))
            .count();
    }
    let (rows, len) = common::operation_rows(&code);
    assert_eq!(len, format!("{operations}usize"));
    assert_eq!(rows.len(), operations);
    assert!(bearer > 0 && api_key > 0);
    let count = |auth: &str| rows.iter().filter(|r| r.auth == auth).count();
    assert_eq!(count("Auth :: Bearer"), bearer);
    // The header is the scheme's `name` (`X-API-KEY`), lower-cased.
    let api_key_rows = rows
        .iter()
        .filter(|r| {
            r.auth
                .starts_with("Auth :: ApiKey { header : \"x-api-key\"")
        })
        .count();
    assert_eq!(api_key_rows, api_key);
    assert_eq!(count("Auth :: None"), operations - bearer - api_key);
}

#[test]
fn lint_failures_stop_generation_with_the_operation_named() {
    let spec = real_spec();
    let broken = spec.source.replacen("      x-idempotent: true\n", "", 1);
    let broken = passage_codegen::LoadedSpec::from_str("spec/passage-auth.yaml", broken).unwrap();
    let err = passage_codegen::generate(&broken).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("[retry-safety-declared] operation `"),
        "{text}"
    );
    assert!(text.contains("spec/passage-auth.yaml:"), "{text}");
}

#[test]
fn options_that_do_not_fit_the_spec_are_refused_by_name() {
    let spec = real_spec();
    let refused = |schema: &str, code: &str, message: &str| {
        let mut options = passage_codegen::Options::for_spec("spec/passage-auth.yaml");
        options.error_body = passage_codegen::ErrorBody {
            schema: schema.into(),
            code_field: code.into(),
            message_field: message.into(),
        };
        match passage_codegen::generate_with(&spec, &options) {
            Err(passage_codegen::GenerateError::Options {
                option, message, ..
            }) => {
                format!("{option}: {message}")
            }
            other => panic!("{schema}/{code}/{message}: {other:?}"),
        }
    };
    let text = refused("Nope", "code", "error");
    assert!(
        text.starts_with("error_body.schema: the spec has no schema `Nope`"),
        "{text}"
    );
    // A schema the spec has, but not the one its error answers use.
    let text = refused("User", "id", "email");
    assert!(
        text.contains("error answers have the body `#/components/schemas/ApiError`"),
        "{text}"
    );
    let text = refused("ApiError", "kind", "error");
    assert!(
        text.starts_with("error_body.code_field: schema `ApiError` has no property `kind`"),
        "{text}"
    );
    let text = refused("ApiError", "error", "code");
    assert!(text.starts_with("error_body.message_field:"), "{text}");
}
