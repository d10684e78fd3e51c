//! Lenient hex parsing for user input and compact hex formatting for output.
//!
//! Accepted: pairs of hex digits separated by nothing, spaces, tabs, colons, commas or
//! newlines, each byte or the whole string optionally prefixed with `0x`/`0X`.

use thiserror::Error;

/// Why a hex string could not be read; `offset` is the character offset in the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HexError {
    /// A character that is not a hex digit or an accepted separator.
    #[error("offset {offset}: expected a hex digit, found {found:?}")]
    BadChar {
        /// Byte offset of the problem.
        offset: usize,
        /// The offending character.
        found: char,
    },
    /// An odd number of hex digits in one run.
    #[error("offset {offset}: odd number of hex digits (a byte needs two)")]
    OddDigits {
        /// Byte offset of the problem.
        offset: usize,
    },
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b':' | b',' | b'\n' | b'\r' | b'-' | b'_')
}

/// Decode hex text into bytes (see module doc for the accepted forms).
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    let mut pending: Option<(u8, usize)> = None;
    while i < b.len() {
        let c = b[i];
        if c == b'0' && pending.is_none() && matches!(b.get(i + 1), Some(b'x' | b'X')) {
            // A `0x` prefix is only a prefix when followed by a digit.
            if b.get(i + 2).and_then(|&d| nibble(d)).is_some() {
                i += 2;
                continue;
            }
        }
        if is_sep(c) {
            if let Some((_, at)) = pending {
                return Err(HexError::OddDigits { offset: at });
            }
            i += 1;
            continue;
        }
        match nibble(c) {
            Some(n) => match pending.take() {
                Some((hi, _)) => out.push(hi << 4 | n),
                None => pending = Some((n, i)),
            },
            None => {
                let found = text[i..].chars().next().unwrap_or('?');
                return Err(HexError::BadChar { offset: i, found });
            }
        }
        i += 1;
    }
    if let Some((_, at)) = pending {
        return Err(HexError::OddDigits { offset: at });
    }
    Ok(out)
}

/// Upper-case hex with no separators (`00A40004`).
pub fn encode(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &x in bytes {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// Upper-case hex with a space between bytes (`00 A4 00 04`), as pcsc-tools print.
pub fn encode_spaced(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, &x) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&encode(&[x]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_separators_and_prefixes() {
        assert_eq!(
            decode("00A4 00:04 0x02,0x3F00").unwrap(),
            [0, 0xA4, 0, 4, 2, 0x3F, 0]
        );
        assert_eq!(decode("0x00A40004").unwrap(), [0, 0xA4, 0, 4]);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn errors_name_offsets() {
        assert_eq!(
            decode("00 G1"),
            Err(HexError::BadChar {
                offset: 3,
                found: 'G'
            })
        );
        assert_eq!(decode("00 1 22"), Err(HexError::OddDigits { offset: 3 }));
        assert_eq!(decode("001"), Err(HexError::OddDigits { offset: 2 }));
    }

    #[test]
    fn encodes() {
        assert_eq!(encode(&[0x3f, 0x00]), "3F00");
        assert_eq!(encode_spaced(&[0x90, 0x00]), "90 00");
    }
}
