//! The `--state-file`: an SQLite database (WAL journal) updated in O(change) per mutation.
//!
//! Records live in one table with their JSON as the value, each row numbered in the order its
//! record was first written: a new record goes at the end of the table, so the records a flow
//! creates (passcodes, refresh tokens, families) share the last pages instead of each landing on
//! a page of its own, as they did under a random key. The store keeps, in memory, which row holds
//! which (app, kind, key), and updates and deletes rows by number. Each app's settings and keys
//! are one row of `apps` (written only when they changed), and a few values (the fake provider's
//! secret) are `meta` rows. One thread, the [`Writer`], owns the connection: it commits
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
//!
//! Architecture invariant: the store imports the model (what to write and how to read it back),
//! never the reverse; no axum.

mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};

pub use writer::{Commit, CommitFailed, Writer};

use crate::model::app::{AppHeader, AppRecord};
use crate::model::tracking::Change;

use crate::model::state::EmulatorState;

/// An open state file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Which row holds each record (see [`row_key`]), read from the file at the first write.
    rows: Option<HashMap<String, i64>>,
    /// The number of the next new row.
    next_row: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS apps (id TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS records (
        id INTEGER PRIMARY KEY,
        app TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
";

/// A file of the first layout keyed its records by (app, kind, key) in a `WITHOUT ROWID` table;
/// it is renamed, [`SCHEMA`] creates the numbered table, and its rows are copied over once, when
/// such a file is opened.
const MIGRATE_KEYED_RECORDS: [&str; 2] = [
    "ALTER TABLE records RENAME TO keyed_records;",
    "INSERT INTO records (app, kind, key, value) SELECT app, kind, key, value FROM keyed_records;
     DROP TABLE keyed_records;",
];

/// The in-memory index's key of a record: unambiguous whatever the ids contain.
fn row_key(out: &mut String, app: &str, kind: &str, key: &str) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "{}:{app}{}:{kind}{key}", app.len(), kind.len());
}

impl Store {
    /// Opens (creating it, mode 0600, when missing) the state file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        create_private(path)?;
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the state file {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -65536)?;
        let not_ours = || format!("{} is not an emulator state file", path.display());
        let keyed: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'records'",
                [],
                |r| r.get(0),
            )
            .optional()
            .with_context(not_ours)?;
        if keyed.is_some_and(|sql| sql.contains("WITHOUT ROWID")) {
            let [rename, copy] = MIGRATE_KEYED_RECORDS;
            conn.execute_batch(&format!("BEGIN; {rename} {SCHEMA} {copy} COMMIT;"))
                .with_context(|| format!("cannot convert the records of {}", path.display()))?;
        }
        conn.execute_batch(SCHEMA).with_context(not_ours)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
            rows: None,
            next_row: 1,
        })
    }

    /// Reads which row holds each record (once, before the first write).
    fn index_rows(&mut self) -> anyhow::Result<()> {
        if self.rows.is_some() {
            return Ok(());
        }
        let mut rows = HashMap::new();
        let mut next_row = 1;
        let mut key = String::new();
        let mut select = self
            .conn
            .prepare("SELECT id, app, kind, key FROM records ORDER BY id")?;
        let mut found = select.query([])?;
        while let Some(row) = found.next()? {
            let id: i64 = row.get(0)?;
            row_key(
                &mut key,
                row.get_ref(1)?.as_str()?,
                row.get_ref(2)?.as_str()?,
                row.get_ref(3)?.as_str()?,
            );
            rows.insert(key.clone(), id);
            next_row = id + 1;
        }
        drop(found);
        drop(select);
        self.rows = Some(rows);
        self.next_row = next_row;
        Ok(())
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
    pub fn load(&self) -> anyhow::Result<Option<EmulatorState>> {
        let mut state = EmulatorState::default();
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
            .prepare("SELECT app, kind, key, value FROM records ORDER BY id")?;
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

    /// Writes `changes` in one transaction. The index of rows changes only once it committed, so
    /// a failed transaction can be written again as it was.
    pub fn apply<'a>(
        &mut self,
        changes: impl IntoIterator<Item = Change<'a>>,
    ) -> anyhow::Result<()> {
        self.index_rows()?;
        let rows = self.rows.as_ref().expect("indexed above");
        // What this transaction changes in the index: a row number, or `None` once deleted.
        let mut changed: HashMap<String, Option<i64>> = HashMap::new();
        let mut next_row = self.next_row;
        let mut key = String::new();
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO records (id, app, kind, key, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut update = tx.prepare_cached("UPDATE records SET value = ?2 WHERE id = ?1")?;
            let mut delete = tx.prepare_cached("DELETE FROM records WHERE id = ?1")?;
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
                    (kind, value) => {
                        row_key(&mut key, change.app, kind, change.key);
                        let row = match changed.get(key.as_str()) {
                            Some(row) => *row,
                            None => rows.get(key.as_str()).copied(),
                        };
                        match (row, value) {
                            (Some(id), Some(value)) => {
                                update.execute(params![id, value])?;
                            }
                            (None, Some(value)) => {
                                insert.execute(params![
                                    next_row, change.app, kind, change.key, value
                                ])?;
                                changed.insert(key.clone(), Some(next_row));
                                next_row += 1;
                            }
                            (Some(id), None) => {
                                delete.execute(params![id])?;
                                changed.insert(key.clone(), None);
                            }
                            (None, None) => {}
                        }
                    }
                }
            }
        }
        tx.commit()?;
        let rows = self.rows.as_mut().expect("indexed above");
        for (key, row) in changed {
            match row {
                Some(id) => rows.insert(key, id),
                None => rows.remove(&key),
            };
        }
        self.next_row = next_row;
        Ok(())
    }

    /// Replaces everything stored by `state` (at start-up).
    pub fn replace_all(&mut self, state: &EmulatorState) -> anyhow::Result<()> {
        self.conn
            .execute_batch("DELETE FROM records; DELETE FROM apps; DELETE FROM meta;")?;
        self.rows = Some(HashMap::new());
        self.next_row = 1;
        self.apply(state.all_changes().iter())
    }
}

/// Reads the state file at `path`; `Ok(None)` when it does not exist or holds no app yet.
pub fn load(path: &Path) -> anyhow::Result<Option<EmulatorState>> {
    if !path.exists() {
        return Ok(None);
    }
    Store::open(path)?.load()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A change of the user record `key` (`None`: deleted).
    fn change<'a>(key: &'a str, value: Option<&'a [u8]>) -> Change<'a> {
        Change {
            app: "app1",
            kind: "users",
            key,
            value,
        }
    }

    fn put<'a>(key: &'a str, value: &'a [u8]) -> Change<'a> {
        change(key, Some(value))
    }

    fn delete(key: &str) -> Change<'_> {
        change(key, None)
    }

    /// The records table as (row number, key, value), in row order.
    fn rows(store: &Store) -> Vec<(i64, String, String)> {
        let mut select = store
            .conn
            .prepare("SELECT id, key, value FROM records ORDER BY id")
            .unwrap();
        select
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    String::from_utf8(r.get::<_, Vec<u8>>(2)?).unwrap(),
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn row(id: i64, key: &str, value: &str) -> (i64, String, String) {
        (id, key.into(), value.into())
    }

    #[test]
    fn new_records_go_last_and_changes_find_their_row_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut store = Store::open(&path).unwrap();
        store
            .apply([put("zed", b"1"), put("amy", b"2"), put("mid", b"3")])
            .unwrap();
        store
            .apply([put("amy", b"2b"), delete("mid"), put("mid", b"3b")])
            .unwrap();
        assert_eq!(
            rows(&store),
            [row(1, "zed", "1"), row(2, "amy", "2b"), row(4, "mid", "3b")]
        );
        drop(store);
        let mut store = Store::open(&path).unwrap();
        store
            .apply([put("zed", b"1c"), delete("amy"), put("new", b"4")])
            .unwrap();
        assert_eq!(
            rows(&store),
            [row(1, "zed", "1c"), row(4, "mid", "3b"), row(5, "new", "4")]
        );
    }

    #[test]
    fn a_failed_transaction_can_be_written_again_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut store = Store::open(&path).unwrap();
        store.apply([put("kept", b"1")]).unwrap();
        // Fail at once instead of retrying for SQLite's busy timeout.
        store.conn.busy_timeout(std::time::Duration::ZERO).unwrap();
        let blocker = Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let changes = [put("kept", b"2"), put("added", b"3"), delete("kept")];
        assert!(store.apply(changes.iter().cloned()).is_err());
        blocker.execute_batch("ROLLBACK").unwrap();
        store.apply(changes.iter().cloned()).unwrap();
        assert_eq!(rows(&store), [row(2, "added", "3")]);
        store.apply([put("added", b"3b")]).unwrap();
        assert_eq!(rows(&store), [row(2, "added", "3b")]);
    }

    #[test]
    fn a_file_of_the_keyed_layout_is_converted_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE records (
                app TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                PRIMARY KEY (app, kind, key)
            ) WITHOUT ROWID;
            INSERT INTO records VALUES ('app1', 'users', 'u1', CAST('v1' AS BLOB));",
        )
        .unwrap();
        drop(old);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(rows(&store), [row(1, "u1", "v1")]);
        store.apply([put("u1", b"v2"), put("u2", b"v3")]).unwrap();
        assert_eq!(rows(&store), [row(1, "u1", "v2"), row(2, "u2", "v3")]);
    }

    #[test]
    fn index_keys_do_not_collide_across_fields() {
        let (mut a, mut b) = (String::new(), String::new());
        row_key(&mut a, "ab", "users", "c");
        row_key(&mut b, "a", "users", "bc");
        assert_ne!(a, b);
    }
}
