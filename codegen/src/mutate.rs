//! Spec mutations for testing the generator's invariant: for any input, lint
//! and generation either report located findings or produce code that
//! compiles. The property test (`codegen/tests/mutation.rs`) and
//! `cargo xtask mutate` apply random [`Mutation`]s to each real spec and judge
//! every mutant with [`Target::judge`]; [`compile_check`] runs `cargo check`
//! on the code of the mutants that generate.
//!
//! A mutation that leaves the document as it was is *not applied*
//! ([`apply`] returns `None`), and a mutant whose crate is the original's
//! (apart from the spec's checksum in the headers) is a [`Violation`]: a
//! mutant counts only when it ends in findings or in new code.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::generate::{generate_with, GenerateError, GeneratedCrate, Options};
use crate::isolate::catch;
use crate::lint::{rules, LintReport};
use crate::spec::{all_schemas, escape, operation_of, operations, LoadError, LoadedSpec};

/// One random change to a spec: what kind of change, where and which variant.
/// The numbers are reduced modulo the number of candidates, so any values are valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mutation {
    /// Which operator (modulo [`OPERATORS`]).
    pub operator: u8,
    /// Which node among the operator's candidates.
    pub target: u64,
    /// Which variant of the change.
    pub choice: u64,
}

/// The mutation operators, by name, in [`Mutation::operator`] order.
pub const OPERATORS: [&str; 16] = [
    "delete-field",
    "rename-field",
    "retype",
    "duplicate-field",
    "break-ref",
    "loop-ref",
    "odd-enum",
    "odd-schema-name",
    "odd-format",
    "move-required",
    "move-nullable",
    "odd-operation",
    "odd-parameter",
    "odd-keyword",
    "odd-body",
    "odd-responses",
];

/// The operators grouped by what they change (each operator in one family).
/// The mutation test compiles, for each spec, a mutant of every family that
/// generates new code.
pub const FAMILIES: [(&str, &[&str]); 5] = [
    (
        "fields",
        &["delete-field", "rename-field", "duplicate-field"],
    ),
    (
        "types",
        &[
            "retype",
            "odd-format",
            "move-required",
            "move-nullable",
            "odd-keyword",
        ],
    ),
    ("references", &["break-ref", "loop-ref"]),
    ("names", &["odd-enum", "odd-schema-name"]),
    (
        "operations",
        &[
            "odd-operation",
            "odd-parameter",
            "odd-body",
            "odd-responses",
        ],
    ),
];

fn pick<T: Clone>(items: &[T], n: u64) -> Option<T> {
    (!items.is_empty()).then(|| items[(n % items.len() as u64) as usize].clone())
}

/// Pointers of every object node of the document, with the node's keys.
fn objects(node: &Value, pointer: String, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if !map.is_empty() {
                out.push(pointer.clone());
            }
            for (k, v) in map {
                objects(v, format!("{pointer}/{}", escape(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                objects(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn ref_holders(node: &Value, pointer: String, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if map.contains_key("$ref") {
                out.push(pointer.clone());
            }
            for (k, v) in map {
                ref_holders(v, format!("{pointer}/{}", escape(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                ref_holders(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn schema_pointers(doc: &Value) -> Vec<String> {
    all_schemas(doc).into_iter().map(|(p, _)| p).collect()
}

fn schema_names(doc: &Value) -> Vec<String> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn odd_name(original: &str, n: u64) -> String {
    use heck::{ToLowerCamelCase, ToPascalCase, ToShoutySnakeCase, ToSnakeCase};
    let variants = [
        original.to_lower_camel_case(),
        original.to_snake_case(),
        original.to_pascal_case(),
        original.to_shouty_snake_case(),
        format!("{original}-x"),
        format!("{original}_"),
        "type".into(),
        "self".into(),
        "Self".into(),
        "send".into(),
        "body".into(),
        String::new(),
        "!!!".into(),
        "2fa".into(),
        "日本".into(),
        "a b".into(),
        "unknown".into(),
        "Unknown".into(),
        "Error".into(),
        "Client".into(),
        "String".into(),
        "Option".into(),
        "Result".into(),
        "ResponseValue".into(),
        "client".into(),
        "url".into(),
    ];
    pick(&variants, n).unwrap_or_default()
}

fn odd_value(n: u64) -> Value {
    let values = [
        json!("strnig"),
        json!(null),
        json!(5),
        json!(true),
        json!([]),
        json!({}),
        json!("!!!"),
        json!(""),
        json!({"$ref": "#/components/schemas/Missing"}),
    ];
    pick(&values, n).unwrap_or(Value::Null)
}

/// Renames `from` to `to` in an object, keeping the value.
fn rename_key(map: &mut Map<String, Value>, from: &str, to: String) {
    if let Some(v) = map.remove(from) {
        map.insert(to, v);
    }
}

/// One mutation as it was applied: its operator and what it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The operator, one of [`OPERATORS`].
    pub operator: &'static str,
    /// What it changed, with the JSON pointer of the node.
    pub what: String,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operator, self.what)
    }
}

impl Mutation {
    /// The name of the mutation's operator (its number modulo [`OPERATORS`]).
    pub fn operator_name(&self) -> &'static str {
        OPERATORS[self.operator as usize % OPERATORS.len()]
    }
}

/// Applies one mutation; returns what it did, or `None` when it did not
/// apply: the operator found nothing to change, or its change left the
/// document as it was (then `doc` is left untouched).
pub fn apply(doc: &mut Value, m: &Mutation) -> Option<Applied> {
    let operator = m.operator_name();
    let before = doc.clone();
    match change(doc, operator, m.target, m.choice) {
        Some(what) if *doc != before => Some(Applied { operator, what }),
        _ => {
            *doc = before;
            None
        }
    }
}

/// The change of `operator` on `doc` for target `t` and choice `c`.
fn change(doc: &mut Value, operator: &str, t: u64, c: u64) -> Option<String> {
    let mut all = Vec::new();
    objects(doc, String::new(), &mut all);
    let schemas = schema_pointers(doc);
    let names = schema_names(doc);
    let ops: Vec<String> = operations(doc).into_iter().map(|o| o.pointer).collect();
    let done = Some;
    match operator {
        "delete-field" => {
            let at = pick(&all, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = pick(&keys, c)?;
            map.remove(&key);
            done(format!("{at}/{key}"))
        }
        "rename-field" => {
            let at = pick(&all, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = pick(&keys, c)?;
            let to = odd_name(&key, c / 7);
            rename_key(map, &key, to.clone());
            done(format!("{at}/{key} -> {to:?}"))
        }
        "retype" => {
            let at = pick(&schemas, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let types = [
                json!("string"),
                json!("number"),
                json!("integer"),
                json!("boolean"),
                json!("array"),
                json!("object"),
                json!("strnig"),
                json!("null"),
                json!(3),
            ];
            let ty = pick(&types, c)?;
            map.insert("type".into(), ty.clone());
            done(format!("{at}/type = {ty}"))
        }
        "duplicate-field" => {
            let at = pick(&all, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = pick(&keys, c)?;
            let to = odd_name(&key, c / 7);
            let value = map.get(&key)?.clone();
            map.insert(to.clone(), value);
            done(format!("{at}/{key} copied to {to:?}"))
        }
        "break-ref" => {
            let mut holders = Vec::new();
            ref_holders(doc, String::new(), &mut holders);
            let at = pick(&holders, t)?;
            let targets = [
                "#/components/schemas/Missing".to_string(),
                "other.yaml#/components/schemas/User".to_string(),
                "#/components/schemas/User/properties/id".to_string(),
                "#/components/responses/NotFound".to_string(),
                "#/components/schemas/ApiError".to_string(),
                "#/paths".to_string(),
                "#".to_string(),
            ];
            let to = pick(&targets, c)?;
            doc.pointer_mut(&at)?
                .as_object_mut()?
                .insert("$ref".into(), Value::String(to.clone()));
            done(format!("{at}/$ref = {to}"))
        }
        "loop-ref" => {
            let a = pick(&names, t)?;
            let b = pick(&names, c)?;
            let schemas = doc.pointer_mut("/components/schemas")?.as_object_mut()?;
            let to_b = json!({ "$ref": format!("#/components/schemas/{b}") });
            let to_a = json!({ "$ref": format!("#/components/schemas/{a}") });
            match c % 3 {
                0 => {
                    schemas.insert(a.clone(), to_a);
                    done(format!("{a} = $ref {a}"))
                }
                1 => {
                    schemas.insert(a.clone(), json!({ "allOf": [to_b] }));
                    schemas.insert(b.clone(), json!({ "allOf": [to_a] }));
                    done(format!("{a} = allOf[{b}], {b} = allOf[{a}]"))
                }
                _ => {
                    let props = schemas
                        .get_mut(&a)?
                        .as_object_mut()?
                        .entry("properties")
                        .or_insert_with(|| json!({}));
                    props.as_object_mut()?.insert("loop".into(), to_a);
                    done(format!("{a}.properties.loop = $ref {a}"))
                }
            }
        }
        "odd-enum" => {
            let enums: Vec<String> = schemas
                .iter()
                .filter(|p| doc.pointer(&format!("{p}/enum")).is_some())
                .cloned()
                .collect();
            let at = pick(&enums, t)?;
            let values = doc.pointer_mut(&format!("{at}/enum"))?.as_array_mut()?;
            let first = values
                .first()
                .and_then(Value::as_str)
                .unwrap_or("x")
                .to_string();
            let odd = [
                json!("!!!"),
                json!(first.to_uppercase()),
                json!(first.clone()),
                json!(""),
                json!("unknown"),
                json!("self"),
                json!(3),
                json!(null),
                json!("日本"),
                json!("a-b"),
                json!("A_B"),
                json!("1st"),
            ];
            let value = pick(&odd, c)?;
            if c % 5 == 4 {
                values.clear();
                return done(format!("{at}/enum emptied"));
            }
            values.push(value.clone());
            done(format!("{at}/enum += {value}"))
        }
        "odd-schema-name" => {
            let from = pick(&names, t)?;
            let to = odd_name(&from, c);
            let schemas = doc.pointer_mut("/components/schemas")?.as_object_mut()?;
            rename_key(schemas, &from, to.clone());
            // Half the time the references follow the rename.
            if c.is_multiple_of(2) {
                let text = serde_json::to_string(doc).ok()?;
                let from_ref = format!("\"#/components/schemas/{from}\"");
                let to_ref = serde_json::to_string(&format!("#/components/schemas/{to}")).ok()?;
                *doc = serde_json::from_str(&text.replace(&from_ref, &to_ref)).ok()?;
                return done(format!("schema {from} -> {to:?} with its refs"));
            }
            done(format!("schema {from} -> {to:?}"))
        }
        "odd-format" => {
            let at = pick(&schemas, t)?;
            let formats = [
                "uuid",
                "date",
                "date-time",
                "datetime",
                "int64",
                "int8",
                "uint64",
                "float",
                "binary",
                "byte",
                "password",
                "ipv4",
                "email",
            ];
            let f = pick(&formats, c)?;
            doc.pointer_mut(&at)?
                .as_object_mut()?
                .insert("format".into(), json!(f));
            done(format!("{at}/format = {f}"))
        }
        "move-required" => {
            let objects: Vec<String> = schemas
                .iter()
                .filter(|p| doc.pointer(&format!("{p}/properties")).is_some())
                .cloned()
                .collect();
            let at = pick(&objects, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let props: Vec<String> = map
                .get("properties")?
                .as_object()?
                .keys()
                .cloned()
                .collect();
            match c % 4 {
                0 => {
                    map.remove("required");
                    done(format!("{at}/required removed"))
                }
                1 => {
                    map.insert("required".into(), json!(props));
                    done(format!("{at}/required = every property"))
                }
                2 => {
                    let required = map.entry("required").or_insert_with(|| json!([]));
                    required.as_array_mut()?.push(json!("no_such_property"));
                    done(format!("{at}/required += no_such_property"))
                }
                _ => {
                    let p = pick(&props, c / 4)?;
                    let required = map.entry("required").or_insert_with(|| json!([]));
                    required.as_array_mut()?.push(json!(p));
                    done(format!("{at}/required += {p}"))
                }
            }
        }
        "move-nullable" => {
            let at = pick(&schemas, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            match c % 4 {
                0 => {
                    map.insert("nullable".into(), json!(true));
                    done(format!("{at}/nullable = true"))
                }
                1 => {
                    map.remove("nullable");
                    done(format!("{at}/nullable removed"))
                }
                2 => {
                    map.remove("type");
                    map.insert("nullable".into(), json!(true));
                    done(format!("{at}: type removed, nullable = true"))
                }
                _ => {
                    map.insert("nullable".into(), json!("yes"));
                    done(format!("{at}/nullable = \"yes\""))
                }
            }
        }
        "odd-operation" => {
            let at = pick(&ops, t)?;
            let ids: Vec<String> = operations(doc)
                .iter()
                .filter_map(|o| o.value.get("operationId")?.as_str().map(str::to_string))
                .collect();
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let id = map
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or("op")
                .to_string();
            let to = match c % 4 {
                0 => json!(pick(&ids, c / 4)?),
                1 => json!(format!("{id}_2")),
                2 => json!(odd_name(&id, c / 4)),
                _ => {
                    map.remove("operationId");
                    return done(format!("{at}/operationId removed"));
                }
            };
            map.insert("operationId".into(), to.clone());
            done(format!("{at}/operationId = {to}"))
        }
        "odd-parameter" => {
            let mut params = Vec::new();
            for op in &ops {
                let count = doc
                    .pointer(&format!("{op}/parameters"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                params.extend((0..count).map(|i| format!("{op}/parameters/{i}")));
            }
            let at = pick(&params, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let name = map
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("p")
                .to_string();
            match c % 4 {
                0 => {
                    let to = odd_name(&name, c / 4);
                    map.insert("name".into(), json!(to));
                    done(format!("{at}/name = {to:?}"))
                }
                1 => {
                    let place = map.get("in").and_then(Value::as_str).unwrap_or("");
                    let to = if place == "path" { "query" } else { "path" };
                    map.insert("in".into(), json!(to));
                    done(format!("{at}/in = {to}"))
                }
                2 => {
                    map.remove("required");
                    done(format!("{at}/required removed"))
                }
                _ => {
                    let copy = Value::Object(map.clone());
                    let list = doc.pointer_mut(at.rsplit_once('/')?.0)?.as_array_mut()?;
                    list.push(copy);
                    done(format!("{at} duplicated"))
                }
            }
        }
        "odd-keyword" => {
            let at = pick(&schemas, t)?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let (key, value) = pick(
                &[
                    ("pattern", json!("^[a-z]+$")),
                    ("not", json!({"type": "string"})),
                    ("exclusiveMinimum", json!(true)),
                    ("minLength", json!(9)),
                    ("maxLength", json!(2)),
                    ("default", json!("x")),
                    ("default", json!(7)),
                    ("additionalProperties", json!(false)),
                    ("items", json!({"type": "string"})),
                    ("oneOf", json!([{"type": "string"}, {"type": "integer"}])),
                    ("anyOf", json!([{"$ref": "#/components/schemas/ApiError"}])),
                    ("title", json!("Shared")),
                    ("readOnly", json!(true)),
                    ("x-extra", odd_value(c / 13)),
                ],
                c,
            )?;
            map.insert(key.into(), value.clone());
            done(format!("{at}/{key} = {value}"))
        }
        "odd-body" => {
            let bodies: Vec<String> = ops
                .iter()
                .filter(|o| doc.pointer(&format!("{o}/requestBody/content")).is_some())
                .cloned()
                .collect();
            let at = pick(&bodies, t)?;
            let content = doc
                .pointer_mut(&format!("{at}/requestBody/content"))?
                .as_object_mut()?;
            let (media, item) = content.iter().next().map(|(k, v)| (k.clone(), v.clone()))?;
            match c % 4 {
                0 => {
                    content.insert("text/plain".into(), item);
                    done(format!("{at}: second media type"))
                }
                1 => {
                    rename_key(content, &media, "application/xml".into());
                    done(format!("{at}: {media} -> application/xml"))
                }
                2 => {
                    content.get_mut(&media)?.as_object_mut()?.insert(
                        "encoding".into(),
                        json!({"a": {"contentType": "text/plain"}}),
                    );
                    done(format!("{at}: encoding added"))
                }
                _ => {
                    content.get_mut(&media)?.as_object_mut()?.remove("schema");
                    done(format!("{at}: body schema removed"))
                }
            }
        }
        "odd-responses" => {
            let at = pick(&ops, t)?;
            let responses = doc
                .pointer_mut(&format!("{at}/responses"))?
                .as_object_mut()?;
            let codes: Vec<String> = responses.keys().cloned().collect();
            match c % 4 {
                0 => {
                    responses.insert(
                        "299".into(),
                        json!({"description": "odd", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}),
                    );
                    done(format!("{at}/responses/299 added"))
                }
                1 => {
                    responses.insert("default".into(), json!({"description": "any"}));
                    done(format!("{at}/responses/default added"))
                }
                2 => {
                    let code = pick(&codes, c / 4)?;
                    responses.remove(&code);
                    done(format!("{at}/responses/{code} removed"))
                }
                _ => {
                    responses.clear();
                    done(format!("{at}/responses emptied"))
                }
            }
        }
        _ => None,
    }
}

/// A mutant of a spec: its YAML text and the mutations that changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutant {
    /// The mutated spec, as YAML.
    pub text: String,
    /// The mutations that applied, in order.
    pub applied: Vec<Applied>,
    /// The operators of the mutations that did not apply (see [`apply`]).
    pub not_applied: Vec<&'static str>,
}

/// The mutant of `base` after `mutations`.
pub fn mutant(base: &Value, mutations: &[Mutation]) -> Mutant {
    let mut doc = base.clone();
    let (mut applied, mut not_applied) = (Vec::new(), Vec::new());
    for m in mutations {
        match apply(&mut doc, m) {
            Some(done) => applied.push(done),
            None => not_applied.push(m.operator_name()),
        }
    }
    let text = serde_yaml::to_string(&doc).unwrap_or_default();
    Mutant {
        text,
        applied,
        not_applied,
    }
}

/// How a mutant fared, when the invariant held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The loader rejected it with a located error.
    Unloadable,
    /// Lint or the generator reported located findings, with their rule ids.
    Rejected(BTreeSet<&'static str>),
    /// The mutant no longer fits the crate's configured options (say, its
    /// error body lost the code property the options name): the generator
    /// refuses it with a typed error that names the option and the schema,
    /// not a line of the spec.
    Refused(String),
    /// A crate was generated (valid Rust with each item defined once) that
    /// differs from the original spec's.
    Generated(Box<GeneratedCrate>),
}

/// A broken invariant: a panic, an unlocated finding, an error that is not a
/// finding, or a mutant that generates the original crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A spec under mutation: its document, the generator's options for its
/// crate (as `spec/crates.toml` configures it) and the crate it generates.
#[derive(Clone, Debug)]
pub struct Target {
    options: Options,
    base: Value,
    original: GeneratedCrate,
}

impl Target {
    /// The target for `spec`, generated with `options`; fails (with the
    /// reason) when the spec does not generate.
    ///
    /// The original crate a mutant is compared with is generated from the
    /// spec written out the way mutants are ([`mutant`] with no mutation:
    /// the same YAML writer, keys in the same order, which changes the order
    /// of the generated operations), so that only a mutation makes a difference.
    pub fn new(spec: &LoadedSpec, options: Options) -> Result<Self, String> {
        generate_with(spec, &options).map_err(|e| e.to_string())?;
        let base = spec.json().clone();
        let written =
            LoadedSpec::from_str(options.spec_display_name.clone(), mutant(&base, &[]).text)
                .map_err(|e| format!("the spec written out as YAML does not load: {e}"))?;
        let original = generate_with(&written, &options)
            .map_err(|e| format!("the spec written out as YAML does not generate: {e}"))?;
        Ok(Self {
            options,
            base,
            original,
        })
    }

    /// The spec's name (as the options give it).
    pub fn name(&self) -> &str {
        &self.options.spec_display_name
    }

    /// The spec, as a JSON document.
    pub fn document(&self) -> &Value {
        &self.base
    }

    /// The crate the spec generates (written out as mutants are).
    pub fn original(&self) -> &GeneratedCrate {
        &self.original
    }

    /// The mutant of the spec after `mutations`.
    pub fn mutant(&self, mutations: &[Mutation]) -> Mutant {
        mutant(&self.base, mutations)
    }

    /// Loads, lints and generates `text` (a mutant, named like the spec) and
    /// checks the invariant: nothing panics, every failure is a finding that
    /// names file, line, column, the operation or component and a JSON
    /// pointer, and generated code differs from the original crate.
    pub fn judge(&self, text: &str) -> Result<Outcome, Violation> {
        let file = self.name();
        let run = || -> Result<Outcome, Violation> {
            let spec = match LoadedSpec::from_str(file, text.to_string()) {
                Ok(spec) => spec,
                Err(LoadError::Syntax {
                    line, column, path, ..
                }) if line >= 1 && column >= 1 && path == Path::new(file) => {
                    return Ok(Outcome::Unloadable)
                }
                Err(other) => return Err(Violation(format!("unlocated load error: {other}"))),
            };
            match generate_with(&spec, &self.options) {
                Ok(generated) if same_crate(&generated, &self.original) => Err(Violation(
                    "the mutant generates the original crate: the mutation changed nothing the generator reads".into(),
                )),
                Ok(generated) => Ok(Outcome::Generated(Box::new(generated))),
                Err(GenerateError::Lint { report, .. }) => check_report(&spec, &report),
                Err(refused @ GenerateError::Options { .. }) => {
                    Ok(Outcome::Refused(refused.to_string()))
                }
                Err(other) => Err(Violation(format!(
                    "an error that is not a finding: {other}"
                ))),
            }
        };
        match catch(run) {
            Ok(result) => result,
            Err(panic) => Err(Violation(format!("panicked: {panic}"))),
        }
    }
}

/// True when two crates are the same apart from the `sha256` lines of their
/// headers (the checksum of the spec's bytes, which any reformatting changes).
pub fn same_crate(a: &GeneratedCrate, b: &GeneratedCrate) -> bool {
    let body = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !(l.starts_with("// sha256: ") || l.starts_with("# sha256: ")))
            .map(str::to_string)
            .collect()
    };
    a.files()
        .iter()
        .zip(b.files())
        .all(|((_, x), (_, y))| body(x) == body(y))
}

fn check_report(spec: &LoadedSpec, report: &LintReport) -> Result<Outcome, Violation> {
    if report.findings.is_empty() {
        return Err(Violation("generation failed with no finding".into()));
    }
    let doc = spec.json();
    let mut rules_seen = BTreeSet::new();
    for f in &report.findings {
        let bad = |why: &str| Err(Violation(format!("{why}: {f}")));
        if rules::get(f.rule).is_none() {
            return bad("a rule id that docs/lint-rules.md does not list");
        }
        let Some(location) = &f.location else {
            return bad("no location");
        };
        if location.line == 0
            || location.column == 0
            || location.file != spec.path.display().to_string()
        {
            return bad("no line and column in the spec file");
        }
        if !f.pointer.starts_with('/') {
            return bad("no JSON pointer");
        }
        let in_operation = operation_of(doc, &f.pointer).is_some();
        if in_operation && f.operation.is_none() {
            return bad("inside an operation but names none");
        }
        if f.pointer.starts_with("/components/") && f.component.is_none() {
            return bad("inside a component but names none");
        }
        if f.message.trim().is_empty() || f.fix().is_empty() {
            return bad("no message or no fix");
        }
        rules_seen.insert(f.rule);
    }
    Ok(Outcome::Rejected(rules_seen))
}

/// Runs `cargo check` on each generated crate in a scratch workspace (under
/// `scratch`, see [`crate::scratch`]). A generated crate needs nothing but the
/// runtime: no stub stands in for anything. `target_dir` is kept between runs
/// so that the dependencies are built once.
pub fn compile_check(
    crates: &[GeneratedCrate],
    workspace: &Path,
    scratch: &Path,
    target_dir: &Path,
) -> Result<(), String> {
    let named: Vec<(String, &GeneratedCrate)> = crates
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("mutant{i}"), c))
        .collect();
    crate::scratch::write_workspace(&named, workspace, scratch)?;
    crate::scratch::cargo_check(scratch, target_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_spec(name: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spec")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        LoadedSpec::from_str("spec.yaml", text)
            .unwrap()
            .json()
            .clone()
    }

    #[test]
    fn every_operator_changes_each_real_spec() {
        for spec in ["passage-auth.yaml", "passage-management.yaml"] {
            let base = real_spec(spec);
            for (i, name) in OPERATORS.iter().enumerate() {
                let changed = (0..20u64).any(|n| {
                    let mut doc = base.clone();
                    let m = Mutation {
                        operator: i as u8,
                        target: n,
                        choice: n * 7 + 1,
                    };
                    apply(&mut doc, &m).is_some_and(|a| a.operator == *name) && doc != base
                });
                assert!(changed, "{name} never changes {spec}");
            }
        }
    }

    #[test]
    fn a_change_that_leaves_the_document_as_it_was_is_not_applied() {
        let base = json!({"components": {"schemas": {"A": {"type": "string"}}}});
        // move-nullable, choice 1: remove `nullable` (A has none).
        let m = Mutation {
            operator: 10,
            target: 0,
            choice: 1,
        };
        let mut doc = base.clone();
        assert_eq!(apply(&mut doc, &m), None);
        assert_eq!(doc, base);
        let done = mutant(&base, &[m]);
        assert!(done.applied.is_empty());
        assert_eq!(done.not_applied, ["move-nullable"]);
        // Choice 0 sets it: applied.
        let m = Mutation { choice: 0, ..m };
        let applied = apply(&mut doc, &m).unwrap();
        assert_eq!(applied.operator, "move-nullable");
        assert_eq!(
            applied.to_string(),
            "move-nullable: /components/schemas/A/nullable = true"
        );
    }

    fn test_target() -> Target {
        let valid = crate::lint::testing::VALID;
        let spec = LoadedSpec::from_str("spec/test.yaml", valid.to_string()).unwrap();
        Target::new(&spec, Options::for_spec("spec/test.yaml")).unwrap()
    }

    #[test]
    fn the_four_rows_of_issue_14_end_in_located_findings() {
        let valid = crate::lint::testing::VALID;
        let target = test_target();
        for (from, to, rule) in [
            (
                "        id:\n          type: string",
                "        id:\n          type: strnig",
                "schema-type",
            ),
            (
                "enum: [active, inactive]",
                "enum: [active, '!!!']",
                "enum-values",
            ),
            (
                "enum: [active, inactive]",
                "enum: [active, Active]",
                "enum-values",
            ),
        ] {
            let text = valid.replacen(from, to, 1);
            match target.judge(&text) {
                Ok(Outcome::Rejected(rules)) => assert!(rules.contains(rule), "{rules:?}"),
                other => panic!("{to}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_mutant_counts_only_when_its_code_is_new() {
        let valid = crate::lint::testing::VALID;
        let target = test_target();
        // The spec written out as mutants are, with no mutation, is no mutant.
        let unchanged = target.mutant(&[]);
        assert!(unchanged.applied.is_empty());
        let violation = target.judge(&unchanged.text).unwrap_err();
        assert!(
            violation.0.contains("generates the original crate"),
            "{violation}"
        );
        // A new enum value is new code.
        let text = valid.replacen(
            "enum: [active, inactive]",
            "enum: [active, inactive, gone]",
            1,
        );
        assert_ne!(text, valid);
        assert!(matches!(target.judge(&text), Ok(Outcome::Generated(_))));
    }

    #[test]
    fn crates_that_differ_only_in_the_checksum_are_the_same() {
        let a = test_target().original().clone();
        let mut b = a.clone();
        b.code = b.code.replacen("// sha256: ", "// sha256: 00", 1);
        b.manifest = b.manifest.replacen("# sha256: ", "# sha256: 00", 1);
        assert_ne!(a, b);
        assert!(same_crate(&a, &b));
        b.root.push_str("\n// more\n");
        assert!(!same_crate(&a, &b));
    }
}
