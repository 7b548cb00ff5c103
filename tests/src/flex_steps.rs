//! Passage's Rust SDK for Passkey Flex, `passage_flex` 1.0.2 from crates.io, unmodified, as a child
//! process: the step runner in `tests/sdk/rust` (its own workspace, built by its `setup.sh`) talks to
//! `https://api.passage.id` through the emulator's intercepting proxy (`HTTPS_PROXY`, and
//! `SSL_CERT_FILE` for the proxy's CA). The environment is the only way to point the SDK at the proxy
//! and OpenSSL reads it once per process, hence a child process rather than a call in the test.
//!
//! The test sends one step per line on the child's stdin and reads its answer line (the protocol is
//! described in `tests/sdk/rust/src/main.rs`), so it can run a WebAuthn ceremony between two SDK
//! calls and hand the SDK the nonce it produced.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use passage_emulator::EmulatorHandle;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::conformance::CheckedEmulator;

/// `tests/sdk/rust`.
fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/rust")
}

/// The step runner's executable, or why it cannot be used: not built, or older than its sources
/// (the message says to run the set-up script).
pub fn executable() -> Result<PathBuf, String> {
    let dir = crate_dir();
    let exe = dir.join("target/debug/passage-flex-steps");
    let setup = "run `bash tests/sdk/rust/setup.sh` (or `bash .ci/setup`)";
    let built = std::fs::metadata(&exe)
        .and_then(|m| m.modified())
        .map_err(|e| {
            format!(
                "the passage_flex step runner is not built ({}: {e}): {setup}",
                exe.display()
            )
        })?;
    // Cargo rebuilds the program whenever its source is newer than the last build.
    let changed = std::fs::metadata(dir.join("src/main.rs"))
        .and_then(|m| m.modified())
        .expect("the step runner's source");
    if changed > built {
        return Err(format!(
            "tests/sdk/rust/src/main.rs changed after the step runner was built: {setup}"
        ));
    }
    Ok(exe)
}

/// What a failed step answered: the `passage_flex::Error` variant and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// The variant's name, e.g. `InvalidNonce`.
    pub kind: String,
    /// Its `Display`.
    pub message: String,
}

/// The SDK in its child process.
pub struct FlexSdk {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    /// Every step sent and its answer, for the diagnostics (nonces redacted).
    transcript: Vec<String>,
}

impl FlexSdk {
    /// Starts the SDK (the step runner at `executable`, see [`executable`]) for `app_id` with
    /// `api_key`, through `emulator`'s intercepting proxy (which must be configured), and waits for
    /// its `ready` line.
    pub async fn start(
        executable: &Path,
        emulator: &EmulatorHandle,
        app_id: &str,
        api_key: &str,
    ) -> Self {
        let proxy = emulator
            .proxy_url()
            .expect("the emulator runs its intercepting proxy (EmulatorConfig::intercept)");
        let ca = emulator.ca_certificate_path().expect("the proxy's CA");
        let mut command = tokio::process::Command::new(executable);
        for name in [
            "HTTP_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "SSL_CERT_DIR",
        ] {
            command.env_remove(name);
        }
        command
            .env("HTTPS_PROXY", &proxy)
            .env("SSL_CERT_FILE", ca)
            .env("PASSAGE_APP_ID", app_id)
            .env("PASSAGE_API_KEY", api_key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("the step runner starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut sdk = Self {
            child,
            stdin,
            stdout,
            stderr,
            transcript: Vec::new(),
        };
        let ready = sdk.read_answer("ready").await;
        assert_eq!(ready["ok"], true, "{}", sdk.diagnostics(None));
        sdk
    }

    /// Reads the child's next line; panics with the diagnostics when it ended instead.
    async fn read_answer(&mut self, step: &str) -> Value {
        let line = match self.stdout.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => {
                let status = self.child.wait().await;
                panic!(
                    "the step runner ended before answering `{step}` ({status:?})\n{}",
                    self.diagnostics(None)
                );
            }
        };
        self.transcript.push(format!("  <- {line}"));
        serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "the step runner answered `{step}` with no JSON ({e})\n{}",
                self.diagnostics(None)
            )
        })
    }

    /// Sends `step` (`{"step": name, ...}`) and returns its answer: the value, or the SDK's error.
    pub async fn try_step(&mut self, step: Value) -> Result<Value, StepError> {
        let name = step["step"].as_str().expect("a step name").to_owned();
        let mut shown = step.clone();
        if shown.get("nonce").is_some() {
            shown["nonce"] = json!("[redacted]");
        }
        self.transcript.push(format!("  -> {shown}"));
        let mut line = step.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("cannot send `{name}` ({e})\n{}", self.diagnostics(None)));
        self.stdin.flush().await.expect("flush");
        let answer = self.read_answer(&name).await;
        assert_eq!(
            answer["step"].as_str(),
            Some(name.as_str()),
            "an answer to another step\n{}",
            self.diagnostics(None)
        );
        if answer["ok"] == true {
            Ok(answer["value"].clone())
        } else {
            Err(StepError {
                kind: answer["error"]["kind"].as_str().unwrap_or("").to_owned(),
                message: answer["error"]["message"].as_str().unwrap_or("").to_owned(),
            })
        }
    }

    /// Sends `step`, which must succeed, and returns its value; otherwise panics with the
    /// diagnostics, which show each request the emulator received during the step and its answer.
    pub async fn step(&mut self, emulator: &CheckedEmulator, step: Value) -> Value {
        let mark = emulator.exchanges().len();
        match self.try_step(step).await {
            Ok(value) => value,
            Err(e) => panic!(
                "the SDK failed: {} {}\n{}",
                e.kind,
                e.message,
                self.diagnostics(Some((emulator, mark)))
            ),
        }
    }

    /// Sends `step`, which must fail with the `passage_flex::Error` variant `kind`; otherwise
    /// panics with the diagnostics (as [`Self::step`]).
    pub async fn step_fails(&mut self, emulator: &CheckedEmulator, step: Value, kind: &str) {
        let mark = emulator.exchanges().len();
        let answer = self.try_step(step).await;
        if !matches!(&answer, Err(e) if e.kind == kind) {
            panic!(
                "the SDK should have failed with {kind}, it answered {answer:?}\n{}",
                self.diagnostics(Some((emulator, mark)))
            );
        }
    }

    /// The steps sent and answered so far, the child's stderr and, with `(emulator, mark)`, every
    /// request the emulator received after its first `mark` exchanges (the SDK's requests of the
    /// failing step) with its answer, secrets redacted.
    pub fn diagnostics(&self, exchanges: Option<(&CheckedEmulator, usize)>) -> String {
        let mut out = String::from("passage_flex steps (-> sent, <- answered):\n");
        for line in &self.transcript {
            out.push_str(line);
            out.push('\n');
        }
        if let Some((emulator, mark)) = exchanges {
            out.push_str("the step's requests as the emulator received them, and its answers:\n");
            for exchange in emulator.exchanges().iter().skip(mark) {
                out.push_str(&crate::exchange_report::exchange_report(exchange));
            }
        }
        let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("step runner stderr:\n");
        for line in stderr.lines() {
            out.push_str(&crate::exchange_report::redacted_line(line));
            out.push('\n');
        }
        out
    }
}
