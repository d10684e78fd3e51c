//! The README's main job: `simota run apdu-scripts/wpki-sign.apdu` on the built-in emulated
//! card (the WPKI signing journey over OTA with SIM Toolkit dialogues).

mod common;

use std::path::PathBuf;
use wpki::protocol::{KeyAlgorithm, OpCode, PinOp, Request};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text the journey signs (what the user sees is what is signed).
const TEXT: &str = "Pay 10 EUR to Bob";

/// The WPKI requests of apdu-scripts/wpki-sign.apdu, built with the client API
/// (`wpki::protocol::Request::encode`, PROTOCOL.md §5).
fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let sign = |id: u32| {
        let mut r = Request::new(id, OpCode::Sign);
        r.key = Some(0);
        r.data = Some(TEXT.as_bytes().to_vec());
        r.encode()
    };
    let mut activate = Request::new(1, OpCode::Pin);
    activate.group = Some(0);
    activate.pin_op = Some(PinOp::Activate);
    let mut keygen = Request::new(2, OpCode::Keygen);
    keygen.group = Some(0);
    keygen.key = Some(0);
    keygen.algorithm = Some(KeyAlgorithm::EcP256);
    keygen.max_answer = Some(160);
    let status = |id: u32| {
        let mut r = Request::new(id, OpCode::Pin);
        r.group = Some(0);
        r.pin_op = Some(PinOp::Status);
        r.encode()
    };
    vec![
        ("PIN ACTIVATE", activate.encode()),
        ("KEYGEN", keygen.encode()),
        ("SIGN", sign(3)),
        ("SIGN wrong PIN", sign(4)),
        ("SIGN cancelled", sign(5)),
        ("SIGN timeout", sign(6)),
        ("PIN STATUS", status(7)),
        ("SIGN again", sign(8)),
        ("PIN STATUS again", status(9)),
        ("SIGN with the new PIN", sign(10)),
    ]
}

#[test]
fn script_requests_are_what_the_client_api_builds() {
    let reqs = requests();
    for (what, req) in &reqs {
        println!("{what}: {}", apdu::hex::encode_spaced(req));
    }
    let script = std::fs::read_to_string(root().join("apdu-scripts/wpki-sign.apdu")).unwrap();
    let flat: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(' ', "")
        .to_ascii_uppercase();
    for (what, req) in reqs {
        let hex = apdu::hex::encode(&req).to_ascii_uppercase();
        assert!(flat.contains(&hex), "{what}: {hex} is not in the script");
    }
}

/// The README's first command, minus `cargo run --release --`.
const MAIN_JOB: &[&str] = &["run", "apdu-scripts/wpki-sign.apdu"];

fn simota(args: &[&str]) -> std::process::Output {
    common::simota()
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// The applet answers carried in the PoRs of a text transcript (`< PoR SS (name) <data>` plus
/// the indented continuation lines), in order, with their PoR status.
fn pors(transcript: &str) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = transcript.lines().peekable();
    while let Some(l) = lines.next() {
        let Some(rest) = l.strip_prefix("< PoR ") else {
            continue;
        };
        // `SS (name) DATA`: the status byte, its short name, then the data.
        let (status, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let (name, data) = rest
            .strip_prefix('(')
            .and_then(|r| r.split_once(')'))
            .unwrap_or_else(|| panic!("PoR line {l:?}: no `(name)` after the status"));
        let s = u8::from_str_radix(status, 16).unwrap_or_else(|e| panic!("PoR line {l:?}: {e}"));
        assert_eq!(
            ota::ResponseStatus::from_byte(s).short_name(),
            name,
            "PoR line {l:?}"
        );
        let mut hex = format!("{status} {data}");
        while let Some(next) = lines.peek() {
            if !next.starts_with("  ") || next.trim().is_empty() {
                break;
            }
            hex.push_str(next);
            lines.next();
        }
        let b = apdu::hex::decode(&hex).unwrap_or_else(|e| panic!("PoR line {hex:?}: {e}"));
        out.push((b[0], b[1..].to_vec()));
    }
    out
}

#[test]
fn readme_main_job_passes_on_the_built_in_card() {
    let o = simota(MAIN_JOB);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("=== apdu-scripts/wpki-sign.apdu: 10 expectation(s), 0 failed"),
        "{stdout}"
    );
}

#[test]
fn main_job_shows_what_it_signs_and_the_signature_verifies() {
    let mut args = MAIN_JOB.to_vec();
    args.extend(["--transcript", "text"]);
    let o = simota(&args);
    let t = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{t}");
    // The phone showed the text to be signed (DISPLAY TEXT), then asked for the PIN hidden.
    assert!(t.contains(&format!("-- sms-pp: shown Text: {TEXT}")), "{t}");
    assert!(t.contains("-- sms-pp: shown Prompt: Enter PIN"), "{t}");
    assert!(t.contains("-- sms-pp: DisplayText -> result 00"), "{t}");
    // The notes do not echo hidden input (the TERMINAL RESPONSE bytes carry it, as on the air).
    assert!(t.contains("typed 4 hidden characters"), "{t}");
    assert!(!t.contains("typed \"1234\""), "{t}");
    // What the WYSIWYS claim means: the bytes the card showed are the bytes it signed. The
    // answers in the PoRs: the public key from KEYGEN, then the signatures.
    let answers: Vec<wpki::protocol::Answer> = pors(&t)
        .into_iter()
        .map(|(status, data)| {
            assert_eq!(status, 0, "PoR status");
            wpki::protocol::Answer::open(&data, None).unwrap()
        })
        .collect();
    assert_eq!(answers.len(), 10, "{t}");
    let spki = answers[1]
        .public_key
        .clone()
        .expect("KEYGEN answer has the SPKI");
    let mut verified = 0;
    for a in &answers {
        let Some(sig) = &a.output else { continue };
        wpki::client::verify_signature(
            &spki,
            wpki::protocol::Scheme::Ecdsa,
            wpki::protocol::HashAlg::Sha256,
            wpki::protocol::SignMode::Text,
            TEXT.as_bytes(),
            sig,
        )
        .unwrap_or_else(|e| panic!("signature of request {}: {e}", a.id));
        verified += 1;
    }
    assert_eq!(verified, 3, "three signatures in the journey");
    // Wrong PIN: 2 tries left; cancel and timeout are reported as such.
    use wpki::protocol::ResultCode;
    assert_eq!(answers[3].result, ResultCode::PinWrong);
    assert_eq!(answers[3].tries_left, Some(2));
    assert_eq!(answers[4].result, ResultCode::UserCancelled);
    assert_eq!(answers[5].result, ResultCode::NoResponse);
    // No private key material in any answer: only the public key and signatures come back.
    assert!(answers.iter().all(|a| a.puk.is_none()));
}

#[test]
fn keys_differ_between_runs_unless_seeded() {
    let keygen = |extra: &[&str]| {
        let mut args = MAIN_JOB.to_vec();
        args.extend_from_slice(extra);
        let o = simota(&args);
        assert_eq!(o.status.code(), Some(0));
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        let a = wpki::protocol::Answer::open(&pors(&t)[1].1, None).unwrap();
        a.public_key.unwrap()
    };
    assert_ne!(
        keygen(&[]),
        keygen(&[]),
        "OS randomness: a new key every run"
    );
    let seed = ["--rng-seed", "000102030405060708090A0B0C0D0E0F"];
    assert_eq!(keygen(&seed), keygen(&seed), "--rng-seed: reproducible");
}

#[test]
fn keysets_beside_the_script_are_picked_up_and_keysets_overrides() {
    // With an explicit --keysets file that lacks the `wpki` keyset, the script fails (exit 2)
    // naming the keyset: the file beside the script is not read then.
    let dir = std::env::temp_dir().join(format!("simota-mainjob-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let o = simota(&[
        "run",
        "--keysets",
        empty.to_str().unwrap(),
        "apdu-scripts/wpki-sign.apdu",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown keyset \"wpki\""), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_built_in_profile_round_trips_through_profile_show() {
    // `simota profile show` prints the built-in card's profile, WPKI applet and TAR included;
    // a card made from that file runs the journey too (the registry always has the WPKI class).
    let dir = std::env::temp_dir().join(format!("simota-mainjob-p-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = simota(&["profile", "show"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("F073696D6F74615750"), "{text}");
    let p = dir.join("builtin.toml");
    std::fs::write(&p, &text).unwrap();
    let mut args = MAIN_JOB.to_vec();
    args.extend(["--profile", p.to_str().unwrap()]);
    let o = simota(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
