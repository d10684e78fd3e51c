//! Transform multiplication (`keyaudit::ntt::mul_limbs`) against `num-bigint`'s Karatsuba/Toom-3
//! on balanced random operands, to place `ntt::THRESHOLD_LIMBS`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use keyaudit::ntt::{from_limbs, mul_limbs};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("mul_balanced_limbs");
    g.sample_size(10);
    let mut rng = StdRng::seed_from_u64(1);
    for n in [512usize, 1024, 1536, 2048, 4096, 16_384, 65_536] {
        let a: Vec<u64> = (0..n).map(|_| rng.gen()).collect();
        let b: Vec<u64> = (0..n).map(|_| rng.gen()).collect();
        let (x, y) = (from_limbs(&a), from_limbs(&b));
        g.bench_with_input(BenchmarkId::new("num-bigint", n), &n, |bn, _| {
            bn.iter(|| &x * &y)
        });
        g.bench_with_input(BenchmarkId::new("ntt", n), &n, |bn, _| {
            bn.iter(|| mul_limbs(&a, &b))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
