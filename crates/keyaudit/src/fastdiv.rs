//! Subquadratic reduction for the remainder tree: Barrett reduction (Menezes et al., *Handbook
//! of Applied Cryptography* 14.42) with the reciprocal computed by Newton iteration.
//!
//! `num-bigint` multiplies with Karatsuba and Toom-3 but divides with schoolbook long division,
//! which is quadratic: reducing a 100-Mbit remainder modulo a 50-Mbit square would take hours.
//! Barrett turns each reduction into a few multiplications, so the remainder tree costs a
//! small multiple of the product tree.

use crate::ntt::{mul, square};
use num_bigint::BigUint;
use num_traits::One;

/// Below this many bits the built-in division is faster than building a reciprocal.
const NATIVE_BITS: u64 = 1 << 14;

/// `floor(4^k / d)` for `k = d.bits()` (`d > 0`), by recursive Newton iteration with exact
/// correction; large products use [`crate::ntt::mul`].
pub fn reciprocal(d: &BigUint) -> BigUint {
    let k = d.bits();
    let four_k = BigUint::one() << (2 * k);
    if k <= NATIVE_BITS {
        return four_k / d;
    }
    let h = k / 2 + 1;
    let dh = d >> (k - h);
    let x0 = reciprocal(&dh) << (k - h);
    // Newton step for 1/d: x1 = 2 x0 - d x0^2 / 4^k (approaches from below).
    let e = mul(d, &square(&x0)) >> (2 * k);
    let two_x0 = &x0 << 1;
    let mut x = if e <= two_x0 { two_x0 - e } else { x0 };
    let mut p = mul(d, &x);
    let mut steps = 0u32;
    while p > four_k {
        x -= 1u8;
        p -= d;
        steps += 1;
        if steps > 64 {
            return &four_k / d;
        }
    }
    while &four_k - &p >= *d {
        x += 1u8;
        p += d;
        steps += 1;
        if steps > 64 {
            return &four_k / d;
        }
    }
    x
}

/// A modulus with its precomputed Barrett reciprocal.
#[derive(Debug, Clone)]
pub struct Modulus {
    m: BigUint,
    k: u64,
    r: Option<BigUint>,
}

impl Modulus {
    /// Prepare reductions modulo `m` (`m > 0`).
    pub fn new(m: BigUint) -> Modulus {
        let k = m.bits();
        let r = (k > NATIVE_BITS).then(|| reciprocal(&m));
        Modulus { m, k, r }
    }

    /// `x mod m`.
    pub fn reduce(&self, x: &BigUint) -> BigUint {
        let Some(r) = &self.r else {
            return x % &self.m;
        };
        if x < &self.m {
            return x.clone();
        }
        let k = self.k;
        let mut x = x.clone();
        // Fold the top 2k bits at a time while x is wider than Barrett's range.
        while x.bits() > 2 * k {
            let shift = x.bits() - 2 * k;
            let hi = self.barrett(&(&x >> shift), r);
            let lo_mask = (BigUint::one() << shift) - 1u8;
            x = (hi << shift) | (&x & lo_mask);
        }
        self.barrett(&x, r)
    }

    /// Barrett reduction of `x < 4^k`.
    fn barrett(&self, x: &BigUint, r: &BigUint) -> BigUint {
        let k = self.k;
        let q = mul(&(x >> (k - 1)), r) >> (k + 1);
        let qm = mul(&q, &self.m);
        let mut rem = if &qm <= x { x - qm } else { return x % &self.m };
        let mut guard = 0;
        while rem >= self.m {
            rem -= &self.m;
            guard += 1;
            if guard > 4 {
                return rem % &self.m;
            }
        }
        rem
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn random(rng: &mut StdRng, bits: u64) -> BigUint {
        let bytes: Vec<u8> = (0..bits.div_ceil(8)).map(|_| rng.gen()).collect();
        let mut v = BigUint::from_bytes_be(&bytes);
        v.set_bit(bits - 1, true);
        v
    }

    #[test]
    fn reciprocal_is_exact_floor() {
        let mut rng = StdRng::seed_from_u64(1);
        for bits in [NATIVE_BITS + 1, 40_000, 70_001] {
            let d = random(&mut rng, bits);
            let four_k = BigUint::one() << (2 * d.bits());
            assert_eq!(reciprocal(&d), &four_k / &d, "bits {bits}");
        }
    }

    #[test]
    fn reduce_matches_remainder() {
        let mut rng = StdRng::seed_from_u64(2);
        for (mb, xb) in [
            (30_000u64, 59_000u64),
            (20_000, 90_000),
            (50_000, 20_000),
            (100, 5000),
        ] {
            let m = Modulus::new(random(&mut rng, mb));
            let x = random(&mut rng, xb);
            assert_eq!(m.reduce(&x), &x % &m.m, "m {mb} x {xb}");
        }
    }
}
