//! `simota`: the command-line front end of the simota toolkit.
//!
//! Each subcommand group lives in its own `cmd_*.rs` module exposing a clap `Args` type and a
//! `run(args) -> Result<ExitCode, CliError>` function. Exit codes: 0 success, 1 a check or
//! expectation failed, 2 bad input (with a message naming the field and offset) or a transport
//! error.

mod cmd_apdu;
mod cmd_atr;
mod cmd_tlv;
mod error;

use clap::{Parser, Subcommand};
use error::CliError;
use std::process::ExitCode;

/// simota — SIM/UICC toolkit: APDU/TLV/ATR decoding, SCP80 OTA, emulated UICC, scripts, PC/SC.
#[derive(Debug, Parser)]
#[command(name = "simota", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Explain C-APDUs and R-APDUs.
    Apdu(cmd_apdu::ApduArgs),
    /// Decode BER-TLV or COMPREHENSION-TLV data.
    Tlv(cmd_tlv::TlvArgs),
    /// Decode an Answer-To-Reset.
    Atr(cmd_atr::AtrArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Apdu(a) => cmd_apdu::run(a),
        Cmd::Tlv(a) => cmd_tlv::run(a),
        Cmd::Atr(a) => cmd_atr::run(a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("simota: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
