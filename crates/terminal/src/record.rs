//! What the terminal saw and did: texts shown to the user, proactive exchanges, MO short
//! messages.

use crate::smspp::PorReport;
use ota::cat::{CommandType, ProactiveCommand, TerminalResponse};
use ota::sms::SmsSubmit;

/// The part of the screen a shown text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownRole {
    /// DISPLAY TEXT text.
    Text,
    /// GET INKEY / GET INPUT prompt.
    Prompt,
    /// GET INPUT default text offered for editing.
    DefaultText,
    /// SET UP MENU / SELECT ITEM title.
    Title,
    /// A menu or selection item, with its identifier.
    Item(u8),
    /// Any other alpha identifier (PLAY TONE, SEND SHORT MESSAGE, REFRESH).
    Alpha,
}

/// One text the user was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// Command number of the proactive command that showed it.
    pub number: u8,
    /// Its type.
    pub command: CommandType,
    /// Where it appeared.
    pub role: ShownRole,
    /// The text, decoded.
    pub text: String,
}

/// One proactive command and the terminal's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProactiveExchange {
    /// The raw `D0` bytes fetched.
    pub raw: Vec<u8>,
    /// The decoded command (`None` if it could not be decoded).
    pub command: Option<ProactiveCommand>,
    /// The TERMINAL RESPONSE sent.
    pub response: TerminalResponse,
    /// The status word the card gave to the TERMINAL RESPONSE.
    pub sw: u16,
    /// Remarks (answer used, defaults taken, decode problems).
    pub notes: Vec<String>,
}

/// A mobile-originated short message the card asked the terminal to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoSms {
    /// Command number of the SEND SHORT MESSAGE.
    pub number: u8,
    /// Alpha identifier shown while sending, if any.
    pub alpha: Option<String>,
    /// RP destination (service centre) address digits, if given.
    pub sc_address: Option<String>,
    /// The SMS TPDU as sent by the card.
    pub tpdu: Vec<u8>,
    /// The TPDU decoded as SMS-SUBMIT (TS 23.040 §9.2.2.2), or why it could not be.
    pub submit: Result<SmsSubmit, String>,
    /// A proof of receipt carried in it (UDH IE `71`), decoded when the terminal knew the
    /// keyset (during [`crate::Terminal::deliver_sms_pp`]); for a concatenated PoR, on the
    /// message that completed it.
    pub por: Option<PorReport>,
}
