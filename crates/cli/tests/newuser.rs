//! What a new user trips on (issue 12 items 9, 11, 13, 14): each test runs `simota` as a
//! user would and checks the message, not only the exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn simota(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run simota")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const AES: &str = "00112233445566778899AABBCCDDEEFF";

/// A secured command packet (from CPL) built by `simota ota build`.
fn packet() -> String {
    let o = simota(&[
        "ota",
        "build",
        "--spi",
        "1219",
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
        "--tar",
        "B00010",
        "--data",
        "00A40004023F00",
        "--format",
        "packet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    out(&o).lines().last().unwrap().trim().to_string()
}

/// Item 11: a truncated (or padded) command packet is reported as the CPL mismatch of a
/// command packet, not as an SMS TPDU's TP-OA address length.
#[test]
fn ota_parse_of_a_truncated_packet_reports_the_cpl() {
    let p = packet();
    let short = &p[..p.len() - 4];
    let o = simota(&["ota", "parse", short]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("command packet (CHL 15, SPI 1219): CPL at offset 0: value 0x001d says 29 byte(s) follow but 27 do"),
        "{e}"
    );
    assert!(!e.contains("TP-OA"), "{e}");
    let long = format!("{p}00");
    let e = err(&simota(&["ota", "parse", &long]));
    assert!(e.contains("says 29 byte(s) follow but 30 do"), "{e}");
    // The whole packet still parses.
    let o = simota(&[
        "ota",
        "parse",
        &p,
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // An SMS-DELIVER TPDU is still read as one.
    let o = simota(&[
        "ota",
        "build",
        "--spi",
        "1219",
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
        "--tar",
        "B00010",
        "--data",
        "00A40004023F00",
        "--format",
        "tpdu",
    ]);
    let tpdu = out(&o).lines().last().unwrap().trim().to_string();
    let o = simota(&[
        "ota",
        "parse",
        &tpdu,
        "--kic-alg",
        "aes-cbc",
        "--kic",
        AES,
        "--kid-alg",
        "aes-cmac",
        "--kid",
        AES,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("SMS-DELIVER"), "{}", out(&o));
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("newuser");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const LC_MSG: &str =
    "offset 6: APDU truncated: Lc = 2 (at offset 4) announces 2 data bytes but only 1 follow";

/// Item 13: `simota apdu` warns about a malformed C-APDU (Lc 2, one data byte) and sends it;
/// `--strict` refuses it.
#[test]
fn apdu_warns_about_a_malformed_apdu_and_strict_refuses() {
    let o = simota(&["apdu", "--card", "emu", "00A40004023F"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        err(&o).trim(),
        format!("simota: warning: C-APDU #1: malformed, sent as written: {LC_MSG}")
    );
    assert!(out(&o).contains("> 00 A4 00 04 02 3F\n"), "{}", out(&o));
    let o = simota(&["apdu", "--strict", "--card", "emu", "00A40004023F"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains(&format!(
            "C-APDU #1: malformed, not sent (--strict): {LC_MSG}"
        )),
        "{}",
        err(&o)
    );
    assert_eq!(out(&o), "", "nothing sent");
    // A well-formed APDU draws no warning.
    let o = simota(&["apdu", "--strict", "--card", "emu", "00A4000C023F00"]);
    assert_eq!((o.status.code(), err(&o)), (Some(0), String::new()));
}

/// Item 13: the same line in a script warns (with its line) and `run --strict` refuses.
#[test]
fn run_warns_about_a_malformed_apdu_and_strict_refuses() {
    let p = tmp(
        "malformed.apdu",
        "# Lc says 2, one data byte\n00A40004023F\n",
    );
    let p = p.to_str().unwrap();
    let o = simota(&["run", p]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        err(&o).contains(&format!(
            "malformed.apdu:2: warning: malformed C-APDU 00 A4 00 04 02 3F sent as written: {LC_MSG}"
        )),
        "{}",
        err(&o)
    );
    let o = simota(&["run", "--strict", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o)
            .contains("malformed.apdu:2: malformed C-APDU 00 A4 00 04 02 3F not sent (--strict)"),
        "{}",
        err(&o)
    );
    assert!(!out(&o).contains("> 00 A4"), "{}", out(&o));
}

/// Item 14: `echo` expands `$variables`.
#[test]
fn echo_expands_variables_in_a_script() {
    let p = tmp(
        "echo.apdu",
        "set $mf 3F00\n00A4000C02 $mf => 9000\necho SELECT $mf answered ${mf}!\n",
    );
    let o = simota(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("\nSELECT 3F00 answered 3F00!\n"),
        "{}",
        out(&o)
    );
}

/// The `--help` of a subcommand with every `[default: …]` cut out.
fn help_without_clap_defaults(cmd: &[&str]) -> String {
    let mut args = cmd.to_vec();
    args.push("--help");
    let o = simota(&args);
    assert_eq!(o.status.code(), Some(0), "{cmd:?}: {}", err(&o));
    let mut s = out(&o);
    while let Some(i) = s.find("[default: ") {
        let end = s[i..].find(']').map_or(s.len(), |j| i + j + 1);
        s.replace_range(i..end, "");
    }
    s
}

/// Item 14: an option with a default shows it as `[default: …]` in `--help`, whether clap
/// fills it in or the command does (`ota por` without `--counter` echoes CNTR 0).
#[test]
fn help_shows_every_default_as_default_brackets() {
    let cmds: &[&[&str]] = &[
        &["apdu", "send"],
        &["apdu", "decode"],
        &["run"],
        &["serve"],
        &["ota", "build"],
        &["ota", "parse"],
        &["ota", "por"],
        &["ota", "send"],
        &["wpki", "sign"],
        // (`wpki keygen --usage` belongs to the key-usage work.)
        &["wpki", "pin"],
        &["wpki", "menu"],
        &["tlv", "decode"],
        &["atr", "decode"],
        &["profile", "check"],
    ];
    let mut bad = Vec::new();
    for c in cmds {
        let h = help_without_clap_defaults(c);
        for l in h.lines() {
            let low = l.to_lowercase();
            if low.contains("(default") || low.contains("default:") || low.contains("; default") {
                bad.push(format!("simota {}: {}", c.join(" "), l.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "defaults not shown as [default: …]:\n{}",
        bad.join("\n")
    );
    let h = out(&simota(&["ota", "por", "--help"]));
    assert!(
        h.contains("[default: the keyset file's counter, else 0]"),
        "{h}"
    );
}

/// Item 14: `ota por --status` takes the names scripts take, and two digits are hex.
#[test]
fn ota_por_status_takes_names_and_hex() {
    let por = |status: &str| {
        simota(&[
            "ota",
            "por",
            "--spi",
            "1200",
            "--tar",
            "B00010",
            "--counter",
            "1",
            "--status",
            status,
            "--json",
        ])
    };
    for (arg, byte) in [
        ("ok", 0),
        ("cntr-low", 2),
        ("TAR-UNKNOWN", 9),
        ("10", 0x10),
        ("0x0A", 10),
    ] {
        let o = por(arg);
        assert_eq!(o.status.code(), Some(0), "{arg}: {}", err(&o));
        let j: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(j["status"], byte, "{arg}");
    }
    let o = por("fine");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--status: \"fine\" is neither a status byte in hex (00..FF) nor one of ok, rc-cc-ds-failed, cntr-low"),
        "{}",
        err(&o)
    );
}

/// Item 14: an unknown keyset is reported once (`sms-pp: unknown keyset`, not `sms-pp: sms-pp:`)
/// with the keysets known and where they were looked for.
#[test]
fn unknown_keyset_has_one_prefix_and_says_where_keysets_were_looked_for() {
    let p = tmp("keyset.apdu", "sms-pp nope B00000 00A4000C023F00\n");
    let p = p.to_str().unwrap();
    let o = simota(&["run", p]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(!e.contains("sms-pp: sms-pp:"), "{e}");
    let beside = Path::new(p).with_file_name("keysets.toml");
    assert!(
        e.contains(&format!(
            "keyset.apdu:1: sms-pp: unknown keyset \"nope\" (known: none); keysets were looked for in: {} (not there), no --keysets FILE given",
            beside.display()
        )),
        "{e}"
    );
    let o = simota(&["run", "--keysets", "apdu-scripts/keysets.toml", p]);
    let e = err(&o);
    assert!(
        e.contains("unknown keyset \"nope\" (known: 3des, aes, wpki); keysets were looked for in: --keysets apdu-scripts/keysets.toml"),
        "{e}"
    );
}

/// Item 9: a refused counter's PoR is named (`cntr-low`) and the transcript gives the card's
/// counter and the next one; a keyset's `counter_file` is read before each `sms-pp` and
/// written back after it, so the next run just works.
#[test]
fn scripts_name_cntr_low_give_the_cards_counter_and_keep_a_counter_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("newuser-cntr");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("keysets.toml"),
        r#"
[keyset.k]
kic_alg = "aes-cbc"
kic = "000102030405060708090A0B0C0D0E0F"
kic_index = 1
kid_alg = "aes-cmac"
kid = "101112131415161718191A1B1C1D1E1F"
kid_index = 1
counter_file = "k.cntr"
"#,
    )
    .unwrap();
    let state = dir.join("card.state");
    let cntr = dir.join("k.cntr");
    let script = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        simota(&[
            "run",
            "--state",
            state.to_str().unwrap(),
            p.to_str().unwrap(),
        ])
    };
    let sel = "sms-pp k B00000 00A4000C023F00";
    let o = script("a.apdu", &format!("{sel} cntr=0x50 => por ok\n"));
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(std::fs::read_to_string(&cntr).unwrap(), "0x0000000051\n");
    // The counter file is lost: the keyset's counter (0) is refused, and the transcript says
    // what the card wants.
    std::fs::remove_file(&cntr).unwrap();
    let o = script("b.apdu", &format!("{sel} => por cntr-low\n"));
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let t = out(&o);
    assert!(t.contains("\n< PoR 02 (cntr-low)\n"), "{t}");
    assert!(
        t.contains("-- sms-pp: counter 0x0 refused (cntr-low): the card's counter is 0x50 (from its PoR), next counter 0x51\n"),
        "{t}"
    );
    assert_eq!(std::fs::read_to_string(&cntr).unwrap(), "0x0000000051\n");
    // The next run reads the file and is accepted; the file moves on.
    let o = script("c.apdu", &format!("{sel} => por ok\n{sel} => por ok\n"));
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(std::fs::read_to_string(&cntr).unwrap(), "0x0000000053\n");
}

/// Item 9: `ota send` after a refused counter prints the card's counter and the next one (from
/// the PoR), and `--counter-file` keeps the next CNTR across runs.
#[test]
fn ota_send_gives_the_cards_counter_and_keeps_a_counter_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("newuser-send");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("c.state");
    let cntr = dir.join("k.cntr");
    let send = |extra: &[&str]| {
        let mut args = vec![
            "ota",
            "send",
            "--kic-alg",
            "aes-cbc",
            "--kic",
            "000102030405060708090A0B0C0D0E0F",
            "--kic-index",
            "1",
            "--kid-alg",
            "aes-cmac",
            "--kid",
            "101112131415161718191A1B1C1D1E1F",
            "--kid-index",
            "1",
            "--spi",
            "1619",
            "--tar",
            "B00000",
            "--data",
            "0100A4000C023F00",
            "--state",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        simota(&args)
    };
    let f = cntr.to_str().unwrap();
    let o = send(&["--counter", "0x50", "--counter-file", f]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains(&format!("counter file {f}: next CNTR 0x51\n")),
        "{}",
        out(&o)
    );
    assert_eq!(std::fs::read_to_string(&cntr).unwrap(), "0x0000000051\n");
    // Without a counter file, a low counter is refused: the card's counter and the next one.
    let o = send(&["--counter", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("counter 0x3 refused (cntr-low): the card's counter is 0x50 (from its PoR), next counter 0x51 (pass --counter, or keep a --counter-file)\n"),
        "{}",
        out(&o)
    );
    // The counter file is read, and moves on after each accepted message.
    let o = send(&["--counter-file", f]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(std::fs::read_to_string(&cntr).unwrap(), "0x0000000052\n");
}
