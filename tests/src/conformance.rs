//! Conformance of the emulator to the specs: a recording reverse proxy sits
//! between the clients and the emulator, and every response that passed
//! through it is validated against the schema its spec declares for that
//! operation and status: `spec/passage-management.yaml` for the Management API
//! (paths under `/management/v1`), `spec/passage-auth.yaml` for the Auth API
//! (`/v1`). [`Conformance`] holds both and picks one by the path's prefix.
//!
//! A mismatch names the operation, the status and the JSON path.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Map, Value};

/// One response that passed through the proxy.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Request path without the query.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// Response `content-type`, if any.
    pub content_type: Option<String>,
    /// Response body.
    pub body: Bytes,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<Recorded>>>,
}

/// A recording reverse proxy on 127.0.0.1; stops when dropped.
pub struct RecordingProxy {
    origin: String,
    log: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RecordingProxy {
    /// Starts a proxy that forwards everything to `upstream_origin` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream_origin: &str) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = ProxyState {
            upstream: upstream_origin.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("proxy client"),
            log: log.clone(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let origin = format!("http://{}", listener.local_addr().expect("proxy address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            origin,
            log,
            shutdown: Some(tx),
        }
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Everything recorded so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }

    /// Forgets what was recorded (e.g. before a fault-injection phase).
    pub fn clear(&self) {
        self.log.lock().expect("log").clear();
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn forward(State(state): State<ProxyState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{}", state.upstream, path_and_query);
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in parts.headers.iter() {
        if name != "host" && name != "content-length" {
            headers.append(name.clone(), value.clone());
        }
    }
    let upstream = state
        .http
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(r) => r,
        // The emulator dropped the connection (fault injection): answer 502 and record nothing.
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = upstream.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if name != "transfer-encoding" && name != "content-length" && name != "connection" {
            out_headers.append(name.clone(), value.clone());
        }
    }
    let content_type = upstream
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    state.log.lock().expect("log").push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        status: status.as_u16(),
        content_type,
        body: bytes.clone(),
    });
    (status, out_headers, bytes).into_response()
}

/// One spec's operations and response schemas, as JSON Schema.
pub struct SpecSchemas {
    doc: Value,
    defs: Map<String, Value>,
    operations: Vec<SpecOperation>,
    /// The prefix of the spec's paths on the emulator (`/v1`, `/management/v1`).
    base: &'static str,
}

/// Prefix of the Management API's paths on the emulator's listener.
pub const MANAGEMENT_PREFIX: &str = "/management/v1";
/// Prefix of the Auth API's paths.
pub const AUTH_PREFIX: &str = "/v1";

/// Both specs: the Management API's for paths under [`MANAGEMENT_PREFIX`], the Auth API's for the
/// rest.
pub struct Conformance {
    auth: SpecSchemas,
    management: SpecSchemas,
}

impl Conformance {
    /// Loads both specs of this workspace.
    pub fn load() -> Self {
        Self {
            auth: SpecSchemas::load(),
            management: SpecSchemas::load_management(),
        }
    }

    /// The Management API's spec.
    pub fn management(&self) -> &SpecSchemas {
        &self.management
    }

    /// The spec that describes `path`.
    pub fn spec_for(&self, path: &str) -> &SpecSchemas {
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        if under(MANAGEMENT_PREFIX) {
            &self.management
        } else {
            &self.auth
        }
    }

    /// Checks every recorded answer against its spec; the list of failures.
    pub fn check_all(&self, recorded: &[Recorded]) -> Vec<Mismatch> {
        recorded
            .iter()
            .flat_map(|r| self.spec_for(&r.path).check(r))
            .collect()
    }

    /// Checks the status of every request in an emulator's request log against its spec.
    pub fn check_request_log(&self, log: &[passage_emulator::LoggedRequest]) -> Vec<Mismatch> {
        log.iter()
            .filter_map(|r| {
                r.status.and_then(|status| {
                    self.spec_for(&r.path)
                        .check_status(&r.method, &r.path, status)
                })
            })
            .collect()
    }
}

struct SpecOperation {
    id: String,
    method: String,
    segments: Vec<String>,
    responses: Map<String, Value>,
}

/// One conformance failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// `operation_id` (or `METHOD path` when no operation matches).
    pub operation: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// JSON path inside the body (empty for whole-body problems).
    pub json_path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} answered {}: at `{}`: {}",
            self.operation, self.status, self.json_path, self.message
        )
    }
}

impl SpecSchemas {
    /// Loads `spec/passage-auth.yaml` of this workspace (paths under `/v1`).
    pub fn load() -> Self {
        Self::from_yaml_under(&read_spec("passage-auth.yaml"), AUTH_PREFIX)
    }

    /// Loads `spec/passage-management.yaml` of this workspace (paths under `/management/v1`).
    pub fn load_management() -> Self {
        Self::from_yaml_under(&read_spec("passage-management.yaml"), MANAGEMENT_PREFIX)
    }

    /// Builds the schemas from spec text whose paths are served under `/v1`.
    pub fn from_yaml(text: &str) -> Self {
        Self::from_yaml_under(text, AUTH_PREFIX)
    }

    /// Builds the schemas from spec text whose paths are served under `base`.
    pub fn from_yaml_under(text: &str, base: &'static str) -> Self {
        let doc: Value = serde_yaml::from_str(text).expect("spec parses");
        let mut defs = Map::new();
        if let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, schema) in schemas {
                defs.insert(name.clone(), to_json_schema(schema));
            }
        }
        let mut operations = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                for method in ["get", "put", "post", "delete", "patch"] {
                    let Some(op) = item.get(method) else { continue };
                    operations.push(SpecOperation {
                        id: op["operationId"].as_str().unwrap_or_default().to_string(),
                        method: method.to_uppercase(),
                        segments: path.split('/').map(str::to_string).collect(),
                        responses: op
                            .get("responses")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default(),
                    });
                }
            }
        }
        Self {
            doc,
            defs,
            operations,
            base,
        }
    }

    /// Every operation id of the spec, in the spec's order.
    pub fn operation_ids(&self) -> Vec<&str> {
        self.operations.iter().map(|op| op.id.as_str()).collect()
    }

    /// The operation id for a request, from its method and path below the base path.
    pub fn operation_for(&self, method: &str, path: &str) -> Option<&str> {
        self.find(method, path).map(|op| op.id.as_str())
    }

    fn find(&self, method: &str, path: &str) -> Option<&SpecOperation> {
        let path = path.strip_prefix(self.base).unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        // Prefer the template with the most literal segments (`/currentuser/devices/start`
        // over `/currentuser/devices/{device_id}`).
        self.operations
            .iter()
            .filter(|op| op.method == method && op.segments.len() == segments.len())
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .max_by_key(|op| op.segments.iter().filter(|t| !t.starts_with('{')).count())
    }

    /// Checks one recorded answer against the spec.
    pub fn check(&self, r: &Recorded) -> Vec<Mismatch> {
        let Some(op) = self.find(&r.method, &r.path) else {
            return vec![Mismatch {
                operation: format!("{} {}", r.method, r.path),
                status: r.status,
                json_path: String::new(),
                message: "no operation of the spec has this method and path".into(),
            }];
        };
        let mismatch = |json_path: String, message: String| Mismatch {
            operation: op.id.clone(),
            status: r.status,
            json_path,
            message,
        };
        let Some(response) = op.responses.get(&r.status.to_string()) else {
            return vec![mismatch(
                String::new(),
                "the spec does not declare this status".into(),
            )];
        };
        let response = match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => self
                .doc
                .pointer(reference.trim_start_matches('#'))
                .cloned()
                .unwrap_or(Value::Null),
            None => response.clone(),
        };
        let schema = response.pointer("/content/application~1json/schema");
        let Some(schema) = schema else {
            return if r.body.is_empty() {
                Vec::new()
            } else {
                vec![mismatch(
                    String::new(),
                    format!("the spec declares no body, but {} bytes came", r.body.len()),
                )]
            };
        };
        if !r
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return vec![mismatch(
                String::new(),
                format!("content-type {:?} is not application/json", r.content_type),
            )];
        }
        let body: Value = match serde_json::from_slice(&r.body) {
            Ok(v) => v,
            Err(e) => return vec![mismatch(String::new(), format!("body is not JSON: {e}"))],
        };
        let mut root = to_json_schema(schema);
        if let Value::Object(map) = &mut root {
            map.insert("$defs".into(), Value::Object(self.defs.clone()));
        }
        let validator = jsonschema::validator_for(&root).expect("spec schema compiles");
        validator
            .iter_errors(&body)
            // The validator's own text quotes the offending value, which may be a
            // token: name the broken schema rule instead.
            .map(|e| {
                mismatch(
                    e.instance_path.to_string(),
                    format!("breaks the spec's schema at {}", e.schema_path),
                )
            })
            .collect()
    }

    /// Checks that `status` is declared for the operation of `method path` (paths of no operation, such
    /// as deliberately unknown routes, are not checked here).
    pub fn check_status(&self, method: &str, path: &str, status: u16) -> Option<Mismatch> {
        let op = self.find(method, path)?;
        if op.responses.contains_key(&status.to_string()) {
            return None;
        }
        Some(Mismatch {
            operation: op.id.clone(),
            status,
            json_path: String::new(),
            message: "the spec does not declare this status (seen in the emulator's request log)"
                .into(),
        })
    }

    /// Checks the status of every request in an emulator's request log, whichever client sent it
    /// (dropped connections, with no status, are skipped).
    pub fn check_request_log(&self, log: &[passage_emulator::LoggedRequest]) -> Vec<Mismatch> {
        log.iter()
            .filter_map(|r| {
                r.status
                    .and_then(|status| self.check_status(&r.method, &r.path, status))
            })
            .collect()
    }

    /// Checks every recorded answer; the list of failures (empty when all conform).
    pub fn check_all(&self, recorded: &[Recorded]) -> Vec<Mismatch> {
        recorded.iter().flat_map(|r| self.check(r)).collect()
    }
}

fn read_spec(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// OpenAPI 3.0 schema -> JSON Schema (2020-12): `nullable`, local `$ref`s to `$defs`.
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
                    // Formats are annotations here, except that typed clients
                    // decode date-times: keep the format check off and leave it to the client tests.
                    "format" => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(method: &str, path: &str, status: u16, body: &str) -> Recorded {
        Recorded {
            method: method.into(),
            path: path.into(),
            status,
            content_type: Some("application/json".into()),
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn a_conforming_answer_passes_and_a_bad_one_names_operation_status_and_path() {
        let spec = SpecSchemas::load();
        let ok = recorded("POST", "/v1/apps/a1/login/otp", 201, r#"{"otp_id":"x"}"#);
        assert_eq!(spec.check(&ok), vec![]);
        let bad = recorded("GET", "/v1/apps/a1/users", 200, r#"{"user":{"id":1}}"#);
        let problems = spec.check(&bad);
        assert!(!problems.is_empty());
        assert_eq!(problems[0].operation, "check_user_identifier");
        assert_eq!(problems[0].status, 200);
        assert!(
            problems
                .iter()
                .any(|p| p.json_path == "/user/id" || p.json_path == "/user"),
            "{problems:?}"
        );
        // The message names the schema rule, never the value that broke it.
        let leaky = recorded(
            "POST",
            "/v1/apps/a1/login/otp",
            201,
            r#"{"otp_id":["eyJsecretvalue"]}"#,
        );
        let problems = spec.check(&leaky);
        assert!(!problems.is_empty());
        assert!(
            problems
                .iter()
                .all(|p| !p.message.contains("eyJsecretvalue")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.message.contains("/type")),
            "{problems:?}"
        );
        // `user: null` is allowed (nullable).
        assert_eq!(
            spec.check(&recorded(
                "GET",
                "/v1/apps/a1/users",
                200,
                r#"{"user":null}"#
            )),
            vec![]
        );
    }

    #[test]
    fn undeclared_statuses_and_unknown_routes_are_mismatches() {
        let spec = SpecSchemas::load();
        let teapot = recorded("GET", "/v1/apps/a1", 418, "{}");
        assert!(spec.check(&teapot)[0]
            .message
            .contains("does not declare this status"));
        let nowhere = recorded("GET", "/v1/nowhere", 200, "{}");
        assert!(spec.check(&nowhere)[0].message.contains("no operation"));
        let bad_error = recorded("GET", "/v1/apps/a1", 404, r#"{"code":"app_not_found"}"#);
        assert!(
            !spec.check(&bad_error).is_empty(),
            "error bodies need `error` too"
        );
    }

    #[test]
    fn an_undeclared_status_in_the_request_log_is_a_mismatch() {
        let spec = SpecSchemas::load();
        let logged = |method: &str, path: &str, status: u16| passage_emulator::LoggedRequest {
            method: method.into(),
            path: path.into(),
            status: Some(status),
        };
        let log = [
            logged("POST", "/v1/apps/a/tokens", 403),
            logged("POST", "/v1/apps/a/login/otp", 429),
            logged("GET", "/v1/nowhere", 404),
            passage_emulator::LoggedRequest {
                method: "GET".into(),
                path: "/v1/apps/a".into(),
                status: None,
            },
            logged("GET", "/v1/apps/a", 418),
            logged("DELETE", "/v1/apps/a/tokens", 409),
        ];
        let problems = spec.check_request_log(&log);
        let seen: Vec<(&str, u16)> = problems
            .iter()
            .map(|p| (p.operation.as_str(), p.status))
            .collect();
        assert_eq!(seen, vec![("get_app", 418), ("revoke_refresh_token", 409)]);
    }

    #[test]
    fn management_paths_are_checked_against_the_management_spec() {
        let specs = Conformance::load();
        let app = recorded(
            "GET",
            "/management/v1/apps/a1",
            200,
            r#"{"app":{"id":"a1"}}"#,
        );
        let problems = specs.check_all(&[app]);
        assert!(
            problems
                .iter()
                .all(|p| p.operation == "get_app" && p.json_path == "/app"),
            "{problems:?}"
        );
        assert!(!problems.is_empty(), "AppInfo has many required members");
        let verify = recorded(
            "POST",
            "/management/v1/apps/a1/authenticate/verify",
            200,
            r#"{"external_id":"e1"}"#,
        );
        assert_eq!(specs.check_all(&[verify]), vec![]);
        let deleted = Recorded {
            content_type: None,
            body: Bytes::new(),
            ..recorded("DELETE", "/management/v1/apps/a1/users/u1", 200, "")
        };
        assert_eq!(specs.check_all(&[deleted]), vec![]);
        let with_body = recorded("DELETE", "/management/v1/apps/a1/users/u1", 200, "{}");
        assert!(specs.check_all(&[with_body])[0]
            .message
            .contains("declares no body"));
        let logged = passage_emulator::LoggedRequest {
            method: "POST".into(),
            path: "/management/v1/apps/a1/users".into(),
            status: Some(200),
        };
        let problems = specs.check_request_log(&[logged]);
        assert_eq!(problems.len(), 1, "create_user answers 201, not 200");
        assert_eq!(problems[0].operation, "create_user");
        let auth = passage_emulator::LoggedRequest {
            method: "POST".into(),
            path: "/v1/apps/a1/users".into(),
            status: Some(201),
        };
        assert_eq!(specs.check_request_log(&[auth]), vec![]);
    }

    #[test]
    fn literal_segments_win_over_templates() {
        let spec = SpecSchemas::load();
        assert_eq!(
            spec.operation_for("POST", "/v1/apps/a/currentuser/devices/start"),
            Some("post_currentuser_add_device_start")
        );
        assert_eq!(
            spec.operation_for("PATCH", "/v1/apps/a/currentuser/devices/d1"),
            Some("update_currentuser_device")
        );
    }
}
