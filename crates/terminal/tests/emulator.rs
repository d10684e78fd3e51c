//! The terminal against the built-in emulated UICC (in process, through `Transport`).

use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, Keyset, ResponseStatus, Spi, Tar};
use terminal::{OtaRequest, PorPath, Terminal, UserAnswer};
use transport::Emulator;

fn h(s: &str) -> Vec<u8> {
    apdu::hex::decode(s).unwrap()
}

/// Keyset 1 of the built-in profile (AES-128).
fn keys() -> Keyset {
    Keyset::new()
        .with_kic(
            CipherAlgorithm::AesCbc,
            &h("000102030405060708090A0B0C0D0E0F"),
            1,
        )
        .unwrap()
        .with_kid(
            ChecksumAlgorithm::AesCmac,
            &h("101112131415161718191A1B1C1D1E1F"),
            1,
        )
        .unwrap()
}

#[test]
fn profile_menu_and_ota_on_the_emulator() {
    let mut card = Emulator::default_card().unwrap();
    let mut t = Terminal::default();
    assert_eq!(t.terminal_profile(&mut card).unwrap(), 0x9000);
    let menu = t
        .menu()
        .expect("the card sets up its menu after TERMINAL PROFILE")
        .clone();
    let ks = keys();
    for (spi2, path) in [
        (0x19, PorPath::EnvelopeResponse),
        (0x39, PorPath::SendShortMessage),
    ] {
        let req = OtaRequest {
            keys: &ks,
            spi: Spi::from_bytes([0x16, spi2]),
            tar: Tar([0xB0, 0x00, 0x10]),
            counter: Counter::new(u64::from(spi2)).unwrap(),
            data: h("00A40004023F00"),
            concat_ref: 1,
        };
        let o = t.deliver_sms_pp(&mut card, &req).unwrap();
        let p = o.por.expect("PoR");
        assert_eq!(p.path, path);
        let pkt = p.packet.unwrap();
        assert_eq!(pkt.status, ResponseStatus::PorOk);
        assert_eq!(pkt.compact_response().unwrap().count, 1);
    }
    // A replayed counter is refused by the card (status 02, CNTR low), PoR still decoded.
    let req = OtaRequest {
        keys: &ks,
        spi: Spi::from_bytes([0x16, 0x19]),
        tar: Tar([0xB0, 0x00, 0x10]),
        counter: Counter::new(1).unwrap(),
        data: h("00A40004023F00"),
        concat_ref: 1,
    };
    let o = t.deliver_sms_pp(&mut card, &req).unwrap();
    assert_ne!(o.por.unwrap().status(), Some(ResponseStatus::PorOk));
    // The menu journey: MENU SELECTION -> SELECT ITEM (item 2 chosen) -> DISPLAY TEXT.
    t.push_answer(UserAnswer::Item(2));
    t.push_answer(UserAnswer::Ok);
    let before = t.shown().len();
    assert_eq!(
        t.select_menu_item(&mut card, menu.items[0].id, false)
            .unwrap(),
        0x9000
    );
    let shown: Vec<&str> = t.shown()[before..]
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(shown.first(), Some(&"simota demo"));
    assert!(shown.contains(&"Card info"), "{shown:?}");
    assert_eq!(shown.last(), Some(&"You chose: Card info"), "{shown:?}");
    assert_eq!(t.pending_answers().count(), 0);
}
