//! GSMTAP records for SIM traffic (libosmocore `gsmtap.h`; interop notes §7): a 16-byte header
//! (version 2, length 4 words, type 4 = SIM, sub-type 0 = APDU or 1 = ATR) followed by a
//! T=0-style TPDU record `CLA INS P1 P2 P3 [data] SW1 SW2`.
//!
//! A case-4 exchange answered in one go (T=1 style) is written T=0 style as two records: the
//! command with `61xx`, then `00 C0 00 00 xx` with the data and the real SW (option (b) of
//! the interop notes), which is what Wireshark decodes best.

use crate::{Exchange, ExchangeKind};

/// UDP port of GSMTAP (IANA "gsmtap").
pub const GSMTAP_PORT: u16 = 4729;
/// GSMTAP version 2.
pub const GSMTAP_VERSION: u8 = 0x02;
/// `GSMTAP_TYPE_SIM`.
pub const GSMTAP_TYPE_SIM: u8 = 0x04;
/// `GSMTAP_SIM_APDU` sub-type: a complete APDU.
pub const GSMTAP_SIM_APDU: u8 = 0x00;
/// `GSMTAP_SIM_ATR` sub-type.
pub const GSMTAP_SIM_ATR: u8 = 0x01;

/// The 16-byte GSMTAP header for a SIM record of `sub_type`.
pub fn header(sub_type: u8) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0] = GSMTAP_VERSION;
    h[1] = 4;
    h[2] = GSMTAP_TYPE_SIM;
    h[12] = sub_type;
    h
}

/// Why an exchange could not be written as GSMTAP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GsmtapError {
    /// Extended-length APDUs do not fit a one-byte P3.
    #[error("extended-length APDU ({0} bytes) cannot be represented in a T=0 GSMTAP record")]
    Extended(usize),
    /// Not a well-formed APDU (or the response lacks a status word).
    #[error("malformed exchange: {0}")]
    Malformed(String),
    /// The transport failed; nothing to write.
    #[error("failed exchange: {0}")]
    Failed(String),
}

/// One GSMTAP payload (header included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Header + body.
    pub bytes: Vec<u8>,
}

fn record(sub_type: u8, body: &[&[u8]]) -> Record {
    let mut bytes = header(sub_type).to_vec();
    for b in body {
        bytes.extend_from_slice(b);
    }
    Record { bytes }
}

/// Turn one exchange into GSMTAP records (T=0 style; see the module doc).
pub fn records(x: &Exchange) -> Result<Vec<Record>, GsmtapError> {
    if let Some(e) = &x.error {
        return Err(GsmtapError::Failed(e.clone()));
    }
    if let ExchangeKind::Reset(_) = x.kind {
        return Ok(vec![record(GSMTAP_SIM_ATR, &[&x.response])]);
    }
    let c =
        apdu::CommandApdu::parse(&x.command).map_err(|e| GsmtapError::Malformed(e.to_string()))?;
    if c.extended {
        return Err(GsmtapError::Extended(x.command.len()));
    }
    let n = x.response.len();
    if n < 2 {
        return Err(GsmtapError::Malformed(format!(
            "R-APDU of {n} byte(s) has no SW1 SW2"
        )));
    }
    let (rdata, sw) = x.response.split_at(n - 2);
    let hdr = &x.command[..4];
    match (c.data.is_empty(), c.le) {
        // Case 1: P3 = 00.
        (true, None) => Ok(vec![record(GSMTAP_SIM_APDU, &[hdr, &[0], rdata, sw])]),
        // Case 2: P3 = Le. When the card sent fewer bytes than Le (a refusal such as 6Cxx or
        // 6A82 straight after the header, or a short T=1 answer), P3 is the number of bytes
        // that did cross, because dissectors read P3 response bytes (the exact command stays
        // in the transcript and JSON).
        (true, Some(ne)) => {
            let p3 = if rdata.len() < ne as usize {
                rdata.len() as u8
            } else {
                x.command[4]
            };
            Ok(vec![record(GSMTAP_SIM_APDU, &[hdr, &[p3], rdata, sw])])
        }
        // Case 3, or case 4 answered T=0 style already (no data in this response).
        (false, _) if rdata.is_empty() => Ok(vec![record(
            GSMTAP_SIM_APDU,
            &[hdr, &[c.data.len() as u8], &c.data, sw],
        )]),
        // Case 4 answered with data in one go: split into command + GET RESPONSE.
        (false, _) => {
            if rdata.len() > 256 {
                return Err(GsmtapError::Extended(rdata.len()));
            }
            let xx = rdata.len() as u8; // 256 wraps to 00, as Le does
            let gr_cla = crate::t0::get_response_class(c.cla);
            Ok(vec![
                record(
                    GSMTAP_SIM_APDU,
                    &[hdr, &[c.data.len() as u8], &c.data, &[0x61, xx]],
                ),
                record(
                    GSMTAP_SIM_APDU,
                    &[&[gr_cla, 0xC0, 0x00, 0x00, xx], rdata, sw],
                ),
            ])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResetKind;
    use std::time::{Duration, SystemTime};

    fn x(kind: ExchangeKind, c: &[u8], r: &[u8]) -> Exchange {
        Exchange {
            kind,
            command: c.to_vec(),
            response: r.to_vec(),
            error: None,
            at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn header_bytes() {
        assert_eq!(header(0), [2, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(header(1)[12], 1);
    }

    #[test]
    fn cases() {
        let atr = records(&x(ExchangeKind::Reset(ResetKind::Cold), &[], &[0x3B, 0x00])).unwrap();
        assert_eq!(atr[0].bytes[12], 1);
        assert_eq!(&atr[0].bytes[16..], [0x3B, 0x00]);
        let sel = records(&x(
            ExchangeKind::Apdu,
            &[0, 0xA4, 0, 4, 2, 0x3F, 0],
            &[0x61, 0x21],
        ))
        .unwrap();
        assert_eq!(&sel[0].bytes[16..], [0, 0xA4, 0, 4, 2, 0x3F, 0, 0x61, 0x21]);
        let c1 = records(&x(ExchangeKind::Apdu, &[0x80, 0xF2, 0, 0], &[0x90, 0])).unwrap();
        assert_eq!(&c1[0].bytes[16..], [0x80, 0xF2, 0, 0, 0, 0x90, 0]);
        let c2 = records(&x(
            ExchangeKind::Apdu,
            &[0, 0xB0, 0, 0, 2],
            &[1, 2, 0x90, 0],
        ))
        .unwrap();
        assert_eq!(&c2[0].bytes[16..], [0, 0xB0, 0, 0, 2, 1, 2, 0x90, 0]);
        let refused = records(&x(
            ExchangeKind::Apdu,
            &[0, 0xB0, 0, 0, 0x20],
            &[0x6C, 0x0A],
        ))
        .unwrap();
        assert_eq!(&refused[0].bytes[16..], [0, 0xB0, 0, 0, 0, 0x6C, 0x0A]);
        let c4 = records(&x(
            ExchangeKind::Apdu,
            &[0x81, 0xA4, 0, 4, 2, 0x3F, 0, 0],
            &[9, 0x90, 0],
        ))
        .unwrap();
        assert_eq!(c4.len(), 2);
        assert_eq!(&c4[0].bytes[16..], [0x81, 0xA4, 0, 4, 2, 0x3F, 0, 0x61, 1]);
        assert_eq!(&c4[1].bytes[16..], [0x01, 0xC0, 0, 0, 1, 9, 0x90, 0]);
        let ext = x(
            ExchangeKind::Apdu,
            &[0, 0xB0, 0, 0, 0, 0x01, 0x00],
            &[0x90, 0],
        );
        assert!(matches!(records(&ext), Err(GsmtapError::Extended(_))));
        assert!(records(&x(ExchangeKind::Apdu, &[0], &[0x90, 0])).is_err());
    }
}
