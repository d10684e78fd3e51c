//! Command APDUs per ISO/IEC 7816-4 §5.1: cases 1–4, short and extended length fields.

use crate::class::Class;
use thiserror::Error;

/// The four ISO 7816-4 command cases (§5.1, table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApduCase {
    /// No command data, no response data expected.
    Case1,
    /// No command data, response data expected (Le present).
    Case2,
    /// Command data (Lc present), no response data expected.
    Case3,
    /// Command data and response data expected.
    Case4,
}

/// Why bytes are not a well-formed C-APDU; each variant names the field and its offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    /// Fewer than the 4 header bytes CLA INS P1 P2.
    #[error("offset {len}: APDU header needs 4 bytes (CLA INS P1 P2), got {len}")]
    TooShort { len: usize },
    /// The short Lc does not match the number of bytes that follow.
    #[error("offset 4: Lc says {lc} data bytes but {available} bytes follow the Lc (expected {lc} or {lc}+1 with Le)")]
    LcMismatch { lc: usize, available: usize },
    /// The extended Lc does not match the number of bytes that follow.
    #[error("offset 5: extended Lc says {lc} data bytes but {available} bytes follow it (expected {lc} or {lc}+2 with Le)")]
    ExtendedLcMismatch { lc: usize, available: usize },
    /// An extended-length marker `00` at offset 4 with too few bytes after it.
    #[error("offset {offset}: extended length field truncated (00 at offset 4 needs 2 more length bytes)")]
    ExtendedTruncated { offset: usize },
    /// An extended Lc of zero (ISO 7816-4 forbids it; the field must be absent instead).
    #[error("offset 5: extended Lc is 0000 but is followed by {trailing} bytes (Le in a bad place)")]
    ExtendedLcZero { trailing: usize },
    /// Data of this size cannot be emitted in the chosen length form.
    #[error("data field of {len} bytes exceeds the {form} limit of {max}")]
    DataTooLong { len: usize, form: &'static str, max: usize },
    /// An Le value cannot be encoded in the chosen form.
    #[error("Le {ne} not encodable in {form} form (1..={max})")]
    BadLe { ne: u32, form: &'static str, max: u32 },
}

/// A parsed command APDU (ISO/IEC 7816-4 §5.1).
///
/// `le` holds Ne, the maximum number of response bytes expected: short Le `00` means 256,
/// extended Le `0000` means 65536. `extended` records which length form was (or will be) used,
/// so [`CommandApdu::emit`] reproduces the input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommandApdu {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Nc = `data.len()` bytes).
    pub data: Vec<u8>,
    /// Ne, if an Le field is present.
    pub le: Option<u32>,
    /// Whether the length fields use the extended (3-byte Lc / 2–3-byte Le) form.
    pub extended: bool,
}

impl CommandApdu {
    /// A short-form APDU (the common case): extended is chosen automatically only when the
    /// data exceeds 255 bytes or Ne exceeds 256.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: impl Into<Vec<u8>>, le: Option<u32>) -> Self {
        let data = data.into();
        let extended = data.len() > 255 || le.is_some_and(|n| n > 256);
        CommandApdu { cla, ins, p1, p2, data, le, extended }
    }

    /// Parse a C-APDU from bytes (ISO/IEC 7816-4 §5.1 decoding rules).
    pub fn parse(b: &[u8]) -> Result<Self, ApduError> {
        if b.len() < 4 {
            return Err(ApduError::TooShort { len: b.len() });
        }
        let (cla, ins, p1, p2) = (b[0], b[1], b[2], b[3]);
        let mk = |data: &[u8], le: Option<u32>, extended: bool| CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data: data.to_vec(),
            le,
            extended,
        };
        let body = &b[4..];
        match body.len() {
            0 => Ok(mk(&[], None, false)),
            1 => Ok(mk(&[], Some(short_ne(body[0])), false)),
            _ if body[0] != 0 => {
                let lc = body[0] as usize;
                let rest = &body[1..];
                if rest.len() == lc {
                    Ok(mk(rest, None, false))
                } else if rest.len() == lc + 1 {
                    Ok(mk(&rest[..lc], Some(short_ne(rest[lc])), false))
                } else {
                    Err(ApduError::LcMismatch { lc, available: rest.len() })
                }
            }
            2 => Err(ApduError::ExtendedTruncated { offset: 6 }),
            3 => Ok(mk(&[], Some(ext_ne(body[1], body[2])), true)),
            _ => {
                let lc = u16::from_be_bytes([body[1], body[2]]) as usize;
                let rest = &body[3..];
                if lc == 0 {
                    return Err(ApduError::ExtendedLcZero { trailing: rest.len() });
                }
                if rest.len() == lc {
                    Ok(mk(rest, None, true))
                } else if rest.len() == lc + 2 {
                    Ok(mk(&rest[..lc], Some(ext_ne(rest[lc], rest[lc + 1])), true))
                } else {
                    Err(ApduError::ExtendedLcMismatch { lc, available: rest.len() })
                }
            }
        }
    }

    /// The ISO 7816-4 case of this command.
    pub fn case(&self) -> ApduCase {
        match (self.data.is_empty(), self.le.is_some()) {
            (true, false) => ApduCase::Case1,
            (true, true) => ApduCase::Case2,
            (false, false) => ApduCase::Case3,
            (false, true) => ApduCase::Case4,
        }
    }

    /// The decoded class byte (TS 102 221 §10.1.1).
    pub fn class(&self) -> Class {
        Class::decode(self.cla)
    }

    /// Number of bytes [`CommandApdu::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        let lc = match (self.data.is_empty(), self.extended) {
            (true, _) => 0,
            (false, false) => 1,
            (false, true) => 3,
        };
        let le = match (self.le, self.extended) {
            (None, _) => 0,
            (Some(_), false) => 1,
            (Some(_), true) if self.data.is_empty() => 3,
            (Some(_), true) => 2,
        };
        4 + lc + self.data.len() + le
    }

    /// Check that the length fields can be encoded in the chosen form.
    pub fn check(&self) -> Result<(), ApduError> {
        let (max_data, max_ne, form) = if self.extended {
            (65535, 65536, "extended")
        } else {
            (255, 256, "short")
        };
        if self.data.len() > max_data {
            return Err(ApduError::DataTooLong { len: self.data.len(), form, max: max_data });
        }
        if let Some(ne) = self.le {
            if ne == 0 || ne > max_ne {
                return Err(ApduError::BadLe { ne, form, max: max_ne });
            }
        }
        Ok(())
    }

    /// Append the wire encoding to `out`. Fails only when a field cannot be encoded.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<(), ApduError> {
        self.check()?;
        out.reserve(self.buffer_len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if self.extended {
            if !self.data.is_empty() {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            } else if self.le.is_some() {
                out.push(0);
            }
            if let Some(ne) = self.le {
                out.extend_from_slice(&((ne & 0xFFFF) as u16).to_be_bytes());
            }
        } else {
            if !self.data.is_empty() {
                out.push(self.data.len() as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(ne) = self.le {
                out.push((ne & 0xFF) as u8);
            }
        }
        Ok(())
    }

    /// The wire encoding as a new vector.
    pub fn emit(&self) -> Result<Vec<u8>, ApduError> {
        let mut v = Vec::with_capacity(self.buffer_len());
        self.emit_into(&mut v)?;
        Ok(v)
    }

    /// Ne as a count, 0 when no Le is present.
    pub fn ne(&self) -> usize {
        self.le.unwrap_or(0) as usize
    }
}

fn short_ne(b: u8) -> u32 {
    if b == 0 {
        256
    } else {
        b as u32
    }
}

fn ext_ne(hi: u8, lo: u8) -> u32 {
    match u16::from_be_bytes([hi, lo]) {
        0 => 65536,
        n => n as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt(b: &[u8]) -> CommandApdu {
        let c = CommandApdu::parse(b).unwrap();
        assert_eq!(c.emit().unwrap(), b, "round trip of {b:02X?}");
        c
    }

    #[test]
    fn cases_short() {
        assert_eq!(rt(&[0, 0x70, 0, 0]).case(), ApduCase::Case1);
        let c = rt(&[0, 0xB0, 0, 0, 0]);
        assert_eq!((c.case(), c.le), (ApduCase::Case2, Some(256)));
        let c = rt(&[0, 0xA4, 0, 4, 2, 0x3F, 0]);
        assert_eq!((c.case(), c.data.as_slice()), (ApduCase::Case3, &[0x3F, 0][..]));
        let c = rt(&[0, 0xA4, 0, 4, 2, 0x3F, 0, 0x1C]);
        assert_eq!((c.case(), c.le), (ApduCase::Case4, Some(0x1C)));
    }

    #[test]
    fn cases_extended() {
        let c = rt(&[0, 0xB0, 0, 0, 0, 0x01, 0x00]);
        assert_eq!((c.case(), c.le, c.extended), (ApduCase::Case2, Some(256), true));
        let c = rt(&[0, 0xB0, 0, 0, 0, 0, 0]);
        assert_eq!(c.le, Some(65536));
        let c = rt(&[0, 0xD6, 0, 0, 0, 0, 2, 0xAA, 0xBB]);
        assert_eq!((c.case(), c.extended), (ApduCase::Case3, true));
        let c = rt(&[0, 0xD6, 0, 0, 0, 0, 1, 0xAA, 0x01, 0x00]);
        assert_eq!((c.case(), c.le), (ApduCase::Case4, Some(256)));
    }

    #[test]
    fn errors() {
        assert_eq!(CommandApdu::parse(&[]), Err(ApduError::TooShort { len: 0 }));
        assert_eq!(CommandApdu::parse(&[0, 0xA4, 0]), Err(ApduError::TooShort { len: 3 }));
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 2, 0x3F]),
            Err(ApduError::LcMismatch { lc: 2, available: 1 })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 2, 0x3F, 0, 1, 2]),
            Err(ApduError::LcMismatch { lc: 2, available: 4 })
        );
        assert_eq!(CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 1]), Err(ApduError::ExtendedTruncated { offset: 6 }));
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 0, 0, 1]),
            Err(ApduError::ExtendedLcZero { trailing: 1 })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 0, 3, 1]),
            Err(ApduError::ExtendedLcMismatch { lc: 3, available: 1 })
        );
    }

    #[test]
    fn emit_checks_limits() {
        let c = CommandApdu { extended: false, ..CommandApdu::new(0, 0xD6, 0, 0, vec![0; 300], None) };
        assert!(matches!(c.emit(), Err(ApduError::DataTooLong { .. })));
        assert!(CommandApdu::new(0, 0xD6, 0, 0, vec![0; 300], None).emit().is_ok());
    }

    fn arb_apdu() -> impl Strategy<Value = CommandApdu> {
        (any::<[u8; 4]>(), any::<bool>(), any::<bool>(), 0usize..300, any::<u8>(), 1u32..=65536).prop_map(
            |(h, ext, has_le, n, fill, ne)| {
                let extended = (ext || n > 255) && (n > 0 || has_le);
                let le = has_le.then_some(if extended { ne } else { ne % 256 + 1 });
                CommandApdu { cla: h[0], ins: h[1], p1: h[2], p2: h[3], data: vec![fill; n], le, extended }
            },
        )
    }

    proptest! {
        #[test]
        fn parse_emit_roundtrip(a in arb_apdu()) {
            let bytes = a.emit().unwrap();
            prop_assert_eq!(bytes.len(), a.buffer_len());
            prop_assert_eq!(CommandApdu::parse(&bytes).unwrap(), a);
        }

        #[test]
        fn emit_parse_is_identity(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(c) = CommandApdu::parse(&b) {
                prop_assert_eq!(c.emit().unwrap(), b);
            }
        }
    }
}
