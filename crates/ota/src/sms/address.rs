//! TP-OA / TP-DA address fields (TS 23.040 §9.1.2.5): length in semi-octets, TON/NPI,
//! swapped BCD digits (with `*#abc`) or, for TON `101`, GSM 7-bit packed alphanumeric text.

use crate::error::{byte, take, OtaError, Result};
use crate::gsm7;
use std::fmt;

/// The address value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressValue {
    /// Semi-octet digits `0-9 * # a b c`.
    Digits(String),
    /// Alphanumeric (TON 101): text in the GSM default alphabet. `semi_octets` is the length
    /// field as sent, kept so that parsing and emitting round-trip (senders differ on
    /// whether it counts the useful or the whole semi-octets).
    Alphanumeric {
        /// The text.
        text: String,
        /// The address-length field.
        semi_octets: u8,
    },
}

/// An SMS address field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsAddress {
    /// Type of number (3 bits): 0 unknown, 1 international, 2 national, 3 network specific,
    /// 4 subscriber, 5 alphanumeric, 6 abbreviated, 7 reserved.
    pub ton: u8,
    /// Numbering plan identification (4 bits): 1 ISDN/E.164, …
    pub npi: u8,
    /// The value.
    pub value: AddressValue,
}

const DIGITS: &[u8; 16] = b"0123456789*#abc?";

impl SmsAddress {
    /// A numeric address.
    pub fn digits(ton: u8, npi: u8, digits: &str) -> Result<Self> {
        if let Some((i, c)) = digits
            .char_indices()
            .find(|&(_, c)| !"0123456789*#abcABC".contains(c))
        {
            return Err(OtaError::InvalidValue {
                field: "address",
                reason: format!(
                    "character {c:?} at index {i} is not a semi-octet digit (0-9*#abc)"
                ),
            });
        }
        if digits.len() > 20 {
            return Err(OtaError::InvalidValue {
                field: "address",
                reason: format!("{} digits exceed the 20 allowed", digits.len()),
            });
        }
        Ok(SmsAddress {
            ton: ton & 7,
            npi: npi & 15,
            value: AddressValue::Digits(digits.to_ascii_lowercase()),
        })
    }

    /// An alphanumeric address (TON 101, NPI 0000); length = useful semi-octets.
    pub fn alphanumeric(text: &str) -> Result<Self> {
        let septets = gsm7::encode(text)?;
        let bits = septets.len() * 7;
        if bits > 80 {
            return Err(OtaError::InvalidValue {
                field: "address",
                reason: format!(
                    "alphanumeric address of {} septets exceeds 11",
                    septets.len()
                ),
            });
        }
        Ok(SmsAddress {
            ton: 5,
            npi: 0,
            value: AddressValue::Alphanumeric {
                text: text.to_string(),
                semi_octets: bits.div_ceil(4) as u8,
            },
        })
    }

    /// The TON/NPI byte (b8 always 1).
    pub fn type_byte(&self) -> u8 {
        0x80 | (self.ton & 7) << 4 | (self.npi & 15)
    }

    /// Parse at `at` in `b` (offsets in errors are relative to `b`); returns the address and
    /// the bytes used.
    pub fn parse(b: &[u8], at: usize, field: &'static str) -> Result<(Self, usize)> {
        let len = byte(b, at, field)?;
        let toa = byte(b, at + 1, field)?;
        let ton = (toa >> 4) & 7;
        let npi = toa & 15;
        let nbytes = usize::from(len).div_ceil(2);
        if nbytes > 10 {
            return Err(OtaError::Malformed {
                field,
                offset: at,
                reason: format!("address length {len} semi-octets exceeds 20"),
            });
        }
        let v = take(b, at + 2, nbytes, field)?;
        let value = if ton == 5 {
            let septets = gsm7::unpack(v, usize::from(len) * 4 / 7, 0)?;
            AddressValue::Alphanumeric {
                text: gsm7::decode(&septets),
                semi_octets: len,
            }
        } else {
            let mut s = String::with_capacity(usize::from(len));
            for i in 0..usize::from(len) {
                let o = v.get(i / 2).copied().unwrap_or(0xFF);
                let n = if i % 2 == 0 { o & 15 } else { o >> 4 };
                if n == 15 {
                    return Err(OtaError::Malformed {
                        field,
                        offset: at + 2 + i / 2,
                        reason: format!("filler F inside the {len} announced digits"),
                    });
                }
                s.push(char::from(DIGITS[usize::from(n)]));
            }
            AddressValue::Digits(s)
        };
        Ok((SmsAddress { ton, npi, value }, 2 + nbytes))
    }

    /// Append the encoding.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<()> {
        match &self.value {
            AddressValue::Digits(d) => {
                out.push(d.len() as u8);
                out.push(self.type_byte());
                let nib: Vec<u8> = d
                    .bytes()
                    .map(|c| {
                        DIGITS
                            .iter()
                            .position(|&x| x == c.to_ascii_lowercase())
                            .unwrap_or(15) as u8
                    })
                    .collect();
                for pair in nib.chunks(2) {
                    let lo = pair.first().copied().unwrap_or(15);
                    let hi = pair.get(1).copied().unwrap_or(15);
                    out.push(hi << 4 | lo);
                }
            }
            AddressValue::Alphanumeric { text, semi_octets } => {
                let mut packed = gsm7::pack_str(text)?;
                packed.resize(usize::from(*semi_octets).div_ceil(2).max(packed.len()), 0);
                out.push(*semi_octets);
                out.push(self.type_byte());
                out.extend_from_slice(&packed);
            }
        }
        Ok(())
    }

    /// The encoding.
    pub fn emit(&self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.emit_into(&mut v)?;
        Ok(v)
    }
}

impl fmt::Display for SmsAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            AddressValue::Digits(d) => write!(
                f,
                "{}{d} (TON {}, NPI {})",
                if self.ton == 1 { "+" } else { "" },
                self.ton,
                self.npi
            ),
            AddressValue::Alphanumeric { text, .. } => write!(f, "{text:?} (alphanumeric)"),
        }
    }
}
