//! CLA byte decoding per ETSI TS 102 221 §10.1.1 (and ISO/IEC 7816-4 §5.4.1).

use std::fmt;

/// Which family a CLA byte belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    /// `0X`: first interindustry values (channels 0–3).
    Interindustry,
    /// `4X`–`7X`: further interindustry values (channels 4–19).
    InterindustryFurther,
    /// `8X`: proprietary (TS 102 221 UICC-specific commands), coded like `0X`.
    Proprietary,
    /// `CX`/`EX` (and `DX`/`FX` except `FF`): proprietary, coded like `4X`.
    ProprietaryFurther,
    /// `A0`: GSM SIM class (TS 51.011).
    Gsm,
    /// `FF`: reserved for PPS (ISO/IEC 7816-3), never a valid CLA.
    Invalid,
    /// Any other value (`9X`, `AX` other than `A0`, `BX`): reserved for future use.
    Reserved,
}

/// Secure messaging indication carried in the class byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureMessaging {
    /// No secure messaging.
    None,
    /// Proprietary secure messaging format (`0X`, b4b3 = 01).
    Proprietary,
    /// ISO 7816-4 SM, command header not processed (`0X` b4b3 = 10, or `4X` b6 = 1).
    IsoHeaderNotAuthenticated,
    /// ISO 7816-4 SM, command header authenticated (`0X` b4b3 = 11).
    IsoHeaderAuthenticated,
}

/// A decoded class byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// The raw byte.
    pub raw: u8,
    /// Its family.
    pub kind: ClassKind,
    /// Logical channel number 0–19 (0 for GSM/invalid/reserved).
    pub channel: u8,
    /// Secure messaging indication.
    pub sm: SecureMessaging,
    /// Command chaining bit (b5 of `0X`, `4X` … families); "more commands follow".
    pub chaining: bool,
}

impl Class {
    /// Decode a CLA byte.
    pub fn decode(raw: u8) -> Class {
        let first = |kind| Class {
            raw,
            kind,
            channel: raw & 0x03,
            sm: match (raw >> 2) & 3 {
                0 => SecureMessaging::None,
                1 => SecureMessaging::Proprietary,
                2 => SecureMessaging::IsoHeaderNotAuthenticated,
                _ => SecureMessaging::IsoHeaderAuthenticated,
            },
            chaining: raw & 0x10 != 0,
        };
        let further = |kind| Class {
            raw,
            kind,
            channel: 4 + (raw & 0x0F),
            sm: if raw & 0x20 != 0 {
                SecureMessaging::IsoHeaderNotAuthenticated
            } else {
                SecureMessaging::None
            },
            chaining: raw & 0x10 != 0,
        };
        let other = |kind| Class {
            raw,
            kind,
            channel: 0,
            sm: SecureMessaging::None,
            chaining: false,
        };
        match raw {
            0xFF => other(ClassKind::Invalid),
            0xA0 => other(ClassKind::Gsm),
            0x00..=0x1F => first(ClassKind::Interindustry),
            0x20..=0x3F => other(ClassKind::Reserved),
            0x40..=0x7F => further(ClassKind::InterindustryFurther),
            0x80..=0x8F => first(ClassKind::Proprietary),
            0xC0..=0xFE => further(ClassKind::ProprietaryFurther),
            _ => other(ClassKind::Reserved),
        }
    }

    /// True for the families that carry a logical channel number.
    pub fn has_channel(&self) -> bool {
        matches!(
            self.kind,
            ClassKind::Interindustry
                | ClassKind::InterindustryFurther
                | ClassKind::Proprietary
                | ClassKind::ProprietaryFurther
        )
    }

    /// True for the proprietary (TS 102 221 `8X`/`CX`/`EX`) families.
    pub fn is_proprietary(&self) -> bool {
        matches!(
            self.kind,
            ClassKind::Proprietary | ClassKind::ProprietaryFurther
        )
    }

    /// Encode a class byte of the interindustry (`proprietary = false`) or proprietary family
    /// for `channel` (0–19), without secure messaging or chaining.
    pub fn for_channel(channel: u8, proprietary: bool) -> Option<u8> {
        let base = match (channel, proprietary) {
            (0..=3, false) => channel,
            (0..=3, true) => 0x80 | channel,
            (4..=19, false) => 0x40 | (channel - 4),
            (4..=19, true) => 0xC0 | (channel - 4),
            _ => return None,
        };
        Some(base)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = match self.kind {
            ClassKind::Interindustry | ClassKind::InterindustryFurther => "interindustry",
            ClassKind::Proprietary | ClassKind::ProprietaryFurther => {
                "proprietary (TS 102 221 / GlobalPlatform)"
            }
            ClassKind::Gsm => return write!(f, "GSM SIM class (TS 51.011)"),
            ClassKind::Invalid => return write!(f, "invalid (FF is reserved for PPS)"),
            ClassKind::Reserved => return write!(f, "reserved for future use"),
        };
        write!(f, "{family}, logical channel {}", self.channel)?;
        match self.sm {
            SecureMessaging::None => write!(f, ", no secure messaging")?,
            SecureMessaging::Proprietary => write!(f, ", proprietary secure messaging")?,
            SecureMessaging::IsoHeaderNotAuthenticated => {
                write!(f, ", ISO secure messaging (header not authenticated)")?
            }
            SecureMessaging::IsoHeaderAuthenticated => {
                write!(f, ", ISO secure messaging (header authenticated)")?
            }
        }
        if self.chaining {
            write!(f, ", command chaining")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_channels() {
        assert_eq!(Class::decode(0x00).channel, 0);
        assert_eq!(Class::decode(0x03).channel, 3);
        assert_eq!(Class::decode(0x40).channel, 4);
        assert_eq!(Class::decode(0x4F).channel, 19);
        assert_eq!(Class::decode(0x81).kind, ClassKind::Proprietary);
        assert_eq!(Class::decode(0x81).channel, 1);
        assert_eq!(Class::decode(0xC2).channel, 6);
        assert_eq!(Class::decode(0xE0).kind, ClassKind::ProprietaryFurther);
        assert_eq!(
            Class::decode(0xE0).sm,
            SecureMessaging::IsoHeaderNotAuthenticated
        );
        assert_eq!(
            Class::decode(0x60).sm,
            SecureMessaging::IsoHeaderNotAuthenticated
        );
        assert_eq!(Class::decode(0xA0).kind, ClassKind::Gsm);
        assert_eq!(Class::decode(0xFF).kind, ClassKind::Invalid);
        assert_eq!(
            Class::decode(0x0C).sm,
            SecureMessaging::IsoHeaderAuthenticated
        );
        assert!(Class::decode(0x10).chaining);
    }

    #[test]
    fn encode_for_channel() {
        for ch in 0..20 {
            for p in [false, true] {
                let c = Class::decode(Class::for_channel(ch, p).unwrap());
                assert_eq!((c.channel, c.is_proprietary()), (ch, p));
            }
        }
        assert_eq!(Class::for_channel(20, false), None);
    }
}
