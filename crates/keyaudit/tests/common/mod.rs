//! Test helpers: random primes (Miller-Rabin) for building keys.
#![allow(dead_code)]

use keyaudit::BigUint;
use num_integer::Integer;
use num_traits::One;
use rand::{rngs::StdRng, Rng};

/// Miller-Rabin with 24 random bases (test helper; the audit itself never tests primality).
pub fn is_prime(n: &BigUint, rng: &mut StdRng) -> bool {
    let small = [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    for p in small {
        if n == &BigUint::from(p) {
            return true;
        }
        if (n % p) == BigUint::ZERO {
            return false;
        }
    }
    let one = BigUint::one();
    let nm1 = n - &one;
    let s = nm1.trailing_zeros().unwrap_or(0);
    let d = &nm1 >> s;
    'outer: for _ in 0..24 {
        let a = BigUint::from(rng.gen_range(2u64..u64::MAX)) % &nm1 + 1u8;
        let mut x = a.modpow(&d, n);
        if x == one || x == nm1 {
            continue;
        }
        for _ in 1..s {
            x = &x * &x % n;
            if x == nm1 {
                continue 'outer;
            }
        }
        return false;
    }
    true
}

pub fn random_bits(rng: &mut StdRng, bits: u64) -> BigUint {
    let b: Vec<u8> = (0..bits.div_ceil(8)).map(|_| rng.gen()).collect();
    let mut v = BigUint::from_bytes_be(&b) >> (bits.div_ceil(8) * 8 - bits);
    v.set_bit(bits - 1, true);
    v.set_bit(bits - 2, true);
    v
}

pub fn next_prime(mut n: BigUint, rng: &mut StdRng) -> BigUint {
    if n.is_even() {
        n += 1u8;
    }
    while !is_prime(&n, rng) {
        n += 2u8;
    }
    n
}

pub fn prime(rng: &mut StdRng, bits: u64) -> BigUint {
    let start = random_bits(rng, bits);
    next_prime(start, rng)
}
