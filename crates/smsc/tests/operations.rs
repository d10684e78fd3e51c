//! submit_multi, data_sm, query_sm, generic_nack (SMPP 3.4 §4.5, §4.7, §4.8, §4.3), sar_*
//! and UDH concatenation, and MO short messages from cards, over loopback TCP.

use ota::sms::{split_command, ConcatRef};
use ota::{ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Keyset, ResponsePacket};
use ota::{Spi, Tar};
use smsc::fleet::{profile_factory, CardFactory};
use smsc::pdu::{self, state, status, tag, Bind, Body, DestAddress, Pdu, ShortMessage, Tlv};
use smsc::pdu::{DataSm, QuerySm, SubmitMulti, UnsuccessSme, ESM_UDHI};
use smsc::{CardIdentity, FleetConfig, Server, ServerConfig};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const BASE: u64 = 491_700_000_000;

fn start_with(factory: CardFactory) -> SocketAddr {
    start_config(factory, ServerConfig::default())
}

fn start_config(factory: CardFactory, base: ServerConfig) -> SocketAddr {
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        fleet: FleetConfig {
            cards: 100,
            msisdn_base: BASE,
        },
        ..base
    };
    let s = Server::bind(cfg, factory).unwrap();
    let a = s.local_addr().unwrap();
    std::thread::spawn(move || s.serve());
    a
}

fn start() -> SocketAddr {
    start_with(profile_factory(uicc::Profile::default_profile()))
}

struct Esme {
    s: TcpStream,
    seq: u32,
}

impl Esme {
    fn connect(a: SocketAddr) -> Esme {
        let s = TcpStream::connect(a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Esme { s, seq: 0 }
    }
    fn bound(a: SocketAddr) -> Esme {
        let mut e = Esme::connect(a);
        e.send(Body::BindTransceiver(Bind {
            system_id: "test".into(),
            password: "test".into(),
            system_type: String::new(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
        }));
        assert_eq!(e.recv().status, status::ROK);
        e
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
    fn recv(&mut self) -> Pdu {
        let mut len = [0u8; 4];
        self.s.read_exact(&mut len).unwrap();
        let n = u32::from_be_bytes(len) as usize;
        let mut b = vec![0u8; n];
        b[..4].copy_from_slice(&len);
        self.s.read_exact(&mut b[4..]).unwrap();
        Pdu::parse(&b).unwrap()
    }
    /// Send `body` and return the answer, checking it is the answer to it.
    fn call(&mut self, body: Body) -> Pdu {
        let seq = self.send(body);
        let r = self.recv();
        assert_eq!(r.sequence, seq, "{r:?}");
        r
    }
    /// The next PDU, which must be an enquire_link_resp: nothing else came first.
    fn nothing_pending(&mut self) {
        assert_eq!(self.call(Body::EnquireLink).body, Body::EnquireLinkResp);
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

const SPI: u16 = 0x1619;

/// A command packet for TAR B00000 (RFM) with these APDUs, secured with `keys`.
fn packet(keys: &Keyset, counter: u64, apdus: &str) -> Vec<u8> {
    CommandPacket::new(
        Spi::from_u16(SPI),
        keys,
        Tar([0xB0, 0, 0]),
        Counter::new(counter).unwrap(),
        apdu::hex::decode(apdus).unwrap(),
    )
    .seal(keys)
    .unwrap()
}

const READ_ICCID: &str = "00A4000C022FE2 00B000000A";

fn one_sms(keys: &Keyset, counter: u64) -> Vec<u8> {
    let mut uds = split_command(&packet(keys, counter, READ_ICCID), ConcatRef::Eight(1)).unwrap();
    assert_eq!(uds.len(), 1);
    uds.remove(0)
}

fn sm(dest: &str, ud: Vec<u8>) -> ShortMessage {
    ShortMessage {
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
    }
}

fn msisdn(i: u64) -> String {
    (BASE + i).to_string()
}

fn iccid_bytes(i: u64) -> Vec<u8> {
    let d = CardIdentity::new(i, BASE).iccid;
    d.as_bytes()
        .chunks(2)
        .map(|c| ((c.get(1).map_or(0xF, |x| x - b'0')) << 4) | (c[0] - b'0'))
        .collect()
}

/// The PoR in `ud` opened with `keys`: its last response's status word and data.
fn por(ud: &[u8], keys: &Keyset) -> (u16, Vec<u8>) {
    let p = ResponsePacket::open(ud, Spi::from_u16(SPI).por_security(), keys).unwrap();
    assert_eq!(p.status, ota::ResponseStatus::PorOk, "{p:?}");
    let c = p.compact_response().unwrap();
    (c.sw.0, c.data)
}

/// A PoR deliver_sm from card `i` with EF.ICCID in it.
fn expect_iccid_por(e: &mut Esme, i: u64, keys: &Keyset) {
    let d = e.recv();
    let Body::DeliverSm(m) = d.body else {
        panic!("{d:?}")
    };
    assert_eq!(
        (m.source_addr.as_str(), m.destination_addr.as_str()),
        (msisdn(i).as_str(), "12")
    );
    assert_eq!((m.esm_class, m.protocol_id), (ESM_UDHI, 0x7F));
    assert_eq!(por(m.payload(), keys), (0x9000, iccid_bytes(i)));
    e.send(Body::DeliverSmResp);
}

/// submit_multi to two cards, an MSISDN outside the fleet and a distribution list: the two
/// cards are reached (a PoR from each), the other two are listed in unsuccess_sme with
/// ESME_RINVDSTADR and ESME_RINVDLNAME; the message is DELIVERED for query_sm.
#[test]
fn submit_multi_reaches_each_card_and_lists_the_failures() {
    let keys = aes_keys();
    let a = start();
    let mut e = Esme::bound(a);
    let sme = |i: u64| DestAddress::Sme {
        ton: 1,
        npi: 1,
        addr: msisdn(i),
    };
    let mut message = sm("", one_sms(&keys, 1));
    message.dest_addr_ton = 0;
    message.dest_addr_npi = 0;
    let multi = SubmitMulti {
        dests: vec![
            sme(10),
            sme(100),
            DestAddress::DistributionList("all-cards".into()),
            sme(11),
        ],
        message,
    };
    let r = e.call(Body::SubmitMulti(multi.clone()));
    let Body::SubmitMultiResp {
        message_id,
        unsuccess,
    } = r.body
    else {
        panic!("{r:?}")
    };
    assert_eq!(r.status, status::ROK);
    assert!(!message_id.is_empty());
    assert_eq!(
        unsuccess,
        vec![
            UnsuccessSme {
                ton: 1,
                npi: 1,
                addr: msisdn(100),
                error: status::RINVDSTADR
            },
            UnsuccessSme {
                ton: 0,
                npi: 0,
                addr: "all-cards".into(),
                error: status::RINVDLNAME
            },
        ]
    );
    expect_iccid_por(&mut e, 10, &keys);
    expect_iccid_por(&mut e, 11, &keys);
    let q = e.call(Body::QuerySm(QuerySm {
        message_id,
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "12".into(),
    }));
    let Body::QuerySmResp(q) = q.body else {
        panic!("{q:?}")
    };
    assert_eq!((q.message_state, q.error_code), (state::DELIVERED, 0));
    // Bad input: no destination, 255 destinations, a bad esm_class, a bad dest_flag.
    for n in [0usize, 255] {
        let mut m = multi.clone();
        m.dests = vec![sme(10); n];
        let r = e.call(Body::SubmitMulti(m));
        assert_eq!(r.status, status::RINVNUMDESTS, "{n} dests");
    }
    let mut m = multi.clone();
    m.message.esm_class = 0;
    assert_eq!(e.call(Body::SubmitMulti(m)).status, status::RINVESMCLASS);
    let mut b = Pdu::new(77, Body::SubmitMulti(multi.clone())).emit();
    b[pdu::HEADER_LEN + 7] = 9; // the first dest_flag
    e.raw(&b);
    let r = e.recv();
    assert_eq!(
        (r.body, r.sequence, r.status),
        (Body::GenericNack, 77, status::RINVDESTFLAG)
    );
    e.nothing_pending();
    // Before bind: ESME_RINVBNDSTS.
    let mut e2 = Esme::connect(a);
    assert_eq!(e2.call(Body::SubmitMulti(multi)).status, status::RINVBNDSTS);
}

fn data_sm(dest: &str, payload: Vec<u8>) -> DataSm {
    DataSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "12".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: dest.into(),
        esm_class: ESM_UDHI,
        data_coding: 0xF6,
        tlvs: vec![Tlv {
            tag: tag::MESSAGE_PAYLOAD,
            value: payload,
        }],
        ..Default::default()
    }
}

/// data_sm with the command in message_payload: data_sm_resp with a message_id, and the PoR
/// back as a data_sm (message_payload) from the card; bad input answered per §4.7.2.
#[test]
fn data_sm_carries_the_command_and_the_por_comes_back_as_data_sm() {
    let keys = aes_keys();
    let mut e = Esme::bound(start());
    let r = e.call(Body::DataSm(data_sm(&msisdn(20), one_sms(&keys, 1))));
    assert_eq!(r.status, status::ROK);
    assert!(matches!(r.body, Body::DataSmResp { ref message_id, .. } if !message_id.is_empty()));
    let d = e.recv();
    let Body::DataSm(p) = d.body else {
        panic!("{d:?}")
    };
    assert_eq!(
        (p.source_addr.as_str(), p.destination_addr.as_str()),
        (msisdn(20).as_str(), "12")
    );
    assert_eq!(p.esm_class, ESM_UDHI);
    assert_eq!(por(p.payload(), &keys), (0x9000, iccid_bytes(20)));
    e.send(Body::DataSmResp {
        message_id: String::new(),
        tlvs: vec![],
    });
    // An MSISDN outside the fleet, no payload, no UDHI.
    let r = e.call(Body::DataSm(data_sm(&msisdn(100), one_sms(&keys, 2))));
    assert_eq!(r.status, status::RINVDSTADR);
    let r = e.call(Body::DataSm(data_sm(&msisdn(20), vec![])));
    assert_eq!(r.status, status::RINVMSGLEN);
    let mut no_udhi = data_sm(&msisdn(20), one_sms(&keys, 2));
    no_udhi.esm_class = 0;
    assert_eq!(e.call(Body::DataSm(no_udhi)).status, status::RINVESMCLASS);
    // A truncated data_sm: generic_nack, the session lives on.
    let mut b = Pdu::new(50, Body::DataSm(data_sm(&msisdn(20), vec![1]))).emit();
    b.truncate(30);
    b[..4].copy_from_slice(&30u32.to_be_bytes());
    e.raw(&b);
    let r = e.recv();
    assert_eq!(
        (r.body, r.sequence, r.status),
        (Body::GenericNack, 50, status::RINVCMDLEN)
    );
    e.nothing_pending();
}

fn query(id: &str, source: &str) -> Body {
    Body::QuerySm(QuerySm {
        message_id: id.into(),
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: source.into(),
    })
}

/// query_sm of a message the server issued: DELIVERED, its final_date, error 0; an unknown
/// id, a malformed id or another source_addr: ESME_RQUERYFAIL.
#[test]
fn query_sm_reports_the_state_of_issued_messages_only() {
    let keys = aes_keys();
    let mut e = Esme::bound(start());
    let r = e.call(Body::SubmitSm(sm(&msisdn(30), one_sms(&keys, 1))));
    let Body::SubmitSmResp(mid) = r.body else {
        panic!("{r:?}")
    };
    expect_iccid_por(&mut e, 30, &keys);
    let r = e.call(query(&mid, "12"));
    assert_eq!(r.status, status::ROK);
    let Body::QuerySmResp(q) = r.body else {
        panic!("{r:?}")
    };
    assert_eq!(q.message_id, mid);
    assert_eq!((q.message_state, q.error_code), (state::DELIVERED, 0));
    assert_eq!(q.final_date.len(), 16, "{:?}", q.final_date);
    assert!(q.final_date.ends_with("000+"), "{:?}", q.final_date);
    for (id, src) in [
        ("ffffff", "12"),
        ("not-hex", "12"),
        ("", "12"),
        (mid.as_str(), "13"),
    ] {
        let r = e.call(query(id, src));
        assert_eq!(r.status, status::RQUERYFAIL, "{id:?} from {src:?}");
        assert!(matches!(r.body, Body::QuerySmResp(_)));
    }
    // Before bind.
    let mut e2 = Esme::connect(start());
    assert_eq!(e2.call(query(&mid, "12")).status, status::RINVBNDSTS);
}

/// Operations the server does not serve (cancel_sm, replace_sm, an unassigned id) get
/// generic_nack ESME_RINVCMDID with their sequence_number (§4.3, §5.1.3); a deliver_sm from
/// the ESME too; the session lives on.
#[test]
fn unknown_operations_get_generic_nack() {
    let mut e = Esme::bound(start());
    for id in [
        0x0000_0008u32,
        0x0000_0007,
        0x0000_0102,
        0x0000_0077,
        0x0001_0000,
    ] {
        let r = e.call(Body::Other {
            command_id: id,
            body: vec![0, 0],
        });
        assert_eq!(
            (r.body, r.status),
            (Body::GenericNack, status::RINVCMDID),
            "{id:#X}"
        );
    }
    let r = e.call(Body::DeliverSm(sm("12", vec![1])));
    assert_eq!((r.body, r.status), (Body::GenericNack, status::RINVCMDID));
    e.nothing_pending();
}

/// 36 SELECT EF.ICCID and a READ BINARY: a command packet that needs 3 SMS.
fn big_packet(keys: &Keyset, counter: u64) -> Vec<u8> {
    let apdus = format!("{}{READ_ICCID}", "00A4000C022FE2".repeat(36));
    packet(keys, counter, &apdus)
}

/// Sends the segments one submit_sm each: every one is acknowledged, the PoR comes once,
/// after the last one, and it is the answer to the whole packet.
fn send_segments(e: &mut Esme, i: u64, keys: &Keyset, segments: Vec<ShortMessage>) {
    let n = segments.len();
    assert_eq!(n, 3);
    for (k, m) in segments.into_iter().enumerate() {
        let r = e.call(Body::SubmitSm(m));
        assert_eq!(r.status, status::ROK, "segment {}: {r:?}", k + 1);
        if k + 1 < n {
            e.nothing_pending();
        }
    }
    expect_iccid_por(e, i, keys);
    e.nothing_pending();
}

/// A command packet too big for one SMS, in 3 segments, both ways an ESME may send them:
/// with the concatenation IE in each segment's UDH (forwarded as is), and with sar_* TLVs
/// (the SMSC puts the IE into the UDH the phone gets). The card reassembles; one PoR.
#[test]
fn three_segments_by_udh_and_by_sar_tlvs_give_one_por() {
    let keys = aes_keys();
    let mut e = Esme::bound(start());
    // UDH concatenation (IE 00): each TP-UD as split for the air interface.
    let uds = split_command(&big_packet(&keys, 1), ConcatRef::Eight(0x42)).unwrap();
    let segs = uds.into_iter().map(|ud| sm(&msisdn(40), ud)).collect();
    send_segments(&mut e, 40, &keys, segs);
    // sar_* TLVs, reference 0x0142 (the phone gets IE 08): the ESME sends the segments
    // without the concatenation IE, later ones without a UDH (UDHI clear).
    let reference = 0x0142u16;
    let uds = split_command(&big_packet(&keys, 1), ConcatRef::Sixteen(reference)).unwrap();
    let total = uds.len() as u8;
    let mut segs = Vec::new();
    for (k, ud) in uds.iter().enumerate() {
        let (mut udh, at) = ota::sms::Udh::parse(ud).unwrap();
        udh.ies.retain(|ie| ie.iei != ota::sms::udh::IEI_CONCAT_16);
        let mut m = sm(&msisdn(41), Vec::new());
        if udh.ies.is_empty() {
            m.esm_class = 0;
            m.short_message = ud[at..].to_vec();
        } else {
            m.short_message = udh.emit().unwrap();
            m.short_message.extend_from_slice(&ud[at..]);
        }
        let tlv = |tag: u16, value: Vec<u8>| Tlv { tag, value };
        m.tlvs = vec![
            tlv(tag::SAR_MSG_REF_NUM, reference.to_be_bytes().to_vec()),
            tlv(tag::SAR_TOTAL_SEGMENTS, vec![total]),
            tlv(tag::SAR_SEGMENT_SEQNUM, vec![k as u8 + 1]),
        ];
        segs.push(m);
    }
    let mut bad = segs[1].clone();
    bad.tlvs.remove(0);
    assert_eq!(e.call(Body::SubmitSm(bad)).status, status::RMISSINGOPTPARAM);
    send_segments(&mut e, 41, &keys, segs);
}

/// A command packet too big for one SMS in one message_payload (submit_sm, and data_sm):
/// the SMSC splits it into a concatenated SMS (`70 00` in the first segment's UDH, IE 00 in
/// each) as a network does; the card reassembles and answers one PoR. User data that would
/// need more than 255 segments, or already holds a concatenation IE, is ESME_RINVMSGLEN.
#[test]
fn a_long_message_payload_is_split_into_segments() {
    let keys = aes_keys();
    let mut e = Esme::bound(start());
    let whole = |counter| {
        let p = big_packet(&keys, counter);
        let mut ud = vec![0x02, 0x70, 0x00];
        ud.extend_from_slice(&p);
        assert!(ud.len() > 280, "{} bytes: three segments", ud.len());
        ud
    };
    let mut m = sm(&msisdn(42), Vec::new());
    m.tlvs = vec![Tlv {
        tag: tag::MESSAGE_PAYLOAD,
        value: whole(1),
    }];
    let r = e.call(Body::SubmitSm(m));
    assert_eq!(r.status, status::ROK, "{r:?}");
    expect_iccid_por(&mut e, 42, &keys);
    e.nothing_pending();
    // data_sm: the PoR comes back as data_sm.
    let r = e.call(Body::DataSm(data_sm(&msisdn(42), whole(2))));
    assert_eq!(r.status, status::ROK, "{r:?}");
    let d = e.recv();
    let Body::DataSm(p) = d.body else {
        panic!("{d:?}")
    };
    assert_eq!(por(p.payload(), &keys), (0x9000, iccid_bytes(42)));
    e.send(Body::DataSmResp {
        message_id: String::new(),
        tlvs: vec![],
    });
    // 256 segments' worth: refused, nothing delivered.
    let mut huge = vec![0x02, 0x70, 0x00];
    huge.extend_from_slice(&[0xAB; 134 * 255]);
    let r = e.call(Body::DataSm(data_sm(&msisdn(42), huge)));
    assert_eq!(r.status, status::RINVMSGLEN);
    // A long payload whose UDH already says it is a segment.
    let mut seg = vec![0x05, 0x00, 0x03, 0x01, 0x02, 0x01];
    seg.extend_from_slice(&[0xAB; 200]);
    let r = e.call(Body::DataSm(data_sm(&msisdn(42), seg)));
    assert_eq!(r.status, status::RINVMSGLEN);
    e.nothing_pending();
}

/// The window (SMPP 3.4 §2.6): with 3 PoR deliver_sm unanswered, the next submit_sm gets
/// ESME_RTHROTTLED and its card is not touched (the same counter is accepted once the ESME
/// has answered); a generic_nack of a deliver_sm counts as its answer.
#[test]
fn unanswered_deliveries_beyond_the_window_throttle_new_messages() {
    let keys = aes_keys();
    let a = start_config(
        profile_factory(uicc::Profile::default_profile()),
        ServerConfig {
            window: 3,
            ..Default::default()
        },
    );
    let mut e = Esme::bound(a);
    let mut pending = Vec::new();
    for i in 0..3 {
        let r = e.call(Body::SubmitSm(sm(&msisdn(60 + i), one_sms(&keys, 1))));
        assert_eq!(r.status, status::ROK);
        let d = e.recv();
        assert!(matches!(d.body, Body::DeliverSm(_)), "{d:?}");
        pending.push(d.sequence);
    }
    // Three unanswered: throttled, for submit_sm, data_sm and submit_multi alike.
    let r = e.call(Body::SubmitSm(sm(&msisdn(63), one_sms(&keys, 1))));
    assert_eq!(
        (r.status, &r.body),
        (status::RTHROTTLED, &Body::SubmitSmResp(String::new()))
    );
    let r = e.call(Body::DataSm(data_sm(&msisdn(63), one_sms(&keys, 1))));
    assert_eq!(r.status, status::RTHROTTLED);
    e.nothing_pending();
    // One answered (a deliver_sm_resp), one nacked: two free places.
    let b = Pdu::new(pending[0], Body::DeliverSmResp).emit();
    e.raw(&b);
    let b = Pdu {
        status: status::RSYSERR,
        sequence: pending[1],
        body: Body::GenericNack,
    }
    .emit();
    e.raw(&b);
    // Card 63 was not touched: counter 1 is still new to it.
    let r = e.call(Body::SubmitSm(sm(&msisdn(63), one_sms(&keys, 1))));
    assert_eq!(r.status, status::ROK);
    expect_iccid_por(&mut e, 63, &keys);
    e.nothing_pending();
}

/// Two cards with their own keys from a keyfile (pySim's card_key_provider columns: ICCID,
/// KIC1, KID1, …): each answers its own keys and refuses the profile's (PoR status 05, the
/// command does not decipher); a card not in the file keeps the profile's.
#[test]
fn cards_in_the_keyfile_use_their_own_keys() {
    let fleet = FleetConfig {
        cards: 100,
        msisdn_base: BASE,
    };
    let base = uicc::Profile::default_profile();
    let (k5, k6) = (
        "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF",
        "B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF",
    );
    let id = |i| CardIdentity::new(i, BASE).iccid;
    let csv = format!(
        "ICCID,IMSI,KIC1,KID1,KIK1\n{},001010000000005,{k5},{k5},\n{},001010000000006,{k6},{k6},\n",
        id(5),
        id(6)
    );
    let keys = smsc::KeyFile::parse_csv(&csv, "keys.csv".as_ref(), fleet, &base).unwrap();
    assert_eq!(keys.cards(), 2);
    let factory = smsc::fleet::profile_factory_with_keys(base, Some(std::sync::Arc::new(keys)));
    let mut e = Esme::bound(start_with(factory));
    let own = |hex: &str| {
        let k = apdu::hex::decode(hex).unwrap();
        Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &k, 1)
            .unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &k, 1)
            .unwrap()
    };
    for (i, hex) in [(5, k5), (6, k6)] {
        let mine = own(hex);
        // The profile's keys: refused.
        e.call(Body::SubmitSm(sm(&msisdn(i), one_sms(&aes_keys(), 1))));
        let d = e.recv();
        let Body::DeliverSm(m) = d.body else {
            panic!("{d:?}")
        };
        let p = ResponsePacket::open(m.payload(), ota::PorSecurity::NONE, &mine).unwrap();
        assert_eq!(p.status.to_byte(), 0x05, "card {i}: {p:?}");
        // Its own keys: accepted.
        e.call(Body::SubmitSm(sm(&msisdn(i), one_sms(&mine, 1))));
        expect_iccid_por(&mut e, i, &mine);
    }
    e.call(Body::SubmitSm(sm(&msisdn(7), one_sms(&aes_keys(), 1))));
    expect_iccid_por(&mut e, 7, &aes_keys());
}

/// A scripted card for what the built-in cards never do: card 0 is busy (`9300`); card 1
/// answers an SMS-PP download with two SEND SHORT MESSAGE commands, an MO text message to
/// `5555` and the PoR to `12`; card 2 answers a data download error (`6200` with the PoR).
struct Scripted {
    index: u64,
    queue: std::collections::VecDeque<Vec<u8>>,
}

const POR: &[u8] = &[
    2, 0x71, 0, 0, 0x0E, 0x0A, 0xB0, 0, 0, 0, 0, 0, 0, 1, 0, 0x01, 0x90, 0,
];

fn send_sms(n: u8, to: &str, udhi: bool, ud: &[u8]) -> Vec<u8> {
    let tpdu = ota::sms::SmsSubmit {
        rd: false,
        srr: false,
        udhi,
        rp: false,
        mr: n,
        da: ota::sms::SmsAddress::digits(1, 1, to).unwrap(),
        pid: if udhi { 0x7F } else { 0 },
        dcs: ota::sms::Dcs(if udhi { 0xF6 } else { 0x04 }),
        vp: ota::sms::ValidityPeriod::None,
        udl: ud.len() as u8,
        ud: ud.to_vec(),
    }
    .emit()
    .unwrap();
    ota::cat::ProactiveCommand::new(
        n,
        0,
        ota::cat::Command::SendShortMessage(ota::cat::proactive::SendShortMessage::new(tpdu)),
    )
    .emit()
}

impl Scripted {
    fn pending(&self, data: Vec<u8>) -> Vec<u8> {
        let mut v = data;
        match self.queue.front() {
            Some(c) => v.extend_from_slice(&[0x91, c.len() as u8]),
            None => v.extend_from_slice(&[0x90, 0]),
        }
        v
    }
}

impl transport::Transport for Scripted {
    fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, transport::TransportError> {
        Ok(match c.get(1) {
            Some(0xC2) => match self.index {
                0 => vec![0x93, 0],
                1 => {
                    self.queue.push_back(send_sms(1, "5555", false, b"hello"));
                    self.queue.push_back(send_sms(2, "12", true, POR));
                    self.pending(vec![])
                }
                _ => [&POR[3..], &[0x62, 0][..]].concat(),
            },
            Some(0x12) => {
                let cmd = self.queue.pop_front().unwrap_or_default();
                [cmd, vec![0x90, 0]].concat()
            }
            _ => self.pending(vec![]),
        })
    }
    fn reset(&mut self, _: transport::ResetKind) -> Result<Vec<u8>, transport::TransportError> {
        Ok(self.atr())
    }
    fn atr(&self) -> Vec<u8> {
        vec![0x3B, 0]
    }
    fn name(&self) -> String {
        format!("scripted card {}", self.index)
    }
}

fn scripted() -> CardFactory {
    std::sync::Arc::new(|id: &CardIdentity, _store: Box<dyn uicc::Store>| {
        Ok(Box::new(Scripted {
            index: id.index,
            queue: Default::default(),
        }) as Box<dyn transport::Transport + Send>)
    })
}

/// An MO short message a card sends with SEND SHORT MESSAGE (not its PoR) reaches the bound
/// ESME as a deliver_sm from the card's MSISDN to the TP-DA, with TP-PID/DCS/UD as sent; the
/// PoR still comes once, to the submitter's source_addr.
#[test]
fn mo_sms_from_a_card_is_delivered_from_its_msisdn() {
    let mut e = Esme::bound(start_with(scripted()));
    let r = e.call(Body::SubmitSm(sm(&msisdn(1), vec![2, 0x70, 0, 1, 2])));
    assert_eq!(r.status, status::ROK);
    let Body::DeliverSm(p) = e.recv().body else {
        panic!("no PoR")
    };
    assert_eq!(
        (p.source_addr.as_str(), p.destination_addr.as_str()),
        (msisdn(1).as_str(), "12")
    );
    assert_eq!(p.short_message, POR);
    e.send(Body::DeliverSmResp);
    let Body::DeliverSm(mo) = e.recv().body else {
        panic!("no MO SMS")
    };
    assert_eq!(mo.source_addr, msisdn(1));
    assert_eq!((mo.source_addr_ton, mo.source_addr_npi), (1, 1));
    assert_eq!(
        (mo.dest_addr_ton, mo.destination_addr.as_str()),
        (1, "5555")
    );
    assert_eq!((mo.esm_class, mo.protocol_id, mo.data_coding), (0, 0, 0x04));
    assert_eq!(mo.short_message, b"hello");
    e.send(Body::DeliverSmResp);
    e.nothing_pending();
}

/// A card that answers busy (`9300`) or a data download error (`6200`): the message is
/// UNDELIVERABLE with the TP-FCS as error_code (query_sm) and in the receipt
/// (`stat:UNDELIV err:212` / `213`); a PoR in the error answer is still forwarded.
#[test]
fn undeliverable_messages_are_reported_as_such() {
    let mut e = Esme::bound(start_with(scripted()));
    for (i, fcs, por) in [(0u64, 0xD4u8, false), (2, 0xD5, true)] {
        let mut m = sm(&msisdn(i), vec![2, 0x70, 0, 1, 2]);
        m.registered_delivery = 0x02; // receipt on failure only
        let r = e.call(Body::SubmitSm(m));
        let Body::SubmitSmResp(mid) = r.body else {
            panic!("{r:?}")
        };
        if por {
            let Body::DeliverSm(p) = e.recv().body else {
                panic!("no PoR")
            };
            assert_eq!(p.short_message, &POR[3..]);
        }
        let Body::DeliverSm(dr) = e.recv().body else {
            panic!("no receipt")
        };
        let text = String::from_utf8(dr.short_message).unwrap();
        assert!(text.contains(" dlvrd:000 "), "{text}");
        assert!(
            text.contains(&format!(" stat:UNDELIV err:{fcs:03} ")),
            "{text}"
        );
        assert_eq!(dr.tlvs.iter().find(|t| t.tag == 0x0427).unwrap().value, [5]);
        let Body::QuerySmResp(q) = e.call(query(&mid, "12")).body else {
            panic!()
        };
        assert_eq!((q.message_state, q.error_code), (state::UNDELIVERABLE, fcs));
    }
    e.nothing_pending();
}
