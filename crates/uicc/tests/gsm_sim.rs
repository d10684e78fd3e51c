//! GSM SIM mode (TS 51.011, class A0) through `Card::process`: selection and the §9.2.1 GET
//! RESPONSE layouts, data commands, CHV commands sharing PIN state with the UICC side, RUN GSM
//! ALGORITHM against the TS 55.205 known answers, SEEK, INCREASE, INVALIDATE/REHABILITATE,
//! CAT with class A0, RFM sessions with class A0, and each command's error status words.

use apdu::hex::{decode, encode};
use serde_json::Value;
use uicc::{Card, Profile, RemoteSession};

fn card() -> Card {
    Card::new(Profile::default_profile()).unwrap()
}

/// Send hex, return (data, sw).
fn tx(c: &mut Card, h: &str) -> (Vec<u8>, u16) {
    let r = c.process(&decode(h).unwrap());
    assert!(r.len() >= 2, "no SW for {h}");
    let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    (r[..r.len() - 2].to_vec(), sw)
}

fn sw(c: &mut Card, h: &str) -> u16 {
    tx(c, h).1
}

fn ok(c: &mut Card, h: &str) -> Vec<u8> {
    let (d, sw) = tx(c, h);
    assert_eq!(sw, 0x9000, "{h} answered {sw:04X}");
    d
}

/// A command that answers `9Fxx`, then its GET RESPONSE.
fn get(c: &mut Card, h: &str) -> Vec<u8> {
    let s = sw(c, h);
    assert_eq!(s >> 8, 0x9F, "{h} answered {s:04X}");
    ok(c, &format!("A0C00000{:02X}", s & 0xFF))
}

/// SELECT a path of FIDs from the MF, returning the last GET RESPONSE data.
fn select(c: &mut Card, path: &[&str]) -> Vec<u8> {
    let mut last = Vec::new();
    for f in path {
        last = get(c, &format!("A0A4000002{f}"));
    }
    last
}

const PIN1: &str = "31323334FFFFFFFF";
const PIN2: &str = "35363738FFFFFFFF";
const PUK1: &str = "3132333435363738";
const WRONG: &str = "30303030FFFFFFFF";
const ADM1: &str = "3838383838383838";

#[test]
fn select_answers_9fxx_and_the_51011_layouts() {
    let mut c = card();
    assert_eq!(sw(&mut c, "A0A40000023F00"), 0x9F16);
    let mf = ok(&mut c, "A0C0000016");
    // MF: type 01; 2 DFs (DF.TELECOM, DF.GSM: the ADF is not shown), 5 EFs (the BER-TLV EF is
    // not shown); CHV1 disabled (b8 of the characteristics); codes: PIN1, PUK1, PIN2, PUK2,
    // ADM1; CHV1 3 tries, UNBLOCK 10; CHV2 (= PIN2) 3 and 10.
    assert_eq!(encode(&mf), "0000FFFF3F0001000000000009B102050500838A838A");
    let df = select(&mut c, &["7F20"]);
    assert_eq!(&df[4..7], &[0x7F, 0x20, 0x02]);
    assert_eq!((df[14], df[15]), (0, 53), "DF.GSM has 53 EFs");
    // EF.IMSI: 9 bytes, read CHV1, update/rehabilitate/invalidate ADM1 (level A), not
    // invalidated, transparent.
    let ef = select(&mut c, &["6F07"]);
    assert_eq!(encode(&ef), "000000096F0704001AFFAA01020000");
    // The IMSI is the profile's, as in ADF.USIM (CHV1 disabled: no verification needed).
    assert_eq!(
        encode(&ok(&mut c, "A0B0000009")),
        "080910101032547698",
        "same IMSI as the USIM"
    );
    // EF.ACM: cyclic 5 x 3, INCREASE allowed with CHV1, update CHV1.
    let acm = select(&mut c, &["6F39"]);
    assert_eq!(encode(&acm), "0000000F6F390440111FAA01020303");
    // EF.ACMmax: update CHV2.
    let acmmax = select(&mut c, &["6F37"]);
    assert_eq!(acmmax[8], 0x12);
    // With an Le, the answer comes back directly (as pySim sends it).
    let (d, s) = tx(&mut c, "A0A40000023F0000");
    assert_eq!((d.len(), s), (22, 0x9000));
    // STATUS: the current directory's response, P3 bytes of it.
    assert_eq!(sw(&mut c, "A0A40000027F20"), 0x9F16);
    let st = ok(&mut c, "A0F2000016");
    assert_eq!(&st[4..6], &[0x7F, 0x20]);
    assert_eq!(ok(&mut c, "A0F200000D").len(), 13);
}

#[test]
fn selection_rules() {
    let mut c = card();
    // From DF.GSM: a sibling DF, the parent, the MF; not an EF of the parent.
    select(&mut c, &["7F20"]);
    select(&mut c, &["7F10"]);
    assert_eq!(&select(&mut c, &["3F00"])[4..6], &[0x3F, 0x00]);
    select(&mut c, &["7F20"]);
    assert_eq!(sw(&mut c, "A0A40000022FE2"), 0x9404, "EF of the parent");
    assert_eq!(
        sw(&mut c, "A0A40000027FF0"),
        0x9404,
        "ADF.USIM is no GSM file"
    );
    select(&mut c, &["3F00"]);
    assert_eq!(sw(&mut c, "A0A40000027FF0"), 0x9404);
    assert_eq!(sw(&mut c, "A0A40000022FF0"), 0x9404, "BER-TLV EF");
    assert_eq!(sw(&mut c, "A0A40000026F07"), 0x9404, "not under the MF");
    // EF.ICCID read with class A0.
    select(&mut c, &["2FE2"]);
    assert_eq!(encode(&ok(&mut c, "A0B000000A")), "988812010000000010F5");
}

#[test]
fn error_status_words() {
    let mut c = card();
    for (apdu, want) in [
        ("A0A40100023F00", 0x6B00),
        ("A0A40004023F00", 0x6B00),
        ("A0A40000033F0000", 0x6700),
        ("A0A4000001 3F", 0x6700),
        ("A0A40000026FFF", 0x9404),
        ("A0FE000000", 0x6D00),
        ("A0C0000016", 0x6F00), // nothing to get
        ("A0B0000001", 0x9400), // no EF selected
        ("A0B2010401", 0x9400),
        ("A0F2010016", 0x6B00),
        ("A0FA010000", 0x6B00),
        ("A0FA000000", 0x9000),
        ("A088000010 00112233445566778899AABBCCDDEEFF", 0x9400), // not in DF.GSM
        ("A0200001 07 31323334FFFFFF", 0x6700),
        ("A0200003 08 31323334FFFFFFFF", 0x6B00),
        ("A0200101 08 31323334FFFFFFFF", 0x6B00),
        ("A0260002 08 31323334FFFFFFFF", 0x6B00), // only CHV1 can be disabled
        ("A02C0001 10 313233343536373831323334FFFFFFFF", 0x6B00), // UNBLOCK CHV1 is P2 00
        ("A0040000", 0x9400),
        ("A0320000 03 000001", 0x9400),
    ] {
        assert_eq!(sw(&mut c, apdu), want, "{apdu}");
    }
    // More data waiting than P3 asks for is fine (truncated); more than waits is 6700.
    assert_eq!(sw(&mut c, "A0A40000027F20"), 0x9F16);
    assert_eq!(sw(&mut c, "A0C0000017"), 0x6700);
    assert_eq!(ok(&mut c, "A0C0000010").len(), 16);
    // EF-level errors.
    select(&mut c, &["6F07"]);
    for (apdu, want) in [
        ("A0B0800000", 0x6B00),    // no SFI addressing in GSM
        ("A0B0000900", 0x9402),    // offset at the end
        ("A0B000000A", 0x6700),    // one byte too many
        ("A0B2010409", 0x9408),    // not a record EF
        ("A0D6000001 00", 0x9804), // update needs ADM
        ("A0D6000000", 0x6700),
        ("A0A2000001 08", 0x9408), // SEEK on a transparent EF
        ("A0320000 03 000001", 0x9408),
        ("A0040000", 0x9804), // INVALIDATE needs ADM
    ] {
        assert_eq!(sw(&mut c, apdu), want, "{apdu}");
    }
    select(&mut c, &["6FC5"]);
    for (apdu, want) in [
        ("A0B201040F", 0x6700), // EF.PNN: record length is 16
        ("A0B2010500", 0x6B00),
        ("A0B2030410", 0x9402), // record 3 of 2
        ("A0B2000410", 0x9402), // no current record
        ("A0B0000001", 0x9408),
        ("A0A2000100", 0x6700),
        ("A0A2010001 53", 0x6B00),
        ("A0A2002001 53", 0x6B00),
        ("A0DC0104 01 00", 0x9804), // EF.PNN update is ADM: checked first
    ] {
        assert_eq!(sw(&mut c, apdu), want, "{apdu}");
    }
    select(&mut c, &["6F39"]);
    assert_eq!(
        sw(&mut c, "A0DC0104 03 000001"),
        0x6B00,
        "cyclic: PREVIOUS only"
    );
    for (apdu, want) in [
        ("A0DC0005 03 000001", 0x6B00), // no such mode
        ("A0DC000302 0001", 0x6700),    // record length is 3
        ("A0320100 03 000001", 0x6B00),
        ("A0320000 02 0001", 0x6700), // INCREASE takes 3 bytes
        ("A0F20000 01 00", 0x6700),   // STATUS has no data
        ("A0C0000100", 0x6B00),
        ("A0440001 00", 0x6B00),
    ] {
        assert_eq!(sw(&mut c, apdu), want, "{apdu}");
    }
}

#[test]
fn chv_commands_share_pins_with_the_uicc_side() {
    let mut c = card();
    // CHV1 is disabled: VERIFY is in contradiction with its status.
    assert_eq!(sw(&mut c, &format!("A020000108{PIN1}")), 0x9808);
    assert_eq!(sw(&mut c, &format!("A028000108{WRONG}")), 0x9804);
    ok(&mut c, &format!("A028000108{PIN1}"));
    assert_eq!(sw(&mut c, &format!("A028000108{PIN1}")), 0x9808);
    // The UICC side sees PIN1 enabled.
    c.reset();
    assert_eq!(sw(&mut c, "0020000100"), 0x63C3);
    assert_eq!(select(&mut c, &["7F20"])[13], 0x31, "CHV1 enabled");
    select(&mut c, &["6F07"]);
    assert_eq!(sw(&mut c, "A0B0000009"), 0x9804);
    assert_eq!(sw(&mut c, &format!("A020000108{WRONG}")), 0x9804);
    assert_eq!(select(&mut c, &["7F20"])[18], 0x82, "2 CHV1 attempts left");
    ok(&mut c, &format!("A020000108{PIN1}"));
    select(&mut c, &["6F07"]);
    ok(&mut c, "A0B0000009");
    // Verified once, for both sides.
    assert_eq!(sw(&mut c, "0020000100"), 0x9000);
    // CHANGE CHV1, then block it and UNBLOCK with P2 00.
    ok(&mut c, &format!("A024000110{PIN1}{WRONG}"));
    assert_eq!(sw(&mut c, &format!("A020000108{PIN1}")), 0x9804);
    assert_eq!(sw(&mut c, &format!("A020000108{PIN1}")), 0x9804);
    assert_eq!(sw(&mut c, &format!("A020000108{PIN1}")), 0x9840);
    assert_eq!(sw(&mut c, &format!("A020000108{WRONG}")), 0x9840);
    assert_eq!(select(&mut c, &["3F00"])[18], 0x80, "CHV1 blocked");
    assert_eq!(sw(&mut c, &format!("A02C000010{WRONG}{WRONG}")), 0x9804);
    assert_eq!(select(&mut c, &["3F00"])[19], 0x89);
    ok(&mut c, &format!("A02C000010{PUK1}{PIN1}"));
    assert_eq!(sw(&mut c, "0020000100"), 0x9000);
    // DISABLE CHV1 again.
    ok(&mut c, &format!("A026000108{PIN1}"));
    c.reset();
    select(&mut c, &["7F20", "6F07"]);
    ok(&mut c, "A0B0000009");

    // CHV2 is PIN2 (81) of ADF.USIM: it opens EF.ACMmax in DF.GSM and in ADF.USIM.
    select(&mut c, &["6F37"]);
    assert_eq!(sw(&mut c, "A0D6000003 000100"), 0x9804);
    assert_eq!(sw(&mut c, &format!("A020000208{WRONG}")), 0x9804);
    assert_eq!(select(&mut c, &["7F20"])[20], 0x82, "2 CHV2 attempts left");
    ok(&mut c, &format!("A020000208{PIN2}"));
    select(&mut c, &["6F37"]);
    ok(&mut c, "A0D6000003 000100");
    ok(&mut c, "00A4080C04 7FF0 6F37");
    ok(&mut c, "00D6000003 000200");
    // UNBLOCK CHV2 without its PUK tries: wrong P3.
    assert_eq!(sw(&mut c, &format!("A02C000208{PIN2}")), 0x6700);
    // ADM1 by VERIFY with P2 0A (extension): opens the ADM files.
    select(&mut c, &["7F20", "6F07"]);
    assert_eq!(sw(&mut c, "A0D6000001 08"), 0x9804);
    ok(&mut c, &format!("A020000A08{ADM1}"));
    ok(&mut c, "A0D6000001 08");
}

#[test]
fn run_gsm_algorithm_matches_uicc_gsm_context() {
    let mut c = card();
    select(&mut c, &["7F20"]);
    // The default profile has TS 35.208 / 55.205 test set 1 keys.
    let r = get(&mut c, "A088000010 23553CBE9637A89D218AE64DAE47BF35");
    assert_eq!(encode(&r), "46F8416AEAE4BE823AF9A08B");
    // The USIM's AUTHENTICATE in GSM context answers the same SRES and Kc.
    ok(&mut c, "00A4040C10A0000000871002FF44FFFF8900000100");
    let u = ok(&mut c, "0088008011 10 23553CBE9637A89D218AE64DAE47BF35 00");
    assert_eq!(encode(&u), "0446F8416A08EAE4BE823AF9A08B");
    // P3 must be 16; CHV1 must be satisfied.
    select(&mut c, &["3F00", "7F20"]);
    assert_eq!(
        sw(&mut c, "A08800000F 23553CBE9637A89D218AE64DAE47BF"),
        0x6700
    );
    assert_eq!(
        sw(&mut c, "A088010010 23553CBE9637A89D218AE64DAE47BF35"),
        0x6B00
    );
    ok(&mut c, &format!("A028000108{PIN1}"));
    c.reset();
    select(&mut c, &["7F20"]);
    assert_eq!(
        sw(&mut c, "A088000010 23553CBE9637A89D218AE64DAE47BF35"),
        0x9804
    );
}

#[test]
fn run_gsm_algorithm_ts55205_known_answers() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/gsm-milenage-ts55205.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let sets = doc["test_sets"].as_array().unwrap();
    assert_eq!(sets.len(), 19);
    let base = Profile::default_profile().to_toml().to_string();
    for t in sets {
        let f = |k: &str| t[k].as_str().unwrap().to_string();
        let toml = base
            .replace("465B5CE8B199B49FAA5F0A2EE238A6BC", &f("k"))
            .replace("CD63CB71954A9F4E48A5994E37A02BAF", &f("opc"));
        let mut c = Card::new(Profile::from_toml_str(&toml).unwrap()).unwrap();
        select(&mut c, &["7F20"]);
        let r = get(&mut c, &format!("A088000010{}", f("rand")));
        assert_eq!(encode(&r[..4]), f("sres1"), "set {}: SRES", t["set"]);
        assert_eq!(encode(&r[4..]), f("kc"), "set {}: Kc", t["set"]);
        // SRES#2 of TS 55.205 is the first half of RES (f2): check it against MILENAGE.
        let m = uicc::milenage::Milenage::with_opc(
            &decode(&f("k")).unwrap().try_into().unwrap(),
            &decode(&f("opc")).unwrap().try_into().unwrap(),
        );
        let o = m.f2345(&decode(&f("rand")).unwrap().try_into().unwrap());
        assert_eq!(encode(&o.res[..4]), f("sres2"), "set {}: SRES#2", t["set"]);
    }
}

#[test]
fn seek_increase_invalidate() {
    let mut c = card();
    select(&mut c, &["7F20", "6FC5"]);
    // Type 2 from the beginning: record 1 (EF.PNN) starts with the full-name IEI 43.
    assert_eq!(get(&mut c, "A0A2001002 4307"), vec![1]);
    assert_eq!(sw(&mut c, "A0A2001003 FFFFFF"), 0x9F01, "empty record 2");
    assert_eq!(ok(&mut c, "A0C0000001"), vec![2]);
    assert_eq!(sw(&mut c, "A0A2000003 414243"), 0x9404);
    // Type 1 sets the record pointer; READ RECORD current answers that record.
    ok(&mut c, "A0A2000001 43");
    let rec = ok(&mut c, "A0B2000410");
    assert_eq!(encode(&rec[..9]), "430786F374FB4D0F03");
    // Next from record 1: no other such record; backwards from the end finds it.
    assert_eq!(sw(&mut c, "A0A2000201 43"), 0x9404);
    assert_eq!(get(&mut c, "A0A2001101 43"), vec![1]);
    // UPDATE RECORD (ADM) absolute, read back with NEXT.
    let r2 = format!("4503{}{}", "86F374", "FF".repeat(11));
    assert_eq!(sw(&mut c, &format!("A0DC020410{r2}")), 0x9804);
    ok(&mut c, &format!("A020000A08{ADM1}"));
    ok(&mut c, &format!("A0DC020410{r2}"));
    // The absolute update left the pointer at record 1: NEXT reads record 2.
    assert_eq!(encode(&ok(&mut c, "A0B2000210")), r2);
    assert_eq!(sw(&mut c, "A0B2000210"), 0x9402, "no record after the last");

    // INCREASE on EF.ACM (cyclic): new value ‖ added value; overflow is 9850.
    select(&mut c, &["6F39"]);
    assert_eq!(encode(&get(&mut c, "A032000003 000010")), "000010000010");
    assert_eq!(encode(&get(&mut c, "A032000003 000005")), "000015000005");
    assert_eq!(encode(&ok(&mut c, "A0B2010403")), "000015");
    assert_eq!(encode(&ok(&mut c, "A0B2020403")), "000010");
    assert_eq!(sw(&mut c, "A032000003 FFFFFF"), 0x9850);
    // UPDATE RECORD PREVIOUS writes the oldest record, which becomes record 1.
    ok(&mut c, "A0DC000303 000001");
    assert_eq!(encode(&ok(&mut c, "A0B2010403")), "000001");

    // INVALIDATE / REHABILITATE EF.PLMNsel with ADM1 (verified above).
    select(&mut c, &["6F30"]);
    ok(&mut c, "A0040000");
    assert_eq!(select(&mut c, &["6F30"])[11], 0x00, "invalidated");
    assert_eq!(sw(&mut c, "A0B0000018"), 0x9810);
    ok(&mut c, "A0440000");
    assert_eq!(select(&mut c, &["6F30"])[11], 0x01);
    ok(&mut c, "A0B0000018");
}

#[test]
fn cat_with_class_a0() {
    let mut c = card();
    // TERMINAL PROFILE: the toolkit applets' SET UP MENU becomes pending (91xx).
    let s = sw(
        &mut c,
        "A010000014 1B61FF6361010C0C090000000000000000000000",
    );
    assert_eq!(s >> 8, 0x91, "{s:04X}");
    let (cmd, s2) = tx(&mut c, &format!("A0120000{:02X}", s & 0xFF));
    assert_eq!((cmd[0], s2), (0xD0, 0x9000));
    let at = if cmd[1] == 0x81 { 3 } else { 2 };
    assert_eq!(&cmd[at..at + 2], &[0x81, 0x03]);
    let details = encode(&cmd[at + 2..at + 5]);
    ok(&mut c, &format!("A01400000C 8103{details} 02028281 830100"));
    // Nothing more to fetch.
    assert_eq!(sw(&mut c, "A012000010"), 0x6F00);
    assert_eq!(sw(&mut c, "A010010001 00"), 0x6B00);
}

#[test]
fn rfm_session_runs_class_a0() {
    let mut c = card();
    let mut s = RemoteSession::new(None, &[0x0A]);
    let r = c.remote_apdu(&mut s, &decode("A0A40000027F20").unwrap());
    assert_eq!(
        encode(&r),
        "0000FFFF7F2002000000000009B100350500838A838A9000"
    );
    let r = c.remote_apdu(&mut s, &decode("A0A40000026F07").unwrap());
    assert_eq!(r.len(), 17);
    // The session's ADM1 grant opens the update.
    let r = c.remote_apdu(&mut s, &decode("A0D6000001 09").unwrap());
    assert_eq!(r, vec![0x90, 0x00]);
    let r = c.remote_apdu(&mut s, &decode("A0B0000002").unwrap());
    assert_eq!(r, vec![0x09, 0x09, 0x90, 0x00]);
    // GET RESPONSE and CAT commands are not run by the session itself.
    let r = c.remote_apdu(&mut s, &decode("A0C0000016").unwrap());
    assert_eq!(r, vec![0x6D, 0x00]);
}
