//! The full path: MSSP client → SCP80 command packet (AES, CC, counter) for the applet's TAR →
//! SMS-PP download ENVELOPE → emulated UICC (OTA receiver → WPKI applet → proactive session
//! with the simulated phone: DISPLAY TEXT, GET INPUT) → PoR by SEND SHORT MESSAGE → client.

use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, Keyset, Spi, Tar};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use terminal::{OtaRequest, ShownRole, Terminal, UserAnswer};
use transport::Emulator;
use uicc::card::CardOptions;
use uicc::{Card, MemoryStore};
use wpki::client::{self, ClientError, Exchange, DEFAULT_TAR};
use wpki::protocol::{
    E2eKey, HashAlg, KeyAlgorithm, OpCode, PinOp, Request, ResultCode, Scheme, SignMode,
};
use wpki::uicc_applet::{default_profile_with_wpki, registry_with_wpki};

struct Ota {
    emu: Emulator,
    term: Terminal,
    keys: Keyset,
    counter: u64,
}

impl Ota {
    fn new(key: &E2eKey) -> Ota {
        let profile = default_profile_with_wpki(Some(key)).unwrap();
        let card = Card::with_options(
            profile,
            CardOptions {
                store: Box::new(MemoryStore::new()),
                registry: registry_with_wpki(),
                rng: None,
            },
        )
        .unwrap();
        let mut emu = Emulator::new(card);
        let mut term = Terminal::default();
        term.terminal_profile(&mut emu).unwrap();
        let keys = Keyset::new()
            .with_kic(
                CipherAlgorithm::AesCbc,
                &apdu::hex::decode("000102030405060708090A0B0C0D0E0F").unwrap(),
                1,
            )
            .unwrap()
            .with_kid(
                ChecksumAlgorithm::AesCmac,
                &apdu::hex::decode("101112131415161718191A1B1C1D1E1F").unwrap(),
                1,
            )
            .unwrap();
        Ota {
            emu,
            term,
            keys,
            counter: 1,
        }
    }
    fn user(&mut self, answers: &[UserAnswer]) {
        for a in answers {
            self.term.push_answer(a.clone());
        }
    }
}

impl Exchange for Ota {
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.counter += 1;
        let req = OtaRequest {
            keys: &self.keys,
            // CC + ciphering + counter must be higher; PoR always, CC, ciphered, via SMS-SUBMIT
            spi: Spi::from_bytes([0x16, 0x39]),
            tar: Tar(DEFAULT_TAR),
            counter: Counter::new(self.counter).unwrap(),
            data: msg.to_vec(),
            concat_ref: self.counter as u8,
        };
        let o = self
            .term
            .deliver_sms_pp(&mut self.emu, &req)
            .map_err(|e| ClientError::Delivery(e.to_string()))?;
        let por = o
            .por
            .ok_or_else(|| ClientError::Delivery(format!("no PoR (SW {:04X})", o.final_sw)))?;
        let p = por.packet.map_err(ClientError::Delivery)?;
        Ok(p.data)
    }
}

#[test]
fn sign_journey_over_ota_and_sim_toolkit() {
    let e2e = E2eKey::new([0x5A; 16]);
    let mut ota = Ota::new(&e2e);
    assert!(
        ota.term.menu().is_some(),
        "the applet's SET UP MENU entry was installed"
    );
    let mut cl = client::Client::new(Some(e2e.clone()), 1);
    let mut rng = ChaCha20Rng::seed_from_u64(9);

    // activate: the phone shows two PIN prompts and the PUK
    ota.user(&[
        UserAnswer::Text("1234".into()),
        UserAnswer::Text("1234".into()),
        UserAnswer::Ok,
    ]);
    let mut r = Request::new(0, OpCode::Pin);
    r.group = Some(0);
    r.pin_op = Some(PinOp::Activate);
    let a = cl.call(&mut ota, r, &mut rng).unwrap();
    let puk = a.puk.clone().unwrap();
    assert!(ota
        .term
        .shown()
        .iter()
        .any(|s| s.text.contains(puk.as_str())));

    // keygen (no dialogue: PoR in the same exchange), segmented answer fetched with GET MORE
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(0);
    r.algorithm = Some(KeyAlgorithm::Rsa2048);
    let spki = cl.call(&mut ota, r, &mut rng).unwrap().public_key.unwrap();

    // sign: DISPLAY TEXT shows exactly the text; GET INPUT hidden for the PIN
    let text = "Pay 42.00 EUR to Carol";
    ota.term.clear_records();
    ota.user(&[UserAnswer::Ok, UserAnswer::Text("1234".into())]);
    let mut r = Request::new(0, OpCode::Sign);
    r.key = Some(0);
    r.mode = Some(SignMode::Text);
    r.data = Some(text.as_bytes().to_vec());
    let sig = cl.call(&mut ota, r, &mut rng).unwrap().output.unwrap();
    let shown: Vec<_> = ota
        .term
        .shown()
        .iter()
        .filter(|s| s.role == ShownRole::Text)
        .map(|s| s.text.clone())
        .collect();
    assert_eq!(shown, [text]);
    assert!(ota
        .term
        .shown()
        .iter()
        .any(|s| s.role == ShownRole::Prompt && s.text == "Enter PIN"));
    client::verify_signature(
        &spki,
        Scheme::RsaPkcs1v15,
        HashAlg::Sha256,
        SignMode::Text,
        text.as_bytes(),
        &sig,
    )
    .unwrap();

    // wrong PIN three times, then blocked, unblock with the PUK, sign again
    for left in [2u8, 1, 0] {
        ota.user(&[UserAnswer::Ok, UserAnswer::Text("0000".into())]);
        let mut r = Request::new(0, OpCode::Sign);
        r.key = Some(0);
        r.data = Some(b"x".to_vec());
        let a = cl.call_raw(&mut ota, r, &mut rng).unwrap();
        assert_eq!((a.result, a.tries_left), (ResultCode::PinWrong, Some(left)));
    }
    let mut r = Request::new(0, OpCode::Sign);
    r.key = Some(0);
    r.data = Some(b"x".to_vec());
    assert_eq!(
        cl.call_raw(&mut ota, r.clone(), &mut rng).unwrap().result,
        ResultCode::PinBlocked
    );
    ota.user(&[
        UserAnswer::Text(puk.to_string()),
        UserAnswer::Text("9876".into()),
        UserAnswer::Text("9876".into()),
    ]);
    let mut u = Request::new(0, OpCode::Pin);
    u.group = Some(0);
    u.pin_op = Some(PinOp::Unblock);
    cl.call(&mut ota, u, &mut rng).unwrap();
    ota.user(&[UserAnswer::Ok, UserAnswer::Text("9876".into())]);
    let sig = cl.call(&mut ota, r, &mut rng).unwrap().output.unwrap();
    client::verify_signature(
        &spki,
        Scheme::RsaPkcs1v15,
        HashAlg::Sha256,
        SignMode::Text,
        b"x",
        &sig,
    )
    .unwrap();

    // cancel and timeout
    ota.user(&[UserAnswer::Cancel]);
    let mut r = Request::new(0, OpCode::Sign);
    r.key = Some(0);
    r.data = Some(b"no".to_vec());
    assert_eq!(
        cl.call_raw(&mut ota, r.clone(), &mut rng).unwrap().result,
        ResultCode::UserCancelled
    );
    ota.user(&[UserAnswer::Ok, UserAnswer::Timeout]);
    assert_eq!(
        cl.call_raw(&mut ota, r, &mut rng).unwrap().result,
        ResultCode::NoResponse
    );
}

#[test]
fn sim_menu_change_pin_through_the_phone() {
    let e2e = E2eKey::new([0x11; 16]);
    let mut ota = Ota::new(&e2e);
    let mut cl = client::Client::new(Some(e2e), 1);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    ota.user(&[
        UserAnswer::Text("1111".into()),
        UserAnswer::Text("1111".into()),
        UserAnswer::Ok,
    ]);
    let mut r = Request::new(0, OpCode::Pin);
    r.group = Some(0);
    r.pin_op = Some(PinOp::Activate);
    cl.call(&mut ota, r, &mut rng).unwrap();
    let menu = ota.term.menu().cloned().unwrap();
    let entry = menu
        .items
        .iter()
        .find(|i| i.text.text() == wpki::uicc_applet::MENU_ENTRY_TEXT)
        .expect("Mobile ID entry");
    ota.term.clear_records();
    // SELECT ITEM: 1 = change PIN; old PIN, new PIN twice; the result is displayed
    ota.user(&[
        UserAnswer::Item(1),
        UserAnswer::Text("1111".into()),
        UserAnswer::Text("2222".into()),
        UserAnswer::Text("2222".into()),
        UserAnswer::Ok,
    ]);
    ota.term
        .select_menu_item(&mut ota.emu, entry.id, false)
        .unwrap();
    let texts: Vec<_> = ota.term.shown().iter().map(|s| s.text.clone()).collect();
    assert!(texts.contains(&"Change PIN".to_string()), "{texts:?}");
    assert_eq!(
        texts.last().map(String::as_str),
        Some("PIN changed"),
        "{texts:?}"
    );
    // the new PIN is in force for OTA signing
    let mut k = Request::new(0, OpCode::Keygen);
    k.group = Some(0);
    k.key = Some(1);
    k.algorithm = Some(KeyAlgorithm::EcP256);
    cl.call(&mut ota, k, &mut rng).unwrap();
    ota.user(&[UserAnswer::Ok, UserAnswer::Text("2222".into())]);
    let mut s = Request::new(0, OpCode::Sign);
    s.key = Some(1);
    s.data = Some(b"menu ok".to_vec());
    assert_eq!(
        cl.call_raw(&mut ota, s, &mut rng).unwrap().result,
        ResultCode::Ok
    );
}
