//! `fuzz`: the OTA fuzzer of simota and the functions behind its coverage-guided fuzz targets.
//!
//! * [`engine`]: `simota fuzz ota` — structure-aware generation and mutation of SCP80 OTA
//!   traffic at every layer (ENVELOPE SMS-PP DOWNLOAD of ETSI TS 102 223 / 3GPP TS 31.111
//!   §7.1.1, the SMS-DELIVER TPDU and UDH of 3GPP TS 23.040, the command packet of
//!   ETSI TS 102 225 / 3GPP TS 31.115, and the remote APDU scripts of ETSI TS 102 226),
//!   run against a card behind a [`transport::Transport`] with oracles checked after every
//!   case ([`oracle`]); findings become replayable `.apdu` scripts and JSON records
//!   ([`report`]).
//! * [`class`]: the mutation classes and the table of what each must give (PoR status,
//!   side effects).
//! * [`dut`]: the card under test and its trusted observation path (direct state access on
//!   the emulator, plain APDUs on a real card).
//! * [`targets`]: one function per coverage fuzz target of `fuzz/` (cargo-fuzz / libFuzzer,
//!   OSS-Fuzz layout); `tests/corpus_replay.rs` runs them over the committed corpora.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod build;
pub mod case;
pub mod class;
pub mod dut;
pub mod engine;
pub mod exchange;
pub mod oracle;
pub mod report;
pub mod rng;
pub mod targets;

pub use class::{Class, Expect};
pub use dut::{Dut, DutError, EmulatedCard, EmulatedDut, Observation, ReaderDut};
pub use engine::{Config, Fuzzer, RunSummary};
pub use oracle::{Finding, FindingKind};
pub use rng::Rng;
