//! Fermat's factorisation for primes too close together: if `|p - q|` is small then
//! `a = ceil(sqrt N)` is close to `(p + q) / 2` and `a^2 - N` is a square `b^2` within a few
//! steps, giving `p = a - b`, `q = a + b`.

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};

/// The default number of steps (as in badkeys' fermat check).
pub const DEFAULT_STEPS: u32 = 100;

fn is_square(x: &BigUint) -> Option<BigUint> {
    // Squares mod 64 leave only 12 residues: skip the square root for 81% of candidates.
    let low = x.iter_u64_digits().next().unwrap_or(0) & 63;
    if !matches!(low, 0 | 1 | 4 | 9 | 16 | 17 | 25 | 33 | 36 | 41 | 49 | 57) {
        return None;
    }
    let r = x.sqrt();
    (&r * &r == *x).then_some(r)
}

/// Try `steps` Fermat steps on `n`; returns the factors `(p, q)`, `p <= q`, if found.
pub fn fermat(n: &BigUint, steps: u32) -> Option<(BigUint, BigUint)> {
    if n.is_zero() || n.to_u8() == Some(1) {
        return None;
    }
    let mut a = n.sqrt();
    if &a * &a == *n {
        return Some((a.clone(), a));
    }
    a += 1u8;
    let mut b2 = &a * &a - n;
    for _ in 0..steps {
        if let Some(b) = is_square(&b2) {
            let p = &a - &b;
            if p > BigUint::from(1u8) {
                return Some((p, &a + &b));
            }
            return None;
        }
        // (a+1)^2 - N = a^2 - N + 2a + 1
        b2 += &a << 1;
        b2 += 1u8;
        a += 1u8;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_and_far() {
        let p = BigUint::from(1_000_003u64);
        let q = BigUint::from(1_000_033u64);
        assert_eq!(fermat(&(&p * &q), 10), Some((p.clone(), q.clone())));
        let far = BigUint::from(1009u32) * BigUint::from(1_000_033u64);
        assert_eq!(fermat(&far, 10), None);
        assert_eq!(fermat(&(&p * &p), 1), Some((p.clone(), p)));
    }
}
