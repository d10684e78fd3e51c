//! `simota ota send` against the built-in emulated card.

mod common;

const KEYS: [&str; 12] = [
    "--kic-alg",
    "aes-cbc",
    "--kic",
    "000102030405060708090a0b0c0d0e0f",
    "--kic-index",
    "1",
    "--kid-alg",
    "aes-cmac",
    "--kid",
    "000102030405060708090a0b0c0d0e0f",
    "--kid-index",
    "1",
];

fn simota(extra: &[&str]) -> (i32, String, String) {
    let o = common::simota()
        .args(["ota", "send"])
        .args(KEYS)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// The built-in profile's keyset 1 (AES-128): the right KID.
const GOOD_KID: &str = "101112131415161718191A1B1C1D1E1F";

fn with_kid(kid: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args: Vec<&str> = KEYS.to_vec();
    args[9] = kid;
    let o = common::simota()
        .args(["ota", "send"])
        .args(&args)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn send_to_the_emulated_card() {
    // PoR in the ENVELOPE response (SPI2 b6 = 0).
    let (code, out, err) = with_kid(
        GOOD_KID,
        &[
            "--spi",
            "1619",
            "--tar",
            "B00010",
            "--counter",
            "1",
            "--data",
            "00A40004023F00",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PoR via ENVELOPE response"), "{out}");
    assert!(out.contains("status 00 (PoR OK)"), "{out}");
    assert!(out.contains("1 command(s), last SW"), "{out}");
    // PoR by SEND SHORT MESSAGE (SPI2 b6 = 1), recorded as an MO SMS.
    let (code, out, err) = with_kid(
        GOOD_KID,
        &[
            "--spi",
            "1639",
            "--tar",
            "B00010",
            "--counter",
            "1",
            "--data",
            "00A40004023F00",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PoR via SEND SHORT MESSAGE"), "{out}");
    assert!(out.contains("MO SMS (SEND SHORT MESSAGE"), "{out}");
    // A wrong KID: the card answers status 01 and the command exits 1.
    let (code, out, _) = simota(&[
        "--spi",
        "1619",
        "--tar",
        "B00010",
        "--counter",
        "1",
        "--data",
        "00A40004023F00",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("status 01"), "{out}");
    // JSON form.
    let (code, out, _) = with_kid(
        GOOD_KID,
        &[
            "--spi",
            "1619",
            "--tar",
            "B00010",
            "--counter",
            "1",
            "--data",
            "00A40004023F00",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["por"]["status"], "00");
    assert_eq!(v["por"]["tar"], "B00010");
}

#[test]
fn bad_input_names_the_option() {
    let (code, _, err) = simota(&["--spi", "16", "--tar", "B00010", "--data", "00"]);
    assert_eq!(code, 2);
    assert!(err.contains("--spi"), "{err}");
    let (code, _, err) = simota(&[
        "--spi", "1619", "--tar", "B00010", "--data", "00", "--user", "dance",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--user #1") && err.contains("dance"), "{err}");
    let (code, _, err) = simota(&["--spi", "1619", "--tar", "B00010", "--data", "0G"]);
    assert_eq!(code, 2);
    assert!(err.contains("--data"), "{err}");
}
