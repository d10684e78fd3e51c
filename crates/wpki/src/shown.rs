//! What the user is shown: checks that a dialogue step fits one proactive command and that a
//! text to sign shows exactly what is signed (PROTOCOL.md §5.3, "Texts shown").
//!
//! * Size: the DISPLAY TEXT / GET INPUT / SELECT ITEM command the runtime sends for an
//!   [`Interaction`] (TS 102 223 §6.6.1, §6.6.3, §6.6.8; text coded GSM 8-bit, or UCS2 when a
//!   character is outside the GSM alphabet, TS 102 223 §8.15 / TS 23.038) must be at most
//!   [`MAX_COMMAND_LEN`] bytes in all, `D0` template included, so that it fits one FETCH
//!   response; a UCS2 text also needs a terminal whose TERMINAL PROFILE says "UCS2 display".
//! * Content: a text to sign must not hold characters that change how the rest is shown or
//!   that are not shown at all: bidirectional embeddings/overrides/isolates (U+202A–U+202E,
//!   U+2066–U+2069), zero-width and direction marks (U+200B–U+200F), the byte order mark
//!   (U+FEFF), and C0/C1 control characters (U+0000–U+001F, U+007F–U+009F) other than the
//!   line feed U+000A.
//!
//! The applet checks both when it reads the request, before any dialogue or PIN entry.

use crate::applet::Interaction;
use ota::cat::objects::ResponseLength;
use ota::cat::proactive::{DisplayText, GetInput, SelectItem};
use ota::cat::{AlphaId, Command, Item, ProactiveCommand, TextDcs, TextString};
use thiserror::Error;

/// Longest proactive command (the whole `D0` template) the applet sends.
pub const MAX_COMMAND_LEN: usize = 255;

/// Why a text cannot be shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShownError {
    /// A character that is not shown, or that changes how the text around it is shown.
    #[error(
        "character U+{code:04X} ({name}) at character {index} (byte offset {offset}) is not \
         allowed in a text to sign: what is shown must be what is signed"
    )]
    Forbidden {
        /// The code point.
        code: u32,
        /// What kind of character it is.
        name: &'static str,
        /// Index of the character (from 0).
        index: usize,
        /// Byte offset in the UTF-8 text.
        offset: usize,
    },
    /// The proactive command would be too long.
    #[error(
        "{command} would be {len} bytes ({chars} characters coded {coding}), the limit is {limit} \
         bytes"
    )]
    TooLong {
        /// DISPLAY TEXT, GET INPUT or SELECT ITEM.
        command: &'static str,
        /// Length of the whole command.
        len: usize,
        /// The limit.
        limit: usize,
        /// Characters of the text.
        chars: usize,
        /// `GSM 8-bit` or `UCS2`.
        coding: &'static str,
    },
    /// The text needs UCS2 and the terminal cannot display UCS2.
    #[error("{command} text needs UCS2 and the terminal profile does not offer UCS2 display")]
    NoUcs2 {
        /// DISPLAY TEXT, GET INPUT or SELECT ITEM.
        command: &'static str,
    },
}

/// The class of `c` if it must not appear in a text to sign.
pub fn forbidden_class(c: char) -> Option<&'static str> {
    match u32::from(c) {
        0x0A => None,
        0x00..=0x1F => Some("C0 control character"),
        0x7F..=0x9F => Some("C1 control character"),
        0x200B => Some("zero width space"),
        0x200C | 0x200D => Some("zero width (non-)joiner"),
        0x200E | 0x200F => Some("direction mark"),
        0x202A..=0x202E => Some("bidirectional embedding or override"),
        0x2066..=0x2069 => Some("bidirectional isolate"),
        0xFEFF => Some("zero width no-break space / byte order mark"),
        _ => None,
    }
}

/// Check a text to sign for characters that are invisible or reorder the text around them.
pub fn check_text(text: &str) -> Result<(), ShownError> {
    for (index, (offset, c)) in text.char_indices().enumerate() {
        if let Some(name) = forbidden_class(c) {
            return Err(ShownError::Forbidden {
                code: u32::from(c),
                name,
                index,
                offset,
            });
        }
    }
    Ok(())
}

/// The proactive command the runtime sends for `i` (command number 1), as the emulated UICC's
/// toolkit builds it.
pub fn command_for(i: &Interaction) -> ProactiveCommand {
    match i {
        Interaction::Display { text, confirm } => ProactiveCommand::new(
            1,
            if *confirm { 0x81 } else { 0x00 },
            Command::DisplayText(DisplayText {
                text: TextString::auto(text),
                icon: None,
                immediate_response: false,
                duration: None,
                other: Vec::new(),
            }),
        ),
        Interaction::Input {
            prompt,
            hidden,
            digits,
            min,
            max,
        } => {
            let mut q = 0u8;
            if !digits {
                q |= 0x01;
            }
            if *hidden {
                q |= 0x04;
            }
            ProactiveCommand::new(
                1,
                q,
                Command::GetInput(GetInput {
                    text: TextString::auto(prompt),
                    response_length: ResponseLength {
                        min: *min,
                        max: *max,
                    },
                    default_text: None,
                    icon: None,
                    duration: None,
                    other: Vec::new(),
                }),
            )
        }
        Interaction::Select { title, items } => ProactiveCommand::new(
            1,
            0x00,
            Command::SelectItem(SelectItem {
                alpha: Some(AlphaId::new(title)),
                items: items
                    .iter()
                    .enumerate()
                    .map(|(n, t)| Item::new((n + 1) as u8, t))
                    .collect(),
                next_actions: None,
                default_item: None,
                icon: None,
                other: Vec::new(),
            }),
        ),
    }
}

/// Check that `i` fits one proactive command of at most [`MAX_COMMAND_LEN`] bytes, and that a
/// UCS2 text is only sent to a terminal offering UCS2 display (`ucs2_display`).
pub fn check_interaction(i: &Interaction, ucs2_display: bool) -> Result<(), ShownError> {
    let (command, text) = match i {
        Interaction::Display { text, .. } => ("DISPLAY TEXT", text.as_str()),
        Interaction::Input { prompt, .. } => ("GET INPUT", prompt.as_str()),
        Interaction::Select { title, .. } => ("SELECT ITEM", title.as_str()),
    };
    let ucs2 = matches!(TextString::auto(text).charset(), TextDcs::Ucs2);
    if ucs2 && !ucs2_display && !matches!(i, Interaction::Select { .. }) {
        return Err(ShownError::NoUcs2 { command });
    }
    let len = command_for(i).buffer_len();
    if len > MAX_COMMAND_LEN {
        return Err(ShownError::TooLong {
            command,
            len,
            limit: MAX_COMMAND_LEN,
            chars: text.chars().count(),
            coding: if ucs2 { "UCS2" } else { "GSM 8-bit" },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_named_with_offsets() {
        assert_eq!(check_text("Pay 10 EUR\nto Bob"), Ok(()));
        assert_eq!(check_text("Zahlung über 10 €"), Ok(()));
        let e = check_text("Pay \u{202E}01 RUE").unwrap_err();
        assert_eq!(
            e,
            ShownError::Forbidden {
                code: 0x202E,
                name: "bidirectional embedding or override",
                index: 4,
                offset: 4
            }
        );
        assert!(e.to_string().contains("U+202E"), "{e}");
        for c in [
            '\u{0}', '\u{7}', '\r', '\t', '\u{7F}', '\u{85}', '\u{9F}', '\u{200B}', '\u{200F}',
            '\u{202A}', '\u{2066}', '\u{2069}', '\u{FEFF}',
        ] {
            assert!(check_text(&format!("a{c}b")).is_err(), "U+{:04X}", c as u32);
        }
        for c in ['\u{1F}', '\u{2010}', '\u{2065}', '\u{206A}', '\u{A0}'] {
            let r = check_text(&format!("a{c}b"));
            assert_eq!(r.is_err(), c == '\u{1F}', "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn lengths_match_the_emitted_command() {
        let d = Interaction::Display {
            text: "x".repeat(200),
            confirm: true,
        };
        assert_eq!(command_for(&d).emit().len(), command_for(&d).buffer_len());
        assert!(check_interaction(&d, true).is_ok());
        let d = Interaction::Display {
            text: "я".repeat(180),
            confirm: true,
        };
        let e = check_interaction(&d, true).unwrap_err();
        assert!(
            matches!(e, ShownError::TooLong { len, limit: 255, chars: 180, coding: "UCS2", .. } if len > 360),
            "{e}"
        );
        let d = Interaction::Display {
            text: "я".repeat(10),
            confirm: true,
        };
        assert_eq!(
            check_interaction(&d, false),
            Err(ShownError::NoUcs2 {
                command: "DISPLAY TEXT"
            })
        );
    }
}
