//! `simota smsc`: start-up line with the MSISDN range, an ESME session against the built-in
//! card, and the default credentials refused off loopback.

use smsc::pdu::{status, Bind, Body, Pdu};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn recv(s: &mut TcpStream) -> Pdu {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut b = vec![0u8; u32::from_be_bytes(len) as usize];
    b[..4].copy_from_slice(&len);
    s.read_exact(&mut b[4..]).unwrap();
    Pdu::parse(&b).unwrap()
}

#[test]
fn smsc_serves_a_bound_esme() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args([
            "smsc",
            "--listen",
            &listen,
            "--cards",
            "10",
            "--msisdn-base",
            "4930000",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start simota smsc");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let _k = Killed(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(
        line.contains("10 cards, MSISDN 4930000..=4930009"),
        "{line}"
    );
    let mut s = TcpStream::connect(&listen).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let bind = Body::BindTransceiver(Bind {
        system_id: "test".into(),
        password: "test".into(),
        system_type: String::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    });
    s.write_all(&Pdu::new(1, bind).emit()).unwrap();
    assert_eq!(recv(&mut s).status, status::ROK);
    s.write_all(&Pdu::new(2, Body::EnquireLink).emit()).unwrap();
    let r = recv(&mut s);
    assert_eq!((r.body, r.sequence), (Body::EnquireLinkResp, 2));
}

#[test]
fn default_credentials_refused_off_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["smsc", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("accepted only on a loopback address"), "{e}");
}

fn aes_keys() -> ota::Keyset {
    ota::Keyset::new()
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
        .unwrap()
}

/// submit_sm of an RFM READ BINARY EF.ICCID with `counter` (SPI 1619: counter must be
/// higher) to `dest`; returns the PoR status byte.
fn rfm(s: &mut TcpStream, seq: u32, dest: &str, counter: u64) -> u8 {
    let keys = aes_keys();
    let p = ota::CommandPacket::new(
        ota::Spi::from_u16(0x1619),
        &keys,
        ota::Tar([0xB0, 0, 0]),
        ota::Counter::new(counter).unwrap(),
        apdu::hex::decode("00A4000C022FE2 00B000000A").unwrap(),
    )
    .seal(&keys)
    .unwrap();
    let ud = ota::sms::split_command(&p, ota::sms::ConcatRef::Eight(1))
        .unwrap()
        .remove(0);
    let m = smsc::pdu::ShortMessage {
        source_addr: "12".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: dest.into(),
        esm_class: smsc::pdu::ESM_UDHI,
        protocol_id: 0x7F,
        data_coding: 0xF6,
        short_message: ud,
        ..Default::default()
    };
    s.write_all(&Pdu::new(seq, Body::SubmitSm(m)).emit())
        .unwrap();
    assert_eq!(recv(s).status, status::ROK);
    let Body::DeliverSm(d) = recv(s).body else {
        panic!("no PoR")
    };
    let por = ota::ResponsePacket::open(d.payload(), ota::PorSecurity::NONE, &keys)
        .or_else(|_| {
            ota::ResponsePacket::open(
                d.payload(),
                ota::Spi::from_u16(0x1619).por_security(),
                &keys,
            )
        })
        .unwrap();
    por.status.to_byte()
}

fn start_persistent(dir: &std::path::Path) -> (Killed, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["smsc", "--listen", &listen, "--cards", "100", "--state"])
        .arg(dir)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start simota smsc");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("state "), "{line}");
    (Killed(child), listen)
}

fn bound(listen: &str) -> TcpStream {
    let mut s = TcpStream::connect(listen).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let bind = Body::BindTransceiver(Bind {
        system_id: "test".into(),
        password: "test".into(),
        system_type: String::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    });
    s.write_all(&Pdu::new(1, bind).emit()).unwrap();
    assert_eq!(recv(&mut s).status, status::ROK);
    s
}

/// `simota smsc --state DIR` killed with SIGKILL right after its last PoR: the restarted
/// process refuses every acknowledged counter again and accepts the next one.
#[test]
fn smsc_state_survives_kill_9() {
    let dir = std::env::temp_dir().join(format!("simota-smsc-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cards = ["491700000000", "491700000007", "491700000099"];
    {
        let (mut child, listen) = start_persistent(&dir);
        let mut s = bound(&listen);
        let mut seq = 2;
        for c in 1..=3u64 {
            for d in cards {
                assert_eq!(rfm(&mut s, seq, d, c), 0x00, "{d} counter {c}");
                seq += 1;
            }
        }
        // SIGKILL (Child::kill), no clean shutdown.
        child.0.kill().unwrap();
        child.0.wait().unwrap();
    }
    let (_child, listen) = start_persistent(&dir);
    let mut s = bound(&listen);
    let mut seq = 2;
    for d in cards {
        assert_eq!(rfm(&mut s, seq, d, 3), 0x02, "{d}: counter 3 replayed");
        assert_eq!(rfm(&mut s, seq + 1, d, 4), 0x00, "{d}: counter 4");
        seq += 2;
    }
    // An untouched card starts from the profile's counter.
    assert_eq!(rfm(&mut s, seq, "491700000050", 1), 0x00);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--keys FILE`: a bad cell is refused before listening, naming file, line and column
/// (exit 2, no key digits shown); a good file is counted in the start-up line.
#[test]
fn smsc_keyfile_checked_at_start() {
    let dir = std::env::temp_dir().join(format!("simota-smsc-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "INDEX,KVN,KIC,KID\n1,1,00112233445566778899AABBCCDDEEFF,00112233445566778899AABBCCDDEEQQ\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["smsc", "--listen", "127.0.0.1:0", "--keys"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains(&format!("--keys {}:2:4: KID: not hex", bad.display())),
        "{e}"
    );
    assert!(!e.contains("EEQQ"), "{e}");
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "MSISDN,KVN,KIC,KID\n4930003,1,00112233445566778899AABBCCDDEEFF,00112233445566778899AABBCCDDEEFF\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["smsc", "--listen", "127.0.0.1:0", "--cards", "10"])
        .args(["--msisdn-base", "4930000", "--keys"])
        .arg(&good)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let _k = Killed(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("; own OTA keys for 1 cards"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An OTA platform talking to the WPKI applet of card 4 through `simota smsc`: the request
/// (secured for the applet's TAR, PoR by SEND SHORT MESSAGE) opens a dialogue on the card's
/// phone (PIN activation: GET INPUT); the phone's user does not answer, and the applet's
/// answer comes back as a deliver_sm from the card's MSISDN, a WPKI answer to that request.
#[test]
fn smsc_wpki_answer_comes_back_from_the_cards_msisdn() {
    use rand_chacha::rand_core::SeedableRng;
    struct Smpp<'a> {
        s: &'a mut TcpStream,
        seq: u32,
        from: Vec<String>,
    }
    impl wpki::client::Exchange for Smpp<'_> {
        fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, wpki::client::ClientError> {
            let keys = aes_keys();
            self.seq += 1;
            let p = ota::CommandPacket::new(
                ota::Spi::from_u16(0x1639),
                &keys,
                ota::Tar(wpki::client::DEFAULT_TAR),
                ota::Counter::new(u64::from(self.seq)).unwrap(),
                msg.to_vec(),
            )
            .seal(&keys)
            .unwrap();
            let uds =
                ota::sms::split_command(&p, ota::sms::ConcatRef::Eight(self.seq as u8)).unwrap();
            for ud in uds {
                let m = smsc::pdu::ShortMessage {
                    source_addr: "12".into(),
                    destination_addr: "4930004".into(),
                    esm_class: smsc::pdu::ESM_UDHI,
                    protocol_id: 0x7F,
                    data_coding: 0xF6,
                    short_message: ud,
                    ..Default::default()
                };
                self.s
                    .write_all(&Pdu::new(self.seq, Body::SubmitSm(m)).emit())
                    .unwrap();
                assert_eq!(recv(self.s).status, status::ROK);
            }
            let Body::DeliverSm(d) = recv(self.s).body else {
                panic!("no answer")
            };
            self.from.push(d.source_addr.clone());
            let por = ota::ResponsePacket::open(
                d.payload(),
                ota::Spi::from_u16(0x1639).por_security(),
                &keys,
            )
            .unwrap();
            Ok(por.data)
        }
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["smsc", "--listen", &listen, "--cards", "10"])
        .args(["--msisdn-base", "4930000"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let _k = Killed(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let mut s = TcpStream::connect(&listen).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let bind = Body::BindTransceiver(Bind {
        system_id: "test".into(),
        password: "test".into(),
        system_type: String::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    });
    s.write_all(&Pdu::new(1, bind).emit()).unwrap();
    assert_eq!(recv(&mut s).status, status::ROK);
    let mut ex = Smpp {
        s: &mut s,
        seq: 1,
        from: Vec::new(),
    };
    let mut client = wpki::client::Client::new(None, 7);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let mut r = wpki::protocol::Request::new(0, wpki::protocol::OpCode::Pin);
    r.group = Some(0);
    r.pin_op = Some(wpki::protocol::PinOp::Activate);
    let a = client.call_raw(&mut ex, r, &mut rng).unwrap();
    assert_eq!(a.id, 7, "{a:?}");
    assert_ne!(a.result, wpki::protocol::ResultCode::Ok, "{a:?}");
    assert_eq!(ex.from, ["4930004"]);
}
