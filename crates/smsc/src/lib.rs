//! `smsc`: an SMPP 3.4 SMSC (SMPP v3.4 Issue 1.2) in front of a fleet of emulated cards.
//!
//! An OTA platform binds as an ESME and submits binary SMS (esm_class UDHI, protocol_id
//! `7F`, data_coding `F6`/`16`/`04`: TS 23.048 / TS 31.115 conventions). The destination
//! MSISDN picks card *i* of the [`fleet`]; the short message is delivered to it as an SMS-PP
//! data download ENVELOPE by that card's own terminal simulator (TS 31.111 §7.1.1), and the
//! proof of receipt comes back to the ESME as a deliver_sm from the card's MSISDN.
//!
//! * [`pdu`]: the SMPP PDU codec;
//! * [`sar`]: sar_* TLV segments turned into UDH concatenation for the phone;
//! * [`delta`]: an idle card's state kept as its difference from a template;
//! * [`fleet`]: MSISDN routing, per-card identities, cards created lazily;
//! * [`keyfile`]: per-card OTA keys from a CSV keyfile;
//! * [`store`]: persistent card state ([`FleetStore`], [`RedbStore`]); [`rows`]: its rows
//!   as deltas from a template;
//! * [`server`]: the TCP server (std threads; the workspace has no async runtime).

pub mod delta;
pub mod fleet;
pub mod keyfile;
pub mod pdu;
pub mod rows;
pub mod sar;
pub mod server;
pub mod store;

pub use fleet::{CardIdentity, Fleet, FleetConfig};
pub use keyfile::{KeyFile, KeyFileError};
pub use server::{Server, ServerConfig, ServerError};
pub use store::{FleetStore, FleetStoreError, RedbStore};
