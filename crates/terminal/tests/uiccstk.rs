//! simota's `uicc.toolkit` (ETSI TS 102 241) test applet (test-vectors/cap/simota-uiccstk.cap,
//! source in test-vectors/cap/src/uicc/) in the Java Card VM of the emulated UICC, driven by
//! the terminal simulator: the JCRE gets its ToolkitInterface through
//! `getShareableInterfaceObject(null, 1)` and calls `processToolkit(short)`; the handlers are
//! reached through `*System.getTheHandler()` and called by `invokeinterface`.

use ota::cat::objects::EventType;
use terminal::{Terminal, UserAnswer};
use transport::{Emulator, Transport};

mod common;

const AID: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x55, 0x01];

fn started() -> (Emulator, Terminal, u8) {
    let mut card = common::card_with_cap("simota-uiccstk.cap", AID);
    let mut t = Terminal::default();
    assert_eq!(t.terminal_profile(&mut card).unwrap(), 0x9000);
    let id = t
        .menu()
        .expect("SET UP MENU")
        .items
        .iter()
        .find(|i| i.text.text() == "UICC hello")
        .expect("the applet's menu entry")
        .id;
    (card, t, id)
}

fn shown_since(t: &Terminal, n: usize) -> Vec<String> {
    t.shown()[n..].iter().map(|s| s.text.clone()).collect()
}

#[test]
fn menu_selection_get_inkey_then_display_text() {
    let (mut card, mut t, id) = started();
    for (answer, want) in [
        (UserAnswer::Yes, "Yes"),
        (UserAnswer::No, "No"),
        (UserAnswer::Cancel, "R10"),
    ] {
        t.push_answer(answer);
        t.push_answer(UserAnswer::Ok);
        let n = t.shown().len();
        assert_eq!(t.select_menu_item(&mut card, id, false).unwrap(), 0x9000);
        let shown = shown_since(&t, n);
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert_eq!(shown[0], "Yes?");
        assert_eq!(shown[1], want, "{shown:?}");
    }
}

#[test]
fn idle_screen_event_and_the_caught_exception() {
    let (mut card, mut t, _) = started();
    assert_eq!(t.events(), [EventType::IdleScreenAvailable]);
    t.push_answer(UserAnswer::Ok);
    let n = t.shown().len();
    assert_eq!(
        t.event_download(&mut card, EventType::IdleScreenAvailable, Vec::new())
            .unwrap(),
        Some(0x9000)
    );
    assert_eq!(shown_since(&t, n), ["Idle"]);
    // The constructor caught uicc.toolkit.ToolkitException EVENT_NOT_ALLOWED (13) from
    // setEvent(EVENT_MENU_SELECTION).
    let sel = [&[0x00, 0xA4, 0x04, 0x00, AID.len() as u8][..], AID].concat();
    assert_eq!(card.transmit(&sel).unwrap(), [0x90, 0x00]);
    assert_eq!(
        card.transmit(&[0x80, 0x01, 0, 0, 1]).unwrap(),
        [0x0D, 0x90, 0x00]
    );
}
