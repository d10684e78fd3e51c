//! Known weak keys are caught, good keys raise nothing: the ROCA detector's published test
//! material, and shared, small, close and ROCA-form primes built here.

mod common;

use common::{is_prime, next_prime, prime, random_bits};
use keyaudit::{audit, read, roca, BigUint, Check, KeyKind, Options, PublicKey, Report};
use num_traits::One;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::path::PathBuf;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/keyaudit")
}

fn rsa(label: &str, n: BigUint) -> PublicKey {
    PublicKey {
        label: label.into(),
        kind: KeyKind::Rsa {
            n,
            e: BigUint::from(65537u32),
        },
    }
}

fn checks(r: &Report, key: &str) -> Vec<Check> {
    let mut v: Vec<Check> = r
        .findings
        .iter()
        .filter(|f| f.key == key)
        .map(|f| f.check)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn roca_detector_test_material() {
    let dir = vectors().join("roca");
    let keys = read::read_path(&dir).unwrap();
    assert_eq!(keys.len(), 6, "{keys:?}");
    let r = audit(&keys, &Options::default());
    for k in &keys {
        let positive = k.label.ends_with("mod03.txt:1") || k.label.ends_with("pubkey03.pem");
        let c = checks(&r, &k.label);
        assert_eq!(c.contains(&Check::Roca), positive, "{}: {c:?}", k.label);
    }
    // The detector's fake moduli pass the per-prime residue test but not the discrete log.
    let fake: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vectors().join("roca-fake-mods.json")).unwrap())
            .unwrap();
    for h in fake["moduli_hex"].as_array().unwrap() {
        let n = BigUint::parse_bytes(h.as_str().unwrap().as_bytes(), 16).unwrap();
        assert_eq!(roca::test(&n), roca::Verdict::DlogMismatch);
    }
}

#[test]
fn built_roca_shared_small_close_and_policy() {
    let mut rng = StdRng::seed_from_u64(18);
    // ROCA form: p = k*M + (65537^a mod M), M = 167# (the first 39 primes; 512-bit primes).
    let m = keyaudit::primes::product(keyaudit::primes::sieve(168).into_iter().map(BigUint::from));
    let roca_prime = |rng: &mut StdRng| loop {
        let a = BigUint::from(rng.gen_range(1u64..1 << 40));
        let k = random_bits(rng, 512 - m.bits() + 1);
        let p = &k * &m + BigUint::from(65537u32).modpow(&a, &m);
        if is_prime(&p, rng) {
            return p;
        }
    };
    let (rp, rq) = (roca_prime(&mut rng), roca_prime(&mut rng));
    let (p, q1, q2, q3) = (
        prime(&mut rng, 1024),
        prime(&mut rng, 1024),
        prime(&mut rng, 1024),
        prime(&mut rng, 1024),
    );
    let good1 = &q1 * &q3;
    let close_p = prime(&mut rng, 1024);
    let close_q = next_prime(&close_p + (BigUint::one() << 400u32), &mut rng);
    let (g1, g2) = (prime(&mut rng, 1024), prime(&mut rng, 1024));
    let keys = vec![
        rsa("roca", &rp * &rq),
        rsa("shared-a", &p * &q1),
        rsa("shared-b", &p * &q2),
        rsa("small", prime(&mut rng, 2040) * BigUint::from(999_983u32)),
        rsa("close", &close_p * &close_q),
        rsa("dup-1", &g1 * &g2),
        rsa("dup-2", &g1 * &g2),
        rsa("good", good1.clone()),
        PublicKey {
            label: "e3".into(),
            kind: KeyKind::Rsa {
                n: &q2 * &q3,
                e: BigUint::from(3u8),
            },
        },
        PublicKey {
            label: "e-even".into(),
            kind: KeyKind::Rsa {
                n: prime(&mut rng, 1024) * prime(&mut rng, 1024),
                e: BigUint::from(65538u32),
            },
        },
        rsa("short", prime(&mut rng, 512) * prime(&mut rng, 512)),
    ];
    let r = audit(&keys, &Options::default());
    assert_eq!(checks(&r, "roca"), [Check::Roca, Check::KeySize]); // 1024-bit
    assert_eq!(checks(&r, "shared-a"), [Check::SharedPrime]);
    let ev = &r
        .findings
        .iter()
        .find(|f| f.key == "shared-a" && f.check == Check::SharedPrime)
        .unwrap()
        .evidence;
    assert!(ev.contains("shared-b"), "{ev}");
    assert_eq!(checks(&r, "small"), [Check::SmallFactor]);
    assert!(r
        .findings
        .iter()
        .any(|f| f.key == "small" && f.evidence.contains("999983")));
    assert_eq!(checks(&r, "close"), [Check::Fermat]);
    assert_eq!(checks(&r, "dup-1"), [Check::Duplicate]);
    assert_eq!(checks(&r, "dup-2"), [Check::Duplicate]);
    // "good" shares q1 with shared-a and q3 with e3: both primes known to others.
    assert_eq!(checks(&r, "good"), [Check::SharedPrime]);
    assert!(checks(&r, "e3").contains(&Check::Exponent));
    assert_eq!(checks(&r, "e-even"), [Check::Exponent]);
    assert_eq!(checks(&r, "short"), [Check::KeySize]);
    assert!(r.weak());

    // The same set without the shared and broken ones: nothing.
    let clean = vec![rsa("a", &g1 * &q3), rsa("b", &p * &q2)];
    assert!(audit(&clean, &Options::default()).findings.is_empty());
}

#[test]
fn committed_openssl_keys_raise_nothing() {
    let keys = read::read_path(&vectors().join("openssl-rsa2048.csv")).unwrap();
    assert_eq!(keys.len(), 200);
    let r = audit(
        &keys,
        &Options {
            msb: true,
            ..Options::default()
        },
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let msb = r.msb.expect("200 moduli get statistics");
    assert!(!msb.biased, "{msb:?}");
}

#[test]
fn fresh_openssl_keys_raise_nothing() {
    let have = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipped: no openssl");
        return;
    }
    let dir = std::env::temp_dir().join(format!("keyaudit-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..50 {
        let key = dir.join(format!("k{i}.key"));
        let ok = std::process::Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048")
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok);
        let out = std::process::Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(dir.join(format!("k{i}.pem")))
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::remove_file(&key).unwrap();
    }
    let keys = read::read_path(&dir).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(keys.len(), 50);
    let r = audit(&keys, &Options::default());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}
