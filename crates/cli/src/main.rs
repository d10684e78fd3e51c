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
mod cmd_gp;
mod cmd_keyaudit;
mod cmd_ota;
mod cmd_ota_send;
mod cmd_profile;
mod cmd_readers;
mod cmd_run;
mod cmd_serve;
mod cmd_smsc;
mod cmd_tlv;
mod cmd_wpki;
mod error;
mod progress;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// simota — SIM/UICC toolkit: APDU/TLV/ATR decoding, SCP80 OTA, emulated UICC, scripts, PC/SC.
#[derive(Debug, Parser)]
#[command(name = "simota", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// No progress bars (they are only drawn when stderr is a terminal anyway).
    #[arg(long, short, global = true)]
    quiet: bool,
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
    /// SMPP 3.4 SMSC in front of a fleet of emulated cards (OTA by SMS-PP, PoRs back).
    Smsc(cmd_smsc::SmscArgs),
    /// Fuzz a card with malformed and hostile OTA traffic; reproducible findings.
    Fuzz(cmd_fuzz::FuzzArgs),
    /// Print a shell completion script (`simota completions bash > /etc/bash_completion.d/simota`).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, roff, generated from the command-line definitions (`simota man | man -l -`).
    Man,
    /// GlobalPlatform card management over SCP02/SCP03 (GlobalPlatformPro's options).
    Gp(cmd_gp::GpArgs),
    /// Audit public keys (files or on-card generations): ROCA, shared primes, weak parameters.
    Keyaudit(cmd_keyaudit::KeyauditArgs),
    /// Java Card CAP files: show what a CAP holds (verified structurally).
    Cap(cmd_cap::CapArgs),
}

/// Writes the completion script for `shell` to stdout (clap_complete).
fn completions(shell: clap_complete::Shell) -> Result<ExitCode, error::CliError> {
    let mut out: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "simota", &mut out);
    emit(&out)
}

/// Writes the man page of `simota` (roff) to stdout (clap_mangen).
fn man() -> Result<ExitCode, error::CliError> {
    let mut out: Vec<u8> = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| error::CliError::input(format!("man: {e}")))?;
    emit(&out)
}

/// Writes generated output to stdout; a closed pipe is exit 141 like everywhere else.
fn emit(bytes: &[u8]) -> Result<ExitCode, error::CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::from(broken_pipe::EXIT_BROKEN_PIPE as u8))
        }
        Err(e) => Err(error::CliError::input(format!("stdout: {e}"))),
    }
}

fn main() -> ExitCode {
    broken_pipe::install();
    let cli = Cli::parse();
    progress::set_quiet(cli.quiet);
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
        Cmd::Smsc(a) => cmd_smsc::run(a),
        Cmd::Fuzz(a) => cmd_fuzz::run(a),
        Cmd::Completions { shell } => completions(shell),
        Cmd::Man => man(),
        Cmd::Gp(a) => cmd_gp::run(a),
        Cmd::Keyaudit(a) => cmd_keyaudit::run(a),
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
