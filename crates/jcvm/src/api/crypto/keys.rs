//! `javacard.security.KeyBuilder` and the key interfaces (Java Card 3.0.5 API): DESKey, AESKey,
//! RSAPublicKey, RSAPrivateKey, RSAPrivateCrtKey, ECPublicKey and ECPrivateKey (prime field).
//!
//! A [`Key`] holds its components as the applet set them (big-endian byte strings); it is
//! initialized once every component its type needs is set. Components are zeroized when the
//! key is cleared or dropped.

use super::codec::{Dec, Enc};
use super::{illegal_value, no_such_algorithm, uninitialized_key, write_out, CryptoError, Result};
use zeroize::Zeroizing;

/// `KeyBuilder.TYPE_DES_TRANSIENT_RESET`.
pub const TYPE_DES_TRANSIENT_RESET: u8 = 1;
/// `KeyBuilder.TYPE_DES_TRANSIENT_DESELECT`.
pub const TYPE_DES_TRANSIENT_DESELECT: u8 = 2;
/// `KeyBuilder.TYPE_DES`.
pub const TYPE_DES: u8 = 3;
/// `KeyBuilder.TYPE_RSA_PUBLIC`.
pub const TYPE_RSA_PUBLIC: u8 = 4;
/// `KeyBuilder.TYPE_RSA_PRIVATE`.
pub const TYPE_RSA_PRIVATE: u8 = 5;
/// `KeyBuilder.TYPE_RSA_CRT_PRIVATE`.
pub const TYPE_RSA_CRT_PRIVATE: u8 = 6;
/// `KeyBuilder.TYPE_EC_FP_PUBLIC`.
pub const TYPE_EC_FP_PUBLIC: u8 = 11;
/// `KeyBuilder.TYPE_EC_FP_PRIVATE`.
pub const TYPE_EC_FP_PRIVATE: u8 = 12;
/// `KeyBuilder.TYPE_AES_TRANSIENT_RESET`.
pub const TYPE_AES_TRANSIENT_RESET: u8 = 13;
/// `KeyBuilder.TYPE_AES_TRANSIENT_DESELECT`.
pub const TYPE_AES_TRANSIENT_DESELECT: u8 = 14;
/// `KeyBuilder.TYPE_AES`.
pub const TYPE_AES: u8 = 15;
/// `KeyBuilder.TYPE_RSA_PRIVATE_TRANSIENT_RESET`.
pub const TYPE_RSA_PRIVATE_TRANSIENT_RESET: u8 = 22;
/// `KeyBuilder.TYPE_RSA_PRIVATE_TRANSIENT_DESELECT`.
pub const TYPE_RSA_PRIVATE_TRANSIENT_DESELECT: u8 = 23;
/// `KeyBuilder.TYPE_RSA_CRT_PRIVATE_TRANSIENT_RESET`.
pub const TYPE_RSA_CRT_PRIVATE_TRANSIENT_RESET: u8 = 24;
/// `KeyBuilder.TYPE_RSA_CRT_PRIVATE_TRANSIENT_DESELECT`.
pub const TYPE_RSA_CRT_PRIVATE_TRANSIENT_DESELECT: u8 = 25;
/// `KeyBuilder.TYPE_EC_FP_PRIVATE_TRANSIENT_RESET`.
pub const TYPE_EC_FP_PRIVATE_TRANSIENT_RESET: u8 = 30;
/// `KeyBuilder.TYPE_EC_FP_PRIVATE_TRANSIENT_DESELECT`.
pub const TYPE_EC_FP_PRIVATE_TRANSIENT_DESELECT: u8 = 31;

/// `KeyBuilder.LENGTH_DES`.
pub const LENGTH_DES: u16 = 64;
/// `KeyBuilder.LENGTH_DES3_2KEY`.
pub const LENGTH_DES3_2KEY: u16 = 128;
/// `KeyBuilder.LENGTH_DES3_3KEY`.
pub const LENGTH_DES3_3KEY: u16 = 192;
/// `KeyBuilder.LENGTH_AES_128`.
pub const LENGTH_AES_128: u16 = 128;
/// `KeyBuilder.LENGTH_AES_192`.
pub const LENGTH_AES_192: u16 = 192;
/// `KeyBuilder.LENGTH_AES_256`.
pub const LENGTH_AES_256: u16 = 256;
/// `KeyBuilder.LENGTH_EC_FP_256`.
pub const LENGTH_EC_FP_256: u16 = 256;
/// `KeyBuilder.LENGTH_EC_FP_384`.
pub const LENGTH_EC_FP_384: u16 = 384;
/// `KeyBuilder.LENGTH_RSA_512` (the smallest RSA length built).
pub const LENGTH_RSA_512: u16 = 512;
/// `KeyBuilder.LENGTH_RSA_4096` (the largest RSA length built).
pub const LENGTH_RSA_4096: u16 = 4096;

/// Where a key's contents live (the `_TRANSIENT_RESET` / `_TRANSIENT_DESELECT` key types):
/// the VM clears transient keys at card reset, or when the owning applet is deselected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMemory {
    /// Persistent (EEPROM) key.
    Persistent,
    /// Cleared on card reset (`JCSystem.CLEAR_ON_RESET`).
    TransientReset,
    /// Cleared on deselect (`JCSystem.CLEAR_ON_DESELECT`).
    TransientDeselect,
}

/// The algorithm family of a key (which interface it implements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `DESKey` (single DES, 2-key or 3-key triple DES).
    Des,
    /// `AESKey`.
    Aes,
    /// `RSAPublicKey`.
    RsaPublic,
    /// `RSAPrivateKey` (modulus and private exponent).
    RsaPrivate,
    /// `RSAPrivateCrtKey` (P, Q, DP1, DQ1, PQ).
    RsaCrtPrivate,
    /// `ECPublicKey` over a prime field.
    EcFpPublic,
    /// `ECPrivateKey` over a prime field.
    EcFpPrivate,
}

/// A key component, named as the key interfaces' set/get methods name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// `DESKey`/`AESKey.setKey`/`getKey`.
    Key,
    /// RSA `setModulus`/`getModulus`.
    Modulus,
    /// RSA `setExponent`/`getExponent` (public or private exponent).
    Exponent,
    /// `RSAPrivateCrtKey.setP`.
    P,
    /// `RSAPrivateCrtKey.setQ`.
    Q,
    /// `RSAPrivateCrtKey.setDP1` (d mod (p-1)).
    Dp1,
    /// `RSAPrivateCrtKey.setDQ1` (d mod (q-1)).
    Dq1,
    /// `RSAPrivateCrtKey.setPQ` (q^-1 mod p).
    Pq,
    /// `ECKey.setFieldFP` (the prime p).
    Field,
    /// `ECKey.setA`.
    A,
    /// `ECKey.setB`.
    B,
    /// `ECKey.setG` (the base point, SEC 1 encoding).
    G,
    /// `ECKey.setR` (the order of G).
    R,
    /// `ECPublicKey.setW` (the public point, SEC 1 encoding).
    W,
    /// `ECPrivateKey.setS` (the private scalar).
    S,
}

impl Component {
    fn index(self) -> usize {
        self as usize
    }
}

const N_COMPONENTS: usize = 15;

/// `javacard.security.KeyBuilder`.
pub struct KeyBuilder;

impl KeyBuilder {
    /// `KeyBuilder.buildKey(keyType, keyLength, keyEncryption)`: an uninitialized key.
    /// NO_SUCH_ALGORITHM for a type/length this implementation lacks or for key encryption
    /// (`keyEncryption == true`, not supported).
    pub fn build_key(key_type: u8, length: u16, key_encryption: bool) -> Result<Key> {
        if key_encryption {
            return no_such_algorithm("KeyBuilder.buildKey with key encryption");
        }
        use KeyKind::*;
        use KeyMemory::*;
        let (kind, memory) = match key_type {
            TYPE_DES_TRANSIENT_RESET => (Des, TransientReset),
            TYPE_DES_TRANSIENT_DESELECT => (Des, TransientDeselect),
            TYPE_DES => (Des, Persistent),
            TYPE_AES_TRANSIENT_RESET => (Aes, TransientReset),
            TYPE_AES_TRANSIENT_DESELECT => (Aes, TransientDeselect),
            TYPE_AES => (Aes, Persistent),
            TYPE_RSA_PUBLIC => (RsaPublic, Persistent),
            TYPE_RSA_PRIVATE => (RsaPrivate, Persistent),
            TYPE_RSA_PRIVATE_TRANSIENT_RESET => (RsaPrivate, TransientReset),
            TYPE_RSA_PRIVATE_TRANSIENT_DESELECT => (RsaPrivate, TransientDeselect),
            TYPE_RSA_CRT_PRIVATE => (RsaCrtPrivate, Persistent),
            TYPE_RSA_CRT_PRIVATE_TRANSIENT_RESET => (RsaCrtPrivate, TransientReset),
            TYPE_RSA_CRT_PRIVATE_TRANSIENT_DESELECT => (RsaCrtPrivate, TransientDeselect),
            TYPE_EC_FP_PUBLIC => (EcFpPublic, Persistent),
            TYPE_EC_FP_PRIVATE => (EcFpPrivate, Persistent),
            TYPE_EC_FP_PRIVATE_TRANSIENT_RESET => (EcFpPrivate, TransientReset),
            TYPE_EC_FP_PRIVATE_TRANSIENT_DESELECT => (EcFpPrivate, TransientDeselect),
            _ => return no_such_algorithm(format!("KeyBuilder key type {key_type}")),
        };
        let ok = match kind {
            Des => matches!(length, LENGTH_DES | LENGTH_DES3_2KEY | LENGTH_DES3_3KEY),
            Aes => matches!(length, LENGTH_AES_128 | LENGTH_AES_192 | LENGTH_AES_256),
            RsaPublic | RsaPrivate | RsaCrtPrivate => {
                (LENGTH_RSA_512..=LENGTH_RSA_4096).contains(&length) && length.is_multiple_of(32)
            }
            EcFpPublic | EcFpPrivate => matches!(length, LENGTH_EC_FP_256 | LENGTH_EC_FP_384),
        };
        if !ok {
            return no_such_algorithm(format!(
                "KeyBuilder key type {key_type} with length {length}"
            ));
        }
        Ok(Key {
            kind,
            key_type,
            memory,
            size: length,
            comps: Default::default(),
            ec_k: None,
        })
    }
}

/// A Java Card key object (any of the key interfaces). Clones (the snapshot Cipher and
/// Signature take at `init`) are zeroized on drop too.
#[derive(Clone)]
pub struct Key {
    kind: KeyKind,
    key_type: u8,
    memory: KeyMemory,
    size: u16,
    comps: [Option<Zeroizing<Vec<u8>>>; N_COMPONENTS],
    ec_k: Option<u16>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kind", &self.kind)
            .field("type", &self.key_type)
            .field("size", &self.size)
            .field("initialized", &self.is_initialized())
            .finish_non_exhaustive()
    }
}

impl Key {
    /// `Key.getType()`: the KeyBuilder type it was built with.
    pub fn key_type(&self) -> u8 {
        self.key_type
    }

    /// The key interface it implements.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Persistent or transient.
    pub fn memory(&self) -> KeyMemory {
        self.memory
    }

    /// `Key.getSize()`: the key length in bits.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// The components this key's type needs to be initialized.
    pub fn required(&self) -> &'static [Component] {
        use Component::*;
        match self.kind {
            KeyKind::Des | KeyKind::Aes => &[Key],
            KeyKind::RsaPublic | KeyKind::RsaPrivate => &[Modulus, Exponent],
            KeyKind::RsaCrtPrivate => &[P, Q, Dp1, Dq1, Pq],
            KeyKind::EcFpPublic => &[Field, A, B, G, R, W],
            KeyKind::EcFpPrivate => &[Field, A, B, G, R, S],
        }
    }

    /// `Key.isInitialized()`: every component set (for EC keys also K).
    pub fn is_initialized(&self) -> bool {
        let ec = matches!(self.kind, KeyKind::EcFpPublic | KeyKind::EcFpPrivate);
        self.required()
            .iter()
            .all(|c| self.comps[c.index()].is_some())
            && (!ec || self.ec_k.is_some())
    }

    /// `Key.clearKey()`: every component zeroized and unset.
    pub fn clear_key(&mut self) {
        for c in self.comps.iter_mut() {
            *c = None;
        }
        self.ec_k = None;
    }

    /// The largest byte length of a component of this key.
    fn max_len(&self, c: Component) -> usize {
        let bytes = usize::from(self.size).div_ceil(8);
        let half = usize::from(self.size).div_ceil(16);
        use Component::*;
        match c {
            Key => bytes,
            Modulus | Exponent => bytes,
            P | Q | Dp1 | Dq1 | Pq => half,
            Field | A | B | R | S => bytes,
            G | W => 1 + 2 * bytes,
        }
    }

    /// Set a component from `data` (the exact bytes the applet passed; for DESKey/AESKey the
    /// array from the offset on, of which the key length is read). ILLEGAL_VALUE for a
    /// component this key lacks or a length out of range; ArrayIndexOutOfBounds when a
    /// symmetric key's bytes are not all there.
    pub fn set(&mut self, c: Component, data: &[u8]) -> Result<()> {
        self.check_component(c)?;
        let value = match c {
            Component::Key => {
                let n = usize::from(self.size) / 8;
                data.get(..n)
                    .ok_or_else(|| {
                        CryptoError::ArrayIndexOutOfBounds(format!(
                            "setKey: {n} key bytes needed, {} left in the array",
                            data.len()
                        ))
                    })?
                    .to_vec()
            }
            Component::G | Component::W => {
                let l = usize::from(self.size).div_ceil(8);
                let ok = match data.first() {
                    Some(0x04) => data.len() == 1 + 2 * l,
                    Some(0x02 | 0x03) => data.len() == 1 + l,
                    _ => false,
                };
                if !ok {
                    return illegal_value(format!(
                        "{c:?}: a {} byte point is not an uncompressed (04) or compressed \
                         (02/03) SEC 1 point of a {}-bit curve",
                        data.len(),
                        self.size
                    ));
                }
                data.to_vec()
            }
            _ => {
                let stripped = strip_zeros(data);
                if data.is_empty() || stripped.len() > self.max_len(c) {
                    return illegal_value(format!(
                        "{c:?}: {} bytes for a {}-bit key (at most {})",
                        data.len(),
                        self.size,
                        self.max_len(c)
                    ));
                }
                // Keep the length as given when it fits (getters return what was set).
                if data.len() > self.max_len(c) {
                    stripped.to_vec()
                } else {
                    data.to_vec()
                }
            }
        };
        self.comps[c.index()] = Some(Zeroizing::new(value));
        Ok(())
    }

    /// Read a component into `out` (the array from the offset on); returns its byte length.
    /// UNINITIALIZED_KEY when it is not set.
    pub fn get(&self, c: Component, out: &mut [u8]) -> Result<usize> {
        let v = self.component(c)?;
        write_out(out, v, &format!("get{c:?}"))
    }

    /// A component's bytes (UNINITIALIZED_KEY when it is not set).
    pub fn component(&self, c: Component) -> Result<&[u8]> {
        self.check_component(c)?;
        match &self.comps[c.index()] {
            Some(v) => Ok(v),
            None => uninitialized_key(format!("{c:?} of the key is not set")),
        }
    }

    /// `ECKey.setK(K)`: the cofactor.
    pub fn set_k(&mut self, k: u16) -> Result<()> {
        if !matches!(self.kind, KeyKind::EcFpPublic | KeyKind::EcFpPrivate) {
            return illegal_value("setK on a key that is not an EC key");
        }
        self.ec_k = Some(k);
        Ok(())
    }

    /// `ECKey.getK()`: UNINITIALIZED_KEY when not set.
    pub fn get_k(&self) -> Result<u16> {
        if !matches!(self.kind, KeyKind::EcFpPublic | KeyKind::EcFpPrivate) {
            return illegal_value("getK on a key that is not an EC key");
        }
        self.ec_k
            .ok_or(())
            .or_else(|_| uninitialized_key("K of the EC key is not set"))
    }

    fn check_component(&self, c: Component) -> Result<()> {
        let ec_domain = matches!(
            c,
            Component::Field | Component::A | Component::B | Component::G | Component::R
        );
        let ok = self.required().contains(&c)
            || (ec_domain && matches!(self.kind, KeyKind::EcFpPublic | KeyKind::EcFpPrivate));
        if ok {
            Ok(())
        } else {
            illegal_value(format!("{:?} key has no {c:?} component", self.kind))
        }
    }

    /// Set a component without the applet-facing checks (key generation).
    pub(crate) fn set_raw(&mut self, c: Component, v: Vec<u8>) {
        self.comps[c.index()] = Some(Zeroizing::new(v));
    }

    /// Whether the key is initialized; UNINITIALIZED_KEY naming `user` when not.
    pub(crate) fn require_initialized(&self, user: &str) -> Result<()> {
        if self.is_initialized() {
            Ok(())
        } else {
            uninitialized_key(format!(
                "{user}: the {:?} key is not initialized",
                self.kind
            ))
        }
    }
}

/// `data` without its leading zero bytes.
pub(crate) fn strip_zeros(data: &[u8]) -> &[u8] {
    let n = data.iter().take_while(|b| **b == 0).count();
    &data[n..]
}

impl Key {
    fn encode_components(&self, e: &mut Enc) {
        for c in &self.comps {
            e.opt(c.as_deref().map(|v| v.as_slice()));
        }
        let k = self.ec_k.map(|k| k.to_be_bytes());
        e.opt(k.as_ref().map(|k| &k[..]));
    }

    fn decode_components(&mut self, d: &mut Dec<'_>) -> std::result::Result<(), String> {
        for c in self.comps.iter_mut() {
            *c = d.opt()?.map(|v| Zeroizing::new(v.to_vec()));
        }
        self.ec_k = match d.opt()? {
            None => None,
            Some([a, b]) => Some(u16::from_be_bytes([*a, *b])),
            Some(v) => return Err(format!("key state: EC K of {} bytes", v.len())),
        };
        Ok(())
    }

    /// The whole key as bytes (type, size, every component): zeroized on drop.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut e = Enc::default();
        e.u8(self.key_type).u16(self.size);
        self.encode_components(&mut e);
        Zeroizing::new(e.0)
    }

    /// Decodes [`Key::encode`]'s bytes.
    pub fn decode(b: &[u8]) -> std::result::Result<Key, String> {
        let mut d = Dec::new(b, "key");
        let mut k = Key::header(&mut d)?;
        k.decode_components(&mut d)?;
        d.done()?;
        Ok(k)
    }

    fn header(d: &mut Dec<'_>) -> std::result::Result<Key, String> {
        let ty = d.u8()?;
        let size = d.u16()?;
        KeyBuilder::build_key(ty, size, false)
            .map_err(|e| format!("key state: type {ty} size {size}: {e}"))
    }

    /// The key split for the VM's object store: the persistent part (type, size and, for a
    /// persistent key, the components) and the transient part (the components of a
    /// `_TRANSIENT_RESET`/`_TRANSIENT_DESELECT` key; empty otherwise).
    pub fn to_parts(&self) -> (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>) {
        let mut p = Enc::default();
        p.u8(self.key_type).u16(self.size);
        let mut t = Enc::default();
        if self.memory == KeyMemory::Persistent {
            self.encode_components(&mut p);
        } else {
            self.encode_components(&mut t);
        }
        (Zeroizing::new(p.0), Zeroizing::new(t.0))
    }

    /// Decodes [`Key::to_parts`]; an empty transient part (after a reset) leaves a transient
    /// key uninitialized.
    pub fn from_parts(persistent: &[u8], transient: &[u8]) -> std::result::Result<Key, String> {
        let mut d = Dec::new(persistent, "key");
        let mut k = Key::header(&mut d)?;
        if k.memory == KeyMemory::Persistent {
            k.decode_components(&mut d)?;
        } else if !transient.is_empty() {
            let mut t = Dec::new(transient, "transient key");
            k.decode_components(&mut t)?;
            t.done()?;
        }
        d.done()?;
        Ok(k)
    }
}
