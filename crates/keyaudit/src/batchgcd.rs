//! Batch GCD (Bernstein, "How to find smooth parts of integers", 2004; Heninger et al.,
//! "Mining your Ps and Qs", USENIX Security 2012): for moduli `N_1..N_m`, every
//! `gcd(N_i, prod_{j != i} N_j)` from one product tree and one remainder tree modulo `N^2`.
//!
//! Cost: the product tree is `O(M(B) log m)` for `B` total bits, with `M` the transform
//! multiplication of [`crate::ntt`] for large nodes; the scaled remainder tree costs one
//! (wrapped) product per node and a single reciprocal, a small multiple of the product tree.

use crate::fastdiv::reciprocal;
use crate::ntt::{self, from_limbs, limbs};
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
            [a, b] => ntt::mul(a, b),
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
/// The remainder tree is Bernstein's *scaled* remainder tree ("Scaled remainder trees", 2004):
/// instead of remainders it carries, for each node `v` with product `V` (`P` the product of
/// all), the fraction `t(v) = frac(P / V²)` in fixed point. The root's is `1/P` (one Newton
/// reciprocal, [`crate::fastdiv`]); for a child `c` with sibling `s`, `P/C² = (P/V²)·S²`, so
/// `t(c) = frac(t(v)·S²)`: one multiplication per node and no division, and only the middle of
/// the product is needed, so above the transform threshold it is a cyclic product of the
/// fraction's length ([`ntt::mul_cyclic_limbs`]). `t(v)` is kept to `2·bits(V) + G` bits with
/// `G = 2·depth + 72` guard bits: each level multiplies the error by at most 4 and adds two
/// units in the last place, so at a leaf `Q = round(t·N_i) = (P / N_i) mod N_i` is exact, and
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
    let guard = 2 * tree.len() as u64 + 72;
    // Precision of t(v) in limbs.
    let width = |v: &BigUint| (2 * v.bits() + guard).div_ceil(64) as usize;
    let root = tree
        .pop()
        .and_then(|mut r| r.pop())
        .unwrap_or_else(BigUint::one);
    let w_root = width(&root);
    // floor(2^(64 w) / P) = floor(4^(k+e) / (P·2^e)) with k = bits(P), e = 64 w − 2k.
    let e = 64 * w_root as u64 - 2 * root.bits();
    let t_root = limbs(&reciprocal(&(&root << e)));
    let mut ts: Vec<(Vec<u64>, usize)> = vec![(t_root, w_root)];
    while let Some(level) = tree.pop() {
        let squares: Vec<Vec<u64>> = par_map(&level, |_, node| limbs(&ntt::square(node)));
        ts = par_map(&level, |i, node| {
            let (t, wv) = &ts[i / 2];
            let wc = width(node);
            descend(t, *wv, squares.get(i ^ 1).map(Vec::as_slice), wc)
        })
        .into_iter()
        .zip(&level)
        .map(|(t, node)| (t, width(node)))
        .collect();
    }
    moduli
        .iter()
        .zip(ts.iter())
        .map(|(n, (t, w))| {
            // Q = round(t·N / 2^(64 w)), and Q = N stands for 0 (t just below 1).
            let y = from_limbs(t) * n + (BigUint::one() << (64 * *w as u64 - 1));
            let q = y >> (64 * *w as u64);
            let q = if &q >= n { q - n } else { q };
            q.gcd(n)
        })
        .collect()
}

/// One step down the scaled remainder tree: from the parent's fraction `t` (`wv` limbs of
/// precision) and the sibling's square `s2` (none for a node carried up alone), the child's
/// fraction `frac(t·s2)` to `wc <= wv` limbs: limbs `wv − wc .. wv` of the product.
fn descend(t: &[u64], wv: usize, s2: Option<&[u64]>, wc: usize) -> Vec<u64> {
    let lo = wv - wc.min(wv);
    let Some(s2) = s2 else {
        return trim(t.get(lo..wv.min(t.len())).unwrap_or_default().to_vec());
    };
    let x = if t.len().min(s2.len()) >= ntt::THRESHOLD_LIMBS {
        // Wrapping the top of the product modulo 2^(64n) − 1 lands it below limb
        // len(s2) + wc + 4 − n ≤ lo − 4, under the window: it changes the window by at most
        // one unit (a carry), which the guard bits absorb.
        let n = wv.max(s2.len() + wc + 4).next_power_of_two();
        if n >= t.len() + s2.len() {
            ntt::mul_limbs(t, s2)
        } else {
            ntt::mul_cyclic_limbs(t, s2, n)
        }
    } else {
        limbs(&(from_limbs(t) * from_limbs(s2)))
    };
    trim(x.get(lo..wv.min(x.len())).unwrap_or_default().to_vec())
}

fn trim(mut v: Vec<u64>) -> Vec<u64> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
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

    /// `gcd(N_i, P / N_i)` by one product and one short division per modulus.
    fn by_division(moduli: &[BigUint]) -> Vec<BigUint> {
        let p: BigUint = moduli.iter().product();
        moduli.iter().map(|n| ((&p / n) % n).gcd(n)).collect()
    }

    fn random_odd(rng: &mut rand::rngs::StdRng, bits: usize) -> BigUint {
        use rand::Rng;
        let b: Vec<u8> = (0..bits / 8).map(|_| rng.gen()).collect();
        let mut m = BigUint::from_bytes_be(&b);
        m.set_bit(bits as u64 - 1, true);
        m.set_bit(0, true);
        m
    }

    /// Enough moduli that the top of the scaled remainder tree uses the wrapped transform
    /// products (nodes above `ntt::THRESHOLD_LIMBS`), an odd count (lone nodes), moduli just
    /// below 2^2048 (no spare bits in the precision), mixed sizes, a duplicate and planted
    /// shared primes; random odd numbers also share many small primes.
    #[test]
    fn scaled_tree_matches_division_on_transform_sizes() {
        use rand::{rngs::StdRng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(18);
        let mut moduli: Vec<BigUint> = (0..701).map(|_| random_odd(&mut rng, 2048)).collect();
        let top = (BigUint::one() << 2048u32) - 1u8;
        for (k, m) in moduli.iter_mut().enumerate().take(260).skip(200) {
            *m = &top - 2u32 * k as u32;
        }
        moduli[400] = random_odd(&mut rng, 4096);
        moduli[401] = random_odd(&mut rng, 1024);
        moduli[402] = BigUint::one();
        moduli[500] = moduli[3].clone();
        let p = random_odd(&mut rng, 1024);
        moduli[10] = &p * random_odd(&mut rng, 1024);
        moduli[690] = &p * random_odd(&mut rng, 1024);
        let g = batch_gcd(&moduli);
        assert_eq!(g, by_division(&moduli));
        assert!(g[10] >= p && g[690] >= p);
        assert_eq!(g[3], moduli[3]);
    }

    /// The wrapped product's window equals the full product's, give or take one unit.
    #[test]
    fn wrapped_window_is_the_full_window_within_one_unit() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(5);
        for (ls, wc) in [(6000usize, 6010usize), (5000, 3000), (7000, 6100)] {
            let wv = ls + wc;
            let t: Vec<u64> = (0..wv).map(|_| rng.gen()).collect();
            let s2: Vec<u64> = (0..ls).map(|_| rng.gen()).collect();
            let got = from_limbs(&descend(&t, wv, Some(&s2), wc));
            let full = ntt::mul_limbs(&t, &s2);
            let want = from_limbs(&trim(full[wv - wc..wv].to_vec()));
            let m = BigUint::one() << (64 * wc as u64);
            let d = (&got + &m - &want) % &m;
            assert!(
                d <= BigUint::one() || d == &m - 1u8,
                "{ls} {wc}: off by {d}"
            );
        }
    }

    #[test]
    fn single_and_empty() {
        assert!(batch_gcd(&[]).is_empty());
        assert_eq!(batch_gcd(&[BigUint::from(15u8)]), vec![BigUint::one()]);
        let z = batch_gcd(&[BigUint::from(15u8), BigUint::zero(), BigUint::from(21u8)]);
        assert_eq!(z, [3u8, 0, 3].map(BigUint::from));
    }
}
