//! Response status codes of a Proof of Receipt (ETSI TS 102 225 §5.1.2 table "Response
//! Status Codes", with the TS 31.115 additions 0B and 0C).

use std::fmt;

/// The status byte of a response packet. Unassigned values are kept in
/// [`ResponseStatus::Reserved`] (0D–BF, FF) or [`ResponseStatus::Proprietary`] (C0–FE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    /// 00: PoR OK.
    PorOk,
    /// 01: RC/CC/DS failed.
    RcCcDsFailed,
    /// 02: CNTR low.
    CounterLow,
    /// 03: CNTR high.
    CounterHigh,
    /// 04: CNTR blocked.
    CounterBlocked,
    /// 05: ciphering error.
    CipheringError,
    /// 06: unidentified security error (PoR sent unciphered, without RC/CC/DS).
    UnidentifiedSecurityError,
    /// 07: insufficient memory to process the incoming message.
    InsufficientMemory,
    /// 08: more time needed; a later response packet follows.
    MoreTime,
    /// 09: TAR unknown.
    TarUnknown,
    /// 0A: insufficient security level (below the application's MSL).
    InsufficientSecurityLevel,
    /// 0B: actual response data will be sent using SMS-SUBMIT (TS 31.115).
    ResponseViaSmsSubmit,
    /// 0C: actual response data will be sent using USSD (TS 31.115).
    ResponseViaUssd,
    /// 0D–BF and FF: reserved.
    Reserved(u8),
    /// C0–FE: reserved for proprietary use.
    Proprietary(u8),
}

impl ResponseStatus {
    /// Decode a status byte.
    pub fn from_byte(b: u8) -> Self {
        use ResponseStatus::*;
        match b {
            0x00 => PorOk,
            0x01 => RcCcDsFailed,
            0x02 => CounterLow,
            0x03 => CounterHigh,
            0x04 => CounterBlocked,
            0x05 => CipheringError,
            0x06 => UnidentifiedSecurityError,
            0x07 => InsufficientMemory,
            0x08 => MoreTime,
            0x09 => TarUnknown,
            0x0A => InsufficientSecurityLevel,
            0x0B => ResponseViaSmsSubmit,
            0x0C => ResponseViaUssd,
            0xC0..=0xFE => Proprietary(b),
            _ => Reserved(b),
        }
    }

    /// Encode the status byte.
    pub fn to_byte(self) -> u8 {
        use ResponseStatus::*;
        match self {
            PorOk => 0x00,
            RcCcDsFailed => 0x01,
            CounterLow => 0x02,
            CounterHigh => 0x03,
            CounterBlocked => 0x04,
            CipheringError => 0x05,
            UnidentifiedSecurityError => 0x06,
            InsufficientMemory => 0x07,
            MoreTime => 0x08,
            TarUnknown => 0x09,
            InsufficientSecurityLevel => 0x0A,
            ResponseViaSmsSubmit => 0x0B,
            ResponseViaUssd => 0x0C,
            Reserved(b) | Proprietary(b) => b,
        }
    }

    /// The name used in the specification tables.
    pub fn name(self) -> &'static str {
        use ResponseStatus::*;
        match self {
            PorOk => "PoR OK",
            RcCcDsFailed => "RC/CC/DS failed",
            CounterLow => "CNTR low",
            CounterHigh => "CNTR high",
            CounterBlocked => "CNTR blocked",
            CipheringError => "ciphering error",
            UnidentifiedSecurityError => "unidentified security error",
            InsufficientMemory => "insufficient memory to process incoming message",
            MoreTime => "more time",
            TarUnknown => "TAR unknown",
            InsufficientSecurityLevel => "insufficient security level",
            ResponseViaSmsSubmit => "actual response data to be sent using SMS-SUBMIT",
            ResponseViaUssd => "actual response data to be sent using USSD",
            Reserved(_) => "reserved for future use",
            Proprietary(_) => "reserved for proprietary use",
        }
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X} ({})", self.to_byte(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_ranges() {
        for b in 0..=255u8 {
            assert_eq!(ResponseStatus::from_byte(b).to_byte(), b);
        }
        assert_eq!(
            ResponseStatus::from_byte(0x0D),
            ResponseStatus::Reserved(0x0D)
        );
        assert_eq!(
            ResponseStatus::from_byte(0xC0),
            ResponseStatus::Proprietary(0xC0)
        );
        assert_eq!(
            ResponseStatus::from_byte(0xFF),
            ResponseStatus::Reserved(0xFF)
        );
        assert_eq!(
            ResponseStatus::from_byte(6).name(),
            "unidentified security error"
        );
    }
}
