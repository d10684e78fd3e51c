//! `simota gp` against the in-process emulated card: GlobalPlatformPro-style `--list`, SCP02
//! and SCP03, `-v` trace, keys from options and the environment, wrong keys, `--put-key` /
//! `--lock` / `--unlock` / `--delete-key` persisted in a `--state` file, `--delete`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn simota(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simota"));
    c.arg("gp").args(args);
    for v in [
        "SIMOTA_GP_KEY",
        "SIMOTA_GP_KEY_ENC",
        "SIMOTA_GP_KEY_MAC",
        "SIMOTA_GP_KEY_DEK",
        "SIMOTA_GP_KDF",
    ] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run simota")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("simota-gp-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn list_prints_isd_app_and_pkg_lines() {
    let o = simota(&["--card", "emu", "--list"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    let s = out(&o);
    assert!(s.starts_with("ISD: A000000151000000 (SECURED)\n"), "{s}");
    assert!(s.contains(
        "     Privs:   SecurityDomain, CardLock, CardTerminate, CardReset, CVMManagement"
    ));
    assert!(s.contains("APP: F073696D6F7461575001 (SELECTABLE)"), "{s}");
    assert!(
        s.contains("PKG: F073696D6F74615750 (LOADED)\n     Applet:  F073696D6F74615750"),
        "{s}"
    );
}

#[test]
fn scp02_with_trace_and_every_mode() {
    for mode in ["mac", "enc", "13"] {
        let o = simota(
            &[
                "--scp",
                "02",
                "--key-ver",
                "20",
                "--mode",
                mode,
                "-v",
                "--list",
            ],
            &[],
        );
        assert!(o.status.success(), "{mode}: {}", err(&o));
        let s = out(&o);
        assert!(s.contains("> 80 50 20 00 08 "), "{s}");
        assert!(s.contains("> 84 82 "), "{s}");
        assert!(s.contains("# SCP02 session, key version 20"), "{s}");
        assert!(s.contains("ISD: A000000151000000 (SECURED)"));
    }
    for mode in ["mac", "enc", "renc"] {
        let o = simota(&["--scp", "03", "--mode", mode, "--list"], &[]);
        assert!(o.status.success(), "{mode}: {}", err(&o));
    }
    let o = simota(&["--s16", "--mode", "renc", "-v", "--info"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("Card data: 66"), "{}", out(&o));
}

#[test]
fn wrong_keys_and_protocol_mismatch_fail_clearly() {
    let o = simota(
        &["--key", "00112233445566778899AABBCCDDEEFF", "--list"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("card cryptogram does not verify"),
        "{}",
        err(&o)
    );
    // The same through the environment.
    let o = simota(
        &["--list"],
        &[("SIMOTA_GP_KEY", "00112233445566778899AABBCCDDEEFF")],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = simota(
        &["--list"],
        &[("SIMOTA_GP_KEY", "404142434445464748494A4B4C4D4E4F")],
    );
    assert!(o.status.success(), "{}", err(&o));
    // The card's keys are not diversified.
    let o = simota(&["--kdf", "kdf3", "--list"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let o = simota(&["--kdf", "nope", "--list"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--kdf"), "{}", err(&o));
    // KVN 00 picks the card's default key set (SCP03).
    let o = simota(&["--scp", "02", "--list"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("answered SCP03"), "{}", err(&o));
    let o = simota(
        &["--key-enc", "40414243444546474849404142434445", "--list"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn put_key_lock_unlock_delete_key_persist() {
    let st = tmp("keys.json");
    let st = st.to_str().unwrap();
    let k = "11223344556677881122334455667788";
    let o = simota(&["--state", st, "--put-key", k, "--new-keyver", "31"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("PUT KEY 31: KCVs "), "{}", out(&o));
    // The new key set opens a session, from a new process (durable in the state file).
    let o = simota(
        &["--state", st, "--key-ver", "31", "--key", k, "--list"],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    // --lock replaces the default key set 30; the test key no longer works; --unlock.
    let lock = "0F0E0D0C0B0A09080706050403020100";
    let o = simota(&["--state", st, "--key-ver", "30", "--lock", lock], &[]);
    assert!(o.status.success(), "{}", err(&o));
    let o = simota(&["--state", st, "--key-ver", "30", "--list"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let o = simota(
        &["--state", st, "--key-ver", "30", "--key", lock, "--unlock"],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = simota(
        &["--state", st, "--key-ver", "30", "--delete-key", "31"],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = simota(
        &["--state", st, "--key-ver", "31", "--key", k, "--list"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("INITIALIZE UPDATE"), "{}", err(&o));
}

#[test]
fn delete_an_applet_instance_and_an_unknown_aid() {
    let st = tmp("delete.json");
    let st = st.to_str().unwrap();
    let o = simota(&["--state", st, "--delete", "F073696D6F74614D01"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    let o = simota(&["--state", st, "--list"], &[]);
    assert!(!out(&o).contains("APP: F073696D6F74614D01"), "{}", out(&o));
    let o = simota(&["--state", st, "--delete", "F0F0F0F0F0"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("DELETE F0F0F0F0F0 failed: 6A88"),
        "{}",
        err(&o)
    );
}

fn cap(name: &str) -> String {
    format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn install_loads_the_cap_lists_it_and_delete_removes_it() {
    let st = tmp("install.json");
    let st = st.to_str().unwrap();
    let empty = cap("gppro-Empty_0102030405_2.2.1.cap");
    let o = simota(&["--state", st, "--mode", "enc", "--install", &empty], &[]);
    // Loaded, and the applet instance created in the Java Card VM.
    assert!(out(&o).contains("PKG 0102030405 loaded"), "{}", out(&o));
    assert!(
        out(&o).contains("APP 0102030405060708 installed"),
        "{}",
        out(&o)
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = simota(&["--state", st, "--list"], &[]);
    assert!(
        out(&o).contains("PKG: 0102030405 (LOADED)\n     Applet:  0102030405"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("APP: 0102030405060708"), "{}", out(&o));
    // The package cannot go while its applet is installed (6985) …
    let o = simota(&["--state", st, "--delete", "0102030405"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("6985"), "{}", err(&o));
    // … until the instance is deleted first.
    let o = simota(&["--state", st, "--delete", "0102030405060708"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    // Loading it again: 6985 (already there).
    let o = simota(&["--state", st, "--load", &empty], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("6985"), "{}", err(&o));
    let o = simota(&["--state", st, "--delete", "0102030405", "--list"], &[]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!out(&o).contains("0102030405"), "{}", out(&o));
    // --load alone succeeds (SCP02 this time).
    let o = simota(
        &[
            "--state",
            st,
            "--scp",
            "02",
            "--key-ver",
            "20",
            "--load",
            &empty,
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn malformed_cap_files_are_refused_before_anything_is_sent() {
    let st = tmp("badcap.json");
    let st = st.to_str().unwrap();
    let bad = tmp("bad.cap");
    std::fs::write(&bad, b"PK\x03\x04 not really").unwrap();
    let o = simota(&["--state", st, "--load", bad.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("CAP file: not a ZIP archive"),
        "{}",
        err(&o)
    );
    let o = simota(&["--load", "/nonexistent.cap"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn privs_by_name_or_hex_and_bad_names_refused_before_anything_is_sent() {
    let st = tmp("privs.json");
    let st = st.to_str().unwrap();
    let empty = cap("gppro-Empty_0102030405_2.2.1.cap");
    let o = simota(
        &[
            "--state",
            st,
            "--install",
            &empty,
            "--privs",
            "card-lock,bogus",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--privs"), "{}", err(&o));
    assert!(err(&o).contains("offset 10"), "{}", err(&o));
    // Nothing was loaded.
    let o = simota(&["--state", st, "--list"], &[]);
    assert!(!out(&o).contains("0102030405"), "{}", out(&o));
    // A GlobalPlatformPro name list reaches INSTALL [for install] as 1 byte (-v trace).
    let o = simota(
        &[
            "--state",
            st,
            "-v",
            "--install",
            &empty,
            "--privs",
            "security-domain,card-reset",
        ],
        &[],
    );
    let install = out(&o)
        .lines()
        .find(|l| l.starts_with("> 84 E6 0C 00"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(install.contains(" 01 84 "), "{}", out(&o));
}
