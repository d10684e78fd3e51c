//! CAP files of other projects (test-vectors/cap/, see its README) read into load files, and
//! the clear errors for malformed ones.
#![cfg(feature = "cap")]

use gp::cap::CapFile;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn gppro_empty_applet() {
    let c = CapFile::parse(&read("gppro-Empty_0102030405_2.2.1.cap")).unwrap();
    assert_eq!(c.package_aid, [1, 2, 3, 4, 5]);
    assert_eq!(c.applets.len(), 1);
    assert!(c.applets[0].starts_with(&[1, 2, 3, 4, 5]));
    let b = c.load_file_data_block().unwrap();
    assert_eq!(b[0], 0xC4);
    // Header first, Descriptor left out.
    let body_at = match b[1] {
        0x81 => 3,
        0x82 => 4,
        _ => 2,
    };
    assert_eq!(b[body_at], 1);
}

#[test]
fn pysim_hello_stk() {
    let c = CapFile::parse(&read("pysim-test_javacard.cap")).unwrap();
    assert!(!c.applets.is_empty());
    assert!(c.load_file_data_block().is_ok());
}

#[test]
fn malformed_caps_are_clear_errors() {
    let e = CapFile::parse(b"not a zip").unwrap_err();
    assert!(e.to_string().contains("not a ZIP"), "{e}");
    // A CAP without Method.cap: parsed, but no load file.
    let mut c = CapFile::parse(&read("gppro-Empty_0102030405_2.2.1.cap")).unwrap();
    c.components.retain(|(t, _)| *t != 7);
    let e = c.load_file_data_block().unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
    // Truncated archive.
    let b = read("gppro-Empty_0102030405_2.2.1.cap");
    assert!(CapFile::parse(&b[..b.len() / 2]).is_err());
}
