//! Tearing property: for random APDU sequences, cut power after every possible non-volatile
//! write and check that the restarted card holds either the state from before the torn APDU
//! or a state the card committed inside that APDU (PIN counter, applet transaction) — never
//! a half-applied one — and that a torn APDU returns no response.

use proptest::prelude::*;
use std::sync::{Arc, Mutex};
use uicc::{Card, NvState, Profile, Store, StoreError};

/// A store that keeps every committed state.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<NvState>>>);

impl Store for Recording {
    fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        Ok(self.0.lock().unwrap().last().cloned())
    }
    fn commit(&mut self, state: &NvState) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(state.clone());
        Ok(())
    }
}

impl Recording {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn get(&self, i: usize) -> NvState {
        self.0.lock().unwrap()[i].clone()
    }
}

const POOL: &[&str] = &[
    "0020000A083838383838383838",                   // VERIFY ADM (right)
    "0020000A083030303030303030",                   // VERIFY ADM (wrong)
    "00A4080C04 7FF0 6F7B", // select FPLMN (ADF.USIM current: PIN2 81 is its local PIN)
    "0020008108 35363738FFFFFFFF", // VERIFY PIN2 (right)
    "0020008108 30303030FFFFFFFF", // VERIFY PIN2 (wrong)
    "002C008110 3837363534333231 35363738FFFFFFFF", // UNBLOCK PIN2
    "00D6000003 13F001",    // UPDATE BINARY
    "00D6000203 42F010",
    "00A4080C04 7FF0 6F39",          // select ACM (cyclic)
    "8032000001 07 00",              // INCREASE
    "00DC000303 010203",             // UPDATE RECORD (cyclic, previous)
    "00A4080C04 7FF0 6F3C",          // select SMS
    "00DC010404 01020304",           // (wrong length → 6700, no write)
    "00A4000C02 2FF0",               // BER-TLV EF
    "80DB010004 8102ABCD",           // SET DATA
    "00A4040C09 F073696D6F74610101", // select demo applet
    "8054000000",                    // applet: transaction commit
    "8054010000",                    // applet: transaction abort
    "8054020000",                    // applet: commit then failed second transaction
    "8050000002 BEEF",               // applet: put
    "00A4000C02 3F00",
];

fn run_to(card: &mut Card, seq: &[usize]) -> Vec<Vec<u8>> {
    seq.iter()
        .map(|&i| card.process(&apdu::hex::decode(POOL[i]).unwrap()))
        .collect()
}

/// Tear at every write of `seq`; returns how many write positions were tried.
fn check(seq: &[usize]) -> Result<u64, TestCaseError> {
    let profile = Profile::default_profile();
    // Reference run.
    let store = Recording::default();
    let mut card = Card::with_store(profile.clone(), Box::new(store.clone())).unwrap();
    let base_writes = card.nv_writes();
    let mut bounds = Vec::new(); // (writes before, writes after, commits before, commits after)
    for &i in seq {
        let (w0, c0) = (card.nv_writes(), store.len());
        card.process(&apdu::hex::decode(POOL[i]).unwrap());
        bounds.push((
            w0 - base_writes,
            card.nv_writes() - base_writes,
            c0,
            store.len(),
        ));
    }
    let total = card.nv_writes() - base_writes;
    for k in 1..=total {
        let s = Recording::default();
        let mut c = Card::with_store(profile.clone(), Box::new(s.clone())).unwrap();
        c.tear_after_writes(k);
        let answers = run_to(&mut c, seq);
        prop_assert!(c.power_lost());
        let (idx, &(_, _, c0, c1)) = bounds
            .iter()
            .enumerate()
            .find(|(_, b)| b.0 < k && k <= b.1)
            .unwrap();
        prop_assert!(
            answers[idx].is_empty(),
            "torn APDU {} answered {:02X?}",
            POOL[seq[idx]],
            answers[idx]
        );
        prop_assert!(answers[idx + 1..].iter().all(Vec::is_empty));
        // Restart from the store.
        drop(c);
        let restarted = Card::with_store(profile.clone(), Box::new(s.clone())).unwrap();
        let got = restarted.nv_state().clone();
        let allowed: Vec<NvState> = (c0 - 1..c1).map(|j| store.get(j)).collect();
        prop_assert!(
            allowed.contains(&got),
            "tear at write {k} in {}: state not among the committed ones",
            POOL[seq[idx]]
        );
        if c1 - c0 <= 1 {
            prop_assert_eq!(
                &got,
                &store.get(c0 - 1),
                "single-commit APDU must leave the pre-APDU state"
            );
        }
        // The same card object comes back with reset() too.
        let mut c2 = Card::with_store(profile.clone(), Box::new(s.clone())).unwrap();
        c2.tear_after_writes(1);
        let _ = run_to(&mut c2, seq);
        c2.reset();
        prop_assert!(!c2.power_lost());
    }
    Ok(total)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn tear_at_every_write(seq in proptest::collection::vec(0..POOL.len(), 1..14)) {
        check(&seq)?;
    }
}

#[test]
fn tear_every_write_of_the_whole_pool() {
    let seq: Vec<usize> = (0..POOL.len()).collect();
    let tried = check(&seq).unwrap();
    assert!(tried >= 15, "only {tried} writes in the pool");
}
