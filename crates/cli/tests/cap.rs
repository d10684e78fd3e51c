//! `simota cap info`: every CAP of test-vectors/cap/ shows its package, applets and imports;
//! a corrupt CAP exits 2 naming the component and the offset.

use std::path::PathBuf;
use std::process::{Command, Output};

fn simota(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(args)
        .output()
        .expect("run simota")
}

fn vector(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/cap")
        .join(name)
        .display()
        .to_string()
}

fn info(name: &str) -> String {
    let out = simota(&["cap", "info", &vector(name)]);
    assert!(out.status.success(), "{name}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// (file, package AID, applet AID, imports that must be listed)
const EXPECT: &[(&str, &str, &str, &[&str])] = &[
    (
        "jcsim-wallet.cap",
        "D1560001320A64656D9F version 1.0",
        "D1560001320A64656D9F01",
        &[
            "A0000000620101 (javacard.framework) version 1.3",
            "A0000000620001 (java.lang) version 1.0",
        ],
    ),
    (
        "gppro-Empty_0102030405_2.2.1.cap",
        "0102030405 version 0.0",
        "0102030405060708",
        &[
            "A0000000620101 (javacard.framework) version 1.2",
            "A0000000620102 (javacard.security) version 1.2",
        ],
    ),
    (
        "jcsim-SHADigest.cap",
        "EEEEEEEEEE version 1.0",
        "EEEEEEEEEE00",
        &["A0000000620102 (javacard.security) version 1.1"],
    ),
    (
        "jcsim-rsaapplet.cap",
        "F234123455 version 1.0",
        "F23412345500",
        &["A0000000620201 (javacardx.crypto) version 1.2"],
    ),
    (
        "jcsim-rsa-decrypt-pkcs1.cap",
        "CCCCCCCCCC version 1.0",
        "CCCCCCCCCC00",
        &["A0000000620201 (javacardx.crypto) version 1.3"],
    ),
    (
        "jcsim-ExceptionTests.cap",
        "1111111111 version 1.0",
        "111111111100",
        &["A0000000620101 (javacard.framework) version 1.0"],
    ),
    (
        "caprunner-javatest.cap",
        "A000000018FF00000000000000000101 version 1.0",
        "A000000018FF00000000000000000102",
        &["A0000000620001 (java.lang) version 1.0"],
    ),
    (
        "pysim-test_javacard.cap",
        "D07002CA44 version 1.0",
        "D07002CA44900101",
        &["A0000000090003FFFFFFFF8910710002 (sim.toolkit) version 2.6"],
    ),
];

#[test]
fn every_vector_shows_package_applets_imports() {
    for (file, pkg, applet, imports) in EXPECT {
        let out = info(file);
        assert!(out.contains(&format!("package   {pkg}")), "{file}:\n{out}");
        assert!(
            out.contains(&format!("applet    {applet} ")),
            "{file}:\n{out}"
        );
        for i in *imports {
            assert!(
                out.contains(&format!("import    {i}\n")),
                "{file}: {i}\n{out}"
            );
        }
        assert!(out.contains("component Method"), "{file}:\n{out}");
    }
}

#[test]
fn json_output() {
    let out = simota(&["cap", "info", "--json", &vector("caprunner-javatest.cap")]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["package"]["aid"], "A000000018FF00000000000000000101");
    assert_eq!(v["applets"][0]["aid"], "A000000018FF00000000000000000102");
    assert_eq!(v["imports"][0]["name"], "javacard.framework");
    assert_eq!(v["imports"][0]["version"], "1.4");
    assert_eq!(v["classes"], 3);
    assert_eq!(v["methods"], 18);
}

#[test]
fn corrupt_cap_exits_2_naming_the_container() {
    let dir = std::env::temp_dir().join(format!("simota-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.cap");
    let mut b = std::fs::read(vector("jcsim-wallet.cap")).unwrap();
    b.truncate(b.len() - 30);
    std::fs::write(&p, &b).unwrap();
    let out = simota(&["cap", "info", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("CAP ZIP container") && err.contains("offset"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
