//! `simota ota send` against the built-in emulated card.

use std::process::Command;

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
    let o = Command::new(env!("CARGO_BIN_EXE_simota"))
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

#[test]
fn send_to_the_emulated_card() {
    let (code, out, err) = simota(&[
        "--spi",
        "1619",
        "--tar",
        "B00010",
        "--counter",
        "1",
        "--data",
        "00A40004023F00",
    ]);
    // Until the emulated card speaks CAT, a clear error; once it does, a decoded PoR.
    match code {
        2 => assert!(err.contains("does not speak SIM Toolkit"), "{err}"),
        0 | 1 => assert!(
            out.contains("ENVELOPE (SMS-PP DOWNLOAD)") && out.contains("PoR"),
            "{out}"
        ),
        c => panic!("exit {c}: {out} {err}"),
    }
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
