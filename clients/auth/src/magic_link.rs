//! Waiting for a magic link to be activated: [`MagicLinkExt::wait_for_magic_link`]
//! polls `POST magic-link/status` under a [`PollPolicy`] until the user clicks
//! the link, the deadline passes, or the wait is cancelled.
//!
//! The waiter never reads or writes stored tokens: it only returns the
//! [`AuthResult`] of the activated link.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::open_enums::ApiErrorCode;
use crate::poll::{classify, Failure, PollPolicy};
use crate::types::{AuthResult, GetMagicLinkStatusRequest};
use crate::{Client, CredentialsExt, Error, RetryPolicy};

/// Why a wait ended without a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The deadline of the [`PollPolicy`] passed before the link was activated.
    #[error("the magic link was not activated within {elapsed:?} ({attempts} attempts)")]
    ExceededMaxWait {
        /// How many status requests were made.
        attempts: u32,
        /// Time since the first attempt.
        elapsed: Duration,
    },
    /// The server answered with an error that polling cannot fix (e.g. 400, 401, 403, a 404 other than `magic_link_not_found`).
    #[error("waiting for the magic link failed: {0}")]
    Failed(#[source] Error),
    /// The wait's cancellation token was cancelled.
    #[error("waiting for the magic link was cancelled")]
    Cancelled,
}

/// What the last attempt of a wait found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The link is not activated yet (`404 magic_link_not_found`).
    Pending,
    /// A transient failure: a 5xx or 429 status (`Some`) or a transport error (`None`).
    Transient(Option<StatusCode>),
}

/// Progress of a wait, after each attempt that did not end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitProgress {
    /// Attempts made so far (1 after the first).
    pub attempts: u32,
    /// Time since the first attempt.
    pub elapsed: Duration,
    /// The delay before the next attempt.
    pub next_delay: Duration,
    /// What the last attempt found.
    pub outcome: AttemptOutcome,
}

type ProgressCallback = Arc<dyn Fn(&WaitProgress) + Send + Sync>;

/// Adds [`wait_for_magic_link`](MagicLinkExt::wait_for_magic_link) to [`Client`].
pub trait MagicLinkExt {
    /// Polls the status of the magic link `magic_link_id` (the `magic_link.id`
    /// returned when it was sent) until it is activated.
    ///
    /// The returned [`MagicLinkWait`] is configured with builder methods and
    /// awaited directly; dropping it stops the polling.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use passage_auth_client::{ClientBuilder, MagicLinkExt, PollPolicy};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/v1").build()?;
    /// let auth = client
    ///     .wait_for_magic_link("my-app-id", "magic-link-id")
    ///     .policy(PollPolicy::default().max_wait(Duration::from_secs(120)))
    ///     .on_progress(|p| eprintln!("attempt {}, next in {:?}", p.attempts, p.next_delay))
    ///     .await?;
    /// # let _ = auth;
    /// # Ok(())
    /// # }
    /// ```
    fn wait_for_magic_link(
        &self,
        app_id: impl Into<String>,
        magic_link_id: impl Into<String>,
    ) -> MagicLinkWait<'_>;
}

impl MagicLinkExt for Client {
    fn wait_for_magic_link(
        &self,
        app_id: impl Into<String>,
        magic_link_id: impl Into<String>,
    ) -> MagicLinkWait<'_> {
        MagicLinkWait {
            client: self,
            app_id: app_id.into(),
            magic_link_id: magic_link_id.into(),
            policy: PollPolicy::default(),
            on_progress: None,
            cancel: None,
        }
    }
}

/// A configured wait for a magic link; `.await` it.
#[must_use = "a wait does nothing until it is awaited"]
pub struct MagicLinkWait<'a> {
    client: &'a Client,
    app_id: String,
    magic_link_id: String,
    policy: PollPolicy,
    on_progress: Option<ProgressCallback>,
    cancel: Option<CancellationToken>,
}

impl fmt::Debug for MagicLinkWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MagicLinkWait")
            .field("app_id", &self.app_id)
            .field("magic_link_id", &self.magic_link_id)
            .field("policy", &self.policy)
            .field("on_progress", &self.on_progress.is_some())
            .field("cancellable", &self.cancel.is_some())
            .finish()
    }
}

impl<'a> MagicLinkWait<'a> {
    /// The polling policy (default: [`PollPolicy::default`]).
    pub fn policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Called after every attempt that did not end the wait.
    pub fn on_progress(mut self, callback: impl Fn(&WaitProgress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Ends the wait with [`WaitError::Cancelled`] when `token` is cancelled.
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Runs the wait (the same as awaiting `self`).
    pub async fn wait(self) -> Result<AuthResult, WaitError> {
        let cancel = self.cancel.clone().unwrap_or_default();
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                tracing::debug!("magic-link wait cancelled");
                Err(WaitError::Cancelled)
            }
            result = self.run() => result,
        }
    }

    async fn run(self) -> Result<AuthResult, WaitError> {
        let start = Instant::now();
        let deadline = passage_runtime::backoff::instant_after(start, self.policy.max_wait_value());
        let mut attempts: u32 = 0;
        // The waiter spaces its own attempts: no retries inside one.
        let client = self.client.with_retry_policy(RetryPolicy::none());
        loop {
            attempts = attempts.saturating_add(1);
            let result = client
                .magic_link_status()
                .app_id(self.app_id.as_str())
                .body(GetMagicLinkStatusRequest::builder().id(self.magic_link_id.clone()))
                .send()
                .await;
            let (outcome, minimum) = match result {
                Ok(response) => {
                    tracing::debug!(attempts, "magic link activated");
                    return Ok(response.into_inner().auth_result);
                }
                Err(e) => {
                    let error = e;
                    if error.status() == Some(StatusCode::NOT_FOUND)
                        && error.code() == Some(&ApiErrorCode::MagicLinkNotFound)
                    {
                        (AttemptOutcome::Pending, None)
                    } else {
                        match classify(&error) {
                            Failure::Transient(retry_after) => {
                                tracing::debug!(attempts, error = %error, "transient failure while polling");
                                (AttemptOutcome::Transient(error.status()), retry_after)
                            }
                            Failure::Fatal => {
                                tracing::debug!(attempts, error = %error, "magic-link wait failed");
                                return Err(WaitError::Failed(error));
                            }
                        }
                    }
                }
            };
            let now = Instant::now();
            let elapsed = now - start;
            if now >= deadline {
                tracing::debug!(attempts, ?elapsed, "magic-link wait exceeded its deadline");
                return Err(WaitError::ExceededMaxWait { attempts, elapsed });
            }
            let wanted = self
                .policy
                .delay_after(attempts)
                .max(minimum.unwrap_or(Duration::ZERO));
            let next_delay = wanted.min(deadline.saturating_duration_since(now));
            let progress = WaitProgress {
                attempts,
                elapsed,
                next_delay,
                outcome,
            };
            tracing::debug!(
                attempts,
                ?next_delay,
                ?outcome,
                "magic link not activated yet"
            );
            if let Some(callback) = &self.on_progress {
                callback(&progress);
            }
            tokio::time::sleep(next_delay).await;
        }
    }
}

impl<'a> IntoFuture for MagicLinkWait<'a> {
    type Output = Result<AuthResult, WaitError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}
