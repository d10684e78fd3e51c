//! Journey tests for the scope of PINs (TS 102 221 §9.5.1): local PINs (81–88) bound to
//! their ADF, verification status kept per (ADF, key reference), and the universal PIN (11)
//! standing in for PIN1 (DISABLE VERIFICATION REQUIREMENT with P1 = 91, §11.1.11).

use apdu::hex::{decode, encode};
use uicc::{Card, MemoryStore, Profile};

const AID_A: &str = "A0000000871002FF44FFFF8900000100";
const AID_B: &str = "A0000000871004FF44FFFF8900000200";

/// EF.ARR records: 1 read always / update ADM; 2 read+update with the local PIN 81;
/// 3 read+update with PIN1.
const ARR: &str = r#"record_len = 32
records = [
  "8001019000 80011AA40683010A950108",
  "800103A406830181950108",
  "800103A406830101950108",
]"#;

fn profile(pin1: &str) -> Profile {
    let src = format!(
        r#"
[card]
name = "two applications"
atr = "3B 9F 96 80 91 FE 1F C7 80 31 E0 73 FE 21 1F 64 73 69 6D 6F 82 90 00 B2"

{pin1}

[[pin]]
key_ref = 0x11
name = "UPIN"
value = "0000"
puk = "00000000"

[[pin]]
key_ref = 0x81
name = "PIN2 of A"
value = "1111"
puk = "11111111"
adf = "3F00/7FF0"

[[pin]]
key_ref = 0x81
name = "PIN2 of B"
value = "2222"
puk = "22222222"
adf = "3F00/7FF1"

[[pin]]
key_ref = 0x0A
name = "ADM1"
value = "88888888"
retries = 10

[[file]]
path = "3F00"
type = "df"
arr = 1

[[file]]
path = "3F00/2F06"
type = "linear-fixed"
arr = 1
{ARR}

[[file]]
path = "3F00/2F00"
type = "linear-fixed"
arr = 1
record_len = 32
records = [
  "61 18 4F 10 {AID_A} 50 04 41414141",
  "61 18 4F 10 {AID_B} 50 04 42424242",
]

[[file]]
path = "3F00/7FF0"
type = "adf"
aid = "{AID_A}"
arr = 1

[[file]]
path = "3F00/7FF0/6F06"
type = "linear-fixed"
arr = 1
{ARR}

[[file]]
path = "3F00/7FF0/6F01"
type = "transparent"
arr = 2
data = "AAAA"

[[file]]
path = "3F00/7FF0/6F02"
type = "transparent"
arr = 3
data = "A1A1"

[[file]]
path = "3F00/7FF1"
type = "adf"
aid = "{AID_B}"
arr = 1

[[file]]
path = "3F00/7FF1/6F06"
type = "linear-fixed"
arr = 1
{ARR}

[[file]]
path = "3F00/7FF1/6F01"
type = "transparent"
arr = 2
data = "BBBB"
"#
    );
    Profile::from_toml_str(&src).unwrap()
}

const PIN1_ENABLED: &str = r#"[[pin]]
key_ref = 0x01
name = "PIN1"
value = "1234"
puk = "12345678""#;

const PIN1_UNIVERSAL: &str = r#"[[pin]]
key_ref = 0x01
name = "PIN1"
value = "1234"
puk = "12345678"
use_universal = true"#;

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
    let (d, s) = tx(c, h);
    assert_eq!(s, 0x9000, "{h} answered {s:04X}");
    d
}

/// SELECT an ADF by AID on channel `ch` (CLA 0X for 0–3).
fn select_adf(c: &mut Card, ch: u8, aid: &str) {
    ok(c, &format!("{ch:02X}A4040C10{aid}"));
}

fn verify(pin: &str) -> String {
    let mut v = pin.as_bytes().to_vec();
    v.resize(8, 0xFF);
    encode(&v)
}

#[test]
fn local_pin_is_bound_to_its_adf() {
    let mut c = Card::new(profile(PIN1_ENABLED)).unwrap();
    // No ADF current: a local reference names nothing.
    assert_eq!(sw(&mut c, &format!("0020008108{}", verify("1111"))), 0x6A88);
    assert_eq!(sw(&mut c, "0020008100"), 0x6A88);

    select_adf(&mut c, 0, AID_A);
    // B's value is wrong in A (and costs a try of A's PIN only).
    assert_eq!(sw(&mut c, &format!("0020008108{}", verify("2222"))), 0x63C2);
    ok(&mut c, &format!("0020008108{}", verify("1111")));
    ok(&mut c, "00A4000C026F01");
    assert_eq!(ok(&mut c, "00B0000002"), decode("AAAA").unwrap());

    // Application B: its own 81 is not verified, its files stay closed.
    select_adf(&mut c, 0, AID_B);
    assert_eq!(sw(&mut c, "0020008100"), 0x63C3, "B's counter untouched");
    ok(&mut c, "00A4000C026F01");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    ok(&mut c, &format!("0020008108{}", verify("2222")));
    assert_eq!(ok(&mut c, "00B0000002"), decode("BBBB").unwrap());

    // Back in A: still verified there (status kept per ADF).
    select_adf(&mut c, 0, AID_A);
    assert_eq!(sw(&mut c, "0020008100"), 0x9000);
    // A wrong VERIFY in A clears A's status only.
    assert_eq!(sw(&mut c, &format!("0020008108{}", verify("9999"))), 0x63C2);
    ok(&mut c, "00A4000C026F01");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    select_adf(&mut c, 0, AID_B);
    ok(&mut c, "00A4000C026F01");
    assert_eq!(ok(&mut c, "00B0000002"), decode("BBBB").unwrap());

    // Reset clears everything.
    c.reset();
    select_adf(&mut c, 0, AID_B);
    assert_eq!(sw(&mut c, "0020008100"), 0x63C3);
}

#[test]
fn local_pin_follows_the_channel() {
    let mut c = Card::new(profile(PIN1_ENABLED)).unwrap();
    select_adf(&mut c, 0, AID_A);
    assert_eq!(ok(&mut c, "0070000001"), vec![1]);
    assert_eq!(ok(&mut c, "0070000001"), vec![2]);
    select_adf(&mut c, 1, AID_B);
    // Channel 2 opened from channel 0 (basic) starts at the MF with no ADF.
    assert_eq!(sw(&mut c, "0220008100"), 0x6A88);
    select_adf(&mut c, 2, AID_A);

    // VERIFY 81 on channel 1 is B's PIN: A's value fails, B's works.
    assert_eq!(sw(&mut c, &format!("0120008108{}", verify("1111"))), 0x63C2);
    ok(&mut c, &format!("0120008108{}", verify("2222")));
    ok(&mut c, "01A4000C026F01");
    assert_eq!(ok(&mut c, "01B0000002"), decode("BBBB").unwrap());
    // A's files on channels 0 and 2 stay closed.
    ok(&mut c, "00A4000C026F01");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    assert_eq!(sw(&mut c, "0220008100"), 0x63C3);

    // Verified on channel 2 (A) opens A's files on channel 0 too: same application.
    ok(&mut c, &format!("0220008108{}", verify("1111")));
    assert_eq!(ok(&mut c, "00B0000002"), decode("AAAA").unwrap());

    // CHANGE / DISABLE / ENABLE / UNBLOCK act on the channel's application's PIN.
    ok(
        &mut c,
        &format!("0124008110{}{}", verify("2222"), verify("3333")),
    );
    assert_eq!(sw(&mut c, &format!("0020008108{}", verify("3333"))), 0x63C2);
    ok(&mut c, &format!("0020008108{}", verify("1111")));
    ok(&mut c, &format!("0126008108{}", verify("3333")));
    c.reset();
    select_adf(&mut c, 0, AID_B);
    ok(&mut c, "00A4000C026F01");
    assert_eq!(
        ok(&mut c, "00B0000002"),
        decode("BBBB").unwrap(),
        "B's 81 disabled"
    );
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F01");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982, "A's 81 still enabled");
    // Block A's 81, unblock it with A's PUK (B's PUK is wrong here).
    for left in [0x63C2, 0x63C1, 0x63C0] {
        assert_eq!(sw(&mut c, &format!("0020008108{}", verify("0000"))), left);
    }
    assert_eq!(sw(&mut c, &format!("0020008108{}", verify("1111"))), 0x6983);
    assert_eq!(
        sw(
            &mut c,
            &format!("002C008110 3232323232323232 {}", verify("4444"))
        ),
        0x63C9
    );
    ok(
        &mut c,
        &format!("002C008110 3131313131313131 {}", verify("4444")),
    );
    assert_eq!(ok(&mut c, "00B0000002"), decode("AAAA").unwrap());
    select_adf(&mut c, 0, AID_B);
    assert_eq!(sw(&mut c, "0020008100"), 0x9000, "B's 81 disabled");
}

#[test]
fn fcp_lists_the_adf_own_local_pin() {
    let mut c = Card::new(profile(PIN1_ENABLED)).unwrap();
    select_adf(&mut c, 0, AID_B);
    ok(&mut c, &format!("0026008108{}", verify("2222")));
    let a = encode(&ok(&mut c, &format!("00A4040410{AID_A}00")));
    assert!(a.contains("C6099001C0830101830181"), "{a}");
    let b = encode(&ok(&mut c, &format!("00A4040410{AID_B}00")));
    assert!(b.contains("C609900180830101830181"), "{b}");
}

#[test]
fn universal_pin_replaces_pin1_by_disable_p1_91() {
    let mut c = Card::new(profile(PIN1_ENABLED)).unwrap();
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F02");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    // P1 = 91 only on application PINs, and only for DISABLE.
    assert_eq!(
        sw(&mut c, &format!("0026910A08{}", "3838383838383838")),
        0x6A86
    );
    assert_eq!(sw(&mut c, &format!("0028910108{}", verify("1234"))), 0x6B00);
    assert_eq!(sw(&mut c, &format!("0026920108{}", verify("1234"))), 0x6B00);
    ok(&mut c, &format!("0026910108{}", verify("1234")));
    // Presenting PIN1 in DISABLE verified it for this session.
    assert_eq!(ok(&mut c, "00B0000002"), decode("A1A1").unwrap());
    c.reset();
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F02");
    // PIN1 disabled, but replaced: access still needs a verification (of the universal PIN).
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    assert_eq!(
        sw(&mut c, "0020000100"),
        0x63C3,
        "query shows the UPIN tries"
    );
    let fcp = encode(&ok(&mut c, &format!("00A4040410{AID_A}00")));
    assert!(
        fcp.contains(
            "C60F9001609501088301018301818301 11"
                .replace(' ', "")
                .as_str()
        ),
        "{fcp}"
    );
    ok(&mut c, "00A4000C026F02");
    ok(&mut c, &format!("0020001108{}", verify("0000")));
    assert_eq!(ok(&mut c, "00B0000002"), decode("A1A1").unwrap());
    assert_eq!(sw(&mut c, "0020000100"), 0x9000);

    // The replacement is non-volatile; the verification is not.
    c.reset();
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F02");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    // Disabling the universal PIN then lifts the requirement for PIN1 as well.
    ok(&mut c, &format!("0026001108{}", verify("0000")));
    assert_eq!(ok(&mut c, "00B0000002"), decode("A1A1").unwrap());
    ok(&mut c, &format!("0028001108{}", verify("0000")));
    c.reset();
    // ENABLE PIN1 ends the replacement: PIN1 itself is needed again.
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F02");
    ok(&mut c, &format!("0028000108{}", verify("1234")));
    c.reset();
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F02");
    ok(&mut c, &format!("0020001108{}", verify("0000")));
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982, "UPIN no longer stands in");
    ok(&mut c, &format!("0020000108{}", verify("1234")));
    assert_eq!(ok(&mut c, "00B0000002"), decode("A1A1").unwrap());
    let fcp = encode(&ok(&mut c, &format!("00A4040410{AID_A}00")));
    assert!(fcp.contains("C6099001C0830101830181"), "{fcp}");
}

#[test]
fn universal_pin_from_the_profile_and_restart() {
    let p = profile(PIN1_UNIVERSAL);
    let mut c = Card::with_store(p.clone(), Box::new(MemoryStore::new())).unwrap();
    select_adf(&mut c, 0, AID_A);
    let fcp = encode(&ok(&mut c, &format!("00A4040410{AID_A}00")));
    assert!(fcp.contains("950108830101"), "{fcp}");
    ok(&mut c, "00A4000C026F02");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
    ok(&mut c, &format!("0020001108{}", verify("0000")));
    assert_eq!(ok(&mut c, "00B0000002"), decode("A1A1").unwrap());
    // Already disabled: a second DISABLE is refused.
    assert_eq!(sw(&mut c, &format!("0026910108{}", verify("1234"))), 0x6985);
    // The state survives a restart from the store.
    let store = c.into_store();
    let mut c = Card::with_store(p, store).unwrap();
    assert!(c.nv_state().pins[0].use_universal);
    select_adf(&mut c, 0, AID_A);
    ok(&mut c, "00A4000C026F02");
    assert_eq!(sw(&mut c, "00B0000002"), 0x6982);
}

#[test]
fn profile_rules_for_local_and_universal_pins() {
    // Same local reference twice for one ADF is refused, for two ADFs accepted (above).
    let dup = uicc::profile::DEFAULT_PROFILE_TOML.replacen(
        "[[pin]]\nkey_ref = 0x0A",
        "[[pin]]\nkey_ref = 0x81\nvalue = \"1111\"\nadf = \"3F00/7FF0\"\n\n[[pin]]\nkey_ref = 0x0A",
        1,
    );
    assert_ne!(dup, uicc::profile::DEFAULT_PROFILE_TOML);
    let e = Profile::from_toml_str(&dup).unwrap_err().to_string();
    assert!(e.contains("declared twice"), "{e}");
    let bad = uicc::profile::DEFAULT_PROFILE_TOML.replacen(
        "name = \"ADM1\"",
        "name = \"ADM1\"\nuse_universal = true",
        1,
    );
    let e = Profile::from_toml_str(&bad).unwrap_err().to_string();
    assert!(e.contains("use_universal"), "{e}");
}
