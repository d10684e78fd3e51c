//! `simota ota send`: build an OTA message (TS 102 225 / TS 31.115), deliver it by SMS-PP
//! download through the terminal simulator (TS 31.111 §7.1.1) to the emulated card or a
//! card in a PC/SC reader, and print the decoded PoR and what the user was shown.

use crate::cmd_ota::{keys, spi_arg, tar_arg, KeyArgs};
use crate::cmd_run::open_reader;
use crate::error::{hex_arg, print_json, CliError};
use apdu::hex::encode as hx;
use clap::Args;
use ota::cat::TerminalProfile;
use ota::spi::PorRequest;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use terminal::{
    OtaRequest, PorPath, SmsPpOutcome, Terminal, TerminalConfig, TerminalError, UserAnswer,
};
use transport::Transport;

/// `simota ota send …`
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// SPI, 2 bytes hex (e.g. 1619: ciphered + CC + counter higher; PoR ciphered + CC).
    #[arg(long)]
    spi: String,
    /// TAR, 3 bytes hex (e.g. B00010 for RFM).
    #[arg(long)]
    tar: String,
    /// CNTR, decimal or 0x hex [default: the counter file's, else the keyset file's counter,
    /// else 0]
    #[arg(long)]
    counter: Option<String>,
    /// File holding the next CNTR: read first, written back (atomically) after the message
    /// [default: the keyset's `counter_file`, if any]
    #[arg(long, value_name = "PATH")]
    counter_file: Option<PathBuf>,
    /// Secured data (e.g. the remote APDU script), hex.
    #[arg(long)]
    data: String,
    /// Concatenation reference when the message needs several SMS.
    #[arg(long, default_value_t = 1)]
    concat_ref: u8,
    /// Use the card in this PC/SC reader [default: the built-in emulated card]
    #[arg(long)]
    reader: Option<String>,
    /// PC/SC protocol to request with --reader.
    #[arg(long, value_parser = ["any", "T=0", "T=1"], default_value = "any")]
    protocol: String,
    /// Card profile (TOML) for the emulated card.
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    profile: Option<PathBuf>,
    /// Persistent state file for the emulated card (counters and files survive runs).
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    state: Option<PathBuf>,
    /// TERMINAL PROFILE to send first, hex [default: the simulator's full profile]
    #[arg(long)]
    terminal_profile: Option<String>,
    /// Do not send a TERMINAL PROFILE first.
    #[arg(long, conflicts_with = "terminal_profile")]
    no_terminal_profile: bool,
    /// A scripted user answer for proactive commands the message triggers (repeatable):
    /// ok, cancel, back, timeout, help, yes, no, "input TEXT", "key C", "item N".
    #[arg(long = "user", value_name = "ANSWER")]
    user: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn no_cat(what: &str, sw: u16) -> CliError {
    CliError::transport(format!(
        "{what}: the card answered {sw:04X} ({}) — it does not speak SIM Toolkit (no CAT engine / \
         no SMS-PP data download); the emulated card needs its CAT side for `ota send`",
        apdu::StatusWord(sw).meaning()
    ))
}

fn term_err(e: TerminalError) -> CliError {
    match e {
        TerminalError::Status { command, sw, .. } if matches!(sw >> 8, 0x6D | 0x6E) => {
            no_cat(command, sw)
        }
        TerminalError::Ota(e) => CliError::input(e.to_string()),
        TerminalError::Usage(m) => CliError::input(m),
        e => CliError::transport(e.to_string()),
    }
}

/// Run `simota ota send`.
pub fn run(a: SendArgs) -> Result<ExitCode, CliError> {
    let (keyset, file_counter) = keys(&a.keys)?;
    let spi = spi_arg(&a.spi)?;
    let tar = tar_arg(&a.tar)?;
    let counter_file = crate::cmd_ota::counter_file_arg(
        a.counter_file.as_deref(),
        a.keys.keyset_file.as_deref(),
        a.keys.keyset.as_deref(),
    )?;
    let counter =
        crate::cmd_ota::first_counter(a.counter.as_deref(), counter_file.as_deref(), file_counter)?;
    let data = hex_arg("--data", &a.data)?;
    let mut config = TerminalConfig::default();
    if let Some(p) = &a.terminal_profile {
        config.profile = TerminalProfile(hex_arg("--terminal-profile", p)?);
    }
    let mut term = Terminal::new(config);
    for (i, u) in a.user.iter().enumerate() {
        term.push_answer(
            UserAnswer::parse(u).map_err(|e| CliError::input(format!("--user #{}: {e}", i + 1)))?,
        );
    }
    let mut card: Box<dyn Transport> = match &a.reader {
        Some(r) => open_reader(r, &a.protocol, false)?,
        None => Box::new(crate::card::emulator(&crate::card::CardSpec {
            profile: a.profile.as_deref(),
            state: a.state.as_deref(),
            ..Default::default()
        })?),
    };
    if !a.no_terminal_profile {
        term.terminal_profile(card.as_mut()).map_err(term_err)?;
    }
    let req = OtaRequest {
        keys: &keyset,
        spi,
        tar,
        counter,
        data,
        concat_ref: a.concat_ref,
    };
    let o = term.deliver_sms_pp(card.as_mut(), &req).map_err(term_err)?;
    if let Some(&sw) = o
        .envelope_sws
        .first()
        .filter(|&&sw| matches!(sw >> 8, 0x6D | 0x6E))
    {
        return Err(no_cat("ENVELOPE (SMS-PP DOWNLOAD)", sw));
    }
    let por_wanted = spi.por != PorRequest::None;
    // What the PoR says about the counter: the next CNTR (kept in the counter file) and, after
    // a refused counter, the card's own.
    let advice = match o.por.as_ref().map(|p| &p.packet) {
        Some(Ok(p)) => Some((
            Some(p.status),
            terminal::counter_file::next_counter(counter, Some(p.status), Some(p.counter)),
        )),
        None if !por_wanted && !o.busy => Some((
            None,
            terminal::counter_file::next_counter(counter, None, None),
        )),
        _ => None,
    };
    let hint = advice
        .and_then(|(st, a)| st.and_then(|st| a.hint(st, counter)))
        .map(|h| {
            if counter_file.is_none() {
                format!("{h} (pass --counter, or keep a --counter-file)")
            } else {
                h
            }
        });
    let mut file_note = None;
    if let (Some(p), Some((_, adv))) = (&counter_file, advice) {
        if let Some(n) = adv.next {
            terminal::counter_file::write(p, n).map_err(CliError::input)?;
            file_note = Some(format!(
                "counter file {}: next CNTR {:#x}",
                p.display(),
                n.value()
            ));
        }
    }
    let ok = !o.busy
        && o.por.as_ref().map_or(!por_wanted, |p| {
            p.status() == Some(ota::ResponseStatus::PorOk)
        });
    if a.json {
        let mut j = json_report(&term, &o);
        j["counter_hint"] = json!(hint);
        j["next_counter"] = json!(advice.and_then(|(_, a)| a.next).map(|c| c.value()));
        print_json(&j)?;
    } else {
        print!("{}", text_report(&term, &o, por_wanted));
        for l in hint.iter().chain(file_note.iter()) {
            println!("{l}");
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn path_name(p: PorPath) -> String {
    match p {
        PorPath::EnvelopeResponse => "ENVELOPE response (SMS-DELIVER-REPORT)".into(),
        PorPath::DataDownloadError { sw } => format!("data download error {sw:04X} (RP-ERROR)"),
        PorPath::SendShortMessage => "SEND SHORT MESSAGE (SMS-SUBMIT)".into(),
    }
}

fn text_report(t: &Terminal, o: &SmsPpOutcome, por_wanted: bool) -> String {
    let mut s = String::new();
    let sws: Vec<String> = o
        .envelope_sws
        .iter()
        .map(|sw| format!("{sw:04X}"))
        .collect();
    s += &format!(
        "ENVELOPE (SMS-PP DOWNLOAD) x{}: {}\n",
        o.envelope_sws.len(),
        sws.join(" ")
    );
    if o.busy {
        s += "card busy: 9300 (SIM Application Toolkit busy, RP-ERROR TP-FCS D4)\n";
    }
    match &o.por {
        None if por_wanted => s += "PoR: none received\n",
        None => s += "PoR: none (not requested)\n",
        Some(p) => {
            s += &format!("PoR via {}: {}\n", path_name(p.path), hx(&p.ud));
            match &p.packet {
                Ok(pkt) => {
                    s += &format!(
                        "  TAR {}  CNTR {}  status {:02X} ({})\n",
                        hx(&pkt.tar.0),
                        hx(&pkt.counter.to_bytes()),
                        pkt.status.to_byte(),
                        pkt.status.name()
                    );
                    if !pkt.data.is_empty() {
                        s += &format!("  data {}\n", hx(&pkt.data));
                        if let Ok(c) = pkt.compact_response() {
                            s += &format!("  {} command(s), last SW {:04X}", c.count, c.sw.0);
                            if !c.data.is_empty() {
                                s += &format!(", data {}", hx(&c.data));
                            }
                            s.push('\n');
                        }
                    }
                }
                Err(e) => s += &format!("  not decoded: {e}\n"),
            }
        }
    }
    for x in t.shown() {
        s += &format!("shown ({:?}, {:?}): {}\n", x.command, x.role, x.text);
    }
    for m in t.mo_sms() {
        s += &format!(
            "MO SMS (SEND SHORT MESSAGE #{}): {}\n",
            m.number,
            hx(&m.tpdu)
        );
    }
    for x in t.exchanges() {
        for n in &x.notes {
            s += &format!("note: {n}\n");
        }
    }
    s
}

fn json_report(t: &Terminal, o: &SmsPpOutcome) -> Value {
    let por = o.por.as_ref().map(|p| {
        let mut v = json!({ "path": path_name(p.path), "ud": hx(&p.ud) });
        match &p.packet {
            Ok(pkt) => {
                v["tar"] = json!(hx(&pkt.tar.0));
                v["counter"] = json!(hx(&pkt.counter.to_bytes()));
                v["status"] = json!(format!("{:02X}", pkt.status.to_byte()));
                v["status_name"] = json!(pkt.status.name());
                v["data"] = json!(hx(&pkt.data));
            }
            Err(e) => v["error"] = json!(e),
        }
        v
    });
    json!({
        "envelope_sws": o.envelope_sws.iter().map(|sw| format!("{sw:04X}")).collect::<Vec<_>>(),
        "final_sw": format!("{:04X}", o.final_sw),
        "busy": o.busy,
        "rp_error": o.rp_error.map(|f| format!("{f:02X}")),
        "por": por,
        "shown": t.shown().iter().map(|x| json!({
            "command": format!("{:?}", x.command), "role": format!("{:?}", x.role), "text": x.text
        })).collect::<Vec<_>>(),
        "mo_sms": t.mo_sms().iter().map(|m| hx(&m.tpdu)).collect::<Vec<_>>(),
    })
}
