//! TAR and CNTR values and the receiving entity's counter policy (ETSI TS 102 225 §5.1.1,
//! "CNTR" and the SPI counter modes; response statuses 02/03/04 from §5.1.2).

use crate::error::{OtaError, Result};
use crate::spi::CounterMode;
use crate::status::ResponseStatus;
use std::fmt;

/// Toolkit Application Reference: 3 bytes naming the receiving application (TS 101 220 Annex D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Tar(pub [u8; 3]);

impl Tar {
    /// From a slice of exactly 3 bytes.
    pub fn from_slice(b: &[u8]) -> Result<Self> {
        <[u8; 3]>::try_from(b)
            .map(Tar)
            .map_err(|_| OtaError::InvalidValue {
                field: "TAR",
                reason: format!("must be 3 bytes, got {}", b.len()),
            })
    }
}

impl fmt::Display for Tar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}{:02X}{:02X}", self.0[0], self.0[1], self.0[2])
    }
}

/// The 5-byte big-endian replay counter CNTR (TS 102 225 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Counter(u64);

impl Counter {
    /// The largest value, `FF FF FF FF FF`.
    pub const MAX: Counter = Counter(0xFF_FFFF_FFFF);

    /// A counter value; fails above 2^40 − 1.
    pub fn new(v: u64) -> Result<Self> {
        if v > Self::MAX.0 {
            return Err(OtaError::InvalidValue {
                field: "CNTR",
                reason: format!("{v} does not fit in 5 bytes (max {})", Self::MAX.0),
            });
        }
        Ok(Counter(v))
    }
    /// The numeric value.
    pub fn value(self) -> u64 {
        self.0
    }
    /// The 5 wire bytes, big-endian.
    pub fn to_bytes(self) -> [u8; 5] {
        let b = self.0.to_be_bytes();
        [b[3], b[4], b[5], b[6], b[7]]
    }
    /// From the 5 wire bytes.
    pub fn from_bytes(b: [u8; 5]) -> Self {
        Counter(b.iter().fold(0u64, |a, &x| a << 8 | u64::from(x)))
    }
    /// The next value, or `None` at the maximum.
    pub fn next(self) -> Option<Counter> {
        (self.0 < Self::MAX.0).then_some(Counter(self.0 + 1))
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.to_bytes();
        write!(
            f,
            "{:02X}{:02X}{:02X}{:02X}{:02X} ({})",
            b[0], b[1], b[2], b[3], b[4], self.0
        )
    }
}

/// How a receiving card answers a counter that is *equal* to the stored one in mode `10`.
///
/// \[CONFLICT\] (spec digest A.5): the status-code table implies 02 "CNTR low"; a real
/// sysmoISIM-SJA2 (and a card OS source) answer 06 "unidentified security error". The default
/// is [`CounterPolicy::STANDARD`] (02); [`CounterPolicy::SYSMOCOM`] reproduces the real card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CounterPolicy {
    /// Status for CNTR == stored in mode `10` (and mode `11`).
    pub replay_status: ResponseStatus,
}

impl CounterPolicy {
    /// Replays answer 02 "CNTR low".
    pub const STANDARD: CounterPolicy = CounterPolicy {
        replay_status: ResponseStatus::CounterLow,
    };
    /// Replays answer 06, as a real sysmoISIM-SJA2 does.
    pub const SYSMOCOM: CounterPolicy = CounterPolicy {
        replay_status: ResponseStatus::UnidentifiedSecurityError,
    };

    /// The card-side counter check (TS 102 225 §5.1.1 counter modes):
    ///
    /// * `00`, `01`: always accepted;
    /// * `10`, `11` with `stored` at [`Counter::MAX`]: 04 "CNTR blocked";
    /// * `10`: `received > stored` accepted; equal → `replay_status`; lower → 02;
    /// * `11`: `received == stored + 1` accepted; equal → `replay_status`; lower → 02;
    ///   higher → 03.
    ///
    /// On `Ok` the card stores `received` once all other checks have passed.
    pub fn check(
        self,
        mode: CounterMode,
        stored: Counter,
        received: Counter,
    ) -> std::result::Result<(), ResponseStatus> {
        match mode {
            CounterMode::NoCounter | CounterMode::NoCheck => Ok(()),
            CounterMode::Higher | CounterMode::OneHigher if stored == Counter::MAX => {
                Err(ResponseStatus::CounterBlocked)
            }
            _ if received == stored => Err(self.replay_status),
            _ if received < stored => Err(ResponseStatus::CounterLow),
            CounterMode::Higher => Ok(()),
            CounterMode::OneHigher => {
                if Some(received) == stored.next() {
                    Ok(())
                } else {
                    Err(ResponseStatus::CounterHigh)
                }
            }
        }
    }
}

impl Default for CounterPolicy {
    fn default() -> Self {
        CounterPolicy::STANDARD
    }
}

/// [`CounterPolicy::STANDARD`]`.check(…)`.
pub fn check_counter(
    mode: CounterMode,
    stored: Counter,
    received: Counter,
) -> std::result::Result<(), ResponseStatus> {
    CounterPolicy::STANDARD.check(mode, stored, received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResponseStatus::*;

    fn c(v: u64) -> Counter {
        Counter::new(v).unwrap()
    }

    #[test]
    fn counter_bytes() {
        assert_eq!(c(100).to_bytes(), [0, 0, 0, 0, 0x64]);
        assert_eq!(Counter::from_bytes([0xFF; 5]), Counter::MAX);
        assert!(Counter::new(1 << 40).is_err());
        assert_eq!(Counter::MAX.next(), None);
    }

    #[test]
    fn policy_table() {
        let p = CounterPolicy::STANDARD;
        assert_eq!(p.check(CounterMode::NoCounter, c(5), c(0)), Ok(()));
        assert_eq!(p.check(CounterMode::NoCheck, c(5), c(1)), Ok(()));
        assert_eq!(p.check(CounterMode::Higher, c(5), c(6)), Ok(()));
        assert_eq!(p.check(CounterMode::Higher, c(5), c(1000)), Ok(()));
        assert_eq!(p.check(CounterMode::Higher, c(5), c(5)), Err(CounterLow));
        assert_eq!(p.check(CounterMode::Higher, c(5), c(4)), Err(CounterLow));
        assert_eq!(p.check(CounterMode::OneHigher, c(5), c(6)), Ok(()));
        assert_eq!(
            p.check(CounterMode::OneHigher, c(5), c(7)),
            Err(CounterHigh)
        );
        assert_eq!(p.check(CounterMode::OneHigher, c(5), c(5)), Err(CounterLow));
        assert_eq!(p.check(CounterMode::OneHigher, c(5), c(2)), Err(CounterLow));
        assert_eq!(
            p.check(CounterMode::Higher, Counter::MAX, Counter::MAX),
            Err(CounterBlocked)
        );
        assert_eq!(
            p.check(CounterMode::OneHigher, Counter::MAX, c(0)),
            Err(CounterBlocked)
        );
        assert_eq!(p.check(CounterMode::Higher, c(1), Counter::MAX), Ok(()));
        assert_eq!(p.check(CounterMode::NoCheck, Counter::MAX, c(0)), Ok(()));
        let s = CounterPolicy::SYSMOCOM;
        assert_eq!(
            s.check(CounterMode::Higher, c(100), c(100)),
            Err(UnidentifiedSecurityError)
        );
        assert_eq!(s.check(CounterMode::Higher, c(100), c(99)), Err(CounterLow));
    }
}
