//! `simota fuzz ota` end to end: the binary against the built-in emulated card.

mod common;

const KEYS: &str = r#"
[keyset.aes]
kic_alg = "aes-cbc"
kic = "000102030405060708090A0B0C0D0E0F"
kic_index = 1
kid_alg = "aes-cmac"
kid = "101112131415161718191A1B1C1D1E1F"
kid_index = 1
"#;

/// A fresh scratch directory (removed first if a previous run left it).
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("simota-fuzz-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn simota() -> assert_cmd::Command {
    common::simota()
}

#[test]
fn fuzz_ota_runs_writes_junit_and_is_reproducible() {
    let dir = scratch("junit");
    let keys = dir.join("keys.toml");
    std::fs::write(&keys, KEYS).unwrap();
    let run = |junit: &str| {
        let out = simota()
            .args(["fuzz", "ota", "--keyset-file"])
            .arg(&keys)
            .args(["--keyset", "aes", "--tar", "B00000", "--iterations", "300"])
            .args(["--seed", "42", "--junit"])
            .arg(dir.join(junit))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let a = run("a.xml");
    let b = run("b.xml");
    assert!(a.contains("total"), "{a}");
    assert!(a.contains("seed 42"), "{a}");
    // Same seed, same cases: the per-class table is identical (the rate column differs).
    let table = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("total"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&a), table(&b));
    let j = std::fs::read_to_string(dir.join("a.xml")).unwrap();
    assert!(j.contains("<testsuite name=\"simota fuzz ota\""), "{j}");
    assert!(j.contains("failures=\"0\""), "{j}");
    assert!(j.contains("name=\"crypto.wrong-mac\""), "{j}");
}

#[test]
fn bad_input_is_exit_2_and_list_classes_works() {
    let out = simota()
        .args([
            "fuzz",
            "ota",
            "--keyset-file",
            "/nonexistent.toml",
            "--keyset",
            "x",
            "--tar",
            "B00000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keyset-file"));
    let out = simota()
        .args(["fuzz", "ota", "--list-classes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("`crypto.wrong-mac`"));
    assert!(s.contains("rejected (01"));
}

#[test]
fn findings_are_saved_and_replay_with_simota_run() {
    // The user declares a minimum security level (`--msl 06`: CC and ciphering) that the
    // built-in card does not enforce on B00000 (its profile sets none). Packets below it are
    // executed (PoR 00) where the fuzzer requires 0A: a real finding about this card, every
    // time, so saving and replaying are exercised.
    let dir = scratch("out");
    let keys = dir.join("keys.toml");
    std::fs::write(&keys, KEYS).unwrap();
    let out_dir = dir.join("out");
    let out = simota()
        .args(["fuzz", "ota", "--keyset-file"])
        .arg(&keys)
        .args(["--keyset", "aes", "--tar", "B00000", "--msl", "06"])
        .args(["--iterations", "200", "--seed", "7"])
        .args(["--class", "hdr.below-msl", "--class", "valid.compact"])
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("finding: hdr.below-msl wrong-status"),
        "{stdout}"
    );
    let mut scripts: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "apdu"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "{stdout}");
    let json = std::fs::read_to_string(scripts[0].with_extension("json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["seed"], 7);
    assert_eq!(v["class"], "hdr.below-msl");
    assert_eq!(v["kind"], "wrong-status");
    assert_eq!(v["minimized"], true);
    // The reproducer's comment uses the one "expected X, got Y" style of every report.
    let apdu = std::fs::read_to_string(&scripts[0]).unwrap();
    assert!(apdu.contains(", got "), "{apdu}");
    assert!(!apdu.contains("; observed "), "{apdu}");
    // Verified before it was reported: the saved script fails on a fresh card.
    assert_eq!(v["verified"], "reproduced");
    assert!(stdout.contains(", reproduced) -> "), "{stdout}");
    // Replayed on the same card, the reproducer fails where the fuzzer saw the finding.
    let r = simota().arg("run").arg(&scripts[0]).output().unwrap();
    let text = String::from_utf8_lossy(&r.stdout);
    assert_eq!(r.status.code(), Some(1), "{text}");
    assert!(text.contains("1 failed"), "{text}");
    // Expected and got are both spaced hex.
    let fail = text
        .lines()
        .find(|l| l.starts_with("!! FAIL"))
        .unwrap_or("");
    assert!(fail.contains("expected 02 71 00 "), "{text}");
}

#[test]
fn the_wpki_applet_tar_of_the_built_in_card_can_be_fuzzed() {
    // The emulated card is the built-in one (with the WPKI applet on TAR BFFF57), as for
    // every other subcommand; the applet answers correct packets, so calibration passes and
    // the run is clean.
    let dir = scratch("wpki");
    let keys = dir.join("keys.toml");
    std::fs::write(&keys, KEYS).unwrap();
    let out = simota()
        .args(["fuzz", "ota", "--keyset-file"])
        .arg(&keys)
        .args(["--keyset", "aes", "--tar", "BFFF57", "--canary", "none"])
        .args(["--iterations", "400", "--seed", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("total                               400        0"),
        "{stdout}"
    );
}

fn run_ok(args: &[&str]) -> String {
    let out = simota().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "simota {}: {stdout}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_built_in_card_is_fuzzed_with_no_key_options() {
    // Its own key set 1 (AES-128) and its RFM TAR B00000 are the defaults (issue 12 item 7).
    let s = run_ok(&["fuzz", "ota", "--iterations", "300", "--seed", "5"]);
    assert!(
        s.contains("total                               300        0"),
        "{s}"
    );
    assert!(s.contains("crypto.wrong-mac"), "{s}");
    // … and its 3DES key set 2.
    let s = run_ok(&[
        "fuzz",
        "ota",
        "--kvn",
        "2",
        "--iterations",
        "100",
        "--seed",
        "5",
    ]);
    assert!(
        s.contains("total                               100        0"),
        "{s}"
    );
    let out = simota()
        .args(["fuzz", "ota", "--kvn", "9", "--iterations", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no OTA key set 9"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inline_keys_work_as_in_ota_build() {
    let kic = "000102030405060708090A0B0C0D0E0F";
    let kid = "101112131415161718191A1B1C1D1E1F";
    let args = |kid: &str| -> Vec<String> {
        [
            "fuzz",
            "ota",
            "--kic-alg",
            "aes-cbc",
            "--kic",
            kic,
            "--kic-index",
            "1",
            "--kid-alg",
            "aes-cmac",
            "--kid",
            kid,
            "--kid-index",
            "1",
            "--tar",
            "B00000",
            "--iterations",
            "200",
            "--seed",
            "6",
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args(kid);
    let s = run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        s.contains("total                               200        0"),
        "{s}"
    );
    // The same keys from a keyset file give the same run.
    let dir = scratch("inline");
    let keys = dir.join("keys.toml");
    std::fs::write(&keys, KEYS).unwrap();
    let f = run_ok(&[
        "fuzz",
        "ota",
        "--keyset-file",
        keys.to_str().unwrap(),
        "--keyset",
        "aes",
        "--tar",
        "B00000",
        "--iterations",
        "200",
        "--seed",
        "6",
    ]);
    let table = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("total"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&s), table(&f));
    // A wrong inline key fails the calibration (exit 2), as a wrong keyset file does.
    let bad = args("101112131415161718191A1B1C1D1E10");
    let out = simota().args(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("calibration"));
    // Both ways at once is refused, as for `ota build`.
    let mut both = args(kid);
    both.extend(["--keyset-file", keys.to_str().unwrap(), "--keyset", "aes"].map(String::from));
    let out = simota().args(&both).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
}

#[test]
fn with_a_reader_keys_and_tar_are_required() {
    for extra in [&[][..], &["--tar", "B00000"][..]] {
        let out = simota()
            .args(["fuzz", "ota", "--reader", "no such reader"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains("with --reader, give the keys"), "{e}");
        assert!(e.contains("--tar"), "{e}");
    }
}
