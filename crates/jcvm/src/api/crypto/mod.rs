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
pub mod natives;
pub mod random;
pub mod rsa;
pub mod signature;

pub use keys::{Component, Key, KeyBuilder, KeyMemory};
pub use natives::NATIVES;
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

/// The byte encoding of the crypto objects' state (the VM keeps it in the objects' native
/// peers and in NV): length-prefixed fields, decoded with an error naming the offset.
pub mod codec {
    /// Appends fields.
    #[derive(Default)]
    pub struct Enc(pub Vec<u8>);

    impl Enc {
        /// One byte.
        pub fn u8(&mut self, v: u8) -> &mut Self {
            self.0.push(v);
            self
        }
        /// A big-endian u16.
        pub fn u16(&mut self, v: u16) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        /// A u32 length, then the bytes.
        pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
            self.0.extend_from_slice(&(v.len() as u32).to_be_bytes());
            self.0.extend_from_slice(v);
            self
        }
        /// 0 for none, or 1 and the bytes.
        pub fn opt(&mut self, v: Option<&[u8]>) -> &mut Self {
            match v {
                None => self.u8(0),
                Some(b) => self.u8(1).bytes(b),
            }
        }
    }

    /// Reads fields back; every error names the offset.
    pub struct Dec<'a> {
        b: &'a [u8],
        p: usize,
        what: &'static str,
    }

    impl<'a> Dec<'a> {
        /// A reader over `b`, the encoding of `what`.
        pub fn new(b: &'a [u8], what: &'static str) -> Dec<'a> {
            Dec { b, p: 0, what }
        }
        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            let end = self.p.checked_add(n);
            match end.and_then(|e| self.b.get(self.p..e)) {
                Some(s) => {
                    self.p += n;
                    Ok(s)
                }
                None => Err(format!(
                    "{} state truncated: {n} bytes needed at offset {} of {}",
                    self.what,
                    self.p,
                    self.b.len()
                )),
            }
        }
        /// One byte.
        pub fn u8(&mut self) -> Result<u8, String> {
            Ok(self.take(1)?[0])
        }
        /// A big-endian u16.
        pub fn u16(&mut self) -> Result<u16, String> {
            let b = self.take(2)?;
            Ok(u16::from_be_bytes([b[0], b[1]]))
        }
        /// Length-prefixed bytes.
        pub fn bytes(&mut self) -> Result<&'a [u8], String> {
            let b = self.take(4)?;
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            self.take(n)
        }
        /// Optional bytes.
        pub fn opt(&mut self) -> Result<Option<&'a [u8]>, String> {
            let at = self.p;
            match self.u8()? {
                0 => Ok(None),
                1 => Ok(Some(self.bytes()?)),
                t => Err(format!(
                    "{} state: presence byte {t} at offset {at}",
                    self.what
                )),
            }
        }
        /// Error unless every byte was read.
        pub fn done(&self) -> Result<(), String> {
            if self.p == self.b.len() {
                Ok(())
            } else {
                Err(format!(
                    "{} state: {} trailing bytes at offset {}",
                    self.what,
                    self.b.len() - self.p,
                    self.p
                ))
            }
        }
    }
}
