//! `simota tlv decode [--comprehension] HEX`: TLV trees.

use crate::error::{hex_arg, CliError};
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// `simota tlv …`
#[derive(Debug, Args)]
pub struct TlvArgs {
    #[command(subcommand)]
    cmd: TlvCmd,
}

#[derive(Debug, Subcommand)]
enum TlvCmd {
    /// Print a TLV tree, indented.
    Decode {
        /// Decode as COMPREHENSION-TLV (ETSI TS 101 220) instead of BER-TLV.
        #[arg(long)]
        comprehension: bool,
        /// The TLV bytes in hex.
        hex: String,
    },
}

/// Run `simota tlv`.
pub fn run(a: TlvArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        TlvCmd::Decode { comprehension, hex } => {
            let b = hex_arg("TLV", &hex)?;
            if comprehension {
                let t = apdu::tlv::CompTlv::parse_all(&b).map_err(|e| CliError::input(format!("TLV: {e}")))?;
                for x in t {
                    println!("{:02X} [{}] {}", x.tag.byte(), x.value.len(), apdu::hex::encode_spaced(&x.value));
                }
            } else {
                let t = apdu::tlv::BerTlv::parse_all(&b).map_err(|e| CliError::input(format!("TLV: {e}")))?;
                for x in t {
                    println!("{:X} [{}] {}", x.tag.0, x.value_bytes().len(), apdu::hex::encode_spaced(&x.value_bytes()));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
