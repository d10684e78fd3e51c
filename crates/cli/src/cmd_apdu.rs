//! `simota apdu decode C-APDU [R-APDU]`: explain a command and its response — class byte
//! (ETSI TS 102 221 §10.1.1), instruction name, P1/P2 meaning, Lc/data/Le and ISO 7816-4 case,
//! the data field decoded where its structure is known (ENVELOPE templates, TERMINAL RESPONSE
//! objects, FCP …), and the status word's meaning.

use crate::cmd_tlv::tlv_json;
use crate::error::{hex_arg, print_json, CliError};
use apdu::class::{ClassKind, SecureMessaging};
use apdu::describe::{self, TlvNode};
use apdu::gsm::{GsmFileInfo, GsmResponseError};
use apdu::hex::{encode, encode_spaced};
use apdu::tlv::TlvError;
use apdu::{names, ApduCase, CommandApduRef, ResponseApdu};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;

/// `simota apdu …`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ApduArgs {
    #[command(subcommand)]
    cmd: Option<ApduCmd>,
    /// `simota apdu --reader R HEX…`: send without naming the `send` subcommand.
    #[command(flatten)]
    send: crate::cmd_apdu_send::SendArgs,
}

#[derive(Debug, Subcommand)]
enum ApduCmd {
    /// Send C-APDUs to a card in a PC/SC reader (or `--card emu`) and print the exchanges.
    Send(crate::cmd_apdu_send::SendArgs),
    /// Explain a C-APDU and, optionally, its R-APDU (data + SW1 SW2).
    Decode {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The C-APDU in hex (spaces, colons and 0x prefixes allowed).
        command: String,
        /// The R-APDU (response data followed by SW1 SW2) in hex.
        response: Option<String>,
    },
}

/// Run `simota apdu`.
pub fn run(a: ApduArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        None => crate::cmd_apdu_send::run(a.send),
        Some(ApduCmd::Send(s)) => crate::cmd_apdu_send::run(s),
        Some(ApduCmd::Decode {
            json,
            command,
            response,
        }) => {
            let b = hex_arg("C-APDU", &command)?;
            let c =
                CommandApduRef::parse(&b).map_err(|e| CliError::input(format!("C-APDU: {e}")))?;
            let r = match &response {
                Some(text) => {
                    let rb = hex_arg("R-APDU", text)?;
                    Some(
                        ResponseApdu::parse(&rb)
                            .map_err(|e| CliError::input(format!("R-APDU: {e}")))?,
                    )
                }
                None => None,
            };
            let d = Decoded::new(&b, c, r.as_ref());
            if json {
                print_json(&d.to_json())?;
            } else {
                print!("{}", d.to_text());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Everything known about one command/response pair.
struct Decoded<'a> {
    raw: &'a [u8],
    c: CommandApduRef<'a>,
    name: Option<&'static str>,
    p1: Option<String>,
    p2: Option<String>,
    data_meaning: Option<String>,
    data_tree: Option<Result<Vec<TlvNode>, TlvError>>,
    r: Option<&'a ResponseApdu>,
    resp_tree: Option<Result<Vec<TlvNode>, TlvError>>,
    /// Class `A0` SELECT / STATUS / GET RESPONSE data as the TS 51.011 §9.2.1 layout.
    gsm_file: Option<Result<GsmFileInfo, GsmResponseError>>,
}

/// The GSM file layout of response data, for SELECT, STATUS and GET RESPONSE with class A0.
fn gsm_file(
    c: &CommandApduRef<'_>,
    r: Option<&ResponseApdu>,
) -> Option<Result<GsmFileInfo, GsmResponseError>> {
    let r = r?;
    if c.cla != 0xA0 || !matches!(c.ins, 0xA4 | 0xF2 | 0xC0) || r.data.is_empty() {
        return None;
    }
    let f = GsmFileInfo::parse(&r.data);
    // GET RESPONSE data may come from any command (RUN GSM ALGORITHM, SEEK …): shown only
    // when it has the layout.
    if c.ins == 0xC0 && f.is_err() {
        return None;
    }
    Some(f)
}

impl<'a> Decoded<'a> {
    fn new(raw: &'a [u8], c: CommandApduRef<'a>, r: Option<&'a ResponseApdu>) -> Self {
        let (p1, p2) = names::p1_p2_meaning(c.cla, c.ins, c.p1, c.p2, c.data);
        Decoded {
            raw,
            c,
            name: names::ins_name(c.cla, c.ins, c.p1),
            p1,
            p2,
            data_meaning: describe::command_data_meaning(&c),
            data_tree: describe::command_data_tree(&c),
            r,
            resp_tree: r.and_then(|r| describe::response_data_tree(&c, &r.data)),
            gsm_file: gsm_file(&c, r),
        }
    }

    fn case_number(&self) -> u8 {
        match self.c.case() {
            ApduCase::Case1 => 1,
            ApduCase::Case2 => 2,
            ApduCase::Case3 => 3,
            ApduCase::Case4 => 4,
        }
    }

    fn lc_raw(&self) -> Option<String> {
        match (self.c.data.len(), self.c.extended) {
            (0, _) => None,
            (n, false) => Some(format!("{n:02X}")),
            (n, true) => Some(format!("00{n:04X}")),
        }
    }

    fn le_raw(&self) -> Option<String> {
        let ne = self.c.le?;
        Some(match (self.c.extended, self.c.data.is_empty()) {
            (false, _) => format!("{:02X}", ne & 0xFF),
            (true, true) => format!("00{:04X}", ne & 0xFFFF),
            (true, false) => format!("{:04X}", ne & 0xFFFF),
        })
    }

    fn to_text(&self) -> String {
        let c = &self.c;
        let mut s = format!("C-APDU: {}\n", encode_spaced(self.raw));
        s += &format!("  CLA {:02X}: {}\n", c.cla, apdu::Class::decode(c.cla));
        s += &format!(
            "  INS {:02X}: {}\n",
            c.ins,
            self.name.unwrap_or("unknown instruction")
        );
        s += &format!("  P1  {:02X}{}\n", c.p1, opt(&self.p1));
        s += &format!("  P2  {:02X}{}\n", c.p2, opt(&self.p2));
        match self.lc_raw() {
            Some(lc) => s += &format!("  Lc  {lc}: {}\n", plural(c.data.len(), "data byte")),
            None => s += "  Lc  absent (no command data)\n",
        }
        if !c.data.is_empty() {
            s += &format!(
                "  Data: {}{}\n",
                encode_spaced(c.data),
                opt_eq(&self.data_meaning)
            );
            s += &tree_text(&self.data_tree, "data");
        }
        match (self.le_raw(), c.le) {
            (Some(le), Some(ne)) => {
                s += &format!(
                    "  Le  {le}: Ne = {}\n",
                    plural(ne as usize, "response byte")
                )
            }
            _ => s += "  Le  absent (no response data expected)\n",
        }
        s += &match (c.case(), c.extended) {
            (ApduCase::Case1, _) => "  ISO 7816-4 case 1 (no length fields)\n".to_string(),
            (_, ext) => format!(
                "  ISO 7816-4 case {}, {} length fields\n",
                self.case_number(),
                if ext { "extended" } else { "short" }
            ),
        };
        if let Some(r) = self.r {
            s += &format!("R-APDU: {}\n", encode_spaced(&r.emit()));
            if r.data.is_empty() {
                s += "  Data: none\n";
            } else {
                s += &format!(
                    "  Data: {} ({})\n",
                    encode_spaced(&r.data),
                    plural(r.data.len(), "byte")
                );
                s += &tree_text(&self.resp_tree, "response data");
                match &self.gsm_file {
                    Some(Ok(f)) => {
                        s += "    GSM file information (TS 51.011 §9.2.1):\n";
                        for (k, v) in f.fields() {
                            s += &format!("      {k}: {v}\n");
                        }
                    }
                    Some(Err(e)) => s += &format!("    ({e})\n"),
                    None => {}
                }
            }
            s += &format!("  SW {}: {}\n", r.sw, r.sw.meaning());
        }
        s
    }

    fn to_json(&self) -> Value {
        let c = &self.c;
        let class = apdu::Class::decode(c.cla);
        let family = match class.kind {
            ClassKind::Interindustry | ClassKind::InterindustryFurther => "interindustry",
            ClassKind::Proprietary | ClassKind::ProprietaryFurther => "proprietary",
            ClassKind::Gsm => "gsm",
            ClassKind::Invalid => "invalid",
            ClassKind::Reserved => "reserved",
        };
        let sm = match class.sm {
            SecureMessaging::None => "none",
            SecureMessaging::Proprietary => "proprietary",
            SecureMessaging::IsoHeaderNotAuthenticated => "iso_header_not_authenticated",
            SecureMessaging::IsoHeaderAuthenticated => "iso_header_authenticated",
        };
        let mut command = json!({
            "hex": encode(self.raw),
            "cla": {
                "value": format!("{:02X}", c.cla),
                "family": family,
                "channel": class.has_channel().then_some(class.channel),
                "secure_messaging": sm,
                "chaining": class.chaining,
                "meaning": class.to_string(),
            },
            "ins": {"value": format!("{:02X}", c.ins), "name": self.name},
            "p1": {"value": format!("{:02X}", c.p1), "meaning": self.p1},
            "p2": {"value": format!("{:02X}", c.p2), "meaning": self.p2},
            "lc": self.lc_raw(),
            "nc": c.data.len(),
            "data": encode(c.data),
            "data_meaning": self.data_meaning,
            "le": self.le_raw(),
            "ne": c.le,
            "case": self.case_number(),
            "extended": c.extended,
        });
        add_tree(&mut command, &self.data_tree, "data_tlv");
        let response = self.r.map(|r| {
            let mut o = json!({
                "hex": encode(&r.emit()),
                "data": encode(&r.data),
                "sw": r.sw.to_string(),
                "sw1": format!("{:02X}", r.sw.sw1()),
                "sw2": format!("{:02X}", r.sw.sw2()),
                "meaning": r.sw.meaning(),
                "category": r.sw.category().as_str(),
                "parameter": r.sw.parameter(),
            });
            add_tree(&mut o, &self.resp_tree, "data_tlv");
            if let Value::Object(m) = &mut o {
                match &self.gsm_file {
                    Some(Ok(f)) => {
                        let fields: serde_json::Map<String, Value> = f
                            .fields()
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), Value::String(v)))
                            .collect();
                        m.insert("gsm_file".into(), Value::Object(fields));
                    }
                    Some(Err(e)) => {
                        m.insert("gsm_file_error".into(), json!(e.to_string()));
                    }
                    None => {}
                }
            }
            o
        });
        json!({"command": command, "response": response})
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn opt(m: &Option<String>) -> String {
    m.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
}

fn opt_eq(m: &Option<String>) -> String {
    m.as_ref().map(|m| format!(" = {m}")).unwrap_or_default()
}

fn tree_text(t: &Option<Result<Vec<TlvNode>, TlvError>>, what: &str) -> String {
    match t {
        Some(Ok(nodes)) => describe::render_tree(nodes, 4),
        Some(Err(e)) => format!("    ({what} is not well-formed TLV: {e})\n"),
        None => String::new(),
    }
}

fn add_tree(o: &mut Value, t: &Option<Result<Vec<TlvNode>, TlvError>>, key: &str) {
    if let Value::Object(m) = o {
        match t {
            Some(Ok(nodes)) => {
                m.insert(key.into(), tlv_json(nodes));
            }
            Some(Err(e)) => {
                m.insert(format!("{key}_error"), json!(e.to_string()));
            }
            None => {}
        }
    }
}
