//! [`FileStore`]: a [`TokenStore`] in a JSON file, written atomically
//! (temporary file, `fsync`, rename) and readable only by its owner (0600),
//! safe to share between processes.
//!
//! Sharing: [`TokenStore::lock`] takes an exclusive advisory lock on a
//! sibling lock file (`<file>.lock`, never replaced, so every process locks
//! the same inode) with the standard library's `File::lock` (`flock` on
//! Unix, `LockFileEx` on Windows). A session holds it while it re-reads the
//! file, refreshes and saves, so two processes never present the same
//! refresh token, and one that finds a pair rotated by the other uses it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::{StoreError, StoreLock, StoredTokens, TokenStore};

/// A [`TokenStore`] backed by one file.
///
/// ```no_run
/// use passage_auth_client::{ClientBuilder, FileStore, Session};
///
/// # fn demo() -> Result<(), passage_auth_client::Error> {
/// let client = ClientBuilder::new().base_url("http://127.0.0.1:8787/v1").build()?;
/// let session = Session::builder(client, "my-app-id")
///     .store(FileStore::new("/var/lib/my-app/passage-tokens.json"))
///     .build();
/// # let _ = session;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    auth_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

impl OnDisk {
    fn of(tokens: &StoredTokens) -> Self {
        Self {
            auth_token: tokens.auth_token.expose_secret().to_string(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
        }
    }
}

impl FileStore {
    /// A store in the file at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file's path: the token file's with `.lock` appended.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    fn lock_sync(path: &Path) -> Result<std::fs::File, StoreError> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        file.lock()?;
        Ok(file)
    }

    fn clear_if_sync(path: &Path, expected: &OnDisk) -> Result<bool, StoreError> {
        match Self::load_sync(path)? {
            Some(stored)
                if stored.auth_token.expose_secret() != expected.auth_token
                    || stored.refresh_token.as_ref().map(|t| t.expose_secret())
                        != expected.refresh_token.as_deref() =>
            {
                Ok(false)
            }
            Some(_) => Self::clear_sync(path).map(|()| true),
            None => Ok(true),
        }
    }

    fn load_sync(path: &Path) -> Result<Option<StoredTokens>, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt)?;
        Ok(Some(StoredTokens::new(disk.auth_token, disk.refresh_token)))
    }

    fn save_sync(path: &Path, disk: &OnDisk) -> Result<(), StoreError> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| StoreError::Other("the token file path has no file name".into()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", fastrand::u64(..)));
        let tmp = dir.join(tmp_name);
        let result = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            let json =
                serde_json::to_vec(disk).map_err(|e| std::io::Error::other(e.to_string()))?;
            file.write_all(&json)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&tmp, path)?;
            #[cfg(unix)]
            if let Ok(d) = std::fs::File::open(&dir) {
                // Make the rename durable; not all file systems support it.
                let _ = d.sync_all();
            }
            Ok::<(), std::io::Error>(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        Ok(result?)
    }

    fn clear_sync(path: &Path) -> Result<(), StoreError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Other(format!("token store task failed: {e}")))?
}

impl TokenStore for FileStore {
    async fn load(&self) -> Result<Option<StoredTokens>, StoreError> {
        let path = self.path.clone();
        blocking(move || Self::load_sync(&path)).await
    }

    async fn save(&self, tokens: &StoredTokens) -> Result<(), StoreError> {
        let path = self.path.clone();
        let disk = OnDisk::of(tokens);
        blocking(move || Self::save_sync(&path, &disk)).await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let path = self.path.clone();
        blocking(move || Self::clear_sync(&path)).await
    }

    async fn lock(&self) -> Result<StoreLock, StoreError> {
        let path = self.lock_path();
        let file = blocking(move || Self::lock_sync(&path)).await?;
        // Closing the file releases the lock.
        Ok(StoreLock::holding(file))
    }

    async fn clear_if(&self, expected: &StoredTokens) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let expected = OnDisk::of(expected);
        blocking(move || Self::clear_if_sync(&path, &expected)).await
    }
}
