//! Reading a spec file (such as `spec/passage-auth.yaml`) into an [`openapiv3::OpenAPI`] document.
//!
//! Errors always name the file, and the line and column when the YAML parser
//! or the OpenAPI shape check knows them.

use std::fmt;
use std::path::{Path, PathBuf};

use openapiv3::OpenAPI;
use sha2::{Digest, Sha256};

use super::pointer::subject_of;
use super::position::{pointer_at, position_of, Position};

/// A spec that was read and parsed, with the bytes it came from.
#[derive(Clone)]
pub struct LoadedSpec {
    /// The path the spec was read from, as given by the caller.
    pub path: PathBuf,
    /// The exact text of the spec file.
    pub source: String,
    /// The parsed document.
    pub openapi: OpenAPI,
    /// The same document as a JSON value (the form the lint rules walk).
    json: serde_json::Value,
}

impl fmt::Debug for LoadedSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedSpec")
            .field("path", &self.path)
            .field("version", &self.openapi.info.version)
            .field("sha256", &self.sha256())
            .finish()
    }
}

impl LoadedSpec {
    /// Parses spec text that did not come from a file; `path` is used in messages.
    pub fn from_str(path: impl Into<PathBuf>, source: String) -> Result<Self, LoadError> {
        let path = path.into();
        let (openapi, json) = parse(&path, &source)?;
        Ok(Self {
            path,
            source,
            openapi,
            json,
        })
    }

    /// The document as a JSON value; mapping keys that YAML reads as numbers
    /// (an unquoted `200:`) become strings, as OpenAPI means them.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }

    /// The lower-case hex sha256 of the spec bytes.
    pub fn sha256(&self) -> String {
        let digest = Sha256::digest(self.source.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The 1-based line of the YAML node that a JSON pointer names, when it can be found.
    pub fn line_of(&self, pointer: &str) -> Option<usize> {
        self.position_of(pointer).map(|p| p.line)
    }

    /// The line and column of the YAML node that a JSON pointer names (or of
    /// the deepest node on its way that exists), when it can be found.
    pub fn position_of(&self, pointer: &str) -> Option<Position> {
        position_of(&self.source, pointer)
    }

    /// A spec built from a JSON value (a part of another spec, e.g. when the
    /// generator isolates what it cannot convert); `source` becomes its YAML form.
    pub fn from_json(path: impl Into<PathBuf>, json: serde_json::Value) -> Result<Self, LoadError> {
        let path = path.into();
        let source = serde_yaml::to_string(&json).map_err(|e| syntax_error(&path, "", e))?;
        let openapi =
            serde_json::from_value::<OpenAPI>(json.clone()).map_err(|e| LoadError::Syntax {
                path: path.clone(),
                line: 0,
                column: 0,
                pointer: String::new(),
                message: e.to_string(),
            })?;
        Ok(Self {
            path,
            source,
            openapi,
            json,
        })
    }
}

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read the spec: {source}")]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The text is not valid YAML, or not a valid OpenAPI 3.0 document.
    #[error("{path}:{line}:{column}: {message} (at {})", if pointer.is_empty() { "the document" } else { pointer })]
    Syntax {
        /// The file that was read.
        path: PathBuf,
        /// 1-based line, 0 when the parser did not say.
        line: usize,
        /// 1-based column, 0 when the parser did not say.
        column: usize,
        /// JSON pointer of the node the line is in (empty for the whole document).
        pointer: String,
        /// The parser's message, in the spec's terms.
        message: String,
    },
}

/// Reads and parses the spec at `path`.
pub fn load(path: impl AsRef<Path>) -> Result<LoadedSpec, LoadError> {
    let path = path.as_ref().to_path_buf();
    let source = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
        path: path.clone(),
        source,
    })?;
    LoadedSpec::from_str(path, source)
}

fn parse(path: &Path, source: &str) -> Result<(OpenAPI, serde_json::Value), LoadError> {
    // First as plain YAML, so that syntax errors get the parser's own location;
    // then into the OpenAPI shape, whose errors carry the location of the bad node.
    let value: serde_yaml::Value =
        serde_yaml::from_str(source).map_err(|e| syntax_error(path, source, e))?;
    if !value.is_mapping() {
        return Err(LoadError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            pointer: String::new(),
            message: "the spec must be a YAML mapping (an OpenAPI document); \
                      start it with `openapi: 3.0.3`, `info` and `paths`"
                .into(),
        });
    }
    let json = to_json(value);
    let openapi = serde_yaml::from_str::<OpenAPI>(source).map_err(|e| {
        // The document model reads path items, parameters, bodies, responses
        // and schemas through untagged enums, which lose the location of an
        // error inside them: look for the innermost such node that does not
        // read on its own, and name it instead.
        match narrowest_failure(&json) {
            Some((pointer, message)) => shape_error(path, source, &pointer, &message),
            None => syntax_error(path, source, e),
        }
    })?;
    Ok((openapi, json))
}

/// The innermost node the document model reads through an untagged enum
/// (a path item, an operation, a parameter, a request body, a response, a
/// component) that does not read, with the reader's message.
fn narrowest_failure(doc: &serde_json::Value) -> Option<(String, String)> {
    use openapiv3::{
        Operation, Parameter, PathItem, ReferenceOr, RequestBody, Response, Schema, SecurityScheme,
    };
    use serde_json::Value;

    /// Reads a node as one type of the document model: the reader's message when it fails.
    type Check = fn(&Value) -> Option<String>;

    fn fails<T: serde::de::DeserializeOwned>(value: &Value) -> Option<String> {
        serde_json::from_value::<T>(value.clone())
            .err()
            .map(|e| e.to_string())
    }
    fn entries<'a>(value: &'a Value, pointer: &str) -> Vec<(String, &'a Value)> {
        match value {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (format!("{pointer}/{}", super::pointer::escape(k)), v))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{pointer}/{i}"), v))
                .collect(),
            _ => Vec::new(),
        }
    }
    /// The operation's failing part, or the operation itself.
    fn in_operation(op: &Value, pointer: &str) -> Option<(String, String)> {
        let message = fails::<Operation>(op)?;
        let mut parts: Vec<(String, &Value, Check)> = Vec::new();
        if let Some(params) = op.get("parameters") {
            for (p, v) in entries(params, &format!("{pointer}/parameters")) {
                parts.push((p, v, fails::<ReferenceOr<Parameter>>));
            }
        }
        if let Some(body) = op.get("requestBody") {
            parts.push((
                format!("{pointer}/requestBody"),
                body,
                fails::<ReferenceOr<RequestBody>>,
            ));
        }
        if let Some(responses) = op.get("responses") {
            for (p, v) in entries(responses, &format!("{pointer}/responses")) {
                parts.push((p, v, fails::<ReferenceOr<Response>>));
            }
        }
        Some(
            parts
                .into_iter()
                .find_map(|(p, v, check)| check(v).map(|m| (p, m)))
                .unwrap_or_else(|| (pointer.to_string(), message)),
        )
    }

    if let Some(paths) = doc.get("paths") {
        for (pointer, item) in entries(paths, "/paths") {
            let Some(message) = fails::<ReferenceOr<PathItem>>(item) else {
                continue;
            };
            let inner = entries(item, &pointer).into_iter().find_map(|(p, v)| {
                let key = p.rsplit('/').next().unwrap_or_default();
                if super::walk::METHODS.contains(&key) {
                    in_operation(v, &p)
                } else if key == "parameters" {
                    entries(v, &p)
                        .into_iter()
                        .find_map(|(p, v)| fails::<ReferenceOr<Parameter>>(v).map(|m| (p, m)))
                } else {
                    None
                }
            });
            return Some(inner.unwrap_or((pointer, message)));
        }
    }
    let components: [(&str, Check); 5] = [
        ("schemas", fails::<ReferenceOr<Schema>>),
        ("parameters", fails::<ReferenceOr<Parameter>>),
        ("requestBodies", fails::<ReferenceOr<RequestBody>>),
        ("responses", fails::<ReferenceOr<Response>>),
        ("securitySchemes", fails::<ReferenceOr<SecurityScheme>>),
    ];
    for (kind, check) in components {
        if let Some(map) = doc.pointer(&format!("/components/{kind}")) {
            for (pointer, value) in entries(map, &format!("/components/{kind}")) {
                if let Some(message) = check(value) {
                    return Some((pointer, message));
                }
            }
        }
    }
    None
}

/// A shape error at the node `pointer` names, with the reader's `message`.
fn shape_error(path: &Path, source: &str, pointer: &str, message: &str) -> LoadError {
    let position = position_of(source, pointer);
    let (line, column) = position.map_or((1, 1), |p| (p.line, p.column));
    let mut message = message.to_string();
    if let Some(subject) = subject_of(pointer) {
        message = format!("{subject}: {message}");
    }
    LoadError::Syntax {
        path: path.to_path_buf(),
        line: line.max(1),
        column: column.max(1),
        pointer: pointer.to_string(),
        message,
    }
}

fn to_json(value: serde_yaml::Value) -> serde_json::Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => serde_json::Value::Null,
        Y::Bool(b) => b.into(),
        Y::Number(n) => serde_json::to_value(&n).unwrap_or(serde_json::Value::Null),
        Y::String(s) => s.into(),
        Y::Sequence(items) => items.into_iter().map(to_json).collect(),
        Y::Mapping(map) => map
            .into_iter()
            .map(|(k, v)| {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_yaml::to_string(&other)
                        .unwrap_or_default()
                        .trim_end()
                        .to_string(),
                };
                (key, to_json(v))
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Y::Tagged(tagged) => to_json(tagged.value),
    }
}

fn syntax_error(path: &Path, source: &str, error: serde_yaml::Error) -> LoadError {
    // serde_yaml says where; the pointer says which node that is, so that the
    // message names the operation or schema as lint findings do.
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let pointer = pointer_at(source, line);
    let mut message = error.to_string();
    // serde_yaml appends "at line L column C", which the prefix already says.
    if let Some(cut) = message.find(" at line ") {
        message.truncate(cut);
    }
    if let Some(subject) = subject_of(&pointer) {
        message = format!("{subject}: {message}");
    }
    LoadError::Syntax {
        path: path.to_path_buf(),
        line: line.max(1),
        column: column.max(1),
        pointer,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let err = LoadedSpec::from_str("spec/x.yaml", "openapi: 3.0.3\ninfo: [unclosed\n".into())
            .unwrap_err();
        let LoadError::Syntax { line, column, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 3, "{err}");
        assert!(*column >= 1);
        assert!(err.to_string().starts_with("spec/x.yaml:3:"), "{err}");
    }

    #[test]
    fn shape_errors_name_the_bad_node() {
        // `paths` must be a mapping; the error points at line 5, where the sequence is.
        let text = "openapi: 3.0.3\ninfo:\n  title: t\n  version: 1.0.0\npaths:\n  - nope\n";
        let err = LoadedSpec::from_str("s.yaml", text.into()).unwrap_err();
        let LoadError::Syntax { line, .. } = &err else {
            panic!("{err}")
        };
        assert!(*line == 5 || *line == 6, "{err}");
        assert!(err.to_string().contains("paths"), "{err}");
    }

    #[test]
    fn a_shape_error_inside_a_parameter_names_the_parameter() {
        let text = "openapi: 3.0.3\ninfo:\n  title: t\n  version: 1.0.0\npaths:\n  /a:\n    get:\n      responses: {}\n  /b:\n    get:\n      parameters:\n        - name: x\n          in: query\n          required: sometimes\n      responses: {}\n";
        let err = LoadedSpec::from_str("s.yaml", text.into()).unwrap_err();
        let LoadError::Syntax { line, pointer, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(pointer, "/paths/~1b/get/parameters/0", "{err}");
        assert_eq!(*line, 12, "{err}");
        assert!(err.to_string().contains("sometimes"), "{err}");
    }

    #[test]
    fn io_errors_name_the_file() {
        let err = load("/nonexistent/spec.yaml").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/spec.yaml: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn numeric_status_keys_become_strings() {
        let text = "openapi: 3.0.3\ninfo:\n  title: t\n  version: 1.0.0\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n";
        let spec = LoadedSpec::from_str("s.yaml", text.into()).unwrap();
        let description = spec
            .json()
            .pointer("/paths/~1a/get/responses/200/description");
        assert_eq!(description.and_then(|v| v.as_str()), Some("ok"));
    }
}
