//! Regression tests for the WPKI findings of issue 12 (items 1–5): key usage separation and
//! domain-separated signatures, text limits and hidden characters, PKCS#1 v1.5 decryption with
//! bad padding, private state files, empty PIN entries and the SIM menu's closing messages.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wpki::applet::{AppletConfig, Interaction};
use wpki::client::{self, Client, CountingSink, DirectCard, UserAction};
use wpki::protocol::{
    self, usage, Answer, HashAlg, KeyAlgorithm, OpCode, PinOp, Request, ResultCode, Scheme,
    SignMode,
};
use wpki::state::WpkiState;
use zeroize::Zeroizing;

type Card = DirectCard<ChaCha20Rng, CountingSink>;

fn card_with(config: AppletConfig) -> Card {
    DirectCard::new(
        WpkiState::default(),
        config,
        ChaCha20Rng::seed_from_u64(12),
        CountingSink::default(),
    )
}

fn card() -> Card {
    card_with(AppletConfig::default())
}

fn typ(s: &str) -> UserAction {
    UserAction::Type(Zeroizing::new(s.to_string()))
}

struct T {
    c: Card,
    cl: Client,
    rng: ChaCha20Rng,
}

impl T {
    fn new(c: Card) -> T {
        T {
            c,
            cl: Client::new(None, 1),
            rng: ChaCha20Rng::seed_from_u64(7),
        }
    }
    fn call(&mut self, r: Request) -> Answer {
        self.cl.call_raw(&mut self.c, r, &mut self.rng).unwrap()
    }
    fn activate(&mut self, group: u8, pin: &str) {
        self.c.script([typ(pin), typ(pin), UserAction::Ok]);
        let mut r = Request::new(0, OpCode::Pin);
        r.group = Some(group);
        r.pin_op = Some(PinOp::Activate);
        assert_eq!(self.call(r).result, ResultCode::Ok);
    }
    fn keygen(&mut self, key: u8, alg: KeyAlgorithm, use_bits: Option<u8>) -> Answer {
        let mut r = Request::new(0, OpCode::Keygen);
        r.group = Some(0);
        r.key = Some(key);
        r.algorithm = Some(alg);
        r.usage = use_bits;
        let a = self.call(r);
        assert_eq!(a.result, ResultCode::Ok, "{a:?}");
        a
    }
    fn pin_tries(&mut self) -> u8 {
        let mut r = Request::new(0, OpCode::Pin);
        r.group = Some(0);
        r.pin_op = Some(PinOp::Status);
        self.call(r).pin_tries.unwrap()
    }
}

fn sign(key: u8, mode: SignMode, data: &[u8]) -> Request {
    let mut r = Request::new(0, OpCode::Sign);
    r.key = Some(key);
    r.mode = Some(mode);
    r.data = Some(data.to_vec());
    if matches!(mode, SignMode::Digest | SignMode::Authn) {
        r.display = Some("Confirm?".into());
    }
    r
}

// ---- item 1: key usages fixed at KEYGEN, domain separation, profile operation ----

#[test]
fn keygen_default_is_sign_only_and_the_answer_says_so() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    let a = t.keygen(0, KeyAlgorithm::EcP256, None);
    assert_eq!(a.usage, Some(usage::SIGN), "KEYGEN answer carries 8A");
    let a = t.keygen(1, KeyAlgorithm::EcP256, Some(usage::AUTHN | usage::CONSENT));
    assert_eq!(a.usage, Some(usage::AUTHN | usage::CONSENT));
    // a sign key never signs an authn challenge or a consent, and does not decrypt
    for mode in [SignMode::Authn, SignMode::Consent] {
        t.c.script([UserAction::Ok, typ("1234")]);
        let a = t.call(sign(0, mode, b"Pay 1000 EUR to Mallory"));
        assert_eq!(a.result, ResultCode::UsageNotAllowed, "{mode:?}: {a:?}");
        assert!(a.reason.as_deref().unwrap_or("").contains("usage"), "{a:?}");
    }
    // an authn/consent key never signs a text or a digest, nor makes a CSR
    for mode in [SignMode::Text, SignMode::Digest] {
        let data = if mode == SignMode::Digest {
            vec![0; 32]
        } else {
            b"x".to_vec()
        };
        let a = t.call(sign(1, mode, &data));
        assert_eq!(a.result, ResultCode::UsageNotAllowed, "{mode:?}: {a:?}");
    }
    let mut r = Request::new(0, OpCode::Pop);
    r.key = Some(1);
    r.data = Some(client::subject_der("CN=A").unwrap());
    assert_eq!(t.call(r).result, ResultCode::UsageNotAllowed);
    let mut r = Request::new(0, OpCode::Decrypt);
    r.key = Some(0);
    r.data = Some(vec![1; 256]);
    assert_eq!(t.call(r).result, ResultCode::UsageNotAllowed);
    // nothing was shown for any refused request
    assert!(
        t.c.shown.iter().all(|s| !matches!(
            &s.interaction,
            Interaction::Display { text, .. } if text.contains("Mallory")
        )),
        "refused before any dialogue"
    );
    // KEY LIST reports the stored usages
    let keys = t.call(Request::new(0, OpCode::KeyList)).keys;
    assert_eq!(keys[0].usage, usage::SIGN);
    assert_eq!(keys[1].usage, usage::AUTHN | usage::CONSENT);
}

#[test]
fn a_signature_of_one_mode_never_verifies_as_another() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    let all = usage::SIGN | usage::AUTHN | usage::CONSENT;
    let spki = t
        .keygen(0, KeyAlgorithm::EcP256, Some(all))
        .public_key
        .unwrap();
    let data = b"Pay 10 EUR to Bob";
    let mut sigs = Vec::new();
    for mode in [SignMode::Text, SignMode::Consent, SignMode::Authn] {
        t.c.script([UserAction::Ok]);
        if mode != SignMode::Consent {
            t.c.script([typ("1234")]);
        }
        let a = t.call(sign(0, mode, data));
        assert_eq!(a.result, ResultCode::Ok, "{mode:?}");
        sigs.push((mode, a.output.unwrap()));
    }
    // digest mode over SHA-256 of the same bytes
    let d = wpki::keys::digest(HashAlg::Sha256, data).unwrap();
    t.c.script([UserAction::Ok, typ("1234")]);
    let a = t.call(sign(0, SignMode::Digest, &d));
    sigs.push((SignMode::Digest, a.output.unwrap()));
    let payload = |m: SignMode| {
        if m == SignMode::Digest {
            d.clone()
        } else {
            data.to_vec()
        }
    };
    for (m, sig) in &sigs {
        for (other, _) in &sigs {
            let r = client::verify_signature(
                &spki,
                Scheme::Ecdsa,
                HashAlg::Sha256,
                *other,
                &payload(*other),
                sig,
            );
            assert_eq!(
                r.is_ok(),
                m == other,
                "{m:?} signature checked as {other:?}"
            );
        }
        // the plain hash of the data (the old, undifferentiated behaviour) does not verify
        assert!(wpki::keys::verify_digest(&spki, Scheme::Ecdsa, HashAlg::Sha256, &d, sig).is_err());
    }
}

#[test]
fn signed_message_matches_the_vectors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/wpki-protocol.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = v["signed_messages"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    let h = |k: &serde_json::Value| apdu::hex::decode(k.as_str().unwrap()).unwrap();
    for e in list {
        let mode = match e["mode"].as_str().unwrap() {
            "text" => SignMode::Text,
            "digest" => SignMode::Digest,
            "consent" => SignMode::Consent,
            "authn" => SignMode::Authn,
            m => panic!("mode {m}"),
        };
        assert_eq!(h(&e["mode_byte"]), vec![u8::from(mode)]);
        let m = protocol::signed_message(mode, &h(&e["data"]));
        assert_eq!(m, h(&e["message"]), "{}", e["name"]);
        assert_eq!(
            client::signed_digest(mode, HashAlg::Sha256, &h(&e["data"])).unwrap(),
            h(&e["sha256"]),
            "{}",
            e["name"]
        );
    }
}

#[test]
fn profile_operation_must_match_the_operation() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    t.keygen(0, KeyAlgorithm::EcP256, Some(usage::SIGN | usage::AUTHN));
    // mss::authn:loa3 with a text SIGN: refused, with and without a key id
    for key in [Some(0), None] {
        let mut r = sign(0, SignMode::Text, b"Pay 10 EUR to Bob");
        r.key = key;
        r.profile = Some("mss::authn:loa3".into());
        let a = t.call(r);
        assert_eq!(a.result, ResultCode::ProfileMismatch, "{a:?}");
        assert_eq!(a.field, Some(0x92));
        assert!(a.reason.as_deref().unwrap().contains("authn"), "{a:?}");
    }
    // the matching operation is accepted
    let mut r = sign(0, SignMode::Authn, &[1, 2, 3]);
    r.key = None;
    r.profile = Some("mss::authn:loa3".into());
    t.c.script([UserAction::Ok, typ("1234")]);
    assert_eq!(t.call(r).result, ResultCode::Ok);
    let mut r = sign(0, SignMode::Text, b"ok");
    r.profile = Some("mss::sign:loa3".into());
    t.c.script([UserAction::Ok, typ("1234")]);
    assert_eq!(t.call(r).result, ResultCode::Ok);
}

// ---- item 2: text limits and hidden characters ----

/// 180 characters of mixed scripts (Latin, Cyrillic, Greek, CJK): UCS2 in DISPLAY TEXT.
fn mixed_180() -> String {
    let base = "Überweisung 250,00 € an Иван Петров, Αθήνα 参考番号 ";
    let s: String = base.chars().cycle().take(180).collect();
    assert_eq!(s.chars().count(), 180);
    s
}

#[test]
fn over_long_text_is_refused_when_the_request_is_read() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    t.keygen(0, KeyAlgorithm::EcP256, Some(usage::SIGN | usage::CONSENT));
    let n = t.c.shown.len();
    let tries = t.pin_tries();
    for mode in [SignMode::Text, SignMode::Consent] {
        let a = t.call(sign(0, mode, mixed_180().as_bytes()));
        assert_eq!(a.result, ResultCode::BadRequest, "{mode:?}");
        assert_eq!(a.field, Some(0x88));
        let why = a.reason.unwrap();
        assert!(
            why.contains("DISPLAY TEXT would be") && why.contains("limit is 255"),
            "{why}"
        );
        assert!(why.contains("180 characters coded UCS2"), "{why}");
    }
    assert_eq!(t.c.shown.len(), n, "nothing shown, no PIN asked");
    assert_eq!(t.pin_tries(), tries);
    // a display text (89) too long for one DISPLAY TEXT is refused the same way
    let mut r = sign(0, SignMode::Digest, &[0; 32]);
    r.display = Some(mixed_180());
    let a = t.call(r);
    assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x89)));
    // 180 characters of the GSM alphabet fit; 110 UCS2 characters fit
    for ok in ["x".repeat(180), "я".repeat(110)] {
        t.c.script([UserAction::Ok, typ("1234")]);
        let a = t.call(sign(0, SignMode::Text, ok.as_bytes()));
        assert_eq!(a.result, ResultCode::Ok, "{} chars", ok.chars().count());
        let shown = &t.c.shown[t.c.shown.len() - 2].interaction;
        let cmd = wpki::shown::command_for(shown).emit();
        assert!(cmd.len() <= 255, "{} bytes", cmd.len());
    }
    // a group text that would not fit a GET INPUT prompt is refused at GROUP SET
    let mut r = Request::new(0, OpCode::GroupSet);
    r.group = Some(0);
    r.texts = vec![protocol::GroupText {
        lang: *b"en",
        kind: 2,
        text: mixed_180(),
    }];
    let a = t.call(r);
    assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x97)));
}

#[test]
fn ucs2_text_needs_a_terminal_that_displays_ucs2() {
    let mut t = T::new(card_with(AppletConfig {
        ucs2_display: false,
        ..AppletConfig::default()
    }));
    t.activate(0, "1234");
    t.keygen(0, KeyAlgorithm::EcP256, None);
    let a = t.call(sign(0, SignMode::Text, "Платёж 10 EUR".as_bytes()));
    assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x88)));
    assert!(a.reason.unwrap().contains("UCS2"));
    t.c.script([UserAction::Ok, typ("1234")]);
    let a = t.call(sign(0, SignMode::Text, b"Pay 10 EUR"));
    assert_eq!(a.result, ResultCode::Ok);
}

#[test]
fn bidi_zero_width_and_control_characters_are_refused() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    t.keygen(0, KeyAlgorithm::EcP256, None);
    let n = t.c.shown.len();
    for (text, cp) in [
        ("Pay 10 EUR to \u{202E}boB ot RUE 0001", "U+202E"),
        ("Pay 1\u{200B}0 EUR", "U+200B"),
        ("Pay \u{2066}10\u{2069} EUR", "U+2066"),
        ("\u{FEFF}Pay 10 EUR", "U+FEFF"),
        ("Pay 10 EUR\r\u{1B}[2K", "U+000D"),
        ("Pay \u{85}10 EUR", "U+0085"),
    ] {
        let a = t.call(sign(0, SignMode::Text, text.as_bytes()));
        assert_eq!(
            (a.result, a.field),
            (ResultCode::BadRequest, Some(0x88)),
            "{text:?}"
        );
        assert!(a.reason.as_deref().unwrap().contains(cp), "{a:?}");
    }
    // also in a display text shown for a digest
    let mut r = sign(0, SignMode::Digest, &[0; 32]);
    r.display = Some("Sign contract \u{202D}#42".into());
    let a = t.call(r);
    assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x89)));
    assert_eq!(t.c.shown.len(), n, "nothing was shown");
    // a line feed is allowed
    t.c.script([UserAction::Ok, typ("1234")]);
    let a = t.call(sign(0, SignMode::Text, b"Pay 10 EUR\nto Bob"));
    assert_eq!(a.result, ResultCode::Ok);
}

// ---- item 3: RSA PKCS#1 v1.5 decryption with bad padding ----

#[test]
fn pkcs1_bad_padding_is_implicit_rejection_and_oaep_failure_is_0d() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    let spki = t
        .keygen(3, KeyAlgorithm::Rsa2048, Some(usage::DECRYPT))
        .public_key
        .unwrap();
    let public = {
        use pkcs8::DecodePublicKey;
        rsa::PublicKey::from_public_key_der(&spki).unwrap()
    };
    let decrypt = |t: &mut T, scheme: Scheme, ct: &[u8]| {
        let mut r = Request::new(0, OpCode::Decrypt);
        r.key = Some(3);
        r.scheme = Some(scheme);
        r.data = Some(ct.to_vec());
        t.c.script([UserAction::Ok, typ("1234")]);
        t.call(r)
    };
    // a well-formed ciphertext decrypts
    let ct = public
        .encrypt(&mut t.rng, rsa::Pkcs1v15Encrypt, b"session key")
        .unwrap();
    assert_eq!(
        decrypt(&mut t, Scheme::RsaPkcs1v15Decrypt, &ct)
            .output
            .unwrap(),
        b"session key"
    );
    // a ciphertext whose padding is wrong: result 00 and a pseudo-plaintext that depends only
    // on the key and the ciphertext (RFC 8017 §7.2.2 with implicit rejection), so timing and
    // result code tell an attacker nothing (no Bleichenbacher/Marvin oracle)
    let mut bad = vec![0u8; 256];
    bad[1..]
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = i as u8 ^ 0x5A);
    let a1 = decrypt(&mut t, Scheme::RsaPkcs1v15Decrypt, &bad);
    let a2 = decrypt(&mut t, Scheme::RsaPkcs1v15Decrypt, &bad);
    assert_eq!(a1.result, ResultCode::Ok);
    assert_eq!(a1.output, a2.output, "deterministic pseudo-plaintext");
    // OAEP failures answer 0D without detail
    let a = decrypt(&mut t, Scheme::RsaOaepSha256, &bad);
    assert_eq!(a.result, ResultCode::InternalError);
    assert_eq!(a.output, None);
    // and PROTOCOL.md says so
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/PROTOCOL.md")).unwrap();
    assert!(
        doc.contains("implicit rejection"),
        "PROTOCOL.md documents implicit rejection"
    );
    assert!(!doc.contains("A padding error answers `0D` without detail."));
}

// ---- item 4: the applet state file is private ----

#[cfg(unix)]
#[test]
fn file_sink_and_private_files_are_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    use wpki::applet::StateSink;
    let d = std::env::temp_dir().join(format!("wpki-findings-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("st.bin");
    // a stale world-readable temporary file is not reused as is
    std::fs::write(d.join("st.bin.tmp"), b"old").unwrap();
    std::fs::set_permissions(d.join("st.bin.tmp"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut sink = client::FileSink::new(&path);
    sink.persist(&WpkiState::default());
    assert_eq!(sink.error, None);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let share = d.join("share.pem");
    std::fs::write(&share, b"old").unwrap();
    std::fs::set_permissions(&share, std::fs::Permissions::from_mode(0o644)).unwrap();
    client::write_private(&share, b"secret").unwrap();
    assert_eq!(mode(&share), 0o600);
    assert_eq!(std::fs::read(&share).unwrap(), b"secret");
    let _ = std::fs::remove_dir_all(&d);
}

// ---- item 5: an empty PIN entry uses no try; the menu's closing messages ----

#[test]
fn empty_pin_entry_uses_no_try() {
    let mut t = T::new(card());
    t.activate(0, "1234");
    t.keygen(0, KeyAlgorithm::EcP256, None);
    // UserAction::Ok at GET INPUT sends an empty entry
    t.c.script([UserAction::Ok, UserAction::Ok]);
    let a = t.call(sign(0, SignMode::Text, b"x"));
    assert_eq!(a.result, ResultCode::NothingEntered);
    assert_eq!(a.tries_left, None);
    assert_eq!(t.pin_tries(), 3, "no try used");
    // change PIN with an empty current PIN: no try either
    t.c.script([UserAction::Ok]);
    let mut r = Request::new(0, OpCode::Pin);
    r.group = Some(0);
    r.pin_op = Some(PinOp::Change);
    assert_eq!(t.call(r).result, ResultCode::NothingEntered);
    assert_eq!(t.pin_tries(), 3);
    // a wrong PIN still uses one
    t.c.script([UserAction::Ok, typ("0000")]);
    assert_eq!(
        t.call(sign(0, SignMode::Text, b"x")).result,
        ResultCode::PinWrong
    );
    assert_eq!(t.pin_tries(), 2);
}

fn last_display(c: &Card) -> String {
    c.shown
        .iter()
        .rev()
        .find_map(|s| match &s.interaction {
            Interaction::Display { text, .. } => Some(text.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn menu_sessions_end_with_the_right_message_and_result() {
    let mut c = card();
    // 3 = Activate PIN (the card has no group yet: create one without a PIN by KEYGEN)
    let mut t = T::new(c);
    t.keygen(0, KeyAlgorithm::EcP256, None);
    c = t.c;
    c.script([typ("2580"), typ("2580"), UserAction::Ok, UserAction::Ok]);
    c.menu(3);
    assert_eq!(last_display(&c), "PIN activated");
    assert_eq!(wpki::text::menu_outcome("PIN activated"), Some(true));
    assert_eq!(c.applet.menu_result(), Some(ResultCode::Ok));
    // 1 = Change PIN with a wrong current PIN: a failure message and result
    c.script([typ("0000"), UserAction::Ok]);
    c.menu(1);
    assert_eq!(last_display(&c), "Wrong PIN, tries left: 2");
    assert_eq!(c.applet.menu_result(), Some(ResultCode::PinWrong));
    assert_eq!(wpki::text::menu_outcome(&last_display(&c)), Some(false));
    // 1 = Change PIN done right
    c.script([typ("2580"), typ("1111"), typ("1111"), UserAction::Ok]);
    c.menu(1);
    assert_eq!(last_display(&c), "PIN changed");
    assert_eq!(c.applet.menu_result(), Some(ResultCode::Ok));
    // 3 = Activate PIN again: nothing to activate, a failure
    c.script([UserAction::Ok]);
    c.menu(3);
    assert_eq!(c.applet.menu_result(), Some(ResultCode::NotActivated));
    assert_eq!(wpki::text::menu_outcome(&last_display(&c)), Some(false));
}

/// Item 2 on the emulated UICC: the applet reads "UCS2 display" from the TERMINAL PROFILE.
#[test]
fn the_card_applet_follows_the_terminal_profile_for_ucs2() {
    use ota::cat::profile::bits;
    use ota::cat::TerminalProfile;
    use uicc::card::CardOptions;
    use wpki::uicc_applet::{INS_WPKI_REQUEST, WPKI_CLASS_AID, WPKI_INSTANCE_AID};
    let sw = |r: &[u8]| u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    for ucs2 in [false, true] {
        let mut card = uicc::Card::with_options(
            uicc::Profile::default_profile(),
            CardOptions {
                store: Box::new(uicc::MemoryStore::new()),
                registry: wpki::uicc_applet::registry_with_wpki(),
                rng: None,
            },
        )
        .unwrap();
        card.install_applet(WPKI_CLASS_AID, WPKI_INSTANCE_AID, &[], 0x07, false)
            .unwrap();
        let mut tp = TerminalProfile::simulator_default();
        tp.set(bits::UCS2_DISPLAY, ucs2);
        let mut c = vec![0x80, 0x10, 0x00, 0x00, tp.bytes().len() as u8];
        c.extend_from_slice(tp.bytes());
        let r = card.process(&c);
        assert!(matches!(sw(&r), 0x9000 | 0x9100..=0x91FF), "{:04X}", sw(&r));
        let mut sel = vec![0x00, 0xA4, 0x04, 0x00, WPKI_INSTANCE_AID.len() as u8];
        sel.extend_from_slice(WPKI_INSTANCE_AID);
        card.process(&sel);
        let mut ask = |req: &Request| -> Answer {
            let m = req.encode();
            let mut c = vec![0x80, INS_WPKI_REQUEST, 0, 0, m.len() as u8];
            c.extend_from_slice(&m);
            c.push(0);
            let mut r = card.process(&c);
            let mut data = Vec::new();
            while sw(&r) >> 8 == 0x61 {
                data.extend_from_slice(&r[..r.len() - 2]);
                r = card.process(&[0x00, 0xC0, 0, 0, (sw(&r) & 0xFF) as u8]);
            }
            data.extend_from_slice(&r[..r.len() - 2]);
            // 91xx: the SET UP MENU is still waiting to be fetched
            assert!(matches!(sw(&r), 0x9000 | 0x9100..=0x91FF), "{:04X}", sw(&r));
            Answer::open(&data, None).unwrap()
        };
        let mut k = Request::new(1, OpCode::Keygen);
        k.group = Some(0);
        k.key = Some(0);
        k.algorithm = Some(KeyAlgorithm::EcP256);
        k.max_answer = Some(200);
        assert_eq!(ask(&k).result, ResultCode::Ok);
        let mut s = sign(0, SignMode::Text, "Платёж 10 EUR".as_bytes());
        s.id = 2;
        s.max_answer = Some(250);
        let a = ask(&s);
        if ucs2 {
            // accepted as far as the PIN (not activated on this card)
            assert_eq!(a.result, ResultCode::NotActivated, "{a:?}");
        } else {
            assert_eq!((a.result, a.field), (ResultCode::BadRequest, Some(0x88)));
            assert!(a.reason.unwrap().contains("UCS2"));
        }
    }
}
