//! Natives of `javacard.framework` (JC API Spec 3.0.5): `AID`, `APDU` (T=0 semantics: the
//! card sends case 2/4 answers with 61xx/GET RESPONSE), `Applet`, the exceptions
//! (`CardException`, `CardRuntimeException`, `ISOException`, `APDUException`,
//! `PINException`, `SystemException`, `TransactionException`, `UserException`), `JCSystem`
//! (transactions on the card's NV transaction, transient arrays, AIDs), `OwnerPIN`
//! (constant-time compare) and `Util` (`arrayCopy` is one atomic write).

use crate::heap::{Body, Memory, ObjId, Slot, Value};
use crate::natives::{self, Native, NativeFn, NativePeer, PinPeer, Throw};
use crate::vm::{self, Env, Vm};
use subtle::ConstantTimeEq;

type R = Result<Option<Value>, Throw>;

fn short(v: i16) -> R {
    Ok(Some(Value::Short(v)))
}

fn boolean(b: bool) -> R {
    short(b as i16)
}

fn obj(r: Option<ObjId>) -> R {
    Ok(Some(Value::Ref(r)))
}

// ---- exceptions -------------------------------------------------------------------------

fn exc_init_reason(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    vm.set_peer(env, a[0].obj(), NativePeer::Reason(a[1].short()))?;
    Ok(None)
}

fn exc_init(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    vm.set_peer(env, a[0].obj(), NativePeer::Reason(0))?;
    Ok(None)
}

fn get_reason(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(vm::reason_of(vm, a[0].obj()))
}

fn set_reason(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    exc_init_reason(vm, env, a)
}

macro_rules! throw_it {
    ($name:ident, $class:expr) => {
        fn $name(_: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
            Err(Throw::java($class, a[0].short()))
        }
    };
}
throw_it!(throw_card, "javacard/framework/CardException");
throw_it!(
    throw_card_runtime,
    "javacard/framework/CardRuntimeException"
);
throw_it!(throw_iso, natives::ISO_EXCEPTION);
throw_it!(throw_apdu, natives::APDU_EXCEPTION);
throw_it!(throw_pin, natives::PIN_EXCEPTION);
throw_it!(throw_system, natives::SYSTEM_EXCEPTION);
throw_it!(throw_transaction, natives::TRANSACTION_EXCEPTION);
throw_it!(throw_user, natives::USER_EXCEPTION);
throw_it!(throw_crypto, natives::CRYPTO_EXCEPTION);

/// `SystemException.ILLEGAL_VALUE`.
const SYS_ILLEGAL_VALUE: i16 = 1;
/// `SystemException.ILLEGAL_TRANSIENT`.
const SYS_ILLEGAL_USE: i16 = 6;
/// `APDUException.ILLEGAL_USE`.
const APDU_ILLEGAL_USE: i16 = 1;
/// `APDUException.BAD_LENGTH`.
const APDU_BAD_LENGTH: i16 = 3;
/// `TransactionException.IN_PROGRESS`.
const TX_IN_PROGRESS: i16 = 1;
/// `TransactionException.NOT_IN_PROGRESS`.
const TX_NOT_IN_PROGRESS: i16 = 2;
/// `PINException.ILLEGAL_VALUE`.
const PIN_ILLEGAL_VALUE: i16 = 1;

// ---- AID --------------------------------------------------------------------------------

fn aid_bytes(vm: &Vm, r: Option<ObjId>) -> Result<Vec<u8>, Throw> {
    match vm.peer(r)? {
        NativePeer::Aid(a) => Ok(a.clone()),
        _ => Err(Throw::security()),
    }
}

fn aid_init(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let b = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short())?
        .to_vec();
    if !(5..=16).contains(&b.len()) {
        return Err(Throw::java(natives::SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE));
    }
    vm.set_peer(env, a[0].obj(), NativePeer::Aid(b))?;
    Ok(None)
}

fn aid_equals_obj(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let me = aid_bytes(vm, a[0].obj())?;
    let other = match a[1].obj() {
        None => return boolean(false),
        Some(_) => match vm.peer(a[1].obj()) {
            Ok(NativePeer::Aid(b)) => b.clone(),
            _ => return boolean(false),
        },
    };
    boolean(me == other)
}

fn aid_equals_bytes(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let me = aid_bytes(vm, a[0].obj())?;
    if a[1].obj().is_none() {
        return boolean(false);
    }
    let b = vm.bytes_range(a[1].obj(), a[2].short(), a[3].short())?;
    boolean(me == b)
}

fn aid_rid_equals(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let me = aid_bytes(vm, a[0].obj())?;
    let other = aid_bytes(vm, a[1].obj())?;
    boolean(me.get(..5) == other.get(..5))
}

fn aid_get_bytes(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let me = aid_bytes(vm, a[0].obj())?;
    vm.write_bytes(env, a[1].obj(), a[2].short(), &me)?;
    short(me.len() as i16)
}

fn aid_partial_equals(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let me = aid_bytes(vm, a[0].obj())?;
    if a[1].obj().is_none() {
        return boolean(false);
    }
    let b = vm.bytes_range(a[1].obj(), a[2].short(), a[3].short())?;
    boolean(b.len() <= me.len() && me[..b.len()] == *b)
}

fn aid_get_partial_bytes(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let me = aid_bytes(vm, a[0].obj())?;
    let (off, n) = (a[1].short(), a[4].short());
    if off < 0 || off as usize > me.len() {
        return Err(Throw::bounds());
    }
    let n = if n == 0 {
        me.len() - off as usize
    } else {
        (n as usize).min(me.len() - off as usize)
    };
    let part = me[off as usize..off as usize + n].to_vec();
    vm.write_bytes(env, a[2].obj(), a[3].short(), &part)?;
    short(n as i16)
}

// ---- APDU -------------------------------------------------------------------------------

fn apdu_get_buffer(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    obj(Some(vm.apdu_buffer()))
}

fn receive_into_buffer(vm: &mut Vm, off: usize) -> Result<i16, Throw> {
    let buf = vm.apdu_buffer();
    let left = vm.apdu.data.len() - vm.apdu.received;
    let room = vm.apdu_buffer_len().saturating_sub(off);
    let n = left.min(room);
    let chunk = vm.apdu.data[vm.apdu.received..vm.apdu.received + n].to_vec();
    if let Some(o) = vm.heap.get_mut(buf) {
        if let Body::Bytes(b) = &mut o.body {
            b[off..off + n].copy_from_slice(&chunk);
        }
    }
    vm.apdu.received += n;
    Ok(n as i16)
}

fn apdu_set_incoming_and_receive(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    if vm.apdu.received > 0 || vm.apdu.outgoing.is_some() {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_ILLEGAL_USE));
    }
    let off = vm.apdu_offset_cdata();
    short(receive_into_buffer(vm, off)?)
}

fn apdu_receive_bytes(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let off = a[1].short();
    if off < 0 || off as usize >= vm.apdu_buffer_len() {
        return Err(Throw::java(natives::APDU_EXCEPTION, 2));
    }
    if vm.apdu.outgoing.is_some() {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_ILLEGAL_USE));
    }
    short(receive_into_buffer(vm, off as usize)?)
}

fn apdu_incoming_length(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(vm.apdu.data.len() as i16)
}

fn apdu_offset_cdata(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(vm.apdu_offset_cdata() as i16)
}

fn apdu_set_outgoing(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    if vm.apdu.outgoing.is_some() {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_ILLEGAL_USE));
    }
    // T=0: without Le the length the terminal will accept is unknown: 256 (JC API
    // `setOutgoing`).
    // (An extended command without Le: the most an extended response can hold.)
    let ne = match (vm.apdu.ne, vm.apdu.extended) {
        (0, false) => 256,
        (0, true) => i16::MAX as usize,
        (n, _) => n,
    };
    vm.apdu.outgoing = Some(ne);
    short(ne.min(0x7FFF) as i16)
}

fn apdu_set_outgoing_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    if vm.apdu.outgoing.is_none() || vm.apdu.outgoing_len.is_some() {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_ILLEGAL_USE));
    }
    let n = a[1].short();
    // Up to 256 bytes for a short command; an extended one (ExtendedLength applets only)
    // up to 32767 (JC API 3.0.5 `APDU.setOutgoingLength`).
    let max = if vm.apdu.extended { i16::MAX } else { 256 };
    if !(0..=max).contains(&n) {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_BAD_LENGTH));
    }
    vm.apdu.outgoing_len = Some(n as usize);
    Ok(None)
}

fn send(vm: &mut Vm, data: Vec<u8>) -> Result<(), Throw> {
    let Some(limit) = vm.apdu.outgoing_len else {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_ILLEGAL_USE));
    };
    if vm.apdu.out.len() + data.len() > limit {
        return Err(Throw::java(natives::APDU_EXCEPTION, APDU_ILLEGAL_USE));
    }
    vm.apdu.out.extend_from_slice(&data);
    Ok(())
}

fn apdu_send_bytes(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let buf = vm.apdu_buffer();
    let d = vm
        .bytes_range(Some(buf), a[1].short(), a[2].short())
        .map_err(|_| Throw::java(natives::APDU_EXCEPTION, 2))?
        .to_vec();
    send(vm, d)?;
    Ok(None)
}

fn apdu_send_bytes_long(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let d = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short())?
        .to_vec();
    send(vm, d)?;
    Ok(None)
}

fn apdu_set_outgoing_and_send(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    apdu_set_outgoing(vm, env, &a[..1])?;
    apdu_set_outgoing_length(vm, env, &[a[0], a[2]])?;
    apdu_send_bytes(vm, env, a)
}

fn apdu_block_size(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    let n = vm.apdu_buffer_len() - vm.apdu_offset_cdata();
    short(n.min(i16::MAX as usize) as i16)
}

fn apdu_protocol(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(0) // PROTOCOL_T0
}

fn apdu_nad(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(0)
}

fn apdu_current(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    obj(Some(vm.apdu_object()))
}

fn apdu_current_buffer(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    obj(Some(vm.apdu_buffer()))
}

fn apdu_cla_channel(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(vm.apdu.channel as i16)
}

fn apdu_wait_extension(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    Ok(None)
}

fn apdu_set_outgoing_no_chaining(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    apdu_set_outgoing(vm, env, a)
}

fn apdu_state(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    // JC API APDU.STATE_*: 0 initial, 1 partial incoming, 2 full incoming, 3 outgoing,
    // 4 outgoing length known, 5 partial outgoing, 6 full outgoing.
    let a = &vm.apdu;
    short(match (a.outgoing, a.outgoing_len) {
        (None, _) if a.received == 0 && !a.data.is_empty() => 0,
        (None, _) if a.received < a.data.len() => 1,
        (None, _) => 2,
        (Some(_), None) => 3,
        (Some(_), Some(l)) if a.out.is_empty() => {
            if l == 0 {
                6
            } else {
                4
            }
        }
        (Some(_), Some(l)) if a.out.len() < l => 5,
        _ => 6,
    })
}

fn cla(vm: &mut Vm) -> u8 {
    let buf = vm.apdu_buffer();
    vm.bytes(Some(buf)).map(|b| b[0]).unwrap_or(0)
}

fn apdu_chaining(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    let c = cla(vm);
    boolean(c & 0x80 == 0 && c & 0x10 != 0)
}

fn apdu_sm(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    let c = cla(vm);
    boolean(
        c & 0x80 == 0
            && if c & 0x40 == 0 {
                c & 0x0C != 0
            } else {
                c & 0x20 != 0
            },
    )
}

fn apdu_interindustry(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    boolean(cla(vm) & 0x80 == 0)
}

fn apdu_valid_cla(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    boolean(cla(vm) != 0xFF)
}

// ---- Applet -----------------------------------------------------------------------------

fn applet_register(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let id = a[0].obj().ok_or_else(Throw::npe)?;
    if vm.applet.is_some() {
        return Err(Throw::java(natives::SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE));
    }
    vm.applet = Some(id);
    env.persist(vm::APPLET_KEY, &id.to_be_bytes())
        .map_err(Throw::Fault)?;
    Ok(None)
}

fn applet_register_aid(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let aid = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short())?
        .to_vec();
    if !(5..=16).contains(&aid.len()) {
        return Err(Throw::java(natives::SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE));
    }
    applet_register(vm, env, a)
}

fn applet_selecting(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    boolean(vm.selecting)
}

fn applet_select(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    boolean(true)
}

fn applet_false(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    boolean(false)
}

fn nothing(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    Ok(None)
}

fn null(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    obj(None)
}

// ---- JCSystem ---------------------------------------------------------------------------

fn transient_array(vm: &mut Vm, env: &mut dyn Env, a: &[Value], make: fn(usize) -> Body) -> R {
    let n = a[0].short();
    let memory = match a[1].short() {
        1 => Memory::ClearOnReset,
        2 => Memory::ClearOnDeselect,
        _ => return Err(Throw::java(natives::SYSTEM_EXCEPTION, SYS_ILLEGAL_VALUE)),
    };
    if n < 0 {
        return Err(Throw::java(natives::NEGATIVE_ARRAY_SIZE_EXCEPTION, 0));
    }
    let id = vm.alloc(env, memory, make(n as usize))?;
    // The header (length, type) is persistent; the contents are not (JCRE Spec §5.1).
    let o = vm.heap.get(id).cloned();
    if let Some(o) = o {
        env.persist(&crate::heap::object_key(id), &crate::heap::encode(&o))
            .map_err(Throw::Fault)?;
    }
    obj(Some(id))
}

fn make_transient_bytes(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    transient_array(vm, env, a, |n| Body::Bytes(vec![0; n]))
}

fn make_transient_booleans(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    transient_array(vm, env, a, |n| Body::Booleans(vec![0; n]))
}

fn make_transient_shorts(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    transient_array(vm, env, a, |n| Body::Shorts(vec![0; n]))
}

fn make_transient_objects(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    transient_array(vm, env, a, |n| Body::Refs {
        class: None,
        elems: vec![None; n],
    })
}

fn is_transient(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let Some(id) = a[0].obj() else {
        return short(0);
    };
    short(match vm.heap.get(id).map(|o| o.memory) {
        Some(Memory::ClearOnReset) => 1,
        Some(Memory::ClearOnDeselect) => 2,
        _ => 0,
    })
}

fn get_version(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(0x0304)
}

fn get_aid(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    let aid = vm.instance_aid.clone();
    let c = crate::api::api_class_by_name("javacard/framework/AID").unwrap_or(0);
    let id = vm.alloc_session(Body::Instance {
        class: crate::heap::ClassId::Api(c),
        fields: Vec::new(),
        peer: Some(NativePeer::Aid(aid)),
    });
    obj(Some(id))
}

fn lookup_aid(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let b = vm
        .bytes_range(a[0].obj(), a[1].short(), a[2].short())?
        .to_vec();
    if b == vm.instance_aid || env.applet_exists(&b) {
        obj(Some(aid_object(vm, b)))
    } else {
        obj(None)
    }
}

/// A JCRE-owned `AID` object (a JCRE entry point object, JCRE Spec §6.2.1).
fn aid_object(vm: &mut Vm, aid: Vec<u8>) -> ObjId {
    let c = crate::api::api_class_by_name("javacard/framework/AID").unwrap_or(0);
    vm.alloc_session(Body::Instance {
        class: crate::heap::ClassId::Api(c),
        fields: Vec::new(),
        peer: Some(NativePeer::Aid(aid)),
    })
}

/// `JCSystem.getPreviousContextAID` (JCRE Spec §6.2.7.1): the instance that called into
/// this one through a Shareable interface object, else null (called by the JCRE).
fn previous_context_aid(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    match vm.remote_caller.clone() {
        Some(aid) => obj(Some(aid_object(vm, aid))),
        None => obj(None),
    }
}

/// `JCSystem.getAppletShareableInterfaceObject(serverAID, parameter)` (JCRE Spec
/// §6.2.7.2): the server's `getShareableInterfaceObject(clientAID, parameter)` through the
/// card; a proxy of the object it gives, or null.
fn applet_sio(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let server = aid_bytes(vm, a[0].obj())?;
    let param = a[1].short() as u8;
    if server == vm.instance_aid {
        // The applet asks itself: its own object, no context switch.
        let Some(me) = vm.applet else {
            return obj(None);
        };
        let r = vm.call_virtual(
            env,
            me,
            "javacard/framework/Applet",
            "getShareableInterfaceObject",
            "(Ljavacard/framework/AID;B)Ljavacard/framework/Shareable;",
            &[Slot::R(a[0].obj()), Slot::S(param as i8 as i16)],
        )?;
        return Ok(r);
    }
    let client = vm.instance_aid.clone();
    match env.shareable(&server, &client, param)? {
        Some(r) => obj(Some(vm.proxy(env, r)?)),
        None => obj(None),
    }
}

fn is_applet_active(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let b = aid_bytes(vm, a[0].obj())?;
    boolean(b == vm.instance_aid)
}

fn begin_tx(vm: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    let _ = vm;
    if env.in_transaction() {
        return Err(Throw::java(natives::TRANSACTION_EXCEPTION, TX_IN_PROGRESS));
    }
    env.begin_transaction().map_err(Throw::Fault)?;
    Ok(None)
}

fn commit_tx(_: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    if !env.in_transaction() {
        return Err(Throw::java(
            natives::TRANSACTION_EXCEPTION,
            TX_NOT_IN_PROGRESS,
        ));
    }
    env.commit_transaction().map_err(Throw::Fault)?;
    Ok(None)
}

fn abort_tx(vm: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    if !env.in_transaction() {
        return Err(Throw::java(
            natives::TRANSACTION_EXCEPTION,
            TX_NOT_IN_PROGRESS,
        ));
    }
    env.abort_transaction().map_err(Throw::Fault)?;
    vm.reload(env)?;
    Ok(None)
}

fn tx_depth(_: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    short(env.in_transaction() as i16)
}

fn commit_capacity(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(0x7FFF)
}

fn available_memory(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(0x7FFF)
}

fn request_deletion(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    Err(Throw::java(natives::SYSTEM_EXCEPTION, SYS_ILLEGAL_USE))
}

fn assigned_channel(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    short(vm.apdu.channel as i16)
}

// ---- OwnerPIN ---------------------------------------------------------------------------

fn pin(vm: &Vm, r: Option<ObjId>) -> Result<PinPeer, Throw> {
    match vm.peer(r)? {
        NativePeer::Pin(p) => Ok(p.clone()),
        _ => Err(Throw::security()),
    }
}

fn set_validated(vm: &mut Vm, r: Option<ObjId>, v: bool) -> Result<(), Throw> {
    if let NativePeer::Pin(p) = vm.peer_mut_transient(r)? {
        p.validated = v;
    }
    Ok(())
}

fn pin_init(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (tries, max) = (a[1].short(), a[2].short());
    if tries < 1 || max < 1 || tries > 127 || max > 127 {
        return Err(Throw::java(natives::PIN_EXCEPTION, PIN_ILLEGAL_VALUE));
    }
    vm.set_peer(
        env,
        a[0].obj(),
        NativePeer::Pin(PinPeer {
            try_limit: tries as u8,
            max_size: max as u8,
            pin: Vec::new(),
            tries: tries as u8,
            validated: false,
        }),
    )?;
    Ok(None)
}

fn pin_check(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let r = a[0].obj();
    let mut p = pin(vm, r)?;
    set_validated(vm, r, false)?;
    if p.tries == 0 {
        return boolean(false);
    }
    let given = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short().max(0))?
        .to_vec();
    // The try counter is decremented (and written) before the comparison.
    p.tries -= 1;
    p.validated = false;
    vm.set_peer(env, r, NativePeer::Pin(p.clone()))?;
    env.checkpoint().map_err(Throw::Fault)?;
    let ok = given.len() == p.pin.len() && !p.pin.is_empty() && bool::from(given.ct_eq(&p.pin));
    if ok {
        p.tries = p.try_limit;
        vm.set_peer(env, r, NativePeer::Pin(p))?;
        set_validated(vm, r, true)?;
    }
    boolean(ok)
}

fn pin_tries(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(pin(vm, a[0].obj())?.tries as i16)
}

fn pin_is_validated(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    boolean(pin(vm, a[0].obj())?.validated)
}

fn pin_reset(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let r = a[0].obj();
    let mut p = pin(vm, r)?;
    if p.validated {
        p.tries = p.try_limit;
        p.validated = false;
        vm.set_peer(env, r, NativePeer::Pin(p))?;
    }
    Ok(None)
}

fn pin_reset_and_unblock(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let r = a[0].obj();
    let mut p = pin(vm, r)?;
    p.tries = p.try_limit;
    p.validated = false;
    vm.set_peer(env, r, NativePeer::Pin(p))?;
    Ok(None)
}

fn pin_update(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let r = a[0].obj();
    let mut p = pin(vm, r)?;
    let len = a[3].short();
    if len < 0 || len as usize > p.max_size as usize {
        return Err(Throw::java(natives::PIN_EXCEPTION, PIN_ILLEGAL_VALUE));
    }
    p.pin = vm.bytes_range(a[1].obj(), a[2].short(), len)?.to_vec();
    p.tries = p.try_limit;
    p.validated = false;
    vm.set_peer(env, r, NativePeer::Pin(p))?;
    Ok(None)
}

fn pin_get_validated(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    pin_is_validated(vm, env, a)
}

fn pin_set_validated(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    set_validated(vm, a[0].obj(), a[1].bool())?;
    Ok(None)
}

// ---- Util -------------------------------------------------------------------------------

fn array_copy(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (src, so, dst, d_o, n) = (
        a[0].obj(),
        a[1].short(),
        a[2].obj(),
        a[3].short(),
        a[4].short(),
    );
    if src.is_none() || dst.is_none() {
        return Err(Throw::npe());
    }
    let data = vm.bytes_range(src, so, n)?.to_vec();
    vm.bytes_range(dst, d_o, n)?;
    // One NV write of the destination: atomic even outside a transaction (JC API
    // `Util.arrayCopy`).
    vm.write_bytes(env, dst, d_o, &data)?;
    short(d_o.wrapping_add(n))
}

fn array_fill(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (arr, off, n, v) = (a[0].obj(), a[1].short(), a[2].short(), a[3].short());
    vm.bytes_range(arr, off, n)?;
    vm.write_bytes(env, arr, off, &vec![v as u8; n as usize])?;
    short(off.wrapping_add(n))
}

fn array_compare(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let (src, so, dst, d_o, n) = (
        a[0].obj(),
        a[1].short(),
        a[2].obj(),
        a[3].short(),
        a[4].short(),
    );
    if src.is_none() || dst.is_none() {
        return Err(Throw::npe());
    }
    let x = vm.bytes_range(src, so, n)?;
    let y = vm.bytes_range(dst, d_o, n)?;
    for (p, q) in x.iter().zip(y) {
        let (p, q) = (*p as i8, *q as i8);
        if p != q {
            return short(if p < q { -1 } else { 1 });
        }
    }
    short(0)
}

fn make_short(_: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from_be_bytes([a[0].short() as u8, a[1].short() as u8]))
}

fn get_short(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let b = vm.bytes_range(a[0].obj(), a[1].short(), 2)?;
    short(i16::from_be_bytes([b[0], b[1]]))
}

fn set_short(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let off = a[1].short();
    vm.write_bytes(env, a[0].obj(), off, &a[2].short().to_be_bytes())?;
    short(off.wrapping_add(2))
}

const FW: &str = "javacard/framework/";

macro_rules! n {
    ($c:literal, $m:literal, $d:literal, $f:expr) => {
        (concat!("javacard/framework/", $c), $m, $d, $f as NativeFn)
    };
}

/// The `javacard.framework` natives.
pub const NATIVES: &[Native] = &[
    // Exceptions.
    n!("CardException", "<init>", "(S)V", exc_init_reason),
    n!("CardException", "throwIt", "(S)V", throw_card),
    n!("CardException", "getReason", "()S", get_reason),
    n!("CardException", "setReason", "(S)V", set_reason),
    n!("CardRuntimeException", "<init>", "(S)V", exc_init_reason),
    n!(
        "CardRuntimeException",
        "throwIt",
        "(S)V",
        throw_card_runtime
    ),
    n!("CardRuntimeException", "getReason", "()S", get_reason),
    n!("CardRuntimeException", "setReason", "(S)V", set_reason),
    n!("ISOException", "<init>", "(S)V", exc_init_reason),
    n!("ISOException", "throwIt", "(S)V", throw_iso),
    n!("APDUException", "<init>", "(S)V", exc_init_reason),
    n!("APDUException", "throwIt", "(S)V", throw_apdu),
    n!("PINException", "<init>", "(S)V", exc_init_reason),
    n!("PINException", "throwIt", "(S)V", throw_pin),
    n!("SystemException", "<init>", "(S)V", exc_init_reason),
    n!("SystemException", "throwIt", "(S)V", throw_system),
    n!("TransactionException", "<init>", "(S)V", exc_init_reason),
    n!("TransactionException", "throwIt", "(S)V", throw_transaction),
    n!("UserException", "<init>", "()V", exc_init),
    n!("UserException", "<init>", "(S)V", exc_init_reason),
    n!("UserException", "throwIt", "(S)V", throw_user),
    // CryptoException is a CardRuntimeException; its throwIt lives here with the others.
    (
        natives::CRYPTO_EXCEPTION,
        "<init>",
        "(S)V",
        exc_init_reason as NativeFn,
    ),
    (
        natives::CRYPTO_EXCEPTION,
        "throwIt",
        "(S)V",
        throw_crypto as NativeFn,
    ),
    // AID.
    n!("AID", "<init>", "([BSB)V", aid_init),
    n!("AID", "equals", "(Ljava/lang/Object;)Z", aid_equals_obj),
    n!("AID", "equals", "([BSB)Z", aid_equals_bytes),
    n!(
        "AID",
        "RIDEquals",
        "(Ljavacard/framework/AID;)Z",
        aid_rid_equals
    ),
    n!("AID", "getBytes", "([BS)B", aid_get_bytes),
    n!("AID", "partialEquals", "([BSB)Z", aid_partial_equals),
    n!("AID", "getPartialBytes", "(S[BSB)B", aid_get_partial_bytes),
    // APDU.
    n!("APDU", "getBuffer", "()[B", apdu_get_buffer),
    n!(
        "APDU",
        "setIncomingAndReceive",
        "()S",
        apdu_set_incoming_and_receive
    ),
    n!("APDU", "receiveBytes", "(S)S", apdu_receive_bytes),
    n!("APDU", "getIncomingLength", "()S", apdu_incoming_length),
    n!("APDU", "getOffsetCdata", "()S", apdu_offset_cdata),
    n!("APDU", "setOutgoing", "()S", apdu_set_outgoing),
    n!(
        "APDU",
        "setOutgoingNoChaining",
        "()S",
        apdu_set_outgoing_no_chaining
    ),
    n!(
        "APDU",
        "setOutgoingLength",
        "(S)V",
        apdu_set_outgoing_length
    ),
    n!("APDU", "sendBytes", "(SS)V", apdu_send_bytes),
    n!("APDU", "sendBytesLong", "([BSS)V", apdu_send_bytes_long),
    n!(
        "APDU",
        "setOutgoingAndSend",
        "(SS)V",
        apdu_set_outgoing_and_send
    ),
    n!("APDU", "getInBlockSize", "()S", apdu_block_size),
    n!("APDU", "getOutBlockSize", "()S", apdu_block_size),
    n!("APDU", "getProtocol", "()B", apdu_protocol),
    n!("APDU", "getNAD", "()B", apdu_nad),
    n!(
        "APDU",
        "getCurrentAPDU",
        "()Ljavacard/framework/APDU;",
        apdu_current
    ),
    n!("APDU", "getCurrentAPDUBuffer", "()[B", apdu_current_buffer),
    n!("APDU", "getCLAChannel", "()B", apdu_cla_channel),
    n!("APDU", "waitExtension", "()V", apdu_wait_extension),
    n!("APDU", "getCurrentState", "()B", apdu_state),
    n!("APDU", "isCommandChainingCLA", "()Z", apdu_chaining),
    n!("APDU", "isSecureMessagingCLA", "()Z", apdu_sm),
    n!("APDU", "isISOInterindustryCLA", "()Z", apdu_interindustry),
    n!("APDU", "isValidCLA", "()Z", apdu_valid_cla),
    // Applet.
    n!("Applet", "<init>", "()V", nothing),
    n!("Applet", "register", "()V", applet_register),
    n!("Applet", "register", "([BSB)V", applet_register_aid),
    n!("Applet", "selectingApplet", "()Z", applet_selecting),
    n!("Applet", "reSelectingApplet", "()Z", applet_false),
    n!("Applet", "select", "()Z", applet_select),
    n!("Applet", "deselect", "()V", nothing),
    n!(
        "Applet",
        "getShareableInterfaceObject",
        "(Ljavacard/framework/AID;B)Ljavacard/framework/Shareable;",
        null
    ),
    // JCSystem.
    n!(
        "JCSystem",
        "isTransient",
        "(Ljava/lang/Object;)B",
        is_transient
    ),
    n!(
        "JCSystem",
        "makeTransientBooleanArray",
        "(SB)[Z",
        make_transient_booleans
    ),
    n!(
        "JCSystem",
        "makeTransientByteArray",
        "(SB)[B",
        make_transient_bytes
    ),
    n!(
        "JCSystem",
        "makeTransientShortArray",
        "(SB)[S",
        make_transient_shorts
    ),
    n!(
        "JCSystem",
        "makeTransientObjectArray",
        "(SB)[Ljava/lang/Object;",
        make_transient_objects
    ),
    n!("JCSystem", "getVersion", "()S", get_version),
    n!("JCSystem", "getAID", "()Ljavacard/framework/AID;", get_aid),
    n!(
        "JCSystem",
        "lookupAID",
        "([BSB)Ljavacard/framework/AID;",
        lookup_aid
    ),
    n!("JCSystem", "beginTransaction", "()V", begin_tx),
    n!("JCSystem", "abortTransaction", "()V", abort_tx),
    n!("JCSystem", "commitTransaction", "()V", commit_tx),
    n!("JCSystem", "getTransactionDepth", "()B", tx_depth),
    n!(
        "JCSystem",
        "getUnusedCommitCapacity",
        "()S",
        commit_capacity
    ),
    n!("JCSystem", "getMaxCommitCapacity", "()S", commit_capacity),
    n!(
        "JCSystem",
        "getPreviousContextAID",
        "()Ljavacard/framework/AID;",
        previous_context_aid
    ),
    n!("JCSystem", "getAvailableMemory", "(B)S", available_memory),
    n!(
        "JCSystem",
        "getAppletShareableInterfaceObject",
        "(Ljavacard/framework/AID;B)Ljavacard/framework/Shareable;",
        applet_sio
    ),
    n!("JCSystem", "isObjectDeletionSupported", "()Z", applet_false),
    n!("JCSystem", "requestObjectDeletion", "()V", request_deletion),
    n!("JCSystem", "getAssignedChannel", "()B", assigned_channel),
    n!(
        "JCSystem",
        "isAppletActive",
        "(Ljavacard/framework/AID;)Z",
        is_applet_active
    ),
    // OwnerPIN.
    n!("OwnerPIN", "<init>", "(BB)V", pin_init),
    n!("OwnerPIN", "check", "([BSB)Z", pin_check),
    n!("OwnerPIN", "getTriesRemaining", "()B", pin_tries),
    n!("OwnerPIN", "isValidated", "()Z", pin_is_validated),
    n!("OwnerPIN", "reset", "()V", pin_reset),
    n!("OwnerPIN", "resetAndUnblock", "()V", pin_reset_and_unblock),
    n!("OwnerPIN", "update", "([BSB)V", pin_update),
    n!("OwnerPIN", "getValidatedFlag", "()Z", pin_get_validated),
    n!("OwnerPIN", "setValidatedFlag", "(Z)V", pin_set_validated),
    // Util.
    n!("Util", "arrayCopy", "([BS[BSS)S", array_copy),
    n!("Util", "arrayCopyNonAtomic", "([BS[BSS)S", array_copy),
    n!("Util", "arrayFillNonAtomic", "([BSSB)S", array_fill),
    n!("Util", "arrayCompare", "([BS[BSS)B", array_compare),
    n!("Util", "makeShort", "(BB)S", make_short),
    n!("Util", "getShort", "([BS)S", get_short),
    n!("Util", "setShort", "([BSS)S", set_short),
];

/// The package name prefix of these natives.
pub const PREFIX: &str = FW;
