//! The rows of a [`FleetStore`] as deltas: a card's saved state is its difference
//! ([`crate::delta`]) from the fleet's template — the first state the fleet saved, kept in the
//! store itself ([`FleetStore::save_template`]) so that the rows still decode after a restart,
//! and after a profile change (the decoded state then carries the old profile fingerprint,
//! and the card refuses to resume from it, as with a whole state). A row is then a few hundred
//! bytes where the whole state is ≈ 57 KB, and so is every fsynced write.
//!
//! A row that starts with `{` is a whole state ([`uicc::NvState::to_bytes`]): what stores
//! written before deltas hold, and what a store without a template gets.

use crate::store::{FleetStore, FleetStoreError};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// What is known of the store's template.
enum Template {
    /// Not read yet.
    Unknown,
    /// The store keeps none and takes none: rows are whole states.
    Unsupported,
    /// None saved yet (the first save makes it).
    Absent,
    /// The template.
    Known(Arc<crate::delta::Template>),
}

/// A [`FleetStore`] whose rows are deltas from the fleet's template.
pub struct DeltaRows {
    store: Arc<dyn FleetStore>,
    template: Mutex<Template>,
}

fn fail(reason: String) -> FleetStoreError {
    FleetStoreError {
        path: "fleet template".into(),
        reason,
    }
}

impl DeltaRows {
    /// Rows of `store`.
    pub fn new(store: Arc<dyn FleetStore>) -> DeltaRows {
        DeltaRows {
            store,
            template: Mutex::new(Template::Unknown),
        }
    }

    /// The template, read from the store the first time.
    fn template(&self) -> Result<std::sync::MutexGuard<'_, Template>, FleetStoreError> {
        let mut t = self
            .template
            .lock()
            .map_err(|_| fail("template lock poisoned".into()))?;
        if matches!(*t, Template::Unknown) {
            *t = match self.store.load_template()? {
                Some(b) => {
                    let v: Value =
                        serde_json::from_slice(&b).map_err(|e| fail(format!("template: {e}")))?;
                    Template::Known(Arc::new(crate::delta::Template::new(v).map_err(fail)?))
                }
                None => Template::Absent,
            };
        }
        Ok(t)
    }

    /// Card `index`'s state, if it has a row.
    pub fn load(&self, index: u64) -> Result<Option<uicc::NvState>, FleetStoreError> {
        let Some(row) = self.store.load(index)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| fail(format!("card {index}: {reason}"));
        if row.first() == Some(&b'[') {
            let template = match &*self.template()? {
                Template::Known(t) => t.clone(),
                _ => return Err(corrupt("a delta row, but the store has no template".into())),
            };
            return crate::delta::decode(&template.value, &row)
                .map(Some)
                .map_err(corrupt);
        }
        uicc::NvState::from_bytes(&row)
            .map(Some)
            .map_err(|e| corrupt(e.to_string()))
    }

    /// Durably save card `index`'s state (the template first, once).
    pub fn save(&self, index: u64, state: &uicc::NvState) -> Result<(), FleetStoreError> {
        let template = {
            let mut t = self.template()?;
            if matches!(*t, Template::Absent) {
                let v = serde_json::to_value(state).map_err(|e| fail(e.to_string()))?;
                let b = serde_json::to_vec(&v).map_err(|e| fail(e.to_string()))?;
                *t = match self.store.save_template(&b) {
                    Ok(()) => {
                        Template::Known(Arc::new(crate::delta::Template::new(v).map_err(fail)?))
                    }
                    Err(_) => Template::Unsupported,
                };
            }
            match &*t {
                Template::Known(v) => Some(v.clone()),
                _ => None,
            }
        };
        let row = match template {
            Some(t) => t.encode(state).map_err(fail)?,
            None => state.to_bytes(),
        };
        self.store.save(index, &row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RedbStore;
    use std::collections::HashMap;

    fn state(i: u64) -> uicc::NvState {
        crate::CardIdentity::new(i, 491_700_000_000)
            .profile(&uicc::Profile::default_profile())
            .unwrap()
            .initial_state()
            .clone()
    }

    /// A store that keeps rows only (the trait's default: no template).
    #[derive(Default)]
    struct RowsOnly(Mutex<HashMap<u64, Vec<u8>>>);

    impl FleetStore for RowsOnly {
        fn load(&self, index: u64) -> Result<Option<Vec<u8>>, FleetStoreError> {
            Ok(self.0.lock().unwrap().get(&index).cloned())
        }
        fn save(&self, index: u64, state: &[u8]) -> Result<(), FleetStoreError> {
            self.0.lock().unwrap().insert(index, state.to_vec());
            Ok(())
        }
    }

    #[test]
    fn rows_are_small_deltas_that_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("simota-rows-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let store = Arc::new(RedbStore::open(&dir).unwrap());
            let rows = DeltaRows::new(store.clone());
            rows.save(3, &state(3)).unwrap();
            rows.save(4, &state(4)).unwrap();
            // The first state is the template: its row is empty; another card's holds its
            // identity files only.
            assert_eq!(store.load(3).unwrap().unwrap(), b"[]");
            let r4 = store.load(4).unwrap().unwrap();
            assert!(r4.len() < 2048, "{} bytes", r4.len());
            assert!(state(4).to_bytes().len() > 20 * r4.len());
            // A whole-state row (as stores written before deltas hold) still loads.
            store.save(5, &state(5).to_bytes()).unwrap();
        }
        let rows = DeltaRows::new(Arc::new(RedbStore::open(&dir).unwrap()));
        for i in [3, 4, 5] {
            let s = rows.load(i).unwrap().unwrap();
            assert_eq!(s.to_bytes(), state(i).to_bytes(), "card {i}");
        }
        assert!(rows.load(6).unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_without_template_keeps_whole_states() {
        let store = Arc::new(RowsOnly::default());
        let rows = DeltaRows::new(store.clone());
        rows.save(1, &state(1)).unwrap();
        assert_eq!(store.load(1).unwrap().unwrap(), state(1).to_bytes());
        assert_eq!(
            rows.load(1).unwrap().unwrap().to_bytes(),
            state(1).to_bytes()
        );
        // A delta row in a store that has no template is an error naming the card.
        store.save(2, b"[]").unwrap();
        let e = rows.load(2).unwrap_err();
        assert!(e.reason.contains("card 2"), "{e}");
    }
}
