//! Tearing property for a Java Card applet: the SDK Wallet (test-vectors/cap/jcsim-wallet.cap)
//! in the Java Card VM on the emulated card. For random APDU sequences, power is cut after
//! every possible non-volatile write; the restarted card must hold the state from before the
//! torn APDU or a state the card committed inside it (the OwnerPIN try counter is committed
//! before the comparison), never a half-applied heap. Also: tearing a wrong VERIFY never wins
//! the try back.

use proptest::prelude::*;
use std::sync::{Arc, Mutex};
use uicc::java_applet::JavaAppletClass;
use uicc::{AppletRegistry, Card, CardOptions, NvState, Profile, Store, StoreError};

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

const WALLET: &str = "D1560001320A64656D9F01";

const POOL: &[&str] = &[
    "00A404000B D1560001320A64656D9F01", // SELECT wallet
    "8020000004 01020304",               // VERIFY (right)
    "8020000004 09090909",               // VERIFY (wrong)
    "8030000001 05",                     // CREDIT 5
    "8040000001 03",                     // DEBIT 3
    "8040000001 7F",                     // DEBIT 127 (negative balance: 6A85)
    "8050000002",                        // GET BALANCE
];

fn registry() -> AppletRegistry {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/jcsim-wallet.cap"
    ))
    .unwrap();
    let mut r = AppletRegistry::builtin();
    for c in JavaAppletClass::from_cap(jcvm::CapFile::from_zip(&b).unwrap()).unwrap() {
        r.register(c);
    }
    r
}

fn card(store: Recording) -> Card {
    Card::with_options(
        Profile::default_profile(),
        CardOptions {
            store: Box::new(store),
            registry: registry(),
            rng: None,
        },
    )
    .unwrap()
}

/// A store holding a card with the wallet installed (PIN 01020304).
fn installed() -> Recording {
    let s = Recording::default();
    let mut c = card(s.clone());
    let aid = apdu::hex::decode(WALLET).unwrap();
    c.install_applet(
        &aid,
        &aid,
        &[1, 2, 3, 4],
        uicc::nv::life_cycle::SELECTABLE,
        false,
    )
    .unwrap();
    c.commit_nv().unwrap();
    let last = s.get(s.len() - 1);
    Recording(Arc::new(Mutex::new(vec![last])))
}

fn send(card: &mut Card, seq: &[usize]) -> Vec<Vec<u8>> {
    seq.iter()
        .map(|&i| card.process(&apdu::hex::decode(POOL[i]).unwrap()))
        .collect()
}

fn check(seq: &[usize]) -> Result<u64, TestCaseError> {
    let base = installed();
    let store = Recording(Arc::new(Mutex::new(base.0.lock().unwrap().clone())));
    let mut c = card(store.clone());
    let w = c.nv_writes();
    let mut bounds = Vec::new();
    for &i in seq {
        let (w0, c0) = (c.nv_writes(), store.len());
        c.process(&apdu::hex::decode(POOL[i]).unwrap());
        bounds.push((w0 - w, c.nv_writes() - w, c0, store.len()));
    }
    let total = c.nv_writes() - w;
    for k in 1..=total {
        let s = Recording(Arc::new(Mutex::new(base.0.lock().unwrap().clone())));
        let mut t = card(s.clone());
        t.tear_after_writes(k);
        let answers = send(&mut t, seq);
        prop_assert!(t.power_lost());
        let (idx, &(_, _, c0, c1)) = bounds
            .iter()
            .enumerate()
            .find(|(_, b)| b.0 < k && k <= b.1)
            .unwrap();
        prop_assert!(
            answers[idx].is_empty(),
            "torn APDU answered {:02X?}",
            answers[idx]
        );
        drop(t);
        let got = card(s.clone()).nv_state().clone();
        let allowed: Vec<NvState> = (c0 - 1..c1).map(|j| store.get(j)).collect();
        prop_assert!(
            allowed.contains(&got),
            "tear at write {k} in {}: state not among the committed ones",
            POOL[seq[idx]]
        );
    }
    Ok(total)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn tear_at_every_write_of_wallet_sequences(seq in proptest::collection::vec(0..POOL.len(), 1..10)) {
        check(&seq)?;
    }
}

#[test]
fn tear_every_write_of_a_wallet_session() {
    let tried = check(&[0, 2, 1, 3, 3, 4, 5, 6, 2, 2]).unwrap();
    assert!(tried >= 6, "only {tried} writes");
}

/// A store that takes `allow` more commits, then fails (power gone before the end of the APDU).
#[derive(Clone)]
struct Failing(Recording, Arc<Mutex<usize>>);

impl Store for Failing {
    fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        self.0.load()
    }
    fn commit(&mut self, state: &NvState) -> Result<(), StoreError> {
        let mut n = self.1.lock().unwrap();
        if *n == 0 {
            return Err(StoreError::Io {
                path: "power".into(),
                reason: "cut".into(),
            });
        }
        *n -= 1;
        self.0.commit(state)
    }
}

#[test]
fn the_pin_try_is_durable_before_the_compare() {
    // A VERIFY whose power goes after the compare (the APDU's final commit fails): the
    // decremented try counter was committed before the compare, so the try counts even
    // though the PIN was right (and a tearing attacker who sees a wrong compare coming
    // cannot win the try back). Without that commit, the card would restart with 3 tries.
    let s = installed();
    let allow = Arc::new(Mutex::new(usize::MAX));
    let mut c = Card::with_options(
        Profile::default_profile(),
        CardOptions {
            store: Box::new(Failing(s.clone(), allow.clone())),
            registry: registry(),
            rng: None,
        },
    )
    .unwrap();
    c.process(&apdu::hex::decode(POOL[0]).unwrap());
    *allow.lock().unwrap() = 1; // the commit before the compare only
    c.process(&apdu::hex::decode(POOL[1]).unwrap());
    drop(c);
    let mut c = card(s);
    c.process(&apdu::hex::decode(POOL[0]).unwrap());
    assert_eq!(
        c.process(&apdu::hex::decode(POOL[2]).unwrap()),
        vec![0x63, 0x00]
    );
    assert_eq!(
        c.process(&apdu::hex::decode(POOL[2]).unwrap()),
        vec![0x63, 0x00]
    );
    // The cut try and two wrong ones: blocked, the right PIN fails.
    assert_eq!(
        c.process(&apdu::hex::decode(POOL[1]).unwrap()),
        vec![0x63, 0x00]
    );
}
