//! `javacard.security.Signature` (Java Card 3.0.5 API): DES MACs (CBC-MAC, ISO/IEC 9797-1
//! algorithm 1 with padding methods 1 and 2 or PKCS#5, and algorithm 3 "retail MAC"),
//! AES-128 CBC-MAC, RSA PKCS#1 v1.5 signatures with SHA-1/224/256/384/512 (RFC 8017 §8.2)
//! and ECDSA on P-256 with the same hashes (DER signatures).
//!
//! The message is collected by `update` and processed by `sign`/`verify`; after either the
//! object is back in the state `init` left it in (same key, same IV). MAC verification
//! compares in constant time.

use super::block::{self, Pad};
use super::codec::{Dec, Enc};
use super::digest::{self, HashState};
use super::keys::{Component, Key, KeyKind};
use super::{
    ec, illegal_use, illegal_value, invalid_init, no_such_algorithm, rsa, write_out, Result,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// `Signature.ALG_DES_MAC4_NOPAD`.
pub const ALG_DES_MAC4_NOPAD: u8 = 1;
/// `Signature.ALG_DES_MAC8_NOPAD`.
pub const ALG_DES_MAC8_NOPAD: u8 = 2;
/// `Signature.ALG_DES_MAC4_ISO9797_M1`.
pub const ALG_DES_MAC4_ISO9797_M1: u8 = 3;
/// `Signature.ALG_DES_MAC8_ISO9797_M1`.
pub const ALG_DES_MAC8_ISO9797_M1: u8 = 4;
/// `Signature.ALG_DES_MAC4_ISO9797_M2`.
pub const ALG_DES_MAC4_ISO9797_M2: u8 = 5;
/// `Signature.ALG_DES_MAC8_ISO9797_M2`.
pub const ALG_DES_MAC8_ISO9797_M2: u8 = 6;
/// `Signature.ALG_DES_MAC4_PKCS5`.
pub const ALG_DES_MAC4_PKCS5: u8 = 7;
/// `Signature.ALG_DES_MAC8_PKCS5`.
pub const ALG_DES_MAC8_PKCS5: u8 = 8;
/// `Signature.ALG_RSA_SHA_PKCS1`.
pub const ALG_RSA_SHA_PKCS1: u8 = 10;
/// `Signature.ALG_ECDSA_SHA`.
pub const ALG_ECDSA_SHA: u8 = 17;
/// `Signature.ALG_AES_MAC_128_NOPAD`.
pub const ALG_AES_MAC_128_NOPAD: u8 = 18;
/// `Signature.ALG_DES_MAC4_ISO9797_1_M2_ALG3`.
pub const ALG_DES_MAC4_ISO9797_1_M2_ALG3: u8 = 19;
/// `Signature.ALG_DES_MAC8_ISO9797_1_M2_ALG3`.
pub const ALG_DES_MAC8_ISO9797_1_M2_ALG3: u8 = 20;
/// `Signature.ALG_ECDSA_SHA_256`.
pub const ALG_ECDSA_SHA_256: u8 = 33;
/// `Signature.ALG_ECDSA_SHA_384`.
pub const ALG_ECDSA_SHA_384: u8 = 34;
/// `Signature.ALG_ECDSA_SHA_224`.
pub const ALG_ECDSA_SHA_224: u8 = 37;
/// `Signature.ALG_ECDSA_SHA_512`.
pub const ALG_ECDSA_SHA_512: u8 = 38;
/// `Signature.ALG_RSA_SHA_224_PKCS1`.
pub const ALG_RSA_SHA_224_PKCS1: u8 = 39;
/// `Signature.ALG_RSA_SHA_256_PKCS1`.
pub const ALG_RSA_SHA_256_PKCS1: u8 = 40;
/// `Signature.ALG_RSA_SHA_384_PKCS1`.
pub const ALG_RSA_SHA_384_PKCS1: u8 = 41;
/// `Signature.ALG_RSA_SHA_512_PKCS1`.
pub const ALG_RSA_SHA_512_PKCS1: u8 = 42;
/// `Signature.ALG_DES_MAC4_ISO9797_1_M1_ALG3`.
pub const ALG_DES_MAC4_ISO9797_1_M1_ALG3: u8 = 47;
/// `Signature.ALG_DES_MAC8_ISO9797_1_M1_ALG3`.
pub const ALG_DES_MAC8_ISO9797_1_M1_ALG3: u8 = 48;

/// `Signature.SIG_CIPHER_DES_MAC4` (for `getInstance(md, cipher, pad, …)`).
pub const SIG_CIPHER_DES_MAC4: u8 = 1;
/// `Signature.SIG_CIPHER_DES_MAC8`.
pub const SIG_CIPHER_DES_MAC8: u8 = 2;
/// `Signature.SIG_CIPHER_RSA`.
pub const SIG_CIPHER_RSA: u8 = 3;
/// `Signature.SIG_CIPHER_ECDSA`.
pub const SIG_CIPHER_ECDSA: u8 = 5;
/// `Signature.SIG_CIPHER_AES_MAC128`.
pub const SIG_CIPHER_AES_MAC128: u8 = 6;

/// The `ALG_*` code of `Signature.getInstance(messageDigestAlgorithm, cipherAlgorithm,
/// paddingAlgorithm, externalAccess)` (Java Card 3.0.1+; padding codes of `Cipher.PAD_*`):
/// NO_SUCH_ALGORITHM for combinations not implemented.
pub fn algorithm_of(md: u8, cipher: u8, pad: u8) -> Result<u8> {
    use super::digest::{ALG_SHA, ALG_SHA_224, ALG_SHA_256, ALG_SHA_384, ALG_SHA_512};
    const NULL: u8 = 0;
    const PAD_NULL: u8 = 0;
    const NOPAD: u8 = 1;
    const M1: u8 = 2;
    const M2: u8 = 3;
    const M1_ALG3: u8 = 4;
    const M2_ALG3: u8 = 5;
    const PKCS5: u8 = 6;
    const PKCS1: u8 = 7;
    Ok(match (md, cipher, pad) {
        (NULL, SIG_CIPHER_DES_MAC4, NOPAD) => ALG_DES_MAC4_NOPAD,
        (NULL, SIG_CIPHER_DES_MAC8, NOPAD) => ALG_DES_MAC8_NOPAD,
        (NULL, SIG_CIPHER_DES_MAC4, M1) => ALG_DES_MAC4_ISO9797_M1,
        (NULL, SIG_CIPHER_DES_MAC8, M1) => ALG_DES_MAC8_ISO9797_M1,
        (NULL, SIG_CIPHER_DES_MAC4, M2) => ALG_DES_MAC4_ISO9797_M2,
        (NULL, SIG_CIPHER_DES_MAC8, M2) => ALG_DES_MAC8_ISO9797_M2,
        (NULL, SIG_CIPHER_DES_MAC4, PKCS5) => ALG_DES_MAC4_PKCS5,
        (NULL, SIG_CIPHER_DES_MAC8, PKCS5) => ALG_DES_MAC8_PKCS5,
        (NULL, SIG_CIPHER_DES_MAC4, M1_ALG3) => ALG_DES_MAC4_ISO9797_1_M1_ALG3,
        (NULL, SIG_CIPHER_DES_MAC8, M1_ALG3) => ALG_DES_MAC8_ISO9797_1_M1_ALG3,
        (NULL, SIG_CIPHER_DES_MAC4, M2_ALG3) => ALG_DES_MAC4_ISO9797_1_M2_ALG3,
        (NULL, SIG_CIPHER_DES_MAC8, M2_ALG3) => ALG_DES_MAC8_ISO9797_1_M2_ALG3,
        (NULL, SIG_CIPHER_AES_MAC128, NOPAD) => ALG_AES_MAC_128_NOPAD,
        (ALG_SHA, SIG_CIPHER_RSA, PKCS1) => ALG_RSA_SHA_PKCS1,
        (ALG_SHA_224, SIG_CIPHER_RSA, PKCS1) => ALG_RSA_SHA_224_PKCS1,
        (ALG_SHA_256, SIG_CIPHER_RSA, PKCS1) => ALG_RSA_SHA_256_PKCS1,
        (ALG_SHA_384, SIG_CIPHER_RSA, PKCS1) => ALG_RSA_SHA_384_PKCS1,
        (ALG_SHA_512, SIG_CIPHER_RSA, PKCS1) => ALG_RSA_SHA_512_PKCS1,
        (ALG_SHA, SIG_CIPHER_ECDSA, PAD_NULL) => ALG_ECDSA_SHA,
        (ALG_SHA_224, SIG_CIPHER_ECDSA, PAD_NULL) => ALG_ECDSA_SHA_224,
        (ALG_SHA_256, SIG_CIPHER_ECDSA, PAD_NULL) => ALG_ECDSA_SHA_256,
        (ALG_SHA_384, SIG_CIPHER_ECDSA, PAD_NULL) => ALG_ECDSA_SHA_384,
        (ALG_SHA_512, SIG_CIPHER_ECDSA, PAD_NULL) => ALG_ECDSA_SHA_512,
        _ => {
            return no_such_algorithm(format!(
                "Signature digest {md}, cipher {cipher}, padding {pad}"
            ))
        }
    })
}

/// `Signature.MODE_SIGN`.
pub const MODE_SIGN: u8 = 1;
/// `Signature.MODE_VERIFY`.
pub const MODE_VERIFY: u8 = 2;

/// What an algorithm code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// CBC-MAC over DES / triple DES with the whole key (ISO 9797-1 algorithm 1).
    DesMac { len: usize, pad: Pad },
    /// ISO 9797-1 algorithm 3 (single DES chaining, final 3DES) with a 2-key DES key.
    DesMacAlg3 { len: usize, pad: Pad },
    /// AES-128 block CBC-MAC, no padding.
    AesMac,
    /// RSASSA-PKCS1-v1_5 with a MessageDigest algorithm.
    RsaPkcs1 { md: u8 },
    /// ECDSA with a MessageDigest algorithm.
    Ecdsa { md: u8 },
}

fn scheme(alg: u8) -> Option<Scheme> {
    use Scheme::*;
    Some(match alg {
        ALG_DES_MAC4_NOPAD => DesMac {
            len: 4,
            pad: Pad::None,
        },
        ALG_DES_MAC8_NOPAD => DesMac {
            len: 8,
            pad: Pad::None,
        },
        ALG_DES_MAC4_ISO9797_M1 => DesMac {
            len: 4,
            pad: Pad::M1,
        },
        ALG_DES_MAC8_ISO9797_M1 => DesMac {
            len: 8,
            pad: Pad::M1,
        },
        ALG_DES_MAC4_ISO9797_M2 => DesMac {
            len: 4,
            pad: Pad::M2,
        },
        ALG_DES_MAC8_ISO9797_M2 => DesMac {
            len: 8,
            pad: Pad::M2,
        },
        ALG_DES_MAC4_PKCS5 => DesMac {
            len: 4,
            pad: Pad::Pkcs5,
        },
        ALG_DES_MAC8_PKCS5 => DesMac {
            len: 8,
            pad: Pad::Pkcs5,
        },
        ALG_DES_MAC4_ISO9797_1_M2_ALG3 => DesMacAlg3 {
            len: 4,
            pad: Pad::M2,
        },
        ALG_DES_MAC8_ISO9797_1_M2_ALG3 => DesMacAlg3 {
            len: 8,
            pad: Pad::M2,
        },
        ALG_DES_MAC4_ISO9797_1_M1_ALG3 => DesMacAlg3 {
            len: 4,
            pad: Pad::M1,
        },
        ALG_DES_MAC8_ISO9797_1_M1_ALG3 => DesMacAlg3 {
            len: 8,
            pad: Pad::M1,
        },
        ALG_AES_MAC_128_NOPAD => AesMac,
        ALG_RSA_SHA_PKCS1 => RsaPkcs1 {
            md: digest::ALG_SHA,
        },
        ALG_RSA_SHA_224_PKCS1 => RsaPkcs1 {
            md: digest::ALG_SHA_224,
        },
        ALG_RSA_SHA_256_PKCS1 => RsaPkcs1 {
            md: digest::ALG_SHA_256,
        },
        ALG_RSA_SHA_384_PKCS1 => RsaPkcs1 {
            md: digest::ALG_SHA_384,
        },
        ALG_RSA_SHA_512_PKCS1 => RsaPkcs1 {
            md: digest::ALG_SHA_512,
        },
        ALG_ECDSA_SHA => Ecdsa {
            md: digest::ALG_SHA,
        },
        ALG_ECDSA_SHA_224 => Ecdsa {
            md: digest::ALG_SHA_224,
        },
        ALG_ECDSA_SHA_256 => Ecdsa {
            md: digest::ALG_SHA_256,
        },
        ALG_ECDSA_SHA_384 => Ecdsa {
            md: digest::ALG_SHA_384,
        },
        ALG_ECDSA_SHA_512 => Ecdsa {
            md: digest::ALG_SHA_512,
        },
        _ => return None,
    })
}

/// The running state of the message: a hash for RSA/ECDSA, or the CBC-MAC chaining value
/// and the partial block not yet chained for the MACs.
#[derive(Clone)]
enum Running {
    Hash(HashState),
    Mac {
        /// The chaining value (the IV, then the last block enciphered).
        chain: Vec<u8>,
        /// Bytes of the message not yet chained (less than a block).
        pending: Zeroizing<Vec<u8>>,
        /// Whether any message byte arrived (NOPAD and ISO 9797 M1 need it).
        any: bool,
    },
}

#[derive(Clone)]
struct Init {
    key: Key,
    mode: u8,
    iv: Vec<u8>,
    running: Running,
}

/// A `Signature` instance. Its state (the key snapshot `init` took, mode, IV, the running
/// hash or MAC chaining value) encodes to bytes ([`Signature::encode`]) for the VM's object
/// store; it stays a bounded size however long the message.
#[derive(Clone)]
pub struct Signature {
    alg: u8,
    scheme: Scheme,
    init: Option<Init>,
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Signature(alg {}, initialized {})",
            self.alg,
            self.init.is_some()
        )
    }
}

fn block_size(scheme: Scheme) -> usize {
    if scheme == Scheme::AesMac {
        16
    } else {
        8
    }
}

fn fresh(scheme: Scheme, iv: &[u8]) -> Result<Running> {
    Ok(match scheme {
        Scheme::RsaPkcs1 { md } | Scheme::Ecdsa { md } => Running::Hash(HashState::new(md)?),
        _ => Running::Mac {
            chain: if iv.is_empty() {
                vec![0; block_size(scheme)]
            } else {
                iv.to_vec()
            },
            pending: Zeroizing::new(Vec::new()),
            any: false,
        },
    })
}

impl Signature {
    /// `Signature.getInstance(algorithm, externalAccess)`: NO_SUCH_ALGORITHM for the
    /// algorithms not implemented (ISO 9796, PSS, HMAC, DSA, SEED, MD5, RIPEMD-160).
    pub fn get_instance(alg: u8) -> Result<Signature> {
        match scheme(alg) {
            Some(scheme) => Ok(Signature {
                alg,
                scheme,
                init: None,
            }),
            None => no_such_algorithm(format!("Signature algorithm {alg}")),
        }
    }

    /// `getAlgorithm()`.
    pub fn algorithm(&self) -> u8 {
        self.alg
    }

    /// `getLength()`: the signature length in bytes (for ECDSA the longest DER encoding);
    /// INVALID_INIT for an RSA signature not initialized (its length needs the key).
    pub fn length(&self) -> Result<u16> {
        Ok(match self.scheme {
            Scheme::DesMac { len, .. } | Scheme::DesMacAlg3 { len, .. } => len as u16,
            Scheme::AesMac => 16,
            Scheme::Ecdsa { .. } => match &self.init {
                Some(i) => ec::Curve::of_size(i.key.size()).map_or(72, |c| c.max_sig_len()) as u16,
                None => ec::Curve::P256.max_sig_len() as u16,
            },
            Scheme::RsaPkcs1 { .. } => match &self.init {
                Some(i) => rsa::modulus_len(&i.key)? as u16,
                None => return invalid_init("Signature.getLength before init"),
            },
        })
    }

    /// `init(theKey, theMode)` and `init(theKey, theMode, bArray, bOff, bLen)` (`iv` empty
    /// for the first): ILLEGAL_VALUE for a mode other than MODE_SIGN/MODE_VERIFY, a key of the
    /// wrong type, or an IV the algorithm does not take or of the wrong length;
    /// UNINITIALIZED_KEY for a key not initialized.
    pub fn init(&mut self, key: &Key, mode: u8, iv: &[u8]) -> Result<()> {
        if mode != MODE_SIGN && mode != MODE_VERIFY {
            return illegal_value(format!("Signature mode {mode}"));
        }
        let kind = key.kind();
        let (ok, bs) = match self.scheme {
            Scheme::DesMac { .. } => (kind == KeyKind::Des, 8),
            Scheme::DesMacAlg3 { .. } => (kind == KeyKind::Des, 8),
            Scheme::AesMac => (kind == KeyKind::Aes, 16),
            Scheme::RsaPkcs1 { .. } => (
                if mode == MODE_SIGN {
                    rsa::is_private(key)
                } else {
                    kind == KeyKind::RsaPublic
                },
                0,
            ),
            Scheme::Ecdsa { .. } => (
                kind == if mode == MODE_SIGN {
                    KeyKind::EcFpPrivate
                } else {
                    KeyKind::EcFpPublic
                },
                0,
            ),
        };
        if !ok {
            return illegal_value(format!(
                "{kind:?} key for Signature algorithm {} in mode {mode}",
                self.alg
            ));
        }
        key.require_initialized("Signature.init")?;
        if !iv.is_empty() && iv.len() != bs {
            return illegal_value(format!(
                "Signature IV of {} bytes for algorithm {} (needs {})",
                iv.len(),
                self.alg,
                if bs == 0 {
                    "none".to_string()
                } else {
                    bs.to_string()
                }
            ));
        }
        if let Scheme::DesMacAlg3 { .. } = self.scheme {
            if key.size() != super::keys::LENGTH_DES3_2KEY {
                return illegal_value("ISO 9797-1 algorithm 3 MAC needs a 2-key triple DES key");
            }
        }
        self.init = Some(Init {
            key: key.clone(),
            mode,
            iv: iv.to_vec(),
            running: fresh(self.scheme, iv)?,
        });
        Ok(())
    }

    fn state(&mut self, want: Option<u8>, what: &str) -> Result<&mut Init> {
        match &mut self.init {
            None => invalid_init(format!("Signature.{what} before init")),
            Some(i) => match want {
                Some(m) if i.mode != m => invalid_init(format!(
                    "Signature.{what} on an object initialized for mode {}",
                    i.mode
                )),
                _ => Ok(i),
            },
        }
    }

    /// `update(inBuff, inOffset, inLength)`: INVALID_INIT before init.
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        let scheme = self.scheme;
        let i = self.state(None, "update")?;
        absorb(scheme, i, data)
    }

    /// `sign(inBuff, inOffset, inLength, sigBuff, sigOffset)`: writes the signature to `out`
    /// (the array from the offset on) and returns its length. INVALID_INIT when not
    /// initialized for signing; ILLEGAL_USE for a NOPAD MAC over data not block aligned.
    pub fn sign(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize> {
        let scheme = self.scheme;
        let i = self.state(Some(MODE_SIGN), "sign")?;
        let sig = finish(scheme, i, data).and_then(|d| match scheme {
            Scheme::RsaPkcs1 { .. } | Scheme::Ecdsa { .. } => sign_digest(scheme, &i.key, &d),
            _ => Ok(d),
        });
        reset(scheme, i)?;
        write_out(out, &sig?, "Signature.sign")
    }

    /// `verify(inBuff, inOffset, inLength, sigBuff, sigOffset, sigLength)`: whether `sig` is
    /// the signature of the message. INVALID_INIT when not initialized for verification.
    pub fn verify(&mut self, data: &[u8], sig: &[u8]) -> Result<bool> {
        let scheme = self.scheme;
        let i = self.state(Some(MODE_VERIFY), "verify")?;
        let r = finish(scheme, i, data).and_then(|d| verify_value(scheme, &i.key, &d, sig));
        reset(scheme, i)?;
        r
    }

    /// `signPreComputedHash(hashBuff, hashOff, hashLength, sigBuff, sigOffset)` (RSA PKCS#1
    /// and ECDSA): signs a hash computed elsewhere; ILLEGAL_VALUE when its length is not the
    /// algorithm's digest length, ILLEGAL_USE for a MAC algorithm.
    pub fn sign_precomputed_hash(&mut self, hash: &[u8], out: &mut [u8]) -> Result<usize> {
        let scheme = self.scheme;
        let i = self.state(Some(MODE_SIGN), "signPreComputedHash")?;
        let md = match scheme {
            Scheme::RsaPkcs1 { md } | Scheme::Ecdsa { md } => md,
            _ => return illegal_use("signPreComputedHash with a MAC algorithm"),
        };
        if Some(hash.len()) != digest::length(md).map(usize::from) {
            return illegal_value(format!(
                "precomputed hash of {} bytes for digest algorithm {md}",
                hash.len()
            ));
        }
        let sig = sign_digest(scheme, &i.key, hash);
        reset(scheme, i)?;
        write_out(out, &sig?, "Signature.signPreComputedHash")
    }

    /// The state as bytes (algorithm; when initialized the key snapshot, mode, IV and the
    /// running hash or MAC state).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut e = Enc::default();
        e.u8(self.alg);
        match &self.init {
            None => e.u8(0),
            Some(i) => {
                e.u8(1).bytes(&i.key.encode()).u8(i.mode).bytes(&i.iv);
                match &i.running {
                    Running::Hash(h) => e.bytes(&h.serialize()),
                    Running::Mac {
                        chain,
                        pending,
                        any,
                    } => e.bytes(chain).bytes(pending).u8(u8::from(*any)),
                }
            }
        };
        Zeroizing::new(e.0)
    }

    /// Decodes [`Signature::encode`]'s bytes.
    pub fn decode(b: &[u8]) -> std::result::Result<Signature, String> {
        let mut d = Dec::new(b, "Signature");
        let mut s = Signature::get_instance(d.u8()?).map_err(|e| e.to_string())?;
        if d.u8()? == 1 {
            let key = Key::decode(d.bytes()?)?;
            let mode = d.u8()?;
            let iv = d.bytes()?.to_vec();
            let running = match s.scheme {
                Scheme::RsaPkcs1 { md } | Scheme::Ecdsa { md } => {
                    Running::Hash(HashState::deserialize(md, d.bytes()?)?)
                }
                _ => {
                    let chain = d.bytes()?.to_vec();
                    let pending = Zeroizing::new(d.bytes()?.to_vec());
                    let any = d.u8()? == 1;
                    if chain.len() != block_size(s.scheme) || pending.len() >= chain.len() {
                        return Err("Signature state: MAC chaining value or partial block".into());
                    }
                    Running::Mac {
                        chain,
                        pending,
                        any,
                    }
                }
            };
            s.init = Some(Init {
                key,
                mode,
                iv,
                running,
            });
        }
        d.done()?;
        Ok(s)
    }
}

fn reset(scheme: Scheme, i: &mut Init) -> Result<()> {
    i.running = fresh(scheme, &i.iv)?;
    Ok(())
}

/// CBC-encipher whole blocks of `buf` from chaining value `chain` (ISO 9797-1 algorithm 3:
/// single DES with K1), leaving the new chaining value in `chain`.
fn chain_blocks(scheme: Scheme, key: &Key, chain: &mut Vec<u8>, buf: &mut [u8]) -> Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let mut engine = match scheme {
        Scheme::DesMacAlg3 { .. } => {
            let k = key.component(Component::Key)?;
            block::des_engine(k.get(..8).unwrap_or_default(), true, true, chain)?
        }
        _ => block::engine(key, true, true, chain)?,
    };
    engine.process(buf);
    let bs = chain.len();
    *chain = buf
        .get(buf.len().saturating_sub(bs)..)
        .unwrap_or_default()
        .to_vec();
    Ok(())
}

/// Take message bytes: hashed, or chained block by block.
fn absorb(scheme: Scheme, i: &mut Init, data: &[u8]) -> Result<()> {
    match &mut i.running {
        Running::Hash(h) => h.update(data),
        Running::Mac {
            chain,
            pending,
            any,
        } => {
            let bs = chain.len();
            pending.extend_from_slice(data);
            *any |= !data.is_empty();
            let n = pending.len() - pending.len() % bs;
            let mut whole: Zeroizing<Vec<u8>> = Zeroizing::new(pending.drain(..n).collect());
            chain_blocks(scheme, &i.key, chain, &mut whole)?;
        }
    }
    Ok(())
}

/// The digest (RSA/ECDSA) or the MAC of the whole message.
fn finish(scheme: Scheme, i: &mut Init, data: &[u8]) -> Result<Vec<u8>> {
    absorb(scheme, i, data)?;
    let (len, pad) = match scheme {
        Scheme::DesMac { len, pad } | Scheme::DesMacAlg3 { len, pad } => (len, pad),
        Scheme::AesMac => (16, Pad::None),
        _ => {
            let Running::Hash(h) = &mut i.running else {
                return invalid_init("Signature state is not a hash");
            };
            return Ok(h.finish());
        }
    };
    let Running::Mac {
        chain,
        pending,
        any,
    } = &mut i.running
    else {
        return invalid_init("Signature state is not a MAC");
    };
    let bs = chain.len();
    let mut last: Zeroizing<Vec<u8>> = Zeroizing::new(std::mem::take(&mut **pending));
    match pad {
        Pad::None => {
            if !*any || !last.is_empty() {
                return illegal_use(format!(
                    "NOPAD MAC over a message that is not a positive multiple of {bs} bytes"
                ));
            }
        }
        // Method 1 pads only a partial (or an empty) message.
        Pad::M1 if *any && last.is_empty() => {}
        _ => block::pad(&mut last, pad, bs),
    }
    chain_blocks(scheme, &i.key, chain, &mut last)?;
    let mut mac = chain.clone();
    if let Scheme::DesMacAlg3 { .. } = scheme {
        // ISO 9797-1 algorithm 3: the last chaining value deciphered with K2, enciphered with K1.
        let k = i.key.component(Component::Key)?;
        let (k1, k2) = (
            k.get(..8).unwrap_or_default(),
            k.get(8..16).unwrap_or_default(),
        );
        block::des_engine(k2, false, false, &[])?.process(&mut mac);
        block::des_engine(k1, false, true, &[])?.process(&mut mac);
    }
    mac.truncate(len);
    Ok(mac)
}

fn sign_digest(scheme: Scheme, key: &Key, d: &[u8]) -> Result<Vec<u8>> {
    match scheme {
        Scheme::RsaPkcs1 { md } => {
            let k = rsa::modulus_len(key)?;
            let em = rsa::emsa_pkcs1(md, d, k)?;
            Ok(rsa::raw(key, &em)?.to_vec())
        }
        Scheme::Ecdsa { .. } => ec::sign(key, d),
        _ => illegal_use("not a digest signature"),
    }
}

/// Whether `sig` fits `value` (the digest for RSA/ECDSA, the MAC for the MACs; MACs are
/// compared in constant time).
fn verify_value(scheme: Scheme, key: &Key, value: &[u8], sig: &[u8]) -> Result<bool> {
    match scheme {
        Scheme::RsaPkcs1 { md } => {
            let k = rsa::modulus_len(key)?;
            if sig.len() != k {
                return Ok(false);
            }
            let em = match rsa::raw(key, sig) {
                Ok(em) => em,
                Err(_) => return Ok(false),
            };
            let expected = rsa::emsa_pkcs1(md, value, k)?;
            Ok(bool::from(em.as_slice().ct_eq(&expected)))
        }
        Scheme::Ecdsa { .. } => ec::verify(key, value, sig),
        _ => Ok(value.len() == sig.len() && bool::from(value.ct_eq(sig))),
    }
}
