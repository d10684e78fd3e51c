//! Cross-check against badkeys (PyPI) on the same moduli: roca, smallfactors and fermat flag
//! exactly the same keys; every key badkeys flags for sharedprimes we flag too. Runs when a
//! `badkeys` executable is found (`BADKEYS=/path/to/badkeys` or on PATH); prints skipped
//! otherwise.
//!
//! Known differences, by design: badkeys' sharedprimes compares against its database of primes
//! seen shared on the internet, not across the input set, so keys sharing a prime only within
//! the set are ours alone; badkeys' smallfactors stops at 65537, ours at 2^20 (the set below
//! only uses a factor under 65537).

mod common;

use common::{next_prime, prime, random_bits};
use keyaudit::{audit, read, BigUint, Check, Options};
use num_traits::One;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

fn badkeys() -> Option<String> {
    let exe = std::env::var("BADKEYS").unwrap_or_else(|_| "badkeys".into());
    Command::new(&exe)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| exe)
}

#[test]
fn same_verdicts_as_badkeys() {
    let Some(exe) = badkeys() else {
        eprintln!("skipped: badkeys not installed (pip install badkeys; or set BADKEYS)");
        return;
    };
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/keyaudit");
    let mut moduli: Vec<BigUint> = Vec::new();
    for f in [
        "openssl-rsa2048.csv",
        "roca/mod03.txt",
        "roca/mod04.txt",
        "roca/pubkey03.pem",
    ] {
        for k in read::read_path(&vectors.join(f)).unwrap() {
            if let keyaudit::KeyKind::Rsa { n, .. } = k.kind {
                moduli.push(n);
            }
        }
    }
    let mut rng = StdRng::seed_from_u64(26);
    let m = keyaudit::primes::product(keyaudit::primes::sieve(168).into_iter().map(BigUint::from));
    let roca = loop {
        let a = BigUint::from(rng.gen_range(1u64..1 << 40));
        let p = random_bits(&mut rng, 1024 - m.bits() + 1) * &m
            + BigUint::from(65537u32).modpow(&a, &m);
        let a2 = BigUint::from(rng.gen_range(1u64..1 << 40));
        let q = random_bits(&mut rng, 1024 - m.bits() + 1) * &m
            + BigUint::from(65537u32).modpow(&a2, &m);
        let mut r2 = rng.clone();
        if common::is_prime(&p, &mut r2) && common::is_prime(&q, &mut r2) {
            break p * q;
        }
    };
    moduli.push(roca);
    moduli.push(prime(&mut rng, 2032) * BigUint::from(65521u32));
    let cp = prime(&mut rng, 1024);
    moduli.push(&cp * next_prime(&cp + (BigUint::one() << 300u32), &mut rng));
    let sp = prime(&mut rng, 1024);
    moduli.push(&sp * prime(&mut rng, 1024));
    moduli.push(&sp * prime(&mut rng, 1024));

    let dir = std::env::temp_dir().join(format!("keyaudit-badkeys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("moduli.txt");
    let text: String = moduli
        .iter()
        .map(|n| format!("{}\n", n.to_str_radix(16)))
        .collect();
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(&exe)
        .args(["-m", "-j", "-c", "roca,sharedprimes,smallfactors,fermat"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let mut theirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let hex = v["where"]
            .as_str()
            .unwrap()
            .trim_start_matches("modulus ")
            .to_lowercase();
        let checks = v["results"].as_object().unwrap().keys().cloned();
        theirs.entry(hex).or_default().extend(checks);
    }

    let keys = read::parse("set.csv", text.as_bytes()).unwrap();
    let report = audit(&keys, &Options::default());
    let mut ours: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &report.findings {
        let name = match f.check {
            Check::Roca => "roca",
            Check::SmallFactor => "smallfactors",
            Check::Fermat => "fermat",
            Check::SharedPrime => "sharedprimes",
            _ => continue,
        };
        let line: usize = f.key.trim_start_matches("set.csv:").parse().unwrap();
        let hex = moduli[line - 1].to_str_radix(16);
        ours.entry(hex).or_default().insert(name.into());
    }
    for check in ["roca", "smallfactors", "fermat"] {
        let pick = |m: &BTreeMap<String, BTreeSet<String>>| -> BTreeSet<String> {
            m.iter()
                .filter(|(_, c)| c.contains(check))
                .map(|(h, _)| h[..16].to_string())
                .collect()
        };
        assert_eq!(pick(&ours), pick(&theirs), "{check}: ours vs badkeys");
        assert!(!pick(&ours).is_empty(), "{check}: the set has a case");
    }
    for (hex, c) in &theirs {
        if c.contains("sharedprimes") {
            assert!(
                ours.get(hex).is_some_and(|o| o.contains("sharedprimes")),
                "{hex}"
            );
        }
    }
    let in_set: Vec<_> = ours
        .values()
        .filter(|c| c.contains("sharedprimes"))
        .collect();
    assert_eq!(in_set.len(), 2, "the pair sharing a prime within the set");
    eprintln!(
        "badkeys agrees on {} moduli: roca/smallfactors/fermat identical",
        moduli.len()
    );
}
