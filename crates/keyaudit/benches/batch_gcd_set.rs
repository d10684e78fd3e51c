//! One timed batch GCD over a large RSA-2048 set, side by side with badkeys' `sharedprimes` on
//! the same moduli in the same run: `cargo bench -p simota-keyaudit --bench batch_gcd_set`
//! (`KEYAUDIT_BENCH_N`, default 100,000; `BADKEYS=/path/to/badkeys`, else `badkeys` on PATH,
//! skipped when absent).
//!
//! The set: the committed OpenSSL moduli (`test-vectors/keyaudit/openssl-rsa2048-bulk.csv.gz`),
//! then random odd 2048-bit numbers without factors below 50 (making 100,000 real keys takes
//! hours; the trees' cost depends only on the sizes), with 8 planted pairs sharing a 1024-bit
//! factor that the run checks are found. Random numbers also share small primes with each
//! other, so many more than the planted keys get a gcd above 1. Prints wall time and peak
//! memory (`VmHWM` of this process; GNU time's maximum RSS for badkeys).

use flate2::read::GzDecoder;
use keyaudit::batchgcd::batch_gcd;
use keyaudit::BigUint;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const SMALL: [u32; 14] = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];

fn random_odd(rng: &mut StdRng, bits: usize) -> BigUint {
    let b: Vec<u8> = (0..bits / 8).map(|_| rng.gen()).collect();
    let mut m = BigUint::from_bytes_be(&b);
    m.set_bit(bits as u64 - 1, true);
    m.set_bit(0, true);
    m
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / `cargo test --benches` probe
    }
    let n: usize = std::env::var("KEYAUDIT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/keyaudit");
    let mut text = String::new();
    GzDecoder::new(
        std::fs::File::open(vectors.join("openssl-rsa2048-bulk.csv.gz")).expect("bulk vectors"),
    )
    .read_to_string(&mut text)
    .expect("gzip");
    let mut moduli: Vec<BigUint> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("modulus"))
        .filter_map(|l| BigUint::parse_bytes(l.split(',').next()?.as_bytes(), 16))
        .take(n)
        .collect();
    let openssl = moduli.len();
    let mut rng = StdRng::seed_from_u64(100_000);
    while moduli.len() < n {
        let m = random_odd(&mut rng, 2048);
        if SMALL.iter().all(|p| &m % *p != BigUint::ZERO) {
            moduli.push(m);
        }
    }
    // Planted pairs: p·q1 and p·q2 at spread-out positions (replacing random entries).
    let mut planted = Vec::new();
    for k in 0..8usize {
        let p = random_odd(&mut rng, 1024);
        let (i, j) = (openssl + k * 7 + 1, n - 1 - k * 11);
        if i >= j || j >= n {
            break;
        }
        moduli[i] = &p * random_odd(&mut rng, 1024);
        moduli[j] = &p * random_odd(&mut rng, 1024);
        planted.push((i, j, p));
    }
    let file = std::env::temp_dir().join(format!("keyaudit-bench-{n}.txt"));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).expect("moduli file"));
        for m in &moduli {
            writeln!(w, "{}", m.to_str_radix(16)).expect("write moduli");
        }
    }
    println!(
        "set: {n} RSA-2048-sized moduli ({openssl} OpenSSL keys, {} random odd, {} planted pairs), threads {}",
        n - openssl,
        planted.len(),
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    let before = vm_hwm_kb();
    let t = Instant::now();
    let g = batch_gcd(&moduli);
    let secs = t.elapsed().as_secs_f64();
    let after = vm_hwm_kb();
    let one = BigUint::from(1u8);
    let shared = g.iter().filter(|x| **x != one).count();
    for (i, j, p) in &planted {
        assert!(
            (&g[*i] % p).bits() == 0 && (&g[*j] % p).bits() == 0,
            "planted pair {i}/{j} not found"
        );
    }
    println!(
        "simota batch_gcd: {secs:.1} s, peak RSS {} MB (before the run {} MB); {shared} moduli with gcd > 1, all {} planted pairs found",
        after.unwrap_or(0) / 1024,
        before.unwrap_or(0) / 1024,
        planted.len()
    );
    let exe = std::env::var("BADKEYS").unwrap_or_else(|_| "badkeys".into());
    let out = Command::new("/usr/bin/time")
        .args(["-f", "TIME %e s %M kB"])
        .arg(&exe)
        .args(["-m", "-c", "sharedprimes"])
        .arg(&file)
        .output();
    match out {
        Ok(o) if o.status.success() || !o.stderr.is_empty() => {
            let err = String::from_utf8_lossy(&o.stderr);
            let found = String::from_utf8_lossy(&o.stdout).lines().count();
            match err.lines().find(|l| l.starts_with("TIME ")) {
                Some(l) => println!("badkeys sharedprimes (same file): {l}; {found} output lines"),
                None => println!("badkeys did not run: {err}"),
            }
        }
        _ => println!("badkeys not run (install it: pip install badkeys; or set BADKEYS)"),
    }
    let _ = std::fs::remove_file(&file);
}
