//! `terminal`: a SIM Toolkit terminal (the ME / phone side of CAT) that drives any card
//! behind a [`transport::Transport`] — the in-process emulator or a real card over PC/SC.
//!
//! It follows ETSI TS 102 223 / 3GPP TS 31.111 (CAT/USAT) from the terminal's side, using the
//! typed codec `ota::cat`:
//!
//! * TERMINAL PROFILE download (§5.2), the FETCH / TERMINAL RESPONSE loop (§6.2–6.8) after
//!   any `91xx`, with T=0 `61xx`/`9Fxx`/`6Cxx` handled by GET RESPONSE / re-issue;
//! * a scripted [`user`] answering each proactive command (OK, cancel, back, timeout, help,
//!   typed text, a key, a chosen item) with documented defaults when nothing is queued;
//! * a [`record`] of everything shown to the user (what-you-see-is-what-you-sign checks),
//!   every proactive exchange, and every MO short message (SEND SHORT MESSAGE) with its PoR;
//! * MENU SELECTION for the stored SET UP MENU (§7.2);
//! * SMS-PP data download of OTA messages ([`smspp`]; TS 31.111 §7.1.1, TS 102 225,
//!   TS 31.115): SMS-DELIVER (PID `7F`, DCS `F6`), one ENVELOPE (`D1`) per concatenated
//!   segment, and the PoR from whichever path the card used;
//! * the `script::Toolkit` seam for the script runner ([`toolkit`]).

pub mod counter_file;
pub mod error;
mod exchange;
pub mod record;
pub mod smspp;
pub mod terminal;
pub mod toolkit;
pub mod user;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use error::TerminalError;
pub use record::{MoSms, ProactiveExchange, Shown, ShownRole};
pub use smspp::{OtaRequest, PorPath, PorReport, SmsPpOutcome};
pub use terminal::{Terminal, TerminalConfig};
pub use toolkit::KeysetEntry;
pub use user::UserAnswer;

/// GET RESPONSE class after a command of class `cla` (TS 102 221 §10.1.2).
pub(crate) fn exchange_class(cla: u8) -> u8 {
    transport::t0::get_response_class(cla)
}
