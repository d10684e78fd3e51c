//! `transport`: how the host side reaches a card.
//!
//! * [`Transport`]: the one trait every card connection implements — transmit raw C-APDU bytes
//!   and get raw R-APDU bytes, reset and get the ATR, and a name for reports.
//! * [`T0Adapter`]: ISO/IEC 7816-3 §12.2 / ISO 7816-4 §5.3 case handling over T=0 — follows
//!   `61xx` with GET RESPONSE and `6Cxx` with a re-issue carrying the right Le, so callers see
//!   ISO case-4 semantics from any card.
//! * [`Recorder`]: a tap that logs every exchange with its timing (transcripts, pcap).

pub mod emulator;
pub mod gsmtap;
pub mod pcap;
#[cfg(feature = "pcsc")]
pub mod pcsc;
pub mod readers;
pub mod record;
pub mod t0;
pub mod vpcd;

pub use emulator::Emulator;
pub use record::{Exchange, ExchangeKind, Recorder};
pub use t0::T0Adapter;

use thiserror::Error;

/// What can go wrong talking to a card.
#[derive(Debug, Error)]
pub enum TransportError {
    /// The card was removed or powered off underneath us.
    #[error("card removed or not present: {0}")]
    CardRemoved(String),
    /// The reader disappeared.
    #[error("reader gone: {0}")]
    ReaderGone(String),
    /// A `--reader NAME|INDEX` that names none of the readers present (index out of range, no
    /// match, several matches): not a reader that went away. Lists the readers there are.
    #[error(
        "no such reader {spec:?}: {why}; readers present: {}",
        readers::list_text(readers)
    )]
    NoSuchReader {
        /// The name, part of a name or index asked for.
        spec: String,
        /// Why it names no single reader.
        why: String,
        /// The readers PC/SC lists, in order.
        readers: Vec<String>,
    },
    /// The card did not answer in time.
    #[error("timeout after {0} ms waiting for the card")]
    Timeout(u64),
    /// The card's answer broke the protocol (for example fewer than 2 bytes).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// An I/O or driver error.
    #[error("I/O error: {0}")]
    Io(String),
    /// The command could not be encoded or sent (bad C-APDU bytes).
    #[error("bad command: {0}")]
    BadCommand(String),
}

/// Reset kinds (ISO/IEC 7816-3 §6.2): cold (power cycle) or warm (RST only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetKind {
    /// Power off and on again.
    Cold,
    /// Reset line only; volatile state is cleared all the same on a UICC.
    Warm,
}

/// A connection to one card: the APDU seam of the architecture.
pub trait Transport {
    /// Send one C-APDU (raw bytes) and return the R-APDU (data ‖ SW1 ‖ SW2).
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// Reset the card and return its ATR.
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError>;
    /// The ATR last seen (after connect or the last reset).
    fn atr(&self) -> Vec<u8>;
    /// A reader or card name for reports.
    fn name(&self) -> String;

    /// Send a typed C-APDU and parse the answer (ISO/IEC 7816-4 §5.1): encoding failures are
    /// [`TransportError::BadCommand`], answers without SW1 SW2 [`TransportError::Protocol`].
    fn exchange(
        &mut self,
        command: &apdu::CommandApdu,
    ) -> Result<apdu::ResponseApdu, TransportError> {
        let bytes = command
            .emit()
            .map_err(|e| TransportError::BadCommand(e.to_string()))?;
        let r = self.transmit(&bytes)?;
        apdu::ResponseApdu::parse(&r).map_err(|e| TransportError::Protocol(e.to_string()))
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(capdu)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        (**self).reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        (**self).atr()
    }
    fn name(&self) -> String {
        (**self).name()
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(capdu)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        (**self).reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        (**self).atr()
    }
    fn name(&self) -> String {
        (**self).name()
    }
}

/// Split raw R-APDU bytes into data and SW, failing with a protocol error when the card sent
/// fewer than two bytes.
pub fn split_response(r: &[u8]) -> Result<(&[u8], u16), TransportError> {
    if r.len() < 2 {
        return Err(TransportError::Protocol(format!(
            "R-APDU of {} byte(s) has no SW1 SW2",
            r.len()
        )));
    }
    let (d, sw) = r.split_at(r.len() - 2);
    Ok((d, u16::from_be_bytes([sw[0], sw[1]])))
}
