//! The JCRE entry points the card calls (JCRE Spec 3.0.5 ch. 3 applet lifetime, ch. 7
//! transactions, ch. 9 APDU processing): [`Vm::load`] links a CAP for an instance,
//! [`Vm::install`] runs an applet's static `install(byte[], short, byte)` with the GP
//! install data, [`Vm::select`] / [`Vm::deselect`] / [`Vm::process`] call the registered
//! applet. An uncaught `ISOException` answers its reason as the status word, any other
//! uncaught exception 6F00; a transaction still open when `process` ends is aborted. A
//! command that runs more than [`Vm::budget`] instructions is stopped with 6F00. Also
//! [`MemEnv`], an in-memory [`Env`] with transactions and a tearing hook, for tests.

use crate::heap::{Body, ClassId, Memory, Slot};
use crate::link;
use crate::natives::Throw;
use crate::vm::{statics_key, Env, Vm};
use crate::CapFile;
use std::collections::BTreeMap;

/// One command as the applet sees it.
#[derive(Debug, Clone, Copy)]
pub struct Command<'a> {
    /// CLA.
    pub cla: u8,
    /// INS.
    pub ins: u8,
    /// P1.
    pub p1: u8,
    /// P2.
    pub p2: u8,
    /// Command data.
    pub data: &'a [u8],
    /// Ne (0 without Le).
    pub ne: usize,
    /// Logical channel.
    pub channel: u8,
}

/// The applet's answer: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// Status word.
    pub sw: u16,
}

/// How a toolkit invocation ([`Vm::process_toolkit`], [`Vm::resume_toolkit`]) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolkitOutcome {
    /// `processToolkit` returned.
    Done,
    /// The applet sent a proactive command and waits for its TERMINAL RESPONSE.
    Waiting,
    /// An uncaught exception (ISOException: its reason) or a fault (6F00, 6581, …).
    Failed(u16),
}

/// The firewall context of the (single) package of an instance VM.
pub const PACKAGE_CONTEXT: u8 = 1;

impl Vm {
    /// Links `cap` and makes the VM of instance `instance_aid`, restoring its heap from
    /// `nv` (empty for a new instance).
    pub fn load(cap: CapFile, instance_aid: &[u8], nv: &[(String, Vec<u8>)]) -> Result<Vm, String> {
        let p = link::link(cap, 0, PACKAGE_CONTEXT).map_err(|e| e.to_string())?;
        Vm::new(vec![p], instance_aid, nv)
    }

    /// Like [`Vm::load`], with the card's loaded packages `card` that `cap` may import
    /// (library packages, JCVM Spec §4.5; see [`link::link_with_card`]).
    pub fn load_with_card(
        cap: CapFile,
        card: &[std::sync::Arc<CapFile>],
        instance_aid: &[u8],
        nv: &[(String, Vec<u8>)],
    ) -> Result<Vm, String> {
        let p = link::link_with_card(cap, PACKAGE_CONTEXT, card).map_err(|e| e.to_string())?;
        Vm::new(p, instance_aid, nv)
    }

    fn begin_entry(&mut self) {
        self.entry_start = self.executed;
        self.last_fault = None;
    }

    /// Creates the static arrays of the StaticField component (§6.11 `array_init`) when
    /// the package's static image is not yet in NV.
    fn init_statics(&mut self, env: &mut dyn Env, pkg: usize) -> Result<(), Throw> {
        if env.load().iter().any(|(k, _)| *k == statics_key(pkg)) {
            return Ok(());
        }
        let inits = self.packages[pkg].cap.static_field.array_init.clone();
        let saved = self.context;
        // A library's arrays belong to the instance whose VM holds them.
        self.context = match self.packages[pkg].context {
            link::LIBRARY_CONTEXT => PACKAGE_CONTEXT,
            c => c,
        };
        for (i, a) in inits.iter().enumerate() {
            let v = &a.values;
            let body = match a.ty {
                2 => Body::Booleans(v.iter().map(|b| (*b != 0) as u8).collect()),
                3 => Body::Bytes(v.clone()),
                4 => Body::Shorts(
                    v.chunks(2)
                        .map(|c| i16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                        .collect(),
                ),
                _ => Body::Ints(
                    v.chunks(4)
                        .map(|c| {
                            let mut b = [0u8; 4];
                            b[..c.len()].copy_from_slice(c);
                            i32::from_be_bytes(b)
                        })
                        .collect(),
                ),
            };
            let id = self.alloc(env, Memory::Persistent, body)?;
            if let Some(r) = self.statics[pkg].refs.get_mut(i) {
                *r = Some(id);
            }
        }
        self.context = saved;
        self.persist_statics(env, pkg)
    }

    /// Runs the `install` method of applet `applet` (index in the Applet component) with
    /// the install data `bArray` (GP: instance AID, privileges and application parameters,
    /// each length-prefixed; JC API `Applet.install`). The applet must register.
    pub fn install(&mut self, env: &mut dyn Env, applet: usize, b_array: &[u8]) -> Result<(), u16> {
        self.begin_entry();
        let off = self.packages[0]
            .cap
            .applets
            .get(applet)
            .ok_or(0x6A80u16)?
            .install_method_offset;
        let r = (|| -> Result<(), Throw> {
            for pkg in 0..self.packages.len() {
                self.init_statics(env, pkg)?;
            }
            let arr = self.alloc_session(Body::Bytes(b_array.to_vec()));
            let args = [
                Slot::R(Some(arr)),
                Slot::S(0),
                Slot::S(b_array.len() as i16),
            ];
            let r = self.call_static(env, 0, off, &args);
            self.heap.remove(arr);
            r?;
            Ok(())
        })();
        let r = self.finish(env, r.map(|_| None));
        if r.is_ok() && self.applet.is_none() {
            self.last_fault = Some("install did not register an applet".into());
            return Err(0x6A80);
        }
        r.map(|_| ())
    }

    /// Ends an entry: aborts a transaction left open; maps an uncaught exception to its
    /// status word.
    fn finish(
        &mut self,
        env: &mut dyn Env,
        r: Result<Option<crate::heap::Value>, Throw>,
    ) -> Result<Option<crate::heap::Value>, u16> {
        if env.in_transaction() && env.abort_transaction().is_ok() {
            let _ = self.reload(env);
        }
        match r {
            Ok(v) => Ok(v),
            Err(Throw::Object(exc)) => Err(self.uncaught_status(exc)),
            Err(Throw::Java { class, reason }) => {
                if class == crate::natives::ISO_EXCEPTION {
                    Err(reason as u16)
                } else {
                    Err(0x6F00)
                }
            }
            Err(Throw::Fault(sw)) => Err(sw),
            Err(Throw::Suspend) => {
                // Only a toolkit entry may wait for the terminal.
                self.suspended = None;
                Err(0x6F00)
            }
        }
    }

    /// `ToolkitInterface.processToolkit(event)` (TS 43.019 §6.2, `sim.toolkit`) of the
    /// registered applet, with the ENVELOPE being processed (`(BER tag, its COMPREHENSION-TLV
    /// list)`, for `EnvelopeHandler`); `response_allowed` makes `EnvelopeResponseHandler`
    /// available. [`ToolkitOutcome::Waiting`] when the applet sent a proactive command: the
    /// card continues it with [`Vm::resume_toolkit`] once the TERMINAL RESPONSE is in.
    pub fn process_toolkit(
        &mut self,
        env: &mut dyn Env,
        event: u8,
        envelope: Option<(u8, &[u8])>,
        response_allowed: bool,
    ) -> ToolkitOutcome {
        self.begin_entry();
        let Some(a) = self.applet else {
            return ToolkitOutcome::Failed(0x6999);
        };
        self.suspended = None;
        // The handler objects are reused from one invocation to the next (JCRE session
        // objects, never persisted): a long-running card does not pile them up.
        self.toolkit = crate::api::toolkit::ToolkitState {
            active: true,
            event,
            envelope: envelope.map(|(t, b)| (t, b.to_vec())),
            response_allowed,
            handlers: self.toolkit.handlers,
            ..Default::default()
        };
        let r = if self.implements(a, "sim/toolkit/ToolkitInterface") {
            self.call_interface(
                env,
                a,
                "sim/toolkit/ToolkitInterface",
                "processToolkit",
                "(B)V",
                &[Slot::S(event as i8 as i16)],
            )
        } else {
            // uicc.toolkit (TS 102 241 §6.1): the JCRE asks the applet for its
            // ToolkitInterface with getShareableInterfaceObject(null, 1); events are shorts.
            self.uicc_toolkit_object(env).and_then(|obj| {
                self.call_interface(
                    env,
                    obj,
                    "uicc/toolkit/ToolkitInterface",
                    "processToolkit",
                    "(S)V",
                    &[Slot::S(event as i8 as i16)],
                )
            })
        };
        self.end_toolkit(env, r)
    }

    /// Whether object `id` implements the API interface `iface`.
    fn implements(&self, id: crate::heap::ObjId, iface: &str) -> bool {
        crate::api::api_class_by_name(iface)
            .is_some_and(|i| self.instance_of(id, crate::heap::ClassId::Api(i)))
    }

    /// The `uicc.toolkit.ToolkitInterface` object of the registered applet
    /// (`getShareableInterfaceObject(null, 1)`).
    fn uicc_toolkit_object(&mut self, env: &mut dyn Env) -> Result<crate::heap::ObjId, Throw> {
        let a = self
            .applet
            .ok_or_else(|| self.fault("no applet registered"))?;
        let r = self.call_virtual(
            env,
            a,
            "javacard/framework/Applet",
            "getShareableInterfaceObject",
            "(Ljavacard/framework/AID;B)Ljavacard/framework/Shareable;",
            &[Slot::R(None), Slot::S(1)],
        )?;
        match r.and_then(|v| v.obj()) {
            Some(o) if self.implements(o, "uicc/toolkit/ToolkitInterface") => Ok(o),
            _ => Err(self.fault(
                "getShareableInterfaceObject(null, 1) gave no uicc.toolkit.ToolkitInterface",
            )),
        }
    }

    /// Whether the registered applet is a toolkit applet: it implements
    /// `sim.toolkit.ToolkitInterface`, or its package imports `uicc.toolkit` (whose applets
    /// hand out their ToolkitInterface through `getShareableInterfaceObject`).
    pub fn is_toolkit_applet(&self) -> bool {
        let Some(a) = self.applet else {
            return false;
        };
        let uicc = crate::api::tokens_toolkit::UICC_TOOLKIT.aid;
        self.implements(a, "sim/toolkit/ToolkitInterface")
            || self
                .packages
                .iter()
                .any(|p| p.cap.imports.iter().any(|i| i.aid == uicc))
    }

    /// Whether the applet waits for a TERMINAL RESPONSE (suspended in
    /// `ProactiveHandler.send`).
    pub fn toolkit_waiting(&self) -> bool {
        self.suspended.is_some()
    }

    /// Continues the applet suspended in `ProactiveHandler.send` with the TERMINAL RESPONSE
    /// (its COMPREHENSION-TLVs, as the card checked them): `send` returns the general result
    /// and `ProactiveResponseHandler` shows the response. `Failed(6985)` when nothing waits.
    pub fn resume_toolkit(
        &mut self,
        env: &mut dyn Env,
        terminal_response: &[u8],
    ) -> ToolkitOutcome {
        self.begin_entry();
        if self.suspended.is_none() {
            return ToolkitOutcome::Failed(0x6985);
        }
        let general = crate::api::toolkit::general_result(terminal_response).unwrap_or(0);
        self.toolkit.active = true;
        self.toolkit.response = Some(terminal_response.to_vec());
        self.toolkit.current = Default::default();
        let r = self.resume_frames(env, Some(crate::heap::Value::Short(general as i8 as i16)));
        self.end_toolkit(env, r)
    }

    /// Ends (or pauses) a toolkit entry.
    fn end_toolkit(
        &mut self,
        env: &mut dyn Env,
        r: Result<Option<crate::heap::Value>, Throw>,
    ) -> ToolkitOutcome {
        if matches!(r, Err(Throw::Suspend)) && self.suspended.is_some() {
            self.toolkit.active = false;
            return ToolkitOutcome::Waiting;
        }
        let out = match self.finish(env, r) {
            Ok(_) => ToolkitOutcome::Done,
            Err(sw) => ToolkitOutcome::Failed(sw),
        };
        self.suspended = None;
        self.toolkit = crate::api::toolkit::ToolkitState {
            handlers: self.toolkit.handlers,
            ..Default::default()
        };
        out
    }

    /// `Applet.select()`: whether the applet accepts selection.
    pub fn select(&mut self, env: &mut dyn Env) -> bool {
        self.begin_entry();
        let Some(a) = self.applet else {
            return false;
        };
        let r = self.call_virtual(env, a, "javacard/framework/Applet", "select", "()Z", &[]);
        matches!(self.finish(env, r), Ok(Some(v)) if v.bool())
    }

    /// `Applet.deselect()`, then the `CLEAR_ON_DESELECT` arrays are cleared.
    pub fn deselect(&mut self, env: &mut dyn Env) {
        self.begin_entry();
        if let Some(a) = self.applet {
            let r = self.call_virtual(env, a, "javacard/framework/Applet", "deselect", "()V", &[]);
            let _ = self.finish(env, r);
        }
        self.clear_on_deselect();
    }

    /// `Applet.process(APDU)` for one command (`selecting`: the SELECT that selected the
    /// applet). The APDU buffer holds the header (`CLA INS P1 P2 P3`, P3 = Lc or Le).
    pub fn process(&mut self, env: &mut dyn Env, cmd: &Command<'_>, selecting: bool) -> Response {
        self.process_apdu(env, cmd, selecting, false)
    }

    /// [`Vm::process`] for a command that may be extended-length (ISO/IEC 7816-4 §5.1):
    /// the applet must implement `javacardx.apdu.ExtendedLength`, else the JCRE answers
    /// `6700` without calling it (JC API 3.0.5 `ExtendedLength`); data beyond 32760 bytes
    /// is `6700` too. The buffer then holds `CLA INS P1 P2 00 L1 L2` (Lc, or Le when there
    /// is no data), the data at offset 7, and `setOutgoingLength` accepts up to 32767.
    pub fn process_apdu(
        &mut self,
        env: &mut dyn Env,
        cmd: &Command<'_>,
        selecting: bool,
        extended: bool,
    ) -> Response {
        self.begin_entry();
        let Some(a) = self.applet else {
            return Response {
                data: Vec::new(),
                sw: 0x6999,
            };
        };
        let refuse = |sw| Response {
            data: Vec::new(),
            sw,
        };
        if extended
            && (!self.applet_takes_extended_length()
                || cmd.data.len() > crate::vm::EXTENDED_APDU_BUFFER_SIZE - 7)
        {
            return refuse(0x6700);
        }
        self.apdu = crate::vm::ApduState {
            data: cmd.data.to_vec(),
            ne: cmd.ne,
            channel: cmd.channel,
            extended,
            ..Default::default()
        };
        self.selecting = selecting;
        let buf = self.apdu_buffer();
        let l = if cmd.data.is_empty() {
            cmd.ne
        } else {
            cmd.data.len()
        };
        if let Some(o) = self.heap.get_mut(buf) {
            if let Body::Bytes(b) = &mut o.body {
                let head = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
                b[..4].copy_from_slice(&head);
                if extended {
                    // Ne = 65536 is encoded 00 00.
                    let [_, _, hi, lo] = (l as u32).to_be_bytes();
                    b[4..7].copy_from_slice(&[0, hi, lo]);
                } else {
                    b[4] = l as u8;
                }
            }
        }
        let apdu = self.apdu_object();
        let r = self.call_virtual(
            env,
            a,
            "javacard/framework/Applet",
            "process",
            "(Ljavacard/framework/APDU;)V",
            &[Slot::R(Some(apdu))],
        );
        self.selecting = false;
        let out = std::mem::take(&mut self.apdu.out);
        match self.finish(env, r) {
            Ok(_) => Response {
                data: out,
                sw: 0x9000,
            },
            Err(0x9000) => Response {
                data: out,
                sw: 0x9000,
            },
            Err(sw) => Response {
                data: Vec::new(),
                sw,
            },
        }
    }

    /// The class of the registered applet object.
    pub fn applet_class(&self) -> Option<ClassId> {
        self.class_of(self.applet?)
    }
}

/// An in-memory [`Env`]: a key/value NV with snapshot transactions, a write counter and
/// a tearing hook (power lost right after the k-th write), and a deterministic random
/// source. For tests and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct MemEnv {
    /// Committed-or-working contents.
    pub nv: BTreeMap<String, Vec<u8>>,
    tx: Option<BTreeMap<String, Vec<u8>>>,
    /// Writes so far.
    pub writes: u64,
    /// Power is lost right after this many more writes.
    pub tear_in: Option<u64>,
    /// Power is gone (every write fails with 6581).
    pub lost: bool,
    seed: u64,
}

impl MemEnv {
    /// An empty NV.
    pub fn new() -> MemEnv {
        MemEnv::default()
    }

    /// The contents as [`Vm::new`] takes them.
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        self.nv
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// What a restarted card sees after a power cut: an open transaction rolled back.
    pub fn power_cycle(&mut self) {
        if let Some(s) = self.tx.take() {
            self.nv = s;
        }
        self.lost = false;
        self.tear_in = None;
    }
}

impl Env for MemEnv {
    fn persist(&mut self, key: &str, value: &[u8]) -> Result<(), u16> {
        if self.lost {
            return Err(0x6581);
        }
        if let Some(n) = self.tear_in.as_mut() {
            if *n == 0 {
                self.lost = true;
                return Err(0x6581);
            }
            *n -= 1;
        }
        self.writes += 1;
        self.nv.insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn load(&self) -> Vec<(String, Vec<u8>)> {
        self.entries()
    }

    fn begin_transaction(&mut self) -> Result<(), u16> {
        if self.tx.is_some() {
            return Err(0x6F00);
        }
        self.tx = Some(self.nv.clone());
        Ok(())
    }

    fn commit_transaction(&mut self) -> Result<(), u16> {
        if self.lost {
            return Err(0x6581);
        }
        self.tx = None;
        Ok(())
    }

    fn abort_transaction(&mut self) -> Result<(), u16> {
        if let Some(s) = self.tx.take() {
            self.nv = s;
        }
        Ok(())
    }

    fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    fn random(&mut self, out: &mut [u8]) {
        for b in out {
            self.seed = self
                .seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.seed >> 33) as u8;
        }
    }
}
