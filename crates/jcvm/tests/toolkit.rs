//! `sim.toolkit` (3GPP TS 43.019) in the VM against a mock card ([`ToolkitHost`]): pySim's
//! HelloSTK (test-vectors/cap/pysim-test_javacard.cap) registers its menu entry at install,
//! answers EVENT_MENU_SELECTION with DISPLAY TEXT and is suspended in
//! `ProactiveHandler.send()` until the TERMINAL RESPONSE; and the handler natives
//! (`ViewHandler` / `EditHandler` / `ProactiveResponseHandler` / `EnvelopeResponseHandler` /
//! `ToolkitRegistry` / `MEProfile`) called directly, with their `ToolkitException` reasons.

use jcvm::api::toolkit::{reason, ToolkitHost, TOOLKIT_EXCEPTION};
use jcvm::heap::{Body, Memory, ObjId, Value};
use jcvm::jcre::{MemEnv, ToolkitOutcome};
use jcvm::natives::{lookup, Throw};
use jcvm::vm::{Env, Vm};
use jcvm::CapFile;

const AID: &[u8] = &[0xD0, 0x70, 0x02, 0xCA, 0x44, 0x90, 0x01, 0x01];

/// A mock card: NV in memory, a toolkit registry, the commands sent, the envelope response.
#[derive(Default)]
struct Card {
    mem: MemEnv,
    profile: Option<Vec<u8>>,
    available: bool,
    sent: Vec<(u8, u8, u8, Vec<u8>)>,
    menu: Vec<(u8, Vec<u8>, bool)>,
    events: Vec<u8>,
    posted: Option<Vec<u8>>,
}

impl Env for Card {
    fn persist(&mut self, key: &str, value: &[u8]) -> Result<(), u16> {
        self.mem.persist(key, value)
    }
    fn load(&self) -> Vec<(String, Vec<u8>)> {
        self.mem.load()
    }
    fn begin_transaction(&mut self) -> Result<(), u16> {
        self.mem.begin_transaction()
    }
    fn commit_transaction(&mut self) -> Result<(), u16> {
        self.mem.commit_transaction()
    }
    fn abort_transaction(&mut self) -> Result<(), u16> {
        self.mem.abort_transaction()
    }
    fn in_transaction(&self) -> bool {
        self.mem.in_transaction()
    }
    fn random(&mut self, out: &mut [u8]) {
        self.mem.random(out)
    }
    fn toolkit(&mut self) -> Option<&mut dyn ToolkitHost> {
        Some(self)
    }
}

impl ToolkitHost for Card {
    fn terminal_profile(&self) -> Option<Vec<u8>> {
        self.profile.clone()
    }
    fn proactive_available(&self) -> bool {
        self.available
    }
    fn send_proactive(&mut self, t: u8, q: u8, d: u8, objects: &[u8]) -> Result<(), i16> {
        self.sent.push((t, q, d, objects.to_vec()));
        Ok(())
    }
    fn post_envelope_response(&mut self, data: &[u8]) -> Result<(), i16> {
        self.posted = Some(data.to_vec());
        Ok(())
    }
    fn init_menu_entry(&mut self, text: &[u8], _: u8, _: bool) -> Result<u8, i16> {
        if self.menu.len() >= 2 {
            return Err(reason::REGISTRY_ERROR);
        }
        let id = self.menu.len() as u8 + 1;
        self.menu.push((id, text.to_vec(), true));
        Ok(id)
    }
    fn change_menu_entry(&mut self, id: u8, text: &[u8], _: u8, _: bool) -> Result<(), i16> {
        let m = self
            .menu
            .iter_mut()
            .find(|m| m.0 == id)
            .ok_or(reason::MENU_ENTRY_NOT_FOUND)?;
        m.1 = text.to_vec();
        Ok(())
    }
    fn set_menu_entry_enabled(&mut self, id: u8, on: bool) -> Result<(), i16> {
        let m = self
            .menu
            .iter_mut()
            .find(|m| m.0 == id)
            .ok_or(reason::MENU_ENTRY_NOT_FOUND)?;
        m.2 = on;
        Ok(())
    }
    fn set_event(&mut self, e: u8) -> Result<(), i16> {
        if e == 3 {
            return Err(reason::EVENT_NOT_SUPPORTED);
        }
        self.events.push(e);
        Ok(())
    }
    fn clear_event(&mut self, e: u8) -> Result<(), i16> {
        self.events.retain(|x| *x != e);
        Ok(())
    }
    fn is_event_set(&self, e: u8) -> bool {
        self.events.contains(&e)
    }
}

fn cap() -> CapFile {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/pysim-test_javacard.cap"
    ))
    .unwrap();
    CapFile::from_zip(&b).unwrap()
}

fn installed() -> (Card, Vm) {
    let mut card = Card {
        available: true,
        profile: Some(vec![0xFF; 4]),
        ..Card::default()
    };
    let mut vm = Vm::load(cap(), AID, &[]).unwrap();
    assert!(
        vm.packages[0].missing_natives.is_empty(),
        "{:?}",
        vm.packages[0].missing_natives
    );
    let mut b = vec![AID.len() as u8];
    b.extend_from_slice(AID);
    b.extend_from_slice(&[1, 0, 0]);
    vm.install(&mut card, 0, &b).unwrap();
    (card, vm)
}

/// MENU SELECTION envelope objects: device identities (keypad → UICC), item identifier.
fn menu_selection(item: u8) -> Vec<u8> {
    vec![0x82, 0x02, 0x01, 0x81, 0x90, 0x01, item]
}

const TR_OK: &[u8] = &[
    0x81, 0x03, 0x01, 0x21, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00,
];

#[test]
fn hellostk_menu_selection_displays_the_welcome_text_and_completes() {
    let (mut card, mut vm) = installed();
    assert_eq!(card.menu, vec![(1, b"Hello, STK".to_vec(), true)]);
    assert!(vm.is_toolkit_applet());
    let env = menu_selection(1);
    let o = vm.process_toolkit(&mut card, 7, Some((0xD3, &env)), false);
    assert_eq!(o, ToolkitOutcome::Waiting, "{:?}", vm.last_fault);
    assert!(vm.toolkit_waiting());
    let mut text = vec![0x8D, 25, 0x04];
    text.extend_from_slice(b"Welcome to ToorCamp 2012");
    assert_eq!(card.sent, vec![(0x21, 0x00, 0x02, text)]);
    assert_eq!(vm.resume_toolkit(&mut card, TR_OK), ToolkitOutcome::Done);
    assert!(!vm.toolkit_waiting());
    // The handler objects are reused by later invocations: the heap does not grow.
    let objects = vm.heap.len();
    for _ in 0..20 {
        let env = menu_selection(1);
        assert_eq!(
            vm.process_toolkit(&mut card, 7, Some((0xD3, &env)), false),
            ToolkitOutcome::Waiting
        );
        assert_eq!(vm.resume_toolkit(&mut card, TR_OK), ToolkitOutcome::Done);
    }
    assert_eq!(vm.heap.len(), objects);
    card.sent.truncate(1);
    // Nothing waits any more.
    assert_eq!(
        vm.resume_toolkit(&mut card, TR_OK),
        ToolkitOutcome::Failed(0x6985)
    );
    // Another item: no command.
    let env = menu_selection(2);
    assert_eq!(
        vm.process_toolkit(&mut card, 7, Some((0xD3, &env)), false),
        ToolkitOutcome::Done
    );
    // HelloSTK asks for the EnvelopeHandler before it looks at the event: for
    // EVENT_PROFILE_DOWNLOAD (no envelope; it never registers for it) that throws
    // HANDLER_NOT_AVAILABLE, uncaught.
    assert_eq!(
        vm.process_toolkit(&mut card, 1, None, false),
        ToolkitOutcome::Failed(0x6F00)
    );
    assert_eq!(card.sent.len(), 1);
}

#[test]
fn hellostk_without_envelope_or_handler_gets_an_uncaught_toolkit_exception() {
    let (mut card, mut vm) = installed();
    // EVENT_MENU_SELECTION without an envelope: EnvelopeHandler.getTheHandler throws
    // HANDLER_NOT_AVAILABLE, uncaught: 6F00.
    assert_eq!(
        vm.process_toolkit(&mut card, 7, None, false),
        ToolkitOutcome::Failed(0x6F00)
    );
    // The proactive handler busy (another applet's session): the same.
    card.available = false;
    let env = menu_selection(1);
    assert_eq!(
        vm.process_toolkit(&mut card, 7, Some((0xD3, &env)), false),
        ToolkitOutcome::Failed(0x6F00)
    );
    assert!(card.sent.is_empty());
    // The VM is usable afterwards.
    card.available = true;
    assert_eq!(
        vm.process_toolkit(&mut card, 7, Some((0xD3, &env)), false),
        ToolkitOutcome::Waiting
    );
}

#[test]
fn the_suspended_applet_survives_a_rebuilt_vm_only_in_memory() {
    // A VM rebuilt from NV (after a reset) has no suspended frames: the TERMINAL RESPONSE
    // of the lost session is refused, a new menu selection works.
    let (mut card, mut vm) = installed();
    let env = menu_selection(1);
    assert_eq!(
        vm.process_toolkit(&mut card, 7, Some((0xD3, &env)), false),
        ToolkitOutcome::Waiting
    );
    let mut vm2 = Vm::load(cap(), AID, &card.mem.entries()).unwrap();
    assert_eq!(
        vm2.resume_toolkit(&mut card, TR_OK),
        ToolkitOutcome::Failed(0x6985)
    );
    assert_eq!(
        vm2.process_toolkit(&mut card, 7, Some((0xD3, &env)), false),
        ToolkitOutcome::Waiting
    );
    assert_eq!(vm2.resume_toolkit(&mut card, TR_OK), ToolkitOutcome::Done);
}

// ---- the natives, called directly -------------------------------------------------------

fn call(
    vm: &mut Vm,
    card: &mut Card,
    class: &str,
    m: &str,
    d: &str,
    a: &[Value],
) -> Result<Option<Value>, Throw> {
    let f = lookup(&format!("sim/toolkit/{class}"), m, d)
        .unwrap_or_else(|| panic!("no native {class}.{m}{d}"));
    f(vm, card, a)
}

fn tk(r: i16) -> Result<Option<Value>, Throw> {
    Err(Throw::Java {
        class: TOOLKIT_EXCEPTION,
        reason: r,
    })
}

fn s(v: i16) -> Value {
    Value::Short(v)
}

fn arr(vm: &mut Vm, card: &mut Card, b: &[u8]) -> Value {
    Value::Ref(Some(
        vm.alloc(card, Memory::ClearOnReset, Body::Bytes(b.to_vec()))
            .unwrap(),
    ))
}

fn bytes(vm: &Vm, v: Value) -> Vec<u8> {
    let id: ObjId = v.obj().unwrap();
    vm.bytes(Some(id)).unwrap().to_vec()
}

fn short(r: Result<Option<Value>, Throw>) -> i16 {
    r.unwrap().unwrap().short()
}

#[test]
fn view_handler_on_an_event_download_envelope() {
    let (mut card, mut vm) = installed();
    // EVENT DOWNLOAD (language selection): event list 19 01 07, device identities, language
    // 2D 02 "de", and a 3-byte-tag object.
    let env = [
        0x99, 0x01, 0x07, 0x82, 0x02, 0x82, 0x81, 0xAD, 0x02, b'd', b'e', 0x2D, 0x02, b'e', b'n',
    ];
    vm.toolkit = jcvm::api::toolkit::ToolkitState {
        active: true,
        event: 20,
        envelope: Some((0xD6, env.to_vec())),
        ..Default::default()
    };
    let h = call(
        &mut vm,
        &mut card,
        "EnvelopeHandler",
        "getTheHandler",
        "()Lsim/toolkit/EnvelopeHandler;",
        &[],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "EnvelopeHandler",
            "getEnvelopeTag",
            "()B",
            &[h]
        )),
        0xD6u8 as i8 as i16
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getLength",
            "()S",
            &[h]
        )),
        env.len() as i16
    );
    // No current TLV yet.
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueLength",
            "()S",
            &[h]
        ),
        tk(reason::UNAVAILABLE_ELEMENT)
    );
    // findTLV: 1 = found with CR, 2 = found without CR, 0 = not found; occurrence counts.
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[h, s(0x2D), s(1)]
        )),
        1
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueByte",
            "(S)B",
            &[h, s(1)]
        )),
        b'e' as i16
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[h, s(0xAD), s(2)]
        )),
        2
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueByte",
            "(S)B",
            &[h, s(0)]
        )),
        b'e' as i16
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[h, s(0x2D), s(3)]
        )),
        0
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[h, s(0x2D), s(0)]
        ),
        tk(reason::BAD_INPUT_PARAMETER)
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueByte",
            "(S)B",
            &[h, s(2)]
        ),
        tk(reason::OUT_OF_TLV_BOUNDARIES)
    );
    // copyValue / compareValue on the current TLV ("en").
    let dst = arr(&mut vm, &mut card, &[0; 4]);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "copyValue",
            "(S[BSS)S",
            &[h, s(0), dst, s(1), s(2)]
        )),
        3
    );
    assert_eq!(bytes(&vm, dst), vec![0, b'e', b'n', 0]);
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "copyValue",
            "(S[BSS)S",
            &[h, s(1), dst, s(0), s(2)]
        ),
        tk(reason::OUT_OF_TLV_BOUNDARIES)
    );
    let cmp = arr(&mut vm, &mut card, b"dz");
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "compareValue",
            "(S[BSS)B",
            &[h, s(0), cmp, s(0), s(2)]
        )),
        1
    );
    // findAndCopyValue / findAndCompareValue by tag (first occurrence: "de").
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findAndCopyValue",
            "(B[BS)S",
            &[h, s(0x2D), dst, s(2)]
        )),
        4
    );
    assert_eq!(bytes(&vm, dst), vec![0, b'e', b'd', b'e']);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findAndCompareValue",
            "(B[BS)B",
            &[h, s(0x2D), dst, s(2)]
        )),
        0
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findAndCopyValue",
            "(BBS[BSS)S",
            &[h, s(0x2D), s(2), s(1), dst, s(0), s(1)]
        )),
        1
    );
    assert_eq!(bytes(&vm, dst)[0], b'n');
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findAndCopyValue",
            "(B[BS)S",
            &[h, s(0x05), dst, s(0)]
        ),
        tk(reason::UNAVAILABLE_ELEMENT)
    );
    // A destination too small is the array's own exception.
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findAndCopyValue",
            "(B[BS)S",
            &[h, s(0x2D), dst, s(3)]
        ),
        Err(Throw::bounds())
    );
    // The whole list.
    let all = arr(&mut vm, &mut card, &[0; 15]);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "copy",
            "([BSS)S",
            &[h, all, s(0), s(15)]
        )),
        15
    );
    assert_eq!(bytes(&vm, all), env.to_vec());
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "copy",
            "([BSS)S",
            &[h, all, s(0), s(16)]
        ),
        Err(Throw::bounds())
    );
    // No envelope response for an event download; no proactive response yet.
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "EnvelopeResponseHandler",
            "getTheHandler",
            "()Lsim/toolkit/EnvelopeResponseHandler;",
            &[]
        ),
        tk(reason::HANDLER_NOT_AVAILABLE)
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "getTheHandler",
            "()Lsim/toolkit/ProactiveResponseHandler;",
            &[]
        ),
        tk(reason::HANDLER_NOT_AVAILABLE)
    );
}

#[test]
fn proactive_handler_builds_get_input_and_reads_the_response() {
    let (mut card, mut vm) = installed();
    vm.toolkit = jcvm::api::toolkit::ToolkitState {
        active: true,
        event: 16,
        ..Default::default()
    };
    let h = call(
        &mut vm,
        &mut card,
        "ProactiveHandler",
        "getTheHandler",
        "()Lsim/toolkit/ProactiveHandler;",
        &[],
    )
    .unwrap()
    .unwrap();
    let prompt = arr(&mut vm, &mut card, b"PIN?");
    call(
        &mut vm,
        &mut card,
        "ProactiveHandler",
        "initGetInput",
        "(BB[BSSSS)V",
        &[h, s(0x04), s(0x04), prompt, s(0), s(4), s(4), s(8)],
    )
    .unwrap();
    call(
        &mut vm,
        &mut card,
        "EditHandler",
        "appendTLV",
        "(BB)V",
        &[h, s(0x04), s(0x0A)],
    )
    .unwrap();
    // Command details, device identities (UICC → ME), text, response length, duration.
    let mut want = vec![0x81, 0x03, 0x01, 0x23, 0x04, 0x82, 0x02, 0x81, 0x82];
    want.extend_from_slice(&[
        0x8D, 0x05, 0x04, b'P', b'I', b'N', b'?', 0x91, 0x02, 0x04, 0x08, 0x04, 0x01, 0x0A,
    ]);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getLength",
            "()S",
            &[h]
        )),
        want.len() as i16
    );
    let out = arr(&mut vm, &mut card, &[0; 24]);
    call(
        &mut vm,
        &mut card,
        "ViewHandler",
        "copy",
        "([BSS)S",
        &[h, out, s(0), s(want.len() as i16)],
    )
    .unwrap();
    assert_eq!(&bytes(&vm, out)[..want.len()], &want[..]);
    // Response length 91 (CR set) is found as tag 11; an item identifier is not there.
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[h, s(0x11), s(1)]
        )),
        1
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueByte",
            "(S)B",
            &[h, s(1)]
        )),
        8
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[h, s(0x10), s(1)]
        )),
        0
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ProactiveHandler",
            "initGetInput",
            "(BB[BSSSS)V",
            &[h, s(0), s(4), prompt, s(0), s(4), s(9), s(8)]
        ),
        tk(reason::BAD_INPUT_PARAMETER)
    );
    // Overflow: more than the capacity.
    let cap = short(call(
        &mut vm,
        &mut card,
        "ProactiveHandler",
        "getCapacity",
        "()S",
        &[h],
    ));
    let big = arr(&mut vm, &mut card, &[0x41; 250]);
    assert_eq!(cap, 252);
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "EditHandler",
            "appendTLV",
            "(B[BSS)V",
            &[h, s(0x0D), big, s(0), s(250)]
        ),
        tk(reason::HANDLER_OVERFLOW)
    );
    // SET UP MENU is the framework's.
    call(
        &mut vm,
        &mut card,
        "ProactiveHandler",
        "init",
        "(BBB)V",
        &[h, s(0x25), s(0), s(0x82)],
    )
    .unwrap();
    assert_eq!(
        call(&mut vm, &mut card, "ProactiveHandler", "send", "()B", &[h]),
        tk(reason::COMMAND_NOT_ALLOWED)
    );
    // clear() empties the buffer: send without command details.
    call(&mut vm, &mut card, "EditHandler", "clear", "()V", &[h]).unwrap();
    assert_eq!(
        call(&mut vm, &mut card, "ProactiveHandler", "send", "()B", &[h]),
        tk(reason::UNAVAILABLE_ELEMENT)
    );
    // A real send goes to the card and suspends.
    call(
        &mut vm,
        &mut card,
        "ProactiveHandler",
        "initGetInput",
        "(BB[BSSSS)V",
        &[h, s(0x04), s(0x04), prompt, s(0), s(4), s(4), s(8)],
    )
    .unwrap();
    assert_eq!(
        call(&mut vm, &mut card, "ProactiveHandler", "send", "()B", &[h]),
        Err(Throw::Suspend)
    );
    assert_eq!(card.sent[0].0, 0x23);
    assert_eq!(card.sent[0].3[..2], [0x8D, 0x05]);
    // The TERMINAL RESPONSE: result 00, text "1234" (8-bit).
    vm.toolkit.response = Some(vec![
        0x81, 0x03, 0x01, 0x23, 0x04, 0x82, 0x02, 0x82, 0x81, 0x83, 0x02, 0x20, 0x01, 0x8D, 0x05,
        0x04, b'1', b'2', b'3', b'4',
    ]);
    let r = call(
        &mut vm,
        &mut card,
        "ProactiveResponseHandler",
        "getTheHandler",
        "()Lsim/toolkit/ProactiveResponseHandler;",
        &[],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "getGeneralResult",
            "()B",
            &[r]
        )),
        0x20
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "getAdditionalInformationLength",
            "()S",
            &[r]
        )),
        1
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "getTextStringLength",
            "()S",
            &[r]
        )),
        4
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "getTextStringCodingScheme",
            "()B",
            &[r]
        )),
        4
    );
    let t = arr(&mut vm, &mut card, &[0; 6]);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "copyTextString",
            "([BS)S",
            &[r, t, s(1)]
        )),
        5
    );
    assert_eq!(bytes(&vm, t), b"\x001234\x00".to_vec());
    let ai = arr(&mut vm, &mut card, &[0; 2]);
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "copyAdditionalInformation",
            "([BSS)S",
            &[r, ai, s(0), s(2)]
        ),
        tk(reason::OUT_OF_TLV_BOUNDARIES)
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "copyAdditionalInformation",
            "([BSS)S",
            &[r, ai, s(0), s(1)]
        )),
        1
    );
    assert_eq!(bytes(&vm, ai), vec![0x01, 0]);
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ProactiveResponseHandler",
            "getItemIdentifier",
            "()B",
            &[r]
        ),
        tk(reason::UNAVAILABLE_ELEMENT)
    );
    // Out of the toolkit entry the handlers are gone.
    vm.toolkit = Default::default();
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ProactiveHandler",
            "getTheHandler",
            "()Lsim/toolkit/ProactiveHandler;",
            &[]
        ),
        tk(reason::HANDLER_NOT_AVAILABLE)
    );
    assert_eq!(
        call(&mut vm, &mut card, "ViewHandler", "getLength", "()S", &[h]),
        tk(reason::HANDLER_NOT_AVAILABLE)
    );
}

#[test]
fn envelope_response_registry_and_me_profile() {
    let (mut card, mut vm) = installed();
    vm.toolkit = jcvm::api::toolkit::ToolkitState {
        active: true,
        event: 0xFF,
        envelope: Some((0xDF, vec![0x82, 0x02, 0x83, 0x81])),
        response_allowed: true,
        ..Default::default()
    };
    let e = call(
        &mut vm,
        &mut card,
        "EnvelopeResponseHandler",
        "getTheHandler",
        "()Lsim/toolkit/EnvelopeResponseHandler;",
        &[],
    )
    .unwrap()
    .unwrap();
    call(
        &mut vm,
        &mut card,
        "EditHandler",
        "appendTLV",
        "(BBB)V",
        &[e, s(0x81), s(1), s(2)],
    )
    .unwrap();
    call(
        &mut vm,
        &mut card,
        "EnvelopeResponseHandler",
        "postAsBERTLV",
        "(BB)V",
        &[e, s(0), s(0x62)],
    )
    .unwrap();
    assert_eq!(card.posted, Some(vec![0x62, 0x04, 0x81, 0x02, 0x01, 0x02]));
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "EnvelopeResponseHandler",
            "post",
            "(B)V",
            &[e, s(0)]
        ),
        tk(reason::HANDLER_NOT_AVAILABLE)
    );
    // The registry: one object (stored in NV), events, menu entries, timers.
    let get = |vm: &mut Vm, card: &mut Card| {
        call(
            vm,
            card,
            "ToolkitRegistry",
            "getEntry",
            "()Lsim/toolkit/ToolkitRegistry;",
            &[],
        )
        .unwrap()
        .unwrap()
    };
    let reg = get(&mut vm, &mut card);
    assert_eq!(get(&mut vm, &mut card), reg);
    call(
        &mut vm,
        &mut card,
        "ToolkitRegistry",
        "setEvent",
        "(B)V",
        &[reg, s(17)],
    )
    .unwrap();
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "isEventSet",
            "(B)Z",
            &[reg, s(17)]
        )),
        1
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "setEvent",
            "(B)V",
            &[reg, s(7)]
        ),
        tk(reason::EVENT_NOT_ALLOWED)
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "setEvent",
            "(B)V",
            &[reg, s(3)]
        ),
        tk(reason::EVENT_NOT_SUPPORTED)
    );
    let list = arr(&mut vm, &mut card, &[16, 20]);
    call(
        &mut vm,
        &mut card,
        "ToolkitRegistry",
        "setEventList",
        "([BSS)V",
        &[reg, list, s(0), s(2)],
    )
    .unwrap();
    assert_eq!(card.events, vec![17, 16, 20]);
    call(
        &mut vm,
        &mut card,
        "ToolkitRegistry",
        "clearEvent",
        "(B)V",
        &[reg, s(17)],
    )
    .unwrap();
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "isEventSet",
            "(B)Z",
            &[reg, s(17)]
        )),
        0
    );
    let text = arr(&mut vm, &mut card, b"Second");
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "initMenuEntry",
            "([BSSBZBS)B",
            &[reg, text, s(0), s(6), s(0), s(0), s(0), s(0)]
        )),
        2
    );
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "initMenuEntry",
            "([BSSBZBS)B",
            &[reg, text, s(0), s(6), s(0), s(0), s(0), s(0)]
        ),
        tk(reason::REGISTRY_ERROR)
    );
    call(
        &mut vm,
        &mut card,
        "ToolkitRegistry",
        "disableMenuEntry",
        "(B)V",
        &[reg, s(2)],
    )
    .unwrap();
    assert!(!card.menu[1].2);
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "enableMenuEntry",
            "(B)V",
            &[reg, s(9)]
        ),
        tk(reason::MENU_ENTRY_NOT_FOUND)
    );
    call(
        &mut vm,
        &mut card,
        "ToolkitRegistry",
        "changeMenuEntry",
        "(B[BSSBZBS)V",
        &[reg, s(1), text, s(0), s(3), s(0), s(0), s(0), s(0)],
    )
    .unwrap();
    assert_eq!(card.menu[0].1, b"Sec".to_vec());
    assert_eq!(
        call(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "allocateTimer",
            "()B",
            &[reg]
        ),
        tk(reason::NO_TIMER_AVAILABLE)
    );
    // MEProfile: bit index (byte 1 b1 = 0), masks, copy; not available without a profile.
    card.profile = Some(vec![0x01, 0x20]);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "check",
            "(B)Z",
            &[s(0)]
        )),
        1
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "check",
            "(B)Z",
            &[s(13)]
        )),
        1
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "check",
            "(S)Z",
            &[s(12)]
        )),
        0
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "check",
            "(S)Z",
            &[s(900)]
        )),
        0
    );
    let m = arr(&mut vm, &mut card, &[0x01, 0x21]);
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "check",
            "([BSS)Z",
            &[m, s(0), s(1)]
        )),
        1
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "check",
            "([BSS)Z",
            &[m, s(0), s(2)]
        )),
        0
    );
    assert_eq!(
        short(call(
            &mut vm,
            &mut card,
            "MEProfile",
            "getValue",
            "(SS)S",
            &[s(12), s(4)]
        )),
        0b0010
    );
    card.profile = None;
    assert_eq!(
        call(&mut vm, &mut card, "MEProfile", "check", "(B)Z", &[s(0)]),
        tk(reason::ME_PROFILE_NOT_AVAILABLE)
    );
}

#[test]
fn uicc_toolkit_natives_throw_the_uicc_exception() {
    let (mut card, mut vm) = installed();
    vm.toolkit = jcvm::api::toolkit::ToolkitState {
        active: true,
        event: 7,
        envelope: Some((
            0xD3,
            vec![
                0x82, 0x02, 0x01, 0x81, 0x90, 0x01, 0x05, 0x38, 0x02, 0x81, 0x05,
            ],
        )),
        ..Default::default()
    };
    let u = |vm: &mut Vm, card: &mut Card, c: &str, m: &str, d: &str, a: &[Value]| {
        let f = lookup(&format!("uicc/toolkit/{c}"), m, d)
            .unwrap_or_else(|| panic!("no native uicc {c}.{m}{d}"));
        f(vm, card, a)
    };
    let uexc = |r: i16| -> Result<Option<Value>, Throw> {
        Err(Throw::Java {
            class: jcvm::api::toolkit::UICC_TOOLKIT_EXCEPTION,
            reason: r,
        })
    };
    let e = u(
        &mut vm,
        &mut card,
        "EnvelopeHandlerSystem",
        "getTheHandler",
        "()Luicc/toolkit/EnvelopeHandler;",
        &[],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        short(u(
            &mut vm,
            &mut card,
            "EnvelopeHandler",
            "getItemIdentifier",
            "()B",
            &[e]
        )),
        5
    );
    assert_eq!(
        u(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[e, s(0x10), s(0)]
        ),
        uexc(reason::BAD_INPUT_PARAMETER)
    );
    assert_eq!(
        short(u(
            &mut vm,
            &mut card,
            "ViewHandler",
            "findTLV",
            "(BB)B",
            &[e, s(0x02), s(1)]
        )),
        1
    );
    assert_eq!(
        short(u(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueShort",
            "(S)S",
            &[e, s(0)]
        )),
        0x0181
    );
    assert_eq!(
        u(
            &mut vm,
            &mut card,
            "ViewHandler",
            "getValueShort",
            "(S)S",
            &[e, s(1)]
        ),
        uexc(reason::OUT_OF_TLV_BOUNDARIES)
    );
    // Channel status of channel 1: 81 05.
    assert_eq!(
        short(u(
            &mut vm,
            &mut card,
            "EnvelopeHandler",
            "getChannelStatus",
            "(B)S",
            &[e, s(1)]
        )),
        0x8105u16 as i16
    );
    assert_eq!(
        u(
            &mut vm,
            &mut card,
            "EnvelopeHandler",
            "getChannelStatus",
            "(B)S",
            &[e, s(2)]
        ),
        uexc(reason::UNAVAILABLE_ELEMENT)
    );
    // The proactive handler: MORE TIME, short-valued TLVs.
    let p = u(
        &mut vm,
        &mut card,
        "ProactiveHandlerSystem",
        "getTheHandler",
        "()Luicc/toolkit/ProactiveHandler;",
        &[],
    )
    .unwrap()
    .unwrap();
    u(
        &mut vm,
        &mut card,
        "ProactiveHandler",
        "initMoreTime",
        "()V",
        &[p],
    )
    .unwrap();
    u(
        &mut vm,
        &mut card,
        "EditHandler",
        "appendTLV",
        "(BSS)V",
        &[p, s(0x84), s(0x0102), s(0x0304)],
    )
    .unwrap();
    let out = arr(&mut vm, &mut card, &[0; 15]);
    u(
        &mut vm,
        &mut card,
        "ViewHandler",
        "copy",
        "([BSS)S",
        &[p, out, s(0), s(15)],
    )
    .unwrap();
    assert_eq!(
        bytes(&vm, out),
        vec![
            0x81, 0x03, 0x01, 0x02, 0x00, 0x82, 0x02, 0x81, 0x82, 0x84, 0x04, 0x01, 0x02, 0x03,
            0x04
        ]
    );
    // The registry: events as shorts, an event list of shorts.
    let reg = u(
        &mut vm,
        &mut card,
        "ToolkitRegistrySystem",
        "getEntry",
        "()Luicc/toolkit/ToolkitRegistry;",
        &[],
    )
    .unwrap()
    .unwrap();
    let list = Value::Ref(Some(
        vm.alloc(&mut card, Memory::ClearOnReset, Body::Shorts(vec![16, 17]))
            .unwrap(),
    ));
    u(
        &mut vm,
        &mut card,
        "ToolkitRegistry",
        "setEventList",
        "([SSS)V",
        &[reg, list, s(0), s(2)],
    )
    .unwrap();
    assert_eq!(card.events, vec![16, 17]);
    assert_eq!(
        u(
            &mut vm,
            &mut card,
            "ToolkitRegistry",
            "setEvent",
            "(S)V",
            &[reg, s(7)]
        ),
        uexc(reason::EVENT_NOT_ALLOWED)
    );
    assert_eq!(
        u(
            &mut vm,
            &mut card,
            "ToolkitException",
            "throwIt",
            "(S)V",
            &[s(9)]
        ),
        uexc(9)
    );
    card.profile = None;
    assert_eq!(
        u(
            &mut vm,
            &mut card,
            "TerminalProfile",
            "check",
            "(S)Z",
            &[s(0)]
        ),
        uexc(reason::ME_PROFILE_NOT_AVAILABLE)
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const VIEW: &[(&str, &str)] = &[
        ("findTLV", "(BB)B"),
        ("getValueLength", "()S"),
        ("getValueByte", "(S)B"),
        ("copyValue", "(S[BSS)S"),
        ("compareValue", "(S[BSS)B"),
        ("findAndCopyValue", "(B[BS)S"),
        ("findAndCopyValue", "(BBS[BSS)S"),
        ("findAndCompareValue", "(B[BS)B"),
        ("findAndCompareValue", "(BBS[BSS)B"),
        ("copy", "([BSS)S"),
        ("getLength", "()S"),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any envelope bytes and any arguments: the handler natives answer a value or a
        /// Java exception, never a panic.
        #[test]
        fn view_handler_natives_never_panic(
            env in proptest::collection::vec(any::<u8>(), 0..64),
            calls in proptest::collection::vec(
                (0..VIEW.len(), any::<i16>(), any::<i16>(), any::<i16>(), any::<i16>()),
                1..24,
            ),
        ) {
            let (mut card, mut vm) = installed();
            vm.toolkit = jcvm::api::toolkit::ToolkitState {
                active: true,
                event: 0xFF,
                envelope: Some((0xDF, env.clone())),
                response: Some(env.clone()),
                response_allowed: true,
                ..Default::default()
            };
            let eh = "()Lsim/toolkit/EnvelopeHandler;";
            let h = call(&mut vm, &mut card, "EnvelopeHandler", "getTheHandler", eh, &[]);
            let h = h.unwrap().unwrap();
            let rh = "()Lsim/toolkit/ProactiveResponseHandler;";
            let r = call(&mut vm, &mut card, "ProactiveResponseHandler", "getTheHandler", rh, &[]);
            let r = r.unwrap().unwrap();
            let buf = arr(&mut vm, &mut card, &[0; 16]);
            for (i, (m, a, b, c, d)) in calls.into_iter().enumerate() {
                let this = if i % 2 == 0 { h } else { r };
                let (name, desc) = VIEW[m];
                let args: Vec<Value> = match desc {
                    "(BB)B" => vec![this, s(a), s(b)],
                    "()S" => vec![this],
                    "(S)B" => vec![this, s(a)],
                    "(S[BSS)S" | "(S[BSS)B" => vec![this, s(a), buf, s(b), s(c)],
                    "(B[BS)S" | "(B[BS)B" => vec![this, s(a), buf, s(b)],
                    "(BBS[BSS)S" | "(BBS[BSS)B" => {
                        vec![this, s(a), s(b), s(c), buf, s(d), s(a)]
                    }
                    _ => vec![this, buf, s(a), s(b)],
                };
                let _ = call(&mut vm, &mut card, "ViewHandler", name, desc, &args);
                for (m, d) in [
                    ("getGeneralResult", "()B"),
                    ("getTextStringLength", "()S"),
                    ("getItemIdentifier", "()B"),
                    ("getAdditionalInformationLength", "()S"),
                ] {
                    let _ = call(&mut vm, &mut card, "ProactiveResponseHandler", m, d, &[r]);
                }
                for m in ["getTPUDLOffset", "getUserDataLength"] {
                    let _ = call(&mut vm, &mut card, "EnvelopeHandler", m, "()S", &[h]);
                }
            }
            let gr = jcvm::api::toolkit::general_result(&env);
            prop_assert_eq!(gr.is_some(), general_ok(&env));
        }
    }

    /// Whether a walk of the list meets a non-empty `03`/`83` object before any malformed one.
    fn general_ok(b: &[u8]) -> bool {
        let mut at = 0;
        while at < b.len() {
            let t = b[at];
            if matches!(t, 0x00 | 0xFF | 0x80) {
                return false;
            }
            let tl = if t == 0x7F { 3 } else { 1 };
            let Some(&l0) = b.get(at + tl) else {
                return false;
            };
            let (len, ll) = match l0 {
                n if n < 0x80 => (n as usize, 1),
                0x81 => match b.get(at + tl + 1) {
                    Some(&n) => (n as usize, 2),
                    None => return false,
                },
                0x82 => match (b.get(at + tl + 1), b.get(at + tl + 2)) {
                    (Some(&h), Some(&l)) => ((h as usize) << 8 | l as usize, 3),
                    _ => return false,
                },
                _ => return false,
            };
            let v = at + tl + ll;
            if v + len > b.len() || (t == 0x7F && b.len() < at + 3) {
                return false;
            }
            if t != 0x7F && t & 0x7F == 0x03 && len > 0 {
                return true;
            }
            at = v + len;
        }
        false
    }
}
