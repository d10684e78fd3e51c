//! BER-TLV per ISO/IEC 7816-4 §5.2 (ISO/IEC 8825-1 subset): multi-byte tags, definite lengths
//! up to 4 length bytes, and indefinite length for constructed objects (TS 102 226 `AE`/`AF`).

use super::{len_len, read_len, value_slice, write_len, LenForm, TlvError, MAX_DEPTH};

/// A BER tag, kept as its raw bytes packed big-endian into a `u32` (`0x9F70`, `0xBF0C`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BerTag(pub u32);

impl BerTag {
    /// The tag's bytes.
    pub fn bytes(self) -> Vec<u8> {
        let b = self.0.to_be_bytes();
        let skip = b.iter().position(|&x| x != 0).unwrap_or(3);
        b[skip..].to_vec()
    }
    /// The first tag byte.
    pub fn first_byte(self) -> u8 {
        *self.bytes().first().unwrap_or(&0)
    }
    /// Constructed bit (b6 of the first byte).
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }
    /// Class bits (b8 b7 of the first byte): 0 universal, 1 application, 2 context, 3 private.
    pub fn class(self) -> u8 {
        self.first_byte() >> 6
    }
}

/// Read a BER tag at `b[at..]`: (tag, bytes used).
pub fn read_tag(b: &[u8], at: usize, base: usize) -> Result<(BerTag, usize), TlvError> {
    let first = *b
        .get(at)
        .ok_or(TlvError::TagTruncated { offset: base + at })?;
    let mut v = first as u32;
    let mut n = 1;
    if first & 0x1F == 0x1F {
        loop {
            let x = *b
                .get(at + n)
                .ok_or(TlvError::TagTruncated { offset: base + at })?;
            v = v << 8 | x as u32;
            n += 1;
            if x & 0x80 == 0 {
                break;
            }
            if n >= 4 {
                return Err(TlvError::TagTooLong { offset: base + at });
            }
        }
    }
    Ok((BerTag(v), n))
}

/// The value of a BER-TLV node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BerValue {
    /// Raw value bytes (primitive tags).
    Primitive(Vec<u8>),
    /// Child objects (constructed tags).
    Constructed(Vec<BerTlv>),
}

/// One BER-TLV object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BerTlv {
    /// The tag.
    pub tag: BerTag,
    /// How the length is written.
    pub len_form: LenForm,
    /// The value.
    pub value: BerValue,
}

impl BerTlv {
    /// A primitive object with a minimal length.
    pub fn primitive(tag: u32, value: impl Into<Vec<u8>>) -> Self {
        BerTlv {
            tag: BerTag(tag),
            len_form: LenForm::Minimal,
            value: BerValue::Primitive(value.into()),
        }
    }
    /// A constructed object with a minimal length.
    pub fn constructed(tag: u32, children: Vec<BerTlv>) -> Self {
        BerTlv {
            tag: BerTag(tag),
            len_form: LenForm::Minimal,
            value: BerValue::Constructed(children),
        }
    }

    /// Parse exactly one object from the start of `b`; returns it and the bytes used.
    pub fn parse_one(b: &[u8]) -> Result<(BerTlv, usize), TlvError> {
        parse_at(b, 0, 0, 0)
    }

    /// Parse a whole buffer as a sequence of objects. `00`/`FF` padding between objects is not
    /// accepted (byte-exact round trips would lose it).
    pub fn parse_all(b: &[u8]) -> Result<Vec<BerTlv>, TlvError> {
        parse_seq(b, 0, 0)
    }

    /// The value bytes of a primitive object, or the encoded children of a constructed one.
    pub fn value_bytes(&self) -> Vec<u8> {
        match &self.value {
            BerValue::Primitive(v) => v.clone(),
            BerValue::Constructed(c) => {
                let mut out = Vec::new();
                for t in c {
                    t.emit_into(&mut out);
                }
                out
            }
        }
    }

    /// Children of a constructed object (empty for primitive ones).
    pub fn children(&self) -> &[BerTlv] {
        match &self.value {
            BerValue::Constructed(c) => c,
            BerValue::Primitive(_) => &[],
        }
    }

    /// First direct child with this tag.
    pub fn find(&self, tag: u32) -> Option<&BerTlv> {
        self.children().iter().find(|t| t.tag.0 == tag)
    }

    fn content_len(&self) -> usize {
        match &self.value {
            BerValue::Primitive(v) => v.len(),
            BerValue::Constructed(c) => c.iter().map(|t| t.buffer_len()).sum(),
        }
    }

    /// Number of bytes [`BerTlv::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        let clen = self.content_len();
        let eoc = if self.len_form == LenForm::Indefinite {
            2
        } else {
            0
        };
        self.tag.bytes().len() + len_len(clen, self.len_form) + clen + eoc
    }

    /// Append the encoding to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tag.bytes());
        write_len(out, self.content_len(), self.len_form);
        match &self.value {
            BerValue::Primitive(v) => out.extend_from_slice(v),
            BerValue::Constructed(c) => c.iter().for_each(|t| t.emit_into(out)),
        }
        if self.len_form == LenForm::Indefinite {
            out.extend_from_slice(&[0, 0]);
        }
    }

    /// The encoding as a new vector.
    pub fn emit(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.buffer_len());
        self.emit_into(&mut v);
        v
    }
}

fn parse_seq(b: &[u8], base: usize, depth: usize) -> Result<Vec<BerTlv>, TlvError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let (t, n) = parse_at(&b[at..], base + at, depth, 0)?;
        out.push(t);
        at += n;
    }
    Ok(out)
}

fn parse_at(b: &[u8], base: usize, depth: usize, _: usize) -> Result<(BerTlv, usize), TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep {
            offset: base,
            max: MAX_DEPTH,
        });
    }
    let (tag, tn) = read_tag(b, 0, base)?;
    let (len, len_form, ln) = read_len(b, tn, base, tag.is_constructed(), 4)?;
    let start = tn + ln;
    if len_form == LenForm::Indefinite {
        // Children until 00 00.
        let mut children = Vec::new();
        let mut at = start;
        loop {
            match b.get(at..at + 2) {
                Some([0, 0]) => {
                    return Ok((
                        BerTlv {
                            tag,
                            len_form,
                            value: BerValue::Constructed(children),
                        },
                        at + 2,
                    ));
                }
                None if at >= b.len() => return Err(TlvError::MissingEoc { offset: base }),
                _ => {}
            }
            let (t, n) = parse_at(&b[at..], base + at, depth + 1, 0)?;
            children.push(t);
            at += n;
        }
    }
    let value = value_slice(b, start, len, base + tn)?;
    // A constructed tag whose value does not parse as TLVs is kept as raw bytes: TS 102 226
    // uses `22`/`23` (constructed in BER terms) for plain C-APDU/R-APDU bytes.
    let v = match tag
        .is_constructed()
        .then(|| parse_seq(value, base + start, depth + 1))
    {
        Some(Ok(children)) => BerValue::Constructed(children),
        Some(Err(TlvError::TooDeep { offset, max })) => {
            return Err(TlvError::TooDeep { offset, max })
        }
        _ => BerValue::Primitive(value.to_vec()),
    };
    Ok((
        BerTlv {
            tag,
            len_form,
            value: v,
        },
        start + len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fcp_like() {
        let b = [0x62, 0x07, 0x82, 0x02, 0x78, 0x21, 0x83, 0x01, 0x3F];
        let t = BerTlv::parse_all(&b).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].children().len(), 2);
        assert_eq!(t[0].find(0x82).unwrap().value_bytes(), [0x78, 0x21]);
        assert_eq!(t[0].emit(), b);
    }

    #[test]
    fn multibyte_tags_and_long_lengths() {
        let b = [
            0x9F, 0x70, 0x81, 0x01, 0x07, 0xBF, 0x0C, 0x82, 0x00, 0x03, 0x80, 0x01, 0xAA,
        ];
        let t = BerTlv::parse_all(&b).unwrap();
        assert_eq!(t[0].tag, BerTag(0x9F70));
        assert_eq!(t[0].len_form, LenForm::Long(1));
        assert_eq!(t[1].tag, BerTag(0xBF0C));
        assert_eq!(t[1].len_form, LenForm::Long(2));
        let mut out = Vec::new();
        t.iter().for_each(|x| x.emit_into(&mut out));
        assert_eq!(out, b);
    }

    #[test]
    fn indefinite_ae() {
        let b = [0xAE, 0x80, 0x22, 0x02, 0x00, 0xB0, 0x00, 0x00];
        let (t, n) = BerTlv::parse_one(&b).unwrap();
        assert_eq!(n, b.len());
        assert_eq!(t.len_form, LenForm::Indefinite);
        assert_eq!(t.children()[0].tag, BerTag(0x22));
        assert_eq!(t.children()[0].value, BerValue::Primitive(vec![0x00, 0xB0]));
        assert_eq!(t.emit(), b);
        assert_eq!(
            BerTlv::parse_one(&b[..6]),
            Err(TlvError::MissingEoc { offset: 0 })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            BerTlv::parse_all(&[0x80, 0x05, 1]),
            Err(TlvError::ValueTruncated {
                offset: 1,
                len: 5,
                available: 1
            })
        );
        assert_eq!(
            BerTlv::parse_all(&[0x9F]),
            Err(TlvError::TagTruncated { offset: 0 })
        );
        assert_eq!(
            BerTlv::parse_all(&[0x80, 0x85, 0]),
            Err(TlvError::BadLen {
                offset: 1,
                byte: 0x85
            })
        );
        assert_eq!(
            BerTlv::parse_all(&[0x80, 0x80]),
            Err(TlvError::BadLen {
                offset: 1,
                byte: 0x80
            })
        );
        // Constructed tag whose value is not TLV: kept as raw bytes, still byte-exact.
        let t = BerTlv::parse_all(&[0x62, 0x03, 0x82, 0x05, 0x00]).unwrap();
        assert_eq!(t[0].value, BerValue::Primitive(vec![0x82, 0x05, 0x00]));
    }

    fn arb_form() -> impl Strategy<Value = LenForm> {
        prop_oneof![Just(LenForm::Minimal), (1u8..=4).prop_map(LenForm::Long)]
    }

    fn arb_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..40),
            1 => proptest::collection::vec(any::<u8>(), 100..300),
        ]
    }

    /// Canonical trees: exactly what `parse` returns for their encoding.
    fn arb_tlv() -> impl Strategy<Value = BerTlv> {
        let tag = prop_oneof![
            (0x80u32..0x9Fu32),
            (0x1Fu32..0x7Fu32).prop_map(|x| 0x9F00 | x),
            (0x80u32..0xFFu32, 0x00u32..0x7Fu32).prop_map(|(a, b)| 0xDF0000 | a << 8 | b),
        ];
        let leaf = (tag, arb_form(), arb_value()).prop_map(|(t, f, v)| BerTlv {
            tag: BerTag(t),
            len_form: f.normalized(v.len()),
            value: BerValue::Primitive(v),
        });
        leaf.prop_recursive(3, 24, 4, |inner| {
            (
                prop_oneof![Just(0xA0u32), Just(0xAEu32), Just(0x62u32), Just(0xBF0Cu32)],
                prop_oneof![Just(LenForm::Indefinite), arb_form()],
                proptest::collection::vec(inner, 0..4),
            )
                .prop_map(|(t, f, c)| {
                    let mut node = BerTlv {
                        tag: BerTag(t),
                        len_form: f,
                        value: BerValue::Constructed(c),
                    };
                    node.len_form = f.normalized(node.value_bytes().len());
                    node
                })
        })
    }

    /// Arbitrary well-formed encodings, including non-minimal lengths and constructed tags
    /// whose value is not TLV (kept raw), built without `emit`.
    fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
        fn len_bytes(len: usize, long: Option<u8>) -> Vec<u8> {
            match long {
                Some(n) if (n as usize) >= super::super::min_long_bytes(len) => {
                    let mut v = vec![0x80 | n];
                    v.extend((0..n).rev().map(|i| (len >> (8 * i as usize)) as u8));
                    v
                }
                _ => crate::tlv::encode_len(len),
            }
        }
        let leaf = (
            prop_oneof![Just(vec![0x80u8]), Just(vec![0x9F, 0x70]), Just(vec![0x62])],
            prop::option::of(1u8..=4),
            arb_value(),
        )
            .prop_map(|(tag, long, v)| [tag, len_bytes(v.len(), long), v].concat());
        leaf.prop_recursive(3, 24, 4, move |inner| {
            (
                prop_oneof![Just(vec![0xA5u8]), Just(vec![0xBF, 0x0C])],
                prop::option::of(1u8..=4),
                any::<bool>(),
                proptest::collection::vec(inner, 0..4),
            )
                .prop_map(|(tag, long, indefinite, children)| {
                    let content = children.concat();
                    if indefinite {
                        [tag, vec![0x80], content, vec![0, 0]].concat()
                    } else {
                        [tag, len_bytes(content.len(), long), content].concat()
                    }
                })
        })
    }

    proptest! {
        #[test]
        fn roundtrip(t in arb_tlv()) {
            let b = t.emit();
            prop_assert_eq!(b.len(), t.buffer_len());
            let (p, n) = BerTlv::parse_one(&b).unwrap();
            prop_assert_eq!(n, b.len());
            prop_assert_eq!(p, t);
        }

        #[test]
        fn every_valid_encoding_round_trips(parts in proptest::collection::vec(arb_bytes(), 1..4)) {
            let b = parts.concat();
            let ts = BerTlv::parse_all(&b).unwrap();
            let mut out = Vec::new();
            ts.iter().for_each(|t| t.emit_into(&mut out));
            prop_assert_eq!(out, b);
        }

        #[test]
        fn emit_of_parse_is_identity(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(ts) = BerTlv::parse_all(&b) {
                let mut out = Vec::new();
                ts.iter().for_each(|t| t.emit_into(&mut out));
                prop_assert_eq!(out, b);
            }
        }
    }
}
