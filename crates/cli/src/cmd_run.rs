//! `simota run SCRIPT…`: run APDU scripts (native `.apdu` or apdutool `.scr`) against the
//! emulated card or a card in a PC/SC reader, with transcripts and JSON/JUnit/pcap reports.

use crate::card;
use crate::error::CliError;
use clap::{Args, ValueEnum};
use script::report;
use script::{Format, RunOptions, Runner, ScriptRun};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use transport::Transport;

/// Transcript style on stdout.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum TranscriptArg {
    /// `> 00 A4 …` / `< … 90 00 : Normal processing` with expectation results.
    Text,
    /// Exactly the pcsc-tools `scriptor` layout.
    Scriptor,
    /// Java Card SDK `apdutool` output lines.
    Apdutool,
    /// No transcript.
    None,
}

/// Script syntax.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// The native line format (also reads scriptor scripts).
    Native,
    /// Java Card SDK apdutool `.scr`.
    Apdutool,
}

/// `simota run …`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Script files: `.scr` is apdutool syntax, anything else the native format.
    #[arg(required = true, value_name = "SCRIPT")]
    scripts: Vec<String>,
    /// The card to use: `emu`, the emulated UICC (the default).
    #[arg(long, value_name = "emu", value_parser = ["emu"], conflicts_with = "reader")]
    card: Option<String>,
    /// Use the card in this PC/SC reader (name, unique part of a name, or index from `simota readers`).
    #[arg(long, value_name = "NAME|INDEX")]
    reader: Option<String>,
    /// Card profile (TOML) for the emulated card; the WPKI applet class is available to any
    /// profile [default: the built-in profile with the WPKI applet]
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    profile: Option<PathBuf>,
    /// Persistent state file for the emulated card (created when missing).
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    state: Option<PathBuf>,
    /// Deterministic card randomness from this 16-byte seed (hex), restarted at every cold
    /// reset [default: the operating system's randomness]
    #[arg(long, value_name = "HEX", conflicts_with = "reader")]
    rng_seed: Option<String>,
    /// Install every applet of this CAP file on the emulated card at start (instance AID =
    /// applet AID; skipped when the --state already has it); repeatable.
    #[arg(long, value_name = "FILE.cap", conflicts_with = "reader")]
    cap: Vec<PathBuf>,
    /// Application parameters (hex, what `C9` of INSTALL carries) for the --cap applets.
    #[arg(long, value_name = "HEX", default_value = "", requires = "cap")]
    cap_params: String,
    /// Transcript printed on stdout.
    #[arg(long, value_enum, default_value = "text")]
    transcript: TranscriptArg,
    /// Write JSON Lines (one object per exchange) to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report (one testsuite per script) to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a GSMTAP-over-UDP pcap trace (for Wireshark/tshark) to FILE.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Carry on after a failed expectation.
    #[arg(long)]
    keep_going: bool,
    /// Script syntax for all scripts [default: by file extension, `.scr` is apdutool]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Never complete 61xx/6Cxx answers automatically (pure T=0 view).
    #[arg(long)]
    raw: bool,
    /// Refuse to send a C-APDU whose Lc/Le do not match its bytes (exit 2); without it such an
    /// APDU is sent as written with a warning on stderr naming the field and offset.
    #[arg(long)]
    strict: bool,
    /// PC/SC protocol to request with --reader.
    #[arg(long, value_parser = ["any", "T=0", "T=1"], default_value = "any")]
    protocol: String,
    /// Connect to the reader in exclusive mode.
    #[arg(long)]
    exclusive: bool,
    /// OTA keyset file (TOML) naming the keysets that `sms-pp KEYSET …` lines use
    /// [default: `keysets.toml` in each script's directory, when there is one]
    #[arg(long, value_name = "FILE")]
    keysets: Option<PathBuf>,
}

/// Open the card given by `--reader` (PC/SC builds only).
#[cfg(feature = "pcsc")]
pub fn open_reader(
    spec: &str,
    protocol: &str,
    exclusive: bool,
) -> Result<Box<dyn Transport>, CliError> {
    use transport::pcsc::{resolve_reader, ConnectOptions, PcscCard, Protocol};
    let name = resolve_reader(spec).map_err(|e| CliError::input(format!("--reader: {e}")))?;
    let protocol = match protocol {
        "T=0" => Protocol::T0,
        "T=1" => Protocol::T1,
        _ => Protocol::Any,
    };
    let card = PcscCard::connect(
        &name,
        ConnectOptions {
            exclusive,
            protocol,
        },
    )
    .map_err(|e| CliError::input(format!("--reader {name}: {e}")))?;
    Ok(Box::new(card))
}

/// Without the `pcsc` feature there are no readers.
#[cfg(not(feature = "pcsc"))]
pub fn open_reader(
    _spec: &str,
    _protocol: &str,
    _exclusive: bool,
) -> Result<Box<dyn Transport>, CliError> {
    Err(CliError::input(
        "--reader: this simota was built without PC/SC support (--no-default-features); rebuild with the default features (`cargo install --path crates/cli`, needs libpcsclite-dev)",
    ))
}

/// The keyset files to load: `--keysets FILE`, else every `keysets.toml` found beside the
/// scripts (each directory once, in the order of the scripts); with the places looked at
/// (for the unknown-keyset error).
fn keyset_files(a: &RunArgs) -> (Vec<PathBuf>, Vec<String>) {
    if let Some(p) = &a.keysets {
        return (vec![p.clone()], vec![format!("--keysets {}", p.display())]);
    }
    let mut out: Vec<PathBuf> = Vec::new();
    let mut places = Vec::new();
    for s in &a.scripts {
        let dir = Path::new(s).parent().unwrap_or(Path::new(""));
        let p = dir.join(KEYSETS_BESIDE_SCRIPT);
        let place = if p.is_file() {
            p.display().to_string()
        } else {
            format!("{} (not there)", p.display())
        };
        if !places.contains(&place) {
            places.push(place);
        }
        if p.is_file() && !out.contains(&p) {
            out.push(p);
        }
    }
    places.push("no --keysets FILE given".into());
    (out, places)
}

/// Runs with at least this many statements get a progress bar (on a terminal, see
/// `crate::progress`).
const PROGRESS_MIN_STATEMENTS: usize = 200;

/// The keyset file `simota run` picks up from a script's directory without `--keysets`.
pub const KEYSETS_BESIDE_SCRIPT: &str = "keysets.toml";

fn write_file(path: &PathBuf, what: &str, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::input(format!("--{what} {}: {e}", path.display())))
}

/// Run `simota run`.
pub fn run(a: RunArgs) -> Result<ExitCode, CliError> {
    let format = a.format.map(|f| match f {
        FormatArg::Native => Format::Native,
        FormatArg::Apdutool => Format::Apdutool,
    });
    let mut scripts = Vec::with_capacity(a.scripts.len());
    for path in &a.scripts {
        scripts.push(script::load(path, format).map_err(|e| CliError::input(e.to_string()))?);
    }
    let mut card: Box<dyn Transport> = match &a.reader {
        Some(r) => {
            let card = open_reader(r, &a.protocol, a.exclusive)?;
            eprintln!("simota: using reader {}", card.name());
            card
        }
        None => {
            let rng_seed = a.rng_seed.as_deref().map(card::rng_seed_arg).transpose()?;
            let cap_params = crate::error::hex_arg("--cap-params", &a.cap_params)?;
            Box::new(card::emulator(&card::CardSpec {
                profile: a.profile.as_deref(),
                state: a.state.as_deref(),
                rng_seed,
                e2e_key: None,
                caps: &a.cap,
                cap_params: &cap_params,
            })?)
        }
    };
    // The terminal (ME) side that executes terminal-profile, user, fetch-all, sms-pp, menu.
    let mut term = terminal::Terminal::new(terminal::TerminalConfig::default());
    let (files, places) = keyset_files(&a);
    for p in places {
        term.note_keyset_place(p);
    }
    for p in files {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| CliError::input(format!("--keysets {}: {e}", p.display())))?;
        let file = ota::KeysetFile::parse(&text)
            .map_err(|e| CliError::input(format!("--keysets {}: {e}", p.display())))?;
        term.add_keyset_file_in(&file, p.parent().unwrap_or(Path::new("")));
    }
    let opts = RunOptions {
        keep_going: a.keep_going,
        raw: a.raw,
        strict: a.strict,
    };
    let mut runs: Vec<ScriptRun> = Vec::with_capacity(scripts.len());
    let stdout = std::io::stdout();
    {
        let mut runner = Runner::new(card.as_mut(), opts).with_toolkit(&mut term);
        let format = match a.transcript {
            TranscriptArg::Text => Some(report::TranscriptFormat::Text),
            TranscriptArg::Scriptor => Some(report::TranscriptFormat::Scriptor),
            TranscriptArg::Apdutool => Some(report::TranscriptFormat::Apdutool),
            TranscriptArg::None => None,
        };
        // The transcript is printed live, statement by statement.
        let mut live = format.map(report::Transcript::new);
        let print = |text: String| {
            let mut out = stdout.lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        };
        // A progress bar for long runs, when the transcript does not go to the same terminal.
        let total: usize = scripts.iter().map(|s| s.stmts.len()).sum();
        let bar = if total >= PROGRESS_MIN_STATEMENTS
            && (live.is_none() || !std::io::IsTerminal::is_terminal(&stdout))
        {
            crate::progress::Bar::new(total as u64, "statements")
        } else {
            crate::progress::Bar::new_off()
        };
        let mut done = 0u64;
        for s in &scripts {
            if let Some(t) = live.as_mut() {
                print(t.header(&s.name));
            }
            bar.set_message(s.name.clone());
            let run = runner.run_observed(s, &mut |step| {
                for w in &step.warnings {
                    eprintln!("simota: {w}");
                }
                done += 1;
                bar.set_position(done);
                if let Some(t) = live.as_mut() {
                    print(t.step(step));
                }
            });
            if let Some(t) = live.as_mut() {
                print(t.footer(&run));
            }
            runs.push(run);
        }
    }
    if let Some(p) = &a.json {
        let mut buf = Vec::new();
        for r in &runs {
            report::jsonl(r, &mut buf).map_err(|e| CliError::input(format!("--json: {e}")))?;
        }
        write_file(p, "json", &buf)?;
    }
    if let Some(p) = &a.junit {
        write_file(p, "junit", report::junit(&runs).as_bytes())?;
    }
    if let Some(p) = &a.pcap {
        let mut w = transport::pcap::PcapWriter::new(Vec::new())
            .map_err(|e| CliError::input(format!("--pcap: {e}")))?;
        for x in report::exchanges(&runs) {
            w.exchange(x)
                .map_err(|e| CliError::input(format!("--pcap: {e}")))?;
        }
        for s in &w.skipped {
            eprintln!("simota: --pcap: left out: {s}");
        }
        let buf = w
            .finish()
            .map_err(|e| CliError::input(format!("--pcap: {e}")))?;
        write_file(p, "pcap", &buf)?;
    }
    let code = runs.iter().map(|r| r.exit_code()).max().unwrap_or(0);
    for r in &runs {
        if let Some(e) = r.error() {
            eprintln!("simota: {e}");
        } else if r.failures() > 0 {
            eprintln!("simota: {}: {}", r.name, report::summary(r));
        }
    }
    Ok(ExitCode::from(code))
}
