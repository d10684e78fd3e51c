//! The CLI's error type: every failure carries the exit code it maps to and a one-line reason.

use std::fmt;

/// A failure to report on stderr; `exit_code` is 2 for bad input or transport errors and 1
/// for a failed check.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    msg: String,
}

impl CliError {
    /// Bad input (exit code 2); the message should name the field and offset.
    pub fn input(msg: impl Into<String>) -> Self {
        CliError {
            code: 2,
            msg: msg.into(),
        }
    }
    /// A transport (reader, card, socket) failure (exit code 2).
    #[allow(dead_code)]
    pub fn transport(msg: impl Into<String>) -> Self {
        CliError {
            code: 2,
            msg: msg.into(),
        }
    }
    /// A check that failed (exit code 1).
    #[allow(dead_code)]
    pub fn failed(msg: impl Into<String>) -> Self {
        CliError {
            code: 1,
            msg: msg.into(),
        }
    }
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// Parse a hex argument, naming the argument in the error (`C-APDU: offset 3: expected a hex
/// digit, found 'G'`).
pub fn hex_arg(name: &str, text: &str) -> Result<Vec<u8>, CliError> {
    apdu::hex::decode(text).map_err(|e| CliError::input(format!("{name}: {e}")))
}

/// Print one JSON value on stdout (pretty, one object per invocation).
pub fn print_json(v: &serde_json::Value) -> Result<(), CliError> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| CliError::input(format!("JSON output: {e}")))?;
    println!("{s}");
    Ok(())
}
