//! KIc and KID, the key and algorithm identifiers of a secured packet (ETSI TS 102 225
//! §5.1.2 / §5.1.3). Each byte holds a key index (b8..b5) and an algorithm nibble (b4..b1);
//! reserved and proprietary nibbles are kept as they are.

use crate::spi::IntegrityMode;
use std::fmt;

/// The ciphering algorithm coded in the low nibble of KIc (TS 102 225 §5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KicAlg {
    /// `0001`: DES in CBC mode (legacy, before Release 8).
    DesCbc,
    /// `0101`: triple DES outer-CBC with two keys.
    TripleDes2Cbc,
    /// `1001`: triple DES outer-CBC with three keys.
    TripleDes3Cbc,
    /// `1101`: DES in ECB mode (legacy).
    DesEcb,
    /// `0010`: AES in CBC mode (key length from the stored key).
    AesCbc,
    /// b2b1 = `00`: algorithm known implicitly by both entities; the nibble is kept.
    Implicit(u8),
    /// b2b1 = `10` with b4b3 ≠ `00`: reserved AES mode; the nibble is kept.
    Reserved(u8),
    /// b2b1 = `11`: proprietary; the nibble is kept.
    Proprietary(u8),
}

impl KicAlg {
    /// Decode a low nibble.
    pub fn from_nibble(n: u8) -> Self {
        match n & 0x0F {
            0x1 => KicAlg::DesCbc,
            0x5 => KicAlg::TripleDes2Cbc,
            0x9 => KicAlg::TripleDes3Cbc,
            0xD => KicAlg::DesEcb,
            0x2 => KicAlg::AesCbc,
            n if n & 3 == 0 => KicAlg::Implicit(n),
            n if n & 3 == 2 => KicAlg::Reserved(n),
            n => KicAlg::Proprietary(n),
        }
    }
    /// The low nibble.
    pub fn nibble(self) -> u8 {
        match self {
            KicAlg::DesCbc => 0x1,
            KicAlg::TripleDes2Cbc => 0x5,
            KicAlg::TripleDes3Cbc => 0x9,
            KicAlg::DesEcb => 0xD,
            KicAlg::AesCbc => 0x2,
            KicAlg::Implicit(n) | KicAlg::Reserved(n) | KicAlg::Proprietary(n) => n & 0x0F,
        }
    }
}

impl fmt::Display for KicAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KicAlg::DesCbc => f.write_str("DES-CBC"),
            KicAlg::TripleDes2Cbc => f.write_str("3DES-CBC 2 keys"),
            KicAlg::TripleDes3Cbc => f.write_str("3DES-CBC 3 keys"),
            KicAlg::DesEcb => f.write_str("DES-ECB"),
            KicAlg::AesCbc => f.write_str("AES-CBC"),
            KicAlg::Implicit(n) => write!(f, "implicit algorithm (nibble {n:X})"),
            KicAlg::Reserved(n) => write!(f, "reserved (nibble {n:X})"),
            KicAlg::Proprietary(n) => write!(f, "proprietary (nibble {n:X})"),
        }
    }
}

/// The KIc byte (TS 102 225 §5.1.2): key index and ciphering algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kic {
    /// Key index / key version number (b8..b5, 0–15).
    pub key_index: u8,
    /// The algorithm nibble (b4..b1).
    pub alg: KicAlg,
}

impl Kic {
    /// Decode the byte.
    pub fn from_byte(b: u8) -> Self {
        Kic {
            key_index: b >> 4,
            alg: KicAlg::from_nibble(b),
        }
    }
    /// Encode the byte.
    pub fn to_byte(self) -> u8 {
        (self.key_index & 0x0F) << 4 | self.alg.nibble()
    }
}

impl fmt::Display for Kic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02X} (key {}, {})",
            self.to_byte(),
            self.key_index,
            self.alg
        )
    }
}

/// What the KID nibble means, which depends on whether the SPI asks for a CC or an RC
/// (TS 102 225 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KidAlg {
    /// CC `0001`: DES CBC-MAC (legacy).
    DesMac,
    /// CC `0101`: triple DES 2-key CBC-MAC.
    TripleDes2Mac,
    /// CC `1001`: triple DES 3-key CBC-MAC.
    TripleDes3Mac,
    /// CC `0010`: AES-CMAC.
    AesCmac,
    /// RC `0001`: CRC16.
    Crc16,
    /// RC `0101`: CRC32.
    Crc32,
    /// b2b1 = `00`: algorithm known implicitly; the nibble is kept.
    Implicit(u8),
    /// A reserved coding; the nibble is kept.
    Reserved(u8),
    /// b2b1 = `11`: proprietary; the nibble is kept.
    Proprietary(u8),
    /// The SPI asks for neither RC nor CC: KID is not used (the nibble is kept).
    Unused(u8),
}

impl fmt::Display for KidAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KidAlg::DesMac => f.write_str("DES CBC-MAC"),
            KidAlg::TripleDes2Mac => f.write_str("3DES 2-key CBC-MAC"),
            KidAlg::TripleDes3Mac => f.write_str("3DES 3-key CBC-MAC"),
            KidAlg::AesCmac => f.write_str("AES-CMAC"),
            KidAlg::Crc16 => f.write_str("CRC16"),
            KidAlg::Crc32 => f.write_str("CRC32"),
            KidAlg::Implicit(n) => write!(f, "implicit algorithm (nibble {n:X})"),
            KidAlg::Reserved(n) => write!(f, "reserved (nibble {n:X})"),
            KidAlg::Proprietary(n) => write!(f, "proprietary (nibble {n:X})"),
            KidAlg::Unused(n) => write!(f, "not used (nibble {n:X})"),
        }
    }
}

/// The KID byte (TS 102 225 §5.1.3): key index and the raw algorithm nibble, whose meaning
/// depends on the SPI (see [`Kid::alg`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kid {
    /// Key index / key version number (b8..b5, 0–15).
    pub key_index: u8,
    /// The algorithm nibble (b4..b1).
    pub nibble: u8,
}

impl Kid {
    /// Decode the byte.
    pub fn from_byte(b: u8) -> Self {
        Kid {
            key_index: b >> 4,
            nibble: b & 0x0F,
        }
    }
    /// Encode the byte.
    pub fn to_byte(self) -> u8 {
        (self.key_index & 0x0F) << 4 | (self.nibble & 0x0F)
    }
    /// Interpret the nibble for the RC/CC mode given by the SPI.
    pub fn alg(self, mode: IntegrityMode) -> KidAlg {
        let n = self.nibble & 0x0F;
        match mode {
            IntegrityMode::Cc => match n {
                0x1 => KidAlg::DesMac,
                0x5 => KidAlg::TripleDes2Mac,
                0x9 => KidAlg::TripleDes3Mac,
                0x2 => KidAlg::AesCmac,
                n if n & 3 == 0 => KidAlg::Implicit(n),
                n if n & 3 == 3 => KidAlg::Proprietary(n),
                n => KidAlg::Reserved(n),
            },
            IntegrityMode::Rc => match n {
                0x1 => KidAlg::Crc16,
                0x5 => KidAlg::Crc32,
                n if n & 3 == 0 => KidAlg::Implicit(n),
                n if n & 3 == 3 => KidAlg::Proprietary(n),
                n => KidAlg::Reserved(n),
            },
            IntegrityMode::None | IntegrityMode::Ds => KidAlg::Unused(n),
        }
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02X} (key {}, nibble {:X})",
            self.to_byte(),
            self.key_index,
            self.nibble
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(Kic::from_byte(b).to_byte(), b);
            assert_eq!(Kid::from_byte(b).to_byte(), b);
        }
    }

    #[test]
    fn known_codings() {
        assert_eq!(
            Kic::from_byte(0x35),
            Kic {
                key_index: 3,
                alg: KicAlg::TripleDes2Cbc
            }
        );
        assert_eq!(Kic::from_byte(0x22).alg, KicAlg::AesCbc);
        assert_eq!(Kic::from_byte(0x1D).alg, KicAlg::DesEcb);
        assert_eq!(Kic::from_byte(0x16).alg, KicAlg::Reserved(6));
        assert_eq!(Kid::from_byte(0x15).alg(IntegrityMode::Rc), KidAlg::Crc32);
        assert_eq!(
            Kid::from_byte(0x15).alg(IntegrityMode::Cc),
            KidAlg::TripleDes2Mac
        );
        assert_eq!(
            Kid::from_byte(0x1D).alg(IntegrityMode::Cc),
            KidAlg::Reserved(0xD)
        );
    }
}
