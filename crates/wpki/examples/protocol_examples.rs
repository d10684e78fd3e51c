//! Prints the hex examples of PROTOCOL.md (deterministic: fixed seeds, keys and nonces).
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wpki::applet::{AppletConfig, NoPersist, Step, UserResult, WpkiApplet};
use wpki::protocol::*;
use wpki::state::WpkiState;
use zeroize::Zeroizing;

fn hex(b: &[u8]) -> String {
    apdu::hex::encode(b)
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let key = E2eKey::new(*b"0123456789abcdef");
    let mut app = WpkiApplet::new(
        WpkiState {
            e2e_key: Some(key.clone()),
            ..WpkiState::default()
        },
        AppletConfig::default(),
    );
    let mut sink = NoPersist;

    // 1. plain KEYGEN of a P-256 key in group 0, key 0 -> segmented answer
    let mut r = Request::new(1, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(0);
    r.algorithm = Some(KeyAlgorithm::EcP256);
    println!("KEYGEN request: {}", hex(&r.encode()));
    let Step::Answer(a1) = app.handle_request(&r.encode(), &mut rng, &mut sink) else {
        panic!()
    };
    println!("KEYGEN PoR 1: {}", hex(&a1));
    let mut m = Request::new(2, OpCode::GetMore);
    m.target = Some(1);
    m.offset = Some(77);
    println!("GET MORE request: {}", hex(&m.encode()));
    let Step::Answer(a2) = app.handle_request(&m.encode(), &mut rng, &mut sink) else {
        panic!()
    };
    println!("KEYGEN PoR 2: {}", hex(&a2));

    // 2. PIN ACTIVATE plain
    let mut p = Request::new(3, OpCode::Pin);
    p.group = Some(0);
    p.pin_op = Some(PinOp::Activate);
    println!("PIN ACTIVATE request: {}", hex(&p.encode()));
    let mut s = app.handle_request(&p.encode(), &mut rng, &mut sink);
    for r in [
        UserResult::Input(Zeroizing::new("1234".into())),
        UserResult::Input(Zeroizing::new("1234".into())),
        UserResult::Ok,
    ] {
        println!("  interaction: {s:?}");
        s = app.resume(r, &mut rng, &mut sink);
    }
    println!("PIN ACTIVATE answer: {s:?}");

    // 3. protected SIGN text
    let mut r = Request::new(0x10, OpCode::Sign);
    r.key = Some(0);
    r.mode = Some(SignMode::Text);
    r.data = Some(b"Pay 10 EUR to Bob".to_vec());
    r.max_answer = Some(160);
    let nonce = [0x4E, 0x4F, 0x4E, 0x43, 0x45, 0x30, 0x30, 0x31];
    println!("SIGN fields (plaintext): {}", hex(&r.encode_fields()));
    println!(
        "K_enc(request) = {}",
        hex(&*derive_key(&key, LABEL_ENC, 0x10, nonce, DIR_REQUEST))
    );
    println!(
        "K_mac(request) = {}",
        hex(&*derive_key(&key, LABEL_MAC, 0x10, nonce, DIR_REQUEST))
    );
    let msg = r.encode_protected(&key, nonce);
    println!("SIGN protected request: {}", hex(&msg));
    let s = app.handle_request(&msg, &mut rng, &mut sink);
    println!("  interaction: {s:?}");
    let s = app.resume(UserResult::Ok, &mut rng, &mut sink);
    println!("  interaction: {s:?}");
    let Step::Answer(a) = app.resume(
        UserResult::Input(Zeroizing::new("1234".into())),
        &mut rng,
        &mut sink,
    ) else {
        panic!()
    };
    println!(
        "K_enc(answer) = {}",
        hex(&*derive_key(&key, LABEL_ENC, 0x10, nonce, DIR_ANSWER))
    );
    println!(
        "K_mac(answer) = {}",
        hex(&*derive_key(&key, LABEL_MAC, 0x10, nonce, DIR_ANSWER))
    );
    println!("SIGN protected answer: {}", hex(&a));
    let opened = Answer::open(&a, Some((&key, nonce))).unwrap();
    let mut plain = opened.clone();
    plain.id = 0x10;
    println!("  plaintext fields: {}", hex(&plain.encode_fields()));

    // 4. wrong PIN answer (plain)
    let mut r = Request::new(0x11, OpCode::Sign);
    r.key = Some(0);
    r.data = Some(b"x".to_vec());
    let _ = app.handle_request(&r.encode(), &mut rng, &mut sink);
    let _ = app.resume(UserResult::Ok, &mut rng, &mut sink);
    let s = app.resume(
        UserResult::Input(Zeroizing::new("0000".into())),
        &mut rng,
        &mut sink,
    );
    if let Step::Answer(a) = s {
        println!("wrong PIN answer: {}", hex(&a));
    }
    // 5. bad request
    let bad = [
        0x70, 0x0C, 0x80, 0x04, 0, 0, 0, 0x12, 0x81, 0x01, 0x05, 0x86, 0x01, 0x09,
    ];
    let _ = app.handle_request(&bad, &mut rng, &mut sink);
    let mut r = Request::new(0x12, OpCode::Sign);
    r.key = Some(0);
    r.hash = Some(HashAlg::Unknown(9));
    r.data = Some(b"x".to_vec());
    if let Step::Answer(a) = app.handle_request(&r.encode(), &mut rng, &mut sink) {
        println!("bad request: {} answer: {}", hex(&r.encode()), hex(&a));
    }
    // 6. profile query
    let q = Request::new(0x13, OpCode::ProfileQuery);
    if let Step::Answer(a) = app.handle_request(&q.encode(), &mut rng, &mut sink) {
        println!("PROFILE QUERY {} answer: {}", hex(&q.encode()), hex(&a));
    }
}
