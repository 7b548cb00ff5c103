//! Support for the real-browser suite (`tests/tests/browser.rs`): headless Chromium driven over the
//! DevTools protocol, a virtual CTAP2 authenticator, and the app page (`tests/browser/`) served from a
//! `localhost` auth origin on its own port, so every API call is cross-origin as in production.
//!
//! Chromium is `PASSAGE_CHROMIUM` when that is set, else `/usr/bin/chromium`, else `chromium`,
//! `chromium-browser` or Google Chrome on `PATH`. When none is found the suite follows the rule of
//! [`crate::skip`]: it fails in CI; elsewhere it fails with install instructions unless
//! `PASSAGE_SKIP_BROWSER=1` is set, and then it reports itself as skipped.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chromiumoxide::cdp::browser_protocol::audits::{EnableParams as AuditsEnable, EventIssueAdded};
use chromiumoxide::cdp::browser_protocol::log::{EnableParams as LogEnable, EventEntryAdded};
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, EventJavascriptDialogOpening, HandleJavaScriptDialogParams,
};
use chromiumoxide::cdp::browser_protocol::web_authn::{
    AddVirtualAuthenticatorParams, AuthenticatorId, AuthenticatorProtocol, AuthenticatorTransport,
    Credential, EnableParams as WebAuthnEnable, GetCredentialsParams,
    SetAutomaticPresenceSimulationParams, VirtualAuthenticatorOptions,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;
use serde_json::Value;
use tokio::net::TcpListener;

/// How long one step in the page may take before the test fails with its diagnostics.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

const INDEX_HTML: &str = include_str!("../browser/index.html");
const PAGE_JS: &str = include_str!("../browser/page.js");

/// Where Chromium is, or why the suite does not run.
pub enum ChromiumLookup {
    /// The executable to launch.
    Found(PathBuf),
    /// No Chromium, outside CI, and `PASSAGE_SKIP_BROWSER=1` is set: reported as skipped; the
    /// caller returns early.
    Skip,
}

/// Finds Chromium; when it is missing, applies [`crate::skip::missing_requirement`].
pub fn find_chromium() -> ChromiumLookup {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("PASSAGE_CHROMIUM") {
        // An explicit choice is the only candidate.
        candidates.push(p.into());
    } else {
        candidates.push("/usr/bin/chromium".into());
    }
    if let Some(path) =
        std::env::var_os("PATH").filter(|_| std::env::var_os("PASSAGE_CHROMIUM").is_none())
    {
        for dir in std::env::split_paths(&path) {
            for name in [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ] {
                candidates.push(dir.join(name));
            }
        }
    }
    if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
        return ChromiumLookup::Found(found);
    }
    crate::skip::missing_requirement(
        "the real-browser suite",
        "PASSAGE_SKIP_BROWSER",
        "no Chromium was found (PASSAGE_CHROMIUM, /usr/bin/chromium, chromium on PATH)",
        "Install it (Debian/Ubuntu: `bash .ci/setup`, or `apt-get install -y chromium`) or point \
         PASSAGE_CHROMIUM at it.",
    );
    ChromiumLookup::Skip
}

/// The app page's server: `/` (and any other path, so magic links open it) is `index.html`,
/// `/page.js` the page script, `/config.js` the emulator URL and app id.
pub struct PageServer {
    listener: Option<TcpListener>,
    port: u16,
}

impl PageServer {
    /// Binds `127.0.0.1:0`; the page is reached as `http://localhost:PORT` (see [`Self::origin`]).
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("page server binds");
        let port = listener.local_addr().expect("local addr").port();
        Self {
            listener: Some(listener),
            port,
        }
    }

    /// `http://localhost:PORT`: the app's auth origin (a secure context, WebAuthn rp id `localhost`).
    pub fn origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Starts serving the page, configured for the API at `api_base` (`http://127.0.0.1:PORT/v1`) and
    /// `app_id`.
    pub fn serve(&mut self, api_base: &str, app_id: &str) {
        let listener = self.listener.take().expect("serve is called once");
        let config = format!(
            "window.PASSAGE_PAGE = {};",
            serde_json::json!({ "api": api_base, "appId": app_id })
        );
        let js = |body: String| {
            (
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                body,
            )
                .into_response()
        };
        let app = axum::Router::new()
            .route("/config.js", get(move || async move { js(config) }))
            .route(
                "/page.js",
                get(move || async move { js(PAGE_JS.to_owned()) }),
            )
            .fallback(|| async { axum::response::Html(INDEX_HTML) });
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("page server runs");
        });
    }
}

/// Serves a blank page of "another site" on `127.0.0.1:0` (another origin than the app page's and the
/// emulator's) until the test binary ends; returns its origin, `http://127.0.0.1:PORT`.
pub async fn serve_another_site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("another site binds");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    let app = axum::Router::new().fallback(|| async {
        axum::response::Html("<!doctype html><title>another site</title><p>nothing to see</p>")
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("another site runs");
    });
    origin
}

/// One headless Chromium for the whole test binary.
pub struct BrowserSession {
    browser: Browser,
    _profile: tempfile::TempDir,
    handler: tokio::task::JoinHandle<()>,
}

impl BrowserSession {
    /// Launches `executable` headless with a fresh profile.
    pub async fn launch(executable: PathBuf) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let config = BrowserConfig::builder()
            .chrome_executable(executable)
            .disable_default_args()
            .no_sandbox()
            .user_data_dir(profile.path())
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .window_size(1280, 1000)
            .viewport(None)
            .launch_timeout(Duration::from_secs(60))
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    eprintln!("devtools connection: {e}");
                }
            }
        });
        Self {
            browser,
            _profile: profile,
            handler,
        }
    }

    /// Opens a tab at `url`, recording its console, exceptions and browser log messages.
    pub async fn open(&self, url: &str) -> Tab {
        let page = self.browser.new_page("about:blank").await.expect("new tab");
        let console = Arc::new(Mutex::new(Vec::new()));
        page.execute(LogEnable::default())
            .await
            .expect("Log.enable");
        // CORS refusals reach DevTools as issues, not as console messages.
        page.execute(AuditsEnable::default())
            .await
            .expect("Audits.enable");
        let mut calls = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .expect("console listener");
        let mut exceptions = page
            .event_listener::<EventExceptionThrown>()
            .await
            .expect("exception listener");
        let mut entries = page
            .event_listener::<EventEntryAdded>()
            .await
            .expect("log listener");
        let mut issues = page
            .event_listener::<EventIssueAdded>()
            .await
            .expect("issue listener");
        let sink = console.clone();
        tokio::spawn(async move {
            loop {
                let line = tokio::select! {
                    Some(e) = calls.next() => format!(
                        "console.{:?}: {}",
                        e.r#type,
                        e.args
                            .iter()
                            .map(|a| a
                                .value
                                .as_ref()
                                .map(Value::to_string)
                                .or_else(|| a.description.clone())
                                .unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    Some(e) = exceptions.next() => format!(
                        "exception: {} {}",
                        e.exception_details.text,
                        e.exception_details
                            .exception
                            .as_ref()
                            .and_then(|x| x.description.clone())
                            .unwrap_or_default()
                    ),
                    Some(e) = entries.next() => format!(
                        "browser log ({:?}, {:?}): {}",
                        e.entry.source, e.entry.level, e.entry.text
                    ),
                    Some(e) = issues.next() => format!(
                        "issue {:?}: {}",
                        e.issue.code,
                        serde_json::to_string(&e.issue.details).unwrap_or_default()
                    ),
                    else => break,
                };
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(redact_link_secrets(&line));
            }
        });
        let tab = Tab {
            page,
            console,
            last_calls: Mutex::new(Value::Null),
        };
        tab.goto(url).await;
        tab
    }

    /// Closes the browser and waits for it to exit.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// What a step in the page resolved to (see `t.run` in `tests/browser/page.js`).
#[derive(Debug)]
pub struct Outcome {
    /// The JSON the page resolved to.
    pub raw: Value,
}

impl Outcome {
    /// Whether the step succeeded.
    pub fn ok(&self) -> bool {
        self.raw["ok"].as_bool() == Some(true)
    }

    /// HTTP status of the failing call, if a call failed.
    pub fn status(&self) -> Option<u64> {
        self.raw["status"].as_u64()
    }

    /// Error code of the failing call's answer, if any.
    pub fn code(&self) -> Option<&str> {
        self.raw["code"].as_str()
    }

    /// The error message.
    pub fn error(&self) -> &str {
        self.raw["error"].as_str().unwrap_or("")
    }
}

/// One browser tab.
pub struct Tab {
    page: Page,
    console: Arc<Mutex<Vec<String>>>,
    /// The calls made by the latest page flow (redacted by the page), shown when a check fails.
    last_calls: Mutex<Value>,
}

impl Tab {
    /// The underlying chromiumoxide page, for protocol calls the helpers do not cover.
    pub fn page(&self) -> &Page {
        &self.page
    }

    /// Navigates and waits for the load event.
    pub async fn goto(&self, url: &str) {
        tokio::time::timeout(STEP_TIMEOUT, self.page.goto(url))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "loading {} timed out\n{}",
                    redact_link_secrets(url),
                    self.diagnostics(None)
                )
            })
            .unwrap_or_else(|e| {
                panic!(
                    "loading {} failed: {e}\n{}",
                    redact_link_secrets(url),
                    self.diagnostics(None)
                )
            });
    }

    /// Evaluates `expression` (awaiting a promise) and returns its JSON value.
    pub async fn eval(&self, step: &str, expression: &str) -> Value {
        let params = EvaluateParams::builder()
            .expression(expression)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .expect("evaluate params");
        let result = tokio::time::timeout(STEP_TIMEOUT, self.page.evaluate_expression(params))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "step `{step}` timed out after {STEP_TIMEOUT:?}\n{}",
                    self.diagnostics(None)
                )
            })
            .unwrap_or_else(|e| panic!("step `{step}` failed: {e}\n{}", self.diagnostics(None)));
        result.value().cloned().unwrap_or(Value::Null)
    }

    /// Runs a page flow (`t.run(() => <flow>)`) and returns its outcome, whether it succeeded or not.
    pub async fn try_flow(&self, step: &str, flow: &str) -> Outcome {
        let raw = self.eval(step, &format!("t.run(() => {flow})")).await;
        assert!(
            raw.get("ok").is_some(),
            "step `{step}`: the page did not answer an outcome: {raw}\n{}",
            self.diagnostics(None)
        );
        *self.last_calls.lock().unwrap_or_else(|p| p.into_inner()) = raw["calls"].clone();
        Outcome { raw }
    }

    /// Runs a page flow that must succeed; returns its value or panics with the calls and the console.
    pub async fn flow(&self, step: &str, flow: &str) -> Value {
        let outcome = self.try_flow(step, flow).await;
        if !outcome.ok() {
            self.settle().await;
            panic!(
                "step `{step}` failed: {}\n{}",
                outcome.error(),
                self.diagnostics(Some(&outcome.raw))
            );
        }
        outcome.raw["value"].clone()
    }

    /// One more round trip to the page, so console and log events sent before it are recorded.
    async fn settle(&self) {
        let _ = tokio::time::timeout(STEP_TIMEOUT, self.page.evaluate_expression("0")).await;
        tokio::task::yield_now().await;
    }

    /// Panics with the diagnostics unless `condition` holds.
    pub fn check(&self, condition: bool, what: &str) {
        if !condition {
            panic!("{what}\n{}", self.diagnostics(None));
        }
    }

    /// The calls of `outcome` (else of the latest page flow), with request and answer (secrets
    /// redacted by the page), then the browser console so far.
    pub fn diagnostics(&self, outcome: Option<&Value>) -> String {
        let mut out = String::new();
        let last = self
            .last_calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let calls = outcome.map_or(&last, |o| &o["calls"]);
        if let Some(calls) = calls.as_array() {
            out.push_str("calls of the page's latest step (oldest first):\n");
            for c in calls {
                out.push_str(&format!(
                    "  {} {} -> {}\n    request: {}\n    answer:  {}{}\n",
                    c["method"].as_str().unwrap_or("?"),
                    c["path"].as_str().unwrap_or("?"),
                    c["status"],
                    c["request"],
                    c["answer"],
                    c["error"]
                        .as_str()
                        .map(|e| format!("\n    error:   {e}"))
                        .unwrap_or_default()
                ));
            }
        }
        let console = self.console.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str(&format!("browser console ({} lines):\n", console.len()));
        for line in console.iter() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Resolves once the page's text contains `text` (see [`Self::wait_until`]).
    pub async fn wait_for_text(&self, step: &str, text: &str) {
        let needle = serde_json::to_string(text).expect("string");
        self.wait_until(
            step,
            &format!("document.body && document.body.innerText.includes({needle})"),
        )
        .await;
    }

    /// Resolves with the value of the JavaScript expression `condition` once it is truthy, checking it
    /// on every change of the document (a `MutationObserver`, no polling); fails after the step timeout.
    pub async fn wait_until(&self, step: &str, condition: &str) -> Value {
        self.eval(
            step,
            &format!(
                "new Promise((resolve) => {{
                    const check = () => {{ const v = ({condition}); if (v) {{ observer.disconnect(); resolve(v); }} }};
                    const observer = new MutationObserver(check);
                    observer.observe(document.documentElement,
                        {{ subtree: true, childList: true, characterData: true, attributes: true }});
                    check();
                }})"
            ),
        )
        .await
    }

    /// Clicks the element matching `selector` with a real mouse click (DevTools input events), after
    /// bringing the tab to the front (a background tab does not paint, so input would never land).
    pub async fn click(&self, step: &str, selector: &str) {
        let click = async {
            self.page.bring_to_front().await?;
            self.page.find_element(selector).await?.click().await?;
            Ok::<_, chromiumoxide::error::CdpError>(())
        };
        match tokio::time::timeout(STEP_TIMEOUT, click).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!(
                "step `{step}`: clicking {selector} failed: {e}\n{}",
                self.diagnostics(None)
            ),
            Err(_) => panic!(
                "step `{step}`: clicking {selector} timed out\n{}",
                self.diagnostics(None)
            ),
        }
    }

    /// Clicks the element matching `selector` and types `text` into it (DevTools key events).
    pub async fn type_into(&self, step: &str, selector: &str, text: &str) {
        self.click(step, selector).await;
        let typing = async {
            self.page
                .find_element(selector)
                .await?
                .type_str(text)
                .await
                .map(|_| ())
        };
        match tokio::time::timeout(STEP_TIMEOUT, typing).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!(
                "step `{step}`: typing into {selector} failed: {e}\n{}",
                self.diagnostics(None)
            ),
            Err(_) => panic!(
                "step `{step}`: typing into {selector} timed out\n{}",
                self.diagnostics(None)
            ),
        }
    }

    /// From now on, accepts every JavaScript dialog (`confirm()` and the like) this tab opens, as a
    /// user clicking OK; the dialog's message is recorded with the console.
    pub async fn accept_dialogs(&self) {
        let mut dialogs = self
            .page
            .event_listener::<EventJavascriptDialogOpening>()
            .await
            .expect("dialog listener");
        let page = self.page.clone();
        let sink = self.console.clone();
        tokio::spawn(async move {
            while let Some(dialog) = dialogs.next().await {
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(format!("dialog accepted: {}", dialog.message));
                if let Err(e) = page.execute(HandleJavaScriptDialogParams::new(true)).await {
                    eprintln!("could not accept a dialog: {e}");
                }
            }
        });
    }

    /// Adds a virtual CTAP2 authenticator with resident keys and user verification: built in
    /// (`AuthenticatorTransport::Internal`, one per tab) or roaming (e.g. `Usb`, a security key).
    pub async fn add_authenticator(&self, transport: AuthenticatorTransport) -> AuthenticatorId {
        self.page
            .execute(WebAuthnEnable::default())
            .await
            .expect("WebAuthn.enable");
        let options = VirtualAuthenticatorOptions::builder()
            .protocol(AuthenticatorProtocol::Ctap2)
            .transport(transport)
            .has_resident_key(true)
            .has_user_verification(true)
            .is_user_verified(true)
            .automatic_presence_simulation(true)
            .build()
            .expect("authenticator options");
        self.page
            .execute(AddVirtualAuthenticatorParams::new(options))
            .await
            .expect("WebAuthn.addVirtualAuthenticator")
            .result
            .authenticator_id
    }

    /// Credentials held by the virtual authenticator.
    pub async fn credentials(&self, authenticator: &AuthenticatorId) -> Vec<Credential> {
        self.page
            .execute(GetCredentialsParams::new(authenticator.clone()))
            .await
            .expect("WebAuthn.getCredentials")
            .result
            .credentials
    }

    /// Makes `authenticator` answer requests at once (`true`) or never (`false`), to choose which of
    /// several authenticators a ceremony uses, as a user touching one of them would.
    pub async fn set_presence(&self, authenticator: &AuthenticatorId, present: bool) {
        self.page
            .execute(SetAutomaticPresenceSimulationParams::new(
                authenticator.clone(),
                present,
            ))
            .await
            .expect("WebAuthn.setAutomaticPresenceSimulation");
    }

    /// Saves a PNG screenshot of the whole page to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .full_page(true)
            .build();
        let png = self.page.screenshot(params).await.expect("screenshot");
        std::fs::write(path, png).expect("screenshot written");
    }
}

/// A DevTools credential id (standard base64) as the page reports it (base64url, unpadded).
pub fn std_to_base64url(id: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(id)
        .expect("DevTools gives standard base64");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `text` with the value of every `psg_magic_link=` query parameter (a magic-link secret, e.g. in a
/// URL the browser logs) replaced by `[redacted]`.
pub fn redact_link_secrets(text: &str) -> String {
    const KEY: &str = "psg_magic_link=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        out.push_str("[redacted]");
        rest = &rest[at + KEY.len()..];
        let end = rest
            .find(|c: char| c == '&' || c == '#' || c == '\'' || c == '"' || c.is_whitespace())
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_secrets_are_redacted() {
        assert_eq!(
            redact_link_secrets("GET http://localhost:1/?psg_magic_link=s3cr3t&x=1 'http://h/?psg_magic_link=abc'"),
            "GET http://localhost:1/?psg_magic_link=[redacted]&x=1 'http://h/?psg_magic_link=[redacted]'"
        );
        assert_eq!(redact_link_secrets("no secret"), "no secret");
    }
}
