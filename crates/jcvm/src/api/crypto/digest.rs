//! `javacard.security.MessageDigest` (Java Card 3.0.5 API): SHA-1, SHA-224, SHA-256, SHA-384
//! and SHA-512 (sha1 and sha2 crates, FIPS 180-4).

use super::codec::{Dec, Enc};
use super::{no_such_algorithm, write_out, Result};
use sha1::Sha1;
use sha2::digest::common::hazmat::SerializableState;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

/// `MessageDigest.ALG_SHA`.
pub const ALG_SHA: u8 = 1;
/// `MessageDigest.ALG_MD5` (not supported: NO_SUCH_ALGORITHM).
pub const ALG_MD5: u8 = 2;
/// `MessageDigest.ALG_RIPEMD160` (not supported: NO_SUCH_ALGORITHM).
pub const ALG_RIPEMD160: u8 = 3;
/// `MessageDigest.ALG_SHA_256`.
pub const ALG_SHA_256: u8 = 4;
/// `MessageDigest.ALG_SHA_384`.
pub const ALG_SHA_384: u8 = 5;
/// `MessageDigest.ALG_SHA_512`.
pub const ALG_SHA_512: u8 = 6;
/// `MessageDigest.ALG_SHA_224`.
pub const ALG_SHA_224: u8 = 7;

/// The running state of one of the hash functions.
#[derive(Clone)]
pub(crate) enum HashState {
    Sha1(Sha1),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl HashState {
    pub(crate) fn new(alg: u8) -> Result<HashState> {
        Ok(match alg {
            ALG_SHA => HashState::Sha1(Sha1::new()),
            ALG_SHA_224 => HashState::Sha224(Sha224::new()),
            ALG_SHA_256 => HashState::Sha256(Sha256::new()),
            ALG_SHA_384 => HashState::Sha384(Sha384::new()),
            ALG_SHA_512 => HashState::Sha512(Sha512::new()),
            _ => return no_such_algorithm(format!("MessageDigest algorithm {alg}")),
        })
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            HashState::Sha1(h) => h.update(data),
            HashState::Sha224(h) => h.update(data),
            HashState::Sha256(h) => h.update(data),
            HashState::Sha384(h) => h.update(data),
            HashState::Sha512(h) => h.update(data),
        }
    }

    /// The running state as bytes (the hash's own serialization: chaining value, block
    /// count, buffered partial block); a fixed size per algorithm.
    pub(crate) fn serialize(&self) -> Vec<u8> {
        match self {
            HashState::Sha1(h) => h.serialize().to_vec(),
            HashState::Sha224(h) => h.serialize().to_vec(),
            HashState::Sha256(h) => h.serialize().to_vec(),
            HashState::Sha384(h) => h.serialize().to_vec(),
            HashState::Sha512(h) => h.serialize().to_vec(),
        }
    }

    /// Where the count of compressed blocks sits in the serialized state (the hash core's
    /// state words, then its little-endian block counter), and how wide it is.
    fn block_counter(alg: u8) -> Option<(usize, usize)> {
        match alg {
            ALG_SHA => Some((20, 8)),
            ALG_SHA_224 | ALG_SHA_256 => Some((32, 8)),
            ALG_SHA_384 | ALG_SHA_512 => Some((64, 16)),
            _ => None,
        }
    }

    /// The number of blocks compressed so far, read from a serialized state.
    pub(crate) fn blocks_in(alg: u8, b: &[u8]) -> Option<u128> {
        let (at, n) = Self::block_counter(alg)?;
        let mut le = [0u8; 16];
        le.get_mut(..n)?.copy_from_slice(b.get(at..at + n)?);
        Some(u128::from_le_bytes(le))
    }

    /// The state [`HashState::serialize`] gave for algorithm `alg`. A block counter past
    /// 2^40 blocks (no Java Card message comes near) is refused: the hash would overflow
    /// its bit length at `doFinal`.
    pub(crate) fn deserialize(alg: u8, b: &[u8]) -> std::result::Result<HashState, String> {
        match Self::blocks_in(alg, b) {
            Some(n) if n < 1 << 40 => {}
            Some(n) => return Err(format!("hash state: block counter {n} out of range")),
            None => return Err(format!("hash state of {} bytes", b.len())),
        }
        fn de<H: SerializableState>(b: &[u8]) -> std::result::Result<H, String> {
            let arr = <&cipher::Array<u8, H::SerializedStateSize>>::try_from(b)
                .map_err(|_| format!("hash state of {} bytes", b.len()))?;
            H::deserialize(arr).map_err(|_| "hash state does not decode".to_string())
        }
        Ok(match alg {
            ALG_SHA => HashState::Sha1(de(b)?),
            ALG_SHA_224 => HashState::Sha224(de(b)?),
            ALG_SHA_256 => HashState::Sha256(de(b)?),
            ALG_SHA_384 => HashState::Sha384(de(b)?),
            ALG_SHA_512 => HashState::Sha512(de(b)?),
            _ => return Err(format!("hash state of algorithm {alg}")),
        })
    }

    /// The digest; the state is reset for the next message.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        match self {
            HashState::Sha1(h) => h.finalize_reset().to_vec(),
            HashState::Sha224(h) => h.finalize_reset().to_vec(),
            HashState::Sha256(h) => h.finalize_reset().to_vec(),
            HashState::Sha384(h) => h.finalize_reset().to_vec(),
            HashState::Sha512(h) => h.finalize_reset().to_vec(),
        }
    }
}

/// The digest length in bytes of a MessageDigest algorithm (`LENGTH_*`).
pub fn length(alg: u8) -> Option<u8> {
    match alg {
        ALG_SHA => Some(20),
        ALG_SHA_224 => Some(28),
        ALG_SHA_256 => Some(32),
        ALG_SHA_384 => Some(48),
        ALG_SHA_512 => Some(64),
        _ => None,
    }
}

/// The digest of `data` with MessageDigest algorithm `alg`.
pub fn hash(alg: u8, data: &[u8]) -> Result<Vec<u8>> {
    let mut h = HashState::new(alg)?;
    h.update(data);
    Ok(h.finish())
}

/// A `MessageDigest` instance. Its state (the hash's running state, a fixed size per
/// algorithm) encodes to bytes ([`MessageDigest::encode`]) for the VM's object store.
#[derive(Clone)]
pub struct MessageDigest {
    alg: u8,
    state: HashState,
}

impl std::fmt::Debug for MessageDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MessageDigest(alg {})", self.alg)
    }
}

impl MessageDigest {
    /// `MessageDigest.getInstance(algorithm, externalAccess)`: NO_SUCH_ALGORITHM for MD5,
    /// RIPEMD-160 and unknown codes.
    pub fn get_instance(alg: u8) -> Result<MessageDigest> {
        Ok(MessageDigest {
            alg,
            state: HashState::new(alg)?,
        })
    }

    /// `getAlgorithm()`.
    pub fn algorithm(&self) -> u8 {
        self.alg
    }

    /// `getLength()`: the digest length in bytes.
    pub fn length(&self) -> u8 {
        length(self.alg).unwrap_or(0)
    }

    /// `update(inBuff, inOffset, inLength)`.
    pub fn update(&mut self, data: &[u8]) {
        self.state.update(data);
    }

    /// `doFinal(inBuff, inOffset, inLength, outBuff, outOffset)`: hashes the rest of the
    /// message, writes the digest to `out` (the output array from the offset on), returns its
    /// length and resets the object. ArrayIndexOutOfBounds when the digest does not fit (the
    /// state is then reset too, as after any doFinal).
    pub fn do_final(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize> {
        self.state.update(data);
        let d = self.state.finish();
        write_out(out, &d, "MessageDigest.doFinal")
    }

    /// `reset()`.
    pub fn reset(&mut self) {
        self.state.finish();
    }

    /// The state as bytes (algorithm, running hash state).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut e = Enc::default();
        e.u8(self.alg).bytes(&self.state.serialize());
        Zeroizing::new(e.0)
    }

    /// Decodes [`MessageDigest::encode`]'s bytes.
    pub fn decode(b: &[u8]) -> std::result::Result<MessageDigest, String> {
        let mut d = Dec::new(b, "MessageDigest");
        let alg = d.u8()?;
        let state = HashState::deserialize(alg, d.bytes()?)?;
        d.done()?;
        Ok(MessageDigest { alg, state })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_counter_is_where_deserialize_reads_it() {
        for (alg, block) in [
            (ALG_SHA, 64),
            (ALG_SHA_224, 64),
            (ALG_SHA_256, 64),
            (ALG_SHA_384, 128),
            (ALG_SHA_512, 128),
        ] {
            let mut h = HashState::new(alg).unwrap();
            h.update(&[0x5A; 1000]);
            let b = h.serialize();
            assert_eq!(
                HashState::blocks_in(alg, &b),
                Some(1000 / block),
                "alg {alg}"
            );
            assert!(HashState::deserialize(alg, &b).is_ok());
        }
    }
}
