//! Terminal tests against the mock card and the shared real-card PoR vectors.

use crate::mock::{MockCard, PorMode};
use crate::smspp::{OtaRequest, PorPath, PorReport};
use crate::*;
use apdu::hex;
use ota::cat::{CommandType, GeneralResult};
use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, Keyset, ResponseStatus, Spi, Tar};
use std::str::FromStr;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn aes_keys() -> Keyset {
    let k = h("000102030405060708090a0b0c0d0e0f");
    Keyset::new()
        .with_kic(CipherAlgorithm::from_str("aes-cbc").unwrap(), &k, 1)
        .unwrap()
        .with_kid(ChecksumAlgorithm::from_str("aes-cmac").unwrap(), &k, 1)
        .unwrap()
}

// TS 31.124 sequences (via oFono), also in test-vectors/cat-ts31124.json.
const DISPLAY_TEXT: &str = "D01A8103012180820281028D0F04546F6F6C6B697420546573742031";
const GET_INPUT_HIDDEN: &str = "D01B8103012304820281828D0C04456E74657220313233343591020408";
const SET_UP_MENU: &str = "D03B810301250082028182850C546F6F6C6B6974204D656E758F07014974656D20318F07024974656D20328F07034974656D20338F07044974656D2034";
const SELECT_ITEM: &str = "D03D810301240082028182850E546F6F6C6B69742053656C6563748F07014974656D20318F07024974656D20328F07034974656D20338F07044974656D2034";

fn request<'a>(keys: &'a Keyset, spi: [u8; 2], data: Vec<u8>) -> OtaRequest<'a> {
    OtaRequest {
        keys,
        spi: Spi::from_bytes(spi),
        tar: Tar([0xB0, 0x00, 0x10]),
        counter: Counter::from_bytes([0, 0, 0, 0, 5]),
        data,
        concat_ref: 7,
    }
}

#[test]
fn scripted_session_display_input_and_mo_sms() {
    let mut card = MockCard::new(aes_keys());
    card.proactive.push_back(h(DISPLAY_TEXT));
    card.proactive.push_back(h(GET_INPUT_HIDDEN));
    let mut t = Terminal::default();
    t.push_answer(UserAnswer::Ok);
    t.push_answer(UserAnswer::Text("1234".into()));
    t.push_answer(UserAnswer::Text("5678".into()));
    assert_eq!(t.terminal_profile(&mut card).unwrap(), 0x9000);
    assert_eq!(card.profile.as_deref(), Some(t.config.profile.bytes()));
    // TERMINAL RESPONSEs exactly as TS 31.124 expects.
    assert_eq!(hex::encode(&card.responses[0]), "810301218082028281830100");
    // Hidden input: 4 digits, 8-bit GSM, not revealed in the log.
    assert_eq!(
        hex::encode(&card.responses[1]),
        "8103012304820282818301008D050431323334"
    );
    let shown: Vec<_> = t
        .shown()
        .iter()
        .map(|s| (s.command, s.role, s.text.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (CommandType::DisplayText, ShownRole::Text, "Toolkit Test 1"),
            (CommandType::GetInput, ShownRole::Prompt, "Enter 12345"),
        ]
    );
    assert!(t.exchanges()[1]
        .notes
        .iter()
        .any(|n| n == "typed 4 hidden characters"));
    assert!(!format!("{:?}", t.exchanges()[1].notes).contains("1234"));
    // The unused answer stays queued.
    assert_eq!(
        t.pending_answers().collect::<Vec<_>>(),
        [&UserAnswer::Text("5678".into())]
    );
}

#[test]
fn defaults_when_nobody_answers() {
    let mut t = Terminal::default();
    let a = t.respond(&h(DISPLAY_TEXT)).unwrap();
    assert_eq!(a.response.result().general, GeneralResult::Success);
    for cmd in [GET_INPUT_HIDDEN, SELECT_ITEM] {
        let a = t.respond(&h(cmd)).unwrap();
        assert_eq!(
            a.response.result().general,
            GeneralResult::NoResponse,
            "{cmd}"
        );
    }
    // An item queued is not taken by a GET INPUT.
    t.push_answer(UserAnswer::Item(3));
    assert_eq!(
        t.respond(&h(GET_INPUT_HIDDEN))
            .unwrap()
            .response
            .result()
            .general,
        GeneralResult::NoResponse
    );
    let a = t.respond(&h(SELECT_ITEM)).unwrap();
    assert_eq!(
        hex::encode(&a.response.emit()),
        "810301240082028281830100900103"
    );
    // Cancel / back / timeout / help.
    for (ans, g) in [
        (UserAnswer::Cancel, "10"),
        (UserAnswer::Back, "11"),
        (UserAnswer::Timeout, "12"),
    ] {
        t.push_answer(ans);
        let a = t.respond(&h(DISPLAY_TEXT)).unwrap();
        assert_eq!(
            hex::encode(&a.response.emit()),
            format!("8103012180820282818301{g}")
        );
    }
    t.push_answer(UserAnswer::Help);
    let a = t.respond(&h(SELECT_ITEM)).unwrap();
    assert_eq!(
        hex::encode(&a.response.emit()),
        "810301240082028281830113900101"
    );
}

#[test]
fn undecodable_and_unknown_commands() {
    let mut t = Terminal::default();
    // DISPLAY TEXT without its text string: required values missing (36).
    let a = t.respond(&h("D009810301218082028102")).unwrap();
    assert_eq!(hex::encode(&a.response.emit()), "810301218082028281830136");
    // Bad UCS2: command data not understood (32).
    let a = t.respond(&h("D00D8103012180820281028D020800")).unwrap();
    assert_eq!(
        a.response.result().general,
        GeneralResult::DataNotUnderstood
    );
    // Unknown type 7E: 31; known but unsupported (SET UP CALL): 30.
    assert_eq!(
        t.respond(&h("D009810301 7E00 82028182"))
            .unwrap()
            .response
            .result()
            .general,
        GeneralResult::TypeNotUnderstood
    );
    assert_eq!(
        t.respond(&h("D009810301100082028183"))
            .unwrap()
            .response
            .result()
            .general,
        GeneralResult::BeyondCapabilities
    );
    // Long length form: the command details are still found.
    let mut long = h("D0818D8103012180820281028D818108");
    long.extend(std::iter::repeat_n(0xD8, 128));
    let a = t.respond(&long).unwrap();
    assert_eq!(
        a.response.result().general,
        GeneralResult::DataNotUnderstood
    );
    assert_eq!(a.response.details().command_type, CommandType::DisplayText);
    // Not even command details: an error, no response.
    assert!(t.respond(&h("D0028200")).is_err());
}

#[test]
fn event_download_only_for_registered_events() {
    let mut card = MockCard::new(aes_keys());
    // SET UP EVENT LIST: user activity (TS 31.124 1.1.1).
    card.proactive.push_back(h("D00C810301050082028182990104"));
    let mut t = Terminal::default();
    assert_eq!(t.fetch_all(&mut card).unwrap(), 1);
    assert_eq!(t.events(), [ota::cat::EventType::UserActivity]);
    assert_eq!(
        t.event_download(&mut card, ota::cat::EventType::IdleScreenAvailable, vec![])
            .unwrap(),
        None
    );
    assert_eq!(
        t.event_download(&mut card, ota::cat::EventType::UserActivity, vec![])
            .unwrap(),
        Some(0x9000)
    );
    assert_eq!(
        hex::encode(card.envelopes.last().unwrap()),
        "D60799010482028281"
    );
}

#[test]
fn local_information() {
    let mut t = Terminal::default();
    let imei = t.respond(&h("D009810301260182028182")).unwrap().response;
    assert_eq!(imei.find::<ota::cat::Imei>().unwrap(), Some(t.config.imei));
    let loc = t.respond(&h("D009810301260082028182")).unwrap().response;
    assert_eq!(
        loc.find::<ota::cat::LocationInfo>()
            .unwrap()
            .unwrap()
            .mcc_mnc(),
        ("001".into(), "01".into())
    );
    assert_eq!(
        t.respond(&h("D009810301260A82028182"))
            .unwrap()
            .response
            .result()
            .general,
        GeneralResult::BeyondCapabilities
    );
}

#[test]
fn menu_journey() {
    let mut card = MockCard::new(aes_keys());
    card.proactive.push_back(h(SET_UP_MENU));
    card.on_menu.push_back(h(SELECT_ITEM));
    card.on_menu.push_back(h(DISPLAY_TEXT));
    let mut t = Terminal::default();
    assert_eq!(t.fetch_all(&mut card).unwrap(), 1);
    assert_eq!(t.menu().unwrap().items.len(), 4);
    assert!(matches!(
        t.select_menu_item(&mut card, 9, false),
        Err(TerminalError::NoSuchMenuItem(9))
    ));
    t.push_answer(UserAnswer::Item(2));
    t.push_answer(UserAnswer::Ok);
    assert_eq!(t.select_menu_item(&mut card, 2, false).unwrap(), 0x9000);
    assert_eq!(
        hex::encode(card.envelopes.last().unwrap()),
        "D30782020181900102"
    );
    assert_eq!(
        hex::encode(&card.responses[1]),
        "810301240082028281830100900102"
    );
    let titles: Vec<_> = t
        .shown()
        .iter()
        .filter(|s| s.role == ShownRole::Title)
        .map(|s| s.text.clone())
        .collect();
    assert_eq!(titles, ["Toolkit Menu", "Toolkit Select"]);
    assert_eq!(t.shown().last().unwrap().text, "Toolkit Test 1");
}

#[test]
fn t0_fetch_with_wrong_le_and_get_response() {
    let mut card = MockCard::new(aes_keys());
    card.t0 = true;
    card.proactive.push_back(h(DISPLAY_TEXT));
    let mut t = Terminal::default();
    // 91xx announced with the real length, FETCH answered via 61xx + GET RESPONSE.
    assert_eq!(t.fetch_all(&mut card).unwrap(), 1);
    assert!(card.log.iter().any(|c| c[1] == 0xC0));
    assert_eq!(t.exchanges()[0].raw, h(DISPLAY_TEXT));
}

fn deliver(
    mode: PorMode,
    t0: bool,
    spi: [u8; 2],
    data: Vec<u8>,
) -> (MockCard, Terminal, SmsPpOutcome) {
    let keys = aes_keys();
    let mut card = MockCard::new(keys.clone());
    card.por_mode = mode;
    card.t0 = t0;
    let mut t = Terminal::default();
    let o = t
        .deliver_sms_pp(&mut card, &request(&keys, spi, data))
        .unwrap();
    (card, t, o)
}

#[test]
fn por_via_envelope_response_t1_and_t0() {
    for t0 in [false, true] {
        let (card, _t, o) = deliver(PorMode::Envelope, t0, [0x16, 0x19], h("00A40004023F00"));
        assert_eq!(card.received.len(), 1);
        let p = o.por.expect("PoR");
        assert_eq!(p.path, PorPath::EnvelopeResponse);
        let pkt = p.packet.unwrap();
        assert_eq!(pkt.status, ResponseStatus::PorOk);
        assert_eq!(pkt.data, [0x01, 0x90, 0x07]);
        assert_eq!(pkt.counter, Counter::from_bytes([0, 0, 0, 0, 5]));
        assert_eq!(o.envelope_sws, [0x9000]);
        // The ENVELOPE is a D1 with an SMS-DELIVER: PID 7F, DCS F6, UDH 02 70 00.
        let env = ota::cat::Envelope::parse(&card.envelopes[0]).unwrap();
        let ota::cat::EnvelopeKind::SmsPpDownload { tpdu, .. } = env.kind() else {
            panic!()
        };
        let d = ota::sms::SmsDeliver::parse(tpdu).unwrap();
        assert_eq!(
            (d.pid, d.dcs.0, &d.ud[..3]),
            (0x7F, 0xF6, &[0x02, 0x70, 0x00][..])
        );
    }
}

#[test]
fn por_via_send_short_message_single_and_concatenated() {
    for parts in [1, 3] {
        let (_card, t, o) = deliver(
            PorMode::SendSms { parts },
            false,
            [0x16, 0x39],
            h("00A40004023F00"),
        );
        let p = o.por.expect("PoR");
        assert_eq!(p.path, PorPath::SendShortMessage);
        assert_eq!(p.status(), Some(ResponseStatus::PorOk));
        assert_eq!(t.mo_sms().len(), parts);
        assert!(t.mo_sms().iter().all(|m| m.submit.is_ok()));
        assert!(t.mo_sms().last().unwrap().por.is_some());
        assert_eq!(o.final_sw, 0x9000);
    }
}

#[test]
fn data_download_error_and_busy() {
    let (card, _t, o) = deliver(
        PorMode::DownloadError,
        false,
        [0x16, 0x19],
        h("00A40004023F00"),
    );
    assert_eq!(o.rp_error, Some(0xD5));
    let p = o.por.unwrap();
    assert_eq!(p.path, PorPath::DataDownloadError { sw: 0x6200 });
    assert_eq!(p.status(), Some(ResponseStatus::PorOk));
    assert_eq!(&card.log.last().unwrap()[..4], &[0x00, 0xC0, 0x00, 0x00]);
    let (card, _t, o) = deliver(PorMode::Busy, false, [0x16, 0x19], h("00A40004023F00"));
    assert!(o.busy && o.por.is_none() && o.rp_error == Some(0xD4));
    assert!(card.received.is_empty());
}

#[test]
fn concatenated_command_is_split_into_envelopes() {
    // ~300 bytes of script: three SMS-DELIVERs, one ENVELOPE each, reassembled by the card.
    let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let (card, _t, o) = deliver(PorMode::Envelope, false, [0x16, 0x19], data.clone());
    assert_eq!(o.envelope_sws.len(), 3);
    assert_eq!(card.envelopes.len(), 3);
    assert_eq!(card.received[0].data, data);
    assert!(card.envelopes.iter().all(|e| e.len() <= 255));
    assert_eq!(o.por.unwrap().status(), Some(ResponseStatus::PorOk));
}

fn keyset_from_json(k: &serde_json::Value) -> Keyset {
    let kic = match k["kic_algo"].as_str().unwrap() {
        "triple_des_cbc2" => "3des2",
        "aes_cbc" => "aes-cbc",
        a => panic!("{a}"),
    };
    let kid = match k["kid_algo"].as_str().unwrap() {
        "triple_des_cbc2" => "3des2-mac",
        "aes_cmac" => "aes-cmac",
        a => panic!("{a}"),
    };
    Keyset::new()
        .with_kic(
            CipherAlgorithm::from_str(kic).unwrap(),
            &h(k["kic"].as_str().unwrap()),
            k["kic_index"].as_u64().unwrap() as u8,
        )
        .unwrap()
        .with_kid(
            ChecksumAlgorithm::from_str(kid).unwrap(),
            &h(k["kid"].as_str().unwrap()),
            k["kid_index"].as_u64().unwrap() as u8,
        )
        .unwrap()
}

#[test]
fn recorded_real_card_pors_decode_through_the_terminal_path() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/");
    let mut n = 0;
    for f in [
        "scp80-sms-real-card-logs.json",
        "scp80-sms-pysim-unittests.json",
    ] {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap()).unwrap();
        for e in v
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "response_por")
        {
            let id = e["id"].as_str().unwrap();
            let spi = h(e["spi_hex"].as_str().unwrap());
            let keys = keyset_from_json(&e["keyset"]);
            let r = PorReport::decode_with(
                PorPath::EnvelopeResponse,
                h(e["encoded_resp"].as_str().unwrap()),
                &keys,
                Spi::from_bytes([spi[0], spi[1]]),
            );
            let exp = &e["expected"];
            match exp["response_status"].as_str() {
                Some("por_ok") => {
                    let p = r
                        .packet
                        .as_ref()
                        .unwrap_or_else(|err| panic!("{id}: {err}"));
                    assert_eq!(p.status, ResponseStatus::PorOk, "{id}");
                    let c = p.compact_response().unwrap();
                    assert_eq!(
                        u64::from(c.count),
                        exp["number_of_commands"].as_u64().unwrap(),
                        "{id}"
                    );
                }
                Some(_) => {
                    // Status 06 sent unsecured (RHL 10) although the SPI asked for CC.
                    assert_eq!(r.status(), Some(ResponseStatus::from_byte(0x06)), "{id}");
                    assert_eq!(r.security, ota::PorSecurity::NONE, "{id}");
                }
                None => assert!(r.packet.is_err(), "{id}: a bad CC must be rejected"),
            }
            n += 1;
        }
        // The smpp2sim log: a real card's ENVELOPE response PoR (keys unknown) parses.
        for e in v
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "cat_envelope")
        {
            let env =
                ota::cat::Envelope::parse(&h(e["expected_envelope"].as_str().unwrap())).unwrap();
            assert_eq!(env.emit(), h(e["expected_envelope"].as_str().unwrap()));
            let r = PorReport::decode(
                PorPath::EnvelopeResponse,
                h(e["card_response_data_por"].as_str().unwrap()),
                None,
            );
            assert!(r.packet.unwrap_err().contains("no keyset"));
        }
    }
    assert_eq!(n, 12);
}

#[test]
fn toolkit_directives() {
    use script::{Toolkit, ToolkitCommand};
    let keys = aes_keys();
    let mut card = MockCard::new(keys.clone());
    card.proactive.push_back(h(SET_UP_MENU));
    let mut t = Terminal::default();
    t.add_keyset("k1", KeysetEntry::new(keys));
    let o = t
        .execute(&mut card, &ToolkitCommand::TerminalProfile(h("FFFF")))
        .unwrap();
    assert!(o.notes.iter().any(|n| n.contains("Toolkit Menu")));
    let o = t
        .execute(
            &mut card,
            &ToolkitCommand::SmsPp {
                keyset: "k1".into(),
                tar: h("B00010"),
                data: h("00B0000001"),
                spi: None,
                options: vec![],
            },
        )
        .unwrap();
    let por = o.por.unwrap();
    assert_eq!((por.status, por.data), (0, vec![0x01, 0x90, 0x05]));
    assert_eq!(
        card.received[0].counter,
        Counter::from_bytes([0, 0, 0, 0, 1])
    );
    t.execute(
        &mut card,
        &ToolkitCommand::SmsPp {
            keyset: "k1".into(),
            tar: h("B00010"),
            data: h("00"),
            spi: None,
            options: vec![],
        },
    )
    .unwrap();
    assert_eq!(
        card.received[1].counter,
        Counter::from_bytes([0, 0, 0, 0, 2])
    );
    // kic=/kid= pick the key index; a different algorithm nibble is refused.
    let sms = |k: &str, v: &str| ToolkitCommand::SmsPp {
        keyset: "k1".into(),
        tar: h("B00010"),
        data: h("00"),
        spi: None,
        options: vec![(k.to_string(), v.to_string())],
    };
    t.execute(&mut card, &sms("kic", "12")).unwrap();
    assert!(t.execute(&mut card, &sms("kid", "15")).is_err());
    assert!(t.execute(&mut card, &sms("kid", "zz")).is_err());
    assert!(t
        .execute(
            &mut card,
            &ToolkitCommand::SmsPp {
                keyset: "nope".into(),
                tar: h("B00010"),
                data: vec![],
                spi: None,
                options: vec![]
            }
        )
        .is_err());
    assert!(t.execute(&mut card, &ToolkitCommand::Menu(7)).is_err());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn respond_never_panics_and_echoes_details(
            t in any::<u8>(), qual in any::<u8>(), n in any::<u8>(),
            objs in proptest::collection::vec((1u8..0x7F, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..12)), 0..5),
            answers in proptest::collection::vec(0u8..8, 0..3),
        ) {
            let mut body = vec![0x81, 3, n, t, qual, 0x82, 2, 0x81, 0x82];
            for (tag, cr, v) in objs {
                apdu::tlv::CompTlv::new(tag, cr, v).emit_into(&mut body);
            }
            let mut raw = vec![0xD0];
            raw.extend(apdu::tlv::encode_len(body.len()));
            raw.extend(&body);
            let mut term = Terminal::default();
            for a in answers {
                term.push_answer(match a {
                    0 => UserAnswer::Ok, 1 => UserAnswer::Cancel, 2 => UserAnswer::Back, 3 => UserAnswer::Timeout,
                    4 => UserAnswer::Help, 5 => UserAnswer::Text("12".into()), 6 => UserAnswer::Item(2), _ => UserAnswer::Yes,
                });
            }
            let a = term.respond(&raw).unwrap();
            let d = a.response.details();
            prop_assert_eq!((d.number, u8::from(d.command_type), d.qualifier), (n, t, qual));
            let back = ota::cat::TerminalResponse::parse(&a.response.emit()).unwrap();
            prop_assert_eq!(back.emit(), a.response.emit());
        }
    }
}
