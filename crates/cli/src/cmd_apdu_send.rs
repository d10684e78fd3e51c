//! `simota apdu --reader R HEX…` (also `simota apdu send …`): one-shot C-APDUs to a card in a
//! PC/SC reader (or the emulated card), printed as a `> …` / `< … : meaning` transcript.

use crate::error::{hex_arg, CliError};
use clap::Args;
use std::process::ExitCode;
use transport::{Recorder, T0Adapter, Transport};

/// Where and what to send.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The PC/SC reader (name, unique part of a name, or index from `simota readers`).
    #[arg(long, value_name = "NAME|INDEX", required_unless_present = "card")]
    pub reader: Option<String>,
    /// Send to the emulated card instead (`emu`).
    #[arg(long, value_name = "emu", value_parser = ["emu"], conflicts_with = "reader")]
    pub card: Option<String>,
    /// Do not follow 61xx with GET RESPONSE or re-issue on 6Cxx (show the raw T=0 answers).
    #[arg(long)]
    pub raw: bool,
    /// Reset the card (cold) before sending.
    #[arg(long)]
    pub reset: bool,
    /// Refuse a C-APDU whose Lc/Le do not match its bytes (exit 2) instead of sending it as
    /// written with a warning on stderr.
    #[arg(long)]
    pub strict: bool,
    /// C-APDUs in hex, sent in order (one argument per APDU).
    #[arg(value_name = "HEX", required = true)]
    pub apdus: Vec<String>,
}

/// Send the APDUs and print what crossed the wire.
pub fn run(a: SendArgs) -> Result<ExitCode, CliError> {
    let mut cmds = Vec::with_capacity(a.apdus.len());
    for (i, h) in a.apdus.iter().enumerate() {
        let b = hex_arg(&format!("C-APDU #{}", i + 1), h)?;
        if b.len() < 4 {
            return Err(CliError::input(format!(
                "C-APDU #{}: {} byte(s), at least CLA INS P1 P2 needed",
                i + 1,
                b.len()
            )));
        }
        // ISO/IEC 7816-4 §5.1: Lc must count the data bytes (what `apdu decode` checks).
        if let Err(e) = apdu::CommandApduRef::parse(&b) {
            if a.strict {
                return Err(CliError::input(format!(
                    "C-APDU #{}: malformed, not sent (--strict): {e}",
                    i + 1
                )));
            }
            eprintln!(
                "simota: warning: C-APDU #{}: malformed, sent as written: {e}",
                i + 1
            );
        }
        cmds.push(b);
    }
    let mut card: Box<dyn Transport> = match &a.reader {
        Some(r) => crate::cmd_run::open_reader(r, "any", false)?,
        None => Box::new(crate::card::emulator(&crate::card::CardSpec::default())?),
    };
    let mut rec = Recorder::new(card.as_mut());
    if a.reset {
        rec.reset(transport::ResetKind::Cold)
            .map_err(|e| CliError::input(format!("reset: {e}")))?;
    }
    let mut failed = None;
    for (i, c) in cmds.iter().enumerate() {
        let r = if a.raw {
            rec.transmit(c)
        } else {
            T0Adapter::new(&mut rec).transmit(c)
        };
        if let Err(e) = r {
            failed = Some(format!("C-APDU #{}: {e}", i + 1));
            break;
        }
    }
    for x in rec.log() {
        match x.kind {
            transport::ExchangeKind::Reset(_) => {
                println!("> RESET\n< {} : ATR", apdu::hex::encode_spaced(&x.response))
            }
            transport::ExchangeKind::Apdu => {
                println!("> {}", apdu::hex::encode_spaced(&x.command));
                if let Some(e) = &x.error {
                    println!("< KO: {e}");
                } else if let Ok((_, sw)) = transport::split_response(&x.response) {
                    println!(
                        "< {} : {}",
                        apdu::hex::encode_spaced(&x.response),
                        apdu::StatusWord(sw).meaning()
                    );
                }
            }
        }
    }
    match failed {
        Some(e) => Err(CliError::input(e)),
        None => Ok(ExitCode::SUCCESS),
    }
}
