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

/// The short names of the assigned status codes 00–0C, in code order (TS 102 225 §5.1.2
/// table "Response Status Codes", TS 31.115 for 0B/0C): what [`ResponseStatus::short_name`] prints and
/// [`ResponseStatus::parse_name`] reads.
const SHORT_NAMES: [&str; 13] = [
    "ok",
    "rc-cc-ds-failed",
    "cntr-low",
    "cntr-high",
    "cntr-blocked",
    "ciphering-error",
    "undefined-security-error",
    "insufficient-memory",
    "more-time",
    "tar-unknown",
    "insufficient-security-level",
    "via-sms-submit",
    "via-ussd",
];

/// Older spellings [`ResponseStatus::parse_name`] still reads (scripts written before the
/// short names were fixed).
const ALIASES: [(&str, u8); 3] = [
    ("por-ok", 0x00),
    ("security-error", 0x06),
    ("insufficient-security", 0x0A),
];

impl ResponseStatus {
    /// A one-word lower-case name for transcripts, scripts and command lines (`ok`,
    /// `cntr-low`, `tar-unknown`, …; TS 102 225 §5.1.2). Unassigned codes are
    /// `reserved` or `proprietary` (their byte is printed beside the name).
    pub fn short_name(self) -> &'static str {
        match self {
            ResponseStatus::Reserved(_) => "reserved",
            ResponseStatus::Proprietary(_) => "proprietary",
            s => SHORT_NAMES
                .get(usize::from(s.to_byte()))
                .copied()
                .unwrap_or("reserved"),
        }
    }

    /// The status a short name or a byte stands for: a name of [`ResponseStatus::known_names`]
    /// (any case), or the byte in hex (`0A`, `0x0a`; two digits are always hex). `None` for
    /// anything else.
    pub fn parse_name(s: &str) -> Option<Self> {
        let w = s.trim();
        let lower = w.to_ascii_lowercase();
        if let Some(i) = SHORT_NAMES.iter().position(|n| *n == lower) {
            return u8::try_from(i).ok().map(Self::from_byte);
        }
        if let Some((_, b)) = ALIASES.iter().find(|(n, _)| *n == lower) {
            return Some(Self::from_byte(*b));
        }
        let h = lower.strip_prefix("0x").unwrap_or(&lower);
        if h.is_empty() || h.len() > 2 {
            return None;
        }
        u8::from_str_radix(h, 16).ok().map(Self::from_byte)
    }

    /// Every short name [`ResponseStatus::parse_name`] accepts, in code order (00–0C).
    pub fn known_names() -> &'static [&'static str] {
        &SHORT_NAMES
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

    #[test]
    fn short_names_round_trip_and_hex_is_read() {
        for (i, n) in ResponseStatus::known_names().iter().enumerate() {
            let s = ResponseStatus::from_byte(i as u8);
            assert_eq!(s.short_name(), *n);
            assert_eq!(ResponseStatus::parse_name(n), Some(s));
            assert_eq!(ResponseStatus::parse_name(&n.to_uppercase()), Some(s));
        }
        assert_eq!(ResponseStatus::from_byte(0).short_name(), "ok");
        assert_eq!(ResponseStatus::from_byte(2).short_name(), "cntr-low");
        assert_eq!(ResponseStatus::from_byte(0x0D).short_name(), "reserved");
        assert_eq!(ResponseStatus::from_byte(0xC5).short_name(), "proprietary");
        // two digits are hex, with or without 0x
        assert_eq!(
            ResponseStatus::parse_name("10"),
            Some(ResponseStatus::Reserved(0x10))
        );
        assert_eq!(
            ResponseStatus::parse_name("0x0a"),
            Some(ResponseStatus::InsufficientSecurityLevel)
        );
        assert_eq!(
            ResponseStatus::parse_name("security-error"),
            Some(ResponseStatus::UnidentifiedSecurityError)
        );
        for bad in ["", "okay", "123", "0x", "zz"] {
            assert_eq!(ResponseStatus::parse_name(bad), None, "{bad}");
        }
    }
}
