//! Starting and stopping an emulator: its initial state (through [`crate::domain::seeding`]), the
//! state file, the listener, the intercepting proxy when configured, and the handle returned to
//! callers.
//!
//! Architecture invariant: the last layer; nothing in the crate imports it but the crate root.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::base::clock::Clock;
use crate::base::identifiers::normalize_identifier;
use crate::context::Context;
use crate::domain::seeding::{adopt_loaded_state, new_state, seed_users};
#[cfg(feature = "admin-client")]
use crate::http::InProcess;
use crate::model::exchanges::{Exchange, ExchangeRecorder};
use crate::model::faults::FaultRule;
use crate::model::outbox::OutboxMessage;
use crate::model::request_log::LoggedRequest;
use crate::model::state::EmulatorState;
use crate::proxy::{CertificateAuthority, InterceptingProxy};
use crate::settings::instance::EmulatorConfig;
use crate::settings::intercept::{InterceptConfig, PassageHost};

/// Entry point: `Emulator::start(config).await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds the listen address (and the intercepting proxy's, when `config.intercept` is set),
    /// loads or creates the state and serves until the handle is dropped.
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<EmulatorHandle> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let root_url = format!("http://{addr}");
        let options = config.server_options()?;
        let mut state = initial_state(&config)?;
        seed_users(&mut state, &config.seed.users, Clock::new().now())?;
        let default_app_id = state
            .apps
            .keys()
            .next()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no app configured"))?;
        let ctx = Arc::new(
            Context::new(state, root_url, config.state_file.clone()).with_options(options),
        );
        ctx.persist()?;
        let intercept = match &config.intercept {
            Some(settings) => Some(Intercept::start(settings, &ctx).await?),
            None => None,
        };
        let router = crate::http::router(ctx.clone());
        #[cfg(feature = "admin-client")]
        let in_process = InProcess::new(router.clone());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(crate::http::serve(listener, router, shutdown_rx));
        tracing::info!(%addr, app_id = %default_app_id, "passage emulator listening");
        Ok(EmulatorHandle {
            addr,
            default_app_id,
            ctx,
            intercept,
            #[cfg(feature = "admin-client")]
            in_process,
            #[cfg(feature = "admin-client")]
            admin_token: config.admin_token.clone(),
            shutdown: shutdown_tx,
            task: Some(task),
        })
    }
}

/// The state to start with: the state file's (when it exists and holds an app) with the configured
/// apps' settings, else a new state with the configured apps.
fn initial_state(config: &EmulatorConfig) -> anyhow::Result<EmulatorState> {
    if let Some(path) = &config.state_file {
        if let Some(state) = crate::store::load(path)? {
            return adopt_loaded_state(state, config.effective_apps());
        }
    }
    new_state(config.effective_apps())
}

/// The intercepting proxy an emulator runs, and where its CA certificate is.
struct Intercept {
    proxy: InterceptingProxy,
    ca_certificate: PathBuf,
}

impl Intercept {
    /// Loads (or creates) the CA in the state directory and starts the proxy, serving the Auth API
    /// as `auth.passage.id` and the Management API as `api.passage.id`.
    async fn start(settings: &InterceptConfig, ctx: &Arc<Context>) -> anyhow::Result<Self> {
        let ca = CertificateAuthority::load_or_create(&settings.state_dir)?;
        let hosts = PassageHost::ALL.map(|host| {
            (
                host,
                crate::http::intercepted_host_router(ctx.clone(), host),
            )
        });
        let proxy = InterceptingProxy::bind(settings.listen, &ca, hosts).await?;
        Ok(Self {
            proxy,
            ca_certificate: ca.certificate_path().to_owned(),
        })
    }
}

/// A running emulator; dropping it stops the server (and the intercepting proxy).
pub struct EmulatorHandle {
    addr: SocketAddr,
    default_app_id: String,
    ctx: Arc<Context>,
    intercept: Option<Intercept>,
    /// The router, for the in-process admin client.
    #[cfg(feature = "admin-client")]
    in_process: InProcess,
    #[cfg(feature = "admin-client")]
    admin_token: Option<String>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.addr)
            .field("default_app_id", &self.default_app_id)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// A typed admin API client calling this emulator in-process (no socket; the same handlers as
    /// over HTTP, with the configured admin token). Needs the `admin-client` feature.
    #[cfg(feature = "admin-client")]
    pub fn admin(&self) -> crate::admin_client::AdminClient {
        let in_process = self.in_process.clone();
        crate::admin_client::AdminClient::in_process(
            Arc::new(move |request| {
                let in_process = in_process.clone();
                Box::pin(async move { in_process.call(request).await })
            }),
            self.admin_token.clone(),
        )
    }

    /// `http://127.0.0.1:PORT`, the emulator's root URL (for `AdminClient::connect`).
    pub fn root_url(&self) -> &str {
        self.ctx.urls.root()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL to give an Auth API client.
    pub fn base_url(&self) -> String {
        self.ctx.urls.base_url()
    }

    /// `http://127.0.0.1:PORT/management/v1`, the base URL to give a Management API client (with
    /// one of the app's API keys as bearer token; see [`crate::DEFAULT_API_KEY`]).
    pub fn management_base_url(&self) -> String {
        self.ctx.urls.management_base_url()
    }

    /// `http://127.0.0.1:PORT` of the intercepting proxy (a client's `HTTPS_PROXY`), when
    /// configured.
    pub fn proxy_url(&self) -> Option<String> {
        self.intercept.as_ref().map(|i| i.proxy.proxy_url())
    }

    /// The intercepting proxy's CA certificate (PEM), which its clients must trust, when
    /// configured.
    pub fn ca_certificate_path(&self) -> Option<&Path> {
        self.intercept.as_ref().map(|i| i.ca_certificate.as_path())
    }

    /// `http://127.0.0.1:PORT/_emulator`, the admin API.
    pub fn admin_url(&self) -> String {
        format!("{}/_emulator", self.ctx.urls.root())
    }

    /// Id of the first (by default the only) app.
    pub fn default_app_id(&self) -> &str {
        &self.default_app_id
    }

    /// Ids of all served apps.
    pub fn app_ids(&self) -> Vec<String> {
        self.ctx.lock().apps.keys().cloned().collect()
    }

    /// Moves the emulator clock forward; returns the new emulator time (Unix seconds).
    pub fn advance_clock(&self, seconds: i64) -> i64 {
        self.ctx.clock.advance(seconds)
    }

    /// Current emulator time (Unix seconds).
    pub fn now(&self) -> i64 {
        self.ctx.clock.now()
    }

    /// Messages sent to `identifier` (oldest first).
    pub fn outbox(&self, identifier: &str) -> Vec<OutboxMessage> {
        let needle = normalize_identifier(identifier);
        self.ctx
            .lock()
            .outbox
            .for_identifier(&needle)
            .cloned()
            .collect()
    }

    /// Arms a fault.
    ///
    /// # Panics
    ///
    /// When the rule cannot be armed ([`FaultRule::check`]: a zero count, a delay over ten
    /// minutes, a status a client cannot receive with a body): a mistake in the calling test.
    pub fn inject_fault(&self, rule: FaultRule) {
        if let Err(e) = rule.check() {
            panic!("invalid fault rule: {e}");
        }
        self.ctx.faults.add(rule);
    }

    /// Disarms all faults.
    pub fn clear_faults(&self) {
        self.ctx.faults.clear();
    }

    /// Sends every answer a [`FaultKind::HoldAfterProcessing`] fault holds now.
    ///
    /// [`FaultKind::HoldAfterProcessing`]: crate::model::faults::FaultKind::HoldAfterProcessing
    pub fn release_held_answers(&self) {
        self.ctx.faults.release_held();
    }

    /// How many answers held by a [`FaultKind::HoldAfterProcessing`] fault went out because the
    /// hold ran out its limit (not released, and their client still waiting): a test asserts it
    /// is 0 to show that a client gave up on a held answer instead of waiting for it.
    ///
    /// [`FaultKind::HoldAfterProcessing`]: crate::model::faults::FaultKind::HoldAfterProcessing
    pub fn held_answers_expired(&self) -> usize {
        self.ctx.faults.holds_expired()
    }

    /// Waits until at least `count` answers are held by a
    /// [`FaultKind::HoldAfterProcessing`] fault (their handlers have run).
    ///
    /// [`FaultKind::HoldAfterProcessing`]: crate::model::faults::FaultKind::HoldAfterProcessing
    pub async fn answers_held(&self, count: usize) {
        let mut held = self.ctx.faults.held_answers();
        // The sender lives in the emulator's context, which this handle keeps alive.
        let _ = held.wait_for(|n| *n >= count).await;
    }

    /// Requests that reached the API so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.ctx.request_log.list()
    }

    /// Whether this emulator records every API exchange ([`EmulatorConfig::record_exchanges`]).
    pub fn records_exchanges(&self) -> bool {
        self.ctx.options.record_exchanges
    }

    /// Every request that reached the Auth or Management API since the last
    /// [`take_exchanges`](Self::take_exchanges), with its whole answer, oldest first; empty unless
    /// [`EmulatorConfig::record_exchanges`] is on. Unlike [`requests`](Self::requests), neither
    /// `POST /_emulator/reset` nor `DELETE /_emulator/requests` clears it.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.ctx.exchanges.list()
    }

    /// Removes and returns the recorded exchanges ([`exchanges`](Self::exchanges)). A test harness
    /// that checks them (`passage_conformance::CheckedEmulator`) takes them itself: under it, read
    /// them with `CheckedEmulator::exchanges`, which keeps them.
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        self.ctx.exchanges.take()
    }

    /// The exchange recorder itself, which outlives the handle: the exchanges of requests that were
    /// still in flight when [`shutdown`](Self::shutdown) began are in it once that returns.
    pub fn exchange_recorder(&self) -> Arc<ExchangeRecorder> {
        Arc::clone(&self.ctx.exchanges)
    }

    /// Stops accepting connections, lets requests in flight finish (up to 30 s) and waits for that;
    /// the intercepting proxy closes its tunnels at once.
    pub async fn shutdown(mut self) {
        if let Some(intercept) = self.intercept.take() {
            intercept.proxy.shutdown().await;
        }
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
