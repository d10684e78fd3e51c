//! The card under test ("DUT") and its trusted observation path.
//!
//! The fuzzer talks to the card only through a [`Transport`]; what the oracles read back
//! (the OTA counter, the canary EF) goes through a path the fuzzed traffic cannot forge:
//!
//! * [`EmulatedDut`]: direct access to the emulated card's non-volatile state
//!   (`uicc::Card::nv_state`); panics of the card are caught and reported; the card can be
//!   rebuilt; the state must always serialise and load again.
//! * [`ReaderDut`]: a card in a reader: the canary EF is read with plain SELECT / READ BINARY
//!   APDUs; the OTA counter cannot be read with standard APDUs, so it is tracked from the
//!   PoRs and checked by the next correct packet (a counter that moved behind the fuzzer's
//!   back shows up as status 02 on it).

use ota::{Counter, Keyset};
use std::panic::{catch_unwind, AssertUnwindSafe};
use thiserror::Error;
use transport::{ResetKind, Transport, TransportError};
use uicc::{Card, MemoryStore, NvState, Store};

/// What went wrong with the card under test.
#[derive(Debug, Error)]
pub enum DutError {
    /// The emulated card panicked.
    #[error("the card panicked: {0}")]
    Panic(String),
    /// The transport failed (timeout, card removed …).
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// Anything else (the canary cannot be read …).
    #[error("{0}")]
    Other(String),
}

/// What the trusted path saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observation {
    /// The OTA counter of the key set (None: not readable on this DUT).
    pub counter: Option<Counter>,
    /// The canary EF's contents (None: no canary).
    pub canary: Option<Vec<u8>>,
}

/// The card under test.
pub trait Dut {
    /// The APDU path (panics of an emulated card are caught and turn into errors).
    fn transport(&mut self) -> &mut dyn Transport;
    /// The panic message, if the card panicked since the last call.
    fn take_panic(&mut self) -> Option<String>;
    /// Read the counter of key set version `kvn` and the canary EF through the trusted path.
    fn observe(&mut self, kvn: u8, canary: Option<&[u16]>) -> Result<Observation, DutError>;
    /// Check that the persistent state serialises and loads again (emulator); Ok elsewhere.
    fn state_loads(&mut self) -> Result<(), String>;
    /// Replace the card by a fresh one (emulator). `Ok(false)` when this DUT cannot.
    fn rebuild(&mut self) -> Result<bool, String>;
    /// Whether [`Observation::counter`] comes from the card itself.
    fn trusted_counter(&self) -> bool;
    /// TARs the card is known to have, with their minimum security level (emulator: from
    /// the profile and the installed applets).
    fn known_tars(&mut self) -> Vec<([u8; 3], Option<u8>)>;
    /// A name for reports.
    fn name(&self) -> String;
}

/// A transport that catches panics of what it wraps (an emulated card).
pub struct Guarded<T> {
    inner: T,
    panicked: Option<String>,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".into()
    }
}

impl<T> Guarded<T> {
    /// Wrap.
    pub fn new(inner: T) -> Self {
        Guarded {
            inner,
            panicked: None,
        }
    }
    /// The wrapped transport.
    pub fn inner(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Transport> Transport for Guarded<T> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if let Some(p) = &self.panicked {
            return Err(TransportError::Io(format!(
                "the card panicked earlier: {p}"
            )));
        }
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.transmit(capdu))) {
            Ok(r) => r,
            Err(p) => {
                let m = panic_message(p.as_ref());
                self.panicked = Some(m.clone());
                Err(TransportError::Io(format!("the card panicked: {m}")))
            }
        }
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.reset(kind))) {
            Ok(r) => r,
            Err(p) => {
                let m = panic_message(p.as_ref());
                self.panicked = Some(m.clone());
                Err(TransportError::Io(format!(
                    "the card panicked at reset: {m}"
                )))
            }
        }
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
}

/// A transport in front of an emulated card whose state the oracles may read directly.
pub trait EmulatedCard: Transport {
    /// The emulated card.
    fn card(&mut self) -> &mut Card;
}

impl EmulatedCard for transport::Emulator {
    fn card(&mut self) -> &mut Card {
        transport::Emulator::card(self)
    }
}

/// Key set `kvn` of the `uicc` default profile (KVN 1 AES-128, KVN 2 3DES-2key), read from a
/// fresh card rather than written out again.
pub fn default_profile_keyset(kvn: u8) -> Result<Keyset, String> {
    Card::new(uicc::Profile::default_profile())
        .map_err(|e| e.to_string())?
        .ota_keyset(kvn)
        .ok_or_else(|| format!("the default profile has no key set {kvn}"))
}

/// The contents of the transparent EF at `path` (from the MF, MF included).
pub fn nv_file(card: &Card, path: &[u16]) -> Option<Vec<u8>> {
    let tree = &card.profile().tree;
    let mut id = uicc::fs::MF;
    for &fid in path.iter().skip_while(|&&f| f == 0x3F00) {
        id = tree.child(id, fid)?;
    }
    match &card.nv_state().files.get(id)?.content {
        uicc::nv::Content::Bytes(b) => Some(b.clone()),
        _ => None,
    }
}

/// A factory for fresh emulated cards.
pub type Factory<T> = Box<dyn FnMut() -> Result<T, String>>;

/// The emulated card under test.
pub struct EmulatedDut<T: EmulatedCard> {
    factory: Factory<T>,
    card: Guarded<T>,
}

impl<T: EmulatedCard> EmulatedDut<T> {
    /// A DUT whose cards come from `factory` (called now and at every rebuild).
    pub fn new(mut factory: Factory<T>) -> Result<Self, String> {
        let card = Guarded::new(factory()?);
        Ok(EmulatedDut { factory, card })
    }

    /// The emulated card (trusted path).
    pub fn card(&mut self) -> &mut Card {
        self.card.inner().card()
    }
}

impl EmulatedDut<transport::Emulator> {
    /// `profile` in a fresh in-memory card each time, with the `uicc` built-in applet classes.
    pub fn from_profile(profile: uicc::Profile) -> Result<Self, String> {
        Self::from_profile_with(profile, uicc::AppletRegistry::builtin())
    }

    /// `profile` in a fresh in-memory card each time, able to instantiate the classes of
    /// `registry` (for example the CLI's built-in card with the WPKI applet). The random
    /// source is the profile's deterministic one, so the same seed gives the same run.
    pub fn from_profile_with(
        profile: uicc::Profile,
        registry: uicc::AppletRegistry,
    ) -> Result<Self, String> {
        EmulatedDut::new(Box::new(move || {
            let options = uicc::CardOptions {
                store: Box::new(MemoryStore::new()),
                registry: registry.clone(),
                rng: None,
            };
            Card::with_options(profile.clone(), options)
                .map(transport::Emulator::new)
                .map_err(|e| e.to_string())
        }))
    }
}

impl<T: EmulatedCard> Dut for EmulatedDut<T> {
    fn transport(&mut self) -> &mut dyn Transport {
        &mut self.card
    }
    fn take_panic(&mut self) -> Option<String> {
        self.card.panicked.take()
    }
    fn observe(&mut self, kvn: u8, canary: Option<&[u16]>) -> Result<Observation, DutError> {
        if let Some(p) = &self.card.panicked {
            return Err(DutError::Panic(p.clone()));
        }
        let card = self.card();
        let counter = Some(card.ota_counter(kvn));
        let canary = match canary {
            Some(p) => Some(nv_file(card, p).ok_or_else(|| {
                DutError::Other(format!("canary {} is not a transparent EF", path_text(p)))
            })?),
            None => None,
        };
        Ok(Observation { counter, canary })
    }
    fn state_loads(&mut self) -> Result<(), String> {
        let card = self.card();
        let state = card.nv_state().clone();
        let bytes = state.to_bytes();
        let back = NvState::from_bytes(&bytes).map_err(|e| format!("state does not parse: {e}"))?;
        if back != state {
            return Err("state changes through a save/load round trip".into());
        }
        let mut store = MemoryStore::new();
        store
            .commit(&back)
            .map_err(|e| format!("state cannot be stored: {e}"))?;
        let options = uicc::CardOptions {
            store: Box::new(store),
            registry: card.registry().clone(),
            rng: None,
        };
        let again = Card::with_options(card.profile().clone(), options)
            .map_err(|e| format!("a card does not start from the saved state: {e}"))?;
        if *again.nv_state() != state {
            return Err("a card started from the saved state has another state".into());
        }
        Ok(())
    }
    fn rebuild(&mut self) -> Result<bool, String> {
        self.card = Guarded::new((self.factory)()?);
        Ok(true)
    }
    fn trusted_counter(&self) -> bool {
        true
    }
    fn known_tars(&mut self) -> Vec<([u8; 3], Option<u8>)> {
        let card = self.card();
        let mut v: Vec<([u8; 3], Option<u8>)> = card
            .profile()
            .ota_tars
            .iter()
            .map(|t| (t.tar, t.min_security))
            .collect();
        for t in &card.nv_state().ota.toolkit {
            for tar in &t.params.tars {
                v.push((*tar, t.params.msl));
            }
        }
        v
    }
    fn name(&self) -> String {
        self.card.name()
    }
}

/// `3F00/2FE2`.
pub fn path_text(p: &[u16]) -> String {
    p.iter()
        .map(|f| format!("{f:04X}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// Parse `3F00/2FE2` (or `3F002FE2`).
pub fn parse_path(s: &str) -> Result<Vec<u16>, String> {
    let h: String = s.chars().filter(|c| !matches!(c, '/' | ' ')).collect();
    if h.is_empty() || !h.len().is_multiple_of(4) {
        return Err(format!(
            "path {s:?}: expected FIDs of 4 hex digits (3F00/2FE2)"
        ));
    }
    let b = apdu::hex::decode(&h).map_err(|e| format!("path {s:?}: {e}"))?;
    let mut v: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
        .collect();
    if v.first() != Some(&0x3F00) {
        v.insert(0, 0x3F00);
    }
    Ok(v)
}

/// A card in a reader (or any other transport).
pub struct ReaderDut<T: Transport> {
    card: T,
}

impl<T: Transport> ReaderDut<T> {
    /// Wrap a connected card.
    pub fn new(card: T) -> Self {
        ReaderDut { card }
    }

    fn xfer(&mut self, apdu: &[u8]) -> Result<(Vec<u8>, u16), DutError> {
        let mut r = self.card.transmit(apdu)?;
        let (data, sw) = split(&r)?;
        let mut data = data.to_vec();
        let mut sw = sw;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 16 {
                break;
            }
            match sw >> 8 {
                0x61 => {
                    r = self.card.transmit(&[
                        apdu.first().copied().unwrap_or(0) & 0x03,
                        0xC0,
                        0,
                        0,
                        sw as u8,
                    ])?;
                    let (d, s) = split(&r)?;
                    data.extend_from_slice(d);
                    sw = s;
                }
                0x6C => {
                    let mut a = apdu.to_vec();
                    if let Some(l) = a.last_mut() {
                        *l = sw as u8;
                    }
                    r = self.card.transmit(&a)?;
                    let (d, s) = split(&r)?;
                    data = d.to_vec();
                    sw = s;
                }
                _ => break,
            }
        }
        Ok((data, sw))
    }
}

fn split(r: &[u8]) -> Result<(&[u8], u16), DutError> {
    let (d, sw) = transport::split_response(r)?;
    Ok((d, sw))
}

impl<T: Transport> Dut for ReaderDut<T> {
    fn transport(&mut self) -> &mut dyn Transport {
        &mut self.card
    }
    fn take_panic(&mut self) -> Option<String> {
        None
    }
    fn observe(&mut self, _kvn: u8, canary: Option<&[u16]>) -> Result<Observation, DutError> {
        let canary = match canary {
            None => None,
            Some(p) => {
                let mut sel = vec![0x00, 0xA4, 0x08, 0x0C];
                let b: Vec<u8> = p
                    .iter()
                    .skip_while(|&&f| f == 0x3F00)
                    .flat_map(|f| f.to_be_bytes())
                    .collect();
                sel.push(b.len() as u8);
                sel.extend_from_slice(&b);
                let (_, sw) = self.xfer(&sel)?;
                if sw != 0x9000 {
                    return Err(DutError::Other(format!(
                        "SELECT canary {} answered {sw:04X}",
                        path_text(p)
                    )));
                }
                let (d, sw) = self.xfer(&[0x00, 0xB0, 0x00, 0x00, 0x00])?;
                if sw != 0x9000 {
                    return Err(DutError::Other(format!(
                        "READ BINARY canary {} answered {sw:04X}",
                        path_text(p)
                    )));
                }
                Some(d)
            }
        };
        Ok(Observation {
            counter: None,
            canary,
        })
    }
    fn state_loads(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn rebuild(&mut self) -> Result<bool, String> {
        Ok(false)
    }
    fn trusted_counter(&self) -> bool {
        false
    }
    fn known_tars(&mut self) -> Vec<([u8; 3], Option<u8>)> {
        Vec::new()
    }
    fn name(&self) -> String {
        self.card.name()
    }
}

/// The KVN a keyset uses (its KIc index, else its KID index).
pub fn kvn_of(keys: &Keyset) -> u8 {
    if keys.kic_alg().is_some() {
        keys.kic_index
    } else {
        keys.kid_index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulator_observation_and_state() {
        let mut d = EmulatedDut::from_profile(uicc::Profile::default_profile()).unwrap();
        let o = d.observe(1, Some(&[0x3F00, 0x2FE2])).unwrap();
        assert_eq!(o.counter, Some(Counter::default()));
        assert_eq!(o.canary.as_ref().map(|c| c.len()), Some(10));
        d.state_loads().unwrap();
        assert!(d.observe(1, Some(&[0x3F00, 0x7F10])).is_err());
        assert!(d.rebuild().unwrap());
        assert!(!d.known_tars().is_empty());
    }

    #[test]
    fn reader_observation_uses_plain_apdus() {
        let e = transport::Emulator::default_card().unwrap();
        let mut r = ReaderDut::new(e);
        let o = r.observe(1, Some(&[0x3F00, 0x2FE2])).unwrap();
        assert_eq!(o.canary.map(|c| c.len()), Some(10));
        assert_eq!(o.counter, None);
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("3F00/2FE2").unwrap(), vec![0x3F00, 0x2FE2]);
        assert_eq!(parse_path("2FE2").unwrap(), vec![0x3F00, 0x2FE2]);
        assert!(parse_path("2FE").is_err());
        assert_eq!(path_text(&[0x3F00, 0x2FE2]), "3F00/2FE2");
    }
}
