//! Natives of `sim.toolkit` (3GPP TS 43.019 §6, the SIM Toolkit API) and of `uicc.toolkit`
//! (ETSI TS 102 241 §6, the same classes as interfaces behind `*System.getTheHandler()`,
//! [`UICC_NATIVES`]): `ToolkitRegistry`, `ProactiveHandler`, `ProactiveResponseHandler`,
//! `EnvelopeHandler`, `EnvelopeResponseHandler`, their `ViewHandler` / `EditHandler` TLV
//! methods, `MEProfile` / `TerminalProfile` and `ToolkitException`.
//!
//! The VM keeps the handlers' buffers ([`ToolkitState`]: the ENVELOPE being processed, the
//! proactive command being built, the TERMINAL RESPONSE, the envelope response) and does the
//! COMPREHENSION-TLV work (TS 102 223 §8, `findTLV` …) itself; what only the card knows goes
//! through [`ToolkitHost`], which the card's [`Env`] offers ([`Env::toolkit`]): the toolkit
//! registry (menu entries and events, persistent), the TERMINAL PROFILE, and the proactive
//! command queue. `ProactiveHandler.send()` is synchronous in the API (it returns the
//! general result of the TERMINAL RESPONSE); the VM suspends the applet's frames there
//! ([`Throw::Suspend`]) and the card resumes them with the TERMINAL RESPONSE
//! ([`Vm::resume_toolkit`](crate::vm::Vm::resume_toolkit)) — the applet's Java stack survives
//! between the `91xx` and the TERMINAL RESPONSE, the card stays sans-IO.

use crate::heap::{ObjId, Value};
use crate::natives::{Native, NativeFn, NativePeer, Throw};
use crate::vm::{Env, Vm};

type R = Result<Option<Value>, Throw>;

/// `sim.toolkit.ToolkitException`.
pub const TOOLKIT_EXCEPTION: &str = "sim/toolkit/ToolkitException";

/// `ToolkitException` reason codes (TS 43.019 §6, `ToolkitException`).
pub mod reason {
    /// HANDLER_OVERFLOW: the handler's buffer is full.
    pub const HANDLER_OVERFLOW: i16 = 1;
    /// HANDLER_NOT_AVAILABLE: the handler is busy or not available in this event.
    pub const HANDLER_NOT_AVAILABLE: i16 = 2;
    /// UNAVAILABLE_ELEMENT: no such TLV / no current TLV.
    pub const UNAVAILABLE_ELEMENT: i16 = 3;
    /// MENU_ENTRY_NOT_FOUND.
    pub const MENU_ENTRY_NOT_FOUND: i16 = 4;
    /// REGISTRY_ERROR: e.g. no more menu entries allowed.
    pub const REGISTRY_ERROR: i16 = 5;
    /// EVENT_NOT_SUPPORTED.
    pub const EVENT_NOT_SUPPORTED: i16 = 6;
    /// EVENT_ALREADY_REGISTERED (unique events).
    pub const EVENT_ALREADY_REGISTERED: i16 = 7;
    /// OUT_OF_TLV_BOUNDARIES.
    pub const OUT_OF_TLV_BOUNDARIES: i16 = 8;
    /// ME_PROFILE_NOT_AVAILABLE: no TERMINAL PROFILE yet.
    pub const ME_PROFILE_NOT_AVAILABLE: i16 = 9;
    /// ALLOWED_LENGTH_EXCEEDED: e.g. a menu text longer than the install parameters allow.
    pub const ALLOWED_LENGTH_EXCEEDED: i16 = 10;
    /// NO_TIMER_AVAILABLE.
    pub const NO_TIMER_AVAILABLE: i16 = 11;
    /// INVALID_TIMER_ID.
    pub const INVALID_TIMER_ID: i16 = 12;
    /// EVENT_NOT_ALLOWED: the event is set by other means (menu entries, timers, polling).
    pub const EVENT_NOT_ALLOWED: i16 = 13;
    /// BAD_INPUT_PARAMETER.
    pub const BAD_INPUT_PARAMETER: i16 = 14;
    /// COMMAND_NOT_ALLOWED: a command the framework issues itself (SET UP MENU, …) or one
    /// the TERMINAL PROFILE does not declare.
    pub const COMMAND_NOT_ALLOWED: i16 = 15;
}

/// `sim.toolkit.ToolkitConstants` event codes the JCRE hands to `processToolkit(byte)`
/// (TS 43.019 §6 `ToolkitConstants`).
pub mod event {
    /// EVENT_PROFILE_DOWNLOAD.
    pub const PROFILE_DOWNLOAD: u8 = 1;
    /// EVENT_FORMATTED_SMS_PP_ENV.
    pub const FORMATTED_SMS_PP_ENV: u8 = 2;
    /// EVENT_UNFORMATTED_SMS_PP_ENV.
    pub const UNFORMATTED_SMS_PP_ENV: u8 = 4;
    /// EVENT_MENU_SELECTION.
    pub const MENU_SELECTION: u8 = 7;
    /// EVENT_MENU_SELECTION_HELP_REQUEST.
    pub const MENU_SELECTION_HELP_REQUEST: u8 = 8;
    /// EVENT_CALL_CONTROL_BY_SIM.
    pub const CALL_CONTROL_BY_SIM: u8 = 9;
    /// EVENT_MO_SHORT_MESSAGE_CONTROL_BY_SIM.
    pub const MO_SHORT_MESSAGE_CONTROL_BY_SIM: u8 = 10;
    /// EVENT_TIMER_EXPIRATION.
    pub const TIMER_EXPIRATION: u8 = 11;
    /// EVENT_STATUS_COMMAND.
    pub const STATUS_COMMAND: u8 = 19;
    /// EVENT_UNRECOGNIZED_ENVELOPE (`-1`).
    pub const UNRECOGNIZED_ENVELOPE: u8 = 0xFF;
}

/// What the card provides to the toolkit natives (the card's side of the seam). Errors are
/// `ToolkitException` reasons ([`reason`]).
pub trait ToolkitHost {
    /// The TERMINAL PROFILE received, if any (`MEProfile`; simota's card answers it inside
    /// toolkit invocations only).
    fn terminal_profile(&self) -> Option<Vec<u8>>;
    /// Whether this applet may send proactive commands now (TERMINAL PROFILE received, no
    /// other applet's proactive session open).
    fn proactive_available(&self) -> bool;
    /// Queue a proactive command: type, qualifier, destination device and the
    /// COMPREHENSION-TLVs after the device identities. The card numbers it, announces it
    /// with `91xx` and delivers its TERMINAL RESPONSE through [`Vm::resume_toolkit`].
    fn send_proactive(
        &mut self,
        command_type: u8,
        qualifier: u8,
        destination: u8,
        objects: &[u8],
    ) -> Result<(), i16>;
    /// The ENVELOPE's response data (`EnvelopeResponseHandler.post`).
    fn post_envelope_response(&mut self, data: &[u8]) -> Result<(), i16>;
    /// `initMenuEntry`: the item identifier given to the new entry (text as an alpha
    /// identifier, TS 102 223 §8.2: GSM default alphabet or `80`/`81`/`82` UCS2).
    fn init_menu_entry(&mut self, text: &[u8], next_action: u8, help: bool) -> Result<u8, i16>;
    /// `changeMenuEntry`.
    fn change_menu_entry(
        &mut self,
        id: u8,
        text: &[u8],
        next_action: u8,
        help: bool,
    ) -> Result<(), i16>;
    /// `enableMenuEntry` / `disableMenuEntry`.
    fn set_menu_entry_enabled(&mut self, id: u8, enabled: bool) -> Result<(), i16>;
    /// `setEvent` (after the VM refused the events set by other means).
    fn set_event(&mut self, event: u8) -> Result<(), i16>;
    /// `clearEvent`.
    fn clear_event(&mut self, event: u8) -> Result<(), i16>;
    /// `isEventSet`.
    fn is_event_set(&self, event: u8) -> bool;
}

/// The toolkit handler an API object stands for (its [`NativePeer::Toolkit`] kind).
pub mod kind {
    /// `ToolkitRegistry` (a permanent entry point object, may be stored in a field).
    pub const REGISTRY: u8 = 0;
    /// `ProactiveHandler`.
    pub const PROACTIVE: u8 = 1;
    /// `ProactiveResponseHandler`.
    pub const PROACTIVE_RESPONSE: u8 = 2;
    /// `EnvelopeHandler`.
    pub const ENVELOPE: u8 = 3;
    /// `EnvelopeResponseHandler`.
    pub const ENVELOPE_RESPONSE: u8 = 4;
}

/// Capacity of the proactive handler: the TLVs of one `D0` template of at most 255 bytes.
pub const PROACTIVE_CAPACITY: usize = 252;
/// Capacity of the envelope response handler.
pub const ENVELOPE_RESPONSE_CAPACITY: usize = 253;

/// The toolkit state of one `processToolkit` invocation (transient; cleared when it ends).
#[derive(Debug, Clone, Default)]
pub struct ToolkitState {
    /// Inside a toolkit entry (`processToolkit` or its resumption).
    pub active: bool,
    /// The event being processed.
    pub event: u8,
    /// The ENVELOPE: its BER tag and its COMPREHENSION-TLV list.
    pub envelope: Option<(u8, Vec<u8>)>,
    /// Whether the event allows an envelope response (SMS-PP, call control, unrecognized).
    pub response_allowed: bool,
    /// The TERMINAL RESPONSE to the last command sent (its TLVs).
    pub response: Option<Vec<u8>>,
    /// The proactive command being built (its TLVs, command details first).
    pub proactive: Vec<u8>,
    /// The envelope response being built.
    pub envelope_response: Vec<u8>,
    /// The envelope response has been posted.
    pub posted: bool,
    /// The current TLV (its offset) of each handler kind, set by `findTLV`.
    pub current: [Option<usize>; 5],
    /// The handler objects of this session, by kind (JCRE temporary entry point objects).
    pub handlers: [Option<ObjId>; 5],
}

/// One COMPREHENSION-TLV of a buffer (TS 102 223 §8, ETSI TS 101 220 §7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tlv {
    /// The tag without its CR bit (`7F` for every 3-byte tag `7F xx yy`).
    tag: u8,
    cr: bool,
    start: usize,
    value: usize,
    len: usize,
}

/// The TLVs of a COMPREHENSION-TLV list; a malformed tail ends the list.
fn tlvs(b: &[u8]) -> Vec<Tlv> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let start = at;
        let (tag, cr, tl) = match b[at] {
            0x00 | 0xFF | 0x80 => break,
            0x7F => match (b.get(at + 1), b.get(at + 2)) {
                (Some(&h), Some(_)) => (0x7F, h & 0x80 != 0, 3),
                _ => break,
            },
            t => (t & 0x7F, t & 0x80 != 0, 1),
        };
        at += tl;
        let (len, ll) = match b.get(at) {
            Some(&n) if n < 0x80 => (usize::from(n), 1),
            Some(&0x81) => match b.get(at + 1) {
                Some(&n) => (usize::from(n), 2),
                None => break,
            },
            Some(&0x82) => match (b.get(at + 1), b.get(at + 2)) {
                (Some(&h), Some(&l)) => (usize::from(h) << 8 | usize::from(l), 3),
                _ => break,
            },
            _ => break,
        };
        at += ll;
        if at + len > b.len() {
            break;
        }
        out.push(Tlv {
            tag,
            cr,
            start,
            value: at,
            len,
        });
        at += len;
    }
    out
}

/// Encodes a COMPREHENSION-TLV (`tag` with its CR bit) into `out`.
fn encode_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    if value.len() > 0x7F {
        out.push(0x81);
    }
    out.push(value.len() as u8);
    out.extend_from_slice(value);
}

/// The general result (first byte of the Result object `03`, TS 102 223 §8.12) of a
/// TERMINAL RESPONSE's COMPREHENSION-TLVs.
pub fn general_result(terminal_response: &[u8]) -> Option<u8> {
    tlvs(terminal_response)
        .into_iter()
        .find(|t| t.tag == 0x03 && t.len > 0)
        .map(|t| terminal_response[t.value])
}

fn tk(r: i16) -> Throw {
    Throw::java(TOOLKIT_EXCEPTION, r)
}

fn short(v: i16) -> R {
    Ok(Some(Value::Short(v)))
}

fn kind_of(vm: &Vm, this: Option<ObjId>) -> Result<u8, Throw> {
    match vm.peer(this)? {
        NativePeer::Toolkit(k) if usize::from(*k) < 5 => Ok(*k),
        _ => Err(Throw::security()),
    }
}

/// The buffer behind handler `k` (HANDLER_NOT_AVAILABLE once its session is over).
fn buffer(vm: &Vm, k: u8) -> Result<&[u8], Throw> {
    let t = &vm.toolkit;
    match k {
        kind::PROACTIVE if t.active => Ok(&t.proactive),
        kind::PROACTIVE_RESPONSE => t
            .response
            .as_deref()
            .ok_or_else(|| tk(reason::HANDLER_NOT_AVAILABLE)),
        kind::ENVELOPE => t
            .envelope
            .as_ref()
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| tk(reason::HANDLER_NOT_AVAILABLE)),
        kind::ENVELOPE_RESPONSE if t.active => Ok(&t.envelope_response),
        _ => Err(tk(reason::HANDLER_NOT_AVAILABLE)),
    }
}

fn buffer_mut(vm: &mut Vm, k: u8) -> Result<&mut Vec<u8>, Throw> {
    let t = &mut vm.toolkit;
    t.current[usize::from(k)] = None;
    match k {
        kind::PROACTIVE if t.active => Ok(&mut t.proactive),
        kind::ENVELOPE_RESPONSE if t.active && !t.posted => Ok(&mut t.envelope_response),
        _ => Err(tk(reason::HANDLER_NOT_AVAILABLE)),
    }
}

fn capacity(vm: &Vm, k: u8) -> Result<usize, Throw> {
    Ok(match k {
        kind::PROACTIVE => PROACTIVE_CAPACITY,
        kind::ENVELOPE_RESPONSE => ENVELOPE_RESPONSE_CAPACITY,
        _ => buffer(vm, k)?.len(),
    })
}

/// The handler object of kind `k` for this session (created on first use).
fn handler(vm: &mut Vm, k: u8, class: &str) -> R {
    if let Some(id) = vm.toolkit.handlers[usize::from(k)] {
        return Ok(Some(Value::Ref(Some(id))));
    }
    let id = vm.new_session_native(class, NativePeer::Toolkit(k))?;
    vm.toolkit.handlers[usize::from(k)] = Some(id);
    Ok(Some(Value::Ref(Some(id))))
}

/// The current TLV of handler `k` (UNAVAILABLE_ELEMENT when none).
fn current(vm: &Vm, k: u8) -> Result<(usize, usize), Throw> {
    let at = vm.toolkit.current[usize::from(k)].ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    let b = buffer(vm, k)?;
    tlvs(b)
        .into_iter()
        .find(|t| t.start == at)
        .map(|t| (t.value, t.len))
        .ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))
}

/// `findTLV`: the `occurrence`-th TLV with `tag` (CR ignored); sets the current TLV.
fn find(vm: &mut Vm, k: u8, tag: u8, occurrence: i16) -> Result<Option<Tlv>, Throw> {
    if occurrence < 1 {
        return Err(tk(reason::BAD_INPUT_PARAMETER));
    }
    let b = buffer(vm, k)?;
    let t = tlvs(b)
        .into_iter()
        .filter(|t| t.tag & 0x7F == tag & 0x7F)
        .nth(occurrence as usize - 1);
    if let Some(t) = t {
        vm.toolkit.current[usize::from(k)] = Some(t.start);
    }
    Ok(t)
}

/// `len` bytes of the current TLV's value from `off` (OUT_OF_TLV_BOUNDARIES outside).
fn value_range(vm: &Vm, k: u8, off: i16, len: i16) -> Result<Vec<u8>, Throw> {
    let (v, n) = current(vm, k)?;
    if off < 0 || len < 0 || off as usize + len as usize > n {
        return Err(tk(reason::OUT_OF_TLV_BOUNDARIES));
    }
    let b = buffer(vm, k)?;
    Ok(b[v + off as usize..v + off as usize + len as usize].to_vec())
}

fn compare(a: &[u8], b: &[u8]) -> i16 {
    match a.cmp(b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

// ---- ViewHandler ----------------------------------------------------------------------

fn v_find_tlv(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    short(match find(vm, k, a[1].short() as u8, a[2].short())? {
        None => 0,
        Some(t) if t.cr => 1,
        Some(_) => 2,
    })
}

fn v_get_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    short(buffer(vm, k)?.len() as i16)
}

fn v_get_capacity(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    short(capacity(vm, k)? as i16)
}

fn v_get_value_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    short(current(vm, k)?.1 as i16)
}

fn v_get_value_byte(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let b = value_range(vm, k, a[1].short(), 1)?;
    short(b[0] as i8 as i16)
}

fn v_copy_value(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let (dst, doff, dlen) = (a[2].obj(), a[3].short(), a[4].short());
    vm.bytes_range(dst, doff, dlen)?;
    let v = value_range(vm, k, a[1].short(), dlen)?;
    vm.write_bytes(env, dst, doff, &v)?;
    short(doff.wrapping_add(dlen))
}

fn v_compare_value(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let other = vm
        .bytes_range(a[2].obj(), a[3].short(), a[4].short())?
        .to_vec();
    let v = value_range(vm, k, a[1].short(), a[4].short())?;
    short(compare(&v, &other))
}

fn v_find_and_copy_value(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let t = find(vm, k, a[1].short() as u8, 1)?.ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    let v = value_range(vm, k, 0, t.len as i16)?;
    let (dst, doff) = (a[2].obj(), a[3].short());
    vm.bytes_range(dst, doff, v.len() as i16)?;
    vm.write_bytes(env, dst, doff, &v)?;
    short(doff.wrapping_add(v.len() as i16))
}

fn v_find_and_copy_value_at(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    find(vm, k, a[1].short() as u8, a[2].short())?
        .ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    let (dst, doff, dlen) = (a[4].obj(), a[5].short(), a[6].short());
    vm.bytes_range(dst, doff, dlen)?;
    let v = value_range(vm, k, a[3].short(), dlen)?;
    vm.write_bytes(env, dst, doff, &v)?;
    short(doff.wrapping_add(dlen))
}

fn v_find_and_compare_value(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let t = find(vm, k, a[1].short() as u8, 1)?.ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    let v = value_range(vm, k, 0, t.len as i16)?;
    let other = vm.bytes_range(a[2].obj(), a[3].short(), v.len() as i16)?;
    short(compare(&v, other))
}

fn v_find_and_compare_value_at(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    find(vm, k, a[1].short() as u8, a[2].short())?
        .ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    let other = vm
        .bytes_range(a[4].obj(), a[5].short(), a[6].short())?
        .to_vec();
    let v = value_range(vm, k, a[3].short(), a[6].short())?;
    short(compare(&v, &other))
}

fn v_copy(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let (dst, doff, dlen) = (a[1].obj(), a[2].short(), a[3].short());
    vm.bytes_range(dst, doff, dlen)?;
    let b = buffer(vm, k)?;
    if dlen < 0 || dlen as usize > b.len() {
        return Err(tk(reason::OUT_OF_TLV_BOUNDARIES));
    }
    let v = b[..dlen as usize].to_vec();
    vm.write_bytes(env, dst, doff, &v)?;
    short(doff.wrapping_add(dlen))
}

// ---- EditHandler ----------------------------------------------------------------------

fn append(vm: &mut Vm, k: u8, bytes: &[u8]) -> Result<(), Throw> {
    let cap = capacity(vm, k)?;
    let b = buffer_mut(vm, k)?;
    if b.len() + bytes.len() > cap {
        return Err(tk(reason::HANDLER_OVERFLOW));
    }
    b.extend_from_slice(bytes);
    Ok(())
}

fn append_tlv(vm: &mut Vm, k: u8, tag: u8, value: &[u8]) -> Result<(), Throw> {
    let mut t = Vec::with_capacity(value.len() + 3);
    encode_tlv(&mut t, tag, value);
    append(vm, k, &t)
}

fn e_clear(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    buffer_mut(vm, k)?.clear();
    Ok(None)
}

fn e_append_array(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short())?
        .to_vec();
    append(vm, k, &v)?;
    Ok(None)
}

fn e_append_tlv_array(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = vm
        .bytes_range(a[2].obj(), a[3].short(), a[4].short())?
        .to_vec();
    append_tlv(vm, k, a[1].short() as u8, &v)?;
    Ok(None)
}

fn e_append_tlv_byte(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    append_tlv(vm, k, a[1].short() as u8, &[a[2].short() as u8])?;
    Ok(None)
}

fn e_append_tlv_2bytes(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    append_tlv(
        vm,
        k,
        a[1].short() as u8,
        &[a[2].short() as u8, a[3].short() as u8],
    )?;
    Ok(None)
}

fn e_append_tlv_byte_array(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let mut v = vec![a[2].short() as u8];
    v.extend_from_slice(vm.bytes_range(a[3].obj(), a[4].short(), a[5].short())?);
    append_tlv(vm, k, a[1].short() as u8, &v)?;
    Ok(None)
}

// ---- ProactiveHandler -----------------------------------------------------------------

/// Device identity of the display / terminal (TS 102 223 §8.7).
const DEV_DISPLAY: u8 = 0x02;
const DEV_ME: u8 = 0x82;
const DEV_SIM: u8 = 0x81;

fn proactive_handler(vm: &mut Vm, env: &mut dyn Env, class: &str) -> R {
    let ok = vm.toolkit.active && env.toolkit().is_some_and(|h| h.proactive_available());
    if !ok {
        return Err(tk(reason::HANDLER_NOT_AVAILABLE));
    }
    handler(vm, kind::PROACTIVE, class)
}

fn ph_get_the_handler(vm: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    proactive_handler(vm, env, "sim/toolkit/ProactiveHandler")
}

fn init_command(vm: &mut Vm, ty: u8, qualifier: u8, dst: u8) -> Result<(), Throw> {
    let b = buffer_mut(vm, kind::PROACTIVE)?;
    b.clear();
    // Command details (the number is the framework's) and device identities, both CR.
    b.extend_from_slice(&[0x81, 0x03, 0x01, ty, qualifier, 0x82, 0x02, DEV_SIM, dst]);
    Ok(())
}

fn ph_init(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let (t, q, d) = (a[1].short() as u8, a[2].short() as u8, a[3].short() as u8);
    init_command(vm, t, q, d)?;
    Ok(None)
}

/// `init*` with a text string (`8D`: DCS then the text).
fn init_text(vm: &mut Vm, a: &[Value], ty: u8, dst: u8) -> Result<(), Throw> {
    let text = vm
        .bytes_range(a[3].obj(), a[4].short(), a[5].short())?
        .to_vec();
    init_command(vm, ty, a[1].short() as u8, dst)?;
    let mut v = vec![a[2].short() as u8];
    v.extend_from_slice(&text);
    append_tlv(vm, kind::PROACTIVE, 0x8D, &v)
}

fn ph_init_display_text(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    init_text(vm, a, 0x21, DEV_DISPLAY)?;
    Ok(None)
}

fn ph_init_get_inkey(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    init_text(vm, a, 0x22, DEV_ME)?;
    Ok(None)
}

fn ph_init_get_input(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let (min, max) = (a[6].short(), a[7].short());
    if !(0..=255).contains(&min) || !(0..=255).contains(&max) || min > max {
        return Err(tk(reason::BAD_INPUT_PARAMETER));
    }
    init_text(vm, a, 0x23, DEV_ME)?;
    append_tlv(vm, kind::PROACTIVE, 0x91, &[min as u8, max as u8])?;
    Ok(None)
}

fn ph_init_close_channel(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let ch = a[1].short();
    if !(1..=7).contains(&ch) {
        return Err(tk(reason::BAD_INPUT_PARAMETER));
    }
    init_command(vm, 0x41, 0x00, 0x20 | ch as u8)?;
    Ok(None)
}

/// Commands the framework issues itself (TS 43.019 §6.5 `send`): SET UP MENU, SET UP EVENT
/// LIST, POLL INTERVAL, POLLING OFF, TIMER MANAGEMENT.
const FRAMEWORK_COMMANDS: [u8; 5] = [0x25, 0x05, 0x03, 0x04, 0x27];

fn ph_send(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    let b = buffer(vm, kind::PROACTIVE)?.to_vec();
    let t = tlvs(&b);
    let (Some(cd), Some(di)) = (t.first(), t.get(1)) else {
        return Err(tk(reason::UNAVAILABLE_ELEMENT));
    };
    if cd.tag != 0x01 || cd.len != 3 || di.tag != 0x02 || di.len != 2 {
        return Err(tk(reason::UNAVAILABLE_ELEMENT));
    }
    let (ty, q, dst) = (b[cd.value + 1], b[cd.value + 2], b[di.value + 1]);
    if FRAMEWORK_COMMANDS.contains(&ty) {
        return Err(tk(reason::COMMAND_NOT_ALLOWED));
    }
    if env.in_transaction() {
        // The applet would wait for the terminal with a transaction open across commands.
        return Err(Throw::java(crate::natives::TRANSACTION_EXCEPTION, 1));
    }
    let host = env
        .toolkit()
        .filter(|h| h.proactive_available())
        .ok_or_else(|| tk(reason::HANDLER_NOT_AVAILABLE))?;
    host.send_proactive(ty, q, dst, &b[di.value + di.len..])
        .map_err(tk)?;
    vm.toolkit.response = None;
    vm.toolkit.current[usize::from(kind::PROACTIVE_RESPONSE)] = None;
    // The applet waits for the TERMINAL RESPONSE: its frames are kept, the card resumes
    // them with `Vm::resume_toolkit`, which makes this call return the general result.
    Err(Throw::Suspend)
}

// ---- ProactiveResponseHandler ---------------------------------------------------------

fn response_handler(vm: &mut Vm, class: &str) -> R {
    if !vm.toolkit.active || vm.toolkit.response.is_none() {
        return Err(tk(reason::HANDLER_NOT_AVAILABLE));
    }
    handler(vm, kind::PROACTIVE_RESPONSE, class)
}

fn prh_get_the_handler(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    response_handler(vm, "sim/toolkit/ProactiveResponseHandler")
}

/// The value of the first TLV with `tag` of handler `k` (UNAVAILABLE_ELEMENT if absent).
fn value_of(vm: &mut Vm, k: u8, tag: u8) -> Result<Vec<u8>, Throw> {
    let t = find(vm, k, tag, 1)?.ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    Ok(buffer(vm, k)?[t.value..t.value + t.len].to_vec())
}

fn prh_general_result(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x03)?;
    let r = v.first().ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    short(*r as i8 as i16)
}

fn prh_additional_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x03)?;
    short(v.len().saturating_sub(1) as i16)
}

fn copy_out(vm: &mut Vm, env: &mut dyn Env, v: &[u8], dst: Option<ObjId>, off: i16) -> R {
    vm.bytes_range(dst, off, v.len() as i16)?;
    vm.write_bytes(env, dst, off, v)?;
    short(off.wrapping_add(v.len() as i16))
}

fn prh_copy_additional(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x03)?;
    let n = a[3].short();
    if n < 0 || n as usize > v.len().saturating_sub(1) {
        return Err(tk(reason::OUT_OF_TLV_BOUNDARIES));
    }
    copy_out(vm, env, &v[1..1 + n as usize], a[1].obj(), a[2].short())
}

fn item_identifier(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x10)?;
    let i = v.first().ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    short(*i as i8 as i16)
}

fn prh_text_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x0D)?;
    short(v.len().saturating_sub(1) as i16)
}

fn prh_text_dcs(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x0D)?;
    let d = v.first().ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    short(*d as i8 as i16)
}

fn prh_copy_text(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x0D)?;
    copy_out(vm, env, v.get(1..).unwrap_or(&[]), a[1].obj(), a[2].short())
}

fn channel_identifier(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x38)?;
    let c = v.first().ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    short(i16::from(c & 0x07))
}

fn prh_copy_channel_data(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let v = value_of(vm, k, 0x36)?;
    let n = a[3].short();
    if n < 0 || n as usize > v.len() {
        return Err(tk(reason::OUT_OF_TLV_BOUNDARIES));
    }
    copy_out(vm, env, &v[..n as usize], a[1].obj(), a[2].short())
}

// ---- EnvelopeHandler ------------------------------------------------------------------

fn envelope_handler(vm: &mut Vm, class: &str) -> R {
    if !vm.toolkit.active || vm.toolkit.envelope.is_none() {
        return Err(tk(reason::HANDLER_NOT_AVAILABLE));
    }
    handler(vm, kind::ENVELOPE, class)
}

fn eh_get_the_handler(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    envelope_handler(vm, "sim/toolkit/EnvelopeHandler")
}

fn eh_envelope_tag(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    let (tag, _) = vm
        .toolkit
        .envelope
        .as_ref()
        .ok_or_else(|| tk(reason::HANDLER_NOT_AVAILABLE))?;
    short(*tag as i8 as i16)
}

/// Offset of TP-UDL in the envelope's SMS TPDU (`0B`) of an SMS-DELIVER (TS 23.040 §9.2.2.1).
fn tp_udl_offset(vm: &mut Vm) -> Result<usize, Throw> {
    let t = find(vm, kind::ENVELOPE, 0x0B, 1)?.ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    let b = buffer(vm, kind::ENVELOPE)?;
    let tpdu = &b[t.value..t.value + t.len];
    let digits = usize::from(*tpdu.get(1).ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?);
    // first octet, OA length, TON/NPI, OA digits, PID, DCS, SCTS (7).
    let at = 1 + 2 + digits.div_ceil(2) + 2 + 7;
    if at >= tpdu.len() {
        return Err(tk(reason::UNAVAILABLE_ELEMENT));
    }
    Ok(t.value + at)
}

fn eh_tp_udl_offset(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    short(tp_udl_offset(vm)? as i16)
}

fn eh_user_data_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    let at = tp_udl_offset(vm)?;
    short(i16::from(buffer(vm, kind::ENVELOPE)?[at]))
}

fn eh_secured_data(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    // Formatted SMS-PP (TS 23.048 command packets) is handled by the card's OTA receiver,
    // not handed to sim.toolkit applets: no secured data in the envelope handler.
    Err(tk(reason::UNAVAILABLE_ELEMENT))
}

// ---- EnvelopeResponseHandler ----------------------------------------------------------

fn envelope_response_handler(vm: &mut Vm, class: &str) -> R {
    if !vm.toolkit.active || !vm.toolkit.response_allowed || vm.toolkit.posted {
        return Err(tk(reason::HANDLER_NOT_AVAILABLE));
    }
    handler(vm, kind::ENVELOPE_RESPONSE, class)
}

fn erh_get_the_handler(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    envelope_response_handler(vm, "sim/toolkit/EnvelopeResponseHandler")
}

fn post(vm: &mut Vm, env: &mut dyn Env, data: Vec<u8>) -> R {
    if vm.toolkit.posted || !vm.toolkit.response_allowed {
        return Err(tk(reason::HANDLER_NOT_AVAILABLE));
    }
    env.toolkit()
        .ok_or_else(|| tk(reason::HANDLER_NOT_AVAILABLE))?
        .post_envelope_response(&data)
        .map_err(tk)?;
    vm.toolkit.posted = true;
    Ok(None)
}

fn erh_post(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    let d = vm.toolkit.envelope_response.clone();
    post(vm, env, d)
}

fn erh_post_as_ber_tlv(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    let v = vm.toolkit.envelope_response.clone();
    let mut d = vec![a[2].short() as u8];
    if v.len() > 0x7F {
        d.push(0x81);
    }
    d.push(v.len() as u8);
    d.extend_from_slice(&v);
    post(vm, env, d)
}

// ---- ToolkitRegistry ------------------------------------------------------------------

fn host(env: &mut dyn Env) -> Result<&mut dyn ToolkitHost, Throw> {
    env.toolkit().ok_or_else(|| tk(reason::REGISTRY_ERROR))
}

/// `getEntry`: the applet's registry object of API class `class` (one per VM, created on
/// first use, persistent so that it may be kept in a field).
fn registry_entry(vm: &mut Vm, env: &mut dyn Env, class: &str) -> R {
    let c = crate::api::api_class_by_name(class).map(crate::heap::ClassId::Api);
    let existing = vm.heap.iter().find_map(|(id, o)| match &o.body {
        crate::heap::Body::Instance {
            class: k,
            peer: Some(NativePeer::Toolkit(kind::REGISTRY)),
            ..
        } if Some(*k) == c => Some(id),
        _ => None,
    });
    if let Some(id) = existing {
        return Ok(Some(Value::Ref(Some(id))));
    }
    let id = vm.new_native_object(env, class, NativePeer::Toolkit(kind::REGISTRY))?;
    Ok(Some(Value::Ref(Some(id))))
}

fn reg_get_entry(vm: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    registry_entry(vm, env, "sim/toolkit/ToolkitRegistry")
}

fn reg_init_menu_entry(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let text = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short())?
        .to_vec();
    let id = host(env)?
        .init_menu_entry(&text, a[4].short() as u8, a[5].bool())
        .map_err(tk)?;
    short(id as i8 as i16)
}

fn reg_change_menu_entry(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let text = vm
        .bytes_range(a[2].obj(), a[3].short(), a[4].short())?
        .to_vec();
    host(env)?
        .change_menu_entry(a[1].short() as u8, &text, a[5].short() as u8, a[6].bool())
        .map_err(tk)?;
    Ok(None)
}

fn reg_enable(vm: &mut Vm, env: &mut dyn Env, a: &[Value], on: bool) -> R {
    kind_of(vm, a[0].obj())?;
    host(env)?
        .set_menu_entry_enabled(a[1].short() as u8, on)
        .map_err(tk)?;
    Ok(None)
}

fn reg_enable_menu_entry(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    reg_enable(vm, env, a, true)
}

fn reg_disable_menu_entry(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    reg_enable(vm, env, a, false)
}

/// `setEvent`: the events set by other means are refused (EVENT_NOT_ALLOWED).
fn set_event(env: &mut dyn Env, ev: u8) -> Result<(), Throw> {
    if matches!(
        ev,
        event::MENU_SELECTION
            | event::MENU_SELECTION_HELP_REQUEST
            | event::TIMER_EXPIRATION
            | event::STATUS_COMMAND
    ) {
        return Err(tk(reason::EVENT_NOT_ALLOWED));
    }
    host(env)?.set_event(ev).map_err(tk)
}

fn reg_set_event(_: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    set_event(env, a[1].short() as u8)?;
    Ok(None)
}

fn reg_set_event_list(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let l = vm
        .bytes_range(a[1].obj(), a[2].short(), a[3].short())?
        .to_vec();
    for e in l {
        set_event(env, e)?;
    }
    Ok(None)
}

fn reg_clear_event(_: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let ev = a[1].short() as u8;
    if matches!(
        ev,
        event::MENU_SELECTION | event::MENU_SELECTION_HELP_REQUEST
    ) {
        return Err(tk(reason::EVENT_NOT_ALLOWED));
    }
    host(env)?.clear_event(ev).map_err(tk)?;
    Ok(None)
}

fn reg_is_event_set(_: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let set = host(env)?.is_event_set(a[1].short() as u8);
    short(set as i16)
}

fn reg_allocate_timer(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    // The card runs no timers (TIMER MANAGEMENT is not implemented).
    Err(tk(reason::NO_TIMER_AVAILABLE))
}

fn reg_release_timer(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    Err(tk(reason::INVALID_TIMER_ID))
}

// ---- MEProfile ------------------------------------------------------------------------

fn profile(env: &mut dyn Env) -> Result<Vec<u8>, Throw> {
    env.toolkit()
        .and_then(|h| h.terminal_profile())
        .ok_or_else(|| tk(reason::ME_PROFILE_NOT_AVAILABLE))
}

fn me_check_byte(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    me_check_bit(vm, env, a[0].short() as u8 as usize)
}

fn me_check_short(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    me_check_bit(vm, env, a[0].short() as u16 as usize)
}

/// Whether bit `i` of the TERMINAL PROFILE is set (bit 0 = b1 of byte 1).
fn me_check_bit(_: &mut Vm, env: &mut dyn Env, i: usize) -> R {
    let p = profile(env)?;
    let set = p.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
    short(set as i16)
}

fn me_check_mask(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let p = profile(env)?;
    let m = vm.bytes_range(a[0].obj(), a[1].short(), a[2].short())?;
    let ok = m
        .iter()
        .enumerate()
        .all(|(i, m)| p.get(i).copied().unwrap_or(0) & m == *m);
    short(ok as i16)
}

fn me_copy(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let p = profile(env)?;
    let (off, dst, doff, len) = (a[0].short(), a[1].obj(), a[2].short(), a[3].short());
    if off < 0 || len < 0 {
        return Err(Throw::bounds());
    }
    let mut v: Vec<u8> = p
        .iter()
        .skip(off as usize)
        .take(len as usize)
        .copied()
        .collect();
    v.resize(len as usize, 0);
    vm.bytes_range(dst, doff, len)?;
    vm.write_bytes(env, dst, doff, &v)?;
    short(doff.wrapping_add(len))
}

fn me_get_value(_: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    // The terminal profile bits `index … index + length - 1` as a number (bit `index` is the
    // least significant), at most 16 bits.
    let p = profile(env)?;
    let (i, n) = (a[0].short(), a[1].short());
    if i < 0 || !(1..=16).contains(&n) {
        return Err(tk(reason::BAD_INPUT_PARAMETER));
    }
    let mut v: u16 = 0;
    for b in 0..n as usize {
        let bit = i as usize + b;
        if p.get(bit / 8).is_some_and(|x| x & (1 << (bit % 8)) != 0) {
            v |= 1 << b;
        }
    }
    short(v as i16)
}

// ---- ToolkitException -----------------------------------------------------------------

fn exc_init(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    vm.set_peer(env, a[0].obj(), NativePeer::Reason(a[1].short()))?;
    Ok(None)
}

fn exc_throw_it(_: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    Err(tk(a[0].short()))
}

macro_rules! n {
    ($c:literal, $m:literal, $d:literal, $f:expr) => {
        (concat!("sim/toolkit/", $c), $m, $d, $f as NativeFn)
    };
}

/// The `sim.toolkit` natives (TS 43.019). Not implemented (a call faults naming it):
/// `ToolkitRegistry.getPollInterval` / `requestPollInterval`.
pub const NATIVES: &[Native] = &[
    n!("ToolkitException", "<init>", "(S)V", exc_init),
    n!("ToolkitException", "throwIt", "(S)V", exc_throw_it),
    // ViewHandler (inherited by every handler).
    n!("ViewHandler", "findTLV", "(BB)B", v_find_tlv),
    n!("ViewHandler", "copyValue", "(S[BSS)S", v_copy_value),
    n!("ViewHandler", "compareValue", "(S[BSS)B", v_compare_value),
    n!("ViewHandler", "getValueByte", "(S)B", v_get_value_byte),
    n!(
        "ViewHandler",
        "findAndCopyValue",
        "(B[BS)S",
        v_find_and_copy_value
    ),
    n!(
        "ViewHandler",
        "findAndCopyValue",
        "(BBS[BSS)S",
        v_find_and_copy_value_at
    ),
    n!(
        "ViewHandler",
        "findAndCompareValue",
        "(B[BS)B",
        v_find_and_compare_value
    ),
    n!(
        "ViewHandler",
        "findAndCompareValue",
        "(BBS[BSS)B",
        v_find_and_compare_value_at
    ),
    n!("ViewHandler", "copy", "([BSS)S", v_copy),
    n!("ViewHandler", "getLength", "()S", v_get_length),
    n!("ViewHandler", "getValueLength", "()S", v_get_value_length),
    // getCapacity is declared by each concrete handler.
    n!("ProactiveHandler", "getCapacity", "()S", v_get_capacity),
    n!(
        "ProactiveResponseHandler",
        "getCapacity",
        "()S",
        v_get_capacity
    ),
    n!("EnvelopeHandler", "getCapacity", "()S", v_get_capacity),
    n!(
        "EnvelopeResponseHandler",
        "getCapacity",
        "()S",
        v_get_capacity
    ),
    // EditHandler.
    n!("EditHandler", "appendTLV", "(B[BSS)V", e_append_tlv_array),
    n!("EditHandler", "appendTLV", "(BB)V", e_append_tlv_byte),
    n!("EditHandler", "appendTLV", "(BBB)V", e_append_tlv_2bytes),
    n!(
        "EditHandler",
        "appendTLV",
        "(BB[BSS)V",
        e_append_tlv_byte_array
    ),
    n!("EditHandler", "appendArray", "([BSS)V", e_append_array),
    n!("EditHandler", "clear", "()V", e_clear),
    // ProactiveHandler.
    n!(
        "ProactiveHandler",
        "getTheHandler",
        "()Lsim/toolkit/ProactiveHandler;",
        ph_get_the_handler
    ),
    n!("ProactiveHandler", "init", "(BBB)V", ph_init),
    n!(
        "ProactiveHandler",
        "initDisplayText",
        "(BB[BSS)V",
        ph_init_display_text
    ),
    n!(
        "ProactiveHandler",
        "initGetInkey",
        "(BB[BSS)V",
        ph_init_get_inkey
    ),
    n!(
        "ProactiveHandler",
        "initGetInput",
        "(BB[BSSSS)V",
        ph_init_get_input
    ),
    n!(
        "ProactiveHandler",
        "initCloseChannel",
        "(B)V",
        ph_init_close_channel
    ),
    n!("ProactiveHandler", "send", "()B", ph_send),
    // ProactiveResponseHandler.
    n!(
        "ProactiveResponseHandler",
        "getTheHandler",
        "()Lsim/toolkit/ProactiveResponseHandler;",
        prh_get_the_handler
    ),
    n!(
        "ProactiveResponseHandler",
        "getGeneralResult",
        "()B",
        prh_general_result
    ),
    n!(
        "ProactiveResponseHandler",
        "getAdditionalInformationLength",
        "()S",
        prh_additional_length
    ),
    n!(
        "ProactiveResponseHandler",
        "copyAdditionalInformation",
        "([BSS)S",
        prh_copy_additional
    ),
    n!(
        "ProactiveResponseHandler",
        "getItemIdentifier",
        "()B",
        item_identifier
    ),
    n!(
        "ProactiveResponseHandler",
        "getTextStringLength",
        "()S",
        prh_text_length
    ),
    n!(
        "ProactiveResponseHandler",
        "getTextStringCodingScheme",
        "()B",
        prh_text_dcs
    ),
    n!(
        "ProactiveResponseHandler",
        "copyTextString",
        "([BS)S",
        prh_copy_text
    ),
    n!(
        "ProactiveResponseHandler",
        "getChannelIdentifier",
        "()B",
        channel_identifier
    ),
    n!(
        "ProactiveResponseHandler",
        "copyChannelData",
        "([BSS)S",
        prh_copy_channel_data
    ),
    // EnvelopeHandler.
    n!(
        "EnvelopeHandler",
        "getTheHandler",
        "()Lsim/toolkit/EnvelopeHandler;",
        eh_get_the_handler
    ),
    n!(
        "EnvelopeHandler",
        "getItemIdentifier",
        "()B",
        item_identifier
    ),
    n!("EnvelopeHandler", "getEnvelopeTag", "()B", eh_envelope_tag),
    n!("EnvelopeHandler", "getTPUDLOffset", "()S", eh_tp_udl_offset),
    n!(
        "EnvelopeHandler",
        "getUserDataLength",
        "()S",
        eh_user_data_length
    ),
    n!(
        "EnvelopeHandler",
        "getSecuredDataOffset",
        "()S",
        eh_secured_data
    ),
    n!(
        "EnvelopeHandler",
        "getSecuredDataLength",
        "()S",
        eh_secured_data
    ),
    n!(
        "EnvelopeHandler",
        "getChannelIdentifier",
        "()B",
        channel_identifier
    ),
    // EnvelopeResponseHandler.
    n!(
        "EnvelopeResponseHandler",
        "getTheHandler",
        "()Lsim/toolkit/EnvelopeResponseHandler;",
        erh_get_the_handler
    ),
    n!("EnvelopeResponseHandler", "post", "(B)V", erh_post),
    n!(
        "EnvelopeResponseHandler",
        "postAsBERTLV",
        "(BB)V",
        erh_post_as_ber_tlv
    ),
    // ToolkitRegistry.
    n!(
        "ToolkitRegistry",
        "getEntry",
        "()Lsim/toolkit/ToolkitRegistry;",
        reg_get_entry
    ),
    n!(
        "ToolkitRegistry",
        "initMenuEntry",
        "([BSSBZBS)B",
        reg_init_menu_entry
    ),
    n!(
        "ToolkitRegistry",
        "changeMenuEntry",
        "(B[BSSBZBS)V",
        reg_change_menu_entry
    ),
    n!(
        "ToolkitRegistry",
        "enableMenuEntry",
        "(B)V",
        reg_enable_menu_entry
    ),
    n!(
        "ToolkitRegistry",
        "disableMenuEntry",
        "(B)V",
        reg_disable_menu_entry
    ),
    n!("ToolkitRegistry", "setEvent", "(B)V", reg_set_event),
    n!(
        "ToolkitRegistry",
        "setEventList",
        "([BSS)V",
        reg_set_event_list
    ),
    n!("ToolkitRegistry", "clearEvent", "(B)V", reg_clear_event),
    n!("ToolkitRegistry", "isEventSet", "(B)Z", reg_is_event_set),
    n!(
        "ToolkitRegistry",
        "allocateTimer",
        "()B",
        reg_allocate_timer
    ),
    n!("ToolkitRegistry", "releaseTimer", "(B)V", reg_release_timer),
    // MEProfile (static).
    n!("MEProfile", "check", "(B)Z", me_check_byte),
    n!("MEProfile", "check", "(S)Z", me_check_short),
    n!("MEProfile", "check", "([BSS)Z", me_check_mask),
    n!("MEProfile", "copy", "(S[BSS)S", me_copy),
    n!("MEProfile", "getValue", "(SS)S", me_get_value),
];

// ---- uicc.toolkit (ETSI TS 102 241) ----------------------------------------------------

/// `uicc.toolkit.ToolkitException`.
pub const UICC_TOOLKIT_EXCEPTION: &str = "uicc/toolkit/ToolkitException";

/// The `uicc.toolkit` flavour of an error: `ToolkitException`s become
/// `uicc.toolkit.ToolkitException`s with the same reason (the two specifications number
/// the reasons alike; ME_PROFILE_NOT_AVAILABLE is TERMINAL_PROFILE_NOT_AVAILABLE).
fn uicc_exc(t: Throw) -> Throw {
    match t {
        Throw::Java {
            class: TOOLKIT_EXCEPTION,
            reason,
        } => Throw::java(UICC_TOOLKIT_EXCEPTION, reason),
        t => t,
    }
}

/// `uicc.toolkit` natives that are the `sim.toolkit` ones with the uicc exception class.
macro_rules! uicc_wrap {
    ($($w:ident => $f:ident),* $(,)?) => {
        $(
            fn $w(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
                $f(vm, env, a).map_err(uicc_exc)
            }
        )*
    };
}

uicc_wrap!(
    u_find_tlv => v_find_tlv,
    u_copy_value => v_copy_value,
    u_compare_value => v_compare_value,
    u_get_value_byte => v_get_value_byte,
    u_get_value_short => v_get_value_short,
    u_find_and_copy_value => v_find_and_copy_value,
    u_find_and_copy_value_at => v_find_and_copy_value_at,
    u_find_and_compare_value => v_find_and_compare_value,
    u_find_and_compare_value_at => v_find_and_compare_value_at,
    u_copy => v_copy,
    u_get_length => v_get_length,
    u_get_value_length => v_get_value_length,
    u_get_capacity => v_get_capacity,
    u_append_tlv_array => e_append_tlv_array,
    u_append_tlv_byte => e_append_tlv_byte,
    u_append_tlv_short => e_append_tlv_short,
    u_append_tlv_2bytes => e_append_tlv_2bytes,
    u_append_tlv_byte_short => e_append_tlv_byte_short,
    u_append_tlv_2shorts => e_append_tlv_2shorts,
    u_append_tlv_byte_array => e_append_tlv_byte_array,
    u_append_tlv_2arrays => e_append_tlv_2arrays,
    u_append_array => e_append_array,
    u_clear => e_clear,
    u_ph_init => ph_init,
    u_ph_init_display_text => ph_init_display_text,
    u_ph_init_get_inkey => ph_init_get_inkey,
    u_ph_init_get_input => ph_init_get_input,
    u_ph_init_close_channel => ph_init_close_channel,
    u_ph_init_more_time => ph_init_more_time,
    u_ph_send => ph_send,
    u_general_result => prh_general_result,
    u_additional_length => prh_additional_length,
    u_copy_additional => prh_copy_additional,
    u_item_identifier => item_identifier,
    u_text_length => prh_text_length,
    u_text_dcs => prh_text_dcs,
    u_copy_text => prh_copy_text,
    u_channel_identifier => channel_identifier,
    u_channel_status => channel_status,
    u_copy_channel_data => prh_copy_channel_data,
    u_envelope_tag => eh_envelope_tag,
    u_tp_udl_offset => eh_tp_udl_offset,
    u_user_data_length => eh_user_data_length,
    u_secured_data => eh_secured_data,
    u_post => erh_post_bool,
    u_post_as_ber_tlv => erh_post_as_ber_tlv,
    u_init_menu_entry => reg_init_menu_entry,
    u_change_menu_entry => reg_change_menu_entry,
    u_enable_menu_entry => reg_enable_menu_entry,
    u_disable_menu_entry => reg_disable_menu_entry,
    u_set_event => reg_set_event,
    u_set_event_list => reg_set_event_list_shorts,
    u_clear_event => reg_clear_event,
    u_is_event_set => reg_is_event_set,
    u_allocate_timer => reg_allocate_timer,
    u_release_timer => reg_release_timer,
    u_tp_check_byte => me_check_byte,
    u_tp_check_short => me_check_short,
    u_tp_check_mask => me_check_mask,
    u_tp_copy => me_copy,
    u_tp_get_value => me_get_value,
);

fn u_ph_get_the_handler(vm: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    proactive_handler(vm, env, "uicc/toolkit/ProactiveHandler").map_err(uicc_exc)
}

fn u_prh_get_the_handler(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    response_handler(vm, "uicc/toolkit/ProactiveResponseHandler").map_err(uicc_exc)
}

fn u_eh_get_the_handler(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    envelope_handler(vm, "uicc/toolkit/EnvelopeHandler").map_err(uicc_exc)
}

fn u_erh_get_the_handler(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    envelope_response_handler(vm, "uicc/toolkit/EnvelopeResponseHandler").map_err(uicc_exc)
}

fn u_reg_get_entry(vm: &mut Vm, env: &mut dyn Env, _: &[Value]) -> R {
    registry_entry(vm, env, "uicc/toolkit/ToolkitRegistry").map_err(uicc_exc)
}

fn u_exc_throw_it(_: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    Err(Throw::java(UICC_TOOLKIT_EXCEPTION, a[0].short()))
}

macro_rules! u {
    ($c:literal, $m:literal, $d:literal, $f:expr) => {
        (concat!("uicc/toolkit/", $c), $m, $d, $f as NativeFn)
    };
}

/// The `uicc.toolkit` natives (ETSI TS 102 241): the handlers are interfaces there, reached
/// through `*System.getTheHandler()`; events are shorts. Not implemented (a call faults
/// naming it): service identifiers, file events, menu entry text attributes,
/// `BERTLVViewHandler`/`BERTLVEditHandler`, `getPollInterval`/`requestPollInterval`.
pub const UICC_NATIVES: &[Native] = &[
    u!("ToolkitException", "<init>", "(S)V", exc_init),
    u!("ToolkitException", "throwIt", "(S)V", u_exc_throw_it),
    u!("ViewHandler", "findTLV", "(BB)B", u_find_tlv),
    u!("ViewHandler", "copyValue", "(S[BSS)S", u_copy_value),
    u!("ViewHandler", "compareValue", "(S[BSS)B", u_compare_value),
    u!("ViewHandler", "getValueByte", "(S)B", u_get_value_byte),
    u!("ViewHandler", "getValueShort", "(S)S", u_get_value_short),
    u!(
        "ViewHandler",
        "findAndCopyValue",
        "(B[BS)S",
        u_find_and_copy_value
    ),
    u!(
        "ViewHandler",
        "findAndCopyValue",
        "(BBS[BSS)S",
        u_find_and_copy_value_at
    ),
    u!(
        "ViewHandler",
        "findAndCompareValue",
        "(B[BS)B",
        u_find_and_compare_value
    ),
    u!(
        "ViewHandler",
        "findAndCompareValue",
        "(BBS[BSS)B",
        u_find_and_compare_value_at
    ),
    u!("ViewHandler", "copy", "([BSS)S", u_copy),
    u!("ViewHandler", "getLength", "()S", u_get_length),
    u!("ViewHandler", "getValueLength", "()S", u_get_value_length),
    u!("ViewHandler", "getCapacity", "()S", u_get_capacity),
    u!("EditHandler", "appendTLV", "(B[BSS)V", u_append_tlv_array),
    u!("EditHandler", "appendTLV", "(BB)V", u_append_tlv_byte),
    u!("EditHandler", "appendTLV", "(BS)V", u_append_tlv_short),
    u!("EditHandler", "appendTLV", "(BBB)V", u_append_tlv_2bytes),
    u!(
        "EditHandler",
        "appendTLV",
        "(BBS)V",
        u_append_tlv_byte_short
    ),
    u!("EditHandler", "appendTLV", "(BSS)V", u_append_tlv_2shorts),
    u!(
        "EditHandler",
        "appendTLV",
        "(BB[BSS)V",
        u_append_tlv_byte_array
    ),
    u!(
        "EditHandler",
        "appendTLV",
        "(B[BSS[BSS)V",
        u_append_tlv_2arrays
    ),
    u!("EditHandler", "appendArray", "([BSS)V", u_append_array),
    u!("EditHandler", "clear", "()V", u_clear),
    u!(
        "ProactiveHandlerSystem",
        "getTheHandler",
        "()Luicc/toolkit/ProactiveHandler;",
        u_ph_get_the_handler
    ),
    u!("ProactiveHandler", "init", "(BBB)V", u_ph_init),
    u!(
        "ProactiveHandler",
        "initDisplayText",
        "(BB[BSS)V",
        u_ph_init_display_text
    ),
    u!(
        "ProactiveHandler",
        "initGetInkey",
        "(BB[BSS)V",
        u_ph_init_get_inkey
    ),
    u!(
        "ProactiveHandler",
        "initGetInput",
        "(BB[BSSSS)V",
        u_ph_init_get_input
    ),
    u!(
        "ProactiveHandler",
        "initCloseChannel",
        "(B)V",
        u_ph_init_close_channel
    ),
    u!(
        "ProactiveHandler",
        "initMoreTime",
        "()V",
        u_ph_init_more_time
    ),
    u!("ProactiveHandler", "send", "()B", u_ph_send),
    u!(
        "ProactiveResponseHandlerSystem",
        "getTheHandler",
        "()Luicc/toolkit/ProactiveResponseHandler;",
        u_prh_get_the_handler
    ),
    u!(
        "ProactiveResponseHandler",
        "getGeneralResult",
        "()B",
        u_general_result
    ),
    u!(
        "ProactiveResponseHandler",
        "getAdditionalInformationLength",
        "()S",
        u_additional_length
    ),
    u!(
        "ProactiveResponseHandler",
        "copyAdditionalInformation",
        "([BSS)S",
        u_copy_additional
    ),
    u!(
        "ProactiveResponseHandler",
        "getItemIdentifier",
        "()B",
        u_item_identifier
    ),
    u!(
        "ProactiveResponseHandler",
        "getTextStringLength",
        "()S",
        u_text_length
    ),
    u!(
        "ProactiveResponseHandler",
        "getTextStringCodingScheme",
        "()B",
        u_text_dcs
    ),
    u!(
        "ProactiveResponseHandler",
        "copyTextString",
        "([BS)S",
        u_copy_text
    ),
    u!(
        "ProactiveResponseHandler",
        "getChannelIdentifier",
        "()B",
        u_channel_identifier
    ),
    u!(
        "ProactiveResponseHandler",
        "getChannelStatus",
        "(B)S",
        u_channel_status
    ),
    u!(
        "ProactiveResponseHandler",
        "copyChannelData",
        "([BSS)S",
        u_copy_channel_data
    ),
    u!(
        "EnvelopeHandlerSystem",
        "getTheHandler",
        "()Luicc/toolkit/EnvelopeHandler;",
        u_eh_get_the_handler
    ),
    u!(
        "EnvelopeHandler",
        "getItemIdentifier",
        "()B",
        u_item_identifier
    ),
    u!("EnvelopeHandler", "getEnvelopeTag", "()B", u_envelope_tag),
    u!("EnvelopeHandler", "getTPUDLOffset", "()S", u_tp_udl_offset),
    u!(
        "EnvelopeHandler",
        "getUserDataLength",
        "()S",
        u_user_data_length
    ),
    u!(
        "EnvelopeHandler",
        "getSecuredDataOffset",
        "()S",
        u_secured_data
    ),
    u!(
        "EnvelopeHandler",
        "getSecuredDataLength",
        "()S",
        u_secured_data
    ),
    u!(
        "EnvelopeHandler",
        "getChannelIdentifier",
        "()B",
        u_channel_identifier
    ),
    u!(
        "EnvelopeHandler",
        "getChannelStatus",
        "(B)S",
        u_channel_status
    ),
    u!(
        "EnvelopeResponseHandlerSystem",
        "getTheHandler",
        "()Luicc/toolkit/EnvelopeResponseHandler;",
        u_erh_get_the_handler
    ),
    u!("EnvelopeResponseHandler", "post", "(Z)V", u_post),
    u!(
        "EnvelopeResponseHandler",
        "postAsBERTLV",
        "(ZB)V",
        u_post_as_ber_tlv
    ),
    u!(
        "ToolkitRegistrySystem",
        "getEntry",
        "()Luicc/toolkit/ToolkitRegistry;",
        u_reg_get_entry
    ),
    u!(
        "ToolkitRegistry",
        "initMenuEntry",
        "([BSSBZBS)B",
        u_init_menu_entry
    ),
    u!(
        "ToolkitRegistry",
        "changeMenuEntry",
        "(B[BSSBZBS)V",
        u_change_menu_entry
    ),
    u!(
        "ToolkitRegistry",
        "enableMenuEntry",
        "(B)V",
        u_enable_menu_entry
    ),
    u!(
        "ToolkitRegistry",
        "disableMenuEntry",
        "(B)V",
        u_disable_menu_entry
    ),
    u!("ToolkitRegistry", "setEvent", "(S)V", u_set_event),
    u!(
        "ToolkitRegistry",
        "setEventList",
        "([SSS)V",
        u_set_event_list
    ),
    u!("ToolkitRegistry", "clearEvent", "(S)V", u_clear_event),
    u!("ToolkitRegistry", "isEventSet", "(S)Z", u_is_event_set),
    u!("ToolkitRegistry", "allocateTimer", "()B", u_allocate_timer),
    u!("ToolkitRegistry", "releaseTimer", "(B)V", u_release_timer),
    u!("TerminalProfile", "check", "(B)Z", u_tp_check_byte),
    u!("TerminalProfile", "check", "(S)Z", u_tp_check_short),
    u!("TerminalProfile", "check", "([BSS)Z", u_tp_check_mask),
    u!("TerminalProfile", "copy", "(S[BSS)S", u_tp_copy),
    u!("TerminalProfile", "getValue", "(SS)S", u_tp_get_value),
];

// ---- natives only uicc.toolkit has -------------------------------------------------------

fn v_get_value_short(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let b = value_range(vm, k, a[1].short(), 2)?;
    short(i16::from_be_bytes([b[0], b[1]]))
}

fn e_append_tlv_short(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    append_tlv(vm, k, a[1].short() as u8, &a[2].short().to_be_bytes())?;
    Ok(None)
}

fn e_append_tlv_byte_short(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let s = a[3].short().to_be_bytes();
    append_tlv(vm, k, a[1].short() as u8, &[a[2].short() as u8, s[0], s[1]])?;
    Ok(None)
}

fn e_append_tlv_2shorts(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let (x, y) = (a[2].short().to_be_bytes(), a[3].short().to_be_bytes());
    append_tlv(vm, k, a[1].short() as u8, &[x[0], x[1], y[0], y[1]])?;
    Ok(None)
}

fn e_append_tlv_2arrays(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let mut v = vm
        .bytes_range(a[2].obj(), a[3].short(), a[4].short())?
        .to_vec();
    v.extend_from_slice(vm.bytes_range(a[5].obj(), a[6].short(), a[7].short())?);
    append_tlv(vm, k, a[1].short() as u8, &v)?;
    Ok(None)
}

fn ph_init_more_time(vm: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    init_command(vm, 0x02, 0x00, DEV_ME)?;
    Ok(None)
}

/// `getChannelStatus(channel)`: the two bytes of the Channel status object (`38`) of
/// channel `channel` (UNAVAILABLE_ELEMENT when there is none).
fn channel_status(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let k = kind_of(vm, a[0].obj())?;
    let ch = a[1].short() as u8;
    let b = buffer(vm, k)?;
    let v = tlvs(b)
        .into_iter()
        .filter(|t| t.tag == 0x38 && t.len >= 2)
        .map(|t| [b[t.value], b[t.value + 1]])
        .find(|v| v[0] & 0x07 == ch)
        .ok_or_else(|| tk(reason::UNAVAILABLE_ELEMENT))?;
    short(i16::from_be_bytes(v))
}

fn erh_post_bool(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    kind_of(vm, a[0].obj())?;
    let d = vm.toolkit.envelope_response.clone();
    post(vm, env, d)
}

fn reg_set_event_list_shorts(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (off, len) = (a[2].short(), a[3].short());
    let events = match &vm.object(a[1].obj())?.body {
        crate::heap::Body::Shorts(v) => {
            if off < 0 || len < 0 {
                return Err(Throw::bounds());
            }
            v.get(off as usize..off as usize + len as usize)
                .ok_or_else(Throw::bounds)?
                .to_vec()
        }
        _ => return Err(Throw::security()),
    };
    for e in events {
        set_event(env, e as u8)?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_walk_handles_long_and_three_byte_tags_and_stops_at_garbage() {
        let mut b = vec![0x81, 0x03, 0x01, 0x21, 0x80, 0x0D, 0x81, 0x80];
        b.extend_from_slice(&[0x41; 0x80]);
        b.extend_from_slice(&[0x7F, 0x81, 0x02, 0x01, 0xAA, 0x10]);
        let t = tlvs(&b);
        assert_eq!(t.len(), 3);
        assert_eq!((t[0].tag, t[0].cr, t[0].len), (0x01, true, 3));
        assert_eq!(
            (t[1].tag, t[1].cr, t[1].value, t[1].len),
            (0x0D, false, 8, 0x80)
        );
        assert!(t[2].cr);
        assert_eq!(t[2].len, 1);
        // A truncated trailing TLV is not reported.
        assert_eq!(tlvs(&[0x0D, 0x05, 0x04]).len(), 0);
        let mut e = Vec::new();
        encode_tlv(&mut e, 0x8D, &[0; 200]);
        assert_eq!(&e[..3], &[0x8D, 0x81, 200]);
    }
}
