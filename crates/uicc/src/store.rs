//! Persistence of the non-volatile state behind the [`Store`] trait: [`MemoryStore`] (the
//! default) and [`FileStore`] (write a new file, fsync, rename over the old one, fsync the
//! directory — so a crash at any point leaves either the old or the new state).
//!
//! The state file holds the card's secrets in clear (OTA keys, PINs and PUKs, applet state such
//! as the WPKI private keys and end-to-end key): [`FileStore`] creates it with mode 0600. It is
//! a test card's state, never a production card's.

use crate::nv::NvState;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// A persistence failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// Reading or writing the backing file failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error text.
        reason: String,
    },
    /// The stored state could not be parsed.
    #[error("{path}: corrupt state: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong (serde_json names line and column).
        reason: String,
    },
}

/// Where the card's non-volatile state lives. `commit` must be atomic: after a crash,
/// `load` returns either the previous or the new state, never a mixture.
pub trait Store: Send {
    /// The last committed state, or `None` for a fresh store.
    fn load(&mut self) -> Result<Option<NvState>, StoreError>;
    /// Atomically replace the stored state.
    fn commit(&mut self, state: &NvState) -> Result<(), StoreError>;
    /// Atomically replace the stored state, knowing that since the previous successful
    /// commit only the files at indices `files` (into [`NvState::files`]) may have changed
    /// (`None`: anything may have changed). The default ignores the hint and calls `commit`.
    fn commit_changed(
        &mut self,
        state: &NvState,
        files: Option<&[usize]>,
    ) -> Result<(), StoreError> {
        let _ = files;
        self.commit(state)
    }
}

/// In-memory store. Clones share the same slot, so a test can keep a handle, "cut power"
/// and start a new card from what was committed.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    slot: Arc<Mutex<Option<NvState>>>,
    commits: Arc<Mutex<u64>>,
    /// The shared commit count right after this handle's last commit.
    own_commits: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A copy of the committed state.
    pub fn committed(&self) -> Option<NvState> {
        self.slot.lock().map(|s| s.clone()).unwrap_or(None)
    }

    /// How many commits were made.
    pub fn commit_count(&self) -> u64 {
        self.commits.lock().map(|c| *c).unwrap_or(0)
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        Ok(self.committed())
    }

    fn commit(&mut self, state: &NvState) -> Result<(), StoreError> {
        self.commit_changed(state, None)
    }

    fn commit_changed(
        &mut self,
        state: &NvState,
        files: Option<&[usize]>,
    ) -> Result<(), StoreError> {
        if let Ok(mut s) = self.slot.lock() {
            let count = self.commits.lock().map(|c| *c).unwrap_or(0);
            // The hint holds only if the snapshot is this handle's own last commit (another
            // card sharing the slot may have committed since).
            let files = files.filter(|_| count == self.own_commits);
            // Copy only the files written, or else reuse the previous snapshot's buffers
            // (NvState::clone_from) instead of allocating a whole new state at every commit.
            match (s.as_mut(), files) {
                (Some(prev), Some(ids)) => prev.sync_files_from(state, ids),
                (Some(prev), None) => prev.clone_from(state),
                (None, _) => *s = Some(state.clone()),
            }
            if let Ok(mut c) = self.commits.lock() {
                *c += 1;
                self.own_commits = *c;
            }
        }
        Ok(())
    }
}

/// A state file: JSON written to `<path>.tmp`, fsynced, renamed over `<path>`, and the
/// directory fsynced. A leftover `.tmp` from a crash is ignored at load.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    tmp: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

impl FileStore {
    /// Use the state file at `path` (created at the first commit).
    pub fn open(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(StoreError::Io {
                    path: dir.to_path_buf(),
                    reason: "directory does not exist".into(),
                });
            }
        }
        Ok(FileStore {
            path,
            tmp: PathBuf::from(tmp),
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `bytes` to the temporary file and fsync it (the first half of a commit; exposed
    /// for tearing tests that stop before the rename). The file is created with mode 0600 (and
    /// set to 0600 if it existed): the state holds the card's secrets in clear.
    pub fn write_tmp(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let mut o = OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&self.tmp).map_err(|e| io(&self.tmp, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(|e| io(&self.tmp, e))?;
        }
        f.write_all(bytes).map_err(|e| io(&self.tmp, e))?;
        f.sync_all().map_err(|e| io(&self.tmp, e))
    }
}

impl Store for FileStore {
    fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        match fs::read(&self.path) {
            Ok(b) => NvState::from_bytes(&b)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&self.path, e)),
        }
    }

    fn commit(&mut self, state: &NvState) -> Result<(), StoreError> {
        self.write_tmp(&state.to_bytes())?;
        fs::rename(&self.tmp, &self.path).map_err(|e| io(&self.path, e))?;
        if let Some(dir) = self.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = File::open(dir) {
                d.sync_all().map_err(|e| io(dir, e))?;
            }
        }
        Ok(())
    }
}
