//! The seam to the terminal (ME/CAT side): script directives that need a phone, not just a
//! reader, are handed to a [`Toolkit`] implementation (the terminal crate provides one).

use crate::ast::UserAnswer;
use thiserror::Error;
use transport::Transport;

/// A terminal directive with its variables expanded, ready to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolkitCommand {
    /// TERMINAL PROFILE with these bytes (TS 102 223 §5.2).
    TerminalProfile(Vec<u8>),
    /// Queue a user answer for a later proactive command.
    User(UserAnswer),
    /// FETCH / TERMINAL RESPONSE until the card has nothing pending (`91xx` no more).
    FetchAll,
    /// SMS-PP data download of an OTA message (TS 102 225, TS 31.115).
    SmsPp {
        /// Keyset name or number.
        keyset: String,
        /// The TAR (3 bytes).
        tar: Vec<u8>,
        /// The application data to secure and send.
        data: Vec<u8>,
        /// SPI override.
        spi: Option<[u8; 2]>,
        /// Other options (`kic=…`, `kid=…`, `cntr=…`).
        options: Vec<(String, String)>,
    },
    /// MENU SELECTION envelope for this item (TS 102 223 §7.2).
    Menu(u8),
}

/// A proof of receipt returned for an SMS-PP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Por {
    /// Response status code (TS 102 225 table 5.5).
    pub status: u8,
    /// Additional response data (e.g. the RFM/RAM results).
    pub data: Vec<u8>,
}

/// What a directive did, for the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolkitOutcome {
    /// The PoR, for `sms-pp`.
    pub por: Option<Por>,
    /// Human-readable lines (proactive commands seen, answers given).
    pub notes: Vec<String>,
}

/// A directive that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ToolkitError(pub String);

/// The terminal side that executes CAT/OTA directives over the same card connection.
///
/// Every APDU it sends must go through `card`, so it is recorded in transcripts and traces.
pub trait Toolkit {
    /// Execute one directive.
    fn execute(
        &mut self,
        card: &mut dyn Transport,
        cmd: &ToolkitCommand,
    ) -> Result<ToolkitOutcome, ToolkitError>;
}
