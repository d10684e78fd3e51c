//! Mutation classes and what each one requires of a correct card.
//!
//! Every generated case has one *primary* class (it decides the verdict) and may carry
//! *decorations*: variations that a correct card must accept (another originator address,
//! a service-centre address, `0B` instead of `8B`, other TP flags, PoR via SMS-SUBMIT …),
//! so that the primary class is exercised in many surroundings.
//!
//! # The table
//!
//! The checks of the card-side receiver run in this order (issue 5, `uicc::ota_receiver`):
//! header 06 → TAR 09 → MSL 0A → key set 06 → decipher 05 → RC/CC 01 → counter 02/03/04 →
//! executed 00. Each class breaks one thing, so the status it requires is the one of the
//! check that thing fails; where correct cards may differ (spec digest \[CONFLICT\] and
//! \[UNSURE\] points) the set lists every defensible status.
//!
//! | expectation | meaning |
//! |---|---|
//! | `accepted` | PoR status 00 (when the SPI asks for a PoR), the counter stored, the canary EF written |
//! | `executed` | PoR status 00, the counter stored; what the (hostile) script did is not checked |
//! | `rejected [s…]` | PoR status in the set (when the SPI asks for a PoR), no side effect at all |
//! | `refused` | not a valid OTA message for the card: no PoR with status 00, no side effect |
//! | `either` | any answer, but consistent: status 00 ⇔ effects, error ⇒ no side effect |
//!
//! The full table (class → expectation) is printed by [`table_markdown`] and in the README
//! section of the fuzzer; the code is [`Class::expect`].

use std::fmt;

/// What a correct card must do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Status 00 (when a PoR is asked for), counter stored, canary written.
    Accepted,
    /// Status 00, counter stored; the script's own effects are not checked.
    Executed,
    /// One of these PoR statuses (when a PoR is asked for), and no side effect.
    Rejected(&'static [u8]),
    /// Not processed as an OTA command: no status-00 PoR, no side effect.
    Refused,
    /// Anything, as long as the answer and the effects agree.
    Either,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Accepted => f.write_str("accepted (00, counter stored, canary written)"),
            Expect::Executed => f.write_str("executed (00, counter stored)"),
            Expect::Rejected(s) => {
                f.write_str("rejected (")?;
                for (i, b) in s.iter().enumerate() {
                    if i > 0 {
                        f.write_str("/")?;
                    }
                    write!(f, "{b:02X}")?;
                }
                f.write_str(", no side effect)")
            }
            Expect::Refused => f.write_str("refused (no 00 PoR, no side effect)"),
            Expect::Either => f.write_str("either (consistent)"),
        }
    }
}

macro_rules! classes {
    ($( $v:ident => $name:literal, $weight:literal, $destructive:literal, $expect:expr, $doc:literal; )*) => {
        /// A mutation class (see the module table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Class {
            $( #[doc = $doc] $v, )*
        }

        impl Class {
            /// Every class, in table order.
            pub const ALL: &'static [Class] = &[$(Class::$v),*];

            /// The class name, `layer.what`.
            pub fn name(self) -> &'static str {
                match self { $(Class::$v => $name,)* }
            }

            /// Relative weight in a run.
            pub fn weight(self) -> u32 {
                match self { $(Class::$v => $weight,)* }
            }

            /// Whether the class may leave the card unusable (counter at its maximum): used
            /// only where the card can be rebuilt (the emulator).
            pub fn destructive(self) -> bool {
                match self { $(Class::$v => $destructive,)* }
            }

            /// The default expectation (see [`Class::expect`]).
            fn base_expect(self) -> Expect {
                match self { $(Class::$v => $expect,)* }
            }

            /// What the mutation means, one line.
            pub fn doc(self) -> &'static str {
                match self { $(Class::$v => $doc,)* }
            }
        }
    };
}

use Expect::*;

classes! {
    ValidCompact => "valid.compact", 12, false, Accepted,
        "a correct packet: compact RFM script SELECT + UPDATE BINARY of the canary EF";
    ValidExpanded => "valid.expanded", 6, false, Accepted,
        "a correct packet: expanded script (AA, definite length)";
    ValidIndefinite => "valid.expanded-indefinite", 3, false, Accepted,
        "a correct packet: expanded script (AE 80 … 00 00)";
    ValidConcatenated => "valid.concatenated", 4, false, Accepted,
        "a correct packet long enough for 2–3 concatenated SMS";
    ValidPorMode => "valid.por-mode", 6, false, Accepted,
        "a correct packet with another SPI2 (PoR none/always/on error, ciphered, CC, SMS-SUBMIT) or counter mode 11";
    EnvLengthLie => "env.length-lie", 3, false, Refused,
        "the D1 BER length says more or less than the ENVELOPE holds";
    EnvDeviceIds => "env.device-identities", 2, false, Either,
        "device identities other than network → UICC";
    EnvMissingTpdu => "env.missing-tpdu", 2, false, Refused,
        "no SMS TPDU TLV in the ENVELOPE";
    EnvTpduLengthLie => "env.tpdu-length-lie", 3, false, Refused,
        "the SMS TPDU TLV length lies";
    EnvAddress => "env.address", 2, false, Accepted,
        "a service-centre address TLV (06/86) with valid contents";
    EnvExtraTlv => "env.extra-tlv", 2, false, Either,
        "an unknown COMPREHENSION-TLV after the TPDU";
    EnvTruncated => "env.truncated", 2, false, Refused,
        "the ENVELOPE data cut short (all inner lengths now lie)";
    TpduMti => "tpdu.mti", 2, false, Refused,
        "TP-MTI other than SMS-DELIVER";
    TpduNoUdhi => "tpdu.no-udhi", 2, false, Refused,
        "TP-UDHI cleared: the UDH is read as text";
    TpduFlags => "tpdu.flags", 2, false, Accepted,
        "TP-MMS/LP/SRI/RP variations";
    TpduPid => "tpdu.pid", 2, false, Either,
        "TP-PID other than 7F";
    TpduDcs => "tpdu.dcs", 2, false, Either,
        "other 8-bit TP-DCS values (16, F4, F5, F7, 04 …)";
    TpduDcs7bit => "tpdu.dcs-7bit-ucs2", 2, false, Refused,
        "TP-DCS says GSM 7-bit or UCS2";
    TpduUdlLie => "tpdu.udl-lie", 3, false, Refused,
        "TP-UDL says more or less than the TP-UD holds";
    TpduOa => "tpdu.originator", 2, false, Accepted,
        "other valid originator addresses (alphanumeric, long, odd digits)";
    TpduScts => "tpdu.scts", 1, false, Either,
        "a timestamp that is not BCD";
    UdhNoCpi => "udh.no-cpi", 2, false, Refused,
        "no IE 70 (command packet identifier) in the UDH";
    UdhExtraIe => "udh.extra-ie", 2, false, Accepted,
        "other IEs before or after IE 70";
    UdhUdhlLie => "udh.udhl-lie", 3, false, Refused,
        "UDHL says more or less than the UDH holds";
    UdhCpiData => "udh.cpi-with-data", 1, false, Either,
        "IE 70 with a non-empty value";
    ConcatMissing => "concat.missing-segment", 3, false, Refused,
        "one segment of a concatenated packet never arrives";
    ConcatDuplicate => "concat.duplicate-segment", 2, false, Either,
        "a segment arrives twice";
    ConcatOutOfOrder => "concat.out-of-order", 2, false, Either,
        "segments arrive out of order";
    ConcatMixedRef => "concat.mixed-reference", 2, false, Refused,
        "one segment carries another concatenation reference";
    ConcatBadSeq => "concat.bad-sequence", 2, false, Refused,
        "sequence number 0 or above the total";
    ConcatRef16 => "concat.ref16", 2, false, Accepted,
        "concatenation with the 16-bit reference IE 08";
    HdrCplLie => "hdr.cpl-lie", 4, false, Rejected(&[0x06]),
        "CPL says more or less than the packet holds";
    HdrChlLie => "hdr.chl-lie", 4, false, Rejected(&[0x06, 0x05, 0x01]),
        "CHL says another RC/CC length (≥ 13)";
    HdrChlShort => "hdr.chl-short", 2, false, Rejected(&[0x06]),
        "CHL below 13";
    HdrSpi1Reserved => "hdr.spi1-reserved", 2, false, Either,
        "SPI1 reserved bits b8..b6 set";
    HdrSpi2Reserved => "hdr.spi2-reserved", 2, false, Either,
        "SPI2 reserved bits b8b7 set";
    HdrSpiDs => "hdr.spi-ds", 2, false, Rejected(&[0x06, 0x01]),
        "SPI1 asks for a digital signature";
    HdrPorReserved => "hdr.por-reserved", 1, false, Either,
        "SPI2 PoR request 11 (reserved)";
    HdrKicAlg => "hdr.kic-algorithm", 3, false, Rejected(&[0x06, 0x05, 0x01]),
        "KIc codes another algorithm than the key set's (never 0: \"known implicitly\" is valid)";
    HdrKidAlg => "hdr.kid-algorithm", 3, false, Rejected(&[0x06, 0x01]),
        "KID codes another algorithm than the key set's (never 0: \"known implicitly\" is valid)";
    HdrKeyIndex => "hdr.key-index", 3, false, Rejected(&[0x06, 0x05, 0x01]),
        "KIc and KID name another key set version";
    HdrKeyIndexMismatch => "hdr.key-index-mismatch", 2, false, Rejected(&[0x06, 0x05, 0x01]),
        "KIc and KID name different key set versions";
    HdrTarUnknown => "hdr.tar-unknown", 4, false, Rejected(&[0x09]),
        "a TAR no application has";
    HdrBelowMsl => "hdr.below-msl", 2, false, Rejected(&[0x0A]),
        "properly sealed with less security than the TAR's minimum security level";
    HdrDowngrade => "hdr.downgrade", 3, false, Accepted,
        "properly sealed with less security (no ciphering, or no CC); 0A if below the MSL";
    CntrBelow => "cntr.below", 4, false, Rejected(&[0x02]),
        "CNTR below the card's counter";
    CntrEqual => "cntr.equal", 4, false, Rejected(&[0x02, 0x06]),
        "CNTR equal to the card's counter (replay)";
    CntrAbove => "cntr.above", 3, false, Accepted,
        "CNTR well above the card's counter, mode 10";
    CntrFarAboveStrict => "cntr.far-above-mode11", 3, false, Rejected(&[0x03]),
        "CNTR more than one above the card's counter, mode 11";
    CntrMaxStrict => "cntr.max-mode11", 1, false, Rejected(&[0x03]),
        "CNTR at its maximum, mode 11";
    CntrMax => "cntr.max", 1, true, Accepted,
        "CNTR at its maximum FFFFFFFFFF, mode 10 (accepted; blocks the key set)";
    CntrBlocked => "cntr.blocked", 1, true, Rejected(&[0x04]),
        "after CNTR reached its maximum, a further packet (04 blocked)";
    CntrMode01Lower => "cntr.mode01-lower", 2, false, Either,
        "counter mode 01 (no check) with a CNTR below the card's counter";
    CntrMode00 => "cntr.mode00", 2, false, Accepted,
        "counter mode 00 (no counter), any CNTR; the card's counter stays";
    PcntrTooLarge => "pcntr.too-large", 3, false, Rejected(&[0x05, 0x06]),
        "PCNTR larger than the secured data (CC correct over the lie)";
    PcntrStealsData => "pcntr.steals-data", 2, false, Executed,
        "PCNTR larger than the padding but within the data (CC correct over the lie)";
    PcntrUnciphered => "pcntr.unciphered", 1, false, Either,
        "no ciphering, yet PCNTR > 0 with zero padding";
    CryptoWrongMac => "crypto.wrong-mac", 6, false, Rejected(&[0x01]),
        "one bit of the CC flipped before ciphering";
    CryptoWrongKey => "crypto.wrong-key", 4, false, Rejected(&[0x01, 0x05]),
        "ciphered and MACed with another key";
    CryptoMacWrongKey => "crypto.mac-wrong-key", 3, false, Rejected(&[0x01]),
        "correct ciphering, CC with another key";
    CryptoCcFieldShort => "crypto.cc-field-short", 3, false, Rejected(&[0x01, 0x05, 0x06]),
        "CHL says 8 CC bytes but fewer are there (data shifted into the CC)";
    CryptoShortCc => "crypto.short-cc", 2, false, Either,
        "a correct 4-byte CC (CHL 17)";
    CryptoCipherFlagOff => "crypto.cipher-flag-off", 3, false, Rejected(&[0x01, 0x05, 0x06]),
        "ciphered, but the SPI says not ciphered";
    CryptoCipherFlagOn => "crypto.cipher-flag-on", 3, false, Rejected(&[0x01, 0x05, 0x06]),
        "not ciphered, but the SPI says ciphered";
    CryptoUnaligned => "crypto.unaligned", 3, false, Rejected(&[0x05, 0x06]),
        "ciphertext not a whole number of blocks (CPL matching)";
    CryptoBitflip => "crypto.ciphertext-bitflip", 4, false, Rejected(&[0x01, 0x05]),
        "one bit of the ciphertext flipped";
    PayloadRandomApdus => "payload.random-apdus", 5, false, Executed,
        "compact script of random C-APDUs (properly sealed)";
    PayloadP3Lie => "payload.p3-lie", 3, false, Executed,
        "compact script whose P3 lies about the data";
    PayloadExpandedLengthLie => "payload.expanded-length-lie", 3, false, Executed,
        "expanded script with BER length lies";
    PayloadExpandedNested => "payload.expanded-nested", 2, false, Executed,
        "expanded script with nested templates";
    PayloadExpandedHuge => "payload.expanded-huge", 2, false, Executed,
        "expanded script with huge counts and lengths";
    PayloadIndefiniteBroken => "payload.indefinite-broken", 2, false, Executed,
        "AE script without its end-of-contents or with nested 80";
    PayloadEmpty => "payload.empty", 1, false, Executed,
        "no secured data at all";
    PayloadRandomBytes => "payload.random-bytes", 3, false, Executed,
        "random secured data";
}

impl Class {
    /// The expectation in context: `msl` is the TAR's minimum security level (0 = none) and
    /// `spi1` the SPI1 byte the case sent. A packet whose SPI1 is below the MSL gets 0A,
    /// since the MSL check comes before key set, deciphering, RC/CC and counter; only the
    /// header (06) and TAR (09) checks come earlier.
    pub fn expect(self, msl: u8, spi1: u8) -> Expect {
        let below = !ota::Spi::from_bytes([spi1, 0]).satisfies_msl(msl);
        let base = self.base_expect();
        match self {
            Class::HdrCplLie
            | Class::HdrChlLie
            | Class::HdrChlShort
            | Class::HdrSpiDs
            | Class::HdrTarUnknown => base,
            _ if below => match base {
                Refused | Either => base,
                _ => Rejected(&[0x0A]),
            },
            _ => base,
        }
    }

    /// The class with this name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The layer (the part of the name before the dot).
    pub fn layer(self) -> &'static str {
        self.name().split('.').next().unwrap_or("")
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The class → expectation table as Markdown (for the README and `--list-classes`).
pub fn table_markdown() -> String {
    let mut s = String::from("| class | mutation | required outcome |\n|---|---|---|\n");
    for c in Class::ALL {
        s.push_str(&format!(
            "| `{}` | {} | {}{} |\n",
            c.name(),
            c.doc(),
            c.base_expect(),
            if c.destructive() {
                "; emulator only"
            } else {
                ""
            }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unique_and_resolvable() {
        let mut names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        for c in Class::ALL {
            assert_eq!(Class::from_name(c.name()), Some(*c));
            assert!(c.weight() > 0);
        }
        assert!(table_markdown().contains("`crypto.wrong-mac`"));
    }

    #[test]
    fn msl_turns_downgrade_into_0a() {
        assert_eq!(Class::HdrDowngrade.expect(0, 0x12), Accepted);
        assert_eq!(Class::HdrDowngrade.expect(0x06, 0x12), Rejected(&[0x0A]));
        assert_eq!(Class::CryptoWrongMac.expect(0x06, 0x16), Rejected(&[0x01]));
    }
}
