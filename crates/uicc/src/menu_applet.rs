//! A built-in demo toolkit applet (TS 102 241 style) with one menu entry: MENU SELECTION →
//! SELECT ITEM → DISPLAY TEXT of the chosen item, written as a state machine over the
//! toolkit continuation model ([`crate::toolkit`]).
//!
//! Install parameters (`C9` value): optional `01 L <menu entry text>`; default
//! "simota demo". It also answers OTA messages to its TARs (`SecuredData`): data starting with
//! `F0` asks the user with GET INPUT (the rest is the prompt) and answers with the typed text
//! once the TERMINAL RESPONSE arrives (a deferred PoR, sent by SEND SHORT MESSAGE); any other
//! data is echoed reversed.

use crate::applet::{Apdu, Applet, AppletClass, AppletContext, ToolkitEvent};
use apdu::StatusWord;
use ota::cat::GeneralResult;

/// Class AID of [`MenuApplet`] (`F0 "simota" 4D`).
pub const MENU_CLASS_AID: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x4D];

/// The items offered by SELECT ITEM.
pub const ITEMS: [&str; 3] = ["Hello", "Card info", "Goodbye"];

/// The applet class to register.
#[derive(Debug, Default, Clone, Copy)]
pub struct MenuAppletClass;

impl AppletClass for MenuAppletClass {
    fn class_aid(&self) -> &[u8] {
        MENU_CLASS_AID
    }
    fn name(&self) -> &str {
        "simota demo menu applet"
    }
    fn create(&self) -> Box<dyn Applet> {
        Box::new(MenuApplet::default())
    }
}

/// Where the applet is in its menu session.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Idle,
    /// SELECT ITEM sent.
    Choosing,
    /// DISPLAY TEXT sent.
    Showing,
    /// GET INPUT sent for an OTA request.
    Asking,
}

/// The demo menu applet.
#[derive(Debug, Default)]
pub struct MenuApplet {
    state: State,
}

fn menu_text(params: &[u8]) -> String {
    match params {
        [0x01, n, rest @ ..] if usize::from(*n) <= rest.len() => {
            String::from_utf8_lossy(&rest[..usize::from(*n)]).into_owned()
        }
        _ => "simota demo".to_string(),
    }
}

impl Applet for MenuApplet {
    fn install(&mut self, ctx: &mut AppletContext<'_>, params: &[u8]) -> Result<(), StatusWord> {
        let text = menu_text(params);
        ctx.registry().init_menu_entry(&text, 0, false)?;
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut AppletContext<'_>,
        apdu: &mut Apdu<'_>,
    ) -> Result<(), StatusWord> {
        if apdu.selecting_applet() {
            return Ok(());
        }
        Err(StatusWord(0x6D00))
    }

    fn process_toolkit(
        &mut self,
        ctx: &mut AppletContext<'_>,
        event: &ToolkitEvent<'_>,
    ) -> Result<Vec<u8>, StatusWord> {
        match event {
            ToolkitEvent::MenuSelection { .. } => {
                ctx.proactive_handler()?
                    .select_item("simota demo", &ITEMS)?;
                self.state = State::Choosing;
                Ok(Vec::new())
            }
            ToolkitEvent::TerminalResponse(_) => {
                let (result, item) = {
                    let r = ctx.proactive_response()?;
                    (r.general_result(), r.item_identifier())
                };
                if self.state == State::Asking {
                    self.state = State::Idle;
                    let text = ctx.proactive_response()?.text().unwrap_or_default();
                    return Ok(match result {
                        GeneralResult::Success => text.into_bytes(),
                        other => vec![0xFF, u8::from(other)],
                    });
                }
                match (self.state, result) {
                    (State::Choosing, GeneralResult::Success) => {
                        let text = item
                            .and_then(|i| ITEMS.get(usize::from(i).wrapping_sub(1)))
                            .map(|t| format!("You chose: {t}"))
                            .unwrap_or_else(|| "Unknown item".into());
                        ctx.proactive_handler()?.display_text(&text, true)?;
                        self.state = State::Showing;
                    }
                    _ => self.state = State::Idle,
                }
                Ok(Vec::new())
            }
            ToolkitEvent::SecuredData([0xF0, prompt @ ..]) => {
                let prompt = String::from_utf8_lossy(prompt).into_owned();
                ctx.proactive_handler()?
                    .get_input(&prompt, false, false, 1, 20)?;
                self.state = State::Asking;
                Ok(Vec::new())
            }
            ToolkitEvent::SecuredData(d) => Ok(d.iter().rev().copied().collect()),
            _ => Ok(Vec::new()),
        }
    }
}
