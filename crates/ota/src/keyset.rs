//! Keysets: the ciphering (KIc) and integrity (KID) algorithms and keys of one SCP80 key
//! version, with key schedules prepared once (ETSI TS 102 225 §5.1.2, §5.1.3; TS 31.115 §4).
//!
//! * Ciphering: DES-CBC, 3DES outer-CBC 2-key (K1‖K2‖K1) and 3-key, DES-ECB, AES-CBC
//!   (128/192/256 from the key length); IV always zero.
//! * Cryptographic checksum: DES/3DES CBC-MAC (zero IV, zero padding to the block size,
//!   last block) and AES-CMAC (NIST SP 800-38B), truncated to the CC length (8 when building).
//! * Redundancy check: CRC16 / CRC32 (see [`crate::crc`]).
//! * The KID nibble is read per mode (§5.1.3.1 for a CC, §5.1.3.2 for an RC): the SPI of
//!   each packet (SPI1 b2b1 for the command, SPI2 b4b3 for its PoR) says RC or CC, so one
//!   keyset serves both: nibble 5 is 3DES 2-key CBC-MAC for a CC and CRC32 for an RC.
//!
//! Keys are only held as prepared cipher instances, which the RustCrypto crates zeroize on
//! drop; `Debug` shows algorithms and indices, never key bytes.

use crate::crc::{Crc16, Crc32};
use crate::error::{OtaError, Result};
use crate::keyid::{Kic, KicAlg, Kid, KidAlg};
use crate::mac::{cbc_mac, Cmac};
use crate::spi::IntegrityMode;
use aes::{Aes128, Aes192, Aes256};
use cipher::block_padding::NoPadding;
use cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    KeyInit,
};
use des::{Des, TdesEde2, TdesEde3};
use std::fmt;
use std::str::FromStr;

/// A ciphering algorithm for the KIc (TS 102 225 §5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherAlgorithm {
    /// DES-CBC, 8-byte key (legacy).
    DesCbc,
    /// 3DES outer-CBC with 2 keys, 16-byte key.
    TripleDes2Cbc,
    /// 3DES outer-CBC with 3 keys, 24-byte key.
    TripleDes3Cbc,
    /// DES-ECB, 8-byte key (legacy).
    DesEcb,
    /// AES-CBC, 16-, 24- or 32-byte key.
    AesCbc,
}

impl CipherAlgorithm {
    /// The CLI name (`des-cbc`, `3des2`, `3des3`, `des-ecb`, `aes-cbc`).
    pub fn name(self) -> &'static str {
        match self {
            CipherAlgorithm::DesCbc => "des-cbc",
            CipherAlgorithm::TripleDes2Cbc => "3des2",
            CipherAlgorithm::TripleDes3Cbc => "3des3",
            CipherAlgorithm::DesEcb => "des-ecb",
            CipherAlgorithm::AesCbc => "aes-cbc",
        }
    }
    /// The KIc algorithm coding.
    pub fn kic_alg(self) -> KicAlg {
        match self {
            CipherAlgorithm::DesCbc => KicAlg::DesCbc,
            CipherAlgorithm::TripleDes2Cbc => KicAlg::TripleDes2Cbc,
            CipherAlgorithm::TripleDes3Cbc => KicAlg::TripleDes3Cbc,
            CipherAlgorithm::DesEcb => KicAlg::DesEcb,
            CipherAlgorithm::AesCbc => KicAlg::AesCbc,
        }
    }
    /// The cipher block size.
    pub fn block_size(self) -> usize {
        match self {
            CipherAlgorithm::AesCbc => 16,
            _ => 8,
        }
    }
    /// All algorithms.
    pub const ALL: [CipherAlgorithm; 5] = [
        CipherAlgorithm::DesCbc,
        CipherAlgorithm::TripleDes2Cbc,
        CipherAlgorithm::TripleDes3Cbc,
        CipherAlgorithm::DesEcb,
        CipherAlgorithm::AesCbc,
    ];
}

impl FromStr for CipherAlgorithm {
    type Err = OtaError;
    fn from_str(s: &str) -> Result<Self> {
        CipherAlgorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or(OtaError::InvalidValue {
                field: "kic_alg",
                reason: format!(
                    "unknown algorithm {s:?} (none, des-cbc, 3des2, 3des3, des-ecb, aes-cbc)"
                ),
            })
    }
}

/// An RC or CC algorithm for the KID (TS 102 225 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// DES CBC-MAC, 8-byte key (legacy).
    DesMac,
    /// 3DES 2-key CBC-MAC, 16-byte key.
    TripleDes2Mac,
    /// 3DES 3-key CBC-MAC, 24-byte key.
    TripleDes3Mac,
    /// AES-CMAC, 16/24/32-byte key.
    AesCmac,
    /// CRC16 redundancy check (KID nibble 1; with a CC the nibble means DES CBC-MAC, so the
    /// keyset may hold an 8-byte key for that).
    Crc16,
    /// CRC32 redundancy check (KID nibble 5; with a CC the nibble means 3DES 2-key CBC-MAC,
    /// so the keyset may hold a 16-byte key for that).
    Crc32,
}

impl ChecksumAlgorithm {
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::DesMac => "des-mac",
            ChecksumAlgorithm::TripleDes2Mac => "3des2-mac",
            ChecksumAlgorithm::TripleDes3Mac => "3des3-mac",
            ChecksumAlgorithm::AesCmac => "aes-cmac",
            ChecksumAlgorithm::Crc16 => "crc16",
            ChecksumAlgorithm::Crc32 => "crc32",
        }
    }
    /// RC for the CRCs, CC for the MACs.
    pub fn mode(self) -> IntegrityMode {
        match self {
            ChecksumAlgorithm::Crc16 | ChecksumAlgorithm::Crc32 => IntegrityMode::Rc,
            _ => IntegrityMode::Cc,
        }
    }
    /// The KID nibble.
    pub fn nibble(self) -> u8 {
        match self {
            ChecksumAlgorithm::DesMac | ChecksumAlgorithm::Crc16 => 0x1,
            ChecksumAlgorithm::TripleDes2Mac | ChecksumAlgorithm::Crc32 => 0x5,
            ChecksumAlgorithm::TripleDes3Mac => 0x9,
            ChecksumAlgorithm::AesCmac => 0x2,
        }
    }
    /// The KID algorithm coding.
    pub fn kid_alg(self) -> KidAlg {
        match self {
            ChecksumAlgorithm::DesMac => KidAlg::DesMac,
            ChecksumAlgorithm::TripleDes2Mac => KidAlg::TripleDes2Mac,
            ChecksumAlgorithm::TripleDes3Mac => KidAlg::TripleDes3Mac,
            ChecksumAlgorithm::AesCmac => KidAlg::AesCmac,
            ChecksumAlgorithm::Crc16 => KidAlg::Crc16,
            ChecksumAlgorithm::Crc32 => KidAlg::Crc32,
        }
    }
    /// The RC/CC length this crate emits: 8 for CCs, 2 for CRC16, 4 for CRC32.
    pub fn default_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc16 => 2,
            ChecksumAlgorithm::Crc32 => 4,
            _ => 8,
        }
    }
    /// Whether an RC/CC of `len` bytes can be computed: CRCs need exactly their size; CCs
    /// may be truncated to 1..=block size.
    pub fn accepts_len(self, len: usize) -> bool {
        match self {
            ChecksumAlgorithm::Crc16 => len == 2,
            ChecksumAlgorithm::Crc32 => len == 4,
            ChecksumAlgorithm::AesCmac => (1..=16).contains(&len),
            _ => (1..=8).contains(&len),
        }
    }
    /// Whether a *received* RC/CC of `len` bytes (its length taken from CHL/RHL) is
    /// acceptable: CRCs exactly their size; a CC 8 bytes (real cards, spec digest A.4) or 4
    /// (the length \[UNSURE\] pySim mentions for AES). Shorter CCs are refused: a receiver
    /// that checked a 1-byte CC could be forged in 256 tries (found by `simota fuzz ota`,
    /// class `hdr.chl-lie`).
    pub fn accepts_received_len(self, len: usize) -> bool {
        match self {
            ChecksumAlgorithm::Crc16 => len == 2,
            ChecksumAlgorithm::Crc32 => len == 4,
            _ => len == 4 || len == 8,
        }
    }
    /// All algorithms.
    pub const ALL: [ChecksumAlgorithm; 6] = [
        ChecksumAlgorithm::DesMac,
        ChecksumAlgorithm::TripleDes2Mac,
        ChecksumAlgorithm::TripleDes3Mac,
        ChecksumAlgorithm::AesCmac,
        ChecksumAlgorithm::Crc16,
        ChecksumAlgorithm::Crc32,
    ];
}

impl FromStr for ChecksumAlgorithm {
    type Err = OtaError;
    fn from_str(s: &str) -> Result<Self> {
        ChecksumAlgorithm::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(s)).ok_or(
            OtaError::InvalidValue {
                field: "kid_alg",
                reason: format!(
                    "unknown algorithm {s:?} (none, des-mac, 3des2-mac, 3des3-mac, aes-cmac, crc16, crc32)"
                ),
            },
        )
    }
}

/// A prepared block cipher (key schedule computed once).
#[derive(Clone)]
enum Block {
    Des(Des),
    Tdes2(TdesEde2),
    Tdes3(TdesEde3),
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

macro_rules! with_block {
    ($b:expr, $c:ident => $e:expr) => {
        match $b {
            Block::Des($c) => $e,
            Block::Tdes2($c) => $e,
            Block::Tdes3($c) => $e,
            Block::Aes128($c) => $e,
            Block::Aes192($c) => $e,
            Block::Aes256($c) => $e,
        }
    };
}

fn new_cipher<C: KeyInit>(key: &[u8]) -> Option<C> {
    C::new_from_slice(key).ok()
}

fn key_err(which: &'static str, alg: &'static str, expected: &'static str, got: usize) -> OtaError {
    OtaError::KeyLength {
        which,
        alg,
        expected,
        got,
    }
}

fn des_block(which: &'static str, alg: &'static str, key: &[u8], n: usize) -> Result<Block> {
    let expected = match n {
        8 => "8",
        16 => "16",
        _ => "24",
    };
    if key.len() != n {
        return Err(key_err(which, alg, expected, key.len()));
    }
    let b = match n {
        8 => new_cipher::<Des>(key).map(Block::Des),
        16 => new_cipher::<TdesEde2>(key).map(Block::Tdes2),
        _ => new_cipher::<TdesEde3>(key).map(Block::Tdes3),
    };
    b.ok_or(key_err(which, alg, expected, key.len()))
}

fn aes_block(which: &'static str, alg: &'static str, key: &[u8]) -> Result<Block> {
    let b = match key.len() {
        16 => new_cipher::<Aes128>(key).map(Block::Aes128),
        24 => new_cipher::<Aes192>(key).map(Block::Aes192),
        32 => new_cipher::<Aes256>(key).map(Block::Aes256),
        _ => None,
    };
    b.ok_or(key_err(which, alg, "16, 24 or 32", key.len()))
}

/// CBC encryption with zero IV of a block-aligned buffer, in one pass through the cipher
/// backend (the caller has checked the alignment).
fn cbc_encrypt<C: BlockCipherEncrypt>(c: &C, buf: &mut [u8]) -> bool {
    let n = buf.len();
    cbc::Encryptor::<&C>::inner_iv_init(c, &Array::default())
        .encrypt_padded::<NoPadding>(buf, n)
        .is_ok()
}

/// CBC decryption with zero IV of a block-aligned buffer (parallel blocks where the backend
/// has them).
fn cbc_decrypt<C: BlockCipherEncrypt + BlockCipherDecrypt>(c: &C, buf: &mut [u8]) -> bool {
    cbc::Decryptor::<&C>::inner_iv_init(c, &Array::default())
        .decrypt_padded::<NoPadding>(buf)
        .is_ok()
}

/// ECB over a block-aligned buffer (DES-ECB, TS 102 225 §5.1.2).
fn ecb<C: BlockCipherEncrypt + BlockCipherDecrypt>(c: &C, buf: &mut [u8], encrypt: bool) {
    for blk in buf.chunks_exact_mut(8) {
        if let Ok(b) = <&mut Array<u8, C::BlockSize>>::try_from(blk) {
            if encrypt {
                c.encrypt_block(b);
            } else {
                c.decrypt_block(b);
            }
        }
    }
}

/// A prepared AES-CMAC key (subkeys derived once, see [`crate::mac`]).
#[derive(Clone)]
enum CmacKey {
    Aes128(Cmac<Aes128>),
    Aes192(Cmac<Aes192>),
    Aes256(Cmac<Aes256>),
}

#[derive(Clone)]
enum MacKey {
    Block(Box<Block>),
    Cmac(Box<CmacKey>),
    /// No key: only the RC meaning of the nibble (CRC16/CRC32) can be computed.
    None,
}

/// The ciphering half of a keyset.
#[derive(Clone)]
struct CipherKey {
    alg: CipherAlgorithm,
    block: Block,
}

/// The integrity half of a keyset.
#[derive(Clone)]
struct ChecksumKey {
    alg: ChecksumAlgorithm,
    key: MacKey,
}

/// A computed RC/CC value (up to 16 bytes; use [`Checksum::as_bytes`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    buf: [u8; 16],
    len: usize,
}

impl Checksum {
    /// The value, truncated to the requested length.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&self.buf)
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", apdu::hex::encode(self.as_bytes()))
    }
}

/// One SCP80 keyset: optional ciphering algorithm+key (KIc) and optional RC/CC
/// algorithm+key (KID), with their key indices. Cipher instances are set up once here and
/// reused for every packet.
#[derive(Clone, Default)]
pub struct Keyset {
    kic: Option<CipherKey>,
    kid: Option<ChecksumKey>,
    /// KIc key index (0–15), b8..b5 of the KIc byte.
    pub kic_index: u8,
    /// KID key index (0–15), b8..b5 of the KID byte.
    pub kid_index: u8,
}

impl fmt::Debug for Keyset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyset")
            .field("kic_alg", &self.kic_alg().map(|a| a.name()))
            .field("kic_index", &self.kic_index)
            .field("kid_alg", &self.kid_alg().map(|a| a.name()))
            .field("kid_index", &self.kid_index)
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Keyset {
    /// A keyset with no ciphering and no RC/CC.
    pub fn new() -> Self {
        Keyset::default()
    }

    /// Set the ciphering algorithm, key and index. Key lengths: DES 8, 3DES-2key 16,
    /// 3DES-3key 24, AES 16/24/32.
    pub fn with_kic(mut self, alg: CipherAlgorithm, key: &[u8], index: u8) -> Result<Self> {
        check_index("kic_index", index)?;
        let n = alg.name();
        let block = match alg {
            CipherAlgorithm::DesCbc | CipherAlgorithm::DesEcb => des_block("KIc", n, key, 8)?,
            CipherAlgorithm::TripleDes2Cbc => des_block("KIc", n, key, 16)?,
            CipherAlgorithm::TripleDes3Cbc => des_block("KIc", n, key, 24)?,
            CipherAlgorithm::AesCbc => aes_block("KIc", n, key)?,
        };
        self.kic = Some(CipherKey { alg, block });
        self.kic_index = index;
        Ok(self)
    }

    /// Set the RC/CC algorithm, key and index. The algorithm gives the KID nibble, which
    /// each packet's SPI reads as an RC or a CC ([`Keyset::kid_alg_for`]). CRCs take no key
    /// or, for the CC reading of their nibble, an 8-byte (crc16: DES) or 16-byte (crc32:
    /// 3DES 2-key) key.
    pub fn with_kid(mut self, alg: ChecksumAlgorithm, key: &[u8], index: u8) -> Result<Self> {
        check_index("kid_index", index)?;
        let n = alg.name();
        let k = match alg {
            ChecksumAlgorithm::DesMac => MacKey::Block(Box::new(des_block("KID", n, key, 8)?)),
            ChecksumAlgorithm::TripleDes2Mac => {
                MacKey::Block(Box::new(des_block("KID", n, key, 16)?))
            }
            ChecksumAlgorithm::TripleDes3Mac => {
                MacKey::Block(Box::new(des_block("KID", n, key, 24)?))
            }
            ChecksumAlgorithm::AesCmac => MacKey::Cmac(Box::new(match aes_block("KID", n, key)? {
                Block::Aes128(c) => CmacKey::Aes128(Cmac::new(c)),
                Block::Aes192(c) => CmacKey::Aes192(Cmac::new(c)),
                Block::Aes256(c) => CmacKey::Aes256(Cmac::new(c)),
                _ => return Err(key_err("KID", n, "16, 24 or 32", key.len())),
            })),
            // A CRC needs no key. The same nibble with a CC means DES (1) or 3DES 2-key (5)
            // CBC-MAC (TS 102 225 §5.1.3.1), so a CRC keyset may hold that key too.
            ChecksumAlgorithm::Crc16 => match key.len() {
                0 => MacKey::None,
                8 => MacKey::Block(Box::new(des_block("KID", n, key, 8)?)),
                l => {
                    return Err(key_err(
                        "KID",
                        n,
                        "0 (RC only) or 8 (nibble 1 with a CC is DES CBC-MAC)",
                        l,
                    ))
                }
            },
            ChecksumAlgorithm::Crc32 => match key.len() {
                0 => MacKey::None,
                16 => MacKey::Block(Box::new(des_block("KID", n, key, 16)?)),
                l => {
                    return Err(key_err(
                        "KID",
                        n,
                        "0 (RC only) or 16 (nibble 5 with a CC is 3DES 2-key CBC-MAC)",
                        l,
                    ))
                }
            },
        };
        self.kid = Some(ChecksumKey { alg, key: k });
        self.kid_index = index;
        Ok(self)
    }

    /// The ciphering algorithm, if any.
    pub fn kic_alg(&self) -> Option<CipherAlgorithm> {
        self.kic.as_ref().map(|k| k.alg)
    }

    /// The RC/CC algorithm the keyset was declared with (it gives the KID nibble), if any;
    /// what a packet uses depends on its SPI: [`Keyset::kid_alg_for`].
    pub fn kid_alg(&self) -> Option<ChecksumAlgorithm> {
        self.kid.as_ref().map(|k| k.alg)
    }

    /// The KIc byte for this keyset (index and algorithm; `index << 4` with nibble 0 when no
    /// ciphering algorithm is set).
    pub fn kic(&self) -> Kic {
        Kic {
            key_index: self.kic_index,
            alg: self.kic_alg().map_or(KicAlg::Implicit(0), |a| a.kic_alg()),
        }
    }

    /// The KID byte for this keyset.
    pub fn kid(&self) -> Kid {
        Kid {
            key_index: self.kid_index,
            nibble: self.kid_alg().map_or(0, |a| a.nibble()),
        }
    }

    /// Check that a received KIc byte is compatible with this keyset's algorithm
    /// (implicit codings are accepted).
    pub fn check_kic(&self, kic: Kic) -> Result<()> {
        let alg = self.kic_alg().ok_or(OtaError::KeyMissing {
            which: "KIc",
            what: "ciphering",
        })?;
        match kic.alg {
            KicAlg::Implicit(_) => Ok(()),
            a if a == alg.kic_alg() => Ok(()),
            a => Err(OtaError::AlgorithmMismatch {
                which: "KIc",
                byte: kic.to_byte(),
                coded: a.to_string(),
                keyset: alg.name(),
            }),
        }
    }

    /// The RC or CC algorithm this keyset's KID nibble means in `mode` (TS 102 225 §5.1.3:
    /// the nibble is read per mode). With an RC, nibble 1 is CRC16 and 5 is CRC32 whatever
    /// the keyset was declared as (a 3DES 2-key MAC keyset does CRC32); with a CC, 1/5/9/2
    /// are DES / 3DES 2-key / 3DES 3-key CBC-MAC / AES-CMAC with the keyset's key (a CRC32
    /// keyset holding a 16-byte key does 3DES 2-key CBC-MAC). Errors: no KID, a nibble that
    /// codes nothing in that mode, a CC with no key.
    pub fn kid_alg_for(&self, mode: IntegrityMode) -> Result<ChecksumAlgorithm> {
        let what = match mode {
            IntegrityMode::Rc => "a redundancy check",
            _ => "a cryptographic checksum",
        };
        let k = self
            .kid
            .as_ref()
            .ok_or(OtaError::KeyMissing { which: "KID", what })?;
        match mode {
            IntegrityMode::Rc => match k.alg.nibble() {
                0x1 => Ok(ChecksumAlgorithm::Crc16),
                0x5 => Ok(ChecksumAlgorithm::Crc32),
                n => Err(OtaError::InvalidValue {
                    field: "kid_alg",
                    reason: format!(
                        "SPI asks for RC but the keyset's KID nibble {n:X} ({}) codes no \
                         redundancy check (TS 102 225 §5.1.3.2: 1 = CRC16, 5 = CRC32)",
                        k.alg.name()
                    ),
                }),
            },
            IntegrityMode::Cc => match (k.alg, &k.key) {
                (ChecksumAlgorithm::Crc16, MacKey::None) => Err(OtaError::KeyMissing {
                    which: "KID 8-byte DES (nibble 1 with a CC)",
                    what,
                }),
                (ChecksumAlgorithm::Crc32, MacKey::None) => Err(OtaError::KeyMissing {
                    which: "KID 16-byte 3DES (nibble 5 with a CC)",
                    what,
                }),
                (ChecksumAlgorithm::Crc16, _) => Ok(ChecksumAlgorithm::DesMac),
                (ChecksumAlgorithm::Crc32, _) => Ok(ChecksumAlgorithm::TripleDes2Mac),
                (a, _) => Ok(a),
            },
            IntegrityMode::None | IntegrityMode::Ds => Err(OtaError::InvalidValue {
                field: "SPI",
                reason: format!("{} has no KID algorithm", mode.name()),
            }),
        }
    }

    /// Check that a received KID byte is compatible with this keyset for the given mode: its
    /// nibble, read for `mode`, must name the algorithm [`Keyset::kid_alg_for`] gives
    /// (implicit codings are accepted).
    pub fn check_kid(&self, kid: Kid, mode: IntegrityMode) -> Result<()> {
        let alg = self.kid_alg_for(mode)?;
        match kid.alg(mode) {
            KidAlg::Implicit(_) => Ok(()),
            a if a == alg.kid_alg() => Ok(()),
            a => Err(OtaError::AlgorithmMismatch {
                which: "KID",
                byte: kid.to_byte(),
                coded: format!("{} {a}", mode.name()),
                keyset: alg.name(),
            }),
        }
    }

    /// Block size of the ciphering algorithm.
    pub fn block_size(&self) -> Option<usize> {
        self.kic_alg().map(|a| a.block_size())
    }

    /// Encrypt `buf` in place (CBC with zero IV, or ECB). `buf.len()` must be a multiple of
    /// the block size.
    pub fn encrypt(&self, buf: &mut [u8]) -> Result<()> {
        self.crypt(buf, true)
    }

    /// Decrypt `buf` in place (inverse of [`Keyset::encrypt`]).
    pub fn decrypt(&self, buf: &mut [u8]) -> Result<()> {
        self.crypt(buf, false)
    }

    /// [`Keyset::encrypt`] or [`Keyset::decrypt`].
    fn crypt(&self, buf: &mut [u8], encrypt: bool) -> Result<()> {
        let k = self.cipher_for(buf.len())?;
        if k.alg == CipherAlgorithm::DesEcb {
            if let Block::Des(c) = &k.block {
                ecb(c, buf, encrypt);
            }
            return Ok(());
        }
        let done = if encrypt {
            with_block!(&k.block, c => cbc_encrypt(c, buf))
        } else {
            with_block!(&k.block, c => cbc_decrypt(c, buf))
        };
        if done {
            Ok(())
        } else {
            Err(OtaError::CipherLength {
                offset: 0,
                len: buf.len(),
                alg: k.alg.name(),
                block: k.alg.block_size(),
            })
        }
    }

    fn cipher_for(&self, len: usize) -> Result<&CipherKey> {
        let k = self.kic.as_ref().ok_or(OtaError::KeyMissing {
            which: "KIc",
            what: "ciphering",
        })?;
        let bs = k.alg.block_size();
        if !len.is_multiple_of(bs) {
            return Err(OtaError::CipherLength {
                offset: 0,
                len,
                alg: k.alg.name(),
                block: bs,
            });
        }
        Ok(k)
    }

    /// Compute the RC/CC over the concatenation of `parts`, truncated to `len` bytes
    /// (CC: leftmost bytes of the MAC; RC: the full CRC, big-endian), in the mode the
    /// keyset's declared KID algorithm has (RC for CRCs, CC for MACs); see
    /// [`Keyset::checksum_for`] for the mode a packet's SPI asks for.
    pub fn checksum(&self, parts: &[&[u8]], len: usize) -> Result<Checksum> {
        let mode = self.kid_alg().map_or(IntegrityMode::Cc, |a| a.mode());
        self.checksum_for(mode, parts, len)
    }

    /// Compute the RC (`mode` = RC) or CC (`mode` = CC) over the concatenation of `parts`
    /// with the algorithm the KID nibble means in that mode ([`Keyset::kid_alg_for`]),
    /// truncated to `len` bytes.
    pub fn checksum_for(
        &self,
        mode: IntegrityMode,
        parts: &[&[u8]],
        len: usize,
    ) -> Result<Checksum> {
        let alg = self.kid_alg_for(mode)?;
        if !alg.accepts_len(len) {
            return Err(OtaError::IntegrityLength {
                field: "RC/CC length",
                value: u8::try_from(len).unwrap_or(u8::MAX),
                len,
                kind: if alg.mode() == IntegrityMode::Rc {
                    "RC"
                } else {
                    "CC"
                },
                alg: alg.name(),
                expected: match alg {
                    ChecksumAlgorithm::Crc16 => "2",
                    ChecksumAlgorithm::Crc32 => "4",
                    ChecksumAlgorithm::AesCmac => "1..=16",
                    _ => "1..=8",
                },
            });
        }
        let mut buf = [0u8; 16];
        match (alg, self.kid.as_ref().map(|k| &k.key)) {
            (ChecksumAlgorithm::Crc16, _) => {
                let mut c = Crc16::new();
                parts.iter().for_each(|p| c.update(p));
                buf[..2].copy_from_slice(&c.finish().to_be_bytes());
            }
            (ChecksumAlgorithm::Crc32, _) => {
                let mut c = Crc32::new();
                parts.iter().for_each(|p| c.update(p));
                buf[..4].copy_from_slice(&c.finish().to_be_bytes());
            }
            (_, Some(MacKey::Block(b))) => {
                with_block!(b.as_ref(), c => cbc_mac(c, parts, &mut buf))
            }
            (_, Some(MacKey::Cmac(m))) => match m.as_ref() {
                CmacKey::Aes128(m) => m.tag(parts, &mut buf),
                CmacKey::Aes192(m) => m.tag(parts, &mut buf),
                CmacKey::Aes256(m) => m.tag(parts, &mut buf),
            },
            _ => {
                return Err(OtaError::KeyMissing {
                    which: "KID",
                    what: "a cryptographic checksum",
                })
            }
        }
        Ok(Checksum { buf, len })
    }
}

fn check_index(field: &'static str, index: u8) -> Result<()> {
    if index > 15 {
        return Err(OtaError::InvalidValue {
            field,
            reason: format!("{index} is not 0..=15"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lengths_are_checked() {
        let e = Keyset::new()
            .with_kic(CipherAlgorithm::TripleDes2Cbc, &[0; 8], 1)
            .unwrap_err();
        assert_eq!(e.to_string(), "KIc key for 3des2 must be 16 bytes, got 8");
        assert!(Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[0; 20], 1)
            .is_err());
        assert!(Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[0; 24], 1)
            .is_ok());
        assert!(Keyset::new()
            .with_kid(ChecksumAlgorithm::DesMac, &[0; 16], 1)
            .is_err());
        assert!(Keyset::new()
            .with_kid(ChecksumAlgorithm::Crc32, &[1], 1)
            .is_err());
        assert!(Keyset::new()
            .with_kic(CipherAlgorithm::DesCbc, &[0; 8], 16)
            .is_err());
    }

    #[test]
    fn debug_never_shows_keys() {
        let k = Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[0xAB; 16], 2)
            .unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &[0xCD; 16], 2)
            .unwrap();
        let d = format!("{k:?}");
        assert!(
            !d.contains("ab") && !d.contains("AB") && !d.contains("171"),
            "{d}"
        );
        assert!(d.contains("redacted"));
    }

    #[test]
    fn aes_cmac_rfc4493() {
        // RFC 4493 example 2 (16-byte message).
        let key = apdu::hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let msg = apdu::hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        let k = Keyset::new()
            .with_kid(ChecksumAlgorithm::AesCmac, &key, 1)
            .unwrap();
        let cc = k.checksum(&[&msg[..5], &msg[5..]], 16).unwrap();
        assert_eq!(
            apdu::hex::encode(cc.as_bytes()),
            "070A16B46B4D4144F79BDD9DD04A287C"
        );
    }

    #[test]
    fn des_cbc_mac_pads_with_zeros() {
        let k = Keyset::new()
            .with_kid(ChecksumAlgorithm::DesMac, &[0x13; 8], 1)
            .unwrap();
        let a = k.checksum(&[&[1, 2, 3]], 8).unwrap();
        let b = k.checksum(&[&[1, 2, 3, 0, 0, 0, 0, 0]], 8).unwrap();
        assert_eq!(a, b);
        let c = k.checksum(&[&[1, 2, 3, 0, 0, 0, 0, 0, 0]], 8).unwrap();
        assert_ne!(a, c);
    }
}
