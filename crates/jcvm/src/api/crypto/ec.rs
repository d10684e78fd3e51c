//! EC over the prime field of NIST P-256 (secp256r1, FIPS 186-5 / SEC 2) for the Java Card EC
//! keys: the domain parameters as KeyPair installs them, the check that a key's parameters
//! are that curve, key generation, and ECDSA over a digest (p256 / ecdsa crates; signatures
//! DER-encoded `SEQUENCE { r INTEGER, s INTEGER }` as Java Card emits them).

use super::keys::{strip_zeros, Component, Key, KeyKind};
use super::random::{RandomSource, Rng};
use super::{illegal_use, illegal_value, Result};
use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::Generate;

/// P-256 field prime p.
pub const P256_P: [u8; 32] =
    hex32("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
/// P-256 coefficient a.
pub const P256_A: [u8; 32] =
    hex32("ffffffff00000001000000000000000000000000fffffffffffffffffffffffc");
/// P-256 coefficient b.
pub const P256_B: [u8; 32] =
    hex32("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
/// P-256 base point x.
pub const P256_GX: [u8; 32] =
    hex32("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
/// P-256 base point y.
pub const P256_GY: [u8; 32] =
    hex32("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
/// P-256 order n of G.
pub const P256_N: [u8; 32] =
    hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nib(b[2 * i]) << 4) | nib(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nib(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    }
}

/// The uncompressed SEC 1 encoding of the P-256 base point.
pub fn p256_g() -> Vec<u8> {
    let mut g = vec![0x04];
    g.extend_from_slice(&P256_GX);
    g.extend_from_slice(&P256_GY);
    g
}

/// Install the P-256 domain parameters (field, A, B, G, R, K = 1) in `key`.
pub fn set_p256_domain(key: &mut Key) -> Result<()> {
    key.set(Component::Field, &P256_P)?;
    key.set(Component::A, &P256_A)?;
    key.set(Component::B, &P256_B)?;
    key.set(Component::G, &p256_g())?;
    key.set(Component::R, &P256_N)?;
    key.set_k(1)
}

/// Whether every domain parameter of `key` that is set is P-256's (unset ones count as
/// equal: KeyPair fills them in).
pub fn domain_is_p256_or_unset(key: &Key) -> bool {
    let same = |c: Component, v: &[u8]| match key.component(c) {
        Ok(x) => strip_zeros(x) == strip_zeros(v),
        Err(_) => true,
    };
    let g_ok = match key.component(Component::G) {
        Ok(g) => g == p256_g().as_slice() || compressed_g_ok(g),
        Err(_) => true,
    };
    same(Component::Field, &P256_P)
        && same(Component::A, &P256_A)
        && same(Component::B, &P256_B)
        && same(Component::R, &P256_N)
        && g_ok
        && key.get_k().map(|k| k == 1).unwrap_or(true)
}

fn compressed_g_ok(g: &[u8]) -> bool {
    // Gy is odd: 03 prefix.
    g.len() == 33 && g.first() == Some(&0x03) && g.get(1..) == Some(&P256_GX[..])
}

fn require_p256(key: &Key, user: &str) -> Result<()> {
    key.require_initialized(user)?;
    if domain_is_p256_or_unset(key) {
        Ok(())
    } else {
        illegal_value(format!(
            "{user}: the EC key's domain parameters are not P-256"
        ))
    }
}

/// Generate a P-256 key pair into `public` (W) and `private` (S); sets the domain
/// parameters of both when they are unset; ILLEGAL_VALUE when they are set to another curve.
pub fn generate(public: &mut Key, private: &mut Key, rng: &mut dyn RandomSource) -> Result<()> {
    for k in [&*public, &*private] {
        if !domain_is_p256_or_unset(k) {
            return illegal_value("KeyPair EC domain parameters other than P-256");
        }
    }
    set_p256_domain(public)?;
    set_p256_domain(private)?;
    let sk = p256::ecdsa::SigningKey::generate_from_rng(&mut Rng(rng));
    let w = sk.verifying_key().to_sec1_point(false);
    public.set_raw(Component::W, w.as_bytes().to_vec());
    private.set_raw(Component::S, sk.to_bytes().to_vec());
    Ok(())
}

/// ECDSA signature of `digest` with the private key, DER-encoded.
pub fn sign(key: &Key, digest: &[u8]) -> Result<Vec<u8>> {
    if key.kind() != KeyKind::EcFpPrivate {
        return illegal_value("ECDSA signing needs an EC private key");
    }
    require_p256(key, "ECDSA sign")?;
    let s = key.component(Component::S)?;
    let mut buf = [0u8; 32];
    let s = strip_zeros(s);
    if s.len() > 32 {
        return illegal_value("EC private scalar longer than 32 bytes");
    }
    buf[32 - s.len()..].copy_from_slice(s);
    let Ok(sk) = p256::ecdsa::SigningKey::from_slice(&buf) else {
        return illegal_value("EC private scalar is zero or not below the order");
    };
    let sig: p256::ecdsa::Signature = match sk.sign_prehash(digest) {
        Ok(s) => s,
        Err(_) => return illegal_use("ECDSA signing failed"),
    };
    Ok(sig.to_der().as_bytes().to_vec())
}

/// ECDSA verification of a DER signature over `digest` with the public key: false for a
/// signature that does not decode or does not verify.
pub fn verify(key: &Key, digest: &[u8], sig: &[u8]) -> Result<bool> {
    if key.kind() != KeyKind::EcFpPublic {
        return illegal_value("ECDSA verification needs an EC public key");
    }
    require_p256(key, "ECDSA verify")?;
    let w = key.component(Component::W)?;
    let Ok(vk) = p256::ecdsa::VerifyingKey::from_sec1_bytes(w) else {
        return illegal_value("EC public point W is not on P-256");
    };
    let Ok(sig) = p256::ecdsa::Signature::from_der(sig) else {
        return Ok(false);
    };
    Ok(vk.verify_prehash(digest, &sig).is_ok())
}

/// The longest DER ECDSA signature for P-256 (`Signature.getLength()`).
pub const P256_MAX_SIG_LEN: usize = 72;
