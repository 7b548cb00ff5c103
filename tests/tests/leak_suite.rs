//! The attacker's leak suite: every secret-bearing operation, fed every hostile answer, printed
//! every way a user prints a result, and no secret may show.
//!
//! - **Operations**: read from the spec (`spec/passage-auth.yaml`, `$ref`s resolved) and the
//!   generated [`operations::OPERATIONS`] table: every operation that sends a secret (bearer
//!   token, API key, a `format: password` parameter or body field) or whose answers carry one.
//!   Each needs a driver below; a new secret-bearing operation without one fails the suite. The
//!   [`Session`] (refresh, call, revoke), the magic-link waiter and a token verifier fetching
//!   its keys (the token it verifies is never sent, and must never show) are driven the same
//!   way.
//! - **Hostile answers** ([`Hostile`]), served by [`HostileServer`]: an undeclared status with an
//!   HTML page (and a header) echoing the request as received, an undecodable success carrying
//!   tokens and a session cookie, a body cut short mid-stream, a declared error whose message
//!   echoes the request's secrets (whole and as 16-character prefixes), a 401 with
//!   `Set-Cookie`, a redirect whose `Location` carries the request's secrets in its path, a
//!   code in its query and a token in its fragment, a connection dropped before and after the
//!   request, and a timeout. Secrets come in several shapes: JWTs, hex tokens, provider codes
//!   with a `/` (percent-encoded in queries and forms), six-digit passcodes and secrets of
//!   lowercase letters that no token heuristic recognises.
//! - **Printed forms**: `Debug`, `Display` (plain and `{:#}`), `{:#?}`, the source chain,
//!   `{:#}` and `{:?}` of an `anyhow` chain, the panic message of `unwrap` (caught with
//!   `catch_unwind` and a panic hook), `Debug` of clients, sessions, their stores and the
//!   waiter, the status and headers of a success, and everything logged at
//!   TRACE (client, session, waiter, reqwest and hyper through `log`), every span with its
//!   fields, captured into a buffer.
//!
//! Every secret is a fresh random string of one case, so a match names its case. Each printed
//! form is searched for every secret and for every 12-character fragment of one. The suite
//! prints how many cases, secrets and forms it tried and every leak it found, then fails if it
//! found any. `LEAK_SUITE_LOG=<file>` writes the captured TRACE log to a file;
//! `LEAK_SUITE_SHOW=<subject>` (an operation id, `Session Refresh`, `magic-link waiter`) prints
//! that subject's printed forms, secret fragments masked.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{Debug, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::StreamExt as _;
use passage_auth_client::operations::{self, Auth, OperationSpec};
use passage_auth_client::CredentialsExt;
use passage_auth_client::{
    types, Client, ClientBuilder, Error, MagicLinkExt, PollPolicy, RedirectExt, RetryPolicy,
    SecretValue, Session, StoredTokens, TokenStore,
};
use passage_e2e::capture::capture;
use passage_e2e::hostile::{Answer, HostileServer, Received, ECHO_REQUEST};
use serde_json::{json, Value};
use tracing::Instrument as _;

/// The length of the fragments searched for.
const FRAGMENT: usize = 12;
/// The client's whole-request and connect timeout in the timeout case (the case waits this
/// long, twice for an idempotent operation).
const SHORT_TIMEOUT: Duration = Duration::from_millis(1000);
/// The client's timeouts in the other cases (long enough for a loaded machine).
const LONG_TIMEOUT: Duration = Duration::from_secs(20);
/// Cases run at once.
const PARALLEL: usize = 12;
const APP_ID: &str = "leak-app";

// ------------------------------------------------------------------------------------ capture

thread_local! {
    static CAPTURING_PANIC: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs a panic hook that keeps the message of panics raised by [`panic_message`] (and
/// hands every other panic to the previous hook).
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING_PANIC.with(Cell::get) {
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(info.to_string()));
            } else {
                previous(info);
            }
        }));
    });
}

/// The message a panic in `f` prints, if it panics.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    CAPTURING_PANIC.with(|c| c.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    CAPTURING_PANIC.with(|c| c.set(false));
    let message = PANIC_MESSAGE.with(|m| m.borrow_mut().take());
    outcome
        .err()
        .map(|_| message.expect("the hook saw the panic"))
}

// ------------------------------------------------------------------------------------ secrets

/// A random opaque secret (32 hex digits).
fn opaque() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A random secret of 32 lowercase letters: nothing about it looks like a token.
fn letters() -> String {
    opaque()
        .bytes()
        .map(|b| (b'a' + (b as char).to_digit(16).unwrap() as u8) as char)
        .collect()
}

/// A random JWT-shaped token expiring at `exp` (Unix seconds), with a random id and signature.
fn jwt(exp: i64) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = e.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = e.encode(json!({"sub": "leak-user", "exp": exp, "jti": opaque()}).to_string());
    format!("{header}.{payload}.{}{}", opaque(), opaque())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A random six-digit passcode, as the API sends them (searched for only in its own case).
fn passcode() -> String {
    format!("{:06}", uuid::Uuid::new_v4().as_u128() % 1_000_000)
}

/// The secrets of one case.
#[derive(Default)]
struct CaseSecrets {
    /// Secrets the request carries, by field: (field, what, value).
    request: Vec<(String, String, String)>,
    /// Secrets only the hostile answer carries: (what, value).
    answer: Vec<(String, String)>,
    /// Secrets the client holds but this request does not send (a session's other token):
    /// searched for, never echoed.
    held: Vec<(String, String)>,
}

impl CaseSecrets {
    fn request(&mut self, field: &str, what: &str, value: String) -> String {
        self.request
            .push((field.to_owned(), what.to_owned(), value.clone()));
        value
    }

    fn held(&mut self, what: &str, value: String) -> String {
        self.held.push((what.to_owned(), value.clone()));
        value
    }

    fn answer(&mut self, what: &str, value: String) -> String {
        self.answer.push((what.to_owned(), value.clone()));
        value
    }

    /// The value of the request field `field`.
    fn field(&self, field: &str) -> SecretValue {
        let (_, _, value) = self
            .request
            .iter()
            .find(|(f, _, _)| f == field)
            .unwrap_or_else(|| panic!("the spec names no secret field {field}"));
        SecretValue::new(value.as_str())
    }

    /// `field=value` for every request secret, as a server echoing the request writes them.
    fn echo(&self) -> String {
        self.request
            .iter()
            .map(|(field, _, value)| format!("{field}={value}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The first 16 characters of every long request secret, as a server that shortens what it
    /// echoes writes them.
    fn echo_prefixes(&self) -> String {
        self.request
            .iter()
            .filter(|(_, _, value)| value.len() >= 24)
            .map(|(field, _, value)| format!("{field} starting {}…", &value[..16]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.request
            .iter()
            .map(|(_, what, value)| (what.as_str(), value.as_str()))
            .chain(self.answer.iter().map(|(w, v)| (w.as_str(), v.as_str())))
            .chain(self.held.iter().map(|(w, v)| (w.as_str(), v.as_str())))
    }
}

// ----------------------------------------------------------------------------------- the spec

/// What the spec says about the secrets of one operation.
#[derive(Debug, Clone)]
struct SecretOperation {
    spec: &'static OperationSpec,
    /// Secret parameters and body fields (names), `$ref`s resolved.
    request_fields: Vec<String>,
    /// Whether some answer's schema carries a secret.
    answer_secret: bool,
    /// The statuses the spec declares.
    declared: Vec<u16>,
}

impl SecretOperation {
    fn redirects(&self) -> bool {
        self.spec
            .success_statuses
            .iter()
            .any(|s| (300..400).contains(s))
    }

    /// The success status of a well-formed answer (200 for the redirecting operations).
    fn success(&self) -> u16 {
        self.spec
            .success_statuses
            .iter()
            .copied()
            .find(|s| (200..300).contains(s))
            .unwrap_or(200)
    }
}

struct Spec(Value);

impl Spec {
    fn load() -> Self {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/passage-auth.yaml");
        let text = std::fs::read_to_string(path).expect("the spec");
        Self(serde_yaml::from_str(&text).expect("the spec is YAML"))
    }

    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local $ref");
                self.resolve(self.0.pointer(pointer).expect("the $ref resolves"))
            }
            None => value,
        }
    }

    /// Whether `schema` is, or contains, a `format: password` value.
    fn is_secret(&self, schema: &Value, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        let schema = self.resolve(schema);
        if schema.get("format").and_then(Value::as_str) == Some("password") {
            return true;
        }
        let nested = ["allOf", "oneOf", "anyOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Value::as_array))
            .flatten()
            .chain(
                schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|p| p.values()),
            )
            .chain(schema.get("items"))
            .chain(schema.get("additionalProperties").filter(|v| v.is_object()));
        nested.into_iter().any(|s| self.is_secret(s, depth + 1))
    }

    /// The names of the secret properties of an object schema.
    fn secret_properties(&self, schema: &Value) -> Vec<String> {
        let schema = self.resolve(schema);
        let mut names: Vec<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, s)| self.is_secret(s, 0))
            .map(|(name, _)| name.clone())
            .collect();
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            names.extend(self.secret_properties(part));
        }
        names
    }

    /// Every operation of the table that sends or receives a secret.
    fn secret_operations(&self) -> Vec<SecretOperation> {
        self.operations()
            .into_iter()
            .filter(|o| {
                o.spec.auth != Auth::None || !o.request_fields.is_empty() || o.answer_secret
            })
            .collect()
    }

    /// What the spec says about the secrets of every operation of the table.
    fn operations(&self) -> Vec<SecretOperation> {
        let mut found = Vec::new();
        let global_security = self.0.get("security").cloned().unwrap_or(json!([]));
        for (path, item) in self.0["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let spec = operations::operation(id).expect("every operation is in the table");
                assert_eq!(spec.path, path, "{id}: the table's path");
                assert_eq!(
                    spec.method,
                    method.to_uppercase(),
                    "{id}: the table's method"
                );
                // The table's credential is the spec's.
                let security = op.get("security").unwrap_or(&global_security);
                let schemes: BTreeSet<&str> = security
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .flat_map(|r| r.keys().map(String::as_str))
                    .collect();
                let auth = if schemes.contains("bearerAuth") {
                    Auth::Bearer
                } else if schemes.contains("apiKeyAuth") {
                    Auth::ApiKey {
                        header: "x-api-key",
                    }
                } else {
                    Auth::None
                };
                assert_eq!(spec.auth, auth, "{id}: the table's credential");
                let mut request_fields = Vec::new();
                let parameters = item
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .chain(op.get("parameters").and_then(Value::as_array))
                    .flatten();
                for parameter in parameters {
                    let parameter = self.resolve(parameter);
                    if self.is_secret(&parameter["schema"], 0) {
                        request_fields.push(parameter["name"].as_str().unwrap().to_owned());
                    }
                }
                if let Some(body) = op.get("requestBody") {
                    for media in self.resolve(body)["content"]
                        .as_object()
                        .into_iter()
                        .flatten()
                    {
                        for name in self.secret_properties(&media.1["schema"]) {
                            if !request_fields.contains(&name) {
                                request_fields.push(name);
                            }
                        }
                    }
                }
                let mut answer_secret = false;
                let mut declared = Vec::new();
                for (status, response) in op["responses"].as_object().expect("responses") {
                    declared.push(status.parse::<u16>().expect("numeric statuses"));
                    let response = self.resolve(response);
                    for media in response
                        .get("content")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        answer_secret |= self.is_secret(&media.1["schema"], 0);
                    }
                }
                found.push(SecretOperation {
                    spec,
                    request_fields,
                    answer_secret,
                    declared,
                });
            }
        }
        found.sort_by_key(|o| o.spec.operation_id);
        found
    }
}

// --------------------------------------------------------------------------- hostile answers

/// The hostile answers every secret-bearing call meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Hostile {
    /// A status the operation does not declare, with an HTML page that echoes the request (as
    /// does a header) and an upstream answer carrying tokens.
    UndeclaredHtml,
    /// The success status with a body of the wrong shape that carries tokens (and a session
    /// cookie).
    UndecodableSuccess,
    /// The success status with tokens, cut short of its `Content-Length`.
    TruncatedBody,
    /// A declared error status whose message echoes the request's secrets, whole and cut to
    /// 16 characters.
    DeclaredErrorEcho,
    /// 401 with `Set-Cookie` headers carrying tokens.
    UnauthorizedSetCookie,
    /// 302 to a `Location` carrying secrets in its path (the request's), its query (a code)
    /// and its fragment.
    SecretRedirect,
    /// The connection closes before the request is read.
    DropBeforeRequest,
    /// The connection closes after the request is read, without an answer.
    DropAfterRequest,
    /// No answer within the client's timeout.
    Timeout,
}

const HOSTILE: [Hostile; 9] = [
    Hostile::UndeclaredHtml,
    Hostile::UndecodableSuccess,
    Hostile::TruncatedBody,
    Hostile::DeclaredErrorEcho,
    Hostile::UnauthorizedSetCookie,
    Hostile::SecretRedirect,
    Hostile::DropBeforeRequest,
    Hostile::DropAfterRequest,
    Hostile::Timeout,
];

fn json_response(status: u16, headers: Vec<(String, String)>, body: &Value) -> Answer {
    let mut headers = headers;
    headers.push(("content-type".into(), "application/json".into()));
    Answer::Respond {
        status,
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// The answer of kind `hostile` for an operation declaring `declared` (success `success`);
/// `None` when neither the request, the client nor such an answer carries a secret.
fn hostile_answer(
    hostile: Hostile,
    declared: &[u16],
    success: u16,
    s: &mut CaseSecrets,
) -> Option<Answer> {
    let carries_request_secrets = !s.request.is_empty();
    let holds_secrets = carries_request_secrets || !s.held.is_empty();
    let answer = match hostile {
        Hostile::UndeclaredHtml => {
            let status = [502, 503, 504, 418, 520]
                .into_iter()
                .find(|st| !declared.contains(st))
                .expect("an undeclared status");
            let token = s.answer("auth token in an HTML page", jwt(now() + 3600));
            let refresh = s.answer("refresh token in an HTML page", opaque());
            // Shown bodies are cut (512 bytes today): the secrets come first.
            let page = format!(
                "<html><body><pre>{}</pre><pre>upstream answer: {{\"auth_result\":{{\"auth_token\":\
                 \"{token}\",\"refresh_token\":\"{refresh}\"}}}}</pre><pre>{ECHO_REQUEST}</pre>\
                 <h1>{status} Bad Gateway</h1></body></html>",
                s.echo()
            );
            let mut headers = vec![("content-type".into(), "text/html; charset=utf-8".into())];
            if carries_request_secrets {
                // A debugging proxy echoes the request in a header too.
                headers.push(("x-upstream-request".into(), s.echo()));
            }
            Answer::Respond {
                status,
                headers,
                body: page.into_bytes(),
            }
        }
        Hostile::UndecodableSuccess => {
            let token = s.answer("auth token in an undecodable body", jwt(now() + 3600));
            let refresh = s.answer("refresh token in an undecodable body", opaque());
            let nonce = s.answer("nonce in an undecodable body", opaque());
            // Every field an answer of this API may need has the wrong type.
            let body = json!({
                "auth_result": {"auth_token": token, "refresh_token": refresh, "redirect_url": 42},
                "nonce": nonce,
                "user": 42, "devices": 42, "device": 42, "user_metadata": 42,
                "social_connections": 42, "magic_link": 42,
            });
            let cookie = s.answer("session cookie of a success", opaque());
            let headers = vec![(
                "set-cookie".into(),
                format!("psg_session={cookie}; Path=/; HttpOnly; Secure"),
            )];
            json_response(success, headers, &body)
        }
        Hostile::TruncatedBody => {
            let token = s.answer("auth token in a cut body", jwt(now() + 3600));
            let refresh = s.answer("refresh token in a cut body", opaque());
            let body = json!({"auth_result": {"redirect_url": "/", "auth_token": token, "refresh_token": refresh}})
                .to_string();
            // The cut falls 16 characters into the refresh token.
            let sent = body.find(&refresh).unwrap() + 16;
            Answer::Truncated {
                status: success,
                content_type: "application/json".into(),
                body: body.into_bytes(),
                sent,
            }
        }
        Hostile::DeclaredErrorEcho if carries_request_secrets => {
            let status = [400, 401, 403, 404, 409, 422, 500]
                .into_iter()
                .find(|st| declared.contains(st))
                .expect("a declared error status");
            let message = format!("rejected: {}; earlier: {}", s.echo(), s.echo_prefixes());
            let body = json!({"code": "invalid_request", "error": message});
            json_response(status, vec![], &body)
        }
        Hostile::UnauthorizedSetCookie => {
            let token = s.answer("auth token in Set-Cookie", jwt(now() + 3600));
            let refresh = s.answer("refresh token in Set-Cookie", opaque());
            json_response(
                401,
                vec![
                    (
                        "set-cookie".into(),
                        format!("psg_auth_token={token}; Path=/; HttpOnly; Secure"),
                    ),
                    (
                        "set-cookie".into(),
                        format!("psg_refresh_token={refresh}; Path=/; HttpOnly; Secure"),
                    ),
                ],
                &json!({"code": "invalid_access_token", "error": "unauthorized"}),
            )
        }
        Hostile::SecretRedirect => {
            let code = s.answer("authorization code in Location", opaque());
            let fragment = s.answer("token in a Location fragment", opaque());
            // The request's own secrets that do not look like tokens (a token-like one would
            // make the whole path look like one) in the path, as a server that forwards them.
            let echoed: String = s
                .request
                .iter()
                .filter(|(_, _, v)| v.bytes().all(|b| b.is_ascii_lowercase()))
                .map(|(_, _, v)| format!("/{v}"))
                .collect();
            Answer::Respond {
                status: 302,
                headers: vec![(
                    "location".into(),
                    format!(
                        "https://app.example.com/magic{echoed}/callback?code={code}\
                         &state=leak-state#access_token={fragment}"
                    ),
                )],
                body: Vec::new(),
            }
        }
        Hostile::DropBeforeRequest if holds_secrets => Answer::DropBeforeRequest,
        Hostile::DropAfterRequest if holds_secrets => Answer::DropAfterRequest,
        Hostile::Timeout if holds_secrets => Answer::Hold,
        _ => return None,
    };
    Some(answer)
}

// ------------------------------------------------------------------------------ printed forms

/// Everything one case printed, by form.
#[derive(Default)]
struct Forms {
    printed: Vec<(String, String)>,
    /// What the call finally gave: an outcome class for the sanity checks.
    outcome: Option<Outcome>,
    /// Whether the driver turned the answer into a [`passage_auth_client::Redirect`].
    redirect: bool,
}

/// The class of a call's final result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok,
    Status(u16),
    Decode,
    Transport,
    Timeout,
    Other,
}

fn outcome_of(error: &Error) -> Outcome {
    match error {
        Error::Transport { timeout: true, .. } => Outcome::Timeout,
        Error::Transport { .. } => Outcome::Transport,
        Error::Decode { .. } => Outcome::Decode,
        e => e
            .status()
            .map_or(Outcome::Other, |s| Outcome::Status(s.as_u16())),
    }
}

impl Forms {
    fn push(&mut self, label: impl Into<String>, text: String) {
        self.printed.push((label.into(), text));
    }

    /// `Debug`, `Display`, their alternates and the source chain of `error`.
    fn error(&mut self, stage: &str, error: &(dyn std::error::Error + 'static)) {
        self.push(format!("{stage} Debug"), format!("{error:?}"));
        self.push(format!("{stage} {{:#?}}"), format!("{error:#?}"));
        self.push(format!("{stage} Display"), format!("{error}"));
        self.push(format!("{stage} {{:#}}"), format!("{error:#}"));
        let mut chain = String::new();
        let mut source = error.source();
        while let Some(inner) = source {
            let _ = writeln!(chain, "caused by: {inner} / {inner:?}");
            source = inner.source();
        }
        self.push(format!("{stage} source chain"), chain);
    }

    /// The panic message of `unwrap` on `result` (of `unwrap_err` on a success).
    fn panic<T: Debug, E: Debug>(&mut self, stage: &str, result: &Result<T, E>) {
        let message = match result {
            Ok(_) => panic_message(|| {
                result.as_ref().unwrap_err();
            }),
            Err(_) => panic_message(|| {
                result.as_ref().unwrap();
            }),
        };
        self.push(
            format!("{stage} unwrap panic"),
            message.expect("unwrap of an error (unwrap_err of a success) panics"),
        );
    }

    /// Every form of a result the caller owns: the above, and an `anyhow` chain.
    fn owned<T: Debug, E>(&mut self, stage: &str, result: Result<T, E>)
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        self.panic(stage, &result);
        match result {
            Ok(value) => {
                self.push(format!("{stage} Ok Debug"), format!("{value:?}"));
                self.push(format!("{stage} Ok {{:#?}}"), format!("{value:#?}"));
            }
            Err(error) => {
                self.error(stage, &error);
                let chain = anyhow::Error::new(error).context("the leak suite's call failed");
                self.push(format!("{stage} anyhow {{:#}}"), format!("{chain:#}"));
                self.push(format!("{stage} anyhow {{:?}}"), format!("{chain:?}"));
            }
        }
    }
}

/// Prints what `send()` gave (the crate's [`Error`], or the value and the status and headers
/// a `ResponseValue` shows).
macro_rules! send {
    ($forms:expr, $call:expr) => {{
        let result = $call.send().await;
        print_headers(&mut *$forms, &result);
        let result = result.map(|v| v.into_inner());
        $forms.outcome = Some(result.as_ref().map_or_else(outcome_of, |_| Outcome::Ok));
        $forms.owned("send()", result);
    }};
}

/// The same for a redirecting operation: what `send()` gave (borrowed, as a caller prints it
/// before converting), then its result as a `Redirect`.
macro_rules! send_redirect {
    ($forms:expr, $call:expr) => {{
        let result = $call.send().await;
        print_headers(&mut *$forms, &result);
        if let Err(error) = &result {
            $forms.error("send()", error);
            $forms.panic("send()", &result.as_ref().map(|_| ()));
        }
        $forms.redirect = true;
        let result = result.into_redirect();
        $forms.outcome = Some(result.as_ref().map_or_else(outcome_of, |_| Outcome::Ok));
        $forms.owned("into_redirect()", result);
    }};
}

/// The status and headers a success's `ResponseValue` shows (in its `Debug` and accessors).
fn print_headers<T>(
    forms: &mut Forms,
    result: &Result<passage_auth_client::ResponseValue<T>, Error>,
) {
    if let Ok(value) = result {
        forms.push(
            "send() Ok ResponseValue status and headers",
            format!("{:?} {:?}", value.status(), value.headers()),
        );
    }
}

fn body<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid request body")
}

/// Calls `op` with the secrets of `s`; false when no driver exists for it.
async fn drive(op: &str, c: &Client, s: &CaseSecrets, forms: &mut Forms) -> bool {
    let handshake = json!({"handshake_id": "leak-handshake", "handshake_response": {}});
    let with = |extra: Value| {
        let mut value = handshake.clone();
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        value
    };
    match op {
        "activate_magic_link" => send!(
            forms,
            c.activate_magic_link()
                .app_id(APP_ID)
                .body(types::ActivateMagicLinkRequest::builder().magic_link(s.field("magic_link")))
        ),
        "activate_one_time_passcode" => send!(
            forms,
            c.activate_one_time_passcode().app_id(APP_ID).body(
                types::ActivateOneTimePasscodeRequest::builder()
                    .otp_id("leak-otp-id")
                    .otp(s.field("otp"))
            )
        ),
        "apple_oauth2_callback" => send_redirect!(
            forms,
            c.apple_oauth2_callback().app_id(APP_ID).body(
                types::AppleOAuth2CallbackForm::builder()
                    .state("leak-state")
                    .code(Some(s.field("code")))
                    .id_token(Some(s.field("id_token")))
            )
        ),
        "apple_oauth2_callback_default_dev" => send_redirect!(
            forms,
            c.apple_oauth2_callback_default_dev().body(
                types::AppleOAuth2CallbackForm::builder()
                    .state("leak-state")
                    .code(Some(s.field("code")))
                    .id_token(Some(s.field("id_token")))
            )
        ),
        "authenticate_webauthn_finish_with_transaction" => send!(
            forms,
            c.authenticate_webauthn_finish_with_transaction()
                .app_id(APP_ID)
                .body(body::<types::AuthenticateWebAuthnFinishWithTransactionRequest>(with(
                    json!({"transaction_id": "leak-transaction"})
                )))
        ),
        "create_passkey_readiness" => send!(
            forms,
            c.create_passkey_readiness().body(body::<types::CreatePasskeyReadinessRequest>(json!({
                "conditional_ui": true, "cross_device_credential": false, "device_id": "leak-device",
                "platform": true, "security_key": false, "synced_credential": true,
            })))
        ),
        "currentuser_social_link_account" => send!(
            forms,
            c.currentuser_social_link_account()
                .app_id(APP_ID)
                .code(s.field("code"))
                .verifier(s.field("verifier"))
        ),
        "delete_currentuser_device" => send!(
            forms,
            c.delete_currentuser_device().app_id(APP_ID).device_id("leak-device")
        ),
        "delete_currentuser_social_connection" => send!(
            forms,
            c.delete_currentuser_social_connection()
                .app_id(APP_ID)
                .social_connection_type(body::<passage_auth_client::open_enums::SocialConnectionType>(
                    json!("github")
                ))
        ),
        "exchange_social_id_token" => send!(
            forms,
            c.exchange_social_id_token().app_id(APP_ID).body(body::<types::IdTokenRequest>(json!({
                "code": s.field("code").expose_secret(),
                "id_token": s.field("id_token").expose_secret(),
                "connection_type": "apple",
            })))
        ),
        "exchange_social_token" => send!(
            forms,
            c.exchange_social_token()
                .app_id(APP_ID)
                .code(s.field("code"))
                .verifier(s.field("verifier"))
        ),
        "get_currentuser" => send!(forms, c.get_currentuser().app_id(APP_ID)),
        "get_currentuser_devices" => send!(forms, c.get_currentuser_devices().app_id(APP_ID)),
        "get_currentuser_metadata" => send!(forms, c.get_currentuser_metadata().app_id(APP_ID)),
        "get_currentuser_social_connections" => {
            send!(forms, c.get_currentuser_social_connections().app_id(APP_ID))
        }
        "login_webauthn_finish" => send!(
            forms,
            c.login_webauthn_finish()
                .app_id(APP_ID)
                .body(body::<types::LoginWebAuthnFinishRequest>(handshake.clone()))
        ),
        "magic_link_status" => send!(
            forms,
            c.magic_link_status()
                .app_id(APP_ID)
                .body(types::GetMagicLinkStatusRequest::builder().id("leak-magic-link"))
        ),
        "oauth2_callback" => send_redirect!(
            forms,
            c.oauth2_callback()
                .app_id(APP_ID)
                .code(s.field("code"))
                .state("leak-state")
        ),
        "oauth2_callback_default_dev" => send_redirect!(
            forms,
            c.oauth2_callback_default_dev()
                .code(s.field("code"))
                .state("leak-state")
        ),
        "post_currentuser_add_device_finish" => send!(
            forms,
            c.post_currentuser_add_device_finish()
                .app_id(APP_ID)
                .body(body::<types::AddDeviceFinishRequest>(with(json!({"user_id": "leak-user"}))))
        ),
        "post_currentuser_add_device_start" => send!(
            forms,
            c.post_currentuser_add_device_start()
                .app_id(APP_ID)
                .body(types::CurrentUserDevicesStartRequest::builder())
        ),
        "refresh_auth_token" => send!(
            forms,
            c.refresh_auth_token().app_id(APP_ID).body(
                types::RefreshAuthTokenRequest::builder().refresh_token(s.field("refresh_token"))
            )
        ),
        "register_webauthn_finish" => send!(
            forms,
            c.register_webauthn_finish()
                .app_id(APP_ID)
                .body(body::<types::RegisterWebAuthnFinishRequest>(with(json!({"user_id": "leak-user"}))))
        ),
        "register_webauthn_finish_with_transaction" => send!(
            forms,
            c.register_webauthn_finish_with_transaction().app_id(APP_ID).body(
                body::<types::RegisterWebAuthnFinishWithTransactionRequest>(with(
                    json!({"transaction_id": "leak-transaction"})
                ))
            )
        ),
        "revoke_refresh_token" => send!(
            forms,
            c.revoke_refresh_token()
                .app_id(APP_ID)
                .refresh_token(s.field("refresh_token"))
        ),
        "update_currentuser_device" => send!(
            forms,
            c.update_currentuser_device()
                .app_id(APP_ID)
                .device_id("leak-device")
                .body(types::UpdateDeviceRequest::builder().friendly_name("leak laptop"))
        ),
        "update_currentuser_metadata" => send!(
            forms,
            c.update_currentuser_metadata()
                .app_id(APP_ID)
                .body(body::<types::UpdateMetadataRequest>(json!({"user_metadata": {}})))
        ),
        "update_email_currentuser" => send!(
            forms,
            c.update_email_currentuser()
                .app_id(APP_ID)
                .body(body::<types::UpdateUserEmailRequest>(json!({"new_email": "leak@example.com"})))
        ),
        "update_phone_currentuser" => send!(
            forms,
            c.update_phone_currentuser()
                .app_id(APP_ID)
                .body(body::<types::UpdateUserPhoneRequest>(json!({"new_phone": "+15555550100"})))
        ),
        _ => return false,
    }
    true
}

// -------------------------------------------------------------------------------------- cases

/// One case: a subject (an operation, a session path, the waiter) meeting one hostile answer.
struct Case {
    /// The number of the case's plan (the `n` of its `leak_case` span).
    n: usize,
    subject: String,
    hostile: Hostile,
    secrets: CaseSecrets,
    forms: Forms,
    received: Vec<Received>,
    /// What went wrong with the case itself (not a leak): a driver that did not send a secret.
    problems: Vec<String>,
}

tokio::task_local! {
    /// How many times a `Timeout` case was run again because its client timed out before the
    /// server read the request (a loaded machine): each run doubles the short timeout.
    static TIMEOUT_RERUNS: u32;
}

/// The most a `Timeout` case is run again (its timeout grows to `SHORT_TIMEOUT` × 2^6).
const MAX_TIMEOUT_RERUNS: u32 = 6;

fn client_for(server: &HostileServer, hostile: Hostile) -> Client {
    let timeout = if hostile == Hostile::Timeout {
        let reruns = TIMEOUT_RERUNS.try_with(|n| *n).unwrap_or(0);
        SHORT_TIMEOUT.saturating_mul(1 << reruns.min(MAX_TIMEOUT_RERUNS))
    } else {
        LONG_TIMEOUT
    };
    ClientBuilder::new()
        .base_url(server.base_url())
        .timeout(timeout)
        .connect_timeout(timeout)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .build()
        .expect("client builds")
}

/// The request secrets must have reached the server (unless it closed before reading), as
/// they are or percent-encoded.
fn check_sent(case: &mut Case, expected: &[String]) {
    if case.hostile == Hostile::DropBeforeRequest {
        return;
    }
    let seen: String = case.received.iter().map(Received::text).collect();
    if case.received.is_empty() {
        case.problems.push("the server read no request".into());
    }
    for value in expected {
        // A query or a form carries it percent-encoded.
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        if !seen.contains(value.as_str()) && !seen.contains(&encoded) {
            let (what, _) = case.secrets.all().find(|(_, v)| *v == value).unwrap();
            case.problems
                .push(format!("the request did not carry the {what}"));
        }
    }
}

async fn operation_case(op: SecretOperation, hostile: Hostile) -> Option<Case> {
    let mut s = CaseSecrets::default();
    match op.spec.auth {
        Auth::Bearer => {
            s.request("authorization", "bearer auth token", jwt(now() + 3600));
        }
        Auth::ApiKey { .. } => {
            s.request("x-api-key", "API key", letters());
        }
        Auth::None => {}
    }
    for field in &op.request_fields {
        let value = match field.as_str() {
            "otp" => passcode(),
            "id_token" => jwt(now() + 600),
            // Provider codes may hold a `/` (Google's start `4/0`), which a query encodes.
            "code" => format!("4/0{}", opaque()),
            // Secrets that do not look like tokens (no digit, one case) must go too.
            "magic_link" | "verifier" => letters(),
            _ => opaque(),
        };
        s.request(field, &format!("{field} ({})", op.spec.operation_id), value);
    }
    let answer = hostile_answer(hostile, &op.declared, op.success(), &mut s)?;
    let server = HostileServer::start(answer).await;
    let mut client = client_for(&server, hostile);
    match op.spec.auth {
        Auth::Bearer => client = client.with_auth_token(s.field("authorization")),
        Auth::ApiKey { .. } => client = client.with_api_key(s.field("x-api-key")),
        Auth::None => {}
    }
    let mut forms = Forms::default();
    forms.push("client Debug", format!("{client:?}"));
    let mut problems = Vec::new();
    if !drive(op.spec.operation_id, &client, &s, &mut forms).await {
        problems.push("no driver for this secret-bearing operation".into());
    }
    if forms.redirect != op.redirects() {
        problems.push(format!(
            "the driver's redirect handling ({}) is not the spec's",
            forms.redirect
        ));
    }
    let sent: Vec<String> = s.request.iter().map(|(_, _, v)| v.clone()).collect();
    let mut case = Case {
        n: 0,
        subject: op.spec.operation_id.to_owned(),
        hostile,
        secrets: s,
        forms,
        received: server.received(),
        problems,
    };
    check_sent(&mut case, &sent);
    Some(case)
}

/// Which path of a [`Session`] a session case drives.
#[derive(Clone, Copy, Debug)]
enum SessionPath {
    /// `auth_token()` with an expired token: a refresh (`POST /tokens`).
    Refresh,
    /// `call()` of the current-user operation with the bearer token (a 401 refreshes).
    Call,
    /// `revoke()` (`DELETE /tokens?refresh_token=`).
    Revoke,
}

async fn session_case(
    path: SessionPath,
    hostile: Hostile,
    ops: &[SecretOperation],
) -> Option<Case> {
    let op_id = match path {
        SessionPath::Refresh => "refresh_auth_token",
        SessionPath::Call => "get_currentuser",
        SessionPath::Revoke => "revoke_refresh_token",
    };
    let op = ops
        .iter()
        .find(|o| o.spec.operation_id == op_id)
        .expect("a secret operation");
    let mut s = CaseSecrets::default();
    let exp = match path {
        SessionPath::Refresh => now() - 60,
        _ => now() + 3600,
    };
    // The request sends one of the session's tokens; the server can echo only that one.
    let (auth, refresh) = (jwt(exp), opaque());
    match path {
        SessionPath::Call => {
            s.request("authorization", "session auth token", auth.clone());
            s.held("session refresh token", refresh.clone());
        }
        SessionPath::Refresh | SessionPath::Revoke => {
            s.held("session auth token", auth.clone());
            s.request("refresh_token", "session refresh token", refresh.clone());
        }
    }
    let answer = hostile_answer(hostile, &op.declared, op.success(), &mut s)?;
    let server = HostileServer::start(answer).await;
    let client = client_for(&server, hostile);
    let session = Session::builder(client, APP_ID)
        .refresh_skew(Duration::ZERO)
        .refresh_backoff(Duration::ZERO, Duration::ZERO)
        .build();
    session
        .set_tokens(StoredTokens::new(auth.clone(), Some(refresh.clone())))
        .await
        .expect("tokens stored");
    let mut forms = Forms::default();
    forms.push("session Debug (signed in)", format!("{session:?}"));
    let expected = match path {
        SessionPath::Refresh => {
            let result = session.auth_token().await;
            forms.outcome = Some(session_outcome(&result));
            forms.owned("Session::auth_token", result);
            vec![refresh]
        }
        SessionPath::Call => {
            let result = session
                .call(|c| async move { c.get_currentuser().app_id(APP_ID).send().await })
                .await
                .map(|v| v.into_inner());
            forms.outcome = Some(session_outcome(&result));
            forms.owned("Session::call", result);
            vec![auth]
        }
        SessionPath::Revoke => {
            let result = session.revoke().await;
            forms.outcome = Some(session_outcome(&result));
            forms.owned("Session::revoke", result);
            vec![refresh]
        }
    };
    forms.push("session Debug (after)", format!("{session:?}"));
    forms.push(
        "session store Debug",
        format!("{:?}", session.store().load().await),
    );
    let mut case = Case {
        n: 0,
        subject: format!("Session {path:?}"),
        hostile,
        secrets: s,
        forms,
        received: server.received(),
        problems: Vec::new(),
    };
    check_sent(&mut case, &expected);
    Some(case)
}

fn session_outcome<T>(result: &Result<T, passage_auth_client::SessionError>) -> Outcome {
    use passage_auth_client::SessionError as S;
    match result {
        Ok(_) => Outcome::Ok,
        Err(S::RefreshFailed(e) | S::Api(e)) => outcome_of(e),
        Err(S::RefreshRejected(e)) => outcome_of(e),
        Err(_) => Outcome::Other,
    }
}

async fn waiter_case(hostile: Hostile, ops: &[SecretOperation]) -> Option<Case> {
    let op = ops
        .iter()
        .find(|o| o.spec.operation_id == "magic_link_status")
        .expect("the status answer carries tokens");
    let mut s = CaseSecrets::default();
    let answer = hostile_answer(hostile, &op.declared, op.success(), &mut s)?;
    let server = HostileServer::start(answer).await;
    let client = client_for(&server, hostile);
    let mut forms = Forms::default();
    let wait = client
        .wait_for_magic_link(APP_ID, "leak-magic-link")
        .policy(
            PollPolicy::default()
                .initial_interval(Duration::from_millis(10))
                .max_interval(Duration::from_millis(20))
                .max_wait(Duration::from_millis(400)),
        );
    forms.push("MagicLinkWait Debug", format!("{wait:?}"));
    let result = wait.await;
    forms.outcome = Some(match &result {
        Ok(_) => Outcome::Ok,
        Err(passage_auth_client::WaitError::Failed(e)) => outcome_of(e),
        Err(_) => Outcome::Other,
    });
    forms.owned("wait_for_magic_link", result);
    let mut case = Case {
        n: 0,
        subject: "magic-link waiter".into(),
        hostile,
        secrets: s,
        forms,
        received: server.received(),
        problems: Vec::new(),
    };
    check_sent(&mut case, &[]);
    Some(case)
}

/// A service verifying a user's auth token whose key is not cached yet: the JWKS fetch meets
/// the hostile answer, and the token (held, never sent) must not show in what fails.
async fn verifier_case(hostile: Hostile, ops: &[SecretOperation]) -> Option<Case> {
    let op = ops
        .iter()
        .find(|o| o.spec.operation_id == "get_jwks")
        .expect("get_jwks is in the spec");
    let mut s = CaseSecrets::default();
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = e.encode(r#"{"alg":"RS256","typ":"JWT","kid":"leak-kid"}"#);
    let payload =
        e.encode(json!({"sub": "leak-user", "exp": now() + 600, "jti": opaque()}).to_string());
    let token = s.held(
        "auth token being verified",
        format!("{header}.{payload}.{}{}", opaque(), opaque()),
    );
    let answer = hostile_answer(hostile, &op.declared, op.success(), &mut s)?;
    let server = HostileServer::start(answer).await;
    let verifier = passage_auth_client::TokenVerifier::new(
        client_for(&server, hostile),
        APP_ID,
        passage_auth_client::VerifierConfig::default(),
    );
    let mut forms = Forms::default();
    let result = verifier.verify(&token).await;
    forms.outcome = Some(if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Other
    });
    forms.owned("TokenVerifier::verify", result);
    forms.push("TokenVerifier Debug", format!("{verifier:?}"));
    let mut case = Case {
        n: 0,
        subject: "token verifier".into(),
        hostile,
        secrets: s,
        forms,
        received: server.received(),
        problems: Vec::new(),
    };
    check_sent(&mut case, &[]);
    Some(case)
}

// ------------------------------------------------------------------------------------- search

/// Finds secrets, whole or by any 12-character fragment, in text.
///
/// Secrets shorter than a fragment (six-digit passcodes) could match unrelated digits
/// elsewhere, so they are searched for whole, as a run of their own, in their own case's output.
struct Detector {
    /// (case, what, value)
    secrets: Vec<(usize, String, String)>,
    /// Every fragment that belongs to one secret only.
    fragments: HashMap<Vec<u8>, usize>,
    /// The short secrets of each case.
    short: BTreeMap<usize, Vec<usize>>,
}

impl Detector {
    fn new(secrets: Vec<(usize, String, String)>) -> Self {
        let mut owners: HashMap<Vec<u8>, BTreeSet<usize>> = HashMap::new();
        let mut short: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, (case, _, value)) in secrets.iter().enumerate() {
            if value.len() < FRAGMENT {
                assert!(value.len() >= 6, "no secret is shorter than a passcode");
                short.entry(*case).or_default().push(i);
                continue;
            }
            for window in value.as_bytes().windows(FRAGMENT) {
                owners.entry(window.to_vec()).or_default().insert(i);
            }
        }
        // Fragments common to several secrets (a JWT header) identify none.
        let fragments = owners
            .into_iter()
            .filter(|(_, o)| o.len() == 1)
            .map(|(f, o)| (f, *o.iter().next().unwrap()))
            .collect();
        Self {
            secrets,
            fragments,
            short,
        }
    }

    /// The secrets found in `text`, printed by case `case` if known: (secret index, whole
    /// value found, byte offset of a match).
    fn scan(&self, text: &str, case: Option<usize>) -> BTreeMap<usize, (bool, usize)> {
        let mut found = BTreeMap::new();
        for &i in case.and_then(|c| self.short.get(&c)).into_iter().flatten() {
            if let Some(at) = find_run(text, &self.secrets[i].2) {
                found.insert(i, (true, at));
            }
        }
        for (at, window) in text.as_bytes().windows(FRAGMENT).enumerate() {
            if let Some(&i) = self.fragments.get(window) {
                found.entry(i).or_insert((false, at));
            }
        }
        for (i, entry) in found.iter_mut() {
            if entry.0 {
                continue;
            }
            if let Some(at) = text.find(self.secrets[*i].2.as_str()) {
                *entry = (true, at);
            }
        }
        found
    }

    /// The line of `text` around the match of secret `i` at `at`, every secret fragment in it
    /// (and that secret) replaced by `*`.
    fn excerpt(&self, text: &str, i: usize, at: usize) -> String {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[start..end];
        let mut masked = line.as_bytes().to_vec();
        let own = (at - start)..(at - start + self.secrets[i].2.len()).min(line.len());
        masked[own].fill(b'*');
        for (j, window) in line.as_bytes().windows(FRAGMENT).enumerate() {
            if self.fragments.contains_key(window) {
                masked[j..j + FRAGMENT].fill(b'*');
            }
        }
        let masked = String::from_utf8_lossy(&masked).into_owned();
        if masked.len() > 400 {
            let mut cut = 400;
            while !masked.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}…", &masked[..cut])
        } else {
            masked
        }
    }
}

/// Where `needle` (digits) occurs in `text` as a run of its own (no digit on either side).
fn find_run(text: &str, needle: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    text.match_indices(needle).map(|(at, _)| at).find(|&at| {
        let before = at.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(at + needle.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

struct Leak {
    case: usize,
    form: String,
    what: String,
    whole: bool,
    excerpt: String,
}

/// The form kind of a label ("Error Display" → "Display").
fn form_kind(label: &str) -> &str {
    [
        "unwrap panic",
        "anyhow {:#}",
        "anyhow {:?}",
        "source chain",
        "Ok {:#?}",
        "Ok Debug",
        "{:#?}",
        "{:#}",
        "Display",
        "Debug",
        "status and headers",
    ]
    .into_iter()
    .find(|k| label.ends_with(k))
    .unwrap_or(label)
}

// --------------------------------------------------------------------------------------- test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_printed_form_under_hostile_answers() {
    let started = Instant::now();
    let captured = capture();
    install_panic_hook();

    let spec = Spec::load();
    let ops = spec.secret_operations();
    let all_ops = spec.operations();
    // The spec's own secrets must be found, or the derivation is broken.
    for (id, field) in [
        ("refresh_auth_token", "refresh_token"),
        ("revoke_refresh_token", "refresh_token"),
        ("activate_one_time_passcode", "otp"),
        ("activate_magic_link", "magic_link"),
        ("exchange_social_token", "verifier"),
    ] {
        let op = ops.iter().find(|o| o.spec.operation_id == id);
        assert!(
            op.is_some_and(|o| o.request_fields.iter().any(|f| f == field)),
            "{id} sends {field}"
        );
    }
    assert!(
        ops.iter().any(|o| o.answer_secret),
        "some answer carries a secret"
    );

    // Every case, run a few at a time, each in a span of its own.
    let mut plans: Vec<(String, Hostile)> = Vec::new();
    for op in &ops {
        for hostile in HOSTILE {
            plans.push((op.spec.operation_id.to_owned(), hostile));
        }
    }
    for path in ["Refresh", "Call", "Revoke"] {
        for hostile in HOSTILE {
            plans.push((format!("Session {path}"), hostile));
        }
    }
    for hostile in HOSTILE {
        plans.push(("waiter".into(), hostile));
        plans.push(("verifier".into(), hostile));
    }
    let ops_ref = &ops;
    let all_ops_ref = &all_ops;
    let cases: Vec<Case> = futures::stream::iter(plans.into_iter().enumerate())
        .map(|(n, (subject, hostile))| {
            let span = tracing::info_span!("leak_case", n, subject = subject.as_str(), ?hostile);
            async move {
                let run = |reruns: u32| {
                    let subject = subject.clone();
                    TIMEOUT_RERUNS.scope(reruns, async move {
                        match subject.as_str() {
                            "Session Refresh" => {
                                session_case(SessionPath::Refresh, hostile, ops_ref).await
                            }
                            "Session Call" => {
                                session_case(SessionPath::Call, hostile, ops_ref).await
                            }
                            "Session Revoke" => {
                                session_case(SessionPath::Revoke, hostile, ops_ref).await
                            }
                            "waiter" => waiter_case(hostile, ops_ref).await,
                            "verifier" => verifier_case(hostile, all_ops_ref).await,
                            id => {
                                let op =
                                    ops_ref.iter().find(|o| o.spec.operation_id == id).unwrap();
                                operation_case(op.clone(), hostile).await
                            }
                        }
                    })
                };
                // A `Timeout` case whose client gave up before the server read the request proves
                // nothing (the secrets never left): run it again with a longer timeout, so that
                // no result depends on how fast a loaded machine schedules the server.
                let mut reruns = 0;
                let case = loop {
                    let case = run(reruns).await;
                    let unread = case
                        .as_ref()
                        .is_some_and(|c| c.hostile == Hostile::Timeout && c.received.is_empty());
                    if !unread || reruns == MAX_TIMEOUT_RERUNS {
                        break case;
                    }
                    reruns += 1;
                };
                case.map(|case| Case { n, ..case })
            }
            .instrument(span)
        })
        .buffered(PARALLEL)
        .filter_map(|case| async move { case })
        .collect()
        .await;
    let ran_for = started.elapsed();

    // Every secret of every case, and where it was printed.
    let mut secrets = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        for (what, value) in case.secrets.all() {
            secrets.push((n, what.to_owned(), value.to_owned()));
        }
    }
    let detector = Detector::new(secrets);
    // The detector finds a planted secret, whole and by a fragment, and a planted passcode.
    {
        let long = (0..detector.secrets.len())
            .find(|&i| detector.secrets[i].2.len() >= FRAGMENT)
            .unwrap();
        let value = &detector.secrets[long].2;
        let planted = format!("x {value} y");
        assert_eq!(
            detector.scan(&planted, None).get(&long).map(|f| f.0),
            Some(true)
        );
        let fragment = format!("x {} y", &value[3..3 + FRAGMENT]);
        assert_eq!(
            detector.scan(&fragment, None).get(&long).map(|f| f.0),
            Some(false)
        );
        let (&case, short) = detector
            .short
            .iter()
            .next()
            .expect("a case sends a passcode");
        let planted = format!("otp={}&", detector.secrets[short[0]].2);
        assert!(detector.scan(&planted, Some(case)).contains_key(&short[0]));
    }
    // `LEAK_SUITE_SHOW=<subject>` prints that subject's forms, secret fragments masked.
    if let Ok(subject) = std::env::var("LEAK_SUITE_SHOW") {
        for case in cases.iter().filter(|c| c.subject == subject) {
            for (label, text) in &case.forms.printed {
                let mut masked = text.as_bytes().to_vec();
                for (j, window) in text.as_bytes().windows(FRAGMENT).enumerate() {
                    if detector.fragments.contains_key(window) {
                        masked[j..j + FRAGMENT].fill(b'*');
                    }
                }
                println!(
                    "{:?} / {label}: {}",
                    case.hostile,
                    String::from_utf8_lossy(&masked)
                );
            }
        }
    }
    let mut leaks = Vec::new();
    let mut forms_checked = 0usize;
    for (n, case) in cases.iter().enumerate() {
        for (label, text) in &case.forms.printed {
            forms_checked += 1;
            for (i, (whole, at)) in detector.scan(text, Some(n)) {
                leaks.push(Leak {
                    case: n,
                    form: label.clone(),
                    what: detector.secrets[i].1.clone(),
                    whole,
                    excerpt: detector.excerpt(text, i, at),
                });
            }
        }
    }
    let logs = captured.text();
    if let Some(path) = std::env::var_os("LEAK_SUITE_LOG") {
        std::fs::write(path, &logs).expect("the log is written");
    }
    let mut log_leaks = 0;
    let mut found_in_log: Vec<(usize, bool, String)> = detector
        .scan(&logs, None)
        .into_iter()
        .map(|(i, (whole, at))| (i, whole, detector.excerpt(&logs, i, at)))
        .collect();
    // Short secrets: in the lines logged inside their case's span.
    for &case in detector.short.keys() {
        let tag = format!("leak_case{{n={} ", cases[case].n);
        let lines: String = logs
            .lines()
            .filter(|l| l.contains(&tag))
            .flat_map(|l| [l, "\n"])
            .collect();
        for (i, (whole, at)) in detector.scan(&lines, Some(case)) {
            if detector.secrets[i].2.len() < FRAGMENT {
                found_in_log.push((i, whole, detector.excerpt(&lines, i, at)));
            }
        }
    }
    for (i, whole, excerpt) in found_in_log {
        log_leaks += 1;
        leaks.push(Leak {
            case: detector.secrets[i].0,
            form: "TRACE log".into(),
            what: detector.secrets[i].1.clone(),
            whole,
            excerpt,
        });
    }

    // The report.
    let subjects: BTreeSet<&str> = cases.iter().map(|c| c.subject.as_str()).collect();
    println!(
        "leak suite: {} cases ({} secret-bearing operations, {} session paths, the waiter and the token verifier x {} hostile answers), \
         {} secrets, {} printed forms and {} KiB of TRACE logs searched, in {:.1} s",
        cases.len(),
        ops.len(),
        3,
        HOSTILE.len(),
        detector.secrets.len(),
        forms_checked,
        logs.len() / 1024,
        ran_for.as_secs_f64(),
    );
    let mut outcomes: BTreeMap<Hostile, BTreeMap<Outcome, usize>> = BTreeMap::new();
    for case in &cases {
        *outcomes
            .entry(case.hostile)
            .or_default()
            .entry(case.forms.outcome.unwrap_or(Outcome::Other))
            .or_default() += 1;
    }
    for (hostile, seen) in &outcomes {
        println!("  {hostile:?}: outcomes {seen:?}");
    }
    let mut by_stage: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_form: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_hostile: BTreeMap<Hostile, usize> = BTreeMap::new();
    let mut by_subject: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_what: BTreeMap<String, usize> = BTreeMap::new();
    let mut leaking_cases = BTreeSet::new();
    for leak in &leaks {
        let case = &cases[leak.case];
        let kind = form_kind(&leak.form);
        let stage = match leak.form.strip_suffix(kind).unwrap_or("").trim() {
            "" => "tracing",
            stage => stage,
        };
        *by_stage.entry(stage.to_owned()).or_default() += 1;
        *by_form.entry(kind.to_owned()).or_default() += 1;
        *by_hostile.entry(case.hostile).or_default() += 1;
        *by_subject.entry(case.subject.as_str()).or_default() += 1;
        let what = leak
            .what
            .split(" (")
            .next()
            .unwrap_or(&leak.what)
            .to_owned();
        *by_what.entry(what).or_default() += 1;
        leaking_cases.insert(leak.case);
    }
    println!(
        "leaks found: {} ({} in the TRACE log, {} whole values) in {} of {} cases",
        leaks.len(),
        log_leaks,
        leaks.iter().filter(|l| l.whole).count(),
        leaking_cases.len(),
        cases.len()
    );
    println!("  by stage: {by_stage:?}");
    println!("  by printed form: {by_form:?}");
    println!("  by hostile answer: {by_hostile:?}");
    println!("  by subject: {by_subject:?}");
    println!("  by secret: {by_what:?}");
    let mut shown: BTreeSet<(String, Hostile, String)> = BTreeSet::new();
    for leak in &leaks {
        let case = &cases[leak.case];
        // One example per (stage, hostile answer, secret kind).
        let key = (
            leak.form.clone(),
            case.hostile,
            leak.what.split(" (").next().unwrap_or("").to_owned(),
        );
        if shown.insert(key) {
            println!(
                "  LEAK {} / {:?} / {}: the {} ({}) in: {}",
                case.subject,
                case.hostile,
                leak.form,
                leak.what,
                if leak.whole { "whole" } else { "fragment" },
                leak.excerpt
            );
        }
    }

    // The cases are real: every secret-bearing operation has a driver that sent its secrets,
    // every hostile answer produced what it should, every operation was traced.
    let problems: Vec<String> = cases
        .iter()
        .flat_map(|c| {
            c.problems
                .iter()
                .map(move |p| format!("{} / {:?}: {p}", c.subject, c.hostile))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "broken cases:\n{}",
        problems.join("\n")
    );
    for op in &ops {
        assert!(
            subjects.contains(op.spec.operation_id),
            "{} ran",
            op.spec.operation_id
        );
        assert!(
            logs.contains(&format!("operation=\"{}\"", op.spec.operation_id)),
            "{} was traced",
            op.spec.operation_id
        );
    }
    for case in &cases {
        let outcome = case.forms.outcome.unwrap_or(Outcome::Other);
        let expected = match case.hostile {
            Hostile::Timeout => matches!(outcome, Outcome::Timeout | Outcome::Other),
            Hostile::DropBeforeRequest | Hostile::DropAfterRequest | Hostile::TruncatedBody => {
                matches!(outcome, Outcome::Transport | Outcome::Other | Outcome::Ok)
            }
            _ => true,
        };
        assert!(
            expected,
            "{} / {:?} ended {outcome:?}",
            case.subject, case.hostile
        );
    }
    assert!(
        logs.contains("leak_case") && logs.contains("passage.call"),
        "the TRACE capture saw the spans"
    );

    assert!(
        leaks.is_empty(),
        "{} leaks in {} of {} cases (listed above)",
        leaks.len(),
        leaking_cases.len(),
        cases.len()
    );
}
