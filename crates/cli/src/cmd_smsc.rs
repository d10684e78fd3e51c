//! `simota smsc`: an SMPP 3.4 SMSC in front of a fleet of emulated cards (crate `smsc`;
//! docs/src/smsc.md). Card i is the built-in card (with the WPKI applet) or `--profile`,
//! with its ICCID, IMSI and MSISDN derived from i ([`smsc::fleet`]), created on first use.

use crate::error::CliError;
use clap::Args;
use smsc::fleet::CardFactory;
use smsc::{CardIdentity, FleetConfig, Server, ServerConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `simota smsc …`
#[derive(Debug, Args)]
pub struct SmscArgs {
    /// Address to listen on. The default credentials are refused off loopback.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2775")]
    listen: String,
    /// Number of cards in the fleet.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    cards: u64,
    /// MSISDN of card 0 (digits); card i has MSISDN base + i.
    #[arg(long, value_name = "DIGITS", default_value_t = 491_700_000_000)]
    msisdn_base: u64,
    /// system_id an ESME binds with (1-15 characters).
    #[arg(long, default_value = "test")]
    system_id: String,
    /// Password an ESME binds with (1-8 characters).
    #[arg(long, default_value = "test")]
    password: String,
    /// Sessions served at once; further connections are closed.
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_sessions: usize,
    /// deliver_sm/data_sm a session may leave unanswered; at the window, new messages whose
    /// PoR would go to it get ESME_RTHROTTLED (0x58), their card untouched.
    #[arg(long, value_name = "N", default_value_t = smsc::server::DEFAULT_WINDOW as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    window: u64,
    /// Card profile (TOML) for every card (default: the built-in profile with the WPKI applet).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Keep the cards' state in DIR (embedded redb database DIR/fleet.redb): survives a
    /// restart or kill -9; a message is acknowledged only after its card's state is saved.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Per-card OTA keys: a CSV file with a header row (ICCID|MSISDN|INDEX,KVN,KIC,KID[,KIK]
    /// or pySim's ICCID,KIC1,KID1,KIK1,...), or a .toml file of [[card]] tables; those
    /// cards use these keys instead of the profile's for those KVNs.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Cards kept live at once (each with its phone); the least recently used beyond are
    /// parked: their changed state kept compactly, the card made again on its next message.
    #[arg(long, value_name = "N", default_value_t = smsc::fleet::DEFAULT_LIVE_CARDS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    live_cards: u64,
    /// Log sessions and messages on stderr.
    #[arg(long, short)]
    verbose: bool,
}

fn factory(base: uicc::Profile, keys: Option<Arc<smsc::KeyFile>>) -> CardFactory {
    // The profile text with the per-card slots, made once for the fleet.
    let template = smsc::fleet::ProfileTemplate::new(&base);
    Arc::new(move |id: &CardIdentity, store: Box<dyn uicc::Store>| {
        let mut profile = template.as_ref().map_err(Clone::clone)?.profile(id)?;
        if let Some(k) = &keys {
            k.apply(id.index, &mut profile);
        }
        let rng =
            wpki::uicc_applet::os_random_source().map_err(|e| format!("random source: {e}"))?;
        let card = uicc::Card::with_options(
            profile,
            uicc::CardOptions {
                store,
                registry: crate::card::registry(),
                rng: Some(rng),
            },
        )
        .map_err(|e| format!("card {}: {e}", id.index))?;
        Ok(
            Box::new(transport::Emulator::new(card).with_name(format!("card {}", id.index)))
                as Box<dyn transport::Transport + Send>,
        )
    })
}

/// Run `simota smsc` (serves until killed).
pub fn run(a: SmscArgs) -> Result<ExitCode, CliError> {
    let listen = a.listen.parse().map_err(|_| {
        CliError::input(format!(
            "--listen {:?}: expected IP:PORT (e.g. 127.0.0.1:2775)",
            a.listen
        ))
    })?;
    if a.msisdn_base
        .checked_add(a.cards)
        .is_none_or(|end| end > 999_999_999_999_999)
    {
        return Err(CliError::input(
            "--msisdn-base + --cards: more than 15 digits (E.164)",
        ));
    }
    let base = match &a.profile {
        Some(p) => uicc::Profile::load(p)
            .map_err(|e| CliError::input(format!("--profile {}: {e}", p.display())))?,
        None => crate::card::builtin_profile(None)
            .map_err(|e| CliError::input(format!("built-in profile: {e}")))?,
    };
    // Check the profile takes a derived identity before listening.
    CardIdentity::new(0, a.msisdn_base)
        .profile(&base)
        .map_err(CliError::input)?;
    let fleet = FleetConfig {
        cards: a.cards,
        msisdn_base: a.msisdn_base,
    };
    let keys = match &a.keys {
        Some(p) => Some(Arc::new(
            smsc::KeyFile::load(p, fleet, &base)
                .map_err(|e| CliError::input(format!("--keys {e}")))?,
        )),
        None => None,
    };
    let keyed = keys.as_ref().map_or(0, |k| k.cards());
    let config = ServerConfig {
        listen,
        system_id: a.system_id,
        password: a.password,
        max_sessions: a.max_sessions,
        window: usize::try_from(a.window).unwrap_or(usize::MAX),
        fleet,
        live_cards: usize::try_from(a.live_cards).unwrap_or(usize::MAX),
        verbose: a.verbose,
    };
    let store = match &a.state {
        Some(dir) => Some(Arc::new(
            smsc::RedbStore::open(dir).map_err(|e| CliError::input(format!("--state: {e}")))?,
        ) as Arc<dyn smsc::FleetStore>),
        None => None,
    };
    let server = Server::bind_with_store(config, factory(base, keys), store)
        .map_err(|e| CliError::input(e.to_string()))?;
    let at = server
        .local_addr()
        .map_err(|e| CliError::transport(e.to_string()))?;
    eprintln!(
        "simota smsc: SMPP 3.4 on {at}; {} cards, MSISDN {}..={}; state {}{}",
        a.cards,
        a.msisdn_base,
        a.msisdn_base + a.cards - 1,
        a.state
            .as_ref()
            .map_or("in memory".into(), |d| d.display().to_string()),
        if a.keys.is_some() {
            format!("; own OTA keys for {keyed} cards")
        } else {
            String::new()
        }
    );
    server
        .serve()
        .map_err(|e| CliError::transport(format!("--listen {at}: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
