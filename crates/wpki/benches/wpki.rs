//! WPKI benchmarks: the bare RSA-2048 / ECDSA P-256 signatures, and one full SIGN journey
//! through the applet state machine (request encoding → open → DISPLAY TEXT confirmed → PIN
//! entered, counter persisted → RSA-2048 sign → answer encoded → client opens it), next to
//! `openssl speed rsa2048 ecdsap256` measured in the same run.

use criterion::{black_box, Criterion};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::process::Command;
use std::time::{Duration, Instant};
use wpki::applet::{AppletConfig, Step, UserResult, WpkiApplet};
use wpki::client::CountingSink;
use wpki::keys;
use wpki::protocol::{Answer, E2eKey, HashAlg, KeyAlgorithm, OpCode, Request, Scheme, SignMode};
use wpki::state::{KeyGroup, KeySlot, WpkiState};
use zeroize::Zeroizing;

fn setup(alg: KeyAlgorithm, e2e: Option<E2eKey>) -> (WpkiApplet, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let (material, spki) = keys::generate(alg, &mut rng).unwrap();
    let state = WpkiState {
        groups: vec![KeyGroup {
            id: 0,
            pin: Some(keys::Secret::new(b"1234", 3)),
            puk: Some(keys::Secret::new(b"12345678", 10)),
            texts: vec![],
        }],
        keys: vec![KeySlot {
            id: 0,
            group: 0,
            algorithm: alg,
            usage: 3,
            material,
            spki,
            cert: None,
        }],
        e2e_key: e2e,
        ..WpkiState::default()
    };
    (WpkiApplet::new(state, AppletConfig::default()), rng)
}

/// One SIGN journey; returns the signature length.
fn journey(
    app: &mut WpkiApplet,
    rng: &mut ChaCha20Rng,
    sink: &mut CountingSink,
    id: u32,
    key: Option<&E2eKey>,
) -> usize {
    let mut r = Request::new(id, OpCode::Sign);
    r.key = Some(0);
    r.mode = Some(SignMode::Text);
    r.data = Some(b"Pay 100.00 EUR to Bob Builder, IBAN FI21 1234 5600 0007 85".to_vec());
    r.max_answer = Some(1024);
    let nonce = [7u8; 8];
    let msg = match key {
        Some(k) => r.encode_protected(k, nonce),
        None => r.encode(),
    };
    let s = app.handle_request(&msg, rng, sink);
    assert!(matches!(s, Step::Interact(_)));
    let s = app.resume(UserResult::Ok, rng, sink);
    assert!(matches!(s, Step::Interact(_)));
    let Step::Answer(a) = app.resume(UserResult::Input(Zeroizing::new("1234".into())), rng, sink)
    else {
        panic!("no answer")
    };
    let a = Answer::open(&a, key.map(|k| (k, nonce))).unwrap();
    a.output.unwrap().len()
}

fn mean_time(mut f: impl FnMut(), min: Duration) -> Duration {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < min {
        f();
        n += 1;
    }
    start.elapsed() / n
}

fn openssl_speed() -> Option<(f64, f64)> {
    let o = Command::new("openssl")
        .args(["speed", "-seconds", "1", "rsa2048", "ecdsap256"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout);
    let per_sec = |needle: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.contains(needle))?;
        let nums: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.parse::<f64>().ok())
            .collect();
        nums.get(nums.len().checked_sub(2)?).copied()
    };
    Some((per_sec("rsa 2048 bits")?, per_sec("(nistp256)")?))
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let (mut rsa_app, mut rng) = setup(KeyAlgorithm::Rsa2048, None);
    let (ec_app, _) = setup(KeyAlgorithm::EcP256, None);
    let rsa_key = rsa_app.state().keys[0].material.load().unwrap();
    let ec_key = ec_app.state().keys[0].material.load().unwrap();
    let digest = keys::digest(HashAlg::Sha256, b"bench").unwrap();

    c.bench_function("rsa2048 pkcs1v15 sign (bare)", |b| {
        b.iter(|| {
            rsa_key
                .sign_digest(
                    Scheme::RsaPkcs1v15,
                    HashAlg::Sha256,
                    black_box(&digest),
                    &mut rng,
                )
                .unwrap()
        })
    });
    c.bench_function("ecdsa p256 sign (bare)", |b| {
        b.iter(|| {
            ec_key
                .sign_digest(Scheme::Ecdsa, HashAlg::Sha256, black_box(&digest), &mut rng)
                .unwrap()
        })
    });
    let mut sink = CountingSink::default();
    let mut id = 1u32;
    c.bench_function("SIGN journey rsa2048 (state machine, plain)", |b| {
        b.iter(|| {
            id += 1;
            journey(&mut rsa_app, &mut rng, &mut sink, id, None)
        })
    });
    let k = E2eKey::new([1; 16]);
    let (mut rsa_e2e, mut rng2) = setup(KeyAlgorithm::Rsa2048, Some(k.clone()));
    let mut id2 = 1u32;
    c.bench_function("SIGN journey rsa2048 (state machine, e2e protected)", |b| {
        b.iter(|| {
            id2 += 1;
            journey(&mut rsa_e2e, &mut rng2, &mut sink, id2, Some(&k))
        })
    });

    // Summary with ratios. The machine may be shared: measure in interleaved rounds (ours,
    // journey, OpenSSL right after) and report medians, so load drifts hit all alike.
    let min = Duration::from_millis(1500);
    let (mut bare, mut ec, mut j, mut je, mut o_rsa, mut o_ec) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..5 {
        bare.push(mean_time(
            || {
                rsa_key
                    .sign_digest(Scheme::RsaPkcs1v15, HashAlg::Sha256, &digest, &mut rng)
                    .unwrap();
            },
            min,
        ));
        j.push(mean_time(
            || {
                id += 1;
                journey(&mut rsa_app, &mut rng, &mut sink, id, None);
            },
            min,
        ));
        je.push(mean_time(
            || {
                id2 += 1;
                journey(&mut rsa_e2e, &mut rng2, &mut sink, id2, Some(&k));
            },
            min,
        ));
        ec.push(mean_time(
            || {
                ec_key
                    .sign_digest(Scheme::Ecdsa, HashAlg::Sha256, &digest, &mut rng)
                    .unwrap();
            },
            min,
        ));
        if let Some((r, e)) = openssl_speed() {
            o_rsa.push(Duration::from_secs_f64(1.0 / r));
            o_ec.push(Duration::from_secs_f64(1.0 / e));
        }
    }
    let med = |v: &mut Vec<Duration>| -> f64 {
        v.sort();
        v.get(v.len() / 2).map_or(f64::NAN, |d| d.as_secs_f64())
    };
    let (bare, ec, j, je) = (med(&mut bare), med(&mut ec), med(&mut j), med(&mut je));
    println!("\n== summary (this run, medians of 5 interleaved rounds) ==");
    println!("rsa2048 sign, bare (blinded CRT):  {:>9.1} µs", bare * 1e6);
    println!("ecdsa p256 sign, bare:             {:>9.1} µs", ec * 1e6);
    println!(
        "SIGN journey plain:                {:>9.1} µs  overhead beyond the signature {:+.1}%",
        j * 1e6,
        (j / bare - 1.0) * 100.0
    );
    println!(
        "SIGN journey e2e protected:        {:>9.1} µs  overhead beyond the signature {:+.1}%",
        je * 1e6,
        (je / bare - 1.0) * 100.0
    );
    if o_rsa.is_empty() {
        println!("openssl not available: no OpenSSL comparison");
    } else {
        let (orsa, oec) = (med(&mut o_rsa), med(&mut o_ec));
        println!(
            "openssl speed rsa2048:             {:>9.1} µs/sign  -> bare ours/openssl = {:.2}",
            orsa * 1e6,
            bare / orsa
        );
        println!(
            "openssl speed ecdsap256:           {:>9.1} µs/sign  -> bare ours/openssl = {:.2}",
            oec * 1e6,
            ec / oec
        );
    }
    c.final_summary();
}
