//! `simota fuzz ota`: hammer a card (the emulated one, or a card in a PC/SC reader) with
//! malformed and hostile OTA traffic (TS 102 225 / TS 31.115 over SMS-PP, TS 102 226
//! scripts) and report reproducible findings (crate `fuzz`).

use crate::cmd_ota::{counter_arg, keys, KeyArgs};
use crate::cmd_run::open_reader;
use crate::error::{hex_arg, CliError};
use clap::{Args, Subcommand};
use fuzz::class::{table_markdown, Class};
use fuzz::dut::{kvn_of, parse_path, Dut, EmulatedDut, ReaderDut};
use fuzz::engine::{Config, Fuzzer, Progress, RunSummary};
use fuzz::report::{junit, save, summary_table, ReportContext};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `simota fuzz …`
#[derive(Debug, Args)]
pub struct FuzzArgs {
    #[command(subcommand)]
    cmd: FuzzCmd,
}

#[derive(Debug, Subcommand)]
enum FuzzCmd {
    /// Fuzz the card's OTA receiver (SMS-PP download ENVELOPEs carrying SCP80 packets).
    Ota(OtaFuzzArgs),
}

/// `simota fuzz ota …`
#[derive(Debug, Args)]
pub struct OtaFuzzArgs {
    /// Use the card in this PC/SC reader (default: the built-in emulated card).
    #[arg(long, conflicts_with = "profile")]
    reader: Option<String>,
    /// PC/SC protocol to request with --reader.
    #[arg(long, value_parser = ["any", "T=0", "T=1"], default_value = "any")]
    protocol: String,
    /// Card profile (TOML) for the emulated card (default: the built-in card's profile, with
    /// the WPKI applet on TAR BFFF57).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// The keys the card has for --tar, as for `simota ota build` (--keyset-file/--keyset,
    /// or --kic-alg/--kic/--kic-index/--kid-alg/--kid/--kid-index). Default on the emulated
    /// card: its own key set --kvn; required with --reader.
    #[command(flatten)]
    keys: KeyArgs,
    /// Key set version of the emulated card to use when no key options are given (the
    /// built-in card: 1 = AES-128, 2 = 3DES 2-key).
    #[arg(long, default_value_t = 1)]
    kvn: u8,
    /// The card's counter for the key set at the start, decimal or 0x hex, for a card whose
    /// counter cannot be read (--reader; default: the keyset file's counter, else 0).
    #[arg(long)]
    counter: Option<String>,
    /// TAR under test, 3 bytes hex (an RFM TAR, so the canary can be written). Default on the
    /// emulated card: B00000 (RFM of the built-in card); required with --reader.
    #[arg(long)]
    tar: Option<String>,
    /// Number of cases (default 10000 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    iterations: Option<u64>,
    /// Run for this long: 90s, 10m, 1h (a bare number is seconds).
    #[arg(long)]
    duration: Option<String>,
    /// Seed (decimal or 0x hex); the same seed gives the same cases. Default: from the clock
    /// (printed in the summary).
    #[arg(long)]
    seed: Option<String>,
    /// Directory for findings (`finding-NNN-….apdu` + `.json`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write a JUnit XML report (one test case per mutation class).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Canary EF (transparent, readable with plain APDUs, writable by the TAR's RFM), path
    /// from the MF, or `none`.
    #[arg(long, default_value = "3F00/2FE2")]
    canary: String,
    /// Minimum security level of the TAR, hex SPI1 coding (default: from the emulated card's
    /// profile; 00 for a real card).
    #[arg(long)]
    msl: Option<String>,
    /// Only this mutation class (repeatable; see --list-classes).
    #[arg(long = "class", value_name = "NAME")]
    classes: Vec<String>,
    /// Leave out this mutation class (repeatable).
    #[arg(long = "skip-class", value_name = "NAME")]
    skip: Vec<String>,
    /// No decorations (variations a correct card must accept) around the mutations.
    #[arg(long)]
    no_decorations: bool,
    /// Print the mutation classes and what each requires, then exit.
    #[arg(long)]
    list_classes: bool,
}

/// Run `simota fuzz …`.
pub fn run(a: FuzzArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        FuzzCmd::Ota(o) => run_ota(o),
    }
}

/// `90s`, `10m`, `1h`, `2h30m`, `45`.
fn parse_duration(s: &str) -> Result<Duration, CliError> {
    let bad = || CliError::input(format!("--duration {s:?}: expected e.g. 90s, 10m, 1h"));
    let mut total = 0u64;
    let mut num = String::new();
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total += n * match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
    }
    if !num.is_empty() {
        total += num.parse::<u64>().map_err(|_| bad())?;
    }
    if total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

fn parse_seed(s: &str) -> Result<u64, CliError> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|e| CliError::input(format!("--seed {s:?}: {e}")))
}

fn class_arg(name: &str) -> Result<Class, CliError> {
    Class::from_name(name).ok_or_else(|| {
        CliError::input(format!(
            "--class {name:?}: unknown mutation class (see `simota fuzz ota --list-classes`)"
        ))
    })
}

/// The live progress of a run: a bar with rate and ETA on a terminal (`crate::progress`).
struct Live {
    bar: crate::progress::Bar,
    timed: bool,
}

impl Live {
    fn new(iterations: Option<u64>, duration: Option<Duration>) -> Self {
        match (iterations, duration) {
            (_, Some(d)) => Live {
                bar: crate::progress::Bar::timed(d, "cases"),
                timed: true,
            },
            (n, None) => Live {
                bar: crate::progress::Bar::new(n.unwrap_or(0), "cases"),
                timed: false,
            },
        }
    }
    fn show(&mut self, p: &Progress) {
        if !self.bar.is_on() {
            return;
        }
        if self.timed {
            self.bar.set_position(p.elapsed.as_secs());
            self.bar
                .set_message(format!("{} findings, {}", p.findings, p.cases));
        } else {
            self.bar.set_position(p.cases);
            self.bar.set_message(format!("{} findings", p.findings));
        }
    }
    fn done(&self) {
        self.bar.finish();
    }
}

fn run_ota(a: OtaFuzzArgs) -> Result<ExitCode, CliError> {
    if a.list_classes {
        print!("{}", table_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    if a.reader.is_some() && (!a.keys.given() || a.tar.is_none()) {
        return Err(CliError::input(
            "with --reader, give the keys the card has for the TAR (--keyset-file/--keyset, or \
             --kic-alg/--kic/--kid-alg/--kid with their --kic-index/--kid-index) and --tar: \
             only the emulated card's own keys and RFM TAR are known",
        ));
    }
    // The emulated card (built now: without key options its own key set is used).
    let mut emulated = match &a.reader {
        Some(_) => None,
        None => {
            let profile = match &a.profile {
                Some(p) => uicc::Profile::load(p)
                    .map_err(|e| CliError::input(format!("--profile {}: {e}", p.display())))?,
                None => crate::card::builtin_profile(None)
                    .map_err(|e| CliError::input(format!("built-in profile: {e}")))?,
            };
            Some(
                EmulatedDut::from_profile_with(profile, crate::card::registry())
                    .map_err(|e| CliError::input(format!("emulated card: {e}")))?,
            )
        }
    };
    let (keyset, initial_counter) = match emulated.as_mut() {
        Some(dut) if !a.keys.given() => {
            let card = dut.card();
            let ks = card.ota_keyset(a.kvn).ok_or_else(|| {
                CliError::input(format!(
                    "--kvn {}: the emulated card has no OTA key set {} (give --kvn or the keys)",
                    a.kvn, a.kvn
                ))
            })?;
            (ks, card.ota_counter(a.kvn))
        }
        _ => {
            let (ks, file_counter) = keys(&a.keys)?;
            (ks, counter_arg(a.counter.as_deref(), file_counter)?)
        }
    };
    let t = hex_arg("--tar", a.tar.as_deref().unwrap_or("B00000"))?;
    let tar: [u8; 3] = t
        .as_slice()
        .try_into()
        .map_err(|_| CliError::input(format!("--tar: {} byte(s), expected 3", t.len())))?;
    let seed = match &a.seed {
        Some(s) => parse_seed(s)?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    let mut cfg = Config::new(keyset, tar, seed);
    cfg.initial_counter = Some(initial_counter);
    cfg.iterations = match (&a.duration, a.iterations) {
        (Some(_), _) => None,
        (None, Some(n)) => Some(n),
        (None, None) => Some(10_000),
    };
    cfg.duration = a.duration.as_deref().map(parse_duration).transpose()?;
    cfg.canary = if a.canary.eq_ignore_ascii_case("none") {
        None
    } else {
        Some(parse_path(&a.canary).map_err(|e| CliError::input(format!("--canary: {e}")))?)
    };
    if let Some(m) = &a.msl {
        let b = hex_arg("--msl", m)?;
        cfg.msl = Some(
            *b.first()
                .filter(|_| b.len() == 1)
                .ok_or_else(|| CliError::input("--msl: expected one byte (SPI1 coding)"))?,
        );
    }
    cfg.decorate = !a.no_decorations;
    if !a.classes.is_empty() || !a.skip.is_empty() {
        let only: Vec<Class> = a
            .classes
            .iter()
            .map(|c| class_arg(c))
            .collect::<Result<_, _>>()?;
        let skip: Vec<Class> = a
            .skip
            .iter()
            .map(|c| class_arg(c))
            .collect::<Result<_, _>>()?;
        cfg.classes = Some(
            Class::ALL
                .iter()
                .copied()
                .filter(|c| only.is_empty() || only.contains(c))
                .filter(|c| !skip.contains(c))
                .collect(),
        );
    }
    let kvn = kvn_of(&cfg.keys);
    let canary = cfg.canary.clone();
    let mut live = Live::new(cfg.iterations, cfg.duration);
    let (summary, card) = match (&a.reader, emulated) {
        (Some(r), _) => {
            let card = open_reader(r, &a.protocol, true)?;
            let dut = ReaderDut::new(card);
            fuzz_with(cfg, dut, &mut live)?
        }
        (None, Some(dut)) => fuzz_with(cfg, dut, &mut live)?,
        (None, None) => return Err(CliError::input("no card")),
    };
    live.done();
    let ctx = ReportContext {
        tar,
        kvn,
        canary,
        terminal_profile: terminal::TerminalConfig::default().profile.0,
        card,
    };
    print!("{}", summary_table(&summary));
    for n in &summary.notes {
        println!("note: {n}");
    }
    if let Some(dir) = &a.out {
        let files = save(dir, &summary, &ctx)
            .map_err(|e| CliError::input(format!("--out {}: {e}", dir.display())))?;
        for (f, r) in files.iter().zip(&summary.recorded) {
            println!(
                "finding: {} {} (case {}, {}) -> {}",
                r.finding.class,
                r.finding.kind(),
                r.finding.case,
                r.verdict.label(),
                f.display()
            );
        }
        if !summary.unreproducible.is_empty() {
            println!(
                "not reproducible on a fresh card: {} saved in {}",
                summary.unreproducible.len(),
                dir.join("not-reproducible").display()
            );
        }
    } else {
        for r in &summary.recorded {
            let v = r.finding.violations.first();
            println!(
                "finding: {} {} (case {}, {}): expected {}, got {}",
                r.finding.class,
                r.finding.kind(),
                r.finding.case,
                r.verdict.label(),
                v.map_or("", |v| v.expected.as_str()),
                v.map_or("", |v| v.observed.as_str())
            );
        }
        for r in &summary.unreproducible {
            let v = r.finding.violations.first();
            println!(
                "not reproducible on a fresh card (not a finding): {} {} (case {}): expected {}, \
                 got {}",
                r.finding.class,
                r.finding.kind(),
                r.finding.case,
                v.map_or("", |v| v.expected.as_str()),
                v.map_or("", |v| v.observed.as_str())
            );
        }
    }
    for s in &summary.state_failures {
        println!("finding: state file: {s}");
    }
    if let Some(j) = &a.junit {
        std::fs::write(j, junit(&summary))
            .map_err(|e| CliError::input(format!("--junit {}: {e}", j.display())))?;
    }
    Ok(if summary.findings_total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn fuzz_with<D: Dut>(
    cfg: Config,
    dut: D,
    live: &mut Live,
) -> Result<(RunSummary, String), CliError> {
    let mut f = Fuzzer::new(cfg, dut);
    let name = f.dut().name();
    let s = f
        .run(&mut |p| live.show(p))
        .map_err(|e| CliError::transport(e.to_string()))?;
    Ok((s, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("0").is_err());
        assert_eq!(parse_seed("0x10").unwrap(), 16);
    }
}
