//! `simota atr decode HEX`: ISO/IEC 7816-3 §8 ATR dissection (TS, T0, interface bytes with
//! their meanings, protocols offered, historical bytes, TCK check).

use crate::error::{hex_arg, print_json, CliError};
use apdu::hex::encode;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
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
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The ATR in hex (spaces, colons and 0x prefixes allowed; several arguments are
        /// joined).
        #[arg(required = true, num_args = 1..)]
        hex: Vec<String>,
    },
}

/// Run `simota atr`.
pub fn run(a: AtrArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        AtrCmd::Decode { json, hex } => {
            let b = hex_arg("ATR", &hex.join(" "))?;
            let atr = apdu::Atr::parse(&b).map_err(|e| CliError::input(format!("ATR: {e}")))?;
            if json {
                print_json(&atr_json(&atr))?;
            } else {
                print!("{atr}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn atr_json(atr: &apdu::Atr) -> Value {
    let groups: Vec<Value> = atr
        .groups
        .iter()
        .enumerate()
        .map(|(n, g)| {
            let i = n + 1;
            let byte = |which: char, v: Option<u8>| {
                v.map(|v| {
                    json!({
                        "value": format!("{v:02X}"),
                        "meaning": atr.interface_byte_meaning(which, i, v),
                    })
                })
            };
            json!({
                "i": i,
                "protocol": atr.group_protocol(i),
                "ta": byte('A', g.ta),
                "tb": byte('B', g.tb),
                "tc": byte('C', g.tc),
                "td": g.td.map(|td| json!({"value": format!("{td:02X}"), "protocol": td & 0x0F})),
            })
        })
        .collect();
    let (fi, di) = atr.fi_di();
    json!({
        "atr": encode(&atr.raw),
        "ts": format!("{:02X}", atr.ts),
        "convention": if atr.ts == 0x3B { "direct" } else { "inverse" },
        "t0": format!("{:02X}", atr.t0),
        "historical_count": atr.t0 & 0x0F,
        "interface_groups": groups,
        "fi": fi,
        "di": di,
        "protocols": atr.protocols(),
        "historical_bytes": encode(&atr.historical),
        "historical_objects": atr.historical_objects().iter().map(|(name, v)| json!({
            "name": name, "value": encode(v)
        })).collect::<Vec<_>>(),
        "extended_length": atr.extended_length(),
        "tck": atr.tck.map(|t| format!("{t:02X}")),
        "tck_ok": atr.tck_ok(),
        "expected_tck": atr.tck.map(|_| format!("{:02X}", atr.expected_tck())),
    })
}
