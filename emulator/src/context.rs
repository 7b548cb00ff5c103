//! The shared runtime context of the handlers: the state behind its lock, the clock, the armed
//! faults, the request log and the exchange recorder, the instance settings, and the
//! mutate-and-commit protocol that writes each mutation's changes to the state file before its
//! request is answered.
//!
//! Architecture invariant: imports only earlier layers (base to store); no axum.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::base::api_error::ApiError;
use crate::base::clock::Clock;
use crate::domain::pruning::Pruner;
use crate::model::exchanges::ExchangeRecorder;
use crate::model::faults::FaultRegistry;
use crate::model::request_log::RequestLog;
use crate::model::state::EmulatorState;
use crate::settings::instance::ServerOptions;
use crate::settings::urls::Urls;
use crate::store::{Commit, CommitFailed, Store, Writer};

/// The runtime context every handler shares (as `Arc<Context>`).
pub struct Context {
    state: Mutex<EmulatorState>,
    /// The injectable clock.
    pub clock: Clock,
    /// Armed faults.
    pub faults: FaultRegistry,
    /// Requests that reached the API (not admin calls).
    pub request_log: RequestLog,
    /// The same requests with their whole answers, kept only when
    /// [`ServerOptions::record_exchanges`] is on.
    pub exchanges: Arc<ExchangeRecorder>,
    /// The emulator's URLs (root, API base, token issuers).
    pub urls: Urls,
    /// The state file (SQLite), when there is one.
    pub state_file: Option<PathBuf>,
    /// Instance-wide settings (CORS, ...).
    pub options: ServerOptions,
    /// When to forget expired records.
    pruner: Pruner,
    /// The thread writing the open state file (set by [`Context::persist`]).
    writer: std::sync::OnceLock<Writer>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The context of an emulator at `root_url` (`http://127.0.0.1:PORT`) with `state`.
    pub fn new(state: EmulatorState, root_url: String, state_file: Option<PathBuf>) -> Self {
        let options = ServerOptions::default();
        Self {
            urls: Urls::new(root_url, options.token_issuer),
            state: Mutex::new(state),
            clock: Clock::new(),
            faults: FaultRegistry::default(),
            request_log: RequestLog::default(),
            exchanges: Arc::new(ExchangeRecorder::default()),
            state_file,
            options,
            pruner: Pruner::default(),
            writer: std::sync::OnceLock::new(),
        }
    }

    /// Sets the instance-wide settings.
    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.urls = Urls::new(self.urls.root(), options.token_issuer);
        self.options = options;
        self
    }

    /// Locks the state for reading (a change made through the guard is not committed to the state
    /// file until the next [`Context::mutate`]).
    pub fn lock(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a mutation under the lock; with a state file, returns only once what it changed is
    /// committed (a 500 `internal_server_error` when that commit failed).
    ///
    /// The changes (the changed records' JSON) are taken and queued for the [`Writer`] under the
    /// state lock, so they are committed in mutation order; the commit and the wait run after the
    /// lock is released, and the writer commits every mutation queued meanwhile in one
    /// transaction. A mutation that changed nothing still waits for the changes queued before it,
    /// so no answer depends on a change that is not in the file yet.
    pub async fn mutate<T>(
        &self,
        f: impl FnOnce(&mut EmulatorState) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (out, commit) = self.apply(f);
        if let Some(commit) = commit {
            commit
                .wait()
                .await
                .map_err(|CommitFailed| ApiError::internal("could not write the state file"))?;
        }
        out
    }

    /// The in-memory half of [`Context::mutate`]: runs `f`, then queues its changes.
    fn apply<T>(
        &self,
        f: impl FnOnce(&mut EmulatorState) -> Result<T, ApiError>,
    ) -> (Result<T, ApiError>, Option<Commit>) {
        // The buffer is taken before the state lock (it has a lock of its own).
        let writer = self.writer.get().map(|w| (w, w.buffer()));
        let mut guard = self.lock();
        let out = f(&mut guard);
        self.pruner.after_mutation(&mut guard, self.clock.now());
        let commit = match writer {
            Some((writer, mut changes)) => {
                guard.drain_changes_into(true, &mut changes);
                Some(writer.submit(changes))
            }
            None => {
                guard.drain_changes(false);
                None
            }
        };
        drop(guard);
        (out, commit)
    }

    /// Opens the state file (if one is configured), writes the state's changes to it (only the
    /// changed settings when it was loaded from that file, everything when the file is new) and
    /// starts its [`Writer`].
    pub fn persist(&self) -> anyhow::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let mut guard = self.lock();
        let mut store = Store::open(path)?;
        if store.has_apps()? {
            store.apply(guard.drain_changes(true).iter())?;
        } else {
            store.replace_all(&guard)?;
            guard.drain_changes(false);
        }
        self.writer
            .set(Writer::start(store)?)
            .map_err(|_| anyhow::anyhow!("the state file is already open"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::enums::UserStatus;
    use crate::jwt::SigningKey;
    use crate::model::app::AppRecord;
    use crate::settings::app::AppConfig;

    #[tokio::test]
    async fn state_file_roundtrip_is_complete_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        assert!(crate::store::load(&path).unwrap().is_none());
        let mut state = EmulatorState::default();
        let mut app = AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap());
        let mut user = crate::domain::accounts::new_user(
            crate::base::identifiers::IdentifierKind::Email,
            "ada@example.com",
            UserStatus::Active,
            1,
        );
        user.id = "u1".into();
        app.users.insert(user.id.clone(), user);
        *state.fake_provider_secret = "provider".into();
        state.apps.insert("a".into(), app);
        let shared = Context::new(state, "http://127.0.0.1:1".into(), Some(path.clone()));
        shared.persist().unwrap();
        shared
            .mutate(|s| {
                let app = s.app_mut("a")?;
                app.users.get_mut("u1").unwrap().login_count = 7;
                Ok(())
            })
            .await
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = crate::store::load(&path).unwrap().unwrap();
        let app = &loaded.apps["a"];
        assert_eq!(app.keys[0].kid, shared.lock().apps["a"].keys[0].kid);
        assert_eq!(app.users["u1"].login_count, 7);
        assert_eq!(*loaded.fake_provider_secret, "provider");
        assert_eq!(
            app.find_user_by_identifier("Ada@Example.com")
                .map(|u| u.id.as_str()),
            Some("u1")
        );
    }
}
