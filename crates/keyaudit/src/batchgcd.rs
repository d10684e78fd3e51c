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

/// Run `f` over `items` on up to [`threads`] scoped threads, keeping the order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let n = threads().min(items.len());
    if n <= 1 {
        return items.iter().enumerate().map(|(i, x)| f(i, x)).collect();
    }
    let chunk = items.len().div_ceil(n);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, x)| f(c * chunk + i, x))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Worker threads for the trees: the machine's parallelism, at most 16.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(16))
}

/// The product tree: level 0 is the input, each level above holds the pairwise products, the
/// last level holds the single product of all. Each level is computed on all cores.
pub fn product_tree(leaves: &[BigUint]) -> Vec<Vec<BigUint>> {
    let mut tree = vec![leaves.to_vec()];
    while let Some(top) = tree.last() {
        if top.len() <= 1 {
            break;
        }
        let pairs: Vec<&[BigUint]> = top.chunks(2).collect();
        let next = par_map(&pairs, |_, c| match c {
            [a, b] => a * b,
            [a] => a.clone(),
            _ => BigUint::one(),
        });
        tree.push(next);
    }
    tree
}

/// `gcd(N_i, prod_{j != i} N_j)` for every modulus. A result of 1 means no factor shared with
/// the rest; a result equal to `N_i` means every prime of `N_i` occurs elsewhere (or `N_i`
/// occurs twice: remove duplicates first).
///
/// A zero modulus is left out of the products and gets 0.
///
/// The remainder tree carries `Q(v) = (P / V) mod V` for each node `v` with product `V`
/// (`P` the product of all) instead of Bernstein's `P mod V^2 = V * Q(v)`: for a child `c`
/// with sibling `s`, `P / C = (P / V) * S` and `C | V`, so `Q(c) = (Q(v) * S) mod C` — every
/// reduction is modulo a node, not its square, which halves the operand sizes. At a leaf,
/// `gcd(N_i, Q) = gcd(N_i, P / N_i)`.
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
    // Q(root) = (P / P) mod P: 1 (0 when P = 1, which changes no gcd).
    tree.pop();
    let mut qs = vec![BigUint::one()];
    while let Some(level) = tree.pop() {
        let one = BigUint::one();
        qs = par_map(&level, |i, node| {
            let sibling = level.get(i ^ 1).unwrap_or(&one);
            let c = Modulus::new(node.clone());
            let q = c.reduce(&qs[i / 2]);
            let s = if sibling < node {
                sibling.clone()
            } else {
                c.reduce(sibling)
            };
            c.reduce(&(q * s))
        });
    }
    moduli
        .iter()
        .zip(qs.iter())
        .map(|(n, q)| q.gcd(n))
        .collect()
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

    /// Large enough that the upper levels use Barrett reduction (`fastdiv::NATIVE_BITS`), with
    /// odd counts so lone nodes are carried up, and planted shared primes.
    #[test]
    fn matches_naive_on_barrett_sizes() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        let mut big = |bits: usize| {
            let b: Vec<u8> = (0..bits / 8).map(|_| rng.gen()).collect();
            let mut m = BigUint::from_bytes_be(&b);
            m.set_bit(bits as u64 - 1, true);
            m.set_bit(0, true);
            m
        };
        let mut moduli: Vec<BigUint> = (0..37).map(|_| big(2048)).collect();
        let p = big(1024);
        moduli[3] = &p * big(1024);
        moduli[30] = &p * big(1024);
        moduli[36] *= 1_000_003u32;
        moduli[11] *= 1_000_003u32;
        let g = batch_gcd(&moduli);
        assert_eq!(g, pairwise(&moduli));
        assert!(g[3] >= p && g[30] >= p);
    }

    #[test]
    fn single_and_empty() {
        assert!(batch_gcd(&[]).is_empty());
        assert_eq!(batch_gcd(&[BigUint::from(15u8)]), vec![BigUint::one()]);
        let z = batch_gcd(&[BigUint::from(15u8), BigUint::zero(), BigUint::from(21u8)]);
        assert_eq!(z, [3u8, 0, 3].map(BigUint::from));
    }
}
