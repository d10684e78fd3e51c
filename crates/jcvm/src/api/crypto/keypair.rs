//! `javacard.security.KeyPair` (Java Card 3.0.5 API): ALG_RSA, ALG_RSA_CRT and ALG_EC_FP
//! (P-256) key pairs and `genKeyPair`.

use super::keys::{self, Key, KeyBuilder, KeyKind};
use super::random::RandomSource;
use super::{ec, illegal_value, no_such_algorithm, rsa, Result};

/// `KeyPair.ALG_RSA`.
pub const ALG_RSA: u8 = 1;
/// `KeyPair.ALG_RSA_CRT`.
pub const ALG_RSA_CRT: u8 = 2;
/// `KeyPair.ALG_DSA` (not supported).
pub const ALG_DSA: u8 = 3;
/// `KeyPair.ALG_EC_F2M` (not supported).
pub const ALG_EC_F2M: u8 = 4;
/// `KeyPair.ALG_EC_FP`.
pub const ALG_EC_FP: u8 = 5;

/// `new KeyPair(algorithm, keyLength)`: the (public, private) key objects it creates,
/// uninitialized. NO_SUCH_ALGORITHM for DSA, EC over F2m, or a length KeyBuilder lacks.
pub fn new_pair(alg: u8, length: u16) -> Result<(Key, Key)> {
    let (public, private) = match alg {
        ALG_RSA => (keys::TYPE_RSA_PUBLIC, keys::TYPE_RSA_PRIVATE),
        ALG_RSA_CRT => (keys::TYPE_RSA_PUBLIC, keys::TYPE_RSA_CRT_PRIVATE),
        ALG_EC_FP => (keys::TYPE_EC_FP_PUBLIC, keys::TYPE_EC_FP_PRIVATE),
        _ => return no_such_algorithm(format!("KeyPair algorithm {alg}")),
    };
    Ok((
        KeyBuilder::build_key(public, length, false)?,
        KeyBuilder::build_key(private, length, false)?,
    ))
}

/// `new KeyPair(publicKey, privateKey)`: checks the two keys belong together (ILLEGAL_VALUE
/// for mismatched algorithms or sizes, NO_SUCH_ALGORITHM for key types KeyPair lacks).
pub fn check_pair(public: &Key, private: &Key) -> Result<()> {
    let ok = matches!(
        (public.kind(), private.kind()),
        (
            KeyKind::RsaPublic,
            KeyKind::RsaPrivate | KeyKind::RsaCrtPrivate
        ) | (KeyKind::EcFpPublic, KeyKind::EcFpPrivate)
    );
    if !ok {
        return match public.kind() {
            KeyKind::RsaPublic | KeyKind::EcFpPublic => {
                illegal_value("KeyPair public and private keys of different algorithms")
            }
            _ => no_such_algorithm("KeyPair of keys that are not RSA or EC public/private keys"),
        };
    }
    if public.size() != private.size() {
        return illegal_value(format!(
            "KeyPair of a {}-bit public and a {}-bit private key",
            public.size(),
            private.size()
        ));
    }
    Ok(())
}

/// `KeyPair.genKeyPair()`: (re)generates both keys. RSA with e = 65537 (an RSA public
/// exponent already set is kept, as the API allows); EC on P-256, installing its domain
/// parameters where they are unset (ILLEGAL_VALUE when they are set to another curve).
pub fn gen_key_pair(public: &mut Key, private: &mut Key, rng: &mut dyn RandomSource) -> Result<()> {
    check_pair(public, private)?;
    match public.kind() {
        KeyKind::RsaPublic => rsa::generate(public.size(), public, private, rng),
        _ => ec::generate(public, private, rng),
    }
}
