//! Status words and their meanings: ISO/IEC 7816-4 §5.6, ETSI TS 102 221 §10.2,
//! 3GPP TS 31.102 §7.3, GlobalPlatform Card Specification §11.1.3 and GSM TS 51.011 §9.4.

use std::fmt;

/// SW1 SW2 as one big-endian number (`0x9000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct StatusWord(pub u16);

impl From<u16> for StatusWord {
    fn from(v: u16) -> Self {
        StatusWord(v)
    }
}

impl StatusWord {
    /// `9000` normal ending.
    pub const OK: StatusWord = StatusWord(0x9000);

    /// Build from SW1 and SW2.
    pub const fn new(sw1: u8, sw2: u8) -> Self {
        StatusWord((sw1 as u16) << 8 | sw2 as u16)
    }
    /// SW1.
    pub const fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }
    /// SW2.
    pub const fn sw2(self) -> u8 {
        self.0 as u8
    }
    /// `[SW1, SW2]`.
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
    /// True for `9000` and the "normal processing" families `61xx`, `91xx`, `92xx` (TS 102 221
    /// §10.2.1.1) and `9Fxx` (GSM).
    pub fn is_success(self) -> bool {
        matches!(self.sw1(), 0x90 | 0x61 | 0x91 | 0x92 | 0x9F)
    }
    /// True for warnings (`62xx`, `63xx`), whose data may still be meaningful.
    pub fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62 | 0x63)
    }

    /// A human meaning, with the parameter of `61xx`/`6Cxx`/`91xx`/`9Fxx`/`63Cx` filled in.
    pub fn meaning(self) -> String {
        let (sw1, sw2) = (self.sw1(), self.sw2());
        match sw1 {
            0x61 => return format!("Normal processing, {sw2} response bytes still available (GET RESPONSE)"),
            0x6C => return format!("Wrong length Le: exact length is {sw2}"),
            0x91 => return format!("Normal ending, proactive command of {sw2} bytes pending (FETCH)"),
            0x92 if sw2 & 0xF0 == 0 => return format!("Normal ending after {} internal retries", sw2 & 0x0F),
            0x9F => return format!("GSM: {sw2} response bytes available (GET RESPONSE)"),
            0x9E => return format!("GSM: SIM data download error, {sw2} response bytes available"),
            0x63 if sw2 & 0xF0 == 0xC0 => {
                return format!("Verification failed, {} retries left", sw2 & 0x0F)
            }
            0x67 if sw2 != 0 => return format!("Wrong length (parameter {sw2:02X})"),
            _ => {}
        }
        if let Some(m) = fixed_meaning(self.0) {
            return m.to_string();
        }
        match sw1 {
            0x62 => "Warning: state of non-volatile memory unchanged".into(),
            0x63 => "Warning: state of non-volatile memory changed".into(),
            0x64 => "Execution error: state of non-volatile memory unchanged".into(),
            0x65 => "Execution error: state of non-volatile memory changed".into(),
            0x66 => "Security-related issue".into(),
            0x68 => "Functions in CLA not supported".into(),
            0x69 => "Command not allowed".into(),
            0x6A => "Wrong parameters P1-P2".into(),
            0x98 => "Security management (TS 102 221)".into(),
            _ => "Unknown status word".into(),
        }
    }
}

/// Meanings of fully specified status words.
fn fixed_meaning(sw: u16) -> Option<&'static str> {
    Some(match sw {
        0x9000 => "Normal processing",
        0x9300 => "SIM Application Toolkit busy, command cannot be executed at present",
        0x6200 => "Warning: no information given, state of non-volatile memory unchanged",
        0x6281 => "Warning: part of returned data may be corrupted",
        0x6282 => "Warning: end of file/record reached before reading Le bytes",
        0x6283 => "Warning: selected file invalidated",
        0x6284 => "Warning: selected file in termination state",
        0x6285 => "Warning: selected file in termination state",
        0x62F1 => "Warning: more data available",
        0x62F2 => "Warning: more data available and proactive command pending",
        0x62F3 => "Warning: response data available",
        0x63F1 => "Warning: more data expected",
        0x63F2 => "Warning: more data expected and proactive command pending",
        0x6300 => "Warning: no information given, state of non-volatile memory changed",
        0x6381 => "Warning: file filled up by the last write",
        0x6400 => "Execution error: no information given, memory unchanged",
        0x6500 => "Execution error: no information given, memory changed",
        0x6581 => "Memory problem",
        0x6700 => "Wrong length",
        0x6800 => "Functions in CLA not supported",
        0x6881 => "Logical channel not supported",
        0x6882 => "Secure messaging not supported",
        0x6883 => "Last command of the chain expected",
        0x6884 => "Command chaining not supported",
        0x6900 => "Command not allowed, no information given",
        0x6981 => "Command incompatible with file structure",
        0x6982 => "Security status not satisfied",
        0x6983 => "Authentication/PIN method blocked",
        0x6984 => "Referenced data invalidated",
        0x6985 => "Conditions of use not satisfied",
        0x6986 => "Command not allowed (no EF selected)",
        0x6987 => "Expected secure messaging data objects missing",
        0x6988 => "Incorrect secure messaging data objects",
        0x6989 => "Secure channel: security not satisfied",
        0x6999 => "Applet selection failed",
        0x6A80 => "Incorrect parameters in the data field",
        0x6A81 => "Function not supported",
        0x6A82 => "File or application not found",
        0x6A83 => "Record not found",
        0x6A84 => "Not enough memory space in the file",
        0x6A85 => "Lc inconsistent with TLV structure",
        0x6A86 => "Incorrect parameters P1-P2",
        0x6A87 => "Lc inconsistent with P1-P2",
        0x6A88 => "Referenced data not found",
        0x6A89 => "File already exists",
        0x6A8A => "DF name already exists",
        0x6B00 => "Wrong parameters P1-P2 (out of range)",
        0x6D00 => "Instruction code not supported or invalid",
        0x6E00 => "Class not supported",
        0x6F00 => "Technical problem, no precise diagnosis",
        0x9850 => "INCREASE cannot be performed, maximum value reached",
        0x9862 => "Authentication error, application specific (MAC failure)",
        0x9863 => "Security session or association expired",
        0x9864 => "Minimum UICC suspension time is too long",
        0x9400 => "GSM: no EF selected",
        0x9402 => "GSM: out of range (invalid address)",
        0x9404 => "GSM: file ID not found / pattern not found",
        0x9408 => "GSM: file inconsistent with command",
        0x9802 => "GSM: no CHV initialized",
        0x9804 => "GSM: access condition not fulfilled / authentication failed",
        0x9808 => "GSM: in contradiction with CHV status",
        0x9810 => "GSM: in contradiction with invalidation status",
        0x9840 => "GSM: CHV blocked / unblock CHV failed",
        0x9865 => "Key freshness failure",
        0x6A8B => "GlobalPlatform: referenced data not found (key)",
        0x6A8F => "GlobalPlatform: invalid key check value",
        0x6D01 => "Instruction not supported",
        0x9484 => "GlobalPlatform: algorithm not supported",
        0x9485 => "GlobalPlatform: invalid key check value",
        _ => return None,
    })
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameterised_meanings() {
        assert!(StatusWord(0x6110).meaning().contains("16 response bytes"));
        assert!(StatusWord(0x6C1C).meaning().contains("exact length is 28"));
        assert!(StatusWord(0x911A).meaning().contains("26 bytes"));
        assert!(StatusWord(0x63C2).meaning().contains("2 retries"));
        assert!(StatusWord(0x9F22).meaning().contains("34 response bytes"));
        assert_eq!(StatusWord(0x9000).meaning(), "Normal processing");
        assert_eq!(StatusWord(0x6982).meaning(), "Security status not satisfied");
        assert!(StatusWord(0x6A99).meaning().contains("Wrong parameters"));
    }

    #[test]
    fn classification() {
        assert!(StatusWord(0x9000).is_success());
        assert!(StatusWord(0x910B).is_success());
        assert!(!StatusWord(0x6A82).is_success());
        assert!(StatusWord(0x6282).is_warning());
    }
}
