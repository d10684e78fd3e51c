//! Journey tests through `Card::process`: selection and reading, T=0 behaviour, PIN life
//! cycle, channels, records, AUTHENTICATE, applets, persistence and bad input.

use apdu::hex::decode;
use uicc::milenage::Milenage;
use uicc::{Card, FileStore, MemoryStore, Profile};

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

fn ok(c: &mut Card, h: &str) -> Vec<u8> {
    let (d, sw) = tx(c, h);
    assert_eq!(sw, 0x9000, "{h} answered {sw:04X}");
    d
}

fn sw(c: &mut Card, h: &str) -> u16 {
    tx(c, h).1
}

const ADM: &str = "0020000A083838383838383838";
const USIM_AID: &str = "A0000000871002FF44FFFF8900000100";

#[test]
fn select_by_path_and_read_iccid_imsi() {
    let mut c = card();
    let fcp = ok(&mut c, "00A4000402 2FE2 00");
    assert_eq!(
        apdu::hex::encode(&fcp),
        "621782024121 83022FE2 8A0105 8B032F0601 8002000A 880110".replace(' ', "")
    );
    assert_eq!(
        ok(&mut c, "00B000000A"),
        decode("988812010000000010F5").unwrap()
    );
    // by path from MF, via the ADF's FID
    ok(&mut c, "00A4080C04 7FF0 6F07");
    assert_eq!(
        ok(&mut c, "00B0000009"),
        decode("080910101032547698").unwrap()
    );
    // by AID, then SFI read (EF.AD has SFI 03)
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    assert_eq!(ok(&mut c, "00B0830004"), decode("00000002").unwrap());
    // 7FFF = current ADF
    ok(&mut c, "00A4080C04 7FFF 6F07");
    assert_eq!(ok(&mut c, "00B0000002"), decode("0809").unwrap());
    // partial AID
    let fcp = ok(&mut c, "00A4040407A000000087100200");
    assert_eq!(&fcp[..2], &[0x62, fcp.len() as u8 - 2]);
    assert!(apdu::hex::encode(&fcp).contains(&format!("8410{USIM_AID}")));
    assert!(
        apdu::hex::encode(&fcp).contains("C609900140830101830181"),
        "PIN status template: PIN1 disabled, PIN2 enabled"
    );
    // parent, child DF, not found
    ok(&mut c, "00A4000C023F00");
    ok(&mut c, "00A4010C027F10");
    ok(&mut c, "00A4030C");
    assert_eq!(sw(&mut c, "00A4000C026F99"), 0x6A82);
    assert_eq!(sw(&mut c, "00A4040C05A000000099"), 0x6A82);
}

#[test]
fn mf_fcp_has_pin_template_and_memory() {
    let mut c = card();
    let fcp = ok(&mut c, "00A40004023F0000");
    let h = apdu::hex::encode(&fcp);
    assert!(h.starts_with("62"), "{h}");
    assert!(
        h.contains("82027821") && h.contains("83023F00") && h.contains("A509800171"),
        "{h}"
    );
    assert!(h.contains("C60F90016083010183018183010A830111"), "{h}");
    // STATUS returns the current DF's FCP, accepting an extended Le.
    assert_eq!(ok(&mut c, "80F2000000 0000".replace(' ', "").as_str()), fcp);
    assert_eq!(sw(&mut c, "80F2000C"), 0x9000);
    assert_eq!(sw(&mut c, "00F20000"), 0x6E00, "STATUS needs the 8X class");
}

#[test]
fn t0_get_response_and_wrong_le() {
    let mut c = card();
    let (d, s) = tx(&mut c, "00A40004022FE2");
    assert!(d.is_empty());
    assert_eq!(s, 0x6119);
    assert_eq!(sw(&mut c, "00C0000010"), 0x6109);
    let (d, s) = tx(&mut c, "00C0000010");
    assert_eq!((d.len(), s), (9, 0x9000));
    assert_eq!(sw(&mut c, "00C0000010"), 0x6985, "nothing pending any more");
    // Le smaller than a unit answers 6Cxx
    assert_eq!(sw(&mut c, "00A40004022FE205"), 0x6C19);
    // READ BINARY with an explicit Le beyond the end answers 6Cxx with what is there
    assert_eq!(sw(&mut c, "00B000040A"), 0x6C06);
    // Le = 00 reads what is there
    assert_eq!(ok(&mut c, "00B0000400").len(), 6);
    // any other command clears the pending data
    tx(&mut c, "00A40004022FE2");
    ok(&mut c, "00A4000C022FE2");
    assert_eq!(sw(&mut c, "00C0000020"), 0x6985);
}

#[test]
fn pin_lifecycle_blocked_and_unblocked() {
    let mut c = card();
    ok(&mut c, "0028000108 31323334FFFFFFFF"); // ENABLE PIN1
    c.reset();
    ok(&mut c, "00A4080C047FF06F07");
    assert_eq!(sw(&mut c, "00B0000009"), 0x6982);
    assert_eq!(sw(&mut c, "0020000100"), 0x63C3);
    assert_eq!(sw(&mut c, "0020000108 30303030FFFFFFFF"), 0x63C2);
    assert_eq!(sw(&mut c, "0020000108 30303030FFFFFFFF"), 0x63C1);
    assert_eq!(sw(&mut c, "0020000108 30303030FFFFFFFF"), 0x63C0);
    assert_eq!(
        sw(&mut c, "0020000108 31323334FFFFFFFF"),
        0x6983,
        "blocked even with the right PIN"
    );
    assert_eq!(sw(&mut c, "002C000100"), 0x63CA);
    assert_eq!(
        sw(&mut c, "002C000110 3030303030303030 31313131FFFFFFFF"),
        0x63C9
    );
    assert_eq!(
        sw(&mut c, "002C000110 3132333435363738 313131FFFFFFFFFF"),
        0x6A80,
        "3-digit PIN refused"
    );
    ok(&mut c, "002C000110 3132333435363738 31313131FFFFFFFF");
    assert_eq!(ok(&mut c, "00B0000009").len(), 9, "verified by UNBLOCK");
    c.reset();
    assert_eq!(
        sw(&mut c, "0020000100"),
        0x63C3,
        "counter restored, status cleared"
    );
    ok(&mut c, "00A4080C047FF06F07");
    assert_eq!(sw(&mut c, "00B0000009"), 0x6982);
    ok(&mut c, "0020000108 31313131FFFFFFFF");
    ok(&mut c, "00B0000009");
    ok(&mut c, "0024000110 31313131FFFFFFFF 39393939FFFFFFFF"); // CHANGE
    assert_eq!(sw(&mut c, "0020000108 31313131FFFFFFFF"), 0x63C2);
    ok(&mut c, "0020000108 39393939FFFFFFFF");
    ok(&mut c, "0026000108 39393939FFFFFFFF"); // DISABLE
    assert_eq!(sw(&mut c, "0026000108 39393939FFFFFFFF"), 0x6985);
    assert_eq!(
        sw(&mut c, "0024000110 39393939FFFFFFFF 31313131FFFFFFFF"),
        0x6984
    );
    // bad lengths and references
    assert_eq!(sw(&mut c, "0020000104 31323334"), 0x6700);
    assert_eq!(sw(&mut c, "0020000508 31323334FFFFFFFF"), 0x6A88);
    assert_eq!(sw(&mut c, "0020010108 31323334FFFFFFFF"), 0x6B00);
    // ADM
    assert_eq!(sw(&mut c, "0026000A083838383838383838"), 0x6985);
    ok(&mut c, ADM);
}

#[test]
fn access_conditions_enforced() {
    let mut c = card();
    ok(&mut c, "00A4000C022FE2");
    assert_eq!(
        sw(&mut c, "00D6000001 00"),
        0x6982,
        "ICCID update needs ADM"
    );
    ok(&mut c, ADM);
    ok(&mut c, "00D6000001 98");
    // EF.EST: update needs PIN2 (81)
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    ok(&mut c, "00A4000C026F56");
    assert_eq!(sw(&mut c, "00D6000001 01"), 0x6982);
    ok(&mut c, "0020008108 35363738FFFFFFFF");
    ok(&mut c, "00D6000001 01");
    assert_eq!(ok(&mut c, "00B0000001"), vec![1]);
    // update-never (ARR record 7) via a file pointing at it does not exist in the default
    // profile; EF.ACC needs ADM, which is verified.
    ok(&mut c, "00A4000C026F78");
    ok(&mut c, "00D6000002 0002");
}

#[test]
fn channels_are_isolated() {
    let mut c = card();
    assert_eq!(ok(&mut c, "0070000001"), vec![1]);
    assert_eq!(ok(&mut c, "0070000001"), vec![2]);
    ok(&mut c, "00A4000C022FE2");
    ok(&mut c, "01A4080C047FF06F07");
    assert_eq!(ok(&mut c, "00B0000001"), vec![0x98]);
    assert_eq!(ok(&mut c, "01B0000001"), vec![0x08]);
    // channel 2 starts at the MF with nothing selected
    assert_eq!(sw(&mut c, "02B0000001"), 0x6986);
    // extended channels: open 5 explicitly, use CLA 41 (channel 5)
    ok(&mut c, "00700005");
    ok(&mut c, "41A4000C022FE2");
    assert_eq!(ok(&mut c, "41B0000001"), vec![0x98]);
    assert_eq!(ok(&mut c, "81F2000000").first(), Some(&0x62));
    assert_eq!(sw(&mut c, "42B0000001"), 0x6881, "channel 6 not open");
    ok(&mut c, "0070800100");
    assert_eq!(sw(&mut c, "01B0000001"), 0x6881, "closed");
    assert_eq!(
        sw(&mut c, "0070800000"),
        0x6A86,
        "basic channel cannot be closed"
    );
    c.reset();
    assert_eq!(sw(&mut c, "02B0000001"), 0x6881, "reset closes channels");
}

#[test]
fn records_linear_cyclic_and_search() {
    let mut c = card();
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    // EF.ECC by SFI 01: next, next, then end
    assert_eq!(ok(&mut c, "00B2010C04"), decode("11F2FF00").unwrap());
    assert_eq!(ok(&mut c, "00B2000204"), decode("11F2FF00").unwrap());
    assert_eq!(ok(&mut c, "00B2000204"), decode("19F1FF00").unwrap());
    assert_eq!(sw(&mut c, "00B2000204"), 0x6A83);
    assert_eq!(ok(&mut c, "00B2000304"), decode("11F2FF00").unwrap());
    assert_eq!(sw(&mut c, "00B2030404"), 0x6A83);
    assert_eq!(sw(&mut c, "00B2010402"), 0x6C04);
    assert_eq!(
        sw(&mut c, "00B0000001"),
        0x6981,
        "READ BINARY on a record file"
    );
    // SEARCH RECORD forward from record 1
    assert_eq!(ok(&mut c, "00A2010402 19F1 00"), vec![2]);
    assert_eq!(sw(&mut c, "00A2010402 AAAA"), 0x6282);
    // enhanced search, offset 2
    assert_eq!(ok(&mut c, "00A2010603 04 02 FF 00"), vec![1, 2]);
}

#[test]
fn cyclic_increase_after_pin() {
    let mut c = card();
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    ok(&mut c, "00A4000C026F39");
    // PIN1 is disabled in the default profile, so PIN1 conditions hold.
    let r = ok(&mut c, "8032000001 05 00");
    assert_eq!(r, decode("00000505").unwrap());
    let r = ok(&mut c, "8032000002 0100 00");
    assert_eq!(r, decode("0001050100").unwrap());
    assert_eq!(ok(&mut c, "00B2010403"), decode("000105").unwrap());
    assert_eq!(ok(&mut c, "00B2020403"), decode("000005").unwrap());
    assert_eq!(ok(&mut c, "00B2030403"), decode("000000").unwrap());
    assert_eq!(sw(&mut c, "8032000003 FFFFFF"), 0x9850);
    assert_eq!(sw(&mut c, "8032000004 00000001"), 0x6700);
    ok(&mut c, "00DC000303 ABCDEF");
    assert_eq!(ok(&mut c, "00B2010403"), decode("ABCDEF").unwrap());
    assert_eq!(
        sw(&mut c, "00DC010403 ABCDEF"),
        0x6A86,
        "cyclic update only in PREVIOUS mode"
    );
    ok(&mut c, "00A4000C026F07");
    assert_eq!(sw(&mut c, "8032000001 01"), 0x6981);
}

#[test]
fn update_record_and_binary_bounds() {
    let mut c = card();
    ok(&mut c, ADM);
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    ok(&mut c, "00A4000C026FB7");
    ok(&mut c, "00DC020404 11F7FF01");
    assert_eq!(ok(&mut c, "00B2020404"), decode("11F7FF01").unwrap());
    assert_eq!(sw(&mut c, "00DC020403 11F7FF"), 0x6700);
    assert_eq!(sw(&mut c, "00DC030404 11F7FF01"), 0x6A83);
    ok(&mut c, "00A4000C026F07");
    assert_eq!(sw(&mut c, "00D6000802 0102"), 0x6700);
    assert_eq!(sw(&mut c, "00D6000901 01"), 0x6B00);
    assert_eq!(sw(&mut c, "00B0000A01"), 0x6B00);
    ok(&mut c, "00D6000801 77");
    assert_eq!(ok(&mut c, "00B0000801"), vec![0x77]);
}

#[test]
fn deactivate_and_activate() {
    let mut c = card();
    ok(&mut c, "00A4000C022F05");
    assert_eq!(sw(&mut c, "00040000"), 0x6982, "needs ADM");
    ok(&mut c, ADM);
    ok(&mut c, "00040000");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6283);
    let (_, s) = tx(&mut c, "00A40004022F05");
    assert_eq!(s, 0x6283);
    ok(&mut c, "0044000002 2F05");
    assert_eq!(ok(&mut c, "00B0000002"), decode("656E").unwrap());
}

#[test]
fn ber_tlv_ef_retrieve_and_set() {
    let mut c = card();
    let fcp = ok(&mut c, "00A40004022FF000");
    assert!(apdu::hex::encode(&fcp).contains("82027921"));
    assert_eq!(ok(&mut c, "80CB000002 DF20 00"), decode("CAFE").unwrap());
    assert_eq!(ok(&mut c, "80CB000001 80 00"), decode("010203").unwrap());
    assert_eq!(sw(&mut c, "80CB000001 81 00"), 0x6A88);
    ok(&mut c, "80DB010005 81 03 AABBCC");
    assert_eq!(ok(&mut c, "80CB000001 81 00"), decode("AABBCC").unwrap());
    ok(&mut c, "80DB010002 81 00");
    assert_eq!(sw(&mut c, "80CB000001 81 00"), 0x6A88);
    assert_eq!(sw(&mut c, "00B0000001"), 0x6981);
    let big = format!("80DB010083DF21817F{}", "00".repeat(0x7F));
    assert_eq!(sw(&mut c, &big), 0x6A84);
}

fn autn(m: &Milenage, rand: &[u8; 16], sqn: u64, amf: [u8; 2]) -> Vec<u8> {
    let s = sqn.to_be_bytes();
    let sqn6 = [s[2], s[3], s[4], s[5], s[6], s[7]];
    let o = m.f2345(rand);
    let mut v: Vec<u8> = sqn6.iter().zip(o.ak.iter()).map(|(a, b)| a ^ b).collect();
    v.extend_from_slice(&amf);
    v.extend_from_slice(&m.f1(rand, &sqn6, &amf));
    v
}

#[test]
fn authenticate_3g_resync_and_gsm() {
    let k: [u8; 16] = decode("465B5CE8B199B49FAA5F0A2EE238A6BC")
        .unwrap()
        .try_into()
        .unwrap();
    let opc: [u8; 16] = decode("CD63CB71954A9F4E48A5994E37A02BAF")
        .unwrap()
        .try_into()
        .unwrap();
    let m = Milenage::with_opc(&k, &opc);
    let rand: [u8; 16] = decode("23553CBE9637A89D218AE64DAE47BF35")
        .unwrap()
        .try_into()
        .unwrap();
    let mut c = card();
    let a = |sqn: u64| {
        format!(
            "008800812210{}10{}00",
            apdu::hex::encode(&rand),
            apdu::hex::encode(&autn(&m, &rand, sqn, [0x80, 0]))
        )
    };
    assert_eq!(sw(&mut c, &a(0x20)), 0x6985, "no USIM selected");
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    let r = ok(&mut c, &a((1 << 5) | 3));
    let o = m.f2345(&rand);
    let mut want = vec![0xDB, 8];
    want.extend_from_slice(&o.res);
    want.push(16);
    want.extend_from_slice(&o.ck);
    want.push(16);
    want.extend_from_slice(&o.ik);
    assert_eq!(r, want);
    // replay of the same SQN → AUTS
    let r = ok(&mut c, &a((1 << 5) | 3));
    assert_eq!(&r[..2], &[0xDC, 14]);
    let sqn_ms: Vec<u8> = r[2..8]
        .iter()
        .zip(o.ak_star.iter())
        .map(|(x, y)| x ^ y)
        .collect();
    assert_eq!(sqn_ms, decode("000000000023").unwrap());
    let sqn6: [u8; 6] = sqn_ms.try_into().unwrap();
    assert_eq!(&r[8..16], &m.f1_star(&rand, &sqn6, &[0, 0]));
    // a higher SEQ on another IND is fine; a lower SEQ on a fresh IND too
    ok(&mut c, &a((5 << 5) | 4));
    ok(&mut c, &a((2 << 5) | 7));
    // too far ahead (beyond delta = 2^28)
    assert_eq!(ok(&mut c, &a(((5 + (1u64 << 28) + 1) << 5) | 1))[0], 0xDC);
    // MAC failure
    let mut bad = a((9 << 5) | 1);
    let n = bad.len();
    bad.replace_range(n - 4.., "0000");
    assert_eq!(sw(&mut c, &bad), 0x9862);
    assert_eq!(sw(&mut c, "0088008105 1001020304"), 0x6A80);
    assert_eq!(sw(&mut c, "0088008200"), 0x6700);
    // GSM context: SRES and Kc via c2/c3
    let r = ok(
        &mut c,
        &format!("008800801110{}00", apdu::hex::encode(&rand)),
    );
    assert_eq!(r[0], 4);
    assert_eq!(&r[1..5], &uicc::milenage::c2(&o.res));
    assert_eq!(r[5], 8);
    assert_eq!(&r[6..14], &uicc::milenage::c3(&o.ck, &o.ik));
    // the SEQ array is persistent state
    assert_eq!(c.nv_state().auth[0].seq[3], 1);
    assert_eq!(c.nv_state().auth[0].seq[4], 5);
}

const DEMO_AID: &str = "F073696D6F74610101";

#[test]
fn applet_select_process_transactions() {
    let store = MemoryStore::new();
    let mut c = Card::with_store(Profile::default_profile(), Box::new(store.clone())).unwrap();
    ok(&mut c, &format!("00A4040009{DEMO_AID}"));
    ok(&mut c, "8050000003 010203");
    assert_eq!(ok(&mut c, "8052000000"), decode("010203").unwrap());
    assert_eq!(ok(&mut c, "8054000000"), decode("00000001").unwrap());
    assert_eq!(
        ok(&mut c, "8054010000"),
        decode("00000001").unwrap(),
        "aborted"
    );
    assert_eq!(sw(&mut c, "8054020000"), 0x6F00);
    assert_eq!(
        ok(&mut c, "8054000000"),
        decode("00000003").unwrap(),
        "committed part of P1=02 kept"
    );
    assert_eq!(sw(&mut c, "0052000000"), 0x6E00);
    assert_eq!(sw(&mut c, "8099000000"), 0x6D00);
    assert_eq!(ok(&mut c, "8056000008").len(), 8);
    // selecting a file leaves the applet; the FS answers again
    ok(&mut c, "00A4000C022FE2");
    assert_eq!(ok(&mut c, "00B0000001"), vec![0x98]);
    // on another channel, by partial AID
    assert_eq!(ok(&mut c, "0070000001"), vec![1]);
    ok(&mut c, "01A4040006F073696D6F74");
    assert_eq!(ok(&mut c, "8152000000"), decode("010203").unwrap());
    // restart from the store: persistent fields survive
    drop(c);
    let mut c = Card::with_store(Profile::default_profile(), Box::new(store)).unwrap();
    ok(&mut c, &format!("00A4040C09{DEMO_AID}"));
    assert_eq!(ok(&mut c, "8052000000"), decode("010203").unwrap());
    assert_eq!(ok(&mut c, "8054000000"), decode("00000004").unwrap());
}

#[test]
fn restart_from_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    {
        let mut c = Card::with_store(
            Profile::default_profile(),
            Box::new(FileStore::open(&path).unwrap()),
        )
        .unwrap();
        ok(&mut c, "00A4080C047FF06F7B");
        ok(&mut c, "00D6000003 13F001");
        assert_eq!(sw(&mut c, "0020000A083030303030303030"), 0x63C9);
    }
    // a stale temporary file from a crash does not matter
    std::fs::write(dir.path().join("card.json.tmp"), b"garbage").unwrap();
    let mut c = Card::with_store(
        Profile::default_profile(),
        Box::new(FileStore::open(&path).unwrap()),
    )
    .unwrap();
    ok(&mut c, "00A4080C047FF06F7B");
    assert_eq!(ok(&mut c, "00B0000003"), decode("13F001").unwrap());
    assert_eq!(sw(&mut c, "0020000A00"), 0x63C9, "ADM counter persisted");
    // another profile refuses the state
    let other = Profile::from_toml_str(
        &Profile::default_profile()
            .to_toml()
            .replace("simota default USIM", "other"),
    )
    .unwrap();
    assert!(matches!(
        Card::with_store(other, Box::new(FileStore::open(&path).unwrap())),
        Err(uicc::CardError::ProfileMismatch { .. })
    ));
    // a corrupt state file is an error, not a panic
    std::fs::write(&path, b"{").unwrap();
    assert!(matches!(
        Card::with_store(
            Profile::default_profile(),
            Box::new(FileStore::open(&path).unwrap())
        ),
        Err(uicc::CardError::Store(uicc::StoreError::Corrupt { .. }))
    ));
}

#[test]
fn torn_verify_never_grants_a_free_try() {
    let store = MemoryStore::new();
    let mut c = Card::with_store(Profile::default_profile(), Box::new(store.clone())).unwrap();
    let adm = |s: &MemoryStore| {
        s.committed()
            .unwrap()
            .pins
            .iter()
            .find(|p| p.key_ref == 0x0A)
            .unwrap()
            .left
    };
    assert_eq!(adm(&store), 10);
    // Cut power right after the first write of a VERIFY with the right value: the decrement
    // was not yet committed and nothing was compared, no answer leaves the card.
    c.tear_after_writes(1);
    assert!(c.process(&decode(ADM).unwrap()).is_empty());
    assert_eq!(adm(&store), 10);
    c.reset();
    // Cut after the second write (the restore after a successful compare): the committed
    // counter is the decremented one, and the card answered nothing.
    c.tear_after_writes(2);
    assert!(c.process(&decode(ADM).unwrap()).is_empty());
    assert_eq!(adm(&store), 9, "decrement persisted before the compare");
    c.reset();
    assert_eq!(sw(&mut c, "0020000A00"), 0x63C9);
    // A wrong value: counter committed before the answer.
    let before = store.commit_count();
    assert_eq!(sw(&mut c, "0020000A083030303030303030"), 0x63C8);
    assert!(store.commit_count() > before);
    assert_eq!(adm(&store), 8);
}

#[test]
fn bad_input_status_words() {
    let mut c = card();
    for (apdu, want) in [
        ("00", 0x6700),
        ("00A4", 0x6700),
        ("00A4000C", 0x9000),
        ("00A4000005 3F00", 0x6700),
        ("FFA4000C023F00", 0x6E00),
        ("A0A4000002 3F00", 0x9F16), // GSM SIM mode (TS 51.011)
        ("A0A4000002 7FF0", 0x9404),
        ("0CA4000C023F00", 0x6882),
        ("10A4000C023F00", 0x6884),
        ("00FE000000", 0x6D00),
        ("00A4050C023F00", 0x6A86),
        ("00A40084023F00", 0x6A86),
        ("00A4000C033F0000", 0x6700),
        ("00A4080C03 7FF06F", 0x6700),
        ("00B0000001", 0x6986),
        ("00B2010400", 0x6986),
        ("80B0000001", 0x6E00),
        ("00C0000000", 0x6985),
        ("00C0010000", 0x6B00),
        ("80100000 02 FFFF", 0x9000),
        ("80C20000 02 D100", 0x6A80), // CAT engine: malformed SMS-PP envelope
        ("8012000010", 0x6985),       // CAT engine: nothing to FETCH
        ("00840000 08", 0x9000),
        ("0070020000", 0x6A86),
        ("00700014", 0x6A81),
        ("00B0E00001", 0x6B00),
        ("00000000", 0x6D00),
        ("00A4000C02 3F00 0000", 0x6700),
    ] {
        let (_, s) = tx(&mut c, apdu);
        assert_eq!(s, want, "{apdu}");
    }
    // ENVELOPE with another CLA
    assert_eq!(sw(&mut c, "00C2000002D100"), 0x6D00);
    assert_eq!(sw(&mut c, "81C2000002D100"), 0x6E00);
}

#[test]
fn reset_returns_a_t0_only_atr() {
    // T=0 only, like most SIMs: pcscd picks T=1 whenever it is offered, and pySim then fails
    // with "Card protocol mismatch" (issue 13).
    let mut c = card();
    let atr = c.reset();
    let a = apdu::Atr::parse(&atr).unwrap();
    assert_eq!(a.tck_ok(), Some(true));
    assert_eq!(a.protocols(), vec![0, 15]);
    assert_eq!(c.warm_reset(), atr);
    assert_eq!(c.atr(), atr);
}

#[test]
fn remote_session_uses_granted_rights_and_leaves_commit_to_caller() {
    let store = MemoryStore::new();
    let mut c = Card::with_store(Profile::default_profile(), Box::new(store.clone())).unwrap();
    let adf = c.profile().tree.adf_by_aid(&decode(USIM_AID).unwrap());
    let mut rfm = uicc::RemoteSession::new(adf, &[0x0A]);
    let r =
        |c: &mut Card, s: &mut uicc::RemoteSession, h: &str| c.remote_apdu(s, &decode(h).unwrap());
    assert_eq!(r(&mut c, &mut rfm, "00A4000C026F78"), vec![0x90, 0x00]);
    assert_eq!(
        r(&mut c, &mut rfm, "00D6000002 0004"),
        vec![0x90, 0x00],
        "ADM granted"
    );
    assert_eq!(
        r(&mut c, &mut rfm, "00B0000002"),
        vec![0x00, 0x04, 0x90, 0x00]
    );
    let fcp = r(&mut c, &mut rfm, "00A40004026F07");
    assert_eq!(
        (fcp[0], &fcp[fcp.len() - 2..]),
        (0x62, &[0x90, 0x00][..]),
        "FCP returned directly"
    );
    // not committed yet; the terminal's channel 0 is untouched and has no ADM
    assert_eq!(
        store.committed().unwrap().files,
        Profile::default_profile().initial_state().files
    );
    assert_eq!(sw(&mut c, "00B0000001"), 0x6986);
    let mut plain = uicc::RemoteSession::new(adf, &[]);
    r(&mut c, &mut plain, "00A4000C026F78");
    assert_eq!(r(&mut c, &mut plain, "00D6000002 0004"), vec![0x69, 0x82]);
    // the next APDU's end commits the RFM writes
    ok(&mut c, "00A4080C047FF06F78");
    assert_eq!(ok(&mut c, "00B0000002"), vec![0x00, 0x04]);
}

#[test]
fn aid_occurrences_first_next_last_previous() {
    // The built-in card has ADF.USIM and ADF.ISIM, both under A000000087.
    let isim = "A0000000871004FF44FFFF8900000100";
    let mut c = card();
    let status_aid = |c: &mut Card| ok(c, "80F2000100")[2..].to_vec();
    ok(&mut c, "00A4040C05A000000087"); // first
    assert_eq!(status_aid(&mut c), decode(USIM_AID).unwrap());
    ok(&mut c, "00A4040E05A000000087"); // next
    assert_eq!(status_aid(&mut c), decode(isim).unwrap());
    assert_eq!(
        ok(&mut c, "00B0820005"),
        decode("8031303031").unwrap(),
        "SFI in ADF.ISIM: EF.IMPI"
    );
    assert_eq!(
        sw(&mut c, "00A4040E05A000000087"),
        0x6A82,
        "no further occurrence"
    );
    ok(&mut c, "00A4040F05A000000087"); // previous
    assert_eq!(status_aid(&mut c), decode(USIM_AID).unwrap());
    ok(&mut c, "00A4040D05A000000087"); // last
    assert_eq!(status_aid(&mut c), decode(isim).unwrap());
    // termination of the current application
    ok(&mut c, &format!("00A4044C10{isim}"));
    assert_eq!(
        sw(&mut c, "80F2000100"),
        0x9000,
        "no application selected any more"
    );
}

/// Issue 12 item 4: the state file (and its temporary file) holds the card's secrets in clear,
/// so it is created with mode 0600 — also over a stale 0644 temporary file.
#[cfg(unix)]
#[test]
fn state_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let tmp = dir.path().join("card.json.tmp");
    std::fs::write(&tmp, b"stale").unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = FileStore::open(&path).unwrap();
    store.write_tmp(b"{}").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&tmp), 0o600, "temporary file");
    let mut c = Card::with_store(Profile::default_profile(), Box::new(store)).unwrap();
    ok(&mut c, "00A4080C047FF06F7B");
    ok(&mut c, "00D6000003 13F001");
    assert_eq!(mode(&path), 0o600, "state file");
}

/// pySim's forms of RETRIEVE DATA / SET DATA (P2 80 = first block) and the tag list (tag 5C),
/// each answer fetched with a GET RESPONSE of CLA 80 as pySim sends it (issue 13).
#[test]
fn ber_tlv_ef_pysim_forms_and_get_response_cla_80() {
    let mut c = card();
    ok(&mut c, "00A4000C022FF0");
    // tag list: DO 5C with the tags 80 and DF20
    let (d, s) = tx(&mut c, "80CB008001 5C");
    assert_eq!((d.len(), s), (0, 0x6105));
    assert_eq!(ok(&mut c, "80C0000005"), decode("5C03 80 DF20").unwrap());
    assert_eq!(ok(&mut c, "80CB008002 DF20 00"), decode("CAFE").unwrap());
    ok(&mut c, "80DB008005 81 03 AABBCC");
    assert_eq!(ok(&mut c, "80CB008001 81 00"), decode("AABBCC").unwrap());
    assert_eq!(
        ok(&mut c, "80CB008001 5C 00"),
        decode("5C04 80 DF20 81").unwrap()
    );
    assert_eq!(sw(&mut c, "80CB018001 5C 00"), 0x6B00);
    assert_eq!(
        sw(&mut c, "80DB000005 81 03 AABBCC"),
        0x6B00,
        "next block: none pending"
    );
    // STATUS without Le, then GET RESPONSE with CLA 80
    let (_, s) = tx(&mut c, "80F20000");
    assert_eq!(s >> 8, 0x61);
    let fcp = ok(&mut c, &format!("80C00000{:02X}", s & 0xFF));
    assert_eq!(fcp[0], 0x62);
}

/// ADF.ISIM has its own MILENAGE keys (TS 35.208 test set 2): IMS AKA answers RES/CK/IK of
/// set 2, not of the USIM's set 1 (issue 13).
#[test]
fn isim_aka_uses_its_own_keys() {
    let key = |h: &str| -> [u8; 16] { decode(h).unwrap().try_into().unwrap() };
    let m = Milenage::with_opc(
        &key("0396EB317B6D1C36F19C1C84CD6FFD16"),
        &key("53C15671C60A4B731C55B4A441C0BDE2"),
    );
    let rand = key("C00D603103DCEE52C4478119494202E8");
    let mut c = card();
    ok(&mut c, "00A4040C07 A0000000871004");
    let r = ok(
        &mut c,
        &format!(
            "008800812210{}10{}00",
            apdu::hex::encode(&rand),
            apdu::hex::encode(&autn(&m, &rand, 1 << 5, [0x80, 0]))
        ),
    );
    let o = m.f2345(&rand);
    assert_eq!(&r[..2], &[0xDB, 8]);
    assert_eq!(&r[2..10], &o.res);
    assert_eq!(apdu::hex::encode(&o.res), "D3A628ED988620F0");
    // the same challenge is a MAC failure for the USIM (other keys)
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    let a = format!(
        "008800812210{}10{}00",
        apdu::hex::encode(&rand),
        apdu::hex::encode(&autn(&m, &rand, 2 << 5, [0x80, 0]))
    );
    assert_eq!(sw(&mut c, &a), 0x9862);
}

/// Contents derived from [subscriber]: EF.SPN, the HPLMN lists and the ISIM identities.
#[test]
fn subscriber_derived_contents() {
    let mut c = card();
    ok(&mut c, &format!("00A4040C10{USIM_AID}"));
    ok(&mut c, "00A4000C02 6F46");
    assert_eq!(
        ok(&mut c, "00B0000011"),
        decode("0173696D6F7461FFFFFFFFFFFFFFFFFFFF").unwrap()
    );
    ok(&mut c, "00A4000C02 6FD9");
    assert_eq!(&ok(&mut c, "00B0000003")[..], &[0x00, 0xF1, 0x10]);
    ok(&mut c, "00A4000C02 6F62");
    assert_eq!(ok(&mut c, "00B0000005"), decode("00F110C0C0").unwrap());
    // EF.EPSLOCI answers by its SFI 1E, EF.AD by SFI 03 (modems read them so)
    assert_eq!(ok(&mut c, "00B09E0001"), decode("FF").unwrap());
    assert_eq!(ok(&mut c, "00B0830004"), decode("00000002").unwrap());
    ok(&mut c, "00A4040C07 A0000000871004");
    let domain = b"ims.mnc001.mcc001.3gppnetwork.org";
    ok(&mut c, "00A4000C02 6F03");
    let d = ok(&mut c, &format!("00B00000{:02X}", domain.len() + 2));
    assert_eq!(&d[2..], domain);
    ok(&mut c, "00A4000C02 6F02");
    let d = ok(&mut c, "00B0000033");
    assert_eq!(&d[..2], &[0x80, 49]);
    assert_eq!(
        &d[2..],
        b"001010123456789@ims.mnc001.mcc001.3gppnetwork.org"
    );
    ok(&mut c, "00A4000C02 6F04");
    let d = ok(&mut c, "00B2010440");
    assert_eq!(
        &d[2..55],
        b"sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org"
    );
}

/// Files of DF.TELECOM name the nearest EF.ARR, DF.TELECOM's own 6F06 (issue 13); the MF's
/// files keep 2F06.
#[test]
fn df_telecom_files_use_its_own_ef_arr() {
    let mut c = card();
    let fcp = apdu::hex::encode(&ok(&mut c, "00A4080404 7F10 6F3A 00"));
    assert!(fcp.contains("8B036F0603"), "{fcp}");
    let fcp = apdu::hex::encode(&ok(&mut c, "00A4080406 7F10 5F3A 4F30 00"));
    assert!(fcp.contains("8B036F0603"), "{fcp}");
    let fcp = apdu::hex::encode(&ok(&mut c, "00A4080402 2FE2 00"));
    assert!(fcp.contains("8B032F0601"), "{fcp}");
}
