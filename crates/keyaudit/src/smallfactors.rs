//! Small factors: trial division by every prime below a bound (default 2^20), done as one
//! `gcd(N, prod p)` against the precomputed product of the sieve's primes.

use crate::primes::{product, sieve};
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

/// The default trial-division bound.
pub const DEFAULT_BOUND: u32 = 1 << 20;

/// The primes below a bound and their product.
#[derive(Debug, Clone)]
pub struct SmallPrimes {
    primes: Vec<u32>,
    product: BigUint,
}

impl SmallPrimes {
    /// Sieve the primes below `bound`.
    pub fn new(bound: u32) -> SmallPrimes {
        let primes = sieve(bound);
        let product = product(primes.iter().map(|&p| BigUint::from(p)));
        SmallPrimes { primes, product }
    }

    /// The number of primes tried.
    pub fn count(&self) -> usize {
        self.primes.len()
    }

    /// The primes below the bound that divide `n` (empty when there are none).
    pub fn factors(&self, n: &BigUint) -> Vec<u32> {
        if n.is_zero() {
            return vec![0];
        }
        let g = (&self.product % n).gcd(n);
        // product % n == 0 when n divides the product: then n itself is smooth.
        let g = if g.is_zero() { n.clone() } else { g };
        if g.is_one() {
            return Vec::new();
        }
        self.primes
            .iter()
            .copied()
            .filter(|&p| (&g % p).to_u32() == Some(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_factors() {
        let s = SmallPrimes::new(1000);
        let big = BigUint::from(1_000_003u32) * BigUint::from(1_000_033u32);
        assert!(s.factors(&big).is_empty());
        assert_eq!(s.factors(&(&big * 997u32 * 2u32)), vec![2, 997]);
        assert_eq!(s.factors(&BigUint::from(15u8)), vec![3, 5]);
        assert_eq!(s.factors(&BigUint::from(1u8)), Vec::<u32>::new());
    }
}
