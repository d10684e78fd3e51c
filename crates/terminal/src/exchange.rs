//! One C-APDU to the card, with T=0 procedure bytes hidden (ISO 7816-4 §5.3, TS 102 221
//! §7.3.1.1.4): `61xx`/`9Fxx` → GET RESPONSE, `6Cxx` → re-issue, via `transport::T0Adapter`.

use crate::TerminalError;
use apdu::CommandApdu;
use transport::{split_response, T0Adapter, Transport};

/// Response data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resp {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Resp {
    pub fn sw1(&self) -> u8 {
        (self.sw >> 8) as u8
    }
}

/// Send `apdu` and collect the whole answer.
pub(crate) fn send(
    card: &mut dyn Transport,
    apdu: &CommandApdu,
    what: &'static str,
) -> Result<Resp, TerminalError> {
    let bytes = apdu.emit().map_err(|e| TerminalError::Encode {
        what,
        reason: e.to_string(),
    })?;
    send_raw(card, &bytes)
}

/// Send raw C-APDU bytes.
pub(crate) fn send_raw(card: &mut dyn Transport, bytes: &[u8]) -> Result<Resp, TerminalError> {
    let mut t0 = T0Adapter::new(&mut *card);
    let r = t0.transmit(bytes)?;
    let (d, sw) = split_response(&r)?;
    Ok(Resp {
        data: d.to_vec(),
        sw,
    })
}

/// GET RESPONSE `cla C0 00 00 le` (`le` 0 = 256).
pub(crate) fn get_response(
    card: &mut dyn Transport,
    cla: u8,
    le: u8,
) -> Result<Resp, TerminalError> {
    send_raw(card, &[cla, 0xC0, 0x00, 0x00, le])
}

/// Human meaning of a status word.
pub(crate) fn meaning(sw: u16) -> String {
    apdu::StatusWord(sw).meaning()
}
