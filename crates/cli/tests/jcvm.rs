//! `simota run --cap`: real CAP files run in the Java Card VM on the emulated card, with the
//! acceptance scripts of apdu-scripts/jcvm/ (expectations from the applets' Java sources and
//! bytecode).

mod common;

use std::path::PathBuf;
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn simota(args: &[&str]) -> Output {
    common::simota()
        .args(args)
        .current_dir(root())
        .output()
        .expect("run simota")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("simota-jcvm-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn check(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains(" 0 failed"), "{out}");
    out
}

#[test]
fn wallet_script_verify_credit_debit_balance_and_blocked_pin() {
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/jcsim-wallet.cap",
        "--cap-params",
        "01020304",
        "apdu-scripts/jcvm/wallet.apdu",
    ]);
    let out = check(&o);
    assert!(out.contains("24 expectation(s), 0 failed"), "{out}");
}

#[test]
fn exception_tests_script_each_exception_gives_its_status() {
    let o = simota(&[
        "run",
        "--raw",
        "--cap",
        "test-vectors/cap/jcsim-ExceptionTests.cap",
        "apdu-scripts/jcvm/exception-tests.apdu",
    ]);
    let out = check(&o);
    assert!(out.contains("43 expectation(s), 0 failed"), "{out}");
}

#[test]
fn javatest_and_empty_scripts() {
    for (cap, script) in [
        ("caprunner-javatest.cap", "javatest.apdu"),
        ("gppro-Empty_0102030405_2.2.1.cap", "empty.apdu"),
    ] {
        let o = simota(&[
            "run",
            "--cap",
            &format!("test-vectors/cap/{cap}"),
            &format!("apdu-scripts/jcvm/{script}"),
        ]);
        check(&o);
    }
}

#[test]
fn the_wallet_balance_survives_the_state_file_and_is_installed_once() {
    let st = tmp("wallet.json");
    let _ = std::fs::remove_file(&st);
    let credit = tmp("credit.apdu");
    std::fs::write(
        &credit,
        "reset\n00 A4 04 00 0B D1 56 00 01 32 0A 64 65 6D 9F 01 => 90 00\n\
         80 20 00 00 04 01 02 03 04 => 90 00\n80 30 00 00 01 05 => 90 00\n\
         80 50 00 00 02 => 00 05 90 00\n",
    )
    .unwrap();
    let balance = tmp("balance.apdu");
    std::fs::write(
        &balance,
        "reset\n00 A4 04 00 0B D1 56 00 01 32 0A 64 65 6D 9F 01 => 90 00\n\
         80 50 00 00 02 => 00 05 90 00\n80 20 00 00 04 05 06 07 08 => 90 00\n",
    )
    .unwrap();
    let wallet = "test-vectors/cap/jcsim-wallet.cap";
    let st_s = st.to_str().unwrap();
    check(&simota(&[
        "run",
        "--state",
        st_s,
        "--cap",
        wallet,
        "--cap-params",
        "01020304",
        credit.to_str().unwrap(),
    ]));
    // Second run: the instance is in the state (not installed again: the new parameters
    // would give PIN 05060708 — and a fresh balance of 0).
    let o = simota(&[
        "run",
        "--state",
        st_s,
        "--cap",
        wallet,
        "--cap-params",
        "05060708",
        balance.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("00 05 90 00"), "{out}");
    assert!(
        out.contains("expected 90 00"),
        "the PIN is still 01020304: {out}"
    );
}

#[test]
fn a_cap_whose_imports_the_card_lacks_is_refused_naming_the_import() {
    // A uicc.access (ETSI TS 102 241 file access) applet: not on this card.
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/simota-uiccfile.cap",
        "apdu-scripts/jcvm/empty.apdu",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--cap test-vectors/cap/simota-uiccfile.cap"),
        "{err}"
    );
    assert!(
        err.contains("(uicc.access) 1.0 is not on this card"),
        "{err}"
    );
}

#[test]
fn a_cap_needing_crypto_natives_not_yet_present_fails_its_install_clearly() {
    // SHADigest's install calls MessageDigest.getInstance (javacard.security, the crypto
    // natives still to come): the install answers 6F00.
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/jcsim-SHADigest.cap",
        "apdu-scripts/jcvm/empty.apdu",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.code() == Some(2) {
        assert!(
            err.contains("install of applet EEEEEEEEEE00 answered 6F00"),
            "{err}"
        );
    } else {
        // Once the crypto natives exist the applet installs; the script (for another
        // applet) then fails on its SELECT.
        assert_eq!(o.status.code(), Some(1), "{err}");
    }
}

/// Issue 17: pySim's HelloSTK (a `sim.toolkit` applet): SET UP MENU after TERMINAL PROFILE
/// lists its entry, MENU SELECTION makes it send DISPLAY TEXT, the TERMINAL RESPONSE resumes
/// it and ends the session; then the same through the terminal simulator, which shows the
/// text.
#[test]
fn hellostk_script_menu_selection_displays_text() {
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/pysim-test_javacard.cap",
        "apdu-scripts/jcvm/hellostk.apdu",
    ]);
    let out = check(&o);
    assert!(out.contains("10 expectation(s), 0 failed"), "{out}");
    assert!(out.contains("shown Item(3): Hello, STK"), "{out}");
    assert!(
        out.contains("-- menu: shown Text: Welcome to ToorCamp 2012"),
        "{out}"
    );
    assert!(
        out.contains("-- menu: DisplayText -> result 00 (card 9000)"),
        "{out}"
    );
}

#[test]
fn shareable_script_library_sio_firewall_and_transaction() {
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/simota-shlib.cap",
        "--cap",
        "test-vectors/cap/simota-shserver.cap",
        "--cap",
        "test-vectors/cap/simota-shclient.cap",
        "apdu-scripts/jcvm/shareable.apdu",
    ]);
    let out = check(&o);
    assert!(out.contains("15 expectation(s), 0 failed"), "{out}");
    // Without the library the client is refused, naming the import.
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/simota-shclient.cap",
        "apdu-scripts/jcvm/shareable.apdu",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("F073696D6F74614C"), "{err}");
}
