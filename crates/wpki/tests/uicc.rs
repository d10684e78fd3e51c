//! The WPKI applet inside the emulated UICC: installed as an applet class instance, requests
//! through its APDU interface, state in the card's non-volatile store (restart, tearing).

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::sync::Arc;
use uicc::card::CardOptions;
use uicc::{AppletRegistry, Card, MemoryStore, Profile, Store};
use wpki::client::{self, ClientError, Exchange};
use wpki::protocol::{Answer, E2eKey, KeyAlgorithm, OpCode, Request, ResultCode};
use wpki::uicc_applet::{WpkiAppletClass, INS_WPKI_REQUEST, WPKI_CLASS_AID, WPKI_INSTANCE_AID};

fn registry() -> AppletRegistry {
    let mut r = AppletRegistry::builtin();
    r.register(Arc::new(WpkiAppletClass));
    r
}

fn card_with(store: Box<dyn Store>) -> Card {
    Card::with_options(
        Profile::default_profile(),
        CardOptions {
            store,
            registry: registry(),
            rng: None,
        },
    )
    .unwrap()
}

/// Sends requests in `80 E0` APDUs after selecting the applet; handles 61xx.
struct ApduCard<'a>(&'a mut Card);

impl ApduCard<'_> {
    fn transmit(&mut self, capdu: &[u8]) -> (Vec<u8>, u16) {
        let mut r = self.0.process(capdu);
        let mut data = Vec::new();
        loop {
            if r.len() < 2 {
                return (data, 0); // power lost (tearing): no response
            }
            let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
            data.extend_from_slice(&r[..r.len() - 2]);
            if sw >> 8 == 0x61 {
                r = self.0.process(&[0x00, 0xC0, 0x00, 0x00, (sw & 0xFF) as u8]);
                continue;
            }
            return (data, sw);
        }
    }
    fn select(&mut self) -> u16 {
        let mut c = vec![0x00, 0xA4, 0x04, 0x00, WPKI_INSTANCE_AID.len() as u8];
        c.extend_from_slice(WPKI_INSTANCE_AID);
        self.transmit(&c).1
    }
}

impl Exchange for ApduCard<'_> {
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError> {
        let mut c = vec![0x80, INS_WPKI_REQUEST, 0x00, 0x00, msg.len() as u8];
        c.extend_from_slice(msg);
        c.push(0x00);
        let (data, sw) = self.transmit(&c);
        if sw != 0x9000 {
            return Err(ClientError::Delivery(format!("SW {sw:04X}")));
        }
        Ok(data)
    }
}

fn install(card: &mut Card, key: &E2eKey) {
    let mut params = vec![0xC1, 0x10];
    params.extend_from_slice(key.bytes());
    card.install_applet(WPKI_CLASS_AID, WPKI_INSTANCE_AID, &params, 0x07, false)
        .unwrap();
}

fn keygen(id: u8) -> Request {
    let mut r = Request::new(0, OpCode::Keygen);
    r.group = Some(0);
    r.key = Some(id);
    r.algorithm = Some(KeyAlgorithm::EcP256);
    r
}

#[test]
fn personalise_over_apdus_and_restart() {
    let key = E2eKey::new([0x33; 16]);
    let mut card = card_with(Box::new(MemoryStore::new()));
    install(&mut card, &key);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut cl = client::Client::new(Some(key.clone()), 10);
    {
        let mut t = ApduCard(&mut card);
        assert_eq!(t.select(), 0x9000);
        let a = cl.call(&mut t, keygen(0), &mut rng).unwrap();
        assert!(a.public_key.unwrap().len() > 60);
        // unknown INS / CLA
        assert_eq!(t.transmit(&[0x80, 0x42, 0, 0, 1, 0]).1, 0x6D00);
        assert_eq!(t.transmit(&[0x00, INS_WPKI_REQUEST, 0, 0, 1, 0]).1, 0x6E00);
        // a signature needs the user: no toolkit dialogue yet -> typed answer, no PIN used
        let mut s = Request::new(0, OpCode::Sign);
        s.key = Some(0);
        s.data = Some(b"hello".to_vec());
        let mut p = Request::new(0, OpCode::Pin);
        p.group = Some(0);
        p.pin_op = Some(wpki::protocol::PinOp::Activate);
        let a = cl.call_raw(&mut t, p, &mut rng).unwrap();
        assert_eq!(a.result, ResultCode::InternalError);
        assert_eq!(
            a.reason.as_deref(),
            Some("terminal could not perform the dialogue")
        );
        let a = cl.call_raw(&mut t, s, &mut rng).unwrap();
        assert_eq!(a.result, ResultCode::NotActivated);
    }
    // restart from the store: the key and the replay counter survived
    let store = card.into_store();
    let mut card = card_with(store);
    let mut t = ApduCard(&mut card);
    assert_eq!(t.select(), 0x9000);
    let a = cl
        .call(&mut t, Request::new(0, OpCode::KeyList), &mut rng)
        .unwrap();
    assert_eq!(a.keys.len(), 1);
    let mut old = client::Client::new(Some(key), 10);
    let a = old
        .call_raw(&mut t, Request::new(0, OpCode::KeyList), &mut rng)
        .unwrap();
    assert_eq!(
        a.result,
        ResultCode::SecurityError,
        "replayed id after restart"
    );
}

#[test]
fn torn_keygen_leaves_old_or_new_state() {
    let key = E2eKey::new([0x44; 16]);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut saw_old = false;
    let mut saw_new = false;
    for k in 1..4u64 {
        let mut card = card_with(Box::new(MemoryStore::new()));
        install(&mut card, &key);
        ApduCard(&mut card).select();
        let mut cl = client::Client::new(None, 1);
        card.tear_after_writes(k);
        let _ = cl.call_raw(&mut ApduCard(&mut card), keygen(1), &mut rng);
        if card.power_lost() {
            card.reset();
        } else {
            card.tear_after_writes(0);
        }
        let mut t = ApduCard(&mut card);
        t.select();
        let a = cl
            .call(&mut t, Request::new(0, OpCode::KeyList), &mut rng)
            .unwrap();
        match a.keys.len() {
            0 => saw_old = true,
            1 => saw_new = true,
            n => panic!("{n} keys after a torn KEYGEN"),
        }
        // the card keeps working either way
        let a = cl.call_raw(&mut t, keygen(2), &mut rng).unwrap();
        assert_eq!(a.result, ResultCode::Ok);
    }
    assert!(saw_old, "a tear inside KEYGEN must leave the old state");
    assert!(saw_new, "without a tear the key is there");
}

#[test]
fn answers_decode_as_protocol_messages() {
    let mut card = card_with(Box::new(MemoryStore::new()));
    card.install_applet(WPKI_CLASS_AID, WPKI_INSTANCE_AID, &[], 0x07, false)
        .unwrap();
    let mut t = ApduCard(&mut card);
    t.select();
    let raw = t.exchange(&[0x70, 0x02, 0x81, 0x00]).unwrap();
    let a = Answer::open(&raw, None).unwrap();
    assert_eq!(a.result, ResultCode::BadRequest);
    // bad install parameters are refused
    assert_eq!(
        card.install_applet(
            WPKI_CLASS_AID,
            &[0xF0, 1, 2, 3, 4, 5],
            &[0xC1, 0x01, 0x00],
            0x07,
            false
        ),
        Err(0x6A80)
    );
}
