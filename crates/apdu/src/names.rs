//! Human names for the numbers on the card interface: instruction bytes (ISO/IEC 7816-4 §11,
//! ETSI TS 102 221 §10.1.2, 3GPP TS 31.102 §7, GlobalPlatform Card Specification §11, ETSI TS
//! 102 223 / 3GPP TS 31.111 for CAT, GSM TS 51.011 §9.2), P1/P2 meanings where the specs define
//! them, BER-TLV tag names (FCP per TS 102 221 §11.1.1.3, GlobalPlatform §11 and appendix,
//! CAT templates per TS 101 220 §7.2, TS 102 226 remote-management templates) and
//! COMPREHENSION-TLV tag names (TS 102 223 §9.3), device identities (§8.7), proactive command
//! types (§9.4) and general results (§8.12).
//!
//! Everything here is a lookup table: unknown values give `None`, never a guess.

/// The instruction name for `ins` sent with class byte `cla` (and `p1`, which separates the
/// TS 102 221 STATUS from the GlobalPlatform GET STATUS, both `80 F2`).
///
/// The GSM class `A0` uses the TS 51.011 names; proprietary classes (`8X`/`CX`/`EX`) use the
/// TS 102 221 and GlobalPlatform names; interindustry classes use the ISO 7816-4 names.
pub fn ins_name(cla: u8, ins: u8, p1: u8) -> Option<&'static str> {
    let proprietary = cla & 0x80 != 0 && cla != 0xA0 && cla != 0xFF;
    if cla == 0xA0 {
        return gsm_ins_name(ins);
    }
    if proprietary {
        let n = match ins {
            // TS 102 221 §10.1.2 (CLA 8X/CX/EX) and CAT (CLA 80).
            0x10 => "TERMINAL PROFILE",
            0x12 => "FETCH",
            0x14 => "TERMINAL RESPONSE",
            0xC2 => "ENVELOPE",
            0x32 => "INCREASE",
            0x76 => "SUSPEND UICC",
            0x78 => "GET IDENTITY",
            0xAA => "TERMINAL CAPABILITY",
            0xCB => "RETRIEVE DATA",
            0xDB => "SET DATA",
            0xF2 if matches!(p1, 0x00..=0x02) => "STATUS",
            // GlobalPlatform Card Specification §11 (CLA 80/84).
            0xF2 => "GET STATUS",
            0xE6 => "INSTALL",
            0xE8 => "LOAD",
            0xE4 => "DELETE",
            0xF0 => "SET STATUS",
            0xD8 => "PUT KEY",
            0xE2 => "STORE DATA",
            0xCA => "GET DATA",
            0x50 => "INITIALIZE UPDATE",
            0x82 => "EXTERNAL AUTHENTICATE",
            0x7E => "MANAGE SECURITY ENVIRONMENT",
            0x2A => "PERFORM SECURITY OPERATION",
            0x86 => "GENERAL AUTHENTICATE",
            _ => return iso_ins_name(ins),
        };
        return Some(n);
    }
    iso_ins_name(ins)
}

/// Interindustry instruction names (ISO/IEC 7816-4 §11 table 4, with the TS 102 221 names for
/// the PIN and file commands).
fn iso_ins_name(ins: u8) -> Option<&'static str> {
    Some(match ins {
        0x04 => "DEACTIVATE FILE",
        0x0C => "ERASE RECORD",
        0x0E => "ERASE BINARY",
        0x0F => "ERASE BINARY",
        0x20 => "VERIFY PIN",
        0x21 => "VERIFY",
        0x22 => "MANAGE SECURITY ENVIRONMENT",
        0x24 => "CHANGE PIN",
        0x26 => "DISABLE PIN",
        0x28 => "ENABLE PIN",
        0x2A => "PERFORM SECURITY OPERATION",
        0x2C => "UNBLOCK PIN",
        0x44 => "ACTIVATE FILE",
        0x46 => "GENERATE ASYMMETRIC KEY PAIR",
        0x70 => "MANAGE CHANNEL",
        0x73 => "MANAGE SECURE CHANNEL",
        0x75 => "TRANSACT DATA",
        0x82 => "EXTERNAL AUTHENTICATE",
        0x84 => "GET CHALLENGE",
        0x86 => "GENERAL AUTHENTICATE",
        0x87 => "GENERAL AUTHENTICATE",
        0x88 => "AUTHENTICATE",
        0x89 => "AUTHENTICATE",
        0xA0 => "SEARCH BINARY",
        0xA1 => "SEARCH BINARY",
        0xA2 => "SEARCH RECORD",
        0xA4 => "SELECT",
        0xB0 => "READ BINARY",
        0xB1 => "READ BINARY",
        0xB2 => "READ RECORD",
        0xB3 => "READ RECORD",
        0xC0 => "GET RESPONSE",
        0xC2 => "ENVELOPE",
        0xC3 => "ENVELOPE",
        0xCA => "GET DATA",
        0xCB => "GET DATA",
        0xD0 => "WRITE BINARY",
        0xD1 => "WRITE BINARY",
        0xD2 => "WRITE RECORD",
        0xD6 => "UPDATE BINARY",
        0xD7 => "UPDATE BINARY",
        0xDA => "PUT DATA",
        0xDB => "PUT DATA",
        0xDC => "UPDATE RECORD",
        0xDD => "UPDATE RECORD",
        0xE0 => "CREATE FILE",
        0xE2 => "APPEND RECORD",
        0xE4 => "DELETE FILE",
        0xE6 => "TERMINATE DF",
        0xE8 => "TERMINATE EF",
        0xFE => "TERMINATE CARD USAGE",
        _ => return None,
    })
}

/// GSM SIM instruction names (TS 51.011 §9.2, TS 51.014 for the SIM toolkit ones), class `A0`.
fn gsm_ins_name(ins: u8) -> Option<&'static str> {
    Some(match ins {
        0xA4 => "SELECT",
        0xF2 => "STATUS",
        0xB0 => "READ BINARY",
        0xD6 => "UPDATE BINARY",
        0xB2 => "READ RECORD",
        0xDC => "UPDATE RECORD",
        0xA2 => "SEEK",
        0x32 => "INCREASE",
        0x20 => "VERIFY CHV",
        0x24 => "CHANGE CHV",
        0x26 => "DISABLE CHV",
        0x28 => "ENABLE CHV",
        0x2C => "UNBLOCK CHV",
        0x04 => "INVALIDATE",
        0x44 => "REHABILITATE",
        0x88 => "RUN GSM ALGORITHM",
        0xFA => "SLEEP",
        0xC0 => "GET RESPONSE",
        0x10 => "TERMINAL PROFILE",
        0xC2 => "ENVELOPE",
        0x12 => "FETCH",
        0x14 => "TERMINAL RESPONSE",
        _ => return None,
    })
}

/// Meanings of P1 and P2 (each `None` where nothing specific is defined or the value is
/// unknown). `data` is the command data, used where its presence changes the meaning (VERIFY
/// without data is a retry-counter query).
pub fn p1_p2_meaning(
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
) -> (Option<String>, Option<String>) {
    let gsm = cla == 0xA0;
    let name = ins_name(cla, ins, p1).unwrap_or("");
    let s = |x: &str| Some(x.to_string());
    match name {
        "SELECT" if gsm => (None, None),
        "SELECT" => (select_p1(p1), select_p2(p1, p2)),
        "STATUS" if gsm => (None, None),
        "STATUS" => (
            match p1 {
                0x00 => s("no indication"),
                0x01 => s("current application is initialised in the terminal"),
                0x02 => s("terminal will initiate the termination of the current application"),
                _ => None,
            },
            match p2 {
                0x00 => s("return FCP template of the current DF/ADF (as for SELECT)"),
                0x01 => s("return the DF name TLV of the current application"),
                0x0C => s("no data returned"),
                _ => None,
            },
        ),
        "READ BINARY" | "UPDATE BINARY" | "ERASE BINARY" if ins & 1 == 0 => {
            if p1 & 0x80 != 0 {
                (
                    Some(format!("short file identifier (SFI) {:02X}", p1 & 0x1F)),
                    Some(format!("offset {p2}")),
                )
            } else {
                let off = u16::from(p1 & 0x7F) << 8 | u16::from(p2);
                (
                    Some(format!("offset {off} (high byte)")),
                    Some(format!("offset {off} (low byte)")),
                )
            }
        }
        "READ RECORD" | "UPDATE RECORD" if ins & 1 == 0 => {
            let sfi = p2 >> 3;
            let mode = match p2 & 0x07 {
                0x02 => "next record",
                0x03 => "previous record",
                0x04 if p1 == 0 => "current record",
                0x04 => "absolute record number in P1",
                _ => "unknown mode",
            };
            let from = if sfi == 0 {
                "current EF".to_string()
            } else {
                format!("SFI {sfi:02X}")
            };
            let p1m = match p2 & 0x07 {
                0x04 if p1 != 0 => format!("record number {p1}"),
                _ if p1 == 0 => "00".to_string(),
                _ => format!("record number {p1}"),
            };
            (Some(p1m), Some(format!("{mode}, {from}")))
        }
        "SEARCH RECORD" if !gsm => {
            let sfi = p2 >> 3;
            let mode = match p2 & 0x07 {
                0x04 => "simple search forward from record P1",
                0x05 => "simple search backward from record P1",
                0x06 => "enhanced search",
                0x07 => "proprietary search",
                _ => "unknown mode",
            };
            let from = if sfi == 0 {
                "current EF".to_string()
            } else {
                format!("SFI {sfi:02X}")
            };
            (
                Some(format!("record number {p1}")),
                Some(format!("{mode}, {from}")),
            )
        }
        "VERIFY PIN" | "VERIFY CHV" if data.is_empty() => (
            None,
            Some(format!(
                "{}; no data: retry counter query",
                key_reference(p2, gsm)
            )),
        ),
        "VERIFY PIN" | "CHANGE PIN" | "DISABLE PIN" | "ENABLE PIN" | "UNBLOCK PIN"
        | "VERIFY CHV" | "CHANGE CHV" | "DISABLE CHV" | "ENABLE CHV" | "UNBLOCK CHV" => (
            if name == "DISABLE PIN" && p1 != 0 {
                Some(format!("alternative (replacement) key reference {p1:02X}"))
            } else {
                None
            },
            Some(key_reference(p2, gsm)),
        ),
        "DEACTIVATE FILE" | "ACTIVATE FILE" if !gsm => (
            if data.is_empty() {
                s("current file")
            } else {
                select_p1(p1)
            },
            None,
        ),
        "AUTHENTICATE" => (
            None,
            match p2 {
                0x80 => s("GSM security context (TS 31.102 §7.1.2)"),
                0x81 => s("3G security context (TS 31.102 §7.1.2)"),
                0x82 => s("VGCS/VBS security context (TS 31.102 §7.1.2)"),
                0x84 => s("GBA security context (TS 31.102 §7.1.2)"),
                0x85 => s("MBMS security context (TS 31.102 §7.1.2)"),
                0x86 => s("local key establishment (TS 31.102 §7.1.2)"),
                _ => None,
            },
        ),
        "MANAGE CHANNEL" => match p1 {
            0x00 if p2 == 0 => (
                s("open a logical channel"),
                s("channel number assigned by the card"),
            ),
            0x00 => (
                s("open a logical channel"),
                Some(format!("open channel {p2}")),
            ),
            0x80 => (
                s("close a logical channel"),
                Some(format!("close channel {p2}")),
            ),
            _ => (None, None),
        },
        "SUSPEND UICC" => (
            match p1 {
                0x00 => s("suspend the UICC"),
                0x01 => s("resume the UICC"),
                _ => None,
            },
            None,
        ),
        "GET RESPONSE"
        | "FETCH"
        | "ENVELOPE"
        | "TERMINAL PROFILE"
        | "TERMINAL RESPONSE"
        | "GET CHALLENGE"
        | "INCREASE"
        | "TERMINAL CAPABILITY" => (None, None),
        "GET STATUS" => (
            match p1 {
                0x80 => s("Issuer Security Domain"),
                0x40 => s("Applications and Supplementary Security Domains"),
                0x20 => s("Executable Load Files"),
                0x10 => s("Executable Load Files and their Executable Modules"),
                _ => None,
            },
            Some(format!(
                "{}, {}",
                if p2 & 0x01 != 0 {
                    "next occurrence"
                } else {
                    "first or all occurrences"
                },
                if p2 & 0x02 != 0 {
                    "response in TLV format (tag E3)"
                } else {
                    "legacy response format"
                }
            )),
        ),
        "SET STATUS" => (
            match p1 {
                0x80 => s("Issuer Security Domain (card life cycle)"),
                0x40 => s("Application or Supplementary Security Domain"),
                0x60 => s("Security Domain and its associated Applications"),
                _ => None,
            },
            Some(format!("new life cycle state {p2:02X}")),
        ),
        "INSTALL" => (gp_install_p1(p1), None),
        "LOAD" => (
            Some(
                if p1 & 0x80 != 0 {
                    "last block"
                } else {
                    "more blocks follow"
                }
                .to_string(),
            ),
            Some(format!("block number {p2}")),
        ),
        "STORE DATA" => {
            let structure = match (p1 >> 3) & 0x03 {
                0 => "no structure information",
                1 => "DGI format",
                2 => "BER-TLV format",
                _ => "RFU structure",
            };
            let enc = match (p1 >> 5) & 0x03 {
                0 => "no encryption information",
                1 => "application dependent encryption",
                3 => "encrypted data",
                _ => "RFU encryption",
            };
            let last = if p1 & 0x80 != 0 {
                "last block"
            } else {
                "more blocks follow"
            };
            (
                Some(format!("{last}, {enc}, {structure}")),
                Some(format!("block number {p2}")),
            )
        }
        "DELETE" if cla & 0x80 != 0 => (
            // GlobalPlatform Card Specification §11.2.2.1: b8 = 1 means more commands follow.
            if p1 & 0x80 != 0 {
                s("more DELETE commands follow")
            } else {
                s("last (or only) command")
            },
            match p2 {
                0x00 => s("delete object"),
                0x80 => s("delete object and related object"),
                _ => None,
            },
        ),
        "PUT KEY" => (
            Some(format!(
                "{}key version number {:02X}{}",
                if p1 & 0x80 != 0 {
                    "more PUT KEY commands follow, "
                } else {
                    ""
                },
                p1 & 0x7F,
                if p1 & 0x7F == 0 {
                    " (add a new key)"
                } else {
                    ""
                }
            )),
            Some(format!(
                "{}key identifier {:02X}",
                if p2 & 0x80 != 0 {
                    "multiple keys, first "
                } else {
                    "single key, "
                },
                p2 & 0x7F
            )),
        ),
        "INITIALIZE UPDATE" => (
            Some(if p1 == 0 {
                "key version number 00 (first available key set)".to_string()
            } else {
                format!("key version number {p1:02X}")
            }),
            (p2 != 0).then(|| format!("key identifier {p2:02X}")),
        ),
        "EXTERNAL AUTHENTICATE" if cla & 0x80 != 0 => (Some(gp_security_level(p1)), None),
        "GET DATA" | "PUT DATA" if ins & 1 == 0 => {
            let tag = u32::from(p1) << 8 | u32::from(p2);
            let tag = if p1 == 0 { u32::from(p2) } else { tag };
            let n = ber_tag_name(tag, &[]).map(|n| format!("data object {tag:X}: {n}"));
            (n.clone(), n)
        }
        _ => (None, None),
    }
}

/// SELECT P1 (TS 102 221 §11.1.1.2 table 11.2, ISO 7816-4 §11.2.2).
fn select_p1(p1: u8) -> Option<String> {
    Some(
        match p1 {
            0x00 => "select by FID (MF, DF or EF)",
            0x01 => "select child DF by FID",
            0x02 => "select EF under the current DF by FID",
            0x03 => "select parent DF of the current DF",
            0x04 => "select by DF name (AID)",
            0x08 => "select by path from MF",
            0x09 => "select by path from the current DF",
            _ => return None,
        }
        .to_string(),
    )
}

/// SELECT P2 (TS 102 221 §11.1.1.2 table 11.3).
fn select_p2(p1: u8, p2: u8) -> Option<String> {
    let ret = match (p2 >> 2) & 0x07 {
        0b001 => "return FCP template",
        0b011 => "no data returned",
        0b000 => "return FCI template",
        0b010 => "return FMD template",
        _ => return None,
    };
    let mut s = ret.to_string();
    if p1 == 0x04 {
        s.push_str(match p2 & 0x03 {
            0 => ", first or only occurrence",
            1 => ", last occurrence",
            2 => ", next occurrence",
            _ => ", previous occurrence",
        });
        s.push_str(match p2 & 0x60 {
            0x00 => ", activation/reset of the application session",
            0x40 => ", termination of the application session",
            _ => ", RFU session control",
        });
    } else if p2 & 0x63 != 0 {
        return Some(format!("{s} (unexpected bits set in P2 {p2:02X})"));
    }
    Some(s)
}

/// A PIN key reference (P2 of VERIFY/CHANGE/DISABLE/ENABLE/UNBLOCK PIN, TS 102 221 §9.5.1
/// table 9.3; CHV numbers in GSM class `A0`).
pub fn key_reference(p2: u8, gsm: bool) -> String {
    if gsm {
        return match p2 {
            0x01 => "CHV1".into(),
            0x02 => "CHV2".into(),
            _ => format!("CHV number {p2:02X}"),
        };
    }
    match p2 {
        0x01..=0x08 => format!("key reference {p2:02X}: PIN Appl {} (global)", p2),
        0x0A..=0x0E => format!("key reference {p2:02X}: ADM{} (global)", p2 - 0x09),
        0x11 => "key reference 11: Universal PIN".into(),
        0x81..=0x88 => format!(
            "key reference {p2:02X}: second PIN Appl {} (local)",
            p2 - 0x80
        ),
        0x8A..=0x8E => format!("key reference {p2:02X}: ADM{} (local)", p2 - 0x89 + 5),
        0x00 => "key reference 00: none (RFU)".into(),
        _ => format!("key reference {p2:02X}"),
    }
}

/// GlobalPlatform INSTALL P1 (Card Specification §11.5.2.1).
fn gp_install_p1(p1: u8) -> Option<String> {
    let mut parts = Vec::new();
    if p1 & 0x80 != 0 {
        parts.push("more INSTALL commands follow");
    }
    for (bit, what) in [
        (0x02, "for load"),
        (0x04, "for install"),
        (0x08, "for make selectable"),
        (0x10, "for extradition"),
        (0x20, "for personalization"),
        (0x40, "for registry update"),
    ] {
        if p1 & bit != 0 {
            parts.push(what);
        }
    }
    if p1 & 0x01 != 0 {
        parts.push("RFU bit 1 set");
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// GlobalPlatform EXTERNAL AUTHENTICATE P1 security level (SCP02/SCP03).
fn gp_security_level(p1: u8) -> String {
    let mut parts = Vec::new();
    if p1 & 0x01 != 0 {
        parts.push("C-MAC");
    }
    if p1 & 0x02 != 0 {
        parts.push("C-DECRYPTION");
    }
    if p1 & 0x10 != 0 {
        parts.push("R-MAC");
    }
    if p1 & 0x20 != 0 {
        parts.push("R-ENCRYPTION");
    }
    if parts.is_empty() {
        "security level 00: no secure messaging".into()
    } else {
        format!("security level {p1:02X}: {}", parts.join(" + "))
    }
}

/// The name of a BER-TLV tag, given the tags of its ancestors (outermost first), for the
/// contexts this toolkit meets: FCP/FCI (TS 102 221 §11.1.1.3, ISO 7816-4 §5.3.3),
/// GlobalPlatform (registry data `E3`, card data `66`/`73`, key information `E0`), CAT
/// templates `D0`–`DF` (TS 101 220 §7.2) and TS 102 226 scripting templates.
pub fn ber_tag_name(tag: u32, path: &[u32]) -> Option<&'static str> {
    let parent = path.last().copied();
    let grand = path.len().checked_sub(2).and_then(|i| path.get(i)).copied();
    let in_fcp = path.contains(&0x62);
    let ctx = match (parent, grand) {
        (Some(0x62), _) => fcp_tag_name(tag),
        (Some(0xA5), _) if in_fcp => fcp_proprietary_tag_name(tag),
        (Some(0xC6), _) => match tag {
            0x90 => Some("PIN status (PS_DO)"),
            0x95 => Some("Usage qualifier"),
            0x83 => Some("Key reference"),
            _ => None,
        },
        (Some(0x6F), _) => match tag {
            0x84 => Some("DF name (AID)"),
            0xA5 => Some("FCI proprietary template"),
            0x50 => Some("Application label"),
            _ => None,
        },
        (Some(0xA5), Some(0x6F)) => match tag {
            0x73 => Some("Security Domain management data"),
            0x9F6E => Some("Application production life cycle data"),
            0x9F65 => Some("Maximum length of data field in command message"),
            0xBF0C => Some("FCI issuer discretionary data"),
            _ => None,
        },
        (Some(0xE3), _) => match tag {
            0x4F => Some("AID"),
            0x9F70 => Some("Life cycle state"),
            0xC5 => Some("Privileges"),
            0xC4 => Some("Executable Load File AID"),
            0xCE => Some("Executable Load File version number"),
            0x84 => Some("Executable Module AID"),
            0xCC => Some("Associated Security Domain AID"),
            0xCF => Some("Implicit selection parameter"),
            _ => None,
        },
        (Some(0x60 | 0x63 | 0x64 | 0x65 | 0x66 | 0x67 | 0x68), Some(0x73)) => match tag {
            0x06 => Some("Object identifier"),
            _ => None,
        },
        (Some(0x66), _) => match tag {
            0x73 => Some("Card recognition data"),
            _ => None,
        },
        (Some(0x73), Some(0x66)) => match tag {
            0x06 => Some("Object identifier (GlobalPlatform card)"),
            0x60 => Some("Card management type and version"),
            0x63 => Some("Card identification scheme"),
            0x64 => Some("Secure channel protocol and implementation options"),
            0x65 => Some("Card configuration details"),
            0x66 => Some("Card / chip details"),
            0x67 => Some("Issuer Security Domain trust point certificate information"),
            0x68 => Some("Issuer Security Domain certificate information"),
            _ => None,
        },
        (Some(0xE0), _) => match tag {
            0xC0 => Some("Key information data"),
            _ => None,
        },
        (Some(0xAA | 0xAE), _) => match tag {
            0x22 => Some("C-APDU"),
            0x81 => Some("Immediate Action"),
            0x82 => Some("Error Action"),
            0x83 => Some("Script Chaining"),
            _ => None,
        },
        (Some(0xAB | 0xAF), _) => match tag {
            0x80 => Some("Number of executed command TLV objects"),
            0x23 => Some("R-APDU"),
            0x81 => Some("Immediate Action Response"),
            0x83 => Some("Script Chaining Response"),
            0x90 => Some("Bad format"),
            _ => None,
        },
        _ => None,
    };
    // CAT and remote-management templates only mean that at the top level.
    let top_only = is_cat_template(tag) || matches!(tag, 0xAA | 0xAB | 0xAE | 0xAF);
    ctx.or_else(|| {
        if top_only && !path.is_empty() {
            None
        } else {
            top_level_tag_name(tag)
        }
    })
}

/// Tags inside an FCP template `62` (TS 102 221 §11.1.1.3 table 11.4).
fn fcp_tag_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        0x80 => "File size",
        0x81 => "Total file size",
        0x82 => "File descriptor",
        0x83 => "File identifier",
        0x84 => "DF name (AID)",
        0x85 => "Proprietary information",
        0x86 => "Security attributes (proprietary)",
        0x88 => "Short file identifier (SFI)",
        0x8A => "Life cycle status integer (LCSI)",
        0x8B => "Security attributes (referenced to expanded format, EF.ARR)",
        0x8C => "Security attributes (compact format)",
        0xAB => "Security attributes (expanded format)",
        0xA5 => "Proprietary information template",
        0xC6 => "PIN status template DO",
        _ => return None,
    })
}

/// Tags inside the proprietary template `A5` of an FCP (TS 102 221 §11.1.1.4.6, TS 102 222).
fn fcp_proprietary_tag_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        0x80 => "UICC characteristics",
        0x81 => "Application power consumption",
        0x82 => "Minimum application clock frequency",
        0x83 => "Amount of available memory",
        0x84 => "File details",
        0x85 => "Reserved file size",
        0x86 => "Maximum file size",
        0x87 => "Supported system commands",
        0x88 => "Specific UICC environmental conditions",
        0x89 => "Platform to Platform CAT Secured APDU",
        0xC0 => "Special file information",
        0xC1 => "Filling pattern",
        0xC2 => "Repeat pattern",
        _ => return None,
    })
}

/// Tags without a disambiguating parent.
fn top_level_tag_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        // ISO/IEC 7816-4 interindustry templates and objects.
        0x4F => "Application identifier (AID)",
        0x50 => "Application label",
        0x5C => "Tag list",
        0x61 => "Application template",
        0x62 => "FCP template",
        0x64 => "FMD template",
        0x6F => "FCI template",
        0x84 => "DF name (AID)",
        0xA5 => "Proprietary information template",
        // GlobalPlatform.
        0x42 => "Issuer identification number",
        0x45 => "Card image number",
        0x66 => "Card data",
        0xE0 => "Key information template",
        0xE3 => "GlobalPlatform registry related data",
        0x9F70 => "Life cycle state",
        0x9F7F => "Card production life cycle data (CPLC)",
        0xCF => "Key diversification data",
        0xC5 => "Privileges",
        0xCC => "Associated Security Domain AID",
        0x9F6E => "Application production life cycle data",
        0x9F65 => "Maximum length of data field in command message",
        0xC6 => "PIN status template DO",
        // CAT BER-TLV templates (TS 101 220 §7.2, TS 102 223 §9.1).
        0xD0 => "Proactive command",
        0xD1 => "SMS-PP download",
        0xD2 => "Cell Broadcast download",
        0xD3 => "Menu selection",
        0xD4 => "Call control",
        0xD5 => "MO short message control",
        0xD6 => "Event download",
        0xD7 => "Timer expiration",
        0xD9 => "USSD download",
        0xDA => "MMS transfer status",
        0xDB => "MMS notification download",
        0xDC => "Terminal applications",
        0xDD => "Geographical location reporting",
        0xDE => "Envelope container",
        0xDF => "ProSe report",
        // TS 102 226 §5.2 remote management scripting templates.
        0xAA => "Command Scripting template (definite length)",
        0xAB => "Response Scripting template (definite length)",
        0xAE => "Command Scripting template (indefinite length)",
        0xAF => "Response Scripting template (indefinite length)",
        _ => return None,
    })
}

/// Whether a BER tag is one of the CAT templates `D0`–`DF` whose value is a sequence of
/// COMPREHENSION-TLV objects (TS 102 223 §9.1).
pub fn is_cat_template(tag: u32) -> bool {
    (0xD0..=0xDF).contains(&tag)
}

/// The name of a COMPREHENSION-TLV tag value (CR bit removed), TS 102 223 §9.3 and
/// 3GPP TS 31.111 §9.3.
pub fn comp_tag_name(value: u16) -> Option<&'static str> {
    Some(match value {
        0x01 => "Command details",
        0x02 => "Device identities",
        0x03 => "Result",
        0x04 => "Duration",
        0x05 => "Alpha identifier",
        0x06 => "Address",
        0x07 => "Capability configuration parameters",
        0x08 => "Subaddress",
        0x09 => "SS string",
        0x0A => "USSD string",
        0x0B => "SMS TPDU",
        0x0C => "Cell Broadcast page",
        0x0D => "Text string",
        0x0E => "Tone",
        0x0F => "Item",
        0x10 => "Item identifier",
        0x11 => "Response length",
        0x12 => "File list",
        0x13 => "Location information",
        0x14 => "IMEI",
        0x15 => "Help request",
        0x16 => "Network measurement results",
        0x17 => "Default text",
        0x18 => "Items next action indicator",
        0x19 => "Event list",
        0x1A => "Cause",
        0x1B => "Location status",
        0x1C => "Transaction identifier",
        0x1D => "BCCH channel list",
        0x1E => "Icon identifier",
        0x1F => "Item icon identifier list",
        0x20 => "Card reader status",
        0x21 => "Card ATR",
        0x22 => "C-APDU",
        0x23 => "R-APDU",
        0x24 => "Timer identifier",
        0x25 => "Timer value",
        0x26 => "Date-time and time zone",
        0x27 => "Call control requested action",
        0x28 => "AT command",
        0x29 => "AT response",
        0x2A => "BC repeat indicator",
        0x2B => "Immediate response",
        0x2C => "DTMF string",
        0x2D => "Language",
        0x2E => "Timing advance",
        0x2F => "AID",
        0x30 => "Browser identity",
        0x31 => "URL",
        0x32 => "Bearer",
        0x33 => "Provisioning reference file",
        0x34 => "Browser termination cause",
        0x35 => "Bearer description",
        0x36 => "Channel data",
        0x37 => "Channel data length",
        0x38 => "Channel status",
        0x39 => "Buffer size",
        0x3A => "Card reader identifier",
        0x3B => "File update information",
        0x3C => "UICC/terminal interface transport level",
        0x3E => "Other address (data destination address)",
        0x3F => "Access technology",
        0x40 => "Display parameters",
        0x41 => "Service record",
        0x42 => "Device filter",
        0x43 => "Service search",
        0x44 => "Attribute information",
        0x45 => "Service availability",
        0x46 => "ESN",
        0x47 => "Network access name",
        0x48 => "CDMA-SMS-TPDU",
        0x49 => "Remote entity address",
        0x4A => "I-WLAN identifier",
        0x4B => "I-WLAN access status",
        0x50 => "Text attribute",
        0x51 => "Item text attribute list",
        0x52 => "PDP context activation parameter",
        0x62 => "IMEISV",
        0x63 => "Battery state",
        0x64 => "Browsing status",
        0x65 => "Network search mode",
        0x66 => "Frame layout",
        0x67 => "Frames information",
        0x68 => "Frame identifier",
        0x69 => "UTRAN/E-UTRAN measurement qualifier",
        0x6A => "Multimedia message reference",
        0x6B => "Multimedia message identifier",
        0x6C => "Multimedia message transfer status",
        0x6D => "MEID",
        0x6E => "Multimedia message content identifier",
        0x6F => "Multimedia message notification",
        0x70 => "Last envelope",
        0x71 => "Registry application data",
        0x73 => "Routing area information",
        0x74 => "Update/attach type",
        0x75 => "Rejection cause code",
        0x78 => "NMEA sentence",
        0x79 => "PLMN list",
        0x7A => "Broadcast network information",
        0x7B => "ACTIVATE descriptor",
        0x7C => "EPS PDN connection activation parameters",
        0x7D => "Tracking area identification",
        0x7E => "CSG ID list",
        _ => return None,
    })
}

/// A CAT device identity (TS 102 223 §8.7).
pub fn device_name(id: u8) -> Option<String> {
    Some(match id {
        0x01 => "keypad".into(),
        0x02 => "display".into(),
        0x03 => "earpiece".into(),
        0x10..=0x17 => format!("additional card reader {}", id - 0x10),
        0x21..=0x27 => format!("channel {}", id - 0x20),
        0x31..=0x3F => format!("eCAT client {}", id - 0x30),
        0x81 => "UICC".into(),
        0x82 => "terminal".into(),
        0x83 => "network".into(),
        _ => return None,
    })
}

/// A proactive command type (byte 2 of Command details, TS 102 223 §9.4).
pub fn proactive_command_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0x01 => "REFRESH",
        0x02 => "MORE TIME",
        0x03 => "POLL INTERVAL",
        0x04 => "POLLING OFF",
        0x05 => "SET UP EVENT LIST",
        0x10 => "SET UP CALL",
        0x11 => "SEND SS",
        0x12 => "SEND USSD",
        0x13 => "SEND SHORT MESSAGE",
        0x14 => "SEND DTMF",
        0x15 => "LAUNCH BROWSER",
        0x16 => "GEOGRAPHICAL LOCATION REQUEST",
        0x20 => "PLAY TONE",
        0x21 => "DISPLAY TEXT",
        0x22 => "GET INKEY",
        0x23 => "GET INPUT",
        0x24 => "SELECT ITEM",
        0x25 => "SET UP MENU",
        0x26 => "PROVIDE LOCAL INFORMATION",
        0x27 => "TIMER MANAGEMENT",
        0x28 => "SET UP IDLE MODE TEXT",
        0x30 => "PERFORM CARD APDU",
        0x31 => "POWER ON CARD",
        0x32 => "POWER OFF CARD",
        0x33 => "GET READER STATUS",
        0x34 => "RUN AT COMMAND",
        0x35 => "LANGUAGE NOTIFICATION",
        0x40 => "OPEN CHANNEL",
        0x41 => "CLOSE CHANNEL",
        0x42 => "RECEIVE DATA",
        0x43 => "SEND DATA",
        0x44 => "GET CHANNEL STATUS",
        0x81 => "End of the proactive UICC session",
        _ => return None,
    })
}

/// A general result code (Result data object, TS 102 223 §8.12).
pub fn general_result_name(r: u8) -> Option<&'static str> {
    Some(match r {
        0x00 => "command performed successfully",
        0x01 => "command performed with partial comprehension",
        0x02 => "command performed, with missing information",
        0x03 => "REFRESH performed with additional EFs read",
        0x04 => "command performed successfully, but requested icon could not be displayed",
        0x05 => "command performed, but modified by call control",
        0x06 => "command performed successfully, limited service",
        0x07 => "command performed with modification",
        0x08 => "REFRESH performed but indicated NAA was not active",
        0x09 => "command performed successfully, tone not played",
        0x10 => "proactive UICC session terminated by the user",
        0x11 => "backward move in the proactive UICC session requested by the user",
        0x12 => "no response from user",
        0x13 => "help information required by the user",
        0x14 => "USSD or SS transaction terminated by the user",
        0x20 => "terminal currently unable to process command",
        0x21 => "network currently unable to process command",
        0x22 => "user did not accept the proactive command",
        0x23 => "user cleared down call before connection or network release",
        0x24 => "action in contradiction with the current timer state",
        0x25 => "interaction with call control by NAA, temporary problem",
        0x26 => "launch browser generic error code",
        0x27 => "MMS temporary problem",
        0x30 => "command beyond terminal's capabilities",
        0x31 => "command type not understood by terminal",
        0x32 => "command data not understood by terminal",
        0x33 => "command number not known by terminal",
        0x34 => "SS return error",
        0x35 => "SMS RP-ERROR",
        0x36 => "error, required values are missing",
        0x37 => "USSD return error",
        0x38 => "MultipleCard commands error",
        0x39 => "interaction with call control by NAA or MO short message control by NAA, permanent problem",
        0x3A => "Bearer Independent Protocol error",
        0x3B => "access technology unable to process command",
        0x3C => "frames error",
        0x3D => "MMS error",
        _ => return None,
    })
}

/// An event in an Event list (TS 102 223 §8.25).
pub fn event_name(e: u8) -> Option<&'static str> {
    Some(match e {
        0x00 => "MT call",
        0x01 => "call connected",
        0x02 => "call disconnected",
        0x03 => "location status",
        0x04 => "user activity",
        0x05 => "idle screen available",
        0x06 => "card reader status",
        0x07 => "language selection",
        0x08 => "browser termination",
        0x09 => "data available",
        0x0A => "channel status",
        0x0B => "access technology change",
        0x0C => "display parameters changed",
        0x0D => "local connection",
        0x0E => "network search mode change",
        0x0F => "browsing status",
        0x10 => "frames information change",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_names() {
        assert_eq!(ins_name(0x00, 0xA4, 0x00), Some("SELECT"));
        assert_eq!(ins_name(0x80, 0xC2, 0x00), Some("ENVELOPE"));
        assert_eq!(ins_name(0x80, 0xF2, 0x00), Some("STATUS"));
        assert_eq!(ins_name(0x80, 0xF2, 0x40), Some("GET STATUS"));
        assert_eq!(ins_name(0x80, 0xE6, 0x0C), Some("INSTALL"));
        assert_eq!(ins_name(0x00, 0xE6, 0x00), Some("TERMINATE DF"));
        assert_eq!(ins_name(0x84, 0x82, 0x01), Some("EXTERNAL AUTHENTICATE"));
        assert_eq!(ins_name(0x80, 0x50, 0x00), Some("INITIALIZE UPDATE"));
        assert_eq!(ins_name(0xA0, 0x88, 0x00), Some("RUN GSM ALGORITHM"));
        assert_eq!(ins_name(0x01, 0xB0, 0x00), Some("READ BINARY"));
        assert_eq!(ins_name(0x80, 0xB0, 0x00), Some("READ BINARY"));
        assert_eq!(ins_name(0x00, 0x70, 0x00), Some("MANAGE CHANNEL"));
        assert_eq!(ins_name(0x00, 0x99, 0x00), None);
    }

    #[test]
    fn every_header_has_a_total_answer() {
        let interesting = [
            0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x09, 0x0C, 0x10, 0x40, 0x7F, 0x80,
        ];
        for cla in [0x00, 0x01, 0x4F, 0x80, 0x84, 0xA0, 0xC3, 0xFF] {
            for ins in 0..=255u8 {
                for &p1 in interesting.iter().chain(&[0x81, 0x8E, 0xFF]) {
                    for &p2 in interesting.iter().chain(&[0x8A, 0x8E, 0xFF]) {
                        let _ = ins_name(cla, ins, p1);
                        let _ = p1_p2_meaning(cla, ins, p1, p2, &[]);
                        let _ = p1_p2_meaning(cla, ins, p1, p2, &[0x3F, 0x00]);
                    }
                }
            }
        }
        for b in 0..=255u8 {
            let _ = (
                key_reference(b, false),
                key_reference(b, true),
                device_name(b),
            );
            let _ = (
                proactive_command_name(b),
                general_result_name(b),
                event_name(b),
            );
            let _ = comp_tag_name(u16::from(b));
        }
    }

    #[test]
    fn select_parameters() {
        let (p1, p2) = p1_p2_meaning(0x00, 0xA4, 0x00, 0x04, &[0x3F, 0x00]);
        assert_eq!(p1.as_deref(), Some("select by FID (MF, DF or EF)"));
        assert_eq!(p2.as_deref(), Some("return FCP template"));
        let (p1, p2) = p1_p2_meaning(0x00, 0xA4, 0x04, 0x0C, &[0xA0, 0, 0, 0, 0x87]);
        assert_eq!(p1.as_deref(), Some("select by DF name (AID)"));
        assert!(p2
            .unwrap()
            .starts_with("no data returned, first or only occurrence"));
        let (_, p2) = p1_p2_meaning(0x00, 0xA4, 0x04, 0x02, &[0xA0]);
        assert!(p2.unwrap().contains("next occurrence"));
    }

    #[test]
    fn record_and_pin_parameters() {
        let (p1, p2) = p1_p2_meaning(0x00, 0xB2, 0x01, 0x04, &[]);
        assert_eq!(p1.as_deref(), Some("record number 1"));
        assert_eq!(
            p2.as_deref(),
            Some("absolute record number in P1, current EF")
        );
        let (_, p2) = p1_p2_meaning(0x00, 0xB2, 0x00, 0x02 | (0x05 << 3), &[]);
        assert_eq!(p2.as_deref(), Some("next record, SFI 05"));
        let (_, p2) = p1_p2_meaning(0x00, 0x20, 0x00, 0x01, &[0x31; 8]);
        assert!(p2.unwrap().contains("PIN Appl 1"));
        let (_, p2) = p1_p2_meaning(0x00, 0x20, 0x00, 0x81, &[]);
        assert!(p2.unwrap().contains("retry counter query"));
        assert!(key_reference(0x0A, false).contains("ADM1"));
        assert!(key_reference(0x11, false).contains("Universal PIN"));
        assert!(key_reference(0x8A, false).contains("ADM6"));
        let (p1, p2) = p1_p2_meaning(0x00, 0x70, 0x80, 0x01, &[]);
        assert_eq!(
            (p1.as_deref(), p2.as_deref()),
            (Some("close a logical channel"), Some("close channel 1"))
        );
        let (p1, _) = p1_p2_meaning(0x80, 0xF2, 0x40, 0x02, &[0x4F, 0x00]);
        assert_eq!(
            p1.as_deref(),
            Some("Applications and Supplementary Security Domains")
        );
    }

    #[test]
    fn tag_names_in_context() {
        assert_eq!(ber_tag_name(0x82, &[0x62]), Some("File descriptor"));
        assert_eq!(ber_tag_name(0x84, &[0xE3]), Some("Executable Module AID"));
        assert_eq!(ber_tag_name(0x84, &[0x62]), Some("DF name (AID)"));
        assert_eq!(
            ber_tag_name(0x83, &[0x62, 0xA5]),
            Some("Amount of available memory")
        );
        assert_eq!(ber_tag_name(0x83, &[0x62, 0xC6]), Some("Key reference"));
        assert_eq!(ber_tag_name(0x22, &[0xAE]), Some("C-APDU"));
        assert_eq!(
            ber_tag_name(0x80, &[0xAB]),
            Some("Number of executed command TLV objects")
        );
        assert_eq!(ber_tag_name(0xD1, &[]), Some("SMS-PP download"));
        assert_eq!(ber_tag_name(0xD0, &[0x62, 0xA5]), None);
        assert_eq!(ber_tag_name(0x9F70, &[0xE3]), Some("Life cycle state"));
        assert_eq!(comp_tag_name(0x02), Some("Device identities"));
        assert_eq!(device_name(0x83).as_deref(), Some("network"));
        assert_eq!(proactive_command_name(0x21), Some("DISPLAY TEXT"));
        assert_eq!(
            general_result_name(0x20),
            Some("terminal currently unable to process command")
        );
    }
}
