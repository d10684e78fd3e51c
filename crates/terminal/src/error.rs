//! Errors of the terminal simulator.

use ota::cat::CatError;
use ota::OtaError;
use thiserror::Error;
use transport::TransportError;

/// Why a terminal operation failed. Card answers that are merely unwelcome (an error SW, a
/// busy toolkit) are reported in the outcome, not as errors.
#[derive(Debug, Error)]
pub enum TerminalError {
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// A C-APDU could not be encoded (e.g. data over 255 bytes).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// The command.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// CAT data from the card could not be decoded and no TERMINAL RESPONSE could be built.
    #[error("CAT: {0}")]
    Cat(#[from] CatError),
    /// OTA packet building or PoR decoding failed.
    #[error("OTA: {0}")]
    Ota(#[from] OtaError),
    /// The card answered a CAT command with a status the protocol does not allow here.
    #[error("{command}: card answered {sw:04X} ({meaning})")]
    Status {
        /// The command sent.
        command: &'static str,
        /// The status word.
        sw: u16,
        /// Its meaning.
        meaning: String,
    },
    /// The card kept issuing proactive commands beyond the configured limit.
    #[error("proactive session did not end after {0} commands")]
    RunawaySession(usize),
    /// No menu item with this identifier (no SET UP MENU, or not in it).
    #[error("menu item {0} is not in the current SET UP MENU")]
    NoSuchMenuItem(u8),
    /// A bad argument from the caller.
    #[error("{0}")]
    Usage(String),
}
