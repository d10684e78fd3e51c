//! What a new user trips on (issue 12 items 9, 11, 13, 14): each test runs `simota` as a
//! user would and checks the message, not only the exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn simota(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run simota")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const AES: &str = "00112233445566778899AABBCCDDEEFF";

/// A secured command packet (from CPL) built by `simota ota build`.
fn packet() -> String {
    let o = simota(&[
        "ota",
        "build",
        "--spi",
        "1219",
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
        "--tar",
        "B00010",
        "--data",
        "00A40004023F00",
        "--format",
        "packet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    out(&o).lines().last().unwrap().trim().to_string()
}

/// Item 11: a truncated (or padded) command packet is reported as the CPL mismatch of a
/// command packet, not as an SMS TPDU's TP-OA address length.
#[test]
fn ota_parse_of_a_truncated_packet_reports_the_cpl() {
    let p = packet();
    let short = &p[..p.len() - 4];
    let o = simota(&["ota", "parse", short]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("command packet (CHL 15, SPI 1219): CPL at offset 0: value 0x001d says 29 byte(s) follow but 27 do"),
        "{e}"
    );
    assert!(!e.contains("TP-OA"), "{e}");
    let long = format!("{p}00");
    let e = err(&simota(&["ota", "parse", &long]));
    assert!(e.contains("says 29 byte(s) follow but 30 do"), "{e}");
    // The whole packet still parses.
    let o = simota(&[
        "ota",
        "parse",
        &p,
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // An SMS-DELIVER TPDU is still read as one.
    let o = simota(&[
        "ota",
        "build",
        "--spi",
        "1219",
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
        "--tar",
        "B00010",
        "--data",
        "00A40004023F00",
        "--format",
        "tpdu",
    ]);
    let tpdu = out(&o).lines().last().unwrap().trim().to_string();
    let o = simota(&[
        "ota",
        "parse",
        &tpdu,
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("SMS-DELIVER"), "{}", out(&o));
}
