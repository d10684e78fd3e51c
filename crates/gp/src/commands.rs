//! Card content management commands (GPCS v2.3 §11): GET STATUS with its registry entries
//! (§11.4), DELETE (§11.2), SET STATUS (§11.10), GET DATA (§11.3), STORE DATA (§11.11), and
//! the life cycle (§11.1.1) and privilege (§11.1.2) names GlobalPlatformPro prints.

use crate::error::GpError;
use apdu::CommandApdu;

/// INS of DELETE.
pub const INS_DELETE: u8 = 0xE4;
/// INS of GET STATUS.
pub const INS_GET_STATUS: u8 = 0xF2;
/// INS of SET STATUS.
pub const INS_SET_STATUS: u8 = 0xF0;
/// INS of GET DATA.
pub const INS_GET_DATA: u8 = 0xCA;
/// INS of STORE DATA.
pub const INS_STORE_DATA: u8 = 0xE2;
/// INS of INSTALL.
pub const INS_INSTALL: u8 = 0xE6;
/// INS of LOAD.
pub const INS_LOAD: u8 = 0xE8;

/// The subset GET STATUS asks for (P1, GPCS Table 11-33).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusScope {
    /// `80`: the Issuer Security Domain.
    Isd,
    /// `40`: applications and security domains.
    Applications,
    /// `20`: executable load files.
    LoadFiles,
    /// `10`: executable load files and their modules.
    LoadFilesAndModules,
}

impl StatusScope {
    /// The P1 byte.
    pub fn p1(self) -> u8 {
        match self {
            StatusScope::Isd => 0x80,
            StatusScope::Applications => 0x40,
            StatusScope::LoadFiles => 0x20,
            StatusScope::LoadFilesAndModules => 0x10,
        }
    }

    /// The scope for a P1 byte.
    pub fn from_p1(p1: u8) -> Option<StatusScope> {
        match p1 {
            0x80 => Some(StatusScope::Isd),
            0x40 => Some(StatusScope::Applications),
            0x20 => Some(StatusScope::LoadFiles),
            0x10 => Some(StatusScope::LoadFilesAndModules),
            _ => None,
        }
    }
}

/// GET STATUS for `scope`, all entries (search `4F 00`), tagged format (P2 b2 = 1); `next`
/// asks for the following part after a `6310`.
pub fn get_status(scope: StatusScope, next: bool) -> CommandApdu {
    let p2 = if next { 0x03 } else { 0x02 };
    CommandApdu::new(
        0x80,
        INS_GET_STATUS,
        scope.p1(),
        p2,
        vec![0x4F, 0x00],
        Some(256),
    )
}

/// DELETE of the object with `aid`; `related` also deletes related objects (P2 = `80`).
pub fn delete_aid(aid: &[u8], related: bool) -> CommandApdu {
    let mut d = vec![0x4F, aid.len() as u8];
    d.extend_from_slice(aid);
    CommandApdu::new(
        0x80,
        INS_DELETE,
        0x00,
        if related { 0x80 } else { 0x00 },
        d,
        Some(256),
    )
}

/// DELETE of a key set: key version number `kvn` (tag `D2`), all its key ids.
pub fn delete_key(kvn: u8) -> CommandApdu {
    CommandApdu::new(
        0x80,
        INS_DELETE,
        0x00,
        0x00,
        vec![0xD2, 0x01, kvn],
        Some(256),
    )
}

/// SET STATUS: P1 = status type (`80` card, `40` application or SD), P2 = new state.
pub fn set_status(p1: u8, state: u8, aid: &[u8]) -> CommandApdu {
    CommandApdu::new(0x80, INS_SET_STATUS, p1, state, aid.to_vec(), None)
}

/// GET DATA of `tag` (e.g. `9F7F` CPLC, `00E0` key information template, `0066` card data).
pub fn get_data(tag: u16) -> CommandApdu {
    let [p1, p2] = tag.to_be_bytes();
    CommandApdu::new(0x80, INS_GET_DATA, p1, p2, Vec::new(), Some(256))
}

/// STORE DATA block `block` (P2), `last` sets P1 b8.
pub fn store_data(block: u8, last: bool, data: &[u8]) -> CommandApdu {
    CommandApdu::new(
        0x80,
        INS_STORE_DATA,
        if last { 0x80 } else { 0x00 },
        block,
        data.to_vec(),
        None,
    )
}

/// One GET STATUS registry entry (GPCS Table 11-36, tag `E3`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryEntry {
    /// AID (tag `4F`).
    pub aid: Vec<u8>,
    /// Life cycle state (tag `9F70`).
    pub life_cycle: u8,
    /// Privileges (tag `C5`, 1 or 3 bytes).
    pub privileges: Vec<u8>,
    /// Executable load file AID (tag `C4`), for applications.
    pub load_file: Option<Vec<u8>>,
    /// Version of a load file (tag `CE`).
    pub version: Option<Vec<u8>>,
    /// Executable module AIDs (tag `84`), for load files.
    pub modules: Vec<Vec<u8>>,
    /// Associated security domain AID (tag `CC`).
    pub domain: Option<Vec<u8>>,
}

fn tlv_push(out: &mut Vec<u8>, tag: &[u8], value: &[u8]) {
    out.extend_from_slice(tag);
    if value.len() < 0x80 {
        out.push(value.len() as u8);
    } else {
        out.push(0x81);
        out.push(value.len() as u8);
    }
    out.extend_from_slice(value);
}

struct Tlv<'a> {
    tag: u16,
    value: &'a [u8],
}

fn tlvs(b: &[u8], base: usize) -> Result<Vec<Tlv<'_>>, GpError> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() {
        let t0 = b[p];
        let (tag, tl) = if t0 & 0x1F == 0x1F {
            let t1 = *b.get(p + 1).ok_or(GpError::Truncated {
                field: "tag",
                offset: base + p + 1,
                len: base + b.len(),
            })?;
            (u16::from_be_bytes([t0, t1]), 2)
        } else {
            (t0 as u16, 1)
        };
        p += tl;
        let l0 = *b.get(p).ok_or(GpError::Truncated {
            field: "length",
            offset: base + p,
            len: base + b.len(),
        })?;
        let (len, ll) = match l0 {
            0..=0x7F => (l0 as usize, 1),
            0x81 => (
                *b.get(p + 1).ok_or(GpError::Truncated {
                    field: "length",
                    offset: base + p + 1,
                    len: base + b.len(),
                })? as usize,
                2,
            ),
            _ => {
                return Err(GpError::BadValue {
                    field: "length",
                    offset: base + p,
                    value: l0 as u32,
                    reason: "only 1- and 2-byte BER lengths are used here",
                })
            }
        };
        p += ll;
        let value = b.get(p..p + len).ok_or(GpError::Truncated {
            field: "value",
            offset: base + p,
            len: base + b.len(),
        })?;
        out.push(Tlv { tag, value });
        p += len;
    }
    Ok(out)
}

impl RegistryEntry {
    /// Encode as one `E3` template.
    pub fn emit(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        tlv_push(&mut inner, &[0x4F], &self.aid);
        tlv_push(&mut inner, &[0x9F, 0x70], &[self.life_cycle]);
        if !self.privileges.is_empty() {
            tlv_push(&mut inner, &[0xC5], &self.privileges);
        }
        if let Some(l) = &self.load_file {
            tlv_push(&mut inner, &[0xC4], l);
        }
        if let Some(v) = &self.version {
            tlv_push(&mut inner, &[0xCE], v);
        }
        for m in &self.modules {
            tlv_push(&mut inner, &[0x84], m);
        }
        if let Some(d) = &self.domain {
            tlv_push(&mut inner, &[0xCC], d);
        }
        let mut out = Vec::new();
        tlv_push(&mut out, &[0xE3], &inner);
        out
    }

    /// Parse the concatenated `E3` templates of a GET STATUS response.
    pub fn parse_all(b: &[u8]) -> Result<Vec<RegistryEntry>, GpError> {
        let mut out = Vec::new();
        for t in tlvs(b, 0)? {
            if t.tag != 0xE3 {
                return Err(GpError::BadValue {
                    field: "registry entry tag",
                    offset: 0,
                    value: t.tag as u32,
                    reason: "expected E3 (tagged GET STATUS format)",
                });
            }
            let mut e = RegistryEntry::default();
            for f in tlvs(t.value, 0)? {
                match f.tag {
                    0x4F => e.aid = f.value.to_vec(),
                    0x9F70 => e.life_cycle = f.value.first().copied().unwrap_or(0),
                    0xC5 => e.privileges = f.value.to_vec(),
                    0xC4 => e.load_file = Some(f.value.to_vec()),
                    0xCE => e.version = Some(f.value.to_vec()),
                    0x84 => e.modules.push(f.value.to_vec()),
                    0xCC => e.domain = Some(f.value.to_vec()),
                    _ => {}
                }
            }
            out.push(e);
        }
        Ok(out)
    }
}

/// The name of a card life cycle state (GPCS Table 11-3).
pub fn card_life_cycle_name(v: u8) -> String {
    match v {
        0x01 => "OP_READY".into(),
        0x07 => "INITIALIZED".into(),
        0x0F => "SECURED".into(),
        0x7F => "CARD_LOCKED".into(),
        0xFF => "TERMINATED".into(),
        _ => format!("{v:02X}"),
    }
}

/// The name of an application life cycle state (GPCS Tables 11-4, 11-5).
pub fn app_life_cycle_name(v: u8) -> String {
    if v & 0x80 != 0 {
        return "LOCKED".into();
    }
    match v {
        0x01 => "LOADED".into(),
        0x03 => "INSTALLED".into(),
        0x07 => "SELECTABLE".into(),
        0x0F => "PERSONALIZED".into(),
        _ => format!("{v:02X}"),
    }
}

/// Privilege names of the first privilege byte (GPCS Table 11-7).
pub fn privilege_names(privs: &[u8]) -> Vec<&'static str> {
    const B1: [&str; 8] = [
        "SecurityDomain",
        "DAPVerification",
        "DelegatedManagement",
        "CardLock",
        "CardTerminate",
        "CardReset",
        "CVMManagement",
        "MandatedDAPVerification",
    ];
    const B2: [&str; 8] = [
        "TrustedPath",
        "AuthorizedManagement",
        "TokenVerification",
        "GlobalDelete",
        "GlobalLock",
        "GlobalRegistry",
        "FinalApplication",
        "GlobalService",
    ];
    let mut out = Vec::new();
    for (byte, names) in privs.iter().zip([B1, B2]) {
        for (i, n) in names.iter().enumerate() {
            if byte & (0x80 >> i) != 0 {
                out.push(*n);
            }
        }
    }
    out
}

/// GlobalPlatformPro's privilege names and their bits in the 3-byte privileges (GPCS Table
/// 6-1 and Table 11-7; DAP Verification, Delegated Management and Mandated DAP Verification
/// include the Security Domain bit as the table encodes them).
pub const PRIVILEGES: [(&str, [u8; 3]); 20] = [
    ("security-domain", [0x80, 0, 0]),
    ("dap-verification", [0xC0, 0, 0]),
    ("delegated-management", [0xA0, 0, 0]),
    ("card-lock", [0x10, 0, 0]),
    ("card-terminate", [0x08, 0, 0]),
    ("card-reset", [0x04, 0, 0]),
    ("cvm-management", [0x02, 0, 0]),
    ("mandated-dap-verification", [0xC1, 0, 0]),
    ("trusted-path", [0, 0x80, 0]),
    ("authorized-management", [0, 0x40, 0]),
    ("token-verification", [0, 0x20, 0]),
    ("global-delete", [0, 0x10, 0]),
    ("global-lock", [0, 0x08, 0]),
    ("global-registry", [0, 0x04, 0]),
    ("final-application", [0, 0x02, 0]),
    ("global-service", [0, 0x01, 0]),
    ("receipt-generation", [0, 0, 0x80]),
    ("ciphered-load-file-data-block", [0, 0, 0x40]),
    ("contactless-activation", [0, 0, 0x20]),
    ("contactless-self-activation", [0, 0, 0x10]),
];

const PRIVILEGE_NAMES: &str = "security-domain, dap-verification, delegated-management, \
card-lock, card-terminate, card-reset, cvm-management, mandated-dap-verification, trusted-path, \
authorized-management, token-verification, global-delete, global-lock, global-registry, \
final-application, global-service, receipt-generation, ciphered-load-file-data-block, \
contactless-activation, contactless-self-activation";

/// Parse privileges for INSTALL [for install] (GPCS §11.5.2.3.2): hex (1 or 3 bytes, GPCS
/// Table 11-7) or comma-separated GlobalPlatformPro names (`security-domain,card-lock`;
/// case, `-` and `_` ignored, so `SecurityDomain` works too). Names give 1 byte when only
/// first-byte privileges are named, 3 bytes otherwise. An unknown name is an error naming
/// its offset in `text`.
pub fn parse_privileges(text: &str) -> Result<Vec<u8>, GpError> {
    let t = text.trim();
    if t.chars().all(|c| c.is_ascii_hexdigit() || c == ' ') {
        let b = apdu::hex::decode(t).map_err(|_| GpError::BadValue {
            field: "privileges",
            offset: 0,
            value: 0,
            reason: "hex privileges need an even number of digits",
        })?;
        if b.len() != 1 && b.len() != 3 {
            return Err(GpError::BadLength {
                field: "privileges",
                len: b.len(),
                expected: "1 or 3 bytes (GPCS Table 11-7)",
            });
        }
        return Ok(b);
    }
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '-' && *c != '_' && !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let mut out = [0u8; 3];
    let mut offset = 0;
    for part in text.split(',') {
        let want = norm(part);
        let bits = PRIVILEGES
            .iter()
            .find(|(n, _)| norm(n) == want)
            .map(|(_, b)| *b)
            .ok_or_else(|| GpError::UnknownName {
                field: "privilege name",
                offset,
                name: part.trim().to_string(),
                known: PRIVILEGE_NAMES,
            })?;
        for (o, b) in out.iter_mut().zip(bits) {
            *o |= b;
        }
        offset += part.len() + 1;
    }
    if out[1] == 0 && out[2] == 0 {
        Ok(vec![out[0]])
    } else {
        Ok(out.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileges_by_name_and_hex() {
        assert_eq!(parse_privileges("security-domain").unwrap(), [0x80]);
        assert_eq!(
            parse_privileges("security-domain,card-lock,card-terminate,card-reset,cvm-management")
                .unwrap(),
            [0x9E]
        );
        assert_eq!(parse_privileges("dap-verification").unwrap(), [0xC0]);
        assert_eq!(
            parse_privileges("mandated-dap-verification").unwrap(),
            [0xC1]
        );
        assert_eq!(parse_privileges("delegated-management").unwrap(), [0xA0]);
        assert_eq!(
            parse_privileges("card-reset,global-delete,contactless-activation").unwrap(),
            [0x04, 0x10, 0x20]
        );
        assert_eq!(
            parse_privileges("SecurityDomain, Final_Application").unwrap(),
            [0x80, 0x02, 0]
        );
        // Every name is distinct bits (beyond the Security Domain bit they imply).
        let mut all = [0u8; 3];
        for (n, b) in PRIVILEGES {
            let v = parse_privileges(n).unwrap();
            let mut p = [0u8; 3];
            p[..v.len()].copy_from_slice(&v);
            assert_eq!(p, b, "{n}");
            for (a, x) in all.iter_mut().zip(b) {
                *a |= x;
            }
        }
        assert_eq!(all, [0xFF, 0xFF, 0xF0]);
        assert_eq!(PRIVILEGE_NAMES, PRIVILEGES.map(|p| p.0).join(", "));
        // The names GP Pro prints in --list parse back.
        assert_eq!(
            parse_privileges(&privilege_names(&[0x9E, 0x10, 0]).join(",")).unwrap(),
            [0x9E, 0x10, 0]
        );
        assert_eq!(parse_privileges("9E").unwrap(), [0x9E]);
        assert_eq!(parse_privileges("801000").unwrap(), [0x80, 0x10, 0x00]);
        assert_eq!(parse_privileges("00").unwrap(), [0x00]);
    }

    #[test]
    fn privileges_errors_name_the_offset() {
        match parse_privileges("card-lock,bogus") {
            Err(GpError::UnknownName {
                field,
                offset,
                name,
                ..
            }) => assert_eq!(
                (field, offset, name.as_str()),
                ("privilege name", 10, "bogus")
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_privileges("9E00"),
            Err(GpError::BadLength { len: 2, .. })
        ));
        assert!(matches!(
            parse_privileges("9"),
            Err(GpError::BadValue { .. })
        ));
        assert!(parse_privileges("").is_err());
        assert!(parse_privileges("card-lock,").is_err());
    }

    #[test]
    fn registry_round_trip_and_truncation() {
        let e = RegistryEntry {
            aid: vec![0xA0, 0, 0, 1, 0x51, 0, 0, 0],
            life_cycle: 0x0F,
            privileges: vec![0x9E, 0, 0],
            load_file: None,
            version: Some(vec![1, 0]),
            modules: vec![vec![1, 2, 3]],
            domain: None,
        };
        let b = [e.emit(), e.emit()].concat();
        assert_eq!(RegistryEntry::parse_all(&b).unwrap(), vec![e.clone(), e]);
        assert!(matches!(
            RegistryEntry::parse_all(&b[..b.len() - 1]),
            Err(GpError::Truncated { .. })
        ));
    }

    #[test]
    fn names() {
        assert_eq!(
            privilege_names(&[0x9E, 0, 0]),
            [
                "SecurityDomain",
                "CardLock",
                "CardTerminate",
                "CardReset",
                "CVMManagement"
            ]
        );
        assert_eq!(app_life_cycle_name(0x83), "LOCKED");
        assert_eq!(card_life_cycle_name(0x0F), "SECURED");
    }
}
