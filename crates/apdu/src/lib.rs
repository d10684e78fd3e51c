//! `apdu`: the card-interface vocabulary of simota.
//!
//! * [`command`]: C-APDUs per ISO/IEC 7816-4 §5.1 (cases 1–4, short and extended), with
//!   [`class`] decoding per ETSI TS 102 221 §10.1.1.
//! * [`response`] and [`sw`]: R-APDUs and human meanings of status words (ISO 7816-4 §5.6,
//!   TS 102 221 §10.2, GlobalPlatform Card Spec §11.1.3).
//! * [`tlv`]: BER-TLV (ISO/IEC 8825-1 as profiled by ISO 7816-4 §5.2) and COMPREHENSION-TLV
//!   (ETSI TS 101 220 §7.1.1).
//! * [`atr`]: Answer-To-Reset parsing (ISO/IEC 7816-3 §8).
//! * [`gsm`]: the GSM SIM SELECT / STATUS response layout (3GPP TS 51.011 §9.2.1).
//! * [`hex`]: lenient hex input (spaces, colons, `0x` prefixes) with offsets in errors.
//! * [`names`]: instruction names (ISO 7816-4, TS 102 221, TS 31.102, GlobalPlatform, CAT,
//!   GSM 51.011), P1/P2 meanings, BER tag names in context (FCP, FCI, GlobalPlatform, CAT
//!   templates, TS 102 226 scripting templates), COMPREHENSION-TLV tags (TS 102 223 §9.3),
//!   device identities, proactive command types and general results.
//! * [`describe`]: explanations for people — TLV trees with names and decoded values, and the
//!   structure of command and response data fields (ENVELOPE, FETCH, SELECT …).
//!
//! Everything here is pure data: parse bytes into typed values at the edge, emit them back
//! byte-exact, and never panic on input.

#![warn(missing_docs)]

pub mod atr;
pub mod class;
pub mod command;
pub mod describe;
pub mod gsm;
pub mod hex;
pub mod names;
pub mod response;
pub mod sw;
pub mod tlv;

pub use atr::Atr;
pub use class::Class;
pub use command::{ApduCase, ApduError, CommandApdu, CommandApduRef};
pub use response::ResponseApdu;
pub use sw::{StatusWord, SwCategory};
