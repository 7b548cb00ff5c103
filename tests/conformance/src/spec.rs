//! The two specs as checkers of recorded exchanges: `spec/passage-auth.yaml` for the Auth API
//! (paths under `/v1`) and `spec/passage-management.yaml` for the Management API (paths under
//! `/management/v1`). [`Conformance`] holds both and picks one by the path's prefix.
//!
//! An answer conforms when its operation (found from the method and path) declares its status and
//! its body matches the schema declared for that status, formats included. An answer to a path no
//! operation has is a mismatch unless the test said it would send one
//! ([`Expectations::no_operation`]). An answer of an injected fault is recognised by the fault the
//! recorder noted: a status its operation does not declare is a mismatch unless the test allowed
//! it ([`Expectations::allow_fault_status`]); a body the fault made malformed on purpose is left
//! out ([`Verdict::FaultAnswer`]); every other answer of a fault (its 429, 500 or 503, a delayed
//! answer) is checked like any other.
//!
//! A mismatch names the operation, the status and the JSON path, never a value of the body (which
//! may be a token).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use passage_emulator::{Exchange, FaultKind};
use serde_json::{Map, Value};

use crate::schema::{to_json_schema, Validators};

/// Prefix of the Management API's paths on the emulator's listener.
pub const MANAGEMENT_PREFIX: &str = "/management/v1";
/// Prefix of the Auth API's paths.
pub const AUTH_PREFIX: &str = "/v1";

/// One conformance failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// `operation_id` (or `METHOD path` when no operation matches).
    pub operation: String,
    /// HTTP status of the answer (`None`: the connection was closed without one).
    pub status: Option<u16>,
    /// JSON path inside the body (empty for whole-body problems).
    pub json_path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .status
            .map_or_else(|| "nothing".to_owned(), |s| s.to_string());
        write!(
            f,
            "{} answered {status}: at `{}`: {}",
            self.operation, self.json_path, self.message
        )
    }
}

/// What the check made of one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Checked: its operation declares the status and the body matches.
    Conforms,
    /// Left out: an injected fault sent a malformed answer (`truncated_body`, `non_json_body`) or
    /// none (`drop_connection`, `drop_after_processing`) on purpose.
    FaultAnswer(FaultKind),
    /// Checked: an answer to a path no operation has, which the test said it would send; its body
    /// is the spec's error body.
    ExpectedNoOperation,
    /// Checked, and wrong.
    Mismatches(Vec<Mismatch>),
}

/// Requests a test sends on purpose to paths no operation of the specs has (unknown routes, wrong
/// methods): their answers must be errors with the spec's error body instead of mismatches.
#[derive(Debug, Default, Clone)]
pub struct Expectations {
    no_operation: Vec<(String, String)>,
    fault_statuses: Vec<u16>,
}

impl Expectations {
    /// `method path` (the path on the listener, no query) matches no operation, on purpose.
    pub fn no_operation(&mut self, method: &str, path: &str) {
        self.no_operation
            .push((method.to_ascii_uppercase(), path.to_owned()));
    }

    /// Whether `method path` was announced with [`Self::no_operation`].
    pub fn expects_no_operation(&self, method: &str, path: &str) -> bool {
        self.no_operation
            .iter()
            .any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path)
    }

    /// Injected faults may answer `status` where their operation does not declare it (a test
    /// that simulates a gateway's page or an overloaded proxy).
    pub fn allow_fault_status(&mut self, status: u16) {
        if !self.fault_statuses.contains(&status) {
            self.fault_statuses.push(status);
        }
    }

    /// Whether [`Self::allow_fault_status`] allowed `status`.
    pub fn allows_fault_status(&self, status: u16) -> bool {
        self.fault_statuses.contains(&status)
    }

    /// The announced `(method, path)` pairs.
    pub fn announced(&self) -> &[(String, String)] {
        &self.no_operation
    }
}

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

    /// Both specs, loaded once per process.
    pub fn shared() -> &'static Conformance {
        static SHARED: OnceLock<Conformance> = OnceLock::new();
        SHARED.get_or_init(Conformance::load)
    }

    /// The Auth API's spec.
    pub fn auth(&self) -> &SpecSchemas {
        &self.auth
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

    /// Checks one exchange against its spec.
    pub fn check(&self, exchange: &Exchange, expectations: &Expectations) -> Verdict {
        self.spec_for(&exchange.path).check(exchange, expectations)
    }

    /// Whether the operation of `method path` declares `status` (`None` when no operation has
    /// this method and path).
    pub fn declares(&self, method: &str, path: &str, status: u16) -> Option<bool> {
        self.spec_for(path).declares(method, path, status)
    }
}

struct SpecOperation {
    id: String,
    method: String,
    segments: Vec<String>,
    responses: Map<String, Value>,
}

/// One spec's operations and response schemas, as JSON Schema.
pub struct SpecSchemas {
    doc: Value,
    defs: Map<String, Value>,
    operations: Vec<SpecOperation>,
    /// The prefix of the spec's paths on the emulator (`/v1`, `/management/v1`).
    base: &'static str,
    /// Compiled validators by schema (its translated JSON text), compiled on first use.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
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
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Every operation id of the spec, in the spec's order.
    pub fn operation_ids(&self) -> Vec<&str> {
        self.operations.iter().map(|op| op.id.as_str()).collect()
    }

    /// Every operation: its id, method and path template (below the base path).
    pub fn operations(&self) -> Vec<(&str, &str, String)> {
        self.operations
            .iter()
            .map(|op| (op.id.as_str(), op.method.as_str(), op.segments.join("/")))
            .collect()
    }

    /// The prefix of the spec's paths on the emulator's listener.
    pub fn base(&self) -> &'static str {
        self.base
    }

    /// The operation id for a request, from its method and path on the listener.
    pub fn operation_for(&self, method: &str, path: &str) -> Option<&str> {
        self.find(method, path).map(|op| op.id.as_str())
    }

    /// The statuses the operation `operation_id` declares, in the spec's order.
    pub fn declared_statuses(&self, operation_id: &str) -> Vec<u16> {
        self.operations
            .iter()
            .find(|op| op.id == operation_id)
            .map(|op| op.responses.keys().filter_map(|s| s.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Whether the operation of `method path` declares `status` (`None` when no operation has
    /// this method and path).
    pub fn declares(&self, method: &str, path: &str, status: u16) -> Option<bool> {
        self.find(method, path)
            .map(|op| op.responses.contains_key(&status.to_string()))
    }

    fn find(&self, method: &str, path: &str) -> Option<&SpecOperation> {
        let path = path.strip_prefix(self.base)?;
        let segments: Vec<&str> = path.split('/').collect();
        // Prefer the template with the most literal segments (`/currentuser/devices/start`
        // over `/currentuser/devices/{device_id}`).
        self.operations
            .iter()
            .filter(|op| {
                op.method.eq_ignore_ascii_case(method) && op.segments.len() == segments.len()
            })
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .max_by_key(|op| op.segments.iter().filter(|t| !t.starts_with('{')).count())
    }

    /// Checks one exchange against this spec.
    pub fn check(&self, exchange: &Exchange, expectations: &Expectations) -> Verdict {
        if let Some(kind) = exchange.fault {
            // An injected fault's status is checked first: one its operation does not declare
            // (a gateway's 502 page, a 429 on an operation without one) is the test's own doing
            // and must be announced; then a malformed answer is left out.
            if let (Some(status), Some(op)) =
                (exchange.status, self.find(&exchange.method, &exchange.path))
            {
                if !op.responses.contains_key(&status.to_string()) {
                    return if expectations.allows_fault_status(status) {
                        Verdict::FaultAnswer(kind)
                    } else {
                        Verdict::Mismatches(vec![Mismatch {
                            operation: op.id.clone(),
                            status: Some(status),
                            json_path: String::new(),
                            message: format!(
                                "an injected fault ({kind:?}) answered a status the operation \
                                 does not declare; a test that simulates such an answer says so \
                                 with `allow_undeclared_fault_status`"
                            ),
                        }])
                    };
                }
            }
            if fault_answer_is_left_out(kind) {
                return Verdict::FaultAnswer(kind);
            }
        }
        let Some(status) = exchange.status else {
            return Verdict::Mismatches(vec![Mismatch {
                operation: format!("{} {}", exchange.method, exchange.path),
                status: None,
                json_path: String::new(),
                message: "the connection was closed without an answer, and no fault was armed"
                    .into(),
            }]);
        };
        let Some(op) = self.find(&exchange.method, &exchange.path) else {
            return self.check_no_operation(exchange, status, expectations);
        };
        let mismatch = |json_path: String, message: String| Mismatch {
            operation: op.id.clone(),
            status: Some(status),
            json_path,
            message,
        };
        let Some(response) = op.responses.get(&status.to_string()) else {
            return Verdict::Mismatches(vec![mismatch(
                String::new(),
                format!(
                    "the spec does not declare this status (it declares {})",
                    op.responses.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )]);
        };
        let response = match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => self
                .doc
                .pointer(reference.trim_start_matches('#'))
                .cloned()
                .unwrap_or(Value::Null),
            None => response.clone(),
        };
        let problems = match response.pointer("/content/application~1json/schema") {
            Some(schema) => self.body_problems(exchange, schema),
            None if exchange.body.is_empty() => Vec::new(),
            None => vec![(
                String::new(),
                format!(
                    "the spec declares no body, but {} bytes came",
                    exchange.body.len()
                ),
            )],
        };
        verdict(
            problems
                .into_iter()
                .map(|(path, message)| mismatch(path, message))
                .collect(),
        )
    }

    /// An answer to a path no operation has: fine only when announced, and then it must be an
    /// error with the spec's error body.
    fn check_no_operation(
        &self,
        exchange: &Exchange,
        status: u16,
        expectations: &Expectations,
    ) -> Verdict {
        let mismatch = |json_path: String, message: String| Mismatch {
            operation: format!("{} {}", exchange.method, exchange.path),
            status: Some(status),
            json_path,
            message,
        };
        if !expectations.expects_no_operation(&exchange.method, &exchange.path) {
            return Verdict::Mismatches(vec![mismatch(
                String::new(),
                "no operation of the spec has this method and path (a test that sends it on \
                 purpose says so with `expect_no_operation`)"
                    .into(),
            )]);
        }
        if !(400..500).contains(&status) {
            return Verdict::Mismatches(vec![mismatch(
                String::new(),
                "a request no operation describes must get a 4xx error".into(),
            )]);
        }
        let error_body = serde_json::json!({"$ref": "#/components/schemas/ApiError"});
        let problems = self.body_problems(exchange, &error_body);
        if problems.is_empty() {
            Verdict::ExpectedNoOperation
        } else {
            verdict(
                problems
                    .into_iter()
                    .map(|(path, message)| mismatch(path, message))
                    .collect(),
            )
        }
    }

    /// What is wrong with the exchange's body for `schema` (an OpenAPI schema object): (JSON path,
    /// message) pairs.
    fn body_problems(&self, exchange: &Exchange, schema: &Value) -> Vec<(String, String)> {
        if !exchange
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return vec![(
                String::new(),
                format!(
                    "content-type {:?} is not application/json",
                    exchange.content_type
                ),
            )];
        }
        let body: Value = match serde_json::from_slice(&exchange.body) {
            Ok(v) => v,
            // serde_json's message names a line and column, never the text.
            Err(e) => return vec![(String::new(), format!("body is not JSON: {e}"))],
        };
        let validator = self.validator(schema);
        validator
            .iter_errors(&body)
            // The validator's own text quotes the offending value, which may be a token: name
            // the broken schema rule instead.
            .map(|e| {
                (
                    e.instance_path.to_string(),
                    format!("breaks the spec's schema at {}", e.schema_path),
                )
            })
            .collect()
    }

    /// The compiled validator of `schema`, with the spec's component schemas as `$defs`.
    fn validator(&self, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut root = to_json_schema(schema);
        let key = root.to_string();
        let mut cache = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(validator) = cache.get(&key) {
            return validator.clone();
        }
        if let Value::Object(map) = &mut root {
            map.insert("$defs".into(), Value::Object(self.defs.clone()));
        }
        let validator = Arc::new(
            Validators::compile(&root)
                .unwrap_or_else(|e| panic!("a response schema of the spec does not compile: {e}")),
        );
        cache.insert(key, validator.clone());
        validator
    }
}

/// Whether the answers of an injected fault of `kind` are left out of the check: the kinds that
/// answer malformed on purpose (`truncated_body`, `non_json_body`) or not at all
/// (`drop_connection`, `drop_after_processing`). The others (`status429`, `status500`,
/// `status503`, the delays) answer as the API would, and are checked.
pub fn fault_answer_is_left_out(kind: FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::TruncatedBody
            | FaultKind::NonJsonBody
            | FaultKind::DropConnection
            | FaultKind::DropAfterProcessing
    )
}

fn verdict(mismatches: Vec<Mismatch>) -> Verdict {
    if mismatches.is_empty() {
        Verdict::Conforms
    } else {
        Verdict::Mismatches(mismatches)
    }
}

fn read_spec(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(method: &str, path: &str, status: u16, body: &str) -> Exchange {
        Exchange::new(
            method,
            path,
            Some(status),
            Some("application/json".into()),
            body.as_bytes().to_vec(),
            None,
        )
    }

    fn mismatches(verdict: Verdict) -> Vec<Mismatch> {
        match verdict {
            Verdict::Mismatches(m) => m,
            other => panic!("expected mismatches, got {other:?}"),
        }
    }

    fn check(exchange: &Exchange) -> Verdict {
        Conformance::shared().check(exchange, &Expectations::default())
    }

    #[test]
    fn a_conforming_answer_passes_and_a_bad_one_names_operation_status_and_path() {
        let ok = answer("POST", "/v1/apps/a1/login/otp", 201, r#"{"otp_id":"x"}"#);
        assert_eq!(check(&ok), Verdict::Conforms);
        let bad = answer("GET", "/v1/apps/a1/users", 200, r#"{"user":{"id":1}}"#);
        let problems = mismatches(check(&bad));
        assert_eq!(problems[0].operation, "check_user_identifier");
        assert_eq!(problems[0].status, Some(200));
        assert!(
            problems
                .iter()
                .any(|p| p.json_path == "/user/id" || p.json_path == "/user"),
            "{problems:?}"
        );
        // The message names the schema rule, never the value that broke it.
        let leaky = answer(
            "POST",
            "/v1/apps/a1/login/otp",
            201,
            r#"{"otp_id":["eyJsecretvalue"]}"#,
        );
        let problems = mismatches(check(&leaky));
        assert!(problems
            .iter()
            .all(|p| !p.message.contains("eyJsecretvalue")));
        assert!(
            problems.iter().any(|p| p.message.contains("/type")),
            "{problems:?}"
        );
        // `user: null` is allowed (nullable).
        let no_user = answer("GET", "/v1/apps/a1/users", 200, r#"{"user":null}"#);
        assert_eq!(check(&no_user), Verdict::Conforms);
    }

    #[test]
    fn formats_are_checked_in_answers() {
        let links = |created_at: &str| {
            format!(
                r#"{{"social_connections":{{"github":{{"provider_id":"1","provider_identifier":"ada@example.com",
                "created_at":"{created_at}","last_login_at":"2026-11-29T04:30:09Z"}}}}}}"#
            )
        };
        let path = "/v1/apps/a1/currentuser/social-connections";
        assert_eq!(
            check(&answer("GET", path, 200, &links("2026-11-29T04:30:07Z"))),
            Verdict::Conforms
        );
        let problems = mismatches(check(&answer("GET", path, 200, &links("2026-11-29 04:30"))));
        assert!(
            problems
                .iter()
                .any(|p| p.json_path == "/social_connections/github/created_at"
                    && p.message.contains("format")),
            "{problems:?}"
        );
        // The Management API's translated schemas keep `date-time` and `email` where declared.
        let defs = Value::Object(Conformance::shared().management().defs.clone()).to_string();
        assert!(defs.contains(r#""format":"email""#), "email kept");
        assert!(defs.contains(r#""format":"date-time""#), "date-time kept");
    }

    #[test]
    fn undeclared_statuses_and_unknown_routes_are_mismatches() {
        let teapot = answer("GET", "/v1/apps/a1", 418, "{}");
        assert!(mismatches(check(&teapot))[0]
            .message
            .contains("does not declare this status"));
        let nowhere = answer(
            "GET",
            "/v1/nowhere",
            404,
            r#"{"code":"invalid_request","error":"no such route"}"#,
        );
        assert!(mismatches(check(&nowhere))[0]
            .message
            .contains("no operation"));
        let bad_error = answer("GET", "/v1/apps/a1", 404, r#"{"code":"app_not_found"}"#);
        assert!(
            matches!(check(&bad_error), Verdict::Mismatches(_)),
            "error bodies need `error` too"
        );
    }

    #[test]
    fn an_announced_unknown_route_must_be_an_error_with_the_error_body() {
        let mut expectations = Expectations::default();
        expectations.no_operation("get", "/v1/nowhere");
        let specs = Conformance::shared();
        let nowhere = answer(
            "GET",
            "/v1/nowhere",
            404,
            r#"{"code":"invalid_request","error":"no such route"}"#,
        );
        assert_eq!(
            specs.check(&nowhere, &expectations),
            Verdict::ExpectedNoOperation
        );
        let success = answer("GET", "/v1/nowhere", 200, "{}");
        assert!(matches!(
            specs.check(&success, &expectations),
            Verdict::Mismatches(_)
        ));
        let odd_body = answer(
            "GET",
            "/v1/nowhere",
            404,
            r#"{"code":"no_such_code","error":""}"#,
        );
        assert!(matches!(
            specs.check(&odd_body, &expectations),
            Verdict::Mismatches(_)
        ));
    }

    #[test]
    fn fault_answers_are_left_out_only_when_malformed_on_purpose() {
        let with_fault = |status: Option<u16>, body: &str, fault| {
            Exchange::new(
                "GET",
                "/v1/apps/a1",
                status,
                Some("application/json".into()),
                body.as_bytes().to_vec(),
                Some(fault),
            )
        };
        let truncated = with_fault(
            Some(200),
            r#"{"auth_result":{"auth"#,
            FaultKind::TruncatedBody,
        );
        assert_eq!(
            check(&truncated),
            Verdict::FaultAnswer(FaultKind::TruncatedBody)
        );
        let dropped = with_fault(None, "", FaultKind::DropConnection);
        assert_eq!(
            check(&dropped),
            Verdict::FaultAnswer(FaultKind::DropConnection)
        );
        // An injected 503 is an answer of the API like any other: declared, with the error body.
        let unavailable = with_fault(
            Some(503),
            r#"{"code":"internal_server_error","error":"fault injected by the emulator"}"#,
            FaultKind::Status503,
        );
        assert_eq!(check(&unavailable), Verdict::Conforms);
        let delayed_bad = with_fault(Some(200), r#"{"app":{}}"#, FaultKind::Delay);
        assert!(matches!(check(&delayed_bad), Verdict::Mismatches(_)));
        // A fault's status the operation does not declare is a mismatch until the test allows it.
        let gateway_page = with_fault(
            Some(502),
            "<html>Bad Gateway</html>",
            FaultKind::NonJsonBody,
        );
        let problems = mismatches(check(&gateway_page));
        assert!(
            problems[0].operation == "get_app" && problems[0].message.contains("injected fault"),
            "{problems:?}"
        );
        let mut allowed = Expectations::default();
        allowed.allow_fault_status(502);
        assert_eq!(
            Conformance::shared().check(&gateway_page, &allowed),
            Verdict::FaultAnswer(FaultKind::NonJsonBody)
        );
        // The same status from the server itself is never allowed by that.
        let mut from_server = gateway_page.clone();
        from_server.fault = None;
        assert!(matches!(
            Conformance::shared().check(&from_server, &allowed),
            Verdict::Mismatches(_)
        ));
        // A closed connection without a fault is a mismatch.
        let mut closed = dropped.clone();
        closed.fault = None;
        assert!(matches!(check(&closed), Verdict::Mismatches(_)));
    }

    #[test]
    fn management_paths_are_checked_against_the_management_spec() {
        let app = answer(
            "GET",
            "/management/v1/apps/a1",
            200,
            r#"{"app":{"id":"a1"}}"#,
        );
        let problems = mismatches(check(&app));
        assert!(
            problems
                .iter()
                .all(|p| p.operation == "get_app" && p.json_path == "/app"),
            "{problems:?}"
        );
        let verify = answer(
            "POST",
            "/management/v1/apps/a1/authenticate/verify",
            200,
            r#"{"external_id":"e1"}"#,
        );
        assert_eq!(check(&verify), Verdict::Conforms);
        let deleted = Exchange::new(
            "DELETE",
            "/management/v1/apps/a1/users/u1",
            Some(200),
            None,
            Vec::new(),
            None,
        );
        assert_eq!(check(&deleted), Verdict::Conforms);
        let with_body = answer("DELETE", "/management/v1/apps/a1/users/u1", 200, "{}");
        assert!(mismatches(check(&with_body))[0]
            .message
            .contains("declares no body"));
        let created_as_200 = answer("POST", "/management/v1/apps/a1/users", 200, "{}");
        assert_eq!(
            mismatches(check(&created_as_200))[0].operation,
            "create_user"
        );
        assert_eq!(
            Conformance::shared().declares("POST", "/v1/apps/a1/users", 201),
            Some(true)
        );
    }

    #[test]
    fn literal_segments_win_over_templates() {
        let spec = Conformance::shared().auth();
        assert_eq!(
            spec.operation_for("POST", "/v1/apps/a/currentuser/devices/start"),
            Some("post_currentuser_add_device_start")
        );
        assert_eq!(
            spec.operation_for("PATCH", "/v1/apps/a/currentuser/devices/d1"),
            Some("update_currentuser_device")
        );
        assert_eq!(spec.operation_for("GET", "/apps/a"), None, "outside /v1");
    }
}
