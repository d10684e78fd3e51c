//! `simota keyaudit`: exit codes, table and JSON, bad input, and an audit of keys generated
//! through the emulated card's WPKI applet.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vectors(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/keyaudit")
        .join(p)
        .display()
        .to_string()
}

fn simota(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn weak_keys_exit_1_with_evidence() {
    let o = simota(&["keyaudit", &vectors("roca")]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("pubkey03.pem") && out.contains("roca"),
        "{out}"
    );
    assert!(out.contains("4 weak"), "{out}");

    let o = simota(&["keyaudit", "--json", &vectors("roca/mod03.txt")]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["weak"], true);
    assert_eq!(v["findings"][0]["check"], "roca");
}

#[test]
fn good_keys_exit_0() {
    let o = simota(&["keyaudit", &vectors("openssl-rsa2048.csv")]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("audited 200 keys (200 RSA, 0 EC): no weak keys"));
}

#[test]
fn bad_input_names_file_and_offset() {
    let d = std::env::temp_dir().join(format!("simota-keyaudit-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("bad.csv");
    std::fs::write(&f, "c5,3\nc5x7\n").unwrap();
    let o = simota(&["keyaudit", f.to_str().unwrap()]);
    std::fs::remove_dir_all(&d).ok();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.csv: offset 7: line 2: modulus"), "{err}");
}

#[test]
fn emulated_card_generations_pass() {
    let o = simota(&["keyaudit", "--generate", "100", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["keys"], 100);
    assert_eq!(v["msb"]["biased"], false);
    let o = simota(&["keyaudit", "--generate", "10", "--alg", "p256"]);
    assert_eq!(o.status.code(), Some(0));
}
