//! Errors of the `gp` crate: each names the field (and the offset where one applies).

use thiserror::Error;

/// What went wrong building, parsing, wrapping or unwrapping GlobalPlatform messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GpError {
    /// A field has a length the specification does not allow.
    #[error("{field}: {len} bytes, expected {expected}")]
    BadLength {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// What is allowed.
        expected: &'static str,
    },
    /// A field has a value the specification does not allow.
    #[error("offset {offset}: {field} is {value:#04x}, {reason}")]
    BadValue {
        /// The field.
        field: &'static str,
        /// Byte offset of the field in the message.
        offset: usize,
        /// The value found.
        value: u32,
        /// Why it is wrong.
        reason: &'static str,
    },
    /// A name that is not one of the known ones (privilege names, GPCS Table 6-1).
    #[error("offset {offset}: {field} {name:?} is unknown (known: {known})")]
    UnknownName {
        /// The field.
        field: &'static str,
        /// Character offset of the name in the text.
        offset: usize,
        /// The name given.
        name: String,
        /// The accepted names.
        known: &'static str,
    },
    /// The message ends before a field.
    #[error("offset {offset}: {field} truncated (message is {len} bytes)")]
    Truncated {
        /// The missing field.
        field: &'static str,
        /// Where it should start.
        offset: usize,
        /// The message length.
        len: usize,
    },
    /// The card cryptogram in the INITIALIZE UPDATE response is not what the keys give
    /// (wrong keys, wrong key version or wrong diversification).
    #[error("card cryptogram does not verify (wrong keys or diversification?)")]
    CardCryptogram,
    /// EXTERNAL AUTHENTICATE did not verify (host cryptogram or its C-MAC); which of the two
    /// is deliberately not said (GPCS §11.8.2: the card answers 6300 either way).
    #[error("EXTERNAL AUTHENTICATE does not verify")]
    HostAuthentication,
    /// A MAC (C-MAC on the card side, R-MAC on the host side) does not verify.
    #[error("{0} does not verify")]
    Mac(&'static str),
    /// Encrypted data does not decrypt to correctly padded plaintext.
    #[error("{0}: bad padding after decryption")]
    Padding(&'static str),
    /// The wrapped command no longer fits a short APDU.
    #[error("wrapped command data would be {len} bytes, more than the 255 a short APDU holds")]
    TooLong {
        /// Length after wrapping.
        len: usize,
    },
    /// A security level that the protocol cannot provide.
    #[error("security level {level:#04x} not allowed: {reason}")]
    Level {
        /// The level asked for.
        level: u8,
        /// Why.
        reason: &'static str,
    },
    /// The secure channel was closed after an error; a new INITIALIZE UPDATE is needed.
    #[error("secure channel closed after an earlier error")]
    Closed,
    /// A CAP file that cannot be loaded (not a ZIP, a component missing or malformed).
    #[error("CAP file: {0}")]
    Cap(String),
    /// A status word other than success where the protocol needs one.
    #[error("{command} answered {sw:04X}")]
    Status {
        /// The command.
        command: &'static str,
        /// Its status word.
        sw: u16,
    },
}
