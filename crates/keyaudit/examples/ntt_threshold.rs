//! Quick timing of `ntt::mul_limbs` against `num-bigint` for balanced operands:
//! `cargo run --release -p simota-keyaudit --example ntt_threshold`.

use keyaudit::ntt::{from_limbs, mul_limbs};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let mut rng = StdRng::seed_from_u64(1);
    for n in [
        256usize, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192, 16_384, 65_536, 262_144,
    ] {
        let a: Vec<u64> = (0..n).map(|_| rng.gen()).collect();
        let b: Vec<u64> = (0..n).map(|_| rng.gen()).collect();
        let (x, y) = (from_limbs(&a), from_limbs(&b));
        let reps = (200_000 / n).max(1);
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(&x * &y);
        }
        let nb = t.elapsed() / reps as u32;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(mul_limbs(&a, &b));
        }
        let nt = t.elapsed() / reps as u32;
        println!("{n:>7} limbs: num-bigint {nb:>12?}  ntt {nt:>12?}");
    }
}
