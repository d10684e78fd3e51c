//! `simota apdu decode C-APDU [R-APDU]`: explain a command and its response.

use crate::error::{hex_arg, CliError};
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// `simota apdu …`
#[derive(Debug, Args)]
pub struct ApduArgs {
    #[command(subcommand)]
    cmd: ApduCmd,
}

#[derive(Debug, Subcommand)]
enum ApduCmd {
    /// Explain a C-APDU and, optionally, its R-APDU.
    Decode {
        /// The C-APDU in hex.
        command: String,
        /// The R-APDU (data + SW1 SW2) in hex.
        response: Option<String>,
    },
}

/// Run `simota apdu`.
pub fn run(a: ApduArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        ApduCmd::Decode { command, response } => {
            let b = hex_arg("C-APDU", &command)?;
            let c = apdu::CommandApdu::parse(&b).map_err(|e| CliError::input(format!("C-APDU: {e}")))?;
            println!("CLA {:02X}: {}", c.cla, c.class());
            println!("INS {:02X}", c.ins);
            if let Some(r) = response {
                let rb = hex_arg("R-APDU", &r)?;
                let r = apdu::ResponseApdu::parse(&rb).map_err(|e| CliError::input(format!("R-APDU: {e}")))?;
                println!("SW {}: {}", r.sw, r.sw.meaning());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
