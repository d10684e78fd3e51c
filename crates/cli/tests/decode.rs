//! Runs the `simota` binary for the decode commands: every "Done when" item of the foundation
//! issue (SELECT by FID, ENVELOPE SMS-PP download + 9000, ATR with T=0/T=1 and TCK, exit code
//! 2 with the offset for malformed hex and truncated APDUs) plus the JSON outputs.

mod common;
use common::{fails, ok};

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("one JSON object")
}

#[test]
fn select_by_fid() {
    let out = ok(&["apdu", "decode", "00A40004023F00"]);
    assert!(out.contains("INS A4: SELECT\n"), "{out}");
    assert!(out.contains("P1  00: select by FID"), "{out}");
    assert!(out.contains("P2  04: return FCP"), "{out}");
    assert!(out.contains("file ID 3F00 (MF)"), "{out}");
    assert!(out.contains("case 3, short"), "{out}");
}

#[test]
fn select_by_fid_json() {
    let v = json(&["apdu", "decode", "--json", "00 A4 00 04 02 3F 00"]);
    let c = &v["command"];
    assert_eq!(c["ins"]["name"], "SELECT");
    assert_eq!(c["p1"]["meaning"], "select by FID (MF, DF or EF)");
    assert_eq!(c["p2"]["meaning"], "return FCP template");
    assert_eq!(c["cla"]["channel"], 0);
    assert_eq!(c["case"], 3);
    assert_eq!(c["data"], "3F00");
    assert!(v["response"].is_null());
}

#[test]
fn readme_main_command_select_mf_with_fcp() {
    let out = ok(&[
        "apdu",
        "decode",
        "00A40004023F00",
        "621D8202782183023F00A5038001718A01058B032F0602C6069001408301019000",
    ]);
    for line in [
        "    62 FCP template [29]\n",
        "      82 File descriptor [2]: 78 21 = shareable DF or ADF\n",
        "      83 File identifier [2]: 3F 00 = FID 3F00 (MF)\n",
        "        80 UICC characteristics [1]: 71\n",
        "      8A Life cycle status integer (LCSI) [1]: 05 = operational state, activated\n",
        "        83 Key reference [1]: 01 = key reference 01: PIN Appl 1 (global)\n",
        "  SW 9000: Normal processing\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn envelope_sms_pp_download_and_9000() {
    let out = ok(&["apdu", "decode", "80C2000006D10482028381", "9000"]);
    assert!(out.contains("INS C2: ENVELOPE"), "{out}");
    assert!(out.contains("D1 SMS-PP download [4]"), "{out}");
    assert!(
        out.contains("82 Device identities (CR) [2]: 83 81 = network → UICC"),
        "{out}"
    );
    assert!(out.contains("SW 9000: Normal processing"), "{out}");
}

#[test]
fn envelope_json() {
    let v = json(&["apdu", "decode", "--json", "80C2000006D10482028381", "9000"]);
    let d1 = &v["command"]["data_tlv"][0];
    assert_eq!(d1["tag"], "D1");
    assert_eq!(d1["name"], "SMS-PP download");
    let di = &d1["children"][0];
    assert_eq!(di["format"], "COMPREHENSION-TLV");
    assert_eq!(di["name"], "Device identities");
    assert_eq!(di["cr"], true);
    assert_eq!(di["meaning"], "network → UICC");
    assert_eq!(di["offset"], 2);
    assert_eq!(v["response"]["sw"], "9000");
    assert_eq!(v["response"]["meaning"], "Normal processing");
    assert_eq!(v["response"]["category"], "normal");
}

#[test]
fn response_data_and_parameterised_sw() {
    let out = ok(&["apdu", "decode", "00A40004023F00", "6121"]);
    assert!(out.contains("33 response bytes still available"), "{out}");
    let out = ok(&["apdu", "decode", "0020000108 31323334FFFFFFFF", "63C2"]);
    assert!(out.contains("VERIFY PIN"), "{out}");
    assert!(out.contains("PIN Appl 1"), "{out}");
    assert!(out.contains("2 retries left"), "{out}");
    // FETCH response decoded as a proactive command.
    let out = ok(&[
        "apdu",
        "decode",
        "801200000B",
        "D009810301030082028182 9000",
    ]);
    assert!(
        out.contains("D0 Proactive command [9] = POLL INTERVAL"),
        "{out}"
    );
    assert!(out.contains("UICC → terminal"), "{out}");
}

#[test]
fn gsm_select_response_layout() {
    // DF.GSM of the built-in card (TS 51.011 §9.2.1), as text and JSON.
    let args = [
        "apdu",
        "decode",
        "A0C0000016",
        "0000FFFF7F2002000000000009B100120500838A838A9000",
    ];
    let out = ok(&args);
    assert!(out.contains("GSM file information (TS 51.011"), "{out}");
    assert!(out.contains("      child_efs: 18\n"), "{out}");
    let mut a = vec!["apdu", "decode", "--json"];
    a.extend_from_slice(&args[2..]);
    let j = json(&a);
    assert_eq!(j["response"]["gsm_file"]["type"], "DF");
    assert_eq!(j["response"]["gsm_file"]["chv1"], "3 attempts left");
    // A SELECT answered directly (Le present) with bytes of no known layout: the error names
    // the offset; GET RESPONSE data of another command (SRES ‖ Kc) is left alone.
    let j = json(&[
        "apdu",
        "decode",
        "--json",
        "A0A40000023F0000",
        "0000FFFF3F00099000",
    ]);
    assert!(j["response"]["gsm_file_error"]
        .as_str()
        .unwrap()
        .contains("offset 6"));
    let out = ok(&[
        "apdu",
        "decode",
        "A0C000000C",
        "46F8416AEAE4BE823AF9A08B9000",
    ]);
    assert!(!out.contains("GSM file"), "{out}");
}

#[test]
fn atr_t0_t1_and_tck() {
    let out = ok(&["atr", "decode", "3B80800101"]);
    assert!(out.contains("protocols offered: T=0, T=1"), "{out}");
    assert!(out.contains("TCK = 01 (correct)"), "{out}");
    let out = ok(&["atr", "decode", "3B80800102"]);
    assert!(out.contains("TCK = 02 (WRONG: expected 01)"), "{out}");
    let v = json(&["atr", "decode", "--json", "3B 80 80 01 01"]);
    assert_eq!(v["protocols"], serde_json::json!([0, 1]));
    assert_eq!(v["tck"], "01");
    assert_eq!(v["tck_ok"], true);
    assert_eq!(v["interface_groups"][1]["td"]["protocol"], 1);
}

#[test]
fn tlv_tree() {
    let out = ok(&[
        "tlv",
        "decode",
        "621B8202412183022FE2A503D001408A01058B032F06038002000A8800",
    ]);
    assert!(out.starts_with("62 FCP template [27]\n"), "{out}");
    assert!(out.contains("\n  82 File descriptor [2]: 41 21 = shareable working EF, transparent\n"));
    assert!(
        out.contains("\n  A5 Proprietary information template [3]\n    D0"),
        "{out}"
    );
    let out = ok(&[
        "tlv",
        "decode",
        "--comprehension",
        "81 03 01 21 80",
        "82 02 82 81",
        "83 01 00",
    ]);
    assert!(out.contains("81 Command details (CR) [3]: 01 21 80 = command number 1, DISPLAY TEXT"));
    assert!(
        out.contains("83 Result (CR) [1]: 00 = command performed successfully"),
        "{out}"
    );
    let v = json(&["tlv", "decode", "--json", "AE80220580E29000000000"]);
    assert_eq!(v["objects"][0]["indefinite"], true);
    assert_eq!(v["objects"][0]["children"][0]["name"], "C-APDU");
    assert_eq!(v["format"], "BER-TLV");
}

#[test]
fn malformed_hex_exits_2_with_offset() {
    let err = fails(&["apdu", "decode", "00AG"], 2);
    assert!(err.contains("offset 3"), "{err}");
    assert!(err.contains("C-APDU"), "{err}");
    let err = fails(&["tlv", "decode", "62 0"], 2);
    assert!(
        err.contains("offset 3") && err.contains("odd number"),
        "{err}"
    );
    let err = fails(&["atr", "decode", "3B:8Z"], 2);
    assert!(err.contains("offset 4"), "{err}");
    let err = fails(&["apdu", "decode", "00A40004023F00", "90 0x"], 2);
    assert!(err.contains("R-APDU") && err.contains("offset"), "{err}");
}

#[test]
fn truncated_input_exits_2_with_offset() {
    let err = fails(&["apdu", "decode", "00A40004023F"], 2);
    assert!(
        err.contains("offset 6") && err.contains("truncated"),
        "{err}"
    );
    let err = fails(&["apdu", "decode", "00A4"], 2);
    assert!(
        err.contains("offset 2") && err.contains("truncated"),
        "{err}"
    );
    let err = fails(&["apdu", "decode", "00A40004023F00", "90"], 2);
    assert!(err.contains("offset 1"), "{err}");
    let err = fails(&["tlv", "decode", "6205820241"], 2);
    assert!(
        err.contains("offset 1") && err.contains("length 5"),
        "{err}"
    );
    let err = fails(&["atr", "decode", "3B8080"], 2);
    assert!(err.contains("offset 3") && err.contains("TD2"), "{err}");
}

#[test]
fn help_everywhere() {
    for args in [
        &["--help"][..],
        &["apdu", "--help"],
        &["apdu", "decode", "--help"],
        &["tlv", "decode", "--help"],
        &["atr", "decode", "--help"],
    ] {
        let out = ok(args);
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
}

// The manual's decoding examples (docs/src/decode.md) are run and compared, exit codes
// included, by tests/examples.rs with every other example of README.md and the manual.

/// Output into a pipe whose reader has gone ends the program quietly with status 141 (as a
/// SIGPIPE would), not with a panic report.
#[test]
fn a_closed_output_pipe_is_exit_141_without_a_panic() {
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["profile", "show"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the program writes its (larger than one write) output.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
