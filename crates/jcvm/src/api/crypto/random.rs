//! `javacard.security.RandomData` (Java Card 3.0.5 API): ALG_PSEUDO_RANDOM (1) and
//! ALG_SECURE_RANDOM (2) over the random source the VM host supplies.

use super::codec::{Dec, Enc};
use super::{illegal_value, no_such_algorithm, Result};

/// `RandomData.ALG_PSEUDO_RANDOM`.
pub const ALG_PSEUDO_RANDOM: u8 = 1;
/// `RandomData.ALG_SECURE_RANDOM`.
pub const ALG_SECURE_RANDOM: u8 = 2;

/// Where random bytes come from: the card host's injected RNG (deterministic in tests).
pub trait RandomSource {
    /// Fill `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> RandomSource for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// A `RandomData` instance (`RandomData.getInstance(alg)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomData {
    alg: u8,
    seed: Vec<u8>,
}

impl RandomData {
    /// `RandomData.getInstance(algorithm)`: NO_SUCH_ALGORITHM for anything but 1 and 2.
    pub fn get_instance(alg: u8) -> Result<RandomData> {
        match alg {
            ALG_PSEUDO_RANDOM | ALG_SECURE_RANDOM => Ok(RandomData {
                alg,
                seed: Vec::new(),
            }),
            _ => no_such_algorithm(format!("RandomData algorithm {alg}")),
        }
    }

    /// `getAlgorithm()`.
    pub fn algorithm(&self) -> u8 {
        self.alg
    }

    /// `generateData(buffer, offset, length)`: fills `out` (the caller has checked the array
    /// bounds). For the pseudo-random algorithm the seed set with [`Self::set_seed`] is mixed
    /// in (XOR, cycled), so a seed changes the sequence as the API says it may.
    pub fn generate_data(&self, rng: &mut dyn RandomSource, out: &mut [u8]) -> Result<()> {
        rng.fill(out);
        if self.alg == ALG_PSEUDO_RANDOM && !self.seed.is_empty() {
            for (b, s) in out.iter_mut().zip(self.seed.iter().cycle()) {
                *b ^= s;
            }
        }
        Ok(())
    }

    /// `setSeed(buffer, offset, length)`: supplements the seed (ILLEGAL_VALUE never; an empty
    /// seed is accepted and changes nothing).
    pub fn set_seed(&mut self, seed: &[u8]) -> Result<()> {
        if seed.len() > 0x7FFF {
            return illegal_value("RandomData.setSeed length");
        }
        if self.seed.is_empty() {
            self.seed = seed.to_vec();
        } else {
            for (s, n) in self.seed.iter_mut().zip(seed.iter()) {
                *s ^= n;
            }
        }
        Ok(())
    }
}

impl RandomData {
    /// The state as bytes (algorithm, seed).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.u8(self.alg).bytes(&self.seed);
        e.0
    }

    /// Decodes [`RandomData::encode`]'s bytes.
    pub fn decode(b: &[u8]) -> std::result::Result<RandomData, String> {
        let mut d = Dec::new(b, "RandomData");
        let mut r = RandomData::get_instance(d.u8()?).map_err(|e| e.to_string())?;
        r.seed = d.bytes()?.to_vec();
        d.done()?;
        Ok(r)
    }
}

/// A rand_core 0.10 RNG over a [`RandomSource`] (for the rsa and p256 key generators).
pub(crate) struct Rng<'a>(pub &'a mut dyn RandomSource);

impl rand_core::TryRng for Rng<'_> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Rng<'_> {}
