//! TLV codecs: [`ber`] (ISO/IEC 7816-4 §5.2 BER-TLV) and [`comprehension`]
//! (ETSI TS 101 220 §7.1.1 COMPREHENSION-TLV, used by CAT).
//!
//! Both parse into trees whose nodes remember how their length was written, so that
//! `emit(parse(b)) == b` for every valid input, including non-minimal lengths.

pub mod ber;
pub mod comprehension;

pub use ber::{BerTag, BerTlv, BerValue};
pub use comprehension::{CompTag, CompTlv};

use thiserror::Error;

/// How a length field was (or will be) written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LenForm {
    /// The shortest definite form for the value.
    Minimal,
    /// Definite long form with this many length bytes after the `8n` byte (1–4), even where a
    /// shorter form would do.
    Long(u8),
    /// BER indefinite length `80`, content terminated by `00 00` (constructed BER only).
    Indefinite,
}

impl LenForm {
    /// The form a parser reports after reading back a length of `len` written in this form:
    /// a `Long(n)` that is the shortest long form for `len ≥ 128` reads back as `Minimal`,
    /// and a `Long(n)` too short (or outside 1–4) is written, and so read, minimally.
    pub fn normalized(self, len: usize) -> LenForm {
        match self {
            LenForm::Long(n) if !(1..=4).contains(&n) || (n as usize) < min_long_bytes(len) => {
                LenForm::Minimal
            }
            LenForm::Long(n) if n as usize == min_long_bytes(len) && len >= 0x80 => {
                LenForm::Minimal
            }
            f => f,
        }
    }
}

/// Why a TLV could not be decoded; `offset` is from the start of the outermost input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    /// Input ended inside a tag.
    #[error("offset {offset}: tag truncated")]
    TagTruncated {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// A tag value that the format reserves (`00`, `FF`, `80` for COMPREHENSION-TLV).
    #[error("offset {offset}: tag {tag:02X} is reserved/invalid")]
    BadTag {
        /// Byte offset of the problem.
        offset: usize,
        /// The tag value.
        tag: u32,
    },
    /// A BER tag longer than 4 bytes.
    #[error("offset {offset}: tag longer than 4 bytes")]
    TagTooLong {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// Input ended inside a length field.
    #[error("offset {offset}: length field truncated")]
    LenTruncated {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// A length byte that is not allowed here (`85`–`FF`, or `80` outside a BER constructed object).
    #[error("offset {offset}: invalid length byte {byte:02X}")]
    BadLen {
        /// Byte offset of the problem.
        offset: usize,
        /// The offending length byte.
        byte: u8,
    },
    /// The value runs past the end of the enclosing data.
    #[error(
        "offset {offset}: length {len} runs past the end of the data ({available} bytes left)"
    )]
    ValueTruncated {
        /// Offset of the length field.
        offset: usize,
        /// The announced length.
        len: usize,
        /// Bytes actually left.
        available: usize,
    },
    /// An indefinite-length object without its `00 00` end-of-contents.
    #[error("offset {offset}: indefinite length without end-of-contents 00 00")]
    MissingEoc {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// Nesting deeper than the decoder allows.
    #[error("offset {offset}: nesting deeper than {max} levels")]
    TooDeep {
        /// Byte offset of the problem.
        offset: usize,
        /// The limit.
        max: usize,
    },
}

/// Maximum nesting depth accepted by the decoders.
pub const MAX_DEPTH: usize = 32;

/// Decode a length at `b[at..]`: returns (length, form, bytes used). `allow_indefinite`
/// permits `80` (returned as `LenForm::Indefinite` with length 0); `max_len_bytes` is how many
/// bytes may follow an `8n` byte (4 for BER-TLV, 3 for COMPREHENSION-TLV per TS 101 220 §7.1.2).
pub(crate) fn read_len(
    b: &[u8],
    at: usize,
    base: usize,
    allow_indefinite: bool,
    max_len_bytes: u8,
) -> Result<(usize, LenForm, usize), TlvError> {
    let first = *b
        .get(at)
        .ok_or(TlvError::LenTruncated { offset: base + at })?;
    match first {
        0x00..=0x7F => Ok((first as usize, LenForm::Minimal, 1)),
        0x80 if allow_indefinite => Ok((0, LenForm::Indefinite, 1)),
        0x81..=0x84 if first & 0x7F <= max_len_bytes => {
            let n = (first & 0x7F) as usize;
            let bytes = b
                .get(at + 1..at + 1 + n)
                .ok_or(TlvError::LenTruncated { offset: base + at })?;
            let len = bytes.iter().fold(0usize, |a, &x| a << 8 | x as usize);
            let form = if n == min_long_bytes(len) && len >= 0x80 {
                LenForm::Minimal
            } else {
                LenForm::Long(n as u8)
            };
            Ok((len, form, 1 + n))
        }
        _ => Err(TlvError::BadLen {
            offset: base + at,
            byte: first,
        }),
    }
}

/// `b[start..start + len]`, or a `ValueTruncated` error naming the length field's offset.
pub(crate) fn value_slice(
    b: &[u8],
    start: usize,
    len: usize,
    len_offset: usize,
) -> Result<&[u8], TlvError> {
    start
        .checked_add(len)
        .and_then(|end| b.get(start..end))
        .ok_or(TlvError::ValueTruncated {
            offset: len_offset,
            len,
            available: b.len().saturating_sub(start),
        })
}

fn min_long_bytes(len: usize) -> usize {
    match len {
        0..=0xFF => 1,
        0x100..=0xFFFF => 2,
        0x1_0000..=0xFF_FFFF => 3,
        _ => 4,
    }
}

/// Append a length in the given form. A `Long(n)` too small for `len` falls back to minimal.
pub(crate) fn write_len(out: &mut Vec<u8>, len: usize, form: LenForm) {
    match form {
        LenForm::Indefinite => out.push(0x80),
        LenForm::Long(n) if (n as usize) >= min_long_bytes(len) && (1..=4).contains(&n) => {
            out.push(0x80 | n);
            for i in (0..n).rev() {
                out.push((len >> (8 * i as usize)) as u8);
            }
        }
        _ if len < 0x80 => out.push(len as u8),
        _ => {
            let n = min_long_bytes(len) as u8;
            out.push(0x80 | n);
            for i in (0..n).rev() {
                out.push((len >> (8 * i as usize)) as u8);
            }
        }
    }
}

/// Number of bytes [`write_len`] produces.
pub(crate) fn len_len(len: usize, form: LenForm) -> usize {
    match form {
        LenForm::Indefinite => 1,
        LenForm::Long(n) if (n as usize) >= min_long_bytes(len) && (1..=4).contains(&n) => {
            1 + n as usize
        }
        _ if len < 0x80 => 1,
        _ => 1 + min_long_bytes(len),
    }
}

/// Encode a definite length in minimal form (`xx`, `81 xx`, `82 xx xx`, …).
pub fn encode_len(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(5);
    write_len(&mut v, len, LenForm::Minimal);
    v
}
