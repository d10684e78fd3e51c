//! The card: ATR, T=0 response handling (61xx / 6Cxx / GET RESPONSE), logical channels
//! (TS 102 221 §11.1.17), command dispatch, and the volatile state that reset clears.

use crate::applet::{Apdu, AppletContext, AppletRegistry};
use crate::cat::CatState;
use crate::fs::{NodeId, MF};
use crate::nv::{life_cycle, AppletNv, NvState};
use crate::profile::Profile;
use crate::rng::{AesCtrRng, RandomSource};
use crate::store::{MemoryStore, Store, StoreError};
use crate::txn::Nv;
use apdu::class::{ClassKind, SecureMessaging};
use apdu::{ApduError, CommandApdu};
use std::collections::BTreeMap;
use thiserror::Error;

/// Number of logical channels (0 = basic, 1–19 extended; TS 102 221 §10.1.1).
pub const CHANNELS: usize = 20;

/// Why a card could not be built or resumed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    /// The store failed.
    #[error("state store: {0}")]
    Store(#[from] StoreError),
    /// The stored state belongs to another profile (or another layout version).
    #[error("the state was created from a different profile (fingerprint {stored}, profile has {profile}); delete the state file or use the matching profile")]
    ProfileMismatch {
        /// Fingerprint in the state.
        stored: String,
        /// Fingerprint of the profile.
        profile: String,
    },
    /// The stored state does not fit the profile's file tree.
    #[error("the state does not match the profile's file tree: {0}")]
    BadState(String),
    /// An applet instance names a class the registry does not have.
    #[error("applet {aid}: class {class} is not registered")]
    UnknownAppletClass {
        /// Instance AID (hex).
        aid: String,
        /// Class AID (hex).
        class: String,
    },
    /// An applet's install failed.
    #[error("applet {aid}: install failed with SW {sw:04X}")]
    InstallFailed {
        /// Instance AID (hex).
        aid: String,
        /// The status word it threw.
        sw: u16,
    },
}

/// Per-channel volatile state: current DF/ADF/EF, record pointer, selected applet, and data
/// pending for GET RESPONSE.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chan {
    pub(crate) df: NodeId,
    pub(crate) adf: Option<NodeId>,
    pub(crate) ef: Option<NodeId>,
    pub(crate) rec: Option<usize>,
    pub(crate) applet: Option<Vec<u8>>,
    pub(crate) pending: Vec<u8>,
}

/// A handler's successful answer.
pub(crate) struct Resp {
    pub(crate) data: Vec<u8>,
    pub(crate) sw: u16,
    /// The data is one unit (FCP, record, …): a too-small Le gets `6Cxx`, not a truncation.
    pub(crate) exact: bool,
}

impl Resp {
    pub(crate) fn ok() -> Resp {
        Resp {
            data: Vec::new(),
            sw: 0x9000,
            exact: false,
        }
    }
    pub(crate) fn sw(sw: u16) -> Resp {
        Resp {
            data: Vec::new(),
            sw,
            exact: false,
        }
    }
    pub(crate) fn data(data: Vec<u8>) -> Resp {
        Resp {
            data,
            sw: 0x9000,
            exact: false,
        }
    }
    pub(crate) fn unit(data: Vec<u8>) -> Resp {
        Resp {
            data,
            sw: 0x9000,
            exact: true,
        }
    }
}

/// Handler result: `Err(sw)` for errors.
pub(crate) type R = Result<Resp, u16>;

/// Options for building a card beyond the defaults.
pub struct CardOptions {
    /// Where the non-volatile state lives.
    pub store: Box<dyn Store>,
    /// Applet classes the card can instantiate.
    pub registry: AppletRegistry,
    /// Random source (default: AES-CTR seeded by the profile).
    pub rng: Option<Box<dyn RandomSource>>,
}

/// The emulated UICC (sans-IO): feed it C-APDUs, get R-APDUs.
pub struct Card {
    pub(crate) profile: Profile,
    pub(crate) nv: Nv,
    registry: AppletRegistry,
    pub(crate) objs: BTreeMap<Vec<u8>, Box<dyn crate::applet::Applet>>,
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) chans: [Option<Chan>; CHANNELS],
    /// Verified global key references (01–08, 0A–0E, 11), plus RFM-granted ones.
    pub(crate) verified: [bool; 256],
    /// Verified local key references (81–88, 8A–8E), per owning ADF (TS 102 221 §9.5.1).
    pub(crate) verified_local: Vec<(NodeId, u8)>,
    /// Volatile state of the CAT engine.
    pub cat: CatState,
    /// Set only while a GSM (class A0) command runs: the ADF whose local key references
    /// (CHV2 = PIN2, 81) apply to files outside any ADF (TS 51.011 mode, [`crate::gsm_sim`]).
    pub(crate) gsm_key_adf: Option<NodeId>,
    /// Channels on which the issuer security domain is selected, with their secure channel
    /// state ([`crate::isd`]).
    pub(crate) isd_chans: BTreeMap<usize, crate::isd::IsdChan>,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("profile", &self.profile.name)
            .finish_non_exhaustive()
    }
}

fn sw_bytes(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

impl Card {
    /// A card with an in-memory store and the built-in applet classes.
    pub fn new(profile: Profile) -> Result<Card, CardError> {
        Card::with_store(profile, Box::new(MemoryStore::new()))
    }

    /// A card whose state lives in `store`; resumes from the store's state if it has one.
    pub fn with_store(profile: Profile, store: Box<dyn Store>) -> Result<Card, CardError> {
        Card::with_options(
            profile,
            CardOptions {
                store,
                registry: AppletRegistry::builtin(),
                rng: None,
            },
        )
    }

    /// A card with every part chosen by the caller.
    pub fn with_options(profile: Profile, opts: CardOptions) -> Result<Card, CardError> {
        let rng = opts
            .rng
            .unwrap_or_else(|| Box::new(AesCtrRng::new(&profile.rng_seed)));
        let mut nv = Nv::new(profile.initial_state().clone(), opts.store);
        let stored = nv.load()?;
        let fresh = stored.is_none();
        if let Some(mut s) = stored {
            check_state(&profile, &s)?;
            // A state written before the ISD had key sets (no `isd` object): give it the
            // profile's. A card never deletes its last key set, so empty means "absent".
            if s.isd.keysets.is_empty() {
                s.isd.keysets = profile.initial_state().isd.keysets.clone();
            }
            nv.state = s;
        }
        let mut card = Card {
            profile,
            nv,
            registry: opts.registry,
            objs: BTreeMap::new(),
            rng,
            chans: Default::default(),
            verified: [false; 256],
            verified_local: Vec::new(),
            cat: CatState::default(),
            gsm_key_adf: None,
            isd_chans: BTreeMap::new(),
        };
        // The profile's `[[applet]] cap = "…"` classes.
        for a in card.profile.applets.clone() {
            if let Some(cap) = &a.cap {
                if card.registry.find(&a.class_aid).is_none() {
                    let classes = crate::java_applet::JavaAppletClass::from_cap((**cap).clone())
                        .map_err(|_| CardError::UnknownAppletClass {
                            aid: apdu::hex::encode(&a.aid),
                            class: apdu::hex::encode(&a.class_aid),
                        })?;
                    for c in classes {
                        card.registry.register(c);
                    }
                }
            }
        }
        if fresh {
            card.install_profile_applets()?;
            card.nv
                .write(|_| ())
                .map_err(|sw| CardError::InstallFailed {
                    aid: String::new(),
                    sw,
                })?;
            card.nv
                .checkpoint()
                .map_err(|_| match card.nv.last_store_error() {
                    Some(e) => CardError::Store(e.clone()),
                    None => CardError::InstallFailed {
                        aid: String::new(),
                        sw: 0x6581,
                    },
                })?;
        }
        card.power_on()?;
        Ok(card)
    }

    fn install_profile_applets(&mut self) -> Result<(), CardError> {
        for a in self.profile.applets.clone() {
            self.install_applet(
                &a.class_aid,
                &a.aid,
                &a.params,
                a.life_cycle,
                a.default_selected,
            )
            .map_err(|sw| CardError::InstallFailed {
                aid: apdu::hex::encode(&a.aid),
                sw,
            })?;
        }
        Ok(())
    }

    /// Create an applet instance of a registered class (GP INSTALL [for install]); the
    /// instance's `install` runs with `params`. 6A80 if the AID is taken, 6A88 if the class is
    /// unknown.
    pub fn install_applet(
        &mut self,
        class_aid: &[u8],
        aid: &[u8],
        params: &[u8],
        life_cycle: u8,
        default_selected: bool,
    ) -> Result<(), u16> {
        if self.nv.state.applets.iter().any(|a| a.aid == aid)
            || self.profile.tree.adf_by_aid(aid).is_some()
        {
            return Err(0x6A80);
        }
        let class = self.find_class(class_aid).ok_or(0x6A88u16)?;
        let entry = AppletNv {
            aid: aid.to_vec(),
            class_aid: class_aid.to_vec(),
            life_cycle,
            default_selected,
            params: params.to_vec(),
            data: BTreeMap::new(),
        };
        self.nv.write(|s| s.applets.push(entry))?;
        let mut obj = class.create();
        let table = self.sat_table(None);
        let sat = move |k: u8| table[k as usize];
        let r = {
            let mut ctx = AppletContext {
                nv: &mut self.nv,
                aid,
                rng: &mut *self.rng,
                verified: &sat,
                toolkit: None,
                peers: Some(&mut self.objs),
            };
            obj.install(&mut ctx, params)
        };
        if let Err(sw) = r {
            let _ = self.nv.write(|s| s.applets.retain(|a| a.aid != aid));
            return Err(sw.0);
        }
        self.objs.insert(aid.to_vec(), obj);
        Ok(())
    }

    fn power_on(&mut self) -> Result<(), CardError> {
        self.objs.clear();
        for a in &self.nv.state.applets {
            let class =
                self.find_class(&a.class_aid)
                    .ok_or_else(|| CardError::UnknownAppletClass {
                        aid: apdu::hex::encode(&a.aid),
                        class: apdu::hex::encode(&a.class_aid),
                    })?;
            self.objs.insert(a.aid.clone(), class.create());
        }
        self.chans = Default::default();
        self.chans[0] = Some(Chan {
            df: MF,
            ..Chan::default()
        });
        self.verified = [false; 256];
        self.verified_local.clear();
        self.cat = CatState::default();
        self.isd_chans.clear();
        // Implicit selection of the default applet on the basic channel (none while the
        // card is locked: GPCS §5.1.1.4).
        let locked = self.card_locked();
        if let Some(a) = self.nv.state.applets.iter().find(|a| {
            !locked
                && a.default_selected
                && a.life_cycle & life_cycle::LOCKED_BIT == 0
                && a.life_cycle & life_cycle::SELECTABLE == life_cycle::SELECTABLE
        }) {
            let aid = a.aid.clone();
            if self.applet_select(&aid) {
                if let Some(c) = self.chans[0].as_mut() {
                    c.applet = Some(aid);
                }
            }
        }
        Ok(())
    }

    /// Cold reset: volatile state cleared (channels, selections, verified PINs, pending
    /// data), non-volatile state kept; after a power cut, the committed state is reloaded.
    /// Returns the ATR.
    pub fn reset(&mut self) -> Vec<u8> {
        if self.nv.power_lost() {
            let init = self.profile.initial_state().clone();
            if self.nv.restart(|| init).is_err() {
                return Vec::new();
            }
        }
        // A store can only fail here if an applet class vanished; stay mute then.
        if self.power_on().is_err() {
            return Vec::new();
        }
        self.atr()
    }

    /// Warm reset: same effect on the card state as a cold reset (TS 102 221 §6.2.2).
    pub fn warm_reset(&mut self) -> Vec<u8> {
        self.reset()
    }

    /// The ATR from the profile.
    pub fn atr(&self) -> Vec<u8> {
        self.profile.atr.clone()
    }

    /// The profile the card was built from.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The non-volatile state (equal to the committed state between APDUs).
    pub fn nv_state(&self) -> &NvState {
        self.nv.state()
    }

    /// Tearing hook: cut power right after the `k`-th non-volatile write from now (0 disarms).
    /// The card then answers nothing (empty R-APDU) until [`Card::reset`], which reloads the
    /// last committed state.
    pub fn tear_after_writes(&mut self, k: u64) {
        self.nv.tear_after(k)
    }

    /// Whether power was cut (tearing hook or store failure).
    pub fn power_lost(&self) -> bool {
        self.nv.power_lost()
    }

    /// Count of non-volatile writes so far (to choose tearing points).
    pub fn nv_writes(&self) -> u64 {
        self.nv.writes()
    }

    /// Give back the store (e.g. to restart another card from it).
    pub fn into_store(self) -> Box<dyn Store> {
        self.nv.into_store()
    }

    /// Commit the non-volatile state written outside an APDU (e.g. by
    /// [`Card::install_applet`] at start-up); 6581 once power is lost.
    pub fn commit_nv(&mut self) -> Result<(), u16> {
        self.nv.checkpoint()
    }

    /// Replace the random source.
    pub fn set_rng(&mut self, rng: Box<dyn RandomSource>) {
        self.rng = rng;
    }

    /// The applet class with this class AID: a registered class, else an applet of a CAP
    /// loaded by GP LOAD ([`crate::java_applet`]).
    pub fn find_class(
        &self,
        class_aid: &[u8],
    ) -> Option<std::sync::Arc<dyn crate::applet::AppletClass>> {
        self.registry.find(class_aid).cloned().or_else(|| {
            crate::java_applet::class_from_load_files(&self.nv.state.isd.load_files, class_aid)
        })
    }

    /// The applet classes this card can instantiate.
    pub fn registry(&self) -> &AppletRegistry {
        &self.registry
    }

    /// Process one C-APDU and return the R-APDU (data ‖ SW1 ‖ SW2). Never panics; a card
    /// whose power was cut returns an empty vector.
    pub fn process(&mut self, capdu: &[u8]) -> Vec<u8> {
        if self.nv.power_lost() {
            return Vec::new();
        }
        let out = self.process_inner(capdu);
        if self.nv.power_lost() {
            if self.nv.last_store_error().is_some() {
                return sw_bytes(0x6581);
            }
            return Vec::new();
        }
        out
    }

    fn process_inner(&mut self, capdu: &[u8]) -> Vec<u8> {
        let cmd = match CommandApdu::parse(capdu) {
            Ok(c) => c,
            Err(ApduError::TooShort { .. }) | Err(_) => return sw_bytes(0x6700),
        };
        let class = cmd.class();
        if class.kind == ClassKind::Gsm {
            return self.gsm_process(&cmd);
        }
        match class.kind {
            ClassKind::Interindustry
            | ClassKind::InterindustryFurther
            | ClassKind::Proprietary
            | ClassKind::ProprietaryFurther => {}
            _ => return sw_bytes(0x6E00),
        }
        // CAT commands: CLA 80 only, no channel.
        if matches!(cmd.ins, 0x10 | 0x12 | 0x14 | 0xC2) && class.is_proprietary() {
            if cmd.cla != 0x80 {
                return sw_bytes(0x6E00);
            }
            let r = self.cat_apdu(&cmd);
            let end = self.nv.end_apdu();
            return match end {
                Ok(()) => self.finish(0, &cmd, r),
                Err(sw) => sw_bytes(sw),
            };
        }
        // The ISD selected on this channel takes everything but SELECT, MANAGE CHANNEL and
        // GET RESPONSE, including secure messaging (GPCS §10.7).
        let ich = class.channel as usize;
        if self.isd_selected(ich) && self.chans.get(ich).is_some_and(|c| c.is_some()) {
            let prop = class.is_proprietary();
            // GET RESPONSE goes to the file system whatever its class: pySim (and other T=0
            // hosts) fetch a 61xx answer with the command's own class, e.g. `80 C0`.
            let to_fs = (cmd.ins == 0xA4 && !prop) || matches!(cmd.ins, 0xC0 | 0x70);
            if !to_fs {
                if let Some(Some(c)) = self.chans.get_mut(ich) {
                    c.pending.clear();
                }
                let r = self.isd_process(ich, &cmd);
                if let Err(sw) = self.nv.end_apdu() {
                    return sw_bytes(sw);
                }
                return self.finish(ich, &cmd, r);
            }
        }
        // A GET RESPONSE fetching a secured ISD answer may carry the command's SM class (pySim
        // sends `84 C0`): the answer was already wrapped, the class is only an echo.
        let isd_get_response = cmd.ins == 0xC0 && self.isd_selected(ich);
        if class.sm != SecureMessaging::None && !isd_get_response {
            return sw_bytes(0x6882);
        }
        if class.chaining {
            return sw_bytes(0x6884);
        }
        let ch = class.channel as usize;
        if self.chans.get(ch).is_none_or(|c| c.is_none()) {
            return sw_bytes(0x6881);
        }
        // GET RESPONSE is an interindustry command (TS 102 221 §10.1.2), but tools such as
        // pySim fetch the answer of an 8X command (STATUS, RETRIEVE DATA) with the same CLA.
        if cmd.ins == 0xC0 {
            return self.get_response(ch, &cmd);
        }
        if let Some(Some(c)) = self.chans.get_mut(ch) {
            c.pending.clear();
        }
        let r = self.dispatch(ch, &cmd, class.is_proprietary());
        if let Err(sw) = self.nv.end_apdu() {
            return sw_bytes(sw);
        }
        self.finish(ch, &cmd, r)
    }

    fn dispatch(&mut self, ch: usize, cmd: &CommandApdu, prop: bool) -> R {
        let applet = self.chans[ch].as_ref().and_then(|c| c.applet.clone());
        if let Some(aid) = applet {
            let to_card = cmd.ins == 0x70 || (cmd.ins == 0xA4 && !prop);
            if !to_card {
                return self.applet_process(ch, &aid, cmd, false);
            }
        }
        self.dispatch_fs(ch, cmd, prop)
    }

    /// The card's own command set (file system, PINs, AUTHENTICATE, channels).
    pub(crate) fn dispatch_fs(&mut self, ch: usize, cmd: &CommandApdu, prop: bool) -> R {
        // Commands of the interindustry families (0X/4X/6X) vs. TS 102 221 ones (8X/CX/EX).
        let want_prop = matches!(cmd.ins, 0xF2 | 0x32 | 0xAA | 0xCB | 0xDB);
        let known = matches!(
            cmd.ins,
            0xA4 | 0xB0
                | 0xD6
                | 0xB2
                | 0xDC
                | 0xA2
                | 0x20
                | 0x24
                | 0x26
                | 0x28
                | 0x2C
                | 0x04
                | 0x44
                | 0x88
                | 0x84
                | 0x70
        ) || want_prop;
        if !known {
            return Err(0x6D00);
        }
        if want_prop != prop {
            return Err(0x6E00);
        }
        match cmd.ins {
            0xA4 => self.cmd_select(ch, cmd),
            0xB0 => self.cmd_read_binary(ch, cmd),
            0xD6 => self.cmd_update_binary(ch, cmd),
            0xB2 => self.cmd_read_record(ch, cmd),
            0xDC => self.cmd_update_record(ch, cmd),
            0xA2 => self.cmd_search_record(ch, cmd),
            0x32 => self.cmd_increase(ch, cmd),
            0xF2 => self.cmd_status(ch, cmd),
            0x04 | 0x44 => self.cmd_activation(ch, cmd),
            0xCB => self.cmd_retrieve_data(ch, cmd),
            0xDB => self.cmd_set_data(ch, cmd),
            0x20 => self.cmd_verify(ch, cmd),
            0x24 => self.cmd_change(ch, cmd),
            0x26 | 0x28 => self.cmd_enable_disable(ch, cmd),
            0x2C => self.cmd_unblock(ch, cmd),
            0x88 => self.cmd_authenticate(ch, cmd),
            0x84 => self.cmd_get_challenge(cmd),
            0x70 => self.cmd_manage_channel(ch, cmd),
            0xAA => {
                if cmd.p1 != 0 || cmd.p2 != 0 {
                    Err(0x6B00)
                } else {
                    Ok(Resp::ok())
                }
            }
            _ => Err(0x6D00),
        }
    }

    /// Shape the answer for T=0 and T=1 alike: data without Le is kept for GET RESPONSE and
    /// announced with 61xx; a unit that does not fit Le answers 6Cxx; longer data is chunked.
    fn finish(&mut self, ch: usize, cmd: &CommandApdu, r: R) -> Vec<u8> {
        let mut r = match r {
            Ok(r) => r,
            Err(sw) => return sw_bytes(sw),
        };
        if r.sw == 0x9000 {
            // An applet may have set or cleared an event download in any command.
            if self.cat.terminal_profile.is_some() && !self.cat.busy() {
                self.sync_event_list();
            }
            if let Some(n) = self.cat.proactive_pending() {
                r.sw = 0x9100 | (n.min(0xFF) as u16);
            }
        }
        if r.data.is_empty() {
            return sw_bytes(r.sw);
        }
        let len = r.data.len();
        let ok = r.sw == 0x9000;
        match cmd.le {
            None => {
                let sw = if ok {
                    0x6100 | (len.min(256) & 0xFF) as u16
                } else {
                    r.sw
                };
                if let Some(Some(c)) = self.chans.get_mut(ch) {
                    c.pending = r.data;
                }
                sw_bytes(sw)
            }
            Some(ne) => {
                let ne = ne as usize;
                if len <= ne {
                    let mut out = r.data;
                    out.extend_from_slice(&r.sw.to_be_bytes());
                    out
                } else if r.exact && len <= 256 {
                    sw_bytes(0x6C00 | (len & 0xFF) as u16)
                } else {
                    let rest = r.data.split_off(ne);
                    let mut out = r.data;
                    let sw = 0x6100 | (rest.len().min(256) & 0xFF) as u16;
                    if let Some(Some(c)) = self.chans.get_mut(ch) {
                        c.pending = rest;
                    }
                    out.extend_from_slice(&sw.to_be_bytes());
                    out
                }
            }
        }
    }

    fn get_response(&mut self, ch: usize, cmd: &CommandApdu) -> Vec<u8> {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return sw_bytes(0x6B00);
        }
        if !cmd.data.is_empty() {
            return sw_bytes(0x6700);
        }
        let Some(Some(c)) = self.chans.get_mut(ch) else {
            return sw_bytes(0x6881);
        };
        if c.pending.is_empty() {
            return sw_bytes(0x6985);
        }
        let ne = cmd.le.unwrap_or(256) as usize;
        if ne >= c.pending.len() {
            let mut out = std::mem::take(&mut c.pending);
            out.extend_from_slice(&[0x90, 0x00]);
            out
        } else {
            let rest = c.pending.split_off(ne);
            let mut out = std::mem::replace(&mut c.pending, rest);
            let n = c.pending.len().min(256) & 0xFF;
            out.extend_from_slice(&[0x61, n as u8]);
            out
        }
    }

    /// Run an applet's `select()`; false if it refused.
    pub(crate) fn applet_select(&mut self, aid: &[u8]) -> bool {
        let table = self.sat_table(None);
        let sat = move |k: u8| table[k as usize];
        let Some(mut obj) = self.objs.remove(aid) else {
            return false;
        };
        let mut ctx = AppletContext {
            nv: &mut self.nv,
            aid,
            rng: &mut *self.rng,
            verified: &sat,
            toolkit: None,
            peers: Some(&mut self.objs),
        };
        let r = obj.select(&mut ctx);
        self.objs.insert(aid.to_vec(), obj);
        r
    }

    /// Run an applet's `deselect()`.
    pub(crate) fn applet_deselect(&mut self, aid: &[u8]) {
        let table = self.sat_table(None);
        let sat = move |k: u8| table[k as usize];
        if let Some(mut obj) = self.objs.remove(aid) {
            let mut ctx = AppletContext {
                nv: &mut self.nv,
                aid,
                rng: &mut *self.rng,
                verified: &sat,
                toolkit: None,
                peers: Some(&mut self.objs),
            };
            obj.deselect(&mut ctx);
            self.objs.insert(aid.to_vec(), obj);
        }
    }

    /// Route a command to the applet selected on channel `ch`.
    pub(crate) fn applet_process(
        &mut self,
        ch: usize,
        aid: &[u8],
        cmd: &CommandApdu,
        selecting: bool,
    ) -> R {
        let adf = self
            .chans
            .get(ch)
            .and_then(|c| c.as_ref())
            .and_then(|c| c.adf);
        let table = self.sat_table(adf);
        let sat = move |k: u8| table[k as usize];
        // The instance is taken out of the table while it runs, so that the others are
        // reachable from it (Shareable interface objects, JCRE Spec §6.2.4).
        let Some(mut obj) = self.objs.remove(aid) else {
            return Err(0x6F00);
        };
        let mut ctx = AppletContext {
            nv: &mut self.nv,
            aid,
            rng: &mut *self.rng,
            verified: &sat,
            toolkit: None,
            peers: Some(&mut self.objs),
        };
        let mut apdu = Apdu::new(cmd, selecting, ch as u8);
        let r = obj.process(&mut ctx, &mut apdu);
        self.objs.insert(aid.to_vec(), obj);
        let out = apdu.take_output();
        match r {
            Ok(()) => Ok(Resp::data(out)),
            Err(sw) if sw.0 == 0x9000 => Ok(Resp::data(out)),
            Err(sw) => {
                // An exception aborts an open transaction (Java Card semantics).
                if self.nv.in_transaction() {
                    let _ = self.nv.abort();
                }
                Err(sw.0)
            }
        }
    }

    /// Deselect whatever applet channel `ch` has selected.
    pub(crate) fn drop_applet(&mut self, ch: usize) {
        self.isd_deselect(ch);
        let prev = self
            .chans
            .get_mut(ch)
            .and_then(|c| c.as_mut())
            .and_then(|c| c.applet.take());
        if let Some(aid) = prev {
            self.applet_deselect(&aid);
        }
    }

    fn cmd_get_challenge(&mut self, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Err(0x6B00);
        }
        if !cmd.data.is_empty() {
            return Err(0x6700);
        }
        let n = cmd.le.unwrap_or(8).min(256) as usize;
        let mut b = vec![0u8; n];
        self.rng.fill(&mut b);
        Ok(Resp::data(b))
    }

    fn cmd_manage_channel(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if !cmd.data.is_empty() {
            return Err(0x6700);
        }
        match cmd.p1 {
            0x00 => {
                let target = if cmd.p2 == 0 {
                    (1..CHANNELS)
                        .find(|&i| self.chans[i].is_none())
                        .ok_or(0x6A81u16)?
                } else {
                    let t = cmd.p2 as usize;
                    if t >= CHANNELS {
                        return Err(0x6A81);
                    }
                    if self.chans[t].is_some() {
                        return Err(0x6A86);
                    }
                    t
                };
                let origin = self.chans[ch].clone().unwrap_or_default();
                let new = if ch == 0 {
                    Chan {
                        df: MF,
                        ..Chan::default()
                    }
                } else {
                    Chan {
                        df: origin.df,
                        adf: origin.adf,
                        ..Chan::default()
                    }
                };
                self.chans[target] = Some(new);
                if cmd.p2 == 0 {
                    Ok(Resp::unit(vec![target as u8]))
                } else {
                    Ok(Resp::ok())
                }
            }
            0x80 => {
                let t = if cmd.p2 == 0 { ch } else { cmd.p2 as usize };
                if t == 0 {
                    return Err(0x6A86);
                }
                if t >= CHANNELS || self.chans[t].is_none() {
                    return Err(0x6881);
                }
                self.drop_applet(t);
                self.chans[t] = None;
                Ok(Resp::ok())
            }
            _ => Err(0x6A86),
        }
    }
}

fn check_state(p: &Profile, s: &NvState) -> Result<(), CardError> {
    if s.profile_fingerprint != p.fingerprint() || s.format != crate::nv::NV_FORMAT {
        return Err(CardError::ProfileMismatch {
            stored: s.profile_fingerprint.clone(),
            profile: p.fingerprint().to_string(),
        });
    }
    let init = p.initial_state();
    if s.files.len() != init.files.len()
        || s.pins.len() != init.pins.len()
        || s.auth.len() != init.auth.len()
    {
        return Err(CardError::BadState(
            "file, PIN or AUTH entries differ in number".into(),
        ));
    }
    for (i, (a, b)) in s.files.iter().zip(&init.files).enumerate() {
        let same_shape = match (&a.content, &b.content) {
            (crate::nv::Content::Directory, crate::nv::Content::Directory) => true,
            (crate::nv::Content::Bytes(x), crate::nv::Content::Bytes(y)) => {
                x.len() == y.len()
                    || matches!(
                        p.tree.nodes.get(i).and_then(|n| n.ef()),
                        Some(crate::fs::EfStructure::BerTlv { .. })
                    )
            }
            (crate::nv::Content::Records(x), crate::nv::Content::Records(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(r, q)| r.len() == q.len())
            }
            _ => false,
        };
        if !same_shape {
            return Err(CardError::BadState(format!(
                "file #{i} has another structure or size"
            )));
        }
    }
    for (a, b) in s.auth.iter().zip(&init.auth) {
        if a.seq.len() != b.seq.len() {
            return Err(CardError::BadState("SQN array size differs".into()));
        }
    }
    Ok(())
}
