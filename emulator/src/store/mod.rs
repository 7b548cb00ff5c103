//! The `--state-file`: an SQLite database (WAL journal) updated in O(change) per mutation.
//!
//! Records live in one table keyed by (app, kind, key) with their JSON as the value; each app's
//! settings and keys are one row (written only when they changed), and a few values (the fake
//! provider's secret) are `meta` rows. One thread, the [`Writer`], owns the connection: it commits
//! the changes of all the mutations queued while its previous commit ran in one transaction (group
//! commit), and a mutation's response is sent only after the commit holding its changes, so an
//! acknowledged write survives the process being killed at any moment; with
//! `synchronous = NORMAL` in WAL mode a commit needs no `fsync` (only an operating-system crash or
//! power loss could lose the last commits). The file is created readable by its owner only (0600),
//! and the journal files SQLite creates beside it take the same mode.
//!
//! Not stored: WebAuthn handshakes in progress and the outbox (messages "sent" by a previous run:
//! they hold passcodes and link secrets in clear). Refresh tokens are stored by their SHA-256
//! digest and magic links by the digest of their secret.

mod table;
mod writer;

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};

pub use table::{Change, Changes, Table, Tracked};
pub use writer::{Commit, CommitFailed, Writer};

use crate::state::{AppHeader, AppRecord, State};

/// An open state file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS apps (id TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS records (
        app TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
        PRIMARY KEY (app, kind, key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
";

impl Store {
    /// Opens (creating it, mode 0600, when missing) the state file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        create_private(path)?;
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the state file {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("{} is not an emulator state file", path.display()))?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    /// Another connection to the same file.
    pub fn reopen(&self) -> anyhow::Result<Self> {
        Self::open(&self.path)
    }

    /// Stops SQLite from checkpointing the journal when a commit makes it long (the [`Writer`]
    /// has it done by another connection, see [`Store::checkpoint`]).
    pub fn disable_automatic_checkpoints(&self) -> anyhow::Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copies the journal's committed pages into the database, without blocking the connection
    /// that writes (a passive checkpoint); returns the number of journal pages not copied yet.
    /// When none is left, the next commit starts the journal again from its beginning.
    pub fn checkpoint(&self) -> anyhow::Result<i64> {
        let (pages, copied) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?;
        Ok(pages - copied)
    }

    /// Whether the file holds an app (it is not new).
    pub fn has_apps(&self) -> anyhow::Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM apps LIMIT 1", [], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Reads the whole state (`None` when the file has no app yet).
    pub fn load(&self) -> anyhow::Result<Option<State>> {
        let mut state = State::default();
        {
            let mut apps = self.conn.prepare("SELECT id, value FROM apps")?;
            let rows = apps.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            for row in rows {
                let (id, value) = row?;
                let header: AppHeader = serde_json::from_slice(&value)
                    .with_context(|| format!("app {id} in the state file is unreadable"))?;
                state.apps.insert(id, AppRecord::from_header(header));
            }
        }
        if state.apps.is_empty() {
            return Ok(None);
        }
        let mut records = self
            .conn
            .prepare("SELECT app, kind, key, value FROM records")?;
        let rows = records.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })?;
        for row in rows {
            let (app, kind, key, value) = row?;
            if kind == "social_flows" {
                state
                    .social_flows
                    .insert(key, serde_json::from_slice(&value)?);
            } else if let Some(record) = state.apps.get_mut(&app) {
                record
                    .load_record(&kind, key, &value)
                    .with_context(|| format!("a {kind} record of app {app} is unreadable"))?;
            }
        }
        drop(records);
        if let Some(secret) = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'fake_provider_secret'",
                [],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .optional()?
        {
            *state.fake_provider_secret = String::from_utf8(secret)?;
        }
        // Loading is not a change.
        state.drain_changes(false);
        for app in state.apps.values_mut() {
            app.rebuild_index();
        }
        Ok(Some(state))
    }

    /// Writes `changes` in one transaction.
    pub fn apply<'a>(
        &mut self,
        changes: impl IntoIterator<Item = Change<'a>>,
    ) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO records (app, kind, key, value) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut delete =
                tx.prepare_cached("DELETE FROM records WHERE app = ?1 AND kind = ?2 AND key = ?3")?;
            let mut put_app =
                tx.prepare_cached("INSERT OR REPLACE INTO apps (id, value) VALUES (?1, ?2)")?;
            let mut put_meta =
                tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
            for change in changes {
                match (change.kind, change.value) {
                    ("app", Some(value)) => {
                        put_app.execute(params![change.app, value])?;
                    }
                    ("meta", Some(value)) => {
                        put_meta.execute(params![change.key, value])?;
                    }
                    (kind, Some(value)) => {
                        put.execute(params![change.app, kind, change.key, value])?;
                    }
                    (kind, None) => {
                        delete.execute(params![change.app, kind, change.key])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces everything stored by `state` (at start-up).
    pub fn replace_all(&mut self, state: &State) -> anyhow::Result<()> {
        self.conn
            .execute_batch("DELETE FROM records; DELETE FROM apps; DELETE FROM meta;")?;
        self.apply(state.all_changes().iter())
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}
