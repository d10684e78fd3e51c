//! The shared way CLI integration tests run the `simota` binary (assert_cmd), instead of
//! hand-written process plumbing in every test file. Each test file uses what it needs.
#![allow(dead_code)]

use assert_cmd::Command;

/// The `simota` binary of this build, ready for arguments (stdin empty).
pub fn simota() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simota"));
    c.env_remove("TRYCMD");
    c
}

/// Runs `simota ARGS` and asserts exit 0; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = simota().args(args).assert().success().get_output().clone();
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs `simota ARGS`, asserts exit `code` and an empty stdout; returns stderr.
pub fn fails(args: &[&str], code: i32) -> String {
    let out = simota()
        .args(args)
        .assert()
        .code(code)
        .stdout("")
        .get_output()
        .clone();
    String::from_utf8(out.stderr).expect("utf-8 stderr")
}
