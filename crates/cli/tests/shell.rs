//! The Rust-ecosystem CLI habits: shell completions and a man page generated from the clap
//! definitions, and progress bars that only a terminal ever sees.

mod common;
use common::{ok, simota};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("shell-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = ok(&["completions", shell]);
        for sub in [
            "run",
            "ota",
            "fuzz",
            "wpki",
            "readers",
            "completions",
            "man",
        ] {
            assert!(out.contains(sub), "{shell} completions lack {sub}");
        }
    }
    // The bash script is valid bash.
    let dir = scratch("completions");
    let f = dir.join("simota.bash");
    std::fs::write(&f, ok(&["completions", "bash"])).expect("write");
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(&f)
        .status()
        .expect("bash");
    assert!(st.success(), "bash -n rejects the completion script");
    // An unknown shell is a usage error naming the choices.
    simota()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bash"));
}

#[test]
fn man_page_is_roff_for_simota_with_its_subcommands() {
    let out = ok(&["man"]);
    assert!(
        out.contains(".TH simota 1"),
        "{}",
        &out[..out.len().min(200)]
    );
    assert!(out.contains("SUBCOMMANDS"));
    assert!(out.contains("completions"));
    assert!(out.contains("\\-\\-quiet"));
}

/// Runs `cmd` (a shell command line) on a pseudo-terminal with `script(1)`, so stdout and
/// stderr are a terminal; returns everything written to it.
fn on_a_terminal(cmd: &str) -> Vec<u8> {
    let out = std::process::Command::new("script")
        .args(["-qefc", cmd, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .expect("script(1) from util-linux");
    out.stdout
}

fn has_escape(b: &[u8]) -> bool {
    b.contains(&0x1B)
}

const FUZZ: &str =
    "fuzz ota --keyset-file keys.toml --keyset aes --tar B00000 --iterations 3000 --seed 1";

fn fuzz_dir() -> PathBuf {
    let dir = scratch("fuzz");
    std::fs::write(
        dir.join("keys.toml"),
        "[keyset.aes]\nkic_alg = \"aes-cbc\"\nkic = \"000102030405060708090A0B0C0D0E0F\"\nkic_index = 1\nkid_alg = \"aes-cmac\"\nkid = \"101112131415161718191A1B1C1D1E1F\"\nkid_index = 1\n",
    )
    .expect("keys");
    dir
}

#[test]
fn fuzzing_shows_a_progress_bar_only_on_a_terminal_and_not_with_quiet() {
    let dir = fuzz_dir();
    let bin = env!("CARGO_BIN_EXE_simota");
    // Not a terminal: no progress bytes at all on stderr (nor stdout).
    let out = simota()
        .current_dir(&dir)
        .args(FUZZ.split(' '))
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        !has_escape(&out.stderr) && !out.stderr.contains(&b'\r'),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!has_escape(&out.stdout));
    // On a terminal: the bar (drawn with escape sequences) with its rate.
    let tty = on_a_terminal(&format!("cd {} && {bin} {FUZZ}", dir.display()));
    assert!(
        has_escape(&tty),
        "no progress bar on a terminal: {:?}",
        String::from_utf8_lossy(&tty)
    );
    assert!(String::from_utf8_lossy(&tty).contains("cases"));
    // --quiet: none even on a terminal.
    let quiet = on_a_terminal(&format!("cd {} && {bin} --quiet {FUZZ}", dir.display()));
    assert!(!has_escape(&quiet), "{:?}", String::from_utf8_lossy(&quiet));
    assert!(String::from_utf8_lossy(&quiet).contains("total"));
}

#[test]
fn long_scripts_show_progress_when_the_transcript_is_not_on_the_terminal() {
    let dir = scratch("run");
    let script = "00 A4 00 04 02 3F 00 => 61 ??\n".repeat(300);
    std::fs::write(dir.join("long.apdu"), script).expect("script");
    let bin = env!("CARGO_BIN_EXE_simota");
    let out = simota()
        .current_dir(&dir)
        .args(["run", "--transcript", "none", "long.apdu"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(!has_escape(&out.stderr) && !out.stderr.contains(&b'\r'));
    let tty = on_a_terminal(&format!(
        "cd {} && {bin} run --transcript none long.apdu",
        dir.display()
    ));
    assert!(has_escape(&tty), "{:?}", String::from_utf8_lossy(&tty));
    let quiet = on_a_terminal(&format!(
        "cd {} && {bin} run -q --transcript none long.apdu",
        dir.display()
    ));
    assert!(!has_escape(&quiet), "{:?}", String::from_utf8_lossy(&quiet));
    // The transcript itself on the terminal: no bar mixed into it.
    let text = on_a_terminal(&format!("cd {} && {bin} run long.apdu", dir.display()));
    assert!(!has_escape(&text));
}
