//! `simota wpki` end to end through the binary: in-process applet over a state file, offline
//! profile tools, split-key signing verified with OpenSSL when present.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEY: &str = "000102030405060708090a0b0c0d0e0f";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("simota-wpki-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn simota(d: &Path, args: &[&str]) -> Output {
    common::simota().current_dir(d).args(args).output().unwrap()
}

fn ok(o: &Output) -> String {
    let s = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{s}");
    s
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        println!("NOTICE: openssl not found; OpenSSL checks skipped");
    }
    ok
}

/// What the card signs for a text SIGN (PROTOCOL.md §5.3): `"WPKI-SIG" 01 01 ‖ text`.
fn signed_text(t: &str) -> Vec<u8> {
    [b"WPKI-SIG".as_slice(), &[0x01, 0x01], t.as_bytes()].concat()
}

#[test]
fn profiles_offline() {
    let d = dir("prof");
    let o = simota(
        &d,
        &[
            "wpki",
            "profiles",
            "match",
            "mss::sign:loa3:app",
            "mss:op:sign:loa3:sim",
            "--mode",
            "better",
        ],
    );
    assert!(ok(&o).contains("match (Better)"));
    let o = simota(
        &d,
        &[
            "wpki",
            "profiles",
            "match",
            "mss::sign:loa4",
            "mss:op:sign:loa3:sim",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = simota(&d, &["wpki", "profiles", "parse", "mss::sign:loa9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("offset 10"));
    let o = simota(
        &d,
        &[
            "wpki",
            "profiles",
            "parse",
            "http://alauda.mobi/nonRepudiation",
        ],
    );
    assert!(ok(&o).contains("canonical: mss::sign:loa4:sim"));
}

#[test]
fn sign_journey_and_split_key() {
    let d = dir("journey");
    let st = ["--applet-state", "st.bin", "--e2e-key", KEY];
    let run = |extra: &[&str]| {
        let mut a = vec!["wpki"];
        a.extend_from_slice(&st);
        a.extend_from_slice(extra);
        simota(&d, &a)
    };
    let o = run(&["pin", "activate", "--new-pin", "2580"]);
    let out = ok(&o);
    let puk = out.split("PUK ").nth(1).unwrap().trim().to_string();
    assert_eq!(puk.len(), 8);
    ok(&run(&[
        "keygen",
        "--key",
        "1",
        "--alg",
        "p256",
        "--usage",
        "sign,authn,consent",
        "--out",
        "pub.pem",
    ]));
    ok(&run(&[
        "pop",
        "--key",
        "1",
        "--subject",
        "CN=Bob,C=FI",
        "--user-pin",
        "2580",
        "--out",
        "req.der",
    ]));
    let o = run(&[
        "sign",
        "--key",
        "1",
        "--text",
        "Transfer 5 EUR",
        "--user-pin",
        "2580",
        "--out",
        "sig.der",
        "-v",
    ]);
    let out = ok(&o);
    assert!(
        out.contains("DISPLAY TEXT (confirm): \"Transfer 5 EUR\""),
        "{out}"
    );
    // wrong PIN three times, blocked, unblock, sign again
    for _ in 0..3 {
        let o = run(&["sign", "--key", "1", "--text", "x", "--user-pin", "0000"]);
        assert_eq!(o.status.code(), Some(1));
    }
    let o = run(&["sign", "--key", "1", "--text", "x", "--user-pin", "2580"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("PinBlocked"));
    ok(&run(&[
        "pin",
        "unblock",
        "--puk",
        &puk,
        "--new-pin",
        "1470",
    ]));
    ok(&run(&["consent", "--key", "1", "--text", "I agree"]));
    // timeout and cancel
    let o = run(&[
        "sign", "--key", "1", "--text", "x", "--user", "ok", "--user", "timeout",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("NoResponse"));
    // split key
    ok(&simota(
        &d,
        &[
            "wpki",
            "split-keygen",
            "--public",
            "split.pem",
            "--server-share",
            "server.pem",
            "--card-share",
            "card.pem",
        ],
    ));
    ok(&run(&[
        "split-put",
        "--group",
        "1",
        "--key",
        "4",
        "--card-share",
        "card.pem",
    ]));
    ok(&run(&[
        "pin",
        "activate",
        "--group",
        "1",
        "--new-pin",
        "3690",
    ]));
    std::fs::write(d.join("msg.txt"), signed_text("split signed")).unwrap();
    ok(&run(&[
        "sign",
        "--key",
        "4",
        "--text",
        "split signed",
        "--user-pin",
        "3690",
        "--split-share",
        "server.pem",
        "--out",
        "split.sig",
    ]));
    let o = run(&["keys"]);
    assert!(ok(&o).contains("key 4 group 1 Rsa2048"));
    if have_openssl() {
        let v = Command::new("openssl")
            .current_dir(&d)
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "split.pem",
                "-signature",
                "split.sig",
                "msg.txt",
            ])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&v.stdout).contains("Verified OK"));
        let v = Command::new("openssl")
            .current_dir(&d)
            .args([
                "req", "-inform", "DER", "-in", "req.der", "-noout", "-verify",
            ])
            .output()
            .unwrap();
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
        std::fs::write(d.join("t.txt"), signed_text("Transfer 5 EUR")).unwrap();
        let v = Command::new("openssl")
            .current_dir(&d)
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "sig.der",
                "t.txt",
            ])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&v.stdout).contains("Verified OK"));
    }
    // a real card over PC/SC needs its OTA keys: a clear error, exit 2
    let o = simota(&d, &["wpki", "--reader", "X", "keys"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--keyset-file F --keyset NAME"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn ota_path_through_terminal_and_emulated_card() {
    let d = dir("ota");
    let run = |extra: &[&str]| {
        let mut a = vec!["wpki", "--state", "card.json", "--e2e-key", KEY];
        a.extend_from_slice(extra);
        simota(&d, &a)
    };
    ok(&run(&["pin", "activate", "--new-pin", "4321"]));
    ok(&run(&[
        "keygen", "--key", "2", "--alg", "rsa2048", "--out", "pub.pem",
    ]));
    let out = ok(&run(&[
        "sign",
        "--key",
        "2",
        "--text",
        "OTA signed",
        "--user-pin",
        "4321",
        "--out",
        "sig.bin",
        "-v",
    ]));
    assert!(out.contains("DisplayText Text: \"OTA signed\""), "{out}");
    let o = run(&["sign", "--key", "2", "--text", "x", "--user", "cancel"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("UserCancelled"));
    if have_openssl() {
        std::fs::write(d.join("m.txt"), signed_text("OTA signed")).unwrap();
        let v = Command::new("openssl")
            .current_dir(&d)
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "sig.bin",
                "m.txt",
            ])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&v.stdout).contains("Verified OK"));
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `--reader` option handling, all decided before any PC/SC call (no pcscd needed).
#[test]
fn reader_options() {
    let d = dir("reader");
    let ks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apdu-scripts/keysets.toml");
    let ks = ks.to_str().unwrap();
    let err = |args: &[&str]| {
        let o = simota(&d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // --keyset-file without --keyset: clap names the missing option
    let e = err(&[
        "wpki",
        "sign",
        "--reader",
        "X",
        "--keyset-file",
        ks,
        "--key",
        "1",
    ]);
    assert!(e.contains("--keyset <NAME>"), "{e}");
    // a keyset that is not in the file
    let e = err(&[
        "wpki",
        "keys",
        "--reader",
        "X",
        "--keyset-file",
        ks,
        "--keyset",
        "nope",
    ]);
    assert!(e.contains("--keyset nope"), "{e}");
    // a bad counter and a bad TAR are named
    let e = err(&[
        "wpki",
        "keys",
        "--reader",
        "X",
        "--keyset-file",
        ks,
        "--keyset",
        "wpki",
        "--counter",
        "zz",
    ]);
    assert!(e.contains("--counter"), "{e}");
    let e = err(&[
        "wpki",
        "keys",
        "--reader",
        "X",
        "--keyset-file",
        ks,
        "--keyset",
        "wpki",
        "--tar",
        "BF",
    ]);
    assert!(e.contains("--tar"), "{e}");
    // the key options belong to --reader only; one card source at a time
    let e = err(&[
        "wpki",
        "keys",
        "--state",
        "s.bin",
        "--keyset-file",
        ks,
        "--keyset",
        "wpki",
    ]);
    assert!(e.contains("only apply to --reader"), "{e}");
    let e = err(&["wpki", "keys", "--state", "s.bin", "--reader", "X"]);
    assert!(
        e.contains("one of --applet-state, --state or --reader"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

fn fails(o: &Output) -> String {
    let s = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "expected a failure: {s}");
    s
}

/// Issue 12 items 1, 4, 5: key usages from the CLI, share and state files 0600, the share
/// file's PEM label, empty PIN entries, the SIM menu's messages and exit codes.
#[test]
fn findings_usage_files_shares_and_menu() {
    let d = dir("findings");
    let run = |extra: &[&str]| {
        let mut a = vec!["wpki", "--applet-state", "st.bin", "--e2e-key", KEY];
        a.extend_from_slice(extra);
        simota(&d, &a)
    };
    // menu 3 (activate) ends with "PIN activated", exit 0; no group without PIN left → failure
    ok(&run(&["keygen", "--key", "1", "--alg", "p256"]));
    let out = ok(&run(&[
        "menu", "3", "--user", "2580", "--user", "2580", "--user", "ok", "--user", "ok",
    ]));
    assert!(out.contains("\"PIN activated\""), "{out}");
    assert!(!out.contains("PIN changed"), "{out}");
    let o = run(&["menu", "3", "--user", "ok"]);
    assert_eq!(o.status.code(), Some(1), "{}", fails(&o));
    // menu 1 (change) with a wrong PIN fails, exit 1
    let o = run(&["menu", "1", "--user", "0000", "--user", "ok"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(fails(&o).contains("Wrong PIN"));
    // the default usage is sign: KEYGEN says so, authn and consent are refused
    let out = ok(&run(&["keygen", "--key", "2", "--alg", "p256"]));
    assert!(out.contains("usage sign;"), "{out}");
    let o = run(&[
        "authn",
        "--key",
        "2",
        "--challenge",
        "0102",
        "--user-pin",
        "2580",
    ]);
    assert!(fails(&o).contains("UsageNotAllowed"), "{}", fails(&o));
    let o = run(&["consent", "--key", "2", "--text", "I agree"]);
    assert!(fails(&o).contains("UsageNotAllowed"));
    // an empty PIN entry uses no try
    let o = run(&[
        "sign", "--key", "2", "--text", "x", "--user", "ok", "--user", "ok",
    ]);
    assert!(fails(&o).contains("NothingEntered"));
    let out = ok(&run(&["pin", "status"]));
    assert!(out.contains("PIN tries left 2,"), "{out}"); // 3 minus the wrong PIN of menu 1
                                                         // a profile for another operation is refused
    let o = run(&[
        "sign",
        "--profile",
        "mss::authn:loa3",
        "--text",
        "x",
        "--user-pin",
        "2580",
    ]);
    assert!(fails(&o).contains("ProfileMismatch"), "{}", fails(&o));
    // split key: shares written 0600; the server share is refused as --card-share
    ok(&simota(
        &d,
        &[
            "wpki",
            "split-keygen",
            "--public",
            "split.pem",
            "--server-share",
            "server.pem",
            "--card-share",
            "card.pem",
        ],
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["server.pem", "card.pem", "st.bin"] {
            let m = std::fs::metadata(d.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o600, "{f}");
        }
    }
    let o = run(&["split-put", "--key", "4", "--card-share", "server.pem"]);
    assert_eq!(o.status.code(), Some(2));
    let e = fails(&o);
    assert!(
        e.contains("this is the server share") && e.contains("WPKI SPLIT CARD SHARE"),
        "{e}"
    );
    let o = run(&["split-put", "--key", "4", "--card-share", "split.pem"]);
    assert!(fails(&o).contains("PEM label `PUBLIC KEY` is not a share file"));
    ok(&run(&[
        "split-put",
        "--key",
        "4",
        "--card-share",
        "card.pem",
    ]));
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 12 items 2, 4, 10 on the built-in card: the state file is 0600, a wrong --e2e-key is
/// named as such, an over-long text is refused with its length and the limit.
#[test]
fn findings_state_file_e2e_key_and_text_limits() {
    let d = dir("findings-state");
    let with_key = |key: &str, extra: &[&str]| {
        let mut a = vec!["wpki", "--state", "card.json", "--e2e-key", key];
        a.extend_from_slice(extra);
        simota(&d, &a)
    };
    ok(&with_key(KEY, &["pin", "activate", "--new-pin", "4321"]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(d.join("card.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o600);
    }
    let o = with_key("ffffffffffffffffffffffffffffffff", &["keys"]);
    let e = fails(&o);
    assert!(e.contains("wrong --e2e-key"), "{e}");
    assert!(!e.contains("different profile"), "{e}");
    // without --e2e-key the card still opens (plain requests)
    ok(&simota(&d, &["wpki", "--state", "card.json", "keys"]));
    // a 180-character mixed-script text: refused before anything is shown
    ok(&with_key(KEY, &["keygen", "--key", "1", "--alg", "p256"]));
    let text: String = "Überweisung 250,00 € an Иван Петров, Αθήνα 参考番号 "
        .chars()
        .cycle()
        .take(180)
        .collect();
    let o = with_key(
        KEY,
        &[
            "sign",
            "--key",
            "1",
            "--text",
            &text,
            "--user-pin",
            "4321",
            "-v",
        ],
    );
    let e = fails(&o);
    assert!(
        e.contains("DISPLAY TEXT would be") && e.contains("the limit is 255 bytes"),
        "{e}"
    );
    assert!(!e.contains("user saw"), "nothing shown: {e}");
    let o = with_key(
        KEY,
        &[
            "sign",
            "--key",
            "1",
            "--text",
            "Pay \u{202E}01 RUE",
            "--user-pin",
            "4321",
        ],
    );
    assert!(fails(&o).contains("U+202E"));
    // a wrong --e2e-key on a card made without one
    ok(&simota(
        &d,
        &[
            "wpki",
            "--state",
            "plain.json",
            "pin",
            "activate",
            "--new-pin",
            "1111",
        ],
    ));
    let o = simota(
        &d,
        &["wpki", "--state", "plain.json", "--e2e-key", KEY, "keys"],
    );
    assert!(fails(&o).contains("wrong --e2e-key: the card in this state has no end-to-end key"));
    let _ = std::fs::remove_dir_all(&d);
}
