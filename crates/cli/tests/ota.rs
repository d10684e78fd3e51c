//! `simota ota build | parse | por` against the shared vectors (read from test-vectors/).

mod common;

use serde_json::Value;
use std::process::Output;

fn run(args: &[&str]) -> Output {
    common::simota().args(args).output().expect("run simota")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn vectors() -> Vec<Value> {
    let mut out = Vec::new();
    for f in [
        "scp80-sms-pysim-unittests.json",
        "scp80-sms-real-card-logs.json",
    ] {
        let p = format!("{}/../../test-vectors/{f}", env!("CARGO_MANIFEST_DIR"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect(&p)).unwrap();
        out.extend(v.as_array().unwrap().iter().cloned());
    }
    out
}

fn algs(v: &Value) -> (String, String) {
    let k = &v["keyset"];
    let kic = match k["kic_algo"].as_str().unwrap() {
        "aes_cbc" => "aes-cbc",
        "triple_des_cbc2" => "3des2",
        o => panic!("{o}"),
    };
    let kid = match k["kid_algo"].as_str().unwrap() {
        "aes_cmac" => "aes-cmac",
        "triple_des_cbc2" => "3des2-mac",
        o => panic!("{o}"),
    };
    (kic.into(), kid.into())
}

fn key_args(v: &Value) -> Vec<String> {
    let k = &v["keyset"];
    let (kic, kid) = algs(v);
    vec![
        "--kic-alg".into(),
        kic,
        "--kic".into(),
        k["kic"].as_str().unwrap().into(),
        "--kic-index".into(),
        k["kic_index"].to_string(),
        "--kid-alg".into(),
        kid,
        "--kid".into(),
        k["kid"].as_str().unwrap().into(),
        "--kid-index".into(),
        k["kid_index"].to_string(),
    ]
}

fn run_s(args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&a)
}

#[test]
fn build_matches_every_command_vector() {
    let mut n = 0;
    for v in vectors().iter().filter(|v| v["kind"] == "command") {
        for (fmt, key) in [
            ("packet", "ts31115_conformant_packet"),
            ("ud", "sms_user_data_with_udh"),
        ] {
            let mut a: Vec<String> = vec!["ota".into(), "build".into()];
            a.extend(key_args(v));
            a.extend(
                [
                    "--spi",
                    v["spi_hex"].as_str().unwrap(),
                    "--tar",
                    v["tar"].as_str().unwrap(),
                    "--counter",
                    &v["keyset"]["cntr"].to_string(),
                    "--data",
                    v["apdu"].as_str().unwrap(),
                    "--format",
                    fmt,
                ]
                .map(String::from),
            );
            let o = run_s(&a);
            assert!(o.status.success(), "{}: {}", v["id"], stderr(&o));
            assert_eq!(
                stdout(&o).trim(),
                v[key].as_str().unwrap().to_uppercase(),
                "{} {fmt}",
                v["id"]
            );
        }
        if let Some(t) = v.get("sms_deliver_tpdu") {
            let mut a: Vec<String> = vec!["ota".into(), "build".into()];
            a.extend(key_args(v));
            a.extend(
                [
                    "--spi",
                    v["spi_hex"].as_str().unwrap(),
                    "--tar",
                    v["tar"].as_str().unwrap(),
                    "--data",
                    v["apdu"].as_str().unwrap(),
                    "--format",
                    "tpdu",
                ]
                .map(String::from),
            );
            let o = run_s(&a);
            assert_eq!(
                stdout(&o).trim(),
                t["tpdu_with_correct_udl_derived"]
                    .as_str()
                    .unwrap()
                    .to_uppercase()
            );
        }
        n += 1;
    }
    assert_eq!(n, 10);
}

#[test]
fn parse_json_command_and_real_card_por() {
    let vs = vectors();
    let cmd = vs
        .iter()
        .find(|v| v["id"] == "docs.smpp-ota-tool.example2_cntr100.cmd")
        .unwrap();
    let mut a: Vec<String> = vec!["ota".into(), "parse".into(), "--json".into()];
    a.extend(key_args(cmd));
    a.push(cmd["sms_user_data_with_udh"].as_str().unwrap().into());
    let o = run_s(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["kind"], "command");
    assert_eq!(j["spi"], "1619");
    assert_eq!(j["kic"], "15");
    assert_eq!(j["tar"], "B00010");
    assert_eq!(j["counter"], 100);
    assert_eq!(j["pcntr"], 6);
    assert_eq!(j["integrity"], "verified");
    assert_eq!(j["data"], "A0A40000027F20A0C0000016");

    let por = vs
        .iter()
        .find(|v| v["id"] == "docs.smpp-ota-tool.example2_cntr100.resp")
        .unwrap();
    let mut a: Vec<String> = vec![
        "ota".into(),
        "parse".into(),
        "--json".into(),
        "--spi".into(),
        "1619".into(),
    ];
    a.extend(key_args(por));
    a.push(por["encoded_resp"].as_str().unwrap().into());
    let o = run_s(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["kind"], "por");
    assert_eq!(j["status"], 0);
    assert_eq!(j["counter"], 100);
    assert_eq!(j["integrity"], "verified");
    assert_eq!(j["commands"], 2);
    assert_eq!(j["last_sw"], "9000");
    assert_eq!(
        j["last_data"],
        "0000FFFF7F2002000000000009B106350400838A838A"
    );

    // The replayed-counter PoR: status 06, unsecured although SPI2 asks for CC + ciphering.
    let rep = vs
        .iter()
        .find(|v| v["id"] == "docs.smpp-ota-tool.example3_replay.resp")
        .unwrap();
    let mut a: Vec<String> = vec![
        "ota".into(),
        "parse".into(),
        "--json".into(),
        "--spi".into(),
        "1619".into(),
    ];
    a.extend(key_args(rep));
    a.push(rep["encoded_resp"].as_str().unwrap().into());
    let o = run_s(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["status"], 6);
    assert_eq!(j["integrity"], "none");
    assert_eq!(j["data"], "");
}

#[test]
fn failed_cc_exits_1_and_truncation_exits_2() {
    let vs = vectors();
    let neg = vs
        .iter()
        .find(|v| v["id"] == "unittest.Test_SMS_3DES.test_resp_3des_signed_err")
        .unwrap();
    let mut a: Vec<String> = vec![
        "ota".into(),
        "parse".into(),
        "--json".into(),
        "--spi".into(),
        "0609".into(),
    ];
    a.extend(key_args(neg));
    a.push(neg["encoded_resp"].as_str().unwrap().into());
    let o = run_s(&a);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["integrity"], "failed");
    assert!(stderr(&o).contains("integrity check failed"));

    let o = run(&["ota", "parse", "001315021935350000000000000000000102030405"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "simota: CHL 0x15 says 8-byte CC but packet ends after 5 bytes"
    );
    let o = run(&[
        "ota",
        "build",
        "--kic-alg",
        "3des2",
        "--kic",
        "0011",
        "--spi",
        "0619",
        "--tar",
        "b00000",
        "--data",
        "",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--kic: KIc key for 3des2 must be 16 bytes, got 2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn por_builds_the_vector_and_keyset_file_works() {
    let vs = vectors();
    let v = vs
        .iter()
        .find(|v| v["id"] == "unittest.Test_SMS_3DES.test_resp_3des_signed")
        .unwrap();
    let k = &v["keyset"];
    let dir = std::env::temp_dir().join(format!("simota-ota-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("keys.toml");
    std::fs::write(
        &f,
        format!(
            "[keyset.sja5]\nkic_alg = \"3des2\"\nkic = \"{}\"\nkic_index = 3\nkid_alg = \"3des2-mac\"\nkid = \"{}\"\nkid_index = 3\ncounter = 0\n",
            k["kic"].as_str().unwrap(),
            k["kid"].as_str().unwrap()
        ),
    )
    .unwrap();
    let fs = f.to_str().unwrap();
    let o = run(&[
        "ota",
        "por",
        "--keyset-file",
        fs,
        "--keyset",
        "sja5",
        "--spi",
        "0609",
        "--tar",
        "b00011",
        "--status",
        "0",
        "--data",
        "01612f",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        v["encoded_resp"].as_str().unwrap().to_uppercase()
    );

    // Status 06 is always sent unsecured.
    let o = run(&[
        "ota",
        "por",
        "--keyset-file",
        fs,
        "--keyset",
        "sja5",
        "--spi",
        "1619",
        "--tar",
        "b00010",
        "--status",
        "6",
    ]);
    assert_eq!(stdout(&o).trim(), "027100000B0AB0001000000000000006");

    // A long script is split into concatenated SMS; parse reassembles them.
    let data = "00B0000010".repeat(40);
    let o = run(&[
        "ota",
        "build",
        "--keyset-file",
        fs,
        "--keyset",
        "sja5",
        "--spi",
        "1619",
        "--tar",
        "b00010",
        "--counter",
        "0x65",
        "--data",
        &data,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let segs: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(segs.len(), 2);
    assert!(segs[0].starts_with("0770000003010201"), "{}", segs[0]);
    assert!(segs[1].starts_with("050003010202"), "{}", segs[1]);
    let mut a = vec![
        "ota".to_string(),
        "parse".into(),
        "--json".into(),
        "--keyset-file".into(),
        fs.into(),
        "--keyset".into(),
        "sja5".into(),
    ];
    a.push(segs[1].clone());
    a.push(segs[0].clone());
    let o = run_s(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["counter"], 101);
    assert_eq!(j["integrity"], "verified");
    assert_eq!(j["data"].as_str().unwrap(), data.to_uppercase());
    let o = run_s(&a[..a.len() - 1]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing segment"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn envelope_format_and_parse() {
    let o = run(&[
        "ota",
        "build",
        "--kid-alg",
        "crc32",
        "--kid-index",
        "1",
        "--spi",
        "0101",
        "--tar",
        "b00000",
        "--counter",
        "5",
        "--data",
        "00a40004023f00",
        "--format",
        "envelope",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let env = stdout(&o).trim().to_string();
    assert!(env.starts_with("80C20000"), "{env}");
    let o = run(&[
        "ota",
        "parse",
        "--kid-alg",
        "crc32",
        "--kid-index",
        "1",
        "--json",
        &env,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["kid"], "15");
    assert_eq!(j["integrity"], "verified");
    assert_eq!(j["counter"], 5);
}
