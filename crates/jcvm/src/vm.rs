//! The virtual machine of one applet instance: its heap, its linked package(s) with their
//! static fields, the APDU state, the firewall context and the bytecode budget, and the
//! card environment it runs against ([`Env`]: non-volatile writes, transactions, random).
//!
//! One `Vm` serves one applet instance (its package's context, the library packages it
//! imports, and the JCRE context, JCRE Spec 3.0.5 §6.1); the card side keeps the persistent
//! part in the instance's NV data (keys `o<id>` objects, `s<pkg>` static images — their
//! primitive part card-wide, [`Env::persist_package_statics`] —, `applet` the registered
//! applet object). Other instances are reached through [`crate::sio`].

use crate::api::ApiClassId;
use crate::heap::{self, Body, ClassId, Context, Heap, Memory, ObjId, Object, Slot};
use crate::link::Package;
use crate::natives::{NativePeer, Throw};
use std::collections::HashMap;

/// What the card gives the VM (the card side implements it over its NV layer).
pub trait Env {
    /// One non-volatile write of `key` (inside the open transaction, if any). `Err(sw)`
    /// when power is gone (6581): the VM stops.
    fn persist(&mut self, key: &str, value: &[u8]) -> Result<(), u16>;
    /// The current non-volatile contents (after an abort: the rolled-back ones).
    fn load(&self) -> Vec<(String, Vec<u8>)>;
    /// `JCSystem.beginTransaction`.
    fn begin_transaction(&mut self) -> Result<(), u16>;
    /// `JCSystem.commitTransaction`.
    fn commit_transaction(&mut self) -> Result<(), u16>;
    /// `JCSystem.abortTransaction` (the VM reloads its persistent objects afterwards).
    fn abort_transaction(&mut self) -> Result<(), u16>;
    /// Whether a transaction is open.
    fn in_transaction(&self) -> bool;
    /// Random bytes.
    fn random(&mut self, out: &mut [u8]);
    /// Makes the writes so far durable now, outside a transaction (the `OwnerPIN` try
    /// counter is committed before the comparison, so tearing a wrong PIN cannot win a
    /// try back). Inside a transaction nothing happens. The default: every write is
    /// durable at once.
    fn checkpoint(&mut self) -> Result<(), u16> {
        Ok(())
    }
    /// The card's toolkit side (`sim.toolkit` natives: registry, TERMINAL PROFILE, the
    /// proactive command queue), when this card hosts toolkit applets; the default: none
    /// (the toolkit handlers are then not available).
    fn toolkit(&mut self) -> Option<&mut dyn crate::api::toolkit::ToolkitHost> {
        None
    }
    /// One non-volatile write of the primitive part of the static field image of package
    /// `package` (JCVM Spec §6.11): one image per package on the card, shared by every
    /// instance of it and every package importing it. The default: key `S<package AID>`
    /// of this NV.
    fn persist_package_statics(&mut self, package: &[u8], image: &[u8]) -> Result<(), u16> {
        self.persist(&package_statics_key(package), image)
    }
    /// The primitive static image of `package` as [`Env::persist_package_statics`] last
    /// wrote it (`None`: never written, the CAP's initial values hold).
    fn package_statics(&self, package: &[u8]) -> Option<Vec<u8>> {
        let k = package_statics_key(package);
        self.load()
            .into_iter()
            .find(|(x, _)| *x == k)
            .map(|(_, v)| v)
    }
    /// Whether an applet instance with this AID is on the card (`JCSystem.lookupAID`);
    /// the default: none but the VM's own.
    fn applet_exists(&self, _aid: &[u8]) -> bool {
        false
    }
    /// `JCSystem.getAppletShareableInterfaceObject(server, param)` of the instance
    /// `client` (JCRE Spec §6.2.7.2): the card runs [`Vm::shareable_for`] in the server's
    /// VM. `Ok(None)` when there is no such applet or it gives none; the default: none.
    fn shareable(
        &mut self,
        _server: &[u8],
        _client: &[u8],
        _param: u8,
    ) -> Result<Option<crate::sio::RemoteObject>, Throw> {
        Ok(None)
    }
    /// An interface method call on a Shareable interface object of another instance: the
    /// card runs [`Vm::invoke_shareable`] in the server's VM (the same NV, inside the same
    /// transaction). The default: `SecurityException`.
    fn invoke_shareable(
        &mut self,
        _call: &crate::sio::RemoteCall,
    ) -> Result<crate::sio::RemoteReturn, Throw> {
        Err(Throw::security())
    }
}

/// An applet's Java stack suspended in `ProactiveHandler.send` (see [`Throw::Suspend`]).
#[derive(Debug, Clone)]
pub struct Suspended {
    /// The frames, the entry frame first; the top one is at its invoke instruction.
    pub(crate) frames: Vec<crate::frames::Frame>,
    /// The firewall context at the suspension.
    pub(crate) context: Context,
}

/// The default bytecode budget per APDU (instructions): about a second of interpretation;
/// a command that spends it is stopped and answered 6F00.
pub const DEFAULT_BUDGET: u64 = 20_000_000;

/// Size of the APDU buffer (5 header bytes + 256 data bytes + 2, JC API `APDU`: at least
/// 133 bytes; 261 covers a short Lc and Le of 256).
pub const APDU_BUFFER_SIZE: usize = 263;

/// The APDU buffer of an applet that implements `javacardx.apdu.ExtendedLength` (JC API
/// 3.0.5): the largest Java array, so an extended command's header (7 bytes) and data, and a
/// response of up to 32767 bytes, fit.
pub const EXTENDED_APDU_BUFFER_SIZE: usize = 32767;

/// The state of the current APDU (JC API 3.0.5 `APDU`, states `STATE_INITIAL` …
/// `STATE_FULL_OUTGOING`).
#[derive(Debug, Clone, Default)]
pub struct ApduState {
    /// An extended-length command (ISO/IEC 7816-4 §5.1: Lc/Le in 2 or 3 bytes); only an
    /// applet implementing `javacardx.apdu.ExtendedLength` is given one.
    pub extended: bool,
    /// The command data (Nc bytes).
    pub data: Vec<u8>,
    /// Bytes of the command data copied into the buffer so far.
    pub received: usize,
    /// Ne (0: no Le; 256 for Le = 00 in a short APDU).
    pub ne: usize,
    /// `setOutgoing` called: the length the applet may send.
    pub outgoing: Option<usize>,
    /// `setOutgoingLength` value.
    pub outgoing_len: Option<usize>,
    /// Response data sent so far.
    pub out: Vec<u8>,
    /// Logical channel of the command.
    pub channel: u8,
}

/// The VM of one applet instance.
pub struct Vm {
    /// Objects.
    pub heap: Heap,
    /// Linked packages (index = `ClassId::Cap::pkg`).
    pub packages: Vec<Package>,
    /// Static field images, one per package: references and primitive bytes (§6.11).
    pub statics: Vec<Statics>,
    /// The current APDU.
    pub apdu: ApduState,
    /// The current firewall context.
    pub context: Context,
    /// The registered applet object (`Applet.register()`).
    pub applet: Option<ObjId>,
    /// The instance AID.
    pub instance_aid: Vec<u8>,
    /// `selectingApplet()`.
    pub selecting: bool,
    /// Instructions allowed per entry (APDU); see [`DEFAULT_BUDGET`].
    pub budget: u64,
    /// Instructions executed since the VM was created.
    pub executed: u64,
    /// The instructions executed at the start of the current entry.
    pub(crate) entry_start: u64,
    /// JCRE-owned exception singletons by API class.
    pub(crate) exceptions: HashMap<ApiClassId, ObjId>,
    /// The `APDU` object and its buffer (JCRE-owned, per session).
    pub(crate) apdu_object: Option<ObjId>,
    pub(crate) apdu_buffer: Option<ObjId>,
    /// Why the last entry failed with a fault, for diagnostics.
    pub last_fault: Option<String>,
    /// The `sim.toolkit` handler state of the current toolkit invocation.
    pub toolkit: crate::api::toolkit::ToolkitState,
    /// The applet's frames while it waits for a TERMINAL RESPONSE.
    pub(crate) suspended: Option<Suspended>,
    /// While another instance calls into this VM (a Shareable interface object, or its
    /// `getShareableInterfaceObject`): that instance's AID (`getPreviousContextAID`).
    pub remote_caller: Option<Vec<u8>>,
}

/// The static fields of one package (JCVM Spec 3.0.5 §6.11): reference fields by index
/// (offset / 2) and the whole image for primitive fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statics {
    /// Reference fields.
    pub refs: Vec<Option<ObjId>>,
    /// Image bytes (the reference part unused).
    pub bytes: Vec<u8>,
}

impl Statics {
    fn encode(&self) -> Vec<u8> {
        let mut b = (self.refs.len() as u32).to_be_bytes().to_vec();
        for r in &self.refs {
            b.extend_from_slice(&r.unwrap_or(0).to_be_bytes());
        }
        b.extend_from_slice(&self.bytes);
        b
    }

    fn decode(bytes: &[u8]) -> Result<Statics, String> {
        let mut c = heap::Cur { b: bytes, p: 0 };
        let n = c.u32()? as usize;
        let mut refs = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let r = c.u32()?;
            refs.push((r != 0).then_some(r));
        }
        Ok(Statics {
            refs,
            bytes: bytes[c.p..].to_vec(),
        })
    }
}

/// NV key of the static image of package `pkg`.
pub fn statics_key(pkg: usize) -> String {
    format!("s{pkg}")
}

/// NV key of the card-wide primitive static image of a package (the default of
/// [`Env::persist_package_statics`]).
pub fn package_statics_key(package: &[u8]) -> String {
    format!("S{}", crate::cap::hex(package))
}

/// NV key of the registered applet object.
pub const APPLET_KEY: &str = "applet";

impl Vm {
    /// A VM for the given linked packages, its heap restored from `nv` (an empty list for a
    /// new instance). Errors name the bad NV entry.
    pub fn new(
        packages: Vec<Package>,
        instance_aid: &[u8],
        nv: &[(String, Vec<u8>)],
    ) -> Result<Vm, String> {
        let statics = packages.iter().map(|p| p.initial_statics()).collect();
        let mut vm = Vm {
            heap: Heap::new(),
            packages,
            statics,
            apdu: ApduState::default(),
            context: heap::JCRE_CONTEXT,
            applet: None,
            instance_aid: instance_aid.to_vec(),
            selecting: false,
            budget: DEFAULT_BUDGET,
            executed: 0,
            entry_start: 0,
            exceptions: HashMap::new(),
            apdu_object: None,
            apdu_buffer: None,
            last_fault: None,
            toolkit: Default::default(),
            suspended: None,
            remote_caller: None,
        };
        vm.restore(nv, false)?;
        Ok(vm)
    }

    /// Loads the persistent objects, statics and applet reference from NV. With
    /// `keep_transient`, transient objects keep their in-memory contents (after an abort:
    /// transient contents are not subject to transactions, JCRE Spec §7.7).
    pub(crate) fn restore(
        &mut self,
        nv: &[(String, Vec<u8>)],
        keep_transient: bool,
    ) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for (k, v) in nv {
            if let Some(id) = k.strip_prefix('o') {
                let id: ObjId = id.parse().map_err(|_| format!("NV key {k}"))?;
                let o = heap::decode(v).map_err(|e| format!("NV object {k}: {e}"))?;
                seen.insert(id);
                if keep_transient {
                    if let Some(cur) = self.heap.get(id) {
                        if cur.memory != Memory::Persistent {
                            continue;
                        }
                    }
                }
                self.heap.put(id, o);
            } else if let Some(p) = k.strip_prefix('s') {
                let p: usize = p.parse().map_err(|_| format!("NV key {k}"))?;
                let s = Statics::decode(v).map_err(|e| format!("NV statics {k}: {e}"))?;
                if let Some(slot) = self.statics.get_mut(p) {
                    *slot = s;
                }
            } else if k == APPLET_KEY {
                let b: [u8; 4] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| "NV applet ref".to_string())?;
                self.applet = Some(u32::from_be_bytes(b));
            }
        }
        if keep_transient {
            let stale: Vec<ObjId> = self
                .heap
                .iter()
                .filter(|(id, o)| !seen.contains(id) && !Self::is_session(o))
                .map(|(id, _)| id)
                .collect();
            for id in stale {
                self.heap.remove(id);
            }
            if !nv.iter().any(|(k, _)| k == APPLET_KEY) {
                self.applet = None;
            }
        }
        Ok(())
    }

    /// JCRE session objects (APDU, its buffer, exception singletons): never persisted.
    fn is_session(o: &Object) -> bool {
        o.owner == heap::JCRE_CONTEXT && o.global
    }

    /// Rereads the persistent state from NV (transient contents kept): after a transaction
    /// that another instance's VM aborted.
    pub fn refresh(&mut self, env: &dyn Env) -> Result<(), String> {
        self.reload(env)
            .map_err(|_| self.last_fault.clone().unwrap_or_default())
    }

    /// After `abortTransaction`: reload the rolled-back persistent state.
    pub(crate) fn reload(&mut self, env: &dyn Env) -> Result<(), Throw> {
        let nv = env.load();
        // Static images not in NV go back to their initial values.
        self.statics = self.packages.iter().map(|p| p.initial_statics()).collect();
        self.restore(&nv, true).map_err(|e| self.fault(e))?;
        self.sync_statics(env);
        Ok(())
    }

    /// Rereads the card-wide primitive static images ([`Env::package_statics`]): another
    /// instance may have written them since.
    pub(crate) fn sync_statics(&mut self, env: &dyn Env) {
        for (p, s) in self.packages.iter().zip(self.statics.iter_mut()) {
            if let Some(b) = env.package_statics(&p.cap.header.package.aid) {
                if b.len() == s.bytes.len() {
                    s.bytes = b;
                }
            }
        }
    }

    /// Records a fault and makes the [`Throw`] for it (6F00).
    pub(crate) fn fault(&mut self, why: impl Into<String>) -> Throw {
        self.last_fault = Some(why.into());
        Throw::Fault(0x6F00)
    }

    /// Writes object `id` to NV if it is persistent (one atomic write).
    pub fn persist(&mut self, env: &mut dyn Env, id: ObjId) -> Result<(), Throw> {
        let Some(o) = self.heap.get(id) else {
            return Ok(());
        };
        if o.memory != Memory::Persistent || Self::is_session(o) {
            return Ok(());
        }
        env.persist(&heap::object_key(id), &heap::encode(o))
            .map_err(Throw::Fault)
    }

    /// Writes the reference part of the static image of package `pkg` to this instance's
    /// NV (its objects live in this VM's heap).
    pub(crate) fn persist_statics(&mut self, env: &mut dyn Env, pkg: usize) -> Result<(), Throw> {
        let b = self.statics[pkg].encode();
        env.persist(&statics_key(pkg), &b).map_err(Throw::Fault)
    }

    /// Writes the primitive part of the static image of package `pkg`: card-wide, one
    /// image per package ([`Env::persist_package_statics`]).
    pub(crate) fn persist_package_statics(
        &mut self,
        env: &mut dyn Env,
        pkg: usize,
    ) -> Result<(), Throw> {
        let aid = &self.packages[pkg].cap.header.package.aid;
        env.persist_package_statics(aid, &self.statics[pkg].bytes)
            .map_err(Throw::Fault)
    }

    /// Allocates an object owned by the current context; persistent ones are written.
    pub fn alloc(&mut self, env: &mut dyn Env, memory: Memory, body: Body) -> Result<ObjId, Throw> {
        let id = self.heap.alloc(Object {
            owner: self.context,
            global: false,
            memory,
            body,
        });
        self.persist(env, id)?;
        Ok(id)
    }

    /// Creates an API object of class `class` (`javacard/security/MessageDigest`) carrying
    /// `peer`, persistent and owned by the current context.
    pub fn new_native_object(
        &mut self,
        env: &mut dyn Env,
        class: &str,
        peer: NativePeer,
    ) -> Result<ObjId, Throw> {
        let c = crate::api::api_class_by_name(class)
            .ok_or_else(|| self.fault(format!("no API class {class}")))?;
        self.alloc(
            env,
            Memory::Persistent,
            Body::Instance {
                class: ClassId::Api(c),
                fields: Vec::new(),
                peer: Some(peer),
            },
        )
    }

    /// A JCRE temporary entry point object of API class `class` carrying `peer` (never
    /// persisted, reachable from every context, not storable in fields; JCRE Spec §6.2.1).
    pub fn new_session_native(&mut self, class: &str, peer: NativePeer) -> Result<ObjId, Throw> {
        let c = crate::api::api_class_by_name(class)
            .ok_or_else(|| self.fault(format!("no API class {class}")))?;
        Ok(self.alloc_session(Body::Instance {
            class: ClassId::Api(c),
            fields: Vec::new(),
            peer: Some(peer),
        }))
    }

    /// A JCRE session object (never persisted, reachable from every context).
    pub(crate) fn alloc_session(&mut self, body: Body) -> ObjId {
        self.heap.alloc(Object {
            owner: heap::JCRE_CONTEXT,
            global: true,
            memory: Memory::ClearOnReset,
            body,
        })
    }

    /// The object behind a reference, checked by the firewall (JCRE Spec §6.2.8: an object
    /// of another context is reachable only when global, or from the JCRE context).
    pub fn object(&self, r: Option<ObjId>) -> Result<&Object, Throw> {
        let id = r.ok_or_else(Throw::npe)?;
        let o = self.heap.get(id).ok_or_else(Throw::npe)?;
        if o.owner != self.context && !o.global && self.context != heap::JCRE_CONTEXT {
            return Err(Throw::security());
        }
        Ok(o)
    }

    /// The object behind a reference, mutably, checked by the firewall.
    pub fn object_mut(&mut self, r: Option<ObjId>) -> Result<&mut Object, Throw> {
        self.object(r)?;
        self.heap
            .get_mut(r.unwrap_or_default())
            .ok_or_else(Throw::npe)
    }

    /// The contents of a `byte[]` (or `boolean[]`).
    pub fn bytes(&self, r: Option<ObjId>) -> Result<&[u8], Throw> {
        match &self.object(r)?.body {
            Body::Bytes(b) | Body::Booleans(b) => Ok(b),
            _ => Err(Throw::security()),
        }
    }

    /// `len` bytes of a `byte[]` from `off` (ArrayIndexOutOfBoundsException when outside).
    pub fn bytes_range(&self, r: Option<ObjId>, off: i16, len: i16) -> Result<&[u8], Throw> {
        let b = self.bytes(r)?;
        if off < 0 || len < 0 {
            return Err(Throw::bounds());
        }
        b.get(off as usize..off as usize + len as usize)
            .ok_or_else(Throw::bounds)
    }

    /// Writes `data` into a `byte[]` at `off` (bounds-checked; persistent arrays through NV
    /// in one atomic write).
    pub fn write_bytes(
        &mut self,
        env: &mut dyn Env,
        r: Option<ObjId>,
        off: i16,
        data: &[u8],
    ) -> Result<(), Throw> {
        if off < 0 {
            return Err(Throw::bounds());
        }
        let o = self.object_mut(r)?;
        let b = match &mut o.body {
            Body::Bytes(b) | Body::Booleans(b) => b,
            _ => return Err(Throw::security()),
        };
        let dst = b
            .get_mut(off as usize..off as usize + data.len())
            .ok_or_else(Throw::bounds)?;
        dst.copy_from_slice(data);
        self.persist(env, r.unwrap_or_default())
    }

    /// The native state of an API object.
    pub fn peer(&self, r: Option<ObjId>) -> Result<&NativePeer, Throw> {
        match &self.object(r)?.body {
            Body::Instance { peer: Some(p), .. } => Ok(p),
            _ => Err(Throw::security()),
        }
    }

    /// Replaces the native state of an API object (one NV write when persistent).
    pub fn set_peer(
        &mut self,
        env: &mut dyn Env,
        r: Option<ObjId>,
        p: NativePeer,
    ) -> Result<(), Throw> {
        match &mut self.object_mut(r)?.body {
            Body::Instance { peer, .. } => *peer = Some(p),
            _ => return Err(Throw::security()),
        }
        self.persist(env, r.unwrap_or_default())
    }

    /// Changes the native state in memory only (transient parts, e.g. a PIN's validated
    /// flag or a cipher's working state).
    pub fn peer_mut_transient(&mut self, r: Option<ObjId>) -> Result<&mut NativePeer, Throw> {
        match &mut self.object_mut(r)?.body {
            Body::Instance { peer: Some(p), .. } => Ok(p),
            _ => Err(Throw::security()),
        }
    }

    /// The class of an object.
    pub fn class_of(&self, id: ObjId) -> Option<ClassId> {
        match &self.heap.get(id)?.body {
            Body::Instance { class, .. } => Some(*class),
            _ => None,
        }
    }

    /// The JCRE-owned singleton of API exception class `class` with `reason` set.
    pub(crate) fn exception_object(&mut self, class: &str, reason: i16) -> Result<ObjId, Throw> {
        let c = crate::api::api_class_by_name(class)
            .ok_or_else(|| self.fault(format!("no API class {class}")))?;
        let id = match self.exceptions.get(&c) {
            Some(&id) => id,
            None => {
                let id = self.alloc_session(Body::Instance {
                    class: ClassId::Api(c),
                    fields: Vec::new(),
                    peer: None,
                });
                self.exceptions.insert(c, id);
                id
            }
        };
        if let Some(Object {
            body: Body::Instance { peer, .. },
            ..
        }) = self.heap.get_mut(id)
        {
            *peer = Some(NativePeer::Reason(reason));
        }
        Ok(id)
    }

    /// The APDU buffer (a global JCRE array, JCRE Spec §6.2.2): [`APDU_BUFFER_SIZE`]
    /// bytes, or [`EXTENDED_APDU_BUFFER_SIZE`] for an applet that implements
    /// `javacardx.apdu.ExtendedLength`.
    pub fn apdu_buffer(&mut self) -> ObjId {
        match self.apdu_buffer {
            Some(b) => b,
            None => {
                let n = if self.applet_takes_extended_length() {
                    EXTENDED_APDU_BUFFER_SIZE
                } else {
                    APDU_BUFFER_SIZE
                };
                let b = self.alloc_session(Body::Bytes(vec![0; n]));
                self.apdu_buffer = Some(b);
                b
            }
        }
    }

    /// The length of the APDU buffer.
    pub fn apdu_buffer_len(&mut self) -> usize {
        let b = self.apdu_buffer();
        match self.heap.get(b).map(|o| &o.body) {
            Some(Body::Bytes(v)) => v.len(),
            _ => APDU_BUFFER_SIZE,
        }
    }

    /// Whether the registered applet implements `javacardx.apdu.ExtendedLength` (JC API
    /// 3.0.5: the tagging interface that lets it receive extended-length commands).
    pub fn applet_takes_extended_length(&self) -> bool {
        let Some(a) = self.applet else {
            return false;
        };
        crate::api::api_class_by_name("javacardx/apdu/ExtendedLength")
            .is_some_and(|i| self.instance_of(a, ClassId::Api(i)))
    }

    /// Where the command data starts in the APDU buffer (JC API `APDU.getOffsetCdata`):
    /// after `CLA INS P1 P2 Lc`, or `CLA INS P1 P2 00 Lc1 Lc2` for an extended command.
    pub fn apdu_offset_cdata(&self) -> usize {
        if self.apdu.extended {
            7
        } else {
            5
        }
    }

    /// The `APDU` object (a JCRE entry point object).
    pub fn apdu_object(&mut self) -> ObjId {
        match self.apdu_object {
            Some(a) => a,
            None => {
                let c = crate::api::api_class_by_name("javacard/framework/APDU").unwrap_or(0);
                let a = self.alloc_session(Body::Instance {
                    class: ClassId::Api(c),
                    fields: Vec::new(),
                    peer: Some(NativePeer::Apdu),
                });
                self.apdu_object = Some(a);
                a
            }
        }
    }

    /// Stores a reference field value: JCRE session objects (the APDU buffer and object,
    /// exception singletons) may not be stored (JCRE Spec §6.2.1, §6.2.2).
    pub(crate) fn check_storable(&self, v: Slot) -> Result<(), Throw> {
        if let Slot::R(Some(id)) = v {
            if let Some(o) = self.heap.get(id) {
                if Self::is_session(o) {
                    return Err(Throw::security());
                }
            }
        }
        Ok(())
    }

    /// Clears the `CLEAR_ON_DESELECT` transient objects (at deselect and reset).
    pub fn clear_on_deselect(&mut self) {
        for (_, o) in self.heap.iter_mut() {
            if o.memory == Memory::ClearOnDeselect {
                o.clear();
            }
            crate::api::crypto::natives::clear_on_deselect(o);
        }
    }
}

/// The typed value of an API object's reason (exceptions).
pub(crate) fn reason_of(vm: &Vm, r: Option<ObjId>) -> i16 {
    match vm.heap.get(r.unwrap_or_default()).map(|o| &o.body) {
        Some(Body::Instance {
            peer: Some(NativePeer::Reason(x)),
            ..
        }) => *x,
        _ => 0,
    }
}
