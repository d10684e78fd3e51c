//! DF.GSM of the built-in profile as a data set (TS 51.011 §10.3): EF.SST lists exactly the
//! services whose files exist (§10.3.7), EF.SPN follows `[subscriber] spn` like the USIM's
//! (§10.3.11), and the PLMN and location files agree with ADF.USIM's.

use apdu::hex::{decode, encode};
use uicc::{Card, Profile};

/// Send hex, return (data, sw).
fn tx(c: &mut Card, h: &str) -> (Vec<u8>, u16) {
    let r = c.process(&decode(h).unwrap());
    assert!(r.len() >= 2, "no SW for {h}");
    let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    (r[..r.len() - 2].to_vec(), sw)
}

/// Does the file at this path of FIDs below the MF exist? (class A0 SELECT: `9Fxx` or `9404`)
fn exists(c: &mut Card, path: &str) -> bool {
    assert_eq!(tx(c, "A0A40000023F00").1 >> 8, 0x9F);
    for fid in path.split('/') {
        match tx(c, &format!("A0A4000002{fid}")).1 {
            0x9404 => return false,
            s => assert_eq!(s >> 8, 0x9F, "SELECT {fid} of {path} answered {s:04X}"),
        }
    }
    true
}

/// The whole of a transparent EF read with class A0 (file size from the GET RESPONSE).
fn gsm_read(c: &mut Card, path: &str) -> Vec<u8> {
    assert!(exists(c, path), "{path} missing");
    let (_, s) = tx(
        c,
        &format!("A0A4000002{}", path.rsplit('/').next().unwrap()),
    );
    let (fcp, s2) = tx(c, &format!("A0C00000{:02X}", s & 0xFF));
    assert_eq!(s2, 0x9000);
    let size = usize::from(u16::from_be_bytes([fcp[2], fcp[3]]));
    let (d, s3) = tx(c, &format!("A0B00000{size:02X}"));
    assert_eq!(s3, 0x9000, "READ BINARY {path}");
    d
}

/// A transparent EF of ADF.USIM read with class 00.
fn usim_read(c: &mut Card, fid: &str, len: usize) -> Vec<u8> {
    assert_eq!(tx(c, "00A4040C07A0000000871002").1, 0x9000);
    assert_eq!(tx(c, &format!("00A4000C02{fid}")).1, 0x9000, "USIM {fid}");
    let (d, s) = tx(c, &format!("00B00000{len:02X}"));
    assert_eq!(s, 0x9000, "READ BINARY USIM {fid}");
    d
}

/// TS 51.011 §10.3.7: each service with the files it needs (paths below the MF). Services
/// that are procedures only carry `None`: (service, files).
const SERVICES: &[(u8, Option<&[&str]>)] = &[
    (2, Some(&["7F10/6F3A"])),
    (3, Some(&["7F10/6F3B"])),
    (4, Some(&["7F10/6F3C", "7F10/6F43"])),
    (5, Some(&["7F20/6F37", "7F20/6F39", "7F20/6F41"])),
    (6, Some(&["7F10/6F3D"])),
    (7, Some(&["7F20/6F30"])),
    (9, Some(&["7F10/6F40"])),
    (10, Some(&["7F10/6F4A"])),
    (11, Some(&["7F10/6F4B"])),
    (12, Some(&["7F10/6F42"])),
    (13, Some(&["7F10/6F44"])),
    (14, Some(&["7F20/6F45"])),
    (15, Some(&["7F20/6F3E"])),
    (16, Some(&["7F20/6F3F"])),
    (17, Some(&["7F20/6F46"])),
    (18, Some(&["7F10/6F49"])),
    (19, Some(&["7F10/6F4C"])),
    (21, Some(&["7F20/6FB1", "7F20/6FB2"])),
    (22, Some(&["7F20/6FB3", "7F20/6FB4"])),
    (23, Some(&["7F20/6FB5"])),
    (24, Some(&["7F20/6FB6"])),
    (25, Some(&["7F20/6F48"])),
    (30, Some(&["7F20/6F50"])),
    (31, Some(&["7F10/6F4D"])),
    (32, Some(&["7F10/6F4E"])),
    (33, Some(&["7F20/6F2C"])),
    (34, Some(&["7F20/6F32"])),
    (35, Some(&["7F10/6F47"])),
    (36, Some(&["7F20/6F51"])),
    (38, Some(&["7F20/6F52", "7F20/6F53"])),
    (39, Some(&["7F10/5F50/4F20"])),
    (40, Some(&["7F20/5F70"])),
    (43, Some(&["7F20/6F60"])),
    (44, Some(&["7F20/6F61"])),
    (45, Some(&["7F20/6F62"])),
    (46, Some(&["7F20/6F63"])),
    (47, Some(&["7F20/6F64"])),
    (48, Some(&["7F10/6F4F"])),
    (49, Some(&["7F20/5F3C"])),
    (51, Some(&["7F20/6FC5"])),
    (52, Some(&["7F20/6FC6"])),
    (53, Some(&["7F20/6FC7", "7F20/6FC9"])),
    (54, Some(&["7F20/6FCA"])),
    (55, Some(&["7F20/6FCB"])),
    (56, Some(&["7F20/6FCD"])),
    (57, Some(&["7F20/6FCE", "7F20/6FD0"])),
    (58, Some(&["7F20/6FCF"])),
    (59, Some(&["7F20/6FD2"])),
];

/// Procedures the card implements without files of their own: CHV1 disable (DISABLE CHV),
/// data download via SMS-PP (the OTA receiver), menu selection (the menu applet), proactive SIM.
const PROCEDURES_ON: &[u8] = &[1, 26, 27, 29];

/// Allocated and activated (§10.3.7: two bits per service, both set).
fn service_on(sst: &[u8], n: u8) -> bool {
    let i = usize::from(n - 1);
    sst.get(i / 4)
        .is_some_and(|b| (b >> ((i % 4) * 2)) & 0b11 == 0b11)
}

#[test]
fn sst_lists_exactly_the_services_whose_files_exist() {
    let mut c = Card::new(Profile::default_profile()).unwrap();
    let sst = gsm_read(&mut c, "7F20/6F38");
    // Every service's two bits are either both set or both clear.
    for n in 1..=(sst.len() * 4) as u8 {
        let i = usize::from(n - 1);
        let bits = (sst[i / 4] >> ((i % 4) * 2)) & 0b11;
        assert!(bits == 0 || bits == 0b11, "service {n}: bits {bits:02b}");
    }
    let mut wrong = Vec::new();
    for &(n, files) in SERVICES {
        let want = files.is_some_and(|fs| fs.iter().all(|f| exists(&mut c, f)));
        if service_on(&sst, n) != want {
            wrong.push(format!(
                "service {n}: in SST {} files {want}",
                service_on(&sst, n)
            ));
        }
        // A service's files are all there or none is (no half-provisioned service).
        if let Some(fs) = files {
            let present = fs.iter().filter(|f| exists(&mut c, f)).count();
            assert!(
                present == 0 || present == fs.len(),
                "service {n}: {present} of {fs:?}"
            );
        }
    }
    for n in 1..=59u8 {
        if SERVICES.iter().all(|&(s, _)| s != n) {
            let want = PROCEDURES_ON.contains(&n);
            if service_on(&sst, n) != want {
                wrong.push(format!("service {n}: in SST {} expected {want}", !want));
            }
        }
    }
    assert!(wrong.is_empty(), "EF.SST {}: {wrong:#?}", encode(&sst));
}

fn profile_with_spn(spn: &str) -> Profile {
    let src = Profile::default_profile().to_toml().to_string();
    assert!(src.contains("spn = \"simota\""));
    Profile::from_toml_str(&src.replace("spn = \"simota\"", &format!("spn = {spn:?}"))).unwrap()
}

#[test]
fn gsm_spn_follows_subscriber_spn_like_the_usim() {
    let want = uicc::subscriber::encode_spn("Test 1").unwrap();
    let mut c = Card::new(profile_with_spn("Test 1")).unwrap();
    assert_eq!(encode(&gsm_read(&mut c, "7F20/6F46")), encode(&want));
    assert_eq!(encode(&usim_read(&mut c, "6F46", 17)), encode(&want));
    // The built-in card's both EF.SPN say "simota".
    let mut c = Card::new(Profile::default_profile()).unwrap();
    let simota = uicc::subscriber::encode_spn("simota").unwrap();
    assert_eq!(encode(&gsm_read(&mut c, "7F20/6F46")), encode(&simota));
    assert_eq!(encode(&usim_read(&mut c, "6F46", 17)), encode(&simota));
}

#[test]
fn gsm_spn_with_data_and_subscriber_spn_is_refused() {
    let src = Profile::default_profile().to_toml().to_string();
    let at = src.find("path = \"3F00/7F20/6F46\"").unwrap();
    let mut bad = src.clone();
    bad.insert_str(
        at + src[at..].find("size = 17").unwrap(),
        "data = \"01 41\"\n",
    );
    let Err(e) = Profile::from_toml_str(&bad) else {
        panic!("EF.SPN data and subscriber.spn both given: not refused")
    };
    assert!(e.to_string().contains("give only one"), "{e}");
}

#[test]
fn gsm_plmn_and_location_files_match_the_usim() {
    for p in [Profile::default_profile(), profile_with_spn("x")] {
        let mut c = Card::new(p).unwrap();
        for fid in [
            "6F31", "6F7B", "6F7E", "6F78", "6FAD", "6F07", "6F60", "6F61", "6F62",
        ] {
            let g = gsm_read(&mut c, &format!("7F20/{fid}"));
            let u = usim_read(&mut c, fid, g.len());
            assert_eq!(encode(&g), encode(&u), "DF.GSM/{fid} vs ADF.USIM/{fid}");
        }
        // EF.PLMNsel (§10.3.4, 3-byte entries) holds the USIM EF.PLMNwAcT's PLMNs (TS 31.102
        // §4.2.5, 5-byte entries), in the same order.
        let sel = gsm_read(&mut c, "7F20/6F30");
        let wact = usim_read(&mut c, "6F60", 40);
        for (i, e) in sel.chunks(3).enumerate() {
            let u = wact.chunks(5).nth(i).map_or(&[0xFF; 3][..], |x| &x[..3]);
            assert_eq!(encode(e), encode(u), "PLMNsel entry {i}");
        }
    }
}

#[test]
fn telecom_msisdn_is_the_usims() {
    let mut c = Card::new(Profile::default_profile()).unwrap();
    assert!(exists(&mut c, "7F10/6F40"));
    let (g, s) = tx(&mut c, "A0B201040F");
    assert_eq!(s, 0x9000);
    assert_eq!(tx(&mut c, "00A4040C07A0000000871002").1, 0x9000);
    assert_eq!(tx(&mut c, "00A4000C026F40").1, 0x9000);
    let (u, s) = tx(&mut c, "00B2010400");
    let (u, s) = if s >> 8 == 0x6C {
        tx(&mut c, &format!("00B20104{:02X}", s & 0xFF))
    } else {
        (u, s)
    };
    assert_eq!(s, 0x9000);
    // The alpha identifiers differ in length; the 14 bytes after them are the same.
    assert_eq!(
        encode(&g[g.len() - 14..]),
        encode(&u[u.len() - 14..]),
        "DF.TELECOM/EF.MSISDN record 1"
    );
    // +491701234567: 7 BCD bytes, TON international / ISDN (91).
    assert!(encode(&g).contains("0791947110325476"), "{}", encode(&g));
}
