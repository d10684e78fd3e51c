//! `simota atr decode HEX`: ISO/IEC 7816-3 ATR dissection.

use crate::error::{hex_arg, CliError};
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// `simota atr …`
#[derive(Debug, Args)]
pub struct AtrArgs {
    #[command(subcommand)]
    cmd: AtrCmd,
}

#[derive(Debug, Subcommand)]
enum AtrCmd {
    /// Decode an ATR (TS, T0, interface bytes, protocols, historical bytes, TCK).
    Decode {
        /// The ATR in hex (spaces, colons and 0x prefixes allowed).
        hex: String,
    },
}

/// Run `simota atr`.
pub fn run(a: AtrArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        AtrCmd::Decode { hex } => {
            let b = hex_arg("ATR", &hex)?;
            let atr = apdu::Atr::parse(&b).map_err(|e| CliError::input(format!("ATR: {e}")))?;
            print!("{atr}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
