//! User Data Header (TS 23.040 §9.2.3.24): `UDHL {IEI IEDL data}…`. IEs are kept in order
//! and unknown IEIs round-trip.

use crate::error::{byte, take, OtaError, Result};

/// Concatenated short message, 8-bit reference (§9.2.3.24.1).
pub const IEI_CONCAT_8: u8 = 0x00;
/// Concatenated short message, 16-bit reference (§9.2.3.24.8).
pub const IEI_CONCAT_16: u8 = 0x08;
/// (U)SIM toolkit security header: command packet (CPI, TS 31.115 §4.2).
pub const IEI_COMMAND_PACKET: u8 = 0x70;
/// (U)SIM toolkit security header: response packet (RPI, TS 31.115 §4.4).
pub const IEI_RESPONSE_PACKET: u8 = 0x71;

/// One information element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InformationElement {
    /// Information Element Identifier.
    pub iei: u8,
    /// IE data (IEDL bytes).
    pub data: Vec<u8>,
}

impl InformationElement {
    /// An IE.
    pub fn new(iei: u8, data: impl Into<Vec<u8>>) -> Self {
        InformationElement {
            iei,
            data: data.into(),
        }
    }
    /// Encoded size (2 + data).
    pub fn buffer_len(&self) -> usize {
        2 + self.data.len()
    }
}

/// A User Data Header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Udh {
    /// The IEs in order.
    pub ies: Vec<InformationElement>,
}

impl Udh {
    /// Parse the UDH at the start of `ud`; returns it and the number of bytes it takes
    /// (UDHL + 1). The data after it is the rest of the user data.
    pub fn parse(ud: &[u8]) -> Result<(Udh, usize)> {
        let udhl = usize::from(byte(ud, 0, "UDHL")?);
        let body = take(ud, 1, udhl, "UDH").map_err(|_| OtaError::LengthMismatch {
            field: "UDHL",
            offset: 0,
            value: udhl,
            says: udhl,
            actual: ud.len().saturating_sub(1),
        })?;
        let mut ies = Vec::new();
        let mut at = 0;
        while at < body.len() {
            let iei = byte(body, at, "IEI")?;
            let len = usize::from(byte(body, at + 1, "IEDL").map_err(|_| OtaError::Malformed {
                field: "UDH",
                offset: 1 + at,
                reason: format!("IE {iei:02X} has no length byte"),
            })?);
            let data = take(body, at + 2, len, "IE data").map_err(|_| OtaError::Malformed {
                field: "UDH",
                offset: 1 + at,
                reason: format!(
                    "IE {iei:02X} length {len} runs past the UDH end ({} byte(s) left)",
                    body.len().saturating_sub(at + 2)
                ),
            })?;
            ies.push(InformationElement {
                iei,
                data: data.to_vec(),
            });
            at += 2 + len;
        }
        Ok((Udh { ies }, 1 + udhl))
    }

    /// UDHL value (bytes of IEs).
    pub fn udhl(&self) -> usize {
        self.ies.iter().map(|ie| ie.buffer_len()).sum()
    }

    /// Encoded size including UDHL.
    pub fn buffer_len(&self) -> usize {
        1 + self.udhl()
    }

    /// Append the encoding; fails if the UDH exceeds 255 bytes or an IE exceeds 255.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<()> {
        let udhl = u8::try_from(self.udhl()).map_err(|_| OtaError::InvalidValue {
            field: "UDH",
            reason: format!("{} bytes of IEs exceed 255", self.udhl()),
        })?;
        out.push(udhl);
        for ie in &self.ies {
            let l = u8::try_from(ie.data.len()).map_err(|_| OtaError::InvalidValue {
                field: "UDH",
                reason: format!(
                    "IE {:02X} data of {} bytes exceeds 255",
                    ie.iei,
                    ie.data.len()
                ),
            })?;
            out.push(ie.iei);
            out.push(l);
            out.extend_from_slice(&ie.data);
        }
        Ok(())
    }

    /// The encoding.
    pub fn emit(&self) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(self.buffer_len());
        self.emit_into(&mut v)?;
        Ok(v)
    }

    /// The first IE with this IEI.
    pub fn find(&self, iei: u8) -> Option<&InformationElement> {
        self.ies.iter().find(|ie| ie.iei == iei)
    }
}
