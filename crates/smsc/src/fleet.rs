//! The fleet of emulated cards behind the SMSC: routing by destination MSISDN, the identity
//! of card *i*, and cards created lazily — a card that never received a message does not
//! exist in memory.
//!
//! Card *i* (0 ≤ i < N) has:
//!
//! | field | value |
//! |---|---|
//! | MSISDN | `msisdn_base + i` (digits; EF.MSISDN record 1 holds `+` and these digits) |
//! | ICCID | `89882110` ‖ i as 10 digits ‖ Luhn check digit (19 digits, ITU-T E.118) |
//! | IMSI | `00101` ‖ i as 10 digits (MCC 001, MNC 01: the test network) |
//! | keys, TARs, files | the profile's, unchanged |

use crate::store::FleetStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use terminal::{Terminal, TerminalConfig, TerminalError};
use transport::Transport;

/// The identity of card *i* (see the module table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardIdentity {
    /// Index in the fleet.
    pub index: u64,
    /// MSISDN digits (no `+`).
    pub msisdn: String,
    /// ICCID digits, with the Luhn check digit.
    pub iccid: String,
    /// IMSI digits.
    pub imsi: String,
}

/// Luhn check digit of a digit string (ITU-T E.118 Annex B).
pub fn luhn_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, c)| {
            let d = (c - b'0') as u32;
            if k.is_multiple_of(2) {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl CardIdentity {
    /// The identity of card `index` in a fleet whose first MSISDN is `msisdn_base`.
    pub fn new(index: u64, msisdn_base: u64) -> CardIdentity {
        let body = format!("89882110{index:010}");
        let iccid = format!("{body}{}", luhn_digit(&body));
        CardIdentity {
            index,
            msisdn: (msisdn_base + index).to_string(),
            iccid,
            imsi: format!("00101{index:010}"),
        }
    }

    /// `base` with this card's ICCID, IMSI and MSISDN (`[card] iccid`, `[subscriber]
    /// imsi`/`msisdn` of the profile TOML; EF.ICCID/EF.IMSI/EF.MSISDN follow from them).
    /// Makes a [`ProfileTemplate`] each call: for one card; a fleet keeps one template.
    pub fn profile(&self, base: &uicc::Profile) -> Result<uicc::Profile, String> {
        ProfileTemplate::new(base)?.profile(self)
    }
}

/// The fleet's profile TOML with the per-card values left as slots, made once: a card's
/// profile is the text with its ICCID, IMSI and MSISDN filled in, parsed once (not parsed,
/// edited and printed again for every card).
#[derive(Debug, Clone)]
pub struct ProfileTemplate {
    /// The TOML text, the slots marked by [`SLOT_ICCID`], [`SLOT_IMSI`], [`SLOT_MSISDN`].
    text: String,
    /// Where the profile's `[[applet]] cap` paths are relative to.
    base_dir: std::path::PathBuf,
}

/// Markers of the per-card values in a [`ProfileTemplate`] (strings no profile holds: TOML
/// prints them as they are, inside quotes).
const SLOT_ICCID: &str = "@simota-slot-iccid@";
const SLOT_IMSI: &str = "@simota-slot-imsi@";
const SLOT_MSISDN: &str = "@simota-slot-msisdn@";

impl ProfileTemplate {
    /// The template of `base`.
    pub fn new(base: &uicc::Profile) -> Result<ProfileTemplate, String> {
        let mut doc: toml::Table = base
            .to_toml()
            .parse()
            .map_err(|e| format!("profile TOML: {e}"))?;
        for (table, key, slot) in [
            ("card", "iccid", SLOT_ICCID),
            ("subscriber", "imsi", SLOT_IMSI),
            ("subscriber", "msisdn", SLOT_MSISDN),
        ] {
            let t = doc
                .entry(table)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = t {
                t.insert(key.into(), toml::Value::String(slot.into()));
            }
        }
        let text = toml::to_string(&doc).map_err(|e| format!("profile TOML: {e}"))?;
        for slot in [SLOT_ICCID, SLOT_IMSI, SLOT_MSISDN] {
            if text.matches(slot).count() != 1 {
                return Err(format!("profile TOML: the text already holds {slot:?}"));
            }
        }
        Ok(ProfileTemplate {
            text,
            base_dir: base.base_dir().to_path_buf(),
        })
    }

    /// Card `id`'s profile.
    pub fn profile(&self, id: &CardIdentity) -> Result<uicc::Profile, String> {
        let text = self
            .text
            .replacen(SLOT_ICCID, &id.iccid, 1)
            .replacen(SLOT_IMSI, &id.imsi, 1)
            .replacen(SLOT_MSISDN, &format!("+{}", id.msisdn), 1);
        uicc::Profile::from_toml_str_in(&text, &self.base_dir)
            .map_err(|e| format!("card {}: {e}", id.index))
    }
}

/// Makes card *i*: given its identity and the [`uicc::Store`] its non-volatile state lives
/// in (the card resumes from it), returns the card behind the [`Transport`] seam.
pub type CardFactory = Arc<
    dyn Fn(&CardIdentity, Box<dyn uicc::Store>) -> Result<Box<dyn Transport + Send>, String>
        + Send
        + Sync,
>;

/// A factory for cards made from `base` (with [`CardIdentity::profile`]) and the `uicc`
/// built-in applet classes.
pub fn profile_factory(base: uicc::Profile) -> CardFactory {
    profile_factory_with_keys(base, None)
}

/// [`profile_factory`] where the cards named in `keys` get their own OTA keys
/// ([`crate::KeyFile::apply`]).
pub fn profile_factory_with_keys(
    base: uicc::Profile,
    keys: Option<Arc<crate::KeyFile>>,
) -> CardFactory {
    let template = ProfileTemplate::new(&base);
    Arc::new(move |id: &CardIdentity, store: Box<dyn uicc::Store>| {
        let mut p = template.as_ref().map_err(Clone::clone)?.profile(id)?;
        if let Some(k) = &keys {
            k.apply(id.index, &mut p);
        }
        let card =
            uicc::Card::with_store(p, store).map_err(|e| format!("card {}: {e}", id.index))?;
        Ok(Box::new(transport::Emulator::new(card)) as Box<dyn Transport + Send>)
    })
}

/// The latest state a card committed (a snapshot kept up to date file by file, so a commit
/// copies what changed, not the whole card), and whether the fleet has saved it yet.
#[derive(Default)]
struct Snapshot {
    state: Option<uicc::NvState>,
    unsaved: bool,
}

impl Snapshot {
    /// The committed state when the fleet has not yet saved it; marks it saved.
    fn take_unsaved(&mut self) -> Option<&uicc::NvState> {
        if !std::mem::take(&mut self.unsaved) {
            return None;
        }
        self.state.as_ref()
    }
}

/// A card's [`Snapshot`], shared by its [`CardStore`] and the fleet.
type Pending = Arc<Mutex<Snapshot>>;

/// Where a card's state rests when it is not live: the durable [`FleetStore`] (`--state`),
/// or the in-memory [`Parked`] deltas.
#[derive(Clone)]
enum Backing {
    Durable(Arc<crate::rows::DeltaRows>),
    Parked(Arc<Parked>),
}

/// Idle cards of a memory-only fleet: each one's state as a delta ([`crate::delta`]) from
/// the template (the first state any card of the fleet committed).
#[derive(Default)]
pub struct Parked {
    template: std::sync::OnceLock<crate::delta::Template>,
    rows: Mutex<HashMap<u64, Box<[u8]>>>,
}

impl Parked {
    fn template(&self, first: &uicc::NvState) -> Result<&crate::delta::Template, String> {
        if let Some(t) = self.template.get() {
            return Ok(t);
        }
        let t = crate::delta::Template::of(first)?;
        Ok(self.template.get_or_init(|| t))
    }

    /// Keep card `index`'s state.
    fn park(&self, index: u64, state: &uicc::NvState) -> Result<(), String> {
        let d = self.template(state)?.encode(state)?;
        self.rows
            .lock()
            .map_err(|_| "parked-cards lock poisoned".to_string())?
            .insert(index, d.into_boxed_slice());
        Ok(())
    }

    /// Card `index`'s parked state, if any (it stays parked: a card that commits nothing
    /// before it is parked again keeps this one).
    fn load(&self, index: u64) -> Result<Option<uicc::NvState>, String> {
        let rows = self
            .rows
            .lock()
            .map_err(|_| "parked-cards lock poisoned".to_string())?;
        let (Some(d), Some(t)) = (rows.get(&index), self.template.get()) else {
            return Ok(None);
        };
        crate::delta::decode(&t.value, d).map(Some)
    }

    /// How many cards are parked, and the bytes their deltas take.
    pub fn usage(&self) -> (usize, usize) {
        self.rows
            .lock()
            .map(|r| (r.len(), r.values().map(|d| d.len()).sum()))
            .unwrap_or_default()
    }
}

/// The [`uicc::Store`] of a card of the fleet: loads the card's state from its [`Backing`];
/// commits update the card's [`Snapshot`] (only the files written since the last commit are
/// copied) until the fleet saves it: with a [`FleetStore`] once per delivered message,
/// before the message is acknowledged; in memory when the card is parked.
struct CardStore {
    index: u64,
    backing: Backing,
    pending: Pending,
}

impl uicc::Store for CardStore {
    fn load(&mut self) -> Result<Option<uicc::NvState>, uicc::StoreError> {
        let path = || std::path::PathBuf::from(format!("card {}", self.index));
        let corrupt = |reason: String| uicc::StoreError::Corrupt {
            path: path(),
            reason,
        };
        match &self.backing {
            Backing::Parked(p) => p.load(self.index).map_err(corrupt),
            Backing::Durable(rows) => rows.load(self.index).map_err(|e| uicc::StoreError::Io {
                path: path(),
                reason: e.to_string(),
            }),
        }
    }

    fn commit(&mut self, state: &uicc::NvState) -> Result<(), uicc::StoreError> {
        self.commit_changed(state, None)
    }

    fn commit_changed(
        &mut self,
        state: &uicc::NvState,
        files: Option<&[usize]>,
    ) -> Result<(), uicc::StoreError> {
        let mut p = self.pending.lock().map_err(|_| uicc::StoreError::Io {
            path: format!("card {}", self.index).into(),
            reason: "pending-state lock poisoned".into(),
        })?;
        // The snapshot is this store's own last commit, so the hint holds against it.
        match (p.state.as_mut(), files) {
            (Some(prev), Some(ids)) => prev.sync_files_from(state, ids),
            (Some(prev), None) => prev.clone_from(state),
            (None, _) => p.state = Some(state.clone()),
        }
        p.unsaved = true;
        Ok(())
    }
}

/// Size and numbering of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetConfig {
    /// Number of cards N.
    pub cards: u64,
    /// MSISDN of card 0.
    pub msisdn_base: u64,
}

impl FleetConfig {
    /// Card index for an MSISDN (digits, an optional leading `+`), if in range.
    pub fn route(&self, msisdn: &str) -> Option<u64> {
        let d = msisdn.strip_prefix('+').unwrap_or(msisdn);
        if d.is_empty() || d.len() > 20 || !d.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: u64 = d.parse().ok()?;
        let i = n.checked_sub(self.msisdn_base)?;
        (i < self.cards).then_some(i)
    }

    /// Card index for an ICCID of this fleet (`89882110` ‖ index as 10 digits ‖ Luhn digit;
    /// 18 digits without the check digit are accepted too).
    pub fn route_iccid(&self, iccid: &str) -> Result<u64, String> {
        let d = iccid.trim_end_matches(['F', 'f']);
        if !d.bytes().all(|c| c.is_ascii_digit()) || !(18..=19).contains(&d.len()) {
            return Err(format!("ICCID {iccid:?}: expected 18 or 19 digits"));
        }
        let Some(i) = d[..18].strip_prefix("89882110") else {
            return Err(format!(
                "ICCID {iccid}: not one of this fleet's (they start 89882110)"
            ));
        };
        if d.len() == 19 && d.as_bytes()[18] - b'0' != luhn_digit(&d[..18]) {
            return Err(format!(
                "ICCID {iccid}: Luhn check digit should be {}",
                luhn_digit(&d[..18])
            ));
        }
        let i: u64 = i.parse().map_err(|_| format!("ICCID {iccid}: bad index"))?;
        if i >= self.cards {
            return Err(format!(
                "ICCID {iccid}: card {i}, but the fleet has {} cards",
                self.cards
            ));
        }
        Ok(i)
    }
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            cards: 1000,
            msisdn_base: 491_700_000_000,
        }
    }
}

/// One card with its own phone (terminal simulator).
pub struct CardSlot {
    /// Who the card is.
    pub id: CardIdentity,
    card: Box<dyn Transport + Send>,
    terminal: Terminal,
    pending: Pending,
}

impl std::fmt::Debug for CardSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardSlot").field("id", &self.id).finish()
    }
}

/// What a card answered to one SMS-PP download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Status words of the ENVELOPEs.
    pub envelope_sws: Vec<u16>,
    /// The PoR TP-UD (`02 71 00 …`), if the card sent one (ENVELOPE response or SEND SHORT
    /// MESSAGE).
    pub por: Option<Vec<u8>>,
    /// TP-FCS the phone reports in RP-ERROR (TS 23.040 §9.2.3.22: `D4` SIM busy, `D5` data
    /// download error), `None` when the phone acknowledged the SMS (RP-ACK).
    pub rp_error: Option<u8>,
    /// Mobile-originated short messages the card sent (SEND SHORT MESSAGE, TS 102 223
    /// §6.4.10) during the download, other than the PoR.
    pub mo: Vec<MoMessage>,
}

/// One MO SMS-SUBMIT a card sent (TS 23.040 §9.2.2.2), as the SMSC forwards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoMessage {
    /// TP-DA: type of number.
    pub ton: u8,
    /// TP-DA: numbering plan.
    pub npi: u8,
    /// TP-DA digits (alphanumeric addresses as their text).
    pub destination: String,
    /// TP-PID.
    pub pid: u8,
    /// TP-DCS.
    pub dcs: u8,
    /// TP-UDHI.
    pub udhi: bool,
    /// TP-UD octets as sent (septets packed for the 7-bit alphabet).
    pub ud: Vec<u8>,
}

/// The MO messages of a download that are not part of its PoR: a SEND SHORT MESSAGE whose
/// UDH carries the response packet IE `71`, or a concatenated segment sharing its
/// reference, belongs to the PoR.
fn mo_messages(records: &[terminal::MoSms]) -> Vec<MoMessage> {
    use ota::sms::udh::{Udh, IEI_RESPONSE_PACKET};
    let udh = |s: &ota::sms::SmsSubmit| {
        if s.udhi {
            Udh::parse(&s.ud).ok().map(|(u, _)| u)
        } else {
            None
        }
    };
    let concat_ref = |u: &Udh| {
        uicc::ota_concat::segment_info(u)
            .ok()
            .flatten()
            .map(|i| i.reference)
    };
    let por_refs: Vec<_> = records
        .iter()
        .filter_map(|r| r.submit.as_ref().ok())
        .filter_map(&udh)
        .filter(|u| u.find(IEI_RESPONSE_PACKET).is_some())
        .filter_map(|u| concat_ref(&u))
        .collect();
    records
        .iter()
        .filter_map(|r| r.submit.as_ref().ok())
        .filter(|s| match udh(s) {
            Some(u) => {
                u.find(IEI_RESPONSE_PACKET).is_none()
                    && concat_ref(&u).is_none_or(|c| !por_refs.contains(&c))
            }
            None => true,
        })
        .map(|s| MoMessage {
            ton: s.da.ton,
            npi: s.da.npi,
            destination: match &s.da.value {
                ota::sms::AddressValue::Digits(d) => d.clone(),
                ota::sms::AddressValue::Alphanumeric { text, .. } => text.clone(),
            },
            pid: s.pid,
            dcs: s.dcs.0,
            udhi: s.udhi,
            ud: s.ud.clone(),
        })
        .collect()
}

impl CardSlot {
    /// Deliver one TP-UD (with its UDH) as an SMS-PP download and collect the PoR and any
    /// other MO short messages the card sent.
    pub fn deliver(&mut self, ud: &[u8]) -> Result<Delivery, TerminalError> {
        self.deliver_segments(&[ud.to_vec()])
    }

    /// Deliver the segments of one concatenated short message (TS 23.040 §9.2.3.24.1), one
    /// SMS-PP download each, in order, and collect the PoR and the card's other MO messages.
    pub fn deliver_segments(&mut self, uds: &[Vec<u8>]) -> Result<Delivery, TerminalError> {
        self.terminal.clear_records();
        let o = self.terminal.deliver_prepared(self.card.as_mut(), uds)?;
        Ok(Delivery {
            envelope_sws: o.envelope_sws,
            por: o.por.map(|p| p.ud),
            rp_error: o.rp_error,
            mo: mo_messages(self.terminal.mo_sms()),
        })
    }
}

/// How many cards are live (made, with their phone) at most by default; the least
/// recently used one beyond that is parked.
pub const DEFAULT_LIVE_CARDS: usize = 4096;

/// A card's place in the fleet's table of live cards.
struct Entry {
    slot: Arc<Mutex<Option<CardSlot>>>,
    /// Use counter value at the last use (for least-recently-used parking).
    used: u64,
}

/// The fleet: N cards addressed by MSISDN, each created on first use. At most
/// `live_limit` cards are live; beyond that the least recently used card is parked: its
/// state goes to the [`FleetStore`] (already there with `--state`) or, in memory, is kept as
/// a delta from a template state ([`Parked`]), and the live card and its phone are dropped.
/// The next message to it makes it again from that state.
pub struct Fleet {
    config: FleetConfig,
    factory: CardFactory,
    backing: Backing,
    live_limit: usize,
    cards: Mutex<Live>,
}

#[derive(Default)]
struct Live {
    map: HashMap<u64, Entry>,
    clock: u64,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("config", &self.config)
            .field("live", &self.touched())
            .finish()
    }
}

/// Why a card could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    /// The MSISDN is not a number of this fleet.
    #[error("destination {0:?} is not an MSISDN of this fleet")]
    UnknownMsisdn(String),
    /// Making or starting the card failed.
    #[error("card {index}: {reason}")]
    Card {
        /// Index.
        index: u64,
        /// What went wrong.
        reason: String,
    },
    /// Saving the card's state failed: the message was not acknowledged and the card's
    /// in-memory state was dropped (it resumes from the last saved state).
    #[error("card {index}: {reason}")]
    Store {
        /// Index.
        index: u64,
        /// What went wrong.
        reason: String,
    },
}

impl Fleet {
    /// A fleet of `config.cards` cards made by `factory`, their state in memory only.
    pub fn new(config: FleetConfig, factory: CardFactory) -> Fleet {
        Fleet::with_store(config, factory, None)
    }

    /// A fleet whose cards resume from and save to `store` (`None`: memory only).
    pub fn with_store(
        config: FleetConfig,
        factory: CardFactory,
        store: Option<Arc<dyn FleetStore>>,
    ) -> Fleet {
        Fleet {
            config,
            factory,
            backing: match store {
                Some(s) => Backing::Durable(Arc::new(crate::rows::DeltaRows::new(s))),
                None => Backing::Parked(Arc::default()),
            },
            live_limit: DEFAULT_LIVE_CARDS,
            cards: Mutex::new(Live::default()),
        }
    }

    /// At most `n` (≥ 1) cards live at once; the least recently used beyond are parked.
    pub fn with_live_limit(mut self, n: usize) -> Fleet {
        self.live_limit = n.max(1);
        self
    }

    /// The configuration.
    pub fn config(&self) -> FleetConfig {
        self.config
    }

    /// Card index for an MSISDN (digits, an optional leading `+`), if in range.
    pub fn route(&self, msisdn: &str) -> Option<u64> {
        self.config.route(msisdn)
    }

    /// How many cards are live in memory (made, with their phone).
    pub fn touched(&self) -> usize {
        self.cards.lock().map(|c| c.map.len()).unwrap_or(0)
    }

    /// Parked cards of a memory-only fleet and the bytes their states take (`None` with a
    /// [`FleetStore`]: parked cards are in the store).
    pub fn parked(&self) -> Option<(usize, usize)> {
        match &self.backing {
            Backing::Parked(p) => Some(p.usage()),
            Backing::Durable(_) => None,
        }
    }

    /// Run `f` on the card for `msisdn`, created (and sent its TERMINAL PROFILE) on first
    /// use or when it was parked. The fleet lock is held only to find the card's slot: cards
    /// are created and used under their own locks, so sessions working on different cards
    /// run in parallel.
    ///
    /// With a [`FleetStore`], the state the card committed during `f` is saved (durably)
    /// before this returns, so the caller may acknowledge the message; if saving fails the
    /// result is [`FleetError::Store`] and the card is dropped from memory.
    pub fn with_card<R>(
        &self,
        msisdn: &str,
        f: impl FnOnce(&mut CardSlot) -> R,
    ) -> Result<R, FleetError> {
        let index = self
            .route(msisdn)
            .ok_or_else(|| FleetError::UnknownMsisdn(msisdn.into()))?;
        let err = |reason: String| FleetError::Card { index, reason };
        let (slot, victim) = {
            let mut live = self
                .cards
                .lock()
                .map_err(|_| err("fleet lock poisoned".into()))?;
            live.clock += 1;
            let now = live.clock;
            let slot = live
                .map
                .entry(index)
                .or_insert_with(|| Entry {
                    slot: Arc::default(),
                    used: now,
                })
                .slot
                .clone();
            if let Some(e) = live.map.get_mut(&index) {
                e.used = now;
            }
            // Over the limit: the least recently used other card is parked (below). Its
            // entry stays in the table until it is parked, so a message for it meanwhile
            // waits for its slot and then makes the card again from the parked state.
            let victim = if live.map.len() > self.live_limit {
                live.map
                    .iter()
                    .filter(|(i, _)| **i != index)
                    .min_by_key(|(_, e)| e.used)
                    .map(|(i, e)| (*i, e.slot.clone()))
            } else {
                None
            };
            (slot, victim)
        };
        if let Some((i, victim)) = victim {
            self.park(i, &victim)?;
            if let Ok(mut live) = self.cards.lock() {
                let idle = live.map.get(&i).is_some_and(|e| {
                    Arc::ptr_eq(&e.slot, &victim)
                        && Arc::strong_count(&victim) == 2
                        && victim.try_lock().is_ok_and(|g| g.is_none())
                });
                if idle {
                    live.map.remove(&i);
                }
            }
        }
        let mut guard = slot.lock().map_err(|_| err("card lock poisoned".into()))?;
        if guard.is_none() {
            match self.make(index) {
                Ok(c) => *guard = Some(c),
                Err(e) => {
                    drop(guard);
                    self.forget(index, &slot);
                    return Err(err(e));
                }
            }
        }
        let (r, pending) = match guard.as_mut() {
            Some(card) => (f(card), card.pending.clone()),
            None => return Err(err("card vanished".into())),
        };
        if let Backing::Durable(rows) = &self.backing {
            let saved = match pending.lock() {
                Ok(mut p) => match p.take_unsaved() {
                    Some(state) => rows.save(index, state),
                    None => Ok(()),
                },
                Err(_) => Err(crate::FleetStoreError {
                    path: format!("card {index}").into(),
                    reason: "pending-state lock poisoned".into(),
                }),
            };
            if let Err(e) = saved {
                *guard = None;
                drop(guard);
                self.forget(index, &slot);
                return Err(FleetError::Store {
                    index,
                    reason: e.to_string(),
                });
            }
        }
        Ok(r)
    }

    /// Remove card `index` from the live table if `slot` is still its entry.
    fn forget(&self, index: u64, slot: &Arc<Mutex<Option<CardSlot>>>) {
        if let Ok(mut live) = self.cards.lock() {
            if live
                .map
                .get(&index)
                .is_some_and(|e| Arc::ptr_eq(&e.slot, slot))
            {
                live.map.remove(&index);
            }
        }
    }

    /// Park card `index`: wait for whoever uses it, keep its unsaved state (under the slot
    /// lock, so whoever takes the slot next finds it parked), drop the live card.
    fn park(&self, index: u64, slot: &Arc<Mutex<Option<CardSlot>>>) -> Result<(), FleetError> {
        let mut guard = slot.lock().map_err(|_| FleetError::Card {
            index,
            reason: "card lock poisoned".into(),
        })?;
        let Some(card) = guard.take() else {
            return Ok(());
        };
        if let (Backing::Parked(p), Ok(mut snap)) = (&self.backing, card.pending.lock()) {
            if let Some(state) = snap.take_unsaved() {
                p.park(index, state)
                    .map_err(|reason| FleetError::Card { index, reason })?;
            }
        }
        Ok(())
    }

    fn make(&self, index: u64) -> Result<CardSlot, String> {
        let id = CardIdentity::new(index, self.config.msisdn_base);
        let pending = Pending::default();
        let store = CardStore {
            index,
            backing: self.backing.clone(),
            pending: pending.clone(),
        };
        let mut card = (self.factory)(&id, Box::new(store))?;
        let mut terminal = Terminal::new(TerminalConfig::default());
        terminal
            .terminal_profile(card.as_mut())
            .map_err(|e| format!("TERMINAL PROFILE: {e}"))?;
        Ok(CardSlot {
            id,
            card,
            terminal,
            pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_derived_from_the_index() {
        let id = CardIdentity::new(42, 491_700_000_000);
        assert_eq!(id.msisdn, "491700000042");
        assert_eq!(id.imsi, "001010000000042");
        assert_eq!(id.iccid.len(), 19);
        assert_eq!(&id.iccid[..18], "898821100000000042");
        // The worked example of the Luhn algorithm: 7992739871 → 3.
        assert_eq!(luhn_digit("7992739871"), 3);
        let p = id.profile(&uicc::Profile::default_profile()).unwrap();
        assert!(p.to_toml().contains("001010000000042"));
    }

    #[test]
    fn card_profiles_keep_the_cap_paths_of_their_base() {
        // A profile whose [[applet]] cap is relative to its own directory, not the working
        // directory: every card of the fleet gets the applet, with its own identity.
        let dir = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../test-vectors/cap"
        ));
        let text = format!(
            "{}\n[[applet]]\ncap = \"jcsim-wallet.cap\"\naid = \"D1560001320A64656D9F01\"\n",
            uicc::Profile::default_profile().to_toml()
        );
        let base = uicc::Profile::from_toml_str_in(&text, &dir).unwrap();
        let t = ProfileTemplate::new(&base).unwrap();
        for i in [0, 7] {
            let id = CardIdentity::new(i, 491_700_000_000);
            let p = t.profile(&id).unwrap();
            assert_eq!(p.applets.len(), base.applets.len());
            assert!(p.applets.iter().any(|a| a.cap.is_some()));
            let toml = p.to_toml();
            assert!(toml.contains(&id.iccid) && toml.contains(&id.imsi), "{i}");
            assert!(toml.contains(&format!("+{}", id.msisdn)));
            assert!(!toml.contains("@simota-slot"));
        }
    }

    #[test]
    fn a_profile_without_subscriber_table_still_gets_each_cards_identity() {
        let base =
            uicc::Profile::from_toml_str("[card]\n[[file]]\npath = \"3F00\"\ntype = \"df\"\n")
                .unwrap();
        let id = CardIdentity::new(3, 100);
        let p = ProfileTemplate::new(&base).unwrap().profile(&id).unwrap();
        assert!(p.to_toml().contains("001010000000003"));
        assert!(p.to_toml().contains(&id.iccid));
    }

    #[test]
    fn routing_is_by_range() {
        let f = Fleet::new(
            FleetConfig {
                cards: 10,
                msisdn_base: 100,
            },
            profile_factory(uicc::Profile::default_profile()),
        );
        assert_eq!(f.route("100"), Some(0));
        assert_eq!(f.route("+109"), Some(9));
        assert_eq!(f.route("110"), None);
        assert_eq!(f.route("99"), None);
        assert_eq!(f.route("1x0"), None);
        assert_eq!(f.route(""), None);
        assert_eq!(f.touched(), 0);
        let id = f.with_card("105", |c| c.id.clone()).unwrap();
        assert_eq!(id, CardIdentity::new(5, 100));
        assert_eq!(f.touched(), 1);
        assert!(matches!(
            f.with_card("5", |_| ()),
            Err(FleetError::UnknownMsisdn(_))
        ));
    }
}
