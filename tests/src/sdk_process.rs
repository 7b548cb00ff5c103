//! Passage's own SDKs run unmodified, as child processes, against an emulator behind its
//! intercepting proxy; their results read back step by step.
//!
//! [`SdkEnv::start`] starts a [`TestEnv`] whose emulator also runs the intercepting HTTPS proxy
//! (its CA in a temporary state directory); its exchange recorder (on in every [`TestEnv`]) keeps
//! each request and answer, which failure reports show redacted. [`SdkEnv::command`] describes the SDK program to run,
//! [`SdkEnv::run`] runs it and waits for it to exit, and [`SdkRun`] holds what each step did.
//!
//! # The environment of the program
//!
//! The child gets only `PATH`, `HOME`, `LANG`, `LC_ALL` and `TMPDIR` from the test's environment
//! (when set), then what [`SdkCommand::env`] adds: so no `NO_PROXY`, `ALL_PROXY`, `HTTP_PROXY` or
//! CA setting of the machine reaches it, and the test names every proxy and CA variable the SDK
//! needs ([`SdkEnv::proxy_url`], [`SdkEnv::ca_certificate_path`]). Values given with
//! [`SdkCommand::secret_env`] are never shown in a failure report.
//!
//! # The step protocol (the program's stdout, one JSON object per line)
//!
//! 1. `{"begin": "<step>"}`: the program is about to run a step; it then reads one line from its
//!    stdin and starts the step only after it. The runner writes that line once it has noted
//!    how many exchanges the emulator recorded, so every request recorded until the next `begin`
//!    (or the program's exit) belongs to this step.
//! 2. `{"step": "<step>", "ok": true, "values": {...}}` when the SDK call(s) succeeded, with what
//!    the test should check (never a secret), or `{"step": "<step>", "ok": false, "error": {...}}`
//!    with what the SDK raised (its error class, message, HTTP status and body as the SDK saw
//!    them).
//!
//! Any other stdout line is kept as output. A program reaching the end of its stdin when it
//! expects a line must exit with a failure. When a step is not as the test expects,
//! the panic message shows the SDK's error or values and each request of the step as the emulator
//! saw it: method, path, query, the SDK's `Passage-Version`, `User-Agent`, `Content-Type`,
//! `Authorization` and `Cookie` headers, the request body, and the emulator's status and answer
//! body, every secret redacted (`passage_emulator::base::redact`).
//!
//! ```no_run
//! # async fn demo() {
//! use passage_e2e::sdk_process::SdkEnv;
//! let sdk = SdkEnv::start().await;
//! let run = sdk
//!     .run(
//!         sdk.command("python3")
//!             .arg("program.py")
//!             .env("HTTPS_PROXY", sdk.proxy_url())
//!             .env("SSL_CERT_FILE", sdk.ca_certificate_path())
//!             .env("PASSAGE_APP_ID", &sdk.env.app_id),
//!     )
//!     .await;
//! let user = run.ok("get_user"); // the step's values; panics with the report unless it succeeded
//! assert_eq!(user["email"], "ada@example.com");
//! run.err("get_unknown_user"); // the SDK's error; panics with the report unless it failed
//! run.assert_steps(&["get_user", "get_unknown_user"]);
//! # }
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use passage_emulator::settings::InterceptConfig;
use passage_emulator::{EmulatorConfig, Exchange};
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::exchange_report::{exchange_report, redacted_json, redacted_line};
use crate::harness::TestEnv;

/// Variables of the test's environment a child process keeps; everything else is left out.
const INHERITED_VARIABLES: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"];

/// How many of the last lines of the program's stderr a failure report shows.
const STDERR_LINES_SHOWN: usize = 40;

/// A [`TestEnv`] whose emulator runs the intercepting proxy.
pub struct SdkEnv {
    /// The emulator and the project's own clients (for setting up users and tokens and for
    /// checking the SDK's effects independently of it).
    pub env: TestEnv,
    /// Holds the proxy's CA (removed when dropped).
    state_dir: tempfile::TempDir,
}

impl SdkEnv {
    /// An emulator with the default app, its proxy on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        Self::with_config(EmulatorConfig::default()).await
    }

    /// An emulator with `config` (its `intercept` is replaced), its proxy on a free port of
    /// 127.0.0.1 and its CA in a new temporary directory.
    pub async fn with_config(config: EmulatorConfig) -> Self {
        let state_dir = tempfile::tempdir().expect("a temporary state directory");
        let config = EmulatorConfig {
            intercept: Some(InterceptConfig {
                listen: "127.0.0.1:0".parse().expect("an address"),
                state_dir: state_dir.path().join("intercept"),
            }),
            ..config
        };
        let env = TestEnv::with_config(config).await;
        Self { env, state_dir }
    }

    /// `http://127.0.0.1:PORT`, the proxy (an SDK's `HTTPS_PROXY`).
    pub fn proxy_url(&self) -> String {
        self.env
            .emulator
            .proxy_url()
            .expect("the emulator runs its proxy")
    }

    /// The proxy's CA certificate (PEM), which the SDK must trust.
    pub fn ca_certificate_path(&self) -> &Path {
        self.env
            .emulator
            .ca_certificate_path()
            .expect("the emulator runs its proxy")
    }

    /// The temporary directory holding the proxy's state (its CA and key).
    pub fn state_dir(&self) -> &Path {
        self.state_dir.path()
    }

    /// A program to run with [`Self::run`].
    pub fn command(&self, program: impl AsRef<OsStr>) -> SdkCommand {
        SdkCommand {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            current_dir: None,
        }
    }

    /// Runs `command` to its end, answering its step protocol, and returns its steps.
    ///
    /// # Panics
    ///
    /// When the program cannot be started, or breaks the step protocol (a line starting with
    /// `{` that is not a step object, a result without its `begin`).
    pub async fn run(&self, command: SdkCommand) -> SdkRun {
        let shown = command.shown();
        let mut child = command
            .to_tokio()
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{shown}`: {e}"));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr_task = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });

        let mut lines = BufReader::new(stdout).lines();
        // Each begun step: its name, how many exchanges were recorded before it, its result once
        // reported.
        let mut begun: Vec<(String, usize, Option<StepResult>)> = Vec::new();
        let mut output = Vec::new();
        while let Some(line) = lines.next_line().await.expect("the program's stdout") {
            match ProtocolLine::parse(&line) {
                Some(ProtocolLine::Begin(name)) => {
                    assert!(
                        begun.iter().all(|(other, ..)| *other != name),
                        "`{shown}` began step `{name}` twice: step names must be unique"
                    );
                    begun.push((name, self.env.emulator.exchanges().len(), None));
                    // The program may have exited meanwhile; its exit status tells.
                    let _ = stdin.write_all(b"go\n").await;
                    let _ = stdin.flush().await;
                }
                Some(ProtocolLine::Result(name, result)) => match begun.last_mut() {
                    Some((current, _, outcome @ None)) if *current == name => {
                        *outcome = Some(result);
                    }
                    _ => panic!("`{shown}` reported step `{name}` without beginning it: {line}"),
                },
                None => output.push(line),
            }
        }
        drop(stdin);
        let status = child.wait().await.expect("the program's exit status");
        let stderr = stderr_task.await.unwrap_or_default();

        let log = self.env.emulator.exchanges();
        let ends: Vec<usize> = begun
            .iter()
            .skip(1)
            .map(|(_, start, _)| *start)
            .chain([log.len()])
            .collect();
        let steps = begun
            .into_iter()
            .zip(ends)
            .map(|((name, start, result), end)| StepOutcome {
                name,
                result,
                exchanges: log.get(start..end).unwrap_or_default().to_vec(),
            })
            .collect();
        SdkRun {
            program: shown,
            status,
            steps,
            output,
            stderr,
        }
    }
}

/// A program to run: like [`std::process::Command`], with an environment made only of what the
/// test gives (see the module documentation).
#[derive(Clone)]
pub struct SdkCommand {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString, bool)>,
    current_dir: Option<PathBuf>,
}

impl SdkCommand {
    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Sets a variable (shown in failure reports).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned(), false));
        self
    }

    /// Sets a variable holding a secret (a token, an API key): failure reports show its name only.
    pub fn secret_env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned(), true));
        self
    }

    /// Runs the program in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// The command line and the variables set, secret values left out.
    fn shown(&self) -> String {
        let mut shown = String::new();
        for (key, value, secret) in &self.env {
            let value = if *secret {
                "[secret]".into()
            } else {
                value.to_string_lossy()
            };
            let _ = write!(shown, "{}={} ", key.to_string_lossy(), value);
        }
        shown.push_str(&self.program.to_string_lossy());
        for arg in &self.args {
            let _ = write!(shown, " {}", arg.to_string_lossy());
        }
        shown
    }

    fn to_tokio(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for key in INHERITED_VARIABLES {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        for (key, value, _) in &self.env {
            command.env(key, value);
        }
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        command
    }
}

/// A step's values when the SDK succeeded, or the SDK's error.
pub type StepResult = Result<Map<String, Value>, Value>;

/// A line of the step protocol.
enum ProtocolLine {
    Begin(String),
    Result(String, StepResult),
}

impl ProtocolLine {
    /// The protocol line `line` is, or `None` for other output.
    ///
    /// # Panics
    ///
    /// On a JSON object with `begin` or `step` that is not a well-formed protocol line.
    fn parse(line: &str) -> Option<Self> {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
            return None;
        };
        if let Some(name) = object.get("begin") {
            let name = name.as_str().expect("`begin` names a step");
            return Some(Self::Begin(name.to_owned()));
        }
        let name = object.get("step")?.as_str().expect("`step` names a step");
        let result = match object.get("ok") {
            Some(Value::Bool(true)) => Ok(match object.get("values") {
                Some(Value::Object(values)) => values.clone(),
                None | Some(Value::Null) => Map::new(),
                Some(other) => panic!("step `{name}`: `values` is not an object: {other}"),
            }),
            Some(Value::Bool(false)) => Err(object.get("error").cloned().unwrap_or(Value::Null)),
            _ => panic!("step `{name}` has no boolean `ok`: {line}"),
        };
        Some(Self::Result(name.to_owned(), result))
    }
}

/// What one step did. Its `Debug` shows the step's name and the kind of its outcome only (the
/// values and the exchanges may hold secrets).
#[derive(Clone)]
pub struct StepOutcome {
    /// The step's name.
    pub name: String,
    /// Its values when the SDK succeeded, the SDK's error when it failed; `None` when the program
    /// began the step and never reported it (it crashed).
    pub result: Option<StepResult>,
    /// The requests the emulator received during the step, with its answers (unredacted: show
    /// them through [`Self::report`] only).
    pub exchanges: Vec<Exchange>,
}

impl std::fmt::Debug for StepOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepOutcome")
            .field("name", &self.name)
            .field("outcome", &outcome_kind(&self.result))
            .field("exchanges", &self.exchanges.len())
            .finish()
    }
}

/// `ok`, `error` or `never reported`.
fn outcome_kind(result: &Option<StepResult>) -> &'static str {
    match result {
        None => "never reported",
        Some(Ok(_)) => "ok",
        Some(Err(_)) => "error",
    }
}

impl StepOutcome {
    /// The step, the SDK's outcome and every request of the step, for a failure message (every
    /// secret redacted).
    pub fn report(&self) -> String {
        let mut report = format!("step `{}`: ", self.name);
        match &self.result {
            None => report.push_str("the program began it and never reported its outcome\n"),
            Some(Ok(values)) => {
                let _ = writeln!(
                    report,
                    "the SDK succeeded with {}",
                    redacted_json(&Value::Object(values.clone()))
                );
            }
            Some(Err(error)) => {
                let _ = writeln!(report, "the SDK raised {}", redacted_json(error));
            }
        }
        let _ = writeln!(
            report,
            "requests the emulator received during the step: {}",
            self.exchanges.len()
        );
        for request in &self.exchanges {
            report.push_str(&exchange_report(request));
        }
        report
    }
}

/// A finished program run: its steps, exit status and output. Its `Debug` shows the program, its
/// exit status and its steps' names and outcomes only.
pub struct SdkRun {
    program: String,
    status: ExitStatus,
    steps: Vec<StepOutcome>,
    output: Vec<String>,
    stderr: String,
}

impl std::fmt::Debug for SdkRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkRun")
            .field("program", &self.program)
            .field("status", &self.status)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl SdkRun {
    /// Every step the program began, in order.
    pub fn steps(&self) -> &[StepOutcome] {
        &self.steps
    }

    /// The step named `name`.
    ///
    /// # Panics
    ///
    /// When the program never began it (the message shows what it did instead).
    #[track_caller]
    pub fn step(&self, name: &str) -> &StepOutcome {
        self.steps
            .iter()
            .find(|step| step.name == name)
            .unwrap_or_else(|| panic!("no step `{name}` ran\n{}", self.summary()))
    }

    /// The values of step `name`, which must have succeeded.
    ///
    /// # Panics
    ///
    /// Unless the step ran and the SDK succeeded; the message shows the step's report.
    #[track_caller]
    pub fn ok(&self, name: &str) -> &Map<String, Value> {
        let step = self.step(name);
        match &step.result {
            Some(Ok(values)) => values,
            _ => panic!(
                "step `{name}` should have succeeded\n{}\n{}",
                step.report(),
                self.summary()
            ),
        }
    }

    /// The SDK's error of step `name`, which must have failed.
    ///
    /// # Panics
    ///
    /// Unless the step ran and the SDK raised; the message shows the step's report.
    #[track_caller]
    pub fn err(&self, name: &str) -> &Value {
        let step = self.step(name);
        match &step.result {
            Some(Err(error)) => error,
            _ => panic!(
                "step `{name}` should have failed\n{}\n{}",
                step.report(),
                self.summary()
            ),
        }
    }

    /// Panics, with a report of `step`, when `holds` is false: for checks of a step's values.
    #[track_caller]
    pub fn check(&self, step: &str, holds: bool, what: &str) {
        if !holds {
            panic!("step `{step}`: {what}\n{}", self.step(step).report());
        }
    }

    /// Panics unless the program exited successfully after running exactly `names`, in this
    /// order, and reporting each of them.
    #[track_caller]
    pub fn assert_steps(&self, names: &[&str]) {
        let ran: Vec<&str> = self.steps.iter().map(|s| s.name.as_str()).collect();
        let unreported = self.steps.iter().find(|s| s.result.is_none());
        if ran != names || unreported.is_some() || !self.status.success() {
            let mut message = format!("expected steps {names:?}\n");
            if let Some(step) = unreported {
                message.push_str(&step.report());
            }
            panic!("{message}{}", self.summary());
        }
    }

    /// The program, its exit status, the steps it ran, its other output and the end of its
    /// stderr.
    pub fn summary(&self) -> String {
        let mut text = format!("program: {}\nexit: {}\nsteps:", self.program, self.status);
        for step in &self.steps {
            let _ = write!(text, " {} ({});", step.name, outcome_kind(&step.result));
        }
        text.push('\n');
        if !self.output.is_empty() {
            let output: Vec<String> = self.output.iter().map(|l| redacted_line(l)).collect();
            let _ = writeln!(text, "other output:\n{}", output.join("\n"));
        }
        let lines: Vec<&str> = self.stderr.lines().collect();
        let shown: Vec<String> = lines[lines.len().saturating_sub(STDERR_LINES_SHOWN)..]
            .iter()
            .map(|l| redacted_line(l))
            .collect();
        if !shown.is_empty() {
            let _ = writeln!(
                text,
                "stderr (last {} lines):\n{}",
                shown.len(),
                shown.join("\n")
            );
        }
        text
    }
}

/// `program` looked up in the directories of `PATH`, or what is missing.
pub fn on_path(program: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| format!("`{program}` is not on PATH"))
}

/// `tests/sdk/<suite>` of this repository.
pub fn suite_dir(suite: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sdk")
        .join(suite)
}

/// `path` when it exists (what a suite's `setup.sh` installs), or what is missing.
pub fn installed(path: PathBuf) -> Result<PathBuf, String> {
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} is missing", path.display()))
    }
}

/// Every path of `needed`, or `None` when the suite is to be skipped because one is missing
/// ([`crate::skip`]'s rule: it fails in CI, and elsewhere unless `skip_variable=1`).
pub fn require<const N: usize>(
    suite: &str,
    skip_variable: &str,
    setup: &str,
    needed: [Result<PathBuf, String>; N],
) -> Option<[PathBuf; N]> {
    let missing: Vec<String> = needed
        .iter()
        .filter_map(|found| found.as_ref().err().cloned())
        .collect();
    if missing.is_empty() {
        return Some(needed.map(|found| found.expect("checked")));
    }
    crate::skip::missing_requirement(
        suite,
        skip_variable,
        &missing.join(", "),
        &format!("Run {setup} (CI runs .ci/setup, which runs it)."),
    );
    None
}
