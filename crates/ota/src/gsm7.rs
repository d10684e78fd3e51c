//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1,
//! §6.2.1.1) and septet packing (TS 23.038 §6.1.2.1.1), with fill bits for text that
//! follows a User Data Header (TS 23.040 §9.2.3.24).
//!
//! Used for alphanumeric SMS addresses and, by CAT, for text strings coded in the default
//! alphabet.

use crate::error::{OtaError, Result};

/// Escape to the extension table.
pub const ESC: u8 = 0x1B;

/// The default alphabet, indexed by septet value (0x1B, the escape, maps to a space here).
const DEFAULT: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table entries (septet after ESC, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Convert text to default-alphabet septets (extension characters become `ESC x`).
/// Characters outside the alphabet are an error naming the character index.
pub fn encode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let base = DEFAULT
            .iter()
            .enumerate()
            .find(|&(s, &d)| d == c && s != usize::from(ESC));
        if let Some((s, _)) = base {
            out.push(s as u8);
        } else if let Some(&(s, _)) = EXTENSION.iter().find(|&&(_, d)| d == c) {
            out.push(ESC);
            out.push(s);
        } else {
            return Err(OtaError::InvalidValue {
                field: "GSM 7-bit text",
                reason: format!("character {c:?} at index {i} is not in the default alphabet"),
            });
        }
    }
    Ok(out)
}

/// Convert septets to text. Unknown extension codes decode as the base character (TS 23.038
/// says a receiver shall display the default-table character); a trailing lone ESC is dropped.
pub fn decode(septets: &[u8]) -> String {
    let mut s = String::with_capacity(septets.len());
    let mut it = septets.iter().map(|&x| x & 0x7F);
    while let Some(x) = it.next() {
        if x == ESC {
            if let Some(y) = it.next() {
                let c = EXTENSION
                    .iter()
                    .find(|&&(e, _)| e == y)
                    .map_or(DEFAULT[usize::from(y)], |&(_, c)| c);
                s.push(c);
            }
        } else {
            s.push(DEFAULT[usize::from(x)]);
        }
    }
    s
}

/// Pack septets into octets, least significant bit first, after `fill_bits` (0–6) zero bits.
pub fn pack(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits % 7);
    let bits = fill + septets.len() * 7;
    let mut out = vec![0u8; bits.div_ceil(8)];
    for (i, &s) in septets.iter().enumerate() {
        let pos = fill + i * 7;
        let (byte, shift) = (pos / 8, pos % 8);
        let v = u16::from(s & 0x7F) << shift;
        if let Some(b) = out.get_mut(byte) {
            *b |= v as u8;
        }
        if let Some(b) = out.get_mut(byte + 1) {
            *b |= (v >> 8) as u8;
        }
    }
    out
}

/// Unpack `count` septets from octets after `fill_bits` (0–6) bits; fails if the octets are
/// too short.
pub fn unpack(octets: &[u8], count: usize, fill_bits: u8) -> Result<Vec<u8>> {
    let fill = usize::from(fill_bits % 7);
    let need = (fill + count * 7).div_ceil(8);
    if octets.len() < need {
        return Err(OtaError::Truncated {
            field: "GSM 7-bit packed data",
            offset: 0,
            needed: need,
            available: octets.len(),
        });
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let pos = fill + i * 7;
        let (byte, shift) = (pos / 8, pos % 8);
        let lo = u16::from(octets.get(byte).copied().unwrap_or(0));
        let hi = u16::from(octets.get(byte + 1).copied().unwrap_or(0));
        out.push((((hi << 8 | lo) >> shift) & 0x7F) as u8);
    }
    Ok(out)
}

/// Encode text and pack it (no fill bits).
pub fn pack_str(text: &str) -> Result<Vec<u8>> {
    Ok(pack(&encode(text)?, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_packing() {
        // "hellohello" (TS 23.038 style example).
        assert_eq!(
            apdu::hex::encode(&pack_str("hellohello").unwrap()),
            "E8329BFD4697D9EC37"
        );
        assert_eq!(
            decode(&unpack(&[0xE5, 0x75, 0x9A, 0x0E], 4, 0).unwrap()),
            "ekit"
        );
        assert_eq!(encode("€[").unwrap(), [0x1B, 0x65, 0x1B, 0x3C]);
        assert_eq!(decode(&[0x1B, 0x65, 0x41]), "€A");
        assert!(encode("日").is_err());
    }

    #[test]
    fn fill_bits() {
        let p = pack(&[0x41, 0x42], 1);
        assert_eq!(unpack(&p, 2, 1).unwrap(), [0x41, 0x42]);
        assert_eq!(p[0] & 1, 0);
    }

    proptest! {
        #[test]
        fn pack_round_trips(s in proptest::collection::vec(0u8..128, 0..200), fill in 0u8..7) {
            let p = pack(&s, fill);
            prop_assert_eq!(unpack(&p, s.len(), fill).unwrap(), s);
        }

        #[test]
        fn text_round_trips(idx in proptest::collection::vec(0usize..128, 0..50)) {
            let text: String = idx.iter().filter(|&&i| i != 0x1B).map(|&i| DEFAULT[i]).collect();
            // 0x1B maps to ' ' in the table only as a placeholder; skip it and the duplicate space.
            let back = decode(&encode(&text).unwrap());
            prop_assert_eq!(back, text);
        }
    }
}
