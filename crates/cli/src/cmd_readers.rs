//! `simota readers`: list PC/SC readers, whether a card is present, and its ATR.

use crate::error::CliError;
use clap::Args;
use std::process::ExitCode;

/// `simota readers`
#[derive(Debug, Args)]
pub struct ReadersArgs {
    /// Wait up to this many seconds for at least one reader with a card.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
}

/// Run `simota readers`.
#[cfg(feature = "pcsc")]
pub fn run(a: ReadersArgs) -> Result<ExitCode, CliError> {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(a.wait.unwrap_or(0));
    loop {
        let list =
            transport::pcsc::reader_status().map_err(|e| CliError::input(format!("PC/SC: {e}")))?;
        let any_card = list.iter().any(|r| r.present);
        if any_card || Instant::now() >= deadline {
            if list.is_empty() {
                println!("no PC/SC readers");
            }
            for (i, r) in list.iter().enumerate() {
                if r.present {
                    println!(
                        "{i}: {}  card present, ATR {}",
                        r.name,
                        apdu::hex::encode_spaced(&r.atr)
                    );
                } else {
                    println!("{i}: {}  no card", r.name);
                }
            }
            return Ok(if a.wait.is_some() && !any_card {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Without the `pcsc` feature there are no readers.
#[cfg(not(feature = "pcsc"))]
pub fn run(_a: ReadersArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input(
        "readers: this simota was built without PC/SC support (--no-default-features); rebuild with the default features (`cargo install --path crates/cli`, needs libpcsclite-dev)",
    ))
}
