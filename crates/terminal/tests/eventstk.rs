//! simota's own `sim.toolkit` test applet (test-vectors/cap/simota-eventstk.cap, source in
//! test-vectors/cap/src/eventstk/) in the Java Card VM of the emulated UICC, driven by the
//! terminal simulator: two proactive commands in one session (GET INPUT, then DISPLAY TEXT
//! with the typed name: the applet is suspended in `send()` twice), an EVENT DOWNLOAD the
//! card announced with SET UP EVENT LIST, an unrecognized envelope answered through
//! `EnvelopeResponseHandler`, a `ToolkitException` caught by the applet, and `clearEvent`.

use ota::cat::objects::EventType;
use ota::cat::proactive::Command;
use terminal::{Terminal, UserAnswer};
use transport::{Emulator, Transport};

mod common;

const AID: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x45, 0x01];

fn card() -> Emulator {
    common::card_with_cap("simota-eventstk.cap", AID)
}

fn started() -> (Emulator, Terminal, u8) {
    let mut card = card();
    let mut t = Terminal::default();
    assert_eq!(t.terminal_profile(&mut card).unwrap(), 0x9000);
    let id = t
        .menu()
        .expect("SET UP MENU")
        .items
        .iter()
        .find(|i| i.text.text() == "Your name")
        .expect("the applet's menu entry")
        .id;
    (card, t, id)
}

fn shown_since(t: &Terminal, n: usize) -> Vec<String> {
    t.shown()[n..].iter().map(|s| s.text.clone()).collect()
}

#[test]
fn get_input_then_display_text_in_one_session() {
    let (mut card, mut t, id) = started();
    t.push_answer(UserAnswer::Text("Ada".into()));
    t.push_answer(UserAnswer::Ok);
    let (n, e) = (t.shown().len(), t.exchanges().len());
    assert_eq!(t.select_menu_item(&mut card, id, false).unwrap(), 0x9000);
    assert_eq!(shown_since(&t, n), ["Name?", "Hello, Ada"]);
    let ex = &t.exchanges()[e..];
    assert_eq!(ex.len(), 2);
    assert!(matches!(
        ex[0].command.as_ref().map(|c| c.command()),
        Some(Command::GetInput(_))
    ));
    // GET INPUT's TERMINAL RESPONSE is answered 91xx (DISPLAY TEXT waits), the last 9000.
    assert_eq!(ex[0].sw >> 8, 0x91);
    assert_eq!(ex[1].sw, 0x9000);
    // The user backs out of GET INPUT: send() returns 11 and the applet says so.
    t.push_answer(UserAnswer::Back);
    t.push_answer(UserAnswer::Ok);
    let n = t.shown().len();
    assert_eq!(t.select_menu_item(&mut card, id, false).unwrap(), 0x9000);
    assert_eq!(shown_since(&t, n), ["Name?", "No name"]);
}

#[test]
fn event_download_registered_through_set_up_event_list() {
    let (mut card, mut t, _) = started();
    // The applet's setEvent(EVENT_EVENT_DOWNLOAD_USER_ACTIVITY) reached the terminal as
    // SET UP EVENT LIST (user activity).
    assert_eq!(t.events(), [EventType::UserActivity]);
    for k in 1..=2 {
        t.push_answer(UserAnswer::Ok);
        let n = t.shown().len();
        let sw = t
            .event_download(&mut card, EventType::UserActivity, Vec::new())
            .unwrap();
        assert_eq!(sw, Some(0x9000));
        assert_eq!(shown_since(&t, n), [format!("Activity {k}")]);
    }
    // INS 01: the count, persistent in the applet's field.
    let sel = [&[0x00, 0xA4, 0x04, 0x00, AID.len() as u8][..], AID].concat();
    assert_eq!(card.transmit(&sel).unwrap(), [0x90, 0x00]);
    assert_eq!(
        card.transmit(&[0x80, 0x01, 0, 0, 1]).unwrap(),
        [0x02, 0x90, 0x00]
    );
    // INS 02: clearEvent; the card withdraws the event with an empty SET UP EVENT LIST.
    let r = card.transmit(&[0x80, 0x02, 0, 0]).unwrap();
    assert_eq!(r[0], 0x91, "{r:02X?}");
    let sw = u16::from_be_bytes([r[0], r[1]]);
    assert_eq!(t.after(&mut card, sw).unwrap(), 0x9000);
    assert!(t.events().is_empty(), "{:?}", t.events());
    assert_eq!(
        t.event_download(&mut card, EventType::UserActivity, Vec::new())
            .unwrap(),
        None
    );
}

#[test]
fn unrecognized_envelope_is_answered_by_the_envelope_response_handler() {
    let (mut card, mut t, _) = started();
    t.push_answer(UserAnswer::Ok);
    t.event_download(&mut card, EventType::UserActivity, Vec::new())
        .unwrap();
    // ENVELOPE with tag DF (not a TS 102 223 envelope this card knows): the applet answers
    // 81 03 <tag> <activity count> <reason it caught>: its constructor's
    // setEvent(EVENT_MENU_SELECTION) threw ToolkitException.EVENT_NOT_ALLOWED (13).
    let r = card
        .transmit(&[
            0x80, 0xC2, 0x00, 0x00, 0x06, 0xDF, 0x04, 0x82, 0x02, 0x83, 0x81, 0x00,
        ])
        .unwrap();
    assert_eq!(r, [0x81, 0x03, 0xDF, 0x01, 0x0D, 0x90, 0x00]);
}
