//! The card's random source, injected so that tests are deterministic (sans-IO: the card
//! never reads OS entropy itself). The default is AES-128 in counter mode keyed by the
//! profile's `rng_seed`; hosts that want real randomness inject their own [`RandomSource`].

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;

/// A source of random bytes for GET CHALLENGE, applets and key generation.
pub trait RandomSource: Send {
    /// Fill `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// Deterministic AES-128-CTR generator (a DRBG for tests and reproducible runs).
pub struct AesCtrRng {
    cipher: Aes128,
    counter: u128,
    buf: [u8; 16],
    used: usize,
}

impl AesCtrRng {
    /// Keyed by a 16-byte seed.
    pub fn new(seed: &[u8; 16]) -> AesCtrRng {
        AesCtrRng {
            cipher: Aes128::new(seed.into()),
            counter: 0,
            buf: [0; 16],
            used: 16,
        }
    }
}

impl std::fmt::Debug for AesCtrRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesCtrRng { .. }")
    }
}

impl RandomSource for AesCtrRng {
    fn fill(&mut self, out: &mut [u8]) {
        for b in out.iter_mut() {
            if self.used == 16 {
                let mut blk = self.counter.to_be_bytes().into();
                self.cipher.encrypt_block(&mut blk);
                self.buf = blk.into();
                self.counter = self.counter.wrapping_add(1);
                self.used = 0;
            }
            *b = self.buf[self.used];
            self.used += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_not_constant() {
        let mut a = AesCtrRng::new(&[7; 16]);
        let mut b = AesCtrRng::new(&[7; 16]);
        let (mut x, mut y) = ([0u8; 40], [0u8; 40]);
        a.fill(&mut x);
        b.fill(&mut y[..3]);
        b.fill(&mut y[3..]);
        assert_eq!(x, y);
        assert_ne!(x[..16], x[16..32]);
    }
}
