//! End-to-end: the terminal (ME simulator) drives the emulated UICC (`uicc::Card` behind
//! `transport::Emulator`) through SIM Toolkit and OTA (TS 102 223, TS 102 225/226,
//! TS 31.111/31.115): RFM with every algorithm, PoR modes and paths, every error status with
//! the card state unchanged, counter modes, concatenation, RAM, the menu applet, and real-card
//! PoRs from the shared vectors decoded through the terminal's PoR path.

use apdu::hex::{decode as h, encode as hx};
use ota::remote::{ExpandedResponse, ExpandedScript, ScriptCommand, ScriptResponse};
use ota::sms::{SmsAddress, SmsDeliver, Timestamp};
use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CompactResponse, Counter, Keyset, PorSecurity,
    ResponsePacket, ResponseStatus, Spi, Tar,
};
use terminal::{OtaRequest, PorPath, PorReport, SmsPpOutcome, Terminal, UserAnswer};
use transport::{Emulator, Transport};
use uicc::{Card, NvState, Profile};

const AES_KIC: &str = "000102030405060708090A0B0C0D0E0F";
const AES_KID: &str = "101112131415161718191A1B1C1D1E1F";
const DES_KIC: &str = "0123456789ABCDEFFEDCBA9876543210";
const DES_KID: &str = "112233445566778899AABBCCDDEEFF00";

const RFM_MF: Tar = Tar([0xB0, 0x00, 0x00]);
const RFM_USIM: Tar = Tar([0xB0, 0x00, 0x01]);
const ISD: Tar = Tar([0x00, 0x00, 0x00]);

fn keys(kic: (CipherAlgorithm, &str), kid: (ChecksumAlgorithm, &str), kvn: u8) -> Keyset {
    Keyset::new()
        .with_kic(kic.0, &h(kic.1).unwrap(), kvn)
        .unwrap()
        .with_kid(kid.0, &h(kid.1).unwrap(), kvn)
        .unwrap()
}

fn aes() -> Keyset {
    keys(
        (CipherAlgorithm::AesCbc, AES_KIC),
        (ChecksumAlgorithm::AesCmac, AES_KID),
        1,
    )
}

fn tdes() -> Keyset {
    keys(
        (CipherAlgorithm::TripleDes2Cbc, DES_KIC),
        (ChecksumAlgorithm::TripleDes2Mac, DES_KID),
        2,
    )
}

/// The default profile with extra TOML appended.
fn profile_with(extra: &str) -> Profile {
    let text = format!("{}\n{}", uicc::profile::DEFAULT_PROFILE_TOML, extra);
    Profile::from_toml_str(&text).unwrap()
}

fn emulator(p: Profile) -> Emulator {
    Emulator::new(Card::new(p).unwrap())
}

/// A fresh default card and a terminal that has sent its TERMINAL PROFILE.
fn setup() -> (Emulator, Terminal) {
    setup_with(Profile::default_profile())
}

fn setup_with(p: Profile) -> (Emulator, Terminal) {
    let mut e = emulator(p);
    let mut t = Terminal::default();
    t.terminal_profile(&mut e).unwrap();
    (e, t)
}

fn req<'a>(keys: &'a Keyset, spi: u16, tar: Tar, cntr: u64, data: Vec<u8>) -> OtaRequest<'a> {
    OtaRequest {
        keys,
        spi: Spi::from_u16(spi),
        tar,
        counter: Counter::new(cntr).unwrap(),
        data,
        concat_ref: 7,
    }
}

fn deliver(e: &mut Emulator, t: &mut Terminal, r: &OtaRequest) -> SmsPpOutcome {
    t.deliver_sms_pp(e, r).unwrap()
}

fn por(o: &SmsPpOutcome) -> ResponsePacket {
    o.por
        .as_ref()
        .expect("a PoR")
        .packet
        .clone()
        .expect("PoR decodes")
}

fn status(o: &SmsPpOutcome) -> ResponseStatus {
    por(o).status
}

fn nv(e: &mut Emulator) -> NvState {
    e.card().nv_state().clone()
}

fn tx(e: &mut Emulator, apdu: &str) -> (Vec<u8>, u16) {
    let r = e.transmit(&h(apdu).unwrap()).unwrap();
    let n = r.len();
    (
        r[..n - 2].to_vec(),
        u16::from_be_bytes([r[n - 2], r[n - 1]]),
    )
}

/// Send one TP-UD (with its UDH) in an SMS-PP download ENVELOPE, with or without Le.
fn send_ud(e: &mut Emulator, ud: &[u8], le: bool) -> (Vec<u8>, u16) {
    let oa = SmsAddress::digits(1, 1, "1234").unwrap();
    let tpdu = SmsDeliver::data_download(
        oa,
        Timestamp([0x42, 0x10, 0x10, 0, 0, 0, 0]),
        ud.to_vec(),
        true,
    )
    .unwrap()
    .emit()
    .unwrap();
    let d1 = ota::SmsPpDownload::new(tpdu).emit().unwrap();
    let mut apdu = vec![0x80, 0xC2, 0x00, 0x00, d1.len() as u8];
    apdu.extend_from_slice(&d1);
    if le {
        apdu.push(0x00);
    }
    let r = e.transmit(&apdu).unwrap();
    let n = r.len();
    (
        r[..n - 2].to_vec(),
        u16::from_be_bytes([r[n - 2], r[n - 1]]),
    )
}

/// The TP-UD (`02 70 00 …`) of a secured command packet.
fn command_ud(keys: &Keyset, spi: u16, tar: Tar, cntr: u64, data: &[u8]) -> Vec<u8> {
    let p = ota::CommandPacket::new(
        Spi::from_u16(spi),
        keys,
        tar,
        Counter::new(cntr).unwrap(),
        data.to_vec(),
    )
    .seal(keys)
    .unwrap();
    let mut ud = vec![0x02, 0x70, 0x00];
    ud.extend(p);
    ud
}

/// EF.SPN (ADF.USIM 6F46, 17 bytes, update ADM) read through the terminal's own APDUs.
fn read_spn(e: &mut Emulator) -> Vec<u8> {
    let (_, sw) = tx(e, "00A4080C047FF06F46");
    assert_eq!(sw, 0x9000);
    let (d, sw) = tx(e, "00B0000011");
    assert_eq!(sw, 0x9000);
    d
}

fn spn_script(value: &[u8]) -> Vec<u8> {
    let mut s = h("00A40004026F46").unwrap();
    s.extend_from_slice(&[0x00, 0xD6, 0x00, 0x00, value.len() as u8]);
    s.extend_from_slice(value);
    s.extend_from_slice(&h("00B0000011").unwrap());
    s
}

#[test]
fn rfm_update_and_read_with_every_algorithm() {
    let extra = r#"
[[ota.keyset]]
kvn = 3
kic = "0102030405060708 1112131415161718 2122232425262728"
kid = "3132333435363738 4142434445464748 5152535455565758"
kic_algorithm = "3des3"
kid_algorithm = "3des3-mac"

[[ota.keyset]]
kvn = 4
kic = "0123456789ABCDEF"
kid = "FEDCBA9876543210"
kic_algorithm = "des-cbc"
kid_algorithm = "des-mac"

[[ota.keyset]]
kvn = 5
kic = "0F1E2D3C4B5A6978"
kid = ""
kic_algorithm = "des-ecb"
kid_algorithm = "crc32"

[[ota.keyset]]
kvn = 6
kic = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
kid = ""
kic_algorithm = "aes-cbc"
kid_algorithm = "crc16"

[[ota.keyset]]
kvn = 7
kic = "000102030405060708090A0B0C0D0E0F1011121314151617"
kid = "000102030405060708090A0B0C0D0E0F1011121314151617"
kic_algorithm = "aes-cbc"
kid_algorithm = "aes-cmac"

[[ota.tar]]
tar = "B00002"
target = "rfm-adf"
adf = "3F00/7FF0"
"#;
    let (mut e, mut t) = setup_with(profile_with(extra));
    let cases: Vec<(Keyset, u16)> = vec![
        (aes(), 0x1619),
        (tdes(), 0x1619),
        (
            keys(
                (
                    CipherAlgorithm::TripleDes3Cbc,
                    "010203040506070811121314151617182122232425262728",
                ),
                (
                    ChecksumAlgorithm::TripleDes3Mac,
                    "313233343536373841424344454647485152535455565758",
                ),
                3,
            ),
            0x1619,
        ),
        (
            keys(
                (CipherAlgorithm::DesCbc, "0123456789ABCDEF"),
                (ChecksumAlgorithm::DesMac, "FEDCBA9876543210"),
                4,
            ),
            0x1619,
        ),
        (
            Keyset::new()
                .with_kic(CipherAlgorithm::DesEcb, &h("0F1E2D3C4B5A6978").unwrap(), 5)
                .unwrap()
                .with_kid(ChecksumAlgorithm::Crc32, &[], 5)
                .unwrap(),
            0x1515,
        ),
        (
            Keyset::new()
                .with_kic(
                    CipherAlgorithm::AesCbc,
                    &h("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F").unwrap(),
                    6,
                )
                .unwrap()
                .with_kid(ChecksumAlgorithm::Crc16, &[], 6)
                .unwrap(),
            0x1515,
        ),
        (
            keys(
                (
                    CipherAlgorithm::AesCbc,
                    "000102030405060708090A0B0C0D0E0F1011121314151617",
                ),
                (
                    ChecksumAlgorithm::AesCmac,
                    "000102030405060708090A0B0C0D0E0F1011121314151617",
                ),
                7,
            ),
            0x1619,
        ),
    ];
    for (i, (k, spi)) in cases.iter().enumerate() {
        let value: Vec<u8> = (0..17).map(|b| b as u8 ^ (i as u8 * 16)).collect();
        let o = deliver(
            &mut e,
            &mut t,
            &req(k, *spi, Tar([0xB0, 0x00, 0x02]), 1, spn_script(&value)),
        );
        let p = por(&o);
        assert_eq!(p.status, ResponseStatus::PorOk, "case {i}");
        let r = CompactResponse::parse(&p.data).unwrap();
        assert_eq!((r.count, r.sw.0), (3, 0x9000), "case {i}: {}", hx(&p.data));
        assert_eq!(r.data, value, "case {i}: READ BINARY over OTA");
        assert_eq!(
            read_spn(&mut e),
            value,
            "case {i}: READ BINARY over the terminal"
        );
        let sec = o.por.as_ref().unwrap().security;
        assert!(sec.ciphering, "case {i}: PoR ciphered");
        assert_ne!(sec.integrity, ota::IntegrityMode::None, "case {i}");
    }
}

#[test]
fn por_modes_and_paths() {
    let (mut e, mut t) = setup();
    let k = aes();
    let select_mf = h("00A40004023F00").unwrap();
    // (SPI, PoR expected, ciphered, integrity, path)
    let cases = [
        (
            0x1600u16,
            false,
            false,
            ota::IntegrityMode::None,
            PorPath::EnvelopeResponse,
        ),
        (
            0x1601,
            true,
            false,
            ota::IntegrityMode::None,
            PorPath::EnvelopeResponse,
        ),
        (
            0x1609,
            true,
            false,
            ota::IntegrityMode::Cc,
            PorPath::EnvelopeResponse,
        ),
        (
            0x1611,
            true,
            true,
            ota::IntegrityMode::None,
            PorPath::EnvelopeResponse,
        ),
        (
            0x1619,
            true,
            true,
            ota::IntegrityMode::Cc,
            PorPath::EnvelopeResponse,
        ),
        (
            0x1602,
            false,
            false,
            ota::IntegrityMode::None,
            PorPath::EnvelopeResponse,
        ),
        (
            0x1639,
            true,
            true,
            ota::IntegrityMode::Cc,
            PorPath::SendShortMessage,
        ),
        (
            0x1621,
            true,
            false,
            ota::IntegrityMode::None,
            PorPath::SendShortMessage,
        ),
    ];
    for (n, (spi, want, ciph, integ, path)) in cases.into_iter().enumerate() {
        let o = deliver(
            &mut e,
            &mut t,
            &req(&k, spi, RFM_MF, n as u64 + 1, select_mf.clone()),
        );
        assert_eq!(o.por.is_some(), want, "SPI {spi:04X}: {o:?}");
        if let Some(p) = &o.por {
            assert_eq!(p.path, path, "SPI {spi:04X}");
            // The PoR is secured exactly as SPI2 asks: RHL 10 without CC, 18 with; it opens
            // only with the requested security.
            let want_rhl = if integ == ota::IntegrityMode::Cc {
                0x12
            } else {
                0x0A
            };
            assert_eq!(p.ud[5], want_rhl, "SPI {spi:04X}");
            let sec = Spi::from_u16(spi).por_security();
            assert_eq!((sec.ciphering, sec.integrity), (ciph, integ));
            let pk = ResponsePacket::open(&p.ud, sec, &k).unwrap();
            assert_eq!(pk.status, ResponseStatus::PorOk);
            // The terminal's own decoding (the path users see) agrees, including PoRs that
            // are ciphered without RC/CC (RHL 10 but SPI2 b5 set).
            assert_eq!(
                p.security, sec,
                "SPI {spi:04X}: terminal decoded with other security"
            );
            assert_eq!(p.packet.as_ref().ok(), Some(&pk), "SPI {spi:04X}");
            assert_eq!(pk.counter.value(), n as u64 + 1, "the PoR echoes CNTR");
            let r = CompactResponse::parse(&pk.data).unwrap();
            assert_eq!(r.count, 1);
            assert_eq!(
                r.sw.0 >> 8,
                0x61,
                "SELECT without Le leaves data for GET RESPONSE"
            );
            if ciph {
                assert!(ResponsePacket::open(&p.ud, PorSecurity::NONE, &k)
                    .map_or(true, |x| x.data != pk.data));
            }
        }
        if path == PorPath::SendShortMessage {
            let mo = t.mo_sms().last().expect("MO SMS");
            let s = mo.submit.as_ref().unwrap();
            assert_eq!(
                s.da,
                SmsAddress::digits(1, 1, "1234").unwrap(),
                "PoR goes to the originator"
            );
            assert_eq!(s.pid, 0x7F);
        }
    }
    // On error: a wrong CC with "PoR on error" gets an (unsecured) 01 PoR.
    let bad = keys(
        (CipherAlgorithm::AesCbc, AES_KIC),
        (ChecksumAlgorithm::AesCmac, AES_KIC),
        1,
    );
    let o = deliver(
        &mut e,
        &mut t,
        &req(&bad, 0x161A, RFM_MF, 100, select_mf.clone()),
    );
    assert_eq!(status(&o), ResponseStatus::RcCcDsFailed);
    assert_eq!(o.por.as_ref().unwrap().security, PorSecurity::NONE);
    // A long PoR via SMS-SUBMIT is concatenated: READ BINARY of the 128-byte BER-TLV EF
    // would be refused by access rules, so read EF.DIR records (32 bytes) several times via
    // the expanded format to get a long response.
    let mut items = vec![ScriptCommand::CApdu(
        apdu::CommandApdu::parse(&h("00A4000C022F00").unwrap()).unwrap(),
    )];
    for _ in 0..6 {
        items.push(ScriptCommand::CApdu(
            apdu::CommandApdu::parse(&h("00B2010420").unwrap()).unwrap(),
        ));
    }
    let script = ExpandedScript {
        indefinite: false,
        items,
    }
    .emit();
    let before = t.mo_sms().len();
    let o = deliver(&mut e, &mut t, &req(&k, 0x1639, RFM_MF, 200, script));
    assert_eq!(status(&o), ResponseStatus::PorOk);
    assert!(
        t.mo_sms().len() - before >= 2,
        "PoR concatenated over several SMS-SUBMITs"
    );
    let r = ExpandedResponse::parse(&por(&o).data).unwrap();
    assert_eq!(r.count(), Some(7));
    assert_eq!(r.rapdus().count(), 7);
}

#[test]
fn t0_envelope_response_via_get_response() {
    let mut e = emulator(Profile::default_profile());
    let k = aes();
    let ud = command_ud(&k, 0x1619, RFM_MF, 1, &h("00A40004023F00").unwrap());
    let (d, sw) = send_ud(&mut e, &ud, false);
    assert!(d.is_empty());
    assert_eq!(sw >> 8, 0x61, "T=0: PoR announced with 61xx");
    let (por_ud, sw) = tx(&mut e, &format!("00C00000{:02X}", sw & 0xFF));
    assert_eq!(sw, 0x9000);
    let rep = PorReport::decode_with(PorPath::EnvelopeResponse, por_ud, &k, Spi::from_u16(0x1619));
    assert_eq!(rep.status(), Some(ResponseStatus::PorOk));
}

/// Deliver a crafted TP-UD and check the PoR status and that the NV state did not change.
fn rejected(e: &mut Emulator, ud: &[u8], keys: &Keyset, spi: u16, want: ResponseStatus) {
    let before = nv(e);
    let (d, sw) = send_ud(e, ud, true);
    assert_eq!(sw, 0x9000, "want {want:?}");
    let rep = PorReport::decode_with(PorPath::EnvelopeResponse, d, keys, Spi::from_u16(spi));
    assert_eq!(rep.status(), Some(want), "{rep:?}");
    assert_eq!(
        nv(e),
        before,
        "a rejected packet ({want:?}) changed the card state"
    );
}

#[test]
fn every_error_status_leaves_the_card_unchanged() {
    let extra = r#"
[[ota.keyset]]
kvn = 9
kic = "000102030405060708090A0B0C0D0E0F"
kid = "101112131415161718191A1B1C1D1E1F"
counter = "FFFFFFFFFF"

[[ota.tar]]
tar = "B0000F"
target = "rfm-uicc"
keysets = [9]
"#;
    let mut e = emulator(profile_with(extra));
    let k = aes();
    let upd = h("00D6880004 DEADBEEF").unwrap();
    // Accept one packet with counter 5 first.
    let ud = command_ud(&k, 0x1619, RFM_MF, 5, &upd);
    let (d, _) = send_ud(&mut e, &ud, true);
    let rep = PorReport::decode_with(PorPath::EnvelopeResponse, d, &k, Spi::from_u16(0x1619));
    assert_eq!(rep.status(), Some(ResponseStatus::PorOk));
    assert_eq!(
        nv(&mut e).ota.counters.get(&1).unwrap().0,
        vec![0, 0, 0, 0, 5],
        "counter stored"
    );
    let upd2 = h("00D6880004 01020304").unwrap();

    // 06: header unusable (CHL below 13).
    let mut ud = command_ud(&k, 0x1619, RFM_MF, 6, &upd2);
    ud[5] = 0x0C;
    rejected(
        &mut e,
        &ud,
        &k,
        0x1619,
        ResponseStatus::UnidentifiedSecurityError,
    );
    // 06: KIc and KID key indexes differ.
    let mut ud = command_ud(&k, 0x1619, RFM_MF, 6, &upd2);
    ud[9] = 0x22;
    rejected(
        &mut e,
        &ud,
        &k,
        0x1619,
        ResponseStatus::UnidentifiedSecurityError,
    );
    // 06: key set unknown (KVN 8).
    let k8 = keys(
        (CipherAlgorithm::AesCbc, AES_KIC),
        (ChecksumAlgorithm::AesCmac, AES_KID),
        8,
    );
    let ud = command_ud(&k8, 0x1619, RFM_MF, 6, &upd2);
    rejected(
        &mut e,
        &ud,
        &k8,
        0x1619,
        ResponseStatus::UnidentifiedSecurityError,
    );
    // 09: TAR unknown.
    let ud = command_ud(&k, 0x1619, Tar([0xBF, 0xFF, 0x77]), 6, &upd2);
    rejected(&mut e, &ud, &k, 0x1619, ResponseStatus::TarUnknown);
    // 0A: the ISD needs ciphering + CC (MSL 06); CC alone is not enough.
    let ud = command_ud(&k, 0x1209, ISD, 6, &h("80F28000024F00").unwrap());
    rejected(
        &mut e,
        &ud,
        &k,
        0x1209,
        ResponseStatus::InsufficientSecurityLevel,
    );
    // 05: ciphered part not a multiple of the block size.
    let mut ud = command_ud(&k, 0x1619, RFM_MF, 6, &upd2);
    ud.pop();
    let cpl = (ud.len() - 5) as u16;
    ud[3..5].copy_from_slice(&cpl.to_be_bytes());
    rejected(&mut e, &ud, &k, 0x1619, ResponseStatus::CipheringError);
    // 01: wrong CC (another KID value).
    let bad = keys(
        (CipherAlgorithm::AesCbc, AES_KIC),
        (ChecksumAlgorithm::AesCmac, AES_KIC),
        1,
    );
    let ud = command_ud(&bad, 0x1619, RFM_MF, 6, &upd2);
    rejected(&mut e, &ud, &k, 0x1619, ResponseStatus::RcCcDsFailed);
    // 02: counter low (replay of 5, and 4).
    for c in [5, 4] {
        let ud = command_ud(&k, 0x1619, RFM_MF, c, &upd2);
        rejected(&mut e, &ud, &k, 0x1619, ResponseStatus::CounterLow);
    }
    // 03: counter high in mode "exactly one higher".
    let ud = command_ud(&k, 0x1E19, RFM_MF, 7, &upd2);
    rejected(&mut e, &ud, &k, 0x1E19, ResponseStatus::CounterHigh);
    // 04: counter blocked (key set 9 stored at FF FF FF FF FF).
    let k9 = keys(
        (CipherAlgorithm::AesCbc, AES_KIC),
        (ChecksumAlgorithm::AesCmac, AES_KID),
        9,
    );
    let ud = command_ud(&k9, 0x1619, Tar([0xB0, 0x00, 0x0F]), 1, &upd2);
    rejected(&mut e, &ud, &k9, 0x1619, ResponseStatus::CounterBlocked);
    // Error PoRs before the keys are proven are unsecured; counter errors are secured.
    let ud = command_ud(&k, 0x1619, RFM_MF, 3, &upd2);
    let (d, _) = send_ud(&mut e, &ud, true);
    assert_eq!(d[5], 0x12, "counter-low PoR carries a CC (RHL 18)");
    let ud = command_ud(&k, 0x1619, Tar([0xBF, 0xFF, 0x77]), 6, &upd2);
    let (d, _) = send_ud(&mut e, &ud, true);
    assert_eq!(d[5], 0x0A, "TAR-unknown PoR is unsecured (RHL 10)");
    // And the accepted one still works: counter 6.
    let ud = command_ud(&k, 0x1619, RFM_MF, 6, &upd2);
    let (d, _) = send_ud(&mut e, &ud, true);
    let rep = PorReport::decode_with(PorPath::EnvelopeResponse, d, &k, Spi::from_u16(0x1619));
    assert_eq!(rep.status(), Some(ResponseStatus::PorOk));
}

#[test]
fn counter_modes_including_replay() {
    let (mut e, mut t) = setup();
    let k = aes();
    let d = h("00A4000C023F00").unwrap();
    let stored = |e: &mut Emulator| {
        let c = nv(e).ota.counters.get(&1).unwrap().0.clone();
        Counter::from_bytes(c.try_into().unwrap()).value()
    };
    // 00: no counter: anything goes, nothing stored.
    for c in [9, 9, 0] {
        let o = deliver(&mut e, &mut t, &req(&k, 0x0619, RFM_MF, c, d.clone()));
        assert_eq!(status(&o), ResponseStatus::PorOk);
    }
    assert_eq!(stored(&mut e), 0);
    // 01: counter available, no check: lower values are accepted, but the stored counter
    // never goes backwards (else captured mode-10 packets could be replayed later).
    for (c, want) in [(10, 10), (3, 10)] {
        let o = deliver(&mut e, &mut t, &req(&k, 0x0E19, RFM_MF, c, d.clone()));
        assert_eq!(status(&o), ResponseStatus::PorOk);
        assert_eq!(stored(&mut e), want);
    }
    // 10: higher only; replay refused with 02.
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, RFM_MF, 50, d.clone()));
    assert_eq!(status(&o), ResponseStatus::PorOk);
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, RFM_MF, 50, d.clone()));
    assert_eq!(status(&o), ResponseStatus::CounterLow, "replay");
    assert_eq!(stored(&mut e), 50);
    // A refused counter's PoR carries the card's counter (so the sender knows the next one).
    assert_eq!(por(&o).counter.value(), 50);
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, RFM_MF, 7, d.clone()));
    assert_eq!(status(&o), ResponseStatus::CounterLow);
    assert_eq!(
        por(&o).counter.value(),
        50,
        "the card's counter, not the 7 sent"
    );
    // 11: exactly one higher.
    let o = deliver(&mut e, &mut t, &req(&k, 0x1E19, RFM_MF, 51, d.clone()));
    assert_eq!(status(&o), ResponseStatus::PorOk);
    let o = deliver(&mut e, &mut t, &req(&k, 0x1E19, RFM_MF, 53, d.clone()));
    assert_eq!(status(&o), ResponseStatus::CounterHigh);
    assert_eq!(
        por(&o).counter.value(),
        51,
        "the card's counter, not the 53 sent"
    );
    let o = deliver(&mut e, &mut t, &req(&k, 0x1E19, RFM_MF, 51, d.clone()));
    assert_eq!(status(&o), ResponseStatus::CounterLow);
    assert_eq!(stored(&mut e), 51);
    // Counters are per key set: KVN 2 starts at 0.
    let o = deliver(&mut e, &mut t, &req(&tdes(), 0x1E19, RFM_MF, 1, d.clone()));
    assert_eq!(status(&o), ResponseStatus::PorOk);
}

#[test]
fn three_segment_concatenated_expanded_script() {
    let (mut e, mut t) = setup();
    let k = aes();
    let mut items = vec![ScriptCommand::CApdu(
        apdu::CommandApdu::parse(&h("00A40004026F46").unwrap()).unwrap(),
    )];
    let mut last = Vec::new();
    for i in 0..11u8 {
        last = (0..17).map(|b| b ^ i).collect::<Vec<u8>>();
        let mut a = vec![0x00, 0xD6, 0x00, 0x00, 17];
        a.extend_from_slice(&last);
        items.push(ScriptCommand::CApdu(apdu::CommandApdu::parse(&a).unwrap()));
    }
    items.push(ScriptCommand::CApdu(
        apdu::CommandApdu::parse(&h("00B0000011").unwrap()).unwrap(),
    ));
    let script = ExpandedScript {
        indefinite: false,
        items,
    }
    .emit();
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, RFM_USIM, 1, script));
    assert_eq!(o.envelope_sws.len(), 3, "three segments, one ENVELOPE each");
    assert_eq!(&o.envelope_sws[..2], &[0x9000, 0x9000]);
    let r = ExpandedResponse::parse(&por(&o).data).unwrap();
    assert_eq!(r.count(), Some(13));
    let rapdus: Vec<_> = r.rapdus().collect();
    assert_eq!(rapdus.len(), 13);
    assert_eq!(
        rapdus[0].sw.0 >> 8,
        0x61,
        "SELECT response kept for GET RESPONSE"
    );
    assert_eq!(rapdus[12].data, last);
    assert_eq!(rapdus[12].sw.0, 0x9000);
    assert_eq!(read_spn(&mut e), last);
    // Indefinite form answers with AF.
    let script = ExpandedScript {
        indefinite: true,
        items: vec![ScriptCommand::CApdu(
            apdu::CommandApdu::parse(&h("00A4000C026F46").unwrap()).unwrap(),
        )],
    }
    .emit();
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, RFM_USIM, 2, script));
    let data = por(&o).data;
    assert_eq!(data[0], 0xAF);
    let r = ExpandedResponse::parse(&data).unwrap();
    assert!(r.indefinite);
    assert!(matches!(r.items.last(), Some(ScriptResponse::RApdu(a)) if a.sw.0 == 0x9000));
}

/// Run a RAM script on the ISD (ciphered + CC, as its MSL requires) and return the compact
/// response.
fn ram(e: &mut Emulator, t: &mut Terminal, cntr: u64, script: &str) -> CompactResponse {
    let k = aes();
    let o = deliver(e, t, &req(&k, 0x1619, ISD, cntr, h(script).unwrap()));
    assert_eq!(status(&o), ResponseStatus::PorOk);
    CompactResponse::parse(&por(&o).data).unwrap()
}

#[test]
fn ram_install_select_lock_delete_put_key() {
    let (mut e, mut t) = setup();
    // INSTALL [for install and make selectable] of the built-in demo applet class.
    let r = ram(
        &mut e,
        &mut t,
        1,
        "80E60C0022 08F073696D6F746101 08F073696D6F746101 09F073696D6F74610102 0100 02C900 00",
    );
    // INSTALL answers one byte (00), kept for GET RESPONSE as a T=0 card does.
    assert_eq!((r.count, r.sw.0), (1, 0x6101), "{r:?}");
    let (_, sw) = tx(&mut e, "00A4040009F073696D6F74610102");
    assert_eq!(sw, 0x9000, "the new instance is selectable");
    let (_, sw) = tx(&mut e, "8050000003 414243");
    assert_eq!(sw, 0x9000);
    let (d, sw) = tx(&mut e, "8052000000");
    assert_eq!((d.as_slice(), sw), (&b"ABC"[..], 0x9000));
    // GET STATUS (applications, TLV format) lists it.
    let r = ram(&mut e, &mut t, 2, "80F24002024F00 00C0000000");
    assert_eq!(r.sw.0, 0x9000);
    assert!(
        hx(&r.data).contains("F073696D6F74610102"),
        "{}",
        hx(&r.data)
    );
    // SET STATUS lock: no longer selectable; unlock again.
    let r = ram(&mut e, &mut t, 3, "80F0408009F073696D6F74610102");
    assert_eq!(r.sw.0, 0x9000);
    let (_, sw) = tx(&mut e, "00A4040009F073696D6F74610102");
    assert_ne!(sw, 0x9000, "a locked applet cannot be selected");
    let r = ram(&mut e, &mut t, 4, "80F0400009F073696D6F74610102");
    assert_eq!(r.sw.0, 0x9000);
    let (_, sw) = tx(&mut e, "00A4040009F073696D6F74610102");
    assert_eq!(sw, 0x9000);
    // DELETE.
    let r = ram(
        &mut e,
        &mut t,
        5,
        "80E400000B4F09F073696D6F74610102 00C0000000",
    );
    assert_eq!(
        (r.count, r.sw.0, r.data.as_slice()),
        (2, 0x9000, &[0u8][..])
    );
    let (_, sw) = tx(&mut e, "00A4040009F073696D6F74610102");
    assert_ne!(sw, 0x9000);
    assert!(!nv(&mut e)
        .applets
        .iter()
        .any(|a| a.aid == h("F073696D6F74610102").unwrap()));
    // Unknown class: 6A88.
    let r = ram(
        &mut e,
        &mut t,
        6,
        "80E60C0022 08F0736FFF6F746101 08F0736FFF6F746101 09F073696D6F74610103 0100 02C900 00",
    );
    assert_eq!(r.sw.0, 0x6A88);
}

#[test]
fn ram_installs_a_toolkit_applet_with_tar_and_menu_entry() {
    let (mut e, mut t) = setup();
    assert_eq!(
        t.menu().unwrap().items.len(),
        1,
        "the default profile's demo menu entry"
    );
    // Menu applet class, instance AID F073696D6F74614D02, toolkit parameters: priority 01,
    // 0 timers, text 10, 1 menu entry (no preference), 0 channels, MSL 06, TAR BFFF01.
    let tk = "01 00 10 01 0000 00 02 01 06 03 BFFF01 00";
    let tk = h(tk).unwrap();
    let mut ea = vec![0x80, tk.len() as u8];
    ea.extend(&tk);
    let mut params = h("C900").unwrap();
    params.push(0xEA);
    params.push(ea.len() as u8);
    params.extend(ea);
    let mut data = h("08F073696D6F74614D 08F073696D6F74614D 09F073696D6F74614D02 0100").unwrap();
    data.push(params.len() as u8);
    data.extend(&params);
    data.push(0x00);
    let mut script = vec![0x80, 0xE6, 0x0C, 0x00, data.len() as u8];
    script.extend(data);
    let k = aes();
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, ISD, 1, script));
    let r = CompactResponse::parse(&por(&o).data).unwrap();
    assert_eq!(r.sw.0, 0x6101, "{r:?}");
    // The card refreshed the menu: two entries now.
    assert_eq!(
        t.menu().unwrap().items.len(),
        2,
        "SET UP MENU after INSTALL"
    );
    // An OTA message to the applet's TAR: the applet answers with PoR data.
    let tar = Tar([0xBF, 0xFF, 0x01]);
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, tar, 2, vec![1, 2, 3]));
    assert_eq!(status(&o), ResponseStatus::PorOk);
    assert_eq!(por(&o).data, vec![3, 2, 1]);
    // A request that needs the user: GET INPUT first, the PoR (the typed text) follows by
    // SEND SHORT MESSAGE when the applet's session ends.
    t.push_answer(UserAnswer::Text("yes please".into()));
    let mut data = vec![0xF0];
    data.extend_from_slice(b"Confirm?");
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, tar, 4, data));
    assert_eq!(
        o.envelope_sws[0] >> 8,
        0x91,
        "the ENVELOPE starts a proactive session"
    );
    let p = o.por.as_ref().expect("deferred PoR");
    assert_eq!(p.path, PorPath::SendShortMessage);
    let pk = p.packet.clone().unwrap();
    assert_eq!(
        (pk.status, pk.data.as_slice()),
        (ResponseStatus::PorOk, &b"yes please"[..])
    );
    assert_eq!(pk.counter.value(), 4);
    assert!(t.shown().iter().any(|s| s.text == "Confirm?"));
    // Its MSL (06) refuses a packet with CC only.
    let o = deliver(&mut e, &mut t, &req(&k, 0x1209, tar, 5, vec![1]));
    assert_eq!(status(&o), ResponseStatus::InsufficientSecurityLevel);
}

#[test]
fn put_key_and_get_data() {
    let (mut e, mut t) = setup();
    // New AES key set KVN 3 (KIc, KID), enciphered with KVN 1's KIK (AES-ECB), with KCVs.
    let kik = h("202122232425262728292A2B2C2D2E2F").unwrap();
    let kic = h("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF").unwrap();
    let kid = h("B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF").unwrap();
    // One AES block: CBC with a zero IV is ECB.
    let enc = |key: &[u8], data: &[u8]| {
        let k = Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, key, 1)
            .unwrap();
        let mut b = data.to_vec();
        k.encrypt(&mut b).unwrap();
        b
    };
    let kcv = |key: &[u8]| enc(key, &[1u8; 16])[..3].to_vec();
    let mut data = vec![0x03];
    for key in [&kic, &kid] {
        data.extend_from_slice(&[0x88, 0x10]);
        data.extend(enc(&kik, key));
        data.push(0x03);
        data.extend(kcv(key));
    }
    let mut script = vec![0x80, 0xD8, 0x00, 0x81, data.len() as u8];
    script.extend(&data);
    script.extend(h("00C0000000").unwrap());
    let k = aes();
    let o = deliver(&mut e, &mut t, &req(&k, 0x1619, ISD, 1, script));
    let r = CompactResponse::parse(&por(&o).data).unwrap();
    assert_eq!(r.sw.0, 0x9000, "{r:?}");
    let mut want = vec![0x03];
    want.extend(kcv(&kic));
    want.extend(kcv(&kid));
    assert_eq!(r.data, want, "PUT KEY answers KVN and KCVs");
    // The new key set works for RFM.
    let k3 = Keyset::new()
        .with_kic(CipherAlgorithm::AesCbc, &kic, 3)
        .unwrap()
        .with_kid(ChecksumAlgorithm::AesCmac, &kid, 3)
        .unwrap();
    let o = deliver(
        &mut e,
        &mut t,
        &req(&k3, 0x1619, RFM_MF, 1, h("00A4000C023F00").unwrap()),
    );
    assert_eq!(status(&o), ResponseStatus::PorOk);
    // GET DATA key information lists KVN 3.
    let r = ram(&mut e, &mut t, 2, "80CA00E000");
    assert_eq!(r.sw.0, 0x9000);
    assert!(hx(&r.data).contains("C00401038810"), "{}", hx(&r.data));
    // A wrong KCV is refused and nothing changes.
    let mut bad = script_for_put_key_with_bad_kcv(&data);
    let before = nv(&mut e).ota.keys.clone();
    let o = deliver(
        &mut e,
        &mut t,
        &req(&k, 0x1619, ISD, 3, std::mem::take(&mut bad)),
    );
    let r = CompactResponse::parse(&por(&o).data).unwrap();
    assert_eq!(r.sw.0, 0x6A80);
    assert_eq!(nv(&mut e).ota.keys, before);
}

fn script_for_put_key_with_bad_kcv(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    d[0] = 0x04;
    let n = d.len();
    d[n - 1] ^= 0xFF;
    let mut s = vec![0x80, 0xD8, 0x00, 0x81, n as u8];
    s.extend(d);
    s.extend(h("00C0000000").unwrap());
    s
}

#[test]
fn menu_applet_journey() {
    let mut e = emulator(Profile::default_profile());
    let mut t = Terminal::default();
    assert_eq!(t.terminal_profile(&mut e).unwrap(), 0x9000);
    let menu = t
        .menu()
        .expect("SET UP MENU after TERMINAL PROFILE")
        .clone();
    assert_eq!(menu.alpha.text(), "simota");
    let item = menu
        .items
        .iter()
        .find(|i| i.text.text() == "simota demo")
        .unwrap()
        .id;
    t.push_answer(UserAnswer::Item(2));
    t.push_answer(UserAnswer::Ok);
    assert_eq!(t.select_menu_item(&mut e, item, false).unwrap(), 0x9000);
    let shown: Vec<String> = t.shown().iter().map(|s| s.text.clone()).collect();
    assert!(shown.contains(&"Card info".to_string()), "{shown:?}");
    assert_eq!(shown.last().unwrap(), "You chose: Card info");
    let kinds: Vec<_> = t
        .exchanges()
        .iter()
        .map(|x| x.command.as_ref().unwrap().details().command_type)
        .collect();
    use ota::cat::CommandType as C;
    assert_eq!(kinds, vec![C::SetUpMenu, C::SelectItem, C::DisplayText]);
    // Cancelling the SELECT ITEM ends the session without DISPLAY TEXT.
    t.clear_records();
    t.push_answer(UserAnswer::Cancel);
    assert_eq!(t.select_menu_item(&mut e, item, false).unwrap(), 0x9000);
    assert_eq!(t.exchanges().len(), 1);
}

#[test]
fn toolkit_busy_and_fetch_rules() {
    let mut e = emulator(Profile::default_profile());
    // Before TERMINAL PROFILE nothing is pending and nothing to FETCH.
    assert_eq!(tx(&mut e, "8012000010").1, 0x6985);
    let (_, sw) = tx(&mut e, "801000000C FFFFFFFF7F00000000000000");
    assert_eq!(sw >> 8, 0x91, "SET UP MENU pending");
    let (cmd, sw) = tx(&mut e, &format!("80120000{:02X}", sw & 0xFF));
    assert_eq!(sw, 0x9000);
    assert_eq!(cmd[0], 0xD0);
    // While the command awaits its TERMINAL RESPONSE the toolkit is busy.
    let k = aes();
    let ud = command_ud(&k, 0x1619, RFM_MF, 1, &h("00A4000C023F00").unwrap());
    let (_, sw) = send_ud(&mut e, &ud, true);
    assert_eq!(sw, 0x9300);
    // A TERMINAL RESPONSE for another command number is refused.
    let number = cmd[4];
    let bad = format!(
        "801400000C 8103{:02X}2500 82028281 830100",
        number.wrapping_add(1)
    );
    assert_eq!(tx(&mut e, &bad).1, 0x6A80);
    let good = format!("801400000C 8103{:02X}2500 82028281 830100", number);
    assert_eq!(tx(&mut e, &good).1, 0x9000);
    assert_eq!(tx(&mut e, "801400000C 810301250082028281830100").1, 0x6985);
    // Now the OTA message goes through.
    let (d, sw) = send_ud(&mut e, &ud, true);
    assert_eq!(sw, 0x9000);
    let rep = PorReport::decode_with(PorPath::EnvelopeResponse, d, &k, Spi::from_u16(0x1619));
    assert_eq!(rep.status(), Some(ResponseStatus::PorOk));
}

fn vectors(file: &str) -> Vec<serde_json::Value> {
    let path = format!("{}/../../test-vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vector_keys(v: &serde_json::Value) -> Keyset {
    let ks = &v["keyset"];
    let s = |k: &str| ks[k].as_str().unwrap().to_string();
    let idx = ks["kic_index"].as_u64().unwrap() as u8;
    let kic_alg = match s("kic_algo").as_str() {
        "aes_cbc" => CipherAlgorithm::AesCbc,
        "triple_des_cbc2" => CipherAlgorithm::TripleDes2Cbc,
        o => panic!("{o}"),
    };
    let kid_alg = match s("kid_algo").as_str() {
        "aes_cmac" => ChecksumAlgorithm::AesCmac,
        "triple_des_cbc2" => ChecksumAlgorithm::TripleDes2Mac,
        o => panic!("{o}"),
    };
    Keyset::new()
        .with_kic(kic_alg, &h(&s("kic")).unwrap(), idx)
        .unwrap()
        .with_kid(
            kid_alg,
            &h(&s("kid")).unwrap(),
            ks["kid_index"].as_u64().unwrap() as u8,
        )
        .unwrap()
}

#[test]
fn real_card_pors_decode_through_the_terminal_path() {
    let mut n = 0;
    for file in [
        "scp80-sms-real-card-logs.json",
        "scp80-sms-pysim-unittests.json",
    ] {
        for v in vectors(file).iter().filter(|v| v["kind"] == "response_por") {
            let id = v["id"].as_str().unwrap();
            let ud = v["encoded_resp"]
                .as_str()
                .or(v["ud"].as_str())
                .map(|s| h(s).unwrap())
                .unwrap();
            let spi =
                Spi::from_u16(u16::from_str_radix(v["spi_hex"].as_str().unwrap(), 16).unwrap());
            let rep = PorReport::decode_with(PorPath::EnvelopeResponse, ud, &vector_keys(v), spi);
            let exp = &v["expected"];
            if exp.get("exception").is_some() {
                assert!(rep.packet.is_err(), "{id}: a bad CC must not decode");
                n += 1;
                continue;
            }
            let p = rep.packet.clone().unwrap_or_else(|e| panic!("{id}: {e}"));
            match exp["response_status"].as_str().unwrap() {
                "por_ok" => {
                    assert_eq!(p.status, ResponseStatus::PorOk, "{id}");
                    let r = CompactResponse::parse(&p.data).unwrap();
                    assert_eq!(
                        u64::from(r.count),
                        exp["number_of_commands"].as_u64().unwrap(),
                        "{id}"
                    );
                    assert_eq!(
                        format!("{:04x}", r.sw.0),
                        exp["last_status_word"].as_str().unwrap(),
                        "{id}"
                    );
                    assert_eq!(
                        hx(&r.data).to_lowercase(),
                        exp["last_response_data"].as_str().unwrap(),
                        "{id}"
                    );
                }
                "undefined_security_error" => {
                    assert_eq!(p.status, ResponseStatus::UnidentifiedSecurityError, "{id}");
                    assert_eq!(rep.security, PorSecurity::NONE, "{id}");
                }
                o => panic!("{id}: {o}"),
            }
            n += 1;
        }
    }
    assert!(n >= 12, "{n} vectors");
}

#[test]
fn real_card_command_packets_are_accepted_by_the_emulated_card() {
    let mut n = 0;
    for v in vectors("scp80-sms-pysim-unittests.json")
        .iter()
        .filter(|v| v["kind"] == "command")
    {
        let id = v["id"].as_str().unwrap();
        let ks = &v["keyset"];
        let alg = |k: &str| match ks[k].as_str().unwrap() {
            "aes_cbc" => "aes-cbc",
            "aes_cmac" => "aes-cmac",
            _ => "3des2",
        };
        let kvn = ks["kic_index"].as_u64().unwrap();
        let extra = format!(
            "[[ota.keyset]]\nkvn = {kvn}\nkic = \"{}\"\nkid = \"{}\"\nkic_algorithm = \"{}\"\nkid_algorithm = \"{}\"\n\n[[ota.tar]]\ntar = \"B00011\"\ntarget = \"rfm-uicc\"\n",
            ks["kic"].as_str().unwrap(),
            ks["kid"].as_str().unwrap(),
            alg("kic_algo"),
            if alg("kid_algo") == "3des2" { "3des2-mac" } else { "aes-cmac" },
        );
        // The default profile's key sets and TARs are replaced by the vector's key set, with
        // RFM on the MF for TARs B00011 and B00000.
        let base = uicc::profile::DEFAULT_PROFILE_TOML;
        let start = base.find("[[ota.keyset]]").unwrap();
        let end = base.find("# Applets:").unwrap();
        let text = format!("{}{}\n{}", &base[..start], extra, &base[end..]);
        let extra_tar = "[[ota.tar]]\ntar = \"B00000\"\ntarget = \"rfm-uicc\"\n";
        let text = format!("{text}\n{extra_tar}");
        let mut e = emulator(Profile::from_toml_str(&text).unwrap());
        let ud = h(v["sms_user_data_with_udh"].as_str().unwrap()).unwrap();
        let (d, sw) = send_ud(&mut e, &ud, true);
        assert_eq!(sw, 0x9000, "{id}");
        let spi = Spi::from_u16(u16::from_str_radix(v["spi_hex"].as_str().unwrap(), 16).unwrap());
        let rep = PorReport::decode_with(PorPath::EnvelopeResponse, d, &vector_keys(v), spi);
        let p = rep.packet.clone().unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(p.status, ResponseStatus::PorOk, "{id}");
        let r = CompactResponse::parse(&p.data).unwrap();
        assert_eq!(r.count, 1, "{id}");
        assert_eq!(
            r.sw.0 >> 8,
            0x61,
            "{id}: SELECT MF answered like the real card (61xx)"
        );
        n += 1;
    }
    assert!(n >= 8);
}

#[test]
fn counter_and_effects_are_committed_together() {
    // Power is cut after the 1st or 2nd non-volatile write of an accepted packet (the counter,
    // then the UPDATE BINARY): after the restart neither the counter nor the file changed.
    for k in 1..=2 {
        let mut e = emulator(Profile::default_profile());
        let keys = aes();
        let before = nv(&mut e);
        let ud = command_ud(&keys, 0x1619, RFM_USIM, 9, &spn_script(&[0x55; 17]));
        e.card().tear_after_writes(k);
        let oa = SmsAddress::digits(1, 1, "1234").unwrap();
        let tpdu =
            SmsDeliver::data_download(oa, Timestamp([0x42, 0x10, 0x10, 0, 0, 0, 0]), ud, true)
                .unwrap()
                .emit()
                .unwrap();
        let d1 = ota::SmsPpDownload::new(tpdu).emit().unwrap();
        let mut apdu = vec![0x80, 0xC2, 0x00, 0x00, d1.len() as u8];
        apdu.extend_from_slice(&d1);
        apdu.push(0x00);
        assert!(
            e.transmit(&apdu).unwrap().is_empty(),
            "power cut: no answer"
        );
        e.card().reset();
        assert_eq!(nv(&mut e), before, "tear after write {k}");
        // The same packet is accepted after the restart (its counter was never stored).
        let ud = command_ud(&keys, 0x1619, RFM_USIM, 9, &spn_script(&[0x55; 17]));
        let (d, _) = send_ud(&mut e, &ud, true);
        let rep =
            PorReport::decode_with(PorPath::EnvelopeResponse, d, &keys, Spi::from_u16(0x1619));
        assert_eq!(rep.status(), Some(ResponseStatus::PorOk));
        assert_eq!(read_spn(&mut e), vec![0x55; 17]);
    }
}

#[test]
fn other_envelopes() {
    let mut e = emulator(Profile::default_profile());
    // EVENT DOWNLOAD (idle screen available) with no applet registered for it: 9000.
    assert_eq!(tx(&mut e, "80C2000009 D60799010582020281").1, 0x9000);
    // An SMS-PP download without a command packet (no UDH) and nobody registered for
    // unformatted SMS-PP: 9000, no data.
    let oa = SmsAddress::digits(1, 1, "1234").unwrap();
    let tpdu = SmsDeliver::data_download(oa, Timestamp([0; 7]), b"hello".to_vec(), false)
        .unwrap()
        .emit()
        .unwrap();
    let d1 = ota::SmsPpDownload::new(tpdu).emit().unwrap();
    let mut apdu = vec![0x80, 0xC2, 0x00, 0x00, d1.len() as u8];
    apdu.extend_from_slice(&d1);
    assert_eq!(e.transmit(&apdu).unwrap(), vec![0x90, 0x00]);
    // MENU SELECTION of an item nobody owns: 6A80; an unknown envelope template: 6A80.
    assert_eq!(tx(&mut e, "80C2000009 D307820201819001 7F").1, 0x6A80);
    assert_eq!(tx(&mut e, "80C2000004 DF02 8202").1, 0x6A80);
}
