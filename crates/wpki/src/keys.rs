//! Key groups, PINs and the on-card key operations of the WPKI applet: RSA-2048/3072 and EC
//! P-256/P-384 generation (RFC 8017, FIPS 186-5), RSASSA-PKCS1-v1_5 / PSS and ECDSA signatures,
//! RSAES decryption, PKCS#10 requests (RFC 2986), and split-key RSA.
//!
//! Split-key RSA: the private exponent is shared additively, `d ≡ d_server + d_card (mod φ(n))`.
//! For an encoded message `m` (EMSA-PKCS1-v1_5, RFC 8017 §9.2) the card computes
//! `s_card = m^d_card mod n`, the server `s_server = m^d_server mod n`, and
//! `s = s_card · s_server mod n = m^d mod n` is an ordinary RSASSA-PKCS1-v1_5 signature.

use crate::protocol::{HashAlg, KeyAlgorithm, Scheme};
use crypto_bigint::{
    modular::BoxedMontyForm, modular::BoxedMontyParams, BoxedUint, NonZero, RandomMod,
};
use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::CryptoRng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{Generate, Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, PrivateKey, PublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

/// Why a key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The algorithm, scheme or hash does not fit this key.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The input (digest length, ciphertext, subject) is malformed.
    #[error("bad input: {0}")]
    BadInput(&'static str),
    /// The primitive failed (decryption error, encoding error).
    #[error("crypto operation failed: {0}")]
    Crypto(&'static str),
}

/// Private key material as the card stores it. Never leaves the card; zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// An RSA key as PKCS#8 DER.
    Rsa(Zeroizing<Vec<u8>>),
    /// A P-256 private scalar.
    P256(Zeroizing<Vec<u8>>),
    /// A P-384 private scalar.
    P384(Zeroizing<Vec<u8>>),
    /// The card share of a split RSA key.
    SplitRsa {
        /// Modulus, big-endian.
        n: Vec<u8>,
        /// Public exponent, big-endian.
        e: Vec<u8>,
        /// The card's exponent share `d_card`, big-endian.
        d_card: Zeroizing<Vec<u8>>,
    },
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            KeyMaterial::Rsa(_) => "Rsa",
            KeyMaterial::P256(_) => "P256",
            KeyMaterial::P384(_) => "P384",
            KeyMaterial::SplitRsa { .. } => "SplitRsa",
        };
        write!(f, "KeyMaterial::{kind}(<secret>)")
    }
}

/// A private key decoded for use (kept in transient memory only).
pub enum LoadedKey {
    /// RSA.
    Rsa(Box<PrivateKey>),
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::SigningKey),
    /// Card share of a split RSA key.
    Split {
        /// Public key.
        public: PublicKey,
        /// Montgomery parameters of n.
        params: BoxedMontyParams,
        /// d_card.
        d_card: BoxedUint,
    },
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoadedKey(<secret>)")
    }
}

/// Compute a digest.
pub fn digest(hash: HashAlg, data: &[u8]) -> Result<Vec<u8>, KeyError> {
    Ok(match hash {
        HashAlg::Sha256 => Sha256::digest(data).to_vec(),
        HashAlg::Sha384 => Sha384::digest(data).to_vec(),
        HashAlg::Sha512 => Sha512::digest(data).to_vec(),
        HashAlg::Unknown(_) => return Err(KeyError::Unsupported("hash algorithm")),
    })
}

fn enc_err<E>(_: E) -> KeyError {
    KeyError::Crypto("key encoding")
}

/// Generate a key pair; returns the stored material and the DER SubjectPublicKeyInfo.
pub fn generate<R: CryptoRng + ?Sized>(
    alg: KeyAlgorithm,
    rng: &mut R,
) -> Result<(KeyMaterial, Vec<u8>), KeyError> {
    match alg {
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
            let bits = if alg == KeyAlgorithm::Rsa2048 {
                2048
            } else {
                3072
            };
            let k =
                PrivateKey::new(rng, bits).map_err(|_| KeyError::Crypto("RSA key generation"))?;
            let der = k.to_pkcs8_der().map_err(enc_err)?;
            let spki = k.to_public_key().to_public_key_der().map_err(enc_err)?;
            Ok((
                KeyMaterial::Rsa(Zeroizing::new(der.as_bytes().to_vec())),
                spki.as_bytes().to_vec(),
            ))
        }
        KeyAlgorithm::EcP256 => {
            let k = p256::ecdsa::SigningKey::generate_from_rng(rng);
            let spki = k.verifying_key().to_public_key_der().map_err(enc_err)?;
            Ok((
                KeyMaterial::P256(Zeroizing::new(k.to_bytes().to_vec())),
                spki.as_bytes().to_vec(),
            ))
        }
        KeyAlgorithm::EcP384 => {
            let k = p384::ecdsa::SigningKey::generate_from_rng(rng);
            let spki = k.verifying_key().to_public_key_der().map_err(enc_err)?;
            Ok((
                KeyMaterial::P384(Zeroizing::new(k.to_bytes().to_vec())),
                spki.as_bytes().to_vec(),
            ))
        }
        KeyAlgorithm::Unknown(_) => Err(KeyError::Unsupported("key algorithm")),
    }
}

/// The DER SubjectPublicKeyInfo of a split key's public half.
pub fn split_spki(n: &[u8], e: &[u8]) -> Result<Vec<u8>, KeyError> {
    let public = rsa_public(n, e)?;
    Ok(public
        .to_public_key_der()
        .map_err(|_| KeyError::Crypto("key encoding"))?
        .as_bytes()
        .to_vec())
}

fn rsa_public(n: &[u8], e: &[u8]) -> Result<PublicKey, KeyError> {
    let n = BoxedUint::from_be_slice_vartime(n);
    let e = BoxedUint::from_be_slice_vartime(e);
    PublicKey::new(n, e).map_err(|_| KeyError::BadInput("RSA public key (modulus/exponent)"))
}

impl KeyMaterial {
    /// Decode for use.
    pub fn load(&self) -> Result<LoadedKey, KeyError> {
        let bad = |_| KeyError::Crypto("stored key does not decode");
        Ok(match self {
            KeyMaterial::Rsa(der) => {
                LoadedKey::Rsa(Box::new(PrivateKey::from_pkcs8_der(der).map_err(bad)?))
            }
            KeyMaterial::P256(s) => LoadedKey::P256(
                p256::ecdsa::SigningKey::from_slice(s)
                    .map_err(|_| KeyError::Crypto("stored key"))?,
            ),
            KeyMaterial::P384(s) => LoadedKey::P384(
                p384::ecdsa::SigningKey::from_slice(s)
                    .map_err(|_| KeyError::Crypto("stored key"))?,
            ),
            KeyMaterial::SplitRsa { n, e, d_card } => {
                let public = rsa_public(n, e)?;
                let params = public.n_params().clone();
                let bits = public.n_bits_precision();
                let d = BoxedUint::from_be_slice(d_card, bits)
                    .map_err(|_| KeyError::BadInput("card share longer than the modulus"))?;
                LoadedKey::Split {
                    public,
                    params,
                    d_card: d,
                }
            }
        })
    }

    /// Check an ASN.1 `SubjectPublicKeyInfo` is the public half of this key? Not needed on
    /// card; the applet stores the SPKI next to the material.
    pub fn is_split(&self) -> bool {
        matches!(self, KeyMaterial::SplitRsa { .. })
    }
}

/// DigestInfo prefixes of RFC 8017 §9.2 note 1.
fn digest_info_prefix(hash: HashAlg) -> Result<&'static [u8], KeyError> {
    Ok(match hash {
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        HashAlg::Unknown(_) => return Err(KeyError::Unsupported("hash algorithm")),
    })
}

/// EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) of a digest into `k` bytes.
pub fn emsa_pkcs1v15(hash: HashAlg, digest: &[u8], k: usize) -> Result<Vec<u8>, KeyError> {
    if Some(digest.len()) != hash.digest_len() {
        return Err(KeyError::BadInput("digest length does not match the hash"));
    }
    let prefix = digest_info_prefix(hash)?;
    let t_len = prefix.len() + digest.len();
    let ps = k
        .checked_sub(t_len + 3)
        .filter(|p| *p >= 8)
        .ok_or(KeyError::BadInput("modulus too short"))?;
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(2 + ps, 0xFF);
    em.push(0x00);
    em.extend_from_slice(prefix);
    em.extend_from_slice(digest);
    Ok(em)
}

fn pkcs1v15(hash: HashAlg) -> Result<Pkcs1v15Sign, KeyError> {
    Ok(match hash {
        HashAlg::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        HashAlg::Unknown(_) => return Err(KeyError::Unsupported("hash algorithm")),
    })
}

fn sig_err<E>(_: E) -> KeyError {
    KeyError::Crypto("signature")
}

impl LoadedKey {
    /// Sign a digest computed with `hash`. For split keys this is the card's partial signature
    /// `s_card` (RSASSA-PKCS1-v1_5 only).
    pub fn sign_digest<R: CryptoRng + ?Sized>(
        &self,
        scheme: Scheme,
        hash: HashAlg,
        digest: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, KeyError> {
        if Some(digest.len()) != hash.digest_len() {
            return Err(KeyError::BadInput("digest length does not match the hash"));
        }
        match (self, scheme) {
            (LoadedKey::Rsa(k), Scheme::RsaPkcs1v15) => k
                .sign_with_rng(rng, pkcs1v15(hash)?, digest)
                .map_err(sig_err),
            (LoadedKey::Rsa(k), Scheme::RsaPss) => match hash {
                HashAlg::Sha256 => k
                    .sign_with_rng(rng, rsa::Pss::<Sha256>::new(), digest)
                    .map_err(sig_err),
                HashAlg::Sha384 => k
                    .sign_with_rng(rng, rsa::Pss::<Sha384>::new(), digest)
                    .map_err(sig_err),
                HashAlg::Sha512 => k
                    .sign_with_rng(rng, rsa::Pss::<Sha512>::new(), digest)
                    .map_err(sig_err),
                HashAlg::Unknown(_) => Err(KeyError::Unsupported("hash algorithm")),
            },
            (LoadedKey::P256(k), Scheme::Ecdsa) => {
                use ecdsa::signature::hazmat::PrehashSigner;
                let s: p256::ecdsa::Signature = k.sign_prehash(digest).map_err(sig_err)?;
                Ok(s.to_der().as_bytes().to_vec())
            }
            (LoadedKey::P384(k), Scheme::Ecdsa) => {
                use ecdsa::signature::hazmat::PrehashSigner;
                let s: p384::ecdsa::Signature = k.sign_prehash(digest).map_err(sig_err)?;
                Ok(s.to_der().as_bytes().to_vec())
            }
            (
                LoadedKey::Split {
                    public,
                    params,
                    d_card,
                },
                Scheme::RsaPkcs1v15,
            ) => {
                let em = emsa_pkcs1v15(hash, digest, public.size())?;
                Ok(split_pow(&em, params, d_card, public.size()))
            }
            _ => Err(KeyError::Unsupported("scheme does not fit the key type")),
        }
    }

    /// RSA decryption (RSAES-PKCS1-v1_5 or RSAES-OAEP-SHA256).
    pub fn decrypt<R: CryptoRng + ?Sized>(
        &self,
        scheme: Scheme,
        ct: &[u8],
        rng: &mut R,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let LoadedKey::Rsa(k) = self else {
            return Err(KeyError::Unsupported(
                "decryption needs a (non-split) RSA key",
            ));
        };
        let r = match scheme {
            Scheme::RsaPkcs1v15Decrypt => k.decrypt_blinded(rng, Pkcs1v15Encrypt, ct),
            Scheme::RsaOaepSha256 => k.decrypt_blinded(rng, Oaep::<Sha256>::new(), ct),
            _ => return Err(KeyError::Unsupported("decryption scheme")),
        };
        r.map(Zeroizing::new)
            .map_err(|_| KeyError::Crypto("decryption"))
    }

    /// The default signature scheme for this key type.
    pub fn default_scheme(&self) -> Scheme {
        match self {
            LoadedKey::Rsa(_) | LoadedKey::Split { .. } => Scheme::RsaPkcs1v15,
            LoadedKey::P256(_) | LoadedKey::P384(_) => Scheme::Ecdsa,
        }
    }
}

fn split_pow(em: &[u8], params: &BoxedMontyParams, exp: &BoxedUint, k: usize) -> Vec<u8> {
    let bits = params.bits_precision();
    let m = BoxedUint::from_be_slice_truncated(em, bits);
    let s = BoxedMontyForm::new(m, params).pow(exp).retrieve();
    left_pad(&s.to_be_bytes(), k)
}

fn left_pad(b: &[u8], k: usize) -> Vec<u8> {
    let start = b.len().saturating_sub(k);
    let b = &b[start..];
    let mut out = vec![0u8; k - b.len()];
    out.extend_from_slice(b);
    out
}

/// OID and parameters of the CSR signature algorithm for a key and hash.
fn sig_alg(key: &LoadedKey, hash: HashAlg) -> Result<spki::AlgorithmIdentifierOwned, KeyError> {
    use der::asn1::ObjectIdentifier as Oid;
    let (oid, null) = match (key, hash) {
        (LoadedKey::Rsa(_), HashAlg::Sha256) => ("1.2.840.113549.1.1.11", true),
        (LoadedKey::Rsa(_), HashAlg::Sha384) => ("1.2.840.113549.1.1.12", true),
        (LoadedKey::Rsa(_), HashAlg::Sha512) => ("1.2.840.113549.1.1.13", true),
        (LoadedKey::P256(_) | LoadedKey::P384(_), HashAlg::Sha256) => {
            ("1.2.840.10045.4.3.2", false)
        }
        (LoadedKey::P256(_) | LoadedKey::P384(_), HashAlg::Sha384) => {
            ("1.2.840.10045.4.3.3", false)
        }
        (LoadedKey::P256(_) | LoadedKey::P384(_), HashAlg::Sha512) => {
            ("1.2.840.10045.4.3.4", false)
        }
        (LoadedKey::Split { .. }, _) => return Err(KeyError::Unsupported("POP with a split key")),
        _ => return Err(KeyError::Unsupported("hash algorithm")),
    };
    let oid = Oid::new(oid).map_err(|_| KeyError::Crypto("oid"))?;
    let parameters = if null { Some(der::Any::null()) } else { None };
    Ok(spki::AlgorithmIdentifierOwned { oid, parameters })
}

/// Build a PKCS#10 CertificationRequest (RFC 2986) for `subject` (DER `Name`) over the key's
/// public key `spki_der`, signed with the key (PKCS#1 v1.5 for RSA, ECDSA for EC).
pub fn make_csr<R: CryptoRng + ?Sized>(
    key: &LoadedKey,
    spki_der: &[u8],
    subject_der: &[u8],
    hash: HashAlg,
    rng: &mut R,
) -> Result<Vec<u8>, KeyError> {
    use x509_cert::request::{CertReq, CertReqInfo, Version};
    let subject = x509_cert::name::Name::from_der(subject_der)
        .map_err(|_| KeyError::BadInput("subject is not a DER Name"))?;
    let public_key = spki::SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(|_| KeyError::Crypto("stored SPKI"))?;
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key,
        attributes: Default::default(),
    };
    let tbs = info
        .to_der()
        .map_err(|_| KeyError::Crypto("CSR encoding"))?;
    let algorithm = sig_alg(key, hash)?;
    let d = digest(hash, &tbs)?;
    let sig = key.sign_digest(key.default_scheme(), hash, &d, rng)?;
    let signature =
        der::asn1::BitString::from_bytes(&sig).map_err(|_| KeyError::Crypto("CSR encoding"))?;
    CertReq {
        info,
        algorithm,
        signature,
    }
    .to_der()
    .map_err(|_| KeyError::Crypto("CSR encoding"))
}

/// A PIN or PUK with its retry counter (TS 102 221 §9-style semantics: the counter is
/// decremented and persisted before the comparison, reset on success).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The value (ASCII digits).
    pub value: Zeroizing<Vec<u8>>,
    /// Tries left; 0 = blocked.
    pub tries_left: u8,
    /// Counter reset value.
    pub max_tries: u8,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Secret(<secret>, tries {}/{})",
            self.tries_left, self.max_tries
        )
    }
}

impl Secret {
    /// A fresh secret with a full counter.
    pub fn new(value: &[u8], max_tries: u8) -> Secret {
        Secret {
            value: Zeroizing::new(value.to_vec()),
            tries_left: max_tries,
            max_tries,
        }
    }
    /// Blocked (no tries left)?
    pub fn blocked(&self) -> bool {
        self.tries_left == 0
    }
    /// Constant-time comparison of `candidate` with the value (length leaks only as "differs").
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let same_len = self.value.len() == candidate.len();
        // Compare against a fixed-length buffer so the time does not depend on where they differ.
        let mut a = Zeroizing::new([0u8; 16]);
        let mut b = Zeroizing::new([0u8; 16]);
        let la = self.value.len().min(16);
        let lb = candidate.len().min(16);
        a[..la].copy_from_slice(&self.value[..la]);
        b[..lb].copy_from_slice(&candidate[..lb]);
        bool::from(a.ct_eq(&*b)) & same_len
    }
}

/// Both shares of a split RSA key, as made by `simota wpki split-keygen`.
#[derive(Clone)]
pub struct SplitKey {
    /// Modulus, big-endian.
    pub n: Vec<u8>,
    /// Public exponent, big-endian.
    pub e: Vec<u8>,
    /// The server's share `d_server`.
    pub d_server: Zeroizing<Vec<u8>>,
    /// The card's share `d_card`.
    pub d_card: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SplitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SplitKey(n: {} bytes, shares <secret>)", self.n.len())
    }
}

impl SplitKey {
    /// Generate an RSA key of `bits` and split its private exponent: `d_server` uniform in
    /// `[0, φ(n))`, `d_card = d − d_server mod φ(n)`. The full private key is dropped (zeroized).
    #[allow(deprecated)] // BoxedUint::widen/mul: the replacements' APIs are still settling
    pub fn generate<R: CryptoRng + ?Sized>(bits: usize, rng: &mut R) -> Result<SplitKey, KeyError> {
        let k = PrivateKey::new(rng, bits).map_err(|_| KeyError::Crypto("RSA key generation"))?;
        let [p, q] = k.primes() else {
            return Err(KeyError::Crypto("RSA key is not two-prime"));
        };
        let n = k.n().as_ref();
        let wide = n.bits_precision();
        let one = BoxedUint::one_with_precision(wide);
        let pm1 = p.as_ref().widen(wide).wrapping_sub(&one);
        let qm1 = q.as_ref().widen(wide).wrapping_sub(&one);
        let phi = Zeroizing::new(pm1.mul(&qm1).widen(2 * wide));
        let phi = NonZero::new(BoxedUint::from_be_slice_truncated(&phi.to_be_bytes(), wide))
            .into_option()
            .ok_or(KeyError::Crypto("phi"))?;
        let d = k.d().widen(wide).rem(&phi);
        let d_server = BoxedUint::random_mod_vartime(rng, &phi);
        let d_card = d.sub_mod(&d_server, &phi);
        let kbytes = k.size();
        Ok(SplitKey {
            n: n.to_be_bytes_trimmed_vartime().to_vec(),
            e: k.e().to_be_bytes_trimmed_vartime().to_vec(),
            d_server: Zeroizing::new(left_pad(&d_server.to_be_bytes(), kbytes)),
            d_card: Zeroizing::new(left_pad(&d_card.to_be_bytes(), kbytes)),
        })
    }

    /// The DER SubjectPublicKeyInfo of the public key.
    pub fn spki(&self) -> Result<Vec<u8>, KeyError> {
        split_spki(&self.n, &self.e)
    }
}

/// Server side of a split signature: `s = s_card · m^d_server mod n` for the digest, checked
/// against the public key before it is returned.
pub fn split_combine(
    n: &[u8],
    e: &[u8],
    d_server: &[u8],
    hash: HashAlg,
    digest: &[u8],
    s_card: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let public = rsa_public(n, e)?;
    let k = public.size();
    let bits = public.n_bits_precision();
    let params = public.n_params();
    let em = emsa_pkcs1v15(hash, digest, k)?;
    let d = BoxedUint::from_be_slice(d_server, bits)
        .map_err(|_| KeyError::BadInput("server share longer than the modulus"))?;
    let s_server = BoxedUint::from_be_slice_truncated(&split_pow(&em, params, &d, k), bits);
    if s_card.len() != k {
        return Err(KeyError::BadInput(
            "partial signature length differs from the modulus length",
        ));
    }
    let s_card = BoxedUint::from_be_slice(s_card, bits)
        .map_err(|_| KeyError::BadInput("partial signature"))?;
    if s_card >= *public.n().as_ref() {
        return Err(KeyError::BadInput(
            "partial signature not below the modulus",
        ));
    }
    let s = BoxedMontyForm::new(s_card, params)
        .mul(&BoxedMontyForm::new(s_server, params))
        .retrieve();
    let sig = left_pad(&s.to_be_bytes(), k);
    public
        .verify(pkcs1v15(hash)?, digest, &sig)
        .map_err(|_| KeyError::Crypto("combined signature does not verify (wrong share?)"))?;
    Ok(sig)
}

/// Verify a signature over a digest with a DER SubjectPublicKeyInfo (host-side checks).
pub fn verify_digest(
    spki_der: &[u8],
    scheme: Scheme,
    hash: HashAlg,
    digest: &[u8],
    sig: &[u8],
) -> Result<(), KeyError> {
    use pkcs8::DecodePublicKey;
    let bad = KeyError::Crypto("signature does not verify");
    match scheme {
        Scheme::RsaPkcs1v15 | Scheme::RsaPss => {
            let k = PublicKey::from_public_key_der(spki_der)
                .map_err(|_| KeyError::BadInput("SPKI is not an RSA key"))?;
            let r = if scheme == Scheme::RsaPkcs1v15 {
                k.verify(pkcs1v15(hash)?, digest, sig)
            } else {
                match hash {
                    HashAlg::Sha256 => k.verify(rsa::Pss::<Sha256>::new(), digest, sig),
                    HashAlg::Sha384 => k.verify(rsa::Pss::<Sha384>::new(), digest, sig),
                    HashAlg::Sha512 => k.verify(rsa::Pss::<Sha512>::new(), digest, sig),
                    HashAlg::Unknown(_) => return Err(KeyError::Unsupported("hash algorithm")),
                }
            };
            r.map_err(|_| bad)
        }
        Scheme::Ecdsa => {
            use ecdsa::signature::hazmat::PrehashVerifier;
            if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der) {
                let s = p256::ecdsa::Signature::from_der(sig)
                    .map_err(|_| KeyError::BadInput("ECDSA signature DER"))?;
                return k.verify_prehash(digest, &s).map_err(|_| bad);
            }
            let k = p384::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                .map_err(|_| KeyError::BadInput("SPKI is not a P-256/P-384 key"))?;
            let s = p384::ecdsa::Signature::from_der(sig)
                .map_err(|_| KeyError::BadInput("ECDSA signature DER"))?;
            k.verify_prehash(digest, &s).map_err(|_| bad)
        }
        _ => Err(KeyError::Unsupported("not a signature scheme")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn ec_sign_verify_all_hashes() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for alg in [KeyAlgorithm::EcP256, KeyAlgorithm::EcP384] {
            let (m, spki) = generate(alg, &mut rng).unwrap();
            let k = m.load().unwrap();
            for h in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
                let d = digest(h, b"hello").unwrap();
                let s = k.sign_digest(Scheme::Ecdsa, h, &d, &mut rng).unwrap();
                verify_digest(&spki, Scheme::Ecdsa, h, &d, &s).unwrap();
                assert!(
                    verify_digest(&spki, Scheme::Ecdsa, h, &digest(h, b"hellO").unwrap(), &s)
                        .is_err()
                );
            }
            assert_eq!(
                k.sign_digest(Scheme::RsaPss, HashAlg::Sha256, &[0; 32], &mut rng),
                Err(KeyError::Unsupported("scheme does not fit the key type"))
            );
            assert_eq!(
                k.sign_digest(Scheme::Ecdsa, HashAlg::Sha256, &[0; 31], &mut rng),
                Err(KeyError::BadInput("digest length does not match the hash"))
            );
        }
    }

    #[test]
    fn split_key_combines_to_ordinary_signature() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let sk = SplitKey::generate(2048, &mut rng).unwrap();
        let card = KeyMaterial::SplitRsa {
            n: sk.n.clone(),
            e: sk.e.clone(),
            d_card: sk.d_card.clone(),
        }
        .load()
        .unwrap();
        let d = digest(HashAlg::Sha256, b"split me").unwrap();
        let s_card = card
            .sign_digest(Scheme::RsaPkcs1v15, HashAlg::Sha256, &d, &mut rng)
            .unwrap();
        let spki = sk.spki().unwrap();
        assert!(verify_digest(&spki, Scheme::RsaPkcs1v15, HashAlg::Sha256, &d, &s_card).is_err());
        let s = split_combine(&sk.n, &sk.e, &sk.d_server, HashAlg::Sha256, &d, &s_card).unwrap();
        verify_digest(&spki, Scheme::RsaPkcs1v15, HashAlg::Sha256, &d, &s).unwrap();
        // a wrong server share is detected
        let mut wrong = sk.d_server.to_vec();
        let last = wrong.len() - 1;
        wrong[last] ^= 2;
        assert!(split_combine(&sk.n, &sk.e, &wrong, HashAlg::Sha256, &d, &s_card).is_err());
    }

    #[test]
    fn pin_compare() {
        let s = Secret::new(b"1234", 3);
        assert!(s.matches(b"1234"));
        assert!(!s.matches(b"1235"));
        assert!(!s.matches(b"12345"));
        assert!(!s.matches(b""));
        assert!(!format!("{s:?}").contains("1234"));
    }
}
