//! Security levels of a secure channel session (GPCS v2.3 §10.6, Table 10-1 of the EXTERNAL
//! AUTHENTICATE P1; Amendment D §7.1.2.1 for R-ENCRYPTION).

use crate::error::GpError;

/// The security level bits of EXTERNAL AUTHENTICATE P1 (GPCS v2.3 Table 11-20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecurityLevel(u8);

impl SecurityLevel {
    /// No secure messaging after authentication (`00`).
    pub const NONE: SecurityLevel = SecurityLevel(0x00);
    /// C-MAC (`01`).
    pub const C_MAC: SecurityLevel = SecurityLevel(0x01);
    /// C-DECRYPTION and C-MAC (`03`).
    pub const C_DEC_C_MAC: SecurityLevel = SecurityLevel(0x03);
    /// C-MAC and R-MAC (`11`).
    pub const C_MAC_R_MAC: SecurityLevel = SecurityLevel(0x11);
    /// C-DECRYPTION, C-MAC and R-MAC (`13`).
    pub const C_DEC_C_MAC_R_MAC: SecurityLevel = SecurityLevel(0x13);
    /// C-DECRYPTION, R-ENCRYPTION, C-MAC and R-MAC (`33`, SCP03 only).
    pub const ALL: SecurityLevel = SecurityLevel(0x33);

    /// Every level a session can be opened at, lowest first.
    pub const EVERY: [SecurityLevel; 6] = [
        Self::NONE,
        Self::C_MAC,
        Self::C_DEC_C_MAC,
        Self::C_MAC_R_MAC,
        Self::C_DEC_C_MAC_R_MAC,
        Self::ALL,
    ];

    /// Check a P1 byte: only the combinations of GPCS Table 11-20 / Amendment D Table 7-5.
    pub fn parse(p1: u8) -> Result<Self, GpError> {
        match p1 {
            0x00 | 0x01 | 0x03 | 0x11 | 0x13 | 0x33 => Ok(SecurityLevel(p1)),
            _ => Err(GpError::BadValue {
                field: "security level (EXTERNAL AUTHENTICATE P1)",
                offset: 2,
                value: p1 as u32,
                reason: "not one of 00 01 03 11 13 33",
            }),
        }
    }

    /// The P1 byte.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Commands carry a C-MAC.
    pub fn c_mac(self) -> bool {
        self.0 & 0x01 != 0
    }

    /// Command data is encrypted.
    pub fn c_dec(self) -> bool {
        self.0 & 0x02 != 0
    }

    /// Responses carry an R-MAC.
    pub fn r_mac(self) -> bool {
        self.0 & 0x10 != 0
    }

    /// Response data is encrypted.
    pub fn r_enc(self) -> bool {
        self.0 & 0x20 != 0
    }

    /// Whether this level gives at least every protection of `min`.
    pub fn covers(self, min: SecurityLevel) -> bool {
        self.0 & min.0 == min.0
    }
}

impl std::fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.c_mac() {
            parts.push("C-MAC");
        }
        if self.c_dec() {
            parts.push("C-DEC");
        }
        if self.r_mac() {
            parts.push("R-MAC");
        }
        if self.r_enc() {
            parts.push("R-ENC");
        }
        if parts.is_empty() {
            parts.push("no SM");
        }
        write!(f, "{:02X} ({})", self.0, parts.join("+"))
    }
}
