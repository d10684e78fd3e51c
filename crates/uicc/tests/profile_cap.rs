//! A profile's `[[applet]] cap = "FILE.cap"`: the CAP's applet is installed on a fresh card
//! and runs in the Java Card VM; a CAP whose imports the card lacks, or a class that is not
//! one of its applets, is a profile error.

use uicc::{Card, Profile};

fn profile(applet: &str) -> Result<Profile, uicc::ProfileError> {
    let base = Profile::default_profile().to_toml().to_string();
    let text = format!("{base}\n[[applet]]\n{applet}\n");
    let dir = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap"
    ));
    Profile::from_toml_str_in(&text, &dir)
}

#[test]
fn a_cap_applet_from_the_profile_runs() {
    let p = profile(
        "cap = \"jcsim-wallet.cap\"\naid = \"D1560001320A64656D9F01\"\nparams = \"01020304\"",
    )
    .unwrap();
    let mut c = Card::new(p).unwrap();
    let h = |s: &str| apdu::hex::decode(s).unwrap();
    assert_eq!(
        c.process(&h("00A404000BD1560001320A64656D9F01")),
        vec![0x90, 0x00]
    );
    assert_eq!(c.process(&h("802000000401020304")), vec![0x90, 0x00]);
    assert_eq!(c.process(&h("803000000107")), vec![0x90, 0x00]);
    assert_eq!(c.process(&h("8050000002")), vec![0x00, 0x07, 0x90, 0x00]);
}

/// A `sim.toolkit` applet declared in a profile: installed at start-up, its menu entry is in
/// the SET UP MENU after TERMINAL PROFILE, and MENU SELECTION makes it send DISPLAY TEXT.
#[test]
fn hellostk_in_a_profile_sets_up_its_menu() {
    let p = profile("cap = \"pysim-test_javacard.cap\"\naid = \"D07002CA44900101\"").unwrap();
    let mut c = Card::new(p).unwrap();
    let h = |s: &str| apdu::hex::decode(s).unwrap();
    let r = c.process(&h("8010000014 1B61FF6361 01000C0900 0000000000 0000000000"));
    assert_eq!(r[0], 0x91, "{r:02X?}");
    let r = c.process(&[0x80, 0x12, 0x00, 0x00, r[1]]);
    let menu = apdu::hex::encode(&r);
    assert!(menu.contains(&apdu::hex::encode(b"Hello, STK")), "{menu}");
}

#[test]
fn bad_cap_applets_are_profile_errors() {
    let e = profile("cap = \"simota-uiccfile.cap\"\naid = \"F073696D6F74614601\"")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("uicc.access") && e.contains("not on this card"),
        "{e}"
    );
    let e = profile("cap = \"jcsim-wallet.cap\"\nclass = \"A000000001\"\naid = \"A00000000101\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an applet of its cap"), "{e}");
    let e = profile("cap = \"nope.cap\"\naid = \"A00000000101\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.cap"), "{e}");
    let e = profile("aid = \"A00000000101\"").unwrap_err().to_string();
    assert!(e.contains("needs a class or a cap"), "{e}");
}
