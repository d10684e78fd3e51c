//! `ota`: the SCP80 OTA toolkit of simota — secured packets over SMS-PP.
//!
//! Specifications followed (see the spec digest in `shared/spec/uicc-ota-digest.md`):
//!
//! * ETSI TS 102 225 / 3GPP TS 31.115 — command and response packets ([`command`],
//!   [`response`]), SPI ([`spi`]), KIc/KID ([`keyid`]), TAR/CNTR and the counter policy
//!   ([`counter`]), status codes ([`status`]), keysets and algorithms ([`keyset`], [`crc`],
//!   [`keyfile`]); the AES-CMAC (NIST SP 800-38B) and DES/3DES CBC-MAC of the CC ([`mac`]).
//! * ETSI TS 102 226 — remote APDU formats, compact and expanded ([`remote`]).
//! * 3GPP TS 23.040 / 23.038 — SMS TPDUs, UDH, concatenation ([`sms`]) and the GSM 7-bit
//!   default alphabet ([`gsm7`]).
//! * ETSI TS 102 223 / 3GPP TS 31.111 — the SMS-PP download ENVELOPE ([`envelope`]).
//!
//! The crate is sans-IO: bytes in, typed values out, and back. A card-side receiver runs the
//! steps separately: [`sms::Reassembler`] → [`command::SecuredCommand::parse`] (TAR, then MSL
//! with [`Spi::satisfies_msl`]) →
//! [`command::SecuredCommand::decipher`] → [`CounterPolicy::check`] →
//! [`command::DecipheredCommand::verify`] → [`remote::RemoteScript::parse`] → build a
//! [`remote::CompactResponse`] → [`response::ResponsePacket::seal`].

pub mod cat;
pub mod command;
pub mod counter;
pub mod crc;
pub mod envelope;
pub mod error;
pub mod gsm7;
pub mod keyfile;
pub mod keyid;
pub mod keyset;
pub mod mac;
pub mod remote;
pub mod response;
pub mod sms;
pub mod spi;
pub mod status;

pub use command::{
    CommandHeader, CommandPacket, DecipheredCommand, IntegrityCheck, IntegrityOutcome,
    SecuredCommand,
};
pub use counter::{check_counter, Counter, CounterPolicy, Tar};
pub use envelope::SmsPpDownload;
pub use error::{ErrorClass, OtaError};
pub use keyfile::{KeysetFile, NamedKeyset};
pub use keyid::{Kic, KicAlg, Kid, KidAlg};
pub use keyset::{ChecksumAlgorithm, CipherAlgorithm, Keyset};
pub use remote::{
    CompactResponse, CompactScript, ExpandedResponse, ExpandedScript, RemoteResponse, RemoteScript,
};
pub use response::{DecipheredResponse, PorSecurity, ResponsePacket, SecuredResponse};
pub use spi::{CounterMode, IntegrityMode, PorRequest, PorTransport, Spi};
pub use status::ResponseStatus;
