//! `simota tlv decode [--comprehension] HEX`: TLV trees with tag names (BER-TLV per ISO/IEC
//! 7816-4 §5.2, COMPREHENSION-TLV per ETSI TS 101 220 §7.1.1; CAT templates `D0`–`DF` are
//! decoded as COMPREHENSION-TLV inside).

use crate::error::{hex_arg, print_json, CliError};
use apdu::describe::{self, TlvKind, TlvNode};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;

/// `simota tlv …`
#[derive(Debug, Args)]
pub struct TlvArgs {
    #[command(subcommand)]
    cmd: TlvCmd,
}

#[derive(Debug, Subcommand)]
enum TlvCmd {
    /// Print a TLV tree, indented, with tag names (CAT, FCP, GlobalPlatform, TS 102 226).
    Decode {
        /// Decode as COMPREHENSION-TLV (ETSI TS 101 220) instead of BER-TLV.
        #[arg(long)]
        comprehension: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The TLV bytes in hex (spaces, colons and 0x prefixes allowed; several arguments
        /// are joined).
        #[arg(required = true, num_args = 1..)]
        hex: Vec<String>,
    },
}

/// Run `simota tlv`.
pub fn run(a: TlvArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        TlvCmd::Decode {
            comprehension,
            json,
            hex,
        } => {
            let b = hex_arg("TLV", &hex.join(" "))?;
            if b.is_empty() {
                return Err(CliError::input(
                    "TLV: offset 0: no bytes given (a tag expected)",
                ));
            }
            let tree = if comprehension {
                describe::comprehension_tree(&b, 0)
            } else {
                describe::ber_tree(&b, 0)
            }
            .map_err(|e| CliError::input(format!("TLV: {e}")))?;
            if json {
                print_json(&json!({
                    "format": if comprehension { "COMPREHENSION-TLV" } else { "BER-TLV" },
                    "length": b.len(),
                    "objects": tlv_json(&tree),
                }))?;
            } else {
                print!("{}", describe::render_tree(&tree, 0));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// TLV nodes as JSON: `{offset, tag, format, name, cr, length, indefinite, value, meaning,
/// children}`; `value` is hex for leaves and absent for nodes with children.
pub fn tlv_json(nodes: &[TlvNode]) -> Value {
    Value::Array(
        nodes
            .iter()
            .map(|n| {
                let mut o = serde_json::Map::new();
                o.insert("offset".into(), json!(n.offset));
                o.insert("tag".into(), json!(n.tag_hex()));
                o.insert(
                    "format".into(),
                    json!(match n.kind {
                        TlvKind::Ber => "BER-TLV",
                        TlvKind::Comprehension => "COMPREHENSION-TLV",
                    }),
                );
                o.insert("name".into(), json!(n.name));
                if let Some(cr) = n.cr {
                    o.insert("cr".into(), json!(cr));
                }
                o.insert("length".into(), json!(n.length));
                if n.indefinite {
                    o.insert("indefinite".into(), json!(true));
                }
                if n.children.is_empty() {
                    o.insert("value".into(), json!(apdu::hex::encode(&n.value)));
                }
                o.insert("meaning".into(), json!(n.meaning));
                if !n.children.is_empty() {
                    o.insert("children".into(), tlv_json(&n.children));
                }
                Value::Object(o)
            })
            .collect(),
    )
}
