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

/// Why bytes are not a well-formed C-APDU (ISO/IEC 7816-4 §5.1); each variant names the field
/// and the byte offset where the problem sits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    /// Fewer than the 4 header bytes CLA INS P1 P2 (or no bytes at all).
    #[error("offset {len}: APDU truncated, header needs 4 bytes (CLA INS P1 P2) but got {len}")]
    TooShort {
        /// Number of bytes given.
        len: usize,
    },
    /// The short Lc (offset 4) does not match the number of bytes that follow.
    #[error("{}", lc_message(4, "Lc", *lc, *available, 1))]
    LcMismatch {
        /// The Lc value.
        lc: usize,
        /// Bytes after the Lc byte.
        available: usize,
    },
    /// The extended Lc (offsets 4–6) does not match the number of bytes that follow.
    #[error("{}", lc_message(5, "extended Lc", *lc, *available, 2))]
    ExtendedLcMismatch {
        /// The extended Lc value.
        lc: usize,
        /// Bytes after the 3-byte extended Lc field.
        available: usize,
    },
    /// An extended-length marker `00` at offset 4 with too few bytes after it.
    #[error(
        "offset {offset}: APDU truncated, extended length field (00 at offset 4) needs 2 more \
         length bytes"
    )]
    ExtendedTruncated {
        /// Offset of the first missing byte.
        offset: usize,
    },
    /// An extended Lc of zero (ISO 7816-4 forbids it; the field must be absent instead).
    #[error(
        "offset 5: extended Lc is 0000 but is followed by {trailing} byte(s) (Le in a bad place)"
    )]
    ExtendedLcZero {
        /// Bytes after the zero extended Lc.
        trailing: usize,
    },
    /// Data of this size cannot be emitted in the chosen length form.
    #[error("data field of {len} bytes exceeds the {form} limit of {max}")]
    DataTooLong {
        /// Nc.
        len: usize,
        /// "short" or "extended".
        form: &'static str,
        /// The limit of that form.
        max: usize,
    },
    /// An Le value cannot be encoded in the chosen form.
    #[error("Le {ne} not encodable in {form} form (1..={max})")]
    BadLe {
        /// The requested Ne.
        ne: u32,
        /// "short" or "extended".
        form: &'static str,
        /// The limit of that form.
        max: u32,
    },
}

/// The message of an Lc that disagrees with the bytes after it: truncated data names the
/// offset of the first missing byte, surplus data the offset of the first extra byte.
fn lc_message(at: usize, field: &str, lc: usize, available: usize, le_len: usize) -> String {
    let data_start = if le_len == 1 { 5 } else { 7 };
    if available < lc {
        format!(
            "offset {}: APDU truncated: {field} = {lc} (at offset {at}) announces {lc} data \
             bytes but only {available} follow",
            data_start + available
        )
    } else {
        format!(
            "offset {}: {field} = {lc} (at offset {at}) announces {lc} data bytes but {available} \
             follow; expected {lc}, or {} with Le ({} unexpected byte(s))",
            data_start + lc + le_len,
            lc + le_len,
            available - lc - le_len.min(available - lc),
        )
    }
}

/// A C-APDU parsed without copying: the data field borrows the input (ISO/IEC 7816-4 §5.1).
///
/// Same fields and meaning as [`CommandApdu`]; use it on hot paths (the emulator's dispatch,
/// benchmarks) and call [`CommandApduRef::to_owned`] when the bytes must outlive the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandApduRef<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Nc bytes).
    pub data: &'a [u8],
    /// Ne, if an Le field is present (short `00` = 256, extended `0000` = 65536).
    pub le: Option<u32>,
    /// Whether the length fields use the extended form.
    pub extended: bool,
}

impl<'a> CommandApduRef<'a> {
    /// Parse a C-APDU from bytes (ISO/IEC 7816-4 §5.1 decoding rules) without copying.
    #[inline]
    pub fn parse(b: &'a [u8]) -> Result<Self, ApduError> {
        let (header, body) = match b {
            [cla, ins, p1, p2, body @ ..] => ([*cla, *ins, *p1, *p2], body),
            _ => return Err(ApduError::TooShort { len: b.len() }),
        };
        let [cla, ins, p1, p2] = header;
        let mk = |data: &'a [u8], le: Option<u32>, extended: bool| CommandApduRef {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
            extended,
        };
        match body {
            [] => Ok(mk(&[], None, false)),
            [le] => Ok(mk(&[], Some(short_ne(*le)), false)),
            [0, _] => Err(ApduError::ExtendedTruncated { offset: 6 }),
            [0, hi, lo] => Ok(mk(&[], Some(ext_ne(*hi, *lo)), true)),
            [0, hi, lo, rest @ ..] => {
                let lc = u16::from_be_bytes([*hi, *lo]) as usize;
                if lc == 0 {
                    return Err(ApduError::ExtendedLcZero {
                        trailing: rest.len(),
                    });
                }
                if rest.len() == lc {
                    Ok(mk(rest, None, true))
                } else if rest.len() == lc + 2 {
                    let (data, le) = rest.split_at(lc);
                    match le {
                        [hi, lo] => Ok(mk(data, Some(ext_ne(*hi, *lo)), true)),
                        _ => Err(ApduError::ExtendedLcMismatch {
                            lc,
                            available: rest.len(),
                        }),
                    }
                } else {
                    Err(ApduError::ExtendedLcMismatch {
                        lc,
                        available: rest.len(),
                    })
                }
            }
            [lc, rest @ ..] => {
                let lc = *lc as usize;
                if rest.len() == lc {
                    Ok(mk(rest, None, false))
                } else if rest.len() == lc + 1 {
                    let (data, le) = rest.split_at(lc);
                    Ok(mk(data, le.first().map(|&x| short_ne(x)), false))
                } else {
                    Err(ApduError::LcMismatch {
                        lc,
                        available: rest.len(),
                    })
                }
            }
        }
    }

    /// The ISO 7816-4 case of this command.
    pub fn case(&self) -> ApduCase {
        case_of(self.data.is_empty(), self.le.is_some())
    }

    /// Copy into an owned [`CommandApdu`].
    #[allow(clippy::wrong_self_convention)]
    pub fn to_owned(&self) -> CommandApdu {
        CommandApdu {
            cla: self.cla,
            ins: self.ins,
            p1: self.p1,
            p2: self.p2,
            data: self.data.to_vec(),
            le: self.le,
            extended: self.extended,
        }
    }

    /// Number of bytes [`CommandApduRef::emit_into`] produces.
    pub fn buffer_len(&self) -> usize {
        buffer_len(self.data.len(), self.le.is_some(), self.extended)
    }

    /// Append the wire encoding to `out`. Fails only when a field cannot be encoded.
    #[inline]
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<(), ApduError> {
        emit(
            [self.cla, self.ins, self.p1, self.p2],
            self.data,
            self.le,
            self.extended,
            out,
        )
    }

    /// Write the wire encoding into `out` without allocating; returns the number of bytes
    /// written, or `None` when `out` is too small or a field cannot be encoded.
    #[inline]
    pub fn emit_to_slice(&self, out: &mut [u8]) -> Option<usize> {
        check(self.data.len(), self.le, self.extended).ok()?;
        let n = self.buffer_len();
        let out = out.get_mut(..n)?;
        let (head, rest) = out.split_at_mut(4);
        head.copy_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let nc = self.data.len();
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = rest.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
            at += bytes.len();
        };
        if self.extended {
            if nc > 0 {
                put(&[0]);
                put(&(nc as u16).to_be_bytes());
                put(self.data);
            } else if self.le.is_some() {
                put(&[0]);
            }
            if let Some(ne) = self.le {
                put(&((ne & 0xFFFF) as u16).to_be_bytes());
            }
        } else {
            if nc > 0 {
                put(&[nc as u8]);
                put(self.data);
            }
            if let Some(ne) = self.le {
                put(&[(ne & 0xFF) as u8]);
            }
        }
        Some(n)
    }
}

fn case_of(no_data: bool, has_le: bool) -> ApduCase {
    match (no_data, has_le) {
        (true, false) => ApduCase::Case1,
        (true, true) => ApduCase::Case2,
        (false, false) => ApduCase::Case3,
        (false, true) => ApduCase::Case4,
    }
}

fn buffer_len(nc: usize, has_le: bool, extended: bool) -> usize {
    let lc = match (nc == 0, extended) {
        (true, _) => 0,
        (false, false) => 1,
        (false, true) => 3,
    };
    let le = match (has_le, extended) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) if nc == 0 => 3,
        (true, true) => 2,
    };
    4 + lc + nc + le
}

fn check(nc: usize, le: Option<u32>, extended: bool) -> Result<(), ApduError> {
    let (max_data, max_ne, form) = if extended {
        (65535, 65536, "extended")
    } else {
        (255, 256, "short")
    };
    if nc > max_data {
        return Err(ApduError::DataTooLong {
            len: nc,
            form,
            max: max_data,
        });
    }
    if let Some(ne) = le {
        if ne == 0 || ne > max_ne {
            return Err(ApduError::BadLe {
                ne,
                form,
                max: max_ne,
            });
        }
    }
    Ok(())
}

#[inline]
fn emit(
    header: [u8; 4],
    data: &[u8],
    le: Option<u32>,
    extended: bool,
    out: &mut Vec<u8>,
) -> Result<(), ApduError> {
    check(data.len(), le, extended)?;
    out.reserve(buffer_len(data.len(), le.is_some(), extended));
    out.extend_from_slice(&header);
    if extended {
        if !data.is_empty() {
            out.push(0);
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(data);
        } else if le.is_some() {
            out.push(0);
        }
        if let Some(ne) = le {
            out.extend_from_slice(&((ne & 0xFFFF) as u16).to_be_bytes());
        }
    } else {
        if !data.is_empty() {
            out.push(data.len() as u8);
            out.extend_from_slice(data);
        }
        if let Some(ne) = le {
            out.push((ne & 0xFF) as u8);
        }
    }
    Ok(())
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
    pub fn new(
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: impl Into<Vec<u8>>,
        le: Option<u32>,
    ) -> Self {
        let data = data.into();
        let extended = data.len() > 255 || le.is_some_and(|n| n > 256);
        CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
            extended,
        }
    }

    /// Parse a C-APDU from bytes (ISO/IEC 7816-4 §5.1 decoding rules).
    ///
    /// A case-1 APDU (header only) has no length field, so `extended` is always `false` for it.
    pub fn parse(b: &[u8]) -> Result<Self, ApduError> {
        CommandApduRef::parse(b).map(|r| r.to_owned())
    }

    /// Parse into `self`, reusing its data buffer (no allocation once the buffer is large
    /// enough): for loops that decode many APDUs. On error `self` is left unchanged.
    pub fn parse_into(&mut self, b: &[u8]) -> Result<(), ApduError> {
        let r = CommandApduRef::parse(b)?;
        self.cla = r.cla;
        self.ins = r.ins;
        self.p1 = r.p1;
        self.p2 = r.p2;
        self.data.clear();
        self.data.extend_from_slice(r.data);
        self.le = r.le;
        self.extended = r.extended;
        Ok(())
    }

    /// A borrowed view of this APDU.
    pub fn view(&self) -> CommandApduRef<'_> {
        CommandApduRef {
            cla: self.cla,
            ins: self.ins,
            p1: self.p1,
            p2: self.p2,
            data: &self.data,
            le: self.le,
            extended: self.extended,
        }
    }

    /// The ISO 7816-4 case of this command.
    pub fn case(&self) -> ApduCase {
        case_of(self.data.is_empty(), self.le.is_some())
    }

    /// The decoded class byte (TS 102 221 §10.1.1).
    pub fn class(&self) -> Class {
        Class::decode(self.cla)
    }

    /// Number of bytes [`CommandApdu::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        buffer_len(self.data.len(), self.le.is_some(), self.extended)
    }

    /// Check that the length fields can be encoded in the chosen form.
    pub fn check(&self) -> Result<(), ApduError> {
        check(self.data.len(), self.le, self.extended)
    }

    /// Append the wire encoding to `out`. Fails only when a field cannot be encoded.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<(), ApduError> {
        emit(
            [self.cla, self.ins, self.p1, self.p2],
            &self.data,
            self.le,
            self.extended,
            out,
        )
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
        assert_eq!(
            (c.case(), c.data.as_slice()),
            (ApduCase::Case3, &[0x3F, 0][..])
        );
        let c = rt(&[0, 0xA4, 0, 4, 2, 0x3F, 0, 0x1C]);
        assert_eq!((c.case(), c.le), (ApduCase::Case4, Some(0x1C)));
    }

    #[test]
    fn cases_extended() {
        let c = rt(&[0, 0xB0, 0, 0, 0, 0x01, 0x00]);
        assert_eq!(
            (c.case(), c.le, c.extended),
            (ApduCase::Case2, Some(256), true)
        );
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
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0]),
            Err(ApduError::TooShort { len: 3 })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 2, 0x3F]),
            Err(ApduError::LcMismatch {
                lc: 2,
                available: 1
            })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 2, 0x3F, 0, 1, 2]),
            Err(ApduError::LcMismatch {
                lc: 2,
                available: 4
            })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 1]),
            Err(ApduError::ExtendedTruncated { offset: 6 })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 0, 0, 1]),
            Err(ApduError::ExtendedLcZero { trailing: 1 })
        );
        assert_eq!(
            CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 0, 3, 1]),
            Err(ApduError::ExtendedLcMismatch {
                lc: 3,
                available: 1
            })
        );
    }

    #[test]
    fn emit_checks_limits() {
        let c = CommandApdu {
            extended: false,
            ..CommandApdu::new(0, 0xD6, 0, 0, vec![0; 300], None)
        };
        assert!(matches!(c.emit(), Err(ApduError::DataTooLong { .. })));
        assert!(CommandApdu::new(0, 0xD6, 0, 0, vec![0; 300], None)
            .emit()
            .is_ok());
    }

    #[test]
    fn error_messages_name_offsets() {
        let e = CommandApdu::parse(&[0, 0xA4, 0, 4, 2, 0x3F])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("offset 6: APDU truncated"), "{e}");
        let e = CommandApdu::parse(&[0, 0xA4, 0, 4, 2, 0x3F, 0, 1, 2])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("offset 8:") && e.contains("1 unexpected byte"),
            "{e}"
        );
        let e = CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 0, 3, 1])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("offset 8: APDU truncated"), "{e}");
        let e = CommandApdu::parse(&[0, 0xA4]).unwrap_err().to_string();
        assert!(e.starts_with("offset 2:") && e.contains("truncated"), "{e}");
        let e = CommandApdu::parse(&[0, 0xA4, 0, 4, 0, 1])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("offset 6:"), "{e}");
    }

    #[test]
    fn borrowed_view_matches_owned() {
        let b = [0x80, 0xC2, 0, 0, 6, 0xD1, 4, 0x82, 2, 0x83, 0x81];
        let r = CommandApduRef::parse(&b).unwrap();
        assert_eq!(r.data, &b[5..]);
        assert_eq!(r.case(), ApduCase::Case3);
        let o = CommandApdu::parse(&b).unwrap();
        assert_eq!(r.to_owned(), o);
        assert_eq!(o.view(), r);
        let mut buf = [0u8; 16];
        assert_eq!(r.emit_to_slice(&mut buf), Some(b.len()));
        assert_eq!(&buf[..b.len()], &b);
        assert_eq!(r.emit_to_slice(&mut buf[..5]), None);
        let mut reused = CommandApdu::new(0, 0, 0, 0, vec![9; 40], None);
        reused.parse_into(&b).unwrap();
        assert_eq!(reused, o);
        assert!(reused.parse_into(&[0x00]).is_err());
        assert_eq!(reused, o);
    }

    /// Canonical APDUs: every value that `parse` can produce (case 1 is never extended).
    fn arb_apdu() -> impl Strategy<Value = CommandApdu> {
        let data = prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..=260),
            1 => proptest::collection::vec(any::<u8>(), 250..=300),
            1 => (0usize..=65535).prop_map(|n| vec![0x5A; n]),
        ];
        (
            any::<[u8; 4]>(),
            any::<bool>(),
            any::<bool>(),
            data,
            1u32..=65536,
        )
            .prop_map(|(h, ext, has_le, data, ne)| {
                let n = data.len();
                let extended = (ext || n > 255) && (n > 0 || has_le);
                let le = has_le.then_some(if extended { ne } else { ne % 256 + 1 });
                CommandApdu {
                    cla: h[0],
                    ins: h[1],
                    p1: h[2],
                    p2: h[3],
                    data,
                    le,
                    extended,
                }
            })
    }

    /// Valid encodings built field by field, independent of `emit`.
    fn arb_valid_bytes() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<[u8; 4]>(),
            proptest::collection::vec(any::<u8>(), 0..300),
            prop_oneof![Just(None), any::<u16>().prop_map(Some)],
            any::<bool>(),
        )
            .prop_map(|(h, data, le, ext)| {
                let mut b = h.to_vec();
                let extended = ext || data.len() > 255;
                if extended {
                    if !data.is_empty() {
                        b.push(0);
                        b.extend_from_slice(&(data.len() as u16).to_be_bytes());
                        b.extend_from_slice(&data);
                    } else if le.is_some() {
                        b.push(0);
                    }
                    if let Some(le) = le {
                        b.extend_from_slice(&le.to_be_bytes());
                    }
                } else {
                    if !data.is_empty() {
                        b.push(data.len() as u8);
                        b.extend_from_slice(&data);
                    }
                    if let Some(le) = le {
                        b.push(le as u8);
                    }
                }
                b
            })
    }

    proptest! {
        #[test]
        fn parse_emit_roundtrip(a in arb_apdu()) {
            let bytes = a.emit().unwrap();
            prop_assert_eq!(bytes.len(), a.buffer_len());
            prop_assert_eq!(CommandApdu::parse(&bytes).unwrap(), a.clone());
            let mut buf = vec![0u8; bytes.len()];
            prop_assert_eq!(a.view().emit_to_slice(&mut buf), Some(bytes.len()));
            prop_assert_eq!(buf, bytes);
        }

        #[test]
        fn every_valid_encoding_round_trips(b in arb_valid_bytes()) {
            let c = CommandApdu::parse(&b).unwrap();
            prop_assert_eq!(c.emit().unwrap(), b);
        }

        #[test]
        fn emit_parse_is_identity(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(c) = CommandApdu::parse(&b) {
                prop_assert_eq!(c.emit().unwrap(), b);
            }
        }

        #[test]
        fn never_panics_on_prefixes(b in arb_valid_bytes(), cut in any::<prop::sample::Index>()) {
            let cut = cut.index(b.len() + 1);
            let _ = CommandApdu::parse(&b[..cut]);
        }
    }
}
