//! The GSM SIM response to SELECT / STATUS (GET RESPONSE data with class `A0`), 3GPP TS 51.011
//! §9.2.1: [`GsmFileInfo::parse`] reads the MF/DF layout (at least 22 bytes) and the EF layout
//! (at least 15 bytes) into typed values; [`GsmFileInfo::fields`] names them for people.

use thiserror::Error;

/// Why bytes are not a TS 51.011 §9.2.1 response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GsmResponseError {
    /// Too few bytes for the layout of this file type.
    #[error("GSM file response: {what} needs {need} bytes, got {got}")]
    TooShort {
        /// Which layout.
        what: &'static str,
        /// Bytes required.
        need: usize,
        /// Bytes present.
        got: usize,
    },
    /// Byte 7 (offset 6) is no known type of file.
    #[error(
        "GSM file response: offset 6: type of file {0:02X} is not 01 (MF), 02 (DF) or 04 (EF)"
    )]
    UnknownType(u8),
}

/// Status of a secret code (bytes 19–22 of a DF response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeStatus {
    /// b8: the code is initialised.
    pub initialised: bool,
    /// b4–b1: false presentations remaining.
    pub attempts_left: u8,
}

impl CodeStatus {
    fn from_byte(b: u8) -> CodeStatus {
        CodeStatus {
            initialised: b & 0x80 != 0,
            attempts_left: b & 0x0F,
        }
    }
}

/// The MF/DF part of §9.2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsmDirInfo {
    /// File ID.
    pub fid: u16,
    /// Type `01` (MF) rather than `02` (DF).
    pub is_mf: bool,
    /// Memory of the directory not allocated to any file (bytes 3–4).
    pub free_memory: u16,
    /// File characteristics (byte 14).
    pub characteristics: u8,
    /// Number of DFs directly under it.
    pub dfs: u8,
    /// Number of EFs directly under it.
    pub efs: u8,
    /// Number of CHVs, UNBLOCK CHVs and administrative codes.
    pub codes: u8,
    /// CHV1, UNBLOCK CHV1, CHV2, UNBLOCK CHV2 status (bytes 19–22).
    pub chv: [CodeStatus; 4],
}

/// Structure of an EF (byte 14 of an EF response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GsmEfStructure {
    /// `00` transparent.
    Transparent,
    /// `01` linear fixed.
    LinearFixed,
    /// `03` cyclic.
    Cyclic,
    /// Any other value.
    Unknown(u8),
}

/// The EF part of §9.2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsmEfInfo {
    /// File ID.
    pub fid: u16,
    /// File size (bytes 3–4).
    pub size: u16,
    /// Byte 8 b7 (cyclic EFs): INCREASE allowed.
    pub increase_allowed: bool,
    /// Access condition levels: READ/SEEK, UPDATE, INCREASE, REHABILITATE, INVALIDATE.
    pub access: [u8; 5],
    /// File status b1 = 0.
    pub invalidated: bool,
    /// File status b3: readable and updatable when invalidated.
    pub usable_when_invalidated: bool,
    /// Structure.
    pub structure: GsmEfStructure,
    /// Record length (record EFs; 0 otherwise).
    pub record_len: u8,
}

/// A parsed §9.2.1 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GsmFileInfo {
    /// The MF or a DF.
    Dir(GsmDirInfo),
    /// An EF.
    Ef(GsmEfInfo),
}

/// The name of an access condition level (§9.3).
pub fn access_level_name(level: u8) -> &'static str {
    match level & 0x0F {
        0x0 => "ALW",
        0x1 => "CHV1",
        0x2 => "CHV2",
        0x3 => "RFU",
        0xF => "NEV",
        _ => "ADM",
    }
}

impl GsmFileInfo {
    /// Parse GET RESPONSE data of a GSM SELECT or STATUS.
    pub fn parse(b: &[u8]) -> Result<GsmFileInfo, GsmResponseError> {
        let ty = *b.get(6).ok_or(GsmResponseError::TooShort {
            what: "a file response",
            need: 7,
            got: b.len(),
        })?;
        let need = |what, need: usize| {
            if b.len() < need {
                Err(GsmResponseError::TooShort {
                    what,
                    need,
                    got: b.len(),
                })
            } else {
                Ok(())
            }
        };
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        match ty {
            0x01 | 0x02 => {
                need("an MF/DF response", 22)?;
                Ok(GsmFileInfo::Dir(GsmDirInfo {
                    fid: u16_at(4),
                    is_mf: ty == 0x01,
                    free_memory: u16_at(2),
                    characteristics: b[13],
                    dfs: b[14],
                    efs: b[15],
                    codes: b[16],
                    chv: [18, 19, 20, 21].map(|i| CodeStatus::from_byte(b[i])),
                }))
            }
            0x04 => {
                need("an EF response", 15)?;
                Ok(GsmFileInfo::Ef(GsmEfInfo {
                    fid: u16_at(4),
                    size: u16_at(2),
                    increase_allowed: b[7] & 0x40 != 0,
                    access: [b[8] >> 4, b[8] & 0x0F, b[9] >> 4, b[10] >> 4, b[10] & 0x0F],
                    invalidated: b[11] & 0x01 == 0,
                    usable_when_invalidated: b[11] & 0x04 != 0,
                    structure: match b[13] {
                        0x00 => GsmEfStructure::Transparent,
                        0x01 => GsmEfStructure::LinearFixed,
                        0x03 => GsmEfStructure::Cyclic,
                        x => GsmEfStructure::Unknown(x),
                    },
                    record_len: b[14],
                }))
            }
            t => Err(GsmResponseError::UnknownType(t)),
        }
    }

    /// Named fields for display, in layout order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let code = |c: &CodeStatus| {
            if c.initialised {
                format!("{} attempts left", c.attempts_left)
            } else {
                "not initialised".to_string()
            }
        };
        match self {
            GsmFileInfo::Dir(d) => vec![
                ("type", if d.is_mf { "MF" } else { "DF" }.to_string()),
                ("file_id", format!("{:04X}", d.fid)),
                ("free_memory", d.free_memory.to_string()),
                (
                    "characteristics",
                    format!(
                        "{:02X} (clock stop {}allowed, CHV1 {})",
                        d.characteristics,
                        if d.characteristics & 0x01 != 0 {
                            ""
                        } else {
                            "not "
                        },
                        if d.characteristics & 0x80 != 0 {
                            "disabled"
                        } else {
                            "enabled"
                        }
                    ),
                ),
                ("child_dfs", d.dfs.to_string()),
                ("child_efs", d.efs.to_string()),
                ("codes", d.codes.to_string()),
                ("chv1", code(&d.chv[0])),
                ("unblock_chv1", code(&d.chv[1])),
                ("chv2", code(&d.chv[2])),
                ("unblock_chv2", code(&d.chv[3])),
            ],
            GsmFileInfo::Ef(e) => {
                let ac = |i: usize| {
                    let l = e.access[i];
                    format!("{l:X} {}", access_level_name(l))
                };
                let mut v = vec![
                    ("type", "EF".to_string()),
                    ("file_id", format!("{:04X}", e.fid)),
                    (
                        "structure",
                        match e.structure {
                            GsmEfStructure::Transparent => "transparent".to_string(),
                            GsmEfStructure::LinearFixed => "linear fixed".to_string(),
                            GsmEfStructure::Cyclic => "cyclic".to_string(),
                            GsmEfStructure::Unknown(x) => format!("unknown {x:02X}"),
                        },
                    ),
                    ("size", format!("{} bytes", e.size)),
                ];
                if e.record_len > 0 && e.structure != GsmEfStructure::Transparent {
                    v.push(("record_len", e.record_len.to_string()));
                }
                v.extend([
                    ("read_seek", ac(0)),
                    ("update", ac(1)),
                    ("increase", ac(2)),
                    ("rehabilitate", ac(3)),
                    ("invalidate", ac(4)),
                    (
                        "status",
                        if e.invalidated {
                            "invalidated"
                        } else {
                            "not invalidated"
                        }
                        .to_string(),
                    ),
                ]);
                if e.structure == GsmEfStructure::Cyclic {
                    v.push(("increase_allowed", e.increase_allowed.to_string()));
                }
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::decode;

    #[test]
    fn real_card_df_gsm() {
        // sysmoISIM-SJA2 DF.GSM (pySim docs/smpp-ota-tool.rst).
        let b = decode("0000ffff7f2002000000000009b106350400838a838a").unwrap();
        let GsmFileInfo::Dir(d) = GsmFileInfo::parse(&b).unwrap() else {
            panic!("not a DF")
        };
        assert_eq!((d.fid, d.is_mf, d.free_memory), (0x7F20, false, 0xFFFF));
        assert_eq!((d.dfs, d.efs, d.codes), (6, 0x35, 4));
        assert_eq!(d.chv[0].attempts_left, 3);
        assert_eq!(d.chv[1].attempts_left, 10);
        let f = GsmFileInfo::Dir(d).fields();
        assert!(f.contains(&(
            "characteristics",
            "B1 (clock stop allowed, CHV1 disabled)".into()
        )));
    }

    #[test]
    fn ef_and_errors() {
        let b = decode("000000096F0704001AFFAA01020000").unwrap();
        let GsmFileInfo::Ef(e) = GsmFileInfo::parse(&b).unwrap() else {
            panic!("not an EF")
        };
        assert_eq!((e.fid, e.size), (0x6F07, 9));
        assert_eq!(e.access, [1, 0xA, 0xF, 0xA, 0xA]);
        assert_eq!(e.structure, GsmEfStructure::Transparent);
        assert!(!e.invalidated);
        let f = GsmFileInfo::Ef(e).fields();
        assert!(f.contains(&("read_seek", "1 CHV1".into())));
        assert!(f.contains(&("update", "A ADM".into())));
        assert_eq!(
            GsmFileInfo::parse(&b[..14]),
            Err(GsmResponseError::TooShort {
                what: "an EF response",
                need: 15,
                got: 14
            })
        );
        assert_eq!(
            GsmFileInfo::parse(&decode("000000096F0705").unwrap()),
            Err(GsmResponseError::UnknownType(5))
        );
        assert!(GsmFileInfo::parse(&[]).is_err());
        assert!(GsmFileInfo::parse(&decode("0000FFFF3F0001").unwrap()).is_err());
    }
}
