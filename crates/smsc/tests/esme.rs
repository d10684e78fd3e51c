//! An ESME against the SMSC over loopback TCP: RFM over SMPP to cards of the fleet, and the
//! bad inputs of issue 16 each answered per SMPP 3.4.

use ota::sms::{split_command, ConcatRef};
use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Keyset, ResponsePacket, Spi, Tar,
};
use smsc::fleet::profile_factory;
use smsc::pdu::{status, Bind, Body, Pdu, ShortMessage, ESM_UDHI};
use smsc::FleetStore;
use smsc::{CardIdentity, FleetConfig, Server, ServerConfig};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const BASE: u64 = 491_700_000_000;

fn start(max_sessions: usize) -> SocketAddr {
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_sessions,
        fleet: FleetConfig {
            cards: 100,
            msisdn_base: BASE,
        },
        ..Default::default()
    };
    let s = Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).unwrap();
    let a = s.local_addr().unwrap();
    std::thread::spawn(move || s.serve());
    a
}

struct Esme {
    s: TcpStream,
    seq: u32,
}

impl Esme {
    fn connect(a: SocketAddr) -> Esme {
        let s = TcpStream::connect(a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        // Small PDUs back to back: without TCP_NODELAY each waits for a delayed ACK.
        s.set_nodelay(true).unwrap();
        Esme { s, seq: 0 }
    }
    fn raw(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }
    fn send(&mut self, body: Body) -> u32 {
        self.seq += 1;
        let b = Pdu::new(self.seq, body).emit();
        self.raw(&b);
        self.seq
    }
    /// The next PDU, or None at end of stream.
    fn recv(&mut self) -> Option<Pdu> {
        let mut len = [0u8; 4];
        self.s.read_exact(&mut len).ok()?;
        let n = u32::from_be_bytes(len) as usize;
        let mut b = vec![0u8; n];
        b[..4].copy_from_slice(&len);
        self.s.read_exact(&mut b[4..]).unwrap();
        Some(Pdu::parse(&b).unwrap())
    }
    fn bind(&mut self, password: &str) -> Pdu {
        self.send(Body::BindTransceiver(Bind {
            system_id: "test".into(),
            password: password.into(),
            system_type: String::new(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
        }));
        self.recv().unwrap()
    }
}

fn aes_keys() -> Keyset {
    Keyset::new()
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
        .unwrap()
}

fn des_keys() -> Keyset {
    Keyset::new()
        .with_kic(
            CipherAlgorithm::TripleDes2Cbc,
            &apdu::hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap(),
            2,
        )
        .unwrap()
        .with_kid(
            ChecksumAlgorithm::TripleDes2Mac,
            &apdu::hex::decode("112233445566778899AABBCCDDEEFF00").unwrap(),
            2,
        )
        .unwrap()
}

/// SELECT EF.ICCID + READ BINARY 10 bytes, secured for TAR B00000 (RFM, MF session).
fn rfm_iccid(keys: &Keyset, spi: u16, counter: u64) -> Vec<u8> {
    let data = apdu::hex::decode("00A4000C022FE2 00B000000A").unwrap();
    let p = CommandPacket::new(
        Spi::from_u16(spi),
        keys,
        Tar([0xB0, 0, 0]),
        Counter::new(counter).unwrap(),
        data,
    )
    .seal(keys)
    .unwrap();
    let mut uds = split_command(&p, ConcatRef::Eight(1)).unwrap();
    assert_eq!(uds.len(), 1);
    uds.remove(0)
}

fn submit(dest: &str, ud: Vec<u8>) -> Body {
    Body::SubmitSm(ShortMessage {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "12".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: dest.into(),
        esm_class: ESM_UDHI,
        protocol_id: 0x7F,
        data_coding: 0xF6,
        short_message: ud,
        ..Default::default()
    })
}

/// ICCID digits as EF.ICCID holds them (swapped BCD).
fn iccid_bytes(d: &str) -> Vec<u8> {
    d.as_bytes()
        .chunks(2)
        .map(|c| ((c.get(1).map_or(0xF, |x| x - b'0')) << 4) | (c[0] - b'0'))
        .collect()
}

fn check_rfm(e: &mut Esme, index: u64, keys: &Keyset, spi: u16, counter: u64) {
    let dest = (BASE + index).to_string();
    let seq = e.send(submit(&dest, rfm_iccid(keys, spi, counter)));
    let r = e.recv().unwrap();
    assert_eq!((r.sequence, r.status), (seq, status::ROK), "{r:?}");
    assert!(matches!(r.body, Body::SubmitSmResp(ref id) if !id.is_empty()));
    let d = e.recv().unwrap();
    let Body::DeliverSm(m) = d.body else {
        panic!("{d:?}")
    };
    assert_eq!(m.source_addr, dest);
    assert_eq!(m.destination_addr, "12");
    assert_eq!((m.esm_class, m.protocol_id), (ESM_UDHI, 0x7F));
    let por = ResponsePacket::open(m.payload(), Spi::from_u16(spi).por_security(), keys).unwrap();
    assert_eq!(por.status, ota::ResponseStatus::PorOk);
    let c = por.compact_response().unwrap();
    assert_eq!(c.sw.0, 0x9000);
    assert_eq!(c.data, iccid_bytes(&CardIdentity::new(index, BASE).iccid));
    e.send(Body::DeliverSmResp);
}

#[test]
fn rfm_read_iccid_through_smpp_aes_and_3des() {
    let a = start(8);
    let mut e = Esme::connect(a);
    let r = e.bind("test");
    assert_eq!(r.status, status::ROK);
    assert!(matches!(
        r.body,
        Body::BindResp {
            command_id: 0x8000_0009,
            ..
        }
    ));
    // AES keyset 1, PoR in the ENVELOPE response; counter "higher" (SPI1 16).
    check_rfm(&mut e, 3, &aes_keys(), 0x1619, 1);
    // The same card again: its counter moved on, the next one must be higher.
    check_rfm(&mut e, 3, &aes_keys(), 0x1619, 2);
    // 3DES keyset 2, PoR through SEND SHORT MESSAGE (SPI2 b6), another card.
    check_rfm(&mut e, 77, &des_keys(), 0x1639, 1);
    e.send(Body::Unbind);
    assert_eq!(e.recv().unwrap().body, Body::UnbindResp);
    assert!(e.recv().is_none(), "session closes after unbind");
}

#[test]
fn bad_input_is_answered_and_the_session_lives_on() {
    let a = start(8);
    let mut e = Esme::connect(a);
    // submit_sm before bind: ESME_RINVBNDSTS.
    let seq = e.send(submit("491700000001", vec![2, 0x70, 0]));
    let r = e.recv().unwrap();
    assert_eq!((r.sequence, r.status), (seq, status::RINVBNDSTS));
    // Wrong password.
    assert_eq!(e.bind("nope").status, status::RINVPASWD);
    assert_eq!(e.bind("test").status, status::ROK);
    assert_eq!(e.bind("test").status, status::RALYBND);
    // Unknown MSISDN (outside the fleet, and not a number).
    for d in ["491700000100", "49170000000x", ""] {
        let seq = e.send(submit(d, rfm_iccid(&aes_keys(), 0x1619, 1)));
        let r = e.recv().unwrap();
        assert_eq!((r.sequence, r.status), (seq, status::RINVDSTADR), "{d:?}");
    }
    // Truncated PDU: command_length covers the header and 5 body bytes only.
    let mut b = Pdu::new(41, submit("491700000001", vec![1, 2, 3])).emit();
    b.truncate(21);
    b[..4].copy_from_slice(&21u32.to_be_bytes());
    e.raw(&b);
    let r = e.recv().unwrap();
    assert_eq!(
        (r.body.clone(), r.sequence, r.status),
        (Body::GenericNack, 41, status::RINVCMDLEN)
    );
    // Unknown command_id.
    e.raw(
        &Pdu::new(
            42,
            Body::Other {
                command_id: 0x0000_0077,
                body: vec![],
            },
        )
        .emit(),
    );
    let r = e.recv().unwrap();
    assert_eq!(
        (r.body.clone(), r.sequence, r.status),
        (Body::GenericNack, 42, status::RINVCMDID)
    );
    // Oversize short_message (sm_length 255).
    let mut b = Pdu::new(43, submit("491700000001", vec![0xAB; 254])).emit();
    let at = b.len() - 255;
    assert_eq!(b[at], 254);
    b[at] = 255;
    b.push(0xAB);
    let n = b.len() as u32;
    b[..4].copy_from_slice(&n.to_be_bytes());
    e.raw(&b);
    let r = e.recv().unwrap();
    assert_eq!(
        (r.body.clone(), r.sequence, r.status),
        (Body::GenericNack, 43, status::RINVMSGLEN)
    );
    // The session still works.
    let seq = e.send(Body::EnquireLink);
    let r = e.recv().unwrap();
    assert_eq!(
        (r.body, r.sequence, r.status),
        (Body::EnquireLinkResp, seq, status::ROK)
    );
    check_rfm(&mut e, 5, &aes_keys(), 0x1619, 1);
    // An impossible command_length: framing is lost; generic_nack, then the server closes.
    e.raw(&[0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0]);
    let r = e.recv().unwrap();
    assert_eq!((r.body, r.status), (Body::GenericNack, status::RINVCMDLEN));
    assert!(e.recv().is_none());
    // ...and the server serves new sessions.
    let mut e2 = Esme::connect(a);
    assert_eq!(e2.bind("test").status, status::ROK);
}

#[test]
fn sessions_are_bounded() {
    let a = start(2);
    let mut e1 = Esme::connect(a);
    let mut e2 = Esme::connect(a);
    assert_eq!(e1.bind("test").status, status::ROK);
    assert_eq!(e2.bind("test").status, status::ROK);
    let mut e3 = Esme::connect(a);
    e3.s.write_all(&Pdu::new(1, Body::EnquireLink).emit()).ok();
    assert!(e3.recv().is_none(), "third session is closed");
    drop(e1);
    std::thread::sleep(Duration::from_millis(200));
    let mut e4 = Esme::connect(a);
    assert_eq!(e4.bind("test").status, status::ROK);
}

#[test]
fn default_credentials_refused_off_loopback() {
    let cfg = ServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Default::default()
    };
    let e = Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).unwrap_err();
    assert!(e.to_string().contains("only on a loopback address"), "{e}");
    let cfg = ServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        system_id: "ota".into(),
        password: "s3cret".into(),
        ..Default::default()
    };
    assert!(Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).is_ok());
}

/// 1 000 OTA commands to 1 000 different cards on one transceiver session: every PoR comes
/// back from the right MSISDN; each card keeps its own counter (a replay to one card is
/// refused with status 02 while the next counter is accepted, and other cards are untouched).
#[test]
fn thousand_cards_each_with_its_own_counter() {
    let keys = aes_keys();
    let n = 1000u64;
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        fleet: FleetConfig {
            cards: n,
            msisdn_base: BASE,
        },
        ..Default::default()
    };
    let s = Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).unwrap();
    let a2 = s.local_addr().unwrap();
    std::thread::spawn(move || s.serve());
    let mut e = Esme::connect(a2);
    assert_eq!(e.bind("test").status, status::ROK);
    for i in 0..n {
        check_rfm(&mut e, i, &keys, 0x1619, 1);
    }
    // Replay counter 1 to card 500: refused (status 02, counter low); counter 2 accepted.
    let seq = e.send(submit("491700000500", rfm_iccid(&keys, 0x1619, 1)));
    assert_eq!(e.recv().unwrap().status, status::ROK, "seq {seq}");
    let Body::DeliverSm(m) = e.recv().unwrap().body else {
        panic!()
    };
    let por = ResponsePacket::open(m.payload(), ota::PorSecurity::NONE, &keys)
        .or_else(|_| ResponsePacket::open(m.payload(), Spi::from_u16(0x1619).por_security(), &keys))
        .unwrap();
    assert_eq!(por.status.to_byte(), 0x02, "{por:?}");
    check_rfm(&mut e, 500, &keys, 0x1619, 2);
    check_rfm(&mut e, 501, &keys, 0x1619, 2);
}

/// registered_delivery 1: after the PoR, a delivery receipt (esm_class 04, Appendix B text,
/// receipted_message_id = the submit_sm_resp's message_id, message_state DELIVERED).
#[test]
fn delivery_receipt_when_registered_delivery_asks() {
    let a = start(8);
    let mut e = Esme::connect(a);
    assert_eq!(e.bind("test").status, status::ROK);
    let Body::SubmitSm(mut m) = submit("491700000009", rfm_iccid(&aes_keys(), 0x1619, 1)) else {
        unreachable!()
    };
    m.registered_delivery = 1;
    e.send(Body::SubmitSm(m));
    let r = e.recv().unwrap();
    let Body::SubmitSmResp(mid) = r.body else {
        panic!("{r:?}")
    };
    let Body::DeliverSm(por) = e.recv().unwrap().body else {
        panic!()
    };
    assert_eq!(por.esm_class, ESM_UDHI);
    let Body::DeliverSm(dr) = e.recv().unwrap().body else {
        panic!()
    };
    assert_eq!(dr.esm_class, 0x04);
    assert_eq!(dr.source_addr, "491700000009");
    let text = String::from_utf8(dr.short_message.clone()).unwrap();
    assert!(
        text.starts_with(&format!("id:{mid} sub:001 dlvrd:001 submit date:")),
        "{text}"
    );
    assert!(text.contains(" stat:DELIVRD err:000"), "{text}");
    let rid = dr.tlvs.iter().find(|t| t.tag == 0x001E).unwrap();
    assert_eq!(rid.value, format!("{mid}\0").into_bytes());
    assert_eq!(dr.tlvs.iter().find(|t| t.tag == 0x0427).unwrap().value, [2]);
    // Without registered_delivery: no receipt (the next PDU is the enquire_link_resp).
    e.send(submit("491700000009", rfm_iccid(&aes_keys(), 0x1619, 2)));
    assert!(matches!(e.recv().unwrap().body, Body::SubmitSmResp(_)));
    assert!(matches!(e.recv().unwrap().body, Body::DeliverSm(_)));
    e.send(Body::EnquireLink);
    assert_eq!(e.recv().unwrap().body, Body::EnquireLinkResp);
}

/// A counter replayed to card `index` is refused: the PoR says status 02 (counter low).
fn check_replay(e: &mut Esme, index: u64, keys: &Keyset, counter: u64) {
    let dest = (BASE + index).to_string();
    e.send(submit(&dest, rfm_iccid(keys, 0x1619, counter)));
    assert_eq!(e.recv().unwrap().status, status::ROK);
    let Body::DeliverSm(m) = e.recv().unwrap().body else {
        panic!("no PoR for the replay to card {index}")
    };
    let por = ResponsePacket::open(m.payload(), ota::PorSecurity::NONE, keys)
        .or_else(|_| ResponsePacket::open(m.payload(), Spi::from_u16(0x1619).por_security(), keys))
        .unwrap();
    assert_eq!(por.status.to_byte(), 0x02, "card {index}: {por:?}");
    e.send(Body::DeliverSmResp);
}

/// The store of the first server, closable so the test can reopen the database file the way
/// a restarted process does (redb locks the file while a `Database` is open).
struct Closable(std::sync::Mutex<Option<smsc::RedbStore>>);

impl smsc::FleetStore for Closable {
    fn load(&self, i: u64) -> Result<Option<Vec<u8>>, smsc::FleetStoreError> {
        match self.0.lock().unwrap().as_ref() {
            Some(s) => s.load(i),
            None => Err(smsc::FleetStoreError {
                path: "closed".into(),
                reason: "closed".into(),
            }),
        }
    }
    fn save(&self, i: u64, b: &[u8]) -> Result<(), smsc::FleetStoreError> {
        match self.0.lock().unwrap().as_ref() {
            Some(s) => s.save(i, b),
            None => Err(smsc::FleetStoreError {
                path: "closed".into(),
                reason: "closed".into(),
            }),
        }
    }
}

fn start_with(n: u64, store: std::sync::Arc<dyn smsc::FleetStore>) -> SocketAddr {
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        fleet: FleetConfig {
            cards: n,
            msisdn_base: BASE,
        },
        ..Default::default()
    };
    let s = Server::bind_with_store(
        cfg,
        profile_factory(uicc::Profile::default_profile()),
        Some(store),
    )
    .unwrap();
    let a = s.local_addr().unwrap();
    std::thread::spawn(move || s.serve());
    a
}

/// `--state DIR`: 1 000 cards each get counter 1, the database is closed and reopened by a
/// new server (empty fleet in memory), and on every card counter 1 is now refused while
/// counter 2 is accepted; card 1 000 of a bigger fleet was never touched and has no row.
#[test]
fn thousand_cards_counters_survive_a_restart() {
    let keys = aes_keys();
    let n = 1000u64;
    let dir = std::env::temp_dir().join(format!("simota-smsc-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = std::sync::Arc::new(Closable(std::sync::Mutex::new(Some(
        smsc::RedbStore::open(&dir).unwrap(),
    ))));
    let mut e = Esme::connect(start_with(n + 1, first.clone()));
    assert_eq!(e.bind("test").status, status::ROK);
    for i in 0..n {
        check_rfm(&mut e, i, &keys, 0x1619, 1);
    }
    drop(e);
    let rows = first.0.lock().unwrap().as_ref().unwrap().rows().unwrap();
    assert_eq!(rows, n, "one row per touched card");
    // "Restart": close the database, reopen the directory in a new server.
    *first.0.lock().unwrap() = None;
    let store = std::sync::Arc::new(smsc::RedbStore::open(&dir).unwrap());
    assert_eq!(store.load(n).unwrap(), None);
    let mut e = Esme::connect(start_with(n + 1, store.clone()));
    assert_eq!(e.bind("test").status, status::ROK);
    for i in 0..n {
        check_replay(&mut e, i, &keys, 1);
        check_rfm(&mut e, i, &keys, 0x1619, 2);
    }
    drop(e);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store that fails: the submit is answered ESME_RSYSERR and no PoR is sent (nothing is
/// acknowledged that was not saved).
#[test]
fn nothing_acknowledged_when_the_store_fails() {
    let keys = aes_keys();
    let closed = std::sync::Arc::new(Closable(std::sync::Mutex::new(None)));
    let mut e = Esme::connect(start_with(10, closed));
    assert_eq!(e.bind("test").status, status::ROK);
    e.send(submit("491700000003", rfm_iccid(&keys, 0x1619, 1)));
    assert_eq!(e.recv().unwrap().status, status::RSYSERR);
    let seq = e.send(Body::EnquireLink);
    let r = e.recv().unwrap();
    assert_eq!(
        (r.sequence, r.body),
        (seq, Body::EnquireLinkResp),
        "no PoR came first"
    );
}

/// At most 3 cards live: 10 cards get counter 1, 7 of them are parked on the way (their
/// state kept as a delta, the live card dropped); each comes back from its parked state (the
/// replayed counter 1 is refused, counter 2 accepted), and its PIN state and files are its
/// own (EF.ICCID read from each).
#[test]
fn parked_cards_come_back_with_their_state() {
    let keys = aes_keys();
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        fleet: FleetConfig {
            cards: 100,
            msisdn_base: BASE,
        },
        live_cards: 3,
        ..Default::default()
    };
    let s = Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).unwrap();
    let fleet = s.fleet();
    let a = s.local_addr().unwrap();
    std::thread::spawn(move || s.serve());
    let mut e = Esme::connect(a);
    assert_eq!(e.bind("test").status, status::ROK);
    for i in 0..10 {
        check_rfm(&mut e, i, &keys, 0x1619, 1);
    }
    assert_eq!(fleet.touched(), 3);
    let (parked, bytes) = fleet.parked().unwrap();
    assert_eq!(parked, 7);
    assert!(
        bytes / parked < 4096,
        "{bytes} bytes for {parked} parked cards"
    );
    for i in 0..10 {
        check_replay(&mut e, i, &keys, 1);
        check_rfm(&mut e, i, &keys, 0x1619, 2);
    }
    assert_eq!(fleet.touched(), 3);
    assert_eq!(fleet.parked().unwrap().0, 10);
}
