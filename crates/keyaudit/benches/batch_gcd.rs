//! Batch GCD over random 2048-bit odd moduli (for timing only the sizes matter; shared factors
//! are cheap to find once the trees exist). `KEYAUDIT_BENCH_N` adds a larger size.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use keyaudit::batchgcd::batch_gcd;
use keyaudit::BigUint;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Random odd numbers with no factor below 50: the tree sizes of real moduli (random numbers
/// still share primes from 53 up often, which does not change the cost).
const SMALL: [u32; 14] = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];

fn moduli(n: usize) -> Vec<BigUint> {
    let mut rng = StdRng::seed_from_u64(42);
    std::iter::repeat(())
        .map(|_| {
            let b: Vec<u8> = (0..256).map(|_| rng.gen()).collect();
            let mut m = BigUint::from_bytes_be(&b);
            m.set_bit(2047, true);
            m.set_bit(0, true);
            m
        })
        .filter(|m| SMALL.iter().all(|p| m % *p != BigUint::ZERO))
        .take(n)
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("batch_gcd_rsa2048");
    g.sample_size(10);
    let mut sizes = vec![100usize, 1000];
    if let Some(n) = std::env::var("KEYAUDIT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        sizes.push(n);
    }
    for n in sizes {
        let m = moduli(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &m, |b, m| {
            b.iter(|| batch_gcd(m))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
