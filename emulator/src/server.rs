//! Starting and stopping an emulator: the accept loop and the handle returned to callers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::base::random::random_secret;
use crate::context::Context;
use crate::http::fault_injection::DropSignal;
use crate::jwt::SigningKey;
use crate::model::app::AppRecord;
use crate::model::faults::FaultRule;
use crate::model::outbox::OutboxMessage;
use crate::model::request_log::LoggedRequest;
use crate::model::state::EmulatorState;
use crate::settings::instance::EmulatorConfig;

/// Entry point: `Emulator::start(config).await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds the listen address, loads or creates the state and serves until the handle is dropped.
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<EmulatorHandle> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let root_url = format!("http://{addr}");
        let options = config.server_options()?;
        let mut state = initial_state(&config)?;
        crate::routes::admin_users::seed_users(
            &mut state,
            &config.seed.users,
            crate::base::clock::Clock::new().now(),
        )?;
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
        let router = crate::routes::router(ctx.clone());
        let admin_token = config.admin_token.clone();
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router.clone(), shutdown_rx));
        tracing::info!(%addr, app_id = %default_app_id, "passage emulator listening");
        Ok(EmulatorHandle {
            addr,
            default_app_id,
            ctx,
            router,
            admin_token,
            shutdown: shutdown_tx,
            task: Some(task),
        })
    }
}

fn initial_state(config: &EmulatorConfig) -> anyhow::Result<EmulatorState> {
    if let Some(path) = &config.state_file {
        if let Some(mut state) = crate::store::load(path)? {
            anyhow::ensure!(!state.apps.is_empty(), "state file has no apps");
            if state.fake_provider_secret.is_empty() {
                *state.fake_provider_secret = random_secret(32);
            }
            // The configuration is the source of truth for app settings: configured apps get their
            // current settings (keeping keys, users and sessions); new ones are created.
            for app in config.effective_apps() {
                app.validate()?;
                match state.apps.get_mut(&app.id) {
                    Some(existing) => *existing.config = app,
                    None => {
                        let record = AppRecord::new(app.clone(), SigningKey::generate()?);
                        state.apps.insert(app.id, record);
                    }
                }
            }
            return Ok(state);
        }
    }
    let mut state = EmulatorState {
        fake_provider_secret: random_secret(32).into(),
        ..EmulatorState::default()
    };
    for app in config.effective_apps() {
        app.validate()?;
        anyhow::ensure!(
            !state.apps.contains_key(&app.id),
            "app id {} is configured twice",
            app.id
        );
        // Each app signs with its own key; the first one takes the process-wide key (generating RSA
        // keys is slow, and most emulators serve one app).
        let key = if state.apps.is_empty() {
            SigningKey::default_key()?
        } else {
            SigningKey::generate()?
        };
        state.apps.insert(app.id.clone(), AppRecord::new(app, key));
    }
    Ok(state)
}

/// How long a shutdown waits for requests in flight before closing their connections.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    mut shutdown: watch::Receiver<bool>,
) {
    // Connection tasks; dropping the set (when the handle is dropped) aborts them.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = shutdown.changed() => break,
        };
        let drop_signal = DropSignal::default();
        let notify = drop_signal.0.clone();
        let svc = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(drop_signal.clone());
                req
            });
        let mut conn_shutdown = shutdown.clone();
        connections.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
            tokio::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = notify.notified() => {
                    tracing::debug!("dropping connection (fault injection)");
                    return;
                }
                _ = conn_shutdown.changed() => {}
            }
            // Shutting down: finish the request in flight (if any), then close.
            conn.as_mut().graceful_shutdown();
            let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = notify.notified() => {}
                }
            })
            .await;
            if drained.is_err() {
                tracing::warn!("a request was still running when the drain timeout ended");
            }
        });
    }
    // Stop accepting, then wait for the connections to drain.
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// A running emulator; dropping it stops the server.
pub struct EmulatorHandle {
    addr: SocketAddr,
    default_app_id: String,
    ctx: Arc<Context>,
    router: axum::Router,
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
    /// over HTTP, with the configured admin token).
    pub fn admin(&self) -> crate::admin_client::AdminClient {
        crate::admin_client::AdminClient::in_process(self.router.clone(), self.admin_token.clone())
    }

    /// `http://127.0.0.1:PORT`, the emulator's root URL (for [`AdminClient::connect`](crate::admin_client::AdminClient::connect)).
    pub fn root_url(&self) -> &str {
        &self.ctx.urls.root()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL to give an API client.
    pub fn base_url(&self) -> String {
        self.ctx.urls.base_url()
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
        let needle = crate::base::identifiers::normalize_identifier(identifier);
        self.ctx
            .lock()
            .outbox
            .for_identifier(&needle)
            .cloned()
            .collect()
    }

    /// Arms a fault.
    pub fn inject_fault(&self, rule: FaultRule) {
        self.ctx.faults.add(rule);
    }

    /// Disarms all faults.
    pub fn clear_faults(&self) {
        self.ctx.faults.clear();
    }

    /// Requests that reached the API so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.ctx.request_log.list()
    }

    /// Stops accepting connections, lets requests in flight finish (up to 30 s) and waits for that.
    pub async fn shutdown(mut self) {
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
