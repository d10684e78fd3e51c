//! `simota serve --vpcd [HOST:PORT]`: expose the emulated UICC to PC/SC applications through
//! vsmartcard's vpcd reader driver (interop notes §4.1). Card n (of `--cards N`) uses port
//! PORT + n, which vpcd shows as reader `Virtual PCD 00 0n`.

use crate::error::CliError;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use transport::vpcd::{self, ServeConfig, VpcdEvent};

/// `simota serve …`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve through vpcd at HOST:PORT [default: 127.0.0.1:35963, vpcd's slot 0]
    #[arg(long, value_name = "HOST:PORT", num_args = 0..=1, default_missing_value = "127.0.0.1:35963", required = true)]
    vpcd: Option<String>,
    /// Reversed mode: listen on HOST:PORT and let vpcd connect (vpcd `DEVICENAME host:port`).
    #[arg(long)]
    listen: bool,
    /// Number of cards, on consecutive ports.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    cards: u16,
    /// Card profile (TOML) [default: the built-in profile with the WPKI applet]
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Persistent state file; card n > 0 uses FILE.n.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Deterministic card randomness from this 16-byte seed (hex), restarted at every cold
    /// reset [default: the operating system's randomness]
    #[arg(long, value_name = "HEX")]
    rng_seed: Option<String>,
    /// Log power events and every APDU on stderr.
    #[arg(long, short)]
    verbose: bool,
}

fn split_host_port(s: &str) -> Result<(String, u16), CliError> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| {
        CliError::input(format!(
            "--vpcd {s:?}: expected HOST:PORT (e.g. 127.0.0.1:35963)"
        ))
    })?;
    let port = port.parse::<u16>().map_err(|_| {
        CliError::input(format!(
            "--vpcd {s:?}: port {port:?} is not a number 0..65535"
        ))
    })?;
    Ok((host.to_string(), port))
}

/// Run `simota serve`.
pub fn run(a: ServeArgs) -> Result<ExitCode, CliError> {
    let addr = a
        .vpcd
        .clone()
        .unwrap_or_else(|| format!("127.0.0.1:{}", vpcd::DEFAULT_PORT));
    let (host, port) = split_host_port(&addr)?;
    if u32::from(port) + u32::from(a.cards) - 1 > 65535 {
        return Err(CliError::input(format!(
            "--cards {}: ports from {port} run past 65535",
            a.cards
        )));
    }
    let rng_seed = a
        .rng_seed
        .as_deref()
        .map(crate::card::rng_seed_arg)
        .transpose()?;
    // Build every card first so profile/state errors are reported before serving.
    let mut cards = Vec::new();
    // Card fleet start-up: a progress bar on a terminal when many cards are built.
    let bar = if a.cards >= 100 {
        crate::progress::Bar::new(u64::from(a.cards), "cards")
    } else {
        crate::progress::Bar::new_off()
    };
    for n in 0..a.cards {
        bar.set_position(u64::from(n));
        let state = a.state.as_ref().map(|s| {
            if n == 0 {
                s.clone()
            } else {
                PathBuf::from(format!("{}.{n}", s.display()))
            }
        });
        let card = crate::card::emulator(&crate::card::CardSpec {
            profile: a.profile.as_deref(),
            state: state.as_deref(),
            rng_seed,
            e2e_key: None,
            ..Default::default()
        })?;
        cards.push(card.with_name(format!("simota card {n}")));
    }
    bar.finish();
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for (n, mut card) in cards.into_iter().enumerate() {
        let cfg = ServeConfig {
            addr: format!("{host}:{}", port + n as u16),
            listen: a.listen,
            retry: std::time::Duration::from_millis(500),
        };
        let stop = stop.clone();
        let verbose = a.verbose;
        let h = std::thread::Builder::new()
            .name(format!("vpcd-card-{n}"))
            .spawn(move || {
                let mut log = |e: VpcdEvent| {
                    let show = verbose
                        || matches!(
                            e,
                            VpcdEvent::Connecting(_)
                                | VpcdEvent::Waiting(_)
                                | VpcdEvent::Listening(_)
                                | VpcdEvent::Connected(_)
                                | VpcdEvent::Ready
                                | VpcdEvent::Disconnected(_)
                        );
                    if show {
                        eprintln!("simota serve: card {n} ({}): {}", cfg.addr, describe(&e));
                    }
                };
                vpcd::serve(&cfg, &mut card, &stop, &mut log)
                    .map_err(|e| format!("card {n} ({}): {e}", cfg.addr))
            })
            .map_err(|e| CliError::input(format!("cannot start card thread: {e}")))?;
        handles.push(h);
    }
    let mut failed = None;
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some("a card thread panicked".into()),
        }
    }
    match failed {
        Some(e) => Err(CliError::input(format!("serve: {e}"))),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn describe(e: &VpcdEvent) -> String {
    match e {
        VpcdEvent::Connecting(a) => format!("connecting to vpcd at {a}"),
        VpcdEvent::Waiting(why) => format!("waiting for vpcd ({why}); is pcscd running with vsmartcard-vpcd? (`pcsc_scan` wakes a socket-activated pcscd)"),
        VpcdEvent::Listening(a) => format!("listening for vpcd on {a}"),
        VpcdEvent::Connected(a) => format!("connected ({a})"),
        VpcdEvent::Ready => "vpcd is talking to the card: ready".into(),
        VpcdEvent::Disconnected(why) => format!("disconnected: {why}; reconnecting"),
        VpcdEvent::PowerOn => "power on (cold reset)".into(),
        VpcdEvent::PowerOff => "power off".into(),
        VpcdEvent::Reset => "reset (warm)".into(),
        VpcdEvent::Apdu(c, r) => format!("APDU {c} bytes -> {r} bytes"),
        VpcdEvent::UnknownControl(b) => format!("unknown control byte {b:02X} ignored"),
    }
}
