//! `ota::cat`: the typed Card Application Toolkit codec shared by the card side (the CAT engine
//! in `uicc`) and the host side (the `terminal` ME simulator).
//!
//! Follows ETSI TS 102 223 (CAT) as profiled by 3GPP TS 31.111 (USAT), built on the
//! COMPREHENSION-TLV codec of `apdu::tlv` (ETSI TS 101 220 §7.1.1):
//!
//! * [`objects`]: the simple data objects of TS 102 223 §8 (command details, device
//!   identities, result, duration, alpha identifier, address, text string, item, …).
//! * [`text`]: the text codings those objects use (TS 102 223 §8.15 text string with DCS
//!   `00`/`04`/`08`, and the TS 102 221 Annex A alpha coding of alpha identifiers and items).
//! * [`proactive`]: proactive commands (BER-TLV template `D0`, TS 102 223 §6.6).
//! * [`response`]: TERMINAL RESPONSE (TS 102 223 §6.8).
//! * [`envelope`]: ENVELOPE commands (SMS-PP download `D1`, menu selection `D3`, event
//!   download `D6`; TS 102 223 §7, TS 31.111 §7.1).
//! * [`profile`]: the TERMINAL PROFILE bitmap with named bits (TS 102 223 §5.2).
//! * [`apdus`]: the CAT APDUs (TERMINAL PROFILE, FETCH, TERMINAL RESPONSE, ENVELOPE;
//!   TS 102 221 §10.1.2).
//!
//! Every message type keeps the exact data objects it was parsed from, so
//! `emit(parse(b)) == b` byte for byte (CR bits, object order, unknown objects and long length
//! forms included), while its typed view is checked once at parse time.

pub mod apdus;
pub mod envelope;
mod error;
mod gsm;
pub mod objects;
pub mod proactive;
pub mod profile;
pub mod response;
pub mod tags;
pub mod text;

pub use envelope::{Envelope, EnvelopeKind};
pub use error::CatError;
pub use objects::{
    Address, AlphaId, CatResult, CommandDetails, DeviceId, DeviceIdentities, Duration, EventType,
    GeneralResult, IconId, Imei, Item, LocationInfo, ResponseLength, TimeUnit, Tone,
};
pub use proactive::{Command, CommandType, ProactiveCommand};
pub use profile::{ProfileBit, TerminalProfile};
pub use response::TerminalResponse;
pub use text::{AlphaText, TextDcs, TextString};

#[cfg(test)]
mod kat;
#[cfg(test)]
mod proptests;
