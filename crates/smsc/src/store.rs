//! Persistent fleet state: the [`FleetStore`] trait (one row per touched card, keyed by card
//! index) and [`RedbStore`], its embedded implementation on [redb](https://docs.rs/redb)
//! (ACID, copy-on-write B-trees, fsync at every commit).
//!
//! A row holds the card's non-volatile state (files, PINs, OTA counters, applet state) as its
//! delta from the fleet's template ([`crate::rows`]), or, for a store that keeps no template,
//! in the `uicc` state-file form ([`uicc::NvState::to_bytes`]). A card that never
//! received a message has no row. The server saves a card's row after each delivered SMS that
//! changed it and *before* the PoR (deliver_sm) and submit_sm_resp are sent, so nothing
//! acknowledged to the ESME is lost by a crash.

use redb::ReadableDatabase;
use std::path::{Path, PathBuf};

/// A fleet-store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store {path}: {reason}")]
pub struct FleetStoreError {
    /// The database (file or address).
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Where the fleet's card states live, by card index. Implementations must make `save`
/// durable before returning (the caller acknowledges the message next) and must give each
/// card read-your-writes: `load(i)` after `save(i, b)` returns `b`. A networked database can
/// take the place of [`RedbStore`] behind this trait (docs/src/smsc.md, "Persistent state").
pub trait FleetStore: Send + Sync {
    /// The stored state of card `index`, or `None` if the card was never touched.
    fn load(&self, index: u64) -> Result<Option<Vec<u8>>, FleetStoreError>;
    /// Durably replace the stored state of card `index`.
    fn save(&self, index: u64, state: &[u8]) -> Result<(), FleetStoreError>;
    /// The template the rows are deltas from ([`crate::rows`]), if one was saved. The
    /// default: none.
    fn load_template(&self) -> Result<Option<Vec<u8>>, FleetStoreError> {
        Ok(None)
    }
    /// Durably keep the template (once, before the first delta row is saved). The default
    /// refuses: the fleet then saves whole states in the rows.
    fn save_template(&self, template: &[u8]) -> Result<(), FleetStoreError> {
        let _ = template;
        Err(FleetStoreError {
            path: PathBuf::from("fleet store"),
            reason: "keeps no template".into(),
        })
    }
}

const CARDS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("cards");
/// Fleet-wide values: `template`, the state the rows are deltas from.
const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");

/// The embedded store: `DIR/fleet.redb`, table `cards` (u64 card index → row: the card's
/// state as a delta, [`crate::rows`]) and table `meta` (`template` → the template state).
pub struct RedbStore {
    db: redb::Database,
    path: PathBuf,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish()
    }
}

impl RedbStore {
    /// Open (or create) the store in directory `dir` (created if missing). The database
    /// file is `dir/fleet.redb`; it holds the cards' secrets in clear and is made mode 0600.
    pub fn open(dir: impl AsRef<Path>) -> Result<RedbStore, FleetStoreError> {
        let dir = dir.as_ref();
        let fail = |path: &Path, reason: String| FleetStoreError {
            path: path.to_path_buf(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(dir, e.to_string()))?;
        let path = dir.join("fleet.redb");
        let db = redb::Database::create(&path).map_err(|e| fail(&path, e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail(&path, e.to_string()))?;
        }
        let s = RedbStore { db, path };
        // Create the table so that reads of a fresh store find it.
        let w = s.db.begin_write().map_err(|e| s.err(e))?;
        w.open_table(CARDS).map_err(|e| s.err(e))?;
        w.open_table(META).map_err(|e| s.err(e))?;
        w.commit().map_err(|e| s.err(e))?;
        Ok(s)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many cards have a row.
    pub fn rows(&self) -> Result<u64, FleetStoreError> {
        use redb::ReadableTableMetadata;
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(CARDS).map_err(|e| self.err(e))?;
        t.len().map_err(|e| self.err(e))
    }

    fn err(&self, e: impl Into<redb::Error>) -> FleetStoreError {
        FleetStoreError {
            path: self.path.clone(),
            reason: e.into().to_string(),
        }
    }
}

impl FleetStore for RedbStore {
    fn load(&self, index: u64) -> Result<Option<Vec<u8>>, FleetStoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(CARDS).map_err(|e| self.err(e))?;
        let v = t.get(index).map_err(|e| self.err(e))?;
        Ok(v.map(|g| g.value().to_vec()))
    }

    fn save(&self, index: u64, state: &[u8]) -> Result<(), FleetStoreError> {
        // Durability::Immediate (redb's default): commit returns after fsync.
        let w = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = w.open_table(CARDS).map_err(|e| self.err(e))?;
            t.insert(index, state).map_err(|e| self.err(e))?;
        }
        w.commit().map_err(|e| self.err(e))
    }

    fn load_template(&self) -> Result<Option<Vec<u8>>, FleetStoreError> {
        let r = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = r.open_table(META).map_err(|e| self.err(e))?;
        let v = t.get("template").map_err(|e| self.err(e))?;
        Ok(v.map(|g| g.value().to_vec()))
    }

    fn save_template(&self, template: &[u8]) -> Result<(), FleetStoreError> {
        let w = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = w.open_table(META).map_err(|e| self.err(e))?;
            t.insert("template", template).map_err(|e| self.err(e))?;
        }
        w.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_reopen_and_untouched_cards_have_none() {
        let dir = std::env::temp_dir().join(format!("simota-redb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let s = RedbStore::open(&dir).unwrap();
            assert_eq!(s.load(7).unwrap(), None);
            s.save(7, b"seven").unwrap();
            s.save(7, b"seven again").unwrap();
            s.save(99_999, b"last").unwrap();
            assert_eq!(s.rows().unwrap(), 2);
        }
        let s = RedbStore::open(&dir).unwrap();
        assert_eq!(s.load(7).unwrap().as_deref(), Some(&b"seven again"[..]));
        assert_eq!(s.load(99_999).unwrap().as_deref(), Some(&b"last"[..]));
        assert_eq!(s.load(8).unwrap(), None);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
