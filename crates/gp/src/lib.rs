//! GlobalPlatform for simota: the SCP02 (GPCS v2.3 Annex E) and SCP03 (GPCS v2.3 Amendment D
//! v1.1.2) secure channels on both sides of the APDU seam, key diversification (EMV, VISA2,
//! KDF3), PUT KEY with DEK-encrypted keys and KCVs, and the card content management commands.
//!
//! Sans-IO: everything here turns typed APDUs into typed APDUs; the host drives a
//! [`HostHandshake`] → [`HostAuthenticator`] → [`Session`] over whatever transport it has, and
//! the card runs [`card_initialize_update`] → [`CardAuthenticator`] → [`Session`].

#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "cap")]
pub mod cap;
pub mod commands;
pub mod crypto;
pub mod error;
pub mod handshake;
pub mod keys;
pub mod level;
pub mod load;
pub mod put_key;
pub mod scp02;
pub mod scp03;
pub mod session;
pub mod wire;

pub use error::GpError;
pub use handshake::{
    card_initialize_update, CardAuthenticator, CardProtocol, HostAuthenticator, HostHandshake,
    InitUpdateResponse, ScpInfo,
};
pub use keys::{Diversification, Key, KeyKind, StaticKeys, DEFAULT_TEST_KEY};
pub use level::SecurityLevel;
pub use scp02::Scp02Params;
pub use scp03::Scp03Params;
pub use session::Session;
