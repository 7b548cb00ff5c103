//! The project's own rules for the spec, checked before generation so that a
//! mistake gets a message naming the operation and the JSON pointer (and the
//! line) instead of a progenitor panic.
//!
//! Each rule has a stable id (shown in brackets in every finding) and lives in
//! the module of its family: [`document`], [`operations`], [`responses`],
//! [`schemas`], [`names`], [`types`]. [`rules::RULES`] lists every id with its
//! fix; `docs/lint-rules.md` is the same table for readers.

pub mod document;
pub mod names;
pub mod operations;
pub mod responses;
pub mod rules;
pub mod schemas;
pub mod types;

use std::fmt;

use serde_json::Value;

use crate::LoadedSpec;

/// Where a finding points, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable id, e.g. `operation-id` (see [`rules::RULES`]).
    pub rule: &'static str,
    /// The operationId (or `METHOD path` when it has none) the finding is about.
    pub operation: Option<String>,
    /// The component the finding is about, e.g. `schema `User``, when it is in
    /// `components` rather than in an operation.
    pub component: Option<String>,
    /// JSON pointer (RFC 6901) to the offending node.
    pub pointer: String,
    /// What is wrong, in the spec's terms.
    pub message: String,
    /// File, line and column, filled in by [`lint`] when the node can be located.
    pub location: Option<Location>,
}

/// A place in a spec file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The spec file as named to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Finding {
    /// How to fix it: the hint of the finding's rule.
    pub fn fix(&self) -> &'static str {
        rules::get(self.rule).map_or("", |r| r.fix)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(Location { file, line, column }) = &self.location {
            write!(f, "{file}:{line}:{column}: ")?;
        }
        write!(f, "[{}] ", self.rule)?;
        if let Some(op) = &self.operation {
            write!(f, "operation `{op}`: ")?;
        } else if let Some(component) = &self.component {
            write!(f, "{component}: ")?;
        }
        write!(f, "{} (at {})", self.message, self.pointer)?;
        match self.fix() {
            "" => Ok(()),
            fix => write!(f, ". Fix: {fix}"),
        }
    }
}

/// All findings of one lint run; empty means the spec passes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Findings in document order (by line and column).
    pub findings: Vec<Finding>,
}

impl LintReport {
    /// True when no rule found anything.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Findings of one rule (handy in tests).
    pub fn of_rule(&self, rule: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }
}

impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        write!(f, "{} finding(s)", self.findings.len())
    }
}

/// Collects findings with their context; handed to every rule.
pub(crate) struct Sink {
    findings: Vec<Finding>,
}

impl Sink {
    pub(crate) fn push(
        &mut self,
        rule: &'static str,
        operation: Option<&str>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule,
            operation: operation.map(str::to_string),
            component: None,
            pointer: pointer.into(),
            message: message.into(),
            location: None,
        });
    }
}

/// One operation of the document, as the rules see it.
pub(crate) struct OperationRef<'a> {
    pub path: &'a str,
    pub method: &'a str,
    pub pointer: String,
    pub value: &'a Value,
    /// The operationId, or `METHOD path` when it is missing.
    pub name: String,
}

/// The HTTP methods an OpenAPI path item may hold.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(crate) fn operations(doc: &Value) -> Vec<OperationRef<'_>> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()));
                out.push(OperationRef {
                    path,
                    method,
                    pointer: format!("/paths/{}/{method}", escape(path)),
                    value: op,
                    name,
                });
            }
        }
    }
    out
}

/// Escapes one JSON-pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Resolves a local `$ref` (`#/a/b`) against the document.
pub(crate) fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
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
            let name = name.replace("~1", "/").replace("~0", "~");
            Some(format!("{kind} `{name}`"))
        }
        (Some("paths"), Some(path), None) => Some(format!(
            "path `{}`",
            path.replace("~1", "/").replace("~0", "~")
        )),
        (Some(top), None, None) if !top.is_empty() => Some(format!("`{top}`")),
        _ => None,
    }
}

/// Fills in what a finding is about (operation or component) and where it is.
pub(crate) fn locate(spec: &LoadedSpec, findings: &mut [Finding]) {
    let doc = spec.json();
    let file = spec.path.display().to_string();
    for finding in findings {
        if finding.operation.is_none() {
            finding.operation = document::operation_of(doc, &finding.pointer);
        }
        if finding.component.is_none() {
            finding.component = subject_of(&finding.pointer);
        }
        let position = spec
            .position_of(&finding.pointer)
            .unwrap_or(crate::locate::Position { line: 1, column: 1 });
        finding.location = Some(Location {
            file: file.clone(),
            line: position.line,
            column: position.column,
        });
    }
}

/// Runs every rule on the spec.
pub fn lint(spec: &LoadedSpec) -> LintReport {
    let doc = spec.json();
    let mut sink = Sink {
        findings: Vec::new(),
    };
    document::check(doc, &mut sink);
    operations::check(doc, &mut sink);
    responses::check(doc, &mut sink);
    schemas::check(doc, &mut sink);
    types::check(doc, &mut sink);
    names::check(doc, &mut sink);
    locate(spec, &mut sink.findings);
    // In document order, whatever order the rules and maps visited the nodes in.
    sink.findings
        .sort_by_key(|f| f.location.as_ref().map(|l| (l.line, l.column)));
    LintReport {
        findings: sink.findings,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A minimal valid spec that rule tests break one piece at a time.

    use crate::LoadedSpec;

    pub const VALID: &str = r##"openapi: 3.0.3
info:
  title: Test API
  version: 1.2.3
servers:
  - url: https://example.test/v1
tags:
  - name: Apps
    description: Apps.
  - name: Currentuser
    description: The signed-in user.
paths:
  /apps/{app_id}:
    get:
      operationId: get_app
      summary: Get an app
      description: Returns the app.
      tags: [Apps]
      security: []
      x-idempotent: true
      parameters:
        - name: app_id
          in: path
          required: true
          description: The app id.
          schema:
            type: string
      responses:
        '200':
          description: The app.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/GetAppResponse'
        '404':
          $ref: '#/components/responses/NotFound'
  /apps/{app_id}/currentuser:
    get:
      operationId: get_currentuser
      summary: Get the current user
      description: Returns the user of the bearer token.
      tags: [Currentuser]
      security:
        - bearerAuth: []
      x-idempotent: true
      parameters:
        - name: app_id
          in: path
          required: true
          description: The app id.
          schema:
            type: string
      responses:
        '200':
          description: Deleted.
        '401':
          description: Not signed in.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ApiError'
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
  responses:
    NotFound:
      description: Not found.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/ApiError'
  schemas:
    GetAppResponse:
      type: object
      required: [app]
      properties:
        app:
          $ref: '#/components/schemas/App'
    App:
      type: object
      required: [id]
      properties:
        id:
          type: string
        status:
          $ref: '#/components/schemas/Status'
    Status:
      type: string
      enum: [active, inactive]
    ApiError:
      type: object
      required: [code, error]
      properties:
        code:
          type: string
        error:
          type: string
"##;

    /// Loads `VALID` after replacing `from` with `to` (which must occur).
    pub fn variant(from: &str, to: &str) -> LoadedSpec {
        assert!(VALID.contains(from), "fixture does not contain {from:?}");
        spec(&VALID.replacen(from, to, 1))
    }

    pub fn spec(text: &str) -> LoadedSpec {
        LoadedSpec::from_str("test.yaml", text.to_string()).expect("fixture parses")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn the_fixture_is_clean() {
        let report = lint(&spec(VALID));
        assert!(report.is_clean(), "{report}");
    }

    #[test]
    fn findings_carry_file_and_line() {
        let report = lint(&variant("      summary: Get an app\n", ""));
        let finding = &report.of_rule("summary-and-tag")[0];
        assert_eq!(finding.operation.as_deref(), Some("get_app"));
        assert_eq!(finding.pointer, "/paths/~1apps~1{app_id}/get");
        let location = finding.location.as_ref().unwrap();
        assert_eq!((location.file.as_str(), location.line), ("test.yaml", 14));
        assert_eq!(location.column, 5);
        let text = finding.to_string();
        assert!(
            text.starts_with("test.yaml:14:5: [summary-and-tag] operation `get_app`"),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(". Fix: {}", finding.fix())),
            "{text}"
        );
        assert!(!finding.fix().is_empty());
    }
}

/// Every schema object of the document with its pointer: component schemas,
/// the `schema` of parameters, headers and media types (under `paths` and
/// `components`), and every subschema of those. `$ref`s are not followed.
pub(crate) fn all_schemas(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            subschemas(
                schema,
                format!("/components/schemas/{}", escape(name)),
                &mut out,
            );
        }
    }
    for (key, node) in doc.as_object().into_iter().flatten() {
        match key.as_str() {
            "paths" => find_schema_keys(node, "/paths".into(), &mut out),
            "components" => {
                for (kind, items) in node.as_object().into_iter().flatten() {
                    if kind != "schemas" {
                        find_schema_keys(items, format!("/components/{}", escape(kind)), &mut out);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn find_schema_keys<'a>(node: &'a Value, pointer: String, out: &mut Vec<(String, &'a Value)>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let child = format!("{pointer}/{}", escape(key));
                if key == "schema" {
                    subschemas(value, child, out);
                } else if !key.starts_with("x-") && key != "example" && key != "examples" {
                    find_schema_keys(value, child, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_schema_keys(item, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn subschemas<'a>(schema: &'a Value, pointer: String, out: &mut Vec<(String, &'a Value)>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    out.push((pointer.clone(), schema));
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get(key).filter(|c| c.is_object()) {
            subschemas(child, format!("{pointer}/{key}"), out);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for (i, child) in map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            subschemas(child, format!("{pointer}/{key}/{i}"), out);
        }
    }
    for (name, child) in map
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        subschemas(child, format!("{pointer}/properties/{}", escape(name)), out);
    }
}
