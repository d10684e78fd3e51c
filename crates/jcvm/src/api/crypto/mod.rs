//! `javacard.security` and `javacardx.crypto` (Java Card 3.0.5 Classic API) as plain Rust over
//! byte slices: [`keys`] (KeyBuilder and the key interfaces), [`keypair`] (KeyPair),
//! [`digest`] (MessageDigest), [`random`] (RandomData), [`signature`] (Signature) and
//! [`cipher`] (Cipher). The VM's natives take the Java arrays apart (array, offset, length),
//! call these, and turn a [`CryptoError`] into the Java exception it names.
//!
//! Algorithms come from RustCrypto crates (aes, des, cbc, sha1, sha2, p256/ecdsa, rsa for key
//! generation, crypto-bigint for the RSA primitive); key material is zeroized when a key is
//! cleared or dropped, MAC comparisons are constant time.

pub(crate) mod block;
pub mod cipher;
pub mod digest;
pub(crate) mod ec;
pub mod keypair;
pub mod keys;
pub mod random;
pub mod rsa;
pub mod signature;

pub use keys::{Component, Key, KeyBuilder, KeyMemory};
pub use random::RandomSource;

/// The reason codes of `javacard.security.CryptoException` (Java Card 3.0.5 API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum CryptoReason {
    /// `ILLEGAL_VALUE` (1): a parameter value (length, key type, mode) is not allowed.
    IllegalValue = 1,
    /// `UNINITIALIZED_KEY` (2): the key (or a component read back) is not initialized.
    UninitializedKey = 2,
    /// `NO_SUCH_ALGORITHM` (3): the algorithm, key type or length is not supported.
    NoSuchAlgorithm = 3,
    /// `INVALID_INIT` (4): the object is not initialized, or initialized for the other mode.
    InvalidInit = 4,
    /// `ILLEGAL_USE` (5): the data does not fit the algorithm (not block aligned, bad padding,
    /// too long, value not below the modulus).
    IllegalUse = 5,
}

impl CryptoReason {
    /// The reason code as `CryptoException.getReason()` returns it.
    pub fn code(self) -> u16 {
        self as u16
    }
}

/// Why a crypto API call failed: the Java exception the native throws, with a detail naming
/// the parameter for logs and error messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// `CryptoException.throwIt(reason)`.
    #[error("CryptoException {reason:?} ({}): {detail}", reason.code())]
    Crypto {
        /// The reason code.
        reason: CryptoReason,
        /// What was wrong (parameter, length).
        detail: String,
    },
    /// `java.lang.ArrayIndexOutOfBoundsException`: an output or input array is too short.
    #[error("ArrayIndexOutOfBoundsException: {0}")]
    ArrayIndexOutOfBounds(String),
}

impl CryptoError {
    /// The `CryptoException` reason, if this is one.
    pub fn reason(&self) -> Option<CryptoReason> {
        match self {
            CryptoError::Crypto { reason, .. } => Some(*reason),
            CryptoError::ArrayIndexOutOfBounds(_) => None,
        }
    }
}

/// Result of the crypto API calls.
pub type Result<T> = std::result::Result<T, CryptoError>;

pub(crate) fn err<T>(reason: CryptoReason, detail: impl Into<String>) -> Result<T> {
    Err(CryptoError::Crypto {
        reason,
        detail: detail.into(),
    })
}

pub(crate) fn illegal_value<T>(detail: impl Into<String>) -> Result<T> {
    err(CryptoReason::IllegalValue, detail)
}

pub(crate) fn illegal_use<T>(detail: impl Into<String>) -> Result<T> {
    err(CryptoReason::IllegalUse, detail)
}

pub(crate) fn invalid_init<T>(detail: impl Into<String>) -> Result<T> {
    err(CryptoReason::InvalidInit, detail)
}

pub(crate) fn no_such_algorithm<T>(detail: impl Into<String>) -> Result<T> {
    err(CryptoReason::NoSuchAlgorithm, detail)
}

pub(crate) fn uninitialized_key<T>(detail: impl Into<String>) -> Result<T> {
    err(CryptoReason::UninitializedKey, detail)
}

/// Copy `src` to the start of `out` (the output array from the output offset on), or
/// ArrayIndexOutOfBounds naming `what` when it does not fit.
pub(crate) fn write_out(out: &mut [u8], src: &[u8], what: &str) -> Result<usize> {
    match out.get_mut(..src.len()) {
        Some(dst) => {
            dst.copy_from_slice(src);
            Ok(src.len())
        }
        None => Err(CryptoError::ArrayIndexOutOfBounds(format!(
            "{what}: {} bytes do not fit the {} bytes left in the output array",
            src.len(),
            out.len()
        ))),
    }
}
