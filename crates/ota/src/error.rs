//! The crate's error type: every failure names the field and, for wire data, the byte offset.
//!
//! Errors fall into four classes (see [`ErrorClass`]) so that callers can tell a packet that
//! could not be decoded from one that decoded but failed its RC/CC check, and both from a
//! local configuration problem (wrong key length, missing key).

use crate::status::ResponseStatus;
use thiserror::Error;

/// The broad class of an [`OtaError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The bytes are not a well-formed packet/TPDU/TLV (lengths, truncation, bad codings).
    Decode,
    /// The packet decoded but its RC/CC did not verify (TS 102 225 §5.1.1, status 01).
    Integrity,
    /// Local key material or key selection is wrong (key length, missing key, KIc/KID mismatch).
    Key,
    /// A feature the packet asks for is not supported (digital signatures, proprietary algorithms).
    Unsupported,
}

/// Every error the `ota` crate reports.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OtaError {
    /// Input ended before a field was complete.
    #[error("{field} at offset {offset}: needs {needed} byte(s) but only {available} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Offset of the field in the input.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A length field disagrees with the amount of data present.
    #[error(
        "{field} at offset {offset}: value {value:#06x} says {says} byte(s) follow but {actual} do"
    )]
    LengthMismatch {
        /// The length field (`CPL`, `RPL`, `UDL`, …).
        field: &'static str,
        /// Offset of the length field.
        offset: usize,
        /// The raw value.
        value: usize,
        /// How many bytes the field announces.
        says: usize,
        /// How many bytes are actually there.
        actual: usize,
    },
    /// A header length that leaves no room for the mandatory header fields.
    #[error("{field} {value:#04x} at offset {offset} is below the minimum {min:#04x}")]
    HeaderTooShort {
        /// `CHL` or `RHL`.
        field: &'static str,
        /// Offset of the field.
        offset: usize,
        /// The raw value.
        value: u8,
        /// The minimum allowed value.
        min: u8,
    },
    /// The RC/CC/DS field announced by CHL/RHL does not fit the rest of the packet.
    #[error("{field} {value:#04x} says {len}-byte {kind} but packet ends after {available} bytes")]
    IntegrityTruncated {
        /// `CHL` or `RHL`.
        field: &'static str,
        /// The raw header length.
        value: u8,
        /// The announced RC/CC/DS length.
        len: usize,
        /// `RC`, `CC` or `DS`.
        kind: &'static str,
        /// Bytes available after the fixed header part.
        available: usize,
    },
    /// The RC/CC/DS length announced by CHL/RHL is not possible for the algorithm in use.
    #[error("{field} {value:#04x} gives a {len}-byte {kind}, but {alg} needs {expected}")]
    IntegrityLength {
        /// `CHL` or `RHL`.
        field: &'static str,
        /// The raw header length.
        value: u8,
        /// The announced length.
        len: usize,
        /// `RC` or `CC`.
        kind: &'static str,
        /// The algorithm.
        alg: &'static str,
        /// What the algorithm allows.
        expected: &'static str,
    },
    /// The ciphered part is not a whole number of cipher blocks.
    #[error("ciphered part at offset {offset} is {len} bytes, not a multiple of the {alg} block size {block}")]
    CipherLength {
        /// Offset of the ciphered part (the CNTR field).
        offset: usize,
        /// Its length.
        len: usize,
        /// The algorithm.
        alg: &'static str,
        /// Block size.
        block: usize,
    },
    /// PCNTR announces more padding than there is secured data.
    #[error("PCNTR {pcntr} at offset {offset} exceeds the {available} byte(s) of secured data")]
    PaddingTooLong {
        /// The PCNTR value.
        pcntr: u8,
        /// Offset of PCNTR.
        offset: usize,
        /// Secured data bytes (including padding).
        available: usize,
    },
    /// The RC/CC did not verify.
    #[error("{kind} check failed: received {received} != computed {computed}")]
    IntegrityFailed {
        /// `RC` or `CC`.
        kind: &'static str,
        /// Received value (hex).
        received: String,
        /// Computed value (hex).
        computed: String,
    },
    /// A key has the wrong length for its algorithm.
    #[error("{which} key for {alg} must be {expected} bytes, got {got}")]
    KeyLength {
        /// `KIc` or `KID`.
        which: &'static str,
        /// The algorithm.
        alg: &'static str,
        /// Allowed lengths.
        expected: &'static str,
        /// Actual length.
        got: usize,
    },
    /// A key the SPI needs is not configured.
    #[error("SPI asks for {what} but the keyset has no {which} algorithm/key")]
    KeyMissing {
        /// `KIc` or `KID`.
        which: &'static str,
        /// What the SPI asks for.
        what: &'static str,
    },
    /// The KIc/KID byte names a different algorithm than the keyset holds.
    #[error(
        "{which} byte {byte:#04x} codes {coded} but the keyset's {which} algorithm is {keyset}"
    )]
    AlgorithmMismatch {
        /// `KIc` or `KID`.
        which: &'static str,
        /// The byte in the packet.
        byte: u8,
        /// What the byte codes.
        coded: String,
        /// The keyset's algorithm.
        keyset: &'static str,
    },
    /// A field holds a value this crate cannot process.
    #[error("{field} at offset {offset}: {reason}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// Offset of the field.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A value given to a builder is out of range.
    #[error("{field}: {reason}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A feature not supported by this implementation.
    #[error("not supported: {0}")]
    Unsupported(String),
}

impl OtaError {
    /// The class of this error (decode vs integrity vs key vs unsupported).
    pub fn class(&self) -> ErrorClass {
        match self {
            OtaError::IntegrityFailed { .. } => ErrorClass::Integrity,
            OtaError::KeyLength { .. }
            | OtaError::KeyMissing { .. }
            | OtaError::AlgorithmMismatch { .. } => ErrorClass::Key,
            OtaError::Unsupported(_) => ErrorClass::Unsupported,
            _ => ErrorClass::Decode,
        }
    }

    /// True when the packet decoded but its RC/CC failed verification.
    pub fn is_integrity_failure(&self) -> bool {
        self.class() == ErrorClass::Integrity
    }

    /// The response status a receiving card would answer with (TS 102 225 §5.1.2 table):
    /// RC/CC failure → 01, cipher length problems → 05, anything else it could not interpret → 06.
    pub fn por_status(&self) -> ResponseStatus {
        match self {
            OtaError::IntegrityFailed { .. } => ResponseStatus::RcCcDsFailed,
            OtaError::CipherLength { .. } | OtaError::PaddingTooLong { .. } => {
                ResponseStatus::CipheringError
            }
            _ => ResponseStatus::UnidentifiedSecurityError,
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = OtaError> = std::result::Result<T, E>;

/// Take `n` bytes at `at` or report which field was truncated.
pub(crate) fn take<'a>(b: &'a [u8], at: usize, n: usize, field: &'static str) -> Result<&'a [u8]> {
    at.checked_add(n)
        .and_then(|end| b.get(at..end))
        .ok_or(OtaError::Truncated {
            field,
            offset: at,
            needed: n,
            available: b.len().saturating_sub(at),
        })
}

/// Take one byte at `at`.
pub(crate) fn byte(b: &[u8], at: usize, field: &'static str) -> Result<u8> {
    b.get(at).copied().ok_or(OtaError::Truncated {
        field,
        offset: at,
        needed: 1,
        available: 0,
    })
}
