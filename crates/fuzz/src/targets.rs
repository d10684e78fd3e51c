//! The bodies of the coverage-guided fuzz targets in `fuzz/fuzz_targets/` (cargo-fuzz /
//! libFuzzer, OSS-Fuzz layout). Each takes the raw fuzz input and panics only when an
//! invariant breaks (a parser panicking is a finding by itself). The same functions run over
//! the committed corpora in `tests/corpus_replay.rs`, so the corpora are replayed by a plain
//! `cargo test` on stable, without libFuzzer.
//!
//! Invariants checked beyond "no panic": values that parse re-emit into bytes that parse to
//! the same value (C-APDU, BER-TLV, COMPREHENSION-TLV, remote APDU scripts, TPDUs); every
//! answer of the card ends with a status word.

use apdu::tlv::{BerTlv, CompTlv};
use ota::Keyset;
use std::sync::OnceLock;

/// A target body.
pub type Target = fn(&[u8]);

/// Every target by name (the names of `fuzz/fuzz_targets/*.rs`).
pub const TARGETS: &[(&str, Target)] = &[
    ("apdu", apdu),
    ("ber_tlv", ber_tlv),
    ("comp_tlv", comp_tlv),
    ("atr", atr),
    ("command_packet", command_packet),
    ("por", por),
    ("tpdu", tpdu),
    ("envelope", envelope),
    ("remote_apdu", remote_apdu),
    ("fcp", fcp),
    ("script", script),
    ("ota_receiver", ota_receiver),
    ("cap_reader", cap_reader),
    ("jcvm_interp", jcvm_interp),
];

/// C-APDU and R-APDU parsing (ISO/IEC 7816-4 §5.1) and the one-line explanation.
pub fn apdu(data: &[u8]) {
    if let Ok(c) = apdu::CommandApdu::parse(data) {
        if let Ok(b) = c.emit() {
            let again = apdu::CommandApdu::parse(&b).expect("an emitted C-APDU parses");
            assert_eq!(again, c, "C-APDU round trip");
        }
    }
    let _ = apdu::ResponseApdu::parse(data);
    let _ = apdu::describe::capdu_summary(data);
}

/// BER-TLV (ISO/IEC 8825-1 as used by ISO 7816-4 and TS 102 221): parse, re-emit, re-parse,
/// and the named tree.
pub fn ber_tlv(data: &[u8]) {
    if let Ok(v) = BerTlv::parse_all(data) {
        let mut out = Vec::new();
        for t in &v {
            t.emit_into(&mut out);
        }
        let again = BerTlv::parse_all(&out).expect("emitted BER-TLV parses");
        assert_eq!(again, v, "BER-TLV round trip");
    }
    if let Ok(t) = apdu::describe::ber_tree(data, 0) {
        let _ = apdu::describe::render_tree(&t, 0);
    }
}

/// COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1): parse, re-emit, re-parse, and the tree.
pub fn comp_tlv(data: &[u8]) {
    if let Ok(v) = CompTlv::parse_all(data) {
        let mut out = Vec::new();
        for t in &v {
            out.extend(t.emit());
        }
        let again = CompTlv::parse_all(&out).expect("emitted COMPREHENSION-TLV parses");
        assert_eq!(again, v, "COMPREHENSION-TLV round trip");
    }
    if let Ok(t) = apdu::describe::comprehension_tree(data, 0) {
        let _ = apdu::describe::render_tree(&t, 0);
    }
}

/// ATR (ISO/IEC 7816-3 §8) and every accessor.
pub fn atr(data: &[u8]) {
    if let Ok(a) = apdu::Atr::parse(data) {
        let _ = a.protocols();
        let _ = a.tck_ok();
        let _ = a.expected_tck();
        let _ = a.fi_di();
        let _ = a.extended_length();
        for i in 0..4 {
            let _ = a.group_protocol(i);
            for w in ['A', 'B', 'C', 'D'] {
                let _ = a.interface_byte_meaning(w, i, data.get(i).copied().unwrap_or(0));
            }
        }
        let _ = a.historical_objects();
    }
}

/// The default profile's AES key set (KVN 1) and 3DES key set (KVN 2).
fn keysets() -> &'static (Keyset, Keyset) {
    static K: OnceLock<(Keyset, Keyset)> = OnceLock::new();
    K.get_or_init(|| {
        let key = |kvn| crate::dut::default_profile_keyset(kvn).expect("default key set");
        (key(1), key(2))
    })
}

/// Command packets (TS 102 225 §5.1, TS 31.115 §4.2): clear header, decipher and RC/CC
/// with both default key sets.
pub fn command_packet(data: &[u8]) {
    let (aes, des) = keysets();
    if let Ok(s) = ota::SecuredCommand::parse(data) {
        let _ = s.header().integrity_len();
        for k in [aes, des] {
            if let Ok(d) = s.decipher(k) {
                let _ = d.counter();
                let _ = d.data();
                let _ = d.padding();
                let _ = d.check_integrity(k);
                if let Ok(p) = d.verify(k) {
                    // A verified packet re-seals into one that opens to the same packet.
                    if let Ok(b) = p.seal(k) {
                        if let Ok(q) = ota::CommandPacket::open(&b, k) {
                            assert_eq!(q.data, p.data);
                        }
                    }
                }
            }
        }
    }
}

/// PoRs (TS 102 225 §5.2, TS 31.115 §4.4): parse, decipher/verify with several SPI2
/// securities, and the terminal's PoR decoding.
pub fn por(data: &[u8]) {
    let (aes, des) = keysets();
    if let Ok(s) = ota::SecuredResponse::parse(data) {
        let _ = s.clear_status();
        for k in [aes, des] {
            for sec in [0x00u8, 0x19, 0x09, 0x11, 0x05] {
                let spi = ota::Spi::from_bytes([0x16, sec]);
                if let Ok(d) = s.decipher(spi.por_security(), k) {
                    let _ = d.status();
                    let _ = d.data();
                    let _ = d.check_integrity(k);
                }
            }
        }
    }
    let spi = ota::Spi::from_bytes([0x16, 0x19]);
    let r = terminal::PorReport::decode_with(
        terminal::PorPath::EnvelopeResponse,
        data.to_vec(),
        &keysets().0,
        spi,
    );
    let _ = r.status();
    if let Ok(c) = ota::CompactResponse::parse(data) {
        let _ = c.emit();
    }
}

/// SMS TPDUs (TS 23.040 §9.2): every TPDU type, UDH, user data decoding and concatenation.
pub fn tpdu(data: &[u8]) {
    if let Ok(t) = ota::sms::Tpdu::parse(data) {
        let _ = t.user_data();
        let _ = t.ud();
    }
    if let Ok(d) = ota::sms::SmsDeliver::parse(data) {
        let _ = d.user_data();
        if let Ok(b) = d.emit() {
            let again = ota::sms::SmsDeliver::parse(&b).expect("an emitted SMS-DELIVER parses");
            // GSM 7-bit decoding of an alphanumeric TP-OA is lossy by design (TS 23.038: an
            // unknown escape shows the base character), so exactness is required after one
            // normalisation; digit addresses round-trip at once.
            if !matches!(again.oa.value, ota::sms::AddressValue::Alphanumeric { .. }) {
                assert_eq!(again, d, "SMS-DELIVER round trip");
            }
            if let Ok(b2) = again.emit() {
                let third =
                    ota::sms::SmsDeliver::parse(&b2).expect("a re-emitted SMS-DELIVER parses");
                assert_eq!(third, again, "SMS-DELIVER round trip after normalisation");
            }
        }
    }
    if let Ok(s) = ota::sms::SmsSubmit::parse(data) {
        let _ = s.user_data();
        let _ = s.emit();
    }
    for rp in [false, true] {
        if let Ok(r) = ota::sms::SmsDeliverReport::parse(data, rp) {
            let _ = r.emit();
        }
    }
    if let Ok((u, used)) = ota::sms::Udh::parse(data) {
        assert!(used <= data.len());
        let _ = u.emit();
    }
    let mut re = ota::sms::Reassembler::new();
    for part in data.split(|&b| b == 0xFF).take(8) {
        if let Ok(Some(w)) = re.push(part) {
            let _ = w.to_user_data();
        }
    }
}

/// CAT ENVELOPEs, proactive commands and TERMINAL RESPONSEs (TS 102 223), and the SMS-PP
/// download ENVELOPE (TS 31.111 §7.1.1).
pub fn envelope(data: &[u8]) {
    if let Ok(e) = ota::SmsPpDownload::parse(data) {
        if let Ok(b) = e.emit() {
            let again = ota::SmsPpDownload::parse(&b).expect("an emitted ENVELOPE parses");
            assert_eq!(again, e, "SMS-PP ENVELOPE round trip");
        }
    }
    if let Ok(e) = ota::cat::Envelope::parse(data) {
        let _ = e.emit();
    }
    if let Ok(p) = ota::cat::ProactiveCommand::parse(data) {
        let _ = format!("{p:?}");
    }
    if let Ok(r) = ota::cat::TerminalResponse::parse(data) {
        let _ = format!("{r:?}");
    }
}

/// Remote APDU scripts (TS 102 226 §5.1/5.2), compact and expanded, commands and
/// responses: parse, re-emit, re-parse.
pub fn remote_apdu(data: &[u8]) {
    if let Ok(s) = ota::RemoteScript::parse(data) {
        let b = s.emit();
        let again = ota::RemoteScript::parse(&b).expect("an emitted script parses");
        assert_eq!(again, s, "remote script round trip");
    }
    if let Ok(r) = ota::RemoteResponse::parse(data) {
        let b = r.emit();
        let again = ota::RemoteResponse::parse(&b).expect("an emitted response parses");
        assert_eq!(again, r, "remote response round trip");
    }
}

/// FCP / FCI templates (TS 102 221 §11.1.1.3) as the explainer decodes SELECT/STATUS
/// answers.
pub fn fcp(data: &[u8]) {
    for cmd in [
        [0x00u8, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00],
        [0x80, 0xF2, 0x00, 0x00, 0x00, 0x00, 0x00],
    ] {
        let n = if cmd[1] == 0xF2 { 5 } else { 7 };
        if let Ok(c) = apdu::CommandApdu::parse(&cmd[..n]) {
            if let Some(Ok(t)) = apdu::describe::response_data_tree(&c.view(), data) {
                let _ = apdu::describe::render_tree(&t, 0);
            }
        }
    }
}

struct NoInclude;

impl script::native::Loader for NoInclude {
    fn read(&mut self, _: &std::path::Path) -> std::io::Result<String> {
        Err(std::io::Error::other("includes are off while fuzzing"))
    }
}

/// The script parsers (native `.apdu` and apdutool `.scr`).
pub fn script(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for f in [script::Format::Native, script::Format::Apdutool] {
        let _ = script::parse_str("fuzz", text, f, &mut NoInclude);
    }
}

fn profile() -> &'static uicc::Profile {
    static P: OnceLock<uicc::Profile> = OnceLock::new();
    P.get_or_init(uicc::Profile::default_profile)
}

/// The card's OTA receiver with valid keys: the input chooses the TAR, SPI, counter and
/// secured data; the packet is sealed correctly with the default profile's key sets so that
/// fuzzing reaches past the CC into RFM/RAM; several packets per input.
///
/// Input: records of `flags(1) cntr(1) len(1) data[len]`. flags b1b0 TAR (B00000, B00001,
/// 000000, B20100), b2 3DES key set instead of AES, b3 counter mode 11 instead of 10, b4
/// PoR via SMS-SUBMIT, b5 no ciphering, b6 expanded-format wrapper (AA), b7 corrupt one byte
/// after sealing.
pub fn ota_receiver(data: &[u8]) {
    use crate::build::{EnvelopeSpec, PacketSpec, SmsSpec};
    let Ok(mut card) = uicc::Card::new(profile().clone()) else {
        return;
    };
    let tp = card.process(&[0x80, 0x10, 0x00, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(tp.len() >= 2);
    let (aes, des) = keysets();
    let mut rest = data;
    let mut counter = 0u64;
    let mut n = 0;
    while let [flags, c, len, tail @ ..] = rest {
        n += 1;
        if n > 16 {
            break;
        }
        let take = usize::from(*len).min(tail.len());
        let (script, tail) = tail.split_at(take);
        rest = tail;
        let keys = if flags & 0x04 != 0 { des } else { aes };
        let tar = match flags & 0x03 {
            0 => [0xB0, 0x00, 0x00],
            1 => [0xB0, 0x00, 0x01],
            2 => [0x00, 0x00, 0x00],
            _ => [0xB2, 0x01, 0x00],
        };
        counter = counter.saturating_add(u64::from(*c));
        let mode = if flags & 0x08 != 0 { 0x18 } else { 0x10 };
        let cipher = if flags & 0x20 != 0 { 0 } else { 0x04 };
        let spi = [
            mode | cipher | 0x02,
            if flags & 0x10 != 0 { 0x39 } else { 0x19 },
        ];
        let mut body = script.to_vec();
        if flags & 0x40 != 0 {
            let mut e = vec![0xAA];
            let l = body.len();
            if l >= 0x80 {
                e.push(0x81);
            }
            e.push(l as u8);
            e.extend(body);
            body = e;
        }
        let cntr = ota::Counter::new(counter.min(0xFF_FFFF_FFFF)).unwrap_or_default();
        let mut p = PacketSpec::new(spi, keys, tar, cntr.to_bytes(), body);
        if flags & 0x80 != 0 {
            p.flip_after = Some((usize::from(*c), 0x01));
        }
        let Ok(packet) = p.seal(keys, keys) else {
            continue;
        };
        let sms = SmsSpec::default();
        let env = EnvelopeSpec::default();
        for ud in sms.user_data(&packet) {
            let a = env.apdu(&sms.tpdu(&ud));
            let r = card.process(&a);
            assert!(r.len() >= 2, "every answer ends with a status word");
            if r.len() >= 2 && r[r.len() - 2] == 0x91 {
                // Fetch what the card queued (a PoR via SEND SHORT MESSAGE).
                let f = card.process(&[0x80, 0x12, 0x00, 0x00, r[r.len() - 1]]);
                assert!(f.len() >= 2);
                let tr = [
                    0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x13, 0x00, 0x82, 0x02, 0x82,
                    0x81, 0x83, 0x01, 0x00,
                ];
                let _ = card.process(&tr);
            }
        }
    }
    let st = card.process(&[0x80, 0xF2, 0x00, 0x0C, 0x00]);
    assert!(st.len() >= 2, "the card still answers STATUS");
}

/// The CAP file reader (JCVM Spec 3.0.5 ch. 6): a ZIP of components, or (when the input is
/// not a ZIP) the input split into component files at each `tag u1, size u2` boundary. Never a
/// panic; a CAP that parses has applet install offsets inside its Method component.
pub fn cap_reader(data: &[u8]) {
    let check = |c: jcvm::CapFile| {
        for a in &c.applets {
            assert!((a.install_method_offset as usize) < c.method.info.len());
        }
    };
    if let Ok(c) = jcvm::CapFile::from_zip(data) {
        check(c);
    }
    let mut comps = Vec::new();
    let mut rest = data;
    while rest.len() >= 3 {
        let n = (3 + u16::from_be_bytes([rest[1], rest[2]]) as usize).min(rest.len());
        comps.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    if let Ok(c) = jcvm::CapFile::from_components(comps) {
        check(c);
    }
}

/// The Java Card VM's interpreter (JCVM Spec 3.0.5 §7), on arbitrary bytecode and on arbitrary
/// commands to a real applet; the first byte picks which.
///
/// * Even: bytes 1–3 are max_stack, `nargs << 4 | max_locals` and flags (bit 0: the CAP's int
///   flag), the rest one static method's bytecode (`jcvm::asm`, in the Wallet CAP), with a
///   constant pool of exception classes, the JCSystem transaction methods, the method itself
///   (recursion), a second method and a static field. It is called with zeroed arguments;
///   whatever it does (return, throw, fault), the second method (`sconst_1; sreturn`) must
///   still return 1 afterwards: no fault leaves the VM unusable.
/// * Odd: the Wallet applet installed with PIN 01020304 and selected, then the rest as
///   commands `ins p1 ne len data…` (CLA 80): every answer has a status word, and a 9000
///   answer to GET BALANCE (`50`) has two bytes.
pub fn jcvm_interp(data: &[u8]) {
    use jcvm::cap::{ClassRef, CpEntry, StaticRef};
    use jcvm::heap::{Slot, Value};
    use jcvm::jcre::{Command, MemEnv};
    static WALLET: &[u8] = include_bytes!("../../../test-vectors/cap/jcsim-wallet.cap");
    static TEMPLATE: std::sync::OnceLock<Option<jcvm::CapFile>> = std::sync::OnceLock::new();
    let Some(template) = TEMPLATE
        .get_or_init(|| jcvm::CapFile::from_zip(WALLET).ok())
        .clone()
    else {
        return;
    };
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut env = MemEnv::new();
    if mode & 1 == 0 {
        let [max_stack, shape, flags, code @ ..] = rest else {
            return;
        };
        let fuzzed = jcvm::asm::Method {
            max_stack: *max_stack,
            nargs: shape >> 4,
            max_locals: shape & 0x0F,
            code: code.to_vec(),
        };
        let one = jcvm::asm::Method {
            max_stack: 1,
            nargs: 0,
            max_locals: 0,
            code: vec![0x04, 0x78],
        };
        let class = |package_token, class_token| {
            CpEntry::ClassRef(ClassRef::External {
                package_token,
                class_token,
            })
        };
        let jcsystem = |token| {
            CpEntry::StaticMethodRef(StaticRef::External {
                package_token: 0,
                class_token: 8,
                token,
            })
        };
        let cp = |offs: &[u16]| {
            vec![
                class(1, 9), // ArithmeticException
                class(1, 7), // NullPointerException
                class(1, 3), // RuntimeException
                jcsystem(1), // beginTransaction
                jcsystem(0), // abortTransaction
                jcsystem(2), // commitTransaction
                CpEntry::StaticMethodRef(StaticRef::Internal(offs[0])),
                CpEntry::StaticMethodRef(StaticRef::Internal(offs[1])),
                CpEntry::StaticFieldRef(StaticRef::Internal(0)),
            ]
        };
        let (cap, offs) = jcvm::asm::package(template, &[fuzzed, one], cp, &[], flags & 1 != 0);
        let Ok(mut vm) = jcvm::vm::Vm::load(cap, &[0xA0, 0, 0, 0, 1], &[]) else {
            return;
        };
        // Loops end at the budget (a fault); a small one keeps the fuzzer fast.
        vm.budget = 20_000;
        let args = vec![Slot::S(0); usize::from(shape >> 4)];
        let _ = vm.call_static(&mut env, 0, offs[0], &args);
        let after = vm.call_static(&mut env, 0, offs[1], &[]);
        assert!(
            matches!(after, Ok(Some(Value::Short(1)))),
            "the VM still runs a plain method: {after:?}"
        );
        return;
    }
    const AID: [u8; 11] = [
        0xD1, 0x56, 0x00, 0x01, 0x32, 0x0A, 0x64, 0x65, 0x6D, 0x9F, 0x01,
    ];
    let Ok(mut vm) = jcvm::vm::Vm::load(template, &AID, &[]) else {
        return;
    };
    vm.budget = 200_000;
    let mut install = vec![AID.len() as u8];
    install.extend_from_slice(&AID);
    install.extend_from_slice(&[0, 4, 1, 2, 3, 4]);
    if vm.install(&mut env, 0, &install).is_err() || !vm.select(&mut env) {
        return;
    }
    let mut at = rest;
    while let [ins, p1, ne, len, tail @ ..] = at {
        let n = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(n);
        at = next;
        let c = Command {
            cla: 0x80,
            ins: *ins,
            p1: *p1,
            p2: 0,
            data: body,
            ne: usize::from(*ne),
            channel: 0,
        };
        let r = vm.process(&mut env, &c, false);
        assert!(r.sw != 0, "a status word");
        if *ins == 0x50 && r.sw == 0x9000 {
            assert_eq!(r.data.len(), 2, "GET BALANCE answers two bytes");
        }
    }
}
