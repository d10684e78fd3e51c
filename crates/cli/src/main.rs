//! `simota`: the command-line front end of the simota toolkit.
//!
//! Each subcommand group lives in its own `cmd_*.rs` module exposing a clap `Args` type and a
//! `run(args) -> Result<ExitCode, CliError>` function. Exit codes: 0 success, 1 a check or
//! expectation failed, 2 bad input (with a message naming the field and offset) or a transport
//! error.

mod broken_pipe;
mod card;
mod cmd_apdu;
mod cmd_apdu_send;
mod cmd_atr;
mod cmd_cap;
mod cmd_fuzz;
mod cmd_ota;
mod cmd_ota_send;
mod cmd_profile;
mod cmd_readers;
mod cmd_run;
mod cmd_serve;
mod cmd_tlv;
mod cmd_wpki;
mod error;

use clap::{Parser, Subcommand};
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
    /// Run APDU scripts against the emulated card or a PC/SC reader.
    Run(cmd_run::RunArgs),
    /// List PC/SC readers and the cards in them.
    Readers(cmd_readers::ReadersArgs),
    /// Serve the emulated card to PC/SC applications through vpcd.
    Serve(cmd_serve::ServeArgs),
    /// SCP80 OTA: build and parse secured packets and PoRs (TS 102 225 / 31.115).
    Ota(cmd_ota::OtaArgs),
    /// Show or check card profiles of the emulated UICC.
    Profile(cmd_profile::ProfileArgs),
    /// WPKI mobile signature: keys, PINs, signing on the card's applet; signature profiles.
    Wpki(cmd_wpki::WpkiArgs),
    /// Fuzz a card with malformed and hostile OTA traffic; reproducible findings.
    Fuzz(cmd_fuzz::FuzzArgs),
    /// Java Card CAP files: show what a CAP holds (verified structurally).
    Cap(cmd_cap::CapArgs),
}

fn main() -> ExitCode {
    broken_pipe::install();
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Apdu(a) => cmd_apdu::run(a),
        Cmd::Tlv(a) => cmd_tlv::run(a),
        Cmd::Atr(a) => cmd_atr::run(a),
        Cmd::Run(a) => cmd_run::run(a),
        Cmd::Readers(a) => cmd_readers::run(a),
        Cmd::Serve(a) => cmd_serve::run(a),
        Cmd::Ota(a) => cmd_ota::run(a),
        Cmd::Profile(a) => cmd_profile::run(a),
        Cmd::Wpki(a) => cmd_wpki::run(a),
        Cmd::Fuzz(a) => cmd_fuzz::run(a),
        Cmd::Cap(a) => cmd_cap::run(a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("simota: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
