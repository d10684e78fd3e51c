//! Property tests: built messages survive emit → parse unchanged, and any bytes that parse
//! re-emit identically.

use super::proactive::{Command, DisplayText, GetInput, SelectItem, SendShortMessage, SetUpMenu};
use super::*;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = TextString> {
    prop_oneof![
        "[a-zA-Z0-9 @]{0,30}".prop_map(|s| TextString::gsm_packed(&s).unwrap()),
        "[a-zA-Z0-9 {}€]{0,30}".prop_map(|s| TextString::gsm_8bit(&s).unwrap()),
        "\\PC{0,20}".prop_map(|s| TextString::ucs2(&s)),
    ]
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    proptest::collection::vec(
        (1u8..=255, "\\PC{0,12}").prop_map(|(i, s)| Item::new(i, &s)),
        1..6,
    )
}

fn command() -> impl Strategy<Value = (u8, Command)> {
    prop_oneof![
        (
            any::<u8>(),
            text(),
            any::<bool>(),
            proptest::option::of((0u8..3, 1u8..=255))
        )
            .prop_map(|(q, t, imm, d)| (
                q,
                Command::DisplayText(DisplayText {
                    text: t,
                    icon: None,
                    immediate_response: imm,
                    duration: d.map(|(u, i)| Duration {
                        unit: u.into(),
                        interval: i
                    }),
                    other: vec![],
                })
            )),
        (
            any::<u8>(),
            text(),
            any::<u8>(),
            any::<u8>(),
            proptest::option::of(text())
        )
            .prop_map(|(q, t, a, b, d)| (
                q,
                Command::GetInput(GetInput {
                    text: t,
                    response_length: ResponseLength {
                        min: a.min(b),
                        max: a.max(b)
                    },
                    default_text: d,
                    icon: None,
                    duration: None,
                    other: vec![],
                })
            )),
        ("\\PC{0,12}", items()).prop_map(|(a, it)| (
            0,
            Command::SetUpMenu(SetUpMenu {
                alpha: AlphaId::new(&a),
                items: it,
                next_actions: None,
                icon: None,
                other: vec![]
            })
        )),
        (
            "\\PC{0,12}".prop_map(|a| AlphaId::new(&a)),
            items(),
            proptest::option::of(any::<u8>())
        )
            .prop_map(|(a, it, d)| (
                0x80,
                Command::SelectItem(SelectItem {
                    alpha: Some(a),
                    items: it,
                    next_actions: None,
                    default_item: d,
                    icon: None,
                    other: vec![]
                })
            )),
        proptest::collection::vec(any::<u8>(), 0..150).prop_map(|tpdu| (
            0,
            Command::SendShortMessage(SendShortMessage {
                alpha: None,
                address: None,
                tpdu,
                icon: None,
                other: vec![]
            })
        )),
        Just((0, Command::MoreTime)),
        (1u8..=255).prop_map(|i| (0, Command::PollInterval(Duration::seconds(i)))),
    ]
}

proptest! {
    #[test]
    fn built_commands_roundtrip(n in 1u8..=254, (q, c) in command()) {
        let p = ProactiveCommand::new(n, q, c);
        let b = p.emit();
        prop_assert_eq!(b.len(), p.buffer_len());
        let back = ProactiveCommand::parse(&b).unwrap();
        prop_assert_eq!(back.emit(), b);
        prop_assert_eq!(back, p);
    }

    #[test]
    fn terminal_responses_roundtrip(n in any::<u8>(), g in any::<u8>(), add in proptest::collection::vec(any::<u8>(), 0..3), t in proptest::option::of(text()), item in proptest::option::of(any::<u8>())) {
        let d = CommandDetails { number: n, command_type: CommandType::GetInput, qualifier: 0 };
        let mut r = TerminalResponse::new(d, CatResult::with_info(g.into(), add));
        if let Some(t) = t { r = r.with_text(t); }
        if let Some(i) = item { r = r.with_item(i); }
        let b = r.emit();
        let back = TerminalResponse::parse(&b).unwrap();
        prop_assert_eq!(back.emit(), b);
        prop_assert_eq!(back, r);
    }

    #[test]
    fn envelopes_roundtrip(i in any::<u8>(), h in any::<bool>(), ev in any::<u8>()) {
        for e in [Envelope::menu_selection(i, h), Envelope::event_download(ev.into(), vec![])] {
            let b = e.emit();
            let back = Envelope::parse(&b).unwrap();
            prop_assert_eq!(back.emit(), b);
            prop_assert_eq!(back, e);
        }
    }

    #[test]
    fn any_parsed_bytes_reemit(body in proptest::collection::vec(any::<u8>(), 0..80), t in 0xD0u8..0xD8) {
        let mut b = vec![t];
        b.extend(apdu::tlv::encode_len(body.len()));
        b.extend(&body);
        if let Ok(p) = ProactiveCommand::parse(&b) { prop_assert_eq!(p.emit(), b.clone()); }
        if let Ok(e) = Envelope::parse(&b) { prop_assert_eq!(e.emit(), b.clone()); }
        if let Ok(r) = TerminalResponse::parse(&body) { prop_assert_eq!(r.emit(), body); }
    }

    #[test]
    fn structured_garbage_reemits(n in any::<u8>(), t in any::<u8>(), q in any::<u8>(), objs in proptest::collection::vec((1u8..0x7F, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..20)), 0..6)) {
        // Valid framing with random objects: whatever parses must round-trip exactly.
        let mut body = vec![0x81, 3, n, t, q, 0x82, 2, 0x81, 0x82];
        for (tag, cr, v) in objs {
            apdu::tlv::CompTlv::new(tag, cr, v).emit_into(&mut body);
        }
        let mut b = vec![0xD0];
        b.extend(apdu::tlv::encode_len(body.len()));
        b.extend(&body);
        if let Ok(p) = ProactiveCommand::parse(&b) { prop_assert_eq!(p.emit(), b); }
    }
}
