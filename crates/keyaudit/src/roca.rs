//! ROCA fingerprint (Nemec, Sys, Svenda, Klinec, Matyas: "The Return of Coppersmith's Attack",
//! ACM CCS 2017; CVE-2017-15361).
//!
//! Infineon RSALib primes have the form `p = k*M + (65537^a mod M)` with `M` a primorial (the
//! product of the first 39 primes, up to 167, for 512-bit primes; more primes for larger
//! keys, always including those 39). So `N = p*q` lies in the multiplicative subgroup generated
//! by 65537 modulo every prime `r <= 167`, and jointly modulo `M = 167#`. The test, as
//! published: first the residue test (`N mod r` in `<65537 mod r>` for each prime `r`), then
//! the discrete-log test (`N` in `<65537>` mod `M`, decided by Pohlig-Hellman on the smooth
//! order of 65537), which rejects moduli that only pass the per-prime test.

use crate::primes::sieve;
use num_bigint::BigUint;
use num_traits::{One, ToPrimitive};
use std::sync::OnceLock;

/// The generator of RSALib primes.
pub const GENERATOR: u64 = 65537;
/// The largest prime of the fingerprint's primorial (the 39th prime).
pub const LARGEST_PRIME: u32 = 167;

struct Tables {
    /// (prime r, membership table of <65537 mod r> indexed by residue).
    residues: Vec<(u32, Vec<bool>)>,
    /// M = 167#.
    m: BigUint,
    /// Order of 65537 modulo M.
    order: BigUint,
    /// Prime-power factors q^a of the order.
    order_factors: Vec<u64>,
    /// log2 of the chance that a random N coprime to M passes the whole test.
    log2_false_positive: f64,
}

fn order_mod(g: u32, r: u32) -> u32 {
    let mut x = g % r;
    let mut k = 1;
    while x != 1 {
        x = ((u64::from(x) * u64::from(g % r)) % u64::from(r)) as u32;
        k += 1;
    }
    k
}

fn factor_small(mut n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut p = 2;
    while p * p <= n {
        if n.is_multiple_of(p) {
            let mut pk = 1;
            while n.is_multiple_of(p) {
                n /= p;
                pk *= p;
            }
            out.push(pk);
        }
        p += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

fn lcm(a: u64, b: u64) -> u64 {
    use num_integer::Integer;
    a.lcm(&b)
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let primes = sieve(LARGEST_PRIME + 1);
        let mut residues = Vec::new();
        let mut m = BigUint::one();
        let mut order_pp: std::collections::BTreeMap<u64, u64> = Default::default();
        let mut log2_fp = 0.0;
        let mut phi = 0.0f64;
        for &r in &primes {
            m *= r;
            phi += f64::from(r - 1).log2();
            if r == 2 {
                continue;
            }
            let ord = order_mod((GENERATOR % u64::from(r)) as u32, r);
            let mut member = vec![false; r as usize];
            let mut x = 1u64;
            for _ in 0..ord {
                member[x as usize] = true;
                x = x * (GENERATOR % u64::from(r)) % u64::from(r);
            }
            residues.push((r, member));
            for pk in factor_small(u64::from(ord)) {
                let q = smallest_prime_factor(pk);
                let e = order_pp.entry(q).or_insert(1);
                *e = lcm(*e, pk);
            }
        }
        let order_u64: u64 = order_pp.values().product();
        log2_fp += (order_u64 as f64).log2() - phi;
        Tables {
            residues,
            m,
            order: BigUint::from(order_u64),
            order_factors: order_pp.values().copied().collect(),
            log2_false_positive: log2_fp,
        }
    })
}

fn smallest_prime_factor(n: u64) -> u64 {
    let mut p = 2;
    while p * p <= n {
        if n.is_multiple_of(p) {
            return p;
        }
        p += 1;
    }
    n
}

/// The result of the fingerprint test on one modulus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `N mod r` is outside `<65537>` for this prime `r`: not an RSALib modulus.
    ResidueMismatch(u32),
    /// Passes the per-prime residues but is not in `<65537>` mod 167#: not an RSALib modulus.
    DlogMismatch,
    /// Passes both: an RSALib (ROCA-vulnerable) modulus.
    Fingerprinted,
}

/// Run the ROCA fingerprint test on a modulus.
pub fn test(n: &BigUint) -> Verdict {
    let t = tables();
    for (r, member) in &t.residues {
        let res = (n % *r).to_usize().unwrap_or(0);
        if !member.get(res).copied().unwrap_or(false) {
            return Verdict::ResidueMismatch(*r);
        }
    }
    // Discrete-log membership: x in <g> (order L, smooth) iff x^L = 1 and, for every prime
    // power q^a || L, x^(L/q^a) is a power of g^(L/q^a) (Pohlig-Hellman).
    let x = n % &t.m;
    if x.modpow(&t.order, &t.m) != BigUint::one() {
        return Verdict::DlogMismatch;
    }
    let g = BigUint::from(GENERATOR);
    for &pk in &t.order_factors {
        let cof = &t.order / pk;
        let gq = g.modpow(&cof, &t.m);
        let hq = x.modpow(&cof, &t.m);
        let mut cur = BigUint::one();
        let mut found = false;
        for _ in 0..pk {
            if cur == hq {
                found = true;
                break;
            }
            cur = cur * &gq % &t.m;
        }
        if !found {
            return Verdict::DlogMismatch;
        }
    }
    Verdict::Fingerprinted
}

/// The evidence sentence for a fingerprinted modulus.
pub fn evidence() -> String {
    let t = tables();
    format!(
        "N mod r is in <65537> for all {} odd primes r <= {} and N is in <65537> mod {}# \
         (discrete log, order {}); chance for a random modulus 2^{:.0}",
        t.residues.len(),
        LARGEST_PRIME,
        LARGEST_PRIME,
        t.order,
        t.log2_false_positive
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primorial_and_order() {
        let t = tables();
        // 167# as published with the detector's test suite.
        assert_eq!(
            t.m.to_string(),
            "962947420735983927056946215901134429196419130606213075415963491270"
        );
        assert_eq!(t.residues.len(), 38);
        // The order of 65537 modulo 167#, as used by the published detector.
        assert_eq!(t.order.to_string(), "2454106387091158800");
        assert_eq!(
            BigUint::from(GENERATOR).modpow(&t.order, &t.m),
            BigUint::one()
        );
        for &pk in &t.order_factors {
            let q = smallest_prime_factor(pk);
            let smaller = &t.order / q;
            assert_ne!(
                BigUint::from(GENERATOR).modpow(&smaller, &t.m),
                BigUint::one()
            );
        }
    }

    #[test]
    fn powers_of_generator_are_fingerprinted() {
        let t = tables();
        for a in [1u32, 7, 1000, 123_456] {
            let x = BigUint::from(GENERATOR).modpow(&BigUint::from(a), &t.m);
            let n = &x + &t.m * BigUint::from(0xdead_beefu32);
            assert_eq!(test(&n), Verdict::Fingerprinted, "a = {a}");
        }
        assert!(matches!(
            test(&BigUint::from(3u8)),
            Verdict::ResidueMismatch(3)
        ));
    }
}
