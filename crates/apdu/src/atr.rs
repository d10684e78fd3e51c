//! Answer-To-Reset parsing per ISO/IEC 7816-3 §8.2 (TS, T0, TAi/TBi/TCi/TDi, historical bytes,
//! TCK), with the interface-byte meanings of §8.3.

use std::fmt;
use thiserror::Error;

/// Why bytes are not a well-formed ATR.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AtrError {
    /// Empty input or TS missing.
    #[error("offset 0: ATR is empty (TS expected)")]
    Empty,
    /// TS is neither `3B` (direct) nor `3F` (inverse convention).
    #[error("offset 0: TS {0:02X} is not 3B (direct) or 3F (inverse convention)")]
    BadTs(u8),
    /// The ATR ends before an announced byte.
    #[error("offset {offset}: ATR truncated, {field} expected")]
    Truncated {
        /// Byte offset of the problem.
        offset: usize,
        /// The field that was expected.
        field: String,
    },
    /// Bytes after the TCK (or after the historical bytes when there is no TCK).
    #[error("offset {offset}: {count} unexpected byte(s) after the end of the ATR")]
    Trailing {
        /// Byte offset of the problem.
        offset: usize,
        /// Number of surplus bytes.
        count: usize,
    },
    /// More than 33 bytes, the ISO 7816-3 maximum.
    #[error("offset 33: ATR is {0} bytes long, more than the 33 ISO 7816-3 allows")]
    TooLong(usize),
}

/// One group of interface bytes (TAi, TBi, TCi, TDi), i = 1, 2, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterfaceGroup {
    /// TAi, if present.
    pub ta: Option<u8>,
    /// TBi, if present.
    pub tb: Option<u8>,
    /// TCi, if present.
    pub tc: Option<u8>,
    /// TDi, if present.
    pub td: Option<u8>,
}

/// A parsed ATR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atr {
    /// The bytes as received.
    pub raw: Vec<u8>,
    /// TS: `3B` direct or `3F` inverse convention.
    pub ts: u8,
    /// T0: Y1 (high nibble) and K, the number of historical bytes (low nibble).
    pub t0: u8,
    /// Interface byte groups; `groups[0]` holds TA1 TB1 TC1 TD1.
    pub groups: Vec<InterfaceGroup>,
    /// Historical bytes.
    pub historical: Vec<u8>,
    /// TCK, if present.
    pub tck: Option<u8>,
}

impl Atr {
    /// Parse an ATR.
    pub fn parse(b: &[u8]) -> Result<Atr, AtrError> {
        let ts = *b.first().ok_or(AtrError::Empty)?;
        if ts != 0x3B && ts != 0x3F {
            return Err(AtrError::BadTs(ts));
        }
        if b.len() > 33 {
            return Err(AtrError::TooLong(b.len()));
        }
        let get = |at: usize, field: &str| {
            b.get(at).copied().ok_or_else(|| AtrError::Truncated {
                offset: at,
                field: field.to_string(),
            })
        };
        let t0 = get(1, "T0")?;
        let mut at = 2;
        let mut y = t0 >> 4;
        let mut groups = Vec::new();
        let mut i = 1;
        loop {
            let mut g = InterfaceGroup::default();
            if y & 1 != 0 {
                g.ta = Some(get(at, &format!("TA{i}"))?);
                at += 1;
            }
            if y & 2 != 0 {
                g.tb = Some(get(at, &format!("TB{i}"))?);
                at += 1;
            }
            if y & 4 != 0 {
                g.tc = Some(get(at, &format!("TC{i}"))?);
                at += 1;
            }
            if y & 8 != 0 {
                g.td = Some(get(at, &format!("TD{i}"))?);
                at += 1;
            }
            groups.push(g);
            match g.td {
                Some(td) => {
                    y = td >> 4;
                    i += 1;
                }
                None => break,
            }
        }
        let k = (t0 & 0x0F) as usize;
        let hist_end = at + k;
        if b.len() < hist_end {
            return Err(AtrError::Truncated {
                offset: b.len(),
                field: format!("{k} historical bytes"),
            });
        }
        let historical = b.get(at..hist_end).unwrap_or(&[]).to_vec();
        let needs_tck = groups.iter().filter_map(|g| g.td).any(|td| td & 0x0F != 0);
        let mut end = hist_end;
        let tck = if needs_tck {
            let t = get(hist_end, "TCK")?;
            end += 1;
            Some(t)
        } else {
            None
        };
        if b.len() > end {
            return Err(AtrError::Trailing {
                offset: end,
                count: b.len() - end,
            });
        }
        Ok(Atr {
            raw: b.to_vec(),
            ts,
            t0,
            groups,
            historical,
            tck,
        })
    }

    /// Protocols offered: the T values of all TDi (T=0 when no TD1 is present), deduplicated
    /// in order of appearance.
    pub fn protocols(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for td in self.groups.iter().filter_map(|g| g.td) {
            let t = td & 0x0F;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        if out.is_empty() {
            out.push(0);
        }
        out
    }

    /// Whether the TCK is correct: the XOR of T0 … TCK is zero. `None` when there is no TCK.
    pub fn tck_ok(&self) -> Option<bool> {
        self.tck?;
        Some(self.raw.iter().skip(1).fold(0u8, |a, &x| a ^ x) == 0)
    }

    /// The TCK value that would be correct for these bytes.
    pub fn expected_tck(&self) -> u8 {
        let n = self
            .raw
            .len()
            .saturating_sub(usize::from(self.tck.is_some()));
        self.raw
            .get(1..n)
            .unwrap_or(&[])
            .iter()
            .fold(0u8, |a, &x| a ^ x)
    }

    /// Fi/Di from TA1 (ISO 7816-3 tables 7 and 8); defaults Fi=372, Di=1.
    pub fn fi_di(&self) -> (u16, u8) {
        const FI: [u16; 16] = [
            372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0,
        ];
        const DI: [u8; 16] = [0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0];
        match self.groups.first().and_then(|g| g.ta) {
            Some(ta) => (FI[(ta >> 4) as usize], DI[(ta & 15) as usize]),
            None => (372, 1),
        }
    }

    /// Whether the card announces extended-length APDUs in its historical bytes (card
    /// capabilities, ISO 7816-4 §8.1.1.2.7, third software function table byte b7).
    pub fn extended_length(&self) -> bool {
        let h = &self.historical;
        if h.first() != Some(&0x80) {
            return false;
        }
        let mut at = 1;
        while at < h.len() {
            let Some(&tl) = h.get(at) else { break };
            let (tag, len) = (tl >> 4, (tl & 15) as usize);
            if tag == 7 && len >= 3 {
                return h.get(at + 3).is_some_and(|b| b & 0x40 != 0);
            }
            at += 1 + len;
        }
        false
    }
}

impl Atr {
    /// The protocol that the bytes of group `i` (1-based) belong to: group 1 is global, group
    /// 2 holds global/T=0 bytes, and group i ≥ 3 is specific to the T announced by TD(i−1)
    /// (ISO/IEC 7816-3 §8.2.3).
    pub fn group_protocol(&self, i: usize) -> Option<u8> {
        if i < 2 {
            return None;
        }
        self.groups
            .get(i - 2)
            .and_then(|g| g.td)
            .map(|td| td & 0x0F)
    }

    /// A short meaning of interface byte `which` (`'A'`, `'B'`, `'C'`) of group `i` (1-based)
    /// with value `v`, per ISO/IEC 7816-3 §8.3 and ETSI TS 102 221 §6.3.
    pub fn interface_byte_meaning(&self, which: char, i: usize, v: u8) -> Option<String> {
        let t = self.group_protocol(i);
        Some(match (which, i, t) {
            ('A', 1, _) => {
                let (fi, di) = self.fi_di();
                format!("Fi = {fi}, Di = {di}")
            }
            ('B', 1, _) => "VPP (deprecated)".to_string(),
            ('C', 1, _) => format!("extra guard time N = {v}"),
            ('A', 2, _) => format!(
                "specific mode, protocol T={}{}",
                v & 0x0F,
                if v & 0x10 != 0 {
                    ", implicit Fi/Di"
                } else {
                    ", Fi/Di from TA1"
                }
            ),
            ('C', 2, Some(0)) => format!("work waiting integer WI = {v}"),
            ('A', _, Some(1)) => format!("IFSC = {v} bytes"),
            ('B', _, Some(1)) => format!("BWI = {}, CWI = {}", v >> 4, v & 0x0F),
            ('C', _, Some(1)) => (if v & 1 != 0 {
                "error detection CRC"
            } else {
                "error detection LRC"
            })
            .to_string(),
            ('A', _, Some(15)) => {
                let clock = match v >> 6 {
                    0 => "clock stop not supported",
                    1 => "clock stop supported, state L",
                    2 => "clock stop supported, state H",
                    _ => "clock stop supported, no preference",
                };
                let mut classes = Vec::new();
                for (bit, c) in [(1, "A (5 V)"), (2, "B (3 V)"), (4, "C (1.8 V)")] {
                    if v & bit != 0 {
                        classes.push(c);
                    }
                }
                format!("{clock}; supply classes {}", classes.join(", "))
            }
            ('B', _, Some(15)) => format!("SPU (C6 use) {v:02X}"),
            _ => return None,
        })
    }

    /// Names of the COMPACT-TLV objects in historical bytes that start with the category
    /// indicator `80` (ISO/IEC 7816-4 §8.1.1): (tag nibble name, value).
    pub fn historical_objects(&self) -> Vec<(&'static str, Vec<u8>)> {
        let h = &self.historical;
        let mut out = Vec::new();
        if h.first() != Some(&0x80) {
            return out;
        }
        let mut at = 1;
        while let Some(&tl) = h.get(at) {
            let (tag, len) = (tl >> 4, (tl & 15) as usize);
            let Some(v) = h.get(at + 1..at + 1 + len) else {
                break;
            };
            let name = match tag {
                0x1 => "country code",
                0x2 => "issuer identification number",
                0x3 => "card service data",
                0x4 => "initial access data",
                0x5 => "card issuer's data",
                0x6 => "pre-issuing data",
                0x7 => "card capabilities",
                0x8 => "status information",
                0xF => "application identifier",
                _ => "proprietary/RFU",
            };
            out.push((name, v.to_vec()));
            at += 1 + len;
        }
        out
    }
}

impl fmt::Display for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "TS  = {:02X} ({} convention)",
            self.ts,
            if self.ts == 0x3B { "direct" } else { "inverse" }
        )?;
        writeln!(
            f,
            "T0  = {:02X} (Y1 = {:X}, K = {} historical bytes)",
            self.t0,
            self.t0 >> 4,
            self.t0 & 15
        )?;
        for (n, g) in self.groups.iter().enumerate() {
            let i = n + 1;
            for (which, b) in [('A', g.ta), ('B', g.tb), ('C', g.tc)] {
                if let Some(v) = b {
                    match self.interface_byte_meaning(which, i, v) {
                        Some(m) => writeln!(f, "T{which}{i} = {v:02X} ({m})")?,
                        None => writeln!(f, "T{which}{i} = {v:02X}")?,
                    }
                }
            }
            if let Some(td) = g.td {
                writeln!(
                    f,
                    "TD{i} = {td:02X} (Y{} = {:X}, protocol T={})",
                    i + 1,
                    td >> 4,
                    td & 15
                )?;
            }
        }
        let protos: Vec<String> = self.protocols().iter().map(|t| format!("T={t}")).collect();
        writeln!(f, "protocols offered: {}", protos.join(", "))?;
        if self.historical.is_empty() {
            writeln!(f, "historical bytes: none")?;
        } else {
            writeln!(
                f,
                "historical bytes: {}",
                crate::hex::encode_spaced(&self.historical)
            )?;
        }
        for (name, v) in self.historical_objects() {
            writeln!(f, "  {name}: {}", crate::hex::encode_spaced(&v))?;
        }
        match (self.tck, self.tck_ok()) {
            (Some(t), Some(true)) => writeln!(f, "TCK = {t:02X} (correct)")?,
            (Some(t), _) => writeln!(
                f,
                "TCK = {t:02X} (WRONG: expected {:02X})",
                self.expected_tck()
            )?,
            (None, _) => writeln!(f, "TCK absent (only T=0 offered)")?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t0_and_t1() {
        let a = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x01]).unwrap();
        assert_eq!(a.protocols(), [0, 1]);
        assert_eq!(a.tck, Some(0x01));
        assert_eq!(a.tck_ok(), Some(true));
    }

    #[test]
    fn display_names_bytes() {
        let b = crate::hex::decode("3B9F96801FC78031A073BE21136743200718000001A5").unwrap();
        let a = Atr::parse(&b).unwrap();
        let text = a.to_string();
        assert!(text.contains("TA1 = 96 (Fi = 512, Di = 32)"), "{text}");
        assert!(text.contains("TA3 = C7 (clock stop supported, no preference; supply classes A (5 V), B (3 V), C (1.8 V))"), "{text}");
        assert!(text.contains("card capabilities: BE 21 13"), "{text}");
        assert!(text.contains("TCK = A5 (correct)"), "{text}");
        let t1 = Atr::parse(&crate::hex::decode("3B80800101").unwrap())
            .unwrap()
            .to_string();
        assert!(t1.contains("protocols offered: T=0, T=1"), "{t1}");
    }

    #[test]
    fn uicc_atr() {
        // A typical UICC ATR: 3B 9F 96 80 1F C7 80 31 A0 73 BE 21 13 67 43 20 07 18 00 00 01 A5
        let b = crate::hex::decode("3B9F96801FC78031A073BE21136743200718000001A5").unwrap();
        let a = Atr::parse(&b).unwrap();
        assert_eq!(a.protocols(), [0, 15]);
        assert_eq!(a.fi_di(), (512, 32));
        assert_eq!(a.historical.len(), 15);
        assert_eq!(a.tck_ok(), Some(true));
    }

    #[test]
    fn errors() {
        assert_eq!(Atr::parse(&[]), Err(AtrError::Empty));
        assert_eq!(Atr::parse(&[0x3C]), Err(AtrError::BadTs(0x3C)));
        assert!(matches!(
            Atr::parse(&[0x3B, 0x80]),
            Err(AtrError::Truncated { offset: 2, .. })
        ));
        assert!(matches!(
            Atr::parse(&[0x3B, 0x80, 0x80, 0x01]),
            Err(AtrError::Truncated { offset: 4, .. })
        ));
        assert_eq!(
            Atr::parse(&[0x3B, 0x00, 0x11]),
            Err(AtrError::Trailing {
                offset: 2,
                count: 1
            })
        );
        let bad = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x02]).unwrap();
        assert_eq!(bad.tck_ok(), Some(false));
        assert_eq!(bad.expected_tck(), 0x01);
    }
}
