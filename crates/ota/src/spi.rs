//! The Security Parameter Indicator (SPI), ETSI TS 102 225 §5.1.1 with the TS 31.115 §4.2
//! PoR-via-SMS-SUBMIT bit. Every bit is kept: reserved bits round-trip unchanged.

use std::fmt;

/// SPI byte 1 b5b4: counter handling (TS 102 225 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterMode {
    /// `00`: no counter available (CNTR present but ignored).
    NoCounter,
    /// `01`: counter available, no replay or sequence checking.
    NoCheck,
    /// `10`: process only if CNTR is higher than the stored value.
    Higher,
    /// `11`: process only if CNTR is exactly one higher than the stored value.
    OneHigher,
}

impl CounterMode {
    /// From the two-bit value.
    pub fn from_bits(b: u8) -> Self {
        match b & 3 {
            0 => CounterMode::NoCounter,
            1 => CounterMode::NoCheck,
            2 => CounterMode::Higher,
            _ => CounterMode::OneHigher,
        }
    }
    /// The two-bit value.
    pub fn bits(self) -> u8 {
        match self {
            CounterMode::NoCounter => 0,
            CounterMode::NoCheck => 1,
            CounterMode::Higher => 2,
            CounterMode::OneHigher => 3,
        }
    }
    /// A short description.
    pub fn name(self) -> &'static str {
        match self {
            CounterMode::NoCounter => "no counter",
            CounterMode::NoCheck => "counter, no replay check",
            CounterMode::Higher => "counter must be higher",
            CounterMode::OneHigher => "counter must be exactly one higher",
        }
    }
}

/// SPI byte 1 b2b1 / byte 2 b4b3: which redundancy check, cryptographic checksum or digital
/// signature protects the packet (TS 102 225 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrityMode {
    /// `00`: no RC, CC or DS.
    None,
    /// `01`: redundancy check.
    Rc,
    /// `10`: cryptographic checksum.
    Cc,
    /// `11`: digital signature (typed, but not supported for processing).
    Ds,
}

impl IntegrityMode {
    /// From the two-bit value.
    pub fn from_bits(b: u8) -> Self {
        match b & 3 {
            0 => IntegrityMode::None,
            1 => IntegrityMode::Rc,
            2 => IntegrityMode::Cc,
            _ => IntegrityMode::Ds,
        }
    }
    /// The two-bit value.
    pub fn bits(self) -> u8 {
        match self {
            IntegrityMode::None => 0,
            IntegrityMode::Rc => 1,
            IntegrityMode::Cc => 2,
            IntegrityMode::Ds => 3,
        }
    }
    /// `none`, `RC`, `CC` or `DS`.
    pub fn name(self) -> &'static str {
        match self {
            IntegrityMode::None => "none",
            IntegrityMode::Rc => "RC",
            IntegrityMode::Cc => "CC",
            IntegrityMode::Ds => "DS",
        }
    }
}

/// SPI byte 2 b2b1: whether a Proof of Receipt is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PorRequest {
    /// `00`: no PoR.
    None,
    /// `01`: PoR required.
    Always,
    /// `10`: PoR only on error.
    OnError,
    /// `11`: reserved.
    Reserved,
}

impl PorRequest {
    /// From the two-bit value.
    pub fn from_bits(b: u8) -> Self {
        match b & 3 {
            0 => PorRequest::None,
            1 => PorRequest::Always,
            2 => PorRequest::OnError,
            _ => PorRequest::Reserved,
        }
    }
    /// The two-bit value.
    pub fn bits(self) -> u8 {
        match self {
            PorRequest::None => 0,
            PorRequest::Always => 1,
            PorRequest::OnError => 2,
            PorRequest::Reserved => 3,
        }
    }
    /// A short description.
    pub fn name(self) -> &'static str {
        match self {
            PorRequest::None => "no PoR",
            PorRequest::Always => "PoR required",
            PorRequest::OnError => "PoR on error only",
            PorRequest::Reserved => "reserved",
        }
    }
}

/// SPI byte 2 b6 (TS 31.115 §4.2): how the PoR travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PorTransport {
    /// 0: in the SMS-DELIVER-REPORT (as ENVELOPE response data).
    DeliverReport,
    /// 1: in an SMS-SUBMIT (proactive SEND SHORT MESSAGE).
    Submit,
}

/// Both SPI bytes, decoded (TS 102 225 §5.1.1, TS 31.115 §4.2).
///
/// `reserved1` holds SPI1 b8..b6 and `reserved2` SPI2 b8b7 (already shifted down), so that
/// `Spi::from_bytes(b).to_bytes() == b` for every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Spi {
    /// SPI1 b5b4.
    pub counter: CounterMode,
    /// SPI1 b3: the secured data is ciphered.
    pub ciphering: bool,
    /// SPI1 b2b1.
    pub integrity: IntegrityMode,
    /// SPI1 b8..b6 (reserved, normally 0).
    pub reserved1: u8,
    /// SPI2 b2b1.
    pub por: PorRequest,
    /// SPI2 b4b3: RC/CC/DS on the PoR.
    pub por_integrity: IntegrityMode,
    /// SPI2 b5: the PoR shall be ciphered.
    pub por_ciphering: bool,
    /// SPI2 b6.
    pub por_transport: PorTransport,
    /// SPI2 b8b7 (reserved, normally 0).
    pub reserved2: u8,
}

impl Spi {
    /// Decode both bytes; every value is accepted.
    pub fn from_bytes(b: [u8; 2]) -> Self {
        let (s1, s2) = (b[0], b[1]);
        Spi {
            counter: CounterMode::from_bits(s1 >> 3),
            ciphering: s1 & 0x04 != 0,
            integrity: IntegrityMode::from_bits(s1),
            reserved1: s1 >> 5,
            por: PorRequest::from_bits(s2),
            por_integrity: IntegrityMode::from_bits(s2 >> 2),
            por_ciphering: s2 & 0x10 != 0,
            por_transport: if s2 & 0x20 != 0 {
                PorTransport::Submit
            } else {
                PorTransport::DeliverReport
            },
            reserved2: s2 >> 6,
        }
    }

    /// Encode both bytes.
    pub fn to_bytes(self) -> [u8; 2] {
        let s1 = (self.reserved1 & 7) << 5
            | self.counter.bits() << 3
            | u8::from(self.ciphering) << 2
            | self.integrity.bits();
        let s2 = (self.reserved2 & 3) << 6
            | u8::from(self.por_transport == PorTransport::Submit) << 5
            | u8::from(self.por_ciphering) << 4
            | self.por_integrity.bits() << 2
            | self.por.bits();
        [s1, s2]
    }

    /// The 16-bit value, SPI1 in the high byte (`0x1619`).
    pub fn to_u16(self) -> u16 {
        u16::from_be_bytes(self.to_bytes())
    }

    /// From the 16-bit value, SPI1 in the high byte.
    pub fn from_u16(v: u16) -> Self {
        Spi::from_bytes(v.to_be_bytes())
    }

    /// Whether SPI byte 1 meets a Minimum Security Level coded like SPI byte 1 (TS 102 225
    /// §5.1.1 / TS 102 226 MSL; spec digest A.2): the RC/CC/DS level (none < RC < CC < DS),
    /// ciphering and the counter mode (00 < 01 < 10 < 11) are compared separately. A packet
    /// that fails gets status 0A "insufficient security level".
    pub fn satisfies_msl(self, msl: u8) -> bool {
        let m = Spi::from_bytes([msl, 0]);
        self.integrity.bits() >= m.integrity.bits()
            && (self.ciphering || !m.ciphering)
            && self.counter.bits() >= m.counter.bits()
    }

    /// The PoR security this SPI requests (SPI2 b5, b4b3).
    pub fn por_security(self) -> crate::response::PorSecurity {
        crate::response::PorSecurity {
            ciphering: self.por_ciphering,
            integrity: self.por_integrity,
        }
    }
}

impl fmt::Display for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.to_bytes();
        write!(
            f,
            "{a:02X}{b:02X} ({}; {}; {}; {}, PoR {} {}{}{})",
            self.counter.name(),
            if self.ciphering {
                "ciphered"
            } else {
                "not ciphered"
            },
            match self.integrity {
                IntegrityMode::None => "no RC/CC/DS",
                IntegrityMode::Rc => "RC",
                IntegrityMode::Cc => "CC",
                IntegrityMode::Ds => "DS",
            },
            self.por.name(),
            self.por_integrity.name(),
            if self.por_ciphering {
                "ciphered"
            } else {
                "not ciphered"
            },
            match self.por_transport {
                PorTransport::DeliverReport => ", via SMS-DELIVER-REPORT",
                PorTransport::Submit => ", via SMS-SUBMIT",
            },
            if self.reserved1 != 0 || self.reserved2 != 0 {
                ", reserved bits set"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips() {
        for v in 0..=u16::MAX {
            assert_eq!(Spi::from_u16(v).to_u16(), v);
        }
    }

    #[test]
    fn msl() {
        let s = Spi::from_u16(0x1619);
        assert!(s.satisfies_msl(0x06));
        assert!(s.satisfies_msl(0x16));
        assert!(!s.satisfies_msl(0x1E));
        assert!(!Spi::from_u16(0x0219).satisfies_msl(0x06));
        assert!(!Spi::from_u16(0x0519).satisfies_msl(0x06));
        assert!(Spi::from_u16(0x0000).satisfies_msl(0x00));
    }

    #[test]
    fn decodes_real_card_values() {
        let s = Spi::from_u16(0x1639);
        assert_eq!(s.counter, CounterMode::Higher);
        assert!(s.ciphering);
        assert_eq!(s.integrity, IntegrityMode::Cc);
        assert_eq!(s.por, PorRequest::Always);
        assert_eq!(s.por_integrity, IntegrityMode::Cc);
        assert!(s.por_ciphering);
        assert_eq!(s.por_transport, PorTransport::Submit);
        let s = Spi::from_u16(0xE0C0);
        assert_eq!((s.reserved1, s.reserved2), (7, 3));
    }
}
