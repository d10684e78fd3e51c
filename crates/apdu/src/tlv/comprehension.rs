//! COMPREHENSION-TLV per ETSI TS 101 220 §7.1.1: the data objects inside CAT proactive
//! commands, TERMINAL RESPONSEs and ENVELOPEs (TS 102 223 §8).
//!
//! Tag formats: single byte `01`–`7E` (CR = 0) / `81`–`FE` (CR = 1), and three bytes
//! `7F hh ll` with CR in b8 of `hh` and a 15-bit tag value. `00`, `80` and `FF` are not tags.

use super::{len_len, read_len, value_slice, write_len, LenForm, TlvError};

/// A COMPREHENSION-TLV tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompTag {
    /// Tag value without the CR bit (7 bits in the 1-byte format, 15 bits in the 3-byte one).
    pub value: u16,
    /// Comprehension required.
    pub cr: bool,
    /// Written in the 3-byte `7F` format.
    pub three_byte: bool,
}

impl CompTag {
    /// A single-byte tag from its raw byte (`0x81` = command details with CR set).
    pub fn from_byte(b: u8) -> Self {
        CompTag {
            value: (b & 0x7F) as u16,
            cr: b & 0x80 != 0,
            three_byte: false,
        }
    }
    /// The raw byte of a single-byte tag (CR in b8).
    pub fn byte(self) -> u8 {
        (self.value as u8 & 0x7F) | if self.cr { 0x80 } else { 0 }
    }
    /// Whether this tag can be written and read back: a 1-byte tag value must be `01`–`7E`
    /// (`00`, `7F` and, with CR, `80`/`FF` are not tags), a 3-byte one fits in 15 bits.
    pub fn is_valid(self) -> bool {
        if self.three_byte {
            self.value <= 0x7FFF
        } else {
            (1..=0x7E).contains(&self.value)
        }
    }
    fn write(self, out: &mut Vec<u8>) {
        if self.three_byte {
            out.push(0x7F);
            out.push(((self.value >> 8) as u8 & 0x7F) | if self.cr { 0x80 } else { 0 });
            out.push(self.value as u8);
        } else {
            out.push(self.byte());
        }
    }
    fn len(self) -> usize {
        if self.three_byte {
            3
        } else {
            1
        }
    }
}

/// One COMPREHENSION-TLV data object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompTlv {
    /// The tag.
    pub tag: CompTag,
    /// How the length is written.
    pub len_form: LenForm,
    /// The value bytes.
    pub value: Vec<u8>,
}

impl CompTlv {
    /// A data object with a single-byte tag (`tag` without CR), the CR flag and a minimal length.
    pub fn new(tag: u8, cr: bool, value: impl Into<Vec<u8>>) -> Self {
        CompTlv {
            tag: CompTag {
                value: (tag & 0x7F) as u16,
                cr,
                three_byte: false,
            },
            len_form: LenForm::Minimal,
            value: value.into(),
        }
    }

    /// Parse one object at the start of `b`; returns it and the bytes used. `base` is added to
    /// error offsets.
    pub fn parse_one(b: &[u8], base: usize) -> Result<(CompTlv, usize), TlvError> {
        let first = *b.first().ok_or(TlvError::TagTruncated { offset: base })?;
        let (tag, tn) = match first {
            0x00 | 0x80 | 0xFF => {
                return Err(TlvError::BadTag {
                    offset: base,
                    tag: first as u32,
                })
            }
            0x7F => {
                let t = b.get(1..3).ok_or(TlvError::TagTruncated { offset: base })?;
                let value = ((t[0] & 0x7F) as u16) << 8 | t[1] as u16;
                (
                    CompTag {
                        value,
                        cr: t[0] & 0x80 != 0,
                        three_byte: true,
                    },
                    3,
                )
            }
            _ => (CompTag::from_byte(first), 1),
        };
        let (len, len_form, ln) = read_len(b, tn, base, false, 3)?;
        let start = tn + ln;
        let value = value_slice(b, start, len, base + tn)?;
        Ok((
            CompTlv {
                tag,
                len_form,
                value: value.to_vec(),
            },
            start + len,
        ))
    }

    /// Parse a buffer as a sequence of objects.
    pub fn parse_all(b: &[u8]) -> Result<Vec<CompTlv>, TlvError> {
        Self::parse_all_at(b, 0)
    }

    /// Parse a sequence whose first byte sits at `base` in some outer buffer.
    pub fn parse_all_at(b: &[u8], base: usize) -> Result<Vec<CompTlv>, TlvError> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let (t, n) = Self::parse_one(&b[at..], base + at)?;
            out.push(t);
            at += n;
        }
        Ok(out)
    }

    /// Number of bytes [`CompTlv::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        self.tag.len() + len_len(self.value.len(), self.definite_form()) + self.value.len()
    }

    /// COMPREHENSION-TLV has no indefinite length: such a form is written minimally.
    fn definite_form(&self) -> LenForm {
        if self.len_form == LenForm::Indefinite {
            LenForm::Minimal
        } else {
            self.len_form
        }
    }

    /// Append the encoding to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        self.tag.write(out);
        write_len(out, self.value.len(), self.definite_form());
        out.extend_from_slice(&self.value);
    }

    /// The encoding as a new vector.
    pub fn emit(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.buffer_len());
        self.emit_into(&mut v);
        v
    }
}

/// Find the first object with this tag value (CR ignored, as TS 102 223 §8 requires).
pub fn find(tlvs: &[CompTlv], tag: u8) -> Option<&CompTlv> {
    tlvs.iter()
        .find(|t| !t.tag.three_byte && t.tag.value == (tag & 0x7F) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn display_text_terminal_response() {
        // TS 31.124 vector (via oFono): TERMINAL RESPONSE to DISPLAY TEXT.
        let b = [
            0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00,
        ];
        let t = CompTlv::parse_all(&b).unwrap();
        assert_eq!(t.len(), 3);
        assert!(t[0].tag.cr);
        assert_eq!(t[0].tag.value, 1);
        assert_eq!(find(&t, 0x03).unwrap().value, [0]);
        let mut out = Vec::new();
        t.iter().for_each(|x| x.emit_into(&mut out));
        assert_eq!(out, b);
    }

    #[test]
    fn three_byte_tags() {
        let b = [0x7F, 0x81, 0x23, 0x01, 0xAA];
        let (t, n) = CompTlv::parse_one(&b, 0).unwrap();
        assert_eq!(n, 5);
        assert_eq!(
            (t.tag.value, t.tag.cr, t.tag.three_byte),
            (0x0123, true, true)
        );
        assert_eq!(t.emit(), b);
    }

    #[test]
    fn errors() {
        assert_eq!(
            CompTlv::parse_all(&[0x00, 0x00]),
            Err(TlvError::BadTag { offset: 0, tag: 0 })
        );
        assert_eq!(
            CompTlv::parse_all(&[0x81, 0x03, 1]),
            Err(TlvError::ValueTruncated {
                offset: 1,
                len: 3,
                available: 1
            })
        );
        assert_eq!(
            CompTlv::parse_all(&[0x7F, 0x01]),
            Err(TlvError::TagTruncated { offset: 0 })
        );
        assert_eq!(
            CompTlv::parse_all(&[0x0D, 0x80]),
            Err(TlvError::BadLen {
                offset: 1,
                byte: 0x80
            })
        );
        // TS 101 220 §7.1.2: at most 3 length bytes after 83.
        assert_eq!(
            CompTlv::parse_all(&[0x0D, 0x84, 0, 0, 0, 1, 0]),
            Err(TlvError::BadLen {
                offset: 1,
                byte: 0x84
            })
        );
        // A huge announced length is an error, not an overflow.
        assert!(matches!(
            CompTlv::parse_all(&[0x0D, 0x83, 0xFF, 0xFF, 0xFF]),
            Err(TlvError::ValueTruncated { offset: 1, .. })
        ));
    }

    /// Canonical objects: exactly what `parse_one` returns for their encoding.
    fn arb() -> impl Strategy<Value = CompTlv> {
        let tag = prop_oneof![
            (1u8..0x7F).prop_map(CompTag::from_byte),
            (0x81u8..0xFF).prop_map(CompTag::from_byte),
            (0u16..=0x7FFF, any::<bool>()).prop_map(|(value, cr)| CompTag {
                value,
                cr,
                three_byte: true
            }),
        ];
        let form = prop_oneof![Just(LenForm::Minimal), (1u8..=3).prop_map(LenForm::Long)];
        let value = prop_oneof![
            3 => proptest::collection::vec(any::<u8>(), 0..130),
            1 => proptest::collection::vec(any::<u8>(), 250..300),
        ];
        (tag, form, value).prop_map(|(tag, len_form, value)| CompTlv {
            tag,
            len_form: len_form.normalized(value.len()),
            value,
        })
    }

    proptest! {
        #[test]
        fn roundtrip(ts in proptest::collection::vec(arb(), 0..4)) {
            let mut b = Vec::new();
            ts.iter().for_each(|t| t.emit_into(&mut b));
            prop_assert_eq!(b.len(), ts.iter().map(|t| t.buffer_len()).sum::<usize>());
            prop_assert!(ts.iter().all(|t| t.tag.is_valid()));
            let parsed = CompTlv::parse_all(&b).unwrap();
            prop_assert_eq!(&parsed, &ts);
            let mut again = Vec::new();
            parsed.iter().for_each(|t| t.emit_into(&mut again));
            prop_assert_eq!(&again, &b);
        }

        #[test]
        fn emit_of_parse_is_identity(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(ts) = CompTlv::parse_all(&b) {
                let mut out = Vec::new();
                ts.iter().for_each(|t| t.emit_into(&mut out));
                prop_assert_eq!(out, b);
            }
        }

        #[test]
        fn every_valid_encoding_round_trips(ts in proptest::collection::vec(arb(), 1..4), cut in any::<prop::sample::Index>()) {
            // Valid sequences round-trip, and every strict prefix is an error, not a panic.
            let mut b = Vec::new();
            ts.iter().for_each(|t| t.emit_into(&mut b));
            let cut = cut.index(b.len());
            let _ = CompTlv::parse_all(&b[..cut]);
            let parsed = CompTlv::parse_all(&b).unwrap();
            let mut out = Vec::new();
            parsed.iter().for_each(|t| t.emit_into(&mut out));
            prop_assert_eq!(out, b);
        }
    }
}
