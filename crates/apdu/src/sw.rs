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
        match self.sw1() {
            0x90 | 0x61 | 0x91 | 0x9F => true,
            // GSM 9240 is "memory problem", an error.
            0x92 => self.sw2() != 0x40,
            _ => false,
        }
    }
    /// True for warnings (`62xx`, `63xx`), whose data may still be meaningful.
    pub fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62 | 0x63)
    }

    /// Normal processing, warning or error (ISO/IEC 7816-4 §5.6, table 5).
    pub fn category(self) -> SwCategory {
        if self.is_success() {
            SwCategory::Normal
        } else if self.is_warning() {
            SwCategory::Warning
        } else {
            SwCategory::Error
        }
    }

    /// The number carried in SW2 for the parameterised families: `61xx`/`9Fxx`/`9Exx`
    /// (response bytes available), `6Cxx` (exact Le), `91xx` (proactive command length),
    /// `63Cx` (retry counter); `None` for other status words.
    pub fn parameter(self) -> Option<u16> {
        let (sw1, sw2) = (self.sw1(), self.sw2());
        match sw1 {
            0x61 | 0x9F | 0x9E | 0x91 => Some(if sw2 == 0 && sw1 == 0x61 {
                256
            } else {
                sw2 as u16
            }),
            0x6C => Some(if sw2 == 0 { 256 } else { sw2 as u16 }),
            0x63 if sw2 & 0xF0 == 0xC0 => Some((sw2 & 0x0F) as u16),
            _ => None,
        }
    }

    /// A human meaning, with the parameter of `61xx`/`6Cxx`/`91xx`/`9Fxx`/`63Cx` filled in.
    ///
    /// Texts follow ISO/IEC 7816-4 §5.6 wording (as pcsc-tools print them) where ISO defines
    /// the status word, then ETSI TS 102 221 §10.2.1, GlobalPlatform Card Specification §11.1.3
    /// and GSM TS 51.011 §9.4 (the GSM ones are marked `GSM:`, meaningful after CLA `A0`).
    pub fn meaning(self) -> String {
        let (sw1, sw2) = (self.sw1(), self.sw2());
        match sw1 {
            0x61 => {
                let n = if sw2 == 0 { 256 } else { sw2 as u16 };
                return format!(
                    "Normal processing, {n} response bytes still available (GET RESPONSE with Le = {sw2:02X})"
                );
            }
            0x6C => {
                let n = if sw2 == 0 { 256 } else { sw2 as u16 };
                return format!(
                    "Wrong Le field, exact length is {n} (re-issue with Le = {sw2:02X})"
                );
            }
            0x91 => {
                return format!(
                    "Normal ending of the command, proactive command of {sw2} bytes pending (FETCH)"
                )
            }
            0x92 if sw2 & 0xF0 == 0 => {
                return format!(
                    "GSM: command successful after {} internal update retries",
                    sw2 & 0x0F
                )
            }
            0x9F => return format!("GSM: {sw2} response bytes available (GET RESPONSE)"),
            0x9E => return format!("GSM: SIM data download error, {sw2} response bytes available"),
            0x63 if sw2 & 0xF0 == 0xC0 => {
                return format!(
                    "Verification failed, {} retries left (other commands: successful after {} internal retries)",
                    sw2 & 0x0F,
                    sw2 & 0x0F
                )
            }
            _ => {}
        }
        if let Some(m) = fixed_meaning(self.0) {
            return m.to_string();
        }
        match sw1 {
            0x62 => format!("Warning, state of non-volatile memory unchanged (SW2 {sw2:02X})"),
            0x63 => format!("Warning, state of non-volatile memory changed (SW2 {sw2:02X})"),
            0x64 if (0x02..=0x80).contains(&sw2) => {
                format!("Execution error, triggering by the card (SW2 {sw2:02X})")
            }
            0x64 => {
                format!("Execution error, state of non-volatile memory unchanged (SW2 {sw2:02X})")
            }
            0x65 => {
                format!("Execution error, state of non-volatile memory changed (SW2 {sw2:02X})")
            }
            0x66 => format!("Security-related issue (SW2 {sw2:02X})"),
            0x67 => format!("Wrong length (command-dependent parameter {sw2:02X})"),
            0x68 => format!("Functions in CLA not supported (SW2 {sw2:02X})"),
            0x69 => format!("Command not allowed (SW2 {sw2:02X})"),
            0x6A => format!("Wrong parameters P1-P2 (SW2 {sw2:02X})"),
            0x6B => format!("Wrong parameters P1-P2 (SW2 {sw2:02X})"),
            0x6D => format!("Instruction code not supported or invalid (SW2 {sw2:02X})"),
            0x6E => format!("Class not supported (SW2 {sw2:02X})"),
            0x6F => format!("No precise diagnosis (command-dependent SW2 {sw2:02X})"),
            0x92 => format!(
                "Normal ending of the command, data transfer session information (SW2 {sw2:02X})"
            ),
            0x94 => format!("GSM: referencing error (SW2 {sw2:02X})"),
            0x98 => format!("Security management (SW2 {sw2:02X})"),
            _ => format!("Unknown status word {sw1:02X}{sw2:02X}"),
        }
    }
}

/// The three status-word categories of ISO/IEC 7816-4 §5.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SwCategory {
    /// Normal processing (`9000`, `61xx`, `91xx`, `92xx`, `9Fxx`).
    Normal,
    /// Warning processing (`62xx`, `63xx`).
    Warning,
    /// Execution or checking error (everything else).
    Error,
}

impl SwCategory {
    /// `"normal"`, `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SwCategory::Normal => "normal",
            SwCategory::Warning => "warning",
            SwCategory::Error => "error",
        }
    }
}

/// Meanings of fully specified status words.
fn fixed_meaning(sw: u16) -> Option<&'static str> {
    Some(match sw {
        // ISO/IEC 7816-4 §5.6 table 6 and TS 102 221 §10.2.1.
        0x9000 => "Normal processing",
        0x9300 => "SIM Application Toolkit is busy, command cannot be executed at present",
        0x6200 => "Warning, no information given (state of non-volatile memory unchanged)",
        0x6281 => "Part of returned data may be corrupted",
        0x6282 => "End of file or record reached before reading Ne bytes, or unsuccessful search",
        0x6283 => "Selected file deactivated (invalidated)",
        0x6284 => "File control information not formatted according to ISO 7816-4",
        0x6285 => "Selected file in termination state",
        0x6286 => "No input data available from a sensor on the card",
        0x62F1 => "Warning, more data available (TS 102 221)",
        0x62F2 => "Warning, more data available and proactive command pending (TS 102 221)",
        0x62F3 => "Warning, response data available (TS 102 221)",
        0x6300 => "Warning, no information given (state of non-volatile memory changed)",
        0x6310 => "More data available (GlobalPlatform GET STATUS: issue GET STATUS next)",
        0x6381 => "File filled up by the last write",
        0x63F1 => "Warning, more data expected (TS 102 221)",
        0x63F2 => "Warning, more data expected and proactive command pending (TS 102 221)",
        0x6400 => "Execution error, no information given (state of non-volatile memory unchanged)",
        0x6401 => "Immediate response required by the card",
        0x6500 => "Execution error, no information given (state of non-volatile memory changed)",
        0x6581 => "Memory failure",
        0x6600 => "Security-related issue",
        0x6700 => "Wrong length",
        0x6800 => "Functions in CLA not supported",
        0x6881 => "Logical channel not supported",
        0x6882 => "Secure messaging not supported",
        0x6883 => "Last command of the chain expected",
        0x6884 => "Command chaining not supported",
        0x6900 => "Command not allowed, no information given",
        0x6981 => "Command incompatible with file structure",
        0x6982 => "Security status not satisfied",
        0x6983 => "Authentication method blocked",
        0x6984 => "Reference data not usable (referenced data invalidated)",
        0x6985 => "Conditions of use not satisfied",
        0x6986 => "Command not allowed (no current EF)",
        0x6987 => "Expected secure messaging data objects missing",
        0x6988 => "Incorrect secure messaging data objects",
        0x6989 => "Command not allowed, secure channel security not satisfied (TS 102 221)",
        0x6999 => "Applet selection failed (Java Card)",
        0x6A00 => "Wrong parameters P1-P2, no information given",
        0x6A80 => "Incorrect parameters in the command data field",
        0x6A81 => "Function not supported",
        0x6A82 => "File or application not found",
        0x6A83 => "Record not found",
        0x6A84 => "Not enough memory space in the file",
        0x6A85 => "Nc inconsistent with TLV structure",
        0x6A86 => "Incorrect parameters P1-P2",
        0x6A87 => "Nc inconsistent with parameters P1-P2",
        0x6A88 => "Referenced data or reference data not found",
        0x6A89 => "File already exists",
        0x6A8A => "DF name already exists",
        0x6B00 => "Wrong parameters P1-P2",
        0x6D00 => "Instruction code not supported or invalid",
        0x6E00 => "Class not supported",
        0x6F00 => "No precise diagnosis",
        // TS 102 221 §10.2.1.5 security management.
        0x9850 => "INCREASE cannot be performed, maximum value reached",
        0x9862 => "Authentication error, application specific (incorrect MAC)",
        0x9863 => "Security session or association expired",
        0x9864 => "Minimum UICC suspension time is too long",
        0x9865 => "Key freshness failure",
        // GSM TS 51.011 §9.4 (CLA A0).
        0x9240 => "GSM: memory problem",
        0x9400 => "GSM: no EF selected",
        0x9402 => "GSM: out of range (invalid address)",
        0x9404 => "GSM: file ID not found, or pattern not found",
        0x9408 => "GSM: file is inconsistent with the command",
        0x9802 => "GSM: no CHV initialized",
        0x9804 => "GSM: access condition not fulfilled, or authentication failed",
        0x9808 => "GSM: in contradiction with CHV status",
        0x9810 => "GSM: in contradiction with invalidation status",
        0x9840 => "GSM: CHV blocked, or unsuccessful CHV unblock (no attempt left)",
        // GlobalPlatform Card Specification §11.1.3 / 11.8.3.
        0x9484 => "Algorithm not supported (GlobalPlatform)",
        0x9485 => "Invalid key check value (GlobalPlatform)",
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
        assert!(StatusWord(0x6100).meaning().contains("256 response bytes"));
        assert!(StatusWord(0x6C1C).meaning().contains("exact length is 28"));
        assert!(StatusWord(0x911A).meaning().contains("26 bytes"));
        assert!(StatusWord(0x63C2).meaning().contains("2 retries"));
        assert!(StatusWord(0x9F22).meaning().contains("34 response bytes"));
        assert_eq!(StatusWord(0x9000).meaning(), "Normal processing");
        assert_eq!(
            StatusWord(0x6982).meaning(),
            "Security status not satisfied"
        );
        assert!(StatusWord(0x6A99).meaning().contains("Wrong parameters"));
        assert_eq!(StatusWord(0x6110).parameter(), Some(16));
        assert_eq!(StatusWord(0x63C3).parameter(), Some(3));
        assert_eq!(StatusWord(0x9000).parameter(), None);
    }

    #[test]
    fn spec_tables() {
        // TS 102 221 §10.2.1 and GlobalPlatform §11.1.3 entries the transcripts rely on.
        for (sw, text) in [
            (0x62F1, "more data available"),
            (0x62F2, "proactive command pending"),
            (0x63F1, "more data expected"),
            (0x6F00, "No precise diagnosis"),
            (0x9862, "Authentication error"),
            (0x6A88, "Referenced data"),
            (0x6985, "Conditions of use not satisfied"),
            (0x6D00, "Instruction code not supported or invalid"),
            (0x6E00, "Class not supported"),
            (0x6310, "More data available"),
            (0x6A82, "not found"),
            (0x6285, "termination state"),
            (0x9300, "busy"),
        ] {
            let m = StatusWord(sw).meaning();
            assert!(m.contains(text), "{sw:04X}: {m}");
        }
        for sw in 0..=u16::MAX {
            assert!(!StatusWord(sw).meaning().is_empty());
        }
    }

    #[test]
    fn classification() {
        assert!(StatusWord(0x9000).is_success());
        assert!(StatusWord(0x910B).is_success());
        assert!(!StatusWord(0x6A82).is_success());
        assert!(StatusWord(0x6282).is_warning());
        assert!(StatusWord(0x9202).is_success());
        assert_eq!(StatusWord(0x9240).category(), SwCategory::Error);
        assert_eq!(StatusWord(0x63C1).category(), SwCategory::Warning);
        assert_eq!(StatusWord(0x6D00).category().as_str(), "error");
    }
}
