//! Static secure-channel keys (ENC, MAC, DEK) of one key set, their check values, and the
//! key diversification schemes cards are personalised with: EMV CPS v1.1 §9.3 ("EMV"), VISA
//! CPS 2 ("VISA2") and the SCP03 KDF-based "KDF3" (NIST SP 800-108 counter mode, the form
//! GlobalPlatformPro calls `kdf3`).

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto;
use crate::error::GpError;

/// The default GlobalPlatform test key `40 41 … 4F` (GPCS test cards, GlobalPlatformPro's
/// default).
pub const DEFAULT_TEST_KEY: [u8; 16] = [
    0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
];

/// Which block cipher a key set is for (GPCS v2.3 Table 11-16 key types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Two- or three-key 3DES (key type `80`), SCP02.
    Des3,
    /// AES-128/192/256 (key type `88`), SCP03.
    Aes,
}

impl KeyKind {
    /// The key type byte of PUT KEY and the key information template (GPCS Table 11-16).
    pub fn key_type(self) -> u8 {
        match self {
            KeyKind::Des3 => 0x80,
            KeyKind::Aes => 0x88,
        }
    }

    /// Cipher block size in bytes.
    pub fn block(self) -> usize {
        match self {
            KeyKind::Des3 => 8,
            KeyKind::Aes => 16,
        }
    }

    /// The kind for a key type byte.
    pub fn from_key_type(t: u8) -> Option<KeyKind> {
        match t {
            0x80 => Some(KeyKind::Des3),
            0x88 => Some(KeyKind::Aes),
            _ => None,
        }
    }
}

/// A secret key value; zeroized on drop, never shown by `Debug` (only its length).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Key(Vec<u8>);

impl Key {
    /// Wrap key bytes, checking the length for the kind (3DES 16/24, AES 16/24/32).
    pub fn new(kind: KeyKind, bytes: &[u8]) -> Result<Key, GpError> {
        let ok = match kind {
            KeyKind::Des3 => matches!(bytes.len(), 16 | 24),
            KeyKind::Aes => matches!(bytes.len(), 16 | 24 | 32),
        };
        if !ok {
            return Err(GpError::BadLength {
                field: "key",
                len: bytes.len(),
                expected: "16 or 24 bytes (3DES) / 16, 24 or 32 bytes (AES)",
            });
        }
        Ok(Key(bytes.to_vec()))
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true (keys are 16 bytes or more); for clippy's `len` rule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes)", self.0.len())
    }
}

/// The key check value of `key` for its kind (GPCS §11.8.2.3, Amendment D §7.2.2.3).
pub fn kcv(kind: KeyKind, key: &[u8]) -> Result<[u8; 3], GpError> {
    match kind {
        KeyKind::Des3 => crypto::kcv_des3(key),
        KeyKind::Aes => crypto::kcv_aes(key),
    }
}

/// One key set of a security domain: key version number and the three static keys
/// (GPCS v2.3 §11.1.8; key identifiers 1 = ENC, 2 = MAC, 3 = DEK).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    /// Key version number (SCP02 `20`–`2F`, SCP03 `30`–`3F` by GPC_GUI_010; `00` = any).
    pub kvn: u8,
    /// Cipher of the set.
    pub kind: KeyKind,
    /// Static encryption key (key id 1).
    pub enc: Key,
    /// Static MAC key (key id 2).
    pub mac: Key,
    /// Data encryption key (key id 3).
    pub dek: Key,
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = |k: &Key| {
            kcv(self.kind, k.bytes())
                .map(|c| apdu::hex::encode(&c))
                .unwrap_or_default()
        };
        write!(
            f,
            "StaticKeys {{ kvn: {:02X}, kind: {:?}, enc KCV {}, mac KCV {}, dek KCV {} }}",
            self.kvn,
            self.kind,
            k(&self.enc),
            k(&self.mac),
            k(&self.dek)
        )
    }
}

impl StaticKeys {
    /// A key set from three key values.
    pub fn new(
        kvn: u8,
        kind: KeyKind,
        enc: &[u8],
        mac: &[u8],
        dek: &[u8],
    ) -> Result<StaticKeys, GpError> {
        Ok(StaticKeys {
            kvn,
            kind,
            enc: Key::new(kind, enc)?,
            mac: Key::new(kind, mac)?,
            dek: Key::new(kind, dek)?,
        })
    }

    /// The same value for all three keys (a master key, or GP's `40..4F` test key).
    pub fn single(kvn: u8, kind: KeyKind, key: &[u8]) -> Result<StaticKeys, GpError> {
        StaticKeys::new(kvn, kind, key, key, key)
    }

    /// Key check values of ENC, MAC and DEK.
    pub fn kcvs(&self) -> Result<[[u8; 3]; 3], GpError> {
        Ok([
            kcv(self.kind, self.enc.bytes())?,
            kcv(self.kind, self.mac.bytes())?,
            kcv(self.kind, self.dek.bytes())?,
        ])
    }

    /// Derive the card's keys from these master keys with `div` and the key diversification
    /// data (the first 10 bytes of the INITIALIZE UPDATE response).
    pub fn diversify(&self, div: Diversification, kdd: &[u8]) -> Result<StaticKeys, GpError> {
        if div == Diversification::None {
            return Ok(self.clone());
        }
        if kdd.len() != 10 {
            return Err(GpError::BadLength {
                field: "key diversification data",
                len: kdd.len(),
                expected: "10 bytes",
            });
        }
        let d = |k: &Key, n: u8| -> Result<Key, GpError> {
            Ok(Key(div.derive(self.kind, k.bytes(), kdd, n)?))
        };
        Ok(StaticKeys {
            kvn: self.kvn,
            kind: self.kind,
            enc: d(&self.enc, 1)?,
            mac: d(&self.mac, 2)?,
            dek: d(&self.dek, 3)?,
        })
    }
}

/// A key diversification scheme (how a card's keys were derived from a master key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Diversification {
    /// The keys are used as given.
    None,
    /// EMV CPS v1.1 §9.3: 3DES-ECB(master, KDD[4..10] ‖ F0 ‖ k ‖ KDD[4..10] ‖ 0F ‖ k).
    Emv,
    /// VISA CPS 2: 3DES-ECB(master, KDD[0..2] ‖ KDD[4..8] ‖ F0 ‖ k ‖ KDD[0..2] ‖ KDD[4..8] ‖
    /// 0F ‖ k).
    Visa2,
    /// AES KDF in counter mode (NIST SP 800-108, AES-CMAC PRF): one block
    /// `i ‖ 00 00 00 ‖ k ‖ 00 ‖ KDD[0..10]` per 16 output bytes, output as long as the key.
    Kdf3,
}

impl Diversification {
    /// Parse a scheme name as GlobalPlatformPro spells it (`emv`, `visa2`, `kdf3`, `none`).
    pub fn from_name(name: &str) -> Option<Diversification> {
        match name.to_ascii_lowercase().as_str() {
            "none" => Some(Diversification::None),
            "emv" => Some(Diversification::Emv),
            "visa2" => Some(Diversification::Visa2),
            "kdf3" => Some(Diversification::Kdf3),
            _ => None,
        }
    }

    /// Derive key number `n` (1 = ENC, 2 = MAC, 3 = DEK) from `master`.
    pub fn derive(
        self,
        kind: KeyKind,
        master: &[u8],
        kdd: &[u8],
        n: u8,
    ) -> Result<Vec<u8>, GpError> {
        let kdd: &[u8; 10] = kdd.try_into().map_err(|_| GpError::BadLength {
            field: "key diversification data",
            len: kdd.len(),
            expected: "10 bytes",
        })?;
        let des = |six: [u8; 6]| -> Result<Vec<u8>, GpError> {
            if kind != KeyKind::Des3 {
                return Err(GpError::BadValue {
                    field: "diversification",
                    offset: 0,
                    value: 0,
                    reason: "EMV and VISA2 diversify 3DES keys only (use kdf3 for AES)",
                });
            }
            let mut data = [0u8; 16];
            data[..6].copy_from_slice(&six);
            data[6] = 0xF0;
            data[7] = n;
            data[8..14].copy_from_slice(&six);
            data[14] = 0x0F;
            data[15] = n;
            let mut k = crypto::des3_ecb_encrypt(master, &data)?;
            if master.len() == 24 {
                // The derivation gives 16 bytes; a 3-key master yields a 2-key card key.
                k.truncate(16);
            }
            Ok(k)
        };
        match self {
            Diversification::None => Ok(master.to_vec()),
            Diversification::Emv => des([kdd[4], kdd[5], kdd[6], kdd[7], kdd[8], kdd[9]]),
            Diversification::Visa2 => des([kdd[0], kdd[1], kdd[4], kdd[5], kdd[6], kdd[7]]),
            Diversification::Kdf3 => {
                if kind != KeyKind::Aes {
                    return Err(GpError::BadValue {
                        field: "diversification",
                        offset: 0,
                        value: 0,
                        reason: "kdf3 diversifies AES keys only",
                    });
                }
                let mut b = [0u8; 15];
                b[3] = n;
                b[5..].copy_from_slice(kdd);
                crypto::kdf_counter(master, &[], &b, master.len())
            }
        }
    }
}

/// Encrypt a key value with a DEK for PUT KEY (GPCS §11.8.2.3 / E.4.7 for SCP02: 3DES-ECB
/// with the session DEK; Amendment D §7.2.2.3 for SCP03: AES-CBC, zero ICV, with the static
/// DEK). Key values that are not a multiple of the block are padded with zeros; the key
/// component length byte of the PUT KEY data field carries the real length.
pub fn dek_encrypt(kind: KeyKind, dek: &[u8], key: &[u8]) -> Result<Vec<u8>, GpError> {
    let mut plain = key.to_vec();
    while !plain.len().is_multiple_of(kind.block()) {
        plain.push(0);
    }
    let out = match kind {
        KeyKind::Des3 => crypto::des3_ecb_encrypt(dek, &plain),
        KeyKind::Aes => crypto::aes_cbc_encrypt(dek, &[0; 16], &plain),
    };
    plain.zeroize();
    out
}

/// Decrypt a key component block encrypted by [`dek_encrypt`], keeping `len` bytes.
pub fn dek_decrypt(
    kind: KeyKind,
    dek: &[u8],
    block: &[u8],
    len: usize,
) -> Result<Vec<u8>, GpError> {
    let mut plain = match kind {
        KeyKind::Des3 => crypto::des3_ecb_decrypt(dek, block)?,
        KeyKind::Aes => crypto::aes_cbc_decrypt(dek, &[0; 16], block)?,
    };
    if len > plain.len() {
        plain.zeroize();
        return Err(GpError::BadLength {
            field: "key component length",
            len,
            expected: "no more than the encrypted block",
        });
    }
    let out = plain[..len].to_vec();
    plain.zeroize();
    Ok(out)
}
