//! pySim's HelloSTK (test-vectors/cap/pysim-test_javacard.cap, a `sim.toolkit` applet of
//! 3GPP TS 43.019 compiled by the Java Card converter) running in the Java Card VM of the
//! emulated UICC, driven by the terminal simulator: after TERMINAL PROFILE the card's SET UP
//! MENU lists its entry "Hello, STK"; selecting it (ENVELOPE D3) makes the applet send
//! DISPLAY TEXT "Welcome to ToorCamp 2012", which the terminal shows; the TERMINAL RESPONSE
//! resumes the applet, which ends its session.

use terminal::{Terminal, UserAnswer};
use transport::Emulator;

mod common;

const AID: &[u8] = &[0xD0, 0x70, 0x02, 0xCA, 0x44, 0x90, 0x01, 0x01];

fn card_with_hellostk() -> Emulator {
    common::card_with_cap("pysim-test_javacard.cap", AID)
}

#[test]
fn hellostk_menu_entry_shows_the_welcome_text() {
    let mut card = card_with_hellostk();
    let mut t = Terminal::default();
    assert_eq!(t.terminal_profile(&mut card).unwrap(), 0x9000);
    let menu = t
        .menu()
        .expect("SET UP MENU after TERMINAL PROFILE")
        .clone();
    let item = menu
        .items
        .iter()
        .find(|i| i.text.text() == "Hello, STK")
        .unwrap_or_else(|| panic!("HelloSTK's entry in {menu:?}"));
    t.push_answer(UserAnswer::Ok);
    let before = t.exchanges().len();
    assert_eq!(
        t.select_menu_item(&mut card, item.id, false).unwrap(),
        0x9000
    );
    let shown: Vec<&str> = t.shown().iter().map(|s| s.text.as_str()).collect();
    assert!(shown.contains(&"Welcome to ToorCamp 2012"), "{shown:?}");
    // One DISPLAY TEXT, answered 00 (performed successfully) and accepted with 9000: the
    // applet resumed from ProactiveHandler.send() and returned; nothing else is pending.
    let ex = &t.exchanges()[before..];
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0].raw[..2], [0xD0, ex[0].raw.len() as u8 - 2]);
    assert_eq!(ex[0].sw, 0x9000);
    assert_eq!(u8::from(ex[0].response.result().general), 0x00);
    // Again: the applet keeps working after the session.
    t.push_answer(UserAnswer::Ok);
    assert_eq!(
        t.select_menu_item(&mut card, item.id, false).unwrap(),
        0x9000
    );
    assert_eq!(t.exchanges().len(), before + 2);
}

#[test]
fn hellostk_survives_a_reset_and_a_user_cancel() {
    let mut card = card_with_hellostk();
    let mut t = Terminal::default();
    t.terminal_profile(&mut card).unwrap();
    let id = t
        .menu()
        .unwrap()
        .items
        .iter()
        .find(|i| i.text.text() == "Hello, STK")
        .unwrap()
        .id;
    // The user ends the session: the TERMINAL RESPONSE carries 10 (terminated by user); the
    // applet ignores send()'s result and returns.
    t.push_answer(UserAnswer::Cancel);
    assert_eq!(t.select_menu_item(&mut card, id, false).unwrap(), 0x9000);
    let last = t.exchanges().last().unwrap();
    assert_eq!(last.sw, 0x9000);
    assert_eq!(u8::from(last.response.result().general), 0x10);
    // After a reset (the VM is rebuilt from NV) the menu entry is still there.
    transport::Transport::reset(&mut card, transport::ResetKind::Cold).unwrap();
    let mut t = Terminal::default();
    t.terminal_profile(&mut card).unwrap();
    assert!(t.menu().unwrap().items.iter().any(|i| i.id == id));
    t.push_answer(UserAnswer::Ok);
    assert_eq!(t.select_menu_item(&mut card, id, false).unwrap(), 0x9000);
    assert!(t
        .shown()
        .iter()
        .any(|s| s.text == "Welcome to ToorCamp 2012"));
}
