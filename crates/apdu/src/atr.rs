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
    Truncated { offset: usize, field: String },
    /// Bytes after the TCK (or after the historical bytes when there is no TCK).
    #[error("offset {offset}: {count} unexpected byte(s) after the end of the ATR")]
    Trailing { offset: usize, count: usize },
    /// More than 33 bytes, the ISO 7816-3 maximum.
    #[error("ATR is {0} bytes long, more than the 33 ISO 7816-3 allows")]
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
            b.get(at).copied().ok_or_else(|| AtrError::Truncated { offset: at, field: field.to_string() })
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
            return Err(AtrError::Truncated { offset: b.len(), field: format!("{k} historical bytes") });
        }
        let historical = b[at..hist_end].to_vec();
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
            return Err(AtrError::Trailing { offset: end, count: b.len() - end });
        }
        Ok(Atr { raw: b.to_vec(), ts, t0, groups, historical, tck })
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
        let n = self.raw.len() - usize::from(self.tck.is_some());
        self.raw[1..n].iter().fold(0u8, |a, &x| a ^ x)
    }

    /// Fi/Di from TA1 (ISO 7816-3 tables 7 and 8); defaults Fi=372, Di=1.
    pub fn fi_di(&self) -> (u16, u8) {
        const FI: [u16; 16] = [372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0];
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
            let tl = h[at];
            let (tag, len) = (tl >> 4, (tl & 15) as usize);
            if tag == 7 && len >= 3 {
                return h.get(at + 3).is_some_and(|b| b & 0x40 != 0);
            }
            at += 1 + len;
        }
        false
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
        writeln!(f, "T0  = {:02X} (Y1 = {:X}, K = {} historical bytes)", self.t0, self.t0 >> 4, self.t0 & 15)?;
        for (n, g) in self.groups.iter().enumerate() {
            let i = n + 1;
            if let Some(ta) = g.ta {
                if i == 1 {
                    let (fi, di) = self.fi_di();
                    writeln!(f, "TA{i} = {ta:02X} (Fi = {fi}, Di = {di})")?;
                } else {
                    writeln!(f, "TA{i} = {ta:02X}")?;
                }
            }
            if let Some(tb) = g.tb {
                writeln!(f, "TB{i} = {tb:02X}")?;
            }
            if let Some(tc) = g.tc {
                if i == 1 {
                    writeln!(f, "TC{i} = {tc:02X} (extra guard time N = {tc})")?;
                } else {
                    writeln!(f, "TC{i} = {tc:02X}")?;
                }
            }
            if let Some(td) = g.td {
                writeln!(f, "TD{i} = {td:02X} (next group Y = {:X}, protocol T={})", td >> 4, td & 15)?;
            }
        }
        let protos: Vec<String> = self.protocols().iter().map(|t| format!("T={t}")).collect();
        writeln!(f, "protocols offered: {}", protos.join(", "))?;
        writeln!(f, "historical bytes: {}", crate::hex::encode_spaced(&self.historical))?;
        match (self.tck, self.tck_ok()) {
            (Some(t), Some(true)) => writeln!(f, "TCK = {t:02X} (correct)")?,
            (Some(t), _) => writeln!(f, "TCK = {t:02X} (WRONG: expected {:02X})", self.expected_tck())?,
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
        assert!(matches!(Atr::parse(&[0x3B, 0x80]), Err(AtrError::Truncated { offset: 2, .. })));
        assert!(matches!(Atr::parse(&[0x3B, 0x80, 0x80, 0x01]), Err(AtrError::Truncated { offset: 4, .. })));
        assert_eq!(Atr::parse(&[0x3B, 0x00, 0x11]), Err(AtrError::Trailing { offset: 2, count: 1 }));
        let bad = Atr::parse(&[0x3B, 0x80, 0x80, 0x01, 0x02]).unwrap();
        assert_eq!(bad.tck_ok(), Some(false));
        assert_eq!(bad.expected_tck(), 0x01);
    }
}
