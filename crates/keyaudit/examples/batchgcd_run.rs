//! Time batch GCD over N random 2048-bit moduli: `cargo run --release -p simota-keyaudit
//! --example batchgcd_run -- N [FILE]` (FILE: also write the moduli in hex, one a line, for
//! badkeys). Prints the phases' wall time.

use keyaudit::batchgcd::{batch_gcd, product_tree};
use keyaudit::BigUint;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Random odd numbers with no factor below 50: the tree sizes of real moduli (random numbers
/// still share primes from 53 up often, which does not change the cost).
const SMALL: [u32; 14] = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];
use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut rng = StdRng::seed_from_u64(42);
    let moduli: Vec<BigUint> = std::iter::repeat(())
        .map(|_| {
            let b: Vec<u8> = (0..256).map(|_| rng.gen()).collect();
            let mut m = BigUint::from_bytes_be(&b);
            m.set_bit(2047, true);
            m.set_bit(0, true);
            m
        })
        .filter(|m| SMALL.iter().all(|p| m % *p != BigUint::ZERO))
        .take(n)
        .collect();
    if let Some(f) = args.get(2) {
        let mut w = std::io::BufWriter::new(std::fs::File::create(f).expect("create FILE"));
        for m in &moduli {
            writeln!(w, "{}", m.to_str_radix(16)).expect("write FILE");
        }
    }
    let t = Instant::now();
    let tree = product_tree(&moduli);
    println!("product tree: {:?} ({} levels)", t.elapsed(), tree.len());
    drop(tree);
    let t = Instant::now();
    let g = batch_gcd(&moduli);
    let shared = g.iter().filter(|x| **x != BigUint::from(1u8)).count();
    println!(
        "batch gcd over {n}: {:?}, {shared} with a shared factor",
        t.elapsed()
    );
}
