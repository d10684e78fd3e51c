//! The transform multiplier (`keyaudit::ntt`) agrees with `num-bigint`'s own multiplication:
//! random sizes, zero, one limb, unbalanced operands, all-ones limbs (the largest carries),
//! cyclic products against `a·b mod (2^(64n) − 1)`, and sizes across the threshold.

use keyaudit::ntt::{from_limbs, limbs, mul, mul_cyclic_limbs, mul_limbs, square, THRESHOLD_LIMBS};
use keyaudit::BigUint;
use num_traits::{One, Zero};
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Limb vectors mixing random limbs, all-ones and zero limbs (runs of each), length 0..max.
fn limb_vec(max: usize) -> impl Strategy<Value = Vec<u64>> {
    (0..max, any::<u64>(), 0u8..4).prop_map(|(len, seed, kind)| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..len)
            .map(|_| match kind {
                0 => rng.gen(),
                1 => u64::MAX,
                2 => {
                    if rng.gen_bool(0.5) {
                        u64::MAX
                    } else {
                        rng.gen()
                    }
                }
                _ => match rng.gen_range(0..3) {
                    0 => 0,
                    1 => u64::MAX,
                    _ => rng.gen(),
                },
            })
            .collect()
    })
}

fn big(l: &[u64]) -> BigUint {
    from_limbs(l)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn product_matches_num_bigint(a in limb_vec(300), b in limb_vec(300)) {
        let want = big(&a) * big(&b);
        prop_assert_eq!(big(&mul_limbs(&a, &b)), want);
    }

    #[test]
    fn unbalanced_product_matches(a in limb_vec(700), b in limb_vec(4)) {
        let want = big(&a) * big(&b);
        prop_assert_eq!(big(&mul_limbs(&a, &b)), want.clone());
        prop_assert_eq!(big(&mul_limbs(&b, &a)), want);
    }

    #[test]
    fn square_matches(a in limb_vec(400)) {
        let x = big(&a);
        prop_assert_eq!(big(&mul_limbs(&a, &a)), &x * &x);
    }

    #[test]
    fn cyclic_matches_mod_mersenne(a in limb_vec(200), b in limb_vec(200), k in 0u32..9) {
        let n = 1usize << k;
        let m = (BigUint::one() << (64 * n)) - 1u8;
        let want = (big(&a) * big(&b)) % &m;
        let got = mul_cyclic_limbs(&a, &b, n);
        prop_assert_eq!(got.len(), n);
        prop_assert_eq!(big(&got), want);
    }
}

#[test]
fn edge_cases() {
    let z: Vec<u64> = Vec::new();
    assert!(mul_limbs(&z, &z).is_empty());
    assert!(mul_limbs(&[0, 0, 0], &[5]).is_empty());
    assert_eq!(mul_limbs(&[1], &[u64::MAX]), vec![u64::MAX]);
    assert_eq!(mul_limbs(&[u64::MAX], &[u64::MAX]), vec![1, u64::MAX - 1]);
    assert_eq!(mul_cyclic_limbs(&z, &[3], 4), vec![0; 4]);
    assert_eq!(mul(&BigUint::zero(), &BigUint::one()), BigUint::zero());
}

/// Sizes around and far above the threshold through the public `mul`/`square`, including
/// all-ones operands (every coefficient at its maximum) and a transform long enough to run the
/// three primes on threads.
#[test]
fn large_operands_across_the_threshold() {
    let mut rng = StdRng::seed_from_u64(18);
    for (la, lb) in [
        (THRESHOLD_LIMBS - 1, THRESHOLD_LIMBS - 1),
        (THRESHOLD_LIMBS, THRESHOLD_LIMBS),
        (THRESHOLD_LIMBS + 1, 3 * THRESHOLD_LIMBS),
        (5000, 4093),
        (9000, 1),
        (20_000, 20_000),
    ] {
        let a: Vec<u64> = (0..la).map(|_| rng.gen()).collect();
        let b: Vec<u64> = (0..lb).map(|_| rng.gen()).collect();
        let (x, y) = (big(&a), big(&b));
        assert_eq!(mul(&x, &y), &x * &y, "{la} x {lb}");
        assert_eq!(square(&x), &x * &x, "{la}^2");
    }
    let ones = big(&vec![u64::MAX; 16_384]);
    assert_eq!(square(&ones), &ones * &ones);
    assert_eq!(limbs(&ones).len(), 16_384);
}
