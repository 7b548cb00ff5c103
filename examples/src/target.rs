//! [`Target`]: where an example runs — the emulator started in-process, or a real deployment
//! named by `PASSAGE_APP_ID` / `PASSAGE_BASE_URL` — and how it gets what only a user can provide.

use std::io::BufRead as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use passage_auth_client::{Client, ClientBuilder, Clock, ManualClock, SecretValue};
use passage_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

use crate::steps::{emit, emit_inline};

/// Base URL used with `PASSAGE_APP_ID` when `PASSAGE_BASE_URL` is not set.
pub const DEFAULT_REMOTE_BASE_URL: &str = "https://auth.passage.id/v1";

/// Management API base URL used with `PASSAGE_APP_ID` when `PASSAGE_MANAGEMENT_BASE_URL` is not
/// set.
pub const DEFAULT_REMOTE_MANAGEMENT_BASE_URL: &str = "https://api.passage.id/v1";

/// The API an example talks to.
#[derive(Debug)]
pub struct Target {
    base_url: String,
    app_id: String,
    emulator: Option<Arc<EmulatorHandle>>,
}

impl Target {
    /// With `PASSAGE_APP_ID` set (and non-empty): that app at `PASSAGE_BASE_URL`
    /// (default [`DEFAULT_REMOTE_BASE_URL`]). Otherwise: an emulator started in-process.
    pub async fn from_env() -> anyhow::Result<Self> {
        match std::env::var("PASSAGE_APP_ID") {
            Ok(app_id) if !app_id.trim().is_empty() => {
                let base_url = std::env::var("PASSAGE_BASE_URL")
                    .ok()
                    .filter(|u| !u.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_REMOTE_BASE_URL.to_owned());
                let target = Self::remote(base_url, app_id.trim());
                emit(&format!(
                    "Target: app {} at {} (PASSAGE_APP_ID is set)",
                    target.app_id, target.base_url
                ));
                Ok(target)
            }
            _ => {
                let target = Self::emulated().await?;
                emit(&format!(
                    "Target: the Passage emulator, started in-process at {} (app {}).\n        \
                     Set PASSAGE_APP_ID (and PASSAGE_BASE_URL) to run against a real deployment.",
                    target.base_url, target.app_id
                ));
                Ok(target)
            }
        }
    }

    /// Starts an emulator on a free loopback port with its ready-made app.
    pub async fn emulated() -> anyhow::Result<Self> {
        let emulator = Emulator::start(EmulatorConfig::default())
            .await
            .context("starting the emulator")?;
        Ok(Self::with_emulator(Arc::new(emulator)))
    }

    /// A running emulator (shared, e.g. one a test harness checks), with its ready-made app.
    pub fn with_emulator(emulator: Arc<EmulatorHandle>) -> Self {
        Self {
            base_url: emulator.base_url(),
            app_id: emulator.default_app_id().to_owned(),
            emulator: Some(emulator),
        }
    }

    /// A real deployment: `app_id` at `base_url` (e.g. `https://auth.passage.id/v1`).
    pub fn remote(base_url: impl Into<String>, app_id: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            app_id: app_id.into(),
            emulator: None,
        }
    }

    /// The API base URL (ending in `/v1`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The in-process emulator, when this target is one.
    pub fn emulator(&self) -> Option<&EmulatorHandle> {
        self.emulator.as_deref()
    }

    /// True when the target is the in-process emulator.
    pub fn is_emulated(&self) -> bool {
        self.emulator.is_some()
    }

    /// A client for the target with the default settings (timeouts, retries of idempotent calls).
    pub fn client(&self) -> anyhow::Result<Client> {
        Ok(ClientBuilder::new()
            .base_url(self.base_url.as_str())
            .build()?)
    }

    /// A Management API client for the target's back end: the emulator's Management API with its
    /// default API key, or `PASSAGE_MANAGEMENT_BASE_URL` (default
    /// [`DEFAULT_REMOTE_MANAGEMENT_BASE_URL`]) with the key in `PASSAGE_API_KEY`.
    pub fn management_client(&self) -> anyhow::Result<passage_management_client::Client> {
        let (base_url, api_key) = match self.emulator() {
            Some(emulator) => (
                emulator.management_base_url(),
                passage_emulator::DEFAULT_API_KEY.to_owned(),
            ),
            None => {
                let base_url = std::env::var("PASSAGE_MANAGEMENT_BASE_URL")
                    .ok()
                    .filter(|u| !u.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_REMOTE_MANAGEMENT_BASE_URL.to_owned());
                let api_key = std::env::var("PASSAGE_API_KEY")
                    .ok()
                    .filter(|k| !k.trim().is_empty())
                    .context(
                        "PASSAGE_API_KEY (the app's API key) is needed for the Management API",
                    )?;
                (base_url, api_key)
            }
        };
        Ok(passage_management_client::ClientBuilder::new()
            .base_url(base_url)
            .api_key(api_key)
            .build()?)
    }

    /// The user's identifier: `default` with the emulator; otherwise `PASSAGE_IDENTIFIER` or a
    /// prompt.
    pub async fn identifier(&self, default: &str) -> anyhow::Result<String> {
        if self.is_emulated() {
            return Ok(default.to_owned());
        }
        if let Ok(id) = std::env::var("PASSAGE_IDENTIFIER") {
            if !id.trim().is_empty() {
                return Ok(id.trim().to_owned());
            }
        }
        prompt("E-mail address (or E.164 phone number) to sign in with: ").await
    }

    /// The passcode of `otp_id` sent to `identifier`: read from the emulator's outbox, or typed
    /// by the user.
    pub async fn passcode(&self, identifier: &str, otp_id: &str) -> anyhow::Result<SecretValue> {
        match self.emulator() {
            Some(emulator) => {
                let message = emulator
                    .outbox(identifier)
                    .into_iter()
                    .rev()
                    .find(|m| m.otp_id.as_deref() == Some(otp_id))
                    .with_context(|| format!("no passcode for {identifier} in the outbox"))?;
                let otp = message.otp.context("outbox message without a passcode")?;
                Ok(SecretValue::new(otp))
            }
            None => {
                let otp = prompt(&format!("Passcode sent to {identifier}: ")).await?;
                Ok(SecretValue::new(otp))
            }
        }
    }

    /// The secret of the magic link `magic_link_id` sent to `identifier`, from the emulator's
    /// outbox (`None` for a real deployment: there the user opens the link).
    pub fn magic_link_secret(
        &self,
        identifier: &str,
        magic_link_id: &str,
    ) -> anyhow::Result<Option<SecretValue>> {
        let Some(emulator) = self.emulator() else {
            return Ok(None);
        };
        let message = emulator
            .outbox(identifier)
            .into_iter()
            .rev()
            .find(|m| m.magic_link_id.as_deref() == Some(magic_link_id))
            .with_context(|| format!("no magic link for {identifier} in the outbox"))?;
        let secret = message
            .magic_link_secret
            .context("outbox message without a link secret")?;
        Ok(Some(SecretValue::new(secret)))
    }

    /// How many requests with `method` whose path ends with `path_suffix` reached the emulator
    /// (`None` for a real deployment).
    pub fn request_count(&self, method: &str, path_suffix: &str) -> Option<usize> {
        self.emulator().map(|emulator| {
            emulator
                .requests()
                .iter()
                .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.ends_with(path_suffix))
                .count()
        })
    }

    /// A clock for client-side expiry decisions: the emulator's clock (so that
    /// [`SharedClock::advance`] moves client and server together), or, for a real deployment, a
    /// manual clock starting now that only this process sees move.
    pub fn clock(&self) -> SharedClock {
        match &self.emulator {
            Some(emulator) => SharedClock::Emulator(Arc::clone(emulator)),
            None => SharedClock::Manual(Arc::new(ManualClock::new(SystemTime::now()))),
        }
    }
}

/// A [`Clock`] that follows the emulator, or a [`ManualClock`] for a real deployment.
#[derive(Debug, Clone)]
pub enum SharedClock {
    /// The emulator's injectable clock (Unix seconds).
    Emulator(Arc<EmulatorHandle>),
    /// A local manual clock (the server's clock cannot be moved).
    Manual(Arc<ManualClock>),
}

impl SharedClock {
    /// Moves time forward by `seconds` (the emulator's clock, or the local one).
    pub fn advance(&self, seconds: u64) {
        match self {
            SharedClock::Emulator(emulator) => {
                emulator.advance_clock(i64::try_from(seconds).unwrap_or(i64::MAX));
            }
            SharedClock::Manual(clock) => clock.advance(Duration::from_secs(seconds)),
        }
    }

    /// For a local manual clock: back to the real time (after a refresh, the real server's new
    /// token is only valid in real time). The emulator's clock is left alone.
    pub fn resync(&self) {
        if let SharedClock::Manual(clock) = self {
            clock.set(SystemTime::now());
        }
    }

    /// The current time in Unix seconds.
    pub fn unix_now(&self) -> i64 {
        match self.now().duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}

impl Clock for SharedClock {
    fn now(&self) -> SystemTime {
        match self {
            SharedClock::Emulator(emulator) => {
                let secs = u64::try_from(emulator.now()).unwrap_or(0);
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
            }
            SharedClock::Manual(clock) => clock.now(),
        }
    }
}

/// Prints `question` and reads one trimmed line from stdin (on a plain thread, so that an
/// unanswered prompt never keeps the process alive).
pub async fn prompt(question: &str) -> anyhow::Result<String> {
    let rx = read_line_in_background(question);
    let line = rx.await.context("stdin closed")?.context("reading stdin")?;
    anyhow::ensure!(!line.is_empty(), "no answer given");
    Ok(line)
}

/// Prints `question` and starts reading one line from stdin on a detached thread.
pub fn read_line_in_background(
    question: &str,
) -> tokio::sync::oneshot::Receiver<std::io::Result<String>> {
    emit_inline(question);
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let result = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|_| line.trim().to_owned());
        let _ = tx.send(result);
    });
    rx
}

/// The `exp` claim of a JWT, read without verifying it (for display only).
pub fn unverified_expiry(token: &str) -> Option<i64> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}
