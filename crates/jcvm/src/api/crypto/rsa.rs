//! RSA for the Java Card key objects (RFC 8017): the primitive over the key's components
//! (public `m^e mod n`, private `c^d mod n`, CRT with P, Q, DP1, DQ1, PQ) on crypto-bigint,
//! the paddings Java Card names (RSAES-PKCS1-v1_5 both block types, RSAES-OAEP with SHA-1 and
//! MGF1-SHA-1 and an empty label, EMSA-PKCS1-v1_5 DigestInfo), and key pair generation with
//! the rsa crate (e = 65537).
//!
//! Java Card keys start at 512 bits and a CRT private key carries no public exponent, so the
//! primitive is computed here from the components rather than through `rsa::PrivateKey`.

use super::keys::{strip_zeros, Component, Key, KeyKind};
use super::random::{RandomSource, Rng};
use super::{illegal_use, illegal_value, Result};
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, ConcatenatingMul, NonZero, Odd, Resize};
use sha1::{Digest, Sha1};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

fn uint(bytes: &[u8]) -> BoxedUint {
    BoxedUint::from_be_slice_vartime(strip_zeros(bytes))
}

/// A private key component as an integer, zeroized when dropped.
fn secret(bytes: &[u8]) -> Zeroizing<BoxedUint> {
    Zeroizing::new(uint(bytes))
}

/// `base^exp mod m` for an odd `m`.
fn modpow(base: &BoxedUint, exp: &BoxedUint, m: &BoxedUint, what: &str) -> Result<BoxedUint> {
    let Some(odd) = Option::<Odd<BoxedUint>>::from(Odd::new(m.clone())) else {
        return illegal_value(format!("{what} is even or zero"));
    };
    let params = BoxedMontyParams::new(odd);
    let Some(nz) = Option::<NonZero<BoxedUint>>::from(NonZero::new(m.clone())) else {
        return illegal_value(format!("{what} is zero"));
    };
    let b = base.rem(&nz);
    Ok(BoxedMontyForm::new(b, &params).pow(exp).retrieve())
}

/// The modulus length in bytes of an initialized RSA key (`k` of RFC 8017).
pub fn modulus_len(key: &Key) -> Result<usize> {
    match key.kind() {
        KeyKind::RsaPublic | KeyKind::RsaPrivate => {
            let n = strip_zeros(key.component(Component::Modulus)?);
            Ok(n.len())
        }
        KeyKind::RsaCrtPrivate => {
            let p = uint(key.component(Component::P)?);
            let q = uint(key.component(Component::Q)?);
            let n = p.concatenating_mul(&q);
            Ok(n.to_be_bytes_trimmed_vartime().len())
        }
        k => illegal_value(format!("{k:?} key is not an RSA key")),
    }
}

/// `a < b` for big-endian byte strings (leading zeros ignored; public values only).
fn below(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (strip_zeros(a), strip_zeros(b));
    a.len() < b.len() || (a.len() == b.len() && a < b)
}

fn to_k_bytes(v: &BoxedUint, k: usize) -> Result<Vec<u8>> {
    let b = v.to_be_bytes();
    let n = b.len();
    if n >= k {
        if b.iter().take(n - k).any(|x| *x != 0) {
            return illegal_use("RSA result longer than the modulus");
        }
        Ok(b.get(n - k..).unwrap_or_default().to_vec())
    } else {
        let mut out = vec![0u8; k - n];
        out.extend_from_slice(&b);
        Ok(out)
    }
}

/// The raw RSA operation (RSAEP/RSADP/RSASP1/RSAVP1) with `key` on `input` of exactly
/// `modulus_len` bytes: ILLEGAL_USE when the length differs or the value is not below the
/// modulus.
pub fn raw(key: &Key, input: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    key.require_initialized("RSA")?;
    let k = modulus_len(key)?;
    if input.len() != k {
        return illegal_use(format!(
            "RSA input of {} bytes for a {k}-byte modulus",
            input.len()
        ));
    }
    let x = uint(input);
    let y: Zeroizing<BoxedUint> = match key.kind() {
        KeyKind::RsaPublic | KeyKind::RsaPrivate => {
            let n = uint(key.component(Component::Modulus)?);
            let e = secret(key.component(Component::Exponent)?);
            if !below(input, &n.to_be_bytes_trimmed_vartime()) {
                return illegal_use("RSA input is not below the modulus");
            }
            Zeroizing::new(modpow(&x, &e, &n, "RSA modulus")?)
        }
        KeyKind::RsaCrtPrivate => {
            let p = secret(key.component(Component::P)?);
            let q = secret(key.component(Component::Q)?);
            let dp = secret(key.component(Component::Dp1)?);
            let dq = secret(key.component(Component::Dq1)?);
            let pq = secret(key.component(Component::Pq)?);
            let n = Zeroizing::new(p.concatenating_mul(&*q));
            if !below(input, &n.to_be_bytes_trimmed_vartime()) {
                return illegal_use("RSA input is not below the modulus");
            }
            let m1 = Zeroizing::new(modpow(&x, &dp, &p, "RSA CRT prime P")?);
            let m2 = Zeroizing::new(modpow(&x, &dq, &q, "RSA CRT prime Q")?);
            let Some(p_nz) = Option::<NonZero<BoxedUint>>::from(NonZero::new((*p).clone())) else {
                return illegal_value("RSA CRT prime P is zero");
            };
            let m2p = Zeroizing::new(m2.rem(&p_nz));
            let diff = Zeroizing::new(m1.sub_mod(&m2p, &p_nz));
            let h = Zeroizing::new(diff.mul_mod(&Zeroizing::new(pq.rem(&p_nz)), &p_nz));
            let hq = Zeroizing::new(h.concatenating_mul(&*q));
            // m = m2 + h*q < p*q: m2 (Q's width) fits the width of h*q.
            let Some(m2w) = (*m2)
                .clone()
                .try_resize(hq.bits_precision())
                .map(Zeroizing::new)
            else {
                return illegal_value("RSA CRT prime Q is longer than P*Q");
            };
            Zeroizing::new(hq.wrapping_add(&*m2w))
        }
        kind => return illegal_value(format!("{kind:?} key is not an RSA key")),
    };
    Ok(Zeroizing::new(to_k_bytes(&y, k)?))
}

/// Whether `key` is a private (signing/decrypting) RSA key.
pub fn is_private(key: &Key) -> bool {
    matches!(key.kind(), KeyKind::RsaPrivate | KeyKind::RsaCrtPrivate)
}

/// RSAES-PKCS1-v1_5 encoding (RFC 8017 §7.2.1) of `m` into `k` bytes: block type 2 (random
/// non-zero padding) for a public key, block type 1 (0xFF padding) for a private key.
pub fn pkcs1_pad(
    m: &[u8],
    k: usize,
    block_type: u8,
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    if m.len() + 11 > k {
        return illegal_use(format!(
            "PKCS#1 message of {} bytes for a {k}-byte modulus (at most {})",
            m.len(),
            k.saturating_sub(11)
        ));
    }
    let ps = k - 3 - m.len();
    let mut em = Vec::with_capacity(k);
    em.push(0);
    em.push(block_type);
    if block_type == 2 {
        let mut pad = vec![0u8; ps];
        rng.fill(&mut pad);
        for b in pad.iter_mut() {
            while *b == 0 {
                let mut one = [0u8; 1];
                rng.fill(&mut one);
                *b = one[0];
            }
        }
        em.extend_from_slice(&pad);
    } else {
        em.resize(2 + ps, 0xFF);
    }
    em.push(0);
    em.extend_from_slice(m);
    Ok(em)
}

/// RSAES-PKCS1-v1_5 decoding (RFC 8017 §7.2.2) of block type `block_type`: the offset of the
/// message in `em`, or ILLEGAL_USE when the padding is malformed. The scan is constant time
/// over `em`.
pub fn pkcs1_unpad(em: &[u8], block_type: u8) -> Result<usize> {
    let mut bad = Choice::from(0);
    let first = em.first().copied().unwrap_or(1);
    let second = em.get(1).copied().unwrap_or(0);
    bad |= !first.ct_eq(&0);
    bad |= !second.ct_eq(&block_type);
    let mut found = Choice::from(0);
    let mut idx: u32 = 0;
    for (i, b) in em.iter().enumerate().skip(2) {
        let zero = b.ct_eq(&0);
        let first_zero = zero & !found;
        idx.conditional_assign(&(i as u32), first_zero);
        found |= zero;
        if block_type == 1 {
            bad |= !found & !b.ct_eq(&0xFF);
        }
    }
    bad |= !found;
    // At least 8 padding bytes.
    bad |= Choice::from(u8::from(idx < 10));
    if bool::from(bad) {
        return illegal_use("PKCS#1 v1.5 padding of the decrypted block is malformed");
    }
    Ok(idx as usize + 1)
}

fn mgf1_sha1(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 20);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut h = Sha1::new();
        h.update(seed);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

const SHA1_EMPTY: [u8; 20] = [
    0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60, 0x18, 0x90,
    0xaf, 0xd8, 0x07, 0x09,
];

/// RSAES-OAEP encoding (RFC 8017 §7.1.1, SHA-1, MGF1-SHA-1, empty label) into `k` bytes.
pub fn oaep_pad(m: &[u8], k: usize, rng: &mut dyn RandomSource) -> Result<Vec<u8>> {
    let h = 20;
    if m.len() + 2 * h + 2 > k {
        return illegal_use(format!(
            "OAEP message of {} bytes for a {k}-byte modulus (at most {})",
            m.len(),
            k.saturating_sub(2 * h + 2)
        ));
    }
    let mut db = Vec::with_capacity(k - h - 1);
    db.extend_from_slice(&SHA1_EMPTY);
    db.resize(k - m.len() - h - 2, 0);
    db.push(1);
    db.extend_from_slice(m);
    let mut seed = [0u8; 20];
    rng.fill(&mut seed);
    let mask = mgf1_sha1(&seed, db.len());
    for (d, x) in db.iter_mut().zip(mask) {
        *d ^= x;
    }
    let smask = mgf1_sha1(&db, h);
    for (s, x) in seed.iter_mut().zip(smask) {
        *s ^= x;
    }
    let mut em = Vec::with_capacity(k);
    em.push(0);
    em.extend_from_slice(&seed);
    em.extend_from_slice(&db);
    Ok(em)
}

/// RSAES-OAEP decoding (RFC 8017 §7.1.2, SHA-1, empty label): the message, or ILLEGAL_USE
/// when the encoding is malformed (one error whatever the cause; the checks are constant time).
pub fn oaep_unpad(em: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let h = 20;
    let k = em.len();
    if k < 2 * h + 2 {
        return illegal_use("OAEP block shorter than 2*hLen+2");
    }
    let (y, rest) = em.split_at(1);
    let (mseed, mdb) = rest.split_at(h);
    let smask = mgf1_sha1(mdb, h);
    let seed: Vec<u8> = mseed.iter().zip(smask).map(|(a, b)| a ^ b).collect();
    let mask = mgf1_sha1(&seed, mdb.len());
    let db: Zeroizing<Vec<u8>> = Zeroizing::new(mdb.iter().zip(mask).map(|(a, b)| a ^ b).collect());
    let mut bad = !y[0].ct_eq(&0);
    bad |= !db[..h].ct_eq(&SHA1_EMPTY[..]);
    let mut found = Choice::from(0);
    let mut idx: u32 = 0;
    for (i, b) in db.iter().enumerate().skip(h) {
        let one = b.ct_eq(&1);
        let zero = b.ct_eq(&0);
        idx.conditional_assign(&(i as u32), one & !found);
        bad |= !found & !zero & !one;
        found |= one;
    }
    bad |= !found;
    if bool::from(bad) {
        return illegal_use("OAEP encoding of the decrypted block is malformed");
    }
    Ok(Zeroizing::new(db[idx as usize + 1..].to_vec()))
}

/// DigestInfo prefixes of RFC 8017 §9.2 note 1, by MessageDigest algorithm.
pub fn digest_info_prefix(md_alg: u8) -> Option<&'static [u8]> {
    use super::digest::*;
    Some(match md_alg {
        ALG_SHA => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        ALG_SHA_224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        ALG_SHA_256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        ALG_SHA_384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        ALG_SHA_512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        _ => return None,
    })
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of a digest made with MessageDigest algorithm `md_alg`.
pub fn emsa_pkcs1(md_alg: u8, digest: &[u8], k: usize) -> Result<Vec<u8>> {
    let Some(prefix) = digest_info_prefix(md_alg) else {
        return illegal_value(format!("no DigestInfo for digest algorithm {md_alg}"));
    };
    let t = prefix.len() + digest.len();
    if t + 11 > k {
        return illegal_use(format!(
            "a {k}-byte modulus is too short for the DigestInfo"
        ));
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0, 1]);
    em.resize(k - t - 1, 0xFF);
    em.push(0);
    em.extend_from_slice(prefix);
    em.extend_from_slice(digest);
    Ok(em)
}

fn be(v: &BoxedUint, len: usize) -> Vec<u8> {
    let b = v.to_be_bytes_trimmed_vartime();
    let mut out = vec![0u8; len.saturating_sub(b.len())];
    out.extend_from_slice(&b);
    out
}

/// Generate an RSA key pair of `bits` with e = 65537 (or the exponent already set in
/// `public`) into `public` (modulus, exponent) and
/// `private` (modulus and exponent, or the CRT components), each component `bits/8` (CRT:
/// `bits/16`) bytes long, left-padded with zeros.
pub fn generate(
    bits: u16,
    public: &mut Key,
    private: &mut Key,
    rng: &mut dyn RandomSource,
) -> Result<()> {
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    let e = match public.component(Component::Exponent) {
        Ok(e) => uint(e),
        Err(_) => BoxedUint::from(65537u32),
    };
    let Ok(k) = rsa::PrivateKey::new_with_exp_unchecked(&mut Rng(rng), usize::from(bits), e) else {
        return illegal_value(format!(
            "RSA key generation of {bits} bits failed (public exponent unusable?)"
        ));
    };
    let nlen = usize::from(bits) / 8;
    let half = usize::from(bits).div_ceil(16);
    public.set_raw(Component::Modulus, be(k.n().as_ref(), nlen));
    public.set_raw(Component::Exponent, be(k.e(), 0));
    match private.kind() {
        KeyKind::RsaPrivate => {
            private.set_raw(Component::Modulus, be(k.n().as_ref(), nlen));
            private.set_raw(Component::Exponent, be(k.d(), nlen));
        }
        KeyKind::RsaCrtPrivate => {
            let [p, q] = k.primes() else {
                return illegal_value("RSA key generation gave more than two primes");
            };
            let (Some(dp), Some(dq), Some(qinv)) = (k.dp(), k.dq(), k.crt_coefficient()) else {
                return illegal_value("RSA key generation gave no CRT values");
            };
            private.set_raw(Component::P, be(p.as_ref(), half));
            private.set_raw(Component::Q, be(q.as_ref(), half));
            private.set_raw(Component::Dp1, be(dp, half));
            private.set_raw(Component::Dq1, be(dq, half));
            private.set_raw(Component::Pq, be(&qinv, half));
        }
        kind => return illegal_value(format!("{kind:?} key is not an RSA private key")),
    }
    Ok(())
}
