//! `simota run` end to end against the emulated card: the shipped example scripts, exit
//! codes, error messages, and the report files.

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
    let d = std::env::temp_dir().join(format!("simota-run-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn example_scripts_pass_on_the_emulator() {
    let mut n = 0;
    for e in std::fs::read_dir(root().join("apdu-scripts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "apdu") {
            let rel = format!("apdu-scripts/{}", p.file_name().unwrap().to_string_lossy());
            let o = simota(&["run", "--card", "emu", &rel]);
            let out = String::from_utf8_lossy(&o.stdout);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{rel}:\n{out}\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(out.contains(" 0 failed"), "{out}");
            n += 1;
        }
    }
    assert!(n >= 3, "found {n} example scripts");
}

#[test]
fn apdutool_sample_matches_golden_output() {
    let o = simota(&["run", "--transcript", "apdutool", "apdu-scripts/sample.scr"]);
    assert_eq!(o.status.code(), Some(0));
    let want = std::fs::read_to_string(root().join("apdu-scripts/sample.scr.out")).unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
}

#[test]
fn failed_expectation_exits_1_and_shows_expected_vs_actual() {
    let p = tmp("fail.apdu");
    std::fs::write(&p, "00A40004026FFF => 9000\n00A40004023F00 => 61??\n").unwrap();
    let o = simota(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("!! FAIL") && out.contains(":1: expected 90 00"),
        "{out}"
    );
    assert!(out.contains("!!   got 6A 82"), "{out}");
    assert!(out.contains("1 statement(s) skipped"), "{out}");
    let o = simota(&["run", "--keep-going", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 expectation(s), 1 failed"));
}

#[test]
fn syntax_error_exits_2_with_caret() {
    let p = tmp("bad.apdu");
    std::fs::write(&p, "reset\n00 A4 00 0X 02 3F 00\n").unwrap();
    let o = simota(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.apdu:2:11: expected a hex digit or `$variable`, found `X`"),
        "{err}"
    );
    assert!(
        err.contains("  00 A4 00 0X 02 3F 00\n            ^"),
        "{err}"
    );
}

#[test]
fn terminal_directives_run_through_the_terminal() {
    let p = tmp("cat.apdu");
    std::fs::write(&p, "reset\nterminal-profile FFFFFFFF\nfetch-all\nsms-pp nosuchkeys B00000 00A40000023F00 => por ok\n").unwrap();
    let o = simota(&["run", p.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("> 80 10 00 00 04 FF FF FF FF"),
        "TERMINAL PROFILE on the wire: {out}"
    );
    assert_eq!(o.status.code(), Some(2), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cat.apdu:4: sms-pp"), "{err}");
}

#[test]
fn report_files() {
    let (j, x, p) = (tmp("r.jsonl"), tmp("r.xml"), tmp("r.pcap"));
    let o = simota(&[
        "run",
        "--transcript",
        "none",
        "--json",
        j.to_str().unwrap(),
        "--junit",
        x.to_str().unwrap(),
        "--pcap",
        p.to_str().unwrap(),
        "apdu-scripts/fs-tour.apdu",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty());
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&j)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 20);
    assert!(lines.iter().all(|l| l["microseconds"].is_u64()));
    assert!(lines
        .iter()
        .any(|l| l["ok"] == true && l["expected"].is_string()));
    let xml = std::fs::read_to_string(&x).unwrap();
    assert!(xml.contains("<testsuite name=\"apdu-scripts/fs-tour.apdu\" tests=\"21\" failures=\"0\" errors=\"0\""), "{xml}");
    let pcap = std::fs::read(&p).unwrap();
    assert_eq!(&pcap[..4], [0xD4, 0xC3, 0xB2, 0xA1]);
    assert_eq!(&pcap[20..24], 101u32.to_le_bytes());
}

#[test]
fn scriptor_transcript_layout() {
    let p = tmp("s.script");
    std::fs::write(&p, "# scriptor style\nreset\n00A40004023F00\n").unwrap();
    let o = simota(&["run", "--transcript", "scriptor", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("reset\n> RESET\n< OK: 3B "), "{out}");
    assert!(
        out.contains("00A40004023F00\n> 00 A4 00 04 02 3F 00 \n< 61 "),
        "{out}"
    );
}
