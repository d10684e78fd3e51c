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

/// The applet inside the emulated UICC, reached over OTA through the terminal simulator.
struct OtaCard {
    emu: transport::Emulator,
    term: terminal::Terminal,
    keys: ota::Keyset,
    counter: u64,
}

impl OtaCard {
    fn new() -> OtaCard {
        use wpki::uicc_applet::{default_profile_with_wpki, registry_with_wpki};
        let profile = default_profile_with_wpki(None).unwrap();
        let card = uicc::Card::with_options(
            profile,
            uicc::card::CardOptions {
                store: Box::new(uicc::MemoryStore::new()),
                registry: registry_with_wpki(),
                rng: None,
            },
        )
        .unwrap();
        let mut emu = transport::Emulator::new(card);
        let mut term = terminal::Terminal::default();
        term.terminal_profile(&mut emu).unwrap();
        let keys = ota::Keyset::new()
            .with_kic(
                ota::CipherAlgorithm::AesCbc,
                &apdu::hex::decode("000102030405060708090A0B0C0D0E0F").unwrap(),
                1,
            )
            .unwrap()
            .with_kid(
                ota::ChecksumAlgorithm::AesCmac,
                &apdu::hex::decode("101112131415161718191A1B1C1D1E1F").unwrap(),
                1,
            )
            .unwrap();
        let mut c = OtaCard {
            emu,
            term,
            keys,
            counter: 1,
        };
        // activate the PIN and make an RSA-2048 key
        let mut p = Request::new(1, OpCode::Pin);
        p.group = Some(0);
        p.pin_op = Some(wpki::protocol::PinOp::Activate);
        c.term
            .push_answer(terminal::UserAnswer::Text("1234".into()));
        c.term
            .push_answer(terminal::UserAnswer::Text("1234".into()));
        c.term.push_answer(terminal::UserAnswer::Ok);
        c.send(&p.encode());
        let mut k = Request::new(2, OpCode::Keygen);
        k.group = Some(0);
        k.key = Some(0);
        k.algorithm = Some(KeyAlgorithm::Rsa2048);
        k.max_answer = Some(1024);
        c.send(&k.encode());
        c
    }

    fn send(&mut self, msg: &[u8]) -> Vec<u8> {
        self.counter += 1;
        let req = terminal::OtaRequest {
            keys: &self.keys,
            spi: ota::Spi::from_bytes([0x16, 0x39]),
            tar: ota::Tar(wpki::client::DEFAULT_TAR),
            counter: ota::Counter::new(self.counter).unwrap(),
            data: msg.to_vec(),
            concat_ref: self.counter as u8,
        };
        let o = self.term.deliver_sms_pp(&mut self.emu, &req).unwrap();
        o.por.unwrap().packet.unwrap().data
    }

    /// One SIGN journey over OTA: SMS-PP → DISPLAY TEXT → GET INPUT → RSA-2048 → PoR SMS.
    fn journey(&mut self, id: u32) -> usize {
        let mut r = Request::new(id, OpCode::Sign);
        r.key = Some(0);
        r.mode = Some(SignMode::Text);
        r.data = Some(b"Pay 100.00 EUR to Bob Builder, IBAN FI21 1234 5600 0007 85".to_vec());
        r.max_answer = Some(1024);
        self.term.push_answer(terminal::UserAnswer::Ok);
        self.term
            .push_answer(terminal::UserAnswer::Text("1234".into()));
        let a = Answer::open(&self.send(&r.encode()), None).unwrap();
        self.term.clear_records();
        a.output.unwrap().len()
    }
}

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

    let mut card = OtaCard::new();
    let mut id3 = 10u32;
    c.bench_function(
        "SIGN journey rsa2048 (OTA through terminal + emulated UICC)",
        |b| {
            b.iter(|| {
                id3 += 1;
                card.journey(id3)
            })
        },
    );

    // Summary with ratios. The machine may be shared with other work: measure in pairs
    // (bare signature, then the journey, back to back) and report medians, so that load
    // drift hits both alike; OpenSSL runs between the rounds of the same loop.
    let mut pairs: Vec<(f64, f64, f64)> = Vec::new();
    let mut card_pairs: Vec<(f64, f64)> = Vec::new();
    let (mut ec, mut unblinded, mut o_rsa, mut o_ec) = (vec![], vec![], vec![], vec![]);
    let rsa_inner = match &rsa_key {
        keys::LoadedKey::Rsa(k) => Some(k.clone()),
        _ => None,
    };
    for round in 0..5 {
        for _ in 0..60 {
            let t0 = Instant::now();
            rsa_key
                .sign_digest(Scheme::RsaPkcs1v15, HashAlg::Sha256, &digest, &mut rng)
                .unwrap();
            let t1 = Instant::now();
            id += 1;
            journey(&mut rsa_app, &mut rng, &mut sink, id, None);
            let t2 = Instant::now();
            id2 += 1;
            journey(&mut rsa_e2e, &mut rng2, &mut sink, id2, Some(&k));
            let t3 = Instant::now();
            pairs.push((
                (t1 - t0).as_secs_f64(),
                (t2 - t1).as_secs_f64(),
                (t3 - t2).as_secs_f64(),
            ));
            let t4 = Instant::now();
            rsa_key
                .sign_digest(Scheme::RsaPkcs1v15, HashAlg::Sha256, &digest, &mut rng)
                .unwrap();
            let t5 = Instant::now();
            id3 += 1;
            card.journey(id3);
            let t6 = Instant::now();
            card_pairs.push(((t5 - t4).as_secs_f64(), (t6 - t5).as_secs_f64()));
        }
        ec.push(
            mean_time(
                || {
                    ec_key
                        .sign_digest(Scheme::Ecdsa, HashAlg::Sha256, &digest, &mut rng)
                        .unwrap();
                },
                Duration::from_millis(500),
            )
            .as_secs_f64(),
        );
        if let Some(k) = &rsa_inner {
            unblinded.push(
                mean_time(
                    || {
                        k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
                            .unwrap();
                    },
                    Duration::from_millis(500),
                )
                .as_secs_f64(),
            );
        }
        if let Some((r, e)) = openssl_speed() {
            o_rsa.push(1.0 / r);
            o_ec.push(1.0 / e);
        }
        let _ = round;
    }
    let med = |mut v: Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let bare = med(pairs.iter().map(|p| p.0).collect());
    let j = med(pairs.iter().map(|p| p.1).collect());
    let je = med(pairs.iter().map(|p| p.2).collect());
    let dj = med(pairs.iter().map(|p| p.1 - p.0).collect());
    let dje = med(pairs.iter().map(|p| p.2 - p.0).collect());
    let (ec, unblinded) = (med(ec), med(unblinded));
    let jc = med(card_pairs.iter().map(|p| p.1).collect());
    let djc = med(card_pairs.iter().map(|p| p.1 - p.0).collect());
    println!(
        "\n== summary (this run; medians over {} back-to-back pairs) ==",
        pairs.len()
    );
    println!("rsa2048 sign, bare (blinded CRT):   {:>9.1} µs", bare * 1e6);
    println!(
        "rsa2048 sign, bare (unblinded CRT): {:>9.1} µs",
        unblinded * 1e6
    );
    println!("ecdsa p256 sign, bare:              {:>9.1} µs", ec * 1e6);
    println!("SIGN journey plain:                 {:>9.1} µs  overhead (median paired difference) {:+.1} µs = {:+.1}%", j * 1e6, dj * 1e6, dj / bare * 100.0);
    println!("SIGN journey e2e protected:         {:>9.1} µs  overhead (median paired difference) {:+.1} µs = {:+.1}%", je * 1e6, dje * 1e6, dje / bare * 100.0);
    println!(
        "SIGN journey OTA through card:      {:>9.1} µs  overhead (median paired difference) {:+.1} µs = {:+.1}%",
        jc * 1e6,
        djc * 1e6,
        djc / bare * 100.0
    );
    if o_rsa.is_empty() {
        println!("openssl not available: no OpenSSL comparison");
    } else {
        let (orsa, oec) = (med(o_rsa), med(o_ec));
        println!("openssl speed rsa2048:              {:>9.1} µs/sign  -> bare ours/openssl = {:.2} (unblinded {:.2})", orsa * 1e6, bare / orsa, unblinded / orsa);
        println!(
            "openssl speed ecdsap256:            {:>9.1} µs/sign  -> bare ours/openssl = {:.2}",
            oec * 1e6,
            ec / oec
        );
    }
    c.final_summary();
}
