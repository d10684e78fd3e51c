//! End-to-end journeys of the WPKI applet in process (client → protocol → applet state machine
//! → scripted user → answer), checked with the RustCrypto verifiers and with OpenSSL.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::path::PathBuf;
use std::process::Command;
use wpki::applet::{AppletConfig, Interaction, Step};
use wpki::client::{self, ClientError, CountingSink, DirectCard, Exchange, UserAction};
use wpki::keys::{self, KeyMaterial, SplitKey};
use wpki::protocol::{
    usage, Answer, E2eKey, HashAlg, KeyAlgorithm, OpCode, PinOp, Request, ResultCode, Scheme,
    SignMode,
};
use wpki::state::WpkiState;
use zeroize::Zeroizing;

type Card = DirectCard<ChaCha20Rng, CountingSink>;

/// Records every PoR payload the card returns.
struct Recording<'a> {
    card: &'a mut Card,
    answers: Vec<Vec<u8>>,
    requests: Vec<Vec<u8>>,
}

impl Exchange for Recording<'_> {
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.requests.push(msg.to_vec());
        let a = self.card.exchange(msg)?;
        self.answers.push(a.clone());
        Ok(a)
    }
}

fn card(seed: u64, key: Option<E2eKey>) -> Card {
    let state = WpkiState {
        e2e_key: key,
        ..WpkiState::default()
    };
    DirectCard::new(
        state,
        AppletConfig::default(),
        ChaCha20Rng::seed_from_u64(seed),
        CountingSink::default(),
    )
}

fn typ(s: &str) -> UserAction {
    UserAction::Type(Zeroizing::new(s.to_string()))
}

struct Tmp(PathBuf);
impl Tmp {
    fn new(name: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("wpki-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn write(&self, name: &str, b: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, b).unwrap();
        p.to_string_lossy().into_owned()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        println!("NOTICE: openssl not found; OpenSSL cross-checks skipped");
    }
    ok
}

fn run(args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl").args(args).output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn openssl_verify(spki: &[u8], data: &[u8], sig: &[u8], dgst: &str, pss: bool) {
    if !openssl() {
        return;
    }
    let t = Tmp::new(&format!("v{}", sig.len()));
    let pubpem = t.write(
        "pub.pem",
        client::to_pem("PUBLIC KEY", spki).unwrap().as_bytes(),
    );
    let d = t.write("data", data);
    let s = t.write("sig", sig);
    let mut args = vec!["dgst", dgst, "-verify", &pubpem, "-signature", &s];
    if pss {
        args.extend([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:-1",
        ]);
    }
    args.push(&d);
    let (ok, out) = run(&args);
    assert!(ok && out.contains("Verified OK"), "openssl dgst: {out}");
}

/// The bytes the card signs (PROTOCOL.md §5.3).
fn msg(mode: SignMode, data: &[u8]) -> Vec<u8> {
    wpki::protocol::signed_message(mode, data)
}

fn sign_req(key: u8, text: &str) -> Request {
    let mut r = Request::new(0, OpCode::Sign);
    r.key = Some(key);
    r.mode = Some(SignMode::Text);
    r.data = Some(text.as_bytes().to_vec());
    r
}

fn pin_req(op: PinOp, group: u8) -> Request {
    let mut r = Request::new(0, OpCode::Pin);
    r.group = Some(group);
    r.pin_op = Some(op);
    r
}

fn secret_windows(m: &KeyMaterial) -> Vec<Vec<u8>> {
    use rsa::traits::PrivateKeyParts;
    let mut out = Vec::new();
    match m.load().unwrap() {
        keys::LoadedKey::Rsa(k) => {
            out.push(k.d().to_be_bytes_trimmed_vartime().to_vec());
            for p in k.primes() {
                out.push(p.as_ref().to_be_bytes_trimmed_vartime().to_vec());
            }
        }
        keys::LoadedKey::P256(k) => out.push(k.to_bytes().to_vec()),
        keys::LoadedKey::P384(k) => out.push(k.to_bytes().to_vec()),
        keys::LoadedKey::Split { .. } => {
            if let KeyMaterial::SplitRsa { d_card, .. } = m {
                out.push(d_card.to_vec());
            }
        }
    }
    // 12-byte windows of every secret, at several offsets
    out.iter()
        .flat_map(|s| {
            s.windows(12)
                .step_by(5)
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn full_rsa_journey_with_openssl_and_key_material_scan() {
    let e2e = E2eKey::new(*b"0123456789abcdef");
    let mut c = card(7, Some(e2e.clone()));
    let mut cl = client::Client::new(Some(e2e.clone()), 100);
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let mut rec = Recording {
        card: &mut c,
        answers: vec![],
        requests: vec![],
    };
    let mut plain_answers: Vec<Answer> = vec![];

    // activate the PIN of group 0: PIN twice, the card shows the PUK; the protected answer carries it
    rec.card.script([typ("1234"), typ("1234"), UserAction::Ok]);
    let a = cl
        .call(&mut rec, pin_req(PinOp::Activate, 0), &mut rng)
        .unwrap();
    let puk = a.puk.clone().expect("PUK in protected answer");
    assert_eq!(puk.len(), 8);
    let shown_puk = rec.card.shown.last().unwrap();
    assert!(
        matches!(&shown_puk.interaction, Interaction::Display { text, .. } if text.ends_with(puk.as_str()))
    );
    plain_answers.push(a);

    // keygen RSA-2048: the SPKI does not fit one PoR -> segmented, fetched with GET MORE
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(0);
    r.algorithm = Some(KeyAlgorithm::Rsa2048);
    r.usage = Some(usage::SIGN | usage::AUTHN | usage::DECRYPT);
    let n_before = rec.answers.len();
    let a = cl.call(&mut rec, r, &mut rng).unwrap();
    assert!(rec.answers.len() - n_before > 1, "segmented answer");
    assert!(rec.answers.iter().all(|p| p.len() <= 96));
    let spki = a.public_key.clone().unwrap();
    plain_answers.push(a);

    // POP: confirm + PIN, the CSR verifies (ours and openssl req -verify)
    let mut r = Request::new(0, OpCode::Pop);
    r.key = Some(0);
    r.data = Some(client::subject_der("CN=Alice Example,O=Example Bank,C=FI").unwrap());
    rec.card.script([UserAction::Ok, typ("1234")]);
    let a = cl.call(&mut rec, r, &mut rng).unwrap();
    let csr = a.csr.clone().unwrap();
    let (subject, csr_spki) = client::verify_csr(&csr).unwrap();
    assert_eq!(csr_spki, spki);
    assert!(subject.contains("CN=Alice Example"), "{subject}");
    if openssl() {
        let t = Tmp::new("csr");
        let p = t.write(
            "req.pem",
            client::to_pem("CERTIFICATE REQUEST", &csr)
                .unwrap()
                .as_bytes(),
        );
        let (ok, out) = run(&["req", "-in", &p, "-noout", "-verify"]);
        assert!(
            ok && out.contains("verify OK")
                || out.contains("Certificate request self-signature verify OK"),
            "{out}"
        );
        // have a throwaway CA certify it, then CERT PUT / GET
        let ca_key = t.path("ca.key");
        let ca_crt = t.path("ca.crt");
        let (ok, out) = run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &ca_key,
            "-out",
            &ca_crt,
            "-subj",
            "/CN=Test CA",
            "-days",
            "2",
        ]);
        assert!(ok, "{out}");
        let user_crt = t.path("user.der");
        let (ok, out) = run(&[
            "x509", "-req", "-in", &p, "-CA", &ca_crt, "-CAkey", &ca_key, "-days", "1", "-outform",
            "DER", "-out", &user_crt,
        ]);
        assert!(ok, "{out}");
        let cert = std::fs::read(&user_crt).unwrap();
        let mut r = Request::new(0, OpCode::CertPut);
        r.key = Some(0);
        r.data = Some(cert.clone());
        plain_answers.push(cl.call(&mut rec, r, &mut rng).unwrap());
        let mut r = Request::new(0, OpCode::CertGet);
        r.key = Some(0);
        let a = cl.call(&mut rec, r, &mut rng).unwrap();
        assert_eq!(a.certificate.as_deref(), Some(&cert[..]));
        plain_answers.push(a);
        // the CA's own certificate is not for this key
        let ca = client::from_pem_or_der(&std::fs::read(&ca_crt).unwrap())
            .unwrap()
            .1;
        let mut r = Request::new(0, OpCode::CertPut);
        r.key = Some(0);
        r.data = Some(ca);
        let a = cl.call_raw(&mut rec, r, &mut rng).unwrap();
        assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x88)));
    }
    plain_answers.push(Answer::new(0, ResultCode::Ok));

    // SIGN text: what was displayed is exactly what was signed (WYSIWYS)
    let text = "Pay 100.00 EUR to Bob Builder, IBAN FI21 1234 5600 0007 85";
    let shown_before = rec.card.shown.len();
    rec.card.script([UserAction::Ok, typ("1234")]);
    let a = cl.call(&mut rec, sign_req(0, text), &mut rng).unwrap();
    let sig = a.output.clone().unwrap();
    let dialog = &rec.card.shown[shown_before..];
    assert_eq!(dialog.len(), 2);
    assert_eq!(
        dialog[0].interaction,
        Interaction::Display {
            text: text.to_string(),
            confirm: true
        }
    );
    assert!(matches!(
        &dialog[1].interaction,
        Interaction::Input {
            hidden: true,
            digits: true,
            ..
        }
    ));
    client::verify_signature(
        &spki,
        Scheme::RsaPkcs1v15,
        HashAlg::Sha256,
        SignMode::Text,
        text.as_bytes(),
        &sig,
    )
    .unwrap();
    // OpenSSL verifies over the documented signed message (PROTOCOL.md §5.3)
    openssl_verify(
        &spki,
        &msg(SignMode::Text, text.as_bytes()),
        &sig,
        "-sha256",
        false,
    );
    plain_answers.push(a);

    // PSS with SHA-384
    let mut r = sign_req(0, "PSS text");
    r.scheme = Some(Scheme::RsaPss);
    r.hash = Some(HashAlg::Sha384);
    rec.card.script([UserAction::Ok, typ("1234")]);
    let a = cl.call(&mut rec, r, &mut rng).unwrap();
    let sig = a.output.clone().unwrap();
    client::verify_signature(
        &spki,
        Scheme::RsaPss,
        HashAlg::Sha384,
        SignMode::Text,
        b"PSS text",
        &sig,
    )
    .unwrap();
    openssl_verify(
        &spki,
        &msg(SignMode::Text, b"PSS text"),
        &sig,
        "-sha384",
        true,
    );
    plain_answers.push(a);

    // digest mode with SHA-512 and a display text
    let doc = b"a long contract document".repeat(50);
    let mut r = Request::new(0, OpCode::Sign);
    r.key = Some(0);
    r.mode = Some(SignMode::Digest);
    r.hash = Some(HashAlg::Sha512);
    let doc_digest = keys::digest(HashAlg::Sha512, &doc).unwrap();
    r.data = Some(doc_digest.clone());
    r.display = Some("Sign contract #42?".into());
    rec.card.script([UserAction::Ok, typ("1234")]);
    let a = cl.call(&mut rec, r, &mut rng).unwrap();
    openssl_verify(
        &spki,
        &msg(SignMode::Digest, &doc_digest),
        a.output.as_ref().unwrap(),
        "-sha512",
        false,
    );
    plain_answers.push(a);

    // DECRYPT
    let public = {
        use pkcs8::DecodePublicKey;
        rsa::PublicKey::from_public_key_der(&spki).unwrap()
    };
    let secret = b"session key 0123456789";
    let ct = public
        .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, secret)
        .unwrap();
    let mut r = Request::new(0, OpCode::Decrypt);
    r.key = Some(0);
    r.data = Some(ct);
    rec.card.script([UserAction::Ok, typ("1234")]);
    let a = cl.call(&mut rec, r, &mut rng).unwrap();
    assert_eq!(a.output.as_deref(), Some(&secret[..]));
    plain_answers.push(a);

    // cancel at the confirmation: no PIN asked, no try used
    rec.card.script([UserAction::Cancel]);
    let a = cl
        .call_raw(&mut rec, sign_req(0, "cancel me"), &mut rng)
        .unwrap();
    assert_eq!(a.result, ResultCode::UserCancelled);
    // timeout at the PIN prompt
    rec.card.script([UserAction::Ok, UserAction::Timeout]);
    let a = cl
        .call_raw(&mut rec, sign_req(0, "time out"), &mut rng)
        .unwrap();
    assert_eq!(a.result, ResultCode::NoResponse);
    let a = cl
        .call(&mut rec, pin_req(PinOp::Status, 0), &mut rng)
        .unwrap();
    assert_eq!((a.pin_tries, a.puk_tries), (Some(3), Some(10)));

    // wrong PIN x3 -> blocked
    for left in [2u8, 1, 0] {
        rec.card.script([UserAction::Ok, typ("9999")]);
        let a = cl
            .call_raw(&mut rec, sign_req(0, "wrong pin"), &mut rng)
            .unwrap();
        assert_eq!((a.result, a.tries_left), (ResultCode::PinWrong, Some(left)));
    }
    let shown_before = rec.card.shown.len();
    let a = cl
        .call_raw(&mut rec, sign_req(0, "blocked"), &mut rng)
        .unwrap();
    assert_eq!(a.result, ResultCode::PinBlocked);
    assert_eq!(
        rec.card.shown.len(),
        shown_before,
        "no dialogue while blocked"
    );

    // unblock with a wrong PUK, then the right one, new PIN 5678
    rec.card.script([typ("00000000")]);
    let a = cl
        .call_raw(&mut rec, pin_req(PinOp::Unblock, 0), &mut rng)
        .unwrap();
    assert_eq!((a.result, a.tries_left), (ResultCode::PukWrong, Some(9)));
    rec.card
        .script([typ(puk.as_str()), typ("5678"), typ("5678")]);
    cl.call(&mut rec, pin_req(PinOp::Unblock, 0), &mut rng)
        .unwrap();
    let a = cl
        .call(&mut rec, pin_req(PinOp::Status, 0), &mut rng)
        .unwrap();
    assert_eq!((a.pin_tries, a.puk_tries), (Some(3), Some(10)));

    // sign again with the new PIN
    rec.card.script([UserAction::Ok, typ("5678")]);
    let a = cl
        .call(&mut rec, sign_req(0, "after unblock"), &mut rng)
        .unwrap();
    openssl_verify(
        &spki,
        &msg(SignMode::Text, b"after unblock"),
        a.output.as_ref().unwrap(),
        "-sha256",
        false,
    );
    plain_answers.push(a);

    // profiles
    let a = cl
        .call(&mut rec, Request::new(0, OpCode::ProfileQuery), &mut rng)
        .unwrap();
    assert!(
        a.profiles
            .contains(&"mss:simota:sign:loa3:sim?RSAkeylen=2048".to_string()),
        "{:?}",
        a.profiles
    );
    assert!(a
        .profiles
        .contains(&"mss:simota:encrypt:loa3:sim?RSAkeylen=2048".to_string()));
    plain_answers.push(a);

    // no answer, raw or decrypted, contains private key material
    drop(
        rec.card
            .applet
            .state()
            .keys
            .first()
            .unwrap()
            .material
            .clone(),
    );
    let secrets: Vec<Vec<u8>> = rec
        .card
        .applet
        .state()
        .keys
        .iter()
        .flat_map(|k| secret_windows(&k.material))
        .collect();
    assert!(!secrets.is_empty());
    let decoded: Vec<Vec<u8>> = plain_answers.iter().map(Answer::encode).collect();
    for blob in rec.answers.iter().chain(decoded.iter()) {
        for s in &secrets {
            assert!(!contains(blob, s), "private key material in an answer");
        }
    }
    // and every answer was end-to-end protected or a segment of one
    for p in &rec.answers {
        assert!(
            p[0] == 0x61 || p[0] == 0x62,
            "unprotected answer {:02X}",
            p[0]
        );
    }
}

#[test]
fn ec_keys_consent_and_authn() {
    let mut c = card(3, None);
    let mut cl = client::Client::new(None, 1);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    c.script([typ("2468"), typ("2468"), UserAction::Ok]);
    let a = cl
        .call(&mut c, pin_req(PinOp::Activate, 1), &mut rng)
        .unwrap();
    assert!(a.puk.is_none(), "PUK only in protected answers");
    for (kid, alg, dgst, hash) in [
        (1u8, KeyAlgorithm::EcP256, "-sha256", HashAlg::Sha256),
        (2, KeyAlgorithm::EcP384, "-sha384", HashAlg::Sha384),
    ] {
        let mut r = Request::new(0, OpCode::Keygen);
        r.group = Some(1);
        r.key = Some(kid);
        r.algorithm = Some(alg);
        r.usage = Some(usage::SIGN | usage::AUTHN | usage::CONSENT);
        let spki = cl.call(&mut c, r, &mut rng).unwrap().public_key.unwrap();
        let mut r = sign_req(kid, "EC text");
        r.hash = Some(hash);
        c.script([UserAction::Ok, typ("2468")]);
        let sig = cl.call(&mut c, r, &mut rng).unwrap().output.unwrap();
        client::verify_signature(&spki, Scheme::Ecdsa, hash, SignMode::Text, b"EC text", &sig)
            .unwrap();
        openssl_verify(&spki, &msg(SignMode::Text, b"EC text"), &sig, dgst, false);

        // consent: click OK, no PIN
        let mut r = sign_req(kid, "I agree to the terms");
        r.mode = Some(SignMode::Consent);
        let n = c.shown.len();
        let sig = cl.call(&mut c, r, &mut rng).unwrap().output.unwrap();
        assert_eq!(c.shown.len() - n, 1, "consent shows the text only");
        client::verify_signature(
            &spki,
            Scheme::Ecdsa,
            HashAlg::Sha256,
            SignMode::Consent,
            b"I agree to the terms",
            &sig,
        )
        .unwrap();

        // authn: challenge, display text, PIN
        let mut r = Request::new(0, OpCode::Sign);
        r.key = Some(kid);
        r.mode = Some(SignMode::Authn);
        r.data = Some(vec![0xA5; 32]);
        r.display = Some("Log in to Example Bank?".into());
        c.script([UserAction::Ok, typ("2468")]);
        let sig = cl.call(&mut c, r, &mut rng).unwrap().output.unwrap();
        client::verify_signature(
            &spki,
            Scheme::Ecdsa,
            HashAlg::Sha256,
            SignMode::Authn,
            &[0xA5; 32],
            &sig,
        )
        .unwrap();
        assert_eq!(
            c.shown[c.shown.len() - 2].interaction,
            Interaction::Display {
                text: "Log in to Example Bank?".into(),
                confirm: true
            }
        );

        // wrong scheme for the key type
        let mut r = sign_req(kid, "x");
        r.scheme = Some(Scheme::RsaPss);
        assert_eq!(
            cl.call_raw(&mut c, r, &mut rng).unwrap().result,
            ResultCode::UnsupportedProfile
        );
    }
    // choose the key by profile
    let mut r = Request::new(0, OpCode::Sign);
    r.mode = Some(SignMode::Text);
    r.data = Some(b"by profile".to_vec());
    r.profile = Some("mss::sign:loa3:sim?curve=P-384".into());
    c.script([UserAction::Ok, typ("2468")]);
    assert_eq!(cl.call(&mut c, r, &mut rng).unwrap().key, Some(2));
    let mut r = sign_req(1, "x");
    r.profile = Some("mss::sign:loa4".into());
    assert_eq!(
        cl.call_raw(&mut c, r, &mut rng).unwrap().result,
        ResultCode::UnsupportedProfile
    );
}

#[test]
fn bad_requests_name_the_field() {
    let mut c = card(1, None);
    let mut cl = client::Client::new(None, 1);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(0);
    let a = cl.call_raw(&mut c, r, &mut rng).unwrap();
    assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x84)));
    let a = cl.call_raw(&mut c, sign_req(5, "x"), &mut rng).unwrap();
    assert_eq!(a.result, ResultCode::KeyNotFound);
    let a = cl
        .call_raw(&mut c, Request::new(0, OpCode::Unknown(0x55)), &mut rng)
        .unwrap();
    assert_eq!(a.result, ResultCode::UnsupportedOperation);
    // a raw message with an unknown tag: answered with the id and the field
    let step = c
        .exchange(&[0x70, 0x09, 0x80, 0x04, 0, 0, 0, 9, 0xA7, 0x01, 0x00])
        .unwrap();
    let a = Answer::open(&step, None).unwrap();
    assert_eq!(
        (a.id, a.result, a.field),
        (9, ResultCode::BadRequest, Some(0xA7))
    );
    assert!(a.reason.unwrap().contains("offset 8"));
    // garbage: id 0
    let a = Answer::open(&c.exchange(&[0x01, 0x02]).unwrap(), None).unwrap();
    assert_eq!((a.id, a.result), (0, ResultCode::BadRequest));
    // a protected message to a card without an e2e key
    let m = sign_req(0, "x").encode_protected(&E2eKey::new([1; 16]), [0; 8]);
    assert_eq!(
        Answer::open(&c.exchange(&m).unwrap(), None).unwrap().result,
        ResultCode::SecurityError
    );
}

#[test]
fn replay_and_tampering_are_refused() {
    let e2e = E2eKey::new([9; 16]);
    let mut c = card(2, Some(e2e.clone()));
    let mut r = Request::new(50, OpCode::KeyList);
    r.max_answer = Some(200);
    let msg = r.encode_protected(&e2e, [1; 8]);
    let a = Answer::open(&c.exchange(&msg).unwrap(), Some((&e2e, [1; 8]))).unwrap();
    assert_eq!(a.result, ResultCode::Ok);
    let a = Answer::open(&c.exchange(&msg).unwrap(), None).unwrap();
    assert_eq!(
        (a.result, a.reason.as_deref()),
        (ResultCode::SecurityError, Some("replayed request id"))
    );
    let mut bad = Request::new(51, OpCode::KeyList).encode_protected(&e2e, [1; 8]);
    let n = bad.len() - 1;
    bad[n] ^= 0x80;
    let a = Answer::open(&c.exchange(&bad).unwrap(), None).unwrap();
    assert_eq!((a.id, a.result), (51, ResultCode::SecurityError));
}

#[test]
fn pin_counter_is_persisted_before_the_compare() {
    let mut c = card(4, None);
    let mut cl = client::Client::new(None, 1);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    c.script([typ("1111"), typ("1111")]);
    cl.call(&mut c, pin_req(PinOp::Activate, 0), &mut rng)
        .unwrap();
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(3);
    r.algorithm = Some(KeyAlgorithm::EcP256);
    cl.call(&mut c, r, &mut rng).unwrap();
    // record every image persisted during a correct-PIN signature
    struct Log(Vec<WpkiState>);
    impl wpki::applet::StateSink for Log {
        fn persist(&mut self, s: &WpkiState) {
            self.0.push(WpkiState::from_bytes(&s.to_bytes()).unwrap());
        }
    }
    let mut log = Log(vec![]);
    let msg = {
        let mut r = sign_req(3, "tear me");
        r.id = 77;
        r.encode()
    };
    let step = c.applet.handle_request(&msg, &mut c.rng, &mut log);
    assert!(matches!(step, Step::Interact(Interaction::Display { .. })));
    let step = c
        .applet
        .resume(wpki::applet::UserResult::Ok, &mut c.rng, &mut log);
    assert!(matches!(step, Step::Interact(Interaction::Input { .. })));
    assert!(log.0.is_empty());
    let step = c.applet.resume(
        wpki::applet::UserResult::Input(Zeroizing::new("1111".into())),
        &mut c.rng,
        &mut log,
    );
    assert!(matches!(step, Step::Answer(_)));
    // first durable image: counter decremented (a power cut here costs a try, never grants one)
    let tries: Vec<u8> = log
        .0
        .iter()
        .map(|s| s.groups[0].pin.as_ref().unwrap().tries_left)
        .collect();
    assert_eq!(tries, vec![2, 3]);
    // the images round-trip and a restarted applet continues with them
    let restarted = WpkiState::from_bytes(&log.0[0].to_bytes()).unwrap();
    assert_eq!(restarted, log.0[0]);
}

#[test]
fn split_key_signature_verifies_with_openssl() {
    let e2e = E2eKey::new([4; 16]);
    let mut c = card(6, Some(e2e.clone()));
    let mut cl = client::Client::new(Some(e2e), 1000);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    c.script([typ("1357"), typ("1357"), UserAction::Ok]);
    cl.call(&mut c, pin_req(PinOp::Activate, 2), &mut rng)
        .unwrap();
    let sk = SplitKey::generate(2048, &mut rng).unwrap();
    let mut r = Request::new(0, OpCode::SplitKeyPut);
    r.group = Some(2);
    r.key = Some(5);
    r.modulus = Some(sk.n.clone());
    r.exponent = Some(sk.e.clone());
    r.share = Some(sk.d_card.clone());
    let spki = cl
        .call(&mut c, r.clone(), &mut rng)
        .unwrap()
        .public_key
        .unwrap();
    assert_eq!(spki, sk.spki().unwrap());
    // plain SPLIT KEY PUT is refused (it carries a secret)
    let mut plain = client::Client::new(None, 5000);
    r.key = Some(6);
    assert_eq!(
        plain.call_raw(&mut c, r, &mut rng).unwrap().result,
        ResultCode::SecurityError
    );

    let text = "Split-key signed: transfer 5 EUR";
    c.script([UserAction::Ok, typ("1357")]);
    let s_card = cl
        .call(&mut c, sign_req(5, text), &mut rng)
        .unwrap()
        .output
        .unwrap();
    let digest = client::signed_digest(SignMode::Text, HashAlg::Sha256, text.as_bytes()).unwrap();
    assert!(client::verify_signature(
        &spki,
        Scheme::RsaPkcs1v15,
        HashAlg::Sha256,
        SignMode::Text,
        text.as_bytes(),
        &s_card
    )
    .is_err());
    let sig = keys::split_combine(
        &sk.n,
        &sk.e,
        &sk.d_server,
        HashAlg::Sha256,
        &digest,
        &s_card,
    )
    .unwrap();
    openssl_verify(
        &spki,
        &msg(SignMode::Text, text.as_bytes()),
        &sig,
        "-sha256",
        false,
    );
    // PSS cannot be split (the server could not rebuild the encoded message)
    let mut r = sign_req(5, text);
    r.scheme = Some(Scheme::RsaPss);
    assert_eq!(
        cl.call_raw(&mut c, r, &mut rng).unwrap().result,
        ResultCode::UnsupportedProfile
    );
}

#[test]
fn sim_menu_pin_change_and_language() {
    let mut c = card(8, None);
    let mut cl = client::Client::new(None, 1);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    // menu before any group: "not available"
    assert_eq!(c.menu(1), Step::Done);
    assert!(
        matches!(&c.shown.last().unwrap().interaction, Interaction::Display { text, confirm: false } if text == "Not available")
    );
    c.script([typ("1234"), typ("1234")]);
    cl.call(&mut c, pin_req(PinOp::Activate, 0), &mut rng)
        .unwrap();
    // change PIN via the menu
    c.script([typ("1234"), typ("4321"), typ("4321"), UserAction::Ok]);
    assert_eq!(c.menu(1), Step::Done);
    assert!(
        matches!(&c.shown.last().unwrap().interaction, Interaction::Display { text, .. } if text == "PIN changed")
    );
    // mismatching repeat
    c.script([typ("4321"), typ("1111"), typ("2222"), UserAction::Ok]);
    c.menu(1);
    assert!(
        matches!(&c.shown.last().unwrap().interaction, Interaction::Display { text, .. } if text == "The PINs differ")
    );
    // language: German
    c.script([UserAction::Select(2)]);
    assert_eq!(c.menu(4), Step::Done);
    assert_eq!(c.applet.state().language, *b"de");
    assert_eq!(c.applet.menu().1[0], "PIN ändern");
    c.script([UserAction::Cancel]);
    c.menu(1);
    assert!(
        matches!(&c.shown.last().unwrap().interaction, Interaction::Input { prompt, .. } if prompt == "Aktuelle PIN")
    );
    // group texts override the PIN prompt
    let mut r = Request::new(0, OpCode::GroupSet);
    r.group = Some(0);
    r.texts = vec![wpki::protocol::GroupText {
        lang: *b"de",
        kind: 2,
        text: "Bank-PIN eingeben".into(),
    }];
    cl.call(&mut c, r, &mut rng).unwrap();
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(0);
    r.algorithm = Some(KeyAlgorithm::EcP256);
    cl.call(&mut c, r, &mut rng).unwrap();
    c.script([UserAction::Ok, typ("4321")]);
    cl.call(&mut c, sign_req(0, "Hallo"), &mut rng).unwrap();
    assert!(
        matches!(&c.shown.last().unwrap().interaction, Interaction::Input { prompt, .. } if prompt == "Bank-PIN eingeben")
    );
}

#[test]
fn rsa3072_keygen_segmented_and_state_round_trip() {
    let mut c = card(11, None);
    let mut cl = client::Client::new(None, 1);
    cl.max_answer = 64;
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(7);
    r.algorithm = Some(KeyAlgorithm::Rsa3072);
    let a = cl.call(&mut c, r, &mut rng).unwrap();
    let spki = a.public_key.unwrap();
    assert!(spki.len() > 400);
    let img = c.applet.state().to_bytes();
    let back = WpkiState::from_bytes(&img).unwrap();
    assert_eq!(&back, c.applet.state());
    assert!(
        !format!("{back:?}").contains("BEGIN"),
        "no key material in Debug"
    );
    // GET MORE without pending data
    let mut m = Request::new(0, OpCode::GetMore);
    m.target = Some(12345);
    m.offset = Some(10);
    assert_eq!(
        cl.call_raw(&mut c, m, &mut rng).unwrap().result,
        ResultCode::NoPendingData
    );
}
