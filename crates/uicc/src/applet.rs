//! The applet runtime, shaped like `javacard.framework.Applet` and ETSI TS 102 241
//! (`uicc.toolkit`): an [`Applet`] trait (install with parameters, select/deselect,
//! `process(apdu)` answering ISOException-style status words, a toolkit hook), a registry of
//! applet classes by class AID, instances by instance AID with a GlobalPlatform-like life
//! cycle (INSTALLED, SELECTABLE, LOCKED; GP Card Spec §5.3.1), and JavaCard-style
//! transactions on the applet's persistent fields.
//!
//! Persistent fields live in the card's non-volatile state ([`crate::nv::AppletNv::data`]),
//! read and written through [`AppletContext`], so they survive restarts, roll back on
//! `abort_transaction` and obey the tearing guarantees. The Rust object itself holds only
//! transient state and is re-created at every reset.

use crate::nv::{AppletValue, NvState};
use crate::rng::RandomSource;
use crate::txn::Nv;
use apdu::{CommandApdu, StatusWord};
use std::sync::Arc;

/// A toolkit event delivered to an applet (TS 102 241 §6.2). The CAT engine adds the events
/// it routes; applets match on the ones they registered for and ignore the rest.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolkitEvent<'a> {
    /// An ENVELOPE addressed to the applet: its BER-TLV tag (D1 SMS-PP download, D3 menu
    /// selection, D6 event download, …) and the whole envelope value.
    Envelope {
        /// Envelope template tag.
        tag: u8,
        /// The envelope's value (its COMPREHENSION-TLVs).
        data: &'a [u8],
    },
    /// The TERMINAL RESPONSE to a proactive command the applet issued.
    TerminalResponse(&'a [u8]),
    /// Deciphered secured data of an OTA message addressed to one of the applet's TARs.
    SecuredData(&'a [u8]),
    /// MENU SELECTION (`D3`, TS 102 223 §7.2) of one of the applet's menu entries
    /// (EVENT_MENU_SELECTION / EVENT_MENU_SELECTION_HELP_REQUEST).
    MenuSelection {
        /// The item identifier chosen.
        item: u8,
        /// The user asked for help on it.
        help: bool,
    },
    /// EVENT DOWNLOAD (`D6`, TS 102 223 §7.5): the event code of the event list and the
    /// envelope's objects.
    EventDownload {
        /// Event list code (e.g. `04` user activity, `05` idle screen available).
        event: u8,
        /// The envelope value (COMPREHENSION-TLVs).
        data: &'a [u8],
    },
    /// An SMS-PP download without a command packet (EVENT_UNFORMATTED_SMS_PP_ENV): the
    /// SMS-DELIVER TPDU.
    UnformattedSmsPp(&'a [u8]),
    /// TERMINAL PROFILE received (EVENT_PROFILE_DOWNLOAD); the profile bytes.
    ProfileDownload(&'a [u8]),
}

/// The APDU being processed (javacard.framework.APDU): the command and the outgoing data.
#[derive(Debug)]
pub struct Apdu<'a> {
    command: &'a CommandApdu,
    selecting: bool,
    channel: u8,
    out: Vec<u8>,
}

impl<'a> Apdu<'a> {
    pub(crate) fn new(command: &'a CommandApdu, selecting: bool, channel: u8) -> Apdu<'a> {
        Apdu {
            command,
            selecting,
            channel,
            out: Vec::new(),
        }
    }

    /// The parsed command.
    pub fn command(&self) -> &CommandApdu {
        self.command
    }

    /// CLA byte.
    pub fn cla(&self) -> u8 {
        self.command.cla
    }

    /// INS byte.
    pub fn ins(&self) -> u8 {
        self.command.ins
    }

    /// P1.
    pub fn p1(&self) -> u8 {
        self.command.p1
    }

    /// P2.
    pub fn p2(&self) -> u8 {
        self.command.p2
    }

    /// Command data.
    pub fn data(&self) -> &[u8] {
        &self.command.data
    }

    /// Ne (0 when no Le).
    pub fn ne(&self) -> usize {
        self.command.ne()
    }

    /// True while processing the SELECT that selected this applet (`selectingApplet()`).
    pub fn selecting_applet(&self) -> bool {
        self.selecting
    }

    /// The logical channel of the command.
    pub fn channel(&self) -> u8 {
        self.channel
    }

    /// Append response data (`setOutgoingAndSend`).
    pub fn send(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
    }

    pub(crate) fn take_output(self) -> Vec<u8> {
        self.out
    }
}

/// What an applet can reach while it runs: its persistent fields, transactions, the random
/// source and the card's security state.
pub struct AppletContext<'a> {
    pub(crate) nv: &'a mut Nv,
    pub(crate) aid: &'a [u8],
    pub(crate) rng: &'a mut dyn RandomSource,
    pub(crate) verified: &'a dyn Fn(u8) -> bool,
    pub(crate) toolkit: Option<&'a mut crate::toolkit::ToolkitIo>,
    /// The card's other applet instances, while this one processes a command: the servers
    /// its Shareable interface calls reach ([`crate::java_applet`]; `None` elsewhere).
    pub(crate) peers: Option<&'a mut std::collections::BTreeMap<Vec<u8>, Box<dyn Applet>>>,
}

impl AppletContext<'_> {
    fn index(&self) -> Option<usize> {
        self.nv.state.applets.iter().position(|a| a.aid == self.aid)
    }

    /// The instance AID.
    pub fn aid(&self) -> &[u8] {
        self.aid
    }

    /// Install parameters of this instance.
    pub fn install_params(&self) -> &[u8] {
        self.index()
            .and_then(|i| self.nv.state.applets.get(i))
            .map(|a| a.params.as_slice())
            .unwrap_or(&[])
    }

    /// A persistent field.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        let i = self.index()?;
        self.nv
            .state
            .applets
            .get(i)?
            .data
            .get(key)
            .map(|v| v.0.as_slice())
    }

    /// Every persistent field of this instance (key, value), in key order.
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        self.index()
            .and_then(|i| self.nv.state.applets.get(i))
            .map(|a| {
                a.data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Write a persistent field (one non-volatile write). Fails with 6581 after a power cut.
    pub fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StatusWord> {
        let i = self.index().ok_or(StatusWord(0x6F00))?;
        self.nv
            .write(|s: &mut NvState| {
                if let Some(a) = s.applets.get_mut(i) {
                    a.data.insert(key.to_string(), AppletValue(value.to_vec()));
                }
            })
            .map_err(StatusWord)
    }

    /// Remove a persistent field.
    pub fn remove(&mut self, key: &str) -> Result<(), StatusWord> {
        let i = self.index().ok_or(StatusWord(0x6F00))?;
        self.nv
            .write(|s: &mut NvState| {
                if let Some(a) = s.applets.get_mut(i) {
                    a.data.remove(key);
                }
            })
            .map_err(StatusWord)
    }

    /// `JCSystem.beginTransaction` (6F00 if one is open).
    pub fn begin_transaction(&mut self) -> Result<(), StatusWord> {
        self.nv.begin().map_err(StatusWord)
    }

    /// `JCSystem.commitTransaction`: the writes since begin become durable atomically.
    pub fn commit_transaction(&mut self) -> Result<(), StatusWord> {
        self.nv.commit().map_err(StatusWord)
    }

    /// `JCSystem.abortTransaction`: every write since begin is rolled back.
    pub fn abort_transaction(&mut self) -> Result<(), StatusWord> {
        self.nv.abort().map_err(StatusWord)
    }

    /// Commit what was written so far now (outside a transaction; inside one nothing
    /// happens): e.g. a PIN try counter before the comparison. 6581 after a power cut.
    pub fn checkpoint(&mut self) -> Result<(), StatusWord> {
        if self.nv.in_transaction() {
            return Ok(());
        }
        self.nv.checkpoint().map_err(StatusWord)
    }

    /// `JCSystem.getTransactionDepth() > 0`.
    pub fn in_transaction(&self) -> bool {
        self.nv.in_transaction()
    }

    /// Random bytes (`RandomData.generateData`).
    pub fn random(&mut self, out: &mut [u8]) {
        self.rng.fill(out)
    }

    /// Whether a key reference (PIN) is verified or its PIN disabled.
    pub fn is_verified(&self, key_ref: u8) -> bool {
        (self.verified)(key_ref)
    }
}

/// A Java Card-style applet (javacard.framework.Applet). Errors are status words, like
/// `ISOException.throwIt`.
pub trait Applet: Send {
    /// Called once when the instance is created (`install(bArray, bOffset, bLength)`),
    /// with the install parameters; initialises persistent fields.
    fn install(&mut self, _ctx: &mut AppletContext<'_>, _params: &[u8]) -> Result<(), StatusWord> {
        Ok(())
    }

    /// `select()`: return false to refuse selection (answered 6999).
    fn select(&mut self, _ctx: &mut AppletContext<'_>) -> bool {
        true
    }

    /// `deselect()`.
    fn deselect(&mut self, _ctx: &mut AppletContext<'_>) {}

    /// `process(APDU)`: handle one command; `Err(sw)` is `ISOException.throwIt(sw)`.
    fn process(
        &mut self,
        ctx: &mut AppletContext<'_>,
        apdu: &mut Apdu<'_>,
    ) -> Result<(), StatusWord>;

    /// Toolkit events (`uicc.toolkit.ToolkitInterface.processToolkit`); ignored by default.
    fn process_toolkit(
        &mut self,
        _ctx: &mut AppletContext<'_>,
        _event: &ToolkitEvent<'_>,
    ) -> Result<Vec<u8>, StatusWord> {
        Ok(Vec::new())
    }

    /// Called before the instance is deleted.
    fn uninstall(&mut self, _ctx: &mut AppletContext<'_>) {}

    /// The Java Card instance behind this applet (a CAP applet), for Shareable interface
    /// calls from other instances; `None` for the built-in Rust applets.
    fn java(&mut self) -> Option<&mut crate::java_applet::JavaApplet> {
        None
    }
}

/// A class of applets the emulator has built in (the Rust stand-in for a loaded CAP file's
/// applet class), identified by its class AID.
pub trait AppletClass: Send + Sync {
    /// The class AID (GP "executable module" AID).
    fn class_aid(&self) -> &[u8];
    /// Human name.
    fn name(&self) -> &str;
    /// A new Rust object for an instance (transient state only).
    fn create(&self) -> Box<dyn Applet>;
}

/// The applet classes a card can instantiate.
#[derive(Clone, Default)]
pub struct AppletRegistry {
    classes: Vec<Arc<dyn AppletClass>>,
}

impl std::fmt::Debug for AppletRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.classes.iter().map(|c| c.name()))
            .finish()
    }
}

impl AppletRegistry {
    /// An empty registry.
    pub fn new() -> AppletRegistry {
        AppletRegistry::default()
    }

    /// The classes built into this crate ([`DemoApplet`]).
    pub fn builtin() -> AppletRegistry {
        let mut r = AppletRegistry::new();
        r.register(Arc::new(DemoAppletClass));
        r.register(Arc::new(crate::menu_applet::MenuAppletClass));
        r
    }

    /// Add (or replace) a class.
    pub fn register(&mut self, class: Arc<dyn AppletClass>) {
        self.classes.retain(|c| c.class_aid() != class.class_aid());
        self.classes.push(class);
    }

    /// The class with this class AID.
    pub fn find(&self, class_aid: &[u8]) -> Option<&Arc<dyn AppletClass>> {
        self.classes.iter().find(|c| c.class_aid() == class_aid)
    }

    /// All registered classes.
    pub fn classes(&self) -> impl Iterator<Item = &Arc<dyn AppletClass>> {
        self.classes.iter()
    }
}

/// Class AID of [`DemoApplet`].
pub const DEMO_CLASS_AID: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x01];

struct DemoAppletClass;

impl AppletClass for DemoAppletClass {
    fn class_aid(&self) -> &[u8] {
        DEMO_CLASS_AID
    }
    fn name(&self) -> &str {
        "simota demo applet"
    }
    fn create(&self) -> Box<dyn Applet> {
        Box::new(DemoApplet)
    }
}

/// A small built-in applet exercising the runtime (CLA 80):
/// `INS 50` PUT DATA (store up to 128 bytes), `INS 52` GET DATA, `INS 54` INCREMENT a 4-byte
/// counter inside a transaction (P1 = 01: abort instead of commit; P1 = 02: write, commit,
/// write again, then fail with 6F00 so the second write is rolled back), `INS 56` RANDOM (Ne
/// bytes, at most 64), `INS E2` STORE DATA routed by the ISD after INSTALL [for
/// personalization] (GPCS §11.11: block 0 in P2 replaces the PUT DATA field, later blocks
/// append; 128 bytes at most, `6A84` beyond).
#[derive(Debug, Default)]
pub struct DemoApplet;

impl Applet for DemoApplet {
    fn install(&mut self, ctx: &mut AppletContext<'_>, _params: &[u8]) -> Result<(), StatusWord> {
        ctx.put("counter", &[0, 0, 0, 0])
    }

    fn process(
        &mut self,
        ctx: &mut AppletContext<'_>,
        apdu: &mut Apdu<'_>,
    ) -> Result<(), StatusWord> {
        if apdu.selecting_applet() {
            return Ok(());
        }
        if apdu.cla() & 0xF0 != 0x80 {
            return Err(StatusWord(0x6E00));
        }
        let counter = |ctx: &AppletContext<'_>| {
            let b = ctx.get("counter").unwrap_or(&[0, 0, 0, 0]);
            u32::from_be_bytes(<[u8; 4]>::try_from(b).unwrap_or([0; 4]))
        };
        match apdu.ins() {
            0x50 => {
                if apdu.data().len() > 128 {
                    return Err(StatusWord(0x6700));
                }
                let d = apdu.data().to_vec();
                ctx.put("data", &d)
            }
            0x52 => {
                let d = ctx.get("data").unwrap_or(&[]).to_vec();
                apdu.send(&d);
                Ok(())
            }
            0x54 => {
                ctx.begin_transaction()?;
                let v = counter(ctx).wrapping_add(1);
                ctx.put("counter", &v.to_be_bytes())?;
                match apdu.p1() {
                    0x00 => ctx.commit_transaction()?,
                    0x01 => ctx.abort_transaction()?,
                    0x02 => {
                        ctx.commit_transaction()?;
                        ctx.begin_transaction()?;
                        ctx.put("counter", &v.wrapping_add(1000).to_be_bytes())?;
                        return Err(StatusWord(0x6F00));
                    }
                    _ => {
                        ctx.abort_transaction()?;
                        return Err(StatusWord(0x6B00));
                    }
                }
                apdu.send(&counter(ctx).to_be_bytes());
                Ok(())
            }
            0xE2 => {
                let mut d = if apdu.p2() == 0 {
                    Vec::new()
                } else {
                    ctx.get("data").unwrap_or(&[]).to_vec()
                };
                d.extend_from_slice(apdu.data());
                if d.len() > 128 {
                    return Err(StatusWord(0x6A84));
                }
                ctx.put("data", &d)
            }
            0x56 => {
                let n = apdu.ne().min(64);
                let mut b = vec![0u8; n];
                ctx.random(&mut b);
                apdu.send(&b);
                Ok(())
            }
            _ => Err(StatusWord(0x6D00)),
        }
    }
}
