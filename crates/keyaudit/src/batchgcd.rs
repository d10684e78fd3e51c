//! Batch GCD (Bernstein, "How to find smooth parts of integers", 2004; Heninger et al.,
//! "Mining your Ps and Qs", USENIX Security 2012): for moduli `N_1..N_m`, every
//! `gcd(N_i, prod_{j != i} N_j)` from one product tree and one remainder tree modulo `N^2`.
//!
//! Cost: the product tree is `O(M(B) log m)` for `B` total bits; the remainder tree uses Barrett
//! reduction ([`crate::fastdiv`]) so it stays within a small factor of the product tree.

use crate::fastdiv::Modulus;
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};

/// The product tree: level 0 is the input, each level above holds the pairwise products, the
/// last level holds the single product of all.
pub fn product_tree(leaves: &[BigUint]) -> Vec<Vec<BigUint>> {
    let mut tree = vec![leaves.to_vec()];
    while let Some(top) = tree.last() {
        if top.len() <= 1 {
            break;
        }
        let next: Vec<BigUint> = top
            .chunks(2)
            .map(|c| match c {
                [a, b] => a * b,
                [a] => a.clone(),
                _ => BigUint::one(),
            })
            .collect();
        tree.push(next);
    }
    tree
}

/// `gcd(N_i, prod_{j != i} N_j)` for every modulus. A result of 1 means no factor shared with
/// the rest; a result equal to `N_i` means every prime of `N_i` occurs elsewhere (or `N_i`
/// occurs twice: remove duplicates first).
///
/// A zero modulus is left out of the products and gets 0.
pub fn batch_gcd(moduli: &[BigUint]) -> Vec<BigUint> {
    if moduli.iter().any(|m| m.is_zero()) {
        let ones: Vec<BigUint> = moduli
            .iter()
            .map(|m| {
                if m.is_zero() {
                    BigUint::one()
                } else {
                    m.clone()
                }
            })
            .collect();
        return batch_gcd(&ones)
            .into_iter()
            .zip(moduli)
            .map(|(g, m)| if m.is_zero() { BigUint::zero() } else { g })
            .collect();
    }
    if moduli.len() < 2 {
        return moduli.iter().map(|_| BigUint::one()).collect();
    }
    let mut tree = product_tree(moduli);
    // Remainders from the root down: R(node) = R(parent) mod node^2; the root's is the product.
    let mut rems = tree.pop().unwrap_or_default();
    while let Some(level) = tree.pop() {
        let mut next = Vec::with_capacity(level.len());
        for (i, node) in level.iter().enumerate() {
            let parent = &rems[i / 2];
            let sq = Modulus::new(node * node);
            next.push(sq.reduce(parent));
        }
        rems = next;
        if tree.is_empty() {
            return moduli
                .iter()
                .zip(rems.iter())
                .map(|(n, r)| (r / n).gcd(n))
                .collect();
        }
    }
    moduli.iter().map(|_| BigUint::one()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairwise(moduli: &[BigUint]) -> Vec<BigUint> {
        moduli
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut rest = BigUint::one();
                for (j, m) in moduli.iter().enumerate() {
                    if i != j {
                        rest *= m;
                    }
                }
                n.gcd(&rest)
            })
            .collect()
    }

    #[test]
    fn matches_naive() {
        let p: Vec<BigUint> = [101u32, 103, 107, 109, 113, 127, 131]
            .into_iter()
            .map(BigUint::from)
            .collect();
        let moduli = vec![
            &p[0] * &p[1],
            &p[2] * &p[3],
            &p[1] * &p[4],
            &p[5] * &p[6],
            &p[0] * &p[4],
        ];
        let g = batch_gcd(&moduli);
        assert_eq!(g, pairwise(&moduli));
        assert_eq!(g[1], BigUint::one());
        assert_eq!(g[0], moduli[0]); // both primes shared with different keys
        assert_eq!(g[2], moduli[2]);
        assert_eq!(g[3], BigUint::one());
    }

    #[test]
    fn single_and_empty() {
        assert!(batch_gcd(&[]).is_empty());
        assert_eq!(batch_gcd(&[BigUint::from(15u8)]), vec![BigUint::one()]);
        let z = batch_gcd(&[BigUint::from(15u8), BigUint::zero(), BigUint::from(21u8)]);
        assert_eq!(z, [3u8, 0, 3].map(BigUint::from));
    }
}
