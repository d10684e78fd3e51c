//! EC over the prime fields of NIST P-256 and P-384 (secp256r1/secp384r1, FIPS 186-5 / SEC 2)
//! for the Java Card EC keys: the domain parameters as KeyPair installs them, the check that a key's parameters
//! are that curve, key generation, and ECDSA over a digest (p256 / p384 / ecdsa crates; signatures
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
    hexn::<32>(s)
}

const fn hex48(s: &str) -> [u8; 48] {
    hexn::<48>(s)
}

const fn hexn<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
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

/// P-384 field prime p.
pub const P384_P: [u8; 48] = hex48("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff");
/// P-384 coefficient a.
pub const P384_A: [u8; 48] = hex48("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc");
/// P-384 coefficient b.
pub const P384_B: [u8; 48] = hex48("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef");
/// P-384 base point x.
pub const P384_GX: [u8; 48] = hex48("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7");
/// P-384 base point y.
pub const P384_GY: [u8; 48] = hex48("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f");
/// P-384 order n of G.
pub const P384_N: [u8; 48] = hex48("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");

/// A curve's (p, a, b, Gx, Gy, n), big-endian.
type Domain = (
    &'static [u8],
    &'static [u8],
    &'static [u8],
    &'static [u8],
    &'static [u8],
    &'static [u8],
);

/// The curves of the EC keys: by key length, 256 = P-256, 384 = P-384.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

impl Curve {
    /// The curve of a key of `bits`.
    pub fn of_size(bits: u16) -> Option<Curve> {
        match bits {
            256 => Some(Curve::P256),
            384 => Some(Curve::P384),
            _ => None,
        }
    }

    fn params(self) -> Domain {
        match self {
            Curve::P256 => (&P256_P, &P256_A, &P256_B, &P256_GX, &P256_GY, &P256_N),
            Curve::P384 => (&P384_P, &P384_A, &P384_B, &P384_GX, &P384_GY, &P384_N),
        }
    }

    /// The uncompressed SEC 1 encoding of the base point.
    pub fn g(self) -> Vec<u8> {
        let (_, _, _, gx, gy, _) = self.params();
        let mut g = vec![0x04];
        g.extend_from_slice(gx);
        g.extend_from_slice(gy);
        g
    }

    /// The longest DER ECDSA signature (`Signature.getLength()`).
    pub fn max_sig_len(self) -> usize {
        match self {
            Curve::P256 => 72,
            Curve::P384 => 104,
        }
    }
}

fn curve(key: &Key) -> Result<Curve> {
    match Curve::of_size(key.size()) {
        Some(c) => Ok(c),
        None => illegal_value(format!(
            "EC key of {} bits (P-256 and P-384 only)",
            key.size()
        )),
    }
}

/// Install the domain parameters of the key's curve (field, A, B, G, R, K = 1) in `key`.
pub fn set_domain(key: &mut Key) -> Result<()> {
    let c = curve(key)?;
    let (p, a, b, _, _, n) = c.params();
    key.set(Component::Field, p)?;
    key.set(Component::A, a)?;
    key.set(Component::B, b)?;
    key.set(Component::G, &c.g())?;
    key.set(Component::R, n)?;
    key.set_k(1)
}

/// Whether every domain parameter of `key` that is set is its curve's (unset ones count as
/// equal: KeyPair fills them in).
pub fn domain_is_curve_or_unset(key: &Key) -> bool {
    let Ok(c) = curve(key) else {
        return false;
    };
    let (p, a, b, gx, _, n) = c.params();
    let same = |comp: Component, v: &[u8]| match key.component(comp) {
        Ok(x) => strip_zeros(x) == strip_zeros(v),
        Err(_) => true,
    };
    let g_ok = match key.component(Component::G) {
        // Compressed G: the y of both base points is odd (03 prefix).
        Ok(g) => g == c.g().as_slice() || (g.first() == Some(&0x03) && g.get(1..) == Some(gx)),
        Err(_) => true,
    };
    same(Component::Field, p)
        && same(Component::A, a)
        && same(Component::B, b)
        && same(Component::R, n)
        && g_ok
        && key.get_k().map(|k| k == 1).unwrap_or(true)
}

fn require_curve(key: &Key, user: &str) -> Result<Curve> {
    key.require_initialized(user)?;
    if domain_is_curve_or_unset(key) {
        curve(key)
    } else {
        illegal_value(format!(
            "{user}: the EC key's domain parameters are not those of P-{}",
            key.size()
        ))
    }
}

/// Generate a P-256 or P-384 key pair (by key length) into `public` (W) and `private` (S);
/// sets the domain parameters of both when they are unset; ILLEGAL_VALUE when they are set
/// to another curve.
pub fn generate(public: &mut Key, private: &mut Key, rng: &mut dyn RandomSource) -> Result<()> {
    for k in [&*public, &*private] {
        if !domain_is_curve_or_unset(k) {
            return illegal_value(format!(
                "KeyPair EC domain parameters other than P-{}",
                k.size()
            ));
        }
    }
    set_domain(public)?;
    set_domain(private)?;
    let (w, s) = match curve(public)? {
        Curve::P256 => {
            let sk = p256::ecdsa::SigningKey::generate_from_rng(&mut Rng(rng));
            let w = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
            (w, sk.to_bytes().to_vec())
        }
        Curve::P384 => {
            let sk = p384::ecdsa::SigningKey::generate_from_rng(&mut Rng(rng));
            let w = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
            (w, sk.to_bytes().to_vec())
        }
    };
    public.set_raw(Component::W, w);
    private.set_raw(Component::S, s);
    Ok(())
}

/// ECDSA signature of `digest` with the private key, DER-encoded.
pub fn sign(key: &Key, digest: &[u8]) -> Result<Vec<u8>> {
    if key.kind() != KeyKind::EcFpPrivate {
        return illegal_value("ECDSA signing needs an EC private key");
    }
    let c = require_curve(key, "ECDSA sign")?;
    let s = strip_zeros(key.component(Component::S)?);
    let n = usize::from(key.size()) / 8;
    if s.len() > n {
        return illegal_value(format!("EC private scalar longer than {n} bytes"));
    }
    let mut buf = zeroize::Zeroizing::new(vec![0u8; n]);
    buf[n - s.len()..].copy_from_slice(s);
    let bad = || illegal_value("EC private scalar is zero or not below the order");
    let der = match c {
        Curve::P256 => {
            let Ok(sk) = p256::ecdsa::SigningKey::from_slice(&buf) else {
                return bad();
            };
            let sig: p256::ecdsa::Signature = match sk.sign_prehash(digest) {
                Ok(s) => s,
                Err(_) => return illegal_use("ECDSA signing failed"),
            };
            sig.to_der().as_bytes().to_vec()
        }
        Curve::P384 => {
            let Ok(sk) = p384::ecdsa::SigningKey::from_slice(&buf) else {
                return bad();
            };
            let sig: p384::ecdsa::Signature = match sk.sign_prehash(digest) {
                Ok(s) => s,
                Err(_) => return illegal_use("ECDSA signing failed"),
            };
            sig.to_der().as_bytes().to_vec()
        }
    };
    Ok(der)
}

/// ECDSA verification of a DER signature over `digest` with the public key: false for a
/// signature that does not decode or does not verify.
pub fn verify(key: &Key, digest: &[u8], sig: &[u8]) -> Result<bool> {
    if key.kind() != KeyKind::EcFpPublic {
        return illegal_value("ECDSA verification needs an EC public key");
    }
    let c = require_curve(key, "ECDSA verify")?;
    let w = key.component(Component::W)?;
    let not_on = || illegal_value(format!("EC public point W is not on P-{}", key.size()));
    Ok(match c {
        Curve::P256 => {
            let Ok(vk) = p256::ecdsa::VerifyingKey::from_sec1_bytes(w) else {
                return not_on();
            };
            match p256::ecdsa::Signature::from_der(sig) {
                Ok(sig) => vk.verify_prehash(digest, &sig).is_ok(),
                Err(_) => false,
            }
        }
        Curve::P384 => {
            let Ok(vk) = p384::ecdsa::VerifyingKey::from_sec1_bytes(w) else {
                return not_on();
            };
            match p384::ecdsa::Signature::from_der(sig) {
                Ok(sig) => vk.verify_prehash(digest, &sig).is_ok(),
                Err(_) => false,
            }
        }
    })
}
