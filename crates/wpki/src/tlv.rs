//! The small TLV dialect of the WPKI protocol (PROTOCOL.md §2): one-byte tags, BER definite
//! lengths in short form (`00`–`7F`), `81 xx` or `82 xx xx`; no indefinite lengths, no
//! multi-byte tags. Every decoding error carries the absolute offset of the faulty byte.

use thiserror::Error;

/// A TLV decoding error; `offset` counts from the start of the outermost message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    /// The input ended inside a tag or length.
    #[error("offset {offset}: TLV header truncated")]
    HeaderTruncated {
        /// Offset of the incomplete header.
        offset: usize,
    },
    /// A length byte other than `00`–`7F`, `81`, `82`, or a non-minimal long form.
    #[error("offset {offset}: invalid or non-minimal length byte {byte:02X}")]
    BadLength {
        /// Offset of the length byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// The value runs past the end of the enclosing data.
    #[error("offset {offset}: value of tag {tag:02X} needs {len} bytes, {available} left")]
    ValueTruncated {
        /// Offset of the tag.
        offset: usize,
        /// The tag.
        tag: u8,
        /// Announced length.
        len: usize,
        /// Bytes actually left.
        available: usize,
    },
}

/// One decoded TLV with its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The value bytes.
    pub value: &'a [u8],
    /// Absolute offset of the tag byte.
    pub offset: usize,
    /// Absolute offset of the first value byte.
    pub value_offset: usize,
}

/// Parse `b` (which starts at absolute offset `base`) as a sequence of TLVs.
pub fn parse_all(b: &[u8], base: usize) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < b.len() {
        let (t, used) = parse_one(&b[at..], base + at)?;
        out.push(t);
        at += used;
    }
    Ok(out)
}

/// Parse one TLV at the start of `b`; returns it and the bytes used.
pub fn parse_one(b: &[u8], base: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let trunc = TlvError::HeaderTruncated { offset: base };
    let (&tag, rest) = b.split_first().ok_or(trunc.clone())?;
    let (&l0, rest) = rest.split_first().ok_or(trunc.clone())?;
    let (len, hdr) = match l0 {
        0..=0x7F => (usize::from(l0), 2usize),
        0x81 => {
            let &l = rest.first().ok_or(trunc.clone())?;
            if l < 0x80 {
                return Err(TlvError::BadLength {
                    offset: base + 1,
                    byte: l0,
                });
            }
            (usize::from(l), 3)
        }
        0x82 => {
            let l = rest.get(..2).ok_or(trunc)?;
            let len = usize::from(u16::from_be_bytes([l[0], l[1]]));
            if len < 0x100 {
                return Err(TlvError::BadLength {
                    offset: base + 1,
                    byte: l0,
                });
            }
            (len, 4)
        }
        _ => {
            return Err(TlvError::BadLength {
                offset: base + 1,
                byte: l0,
            })
        }
    };
    let avail = b.len() - hdr;
    let value = b.get(hdr..hdr + len).ok_or(TlvError::ValueTruncated {
        offset: base,
        tag,
        len,
        available: avail,
    })?;
    Ok((
        Tlv {
            tag,
            value,
            offset: base,
            value_offset: base + hdr,
        },
        hdr + len,
    ))
}

/// Append one TLV (minimal length; values longer than 65535 bytes are a caller bug and are
/// truncated to 65535 — no message of this protocol comes near that).
pub fn put(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    let v = &value[..value.len().min(0xFFFF)];
    out.push(tag);
    put_len(out, v.len());
    out.extend_from_slice(v);
}

/// Append a minimal length field.
pub fn put_len(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        _ => {
            let l = len.min(0xFFFF) as u16;
            out.push(0x82);
            out.extend_from_slice(&l.to_be_bytes());
        }
    }
}

/// A constructed TLV `tag L inner`.
pub fn wrap(tag: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len() + 4);
    put(&mut out, tag, inner);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors_have_offsets() {
        assert_eq!(
            parse_all(&[0x80], 10),
            Err(TlvError::HeaderTruncated { offset: 10 })
        );
        assert_eq!(
            parse_all(&[0x80, 0x81, 0x10], 0),
            Err(TlvError::BadLength {
                offset: 1,
                byte: 0x81
            })
        );
        assert_eq!(
            parse_all(&[0x80, 0x83, 0, 0, 1], 0),
            Err(TlvError::BadLength {
                offset: 1,
                byte: 0x83
            })
        );
        assert_eq!(
            parse_all(&[0x80, 0x01, 0xAA, 0x81, 0x03, 1], 5),
            Err(TlvError::ValueTruncated {
                offset: 8,
                tag: 0x81,
                len: 3,
                available: 1
            })
        );
    }

    proptest! {
        #[test]
        fn round_trip(items in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..5)) {
            let mut out = Vec::new();
            for (t, v) in &items { put(&mut out, *t, v); }
            let back = parse_all(&out, 0).unwrap();
            prop_assert_eq!(back.len(), items.len());
            for (b, (t, v)) in back.iter().zip(&items) {
                prop_assert_eq!(b.tag, *t);
                prop_assert_eq!(b.value, &v[..]);
            }
        }
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_all(&b, 0);
        }
    }
}
