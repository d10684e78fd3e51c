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
        groups: vec![KeyGroup { id: 0, pin: Some(keys::Secret::new(b"1234", 3)), puk: Some(keys::Secret::new(b"12345678", 10)), texts: vec![] }],
        keys: vec![KeySlot { id: 0, group: 0, algorithm: alg, usage: 3, material, spki, cert: None }],
        e2e_key: e2e,
        ..WpkiState::default()
    };
    (WpkiApplet::new(state, AppletConfig::default()), rng)
}

/// One SIGN journey; returns the signature length.
fn journey(app: &mut WpkiApplet, rng: &mut ChaCha20Rng, sink: &mut CountingSink, id: u32, key: Option<&E2eKey>) -> usize {
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
    let Step::Answer(a) = app.resume(UserResult::Input(Zeroizing::new("1234".into())), rng, sink) else { panic!("no answer") };
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
    let o = Command::new("openssl").args(["speed", "-seconds", "2", "rsa2048", "ecdsap256"]).output().ok()?;
    let text = String::from_utf8_lossy(&o.stdout);
    let per_sec = |needle: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.contains(needle))?;
        let nums: Vec<f64> = line.split_whitespace().filter_map(|w| w.parse::<f64>().ok()).collect();
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
        b.iter(|| rsa_key.sign_digest(Scheme::RsaPkcs1v15, HashAlg::Sha256, black_box(&digest), &mut rng).unwrap())
    });
    c.bench_function("ecdsa p256 sign (bare)", |b| {
        b.iter(|| ec_key.sign_digest(Scheme::Ecdsa, HashAlg::Sha256, black_box(&digest), &mut rng).unwrap())
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

    // Summary with ratios, measured in this run.
    let min = Duration::from_secs(3);
    let bare = mean_time(|| { rsa_key.sign_digest(Scheme::RsaPkcs1v15, HashAlg::Sha256, &digest, &mut rng).unwrap(); }, min);
    let ec = mean_time(|| { ec_key.sign_digest(Scheme::Ecdsa, HashAlg::Sha256, &digest, &mut rng).unwrap(); }, min);
    let j = mean_time(|| { id += 1; journey(&mut rsa_app, &mut rng, &mut sink, id, None); }, min);
    let je = mean_time(|| { id2 += 1; journey(&mut rsa_e2e, &mut rng2, &mut sink, id2, Some(&k)); }, min);
    println!("\n== summary (this run) ==");
    println!("rsa2048 sign, bare:        {:>10.1} µs", bare.as_secs_f64() * 1e6);
    println!("ecdsa p256 sign, bare:     {:>10.1} µs", ec.as_secs_f64() * 1e6);
    println!("SIGN journey plain:        {:>10.1} µs  overhead beyond the signature {:+.1}%", j.as_secs_f64() * 1e6, (j.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0);
    println!("SIGN journey e2e:          {:>10.1} µs  overhead beyond the signature {:+.1}%", je.as_secs_f64() * 1e6, (je.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0);
    match openssl_speed() {
        Some((rsa_s, ec_s)) => {
            let (o_rsa, o_ec) = (1.0 / rsa_s, 1.0 / ec_s);
            println!("openssl speed rsa2048:     {:>10.1} µs/sign  -> ours/openssl = {:.2}", o_rsa * 1e6, bare.as_secs_f64() / o_rsa);
            println!("openssl speed ecdsap256:   {:>10.1} µs/sign  -> ours/openssl = {:.2}", o_ec * 1e6, ec.as_secs_f64() / o_ec);
        }
        None => println!("openssl not available: no OpenSSL comparison"),
    }
    c.final_summary();
}
