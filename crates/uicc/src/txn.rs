//! Atomic non-volatile updates: every write to [`NvState`] goes through [`Nv::write`], which
//! counts it (for the tearing hook) and marks the state dirty. [`Nv::checkpoint`] commits the
//! state to the [`Store`] atomically; the card checkpoints at the end of every APDU, before the
//! PIN compare, and when an applet commits a transaction. JavaCard-style transactions snapshot
//! the state at `begin` and restore it at `abort`.
//!
//! Tearing: [`Nv::tear_after`] arms a power cut right after the k-th following write. From then
//! on nothing is written or committed; the store keeps the last checkpoint, which is exactly
//! what a restarted card sees.

use crate::nv::NvState;
use crate::store::{Store, StoreError};

/// SW 6581 (memory problem): what a write answers once power is gone or the store failed.
pub(crate) const SW_MEMORY: u16 = 0x6581;

/// The working copy of the non-volatile state, its store, and the transaction machinery.
pub struct Nv {
    pub(crate) state: NvState,
    store: Box<dyn Store>,
    dirty: bool,
    /// Files written since the last commit (indices into `state.files`), unless
    /// `all_touched` (a write that may have changed any part, or a state not from the store).
    touched: Vec<usize>,
    all_touched: bool,
    tx: Option<NvState>,
    tear_in: Option<u64>,
    writes: u64,
    lost: bool,
    last_error: Option<StoreError>,
}

impl Nv {
    pub(crate) fn new(state: NvState, store: Box<dyn Store>) -> Nv {
        Nv {
            state,
            store,
            dirty: false,
            touched: Vec::new(),
            all_touched: true,
            tx: None,
            tear_in: None,
            writes: 0,
            lost: false,
            last_error: None,
        }
    }

    /// The current (working) state; equal to the committed one between APDUs.
    pub fn state(&self) -> &NvState {
        &self.state
    }

    /// Apply one non-volatile write. Fails with 6581 when power is gone (the write is lost).
    pub(crate) fn write<R>(&mut self, f: impl FnOnce(&mut NvState) -> R) -> Result<R, u16> {
        if self.lost {
            return Err(SW_MEMORY);
        }
        self.all_touched = true;
        self.apply(f)
    }

    /// A non-volatile write to file `id` only (nothing happens if there is no such file); the
    /// next commit then copies just the files written. Same tearing and errors as [`Nv::write`].
    pub(crate) fn write_file(
        &mut self,
        id: usize,
        f: impl FnOnce(&mut crate::nv::NvFile),
    ) -> Result<(), u16> {
        if self.lost {
            return Err(SW_MEMORY);
        }
        if !self.touched.contains(&id) {
            self.touched.push(id);
        }
        self.apply(|s| {
            if let Some(file) = s.files.get_mut(id) {
                f(file);
            }
        })
    }

    /// A non-volatile write to the OTA part only (no file). Same tearing and errors as
    /// [`Nv::write`].
    pub(crate) fn write_ota<R>(
        &mut self,
        f: impl FnOnce(&mut crate::nv::OtaNv) -> R,
    ) -> Result<R, u16> {
        if self.lost {
            return Err(SW_MEMORY);
        }
        self.apply(|s| f(&mut s.ota))
    }

    fn apply<R>(&mut self, f: impl FnOnce(&mut NvState) -> R) -> Result<R, u16> {
        let r = f(&mut self.state);
        self.dirty = true;
        self.writes = self.writes.wrapping_add(1);
        if let Some(n) = self.tear_in.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.tear_in = None;
                self.lost = true;
                return Err(SW_MEMORY);
            }
        }
        Ok(r)
    }

    /// Commit everything written so far (also ends an open transaction's rollback scope).
    pub(crate) fn checkpoint(&mut self) -> Result<(), u16> {
        if self.lost {
            return Err(SW_MEMORY);
        }
        if self.tx.is_some() {
            self.tx = Some(self.state.clone());
        }
        if self.dirty {
            let files = (!self.all_touched).then_some(self.touched.as_slice());
            if let Err(e) = self.store.commit_changed(&self.state, files) {
                self.last_error = Some(e);
                self.lost = true;
                return Err(SW_MEMORY);
            }
            self.dirty = false;
            self.all_touched = false;
            self.touched.clear();
        }
        Ok(())
    }

    /// JavaCard `beginTransaction`: 6F00 if one is already open.
    pub(crate) fn begin(&mut self) -> Result<(), u16> {
        if self.lost {
            return Err(SW_MEMORY);
        }
        if self.tx.is_some() {
            return Err(0x6F00);
        }
        self.tx = Some(self.state.clone());
        Ok(())
    }

    /// JavaCard `commitTransaction`: makes the writes since `begin` durable.
    pub(crate) fn commit(&mut self) -> Result<(), u16> {
        if self.tx.is_none() {
            return Err(0x6F00);
        }
        self.checkpoint()?;
        self.tx = None;
        Ok(())
    }

    /// JavaCard `abortTransaction`: rolls back every write since `begin`.
    pub(crate) fn abort(&mut self) -> Result<(), u16> {
        match self.tx.take() {
            Some(s) => {
                self.state = s;
                Ok(())
            }
            None => Err(0x6F00),
        }
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// End of an APDU: abort a transaction left open (as Java Card does), then commit.
    pub(crate) fn end_apdu(&mut self) -> Result<(), u16> {
        if self.tx.is_some() {
            let _ = self.abort();
        }
        self.checkpoint()
    }

    /// Cut power right after the `k`-th write from now (k ≥ 1; 0 disarms).
    pub fn tear_after(&mut self, k: u64) {
        self.tear_in = if k == 0 { None } else { Some(k) };
    }

    /// Whether power was cut (by the tearing hook or a store failure).
    pub fn power_lost(&self) -> bool {
        self.lost
    }

    /// Total non-volatile writes so far.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// The last store failure, if any.
    pub fn last_store_error(&self) -> Option<&StoreError> {
        self.last_error.as_ref()
    }

    /// Power back on: reload the committed state (or `fresh` when the store is empty).
    pub(crate) fn restart(&mut self, fresh: impl FnOnce() -> NvState) -> Result<(), StoreError> {
        self.tx = None;
        self.dirty = false;
        self.all_touched = true;
        self.touched.clear();
        self.tear_in = None;
        let s = self.store.load()?;
        self.state = s.unwrap_or_else(fresh);
        self.lost = false;
        Ok(())
    }

    /// Load from the store (used at construction).
    pub(crate) fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        self.store.load()
    }

    /// Take the store back.
    pub(crate) fn into_store(self) -> Box<dyn Store> {
        self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nv::{Content, CounterBytes};
    use crate::store::MemoryStore;

    /// The store's snapshot must equal the working state after every checkpoint, whether
    /// the writes named their file (`write_file`), touched no file (`write_ota`), or may have
    /// touched anything (`write`), also across an aborted transaction.
    #[test]
    fn snapshot_follows_file_hints() {
        let state = crate::Profile::default_profile().initial_state().clone();
        let n = state.files.len();
        let bytes: Vec<usize> = (0..n)
            .filter(|&i| matches!(state.files[i].content, Content::Bytes(ref b) if !b.is_empty()))
            .collect();
        assert!(bytes.len() >= 2, "profile has transparent EFs");
        let store = MemoryStore::new();
        let mut nv = Nv::new(state, Box::new(store.clone()));
        let check = |nv: &Nv| assert_eq!(store.committed().as_ref(), Some(nv.state()));
        nv.write(|_| ()).unwrap();
        nv.checkpoint().unwrap();
        check(&nv);
        for (k, &i) in bytes.iter().enumerate() {
            let v = k as u8 + 1;
            nv.write_file(i, |f| {
                if let Content::Bytes(b) = &mut f.content {
                    b[0] = v;
                }
            })
            .unwrap();
            nv.write_ota(|o| o.counters.insert(1, CounterBytes(vec![0, 0, 0, 0, v])))
                .unwrap();
            nv.checkpoint().unwrap();
            check(&nv);
        }
        // A transaction that writes a file and is aborted at the APDU's end.
        nv.begin().unwrap();
        nv.write_file(bytes[0], |f| f.lcsi ^= 1).unwrap();
        nv.end_apdu().unwrap();
        check(&nv);
        // A write that may touch anything, then a file hint again.
        nv.write(|s| s.files[bytes[1]].lcsi ^= 1).unwrap();
        nv.checkpoint().unwrap();
        check(&nv);
        nv.write_file(bytes[1], |f| f.lcsi ^= 1).unwrap();
        nv.checkpoint().unwrap();
        check(&nv);
    }
}
