//! Small primes: a sieve of Eratosthenes and the product of the primes below a bound, used by
//! the small-factor check and the ROCA fingerprint.

use num_bigint::BigUint;

/// The primes `p < limit`, in increasing order (sieve of Eratosthenes).
pub fn sieve(limit: u32) -> Vec<u32> {
    let n = limit as usize;
    if n < 3 {
        return Vec::new();
    }
    let mut composite = vec![false; n];
    let mut out = Vec::new();
    for i in 2..n {
        if composite[i] {
            continue;
        }
        out.push(i as u32);
        let mut j = i.saturating_mul(i);
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    out
}

/// The product of `values`, computed as a balanced product tree (fast for many factors).
pub fn product(values: impl IntoIterator<Item = BigUint>) -> BigUint {
    let mut level: Vec<BigUint> = values.into_iter().collect();
    if level.is_empty() {
        return BigUint::from(1u8);
    }
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut it = level.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(a * b),
                None => next.push(a),
            }
        }
        level = next;
    }
    level.pop().unwrap_or_else(|| BigUint::from(1u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sieve_counts() {
        assert_eq!(sieve(30), vec![2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        // pi(2^20) = 82025
        assert_eq!(sieve(1 << 20).len(), 82025);
        assert!(sieve(2).is_empty());
    }

    #[test]
    fn product_matches_fold() {
        let v: Vec<BigUint> = sieve(200).into_iter().map(BigUint::from).collect();
        let f = v.iter().fold(BigUint::from(1u8), |a, b| a * b);
        assert_eq!(product(v), f);
        assert_eq!(product(Vec::new()), BigUint::from(1u8));
    }
}
